// SPDX-License-Identifier: GPL-2.0
/*
 * The emulated NTAG 424 DNA driven through the NFC core (AF_NFC) by
 * libsectag's reader side: factory state, authentication, ChangeKey,
 * access rights, the Change-never fuse, Random ID, a bad-input storm, a
 * write racing the tag's removal, and a scan of every nfc_sectag reply
 * for key material.
 *
 * Expectations come from the datasheet as summarised in the project's
 * reference (ntag424.md), not from the engine's source.
 *
 * Most exchanges go through libsectag. Frames the library never builds
 * (wrong MACs, wrong counters, commands in a session that may not issue
 * them) are built here with OpenSSL: the session keys are recomputed
 * from the transcript of the library's authentication and the key, which
 * the test knows. That code is checked against the published vectors
 * first (known_answer_vectors).
 */
#include <poll.h>
#include <pthread.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>

#include <netlink/genl/ctrl.h>

#include <openssl/core_names.h>
#include <openssl/evp.h>

#include "kselftest_harness.h"
#include "genl.h"
#include "helpers.h"
#include "ntag424.h"
#include "sm_oracle.h"

#define KEY_LEN		SECTAG_NTAG_KEY_LEN
#define NKEYS		SECTAG_NTAG_NKEYS
#define UID_LEN		NFC_SECTAG_UID_LEN
#define BLK		16
#define MACT_LEN	8
#define TI_LEN		4
#define XFER_MS		3000
#define FRAME_MAX	300	/* longest frame the storm sends */
#define RAPDU_MAX	300
#define SHORT_APDU_MAX	NFC_SECTAG_CAPDU_MAX
#define SECRET_LEN	128	/* all of file 03 */

#define SW_OK		0x9100
#define SW_MORE		0x91af
#define SW_ISO_OK	0x9000

static const uint8_t zero_key[KEY_LEN];

/* Keys personalise() gives: distinct, non-zero, no byte repeated. */
static const uint8_t test_keys[NKEYS][KEY_LEN] = {
	{ 0x90, 0x77, 0xce, 0xb0, 0xb8, 0x24, 0x10, 0xf0,
	  0xb1, 0xa5, 0x6a, 0x12, 0x3a, 0xe4, 0x29, 0x03 },
	{ 0xda, 0x30, 0xc0, 0x64, 0xaa, 0x89, 0x33, 0x35,
	  0x32, 0x1c, 0x67, 0x3c, 0xa1, 0x6d, 0x47, 0x20 },
	{ 0xe6, 0xdb, 0x73, 0xd6, 0xf6, 0xee, 0x62, 0xa5,
	  0xea, 0xbb, 0x77, 0x45, 0x3b, 0x95, 0xd5, 0x83 },
	{ 0x9b, 0x64, 0x5b, 0xb1, 0x43, 0x6d, 0xb9, 0xd1,
	  0xeb, 0xa2, 0x75, 0x92, 0xe3, 0x57, 0x9e, 0x9f },
	{ 0x3a, 0xd1, 0xa3, 0x82, 0x50, 0x2d, 0x4d, 0x26,
	  0x04, 0xcf, 0xbe, 0x4b, 0x25, 0x9f, 0xe0, 0xc0 },
};
static const uint8_t test_key_ver[NKEYS] = { 0x10, 0x11, 0x12, 0x13, 0x14 };

/* CC file as delivered [DS 8.2.3.2]: NDEF file E104, proprietary E105. */
static const uint8_t cc_virgin[32] = {
	0x00, 0x17, 0x20, 0x01, 0x00, 0x00, 0xff,
	0x04, 0x06, 0xe1, 0x04, 0x01, 0x00, 0x00, 0x00,
	0x05, 0x06, 0xe1, 0x05, 0x00, 0x80, 0x82, 0x83,
};

/* GetFileSettings of a virgin tag, as real tags dump them. */
static const uint8_t fs_virgin[3][7] = {
	{ 0x00, 0x00, 0x00, 0xe0, 0x20, 0x00, 0x00 },
	{ 0x00, 0x00, 0xe0, 0xee, 0x00, 0x01, 0x00 },
	{ 0x00, 0x03, 0x30, 0x23, 0x80, 0x00, 0x00 },
};

static const uint16_t file_fid[3] = { 0xe103, 0xe104, 0xe105 };

static void make_secret(uint8_t *s)
{
	int i;

	for (i = 0; i < SECRET_LEN; i++)
		s[i] = (uint8_t)(0xa7 ^ (i * 29 + 3));
}

static int sw_of(const uint8_t *r, size_t rlen)
{
	return rlen < 2 ? -1 : r[rlen - 2] << 8 | r[rlen - 1];
}

static void hex(char *out, size_t size, const uint8_t *p, size_t n)
{
	size_t i;

	out[0] = 0;
	for (i = 0; i < n && 2 * i + 3 <= size; i++)
		sprintf(out + 2 * i, "%02X", p[i]);
}

