// SPDX-License-Identifier: GPL-2.0
/*
 * The control socket: protocol version 2 (userspace/lib/agent.h,
 * Documentation/agent-protocol.md), used by pam_sectag and the tests.
 *
 * One tap answers one request. An AUTH request says who asks and from
 * where; the agent adds the caller's credentials (SO_PEERCRED) and, when
 * logind knows the caller's session, its seat and whether it is remote.
 * A tap that released a binding answers the oldest pending request for
 * that binding's kind and target on the reader's seat (remote requests,
 * when allowed at all, come after the local ones); a tap that released
 * nothing answers nothing. One request per kind and target at a time:
 * a second one is refused as busy, naming the pending one.
 *
 * The table cannot be exhausted by someone else: every UID but root has
 * at most max_conn_per_uid connections and together they never take the
 * last SECTAGD_ROOT_RESERVE slots; a connection without a pending request
 * is closed after SECTAGD_IDLE_MS; a full table makes room for root by
 * evicting another UID's idle connection, else the oldest of the UID
 * holding most, and for another UID with fewer connections than the UID
 * holding most, by evicting one of the latter's. The listening socket is drained on
 * every wakeup, so a flood never fills its backlog.
 *
 * Root may borrow a reader (BORROW nfcN MS): the agent drops any tag it
 * holds there, stops polling it and ignores its events until RETURN, the
 * end of the connection or MS milliseconds, whichever comes first; then
 * it polls again (retrying while the borrower's own poll has not been
 * torn down yet: reader.c). The CLI borrows the reader it talks to.
 */
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <syslog.h>
#include <unistd.h>

#include <linux/nfc.h>

#include "agent.h"
#include "store.h"

/*
 * The listening socket systemd passed (sectagd.socket): 1 when there is
 * one, 0 when none was passed, -1 when what was passed is not one
 * listening SOCK_SEQPACKET unix socket.
 */
static int ctl_passed(struct agent *a)
{
	int n = agent_sd_listen_fds(), fd = AGENT_SD_FDS_START;

	if (n == 0)
		return 0;
	if (n != 1 || !agent_sd_is_listening(fd, AF_UNIX, SOCK_SEQPACKET)) {
		agent_log(LOG_ERR, "systemd passed %d descriptor(s), not one listening unix seqpacket socket",
			  n);
		return -1;
	}
	/* The unit's NonBlocking= may be off: accepting drains it. */
	if (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)) {
		agent_log(LOG_ERR, "passed control socket: %m");
		return -1;
	}
	a->listen_fd = fd;
	a->listen_passed = true;
	agent_log(LOG_INFO, "control socket passed by systemd");
	return 1;
}

int ctl_listen(struct agent *a)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	char dir[sizeof(a->cfg.socket)], *slash;
	int fd;

	fd = ctl_passed(a);
	if (fd)
		return fd < 0 ? -1 : 0;

	snprintf(dir, sizeof(dir), "%s", a->cfg.socket);
	slash = strrchr(dir, '/');
	if (slash && slash != dir) {
		*slash = 0;
		mkdir(dir, 0755);
	}
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", a->cfg.socket);
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK | SOCK_CLOEXEC,
		    0);
	if (fd < 0)
		goto err;
	unlink(sa.sun_path);
	/* Anyone may connect; each request is authorised by its peer. */
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) ||
	    chmod(sa.sun_path, 0666) || listen(fd, SOMAXCONN)) {
		close(fd);
		goto err;
	}
	a->listen_fd = fd;
	return 0;
err:
	agent_log(LOG_ERR, "control socket %s: %m", a->cfg.socket);
	return -1;
}

static void send_ans(struct client *c, const struct sectag_agent_ans *ans)
{
	char msg[SECTAG_AGENT_MSG_MAX + 1];
	int n = sectag_agent_ans_format(ans, msg, sizeof(msg));

	if (n < 0) {
		agent_log(LOG_ERR, "cannot format an answer: %s", strerror(-n));
		return;
	}
	if (send(c->fd, msg, n, MSG_NOSIGNAL | MSG_DONTWAIT) < 0)
		agent_log(LOG_DEBUG, "client: %m");
}

static void reply(struct client *c, enum sectag_agent_ans_type type,
		  uint32_t n)
{
	struct sectag_agent_ans ans = { .type = type, .n = n };

	send_ans(c, &ans);
}

