/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Shared by the e2e helpers that lift a tag mid-session (liftmid.c,
 * closerace.c): the SELECT they send, and the wait for a target the core
 * did not list before the poll (old ones may be stale: pn533 never
 * reports a loss).
 */
#ifndef SECTAG_E2E_NEWTARGET_H
#define SECTAG_E2E_NEWTARGET_H

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <time.h>

#include <linux/nfc.h>

#include "nfc.h"

/* ISO SELECT of the NTAG 424 DNA application, Le 00: answers 90 00. */
static const uint8_t select_app[] = {
	0x00, 0xA4, 0x04, 0x0C, 0x07, 0xD2, 0x76, 0x00, 0x00, 0x85, 0x01, 0x01,
	0x00
};

static inline bool listed(const struct sectag_nfc_target *v, size_t n,
			  uint32_t idx)
{
	for (size_t i = 0; i < n; i++)
		if (v[i].idx == idx)
			return true;
	return false;
}

/*
 * Polls @idx and waits up to 30 s for a target not listed before: its
 * index, or -1 (the poll refused or nothing came; *@poll_rc says which).
 */
static inline int64_t new_target(struct sectag_nfc *nfc, uint32_t idx,
				 int *poll_rc)
{
	struct sectag_nfc_target *old = NULL, *v = NULL;
	struct timespec ts = { 0, 20000000L };
	size_t n_old = 0, n = 0;
	int64_t tg = -1;

	if (sectag_nfc_targets(nfc, idx, &old, &n_old))
		n_old = 0;
	*poll_rc = sectag_nfc_start_poll(nfc, idx, NFC_PROTO_ISO14443_MASK);
	if (*poll_rc)
		goto out;
	for (int i = 0; i < 1500 && tg < 0; i++) {
		free(v);
		v = NULL;
		if (sectag_nfc_targets(nfc, idx, &v, &n))
			n = 0;
		for (size_t k = 0; k < n && tg < 0; k++)
			if (!listed(old, n_old, v[k].idx))
				tg = v[k].idx;
		if (tg < 0)
			nanosleep(&ts, NULL);
	}
out:
	free(v);
	free(old);
	return tg;
}

#endif
