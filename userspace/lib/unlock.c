// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Released secrets into the kernel keyring (libkeyutils) and LUKS2
 * keyslots and luks2-keyring tokens (libcryptsetup). See unlock.h.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include <keyutils.h>
#include <libcryptsetup.h>
#include <openssl/crypto.h>

#include "unlock.h"

#define SECRET_LEN	32
#define PASS_LEN	(2 * SECRET_LEN)
#define DESC_LEN	192
#define TOKEN_TYPE	"luks2-keyring"
/* The secret is 256 random bits: the KDF adds nothing but delay. */
#define PBKDF_ITER	1000
#define LUKS_MAX_TOKEN	31

/* View, read and search for the possessor and the owner (root): no more. */
#define KEY_PERM	(KEY_POS_VIEW | KEY_POS_READ | KEY_POS_SEARCH | \
			 KEY_USR_VIEW | KEY_USR_READ | KEY_USR_SEARCH)
/* Logon keys may also be linked: pam_sectag session_key links them. */
#define LOGON_PERM	(KEY_PERM | KEY_POS_LINK | KEY_USR_LINK)

/* The passphrase of a LUKS binding: printable, for cryptsetup and people. */
static void secret_hex(const uint8_t secret[SECRET_LEN],
		       char out[PASS_LEN + 1])
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
		secret_hex(secret, pass);
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

/* ---------------------------------------------------------------------- */
/* LUKS2                                                                  */

static int luks_load(const char *device, struct crypt_device **cd)
{
	int rc;

	rc = crypt_init(cd, device);
	if (rc < 0)
		return rc;
	rc = crypt_load(*cd, CRYPT_LUKS2, NULL);
	if (rc < 0) {
		crypt_free(*cd);
		*cd = NULL;
	}
	return rc < 0 ? rc : 0;
}

/* The LUKS2 header on @device, provided it is volume @uuid. */
static int luks_load_uuid(const char *device, const char *uuid,
			  struct crypt_device **cd)
{
	const char *have;
	int rc;

	rc = luks_load(device, cd);
	if (rc)
		return rc;
	have = crypt_get_uuid(*cd);
	if (!have || strcmp(have, uuid)) {
		crypt_free(*cd);
		*cd = NULL;
		return -ESTALE;
	}
	return 0;
}

/*
 * The volume of @b: @device if given; else the device it was enrolled
 * on, unless that path now holds something else (disks get renamed),
 * then wherever udev found its UUID.
 */
static int luks_load_binding(const struct sectag_binding *b,
			     const char *device, struct crypt_device **cd)
{
	char path[32 + sizeof(b->target)];

	if (b->kind != SECTAG_BIND_LUKS)
		return -EINVAL;
	if (device)
		return luks_load_uuid(device, b->target, cd);
	if (b->device[0] && !luks_load_uuid(b->device, b->target, cd))
		return 0;
	snprintf(path, sizeof(path), "/dev/disk/by-uuid/%s", b->target);
	return luks_load_uuid(path, b->target, cd) ? -ENODEV : 0;
}

int sectag_luks_find(const struct sectag_binding *b, char *path, size_t size)
{
	struct crypt_device *cd;
	const char *dev;
	int rc, n;

	if (!b || !path)
		return -EINVAL;
	rc = luks_load_binding(b, NULL, &cd);
	if (rc)
		return rc;
	dev = crypt_get_device_name(cd);
	n = snprintf(path, size, "%s", dev ? dev : "");
	crypt_free(cd);
	return n > 0 && (size_t)n < size ? 0 : -ENOSPC;
}

int sectag_luks_uuid(const char *device, char *uuid, size_t size)
{
	struct crypt_device *cd;
	const char *u;
	int rc, n;

	if (!device || !uuid)
		return -EINVAL;
	rc = luks_load(device, &cd);
	if (rc)
		return rc;
	u = crypt_get_uuid(cd);
	n = u ? snprintf(uuid, size, "%s", u) : -1;
	crypt_free(cd);
	if (n < 0)
		return -EINVAL;
	return (size_t)n < size ? 0 : -ENOSPC;
}