static int unhex(uint8_t *out, const char *s)
{
	int n = 0;
	unsigned int b;

	while (s[0] && s[1] && sscanf(s, "%2x", &b) == 1) {
		out[n++] = b;
		s += 2;
	}
	return n;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* The helper reproduces the published vectors before it is trusted. */
TEST(known_answer_vectors)
{
	uint8_t k0[16] = { 0 }, ra[16], rb[16], want[64], f[64], out[32];
	struct oracle_sm s = { 0 };
	size_t n, olen;
	uint8_t d[21], hdr;
	static const uint8_t opt0 = 0x00, rid = 0x02;

	/* V1: session keys of AuthenticateEV2First with key 0 = 0 */
	unhex(ra, "13C5DB8A5930439FC3DEF9A4C675360F");
	unhex(rb, "B9E2FC789B64BF237CCCAA20EC7E6E48");
	oracle_session_keys(&s, k0, ra, rb);
	unhex(want, "1309C877509E5A215007FF0ED19CA564");
	EXPECT_EQ(0, memcmp(want, s.enc, 16));
	unhex(want, "4C6626F5E72EA694202139295C7A7FC7");
	EXPECT_EQ(0, memcmp(want, s.mac, 16));

	/* V4: GetFileSettings in CommMode.MAC, and its answer's MAC */
	unhex(s.mac, "8248134A386E86EB7FAF54A52E536CB6");
	unhex(s.ti, "7A21085E");
	hdr = 0x02;
	n = oracle_frame(&s, 0xf5, &hdr, 1, NULL, 0, false, 0, f);
	EXPECT_EQ(15U, n);
	EXPECT_EQ((int)n, unhex(want, "90F5000009026597A457C8CD442C00"));
	EXPECT_EQ(0, memcmp(want, f, n));
	n = unhex(want, "0040EEEE000100D1FE001F00004400004400002000006A0000"
			"2A474282E7A479869100");
	EXPECT_TRUE(oracle_answer(&s, 1, want, n, false, f, &olen));
	EXPECT_EQ(25U, olen);

	/* V9: ChangeKey of key 2 in CommMode.Full, CmdCtr 2 */
	unhex(s.ti, "7614281A");
	unhex(s.enc, "4CF3CB41A22583A61E89B158D252FC53");
	unhex(s.mac, "5529860B2FC5FB6154B7F28361D30BF9");
	unhex(ra, "F3847D627727ED3BC9C4CC050489B966");
	EXPECT_EQ(0xdcfa9d78U, oracle_jamcrc(ra, 16));
	hdr = 0x02;
	n = oracle_frame(&s, 0xc4, &hdr, 1, d,
			 oracle_change_key_data(k0, ra, 0x01, d), true, 2, f);
	EXPECT_EQ((int)n, unhex(want, "90C4000029022CF362B7BF4311FF3BE1DAA2"
				"95E8C68DE09050560D19B9E16C2393AE9CD1FAC75D"
				"0CE20BCD1D06E600"));
	EXPECT_EQ(0, memcmp(want, f, n));

	/* V10: SetConfiguration option 00, Random ID */
	unhex(s.ti, "D779B1D0");
	unhex(s.enc, "7951A705F47F3C29B596454DC1490383");
	unhex(s.mac, "FE4EDBF46536557E304682F33E63A84F");
	n = oracle_frame(&s, 0x5c, &opt0, 1, &rid, 1, true, 0, f);
	EXPECT_EQ((int)n, unhex(want, "905C000019008EA0138A7AF6FC8E99DF2A3A"
				"305602C43A7A3C9228C3134A00"));
	EXPECT_EQ(0, memcmp(want, f, n));

	/* V11: GetCardUID, a Full answer with data */
	unhex(s.ti, "DF055522");
	unhex(s.enc, "2B4D963C014DC36F24F69A50A394F875");
	unhex(s.mac, "379D32130CE61705DD5FD8C36B95D764");
	n = oracle_frame(&s, 0x51, NULL, 0, NULL, 0, true, 0, f);
	EXPECT_EQ((int)n, unhex(want, "90510000088E2C155ADDA99BE300"));
	EXPECT_EQ(0, memcmp(want, f, n));
	n = unhex(want, "70756055688505B52A5E26E59E329CD6595F672298EA41B79100");
	ASSERT_TRUE(oracle_answer(&s, 1, want, n, true, out, &olen));
	ASSERT_EQ(7U, olen);
	unhex(want, "04958CAA5C5E80");
	EXPECT_EQ(0, memcmp(want, out, 7));
}

/* ---------------------------------------------------------------------- */
/* The transport: libsectag's AF_NFC link, with the last exchanges kept   */

#define RING		4
#define CORPUS_MAX	512

struct xchg {
	uint8_t c[FRAME_MAX + 1];
	uint8_t r[RAPDU_MAX];
	size_t clen, rlen;
};

/* Valid frames seen so far: the storm mutates and replays them. */
struct corpus {
	unsigned int n;
	uint64_t seed;
	uint8_t len[CORPUS_MAX];
	uint8_t f[CORPUS_MAX][256];
};

struct wire {
	struct sectag_nfc_link link;
	struct xchg ring[RING];
	unsigned int n;			/* exchanges so far */
	struct corpus *corpus;		/* where to remember frames, or NULL */
};

static uint64_t rnd_next(uint64_t *x)
{
	/* xorshift64*: small, fast, reproducible from a printed seed */
	*x ^= *x >> 12;
	*x ^= *x << 25;
	*x ^= *x >> 27;
	return *x * 0x2545f4914f6cdd1dULL;
}

static void corpus_add(struct corpus *c, const uint8_t *f, size_t len)
{
	unsigned int i;

	if (len > sizeof(c->f[0]))
		return;
	i = c->n < CORPUS_MAX ? c->n++ : rnd_next(&c->seed) % CORPUS_MAX;
	memcpy(c->f[i], f, len);
	c->len[i] = len;
}

static int wire_xfer(void *ctx, const uint8_t *capdu, size_t clen,
		     uint8_t *rapdu, size_t rsize, size_t *rlen)
{
	struct wire *w = ctx;
	struct xchg *x = &w->ring[w->n++ % RING];
	int rc;

	rc = sectag_nfc_link_xfer(&w->link, capdu, clen, rapdu, rsize, rlen);
	x->clen = clen < sizeof(x->c) ? clen : sizeof(x->c);
	memcpy(x->c, capdu, x->clen);
	x->rlen = rc || *rlen > sizeof(x->r) ? 0 : *rlen;
	memcpy(x->r, rapdu, x->rlen);
	if (w->corpus)
		corpus_add(w->corpus, capdu, clen);
	return rc;
}

/* ---------------------------------------------------------------------- */
/* Fixture: an owned reader, one ntag424 on it, connected over AF_NFC     */

FIXTURE(ntag) {
	struct sectag_sim *sim;
	struct sectag_nfc *nfc;
	struct sectag_sim_reader reader;
	struct sectag_sim_tag tag;
	struct sectag_nfc_target target;
	struct wire w;
	struct sectag_ntag *t;
};

/* Poll, connect to the tag and select its application. */
static void connect_tag(struct __test_metadata *_metadata,
			FIXTURE_DATA(ntag) *self)
{
	ASSERT_EQ(0, sectag_nfc_start_poll(self->nfc, self->reader.nfc_index,
					   NFC_PROTO_ISO14443_MASK));
	ASSERT_EQ(0, sectag_nfc_wait_target(self->nfc, self->reader.nfc_index,
					    3000, &self->target));
	self->w.link.fd = sectag_nfc_connect(self->target.dev_idx,
					     self->target.idx);
	ASSERT_GE(self->w.link.fd, 0);
	sectag_ntag_logout(self->t);
	ASSERT_EQ(0, sectag_ntag_select_app(self->t));
}

FIXTURE_SETUP(ntag)
{
	self->w.link.fd = -1;
	self->w.link.timeout_ms = XFER_MS;
	ASSERT_EQ(0, sectag_sim_open(&self->sim));
	ASSERT_EQ(0, sectag_nfc_open(&self->nfc));
	ASSERT_EQ(0, sectag_sim_reader_add(self->sim, NFC_SECTAG_F_OWNED,
					   &self->reader));
	ASSERT_EQ(0, sectag_nfc_dev_up(self->nfc, self->reader.nfc_index));
	ASSERT_EQ(0, sectag_sim_tag_add(self->sim, NFC_SECTAG_PROFILE_NTAG424,
					NULL, NFC_SECTAG_F_OWNED, &self->tag));
	ASSERT_EQ(0, sectag_sim_tag_place(self->sim, self->tag.id,
					  self->reader.id));
	ASSERT_EQ(0, sectag_ntag_new(&self->t, wire_xfer, &self->w));
	connect_tag(_metadata, self);
}

FIXTURE_TEARDOWN(ntag)
{
	if (self->w.link.fd >= 0)
		close(self->w.link.fd);
	sectag_ntag_free(self->t);
	sectag_nfc_close(self->nfc);
	sectag_sim_close(self->sim);	/* the owned reader and tag go */
}

/* Out of the field and back: the chip powers up from scratch. */
static void power_cycle(struct __test_metadata *_metadata,
			FIXTURE_DATA(ntag) *self)
{
	sectag_ntag_logout(self->t);
	close(self->w.link.fd);
	self->w.link.fd = -1;
	ASSERT_EQ(0, sectag_sim_tag_remove(self->sim, self->tag.id));
	ASSERT_EQ(0, sectag_sim_tag_place(self->sim, self->tag.id,
					  self->reader.id));
	connect_tag(_metadata, self);
}

/* Start over in the application, without a session on either side. */
static void reselect(struct __test_metadata *_metadata,
		     FIXTURE_DATA(ntag) *self)
{
	sectag_ntag_logout(self->t);
	ASSERT_EQ(0, sectag_ntag_select_app(self->t));
}

static int auth(FIXTURE_DATA(ntag) *self, uint8_t keyno, const uint8_t *key)
{
	return sectag_ntag_auth(self->t, keyno, key);
}

/* One raw frame; returns the status word. The tag must answer. */
static int raw(struct __test_metadata *_metadata, FIXTURE_DATA(ntag) *self,
	       const uint8_t *f, size_t len, uint8_t *r, size_t *rlen)
{
	uint8_t buf[RAPDU_MAX];
	size_t n = 0;

	if (!r) {
		r = buf;
		rlen = &n;
	}
	ASSERT_EQ(0, sectag_nfc_transceive(self->w.link.fd, f, len, r,
					   RAPDU_MAX, rlen, XFER_MS));
	ASSERT_GE(*rlen, 2U);
	return sw_of(r, *rlen);
}

static struct sectag_sim_tag tag_info(struct __test_metadata *_metadata,
				      FIXTURE_DATA(ntag) *self)
{
	struct sectag_sim_tag t;

	ASSERT_EQ(0, sectag_sim_tag_get(self->sim, self->tag.id, &t));
	return t;
}

/*
 * The session the library just opened (its last two exchanges were the
 * two parts of the authentication), rebuilt from the transcript: RndB
 * from part 1, TI and RndA' from part 2.
 */
static void sm_from_auth(struct __test_metadata *_metadata,
			 FIXTURE_DATA(ntag) *self, uint8_t keyno,
			 const uint8_t *key, bool first, struct oracle_sm *s)
{
	const struct xchg *p1 = &self->w.ring[(self->w.n - 2) % RING];
	const struct xchg *p2 = &self->w.ring[(self->w.n - 1) % RING];
	uint8_t rb[BLK], dec[2 * BLK], ra[BLK];
	const uint8_t *ra1 = first ? dec + TI_LEN : dec;

	ASSERT_EQ(first ? 0x71 : 0x77, p1->c[1]);
	ASSERT_EQ(BLK + 2U, p1->rlen);
	ASSERT_EQ(0xaf, p2->c[1]);
	ASSERT_EQ((first ? 2 * BLK : BLK) + 2U, p2->rlen);
	oracle_cbc(key, NULL, p1->r, rb, BLK, false);
	oracle_cbc(key, NULL, p2->r, dec, first ? 2 * BLK : BLK, false);
	/* RndA' is RndA rotated left by one byte. */
	ra[0] = ra1[BLK - 1];
	memcpy(ra + 1, ra1, BLK - 1);
	if (first) {
		memcpy(s->ti, dec, TI_LEN);
		s->ctr = 0;
	}
	oracle_session_keys(s, key, ra, rb);
	s->keyno = keyno;
	s->active = true;
}

/*
 * A protected command in session @s: CmdData encrypted and the answer
 * decrypted when @full. On 91 00 the answer's MAC must verify; @out gets
 * its plain data. Any other status ends the session. Returns the SW.
 */
static int sm_cmd(struct __test_metadata *_metadata, FIXTURE_DATA(ntag) *self,
		  struct oracle_sm *s, uint8_t ins, const uint8_t *hdr,
		  size_t hlen, const uint8_t *data, size_t dlen, bool full,
		  uint8_t *out, size_t *olen)
{
	uint8_t f[FRAME_MAX], r[RAPDU_MAX], junk[256];
	size_t n, rlen, jl;
	int sw;

	n = oracle_frame(s, ins, hdr, hlen, data, dlen, full, s->ctr, f);
	sw = raw(_metadata, self, f, n, r, &rlen);
	if (sw != SW_OK) {
		s->active = false;
		return sw;
	}
	EXPECT_TRUE(oracle_answer(s, s->ctr + 1, r, rlen, full,
				  out ? out : junk, olen ? olen : &jl)) {
		TH_LOG("answer to INS %02X fails its MAC", ins);
	}
	s->ctr++;
	return sw;
}

/* Authenticate through the library, then take the session over. */
static void auth_sm(struct __test_metadata *_metadata,
		    FIXTURE_DATA(ntag) *self, uint8_t keyno,
		    const uint8_t *key, struct oracle_sm *s)
{
	uint8_t ver;
	size_t n;

	ASSERT_EQ(0, auth(self, keyno, key));
	sm_from_auth(_metadata, self, keyno, key, true, s);
	/* The library's counter is stale from here on. */
	sectag_ntag_logout(self->t);
	/* Proves the rebuilt keys: the answer's MAC must verify. */
	ASSERT_EQ(SW_OK, sm_cmd(_metadata, self, s, 0x64, &keyno, 1, NULL, 0,
				false, &ver, &n));
	ASSERT_EQ(1U, n);
}

/*
 * Give every key a known value and version (keys 1..4 first: changing
 * key 0 ends the session), then a known secret in file 03.
 */
static void personalise(struct __test_metadata *_metadata,
			FIXTURE_DATA(ntag) *self, const uint8_t *secret)
{
	uint8_t back[SECRET_LEN];
	int k;

	reselect(_metadata, self);
	ASSERT_EQ(0, auth(self, 0, zero_key));
	for (k = 1; k < NKEYS; k++)
		ASSERT_EQ(0, sectag_ntag_change_key(self->t, k, zero_key,
						    test_keys[k],
						    test_key_ver[k]));
	ASSERT_EQ(0, sectag_ntag_change_key(self->t, 0, NULL, test_keys[0],
					    test_key_ver[0]));
	ASSERT_EQ(0, auth(self, 3, test_keys[3]));
	ASSERT_EQ(0, sectag_ntag_write(self->t, 3, SECTAG_NTAG_FULL, 0, secret,
				       SECRET_LEN));
	ASSERT_EQ(0, auth(self, 2, test_keys[2]));
	ASSERT_EQ(0, sectag_ntag_read(self->t, 3, SECTAG_NTAG_FULL, 0, back,
				      SECRET_LEN));
	ASSERT_EQ(0, memcmp(secret, back, SECRET_LEN));
	reselect(_metadata, self);
}

/* ---------------------------------------------------------------------- */
/* 1. Factory state                                                       */

TEST_F(ntag, virgin_defaults)
{
	uint8_t f[8] = { 0x90, 0xf5, 0x00, 0x00, 0x01, 0x00, 0x00 };
	static const uint8_t hw[7] = { 0x04, 0x04, 0x02, 0x30, 0x00, 0x11,
				       0x05 };
	static const uint8_t swv[7] = { 0x04, 0x04, 0x02, 0x01, 0x02, 0x11,
					0x05 };
	struct sectag_ntag_version v;
	struct sectag_ntag_file fs;
	struct sectag_sim_tag info = tag_info(_metadata, self);
	uint8_t r[RAPDU_MAX], cc[32], sig[SECTAG_NTAG_SIG_LEN], ver;
	size_t rlen;
	int k, i;

	EXPECT_FALSE(info.personalised);
	EXPECT_FALSE(info.random_id);
	EXPECT_EQ(0U, info.fail_ctr);

	/* GetVersion: NXP, NTAG 4xx, the datasheet's HW/SW, the real UID */
	ASSERT_EQ(0, sectag_ntag_get_version(self->t, &v));
	EXPECT_EQ(0, memcmp(hw, v.hw, 7));
	EXPECT_EQ(0, memcmp(swv, v.sw, 7));
	EXPECT_EQ(0, memcmp(self->tag.uid, v.uid, UID_LEN));
	EXPECT_EQ(0x04, v.uid[0]);

	for (k = 0; k < NKEYS; k++) {
		ver = 0xff;
		EXPECT_EQ(0, sectag_ntag_get_key_version(self->t, k, &ver));
		EXPECT_EQ(0, ver);
	}

	/* GetFileSettings byte for byte as real tags answer it */
	for (i = 0; i < 3; i++) {
		f[5] = i + 1;
		ASSERT_EQ(SW_OK, raw(_metadata, self, f, 7, r, &rlen));
		ASSERT_EQ(9U, rlen);
		EXPECT_EQ(0, memcmp(fs_virgin[i], r, 7)) {
			TH_LOG("file %d settings differ", i + 1);
		}
	}
	ASSERT_EQ(0, sectag_ntag_get_file_settings(self->t, 3, &fs));
	EXPECT_EQ(SECTAG_NTAG_FULL, fs.mode);
	EXPECT_EQ(2, fs.read);
	EXPECT_EQ(3, fs.write);
	EXPECT_EQ(3, fs.read_write);
	EXPECT_EQ(0, fs.change);
	EXPECT_EQ(128U, fs.size);
	EXPECT_FALSE(fs.sdm);

	/* The CC file, the way an NFC Forum reader gets it */
	ASSERT_EQ(0, sectag_ntag_iso_select(self->t, 0xe103));
	ASSERT_EQ(0, sectag_ntag_iso_read(self->t, 0, cc, sizeof(cc)));
	EXPECT_EQ(0, memcmp(cc_virgin, cc, sizeof(cc)));

	/* Originality signature: free without Random ID */
	EXPECT_EQ(0, sectag_ntag_read_sig(self->t, sig));

	/* Every key is the all-zero key */
	for (k = 0; k < NKEYS; k++) {
		reselect(_metadata, self);
		EXPECT_EQ(0, auth(self, k, zero_key)) {
			TH_LOG("key %d", k);
		}
	}
	info = tag_info(_metadata, self);
	EXPECT_FALSE(info.personalised);
	EXPECT_EQ(0U, info.fail_ctr);
}

/* ---------------------------------------------------------------------- */
/* 2. Authentication                                                      */

TEST_F(ntag, auth_right_and_wrong_key)
{
	static const uint8_t get_uid[] = { 0x90, 0x51, 0x00, 0x00, 0x00 };
	static const uint8_t key5[] = { 0x90, 0x71, 0x00, 0x00, 0x02, 0x05,
					0x00, 0x00 };
	static const uint8_t nonfirst[] = { 0x90, 0x77, 0x00, 0x00, 0x01, 0x00,
					    0x00 };
	uint8_t uid[UID_LEN];

	ASSERT_EQ(0, auth(self, 1, zero_key));
	ASSERT_EQ(0, sectag_ntag_get_card_uid(self->t, uid));
	EXPECT_EQ(0, memcmp(self->tag.uid, uid, UID_LEN));
	EXPECT_EQ(0U, tag_info(_metadata, self).fail_ctr);

	/* A wrong key: 91 AE in part 2, counted, no session */
	EXPECT_EQ(SECTAG_SW_AUTH_ERROR, auth(self, 1, test_keys[1]));
	EXPECT_FALSE(sectag_ntag_authenticated(self->t));
	EXPECT_EQ(1U, tag_info(_metadata, self).fail_ctr);
	EXPECT_EQ(SECTAG_SW_AUTH_ERROR,
		  raw(_metadata, self, get_uid, sizeof(get_uid), NULL, NULL));
	EXPECT_EQ(SECTAG_SW_AUTH_ERROR, auth(self, 1, test_keys[2]));
	EXPECT_EQ(2U, tag_info(_metadata, self).fail_ctr);

	/* A success takes TotFailCtrDecr (10) off the counter */
	EXPECT_EQ(0, auth(self, 1, zero_key));
	EXPECT_EQ(0U, tag_info(_metadata, self).fail_ctr);

	/* No key 5; NonFirst needs a session */
	reselect(_metadata, self);
	EXPECT_EQ(SECTAG_SW_NO_SUCH_KEY,
		  raw(_metadata, self, key5, sizeof(key5), NULL, NULL));
	EXPECT_EQ(SECTAG_SW_PERMISSION_DENIED,
		  raw(_metadata, self, nonfirst, sizeof(nonfirst), NULL, NULL));
	EXPECT_EQ(0U, tag_info(_metadata, self).fail_ctr);

	/* NonFirst in a session: with the right key and with a wrong one */
	ASSERT_EQ(0, auth(self, 0, zero_key));
	EXPECT_EQ(0, sectag_ntag_auth_nonfirst(self->t, 4, zero_key));
	EXPECT_EQ(SECTAG_SW_AUTH_ERROR,
		  sectag_ntag_auth_nonfirst(self->t, 4, test_keys[4]));
	EXPECT_EQ(1U, tag_info(_metadata, self).fail_ctr);
}

/* ---------------------------------------------------------------------- */
/* 3. ChangeKey                                                           */

TEST_F(ntag, change_key_0_and_2)
{
	static const uint8_t get_uid[] = { 0x90, 0x51, 0x00, 0x00, 0x00 };
	uint8_t d[21], hdr = 1, ver;
	struct oracle_sm s = { 0 };
	int k;

	ASSERT_EQ(0, auth(self, 0, zero_key));
	ASSERT_EQ(0, sectag_ntag_change_key(self->t, 2, zero_key, test_keys[2],
					    test_key_ver[2]));
	EXPECT_TRUE(tag_info(_metadata, self).personalised);
	ASSERT_EQ(0, sectag_ntag_change_key(self->t, 0, NULL, test_keys[0],
					    test_key_ver[0]));
	/* The key-0 session is over, on the tag too. */
	EXPECT_FALSE(sectag_ntag_authenticated(self->t));
	EXPECT_EQ(SECTAG_SW_AUTH_ERROR,
		  raw(_metadata, self, get_uid, sizeof(get_uid), NULL, NULL));

	/* Old keys fail, new keys work */
	EXPECT_EQ(SECTAG_SW_AUTH_ERROR, auth(self, 0, zero_key));
	EXPECT_EQ(0, auth(self, 0, test_keys[0]));
	EXPECT_EQ(SECTAG_SW_AUTH_ERROR, auth(self, 2, zero_key));
	EXPECT_EQ(0, auth(self, 2, test_keys[2]));
	EXPECT_EQ(0, auth(self, 1, zero_key));

	/* Versions read back; the keys themselves never do. */
	reselect(_metadata, self);
	for (k = 0; k < NKEYS; k++) {
		ASSERT_EQ(0, sectag_ntag_get_key_version(self->t, k, &ver));
		EXPECT_EQ(k == 0 || k == 2 ? test_key_ver[k] : 0, ver);
	}
	EXPECT_TRUE(tag_info(_metadata, self).personalised);

	/* Only a key-0 session changes keys: key 2 gets 91 AE */
	reselect(_metadata, self);
	auth_sm(_metadata, self, 2, test_keys[2], &s);
	oracle_change_key_data(zero_key, test_keys[1], 0x77, d);
	EXPECT_EQ(SECTAG_SW_AUTH_ERROR,
		  sm_cmd(_metadata, self, &s, 0xc4, &hdr, 1, d, 21, true,
			 NULL, NULL));

	/* Keys 1..4 need the old key: a wrong one fails the CRC check */
	reselect(_metadata, self);
	ASSERT_EQ(0, auth(self, 0, test_keys[0]));
	EXPECT_EQ(SECTAG_SW_INTEGRITY_ERROR,
		  sectag_ntag_change_key(self->t, 1, test_keys[3],
					 test_keys[1], 0x77));
	reselect(_metadata, self);
	EXPECT_EQ(0, auth(self, 1, zero_key));
	EXPECT_EQ(0, sectag_ntag_get_key_version(self->t, 1, &ver));
	EXPECT_EQ(0, ver);
}

/* ---------------------------------------------------------------------- */
/* 4. Access rights, every file, every right, every session               */

enum access_op { OP_READ, OP_WRITE, OP_ISO_READ, OP_ISO_UPDATE };

/* What one access gives: granted in a mode, or a status word. */
#define OK_P	1		/* granted, CommMode.Plain */
#define OK_M	2		/* granted, CommMode.MAC */
#define OK_F	3		/* granted, CommMode.Full */
#define OK_I	4		/* ISO command: 90 00 */
#define AE	0x91ae		/* no such right with this session */
#define SE	0x6982		/* ISO: not free, or a session is open */

struct access_row {
	uint8_t file;
	enum access_op op;
	/* not authenticated, then authenticated with key 0..4 */
	int expect[1 + NKEYS];
};

/*
 * Factory rights [DS 8.2.3.3]: CC R=E W=0 RW=0, Plain; NDEF all free,
 * Plain; file 03 R=2 W=3 RW=3, Full. A free right in a session is used
 * in Plain; ISO file commands are refused in any session.
 */
static const struct access_row virgin_rights[] = {
	{ 1, OP_READ,       { OK_P, OK_P, OK_P, OK_P, OK_P, OK_P } },
	{ 1, OP_WRITE,      { AE,   OK_P, AE,   AE,   AE,   AE   } },
	{ 1, OP_ISO_READ,   { OK_I, SE,   SE,   SE,   SE,   SE   } },
	{ 1, OP_ISO_UPDATE, { SE,   SE,   SE,   SE,   SE,   SE   } },
	{ 2, OP_READ,       { OK_P, OK_P, OK_P, OK_P, OK_P, OK_P } },
	{ 2, OP_WRITE,      { OK_P, OK_P, OK_P, OK_P, OK_P, OK_P } },
	{ 2, OP_ISO_READ,   { OK_I, SE,   SE,   SE,   SE,   SE   } },
	{ 2, OP_ISO_UPDATE, { OK_I, SE,   SE,   SE,   SE,   SE   } },
	{ 3, OP_READ,       { AE,   AE,   AE,   OK_F, OK_F, AE   } },
	{ 3, OP_WRITE,      { AE,   AE,   AE,   AE,   OK_F, AE   } },
	{ 3, OP_ISO_READ,   { SE,   SE,   SE,   SE,   SE,   SE   } },
	{ 3, OP_ISO_UPDATE, { SE,   SE,   SE,   SE,   SE,   SE   } },
};

/* Settings for the second table: every mode, RW and never in use. */
static const struct sectag_ntag_file changed_settings[3] = {
	{ .mode = SECTAG_NTAG_MAC, .read = 1, .write = 0xf, .read_write = 4 },
	{ .mode = SECTAG_NTAG_FULL, .read = 0xe, .write = 2, .read_write = 0xf },
	{ .mode = SECTAG_NTAG_PLAIN, .read = 4, .write = 0, .read_write = 1 },
};

static const struct access_row changed_rights[] = {
	{ 1, OP_READ,       { AE,   AE,   OK_M, AE,   AE,   OK_M } },
	{ 1, OP_WRITE,      { AE,   AE,   AE,   AE,   AE,   OK_M } },
	{ 1, OP_ISO_READ,   { SE,   SE,   SE,   SE,   SE,   SE   } },
	{ 1, OP_ISO_UPDATE, { SE,   SE,   SE,   SE,   SE,   SE   } },
	{ 2, OP_READ,       { OK_P, OK_P, OK_P, OK_P, OK_P, OK_P } },
	{ 2, OP_WRITE,      { AE,   AE,   AE,   OK_F, AE,   AE   } },
	{ 2, OP_ISO_READ,   { OK_I, SE,   SE,   SE,   SE,   SE   } },
	{ 2, OP_ISO_UPDATE, { SE,   SE,   SE,   SE,   SE,   SE   } },
	{ 3, OP_READ,       { AE,   AE,   OK_P, AE,   AE,   OK_P } },
	{ 3, OP_WRITE,      { AE,   OK_P, OK_P, AE,   AE,   AE   } },
	{ 3, OP_ISO_READ,   { SE,   SE,   SE,   SE,   SE,   SE   } },
	{ 3, OP_ISO_UPDATE, { SE,   SE,   SE,   SE,   SE,   SE   } },
};

static const char *const op_name[] = { "ReadData", "WriteData",
				       "ISOReadBinary", "ISOUpdateBinary" };

/*
 * One cell: a fresh selection, the session @who (-1: none), the access.
 * @shadow holds what each file must contain; granted reads compare with
 * it, granted writes update it.
 */
static void access_cell(struct __test_metadata *_metadata,
			FIXTURE_DATA(ntag) *self, const struct access_row *row,
			int who, enum sectag_ntag_mode file_mode,
			uint8_t shadow[3][256])
{
	int want = row->expect[who + 1], rc, i;
	enum sectag_ntag_mode mode = who < 0 ? SECTAG_NTAG_PLAIN : file_mode;
	uint8_t *sh = shadow[row->file - 1], buf[32], pat[16];

	if (want == OK_P || want == OK_M || want == OK_F)
		mode = want == OK_P ? SECTAG_NTAG_PLAIN :
		       want == OK_M ? SECTAG_NTAG_MAC : SECTAG_NTAG_FULL;
	for (i = 0; i < 16; i++)
		pat[i] = (uint8_t)(row->file * 64 + (who + 1) * 16 + i);

	reselect(_metadata, self);
	if (who >= 0)
		ASSERT_EQ(0, auth(self, who, zero_key));
	if (row->op == OP_ISO_READ || row->op == OP_ISO_UPDATE)
		ASSERT_EQ(0, sectag_ntag_iso_select(self->t,
						    file_fid[row->file - 1]));
	switch (row->op) {
	case OP_READ:
		rc = sectag_ntag_read(self->t, row->file, mode, 0, buf, 32);
		break;
	case OP_WRITE:
		rc = sectag_ntag_write(self->t, row->file, mode, 8, pat, 16);
		break;
	case OP_ISO_READ:
		rc = sectag_ntag_iso_read(self->t, 0, buf, 32);
		break;
	default:
		rc = sectag_ntag_iso_update(self->t, 8, pat, 16);
		break;
	}
	EXPECT_EQ(want < 0x100 ? 0 : want, rc) {
		TH_LOG("file %u %s %s%d: %s", row->file, op_name[row->op],
		       who < 0 ? "unauthenticated" : "key ", who < 0 ? 0 : who,
		       sectag_ntag_strerror(rc));
	}
	if (rc)
		return;
	if (row->op == OP_WRITE || row->op == OP_ISO_UPDATE) {
		memcpy(sh + 8, pat, 16);
		return;
	}
	EXPECT_EQ(0, memcmp(sh, buf, 32)) {
		TH_LOG("file %u content, read by %d", row->file, who);
	}
}

static void access_table(struct __test_metadata *_metadata,
			 FIXTURE_DATA(ntag) *self,
			 const struct access_row *rows, size_t n,
			 const struct sectag_ntag_file *settings)
{
	uint8_t shadow[3][256] = { { 0 } };
	size_t i;
	int who;

	memcpy(shadow[0], cc_virgin, sizeof(cc_virgin));
	for (i = 0; i < n; i++)
		for (who = -1; who < NKEYS; who++)
			access_cell(_metadata, self, &rows[i], who,
				    settings[rows[i].file - 1].mode, shadow);
}

TEST_F(ntag, access_rights_factory)
{
	struct sectag_ntag_file fs[3];
	int i;

	for (i = 0; i < 3; i++)
		ASSERT_EQ(0, sectag_ntag_get_file_settings(self->t, i + 1,
							   &fs[i]));
	access_table(_metadata, self, virgin_rights,
		     ARRAY_SIZE(virgin_rights), fs);
}

TEST_F(ntag, access_rights_changed)
{
	struct sectag_ntag_file fs;
	int i;

	ASSERT_EQ(0, auth(self, 0, zero_key));
	for (i = 0; i < 3; i++)
		ASSERT_EQ(0, sectag_ntag_change_file_settings(self->t, i + 1,
							&changed_settings[i]));
	reselect(_metadata, self);
	for (i = 0; i < 3; i++) {
		ASSERT_EQ(0, sectag_ntag_get_file_settings(self->t, i + 1,
							   &fs));
		EXPECT_EQ(changed_settings[i].mode, fs.mode);
		EXPECT_EQ(changed_settings[i].read, fs.read);
		EXPECT_EQ(changed_settings[i].write, fs.write);
		EXPECT_EQ(changed_settings[i].read_write, fs.read_write);
		EXPECT_EQ(0, fs.change);
	}
	access_table(_metadata, self, changed_rights,
		     ARRAY_SIZE(changed_rights), changed_settings);
}

/* ---------------------------------------------------------------------- */
/* 5. The fuse                                                            */

TEST_F(ntag, fuse_change_never)
{
	/* ChangeFileSettings of file 03, plain (only valid if C were E) */
	static const uint8_t plain_cfs[] = { 0x90, 0x5f, 0x00, 0x00, 0x04,
					     0x03, 0x03, 0x30, 0x23, 0x00 };
	struct sectag_ntag_file f = { .mode = SECTAG_NTAG_FULL, .read = 2,
				      .write = 3, .read_write = 3,
				      .change = SECTAG_NTAG_ACCESS_NEVER };
	struct sectag_ntag_file got, undo = f;
	uint8_t secret[SECRET_LEN], back[SECRET_LEN];
	int round;

	make_secret(secret);
	undo.change = 0;
	ASSERT_EQ(0, auth(self, 0, zero_key));
	ASSERT_EQ(0, sectag_ntag_change_file_settings(self->t, 3, &f));

	for (round = 0; round < 3; round++) {
		reselect(_metadata, self);
		ASSERT_EQ(0, sectag_ntag_get_file_settings(self->t, 3, &got));
		EXPECT_EQ(SECTAG_NTAG_ACCESS_NEVER, got.change);
		EXPECT_EQ(SECTAG_NTAG_FULL, got.mode);

		/* Not even key 0 may change the settings again... */
		ASSERT_EQ(0, auth(self, 0, round < 2 ? zero_key :
						       test_keys[0]));
		EXPECT_EQ(SECTAG_SW_PERMISSION_DENIED,
			  sectag_ntag_change_file_settings(self->t, 3, &undo));
		ASSERT_EQ(0, auth(self, 0, round < 2 ? zero_key :
						       test_keys[0]));
		EXPECT_EQ(SECTAG_SW_PERMISSION_DENIED,
			  sectag_ntag_change_file_settings(self->t, 3, &f));
		/* ...nor anybody without a session */
		reselect(_metadata, self);
		EXPECT_EQ(SECTAG_SW_PERMISSION_DENIED,
			  raw(_metadata, self, plain_cfs, sizeof(plain_cfs),
			      NULL, NULL));

		/* The data rights it froze still work */
		ASSERT_EQ(0, auth(self, 3, zero_key));
		ASSERT_EQ(0, sectag_ntag_write(self->t, 3, SECTAG_NTAG_FULL, 0,
					       secret, SECRET_LEN));
		ASSERT_EQ(0, auth(self, 2, zero_key));
		ASSERT_EQ(0, sectag_ntag_read(self->t, 3, SECTAG_NTAG_FULL, 0,
					      back, SECRET_LEN));
		EXPECT_EQ(0, memcmp(secret, back, SECRET_LEN));
		secret[round] ^= 0xff;

		/* Round 1 re-keys key 0: not a way out either. */
		if (round == 1) {
			ASSERT_EQ(0, auth(self, 0, zero_key));
			ASSERT_EQ(0, sectag_ntag_change_key(self->t, 0, NULL,
							    test_keys[0], 1));
		}
		power_cycle(_metadata, self);
	}

	/* Only file 03 is fused: file 02 still takes new settings. */
	ASSERT_EQ(0, auth(self, 0, test_keys[0]));
	got = (struct sectag_ntag_file){ .mode = SECTAG_NTAG_PLAIN,
		.read = 0xe, .write = 0xe, .read_write = 0xe, .change = 0 };
	EXPECT_EQ(0, sectag_ntag_change_file_settings(self->t, 2, &got));
}

/* ---------------------------------------------------------------------- */
/* 6. Random ID                                                           */

TEST_F(ntag, random_id)
{
	static const uint8_t opt0 = 0x00, no_change = 0x00, bad = 0x01;
	uint8_t rids[4][4], uid[UID_LEN], sig[SECTAG_NTAG_SIG_LEN];
	static const uint8_t zero_uid[UID_LEN];
	struct sectag_ntag_version v;
	struct oracle_sm s = { 0 };
	int i;

	/* SetConfiguration needs a key-0 session */
	ASSERT_EQ(0, auth(self, 1, zero_key));
	EXPECT_EQ(SECTAG_SW_AUTH_ERROR, sectag_ntag_enable_random_id(self->t));
	EXPECT_FALSE(tag_info(_metadata, self).random_id);

	ASSERT_EQ(0, auth(self, 0, zero_key));
	ASSERT_EQ(0, sectag_ntag_enable_random_id(self->t));
	EXPECT_TRUE(tag_info(_metadata, self).random_id);
	/* It takes effect at the next power cycle [DS 10.5.1]. */
	reselect(_metadata, self);
	ASSERT_EQ(0, sectag_ntag_get_version(self->t, &v));
	EXPECT_EQ(0, memcmp(self->tag.uid, v.uid, UID_LEN));

	for (i = 0; i < 4; i++) {
		power_cycle(_metadata, self);
		/* Single-size random UID starting 08h, ATQA 0304h */
		ASSERT_EQ(4, self->target.nfcid1_len);
		EXPECT_EQ(0x08, self->target.nfcid1[0]);
		EXPECT_EQ(0x0304, self->target.sens_res);
		EXPECT_EQ(0x20, self->target.sel_res);
		memcpy(rids[i], self->target.nfcid1, 4);
		/* 24 random bits: a repeat is a one in 16 million event */
		if (i)
			EXPECT_NE(0, memcmp(rids[i - 1], rids[i], 4)) {
				TH_LOG("same random ID twice in a row");
			}

		ASSERT_EQ(0, sectag_ntag_get_version(self->t, &v));
		EXPECT_EQ(0, memcmp(zero_uid, v.uid, UID_LEN));
		/* Read_Sig now needs a session [DS Table 95] */
		EXPECT_EQ(0x910b, sectag_ntag_read_sig(self->t, sig));
		reselect(_metadata, self);
		ASSERT_EQ(0, auth(self, 2, zero_key));
		ASSERT_EQ(0, sectag_ntag_get_card_uid(self->t, uid));
		EXPECT_EQ(0, memcmp(self->tag.uid, uid, UID_LEN));
		EXPECT_EQ(0, sectag_ntag_read_sig(self->t, sig));
		EXPECT_TRUE(tag_info(_metadata, self).random_id);

		/* No way back: option 00 has no "disable" encoding. */
		reselect(_metadata, self);
		switch (i) {
		case 0:	/* PICCConfig 00 means "no change" */
			auth_sm(_metadata, self, 0, zero_key, &s);
			EXPECT_EQ(SW_OK, sm_cmd(_metadata, self, &s, 0x5c,
						&opt0, 1, &no_change, 1, true,
						NULL, NULL));
			break;
		case 1:	/* other bits are a parameter error */
			auth_sm(_metadata, self, 0, zero_key, &s);
			EXPECT_EQ(SECTAG_SW_PARAMETER_ERROR,
				  sm_cmd(_metadata, self, &s, 0x5c, &opt0, 1,
					 &bad, 1, true, NULL, NULL));
			break;
		case 2:	/* re-keying key 0 */
			ASSERT_EQ(0, auth(self, 0, zero_key));
			ASSERT_EQ(0, sectag_ntag_change_key(self->t, 0, NULL,
							    test_keys[0], 1));
			break;
		}
	}
	EXPECT_TRUE(tag_info(_metadata, self).random_id);
}

/*
 * Who sees a Random-ID tag's real UID through nfc_sectag: CAP_NET_ADMIN
 * in GET and dump replies; nobody in events, and only CAP_NET_ADMIN may
 * join the events group at all. Tags without Random ID are unaffected.
 */
struct uid_check {
	uint32_t id;
	int seen;
	int with_uid;
	int random_id;
};

static int uid_check_fn(struct nlattr **tb, uint8_t cmd, void *arg)
{
	struct uid_check *c = arg;

	(void)cmd;
	if (!tb[NFC_SECTAG_ATTR_TAG_ID] ||
	    nla_get_u32(tb[NFC_SECTAG_ATTR_TAG_ID]) != c->id)
		return 0;
	c->seen++;
	c->with_uid += !!tb[NFC_SECTAG_ATTR_UID];
	if (tb[NFC_SECTAG_ATTR_RANDOM_ID])
		c->random_id = nla_get_u8(tb[NFC_SECTAG_ATTR_RANDOM_ID]);
	return 0;
}

static int uid_event_fn(struct nl_msg *msg, void *arg)
{
	struct nlattr *tb[NFC_SECTAG_ATTR_MAX + 1];

	if (!sectag_genl_parse(msg, NFC_SECTAG_ATTR_MAX, tb, NULL))
		uid_check_fn(tb, 0, arg);
	return NL_OK;
}

static int uid_any_seq(struct nl_msg *msg, void *arg)
{
	(void)msg;
	(void)arg;
	return NL_OK;
}

static int get_tag_check(struct sectag_genl *g, uint32_t id, bool dump,
			 struct uid_check *c)
{
	struct nl_msg *msg = sectag_genl_msg(g, NFC_SECTAG_CMD_GET_TAG,
					     dump ? NLM_F_DUMP : 0);

	memset(c, 0, sizeof(*c));
	c->id = id;
	if (!dump)
		nla_put_u32(msg, NFC_SECTAG_ATTR_TAG_ID, id);
	return sectag_genl_call(g, msg, NFC_SECTAG_ATTR_MAX, uid_check_fn, c);
}

TEST_F(ntag, random_id_real_uid_stays_private)
{
	struct uid_check ev_c = { .id = self->tag.id }, c;
	struct sectag_sim_tag plain;
	struct sectag_genl ev;
	struct nl_cb *cb;
	int status, grp;
	pid_t pid;

	ASSERT_EQ(0, sectag_sim_tag_add(self->sim, NFC_SECTAG_PROFILE_NTAG424,
					NULL, NFC_SECTAG_F_OWNED, &plain));
	ASSERT_EQ(0, sectag_genl_open(&ev, NFC_SECTAG_GENL_NAME));
	ASSERT_EQ(0, sectag_genl_subscribe(&ev, NFC_SECTAG_GENL_NAME,
					   NFC_SECTAG_GENL_MCGRP_EVENTS));
	grp = genl_ctrl_resolve_grp(ev.sk, NFC_SECTAG_GENL_NAME,
				    NFC_SECTAG_GENL_MCGRP_EVENTS);
	ASSERT_GT(grp, 0);

	ASSERT_EQ(0, auth(self, 0, zero_key));
	ASSERT_EQ(0, sectag_ntag_enable_random_id(self->t));
	power_cycle(_metadata, self);		/* REMOVE_TAG, PLACE_TAG */
	ASSERT_EQ(4, self->target.nfcid1_len);

	/* CAP_NET_ADMIN reads the real UID, by id and in a dump. */
	EXPECT_EQ(0, memcmp(self->tag.uid, tag_info(_metadata, self).uid,
			    UID_LEN));
	{
		struct sectag_genl g;

		ASSERT_EQ(0, sectag_genl_open(&g, NFC_SECTAG_GENL_NAME));
		ASSERT_EQ(0, get_tag_check(&g, self->tag.id, true, &c));
		EXPECT_EQ(1, c.seen);
		EXPECT_EQ(1, c.with_uid);
		sectag_genl_close(&g);
	}

	/* Events never carry it. */
	cb = nl_cb_alloc(NL_CB_DEFAULT);
	ASSERT_NE(NULL, cb);
	nl_cb_set(cb, NL_CB_VALID, NL_CB_CUSTOM, uid_event_fn, &ev_c);
	/* Events are unsolicited: no sequence number to match. */
	nl_cb_set(cb, NL_CB_SEQ_CHECK, NL_CB_CUSTOM, uid_any_seq, NULL);
	nl_socket_set_nonblocking(ev.sk);
	while (nl_recvmsgs(ev.sk, cb) >= 0)
		;
	nl_cb_put(cb);
	sectag_genl_close(&ev);
	EXPECT_GE(ev_c.seen, 2);
	EXPECT_EQ(0, ev_c.with_uid);
	EXPECT_EQ(1, ev_c.random_id);

	pid = fork();
	ASSERT_GE(pid, 0);
	if (pid == 0) {
		struct sectag_genl g;
		int fd;

		if (setgid(65534) || setuid(65534) ||
		    sectag_genl_open(&g, NFC_SECTAG_GENL_NAME))
			_exit(10);
		/* By id and in a dump: the tag, its Random ID, no UID. */
		if (get_tag_check(&g, self->tag.id, false, &c) ||
		    c.seen != 1 || c.with_uid || c.random_id != 1)
			_exit(11);
		if (get_tag_check(&g, self->tag.id, true, &c) ||
		    c.seen != 1 || c.with_uid || c.random_id != 1)
			_exit(12);
		/* A tag without Random ID shows its UID as before. */
		if (get_tag_check(&g, plain.id, false, &c) ||
		    c.seen != 1 || c.with_uid != 1)
			_exit(13);
		if (get_tag_check(&g, plain.id, true, &c) ||
		    c.seen != 1 || c.with_uid != 1)
			_exit(14);
		/* The events group is closed to it. */
		fd = nl_socket_get_fd(g.sk);
		if (setsockopt(fd, SOL_NETLINK, NETLINK_ADD_MEMBERSHIP, &grp,
			       sizeof(grp)) == 0 || errno != EPERM)
			_exit(15);
		sectag_genl_close(&g);
		_exit(0);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status));
	EXPECT_EQ(0, WEXITSTATUS(status));
}

