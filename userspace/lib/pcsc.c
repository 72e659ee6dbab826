// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * PC/SC transport (pcsc.h). The pure parts (error mapping, ATR, GET DATA
 * answers) come first; then contexts, readers, cards; then the watch
 * thread that turns SCardGetStatusChange into a readable descriptor.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <time.h>
#include <unistd.h>

#include <winscard.h>

#include "pcsc.h"

#define PNP_READER	"\\\\?PnP?\\Notification"
/* A short APDU's answer: 256 bytes and the status word. */
#define RAPDU_MAX	258

struct sectag_pcsc {
	SCARDCONTEXT ctx;
};

struct sectag_pcsc_card {
	SCARDHANDLE h;
	DWORD proto;			/* SCARD_PROTOCOL_T0 or T1 */
	bool transaction;
};

/* ---- pure parts ---------------------------------------------------------- */

int sectag_pcsc_errno(long rv)
{
	switch (rv) {
	case SCARD_S_SUCCESS:
		return 0;
	case SCARD_E_NO_SERVICE:
	case SCARD_E_SERVICE_STOPPED:
		return -ECONNREFUSED;
	case SCARD_E_NO_READERS_AVAILABLE:
	case SCARD_E_UNKNOWN_READER:
	case SCARD_E_READER_UNAVAILABLE:
		return -ENODEV;
	case SCARD_E_NO_SMARTCARD:
	case SCARD_W_REMOVED_CARD:
		return -ENXIO;
	case SCARD_E_TIMEOUT:
		return -ETIMEDOUT;
	case SCARD_E_SHARING_VIOLATION:
		return -EBUSY;
	case SCARD_E_CANCELLED:
		return -ECANCELED;
	case SCARD_W_RESET_CARD:
		return -ECONNRESET;
	case SCARD_E_PROTO_MISMATCH:
	case SCARD_E_CARD_UNSUPPORTED:
		return -EPROTONOSUPPORT;
	case SCARD_E_INSUFFICIENT_BUFFER:
		return -EMSGSIZE;
	case SCARD_E_NO_MEMORY:
		return -ENOMEM;
	case SCARD_E_INVALID_PARAMETER:
	case SCARD_E_INVALID_VALUE:
	case SCARD_E_INVALID_HANDLE:
		return -EINVAL;
	case SCARD_E_UNSUPPORTED_FEATURE:
		return -EOPNOTSUPP;
	case SCARD_E_NO_ACCESS:
	case SCARD_W_SECURITY_VIOLATION:
		return -EACCES;
	default:	/* SCARD_W_UNRESPONSIVE_CARD, SCARD_F_COMM_ERROR... */
		return -EIO;
	}
}

const char *sectag_pcsc_strerror(int err)
{
	switch (err) {
	case -ECONNREFUSED:
		return "pcscd is not running (start it: systemctl start "
		       "pcscd.socket, or pcscd --foreground)";
	case -ENODEV:
		return "no such PC/SC reader";
	case -ENXIO:
		return "no card on the reader";
	case -EBUSY:
		return "another program holds the reader exclusively";
	case -ECONNRESET:
		return "another program reset the card";
	case -EPROTONOSUPPORT:
		return "not an ISO 14443-4 card";
	case -EOPNOTSUPP:
		return "the reader does not support this command";
	default:
		return strerror(-err);
	}
}

/*
 * Walks the interface bytes of an ISO 7816-3 ATR. Returns the offset of
 * the historical bytes, or -EBADMSG; *k gets their number, *tck whether
 * a check byte follows, *tds the TD bytes (up to 4).
 */
static int atr_walk(const uint8_t *atr, size_t len, size_t *k, bool *tck,
		    uint8_t tds[4], size_t *n_td)
{
	size_t i = 2;
	uint8_t y;

	if (len < 2 || (atr[0] != 0x3B && atr[0] != 0x3F))
		return -EBADMSG;
	*k = atr[1] & 0x0f;
	*tck = false;
	*n_td = 0;
	y = atr[1] >> 4;
	for (;;) {
		i += !!(y & 1) + !!(y & 2) + !!(y & 4);
		if (!(y & 8))
			break;
		if (i >= len)
			return -EBADMSG;
		if (*n_td < 4)
			tds[(*n_td)++] = atr[i];
		*tck |= (atr[i] & 0x0f) != 0;	/* a protocol other than T=0 */
		y = atr[i++] >> 4;
	}
	if (i + *k + *tck != len)
		return -EBADMSG;
	return (int)i;
}

