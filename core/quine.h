/* quine: the neural network quine of Chang & Lipson (2018), vanilla and auxiliary.
 *
 * A quine predicts its own weights: weight c is addressed by its coordinate c, whose
 * one-hot vector goes through a FIXED random projection (physics, not genome: never
 * trained, never counted, never stored, regenerated bit-identically from the projection
 * seed), then an MLP of SELU layers without biases outputs a prediction of theta[c].
 *
 *   vanilla:  h0 = SELU(Pc[c])                      Pc: N x H
 *   aux:      h0 = [SELU(Pc[c]), SELU(x Pi)]        Pc: N x H/2, Pi: 784 x (H - H/2)
 *   then      h_l = SELU(h_{l-1} W_l), l = 1..depth  W_l: H x H
 *   heads     y = h_depth w_out                      w_out: H x 1  (the weight prediction)
 *             logits = h_depth W_cls                 W_cls: H x classes (aux only)
 *
 * Because SELU is elementwise, h0 splits into a coordinate half and an image half that
 * never depend on theta: both are precomputed once per species (qs_phys_t) and per data
 * set (qs_features_t), so a training step is only the HxH layers and the heads.
 *
 * The genome theta is ONE contiguous float buffer of N parameters laid out as
 *   [W_1 (H*H, row-major, in x out), ..., W_depth, w_out (H), W_cls (H*classes, aux)]
 * and coordinate c addresses theta[c] in that layout. The paper's sizes: vanilla
 * H=100, depth 2 -> N = 20,100; aux -> N = 21,100.
 *
 * A batch is a set of ROWS. A row carries a coordinate (it adds to the replication loss)
 * and/or an image (it adds to the task loss); a row without a coordinate sees the resting
 * coordinate input (zeros), a row without an image sees the replication input
 * (spec.rest). How training pairs them is qs_pairing_t.
 *
 * The fixed projections (core/quine.c has the details):
 *   Pc[c][j]  = N(0, 1) * coord_scale (default 1: "unit scale"), drawn by Philox keyed
 *               by proj_seed on stream qs_rng_stream(QS_STREAM_PROJECTION, c): any row
 *               regenerates alone. (The paper's initial L_SR of about 90 and 33 after 30
 *               Adamax epochs come out with coord_scale 0.1: see
 * scenarios/experiments/results-core.md.) Pi[p][j]  = N(0, 1) * sqrt(10 / image_dim) on stream
 *               qs_rng_stream(QS_STREAM_PROJECTION, QS_PROJ_IMAGE_STREAM + p), for pixels
 *               x = byte / 255. MNIST images have mean sum x^2 of about 88 (784 / 9), so
 *               the pre-activations x Pi have standard deviation about 1.06 on MNIST
 *               (data/mnist) and 1.44 on Fashion-MNIST (brighter images): O(1).
 *
 * Work is done in chunks of QS_CHUNK_ROWS rows (larger batches, regeneration and
 * evaluation loop over chunks), a constant, so results never depend on how a workspace
 * was sized. */
#ifndef QS_QUINE_H
#define QS_QUINE_H

#include <stddef.h>
#include <stdint.h>

#include "core/idx.h"
#include "core/mm.h"
#include "core/rng.h"
#include "core/util.h"

#define QS_CHUNK_ROWS        512
#define QS_PROJ_IMAGE_STREAM (UINT64_C(1) << 55)

typedef enum { QS_KIND_VANILLA = 0, QS_KIND_AUX = 1 } qs_kind_t;

/* What the image half of the first layer sees when the network replicates (and on rows
 * that carry no image): a "resting" input. */
typedef enum {
    QS_REST_ZERO = 0, /* an all-zero image (default) */
    QS_REST_MEAN = 1  /* the mean training image */
} qs_rest_t;

/* The model's shape and physics. Everything here is needed to interpret a genome. */
typedef struct {
    qs_kind_t kind;
    uint32_t hidden;    /* H (default 100) */
    uint32_t depth;     /* number of H x H hidden layers (default 2) */
    uint32_t classes;   /* aux: size of the class head (10); 0 for vanilla */
    uint32_t image_dim; /* aux: pixels per image (784); 0 for vanilla */
    qs_rest_t rest;     /* aux: the replication input */
    float coord_scale;  /* standard deviation of the coordinate projection's entries
                           (default 1); 0 is read as 1, so a zeroed field keeps the
                           default meaning */
    uint64_t proj_seed; /* seed of the fixed random projections */
} qs_quine_spec_t;

