// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * NTAG 424 DNA reader side: APDU framing, AuthenticateEV2First/NonFirst,
 * secure messaging (Plain, MAC, Full) and the commands built on them.
 * Section numbers [DS x.y] refer to the NT4H2421Gx datasheet rev 3.0.
 *
 * Everything a tag sends is untrusted: each answer is checked for its
 * exact length, its status word and, in a session, its MAC before a
 * byte of it is used.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "ntag424.h"
#include "ntag424_sm.h"

#define MACT		SM_MACT_LEN
#define BLOCK		SM_BLOCK
#define MAX_LC		255
#define MAX_RAPDU	(256 + 2)

struct sectag_ntag {
	sectag_ntag_xfer_fn xfer;
	void *xfer_ctx;
	sectag_ntag_rng_fn rng;
	void *rng_ctx;
	struct sm_session s;
};

/* A native command: CmdHeader (always plain) and CmdData. */
struct ncmd {
	uint8_t ins;
	enum sectag_ntag_mode mode;	/* applied only in a session */
	const uint8_t *hdr;
	size_t hlen;
	const uint8_t *data;
	size_t dlen;
};

static int default_rng(void *ctx, uint8_t *buf, size_t n)
{
	(void)ctx;
	return RAND_priv_bytes(buf, (int)n) == 1 ? 0 : -EIO;
}

int sectag_ntag_new(struct sectag_ntag **t, sectag_ntag_xfer_fn xfer,
		    void *ctx)
{
	if (!t || !xfer)
		return -EINVAL;
	*t = calloc(1, sizeof(**t));
	if (!*t)
		return -ENOMEM;
	(*t)->xfer = xfer;
	(*t)->xfer_ctx = ctx;
	(*t)->rng = default_rng;
	(*t)->s.keyno = -1;
	return 0;
}

void sectag_ntag_free(struct sectag_ntag *t)
{
	if (!t)
		return;
	OPENSSL_cleanse(t, sizeof(*t));
	free(t);
}

void sectag_ntag_set_rng(struct sectag_ntag *t, sectag_ntag_rng_fn rng,
			 void *ctx)
{
	t->rng = rng ? rng : default_rng;
	t->rng_ctx = ctx;
}

struct sm_session *sm_session_of(struct sectag_ntag *t)
{
	return &t->s;
}

void sectag_ntag_logout(struct sectag_ntag *t)
{
	sm_session_end(&t->s);
}

bool sectag_ntag_authenticated(const struct sectag_ntag *t)
{
	return t->s.active;
}

int sectag_ntag_auth_key(const struct sectag_ntag *t)
{
	return t->s.active ? t->s.keyno : -1;
}

const char *sectag_ntag_strerror(int rc)
{
	static const struct { int sw; const char *msg; } sws[] = {
		{ 0x911C, "illegal command code" },
		{ 0x911E, "integrity error (MAC or padding)" },
		{ 0x9140, "no such key" },
		{ 0x917E, "length error" },
		{ 0x919D, "permission denied" },
		{ 0x919E, "parameter error" },
		{ 0x91AD, "authentication delay" },
		{ 0x91AE, "authentication error (wrong key or no access)" },
		{ 0x91BE, "boundary error" },
		{ 0x91CA, "command aborted" },
		{ 0x91EE, "memory error" },
		{ 0x91F0, "file not found" },
		{ 0x6700, "wrong length" },
		{ 0x6982, "security status not satisfied" },
		{ 0x6985, "conditions of use not satisfied" },
		{ 0x6A82, "file or application not found" },
		{ 0x6A86, "incorrect P1-P2" },
	};
	size_t i;

	if (rc == 0)
		return "success";
	if (rc < 0)
		return rc == -EBADMSG ? "malformed answer or bad MAC from tag" :
					strerror(-rc);
	for (i = 0; i < sizeof(sws) / sizeof(sws[0]); i++)
		if (sws[i].sw == rc)
			return sws[i].msg;
	return "tag returned an unexpected status word";
}

/* ---------------------------------------------------------------------- */
/* APDU exchange                                                          */

/*
 * Sends @c, returns the status word (> 0) with the data length in
 * @rlen, or -errno. A transport failure ends the session: whether the
 * tag saw the command, and so what its counter is, is unknown.
 */
