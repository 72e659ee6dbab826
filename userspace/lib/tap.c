// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The agent's side of a tap: identify, authenticate, read the share,
 * within a per-tap budget (see tap.h).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/crypto.h>

#include "hex.h"
#include "issue.h"
#include "tap.h"

/* ---------------------------------------------------------------------- */
/* Budget                                                                 */

void sectag_tap_budget_init(struct sectag_tap_budget *b,
			    sectag_ntag_xfer_fn xfer, void *ctx,
			    int *timeout_ms, unsigned int budget_ms)
{
	memset(b, 0, sizeof(*b));
	b->xfer = xfer;
	b->ctx = ctx;
	b->timeout_ms = timeout_ms;
	b->frame_timeout_ms = timeout_ms ? *timeout_ms : -1;
	b->deadline_ms = sectag_now_ms() + budget_ms;
	b->max_frames = SECTAG_TAP_MAX_FRAMES;
	b->max_auths = SECTAG_TAP_MAX_AUTHS;
}

/* AuthenticateEV2First or NonFirst, part 1: a key is about to be tried. */
static bool is_auth(const uint8_t *c, size_t n)
{
	return n >= 2 && c[0] == 0x90 && (c[1] == 0x71 || c[1] == 0x77);
}

int sectag_tap_budget_xfer(void *budget, const uint8_t *capdu, size_t clen,
			   uint8_t *rapdu, size_t rsize, size_t *rlen)
{
	struct sectag_tap_budget *b = budget;
	int64_t left = b->deadline_ms - sectag_now_ms();
	struct timespec t0, t1;
	int rc;

	if (b->frames >= b->max_frames)
		return -EDQUOT;
	if (is_auth(capdu, clen) && b->auths >= b->max_auths)
		return -EDQUOT;
	if (left <= 0)
		return -ETIMEDOUT;
	if (b->timeout_ms)
		*b->timeout_ms = b->frame_timeout_ms >= 0 &&
				 b->frame_timeout_ms < left ?
				 b->frame_timeout_ms : (int)left;
	b->frames++;
	b->auths += is_auth(capdu, clen);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	rc = b->xfer(b->ctx, capdu, clen, rapdu, rsize, rlen);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	b->xfer_us += (t1.tv_sec - t0.tv_sec) * 1000000LL +
		      (t1.tv_nsec - t0.tv_nsec) / 1000;
	return rc;
}

/* ---------------------------------------------------------------------- */
/* Steps                                                                  */

int sectag_tap_identify(struct sectag_ntag *t,
			uint8_t uid[SECTAG_NTAG_UID_LEN], bool *random_id)
{
	static const uint8_t none[SECTAG_NTAG_UID_LEN];
	struct sectag_ntag_version v;
	int rc;

	rc = sectag_ntag_select_app(t);
	if (rc > 0)
		return -EMEDIUMTYPE;	/* no NTAG 424 application */
	if (!rc)
		rc = sectag_ntag_get_version(t, &v);
	if (rc)
		return rc;
	memcpy(uid, v.uid, SECTAG_NTAG_UID_LEN);
	*random_id = !memcmp(uid, none, sizeof(none));
	return 0;
}

int sectag_tap_read_share(struct sectag_ntag *t, const uint8_t k2[16],
			  const uint8_t uid[SECTAG_NTAG_UID_LEN],
			  uint8_t share[32])
{
	uint8_t real[SECTAG_NTAG_UID_LEN];
	int rc;

	rc = sectag_ntag_auth(t, SECTAG_KEY_READ, k2);
	if (rc == SECTAG_SW_AUTH_ERROR)
		rc = -EKEYREJECTED;
	if (!rc && uid)
		rc = sectag_ntag_get_card_uid(t, real);
	if (!rc && uid && memcmp(real, uid, sizeof(real)))
		rc = -EKEYREJECTED;
	if (!rc)
		rc = sectag_ntag_read(t, SECTAG_SECRET_FILE, SECTAG_NTAG_FULL, 0,
				      share, 32);
	sectag_ntag_logout(t);
	if (rc)
		OPENSSL_cleanse(share, 32);
	return rc;
}

/* ---------------------------------------------------------------------- */
/* One tap                                                                */

static const char *why_failed(int rc)
{
	switch (rc) {
	case -EKEYREJECTED:
		return "authentication failed (clone or foreign tag)";
	case -EDQUOT:
		return "per-tap budget spent (frames or authentications)";
	case -ETIMEDOUT:
		return "per-tap time budget spent";
	default:
		return sectag_issue_strerror(rc);
	}
}

/* Random ID: one authentication with the identification key, GetCardUID. */
static int identify_random(struct sectag_ntag *t,
			   const struct sectag_store *st,
			   struct sectag_tap_result *res)
{
	int rc;

	if (!st->has_ident) {
		res->why = "Random ID tag, and no identification key enrolled "
			   "(no Random ID tag was ever enrolled here)";
		return -ENOKEY;
	}
	res->auths++;
	rc = sectag_tag_identify(t, st->ident_key, res->uid);
	if (rc == -EKEYREJECTED)
		res->why = "Random ID tag refused the identification key "
			   "(another issuer's tag, or no tag of ours)";
	else if (rc == -EBADMSG)
		res->why = "Random ID tag: malformed or all-zero real UID";
	else if (rc)
		res->why = why_failed(rc);
	res->identified = !rc;
	return rc;
}

/*
 * The read keys enrolled for @res->uid, each once, within the budget:
 * the first that opens the tag wins.
 */
static int try_read_keys(struct sectag_ntag *t, const struct sectag_store *st,
			 uint8_t *share, struct sectag_tap_result *res)
{
	const struct sectag_binding *b;
	size_t *idx = NULL, n = 0, i, j;
	bool seen;
	int rc;

	rc = sectag_store_find_uid(st, res->uid, &idx, &n);
	if (rc) {
		res->why = why_failed(rc);
		return rc;
	}
	res->why = "not enrolled";
	rc = -ENOENT;
	for (i = 0; i < n && res->auths < SECTAG_TAP_MAX_AUTHS; i++) {
		b = &st->b[idx[i]];
		for (j = 0, seen = false; j < i && !seen; j++)
			seen = !memcmp(st->b[idx[j]].read_key, b->read_key, 16);
		if (seen)
			continue;
		res->auths++;
		rc = sectag_tap_read_share(t, b->read_key,
					   res->random_id ? res->uid : NULL,
					   share);
		if (!rc) {
			res->binding = idx[i];
			res->why = NULL;
			break;
		}
		res->why = why_failed(rc);
		if (rc != -EKEYREJECTED)
			break;	/* lost, broken or out of budget: stop */
	}
	free(idx);
	return rc;
}

int sectag_tap_authenticate(struct sectag_ntag *t,
			    const struct sectag_store *st, uint8_t share[32],
			    struct sectag_tap_result *res)
{
	int rc;

	if (!t || !st || !share || !res)
		return -EINVAL;
	memset(res, 0, sizeof(*res));
	rc = sectag_tap_identify(t, res->uid, &res->random_id);
	if (rc) {
		res->why = why_failed(rc);
		return rc;
	}
	if (res->random_id) {
		rc = identify_random(t, st, res);
		if (rc)
			return rc;
	}
	return try_read_keys(t, st, share, res);
}
