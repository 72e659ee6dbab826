// SPDX-License-Identifier: GPL-2.0
/*
 * Host unit tests of sectagd's systemd protocols (userspace/agent/sd.c)
 * and its journal logging (userspace/agent/log.c), compiled in, under
 * ASan + UBSan: notifications reach $NOTIFY_SOCKET (path and abstract),
 * passed sockets are taken only when $LISTEN_PID is ours and the
 * variables are cleared either way, a listening seqpacket socket is told
 * from others, and with $JOURNAL_STREAM naming stderr each line is one
 * "<N>"-prefixed write, debug lines only with --debug. TAP output.
 */
#include <fcntl.h>
#include <sys/stat.h>

#include "../../userspace/agent/sd.c"
#include "../../userspace/agent/log.c"
#include "unit_tap.h"

/* A datagram socket bound to @name ("/path" or "@abstract"). */
static int notify_listener(const char *name)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	socklen_t len = offsetof(struct sockaddr_un, sun_path) + strlen(name);
	int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	memcpy(sa.sun_path, name, strlen(name));
	if (name[0] == '@')
		sa.sun_path[0] = 0;
	if (fd >= 0 && bind(fd, (struct sockaddr *)&sa, len)) {
		close(fd);
		return -1;
	}
	return fd;
}

static bool notify_reaches(const char *name)
{
	char buf[128];
	ssize_t n;
	int fd = notify_listener(name);

	CHECK(fd >= 0);
	setenv("NOTIFY_SOCKET", name, 1);
	CHECK(agent_sd_notify("READY=1\nSTATUS=x") == 1);
	n = recv(fd, buf, sizeof(buf) - 1, MSG_DONTWAIT);
	close(fd);
	CHECK(n == 16);
	buf[n] = 0;
	CHECK(!strcmp(buf, "READY=1\nSTATUS=x"));
	return true;
}

static bool notify_path(void)
{
	char name[64];
	bool ok;

	snprintf(name, sizeof(name), "/tmp/test_sd.%d", (int)getpid());
	ok = notify_reaches(name);
	unlink(name);
	return ok;
}

static bool notify_abstract(void)
{
	char name[64];

	snprintf(name, sizeof(name), "@test_sd.%d", (int)getpid());
	return notify_reaches(name);
}

static bool notify_without_systemd(void)
{
	unsetenv("NOTIFY_SOCKET");
	CHECK(agent_sd_notify("READY=1") == 0);
	setenv("NOTIFY_SOCKET", "relative", 1);
	CHECK(agent_sd_notify("READY=1") < 0);
	unsetenv("NOTIFY_SOCKET");
	return true;
}

static bool vars_cleared(void)
{
	return !getenv("LISTEN_PID") && !getenv("LISTEN_FDS") &&
	       !getenv("LISTEN_FDNAMES");
}

static void set_listen(long pid, const char *fds)
{
	char v[32];

	snprintf(v, sizeof(v), "%ld", pid);
	setenv("LISTEN_PID", v, 1);
	setenv("LISTEN_FDS", fds, 1);
	setenv("LISTEN_FDNAMES", "sectagd.socket", 1);
}

/* A listening seqpacket socket at descriptor 3, as systemd passes it. */
static int passed_socket(void)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_SEQPACKET, 0);

	/* Bound to an autobind (abstract) address: listen() needs one. */
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa_family_t)) ||
	    listen(fd, 4) ||
	    (fd != AGENT_SD_FDS_START && dup2(fd, AGENT_SD_FDS_START) < 0))
		return -1;
	if (fd != AGENT_SD_FDS_START)
		close(fd);
	return AGENT_SD_FDS_START;
}

static bool listen_fds_ours(void)
{
	int fd = passed_socket();

	CHECK(fd == AGENT_SD_FDS_START);
	set_listen(getpid(), "1");
	CHECK(agent_sd_listen_fds() == 1);
	CHECK(vars_cleared());
	CHECK(fcntl(fd, F_GETFD) & FD_CLOEXEC);
	CHECK(agent_sd_is_listening(fd, AF_UNIX, SOCK_SEQPACKET));
	CHECK(!agent_sd_is_listening(fd, AF_UNIX, SOCK_STREAM));
	close(fd);
	return true;
}

static bool listen_fds_not_ours(void)
{
	set_listen(getpid() + 1, "1");
	CHECK(agent_sd_listen_fds() == 0);
	CHECK(vars_cleared());
	set_listen(getpid(), "x");
	CHECK(agent_sd_listen_fds() == 0);
	CHECK(vars_cleared());
	CHECK(agent_sd_listen_fds() == 0);
	return true;
}

static bool not_listening_refused(void)
{
	int sv[2];

	CHECK(!socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv));
	CHECK(!agent_sd_is_listening(sv[0], AF_UNIX, SOCK_SEQPACKET));
	close(sv[0]);
	close(sv[1]);
	CHECK(!agent_sd_is_listening(-1, AF_UNIX, SOCK_SEQPACKET));
	return true;
}

/* stderr redirected to a file that $JOURNAL_STREAM names; returns it. */
static int journal_stderr(char *path, size_t size, int *saved)
{
	struct stat st;
	char v[64];
	int fd;

	snprintf(path, size, "/tmp/test_sd_log.%d", (int)getpid());
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0 || fstat(fd, &st))
		return -1;
	*saved = dup(STDERR_FILENO);
	dup2(fd, STDERR_FILENO);
	snprintf(v, sizeof(v), "%llu:%llu", (unsigned long long)st.st_dev,
		 (unsigned long long)st.st_ino);
	setenv("JOURNAL_STREAM", v, 1);
	return fd;
}

static bool journal_lines_once_with_priority(void)
{
	char path[64], buf[256];
	int fd, saved = -1;
	ssize_t n;

	fd = journal_stderr(path, sizeof(path), &saved);
	CHECK(fd >= 0);
	agent_log_open(false, false);
	errno = ENOENT;
	agent_log(LOG_INFO, "ready: %s", "x");
	agent_log(LOG_DEBUG, "not shown");
	errno = EACCES;
	agent_log(LOG_WARNING, "store: %m");
	dup2(saved, STDERR_FILENO);
	close(saved);
	unsetenv("JOURNAL_STREAM");
	n = pread(fd, buf, sizeof(buf) - 1, 0);
	close(fd);
	unlink(path);
	CHECK(agent_log_journal());
	CHECK(n > 0);
	buf[n] = 0;
	CHECK(!strcmp(buf, "<6>ready: x\n<4>store: Permission denied\n"));
	return true;
}

static bool other_stderr_is_not_journal(void)
{
	setenv("JOURNAL_STREAM", "1:1", 1);
	agent_log_open(false, false);
	unsetenv("JOURNAL_STREAM");
	CHECK(!agent_log_journal());
	closelog();
	return true;
}

int main(void)
{
	static const struct tap_case cases[] = {
		{ "notify_path", notify_path },
		{ "notify_abstract", notify_abstract },
		{ "notify_without_systemd", notify_without_systemd },
		{ "listen_fds_ours", listen_fds_ours },
		{ "listen_fds_not_ours", listen_fds_not_ours },
		{ "not_listening_refused", not_listening_refused },
		{ "journal_lines_once_with_priority",
		  journal_lines_once_with_priority },
		{ "other_stderr_is_not_journal", other_stderr_is_not_journal },
	};

	return tap_run_all(cases, sizeof(cases) / sizeof(cases[0]));
}