static int xchg(struct sectag_ntag *t, const uint8_t *c, size_t clen,
		uint8_t *r, size_t *rlen)
{
	size_t n = 0;
	int rc;

	rc = t->xfer(t->xfer_ctx, c, clen, r, MAX_RAPDU, &n);
	if (!rc && (n < 2 || n > MAX_RAPDU))
		rc = -EBADMSG;
	if (rc) {
		sm_session_end(&t->s);
		return rc < 0 ? rc : -EIO;
	}
	*rlen = n - 2;
	return r[n - 2] << 8 | r[n - 1];
}

/* 90 INS 00 00 [Lc body] 00 */
static size_t frame_native(uint8_t *a, uint8_t ins, const uint8_t *body,
			   size_t blen)
{
	size_t n = 0;

	a[n++] = 0x90;
	a[n++] = ins;
	a[n++] = 0;
	a[n++] = 0;
	if (blen) {
		a[n++] = (uint8_t)blen;
		memcpy(a + n, body, blen);
		n += blen;
	}
	a[n++] = 0;
	return n;
}

/* Ends the session on a refusal: the tag has already dropped it [DS 9.1.9]. */
static int refused(struct sectag_ntag *t, int sw)
{
	sm_session_end(&t->s);
	return sw;
}

/* A malformed answer: nothing in it can be trusted, the session neither. */
static int malformed(struct sectag_ntag *t)
{
	sm_session_end(&t->s);
	return -EBADMSG;
}

/*
 * Wrap and send a native command, check and unwrap its answer into
 * @out (exactly @want bytes, or up to @want when @upto). Returns 0, a
 * status word or -errno. Outside a session everything is plain.
 */
static int native(struct sectag_ntag *t, const struct ncmd *c, uint8_t *out,
		  size_t want, bool upto, size_t *got)
{
	uint8_t body[MAX_LC + BLOCK], a[MAX_LC + 6], r[MAX_RAPDU];
	enum sectag_ntag_mode mode = t->s.active ? c->mode : SECTAG_NTAG_PLAIN;
	size_t blen, rlen, plen;
	int sw;

	if (c->hlen + c->dlen > MAX_LC)
		return -EINVAL;
	if (c->hlen)
		memcpy(body, c->hdr, c->hlen);
	if (c->dlen)
		memcpy(body + c->hlen, c->data, c->dlen);
	blen = c->hlen + c->dlen;
	if (mode != SECTAG_NTAG_PLAIN) {
		sw = sm_wrap(&t->s, c->ins, mode == SECTAG_NTAG_FULL, body,
			     c->hlen, c->dlen, sizeof(body), &blen);
		if (sw)
			return sw;
		if (blen > MAX_LC)
			return -EINVAL;
	}
	sw = xchg(t, a, frame_native(a, c->ins, body, blen), r, &rlen);
	OPENSSL_cleanse(body, sizeof(body));
	OPENSSL_cleanse(a, sizeof(a));
	if (sw < 0)
		return sw;
	if (sw != SECTAG_SW_OK)
		return refused(t, sw);
	if (t->s.active)
		t->s.ctr++;
	plen = rlen;
	if (mode != SECTAG_NTAG_PLAIN &&
	    sm_unwrap(&t->s, mode == SECTAG_NTAG_FULL, r, rlen, &plen))
		return malformed(t);
	if (plen > want || (!upto && plen != want)) {
		OPENSSL_cleanse(r, sizeof(r));
		return malformed(t);
	}
	if (plen)
		memcpy(out, r, plen);
	if (got)
		*got = plen;
	OPENSSL_cleanse(r, sizeof(r));
	return 0;
}

/* ISO 7816-4 command, always plain; answers 90 00 on success. */
static int iso(struct sectag_ntag *t, const uint8_t *a, size_t alen,
	       uint8_t *out, size_t want)
{
	uint8_t r[MAX_RAPDU];
	size_t rlen;
	int sw;

	sw = xchg(t, a, alen, r, &rlen);
	if (sw < 0)
		return sw;
	if (sw != SECTAG_SW_ISO_OK)
		return refused(t, sw);
	if (rlen != want)
		return malformed(t);
	if (want)
		memcpy(out, r, want);
	return 0;
}

