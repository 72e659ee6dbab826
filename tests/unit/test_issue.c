// SPDX-License-Identifier: GPL-2.0
/*
 * Host unit test of provisioning and verification (userspace/lib/issue.c)
 * against the real tag: the kernel's NTAG 424 DNA engine, linked as an
 * object, answers every frame libsectag sends through an in-process
 * transport. The transport can lose the link at any frame (before or
 * after the tag saw it, with a power cycle, as when the tag is pulled
 * away) and can mangle answers, as a broken or hostile tag would.
 *
 * Output is TAP: one "ok N name" / "not ok N name" line per case.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "engine_api.h"
#include "issue.h"
#include "sm_oracle.h"
#include "store.h"
#include "tap.h"

#define UNIT_TAP_SOFT_CHECK
#include "unit_tap.h"

#define run_case tap_run_void

/* ---------------------------------------------------------------------- */
/* A tag on an in-process transport                                       */

struct bench {
	struct ntag424 *tag;
	struct sectag_ntag *t;
	long frames;		/* exchanged since the last tap */
	long auths;		/* AuthenticateEV2First/NonFirst ever sent */
	long cut_at;		/* lose the link at this frame; 0: never */
	bool deliver;		/* the cut frame reaches the tag first */
	bool gone;		/* link lost until the next tap */
	uint64_t rng;		/* fuzzing PRNG state; 0: no fuzzing */
	unsigned int rate;	/* one answer in @rate is mangled */
	long mangled;
	/* rewrites answers, as a relay in the middle could */
	size_t (*tamper)(const uint8_t *c, size_t clen, uint8_t *r, size_t n);
};

static const uint8_t issuer_a[16] = {
	0x6b, 0x1e, 0x52, 0x0c, 0x9d, 0x33, 0xa7, 0x40,
	0x11, 0xf2, 0x88, 0x5a, 0x3c, 0xd6, 0x07, 0xe9,
};

static const uint8_t issuer_b[16] = {
	0x6b, 0x1e, 0x52, 0x0c, 0x9d, 0x33, 0xa7, 0x40,
	0x11, 0xf2, 0x88, 0x5a, 0x3c, 0xd6, 0x07, 0xe8,
};

static const uint8_t factory[16];

static uint64_t rnd(struct bench *b)
{
	/* xorshift64*: reproducible, and good enough to pick mutations */
	b->rng ^= b->rng >> 12;
	b->rng ^= b->rng << 25;
	b->rng ^= b->rng >> 27;
	return b->rng * 0x2545F4914F6CDD1DULL;
}

static void fill(struct bench *b, uint8_t *p, size_t n)
{
	while (n--)
		*p++ = (uint8_t)rnd(b);
}

/* Garble an answer the way a broken or hostile tag could. */
static size_t mangle(struct bench *b, uint8_t *r, size_t n, size_t size)
{
	static const uint8_t sw1[] = { 0x91, 0x90, 0x6a, 0x00 };
	static const uint8_t sw2[] = { 0x00, 0xaf, 0xae, 0x1e, 0x9d, 0x82 };
	size_t extra;

	switch (rnd(b) % 6) {
	case 0:		/* one flipped bit */
		if (n)
			r[rnd(b) % n] ^= (uint8_t)(1u << (rnd(b) % 8));
		return n;
	case 1:		/* truncated */
		return n ? rnd(b) % n : 0;
	case 2:		/* anything at all */
		n = rnd(b) % (size + 1);
		fill(b, r, n);
		return n;
	case 3:		/* another status word */
		if (n >= 2) {
			r[n - 2] = sw1[rnd(b) % sizeof(sw1)];
			r[n - 1] = sw2[rnd(b) % sizeof(sw2)];
		}
		return n;
	case 4:		/* trailing junk */
		extra = rnd(b) % (size - n + 1);
		fill(b, r + n, extra);
		return n + extra;
	default:	/* data replaced, status word kept */
		if (n > 2)
			fill(b, r, n - 2);
		return n;
	}
}

/* The link is lost: as when the tag leaves the field, it powers down. */
static int lose(struct bench *b)
{
	b->gone = true;
	ntag424_power_cycle(b->tag);
	return -ENXIO;
}

static int bench_xfer(void *ctx, const uint8_t *c, size_t clen, uint8_t *r,
		      size_t rsize, size_t *rlen)
{
	struct bench *b = ctx;
	uint8_t buf[ENGINE_MAX_RAPDU + 64];
	size_t size = rsize < sizeof(buf) ? rsize : sizeof(buf);
	bool cut;
	int n;

	if (b->gone)
		return -ENXIO;
	b->frames++;
	if (clen >= 2 && c[0] == 0x90 && (c[1] == 0x71 || c[1] == 0x77))
		b->auths++;
	cut = b->cut_at && b->frames == b->cut_at;
	if (cut && !b->deliver)
		return lose(b);
	n = ntag424_process(b->tag, c, clen, buf);
	if (n < 0)
		return n;
	if (cut)
		return lose(b);
	if (b->tamper)
		n = (int)b->tamper(c, clen, buf, (size_t)n);
	if (b->rng && rnd(b) % b->rate == 0) {
		b->mangled++;
		if (rnd(b) % 8 == 0)
			return -EIO;
		n = (int)mangle(b, buf, (size_t)n, size);
	}
	if ((size_t)n > rsize)
		return -EMSGSIZE;
	memcpy(r, buf, (size_t)n);
	*rlen = (size_t)n;
	return 0;
}

/* Present the tag (again): fresh power-up, fresh reader-side state. */
static void tap(struct bench *b)
{
	sectag_ntag_free(b->t);
	b->t = NULL;
	ntag424_power_cycle(b->tag);
	b->gone = false;
	b->cut_at = 0;
	b->frames = 0;
	if (sectag_ntag_new(&b->t, bench_xfer, b))
		abort();
}

static void bench_init(struct bench *b, unsigned int n)
{
	const uint8_t uid[7] = { 0x04, 0x5e, (uint8_t)(n >> 8), (uint8_t)n,
				 0xa1, 0x2b, 0x80 };

	memset(b, 0, sizeof(*b));
	b->tag = ntag424_create(uid);
	if (!b->tag)
		abort();
	tap(b);
}

static void bench_fini(struct bench *b)
{
	sectag_ntag_free(b->t);
	ntag424_destroy(b->tag);
	memset(b, 0, sizeof(*b));
}

static bool zero(const uint8_t *p, size_t n)
{
	while (n--)
		if (*p++)
			return false;
	return true;
}

/* Progress lines, kept to check what provisioning said it did. */
static char progress_log[4096];

static void progress(void *ctx, const char *msg)
{
	size_t n = strlen(progress_log);

	(void)ctx;
	snprintf(progress_log + n, sizeof(progress_log) - n, "%s\n", msg);
}

static int provision(struct bench *b, const uint8_t *issuer,
		     unsigned int flags)
{
	progress_log[0] = 0;
	return sectag_provision(b->t, issuer, flags, progress, NULL);
}

/* Frames a clean provisioning of a fresh tag takes. */
static long provision_frames(unsigned int flags)
{
	struct bench b;
	long n;

	bench_init(&b, 999);
	if (provision(&b, issuer_a, flags))
		abort();
	n = b.frames;
	bench_fini(&b);
	return n;
}

/* ---------------------------------------------------------------------- */
/* Issuer key file                                                        */

static char tmpdir[64];

