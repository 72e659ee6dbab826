// SPDX-License-Identifier: GPL-2.0
/* Host implementations of the kernel APIs declared in kshim/ (see kshim.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include <openssl/core_names.h>
#include <openssl/evp.h>

#include "kshim.h"
#include "linux/err.h"
#include "linux/slab.h"
#include "linux/random.h"
#include "linux/crc32.h"
#include "crypto/algapi.h"
#include "crypto/hash.h"
#include "crypto/skcipher.h"

int kshim_fail_alloc_after;
bool kshim_fail_crypto;

/* Returns true when this allocation must fail. */
static bool kshim_alloc_fails(void)
{
	if (kshim_fail_alloc_after <= 0)
		return false;
	return --kshim_fail_alloc_after == 0;
}

/* ---- slab: a size header so kfree_sensitive can wipe ---- */

struct kshim_hdr {
	size_t size;
	size_t pad;		/* keep 16-byte alignment */
};

void *kzalloc(size_t size, gfp_t flags)
{
	struct kshim_hdr *h;

	(void)flags;
	if (kshim_alloc_fails())
		return NULL;
	h = calloc(1, sizeof(*h) + size);
	if (!h)
		return NULL;
	h->size = size;
	return h + 1;
}

void kfree(const void *p)
{
	if (p)
		free((struct kshim_hdr *)p - 1);
}

void kfree_sensitive(const void *p)
{
	struct kshim_hdr *h;

	if (!p)
		return;
	h = (struct kshim_hdr *)p - 1;
	explicit_bzero(h + 1, h->size);
	free(h);
}

/* ---- randomness ---- */

static unsigned char rand_q[4096];
static size_t rand_head, rand_tail;

void kshim_rand_push(const void *buf, size_t len)
{
	if (len > sizeof(rand_q) - rand_tail) {
		fprintf(stderr, "kshim: random queue full\n");
		abort();
	}
	memcpy(rand_q + rand_tail, buf, len);
	rand_tail += len;
}

void kshim_rand_clear(void)
{
	rand_head = rand_tail = 0;
}

size_t kshim_rand_queued(void)
{
	return rand_tail - rand_head;
}

void get_random_bytes(void *buf, size_t len)
{
	unsigned char *p = buf;
	size_t n = rand_tail - rand_head;

	if (n > len)
		n = len;
	memcpy(p, rand_q + rand_head, n);
	rand_head += n;
	if (rand_head == rand_tail)
		rand_head = rand_tail = 0;
	p += n;
	len -= n;
	while (len) {
		ssize_t r = getrandom(p, len, 0);

		if (r <= 0) {
			perror("getrandom");
			abort();
		}
		p += r;
		len -= r;
	}
}

/* ---- crc32_le, bitwise ---- */

u32 crc32_le(u32 crc, unsigned char const *p, size_t len)
{
	int i;

	while (len--) {
		crc ^= *p++;
		for (i = 0; i < 8; i++)
			crc = (crc >> 1) ^ (0xedb88320u & -(crc & 1));
	}
	return crc;
}

int crypto_memneq(const void *a, const void *b, size_t size)
{
	const unsigned char *x = a, *y = b;
	unsigned char d = 0;

	while (size--)
		d |= *x++ ^ *y++;
	return d != 0;
}

/* ---- cmac(aes) ---- */

struct crypto_shash {
	u8 key[32];
	unsigned int keylen;
};

struct crypto_shash *crypto_alloc_shash(const char *alg_name, u32 type,
					u32 mask)
{
	struct crypto_shash *tfm;

	(void)type;
	(void)mask;
	if (strcmp(alg_name, "cmac(aes)"))
		return ERR_PTR(-ENOENT);
	if (kshim_alloc_fails())
		return ERR_PTR(-ENOMEM);
	tfm = calloc(1, sizeof(*tfm));
	return tfm ? tfm : ERR_PTR(-ENOMEM);
}

void crypto_free_shash(struct crypto_shash *tfm)
{
	if (!tfm || IS_ERR(tfm))
		return;
	explicit_bzero(tfm, sizeof(*tfm));
	free(tfm);
}

int crypto_shash_setkey(struct crypto_shash *tfm, const u8 *key,
			unsigned int keylen)
{
	if (kshim_fail_crypto)
		return -EIO;
	if (keylen != 16 && keylen != 24 && keylen != 32)
		return -EINVAL;
	memcpy(tfm->key, key, keylen);
	tfm->keylen = keylen;
	return 0;
}

