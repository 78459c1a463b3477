/* Tests for core/schedule, train's schedule: the plan (periods and reports for epochs,
 * image epochs and a step total), a run against the same trainer calls made by hand
 * (periods, regeneration every K, a step total cutting the last period; the same bits),
 * the reports' counts, and Newton-only periods that take no gradient step and count
 * their FLOPs. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/schedule.h"
#include "tests/core/qtest.h"

typedef struct {
    qs_quine_spec_t spec;
    qs_train_cfg_t tc;
    qs_life_species_t sp;
    float *theta;
} fx_t;

static void fx_init(fx_t *f)
{
    memset(f, 0, sizeof *f);
    f->spec = qs_quine_spec_default(QS_KIND_VANILLA, 5);
    f->spec.hidden = 8;
    f->tc = qs_train_cfg_paper(QS_KIND_VANILLA);
    qs_life_setup_t setup = {.train_cfg = &f->tc, .work_rows = 16};
    qs_error_t err = {0};
    cr_assert_eq(qs_life_species_init(&f->sp, &f->spec, &setup, &err), 0, "%s", err.msg);
    f->theta = xaligned(f->sp.n * sizeof(float));
    qs_rng_t r;
    qs_rng_init(&r, 9, qs_rng_stream(QS_STREAM_INIT, 0));
    qs_quine_init_weights(&f->spec, QS_INIT_UNIFORM, &r, f->theta);
    qs_rng_init(&r, 9, qs_rng_stream(QS_STREAM_LIFE, 0));
    qs_trainer_begin(f->sp.trainer, f->theta, &r);
}

static void fx_free(fx_t *f)
{
    qs_life_species_destroy(&f->sp);
    free(f->theta);
}

typedef struct {
    qs_schedule_report_t r[16];
    int n;
} seen_t;

static void keep(void *ctx, const qs_schedule_report_t *r)
{
    seen_t *v = ctx;
    cr_assert_lt(v->n, 16);
    v->r[v->n++] = *r;
}

Test(schedule, plan)
{
    fx_t f;
    fx_init(&f);
    const uint64_t epoch = qs_trainer_epoch_steps(f.sp.trainer);
    cr_assert_gt(epoch, 1);
    qs_schedule_cfg_t c = {0};
    qs_schedule_plan(&c, &f.sp, &f.tc, 5, 0, 0, 0);
    cr_expect_eq(c.reports, 5);
    cr_expect_eq(c.period, epoch);
    cr_expect_eq(c.steps, 0);
    qs_schedule_plan(&c, &f.sp, &f.tc, 5, 0, 25, 10);
    cr_expect_eq(c.reports, 3, "25 steps reported every 10: 10, 20, 25");
    cr_expect_eq(c.period, 10);
    cr_expect_eq(c.steps, 25);
    qs_schedule_plan(&c, &f.sp, &f.tc, 5, 0, 2 * epoch + 1, 0);
    cr_expect_eq(c.reports, 3, "one epoch per report by default");
    cr_expect_eq(c.period, epoch);
    fx_free(&f);
}

/* cfg's run against the trainer driven by hand on a second, identical fixture. */
static void check_by_hand(qs_schedule_cfg_t *c)
{
    fx_t a, b;
    fx_init(&a);
    fx_init(&b);
    seen_t v = {.n = 0};
    const qs_schedule_hooks_t hooks = {keep, NULL, &v};
    qs_schedule_report_t last;
    double secs = -1;
    qs_schedule_run(&a.sp, a.theta, c, &hooks, &last, &secs);
    cr_assert_eq(v.n, (int)c->reports + 1, "a report before the first period and after each");
    cr_expect_geq(secs, 0);
    uint64_t done = 0;
    for (uint64_t e = 0; e <= c->reports; e++) {
        if (e > 0) {
            uint64_t todo = c->steps ? QS_MIN(c->period, c->steps - done) : c->period;
            done += qs_trainer_run(b.sp.trainer, todo);
            if (c->regen_every && e % c->regen_every == 0)
                qs_trainer_regenerate(b.sp.trainer);
        }
        const qs_schedule_report_t *r = &v.r[e];
        cr_expect_eq(r->steps, done, "report %llu", (unsigned long long)e);
        cr_expect_eq(r->regen, e > 0 && c->regen_every && e % c->regen_every == 0);
        if (!c->steps)
            cr_expect_eq(r->epoch, e);
    }
    cr_expect_arr_eq(a.theta, b.theta, a.sp.n * sizeof(float), "the same bits");
    qs_life_eval_t ev;
    qs_life_evaluate(&b.sp, b.theta, &ev);
    cr_expect_eq(last.fidelity.l_sr, ev.fidelity.l_sr);
    cr_expect_eq(last.steps, done);
    cr_expect_eq(last.flops, qs_trainer_stats(b.sp.trainer)->flops);
    cr_expect(isnan(last.acc), "vanilla: no accuracy");
    fx_free(&a);
    fx_free(&b);
}

