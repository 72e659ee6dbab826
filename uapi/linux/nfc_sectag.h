/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * nfc_sectag: virtual NFC readers and emulated secure tags.
 *
 * Generic netlink family "nfc_sectag". Readers created here are ordinary
 * NFC devices: they also show up in the standard "nfc" genl family and
 * are used through AF_NFC sockets like any hardware reader.
 *
 * See Documentation/uapi.md for the message flow.
 *
 * Privileges. Every command that changes anything needs CAP_NET_ADMIN
 * (the genetlink core answers -EPERM without it): NEW_READER, DEL_READER,
 * NEW_TAG, DEL_TAG, PLACE_TAG, REMOVE_TAG and RELAY_FRAME; so does joining
 * the %NFC_SECTAG_GENL_MCGRP_EVENTS group (GENL_MCAST_CAP_NET_ADMIN). The
 * family exists in the initial network namespace only, so the capability
 * is that of the initial user namespace.
 * GET and dumps are open to everyone, except that the real UID of a tag
 * with Random ID enabled is only sent to a CAP_NET_ADMIN requester, and
 * events never carry it. Connecting an AF_NFC raw socket to a target of
 * one of these readers (which activates it) needs CAP_NET_ADMIN too while
 * the module parameter restrict_connect is on (the default).
 *
 * Readers report at most one target per poll, as an anticollision loop
 * selects one card: with several tags in the field, the one placed first,
 * until it is lifted. Every activation starts a fresh ISO-DEP session.
 */
#ifndef _UAPI_LINUX_NFC_SECTAG_H
#define _UAPI_LINUX_NFC_SECTAG_H

#define NFC_SECTAG_GENL_NAME		"nfc_sectag"
#define NFC_SECTAG_GENL_VERSION		1
#define NFC_SECTAG_GENL_MCGRP_EVENTS	"events"

/* A tag's UID: double size, ISO 14443-3 (%NFC_SECTAG_ATTR_UID) */
#define NFC_SECTAG_UID_LEN		7
/* Longest frames (%NFC_SECTAG_ATTR_FRAME): short APDUs, ISO 7816-4 */
#define NFC_SECTAG_CAPDU_MAX		261	/* header, Lc, 255 bytes, Le */
#define NFC_SECTAG_RAPDU_MAX		258	/* 256 bytes, SW1 SW2 */

/**
 * enum nfc_sectag_cmd - commands and events
 *
 * @NFC_SECTAG_CMD_NEW_READER: create a reader (needs CAP_NET_ADMIN).
 *	Optional %NFC_SECTAG_ATTR_FLAGS (%NFC_SECTAG_F_OWNED,
 *	%NFC_SECTAG_F_PN533). Replies with the reader's attributes. Also
 *	multicast as an event.
 * @NFC_SECTAG_CMD_DEL_READER: delete %NFC_SECTAG_ATTR_READER_ID (needs
 *	CAP_NET_ADMIN); tags lying on it are lifted off. Also an event.
 * @NFC_SECTAG_CMD_GET_READER: get one reader by id, or dump all (open to
 *	everyone).
 * @NFC_SECTAG_CMD_NEW_TAG: create a tag (needs CAP_NET_ADMIN).
 *	%NFC_SECTAG_ATTR_PROFILE required, %NFC_SECTAG_ATTR_UID optional
 *	(random, starting 04h, when absent); of the flags only
 *	%NFC_SECTAG_F_OWNED applies to tags (-EINVAL otherwise). Refused
 *	with -EINVAL and an extended ack message: an all-zero UID, 88h (the
 *	ISO 14443-3 cascade tag) as byte 0 or 3, and for
 *	%NFC_SECTAG_PROFILE_NTAG424 a UID whose byte 0 is not 04h (NXP).
 * @NFC_SECTAG_CMD_DEL_TAG: delete %NFC_SECTAG_ATTR_TAG_ID (needs
 *	CAP_NET_ADMIN).
 * @NFC_SECTAG_CMD_GET_TAG: get one tag by id, or dump all (open to
 *	everyone). Without CAP_NET_ADMIN, a tag with
 *	%NFC_SECTAG_ATTR_RANDOM_ID set has no %NFC_SECTAG_ATTR_UID in the
 *	reply.
 * @NFC_SECTAG_CMD_PLACE_TAG: put %NFC_SECTAG_ATTR_TAG_ID on
 *	%NFC_SECTAG_ATTR_READER_ID (needs CAP_NET_ADMIN). With
 *	%NFC_SECTAG_ATTR_FRAMES_LEFT the tag leaves the field by itself
 *	after answering that many frames (fault injection: a tag pulled
 *	away in the middle of a transaction, at an exact point).
 * @NFC_SECTAG_CMD_REMOVE_TAG: lift %NFC_SECTAG_ATTR_TAG_ID off its reader
 *	(needs CAP_NET_ADMIN).
 * @NFC_SECTAG_CMD_RELAY_FRAME: relay tags only (answering needs
 *	CAP_NET_ADMIN, as creating the tag did). Kernel to owner: a C-APDU
 *	(%NFC_SECTAG_ATTR_FRAME) with a %NFC_SECTAG_ATTR_COOKIE. Owner to
 *	kernel: the R-APDU for that cookie, or %NFC_SECTAG_ATTR_ERRNO. Only
 *	the owning socket itself may answer (-EPERM otherwise), not another
 *	socket that later binds the same portid. The kernel waits for the
 *	answer at most relay_timeout_ms (module parameter, 10..10000,
 *	default 1000), less if the tag is lifted, deactivated or destroyed.
 */
