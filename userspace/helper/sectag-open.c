// SPDX-License-Identifier: GPL-2.0
/*
 * sectag-open: activate one LUKS2 volume through its luks2-keyring token,
 * for sectagd after a tap. A process of its own so that the resident agent
 * never maps libcryptsetup (and libdevmapper, libblkid, libudev, json-c,
 * argon2...): it runs for the length of one activation and exits.
 *
 * Its arguments say where the volume is and which token opens it, nothing
 * secret: the tap already put the key into root's user keyring, where the
 * token looks for it.
 *
 *   sectag-open UUID DEVICE TOKEN NAME
 *
 * DEVICE may be "" (then /dev/disk/by-uuid/UUID). Exit status, as every
 * sectag program's: 0 when /dev/mapper/NAME was activated, 1 when that
 * failed (the reason on stderr), 2 on a usage error; and 3 when NAME is
 * active already, which the agent does not count as a failure.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "version.h"
#include "store.h"
#include "unlock.h"

#define EXIT_USAGE	2
#define EXIT_ACTIVE	3

static void usage(FILE *f)
{
	fprintf(f, "usage: sectag-open UUID DEVICE TOKEN NAME\n"
		"       sectag-open --version | --help\n"
		"Open the LUKS2 volume UUID (on DEVICE, or \"\": "
		"/dev/disk/by-uuid/UUID)\nas /dev/mapper/NAME with its "
		"luks2-keyring token number TOKEN; sectagd runs\nthis after a "
		"tap. Exit: 0 open, 1 failed, 2 usage, 3 NAME already "
		"active.\n");
}

/* The binding from the command line; NULL, or why it is unusable. */
static const char *fill(struct sectag_binding *b, char **argv)
{
	char *end;
	long token;

	if (!*argv[1] || !*argv[4])
		return "UUID and NAME must not be empty";
	errno = 0;
	token = strtol(argv[3], &end, 10);
	if (errno || *end || end == argv[3] || token < 0 || token > 1000)
		return "TOKEN must be a number from 0 to 1000";
	if (snprintf(b->target, sizeof(b->target), "%s", argv[1]) >=
	    (int)sizeof(b->target) ||
	    snprintf(b->device, sizeof(b->device), "%s", argv[2]) >=
	    (int)sizeof(b->device))
		return "UUID or DEVICE is too long";
	b->kind = SECTAG_BIND_LUKS;
	b->token = (int)token;
	b->keyslot = -1;
	return NULL;
}

int main(int argc, char **argv)
{
	struct sectag_binding b = { 0 };
	const char *why;
	int rc;

	if (argc == 2 && !strcmp(argv[1], "--version")) {
		puts("sectag-open " SECTAG_VERSION);
		return 0;
	}
	if (argc == 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
		usage(stdout);
		return 0;
	}
	why = argc == 5 ? fill(&b, argv) : "four arguments expected";
	if (why) {
		fprintf(stderr, "sectag-open: %s\n", why);
		usage(stderr);
		return EXIT_USAGE;
	}
	rc = sectag_luks_open(&b, argv[4]);
	if (rc == -EEXIST || rc == -EBUSY)
		return EXIT_ACTIVE;
	if (rc)
		fprintf(stderr, "sectag-open: cannot open %s as /dev/mapper/%s: "
			"%s\n", argv[1], argv[4], strerror(-rc));
	return rc ? 1 : 0;
}
