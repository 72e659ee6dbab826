/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The sectagd control protocol (version 2): the socket, the requests and
 * answers, their text form, and the client calls. Shared by the agent,
 * pam_sectag, the tests and the fuzzer. Nothing here needs libnl or
 * OpenSSL: pam_sectag.so compiles this file in and links nothing else of
 * libsectag. The wire format is specified in
 * Documentation/agent-protocol.md.
 */
#ifndef SECTAG_AGENT_H
#define SECTAG_AGENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define SECTAG_AGENT_SOCKET	"/run/sectag/sectagd.sock"
#define SECTAG_AGENT_VERSION	2
#define SECTAG_AGENT_MSG_MAX	512	/* bytes in one message, either way */
#define SECTAG_AGENT_WAIT_MAX_MS 600000	/* longest AUTH wait */

enum sectag_agent_verb {
	SECTAG_AGENT_PING = 1,
	SECTAG_AGENT_HAS,		/* how many bindings for KIND TARGET */
	SECTAG_AGENT_AUTH,		/* wait for one tap of KIND TARGET */
	SECTAG_AGENT_BORROW,		/* root: the agent leaves reader nfcN */
	SECTAG_AGENT_RETURN,		/* root: ... and takes it back */
	SECTAG_AGENT_STATUS,		/* root: pending requests, readers */
};

#define SECTAG_AGENT_BORROW_MAX_MS 600000	/* longest BORROW */
#define SECTAG_AGENT_STATE_MAX	16	/* readers in one STATE answer */

/* Who asks, and from where: the PAM items of the transaction. */
struct sectag_agent_origin {
	char service[64];		/* PAM_SERVICE */
	char tty[64];			/* PAM_TTY */
	char seat[32];			/* XDG_SEAT of the PAM environment */
	char rhost[128];		/* PAM_RHOST: set for a remote login */
	char ruser[64];			/* PAM_RUSER */
};

struct sectag_agent_req {
	enum sectag_agent_verb verb;
	int kind;			/* SECTAG_BIND_USER, _NAME or _LUKS (root) */
	char target[128];		/* user name or label */
	uint32_t ms;			/* AUTH, BORROW: 1..*_MAX_MS */
	uint32_t reader;		/* BORROW: the N of nfcN */
	struct sectag_agent_origin o;	/* AUTH only; "" when not given */
};

enum sectag_agent_ans_type {
	SECTAG_AGENT_OK = 1,		/* OK N: a count (HAS), a binding (AUTH) */
	SECTAG_AGENT_HELLO,		/* OK sectagd V: answer to PING */
	SECTAG_AGENT_WAITING,		/* AUTH queued: the tap may come */
	SECTAG_AGENT_TIMEOUT,		/* AUTH: no tap of that tag in time */
	SECTAG_AGENT_FAIL,
	SECTAG_AGENT_STATE,		/* answer to STATUS */
};

/* A reader as the agent sees it (STATE answer). */
enum sectag_agent_rstate {
	SECTAG_AGENT_R_WATCH = 1,	/* polling, or waiting for its events */
	SECTAG_AGENT_R_TAG,		/* a tag is connected */
	SECTAG_AGENT_R_BORROWED,	/* lent to a client (BORROW) */
	SECTAG_AGENT_R_MAX = SECTAG_AGENT_R_BORROWED,
};

enum sectag_agent_fail {
	SECTAG_AGENT_E_REQUEST = 1,	/* bad-request: malformed, unknown */
	SECTAG_AGENT_E_DENIED,		/* denied: not the caller's business */
	SECTAG_AGENT_E_REMOTE,		/* remote: remote session, not allowed */
	SECTAG_AGENT_E_BUSY,		/* busy: a request for it is pending */
	SECTAG_AGENT_E_STORE,		/* store: the store is unreadable */
	SECTAG_AGENT_E_NOSEAT,		/* noseat: no reader on the seat */
	SECTAG_AGENT_E_BORROWED,	/* borrowed: reader lent to another */
	SECTAG_AGENT_E_SEALED,		/* sealed: the TPM refused the tag's seal */
	SECTAG_AGENT_E_MAX = SECTAG_AGENT_E_SEALED,
};

struct sectag_agent_ans {
	enum sectag_agent_ans_type type;
	uint32_t n;			/* OK: N; HELLO: version */
	enum sectag_agent_fail fail;	/* FAIL */
	/* FAIL busy: who holds the pending request (optional fields) */
	char service[64];
	char tty[64];
	bool has_uid;
	uint32_t uid;
	/* STATE: n = pending requests; the readers, by increasing index */
	size_t n_readers;
	struct {
		uint32_t idx;
		enum sectag_agent_rstate state;
	} readers[SECTAG_AGENT_STATE_MAX];
};

/* "user", "name", "luks" -> SECTAG_BIND_*, or 0; and back (NULL if none). */
int sectag_agent_kind(const char *word);
const char *sectag_agent_kind_name(int kind);
/* "bad-request", ... for a FAIL code; "?" if unknown. */
const char *sectag_agent_fail_name(enum sectag_agent_fail f);
/* "watch", "tag", "borrowed"; "?" if unknown. */
const char *sectag_agent_rstate_name(enum sectag_agent_rstate s);

/*
 * Text form of a request or an answer into @buf: its length (no NUL
 * counted, but one written), -EINVAL for a value that cannot be sent
 * (a target with blanks or control characters, a zero AUTH time) or
 * -EMSGSIZE when it does not fit in @size or SECTAG_AGENT_MSG_MAX.
 */
int sectag_agent_req_format(const struct sectag_agent_req *r, char *buf,
			    size_t size);
int sectag_agent_ans_format(const struct sectag_agent_ans *a, char *buf,
			    size_t size);

/*
 * Parse one message of @len bytes (not NUL-terminated; embedded NULs,
 * non-ASCII bytes, extra blanks, unknown words or keys, repeated keys and
 * out-of-range numbers are all errors). 0, or -EBADMSG.
 */
int sectag_agent_req_parse(const char *msg, size_t len,
			   struct sectag_agent_req *r);
int sectag_agent_ans_parse(const char *msg, size_t len,
			   struct sectag_agent_ans *a);

/*
 * @src as a value a request can carry: at most @size - 1 bytes, every
 * byte outside printable ASCII replaced by '?'. For PAM items, which
 * may hold anything.
 */
void sectag_agent_clean(char *dst, size_t size, const char *src);

/* Client side. Monotonic milliseconds: the deadlines below. */
int64_t sectag_agent_now_ms(void);

/*
 * Connect to the agent at @path (SOCK_SEQPACKET), giving up after
 * @timeout_ms even when the listener's backlog is full. The socket's
 * peer must run as root or as @owner (SO_PEERCRED): otherwise -EPERM,
 * and *@peer_uid says who it was. The descriptor, or -errno.
 */
int sectag_agent_connect(const char *path, int timeout_ms, uid_t owner,
			 uid_t *peer_uid);

/*
 * Send @r; -EPROTO when anything arrived unasked before it (it would
 * pass for the answer). 0 or -errno.
 */
int sectag_agent_send(int fd, const struct sectag_agent_req *r);

/*
 * The next answer, by @deadline (sectag_agent_now_ms() clock): 0,
 * -ETIMEDOUT, -ECONNRESET (closed), -EBADMSG (truncated, oversized,
 * carrying descriptors or malformed) or another -errno.
 */
int sectag_agent_recv(int fd, struct sectag_agent_ans *a, int64_t deadline);

#endif
