/* SPDX-License-Identifier: GPL-2.0 */
/* What the benchmark helpers share: the clock and their statistics. */
#ifndef SECTAG_TESTS_BENCH_H
#define SECTAG_TESTS_BENCH_H

#include <stdlib.h>
#include <time.h>

/* CLOCK_MONOTONIC in seconds. */
static inline double bench_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static inline int bench_cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static inline void bench_sort(double *v, int n)
{
	qsort(v, n, sizeof(*v), bench_cmp);
}

/* Nearest-rank percentile of sorted @v. */
static inline double bench_pct(const double *v, int n, double p)
{
	int k = (int)(p / 100.0 * n + 0.999999) - 1;

	return v[k < 0 ? 0 : k >= n ? n - 1 : k];
}

/* Sorts @v. */
static inline double bench_median(double *v, int n)
{
	bench_sort(v, n);
	return v[n / 2];
}

#endif
