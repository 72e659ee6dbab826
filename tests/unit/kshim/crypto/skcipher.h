/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _KSHIM_CRYPTO_SKCIPHER_H
#define _KSHIM_CRYPTO_SKCIPHER_H
#include "../linux/types.h"
#include "../linux/scatterlist.h"
#include <string.h>

/* Only "cbc(aes)" exists. */
struct crypto_sync_skcipher;

struct skcipher_request {
	struct crypto_sync_skcipher *tfm;
	struct scatterlist *src, *dst;
	unsigned int cryptlen;
	u8 *iv;
};

#define SYNC_SKCIPHER_REQUEST_ON_STACK(name, tfm) \
	struct skcipher_request __##name##_req = { 0 }, *name = &__##name##_req

struct crypto_sync_skcipher *crypto_alloc_sync_skcipher(const char *alg_name,
							 u32 type, u32 mask);
void crypto_free_sync_skcipher(struct crypto_sync_skcipher *tfm);
int crypto_sync_skcipher_setkey(struct crypto_sync_skcipher *tfm,
				const u8 *key, unsigned int keylen);

static inline void skcipher_request_set_sync_tfm(struct skcipher_request *req,
						 struct crypto_sync_skcipher *tfm)
{
	req->tfm = tfm;
}

static inline void skcipher_request_set_callback(struct skcipher_request *req,
						 u32 flags, void *compl,
						 void *data)
{
	(void)req; (void)flags; (void)compl; (void)data;
}

static inline void skcipher_request_set_crypt(struct skcipher_request *req,
					      struct scatterlist *src,
					      struct scatterlist *dst,
					      unsigned int cryptlen, void *iv)
{
	req->src = src;
	req->dst = dst;
	req->cryptlen = cryptlen;
	req->iv = iv;
}

static inline void skcipher_request_zero(struct skcipher_request *req)
{
	explicit_bzero(req, sizeof(*req));
}

int crypto_skcipher_encrypt(struct skcipher_request *req);
int crypto_skcipher_decrypt(struct skcipher_request *req);
#endif
