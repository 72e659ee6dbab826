// SPDX-License-Identifier: GPL-2.0
/*
 * Host unit tests of sectagd's store cache (userspace/agent/cache.c,
 * compiled in) under ASan + UBSan, against the real store code: parsed
 * once while the file stays the same, and parsed again as soon as it
 * changed in any way that matters (a binding removed must stop working
 * at the next tap), refused as the store itself is. TAP output.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../../userspace/agent/cache.c"
#include "unit_tap.h"

static struct agent ag;
static char dir[64];

static struct sectag_binding user_binding(const char *name, uint8_t seed)
{
	struct sectag_binding b = { .kind = SECTAG_BIND_USER, .keyslot = -1,
				    .token = -1 };

	snprintf(b.target, sizeof(b.target), "%s", name);
	memset(b.uid, seed, sizeof(b.uid));
	memset(b.read_key, seed + 1, sizeof(b.read_key));
	memset(b.host_secret, seed + 2, sizeof(b.host_secret));
	return b;
}

/* The store file with bindings for the first @n of alice, bob, carol. */
static int save(size_t n)
{
	static const char *const who[] = { "alice", "bob", "carol" };
	struct sectag_store s = { .next_id = 1 };
	struct sectag_binding b;
	size_t i;
	int rc = 0;

	for (i = 0; i < n && !rc; i++) {
		b = user_binding(who[i], (uint8_t)(0x10 * (i + 1)));
		rc = sectag_store_add(&s, &b, NULL);
	}
	if (!rc)
		rc = sectag_store_save(ag.cfg.store, &s);
	sectag_store_free(&s);
	return rc;
}

static void reset(void)
{
	agent_store_drop(&ag);
	unlink(ag.cfg.store);
	ag.store.parsed = 0;
}

static bool t_missing_is_empty(void)
{
	const struct sectag_store *st = NULL;

	reset();
	CHECK(agent_store(&ag, &st) == 0 && st && st->n == 0);
	CHECK(ag.store.fd < 0 && ag.store.parsed == 0);
	return true;
}

static bool t_parsed_once(void)
{
	const struct sectag_store *st = NULL;
	int i;

	reset();
	CHECK(save(2) == 0);
	for (i = 0; i < 5; i++) {
		CHECK(agent_store(&ag, &st) == 0 && st->n == 2);
		CHECK(!strcmp(st->b[1].target, "bob"));
	}
	CHECK(ag.store.parsed == 1);
	return true;
}

/* sectag's saves rename a new file over the store: seen at once. */
static bool t_saved_store_reparsed(void)
{
	const struct sectag_store *st = NULL;

	reset();
	CHECK(save(2) == 0);
	CHECK(agent_store(&ag, &st) == 0 && st->n == 2);
	CHECK(save(1) == 0);	/* bob unenrolled: same size class */
	CHECK(agent_store(&ag, &st) == 0 && st->n == 1);
	CHECK(!strcmp(st->b[0].target, "alice"));
	CHECK(save(3) == 0);
	CHECK(agent_store(&ag, &st) == 0 && st->n == 3);
	CHECK(ag.store.parsed == 3);
	return true;
}

/* The same bytes written over the file in place: a new mtime. */
static bool t_rewritten_in_place(void)
{
	const struct sectag_store *st = NULL;
	struct timespec ts[2] = { { 0, UTIME_OMIT }, { 1, 0 } };
	char buf[4096];
	ssize_t n;
	int fd;

	reset();
	CHECK(save(1) == 0);
	CHECK(agent_store(&ag, &st) == 0 && st->n == 1);
	fd = open(ag.cfg.store, O_RDWR);
	CHECK(fd >= 0);
	n = read(fd, buf, sizeof(buf));
	CHECK(n > 0 && pwrite(fd, buf, (size_t)n, 0) == n);
	/* Whatever the clock's granularity: another mtime for certain. */
	CHECK(futimens(fd, ts) == 0);
	close(fd);
	CHECK(agent_store(&ag, &st) == 0 && st->n == 1);
	CHECK(ag.store.parsed == 2);
	return true;
}

/* Group-readable now: refused, not served from the cache. */
static bool t_chmod_refused(void)
{
	const struct sectag_store *st = NULL;

	reset();
	CHECK(save(1) == 0);
	CHECK(agent_store(&ag, &st) == 0 && st->n == 1);
	CHECK(chmod(ag.cfg.store, 0640) == 0);
	CHECK(agent_store(&ag, &st) == -EPERM);
	CHECK(ag.store.fd < 0 && ag.store.st.n == 0);
	CHECK(chmod(ag.cfg.store, 0600) == 0);
	CHECK(agent_store(&ag, &st) == 0 && st->n == 1);
	return true;
}

static bool t_removed_is_empty(void)
{
	const struct sectag_store *st = NULL;

	reset();
	CHECK(save(2) == 0);
	CHECK(agent_store(&ag, &st) == 0 && st->n == 2);
	CHECK(unlink(ag.cfg.store) == 0);
	CHECK(agent_store(&ag, &st) == 0 && st->n == 0);
	return true;
}

static bool t_symlink_refused(void)
{
	const struct sectag_store *st = NULL;
	char real[128];

	reset();
	CHECK(save(1) == 0);
	CHECK(agent_store(&ag, &st) == 0 && st->n == 1);
	snprintf(real, sizeof(real), "%s/real", dir);
	CHECK(rename(ag.cfg.store, real) == 0);
	CHECK(symlink(real, ag.cfg.store) == 0);
	CHECK(agent_store(&ag, &st) == -ELOOP);
	unlink(real);
	return true;
}

static const struct tap_case tests[] = {
	{ "missing_file_is_empty_store", t_missing_is_empty },
	{ "parsed_once_while_unchanged", t_parsed_once },
	{ "saved_store_parsed_again", t_saved_store_reparsed },
	{ "rewritten_in_place_parsed_again", t_rewritten_in_place },
	{ "chmod_group_readable_refused", t_chmod_refused },
	{ "removed_store_is_empty", t_removed_is_empty },
	{ "symlink_refused", t_symlink_refused },
};

int main(void)
{
	int failed;

	strcpy(dir, "/tmp/sectag-cache-test.XXXXXX");
	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		return 1;
	}
	snprintf(ag.cfg.store, sizeof(ag.cfg.store), "%s/store", dir);
	ag.store.fd = -1;
	failed = tap_run_all(tests, sizeof(tests) / sizeof(tests[0]));
	reset();
	unlink(ag.cfg.store);
	rmdir(dir);
	return failed ? 1 : 0;
}
