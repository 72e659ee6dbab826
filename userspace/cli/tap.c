// SPDX-License-Identifier: GPL-2.0
/*
 * Waiting for a tap, shared by every verb that talks to a tag: pick the
 * reader, power it up, find or wait for a tag, connect a session to it.
 *
 * Two tags on one reader: the NFC core reports every target in the
 * field and activates the one we connect to; we take the first target it
 * reports and say on stderr that there were more.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <linux/nfc.h>

#include "hex.h"
#include "agent.h"
#include "cli.h"
#include "holders.h"
#include "nfc.h"
#include "ntag424.h"

/* Per APDU: the tag answers in milliseconds; readers may retry. */
#define XFER_TIMEOUT_MS		2000
/* Talking to sectagd: connecting, and each answer. */
#define AGENT_TIMEOUT_MS	5000
/* A borrow lasts the tap's wait plus this, for the work on the tag. */
#define BORROW_MARGIN_MS	120000
/* No reader named: the tap may come on any of this many readers. */
#define ANY_READERS_MAX		8

const char tap_any_reader[] = "any ISO 14443 reader";

const char *agent_socket(void)
{
	const char *p = getenv("SECTAG_AGENT_SOCKET");

	return p && *p ? p : SECTAG_AGENT_SOCKET;
}

int parse_timeout(const char *s, int *ms)
{
	uint32_t v;

	if (parse_u32(s, &v))
		return -1;
	if (v > MAX_TIMEOUT_S) {
		fprintf(stderr, "%s: --timeout: at most %d seconds\n", prog,
			MAX_TIMEOUT_S);
		return -1;
	}
	*ms = v ? (int)v * 1000 : -1;
	return 0;
}

static bool reader_matches(const struct sectag_nfc_dev *d, const char *want)
{
	char *end;
	unsigned long v;

	if (!strcmp(d->name, want))
		return true;
	errno = 0;
	v = strtoul(want, &end, 10);
	return !errno && *want && !*end && v == d->idx;
}

/*
 * After "no reader X": the readers there are, on one line, by the names
 * and indexes --reader takes.
 */
static void say_readers(const struct sectag_nfc_dev *devs, size_t n)
{
	char pc[256];
	size_t i;

	pcsc_reader_names(pc, sizeof(pc));
	fprintf(stderr, "%s: readers:", prog);
	for (i = 0; i < n; i++)
		fprintf(stderr, "%s %s (index %u)", i ? "," : "", devs[i].name,
			devs[i].idx);
	fprintf(stderr, "%s%s%s\n", n && *pc ? "," : "", pc,
		n || *pc ? "" : " none");
}

static int pick_reader(struct tap *tp, const char *want)
{
	struct sectag_nfc_dev *devs;
	size_t n, i, best = SIZE_MAX;
	int rc;

	rc = sectag_nfc_list(tp->nfc, &devs, &n);
	if (rc)
		return fail(rc, "cannot list NFC devices");
	for (i = 0; i < n; i++) {
		if (want ? !reader_matches(&devs[i], want) :
		    !(devs[i].protocols & NFC_PROTO_ISO14443_MASK))
			continue;
		if (best == SIZE_MAX || devs[i].idx < devs[best].idx)
			best = i;
	}
	if (best != SIZE_MAX)
		tp->dev = devs[best];
	if (best == SIZE_MAX && want) {
		fprintf(stderr, "%s: no reader '%s': --reader takes a name "
			"(nfc0, pcsc:NAME) or an NFC device's index\n", prog,
			want);
		say_readers(devs, n);
	} else if (best == SIZE_MAX) {
		fprintf(stderr, "%s: no ISO 14443 NFC reader found\n", prog);
	}
	free(devs);
	return best == SIZE_MAX ? EX_UNAVAIL : 0;
}

/* Makes sure reader @idx polls; *@polling: we started it. */
static int start_poll(struct tap *tp, uint32_t idx, bool *polling)
{
	int rc;

	rc = sectag_nfc_start_poll(tp->nfc, idx, NFC_PROTO_ISO14443_MASK);
	/* EBUSY: already polling (another program): its reports serve us. */
	if (rc && rc != -EBUSY)
		return fail(rc, "cannot start polling");
	*polling = !rc;
	return 0;
}