static void path_in_tmp(char *p, size_t n, const char *name)
{
	snprintf(p, n, "%s/%s", tmpdir, name);
}

static int count_entries(const char *dir)
{
	struct dirent *e;
	DIR *d = opendir(dir);
	int n = 0;

	if (!d)
		return -1;
	while ((e = readdir(d)))
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
			n++;
	closedir(d);
	return n;
}

static void write_file(const char *path, const char *s, size_t n, mode_t m)
{
	int fd;

	unlink(path);
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600);
	if (fd < 0 || write(fd, s, n) != (ssize_t)n || fchmod(fd, m))
		abort();
	close(fd);
}

static void test_keyfile_roundtrip(void)
{
	uint8_t k1[16], k2[16];
	char path[128];
	struct stat st;

	path_in_tmp(path, sizeof(path), "issuer.key");
	CHECK(sectag_issuer_keygen(path, false) == 0, "keygen");
	CHECK(stat(path, &st) == 0 && S_ISREG(st.st_mode), "exists");
	CHECK((st.st_mode & 07777) == 0600, "mode %o", st.st_mode & 07777);
	CHECK(st.st_size == 33, "one line of 32 hex digits: %ld",
	      (long)st.st_size);
	CHECK(sectag_issuer_load(path, k1) == 0, "load");
	CHECK(!zero(k1, 16), "a key");

	CHECK(sectag_issuer_keygen(path, false) == -EEXIST, "no overwrite");
	CHECK(sectag_issuer_load(path, k2) == 0 && !memcmp(k1, k2, 16),
	      "kept the old key");
	CHECK(sectag_issuer_keygen(path, true) == 0, "overwrite when asked");
	CHECK(sectag_issuer_load(path, k2) == 0 && memcmp(k1, k2, 16),
	      "a new key");
	CHECK(count_entries(tmpdir) == 1, "no temporary file left behind");
	unlink(path);
}

static void test_keyfile_rejects(void)
{
	static const char good[] = "00112233445566778899aabbccddeeff\n";
	static const struct { const char *s; const char *why; } bad[] = {
		{ "", "empty" },
		{ "00112233445566778899aabbccddeef\n", "31 digits" },
		{ "00112233445566778899aabbccddeeff0\n", "33 digits" },
		{ "00112233445566778899aabbccddeegg\n", "not hex" },
		{ "00112233445566778899aabbccddeeff\n\n", "two lines" },
		{ "00112233445566778899aabbccddeeff\r\n", "CRLF" },
		{ " 00112233445566778899aabbccddeeff\n", "leading blank" },
		{ "0x112233445566778899aabbccddeeff\n", "0x prefix" },
	};
	uint8_t k[16];
	char path[128];
	size_t i;

	path_in_tmp(path, sizeof(path), "k");
	write_file(path, good, strlen(good), 0600);
	CHECK(sectag_issuer_load(path, k) == 0, "good file");
	CHECK(k[0] == 0x00 && k[15] == 0xff, "parsed");
	write_file(path, good, strlen(good) - 1, 0400);
	CHECK(sectag_issuer_load(path, k) == 0, "no final newline, 0400");
	write_file(path, "00112233445566778899AABBCCDDEEFF", 32, 0600);
	CHECK(sectag_issuer_load(path, k) == 0, "upper case");

	write_file(path, good, strlen(good), 0640);
	CHECK(sectag_issuer_load(path, k) == -EPERM, "group-readable");
	CHECK(zero(k, 16), "key wiped on error");
	write_file(path, good, strlen(good), 0604);
	CHECK(sectag_issuer_load(path, k) == -EPERM, "other-readable");
	write_file(path, good, strlen(good), 0620);
	CHECK(sectag_issuer_load(path, k) == -EPERM, "group-writable");

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		write_file(path, bad[i].s, strlen(bad[i].s), 0600);
		CHECK(sectag_issuer_load(path, k) == -EINVAL, "%s", bad[i].why);
	}
	unlink(path);
	CHECK(sectag_issuer_load(path, k) == -ENOENT, "missing file");
	CHECK(sectag_issuer_load(tmpdir, k) == -EINVAL, "a directory");
	CHECK(strstr(sectag_issuer_strerror(-EPERM), "chmod 600"), "hint");
}

/* ---------------------------------------------------------------------- */
/* Key hierarchy                                                          */

/* AN10922 with the oracle's RFC 4493 CMAC: CMAC(K, 01 || M). */
static void ref_diversify(const uint8_t *k, const uint8_t *uid, uint8_t n,
			  uint8_t *out)
{
	uint8_t d[1 + 7 + 1 + 9] = { 0x01 };

	memcpy(d + 1, uid, 7);
	d[8] = n;
	memcpy(d + 9, "sectag-v1", 9);
	oracle_cmac(k, d, sizeof(d), out);
}

static void test_key_hierarchy(void)
{
	const uint8_t uid[7] = { 0x04, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66 };
	uint8_t uid2[7], k[5][16], ref[16], other[16];
	int i, j;

	for (i = 0; i < 5; i++) {
		CHECK(sectag_tag_key(issuer_a, uid, (uint8_t)i, k[i]) == 0,
		      "key %d", i);
		ref_diversify(issuer_a, uid, (uint8_t)i, ref);
		CHECK(!memcmp(k[i], ref, 16), "key %d is AN10922", i);
		for (j = 0; j < i; j++)
			CHECK(memcmp(k[i], k[j], 16), "keys %d, %d differ", i, j);
	}
	memcpy(uid2, uid, 7);
	uid2[6] ^= 1;
	CHECK(sectag_tag_key(issuer_a, uid2, 2, other) == 0 &&
	      memcmp(other, k[2], 16), "per tag");
	CHECK(sectag_tag_key(issuer_b, uid, 2, other) == 0 &&
	      memcmp(other, k[2], 16), "per issuer");
	CHECK(sectag_tag_key(issuer_a, uid, 5, other) == -EINVAL, "key 5");
}

/* ---------------------------------------------------------------------- */
/* State, provisioning, verification                                      */

static void test_virgin_state(void)
{
	struct sectag_tag_info info;
	enum sectag_tag_state st;
	uint8_t uid[7];
	struct bench b;

	bench_init(&b, 1);
	CHECK(sectag_tag_inspect(b.t, NULL, &info) == 0, "inspect");
	CHECK(info.state == SECTAG_TAG_VIRGIN, "%s",
	      sectag_tag_state_name(info.state));
	CHECK(!info.random_id && !info.locked && !info.verified, "flags");
	CHECK(info.uid[0] == 0x04 && info.uid[3] == 1, "uid");
	CHECK(zero(info.key_ver, 5), "factory key versions");
	CHECK(info.version.hw[0] == 0x04, "NXP");
	CHECK(info.file.read == 2 && info.file.write == 3 &&
	      info.file.change == 0 && info.file.mode == SECTAG_NTAG_FULL,
	      "file 3 factory settings");
	CHECK(b.frames == 10, "inspection takes %ld frames", b.frames);
	tap(&b);
	CHECK(sectag_tag_state(b.t, issuer_a, &st, uid) == 0 &&
	      st == SECTAG_TAG_VIRGIN && !memcmp(uid, info.uid, 7),
	      "sectag_tag_state");
	bench_fini(&b);
}

