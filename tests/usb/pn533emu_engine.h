/* SPDX-License-Identifier: GPL-2.0 */
/* tests/usb/engine_rf.c: engine entry points in host types. */
#ifndef SECTAG_PN533EMU_ENGINE_H
#define SECTAG_PN533EMU_ENGINE_H

#include <stdint.h>

#define EMU_NFCID1_MAX	10

struct ntag424;

/* The RF identity of the next activation; returns the NFCID1 length. */
unsigned int emu_engine_rf(const struct ntag424 *tag, uint8_t *nfcid1,
			   uint16_t *sens_res, uint8_t *sel_res);
/* ISO 14443-4 DESELECT: the session ends, the UID stays. */
void emu_engine_deselect(struct ntag424 *tag);

#endif
