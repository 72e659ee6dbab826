// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Issuing NTAG 424 DNA tags: issuer key files, per-tag keys, provisioning
 * and verification (see issue.h and Documentation/provisioning.md).
 *
 * Nothing a tag says before authentication is trusted with anything
 * irreversible: key versions and file settings read in plain only choose
 * the path; every key change proves the old key (ChangeKey's CRC is over
 * the new key recovered with the tag's own old key), and the UID the keys
 * derive from is re-read in a MACed session before the first key change.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "hex.h"
#include "fileio.h"
#include "issue.h"
#include "ntag424_sm.h"

#define KEY_LEN		SECTAG_NTAG_KEY_LEN
#define UID_LEN		SECTAG_NTAG_UID_LEN
#define NKEYS		SECTAG_NTAG_NKEYS
#define HEX_LEN		(2 * SECTAG_ISSUER_KEY_LEN)
#define LABEL_LEN	(sizeof(SECTAG_DIV_LABEL) - 1)
#define DIV_M_LEN	(UID_LEN + 1 + LABEL_LEN)

/* AN10922 as implemented by sectag_ntag_diversify() takes 16..31 bytes. */
_Static_assert(DIV_M_LEN >= 16 && DIV_M_LEN <= 31,
	       "diversification input out of range");

static const uint8_t factory_key[KEY_LEN];

/* ---------------------------------------------------------------------- */
/* Issuer key file                                                        */

/* Exactly 32 hex digits, optionally followed by one newline. */
static int parse_key_line(const char *s, size_t n, uint8_t *key)
{
	if (n == HEX_LEN + 1 && s[HEX_LEN] == '\n')
		n--;
	return sectag_unhex(s, n, key, SECTAG_ISSUER_KEY_LEN, false);
}

/* Reads until EOF or @size bytes; a full buffer means "too long". */
static int read_upto(int fd, char *buf, size_t size, size_t *n)
{
	ssize_t r;

	*n = 0;
	while (*n < size) {
		r = read(fd, buf + *n, size - *n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -errno;
		if (r == 0)
			return 0;
		*n += (size_t)r;
	}
	return -EINVAL;
}

int sectag_issuer_load(const char *path, uint8_t key[SECTAG_ISSUER_KEY_LEN])
{
	char buf[HEX_LEN + 2];
	struct stat st;
	size_t n = 0;
	int fd, rc;

	if (!path || !key)
		return -EINVAL;
	/* O_NONBLOCK: a FIFO planted as the key file must not hang us. */
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st))
		rc = -errno;
	else if (!S_ISREG(st.st_mode))
		rc = -EINVAL;
	else if (st.st_mode & (S_IRWXG | S_IRWXO))
		rc = -EPERM;	/* a key others can read is no secret */
	else
		rc = read_upto(fd, buf, sizeof(buf), &n);
	close(fd);
	if (!rc)
		rc = parse_key_line(buf, n, key);
	if (rc)
		OPENSSL_cleanse(key, SECTAG_ISSUER_KEY_LEN);
	OPENSSL_cleanse(buf, sizeof(buf));
	return rc;
}

/* A fresh key as one hex line into the open temporary file, synced. */
static int write_new_key(int fd)
{
	uint8_t key[SECTAG_ISSUER_KEY_LEN];
	char line[HEX_LEN + 2];
	int rc;

	if (fchmod(fd, 0600))
		return -errno;
	if (RAND_priv_bytes(key, sizeof(key)) != 1)
		return -EIO;
	sectag_hex(line, key, sizeof(key), false);
	line[HEX_LEN] = '\n';
	rc = sectag_write_all(fd, line, HEX_LEN + 1);
	if (!rc && fsync(fd))
		rc = -errno;
	OPENSSL_cleanse(key, sizeof(key));
	OPENSSL_cleanse(line, sizeof(line));
	return rc;
}

