// SPDX-License-Identifier: GPL-2.0
/*
 * The agent's log: syslog, as any daemon; or, when systemd started it
 * with stderr connected to the journal (JOURNAL_STREAM names stderr's
 * device and inode, systemd.exec(5)), stderr alone, each line once,
 * with the "<N>" priority prefix that journald reads (sd-daemon(3)).
 * Logging to both would put every line in the journal twice. In the
 * foreground (a terminal, a test, a benchmark) stderr alone as well,
 * "sectagd[PID]: " before each line: syslog as well would cost a socket,
 * a failed connect and a close per line where no syslog daemon runs
 * (about 0.8 ms a line in the test VM, three lines a tap).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <syslog.h>
#include <unistd.h>

#include "agent.h"

static bool to_journal;
static bool to_stderr;		/* --foreground, not the journal */
static int max_prio = LOG_INFO;

/* Is stderr the stream systemd connected to the journal? */
static bool stderr_is_journal(void)
{
	const char *js = getenv("JOURNAL_STREAM");
	unsigned long long dev, ino;
	struct stat st;

	if (!js || sscanf(js, "%llu:%llu", &dev, &ino) != 2 ||
	    fstat(STDERR_FILENO, &st))
		return false;
	return st.st_dev == dev && st.st_ino == ino;
}

void agent_log_open(bool foreground, bool debug)
{
	max_prio = debug ? LOG_DEBUG : LOG_INFO;
	to_journal = stderr_is_journal();
	to_stderr = !to_journal && foreground;
	if (to_journal || to_stderr)
		return;
	openlog("sectagd", LOG_PID, LOG_DAEMON);
	setlogmask(LOG_UPTO(max_prio));
}

bool agent_log_journal(void)
{
	return to_journal;
}

void agent_log(int prio, const char *fmt, ...)
{
	int saved = errno;	/* for %m */
	char line[1024];
	va_list ap;
	ssize_t w;
	int n;

	if (LOG_PRI(prio) > max_prio)
		return;
	va_start(ap, fmt);
	if (!to_journal && !to_stderr) {
		errno = saved;
		vsyslog(prio, fmt, ap);
		va_end(ap);
		errno = saved;
		return;
	}
	if (to_journal)
		n = snprintf(line, sizeof(line), "<%d>", LOG_PRI(prio));
	else
		n = snprintf(line, sizeof(line), "sectagd[%d]: ", (int)getpid());
	errno = saved;
	vsnprintf(line + n, sizeof(line) - n - 1, fmt, ap);
	va_end(ap);
	n += strlen(line + n);
	line[n++] = '\n';
	/* One write per line: journald (or a reader) never sees half. */
	w = write(STDERR_FILENO, line, n);
	(void)w;	/* nowhere left to report it */
	errno = saved;
}