static void fail(struct client *c, enum sectag_agent_fail f)
{
	struct sectag_agent_ans ans = { .type = SECTAG_AGENT_FAIL, .fail = f };

	send_ans(c, &ans);
}

static struct client *borrower(const struct agent *a, uint32_t idx)
{
	int i;

	for (i = 0; i < SECTAGD_MAX_CLIENTS; i++) {
		const struct client *c = &a->clients[i];

		if (c->fd >= 0 && c->borrowing && c->borrow_idx == idx)
			return (struct client *)c;
	}
	return NULL;
}

bool ctl_borrowed(const struct agent *a, uint32_t idx)
{
	return borrower(a, idx) != NULL;
}

/* @c's borrow ends (returned, closed, expired): the agent polls again. */
static void borrow_end(struct agent *a, struct client *c, const char *why)
{
	struct reader *r;

	if (!c->borrowing)
		return;
	c->borrowing = false;
	agent_log(LOG_INFO, "nfc%u: borrow by pid %d ended (%s)", c->borrow_idx,
		  (int)c->pid, why);
	/* Its poll may run a moment longer: reader.c retries then. */
	r = reader_find(a, c->borrow_idx, false);
	if (r)
		reader_poll(a, r);
	agent_arm_timer(a);
}

void ctl_close(struct agent *a, struct client *c)
{
	borrow_end(a, c, "connection closed");
	epoll_ctl(a->epfd, EPOLL_CTL_DEL, c->fd, NULL);
	close(c->fd);
	memset(c, 0, sizeof(*c));
	c->fd = -1;
	/* Its deadline must not wake an idle agent once more. */
	agent_arm_timer(a);
}

static int conns_of(const struct agent *a, uid_t uid)
{
	int i, n = 0;

	for (i = 0; i < SECTAGD_MAX_CLIENTS; i++)
		n += a->clients[i].fd >= 0 && a->clients[i].uid == uid;
	return n;
}

/*
 * The connection to give up for a newcomer of @uid. For root: the oldest
 * idle connection of any other UID, else the oldest connection of the
 * UID (but root) holding most. For another UID: a connection of the UID
 * holding most, if that is more than the newcomer would then hold, its
 * oldest idle one first. NULL: none.
 */
static struct client *victim(struct agent *a, uid_t uid)
{
	struct client *idle = NULL, *old = NULL, *c;
	int i, n, most = 0;
	uid_t top = 0;

	for (i = 0; i < SECTAGD_MAX_CLIENTS; i++) {
		c = &a->clients[i];
		if (c->fd < 0 || !c->uid || c->uid == uid)
			continue;
		n = conns_of(a, c->uid);
		if (n > most) {
			most = n;
			top = c->uid;
		}
	}
	if (!most || (uid && most <= conns_of(a, uid) + 1))
		return NULL;
	for (i = 0; i < SECTAGD_MAX_CLIENTS; i++) {
		c = &a->clients[i];
		if (c->fd < 0 || !c->uid || c->uid == uid ||
		    (uid && c->uid != top))
			continue;
		if (!c->waiting && (!idle || c->conn_seq < idle->conn_seq))
			idle = c;
		if (c->uid == top && (!old || c->conn_seq < old->conn_seq))
			old = c;
	}
	return idle ? idle : old;
}

/* A slot for a new connection of @uid, or NULL: refused. */
static struct client *admit(struct agent *a, uid_t uid)
{
	struct client *free_slot = NULL, *v;
	int i, others = 0;

	for (i = 0; i < SECTAGD_MAX_CLIENTS; i++) {
		if (a->clients[i].fd < 0)
			free_slot = free_slot ? free_slot : &a->clients[i];
		else if (a->clients[i].uid)
			others++;
	}
	if (uid && conns_of(a, uid) >= (int)a->cfg.max_conn_per_uid)
		return NULL;
	if (free_slot &&
	    (!uid || others < SECTAGD_MAX_CLIENTS - SECTAGD_ROOT_RESERVE))
		return free_slot;
	v = victim(a, uid);
	if (!v)
		return NULL;
	agent_log(LOG_NOTICE, "control socket full: closing a connection of uid %u for uid %u",
		  v->uid, uid);
	a->dropped++;
	ctl_close(a, v);
	return v;
}

