// SPDX-License-Identifier: GPL-2.0
/*
 * The two pieces of systemd's service protocol the agent speaks, written
 * from their documentation (sd_notify(3), sd_listen_fds(3)) rather than
 * linked from libsystemd: that library and what it pulls in (libgcrypt,
 * libzstd, liblz4, liblzma, libcap) doubled the idle agent's RSS, from
 * 2.4 to 4.5 MiB, over its 4 MiB budget (Documentation/bench.md).
 *
 * Readiness and status: one datagram of "VAR=value" lines to the
 * AF_UNIX socket $NOTIFY_SOCKET names (a path, or '@' for the abstract
 * namespace). Socket activation: $LISTEN_PID is our pid and $LISTEN_FDS
 * descriptors start at 3.
 */
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "agent.h"

int agent_sd_notify(const char *msg)
{
	const char *path = getenv("NOTIFY_SOCKET");
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	socklen_t len;
	ssize_t n;
	int fd;

	if (!path)
		return 0;
	if ((path[0] != '/' && path[0] != '@') ||
	    strlen(path) >= sizeof(sa.sun_path))
		return -EAFNOSUPPORT;
	memcpy(sa.sun_path, path, strlen(path));
	if (path[0] == '@')
		sa.sun_path[0] = 0;
	len = offsetof(struct sockaddr_un, sun_path) + strlen(path);
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	n = sendto(fd, msg, strlen(msg), MSG_NOSIGNAL,
		   (struct sockaddr *)&sa, len);
	close(fd);
	return n < 0 ? -errno : 1;
}

/* A decimal environment variable, or -1. */
static long env_num(const char *name)
{
	const char *v = getenv(name);
	char *end;
	long n;

	if (!v || !*v)
		return -1;
	errno = 0;
	n = strtol(v, &end, 10);
	return errno || *end || n < 0 ? -1 : n;
}

int agent_sd_listen_fds(void)
{
	long pid = env_num("LISTEN_PID"), n = env_num("LISTEN_FDS");
	int fd;

	/* Meant for us alone: our children must not take them too. */
	unsetenv("LISTEN_PID");
	unsetenv("LISTEN_FDS");
	unsetenv("LISTEN_FDNAMES");
	if (pid != (long)getpid() || n <= 0)
		return 0;
	if (n > 64)
		return -EINVAL;
	for (fd = AGENT_SD_FDS_START; fd < AGENT_SD_FDS_START + n; fd++)
		if (fcntl(fd, F_SETFD, FD_CLOEXEC))
			return -errno;
	return (int)n;
}

bool agent_sd_is_listening(int fd, int domain, int type)
{
	int v[3] = { 0 };
	socklen_t len = sizeof(int);
	const int opt[3] = { SO_DOMAIN, SO_TYPE, SO_ACCEPTCONN };
	int i;

	for (i = 0; i < 3; i++) {
		len = sizeof(int);
		if (getsockopt(fd, SOL_SOCKET, opt[i], &v[i], &len))
			return false;
	}
	return v[0] == domain && v[1] == type && v[2];
}
