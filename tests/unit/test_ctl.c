// SPDX-License-Identifier: GPL-2.0
/*
 * Host unit tests of sectagd's control socket logic (userspace/agent/ctl.c,
 * config.c and reader.c, compiled in) under ASan + UBSan: the connection table's
 * limits and evictions, one tap answering one request (the oldest local
 * one on the reader's seat), busy refusals, idle and request deadlines.
 * The event loop, the clock and the store are stubs; clients are
 * socketpairs whose other end reads the answers. TAP output.
 */
#include <stdarg.h>

#include "../../userspace/agent/ctl.c"
#include "../../userspace/agent/config.c"
#include "../../userspace/agent/reader.c"
#include "../../userspace/agent/log.c"
#include "../../userspace/agent/sd.c"
#include "unit_tap.h"

/* ------------------------------------------------------------- stubs */

static int64_t clock_ms = 1000000;

int64_t agent_now_ms(void)
{
	return clock_ms;
}

int agent_watch(struct agent *a, int fd, void *ptr)
{
	(void)a;
	(void)fd;
	(void)ptr;
	return 0;
}

void agent_arm_timer(struct agent *a)
{
	(void)a;
}

/* cache.c: one user binding, alice. */
int agent_store(struct agent *a, const struct sectag_store **st)
{
	static struct sectag_binding alice = {
		.kind = SECTAG_BIND_USER, .target = "alice"
	};
	static const struct sectag_store one = { .b = &alice, .n = 1 };

	(void)a;
	*st = &one;
	return 0;
}

/* NFC and tap stubs: what the borrow code asked of the reader. */
static int polls, stops, ups, losts;
static int poll_rc;			/* what start_poll answers */

int sectag_nfc_dev_up(struct sectag_nfc *nfc, uint32_t idx)
{
	(void)nfc;
	(void)idx;
	ups++;
	return -EALREADY;
}

int sectag_nfc_start_poll(struct sectag_nfc *nfc, uint32_t idx,
			  uint32_t protocols)
{
	(void)nfc;
	(void)idx;
	(void)protocols;
	polls++;
	return poll_rc;
}

int sectag_nfc_stop_poll(struct sectag_nfc *nfc, uint32_t idx)
{
	(void)nfc;
	(void)idx;
	stops++;
	return 0;
}

void tap_lost(struct agent *a, struct reader *r)
{
	(void)a;
	r->tag_fd = -1;
	losts++;
}

/* reader.c's PC/SC hook (agent/pcsc.c): no PC/SC reader here. */
void pcsc_poll(struct agent *a, struct reader *r)
{
	(void)a;
	(void)r;
}

/* ----------------------------------------------------------- helpers */

static struct agent ag;
static int peer[SECTAGD_MAX_CLIENTS];	/* our end of each client */

static void reset(void)
{
	int i;

	for (i = 0; i < SECTAGD_MAX_CLIENTS; i++) {
		if (ag.clients[i].fd >= 0 && ag.clients[i].fd != 0)
			close(ag.clients[i].fd);
		if (peer[i] > 0)
			close(peer[i]);
		peer[i] = -1;
	}
	memset(&ag, 0, sizeof(ag));
	config_defaults(&ag.cfg);
	ag.epfd = -1;
	for (i = 0; i < SECTAGD_MAX_CLIENTS; i++)
		ag.clients[i].fd = -1;
}

/* Admit a connection of @uid as ctl_accept() does: its slot, or NULL. */
static struct client *connect_as(uid_t uid)
{
	struct client *c = admit(&ag, uid);
	int sv[2];

	if (!c)
		return NULL;
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK, 0, sv))
		abort();
	if (peer[c - ag.clients] > 0)
		close(peer[c - ag.clients]);
	memset(c, 0, sizeof(*c));
	c->fd = sv[0];
	c->uid = uid;
	c->pid = 0;		/* no logind session */
	c->conn_seq = ++ag.conn_seq;
	c->idle_deadline_ms = clock_ms + SECTAGD_IDLE_MS;
	peer[c - ag.clients] = sv[1];
	return c;
}

static int count(uid_t uid)
{
	return conns_of(&ag, uid);
}