void ctl_accept(struct agent *a)
{
	struct ucred cr;
	socklen_t len;
	struct client *c;
	int fd;

	/* Drain: what stays in the backlog would stall the next caller. */
	for (;;) {
		fd = accept4(a->listen_fd, NULL, NULL,
			     SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			if (errno != EAGAIN && errno != EWOULDBLOCK)
				agent_log(LOG_WARNING, "accept: %m");
			return;
		}
		len = sizeof(cr);
		c = NULL;
		if (!getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &len))
			c = admit(a, cr.uid);
		if (!c) {
			a->dropped++;
			close(fd);
			continue;
		}
		memset(c, 0, sizeof(*c));
		c->fd = fd;
		c->uid = cr.uid;
		c->pid = cr.pid;
		c->conn_seq = ++a->conn_seq;
		c->idle_deadline_ms = agent_now_ms() + SECTAGD_IDLE_MS;
		if (agent_watch(a, fd, c))
			ctl_close(a, c);
	}
}

/* May @c ask about a binding of @kind for @target? */
static bool allowed(const struct client *c, int kind, const char *target)
{
	struct passwd *pw;

	if (c->uid == 0)
		return true;
	if (kind != SECTAG_BIND_USER)
		return false;
	pw = getpwuid(c->uid);
	return pw && !strcmp(pw->pw_name, target);
}

static void has_request(struct agent *a, struct client *c,
			const struct sectag_agent_req *r)
{
	const struct sectag_store *st;
	size_t i, n = 0;

	if (agent_store(a, &st)) {
		fail(c, SECTAG_AGENT_E_STORE);
		return;
	}
	for (i = 0; i < st->n; i++)
		n += (int)st->b[i].kind == r->kind &&
		     !strcmp(st->b[i].target, r->target);
	reply(c, SECTAG_AGENT_OK, n);
}

static bool local_host(const char *h)
{
	return !*h || !strcmp(h, "localhost") || !strcmp(h, "127.0.0.1") ||
	       !strcmp(h, "::1");
}

/* What logind records of a caller's session. */
struct session {
	bool remote;
	bool greeter;			/* a display manager's login screen */
	bool has_uid;
	uid_t uid;			/* whose session it is */
	char seat[SECTAGD_SEAT_LEN];
};

/*
 * What logind says of @pid's session (/proc/PID/sessionid, then
 * /run/systemd/sessions/ID): false when it knows nothing. Neither can be
 * changed by the caller (the audit session id is set once, at login).
 */
static bool logind_session(pid_t pid, struct session *s)
{
	char path[64], line[256];
	unsigned long id, uid;
	FILE *f;
	int got;

	snprintf(path, sizeof(path), "/proc/%d/sessionid", (int)pid);
	f = fopen(path, "re");
	if (!f)
		return false;
	got = fscanf(f, "%lu", &id);
	fclose(f);
	if (got != 1 || id >= 0xffffffffUL)
		return false;
	snprintf(path, sizeof(path), "/run/systemd/sessions/%lu", id);
	f = fopen(path, "re");
	if (!f)
		return false;
	memset(s, 0, sizeof(*s));
	while (fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\n")] = 0;
		if (!strcmp(line, "REMOTE=1"))
			s->remote = true;
		else if (!strcmp(line, "CLASS=greeter") ||
			 !strcmp(line, "CLASS=lock-screen"))
			s->greeter = true;
		else if (!strncmp(line, "SEAT=", 5))
			sectag_agent_clean(s->seat, sizeof(s->seat), line + 5);
		else if (sscanf(line, "UID=%lu", &uid) == 1 &&
			 uid < 0xffffffffUL) {
			s->has_uid = true;
			s->uid = uid;
		}
	}
	fclose(f);
	return true;
}

/*
 * A request for @target's user binding from a session of someone else
 * (mallory typing "su alice"): the person at the reader is not the one
 * asking. Root's sessions and login screens may ask for anyone.
 */
static bool foreign_session(const struct session *s, int kind,
			    const char *target)
{
	struct passwd *pw;

	if (kind != SECTAG_BIND_USER || !s->has_uid || !s->uid || s->greeter)
		return false;
	pw = getpwnam(target);
	return !pw || pw->pw_uid != s->uid;
}

/* "alice for sudo on tty2 (uid 0, seat0)": for the log. */
static void describe(const struct client *c, char *buf, size_t size)
{
	snprintf(buf, size, "%s %s for %s%s%s (uid %u, %s%s%s)",
		 sectag_agent_kind_name(c->kind), c->target,
		 *c->o.service ? c->o.service : "?",
		 *c->o.tty ? " on " : "", c->o.tty, c->uid,
		 c->remote ? "remote" : c->seat,
		 *c->o.rhost ? " from " : "", c->o.rhost);
}