Test(schedule, epochs_with_regeneration_are_the_trainer_calls)
{
    fx_t f;
    fx_init(&f);
    qs_schedule_cfg_t c = {.regen_every = 2};
    qs_schedule_plan(&c, &f.sp, &f.tc, 4, 0, 0, 0);
    fx_free(&f);
    check_by_hand(&c);
}

Test(schedule, a_step_total_cuts_the_last_period)
{
    fx_t f;
    fx_init(&f);
    qs_schedule_cfg_t c = {0};
    qs_schedule_plan(&c, &f.sp, &f.tc, 0, 0, 25, 10);
    fx_free(&f);
    check_by_hand(&c);
}

Test(schedule, newton_only)
{
    fx_t f;
    fx_init(&f);
    qs_schedule_cfg_t c = {.no_gradient = 1, .newton = 3};
    qs_schedule_plan(&c, &f.sp, &f.tc, 2, 0, 0, 0);
    seen_t v = {.n = 0};
    const qs_schedule_hooks_t hooks = {keep, NULL, &v};
    qs_schedule_report_t last;
    qs_schedule_run(&f.sp, f.theta, &c, &hooks, &last, NULL);
    cr_assert_eq(v.n, 3);
    qs_life_eval_t ev;
    qs_life_evaluate(&f.sp, f.theta, &ev);
    cr_expect_eq(last.fidelity.l_sr, ev.fidelity.l_sr, "the last report is of the final theta");
    for (int e = 0; e < 3; e++) {
        cr_expect_eq(v.r[e].steps, 0, "no gradient step");
        if (e > 0) {
            cr_expect_leq(v.r[e].newton, 3);
            cr_expect_gt(v.r[e].flops, v.r[e - 1].flops, "Newton's FLOPs are counted");
        }
    }
    fx_free(&f);
}

/* Fertile LM steps with a regeneration every period follow the lineage: each period
 * replaces theta by its child under the fertile objective's regeneration (here
 * standardized), then takes 5 power steps and the LM steps; by hand with the library. */
Test(schedule, fertile_steps_follow_the_lineage)
{
    fx_t a, b;
    fx_init(&a);
    fx_init(&b);
    qs_schedule_cfg_t c = {.no_gradient = 1,
                           .regen_every = 1,
                           .fertile_newton = 1,
                           .fertile_newton_c = 0.03,
                           .fertile_newton_child = 1,
                           .fcfg = qs_fertile_defaults(),
                           .seed = 3};
    c.fcfg.regen = QS_REGEN_STANDARDIZE;
    qs_schedule_plan(&c, &a.sp, &a.tc, 2, 0, 0, 0);
    seen_t v = {.n = 0};
    const qs_schedule_hooks_t hooks = {keep, NULL, &v};
    qs_schedule_report_t last;
    qs_schedule_run(&a.sp, a.theta, &c, &hooks, &last, NULL);

    const size_t n = b.sp.n;
    qs_fertile_t *f = qs_fertile_new(b.sp.phys, &c.fcfg, c.seed);
    qs_work_t *w = qs_work_new(&b.spec, 1);
    float *p = malloc(n * sizeof *p);
    double mu = 1;
    for (int e = 0; e < 2; e++) {
        qs_quine_predict_all(b.sp.phys, b.theta, p, w);
        qs_regen_apply(&b.spec, QS_REGEN_STANDARDIZE, b.theta, p);
        memcpy(b.theta, p, n * sizeof *p);
        for (int k = 0; k < 5; k++)
            qs_fertile_power_step(f, b.theta);
        qs_fertile_lm_stats_t ls;
        qs_fertile_lm_step(f, b.theta, c.fertile_newton_c, c.fertile_newton_child, 30, &mu, &ls);
    }
    cr_expect_arr_eq(a.theta, b.theta, n * sizeof(float), "the same bits");
    cr_expect_eq(last.regen, 1);
    qs_fertile_free(f);
    qs_work_free(w);
    free(p);
    fx_free(&a);
    fx_free(&b);
}