int sectag_pcsc_atr_kind(const uint8_t *atr, size_t len)
{
	static const uint8_t storage[] = { 0x80, 0x4F, 0x0C, 0xA0, 0x00, 0x00,
					   0x03, 0x06 };
	uint8_t tds[4], x = 0;
	size_t k, n_td, i;
	bool tck;
	int h;

	h = atr_walk(atr, len, &k, &tck, tds, &n_td);
	if (h < 0)
		return h;
	for (i = 1; tck && i < len; i++)
		x ^= atr[i];
	if (x)
		return -EBADMSG;
	/* PC/SC part 3: 3B 8n 80 01, the historical bytes, TCK. */
	if (atr[0] != 0x3B || h != 4 || n_td != 2 || tds[0] != 0x80 ||
	    tds[1] != 0x01)
		return SECTAG_PCSC_ATR_CONTACT;
	if (k >= sizeof(storage) && !memcmp(atr + h, storage, sizeof(storage)))
		return SECTAG_PCSC_ATR_STORAGE;
	return SECTAG_PCSC_ATR_ISO14443_4;
}

int sectag_pcsc_parse_uid(const uint8_t *r, size_t rlen, uint8_t uid[10],
			  size_t *len)
{
	uint16_t sw;

	if (rlen < 2)
		return -EBADMSG;
	sw = (uint16_t)(r[rlen - 2] << 8 | r[rlen - 1]);
	if (sw == 0x6A81 || sw == 0x6D00 || sw == 0x6E00)
		return -EOPNOTSUPP;
	rlen -= 2;
	if (sw != 0x9000 || (rlen != 4 && rlen != 7 && rlen != 10))
		return -EBADMSG;
	memcpy(uid, r, rlen);
	*len = rlen;
	return 0;
}

uint32_t sectag_pcsc_reader_id(const char *name)
{
	uint32_t h = 2166136261u;	/* FNV-1a */

	for (; *name; name++)
		h = (h ^ (uint8_t)*name) * 16777619u;
	return SECTAG_PCSC_ID_FLAG | (h & ~SECTAG_PCSC_ID_FLAG);
}

/* ---- contexts and readers ------------------------------------------------ */

int sectag_pcsc_open(struct sectag_pcsc **p)
{
	struct sectag_pcsc *s = calloc(1, sizeof(*s));
	long rv;

	if (!s)
		return -ENOMEM;
	rv = SCardEstablishContext(SCARD_SCOPE_SYSTEM, NULL, NULL, &s->ctx);
	if (rv != SCARD_S_SUCCESS) {
		free(s);
		return sectag_pcsc_errno(rv);
	}
	*p = s;
	return 0;
}

void sectag_pcsc_close(struct sectag_pcsc *p)
{
	if (!p)
		return;
	SCardReleaseContext(p->ctx);
	free(p);
}

/* The reader names (a multi-string, malloc'd); none: *names NULL. */
static int list_names(SCARDCONTEXT ctx, char **names)
{
	DWORD len = 0;
	long rv;

	*names = NULL;
	rv = SCardListReaders(ctx, NULL, NULL, &len);
	if (rv == SCARD_E_NO_READERS_AVAILABLE)
		return 0;
	if (rv != SCARD_S_SUCCESS)
		return sectag_pcsc_errno(rv);
	*names = calloc(1, len + 1);
	if (!*names)
		return -ENOMEM;
	rv = SCardListReaders(ctx, NULL, *names, &len);
	if (rv == SCARD_S_SUCCESS)
		return 0;
	free(*names);
	*names = NULL;
	return rv == SCARD_E_NO_READERS_AVAILABLE ? 0 : sectag_pcsc_errno(rv);
}

static size_t count_names(const char *names)
{
	size_t n = 0;

	for (; names && *names; names += strlen(names) + 1)
		n++;
	return n;
}

static void fill_reader(struct sectag_pcsc_reader *r,
			const SCARD_READERSTATE *s)
{
	DWORD st = s->dwEventState;

	memset(r, 0, sizeof(*r));
	strncpy(r->name, s->szReader, sizeof(r->name) - 1);
	r->card = (st & SCARD_STATE_PRESENT) && !(st & SCARD_STATE_MUTE);
	r->mute = st & SCARD_STATE_MUTE;
	r->exclusive = st & SCARD_STATE_EXCLUSIVE;
	/* pcsc-lite counts card events in the high word. */
	r->events = (unsigned int)(st >> 16);
	r->atr_len = s->cbAtr <= sizeof(r->atr) ? s->cbAtr : 0;
	memcpy(r->atr, s->rgbAtr, r->atr_len);
}