int sectag_luks_check_passphrase(const char *device, const char *passphrase,
				 size_t passphrase_len)
{
	struct crypt_device *cd;
	int rc;

	if (!device || !passphrase)
		return -EINVAL;
	rc = luks_load(device, &cd);
	if (rc)
		return rc;
	/* No name: only checks that some keyslot opens with it. */
	rc = crypt_activate_by_passphrase(cd, NULL, CRYPT_ANY_SLOT, passphrase,
					  passphrase_len, 0);
	crypt_free(cd);
	return rc < 0 ? rc : 0;
}

/* A luks2-keyring token for @b's key description, assigned to @keyslot. */
static int add_token(struct crypt_device *cd, const struct sectag_binding *b,
		     int keyslot)
{
	char desc[DESC_LEN];
	struct crypt_token_params_luks2_keyring params = {
		.key_description = desc,
	};
	int token, rc;

	rc = sectag_binding_key_desc(b, desc, sizeof(desc));
	if (rc)
		return rc;
	token = crypt_token_luks2_keyring_set(cd, CRYPT_ANY_TOKEN, &params);
	if (token < 0)
		return token;
	rc = crypt_token_assign_keyslot(cd, token, keyslot);
	if (rc < 0) {
		crypt_token_json_set(cd, token, NULL);
		return rc;
	}
	return token;
}

static int add_keyslot(struct crypt_device *cd, const char *passphrase,
		       size_t passphrase_len, const uint8_t *secret)
{
	struct crypt_pbkdf_type pbkdf = {
		.type = CRYPT_KDF_PBKDF2,
		.hash = "sha256",
		.iterations = PBKDF_ITER,
		.flags = CRYPT_PBKDF_NO_BENCHMARK,
	};
	char pass[PASS_LEN + 1];
	int rc;

	rc = crypt_set_pbkdf_type(cd, &pbkdf);
	if (rc < 0)
		return rc;
	secret_hex(secret, pass);
	rc = crypt_keyslot_add_by_passphrase(cd, CRYPT_ANY_SLOT, passphrase,
					     passphrase_len, pass, PASS_LEN);
	OPENSSL_cleanse(pass, sizeof(pass));
	return rc;
}

int sectag_luks_enroll(const char *device, const char *passphrase,
		       size_t passphrase_len, const uint8_t secret[32],
		       struct sectag_binding *b)
{
	struct crypt_device *cd;
	int keyslot, token, rc;

	if (!device || !passphrase || !secret || !b ||
	    b->kind != SECTAG_BIND_LUKS)
		return -EINVAL;
	if (!b->target[0]) {
		rc = sectag_luks_uuid(device, b->target, sizeof(b->target));
		if (rc)
			return rc;
	}
	rc = luks_load_uuid(device, b->target, &cd);
	if (rc)
		return rc;
	keyslot = add_keyslot(cd, passphrase, passphrase_len, secret);
	token = keyslot < 0 ? keyslot : add_token(cd, b, keyslot);
	if (keyslot >= 0 && token < 0)
		crypt_keyslot_destroy(cd, keyslot);
	crypt_free(cd);
	if (token < 0)
		return token;
	b->keyslot = keyslot;
	b->token = token;
	return 0;
}

/* Token @b->token is a luks2-keyring token for @b's key description. */
static bool token_ours(struct crypt_device *cd, const struct sectag_binding *b)
{
	struct crypt_token_params_luks2_keyring params;
	char desc[DESC_LEN];
	const char *type;

	if (b->token < 0 || sectag_binding_key_desc(b, desc, sizeof(desc)))
		return false;
	if (crypt_token_status(cd, b->token, &type) != CRYPT_TOKEN_INTERNAL ||
	    !type || strcmp(type, TOKEN_TYPE))
		return false;
	if (crypt_token_luks2_keyring_get(cd, b->token, &params) < 0 ||
	    !params.key_description)
		return false;
	return !strcmp(params.key_description, desc);
}

/* ---------------------------------------------------------------------- */
/* The sectag token                                                       */

/* Token @token is a sectag token, parsed into @tok. */
static bool sectag_token_at(struct crypt_device *cd, int token,
			    struct sectag_token *tok)
{
	const char *type, *json, *why;
	crypt_token_info st;

	st = crypt_token_status(cd, token, &type);
	if ((st != CRYPT_TOKEN_EXTERNAL && st != CRYPT_TOKEN_EXTERNAL_UNKNOWN) ||
	    !type || strcmp(type, SECTAG_TOKEN_TYPE))
		return false;
	if (crypt_token_json_get(cd, token, &json) < 0)
		return false;
	return !sectag_token_parse(json, tok, &why);
}

