// SPDX-License-Identifier: GPL-2.0
/*
 * One tap to the passphrase of a sectag keyslot (open.h). The agent path
 * uses the control protocol (agent.h) and the kernel keyring; the direct
 * path the CLI's tap (userspace/cli/tap.c) and libsectag's tap.h. No
 * protocol or transport code lives here.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <keyutils.h>
#include <linux/nfc.h>
#include <openssl/crypto.h>

#include "hex.h"
#include "agent.h"
#include "cli.h"
#include "issue.h"
#include "nfc.h"
#include "open.h"
#include "store.h"
#include "tap.h"
#include "tpm2.h"

#define AGENT_TIMEOUT_MS	5000
#define DEFAULT_WAIT_MS		60000

void token_open_defaults(struct token_open_opts *o)
{
	const char *s = getenv("SECTAG_STORE");
	const char *t = getenv("SECTAG_TOKEN_TIMEOUT");
	char *end;
	long v;

	memset(o, 0, sizeof(*o));
	o->store = s && *s ? s : SECTAG_STORE_DEFAULT;
	o->reader = getenv("SECTAG_READER");
	if (o->reader && !*o->reader)
		o->reader = NULL;
	o->timeout_ms = DEFAULT_WAIT_MS;
	if (t && *t) {
		v = strtol(t, &end, 10);
		if (!*end && v > 0 && v <= SECTAG_AGENT_WAIT_MAX_MS / 1000)
			o->timeout_ms = (int)v * 1000;
	}
}

/* The binding a token stands for, as the agent and the store know it. */
static void token_binding(const char *uuid, const struct sectag_token *tok,
			  struct sectag_binding *b)
{
	memset(b, 0, sizeof(*b));
	b->id = 1;
	b->kind = SECTAG_BIND_LUKS;
	snprintf(b->target, sizeof(b->target), "%s", uuid);
	b->keyslot = tok->keyslot;
	b->token = -1;
	memcpy(b->uid, tok->uid, sizeof(b->uid));
	memcpy(b->read_key, tok->read_key, sizeof(b->read_key));
	/* Portable: the token's salt stands where a host secret would. */
	memcpy(b->host_secret, tok->salt, sizeof(b->host_secret));
}

/* ---------------------------------------------------------------------- */
/* Through sectagd                                                        */

/*
 * The LUKS key of @uuid in root's user keyring (the agent's release):
 * 0 and the passphrase, or -ENOKEY.
 */
static int keyring_pass(const char *uuid, char pass[SECTAG_PASS_LEN + 1])
{
	char desc[192];
	key_serial_t id;
	void *buf = NULL;
	long n;

	snprintf(desc, sizeof(desc), "sectag:luks:%s", uuid);
	id = keyctl_search(KEY_SPEC_USER_KEYRING, "user", desc, 0);
	if (id < 0)
		return -ENOKEY;
	n = keyctl_read_alloc(id, &buf);
	if (n == SECTAG_PASS_LEN) {
		memcpy(pass, buf, SECTAG_PASS_LEN);
		pass[SECTAG_PASS_LEN] = 0;
	}
	if (buf)
		OPENSSL_clear_free(buf, n > 0 ? (size_t)n : 0);
	return n == SECTAG_PASS_LEN ? 0 : -ENOKEY;
}

/* One request, one answer (HAS), or the first of AUTH's. */
static int agent_ask(int fd, const struct sectag_agent_req *rq,
		     struct sectag_agent_ans *ans, int64_t deadline)
{
	int rc = sectag_agent_send(fd, rq);

	return rc ? rc : sectag_agent_recv(fd, ans, deadline);
}

/* How many bindings the agent's store has for @uuid; < 0: no agent. */
static int agent_has(int fd, const char *uuid)
{
	struct sectag_agent_req rq = { .verb = SECTAG_AGENT_HAS,
				       .kind = SECTAG_BIND_LUKS };
	struct sectag_agent_ans ans;
	int rc;

	snprintf(rq.target, sizeof(rq.target), "%s", uuid);
	rc = agent_ask(fd, &rq, &ans, sectag_agent_now_ms() +
		       AGENT_TIMEOUT_MS);
	if (rc)
		return rc;
	return ans.type == SECTAG_AGENT_OK ? (int)ans.n : -EPROTO;
}

