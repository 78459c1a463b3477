/* fertile: objectives that make a quine's offspring replicators too (beyond the paper).
 *
 * A quine that copies itself well once (R^2 of T(theta) = f_theta(C) against theta near 1)
 * usually sits at a REPELLING fixed point of T: the Jacobian dT/dtheta has a spectral
 * radius above 1, so the child's small copying error grows with every generation
 * (core/fertility.h measures it). After Randazzo, Versari & Mordvintsev ("Recursively
 * Fertile Self-replicating Neural Agents", ALIFE 2021), this module trains the lineage
 * rather than the copy. With theta_0 = theta and theta_k = T(theta_{k-1}), T the
 * regeneration of core/regen.h (plain, or standardized per layer; cfg.regen):
 *
 *   drift        sum_{k=1..K} w_k |theta_k - theta_0|^2 / D     w_k = decay^(k-1)
 *   task (aux)   lambda sum_{k=0..K} w'_k CE(theta_k)            w'_0 = 1, w'_k = w_k
 *   sink         sink |T(theta + eps) - theta|^2 / D             eps ~ N(0, (s sigma_l)^2)
 *   contraction  c max(0, rho_hat - rho_target)^2
 *                rho_hat = |T(theta + h v) - T(theta)| / h       v: unit, detached
 *   stretch      s sigma_hat^2
 *                sigma_hat = |T(theta + h u) - T(theta)| / h     u = r / |r|, detached
 *                r = T(theta) - theta, the copy's own error
 *   repair       repair |(P - theta) o z|^2 / D + lambda CE(theta_rep)
 *                z: a random mask (each weight 1 with probability repair_frac), the
 *                damaged genome x = theta o (1 - z), P = f_x(C) its raw prediction
 *                (plain, whatever cfg.regen), theta_rep = x + P o z: the genome after
 *                one cycle of `quinesim repair` (core/repair.h), which rewrites only the
 *                damaged weights with the damaged network's predictions
 *
 * D = sum (theta - mean)^2 is LIVE (differentiated), so shrinking the weights lowers
 * nothing: the drift and sink terms are scale-free, the k = 1 drift term is exactly
 * 1 - R^2 of the self-prediction. CE is the mean softmax cross-entropy (temperature T) of
 * the step's images classified by theta_k: a child must still classify. sigma_l is the
 * standard deviation of each parameter group (layer) of theta, and eps is a constant of
 * the step (not differentiated, like v); the sink pulls a noisy
 * neighbour back onto theta, which makes the fixed point attracting in random
 * directions. The contraction term does the same along v, the direction the power
 * iteration of core/fertility.h finds the regeneration Jacobian stretches most
 * (qs_fertile_power_step advances it by one Jacobian-vector product per call); rho_hat is
 * the finite-difference estimate of |J v|, whose gradient needs no second derivatives.
 * The stretch term penalises the same growth along the copy error itself: to first order
 * the child's copy error is J r, and sigma_hat estimates |J r| / |r| (core/fertility.h's
 * qs_fertility_stretch computes it exactly), which at a non-normal J can be many times
 * rho (scenarios/experiments/results.md, section 7). r is DETACHED (u is a constant of
 * the step, recomputed at every step, like v), so S = |J u|^2 is the ratio
 * |J r|^2 / |r|^2 with r held fixed, for three reasons: (1) it is scale-free in r and in
 * the same units as rho_hat, so its weight keeps its meaning as the copy improves and
 * copy size is left to the drift term; (2) with r live, d(r / |r|) / dtheta =
 * (I - u u^T) (J - I) / |r| grows as 1 / |r|, stiffest exactly where the copy is good;
 * (3) with r live the cheapest way down is to ROTATE the copy error into directions J
 * stretches less, which the drift term's gradient does not see and which need not make
 * J contract anything, while the detached form asks J to shrink the error the genome
 * has. It costs one more linearisation and vector-Jacobian product at theta + h u and
 * one more vector-Jacobian product at theta (stretch 0 skips all of it).
 *
 * Gradients flow through every regeneration by vector-Jacobian products (backpropagation
 * through the lineage); all terms are exact gradients of the loss as written (checked by
 * finite differences of a double-precision reference in tests/core/test_fertile.c). A
 * step costs K + 3 linearisations and K + 5 vector-Jacobian products when every term is
 * on: about 3K + 13 regenerations (`make bench` times one). */
