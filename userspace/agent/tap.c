// SPDX-License-Identifier: GPL-2.0
/*
 * One tap: connect, identify, authenticate with each candidate binding's
 * read key, derive and release. The connection stays open until the tag
 * leaves, so that a tag lying on the reader is one tap, not a stream.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "agent.h"
#include "issue.h"
#include "store.h"
#include "tap.h"
#include "unlock.h"

#define MAX_RELEASE 8

static void hex(const uint8_t *p, size_t n, char *out)
{
	size_t i;

	for (i = 0; i < n; i++)
		sprintf(out + 2 * i, "%02X", p[i]);
	out[2 * n] = 0;
}

/*
 * Too many failures from one UID in a minute: stay quiet about it. Only
 * the log is limited: every tap is still processed, so a genuine tag
 * works at once after a run of failures (a tag pulled away too soon).
 */
static bool rate_limited(struct agent *a, const uint8_t *uid, bool failed)
{
	int64_t now = agent_now_ms();
	struct rate *r, *oldest = &a->rates[0];
	int i;

	for (i = 0; i < SECTAGD_RATE_SLOTS; i++) {
		r = &a->rates[i];
		if (!memcmp(r->uid, uid, 7))
			goto found;
		if (r->window_ms < oldest->window_ms)
			oldest = r;
	}
	r = oldest;
	memcpy(r->uid, uid, 7);
	r->window_ms = now;
	r->failures = 0;
found:
	if (now - r->window_ms > 60000) {
		r->window_ms = now;
		r->failures = 0;
	}
	if (failed)
		r->failures++;
	return r->failures > a->cfg.max_failures;
}

/*
 * The label as a synthetic uevent value: the kernel accepts only
 * letters and digits in keys and values, so a UUID loses its dashes and
 * a label with other characters is left out (BINDING still names it).
 */
static bool uevent_label(const char *target, char *out, size_t size)
{
	size_t n = 0;

	for (; *target && n + 1 < size; target++) {
		if (isalnum((unsigned char)*target))
			out[n++] = *target;
		else if (*target != '-')
			return false;
	}
	out[n] = 0;
	return n > 0 && !*target;
}

/* A synthetic uevent on the reader, for udev rules (udev/examples). */
static void uevent(struct agent *a, struct reader *r, const char *event,
		   const struct released *rel)
{
	static const char *const kinds[] = { "", "luks", "user", "name" };
	char path[64], buf[512], id[33], label[130];
	uint8_t u[16];
	int fd, n;

	if (!a->cfg.uevents || RAND_bytes(u, sizeof(u)) != 1)
		return;
	u[6] = (u[6] & 0x0f) | 0x40;	/* a version 4 UUID */
	u[8] = (u[8] & 0x3f) | 0x80;
	hex(u, 16, id);
	n = snprintf(buf, sizeof(buf),
		     "change %.8s-%.4s-%.4s-%.4s-%.12s SECTAG=%s KIND=%s "
		     "BINDING=%u",
		     id, id + 8, id + 12, id + 16, id + 20, event,
		     kinds[rel->kind], rel->id);
	if (n > 0 && n < (int)sizeof(buf) &&
	    uevent_label(rel->target, label, sizeof(label)))
		n += snprintf(buf + n, sizeof(buf) - n, " LABEL=%s", label);
	snprintf(path, sizeof(path), "/sys/class/nfc/nfc%u/uevent", r->idx);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	if (n > 0 && n < (int)sizeof(buf) && write(fd, buf, n) != n)
		syslog(LOG_WARNING, "nfc%u: uevent: %m", r->idx);
	close(fd);
}

static void release(struct agent *a, struct reader *r,
		    const struct sectag_binding *b, const uint8_t *share,
		    struct released *rel, int *n)
{
	uint8_t secret[32];
	int32_t serial;
	int rc;

	rc = sectag_binding_secret(b, share, secret);
	if (!rc)
		rc = sectag_keyring_add(b, secret, a->cfg.key_timeout_s,
					&serial);
	OPENSSL_cleanse(secret, sizeof(secret));
	if (rc) {
		syslog(LOG_ERR, "binding %u: cannot release: %s", b->id,
		       strerror(-rc));
		return;
	}
	syslog(LOG_INFO, "binding %u (%s): released", b->id, b->target);
	if (b->kind == SECTAG_BIND_LUKS && b->auto_open[0]) {
		rc = sectag_luks_open(b, b->auto_open);
		if (rc && rc != -EEXIST && rc != -EBUSY)
			syslog(LOG_ERR, "binding %u: cannot open %s: %s", b->id,
			       b->auto_open, strerror(-rc));
		else
			syslog(LOG_INFO, "binding %u: /dev/mapper/%s open",
			       b->id, b->auto_open);
	}
	if (*n < MAX_RELEASE) {
		rel[*n].kind = b->kind;
		snprintf(rel[*n].target, sizeof(rel[*n].target), "%s",
			 b->target);
		rel[*n].id = b->id;
		uevent(a, r, "tap", &rel[*n]);
		(*n)++;
	}
	if (r->n_released < (int)(sizeof(r->released) / sizeof(r->released[0])))
		r->released[r->n_released++] = b->id;
}

