/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _KSHIM_CRYPTO_HASH_H
#define _KSHIM_CRYPTO_HASH_H
#include "../linux/types.h"

/* Only "cmac(aes)" exists. */
struct crypto_shash;

struct crypto_shash *crypto_alloc_shash(const char *alg_name, u32 type,
					u32 mask);
void crypto_free_shash(struct crypto_shash *tfm);
int crypto_shash_setkey(struct crypto_shash *tfm, const u8 *key,
			unsigned int keylen);
int crypto_shash_tfm_digest(struct crypto_shash *tfm, const u8 *data,
			    unsigned int len, u8 *out);
#endif
