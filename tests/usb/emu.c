// SPDX-License-Identifier: GPL-2.0
/* The log and the --uid of every reader emulator (emu.h). */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "emu.h"

bool emu_verbose;
static const char *emu_name = "emu";

void emu_set_name(const char *name)
{
	emu_name = name;
}

static void vlog(const char *fmt, va_list ap)
{
	fprintf(stderr, "%s: ", emu_name);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
}

void emu_log(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(fmt, ap);
	va_end(ap);
}

void emu_vlog(const char *fmt, ...)
{
	va_list ap;

	if (!emu_verbose)
		return;
	va_start(ap, fmt);
	vlog(fmt, ap);
	va_end(ap);
}

void emu_dbg_hex(const char *what, const uint8_t *p, size_t n)
{
	size_t i;

	if (!emu_verbose)
		return;
	fprintf(stderr, "%s: %s", emu_name, what);
	for (i = 0; i < n && i < 48; i++)
		fprintf(stderr, " %02x", p[i]);
	fprintf(stderr, n > 48 ? " ... (%zu)\n" : "\n", n);
}

int emu_parse_uid(const char *s, uint8_t uid[7])
{
	unsigned int v;
	int i;

	if (strlen(s) != 14)
		return -1;
	for (i = 0; i < 7; i++) {
		if (sscanf(s + 2 * i, "%2x", &v) != 1)
			return -1;
		uid[i] = (uint8_t)v;
	}
	return uid[0] == 0x04 ? 0 : -1;
}
