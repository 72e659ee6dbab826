// SPDX-License-Identifier: GPL-2.0
/*
 * Host unit tests of the enrolment store (userspace/lib/store.c) under
 * ASan + UBSan: the text format and its validation, permissions, atomic
 * saves under injected failures, HKDF against independent vectors, ids.
 * TAP output. fsync() and rename() are wrapped by the linker
 * (-Wl,--wrap) so that a test can make them fail.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "store.h"
#include "unit_tap.h"

#define UUID	"8f2d6c1e-3b4a-4c5d-9e6f-0a1b2c3d4e5f"

static char dir[64];
static char path[128];

/* ---------------------------------------------------------------- faults */

/* fail_fsync: fail the Nth fsync() from now on (1: the next one). */
static int fail_fsync, fail_rename;

int __real_fsync(int fd);
int __real_rename(const char *from, const char *to);

int __wrap_fsync(int fd)
{
	if (fail_fsync && !--fail_fsync) {
		errno = EIO;
		return -1;
	}
	return __real_fsync(fd);
}

int __wrap_rename(const char *from, const char *to)
{
	if (fail_rename) {
		errno = EXDEV;
		return -1;
	}
	return __real_rename(from, to);
}

/* --------------------------------------------------------------- helpers */

static void fill(uint8_t *p, size_t n, uint8_t seed)
{
	size_t i;

	for (i = 0; i < n; i++)
		p[i] = (uint8_t)(seed + i * 7);
}

static struct sectag_binding luks_binding(void)
{
	struct sectag_binding b = { .kind = SECTAG_BIND_LUKS, .keyslot = 1,
				    .token = 0 };

	strcpy(b.target, UUID);
	strcpy(b.device, "/dev/disk/by-id/usb-Some_Disk-0:0-part2");
	strcpy(b.auto_open, "backup");
	fill(b.uid, sizeof(b.uid), 0x04);
	fill(b.read_key, sizeof(b.read_key), 0x10);
	fill(b.host_secret, sizeof(b.host_secret), 0x80);
	return b;
}

static struct sectag_binding other_binding(enum sectag_binding_kind kind,
					   const char *target)
{
	struct sectag_binding b = { .kind = kind, .keyslot = -1, .token = -1 };

	strcpy(b.target, target);
	fill(b.uid, sizeof(b.uid), 0x40 + (uint8_t)kind);
	fill(b.read_key, sizeof(b.read_key), 0x20 + (uint8_t)kind);
	fill(b.host_secret, sizeof(b.host_secret), (uint8_t)kind);
	return b;
}

/* A store of three bindings: luks (id 1), user (2), name (3). */
static int make_store(struct sectag_store *s)
{
	struct sectag_binding b[3] = {
		luks_binding(),
		other_binding(SECTAG_BIND_USER, "alice"),
		other_binding(SECTAG_BIND_NAME, "backup.job@host"),
	};
	int i, rc = 0;

	memset(s, 0, sizeof(*s));
	s->next_id = 1;
	for (i = 0; i < 3 && !rc; i++)
		rc = sectag_store_add(s, &b[i], NULL);
	return rc;
}

static int write_file(const char *p, const char *text, mode_t mode)
{
	int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	ssize_t n = (ssize_t)strlen(text);

	if (fd < 0)
		return -1;
	if (write(fd, text, (size_t)n) != n || fchmod(fd, mode)) {
		close(fd);
		return -1;
	}
	return close(fd);
}

static char *read_file(const char *p)
{
	static char buf[8192];
	int fd = open(p, O_RDONLY);
	ssize_t n;

	if (fd < 0)
		return NULL;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n < 0)
		return NULL;
	buf[n] = 0;
	return buf;
}

/* Files in the test directory other than the store (temporaries). */
static int stray_files(void)
{
	struct dirent *d;
	DIR *dp = opendir(dir);
	int n = 0;

	if (!dp)
		return -1;
	while ((d = readdir(dp)))
		if (strcmp(d->d_name, ".") && strcmp(d->d_name, "..") &&
		    strcmp(d->d_name, "store") && strcmp(d->d_name, "store.lock"))
			n++;
	closedir(dp);
	return n;
}

static void clean_dir(void)
{
	struct dirent *d;
	char p[512];
	DIR *dp = opendir(dir);

	if (!dp)
		return;
	while ((d = readdir(dp))) {
		if (!strcmp(d->d_name, ".") || !strcmp(d->d_name, ".."))
			continue;
		snprintf(p, sizeof(p), "%s/%s", dir, d->d_name);
		unlink(p);
	}
	closedir(dp);
}

