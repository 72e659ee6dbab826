// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * NTAG 424 DNA AES secure messaging on OpenSSL 3 [DS 9.1]. A fresh
 * cipher context per operation: reusing a CBC context across calls
 * carries its IV state over (reference, pitfall 11).
 */
#include <errno.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "ntag424_sm.h"

void sm_session_end(struct sm_session *s)
{
	OPENSSL_cleanse(s, sizeof(*s));
	s->keyno = -1;
}

int sm_cbc(const uint8_t *key, const uint8_t *iv, const uint8_t *in,
	   uint8_t *out, size_t n, bool enc)
{
	static const uint8_t zero[SM_BLOCK];
	EVP_CIPHER_CTX *ctx;
	int l = 0, ok;

	if (n % SM_BLOCK || n > 4096)
		return -EINVAL;
	ctx = EVP_CIPHER_CTX_new();
	if (!ctx)
		return -ENOMEM;
	ok = EVP_CipherInit_ex(ctx, EVP_aes_128_cbc(), NULL, key,
			       iv ? iv : zero, enc) &&
	     EVP_CIPHER_CTX_set_padding(ctx, 0) &&
	     EVP_CipherUpdate(ctx, out, &l, in, (int)n) && l == (int)n;
	EVP_CIPHER_CTX_free(ctx);
	return ok ? 0 : -EIO;
}

int sm_cmac(const uint8_t *key, const uint8_t *m, size_t n, uint8_t *out)
{
	OSSL_PARAM p[] = {
		OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_CIPHER,
						 "AES-128-CBC", 0),
		OSSL_PARAM_construct_end(),
	};
	EVP_MAC *mac = EVP_MAC_fetch(NULL, "CMAC", NULL);
	EVP_MAC_CTX *ctx = mac ? EVP_MAC_CTX_new(mac) : NULL;
	size_t ol = 0;
	int ok;

	ok = ctx && EVP_MAC_init(ctx, key, SM_BLOCK, p) &&
	     EVP_MAC_update(ctx, m, n) &&
	     EVP_MAC_final(ctx, out, &ol, SM_BLOCK) && ol == SM_BLOCK;
	EVP_MAC_CTX_free(ctx);
	EVP_MAC_free(mac);
	return ok ? 0 : -EIO;
}

int sm_mact(const uint8_t *key, const uint8_t *m, size_t n, uint8_t *out)
{
	uint8_t full[SM_BLOCK];
	int i, rc;

	rc = sm_cmac(key, m, n, full);
	/* The "even-numbered" bytes counting from 1: 1, 3, ... 15 from 0. */
	for (i = 0; !rc && i < SM_MACT_LEN; i++)
		out[i] = full[2 * i + 1];
	OPENSSL_cleanse(full, sizeof(full));
	return rc;
}

int sm_session_keys(const uint8_t *key, const uint8_t *ra, const uint8_t *rb,
		    uint8_t *enc, uint8_t *mac)
{
	uint8_t sv[32] = { 0xA5, 0x5A, 0x00, 0x01, 0x00, 0x80 };
	uint8_t *ctx = sv + 6;
	int i, rc;

	/* RndA[15..14] are the first bytes on the wire (pitfall 3). */
	memcpy(ctx, ra, 2);
	for (i = 0; i < 6; i++)
		ctx[2 + i] = ra[2 + i] ^ rb[i];
	memcpy(ctx + 8, rb + 6, 10);
	memcpy(ctx + 18, ra + 8, 8);
	rc = sm_cmac(key, sv, sizeof(sv), enc);
	sv[0] = 0x5A;
	sv[1] = 0xA5;
	if (!rc)
		rc = sm_cmac(key, sv, sizeof(sv), mac);
	OPENSSL_cleanse(sv, sizeof(sv));
	return rc;
}

int sm_iv(const struct sm_session *s, bool cmd, uint8_t *iv)
{
	uint8_t in[SM_BLOCK] = { 0 };
	int rc;

	in[0] = cmd ? 0xA5 : 0x5A;
	in[1] = cmd ? 0x5A : 0xA5;
	memcpy(in + 2, s->ti, SM_TI_LEN);
	in[6] = s->ctr & 0xff;
	in[7] = s->ctr >> 8;
	rc = sm_cbc(s->enc, NULL, in, iv, SM_BLOCK, true);
	OPENSSL_cleanse(in, sizeof(in));
	return rc;
}

/* MACt over first || CmdCtr || TI || @m (first: Cmd, or RC for answers). */
static int sm_mact_ctr(const struct sm_session *s, uint8_t first,
		       const uint8_t *m, size_t n, uint8_t *out)
{
	uint8_t in[7 + 512];
	int rc;

	if (n > sizeof(in) - 7)
		return -EINVAL;
	in[0] = first;
	in[1] = s->ctr & 0xff;
	in[2] = s->ctr >> 8;
	memcpy(in + 3, s->ti, SM_TI_LEN);
	if (n)
		memcpy(in + 7, m, n);
	rc = sm_mact(s->mac, in, 7 + n, out);
	OPENSSL_cleanse(in, 7 + n);
	return rc;
}

