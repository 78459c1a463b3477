/* fertility: does a quine's offspring copy itself, and its offspring, and so on?
 *
 * A quine reproduces by regeneration, T(theta) = f_theta(C). One good copy (R^2 of
 * f_theta(C) against theta near 1) is not enough: the child is a different network, and
 * a lineage stays a lineage of replicators only if T's fixed point ATTRACTS. This module
 * measures both sides of that:
 *
 * T is the regeneration of core/regen.h (plain f_theta(C), or standardized per group).
 *
 *   the lineage   theta_0, theta_1 = T(theta_0), theta_2 = T(theta_1), ... (pure
 *                 regeneration: no training, no mutation), and per generation k
 *                   link R^2   of theta_{k+1} against theta_k (theta_k's self-prediction),
 *                   drift R^2  of theta_k against a reference (theta_0, or the undamaged
 *                              genome when the lineage starts from a damaged one),
 *                   rms        sqrt(mean theta_k^2), and test accuracy for aux genomes;
 *   the stability the spectral radius of the Jacobian dT/dtheta at theta_0, estimated by
 *                 power iteration with Jacobian-vector products (core/newton.h). Below
 *                 1, small errors shrink from generation to generation; above 1 they grow.
 *
 * The power iteration is generic (any linear map given as a function) so that it can be
 * checked on maps with a known spectral radius. Its estimate is the geometric mean of the
 * growth factors |A v_i| / |v_i| over the second half of the iterations: for a dominant
 * real eigenvalue it is |lambda| after a few steps, and it also converges (more slowly)
 * when the dominant eigenvalues are a complex pair, where the single-step ratio
 * oscillates. `spread` tells how settled it is. */
#ifndef QS_FERTILITY_H
#define QS_FERTILITY_H

#include <stddef.h>
#include <stdint.h>

#include "core/quine.h"
#include "core/regen.h"

/* One generation of a lineage. */
typedef struct {
    uint32_t generation; /* k */
    double link_r2;      /* R^2 of theta_{k+1} = f_theta_k(C) against theta_k */
    double link_rel_err; /* relative error of the same */
    double drift_r2;     /* R^2 of theta_k against the reference genome */
    double rms;          /* sqrt(mean theta_k^2) */
    int zero_quine;      /* rms < QS_ZERO_QUINE_RMS */
    double acc;          /* test accuracy of theta_k; NAN without test features */
} qs_fertility_gen_t;

/* The lineage of theta0 over `generations` regenerations: rows[0..generations] (the
 * caller's array of generations + 1), row k describing theta_k (its link needs one more
 * regeneration, so generations + 1 predictions are made). ref is what drift is measured
 * against (NULL: theta0). test (aux: features of the test images) may be NULL. If last
 * is not NULL it receives theta_generations (N floats). Allocates N-vectors; work is
 * the caller's workspace for phys's spec. */
void qs_fertility_lineage(const qs_phys_t *phys, qs_regen_t mode, const float *theta0,
                          const float *ref, uint32_t generations, const qs_features_t *test,
                          qs_work_t *work, qs_fertility_gen_t *rows, float *last);

/* ---- Spectral radius by power iteration ---------------------------------------------- */

/* A linear map on R^n: out = A v (out and v never alias). */
typedef void (*qs_linear_map_fn)(void *ctx, const float *v, float *out);

typedef struct {
    double radius; /* the estimate: geometric mean of the growth over the second half */
    double last;   /* the growth factor of the last iteration alone */
    double spread; /* |r3 - r4| / r4, r3 and r4 the geometric means over the third and
                      fourth quarters of the iterations: small when the estimate settled */
    uint32_t iters;
} qs_spectral_t;

/* Power iteration from a random unit vector (Philox stream QS_STREAM_TEST keyed by seed):
 * v <- A v / |A v|, iters times (>= 4). A map that sends v to 0 gives radius 0. */
void qs_spectral_radius(size_t n, qs_linear_map_fn apply, void *ctx, uint32_t iters, uint64_t seed,
                        qs_spectral_t *out);

/* The spectral radius of dT/dtheta at theta (the regeneration map of phys's quines),
 * by qs_spectral_radius with Jacobian-vector products through the network. Costs one
 * linearisation (depth x N x H floats of activations) and iters products. */
void qs_fertility_spectral(const qs_phys_t *phys, qs_regen_t mode, const float *theta,
                           uint32_t iters, uint64_t seed, qs_spectral_t *out);

/* The root-mean-square singular value of a linear map, sqrt(||A||_F^2 / n): the typical
 * growth of a random perturbation, where the spectral radius is the growth of the worst
 * mode that persists. Hutchinson's estimator: sqrt of the mean of |A d|^2 / |d|^2 over
 * `probes` (>= 1) Gaussian directions d (stream QS_STREAM_TEST keyed by seed); d / |d| is
 * uniform on the sphere, so each term's expectation is tr(A^T A) / n exactly. Exact for
 * a multiple of an orthogonal map. */
double qs_rms_singular(size_t n, qs_linear_map_fn apply, void *ctx, uint32_t probes, uint64_t seed);
/* The same for dT/dtheta at theta (one linearisation, `probes` Jacobian-vector products). */
double qs_fertility_gain(const qs_phys_t *phys, qs_regen_t mode, const float *theta,
                         uint32_t probes, uint64_t seed);

/* The stretch of the copy error: |J r| / |r| at theta, r = T(theta) - theta and J =
 * dT/dtheta (one exact Jacobian-vector product). To first order the child's own copy
 * error is J r, so this is the factor by which one generation multiplies the copy error;
 * it can far exceed the spectral radius when J is not normal. 0 when r is 0 (an exact
 * fixed point) or not finite. Costs one linearisation. */
double qs_fertility_stretch(const qs_phys_t *phys, qs_regen_t mode, const float *theta);

/* ---- Damage ---------------------------------------------------------------------------- */

typedef enum {
    QS_DAMAGE_ZERO = 0, /* the chosen weights are set to 0 */
    QS_DAMAGE_NOISE = 1 /* each is replaced by a draw from N(0, rms^2), rms the genome's
                           RMS weight: damage of the right scale that carries nothing */
} qs_damage_mode_t;

/* Damage round(fraction * n) weights of theta, chosen uniformly without replacement (a
 * partial Fisher-Yates shuffle) by the stream (seed, QS_STREAM_DAMAGE id 0), the same
 * draws as `quinesim repair`. hit (n bytes, may be NULL) gets 1 for each damaged weight,
 * 0 elsewhere. Returns how many were damaged. */
size_t qs_damage_apply(float *theta, size_t n, double fraction, qs_damage_mode_t mode,
                       uint64_t seed, unsigned char *hit);

#endif
