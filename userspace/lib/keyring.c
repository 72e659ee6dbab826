// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Released secrets into the kernel keyring (libkeyutils). Apart from
 * unlock.c (libcryptsetup) so that the agent, which only needs this
 * half, does not map libcryptsetup and its dependencies: volumes are
 * opened by the short-lived sectag-open helper. See unlock.h.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <keyutils.h>
#include <openssl/crypto.h>

#include "unlock.h"

#define SECRET_LEN	SECTAG_LUKS_SECRET_LEN
#define PASS_LEN	SECTAG_LUKS_PASS_LEN
#define DESC_LEN	192

/* View, read and search for the possessor and the owner (root): no more. */
#define KEY_PERM	(KEY_POS_VIEW | KEY_POS_READ | KEY_POS_SEARCH | \
			 KEY_USR_VIEW | KEY_USR_READ | KEY_USR_SEARCH)
/* Logon keys may also be linked: pam_sectag session_key links them. */
#define LOGON_PERM	(KEY_PERM | KEY_POS_LINK | KEY_USR_LINK)

/* The passphrase of a LUKS binding: printable, for cryptsetup and people. */
void sectag_luks_passphrase(const uint8_t secret[SECTAG_LUKS_SECRET_LEN],
			    char out[SECTAG_LUKS_PASS_LEN + 1])
{
	static const char digits[] = "0123456789abcdef";
	int i;

	for (i = 0; i < SECRET_LEN; i++) {
		out[2 * i] = digits[secret[i] >> 4];
		out[2 * i + 1] = digits[secret[i] & 15];
	}
	out[PASS_LEN] = 0;
}

/* ---------------------------------------------------------------------- */
/* Kernel keyring                                                         */

/* cryptsetup's luks2-keyring token reads "user" keys; others stay unread. */
static const char *key_type(const struct sectag_binding *b)
{
	return b->kind == SECTAG_BIND_LUKS ? "user" : "logon";
}

/*
 * The key is born in our process keyring, so we possess it while we set
 * its timeout and permissions, whatever session keyring we run under
 * (a service's private one does not link root's user keyring). Linking
 * it into the user keyring displaces any key of the same type and
 * description there, even an expired one that we could not update.
 */
static int publish_key(key_serial_t id, unsigned int timeout_s,
		       key_perm_t perm)
{
	if (timeout_s && keyctl_set_timeout(id, timeout_s) < 0)
		return -errno;
	if (keyctl_link(id, KEY_SPEC_USER_KEYRING) < 0)
		return -errno;
	if (keyctl_setperm(id, perm) < 0)
		return -errno;
	return 0;
}

int sectag_keyring_add(const struct sectag_binding *b,
		       const uint8_t secret[32], unsigned int timeout_s,
		       int32_t *serial)
{
	char desc[DESC_LEN], pass[PASS_LEN + 1];
	const void *payload = secret;
	size_t len = SECRET_LEN;
	key_serial_t id;
	int rc;

	if (!b || !secret)
		return -EINVAL;
	rc = sectag_binding_key_desc(b, desc, sizeof(desc));
	if (rc)
		return rc;
	if (b->kind == SECTAG_BIND_LUKS) {
		sectag_luks_passphrase(secret, pass);
		payload = pass;
		len = PASS_LEN;
	}
	id = add_key(key_type(b), desc, payload, len, KEY_SPEC_PROCESS_KEYRING);
	rc = id < 0 ? -errno : 0;
	OPENSSL_cleanse(pass, sizeof(pass));
	if (rc)
		return rc;
	rc = publish_key(id, timeout_s, b->kind == SECTAG_BIND_LUKS ?
			 KEY_PERM : LOGON_PERM);
	if (rc)
		keyctl_invalidate(id);
	keyctl_unlink(id, KEY_SPEC_PROCESS_KEYRING);
	if (!rc && serial)
		*serial = id;
	return rc;
}

/*
 * Invalidated rather than revoked: the key goes at once, and revoking
 * would need a write or setattr permission we do not grant.
 */
int sectag_keyring_revoke(const struct sectag_binding *b)
{
	char desc[DESC_LEN];
	key_serial_t id;
	int rc;

	if (!b)
		return -EINVAL;
	rc = sectag_binding_key_desc(b, desc, sizeof(desc));
	if (rc)
		return rc;
	id = keyctl_search(KEY_SPEC_USER_KEYRING, key_type(b), desc, 0);
	if (id < 0)
		return errno == ENOKEY || errno == EKEYEXPIRED ||
		       errno == EKEYREVOKED ? 0 : -errno;
	return keyctl_invalidate(id) < 0 ? -errno : 0;
}