/* ---------------------------------------------------------------------- */
/* 7. Bad-input storm                                                     */

#define STORM_FRAMES	100000
#define STORM_SEED	0x5ec7a9424d0aULL

enum storm_kind { K_RANDOM, K_AF, K_MUTATE, K_REPLAY, K_TRUNC, K_LIVE,
		  K_NKINDS };

static const char *const kind_name[K_NKINDS] = {
	"random", "chaining", "mutated", "replayed", "truncated", "session",
};

struct storm {
	uint64_t rng;
	struct corpus corpus;
	struct oracle_sm s;
	int pend_key;			/* key of a pending auth part 1, or -1 */
	int fails[NKEYS];		/* our view of each key's TotFailCtr */
	long frames;			/* sent raw by the storm */
	long by_kind[K_NKINDS];
	long long_frames, long_errors, recoveries, live_checks, auth_fails;
	uint8_t secret[SECRET_LEN];
};

static uint32_t rnd(struct storm *st, uint32_t n)
{
	return rnd_next(&st->rng) % n;
}

static void rnd_fill(struct storm *st, uint8_t *p, size_t n)
{
	while (n--)
		*p++ = rnd_next(&st->rng);
}

/* Plain frames an unauthenticated reader sends; the storm cuts them. */
static const struct { uint8_t len; uint8_t f[16]; } templates[] = {
	{ 12, { 0x00, 0xa4, 0x04, 0x0c, 0x07, 0xd2, 0x76, 0x00, 0x00, 0x85,
		0x01, 0x01 } },
	{ 7, { 0x00, 0xa4, 0x00, 0x0c, 0x02, 0xe1, 0x04 } },
	{ 7, { 0x00, 0xa4, 0x00, 0x0c, 0x02, 0xe1, 0x05 } },
	{ 5, { 0x00, 0xb0, 0x00, 0x00, 0x20 } },
	{ 9, { 0x00, 0xd6, 0x00, 0x10, 0x04, 0xde, 0xad, 0xbe, 0xef } },
	{ 5, { 0x90, 0x60, 0x00, 0x00, 0x00 } },
	{ 8, { 0x90, 0x71, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00 } },
	{ 7, { 0x90, 0x64, 0x00, 0x00, 0x01, 0x02, 0x00 } },
	{ 7, { 0x90, 0xf5, 0x00, 0x00, 0x01, 0x03, 0x00 } },
	{ 13, { 0x90, 0xad, 0x00, 0x00, 0x07, 0x02, 0x00, 0x00, 0x00, 0x10,
		0x00, 0x00, 0x00 } },
	{ 15, { 0x90, 0x8d, 0x00, 0x00, 0x09, 0x02, 0x20, 0x00, 0x00, 0x02,
		0x00, 0x00, 0x5a, 0xa5, 0x00 } },
	{ 7, { 0x90, 0x3c, 0x00, 0x00, 0x01, 0x00, 0x00 } },
	{ 7, { 0x90, 0x51, 0x00, 0x00, 0x00, 0x00, 0x00 } },
};

