/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _KSHIM_CRYPTO_ALGAPI_H
#define _KSHIM_CRYPTO_ALGAPI_H
#include "../linux/types.h"

int crypto_memneq(const void *a, const void *b, size_t size);
#endif