static int start_polling(struct tap *tp)
{
	return start_poll(tp, tp->dev.idx, &tp->polling);
}

static int power_up(struct tap *tp, const struct sectag_nfc_dev *d)
{
	int rc;

	if (d->powered)
		return 0;
	rc = sectag_nfc_dev_up(tp->nfc, d->idx);
	return rc && rc != -EALREADY ? fail(rc, "cannot power the reader up") :
	       0;
}

static void warn_if_crowded(struct tap *tp, size_t n)
{
	char uid[2 * sizeof(tp->target.nfcid1) + 1];

	if (n < 2)
		return;
	sectag_hex(uid, tp->target.nfcid1, tp->target.nfcid1_len, true);
	fprintf(stderr, "%s: %zu tags on %s: using the first one reported "
		"(anticollision UID %s); present one tag at a time\n", prog, n,
		tp->dev.name, uid);
}

/* The first target the core lists for the reader; -ENOENT if none. */
static int first_listed(struct tap *tp)
{
	struct sectag_nfc_target *v;
	size_t n;
	int rc;

	rc = sectag_nfc_targets(tp->nfc, tp->dev.idx, &v, &n);
	if (rc)
		return rc;
	if (n) {
		tp->target = v[0];
		warn_if_crowded(tp, n);
	}
	free(v);
	return n ? 0 : -ENOENT;
}

/* Wait for a target numbered @min_target or later (older ones are stale). */
static int wait_tag(struct tap *tp, uint32_t min_target, int timeout_ms,
		    const char *prompt)
{
	int rc;

	if (prompt || isatty(STDERR_FILENO))
		fprintf(stderr, "%s: %s on %s...\n", prog,
			prompt ? prompt : "waiting for a tag", tp->dev.name);
	rc = sectag_nfc_wait_new_target(tp->nfc, tp->dev.idx, min_target,
					timeout_ms, &tp->target);
	if (rc == -ETIMEDOUT) {
		fprintf(stderr, "%s: no tag on %s within %d s\n", prog,
			tp->dev.name, timeout_ms / 1000);
		return EX_NOTAG;
	}
	if (rc == -ENODEV) {
		fprintf(stderr, "%s: reader %s went away\n", prog,
			tp->dev.name);
		return EX_UNAVAIL;
	}
	if (rc)
		return fail(rc, "waiting for a tag");
	/* Reporting targets ends the core's poll. */
	tp->polling = false;
	/* Same first target; tells how many tags are in the field. */
	(void)first_listed(tp);
	return 0;
}

/* 0 or -errno: the socket to tp->target, and a tag session over it. */
static int connect_tag(struct tap *tp)
{
	int fd;

	if (!(tp->target.protocols & NFC_PROTO_ISO14443_MASK))
		return -EPROTONOSUPPORT;
	fd = sectag_nfc_connect(tp->dev.idx, tp->target.idx);
	if (fd < 0)
		return fd;
	tp->link.fd = fd;
	tp->link.timeout_ms = XFER_TIMEOUT_MS;
	return sectag_ntag_new(&tp->t, sectag_nfc_link_xfer, &tp->link);
}

/* What to do about a program holding the reader, by its name. */
static const char *holder_hint(const char *comm)
{
	if (!strcmp(comm, "sectagd"))
		return "run this as root, so that it borrows the reader from "
		       "sectagd, or stop sectagd (systemctl stop sectagd)";
	if (!strcmp(comm, "neard"))
		return "stop neard (systemctl disable --now neard): it takes "
		       "every NFC reader";
	return NULL;
}

/* Someone else's AF_NFC raw socket holds the reader: say whose. */
static void busy_reader(void)
{
	struct sectag_nfc_holder h[8];
	const char *hint;
	char who[512];
	size_t n = 0, i;

	if (sectag_nfc_raw_holders(h, sizeof(h) / sizeof(h[0]), &n))
		return;
	sectag_nfc_holders_text(h, n, who, sizeof(who));
	fprintf(stderr, "%s: the reader is held by another program: AF_NFC "
		"raw sockets are open in %s%s\n", prog, who,
		n || !geteuid() ? "" :
		" (run as root to see other users' processes)");
	for (i = 0; i < n; i++) {
		hint = holder_hint(h[i].comm);
		if (hint)
			fprintf(stderr, "%s: %s holds it: %s\n", prog, h[i].comm,
				hint);
	}
	if (!n)
		fprintf(stderr, "%s: '%s status' names other programs that "
			"take readers (neard, pcscd)\n", prog, prog);
}