static void test_provision_and_verify(void)
{
	uint8_t s1[32], s2[32], s3[32], uid[7];
	struct sectag_tag_info info;
	struct bench b, c;
	int rc;

	bench_init(&b, 2);
	rc = provision(&b, issuer_a, false);
	CHECK(rc == 0, "provision: %d %s", rc, sectag_issue_strerror(rc));
	printf("# provisioning a virgin tag: %ld frames\n", b.frames);
	CHECK(strstr(progress_log, "virgin") &&
	      strstr(progress_log, "changing key 4") &&
	      strstr(progress_log, "changing key 0"), "progress:\n%s",
	      progress_log);
	CHECK(!strstr(progress_log, "locking"), "no lock asked");
	CHECK(engine_personalised(b.tag), "personalised");

	tap(&b);
	CHECK(sectag_tag_inspect(b.t, issuer_a, &info) == 0, "inspect");
	CHECK(info.state == SECTAG_TAG_ISSUED && info.verified, "issued: %s",
	      sectag_tag_state_name(info.state));
	CHECK(!info.locked, "not locked");
	for (int k = 0; k < 4; k++)
		CHECK(info.key_ver[k] == 1, "key %d version %u", k,
		      info.key_ver[k]);
	CHECK(info.key_ver[4] == 2 && info.ident,
	      "key 4: the identification key, version %u", info.key_ver[4]);

	tap(&b);
	rc = sectag_verify(b.t, issuer_a, s1, uid);
	CHECK(rc == 0, "verify: %d %s", rc, sectag_issue_strerror(rc));
	printf("# verifying: %ld frames\n", b.frames);
	CHECK(!zero(s1, 32), "a secret, not the factory zeros");
	CHECK(!memcmp(uid, info.uid, 7), "uid");
	tap(&b);
	CHECK(sectag_verify(b.t, issuer_a, s2, NULL) == 0, "verify again");
	CHECK(!memcmp(s1, s2, 32), "same secret");

	/* The factory keys are gone: key 0 and key 2 refuse them. */
	tap(&b);
	CHECK(sectag_ntag_select_app(b.t) == 0, "select");
	CHECK(sectag_ntag_auth(b.t, 0, factory) == SECTAG_SW_AUTH_ERROR,
	      "factory key 0 refused");
	CHECK(sectag_ntag_auth(b.t, 2, factory) == SECTAG_SW_AUTH_ERROR,
	      "factory key 2 refused");

	bench_init(&c, 3);
	CHECK(provision(&c, issuer_a, false) == 0, "second tag");
	tap(&c);
	CHECK(sectag_verify(c.t, issuer_a, s3, NULL) == 0, "verify it");
	CHECK(memcmp(s1, s3, 32), "each tag its own secret");
	bench_fini(&c);
	bench_fini(&b);
}

static void test_wrong_issuer_key(void)
{
	struct sectag_tag_info info;
	uint8_t s[32];
	unsigned int fails;
	struct bench b;
	int rc;

	bench_init(&b, 4);
	CHECK(provision(&b, issuer_a, false) == 0, "provision");
	fails = engine_fail_ctr(b.tag);
	tap(&b);
	memset(s, 0xaa, sizeof(s));
	rc = sectag_verify(b.t, issuer_b, s, NULL);
	CHECK(rc == -EKEYREJECTED, "verify with key B: %d", rc);
	CHECK(zero(s, 32), "nothing returned");
	CHECK(engine_fail_ctr(b.tag) == fails + 1, "one failed auth counted");

	tap(&b);
	CHECK(sectag_tag_inspect(b.t, issuer_b, &info) == 0, "inspect");
	CHECK(info.state == SECTAG_TAG_FOREIGN && info.verified, "foreign: %s",
	      sectag_tag_state_name(info.state));
	tap(&b);
	rc = provision(&b, issuer_b, false);
	CHECK(rc == -EKEYREJECTED, "provision with key B: %d", rc);
	tap(&b);
	CHECK(sectag_verify(b.t, issuer_a, s, NULL) == 0, "key A still works");
	bench_fini(&b);
}

static void test_second_provision_refused(void)
{
	uint8_t s1[32], s2[32];
	struct bench b;
	int rc;

	bench_init(&b, 5);
	CHECK(provision(&b, issuer_a, false) == 0, "provision");
	tap(&b);
	CHECK(sectag_verify(b.t, issuer_a, s1, NULL) == 0, "verify");
	tap(&b);
	rc = provision(&b, issuer_a, false);
	CHECK(rc == -EEXIST, "refused: %d", rc);
	CHECK(strstr(sectag_issue_strerror(rc), "already issued"), "message");
	tap(&b);
	CHECK(provision(&b, issuer_a, true) == -EEXIST, "with --lock too");
	tap(&b);
	CHECK(sectag_verify(b.t, issuer_a, s2, NULL) == 0, "verify");
	CHECK(!memcmp(s1, s2, 32), "secret untouched");
	bench_fini(&b);
}

static void test_verify_not_issued(void)
{
	uint8_t s[32];
	struct bench b;

	bench_init(&b, 6);
	CHECK(sectag_verify(b.t, issuer_a, s, NULL) == -ENOKEY,
	      "virgin tag: not issued");
	bench_fini(&b);
}

/* Change the settings of file 3 in a session with the tag's K0. */
static int change_file3(struct bench *b, const uint8_t *issuer, uint8_t c)
{
	struct sectag_ntag_file f = { .mode = SECTAG_NTAG_FULL, .read = 2,
				      .write = 3, .read_write = 3,
				      .change = c };
	struct sectag_tag_info info;
	uint8_t k0[16];
	int rc;

	tap(b);
	rc = sectag_tag_inspect(b->t, NULL, &info);
	if (!rc)
		rc = sectag_tag_key(issuer, info.uid, 0, k0);
	if (!rc)
		rc = sectag_ntag_auth(b->t, 0, k0);
	if (!rc)
		rc = sectag_ntag_change_file_settings(b->t, 3, &f);
	return rc;
}

static void test_lock(void)
{
	struct sectag_tag_info info;
	uint8_t s[32];
	struct bench b;
	int rc;

	/* Control: without the fuse the issuer can still change them. */
	bench_init(&b, 7);
	CHECK(provision(&b, issuer_a, false) == 0, "provision");
	CHECK(change_file3(&b, issuer_a, 0) == 0, "unlocked: change works");
	bench_fini(&b);

	bench_init(&b, 8);
	CHECK(provision(&b, issuer_a, true) == 0, "provision --lock");
	printf("# provisioning with --lock: %ld frames\n", b.frames);
	CHECK(strstr(progress_log, "locking"), "said so:\n%s", progress_log);
	tap(&b);
	CHECK(sectag_tag_inspect(b.t, issuer_a, &info) == 0 && info.locked &&
	      info.state == SECTAG_TAG_ISSUED, "issued and locked");
	rc = change_file3(&b, issuer_a, 0);
	CHECK(rc == SECTAG_SW_PERMISSION_DENIED, "change refused: %#x", rc);
	rc = change_file3(&b, issuer_a, SECTAG_NTAG_ACCESS_NEVER);
	CHECK(rc == SECTAG_SW_PERMISSION_DENIED, "even to the same: %#x", rc);
	tap(&b);
	CHECK(sectag_verify(b.t, issuer_a, s, NULL) == 0, "still verifies");
	bench_fini(&b);
}

/*
 * Pull the tag away at frame @n of a provisioning, present it again and
 * provision until done. Returns 0 when a later run finished the job, 1
 * when the tag turned out already issued, -1 after reporting a failure.
 */
