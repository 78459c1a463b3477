/* repair: damage, regenerate, measure, judge (see repair.h). */
#include "core/repair.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"
#include "core/vec.h"

typedef struct {
    const qs_phys_t *phys;
    const qs_features_t *test;
    qs_work_t *work;
    const float *orig;
    size_t n;
    double damage_dist;
    qs_repair_stage_fn on_stage;
    void *ctx;
} run_t;

/* Measure theta (pred gets f_theta(C)) and report it as stage. */
static void measure(const run_t *r, const char *stage, uint64_t cycle, const float *theta,
                    float *pred, qs_fidelity_t *f_out)
{
    qs_repair_stage_t s = {.stage = stage, .cycle = cycle};
    qs_quine_predict_all(r->phys, theta, pred, r->work);
    qs_fidelity_compute(&s.f, theta, pred, r->n);
    double d2 = qs_vec_sqdist(theta, r->orig, r->n), o2 = qs_vec_sumsq(r->orig, r->n);
    s.dist = o2 > 0 ? d2 / o2 : (d2 > 0 ? INFINITY : 0);
    s.restored = r->damage_dist > 0 ? 1.0 - d2 / r->damage_dist : NAN;
    s.acc = r->test ? qs_quine_accuracy(r->phys, theta, r->test, r->work, NULL) : NAN;
    if (f_out)
        *f_out = s.f;
    if (r->on_stage)
        r->on_stage(r->ctx, &s);
}

void qs_repair_run(const qs_phys_t *phys, const qs_features_t *test, const float *theta0,
                   const qs_repair_cfg_t *cfg, qs_work_t *work, qs_repair_stage_fn on_stage,
                   void *ctx, qs_repair_result_t *out)
{
    const size_t n = qs_phys_nparams(phys);
    float *theta = xaligned(n * sizeof *theta), *pred = xaligned(n * sizeof *pred);
    unsigned char *hit = xcalloc(n, 1);
    memcpy(theta, theta0, n * sizeof *theta);
    memset(out, 0, sizeof *out);
    run_t r = {phys, test, work, theta0, n, 0, on_stage, ctx};

    measure(&r, "original", 0, theta, pred, &out->original);
    /* The offspring of the undamaged genome (pred = f_theta0(C)) and how well IT copies
     * itself: a fixed point that regeneration moves away from cannot repair anything. */
    float *child_pred = xaligned(n * sizeof *child_pred);
    qs_quine_predict_all(phys, pred, child_pred, work);
    qs_fidelity_compute(&out->offspring, pred, child_pred, n);
    free(child_pred);
    if (on_stage) {
        qs_repair_stage_t s = {
            .stage = "offspring", .f = out->offspring, .dist = NAN, .restored = NAN, .acc = NAN};
        on_stage(ctx, &s);
    }

    out->damaged = qs_damage_apply(theta, n, cfg->damage, cfg->mode, cfg->seed, hit);
    r.damage_dist = out->damage_dist = qs_vec_sqdist(theta, theta0, n);
    measure(&r, "damaged", 0, theta, pred, NULL);
    for (uint64_t cy = 1; cy <= cfg->cycles; cy++) {
        qs_quine_predict_all(phys, theta, pred, work);
        for (size_t i = 0; i < n; i++)
            if (!cfg->only_damaged || hit[i])
                theta[i] = pred[i];
        measure(&r, "cycle", cy, theta, pred, NULL);
    }

    out->final_dist = qs_vec_sqdist(theta, theta0, n);
    out->copies = out->original.r2 >= QS_REPAIR_MIN_R2 && !out->original.zero_quine;
    out->good = out->copies && out->offspring.r2 >= QS_REPAIR_MIN_R2;
    out->repaired = out->damage_dist > 0 && out->final_dist < out->damage_dist;
    free(theta);
    free(pred);
    free(hit);
}

void qs_repair_verdict(const qs_repair_result_t *r, const qs_repair_cfg_t *cfg, char *buf,
                       size_t cap)
{
    const double r2 = r->original.r2;
    const double restored = r->damage_dist > 0 ? 1.0 - r->final_dist / r->damage_dist : 0.0;
    if (r->copies && !r->good)
        snprintf(buf, cap,
                 "copies itself (R^2 = %.4g) but is not a stable replicator: its offspring "
                 "f(theta_0) copies itself only with R^2 = %.3g, so repeated regeneration "
                 "amplifies errors instead of removing them; it cannot repair itself (distance "
                 "to the original restored by %.3g of the damage)",
                 r2, r->offspring.r2, restored);
    else if (!r->good)
        snprintf(buf, cap,
                 "not a good enough replicator to repair itself: its self-prediction explains "
                 "R^2 = %.3g of its weight variance (relative error %.3g%s; a repairer needs "
                 "R^2 >= %.2g), so regeneration rewrites the genome toward what the network "
                 "can predict, not back to the original (distance to the original restored "
                 "by %.3g of the damage)",
                 r2, r->original.rel_err,
                 r->original.zero_quine ? ", and it is a near-zero quine" : "", QS_REPAIR_MIN_R2,
                 restored);
    else if (cfg->cycles == 0 || r->damaged == 0)
        snprintf(buf, cap, "a good replicator (R^2 = %.4g); nothing was %s", r2,
                 r->damaged == 0 ? "damaged" : "regenerated");
    else
        snprintf(buf, cap,
                 "a good replicator (R^2 = %.4g): after %llu regenerations the genome is %s "
                 "(restored %.3g of the damage's squared distance)",
                 r2, (unsigned long long)cfg->cycles,
                 r->repaired ? "closer to the original than right after the damage"
                             : "NOT closer to the original than right after the damage",
                 1.0 - r->final_dist / r->damage_dist);
}
