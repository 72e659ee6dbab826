// SPDX-License-Identifier: GPL-2.0
/*
 * Benchmark helper, run in the VM against an emulated, issued tag lying
 * on reader nfcN. Three figures, each the median of ROUNDS:
 *
 *   lib     connect, select, GetVersion, AuthenticateEV2First with K2,
 *           ReadData of the 32-byte secret in Full mode, through
 *           libsectag (every answer checked, session state, wiping);
 *   bare    the same APDUs on a raw AF_NFC socket, with only the
 *           cryptography needed to produce them: the floor any client
 *           pays to the kernel and the tag;
 *   agent   (with --agent DESC) place the tag, wait until sectagd has put
 *           key DESC into root's keyring; or (--volume NAME) until
 *           /dev/mapper/NAME exists.
 *
 *   bench_tap READER_ID NFC_IDX TAG_ID ISSUER_KEY UIDHEX ROUNDS
 *             [--agent DESC | --volume NAME]
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <keyutils.h>
#include <linux/nfc.h>
#include <openssl/rand.h>

#include "issue.h"
#include "nfc.h"
#include "ntag424.h"
#include "ntag424_sm.h"
#include "sim.h"

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
	qsort(v, n, sizeof(*v), cmp);
	return v[n / 2];
}

static int connect_tag(struct sectag_nfc *nfc, uint32_t idx)
{
	struct sectag_nfc_target tg;
	int rc;

	rc = sectag_nfc_wait_target(nfc, idx, 3000, &tg);
	return rc ? rc : sectag_nfc_connect(idx, tg.idx);
}

static int lib_round(int fd, const uint8_t *k2)
{
	struct sectag_nfc_link link = { fd, 2000 };
	struct sectag_ntag_version v;
	struct sectag_ntag *t;
	uint8_t secret[32];
	int rc;

	rc = sectag_ntag_new(&t, sectag_nfc_link_xfer, &link);
	if (!rc)
		rc = sectag_ntag_select_app(t);
	if (!rc)
		rc = sectag_ntag_get_version(t, &v);
	if (!rc)
		rc = sectag_ntag_auth(t, 2, k2);
	if (!rc)
		rc = sectag_ntag_read(t, 3, SECTAG_NTAG_FULL, 0, secret, 32);
	sectag_ntag_free(t);
	return rc;
}

/* One raw exchange: no checks but the status word's presence. */
static size_t raw(int fd, const uint8_t *c, size_t n, uint8_t *r)
{
	uint8_t buf[300];
	ssize_t got;

	if (send(fd, c, n, 0) != (ssize_t)n)
		return 0;
	got = recv(fd, buf, sizeof(buf), 0);
	if (got < 3)
		return 0;
	memcpy(r, buf + 1, got - 1);
	return got - 1;
}

static int bare_round(int fd, const uint8_t *k2)
{
	static const uint8_t sel[] = { 0x00, 0xA4, 0x04, 0x0C, 0x07, 0xD2, 0x76,
				       0x00, 0x00, 0x85, 0x01, 0x01 };
	static const uint8_t gv[] = { 0x90, 0x60, 0, 0, 0 };
	static const uint8_t af[] = { 0x90, 0xAF, 0, 0, 0 };
	static const uint8_t a1[] = { 0x90, 0x71, 0, 0, 2, 2, 0, 0 };
	uint8_t r[300], ra[16], rb[16], a2[38] = { 0x90, 0xAF, 0, 0, 0x20 };
	uint8_t rd[40] = { 0x90, 0xAD, 0, 0, 0x0F, 3, 0, 0, 0, 32, 0, 0 };
	struct sm_session s = { 0 };
	size_t n;

	if (!raw(fd, sel, sizeof(sel), r) || !raw(fd, gv, sizeof(gv), r) ||
	    !raw(fd, af, sizeof(af), r) || !raw(fd, af, sizeof(af), r))
		return -EIO;
	if (raw(fd, a1, sizeof(a1), r) != 18)
		return -EIO;
	RAND_bytes(ra, 16);
	sm_auth_token(k2, r, ra, rb, a2 + 5);
	if (raw(fd, a2, sizeof(a2), r) != 34 ||
	    sm_auth_finish(&s, k2, true, r, ra, rb))
		return -EIO;
	if (sm_wrap(&s, 0xAD, false, rd + 5, 7, 0, sizeof(rd) - 6, &n))
		return -EIO;
	rd[4] = n;
	rd[5 + n] = 0;
	n = raw(fd, rd, 6 + n, r);
	s.ctr++;
	/* 48 bytes of ciphertext, MACt, 91 00: decrypt like any client. */
	return n == 58 && !sm_unwrap(&s, true, r, 56, &n) ? 0 : -EIO;
}

