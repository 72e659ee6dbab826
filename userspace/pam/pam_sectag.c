// SPDX-License-Identifier: GPL-2.0
/*
 * pam_sectag: a tap of an NFC tag enrolled for the user authenticates.
 *
 * The module does no NFC or cryptography itself: it asks sectagd, over
 * its control socket (protocol: userspace/lib/agent.h, compiled in), to
 * wait for one tap for this transaction, saying who asks and from where
 * (service, tty, seat, remote host); the agent answers only after mutual
 * authentication of a tag enrolled for this user, and gives each tap to
 * one request only. Options: timeout=SECONDS (default 30), cue, nouserok,
 * debug, socket=PATH, agent_uid=UID, session_key.
 *
 *   auth     PAM_SUCCESS          that user's tag was tapped
 *            PAM_AUTH_ERR         no tap of that tag in time
 *            PAM_AUTHINFO_UNAVAIL the agent is not running, not root's,
 *                                 refuses (remote session, another
 *                                 request pending for the user, not the
 *                                 caller's business): a "sufficient" or
 *                                 authinfo_unavail=ignore line falls
 *                                 through to a password
 *            PAM_IGNORE           nouserok and no tag enrolled for the user
 *   session  with session_key, and only when this handle's auth succeeded
 *            with a tap, links the user's released logon key
 *            "sectag:user:NAME" into the session keyring.
 *
 * Whatever the agent does (no answer, a full backlog, a closed
 * connection, garbage), auth returns by timeout + GRACE_MS, and only an
 * exact "OK N" after "WAITING" is a success.
 */
#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include <keyutils.h>
#include <security/pam_ext.h>
#include <security/pam_modules.h>

#include "agent.h"
#include "store.h"

/* Built with -fvisibility=hidden: only PAM's entry points are exported. */
#define EXPORT		__attribute__((visibility("default")))

#define HAS_MS		2000	/* connect and HAS, within the timeout */
#define GRACE_MS	1000	/* after the timeout, for the agent's answer */
#define DATA_KEY	"pam_sectag_tap"

struct opts {
	int timeout_s;
	int cue;
	int nouserok;
	int debug;
	int session_key;
	uid_t agent_uid;
	const char *socket;
};

/* What pam_sm_authenticate leaves for pam_sm_open_session. */
struct tap_data {
	char user[128];
	uint32_t binding;
};

static void parse_opts(pam_handle_t *ph, int argc, const char **argv,
		       struct opts *o)
{
	char *end;
	long v;
	int i;

