// SPDX-License-Identifier: GPL-2.0
/*
 * NTAG 424 DNA tag-side AES secure messaging [DS 9.1]: session keys,
 * CommMode MAC and Full on commands and responses, on the kernel crypto
 * API only. The command set using it is in ntag424.c.
 */
#include <linux/errno.h>
#include <linux/kernel.h>
#include <linux/scatterlist.h>
#include <linux/string.h>
#include <crypto/algapi.h>
#include <crypto/hash.h>
#include <crypto/skcipher.h>

#include "ntag424_sm.h"

/* ---------------------------------------------------------------------- */
/* Crypto primitives: kernel crypto API only                              */

static int nt_cmac(struct ntag424 *tag, const u8 *key, const u8 *msg,
		   unsigned int len, u8 *out)
{
	int rc = crypto_shash_setkey(tag->cmac, key, NTAG424_KEY_LEN);

	if (rc)
		return rc;
	return crypto_shash_tfm_digest(tag->cmac, msg, len, out);
}

/* MACt: the odd-indexed (0-based) bytes of the CMAC [DS 9.1.3] */
static int nt_mact(struct ntag424 *tag, const u8 *key, const u8 *msg,
		   unsigned int len, u8 *mact)
{
	u8 full[NT_BLOCK];
	int i, rc;

	rc = nt_cmac(tag, key, msg, len, full);
	for (i = 0; i < NT_MACT_LEN; i++)
		mact[i] = full[2 * i + 1];
	memzero_explicit(full, sizeof(full));
	return rc;
}

/* AES-128-CBC in place; @buf must live inside @tag (scatterlist). */
int nt_cbc(struct ntag424 *tag, const u8 *key, const u8 *iv,
	   u8 *buf, unsigned int len, bool encrypt)
{
	SYNC_SKCIPHER_REQUEST_ON_STACK(req, tag->cbc);
	struct scatterlist sg;
	u8 ivb[NT_BLOCK];
	int rc;

	rc = crypto_sync_skcipher_setkey(tag->cbc, key, NTAG424_KEY_LEN);
	if (rc)
		return rc;
	if (iv)
		memcpy(ivb, iv, sizeof(ivb));
	else
		memset(ivb, 0, sizeof(ivb));
	sg_init_one(&sg, buf, len);
	skcipher_request_set_sync_tfm(req, tag->cbc);
	skcipher_request_set_callback(req, 0, NULL, NULL);
	skcipher_request_set_crypt(req, &sg, &sg, len, ivb);
	rc = encrypt ? crypto_skcipher_encrypt(req) :
		       crypto_skcipher_decrypt(req);
	skcipher_request_zero(req);
	memzero_explicit(ivb, sizeof(ivb));
	return rc;
}

/*
 * Leave no key schedule behind in the transforms between commands: the
 * last key set may be an application key or a session key.
 */
void nt_scrub_tfms(struct ntag424 *tag)
{
	static const u8 zero[NTAG424_KEY_LEN];

	crypto_shash_setkey(tag->cmac, zero, sizeof(zero));
	crypto_sync_skcipher_setkey(tag->cbc, zero, sizeof(zero));
}

/* ---------------------------------------------------------------------- */
/* Session state                                                          */

void nt_end_session(struct ntag424 *tag)
{
	memzero_explicit(&tag->ses, sizeof(tag->ses));
}

/* IVc (A5 5A) or IVr (5A A5) = E(SesAuthENCKey, tag || TI || CmdCtr || 0) */
static int nt_sm_iv(struct ntag424 *tag, bool cmd, u8 *iv)
{
	u8 *b = tag->ivb;
	int rc;

	memset(b, 0, NT_BLOCK);
	b[0] = cmd ? 0xa5 : 0x5a;
	b[1] = cmd ? 0x5a : 0xa5;
	memcpy(b + 2, tag->ses.ti, NT_TI_LEN);
	nt_put_le16(b + 6, tag->ses.ctr);
	rc = nt_cbc(tag, tag->ses.enc, NULL, b, NT_BLOCK, true);
	memcpy(iv, b, NT_BLOCK);
	memzero_explicit(b, NT_BLOCK);
	return rc;
}

/* MACt over first || CmdCtr || TI || msg with SesAuthMACKey */
int nt_sm_mact(struct ntag424 *tag, u8 first, const u8 *msg,
	       unsigned int len, u8 *mact)
{
	u8 *m = tag->mac_in;

	if (len > sizeof(tag->mac_in) - 7)
		return -EINVAL;
	m[0] = first;
	nt_put_le16(m + 1, tag->ses.ctr);
	memcpy(m + 3, tag->ses.ti, NT_TI_LEN);
	memcpy(m + 7, msg, len);
	return nt_mact(tag, tag->ses.mac, m, len + 7, mact);
}

/* Strip ISO/IEC 9797-1 method 2 padding; the last block must hold it. */
static int nt_unpad(const u8 *p, unsigned int len, unsigned int *plen)
{
	unsigned int i = len;

	while (i > 0 && len - i < NT_BLOCK && !p[i - 1])
		i--;
	if (i == 0 || len - i >= NT_BLOCK || p[i - 1] != 0x80)
		return SW_INTEGRITY;
	*plen = i - 1;
	return 0;
}

