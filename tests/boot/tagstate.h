/* SPDX-License-Identifier: GPL-2.0 */
/*
 * tests/boot/tagstate.c: the engine's non-volatile memory (UID, keys,
 * key versions, counters, settings, files, signature) as one blob, in
 * host types, for tagd's state file. The blob's layout is the engine's
 * struct of this build: a state file is read back by the same tagd.
 */
#ifndef SECTAG_TAGSTATE_H
#define SECTAG_TAGSTATE_H

#include <stddef.h>

struct ntag424;

size_t engine_nv_size(void);
void engine_nv_get(const struct ntag424 *tag, void *blob);
void engine_nv_set(struct ntag424 *tag, const void *blob);

#endif