	o->timeout_s = 30;
	o->cue = o->nouserok = o->debug = o->session_key = 0;
	o->agent_uid = 0;
	o->socket = SECTAG_AGENT_SOCKET;
	for (i = 0; i < argc; i++) {
		if (!strncmp(argv[i], "timeout=", 8)) {
			v = strtol(argv[i] + 8, &end, 10);
			if (*end || v < 1 || v > SECTAG_AGENT_WAIT_MAX_MS / 1000)
				pam_syslog(ph, LOG_ERR, "bad %s", argv[i]);
			else
				o->timeout_s = v;
		} else if (!strncmp(argv[i], "agent_uid=", 10)) {
			v = strtol(argv[i] + 10, &end, 10);
			if (*end || argv[i][10] < '0' || argv[i][10] > '9' ||
			    v < 0 || v >= INT_MAX)
				pam_syslog(ph, LOG_ERR, "bad %s", argv[i]);
			else
				o->agent_uid = v;
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

static int ms_until(int64_t deadline)
{
	int64_t left = deadline - sectag_agent_now_ms();

	return left < 0 ? 0 : left > INT_MAX ? INT_MAX : (int)left;
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

/* A PAM item as a request value ("" when unset). */
static void item(pam_handle_t *ph, int type, char *dst, size_t size)
{
	const void *v = NULL;

	if (pam_get_item(ph, type, &v) != PAM_SUCCESS)
		v = NULL;
	sectag_agent_clean(dst, size, v);
}

static void origin(pam_handle_t *ph, struct sectag_agent_origin *o)
{
	item(ph, PAM_SERVICE, o->service, sizeof(o->service));
	item(ph, PAM_TTY, o->tty, sizeof(o->tty));
	item(ph, PAM_RHOST, o->rhost, sizeof(o->rhost));
	item(ph, PAM_RUSER, o->ruser, sizeof(o->ruser));
	/* The PAM environment (a display manager's), not the caller's. */
	sectag_agent_clean(o->seat, sizeof(o->seat), pam_getenv(ph, "XDG_SEAT"));
}

static int unusable(pam_handle_t *ph, const char *what, int rc)
{
	pam_syslog(ph, LOG_ERR, "sectagd gave no usable answer to %s: %s",
		   what, strerror(-rc));
	return PAM_AUTHINFO_UNAVAIL;
}

/* A refusal of the request: why, to the log and (busy) to the user. */
static int refused(pam_handle_t *ph, const char *user,
		   const struct sectag_agent_ans *a, int flags)
{
	char uid[16] = "?";

	if (a->fail != SECTAG_AGENT_E_BUSY) {
		pam_syslog(ph, LOG_NOTICE, "sectagd refused the request for %s: %s",
			   user, sectag_agent_fail_name(a->fail));
		return PAM_AUTHINFO_UNAVAIL;
	}
	if (a->has_uid)
		snprintf(uid, sizeof(uid), "%u", a->uid);
	pam_syslog(ph, LOG_NOTICE,
		   "tag login of %s unavailable: a request is pending (service %s, tty %s, uid %s)",
		   user, *a->service ? a->service : "?",
		   *a->tty ? a->tty : "?", uid);
	if (!(flags & PAM_SILENT))
		pam_info(ph, "Tag login of %s unavailable: another request for it is pending (%s%s%s, uid %s)",
			 user, *a->service ? a->service : "?",
			 *a->tty ? " on " : "", a->tty, uid);
	return PAM_AUTHINFO_UNAVAIL;
}

static void cleanup_data(pam_handle_t *ph, void *data, int status)
{
	(void)ph;
	(void)status;
	free(data);
}

/* This transaction authenticated with binding @id: for open_session. */
static int remember(pam_handle_t *ph, const char *user, uint32_t id)
{
	struct tap_data *d = calloc(1, sizeof(*d));

	if (!d)
		return PAM_BUF_ERR;
	snprintf(d->user, sizeof(d->user), "%s", user);
	d->binding = id;
	if (pam_set_data(ph, DATA_KEY, d, cleanup_data) != PAM_SUCCESS) {
		free(d);
		return PAM_BUF_ERR;
	}
	return PAM_SUCCESS;
}

PAM_EXTERN EXPORT int pam_sm_authenticate(pam_handle_t *ph, int flags,
					  int argc, const char **argv)
{
	struct sectag_agent_req req = { .kind = SECTAG_BIND_USER };
	struct sectag_agent_ans ans;
	const char *user = NULL;
	int64_t start, end, has_end;
	struct opts o;
	int fd, rc, left;
	uid_t peer = 0;

	start = sectag_agent_now_ms();
	parse_opts(ph, argc, argv, &o);
	/* A success earlier in this handle is not this one's. */
	pam_set_data(ph, DATA_KEY, NULL, NULL);
	/* Everything, a hung agent included, ends by end + GRACE_MS. */
	end = start + o.timeout_s * 1000;
	has_end = start + HAS_MS < end ? start + HAS_MS : end;
	if (pam_get_user(ph, &user, NULL) != PAM_SUCCESS || !user ||
	    !valid_user(user) || strlen(user) >= sizeof(req.target))
		return PAM_USER_UNKNOWN;
	fd = sectag_agent_connect(o.socket, ms_until(has_end), o.agent_uid,
				  &peer);
	if (fd == -EPERM) {
		pam_syslog(ph, LOG_ERR,
			   "%s is served by uid %u, not by root (or agent_uid=%u): refused",
			   o.socket, peer, o.agent_uid);
		return PAM_AUTHINFO_UNAVAIL;
	}
	if (fd < 0) {
		if (o.debug)
			pam_syslog(ph, LOG_DEBUG, "sectagd not reachable: %s",
				   strerror(-fd));
		return PAM_AUTHINFO_UNAVAIL;
	}
	snprintf(req.target, sizeof(req.target), "%s", user);
	req.verb = SECTAG_AGENT_HAS;
	rc = sectag_agent_send(fd, &req);
	if (!rc)
		rc = sectag_agent_recv(fd, &ans, has_end);
	if (rc) {
		close(fd);
		return unusable(ph, "HAS", rc);
	}
	if (ans.type == SECTAG_AGENT_FAIL) {
		close(fd);
		return refused(ph, user, &ans, flags);
	}
	if (ans.type != SECTAG_AGENT_OK) {
		close(fd);
		return unusable(ph, "HAS", -EBADMSG);
	}
	if (!ans.n) {
		close(fd);
		if (o.debug)
			pam_syslog(ph, LOG_DEBUG, "no tag enrolled for %s", user);
		return o.nouserok ? PAM_IGNORE : PAM_AUTH_ERR;
	}
	/* A spent budget is a timeout. */
	left = ms_until(end);
	if (!left) {
		close(fd);
		return PAM_AUTH_ERR;
	}
	req.verb = SECTAG_AGENT_AUTH;
	req.ms = left;
	origin(ph, &req.o);
	/* The agent times out first; the grace only covers a hang. */
	rc = sectag_agent_send(fd, &req);
	if (!rc)
		rc = sectag_agent_recv(fd, &ans, end + GRACE_MS);
	if (!rc && ans.type == SECTAG_AGENT_WAITING) {
		if (o.cue && !(flags & PAM_SILENT))
			pam_info(ph, "Tap your tag to authenticate %s for %s%s%s%s%s",
				 user, *req.o.service ? req.o.service : "login",
				 *req.o.tty ? " on " : "", req.o.tty,
				 *req.o.rhost ? " from " : "", req.o.rhost);
		rc = sectag_agent_recv(fd, &ans, end + GRACE_MS);
		if (!rc && ans.type != SECTAG_AGENT_OK &&
		    ans.type != SECTAG_AGENT_TIMEOUT)
			rc = -EBADMSG;
	} else if (!rc && ans.type != SECTAG_AGENT_FAIL) {
		rc = -EBADMSG;	/* an answer before WAITING */
	}
	close(fd);
	if (rc)
		return unusable(ph, "AUTH", rc);
	if (ans.type == SECTAG_AGENT_FAIL)
		return refused(ph, user, &ans, flags);
	if (ans.type == SECTAG_AGENT_TIMEOUT) {
		pam_syslog(ph, LOG_NOTICE, "no tap of %s's tag in time", user);
		return PAM_AUTH_ERR;
	}
	if (o.debug)
		pam_syslog(ph, LOG_DEBUG, "%s authenticated by binding %u",
			   user, ans.n);
	return remember(ph, user, ans.n);
}

PAM_EXTERN EXPORT int pam_sm_setcred(pam_handle_t *ph, int flags, int argc,
				     const char **argv)
{
	(void)ph;
	(void)flags;
	(void)argc;
	(void)argv;
	return PAM_SUCCESS;
}

PAM_EXTERN EXPORT int pam_sm_open_session(pam_handle_t *ph, int flags,
					  int argc, const char **argv)
{
	const struct tap_data *d = NULL;
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
	/*
	 * Only after this handle's auth succeeded with a tap, for this
	 * user: a key another login released is not this session's.
	 */
	if (pam_get_data(ph, DATA_KEY, (const void **)&d) != PAM_SUCCESS ||
	    !d || strcmp(d->user, user)) {
		if (o.debug)
			pam_syslog(ph, LOG_DEBUG,
				   "no tap in this transaction: no key for %s",
				   user);
		return PAM_IGNORE;
	}
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

PAM_EXTERN EXPORT int pam_sm_close_session(pam_handle_t *ph, int flags,
					   int argc, const char **argv)
{
	(void)ph;
	(void)flags;
	(void)argc;
	(void)argv;
	return PAM_SUCCESS;
}