static bool same(const struct sectag_store *a, const struct sectag_store *b)
{
	return a->n == b->n && a->next_id == b->next_id &&
	       a->has_ident == b->has_ident &&
	       !memcmp(a->ident_key, b->ident_key, sizeof(a->ident_key)) &&
	       (!a->n || !memcmp(a->b, b->b, a->n * sizeof(*a->b)));
}

/* ------------------------------------------------------------- the tests */

static int load_text(const char *text);

static const uint8_t ident_a[16] = { 0xa0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10,
				     11, 12, 13, 14, 0xaf };

/* A store keeping an identification key is version 2, with its line. */
static bool t_ident_round_trip(void)
{
	static const char want2[] = "sectag-store 2\nnext-id 4\nident-key "
		"a00102030405060708090a0b0c0d0eaf\nbinding id=1 ";
	static const char want1[] = "sectag-store 1\nnext-id 4\nbinding ";
	struct sectag_store a, b = { 0 };
	const char *text;
	bool ok;

	if (make_store(&a) || sectag_store_set_ident(&a, ident_a) ||
	    sectag_store_save(path, &a))
		return false;
	text = read_file(path);
	ok = text && !strncmp(text, want2, strlen(want2)) &&
	     !sectag_store_load(path, &b) && same(&a, &b) && b.has_ident &&
	     b.n == 3;
	sectag_store_free(&a);
	sectag_store_free(&b);
	/* Without one, still version 1, as older sectag wrote it. */
	ok = ok && !make_store(&a) && !sectag_store_save(path, &a) &&
	     (text = read_file(path)) &&
	     !strncmp(text, want1, strlen(want1));
	sectag_store_free(&a);
	return ok;
}

/* One identification key per store; a second issuer's is refused. */
static bool t_ident_one_per_store(void)
{
	struct sectag_store s;
	uint8_t other[16];
	bool ok;

	memcpy(other, ident_a, 16);
	other[7] ^= 0x40;
	if (make_store(&s))
		return false;
	ok = !s.has_ident && !sectag_store_set_ident(&s, ident_a) &&
	     !sectag_store_set_ident(&s, ident_a) &&
	     sectag_store_set_ident(&s, other) == -EEXIST &&
	     !memcmp(s.ident_key, ident_a, 16);
	sectag_store_free(&s);
	ok = ok && !s.has_ident;
	return ok;
}

/* Any number of bindings per tag, found in store order. */
static bool t_find_uid(void)
{
	struct sectag_binding b = other_binding(SECTAG_BIND_NAME, "x");
	struct sectag_store s;
	size_t *idx = NULL, n = 0, i;
	char label[16];
	bool ok = true;

	if (make_store(&s))
		return false;
	for (i = 0; i < 40 && ok; i++) {
		snprintf(label, sizeof(label), "job%zu", i);
		strcpy(b.target, label);
		ok = !sectag_store_add(&s, &b, NULL);
	}
	ok = ok && !sectag_store_find_uid(&s, b.uid, &idx, &n) && n == 41;
	for (i = 0; ok && i < n; i++)
		ok = !memcmp(s.b[idx[i]].uid, b.uid, 7) &&
		     (!i || idx[i] > idx[i - 1]);
	free(idx);
	b.uid[0] ^= 1;
	ok = ok && !sectag_store_find_uid(&s, b.uid, &idx, &n) && n == 0 &&
	     !idx;
	sectag_store_free(&s);
	return ok;
}

