/* SPDX-License-Identifier: GPL-2.0 */
/*
 * TAP helpers shared by the unit tests whose cases are bool functions
 * (test_agent.c, test_ctl.c, test_store.c): CHECK() ends a case as failed
 * with a diagnostic line naming the condition, tap_run() runs one case and
 * prints "ok N name" or "not ok N name", tap_run_all() runs a table of
 * them after the plan line. Not userspace/lib/tap.h (the library's tap
 * budget), hence the name.
 */
#ifndef SECTAG_TESTS_UNIT_UNIT_TAP_H
#define SECTAG_TESTS_UNIT_UNIT_TAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#define CHECK(c) do {							\
	if (!(c)) {							\
		printf("# %s:%d: %s\n", __FILE__, __LINE__, #c);	\
		return false;						\
	}								\
} while (0)

/* Run case number @num (from 1); returns whether it passed. */
static inline bool tap_run(size_t num, const char *name, bool (*fn)(void))
{
	bool ok = fn();

	printf("%sok %zu %s\n", ok ? "" : "not ", num, name);
	fflush(stdout);
	return ok;
}

struct tap_case {
	const char *name;
	bool (*fn)(void);
};

/* The plan line, then every case in order; returns how many failed. */
static inline int tap_run_all(const struct tap_case *c, size_t n)
{
	int failed = 0;
	size_t i;

	printf("1..%zu\n", n);
	for (i = 0; i < n; i++)
		if (!tap_run(i + 1, c[i].name, c[i].fn))
			failed++;
	return failed;
}

#endif