static const uint8_t af_next[] = { 0x90, 0xaf, 0x00, 0x00, 0x00 };

static const uint8_t storm_ins[] = {
	0x71, 0x77, 0xaf, 0x60, 0x51, 0xc4, 0x64, 0xf5, 0x5f, 0xf6, 0xad,
	0x8d, 0x5c, 0x3c, 0xa4, 0xb0, 0xd6, 0x00, 0xff, 0xca,
};

/* After a transport error: a new connection, a fresh chip. */
static void storm_reconnect(struct __test_metadata *_metadata,
			    FIXTURE_DATA(ntag) *self, struct storm *st)
{
	close(self->w.link.fd);
	self->w.link.fd = sectag_nfc_connect(self->target.dev_idx,
					     self->target.idx);
	ASSERT_GE(self->w.link.fd, 0);
	st->s.active = false;
	st->pend_key = -1;
}

/*
 * Follow what could count as a failed authentication: part 2 answered
 * 91 AE right after a part 1 for key k.
 */
static void storm_track(struct storm *st, const uint8_t *f, size_t len,
			int sw)
{
	bool native = len >= 2 && f[0] == 0x90;

	if (native && len >= 6 && (f[1] == 0x71 || f[1] == 0x77) &&
	    sw == SW_MORE) {
		st->pend_key = f[5] < NKEYS ? f[5] : -1;
		return;
	}
	if (native && f[1] == 0xaf && sw == SECTAG_SW_AUTH_ERROR &&
	    st->pend_key >= 0) {
		st->fails[st->pend_key]++;
		st->auth_fails++;
	}
	st->pend_key = -1;
}

