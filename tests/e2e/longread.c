// SPDX-License-Identifier: GPL-2.0
/*
 * Test helper for tests/usb/mi-crash.sh: one long answer through an AF_NFC
 * raw socket. Polls device NFC_INDEX, connects to the first target,
 * selects the NTAG 424 application and its NDEF file (E104h, 256 bytes,
 * free read on a virgin tag) and reads it whole with ISOReadBinary (Le 00):
 * a 258-byte answer, which pn533emu --chain-answers sends chained (MI).
 * Prints "selected" before the read, then "read N bytes, SW XXXX", or the
 * error; the answer to the read is waited for TIMEOUT_MS.
 *
 *   longread NFC_INDEX TIMEOUT_MS
 *
 * Exit: 0 the whole file came back with 90 00; 1 otherwise.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <linux/nfc.h>

#include "nfc.h"

static const uint8_t select_app[] = {
	0x00, 0xA4, 0x04, 0x0C, 0x07, 0xD2, 0x76, 0x00, 0x00, 0x85, 0x01, 0x01,
	0x00
};
static const uint8_t select_ndef[] = { 0x00, 0xA4, 0x02, 0x0C, 0x02, 0xE1,
				       0x04 };
static const uint8_t read_all[] = { 0x00, 0xB0, 0x00, 0x00, 0x00 };

/* CAPDU must be answered 90 00 alone. */
static int plain(int fd, const uint8_t *capdu, size_t n, const char *what)
{
	uint8_t r[16];
	size_t rlen;
	int rc;

	rc = sectag_nfc_transceive(fd, capdu, n, r, sizeof(r), &rlen, 10000);
	if (rc || rlen != 2 || r[0] != 0x90 || r[1] != 0x00) {
		fprintf(stderr, "longread: %s failed: %s\n", what,
			rc ? strerror(-rc) : "bad status");
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct sectag_nfc_target tg;
	struct sectag_nfc *nfc;
	uint8_t r[300];
	size_t rlen;
	uint32_t idx;
	int fd, rc, ms;

	if (argc != 3) {
		fprintf(stderr, "usage: longread NFC_INDEX TIMEOUT_MS\n");
		return 2;
	}
	idx = (uint32_t)strtoul(argv[1], NULL, 0);
	ms = atoi(argv[2]);
	if (sectag_nfc_open(&nfc))
		return 1;
	/* A reader nobody used yet is down. */
	rc = sectag_nfc_dev_up(nfc, idx);
	if (rc && rc != -EALREADY) {
		fprintf(stderr, "longread: dev_up: %s\n", strerror(-rc));
		return 1;
	}
	rc = sectag_nfc_start_poll(nfc, idx, NFC_PROTO_ISO14443_MASK);
	if (!rc)
		rc = sectag_nfc_wait_target(nfc, idx, 30000, &tg);
	if (rc) {
		fprintf(stderr, "longread: no target: %s\n", strerror(-rc));
		return 1;
	}
	fd = sectag_nfc_connect(idx, tg.idx);
	if (fd < 0) {
		fprintf(stderr, "longread: connect: %s\n", strerror(-fd));
		return 1;
	}
	if (plain(fd, select_app, sizeof(select_app), "select application") ||
	    plain(fd, select_ndef, sizeof(select_ndef), "select NDEF file"))
		return 1;
	printf("selected\n");
	fflush(stdout);
	rc = sectag_nfc_transceive(fd, read_all, sizeof(read_all), r,
				   sizeof(r), &rlen, ms);
	if (rc) {
		/* No close: on a crashed driver it would block. */
		printf("read failed: %s\n", strerror(-rc));
		fflush(stdout);
		return 1;
	}
	printf("read %zu bytes, SW %02X%02X\n", rlen, rlen >= 2 ? r[rlen - 2] : 0,
	       rlen >= 2 ? r[rlen - 1] : 0);
	fflush(stdout);
	close(fd);
	sectag_nfc_close(nfc);
	return rlen == 258 && r[256] == 0x90 && r[257] == 0x00 ? 0 : 1;
}
