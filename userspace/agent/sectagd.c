// SPDX-License-Identifier: GPL-2.0
/*
 * sectagd: tap an enrolled tag, and what it is enrolled for is released
 * into the kernel keyring (and a volume opened, if asked).
 *
 * One epoll loop and no periodic timer while idle: NFC events (devices
 * coming and going, targets found and lost), the control socket,
 * signals, a timerfd armed only while a control connection is open (a
 * request's deadline, an idle connection's), and one armed only while a
 * tag is held on a reader whose driver does not check presence (the
 * agent checks it: a failed check is a removal, and the poll restarts).
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <sys/un.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include <linux/nfc.h>

#include "hex.h"
#include "version.h"
#include "agent.h"

/* epoll tags for the fixed descriptors; clients use their struct. */
static char tag_nfc, tag_sig, tag_listen, tag_timer, tag_presence;

int64_t agent_now_ms(void)
{
	return sectag_now_ms();
}

int agent_watch(struct agent *a, int fd, void *ptr)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = ptr };

	return epoll_ctl(a->epfd, EPOLL_CTL_ADD, fd, &ev);
}

/*
 * The earliest request, idle or poll retry deadline, or disarmed: idle
 * means no wakeups.
 */
void agent_arm_timer(struct agent *a)
{
	int64_t first = ctl_next_deadline(a), repoll = readers_next_repoll(a);
	struct itimerspec its = { 0 };
	int64_t left;

	if (repoll && (!first || repoll < first))
		first = repoll;

	if (first) {
		left = first - agent_now_ms();
		if (left < 1)
			left = 1;
		its.it_value.tv_sec = left / 1000;
		its.it_value.tv_nsec = (left % 1000) * 1000000;
	}
	timerfd_settime(a->timer_fd, 0, &its, NULL);
}

/* A held tag that nobody but the agent watches. */
static bool needs_probe(const struct reader *r)
{
	return r->used && r->tag_fd >= 0 && !r->core_presence;
}

/*
 * The presence timer ticks every presence_interval_ms while some reader
 * holds a tag the agent checks; otherwise it is disarmed, so an idle
 * agent never wakes up.
 */
static void presence_update(struct agent *a)
{
	unsigned int ms = a->cfg.presence_interval_ms;
	struct itimerspec its = { 0 };
	bool want = false;
	int i;

	for (i = 0; i < SECTAGD_MAX_READERS; i++)
		want |= needs_probe(&a->readers[i]);
	if (want == a->presence_armed)
		return;
	if (want) {
		its.it_value.tv_sec = ms / 1000;
		its.it_value.tv_nsec = (long)(ms % 1000) * 1000000;
		its.it_interval = its.it_value;
	}
	if (timerfd_settime(a->presence_fd, 0, &its, NULL))
		agent_log(LOG_ERR, "presence timer: %m");
	else
		a->presence_armed = want;
}

/*
 * The tag left: as for TARGET_LOST, then poll again. tap_lost()
 * deactivates the target before it closes the socket: a close alone may
 * leave that to the driver's worker still completing the failed exchange
 * (sectag_nfc_disconnect()), and the poll would be refused meanwhile.
 */
static void presence_lost(struct agent *a, struct reader *r, int err)
{
	agent_log(LOG_DEBUG, "nfc%u: presence check: %s", r->idx,
		  strerror(-err));
	tap_lost(a, r);
	reader_poll(a, r);
}

static void on_presence(struct agent *a)
{
	struct reader *r;
	uint64_t n;
	int i, rc;

	if (read(a->presence_fd, &n, sizeof(n)) < 0 && errno != EAGAIN)
		return;
	for (i = 0; i < SECTAGD_MAX_READERS; i++) {
		r = &a->readers[i];
		if (!needs_probe(r))
			continue;
		rc = tap_probe(a, r);
		if (rc)
			presence_lost(a, r, rc);
	}
}

/* Is the target we hold on @r still in the core's list? */
static bool target_present(struct agent *a, struct reader *r)
{
	struct sectag_nfc_target *v;
	bool found = false;
	size_t i, n;

	if (sectag_nfc_targets(a->nfc, r->idx, &v, &n))
		return false;
	for (i = 0; i < n; i++)
		found |= v[i].idx == r->target_idx;
	free(v);
	return found;
}

/*
 * Every reader present polls or holds a tag that is still there: at
 * start, and after the event socket overran (a lost TARGET_LOST would
 * otherwise leave a reader silent for good, a lost TARGETS_FOUND one we
 * think polls). An idle reader's poll is restarted: stopping it fails
 * harmlessly when it had ended.
 */
