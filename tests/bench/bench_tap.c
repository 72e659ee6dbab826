// SPDX-License-Identifier: GPL-2.0
/*
 * Benchmark helper, run in the VM against an issued tag on one transport.
 * Three figures, each the median of ROUNDS:
 *
 *   lib     connect, select, GetVersion, AuthenticateEV2First with K2,
 *           ReadData of the 32-byte secret in Full mode, through
 *           libsectag (every answer checked, session state, wiping);
 *   bare    the same APDUs from a bare client, with only the cryptography
 *           needed to produce them: the floor any client pays to the
 *           transport and the tag;
 *   baretap a whole tap by that bare client: poll, place the tag, wait
 *           for the target, connect, the bare APDUs -- what the agent's
 *           tap -> key is compared with, discovery included on both sides;
 *   agent   (with --agent DESC) place the tag, wait until sectagd has put
 *           key DESC into root's keyring (with --agent-log, until the
 *           moment its "tap:" debug line says the key went in: when it
 *           was there, not when this process woke up to look); or
 *           (--volume NAME) until /dev/mapper/NAME exists. Before each placement the tag is
 *           lifted and, with --agent-log FILE (the log of an agent run
 *           with --debug), the agent's "tag removed" awaited (readers
 *           without presence checks: the agent notices on its own next
 *           check), then on NFC readers its poll restarting: the tap
 *           starts with the reader polling, as the bare client's does.
 *           With --agent-sock SOCKET as well (NFC readers), every round
 *           is a bare tap, on the reader borrowed from the agent, then
 *           the agent's tap after one more lend (so that both polls
 *           start right after the agent's was stopped): "baretap" is
 *           then the median of those bare taps, taken beside the
 *           agent's rather than minutes before.
 *
 *   bench_tap TRANSPORT NFC_IDX ISSUER_KEY UIDHEX ROUNDS
 *             [--agent DESC | --volume NAME] [--agent-log FILE]
 *             [--agent-sock SOCKET]
 *
 * TRANSPORT says how the tag is placed and lifted, and the link both
 * clients talk over (an AF_NFC raw socket to nfcNFC_IDX, or PC/SC):
 *   sim:READER_ID:TAG_ID  our virtual reader (nfc_sectag's netlink family)
 *   pn533emu:PID          the real pn533 driver on tests/usb/pn533emu
 *                         (SIGUSR1 places, SIGUSR2 lifts)
 *   ncidevemu:PID         the real NCI core on virtual_ncidev and
 *                         tests/nci/ncidevemu (the same signals)
 *   pcsc:PID:READER       pcscd + vsmartcard-vpcd, tests/pcsc/vpcdbridge
 *                         as PID (the same signals), the PC/SC reader
 *                         named READER; NFC_IDX is unused. Discovery is
 *                         pcscd's card event, then SCardConnect and the
 *                         GET DATA of the UID, as the agent does.
 * A transport is a struct transport below: its place/lift, and which
 * link (struct link) it uses.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <keyutils.h>
#include <linux/nfc.h>
#include <openssl/rand.h>

#include "agent.h"
#include "bench.h"
#include "issue.h"
#include "nfc.h"
#include "ntag424.h"
#include "ntag424_sm.h"
#include "pcsc.h"
#include "sim.h"

/* How a tag comes and goes on one transport (see the header). */
struct transport {
	const char *name;
	int (*place)(struct transport *tr);
	int (*lift)(struct transport *tr);
	struct sectag_sim *sim;		/* sim */
	uint32_t reader, tag;
	pid_t emu;			/* the emulators and vpcdbridge */
	const char *pcsc_name;		/* pcsc: the reader, else NULL */
	struct sectag_pcsc *pcsc;
};

/*
 * A connection to the tag, over AF_NFC or PC/SC. Both clients exchange
 * through link_xfer(): for AF_NFC that is libsectag's link (lib) or a
 * bare send/recv (bare); for PC/SC SCardTransmit through
 * sectag_pcsc_xfer(), which adds nothing but a copy.
 */