static int cut_and_resume(unsigned int id, unsigned int lock, bool deliver,
			  long n, long m)
{
	struct sectag_tag_info info;
	struct bench b;
	uint8_t s[32];
	int rc, rc2, ret = -1;

	bench_init(&b, id);
	b.cut_at = n;
	b.deliver = deliver;
	rc = provision(&b, issuer_a, lock);
	CHECK(rc == -ENXIO, "cut at %ld: %d", n, rc);
	tap(&b);
	b.cut_at = m;
	b.deliver = !deliver;
	rc2 = provision(&b, issuer_a, lock);
	if (m && rc2 == -ENXIO)
		tap(&b);
	if (m && rc2 == -ENXIO)
		rc2 = provision(&b, issuer_a, lock);
	CHECK(rc2 == 0 || rc2 == -EEXIST, "cut at %ld%s, then %ld: %d %s", n,
	      deliver ? " (frame delivered)" : "", m, rc2,
	      sectag_issue_strerror(rc2));
	tap(&b);
	rc = sectag_verify(b.t, issuer_a, s, NULL);
	CHECK(rc == 0, "cut at %ld, then %ld: verify %d", n, m, rc);
	tap(&b);
	CHECK(sectag_tag_inspect(b.t, issuer_a, &info) == 0 &&
	      info.state == SECTAG_TAG_ISSUED && info.verified,
	      "cut at %ld: issued", n);
	CHECK(info.locked == !!(lock & SECTAG_PROV_LOCK), "cut at %ld: locked "
	      "%d", n, info.locked);
	CHECK(info.random_id == !!(lock & SECTAG_PROV_RANDOM_ID),
	      "cut at %ld: random id %d", n, info.random_id);
	CHECK(info.ident, "cut at %ld: identification key", n);
	if (!rc && (rc2 == 0 || rc2 == -EEXIST))
		ret = rc2 == -EEXIST;
	bench_fini(&b);
	return ret;
}

static void cut_everywhere(unsigned int lock)
{
	long total = provision_frames(lock), n;
	int d, rc, resumed, issued;

	for (d = 0; d < 2; d++) {
		resumed = 0;
		issued = 0;
		for (n = 1; n <= total; n++) {
			rc = cut_and_resume((unsigned int)n, lock, d, n, 0);
			resumed += rc == 0;
			issued += rc == 1;
		}
		printf("# flags=%u, cut frame %s: %ld cut points, %d resumed "
		       "to completion, %d already issued\n", lock,
		       d ? "delivered" : "lost", total, resumed, issued);
		CHECK(resumed + issued == total, "all recovered");
	}
}

static void test_cut_every_frame(void)
{
	cut_everywhere(false);
}

static void test_cut_every_frame_lock(void)
{
	cut_everywhere(true);
}

/* Interrupted twice: at frame n of the first run and m of the second. */
static void test_cut_twice(void)
{
	long total = provision_frames(false), n, m;
	int bad = 0;

	for (n = 1; n <= total; n++)
		for (m = 1; m <= total; m++)
			bad += cut_and_resume((unsigned int)(n * 64 + m), false,
					      (n + m) & 1, n, m) < 0;
	printf("# %ld x %ld double interruptions, %d not recovered\n", total,
	       total, bad);
	CHECK(bad == 0, "%d not recovered", bad);
}

/*
 * Resuming with the wrong issuer key must be refused before anything
 * irreversible, and must leave the job to the right key.
 */
static void test_resume_other_key_refused(void)
{
	long total = provision_frames(false), n;
	struct sectag_tag_info info;
	int partial = 0, rc;
	struct bench b;
	uint8_t s[32];

	for (n = 1; n <= total; n++) {
		bench_init(&b, 300 + (unsigned int)n);
		b.cut_at = n;
		b.deliver = true;
		provision(&b, issuer_a, false);
		tap(&b);
		CHECK(sectag_tag_inspect(b.t, NULL, &info) == 0, "inspect");
		if (info.state != SECTAG_TAG_PARTIAL) {
			bench_fini(&b);
			continue;
		}
		partial++;
		tap(&b);
		rc = provision(&b, issuer_b, false);
		CHECK(rc == -EKEYREJECTED, "cut at %ld, key B: %d", n, rc);
		tap(&b);
		CHECK(provision(&b, issuer_a, false) == 0, "key A finishes");
		tap(&b);
		CHECK(sectag_verify(b.t, issuer_a, s, NULL) == 0, "verify");
		bench_fini(&b);
	}
	printf("# %d cut points leave a partial tag\n", partial);
	CHECK(partial >= 4, "partial states exercised: %d", partial);
}

/* Plain GetFileSettings of file 3 claims Change "never" (it is 0). */
static size_t fake_locked(const uint8_t *c, size_t clen, uint8_t *r,
			  size_t n)
{
	if (clen == 7 && c[0] == 0x90 && c[1] == 0xf5 && c[5] == 3 && n == 9)
		r[2] = (uint8_t)((r[2] & 0xf0) | 0xf);
	return n;
}

/* "Already locked" is not believed on the word of an unMACed answer. */
static void test_lock_not_faked(void)
{
	struct sectag_tag_info info;
	struct bench b;

	bench_init(&b, 13);
	b.tamper = fake_locked;
	CHECK(sectag_tag_inspect(b.t, NULL, &info) == 0 && info.locked,
	      "the lie gets through a plain read");
	tap(&b);
	CHECK(provision(&b, issuer_a, true) == 0, "provision --lock");
	b.tamper = NULL;
	tap(&b);
	CHECK(sectag_tag_inspect(b.t, issuer_a, &info) == 0 && info.locked,
	      "really locked");
	CHECK(change_file3(&b, issuer_a, 0) == SECTAG_SW_PERMISSION_DENIED,
	      "change refused");
	bench_fini(&b);
}

/* ---------------------------------------------------------------------- */
/* Random ID and the identification key                                   */

/* CMAC(K, 02 || "sectag-id-v1"), the oracle's. */
static void ref_ident(const uint8_t *k, uint8_t *out)
{
	static const uint8_t d[] = "\x02sectag-id-v1";

	oracle_cmac(k, d, sizeof(d) - 1, out);
}

static void test_ident_key(void)
{
	const uint8_t uid[7] = { 0x04, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66 };
	uint8_t id[16], ref[16], other[16], k[16];
	int i;

	CHECK(sectag_ident_key(issuer_a, id) == 0, "derive");
	ref_ident(issuer_a, ref);
	CHECK(!memcmp(id, ref, 16), "CMAC(issuer, 02 || sectag-id-v1)");
	CHECK(sectag_ident_key(issuer_b, other) == 0 && memcmp(other, id, 16),
	      "per issuer");
	for (i = 0; i < 5; i++)
		CHECK(sectag_tag_key(issuer_a, uid, (uint8_t)i, k) == 0 &&
		      memcmp(k, id, 16), "not per-tag key %d", i);
}

/* A tag issued with Random ID: select, GetVersion shows no UID. */
static bool hides_uid(struct bench *b)
{
	struct sectag_ntag_version v;

	tap(b);
	return !sectag_ntag_select_app(b->t) &&
	       !sectag_ntag_get_version(b->t, &v) && zero(v.uid, 7);
}

