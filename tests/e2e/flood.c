// SPDX-License-Identifier: GPL-2.0
/*
 * Test helper: an unprivileged user trying to exhaust sectagd's control
 * socket. Opens COUNT connections and holds them, sending nothing; every
 * connection the agent drops is counted and opened again (at most one
 * round of reconnections per 100 ms), until SIGTERM or SIGINT. Then
 * prints one line for the test:
 *
 *   flood: opened O, dropped D, open at the end E
 *
 *   flood SOCKET COUNT
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

/* A connection, or -1 when the backlog is full right now. */
static int open_one(const struct sockaddr_un *sa)
{
	int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK | SOCK_CLOEXEC,
			0);

	if (fd < 0)
		return -1;
	if (connect(fd, (const struct sockaddr *)sa, sizeof(*sa))) {
		if (errno != EAGAIN && errno != EINPROGRESS)
			fprintf(stderr, "flood: connect: %m\n");
		close(fd);
		return -1;
	}
	return fd;
}

int main(int argc, char **argv)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	unsigned long opened = 0, dropped = 0, open_now;
	struct sigaction act = { .sa_handler = on_signal };
	struct pollfd *p;
	char c;
	int count, i;

	if (argc != 3 || strlen(argv[1]) >= sizeof(sa.sun_path) ||
	    atoi(argv[2]) < 1) {
		fprintf(stderr, "usage: flood SOCKET COUNT\n");
		return 2;
	}
	strcpy(sa.sun_path, argv[1]);
	count = atoi(argv[2]);
	p = calloc(count, sizeof(*p));
	if (!p)
		return 1;
	for (i = 0; i < count; i++)
		p[i].fd = -1;
	sigaction(SIGTERM, &act, NULL);
	sigaction(SIGINT, &act, NULL);
	printf("flood: %d connections to %s\n", count, argv[1]);
	fflush(stdout);
	while (!stop) {
		for (i = 0; i < count; i++) {
			if (p[i].fd >= 0)
				continue;
			p[i].fd = open_one(&sa);
			p[i].events = POLLIN;
			opened += p[i].fd >= 0;
		}
		if (poll(p, count, 100) < 0 && errno != EINTR)
			break;
		for (i = 0; i < count; i++) {
			if (p[i].fd < 0 || !(p[i].revents & (POLLIN | POLLHUP)))
				continue;
			/* The agent never writes unasked: this is a hang-up. */
			if (recv(p[i].fd, &c, 1, MSG_DONTWAIT) > 0)
				fprintf(stderr, "flood: unexpected data\n");
			close(p[i].fd);
			p[i].fd = -1;
			dropped++;
		}
		if (!stop)
			poll(NULL, 0, 100);
	}
	for (open_now = 0, i = 0; i < count; i++)
		open_now += p[i].fd >= 0;
	printf("flood: opened %lu, dropped %lu, open at the end %lu\n", opened,
	       dropped, open_now);
	return 0;
}