struct link {
	int fd;				/* AF_NFC, or -1 */
	struct sectag_pcsc_card *card;	/* PC/SC, or NULL */
	struct sectag_nfc_link nfc;
};

static void link_close(struct link *l)
{
	if (l->fd >= 0)
		close(l->fd);
	sectag_pcsc_disconnect(l->card);
	l->fd = -1;
	l->card = NULL;
}

static int link_xfer(void *ctx, const uint8_t *c, size_t n, uint8_t *r,
		     size_t rsize, size_t *rlen)
{
	struct link *l = ctx;

	if (l->card)
		return sectag_pcsc_xfer(l->card, c, n, r, rsize, rlen);
	return sectag_nfc_link_xfer(&l->nfc, c, n, r, rsize, rlen);
}

/*
 * PC/SC: wait for the card, connect, read its UID by GET DATA (which is
 * how the agent learns it there); *@t0 as connect_tag() sets it.
 */
static int pcsc_connect(struct transport *tr, struct link *l, double *t0,
			bool timed_wait)
{
	uint8_t uid[10];
	size_t len;
	int rc;

	rc = sectag_pcsc_wait_card(tr->pcsc, tr->pcsc_name, 3000);
	if (rc)
		return rc;
	if (!timed_wait)
		*t0 = bench_now();
	rc = sectag_pcsc_connect(tr->pcsc, tr->pcsc_name, &l->card);
	if (!rc)
		rc = sectag_pcsc_uid(l->card, uid, &len);
	if (rc)
		link_close(l);
	return rc;
}

static int sim_place(struct transport *tr)
{
	return sectag_sim_tag_place(tr->sim, tr->tag, tr->reader);
}

static int sim_lift(struct transport *tr)
{
	sectag_sim_tag_remove(tr->sim, tr->tag);
	return 0;
}

static int emu_place(struct transport *tr)
{
	return kill(tr->emu, SIGUSR1) ? -errno : 0;
}

static int emu_lift(struct transport *tr)
{
	return kill(tr->emu, SIGUSR2) ? -errno : 0;
}

static int transport_parse(struct transport *tr, const char *spec)
{
	unsigned int a, b;
	int pid, n = 0;

	if (sscanf(spec, "sim:%u:%u", &a, &b) == 2) {
		*tr = (struct transport){ "sim", sim_place, sim_lift,
					  .reader = a, .tag = b };
		return sectag_sim_open(&tr->sim);
	}
	if (sscanf(spec, "pn533emu:%d", &pid) == 1 && pid > 0) {
		*tr = (struct transport){ "pn533emu", emu_place, emu_lift,
					  .emu = pid };
		return 0;
	}
	if (sscanf(spec, "ncidevemu:%d", &pid) == 1 && pid > 0) {
		*tr = (struct transport){ "ncidevemu", emu_place, emu_lift,
					  .emu = pid };
		return 0;
	}
	if (sscanf(spec, "pcsc:%d:%n", &pid, &n) == 1 && pid > 0 && n > 0) {
		*tr = (struct transport){ "pcsc", emu_place, emu_lift,
					  .emu = pid, .pcsc_name = spec + n };
		return sectag_pcsc_open(&tr->pcsc);
	}
	return -EINVAL;
}

/* The target index was renumbered or left: poll for a fresh one. */
static bool stale(int rc)
{
	return rc == -ENODEV || rc == -ENOTCONN || rc == -EINVAL ||
	       rc == -EBUSY;
}

/* No target listed (NCI forgets it when a session ends): poll again. */
static int poll_if_none(struct sectag_nfc *nfc, uint32_t idx)
{
	struct sectag_nfc_target *v;
	size_t n;
	int rc;

	rc = sectag_nfc_targets(nfc, idx, &v, &n);
	if (rc)
		return rc;
	free(v);
	rc = n ? 0 : sectag_nfc_start_poll(nfc, idx, NFC_PROTO_ISO14443_MASK);
	return rc == -EBUSY ? 0 : rc;
}

