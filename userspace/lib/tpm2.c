// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Sealing to the TPM2 with tpm2-tss's ESAPI (tpm2.h). One function per
 * TPM step; every handle is flushed and every secret wiped on the way
 * out, whatever failed.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <tss2/tss2_esys.h>
#include <tss2/tss2_mu.h>
#include <tss2/tss2_rc.h>
#include <tss2/tss2_tctildr.h>

#include "tpm2.h"

/* The TPM's own response codes (layer 0), without handle/session bits. */
#define RC_FMT1		0x080u
#define RC_N_MASK	0xf00u
#define RC_P_BIT	0x040u

struct tpm {
	TSS2_TCTI_CONTEXT *tcti;
	ESYS_CONTEXT *ctx;
	ESYS_TR primary;
};

static void set_err(struct sectag_tpm2_err *err, int rc, TSS2_RC trc,
		    const char *what)
{
	err->rc = rc;
	if (trc)
		snprintf(err->detail, sizeof(err->detail), "%s: %s", what,
			 Tss2_RC_Decode(trc));
	else
		snprintf(err->detail, sizeof(err->detail), "%s", what);
}

/* A TPM response code, its parameter/handle/session number masked off. */
static uint32_t tpm_rc(TSS2_RC trc)
{
	if ((trc & TSS2_RC_LAYER_MASK) != TSS2_TPM_RC_LAYER)
		return 0;
	if (trc & RC_FMT1)
		return trc & ~(RC_N_MASK | RC_P_BIT);
	return trc;
}

/* An ESAPI failure as one of tpm2.h's errnos. */
static int fail_tpm(struct sectag_tpm2_err *err, TSS2_RC trc,
		    const char *what)
{
	uint32_t rc = tpm_rc(trc);
	int e = -EIO;

	if (rc == TPM2_RC_AUTH_FAIL || rc == TPM2_RC_BAD_AUTH ||
	    rc == TPM2_RC_LOCKOUT || rc == TPM2_RC_HIERARCHY)
		e = -EACCES;
	set_err(err, e, trc, what);
	return e;
}

/* ---------------------------------------------------------------------- */
/* Connection and primary key                                             */

/*
 * The TSS logs to stderr by default: our messages say what went wrong,
 * so its own stay off unless the user asked for them (TSS2_LOG).
 */
static int tpm_open(struct tpm *t, struct sectag_tpm2_err *err)
{
	const char *conf = getenv("SECTAG_TPM2_TCTI");
	TSS2_RC trc;

	memset(t, 0, sizeof(*t));
	t->primary = ESYS_TR_NONE;
	setenv("TSS2_LOG", "all+NONE", 0);
	if (!conf || !*conf) {
		conf = "device:" SECTAG_TPM2_DEVICE;
		if (access(SECTAG_TPM2_DEVICE, R_OK | W_OK)) {
			snprintf(err->detail, sizeof(err->detail), "%s: %s",
				 SECTAG_TPM2_DEVICE, strerror(errno));
			err->rc = -ENODEV;
			return -ENODEV;
		}
	}
	trc = Tss2_TctiLdr_Initialize(conf, &t->tcti);
	if (trc) {
		set_err(err, -ENODEV, trc, conf);
		return -ENODEV;
	}
	trc = Esys_Initialize(&t->ctx, t->tcti, NULL);
	if (trc) {
		Tss2_TctiLdr_Finalize(&t->tcti);
		set_err(err, -ENODEV, trc, conf);
		return -ENODEV;
	}
	return 0;
}

static void tpm_close(struct tpm *t)
{
	if (t->ctx && t->primary != ESYS_TR_NONE)
		Esys_FlushContext(t->ctx, t->primary);
	if (t->ctx)
		Esys_Finalize(&t->ctx);
	if (t->tcti)
		Tss2_TctiLdr_Finalize(&t->tcti);
}

/*
 * The storage root key, as the TCG's provisioning guidance defines the
 * ECC SRK template: the owner seed always derives the same key from it.
 */