/* Send @req on @c's behalf and run it through ctl_input(). */
static void request(struct client *c, const char *req)
{
	if (send(peer[c - ag.clients], req, strlen(req), 0) < 0)
		abort();
	ctl_input(&ag, c);
}

/* The next answer @c got, "" if none; "CLOSED" when it was closed. */
static const char *answer(struct client *c, int slot)
{
	static char buf[600];
	ssize_t n = recv(peer[slot], buf, sizeof(buf) - 1, MSG_DONTWAIT);

	(void)c;
	if (n == 0)
		return "CLOSED";
	if (n < 0)
		return "";
	buf[n] = 0;
	return buf;
}

/* ------------------------------------------------------------- tests */

static bool t_per_uid_limit(void)
{
	int i;

	reset();
	for (i = 0; i < 4; i++)
		CHECK(connect_as(1000));
	CHECK(!connect_as(1000));
	CHECK(count(1000) == 4);
	CHECK(connect_as(1001));	/* others are not affected */
	ag.cfg.max_conn_per_uid = 1;
	CHECK(!connect_as(1001));
	return true;
}

static bool t_root_reserve(void)
{
	int i, u;

	reset();
	/* 12 users with 4 each: every slot but root's 16. */
	for (u = 0; u < 12; u++)
		for (i = 0; i < 4; i++)
			CHECK(connect_as(2000 + u));
	/* A 13th user evicts one of a user holding most. */
	CHECK(connect_as(3000));
	CHECK(count(3000) == 1);
	CHECK(count(2000) == 3);
	/* It cannot grow at their expense beyond fairness. */
	CHECK(connect_as(3000));
	CHECK(count(3000) == 2);
	/* Root: 16 free slots, then evictions of idle non-root ones. */
	for (i = 0; i < 16; i++)
		CHECK(connect_as(0));
	CHECK(count(0) == 16);
	for (i = 0; i < 48; i++)
		CHECK(connect_as(0));
	CHECK(count(0) == 64);
	/* A table of root's: nobody evicts root. */
	CHECK(!connect_as(0));
	CHECK(!connect_as(4000));
	return true;
}

static bool t_root_evicts_waiting_of_top_uid(void)
{
	struct client *c;
	int i, u;

	reset();
	for (u = 0; u < 12; u++) {
		for (i = 0; i < 4; i++) {
			c = connect_as(2000 + u);
			CHECK(c);
			c->waiting = true;	/* none idle */
			c->deadline_ms = clock_ms + 100000;
		}
	}
	for (i = 0; i < 16; i++)
		CHECK(connect_as(0));
	c = connect_as(0);
	CHECK(c);
	/* The oldest connection of a user holding most (2000's first). */
	CHECK(count(2000) == 3);
	/* An idle one goes first when there is one. */
	for (i = 0; i < SECTAGD_MAX_CLIENTS; i++)
		if (ag.clients[i].uid == 2011) {
			ag.clients[i].waiting = false;
			break;
		}
	CHECK(connect_as(0));
	CHECK(count(2011) == 3 && count(2000) == 3);
	return true;
}

/* A user sends nothing: closed after the idle time, not before. */
static bool t_idle_closed(void)
{
	struct client *c;
	int slot;

	reset();
	c = connect_as(1000);
	CHECK(c);
	slot = c - ag.clients;
	CHECK(ctl_next_deadline(&ag) == clock_ms + SECTAGD_IDLE_MS);
	clock_ms += SECTAGD_IDLE_MS - 1;
	ctl_expire(&ag);
	CHECK(c->fd >= 0);
	clock_ms += 1;
	ctl_expire(&ag);
	CHECK(c->fd < 0);
	CHECK(!strcmp(answer(c, slot), "CLOSED"));
	CHECK(ctl_next_deadline(&ag) == 0);
	return true;
}

static struct client *waiter(const char *req, int *slot)
{
	struct client *c = connect_as(0);

	if (!c)
		return NULL;
	*slot = c - ag.clients;
	request(c, req);
	if (strcmp(answer(c, *slot), "WAITING"))
		return NULL;
	return c;
}

