/* life: one organism's life cycle, the biology of the simulator in one place.
 *
 * A species runtime (qs_life_species_t) is everything one species needs to live and be
 * judged: its physics (the fixed projections; for rest = mean, of the mean training
 * image), the data sets projected through them (features), a trainer and workspaces. It
 * is set up by ONE function, qs_life_species_init, from a data set, for every user: the
 * worker (tasks), `quinesim train`, `quinesim repair`, the run's final report and tests.
 *
 * A task (qs_life_task_t) is then three steps, each a pure function of (genome, config,
 * rng streams keyed by the run's seed):
 *   birth       child = f^k(parent) (self replication, k regenerations) or a copy of
 *               the parent; the link fidelity of that child against its parent; then
 *               mutation (each weight with probability rate, + N(0, sigma^2));
 *   life        `steps` training steps, the allowance the orchestrator paid for;
 *   evaluation  self-prediction fidelity f_theta(C) vs theta, and (aux) accuracy on the
 *               fitness set.
 * The task and result types are the domain's; proto/wire.h only encodes them. */
#ifndef QS_LIFE_H
#define QS_LIFE_H

#include <stddef.h>
#include <stdint.h>

#include "core/fertile.h"
#include "core/fidelity.h"
#include "core/idx.h"
#include "core/optim.h"
#include "core/quine.h"
#include "core/train.h"
#include "core/util.h"

/* Species in one run (bitmasks of species are uint32_t elsewhere; 16 leaves room). */
#define QS_MAX_SPECIES 16

/* What a species is: a name, a network spec, what its life optimises, how it starts. */
typedef struct {
    char name[QS_NAME_MAX];
    qs_quine_spec_t spec;
    qs_objective_t obj;
    qs_init_t init;
} qs_species_cfg_t;

/* How a child is made from its parent: by the network itself (the paper's
 * regeneration) or by copying the genome (the control). */
typedef enum { QS_REPLICATE_SELF = 0, QS_REPLICATE_COPY = 1 } qs_replicate_mode_t;
extern const qs_names_t qs_replicate_mode_names;                      /* "self", "copy" */
const char *qs_replicate_mode_name(qs_replicate_mode_t m);            /* "?" if unknown */
int qs_replicate_mode_parse(const char *s, qs_replicate_mode_t *out); /* 0 or QS_ERR(INVAL) */

/* Replication and mutation of a birth. */
typedef struct {
    qs_replicate_mode_t mode;
    uint32_t regenerations; /* k of T^k (self) */
    qs_regen_t regen;       /* T: plain f_theta(C) or standardized per layer (core/regen.h) */
    float mutation_sigma, mutation_rate;
} qs_birth_cfg_t;

/* What a life trains for. PAPER: the trainer's steps only. FERTILE: after them, `steps`
 * Levenberg-Marquardt steps of `quinesim train --recipe fertile` (core/fertile.h's
 * qs_fertile_lm_step on the copy, the contraction (weight 0.03) and the child's own copy
 * (weight 1), with the regeneration `regen`), each pair of them after five power-iteration
 * steps from a random direction drawn from the life's stream. */
typedef enum { QS_LIFE_RECIPE_PAPER = 0, QS_LIFE_RECIPE_FERTILE = 1 } qs_life_recipe_t;
extern const qs_names_t qs_life_recipe_names;                   /* "paper", "fertile" */
const char *qs_life_recipe_name(qs_life_recipe_t r);            /* "?" if unknown */
int qs_life_recipe_parse(const char *s, qs_life_recipe_t *out); /* 0 or QS_ERR(INVAL) */
#define QS_LIFE_FERTILE_C     0.03 /* the recipe's contraction weight */
#define QS_LIFE_FERTILE_CHILD 1.0  /* the recipe's weight of the child's copy error */

typedef struct {
    qs_life_recipe_t recipe;
    uint32_t steps;    /* FERTILE: Levenberg-Marquardt steps per life */
    uint32_t cg_iters; /* FERTILE: their conjugate-gradient iterations (0: 30) */
    qs_regen_t regen;  /* T of the fertile steps and of the child measure */
    int measure_child; /* evaluations also measure the child (qs_life_eval_t) */
} qs_life_fertility_t;

/* ---- tasks and their results --------------------------------------------------------- */

