// SPDX-License-Identifier: GPL-2.0
/*
 * Host unit tests of the agent protocol (userspace/lib/agent.c) under
 * ASan + UBSan: requests and answers formatted and parsed back, every
 * near miss refused, escapes, limits, and the client calls against a
 * socket of this process (timeouts, hang-ups, oversized and unasked
 * messages, descriptors). TAP output.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <signal.h>
#include <unistd.h>

#include "agent.h"
#include "store.h"
#include "unit_tap.h"

static int req_parse_s(const char *s, struct sectag_agent_req *r)
{
	return sectag_agent_req_parse(s, strlen(s), r);
}

static int ans_parse_s(const char *s, struct sectag_agent_ans *a)
{
	return sectag_agent_ans_parse(s, strlen(s), a);
}

static bool req_equal(const struct sectag_agent_req *a,
		      const struct sectag_agent_req *b)
{
	return a->verb == b->verb && a->kind == b->kind &&
	       !strcmp(a->target, b->target) && a->ms == b->ms &&
	       a->reader == b->reader &&
	       !strcmp(a->o.service, b->o.service) &&
	       !strcmp(a->o.tty, b->o.tty) && !strcmp(a->o.seat, b->o.seat) &&
	       !strcmp(a->o.rhost, b->o.rhost) &&
	       !strcmp(a->o.ruser, b->o.ruser);
}

static bool t_ping_has(void)
{
	struct sectag_agent_req r = { .verb = SECTAG_AGENT_PING }, p;
	char buf[600];

	CHECK(sectag_agent_req_format(&r, buf, sizeof(buf)) == 4);
	CHECK(!strcmp(buf, "PING"));
	CHECK(!req_parse_s("PING", &p) && p.verb == SECTAG_AGENT_PING);
	r.verb = SECTAG_AGENT_HAS;
	r.kind = SECTAG_BIND_USER;
	strcpy(r.target, "alice");
	CHECK(sectag_agent_req_format(&r, buf, sizeof(buf)) > 0);
	CHECK(!strcmp(buf, "HAS user alice"));
	CHECK(!req_parse_s(buf, &p) && req_equal(&r, &p));
	CHECK(!req_parse_s("HAS name door", &p) && p.kind == SECTAG_BIND_NAME &&
	      !strcmp(p.target, "door"));
	return true;
}

static bool t_auth_round_trip(void)
{
	struct sectag_agent_req r = {
		.verb = SECTAG_AGENT_AUTH, .kind = SECTAG_BIND_USER,
		.target = "alice", .ms = 15000,
		.o = { "sudo", "/dev/pts/3", "seat0", "host with space", "bob%x" },
	}, p;
	char buf[600];
	int n;

	n = sectag_agent_req_format(&r, buf, sizeof(buf));
	CHECK(n > 0 && (size_t)n == strlen(buf));
	CHECK(!strcmp(buf, "AUTH user alice 15000 service=sudo tty=/dev/pts/3 "
		      "seat=seat0 rhost=host%20with%20space ruser=bob%25x"));
	CHECK(!req_parse_s(buf, &p) && req_equal(&r, &p));
	/* Keys in the documented order only; absent ones are "". */
	CHECK(req_parse_s("AUTH user bob 1 tty=tty2 service=login", &p) ==
	      -EBADMSG);
	CHECK(!req_parse_s("AUTH user bob 1 service=login tty=tty2", &p));
	CHECK(!strcmp(p.o.tty, "tty2") && !strcmp(p.o.service, "login") &&
	      !*p.o.seat && !*p.o.rhost && !*p.o.ruser && p.ms == 1);
	CHECK(!req_parse_s("AUTH user bob 1 ruser=carol", &p) &&
	      !strcmp(p.o.ruser, "carol") && !*p.o.service);
	CHECK(!req_parse_s("AUTH name door 600000", &p) && p.ms == 600000);
	/* Only what has a value is written. */
	memset(&r.o, 0, sizeof(r.o));
	CHECK(sectag_agent_req_format(&r, buf, sizeof(buf)) > 0);
	CHECK(!strcmp(buf, "AUTH user alice 15000"));
	return true;
}

