// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The enrolment store (see store.h). One text line per binding, so an
 * administrator can read it and a diff shows what changed:
 *
 *   sectag-store 1
 *   next-id 4
 *   binding id=1 kind=luks target=<uuid> device=/dev/sdb2 auto-open=
 *           keyslot=1 token=0 uid=<14 hex> read-key=<32 hex>
 *           host-secret=<64 hex>
 *
 * (one line per binding, fields in exactly this order, single spaces).
 * A store keeping an identification key (Random ID tags) is version 2
 * and has one more line, right after next-id:
 *
 *   ident-key <32 hex>
 *
 * Stores without one stay version 1, byte for byte as before.
 *
 * A LUKS binding whose host secret the TPM seals (bind tpm2) has
 * "host-secret=tpm2": the secret is in the volume's token, sealed.
 * Strings never need escaping: what a field may hold is restricted to
 * characters without whitespace (sectag_binding_invalid()), on save as
 * on load. Anything else is a corrupt store: -EBADMSG.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>

#include "hex.h"
#include "fileio.h"
#include "store.h"

#define HEADER		"sectag-store 1"
#define HEADER_IDENT	"sectag-store 2"	/* with an ident-key line */
#define MAX_STORE	(1 << 20)	/* far more than any real store */
#define LINE_MAX_LEN	1024		/* a binding line, with margin */
#define LUKS_MAX_SLOT	31		/* LUKS2: 32 keyslots, 32 tokens */
#define HKDF_SALT	"sectag-v1"

static const char *const kind_names[] = {
	[SECTAG_BIND_LUKS] = "luks",
	[SECTAG_BIND_USER] = "user",
	[SECTAG_BIND_NAME] = "name",
};

const char *sectag_binding_kind_name(enum sectag_binding_kind kind)
{
	if (kind < SECTAG_BIND_LUKS || kind > SECTAG_BIND_NAME)
		return NULL;
	return kind_names[kind];
}

/* ---------------------------------------------------------------------- */
/* Validation                                                             */

/* NUL-terminated within @size, and @min..size-1 characters long. */
static bool str_len_ok(const char *s, size_t size, size_t min)
{
	size_t n = strnlen(s, size);

	return n < size && n >= min;
}

