// SPDX-License-Identifier: GPL-2.0
/*
 * One tap: connect, identify (a Random ID tag with the store's
 * identification key), authenticate with the read key enrolled for that
 * UID, derive and release every binding of the tag. At most two
 * authentications and a time budget per tap (libsectag's tap.h), so no
 * device in the field stalls the event loop or burns other tags'
 * failed-authentication counters. The connection stays open until the
 * tag leaves, so that a tag lying on the reader is one tap, not a stream:
 * the NFC core says so (TARGET_LOST) on readers whose driver checks
 * presence, and tap_probe() finds out on the others.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "hex.h"
#include "agent.h"
#include "holders.h"
#include "issue.h"
#include "store.h"
#include "tap.h"
#include "unlock.h"

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
	sectag_hex(id, u, 16, true);
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
		agent_log(LOG_WARNING, "nfc%u: uevent: %m", r->idx);
	close(fd);
}

/*
 * The binding's secret; a tpm2 binding's host secret is unsealed first,
 * into a copy of the binding that lives no longer than this.
 */
static int derive(const struct sectag_binding *b, const uint8_t *share,
		  uint8_t secret[32])
{
	struct sectag_binding tb;
	int rc;

	if (!b->tpm2)
		return sectag_binding_secret(b, share, secret);
	tb = *b;
	tb.tpm2 = false;
	rc = agent_tpm2_host_secret(b, tb.host_secret);
	if (!rc)
		rc = sectag_binding_secret(&tb, share, secret);
	OPENSSL_cleanse(&tb, sizeof(tb));
	return rc;
}

/*
 * Binding @b's key into the keyring; 0, or why not (logged). *@sealed:
 * a tpm2 binding the TPM did not unseal.
 */
static int release(struct agent *a, const struct sectag_binding *b,
		   const uint8_t *share, bool *sealed)
{
	uint8_t secret[32];
	int32_t serial;
	int rc;

	rc = derive(b, share, secret);
	*sealed = rc && b->tpm2;
	if (*sealed) {
		OPENSSL_cleanse(secret, sizeof(secret));
		agent_log(LOG_ERR, "binding %u: cannot release: the TPM did "
			  "not unseal it: %s", b->id, strerror(-rc));
		return rc;
	}
	if (!rc)
		rc = sectag_keyring_add(b, secret, a->cfg.key_timeout_s,
					&serial);
	OPENSSL_cleanse(secret, sizeof(secret));
	if (rc)
		agent_log(LOG_ERR, "binding %u: cannot release: %s", b->id,
			  strerror(-rc));
	return rc;
}

/* Its volume, if the binding asks for it to be opened on a tap. */
static void auto_open(const struct sectag_binding *b)
{
	int rc;

	if (b->kind != SECTAG_BIND_LUKS || !b->auto_open[0])
		return;
	rc = agent_luks_open(b);
	if (rc && rc != -EEXIST && rc != -EBUSY)
		agent_log(LOG_ERR, "binding %u: cannot open %s: %s", b->id,
			  b->auto_open, strerror(-rc));
	else
		agent_log(LOG_INFO, "binding %u: /dev/mapper/%s open", b->id,
			  b->auto_open);
}

/* Same tag: same UID and read key as binding @m. */
static bool same_tag(const struct sectag_binding *b,
		     const struct sectag_binding *m)
{
	return !memcmp(b->uid, m->uid, 7) &&
	       !CRYPTO_memcmp(b->read_key, m->read_key, 16);
}

/* What a tap released: for ctl, the removal, the uevents and auto-open. */
struct tap_release {
	struct released *rel;		/* kind, target and id of each */
	const struct sectag_binding **b;	/* each binding, in the store */
	size_t n;
};

/*
 * The keys of every binding of the tag that authenticated, however many:
 * @tr and r->released are sized for all of them. Keys only: what they
 * are for comes after all of them are in (tap_converse()). @tr also
 * counts the tpm2 bindings the TPM refused (sealed), whose request, if
 * one waits, is told rather than left waiting.
 */