/*
 * One raw frame. The tag must answer every frame a short APDU can be:
 * with a status word, within the time. Longer frames may also end in a
 * transport error; the storm reconnects and goes on. Returns the SW, or
 * -1 after such an error.
 */
static int storm_send(struct __test_metadata *_metadata,
		      FIXTURE_DATA(ntag) *self, struct storm *st,
		      const uint8_t *f, size_t len, uint8_t *r, size_t *rlen)
{
	char h[2 * FRAME_MAX + 1];
	int rc, sw;

	rc = sectag_nfc_transceive(self->w.link.fd, f, len, r, RAPDU_MAX,
				   rlen, XFER_MS);
	st->frames++;
	if (len > SHORT_APDU_MAX) {
		st->long_frames++;
		if (rc) {
			st->long_errors++;
			storm_reconnect(_metadata, self, st);
			return -1;
		}
		ASSERT_EQ(2U, *rlen);
		ASSERT_EQ(0x6700, sw_of(r, 2));
		st->pend_key = -1;
		return 0x6700;
	}
	ASSERT_EQ(0, rc) {
		hex(h, sizeof(h), f, len);
		TH_LOG("frame %ld (%zu bytes) got no answer: %s", st->frames,
		       len, h);
	}
	ASSERT_GE(*rlen, 2U);
	ASSERT_LE(*rlen, 258U);
	sw = sw_of(r, *rlen);
	storm_track(st, f, len, sw);
	return sw;
}

static int storm_send_nr(struct __test_metadata *_metadata,
			 FIXTURE_DATA(ntag) *self, struct storm *st,
			 const uint8_t *f, size_t len)
{
	uint8_t r[RAPDU_MAX];
	size_t rlen;

	return storm_send(_metadata, self, st, f, len, r, &rlen);
}