int sm_wrap(const struct sm_session *s, uint8_t ins, bool full, uint8_t *buf,
	    size_t hlen, size_t dlen, size_t size, size_t *blen)
{
	uint8_t iv[SM_BLOCK], *d = buf + hlen;
	size_t n = dlen;
	int rc = 0;

	if (full && dlen) {
		/* ISO 9797-1 method 2, always at least one byte [DS 9.1.4]. */
		n = (dlen / SM_BLOCK + 1) * SM_BLOCK;
		if (hlen + n + SM_MACT_LEN > size)
			return -EINVAL;
		d[dlen] = 0x80;
		memset(d + dlen + 1, 0, n - dlen - 1);
		rc = sm_iv(s, true, iv);
		if (!rc)
			rc = sm_cbc(s->enc, iv, d, d, n, true);
		OPENSSL_cleanse(iv, sizeof(iv));
	} else if (hlen + n + SM_MACT_LEN > size) {
		return -EINVAL;
	}
	if (!rc)
		rc = sm_mact_ctr(s, ins, buf, hlen + n, buf + hlen + n);
	*blen = hlen + n + SM_MACT_LEN;
	return rc;
}

/* Strip ISO 9797-1 method 2 padding; it lies within the last block. */
static int sm_unpad(const uint8_t *p, size_t len, size_t *plen)
{
	size_t i = len;

	while (i > 0 && len - i < SM_BLOCK && p[i - 1] == 0)
		i--;
	if (i == 0 || len - i >= SM_BLOCK || p[i - 1] != 0x80)
		return -EBADMSG;
	*plen = i - 1;
	return 0;
}

int sm_unwrap(const struct sm_session *s, bool full, uint8_t *buf, size_t len,
	      size_t *plen)
{
	uint8_t mact[SM_MACT_LEN], iv[SM_BLOCK];
	size_t body;
	int rc;

	if (len < SM_MACT_LEN)
		return -EBADMSG;
	body = len - SM_MACT_LEN;
	if (sm_mact_ctr(s, 0x00, buf, body, mact) ||
	    CRYPTO_memcmp(mact, buf + body, SM_MACT_LEN))
		return -EBADMSG;
	*plen = body;
	if (!full || !body)
		return 0;
	if (body % SM_BLOCK)
		return -EBADMSG;
	rc = sm_iv(s, false, iv);
	if (!rc)
		rc = sm_cbc(s->enc, iv, buf, buf, body, false);
	OPENSSL_cleanse(iv, sizeof(iv));
	return rc ? -EBADMSG : sm_unpad(buf, body, plen);
}

static void rotl1(uint8_t *d, const uint8_t *s)
{
	memmove(d, s + 1, SM_BLOCK - 1);
	d[SM_BLOCK - 1] = s[0];
}

int sm_auth_token(const uint8_t *key, const uint8_t *ek, const uint8_t *ra,
		  uint8_t *rb, uint8_t *tok)
{
	uint8_t in[2 * SM_BLOCK];
	int rc;

	rc = sm_cbc(key, NULL, ek, rb, SM_BLOCK, false);
	memcpy(in, ra, SM_BLOCK);
	rotl1(in + SM_BLOCK, rb);
	if (!rc)
		rc = sm_cbc(key, NULL, in, tok, sizeof(in), true);
	OPENSSL_cleanse(in, sizeof(in));
	return rc;
}

int sm_auth_finish(struct sm_session *s, const uint8_t *key, bool first,
		   const uint8_t *resp, const uint8_t *ra, const uint8_t *rb)
{
	uint8_t p[2 * SM_BLOCK], want[SM_BLOCK];
	const uint8_t *rap = first ? p + SM_TI_LEN : p;
	int rc;

	rc = sm_cbc(key, NULL, resp, p, first ? 2 * SM_BLOCK : SM_BLOCK,
		    false);
	rotl1(want, ra);
	if (!rc && CRYPTO_memcmp(rap, want, SM_BLOCK))
		rc = -EBADMSG;
	if (!rc)
		rc = sm_session_keys(key, ra, rb, s->enc, s->mac);
	if (!rc && first) {
		memcpy(s->ti, p, SM_TI_LEN);
		s->ctr = 0;
	}
	s->active = !rc;
	OPENSSL_cleanse(p, sizeof(p));
	OPENSSL_cleanse(want, sizeof(want));
	return rc ? -EBADMSG : 0;
}

uint32_t sm_jamcrc(const uint8_t *p, size_t n)
{
	uint32_t crc = 0xFFFFFFFF;
	int b;

	while (n--) {
		crc ^= *p++;
		for (b = 0; b < 8; b++)
			crc = crc >> 1 ^ (0xEDB88320 & -(crc & 1));
	}
	return crc;
}

size_t sm_change_key_data(uint8_t keyno, const uint8_t *old_key,
			  const uint8_t *new_key, uint8_t version, uint8_t *d)
{
	uint32_t crc;
	int i;

	if (keyno == 0) {
		memcpy(d, new_key, SM_BLOCK);
		d[SM_BLOCK] = version;
		return SM_BLOCK + 1;
	}
	for (i = 0; i < SM_BLOCK; i++)
		d[i] = new_key[i] ^ old_key[i];
	d[SM_BLOCK] = version;
	crc = sm_jamcrc(new_key, SM_BLOCK);
	for (i = 0; i < 4; i++)
		d[SM_BLOCK + 1 + i] = crc >> (8 * i);
	return SM_BLOCK + 5;
}

int sm_an10922(const uint8_t *master, const uint8_t *m, size_t mlen,
	       uint8_t *out)
{
	uint8_t d[32];
	int rc;

	/*
	 * AN10922 pads 01 || M to 32 bytes and uses subkey K2; for
	 * 17..32-byte inputs that is exactly standard CMAC.
	 */
	if (mlen < 16 || mlen > 31)
		return -EINVAL;
	d[0] = 0x01;
	memcpy(d + 1, m, mlen);
	rc = sm_cmac(master, d, mlen + 1, out);
	OPENSSL_cleanse(d, sizeof(d));
	return rc;
}