/* Moves @tmp to @path; without @overwrite an existing @path is kept. */
static int publish(const char *tmp, const char *path, bool overwrite)
{
	if (overwrite)
		return rename(tmp, path) ? -errno : 0;
	if (!renameat2(AT_FDCWD, tmp, AT_FDCWD, path, RENAME_NOREPLACE))
		return 0;
	if (errno != EINVAL && errno != ENOSYS)
		return -errno;
	/* File systems without RENAME_NOREPLACE: link() never replaces. */
	if (link(tmp, path))
		return -errno;
	unlink(tmp);
	return 0;
}

int sectag_issuer_keygen(const char *path, bool overwrite)
{
	struct stat st;
	char *tmp;
	int fd, rc;

	if (!path || !*path)
		return -EINVAL;
	if (!overwrite && !lstat(path, &st))
		return -EEXIST;
	if (asprintf(&tmp, "%s.XXXXXX", path) < 0)
		return -ENOMEM;
	/* mkostemp creates the file 0600 whatever the umask. */
	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0) {
		rc = -errno;
		free(tmp);
		return rc;
	}
	rc = write_new_key(fd);
	if (close(fd) && !rc)
		rc = -errno;
	if (!rc)
		rc = publish(tmp, path, overwrite);
	if (rc)
		unlink(tmp);
	else
		rc = sectag_sync_dir(path);
	free(tmp);
	return rc;
}

const char *sectag_issuer_strerror(int rc)
{
	switch (rc) {
	case -EPERM:
		return "group or others may access the key file (chmod 600 it)";
	case -EINVAL:
		return "not an issuer key file (one line of 32 hex digits "
		       "expected)";
	case -EEXIST:
		return "the file exists; refusing to overwrite it";
	default:
		return strerror(rc < 0 ? -rc : rc);
	}
}

/* ---------------------------------------------------------------------- */
/* Key hierarchy                                                          */

int sectag_tag_key(const uint8_t issuer[SECTAG_ISSUER_KEY_LEN],
		   const uint8_t uid[SECTAG_NTAG_UID_LEN], uint8_t keyno,
		   uint8_t out[SECTAG_NTAG_KEY_LEN])
{
	uint8_t m[DIV_M_LEN];

	if (!issuer || !uid || !out || keyno >= NKEYS)
		return -EINVAL;
	memcpy(m, uid, UID_LEN);
	m[UID_LEN] = keyno;
	memcpy(m + UID_LEN + 1, SECTAG_DIV_LABEL, LABEL_LEN);
	return sectag_ntag_diversify(issuer, m, sizeof(m), out);
}

int sectag_ident_key(const uint8_t issuer[SECTAG_ISSUER_KEY_LEN],
		     uint8_t out[SECTAG_NTAG_KEY_LEN])
{
	uint8_t m[1 + sizeof(SECTAG_IDENT_LABEL) - 1] = { 0x02 };

	if (!issuer || !out)
		return -EINVAL;
	memcpy(m + 1, SECTAG_IDENT_LABEL, sizeof(m) - 1);
	return sm_cmac(issuer, m, sizeof(m), out);
}

/* The keys provisioning writes: K0..K3 per tag, K4 the issuer's. */
static int tag_keys(const uint8_t *issuer, const uint8_t *uid,
		    uint8_t keys[NKEYS][KEY_LEN])
{
	int k, rc = 0;

	for (k = 0; !rc && k < SECTAG_KEY_IDENT; k++)
		rc = sectag_tag_key(issuer, uid, (uint8_t)k, keys[k]);
	if (!rc)
		rc = sectag_ident_key(issuer, keys[SECTAG_KEY_IDENT]);
	return rc;
}

/* ---------------------------------------------------------------------- */
/* Tag state                                                              */

static bool all_zero(const uint8_t *p, size_t n)
{
	uint8_t acc = 0;

	while (n--)
		acc |= *p++;
	return !acc;
}

/* A tag that is not an NTAG 424 DNA has no such application. */
static int select_app(struct sectag_ntag *t)
{
	int rc = sectag_ntag_select_app(t);

	return rc == 0x6A82 ? -EMEDIUMTYPE : rc;
}

