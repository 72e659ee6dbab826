// SPDX-License-Identifier: GPL-2.0
/*
 * The store as the agent sees it: parsed once, and parsed again only
 * when its file changed, rather than read and parsed on every tap, every
 * removal and every PAM question (a few tenths of a millisecond a tap in
 * the test VM with a small store, milliseconds with a large one).
 *
 * Whether the file changed: the agent keeps the file it parsed open, so
 * no other file can be given that inode while the cache lives; sectag
 * saves a store by writing a new file and renaming it over the old one
 * (store.h), so a store saved since has another device and inode than
 * the cached one. Changes in place (an editor writing over the file)
 * show in the size or the modification time; chmod and chown change the
 * status change time, so the owner and mode checks of a load are made
 * again. A missing file is an empty store, as for sectag_store_load().
 *
 * The cached bindings hold the tags' read keys and the host secrets, as
 * the store file does (root alone reads either); they are wiped when the
 * store is parsed again and when the agent stops.
 */
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include "agent.h"

static bool same_time(const struct timespec *x, const struct timespec *y)
{
	return x->tv_sec == y->tv_sec && x->tv_nsec == y->tv_nsec;
}

static bool unchanged(const struct stat *now, const struct stat *then)
{
	return now->st_dev == then->st_dev && now->st_ino == then->st_ino &&
	       now->st_size == then->st_size &&
	       same_time(&now->st_mtim, &then->st_mtim) &&
	       same_time(&now->st_ctim, &then->st_ctim);
}

void agent_store_drop(struct agent *a)
{
	struct agent_store *c = &a->store;

	sectag_store_free(&c->st);
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
}

int agent_store(struct agent *a, const struct sectag_store **st)
{
	struct agent_store *c = &a->store;
	struct stat now;
	int fd, rc;

	/* lstat: the store is opened with O_NOFOLLOW, a link is refused. */
	if (c->fd >= 0 && !lstat(a->cfg.store, &now) &&
	    unchanged(&now, &c->loaded)) {
		*st = &c->st;
		return 0;
	}
	agent_store_drop(a);
	fd = sectag_store_open(a->cfg.store);
	if (fd == -ENOENT) {
		*st = &c->st;		/* empty, and not cached */
		return 0;
	}
	if (fd < 0)
		return fd;
	rc = fstat(fd, &c->loaded) ? -errno : sectag_store_load_fd(fd, &c->st);
	if (rc) {
		close(fd);
		return rc;
	}
	c->fd = fd;
	c->parsed++;
	*st = &c->st;
	return 0;
}