/* The ident-key line: only in version 2, only there, lowercase hex. */
static bool t_ident_corrupt(void)
{
	static const char bind[] =
		"binding id=1 kind=user target=alice device= auto-open= "
		"keyslot=-1 token=-1 uid=04a1b2c3d4e5f6 "
		"read-key=000102030405060708090a0b0c0d0e0f "
		"host-secret=000102030405060708090a0b0c0d0e0f"
		"101112131415161718191a1b1c1d1e1f\n";
	static const char key[] = "ident-key 000102030405060708090a0b0c0d0e0f\n";
	char text[1024];
	struct sectag_store s;
	int rc;

	snprintf(text, sizeof(text), "sectag-store 2\nnext-id 2\n%s%s", key,
		 bind);
	rc = load_text(text);
	if (rc)
		return false;
	if (write_file(path, text, 0600) || sectag_store_load(path, &s))
		return false;
	rc = s.has_ident && s.ident_key[15] == 0x0f && s.n == 1;
	sectag_store_free(&s);
	if (!rc)
		return false;
	snprintf(text, sizeof(text), "sectag-store 2\nnext-id 2\n%s", bind);
	if (load_text(text) != -EBADMSG)	/* version 2 without the key */
		return false;
	snprintf(text, sizeof(text), "sectag-store 2\nnext-id 2\n");
	if (load_text(text) != -EBADMSG)
		return false;
	snprintf(text, sizeof(text), "sectag-store 1\nnext-id 2\n%s%s", key,
		 bind);
	if (load_text(text) != -EBADMSG)	/* version 1 with a key */
		return false;
	snprintf(text, sizeof(text), "sectag-store 2\nnext-id 2\n%s%s%s", key,
		 key, bind);
	if (load_text(text) != -EBADMSG)	/* two keys */
		return false;
	snprintf(text, sizeof(text), "sectag-store 2\nnext-id 2\n%s%s",
		 "ident-key 000102030405060708090A0B0C0D0E0F\n", bind);
	if (load_text(text) != -EBADMSG)
		return false;
	snprintf(text, sizeof(text), "sectag-store 2\nnext-id 2\n%s%s",
		 "ident-key 000102030405060708090a0b0c0d0e\n", bind);
	if (load_text(text) != -EBADMSG)
		return false;
	snprintf(text, sizeof(text), "sectag-store 2\nnext-id 2\n%s%s",
		 "ident-key  000102030405060708090a0b0c0d0e0f\n", bind);
	return load_text(text) == -EBADMSG;
}

static bool t_round_trip(void)
{
	struct sectag_store a, b = { 0 };
	struct stat st;
	bool ok;

	if (make_store(&a) || sectag_store_save(path, &a))
		return false;
	ok = !stat(path, &st) && (st.st_mode & 07777) == 0600 &&
	     !sectag_store_load(path, &b) && same(&a, &b) && b.n == 3 &&
	     b.next_id == 4 && stray_files() == 0;
	sectag_store_free(&a);
	sectag_store_free(&b);
	return ok;
}

static bool t_missing_is_empty(void)
{
	struct sectag_store s;

	unlink(path);
	return !sectag_store_load(path, &s) && s.n == 0 && !s.b &&
	       s.next_id == 1;
}

static bool t_empty_store_round_trip(void)
{
	struct sectag_store s = { .next_id = 1 }, t = { 0 };
	bool ok;

	ok = !sectag_store_save(path, &s) && !sectag_store_load(path, &t) &&
	     t.n == 0 && t.next_id == 1;
	sectag_store_free(&t);
	return ok;
}

/* The text of a valid one-binding store, for corrupting. */
static const char good[] =
	"sectag-store 1\n"
	"next-id 2\n"
	"binding id=1 kind=user target=alice device= auto-open= keyslot=-1 "
	"token=-1 uid=04a1b2c3d4e5f6 read-key=000102030405060708090a0b0c0d0e0f "
	"host-secret=000102030405060708090a0b0c0d0e0f"
	"101112131415161718191a1b1c1d1e1f\n";

static int load_text(const char *text)
{
	struct sectag_store s;
	int rc;

	if (write_file(path, text, 0600))
		return -999;
	rc = sectag_store_load(path, &s);
	sectag_store_free(&s);
	return rc;
}

/* @good with the first @from replaced by @to. */
static int load_edited(const char *from, const char *to)
{
	char buf[1024], *p = strstr(good, from) ? strdup(good) : NULL;
	char *at;

	if (!p)
		return -999;
	at = strstr(p, from);
	snprintf(buf, sizeof(buf), "%.*s%s%s", (int)(at - p), p, to,
		 at + strlen(from));
	free(p);
	return load_text(buf);
}

static bool t_good_text_loads(void)
{
	return load_text(good) == 0;
}

#define TPM2_LINE "binding id=1 kind=luks target=0b7b6a6e-3c1f-4f52-9d55-" \
	"6a3c1f2e9a10 device=/dev/vdb auto-open= keyslot=1 token=0 " \
	"uid=04a1b2c3d4e5f6 read-key=000102030405060708090a0b0c0d0e0f " \
	"host-secret=tpm2\n"