#ifndef QS_FERTILE_H
#define QS_FERTILE_H

#include <stddef.h>
#include <stdint.h>

#include "core/optim.h"
#include "core/quine.h"
#include "core/regen.h"
#include "core/rng.h"

#define QS_FERTILE_MAX_GENS 8

typedef struct {
    uint32_t generations;    /* K, 1..QS_FERTILE_MAX_GENS (default 3) */
    double decay;            /* w_k = decay^(k-1) (default 0.5: weights 1, 1/2, 1/4) */
    double lambda;           /* aux: weight of the task terms (default 1; 0 = off) */
    double temperature;      /* aux: softmax temperature (default 1) */
    double sink;             /* weight of the sink term (default 1; 0 = off) */
    double sink_noise;       /* s: noise as a fraction of each layer's spread (default 0.02) */
    double contraction;      /* c (default 1; 0 = off) */
    double rho_target;       /* (default 0.5) */
    double fd_step;          /* h (default 1e-2) */
    qs_regen_t regen;        /* T: plain f_theta(C) (default) or standardized (core/regen.h) */
    double stretch;          /* s: weight of the stretch term (default 0 = off); also the weight
                                of its residual block in qs_fertile_lm_step */
    double repair;           /* weight of the repair term (default 0 = off) */
    double repair_frac;      /* p: each weight is zeroed with probability p (default 0.3) */
    uint32_t lm_descendants; /* M: qs_fertile_lm_step's descendants whose own copy error is in
                                its energy (default 1, the child; at most K - 1) */
    int lm_scale_free;       /* qs_fertile_lm_step's D: the variance sum of the point it
                                evaluates (1) or of the step's start (0, default) */
} qs_fertile_cfg_t;

qs_fertile_cfg_t qs_fertile_defaults(void);

typedef struct {
    double loss;                           /* the total */
    double drift[QS_FERTILE_MAX_GENS + 1]; /* drift[k] = |theta_k - theta_0|^2 / D, k >= 1 */
    double task[QS_FERTILE_MAX_GENS + 1];  /* CE of theta_k (aux, when images are given) */
    double sink;                           /* |T(theta + eps) - theta|^2 / D (unweighted) */
    double rho_hat;                        /* the contraction estimate |J v| (0 when off) */
    double stretch_hat;                    /* sigma_hat = |J r| / |r| (0 when off) */
    double repair;      /* |(P - theta) o z|^2 / |theta o z - mean|^2: 1 - R^2 of the repair */
    double repair_task; /* CE(theta_rep) (aux, with images) */
} qs_fertile_stats_t;

typedef struct qs_fertile qs_fertile_t;
/* Buffers for phys's networks (K + 1 linearisations of depth x N x H floats each). phys
 * is borrowed. v starts as a random unit vector drawn from seed. */
qs_fertile_t *qs_fertile_new(const qs_phys_t *phys, const qs_fertile_cfg_t *cfg, uint64_t seed);
void qs_fertile_free(qs_fertile_t *f);

/* The loss at theta (N floats) and its gradient (grad, N floats, overwritten). Images
 * images[0..ni) of feat for the task terms (aux; ni may be 0, feat then NULL). The sink's
 * noise is drawn from rng (advanced; skipped when the sink is off). st may be NULL.
 * Returns the loss. */
double qs_fertile_loss_grad(qs_fertile_t *f, const float *theta, const qs_features_t *feat,
                            const uint32_t *images, size_t ni, qs_rng_t *rng, float *grad,
                            qs_fertile_stats_t *st);

