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
 *
 *   sectag-open --unseal UUID DEVICE KEYSLOT UID
 *
 * For a tap of a tpm2 binding (the agent links no TPM library either):
 * the volume's sectag token for KEYSLOT and tag UID (14 hex digits),
 * unsealed by this machine's TPM: its read key and host secret (16 + 32
 * bytes) on stdout, a pipe to the agent. Exit status 0, 1 (why the TPM
 * refused on stderr) or 2.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libcryptsetup.h>
#include <openssl/crypto.h>

#include "version.h"
#include "fileio.h"
#include "hex.h"
#include "store.h"
#include "tpm2.h"
#include "unlock.h"

#define EXIT_USAGE	2
#define EXIT_ACTIVE	3

static void usage(FILE *f)
{
	fprintf(f, "usage: sectag-open UUID DEVICE TOKEN NAME\n"
		"       sectag-open --unseal UUID DEVICE KEYSLOT UID\n"
		"       sectag-open --version | --help\n"
		"Open the LUKS2 volume UUID (on DEVICE, or \"\": "
		"/dev/disk/by-uuid/UUID)\nas /dev/mapper/NAME with its "
		"luks2-keyring token number TOKEN; sectagd runs\nthis after a "
		"tap. Exit: 0 open, 1 failed, 2 usage, 3 NAME already "
		"active.\n--unseal: the tpm2 token of KEYSLOT and tag UID, "
		"unsealed by this TPM, on stdout.\n");
}

/*
 * UUID DEVICE NUMBER: the volume, and a token or keyslot number (0 to
 * 1000) into *@num. NULL, or why they are unusable.
 */
static const char *fill(struct sectag_binding *b, char **argv, int *num)
{
	char *end;
	long v;

	if (!*argv[0])
		return "UUID must not be empty";
	errno = 0;
	v = strtol(argv[2], &end, 10);
	if (errno || *end || end == argv[2] || v < 0 || v > 1000)
		return "TOKEN or KEYSLOT must be a number from 0 to 1000";
	if (snprintf(b->target, sizeof(b->target), "%s", argv[0]) >=
	    (int)sizeof(b->target) ||
	    snprintf(b->device, sizeof(b->device), "%s", argv[1]) >=
	    (int)sizeof(b->device))
		return "UUID or DEVICE is too long";
	b->kind = SECTAG_BIND_LUKS;
	b->token = -1;
	b->keyslot = -1;
	*num = (int)v;
	return NULL;
}

/* The token of @b's keyslot and tag in the volume's header. */
static int read_token(const struct sectag_binding *b, struct sectag_token *tok)
{
	struct crypt_device *cd;
	char path[320];
	int rc;

	rc = sectag_luks_find(b, path, sizeof(path));
	if (rc)
		return rc;
	rc = crypt_init(&cd, path);
	if (!rc)
		rc = crypt_load(cd, CRYPT_LUKS2, NULL);
	if (!rc)
		rc = sectag_luks_token_find(cd, b->keyslot, b->uid, tok);
	crypt_free(cd);
	if (rc >= 0 && tok->mode != SECTAG_MODE_TPM2)
		rc = -EINVAL;
	return rc < 0 ? rc : 0;
}

static int unseal(char **argv)
{
	struct sectag_binding b = { 0 };
	struct sectag_tpm2_err err;
	struct sectag_token tok;
	const char *why;
	char reason[256];
	int rc;

	why = fill(&b, argv, &b.keyslot);
	if (!why && sectag_unhex(argv[3], strlen(argv[3]), b.uid,
				 sizeof(b.uid), false))
		why = "UID must be 14 hex digits";
	if (why) {
		fprintf(stderr, "sectag-open: %s\n", why);
		usage(stderr);
		return EXIT_USAGE;
	}
	rc = read_token(&b, &tok);
	if (rc) {
		fprintf(stderr, "sectag-open: %s: no tpm2 token for keyslot "
			"%d: %s\n", b.target, b.keyslot, strerror(-rc));
		return 1;
	}
	rc = sectag_tpm2_unseal_token(&tok, &err);
	if (rc)
		fprintf(stderr, "sectag-open: %s keyslot %d: %s\n", b.target,
			b.keyslot,
			sectag_tpm2_strerror(&err, reason, sizeof(reason)));
	if (!rc)
		rc = sectag_write_all(1, tok.read_key, sizeof(tok.read_key));
	if (!rc)
		rc = sectag_write_all(1, tok.salt, sizeof(tok.salt));
	sectag_token_wipe(&tok);
	return rc ? 1 : 0;
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
	if (argc >= 2 && !strcmp(argv[1], "--unseal")) {
		if (argc == 6)
			return unseal(argv + 2);
		fprintf(stderr, "sectag-open: --unseal: four arguments "
			"expected\n");
		usage(stderr);
		return EXIT_USAGE;
	}
	why = argc == 5 ? fill(&b, argv + 1, &b.token) :
			  "four arguments expected";
	if (!why && !*argv[4])
		why = "NAME must not be empty";
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