static bool all_in(const char *s, const char *extra)
{
	for (; *s; s++) {
		if ((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		    (*s >= '0' && *s <= '9'))
			continue;
		if (!strchr(extra, *s))
			return false;
	}
	return true;
}

/* 8-4-4-4-12 hex digits, as LUKS2 headers and blkid spell UUIDs. */
static bool uuid_ok(const char *s)
{
	size_t i;

	if (strnlen(s, 37) != 36)
		return false;
	for (i = 0; i < 36; i++) {
		bool dash = i == 8 || i == 13 || i == 18 || i == 23;

		if (dash ? s[i] != '-' :
		    !((s[i] >= '0' && s[i] <= '9') ||
		      (s[i] >= 'a' && s[i] <= 'f') ||
		      (s[i] >= 'A' && s[i] <= 'F')))
			return false;
	}
	return true;
}

/* The portable user names of POSIX, plus Samba's trailing '$'. */
static bool user_ok(const char *s)
{
	size_t n = strlen(s);
	char name[33];

	if (n < 1 || n > 32 || s[0] == '-')
		return false;
	if (s[n - 1] == '$')
		n--;
	memcpy(name, s, n);
	name[n] = 0;
	return n > 0 && all_in(name, "._-");
}

static bool label_ok(const char *s)
{
	return *s && *s != '-' && strlen(s) <= 64 && all_in(s, "._@+-");
}

/* An absolute path of visible ASCII: no whitespace, nothing to escape. */
static bool path_ok(const char *s)
{
	if (*s != '/')
		return false;
	for (; *s; s++)
		if (*s <= ' ' || *s > '~')
			return false;
	return true;
}

/* A device-mapper name we are willing to create. */
static bool dm_name_ok(const char *s)
{
	return *s && strcmp(s, ".") && strcmp(s, "..") && all_in(s, "._+-");
}

static const char *target_invalid(const struct sectag_binding *b)
{
	switch (b->kind) {
	case SECTAG_BIND_LUKS:
		return uuid_ok(b->target) ? NULL :
		       "LUKS target is not a UUID (8-4-4-4-12 hex digits)";
	case SECTAG_BIND_USER:
		return user_ok(b->target) ? NULL :
		       "user name must be 1-32 of [A-Za-z0-9._-] (optionally "
		       "ending in '$'), not starting with '-'";
	case SECTAG_BIND_NAME:
		return label_ok(b->target) ? NULL :
		       "label must be 1-64 of [A-Za-z0-9._@+-], not starting "
		       "with '-'";
	}
	return "unknown binding kind";
}

static const char *luks_invalid(const struct sectag_binding *b)
{
	static const uint8_t zero[sizeof(b->host_secret)];

	if (b->tpm2 && memcmp(b->host_secret, zero, sizeof(zero)))
		return "a tpm2 binding keeps no host secret (the TPM seals it)";
	if (!path_ok(b->device))
		return "device must be an absolute path without whitespace";
	if (b->auto_open[0] && !dm_name_ok(b->auto_open))
		return "auto-open name must be of [A-Za-z0-9._+-]";
	if (b->keyslot < 0 || b->keyslot > LUKS_MAX_SLOT ||
	    b->token < 0 || b->token > LUKS_MAX_SLOT)
		return "keyslot and token must be 0-31";
	return NULL;
}

static const char *other_invalid(const struct sectag_binding *b)
{
	if (b->tpm2)
		return "only LUKS bindings are sealed to a TPM";
	if (b->device[0] || b->auto_open[0])
		return "only LUKS bindings have a device or an auto-open name";
	if (b->keyslot != -1 || b->token != -1)
		return "only LUKS bindings have a keyslot or a token";
	return NULL;
}

const char *sectag_binding_invalid(const struct sectag_binding *b)
{
	static const uint8_t zero_uid[sizeof(b->uid)];
	const char *why;

	if (!sectag_binding_kind_name(b->kind))
		return "unknown binding kind";
	if (!b->id)
		return "binding id 0";
	if (!str_len_ok(b->target, sizeof(b->target), 1) ||
	    !str_len_ok(b->device, sizeof(b->device), 0) ||
	    !str_len_ok(b->auto_open, sizeof(b->auto_open), 0))
		return "a text field is too long";
	why = target_invalid(b);
	if (!why)
		why = b->kind == SECTAG_BIND_LUKS ? luks_invalid(b) :
		      other_invalid(b);
	if (!why && !memcmp(b->uid, zero_uid, sizeof(zero_uid)))
		why = "UID is all zero";
	return why;
}

/* Every binding valid, ids unique and below next_id. */
static int store_valid(const struct sectag_store *s)
{
	size_t i, j;

	if (!s->next_id || (s->n && !s->b))
		return -EINVAL;
	for (i = 0; i < s->n; i++) {
		if (sectag_binding_invalid(&s->b[i]) ||
		    s->b[i].id >= s->next_id)
			return -EINVAL;
		for (j = 0; j < i; j++)
			if (s->b[j].id == s->b[i].id)
				return -EINVAL;
	}
	return 0;
}

/* ---------------------------------------------------------------------- */
/* Parsing                                                                */

/* We write lower case: anything else is corruption. */
static int parse_hex(const char *v, size_t n, uint8_t *out, size_t len)
{
	return sectag_unhex(v, n, out, len, true) ? -EBADMSG : 0;
}

/* Canonical decimal: no sign, no leading zero, at most @max. */
static int parse_uint(const char *v, size_t n, uint32_t max, uint32_t *out)
{
	uint64_t x = 0;
	size_t i;

	if (!n || n > 10 || (v[0] == '0' && n > 1))
		return -EBADMSG;
	for (i = 0; i < n; i++) {
		if (v[i] < '0' || v[i] > '9')
			return -EBADMSG;
		x = x * 10 + (uint64_t)(v[i] - '0');
	}
	if (x > max)
		return -EBADMSG;
	*out = (uint32_t)x;
	return 0;
}

/* A keyslot or token number, or -1 for "none". */
static int parse_slot(const char *v, size_t n, int *out)
{
	uint32_t x;

	if (n == 2 && !memcmp(v, "-1", 2)) {
		*out = -1;
		return 0;
	}
	if (parse_uint(v, n, LUKS_MAX_SLOT, &x))
		return -EBADMSG;
	*out = (int)x;
	return 0;
}

static int parse_str(const char *v, size_t n, char *out, size_t size)
{
	if (n >= size || memchr(v, 0, n))
		return -EBADMSG;
	memcpy(out, v, n);
	out[n] = 0;
	return 0;
}

static int f_id(const char *v, size_t n, struct sectag_binding *b)
{
	return parse_uint(v, n, UINT32_MAX, &b->id);
}

static int f_kind(const char *v, size_t n, struct sectag_binding *b)
{
	int k;

	for (k = SECTAG_BIND_LUKS; k <= SECTAG_BIND_NAME; k++) {
		if (strlen(kind_names[k]) == n && !memcmp(v, kind_names[k], n)) {
			b->kind = (enum sectag_binding_kind)k;
			return 0;
		}
	}
	return -EBADMSG;
}

static int f_target(const char *v, size_t n, struct sectag_binding *b)
{
	return parse_str(v, n, b->target, sizeof(b->target));
}

static int f_device(const char *v, size_t n, struct sectag_binding *b)
{
	return parse_str(v, n, b->device, sizeof(b->device));
}

static int f_auto_open(const char *v, size_t n, struct sectag_binding *b)
{
	return parse_str(v, n, b->auto_open, sizeof(b->auto_open));
}

static int f_keyslot(const char *v, size_t n, struct sectag_binding *b)
{
	return parse_slot(v, n, &b->keyslot);
}

static int f_token(const char *v, size_t n, struct sectag_binding *b)
{
	return parse_slot(v, n, &b->token);
}

static int f_uid(const char *v, size_t n, struct sectag_binding *b)
{
	return parse_hex(v, n, b->uid, sizeof(b->uid));
}

static int f_read_key(const char *v, size_t n, struct sectag_binding *b)
{
	return parse_hex(v, n, b->read_key, sizeof(b->read_key));
}

static int f_host_secret(const char *v, size_t n, struct sectag_binding *b)
{
	if (n == 4 && !memcmp(v, "tpm2", 4)) {
		b->tpm2 = true;
		return 0;
	}
	return parse_hex(v, n, b->host_secret, sizeof(b->host_secret));
}

static const struct field {
	const char *key;
	int (*parse)(const char *v, size_t n, struct sectag_binding *b);
} fields[] = {
	{ "id", f_id },
	{ "kind", f_kind },
	{ "target", f_target },
	{ "device", f_device },
	{ "auto-open", f_auto_open },
	{ "keyslot", f_keyslot },
	{ "token", f_token },
	{ "uid", f_uid },
	{ "read-key", f_read_key },
	{ "host-secret", f_host_secret },
};

#define NFIELDS	(sizeof(fields) / sizeof(fields[0]))

/* "binding k=v k=v ...": every field, in order, one space apart. */
static int parse_binding(const char *line, size_t len, struct sectag_binding *b)
{
	const char *p = line, *end = line + len, *sp;
	size_t i, klen;

	if (len < 8 || memcmp(p, "binding ", 8))
		return -EBADMSG;
	p += 8;
	for (i = 0; i < NFIELDS; i++) {
		sp = memchr(p, ' ', (size_t)(end - p));
		if ((i + 1 < NFIELDS) != (sp != NULL))
			return -EBADMSG;
		if (!sp)
			sp = end;
		klen = strlen(fields[i].key);
		if ((size_t)(sp - p) <= klen || memcmp(p, fields[i].key, klen) ||
		    p[klen] != '=')
			return -EBADMSG;
		if (fields[i].parse(p + klen + 1, (size_t)(sp - p) - klen - 1, b))
			return -EBADMSG;
		p = sp + 1;
	}
	return sectag_binding_invalid(b) ? -EBADMSG : 0;
}

/* Grow the array by one without leaving copies of secrets in freed memory. */
/*
 * Room for one more binding. The array doubles: growing it by one for
 * each binding made loading a store quadratic (a 1024-binding store took
 * tens of ms to load, on every tap of the agent). A store built by hand
 * has cap 0, so its first add reallocates, as before.
 */
static int grow(struct sectag_store *s)
{
	struct sectag_binding *nb;
	size_t cap;

	if (s->b && s->n < s->cap)
		return 0;
	cap = s->n ? 2 * s->n : 8;
	nb = calloc(cap, sizeof(*nb));
	if (!nb)
		return -ENOMEM;
	if (s->n) {
		memcpy(nb, s->b, s->n * sizeof(*nb));
		OPENSSL_cleanse(s->b, s->n * sizeof(*nb));
	}
	free(s->b);
	s->b = nb;
	s->cap = cap;
	return 0;
}

static int parse_next_id(const char *line, size_t len, uint32_t *next)
{
	if (len < 8 || memcmp(line, "next-id ", 8))
		return -EBADMSG;
	if (parse_uint(line + 8, len - 8, UINT32_MAX, next) || !*next)
		return -EBADMSG;
	return 0;
}

static int parse_header(struct sectag_store *s, const char *line, size_t len)
{
	if (len == strlen(HEADER) && !memcmp(line, HEADER, len))
		return 0;
	if (len == strlen(HEADER_IDENT) && !memcmp(line, HEADER_IDENT, len)) {
		s->has_ident = true;	/* the ident-key line must follow */
		return 0;
	}
	return -EBADMSG;
}

static int parse_ident(struct sectag_store *s, const char *line, size_t len)
{
	if (len < 10 || memcmp(line, "ident-key ", 10))
		return -EBADMSG;
	return parse_hex(line + 10, len - 10, s->ident_key,
			 sizeof(s->ident_key));
}

/* Line @no (0-based) of the store. */
static int parse_line(struct sectag_store *s, size_t no, const char *line,
		      size_t len)
{
	struct sectag_binding b = { 0 };
	int rc;

	if (no == 0)
		return parse_header(s, line, len);
	if (no == 1)
		return parse_next_id(line, len, &s->next_id);
	if (no == 2 && s->has_ident)
		return parse_ident(s, line, len);
	rc = parse_binding(line, len, &b);
	if (!rc)
		rc = grow(s);
	if (!rc)
		s->b[s->n++] = b;
	OPENSSL_cleanse(&b, sizeof(b));
	return rc;
}

/* Every line ends in '\n': a missing one means a truncated file. */
static int parse_store(struct sectag_store *s, const char *buf, size_t len)
{
	const char *p = buf, *nl;
	size_t no = 0;
	int rc = 0;

	if (!len || buf[len - 1] != '\n' || memchr(buf, 0, len))
		return -EBADMSG;
	while (!rc && p < buf + len) {
		nl = memchr(p, '\n', (size_t)(buf + len - p));
		rc = parse_line(s, no++, p, (size_t)(nl - p));
		p = nl + 1;
	}
	if (!rc && no < (s->has_ident ? 3u : 2u))
		rc = -EBADMSG;
	if (!rc && store_valid(s))
		rc = -EBADMSG;
	return rc;
}

/* ---------------------------------------------------------------------- */
/* Load                                                                   */

/* Owned by us, a regular file, nobody else may touch it. */
static int check_file(int fd)
{
	struct stat st;

	if (fstat(fd, &st))
		return -errno;
	if (!S_ISREG(st.st_mode))
		return -EBADMSG;
	if (st.st_uid != geteuid() || (st.st_mode & (S_IRWXG | S_IRWXO)))
		return -EPERM;
	if (st.st_size > MAX_STORE)
		return -EFBIG;
	return 0;
}

/* The whole file into a malloc'd buffer (the caller wipes it). */
static int read_all(int fd, char **buf, size_t *len)
{
	size_t size = 4096;
	ssize_t r;
	char *nb;

	*len = 0;
	*buf = malloc(size);
	if (!*buf)
		return -ENOMEM;
	for (;;) {
		if (*len == size) {
			if (size >= MAX_STORE)
				return -EFBIG;
			/* Copy by hand: realloc would leave secrets behind. */
			nb = malloc(size * 2);
			if (!nb)
				return -ENOMEM;
			memcpy(nb, *buf, *len);
			OPENSSL_cleanse(*buf, size);
			free(*buf);
			*buf = nb;
			size *= 2;
		}
		r = read(fd, *buf + *len, size - *len);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -errno;
		if (!r)
			return 0;
		*len += (size_t)r;
	}
}

int sectag_store_open(const char *path)
{
	int fd;

	if (!path)
		return -EINVAL;
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NOFOLLOW);
	return fd < 0 ? -errno : fd;
}