static void test_random_id(void)
{
	struct sectag_tag_info info;
	uint8_t s[32], s2[32], uid[7], real[7];
	unsigned int fails;
	bool rid = false;
	struct bench b;
	long auths;
	int rc;

	/* A virgin tag with Random ID already on: its factory key 0 tells. */
	bench_init(&b, 9);
	memcpy(real, (const uint8_t[]){ 0x04, 0x5e, 0, 9, 0xa1, 0x2b, 0x80 },
	       7);
	CHECK(sectag_ntag_select_app(b.t) == 0, "select");
	CHECK(sectag_ntag_auth(b.t, 0, factory) == 0, "auth");
	CHECK(sectag_ntag_enable_random_id(b.t) == 0, "random id");
	tap(&b);
	CHECK(sectag_tag_inspect(b.t, issuer_a, &info) == 0, "inspect");
	CHECK(info.random_id && info.state == SECTAG_TAG_VIRGIN, "virgin RID");
	CHECK(!memcmp(info.uid, real, 7), "real UID via GetCardUID");
	tap(&b);
	rc = provision(&b, issuer_a, 0);
	CHECK(rc == 0, "provisioned: %d %s", rc, sectag_issue_strerror(rc));
	CHECK(strstr(progress_log, "Random ID already on"), "said so:\n%s",
	      progress_log);
	CHECK(hides_uid(&b), "still hides its UID");
	tap(&b);
	CHECK(sectag_tag_inspect(b.t, issuer_a, &info) == 0 &&
	      info.state == SECTAG_TAG_ISSUED && info.verified &&
	      info.random_id && info.ident && !memcmp(info.uid, real, 7),
	      "issued, ours, UID found: %s", sectag_tag_state_name(info.state));
	fails = engine_fail_ctr(b.tag);
	tap(&b);
	auths = b.auths;
	rc = sectag_verify_tag(b.t, issuer_a, s, uid, &rid);
	CHECK(rc == 0 && rid && !memcmp(uid, real, 7), "verify: %d", rc);
	CHECK(b.auths - auths == 2, "verify: %ld authentications",
	      b.auths - auths);
	printf("# verifying a Random ID tag: %ld frames, %ld "
	       "authentications\n", b.frames, b.auths - auths);
	CHECK(engine_fail_ctr(b.tag) == fails, "no failed authentication");
	tap(&b);
	CHECK(provision(&b, issuer_a, SECTAG_PROV_RANDOM_ID) == -EEXIST,
	      "already issued");

	/* Another issuer: one identification attempt, refused. */
	tap(&b);
	auths = b.auths;
	rc = sectag_verify(b.t, issuer_b, s2, NULL);
	CHECK(rc == -EKEYREJECTED, "issuer B: %d", rc);
	CHECK(b.auths - auths == 1, "issuer B: %ld authentications",
	      b.auths - auths);
	CHECK(engine_fail_ctr(b.tag) == fails + 1, "counted on this tag");
	tap(&b);
	CHECK(provision(&b, issuer_b, 0) == -EKEYREJECTED, "B may not");
	tap(&b);
	CHECK(sectag_verify(b.t, issuer_a, s2, NULL) == 0 &&
	      !memcmp(s, s2, 32), "A still works");
	bench_fini(&b);
}

static void test_provision_random_id(void)
{
	uint8_t s[32], uid[7];
	struct sectag_tag_info info;
	bool rid = false;
	struct bench b;
	long auths;
	int rc;

	bench_init(&b, 14);
	CHECK(sectag_tag_inspect(b.t, NULL, &info) == 0 && !info.random_id,
	      "shows its UID");
	tap(&b);
	rc = provision(&b, issuer_a, SECTAG_PROV_RANDOM_ID);
	CHECK(rc == 0, "provision --random-id: %d %s", rc,
	      sectag_issue_strerror(rc));
	printf("# provisioning with --random-id: %ld frames\n", b.frames);
	CHECK(strstr(progress_log, "enabling Random ID"), "said so:\n%s",
	      progress_log);
	CHECK(hides_uid(&b), "hides its UID from the next tap on");
	tap(&b);
	auths = b.auths;
	rc = sectag_verify_tag(b.t, issuer_a, s, uid, &rid);
	CHECK(rc == 0 && rid && !memcmp(uid, info.uid, 7), "verify: %d", rc);
	CHECK(b.auths - auths == 2, "%ld authentications", b.auths - auths);
	CHECK(engine_fail_ctr(b.tag) == 0, "no failed authentication");
	bench_fini(&b);
}

static void test_cut_every_frame_random_id(void)
{
	cut_everywhere(SECTAG_PROV_RANDOM_ID);
}

/*
 * Tags of the old scheme (K4 a per-tag key at version 1) stay issued
 * and usable by UID; a partial one is finished with the new K4.
 */
static void test_old_scheme(void)
{
	struct sectag_tag_info info;
	uint8_t k0[16], k4[16], id[16], s[32];
	struct bench b;
	int rc;

	bench_init(&b, 15);
	CHECK(provision(&b, issuer_a, 0) == 0, "provision");
	tap(&b);
	CHECK(sectag_tag_inspect(b.t, NULL, &info) == 0, "inspect");
	sectag_tag_key(issuer_a, info.uid, 0, k0);
	sectag_tag_key(issuer_a, info.uid, 4, k4);
	sectag_ident_key(issuer_a, id);
	CHECK(sectag_ntag_auth(b.t, 0, k0) == 0 &&
	      sectag_ntag_change_key(b.t, 4, id, k4, 1) == 0,
	      "back to the old K4");
	tap(&b);
	CHECK(sectag_tag_inspect(b.t, issuer_a, &info) == 0 &&
	      info.state == SECTAG_TAG_ISSUED && info.verified && !info.ident,
	      "old scheme: issued, ours");
	tap(&b);
	CHECK(sectag_verify(b.t, issuer_a, s, NULL) == 0, "verifies");
	tap(&b);
	CHECK(provision(&b, issuer_a, SECTAG_PROV_RANDOM_ID) == -EEXIST,
	      "no Random ID afterwards");
	bench_fini(&b);

	/* Interrupted by the old code after K4: the new code finishes it. */
	bench_init(&b, 16);
	CHECK(sectag_tag_inspect(b.t, NULL, &info) == 0, "inspect");
	sectag_tag_key(issuer_a, info.uid, 4, k4);
	CHECK(sectag_ntag_auth(b.t, 0, factory) == 0 &&
	      sectag_ntag_change_key(b.t, 4, factory, k4, 1) == 0,
	      "old partial");
	tap(&b);
	rc = provision(&b, issuer_a, 0);
	CHECK(rc == 0, "resumed: %d", rc);
	CHECK(strstr(progress_log, "key 4 is a per-tag key"), "said so:\n%s",
	      progress_log);
	tap(&b);
	CHECK(sectag_tag_inspect(b.t, issuer_a, &info) == 0 && info.ident &&
	      info.state == SECTAG_TAG_ISSUED && info.verified, "new K4");
	bench_fini(&b);
}

/* ---------------------------------------------------------------------- */
/* The agent's tap: budget, identification, counters                       */

#define NTAGS	20

/* A tap as the agent makes it: through the budgeted transport. */
struct agent_tap {
	struct sectag_tap_budget budget;
	struct sectag_tap_result res;
	int rc;
	long auths;		/* seen by the tag's side */
};

static void agent_tap(struct bench *b, const struct sectag_store *st,
		      struct agent_tap *at)
{
	struct sectag_ntag *t;
	uint8_t share[32];
	long auths;

