/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Transport over the kernel NFC subsystem: the "nfc" generic netlink
 * family for devices, polling and targets, AF_NFC raw sockets for
 * ISO-DEP exchanges. Works with any NFC driver (pn533, port100, NCI,
 * nfc_sectag). Functions return 0 or a negative errno.
 */
#ifndef SECTAG_NFC_H
#define SECTAG_NFC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct sectag_nfc;

struct sectag_nfc_dev {
	uint32_t idx;
	char name[16];
	uint32_t protocols;		/* NFC_PROTO_*_MASK */
	bool powered;
};

struct sectag_nfc_target {
	uint32_t dev_idx;
	uint32_t idx;
	uint32_t protocols;
	uint16_t sens_res;
	uint8_t sel_res;
	uint8_t nfcid1_len;
	uint8_t nfcid1[10];
};

int sectag_nfc_open(struct sectag_nfc **nfc);
void sectag_nfc_close(struct sectag_nfc *nfc);
/* Readable when an NFC event (target found, device added...) arrived. */
int sectag_nfc_event_fd(const struct sectag_nfc *nfc);

/* *devs is malloc'd; free() it. */
int sectag_nfc_list(struct sectag_nfc *nfc, struct sectag_nfc_dev **devs,
		    size_t *n);
int sectag_nfc_get(struct sectag_nfc *nfc, uint32_t idx,
		   struct sectag_nfc_dev *dev);
int sectag_nfc_dev_up(struct sectag_nfc *nfc, uint32_t idx);
int sectag_nfc_dev_down(struct sectag_nfc *nfc, uint32_t idx);
int sectag_nfc_start_poll(struct sectag_nfc *nfc, uint32_t idx,
			  uint32_t protocols);
int sectag_nfc_stop_poll(struct sectag_nfc *nfc, uint32_t idx);
int sectag_nfc_targets(struct sectag_nfc *nfc, uint32_t idx,
		       struct sectag_nfc_target **targets, size_t *n);

/*
 * Wait, without polling, until device @idx reports a target (the first
 * one found is returned). Returns -ETIMEDOUT after @timeout_ms (< 0:
 * forever), -ENODEV if the device goes away.
 */
int sectag_nfc_wait_target(struct sectag_nfc *nfc, uint32_t idx,
			   int timeout_ms, struct sectag_nfc_target *target);
/*
 * The same, for a target numbered @min_target or later. The core numbers
 * targets in the order it learns of them and drops a poll's old list only
 * when the next poll reports: drivers that never report a lost tag
 * (pn533) keep listing one that left, and a caller that polls again
 * skips it by asking for a later number.
 */
int sectag_nfc_wait_new_target(struct sectag_nfc *nfc, uint32_t idx,
			       uint32_t min_target, int timeout_ms,
			       struct sectag_nfc_target *target);
/*
 * The same on several devices @idx[0..n-1] (at most 16): the first
 * that reports a target; *@which its position in @idx. -ENODEV once
 * all of them went away.
 */
int sectag_nfc_wait_any_target(struct sectag_nfc *nfc, const uint32_t *idx,
			       size_t n, uint32_t min_target, int timeout_ms,
			       size_t *which, struct sectag_nfc_target *target);

enum sectag_nfc_event_type {
	SECTAG_NFC_EV_DEVICE_ADDED = 1,
	SECTAG_NFC_EV_DEVICE_REMOVED,
	SECTAG_NFC_EV_TARGETS_FOUND,
	SECTAG_NFC_EV_TARGET_LOST,
	SECTAG_NFC_EV_OVERRUN,		/* events were lost: resynchronise */
};

struct sectag_nfc_event {
	enum sectag_nfc_event_type type;
	uint32_t dev_idx;
	uint32_t target_idx;		/* TARGET_LOST */
};

typedef void (*sectag_nfc_event_fn)(const struct sectag_nfc_event *ev,
				    void *arg);

/*
 * Read every pending event from sectag_nfc_event_fd() without blocking
 * and hand each to @fn. For event loops; returns 0 or -errno.
 */
int sectag_nfc_read_events(struct sectag_nfc *nfc, sectag_nfc_event_fn fn,
			   void *arg);

/*
 * The parsers behind the socket I/O (the transport seam): one message
 * of the "nfc" generic netlink family, @len bytes at @msg as received,
 * which may be anything. Returns 0 (or, for an event, 1 when it is one
 * of the types above and names a device, 0 when it is to be ignored),
 * -EPROTO for a malformed message: a length out of bounds, an attribute
 * we read with the wrong size, an unterminated name.
 */
int sectag_nfc_parse_dev(const void *msg, size_t len,
			 struct sectag_nfc_dev *dev);
int sectag_nfc_parse_target(const void *msg, size_t len, uint32_t dev_idx,
			    struct sectag_nfc_target *target);
int sectag_nfc_parse_event(const void *msg, size_t len,
			   struct sectag_nfc_event *ev);

/*
 * AF_NFC raw socket connected to an ISO-DEP target; end it with
 * sectag_nfc_disconnect(), which deactivates the target and closes @fd
 * (0, or why the deactivation failed: @fd is closed anyway).
 */
int sectag_nfc_connect(uint32_t dev_idx, uint32_t target_idx);
int sectag_nfc_disconnect(struct sectag_nfc *nfc, uint32_t dev_idx,
			  uint32_t target_idx, int fd);
/*
 * One APDU exchange on @fd. -ETIMEDOUT when no answer comes in
 * @timeout_ms, -ENXIO/-EIO... when the target was lost.
 */
int sectag_nfc_transceive(int fd, const uint8_t *capdu, size_t clen,
			  uint8_t *rapdu, size_t rsize, size_t *rlen,
			  int timeout_ms);

/* An ISO-DEP link usable as a sectag_ntag_xfer_fn context. */
struct sectag_nfc_link {
	int fd;				/* from sectag_nfc_connect() */
	int timeout_ms;			/* per exchange */
};

/* sectag_ntag_xfer_fn over a struct sectag_nfc_link. */
int sectag_nfc_link_xfer(void *link, const uint8_t *capdu, size_t clen,
			 uint8_t *rapdu, size_t rsize, size_t *rlen);

#endif