static void store_init(struct sectag_store *s)
{
	s->b = NULL;
	s->n = 0;
	s->cap = 0;
	s->next_id = 1;
	s->has_ident = false;
	OPENSSL_cleanse(s->ident_key, sizeof(s->ident_key));
}

int sectag_store_load_fd(int fd, struct sectag_store *s)
{
	char *buf = NULL;
	size_t len = 0;
	int rc;

	if (fd < 0 || !s)
		return -EINVAL;
	store_init(s);
	rc = check_file(fd);
	if (!rc)
		rc = read_all(fd, &buf, &len);
	if (!rc)
		rc = parse_store(s, buf, len);
	if (buf) {
		OPENSSL_cleanse(buf, len);
		free(buf);
	}
	if (rc)
		sectag_store_free(s);
	return rc;
}

int sectag_store_load(const char *path, struct sectag_store *s)
{
	int fd, rc;

	if (!path || !s)
		return -EINVAL;
	store_init(s);
	fd = sectag_store_open(path);
	if (fd < 0)
		return fd == -ENOENT ? 0 : fd;
	rc = sectag_store_load_fd(fd, s);
	close(fd);
	return rc;
}

void sectag_store_free(struct sectag_store *s)
{
	if (!s)
		return;
	if (s->b)
		OPENSSL_cleanse(s->b, s->n * sizeof(*s->b));
	free(s->b);
	store_init(s);
}

