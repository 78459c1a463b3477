/* schedule: the training schedule of `quinesim train`, as a library function.
 *
 * A run is `reports` periods, with a report before the first and after each. A period
 * is, in this order: `period` gradient steps of the species' trainer (unless none are
 * asked for; with a total of `steps`, the last period stops there); a regeneration
 * (theta <- f_theta(C); with fertile steps theta <- T(theta), the offspring of their
 * fcfg.regen: the genome is replaced by its child, and training follows the lineage)
 * after every `regen_every`-th period; `newton` Levenberg-Marquardt
 * replication steps (core/newton.h), keeping the logits of the first `newton_keep`
 * training images for aux; `fertile` Adam steps on the fertility objective
 * (core/fertile.h) on `fertile_images` random training images; then, with
 * `fertile_newton`, five power-iteration steps and that many Levenberg-Marquardt steps on
 * copy + contraction. Each report holds what the period did and an evaluation of theta
 * (qs_life_evaluate: fidelity, accuracy on the fitness features). */
#ifndef QS_SCHEDULE_H
#define QS_SCHEDULE_H

#include <stdint.h>

#include "core/fertile.h"
#include "core/fidelity.h"
#include "core/life.h"
#include "core/train.h"

typedef struct {
    uint64_t reports;     /* periods */
    uint64_t period;      /* gradient steps per period */
    uint64_t steps;       /* 0: every period is whole; else the total of gradient steps */
    uint64_t regen_every; /* 0: never */
    int no_gradient;      /* no gradient steps at all */
    uint64_t newton;      /* Levenberg-Marquardt replication steps per period */
    uint32_t newton_cg;   /* their CG iterations (0: core/newton.h's default; 30 for fertile) */
    uint64_t newton_keep; /* aux: images whose logits they keep (0: none) */
    double newton_keep_weight;
    uint64_t fertile; /* Adam steps of the fertility objective per period */
    qs_fertile_cfg_t fcfg;
    double fertile_lr;
    uint32_t fertile_images;
    uint64_t fertile_newton; /* Levenberg-Marquardt steps on copy + contraction per period */
    double fertile_newton_c, fertile_newton_child;
    uint64_t seed; /* the fertility objective's draws (QS_STREAM_LIFE, id 1) */
} qs_schedule_cfg_t;

/* The reports and periods for `epochs` epochs of the trainer, counted in steps over
 * the coordinates (default) or, with epoch_images, over the training images; or, with
 * steps > 0, that many steps reported every report_every (0: one epoch). Sets cfg's
 * reports, period and steps. */
void qs_schedule_plan(qs_schedule_cfg_t *cfg, const qs_life_species_t *sp, const qs_train_cfg_t *tc,
                      uint64_t epochs, int epoch_images, uint64_t steps, uint64_t report_every);

/* One report. */
typedef struct {
    uint64_t epoch;  /* the period (with steps > 0: completed coordinate epochs) */
    uint64_t steps;  /* gradient steps so far */
    uint64_t flops;  /* so far, the trainer's and the Newton steps' */
    double seconds;  /* of the period */
    double loss;     /* mean loss of its gradient steps (0 without) */
    double l_sr_run; /* their summed replication SSE */
    double train_acc;
    int regen;              /* regenerated in the period */
    uint64_t newton;        /* accepted Newton steps in the period */
    qs_fertile_run_t fert;  /* the period's fertile steps */
    qs_fidelity_t fidelity; /* of theta after the period */
    double acc;             /* on the fitness features (NaN for vanilla) */
} qs_schedule_report_t;

typedef struct {
    void (*report)(void *ctx, const qs_schedule_report_t *r);
    /* progress within a period's phase ("epoch 3/30", "newton", ...); label NULL: the
     * period's work is done. May be NULL. */
    void (*progress)(void *ctx, uint64_t done, uint64_t total, const char *label);
    void *ctx;
} qs_schedule_hooks_t;

/* Train theta (sp->n floats, the trainer already begun on it) by the schedule. *last
 * gets the final report; *seconds (may be NULL) the time of all periods. */
void qs_schedule_run(qs_life_species_t *sp, float *theta, const qs_schedule_cfg_t *cfg,
                     const qs_schedule_hooks_t *hooks, qs_schedule_report_t *last, double *seconds);

#endif