enum nfc_sectag_cmd {
	NFC_SECTAG_CMD_UNSPEC,
	NFC_SECTAG_CMD_NEW_READER,
	NFC_SECTAG_CMD_DEL_READER,
	NFC_SECTAG_CMD_GET_READER,
	NFC_SECTAG_CMD_NEW_TAG,
	NFC_SECTAG_CMD_DEL_TAG,
	NFC_SECTAG_CMD_GET_TAG,
	NFC_SECTAG_CMD_PLACE_TAG,
	NFC_SECTAG_CMD_REMOVE_TAG,
	NFC_SECTAG_CMD_RELAY_FRAME,

	__NFC_SECTAG_CMD_MAX,
	NFC_SECTAG_CMD_MAX = __NFC_SECTAG_CMD_MAX - 1
};

/**
 * enum nfc_sectag_attr - attributes
 *
 * @NFC_SECTAG_ATTR_READER_ID: u32, reader id (never reused while loaded)
 * @NFC_SECTAG_ATTR_NFC_INDEX: u32, index of the reader's NFC device
 *	(the N of nfcN, NFC_ATTR_DEVICE_INDEX in the "nfc" family)
 * @NFC_SECTAG_ATTR_NAME: string, NFC device name ("nfc0")
 * @NFC_SECTAG_ATTR_FLAGS: u32, enum nfc_sectag_flags
 * @NFC_SECTAG_ATTR_POWERED: u8, device is up
 * @NFC_SECTAG_ATTR_POLLING: u8, device is polling
 * @NFC_SECTAG_ATTR_TAG_ID: u32, tag id
 * @NFC_SECTAG_ATTR_PROFILE: u32, enum nfc_sectag_profile
 * @NFC_SECTAG_ATTR_UID: binary, the tag's real UID (%NFC_SECTAG_UID_LEN
 *	bytes); left out for a Random-ID tag unless the requester has
 *	CAP_NET_ADMIN, and always left out of events for such a tag
 * @NFC_SECTAG_ATTR_PERSONALISED: u8, a key or key version was changed
 * @NFC_SECTAG_ATTR_RANDOM_ID: u8, Random ID is enabled
 * @NFC_SECTAG_ATTR_FAIL_CTR: u32, failed authentications (TotFailCtr)
 * @NFC_SECTAG_ATTR_FRAME: binary, an APDU (relay tags): a C-APDU of at
 *	most %NFC_SECTAG_CAPDU_MAX bytes from the kernel, an R-APDU of at
 *	most %NFC_SECTAG_RAPDU_MAX bytes in an answer
 * @NFC_SECTAG_ATTR_COOKIE: u64, matches a relay answer to its frame
 * @NFC_SECTAG_ATTR_ERRNO: u32, positive errno a relay owner answers
 *	instead of a frame; the reader sees a silent card
 * @NFC_SECTAG_ATTR_PAD: padding for 64-bit attributes
 * @NFC_SECTAG_ATTR_FRAMES_LEFT: u32 >= 1, see %NFC_SECTAG_CMD_PLACE_TAG
 */
