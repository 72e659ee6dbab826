// SPDX-License-Identifier: GPL-2.0
/*
 * The control socket (SOCK_SEQPACKET, one request per message), used by
 * pam_sectag and the CLI. Requests and answers are short text lines:
 *
 *   PING                          -> OK sectagd 1
 *   HAS user|name TARGET          -> OK N (bindings enrolled for it)
 *   WAIT user|name TARGET MS      -> OK BINDING-ID | FAIL REASON | TIMEOUT
 *
 * WAIT answers after the next tap: OK when that tap released a binding
 * of this kind and target, FAIL when it did not (a wrong or unknown
 * tag). Peers are identified with SO_PEERCRED: root may wait for
 * anything, another user only for its own user binding. No answer ever
 * carries key material: released keys live in the kernel keyring.
 */
#include <errno.h>
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

#include "agent.h"
#include "store.h"

int ctl_listen(struct agent *a)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	char dir[sizeof(a->cfg.socket)], *slash;
	int fd;

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
	    chmod(sa.sun_path, 0666) || listen(fd, 8)) {
		close(fd);
		goto err;
	}
	a->listen_fd = fd;
	return 0;
err:
	syslog(LOG_ERR, "control socket %s: %m", a->cfg.socket);
	return -1;
}

static void reply(struct client *c, const char *msg)
{
	if (send(c->fd, msg, strlen(msg), MSG_NOSIGNAL | MSG_DONTWAIT) < 0)
		syslog(LOG_DEBUG, "client: %m");
}

void ctl_close(struct agent *a, struct client *c)
{
	epoll_ctl(a->epfd, EPOLL_CTL_DEL, c->fd, NULL);
	close(c->fd);
	memset(c, 0, sizeof(*c));
	c->fd = -1;
}

void ctl_accept(struct agent *a)
{
	struct ucred cr;
	socklen_t len = sizeof(cr);
	struct client *c = NULL;
	int fd, i;

	fd = accept4(a->listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (fd < 0)
		return;
	for (i = 0; i < SECTAGD_MAX_CLIENTS && !c; i++)
		if (a->clients[i].fd < 0)
			c = &a->clients[i];
	if (!c || getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &len)) {
		close(fd);
		return;
	}
	memset(c, 0, sizeof(*c));
	c->fd = fd;
	c->uid = cr.uid;
	if (agent_watch(a, fd, c))
		ctl_close(a, c);
}

/* May @c wait for a binding of @kind for @target? */
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

/* "user|name TARGET": the binding kind, or 0 after answering FAIL. */
static int parse_kind(struct client *c, const char *kind, const char *target)
{
	int k = !strcmp(kind, "user") ? SECTAG_BIND_USER :
		!strcmp(kind, "name") ? SECTAG_BIND_NAME : 0;

	if (!k) {
		reply(c, "FAIL bad request");
		return 0;
	}
	if (!allowed(c, k, target)) {
		syslog(LOG_NOTICE, "uid %u may not ask about %s %s", c->uid,
		       kind, target);
		reply(c, "FAIL permission denied");
		return 0;
	}
	return k;
}

static void has_request(struct agent *a, struct client *c, char *args)
{
	struct sectag_store st = { 0 };
	char kind[8], target[128], msg[32];
	size_t i, n = 0;
	int k;

	if (sscanf(args, "%7s %127s", kind, target) != 2) {
		reply(c, "FAIL bad request");
		return;
	}
	k = parse_kind(c, kind, target);
	if (!k)
		return;
	if (sectag_store_load(a->cfg.store, &st)) {
		reply(c, "FAIL store unreadable");
		return;
	}
	for (i = 0; i < st.n; i++)
		n += (int)st.b[i].kind == k && !strcmp(st.b[i].target, target);
	sectag_store_free(&st);
	snprintf(msg, sizeof(msg), "OK %zu", n);
	reply(c, msg);
}

static void wait_request(struct agent *a, struct client *c, char *args)
{
	char kind[8], target[128];
	unsigned int ms;
	int k;

	if (sscanf(args, "%7s %127s %u", kind, target, &ms) != 3 ||
	    ms > 600000) {
		reply(c, "FAIL bad request");
		return;
	}
	k = parse_kind(c, kind, target);
	if (!k)
		return;
	c->waiting = true;
	c->kind = k;
	snprintf(c->target, sizeof(c->target), "%s", target);
	c->deadline_ms = ms ? agent_now_ms() + ms : 0;
	agent_arm_timer(a);
}

void ctl_input(struct agent *a, struct client *c)
{
	char buf[256];
	ssize_t n;

	n = recv(c->fd, buf, sizeof(buf) - 1, MSG_DONTWAIT);
	if (n <= 0) {
		if (n == 0 || (errno != EAGAIN && errno != EINTR))
			ctl_close(a, c);
		return;
	}
	buf[n] = 0;
	buf[strcspn(buf, "\r\n")] = 0;
	if (!strcmp(buf, "PING"))
		reply(c, "OK sectagd 1");
	else if (!strncmp(buf, "WAIT ", 5) && !c->waiting)
		wait_request(a, c, buf + 5);
	else if (!strncmp(buf, "HAS ", 4))
		has_request(a, c, buf + 4);
	else
		reply(c, "FAIL bad request");
}

void ctl_tap_result(struct agent *a, const struct reader *r,
		    const struct released *rel, size_t n)
{
	char msg[32];
	size_t j;
	int i;

	(void)r;

	for (i = 0; i < SECTAGD_MAX_CLIENTS; i++) {
		struct client *c = &a->clients[i];

		if (c->fd < 0 || !c->waiting)
			continue;
		for (j = 0; j < n; j++)
			if (rel[j].kind == c->kind &&
			    !strcmp(rel[j].target, c->target))
				break;
		if (j < n)
			snprintf(msg, sizeof(msg), "OK %u", rel[j].id);
		else
			snprintf(msg, sizeof(msg), "FAIL wrong tag");
		reply(c, msg);
		c->waiting = false;
	}
	agent_arm_timer(a);
}

void ctl_expire(struct agent *a)
{
	int64_t now = agent_now_ms();
	int i;

	for (i = 0; i < SECTAGD_MAX_CLIENTS; i++) {
		struct client *c = &a->clients[i];

		if (c->fd >= 0 && c->waiting && c->deadline_ms &&
		    c->deadline_ms <= now) {
			reply(c, "TIMEOUT");
			c->waiting = false;
		}
	}
}
