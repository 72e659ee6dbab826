// SPDX-License-Identifier: LGPL-2.1-or-later
#include <errno.h>
#include <time.h>

#include "hex.h"

void sectag_hex(char *out, const uint8_t *p, size_t n, bool upper)
{
	const char *digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
	size_t i;

	for (i = 0; i < n; i++) {
		out[2 * i] = digits[p[i] >> 4];
		out[2 * i + 1] = digits[p[i] & 15];
	}
	out[2 * n] = 0;
}

static int hexval(char c, bool lower_only)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (!lower_only && c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int sectag_unhex(const char *s, size_t len, uint8_t *out, size_t n,
		 bool lower_only)
{
	int hi, lo;
	size_t i;

	if (len != 2 * n)
		return -EINVAL;
	for (i = 0; i < n; i++) {
		hi = hexval(s[2 * i], lower_only);
		lo = hexval(s[2 * i + 1], lower_only);
		if (hi < 0 || lo < 0)
			return -EINVAL;
		out[i] = (uint8_t)(hi << 4 | lo);
	}
	return 0;
}

int64_t sectag_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}