static bool t_one_tap_one_request(void)
{
	struct released rel[2] = {
		{ SECTAG_BIND_USER, "alice", 1, false },
		{ SECTAG_BIND_NAME, "door", 2, false },
	};
	struct reader r = { .idx = 0 };
	struct client *door, *login;
	int sd, sl;

	reset();
	door = waiter("AUTH name door 10000", &sd);
	CHECK(door);
	login = waiter("AUTH user alice 10000 service=login tty=tty2", &sl);
	CHECK(login);
	/* Nothing released: nobody answered. */
	ctl_tap_result(&ag, &r, rel, 0);
	CHECK(!strcmp(answer(door, sd), "") && !strcmp(answer(login, sl), ""));
	/* Another user's binding: nobody answered. */
	{
		struct released bob = { SECTAG_BIND_USER, "bob", 3, false };

		ctl_tap_result(&ag, &r, &bob, 1);
		CHECK(!strcmp(answer(door, sd), "") &&
		      !strcmp(answer(login, sl), ""));
	}
	/* A tap releasing both: the older only. */
	ctl_tap_result(&ag, &r, rel, 2);
	CHECK(!strcmp(answer(door, sd), "OK 2"));
	CHECK(!strcmp(answer(login, sl), ""));
	CHECK(login->waiting && !door->waiting);
	ctl_tap_result(&ag, &r, rel, 2);
	CHECK(!strcmp(answer(login, sl), "OK 1"));
	CHECK(!strcmp(answer(door, sd), ""));
	return true;
}

/*
 * A tap whose tpm2 binding the TPM refused: its volume's request gets
 * FAIL sealed at once; a release of the same volume wins over it.
 */
static bool t_sealed_refusal(void)
{
	static const char vol[] = "0b5f8a44-1c6e-4d3a-9a51-5e0c1f2b7d90";
	struct released sealed = { SECTAG_BIND_LUKS, "", 4, true };
	struct released both[2] = {
		{ SECTAG_BIND_LUKS, "", 4, true },
		{ SECTAG_BIND_LUKS, "", 5, false },
	};
	struct released other = { SECTAG_BIND_USER, "alice", 1, true };
	struct reader r = { .idx = 0 };
	struct client *c;
	char req[96];
	int sc;

	snprintf(sealed.target, sizeof(sealed.target), "%s", vol);
	snprintf(both[0].target, sizeof(both[0].target), "%s", vol);
	snprintf(both[1].target, sizeof(both[1].target), "%s", vol);
	snprintf(req, sizeof(req), "AUTH luks %s 10000", vol);
	reset();
	c = waiter(req, &sc);
	CHECK(c);
	ctl_tap_result(&ag, &r, &other, 1);
	CHECK(!strcmp(answer(c, sc), "") && c->waiting);
	ctl_tap_result(&ag, &r, &sealed, 1);
	CHECK(!strcmp(answer(c, sc), "FAIL sealed"));
	CHECK(!c->waiting);
	c = waiter(req, &sc);
	CHECK(c);
	ctl_tap_result(&ag, &r, both, 2);
	CHECK(!strcmp(answer(c, sc), "OK 5"));
	return true;
}

static bool t_busy(void)
{
	struct client *first, *second;
	int s1, s2;
	char want[100];

	reset();
	first = waiter("AUTH user alice 10000 service=su tty=pts/3", &s1);
	CHECK(first);
	second = connect_as(0);
	CHECK(second);
	s2 = second - ag.clients;
	request(second, "AUTH user alice 10000 service=login tty=tty2");
	CHECK(!strcmp(answer(second, s2), "FAIL busy service=su tty=pts/3 uid=0"));
	CHECK(!second->waiting);
	/* Once the first ends, the next request may wait. */
	clock_ms += 10000;
	ctl_expire(&ag);
	CHECK(!strcmp(answer(first, s1), "TIMEOUT"));
	/* The refused one was idle meanwhile, and closed. */
	CHECK(second->fd < 0 && !strcmp(answer(second, s2), "CLOSED"));
	second = connect_as(0);
	CHECK(second);
	s2 = second - ag.clients;
	request(second, "AUTH user alice 10000");
	CHECK(!strcmp(answer(second, s2), "WAITING"));
	/* A message during a wait ends it. */
	request(second, "PING");
	CHECK(second->fd < 0);
	snprintf(want, sizeof(want), "%s", answer(second, s2));
	CHECK(!strcmp(want, "CLOSED"));
	return true;
}

