// SPDX-License-Identifier: GPL-2.0
/*
 * Test helper: a hostile device in the field. A relay tag answers like a
 * phone emulating the NTAG 424 application: the application exists,
 * GetVersion claims an all-zero UID (as a Random ID tag does), and every
 * authentication gets noise, then 91 AE. It counts what the reader
 * tried and prints it when the reader has gone quiet.
 *
 *   zerouid READER_ID [DELAY_MS]
 *
 * DELAY_MS: answer every frame that late (a device stalling the reader).
 * Prints "frames=N auths=A span_ms=T" (T: first to last frame) and exits
 * 0 once no frame came for 3 s after the first one (1 if none came in
 * 60 s, 2 on usage or simulator errors).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sim.h"

static long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

static void sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

/* The answer to @f: see the header. @gv counts GetVersion frames. */
static size_t answer(const struct sectag_sim_frame *f, uint8_t *r, int *gv)
{
	static const uint8_t part[] = { 4, 4, 2, 0x30, 0, 0x11, 5, 0x91, 0xaf };
	const uint8_t *c = f->data;
	size_t i;

	if (f->len >= 2 && c[0] == 0x00 && c[1] == 0xa4) {
		r[0] = 0x90;
		r[1] = 0x00;
		return 2;
	}
	if (f->len >= 2 && c[0] == 0x90 && c[1] == 0x60)
		*gv = 0;
	if (f->len >= 2 && c[0] == 0x90 &&
	    (c[1] == 0x60 || (c[1] == 0xaf && f->len == 5 && *gv < 3))) {
		if (++*gv < 3) {
			memcpy(r, part, sizeof(part));
			return sizeof(part);
		}
		memset(r, 0, 14);		/* UID 00000000000000 */
		r[14] = 0x91;
		r[15] = 0x00;
		return 16;
	}
	if (f->len >= 2 && c[0] == 0x90 && (c[1] == 0x71 || c[1] == 0x77)) {
		for (i = 0; i < 16; i++)
			r[i] = (uint8_t)rand();
		r[16] = 0x91;
		r[17] = 0xaf;
		return 18;
	}
	r[0] = 0x91;
	r[1] = 0xae;
	return 2;
}

int main(int argc, char **argv)
{
	struct sectag_sim *ctl, *relay;
	struct sectag_sim_frame f;
	struct sectag_sim_tag t;
	long first = 0, last = 0, deadline;
	int delay = argc > 2 ? atoi(argv[2]) : 0;
	int frames = 0, auths = 0, gv = 0, rc;
	uint8_t r[64];
	size_t n;

	if (argc < 2 || argc > 3) {
		fprintf(stderr, "usage: zerouid READER_ID [DELAY_MS]\n");
		return 2;
	}
	if (sectag_sim_open(&ctl) || sectag_sim_open(&relay))
		return 2;
	rc = sectag_sim_tag_add(relay, NFC_SECTAG_PROFILE_RELAY, NULL, 0, &t);
	if (!rc)
		rc = sectag_sim_tag_place(ctl, t.id,
					  (uint32_t)strtoul(argv[1], NULL, 0));
	if (rc) {
		fprintf(stderr, "zerouid: %s\n", strerror(-rc));
		return 2;
	}
	printf("# relay tag %u placed\n", t.id);
	fflush(stdout);
	deadline = now_ms() + 60000;
	for (;;) {
		rc = sectag_sim_relay_recv(relay, &f, frames ? 3000 : 1000);
		if (rc == -ETIMEDOUT && (frames || now_ms() > deadline))
			break;
		if (rc == -ETIMEDOUT)
			continue;
		if (rc) {
			fprintf(stderr, "zerouid: %s\n", strerror(-rc));
			return 2;
		}
		last = now_ms();
		if (!frames++)
			first = last;
		auths += f.len >= 2 && f.data[0] == 0x90 &&
			 (f.data[1] == 0x71 || f.data[1] == 0x77);
		n = answer(&f, r, &gv);
		if (delay)
			sleep_ms(delay);
		sectag_sim_relay_answer(relay, f.tag_id, f.cookie, r, n, 0);
	}
	printf("frames=%d auths=%d span_ms=%ld\n", frames, auths, last - first);
	sectag_sim_close(relay);	/* the relay tag dies with its socket */
	sectag_sim_close(ctl);
	return frames ? 0 : 1;
}
