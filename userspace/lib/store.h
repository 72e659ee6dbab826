/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The enrolment store: which tag is bound to what. Root-only (0600),
 * rewritten atomically (temp file, fsync, rename, fsync of the
 * directory), so a crash at any moment leaves the old or the new store.
 *
 * A binding keeps the tag's read key K2 (not the issuer key: a stolen
 * host must not be able to mint tags) and a per-binding host secret;
 * the unlock secret needs both the host secret and the secret share
 * that only the genuine tag hands out after mutual authentication.
 *
 * With a Random ID tag enrolled, the store also keeps its issuer's
 * identification key (issue.h): one authentication with it tells the
 * real UID of any Random ID tag of that issuer. One per store: the agent
 * tries at most one identification key per tap.
 */
#ifndef SECTAG_STORE_H
#define SECTAG_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SECTAG_STORE_DEFAULT	"/var/lib/sectag/store"

enum sectag_binding_kind {
	SECTAG_BIND_LUKS = 1,		/* target: LUKS2 UUID */
	SECTAG_BIND_USER,		/* target: user name (PAM) */
	SECTAG_BIND_NAME,		/* target: label (automation) */
};

struct sectag_binding {
	uint32_t id;			/* unique in the store, never reused */
	enum sectag_binding_kind kind;
	char target[128];		/* UUID, user name or label */
	char device[256];		/* LUKS: device path at enrolment */
	char auto_open[64];		/* LUKS: dm name to open on tap, or "" */
	int keyslot;			/* LUKS: keyslot added, else -1 */
	int token;			/* LUKS: token added, else -1 */
	uint8_t uid[7];			/* the tag's real UID */
	uint8_t read_key[16];		/* K2 of that tag */
	uint8_t host_secret[32];
	/*
	 * LUKS, bind tpm2: the host secret is sealed to this machine's TPM
	 * in the volume's sectag token, not kept here (host_secret is all
	 * zero; sectag_binding_secret() refuses the binding as it is).
	 */
	bool tpm2;
};

struct sectag_store {
	struct sectag_binding *b;
	size_t n;
	uint32_t next_id;
	bool has_ident;			/* a Random ID tag was enrolled */
	uint8_t ident_key[16];		/* its issuer's identification key */
	size_t cap;			/* bindings allocated; 0: just n */
};

/*
 * A missing file is an empty store. -EBADMSG names a corrupt store,
 * -EPERM one that is not ours or that group or others may access.
 */
int sectag_store_load(const char *path, struct sectag_store *s);
/*
 * The same in two steps, for a caller that keeps the file open to tell
 * later whether the store changed (sectagd): open it for reading
 * (O_NOFOLLOW; -ENOENT if missing), then load from @fd, at offset 0 and
 * left open, with the same checks of its owner, mode and contents.
 */
int sectag_store_open(const char *path);
int sectag_store_load_fd(int fd, struct sectag_store *s);
/* -EINVAL if a binding is invalid or ids repeat or reach next_id. */
int sectag_store_save(const char *path, const struct sectag_store *s);
/* Wipes secrets; @s is then an empty store. */
void sectag_store_free(struct sectag_store *s);

/*
 * Serialises load-modify-save cycles (flock on "@path.lock"). Returns
 * the lock's fd (close it to unlock) or a negative errno.
 */
int sectag_store_lock(const char *path);
/*
 * Append a copy of @b under a fresh id (never one used before in this
 * store, even by a removed binding); -EINVAL if the binding is invalid,
 * -EOVERFLOW when ids are exhausted.
 */
int sectag_store_add(struct sectag_store *s, const struct sectag_binding *b,
		     uint32_t *id);
struct sectag_binding *sectag_store_find(const struct sectag_store *s,
					 uint32_t id);
/* Remove (and wipe) binding @id; -ENOENT if there is none. */
int sectag_store_remove(struct sectag_store *s, uint32_t id);
/*
 * Keep identification key @key (Random ID tags). 0 if the store had none
 * or the same one; -EEXIST if it keeps another issuer's: the agent tries
 * only one identification key per tap, so one issuer per host may use
 * Random ID tags.
 */
int sectag_store_set_ident(struct sectag_store *s, const uint8_t key[16]);
/*
 * The binding indexes enrolled for tag @uid, in store order, into
 * *@idx (malloc'd, free() it): any number of bindings per tag.
 */
int sectag_store_find_uid(const struct sectag_store *s, const uint8_t uid[7],
			  size_t **idx, size_t *n);

/* "luks", "user", "name"; NULL for anything else. */
const char *sectag_binding_kind_name(enum sectag_binding_kind kind);
/*
 * NULL if @b may be stored, else why not. Text fields hold no
 * whitespace: LUKS targets are UUIDs, user names POSIX portable names,
 * labels and auto-open names [A-Za-z0-9._@+-], devices absolute paths;
 * LUKS bindings need keyslot and token 0..31, others -1 and no device.
 */
const char *sectag_binding_invalid(const struct sectag_binding *b);

/*
 * The secret of binding @b: HKDF-SHA256 over the tag's secret share
 * and the host secret, with the binding's kind and target as context:
 * ikm = share || host_secret, salt "sectag-v1", info "<kind>:<target>".
 * -ENOKEY for a tpm2 binding: its host secret must be unsealed first.
 */
int sectag_binding_secret(const struct sectag_binding *b,
			  const uint8_t share[32], uint8_t out[32]);
/* HKDF-SHA256 (RFC 5869) through OpenSSL's EVP_KDF, as used above. */
int sectag_hkdf_sha256(const uint8_t *ikm, size_t ikm_len,
		       const uint8_t *salt, size_t salt_len,
		       const uint8_t *info, size_t info_len,
		       uint8_t *out, size_t out_len);

/*
 * Key description in the kernel keyring: "sectag:luks:<uuid>" (a user
 * key, as cryptsetup's luks2-keyring token reads it), "sectag:user:<name>"
 * and "sectag:name:<label>" (logon keys, not readable back).
 */
int sectag_binding_key_desc(const struct sectag_binding *b, char *buf,
			    size_t size);

#endif