static int create_primary(struct tpm *t, struct sectag_tpm2_err *err)
{
	TPM2B_PUBLIC tmpl = {
		.publicArea = {
			.type = TPM2_ALG_ECC,
			.nameAlg = TPM2_ALG_SHA256,
			.objectAttributes = TPMA_OBJECT_FIXEDTPM |
				TPMA_OBJECT_FIXEDPARENT |
				TPMA_OBJECT_SENSITIVEDATAORIGIN |
				TPMA_OBJECT_USERWITHAUTH | TPMA_OBJECT_NODA |
				TPMA_OBJECT_RESTRICTED | TPMA_OBJECT_DECRYPT,
			.parameters.eccDetail = {
				.symmetric = {
					.algorithm = TPM2_ALG_AES,
					.keyBits.aes = 128,
					.mode.aes = TPM2_ALG_CFB,
				},
				.scheme.scheme = TPM2_ALG_NULL,
				.curveID = TPM2_ECC_NIST_P256,
				.kdf.scheme = TPM2_ALG_NULL,
			},
		},
	};
	TPM2B_SENSITIVE_CREATE sens = { 0 };
	TPM2B_DATA outside = { 0 };
	TPML_PCR_SELECTION none = { 0 };
	TSS2_RC trc;

	trc = Esys_CreatePrimary(t->ctx, ESYS_TR_RH_OWNER, ESYS_TR_PASSWORD,
				 ESYS_TR_NONE, ESYS_TR_NONE, &sens, &tmpl,
				 &outside, &none, &t->primary, NULL, NULL,
				 NULL, NULL);
	if (trc) {
		t->primary = ESYS_TR_NONE;
		return fail_tpm(err, trc, "creating the storage key");
	}
	return 0;
}

/*
 * A session salted with the primary key: @type TPM2_SE_HMAC or
 * TPM2_SE_POLICY (or TRIAL, unsalted), AES-128-CFB parameter encryption
 * in the direction(s) @attrs says.
 */
static int start_session(struct tpm *t, TPM2_SE type, TPMA_SESSION attrs,
			 ESYS_TR *s, struct sectag_tpm2_err *err)
{
	TPMT_SYM_DEF aes = {
		.algorithm = TPM2_ALG_AES,
		.keyBits.aes = 128,
		.mode.aes = TPM2_ALG_CFB,
	};
	TPMT_SYM_DEF null = { .algorithm = TPM2_ALG_NULL };
	bool trial = type == TPM2_SE_TRIAL;
	TSS2_RC trc;

	trc = Esys_StartAuthSession(t->ctx, trial ? ESYS_TR_NONE : t->primary,
				    ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE,
				    ESYS_TR_NONE, NULL, type,
				    trial ? &null : &aes, TPM2_ALG_SHA256, s);
	if (trc) {
		*s = ESYS_TR_NONE;
		return fail_tpm(err, trc, "starting a session");
	}
	if (trial)
		return 0;
	trc = Esys_TRSess_SetAttributes(t->ctx, *s, attrs, 0xff);
	if (trc) {
		Esys_FlushContext(t->ctx, *s);
		*s = ESYS_TR_NONE;
		return fail_tpm(err, trc, "session attributes");
	}
	return 0;
}

/* ---------------------------------------------------------------------- */
/* PCRs                                                                   */

static void selection(uint32_t pcrs, TPML_PCR_SELECTION *sel)
{
	memset(sel, 0, sizeof(*sel));
	sel->count = 1;
	sel->pcrSelections[0].hash = TPM2_ALG_SHA256;
	sel->pcrSelections[0].sizeofSelect = 3;
	sel->pcrSelections[0].pcrSelect[0] = pcrs & 0xff;
	sel->pcrSelections[0].pcrSelect[1] = (pcrs >> 8) & 0xff;
	sel->pcrSelections[0].pcrSelect[2] = (pcrs >> 16) & 0xff;
}

static uint32_t mask_of(const TPML_PCR_SELECTION *sel)
{
	const TPMS_PCR_SELECTION *s;
	uint32_t i, m = 0;

	for (i = 0; i < sel->count; i++) {
		s = &sel->pcrSelections[i];
		if (s->hash != TPM2_ALG_SHA256 || s->sizeofSelect < 3)
			continue;
		m |= s->pcrSelect[0] | (uint32_t)s->pcrSelect[1] << 8 |
		     (uint32_t)s->pcrSelect[2] << 16;
	}
	return m;
}

/*
 * The current values of PCRs @pcrs, by PCR number. PCR_Read answers at
 * most 8 digests at a time, and says which: ask again for the rest; a
 * PCR the bank does not have is never answered.
 */
