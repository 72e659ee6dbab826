// SPDX-License-Identifier: GPL-2.0
/*
 * The agent's readers: which ones it knows and whether each polls.
 *
 * A reader the agent owns is always in one of three states: it polls
 * (our poll, started and not yet ended by a report), it holds a tag (a
 * connected socket), or it waits for a poll retry. The NFC core ends a
 * poll when it reports targets, so a reader that reported and then
 * could not be used (the target gone before the connect, the connect
 * refused, the tag removed) must be polled again by us: no driver but
 * ours ever sends another event for it (Documentation/readers.md).
 *
 * A poll is refused with -EBUSY while someone else polls the device
 * (a borrower whose poll the core has not torn down yet, another
 * program) or while the core still has a target active (another
 * program's socket, or one closed without deactivating its target
 * first, which the driver releases a moment later). Such a refusal is
 * retried from the agent's deadline timer, 100 ms after the first and
 * backing off to every 5 s, for as long as the reader stays idle: no
 * state is ever left in which nothing will poll the reader again.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>

#include <linux/nfc.h>

#include "agent.h"

#define REPOLL_FIRST_MS		100
#define REPOLL_MAX_MS		5000

struct reader *reader_find(struct agent *a, uint32_t idx, bool add)
{
	struct reader *free_slot = NULL;
	int i;

	for (i = 0; i < SECTAGD_MAX_READERS; i++) {
		struct reader *r = &a->readers[i];

		if (r->used && r->idx == idx)
			return r;
		if (!r->used && !free_slot)
			free_slot = r;
	}
	if (!add || !free_slot)
		return NULL;
	memset(free_slot, 0, sizeof(*free_slot));
	free_slot->used = true;
	free_slot->idx = idx;
	free_slot->tag_fd = -1;
	snprintf(free_slot->label, sizeof(free_slot->label), "nfc%u", idx);
	return free_slot;
}

unsigned int reader_retry_later(struct agent *a, struct reader *r)
{
	unsigned int ms = r->repoll_delay_ms ? 2 * r->repoll_delay_ms :
			  REPOLL_FIRST_MS;

	if (ms > REPOLL_MAX_MS)
		ms = REPOLL_MAX_MS;
	r->repoll_delay_ms = ms;
	r->repoll_ms = agent_now_ms() + ms;
	agent_arm_timer(a);
	return ms;
}

void reader_poll(struct agent *a, struct reader *r)
{
	int rc;

	r->repoll_ms = 0;
	/* Lent to a client (ctl.c polls again when it comes back). */
	if (r->polling || r->tag_fd >= 0 || ctl_borrowed(a, r->idx))
		return;
	/* PC/SC (pcsc.c): no poll; a card there after a borrow is a tap. */
	if (pcsc_reader(r)) {
		pcsc_poll(a, r);
		return;
	}
	rc = sectag_nfc_dev_up(a->nfc, r->idx);
	if (!rc || rc == -EALREADY)
		rc = sectag_nfc_start_poll(a->nfc, r->idx,
					   NFC_PROTO_ISO14443_MASK);
	agent_log(LOG_DEBUG, "nfc%u: poll: %d", r->idx, rc);
	if (rc == -EBUSY) {
		unsigned int was = r->repoll_delay_ms;

		if (reader_retry_later(a, r) == REPOLL_MAX_MS &&
		    was < REPOLL_MAX_MS)
			agent_log(LOG_WARNING, "nfc%u: busy: another program polls it or holds its tag; retrying every %u s",
				  r->idx, REPOLL_MAX_MS / 1000);
		return;
	}
	if (r->repoll_delay_ms >= REPOLL_MAX_MS && !rc)
		agent_log(LOG_INFO, "nfc%u: polling again", r->idx);
	r->repoll_delay_ms = 0;
	r->polling = !rc;
	if (rc)
		agent_log(LOG_WARNING, "nfc%u: cannot poll: %s", r->idx,
			  strerror(-rc));
}

/* The poll ended (targets reported, device gone, lent): not ours now. */
void reader_poll_ended(struct reader *r)
{
	r->polling = false;
	r->repoll_ms = 0;
	r->repoll_delay_ms = 0;
}

void readers_repoll_due(struct agent *a)
{
	int64_t now = agent_now_ms();
	int i;

	for (i = 0; i < SECTAGD_MAX_READERS; i++) {
		struct reader *r = &a->readers[i];

		if (r->used && r->repoll_ms && r->repoll_ms <= now)
			reader_poll(a, r);
	}
}

int64_t readers_next_repoll(const struct agent *a)
{
	int64_t first = 0, d;
	int i;

	for (i = 0; i < SECTAGD_MAX_READERS; i++) {
		d = a->readers[i].repoll_ms;
		if (a->readers[i].used && d && (!first || d < first))
			first = d;
	}
	return first;
}