/* ---------------------------------------------------------------------- */
/* Authentication [DS 9.1.5, 9.1.6]                                       */

/* Part 1: KeyNo in, E(K, RndB) out with 91 AF. */
static int auth_part1(struct sectag_ntag *t, uint8_t ins, const uint8_t *p,
		      size_t plen, uint8_t *ek)
{
	uint8_t a[16], r[MAX_RAPDU];
	size_t rlen;
	int sw;

	sw = xchg(t, a, frame_native(a, ins, p, plen), r, &rlen);
	if (sw < 0)
		return sw;
	if (sw != 0x91AF)
		return refused(t, sw);
	if (rlen != BLOCK)
		return malformed(t);
	memcpy(ek, r, BLOCK);
	return 0;
}

/*
 * The whole exchange. @first: EV2First (new TI, CmdCtr 0) else NonFirst
 * (TI and CmdCtr kept). The session is only installed once the tag has
 * proved it knows the key by returning RndA'.
 */
static int authenticate(struct sectag_ntag *t, bool first, uint8_t keyno,
			const uint8_t *key)
{
	uint8_t p1[2] = { keyno, 0 }, ek[BLOCK], rb[BLOCK], ra[BLOCK];
	uint8_t tok[2 * BLOCK], a[48], r[MAX_RAPDU];
	size_t rlen, want = first ? 2 * BLOCK : BLOCK;
	struct sm_session ns = t->s;
	int sw;

	if (keyno >= SECTAG_NTAG_NKEYS || !key)
		return -EINVAL;
	if (!first && !t->s.active)
		return -EACCES;
	if (first)
		sm_session_end(&t->s);
	sw = auth_part1(t, first ? 0x71 : 0x77, p1, first ? 2 : 1, ek);
	if (sw)
		goto out;
	sw = t->rng(t->rng_ctx, ra, BLOCK);
	if (!sw)
		sw = sm_auth_token(key, ek, ra, rb, tok);
	if (sw)
		goto out;
	sw = xchg(t, a, frame_native(a, 0xAF, tok, sizeof(tok)), r, &rlen);
	if (sw < 0)
		goto out;
	if (sw != SECTAG_SW_OK) {
		sw = refused(t, sw);
		goto out;
	}
	if (rlen != want ||
	    sm_auth_finish(&ns, key, first, r, ra, rb) != 0) {
		sw = malformed(t);
		goto out;
	}
	ns.keyno = keyno;
	t->s = ns;
	sw = 0;
out:
	OPENSSL_cleanse(&ns, sizeof(ns));
	OPENSSL_cleanse(ra, sizeof(ra));
	OPENSSL_cleanse(rb, sizeof(rb));
	OPENSSL_cleanse(tok, sizeof(tok));
	OPENSSL_cleanse(a, sizeof(a));
	OPENSSL_cleanse(r, sizeof(r));
	return sw;
}

int sectag_ntag_auth(struct sectag_ntag *t, uint8_t keyno,
		     const uint8_t key[SECTAG_NTAG_KEY_LEN])
{
	return authenticate(t, true, keyno, key);
}

int sectag_ntag_auth_nonfirst(struct sectag_ntag *t, uint8_t keyno,
			      const uint8_t key[SECTAG_NTAG_KEY_LEN])
{
	return authenticate(t, false, keyno, key);
}

/* ---------------------------------------------------------------------- */
/* Application level                                                      */

int sectag_ntag_select_app(struct sectag_ntag *t)
{
	static const uint8_t a[] = { 0x00, 0xA4, 0x04, 0x0C, 0x07, 0xD2, 0x76,
				     0x00, 0x00, 0x85, 0x01, 0x01 };

	return iso(t, a, sizeof(a), NULL, 0);
}

static int version_frame(struct sectag_ntag *t, const uint8_t *a, size_t alen,
			 int want_sw, uint8_t *out, size_t *olen, size_t max)
{
	uint8_t r[MAX_RAPDU];
	size_t rlen;
	int sw;

	sw = xchg(t, a, alen, r, &rlen);
	if (sw < 0)
		return sw;
	if (sw != want_sw)
		return refused(t, sw);
	if (rlen > max)
		return malformed(t);
	memcpy(out, r, rlen);
	*olen = rlen;
	return 0;
}

