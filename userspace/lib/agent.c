// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The sectagd control protocol, version 2 (Documentation/agent-protocol.md):
 * one request or answer per SOCK_SEQPACKET message, a line of printable
 * ASCII words separated by single blanks. Values that may hold anything
 * (a tty, a remote host) travel as key=value with %XX escapes.
 *
 * Both parsers take bytes from someone else (a local user's request, an
 * agent that may be hung or fake): they accept exactly the grammar and
 * nothing near it.
 */
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "agent.h"
#include "hex.h"
#include "store.h"

static const char *const fail_names[] = {
	[SECTAG_AGENT_E_REQUEST] = "bad-request",
	[SECTAG_AGENT_E_DENIED] = "denied",
	[SECTAG_AGENT_E_REMOTE] = "remote",
	[SECTAG_AGENT_E_BUSY] = "busy",
	[SECTAG_AGENT_E_STORE] = "store",
	[SECTAG_AGENT_E_NOSEAT] = "noseat",
	[SECTAG_AGENT_E_BORROWED] = "borrowed",
	[SECTAG_AGENT_E_SEALED] = "sealed",
};

static const char *const rstate_names[] = {
	[SECTAG_AGENT_R_WATCH] = "watch",
	[SECTAG_AGENT_R_TAG] = "tag",
	[SECTAG_AGENT_R_BORROWED] = "borrowed",
};

int sectag_agent_kind(const char *word)
{
	if (!strcmp(word, "user"))
		return SECTAG_BIND_USER;
	if (!strcmp(word, "name"))
		return SECTAG_BIND_NAME;
	/* Root only (the agent's rule): the token plugin, sectag unlock. */
	if (!strcmp(word, "luks"))
		return SECTAG_BIND_LUKS;
	return 0;
}

const char *sectag_agent_kind_name(int kind)
{
	return kind == SECTAG_BIND_USER ? "user" :
	       kind == SECTAG_BIND_NAME ? "name" :
	       kind == SECTAG_BIND_LUKS ? "luks" : NULL;
}

const char *sectag_agent_fail_name(enum sectag_agent_fail f)
{
	if ((int)f < 1 || f > SECTAG_AGENT_E_MAX)
		return "?";
	return fail_names[f];
}

const char *sectag_agent_rstate_name(enum sectag_agent_rstate st)
{
	if ((int)st < 1 || st > SECTAG_AGENT_R_MAX)
		return "?";
	return rstate_names[st];
}

static bool graphic(unsigned char c)
{
	return c > ' ' && c < 0x7f;
}

void sectag_agent_clean(char *dst, size_t size, const char *src)
{
	size_t i;

	if (!size)
		return;
	for (i = 0; src && src[i] && i + 1 < size; i++)
		dst[i] = src[i] >= ' ' && src[i] < 0x7f ? src[i] : '?';
	dst[i] = 0;
}

/* A word: 1..max-1 graphic characters. */
static bool word_ok(const char *s, size_t max)
{
	size_t n = strlen(s);

	if (!n || n >= max)
		return false;
	while (*s)
		if (!graphic(*s++))
			return false;
	return true;
}

/* Output buffer with overflow tracking. */
struct out {
	char *p;
	size_t size, n;
	bool over;
};

static void put(struct out *o, const char *s, size_t n)
{
	if (o->over || o->n + n >= o->size) {
		o->over = true;
		return;
	}
	memcpy(o->p + o->n, s, n);
	o->n += n;
	o->p[o->n] = 0;
}

static void puts_(struct out *o, const char *s)
{
	put(o, s, strlen(s));
}

/* " key=value", printable ASCII escaped; nothing when value is "". */
static int put_kv(struct out *o, const char *key, const char *v)
{
	char esc[4] = { '%' };
	uint8_t b;

	if (!*v)
		return 0;
	put(o, " ", 1);
	puts_(o, key);
	put(o, "=", 1);
	for (; *v; v++) {
		unsigned char c = *v;

		if (c < ' ' || c >= 0x7f)
			return -EINVAL;
		if (c == ' ' || c == '%') {
			b = c;
			sectag_hex(esc + 1, &b, 1, true);
			put(o, esc, 3);
		} else {
			put(o, v, 1);
		}
	}
	return 0;
}