/* The settings provisioning gives file 3 (Change: key 0 or never). */
static bool file_is_ours(const struct sectag_ntag_file *f)
{
	return f->type == 0 && !f->sdm && f->mode == SECTAG_NTAG_FULL &&
	       f->read == SECTAG_KEY_READ && f->write == SECTAG_KEY_WRITE &&
	       f->read_write == SECTAG_KEY_WRITE &&
	       (f->change == SECTAG_KEY_MASTER ||
		f->change == SECTAG_NTAG_ACCESS_NEVER) &&
	       f->size >= SECTAG_SECRET_LEN;
}

/* The highest version key @k has when we set it (K4: 1 in old tags). */
static uint8_t max_version(int k)
{
	return k == SECTAG_KEY_IDENT ? SECTAG_IDENT_KEY_VERSION :
	       SECTAG_KEY_VERSION;
}

/*
 * Key 0 changes last, so its version says "issued"; any other key at
 * version 1 (K4: 1 or 2) with key 0 still factory means an interrupted
 * provisioning. Versions we never set, or file settings the factory and
 * we never give, mean someone else personalised the tag.
 */
static enum sectag_tag_state classify(const struct sectag_tag_info *i)
{
	bool any = false;
	int k;

	if (i->key_ver[0] == SECTAG_KEY_VERSION)
		return SECTAG_TAG_ISSUED;
	if (i->key_ver[0] != 0)
		return SECTAG_TAG_FOREIGN;
	for (k = 1; k < NKEYS; k++) {
		if (i->key_ver[k] > max_version(k))
			return SECTAG_TAG_FOREIGN;
		any |= i->key_ver[k] != 0;
	}
	if (!file_is_ours(&i->file))
		return SECTAG_TAG_FOREIGN;
	return any ? SECTAG_TAG_PARTIAL : SECTAG_TAG_VIRGIN;
}

/* Random ID: the factory key 0 still opens GetCardUID. */
static int random_id_uid(struct sectag_ntag *t, struct sectag_tag_info *info)
{
	int rc = sectag_ntag_auth(t, SECTAG_KEY_MASTER, factory_key);

	if (rc == SECTAG_SW_AUTH_ERROR) {
		/* Key 0 changed with its version left at 0: not our doing. */
		info->state = SECTAG_TAG_FOREIGN;
		return 0;
	}
	if (!rc)
		rc = sectag_ntag_get_card_uid(t, info->uid);
	return rc;
}

int sectag_tag_identify(struct sectag_ntag *t,
			const uint8_t idkey[SECTAG_NTAG_KEY_LEN],
			uint8_t uid[SECTAG_NTAG_UID_LEN])
{
	int rc;

	if (!t || !idkey || !uid)
		return -EINVAL;
	rc = sectag_ntag_auth(t, SECTAG_KEY_IDENT, idkey);
	if (rc == SECTAG_SW_AUTH_ERROR)
		rc = -EKEYREJECTED;
	if (!rc)
		rc = sectag_ntag_get_card_uid(t, uid);
	/* A real UID is never zero: a tag (or relay) saying so lies. */
	if (!rc && all_zero(uid, UID_LEN))
		rc = -EBADMSG;
	sectag_ntag_logout(t);
	if (rc)
		memset(uid, 0, UID_LEN);
	return rc;
}

/*
 * An issued Random ID tag: our identification key tells its UID, or the
 * tag is not ours (another issuer, or an old-scheme K4: see classify()).
 */
static int random_id_issued(struct sectag_ntag *t, const uint8_t *issuer,
			    struct sectag_tag_info *info)
{
	uint8_t idkey[KEY_LEN];
	int rc;

	if (!info->ident)
		return 0;	/* the UID stays unknown */
	rc = sectag_ident_key(issuer, idkey);
	if (!rc)
		rc = sectag_tag_identify(t, idkey, info->uid);
	OPENSSL_cleanse(idkey, sizeof(idkey));
	if (rc == -EKEYREJECTED) {
		info->state = SECTAG_TAG_FOREIGN;
		info->verified = true;
		rc = 0;
	}
	return rc;
}

/* Issued by us exactly when our K2 opens it (K2, not K0: no brick risk). */
static int check_ours(struct sectag_ntag *t, const uint8_t *issuer,
		      struct sectag_tag_info *info)
{
	uint8_t k2[KEY_LEN];
	int rc;