static void release_all(struct agent *a, struct reader *r,
			const struct sectag_store *st, size_t m,
			const uint8_t *share, struct tap_release *tr)
{
	const struct sectag_binding *b;
	size_t i, k = 0;
	bool sealed;

	for (i = 0; i < st->n; i++)
		k += same_tag(&st->b[i], &st->b[m]);
	tr->rel = calloc(k, sizeof(*tr->rel));
	tr->b = calloc(k, sizeof(*tr->b));
	free(r->released);
	r->n_released = 0;
	r->released = calloc(k, sizeof(*r->released));
	if (!tr->rel || !tr->b || !r->released) {
		agent_log(LOG_ERR, "%s: out of memory", r->label);
		return;
	}
	for (i = 0; i < st->n; i++) {
		b = &st->b[i];
		if (!same_tag(b, &st->b[m]) ||
		    (release(a, b, share, &sealed) && !sealed))
			continue;
		tr->b[tr->n] = b;
		tr->rel[tr->n].kind = b->kind;
		snprintf(tr->rel[tr->n].target, sizeof(tr->rel[tr->n].target),
			 "%s", b->target);
		tr->rel[tr->n].id = b->id;
		tr->rel[tr->n].sealed = sealed;
		tr->n++;
		if (!sealed)
			r->released[r->n_released++] = b->id;
	}
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

/* The UID to log and rate-limit by: the real one when it is known. */
static void tap_uid(const struct sectag_tap_result *res,
		    const struct sectag_nfc_target *tg, uint8_t *uid,
		    size_t *len)
{
	static const uint8_t none[7];

	if (memcmp(res->uid, none, 7)) {
		memcpy(uid, res->uid, 7);
		*len = 7;
		return;
	}
	memset(uid, 0, 7);
	*len = tg->nfcid1_len < 7 ? tg->nfcid1_len : 7;
	memcpy(uid, tg->nfcid1, *len);
}

/* Microseconds from @t0 to @t (CLOCK_MONOTONIC), for the debug log. */
static long long us_between(const struct timespec *t0,
			    const struct timespec *t)
{
	return (t->tv_sec - t0->tv_sec) * 1000000LL +
	       (t->tv_nsec - t0->tv_nsec) / 1000;
}

/*
 * The order is the latency's: the keys go into the keyring first, every
 * one of them, and are logged; then what waits on them (a volume to
 * open, the request the tap answers, the uevents), and the bookkeeping.
 */
void tap_converse(struct agent *a, struct reader *r,
		  const struct sectag_nfc_target *tg, sectag_ntag_xfer_fn xfer,
		  void *ctx, int *timeout_ms)
{
	struct sectag_tap_result res = { .why = "" };
	unsigned long parsed = a->store.parsed;
	const struct sectag_store *st = NULL;
	struct tap_release tr = { 0 };
	struct sectag_tap_budget budget;
	struct sectag_ntag *t = NULL;
	uint8_t share[32], uid[7];
	struct timespec t0, keys = { 0 }, end;
	char uidhex[15];
	size_t i, len;
	int rc;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	sectag_tap_budget_init(&budget, xfer, ctx, timeout_ms,
			       a->cfg.exchange_timeout_ms *
			       SECTAG_TAP_BUDGET_FRAMES);
	rc = agent_store(a, &st);
	if (rc)
		res.why = "cannot read the store";
	if (!rc)
		rc = sectag_ntag_new(&t, sectag_tap_budget_xfer, &budget);
	if (!rc)
		rc = sectag_tap_authenticate(t, st, share, &res);
	sectag_ntag_free(t);
	if (!rc) {
		release_all(a, r, st, res.binding, share, &tr);
		OPENSSL_cleanse(share, sizeof(share));
		clock_gettime(CLOCK_MONOTONIC, &keys);
	}
	for (i = 0; i < tr.n; i++)
		if (!tr.rel[i].sealed)
			agent_log(LOG_INFO, "binding %u (%s): released",
				  tr.rel[i].id, tr.rel[i].target);
	for (i = 0; i < tr.n; i++)
		if (!tr.rel[i].sealed)
			auto_open(tr.b[i]);
	ctl_tap_result(a, r, tr.rel, tr.n);
	for (i = 0; i < tr.n; i++)
		if (!tr.rel[i].sealed)
			uevent(a, r, "tap", &tr.rel[i]);
	/*
	 * From connect to the keys in the keyring, and when that was (the
	 * benchmark's tap -> key: the key was there then, however late the
	 * benchmark wakes up to see it), then to the end of the tap.
	 */
	clock_gettime(CLOCK_MONOTONIC, &end);
	agent_log(LOG_DEBUG, "%s: tap: %s%u authentication(s), %u frame(s), "
		  "key(s) in %lld us at %lld.%06ld, %lld ms", r->label,
		  res.random_id ? "random-id, " : "", budget.auths,
		  budget.frames, tr.n ? us_between(&t0, &keys) : 0,
		  (long long)keys.tv_sec, keys.tv_nsec / 1000,
		  us_between(&t0, &end) / 1000);
	/* What of it the reader and the tag took: the rest is ours. */
	agent_log(LOG_DEBUG, "%s: exchanges: %u in %lld us", r->label,
		  budget.frames, (long long)budget.xfer_us);
	tap_uid(&res, tg, uid, &len);
	if (!tr.n && !rate_limited(a, uid, true)) {
		sectag_hex(uidhex, uid, len, true);
		agent_log(LOG_NOTICE, "%s: tag %s%s refused: %s", r->label,
			  res.random_id ? "random-id " : "", uidhex,
			  res.why ? res.why : "nothing released");
	}
	free(tr.rel);
	free(tr.b);
	/*
	 * The store was parsed again (changed since the last tap): give the
	 * heap of the parse back rather than keep it resident.
	 */
	if (a->store.parsed != parsed)
		malloc_trim(0);
}

/* Someone else holds the reader: say who, once per failed connect. */
static void log_holders(struct reader *r, int err)
{
	struct sectag_nfc_holder h[8];
	char who[512];
	size_t n = 0;

	if (err != -EBUSY && err != -EALREADY && err != -EADDRINUSE) {
		agent_log(LOG_WARNING, "nfc%u: cannot connect to the tag: %s",
			  r->idx, strerror(-err));
		return;
	}
	if (sectag_nfc_raw_holders(h, sizeof(h) / sizeof(h[0]), &n))
		n = 0;
	sectag_nfc_holders_text(h, n, who, sizeof(who));
	agent_log(LOG_WARNING, "nfc%u: cannot connect to the tag: %s; AF_NFC raw "
		  "sockets are held by %s", r->idx, strerror(-err), who);
}

void tap_handle(struct agent *a, struct reader *r)
{
	struct sectag_nfc_link link = { -1, (int)a->cfg.exchange_timeout_ms };
	struct sectag_nfc_target tg;
	int fd, rc;

	rc = first_target(a, r, &tg);
	if (rc) {
		/* Gone already: its TARGET_LOST restarts the poll. */
		agent_log(LOG_DEBUG, "nfc%u: no target: %s", r->idx,
			  strerror(-rc));
		return;
	}
	agent_log(LOG_DEBUG, "nfc%u: target %u", r->idx, tg.idx);
	fd = sectag_nfc_connect(r->idx, tg.idx);
	if (fd < 0) {
		log_holders(r, fd);
		return;
	}
	r->tag_fd = fd;
	r->target_idx = tg.idx;
	free(r->released);
	r->released = NULL;
	r->n_released = 0;
	link.fd = fd;
	tap_converse(a, r, &tg, sectag_nfc_link_xfer, &link, &link.timeout_ms);
}

/*
 * The presence check: one exchange that changes nothing a later user of
 * the tag could notice. It is the ISO SELECT of the NTAG 424 DNA
 * application by name, without FCI (what sectag_ntag_select_app()
 * sends): 12 bytes out, a status word back. The tap selected that
 * application already, so it stays selected. Selecting a DF ends the
 * authenticated session the tap left on the tag (as kernel/ntag424.c
 * models it), which costs nothing: the agent forgot that session's keys
 * when the tap ended, so nobody could continue it, and whoever talks to
 * the tag next selects and authenticates first anyway. The alternatives
 * disturb more: GetVersion part 1 leaves a 91 AF chain pending, so the
 * next command gets it aborted, and a command answered with an error
 * ends the session as well (any error does, DS 9.1.9) while proving no
 * more. Any ISO-DEP card answers the SELECT (90 00, or 6A 82 without
 * that application), so foreign and refused tags are checked alike: an
 * answer of any kind is presence; only the exchange failing (EIO from
 * pn533, a timeout, a socket shut down) is removal.
 */
int tap_probe(struct agent *a, struct reader *r)
{
	static const uint8_t select_app[] = { 0x00, 0xA4, 0x04, 0x0C, 0x07,
					      0xD2, 0x76, 0x00, 0x00, 0x85,
					      0x01, 0x01 };
	uint8_t resp[258];
	size_t rlen;

	if (r->tag_fd < 0)
		return -ENOTCONN;
	return sectag_nfc_transceive(r->tag_fd, select_app, sizeof(select_app),
				     resp, sizeof(resp), &rlen,
				     (int)a->cfg.exchange_timeout_ms);
}

static void forget_released(struct reader *r)
{
	free(r->released);
	r->released = NULL;
	r->n_released = 0;
}

void tap_lost(struct agent *a, struct reader *r)
{
	const struct sectag_store *st;
	struct released rel = { 0 };
	size_t i, j;
	int rc;

	if (r->tag_fd < 0) {
		forget_released(r);
		return;
	}
	if (pcsc_reader(r)) {
		close(r->tag_fd);
	} else {
		rc = sectag_nfc_disconnect(a->nfc, r->idx, r->target_idx,
					   r->tag_fd);
		if (rc)
			agent_log(LOG_DEBUG, "nfc%u: deactivate target %u: %s",
				  r->idx, r->target_idx, strerror(-rc));
	}
	r->tag_fd = -1;
	agent_log(LOG_INFO, "%s: tag removed", r->label);
	if (!r->n_released || agent_store(a, &st)) {
		forget_released(r);
		return;
	}
	for (i = 0; i < r->n_released; i++) {
		for (j = 0; j < st->n; j++) {
			if (st->b[j].id != r->released[i])
				continue;
			rel.kind = st->b[j].kind;
			rel.id = st->b[j].id;
			snprintf(rel.target, sizeof(rel.target), "%s",
				 st->b[j].target);
			if (a->cfg.revoke_on_removal)
				sectag_keyring_revoke(&st->b[j]);
			uevent(a, r, "removed", &rel);
		}
	}
	forget_released(r);
}
