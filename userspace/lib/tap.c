// SPDX-License-Identifier: LGPL-2.1-or-later
/* The agent's side of a tap: identify, authenticate, read the share. */
#include <errno.h>
#include <string.h>

#include <openssl/crypto.h>

#include "issue.h"
#include "tap.h"

int sectag_tap_identify(struct sectag_ntag *t,
			uint8_t uid[SECTAG_NTAG_UID_LEN], bool *random_id)
{
	static const uint8_t none[SECTAG_NTAG_UID_LEN];
	struct sectag_ntag_version v;
	int rc;

	rc = sectag_ntag_select_app(t);
	if (rc > 0)
		return -EMEDIUMTYPE;	/* no NTAG 424 application */
	if (!rc)
		rc = sectag_ntag_get_version(t, &v);
	if (rc)
		return rc;
	memcpy(uid, v.uid, SECTAG_NTAG_UID_LEN);
	*random_id = !memcmp(uid, none, sizeof(none));
	return 0;
}

int sectag_tap_read_share(struct sectag_ntag *t, const uint8_t k2[16],
			  const uint8_t uid[SECTAG_NTAG_UID_LEN],
			  uint8_t share[32])
{
	uint8_t real[SECTAG_NTAG_UID_LEN];
	int rc;

	rc = sectag_ntag_auth(t, SECTAG_KEY_READ, k2);
	if (rc == SECTAG_SW_AUTH_ERROR)
		return -EKEYREJECTED;
	if (!rc && uid)
		rc = sectag_ntag_get_card_uid(t, real);
	if (!rc && uid && memcmp(real, uid, sizeof(real)))
		rc = -EKEYREJECTED;
	if (!rc)
		rc = sectag_ntag_read(t, SECTAG_SECRET_FILE, SECTAG_NTAG_FULL, 0,
				      share, 32);
	sectag_ntag_logout(t);
	if (rc)
		OPENSSL_cleanse(share, 32);
	return rc;
}