static int finish(struct out *o)
{
	if (o->over || o->n > SECTAG_AGENT_MSG_MAX)
		return -EMSGSIZE;
	return (int)o->n;
}

int sectag_agent_req_format(const struct sectag_agent_req *r, char *buf,
			    size_t size)
{
	struct out o = { buf, size, 0, !size };
	const char *kind = sectag_agent_kind_name(r->kind);
	char num[40];
	int rc = 0;

	if (size)
		buf[0] = 0;
	switch (r->verb) {
	case SECTAG_AGENT_PING:
		puts_(&o, "PING");
		return finish(&o);
	case SECTAG_AGENT_STATUS:
		puts_(&o, "STATUS");
		return finish(&o);
	case SECTAG_AGENT_RETURN:
		puts_(&o, "RETURN");
		return finish(&o);
	case SECTAG_AGENT_BORROW:
		if (!r->ms || r->ms > SECTAG_AGENT_BORROW_MAX_MS)
			return -EINVAL;
		snprintf(num, sizeof(num), "BORROW nfc%u %u", r->reader, r->ms);
		puts_(&o, num);
		return finish(&o);
	case SECTAG_AGENT_HAS:
	case SECTAG_AGENT_AUTH:
		break;
	default:
		return -EINVAL;
	}
	if (!kind || !word_ok(r->target, sizeof(r->target)))
		return -EINVAL;
	puts_(&o, r->verb == SECTAG_AGENT_HAS ? "HAS " : "AUTH ");
	puts_(&o, kind);
	put(&o, " ", 1);
	puts_(&o, r->target);
	if (r->verb == SECTAG_AGENT_HAS)
		return finish(&o);
	if (!r->ms || r->ms > SECTAG_AGENT_WAIT_MAX_MS)
		return -EINVAL;
	snprintf(num, sizeof(num), " %u", r->ms);
	puts_(&o, num);
	rc |= put_kv(&o, "service", r->o.service);
	rc |= put_kv(&o, "tty", r->o.tty);
	rc |= put_kv(&o, "seat", r->o.seat);
	rc |= put_kv(&o, "rhost", r->o.rhost);
	rc |= put_kv(&o, "ruser", r->o.ruser);
	return rc ? -EINVAL : finish(&o);
}

int sectag_agent_ans_format(const struct sectag_agent_ans *a, char *buf,
			    size_t size)
{
	struct out o = { buf, size, 0, !size };
	char num[40];
	size_t i;
	int rc = 0;

	if (size)
		buf[0] = 0;
	switch (a->type) {
	case SECTAG_AGENT_OK:
		snprintf(num, sizeof(num), "OK %u", a->n);
		puts_(&o, num);
		break;
	case SECTAG_AGENT_HELLO:
		snprintf(num, sizeof(num), "OK sectagd %u", a->n);
		puts_(&o, num);
		break;
	case SECTAG_AGENT_WAITING:
		puts_(&o, "WAITING");
		break;
	case SECTAG_AGENT_TIMEOUT:
		puts_(&o, "TIMEOUT");
		break;
	case SECTAG_AGENT_STATE:
		if (a->n_readers > SECTAG_AGENT_STATE_MAX)
			return -EINVAL;
		snprintf(num, sizeof(num), "STATE %u", a->n);
		puts_(&o, num);
		for (i = 0; i < a->n_readers; i++) {
			/* one spelling: by strictly increasing index */
			if ((i && a->readers[i].idx <= a->readers[i - 1].idx) ||
			    (int)a->readers[i].state < 1 ||
			    a->readers[i].state > SECTAG_AGENT_R_MAX)
				return -EINVAL;
			snprintf(num, sizeof(num), " nfc%u=%s", a->readers[i].idx,
				 rstate_names[a->readers[i].state]);
			puts_(&o, num);
		}
		break;
	case SECTAG_AGENT_FAIL:
		if ((int)a->fail < 1 || a->fail > SECTAG_AGENT_E_MAX)
			return -EINVAL;
		puts_(&o, "FAIL ");
		puts_(&o, fail_names[a->fail]);
		if (a->fail != SECTAG_AGENT_E_BUSY &&
		    a->fail != SECTAG_AGENT_E_BORROWED)
			break;
		if (a->fail == SECTAG_AGENT_E_BUSY) {
			rc |= put_kv(&o, "service", a->service);
			rc |= put_kv(&o, "tty", a->tty);
		}
		if (a->has_uid) {
			snprintf(num, sizeof(num), " uid=%u", a->uid);
			puts_(&o, num);
		}
		break;
	default:
		return -EINVAL;
	}
	return rc ? -EINVAL : finish(&o);
}

