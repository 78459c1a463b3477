/* schedule: train's periods of gradient, regeneration, Newton and fertile steps, and
 * their reports (see schedule.h). */
#include "core/schedule.h"

#include <stdlib.h>
#include <string.h>

#include "core/newton.h"
#include "core/optim.h"
#include "core/rng.h"
#include "core/util.h"

void qs_schedule_plan(qs_schedule_cfg_t *cfg, const qs_life_species_t *sp, const qs_train_cfg_t *tc,
                      uint64_t epochs, int epoch_images, uint64_t steps, uint64_t report_every)
{
    uint64_t period = qs_trainer_epoch_steps(sp->trainer), reports = epochs;
    if (epoch_images) {
        uint64_t per_step = tc->obj.pairing == QS_PAIR_PAIRED
                                ? (tc->batch ? tc->batch : sp->n)
                                : (tc->images ? tc->images : (tc->batch ? tc->batch : 100));
        period = (sp->train.count + per_step - 1) / per_step;
    }
    if (steps) {
        if (report_every)
            period = report_every;
        reports = (steps + period - 1) / period;
    }
    cfg->reports = reports;
    cfg->period = period;
    cfg->steps = steps;
}

/* What a schedule holds while it runs. */
typedef struct {
    qs_life_species_t *sp;
    float *theta;
    const qs_schedule_cfg_t *cfg;
    const qs_schedule_hooks_t *hooks;
    int aux;
    qs_newton_t *nt;
    uint32_t *keep;
    uint64_t newton_flops, done;
    qs_fertile_t *fert;
    qs_opt_t fopt;
    qs_rng_t frng;
    double lm_mu;
} run_t;

static void progress(const run_t *r, uint64_t done, uint64_t total, const char *label)
{
    if (r->hooks->progress)
        r->hooks->progress(r->hooks->ctx, done, total, label);
}

static void setup(run_t *r)
{
    const qs_schedule_cfg_t *c = r->cfg;
    const qs_phys_t *phys = r->sp->phys;
    if (c->newton) {
        qs_newton_cfg_t ncfg = qs_newton_defaults();
        if (c->newton_cg)
            ncfg.cg_iters = c->newton_cg;
        r->nt = qs_newton_new(phys, &ncfg);
        if (r->aux && c->newton_keep) {
            r->keep = xmalloc(c->newton_keep * sizeof *r->keep);
            size_t k = QS_MIN((size_t)c->newton_keep, (size_t)r->sp->train.count);
            for (size_t i = 0; i < k; i++)
                r->keep[i] = (uint32_t)i;
            qs_newton_keep_logits(r->nt, &r->sp->train, r->keep, k, c->newton_keep_weight);
        }
    }
    r->lm_mu = 1;
    if (c->fertile || c->fertile_newton) {
        r->fert = qs_fertile_new(phys, &c->fcfg, c->seed);
        qs_opt_cfg_t ocfg = qs_opt_defaults(QS_OPT_ADAM);
        ocfg.lr = (float)c->fertile_lr;
        qs_opt_init(&r->fopt, &ocfg, r->sp->n);
        qs_rng_init(&r->frng, c->seed, qs_rng_stream(QS_STREAM_LIFE, 1));
    }
}

static void teardown(run_t *r)
{
    qs_newton_free(r->nt);
    free(r->keep);
    if (r->fert) {
        qs_fertile_free(r->fert);
        qs_opt_destroy(&r->fopt);
    }
}

