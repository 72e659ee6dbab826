// SPDX-License-Identifier: GPL-2.0
/*
 * pam_sectag: a tap of an NFC tag enrolled for the user authenticates.
 *
 * The module does no NFC or cryptography itself: it asks sectagd, over
 * its control socket, to wait for the next tap, and the agent answers
 * only after mutual authentication of a tag enrolled for this user.
 * Options: timeout=SECONDS (default 30), cue, nouserok, debug,
 * socket=PATH, session_key.
 *
 *   auth     PAM_SUCCESS          that user's tag was tapped
 *            PAM_AUTH_ERR         another tag, or no tap in time
 *            PAM_AUTHINFO_UNAVAIL the agent is not running: lets a
 *                                 "sufficient" line fall through to a
 *                                 password
 *            PAM_IGNORE           nouserok and no tag enrolled for the user
 *   session  with session_key, links the user's released logon key
 *            "sectag:user:NAME" into the session keyring.
 *
 * Whatever the agent does (no answer, a full backlog, a closed
 * connection, garbage), auth returns by timeout + GRACE_MS, and only an
 * exact "OK N" answer to WAIT is a success.
 */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include <keyutils.h>
#include <security/pam_ext.h>
#include <security/pam_modules.h>

#define DEFAULT_SOCKET	"/run/sectag/sectagd.sock"
#define HAS_MS		2000	/* connect and HAS, within the timeout */
#define GRACE_MS	1000	/* after the timeout, for the agent's answer */

struct opts {
	int timeout_s;
	int cue;
	int nouserok;
	int debug;
	int session_key;
	const char *socket;
};

static void parse_opts(pam_handle_t *ph, int argc, const char **argv,
		       struct opts *o)
{
	int i;

	o->timeout_s = 30;
	o->cue = o->nouserok = o->debug = o->session_key = 0;
	o->socket = DEFAULT_SOCKET;
	for (i = 0; i < argc; i++) {
		if (!strncmp(argv[i], "timeout=", 8)) {
			char *end;
			long v = strtol(argv[i] + 8, &end, 10);

			if (*end || v < 1 || v > 600)
				pam_syslog(ph, LOG_ERR, "bad %s", argv[i]);
			else
				o->timeout_s = v;
		} else if (!strcmp(argv[i], "cue")) {
			o->cue = 1;
		} else if (!strcmp(argv[i], "nouserok")) {
			o->nouserok = 1;
		} else if (!strcmp(argv[i], "debug")) {
			o->debug = 1;
		} else if (!strcmp(argv[i], "session_key")) {
			o->session_key = 1;
		} else if (!strncmp(argv[i], "socket=", 7) && argv[i][7] == '/') {
			o->socket = argv[i] + 7;
		} else {
			pam_syslog(ph, LOG_ERR, "unknown option %s", argv[i]);
		}
	}
}

/* Monotonic milliseconds: the module's deadlines. */
static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int ms_until(int64_t deadline)
{
	int64_t left = deadline - now_ms();

	return left < 0 ? 0 : left > INT_MAX ? INT_MAX : (int)left;
}

/*
 * connect() to a listener whose backlog is full waits for the send
 * timeout, forever by default: a hung agent must not hang the login.
 */
static int agent_connect(const char *path, int ms)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct timeval tv = { ms / 1000, (ms % 1000) * 1000 };
	int fd;

	if (!ms)		/* a zero timeout would mean none at all */
		tv.tv_usec = 1000;
	if (strlen(path) >= sizeof(sa.sun_path))
		return -1;
	strcpy(sa.sun_path, path);
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	if (setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) ||
	    connect(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		close(fd);
		return -1;
	}
	return fd;
}

/*
 * One request, one answer by @deadline; -1 on any failure. The answer
 * must be one whole message of printable ASCII: an empty, truncated
 * (oversized) or binary one counts as no answer, like a closed
 * connection.
 */
static int ask(int fd, const char *req, char *ans, size_t size,
	       int64_t deadline)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	struct iovec iov = { .iov_base = ans, .iov_len = size - 1 };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
	ssize_t n, i;
	int rc;

	/* Nothing may come unasked: it would pass for this answer. */
	if (recv(fd, ans, 1, MSG_PEEK | MSG_DONTWAIT) >= 0 ||
	    errno != EAGAIN ||
	    send(fd, req, strlen(req), MSG_NOSIGNAL) < 0)
		return -1;
	do {
		rc = poll(&p, 1, ms_until(deadline));
	} while (rc < 0 && errno == EINTR);
	if (rc <= 0)
		return -1;
	n = recvmsg(fd, &mh, MSG_DONTWAIT);
	if (n <= 0 || (mh.msg_flags & (MSG_TRUNC | MSG_CTRUNC)))
		return -1;
	for (i = 0; i < n; i++)
		if ((unsigned char)ans[i] < ' ' || (unsigned char)ans[i] > '~')
			return -1;
	ans[n] = 0;
	return 0;
}

/* "OK N", N a decimal number below 2^32 and nothing else: 0, or -1. */
static int ok_number(const char *ans, unsigned long *n)
{
	const char *p = ans + 3;
	char *end;

	if (strncmp(ans, "OK ", 3) || !isdigit((unsigned char)*p) ||
	    strlen(p) > 10)
		return -1;
	errno = 0;
	*n = strtoul(p, &end, 10);
	return errno || *end || *n > UINT32_MAX ? -1 : 0;
}

