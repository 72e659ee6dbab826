// SPDX-License-Identifier: GPL-2.0
/*
 * Scale benchmark, run in the VM: READERS virtual readers with TAGS tags
 * each, every tag issued and enrolled (a "name" binding: a logon key), and
 * sectagd watching them all. Each round places one tag on every reader at
 * once (back to back, as fast as netlink takes them), waits until the
 * agent released every key, checks the keys are in root's keyring, lifts
 * the tags and waits until every reader polls again. TAGS rounds: every
 * tag is tapped once.
 *
 * Latency is place -> key released, taken from the agent's own log line
 * "binding N (...): released", which it writes right after the key went
 * into the keyring: its stderr is a pipe to us, and we sleep in poll() on
 * it, so measuring costs the agent nothing (no keyring polling).
 *
 *   bench_scale READERS TAGS ISSUER_KEY STORE -- SECTAGD ARGS...
 *
 * Prints "handled H/E", latency percentiles and the agent's memory.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <keyutils.h>
#include <linux/nfc.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "bench.h"
#include "issue.h"
#include "nfc.h"
#include "ntag424.h"
#include "sim.h"
#include "store.h"

#define ROUND_TIMEOUT	60.0	/* s: a tap not handled by then is lost */
#define POLL_TIMEOUT	20.0	/* s: readers polling again after a round */

struct slot {
	uint32_t tag;		/* sim tag id */
	uint32_t binding;	/* store binding id */
	char desc[192];		/* its key description */
};

struct bench {
	struct sectag_sim *sim;
	struct sectag_nfc *nfc;
	uint8_t issuer[16];
	int nr, nt;
	struct sectag_sim_reader *rd;	/* [nr] */
	struct slot *s;			/* [nr * nt], reader-major */
	pid_t agent;
	int log_fd;
	char buf[8192];
	size_t len;
};

static struct slot *slot(struct bench *b, int r, int t)
{
	return &b->s[r * b->nt + t];
}

/*
 * Connect to the tag on reader @r: a listed target if it can still be
 * activated, else (renumbered, or deactivated by the last session) a new
 * poll's.
 */
static int connect_on(struct bench *b, int r)
{
	struct sectag_nfc_target tg;
	uint32_t idx = b->rd[r].nfc_index, min = 0;
	int tries, fd, rc;

	for (tries = 0; tries < 4; tries++) {
		rc = sectag_nfc_start_poll(b->nfc, idx,
					   NFC_PROTO_ISO14443_MASK);
		if (rc && rc != -EBUSY)
			return rc;
		rc = sectag_nfc_wait_new_target(b->nfc, idx, min, 3000, &tg);
		if (rc)
			return rc;
		fd = sectag_nfc_connect(idx, tg.idx);
		if (fd >= 0 || (fd != -EINVAL && fd != -ENODEV &&
				fd != -ENOTCONN && fd != -EBUSY))
			return fd;
		min = tg.idx + 1;
	}
	return -EAGAIN;
}

/* One session with the tag on reader @r: provision it, or read it. */
static int session(struct bench *b, int r, uint8_t *share, uint8_t *uid)
{
	struct sectag_nfc_link link = { -1, 2000 };
	struct sectag_ntag *tag = NULL;
	int rc;

	link.fd = connect_on(b, r);
	if (link.fd < 0)
		return link.fd;
	rc = sectag_ntag_new(&tag, sectag_nfc_link_xfer, &link);
	if (!rc && !share)
		rc = sectag_provision(tag, b->issuer, 0, NULL, NULL);
	if (!rc && share)
		rc = sectag_verify(tag, b->issuer, share, uid);
	sectag_ntag_free(tag);
	close(link.fd);
	return rc;
}

/*
 * Issue the tag lying on reader @r and enrol it as binding "bench-r-t",
 * as sectag provision and sectag enroll would (two sessions).
 */
static int issue_one(struct bench *b, struct sectag_store *st, int r, int t)
{
	struct sectag_binding bd = { .kind = SECTAG_BIND_NAME, .keyslot = -1,
				     .token = -1 };
	uint8_t share[32];
	int rc;

	rc = session(b, r, NULL, NULL);
	if (rc == -EEXIST)	/* issued by an attempt that failed later */
		rc = 0;
	if (!rc)
		rc = session(b, r, share, bd.uid);
	OPENSSL_cleanse(share, sizeof(share));
	if (!rc)
		rc = sectag_tag_key(b->issuer, bd.uid, SECTAG_KEY_READ,
				    bd.read_key);
	if (!rc && RAND_bytes(bd.host_secret, 32) != 1)
		rc = -EIO;
	snprintf(bd.target, sizeof(bd.target), "bench-%d-%d", r, t);
	if (!rc)
		rc = sectag_store_add(st, &bd, &slot(b, r, t)->binding);
	if (!rc)
		rc = sectag_binding_key_desc(&bd, slot(b, r, t)->desc,
					     sizeof(slot(b, r, t)->desc));
	OPENSSL_cleanse(&bd, sizeof(bd));
	return rc;
}