static int read_pcrs(struct tpm *t, uint32_t pcrs, uint8_t val[][32],
		     struct sectag_tpm2_err *err)
{
	TPML_PCR_SELECTION sel, *got = NULL;
	TPML_DIGEST *dig = NULL;
	uint32_t want = pcrs, m, k, pcr;
	bool bad;
	TSS2_RC trc;

	while (want) {
		selection(want, &sel);
		trc = Esys_PCR_Read(t->ctx, ESYS_TR_NONE, ESYS_TR_NONE,
				    ESYS_TR_NONE, &sel, NULL, &got, &dig);
		if (trc)
			return fail_tpm(err, trc, "reading the PCRs");
		m = mask_of(got) & want;
		bad = !m;
		for (pcr = 0, k = 0; pcr < SECTAG_TPM2_PCRS && !bad; pcr++) {
			if (!(m & (1u << pcr)))
				continue;
			bad = k >= dig->count || dig->digests[k].size != 32;
			if (!bad)
				memcpy(val[pcr], dig->digests[k++].buffer, 32);
		}
		Esys_Free(got);
		Esys_Free(dig);
		if (bad) {
			set_err(err, -EOPNOTSUPP, 0, "the TPM has no sha256 "
				"PCR bank with these PCRs");
			return -EOPNOTSUPP;
		}
		want &= ~m;
	}
	return 0;
}

/* SHA-256 of the values of @pcrs in ascending order: PolicyPCR's digest. */
static int pcr_digest(uint32_t pcrs, const uint8_t val[][32],
		      TPM2B_DIGEST *d)
{
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	unsigned int len = 0, pcr;
	int ok;

	ok = md && EVP_DigestInit_ex(md, EVP_sha256(), NULL);
	for (pcr = 0; ok && pcr < SECTAG_TPM2_PCRS; pcr++)
		if (pcrs & (1u << pcr))
			ok = EVP_DigestUpdate(md, val[pcr], 32);
	ok = ok && EVP_DigestFinal_ex(md, d->buffer, &len);
	EVP_MD_CTX_free(md);
	d->size = (UINT16)len;
	return ok && len == 32 ? 0 : -EIO;
}

/*
 * The policy digest of "PCRs @pcrs hold @val", from a trial session
 * given that digest: the TPM computes the policy the way it will check
 * it, for the values we read (not whatever the PCRs hold meanwhile).
 */
static int policy_digest(struct tpm *t, uint32_t pcrs, const uint8_t val[][32],
			 TPM2B_DIGEST *policy, struct sectag_tpm2_err *err)
{
	TPML_PCR_SELECTION sel;
	TPM2B_DIGEST pd, *out = NULL;
	ESYS_TR s;
	TSS2_RC trc;
	int rc;

	if (pcr_digest(pcrs, val, &pd)) {
		set_err(err, -EIO, 0, "cannot hash the PCR values");
		return -EIO;
	}
	rc = start_session(t, TPM2_SE_TRIAL, 0, &s, err);
	if (rc)
		return rc;
	selection(pcrs, &sel);
	trc = Esys_PolicyPCR(t->ctx, s, ESYS_TR_NONE, ESYS_TR_NONE,
			     ESYS_TR_NONE, &pd, &sel);
	if (!trc)
		trc = Esys_PolicyGetDigest(t->ctx, s, ESYS_TR_NONE,
					   ESYS_TR_NONE, ESYS_TR_NONE, &out);
	Esys_FlushContext(t->ctx, s);
	if (trc)
		return fail_tpm(err, trc, "computing the PCR policy");
	*policy = *out;
	Esys_Free(out);
	return 0;
}

/* ---------------------------------------------------------------------- */
/* Seal                                                                   */

static int marshal(const TPM2B_PUBLIC *pub, const TPM2B_PRIVATE *priv,
		   struct sectag_tpm2_blob *out, struct sectag_tpm2_err *err)
{
	size_t off = 0;
	TSS2_RC trc;

	trc = Tss2_MU_TPM2B_PUBLIC_Marshal(pub, out->pub, sizeof(out->pub),
					   &off);
	out->pub_len = off;
	off = 0;
	if (!trc)
		trc = Tss2_MU_TPM2B_PRIVATE_Marshal(priv, out->priv,
						    sizeof(out->priv), &off);
	out->priv_len = off;
	return trc ? fail_tpm(err, trc, "the sealed object is too large") : 0;
}