static void readers_sync(struct agent *a)
{
	struct sectag_nfc_dev *devs;
	struct reader *r;
	size_t i, n;

	if (sectag_nfc_list(a->nfc, &devs, &n))
		return;
	for (i = 0; i < n; i++) {
		r = reader_find(a, devs[i].idx, true);
		if (!r || ctl_borrowed(a, r->idx))
			continue;
		if (r->tag_fd >= 0 && !target_present(a, r))
			tap_lost(a, r);
		if (r->tag_fd >= 0)
			continue;
		if (r->polling)
			sectag_nfc_stop_poll(a->nfc, r->idx);
		reader_poll_ended(r);
		reader_poll(a, r);
	}
	free(devs);
}

/*
 * What systemd shows of the agent (Type=notify): ready once it listens,
 * then how many readers (NFC and PC/SC) it watches. Without systemd,
 * nothing is sent.
 */
void agent_notify_status(struct agent *a, const char *state)
{
	char msg[256];
	int i, n = 0;

	for (i = 0; i < SECTAGD_MAX_READERS; i++)
		n += a->readers[i].used;
	snprintf(msg, sizeof(msg), "%sSTATUS=Ready: %d NFC reader%s, socket %s",
		 state, n, n == 1 ? "" : "s", a->cfg.socket);
	agent_sd_notify(msg);
}

static void on_nfc_event(const struct sectag_nfc_event *ev, void *arg)
{
	struct agent *a = arg;
	struct reader *r;

	agent_log(LOG_DEBUG, "nfc%u: event %d", ev->dev_idx, ev->type);
	/* A borrowed reader's events are its borrower's (ctl.c). */
	if ((ev->type == SECTAG_NFC_EV_TARGETS_FOUND ||
	     ev->type == SECTAG_NFC_EV_TARGET_LOST) &&
	    ctl_borrowed(a, ev->dev_idx))
		return;
	switch (ev->type) {
	case SECTAG_NFC_EV_DEVICE_ADDED:
		r = reader_find(a, ev->dev_idx, true);
		if (r) {
			agent_log(LOG_INFO, "nfc%u: reader added", ev->dev_idx);
			reader_poll(a, r);
			agent_notify_status(a, "");
		}
		break;
	case SECTAG_NFC_EV_DEVICE_REMOVED:
		r = reader_find(a, ev->dev_idx, false);
		if (r) {
			tap_lost(a, r);
			reader_poll_ended(r);
			r->used = false;
			agent_log(LOG_INFO, "nfc%u: reader removed", ev->dev_idx);
			agent_notify_status(a, "");
		}
		break;
	case SECTAG_NFC_EV_TARGETS_FOUND:
		r = reader_find(a, ev->dev_idx, true);
		if (!r)
			break;
		/* The core ends a poll when it reports: it was ours. */
		reader_poll_ended(r);
		/* A new poll found something: whatever we held is gone. */
		tap_lost(a, r);
		tap_handle(a, r);
		/* Nothing held (gone, refused): nothing else will poll. */
		reader_poll(a, r);
		break;
	case SECTAG_NFC_EV_TARGET_LOST:
		r = reader_find(a, ev->dev_idx, false);
		if (!r)
			break;
		/*
		 * Only readers that watch presence send this (the core's
		 * check for drivers that have one, nfc_sectag's own): from
		 * now on their held tags are left to them.
		 */
		r->core_presence = true;
		/*
		 * The loss of a target we do not hold is old news: our own
		 * check saw it first, and we may hold the next tag by now.
		 */
		if (r->tag_fd >= 0 && ev->target_idx != r->target_idx)
			break;
		tap_lost(a, r);
		reader_poll(a, r);
		break;
	case SECTAG_NFC_EV_OVERRUN:
		agent_log(LOG_WARNING, "NFC events were lost; resynchronising");
		readers_sync(a);
		break;
	}
}

static void on_signal(struct agent *a)
{
	struct signalfd_siginfo si;

	while (read(a->sigfd, &si, sizeof(si)) == sizeof(si))
		if (si.ssi_signo == SIGTERM || si.ssi_signo == SIGINT)
			a->stop = true;
}

static void on_timer(struct agent *a)
{
	uint64_t n;

	if (read(a->timer_fd, &n, sizeof(n)) < 0 && errno != EAGAIN)
		return;
	ctl_expire(a);
	readers_repoll_due(a);
	agent_arm_timer(a);
}