	rc = sectag_tag_key(issuer, info->uid, SECTAG_KEY_READ, k2);
	if (!rc)
		rc = sectag_ntag_auth(t, SECTAG_KEY_READ, k2);
	OPENSSL_cleanse(k2, sizeof(k2));
	if (rc == SECTAG_SW_AUTH_ERROR) {
		info->state = SECTAG_TAG_FOREIGN;
		rc = 0;
	}
	if (!rc)
		info->verified = true;
	return rc;
}

static int read_info(struct sectag_ntag *t, struct sectag_tag_info *info)
{
	int k, rc;

	rc = select_app(t);
	if (!rc)
		rc = sectag_ntag_get_version(t, &info->version);
	for (k = 0; !rc && k < NKEYS; k++)
		rc = sectag_ntag_get_key_version(t, (uint8_t)k,
						 &info->key_ver[k]);
	if (!rc)
		rc = sectag_ntag_get_file_settings(t, SECTAG_SECRET_FILE,
						   &info->file);
	return rc;
}

int sectag_tag_inspect(struct sectag_ntag *t, const uint8_t *issuer,
		       struct sectag_tag_info *info)
{
	bool open;
	int rc;

	if (!t || !info)
		return -EINVAL;
	memset(info, 0, sizeof(*info));
	rc = read_info(t, info);
	if (rc)
		return rc;
	memcpy(info->uid, info->version.uid, UID_LEN);
	info->random_id = all_zero(info->uid, UID_LEN);
	info->locked = info->file.change == SECTAG_NTAG_ACCESS_NEVER;
	info->ident = info->key_ver[SECTAG_KEY_IDENT] ==
		      SECTAG_IDENT_KEY_VERSION;
	info->state = classify(info);
	open = info->state == SECTAG_TAG_VIRGIN ||
	       info->state == SECTAG_TAG_PARTIAL;
	if (info->random_id && open)
		rc = random_id_uid(t, info);
	else if (info->random_id && issuer &&
		 info->state == SECTAG_TAG_ISSUED)
		rc = random_id_issued(t, issuer, info);
	if (!rc && issuer && info->state == SECTAG_TAG_ISSUED &&
	    !all_zero(info->uid, UID_LEN))
		rc = check_ours(t, issuer, info);
	return rc;
}

int sectag_tag_state(struct sectag_ntag *t, const uint8_t *issuer,
		     enum sectag_tag_state *state,
		     uint8_t uid[SECTAG_NTAG_UID_LEN])
{
	struct sectag_tag_info info;
	int rc;

	if (!state)
		return -EINVAL;
	rc = sectag_tag_inspect(t, issuer, &info);
	if (rc)
		return rc;
	*state = info.state;
	if (uid)
		memcpy(uid, info.uid, UID_LEN);
	return 0;
}

const char *sectag_tag_state_name(enum sectag_tag_state state)
{
	switch (state) {
	case SECTAG_TAG_VIRGIN:
		return "virgin";
	case SECTAG_TAG_PARTIAL:
		return "partial";
	case SECTAG_TAG_ISSUED:
		return "issued";
	case SECTAG_TAG_FOREIGN:
		return "foreign";
	}
	return "unknown";
}

/* ---------------------------------------------------------------------- */
/* Provisioning                                                           */

struct prov {
	struct sectag_ntag *t;
	bool lock, random_id;
	sectag_progress_fn progress;
	void *ctx;
	const uint8_t *issuer;
	struct sectag_tag_info info;
	uint8_t keys[NKEYS][KEY_LEN];
	uint8_t secret[SECTAG_SECRET_LEN];
};

__attribute__((format(printf, 2, 3)))
static void step(struct prov *p, const char *fmt, ...)
{
	char msg[160];
	va_list ap;

	if (!p->progress)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	p->progress(p->ctx, msg);
}

/* A refused authentication means the key is not the one we expect. */
static int auth(struct sectag_ntag *t, uint8_t keyno, const uint8_t *key)
{
	int rc = sectag_ntag_auth(t, keyno, key);

	return rc == SECTAG_SW_AUTH_ERROR ? -EKEYREJECTED : rc;
}

