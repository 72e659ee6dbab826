/* SPDX-License-Identifier: GPL-2.0 */
/* sectagd internals: configuration, the event loop's state, its parts. */
#ifndef SECTAGD_AGENT_H
#define SECTAGD_AGENT_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "nfc.h"

#define SECTAGD_CONF		"/etc/sectag/sectagd.conf"
#define SECTAGD_SOCKET		"/run/sectag/sectagd.sock"
#define SECTAGD_MAX_CLIENTS	32
#define SECTAGD_MAX_READERS	16
#define SECTAGD_RATE_SLOTS	64

struct config {
	char store[256];
	char socket[108];
	unsigned int key_timeout_s;	/* keyring timeout of released keys */
	unsigned int exchange_timeout_ms;
	unsigned int max_failures;	/* per UID per minute, then ignored */
	bool revoke_on_removal;
	bool uevents;			/* synthetic change uevents on taps */
};

/* A client of the control socket waiting for a tap. */
struct client {
	int fd;
	uid_t uid;
	bool waiting;
	int kind;			/* enum sectag_binding_kind */
	char target[128];
	int64_t deadline_ms;
};

/* A reader and the tag currently connected on it. */
struct reader {
	uint32_t idx;
	bool used;
	int tag_fd;			/* connected target, -1 if none */
	uint32_t target_idx;
	uint32_t *released;		/* binding ids released by the tag */
	size_t n_released;		/* (malloc'd, freed by tap_lost) */
};

/* Failed taps per UID, to rate-limit log lines and work. */
struct rate {
	uint8_t uid[7];
	int64_t window_ms;
	unsigned int failures;
};

struct agent {
	struct config cfg;
	struct sectag_nfc *nfc;
	int epfd, sigfd, listen_fd, timer_fd;
	bool stop;
	struct client clients[SECTAGD_MAX_CLIENTS];
	struct reader readers[SECTAGD_MAX_READERS];
	struct rate rates[SECTAGD_RATE_SLOTS];
};

/* config.c: 0, or -1 with the reason logged as "file:line: ..." */
void config_defaults(struct config *c);
int config_load(struct config *c, const char *path, bool must_exist);

/* tap.c */
void tap_handle(struct agent *a, struct reader *r);
void tap_lost(struct agent *a, struct reader *r);

/* ctl.c */
int ctl_listen(struct agent *a);
void ctl_accept(struct agent *a);
void ctl_input(struct agent *a, struct client *c);
/* A tap ended: which bindings it released (none: refused/unknown). */
struct released {
	int kind;
	char target[128];
	uint32_t id;
};
/*
 * A tap on reader @r ended: the bindings it released (@n of them, none:
 * refused, unknown or foreign). Answers at most one waiting request.
 */
void ctl_tap_result(struct agent *a, const struct reader *r,
		    const struct released *rel, size_t n);
void ctl_expire(struct agent *a);
void ctl_close(struct agent *a, struct client *c);

/* sectagd.c */
int64_t agent_now_ms(void);
int agent_watch(struct agent *a, int fd, void *ptr);
void agent_arm_timer(struct agent *a);

#endif