	tap(b);
	auths = b->auths;
	sectag_tap_budget_init(&at->budget, bench_xfer, b, NULL, 60000);
	if (sectag_ntag_new(&t, sectag_tap_budget_xfer, &at->budget))
		abort();
	at->rc = sectag_tap_authenticate(t, st, share, &at->res);
	sectag_ntag_free(t);
	at->auths = b->auths - auths;
}

/* One binding per tag, tag 0 with 40 (any number per tag). */
static void store_of(struct sectag_store *st, struct bench *tags, int n,
		     const uint8_t *issuer, bool ident, uint8_t (*uids)[7])
{
	struct sectag_binding bd = { .kind = SECTAG_BIND_NAME, .keyslot = -1,
				     .token = -1 };
	struct sectag_tag_info info;
	uint8_t id[16];
	int i, j;

	memset(st, 0, sizeof(*st));
	st->next_id = 1;
	for (i = 0; i < n; i++) {
		tap(&tags[i]);
		if (sectag_tag_inspect(tags[i].t, issuer, &info) ||
		    zero(info.uid, 7))
			abort();
		memcpy(bd.uid, info.uid, 7);
		memcpy(uids[i], info.uid, 7);
		sectag_tag_key(issuer, info.uid, 2, bd.read_key);
		for (j = 0; j < (i ? 1 : 40); j++) {
			snprintf(bd.target, sizeof(bd.target), "t%d.%d", i, j);
			if (sectag_store_add(st, &bd, NULL))
				abort();
		}
	}
	if (ident) {
		sectag_ident_key(issuer, id);
		sectag_store_set_ident(st, id);
	}
}

static void test_tap_random_id_tags(void)
{
	static struct bench tags[NTAGS], foreign;
	uint8_t uids[NTAGS][7];
	struct sectag_store st;
	struct agent_tap at;
	unsigned int fails[NTAGS];
	uint64_t r = 0x1234567;
	int i, k, bad = 0, maxa = 0;
	long taps = 0;

	for (i = 0; i < NTAGS; i++) {
		bench_init(&tags[i], 100 + (unsigned int)i);
		CHECK(provision(&tags[i], issuer_a, SECTAG_PROV_RANDOM_ID) == 0,
		      "provision %d", i);
	}
	bench_init(&foreign, 140);
	CHECK(provision(&foreign, issuer_b, SECTAG_PROV_RANDOM_ID) == 0,
	      "foreign");
	store_of(&st, tags, NTAGS, issuer_a, true, uids);
	for (i = 0; i < NTAGS; i++)
		fails[i] = engine_fail_ctr(tags[i].tag);

	/* Each tag: found with exactly two authentications. */
	for (i = 0; i < NTAGS; i++) {
		agent_tap(&tags[i], &st, &at);
		CHECK(at.rc == 0 && at.res.random_id && at.res.identified,
		      "tag %d: %d %s", i, at.rc, at.res.why);
		CHECK(at.rc || !memcmp(st.b[at.res.binding].uid, uids[i], 7),
		      "tag %d: its own binding", i);
		CHECK(at.auths == 2 && at.res.auths == 2 &&
		      at.budget.auths == 2, "tag %d: %ld authentications", i,
		      at.auths);
	}
	/* 1000 taps: genuine tags, the foreign tag, nothing else. */
	for (k = 0; k < 1000; k++) {
		r = r * 6364136223846793005ULL + 1442695040888963407ULL;
		i = (int)((r >> 33) % (NTAGS + 1));
		agent_tap(i < NTAGS ? &tags[i] : &foreign, &st, &at);
		taps++;
		maxa = at.auths > maxa ? (int)at.auths : maxa;
		if (i < NTAGS)
			bad += at.rc != 0 || at.auths != 2 ||
			       memcmp(st.b[at.res.binding].uid, uids[i], 7);
		else
			bad += at.rc != -EKEYREJECTED || at.auths != 1;
	}
	CHECK(bad == 0, "%d taps went wrong", bad);
	CHECK(maxa <= 2, "at most two authentications: %d", maxa);
	for (i = 0; i < NTAGS; i++)
		CHECK(engine_fail_ctr(tags[i].tag) == fails[i],
		      "tag %d: failed authentications %u -> %u", i, fails[i],
		      engine_fail_ctr(tags[i].tag));
	printf("# %ld taps of %d Random ID tags and a foreign one: at most %d "
	       "authentications, genuine fail counters unchanged, the "
	       "foreign tag's at %u\n", taps, NTAGS, maxa,
	       engine_fail_ctr(foreign.tag));
	sectag_store_free(&st);
	for (i = 0; i < NTAGS; i++)
		bench_fini(&tags[i]);
	bench_fini(&foreign);
}

/* Tags showing their UID: one authentication, clones cost only themselves. */
static void test_tap_plain_tags(void)
{
	static struct bench tags[3], clone, rid;
	uint8_t uids[3][7], k4[16];
	struct sectag_store st;
	struct agent_tap at;
	int i;

	for (i = 0; i < 3; i++) {
		bench_init(&tags[i], 150 + (unsigned int)i);
		CHECK(provision(&tags[i], issuer_a, 0) == 0, "provision");
	}
	store_of(&st, tags, 3, issuer_a, false, uids);
	for (i = 0; i < 3; i++) {
		agent_tap(&tags[i], &st, &at);
		CHECK(at.rc == 0 && !at.res.random_id && at.auths == 1 &&
		      !memcmp(st.b[at.res.binding].uid, uids[i], 7),
		      "tag %d: %d, %ld authentications", i, at.rc, at.auths);
	}
	/* A clone of tag 1's UID, issued with another key. */
	bench_init(&clone, 151);
	CHECK(provision(&clone, issuer_b, 0) == 0, "clone");
	agent_tap(&clone, &st, &at);
	CHECK(at.rc == -EKEYREJECTED && at.auths == 1, "clone: %d, %ld",
	      at.rc, at.auths);
	for (i = 0; i < 3; i++)
		CHECK(engine_fail_ctr(tags[i].tag) == 0, "tag %d untouched", i);
	CHECK(engine_fail_ctr(clone.tag) == 1, "the clone's own counter");

	/* A Random ID tap, no identification key in the store: none. */
	bench_init(&rid, 160);
	CHECK(provision(&rid, issuer_a, SECTAG_PROV_RANDOM_ID) == 0, "rid");
	agent_tap(&rid, &st, &at);
	CHECK(at.rc == -ENOKEY && at.auths == 0, "no key: %d, %ld", at.rc,
	      at.auths);
	/* With the key but not enrolled: identified, nothing more. */
	sectag_ident_key(issuer_a, k4);
	sectag_store_set_ident(&st, k4);
	agent_tap(&rid, &st, &at);
	CHECK(at.rc == -ENOENT && at.auths == 1 && at.res.identified,
	      "not enrolled: %d, %ld", at.rc, at.auths);
	CHECK(engine_fail_ctr(rid.tag) == 0, "no failure");
	sectag_store_free(&st);
	for (i = 0; i < 3; i++)
		bench_fini(&tags[i]);
	bench_fini(&clone);
	bench_fini(&rid);
}

/*
 * A device in the field that is no tag of ours: a phone emulating the
 * application, claiming an all-zero UID and answering whatever it likes.
 */
