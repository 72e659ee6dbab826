// SPDX-License-Identifier: GPL-2.0
/*
 * Auto-open after a tap, through the sectag-open helper (see
 * userspace/helper/sectag-open.c): libcryptsetup and its dependencies
 * cost the resident agent more than a megabyte of RSS when mapped, for an
 * action that happens once per tap. The agent waits for the helper, as it
 * waited for libcryptsetup before, so the order of events is unchanged.
 */
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <syslog.h>
#include <unistd.h>

#include "agent.h"
#include "store.h"

#ifndef SECTAG_LIBEXECDIR
#define SECTAG_LIBEXECDIR	"/usr/local/libexec/sectag"
#endif
#define HELPER			"sectag-open"

extern char **environ;

/*
 * Next to the agent's own binary first (a build tree, or an install
 * that keeps them together), else the configured libexec directory.
 */
static int helper_path(char *path, size_t size)
{
	ssize_t n;
	char *slash;

	n = readlink("/proc/self/exe", path, size - 1);
	if (n > 0 && (size_t)n + sizeof(HELPER) < size) {
		path[n] = 0;
		slash = strrchr(path, '/');
		if (slash) {
			memcpy(slash + 1, HELPER, sizeof(HELPER));
			if (!access(path, X_OK))
				return 0;
		}
	}
	snprintf(path, size, "%s/%s", SECTAG_LIBEXECDIR, HELPER);
	return access(path, X_OK) ? -errno : 0;
}

/* The helper starts with default signals and none blocked. */
static int spawn_attrs(posix_spawnattr_t *at)
{
	sigset_t none, all;

	sigemptyset(&none);
	sigfillset(&all);
	if (posix_spawnattr_init(at))
		return -ENOMEM;
	if (posix_spawnattr_setsigmask(at, &none) ||
	    posix_spawnattr_setsigdefault(at, &all) ||
	    posix_spawnattr_setflags(at, POSIX_SPAWN_SETSIGMASK |
				     POSIX_SPAWN_SETSIGDEF)) {
		posix_spawnattr_destroy(at);
		return -EINVAL;
	}
	return 0;
}

int agent_luks_open(const struct sectag_binding *b)
{
	char path[PATH_MAX], token[16];
	char *argv[] = { path, (char *)b->target, (char *)b->device, token,
			 (char *)b->auto_open, NULL };
	posix_spawnattr_t at;
	pid_t pid;
	int rc, st;

	rc = helper_path(path, sizeof(path));
	if (rc) {
		agent_log(LOG_ERR, "%s not found in %s: %s", HELPER,
			  SECTAG_LIBEXECDIR, strerror(-rc));
		return rc;
	}
	snprintf(token, sizeof(token), "%d", b->token);
	rc = spawn_attrs(&at);
	if (rc)
		return rc;
	rc = posix_spawn(&pid, path, NULL, &at, argv, environ);
	posix_spawnattr_destroy(&at);
	if (rc)
		return -rc;
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return -errno;
	if (!WIFEXITED(st))
		return -EINTR;
	return WEXITSTATUS(st) == 255 ? -EINVAL : -WEXITSTATUS(st);
}
