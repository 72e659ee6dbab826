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
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include <keyutils.h>
#include <security/pam_ext.h>
#include <security/pam_modules.h>

#define DEFAULT_SOCKET	"/run/sectag/sectagd.sock"

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

static int agent_connect(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd;

	if (strlen(path) >= sizeof(sa.sun_path))
		return -1;
	strcpy(sa.sun_path, path);
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		close(fd);
		return -1;
	}
	return fd;
}

/* One request, one answer within @ms; -1 on any failure. */
static int ask(int fd, const char *req, char *ans, size_t size, int ms)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	ssize_t n;
	int rc;

	if (send(fd, req, strlen(req), MSG_NOSIGNAL) < 0)
		return -1;
	do {
		rc = poll(&p, 1, ms);
	} while (rc < 0 && errno == EINTR);
	if (rc <= 0)
		return -1;
	n = recv(fd, ans, size - 1, 0);
	if (n <= 0)
		return -1;
	ans[n] = 0;
	ans[strcspn(ans, "\r\n")] = 0;
	return 0;
}

static int enrolled(int fd, const char *user, int ms)
{
	char req[200], ans[64];
	unsigned long n;

	snprintf(req, sizeof(req), "HAS user %s", user);
	if (ask(fd, req, ans, sizeof(ans), ms) ||
	    sscanf(ans, "OK %lu", &n) != 1)
		return -1;
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
	struct opts o;
	int fd, rc, has;

	(void)flags;
	parse_opts(ph, argc, argv, &o);
	if (pam_get_user(ph, &user, NULL) != PAM_SUCCESS || !user ||
	    !valid_user(user))
		return PAM_USER_UNKNOWN;
	fd = agent_connect(o.socket);
	if (fd < 0) {
		if (o.debug)
			pam_syslog(ph, LOG_DEBUG, "sectagd not reachable: %m");
		return PAM_AUTHINFO_UNAVAIL;
	}
	has = enrolled(fd, user, 2000);
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
	snprintf(req, sizeof(req), "WAIT user %s %d", user,
		 o.timeout_s * 1000);
	/* The agent times out first; the extra second only covers a hang. */
	rc = ask(fd, req, ans, sizeof(ans), o.timeout_s * 1000 + 1000);
	close(fd);
	if (rc)
		return PAM_AUTHINFO_UNAVAIL;
	if (o.debug)
		pam_syslog(ph, LOG_DEBUG, "agent: %s", ans);
	if (!strncmp(ans, "OK ", 3))
		return PAM_SUCCESS;
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
