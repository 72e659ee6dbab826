// SPDX-License-Identifier: GPL-2.0
/*
 * Test helper: many Random ID tags at once, as `sectag provision
 * --random-id` and `sectag enroll --name` would make them one by one
 * (the CLI pays a process start per tag, too slow under emulation for
 * twenty). For each: create a simulated tag with UID PREFIX||i, issue it
 * with Random ID, present it again (a power cycle: Random ID on), verify
 * it through the identification key and add a binding "rid<i>" with its
 * read key to STORE, which then keeps the identification key. Prints
 * each tag's simulator id on one line.
 *
 *   ridmany READER_ID NFC_INDEX ISSUER_KEY STORE COUNT UID_PREFIX(8 hex)
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <linux/nfc.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "issue.h"
#include "nfc.h"
#include "sim.h"
#include "store.h"

struct ctx {
	struct sectag_sim *sim;
	struct sectag_nfc *nfc;
	uint32_t reader, idx;
	uint8_t issuer[16];
};

/* Place @tag (again: a fresh power-up) and connect a session to it. */
static int present(struct ctx *c, uint32_t tag, int *fd)
{
	struct sectag_nfc_target tg;
	int rc;

	sectag_sim_tag_remove(c->sim, tag);
	rc = sectag_sim_tag_place(c->sim, tag, c->reader);
	if (!rc) {
		rc = sectag_nfc_start_poll(c->nfc, c->idx,
					   NFC_PROTO_ISO14443_MASK);
		if (rc == -EBUSY)
			rc = 0;
	}
	if (!rc)
		rc = sectag_nfc_wait_target(c->nfc, c->idx, 10000, &tg);
	if (!rc) {
		*fd = sectag_nfc_connect(c->idx, tg.idx);
		rc = *fd < 0 ? *fd : 0;
	}
	return rc;
}

static int with_tag(struct ctx *c, uint32_t tag, bool issue,
		    struct sectag_binding *b, bool *rid)
{
	struct sectag_nfc_link link = { .fd = -1, .timeout_ms = 2000 };
	struct sectag_ntag *t = NULL;
	uint8_t share[32];
	int rc;

	rc = present(c, tag, &link.fd);
	if (!rc)
		rc = sectag_ntag_new(&t, sectag_nfc_link_xfer, &link);
	if (!rc && issue)
		rc = sectag_provision(t, c->issuer, SECTAG_PROV_RANDOM_ID, NULL,
				      NULL);
	else if (!rc)
		rc = sectag_verify_tag(t, c->issuer, share, b->uid, rid);
	OPENSSL_cleanse(share, sizeof(share));
	sectag_ntag_free(t);
	if (link.fd >= 0)
		close(link.fd);
	sectag_sim_tag_remove(c->sim, tag);
	return rc;
}

static int one(struct ctx *c, struct sectag_store *st, const char *prefix,
	       unsigned int i)
{
	struct sectag_binding b = { .kind = SECTAG_BIND_NAME, .keyslot = -1,
				    .token = -1 };
	struct sectag_sim_tag t;
	uint8_t uid[7];
	unsigned int v;
	bool rid = false;
	int k, rc;

	for (k = 0; k < 4; k++) {
		if (sscanf(prefix + 2 * k, "%2x", &v) != 1)
			return -EINVAL;
		uid[k] = (uint8_t)v;
	}
	uid[4] = 0;
	uid[5] = (uint8_t)(i >> 8);
	uid[6] = (uint8_t)i;
	rc = sectag_sim_tag_add(c->sim, NFC_SECTAG_PROFILE_NTAG424, uid, 0, &t);
	if (!rc)
		rc = with_tag(c, t.id, true, &b, &rid);
	if (!rc)
		rc = with_tag(c, t.id, false, &b, &rid);
	if (!rc && (!rid || memcmp(b.uid, uid, 7)))
		rc = -EPROTO;	/* Random ID not on, or the wrong UID */
	if (rc)
		return rc;
	snprintf(b.target, sizeof(b.target), "rid%u", i);
	if (RAND_priv_bytes(b.host_secret, sizeof(b.host_secret)) != 1)
		return -EIO;
	rc = sectag_tag_key(c->issuer, b.uid, SECTAG_KEY_READ, b.read_key);
	if (!rc)
		rc = sectag_store_add(st, &b, NULL);
	OPENSSL_cleanse(&b, sizeof(b));
	if (!rc)
		printf("%u\n", t.id);
	return rc;
}

int main(int argc, char **argv)
{
	struct sectag_store st;
	struct ctx c = { 0 };
	uint8_t id[16];
	unsigned int i, n;
	int lock, rc;

	if (argc != 7 || strlen(argv[6]) != 8) {
		fprintf(stderr, "usage: ridmany READER_ID NFC_INDEX ISSUER_KEY "
			"STORE COUNT UID_PREFIX\n");
		return 2;
	}
	c.reader = (uint32_t)strtoul(argv[1], NULL, 0);
	c.idx = (uint32_t)strtoul(argv[2], NULL, 0);
	n = (unsigned int)strtoul(argv[5], NULL, 0);
	rc = sectag_issuer_load(argv[3], c.issuer);
	if (!rc)
		rc = sectag_sim_open(&c.sim);
	if (!rc)
		rc = sectag_nfc_open(&c.nfc);
	if (rc) {
		fprintf(stderr, "ridmany: %s\n", strerror(-rc));
		return 1;
	}
	lock = sectag_store_lock(argv[4]);
	rc = lock < 0 ? lock : sectag_store_load(argv[4], &st);
	for (i = 1; !rc && i <= n; i++) {
		rc = one(&c, &st, argv[6], i);
		if (rc)
			fprintf(stderr, "ridmany: tag %u: %s\n", i,
				sectag_issue_strerror(rc));
	}
	if (!rc)
		rc = sectag_ident_key(c.issuer, id);
	if (!rc)
		rc = sectag_store_set_ident(&st, id);
	if (!rc)
		rc = sectag_store_save(argv[4], &st);
	OPENSSL_cleanse(id, sizeof(id));
	OPENSSL_cleanse(c.issuer, sizeof(c.issuer));
	if (lock >= 0) {
		sectag_store_free(&st);
		close(lock);
	}
	sectag_nfc_close(c.nfc);
	sectag_sim_close(c.sim);
	if (rc)
		fprintf(stderr, "ridmany: %s\n", strerror(rc < 0 ? -rc : rc));
	return rc ? 1 : 0;
}
