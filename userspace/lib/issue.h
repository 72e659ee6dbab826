/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Issuing NTAG 424 DNA tags: the issuer key, the per-tag key hierarchy,
 * provisioning a virgin tag and verifying an issued one. The CLI, the
 * agent and the PAM module all go through these functions; see
 * Documentation/provisioning.md for the design.
 *
 * Key hierarchy: one 16-byte AES issuer key; each tag's keys K0..K3 are
 * AN10922 diversifications of it over UID || KeyNo || "sectag-v1":
 *
 *   K0  application master key: changes keys and file settings (issuer)
 *   K1  reserved (SDM)
 *   K2  read key of the secret file: what verify and the agent use
 *   K3  write key of the secret file
 *   K4  identification key: the same for every tag of one issuer,
 *       CMAC(issuer, 02 || "sectag-id-v1"); it opens nothing but a
 *       session in which GetCardUID tells a Random ID tag's real UID
 *
 * Issued keys carry key version 1 (K4: 2), factory keys version 0: the
 * state of a tag is read from its key versions without authenticating.
 * Tags issued before the identification key existed have K4 at version
 * 1 (a per-tag key): they work as before, but never with Random ID.
 *
 * Return values: 0, a negative errno, or (> 0) a status word the tag
 * answered that has no better meaning (see sectag_ntag_strerror()).
 * Errors with a meaning of their own:
 *   -EEXIST        provision: the tag is already issued with this issuer key
 *   -EKEYREJECTED  the tag refuses our keys: personalised by someone else,
 *                  or with another issuer key (or, for verify, not genuine)
 *   -ENOKEY        verify: the tag is not issued (key 0 is the factory key)
 *   -EMEDIUMTYPE   not an NTAG 424 DNA: no application D2760000850101
 *   -EOPNOTSUPP    Random ID hides the UID and neither the factory key 0
 *                  nor our identification key can read it
 *   -EBADMSG       a malformed answer or a wrong MAC
 *   -ENXIO, -EIO, -ETIMEDOUT... the tag was lost: run again
 * sectag_issue_strerror() words all of them.
 */
#ifndef SECTAG_ISSUE_H
#define SECTAG_ISSUE_H

#include <stdbool.h>
#include <stdint.h>

#include "ntag424.h"

#define SECTAG_ISSUER_KEY_LEN	16
#define SECTAG_SECRET_LEN	32
#define SECTAG_SECRET_FILE	SECTAG_NTAG_FILE_PROP
/* Key version of every issued key; factory keys have version 0. */
#define SECTAG_KEY_VERSION	1
/* Key version of K4 holding the issuer-wide identification key. */
#define SECTAG_IDENT_KEY_VERSION	2
/* Diversification label: bump it to start a new, incompatible scheme. */
#define SECTAG_DIV_LABEL	"sectag-v1"
/* Label of the identification key (input 02 || label, not per tag). */
#define SECTAG_IDENT_LABEL	"sectag-id-v1"

enum sectag_key_role {
	SECTAG_KEY_MASTER = 0,
	SECTAG_KEY_SDM = 1,
	SECTAG_KEY_READ = 2,
	SECTAG_KEY_WRITE = 3,
	SECTAG_KEY_IDENT = 4,
};

/* Flags of sectag_provision(). */
#define SECTAG_PROV_LOCK	0x1u	/* file 3 settings: change never */
#define SECTAG_PROV_RANDOM_ID	0x2u	/* enable Random ID (irreversible) */

/*
 * Issuer key file: one line of 32 hex digits, mode 0600. keygen writes a
 * fresh key atomically (temporary file, fsync, rename) and refuses an
 * existing @path (-EEXIST) unless @overwrite. load refuses a file that
 * group or others may access (-EPERM), one that is not a regular file or
 * not exactly one line of 32 hex digits (-EINVAL).
 */
int sectag_issuer_keygen(const char *path, bool overwrite);
int sectag_issuer_load(const char *path, uint8_t key[SECTAG_ISSUER_KEY_LEN]);
/* Text for an error of sectag_issuer_keygen() or sectag_issuer_load(). */
const char *sectag_issuer_strerror(int rc);

/* Key @keyno of the tag with UID @uid. Wipe @out after use. */
int sectag_tag_key(const uint8_t issuer[SECTAG_ISSUER_KEY_LEN],
		   const uint8_t uid[SECTAG_NTAG_UID_LEN], uint8_t keyno,
		   uint8_t out[SECTAG_NTAG_KEY_LEN]);

/*
 * The issuer-wide identification key: CMAC(issuer, 02 || "sectag-id-v1").
 * Not diversified per tag (the UID is what it finds out); the 02 keeps
 * its input apart from every per-tag key's (01 || UID || ...). Wipe @out.
 */