/* Anything, 0..300 bytes, often shaped like an APDU to get further in. */
static size_t gen_random(struct storm *st, uint8_t *f)
{
	size_t len = rnd(st, FRAME_MAX + 1);
	size_t lc;

	rnd_fill(st, f, len);
	if (len >= 2 && rnd(st, 4)) {
		f[0] = rnd(st, 2) ? 0x90 : 0x00;
		f[1] = storm_ins[rnd(st, sizeof(storm_ins))];
	}
	if (len >= 4 && rnd(st, 2))
		f[2] = f[3] = 0;
	if (len >= 6 && rnd(st, 2)) {
		/* a consistent Lc, with or without Le 00 */
		lc = len - 5 - (rnd(st, 2) ? 1 : 0);
		if (lc >= 1 && lc <= 255) {
			f[4] = lc;
			if (lc + 6 == len)
				f[len - 1] = 0;
		}
	}
	return len;
}

/* Part 1 of something chained, then continuation frames of any shape. */
static void gen_chain(struct __test_metadata *_metadata,
		      FIXTURE_DATA(ntag) *self, struct storm *st)
{
	uint8_t f[FRAME_MAX];
	size_t len, lc;
	int i, n;

	switch (rnd(st, 4)) {
	case 0:		/* AuthenticateEV2First, any key, any LenCap */
		lc = rnd(st, 4) ? 0 : rnd(st, 8);
		f[0] = 0x90; f[1] = 0x71; f[2] = 0; f[3] = 0;
		f[4] = 2 + lc;
		f[5] = rnd(st, 6);
		f[6] = lc;
		rnd_fill(st, f + 7, lc);
		f[7 + lc] = 0;
		storm_send_nr(_metadata, self, st, f, 8 + lc);
		break;
	case 1:		/* GetVersion */
		storm_send_nr(_metadata, self, st, templates[5].f, 5);
		break;
	case 2:		/* AuthenticateEV2NonFirst */
		f[0] = 0x90; f[1] = 0x77; f[2] = 0; f[3] = 0; f[4] = 1;
		f[5] = rnd(st, 6);
		f[6] = 0;
		storm_send_nr(_metadata, self, st, f, 7);
		break;
	default:
		break;
	}
	n = 1 + rnd(st, 3);
	for (i = 0; i < n; i++) {
		f[0] = 0x90; f[1] = 0xaf; f[2] = 0; f[3] = 0;
		switch (rnd(st, 4)) {
		case 0:		/* the bare "next frame, please" */
			f[4] = 0;
			len = 5;
			break;
		case 1:		/* an auth part 2 with a wrong token */
			f[4] = 32;
			rnd_fill(st, f + 5, 32);
			f[37] = 0;
			len = 38;
			break;
		default:	/* any length, with or without Le */
			lc = 1 + rnd(st, 255);
			f[4] = lc;
			rnd_fill(st, f + 5, lc);
			len = 5 + lc;
			if (rnd(st, 2))
				f[len++] = 0;
			if (rnd(st, 4) == 0)
				len = rnd(st, len);
			break;
		}
		storm_send_nr(_metadata, self, st, f, len);
	}
}

/* A frame seen earlier, changed in one to four places. */
static size_t gen_mutate(struct storm *st, uint8_t *f)
{
	unsigned int i = rnd(st, st->corpus.n), m, nm = 1 + rnd(st, 4), p;
	size_t len = st->corpus.len[i];

	memcpy(f, st->corpus.f[i], len);
	for (m = 0; m < nm; m++) {
		p = len ? rnd(st, len) : 0;
		switch (rnd(st, 7)) {
		case 0:
			if (len)
				f[p] ^= 1 << rnd(st, 8);
			break;
		case 1:
			if (len)
				f[p] = rnd(st, 256);
			break;
		case 2:		/* truncate */
			len = len ? rnd(st, len) : 0;
			break;
		case 3:		/* extend */
			m = nm;
			p = rnd(st, FRAME_MAX - len + 1);
			rnd_fill(st, f + len, p);
			len += p;
			break;
		case 4:		/* drop a byte */
			if (len) {
				memmove(f + p, f + p + 1, len - p - 1);
				len--;
			}
			break;
		case 5:		/* Lc */
			if (len > 4)
				f[4] = rnd(st, 256);
			break;
		default:	/* Le */
			if (len)
				f[len - 1] ^= 1 + rnd(st, 255);
			break;
		}
	}
	return len;
}

/*
 * Valid protected commands for session @s with key s->keyno, none of
 * which changes what the end of the storm checks. Each one must be
 * answered 91 00 with a good MAC and the right content.
 */
static void live_valid(struct __test_metadata *_metadata,
		       FIXTURE_DATA(ntag) *self, struct storm *st)
{
	struct oracle_sm *s = &st->s;
	uint8_t h[7], d[21], out[256], f[FRAME_MAX], r[RAPDU_MAX];
	uint8_t all[14 + 25];
	size_t olen, n, rlen;
	uint32_t off, len;
	int op = rnd(st, 9);

	st->live_checks++;
	switch (op) {
	case 0:		/* GetKeyVersion, MAC */
		h[0] = rnd(st, NKEYS);
		ASSERT_EQ(SW_OK, sm_cmd(_metadata, self, s, 0x64, h, 1, NULL,
					0, false, out, &olen));
		ASSERT_EQ(1U, olen);
		EXPECT_EQ(test_key_ver[h[0]], out[0]);
		break;
	case 1:		/* GetFileSettings, MAC */
		h[0] = 1 + rnd(st, 3);
		ASSERT_EQ(SW_OK, sm_cmd(_metadata, self, s, 0xf5, h, 1, NULL,
					0, false, out, &olen));
		ASSERT_EQ(7U, olen);
		EXPECT_EQ(0, memcmp(fs_virgin[h[0] - 1], out, 7));
		break;
	case 2:		/* GetCardUID, Full */
		ASSERT_EQ(SW_OK, sm_cmd(_metadata, self, s, 0x51, NULL, 0,
					NULL, 0, true, out, &olen));
		ASSERT_EQ(7U, olen);
		EXPECT_EQ(0, memcmp(self->tag.uid, out, UID_LEN));
		break;
	case 3:		/* ReadData file 03, Full, for keys 2 and 3 */
		if (s->keyno != 2 && s->keyno != 3)
			goto plain_read;
		len = 1 + rnd(st, 64);
		off = rnd(st, SECRET_LEN - len + 1);
		h[0] = 3;
		h[1] = off; h[2] = 0; h[3] = 0;
		h[4] = len; h[5] = 0; h[6] = 0;
		ASSERT_EQ(SW_OK, sm_cmd(_metadata, self, s, 0xad, h, 7, NULL,
					0, true, out, &olen));
		ASSERT_EQ(len, olen);
		EXPECT_EQ(0, memcmp(st->secret + off, out, len));
		break;
	case 4:		/* key 0: ChangeKey 4 to the value it has */
		if (s->keyno)
			goto plain_read;
		h[0] = 4;
		oracle_change_key_data(test_keys[4], test_keys[4],
				       test_key_ver[4], d);
		ASSERT_EQ(SW_OK, sm_cmd(_metadata, self, s, 0xc4, h, 1, d, 21,
					true, out, &olen));
		break;
	case 5:		/* key 0: file 02 settings as they are */
		if (s->keyno)
			goto plain_read;
		h[0] = 2;
		memcpy(d, fs_virgin[1] + 1, 3);
		ASSERT_EQ(SW_OK, sm_cmd(_metadata, self, s, 0x5f, h, 1, d, 3,
					true, out, &olen));
		break;
	case 6:		/* GetVersion: three frames, one CmdCtr step */
		n = oracle_frame(s, 0x60, NULL, 0, NULL, 0, false, s->ctr, f);
		ASSERT_EQ(SW_MORE, storm_send(_metadata, self, st, f, n, r,
					      &rlen));
		ASSERT_EQ(9U, rlen);
		memcpy(all, r, 7);
		ASSERT_EQ(SW_MORE, storm_send(_metadata, self, st, af_next,
					      sizeof(af_next), r, &rlen));
		ASSERT_EQ(9U, rlen);
		memcpy(all + 7, r, 7);
		ASSERT_EQ(SW_OK, storm_send(_metadata, self, st, af_next,
					    sizeof(af_next), r, &rlen));
		/* UID, batch, fab, week, year (, FabKeyID), MACt, SW */
		ASSERT_GE(rlen, 24U);
		ASSERT_LE(rlen, 25U);
		memcpy(all + 14, r, rlen);
		ASSERT_TRUE(oracle_answer(s, s->ctr + 1, all, 14 + rlen,
					  false, out, &olen));
		s->ctr++;
		EXPECT_EQ(0, memcmp(self->tag.uid, out + 14, UID_LEN));
		break;
	default:
plain_read:	/* a free right in a session: Plain, still counted */
		h[0] = 2;
		off = rnd(st, 200);
		len = 1 + rnd(st, 56);
		f[0] = 0x90; f[1] = 0xad; f[2] = 0; f[3] = 0; f[4] = 7;
		f[5] = 2; f[6] = off; f[7] = 0; f[8] = 0;
		f[9] = len; f[10] = 0; f[11] = 0; f[12] = 0;
		ASSERT_EQ(SW_OK, storm_send(_metadata, self, st, f, 13, r,
					    &rlen));
		ASSERT_EQ(len + 2, rlen);
		s->ctr++;
		break;
	}
}

/* A protected command any session may send, built for CmdCtr @ctr. */
static size_t live_base(struct storm *st, uint16_t ctr, uint8_t *f)
{
	struct oracle_sm *s = &st->s;
	uint8_t h = rnd(st, NKEYS);

	switch (rnd(st, 3)) {
	case 0:
		return oracle_frame(s, 0x64, &h, 1, NULL, 0, false, ctr, f);
	case 1:
		h = 1 + rnd(st, 3);
		return oracle_frame(s, 0xf5, &h, 1, NULL, 0, false, ctr, f);
	default:
		return oracle_frame(s, 0x51, NULL, 0, NULL, 0, true, ctr, f);
	}
}

static bool sw_success(int sw)
{
	return sw == SW_OK || sw == SW_MORE || sw == SW_ISO_OK;
}

/*
 * An authenticated burst: the library opens a session (EV2First, or
 * NonFirst on top of the live one) and the test takes it over; then
 * valid commands, wrong MACs, wrong counters, truncated and mutated
 * protected commands, garbage. While the session is known to be alive,
 * every answer is checked exactly [DS 9.1.9: any error ends it].
 */
static void gen_live(struct __test_metadata *_metadata,
		     FIXTURE_DATA(ntag) *self, struct storm *st)
{
	struct oracle_sm *s = &st->s;
	uint8_t k = rnd(st, NKEYS), f[FRAME_MAX];
	bool first = !s->active || rnd(st, 3), attacked = false;
	int steps = 1 + rnd(st, 8), i, sw, action, delta;
	size_t n;

	if (first) {
		sectag_ntag_logout(self->t);
		ASSERT_EQ(0, sectag_ntag_select_app(self->t));
		ASSERT_EQ(0, auth(self, k, test_keys[k]));
	} else {
		ASSERT_EQ(0, sectag_ntag_auth_nonfirst(self->t, k,
						       test_keys[k]));
	}
	sm_from_auth(_metadata, self, k, test_keys[k], first, s);
	st->fails[k] = st->fails[k] > 10 ? st->fails[k] - 10 : 0;
	st->pend_key = -1;

	for (i = 0; i < steps && s->active; i++) {
		action = rnd(st, 8);
		if (action <= 2) {
			live_valid(_metadata, self, st);
			continue;
		}
		if (action == 7) {
			/* garbage: what it does to the session is unknown */
			n = gen_random(st, f);
			storm_send_nr(_metadata, self, st, f, n);
			s->active = false;
			continue;
		}
		delta = 0;
		if (action == 4)
			delta = rnd(st, 2) ? -1 - (int)rnd(st, 3) :
					     1 + (int)rnd(st, 3);
		n = live_base(st, s->ctr + delta, f);
		corpus_add(&st->corpus, f, n);
		if (action == 3)		/* one bit of the MACt */
			f[n - 2 - rnd(st, MACT_LEN)] ^= 1 << rnd(st, 8);
		else if (action == 5)		/* more than the Le cut */
			n -= 2 + rnd(st, n - 1);
		else if (action == 6)		/* any byte */
			f[rnd(st, n)] ^= 1 + rnd(st, 255);
		sw = storm_send_nr(_metadata, self, st, f, n);
		if (action == 3 || action == 4) {
			EXPECT_EQ(SECTAG_SW_INTEGRITY_ERROR, sw) {
				TH_LOG("%s: %04X", action == 3 ?
				       "wrong MAC" : "wrong CmdCtr", sw);
			}
		} else {
			EXPECT_FALSE(sw_success(sw)) {
				TH_LOG("damaged command accepted: %04X", sw);
			}
		}
		s->active = false;
		attacked = true;
	}
	if (attacked && rnd(st, 4) == 0) {
		/* The session is gone on the tag too: its frames bounce. */
		n = live_base(st, s->ctr, f);
		sw = storm_send_nr(_metadata, self, st, f, n);
		EXPECT_FALSE(sw_success(sw)) {
			TH_LOG("session survived an error: %04X", sw);
		}
	}
}

