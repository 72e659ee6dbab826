// SPDX-License-Identifier: GPL-2.0
/*
 * Auto-open after a tap, through the sectag-open helper (see
 * userspace/helper/sectag-open.c): libcryptsetup and its dependencies
 * cost the resident agent more than a megabyte of RSS when mapped, for an
 * action that happens once per tap. The agent waits for the helper, as it
 * waited for libcryptsetup before, so the order of events is unchanged.
 *
 * The host secret of a tpm2 binding comes from the same helper
 * (sectag-open --unseal): libtss2 stays out of the agent as well.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <syslog.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "agent.h"
#include "hex.h"
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

#define HELPER_ARGS	6

/*
 * Run the helper with arguments @args (NULL-terminated, at most
 * HELPER_ARGS), its stdout to @out_fd if >= 0 (closed here); 0 or the
 * negative errno it exited with.
 */
static int run_helper(char *const *args, int out_fd)
{
	char path[PATH_MAX], *argv[HELPER_ARGS + 2] = { path };
	size_t i;
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t at;
	pid_t pid;
	int rc, st;

	rc = helper_path(path, sizeof(path));
	if (rc)
		agent_log(LOG_ERR, "%s not found in %s: %s", HELPER,
			  SECTAG_LIBEXECDIR, strerror(-rc));
	for (i = 0; args[i] && i < HELPER_ARGS; i++)
		argv[i + 1] = args[i];
	if (!rc)
		rc = spawn_attrs(&at);
	if (!rc && posix_spawn_file_actions_init(&fa)) {
		posix_spawnattr_destroy(&at);
		rc = -ENOMEM;
	}
	if (!rc) {
		if (out_fd >= 0)
			posix_spawn_file_actions_adddup2(&fa, out_fd, 1);
		rc = -posix_spawn(&pid, path, &fa, &at, argv, environ);
		posix_spawn_file_actions_destroy(&fa);
		posix_spawnattr_destroy(&at);
	}
	/* Our copy of the helper's end: EOF once the helper exits. */
	if (out_fd >= 0)
		close(out_fd);
	if (rc)
		return rc;
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return -errno;
	if (!WIFEXITED(st))
		return -EINTR;
	/* 3: active already; 1: failed, the helper said why on stderr. */
	switch (WEXITSTATUS(st)) {
	case 0:
		return 0;
	case 2:
		return -EINVAL;
	case 3:
		return -EEXIST;
	default:
		return -EIO;
	}
}

int agent_luks_open(const struct sectag_binding *b)
{
	char token[16];
	char *const args[] = { (char *)b->target, (char *)b->device, token,
			       (char *)b->auto_open, NULL };

	snprintf(token, sizeof(token), "%d", b->token);
	return run_helper(args, -1);
}

/* Up to @len bytes from @fd until EOF; how many. */
static size_t read_all(int fd, uint8_t *buf, size_t len)
{
	size_t got = 0;
	ssize_t r;

	while (got < len) {
		r = read(fd, buf + got, len - got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		got += (size_t)r;
	}
	return got;
}

/*
 * The pipe holds 48 bytes at most (read key, host secret): far below
 * PIPE_BUF, so the helper's writes never wait for us, and we read after
 * it exited.
 */
int agent_tpm2_host_secret(const struct sectag_binding *b,
			   uint8_t host_secret[32])
{
	char keyslot[16], uid[15];
	char *const args[] = { "--unseal", (char *)b->target,
			       (char *)b->device, keyslot, uid, NULL };
	uint8_t buf[16 + 32 + 1];
	size_t got = 0;
	int fds[2], rc;

	snprintf(keyslot, sizeof(keyslot), "%d", b->keyslot);
	sectag_hex(uid, b->uid, sizeof(b->uid), false);
	if (pipe2(fds, O_CLOEXEC))
		return -errno;
	rc = run_helper(args, fds[1]);
	if (!rc)
		got = read_all(fds[0], buf, sizeof(buf));
	close(fds[0]);
	/* The token must be this binding's: the same tag's read key. */
	if (!rc && (got != 48 || CRYPTO_memcmp(buf, b->read_key, 16)))
		rc = -EBADMSG;
	if (!rc)
		memcpy(host_secret, buf + 16, 32);
	OPENSSL_cleanse(buf, sizeof(buf));
	return rc;
}
