// SPDX-License-Identifier: GPL-2.0
/*
 * tests/e2e/release: what the agent does on a tap, once, for the end to
 * end tests until sectagd takes over: wait for a tag, identify it (a
 * Random ID tag through the identification key), authenticate with the
 * read key enrolled for its UID, derive the secret of each of its
 * bindings and put it into the kernel keyring;
 * optionally open the released LUKS volumes (the agent's auto-open).
 *
 *   release --store PATH [--reader nfcN|N] [--key-timeout S] [--open NAME]
 *
 * Exit: 0 at least one binding released, 4 the tag released nothing
 * (unknown, clone, foreign), 5 no tag within 10 s, 1 any other error.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <linux/nfc.h>
#include <openssl/crypto.h>

#include "issue.h"
#include "nfc.h"
#include "store.h"
#include "tap.h"
#include "unlock.h"

struct args {
	const char *store, *reader, *open_name;
	unsigned int key_timeout;
};

static int find_reader(struct sectag_nfc *nfc, const char *want,
		       uint32_t *idx)
{
	struct sectag_nfc_dev *devs;
	size_t n, i;
	int rc = -ENODEV;

	if (sectag_nfc_list(nfc, &devs, &n))
		return -ENODEV;
	for (i = 0; i < n && rc; i++) {
		char *end;

		if (want && strcmp(devs[i].name, want) &&
		    (strtoul(want, &end, 10) != devs[i].idx || *end || !*want))
			continue;
		*idx = devs[i].idx;
		rc = 0;
	}
	free(devs);
	return rc;
}

/*
 * A connected ISO-DEP link to the first tag on the reader. @nfc stays
 * open while we talk to the tag, as the CLI and the agent keep theirs.
 */
static int connect_tag(struct sectag_nfc *nfc, const char *reader, int *fd)
{
	struct sectag_nfc_target tg;
	uint32_t idx;
	int rc;

	rc = find_reader(nfc, reader, &idx);
	if (!rc) {
		sectag_nfc_dev_up(nfc, idx);
		rc = sectag_nfc_start_poll(nfc, idx, NFC_PROTO_ISO14443_MASK);
		if (rc == -EBUSY)
			rc = 0;
	}
	if (!rc)
		rc = sectag_nfc_wait_target(nfc, idx, 10000, &tg);
	if (rc == -ETIMEDOUT)
		return -ENOMEDIUM;	/* no tag: not a tag that timed out */
	if (!rc) {
		*fd = sectag_nfc_connect(idx, tg.idx);
		rc = *fd < 0 ? *fd : 0;
	}
	return rc;
}

static int release_one(const struct args *a, const struct sectag_binding *b,
		       const uint8_t *share)
{
	uint8_t secret[32];
	int32_t serial;
	int rc;

	rc = sectag_binding_secret(b, share, secret);
	if (!rc)
		rc = sectag_keyring_add(b, secret, a->key_timeout, &serial);
	OPENSSL_cleanse(secret, sizeof(secret));
	if (rc) {
		fprintf(stderr, "release: binding %u: %s\n", b->id,
			strerror(-rc));
		return rc;
	}
	printf("released binding %u (%s) as key %d\n", b->id, b->target,
	       serial);
	if (a->open_name && b->kind == SECTAG_BIND_LUKS) {
		rc = sectag_luks_open(b, a->open_name);
		printf("open %s: %s\n", a->open_name, rc ? strerror(-rc) : "ok");
	}
	return rc;
}

/*
 * The agent's algorithm (libsectag's sectag_tap_authenticate(): a Random
 * ID tag through the identification key, at most two authentications),
 * then every binding of the tag that authenticated.
 */
static int release_all(const struct args *a, struct sectag_ntag *t,
		       const struct sectag_store *st)
{
	struct sectag_tap_result res;
	const struct sectag_binding *m;
	uint8_t share[32];
	int n = 0, rc;
	size_t i;

	rc = sectag_tap_authenticate(t, st, share, &res);
	printf("%s%u authentication(s)\n", res.random_id ? "random-id, " : "",
	       res.auths);
	if (rc) {
		fprintf(stderr, "release: refused: %s\n", res.why);
		return 0;
	}
	m = &st->b[res.binding];
	for (i = 0; i < st->n; i++)
		if (!memcmp(st->b[i].uid, m->uid, 7) &&
		    !memcmp(st->b[i].read_key, m->read_key, 16) &&
		    !release_one(a, &st->b[i], share))
			n++;
	OPENSSL_cleanse(share, sizeof(share));
	return n;
}

static int run(const struct args *a)
{
	struct sectag_store st;
	struct sectag_nfc_link link = { .fd = -1, .timeout_ms = 2000 };
	struct sectag_ntag *t = NULL;
	struct sectag_nfc *nfc = NULL;
	int rc, n = 0;

	rc = sectag_store_load(a->store, &st);
	if (rc) {
		fprintf(stderr, "release: %s: %s\n", a->store, strerror(-rc));
		return 1;
	}
	rc = sectag_nfc_open(&nfc);
	if (!rc)
		rc = connect_tag(nfc, a->reader, &link.fd);
	if (!rc)
		rc = sectag_ntag_new(&t, sectag_nfc_link_xfer, &link);
	if (!rc)
		n = release_all(a, t, &st);
	sectag_ntag_free(t);
	if (link.fd >= 0)
		close(link.fd);
	sectag_nfc_close(nfc);
	sectag_store_free(&st);
	if (rc == -ENOMEDIUM) {
		fprintf(stderr, "release: no tag within 10 s\n");
		return 5;
	}
	if (rc)
		fprintf(stderr, "release: %s\n", sectag_issue_strerror(rc));
	return rc ? 1 : n ? 0 : 4;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "store", required_argument, NULL, 's' },
		{ "reader", required_argument, NULL, 'r' },
		{ "key-timeout", required_argument, NULL, 't' },
		{ "open", required_argument, NULL, 'o' },
		{ NULL, 0, NULL, 0 },
	};
	struct args a = { .key_timeout = 60 };
	int c;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (c == 's')
			a.store = optarg;
		else if (c == 'r')
			a.reader = optarg;
		else if (c == 't')
			a.key_timeout = (unsigned int)strtoul(optarg, NULL, 10);
		else if (c == 'o')
			a.open_name = optarg;
		else
			return 2;
	}
	if (!a.store || optind != argc) {
		fprintf(stderr, "usage: release --store PATH [--reader R] "
			"[--key-timeout S] [--open NAME]\n");
		return 2;
	}
	return run(&a);
}
