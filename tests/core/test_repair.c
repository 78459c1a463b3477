/* Tests for core/repair, the self-repair protocol: its stages against the same steps done
 * one by one (damage, full or damaged-only regeneration, dist and restored), the stage
 * order, and the verdict's four cases. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/repair.h"
#include "core/vec.h"
#include "tests/core/qtest.h"

typedef struct {
    qs_repair_stage_t s[16];
    int n;
} seen_t;

static void keep(void *ctx, const qs_repair_stage_t *s)
{
    seen_t *v = ctx;
    cr_assert_lt(v->n, 16);
    v->s[v->n++] = *s;
}

/* The repair tests' network: small weights, so that regeneration stays finite. */
static void net_init(qt_net_t *t)
{
    qt_net_init(t, QS_KIND_VANILLA, 8, 2, QS_REST_ZERO);
    for (size_t i = 0; i < t->n; i++)
        t->theta[i] *= 0.3f;
}

/* The protocol done by hand: stage k's theta into `at` (k = 0 damaged, then cycles). */
static void by_hand(const qt_net_t *t, const qs_repair_cfg_t *cfg, float **at)
{
    const size_t n = t->n;
    unsigned char *hit = calloc(n, 1);
    float *pred = xaligned(n * sizeof *pred);
    memcpy(at[0], t->theta, n * sizeof(float));
    qs_damage_apply(at[0], n, cfg->damage, cfg->mode, cfg->seed, hit);
    for (uint64_t k = 1; k <= cfg->cycles; k++) {
        qs_quine_predict_all(t->phys, at[k - 1], pred, t->work);
        for (size_t i = 0; i < n; i++)
            at[k][i] = !cfg->only_damaged || hit[i] ? pred[i] : at[k - 1][i];
    }
    free(pred);
    free(hit);
}

static void check_against_hand(int only_damaged)
{
    qt_net_t t;
    net_init(&t);
    const size_t n = t.n;
    const qs_repair_cfg_t cfg = {.damage = 0.25,
                                 .mode = QS_DAMAGE_NOISE,
                                 .cycles = 3,
                                 .only_damaged = only_damaged,
                                 .seed = 9};
    seen_t v = {.n = 0};
    qs_repair_result_t r;
    qs_repair_run(t.phys, NULL, t.theta, &cfg, t.work, keep, &v, &r);
    cr_assert_eq(v.n, 6, "original, offspring, damaged, 3 cycles");
    static const char *const names[] = {"original", "offspring", "damaged",
                                        "cycle",    "cycle",     "cycle"};
    for (int i = 0; i < 6; i++) {
        cr_expect_str_eq(v.s[i].stage, names[i]);
        cr_expect_eq(v.s[i].cycle, i >= 3 ? (uint64_t)(i - 2) : 0);
        cr_expect(isnan(v.s[i].acc), "no test features");
    }
    float *at[4], *pred = xaligned(n * sizeof *pred), *child = xaligned(n * sizeof *child);
    for (int k = 0; k < 4; k++)
        at[k] = xaligned(n * sizeof(float));
    by_hand(&t, &cfg, at);
    qs_fidelity_t f;
    qs_quine_predict_all(t.phys, t.theta, pred, t.work);
    qs_fidelity_compute(&f, t.theta, pred, n);
    cr_expect_eq(v.s[0].f.r2, f.r2);
    cr_expect_eq(r.original.r2, f.r2);
    cr_expect_eq(v.s[0].dist, 0);
    cr_expect(isnan(v.s[0].restored), "nothing damaged yet");
    qs_quine_predict_all(t.phys, pred, child, t.work);
    qs_fidelity_compute(&f, pred, child, n);
    cr_expect_eq(v.s[1].f.r2, f.r2, "the offspring's own fidelity");
    const double o2 = qs_vec_sumsq(t.theta, n), dd = qs_vec_sqdist(at[0], t.theta, n);
    cr_expect_eq(r.damaged, (size_t)llround(0.25 * (double)n));
    cr_expect_eq(r.damage_dist, dd);
    for (int k = 0; k < 4; k++) {
        const qs_repair_stage_t *s = &v.s[2 + k];
        double d2 = qs_vec_sqdist(at[k], t.theta, n);
        qs_quine_predict_all(t.phys, at[k], pred, t.work);
        qs_fidelity_compute(&f, at[k], pred, n);
        cr_expect_eq(s->f.r2, f.r2, "stage %d", k);
        cr_expect_float_eq(s->dist, d2 / o2, 1e-12 * (d2 / o2), "stage %d", k);
        cr_expect_float_eq(s->restored, 1 - d2 / dd, 1e-9, "stage %d", k);
    }
    cr_expect_eq(r.final_dist, qs_vec_sqdist(at[3], t.theta, n));
    cr_expect_eq(r.repaired, r.final_dist < r.damage_dist);
    for (int k = 0; k < 4; k++)
        free(at[k]);
    free(pred);
    free(child);
    qt_net_free(&t);
}