int sectag_luks_token_find(void *cdv, int keyslot, const uint8_t *uid,
			   struct sectag_token *tok)
{
	struct crypt_device *cd = cdv;
	int token;

	for (token = 0; token <= LUKS_MAX_TOKEN; token++) {
		if (!sectag_token_at(cd, token, tok))
			continue;
		if (tok->keyslot == keyslot &&
		    (!uid || !memcmp(tok->uid, uid, sizeof(tok->uid))))
			return token;
		sectag_token_wipe(tok);
	}
	return -ENOENT;
}

int sectag_luks_token_mode(const char *device, int keyslot,
			   const uint8_t uid[7])
{
	struct sectag_token tok;
	struct crypt_device *cd;
	int rc;

	rc = luks_load(device, &cd);
	if (rc)
		return rc;
	rc = sectag_luks_token_find(cd, keyslot, uid, &tok);
	crypt_free(cd);
	if (rc >= 0)
		rc = (int)tok.mode;
	sectag_token_wipe(&tok);
	return rc;
}

int sectag_luks_token_add(const char *device, const char *uuid,
			  const struct sectag_token *tok)
{
	char json[SECTAG_TOKEN_JSON_MAX];
	struct crypt_device *cd;
	int rc;

	if (!device || !uuid || !tok)
		return -EINVAL;
	rc = sectag_token_format(tok, json, sizeof(json));
	if (rc < 0)
		return rc;
	rc = luks_load_uuid(device, uuid, &cd);
	if (!rc) {
		rc = crypt_token_json_set(cd, CRYPT_ANY_TOKEN, json);
		crypt_free(cd);
	}
	OPENSSL_cleanse(json, sizeof(json));
	return rc;
}

/* Every sectag token of @b's keyslot and tag. */
static int remove_sectag_tokens(struct crypt_device *cd,
				const struct sectag_binding *b)
{
	struct sectag_token tok;
	int token, rc;

	while ((token = sectag_luks_token_find(cd, b->keyslot, b->uid,
					       &tok)) >= 0) {
		sectag_token_wipe(&tok);
		rc = crypt_token_json_set(cd, token, NULL);
		if (rc < 0)
			return rc;
	}
	return 0;
}

/*
 * The keyslot goes first: a revoke stopped half-way leaves our token
 * without a keyslot, which the next attempt recognises and finishes.
 * A keyslot is destroyed only while our token vouches for it, so a
 * stale store never costs someone else's keyslot, and never the last
 * one: that would lose the volume's data.
 */
static int revoke_slots(struct crypt_device *cd, const struct sectag_binding *b)
{
	crypt_keyslot_info ks = crypt_keyslot_status(cd, b->keyslot);
	bool ours = token_ours(cd, b);
	int rc;

	if (ks == CRYPT_SLOT_ACTIVE || ks == CRYPT_SLOT_ACTIVE_LAST) {
		if (!ours || crypt_token_is_assigned(cd, b->token, b->keyslot))
			return -ESTALE;
		if (ks == CRYPT_SLOT_ACTIVE_LAST)
			return -EBUSY;
		/* Before the keyslot: destroying it unassigns the token. */
		rc = remove_sectag_tokens(cd, b);
		if (rc < 0)
			return rc;
		rc = crypt_keyslot_destroy(cd, b->keyslot);
		if (rc < 0)
			return rc;
	}
	if (ours) {
		rc = crypt_token_json_set(cd, b->token, NULL);
		if (rc < 0)
			return rc;
	}
	return 0;
}

int sectag_luks_revoke(const char *device, const struct sectag_binding *b)
{
	struct crypt_device *cd;
	int rc;

	if (!b || b->kind != SECTAG_BIND_LUKS)
		return -EINVAL;
	rc = luks_load_binding(b, device, &cd);
	if (rc)
		return rc;
	rc = revoke_slots(cd, b);
	crypt_free(cd);
	return rc;
}

int sectag_luks_open(const struct sectag_binding *b, const char *name)
{
	struct crypt_device *cd;
	int rc;

	if (!b || !name || !*name)
		return -EINVAL;
	rc = luks_load_binding(b, NULL, &cd);
	if (rc)
		return rc;
	rc = crypt_activate_by_token(cd, name, b->token, NULL, 0);
	crypt_free(cd);
	return rc < 0 ? rc : 0;
}
