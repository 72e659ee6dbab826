/* SPDX-License-Identifier: GPL-2.0 */
/* Shared by the kernel tests: small conveniences over libsectag. */
#ifndef SECTAG_TEST_HELPERS_H
#define SECTAG_TEST_HELPERS_H

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include <linux/nfc.h>

#include "nfc.h"
#include "sim.h"

/* The module under test, reloaded by tests that unload it. */
static inline const char *test_module_path(void)
{
	const char *ko = getenv("SECTAG_KO");

	return ko && *ko ? ko : "kernel/nfc_sectag.ko";
}

/* Reloads the module with parameters @args ("" for the defaults). */
static inline int test_reload_module_args(const char *args)
{
	char cmd[512];

	snprintf(cmd, sizeof(cmd), "rmmod nfc_sectag 2>/dev/null; insmod %s %s",
		 test_module_path(), args);
	return system(cmd);
}

static inline int test_reload_module(void)
{
	return test_reload_module_args("");
}

static inline void test_sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

/* Poll a condition that the kernel settles asynchronously. */
#define wait_for(cond, ms) ({					\
	int __left = (ms);					\
	while (!(cond) && __left > 0) {				\
		test_sleep_ms(10);				\
		__left -= 10;					\
	}							\
	(cond);							\
})

static inline bool sim_has_reader(struct sectag_sim *sim, uint32_t id)
{
	struct sectag_sim_reader r;

	return sectag_sim_reader_get(sim, id, &r) == 0;
}

static inline bool nfc_has_dev(struct sectag_nfc *nfc, uint32_t idx)
{
	struct sectag_nfc_dev d;

	return sectag_nfc_get(nfc, idx, &d) == 0;
}

#endif
