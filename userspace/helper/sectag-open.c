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
 * DEVICE may be "" (then /dev/disk/by-uuid/UUID). Exit status: 0 when
 * /dev/mapper/NAME was activated, else the positive errno of the failure
 * (EEXIST: NAME is active already), 255 on a usage error.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "version.h"
#include "store.h"
#include "unlock.h"

#define USAGE_ERROR	255

static int fill(struct sectag_binding *b, char **argv)
{
	char *end;
	long token;

	errno = 0;
	token = strtol(argv[3], &end, 10);
	if (errno || *end || end == argv[3] || token < 0 || token > 1000)
		return -EINVAL;
	if (snprintf(b->target, sizeof(b->target), "%s", argv[1]) >=
	    (int)sizeof(b->target) ||
	    snprintf(b->device, sizeof(b->device), "%s", argv[2]) >=
	    (int)sizeof(b->device))
		return -EINVAL;
	b->kind = SECTAG_BIND_LUKS;
	b->token = (int)token;
	b->keyslot = -1;
	return 0;
}

int main(int argc, char **argv)
{
	struct sectag_binding b = { 0 };
	int rc;

	if (argc == 2 && !strcmp(argv[1], "--version")) {
		puts("sectag-open " SECTAG_VERSION);
		return 0;
	}
	if (argc != 5 || !*argv[1] || !*argv[4] || fill(&b, argv)) {
		fprintf(stderr, "usage: sectag-open UUID DEVICE TOKEN NAME\n");
		return USAGE_ERROR;
	}
	rc = sectag_luks_open(&b, argv[4]);
	if (rc < 0 && -rc < USAGE_ERROR)
		return -rc;
	return rc ? EIO : 0;
}