/*
 * Borrow the reader from sectagd, if it runs: it stops polling it and
 * leaves its tags to us until we give it back (or exit: the connection
 * closes). No agent: nothing to do. 0, or an exit code.
 */
int tap_borrow(struct tap *tp, int timeout_ms)
{
	struct sectag_agent_req rq = { .verb = SECTAG_AGENT_BORROW };
	struct sectag_agent_ans ans;
	int64_t ms = timeout_ms < 0 ? SECTAG_AGENT_BORROW_MAX_MS :
		     (int64_t)timeout_ms + BORROW_MARGIN_MS;
	int fd, rc;

	fd = sectag_agent_connect(agent_socket(), AGENT_TIMEOUT_MS, 0, NULL);
	if (fd == -ENOENT || fd == -ECONNREFUSED)
		return 0;		/* no agent */
	if (fd < 0) {
		fprintf(stderr, "%s: warning: cannot reach sectagd at %s (%s); "
			"going on without borrowing %s from it\n", prog,
			agent_socket(), strerror(-fd), tp->name);
		return 0;
	}
	rq.reader = tp->dev.idx;
	rq.ms = ms > SECTAG_AGENT_BORROW_MAX_MS ? SECTAG_AGENT_BORROW_MAX_MS :
		(uint32_t)ms;
	rc = sectag_agent_send(fd, &rq);
	if (!rc)
		rc = sectag_agent_recv(fd, &ans, sectag_agent_now_ms() +
				       AGENT_TIMEOUT_MS);
	if (!rc && ans.type == SECTAG_AGENT_OK && ans.n == tp->dev.idx) {
		tp->agent_fd = fd;
		return 0;
	}
	close(fd);
	if (rc) {
		fprintf(stderr, "%s: warning: sectagd did not lend %s (%s)\n",
			prog, tp->name, strerror(-rc));
		return 0;
	}
	if (ans.type == SECTAG_AGENT_FAIL &&
	    ans.fail == SECTAG_AGENT_E_BORROWED) {
		fprintf(stderr, "%s: %s is in use by another sectag command "
			"(uid %u); try again when it is done\n", prog,
			tp->name, ans.uid);
		return EX_UNAVAIL;
	}
	if (ans.type == SECTAG_AGENT_FAIL &&
	    ans.fail == SECTAG_AGENT_E_DENIED) {
		fprintf(stderr, "%s: warning: sectagd watches %s and lends it "
			"to root only: run this as root\n", prog, tp->name);
		return 0;
	}
	fprintf(stderr, "%s: warning: unexpected answer from sectagd to "
		"BORROW\n", prog);
	return 0;
}

/* Give the reader back to sectagd: it polls it again. */
void tap_return(struct tap *tp)
{
	struct sectag_agent_req rq = { .verb = SECTAG_AGENT_RETURN };
	struct sectag_agent_ans ans;

	if (tp->agent_fd < 0)
		return;
	/* The answer only says it is done; closing would do it too. */
	if (!sectag_agent_send(tp->agent_fd, &rq))
		(void)sectag_agent_recv(tp->agent_fd, &ans,
					sectag_agent_now_ms() +
					AGENT_TIMEOUT_MS);
	close(tp->agent_fd);
	tp->agent_fd = -1;
}

/* The target index was renumbered or the tag left before we connected. */
static bool stale(int rc)
{
	return rc == -ENODEV || rc == -ENOTCONN || rc == -EINVAL;
}

/*
 * A tag the core already lists is in the field (readers report losses):
 * connect to it without polling, because a new poll would report it
 * again under a new index while we talk to it. Otherwise poll and wait
 * for the core's event; retry a few times if the index went stale
 * between the report and the connection.
 */
