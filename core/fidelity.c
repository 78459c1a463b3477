/* fidelity: L_SR, the paper's derived figures and the scale-free ones, in double.
 *
 * Degenerate cases (each defined, never a NaN from 0/0):
 *   n == 0                      everything 0, r2 = 1, srq = +inf, not a zero quine
 *                               (nothing to copy, copied perfectly);
 *   L_SR == 0                   srq = +inf (a perfect copy), rel_err = 0, r2 = 1;
 *   sum theta^2 == 0, L_SR > 0  rel_err = +inf (any error is infinitely many times the
 *                               genome's size);
 *   all theta equal, L_SR > 0   r2 = -inf (no variance to explain).
 * Callers printing JSON write the infinities as null. Then the fitness measures built on
 * the R^2. */
#include "core/fidelity.h"

#include <math.h>
#include <string.h>

#include "core/util.h"
#include "core/vec.h"

void qs_fidelity_compute(qs_fidelity_t *out, const float *theta, const float *pred, size_t n)
{
    qs_fidelity_derive(out, qs_vec_sqdist(pred, theta, n), theta, n);
}

void qs_fidelity_derive(qs_fidelity_t *out, double l_sr, const float *theta, size_t n)
{
    double ss = qs_vec_sumsq(theta, n);
    double mean = n ? qs_vec_sum(theta, n) / (double)n : 0;
    double ss_tot = qs_vec_sumsq_centered(theta, n, mean);
    out->l_sr = l_sr;
    out->margin = n ? sqrt(l_sr / (double)n) : 0;
    out->srq = l_sr > 0 ? log((double)n / l_sr) : INFINITY;
    if (l_sr == 0) {
        out->rel_err = 0;
        out->r2 = 1;
    } else {
        out->rel_err = ss > 0 ? l_sr / ss : INFINITY;
        out->r2 = ss_tot > 0 ? 1.0 - l_sr / ss_tot : -INFINITY;
    }
    out->rms = n ? sqrt(ss / (double)n) : 0;
    out->zero_quine = n > 0 && out->rms < QS_ZERO_QUINE_RMS;
}

static const char *const fitness_names[] = {"accuracy", "fidelity", "product"};

QS_NAME_FNS(qs_fitness_name, qs_fitness_parse, qs_fitness_t, fitness_names)
const qs_names_t qs_fitness_names = QS_NAMES(fitness_names);

double qs_fitness(qs_fitness_t f, double accuracy, double r2)
{
    double acc = isfinite(accuracy) ? accuracy : 0.0;
    double fid = isfinite(r2) ? r2 : -1.0;
    switch (f) {
    case QS_FIT_ACCURACY:
        return acc;
    case QS_FIT_FIDELITY:
        return fid;
    case QS_FIT_PRODUCT:
        return acc * (fid > 0 ? fid : 0);
    }
    return acc;
}
