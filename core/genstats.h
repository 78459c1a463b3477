/* genstats: the statistics of one generation, computed in one place for the run
 * (sim/population.c: its summary record and generations.csv row) and for `quinesim
 * analyze` (analysis/history.c, from the records of the log).
 *
 * The rule for non-finite values: a mean is taken over the finite values only, and the
 * values left out (NaN or +-inf: a zero genome's relative error is +inf, a vanilla quine
 * has no accuracy) are counted in `nonfinite`; a mean of no finite value is NaN (an
 * empty CSV field). The best accuracy is the highest finite one, the first organism
 * evaluated with it on a tie. */
#ifndef QS_GENSTATS_H
#define QS_GENSTATS_H

#include <stdint.h>

typedef struct {
    double sum;         /* of the finite values */
    uint32_t n;         /* finite values */
    uint32_t nonfinite; /* values left out */
} qs_genstats_mean_t;

typedef struct {
    double best_accuracy; /* NaN while no organism has a finite accuracy */
    uint64_t best_id;     /* 0 while none */
    /* over the generation's evaluations */
    qs_genstats_mean_t accuracy, rel_err, r2;
    /* over the replication links of the generation's births (founders have none) */
    qs_genstats_mean_t link_r2, link_rel_err;
} qs_genstats_t;

void qs_genstats_init(qs_genstats_t *s);
/* One organism's evaluation, in evaluation order. */
void qs_genstats_eval(qs_genstats_t *s, uint64_t id, double accuracy, double rel_err, double r2);
/* One birth by replication, with its link fidelity. */
void qs_genstats_link(qs_genstats_t *s, double link_r2, double link_rel_err);

void qs_genstats_mean_add(qs_genstats_mean_t *m, double v);
/* sum / n over the finite values; NaN when there is none. */
double qs_genstats_mean(const qs_genstats_mean_t *m);

#endif