/* The paper's defaults for a kind (H=100, depth 2, 10 classes, 784 pixels, zero rest,
 * coord_scale 1). */
qs_quine_spec_t qs_quine_spec_default(qs_kind_t kind, uint64_t proj_seed);
/* 0, or QS_ERR(RANGE)/QS_ERR(INVAL) naming the bad field (hidden 2..4096, depth 1..16,
 * aux: classes 2..1024 and image_dim 1..65536, vanilla: both 0; coord_scale 0..1000;
 * N < 2^31). */
int qs_quine_spec_validate(const qs_quine_spec_t *spec, qs_error_t *err);
/* N, the number of parameters (the genome length). */
size_t qs_quine_nparams(const qs_quine_spec_t *spec);
extern const qs_names_t qs_kind_names;            /* in enumerator order */
const char *qs_kind_name(qs_kind_t kind);         /* "vanilla" | "aux" */
int qs_kind_parse(const char *s, qs_kind_t *out); /* 0 or QS_ERR(INVAL) */
extern const qs_names_t qs_rest_names;            /* in enumerator order */
const char *qs_rest_name(qs_rest_t rest);         /* "zero" | "mean" */
int qs_rest_parse(const char *s, qs_rest_t *out);

/* A named slice of theta (for gradient checks, damage reports, summaries). */
typedef struct {
    const char *name; /* "W1", "W2", ..., "w_out", "W_cls" */
    size_t offset, count;
} qs_param_group_t;
/* Fills up to cap groups, returns how many there are. */
size_t qs_quine_param_groups(const qs_quine_spec_t *spec, qs_param_group_t *out, size_t cap);

/* Initial weights. */
typedef enum {
    QS_INIT_UNIFORM = 0, /* U(-0.1, 0.1) for every parameter: the paper's reimplementation */
    QS_INIT_HE = 1       /* N(0, 2/H) for hidden matrices, N(0, 1/H) for the heads */
} qs_init_t;
extern const qs_names_t qs_init_names; /* in enumerator order */
const char *qs_init_name(qs_init_t init);
int qs_init_parse(const char *s, qs_init_t *out);
void qs_quine_init_weights(const qs_quine_spec_t *spec, qs_init_t init, qs_rng_t *rng,
                           float *theta);

/* ---- Physics: the fixed projections of one spec, shared by all its organisms -------- */

typedef struct qs_phys qs_phys_t;
/* Generate the projections from spec->proj_seed and precompute SELU(Pc) for all N
 * coordinates. mean_image (image_dim floats in [0,1]) is needed when spec->rest is
 * QS_REST_MEAN, else may be NULL. Owned by the caller; free with qs_phys_free. */
qs_phys_t *qs_phys_new(const qs_quine_spec_t *spec, const float *mean_image);
/* The same without the coordinate table (N x Hc Gaussian draws): enough to classify
 * (qs_quine_accuracy, qs_features_init), not to train or replicate (those assert). */
qs_phys_t *qs_phys_new_classifier(const qs_quine_spec_t *spec, const float *mean_image);
void qs_phys_free(qs_phys_t *phys);
/* The bytes qs_phys_new (with_coords) or qs_phys_new_classifier allocates for spec: the
 * coordinate table (N x Hc floats and their bf16 copy) dominates. For resource checks. */
size_t qs_phys_bytes(const qs_quine_spec_t *spec, int with_coords);
const qs_quine_spec_t *qs_phys_spec(const qs_phys_t *phys);
size_t qs_phys_nparams(const qs_phys_t *phys);
/* Row c of the coordinate projection before SELU (Hc floats), regenerated from the
 * seed; for tests of bit-identical regeneration. */
void qs_phys_coord_projection(const qs_quine_spec_t *spec, size_t c, float *row);
/* Row p (pixel p) of the image projection (Hi floats, scale included), regenerated. */
void qs_phys_image_projection(const qs_quine_spec_t *spec, size_t p, float *row);
/* Widths of the two halves of the first layer: Hc (= H for vanilla, H/2 for aux) and
 * Hi (0 for vanilla, H - H/2 for aux). */
