/* benchutil: the statistics the benchmarks print (header-only; each bench is its own
 * binary). */
#ifndef QS_BENCHUTIL_H
#define QS_BENCHUTIL_H

#include <stdlib.h>
#include <unistd.h>

#include "core/blas.h"

typedef struct {
    double median, min, max;
} stat_t;

static inline int bu_cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* Median, min and max of v[0..n) (sorts v in place). */
static inline stat_t summarize(double *v, int n)
{
    qsort(v, (size_t)n, sizeof *v, bu_cmp_double);
    return (stat_t){v[n / 2], v[0], v[n - 1]};
}

/* Like quinesim itself (sim/main.c): when OpenBLAS fell back to generic kernels and
 * OPENBLAS_CORETYPE is unset, set it and execute the bench again (QS_BENCH_REEXEC then
 * names the core type chosen). On failure, carry on with what there is. */
static inline void bu_reexec_fast_blas(char **argv)
{
    const char *better = qs_blas_suggest_coretype();
    if (!better || getenv("OPENBLAS_CORETYPE"))
        return;
    char exe[4096];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n <= 0)
        return;
    exe[n] = '\0';
    setenv("OPENBLAS_CORETYPE", better, 1);
    setenv("QS_BENCH_REEXEC", better, 1);
    execv(exe, argv);
}

#endif
