// SPDX-License-Identifier: GPL-2.0
/*
 * PC/SC readers in sectagd's event loop. libsectag's watch thread blocks
 * in SCardGetStatusChange and wakes the loop through a descriptor only
 * when something changed, so an idle agent still never wakes up:
 *
 *   a reader plugged      -> a struct reader, idx sectag_pcsc_reader_id()
 *   a card inserted       -> a tap, as on nfcN (tap_converse), over PC/SC
 *   the card removed      -> tap_lost (revocation, "removed" uevents)
 *   a reader unplugged    -> its tag lost, the reader forgotten
 *   pcscd gone            -> every PC/SC reader unplugged (and plugged
 *                            again when it is back: the watch waits)
 *
 * pcscd tells presence itself (the card event counter tells a lift and a
 * place between two looks), so no presence check runs on these readers.
 * The card is connected only for the tap, shared and inside a PC/SC
 * transaction, then left powered and disconnected: other PC/SC programs
 * may use it meanwhile. A held card is marked by a placeholder
 * descriptor in r->tag_fd (there is no socket) so that tap.c and ctl.c
 * treat it as a held tag. A reader lent to the CLI (BORROW, with the
 * same id) is left alone: its insertions are the borrower's, not taps;
 * a card still there when it comes back is a tap (pcsc_poll), as a tag
 * left on an nfcN is found by the agent's new poll.
 * Without pcscd the agent runs on kernel NFC readers alone; when pcscd
 * starts (or comes back), its readers appear as plugged.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include <linux/nfc.h>

#include "agent.h"
#include "pcsc.h"

struct known {
	bool used;
	char name[SECTAG_PCSC_NAME_MAX];
	uint32_t id;
	bool card;
	unsigned int events;
};

struct agent_pcsc {
	struct sectag_pcsc_watch *w;
	struct known k[SECTAGD_MAX_READERS];
};

static char tag_pcsc;

static struct reader *slot_of(struct agent *a, uint32_t id, bool add)
{
	struct reader *r = reader_find(a, id, add);

	if (r)
		r->core_presence = true;	/* pcscd watches presence */
	return r;
}

static void card_removed(struct agent *a, struct known *k, struct reader *r)
{
	if (r->tag_fd < 0)
		return;
	agent_log(LOG_INFO, "pcsc:%s: card removed", k->name);
	tap_lost(a, r);
}

/*
 * Connect and read the UID. A card just brought into the field may not
 * answer its first APDU yet (seen with pcscd + vpcd: EIO on GET DATA a
 * moment after "card inserted"): a transport error there is retried on a
 * fresh connection, three times 50 ms apart; still failing, 1: the tap
 * is tried again later (a card without GET DATA still taps, without a
 * UID).
 */
static int card_connect(struct sectag_pcsc *p, const char *name,
			struct sectag_pcsc_card **cp,
			struct sectag_nfc_target *tg)
{
	size_t len = 0;
	int tries, rc;

	for (tries = 1;; tries++) {
		rc = sectag_pcsc_connect(p, name, cp);
		if (rc)
			return rc;
		rc = sectag_pcsc_uid(*cp, tg->nfcid1, &len);
		if (!rc)
			tg->nfcid1_len = (uint8_t)len;
		if (rc != -EIO && rc != -ECONNRESET && rc != -ETIMEDOUT)
			return 0;
		if (tries == 3)
			return 1;
		sectag_pcsc_disconnect(*cp);
		agent_log(LOG_DEBUG, "pcsc:%s: GET DATA: %s, again", name,
			  sectag_pcsc_strerror(rc));
		usleep(50000);
	}
}

/* A tap on the card in @k's reader; @why says what made it one. */
static void card_tap(struct agent *a, struct known *k, struct reader *r,
		     const char *why)
{
	struct sectag_nfc_target tg = { .idx = 0 };
	struct sectag_pcsc *p = NULL;
	struct sectag_pcsc_card *c;
	int rc;

	if (ctl_borrowed(a, r->idx)) {
		agent_log(LOG_DEBUG, "pcsc:%s: %s while lent", k->name, why);
		return;
	}
	agent_log(LOG_INFO, "pcsc:%s: %s", k->name, why);
	/* A context per tap: pcscd may have restarted since the last one. */
	rc = sectag_pcsc_open(&p);
	if (!rc)
		rc = card_connect(p, k->name, &c, &tg);
	if (rc == 1) {
		/* Not answering yet: reader.c calls pcsc_poll() again later. */
		sectag_pcsc_disconnect(c);
		sectag_pcsc_close(p);
		agent_log(LOG_NOTICE, "pcsc:%s: the card does not answer yet; "
			  "trying again in %u ms", k->name,
			  reader_retry_later(a, r));
		return;
	}
	r->repoll_delay_ms = 0;
	if (rc) {
		agent_log(LOG_WARNING, "pcsc:%s: cannot connect to the card: %s",
			  k->name, sectag_pcsc_strerror(rc));
		sectag_pcsc_close(p);
		return;
	}
	tg.protocols = NFC_PROTO_ISO14443_MASK;
	r->tag_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	free(r->released);
	r->released = NULL;
	r->n_released = 0;
	tap_converse(a, r, &tg, sectag_pcsc_xfer, c, NULL);
	sectag_pcsc_disconnect(c);
	sectag_pcsc_close(p);
}