int sectag_ident_key(const uint8_t issuer[SECTAG_ISSUER_KEY_LEN],
		     uint8_t out[SECTAG_NTAG_KEY_LEN]);

/*
 * One authentication with the identification key @idkey (key 4), then
 * GetCardUID: the real UID of a Random ID tag. The application must be
 * selected. 0, -EKEYREJECTED when the tag refuses the key (another
 * issuer, an old-scheme tag, no tag of ours), -EBADMSG for an all-zero
 * or malformed UID. The session is dropped before returning.
 */
int sectag_tag_identify(struct sectag_ntag *t,
			const uint8_t idkey[SECTAG_NTAG_KEY_LEN],
			uint8_t uid[SECTAG_NTAG_UID_LEN]);

enum sectag_tag_state {
	SECTAG_TAG_VIRGIN,	/* factory keys (file 3 may hold anything) */
	SECTAG_TAG_PARTIAL,	/* provisioning interrupted: run it again */
	SECTAG_TAG_ISSUED,	/* key 0 changed to version 1 */
	SECTAG_TAG_FOREIGN,	/* personalised by someone else */
};

struct sectag_tag_info {
	enum sectag_tag_state state;
	/* ISSUED/FOREIGN was decided by authenticating with our K2 */
	bool verified;
	/* GetVersion showed no UID; @uid came from GetCardUID if known */
	bool random_id;
	/* K4 is at the identification key's version (2) */
	bool ident;
	/* file 3's settings can never change again (Change right "never") */
	bool locked;
	uint8_t uid[SECTAG_NTAG_UID_LEN];	/* zero when unknown */
	uint8_t key_ver[SECTAG_NTAG_NKEYS];
	struct sectag_ntag_version version;
	struct sectag_ntag_file file;		/* file 3 */
};

/*
 * Select the application and read GetVersion, the key versions and the
 * settings of file 3. With an @issuer key, an issued tag is checked by
 * authenticating with its K2 (FOREIGN if refused; the tag counts one
 * failed authentication); without, key versions decide. A Random ID tag
 * whose key 0 is still the factory key is authenticated with it to read
 * its UID; an issued one, with an @issuer, with the identification key.
 * May leave a session open on the tag.
 */
int sectag_tag_inspect(struct sectag_ntag *t, const uint8_t *issuer,
		       struct sectag_tag_info *info);
/* The same, for callers that only want the state and UID. */
int sectag_tag_state(struct sectag_ntag *t, const uint8_t *issuer,
		     enum sectag_tag_state *state,
		     uint8_t uid[SECTAG_NTAG_UID_LEN]);
const char *sectag_tag_state_name(enum sectag_tag_state state);

/* Called before each step of provisioning with a one-line description. */
typedef void (*sectag_progress_fn)(void *ctx, const char *step);

/*
 * Virgin or partial tag to issued tag: a fresh random secret in file 3
 * (Full mode, read K2, write K3), keys 1..3 changed to the tag's keys
 * with version 1, key 4 to the identification key with version 2, then
 * key 0; with SECTAG_PROV_LOCK the Change right of file 3 set to "never",
 * with SECTAG_PROV_RANDOM_ID Random ID enabled (both irreversible, both
 * before key 0 changes). Ends by reading the secret back with K2.
 * Interrupted at any frame, running it again finishes the job. A virgin
 * tag that already has Random ID is issued too (its factory key 0 tells
 * its UID). @flags: SECTAG_PROV_* (a bool "lock" still means LOCK).
 */
int sectag_provision(struct sectag_ntag *t,
		     const uint8_t issuer[SECTAG_ISSUER_KEY_LEN],
		     unsigned int flags, sectag_progress_fn progress,
		     void *ctx);

/*
 * Mutual authentication with the tag's K2, then read its secret. 0 means
 * the tag proved it holds the key derived for the UID it claims: genuine.
 * @uid (optional) gets that UID. Wipe @secret after use. A Random ID tag
 * (GetVersion shows an all-zero UID) is first identified with the
 * identification key: two authentications in all.
 */
int sectag_verify(struct sectag_ntag *t,
		  const uint8_t issuer[SECTAG_ISSUER_KEY_LEN],
		  uint8_t secret[SECTAG_SECRET_LEN],
		  uint8_t uid[SECTAG_NTAG_UID_LEN]);
/* The same; @random_id (optional) says whether the tag hid its UID. */
int sectag_verify_tag(struct sectag_ntag *t,
		      const uint8_t issuer[SECTAG_ISSUER_KEY_LEN],
		      uint8_t secret[SECTAG_SECRET_LEN],
		      uint8_t uid[SECTAG_NTAG_UID_LEN], bool *random_id);

/* Text for a return value of the tag functions above. */
const char *sectag_issue_strerror(int rc);

#endif