/* 1 enrolled, 0 not, -1 no usable answer by @deadline (logged). */
static int enrolled(pam_handle_t *ph, int fd, const char *user,
		    int64_t deadline)
{
	char req[200], ans[64];
	unsigned long n;

	snprintf(req, sizeof(req), "HAS user %s", user);
	if (ask(fd, req, ans, sizeof(ans), deadline)) {
		pam_syslog(ph, LOG_ERR, "sectagd gave no usable answer");
		return -1;
	}
	if (ok_number(ans, &n)) {
		pam_syslog(ph, LOG_ERR, "sectagd: %s", ans);
		return -1;
	}
	return n > 0;
}

static int valid_user(const char *u)
{
	size_t i, n = strlen(u);

	if (!n || n > 100)
		return 0;
	for (i = 0; i < n; i++)
		if (u[i] <= ' ' || u[i] == 0x7f)
			return 0;
	return 1;
}

PAM_EXTERN int pam_sm_authenticate(pam_handle_t *ph, int flags, int argc,
				   const char **argv)
{
	const char *user = NULL;
	char req[200], ans[64];
	int64_t start, end, has_end;
	struct opts o;
	int fd, rc, has, left;
	unsigned long id;

	(void)flags;
	start = now_ms();
	parse_opts(ph, argc, argv, &o);
	/* Everything, a hung agent included, ends by end + GRACE_MS. */
	end = start + o.timeout_s * 1000;
	has_end = start + HAS_MS < end ? start + HAS_MS : end;
	if (pam_get_user(ph, &user, NULL) != PAM_SUCCESS || !user ||
	    !valid_user(user))
		return PAM_USER_UNKNOWN;
	fd = agent_connect(o.socket, ms_until(has_end));
	if (fd < 0) {
		if (o.debug)
			pam_syslog(ph, LOG_DEBUG, "sectagd not reachable: %m");
		return PAM_AUTHINFO_UNAVAIL;
	}
	has = enrolled(ph, fd, user, has_end);
	if (has < 0) {
		close(fd);
		return PAM_AUTHINFO_UNAVAIL;
	}
	if (!has) {
		close(fd);
		if (o.debug)
			pam_syslog(ph, LOG_DEBUG, "no tag enrolled for %s", user);
		return o.nouserok ? PAM_IGNORE : PAM_AUTH_ERR;
	}
	if (o.cue)
		pam_info(ph, "Tap your NFC tag");
	/* WAIT 0 would wait forever: a spent budget is a timeout. */
	left = ms_until(end);
	if (!left) {
		close(fd);
		return PAM_AUTH_ERR;
	}
	snprintf(req, sizeof(req), "WAIT user %s %d", user, left);
	/* The agent times out first; the grace only covers a hang. */
	rc = ask(fd, req, ans, sizeof(ans), end + GRACE_MS);
	close(fd);
	if (rc) {
		pam_syslog(ph, LOG_ERR, "sectagd gave no usable answer");
		return PAM_AUTHINFO_UNAVAIL;
	}
	if (o.debug)
		pam_syslog(ph, LOG_DEBUG, "agent: %s", ans);
	if (!ok_number(ans, &id))
		return PAM_SUCCESS;
	if (strcmp(ans, "TIMEOUT") && strncmp(ans, "FAIL ", 5)) {
		pam_syslog(ph, LOG_ERR, "sectagd: unexpected answer %s", ans);
		return PAM_AUTHINFO_UNAVAIL;
	}
	pam_syslog(ph, LOG_NOTICE, "tag authentication for %s failed: %s",
		   user, ans);
	return PAM_AUTH_ERR;
}

PAM_EXTERN int pam_sm_setcred(pam_handle_t *ph, int flags, int argc,
			      const char **argv)
{
	(void)ph;
	(void)flags;
	(void)argc;
	(void)argv;
	return PAM_SUCCESS;
}

PAM_EXTERN int pam_sm_open_session(pam_handle_t *ph, int flags, int argc,
				   const char **argv)
{
	const char *user = NULL;
	char desc[160];
	key_serial_t key;
	struct opts o;

	(void)flags;
	parse_opts(ph, argc, argv, &o);
	if (!o.session_key)
		return PAM_IGNORE;
	if (pam_get_user(ph, &user, NULL) != PAM_SUCCESS || !user ||
	    !valid_user(user))
		return PAM_SESSION_ERR;
	/* A logon key: linking it gives the session its use, not its bytes. */
	snprintf(desc, sizeof(desc), "sectag:user:%s", user);
	key = keyctl_search(KEY_SPEC_USER_KEYRING, "logon", desc, 0);
	if (key < 0) {
		pam_syslog(ph, LOG_NOTICE, "no released key for %s", user);
		return PAM_IGNORE;
	}
	if (keyctl_link(key, KEY_SPEC_SESSION_KEYRING)) {
		pam_syslog(ph, LOG_ERR, "cannot link key for %s: %m", user);
		return PAM_SESSION_ERR;
	}
	return PAM_SUCCESS;
}

PAM_EXTERN int pam_sm_close_session(pam_handle_t *ph, int flags, int argc,
				    const char **argv)
{
	(void)ph;
	(void)flags;
	(void)argc;
	(void)argv;
	return PAM_SUCCESS;
}
