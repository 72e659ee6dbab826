// SPDX-License-Identifier: GPL-2.0
/*
 * Built with the kernel shim like kernel/ntag424.c (kernel types): what
 * the PN533 emulator needs of the engine beyond tests/unit/engine_api.h,
 * in host types.
 */
#include <linux/string.h>

#include "ntag424.h"
#include "pn533emu_engine.h"

_Static_assert(EMU_NFCID1_MAX >= NTAG424_UID_LEN, "NFCID1 length");

unsigned int emu_engine_rf(const struct ntag424 *tag, uint8_t *nfcid1,
			   uint16_t *sens_res, uint8_t *sel_res)
{
	struct ntag424_rf rf;

	ntag424_get_rf(tag, &rf);
	memcpy(nfcid1, rf.nfcid1, rf.nfcid1_len);
	*sens_res = rf.sens_res;
	*sel_res = rf.sel_res;
	return rf.nfcid1_len;
}

void emu_engine_deselect(struct ntag424 *tag)
{
	ntag424_deselect(tag);
}
