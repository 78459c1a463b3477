/* newton: second-order replication steps for a quine (beyond the paper).
 *
 * The replication residual of a genome is r(theta) = f_theta(C) - theta (the prediction
 * of every weight minus the weight; here NOT detached: moving a weight moves its own
 * target too). Its scale-free form
 *     rho(theta) = r(theta) / sqrt(D),   D = sum_c (theta_c - mean)^2
 * has |rho|^2 = 1 - R^2 exactly, so driving rho to 0 makes a genuine copier, and the
 * zero quine (D = 0) is no solution. A step is Levenberg-Marquardt on rho:
 *     (J^T J + (lambda / D) I) delta = -J^T rho,   J = d rho / d theta,
 * solved matrix-free by conjugate gradients with Jacobian-vector products through the
 * network (forward tangents) and vector-Jacobian products (backpropagation), both on
 * activations cached at theta, and accepted only if 1 - R^2 decreases (lambda shrinks
 * after a success, grows and the step is retried after a failure).
 *
 * Replication is what is optimised; on its own a step ignores the task, and the class
 * head W_cls is merely a part of theta that has to be copied. To keep a classifier,
 * qs_newton_keep_logits() adds a function-space trust region: the step also minimises
 *     weight * |J_L delta|^2 / (K C s^2)
 * the first-order change of the logits of K chosen images (C classes, s^2 the variance of
 * their logits), so replication improves along directions the classifier does not feel.
 * Interleave with gradient steps on the task (quinesim train --newton) to keep learning
 * it. The image half of the input is the rest input, as in regeneration. */
#ifndef QS_NEWTON_H
#define QS_NEWTON_H

#include <stddef.h>
#include <stdint.h>

#include "core/quine.h"

typedef struct {
    uint32_t cg_iters;  /* conjugate-gradient iterations per solve (default 30) */
    double cg_tol;      /* relative residual that ends a solve early (default 1e-3) */
    double lambda;      /* initial damping, in units of 1/D (default 1) */
    uint32_t max_tries; /* solves per step before giving up (default 6) */
} qs_newton_cfg_t;

qs_newton_cfg_t qs_newton_defaults(void);

typedef struct {
    double before, after; /* 1 - R^2 before and after the step */
    double lambda;        /* damping after the step */
    uint32_t tries;       /* solves made */
    uint32_t cg_iters;    /* CG iterations in all */
    int accepted;         /* the step lowered 1 - R^2 (else theta is unchanged) */
    uint64_t flops;       /* by core/quine.c's convention */
} qs_newton_stats_t;

typedef struct qs_newton qs_newton_t;
/* Buffers for phys's networks: the activations of every coordinate (depth x N x H
 * floats) and a few N-vectors. phys is borrowed. */
qs_newton_t *qs_newton_new(const qs_phys_t *phys, const qs_newton_cfg_t *cfg);
void qs_newton_free(qs_newton_t *nt);
/* Aux: keep the logits of images[0..count) of feat (count <= QS_CHUNK_ROWS; feat and
 * images are borrowed) to first order, with the given weight (0 turns it off). */
void qs_newton_keep_logits(qs_newton_t *nt, const qs_features_t *feat, const uint32_t *images,
                           size_t count, double weight);
/* One Levenberg-Marquardt step on theta (N floats, updated in place when accepted). */
void qs_newton_step(qs_newton_t *nt, float *theta, qs_newton_stats_t *st);

/* The products themselves, at the theta of the last qs_newton_linearize (for tests):
 * out (N) = (d f_theta(C) / d theta) v, and out (N) = (d f_theta(C) / d theta)^T u. */
void qs_newton_linearize(qs_newton_t *nt, const float *theta);
void qs_newton_jvp(qs_newton_t *nt, const float *v, float *out);
void qs_newton_vjp(qs_newton_t *nt, const float *u, float *out);
/* f_theta(C) at the linearisation point (N floats, borrowed). */
const float *qs_newton_prediction(const qs_newton_t *nt);

#endif