/* Reader states for @names (and the PnP reader last, if @pnp). */
static SCARD_READERSTATE *states_for(const char *names, size_t n, bool pnp)
{
	SCARD_READERSTATE *s = calloc(n + 1, sizeof(*s));
	size_t i = 0;

	if (!s)
		return NULL;
	for (; names && *names; names += strlen(names) + 1) {
		s[i].szReader = names;
		s[i++].dwCurrentState = SCARD_STATE_UNAWARE;
	}
	if (pnp) {
		s[i].szReader = PNP_READER;
		s[i].dwCurrentState = SCARD_STATE_UNAWARE;
	}
	return s;
}

int sectag_pcsc_list(struct sectag_pcsc *p, struct sectag_pcsc_reader **v,
		     size_t *n)
{
	SCARD_READERSTATE *s = NULL;
	char *names;
	size_t i, k;
	long rv;
	int rc;

	*v = NULL;
	*n = 0;
	rc = list_names(p->ctx, &names);
	if (rc)
		return rc;
	k = count_names(names);
	s = states_for(names, k, false);
	*v = calloc(k ? k : 1, sizeof(**v));
	rc = !s || !*v ? -ENOMEM : 0;
	if (!rc && k) {
		rv = SCardGetStatusChange(p->ctx, 0, s, k);
		rc = sectag_pcsc_errno(rv);
	}
	for (i = 0; !rc && i < k; i++)
		fill_reader(&(*v)[i], &s[i]);
	if (!rc)
		*n = k;
	free(s);
	free(names);
	if (rc) {
		free(*v);
		*v = NULL;
	}
	return rc;
}

int sectag_pcsc_find(struct sectag_pcsc *p, const char *want,
		     char name[SECTAG_PCSC_NAME_MAX])
{
	size_t len = strlen(want), hits = 0;
	const char *r;
	char *names;
	int rc;

	rc = list_names(p->ctx, &names);
	if (rc)
		return rc;
	for (r = names; r && *r; r += strlen(r) + 1) {
		if (!strcmp(r, want)) {
			hits = 1;
			snprintf(name, SECTAG_PCSC_NAME_MAX, "%s", r);
			break;
		}
		if (len && !strncmp(r, want, len) && !hits++)
			snprintf(name, SECTAG_PCSC_NAME_MAX, "%s", r);
	}
	free(names);
	return hits == 1 ? 0 : hits ? -EEXIST : -ENODEV;
}

int sectag_pcsc_wait_card(struct sectag_pcsc *p, const char *name,
			  int timeout_ms)
{
	SCARD_READERSTATE s = { .szReader = name,
				.dwCurrentState = SCARD_STATE_UNAWARE };
	DWORD st;
	long rv;

	for (;;) {
		rv = SCardGetStatusChange(p->ctx, timeout_ms < 0 ? INFINITE :
					  (DWORD)timeout_ms, &s, 1);
		if (rv != SCARD_S_SUCCESS)
			return sectag_pcsc_errno(rv);
		st = s.dwEventState;
		if (st & (SCARD_STATE_UNKNOWN | SCARD_STATE_UNAVAILABLE |
			  SCARD_STATE_IGNORE))
			return -ENODEV;
		if ((st & SCARD_STATE_PRESENT) && !(st & SCARD_STATE_MUTE))
			return 0;
		/*
		 * Not yet: wait for the next change. The timeout restarts,
		 * which only matters for a mute card blinking in and out.
		 */
		s.dwCurrentState = st & ~SCARD_STATE_CHANGED;
	}
}

/* ---- cards --------------------------------------------------------------- */

static int check_atr(struct sectag_pcsc_card *c)
{
	BYTE atr[MAX_ATR_SIZE];
	DWORD alen = sizeof(atr), st, proto;
	long rv;
	int kind;

	rv = SCardStatus(c->h, NULL, NULL, &st, &proto, atr, &alen);
	if (rv != SCARD_S_SUCCESS)
		return sectag_pcsc_errno(rv);
	kind = sectag_pcsc_atr_kind(atr, alen);
	/* A contact card could be anything; only a memory card cannot. */
	return kind == SECTAG_PCSC_ATR_STORAGE ? -EPROTONOSUPPORT : 0;
}

int sectag_pcsc_connect(struct sectag_pcsc *p, const char *name,
			struct sectag_pcsc_card **cp)
{
	struct sectag_pcsc_card *c = calloc(1, sizeof(*c));
	long rv;
	int rc;