typedef enum {
    QS_TASK_LIVE = 1,  /* train `steps` steps, then evaluate */
    QS_TASK_BIRTH = 2, /* child = replicate(parent) + mutation, then live as above */
    QS_TASK_ECHO = 3   /* no compute: return the genome (protocol and orchestrator benches) */
} qs_task_kind_t;
const char *qs_task_kind_name(qs_task_kind_t k); /* "live" | "birth" | "echo"; NULL if unknown */

typedef struct {
    uint64_t task_id;
    qs_task_kind_t kind;
    uint64_t organism; /* who lives (BIRTH: the child's id) */
    uint64_t parent;   /* BIRTH: the parent's id; else 0 */
    uint32_t generation;
    uint32_t species; /* index into the run's species */
    uint64_t steps;   /* training steps paid for (the budget is applied by the orchestrator) */
    uint64_t life_stream, mutation_stream; /* rng streams (key = the run's seed) */
    uint32_t nweights;
    float *weights;  /* owned: the organism's (LIVE) or the parent's (BIRTH) genome */
    uint32_t config; /* which of the worker's configs (sim: the run of a sweep; 0 alone) */
} qs_life_task_t;

typedef struct {
    uint64_t task_id;
    uint64_t organism;
    uint64_t steps; /* steps taken */
    uint64_t flops_life, flops_replication, flops_eval;
    double train_loss;      /* mean optimised loss over the steps (NaN if 0) */
    double accuracy;        /* on the fitness set (vanilla: NaN) */
    qs_fidelity_t fidelity; /* self-prediction f(C) vs theta after life */
    int has_link;           /* BIRTH: the replication link below is valid */
    qs_fidelity_t link;     /* child before mutation vs parent */
    int has_child;          /* child_r2 and drift2_r2 were measured */
    double child_r2;        /* R^2 of T(T(theta)) against T(theta) after life */
    double drift2_r2;       /* R^2 of T(T(theta)) against theta after life */
    uint32_t mutated;       /* weights changed by mutation */
    double seconds;         /* worker wall time for the task */
    uint32_t nweights;
    float *weights; /* owned: the organism after its life */
} qs_life_result_t;

/* Free what a task or result owns (its weights); it can be reused. */
void qs_life_task_destroy(qs_life_task_t *t);
void qs_life_result_destroy(qs_life_result_t *r);

/* ---- a species runtime ----------------------------------------------------------------- */

typedef struct {
    /* aux only: the training split (the mean image for rest = mean, and the trainer's
     * features) and the fitness split (accuracy). Borrowed during init only, except
     * their labels, which the features borrow: keep both data sets alive. Vanilla: NULL. */
    const qs_dataset_t *train, *fitness;
    /* NULL: no trainer (evaluation only; the training features are not built). */
    const qs_train_cfg_t *train_cfg;
    /* Physics without the coordinate table: accuracy only (no replication, no life). */
    int classifier_only;
    size_t work_rows; /* the workspace's expected batch (see qs_work_new); 0 = 1 */
    /* NULL: the paper's life, no child measure. Copied. */
    const qs_life_fertility_t *fertility;
    /* Regeneration and evaluation (core/mm.h): QS_PREC_FP32 (zero, the default) or
     * QS_PREC_BF16; training stays fp32. */
    qs_precision_t precision;
} qs_life_setup_t;

typedef struct {
    qs_quine_spec_t spec;
    qs_phys_t *phys;
    qs_features_t train, fitness; /* aux: zeroed when not built */
    int has_train, has_fitness;
    qs_trainer_t *trainer; /* NULL without setup.train_cfg */
    qs_work_t *work;
    qs_precision_t precision;    /* in use: fp32 where bf16 was asked for without native bf16 */
    float *pred, *child, *grand; /* n floats each */
    size_t n;                    /* parameters */
    qs_life_fertility_t fertility;
    qs_fertile_t *fert; /* FERTILE lives */
} qs_life_species_t;

/* Set up s for spec (validated by the caller) from setup. Aux needs setup->train when
 * spec->rest is QS_REST_MEAN or a trainer is asked for; the data sets' images must have
 * spec->image_dim pixels. Returns 0, or QS_ERR(FORMAT)/QS_ERR(INVAL) with err naming the
 * problem (s then holds nothing). Caller-owned storage: qs_life_species_destroy. */
int qs_life_species_init(qs_life_species_t *s, const qs_quine_spec_t *spec,
                         const qs_life_setup_t *setup, qs_error_t *err);
