// SPDX-License-Identifier: GPL-2.0
/*
 * Built with the kernel shim like the engine: checks engine_api.h
 * against the real header and wraps what needs kernel types.
 */
#include "ntag424.h"
#include "engine_api.h"

_Static_assert(ENGINE_MAX_RAPDU == NTAG424_MAX_RAPDU, "R-APDU size");
_Static_assert(ENGINE_UID_LEN == NTAG424_UID_LEN, "UID length");

bool engine_personalised(const struct ntag424 *tag)
{
	struct ntag424_info info;

	ntag424_get_info(tag, &info);
	return info.personalised;
}

unsigned int engine_fail_ctr(const struct ntag424 *tag)
{
	struct ntag424_info info;

	ntag424_get_info(tag, &info);
	return info.tot_fail_ctr;
}
