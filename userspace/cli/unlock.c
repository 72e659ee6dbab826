// SPDX-License-Identifier: GPL-2.0
/*
 * sectag unlock DEVICE [NAME]: one tap, the volume is open. The tap and
 * the agent are userspace/token/open.c's (shared with the token plugin);
 * this file reads the volume's sectag tokens, or, for bindings enrolled
 * before tokens existed, the store's host bindings, and activates.
 */
#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libcryptsetup.h>
#include <openssl/crypto.h>

#include "agent.h"
#include "cli.h"
#include "jsonout.h"
#include "issue.h"
#include "open.h"
#include "store.h"
#include "token.h"
#include "unlock.h"

#define MAX_TOKENS	32

struct unlock_opts {
	struct token_open_opts t;
	const char *device, *name;
};

static void unlock_usage(FILE *f)
{
	fprintf(f, "usage: %s unlock DEVICE [NAME] [--store PATH] [--reader R] "
		"[--timeout S]\n                     [--json]\n"
		"Open the LUKS2 volume on DEVICE as /dev/mapper/NAME (default "
		"luks-<UUID>)\nwith one tap of a tag enrolled for it. With "
		"sectagd running and knowing the\nvolume, the agent takes the "
		"tap; otherwise this talks to the reader itself.\n"
		"A portable binding needs only the volume and the tag; a host "
		"binding also\nthis host's store.\n"
		"  --store PATH   host bindings' store (default %s)\n"
		"  --reader R     NFC device by name or index (default: the "
		"first)\n"
		"  --timeout S    seconds to wait for the tap (default 60)\n"
		"Exit: 0 open, 1 failed, 2 usage, 3 no reader, 4 tag refused, "
		"5 no tap in time.\n", prog, SECTAG_STORE_DEFAULT);
}

static int parse_unlock(int argc, char **argv, struct unlock_opts *o)
{
	static const struct option opts[] = {
		{ "store", required_argument, NULL, 's' },
		{ "reader", required_argument, NULL, 'r' },
		{ "timeout", required_argument, NULL, 't' },
		CLI_OPTS_END
	};
	int c;

	memset(o, 0, sizeof(*o));
	token_open_defaults(&o->t);
	optind = 1;
	while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		if (c == 'h')
			return 1;
		if (c == 's')
			o->t.store = optarg;
		else if (c == 'r')
			o->t.reader = optarg;
		else if (c == 't' && parse_timeout(optarg, &o->t.timeout_ms))
			return -1;
		else if (c == '?' || c == ':')
			break;
	}
	if (c == '?' || c == ':') {
		getopt_error("unlock", NULL, argv, c);
		return -1;
	}
	if (o->t.timeout_ms < 0)	/* 0: forever, as far as the agent goes */
		o->t.timeout_ms = SECTAG_AGENT_WAIT_MAX_MS;
	if (optind >= argc || argc - optind > 2) {
		usage_error("unlock", NULL, optind >= argc ? "DEVICE is "
			    "missing" : "unexpected '%s'", argv[argc - 1]);
		return -1;
	}
	o->device = argv[optind];
	o->name = argc - optind == 2 ? argv[optind + 1] : NULL;
	return 0;
}

static bool has_keyslot(const struct sectag_token *tok, size_t n, int keyslot)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (tok[i].keyslot == keyslot)
			return true;
	return false;
}

/*
 * Bindings enrolled before sectag tokens (a luks2-keyring token only):
 * host tokens made from the store, after the @n the header has.
 */
static size_t store_tokens(const char *uuid, const char *store,
			   struct sectag_token *tok, size_t n, size_t max)
{
	struct sectag_store st;
	size_t i;

	if (sectag_store_load(store, &st))
		return n;
	for (i = 0; i < st.n && n < max; i++) {
		/* A tpm2 binding without its token has nothing to unseal. */
		if (st.b[i].kind != SECTAG_BIND_LUKS || st.b[i].tpm2 ||
		    strcmp(st.b[i].target, uuid) ||
		    has_keyslot(tok, n, st.b[i].keyslot))
			continue;
		memset(&tok[n], 0, sizeof(tok[n]));
		tok[n].keyslot = st.b[i].keyslot;
		tok[n].mode = SECTAG_MODE_HOST;
		memcpy(tok[n].uid, st.b[i].uid, sizeof(tok[n].uid));
		tok[n].key_no = SECTAG_KEY_READ;
		n++;
	}
	sectag_store_free(&st);
	return n;
}