void qs_life_species_destroy(qs_life_species_t *s);
/* The bytes qs_life_species_init allocates for spec, with ntrain training and nfitness
 * fitness images (aux) and train_cfg (NULL: no trainer), without building anything: what
 * one species costs a worker, for checking a run's memory before it starts. The fertile
 * recipe's workspaces (setup.fertility) are not counted. */
size_t qs_life_species_bytes(const qs_quine_spec_t *spec, uint32_t ntrain, uint32_t nfitness,
                             const qs_train_cfg_t *train_cfg);

/* ---- the three steps ------------------------------------------------------------------- */

/* Birth, in place: theta (s->n floats) holds the parent and becomes the child. Fills r's
 * link, has_link, mutated and flops_replication. Mutation draws from (seed, stream). */
void qs_life_birth(qs_life_species_t *s, const qs_birth_cfg_t *b, uint64_t seed, uint64_t stream,
                   float *theta, qs_life_result_t *r);
/* Life: up to `steps` training steps on theta in place, the rng (seed, stream); with the
 * fertile recipe, then its Levenberg-Marquardt steps (their draws from the same stream,
 * after the trainer's). Fills r's steps (the trainer's), flops_life (with an estimate of
 * the fertile steps': qs_life_fertile_flops) and train_loss. Needs a trainer. */
void qs_life_live(qs_life_species_t *s, uint64_t seed, uint64_t stream, uint64_t steps,
                  float *theta, qs_life_result_t *r);

/* FLOPs charged for one fertile step that took cg_iters CG iterations and `tries` trial
 * solves: each CG iteration 3 tangent and 3 adjoint passes, each energy 3 linearised
 * regenerations, a tangent or adjoint pass counted as 2 regenerations. An estimate. */
uint64_t qs_life_fertile_flops(const qs_quine_spec_t *spec, uint64_t cg_iters, uint64_t tries);

/* What an evaluation measures. */
typedef struct {
    qs_fidelity_t fidelity; /* f_theta(C) vs theta */
    /* with fertility.measure_child: theta_1 = T(theta), theta_2 = T(theta_1) (one more
     * regeneration); child_r2 = R^2 of theta_2 vs theta_1 (the child's own copy, i.e. the
     * 2nd generation's link of `quinesim fertility`), drift2_r2 = R^2 of theta_2 vs theta. */
    int has_child;
    double child_r2, drift2_r2;
    double accuracy; /* on the fitness features; NaN for vanilla or without them */
    uint64_t flops;
} qs_life_eval_t;
/* Evaluation of theta; s->pred is left holding f_theta(C). */
void qs_life_evaluate(qs_life_species_t *s, const float *theta, qs_life_eval_t *e);
/* Accuracy alone on the fitness features (works with classifier_only). */
double qs_life_accuracy(qs_life_species_t *s, const float *theta);

/* A whole task: birth (BIRTH), life, evaluation; ECHO returns the genome untouched. The
 * task's weights move into the result. Returns 0, or QS_ERR(MISMATCH) when the genome is
 * not of this species' size (err set, task untouched). The caller checks the species
 * index (s is the task's species). */
int qs_life_task_run(qs_life_species_t *s, const qs_birth_cfg_t *b, uint64_t seed,
                     qs_life_task_t *t, qs_life_result_t *r, qs_error_t *err);

/* Whether r can be a worker's answer to task t, for a species of spec whose fitness set
 * has nfitness images: 0, or QS_ERR(PEER) with err naming the first thing wrong. Checked:
 * the task and organism ids, the genome's size, steps and mutations within bounds, a link
 * exactly for a birth; then (not for echo tasks) the accuracy (aux with a fitness set:
 * k / nfitness for a whole k; else NaN), and every fidelity figure against the L_SR
 * reported and the weights (qs_fidelity_derive): the self-prediction's against r's
 * weights, a birth's link against the parent (t->weights; NULL: not checked). Weights
 * that are not finite pass only with the figures they give (rms NaN or inf): a diverging
 * self-mode lineage is a real outcome (scenarios/experiments/results.md, section 3), NaN weights
 * reported with a finite fidelity are not. Two passes over each genome, cheap beside the
 * task; what it cannot see is L_SR itself, which would take a regeneration. */
int qs_life_result_check(const qs_life_result_t *r, const qs_life_task_t *t,
                         const qs_quine_spec_t *spec, uint32_t nfitness, qs_error_t *err);

#endif
