/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The TAP scaffolding of every host unit test: "ok N name" / "not ok N
 * name" a case, "# ..." diagnostics, the plan "1..N" first (tap_plan(),
 * tap_run_all()) or last (tap_done()). Not userspace/lib/tap.h (the
 * library's tap budget), hence the name.
 *
 * Two kinds of case, one kind a test file:
 *  - bool cases (test_agent.c, test_store.c...): CHECK(c) ends the case
 *    as failed with a line naming the condition;
 *  - void cases, with UNIT_TAP_SOFT_CHECK defined before the #include
 *    (the NTAG 424 tests): CHECK(cond, fmt, ...) marks the case failed,
 *    says why and lets it go on, so one run shows every wrong byte.
 */
#ifndef SECTAG_TESTS_UNIT_UNIT_TAP_H
#define SECTAG_TESTS_UNIT_UNIT_TAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#ifdef UNIT_TAP_SOFT_CHECK
#define CHECK(cond, ...) do {						\
	if (!(cond)) {							\
		tap_bad = true;						\
		printf("#  %s:%d: %s: ", __FILE__, __LINE__, #cond);	\
		printf(__VA_ARGS__);					\
		printf("\n");						\
	}								\
} while (0)
#else
#define CHECK(c) do {							\
	if (!(c)) {							\
		printf("# %s:%d: %s\n", __FILE__, __LINE__, #c);	\
		return false;						\
	}								\
} while (0)
#endif

static bool tap_bad;		/* the running void case failed a CHECK */
static size_t tap_count;	/* cases reported so far */
static int tap_failed;		/* of which failed */

static inline void tap_plan(size_t n)
{
	printf("1..%zu\n", n);
}

/* Reports the next case; returns @ok. */
static inline bool tap_report(const char *name, bool ok)
{
	tap_count++;
	if (!ok)
		tap_failed++;
	printf("%sok %zu %s\n", ok ? "" : "not ", tap_count, name);
	fflush(stdout);
	return ok;
}

static inline void tap_skip(const char *name, const char *why)
{
	printf("ok %zu %s # SKIP %s\n", ++tap_count, name, why);
	fflush(stdout);
}

static inline bool tap_run(const char *name, bool (*fn)(void))
{
	return tap_report(name, fn());
}

/* A void case: begin, run, end (tap_fail() in between fails it too). */
static inline void tap_begin(void)
{
	tap_bad = false;
}

static inline void tap_fail(void)
{
	tap_bad = true;
}

static inline bool tap_end(const char *name)
{
	return tap_report(name, !tap_bad);
}

static inline bool tap_run_void(const char *name, void (*fn)(void))
{
	tap_begin();
	fn();
	return tap_end(name);
}

/* The trailing plan, for files that count their cases as they go. */
static inline int tap_done(void)
{
	tap_plan(tap_count);
	return tap_failed;
}

struct tap_case {
	const char *name;
	bool (*fn)(void);
};

/* The plan line, then every case in order; returns how many failed. */
static inline int tap_run_all(const struct tap_case *c, size_t n)
{
	size_t i;

	tap_plan(n);
	for (i = 0; i < n; i++)
		tap_run(c[i].name, c[i].fn);
	return tap_failed;
}

#endif
