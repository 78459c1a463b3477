/* Tests for core/newton: the Jacobian-vector products against central differences of the
 * double-precision reference (tests/core/qtest.h), the transpose products by adjointness,
 * and Levenberg-Marquardt steps that lower 1 - R^2 and are deterministic. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/fidelity.h"
#include "core/newton.h"
#include "tests/core/qtest.h"

typedef struct {
    qs_quine_spec_t spec;
    qs_phys_t *phys;
    size_t n;
    float *theta;
    double *thd;
    uint32_t *coords;
} net_t;

static void net_init(net_t *t, qs_kind_t kind, uint32_t hidden, uint32_t depth, qs_rest_t rest)
{
    t->spec = qs_quine_spec_default(kind, 17);
    t->spec.hidden = hidden;
    t->spec.depth = depth;
    float mean[20];
    if (kind == QS_KIND_AUX) {
        t->spec.image_dim = 20;
        t->spec.classes = 3;
        t->spec.rest = rest;
        for (int i = 0; i < 20; i++)
            mean[i] = (float)(i % 5) / 5.0f;
    }
    t->phys = qs_phys_new(&t->spec, mean);
    t->n = qs_phys_nparams(t->phys);
    t->theta = malloc(t->n * sizeof(float));
    t->thd = malloc(t->n * sizeof(double));
    t->coords = malloc(t->n * sizeof(uint32_t));
    qs_rng_t r;
    qs_rng_init(&r, 3, qs_rng_stream(QS_STREAM_INIT, 0));
    qs_quine_init_weights(&t->spec, QS_INIT_HE, &r, t->theta);
    for (size_t i = 0; i < t->n; i++) {
        t->thd[i] = t->theta[i];
        t->coords[i] = (uint32_t)i;
    }
}

static void net_free(net_t *t)
{
    qs_phys_free(t->phys);
    free(t->theta);
    free(t->thd);
    free(t->coords);
}

/* f_theta(C) in double by the reference. */
static void ref_pred(net_t *t, const double *th, double *out)
{
    qs_objective_t obj = {QS_SR_SSE, 0, 1, QS_REDUCE_SUM, QS_PAIR_SEPARATE};
    qt_ref_loss(t->phys, th, t->theta, t->coords, t->n, NULL, NULL, 0, &obj, out, NULL);
}

static void check_products(qs_kind_t kind, uint32_t hidden, uint32_t depth, qs_rest_t rest)
{
    net_t t;
    net_init(&t, kind, hidden, depth, rest);
    size_t n = t.n;
    qs_newton_t *nt = qs_newton_new(t.phys, NULL);
    qs_newton_linearize(nt, t.theta);
    float *v = malloc(n * sizeof *v), *u = malloc(n * sizeof *u), *jv = malloc(n * sizeof *jv),
          *jtu = malloc(n * sizeof *jtu);
    double *p = malloc(n * sizeof *p), *m = malloc(n * sizeof *m), *th = calloc(n, sizeof *th);
    qs_rng_t r;
    qs_rng_init(&r, 5, qs_rng_stream(QS_STREAM_TEST, 9));
    for (size_t i = 0; i < n; i++) {
        v[i] = (float)qs_rng_normal(&r);
        u[i] = (float)qs_rng_normal(&r);
    }
    /* The cached prediction is f_theta(C). */
    ref_pred(&t, t.thd, p);
    for (size_t i = 0; i < n; i++)
        cr_assert_lt(fabs(qs_newton_prediction(nt)[i] - p[i]), 2e-5 * (1 + fabs(p[i])));
    /* J v against central differences. */
    qs_newton_jvp(nt, v, jv);
    const double eps = 1e-6;
    for (size_t i = 0; i < n; i++)
        th[i] = t.thd[i] + eps * v[i];
    ref_pred(&t, th, p);
    for (size_t i = 0; i < n; i++)
        th[i] = t.thd[i] - eps * v[i];
    ref_pred(&t, th, m);
    double scale = 0;
    for (size_t i = 0; i < n; i++)
        scale = fmax(scale, fabs((p[i] - m[i]) / (2 * eps)));
    for (size_t i = 0; i < n; i++) {
        double fd = (p[i] - m[i]) / (2 * eps);
        cr_assert_lt(fabs(jv[i] - fd), 1e-3 * fabs(fd) + 1e-4 * scale,
                     "kind %d rest %d: (J v)[%zu] = %g, differences %g", kind, rest, i, jv[i], fd);
    }
    /* J^T u by adjointness: u . (J v) = (J^T u) . v */
    qs_newton_vjp(nt, u, jtu);
    double a = 0, b = 0, na = 0;
    for (size_t i = 0; i < n; i++) {
        a += (double)u[i] * jv[i];
        b += (double)jtu[i] * v[i];
        na += fabs((double)u[i] * jv[i]);
    }
    cr_expect_lt(fabs(a - b), 1e-5 * na, "kind %d: u.Jv %g, J^Tu.v %g", kind, a, b);
    if (kind == QS_KIND_AUX) { /* the class head does not move f */
        qs_param_group_t g[4];
        size_t ng = qs_quine_param_groups(&t.spec, g, 4);
        for (size_t i = 0; i < g[ng - 1].count; i++)
            cr_assert_eq(jtu[g[ng - 1].offset + i], 0.0f);
    }
    qs_newton_free(nt);
    net_free(&t);
    free(v);
    free(u);
    free(jv);
    free(jtu);
    free(p);
    free(m);
    free(th);
}

Test(newton, products_vanilla)
{
    check_products(QS_KIND_VANILLA, 7, 2, QS_REST_ZERO);
    check_products(QS_KIND_VANILLA, 5, 3, QS_REST_ZERO);
    check_products(QS_KIND_VANILLA, 6, 1, QS_REST_ZERO);
}

