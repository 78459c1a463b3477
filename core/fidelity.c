/* fidelity: L_SR, the paper's derived figures and the scale-free ones, in double.
 *
 * Degenerate cases (each defined, never a NaN from 0/0):
 *   n == 0                      everything 0, r2 = 1, srq = +inf, not a zero quine
 *                               (nothing to copy, copied perfectly);
 *   L_SR == 0                   srq = +inf (a perfect copy), rel_err = 0, r2 = 1;
 *   sum theta^2 == 0, L_SR > 0  rel_err = +inf (any error is infinitely many times the
 *                               genome's size);
 *   all theta equal, L_SR > 0   r2 = -inf (no variance to explain).
 * Callers printing JSON write the infinities as null. */
#include "core/fidelity.h"

#include <math.h>

#include "core/vec.h"

void qs_fidelity_compute(qs_fidelity_t *out, const float *theta, const float *pred, size_t n)
{
    double l_sr = qs_vec_sqdist(pred, theta, n);
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