/*
 * GetVersion: three frames chained by 91 AF [DS 10.5.2]. In a session
 * the first frame carries a MAC and the last answer a MAC over all
 * three parts, checked before anything is returned.
 */
int sectag_ntag_get_version(struct sectag_ntag *t,
			    struct sectag_ntag_version *v)
{
	static const uint8_t more[] = { 0x90, 0xAF, 0x00, 0x00, 0x00 };
	uint8_t all[7 + 7 + 15 + MACT], a[16], body[MACT];
	size_t n1 = 0, n2 = 0, n3 = 0, blen = 0, plen;
	bool mac = t->s.active;
	int sw;

	if (mac) {
		sw = sm_wrap(&t->s, 0x60, false, body, 0, 0, sizeof(body),
			     &blen);
		if (sw)
			return sw;
	}
	sw = version_frame(t, a, frame_native(a, 0x60, body, blen), 0x91AF,
			   all, &n1, 7);
	if (!sw && n1 != 7)
		sw = malformed(t);
	if (!sw)
		sw = version_frame(t, more, sizeof(more), 0x91AF, all + 7,
				   &n2, 7);
	if (!sw && n2 != 7)
		sw = malformed(t);
	if (!sw)
		sw = version_frame(t, more, sizeof(more), SECTAG_SW_OK,
				   all + 14, &n3, 15 + (mac ? MACT : 0));
	if (sw)
		return sw;
	plen = 14 + n3;
	if (mac) {
		t->s.ctr++;
		if (sm_unwrap(&t->s, false, all, plen, &plen))
			return malformed(t);
	}
	if (plen != 28 && plen != 29)
		return malformed(t);
	memcpy(v->hw, all, 7);
	memcpy(v->sw, all + 7, 7);
	memcpy(v->uid, all + 14, 7);
	memcpy(v->batch, all + 21, 4);
	memcpy(v->fab, all + 25, 2);
	v->year = all[27];
	return 0;
}

/* ---------------------------------------------------------------------- */
/* Keys [DS 10.6]                                                         */

int sectag_ntag_change_key(struct sectag_ntag *t, uint8_t keyno,
			   const uint8_t old_key[SECTAG_NTAG_KEY_LEN],
			   const uint8_t new_key[SECTAG_NTAG_KEY_LEN],
			   uint8_t version)
{
	uint8_t d[21], body[1 + 32 + MACT], a[48], r[MAX_RAPDU];
	struct ncmd c = { .ins = 0xC4, .mode = SECTAG_NTAG_FULL,
			  .hdr = &keyno, .hlen = 1, .data = d };
	size_t blen, rlen;
	bool own = keyno == 0;
	int sw;

	if (keyno >= SECTAG_NTAG_NKEYS || !new_key || (!own && !old_key))
		return -EINVAL;
	if (!t->s.active || t->s.keyno != 0)
		return -EACCES;
	c.dlen = sm_change_key_data(keyno, old_key, new_key, version, d);
	if (!own)
		return native(t, &c, NULL, 0, false, NULL);

	/* Key 0 answers a bare 91 00: the old session keys are gone. */
	body[0] = keyno;
	memcpy(body + 1, d, c.dlen);
	sw = sm_wrap(&t->s, 0xC4, true, body, 1, c.dlen, sizeof(body), &blen);
	if (!sw)
		sw = xchg(t, a, frame_native(a, 0xC4, body, blen), r, &rlen);
	OPENSSL_cleanse(d, sizeof(d));
	OPENSSL_cleanse(body, sizeof(body));
	OPENSSL_cleanse(a, sizeof(a));
	sm_session_end(&t->s);
	if (sw <= 0)
		return sw;
	if (sw != SECTAG_SW_OK)
		return sw;
	return rlen ? -EBADMSG : 0;
}

int sectag_ntag_get_key_version(struct sectag_ntag *t, uint8_t keyno,
				uint8_t *version)
{
	struct ncmd c = { .ins = 0x64, .mode = SECTAG_NTAG_MAC,
			  .hdr = &keyno, .hlen = 1 };

	return native(t, &c, version, 1, false, NULL);
}

