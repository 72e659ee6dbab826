/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _KSHIM_LINUX_RANDOM_H
#define _KSHIM_LINUX_RANDOM_H
#include "types.h"

void get_random_bytes(void *buf, size_t len);
#endif