struct impostor {
	int mode;		/* 0: refuses auth part 2; 1: chains forever */
	int delay_ms;		/* answer time */
	int timeout_ms;		/* the link's per-frame timeout (budget sets) */
	long frames, auths;
	uint64_t rng;
};

static void sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

static int impostor_xfer(void *ctx, const uint8_t *c, size_t clen,
			 uint8_t *r, size_t rsize, size_t *rlen)
{
	static const uint8_t hw[] = { 4, 4, 2, 0x30, 0, 0x11, 5, 0x91, 0xaf };
	struct impostor *im = ctx;
	size_t n = 0, i;

	(void)rsize;
	im->frames++;
	if (im->delay_ms > im->timeout_ms) {
		sleep_ms(im->timeout_ms);
		return -ETIMEDOUT;
	}
	sleep_ms(im->delay_ms);
	if (clen >= 2 && c[0] == 0x90 && c[1] == 0x71)
		im->auths++;
	if (im->mode == 1) {			/* "more data" forever */
		memcpy(r, hw, sizeof(hw));
		*rlen = sizeof(hw);
		return 0;
	}
	if (c[0] == 0x00) {			/* ISOSelectFile */
		r[n++] = 0x90;
		r[n++] = 0x00;
	} else if (c[1] == 0x60 || (c[1] == 0xaf && clen == 5)) {
		if (c[1] == 0x60 || im->frames < 4) {
			memcpy(r, hw, sizeof(hw));
			n = sizeof(hw);
		} else {		/* part 3: UID all zero */
			memset(r, 0, 14);
			r[14] = 0x91;
			r[15] = 0x00;
			n = 16;
		}
	} else if (c[1] == 0x71) {		/* E(K, RndB): noise */
		for (i = 0; i < 16; i++) {
			im->rng = im->rng * 6364136223846793005ULL + 1;
			r[i] = (uint8_t)(im->rng >> 56);
		}
		r[16] = 0x91;
		r[17] = 0xaf;
		n = 18;
	} else {
		r[n++] = 0x91;
		r[n++] = 0xae;
	}
	*rlen = n;
	return 0;
}

static int64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* One tap of an impostor through the agent's budget; its time in ms. */
static long impostor_tap(struct impostor *im, const struct sectag_store *st,
			 unsigned int budget_ms, int *rc,
			 struct sectag_tap_budget *bud)
{
	struct sectag_tap_result res;
	struct sectag_ntag *t;
	uint8_t share[32];
	int64_t t0 = mono_ms();

	sectag_tap_budget_init(bud, impostor_xfer, im, &im->timeout_ms,
			       budget_ms);
	if (sectag_ntag_new(&t, sectag_tap_budget_xfer, bud))
		abort();
	*rc = sectag_tap_authenticate(t, st, share, &res);
	sectag_ntag_free(t);
	return (long)(mono_ms() - t0);
}

static void test_tap_zero_uid_impostor(void)
{
	static struct bench tags[2];
	struct impostor im = { .timeout_ms = 100, .rng = 7 };
	struct sectag_tap_budget bud;
	struct sectag_store st;
	uint8_t uids[2][7];
	long ms;
	int rc, i;

	for (i = 0; i < 2; i++) {
		bench_init(&tags[i], 170 + (unsigned int)i);
		CHECK(provision(&tags[i], issuer_a, SECTAG_PROV_RANDOM_ID) == 0,
		      "provision");
	}
	store_of(&st, tags, 2, issuer_a, true, uids);

	/* Answers at once: one authentication, refused. */
	ms = impostor_tap(&im, &st, 400, &rc, &bud);
	CHECK(rc == -EKEYREJECTED || rc == -EBADMSG, "refused: %d", rc);
	CHECK(im.auths == 1 && bud.auths == 1, "%ld authentications",
	      im.auths);
	printf("# all-zero-UID impostor: %ld frames, %ld authentication, "
	       "%ld ms\n", im.frames, im.auths, ms);

	/* Chains GetVersion forever: stopped by the frame budget. */
	im = (struct impostor){ .mode = 1, .timeout_ms = 100 };
	impostor_tap(&im, &st, 400, &rc, &bud);
	CHECK(rc != 0 && im.frames <= SECTAG_TAP_MAX_FRAMES,
	      "endless chaining: %d after %ld frames", rc, im.frames);

	/* Slow answers (80 ms of a 100 ms timeout): the time budget. */
	im = (struct impostor){ .delay_ms = 80, .timeout_ms = 100 };
	ms = impostor_tap(&im, &st, 400, &rc, &bud);
	CHECK(rc == -ETIMEDOUT, "slow: %d", rc);
	CHECK(ms < 400 + 100, "slow: stopped after %ld ms (budget 400)", ms);
	CHECK(im.auths <= 1, "slow: %ld authentications", im.auths);
	printf("# slow impostor (80 ms a frame): stopped after %ld ms, %ld "
	       "frames\n", ms, im.frames);

	/* Silent: each frame times out, the tap within the budget. */
	im = (struct impostor){ .delay_ms = 1000, .timeout_ms = 100 };
	ms = impostor_tap(&im, &st, 400, &rc, &bud);
	CHECK(rc == -ETIMEDOUT && ms < 400 + 100, "silent: %d, %ld ms", rc,
	      ms);
	for (i = 0; i < 2; i++)
		CHECK(engine_fail_ctr(tags[i].tag) == 0, "tag %d untouched", i);
	sectag_store_free(&st);
	for (i = 0; i < 2; i++)
		bench_fini(&tags[i]);
}

/* The budget itself: a third authentication is never sent. */
static void test_budget_caps_auths(void)
{
	struct sectag_tap_budget bud;
	struct sectag_ntag *t;
	struct bench b;
	int rc;

	bench_init(&b, 180);
	sectag_tap_budget_init(&bud, bench_xfer, &b, NULL, 60000);
	if (sectag_ntag_new(&t, sectag_tap_budget_xfer, &bud))
		abort();
	CHECK(sectag_ntag_select_app(t) == 0, "select");
	CHECK(sectag_ntag_auth(t, 0, factory) == 0, "first");
	CHECK(sectag_ntag_auth(t, 0, factory) == 0, "second");
	rc = sectag_ntag_auth(t, 0, factory);
	CHECK(rc == -EDQUOT, "third: %d", rc);
	CHECK(b.auths == 2, "the tag saw %ld", b.auths);
	sectag_ntag_free(t);
	bench_fini(&b);
}