/*
 * A keyedHash data object holding @data under the primary key: only a
 * policy session satisfying @policy reads it (no userWithAuth), or, with
 * no PCR in the policy, the empty auth value through a salted session.
 */
static int create_sealed(struct tpm *t, const TPM2B_DIGEST *policy,
			 const uint8_t *data, size_t len,
			 struct sectag_tpm2_blob *out,
			 struct sectag_tpm2_err *err)
{
	TPM2B_PUBLIC tmpl = {
		.publicArea = {
			.type = TPM2_ALG_KEYEDHASH,
			.nameAlg = TPM2_ALG_SHA256,
			.objectAttributes = TPMA_OBJECT_FIXEDTPM |
				TPMA_OBJECT_FIXEDPARENT | TPMA_OBJECT_NODA,
			.parameters.keyedHashDetail.scheme.scheme =
				TPM2_ALG_NULL,
		},
	};
	TPM2B_SENSITIVE_CREATE *sens;
	TPM2B_PRIVATE *priv = NULL;
	TPM2B_PUBLIC *pub = NULL;
	TPM2B_DATA outside = { 0 };
	TPML_PCR_SELECTION none = { 0 };
	ESYS_TR s;
	TSS2_RC trc;
	int rc;

	if (policy->size)
		tmpl.publicArea.authPolicy = *policy;
	else
		tmpl.publicArea.objectAttributes |= TPMA_OBJECT_USERWITHAUTH;
	rc = start_session(t, TPM2_SE_HMAC, TPMA_SESSION_DECRYPT, &s, err);
	if (rc)
		return rc;
	sens = OPENSSL_zalloc(sizeof(*sens));
	if (!sens) {
		Esys_FlushContext(t->ctx, s);
		set_err(err, -ENOMEM, 0, "out of memory");
		return -ENOMEM;
	}
	sens->sensitive.data.size = (UINT16)len;
	memcpy(sens->sensitive.data.buffer, data, len);
	trc = Esys_Create(t->ctx, t->primary, s, ESYS_TR_NONE, ESYS_TR_NONE,
			  sens, &tmpl, &outside, &none, &priv, &pub, NULL,
			  NULL, NULL);
	OPENSSL_clear_free(sens, sizeof(*sens));
	Esys_FlushContext(t->ctx, s);
	if (trc)
		return fail_tpm(err, trc, "sealing");
	rc = marshal(pub, priv, out, err);
	Esys_Free(pub);
	Esys_Free(priv);
	return rc;
}

int sectag_tpm2_seal(uint32_t pcrs, const uint8_t *data, size_t len,
		     struct sectag_tpm2_blob *out, struct sectag_tpm2_err *err)
{
	TPM2B_DIGEST policy = { 0 };
	struct tpm t;
	int rc;

	if (!data || !len || len > SECTAG_TPM2_DATA_MAX || !out || !err ||
	    pcrs >= 1u << SECTAG_TPM2_PCRS)
		return -EINVAL;
	memset(err, 0, sizeof(*err));
	memset(out, 0, sizeof(*out));
	out->pcrs = pcrs;
	rc = tpm_open(&t, err);
	if (rc)
		return rc;
	rc = create_primary(&t, err);
	if (!rc && pcrs)
		rc = read_pcrs(&t, pcrs, out->pcr_values, err);
	if (!rc && pcrs)
		rc = policy_digest(&t, pcrs, out->pcr_values, &policy, err);
	if (!rc)
		rc = create_sealed(&t, &policy, data, len, out, err);
	tpm_close(&t);
	return rc;
}

/* ---------------------------------------------------------------------- */
/* Unseal                                                                 */

/* The sealed object into the TPM, under this TPM's primary key. */
static int load(struct tpm *t, const struct sectag_tpm2_blob *b,
		ESYS_TR *obj, struct sectag_tpm2_err *err)
{
	TPM2B_PUBLIC pub = { 0 };
	TPM2B_PRIVATE priv = { 0 };
	size_t off = 0;
	TSS2_RC trc;
	uint32_t rc;

	trc = Tss2_MU_TPM2B_PUBLIC_Unmarshal(b->pub, b->pub_len, &off, &pub);
	if (!trc && off == b->pub_len) {
		off = 0;
		trc = Tss2_MU_TPM2B_PRIVATE_Unmarshal(b->priv, b->priv_len,
						      &off, &priv);
	}
	if (trc || off != b->priv_len) {
		set_err(err, -EIO, 0, "the token's sealed object is malformed");
		return -EIO;
	}
	trc = Esys_Load(t->ctx, t->primary, ESYS_TR_PASSWORD, ESYS_TR_NONE,
			ESYS_TR_NONE, &priv, &pub, obj);
	if (!trc)
		return 0;
	*obj = ESYS_TR_NONE;
	rc = tpm_rc(trc);
	/* Another TPM's (or a cleared one's) seed: the integrity fails. */
	if (rc == TPM2_RC_INTEGRITY || rc == TPM2_RC_BINDING ||
	    rc == TPM2_RC_KEY || rc == TPM2_RC_SIZE) {
		set_err(err, -ESTALE, trc, "loading the sealed object");
		return -ESTALE;
	}
	return fail_tpm(err, trc, "loading the sealed object");
}