/* ---------------------------------------------------------------------- */
/* Save                                                                   */

/* One binding line into @out (LINE_MAX_LEN bytes); returns its length. */
static int format_binding(const struct sectag_binding *b, char *out)
{
	char uid[2 * sizeof(b->uid) + 1], key[2 * sizeof(b->read_key) + 1];
	char hs[2 * sizeof(b->host_secret) + 1];
	int n;

	sectag_hex(uid, b->uid, sizeof(b->uid), false);
	sectag_hex(key, b->read_key, sizeof(b->read_key), false);
	sectag_hex(hs, b->host_secret, sizeof(b->host_secret), false);
	if (b->tpm2)
		snprintf(hs, sizeof(hs), "tpm2");
	n = snprintf(out, LINE_MAX_LEN, "binding id=%u kind=%s target=%s "
		     "device=%s auto-open=%s keyslot=%d token=%d uid=%s "
		     "read-key=%s host-secret=%s\n", b->id,
		     sectag_binding_kind_name(b->kind), b->target, b->device,
		     b->auto_open, b->keyslot, b->token, uid, key, hs);
	OPENSSL_cleanse(key, sizeof(key));
	OPENSSL_cleanse(hs, sizeof(hs));
	return n > 0 && n < LINE_MAX_LEN ? n : -EINVAL;
}