/*
 * Splitting a message into words: the message is copied into @buf with
 * its blanks turned into NULs. Only single blanks between words; no
 * leading or trailing blank; every byte printable ASCII.
 */
static int split(const char *msg, size_t len, char *buf, char **w, int max)
{
	size_t i;
	int n = 0;

	if (!len || len > SECTAG_AGENT_MSG_MAX)
		return -1;
	for (i = 0; i < len; i++) {
		unsigned char c = msg[i];

		if (c == ' ') {
			if (!i || i + 1 == len || msg[i - 1] == ' ')
				return -1;
			buf[i] = 0;
		} else if (graphic(c)) {
			buf[i] = c;
			if (!i || msg[i - 1] == ' ') {
				if (n == max)
					return -1;
				w[n++] = buf + i;
			}
		} else {
			return -1;
		}
	}
	buf[len] = 0;
	return n;
}

/* A decimal number without sign or leading zero, at most @max. */
static int number(const char *s, uint32_t max, uint32_t *out)
{
	uint64_t v = 0;

	if (!*s || (s[0] == '0' && s[1]))
		return -1;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return -1;
		v = v * 10 + (*s - '0');
		if (v > max)
			return -1;
	}
	*out = v;
	return 0;
}

/*
 * Decode a %XX-escaped value into @dst: the escapes are exactly those
 * the formatter writes (uppercase, for ' ' and '%' only), so that one
 * value has one spelling. Decoded values are printable ASCII, not "".
 */
static int unescape(const char *s, char *dst, size_t size)
{
	size_t n = 0;
	uint8_t b;

	for (; *s; s++) {
		char c = *s;

		if (c == '%') {
			/* "%20" and "%25" have no letters: case is moot */
			if (strnlen(s + 1, 2) < 2 ||
			    sectag_unhex(s + 1, 2, &b, 1, false))
				return -1;
			c = (char)b;
			if (c != ' ' && c != '%')
				return -1;
			s += 2;
		}
		if (n + 1 >= size)
			return -1;
		dst[n++] = c;
	}
	dst[n] = 0;
	return n ? 0 : -1;
}

struct key {
	const char *name;
	char *dst;
	size_t size;
};

/*
 * key=value words against a table of known keys: each at most once and
 * in the table's order, so that a request has one spelling only.
 */
static int keyvals(char **w, int n, struct key *keys, int nkeys)
{
	unsigned int seen = 0;
	int i, k;

	for (i = 0; i < n; i++) {
		char *eq = strchr(w[i], '=');

		if (!eq)
			return -1;
		*eq = 0;
		for (k = 0; k < nkeys; k++)
			if (!strcmp(w[i], keys[k].name))
				break;
		if (k == nkeys || seen >> k)
			return -1;
		seen |= 1u << k;
		if (unescape(eq + 1, keys[k].dst, keys[k].size))
			return -1;
	}
	return 0;
}

int sectag_agent_req_parse(const char *msg, size_t len,
			   struct sectag_agent_req *r)
{
	char buf[SECTAG_AGENT_MSG_MAX + 1], *w[10];
	struct key keys[] = {
		{ "service", r->o.service, sizeof(r->o.service) },
		{ "tty", r->o.tty, sizeof(r->o.tty) },
		{ "seat", r->o.seat, sizeof(r->o.seat) },
		{ "rhost", r->o.rhost, sizeof(r->o.rhost) },
		{ "ruser", r->o.ruser, sizeof(r->o.ruser) },
	};
	int n;