static bool t_req_refused(void)
{
	static const char *const bad[] = {
		"", " ", "PING ", " PING", "PING  ", "PING x", "ping", "PONG",
		"HAS", "HAS user", "HAS user alice x", "HAS disk alice",
		"HAS User alice", "HAS user  alice", "HAS user alice ",
		"HAS user al\tice", "WAIT user alice 1000",
		"AUTH user alice", "AUTH user alice 0", "AUTH user alice 600001",
		"AUTH user alice 01", "AUTH user alice -1", "AUTH user alice +5",
		"AUTH user alice 1x", "AUTH user alice 99999999999999999999",
		"AUTH user alice 10 foo=bar", "AUTH user alice 10 service",
		"AUTH user alice 10 service=", "AUTH user alice 10 =x",
		"AUTH user alice 10 service=a service=b",
		"AUTH user alice 10 tty=%2", "AUTH user alice 10 tty=%2g",
		"AUTH user alice 10 tty=%41", "AUTH user alice 10 tty=%2f",
		"AUTH user alice 10 tty=%00", "AUTH user alice 10 tty=%7F",
		"AUTH user alice 10 tty=a%", "AUTH user alice 10 tty=%%",
		"AUTH user alice 10 a=1 b=2 c=3 d=4 e=5 f=6",
		"AUTH user alice 10 service=s tty=t seat=s rhost=r ruser=u tty=t",
	};
	struct sectag_agent_req r;
	char big[700];
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (!req_parse_s(bad[i], &r)) {
			printf("# accepted: '%s'\n", bad[i]);
			return false;
		}
		CHECK(r.verb == 0 && !*r.target);	/* nothing half-filled */
	}
	CHECK(sectag_agent_req_parse("PING\0", 5, &r) == -EBADMSG);
	CHECK(sectag_agent_req_parse("HAS user al\0ce", 14, &r) == -EBADMSG);
	CHECK(sectag_agent_req_parse("HAS user \xc3\xa9", 11, &r) == -EBADMSG);
	CHECK(sectag_agent_req_parse("HAS user a\x7f", 11, &r) == -EBADMSG);
	/* Field limits. */
	memset(big, 'a', sizeof(big));
	memcpy(big, "HAS user ", 9);
	CHECK(sectag_agent_req_parse(big, 9 + 127, &r) == 0);
	CHECK(sectag_agent_req_parse(big, 9 + 128, &r) == -EBADMSG);
	memcpy(big, "AUTH user a 5 rhost=", 20);
	CHECK(sectag_agent_req_parse(big, 20 + 127, &r) == 0);
	CHECK(strlen(r.o.rhost) == 127);
	CHECK(sectag_agent_req_parse(big, 20 + 128, &r) == -EBADMSG);
	memcpy(big, "AUTH user a 5 seat=", 19);
	CHECK(sectag_agent_req_parse(big, 19 + 32, &r) == -EBADMSG);
	/* The message size limit, whatever is in it. */
	memset(big, 'a', sizeof(big));
	memcpy(big, "HAS user ", 9);
	CHECK(sectag_agent_req_parse(big, SECTAG_AGENT_MSG_MAX + 1, &r) ==
	      -EBADMSG);
	return true;
}