/* The whole store as text into a malloc'd buffer (the caller wipes it). */
static int format_store(const struct sectag_store *s, char **buf, size_t *len)
{
	size_t size = (s->n + 3) * LINE_MAX_LEN, i;
	int n;
	char key[2 * sizeof(s->ident_key) + 1];

	*buf = malloc(size);
	if (!*buf)
		return -ENOMEM;
	*len = (size_t)snprintf(*buf, size, "%s\nnext-id %u\n",
				s->has_ident ? HEADER_IDENT : HEADER,
				s->next_id);
	if (s->has_ident) {
		sectag_hex(key, s->ident_key, sizeof(s->ident_key), false);
		*len += (size_t)snprintf(*buf + *len, size - *len,
					 "ident-key %s\n", key);
		OPENSSL_cleanse(key, sizeof(key));
	}
	for (i = 0; i < s->n; i++) {
		n = format_binding(&s->b[i], *buf + *len);
		if (n < 0)
			return n;
		*len += (size_t)n;
	}
	return 0;
}

/* @buf into a fresh 0600 file beside @path, synced; @tmp gets its name. */
static int write_temp(const char *path, const char *buf, size_t len,
		      char **tmp)
{
	int fd, rc;

	if (asprintf(tmp, "%s.XXXXXX", path) < 0) {
		*tmp = NULL;
		return -ENOMEM;
	}
	/* mkostemp creates the file 0600 whatever the umask. */
	fd = mkostemp(*tmp, O_CLOEXEC);
	if (fd < 0) {
		rc = -errno;
		free(*tmp);
		*tmp = NULL;
		return rc;
	}
	rc = fchmod(fd, 0600) ? -errno : 0;
	if (!rc)
		rc = sectag_write_all(fd, buf, len);
	if (!rc && fsync(fd))
		rc = -errno;
	if (close(fd) && !rc)
		rc = -errno;
	return rc;
}