/* bind tpm2: "host-secret=tpm2", a binding whose secret is unsealed. */
static bool t_tpm2_binding(void)
{
	struct sectag_store s;
	uint8_t share[32] = { 0 }, out[32];
	char buf[4096];
	FILE *f;
	size_t n;

	CHECK(load_text("sectag-store 1\nnext-id 2\n" TPM2_LINE) == 0);
	CHECK(!sectag_store_load(path, &s) && s.n == 1 && s.b[0].tpm2);
	CHECK(sectag_binding_secret(&s.b[0], share, out) == -ENOKEY);
	CHECK(!sectag_store_save(path, &s));
	f = fopen(path, "r");
	CHECK(f);
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = 0;
	CHECK(strstr(buf, "host-secret=tpm2\n"));
	/* A tpm2 binding with a host secret, or not a LUKS one: invalid. */
	s.b[0].host_secret[0] = 1;
	CHECK(sectag_store_save(path, &s) == -EINVAL);
	sectag_store_free(&s);
	CHECK(load_edited("host-secret=000102", "host-secret=tpm2 x") ==
	      -EBADMSG);
	CHECK(load_text("sectag-store 1\nnext-id 2\nbinding id=1 kind=user "
			"target=alice device= auto-open= keyslot=-1 token=-1 "
			"uid=04a1b2c3d4e5f6 read-key=000102030405060708090a0b0c0d"
			"0e0f host-secret=tpm2\n") == -EBADMSG);
	return true;
}

static bool t_truncated(void)
{
	char buf[sizeof(good)];
	size_t cut[] = { 0, 5, 15, 30, sizeof(good) - 2, sizeof(good) - 40 };
	size_t i;

	for (i = 0; i < sizeof(cut) / sizeof(cut[0]); i++) {
		memcpy(buf, good, cut[i]);
		buf[cut[i]] = 0;
		if (load_text(buf) != -EBADMSG)
			return false;
	}
	return true;
}

static bool t_bad_hex(void)
{
	return load_edited("uid=04a1", "uid=04A1") == -EBADMSG &&
	       load_edited("uid=04a1", "uid=zza1") == -EBADMSG &&
	       load_edited("read-key=00", "read-key=0") == -EBADMSG &&
	       load_edited("host-secret=00", "host-secret=0000") == -EBADMSG &&
	       load_edited("uid=04a1b2c3d4e5f6", "uid=00000000000000") ==
	       -EBADMSG;
}

static bool t_unknown_kind(void)
{
	return load_edited("kind=user", "kind=tpm") == -EBADMSG &&
	       load_edited("kind=user", "kind=") == -EBADMSG &&
	       load_edited("kind=user", "kind=USER") == -EBADMSG;
}

static bool t_bad_header(void)
{
	return load_edited("sectag-store 1", "sectag-store 2") == -EBADMSG &&
	       load_edited("sectag-store 1", "# sectag-store 1") == -EBADMSG &&
	       load_edited("next-id 2", "next-id 0") == -EBADMSG &&
	       load_edited("next-id 2", "next-id 02") == -EBADMSG &&
	       load_edited("next-id 2\n", "") == -EBADMSG &&
	       load_text("") == -EBADMSG;
}

static bool t_bad_fields(void)
{
	return load_edited(" device=", "  device=") == -EBADMSG &&
	       load_edited("target=alice", "target=al ice") == -EBADMSG &&
	       load_edited("target=alice", "target=") == -EBADMSG &&
	       load_edited("device= auto-open=", "auto-open= device=") ==
	       -EBADMSG &&
	       load_edited("keyslot=-1", "keyslot=3") == -EBADMSG &&
	       load_edited("id=1", "id=2") == -EBADMSG &&
	       load_edited("id=1", "id=0") == -EBADMSG &&
	       load_edited("id=1", "id=+1") == -EBADMSG &&
	       load_edited("\n", "\r\n") == -EBADMSG &&
	       load_edited("1f\n", "1f extra=1\n") == -EBADMSG &&
	       load_edited(" host-secret", "") == -EBADMSG;
}

/* A NUL byte anywhere (here inside the target) is corruption. */
static bool t_nul_byte(void)
{
	char buf[sizeof(good)];
	struct sectag_store s;
	int fd, rc;

	memcpy(buf, good, sizeof(buf));
	buf[strstr(good, "alice") - good + 2] = 0;
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	if (fd < 0 || write(fd, buf, sizeof(buf) - 1) != sizeof(buf) - 1)
		return false;
	close(fd);
	rc = sectag_store_load(path, &s);
	sectag_store_free(&s);
	return rc == -EBADMSG;
}

static bool t_duplicate_id(void)
{
	char buf[2048];
	const char *line = strstr(good, "binding");

	snprintf(buf, sizeof(buf), "%s%s", good, line);
	return load_text(buf) == -EBADMSG;
}

