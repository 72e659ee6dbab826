// SPDX-License-Identifier: GPL-2.0
/* The tests' reader-side secure messaging (sm_oracle.h). */
#include <stdlib.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/evp.h>

#include "sm_oracle.h"

#define BLK	ORACLE_BLK

void oracle_cbc(const uint8_t *key, const uint8_t *iv, const uint8_t *in,
		uint8_t *out, size_t len, bool enc)
{
	static const uint8_t iv0[BLK];
	EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
	int n = 0;

	if (!ctx ||
	    !EVP_CipherInit_ex(ctx, EVP_aes_128_cbc(), NULL, key,
			       iv ? iv : iv0, enc) ||
	    !EVP_CIPHER_CTX_set_padding(ctx, 0) ||
	    !EVP_CipherUpdate(ctx, out, &n, in, (int)len) || n != (int)len)
		abort();
	EVP_CIPHER_CTX_free(ctx);
}

void oracle_cmac(const uint8_t *key, const uint8_t *msg, size_t len,
		 uint8_t *out)
{
	static EVP_MAC *alg;	/* fetched once: storms MAC a lot */
	EVP_MAC_CTX *ctx;
	OSSL_PARAM params[] = {
		OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_CIPHER,
						 "AES-128-CBC", 0),
		OSSL_PARAM_construct_end(),
	};
	size_t n;

	if (!alg)
		alg = EVP_MAC_fetch(NULL, "CMAC", NULL);
	ctx = alg ? EVP_MAC_CTX_new(alg) : NULL;
	if (!ctx || !EVP_MAC_init(ctx, key, ORACLE_KEY_LEN, params) ||
	    !EVP_MAC_update(ctx, msg, len) ||
	    !EVP_MAC_final(ctx, out, &n, BLK))
		abort();
	EVP_MAC_CTX_free(ctx);
}

void oracle_mact(const uint8_t *key, const uint8_t *msg, size_t len,
		 uint8_t *out)
{
	uint8_t full[BLK];
	int i;

	oracle_cmac(key, msg, len, full);
	for (i = 0; i < ORACLE_MACT_LEN; i++)
		out[i] = full[2 * i + 1];
}

uint32_t oracle_jamcrc(const uint8_t *p, size_t n)
{
	uint32_t crc = ~0U;
	int b;

	while (n--) {
		crc ^= *p++;
		for (b = 0; b < 8; b++)
			crc = crc >> 1 ^ (0xedb88320U & -(crc & 1));
	}
	return crc;
}

void oracle_rotl(uint8_t *d, const uint8_t *s)
{
	uint8_t first = s[0];

	memmove(d, s + 1, BLK - 1);
	d[BLK - 1] = first;
}

/* SV1/SV2 from RndA and RndB, MSB first. */
void oracle_session_keys(struct oracle_sm *s, const uint8_t *key,
			 const uint8_t *ra, const uint8_t *rb)
{
	uint8_t sv[32] = { 0xa5, 0x5a, 0x00, 0x01, 0x00, 0x80 };
	int i;

	memcpy(sv + 6, ra, 2);
	for (i = 0; i < 6; i++)
		sv[8 + i] = ra[2 + i] ^ rb[i];
	memcpy(sv + 14, rb + 6, 10);
	memcpy(sv + 24, ra + 8, 8);
	oracle_cmac(key, sv, sizeof(sv), s->enc);
	sv[0] = 0x5a;
	sv[1] = 0xa5;
	oracle_cmac(key, sv, sizeof(sv), s->mac);
}

void oracle_iv(const struct oracle_sm *s, bool cmd, uint16_t ctr, uint8_t *iv)
{
	uint8_t b[BLK] = { cmd ? 0xa5 : 0x5a, cmd ? 0x5a : 0xa5 };

	memcpy(b + 2, s->ti, ORACLE_TI_LEN);
	b[6] = ctr;
	b[7] = ctr >> 8;
	oracle_cbc(s->enc, NULL, b, iv, BLK, true);
}

void oracle_sm_mact(const struct oracle_sm *s, uint8_t first, uint16_t ctr,
		    const uint8_t *msg, size_t len, uint8_t *out)
{
	uint8_t m[7 + 512];

	if (len > sizeof(m) - 7)
		abort();
	m[0] = first;
	m[1] = ctr;
	m[2] = ctr >> 8;
	memcpy(m + 3, s->ti, ORACLE_TI_LEN);
	if (len)
		memcpy(m + 7, msg, len);
	oracle_mact(s->mac, m, len + 7, out);
}

size_t oracle_frame(const struct oracle_sm *s, uint8_t ins,
		    const uint8_t *hdr, size_t hlen, const uint8_t *data,
		    size_t dlen, bool full, uint16_t ctr, uint8_t *f)
{
	uint8_t *body = f + 5, pt[256], iv[BLK];
	size_t n = hlen, p;

	if (hlen)
		memcpy(body, hdr, hlen);
	if (full && dlen) {
		p = (dlen / BLK + 1) * BLK;	/* always a padding byte */
		if (p > sizeof(pt))
			abort();
		memcpy(pt, data, dlen);
		pt[dlen] = 0x80;
		memset(pt + dlen + 1, 0, p - dlen - 1);
		oracle_iv(s, true, ctr, iv);
		oracle_cbc(s->enc, iv, pt, body + n, p, true);
		n += p;
	} else if (dlen) {
		memcpy(body + n, data, dlen);
		n += dlen;
	}
	oracle_sm_mact(s, ins, ctr, body, n, body + n);
	f[0] = 0x90;
	f[1] = ins;
	f[2] = 0;
	f[3] = 0;
	f[4] = n + ORACLE_MACT_LEN;
	f[5 + n + ORACLE_MACT_LEN] = 0x00;
	return n + ORACLE_MACT_LEN + 6;
}

bool oracle_answer(const struct oracle_sm *s, uint16_t ctr, const uint8_t *r,
		   size_t rlen, bool full, uint8_t *out, size_t *olen)
{
	uint8_t m[ORACLE_MACT_LEN], iv[BLK], pt[512];
	size_t dlen, n;

	if (rlen < ORACLE_MACT_LEN + 2)
		return false;
	dlen = rlen - 2 - ORACLE_MACT_LEN;
	oracle_sm_mact(s, r[rlen - 1], ctr, r, dlen, m);
	if (memcmp(m, r + dlen, ORACLE_MACT_LEN))
		return false;
	if (!full || !dlen) {
		if (dlen)
			memcpy(out, r, dlen);
		*olen = dlen;
		return true;
	}
	if (dlen % BLK || dlen > sizeof(pt))
		return false;
	oracle_iv(s, false, ctr, iv);
	oracle_cbc(s->enc, iv, r, pt, dlen, false);
	for (n = dlen; n > dlen - BLK && !pt[n - 1]; n--)
		;
	if (pt[n - 1] != 0x80)
		return false;
	memcpy(out, pt, n - 1);
	*olen = n - 1;
	return true;
}

size_t oracle_change_key_data(const uint8_t *old, const uint8_t *new,
			      uint8_t ver, uint8_t *d)
{
	uint32_t crc = oracle_jamcrc(new, ORACLE_KEY_LEN);
	int i;

	for (i = 0; i < ORACLE_KEY_LEN; i++)
		d[i] = old[i] ^ new[i];
	d[16] = ver;
	d[17] = crc;
	d[18] = crc >> 8;
	d[19] = crc >> 16;
	d[20] = crc >> 24;
	return 21;
}