Test(repair, stages_are_the_steps_done_by_hand)
{
    check_against_hand(0);
}

Test(repair, only_damaged_rewrites_only_the_damaged_weights)
{
    check_against_hand(1);
}

Test(repair, nothing_damaged_nothing_changed)
{
    qt_net_t t;
    net_init(&t);
    const qs_repair_cfg_t cfg = {.damage = 0, .cycles = 2, .only_damaged = 1, .seed = 1};
    qs_repair_result_t r;
    qs_repair_run(t.phys, NULL, t.theta, &cfg, t.work, NULL, NULL, &r);
    cr_expect_eq(r.damaged, 0);
    cr_expect_eq(r.damage_dist, 0);
    cr_expect_eq(r.final_dist, 0, "only damaged weights are rewritten, and there are none");
    cr_expect_eq(r.repaired, 0);
    qt_net_free(&t);
}

Test(repair, verdicts)
{
    const qs_repair_cfg_t cfg = {.damage = 0.1, .cycles = 3};
    qs_repair_result_t r = {.damaged = 10, .damage_dist = 4, .final_dist = 1};
    char b[768];
    r.original.r2 = 0.99;
    r.offspring.r2 = 0.5;
    r.copies = 1;
    qs_repair_verdict(&r, &cfg, b, sizeof b);
    cr_expect(!strncmp(b, "copies itself (R^2 = 0.99) but is not a stable replicator", 57), "%s",
              b);
    cr_expect(strstr(b, "only with R^2 = 0.5,"), "%s", b);
    cr_expect(strstr(b, "restored by 0.75 of the damage"), "%s", b);

    r.copies = 0;
    r.original.r2 = 0.2;
    r.original.rel_err = 0.8;
    r.original.zero_quine = 1;
    qs_repair_verdict(&r, &cfg, b, sizeof b);
    cr_expect(strstr(b, "not a good enough replicator to repair itself: its self-prediction "
                        "explains R^2 = 0.2 of its weight variance (relative error 0.8, and it "
                        "is a near-zero quine; a repairer needs R^2 >= 0.9)"),
              "%s", b);

    r = (qs_repair_result_t){
        .damaged = 10, .damage_dist = 4, .final_dist = 1, .copies = 1, .good = 1, .repaired = 1};
    r.original.r2 = 0.999;
    qs_repair_verdict(&r, &cfg, b, sizeof b);
    cr_expect_str_eq(b, "a good replicator (R^2 = 0.999): after 3 regenerations the genome is "
                        "closer to the original than right after the damage (restored 0.75 of "
                        "the damage's squared distance)");
    r.damaged = 0;
    qs_repair_verdict(&r, &cfg, b, sizeof b);
    cr_expect_str_eq(b, "a good replicator (R^2 = 0.999); nothing was damaged");
}