static struct client *pending(struct agent *a, int kind, const char *target)
{
	int i;

	for (i = 0; i < SECTAGD_MAX_CLIENTS; i++) {
		struct client *c = &a->clients[i];

		if (c->fd >= 0 && c->waiting && c->kind == kind &&
		    !strcmp(c->target, target))
			return c;
	}
	return NULL;
}

static void auth_request(struct agent *a, struct client *c,
			 const struct sectag_agent_req *r)
{
	struct sectag_agent_ans busy = { .type = SECTAG_AGENT_FAIL,
					 .fail = SECTAG_AGENT_E_BUSY };
	const char *why = "remote host";
	char what[512];
	struct client *holder;
	struct session s;
	bool remote = !local_host(r->o.rhost);

	c->kind = r->kind;
	snprintf(c->target, sizeof(c->target), "%s", r->target);
	c->o = r->o;
	/* The caller's claim, unless logind knows better. */
	snprintf(c->seat, sizeof(c->seat), "%s",
		 *r->o.seat ? r->o.seat : a->cfg.seat);
	if (!remote && logind_session(c->pid, &s)) {
		remote = true;
		if (s.remote)
			why = "remote session";
		else if (!*s.seat)
			why = "session on no seat";
		else if (foreign_session(&s, r->kind, r->target))
			why = "another user's session";
		else
			remote = false;
		memcpy(c->seat, s.seat, sizeof(c->seat));
	}
	c->remote = remote;
	if (remote)
		c->seat[0] = 0;
	describe(c, what, sizeof(what));
	if (remote && !config_remote_ok(&a->cfg, r->o.service)) {
		agent_log(LOG_NOTICE, "refused remote request (%s): %s", why,
			  what);
		fail(c, SECTAG_AGENT_E_REMOTE);
		return;
	}
	if (!remote && !config_seat_known(&a->cfg, c->seat)) {
		agent_log(LOG_NOTICE, "refused request: no reader on its seat: %s",
			  what);
		fail(c, SECTAG_AGENT_E_NOSEAT);
		return;
	}
	holder = pending(a, r->kind, r->target);
	if (holder) {
		agent_log(LOG_NOTICE, "refused request %s: request %llu is pending",
			  what, (unsigned long long)holder->req_seq);
		snprintf(busy.service, sizeof(busy.service), "%s",
			 holder->o.service);
		snprintf(busy.tty, sizeof(busy.tty), "%s", holder->o.tty);
		busy.has_uid = true;
		busy.uid = holder->uid;
		send_ans(c, &busy);
		return;
	}
	c->waiting = true;
	c->req_seq = ++a->req_seq;
	c->deadline_ms = agent_now_ms() + r->ms;
	agent_log(LOG_INFO, "request %llu: %s, %u ms",
		  (unsigned long long)c->req_seq, what, r->ms);
	reply(c, SECTAG_AGENT_WAITING, 0);
	agent_arm_timer(a);
}

static void borrow_request(struct agent *a, struct client *c,
			   const struct sectag_agent_req *rq)
{
	struct sectag_agent_ans ans = { .type = SECTAG_AGENT_FAIL,
					.fail = SECTAG_AGENT_E_BORROWED };
	struct client *holder = borrower(a, rq->reader);
	struct reader *r;
	int rc;

	if (c->uid) {
		agent_log(LOG_NOTICE, "uid %u may not borrow nfc%u", c->uid,
			  rq->reader);
		fail(c, SECTAG_AGENT_E_DENIED);
		return;
	}
	if (holder) {
		ans.has_uid = true;
		ans.uid = holder->uid;
		send_ans(c, &ans);
		return;
	}
	r = reader_find(a, rq->reader, false);
	if (r) {
		/* Let the tag go (no key is revoked unless configured to). */
		if (r->tag_fd >= 0)
			tap_lost(a, r);
		reader_poll_ended(r);
		rc = sectag_nfc_stop_poll(a->nfc, r->idx);
		if (rc && rc != -EINVAL)
			agent_log(LOG_DEBUG, "nfc%u: stop poll: %d", r->idx, rc);
	}
	c->borrowing = true;
	c->borrow_idx = rq->reader;
	c->deadline_ms = agent_now_ms() + rq->ms;
	agent_log(LOG_INFO, "nfc%u: lent to pid %d for at most %u ms", rq->reader,
		  (int)c->pid, rq->ms);
	reply(c, SECTAG_AGENT_OK, rq->reader);
	agent_arm_timer(a);
}