/* A training loop on the loss: `steps` times, draw `images` training images of feat
 * uniformly with replacement (aux; none when feat is NULL or images is 0), take the loss
 * and gradient, step the optimizer, then advance the power iteration at the new theta.
 * The draws come from rng (advanced). Sums go to out (may be NULL); out->last holds the
 * last step's figures. images <= QS_CHUNK_ROWS. */
typedef struct {
    uint64_t steps;
    double loss_sum;
    double rho_power;        /* the last power step's growth |J v| */
    qs_fertile_stats_t last; /* of the last step */
} qs_fertile_run_t;
void qs_fertile_run(qs_fertile_t *f, qs_opt_t *opt, float *theta, const qs_features_t *feat,
                    uint32_t images, qs_rng_t *rng, uint64_t steps, qs_fertile_run_t *out);

/* A second-order step on copy and contraction together: Levenberg-Marquardt on
 *     E(theta) = |T(theta) - theta|^2 / D + c |T(theta + h v) - T(theta)|^2 / h^2
 *                + s |T(theta + h u) - T(theta)|^2 / h^2,  s = cfg.stretch
 *                + sum_{k=1..M} w_k |T(theta_k) - theta_k|^2 / D,  w_k = w1 decay^(k-1)
 * (D the genome's variance sum, fixed for the step, or with cfg.lm_scale_free that of
 * each point E is evaluated at, so that shrinking the genome lowers nothing (A then carries
 * D's derivative, a rank-one term); v the current direction, h fd_step;
 * u = r / |r| with r = T(theta) - theta at the start of the step, held fixed in it;
 * theta_k = T(theta_{k-1}), M = cfg.lm_descendants, at most K - 1, and 0 when w1 = 0):
 * (A^T A + mu / D) delta = -A^T R by cg_iters conjugate-gradient iterations with
 * Jacobian-vector products at theta, theta + h v and theta_1..theta_M, accepted only if E
 * falls (mu / 3; else mu x 4 and solve again, up to 6 times). The first term is 1 - R^2 of
 * the copy, the second c rho_hat^2, the third s sigma_hat^2 (the stretch term above as one
 * more residual block: one more linearisation per energy, one more product each way per
 * CG iteration), the sum the descendants' own copy errors: the child's (k = 1; its tangent
 * is J_T at theta_1 times J_T at theta), the grandchild's (k = 2) and so on, each one more
 * linearisation per energy and one more product each way per CG iteration. *mu carries
 * the damping between steps. */
typedef struct {
    double before, after; /* E */
    double rho_hat;       /* |T(theta + h v) - T(theta)| / h before the step */
    double stretch_hat;   /* |T(theta + h u) - T(theta)| / h before the step (0 when s = 0) */
    uint32_t cg_iters, tries;
    int accepted;
} qs_fertile_lm_stats_t;
void qs_fertile_lm_step(qs_fertile_t *f, float *theta, double c, double w1, uint32_t cg_iters,
                        double *mu, qs_fertile_lm_stats_t *st);

/* The step's model at theta, for tests and diagnostics: E with D given (the step fixes it
 * at its start) and u as the last step left it (stretch only); its residual blocks into
 * res when not NULL (qs_fertile_lm_blocks x N floats: the copy, the contraction, the
 * stretch, zero when off, then descendants 1..M, so E = |res|^2); A dir into adir (same
 * size) and A^T uin into atu (N floats) when given, A the Jacobian of res in theta. */
size_t qs_fertile_lm_blocks(const qs_fertile_t *f, double w1);
double qs_fertile_lm_model(qs_fertile_t *f, const float *theta, double d, double c, double w1,
                           float *res, const float *dir, float *adir, const float *uin, float *atu);

/* One step of power iteration at theta: v <- J v / |J v|. Returns |J v| (the growth of
 * this step, an estimate of the spectral radius once v has settled). */
double qs_fertile_power_step(qs_fertile_t *f, const float *theta);
/* The contraction direction v (N floats, borrowed), and setting it (normalised). */
const float *qs_fertile_direction(const qs_fertile_t *f);
void qs_fertile_set_direction(qs_fertile_t *f, const float *v);

#endif
