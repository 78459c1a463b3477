/* train: a quine's training loop, shared by `quinesim train` (the paper's single-network
 * experiments) and the simulator's workers (an organism's life).
 *
 * Steps draw coordinates in epochs: each epoch is a fresh random permutation of all N
 * coordinates, visited `batch` at a time. With QS_REFRESH_EPOCH (the paper's) the targets
 * are a copy of theta frozen at the start of each epoch; with QS_REFRESH_STEP they are
 * theta as it is before each step. Images (aux) are drawn the same way from the training
 * features, in their own epochs. All draws come from the rng handed to qs_trainer_begin,
 * so a life is a pure function of (genome, configuration, rng stream, steps).
 *
 * Details (core/train.c): permutations are drawn lazily, at the start of the step that
 * needs one, so any split of a run into qs_trainer_run() calls makes the same draws; with
 * full batch the coordinates go in index order (no draw); paired aux rows take one image
 * per coordinate (cfg.images is then ignored); QS_SR_NONE with separate pairing forms no
 * coordinate rows; regeneration keeps the optimizer state and the epoch cursors.
 *
 * Binary genomes (cfg.binary; core/regen.h's sign regeneration): theta is kept binary,
 * every weight of parameter group l equal to +-a_l, a_l the group's mean |theta| at
 * qs_trainer_begin (core/regen.h's qs_regen_sign_scale). The trainer holds real-valued
 * latent weights w (BinaryConnect, Courbariaux et al. 2015): the step's gradient, taken
 * at the binary theta, moves w (straight-through), w is clipped to [-a_l, a_l], and theta
 * becomes a_l sgn(w). w starts as the genome (clipped); a regeneration sets theta to
 * the sign regeneration of f_theta(C) and w to f_theta(C) (clipped). */
#ifndef QS_TRAIN_H
#define QS_TRAIN_H

#include <stddef.h>
#include <stdint.h>

#include "core/optim.h"
#include "core/quine.h"
#include "core/regen.h"
#include "core/rng.h"
#include "core/util.h"

typedef enum { QS_REFRESH_EPOCH = 0, QS_REFRESH_STEP = 1 } qs_refresh_t;
extern const qs_names_t qs_refresh_names;    /* in enumerator order */
const char *qs_refresh_name(qs_refresh_t r); /* "epoch" | "step" */
int qs_refresh_parse(const char *s, qs_refresh_t *out);

typedef struct {
    qs_objective_t obj;
    qs_opt_cfg_t opt;
    uint32_t batch;       /* coordinates per step; 0 = all N (full batch) */
    uint32_t images;      /* images per step (aux, separate pairing); 0 = same as batch (or
                             100 if full batch) */
    qs_refresh_t refresh; /* when the targets are re-frozen */
    int binary;           /* a binary genome: see below */
} qs_train_cfg_t;

/* The paper's recipe for a kind: Adamax, batch 10, SSE, lambda 0.01, T 0.01, per-epoch
 * targets, paired rows for aux (as in the paper). */
qs_train_cfg_t qs_train_cfg_paper(qs_kind_t kind);

typedef struct {
    uint64_t steps;   /* steps taken since qs_trainer_begin */
    uint64_t flops;   /* FLOPs spent (steps + optimizer + regenerations) */
    double loss_sum;  /* sum over steps of the optimised loss */
    double sse_sum;   /* sum over steps of the batch SSE */
    double task_sum;  /* sum over steps of L_task */
    uint64_t seen;    /* training images seen */
    uint64_t correct; /* of which classified correctly (running train accuracy) */
    uint32_t epochs;  /* completed passes over the coordinates */
} qs_train_stats_t;

typedef struct qs_trainer qs_trainer_t;
/* phys and train (aux: the training features; vanilla: NULL) are borrowed. */
qs_trainer_t *qs_trainer_new(const qs_phys_t *phys, const qs_train_cfg_t *cfg,
                             const qs_features_t *train);
void qs_trainer_free(qs_trainer_t *tr);
/* The bytes qs_trainer_new allocates for spec and cfg with ntrain training images (aux):
 * targets, gradient, the optimiser's two moments, the coordinate order (N each), its
 * workspace and the image order. For resource checks. */
size_t qs_trainer_bytes(const qs_quine_spec_t *spec, const qs_train_cfg_t *cfg, uint32_t ntrain);
/* Start training theta (N floats, borrowed and updated in place): resets the optimizer
 * state, the statistics and the epoch cursors, and takes the rng (copied). */
void qs_trainer_begin(qs_trainer_t *tr, float *theta, const qs_rng_t *rng);
/* Take up to `steps` steps; returns the number taken. Call repeatedly to interleave
 * other work (progress, heartbeats): splitting a run into calls changes nothing. */
uint64_t qs_trainer_run(qs_trainer_t *tr, uint64_t steps);
/* Steps per epoch: ceil(N / batch). */
uint64_t qs_trainer_epoch_steps(const qs_trainer_t *tr);
/* theta <- f_theta(C) (one regeneration); the targets are re-frozen from the result. */
void qs_trainer_regenerate(qs_trainer_t *tr);
/* The same with the offspring of core/regen.h's mode (QS_REGEN_PLAIN: the above); a
 * binary genome's offspring are sign offspring whatever the mode. */
void qs_trainer_regenerate_as(qs_trainer_t *tr, qs_regen_t mode);
/* The precision of qs_trainer_regenerate (qs_work_set_precision); steps stay fp32. */
qs_precision_t qs_trainer_set_precision(qs_trainer_t *tr, qs_precision_t p);
const qs_train_stats_t *qs_trainer_stats(const qs_trainer_t *tr);
/* The rng as it is now (to continue the same stream elsewhere). */
qs_rng_t qs_trainer_rng(const qs_trainer_t *tr);
/* FLOPs of one step of this configuration, including the optimizer. */
uint64_t qs_trainer_step_flops(const qs_trainer_t *tr);

#endif