/*
 * The policy failed: which PCRs differ from their values at sealing.
 * None (the values are back, or cannot be read): changed stays 0.
 */
static void which_changed(struct tpm *t, const struct sectag_tpm2_blob *b,
			  struct sectag_tpm2_err *err)
{
	uint8_t now[SECTAG_TPM2_PCRS][32];
	struct sectag_tpm2_err e2;
	unsigned int pcr;

	err->changed = 0;
	if (read_pcrs(t, b->pcrs, now, &e2))
		return;
	for (pcr = 0; pcr < SECTAG_TPM2_PCRS; pcr++)
		if ((b->pcrs & (1u << pcr)) &&
		    memcmp(now[pcr], b->pcr_values[pcr], 32))
			err->changed |= 1u << pcr;
}

/* Unseal @obj through a session that satisfies its policy. */
static int unseal_obj(struct tpm *t, const struct sectag_tpm2_blob *b,
		      ESYS_TR obj, TPM2B_SENSITIVE_DATA **data,
		      struct sectag_tpm2_err *err)
{
	TPM2B_DIGEST any = { 0 };
	TPML_PCR_SELECTION sel;
	ESYS_TR s;
	TSS2_RC trc;
	uint32_t rc;
	int r;

	r = start_session(t, b->pcrs ? TPM2_SE_POLICY : TPM2_SE_HMAC,
			  TPMA_SESSION_ENCRYPT, &s, err);
	if (r)
		return r;
	selection(b->pcrs, &sel);
	trc = b->pcrs ? Esys_PolicyPCR(t->ctx, s, ESYS_TR_NONE, ESYS_TR_NONE,
				       ESYS_TR_NONE, &any, &sel) : 0;
	if (!trc)
		trc = Esys_Unseal(t->ctx, obj, s, ESYS_TR_NONE, ESYS_TR_NONE,
				  data);
	/* A failed command leaves the session; a good one ended it. */
	if (trc)
		Esys_FlushContext(t->ctx, s);
	if (!trc)
		return 0;
	rc = tpm_rc(trc);
	if (rc == TPM2_RC_POLICY_FAIL || rc == TPM2_RC_PCR_CHANGED ||
	    rc == TPM2_RC_VALUE) {
		set_err(err, -EKEYREJECTED, trc, "unsealing");
		which_changed(t, b, err);
		return -EKEYREJECTED;
	}
	return fail_tpm(err, trc, "unsealing");
}

int sectag_tpm2_unseal(const struct sectag_tpm2_blob *b, uint8_t *out,
		       size_t size, size_t *len, struct sectag_tpm2_err *err)
{
	TPM2B_SENSITIVE_DATA *data = NULL;
	ESYS_TR obj = ESYS_TR_NONE;
	struct tpm t;
	int rc;

	if (!b || !out || !len || !err)
		return -EINVAL;
	memset(err, 0, sizeof(*err));
	rc = tpm_open(&t, err);
	if (rc)
		return rc;
	rc = create_primary(&t, err);
	if (!rc)
		rc = load(&t, b, &obj, err);
	if (!rc)
		rc = unseal_obj(&t, b, obj, &data, err);
	if (!rc && data->size > size) {
		set_err(err, -ENOSPC, 0, "the sealed secret is too long");
		rc = -ENOSPC;
	}
	if (!rc) {
		memcpy(out, data->buffer, data->size);
		*len = data->size;
	}
	if (data) {
		OPENSSL_cleanse(data, sizeof(*data));
		Esys_Free(data);
	}
	if (obj != ESYS_TR_NONE)
		Esys_FlushContext(t.ctx, obj);
	tpm_close(&t);
	return rc;
}