/* Period e's work (e >= 1) into row's regen, newton and fert. */
static void period(run_t *r, uint64_t e, qs_schedule_report_t *row)
{
    const qs_schedule_cfg_t *c = r->cfg;
    uint64_t todo = c->steps ? QS_MIN(c->period, c->steps - r->done) : c->period;
    uint64_t chunk = QS_MAX(todo / 200, 1), did = 0;
    char label[64];
    snprintf(label, sizeof label, "epoch %llu/%llu", (unsigned long long)e,
             (unsigned long long)c->reports);
    while (!c->no_gradient && did < todo) {
        did += qs_trainer_run(r->sp->trainer, QS_MIN(chunk, todo - did));
        progress(r, did, todo, label);
    }
    r->done += todo;
    if (c->regen_every && e % c->regen_every == 0) {
        /* with fertile steps, the offspring their objective follows */
        const int fertile = c->fertile || c->fertile_newton;
        qs_trainer_regenerate_as(r->sp->trainer, fertile ? c->fcfg.regen : QS_REGEN_PLAIN);
        row->regen = 1;
    }
    for (uint64_t k = 0; k < c->newton; k++) {
        qs_newton_stats_t ns;
        qs_newton_step(r->nt, r->theta, &ns);
        r->newton_flops += ns.flops;
        row->newton += (uint64_t)ns.accepted;
        progress(r, k + 1, c->newton, "newton");
    }
    for (uint64_t k = 0; k < c->fertile; k++) {
        qs_fertile_run_t fr;
        qs_fertile_run(r->fert, &r->fopt, r->theta, r->aux ? &r->sp->train : NULL,
                       c->fertile_images, &r->frng, 1, &fr);
        row->fert.steps += fr.steps;
        row->fert.loss_sum += fr.loss_sum;
        row->fert.rho_power = fr.rho_power;
        row->fert.last = fr.last;
        progress(r, k + 1, c->fertile, "fertile");
    }
    if (c->fertile_newton)
        for (int k = 0; k < 5; k++)
            row->fert.rho_power = qs_fertile_power_step(r->fert, r->theta);
    for (uint64_t k = 0; k < c->fertile_newton; k++) {
        qs_fertile_lm_stats_t ls;
        qs_fertile_lm_step(r->fert, r->theta, c->fertile_newton_c, c->fertile_newton_child,
                           c->newton_cg ? c->newton_cg : 30, &r->lm_mu, &ls);
        row->fert.steps++;
        row->fert.loss_sum += ls.after;
        row->fert.last.rho_hat = ls.rho_hat;
        row->fert.last.stretch_hat = ls.stretch_hat;
        progress(r, k + 1, c->fertile_newton, "fertile newton");
    }
    progress(r, 0, 0, NULL);
}

void qs_schedule_run(qs_life_species_t *sp, float *theta, const qs_schedule_cfg_t *cfg,
                     const qs_schedule_hooks_t *hooks, qs_schedule_report_t *last, double *seconds)
{
    run_t r = {.sp = sp, .theta = theta, .cfg = cfg, .hooks = hooks};
    r.aux = sp->spec.kind == QS_KIND_AUX;
    setup(&r);
    qs_schedule_report_t row;
    memset(&row, 0, sizeof row);
    double total = 0;
    for (uint64_t e = 0; e <= cfg->reports; e++) {
        const qs_train_stats_t *st = qs_trainer_stats(sp->trainer);
        uint64_t steps0 = st->steps, seen0 = st->seen, correct0 = st->correct;
        double loss0 = st->loss_sum, sse0 = st->sse_sum;
        double t0 = qs_now();
        row.regen = 0;
        if (e > 0) {
            row.newton = 0;
            memset(&row.fert, 0, sizeof row.fert);
            period(&r, e, &row);
        }
        double dt = qs_now() - t0;
        total += dt;
        uint64_t k = st->steps - steps0;
        row.epoch = cfg->steps ? st->epochs : e; /* with steps: completed coordinate epochs */
        row.steps = st->steps;
        row.flops = st->flops + r.newton_flops;
        row.seconds = dt;
        row.loss = k ? (st->loss_sum - loss0) / (double)k : 0;
        row.l_sr_run = st->sse_sum - sse0;
        row.train_acc =
            st->seen > seen0 ? (double)(st->correct - correct0) / (double)(st->seen - seen0) : 0;
        qs_life_eval_t ev;
        qs_life_evaluate(sp, theta, &ev);
        row.fidelity = ev.fidelity;
        row.acc = ev.accuracy;
        if (hooks->report)
            hooks->report(hooks->ctx, &row);
    }
    teardown(&r);
    *last = row;
    if (seconds)
        *seconds = total;
}