static double one_round(struct sectag_nfc *nfc, uint32_t idx,
			const uint8_t *k2, bool lib)
{
	double t0 = now();
	int fd, rc;

	fd = connect_tag(nfc, idx);
	if (fd < 0)
		return -1;
	rc = lib ? lib_round(fd, k2) : bare_round(fd, k2);
	close(fd);
	if (rc) {
		fprintf(stderr, "%s round: %d\n", lib ? "lib" : "bare", rc);
		return -1;
	}
	return now() - t0;
}

/* Rounds alternate between the two clients, so drift hits both alike. */
static int time_protocol(struct sectag_nfc *nfc, uint32_t idx,
			 const uint8_t *k2, int rounds, double *lib,
			 double *bare)
{
	double *l = calloc(rounds, sizeof(double));
	double *b = calloc(rounds, sizeof(double));
	int i, rc = 0;

	for (i = 0; i < rounds && !rc && l && b; i++) {
		l[i] = one_round(nfc, idx, k2, true);
		b[i] = one_round(nfc, idx, k2, false);
		rc = l[i] < 0 || b[i] < 0;
	}
	if (!rc && l && b) {
		*lib = median(l, rounds);
		*bare = median(b, rounds);
	}
	free(l);
	free(b);
	return rc || !l || !b ? -1 : 0;
}

static bool done(const char *mode, const char *what)
{
	char path[128];

	if (!strcmp(mode, "--agent"))
		return keyctl_search(KEY_SPEC_USER_KEYRING, "user", what, 0) > 0;
	snprintf(path, sizeof(path), "/dev/mapper/%s", what);
	return access(path, F_OK) == 0;
}

static void undo(const char *mode, const char *what)
{
	char cmd[160];
	long k;

	if (!strcmp(mode, "--agent")) {
		k = keyctl_search(KEY_SPEC_USER_KEYRING, "user", what, 0);
		if (k > 0)
			keyctl_invalidate(k);
		return;
	}
	if (!done(mode, what))
		return;
	snprintf(cmd, sizeof(cmd), "cryptsetup close %s", what);
	if (system(cmd))
		fprintf(stderr, "cannot close %s\n", what);
}

static double time_agent(struct sectag_sim *sim, uint32_t reader,
			 uint32_t tag, int rounds, const char *mode,
			 const char *what)
{
	double *v = calloc(rounds, sizeof(double)), t0, m;
	int i;

	for (i = 0; i < rounds; i++) {
		sectag_sim_tag_remove(sim, tag);
		undo(mode, what);
		usleep(50000);
		t0 = now();
		if (sectag_sim_tag_place(sim, tag, reader))
			return -1;
		while (!done(mode, what)) {
			if (now() - t0 > 10)
				return -1;
			usleep(200);
		}
		v[i] = now() - t0;
	}
	sectag_sim_tag_remove(sim, tag);
	undo(mode, what);
	m = median(v, rounds);
	free(v);
	return m;
}

int main(int argc, char **argv)
{
	uint32_t reader, idx, tag;
	struct sectag_nfc *nfc;
	struct sectag_sim *sim;
	double lib = 0, bare = 0, agent;
	uint8_t issuer[16], uid[7], k2[16];
	int rounds, i;

	if (argc != 7 && argc != 9) {
		fprintf(stderr, "usage: bench_tap READER NFC_IDX TAG ISSUER_KEY "
			"UIDHEX ROUNDS [--agent DESC | --volume NAME]\n");
		return 2;
	}
	reader = strtoul(argv[1], NULL, 0);
	idx = strtoul(argv[2], NULL, 0);
	tag = strtoul(argv[3], NULL, 0);
	for (i = 0; i < 7; i++)
		if (sscanf(argv[5] + 2 * i, "%2hhx", &uid[i]) != 1)
			return 2;
	if (sectag_issuer_load(argv[4], issuer) ||
	    sectag_tag_key(issuer, uid, 2, k2))
		return 2;
	rounds = atoi(argv[6]);
	if (rounds < 1 || sectag_nfc_open(&nfc) || sectag_sim_open(&sim))
		return 1;

	if (argc == 7) {
		sectag_sim_tag_remove(sim, tag);
		if (sectag_nfc_dev_up(nfc, idx) == -EBUSY ||
		    sectag_sim_tag_place(sim, tag, reader))
			return 1;
		sectag_nfc_start_poll(nfc, idx, NFC_PROTO_ISO14443_MASK);
		if (time_protocol(nfc, idx, k2, rounds, &lib, &bare))
			return 1;
		printf("verify (connect, select, version, auth, read secret): "
		       "libsectag %.2f ms, bare client %.2f ms, ratio %.2f\n",
		       lib * 1e3, bare * 1e3, lib / bare);
		printf("bare %.6f\n", bare);
		return 0;
	}
	agent = time_agent(sim, reader, tag, rounds, argv[7], argv[8]);
	if (agent < 0)
		return 1;
	printf("%s %.6f\n", argv[7] + 2, agent);
	return 0;
}