static int agent_auth(int fd, const char *uuid,
		      const struct token_open_opts *o)
{
	struct sectag_agent_req rq = { .verb = SECTAG_AGENT_AUTH,
				       .kind = SECTAG_BIND_LUKS,
				       .ms = (uint32_t)o->timeout_ms };
	struct sectag_agent_ans ans;
	int64_t deadline = sectag_agent_now_ms() + o->timeout_ms +
			   AGENT_TIMEOUT_MS;
	int rc;

	snprintf(rq.target, sizeof(rq.target), "%s", uuid);
	snprintf(rq.o.service, sizeof(rq.o.service), "%s", "cryptsetup");
	rc = agent_ask(fd, &rq, &ans, sectag_agent_now_ms() +
		       AGENT_TIMEOUT_MS);
	if (!rc && ans.type != SECTAG_AGENT_WAITING) {
		fprintf(stderr, "%s: sectagd refused the request: %s\n", prog,
			ans.type == SECTAG_AGENT_FAIL ?
			sectag_agent_fail_name(ans.fail) : "unexpected answer");
		return EX_FAIL;
	}
	if (rc)
		return fail(rc, "sectagd");
	fprintf(stderr, "%s: Tap your tag to %s\n", prog, o->what);
	rc = sectag_agent_recv(fd, &ans, deadline);
	if (!rc && ans.type == SECTAG_AGENT_OK)
		return 0;
	if (!rc && ans.type == SECTAG_AGENT_FAIL &&
	    ans.fail == SECTAG_AGENT_E_SEALED) {
		fprintf(stderr, "%s: sectagd: the TPM did not unseal this "
			"tag's tpm2 binding (most likely sealed by a different "
			"TPM, or this TPM was cleared since enrolment; sectagd's log "
			"says why): open the volume with a passphrase, then "
			"enrol the tag again with --bind tpm2\n", prog);
		return EX_FAIL;
	}
	if (!rc && ans.type == SECTAG_AGENT_TIMEOUT) {
		fprintf(stderr, "%s: no tap of an enrolled tag within %d s\n",
			prog, o->timeout_ms / 1000);
		return EX_NOTAG;
	}
	return fail(rc ? rc : -EPROTO, "sectagd");
}

/*
 * A connection to sectagd if it runs and knows volume @uuid (then it
 * answers for it: AUTH), else -1 (go on without it).
 */
static int agent_for(const char *uuid)
{
	int fd;

	fd = sectag_agent_connect(agent_socket(), AGENT_TIMEOUT_MS, 0, NULL);
	if (fd < 0)
		return -1;
	if (agent_has(fd, uuid) > 0)
		return fd;
	close(fd);
	return -1;
}

/*
 * On connection @fd (agent_for()'s): 0 and @pass after the agent
 * released the key, or an exit code. Closes @fd.
 */
static int via_agent(int fd, const char *uuid,
		     const struct token_open_opts *o,
		     char pass[SECTAG_PASS_LEN + 1])
{
	int rc;

	rc = agent_auth(fd, uuid, o);
	close(fd);
	if (rc)
		return rc;
	if (keyring_pass(uuid, pass)) {
		fprintf(stderr, "%s: sectagd released the tag, but its key "
			"is not in root's keyring (key_timeout too short?)\n",
			prog);
		return EX_FAIL;
	}
	return 0;
}

/* ---------------------------------------------------------------------- */
/* On our own                                                             */

/* Host token @tok stands for store binding @b. */
static bool host_match(const struct sectag_binding *b, const char *uuid,
		       const struct sectag_token *tok)
{
	return tok->mode == SECTAG_MODE_HOST && b->kind == SECTAG_BIND_LUKS &&
	       !strcmp(b->target, uuid) && b->keyslot == tok->keyslot &&
	       !memcmp(b->uid, tok->uid, sizeof(b->uid));
}