/*
 * Temporary file, fsync, rename over the store, fsync of the directory:
 * whenever we stop, the store is the old one or the new one. Once the
 * rename is done the new store is what everyone reads, so a failing
 * directory fsync is not reported as a failed save: a caller undoing
 * its change (a LUKS keyslot) would leave a binding without a keyslot.
 * At worst a crash then brings the old store back, which is consistent.
 */
int sectag_store_save(const char *path, const struct sectag_store *s)
{
	char *buf = NULL, *tmp = NULL;
	size_t len = 0;
	int rc;

	if (!path || !*path || !s)
		return -EINVAL;
	rc = store_valid(s);
	if (!rc)
		rc = format_store(s, &buf, &len);
	if (!rc)
		rc = write_temp(path, buf, len, &tmp);
	if (!rc && rename(tmp, path))
		rc = -errno;
	if (rc && tmp)
		unlink(tmp);
	if (!rc)
		(void)sectag_sync_dir(path);	/* best effort, see sectag_store_save() */
	if (buf) {
		OPENSSL_cleanse(buf, len);
		free(buf);
	}
	free(tmp);
	return rc;
}

/* ---------------------------------------------------------------------- */
/* Editing                                                                */

int sectag_store_lock(const char *path)
{
	char *lock;
	int fd, rc;

	if (!path || !*path)
		return -EINVAL;
	if (asprintf(&lock, "%s.lock", path) < 0)
		return -ENOMEM;
	fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY,
		  0600);
	free(lock);
	if (fd < 0)
		return -errno;
	while (flock(fd, LOCK_EX)) {
		if (errno == EINTR)
			continue;
		rc = -errno;
		close(fd);
		return rc;
	}
	return fd;
}

int sectag_store_add(struct sectag_store *s, const struct sectag_binding *b,
		     uint32_t *id)
{
	struct sectag_binding *nb;
	int rc;

	if (!s || !b || !s->next_id)
		return -EINVAL;
	/* Ids are never reused: at the end of the range, no more bindings. */
	if (s->next_id == UINT32_MAX)
		return -EOVERFLOW;
	rc = grow(s);
	if (rc)
		return rc;
	nb = &s->b[s->n];
	*nb = *b;
	nb->id = s->next_id;
	if (sectag_binding_invalid(nb)) {
		OPENSSL_cleanse(nb, sizeof(*nb));
		return -EINVAL;
	}
	s->n++;
	s->next_id++;
	if (id)
		*id = nb->id;
	return 0;
}

struct sectag_binding *sectag_store_find(const struct sectag_store *s,
					 uint32_t id)
{
	size_t i;

	for (i = 0; s && i < s->n; i++)
		if (s->b[i].id == id)
			return &s->b[i];
	return NULL;
}

int sectag_store_remove(struct sectag_store *s, uint32_t id)
{
	struct sectag_binding *b = sectag_store_find(s, id);
	size_t i;

	if (!b)
		return -ENOENT;
	i = (size_t)(b - s->b);
	memmove(b, b + 1, (s->n - i - 1) * sizeof(*b));
	s->n--;
	OPENSSL_cleanse(&s->b[s->n], sizeof(*b));
	return 0;
}

