/* SPDX-License-Identifier: GPL-2.0 */
/* sectagd internals: configuration, the event loop's state, its parts. */
#ifndef SECTAGD_AGENT_H
#define SECTAGD_AGENT_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/types.h>

#include "nfc.h"
#include "ntag424.h"
#include "pcsc.h"
#include "store.h"
#include "../lib/agent.h"	/* the protocol; not this file */

#define SECTAGD_CONF		"/etc/sectag/sectagd.conf"
#define SECTAGD_SOCKET		SECTAG_AGENT_SOCKET
#define SECTAGD_MAX_READERS	256
#define SECTAGD_RATE_SLOTS	64

/*
 * The control socket's connection table (see ctl.c): SECTAGD_MAX_CLIENTS
 * slots, of which the last SECTAGD_ROOT_RESERVE only root may take; at
 * most max_conn_per_uid connections per other UID; a connection with no
 * request pending is closed after SECTAGD_IDLE_MS.
 */
#define SECTAGD_MAX_CLIENTS	64
#define SECTAGD_ROOT_RESERVE	16
#define SECTAGD_IDLE_MS		3000
#define SECTAGD_MAX_REMOTE	8
#define SECTAGD_SEAT_LEN	32

struct config {
	char store[256];
	char socket[108];
	unsigned int key_timeout_s;	/* keyring timeout of released keys */
	unsigned int exchange_timeout_ms;
	unsigned int presence_interval_ms; /* presence checks of a held tag */
	unsigned int max_failures;	/* per UID per minute, then ignored */
	bool revoke_on_removal;
	bool uevents;			/* synthetic change uevents on taps */
	unsigned int max_conn_per_uid;	/* control socket, UIDs but root */
	char seat[SECTAGD_SEAT_LEN];	/* seat of readers not listed */
	struct {
		uint32_t idx;		/* nfcN */
		char seat[SECTAGD_SEAT_LEN];
	} reader_seat[SECTAGD_MAX_READERS];
	int n_reader_seat;
	/* PAM services whose remote (PAM_RHOST) requests are allowed */
	char remote[SECTAGD_MAX_REMOTE][64];
	int n_remote;
};

/* A connection to the control socket, and its AUTH request if any. */
struct client {
	int fd;				/* -1: free slot */
	uid_t uid;			/* SO_PEERCRED */
	pid_t pid;
	uint64_t conn_seq;		/* accept order */
	int64_t idle_deadline_ms;	/* closed then, unless waiting */
	bool waiting;			/* an AUTH request is pending */
	bool borrowing;			/* holds reader nfc<borrow_idx> */
	uint32_t borrow_idx;		/* (until deadline_ms, or closed) */
	uint64_t req_seq;		/* request order: oldest first */
	int kind;			/* enum sectag_binding_kind */
	char target[128];
	int64_t deadline_ms;
	bool remote;			/* allowed remote request: any seat */
	char seat[SECTAGD_SEAT_LEN];
	struct sectag_agent_origin o;
};

/* A reader and the tag currently connected on it. */
struct reader {
	uint32_t idx;
	bool used;
	char label[48];			/* for the log: nfcN, pcsc:NAME */
	int tag_fd;			/* connected target, -1 if none */
	uint32_t target_idx;
	/*
	 * The reader reported a lost target once, so it watches presence
	 * (in 6.1 only the NFC core's check, for drivers that have
	 * check_presence, and nfc_sectag's readers send TARGET_LOST): the
	 * agent leaves held tags to it. Otherwise (pn533, port100, NCI)
	 * the agent checks them every presence_interval_ms itself.
	 */
	bool core_presence;
	bool polling;			/* our poll runs (reader.c) */
	uint32_t *released;		/* binding ids released by the tag */
	size_t n_released;		/* (malloc'd, freed by tap_lost) */
	int64_t repoll_ms;		/* a refused poll is retried then */
	unsigned int repoll_delay_ms;	/* (backing off) */
};

/* Failed taps per UID, to rate-limit log lines and work. */
struct rate {
	uint8_t uid[7];
	int64_t window_ms;
	unsigned int failures;
};

/* The store, parsed once while its file stays the same (cache.c). */
struct agent_store {
	struct sectag_store st;
	int fd;				/* the file parsed, kept open; or -1 */
	struct stat loaded;		/* its fstat() then */
	unsigned long parsed;		/* times parsed: more heap to trim */
};

struct agent {
	struct config cfg;
	struct sectag_nfc *nfc;
	int epfd, sigfd, listen_fd, timer_fd;
	bool listen_passed;		/* listen_fd from systemd (.socket) */
	int presence_fd;		/* timerfd, armed while it has work */
	bool presence_armed;
	bool stop;
	struct client clients[SECTAGD_MAX_CLIENTS];
	uint64_t conn_seq, req_seq;
	unsigned long dropped;		/* connections refused or evicted */
	struct reader readers[SECTAGD_MAX_READERS];
	struct rate rates[SECTAGD_RATE_SLOTS];
	struct agent_pcsc *pcsc;	/* pcsc.c; NULL without pcscd */
	struct agent_store store;
};