static bool candidate(const struct sectag_binding *b, const uint8_t *uid,
		      bool rid)
{
	return rid || !memcmp(b->uid, uid, 7);
}

/*
 * Try each distinct tag (UID, K2) among the candidates; the first that
 * authenticates releases all its bindings. Returns the release count.
 */
static int authenticate(struct agent *a, struct reader *r,
			struct sectag_ntag *t, const struct sectag_store *st,
			const uint8_t *uid, bool rid, struct released *rel,
			const char **why)
{
	uint8_t share[32];
	size_t i, j;
	int n = 0, rc;

	*why = "not enrolled";
	for (i = 0; i < st->n && !n; i++) {
		if (!candidate(&st->b[i], uid, rid))
			continue;
		rc = sectag_tap_read_share(t, st->b[i].read_key,
					   rid ? st->b[i].uid : NULL, share);
		if (rc) {
			*why = rc == -EKEYREJECTED ?
			       "authentication failed (clone or foreign tag)" :
			       sectag_issue_strerror(rc);
			if (rc != -EKEYREJECTED)
				break;	/* lost or broken: stop talking */
			continue;
		}
		for (j = 0; j < st->n; j++)
			if (!memcmp(st->b[j].uid, st->b[i].uid, 7) &&
			    !memcmp(st->b[j].read_key, st->b[i].read_key, 16))
				release(a, r, &st->b[j], share, rel, &n);
		OPENSSL_cleanse(share, sizeof(share));
	}
	return n;
}

static int first_target(struct agent *a, struct reader *r,
			struct sectag_nfc_target *tg)
{
	struct sectag_nfc_target *v;
	size_t n;
	int rc;

	rc = sectag_nfc_targets(a->nfc, r->idx, &v, &n);
	if (rc)
		return rc;
	if (!n) {
		free(v);
		return -ENOENT;
	}
	/* Several tags in the field: the first one reported is the tap. */
	*tg = v[0];
	free(v);
	return 0;
}

static void converse(struct agent *a, struct reader *r,
		     const struct sectag_nfc_target *tg)
{
	struct sectag_nfc_link link = { r->tag_fd,
					(int)a->cfg.exchange_timeout_ms };
	struct released rel[MAX_RELEASE];
	struct sectag_store st = { 0 };
	struct sectag_ntag *t = NULL;
	uint8_t uid[7];
	char uidhex[15];
	const char *why = "";
	bool rid = false;
	int rc, n = 0;

	rc = sectag_ntag_new(&t, sectag_nfc_link_xfer, &link);
	if (!rc)
		rc = sectag_tap_identify(t, uid, &rid);
	if (!rc && rid)
		memcpy(uid, tg->nfcid1, 4);	/* only for rate limiting */
	if (!rc)
		rc = sectag_store_load(a->cfg.store, &st);
	if (!rc)
		n = authenticate(a, r, t, &st, uid, rid, rel, &why);
	else
		why = sectag_issue_strerror(rc);
	sectag_ntag_free(t);
	sectag_store_free(&st);
	if (rc)
		memcpy(uid, tg->nfcid1, tg->nfcid1_len < 7 ? tg->nfcid1_len : 7);
	if (!n && !rate_limited(a, uid, true)) {
		hex(uid, rid ? 4 : 7, uidhex);
		syslog(LOG_NOTICE, "nfc%u: tag %s%s refused: %s", r->idx,
		       rid ? "random-id " : "", uidhex, why);
	}
	ctl_tap_result(a, r, rel, n);
}

void tap_handle(struct agent *a, struct reader *r)
{
	struct sectag_nfc_target tg;
	int fd, rc;

	rc = first_target(a, r, &tg);
	if (rc) {
		/* Gone already: its TARGET_LOST restarts the poll. */
		syslog(LOG_DEBUG, "nfc%u: no target: %s", r->idx,
		       strerror(-rc));
		return;
	}
	syslog(LOG_DEBUG, "nfc%u: target %u", r->idx, tg.idx);
	fd = sectag_nfc_connect(r->idx, tg.idx);
	if (fd < 0) {
		syslog(LOG_WARNING, "nfc%u: cannot connect to the tag: %s",
		       r->idx, strerror(-fd));
		return;
	}
	r->tag_fd = fd;
	r->target_idx = tg.idx;
	r->n_released = 0;
	converse(a, r, &tg);
}

void tap_lost(struct agent *a, struct reader *r)
{
	struct sectag_store st = { 0 };
	struct released rel = { 0 };
	int i;
	size_t j;

	if (r->tag_fd < 0)
		return;
	close(r->tag_fd);
	r->tag_fd = -1;
	if (!r->n_released || sectag_store_load(a->cfg.store, &st))
		return;
	for (i = 0; i < r->n_released; i++) {
		for (j = 0; j < st.n; j++) {
			if (st.b[j].id != r->released[i])
				continue;
			rel.kind = st.b[j].kind;
			rel.id = st.b[j].id;
			snprintf(rel.target, sizeof(rel.target), "%s",
				 st.b[j].target);
			if (a->cfg.revoke_on_removal)
				sectag_keyring_revoke(&st.b[j]);
			uevent(a, r, "removed", &rel);
		}
	}
	r->n_released = 0;
	sectag_store_free(&st);
}