static const char *aes_cbc_name(unsigned int keylen)
{
	return keylen == 16 ? "AES-128-CBC" :
	       keylen == 24 ? "AES-192-CBC" : "AES-256-CBC";
}

int crypto_shash_tfm_digest(struct crypto_shash *tfm, const u8 *data,
			    unsigned int len, u8 *out)
{
	static EVP_MAC *mac;	/* fetched once, reachable until exit */
	EVP_MAC_CTX *ctx = NULL;
	OSSL_PARAM params[2];
	size_t olen = 0;
	int ok = 0;

	if (kshim_fail_crypto || !tfm->keylen)
		return -EIO;
	if (!mac)
		mac = EVP_MAC_fetch(NULL, "CMAC", NULL);
	if (mac)
		ctx = EVP_MAC_CTX_new(mac);
	params[0] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_CIPHER,
			(char *)aes_cbc_name(tfm->keylen), 0);
	params[1] = OSSL_PARAM_construct_end();
	if (ctx && EVP_MAC_init(ctx, tfm->key, tfm->keylen, params) &&
	    EVP_MAC_update(ctx, data, len) &&
	    EVP_MAC_final(ctx, out, &olen, 16) && olen == 16)
		ok = 1;
	EVP_MAC_CTX_free(ctx);
	return ok ? 0 : -EIO;
}

/* ---- cbc(aes) ---- */

struct crypto_sync_skcipher {
	u8 key[32];
	unsigned int keylen;
};

struct crypto_sync_skcipher *crypto_alloc_sync_skcipher(const char *alg_name,
							 u32 type, u32 mask)
{
	struct crypto_sync_skcipher *tfm;

	(void)type;
	(void)mask;
	if (strcmp(alg_name, "cbc(aes)"))
		return ERR_PTR(-ENOENT);
	if (kshim_alloc_fails())
		return ERR_PTR(-ENOMEM);
	tfm = calloc(1, sizeof(*tfm));
	return tfm ? tfm : ERR_PTR(-ENOMEM);
}

void crypto_free_sync_skcipher(struct crypto_sync_skcipher *tfm)
{
	if (!tfm || IS_ERR(tfm))
		return;
	explicit_bzero(tfm, sizeof(*tfm));
	free(tfm);
}

int crypto_sync_skcipher_setkey(struct crypto_sync_skcipher *tfm,
				const u8 *key, unsigned int keylen)
{
	if (kshim_fail_crypto)
		return -EIO;
	if (keylen != 16 && keylen != 24 && keylen != 32)
		return -EINVAL;
	memcpy(tfm->key, key, keylen);
	tfm->keylen = keylen;
	return 0;
}

/* Like the kernel: len must be a block multiple; iv is updated in place. */
static int kshim_cbc(struct skcipher_request *req, int enc)
{
	struct crypto_sync_skcipher *tfm = req->tfm;
	EVP_CIPHER_CTX *ctx;
	unsigned char last[16];
	unsigned int n = req->cryptlen;
	unsigned char *src = req->src->buf, *dst = req->dst->buf;
	int outl = 0, ok;

	if (kshim_fail_crypto || !tfm->keylen)
		return -EIO;
	if (n % 16 || n > req->src->length || n > req->dst->length)
		return -EINVAL;
	if (!n)
		return 0;
	if (!enc)
		memcpy(last, src + n - 16, 16);
	ctx = EVP_CIPHER_CTX_new();
	if (!ctx)
		return -ENOMEM;
	ok = EVP_CipherInit_ex(ctx, EVP_get_cipherbyname(
				aes_cbc_name(tfm->keylen)), NULL,
			       tfm->key, req->iv, enc) &&
	     EVP_CIPHER_CTX_set_padding(ctx, 0) &&
	     EVP_CipherUpdate(ctx, dst, &outl, src, (int)n) &&
	     outl == (int)n;
	EVP_CIPHER_CTX_free(ctx);
	if (!ok)
		return -EIO;
	memcpy(req->iv, enc ? dst + n - 16 : last, 16);
	return 0;
}

int crypto_skcipher_encrypt(struct skcipher_request *req)
{
	return kshim_cbc(req, 1);
}

int crypto_skcipher_decrypt(struct skcipher_request *req)
{
	return kshim_cbc(req, 0);
}
