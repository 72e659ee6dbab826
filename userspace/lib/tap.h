/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A tap as the agent sees it: who is this tag, and does it hold the
 * read key of a binding. Return values as in ntag424.h / issue.h.
 *
 * What one device in the field may cost (Documentation/provisioning.md,
 * "Random ID"): at most SECTAG_TAP_MAX_AUTHS authentications, at most
 * SECTAG_TAP_MAX_FRAMES frames and a time budget, enforced by the
 * transport below whatever the tag answers. A tag showing its UID is
 * authenticated with the read key enrolled for that UID; a Random ID tag
 * (or anything claiming an all-zero UID) first with the store's one
 * identification key, then with the read key of the UID GetCardUID
 * told in that MACed session. No key of one tag is ever presented to a
 * device that has not shown to be that tag, so taps of other devices
 * never count towards a genuine tag's failed-authentication limit.
 */
#ifndef SECTAG_TAP_H
#define SECTAG_TAP_H

#include <stdbool.h>
#include <stdint.h>

#include "ntag424.h"
#include "store.h"

#define SECTAG_TAP_MAX_AUTHS	2
/* A Random ID tap takes 11 frames; a tag showing its UID 7. */
#define SECTAG_TAP_MAX_FRAMES	16
/* The time budget, in per-frame exchange timeouts. */
#define SECTAG_TAP_BUDGET_FRAMES	4

/*
 * A transport that enforces a tap's budget: wraps @xfer/@ctx; frames
 * past the budget are not sent and fail with -EDQUOT (count exceeded)
 * or -ETIMEDOUT (time spent). When @timeout_ms (the wrapped transport's
 * per-frame timeout, optional) is given, each frame may only wait for
 * what is left of @budget_ms.
 */
struct sectag_tap_budget {
	sectag_ntag_xfer_fn xfer;
	void *ctx;
	int *timeout_ms;
	int frame_timeout_ms;
	int64_t deadline_ms;		/* CLOCK_MONOTONIC */
	unsigned int frames, auths;	/* sent so far */
	int64_t xfer_us;		/* spent in @xfer, all frames */
	unsigned int max_frames, max_auths;
};

void sectag_tap_budget_init(struct sectag_tap_budget *b,
			    sectag_ntag_xfer_fn xfer, void *ctx,
			    int *timeout_ms, unsigned int budget_ms);
/* sectag_ntag_xfer_fn over a struct sectag_tap_budget. */
int sectag_tap_budget_xfer(void *budget, const uint8_t *capdu, size_t clen,
			   uint8_t *rapdu, size_t rsize, size_t *rlen);

/*
 * Select the application and read the UID the tag claims in GetVersion.
 * With Random ID the UID there is zero: @uid is zeroed and @random_id
 * set; the real UID is only known after authentication.
 */
int sectag_tap_identify(struct sectag_ntag *t,
			uint8_t uid[SECTAG_NTAG_UID_LEN], bool *random_id);

/*
 * Mutual authentication with read key @k2, then the 32-byte secret
 * share of file 3. With @uid non-zero the tag must also report that
 * real UID (GetCardUID): a clone of the UID without the key fails the
 * authentication, a genuine tag under another UID fails this check.
 */
int sectag_tap_read_share(struct sectag_ntag *t, const uint8_t k2[16],
			  const uint8_t uid[SECTAG_NTAG_UID_LEN],
			  uint8_t share[32]);

struct sectag_tap_result {
	uint8_t uid[SECTAG_NTAG_UID_LEN];	/* the real UID, when known */
	bool random_id;			/* GetVersion showed a zero UID */
	bool identified;		/* ... and the identification key told it */
	unsigned int auths;		/* authentications tried */
	size_t binding;			/* 0: a binding of the tag (index) */
	const char *why;		/* else: why not, for the log */
};

/*
 * One tap against store @st: identify the tag, authenticate with the
 * read key enrolled for it, read its share (wipe it after use). 0: the
 * tag holds the read key of binding @res->binding (and of every binding
 * with the same UID and read key). Otherwise -ENOENT (not enrolled),
 * -ENOKEY (Random ID, and the store keeps no identification key),
 * -EKEYREJECTED (a key was refused: clone, foreign tag, other issuer),
 * -EDQUOT/-ETIMEDOUT (budget spent) or what the tag or link said;
 * @res->why words it.
 */
int sectag_tap_authenticate(struct sectag_ntag *t,
			    const struct sectag_store *st, uint8_t share[32],
			    struct sectag_tap_result *res);

#endif