static int load_with_mode(mode_t mode)
{
	struct sectag_store s;
	int rc;

	if (write_file(path, good, mode))
		return -999;
	rc = sectag_store_load(path, &s);
	sectag_store_free(&s);
	return rc;
}

static bool t_mode_refused(void)
{
	mode_t modes[] = { 0644, 0640, 0604, 0660, 0602, 0610 };
	size_t i;

	for (i = 0; i < sizeof(modes) / sizeof(modes[0]); i++)
		if (load_with_mode(modes[i]) != -EPERM)
			return false;
	return load_with_mode(0600) == 0 && load_with_mode(0400) == 0;
}

static bool t_symlink_refused(void)
{
	char target[160];
	struct sectag_store s;
	int rc;

	snprintf(target, sizeof(target), "%s/real", dir);
	if (write_file(target, good, 0600))
		return false;
	unlink(path);
	if (symlink(target, path))
		return false;
	rc = sectag_store_load(path, &s);
	unlink(path);
	unlink(target);
	return rc == -ELOOP;
}

/* Root only (SKIP otherwise): a store another user owns is not trusted. */
static bool t_foreign_owner(void)
{
	struct sectag_store s;
	int rc;

	if (write_file(path, good, 0600) || chown(path, 65534, 65534))
		return false;
	rc = sectag_store_load(path, &s);
	unlink(path);
	return rc == -EPERM;
}

/* Saves that fail leave the old store, and no temporary file. */
static bool old_store_kept(const char *before)
{
	const char *now = read_file(path);

	return now && !strcmp(now, before) && stray_files() == 0;
}

static bool save_fails_cleanly(int *flag, int err)
{
	struct sectag_store s;
	char before[8192];
	int rc;

	if (write_file(path, good, 0600) || make_store(&s))
		return false;
	strcpy(before, read_file(path));
	*flag = 1;
	rc = sectag_store_save(path, &s);
	*flag = 0;
	sectag_store_free(&s);
	return rc == err && old_store_kept(before);
}

static bool t_save_fsync_fails(void)
{
	return save_fails_cleanly(&fail_fsync, -EIO);
}

/*
 * The directory's fsync (the second) fails after the rename: the new
 * store is in place and the save reports success, so that a caller does
 * not undo what the store now records.
 */
static bool t_save_dir_fsync_fails(void)
{
	struct sectag_store s, t = { 0 };
	bool ok;

	if (write_file(path, good, 0600) || make_store(&s))
		return false;
	fail_fsync = 2;
	ok = !sectag_store_save(path, &s) && !fail_fsync &&
	     !sectag_store_load(path, &t) && same(&s, &t);
	fail_fsync = 0;
	sectag_store_free(&s);
	sectag_store_free(&t);
	return ok && stray_files() == 0;
}

static bool t_save_rename_fails(void)
{
	return save_fails_cleanly(&fail_rename, -EXDEV);
}

/* A full disk: writes beyond RLIMIT_FSIZE fail with EFBIG. */
static bool t_save_write_fails(void)
{
	struct rlimit old, lim = { .rlim_cur = 100 };
	struct sectag_store s;
	char before[8192];
	int rc;

	if (write_file(path, good, 0600) || make_store(&s) ||
	    getrlimit(RLIMIT_FSIZE, &old))
		return false;
	strcpy(before, read_file(path));
	lim.rlim_max = old.rlim_max;
	signal(SIGXFSZ, SIG_IGN);
	setrlimit(RLIMIT_FSIZE, &lim);
	rc = sectag_store_save(path, &s);
	setrlimit(RLIMIT_FSIZE, &old);
	signal(SIGXFSZ, SIG_DFL);
	sectag_store_free(&s);
	return rc == -EFBIG && old_store_kept(before);
}

/*
 * The directory is not writable for the saver: the temporary file cannot
 * be created and nothing changes. Root ignores modes, so the save runs in
 * a child that gives up root first.
 */
static bool t_save_dir_unwritable(void)
{
	struct sectag_store s;
	char before[8192];
	int status;
	pid_t pid;

	if (write_file(path, good, 0600))
		return false;
	strcpy(before, read_file(path));
	chmod(dir, 0555);
	pid = fork();
	if (pid == 0) {
		if (geteuid() == 0 && (setgid(65534) || setuid(65534)))
			_exit(2);
		if (make_store(&s))
			_exit(3);
		_exit(sectag_store_save(path, &s) == -EACCES ? 0 : 1);
	}
	waitpid(pid, &status, 0);
	chmod(dir, 0700);
	return WIFEXITED(status) && WEXITSTATUS(status) == 0 &&
	       old_store_kept(before);
}