#define PAYLOAD_LEN	(16 + 32)

int sectag_tpm2_seal_token(struct sectag_token *tok, uint32_t pcrs,
			   const uint8_t read_key[16],
			   const uint8_t host_secret[32],
			   struct sectag_tpm2_err *err)
{
	uint8_t data[PAYLOAD_LEN];
	int rc;

	if (!tok || !read_key || !host_secret || !err)
		return -EINVAL;
	memcpy(data, read_key, 16);
	memcpy(data + 16, host_secret, 32);
	rc = sectag_tpm2_seal(pcrs, data, sizeof(data), &tok->tpm2, err);
	OPENSSL_cleanse(data, sizeof(data));
	return rc;
}

int sectag_tpm2_unseal_token(struct sectag_token *tok,
			     struct sectag_tpm2_err *err)
{
	uint8_t data[SECTAG_TPM2_DATA_MAX];
	size_t len = 0;
	int rc;

	if (!tok || !err || tok->mode != SECTAG_MODE_TPM2)
		return -EINVAL;
	rc = sectag_tpm2_unseal(&tok->tpm2, data, sizeof(data), &len, err);
	if (!rc && len != PAYLOAD_LEN) {
		set_err(err, -EIO, 0, "the sealed secret is not sectag's");
		rc = -EIO;
	}
	if (!rc) {
		memcpy(tok->read_key, data, 16);
		memcpy(tok->salt, data + 16, 32);
	}
	OPENSSL_cleanse(data, sizeof(data));
	return rc;
}

int sectag_tpm2_check(const struct sectag_tpm2_blob *b,
		      struct sectag_tpm2_err *err)
{
	uint8_t now[SECTAG_TPM2_PCRS][32];
	unsigned int pcr;
	struct tpm t;
	int rc;

	if (!b || !err)
		return -EINVAL;
	memset(err, 0, sizeof(*err));
	rc = tpm_open(&t, err);
	if (rc)
		return rc;
	rc = b->pcrs ? read_pcrs(&t, b->pcrs, now, err) : 0;
	tpm_close(&t);
	for (pcr = 0; !rc && pcr < SECTAG_TPM2_PCRS; pcr++)
		if ((b->pcrs & (1u << pcr)) &&
		    memcmp(now[pcr], b->pcr_values[pcr], 32))
			err->changed |= 1u << pcr;
	if (!rc && err->changed) {
		set_err(err, -EKEYREJECTED, 0, "the PCRs differ");
		rc = -EKEYREJECTED;
	}
	return rc;
}

int sectag_tpm2_probe(uint32_t pcrs, struct sectag_tpm2_err *err)
{
	uint8_t val[SECTAG_TPM2_PCRS][32];
	struct tpm t;
	int rc;

	if (!err)
		return -EINVAL;
	memset(err, 0, sizeof(*err));
	rc = tpm_open(&t, err);
	if (rc)
		return rc;
	rc = pcrs ? read_pcrs(&t, pcrs, val, err) : 0;
	tpm_close(&t);
	return rc;
}

/* ---------------------------------------------------------------------- */
/* Text                                                                   */

const char *sectag_tpm2_strerror(const struct sectag_tpm2_err *err,
				 char *buf, size_t size)
{
	char pcrs[80];

	switch (err->rc) {
	case -ENODEV:
		snprintf(buf, size, "no TPM2 on this machine (%s)",
			 err->detail);
		break;
	case -EKEYREJECTED:
		if (err->changed &&
		    sectag_tpm2_pcrs_text(err->changed, pcrs, sizeof(pcrs)) > 0)
			snprintf(buf, size, "this machine's measured state "
				 "changed since enrolment: PCR %s", pcrs);
		else
			snprintf(buf, size, "this machine's measured state "
				 "does not match the enrolment's (the TPM "
				 "refused the PCR policy)");
		break;
	case -ESTALE:
		snprintf(buf, size, "sealed by a different TPM, or this TPM "
			 "was cleared since enrolment (%s)", err->detail);
		break;
	case -EACCES:
		snprintf(buf, size, "the TPM refused access to its owner "
			 "hierarchy (%s)", err->detail);
		break;
	default:
		snprintf(buf, size, "TPM2: %s", err->detail[0] ? err->detail :
			 strerror(-err->rc));
	}
	return buf;
}