static bool t_seats_and_remote(void)
{
	struct released rel = { SECTAG_BIND_USER, "alice", 1, false };
	struct reader r0 = { .idx = 0 }, r1 = { .idx = 1 };
	struct client *remote, *local;
	int sr, sl, sx;
	struct client *x;

	reset();
	CHECK(!config_line(&ag.cfg, (char[]){ "remote_services = sshd, cockpit" },
			   "t", 1));
	CHECK(!config_line(&ag.cfg, (char[]){ "reader_seat = nfc1 seat1" }, "t", 2));
	CHECK(!strcmp(config_reader_seat(&ag.cfg, 1), "seat1"));
	CHECK(!strcmp(config_reader_seat(&ag.cfg, 0), "seat0"));
	/* Remote, service not allowed. */
	x = connect_as(0);
	sx = x - ag.clients;
	request(x, "AUTH user alice 5000 service=su rhost=evil.example");
	CHECK(!strcmp(answer(x, sx), "FAIL remote"));
	request(x, "AUTH user alice 5000 service=login seat=seat9");
	CHECK(!strcmp(answer(x, sx), "FAIL noseat"));
	/* An allowed remote request, older than a local one on seat1. */
	remote = waiter("AUTH user alice 5000 service=sshd rhost=a.example", &sr);
	CHECK(remote && remote->remote);
	/* (one request per binding: the local one is for bob's.) */
	rel.kind = SECTAG_BIND_USER;
	local = waiter("AUTH user bob 5000 service=login seat=seat1", &sl);
	CHECK(local && !local->remote && !strcmp(local->seat, "seat1"));
	/* A tap of bob's tag on seat0's reader: not for seat1's request. */
	strcpy(rel.target, "bob");
	ctl_tap_result(&ag, &r0, &rel, 1);
	CHECK(!strcmp(answer(local, sl), ""));
	ctl_tap_result(&ag, &r1, &rel, 1);
	CHECK(!strcmp(answer(local, sl), "OK 1"));
	/* The remote one: any reader. */
	strcpy(rel.target, "alice");
	ctl_tap_result(&ag, &r1, &rel, 1);
	CHECK(!strcmp(answer(remote, sr), "OK 1"));
	return true;
}

static bool t_unprivileged_only_self(void)
{
	struct client *c;
	struct passwd *pw = getpwuid(getuid() ? getuid() : 65534);
	char req[200];
	int s;

	reset();
	CHECK(pw);
	c = connect_as(pw->pw_uid);
	CHECK(c);
	s = c - ag.clients;
	request(c, "HAS user root");
	CHECK(!strcmp(answer(c, s), "FAIL denied"));
	request(c, "AUTH name door 100");
	CHECK(!strcmp(answer(c, s), "FAIL denied"));
	snprintf(req, sizeof(req), "HAS user %s", pw->pw_name);
	request(c, req);
	CHECK(!strncmp(answer(c, s), "OK ", 3));
	request(c, "AUTH user x 0");
	CHECK(!strcmp(answer(c, s), "FAIL bad-request"));
	return true;
}

/* A root connection that borrowed nfc3 (known to the agent, holding a tag). */
static struct client *borrowed3(int *slot)
{
	struct client *c;

	ag.readers[0].used = true;
	ag.readers[0].idx = 3;
	ag.readers[0].tag_fd = 99;	/* a tag held: let go on BORROW */
	ag.readers[1].used = true;
	ag.readers[1].idx = 1;
	ag.readers[1].tag_fd = -1;
	polls = stops = ups = losts = poll_rc = 0;
	c = connect_as(0);
	if (!c)
		return NULL;
	*slot = c - ag.clients;
	request(c, "BORROW nfc3 60000");
	return c;
}

