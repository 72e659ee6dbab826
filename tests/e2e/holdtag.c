// SPDX-License-Identifier: GPL-2.0
/*
 * Test helper: a process that holds a reader, as any local user can with
 * an AF_NFC raw socket. Waits until device NFC_INDEX lists a target (it
 * does not poll: someone else must), connects to it, prints "held" and
 * keeps the socket until stdin closes.
 *
 *   holdtag NFC_INDEX
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "nfc.h"

int main(int argc, char **argv)
{
	struct sectag_nfc_target *v = NULL;
	struct sectag_nfc *nfc;
	struct timespec ts = { 0, 50000000L };
	uint32_t idx;
	size_t n = 0;
	char c;
	int fd, i;

	if (argc != 2) {
		fprintf(stderr, "usage: holdtag NFC_INDEX\n");
		return 2;
	}
	idx = (uint32_t)strtoul(argv[1], NULL, 0);
	if (sectag_nfc_open(&nfc))
		return 1;
	for (i = 0; i < 600 && !n; i++) {
		free(v);
		v = NULL;
		if (sectag_nfc_targets(nfc, idx, &v, &n))
			n = 0;
		if (!n)
			nanosleep(&ts, NULL);
	}
	if (!n) {
		fprintf(stderr, "holdtag: no target on nfc%u\n", idx);
		return 1;
	}
	fd = sectag_nfc_connect(idx, v[0].idx);
	free(v);
	if (fd < 0) {
		fprintf(stderr, "holdtag: connect: %s\n", strerror(-fd));
		return 1;
	}
	printf("held\n");
	fflush(stdout);
	while (read(STDIN_FILENO, &c, 1) > 0)
		;
	close(fd);
	sectag_nfc_close(nfc);
	return 0;
}
