// SPDX-License-Identifier: GPL-2.0
/*
 * Test helper: a simulated reader with the pn533 personality
 * (NFC_SECTAG_F_PN533: no presence check, no TARGET_LOST, a lifted tag
 * makes exchanges fail), which `sectag sim reader add` cannot create.
 * The reader is not owned: it stays until `sectag sim reader del ID`.
 *
 *   pn533reader
 *
 * Prints "ID nfcN" and exits 0; 1 when the simulator refuses.
 */
#include <stdio.h>
#include <string.h>

#include "sim.h"

int main(int argc, char **argv)
{
	struct sectag_sim_reader r;
	struct sectag_sim *sim;
	int rc;

	(void)argv;
	if (argc != 1) {
		fprintf(stderr, "usage: pn533reader\n");
		return 2;
	}
	rc = sectag_sim_open(&sim);
	if (rc) {
		fprintf(stderr, "pn533reader: simulator: %s\n", strerror(-rc));
		return 1;
	}
	rc = sectag_sim_reader_add(sim, NFC_SECTAG_F_PN533, &r);
	sectag_sim_close(sim);
	if (rc) {
		fprintf(stderr, "pn533reader: cannot add reader: %s\n",
			strerror(-rc));
		return 1;
	}
	printf("%u %s\n", r.id, r.name);
	return 0;
}