static int keep_binding(struct sectag_store *st1,
			const struct sectag_binding *b)
{
	struct sectag_binding *nb = calloc(st1->n + 1, sizeof(*nb));

	if (!nb)
		return -ENOMEM;
	if (st1->n)
		memcpy(nb, st1->b, st1->n * sizeof(*nb));
	if (st1->b)
		OPENSSL_clear_free(st1->b, st1->n * sizeof(*nb));
	nb[st1->n++] = *b;
	st1->b = nb;
	if (b->id + 1 > st1->next_id)
		st1->next_id = b->id + 1;
	return 0;
}

/*
 * The store's bindings for the host tokens among @tok, into @st1 (with
 * the store's identification key). 0 (maybe none), or an exit code when
 * host tokens are all there is and the store cannot serve them.
 */
static int host_bindings(const char *uuid, const struct sectag_token *tok,
			 size_t n, const struct token_open_opts *o,
			 struct sectag_store *st1)
{
	struct sectag_store st;
	size_t i, j, hosts = 0;
	int rc;

	for (j = 0; j < n; j++)
		hosts += tok[j].mode == SECTAG_MODE_HOST;
	if (!hosts)
		return 0;
	rc = sectag_store_load(o->store, &st);
	for (i = 0; !rc && i < st.n; i++)
		for (j = 0; !rc && j < n; j++)
			if (host_match(&st.b[i], uuid, &tok[j]))
				rc = keep_binding(st1, &st.b[i]);
	st1->has_ident = st.has_ident;
	memcpy(st1->ident_key, st.ident_key, sizeof(st.ident_key));
	sectag_store_free(&st);
	if (st1->n || hosts < n)
		return 0;
	fprintf(stderr, "%s: %s: %s\n", prog, o->store,
		rc ? strerror(-rc) : "no binding for this volume");
	fprintf(stderr, "%s: the volume's sectag keyslots are bound to the "
		"host that enrolled them (bind host), whose store keeps their "
		"host secrets: open it there, or with a passphrase\n", prog);
	return EX_FAIL;
}

/* The tag of a host binding: authenticated as the agent does (tap.h). */
static int host_share(struct sectag_ntag *t, const struct sectag_store *st1,
		      uint8_t share[32], const struct sectag_binding **b)
{
	struct sectag_tap_result res;
	int rc = sectag_tap_authenticate(t, st1, share, &res);

	if (rc) {
		fprintf(stderr, "%s: the tag was refused: %s\n", prog,
			res.why ? res.why : sectag_issue_strerror(rc));
		return EX_REFUSED;
	}
	*b = &st1->b[res.binding];
	return 0;
}

/*
 * The token carrying its own read key and host secret (portable, or
 * tpm2 once unsealed) for a tag showing @uid (or hiding it).
 */
static const struct sectag_token *portable_for(const struct sectag_token *tok,
					       size_t n, const uint8_t *uid,
					       bool random_id)
{
	size_t j;

	for (j = 0; j < n; j++)
		if ((tok[j].mode == SECTAG_MODE_PORTABLE ||
		     tok[j].mode == SECTAG_MODE_TPM2) &&
		    (random_id ? tok[j].random_id :
		     !memcmp(tok[j].uid, uid, sizeof(tok[j].uid))))
			return &tok[j];
	return NULL;
}

/* A host token for the tag showing @uid (a Random ID tag: any). */
static bool host_token_for(const struct sectag_token *tok, size_t n,
			   const uint8_t *uid, bool random_id)
{
	size_t j;

	for (j = 0; j < n; j++)
		if (tok[j].mode == SECTAG_MODE_HOST &&
		    (random_id || !memcmp(tok[j].uid, uid, sizeof(tok[j].uid))))
			return true;
	return false;
}

/* A host binding for the tag showing @uid (a Random ID tag: any). */
static bool host_for(const struct sectag_store *st1, const uint8_t *uid,
		     bool random_id)
{
	size_t i;

	for (i = 0; i < st1->n; i++)
		if (random_id || !memcmp(st1->b[i].uid, uid, 7))
			return true;
	return false;
}

