// SPDX-License-Identifier: GPL-2.0
/*
 * One round of tests/nci/closerace.sh (a reproducer, make check-extra):
 * a raw socket closed the moment a lifted tag's exchange fails. Polls device NFC_INDEX, connects to the
 * first target the core did not list before, selects the NTAG 424
 * application, prints "selected" and waits for a line on stdin (the
 * script lifts the tag meanwhile). Then it selects again and spins on the
 * socket until the exchange fails, and at once either closes the socket
 * (MODE close) or deactivates the target first (MODE disconnect:
 * sectag_nfc_disconnect()); with WAIT_MS it gives up on the exchange
 * after WAIT_MS (the tag lifted from a controller that says nothing,
 * ncidevemu --silent-lift) and does the same. Last, as sectagd does
 * after a removal, it
 * polls the device again, retrying while the core refuses (EBUSY: the
 * target may still be active), and prints "repoll MS" (the time from the
 * close to the poll accepted) before it stops that poll.
 *
 *   closerace NFC_INDEX close|disconnect [WAIT_MS]
 *
 * Why spin: af_nfc reports the failed exchange before its worker drops
 * the socket reference it holds (rawsock_data_exchange_complete()); a
 * close() that comes in between leaves the target's deactivation to that
 * worker, in the NCI core's receive workqueue, where it waits for a
 * response only that workqueue can deliver (30 s). A reader asleep in
 * poll() is woken a little later than a spinning one, so it hits that
 * window less often (Documentation/readers.md).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/socket.h>

#include <linux/nfc.h>

#include "hex.h"
#include "newtarget.h"

/* Powered, polled: a target not listed before, or -1. */
static int64_t fresh_target(struct sectag_nfc *nfc, uint32_t idx)
{
	int rc = sectag_nfc_dev_up(nfc, idx);

	if (rc && rc != -EALREADY)
		return -1;
	return new_target(nfc, idx, &rc);
}

/* Send the SELECT again and spin until the exchange fails. */
static int fail_spinning(int fd, int wait_ms)
{
	int64_t end = sectag_now_ms() + wait_ms;
	uint8_t buf[64];
	ssize_t n;

	if (send(fd, select_app, sizeof(select_app), MSG_NOSIGNAL) < 0)
		return -errno;
	while (sectag_now_ms() < end) {
		n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
		if (n < 0 && errno != EAGAIN)
			return -errno;
		if (n >= 0)
			return 0;	/* an answer: the tag is still there */
	}
	return -ETIMEDOUT;
}

int main(int argc, char **argv)
{
	struct sectag_nfc *nfc;
	int64_t tg, t0;
	uint8_t r[64];
	size_t rlen;
	char line[16];
	uint32_t idx;
	int fd, rc, wait_ms = 10000;
	bool deact;

	if (argc < 3 || argc > 4 || (strcmp(argv[2], "close") &&
				     strcmp(argv[2], "disconnect"))) {
		fprintf(stderr, "usage: closerace NFC_INDEX close|disconnect "
			"[WAIT_MS]\n");
		return 2;
	}
	if (argc == 4)
		wait_ms = atoi(argv[3]);
	idx = (uint32_t)strtoul(argv[1], NULL, 0);
	deact = !strcmp(argv[2], "disconnect");
	if (sectag_nfc_open(&nfc))
		return 1;
	tg = fresh_target(nfc, idx);
	if (tg < 0) {
		fprintf(stderr, "closerace: no new target on nfc%u\n", idx);
		return 1;
	}
	fd = sectag_nfc_connect(idx, (uint32_t)tg);
	if (fd < 0) {
		fprintf(stderr, "closerace: connect: %s\n", strerror(-fd));
		return 1;
	}
	rc = sectag_nfc_transceive(fd, select_app, sizeof(select_app), r,
				   sizeof(r), &rlen, 10000);
	if (rc || rlen != 2 || r[0] != 0x90 || r[1] != 0x00) {
		fprintf(stderr, "closerace: first select failed\n");
		return 1;
	}
	printf("selected\n");
	fflush(stdout);
	if (!fgets(line, sizeof(line), stdin))
		return 1;
	rc = fail_spinning(fd, wait_ms);
	if (deact)
		sectag_nfc_disconnect(nfc, idx, (uint32_t)tg, fd);
	else
		close(fd);
	if (rc != (argc == 4 ? -ETIMEDOUT : -EIO)) {
		fprintf(stderr, "closerace: the exchange ended with %s\n",
			rc ? strerror(-rc) : "an answer");
		return 1;
	}
	t0 = sectag_now_ms();
	while ((rc = sectag_nfc_start_poll(nfc, idx,
					   NFC_PROTO_ISO14443_MASK)) == -EBUSY &&
	       sectag_now_ms() - t0 < 60000)
		usleep(10000);
	printf("repoll %lld\n", (long long)(sectag_now_ms() - t0));
	if (!rc)
		sectag_nfc_stop_poll(nfc, idx);
	sectag_nfc_close(nfc);
	return rc ? 1 : 0;
}
