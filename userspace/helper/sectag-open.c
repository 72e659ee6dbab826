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
 *
 *   sectag-open --unseal UUID DEVICE KEYSLOT UID
 *
 * For a tap of a tpm2 binding (the agent links no TPM library either):
 * the volume's sectag token for KEYSLOT and tag UID (14 hex digits),
 * unsealed by this machine's TPM: its read key and host secret (16 + 32
 * bytes) on stdout, a pipe to the agent. Exit status as above; why the
 * TPM refused goes to stderr.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libcryptsetup.h>
#include <openssl/crypto.h>

#include "version.h"
#include "hex.h"
#include "store.h"
#include "tpm2.h"
#include "unlock.h"

#define USAGE_ERROR	255

static int parse_num(const char *s, long max, int *out)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || *end || end == s || v < 0 || v > max)
		return -EINVAL;
	*out = (int)v;
	return 0;
}

/* UUID DEVICE NUMBER: the volume, and a token or keyslot number. */
static int fill(struct sectag_binding *b, char **argv, int *num)
{
	b->kind = SECTAG_BIND_LUKS;
	b->token = -1;
	b->keyslot = -1;
	if (parse_num(argv[2], 1000, num))
		return -EINVAL;
	if (snprintf(b->target, sizeof(b->target), "%s", argv[0]) >=
	    (int)sizeof(b->target) ||
	    snprintf(b->device, sizeof(b->device), "%s", argv[1]) >=
	    (int)sizeof(b->device))
		return -EINVAL;
	return 0;
}

static int exit_code(int rc)
{
	if (rc < 0 && -rc < USAGE_ERROR)
		return -rc;
	return rc ? EIO : 0;
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

static int write_all(int fd, const uint8_t *p, size_t len)
{
	ssize_t w;

	while (len) {
		w = write(fd, p, len);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -EIO;
		p += w;
		len -= (size_t)w;
	}
	return 0;
}

static int unseal(char **argv)
{
	struct sectag_binding b = { 0 };
	struct sectag_token tok;
	struct sectag_tpm2_err err;
	char why[256];
	int rc;

	if (fill(&b, argv, &b.keyslot) ||
	    sectag_unhex(argv[3], strlen(argv[3]), b.uid, sizeof(b.uid), false))
		return USAGE_ERROR;
	rc = read_token(&b, &tok);
	if (rc) {
		fprintf(stderr, "sectag-open: %s: no tpm2 token for keyslot "
			"%d: %s\n", b.target, b.keyslot, strerror(-rc));
		return exit_code(rc);
	}
	rc = sectag_tpm2_unseal_token(&tok, &err);
	if (rc)
		fprintf(stderr, "sectag-open: %s keyslot %d: %s\n", b.target,
			b.keyslot,
			sectag_tpm2_strerror(&err, why, sizeof(why)));
	if (!rc)
		rc = write_all(1, tok.read_key, sizeof(tok.read_key));
	if (!rc)
		rc = write_all(1, tok.salt, sizeof(tok.salt));
	sectag_token_wipe(&tok);
	return exit_code(rc);
}

int main(int argc, char **argv)
{
	struct sectag_binding b = { 0 };

	if (argc == 2 && !strcmp(argv[1], "--version")) {
		puts("sectag-open " SECTAG_VERSION);
		return 0;
	}
	if (argc == 6 && !strcmp(argv[1], "--unseal"))
		return unseal(argv + 2);
	if (argc != 5 || !*argv[1] || !*argv[4] ||
	    fill(&b, argv + 1, &b.token)) {
		fprintf(stderr, "usage: sectag-open UUID DEVICE TOKEN NAME\n"
			"       sectag-open --unseal UUID DEVICE KEYSLOT UID\n");
		return USAGE_ERROR;
	}
	return exit_code(sectag_luks_open(&b, argv[4]));
}