int sectag_store_set_ident(struct sectag_store *s, const uint8_t key[16])
{
	if (!s || !key)
		return -EINVAL;
	if (s->has_ident)
		return CRYPTO_memcmp(s->ident_key, key, 16) ? -EEXIST : 0;
	memcpy(s->ident_key, key, 16);
	s->has_ident = true;
	return 0;
}

int sectag_store_find_uid(const struct sectag_store *s, const uint8_t uid[7],
			  size_t **idx, size_t *n)
{
	size_t i, k = 0;

	if (!s || !uid || !idx || !n)
		return -EINVAL;
	*idx = NULL;
	*n = 0;
	for (i = 0; i < s->n; i++)
		k += !memcmp(s->b[i].uid, uid, 7);
	if (!k)
		return 0;
	*idx = calloc(k, sizeof(**idx));
	if (!*idx)
		return -ENOMEM;
	for (i = 0; i < s->n; i++)
		if (!memcmp(s->b[i].uid, uid, 7))
			(*idx)[(*n)++] = i;
	return 0;
}

/* ---------------------------------------------------------------------- */
/* Secrets                                                                */

int sectag_hkdf_sha256(const uint8_t *ikm, size_t ikm_len,
		       const uint8_t *salt, size_t salt_len,
		       const uint8_t *info, size_t info_len,
		       uint8_t *out, size_t out_len)
{
	OSSL_PARAM params[5], *p = params;
	EVP_KDF_CTX *ctx = NULL;
	EVP_KDF *kdf;
	int rc = -EIO;

	if (!ikm || !out || (!salt && salt_len) || (!info && info_len))
		return -EINVAL;
	kdf = EVP_KDF_fetch(NULL, "HKDF", NULL);
	if (kdf)
		ctx = EVP_KDF_CTX_new(kdf);
	EVP_KDF_free(kdf);
	if (!ctx)
		return -ENOMEM;
	*p++ = OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST,
						(char *)"SHA256", 0);
	*p++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY,
						 (void *)ikm, ikm_len);
	*p++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT,
						 (void *)salt, salt_len);
	*p++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO,
						 (void *)info, info_len);
	*p = OSSL_PARAM_construct_end();
	if (EVP_KDF_derive(ctx, out, out_len, params) == 1)
		rc = 0;
	EVP_KDF_CTX_free(ctx);
	if (rc)
		OPENSSL_cleanse(out, out_len);
	return rc;
}

/* "<kind>:<target>": the HKDF info, and the tail of the key description. */
static int context(const struct sectag_binding *b, char *buf, size_t size)
{
	const char *kind = sectag_binding_kind_name(b->kind);
	int n;

	if (!kind || !str_len_ok(b->target, sizeof(b->target), 1))
		return -EINVAL;
	n = snprintf(buf, size, "%s:%s", kind, b->target);
	return n > 0 && (size_t)n < size ? n : -ENOSPC;
}

/*
 * The tag's share alone, or the host alone, gives nothing: both go into
 * the input key material. The context binds the secret to one purpose,
 * so the secrets of two bindings of one tag are unrelated.
 */
int sectag_binding_secret(const struct sectag_binding *b,
			  const uint8_t share[32], uint8_t out[32])
{
	uint8_t ikm[32 + sizeof(b->host_secret)];
	char info[8 + sizeof(b->target)];
	int n, rc;

	if (!b || !share || !out)
		return -EINVAL;
	if (b->tpm2)
		return -ENOKEY;
	n = context(b, info, sizeof(info));
	if (n < 0)
		return n;
	memcpy(ikm, share, 32);
	memcpy(ikm + 32, b->host_secret, sizeof(b->host_secret));
	rc = sectag_hkdf_sha256(ikm, sizeof(ikm), (const uint8_t *)HKDF_SALT,
				strlen(HKDF_SALT), (const uint8_t *)info,
				(size_t)n, out, 32);
	OPENSSL_cleanse(ikm, sizeof(ikm));
	return rc;
}

int sectag_binding_key_desc(const struct sectag_binding *b, char *buf,
			    size_t size)
{
	int n;

	if (!b || !buf || size < 8)
		return -EINVAL;
	memcpy(buf, "sectag:", 7);
	n = context(b, buf + 7, size - 7);
	return n < 0 ? n : 0;
}
