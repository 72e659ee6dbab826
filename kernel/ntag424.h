/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Tag-side emulation of the NXP NTAG 424 DNA command set (AES mode).
 *
 * The engine is a pure state machine: one C-APDU in, one R-APDU out.
 * It never sleeps on I/O and is not internally locked; the caller
 * serialises every call on one tag (tag.c holds the tag's mutex), which is
 * also what makes each command atomic: state is only committed once the
 * whole command has been validated.
 */
#ifndef _SECTAG_NTAG424_H
#define _SECTAG_NTAG424_H

#include <linux/types.h>

#define NTAG424_UID_LEN		7
#define NTAG424_RID_LEN		4	/* Random ID length */
#define NTAG424_NKEYS		5
#define NTAG424_KEY_LEN		16
/* Largest R-APDU: 256 bytes of data including secure messaging + SW1 SW2 */
#define NTAG424_MAX_RAPDU	258
/* Largest C-APDU: short APDU with Lc = 255 and Le */
#define NTAG424_MAX_CAPDU	261

struct ntag424;

struct ntag424_info {
	u8 uid[NTAG424_UID_LEN];	/* the real UID */
	bool personalised;		/* any key or key version changed */
	bool random_id;			/* Random ID enabled (irreversible) */
	u16 tot_fail_ctr;		/* failed authentications */
};

/* RF identity answered during anticollision (ISO 14443-3 type A). */
struct ntag424_rf {
	u8 nfcid1[NTAG424_UID_LEN];
	u8 nfcid1_len;			/* 7, or 4 with Random ID */
	u16 sens_res;			/* ATQA as the NFC core expects it */
	u8 sel_res;			/* SAK */
};

/* @uid: 7-byte UID, byte 0 must be 0x04. Born virgin. GFP_KERNEL. */
struct ntag424 *ntag424_create(const u8 *uid);
/* Wipes every key and secret before freeing. NULL is a no-op. */
void ntag424_destroy(struct ntag424 *tag);

/*
 * Process one C-APDU. Writes the R-APDU (data, then SW1 SW2) into @rapdu,
 * which must hold NTAG424_MAX_RAPDU bytes. Returns the R-APDU length, or
 * a negative errno when the tag cannot answer at all (-ENOMEM); malformed
 * input always yields a status word, never an error return.
 */
int ntag424_process(struct ntag424 *tag, const u8 *capdu, size_t len,
		    u8 *rapdu);

/*
 * The tag left the field, or was deactivated: authentication, selection
 * and pending multi-frame commands are dropped; a pending Random ID
 * setting takes effect and a fresh random UID is drawn for the next
 * activation.
 */
void ntag424_power_cycle(struct ntag424 *tag);

/*
 * ISO 14443-4 DESELECT, then a new RATS: authentication, selection and
 * pending multi-frame commands are dropped; the (random) UID stays.
 */
void ntag424_deselect(struct ntag424 *tag);

void ntag424_get_info(const struct ntag424 *tag, struct ntag424_info *info);
void ntag424_get_rf(const struct ntag424 *tag, struct ntag424_rf *rf);

#endif /* _SECTAG_NTAG424_H */