static bool t_req_format_refused(void)
{
	struct sectag_agent_req r = { .verb = SECTAG_AGENT_AUTH,
				      .kind = SECTAG_BIND_USER,
				      .target = "alice", .ms = 5 };
	char buf[600];
	size_t i;

	CHECK(sectag_agent_req_format(&r, buf, 8) == -EMSGSIZE);
	CHECK(sectag_agent_req_format(&r, buf, 0) == -EMSGSIZE);
	r.ms = 0;
	CHECK(sectag_agent_req_format(&r, buf, sizeof(buf)) == -EINVAL);
	r.ms = SECTAG_AGENT_WAIT_MAX_MS + 1;
	CHECK(sectag_agent_req_format(&r, buf, sizeof(buf)) == -EINVAL);
	r.ms = 5;
	strcpy(r.o.tty, "a\nb");
	CHECK(sectag_agent_req_format(&r, buf, sizeof(buf)) == -EINVAL);
	r.o.tty[0] = 0;
	strcpy(r.target, "al ice");
	CHECK(sectag_agent_req_format(&r, buf, sizeof(buf)) == -EINVAL);
	strcpy(r.target, "alice");
	r.kind = 0;
	CHECK(sectag_agent_req_format(&r, buf, sizeof(buf)) == -EINVAL);
	r.kind = SECTAG_BIND_USER;
	r.verb = 99;
	CHECK(sectag_agent_req_format(&r, buf, sizeof(buf)) == -EINVAL);
	/* Every field full of blanks: three bytes each, over the limit. */
	r.verb = SECTAG_AGENT_AUTH;
	memset(r.o.rhost, ' ', sizeof(r.o.rhost) - 1);
	memset(r.o.service, ' ', sizeof(r.o.service) - 1);
	memset(r.o.tty, ' ', sizeof(r.o.tty) - 1);
	CHECK(sectag_agent_req_format(&r, buf, sizeof(buf)) == -EMSGSIZE);
	for (i = 0; i < sizeof(buf); i++)
		if (!buf[i])
			break;
	CHECK(i < sizeof(buf));		/* always terminated */
	return true;
}

static bool t_answers(void)
{
	struct sectag_agent_ans a = { 0 }, p;
	char buf[600];
	int f;

	a.type = SECTAG_AGENT_OK;
	a.n = 4294967295u;
	CHECK(sectag_agent_ans_format(&a, buf, sizeof(buf)) > 0);
	CHECK(!strcmp(buf, "OK 4294967295"));
	CHECK(!ans_parse_s(buf, &p) && p.type == SECTAG_AGENT_OK &&
	      p.n == 4294967295u);
	CHECK(!ans_parse_s("OK 0", &p) && p.n == 0);
	a.type = SECTAG_AGENT_HELLO;
	a.n = 2;
	CHECK(sectag_agent_ans_format(&a, buf, sizeof(buf)) > 0);
	CHECK(!strcmp(buf, "OK sectagd 2"));
	CHECK(!ans_parse_s(buf, &p) && p.type == SECTAG_AGENT_HELLO && p.n == 2);
	CHECK(!ans_parse_s("WAITING", &p) && p.type == SECTAG_AGENT_WAITING);
	CHECK(!ans_parse_s("TIMEOUT", &p) && p.type == SECTAG_AGENT_TIMEOUT);
	for (f = 1; f <= SECTAG_AGENT_E_MAX; f++) {
		memset(&a, 0, sizeof(a));
		a.type = SECTAG_AGENT_FAIL;
		a.fail = f;
		CHECK(sectag_agent_ans_format(&a, buf, sizeof(buf)) > 0);
		CHECK(!strncmp(buf, "FAIL ", 5) &&
		      !strcmp(buf + 5, sectag_agent_fail_name(f)));
		CHECK(!ans_parse_s(buf, &p) && p.type == SECTAG_AGENT_FAIL &&
		      (int)p.fail == f && !p.has_uid);
	}
	strcpy(a.service, "su");
	strcpy(a.tty, "/dev/pts 3");
	a.has_uid = true;
	a.uid = 1000;
	a.fail = SECTAG_AGENT_E_BUSY;
	CHECK(sectag_agent_ans_format(&a, buf, sizeof(buf)) > 0);
	CHECK(!strcmp(buf, "FAIL busy service=su tty=/dev/pts%203 uid=1000"));
	CHECK(!ans_parse_s(buf, &p) && p.fail == SECTAG_AGENT_E_BUSY &&
	      !strcmp(p.service, "su") && !strcmp(p.tty, "/dev/pts 3") &&
	      p.has_uid && p.uid == 1000);
	a.fail = 0;
	CHECK(sectag_agent_ans_format(&a, buf, sizeof(buf)) == -EINVAL);
	a.fail = SECTAG_AGENT_E_MAX + 1;
	CHECK(sectag_agent_ans_format(&a, buf, sizeof(buf)) == -EINVAL);
	CHECK(!strcmp(sectag_agent_fail_name(0), "?"));
	return true;
}