static int prov_admit(struct prov *p)
{
	char uid[2 * UID_LEN + 1];

	sectag_hex(uid, p->info.uid, UID_LEN, true);
	/* Random ID and no way to its UID (foreign, or an old-scheme K4) */
	if (p->info.random_id && all_zero(p->info.uid, UID_LEN))
		return p->info.state == SECTAG_TAG_FOREIGN ? -EKEYREJECTED :
		       -EOPNOTSUPP;
	switch (p->info.state) {
	case SECTAG_TAG_VIRGIN:
		step(p, "tag %s: virgin%s", uid,
		     p->info.random_id ? " (Random ID already on)" : "");
		return 0;
	case SECTAG_TAG_PARTIAL:
		step(p, "tag %s: partially provisioned%s, resuming", uid,
		     p->info.random_id ? " (Random ID already on)" : "");
		return 0;
	case SECTAG_TAG_ISSUED:
		return p->info.verified ? -EEXIST : -EKEYREJECTED;
	default:
		return -EKEYREJECTED;
	}
}

/*
 * The secret goes in first, under key 3 (factory, or ours if an earlier
 * run changed it): until key 0 changes nobody can rely on it, so
 * rewriting it on every run is harmless.
 */
static int prov_secret(struct prov *p)
{
	bool ours = p->info.key_ver[SECTAG_KEY_WRITE] == SECTAG_KEY_VERSION;
	int rc;

	step(p, "writing a fresh random secret to file 3 (Full mode) with %s "
	     "key 3", ours ? "our" : "the factory");
	if (RAND_priv_bytes(p->secret, sizeof(p->secret)) != 1)
		return -EIO;
	rc = auth(p->t, SECTAG_KEY_WRITE,
		  ours ? p->keys[SECTAG_KEY_WRITE] : factory_key);
	if (!rc)
		rc = sectag_ntag_write(p->t, SECTAG_SECRET_FILE,
				       SECTAG_NTAG_FULL, 0, p->secret,
				       sizeof(p->secret));
	return rc;
}

/*
 * In the factory key-0 session: make sure the UID our keys derive from
 * is the tag's (GetVersion is not MACed, GetCardUID is) before anything
 * irreversible happens.
 */
static int prov_master_session(struct prov *p)
{
	uint8_t uid[UID_LEN];
	int rc;

	step(p, "authenticating with the factory key 0");
	rc = auth(p->t, SECTAG_KEY_MASTER, factory_key);
	if (!rc)
		rc = sectag_ntag_get_card_uid(p->t, uid);
	if (!rc && memcmp(uid, p->info.uid, UID_LEN))
		rc = -EBADMSG;
	return rc;
}

/*
 * Keys 1..4. One already at its version is "changed" again from our key
 * to our key: a no-op that the tag accepts only if it really holds our
 * key (the CRC covers the new key recovered with the tag's old one), so
 * a half-provisioned tag of another issuer key is never finished. K4 at
 * version 1 is the per-tag K4 of an older run: replaced by the
 * identification key.
 */
static int prov_keys(struct prov *p)
{
	uint8_t legacy[KEY_LEN];
	const uint8_t *old;
	uint8_t ver;
	bool done;
	int k, rc = 0;

	for (k = 1; !rc && k < NKEYS; k++) {
		ver = max_version(k);
		done = p->info.key_ver[k] == ver;
		old = done ? p->keys[k] : factory_key;
		if (k == SECTAG_KEY_IDENT &&
		    p->info.key_ver[k] == SECTAG_KEY_VERSION) {
			rc = sectag_tag_key(p->issuer, p->info.uid, (uint8_t)k,
					    legacy);
			old = legacy;
			step(p, "key 4 is a per-tag key: changing it to the "
			     "identification key");
		} else {
			step(p, done ? "key %d already changed: confirming it" :
				       "changing key %d", k);
		}
		if (!rc)
			rc = sectag_ntag_change_key(p->t, (uint8_t)k, old,
						    p->keys[k], ver);
		if (rc == SECTAG_SW_INTEGRITY_ERROR)
			rc = -EKEYREJECTED;
	}
	OPENSSL_cleanse(legacy, sizeof(legacy));
	return rc;
}