	if (!c)
		return -ENOMEM;
	rv = SCardConnect(p->ctx, name, SCARD_SHARE_SHARED,
			  SCARD_PROTOCOL_T0 | SCARD_PROTOCOL_T1, &c->h,
			  &c->proto);
	if (rv != SCARD_S_SUCCESS) {
		free(c);
		return sectag_pcsc_errno(rv);
	}
	rv = SCardBeginTransaction(c->h);
	c->transaction = rv == SCARD_S_SUCCESS;
	rc = sectag_pcsc_errno(rv);
	if (!rc)
		rc = check_atr(c);
	if (rc) {
		sectag_pcsc_disconnect(c);
		return rc;
	}
	*cp = c;
	return 0;
}

void sectag_pcsc_disconnect(struct sectag_pcsc_card *c)
{
	if (!c)
		return;
	if (c->transaction)
		SCardEndTransaction(c->h, SCARD_LEAVE_CARD);
	SCardDisconnect(c->h, SCARD_LEAVE_CARD);
	free(c);
}

int sectag_pcsc_xfer(void *card, const uint8_t *capdu, size_t clen,
		     uint8_t *rapdu, size_t rsize, size_t *rlen)
{
	struct sectag_pcsc_card *c = card;
	const SCARD_IO_REQUEST *pci = c->proto == SCARD_PROTOCOL_T0 ?
				      SCARD_PCI_T0 : SCARD_PCI_T1;
	BYTE buf[RAPDU_MAX];
	DWORD len = sizeof(buf);
	long rv;

	if (clen > 261)		/* a short APDU: header, Lc, 255, Le */
		return -EMSGSIZE;
	rv = SCardTransmit(c->h, pci, capdu, clen, NULL, buf, &len);
	if (rv != SCARD_S_SUCCESS)
		return sectag_pcsc_errno(rv);
	if (len < 2)
		return -EBADMSG;
	if (len > rsize)
		return -EMSGSIZE;
	memcpy(rapdu, buf, len);
	*rlen = len;
	return 0;
}

int sectag_pcsc_uid(struct sectag_pcsc_card *c, uint8_t uid[10], size_t *len)
{
	static const uint8_t get_uid[] = { 0xFF, 0xCA, 0x00, 0x00, 0x00 };
	uint8_t r[RAPDU_MAX];
	size_t rlen;
	int rc;

	rc = sectag_pcsc_xfer(c, get_uid, sizeof(get_uid), r, sizeof(r),
			      &rlen);
	return rc ? rc : sectag_pcsc_parse_uid(r, rlen, uid, len);
}

/* ---- the watch thread ---------------------------------------------------- */

/* pcsc-lite's client socket, and the variable that moves it. */
#define PCSCD_SOCKET_DEFAULT	"/run/pcscd/pcscd.comm"
/* After the socket appears, pcscd may not listen yet: a few tries. */
#define PCSCD_CONNECT_TRIES	40
#define PCSCD_CONNECT_PAUSE_MS	50

struct sectag_pcsc_watch {
	SCARDCONTEXT ctx;
	bool have_ctx;
	pthread_t tid;
	int efd;			/* to the event loop */
	int cancel_fd;			/* to the thread, while pcscd is away */
	pthread_mutex_t lock;
	/* under lock: */
	struct sectag_pcsc_reader *v;
	size_t n;
	int err;			/* why the thread ended */
	bool stop, ended;
};

static void watch_signal(struct sectag_pcsc_watch *w)
{
	uint64_t one = 1;

	if (write(w->efd, &one, sizeof(one)) < 0) {
		/* EAGAIN: the counter is full, so it is readable anyway */
	}
}

static bool watch_stopping(struct sectag_pcsc_watch *w)
{
	bool stop;

	pthread_mutex_lock(&w->lock);
	stop = w->stop;
	pthread_mutex_unlock(&w->lock);
	return stop;
}

/* Publish @k reader states as the current snapshot. */
static int watch_publish(struct sectag_pcsc_watch *w,
			 const SCARD_READERSTATE *s, size_t k)
{
	struct sectag_pcsc_reader *v = calloc(k ? k : 1, sizeof(*v));
	size_t i;

	if (!v)
		return -ENOMEM;
	for (i = 0; i < k; i++)
		fill_reader(&v[i], &s[i]);
	pthread_mutex_lock(&w->lock);
	free(w->v);
	w->v = v;
	w->n = k;
	pthread_mutex_unlock(&w->lock);
	watch_signal(w);
	return 0;
}

