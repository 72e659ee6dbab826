/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _KSHIM_LINUX_CRC32_H
#define _KSHIM_LINUX_CRC32_H
#include "types.h"

/* As the kernel's: reflected 0xEDB88320, caller's seed, no final XOR. */
u32 crc32_le(u32 crc, unsigned char const *p, size_t len);
#endif