static int by_idx(const void *x, const void *y)
{
	uint32_t a = *(const uint32_t *)x, b = *(const uint32_t *)y;

	return a < b ? -1 : a > b;
}

/* STATE: pending requests and the readers, by index (root only). */
static void status_request(struct agent *a, struct client *c)
{
	struct sectag_agent_ans ans = { .type = SECTAG_AGENT_STATE };
	uint32_t idx[SECTAGD_MAX_READERS + SECTAGD_MAX_CLIENTS];
	size_t n = 0, i;
	struct reader *r;

	if (c->uid) {
		fail(c, SECTAG_AGENT_E_DENIED);
		return;
	}
	for (i = 0; i < SECTAGD_MAX_CLIENTS; i++) {
		ans.n += a->clients[i].fd >= 0 && a->clients[i].waiting;
		if (a->clients[i].fd >= 0 && a->clients[i].borrowing)
			idx[n++] = a->clients[i].borrow_idx;
	}
	for (i = 0; i < SECTAGD_MAX_READERS; i++)
		if (a->readers[i].used && !ctl_borrowed(a, a->readers[i].idx))
			idx[n++] = a->readers[i].idx;
	qsort(idx, n, sizeof(idx[0]), by_idx);
	for (i = 0; i < n && ans.n_readers < SECTAG_AGENT_STATE_MAX; i++) {
		if (i && idx[i] == idx[i - 1])
			continue;
		r = reader_find(a, idx[i], false);
		ans.readers[ans.n_readers].idx = idx[i];
		ans.readers[ans.n_readers++].state =
			ctl_borrowed(a, idx[i]) ? SECTAG_AGENT_R_BORROWED :
			r && r->tag_fd >= 0 ? SECTAG_AGENT_R_TAG :
			SECTAG_AGENT_R_WATCH;
	}
	send_ans(c, &ans);
}

void ctl_input(struct agent *a, struct client *c)
{
	char buf[SECTAG_AGENT_MSG_MAX + 1];
	struct iovec iov = { .iov_base = buf, .iov_len = sizeof(buf) };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
	struct sectag_agent_req r;
	ssize_t n;

	if (c->fd < 0)		/* closed earlier in this round of events */
		return;
	n = recvmsg(c->fd, &mh, MSG_DONTWAIT);
	if (n <= 0) {
		if (n == 0 || (errno != EAGAIN && errno != EINTR))
			ctl_close(a, c);
		return;
	}
	/* One request at a time: anything during a wait ends the wait. */
	if (c->waiting) {
		ctl_close(a, c);
		agent_arm_timer(a);
		return;
	}
	if ((mh.msg_flags & MSG_TRUNC) ||
	    sectag_agent_req_parse(buf, n, &r)) {
		/* a borrower's garbage ends its borrow, as anything but RETURN */
		if (c->borrowing)
			ctl_close(a, c);
		else
			fail(c, SECTAG_AGENT_E_REQUEST);
		return;
	}
	if (c->borrowing) {
		if (r.verb != SECTAG_AGENT_RETURN) {
			ctl_close(a, c);
			return;
		}
		borrow_end(a, c, "returned");
		reply(c, SECTAG_AGENT_OK, c->borrow_idx);
		c->idle_deadline_ms = agent_now_ms() + SECTAGD_IDLE_MS;
		agent_arm_timer(a);
		return;
	}
	switch (r.verb) {
	case SECTAG_AGENT_PING:
		reply(c, SECTAG_AGENT_HELLO, SECTAG_AGENT_VERSION);
		return;
	case SECTAG_AGENT_STATUS:
		status_request(a, c);
		return;
	case SECTAG_AGENT_BORROW:
		borrow_request(a, c, &r);
		return;
	case SECTAG_AGENT_RETURN:	/* nothing borrowed */
		fail(c, SECTAG_AGENT_E_REQUEST);
		return;
	default:
		break;
	}
	if (!allowed(c, r.kind, r.target)) {
		agent_log(LOG_NOTICE, "uid %u may not ask about %s %s", c->uid,
			  sectag_agent_kind_name(r.kind), r.target);
		fail(c, SECTAG_AGENT_E_DENIED);
		return;
	}
	if (r.verb == SECTAG_AGENT_HAS)
		has_request(a, c, &r);
	else
		auth_request(a, c, &r);
}

