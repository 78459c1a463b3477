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
 *   sign         a digital genome: T(theta)_i = a_l sgn(p_i) (sgn 0 = +1), a_l the mean
 *                |theta_i| over group l's nonzero weights: a binary child (every weight
 *                +-a_l) inherits its scale by copy and one bit per weight by
 *                self-prediction. An error in p changes nothing until it crosses 0, so a
 *                network whose predictions have the right signs is an EXACT fixed point,
 *                and one whose predictions keep their signs under a perturbation corrects
 *                it in one generation (what discrete nucleotides do for DNA). The map is
 *                piecewise constant: its derivatives are 0 (jvp and vjp give zeros), so
 *                gradient objectives through it see nothing; `quinesim train --binary`
 *                trains such genomes directly (core/train.h).
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

typedef enum { QS_REGEN_PLAIN = 0, QS_REGEN_STANDARDIZE = 1, QS_REGEN_SIGN = 2 } qs_regen_t;
extern const qs_names_t qs_regen_names;  /* in enumerator order */
const char *qs_regen_name(qs_regen_t r); /* "plain" | "standardize" | "sign"; "?" if unknown */
int qs_regen_parse(const char *s, qs_regen_t *out); /* 0 or QS_ERR(INVAL) */

/* pred (N floats) holds f_theta(C); with QS_REGEN_STANDARDIZE it is rescaled in place to
 * T(theta), with QS_REGEN_SIGN read as signs. QS_REGEN_PLAIN leaves it as it is. */
void qs_regen_apply(const qs_quine_spec_t *spec, qs_regen_t mode, const float *theta, float *pred);

/* The scale a_l of QS_REGEN_SIGN: the mean |theta_i| over the n weights' nonzero ones
 * (0 when all are zero). For a binary group (every weight +-a) it is a exactly. */
double qs_regen_sign_scale(const float *theta, size_t n);

/* The rescaling's derivative: with p = f_theta(C) (raw, before qs_regen_apply) and its
 * tangent dp = J dtheta in dout (N floats), dout becomes the tangent of T(theta) for the
 * tangent dtheta of theta. PLAIN: dout is left as it is. */
void qs_regen_jvp(const qs_quine_spec_t *spec, qs_regen_t mode, const float *theta, const float *p,
                  const float *dtheta, float *dout);

/* Its transpose: for u = dL/dT(theta), gp (N, overwritten) = dL/dp and gtheta (N) +=
 * the direct dL/dtheta (through the parent's means and deviations). The full gradient
 * is then gtheta + J^T gp. PLAIN: gp = u, gtheta unchanged. SIGN: gp = 0. */
void qs_regen_vjp(const qs_quine_spec_t *spec, qs_regen_t mode, const float *theta, const float *p,
                  const float *u, float *gp, float *gtheta);

#endif