static bool t_save_refuses_invalid(void)
{
	struct sectag_store s;
	char before[8192];
	bool ok;

	if (write_file(path, good, 0600) || make_store(&s))
		return false;
	strcpy(before, read_file(path));
	strcpy(s.b[1].target, "bad user");
	ok = sectag_store_save(path, &s) == -EINVAL;
	strcpy(s.b[1].target, "alice");
	s.b[2].id = s.b[0].id;		/* duplicate id */
	ok = ok && sectag_store_save(path, &s) == -EINVAL;
	s.b[2].id = s.next_id;		/* id not below next_id */
	ok = ok && sectag_store_save(path, &s) == -EINVAL;
	sectag_store_free(&s);
	return ok && old_store_kept(before);
}

static bool t_validation(void)
{
	struct sectag_binding b = luks_binding(), u;
	bool ok = sectag_binding_invalid(&b) != NULL;	/* id 0 */

	b.id = 1;
	ok = ok && !sectag_binding_invalid(&b);
	strcpy(b.device, "relative/path");
	ok = ok && sectag_binding_invalid(&b);
	strcpy(b.device, "/dev/with space");
	ok = ok && sectag_binding_invalid(&b);
	b = luks_binding();
	b.id = 1;
	b.keyslot = -1;
	ok = ok && sectag_binding_invalid(&b);
	b.keyslot = 32;
	ok = ok && sectag_binding_invalid(&b);
	strcpy(b.target, "not-a-uuid");
	ok = ok && sectag_binding_invalid(&b);
	u = other_binding(SECTAG_BIND_USER, "alice");
	u.id = 1;
	ok = ok && !sectag_binding_invalid(&u);
	strcpy(u.target, "machine$");
	ok = ok && !sectag_binding_invalid(&u);
	strcpy(u.target, "-rf");
	ok = ok && sectag_binding_invalid(&u);
	strcpy(u.target, "a:b");
	ok = ok && sectag_binding_invalid(&u);
	strcpy(u.target, "alice");
	u.keyslot = 0;
	ok = ok && sectag_binding_invalid(&u);
	u.keyslot = -1;
	strcpy(u.device, "/dev/sda");
	ok = ok && sectag_binding_invalid(&u);
	u = other_binding(SECTAG_BIND_NAME, "job:1");
	u.id = 1;
	return ok && sectag_binding_invalid(&u);
}

/* RFC 5869, test case 1, through the same EVP path. */
static bool t_hkdf_rfc5869(void)
{
	static const uint8_t okm[42] = {
		0x3c, 0xb2, 0x5f, 0x25, 0xfa, 0xac, 0xd5, 0x7a, 0x90, 0x43,
		0x4f, 0x64, 0xd0, 0x36, 0x2f, 0x2a, 0x2d, 0x2d, 0x0a, 0x90,
		0xcf, 0x1a, 0x5a, 0x4c, 0x5d, 0xb0, 0x2d, 0x56, 0xec, 0xc4,
		0xc5, 0xbf, 0x34, 0x00, 0x72, 0x08, 0xd5, 0xb8, 0x87, 0x18,
		0x58, 0x65,
	};
	uint8_t ikm[22], salt[13], info[10], out[42];
	size_t i;

	memset(ikm, 0x0b, sizeof(ikm));
	for (i = 0; i < sizeof(salt); i++)
		salt[i] = (uint8_t)i;
	for (i = 0; i < sizeof(info); i++)
		info[i] = (uint8_t)(0xf0 + i);
	return !sectag_hkdf_sha256(ikm, sizeof(ikm), salt, sizeof(salt), info,
				   sizeof(info), out, sizeof(out)) &&
	       !memcmp(out, okm, sizeof(okm));
}

/*
 * Computed when this test was written, independently of store.c:
 *   openssl kdf -keylen 32 -kdfopt digest:SHA256 -kdfopt hexkey:000102..3f
 *     -kdfopt salt:sectag-v1 -kdfopt info:<kind>:<target> HKDF
 * share = 00..1f, host secret = 20..3f.
 */
static bool secret_matches(enum sectag_binding_kind kind, const char *target,
			   const uint8_t *want)
{
	struct sectag_binding b = other_binding(kind, target);
	uint8_t share[32], out[32];
	size_t i;

	for (i = 0; i < 32; i++) {
		share[i] = (uint8_t)i;
		b.host_secret[i] = (uint8_t)(32 + i);
	}
	return !sectag_binding_secret(&b, share, out) && !memcmp(out, want, 32);
}