uint32_t qs_phys_coord_width(const qs_phys_t *phys);
uint32_t qs_phys_image_width(const qs_phys_t *phys);
/* SELU(Pc[c]) as precomputed (Hc floats), and the replication input of the image half
 * SELU(rest Pi) (Hi floats; zeros for QS_REST_ZERO; NULL for vanilla). Borrowed. */
const float *qs_phys_coord_act(const qs_phys_t *phys, size_t c);
const float *qs_phys_rest_act(const qs_phys_t *phys);

/* A data set projected through a phys's image projection: SELU(x Pi) for every image
 * (n x Hi floats), plus the labels. Owned by the caller. */
typedef struct {
    uint32_t count;
    uint32_t width;        /* Hi = H - H/2 */
    float *act;            /* owned; count x width */
    const uint8_t *labels; /* borrowed from the data set: keep it alive */
} qs_features_t;
void qs_features_init(qs_features_t *f, const qs_phys_t *phys, const qs_dataset_t *ds);
void qs_features_destroy(qs_features_t *f);
/* Mean training image (image_dim floats in [0,1]) for QS_REST_MEAN. */
void qs_dataset_mean_image(const qs_dataset_t *ds, float *out);

/* ---- Objective ------------------------------------------------------------------------ */

typedef enum {
    QS_SR_SSE = 0,      /* L_SR = sum_batch (f(c) - t_c)^2, the paper's */
    QS_SR_RELATIVE = 1, /* (N/nc) sum_batch (f(c) - t_c)^2 / sum_all theta^2 */
    QS_SR_R2 = 2,       /* (N/nc) sum_batch (f(c) - t_c)^2 / sum_all (theta - mean)^2 */
    QS_SR_NONE = 3,     /* no replication term: the task alone (the paper's control) */
    QS_SR_HINGE = 4     /* sum_batch max(0, 1 - f(c) / t_c) (0 where t_c = 0): the sign of
                           each weight with a margin of |t_c|, for binary genomes, whose
                           offspring keep only the signs (core/regen.h, sign) */
} qs_sr_loss_t;
/* The scale-free losses keep their denominator LIVE (gradient flows into every weight),
 * so shrinking the weights is not a way to lower them; the targets t are detached. With
 * all N coordinates in the batch they equal rel_err and 1 - R^2 of core/fidelity.h. A
 * denominator below 1e-30 is taken as 1e-30 (only the all-zero or all-equal genome). */

typedef enum {
    QS_PAIR_SEPARATE = 0, /* replication rows (c, rest image) and task rows (zero coord, x):
                             nc + ni rows */
    QS_PAIR_PAIRED = 1    /* row k = (c_k, x_k): both losses on every row; max(nc, ni) rows,
                             row k has a coordinate if k < nc and an image if k < ni (the
                             trainer always pairs nc == ni) */
} qs_pairing_t;

typedef enum { QS_REDUCE_SUM = 0, QS_REDUCE_MEAN = 1 } qs_reduce_t;

typedef struct {
    qs_sr_loss_t sr_loss;
    float lambda;       /* weight of L_task: L = L_SR + lambda * L_task (paper 0.01) */
    float temperature;  /* softmax temperature for L_task (paper reimpl. 0.01), > 0:
                           L_task = -log softmax(logits / T)[label] per image */
    qs_reduce_t reduce; /* L_task summed or averaged over the batch's images */
    qs_pairing_t pairing;
} qs_objective_t;

extern const qs_names_t qs_sr_loss_names;    /* in enumerator order */
const char *qs_sr_loss_name(qs_sr_loss_t l); /* "sse" | "relative" | "r2" | "none" | "hinge" */
int qs_sr_loss_parse(const char *s, qs_sr_loss_t *out);
extern const qs_names_t qs_pairing_names;    /* in enumerator order */
const char *qs_pairing_name(qs_pairing_t p); /* "separate" | "paired" */
int qs_pairing_parse(const char *s, qs_pairing_t *out);
extern const qs_names_t qs_reduce_names;   /* in enumerator order */
const char *qs_reduce_name(qs_reduce_t r); /* "sum" | "mean" */
int qs_reduce_parse(const char *s, qs_reduce_t *out);