/*
 * The tag on the reader: which binding it answers (@pb holds a portable
 * token's), and its share. A portable token names its tag's UID and read
 * key: a tag showing another UID is never sent the key; a Random ID tag
 * gets one authentication with it, and must then report the token's UID
 * (sectag_tap_read_share()).
 */
static int read_tag(struct sectag_ntag *t, const char *uuid,
		    const struct sectag_token *tok, size_t n,
		    const struct sectag_store *st1, struct sectag_binding *pb,
		    const struct sectag_binding **b, uint8_t share[32])
{
	const struct sectag_token *p;
	uint8_t uid[SECTAG_NTAG_UID_LEN];
	bool random_id = false;
	int rc;

	rc = sectag_tap_identify(t, uid, &random_id);
	if (rc) {
		fprintf(stderr, "%s: cannot read the tag: %s\n", prog,
			sectag_issue_strerror(rc));
		return EX_FAIL;
	}
	/* A Random ID tag of a host binding: the store's identification. */
	if (host_for(st1, uid, random_id) && (!random_id || st1->has_ident))
		return host_share(t, st1, share, b);
	p = portable_for(tok, n, uid, random_id);
	if (!p && host_token_for(tok, n, uid, random_id)) {
		fprintf(stderr, "%s: this tag's keyslot is bound to the host "
			"that enrolled it (bind host), and this host's store "
			"has no binding for it: open it there, or with a "
			"passphrase\n", prog);
		return EX_FAIL;
	}
	if (!p) {
		fprintf(stderr, "%s: this tag is not enrolled for the volume\n",
			prog);
		return EX_REFUSED;
	}
	rc = sectag_tap_read_share(t, p->read_key, p->uid, share);
	if (rc) {
		fprintf(stderr, "%s: the tag was refused: %s\n", prog,
			sectag_issue_strerror(rc));
		return EX_REFUSED;
	}
	token_binding(uuid, p, pb);
	*b = pb;
	return 0;
}

static int direct(const char *uuid, const struct sectag_token *tok, size_t n,
		  const struct token_open_opts *o,
		  char pass[SECTAG_PASS_LEN + 1], int *keyslot)
{
	struct sectag_store st1 = { 0 };
	const struct sectag_binding *b = NULL;
	struct sectag_binding pb;
	uint8_t share[32], secret[32];
	char cue[160];
	struct tap tp;
	int rc;

	rc = host_bindings(uuid, tok, n, o, &st1);
	if (rc)
		return rc;
	snprintf(cue, sizeof(cue), "Tap your tag to %s", o->what);
	rc = tap_begin(&tp, o->reader ? o->reader : tap_any_reader,
		       o->timeout_ms, cue);
	if (!rc) {
		rc = read_tag(tp.t, uuid, tok, n, &st1, &pb, &b, share);
		tap_end(&tp);
	}
	if (!rc && sectag_binding_secret(b, share, secret))
		rc = fail(-EINVAL, "cannot derive the unlock secret");
	if (!rc) {
		sectag_hex(pass, secret, sizeof(secret), false);
		*keyslot = b->keyslot;
	}
	OPENSSL_cleanse(share, sizeof(share));
	OPENSSL_cleanse(secret, sizeof(secret));
	OPENSSL_cleanse(&pb, sizeof(pb));
	sectag_store_free(&st1);
	return rc;
}

/* ---------------------------------------------------------------------- */
/* bind tpm2                                                              */

static void tpm2_refused(const struct sectag_token *t,
			 const struct sectag_tpm2_err *err, bool last)
{
	char why[256];

	fprintf(stderr, "%s: keyslot %d (bind tpm2): %s\n", prog, t->keyslot,
		sectag_tpm2_strerror(err, why, sizeof(why)));
	if (last && (err->rc == -EKEYREJECTED || err->rc == -ESTALE))
		fprintf(stderr, "%s: open the volume with a passphrase (or "
			"another tag's keyslot), then enrol the tag again with "
			"--bind tpm2 to seal it to this machine as it is now\n",
			prog);
}