static bool t_answers_refused(void)
{
	/* pam_sectag's fake agent's near misses, and more. */
	static const struct { const char *s; size_t n; } bad[] = {
#define A(x) { x, sizeof(x) - 1 }
		A(""), A("OK"), A("OK "), A("OK x"), A("OK -1"), A("OK +1"),
		A("OK 1 2"), A("OK 1x"), A("OK 99999999999"),
		A("OK 4294967296"), A("OK 1\n"), A("OK 1\r\n"), A("ok 1"),
		A(" OK 1"), A("OK\t1"), A("OK  1"), A("OK 1\0junk"),
		A("OK 0x10"), A("\xffOK 1"), A("OK 1\x7f"), A("TIMEOUT\0"),
		A("TIMEOUTS"), A("FAIL"), A("OK 01"), A("WAITING "),
		A("WAITING\0"), A("FAIL nosuch"), A("FAIL busy uid=x"),
		A("FAIL busy tty=%41"), A("OK sectagd"), A("OK sectagd x"),
		A("FAIL busy service=a service=b"), A("WAITING OK 1"),
		A("FAIL denied uid=0"), A("FAIL busy foo=bar"),
		A("FAIL busy uid=4294967296"), A("OK sectagd 1001"),
		A("TIMEOUT 5"), A("FAIL busy uid="),
#undef A
	};
	struct sectag_agent_ans a;
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (sectag_agent_ans_parse(bad[i].s, bad[i].n, &a) != -EBADMSG) {
			printf("# accepted near miss %zu\n", i);
			return false;
		}
		CHECK(a.type == 0);
	}
	return true;
}

static bool t_clean_and_names(void)
{
	char out[8];

	sectag_agent_clean(out, sizeof(out), "a\tb\xffz");
	CHECK(!strcmp(out, "a?b?z"));
	sectag_agent_clean(out, sizeof(out), "0123456789");
	CHECK(!strcmp(out, "0123456"));
	sectag_agent_clean(out, sizeof(out), NULL);
	CHECK(!strcmp(out, ""));
	CHECK(sectag_agent_kind("user") == SECTAG_BIND_USER);
	CHECK(sectag_agent_kind("name") == SECTAG_BIND_NAME);
	CHECK(sectag_agent_kind("luks") == SECTAG_BIND_LUKS);
	CHECK(!strcmp(sectag_agent_kind_name(SECTAG_BIND_LUKS), "luks"));
	CHECK(sectag_agent_kind("disk") == 0);
	CHECK(!sectag_agent_kind_name(0));
	return true;
}

