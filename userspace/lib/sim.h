/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Client of the kernel's nfc_sectag family: the simulator's readers and
 * tags. Every function returns 0 or a negative errno (-EPERM without
 * CAP_NET_ADMIN, -ENOENT/-ENODEV for unknown ids, -ENOENT from
 * sectag_sim_open() when the module is not loaded).
 */
#ifndef SECTAG_SIM_H
#define SECTAG_SIM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <linux/nfc_sectag.h>

struct sectag_sim;

struct sectag_sim_reader {
	uint32_t id;
	uint32_t nfc_index;		/* the N of nfcN */
	uint32_t flags;			/* NFC_SECTAG_F_* */
	char name[16];
	bool powered;
	bool polling;
};

struct sectag_sim_tag {
	uint32_t id;
	uint32_t profile;		/* NFC_SECTAG_PROFILE_* */
	uint32_t flags;
	uint32_t reader_id;		/* 0: not on a reader */
	uint8_t uid[NFC_SECTAG_UID_LEN];
	bool personalised;
	bool random_id;
	uint32_t fail_ctr;
};

int sectag_sim_open(struct sectag_sim **sim);
void sectag_sim_close(struct sectag_sim *sim);
/* The socket: objects created with NFC_SECTAG_F_OWNED die with it. */
int sectag_sim_fd(const struct sectag_sim *sim);

int sectag_sim_reader_add(struct sectag_sim *sim, uint32_t flags,
			  struct sectag_sim_reader *out);
int sectag_sim_reader_del(struct sectag_sim *sim, uint32_t id);
int sectag_sim_reader_get(struct sectag_sim *sim, uint32_t id,
			  struct sectag_sim_reader *out);
/* *readers is malloc'd; free() it. */
int sectag_sim_reader_list(struct sectag_sim *sim,
			   struct sectag_sim_reader **readers, size_t *n);

/* @uid: 7 bytes, or NULL for a random NXP-style UID. */
int sectag_sim_tag_add(struct sectag_sim *sim, uint32_t profile,
		       const uint8_t *uid, uint32_t flags,
		       struct sectag_sim_tag *out);
int sectag_sim_tag_del(struct sectag_sim *sim, uint32_t id);
int sectag_sim_tag_get(struct sectag_sim *sim, uint32_t id,
		       struct sectag_sim_tag *out);
int sectag_sim_tag_list(struct sectag_sim *sim, struct sectag_sim_tag **tags,
			size_t *n);
int sectag_sim_tag_place(struct sectag_sim *sim, uint32_t tag_id,
			 uint32_t reader_id);
/*
 * Place, and have the tag leave the field by itself after answering
 * @frames_left frames (0: never): a tag pulled away at an exact point.
 */
int sectag_sim_tag_place_n(struct sectag_sim *sim, uint32_t tag_id,
			   uint32_t reader_id, uint32_t frames_left);
int sectag_sim_tag_remove(struct sectag_sim *sim, uint32_t tag_id);

/*
 * Relay tags: the socket that created the tag receives every frame a
 * reader sends to it and answers it. Use a sectag_sim handle dedicated to
 * the relay: frames arrive unsolicited on its socket.
 */
struct sectag_sim_frame {
	uint32_t tag_id;
	uint64_t cookie;
	size_t len;
	uint8_t data[NFC_SECTAG_CAPDU_MAX];
};

/* Waits up to @timeout_ms (< 0: forever); -ETIMEDOUT when none came. */
int sectag_sim_relay_recv(struct sectag_sim *sim, struct sectag_sim_frame *f,
			  int timeout_ms);
/*
 * Answers frame @cookie of @tag_id with @resp, or, when @err > 0, with
 * silence (the reader sees a timeout). Not acknowledged: an answer that
 * comes too late is dropped by the kernel.
 */
int sectag_sim_relay_answer(struct sectag_sim *sim, uint32_t tag_id,
			    uint64_t cookie, const uint8_t *resp, size_t len,
			    int err);

/*
 * The parsers behind the socket I/O (the transport seam): one message
 * of the nfc_sectag family, @len bytes at @msg as received, which may be
 * anything. 0 (a frame: 1 when it is a relay frame, 0 when it is to be
 * ignored), or -EPROTO for a malformed message: a length out of bounds,
 * an attribute we read with the wrong size, an unterminated name.
 */
int sectag_sim_parse_reader(const void *msg, size_t len,
			    struct sectag_sim_reader *r);
int sectag_sim_parse_tag(const void *msg, size_t len, struct sectag_sim_tag *t);
int sectag_sim_parse_frame(const void *msg, size_t len,
			   struct sectag_sim_frame *f);

#endif