static void test_foreign(void)
{
	const uint8_t k[16] = { 1, 2, 3 };
	struct sectag_tag_info info;
	struct bench b;
	int rc;

	/* Someone else's scheme: key 0 at version 2. */
	bench_init(&b, 10);
	CHECK(sectag_ntag_select_app(b.t) == 0 &&
	      sectag_ntag_auth(b.t, 0, factory) == 0 &&
	      sectag_ntag_change_key(b.t, 0, NULL, k, 2) == 0, "set up");
	tap(&b);
	CHECK(sectag_tag_inspect(b.t, issuer_a, &info) == 0 &&
	      info.state == SECTAG_TAG_FOREIGN, "foreign");
	tap(&b);
	CHECK(provision(&b, issuer_a, false) == -EKEYREJECTED, "refused");
	bench_fini(&b);

	/* Key 1 changed behind a version 0: found out, key 0 untouched. */
	bench_init(&b, 11);
	CHECK(sectag_ntag_select_app(b.t) == 0 &&
	      sectag_ntag_auth(b.t, 0, factory) == 0 &&
	      sectag_ntag_change_key(b.t, 1, factory, k, 0) == 0, "set up");
	tap(&b);
	rc = provision(&b, issuer_a, false);
	CHECK(rc == -EKEYREJECTED, "refused at key 1: %d", rc);
	tap(&b);
	CHECK(sectag_ntag_select_app(b.t) == 0 &&
	      sectag_ntag_auth(b.t, 0, factory) == 0, "key 0 still factory");
	bench_fini(&b);

	/* File 3 readable by anyone: no secret goes there. */
	bench_init(&b, 12);
	{
		struct sectag_ntag_file f = { .mode = SECTAG_NTAG_FULL,
					      .read = 0xE, .write = 3,
					      .read_write = 3, .change = 0 };

		CHECK(sectag_ntag_select_app(b.t) == 0 &&
		      sectag_ntag_auth(b.t, 0, factory) == 0 &&
		      sectag_ntag_change_file_settings(b.t, 3, &f) == 0,
		      "set up");
	}
	tap(&b);
	CHECK(provision(&b, issuer_a, false) == -EKEYREJECTED, "refused");
	CHECK(!strstr(progress_log, "writing"), "no secret written");
	bench_fini(&b);
}

/* A card without the NTAG 424 application. */
static int other_card(void *ctx, const uint8_t *c, size_t clen, uint8_t *r,
		      size_t rsize, size_t *rlen)
{
	(void)ctx;
	(void)c;
	(void)clen;
	(void)rsize;
	r[0] = 0x6a;
	r[1] = 0x82;
	*rlen = 2;
	return 0;
}

static void test_not_an_ntag(void)
{
	struct sectag_tag_info info;
	struct sectag_ntag *t;
	uint8_t s[32];

	if (sectag_ntag_new(&t, other_card, NULL))
		abort();
	CHECK(sectag_tag_inspect(t, NULL, &info) == -EMEDIUMTYPE, "inspect");
	CHECK(sectag_provision(t, issuer_a, false, NULL, NULL) == -EMEDIUMTYPE,
	      "provision");
	CHECK(sectag_verify(t, issuer_a, s, NULL) == -EMEDIUMTYPE, "verify");
	sectag_ntag_free(t);
}

/*
 * Garbled answers: never a crash (ASan/UBSan watch), never a wrong
 * secret reported as genuine, and a clean run afterwards always finishes
 * the tag, whatever the garbage made the first run do.
 */
static void test_fuzz_answers(void)
{
	struct sectag_tag_info info;
	uint8_t s[32], truth[32];
	long mangled = 0, ok = 0, i;
	struct bench b;
	int rc;

	for (i = 0; i < 600; i++) {
		bench_init(&b, 1000 + (unsigned int)i);
		b.rng = 0x9E3779B97F4A7C15ULL * (uint64_t)(i + 1);
		b.rate = 2 + (unsigned int)(i % 12);
		rc = provision(&b, issuer_a, (unsigned int)i & 3);
		ok += rc == 0;
		sectag_tag_inspect(b.t, issuer_a, &info);
		mangled += b.mangled;

		b.rng = 0;
		tap(&b);
		rc = provision(&b, issuer_a, (unsigned int)i & 3);
		CHECK(rc == 0 || rc == -EEXIST, "run %ld: clean rerun %d %s",
		      i, rc, sectag_issue_strerror(rc));
		tap(&b);
		CHECK(sectag_verify(b.t, issuer_a, truth, NULL) == 0,
		      "run %ld: verify", i);

		b.rng = 0xD1B54A32D192ED03ULL * (uint64_t)(i + 7);
		b.rate = 1 + (unsigned int)(i % 5);
		tap(&b);
		rc = sectag_verify(b.t, issuer_a, s, NULL);
		CHECK(rc != 0 || !memcmp(s, truth, 32),
		      "run %ld: garbage passed as genuine", i);
		tap(&b);
		rc = sectag_verify(b.t, issuer_b, s, NULL);
		CHECK(rc != 0, "run %ld: wrong key passed", i);
		mangled += b.mangled;
		bench_fini(&b);
	}
	printf("# %ld answers mangled; %ld fuzzed provisionings still "
	       "succeeded\n", mangled, ok);
}

/* Every answer is noise. */
static void test_pure_garbage(void)
{
	struct sectag_tag_info info;
	uint8_t s[32];
	struct bench b;
	int i;

	bench_init(&b, 2000);
	for (i = 0; i < 3000; i++) {
		b.rng = 0xA0761D6478BD642FULL + (uint64_t)i;
		b.rate = 1;
		tap(&b);
		CHECK(sectag_verify(b.t, issuer_a, s, NULL) != 0, "verify %d", i);
		tap(&b);
		sectag_tag_inspect(b.t, issuer_a, &info);
		tap(&b);
		CHECK(provision(&b, issuer_a, false) != 0, "provision %d", i);
	}
	bench_fini(&b);
}

int main(void)
{
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/test_issue.XXXXXX");
	if (!mkdtemp(tmpdir)) {
		perror("mkdtemp");
		return 1;
	}
	run_case("issuer key file: keygen, load, no overwrite, 0600",
		 test_keyfile_roundtrip);
	run_case("issuer key file: permissions and format refused",
		 test_keyfile_rejects);
	run_case("key hierarchy: AN10922 per tag, per key, per issuer",
		 test_key_hierarchy);
	run_case("state of a virgin tag", test_virgin_state);
	run_case("provision a virgin tag, verify it", test_provision_and_verify);
	run_case("wrong issuer key fails cleanly", test_wrong_issuer_key);
	run_case("second provision refused (-EEXIST)",
		 test_second_provision_refused);
	run_case("verify of a virgin tag: not issued", test_verify_not_issued);
	run_case("--lock: file settings can never change again", test_lock);
	run_case("--lock is not fooled by a forged plain answer",
		 test_lock_not_faked);
	run_case("interrupted at every frame, then resumed",
		 test_cut_every_frame);
	run_case("interrupted at every frame with --lock, then resumed",
		 test_cut_every_frame_lock);
	run_case("interrupted twice at every pair of frames", test_cut_twice);
	run_case("resuming with another issuer key refused",
		 test_resume_other_key_refused);
	run_case("identification key: CMAC(issuer, 02 || label)",
		 test_ident_key);
	run_case("Random ID tag issued, verified with two authentications",
		 test_random_id);
	run_case("provision --random-id", test_provision_random_id);
	run_case("--random-id interrupted at every frame, then resumed",
		 test_cut_every_frame_random_id);
	run_case("old-scheme tags (per-tag K4) stay usable",
		 test_old_scheme);
	run_case("agent tap: 20 Random ID tags, 1000 taps, 2 authentications, "
		 "no foreign failure counted", test_tap_random_id_tags);
	run_case("agent tap: tags with a UID, clones, no identification key",
		 test_tap_plain_tags);
	run_case("agent tap: all-zero-UID impostor costs one bounded attempt",
		 test_tap_zero_uid_impostor);
	run_case("tap budget: a third authentication is never sent",
		 test_budget_caps_auths);
	run_case("tags personalised by someone else refused", test_foreign);
	run_case("not an NTAG 424 DNA", test_not_an_ntag);
	run_case("garbled answers: no crash, no false genuine",
		 test_fuzz_answers);
	run_case("pure garbage answers", test_pure_garbage);
	rmdir(tmpdir);
	return tap_done() ? 1 : 0;
}