/* Random printable values survive a round trip, or are refused whole. */
static bool t_random_round_trip(void)
{
	struct sectag_agent_req r, p;
	char buf[SECTAG_AGENT_MSG_MAX + 1];
	unsigned int seed = 1, i, ok = 0;
	int n;

	for (i = 0; i < 20000; i++) {
		char *f[] = { r.o.service, r.o.tty, r.o.seat, r.o.rhost,
			      r.o.ruser };
		size_t sz[] = { sizeof(r.o.service), sizeof(r.o.tty),
				sizeof(r.o.seat), sizeof(r.o.rhost),
				sizeof(r.o.ruser) };
		size_t k, j, len;

		memset(&r, 0, sizeof(r));
		r.verb = SECTAG_AGENT_AUTH;
		r.kind = rand_r(&seed) & 1 ? SECTAG_BIND_USER : SECTAG_BIND_NAME;
		len = 1 + rand_r(&seed) % 20;
		for (j = 0; j < len; j++)
			r.target[j] = '!' + rand_r(&seed) % 94;
		r.ms = 1 + rand_r(&seed) % SECTAG_AGENT_WAIT_MAX_MS;
		for (k = 0; k < 5; k++) {
			len = rand_r(&seed) % sz[k];
			for (j = 0; j < len; j++)
				f[k][j] = ' ' + rand_r(&seed) % 95;
		}
		n = sectag_agent_req_format(&r, buf, sizeof(buf));
		if (n == -EMSGSIZE)
			continue;
		CHECK(n > 0);
		CHECK(!sectag_agent_req_parse(buf, n, &p));
		CHECK(req_equal(&r, &p));
		ok++;
	}
	printf("# %u of 20000 random requests fit and round-tripped\n", ok);
	CHECK(ok > 1000);
	return true;
}