static int make_readers(struct bench *b)
{
	int r, rc;

	for (r = 0; r < b->nr; r++) {
		rc = sectag_sim_reader_add(b->sim, 0, &b->rd[r]);
		if (!rc)
			rc = sectag_nfc_dev_up(b->nfc, b->rd[r].nfc_index);
		if (rc && rc != -EALREADY) {
			fprintf(stderr, "reader %d: %s\n", r, strerror(-rc));
			return rc;
		}
	}
	return 0;
}

/* Every tag made, issued on its own reader and enrolled; one store save. */
static int setup(struct bench *b, const char *store)
{
	struct sectag_store st = { 0 };
	struct sectag_sim_tag tg;
	int r, t, rc, tries;

	rc = sectag_store_load(store, &st);	/* missing: empty */
	if (!rc)
		rc = make_readers(b);
	for (t = 0; !rc && t < b->nt; t++) {
		for (r = 0; !rc && r < b->nr; r++) {
			rc = sectag_sim_tag_add(b->sim, NFC_SECTAG_PROFILE_NTAG424,
						NULL, 0, &tg);
			if (!rc) {
				slot(b, r, t)->tag = tg.id;
				rc = sectag_sim_tag_place(b->sim, tg.id,
							  b->rd[r].id);
			}
			/* Provisioning resumes where a lost frame stopped it. */
			for (tries = 0; !rc && tries < 3; tries++) {
				rc = issue_one(b, &st, r, t);
				if (rc && tries < 2) {
					fprintf(stderr, "# tag %d/%d: %s, "
						"again\n", r, t,
						sectag_issue_strerror(rc));
					rc = 0;
				} else {
					break;
				}
			}
			sectag_sim_tag_remove(b->sim, tg.id);
			if (rc)
				fprintf(stderr, "tag %d/%d: %d %s\n", r, t, rc,
					sectag_issue_strerror(rc));
		}
	}
	if (!rc)
		rc = sectag_store_save(store, &st);
	sectag_store_free(&st);
	return rc;
}

static int spawn_agent(struct bench *b, char **argv)
{
	int p[2];

	if (pipe(p))
		return -errno;
	b->agent = fork();
	if (b->agent < 0)
		return -errno;
	if (!b->agent) {
		dup2(p[1], 2);
		close(p[0]);
		close(p[1]);
		execv(argv[0], argv);
		_exit(127);
	}
	close(p[1]);
	b->log_fd = p[0];
	return 0;
}

/*
 * The next line of the agent's log, and when it arrived; NULL when
 * @deadline passed or the agent's stderr closed.
 */
static char *next_line(struct bench *b, double deadline, double *when)
{
	static char line[sizeof(b->buf)];
	struct pollfd pfd = { .fd = b->log_fd, .events = POLLIN };
	char *nl;
	ssize_t n;
	int left;

	for (;;) {
		nl = memchr(b->buf, '\n', b->len);
		if (nl) {
			*nl = 0;
			memcpy(line, b->buf, nl - b->buf + 1);
			b->len -= nl - b->buf + 1;
			memmove(b->buf, nl + 1, b->len);
			return line;
		}
		left = (int)((deadline - bench_now()) * 1000);
		if (left <= 0 || b->len == sizeof(b->buf))
			return NULL;
		if (poll(&pfd, 1, left) <= 0)
			continue;
		n = read(b->log_fd, b->buf + b->len, sizeof(b->buf) - b->len);
		if (n <= 0)
			return NULL;
		*when = bench_now();
		b->len += n;
	}
}

/* Binding @id's reader, or -1 if not of round @t. */
static int reader_of(struct bench *b, int t, unsigned int id)
{
	int r;

	for (r = 0; r < b->nr; r++)
		if (slot(b, r, t)->binding == id)
			return r;
	return -1;
}

static bool all_polling(struct bench *b)
{
	struct sectag_sim_reader x;
	int r;

	for (r = 0; r < b->nr; r++)
		if (sectag_sim_reader_get(b->sim, b->rd[r].id, &x) ||
		    !x.polling)
			return false;
	return true;
}

static bool wait_polling(struct bench *b, double timeout)
{
	double end = bench_now() + timeout;

	while (!all_polling(b)) {
		if (bench_now() > end)
			return false;
		usleep(5000);
	}
	return true;
}

/* What the agent said that is not routine: worth showing once. */
static void odd_line(const char *line, int *shown)
{
	if (!strstr(line, "refused") && !strstr(line, "cannot") &&
	    !strstr(line, "lost") && !strstr(line, "out of"))
		return;
	if ((*shown)++ < 5)
		printf("# agent: %s\n", line);
}

/*
 * One round: tag @t on every reader. Latencies of handled taps go to
 * @lat; returns how many taps were handled (key released and visible).
 */