/* config.c: 0, or -1 with the reason logged as "file:line: ..." */
void config_defaults(struct config *c);
int config_load(struct config *c, const char *path, bool must_exist);
const char *config_reader_seat(const struct config *c, uint32_t idx);
bool config_seat_known(const struct config *c, const char *seat);
bool config_remote_ok(const struct config *c, const char *service);

/*
 * cache.c: the store, *@st valid until the next call or
 * agent_store_drop(); 0 or why it cannot be read (sectag_store_load()).
 */
int agent_store(struct agent *a, const struct sectag_store **st);
void agent_store_drop(struct agent *a);

/* reader.c */
struct reader *reader_find(struct agent *a, uint32_t idx, bool add);
/*
 * Poll @r unless it polls, holds a tag or is lent; a refusal (-EBUSY)
 * is retried later by readers_repoll_due(), from the deadline timer.
 */
void reader_poll(struct agent *a, struct reader *r);
void reader_poll_ended(struct reader *r);
/*
 * Call reader_poll() on @r again later: 100 ms after the first time,
 * doubling up to 5 s while it keeps being asked. Returns the delay.
 */
unsigned int reader_retry_later(struct agent *a, struct reader *r);
void readers_repoll_due(struct agent *a);
/* The earliest retry, 0 if none. */
int64_t readers_next_repoll(const struct agent *a);

/* tap.c */
void tap_handle(struct agent *a, struct reader *r);
/*
 * The tap itself, over any transport (@timeout_ms: its per-frame
 * timeout, or NULL): authenticate, release, answer requests.
 */
void tap_converse(struct agent *a, struct reader *r,
		  const struct sectag_nfc_target *tg, sectag_ntag_xfer_fn xfer,
		  void *ctx, int *timeout_ms);
void tap_lost(struct agent *a, struct reader *r);
/* Is the tag held on @r still there? 0, or the failed exchange's -errno. */
int tap_probe(struct agent *a, struct reader *r);

/*
 * open.c: activate @b's volume as /dev/mapper/<b->auto_open> through the
 * sectag-open helper; 0 or a negative errno (-EEXIST: active already).
 */
struct sectag_binding;
int agent_luks_open(const struct sectag_binding *b);
/*
 * The host secret of tpm2 binding @b, unsealed by the sectag-open helper
 * from the volume's token (-EBADMSG: a token not of this tag).
 */
int agent_tpm2_host_secret(const struct sectag_binding *b,
			   uint8_t host_secret[32]);

/* ctl.c */
int ctl_listen(struct agent *a);
void ctl_accept(struct agent *a);
void ctl_input(struct agent *a, struct client *c);
/* A tap ended: which bindings it released (none: refused/unknown). */
struct released {
	int kind;
	char target[128];
	uint32_t id;
	bool sealed;			/* not released: the TPM refused it */
};
/*
 * A tap on reader @r ended: the bindings it released (@n of them, none:
 * refused, unknown or foreign), and those of its tpm2 bindings the TPM
 * refused to unseal (sealed). Answers at most one waiting request: OK
 * for a released binding, else FAIL sealed for a refused one.
 */
void ctl_tap_result(struct agent *a, const struct reader *r,
		    const struct released *rel, size_t n);
void ctl_expire(struct agent *a);
void ctl_close(struct agent *a, struct client *c);
/* Is reader nfc@idx lent to a client (BORROW)? Then leave it alone. */
bool ctl_borrowed(const struct agent *a, uint32_t idx);
/* The next request or idle deadline, 0 if none. */
int64_t ctl_next_deadline(const struct agent *a);

/*
 * pcsc.c: PC/SC readers, in a->readers with idx sectag_pcsc_reader_id()
 * (SECTAG_PCSC_ID_FLAG set), watched while pcscd runs (it may come later).
 */
void pcsc_setup(struct agent *a);
bool pcsc_dispatch(struct agent *a, void *ptr);
void pcsc_teardown(struct agent *a);
/* reader_poll() of a PC/SC reader: a card on it unheld is a tap. */
void pcsc_poll(struct agent *a, struct reader *r);
static inline bool pcsc_reader(const struct reader *r)
{
	return r->idx & SECTAG_PCSC_ID_FLAG;
}

/* sectagd.c */
/*
 * log.c: syslog, or stderr with "<N>" priority prefixes when stderr is
 * systemd's journal stream; lines above LOG_INFO only with @debug.
 */
void agent_log_open(bool foreground, bool debug);
bool agent_log_journal(void);
void agent_log(int prio, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/*
 * sd.c: systemd's notification and socket-activation protocols.
 * agent_sd_notify(): 1 sent, 0 not under systemd, or -errno.
 * agent_sd_listen_fds(): how many sockets systemd passed us (from
 * AGENT_SD_FDS_START, close-on-exec from now on), or -errno.
 */
#define AGENT_SD_FDS_START	3
int agent_sd_notify(const char *msg);
int agent_sd_listen_fds(void);
bool agent_sd_is_listening(int fd, int domain, int type);

/* sd_notify(): @state ("READY=1\n", or "") and STATUS= with the readers. */
void agent_notify_status(struct agent *a, const char *state);
int64_t agent_now_ms(void);
int agent_watch(struct agent *a, int fd, void *ptr);
void agent_arm_timer(struct agent *a);

#endif