/*
 * Connect to the tag in the field; *@t0 is when the timed part began.
 * A target the core lists is used as it is (our reader keeps it
 * activatable); a driver like pn533 wants a new poll after each session
 * ("no available target to activate"), NCI lists none after it, and that
 * discovery is not timed: both clients pay it alike, and the agent's
 * figure has its own poll.
 */
static int connect_tag(struct transport *tr, struct sectag_nfc *nfc,
		       uint32_t idx, struct link *l, double *t0)
{
	struct sectag_nfc_target tg;
	uint32_t min = 0;
	int tries, fd, rc;

	*l = (struct link){ .fd = -1, .nfc = { -1, 2000 } };
	if (tr->pcsc_name)
		return pcsc_connect(tr, l, t0, false);
	for (tries = 0; tries < 4; tries++) {
		rc = poll_if_none(nfc, idx);
		if (!rc)
			rc = sectag_nfc_wait_new_target(nfc, idx, min, 3000,
							&tg);
		if (rc)
			return rc;
		*t0 = bench_now();
		fd = sectag_nfc_connect(idx, tg.idx);
		if (fd >= 0) {
			l->fd = l->nfc.fd = fd;
			return 0;
		}
		if (!stale(fd))
			return fd;
		min = tg.idx + 1;
		rc = sectag_nfc_start_poll(nfc, idx, NFC_PROTO_ISO14443_MASK);
		if (rc && rc != -EBUSY)
			return rc;
	}
	return -EAGAIN;
}

static int lib_round(struct link *l, const uint8_t *k2)
{
	struct sectag_ntag_version v;
	struct sectag_ntag *t;
	uint8_t secret[32];
	int rc;

	rc = sectag_ntag_new(&t, link_xfer, l);
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
static size_t raw(struct link *l, const uint8_t *c, size_t n, uint8_t *r)
{
	uint8_t buf[300];
	ssize_t got;
	size_t len;

	if (l->card)
		return sectag_pcsc_xfer(l->card, c, n, r, 300, &len) ? 0 : len;
	if (send(l->fd, c, n, 0) != (ssize_t)n)
		return 0;
	/* A lost exchange fails the round rather than hanging the bench. */
	if (poll(&(struct pollfd){ .fd = l->fd, .events = POLLIN }, 1,
		 2000) != 1)
		return 0;
	got = recv(l->fd, buf, sizeof(buf), 0);
	if (got < 3)
		return 0;
	memcpy(r, buf + 1, got - 1);
	return got - 1;
}

static int bare_round(struct link *l, const uint8_t *k2)
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

	if (!raw(l, sel, sizeof(sel), r) || !raw(l, gv, sizeof(gv), r) ||
	    !raw(l, af, sizeof(af), r) || !raw(l, af, sizeof(af), r))
		return -EIO;
	if (raw(l, a1, sizeof(a1), r) != 18)
		return -EIO;
	RAND_bytes(ra, 16);
	sm_auth_token(k2, r, ra, rb, a2 + 5);
	if (raw(l, a2, sizeof(a2), r) != 34 ||
	    sm_auth_finish(&s, k2, true, r, ra, rb))
		return -EIO;
	if (sm_wrap(&s, 0xAD, false, rd + 5, 7, 0, sizeof(rd) - 6, &n))
		return -EIO;
	rd[4] = n;
	rd[5 + n] = 0;
	n = raw(l, rd, 6 + n, r);
	s.ctr++;
	/* 48 bytes of ciphertext, MACt, 91 00: decrypt like any client. */
	return n == 58 && !sm_unwrap(&s, true, r, 56, &n) ? 0 : -EIO;
}

static double one_round(struct transport *tr, struct sectag_nfc *nfc,
			uint32_t idx, const uint8_t *k2, bool lib)
{
	struct link l;
	double t0 = 0;
	int rc;

	rc = connect_tag(tr, nfc, idx, &l, &t0);
	if (rc) {
		fprintf(stderr, "connect: %s\n", strerror(-rc));
		return -1;
	}
	rc = lib ? lib_round(&l, k2) : bare_round(&l, k2);
	link_close(&l);
	if (rc) {
		fprintf(stderr, "%s round: %d\n", lib ? "lib" : "bare", rc);
		return -1;
	}
	return bench_now() - t0;
}

