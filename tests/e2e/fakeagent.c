// SPDX-License-Identifier: GPL-2.0
/*
 * Test helper: a fake sectagd for pam_sectag. It listens on SOCKET
 * (SOCK_SEQPACKET, like the agent) and misbehaves as MODE says, one
 * connection at a time, until it is killed. Each answer is logged on
 * stdout. tests/e2e/pam.sh runs pamtester against it: whatever the
 * answers, the module must fail cleanly and in time.
 *
 *   fakeagent SOCKET MODE [SEED]
 *   fakeagent --malformed-count
 *
 * It speaks protocol 2 (userspace/lib/agent.h): HAS, then AUTH answered
 * with WAITING and a final answer. Modes: ok, timeout, busy (well-formed
 * answers: the controls); close, close-wait, silent, silent-wait (no
 * answer); garbage, garbage-wait (random bytes, half of them after
 * "OK "); oversized, oversized-wait ("OK 1" and 64 KiB of NULs);
 * malformed-has, malformed-wait (connection N gets near miss N of a
 * list); fds (an answer carrying a descriptor); double (HAS answered
 * twice); nowaiting (AUTH answered "OK 7" without WAITING first); backlog
 * (never accepts, backlog full). "-wait" modes answer HAS with "OK 1" and
 * AUTH with WAITING, then misbehave instead of the final answer.
 * When the module hangs up, the log says how long it stayed connected.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

struct answer {
	const char *s;
	size_t n;
};

#define A(x) { x, sizeof(x) - 1 }

/* Near misses of "OK N", "WAITING", "TIMEOUT" and "FAIL REASON". */
static const struct answer malformed[] = {
	A(""), A("OK"), A("OK "), A("OK x"), A("OK -1"), A("OK +1"),
	A("OK 1 2"), A("OK 1x"), A("OK 99999999999"), A("OK 4294967296"),
	A("OK 1\n"), A("OK 1\r\n"), A("ok 1"), A(" OK 1"), A("OK\t1"),
	A("OK  1"), A("OK 1\0junk"), A("OK 0x10"), A("\xffOK 1"),
	A("OK 1\x7f"), A("TIMEOUT\0"), A("TIMEOUTS"), A("FAIL"),
	A("OK 01"), A("WAITING "), A("WAITING\0"), A("FAIL nosuch"),
	A("FAIL busy uid=x"), A("FAIL busy tty=%41"), A("OK sectagd"),
	A("FAIL busy service=a service=b"), A("WAITING OK 1"),
};

#define N_MALFORMED (sizeof(malformed) / sizeof(malformed[0]))
#define BIG (64 * 1024)

static uint64_t rnd_state;

static uint64_t rnd(void)
{
	rnd_state ^= rnd_state << 13;
	rnd_state ^= rnd_state >> 7;
	rnd_state ^= rnd_state << 17;
	return rnd_state;
}

static void say(unsigned int conn, const char *req, const char *what,
		size_t n)
{
	printf("conn %u: %.40s -> %s (%zu bytes)\n", conn, req, what, n);
	fflush(stdout);
}

static void answer(int fd, const void *p, size_t n)
{
	if (send(fd, p, n, MSG_NOSIGNAL) < 0)
		perror("fakeagent: send");
}

/* "OK 1" with a descriptor attached (SCM_RIGHTS). */
static void answer_fd(int fd)
{
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} u = { 0 };
	char ok[] = "OK 1";
	struct iovec iov = { ok, 4 };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1,
			     .msg_control = u.buf,
			     .msg_controllen = sizeof(u.buf) };
	struct cmsghdr *cm = CMSG_FIRSTHDR(&mh);
	int null = open("/dev/null", O_RDONLY | O_CLOEXEC);

	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cm), &null, sizeof(int));
	if (null < 0 || sendmsg(fd, &mh, MSG_NOSIGNAL) < 0)
		perror("fakeagent: sendmsg");
	if (null >= 0)
		close(null);
}