/* BORROW, RETURN, STATUS and their answers: round trips. */
static bool t_borrow_status(void)
{
	struct sectag_agent_req r = { .verb = SECTAG_AGENT_BORROW }, p;
	struct sectag_agent_ans a = { .type = SECTAG_AGENT_STATE }, q;
	char buf[600];
	size_t i;

	r.reader = 4294967295u;
	r.ms = SECTAG_AGENT_BORROW_MAX_MS;
	CHECK(sectag_agent_req_format(&r, buf, sizeof(buf)) > 0);
	CHECK(!strcmp(buf, "BORROW nfc4294967295 600000"));
	CHECK(!req_parse_s(buf, &p) && req_equal(&r, &p));
	CHECK(!req_parse_s("BORROW nfc0 1", &p) &&
	      p.verb == SECTAG_AGENT_BORROW && p.reader == 0 && p.ms == 1);
	r.verb = SECTAG_AGENT_RETURN;
	CHECK(sectag_agent_req_format(&r, buf, sizeof(buf)) == 6);
	CHECK(!strcmp(buf, "RETURN"));
	CHECK(!req_parse_s(buf, &p) && p.verb == SECTAG_AGENT_RETURN);
	r.verb = SECTAG_AGENT_STATUS;
	CHECK(sectag_agent_req_format(&r, buf, sizeof(buf)) == 6);
	CHECK(!strcmp(buf, "STATUS"));
	CHECK(!req_parse_s(buf, &p) && p.verb == SECTAG_AGENT_STATUS);
	/* STATE: none, one, every state, the most readers */
	a.n = 3;
	CHECK(sectag_agent_ans_format(&a, buf, sizeof(buf)) > 0);
	CHECK(!strcmp(buf, "STATE 3"));
	CHECK(!ans_parse_s(buf, &q) && q.type == SECTAG_AGENT_STATE &&
	      q.n == 3 && q.n_readers == 0);
	a.n_readers = 3;
	a.readers[0].idx = 0;
	a.readers[0].state = SECTAG_AGENT_R_WATCH;
	a.readers[1].idx = 7;
	a.readers[1].state = SECTAG_AGENT_R_TAG;
	a.readers[2].idx = 12;
	a.readers[2].state = SECTAG_AGENT_R_BORROWED;
	CHECK(sectag_agent_ans_format(&a, buf, sizeof(buf)) > 0);
	CHECK(!strcmp(buf, "STATE 3 nfc0=watch nfc7=tag nfc12=borrowed"));
	CHECK(!ans_parse_s(buf, &q) && q.n_readers == 3 &&
	      q.readers[1].idx == 7 && q.readers[1].state == SECTAG_AGENT_R_TAG &&
	      q.readers[2].state == SECTAG_AGENT_R_BORROWED);
	a.n_readers = SECTAG_AGENT_STATE_MAX;
	for (i = 0; i < SECTAG_AGENT_STATE_MAX; i++) {
		a.readers[i].idx = 4294967295u - SECTAG_AGENT_STATE_MAX + i;
		a.readers[i].state = SECTAG_AGENT_R_BORROWED;
	}
	a.n = 4294967295u;
	CHECK(sectag_agent_ans_format(&a, buf, sizeof(buf)) > 0);
	CHECK(!ans_parse_s(buf, &q) && q.n_readers == SECTAG_AGENT_STATE_MAX &&
	      q.readers[15].idx == 4294967294u);
	/* unsendable: too many, out of order, repeated, unknown state */
	a.n_readers = SECTAG_AGENT_STATE_MAX + 1;
	CHECK(sectag_agent_ans_format(&a, buf, sizeof(buf)) == -EINVAL);
	a.n_readers = 2;
	a.readers[1].idx = a.readers[0].idx;
	CHECK(sectag_agent_ans_format(&a, buf, sizeof(buf)) == -EINVAL);
	a.readers[1].idx = a.readers[0].idx - 1;
	CHECK(sectag_agent_ans_format(&a, buf, sizeof(buf)) == -EINVAL);
	a.readers[1].idx = a.readers[0].idx + 1;
	a.readers[1].state = 0;
	CHECK(sectag_agent_ans_format(&a, buf, sizeof(buf)) == -EINVAL);
	a.readers[1].state = SECTAG_AGENT_R_MAX + 1;
	CHECK(sectag_agent_ans_format(&a, buf, sizeof(buf)) == -EINVAL);
	/* FAIL borrowed: uid only */
	memset(&a, 0, sizeof(a));
	a.type = SECTAG_AGENT_FAIL;
	a.fail = SECTAG_AGENT_E_BORROWED;
	a.has_uid = true;
	strcpy(a.service, "dropped");	/* not part of this answer */
	CHECK(sectag_agent_ans_format(&a, buf, sizeof(buf)) > 0);
	CHECK(!strcmp(buf, "FAIL borrowed uid=0"));
	CHECK(!ans_parse_s(buf, &q) && q.fail == SECTAG_AGENT_E_BORROWED &&
	      q.has_uid && q.uid == 0 && !*q.service);
	CHECK(!strcmp(sectag_agent_rstate_name(SECTAG_AGENT_R_TAG), "tag"));
	CHECK(!strcmp(sectag_agent_rstate_name(0), "?"));
	/* unsendable borrows */
	r.verb = SECTAG_AGENT_BORROW;
	r.ms = 0;
	CHECK(sectag_agent_req_format(&r, buf, sizeof(buf)) == -EINVAL);
	r.ms = SECTAG_AGENT_BORROW_MAX_MS + 1;
	CHECK(sectag_agent_req_format(&r, buf, sizeof(buf)) == -EINVAL);
	return true;
}