/* pcscd went away (or was never there): not an error of the watch. */
static bool pcscd_gone(long rv)
{
	return rv == SCARD_E_NO_SERVICE || rv == SCARD_E_SERVICE_STOPPED ||
	       rv == SCARD_F_COMM_ERROR || rv == SCARD_E_INVALID_HANDLE;
}

/*
 * One reader list: wait for changes until the list itself changes (the
 * PnP reader, or a reader gone). Returns 0 to list again, -ENOTCONN
 * when pcscd went away, or another -errno.
 */
static int watch_list(struct sectag_pcsc_watch *w)
{
	SCARD_READERSTATE *s;
	char *names;
	size_t k, i;
	bool again = false;
	long rv;
	int rc;

	rc = list_names(w->ctx, &names);
	if (rc)
		return rc == -ECONNREFUSED || rc == -EIO ? -ENOTCONN : rc;
	k = count_names(names);
	s = states_for(names, k, true);
	if (!s) {
		free(names);
		return -ENOMEM;
	}
	while (!rc && !again) {
		if (watch_stopping(w)) {
			rc = -ECANCELED;
			break;
		}
		rv = SCardGetStatusChange(w->ctx, INFINITE, s, k + 1);
		if (rv == SCARD_E_UNKNOWN_READER)
			break;		/* gone between the list and the call */
		rc = pcscd_gone(rv) ? -ENOTCONN : sectag_pcsc_errno(rv);
		if (rc)
			break;
		for (i = 0; i <= k; i++) {
			again |= (s[i].dwEventState & (SCARD_STATE_UNKNOWN |
				  SCARD_STATE_IGNORE)) && i < k;
			if (i == k && (s[i].dwEventState & SCARD_STATE_CHANGED) &&
			    s[i].dwCurrentState != SCARD_STATE_UNAWARE)
				again = true;
			s[i].dwCurrentState = s[i].dwEventState &
					      ~SCARD_STATE_CHANGED;
		}
		if (!again)
			rc = watch_publish(w, s, k);
	}
	free(s);
	free(names);
	return rc;
}

static const char *pcscd_socket(void)
{
	const char *p = getenv("PCSCLITE_CSOCK_NAME");

	return p && *p == '/' ? p : PCSCD_SOCKET_DEFAULT;
}

/*
 * Block until something is created in the directory of pcscd's socket
 * (or, while that directory is missing, in its parent), or until
 * sectag_pcsc_watch_stop(). inotify: no polling while pcscd is away.
 * Returns 0 to try pcscd again, -ECANCELED, or -errno.
 */
static int wait_for_pcscd(struct sectag_pcsc_watch *w)
{
	char dir[256], *slash;
	struct pollfd p[2];
	char buf[4096];
	int fd, rc = 0;

	snprintf(dir, sizeof(dir), "%s", pcscd_socket());
	slash = strrchr(dir, '/');
	if (!slash || slash == dir)
		return -EINVAL;
	*slash = 0;
	fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (inotify_add_watch(fd, dir, IN_CREATE | IN_MOVED_TO) < 0) {
		/* No directory yet: wait for it in its parent. */
		slash = strrchr(dir, '/');
		if (slash && slash != dir)
			*slash = 0;
		else
			snprintf(dir, sizeof(dir), "/");
		if (inotify_add_watch(fd, dir, IN_CREATE | IN_MOVED_TO) < 0)
			rc = -errno;
	}
	/* It may have come while we set up the watch. */
	if (!rc && access(pcscd_socket(), F_OK)) {
		p[0].fd = fd;
		p[0].events = POLLIN;
		p[1].fd = w->cancel_fd;
		p[1].events = POLLIN;
		while (poll(p, 2, -1) < 0 && errno == EINTR)
			;
		if (p[1].revents)
			rc = -ECANCELED;
		while (read(fd, buf, sizeof(buf)) > 0)
			;
	}
	close(fd);
	return rc;
}