int sectag_ntag_get_card_uid(struct sectag_ntag *t,
			     uint8_t uid[SECTAG_NTAG_UID_LEN])
{
	struct ncmd c = { .ins = 0x51, .mode = SECTAG_NTAG_FULL };

	if (!t->s.active)
		return -EACCES;
	return native(t, &c, uid, SECTAG_NTAG_UID_LEN, false, NULL);
}

/* ---------------------------------------------------------------------- */
/* Files [DS 10.7, 10.8]                                                  */

int sectag_ntag_get_file_settings(struct sectag_ntag *t, uint8_t fileno,
				  struct sectag_ntag_file *f)
{
	struct ncmd c = { .ins = 0xF5, .mode = SECTAG_NTAG_MAC,
			  .hdr = &fileno, .hlen = 1 };
	uint8_t r[64];
	size_t n;
	int rc;

	rc = native(t, &c, r, sizeof(r), true, &n);
	if (rc)
		return rc;
	if (n < 7 || (!(r[1] & 0x40) && n != 7))
		return malformed(t);
	f->type = r[0];
	f->mode = (r[1] & 3) == SECTAG_NTAG_MAC || (r[1] & 3) == SECTAG_NTAG_FULL ?
		  r[1] & 3 : SECTAG_NTAG_PLAIN;
	f->sdm = r[1] & 0x40;
	f->change = r[2] & 0xf;
	f->read_write = r[2] >> 4;
	f->write = r[3] & 0xf;
	f->read = r[3] >> 4;
	f->size = r[4] | r[5] << 8 | (uint32_t)r[6] << 16;
	return 0;
}

int sectag_ntag_change_file_settings(struct sectag_ntag *t, uint8_t fileno,
				     const struct sectag_ntag_file *f)
{
	uint8_t d[3];
	struct ncmd c = { .ins = 0x5F, .mode = SECTAG_NTAG_FULL,
			  .hdr = &fileno, .hlen = 1, .data = d, .dlen = 3 };

	if (f->mode != SECTAG_NTAG_PLAIN && f->mode != SECTAG_NTAG_MAC &&
	    f->mode != SECTAG_NTAG_FULL)
		return -EINVAL;
	if ((f->read | f->write | f->read_write | f->change) > 0xf)
		return -EINVAL;
	d[0] = f->mode;
	d[1] = f->read_write << 4 | f->change;
	d[2] = f->read << 4 | f->write;
	return native(t, &c, NULL, 0, false, NULL);
}

/* Largest payload per APDU in each mode, from the 256-byte limits. */
static size_t read_chunk(enum sectag_ntag_mode m)
{
	return m == SECTAG_NTAG_FULL ? 239 : m == SECTAG_NTAG_MAC ? 248 : 256;
}

static size_t write_chunk(enum sectag_ntag_mode m)
{
	return m == SECTAG_NTAG_FULL ? 239 : m == SECTAG_NTAG_MAC ? 240 : 248;
}

static void data_header(uint8_t *h, uint8_t fileno, uint32_t off, size_t len)
{
	h[0] = fileno;
	h[1] = off;
	h[2] = off >> 8;
	h[3] = off >> 16;
	h[4] = len;
	h[5] = len >> 8;
	h[6] = len >> 16;
}

static bool mode_ok(enum sectag_ntag_mode m)
{
	return m == SECTAG_NTAG_PLAIN || m == SECTAG_NTAG_MAC ||
	       m == SECTAG_NTAG_FULL;
}

int sectag_ntag_read(struct sectag_ntag *t, uint8_t fileno,
		     enum sectag_ntag_mode mode, uint32_t offset,
		     uint8_t *buf, size_t len)
{
	uint8_t h[7];
	struct ncmd c = { .ins = 0xAD, .mode = mode, .hdr = h, .hlen = 7 };
	size_t n;
	int rc;

	if (!mode_ok(mode) || (len && !buf) || offset + len > 0xFFFFFF)
		return -EINVAL;
	for (; len; len -= n, buf += n, offset += n) {
		n = len < read_chunk(mode) ? len : read_chunk(mode);
		data_header(h, fileno, offset, n);
		rc = native(t, &c, buf, n, false, NULL);
		if (rc)
			return rc;
	}
	return 0;
}

