/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Hex text of keys, UIDs and secrets, and the monotonic clock. */
#ifndef SECTAG_HEX_H
#define SECTAG_HEX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The 2 * @n hex digits of @p into @out (2 * @n + 1 bytes, terminated). */
void sectag_hex(char *out, const uint8_t *p, size_t n, bool upper);
/*
 * Exactly 2 * @n hex digits, the @len characters at @s, into @out;
 * @lower_only refuses upper case (files we write are canonical).
 * 0 or -EINVAL; @out is undefined on failure.
 */
int sectag_unhex(const char *s, size_t len, uint8_t *out, size_t n,
		 bool lower_only);
/* CLOCK_MONOTONIC in milliseconds. */
int64_t sectag_now_ms(void);

#endif