/* Bring each key's failure count back down before it nears the limit. */
static void storm_recover(struct __test_metadata *_metadata,
			  FIXTURE_DATA(ntag) *self, struct storm *st)
{
	int k;

	for (k = 0; k < NKEYS; k++) {
		if (st->fails[k] < 8)
			continue;
		sectag_ntag_logout(self->t);
		ASSERT_EQ(0, sectag_ntag_select_app(self->t));
		ASSERT_EQ(0, auth(self, k, test_keys[k])) {
			TH_LOG("key %d no longer authenticates", k);
		}
		st->fails[k] = st->fails[k] > 10 ? st->fails[k] - 10 : 0;
		st->recoveries++;
		st->s.active = false;
		st->pend_key = -1;
	}
}

static void storm_one(struct __test_metadata *_metadata,
		      FIXTURE_DATA(ntag) *self, struct storm *st)
{
	uint8_t f[FRAME_MAX + 1];
	unsigned int i, r = rnd(st, 16);
	size_t n;
	enum storm_kind kind;

	kind = r < 4 ? K_RANDOM : r < 6 ? K_AF : r < 9 ? K_MUTATE :
	       r < 10 ? K_REPLAY : r < 12 ? K_TRUNC : K_LIVE;
	st->by_kind[kind]++;
	/* Whatever comes now may end the session: only a burst keeps it. */
	if (kind != K_LIVE)
		st->s.active = false;
	switch (kind) {
	case K_RANDOM:
		n = gen_random(st, f);
		storm_send_nr(_metadata, self, st, f, n);
		break;
	case K_AF:
		gen_chain(_metadata, self, st);
		break;
	case K_MUTATE:
		n = gen_mutate(st, f);
		storm_send_nr(_metadata, self, st, f, n);
		break;
	case K_REPLAY:
		i = rnd(st, st->corpus.n);
		memcpy(f, st->corpus.f[i], st->corpus.len[i]);
		storm_send_nr(_metadata, self, st, f, st->corpus.len[i]);
		break;
	case K_TRUNC:
		i = rnd(st, ARRAY_SIZE(templates));
		n = templates[i].len;
		/* whole, to move the tag along, or cut short */
		if (rnd(st, 2))
			n = rnd(st, n);
		storm_send_nr(_metadata, self, st, templates[i].f, n);
		break;
	default:
		gen_live(_metadata, self, st);
		break;
	}
}

static unsigned long long env_ull(const char *name, unsigned long long def)
{
	const char *v = getenv(name);

	return v && *v ? strtoull(v, NULL, 0) : def;
}

/*
 * At least 100 000 frames: random ones of 0..300 bytes, chaining
 * fragments, mutated and replayed frames (stale sessions, wrong
 * counters), truncated commands, and bursts inside real sessions. The
 * tag must answer each one; afterwards it still holds its keys, its
 * settings and the secret written before. SECTAG_STORM_SEED and
 * SECTAG_STORM_FRAMES override the defaults to reproduce or extend a run.
 */
TEST_F_TIMEOUT(ntag, bad_input_storm, 1200)
{
	static const uint8_t gfs[] = { 0x90, 0xf5, 0x00, 0x00, 0x01, 0x00,
				       0x00 };
	unsigned long long seed = env_ull("SECTAG_STORM_SEED", STORM_SEED);
	long target = env_ull("SECTAG_STORM_FRAMES", STORM_FRAMES);
	struct storm *st = calloc(1, sizeof(*st));
	uint8_t back[SECRET_LEN], f[8], r[RAPDU_MAX], ver;
	struct sectag_sim_tag info;
	unsigned int n0, i;
	double t0, dt;
	long total;
	size_t rlen;
	int k;

	ASSERT_NE(NULL, st);
	st->rng = seed ? seed : 1;
	st->corpus.seed = seed ^ 0x9e3779b97f4a7c15ULL;
	st->pend_key = -1;
	make_secret(st->secret);
	TH_LOG("storm seed %#llx, %ld frames", seed, target);

	/* Setup frames are the first valid frames to mutate and replay. */
	self->w.corpus = &st->corpus;
	personalise(_metadata, self, st->secret);
	for (i = 0; i < ARRAY_SIZE(templates); i++)
		corpus_add(&st->corpus, templates[i].f, templates[i].len);

	n0 = self->w.n;
	t0 = now_s();
	do {
		storm_recover(_metadata, self, st);
		storm_one(_metadata, self, st);
		total = st->frames + (long)(self->w.n - n0);
	} while (total < target);
	dt = now_s() - t0;
	self->w.corpus = NULL;

	TH_LOG("storm: %ld frames in %.1f s = %.0f frames/s", total, dt,
	       total / dt);
	TH_LOG("storm: %ld raw, %ld through libsectag", st->frames,
	       total - st->frames);
	TH_LOG("storm: %ld longer than a short APDU, %ld of them dropped the link",
	       st->long_frames, st->long_errors);
	TH_LOG("storm: %ld failed authentications, %ld recoveries, %ld answers checked in sessions",
	       st->auth_fails, st->recoveries, st->live_checks);
	for (k = 0; k < K_NKINDS; k++)
		TH_LOG("storm: %-9s %ld", kind_name[k], st->by_kind[k]);

	/* The tag went through it with its state intact. */
	reselect(_metadata, self);
	for (k = 0; k < NKEYS; k++) {
		ASSERT_EQ(0, sectag_ntag_get_key_version(self->t, k, &ver));
		EXPECT_EQ(test_key_ver[k], ver);
		memcpy(f, gfs, sizeof(gfs));
		if (k < 3) {
			f[5] = k + 1;
			ASSERT_EQ(SW_OK, raw(_metadata, self, f, sizeof(gfs),
					     r, &rlen));
			EXPECT_EQ(0, memcmp(fs_virgin[k], r, 7));
		}
	}
	for (k = 0; k < NKEYS; k++) {
		reselect(_metadata, self);
		EXPECT_EQ(0, auth(self, k, test_keys[k])) {
			TH_LOG("key %d", k);
		}
	}
	reselect(_metadata, self);
	ASSERT_EQ(0, auth(self, 2, test_keys[2]));
	ASSERT_EQ(0, sectag_ntag_read(self->t, 3, SECTAG_NTAG_FULL, 0, back,
				      SECRET_LEN));
	EXPECT_EQ(0, memcmp(st->secret, back, SECRET_LEN));
	info = tag_info(_metadata, self);
	EXPECT_TRUE(info.personalised);
	EXPECT_FALSE(info.random_id);
	EXPECT_LT(info.fail_ctr, 20U);
	EXPECT_GE(total, target);
	EXPECT_GT(st->auth_fails, 0);
	free(st);
}

/* ---------------------------------------------------------------------- */
/* 8. Nothing the nfc_sectag family sends carries key material            */

struct needle {
	const uint8_t *p;
	size_t len;
	const char *what;
};

struct scan {
	const struct needle *nd;
	size_t nn;
	uint32_t tag_id;
	unsigned int msgs, attrs, problems;
	bool tag_seen, tag_personalised;
	char problem[256];
	bool done;
	int err;
};

/*
 * The documented output set (Documentation/uapi.md): reader and tag
 * attributes, each with the size of its type.
 */
static bool attr_allowed(uint8_t cmd, int type, int len)
{
	bool reader = cmd == NFC_SECTAG_CMD_NEW_READER ||
		      cmd == NFC_SECTAG_CMD_DEL_READER ||
		      cmd == NFC_SECTAG_CMD_GET_READER;

	switch (type) {
	case NFC_SECTAG_ATTR_READER_ID:
	case NFC_SECTAG_ATTR_FLAGS:
		return len == 4;
	case NFC_SECTAG_ATTR_NFC_INDEX:
		return reader && len == 4;
	case NFC_SECTAG_ATTR_NAME:
		return reader && len <= 16;
	case NFC_SECTAG_ATTR_POWERED:
	case NFC_SECTAG_ATTR_POLLING:
		return reader && len == 1;
	case NFC_SECTAG_ATTR_TAG_ID:
	case NFC_SECTAG_ATTR_PROFILE:
	case NFC_SECTAG_ATTR_FAIL_CTR:
		return !reader && len == 4;
	case NFC_SECTAG_ATTR_UID:
		return !reader && len == UID_LEN;
	case NFC_SECTAG_ATTR_PERSONALISED:
	case NFC_SECTAG_ATTR_RANDOM_ID:
		return !reader && len == 1;
	default:
		return false;
	}
}

static void scan_problem(struct scan *s, const char *what, unsigned int a,
			 unsigned int b)
{
	if (!s->problems++)
		snprintf(s->problem, sizeof(s->problem), "%s (%u, %u)", what,
			 a, b);
}

static void scan_tag(struct scan *s, struct genlmsghdr *gh, int len)
{
	struct nlattr *id, *pers;

	id = nla_find(genlmsg_attrdata(gh, 0), len, NFC_SECTAG_ATTR_TAG_ID);
	pers = nla_find(genlmsg_attrdata(gh, 0), len,
			NFC_SECTAG_ATTR_PERSONALISED);
	if (!id || nla_len(id) != 4 || nla_get_u32(id) != s->tag_id)
		return;
	s->tag_seen = true;
	s->tag_personalised = pers && nla_len(pers) == 1 && nla_get_u8(pers);
}

/* Every byte of the message, then every attribute, one by one. */
static int scan_valid(struct nl_msg *msg, void *arg)
{
	struct scan *s = arg;
	struct nlmsghdr *nlh = nlmsg_hdr(msg);
	struct genlmsghdr *gh = nlmsg_data(nlh);
	int alen = genlmsg_attrlen(gh, 0), rem;
	struct nlattr *a;
	size_t i, w;

	s->msgs++;
	for (i = 0; i < s->nn; i++)
		for (w = 0; w + 8 <= s->nd[i].len; w++)
			if (memmem(nlh, nlh->nlmsg_len, s->nd[i].p + w, 8))
				scan_problem(s, s->nd[i].what, gh->cmd, w);
	nla_for_each_attr(a, genlmsg_attrdata(gh, 0), alen, rem) {
		s->attrs++;
		if ((a->nla_type & NLA_F_NESTED) ||
		    !attr_allowed(gh->cmd, nla_type(a), nla_len(a)))
			scan_problem(s, "undocumented attribute (cmd, type)",
				     gh->cmd, a->nla_type);
	}
	if (rem)
		scan_problem(s, "trailing bytes after the attributes", gh->cmd,
			     rem);
	scan_tag(s, gh, alen);
	return NL_OK;
}

static int scan_finish(struct nl_msg *msg, void *arg)
{
	(void)msg;
	((struct scan *)arg)->done = true;
	return NL_STOP;
}