/* ---- Forward / backward ---------------------------------------------------------------- */

/* Preallocated workspace (about 1 MB at H = 100). No allocation happens inside a step.
 * max_rows is the largest batch the caller expects; any batch works, since rows are
 * processed QS_CHUNK_ROWS at a time whatever max_rows is. Owned by the caller; one
 * workspace serves one thread at a time. */
typedef struct qs_work qs_work_t;
qs_work_t *qs_work_new(const qs_quine_spec_t *spec, size_t max_rows);
void qs_work_free(qs_work_t *w);
/* The bytes qs_work_new allocates (the fp32 buffers; bf16 adds its own on first use). */
size_t qs_work_bytes(const qs_quine_spec_t *spec);
/* The precision of this workspace's regeneration and evaluation (qs_quine_predict_all,
 * qs_quine_accuracy; training stays fp32): QS_PREC_FP32 by default (OpenBLAS), or
 * QS_PREC_BF16 (oneDNN, core/mm.h) where the CPU has native bf16. Returns the precision
 * set: fp32 when bf16 was asked for on a CPU without it (qs_mm_effective says why). The
 * first bf16 call allocates the oneDNN context and its buffers, once. */
qs_precision_t qs_work_set_precision(qs_work_t *w, qs_precision_t p);
qs_precision_t qs_work_precision(const qs_work_t *w);
/* The oneDNN implementation the workspace's last new product shape got ("" at fp32). */
const char *qs_work_impl(const qs_work_t *w);

typedef struct {
    double loss;      /* L = L_SR' + lambda * L_task as optimised */
    double sr;        /* the replication term as optimised (sse, relative or r2 form) */
    double sse;       /* plain sum of squared errors over the batch's coordinates */
    double task;      /* L_task (cross-entropy, reduced as configured) */
    uint32_t correct; /* images of the batch classified correctly */
} qs_batch_stats_t;

/* Loss and gradient of one batch: coords[0..nc) (with targets t = targets[coords[k]];
 * targets may be theta itself) and images[0..ni) (indices into feat; feat may be NULL
 * when ni == 0; vanilla needs ni == 0). grad (N floats) is overwritten. stats may be
 * NULL. Single-threaded BLAS expected; allocation-free. */
void qs_quine_loss_grad(const qs_phys_t *phys, const float *theta, const float *targets,
                        const uint32_t *coords, size_t nc, const qs_features_t *feat,
                        const uint32_t *images, size_t ni, const qs_objective_t *obj,
                        qs_work_t *work, float *grad, qs_batch_stats_t *stats);

/* The self-prediction f_theta(C) for every coordinate (rest input on the image half),
 * in chunks through the workspace: pred[c] for c in [0, N). pred may alias nothing. */
void qs_quine_predict_all(const qs_phys_t *phys, const float *theta, float *pred, qs_work_t *work);

/* Classification of feat's images (zero coordinate input): returns accuracy in [0,1],
 * and the count correct in *correct if not NULL. */
double qs_quine_accuracy(const qs_phys_t *phys, const float *theta, const qs_features_t *feat,
                         qs_work_t *work, uint32_t *correct);

/* ---- FLOP counts (exact, by the convention in core/quine.c's header comment) ---------
 * Deterministic functions of the shapes (never of the data or of chunking). */
uint64_t qs_flops_step(const qs_quine_spec_t *spec, const qs_objective_t *obj, size_t nc,
                       size_t ni); /* forward + backward of one batch, without the optimizer */
uint64_t qs_flops_regen(const qs_quine_spec_t *spec);                /* one qs_quine_predict_all */
uint64_t qs_flops_eval(const qs_quine_spec_t *spec, size_t nimages); /* qs_quine_accuracy */
/* FLOPs actually executed by this thread's calls into quine.c since the last reset,
 * counted at each kernel call by the same convention: an independent check of the
 * formulas above (tests), and a cheap meter. */
uint64_t qs_flops_counted(void);
void qs_flops_counted_reset(void);

#endif