enum nfc_sectag_attr {
	NFC_SECTAG_ATTR_UNSPEC,
	NFC_SECTAG_ATTR_READER_ID,
	NFC_SECTAG_ATTR_NFC_INDEX,
	NFC_SECTAG_ATTR_NAME,
	NFC_SECTAG_ATTR_FLAGS,
	NFC_SECTAG_ATTR_POWERED,
	NFC_SECTAG_ATTR_POLLING,
	NFC_SECTAG_ATTR_TAG_ID,
	NFC_SECTAG_ATTR_PROFILE,
	NFC_SECTAG_ATTR_UID,
	NFC_SECTAG_ATTR_PERSONALISED,
	NFC_SECTAG_ATTR_RANDOM_ID,
	NFC_SECTAG_ATTR_FAIL_CTR,
	NFC_SECTAG_ATTR_FRAME,
	NFC_SECTAG_ATTR_COOKIE,
	NFC_SECTAG_ATTR_ERRNO,
	NFC_SECTAG_ATTR_PAD,
	NFC_SECTAG_ATTR_FRAMES_LEFT,

	__NFC_SECTAG_ATTR_MAX,
	NFC_SECTAG_ATTR_MAX = __NFC_SECTAG_ATTR_MAX - 1
};

/**
 * enum nfc_sectag_flags - object flags
 *
 * @NFC_SECTAG_F_OWNED: the object is destroyed when the netlink socket
 *	that created it is closed, before close() returns (like
 *	mac80211_hwsim radios). Ownership belongs to that socket, not to its
 *	portid: another socket binding the portid later owns nothing of it.
 *	Relay tags are always owned.
 * @NFC_SECTAG_F_PN533: readers only: the reader behaves as Debian 6.1's
 *	pn533 driver does towards the NFC core and userspace. It has no
 *	presence check, so %NFC_EVENT_TARGET_LOST never comes: a lifted
 *	tag stays listed and exchanges with it fail with EIO, even when it
 *	comes back. Activating a target needs a poll report since the last
 *	activation (EINVAL otherwise), a poll is refused while a target is
 *	active (EBUSY), and so is an activation during a poll. See
 *	Documentation/uapi.md for the pn533.c lines each rule follows.
 */
enum nfc_sectag_flags {
	NFC_SECTAG_F_OWNED	= 1 << 0,
	NFC_SECTAG_F_PN533	= 1 << 1,

	/* private: every valid flag; a new flag is added here too */
	__NFC_SECTAG_F_ALL	= NFC_SECTAG_F_OWNED | NFC_SECTAG_F_PN533,
};

#define NFC_SECTAG_READER_FLAGS	__NFC_SECTAG_F_ALL
#define NFC_SECTAG_TAG_FLAGS	NFC_SECTAG_F_OWNED

/**
 * enum nfc_sectag_profile - what a tag emulates
 *
 * @NFC_SECTAG_PROFILE_NTAG424: NXP NTAG 424 DNA, emulated in the kernel
 * @NFC_SECTAG_PROFILE_RELAY: every frame is relayed to the owning socket
 */
enum nfc_sectag_profile {
	NFC_SECTAG_PROFILE_UNSPEC,
	NFC_SECTAG_PROFILE_NTAG424,
	NFC_SECTAG_PROFILE_RELAY,

	__NFC_SECTAG_PROFILE_MAX,
	NFC_SECTAG_PROFILE_MAX = __NFC_SECTAG_PROFILE_MAX - 1
};

#endif /* _UAPI_LINUX_NFC_SECTAG_H */