/* A context with pcscd, when it is there: 0, -ENOTCONN, -ECANCELED. */
static int watch_connect(struct sectag_pcsc_watch *w)
{
	struct timespec pause = { 0, PCSCD_CONNECT_PAUSE_MS * 1000000L };
	long rv;
	int i;

	for (i = 0; i < PCSCD_CONNECT_TRIES; i++) {
		if (watch_stopping(w))
			return -ECANCELED;
		pthread_mutex_lock(&w->lock);
		rv = SCardEstablishContext(SCARD_SCOPE_SYSTEM, NULL, NULL,
					   &w->ctx);
		w->have_ctx = rv == SCARD_S_SUCCESS;
		pthread_mutex_unlock(&w->lock);
		if (rv == SCARD_S_SUCCESS)
			return 0;
		if (!pcscd_gone(rv))
			return sectag_pcsc_errno(rv);
		/* The socket there, pcscd not listening yet: try again. */
		if (access(pcscd_socket(), F_OK))
			break;
		nanosleep(&pause, NULL);
	}
	return -ENOTCONN;
}

static void watch_disconnect(struct sectag_pcsc_watch *w)
{
	pthread_mutex_lock(&w->lock);
	if (w->have_ctx)
		SCardReleaseContext(w->ctx);
	w->have_ctx = false;
	pthread_mutex_unlock(&w->lock);
}

/*
 * While pcscd runs, watch its readers; when it goes (or is not there),
 * an empty list, and wait for it to come back.
 */
static void *watch_thread(void *arg)
{
	struct sectag_pcsc_watch *w = arg;
	SCARD_READERSTATE none = { 0 };
	int rc;

	for (;;) {
		rc = watch_connect(w);
		while (!rc)
			rc = watch_list(w);
		watch_disconnect(w);
		if (rc != -ENOTCONN)
			break;
		rc = watch_publish(w, &none, 0);
		if (!rc)
			rc = wait_for_pcscd(w);
		if (rc)
			break;
	}
	pthread_mutex_lock(&w->lock);
	w->err = rc;
	w->ended = true;
	pthread_mutex_unlock(&w->lock);
	watch_signal(w);
	return NULL;
}

int sectag_pcsc_watch_start(struct sectag_pcsc_watch **wp)
{
	struct sectag_pcsc_watch *w = calloc(1, sizeof(*w));
	int rc;

	if (!w)
		return -ENOMEM;
	pthread_mutex_init(&w->lock, NULL);
	w->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	w->cancel_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	rc = w->efd < 0 || w->cancel_fd < 0 ? -errno : 0;
	if (!rc)
		rc = -pthread_create(&w->tid, NULL, watch_thread, w);
	if (rc) {
		if (w->efd >= 0)
			close(w->efd);
		if (w->cancel_fd >= 0)
			close(w->cancel_fd);
		pthread_mutex_destroy(&w->lock);
		free(w);
		return rc;
	}
	*wp = w;
	return 0;
}

int sectag_pcsc_watch_fd(const struct sectag_pcsc_watch *w)
{
	return w->efd;
}

int sectag_pcsc_watch_get(struct sectag_pcsc_watch *w,
			  struct sectag_pcsc_reader **v, size_t *n)
{
	uint64_t cnt;
	int rc = 0;

	if (read(w->efd, &cnt, sizeof(cnt)) < 0 && errno != EAGAIN)
		return -errno;
	*v = NULL;
	*n = 0;
	pthread_mutex_lock(&w->lock);
	if (w->ended) {
		rc = w->err ? w->err : -ECANCELED;
	} else {
		*v = calloc(w->n ? w->n : 1, sizeof(**v));
		if (*v) {
			memcpy(*v, w->v, w->n * sizeof(**v));
			*n = w->n;
		} else {
			rc = -ENOMEM;
		}
	}
	pthread_mutex_unlock(&w->lock);
	return rc;
}

void sectag_pcsc_watch_stop(struct sectag_pcsc_watch *w)
{
	struct timespec pause = { 0, 10 * 1000 * 1000 };
	uint64_t one = 1;
	bool ended = false;

	if (!w)
		return;
	pthread_mutex_lock(&w->lock);
	w->stop = true;
	pthread_mutex_unlock(&w->lock);
	if (write(w->cancel_fd, &one, sizeof(one)) < 0) {
		/* full: readable anyway */
	}
	/*
	 * SCardCancel only ends a wait in progress: the thread may be
	 * between two waits, so cancel until it says it ended.
	 */
	while (!ended) {
		pthread_mutex_lock(&w->lock);
		if (w->have_ctx)
			SCardCancel(w->ctx);
		pthread_mutex_unlock(&w->lock);
		nanosleep(&pause, NULL);
		pthread_mutex_lock(&w->lock);
		ended = w->ended;
		pthread_mutex_unlock(&w->lock);
	}
	pthread_join(w->tid, NULL);
	close(w->efd);
	close(w->cancel_fd);
	pthread_mutex_destroy(&w->lock);
	free(w->v);
	free(w);
}