static bool matches(const struct client *c, const struct released *rel,
		    size_t n, bool sealed, uint32_t *id)
{
	size_t j;

	for (j = 0; j < n; j++) {
		if (rel[j].sealed == sealed && rel[j].kind == c->kind &&
		    !strcmp(rel[j].target, c->target)) {
			*id = rel[j].id;
			return true;
		}
	}
	return false;
}

/*
 * The request a tap on a reader of @seat answers among those matching
 * @rel (their released bindings, or those the TPM refused: @sealed):
 * local before remote, then the oldest. NULL if none.
 */
static struct client *answered(struct agent *a, const char *seat,
			       const struct released *rel, size_t n,
			       bool sealed, uint32_t *best_id)
{
	struct client *best = NULL;
	uint32_t id = 0;
	int i;

	for (i = 0; n && i < SECTAGD_MAX_CLIENTS; i++) {
		struct client *c = &a->clients[i];

		if (c->fd < 0 || !c->waiting ||
		    !matches(c, rel, n, sealed, &id))
			continue;
		if (!c->remote && strcmp(c->seat, seat))
			continue;
		if (!best || (best->remote && !c->remote) ||
		    (best->remote == c->remote && c->req_seq < best->req_seq)) {
			best = c;
			*best_id = id;
		}
	}
	return best;
}

void ctl_tap_result(struct agent *a, const struct reader *r,
		    const struct released *rel, size_t n)
{
	const char *seat = config_reader_seat(&a->cfg, r->idx);
	struct client *best;
	uint32_t best_id = 0;
	bool sealed = false;
	char what[512];

	/* A tap that released nothing answers nobody: they keep waiting. */
	best = answered(a, seat, rel, n, false, &best_id);
	/*
	 * Unless the TPM refused a tpm2 binding the request is for: no
	 * later tap of that tag would do better, so it is told now.
	 */
	if (!best) {
		best = answered(a, seat, rel, n, true, &best_id);
		sealed = true;
	}
	if (!best)
		return;
	describe(best, what, sizeof(what));
	if (sealed) {
		agent_log(LOG_NOTICE, "request %llu (%s) failed: the TPM did "
			  "not unseal binding %u on nfc%u",
			  (unsigned long long)best->req_seq, what, best_id,
			  r->idx);
		fail(best, SECTAG_AGENT_E_SEALED);
	} else {
		agent_log(LOG_INFO, "request %llu (%s) answered by binding %u "
			  "on nfc%u", (unsigned long long)best->req_seq, what,
			  best_id, r->idx);
		reply(best, SECTAG_AGENT_OK, best_id);
	}
	best->waiting = false;
	best->idle_deadline_ms = agent_now_ms() + SECTAGD_IDLE_MS;
	agent_arm_timer(a);
}

void ctl_expire(struct agent *a)
{
	int64_t now = agent_now_ms();
	int i;

	for (i = 0; i < SECTAGD_MAX_CLIENTS; i++) {
		struct client *c = &a->clients[i];

		if (c->fd < 0)
			continue;
		if (c->borrowing) {
			if (c->deadline_ms <= now) {
				borrow_end(a, c, "time limit");
				ctl_close(a, c);
			}
			continue;
		}
		if (c->waiting && c->deadline_ms <= now) {
			agent_log(LOG_INFO, "request %llu: timed out",
				  (unsigned long long)c->req_seq);
			reply(c, SECTAG_AGENT_TIMEOUT, 0);
			c->waiting = false;
			c->idle_deadline_ms = now + SECTAGD_IDLE_MS;
		} else if (!c->waiting && c->idle_deadline_ms <= now) {
			agent_log(LOG_DEBUG, "closing idle connection of uid %u",
				  c->uid);
			ctl_close(a, c);
		}
	}
}

int64_t ctl_next_deadline(const struct agent *a)
{
	int64_t first = 0, d;
	int i;

	for (i = 0; i < SECTAGD_MAX_CLIENTS; i++) {
		const struct client *c = &a->clients[i];

		if (c->fd < 0)
			continue;
		d = c->waiting || c->borrowing ? c->deadline_ms :
		    c->idle_deadline_ms;
		if (!first || d < first)
			first = d;
	}
	return first;
}
