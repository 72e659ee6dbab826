/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Userspace stand-ins for the few kernel APIs the engine (kernel/ntag424.c,
 * ntag424_sm.c) uses, so it compiles unmodified on the host (tests/unit).
 * Crypto is OpenSSL 3; randomness is getrandom() unless a test queued
 * bytes with kshim_rand_push(). Hooks let tests make allocations or crypto
 * fail.
 */
#ifndef _KSHIM_H
#define _KSHIM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef uint8_t u8;
typedef uint16_t u16;
typedef uint32_t u32;
typedef uint64_t u64;
typedef int8_t s8;
typedef int16_t s16;
typedef int32_t s32;
typedef int64_t s64;
typedef unsigned int gfp_t;

/* Queue bytes that the next get_random_bytes() calls return first. */
void kshim_rand_push(const void *buf, size_t len);
void kshim_rand_clear(void);
size_t kshim_rand_queued(void);

/* Make the n-th next allocation (kzalloc or crypto_alloc_*) fail; 0 = off */
extern int kshim_fail_alloc_after;
/* While true, every crypto operation fails with -EIO. */
extern bool kshim_fail_crypto;

#endif
