// SPDX-License-Identifier: GPL-2.0
/*
 * The engine's non-volatile memory, from its first field (uid) to its
 * first volatile one (rid_active): kernel/ntag424_sm.h keeps them in
 * that order on purpose, so a tag that powers up again is this range
 * and nothing else. Built against tests/unit/kshim, as the emulators.
 */
#include <linux/kernel.h>
#include <linux/string.h>

#include "ntag424.h"
#include "ntag424_sm.h"
#include "tagstate.h"

#define NV_START	offsetof(struct ntag424, uid)
#define NV_END		offsetof(struct ntag424, rid_active)

size_t engine_nv_size(void)
{
	return NV_END - NV_START;
}

void engine_nv_get(const struct ntag424 *tag, void *blob)
{
	memcpy(blob, (const u8 *)tag + NV_START, NV_END - NV_START);
}

void engine_nv_set(struct ntag424 *tag, const void *blob)
{
	memcpy((u8 *)tag + NV_START, blob, NV_END - NV_START);
}
