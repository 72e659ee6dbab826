// SPDX-License-Identifier: GPL-2.0
/*
 * Test helper: a tag lifted in the middle of a session (tests/e2e/pn533.sh).
 * Polls device NFC_INDEX, waits for a target the core did not list before
 * (old ones may be stale: pn533 never reports a loss), connects, selects
 * the NTAG 424 application (expects 90 00), prints "selected", waits for
 * a line on stdin (the test lifts the tag meanwhile), then selects again.
 *
 *   liftmid NFC_INDEX
 *
 * Exit: 0 the second exchange failed as a lost tag's must (prints the
 * error), 1 it succeeded or the setup failed.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <linux/nfc.h>

#include "newtarget.h"

int main(int argc, char **argv)
{
	struct sectag_nfc *nfc;
	size_t rlen;
	uint8_t r[64];
	uint32_t idx;
	int64_t tg;
	char line[16];
	int fd, rc;

	if (argc != 2) {
		fprintf(stderr, "usage: liftmid NFC_INDEX\n");
		return 2;
	}
	idx = (uint32_t)strtoul(argv[1], NULL, 0);
	if (sectag_nfc_open(&nfc))
		return 1;
	tg = new_target(nfc, idx, &rc);
	if (rc) {
		fprintf(stderr, "liftmid: poll: %s\n", strerror(-rc));
		return 1;
	}
	if (tg < 0) {
		fprintf(stderr, "liftmid: no new target on nfc%u\n", idx);
		return 1;
	}
	fd = sectag_nfc_connect(idx, (uint32_t)tg);
	if (fd < 0) {
		fprintf(stderr, "liftmid: connect: %s\n", strerror(-fd));
		return 1;
	}
	rc = sectag_nfc_transceive(fd, select_app, sizeof(select_app), r,
				   sizeof(r), &rlen, 10000);
	if (rc || rlen != 2 || r[0] != 0x90 || r[1] != 0x00) {
		fprintf(stderr, "liftmid: first select failed: %s\n",
			rc ? strerror(-rc) : "bad status");
		return 1;
	}
	printf("selected\n");
	fflush(stdout);
	if (!fgets(line, sizeof(line), stdin))
		return 1;
	rc = sectag_nfc_transceive(fd, select_app, sizeof(select_app), r,
				   sizeof(r), &rlen, 10000);
	close(fd);
	sectag_nfc_close(nfc);
	if (!rc) {
		fprintf(stderr, "liftmid: the lifted tag still answered\n");
		return 1;
	}
	printf("lost: %s\n", strerror(-rc));
	return 0;
}
