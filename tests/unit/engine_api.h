/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The kernel NTAG 424 engine's entry points in host types, for tests that
 * link the engine (kernel/engine.mk) as objects but cannot include kernel
 * headers (kshim's linux headers would shadow the system's). engine_glue.c
 * includes both this and kernel/ntag424.h, so the compiler checks they
 * agree.
 */
#ifndef SECTAG_ENGINE_API_H
#define SECTAG_ENGINE_API_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ENGINE_UID_LEN		7
#define ENGINE_MAX_RAPDU	258

struct ntag424;

struct ntag424 *ntag424_create(const uint8_t *uid);
void ntag424_destroy(struct ntag424 *tag);
int ntag424_process(struct ntag424 *tag, const uint8_t *capdu, size_t len,
		    uint8_t *rapdu);
void ntag424_power_cycle(struct ntag424 *tag);

/* From ntag424_get_info(), whose struct uses kernel types. */
bool engine_personalised(const struct ntag424 *tag);
unsigned int engine_fail_ctr(const struct ntag424 *tag);

#endif