/* Rounds alternate between the two clients, so drift hits both alike. */
static int time_protocol(struct transport *tr, struct sectag_nfc *nfc,
			 uint32_t idx, const uint8_t *k2, int rounds,
			 double *lib, double *bare)
{
	double *l = calloc(rounds, sizeof(double));
	double *b = calloc(rounds, sizeof(double));
	int i, rc = 0;

	for (i = 0; i < rounds && !rc && l && b; i++) {
		l[i] = one_round(tr, nfc, idx, k2, true);
		b[i] = one_round(tr, nfc, idx, k2, false);
		rc = l[i] < 0 || b[i] < 0;
	}
	if (!rc && l && b) {
		*lib = bench_median(l, rounds);
		*bare = bench_median(b, rounds);
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

/*
 * The agent's log (--agent-log, the agent run with --debug), read as it
 * grows, with an inotify watch to sleep on until it does: its "tag
 * removed" lines (one per removal on every transport; PC/SC's "card
 * removed" comes before it) and its NFC poll restarts ("nfcN: poll: 0").
 */
struct agent_log {
	FILE *f;			/* NULL: no log given */
	int ino;
	char poll[40];
	int removals, polls;
	int taps;			/* "tap: ..." lines with keys released */
	double keys_at;			/* the last one's keys in the keyring */
};

static int log_open(struct agent_log *l, const char *path, uint32_t idx)
{
	*l = (struct agent_log){ .ino = -1 };
	snprintf(l->poll, sizeof(l->poll), " nfc%u: poll: 0\n", idx);
	if (!path)
		return 0;
	l->f = fopen(path, "r");
	l->ino = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (!l->f || l->ino < 0 ||
	    inotify_add_watch(l->ino, path, IN_MODIFY) < 0)
		return -1;
	return 0;
}

/*
 * The agent's "tap: ..., key(s) in U us at T, N ms" debug line: T is
 * when its last key went into the keyring (CLOCK_MONOTONIC, as
 * bench_now()), written right after.
 */
static void tap_line(struct agent_log *l, const char *line)
{
	const char *p = strstr(line, ": tap: ");
	long long us;
	double at;

	p = p ? strstr(p, " key(s) in ") : NULL;
	if (p && sscanf(p, " key(s) in %lld us at %lf", &us, &at) == 2 &&
	    us > 0) {
		l->taps++;
		l->keys_at = at;
	}
}

/* The lines written since the last call (a line is one write). */
static void log_scan(struct agent_log *l)
{
	size_t cap = 0;
	char *line = NULL;
	ssize_t n;

	if (!l->f)
		return;
	clearerr(l->f);
	while ((n = getline(&line, &cap, l->f)) > 0) {
		if (line[n - 1] != '\n') {	/* not all written yet */
			fseek(l->f, -n, SEEK_CUR);
			break;
		}
		l->removals += strstr(line, ": tag removed") != NULL;
		l->polls += strstr(line, l->poll) != NULL;
		tap_line(l, line);
	}
	free(line);
}

/* Sleep until the agent writes to its log, 100 ms at most. */
static int log_sleep(struct agent_log *l)
{
	struct pollfd pfd = { .fd = l->ino, .events = POLLIN };
	char buf[4096];

	if (poll(&pfd, 1, 100) > 0 && read(l->ino, buf, sizeof(buf)) < 0 &&
	    errno != EAGAIN && errno != EINTR) {
		fprintf(stderr, "inotify: %s\n", strerror(errno));
		return -1;
	}
	return 0;
}

/* Until *@count grew past @was (@s seconds at most); says what it missed. */
static int log_wait(struct agent_log *l, const int *count, int was, double s,
		    const char *what)
{
	double t0 = bench_now();

	for (;;) {
		log_scan(l);
		if (*count > was)
			return 0;
		if (bench_now() - t0 > s || log_sleep(l)) {
			fprintf(stderr, "agent log: no %s in %.0f s\n", what, s);
			return -1;
		}
	}
}

/*
 * Lift the tag and drop what it released; with the agent's log, wait
 * until the agent saw the removal and, on an NFC reader, polls again: a
 * new tap starts where the bare client's does, with the reader polling.
 */
static int lift_and_wait(struct transport *tr, const char *mode,
			 const char *what, struct agent_log *l)
{
	int removals, polls;

	log_scan(l);
	removals = l->removals;
	polls = l->polls;
	tr->lift(tr);
	undo(mode, what);
	if (!l->f) {
		usleep(50000);
		return 0;
	}
	if (log_wait(l, &l->removals, removals, 10, "removal"))
		return -1;
	return tr->pcsc_name ? 0 : log_wait(l, &l->polls, polls, 10, "poll");
}

/*
 * Until @what is done (10 s at most). With the agent's log, sleep until
 * the agent writes to it (it logs right after the keys are in, and after
 * an open), so that waiting takes no CPU from the agent, the kernel or
 * an emulated reader; else check every 200 us.
 */
static int wait_done(const char *mode, const char *what,
		     struct agent_log *l, double t0)
{
	while (!done(mode, what)) {
		if (bench_now() - t0 > 10) {
			fprintf(stderr, "%s not done in 10 s\n", what);
			return -1;
		}
		if (!l->f)
			usleep(200);
		else if (log_sleep(l))
			return -1;
	}
	return 0;
}

/*
 * Interleaved bare taps (--agent-sock): the bare client's tap measured
 * round by round beside the agent's, on the same reader, borrowed from
 * the agent for it (it stops polling the reader, and polls again when
 * the connection closes), so that the ratio of the two is not the
 * drift of a shared machine between two runs minutes apart.
 */
struct interleave {
	const char *sock;		/* the agent's socket; NULL: none */
	struct sectag_nfc *nfc;
	const uint8_t *k2;
	uint32_t min;
	double *v;
};

static double bare_tap(struct transport *tr, struct sectag_nfc *nfc,
		       uint32_t idx, const uint8_t *k2, uint32_t *min);

/* Borrow nfc@idx from the agent: the connection that holds it, or -errno. */
static int borrow(const char *sock, uint32_t idx)
{
	struct sectag_agent_req rq = { .verb = SECTAG_AGENT_BORROW,
				       .reader = idx, .ms = 60000 };
	struct sectag_agent_ans ans;
	int fd, rc;

	fd = sectag_agent_connect(sock, 2000, 0, NULL);
	if (fd < 0)
		return fd;
	rc = sectag_agent_send(fd, &rq);
	if (!rc)
		rc = sectag_agent_recv(fd, &ans, sectag_agent_now_ms() + 2000);
	if (!rc && (ans.type != SECTAG_AGENT_OK || ans.n != idx))
		rc = -EBUSY;
	if (rc) {
		close(fd);
		return rc;
	}
	return fd;
}

/*
 * The agent's polls so far in *@polls (its log read up to now), then
 * nfc@idx borrowed from it: the connection, or -errno (said).
 */
static int borrow_counted(uint32_t idx, struct interleave *in,
			  struct agent_log *l, int *polls)
{
	int fd;

	log_scan(l);
	*polls = l->polls;
	fd = borrow(in->sock, idx);
	if (fd < 0)
		fprintf(stderr, "borrow: %s\n", strerror(-fd));
	return fd;
}

/* One bare tap on the borrowed reader, left with no tag and polled by the agent. */
static double interleaved_tap(struct transport *tr, uint32_t idx,
			      struct interleave *in, struct agent_log *l)
{
	int fd, polls;
	double t;

	fd = borrow_counted(idx, in, l, &polls);
	if (fd < 0)
		return -1;
	t = bare_tap(tr, in->nfc, idx, in->k2, &in->min);
	if (t < 0) {
		/*
		 * Figures, not a test: a lost discovery or exchange (the
		 * emulated PN533, now and then) is said and tried once more,
		 * our poll stopped first (left running, it keeps the agent's
		 * out with EBUSY).
		 */
		fprintf(stderr, "bare tap failed, once more\n");
		sectag_nfc_stop_poll(in->nfc, idx);
		t = bare_tap(tr, in->nfc, idx, in->k2, &in->min);
	}
	if (t < 0)
		sectag_nfc_stop_poll(in->nfc, idx);
	tr->lift(tr);
	close(fd);
	if (t < 0 || log_wait(l, &l->polls, polls, 10, "poll after a lend"))
		return -1;
	return t;
}

/*
 * Lend the reader and take it back at once, the agent polling again
 * after that: its tap then starts, as the bare one does, from a poll
 * begun right after the agent's previous one was stopped (on pn533 an
 * abort of the pending command, after which the next poll is slower).
 */
static int relend(uint32_t idx, struct interleave *in, struct agent_log *l)
{
	int fd, polls;

	fd = borrow_counted(idx, in, l, &polls);
	if (fd < 0)
		return -1;
	close(fd);
	return log_wait(l, &l->polls, polls, 10, "poll after a lend");
}

static double time_agent(struct transport *tr, uint32_t idx, int rounds,
			 const char *mode, const char *what, const char *log,
			 struct interleave *in)
{
	double *v = calloc(rounds, sizeof(double)), t0, m = -1;
	struct agent_log l = { .ino = -1 };
	int i, taps;

	if (!v || log_open(&l, log, idx)) {
		fprintf(stderr, "cannot watch %s\n", log ? log : "(no log)");
		goto out;
	}
	for (i = 0; i < rounds; i++) {
		if (in->sock) {
			in->v[i] = interleaved_tap(tr, idx, in, &l);
			if (in->v[i] < 0) {
				fprintf(stderr, "round %d: bare tap\n", i);
				goto out;
			}
			if (relend(idx, in, &l))
				goto out;
		}
		/* A key left by an earlier run (same volume) would end it at once. */
		undo(mode, what);
		if (done(mode, what)) {
			fprintf(stderr, "%s still there\n", what);
			goto out;
		}
		log_scan(&l);
		taps = l.taps;
		t0 = bench_now();
		if (tr->place(tr) || wait_done(mode, what, &l, t0))
			goto out;
		v[i] = bench_now() - t0;
		/*
		 * The key is in; when it went in, the agent says (its tap
		 * line comes right after): not when this process woke up to
		 * look, which on this machine is a few tenths of a ms later.
		 */
		if (!strcmp(mode, "--agent") && l.f &&
		    !log_wait(&l, &l.taps, taps, 2, "tap line") &&
		    l.keys_at > t0 && l.keys_at - t0 < v[i])
			v[i] = l.keys_at - t0;
		if (lift_and_wait(tr, mode, what, &l)) {
			fprintf(stderr, "round %d: lift\n", i);
			goto out;
		}
	}
	m = bench_median(v, rounds);
out:
	if (l.f)
		fclose(l.f);
	if (l.ino >= 0)
		close(l.ino);
	free(v);
	return m;
}

/* Poll again; pn533 refuses (EBUSY) until the last session's socket is gone. */
static int repoll(struct sectag_nfc *nfc, uint32_t idx)
{
	int tries, rc = 0;

	for (tries = 0; tries < 200; tries++) {
		rc = sectag_nfc_start_poll(nfc, idx, NFC_PROTO_ISO14443_MASK);
		if (rc != -EBUSY)
			break;
		usleep(1000);
	}
	return rc == -EBUSY ? 0 : rc;	/* polling already */
}

/*
 * The first target number a new poll can report: pn533 keeps listing
 * the last session's target until then, and that one cannot be used.
 */
static uint32_t next_target(struct sectag_nfc *nfc, uint32_t idx)
{
	struct sectag_nfc_target *v;
	uint32_t min = 0;
	size_t i, n;

	if (sectag_nfc_targets(nfc, idx, &v, &n))
		return 0;
	for (i = 0; i < n; i++)
		if (v[i].idx >= min)
			min = v[i].idx + 1;
	free(v);
	return min;
}

/* PC/SC: the card gone, as pcscd sees it (SCardGetStatusChange). */
static int pcsc_wait_empty(struct transport *tr)
{
	struct sectag_pcsc_reader *v;
	double t0 = bench_now();
	bool card = true;
	size_t i, n;

	while (card && bench_now() - t0 < 3) {
		if (sectag_pcsc_list(tr->pcsc, &v, &n))
			return -1;
		for (i = 0, card = false; i < n; i++)
			card |= !strcmp(v[i].name, tr->pcsc_name) && v[i].card;
		free(v);
		if (card)
			usleep(1000);
	}
	return card ? -1 : 0;
}

/* One bare PC/SC tap: place, pcscd's card event, connect, UID, APDUs. */
static double bare_tap_pcsc(struct transport *tr, const uint8_t *k2)
{
	struct link l = { .fd = -1 };
	double t0;
	int rc;

	tr->lift(tr);
	if (pcsc_wait_empty(tr))
		return -1;
	t0 = bench_now();
	if (tr->place(tr))
		return -1;
	rc = pcsc_connect(tr, &l, &t0, true);
	if (rc) {
		fprintf(stderr, "bare tap: connect: %s\n", strerror(-rc));
		return -1;
	}
	rc = bare_round(&l, k2);
	link_close(&l);
	return rc ? -1 : bench_now() - t0;
}

/* One bare tap: from placing the tag to the secret read. */
static double bare_tap(struct transport *tr, struct sectag_nfc *nfc,
		       uint32_t idx, const uint8_t *k2, uint32_t *min)
{
	struct sectag_nfc_target tg;
	struct link l = { .fd = -1 };
	double t0;
	int rc;

	if (tr->pcsc_name)
		return bare_tap_pcsc(tr, k2);
	tr->lift(tr);
	usleep(20000);		/* the field is empty before the next poll */
	if (repoll(nfc, idx))
		return -1;
	/* Whatever the reader lists now (pn533: the last session's) is old. */
	if (next_target(nfc, idx) > *min)
		*min = next_target(nfc, idx);
	t0 = bench_now();
	if (tr->place(tr))
		return -1;
	rc = sectag_nfc_wait_new_target(nfc, idx, *min, 3000, &tg);
	if (rc) {
		fprintf(stderr, "bare tap: no target: %s\n", strerror(-rc));
		return -1;
	}
	*min = tg.idx + 1;
	l.fd = sectag_nfc_connect(idx, tg.idx);
	if (l.fd < 0) {
		fprintf(stderr, "bare tap: connect: %s\n", strerror(-l.fd));
		return -1;
	}
	rc = bare_round(&l, k2);
	link_close(&l);
	return rc ? -1 : bench_now() - t0;
}

static double time_bare_taps(struct transport *tr, struct sectag_nfc *nfc,
			     uint32_t idx, const uint8_t *k2, int rounds)
{
	double *v = calloc(rounds, sizeof(double)), m = -1;
	uint32_t min = nfc ? next_target(nfc, idx) : 0;
	int i;

	for (i = 0; v && i < rounds; i++) {
		v[i] = bare_tap(tr, nfc, idx, k2, &min);
		if (v[i] < 0) {
			fprintf(stderr, "bare tap %d failed\n", i);
			break;
		}
	}
	if (v && i == rounds)
		m = bench_median(v, rounds);
	free(v);
	return m;
}

static int protocol(struct transport *tr, uint32_t idx, const uint8_t *k2,
		    int rounds)
{
	double lib = 0, bare = 0, tap;
	struct sectag_nfc *nfc = NULL;
	int rc;

	if (!tr->pcsc_name) {
		if (sectag_nfc_open(&nfc))
			return 1;
		rc = sectag_nfc_dev_up(nfc, idx);
		if (rc && rc != -EALREADY)
			return 1;
		rc = sectag_nfc_start_poll(nfc, idx, NFC_PROTO_ISO14443_MASK);
		if (rc && rc != -EBUSY)
			return 1;
	}
	if (tr->place(tr))
		return 1;
	if (time_protocol(tr, nfc, idx, k2, rounds, &lib, &bare))
		return 1;
	tap = time_bare_taps(tr, nfc, idx, k2, rounds);
	if (tap < 0)
		return 1;
	tr->lift(tr);
	/*
	 * Leave the reader as found: a poll of ours still running when the
	 * agent starts makes its own poll fail with EBUSY, and the core
	 * stops ours when this socket closes, leaving that reader deaf.
	 */
	if (nfc) {
		sectag_nfc_stop_poll(nfc, idx);
		sectag_nfc_close(nfc);
	}
	printf("verify on %s (connect, select, version, auth, read secret): "
	       "libsectag %.2f ms, bare client %.2f ms, ratio %.2f\n",
	       tr->name, lib * 1e3, bare * 1e3, lib / bare);
	printf("tap on %s by the bare client (poll, place, target, connect, "
	       "the same APDUs): %.2f ms\n", tr->name, tap * 1e3);
	printf("bare %.6f\nbaretap %.6f\n", bare, tap);
	return 0;
}

static int interleave_open(struct interleave *in, uint32_t idx,
			   const uint8_t *k2, int rounds)
{
	int rc;

	in->k2 = k2;
	in->v = calloc(rounds, sizeof(double));
	if (!in->v || sectag_nfc_open(&in->nfc))
		return -1;
	rc = sectag_nfc_dev_up(in->nfc, idx);
	return rc && rc != -EALREADY ? -1 : 0;
}

int main(int argc, char **argv)
{
	const char *mode = NULL, *what = NULL, *log = NULL;
	struct interleave in = { 0 };
	uint8_t issuer[16], uid[7], k2[16];
	struct transport tr;
	int rounds, i;
	uint32_t idx;
	double agent;

	for (i = 6; i + 1 < argc; i += 2) {
		if (!strcmp(argv[i], "--agent-log")) {
			log = argv[i + 1];
		} else if (!strcmp(argv[i], "--agent-sock")) {
			in.sock = argv[i + 1];
		} else {
			mode = argv[i];
			what = argv[i + 1];
		}
	}
	if (argc < 6 || i != argc || transport_parse(&tr, argv[1])) {
		fprintf(stderr, "usage: bench_tap "
			"sim:READER:TAG|pn533emu:PID|ncidevemu:PID|"
			"pcsc:PID:READER "
			"NFC_IDX ISSUER_KEY UIDHEX ROUNDS [--agent DESC | "
			"--volume NAME] [--agent-log FILE] "
			"[--agent-sock SOCKET]\n");
		return 2;
	}
	idx = strtoul(argv[2], NULL, 0);
	for (i = 0; i < 7; i++)
		if (sscanf(argv[4] + 2 * i, "%2hhx", &uid[i]) != 1)
			return 2;
	if (sectag_issuer_load(argv[3], issuer) ||
	    sectag_tag_key(issuer, uid, 2, k2))
		return 2;
	rounds = atoi(argv[5]);
	if (rounds < 1)
		return 2;
	if (!mode) {
		/* A tag left on the reader would be tapped by the agent next. */
		if (protocol(&tr, idx, k2, rounds)) {
			tr.lift(&tr);
			return 1;
		}
		return 0;
	}
	tr.lift(&tr);
	if (in.sock && (tr.pcsc_name || !log))
		in.sock = NULL;		/* NFC readers; the log says when */
	if (in.sock && interleave_open(&in, idx, k2, rounds))
		return 1;
	agent = time_agent(&tr, idx, rounds, mode, what, log, &in);
	if (agent >= 0)
		printf("%s %.6f\n", mode + 2, agent);
	if (agent >= 0 && in.sock)
		printf("baretap %.6f\n", bench_median(in.v, rounds));
	if (in.nfc)
		sectag_nfc_close(in.nfc);
	free(in.v);
	return agent < 0;
}