	memset(r, 0, sizeof(*r));
	n = split(msg, len, buf, w, 10);
	if (n < 1)
		goto bad;
	if (!strcmp(w[0], "PING") && n == 1) {
		r->verb = SECTAG_AGENT_PING;
		return 0;
	}
	if (!strcmp(w[0], "STATUS") && n == 1) {
		r->verb = SECTAG_AGENT_STATUS;
		return 0;
	}
	if (!strcmp(w[0], "RETURN") && n == 1) {
		r->verb = SECTAG_AGENT_RETURN;
		return 0;
	}
	if (!strcmp(w[0], "BORROW") && n == 3) {
		r->verb = SECTAG_AGENT_BORROW;
		if (strncmp(w[1], "nfc", 3) ||
		    number(w[1] + 3, UINT32_MAX, &r->reader) ||
		    number(w[2], SECTAG_AGENT_BORROW_MAX_MS, &r->ms) || !r->ms)
			goto bad;
		return 0;
	}
	if (!strcmp(w[0], "HAS") && n == 3)
		r->verb = SECTAG_AGENT_HAS;
	else if (!strcmp(w[0], "AUTH") && n >= 4)
		r->verb = SECTAG_AGENT_AUTH;
	else
		goto bad;
	r->kind = sectag_agent_kind(w[1]);
	if (!r->kind || strlen(w[2]) >= sizeof(r->target))
		goto bad;
	strcpy(r->target, w[2]);
	if (r->verb == SECTAG_AGENT_HAS)
		return 0;
	if (number(w[3], SECTAG_AGENT_WAIT_MAX_MS, &r->ms) || !r->ms ||
	    keyvals(w + 4, n - 4, keys, 5))
		goto bad;
	return 0;
bad:
	memset(r, 0, sizeof(*r));
	return -EBADMSG;
}

int sectag_agent_ans_parse(const char *msg, size_t len,
			   struct sectag_agent_ans *a)
{
	char buf[SECTAG_AGENT_MSG_MAX + 1], *w[2 + SECTAG_AGENT_STATE_MAX];
	char uid[16] = "";
	struct key keys[] = {
		{ "service", a->service, sizeof(a->service) },
		{ "tty", a->tty, sizeof(a->tty) },
		{ "uid", uid, sizeof(uid) },
	};
	int n, f, i;

	memset(a, 0, sizeof(*a));
	n = split(msg, len, buf, w, 2 + SECTAG_AGENT_STATE_MAX);
	if (n < 1)
		goto bad;
	if (!strcmp(w[0], "STATE") && n >= 2) {
		a->type = SECTAG_AGENT_STATE;
		if (number(w[1], UINT32_MAX, &a->n))
			goto bad;
		for (i = 2; i < n; i++) {
			char *eq = strchr(w[i], '=');
			size_t k = a->n_readers++;

			if (strncmp(w[i], "nfc", 3) || !eq)
				goto bad;
			*eq = 0;
			if (number(w[i] + 3, UINT32_MAX, &a->readers[k].idx) ||
			    (k && a->readers[k].idx <= a->readers[k - 1].idx))
				goto bad;
			for (f = 1; f <= SECTAG_AGENT_R_MAX; f++)
				if (!strcmp(eq + 1, rstate_names[f]))
					break;
			if (f > SECTAG_AGENT_R_MAX)
				goto bad;
			a->readers[k].state = f;
		}
		return 0;
	}
	if (!strcmp(w[0], "OK") && n == 2) {
		a->type = SECTAG_AGENT_OK;
		if (number(w[1], UINT32_MAX, &a->n))
			goto bad;
		return 0;
	}
	if (!strcmp(w[0], "OK") && n == 3 && !strcmp(w[1], "sectagd")) {
		a->type = SECTAG_AGENT_HELLO;
		if (number(w[2], 1000, &a->n))
			goto bad;
		return 0;
	}
	if (n == 1 && (!strcmp(w[0], "WAITING") || !strcmp(w[0], "TIMEOUT"))) {
		a->type = w[0][0] == 'W' ? SECTAG_AGENT_WAITING :
			  SECTAG_AGENT_TIMEOUT;
		return 0;
	}
	if (strcmp(w[0], "FAIL") || n < 2)
		goto bad;
	a->type = SECTAG_AGENT_FAIL;
	for (f = 1; f <= SECTAG_AGENT_E_MAX; f++)
		if (!strcmp(w[1], fail_names[f]))
			break;
	if (f > SECTAG_AGENT_E_MAX)
		goto bad;
	a->fail = f;
	/* busy: service, tty, uid; borrowed: uid only */
	if (n > 2 && (f == SECTAG_AGENT_E_BUSY ?
		      keyvals(w + 2, n - 2, keys, 3) :
		      f != SECTAG_AGENT_E_BORROWED ||
		      keyvals(w + 2, n - 2, keys + 2, 1)))
		goto bad;
	if (*uid) {
		if (number(uid, UINT32_MAX, &a->uid))
			goto bad;
		a->has_uid = true;
	}
	return 0;
bad:
	memset(a, 0, sizeof(*a));
	return -EBADMSG;
}