static int get_tag(struct tap *tp, int timeout_ms, const char *prompt)
{
	uint32_t min_target = 0;
	int tries, rc;

	rc = first_listed(tp);
	if (!rc) {
		rc = connect_tag(tp);
		if (!rc)
			return 0;
		if (!stale(rc))
			goto out;
		/*
		 * Stale: a driver without presence checks (pn533) still
		 * lists a tag that left, or the index was renumbered; the
		 * new poll's report comes under a later number.
		 */
		min_target = tp->target.idx + 1;
	}
	for (tries = 0; tries < 3; tries++) {
		rc = start_polling(tp);
		if (!rc)
			rc = wait_tag(tp, min_target, timeout_ms, prompt);
		if (rc)
			return rc;
		rc = connect_tag(tp);
		if (!rc || !stale(rc))
			break;
		min_target = tp->target.idx + 1;
	}
out:
	if (rc == -EPROTONOSUPPORT) {
		fprintf(stderr, "%s: the tag does not speak ISO 14443-4: not "
			"an NTAG 424 DNA\n", prog);
		return EX_REFUSED;
	}
	if (rc == -EBUSY)
		busy_reader();
	return rc ? fail(rc, "cannot connect to the tag") : 0;
}

/* tap_any_reader: one of the readers a tap may come on. */
struct any_reader {
	struct sectag_nfc_dev dev;
	int agent_fd;		/* its borrow from sectagd, or -1 */
	bool polling;		/* we started its poll and it still runs */
};

struct any {
	struct any_reader r[ANY_READERS_MAX];
	size_t n;
	char names[ANY_READERS_MAX * 18];	/* "nfc0, nfc1" */
};

/* The ISO 14443 readers (the first ANY_READERS_MAX). 0 or an exit code. */
static int any_list(struct tap *tp, struct any *a)
{
	struct sectag_nfc_dev *devs;
	size_t i, k;
	int rc;

	memset(a, 0, sizeof(*a));
	rc = sectag_nfc_list(tp->nfc, &devs, &k);
	if (rc)
		return fail(rc, "cannot list NFC devices");
	for (i = 0; i < k && a->n < ANY_READERS_MAX; i++) {
		if (!(devs[i].protocols & NFC_PROTO_ISO14443_MASK))
			continue;
		a->r[a->n].dev = devs[i];
		a->r[a->n].agent_fd = -1;
		snprintf(a->names + strlen(a->names),
			 sizeof(a->names) - strlen(a->names), "%s%s",
			 a->n ? ", " : "", devs[i].name);
		a->n++;
	}
	free(devs);
	return 0;
}

/* Borrowed from sectagd (if it runs) and powered. 0 or an exit code. */
static int any_borrow(struct tap *tp, struct any_reader *r, int left_ms)
{
	int rc;

	tp->dev = r->dev;
	snprintf(tp->name, sizeof(tp->name), "%s", r->dev.name);
	rc = tap_borrow(tp, left_ms);
	r->agent_fd = tp->agent_fd;
	tp->agent_fd = -1;
	return rc ? rc : power_up(tp, &r->dev);
}

/*
 * Every reader polled, then the first to report a tag: *@which. 0 or
 * an exit code.
 */
static int any_wait(struct tap *tp, struct any *a, int left_ms,
		    const char *prompt, size_t *which)
{
	uint32_t idx[ANY_READERS_MAX];
	struct sectag_nfc_target tg;
	size_t i;
	int rc = 0;

	for (i = 0; !rc && i < a->n; i++) {
		idx[i] = a->r[i].dev.idx;
		rc = start_poll(tp, idx[i], &a->r[i].polling);
	}
	if (rc)
		return rc;
	if (prompt || isatty(STDERR_FILENO))
		fprintf(stderr, "%s: %s on %s...\n", prog,
			prompt ? prompt : "waiting for a tag", a->names);
	rc = sectag_nfc_wait_any_target(tp->nfc, idx, a->n, 0, left_ms, which,
					&tg);
	if (rc == -ETIMEDOUT) {
		fprintf(stderr, "%s: no tag on %s within %d s\n", prog,
			a->names, left_ms / 1000);
		return EX_NOTAG;
	}
	if (rc == -ENODEV) {
		fprintf(stderr, "%s: readers %s went away\n", prog, a->names);
		return EX_UNAVAIL;
	}
	if (rc)
		return fail(rc, "waiting for a tag");
	/* Reporting targets ends the core's poll. */
	a->r[*which].polling = false;
	return 0;
}