/*
 * Random ID, in the factory key-0 session before key 0 changes: cut
 * before it, the next run enables it; cut after, the next run finds it
 * on (GetVersion shows no UID after the power cycle) and the factory
 * key 0 still tells the UID.
 */
static int prov_random_id(struct prov *p)
{
	if (!p->random_id)
		return 0;
	if (p->info.random_id) {
		step(p, "Random ID is already on");
		return 0;
	}
	step(p, "enabling Random ID (irreversible; from the next tap on)");
	return sectag_ntag_enable_random_id(p->t);
}

/*
 * File 3 settings, read again MACed in the key-0 session: the plain
 * read that classified the tag could have been tampered with, and
 * "already locked" must not be believed on its word.
 */
static int prov_file(struct prov *p)
{
	struct sectag_ntag_file f;
	int rc;

	rc = sectag_ntag_get_file_settings(p->t, SECTAG_SECRET_FILE, &f);
	if (rc)
		return rc;
	if (!file_is_ours(&f))
		return -EKEYREJECTED;
	if (f.change == SECTAG_NTAG_ACCESS_NEVER) {
		step(p, p->lock ? "file 3 is already locked" :
		     "file 3 was locked by an earlier run: it stays locked");
		return 0;
	}
	if (!p->lock)
		return 0;	/* factory settings are the issued ones */
	step(p, "locking the settings of file 3 (Change right: never)");
	f.change = SECTAG_NTAG_ACCESS_NEVER;
	return sectag_ntag_change_file_settings(p->t, SECTAG_SECRET_FILE, &f);
}

/* Read the secret back the way verify will: proves K2 and the data. */
static int prov_check(struct prov *p)
{
	uint8_t back[SECTAG_SECRET_LEN];
	int rc;

	step(p, "checking: authenticating with key 2, reading the secret back");
	rc = auth(p->t, SECTAG_KEY_READ, p->keys[SECTAG_KEY_READ]);
	if (!rc)
		rc = sectag_ntag_read(p->t, SECTAG_SECRET_FILE,
				      SECTAG_NTAG_FULL, 0, back, sizeof(back));
	if (!rc && CRYPTO_memcmp(back, p->secret, sizeof(back)))
		rc = -EIO;
	OPENSSL_cleanse(back, sizeof(back));
	return rc;
}

static int prov_run(struct prov *p, const uint8_t *issuer)
{
	int rc;

	rc = sectag_tag_inspect(p->t, issuer, &p->info);
	if (!rc)
		rc = prov_admit(p);
	if (!rc)
		rc = tag_keys(issuer, p->info.uid, p->keys);
	if (!rc)
		rc = prov_secret(p);
	if (!rc)
		rc = prov_master_session(p);
	if (!rc)
		rc = prov_keys(p);
	if (!rc)
		rc = prov_file(p);
	if (!rc)
		rc = prov_random_id(p);
	if (rc)
		return rc;
	/* Last: from here on only the issuer can change anything. */
	step(p, "changing key 0 (application master key)");
	rc = sectag_ntag_change_key(p->t, SECTAG_KEY_MASTER, NULL,
				    p->keys[SECTAG_KEY_MASTER],
				    SECTAG_KEY_VERSION);
	if (!rc)
		rc = prov_check(p);
	return rc;
}

int sectag_provision(struct sectag_ntag *t,
		     const uint8_t issuer[SECTAG_ISSUER_KEY_LEN],
		     unsigned int flags, sectag_progress_fn progress,
		     void *ctx)
{
	struct prov p = { .t = t, .lock = flags & SECTAG_PROV_LOCK,
			  .random_id = flags & SECTAG_PROV_RANDOM_ID,
			  .progress = progress, .ctx = ctx, .issuer = issuer };
	int rc;

	if (!t || !issuer ||
	    (flags & ~(SECTAG_PROV_LOCK | SECTAG_PROV_RANDOM_ID)))
		return -EINVAL;
	rc = prov_run(&p, issuer);
	OPENSSL_cleanse(&p, sizeof(p));
	return rc;
}

