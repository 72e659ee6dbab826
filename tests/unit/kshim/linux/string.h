/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _KSHIM_LINUX_STRING_H
#define _KSHIM_LINUX_STRING_H
#include <string.h>

/* As the kernel's: memset, then a barrier the compiler cannot see past. */
static inline void memzero_explicit(void *s, size_t count)
{
	memset(s, 0, count);
	__asm__ __volatile__("" : : "r"(s) : "memory");
}
#endif
