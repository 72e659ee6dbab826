/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A tap as the agent sees it: who is this tag, and does it hold the
 * read key of a binding. Return values as in ntag424.h / issue.h.
 */
#ifndef SECTAG_TAP_H
#define SECTAG_TAP_H

#include <stdbool.h>
#include <stdint.h>

#include "ntag424.h"

/*
 * Select the application and read the UID the tag claims in GetVersion.
 * With Random ID the UID there is zero: @uid is zeroed and @random_id
 * set; the real UID is only known after authentication.
 */
int sectag_tap_identify(struct sectag_ntag *t,
			uint8_t uid[SECTAG_NTAG_UID_LEN], bool *random_id);

/*
 * Mutual authentication with read key @k2, then the 32-byte secret
 * share of file 3. With @uid non-zero the tag must also report that
 * real UID (GetCardUID): a clone of the UID without the key fails the
 * authentication, a genuine tag under another UID fails this check.
 */
int sectag_tap_read_share(struct sectag_ntag *t, const uint8_t k2[16],
			  const uint8_t uid[SECTAG_NTAG_UID_LEN],
			  uint8_t share[32]);

#endif
