/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Where released secrets go: the kernel keyring (libkeyutils) and LUKS2
 * volumes (libcryptsetup, builtin luks2-keyring token). Functions return
 * 0 or a negative errno.
 */
#ifndef SECTAG_UNLOCK_H
#define SECTAG_UNLOCK_H

#include <stddef.h>
#include <stdint.h>

#include "store.h"
#include "token.h"

/*
 * Put the secret of @b into root's user keyring under its key
 * description, readable only by root, expiring after @timeout_s (0:
 * never). LUKS bindings get a "user" key holding the secret as the
 * passphrase cryptsetup's token reads; others a "logon" key.
 */
int sectag_keyring_add(const struct sectag_binding *b,
		       const uint8_t secret[32], unsigned int timeout_s,
		       int32_t *serial);
/*
 * Revoke the binding's key if present (a tag removal, a revoke). The key
 * is invalidated: gone at once. Several bindings of one volume share
 * its key description, so this drops whichever of them was released.
 */
int sectag_keyring_revoke(const struct sectag_binding *b);

/*
 * The passphrase a LUKS binding's keyslot takes, and its "user" key
 * holds: the 64 lowercase hex digits of the 32-byte secret.
 */

/* The UUID of the LUKS2 volume on @device. */
int sectag_luks_uuid(const char *device, char *uuid, size_t size);
/* 0 if @passphrase opens a keyslot of @device (-EPERM if none). */
int sectag_luks_check_passphrase(const char *device, const char *passphrase,
				 size_t passphrase_len);
/*
 * Where the volume of @b is now: b->device if it still holds volume
 * b->target, else /dev/disk/by-uuid/<uuid>. -ENODEV if neither.
 */
int sectag_luks_find(const struct sectag_binding *b, char *path, size_t size);
/*
 * Add a keyslot for @secret (PBKDF2, minimum iterations: the secret is
 * high-entropy) authorised by an existing passphrase, and a
 * luks2-keyring token for it; sets b->keyslot and b->token. b->target
 * must be the volume's UUID (filled in if empty; -ESTALE if another).
 */
int sectag_luks_enroll(const char *device, const char *passphrase,
		       size_t passphrase_len, const uint8_t secret[32],
		       struct sectag_binding *b);
/*
 * Remove the binding's keyslot and token; @device NULL: find it as
 * sectag_luks_find() does. A keyslot is only destroyed while the
 * binding's token (luks2-keyring, our key description) is assigned to
 * it: -ESTALE if the header no longer matches the binding, -EBUSY if it
 * is the volume's last keyslot. Finishes a revoke that stopped half-way;
 * 0 if both are already gone.
 */
int sectag_luks_revoke(const char *device, const struct sectag_binding *b);
/*
 * Activate the volume of @b as /dev/mapper/@name through its token
 * (the key must be in the keyring); -EEXIST if @name is active.
 */
int sectag_luks_open(const struct sectag_binding *b, const char *name);

/*
 * The "sectag" token (token.h) for keyslot tok->keyslot of @device,
 * which must be volume @uuid: its number, or a negative errno.
 */
int sectag_luks_token_add(const char *device, const char *uuid,
			  const struct sectag_token *tok);
/*
 * The sectag token assigned to @keyslot of the loaded volume @cd (a
 * struct crypt_device *), parsed into @tok: its number; -ENOENT if none.
 * With @uid, only a token for that tag.
 */
int sectag_luks_token_find(void *cd, int keyslot, const uint8_t *uid,
			   struct sectag_token *tok);
/* The same, on @device: its bind mode, or a negative errno. */
int sectag_luks_token_mode(const char *device, int keyslot,
			   const uint8_t uid[7]);

#endif
