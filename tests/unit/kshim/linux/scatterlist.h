/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _KSHIM_LINUX_SCATTERLIST_H
#define _KSHIM_LINUX_SCATTERLIST_H
#include "types.h"

struct scatterlist {
	void *buf;
	unsigned int length;
};

static inline void sg_init_one(struct scatterlist *sg, const void *buf,
			       unsigned int buflen)
{
	sg->buf = (void *)buf;
	sg->length = buflen;
}
#endif
