// SPDX-License-Identifier: GPL-2.0
/*
 * libFuzzer target: a hostile or mistyped /etc/sectag/sectagd.conf. The
 * production parser, userspace/agent/config.c, is compiled into this
 * file unchanged; only its logger, agent_log(), is redirected, to a
 * formatter that still expands every argument (so a bad pointer in a
 * log line is caught) without a round trip to /dev/log per line. The input is the
 * file's content, written to a file in a private tmpfs directory and
 * read through the real config_load(path).
 *
 * Oracles, besides no crash, sanitizer report or leak:
 * - an accepted file yields values in their documented ranges (paths
 *   absolute and terminated, timeouts and limits within bounds,
 *   booleans 0 or 1);
 * - written back as "key = value" lines, the accepted settings load
 *   again to the same values.
 */
#define agent_log fuzz_syslog
#include "../userspace/agent/config.c"
#undef agent_log

#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <sys/stat.h>
#include <unistd.h>

static unsigned long log_lines;

void fuzz_syslog(int prio, const char *fmt, ...)
{
	char buf[1024];
	va_list ap;

	va_start(ap, fmt);
	if (vsnprintf(buf, sizeof(buf), fmt, ap) >= 0 && prio >= 0)
		log_lines++;
	va_end(ap);
}

static char dir[PATH_MAX], in_path[PATH_MAX], again_path[PATH_MAX];
static int in_fd = -1;

static void cleanup(void)
{
	unlink(in_path);
	unlink(again_path);
	rmdir(dir);
}

static void setup(void)
{
	const char *base = access("/dev/shm", W_OK) ? "/tmp" : "/dev/shm";

	snprintf(dir, sizeof(dir), "%s/sectag-fuzz-config.XXXXXX", base);
	if (!mkdtemp(dir))
		abort();
	snprintf(in_path, sizeof(in_path), "%s/sectagd.conf", dir);
	snprintf(again_path, sizeof(again_path), "%s/again.conf", dir);
	in_fd = open(in_path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (in_fd < 0)
		abort();
	atexit(cleanup);
}

static void write_file(int fd, const void *p, size_t n)
{
	if (ftruncate(fd, 0) || pwrite(fd, p, n, 0) != (ssize_t)n)
		abort();
}

static bool path_ok(const char *p, size_t size)
{
	size_t n = strnlen(p, size);

	return n < size && n > 0 && p[0] == '/' && !strpbrk(p, "#\n");
}

static void check_ranges(const struct config *c)
{
	if (!path_ok(c->store, sizeof(c->store)) ||
	    !path_ok(c->socket, sizeof(c->socket)) ||
	    c->key_timeout_s > 86400 ||
	    c->exchange_timeout_ms < 50 || c->exchange_timeout_ms > 10000 ||
	    c->max_failures < 1 || c->max_failures > 1000 ||
	    (c->revoke_on_removal != 0 && c->revoke_on_removal != 1) ||
	    (c->uevents != 0 && c->uevents != 1))
		abort();
}

/* The settings this harness knows, written back and read again. */
static void round_trip(const struct config *c)
{
	struct config again;
	char buf[1024];
	int n, fd;

	n = snprintf(buf, sizeof(buf),
		     "store = %s\nsocket = %s\nkey_timeout = %u\n"
		     "exchange_timeout_ms = %u\nmax_failures_per_minute = %u\n"
		     "revoke_on_removal = %s\nuevents = %s\n",
		     c->store, c->socket, c->key_timeout_s,
		     c->exchange_timeout_ms, c->max_failures,
		     c->revoke_on_removal ? "yes" : "no",
		     c->uevents ? "yes" : "no");
	if (n < 0 || (size_t)n >= sizeof(buf))
		abort();
	memcpy(&again, c, sizeof(again));
	fd = open(again_path, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0)
		abort();
	write_file(fd, buf, (size_t)n);
	close(fd);
	/* Starting from the first result: settings unknown here stay. */
	if (config_load(&again, again_path, true) ||
	    memcmp(&again, c, sizeof(again)))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct config c;

	if (in_fd < 0)
		setup();
	write_file(in_fd, data, size);
	config_defaults(&c);
	if (config_load(&c, in_path, true))
		return 0;
	check_ranges(&c);
	round_trip(&c);
	return 0;
}