static bool t_borrow_and_return(void)
{
	struct client *c, *d, *u;
	int s, sd, su;

	reset();
	c = borrowed3(&s);
	CHECK(c);
	CHECK(!strcmp(answer(c, s), "OK 3"));
	CHECK(c->borrowing && ctl_borrowed(&ag, 3) && !ctl_borrowed(&ag, 1));
	/* the agent let its tag go and stopped polling */
	CHECK(losts == 1 && stops == 1 && ag.readers[0].tag_fd == -1);
	/* one borrower per reader: another root command is told whose */
	d = connect_as(0);
	CHECK(d);
	sd = d - ag.clients;
	request(d, "BORROW nfc3 1000");
	CHECK(!strcmp(answer(d, sd), "FAIL borrowed uid=0"));
	/* STATUS: pending requests, each reader's state, by index */
	ag.readers[1].tag_fd = 7;
	request(d, "STATUS");
	CHECK(!strcmp(answer(d, sd), "STATE 0 nfc1=tag nfc3=borrowed"));
	ag.readers[1].tag_fd = -1;
	/* not past idle time: a borrow lasts until its own deadline */
	clock_ms += SECTAGD_IDLE_MS + 1;
	ctl_expire(&ag);
	CHECK(c->fd >= 0 && c->borrowing);
	CHECK(!strcmp(answer(d, sd), "CLOSED"));	/* d was idle */
	CHECK(ctl_next_deadline(&ag) == c->deadline_ms);
	CHECK(polls == 0);
	request(c, "RETURN");
	CHECK(!strcmp(answer(c, s), "OK 3"));
	CHECK(!c->borrowing && !ctl_borrowed(&ag, 3) && polls == 1);
	request(c, "RETURN");		/* nothing borrowed any more */
	CHECK(!strcmp(answer(c, s), "FAIL bad-request"));
	/* now another one may */
	d = connect_as(0);
	CHECK(d);
	sd = d - ag.clients;
	request(d, "BORROW nfc3 1000");
	CHECK(!strcmp(answer(d, sd), "OK 3"));
	/* users may neither borrow nor see the state */
	u = connect_as(1000);
	CHECK(u);
	su = u - ag.clients;
	request(u, "BORROW nfc1 1000");
	CHECK(!strcmp(answer(u, su), "FAIL denied"));
	CHECK(!ctl_borrowed(&ag, 1));
	request(u, "STATUS");
	CHECK(!strcmp(answer(u, su), "FAIL denied"));
	request(u, "PING");
	CHECK(!strcmp(answer(u, su), "OK sectagd 2"));
	return true;
}

static bool t_borrow_ends_with_connection(void)
{
	struct client *c;
	int s;

	/* closed (a killed CLI): the agent polls again */
	reset();
	c = borrowed3(&s);
	CHECK(c && !strcmp(answer(c, s), "OK 3"));
	close(peer[s]);
	peer[s] = -1;
	ctl_input(&ag, c);
	CHECK(c->fd == -1 && !ctl_borrowed(&ag, 3) && polls == 1);
	/* anything but RETURN ends the borrow and the connection */
	reset();
	c = borrowed3(&s);
	CHECK(c && !strcmp(answer(c, s), "OK 3"));
	request(c, "PING");
	CHECK(!strcmp(answer(c, s), "CLOSED"));
	CHECK(!ctl_borrowed(&ag, 3) && polls == 1);
	reset();
	c = borrowed3(&s);
	CHECK(c && !strcmp(answer(c, s), "OK 3"));
	request(c, "garbage");
	CHECK(!strcmp(answer(c, s), "CLOSED"));
	CHECK(!ctl_borrowed(&ag, 3) && polls == 1);
	/* its time is up */
	reset();
	c = borrowed3(&s);
	CHECK(c && !strcmp(answer(c, s), "OK 3"));
	CHECK(ctl_next_deadline(&ag) == clock_ms + 60000);
	clock_ms += 59999;
	ctl_expire(&ag);
	CHECK(ctl_borrowed(&ag, 3) && polls == 0);
	clock_ms += 1;
	ctl_expire(&ag);
	CHECK(!strcmp(answer(c, s), "CLOSED"));
	CHECK(!ctl_borrowed(&ag, 3) && polls == 1);
	return true;
}