static int setup(struct agent *a)
{
	sigset_t mask;
	int i, rc;

	for (i = 0; i < SECTAGD_MAX_CLIENTS; i++)
		a->clients[i].fd = -1;
	a->store.fd = -1;
	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGHUP);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	signal(SIGPIPE, SIG_IGN);

	a->epfd = epoll_create1(EPOLL_CLOEXEC);
	a->sigfd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
	a->timer_fd = timerfd_create(CLOCK_MONOTONIC,
				     TFD_NONBLOCK | TFD_CLOEXEC);
	a->presence_fd = timerfd_create(CLOCK_MONOTONIC,
					TFD_NONBLOCK | TFD_CLOEXEC);
	if (a->epfd < 0 || a->sigfd < 0 || a->timer_fd < 0 ||
	    a->presence_fd < 0) {
		agent_log(LOG_ERR, "setup: %m");
		return -1;
	}
	rc = sectag_nfc_open(&a->nfc);
	if (rc) {
		agent_log(LOG_ERR, "NFC subsystem not available: %s (modprobe nfc?)",
			  strerror(-rc));
		return -1;
	}
	if (ctl_listen(a))
		return -1;
	if (agent_watch(a, sectag_nfc_event_fd(a->nfc), &tag_nfc) ||
	    agent_watch(a, a->sigfd, &tag_sig) ||
	    agent_watch(a, a->listen_fd, &tag_listen) ||
	    agent_watch(a, a->timer_fd, &tag_timer) ||
	    agent_watch(a, a->presence_fd, &tag_presence)) {
		agent_log(LOG_ERR, "epoll: %m");
		return -1;
	}
	readers_sync(a);
	pcsc_setup(a);
	presence_update(a);
	return 0;
}

static void dispatch(struct agent *a, void *ptr)
{
	if (ptr == &tag_nfc)
		sectag_nfc_read_events(a->nfc, on_nfc_event, a);
	else if (ptr == &tag_sig)
		on_signal(a);
	else if (ptr == &tag_listen) {
		ctl_accept(a);
		agent_arm_timer(a);
	}
	else if (ptr == &tag_timer)
		on_timer(a);
	else if (ptr == &tag_presence)
		on_presence(a);
	else if (!pcsc_dispatch(a, ptr))
		ctl_input(a, ptr);
}

static int run(struct agent *a)
{
	struct epoll_event evs[16];
	int i, n;

	agent_notify_status(a, "READY=1\n");
	agent_log(LOG_INFO, "ready: store %s, socket %s", a->cfg.store,
		  a->cfg.socket);
	while (!a->stop) {
		n = epoll_wait(a->epfd, evs, 16, -1);
		if (n < 0 && errno != EINTR) {
			agent_log(LOG_ERR, "epoll_wait: %m");
			return 1;
		}
		for (i = 0; i < n && !a->stop; i++)
			dispatch(a, evs[i].data.ptr);
		/* Whatever ran may have taken or dropped a tag. */
		presence_update(a);
	}
	agent_sd_notify("STOPPING=1");
	agent_log(LOG_INFO, "stopping");
	return 0;
}

static void teardown(struct agent *a)
{
	int i;

	for (i = 0; i < SECTAGD_MAX_CLIENTS; i++)
		if (a->clients[i].fd >= 0)
			ctl_close(a, &a->clients[i]);
	for (i = 0; i < SECTAGD_MAX_READERS; i++)
		if (a->readers[i].used)
			tap_lost(a, &a->readers[i]);
	pcsc_teardown(a);
	agent_store_drop(a);
	if (a->listen_fd > 0) {
		close(a->listen_fd);
		/* A socket systemd passed is systemd's to remove. */
		if (!a->listen_passed)
			unlink(a->cfg.socket);
	}
	sectag_nfc_close(a->nfc);
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: sectagd [--foreground] [--debug] [--config FILE]\n"
		"  -f, --foreground  log to stderr too (not under systemd: the\n"
		"                    journal has each line once)\n"
		"  -d, --debug       log every NFC event\n"
		"  -c, --config FILE configuration (default %s)\n"
		"  -V, --version     print the version\n"
		"Exit codes: 0 stopped by a signal, 1 runtime failure,\n"
		"2 usage or configuration error.\n", SECTAGD_CONF);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "foreground", no_argument, NULL, 'f' },
		{ "config", required_argument, NULL, 'c' },
		{ "debug", no_argument, NULL, 'd' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ 0 }
	};
	const char *conf = SECTAGD_CONF;
	bool fg = false, conf_given = false, debug = false;
	static struct agent a;
	int o, rc;

	while ((o = getopt_long(argc, argv, "fc:dhV", opts, NULL)) != -1) {
		switch (o) {
		case 'V':
			puts("sectagd " SECTAG_VERSION);
			return 0;
		case 'd':
			debug = true;
			break;
		case 'f':
			fg = true;
			break;
		case 'c':
			conf = optarg;
			conf_given = true;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:	/* getopt said what is wrong */
			usage(stderr);
			return 2;
		}
	}
	if (optind != argc) {
		fprintf(stderr, "sectagd: unexpected '%s'\n", argv[optind]);
		usage(stderr);
		return 2;
	}
	agent_log_open(fg, debug);
	config_defaults(&a.cfg);
	if (config_load(&a.cfg, conf, conf_given))
		return 2;
	if (setup(&a)) {
		teardown(&a);
		return 1;
	}
	rc = run(&a);
	teardown(&a);
	return rc;
}
