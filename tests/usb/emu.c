// SPDX-License-Identifier: GPL-2.0
/* The log, options and signals of every reader emulator (emu.h). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
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

enum { OPT_UID = 0x100, OPT_PRESENT, OPT_VERBOSE };
#define OWN_MAX	8

static void usage(const char *own)
{
	fprintf(stderr, "usage: %s [--uid HEX14] [--tag-present] [--verbose]"
		"%s%s\n", emu_name, *own ? " " : "", own);
	exit(2);
}

void emu_parse_args(int argc, char **argv, const struct option *own,
		    int (*parse)(int opt, const char *arg), const char *use,
		    uint8_t uid[7], bool *present)
{
	struct option opts[3 + OWN_MAX + 1] = {
		{ "uid", required_argument, NULL, OPT_UID },
		{ "tag-present", no_argument, NULL, OPT_PRESENT },
		{ "verbose", no_argument, NULL, OPT_VERBOSE },
	};
	int c, n;

	for (n = 0; own && own[n].name; n++) {
		if (n == OWN_MAX)
			abort();
		opts[3 + n] = own[n];
	}
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (c == OPT_UID && emu_parse_uid(optarg, uid))
			usage(use);
		else if (c == OPT_PRESENT)
			*present = true;
		else if (c == OPT_VERBOSE)
			emu_verbose = true;
		else if (c == '?' || (c < OPT_UID && (!parse || parse(c, optarg))))
			usage(use);
	}
	if (optind != argc)
		usage(use);
}

void emu_signals(sigset_t *set)
{
	sigemptyset(set);
	sigaddset(set, SIGUSR1);
	sigaddset(set, SIGUSR2);
	sigaddset(set, SIGTERM);
	sigaddset(set, SIGINT);
}