int64_t sectag_agent_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int ms_until(int64_t deadline)
{
	int64_t left = deadline - sectag_agent_now_ms();

	return left < 0 ? 0 : left > INT_MAX ? INT_MAX : (int)left;
}

int sectag_agent_connect(const char *path, int timeout_ms, uid_t owner,
			 uid_t *peer_uid)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct timeval tv;
	struct ucred cr;
	socklen_t len = sizeof(cr);
	int fd, rc;

	/*
	 * connect() to a listener whose backlog is full waits for the send
	 * timeout, forever by default; a zero timeout would mean none.
	 */
	if (timeout_ms < 1)
		timeout_ms = 1;
	tv.tv_sec = timeout_ms / 1000;
	tv.tv_usec = (timeout_ms % 1000) * 1000;
	if (strlen(path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	strcpy(sa.sun_path, path);
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) ||
	    connect(fd, (struct sockaddr *)&sa, sizeof(sa)) ||
	    getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &len)) {
		rc = errno == EINPROGRESS ? -ETIMEDOUT : -errno;
		close(fd);
		return rc;
	}
	if (peer_uid)
		*peer_uid = cr.uid;
	if (cr.uid != 0 && cr.uid != owner) {
		close(fd);
		return -EPERM;
	}
	return fd;
}

int sectag_agent_send(int fd, const struct sectag_agent_req *r)
{
	char msg[SECTAG_AGENT_MSG_MAX + 1], c;
	int n;

	n = sectag_agent_req_format(r, msg, sizeof(msg));
	if (n < 0)
		return n;
	/* Nothing may come unasked: it would pass for this answer. */
	if (recv(fd, &c, 1, MSG_PEEK | MSG_DONTWAIT) >= 0)
		return -EPROTO;
	if (errno != EAGAIN && errno != EWOULDBLOCK)
		return -errno;
	if (send(fd, msg, n, MSG_NOSIGNAL) != n)
		return -errno;
	return 0;
}

int sectag_agent_recv(int fd, struct sectag_agent_ans *a, int64_t deadline)
{
	char msg[SECTAG_AGENT_MSG_MAX + 1];
	struct pollfd p = { .fd = fd, .events = POLLIN };
	struct iovec iov = { .iov_base = msg, .iov_len = sizeof(msg) };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
	ssize_t n;
	int rc;

	memset(a, 0, sizeof(*a));
	do {
		rc = poll(&p, 1, ms_until(deadline));
	} while (rc < 0 && errno == EINTR);
	if (rc < 0)
		return -errno;
	if (!rc)
		return -ETIMEDOUT;
	/* No control buffer: descriptors sent along are closed unseen. */
	n = recvmsg(fd, &mh, MSG_DONTWAIT);
	if (n < 0)
		return -errno;
	if (!n)
		return -ECONNRESET;
	if ((mh.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) ||
	    n > SECTAG_AGENT_MSG_MAX)
		return -EBADMSG;
	return sectag_agent_ans_parse(msg, n, a);
}