static int round_once(struct bench *b, int t, double *lat, int *odd)
{
	double *placed = calloc(b->nr, sizeof(double)), end, when = 0;
	int r, got = 0, handled = 0;
	unsigned int id;
	char *line, *p;
	long k;

	for (r = 0; r < b->nr && placed; r++) {
		placed[r] = bench_now();
		if (sectag_sim_tag_place(b->sim, slot(b, r, t)->tag,
					 b->rd[r].id))
			placed[r] = -1;
	}
	end = bench_now() + ROUND_TIMEOUT;
	while (placed && got < b->nr && (line = next_line(b, end, &when))) {
		odd_line(line, odd);
		p = strstr(line, "binding ");
		if (!p || !strstr(p, ": released") ||
		    sscanf(p, "binding %u (", &id) != 1)
			continue;
		r = reader_of(b, t, id);
		if (r < 0 || placed[r] < 0)
			continue;
		lat[r] = when - placed[r];
		placed[r] = -1;
		got++;
	}
	for (r = 0; r < b->nr; r++) {
		k = keyctl_search(KEY_SPEC_USER_KEYRING, "logon",
				  slot(b, r, t)->desc, 0);
		if (k > 0 && placed && placed[r] < 0 && lat[r] > 0)
			handled++;
		if (k > 0)
			keyctl_invalidate(k);
		sectag_sim_tag_remove(b->sim, slot(b, r, t)->tag);
	}
	free(placed);
	return handled;
}

static void agent_memory(pid_t pid, const char *when)
{
	char path[64], line[128];
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	f = fopen(path, "r");
	if (!f)
		return;
	printf("agent memory %s:", when);
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, "VmRSS:", 6) || !strncmp(line, "VmHWM:", 6))
			printf(" %.*s", (int)strcspn(line, "\n"), line);
	printf("\n");
	fclose(f);
}

static int run(struct bench *b)
{
	double *all = calloc((size_t)b->nr * b->nt, sizeof(double));
	double *lat = calloc(b->nr, sizeof(double)), t0, wall;
	int t, r, n = 0, odd = 0, handled = 0;

	if (!all || !lat)
		return 1;
	t0 = bench_now();
	for (t = 0; t < b->nt; t++) {
		if (!wait_polling(b, POLL_TIMEOUT))
			printf("# round %d: some reader does not poll\n", t);
		memset(lat, 0, b->nr * sizeof(double));
		handled += round_once(b, t, lat, &odd);
		for (r = 0; r < b->nr; r++)
			if (lat[r] > 0)
				all[n++] = lat[r];
	}
	wall = bench_now() - t0;
	bench_sort(all, n);
	printf("scale: %d readers x %d tags, %d rounds of %d simultaneous taps "
	       "in %.1f s\n", b->nr, b->nt, b->nt, b->nr, wall);
	printf("scale handled %d/%d\n", handled, b->nr * b->nt);
	if (n)
		printf("scale latency p50 %.1f ms p99 %.1f ms max %.1f ms\n",
		       bench_pct(all, n, 50) * 1e3, bench_pct(all, n, 99) * 1e3,
		       all[n - 1] * 1e3);
	agent_memory(b->agent, "after the scale run");
	free(all);
	free(lat);
	return handled == b->nr * b->nt ? 0 : 1;
}

static int wait_ready(struct bench *b)
{
	double when, end = bench_now() + 20;
	char *line;

	while ((line = next_line(b, end, &when)))
		if (strstr(line, "ready:"))
			return 0;
	return -ETIMEDOUT;
}

int main(int argc, char **argv)
{
	static struct bench b;
	double t0;
	int rc;

	if (argc < 7 || strcmp(argv[5], "--")) {
		fprintf(stderr, "usage: bench_scale READERS TAGS ISSUER_KEY STORE "
			"-- SECTAGD ARGS...\n");
		return 2;
	}
	b.nr = atoi(argv[1]);
	b.nt = atoi(argv[2]);
	if (b.nr < 1 || b.nt < 1 || sectag_issuer_load(argv[3], b.issuer))
		return 2;
	b.rd = calloc(b.nr, sizeof(*b.rd));
	b.s = calloc((size_t)b.nr * b.nt, sizeof(*b.s));
	if (!b.rd || !b.s || sectag_sim_open(&b.sim) || sectag_nfc_open(&b.nfc))
		return 1;
	t0 = bench_now();
	rc = setup(&b, argv[4]);
	if (rc)
		return 1;
	printf("# %d tags issued and enrolled in %.1f s\n", b.nr * b.nt,
	       bench_now() - t0);
	if (spawn_agent(&b, argv + 6) || wait_ready(&b)) {
		fprintf(stderr, "sectagd did not start\n");
		return 1;
	}
	rc = run(&b);
	kill(b.agent, SIGTERM);
	waitpid(b.agent, NULL, 0);
	return rc;
}