/* Answers one request of connection @conn; 1 to hang up. */
static int respond(int fd, const char *mode, unsigned int conn,
		   const char *req)
{
	static char big[BIG];
	int auth = !strncmp(req, "AUTH ", 5);
	size_t n = strlen(mode), i;
	const char *m = mode;
	int tail = n > 5 && !strcmp(m + n - 5, "-wait");
	char buf[600];

	/* The controls, and "-wait" modes before AUTH: well-behaved. */
	if (!auth && (!strcmp(m, "ok") || !strcmp(m, "timeout") ||
		      !strcmp(m, "busy") || !strcmp(m, "nowaiting") || tail)) {
		answer(fd, "OK 1", 4);
		say(conn, req, "OK 1", 4);
		return 0;
	}
	/* The controls and "-wait" modes queue the request first. */
	if (auth && (!strcmp(m, "ok") || !strcmp(m, "timeout") || tail)) {
		answer(fd, "WAITING", 7);
		say(conn, req, "WAITING", 7);
	}
	if (!strcmp(m, "ok")) {
		answer(fd, "OK 7", 4);
		say(conn, req, "OK 7", 4);
	} else if (!strcmp(m, "nowaiting")) {
		answer(fd, "OK 7", 4);
		say(conn, req, "OK 7 without WAITING", 4);
	} else if (!strcmp(m, "busy")) {
		static const char b[] = "FAIL busy service=su tty=pts/3 uid=0";

		answer(fd, b, sizeof(b) - 1);
		say(conn, req, b, sizeof(b) - 1);
	} else if (!strcmp(m, "timeout")) {
		answer(fd, "TIMEOUT", 7);
		say(conn, req, "TIMEOUT", 7);
	} else if (!strcmp(m, "close-wait")) {
		say(conn, req, "hang up", 0);
		return 1;
	} else if (!strcmp(m, "silent") || !strcmp(m, "silent-wait")) {
		say(conn, req, "no answer", 0);
	} else if (!strcmp(m, "garbage") || !strcmp(m, "garbage-wait")) {
		n = 1 + rnd() % (sizeof(buf) - 1);
		for (i = 0; i < n; i++)
			buf[i] = rnd();
		if (rnd() & 1 && n > 3)
			memcpy(buf, "OK ", 3);
		answer(fd, buf, n);
		say(conn, req, "random bytes", n);
	} else if (!strcmp(m, "oversized") || !strcmp(m, "oversized-wait")) {
		memcpy(big, "OK 1", 4);
		answer(fd, big, sizeof(big));
		say(conn, req, "OK 1 and NULs", sizeof(big));
	} else if (!strcmp(m, "malformed-has") ||
		   !strcmp(m, "malformed-wait")) {
		const struct answer *a = &malformed[conn % N_MALFORMED];

		snprintf(buf, sizeof(buf), "near miss %zu",
			 conn % N_MALFORMED);
		answer(fd, a->s, a->n);
		say(conn, req, buf, a->n);
	} else if (!strcmp(m, "fds")) {
		answer_fd(fd);
		say(conn, req, "OK 1 with a descriptor", 4);
	} else if (!strcmp(m, "double")) {
		answer(fd, "OK 1", 4);
		answer(fd, "OK 1", 4);
		say(conn, req, "OK 1 twice", 8);
	} else {
		fprintf(stderr, "fakeagent: unknown mode %s\n", m);
		exit(2);
	}
	return 0;
}

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

/* Logs how long the client stayed: "conn N: closed after MS ms". */
static void serve(int fd, const char *mode, unsigned int conn)
{
	long long t0 = now_ms();
	char req[512];
	ssize_t n;

	if (!strcmp(mode, "close")) {
		say(conn, "(connect)", "hang up", 0);
		return;
	}
	for (;;) {
		n = recv(fd, req, sizeof(req) - 1, 0);
		if (n <= 0)
			break;
		req[n] = 0;
		if (respond(fd, mode, conn, req))
			return;
	}
	printf("conn %u: closed after %lld ms\n", conn, now_ms() - t0);
	fflush(stdout);
}

/* Never accepts, and fills the backlog itself: connect() would block. */
static void backlog(int lfd, const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int i, fd;

	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	for (i = 0; i < 64; i++) {
		fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK, 0);
		if (fd < 0)
			break;
		if (connect(fd, (struct sockaddr *)&sa, sizeof(sa))) {
			close(fd);
			break;
		}
	}
	printf("backlog full after %d connections (%s)\n", i,
	       strerror(errno));
	printf("mode backlog\n");
	fflush(stdout);
	(void)lfd;
	for (;;)
		pause();
}

int main(int argc, char **argv)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	unsigned int conn;
	int lfd, fd;

	if (argc == 2 && !strcmp(argv[1], "--malformed-count")) {
		printf("%zu\n", N_MALFORMED);
		return 0;
	}
	if (argc < 3 || argc > 4 || strlen(argv[1]) >= sizeof(sa.sun_path)) {
		fprintf(stderr, "usage: fakeagent SOCKET MODE [SEED]\n");
		return 2;
	}
	rnd_state = argc == 4 ? strtoull(argv[3], NULL, 0) :
		    (uint64_t)time(NULL) * 2654435761u;
	rnd_state |= 1;
	strcpy(sa.sun_path, argv[1]);
	unlink(sa.sun_path);
	lfd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (lfd < 0 || bind(lfd, (struct sockaddr *)&sa, sizeof(sa)) ||
	    listen(lfd, strcmp(argv[2], "backlog") ? 8 : 0)) {
		perror("fakeagent");
		return 1;
	}
	if (!strcmp(argv[2], "backlog"))
		backlog(lfd, argv[1]);
	/* The test waits for this line: we are listening. */
	printf("mode %s, seed %llu\n", argv[2],
	       (unsigned long long)rnd_state);
	fflush(stdout);
	for (conn = 0;; conn++) {
		fd = accept(lfd, NULL, NULL);
		if (fd < 0) {
			perror("fakeagent: accept");
			return 1;
		}
		serve(fd, argv[2], conn);
		close(fd);
	}
}
