// SPDX-License-Identifier: GPL-2.0
/*
 * libFuzzer target: a corrupt or forged enrolment store. The input is
 * the store file's content; it goes through the real
 * sectag_store_load(path), from a 0600 file of ours in a private tmpfs
 * directory (so the ownership and mode checks pass and the parser is
 * reached), rewritten in place each run.
 *
 * Oracles, besides no crash, sanitizer report or leak:
 * - a refused store is -EBADMSG (or -ENOMEM) and leaves an empty store;
 * - an accepted store holds only valid bindings with unique ids below
 *   next-id;
 * - the format is canonical: saving an accepted store with
 *   sectag_store_save() writes back exactly the input bytes, and that
 *   file loads again to a store that saves to the same bytes.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "store.h"

static char dir[PATH_MAX], in_path[PATH_MAX], out_path[PATH_MAX],
	    again_path[PATH_MAX];
static int in_fd = -1;
static char *out_buf;
static size_t out_size;

static void cleanup(void)
{
	unlink(in_path);
	unlink(out_path);
	unlink(again_path);
	rmdir(dir);
}

static void setup(void)
{
	const char *base = access("/dev/shm", W_OK) ? "/tmp" : "/dev/shm";

	snprintf(dir, sizeof(dir), "%s/sectag-fuzz-store.XXXXXX", base);
	if (!mkdtemp(dir))
		abort();
	snprintf(in_path, sizeof(in_path), "%s/in", dir);
	snprintf(out_path, sizeof(out_path), "%s/out", dir);
	snprintf(again_path, sizeof(again_path), "%s/again", dir);
	in_fd = open(in_path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (in_fd < 0 || fchmod(in_fd, 0600))
		abort();
	atexit(cleanup);
}

/* The whole of @path into out_buf; returns its length. */
static size_t slurp(const char *path)
{
	struct stat st;
	size_t len = 0;
	ssize_t r;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st))
		abort();
	if ((size_t)st.st_size + 1 > out_size) {
		free(out_buf);
		out_size = (size_t)st.st_size + 1;
		out_buf = malloc(out_size);
		if (!out_buf)
			abort();
	}
	while ((r = read(fd, out_buf + len, out_size - len)) > 0)
		len += (size_t)r;
	if (r < 0 || len != (size_t)st.st_size)
		abort();
	close(fd);
	return len;
}

static void check_store(const struct sectag_store *s)
{
	size_t i, j;

	for (i = 0; i < s->n; i++) {
		if (sectag_binding_invalid(&s->b[i]) ||
		    s->b[i].id >= s->next_id)
			abort();
		for (j = 0; j < i; j++)
			if (s->b[i].id == s->b[j].id)
				abort();
	}
}

static void round_trip(const struct sectag_store *s, const uint8_t *data,
		       size_t size)
{
	struct sectag_store again;
	size_t len;

	if (sectag_store_save(out_path, s))
		abort();
	len = slurp(out_path);
	if (len != size || memcmp(out_buf, data, size))
		abort();
	if (sectag_store_load(out_path, &again))
		abort();
	if (again.n != s->n || again.next_id != s->next_id)
		abort();
	if (sectag_store_save(again_path, &again))
		abort();
	sectag_store_free(&again);
	len = slurp(again_path);
	if (len != size || memcmp(out_buf, data, size))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sectag_store s;
	int rc;

	if (in_fd < 0)
		setup();
	if (ftruncate(in_fd, 0) ||
	    pwrite(in_fd, data, size, 0) != (ssize_t)size)
		abort();
	rc = sectag_store_load(in_path, &s);
	if (rc) {
		/* An empty file is a corrupt store, a missing one empty. */
		if ((rc != -EBADMSG && rc != -ENOMEM) || s.n || s.b ||
		    s.next_id != 1)
			abort();
		return 0;
	}
	check_store(&s);
	round_trip(&s, data, size);
	sectag_store_free(&s);
	return 0;
}
