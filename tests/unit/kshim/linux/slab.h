/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _KSHIM_LINUX_SLAB_H
#define _KSHIM_LINUX_SLAB_H
#include "types.h"

#define GFP_KERNEL	0u

void *kzalloc(size_t size, gfp_t flags);
void kfree(const void *p);
void kfree_sensitive(const void *p);
#endif
