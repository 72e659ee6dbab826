/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Hex text as the NTAG 424 tests write their vectors: "90AF000020 00",
 * blanks anywhere between bytes. Not libsectag's hex.c, which parses
 * what users and files give it and reports errors instead of aborting.
 */
#ifndef SECTAG_TESTS_UNIT_UNIT_HEX_H
#define SECTAG_TESTS_UNIT_UNIT_HEX_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

/* The bytes of @s into @out; a vector that is not hex is a broken test. */
static inline size_t unhex(const char *s, uint8_t *out, size_t max)
{
	size_t n = 0;
	unsigned int v;

	while (*s) {
		if (*s == ' ') {
			s++;
			continue;
		}
		if (n >= max || sscanf(s, "%2x", &v) != 1) {
			fprintf(stderr, "bad hex: %s\n", s);
			abort();
		}
		out[n++] = v;
		s += 2;
	}
	return n;
}

/* @p in hex (at most 540 bytes), in one of four buffers used in turn. */
static inline const char *hexs(const uint8_t *p, size_t n)
{
	static char buf[4][1100];
	static int i;
	char *o = buf[i++ & 3];
	size_t k;

	for (k = 0; k < n && k < 540; k++)
		sprintf(o + 2 * k, "%02X", p[k]);
	o[2 * k] = 0;
	return o;
}

#endif