static bool t_binding_secret_vector(void)
{
	static const uint8_t luks[32] = {
		0x77, 0xf6, 0x2a, 0xa8, 0xc3, 0x1b, 0xd8, 0xbd, 0x65, 0xca,
		0x53, 0xd3, 0x66, 0xf9, 0x76, 0x23, 0x53, 0x56, 0x13, 0x1b,
		0xdf, 0x42, 0x91, 0xe0, 0x5d, 0x9c, 0x5f, 0x43, 0x06, 0x7a,
		0x66, 0x09,
	};
	static const uint8_t user[32] = {
		0xcf, 0xb5, 0x51, 0x41, 0x40, 0xc2, 0x52, 0xca, 0xea, 0xe9,
		0xb0, 0x47, 0x79, 0x1b, 0x90, 0xfc, 0x55, 0x8d, 0x88, 0xec,
		0xfd, 0x5c, 0x42, 0xed, 0xe2, 0x12, 0x9a, 0x6a, 0xcf, 0xae,
		0x2a, 0x4d,
	};

	return secret_matches(SECTAG_BIND_LUKS, UUID, luks) &&
	       secret_matches(SECTAG_BIND_USER, "alice", user);
}

/* Different host secret or context: unrelated secrets. */
static bool t_binding_secret_separates(void)
{
	struct sectag_binding a = luks_binding(), b = a;
	uint8_t share[32] = { 1 }, x[32], y[32], z[32];

	b.host_secret[0] ^= 1;
	if (sectag_binding_secret(&a, share, x) ||
	    sectag_binding_secret(&b, share, y))
		return false;
	b = a;
	b.target[0] = b.target[0] == '8' ? '9' : '8';
	if (sectag_binding_secret(&b, share, z))
		return false;
	return memcmp(x, y, 32) && memcmp(x, z, 32) && memcmp(y, z, 32);
}

static bool t_key_desc(void)
{
	struct sectag_binding l = luks_binding();
	struct sectag_binding u = other_binding(SECTAG_BIND_USER, "alice");
	struct sectag_binding n = other_binding(SECTAG_BIND_NAME, "job");
	char buf[160], small[20];

	return !sectag_binding_key_desc(&l, buf, sizeof(buf)) &&
	       !strcmp(buf, "sectag:luks:" UUID) &&
	       !sectag_binding_key_desc(&u, buf, sizeof(buf)) &&
	       !strcmp(buf, "sectag:user:alice") &&
	       !sectag_binding_key_desc(&n, buf, sizeof(buf)) &&
	       !strcmp(buf, "sectag:name:job") &&
	       sectag_binding_key_desc(&l, small, sizeof(small)) == -ENOSPC;
}

/* Removed ids stay used, across saves and loads. */
static bool t_ids_never_reused(void)
{
	struct sectag_binding b = other_binding(SECTAG_BIND_USER, "bob");
	struct sectag_store s, t = { 0 };
	uint32_t id = 0;
	bool ok;

	if (make_store(&s))
		return false;
	ok = !sectag_store_remove(&s, 3) && !sectag_store_add(&s, &b, &id) &&
	     id == 4;
	ok = ok && !sectag_store_remove(&s, 4) && !sectag_store_remove(&s, 1) &&
	     sectag_store_remove(&s, 4) == -ENOENT &&
	     !sectag_store_save(path, &s) && !sectag_store_load(path, &t);
	ok = ok && t.next_id == 5 && !sectag_store_add(&t, &b, &id) && id == 5 &&
	     sectag_store_find(&t, 2) && !sectag_store_find(&t, 1) &&
	     sectag_store_find(&t, 5)->kind == SECTAG_BIND_USER;
	sectag_store_free(&s);
	sectag_store_free(&t);
	return ok;
}

static bool t_ids_exhausted(void)
{
	struct sectag_binding b = other_binding(SECTAG_BIND_USER, "bob");
	struct sectag_store s = { .next_id = UINT32_MAX - 1 };
	uint32_t id;
	bool ok;

	ok = !sectag_store_add(&s, &b, &id) && id == UINT32_MAX - 1 &&
	     sectag_store_add(&s, &b, &id) == -EOVERFLOW && s.n == 1;
	sectag_store_free(&s);
	return ok;
}