static int scan_error(struct sockaddr_nl *nla, struct nlmsgerr *e, void *arg)
{
	struct scan *s = arg;

	(void)nla;
	s->err = e->error;
	s->done = true;
	return NL_STOP;
}

static int scan_any_seq(struct nl_msg *msg, void *arg)
{
	(void)msg;
	(void)arg;
	return NL_OK;
}

static struct nl_cb *scan_cb(struct scan *s)
{
	struct nl_cb *cb = nl_cb_alloc(NL_CB_DEFAULT);

	if (cb) {
		nl_cb_set(cb, NL_CB_VALID, NL_CB_CUSTOM, scan_valid, s);
		nl_cb_set(cb, NL_CB_FINISH, NL_CB_CUSTOM, scan_finish, s);
		nl_cb_set(cb, NL_CB_ACK, NL_CB_CUSTOM, scan_finish, s);
		nl_cb_err(cb, NL_CB_CUSTOM, scan_error, s);
	}
	return cb;
}

/* One request (a dump when @id is 0), every reply message scanned raw. */
static int scan_request(struct sectag_genl *g, uint8_t cmd, int id_attr,
			uint32_t id, struct scan *s)
{
	struct nl_msg *msg;
	struct nl_cb *cb;
	int rc;

	msg = sectag_genl_msg(g, cmd, id ? 0 : NLM_F_DUMP);
	cb = scan_cb(s);
	if (!msg || !cb)
		return -ENOMEM;
	if (id)
		nla_put_u32(msg, id_attr, id);
	s->done = false;
	s->err = 0;
	rc = nl_send_auto(g->sk, msg);
	nlmsg_free(msg);
	while (rc >= 0 && !s->done)
		rc = nl_recvmsgs(g->sk, cb);
	nl_cb_put(cb);
	return rc < 0 ? -EIO : s->err;
}

static void scan_everything(struct __test_metadata *_metadata,
			    FIXTURE_DATA(ntag) *self, struct scan *s)
{
	struct sectag_genl g;

	ASSERT_EQ(0, sectag_genl_open(&g, NFC_SECTAG_GENL_NAME));
	EXPECT_EQ(0, scan_request(&g, NFC_SECTAG_CMD_GET_READER, 0, 0, s));
	EXPECT_EQ(0, scan_request(&g, NFC_SECTAG_CMD_GET_TAG, 0, 0, s));
	EXPECT_EQ(0, scan_request(&g, NFC_SECTAG_CMD_GET_READER,
				  NFC_SECTAG_ATTR_READER_ID, self->reader.id,
				  s));
	EXPECT_EQ(0, scan_request(&g, NFC_SECTAG_CMD_GET_TAG,
				  NFC_SECTAG_ATTR_TAG_ID, self->tag.id, s));
	sectag_genl_close(&g);
}

TEST_F(ntag, no_key_material_in_genl)
{
	static const uint8_t part1[] = { 0x90, 0x71, 0x00, 0x00, 0x02, 0x03,
					 0x00, 0x00 };
	uint8_t secret[SECRET_LEN], rb[BLK], r[RAPDU_MAX];
	struct sectag_sim_reader other_reader;
	struct sectag_sim_tag other;
	struct needle nd[NKEYS + 4];
	struct scan s = { .nd = nd, .tag_id = self->tag.id };
	struct sectag_genl ev;
	struct oracle_sm ses = { 0 };
	unsigned int events;
	struct nl_cb *cb;
	size_t rlen;
	int k;

	/* Events are scanned too: listen before anything happens. */
	ASSERT_EQ(0, sectag_genl_open(&ev, NFC_SECTAG_GENL_NAME));
	ASSERT_EQ(0, sectag_genl_subscribe(&ev, NFC_SECTAG_GENL_NAME,
					   NFC_SECTAG_GENL_MCGRP_EVENTS));

	make_secret(secret);
	personalise(_metadata, self, secret);
	for (k = 0; k < NKEYS; k++)
		nd[s.nn++] = (struct needle){ test_keys[k], KEY_LEN, "a key" };
	nd[s.nn++] = (struct needle){ secret, SECRET_LEN, "file 03" };

	/* Tag and reader events carrying the personalised tag and others */
	power_cycle(_metadata, self);
	ASSERT_EQ(0, sectag_sim_reader_add(self->sim, NFC_SECTAG_F_OWNED,
					   &other_reader));
	ASSERT_EQ(0, sectag_sim_tag_add(self->sim, NFC_SECTAG_PROFILE_NTAG424,
					NULL, NFC_SECTAG_F_OWNED, &other));
	ASSERT_EQ(0, sectag_sim_tag_place(self->sim, other.id,
					  other_reader.id));
	ASSERT_EQ(0, sectag_sim_tag_del(self->sim, other.id));
	ASSERT_EQ(0, sectag_sim_reader_del(self->sim, other_reader.id));

	/* A session is open: the tag holds its session keys. */
	auth_sm(_metadata, self, 2, test_keys[2], &ses);
	nd[s.nn++] = (struct needle){ ses.enc, KEY_LEN, "SesAuthENCKey" };
	nd[s.nn++] = (struct needle){ ses.mac, KEY_LEN, "SesAuthMACKey" };
	scan_everything(_metadata, self, &s);
	EXPECT_TRUE(s.tag_seen);
	EXPECT_TRUE(s.tag_personalised);

	/* An authentication waits for its part 2: the tag holds RndB. */
	ASSERT_EQ(SW_MORE, raw(_metadata, self, part1, sizeof(part1), r,
			       &rlen));
	ASSERT_EQ(BLK + 2U, rlen);
	oracle_cbc(test_keys[3], NULL, r, rb, BLK, false);
	nd[s.nn++] = (struct needle){ rb, BLK, "RndB" };
	scan_everything(_metadata, self, &s);

	/* Then every event so far */
	events = s.msgs;
	cb = scan_cb(&s);
	ASSERT_NE(NULL, cb);
	/* Events are unsolicited: no sequence number to match. */
	nl_cb_set(cb, NL_CB_SEQ_CHECK, NL_CB_CUSTOM, scan_any_seq, NULL);
	nl_socket_set_nonblocking(ev.sk);
	while (nl_recvmsgs(ev.sk, cb) >= 0)
		;
	nl_cb_put(cb);
	events = s.msgs - events;
	sectag_genl_close(&ev);

	TH_LOG("%u messages (%u events), %u attributes scanned", s.msgs,
	       events, s.attrs);
	EXPECT_GE(events, 6U);
	EXPECT_EQ(0U, s.problems) {
		TH_LOG("%u problems, first: %s", s.problems, s.problem);
	}
}

/* ---------------------------------------------------------------------- */
/* Lifecycle with the engine: removal while frames are in flight          */

/* A reader writing file 02 over and over until the tag goes away. */
struct writer {
	int fd;
	uint8_t acked;		/* pattern of the last write answered 91 00 */
	uint8_t sent;		/* pattern of the write in flight at the end */
	long writes;
};

static void *writer_run(void *arg)
{
	/* WriteData, file 02 (free), offset 0, 128 bytes, plain */
	uint8_t w[5 + 7 + 128 + 1] = { 0x90, 0x8d, 0x00, 0x00, 7 + 128, 0x02,
				       0x00, 0x00, 0x00, 0x80, 0x00, 0x00 };
	struct writer *wr = arg;
	uint8_t r[RAPDU_MAX];
	size_t rlen;

	for (;;) {
		wr->sent = wr->acked + 1;
		memset(w + 12, wr->sent, 128);
		w[sizeof(w) - 1] = 0x00;
		if (sectag_nfc_transceive(wr->fd, w, sizeof(w), r, sizeof(r),
					  &rlen, XFER_MS) ||
		    sw_of(r, rlen) != SW_OK)
			return NULL;
		wr->acked = wr->sent;
		wr->writes++;
	}
}

/*
 * The tag is lifted off while another thread keeps writing: the write in
 * flight lands whole or not at all [issue 3, atomicity], and the reader
 * is told at once.
 */
TEST_F(ntag, removal_during_writes)
{
	static const uint8_t rd[] = { 0x90, 0xad, 0x00, 0x00, 0x07, 0x02,
				      0x00, 0x00, 0x00, 0x80, 0x00, 0x00,
				      0x00 };
	struct writer wr = { 0 };
	int round, i, landed = 0, lost = 0;
	uint8_t r[RAPDU_MAX];
	long writes = 0;
	pthread_t th;
	size_t rlen;
	double t;

	for (round = 0; round < 40; round++) {
		wr.fd = self->w.link.fd;
		wr.writes = 0;
		ASSERT_EQ(0, pthread_create(&th, NULL, writer_run, &wr));
		usleep(500 + (round % 8) * 700);
		t = now_s();
		ASSERT_EQ(0, sectag_sim_tag_remove(self->sim, self->tag.id));
		pthread_join(th, NULL);
		EXPECT_LT(now_s() - t, XFER_MS / 1000.0) {
			TH_LOG("the reader waited for a tag that was gone");
		}
		writes += wr.writes;
		close(self->w.link.fd);
		self->w.link.fd = -1;

		ASSERT_EQ(0, sectag_sim_tag_place(self->sim, self->tag.id,
						  self->reader.id));
		connect_tag(_metadata, self);
		ASSERT_EQ(SW_OK, raw(_metadata, self, rd, sizeof(rd), r,
				     &rlen));
		ASSERT_EQ(130U, rlen);
		for (i = 1; i < 128; i++)
			ASSERT_EQ(r[0], r[i]) {
				TH_LOG("round %d: a torn write", round);
			}
		ASSERT_TRUE(r[0] == wr.acked || r[0] == wr.sent) {
			TH_LOG("round %d: %02X, acked %02X, in flight %02X",
			       round, r[0], wr.acked, wr.sent);
		}
		if (r[0] == wr.sent)
			landed++;
		else
			lost++;
		wr.acked = r[0];
	}
	TH_LOG("%ld writes; at removal, %d in flight landed, %d did not",
	       writes, landed, lost);
}

/* Spin on the core's target list; connect the moment one shows up. */
static int connect_first_seen(struct sectag_nfc *nfc, uint32_t idx,
			      struct sectag_nfc_target *tg)
{
	struct sectag_nfc_target *v;
	double end = now_s() + XFER_MS / 1000.0;
	size_t n;
	int rc;

	while (now_s() < end) {
		rc = sectag_nfc_targets(nfc, idx, &v, &n);
		if (rc)
			return rc;
		if (n) {
			*tg = v[0];
			free(v);
			return sectag_nfc_connect(tg->dev_idx, tg->idx);
		}
		free(v);
	}
	return -ETIMEDOUT;
}

/*
 * A target the NFC core lists can be connected at once: by the time the
 * core publishes it, the driver must know which tag it is.
 */
TEST_F(ntag, connect_right_after_report)
{
	int round, fails = 0, rc;

	for (round = 0; round < 300; round++) {
		close(self->w.link.fd);
		self->w.link.fd = -1;
		ASSERT_EQ(0, sectag_sim_tag_remove(self->sim, self->tag.id));
		ASSERT_EQ(0, sectag_sim_tag_place(self->sim, self->tag.id,
						  self->reader.id));
		ASSERT_EQ(0, sectag_nfc_start_poll(self->nfc,
					self->reader.nfc_index,
					NFC_PROTO_ISO14443_MASK));
		rc = connect_first_seen(self->nfc, self->reader.nfc_index,
					&self->target);
		if (rc < 0) {
			if (!fails++)
				TH_LOG("round %d: connect: %s", round,
				       strerror(-rc));
			continue;
		}
		self->w.link.fd = rc;
	}
	EXPECT_EQ(0, fails) {
		TH_LOG("%d of 300 connections refused", fails);
	}
}

TEST_HARNESS_MAIN
