// SPDX-License-Identifier: GPL-2.0
/*
 * Test helper: one request on sectagd's control socket, exactly as
 * written (malformed ones included), and every answer printed, one a
 * line: an AUTH's WAITING and then its final answer. The answers are
 * checked with libsectag's parser (userspace/lib/agent.c); an answer it
 * refuses is printed as "BADMSG ...". Exit status 0 when the last
 * answer is "OK ...". With --idle, it sends nothing and prints what
 * comes, "CLOSED" when the agent hangs up.
 *
 *   ctl SOCKET REQUEST|--idle
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "agent.h"

int main(int argc, char **argv)
{
	struct sectag_agent_ans a;
	char msg[SECTAG_AGENT_MSG_MAX + 1];
	int64_t deadline;
	int fd, rc, n;

	if (argc != 3) {
		fprintf(stderr, "usage: ctl SOCKET REQUEST\n");
		return 2;
	}
	/* Any agent: this helper also talks to agents run as others. */
	fd = sectag_agent_connect(argv[1], 10000, geteuid(), NULL);
	if (fd < 0) {
		fprintf(stderr, "ctl: %s: %s\n", argv[1], strerror(-fd));
		return 1;
	}
	if (strcmp(argv[2], "--idle") &&
	    send(fd, argv[2], strlen(argv[2]), MSG_NOSIGNAL) < 0) {
		perror("ctl: send");
		return 1;
	}
	deadline = sectag_agent_now_ms() + SECTAG_AGENT_WAIT_MAX_MS + 10000;
	do {
		rc = sectag_agent_recv(fd, &a, deadline);
		if (rc) {
			printf("%s\n", rc == -ECONNRESET ? "CLOSED" :
			       rc == -EBADMSG ? "BADMSG" : strerror(-rc));
			return 1;
		}
		n = sectag_agent_ans_format(&a, msg, sizeof(msg));
		printf("%s\n", n < 0 ? "?" : msg);
		fflush(stdout);
	} while (a.type == SECTAG_AGENT_WAITING);
	close(fd);
	return a.type == SECTAG_AGENT_OK || a.type == SECTAG_AGENT_HELLO ? 0 : 1;
}