/* Every reader but @keep left as it was found: not polled, given back. */
static void any_release(struct tap *tp, struct any *a, size_t keep)
{
	size_t i;

	for (i = 0; i < a->n; i++) {
		if (i == keep)
			continue;
		if (a->r[i].polling)
			sectag_nfc_stop_poll(tp->nfc, a->r[i].dev.idx);
		/* Closing the connection gives the reader back. */
		if (a->r[i].agent_fd >= 0)
			close(a->r[i].agent_fd);
	}
}

/*
 * tap_any_reader and several ISO 14443 readers: a tap on any of them
 * will do. Each is borrowed from sectagd (if it runs), powered and
 * polled; the first to report a tag (or one listing a tag already) is
 * the one, set in tp->dev with its borrow, and the others are left as
 * they were found (*@borrowed: so it was). One reader or none: tp->dev
 * is pick_reader()'s. 0 or an exit code; *@left_ms: what is left of the
 * wait.
 */
static int pick_any(struct tap *tp, int *left_ms, const char *prompt,
		    bool *borrowed)
{
	int64_t end = sectag_agent_now_ms() + *left_ms, ms;
	size_t i, which = SIZE_MAX;
	struct any a;
	int rc;

	*borrowed = false;
	rc = any_list(tp, &a);
	if (rc)
		return rc;
	if (a.n < 2)
		return pick_reader(tp, NULL);
	for (i = 0; !rc && i < a.n; i++)
		rc = any_borrow(tp, &a.r[i], *left_ms);
	/* A tag already on a reader: that one, without polling. */
	for (i = 0; !rc && i < a.n && which == SIZE_MAX; i++) {
		tp->dev = a.r[i].dev;
		if (!first_listed(tp))
			which = i;
	}
	if (!rc && which == SIZE_MAX)
		rc = any_wait(tp, &a, *left_ms, prompt, &which);
	any_release(tp, &a, rc ? SIZE_MAX : which);
	if (rc)
		return rc;
	tp->dev = a.r[which].dev;
	tp->agent_fd = a.r[which].agent_fd;
	*borrowed = true;
	if (*left_ms >= 0) {
		ms = end - sectag_agent_now_ms();
		*left_ms = ms > 0 ? (int)ms : 1;
	}
	return 0;
}

void tap_end(struct tap *tp)
{
	if (tp->pcsc || tp->card) {
		pcsc_tap_end(tp);
		return;
	}
	sectag_ntag_free(tp->t);
	if (tp->link.fd >= 0)
		sectag_nfc_disconnect(tp->nfc, tp->dev.idx, tp->target.idx,
				      tp->link.fd);
	/* Leave the reader as found: stop a poll nobody answered. */
	if (tp->polling)
		sectag_nfc_stop_poll(tp->nfc, tp->dev.idx);
	sectag_nfc_close(tp->nfc);
	tap_return(tp);
	memset(tp, 0, sizeof(*tp));
	tp->link.fd = -1;
	tp->agent_fd = -1;
}

int tap_begin(struct tap *tp, const char *reader, int timeout_ms,
	      const char *prompt)
{
	bool borrowed = false;
	int rc;

	if (pcsc_reader_name(reader))
		return pcsc_tap_begin(tp, reader, timeout_ms, prompt);
	memset(tp, 0, sizeof(*tp));
	tp->link.fd = -1;
	tp->agent_fd = -1;
	rc = open_nfc(&tp->nfc);
	if (!rc && reader == tap_any_reader)
		rc = pick_any(tp, &timeout_ms, prompt, &borrowed);
	else if (!rc)
		rc = pick_reader(tp, reader);
	if (!rc)
		snprintf(tp->name, sizeof(tp->name), "%s", tp->dev.name);
	/* pick_any() borrowed the reader it picked, if there were several. */
	if (!rc && !borrowed)
		rc = tap_borrow(tp, timeout_ms);
	if (!rc)
		rc = power_up(tp, &tp->dev);
	if (!rc)
		rc = get_tag(tp, timeout_ms, prompt);
	if (rc)
		tap_end(tp);
	return rc;
}

