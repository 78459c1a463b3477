/* regen: how an offspring's genome is made from a network's self-prediction.
 *
 *   plain        T(theta) = f_theta(C): every weight is the network's prediction of it
 *                (the paper's regeneration; what quinesim has always done).
 *   standardize  each parameter group l (W_1, ..., w_out, W_cls) of the prediction p is
 *                shifted and scaled to the mean m_l and standard deviation s_l of the same
 *                group in the parent:  T(theta)_l = m_l(theta) + s_l(theta) / s_l(p) (p_l -
 *                m_l(p)). Randazzo, Versari & Mordvintsev (ALIFE 2021) rescale offspring
 *                so; here it removes the scale instability of a SELU quine, whose
 *                prediction grows like the cube of the weights' scale
 * (scenarios/experiments/results.md, section 7): the child inherits 2 numbers per group by copy,
 * every other degree of freedom by self-prediction.
 *
 * Standard deviations are population ones (divided by the group's size). A prediction
 * group with no spread (s_l(p) = 0) becomes the constant m_l(theta). The derivatives of the
 * rescaling (forward and transposed) let core/fertility and core/fertile differentiate the
 * standardized map. */
#ifndef QS_REGEN_H
#define QS_REGEN_H

#include <stddef.h>

#include "core/quine.h"
#include "core/util.h"

typedef enum { QS_REGEN_PLAIN = 0, QS_REGEN_STANDARDIZE = 1 } qs_regen_t;
extern const qs_names_t qs_regen_names;             /* in enumerator order */
const char *qs_regen_name(qs_regen_t r);            /* "plain" | "standardize"; "?" if unknown */
int qs_regen_parse(const char *s, qs_regen_t *out); /* 0 or QS_ERR(INVAL) */

/* pred (N floats) holds f_theta(C); with QS_REGEN_STANDARDIZE it is rescaled in place to
 * T(theta). QS_REGEN_PLAIN leaves it as it is. */
void qs_regen_apply(const qs_quine_spec_t *spec, qs_regen_t mode, const float *theta, float *pred);

/* The rescaling's derivative: with p = f_theta(C) (raw, before qs_regen_apply) and its
 * tangent dp = J dtheta in dout (N floats), dout becomes the tangent of T(theta) for the
 * tangent dtheta of theta. PLAIN: dout is left as it is. */
void qs_regen_jvp(const qs_quine_spec_t *spec, qs_regen_t mode, const float *theta, const float *p,
                  const float *dtheta, float *dout);

/* Its transpose: for u = dL/dT(theta), gp (N, overwritten) = dL/dp and gtheta (N) +=
 * the direct dL/dtheta (through the parent's means and deviations). The full gradient
 * is then gtheta + J^T gp. PLAIN: gp = u, gtheta unchanged. */
void qs_regen_vjp(const qs_quine_spec_t *spec, qs_regen_t mode, const float *theta, const float *p,
                  const float *u, float *gp, float *gtheta);

#endif
