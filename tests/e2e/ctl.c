// SPDX-License-Identifier: GPL-2.0
/* Test helper: one request on sectagd's control socket, print the answer. */
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct pollfd p = { .events = POLLIN };
	char ans[256];
	ssize_t n;

	if (argc != 3 || strlen(argv[1]) >= sizeof(sa.sun_path)) {
		fprintf(stderr, "usage: ctl SOCKET REQUEST\n");
		return 2;
	}
	strcpy(sa.sun_path, argv[1]);
	p.fd = socket(AF_UNIX, SOCK_SEQPACKET, 0);
	if (p.fd < 0 || connect(p.fd, (struct sockaddr *)&sa, sizeof(sa)) ||
	    send(p.fd, argv[2], strlen(argv[2]), 0) < 0) {
		perror("ctl");
		return 1;
	}
	if (poll(&p, 1, 30000) != 1) {
		fprintf(stderr, "ctl: no answer\n");
		return 1;
	}
	n = recv(p.fd, ans, sizeof(ans) - 1, 0);
	if (n <= 0)
		return 1;
	ans[n] = 0;
	printf("%s\n", ans);
	return !strncmp(ans, "OK", 2) ? 0 : 1;
}