static bool t_add_rejects_invalid(void)
{
	struct sectag_binding b = other_binding(SECTAG_BIND_USER, "a b");
	struct sectag_store s = { .next_id = 1 };
	bool ok;

	ok = sectag_store_add(&s, &b, NULL) == -EINVAL && s.n == 0 &&
	     s.next_id == 1;
	sectag_store_free(&s);
	return ok;
}

/* The slot a removal vacates is wiped (it stays allocated: we can look). */
static bool t_remove_wipes(void)
{
	static const struct sectag_binding zero;
	struct sectag_store s;
	bool ok;

	if (make_store(&s))
		return false;
	ok = !sectag_store_remove(&s, 1) && s.n == 2 &&
	     !memcmp(&s.b[2], &zero, sizeof(zero)) && s.b[0].id == 2;
	sectag_store_free(&s);
	return ok && !s.b && !s.n;
}

static bool t_lock_excludes(void)
{
	char lp[160];
	int fd, other, rc;

	fd = sectag_store_lock(path);
	if (fd < 0)
		return false;
	snprintf(lp, sizeof(lp), "%s.lock", path);
	other = open(lp, O_RDWR);
	rc = flock(other, LOCK_EX | LOCK_NB);
	close(fd);
	close(other);
	return other >= 0 && rc == -1 && errno == EWOULDBLOCK;
}

/* ------------------------------------------------------------ the runner */

static const struct test {
	const char *name;
	bool (*fn)(void);
	bool root_only;
} tests[] = {
	{ "round_trip", t_round_trip, false },
	{ "missing_file_is_empty_store", t_missing_is_empty, false },
	{ "empty_store_round_trip", t_empty_store_round_trip, false },
	{ "good_text_loads", t_good_text_loads, false },
	{ "tpm2_binding_keeps_no_host_secret", t_tpm2_binding, false },
	{ "corrupt_truncated", t_truncated, false },
	{ "corrupt_bad_hex", t_bad_hex, false },
	{ "corrupt_unknown_kind", t_unknown_kind, false },
	{ "corrupt_bad_header", t_bad_header, false },
	{ "corrupt_bad_fields", t_bad_fields, false },
	{ "corrupt_duplicate_id", t_duplicate_id, false },
	{ "corrupt_nul_byte", t_nul_byte, false },
	{ "mode_0644_refused", t_mode_refused, false },
	{ "symlink_refused", t_symlink_refused, false },
	{ "foreign_owner_refused", t_foreign_owner, true },
	{ "save_fsync_fails_keeps_old", t_save_fsync_fails, false },
	{ "save_rename_fails_keeps_old", t_save_rename_fails, false },
	{ "save_dir_fsync_fails_new_store_kept", t_save_dir_fsync_fails, false },
	{ "save_write_fails_keeps_old", t_save_write_fails, false },
	{ "save_dir_unwritable_keeps_old", t_save_dir_unwritable, false },
	{ "save_refuses_invalid_store", t_save_refuses_invalid, false },
	{ "binding_validation", t_validation, false },
	{ "hkdf_rfc5869_case1", t_hkdf_rfc5869, false },
	{ "binding_secret_openssl_cli_vector", t_binding_secret_vector, false },
	{ "binding_secret_separates", t_binding_secret_separates, false },
	{ "key_description", t_key_desc, false },
	{ "ids_never_reused", t_ids_never_reused, false },
	{ "ids_exhausted", t_ids_exhausted, false },
	{ "add_rejects_invalid", t_add_rejects_invalid, false },
	{ "remove_wipes_slot", t_remove_wipes, false },
	{ "lock_excludes", t_lock_excludes, false },
	{ "ident_key_round_trip_version_2", t_ident_round_trip, false },
	{ "ident_key_one_per_store", t_ident_one_per_store, false },
	{ "any_number_of_bindings_per_tag", t_find_uid, false },
	{ "ident_key_line_corruptions", t_ident_corrupt, false },
};

int main(void)
{
	size_t n = sizeof(tests) / sizeof(tests[0]), i;

	strcpy(dir, "/tmp/sectag-store-test.XXXXXX");
	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		return 1;
	}
	snprintf(path, sizeof(path), "%s/store", dir);
	tap_plan(n);
	for (i = 0; i < n; i++) {
		clean_dir();
		if (tests[i].root_only && geteuid() != 0)
			tap_skip(tests[i].name, "needs root");
		else
			tap_run(tests[i].name, tests[i].fn);
	}
	clean_dir();
	rmdir(dir);
	return tap_failed ? 1 : 0;
}