static bool t_borrow_status_refused(void)
{
	static const char *const bad_req[] = {
		"BORROW", "BORROW nfc0", "BORROW nfc0 0", "BORROW nfc0 600001",
		"BORROW nfc 5", "BORROW 0 5", "BORROW nfc01 5", "BORROW nfc-1 5",
		"BORROW NFC0 5", "BORROW nfc0 5 x", "BORROW nfc4294967296 5",
		"BORROW nfc0 05", "borrow nfc0 5", "RETURN nfc0", "RETURN ",
		"STATUS 1", "STATUS x=y", "BORROW nfc0x 5", "BORROW  nfc0 5",
		"RETURNS", "STATUSES",
	};
	static const char *const bad_ans[] = {
		"STATE", "STATE x", "STATE 01", "STATE 1 nfc0", "STATE 1 nfc0=",
		"STATE 1 nfc0=idle", "STATE 1 nfc=tag", "STATE 1 nfc01=tag",
		"STATE 1 nfc1=tag nfc0=tag", "STATE 1 nfc1=tag nfc1=tag",
		"STATE 1 nfc1=tag=tag", "STATE 1 foo=tag", "STATE -1",
		"STATE 1 nfc0=watch nfc1=watch nfc2=watch nfc3=watch "
		"nfc4=watch nfc5=watch nfc6=watch nfc7=watch nfc8=watch "
		"nfc9=watch nfc10=watch nfc11=watch nfc12=watch nfc13=watch "
		"nfc14=watch nfc15=watch nfc16=watch",
		"FAIL borrowed service=su", "FAIL borrowed uid=1 uid=1",
		"FAIL borrowed tty=x uid=1", "FAIL borrowed uid=x",
		"state 1", "STATE 1 NFC0=tag",
	};
	struct sectag_agent_req r;
	struct sectag_agent_ans a;
	size_t i;

	for (i = 0; i < sizeof(bad_req) / sizeof(bad_req[0]); i++) {
		if (req_parse_s(bad_req[i], &r) != -EBADMSG) {
			printf("# accepted request '%s'\n", bad_req[i]);
			return false;
		}
		CHECK(r.verb == 0 && r.reader == 0 && r.ms == 0);
	}
	for (i = 0; i < sizeof(bad_ans) / sizeof(bad_ans[0]); i++) {
		if (ans_parse_s(bad_ans[i], &a) != -EBADMSG) {
			printf("# accepted answer '%s'\n", bad_ans[i]);
			return false;
		}
		CHECK(a.type == 0 && a.n_readers == 0);
	}
	return true;
}

/* ------------------------------------------------------ client calls */

static char sock_path[108];

static int listener(void)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);

	snprintf(sock_path, sizeof(sock_path), "/tmp/sectag-agent-test.%d",
		 (int)getpid());
	strcpy(sa.sun_path, sock_path);
	unlink(sock_path);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) ||
	    listen(fd, 4))
		return -1;
	return fd;
}

/* As root: an agent socket served by uid 65534 is refused. */
static bool peer_not_root(void)
{
	int pfd[2], lfd, fd, st;
	uid_t peer = 0;
	pid_t pid;
	char c;

	CHECK(!pipe(pfd));
	pid = fork();
	CHECK(pid >= 0);
	if (!pid) {
		snprintf(sock_path, sizeof(sock_path),
			 "/tmp/sectag-agent-test.%d", (int)getpid());
		if (setresgid(65534, 65534, 65534) ||
		    setresuid(65534, 65534, 65534))
			_exit(1);
		lfd = listener();
		if (lfd < 0 || write(pfd[1], "x", 1) != 1)
			_exit(1);
		pause();
		_exit(0);
	}
	close(pfd[1]);
	CHECK(read(pfd[0], &c, 1) == 1);
	snprintf(sock_path, sizeof(sock_path), "/tmp/sectag-agent-test.%d",
		 (int)pid);
	fd = sectag_agent_connect(sock_path, 1000, 0, &peer);
	kill(pid, SIGKILL);
	waitpid(pid, &st, 0);
	unlink(sock_path);
	close(pfd[0]);
	CHECK(fd == -EPERM && peer == 65534);
	fd = sectag_agent_connect(sock_path, 1000, 0, &peer);
	CHECK(fd == -ENOENT);
	return true;
}

