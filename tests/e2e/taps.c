// SPDX-License-Identifier: GPL-2.0
/*
 * Test helper: a storm of taps on one simulated reader. Each tap places
 * a random tag from the list for a random 0-60 ms; every third one is
 * pulled away by itself after 1-12 frames, i.e. in the middle of the
 * agent's authentication.
 *
 *   taps READER COUNT TAG...
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sim.h"

static void sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

int main(int argc, char **argv)
{
	struct sectag_sim *sim;
	struct timespec t0, t1;
	unsigned long reader, count, i, tags[64];
	int n = argc - 3, k, rc;

	if (argc < 4 || n > 64) {
		fprintf(stderr, "usage: taps READER COUNT TAG...\n");
		return 2;
	}
	reader = strtoul(argv[1], NULL, 0);
	count = strtoul(argv[2], NULL, 0);
	for (k = 0; k < n; k++)
		tags[k] = strtoul(argv[3 + k], NULL, 0);
	if (sectag_sim_open(&sim))
		return 1;
	srand(4242);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (i = 0; i < count; i++) {
		unsigned long tag = tags[rand() % n];
		unsigned int frames = i % 3 ? 0 : rand() % 12 + 1;

		rc = sectag_sim_tag_place_n(sim, tag, reader, frames);
		if (rc) {
			fprintf(stderr, "place %lu: %s\n", tag, strerror(-rc));
			return 1;
		}
		sleep_ms(rand() % 60);
		rc = sectag_sim_tag_remove(sim, tag);
		/* A tag pulled by its frame budget is already gone. */
		if (rc && rc != -EALREADY) {
			fprintf(stderr, "remove %lu: %s\n", tag, strerror(-rc));
			return 1;
		}
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	printf("# %lu taps in %.1f s\n", count, (double)(t1.tv_sec - t0.tv_sec) +
	       (t1.tv_nsec - t0.tv_nsec) / 1e9);
	sectag_sim_close(sim);
	return 0;
}