/* Every sectag token of the volume, by keyslot. */
static size_t header_tokens(struct crypt_device *cd, struct sectag_token *tok,
			    size_t max)
{
	size_t n = 0;
	int ks;

	for (ks = 0; ks < MAX_TOKENS && n < max; ks++)
		if (sectag_luks_token_find(cd, ks, NULL, &tok[n]) >= 0)
			n++;
	return n;
}

size_t unlock_tokens(void *cd, const char *store, struct sectag_token *tok,
		     size_t max)
{
	struct crypt_device *c = cd;

	return store_tokens(crypt_get_uuid(c), store, tok,
			    header_tokens(c, tok, max), max);
}

static int activate(struct crypt_device *cd, const struct unlock_opts *o,
		    const char *name, const char *pass, int keyslot)
{
	int rc;

	rc = crypt_activate_by_passphrase(cd, name, keyslot < 0 ?
					  CRYPT_ANY_SLOT : keyslot, pass,
					  SECTAG_PASS_LEN, 0);
	if (rc == -EEXIST) {
		fprintf(stderr, "%s: /dev/mapper/%s is already active\n", prog,
			name);
		return EX_FAIL;
	}
	if (rc < 0) {
		fprintf(stderr, "%s: %s: the released secret opens no keyslot "
			"(%s)\n", prog, o->device, strerror(-rc));
		return EX_FAIL;
	}
	if (json) {
		json_object *j = json_object_new_object();

		jout_str(j, "device", o->device);
		jout_str(j, "name", name);
		jout_int(j, "keyslot", rc);
		jout_print(j);
	} else {
		printf("%s opened as /dev/mapper/%s (keyslot %d)\n", o->device,
		       name, rc);
	}
	return 0;
}

static int unlock_run(struct crypt_device *cd, struct unlock_opts *o)
{
	struct sectag_token *tok;
	char name[128], what[192], *pass;
	const char *uuid = crypt_get_uuid(cd);
	int rc = EX_FAIL, keyslot;
	size_t n;

	snprintf(name, sizeof(name), "%s", o->name ? o->name : "");
	if (!o->name)
		snprintf(name, sizeof(name), "luks-%s", uuid);
	tok = OPENSSL_zalloc(MAX_TOKENS * sizeof(*tok));
	pass = OPENSSL_zalloc(SECTAG_PASS_LEN + 1);
	if (!tok || !pass)
		goto out;
	n = unlock_tokens(cd, o->t.store, tok, MAX_TOKENS);
	if (!n) {
		fprintf(stderr, "%s: %s: no tag is enrolled for this volume (no "
			"sectag token, and no binding in %s)\n", prog,
			o->device, o->t.store);
		goto out;
	}
	snprintf(what, sizeof(what), "unlock %s", name);
	o->t.what = what;
	rc = token_open(uuid, tok, n, &o->t, pass, &keyslot);
	if (!rc)
		rc = activate(cd, o, name, pass, keyslot);
out:
	OPENSSL_clear_free(pass, SECTAG_PASS_LEN + 1);
	OPENSSL_clear_free(tok, MAX_TOKENS * sizeof(*tok));
	return rc;
}

int cmd_unlock(int argc, char **argv)
{
	struct crypt_device *cd;
	struct unlock_opts o;
	int rc;

	rc = parse_unlock(argc, argv, &o);
	if (rc) {
		unlock_usage(rc > 0 ? stdout : stderr);
		return rc > 0 ? 0 : EX_USAGE;
	}
	rc = crypt_init(&cd, o.device);
	if (!rc)
		rc = crypt_load(cd, CRYPT_LUKS2, NULL);
	if (rc < 0) {
		fprintf(stderr, "%s: %s: not a readable LUKS2 volume (%s)\n",
			prog, o.device, strerror(-rc));
		crypt_free(cd);
		return EX_FAIL;
	}
	rc = unlock_run(cd, &o);
	crypt_free(cd);
	return rc;
}
