/* benchutil: the statistics the benchmarks print (header-only; each bench is its own
 * binary). */
#ifndef QS_BENCHUTIL_H
#define QS_BENCHUTIL_H

#include <stdlib.h>

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

#endif