int sectag_ntag_write(struct sectag_ntag *t, uint8_t fileno,
		      enum sectag_ntag_mode mode, uint32_t offset,
		      const uint8_t *buf, size_t len)
{
	uint8_t h[7];
	struct ncmd c = { .ins = 0x8D, .mode = mode, .hdr = h, .hlen = 7 };
	size_t n;
	int rc;

	if (!mode_ok(mode) || (len && !buf) || offset + len > 0xFFFFFF)
		return -EINVAL;
	for (; len; len -= n, buf += n, offset += n) {
		n = len < write_chunk(mode) ? len : write_chunk(mode);
		data_header(h, fileno, offset, n);
		c.data = buf;
		c.dlen = n;
		rc = native(t, &c, NULL, 0, false, NULL);
		if (rc)
			return rc;
	}
	return 0;
}

/* ---------------------------------------------------------------------- */
/* Configuration and originality [DS 10.5.1, 10.10.1]                     */

int sectag_ntag_enable_random_id(struct sectag_ntag *t)
{
	static const uint8_t option, data = 0x02;
	struct ncmd c = { .ins = 0x5C, .mode = SECTAG_NTAG_FULL,
			  .hdr = &option, .hlen = 1, .data = &data,
			  .dlen = 1 };

	if (!t->s.active)
		return -EACCES;
	return native(t, &c, NULL, 0, false, NULL);
}

int sectag_ntag_read_sig(struct sectag_ntag *t,
			 uint8_t sig[SECTAG_NTAG_SIG_LEN])
{
	static const uint8_t addr;
	struct ncmd c = { .ins = 0x3C, .mode = SECTAG_NTAG_FULL,
			  .hdr = &addr, .hlen = 1 };

	return native(t, &c, sig, SECTAG_NTAG_SIG_LEN, false, NULL);
}

/* ---------------------------------------------------------------------- */
/* ISO 7816-4 files [DS 10.9]                                             */

int sectag_ntag_iso_select(struct sectag_ntag *t, uint16_t fid)
{
	const uint8_t a[] = { 0x00, 0xA4, 0x00, 0x0C, 0x02, fid >> 8,
			      fid & 0xff };

	return iso(t, a, sizeof(a), NULL, 0);
}

int sectag_ntag_iso_read(struct sectag_ntag *t, uint16_t offset,
			 uint8_t *buf, size_t len)
{
	uint8_t a[5] = { 0x00, 0xB0 };
	size_t n;
	int rc;

	if ((len && !buf) || offset + len > 0x8000)
		return -EINVAL;
	for (; len; len -= n, buf += n, offset += n) {
		n = len < 256 ? len : 256;
		a[2] = offset >> 8;
		a[3] = offset & 0xff;
		a[4] = n & 0xff;	/* Le 00 asks for 256 */
		rc = iso(t, a, sizeof(a), buf, n);
		if (rc)
			return rc;
	}
	return 0;
}

int sectag_ntag_iso_update(struct sectag_ntag *t, uint16_t offset,
			   const uint8_t *buf, size_t len)
{
	uint8_t a[5 + MAX_LC] = { 0x00, 0xD6 };
	size_t n;
	int rc;

	if ((len && !buf) || offset + len > 0x8000)
		return -EINVAL;
	for (; len; len -= n, buf += n, offset += n) {
		n = len < MAX_LC ? len : MAX_LC;
		a[2] = offset >> 8;
		a[3] = offset & 0xff;
		a[4] = n;
		memcpy(a + 5, buf, n);
		/* No Le: a trailing Le makes the tag answer 67 00. */
		rc = iso(t, a, 5 + n, NULL, 0);
		if (rc)
			return rc;
	}
	return 0;
}

int sectag_ntag_diversify(const uint8_t master[SECTAG_NTAG_KEY_LEN],
			  const uint8_t *m, size_t mlen,
			  uint8_t out[SECTAG_NTAG_KEY_LEN])
{
	return sm_an10922(master, m, mlen, out);
}