static bool t_client(void)
{
	struct sectag_agent_req r = { .verb = SECTAG_AGENT_HAS,
				      .kind = SECTAG_BIND_USER,
				      .target = "alice" };
	struct sectag_agent_ans a;
	static char big[4096];
	char got[600];
	int lfd, fd, sfd, null;
	uid_t peer = 12345;
	int64_t t0;
	ssize_t n;

	lfd = listener();
	CHECK(lfd >= 0);
	CHECK(sectag_agent_connect("/nonexistent/sock", 100, 0, NULL) == -ENOENT);
	fd = sectag_agent_connect(sock_path, 1000, geteuid(), &peer);
	CHECK(fd >= 0 && peer == geteuid());
	sfd = accept(lfd, NULL, NULL);
	CHECK(sfd >= 0);
	/* The request as formatted. */
	CHECK(!sectag_agent_send(fd, &r));
	n = recv(sfd, got, sizeof(got) - 1, 0);
	CHECK(n == 14 && !memcmp(got, "HAS user alice", 14));
	/* No answer: the deadline, not more. */
	t0 = sectag_agent_now_ms();
	CHECK(sectag_agent_recv(fd, &a, t0 + 200) == -ETIMEDOUT);
	CHECK(sectag_agent_now_ms() - t0 >= 190);
	CHECK(sectag_agent_now_ms() - t0 < 2000);
	/* An answer. */
	CHECK(send(sfd, "OK 3", 4, 0) == 4);
	CHECK(!sectag_agent_recv(fd, &a, t0 + 2000));
	CHECK(a.type == SECTAG_AGENT_OK && a.n == 3);
	/* Oversized: refused whole. */
	memcpy(big, "OK 1", 4);
	CHECK(send(sfd, big, sizeof(big), 0) == sizeof(big));
	CHECK(sectag_agent_recv(fd, &a, t0 + 2000) == -EBADMSG);
	CHECK(a.type == 0);
	/* Something unasked: the next request is not sent. */
	CHECK(send(sfd, "OK 1", 4, 0) == 4);
	CHECK(sectag_agent_send(fd, &r) == -EPROTO);
	CHECK(!sectag_agent_recv(fd, &a, t0 + 2000));
	/* A descriptor along with an answer: refused, and closed. */
	null = open("/dev/null", O_RDONLY | O_CLOEXEC);
	{
		union {
			char buf[CMSG_SPACE(sizeof(int))];
			struct cmsghdr align;
		} u = { 0 };
		struct iovec iov = { "OK 1", 4 };
		struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1,
				     .msg_control = u.buf,
				     .msg_controllen = sizeof(u.buf) };
		struct cmsghdr *cm = CMSG_FIRSTHDR(&mh);

		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SCM_RIGHTS;
		cm->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(cm), &null, sizeof(int));
		CHECK(sendmsg(sfd, &mh, 0) == 4);
	}
	close(null);
	CHECK(sectag_agent_recv(fd, &a, t0 + 2000) == -EBADMSG);
	/* Hang-up. */
	close(sfd);
	CHECK(sectag_agent_recv(fd, &a, t0 + 2000) == -ECONNRESET);
	close(fd);
	/* A peer that is neither root nor the expected owner. */
	if (geteuid()) {
		fd = sectag_agent_connect(sock_path, 1000, geteuid() + 1, &peer);
		CHECK(fd == -EPERM && peer == geteuid());
	} else {
		CHECK(peer_not_root());
	}
	close(lfd);
	unlink(sock_path);
	return true;
}

static const struct tap_case tests[] = {
	{ "ping_and_has_round_trip", t_ping_has },
	{ "auth_round_trip_with_escapes", t_auth_round_trip },
	{ "malformed_requests_refused", t_req_refused },
	{ "unsendable_requests_refused", t_req_format_refused },
	{ "answers_round_trip", t_answers },
	{ "malformed_answers_refused", t_answers_refused },
	{ "clean_and_names", t_clean_and_names },
	{ "random_requests_round_trip", t_random_round_trip },
	{ "client_calls", t_client },
	{ "borrow_return_status_round_trip", t_borrow_status },
	{ "borrow_return_status_near_misses_refused", t_borrow_status_refused },
};

int main(void)
{
	return tap_run_all(tests, sizeof(tests) / sizeof(tests[0])) ? 1 : 0;
}