Test(newton, products_aux)
{
    check_products(QS_KIND_AUX, 8, 2, QS_REST_ZERO);
    check_products(QS_KIND_AUX, 7, 2, QS_REST_MEAN);
}

/* Steps never raise 1 - R^2; a few of them turn a random network into a much better
 * copier; the same start gives the same bits. */
Test(newton, steps_lower_one_minus_r2, .timeout = 60)
{
    net_t t;
    net_init(&t, QS_KIND_VANILLA, 8, 2, QS_REST_ZERO);
    float *copy = malloc(t.n * sizeof *copy), *pred = malloc(t.n * sizeof *pred);
    memcpy(copy, t.theta, t.n * sizeof *copy);
    qs_newton_t *nt = qs_newton_new(t.phys, NULL);
    qs_newton_stats_t st, first = {0};
    double last = INFINITY;
    for (int s = 0; s < 15; s++) {
        qs_newton_step(nt, t.theta, &st);
        if (s == 0)
            first = st;
        cr_expect_leq(st.after, st.before);
        cr_expect(st.accepted || st.after == st.before);
        cr_expect_gt(st.flops, 0);
        last = st.after;
    }
    cr_expect_lt(last, 0.2 * first.before, "1 - R^2 %g -> %g", first.before, last);
    qs_fidelity_t f;
    qs_work_t *w = qs_work_new(&t.spec, 1);
    qs_quine_predict_all(t.phys, t.theta, pred, w);
    qs_fidelity_compute(&f, t.theta, pred, t.n);
    cr_expect_lt(fabs((1 - f.r2) - last), 1e-4, "the step's figure is 1 - R^2");
    cr_expect_eq(f.zero_quine, 0);

    qs_newton_t *nt2 = qs_newton_new(t.phys, NULL);
    for (int s = 0; s < 15; s++)
        qs_newton_step(nt2, copy, NULL);
    cr_expect(!memcmp(copy, t.theta, t.n * sizeof *copy), "deterministic");
    qs_work_free(w);
    qs_newton_free(nt);
    qs_newton_free(nt2);
    free(copy);
    free(pred);
    net_free(&t);
}

Test(newton, zero_genome_is_left_alone)
{
    net_t t;
    net_init(&t, QS_KIND_VANILLA, 6, 2, QS_REST_ZERO);
    memset(t.theta, 0, t.n * sizeof(float));
    qs_newton_t *nt = qs_newton_new(t.phys, NULL);
    qs_newton_stats_t st;
    qs_newton_step(nt, t.theta, &st);
    cr_expect_eq(st.accepted, 0);
    cr_expect(isinf(st.before));
    for (size_t i = 0; i < t.n; i++)
        cr_assert_eq(t.theta[i], 0.0f);
    qs_newton_free(nt);
    net_free(&t);
}

/* With the logits of some images kept, a step changes their task loss much less than a
 * step that ignores them, and still improves replication. */
Test(newton, kept_logits_barely_move, .timeout = 60)
{
    qs_quine_spec_t s = qs_quine_spec_default(QS_KIND_AUX, 5);
    s.hidden = 10;
    s.image_dim = 20;
    s.classes = 3;
    qs_dataset_t ds;
    qt_dataset(&ds, 40, 4, 5, 3, 6);
    qs_phys_t *ph = qs_phys_new(&s, NULL);
    qs_features_t f;
    qs_features_init(&f, ph, &ds);
    size_t n = qs_phys_nparams(ph);
    float *a = malloc(n * sizeof *a), *b = malloc(n * sizeof *b), *g = malloc(n * sizeof *g);
    qs_rng_t r;
    qs_rng_init(&r, 2, qs_rng_stream(QS_STREAM_INIT, 0));
    qs_quine_init_weights(&s, QS_INIT_HE, &r, a);
    memcpy(b, a, n * sizeof *a);
    uint32_t imgs[40];
    for (uint32_t i = 0; i < 40; i++)
        imgs[i] = i;
    qs_objective_t task = {QS_SR_NONE, 1, 1, QS_REDUCE_SUM, QS_PAIR_SEPARATE};
    qs_work_t *w = qs_work_new(&s, 40);
    qs_batch_stats_t before, after_free, after_kept;
    qs_quine_loss_grad(ph, a, a, NULL, 0, &f, imgs, 40, &task, w, g, &before);

    qs_newton_t *free_nt = qs_newton_new(ph, NULL), *kept_nt = qs_newton_new(ph, NULL);
    qs_newton_keep_logits(kept_nt, &f, imgs, 40, 100.0);
    qs_newton_stats_t sf, sk;
    for (int i = 0; i < 3; i++) {
        qs_newton_step(free_nt, a, &sf);
        qs_newton_step(kept_nt, b, &sk);
    }
    qs_quine_loss_grad(ph, a, a, NULL, 0, &f, imgs, 40, &task, w, g, &after_free);
    qs_quine_loss_grad(ph, b, b, NULL, 0, &f, imgs, 40, &task, w, g, &after_kept);
    double df = fabs(after_free.task - before.task), dk = fabs(after_kept.task - before.task);
    cr_expect_lt(dk, 0.5 * df, "task loss moved %g with the logits kept, %g without", dk, df);
    cr_expect_lt(sk.after, sk.before, "replication still improves");
    qs_newton_free(free_nt);
    qs_newton_free(kept_nt);
    qs_work_free(w);
    qs_features_destroy(&f);
    qs_dataset_destroy(&ds);
    qs_phys_free(ph);
    free(a);
    free(b);
    free(g);
}