/*
 * tpm2 tokens are unsealed before any tap, so that a TPM saying no
 * (measured state changed, another TPM, none at all) is told at once
 * rather than after the tap. Unsealed, they hold their read key and host
 * secret as portable tokens do; a refused one is dropped, the others
 * move up. How many are left; none: nothing to open with (said why).
 */
static size_t unseal_all(struct sectag_token *tok, size_t n)
{
	struct sectag_tpm2_err err;
	size_t j, left = 0;

	for (j = 0; j < n; j++) {
		if (tok[j].mode == SECTAG_MODE_TPM2 &&
		    sectag_tpm2_unseal_token(&tok[j], &err)) {
			tpm2_refused(&tok[j], &err, j + 1 == n && !left);
			continue;
		}
		if (left != j)
			tok[left] = tok[j];
		left++;
	}
	for (j = left; j < n; j++)
		sectag_token_wipe(&tok[j]);
	return left;
}

/*
 * sectagd answers, and unseals a tpm2 binding's secret itself after the
 * tap (sectag-open --unseal): unsealing here too would cost the TPM's
 * work twice for nothing. What a PCR read tells (no TPM, the measured
 * state changed) is still told before the tap; another TPM, or a
 * cleared one, only the agent's unsealing finds (it logs why). How many
 * of @tok might open; none: said why.
 */
static size_t check_all(const struct sectag_token *tok, size_t n)
{
	struct sectag_tpm2_err err;
	size_t j, left = 0, bad = 0;

	for (j = 0; j < n; j++) {
		if (tok[j].mode == SECTAG_MODE_TPM2 &&
		    sectag_tpm2_check(&tok[j].tpm2, &err)) {
			bad++;
			tpm2_refused(&tok[j], &err, bad == n);
			continue;
		}
		left++;
	}
	return left;
}

/*
 * Is there a reader a tap could come from: one named (tap_begin() then
 * says if it is missing), an NFC device speaking ISO 14443, or a PC/SC
 * reader (sectagd may watch those)? Without any, waiting for a tap is
 * waiting for nothing, and cryptsetup, which runs the tokens before it
 * reads a --key-file or asks for a passphrase, would wait with us.
 */
static bool reader_present(const struct token_open_opts *o)
{
	struct sectag_nfc_dev *devs;
	struct sectag_nfc *nfc;
	bool found = o->reader != NULL;
	size_t i, n;
	char pc[64];

	if (!found && !sectag_nfc_open(&nfc)) {
		if (!sectag_nfc_list(nfc, &devs, &n)) {
			for (i = 0; i < n && !found; i++)
				found = devs[i].protocols &
					NFC_PROTO_ISO14443_MASK;
			free(devs);
		}
		sectag_nfc_close(nfc);
	}
	if (!found) {
		pcsc_reader_names(pc, sizeof(pc));
		found = pc[0] != 0;
	}
	return found;
}

int token_open(const char *uuid, const struct sectag_token *tok, size_t n,
	       const struct token_open_opts *o,
	       char pass[SECTAG_PASS_LEN + 1], int *keyslot)
{
	struct sectag_token *tk;
	size_t left;
	int rc, fd;

	if (!uuid || !tok || !n || !o || !pass || !keyslot)
		return EX_USAGE;
	*keyslot = -1;
	if (!reader_present(o)) {
		fprintf(stderr, "%s: no NFC reader: no tap to wait for\n",
			prog);
		return EX_UNAVAIL;
	}
	fd = agent_for(uuid);
	if (fd >= 0) {
		if (!check_all(tok, n)) {
			close(fd);
			return EX_FAIL;
		}
		return via_agent(fd, uuid, o, pass);
	}
	tk = OPENSSL_malloc(n * sizeof(*tk));
	if (!tk)
		return fail(-ENOMEM, "tokens");
	memcpy(tk, tok, n * sizeof(*tk));
	left = unseal_all(tk, n);
	rc = left ? direct(uuid, tk, left, o, pass, keyslot) : EX_FAIL;
	OPENSSL_clear_free(tk, n * sizeof(*tk));
	return rc;
}
