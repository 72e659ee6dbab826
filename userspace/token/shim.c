// SPDX-License-Identifier: GPL-2.0
/*
 * What the CLI's tap (userspace/cli/tap.c) needs from sectag.c, for the
 * token plugin: messages go to stderr under the name "sectag", as the
 * cue on the console during cryptsetup open.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

const char *prog = "sectag";
int json;

int fail(int rc, const char *what)
{
	fprintf(stderr, "%s: %s: %s\n", prog, what, strerror(-rc));
	return EX_FAIL;
}

int open_nfc(struct sectag_nfc **nfc)
{
	int rc = sectag_nfc_open(nfc);

	if (rc) {
		fprintf(stderr, "%s: NFC subsystem not available (%s)\n", prog,
			strerror(-rc));
		return EX_UNAVAIL;
	}
	return 0;
}

int parse_u32(const char *s, uint32_t *out)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 0);
	if (errno || !*s || *end || v > UINT32_MAX)
		return -1;
	*out = v;
	return 0;
}