/* Run the deadline timer until @polls polls were made (or 1000 ticks). */
static void repoll_until(int want)
{
	int i;

	for (i = 0; i < 1000 && polls < want && ag.readers[0].repoll_ms; i++) {
		clock_ms = ag.readers[0].repoll_ms;
		ctl_expire(&ag);
		readers_repoll_due(&ag);
	}
}

/*
 * The borrower's poll still runs: the agent tries again, 100 ms later
 * and backing off to every 5 s, and never stops trying while the reader
 * stays idle; once a poll runs, nothing more is scheduled.
 */
static bool t_borrow_repoll(void)
{
	struct client *c;
	int64_t last;
	int s;

	reset();
	c = borrowed3(&s);
	CHECK(c && !strcmp(answer(c, s), "OK 3"));
	poll_rc = -EBUSY;
	request(c, "RETURN");
	CHECK(!strcmp(answer(c, s), "OK 3"));
	CHECK(polls == 1 && ag.readers[0].repoll_ms == clock_ms + 100);
	CHECK(readers_next_repoll(&ag) == clock_ms + 100);
	clock_ms += 99;
	readers_repoll_due(&ag);
	CHECK(polls == 1);
	clock_ms += 1;
	readers_repoll_due(&ag);
	CHECK(polls == 2 && ag.readers[0].repoll_ms == clock_ms + 200);
	poll_rc = 0;
	repoll_until(3);
	CHECK(polls == 3 && !ag.readers[0].repoll_ms && ag.readers[0].polling);
	/* polling already: asking again sends nothing */
	reader_poll(&ag, &ag.readers[0]);
	CHECK(polls == 3);
	/* forever busy (another program polls it): every 5 s, for good */
	reset();
	c = borrowed3(&s);
	CHECK(c && !strcmp(answer(c, s), "OK 3"));
	poll_rc = -EBUSY;
	request(c, "RETURN");
	repoll_until(100);
	CHECK(polls == 100 && ag.readers[0].repoll_delay_ms == 5000);
	last = clock_ms;
	repoll_until(101);
	CHECK(polls == 101 && clock_ms == last + 5000);
	/* a borrow meanwhile cancels the retries */
	reset();
	c = borrowed3(&s);
	CHECK(c && !strcmp(answer(c, s), "OK 3"));
	poll_rc = -EBUSY;
	request(c, "RETURN");
	CHECK(!strcmp(answer(c, s), "OK 3") && ag.readers[0].repoll_ms);
	request(c, "BORROW nfc3 1000");
	CHECK(!strcmp(answer(c, s), "OK 3") && !ag.readers[0].repoll_ms);
	clock_ms += 500;
	ctl_expire(&ag);
	readers_repoll_due(&ag);
	CHECK(polls == 1 && ctl_borrowed(&ag, 3));
	return true;
}

static const struct tap_case tests[] = {
	{ "per_uid_connection_limit", t_per_uid_limit },
	{ "root_reserve_and_evictions", t_root_reserve },
	{ "root_evicts_top_uid_when_none_idle", t_root_evicts_waiting_of_top_uid },
	{ "idle_connection_closed_after_idle_time", t_idle_closed },
	{ "one_tap_answers_the_oldest_request_only", t_one_tap_one_request },
	{ "tpm_refusal_answers_fail_sealed", t_sealed_refusal },
	{ "second_request_refused_busy", t_busy },
	{ "seats_and_remote_requests", t_seats_and_remote },
	{ "unprivileged_only_about_themselves", t_unprivileged_only_self },
	{ "borrow_and_return_root_only", t_borrow_and_return },
	{ "borrow_ends_with_connection_garbage_or_time", t_borrow_ends_with_connection },
	{ "after_borrow_poll_retried_while_busy", t_borrow_repoll },
};

int main(void)
{
	size_t i;
	int failed;

	openlog("test_ctl", LOG_PERROR, LOG_USER);
	setlogmask(LOG_UPTO(LOG_WARNING));
	for (i = 0; i < SECTAGD_MAX_CLIENTS; i++)
		ag.clients[i].fd = -1;
	failed = tap_run_all(tests, sizeof(tests) / sizeof(tests[0]));
	reset();
	return failed ? 1 : 0;
}