/* ---------------------------------------------------------------------- */
/* Verification                                                           */

/* After a refused K2: is the tag simply not issued? (plain, no session) */
static int refusal(struct sectag_ntag *t)
{
	uint8_t v;

	if (!sectag_ntag_get_key_version(t, SECTAG_KEY_MASTER, &v) && !v)
		return -ENOKEY;
	return -EKEYREJECTED;
}

/* Random ID: the identification key (one authentication) tells the UID. */
static int verify_identify(struct sectag_ntag *t, const uint8_t *issuer,
			   uint8_t *uid)
{
	uint8_t idkey[KEY_LEN];
	int rc;

	rc = sectag_ident_key(issuer, idkey);
	if (!rc)
		rc = sectag_tag_identify(t, idkey, uid);
	OPENSSL_cleanse(idkey, sizeof(idkey));
	if (rc == -EKEYREJECTED)
		rc = refusal(t);
	return rc;
}

int sectag_verify(struct sectag_ntag *t,
		  const uint8_t issuer[SECTAG_ISSUER_KEY_LEN],
		  uint8_t secret[SECTAG_SECRET_LEN],
		  uint8_t uid[SECTAG_NTAG_UID_LEN])
{
	return sectag_verify_tag(t, issuer, secret, uid, NULL);
}

int sectag_verify_tag(struct sectag_ntag *t,
		      const uint8_t issuer[SECTAG_ISSUER_KEY_LEN],
		      uint8_t secret[SECTAG_SECRET_LEN],
		      uint8_t uid[SECTAG_NTAG_UID_LEN], bool *random_id)
{
	struct sectag_ntag_version v;
	uint8_t k2[KEY_LEN];
	bool rid = false;
	int rc;

	if (!t || !issuer || !secret)
		return -EINVAL;
	rc = select_app(t);
	if (!rc)
		rc = sectag_ntag_get_version(t, &v);
	if (!rc && all_zero(v.uid, UID_LEN)) {
		rid = true;
		rc = verify_identify(t, issuer, v.uid);
	}
	if (random_id)
		*random_id = rid;
	if (!rc && uid)
		memcpy(uid, v.uid, UID_LEN);
	if (!rc)
		rc = sectag_tag_key(issuer, v.uid, SECTAG_KEY_READ, k2);
	if (!rc)
		rc = sectag_ntag_auth(t, SECTAG_KEY_READ, k2);
	OPENSSL_cleanse(k2, sizeof(k2));
	if (rc == SECTAG_SW_AUTH_ERROR)
		rc = refusal(t);
	if (!rc)
		rc = sectag_ntag_read(t, SECTAG_SECRET_FILE, SECTAG_NTAG_FULL,
				      0, secret, SECTAG_SECRET_LEN);
	/* Never hand out a partial or unauthenticated secret. */
	if (rc)
		OPENSSL_cleanse(secret, SECTAG_SECRET_LEN);
	return rc;
}

const char *sectag_issue_strerror(int rc)
{
	switch (rc) {
	case -EEXIST:
		return "the tag is already issued with this issuer key";
	case -EKEYREJECTED:
		return "the tag refuses our keys: personalised by someone "
		       "else or with another issuer key";
	case -ENOKEY:
		return "the tag is not issued (it still has its factory key 0)";
	case -EMEDIUMTYPE:
		return "not an NTAG 424 DNA (no application D2760000850101)";
	case -EOPNOTSUPP:
		return "Random ID tag: the UID its keys derive from cannot be "
		       "read (issued without the identification key)";
	case -ENXIO:
	case -ENOTCONN:
		return "the tag was lost (moved away from the reader?)";
	case -ETIMEDOUT:
		return "the tag did not answer in time";
	case SECTAG_SW_PERMISSION_DENIED:
		return "the tag refused: permission denied (key locked after "
		       "too many failed authentications, or settings locked)";
	default:
		return sectag_ntag_strerror(rc);
	}
}