/*
 * reader.c polls a reader again after a borrow: on PC/SC, a card left
 * on the reader is then a tap, as a tag left on an nfcN is found again
 * by the new poll.
 */
void pcsc_poll(struct agent *a, struct reader *r)
{
	int i;

	for (i = 0; a->pcsc && i < SECTAGD_MAX_READERS; i++) {
		struct known *k = &a->pcsc->k[i];

		if (k->used && k->id == r->idx && k->card && r->tag_fd < 0)
			card_tap(a, k, r, "card on the reader after the borrow");
	}
}

static void reader_gone(struct agent *a, struct known *k)
{
	struct reader *r = slot_of(a, k->id, false);

	agent_log(LOG_INFO, "pcsc:%s: reader removed", k->name);
	if (r) {
		card_removed(a, k, r);
		r->used = false;
	}
	k->used = false;
	agent_notify_status(a, "");
}

static struct known *known_of(struct agent *a, const char *name)
{
	struct known *k, *free_k = NULL;
	int i;

	for (i = 0; i < SECTAGD_MAX_READERS; i++) {
		k = &a->pcsc->k[i];
		if (k->used && !strcmp(k->name, name))
			return k;
		if (!k->used && !free_k)
			free_k = k;
	}
	if (!free_k)
		return NULL;
	memset(free_k, 0, sizeof(*free_k));
	free_k->used = true;
	snprintf(free_k->name, sizeof(free_k->name), "%s", name);
	free_k->id = sectag_pcsc_reader_id(name);
	return free_k;
}

/* One reader's state now: added, card in or out (or both, in between). */
static void reader_update(struct agent *a, const struct sectag_pcsc_reader *v)
{
	struct known *k = known_of(a, v->name);
	struct reader *r;
	bool was, added;

	if (!k) {
		agent_log(LOG_WARNING, "pcsc:%s: too many readers", v->name);
		return;
	}
	r = slot_of(a, k->id, false);
	added = !r;
	if (added)
		agent_log(LOG_INFO, "pcsc:%s: reader added", v->name);
	r = r ? r : slot_of(a, k->id, true);
	if (!r) {
		agent_log(LOG_WARNING, "pcsc:%s: too many readers", v->name);
		k->used = false;
		return;
	}
	if (added)	/* truncated: the log's name for it, nothing more */
		snprintf(r->label, sizeof(r->label), "pcsc:%.42s", v->name);
	if (added)
		agent_notify_status(a, "");
	was = k->card && k->events == v->events;
	if (!was)
		card_removed(a, k, r);
	k->card = v->card;
	k->events = v->events;
	if (v->card && !was)
		card_tap(a, k, r, "card inserted");
}

static void stop_watching(struct agent *a, int err)
{
	int i;

	agent_log(LOG_WARNING, "PC/SC: %s; PC/SC readers are no longer watched",
		  sectag_pcsc_strerror(err));
	for (i = 0; i < SECTAGD_MAX_READERS; i++)
		if (a->pcsc->k[i].used)
			reader_gone(a, &a->pcsc->k[i]);
	pcsc_teardown(a);
}

static void on_change(struct agent *a)
{
	struct sectag_pcsc_reader *v;
	size_t n, i, j;
	int rc;

	rc = sectag_pcsc_watch_get(a->pcsc->w, &v, &n);
	if (rc) {
		stop_watching(a, rc);
		return;
	}
	for (i = 0; i < SECTAGD_MAX_READERS; i++) {
		struct known *k = &a->pcsc->k[i];

		for (j = 0; k->used && j < n; j++)
			if (!strcmp(v[j].name, k->name))
				break;
		if (k->used && j == n)
			reader_gone(a, k);
	}
	for (i = 0; i < n; i++)
		reader_update(a, &v[i]);
	free(v);
}

bool pcsc_dispatch(struct agent *a, void *ptr)
{
	if (ptr != &tag_pcsc)
		return false;
	if (a->pcsc)
		on_change(a);
	return true;
}

void pcsc_setup(struct agent *a)
{
	struct agent_pcsc *p = calloc(1, sizeof(*p));
	struct sectag_pcsc *probe = NULL;
	int rc;

	if (!p)
		return;
	a->pcsc = p;
	rc = sectag_pcsc_watch_start(&p->w);
	if (!rc && agent_watch(a, sectag_pcsc_watch_fd(p->w), &tag_pcsc))
		rc = -errno;
	if (rc) {
		agent_log(LOG_WARNING, "PC/SC readers not watched: %s",
			  strerror(-rc));
		pcsc_teardown(a);
		return;
	}
	/*
	 * Most systems have no pcscd: not worth more than a debug line.
	 * The watch waits for it (inotify) and its readers appear then.
	 */
	rc = sectag_pcsc_open(&probe);
	if (rc)
		agent_log(LOG_DEBUG, "PC/SC: %s; its readers appear when it starts",
			  sectag_pcsc_strerror(rc));
	else
		agent_log(LOG_INFO, "watching PC/SC readers");
	sectag_pcsc_close(probe);
}

void pcsc_teardown(struct agent *a)
{
	struct agent_pcsc *p = a->pcsc;

	if (!p)
		return;
	/* Closing the watch's descriptor takes it out of the epoll set. */
	sectag_pcsc_watch_stop(p->w);
	free(p);
	a->pcsc = NULL;
}
