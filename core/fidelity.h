/* fidelity: how well a prediction of a genome matches the genome.
 *
 * Used for a quine's self-prediction (pred = f_theta(C) against theta) and for a
 * replication link (the child before mutation against its parent). The paper's figures
 * (L_SR, margin, self-replicating quotient) reward shrinking weights, so the scale-free
 * ones are always reported beside them (see quine-paper.md, "a known trap"). */
#ifndef QS_FIDELITY_H
#define QS_FIDELITY_H

#include <stddef.h>

#include "core/util.h"

/* A genome whose RMS weight is below this is flagged as (near) the zero quine. */
#define QS_ZERO_QUINE_RMS 1e-3

typedef struct {
    double l_sr;    /* sum_c (pred_c - theta_c)^2 */
    double margin;  /* sqrt(L_SR / N): the paper's average weight prediction margin */
    double srq;     /* ln(N / L_SR): the paper's self-replicating quotient */
    double rel_err; /* L_SR / sum_c theta_c^2 (1 = no better than predicting zeros) */
    double r2;      /* 1 - L_SR / sum_c (theta_c - mean)^2 */
    double rms;     /* sqrt(mean theta^2) */
    int zero_quine; /* rms < QS_ZERO_QUINE_RMS */
} qs_fidelity_t;

/* Computed in double precision over n values. Degenerate cases are defined, never NaN
 * from a division: rel_err and r2 use +inf/-inf style limits documented in fidelity.c. */
void qs_fidelity_compute(qs_fidelity_t *out, const float *theta, const float *pred, size_t n);
/* The same from L_SR alone: every other figure follows from it and theta (what a result's
 * check recomputes, core/life.h). */
void qs_fidelity_derive(qs_fidelity_t *out, double l_sr, const float *theta, size_t n);

/* What a run selects on ([selection] fitness): test accuracy, self-replication fidelity
 * (R^2) or their product. The simulator scores organisms with qs_fitness and `analyze`
 * recomputes the same figure from the lineage log. */
typedef enum { QS_FIT_ACCURACY = 0, QS_FIT_FIDELITY = 1, QS_FIT_PRODUCT = 2 } qs_fitness_t;
extern const qs_names_t qs_fitness_names;               /* in enumerator order */
const char *qs_fitness_name(qs_fitness_t f);            /* "?" when unknown */
int qs_fitness_parse(const char *s, qs_fitness_t *out); /* 0 or QS_ERR(INVAL) */
/* An accuracy that is not a number counts as 0, an R^2 that is not finite as -1; the
 * product is accuracy * max(R^2, 0). */
double qs_fitness(qs_fitness_t f, double accuracy, double r2);

#endif