/* Decrypt Full-mode CmdData into tag->plain and remove the padding. */
static int nt_sm_decrypt(struct ntag424 *tag, struct nt_cmd *c,
			 const u8 *ct, unsigned int len)
{
	u8 iv[NT_BLOCK];
	int rc;

	if (!len || len % NT_BLOCK || len > sizeof(tag->plain))
		return SW_LENGTH;
	memcpy(tag->plain, ct, len);
	rc = nt_sm_iv(tag, true, iv);
	if (!rc)
		rc = nt_cbc(tag, tag->ses.enc, iv, tag->plain, len, false);
	memzero_explicit(iv, sizeof(iv));
	if (rc)
		return rc;
	c->payload = tag->plain;
	return nt_unpad(tag->plain, len, &c->plen);
}

/*
 * Unwrap the command's secure messaging. @hdr is the CmdHeader length,
 * @has_data whether CmdData may follow it. Returns 0 with c->payload and
 * c->plen set to the plain CmdData, a status word, or a negative errno.
 * Outside a session every command is plain.
 */
int nt_sm_in(struct ntag424 *tag, struct nt_cmd *c, u8 mode,
	     unsigned int hdr, bool has_data)
{
	unsigned int body;
	u8 mact[NT_MACT_LEN];
	int rc;

	if (!tag->ses.active)
		mode = CM_PLAIN;
	if (mode == CM_PLAIN) {
		if (c->lc < hdr || (!has_data && c->lc != hdr))
			return SW_LENGTH;
		c->payload = c->data + hdr;
		c->plen = c->lc - hdr;
		return 0;
	}
	if (c->lc < hdr + NT_MACT_LEN)
		return SW_LENGTH;
	body = c->lc - NT_MACT_LEN;
	rc = nt_sm_mact(tag, c->ins, c->data, body, mact);
	if (rc)
		return rc;
	if (crypto_memneq(mact, c->data + body, NT_MACT_LEN))
		return SW_INTEGRITY;
	if (!has_data && body != hdr)
		return SW_LENGTH;
	if (mode == CM_MAC || !has_data) {
		c->payload = c->data + hdr;
		c->plen = body - hdr;
		return 0;
	}
	return nt_sm_decrypt(tag, c, c->data + hdr, body - hdr);
}

/* Pad and encrypt tag->out[0..len) with IVr; returns the new length. */
static int nt_sm_encrypt(struct ntag424 *tag, unsigned int len)
{
	unsigned int padded = (len / NT_BLOCK + 1) * NT_BLOCK;
	u8 iv[NT_BLOCK];
	int rc;

	if (padded + NT_MACT_LEN > NT_MAX_RDATA)
		return -E2BIG;
	tag->out[len] = 0x80;
	memset(tag->out + len + 1, 0, padded - len - 1);
	rc = nt_sm_iv(tag, false, iv);
	if (!rc)
		rc = nt_cbc(tag, tag->ses.enc, iv, tag->out, padded, true);
	memzero_explicit(iv, sizeof(iv));
	return rc ? rc : (int)padded;
}

/*
 * Build the response data in tag->out. In a session the command counts
 * (CmdCtr + 1) before the response is protected [DS 9.1.2]. Returns 0, a
 * status word (response too long), or a negative errno. Called only once
 * the command is fully validated, before any state is committed.
 */
int nt_sm_out(struct ntag424 *tag, struct nt_cmd *c, u8 mode,
	      const u8 *resp, unsigned int len)
{
	int n = len;

	if (!tag->ses.active)
		mode = CM_PLAIN;
	else
		tag->ses.ctr++;
	if (mode == CM_PLAIN) {
		if (len > NT_MAX_RDATA)
			return SW_LENGTH;
		if (len)
			memcpy(tag->out, resp, len);
		c->rlen = len;
		return 0;
	}
	if (len > NT_MAX_RDATA - NT_MACT_LEN)
		return SW_LENGTH;
	if (len)
		memcpy(tag->out, resp, len);
	if (mode == CM_FULL && len) {
		n = nt_sm_encrypt(tag, len);
		if (n == -E2BIG)
			return SW_LENGTH;
		if (n < 0)
			return n;
	}
	c->rlen = n + NT_MACT_LEN;
	return nt_sm_mact(tag, 0x00, tag->out, n, tag->out + n);
}

/*
 * SV1/SV2 = A55A|5AA5 || 0001 0080 || ctx, with ctx built MSB-first from
 * RndA and RndB (reference section 2.4, pitfall 3); keys = CMAC(Kx, SV).
 */
int nt_session_keys(struct ntag424 *tag, const u8 *key,
		    const u8 *rnda, const u8 *rndb)
{
	static const u8 hdr[] = { 0xa5, 0x5a, 0x00, 0x01, 0x00, 0x80 };
	u8 *sv = tag->mac_in;
	int i, rc;

	memcpy(sv, hdr, sizeof(hdr));
	memcpy(sv + 6, rnda, 2);
	for (i = 0; i < 6; i++)
		sv[8 + i] = rnda[2 + i] ^ rndb[i];
	memcpy(sv + 14, rndb + 6, 10);
	memcpy(sv + 24, rnda + 8, 8);
	rc = nt_cmac(tag, key, sv, 32, tag->ses.enc);
	sv[0] = 0x5a;
	sv[1] = 0xa5;
	if (!rc)
		rc = nt_cmac(tag, key, sv, 32, tag->ses.mac);
	memzero_explicit(sv, 32);
	return rc;
}
