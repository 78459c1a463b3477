/* Tests for core/fertile: the gradient of the lineage objective against central
 * differences of an independent double-precision reference (the model of
 * tests/core/qtest.h regenerated K times), term by term and all together, for vanilla
 * and aux quines; the zero genome; the power step against core/fertility's radius; and the
 * stretch |J r| / |r| (core/fertility's exact one, fertile's term and its LM block) against
 * the same reference. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/fertile.h"
#include "core/fertility.h"
#include "tests/core/qtest.h"

typedef struct {
    qs_quine_spec_t spec;
    qs_phys_t *phys;
    size_t n;
    float *theta;
    uint32_t *coords;
    qs_dataset_t ds;
    qs_features_t feat;
    uint32_t images[6];
    size_t ni;
} net_t;

static void net_init(net_t *t, qs_kind_t kind, float scale)
{
    memset(t, 0, sizeof *t);
    t->spec = qs_quine_spec_default(kind, 31);
    t->spec.hidden = 6;
    t->spec.depth = 2;
    if (kind == QS_KIND_AUX) {
        t->spec.image_dim = 12;
        t->spec.classes = 3;
    }
    t->phys = qs_phys_new(&t->spec, NULL);
    t->n = qs_phys_nparams(t->phys);
    t->theta = xaligned(t->n * sizeof(float));
    t->coords = malloc(t->n * sizeof(uint32_t));
    qs_rng_t r;
    qs_rng_init(&r, 8, qs_rng_stream(QS_STREAM_INIT, 0));
    qs_quine_init_weights(&t->spec, QS_INIT_HE, &r, t->theta);
    for (size_t i = 0; i < t->n; i++) {
        t->theta[i] *= scale;
        t->coords[i] = (uint32_t)i;
    }
    if (kind == QS_KIND_AUX) {
        qt_dataset(&t->ds, 20, 3, 4, 3, 5);
        qs_features_init(&t->feat, t->phys, &t->ds);
        t->ni = 6;
        for (size_t i = 0; i < t->ni; i++)
            t->images[i] = (uint32_t)(3 * i + 1);
    }
}

static void net_free(net_t *t)
{
    if (t->ni) {
        qs_features_destroy(&t->feat);
        qs_dataset_destroy(&t->ds);
    }
    qs_phys_free(t->phys);
    free(t->theta);
    free(t->coords);
}

/* The regeneration of the test's loss (set by check_grad). */
static qs_regen_t ref_mode = QS_REGEN_PLAIN;

/* T(th) in double: f_th(C), then (standardize) each group moved to th's mean and spread. */
static void ref_T(const net_t *t, const double *th, double *out)
{
    qs_objective_t obj = {QS_SR_SSE, 0, 1, QS_REDUCE_SUM, QS_PAIR_SEPARATE};
    qt_ref_loss(t->phys, th, t->theta, t->coords, t->n, NULL, NULL, 0, &obj, out, NULL);
    if (ref_mode != QS_REGEN_STANDARDIZE)
        return;
    qs_param_group_t g[8];
    size_t ng = qs_quine_param_groups(&t->spec, g, 8);
    for (size_t k = 0; k < ng; k++) {
        const double *x = th + g[k].offset;
        double *p = out + g[k].offset;
        const size_t m = g[k].count;
        double mx = 0, mp = 0, sx = 0, sp = 0;
        for (size_t i = 0; i < m; i++) {
            mx += x[i] / (double)m;
            mp += p[i] / (double)m;
        }
        for (size_t i = 0; i < m; i++) {
            sx += (x[i] - mx) * (x[i] - mx) / (double)m;
            sp += (p[i] - mp) * (p[i] - mp) / (double)m;
        }
        for (size_t i = 0; i < m; i++)
            p[i] = mx + sqrt(sx / sp) * (p[i] - mp);
    }
}

static double ref_task(const net_t *t, const double *th, double temperature)
{
    qs_objective_t obj = {QS_SR_NONE, 1, (float)temperature, QS_REDUCE_MEAN, QS_PAIR_SEPARATE};
    return qt_ref_loss(t->phys, th, t->theta, NULL, 0, &t->feat, t->images, t->ni, &obj, NULL,
                       NULL);
}

static double sqdist(const double *a, const double *b, size_t n)
{
    double s = 0;
    for (size_t i = 0; i < n; i++)
        s += (a[i] - b[i]) * (a[i] - b[i]);
    return s;
}

/* The stretch direction of the genome: u = r / |r|, r = T(theta) - theta, in double. */
static void ref_copy_direction(const net_t *t, const double *th, double *u)
{
    ref_T(t, th, u);
    double rn = 0;
    for (size_t i = 0; i < t->n; i++) {
        u[i] -= th[i];
        rn += u[i] * u[i];
    }
    rn = sqrt(rn);
    for (size_t i = 0; i < t->n; i++)
        u[i] /= rn;
}

/* |T(th + h u) - T(th)| / h (h = c->fd_step), u given. */
static double ref_stretch_fd(const net_t *t, const qs_fertile_cfg_t *c, const double *th,
                             const double *u)
{
    const size_t n = t->n;
    double *pt = calloc(n, sizeof *pt), *a = calloc(n, sizeof *a), *b = calloc(n, sizeof *b);
    for (size_t i = 0; i < n; i++)
        pt[i] = th[i] + c->fd_step * u[i];
    ref_T(t, pt, a);
    ref_T(t, th, b);
    double out = sqrt(sqdist(a, b, n)) / c->fd_step;
    free(pt);
    free(a);
    free(b);
    return out;
}

/* The stretch direction of the test's genome (set by check_grad, a constant of the step
 * like eps and v), and the repair term's mask z. */
static double *ref_u;
static unsigned char *ref_mask;

/* f_th(C) in double, never rescaled (the repair term's raw prediction). */
static void ref_predict(const net_t *t, const double *th, double *out)
{
    qs_objective_t obj = {QS_SR_SSE, 0, 1, QS_REDUCE_SUM, QS_PAIR_SEPARATE};
    qt_ref_loss(t->phys, th, t->theta, t->coords, t->n, NULL, NULL, 0, &obj, out, NULL);
}

/* The loss of fertile.h written out in double, with the sink's eps, the direction v and
 * the stretch direction ref_u given (constants of a step). */
static double ref_loss(const net_t *t, const qs_fertile_cfg_t *c, const double *th0,
                       const double *eps, const float *v)
{
    const size_t n = t->n;
    const int task = t->ni > 0 && c->lambda > 0;
    double *cur = malloc(n * sizeof *cur), *next = malloc(n * sizeof *next),
           *t1 = malloc(n * sizeof *t1), *pt = calloc(n, sizeof *pt);
    double mean = 0, d = 0;
    for (size_t i = 0; i < n; i++)
        mean += th0[i];
    mean /= (double)n;
    for (size_t i = 0; i < n; i++)
        d += (th0[i] - mean) * (th0[i] - mean);
    double loss = task ? c->lambda * ref_task(t, th0, c->temperature) : 0, w = 1, rep = 0;
    memcpy(cur, th0, n * sizeof *cur);
    for (uint32_t k = 1; k <= c->generations; k++) {
        ref_T(t, cur, next);
        if (k == 1)
            memcpy(t1, next, n * sizeof *t1);
        rep += w * sqdist(next, th0, n);
        if (task)
            loss += c->lambda * w * ref_task(t, next, c->temperature);
        memcpy(cur, next, n * sizeof *cur);
        w *= c->decay;
    }
    if (c->sink > 0) {
        for (size_t i = 0; i < n; i++)
            pt[i] = th0[i] + eps[i];
        ref_T(t, pt, next);
        rep += c->sink * sqdist(next, th0, n);
    }
    if (c->repair > 0) { /* zero z, predict, repair z */
        for (size_t i = 0; i < n; i++)
            pt[i] = ref_mask[i] ? 0 : th0[i];
        ref_predict(t, pt, next);
        for (size_t i = 0; i < n; i++)
            if (ref_mask[i]) {
                rep += c->repair * (next[i] - th0[i]) * (next[i] - th0[i]);
                pt[i] = next[i];
            }
        if (task)
            loss += c->lambda * ref_task(t, pt, c->temperature);
    }
    loss += rep / d;
    if (c->contraction > 0) {
        for (size_t i = 0; i < n; i++)
            pt[i] = th0[i] + c->fd_step * v[i];
        ref_T(t, pt, next);
        double rho = sqrt(sqdist(next, t1, n)) / c->fd_step;
        if (rho > c->rho_target)
            loss += c->contraction * (rho - c->rho_target) * (rho - c->rho_target);
    }
    if (c->stretch > 0) {
        double sg = ref_stretch_fd(t, c, th0, ref_u);
        loss += c->stretch * sg * sg;
    }
    free(cur);
    free(next);
    free(t1);
    free(pt);
    return loss;
}

/* eps exactly as fertile.c draws it: per parameter group, N(0, 1) * sd * sink_noise. */
static void draw_eps(const net_t *t, const qs_fertile_cfg_t *c, qs_rng_t rng, double *eps)
{
    qs_param_group_t g[8];
    size_t ng = qs_quine_param_groups(&t->spec, g, 8);
    for (size_t gi = 0; gi < ng; gi++) {
        const float *x = t->theta + g[gi].offset;
        double m = qs_vec_sum(x, g[gi].count) / (double)g[gi].count;
        double sd = sqrt(qs_vec_sumsq_centered(x, g[gi].count, m) / (double)g[gi].count);
        if (sd < 1e-6)
            sd = 1e-3;
        for (size_t i = 0; i < g[gi].count; i++)
            eps[g[gi].offset + i] = (double)(float)(qs_rng_normal(&rng) * sd * c->sink_noise);
    }
}

static void check_grad(qs_kind_t kind, const qs_fertile_cfg_t *c, const char *what)
{
    ref_mode = c->regen;
    net_t t;
    net_init(&t, kind, 0.6f);
    const size_t n = t.n;
    qs_fertile_t *f = qs_fertile_new(t.phys, c, 3);
    float *grad = xaligned(n * sizeof *grad);
    double *eps = calloc(n, sizeof *eps), *th = malloc(n * sizeof *th),
           *base = malloc(n * sizeof *base);
    qs_rng_t rng;
    qs_rng_init(&rng, 12, qs_rng_stream(QS_STREAM_TEST, 4));
    draw_eps(&t, c, rng, eps);
    ref_mask = calloc(n, 1);
    if (c->repair > 0) { /* z as fertile.c draws it: after the sink's noise */
        qs_rng_t mr = rng;
        for (size_t i = 0; c->sink > 0 && i < n; i++)
            (void)qs_rng_normal(&mr);
        size_t hit = 0;
        for (size_t i = 0; i < n; i++)
            hit += ref_mask[i] = qs_rng_uniform(&mr) < c->repair_frac;
        cr_assert(hit > 0 && hit < n, "%s: the mask hits %zu of %zu weights", what, hit, n);
    }
    qs_fertile_stats_t st;
    double loss =
        qs_fertile_loss_grad(f, t.theta, t.ni ? &t.feat : NULL, t.images, t.ni, &rng, grad, &st);
    for (size_t i = 0; i < n; i++)
        base[i] = t.theta[i];
    ref_u = malloc(n * sizeof *ref_u);
    ref_copy_direction(&t, base, ref_u);
    const float *v = qs_fertile_direction(f);
    double want = ref_loss(&t, c, base, eps, v);
    cr_expect_lt(fabs(loss - want), 1e-4 * fabs(want) + 1e-6, "%s: loss %.9g, reference %.9g", what,
                 loss, want);
    if (c->contraction > 0)
        cr_expect_gt(st.rho_hat, c->rho_target, "%s: the hinge is active (rho_hat %g)", what,
                     st.rho_hat);
    if (c->stretch > 0) {
        double sg = ref_stretch_fd(&t, c, base, ref_u);
        cr_expect_lt(fabs(st.stretch_hat - sg), 1e-4 * sg, "%s: stretch_hat %.9g, reference %.9g",
                     what, st.stretch_hat, sg);
    } else {
        cr_expect_eq(st.stretch_hat, 0.0, "%s: no stretch term, stretch_hat %g", what,
                     st.stretch_hat);
    }
    /* Directional derivatives along random directions, and along single coordinates of
     * every parameter group. */
    qs_rng_t r;
    qs_rng_init(&r, 6, qs_rng_stream(QS_STREAM_TEST, 5));
    const double h = 1e-6;
    double gnorm = sqrt(qs_vec_sumsq(grad, n));
    for (int dir = 0; dir < 6 + (int)n / 10; dir++) {
        double *u = calloc(n, sizeof *u), gu = 0;
        if (dir < 6) {
            for (size_t i = 0; i < n; i++)
                u[i] = qs_rng_normal(&r) / sqrt((double)n);
        } else {
            u[(size_t)(dir - 6) * 10] = 1;
        }
        for (size_t i = 0; i < n; i++) {
            gu += grad[i] * u[i];
            th[i] = base[i] + h * u[i];
        }
        double lp = ref_loss(&t, c, th, eps, v);
        for (size_t i = 0; i < n; i++)
            th[i] = base[i] - h * u[i];
        double lm = ref_loss(&t, c, th, eps, v);
        double fd = (lp - lm) / (2 * h), unorm = 0;
        for (size_t i = 0; i < n; i++)
            unorm += u[i] * u[i];
        cr_expect_lt(fabs(gu - fd), 2e-3 * fabs(fd) + 2e-4 * gnorm * sqrt(unorm),
                     "%s, direction %d: gradient %.8g, differences %.8g", what, dir, gu, fd);
        free(u);
    }
    qs_fertile_free(f);
    free(grad);
    free(eps);
    free(th);
    free(base);
    free(ref_u);
    ref_u = NULL;
    free(ref_mask);
    ref_mask = NULL;
    net_free(&t);
}

static qs_fertile_cfg_t only(double sink, double contraction, double lambda, uint32_t gens)
{
    qs_fertile_cfg_t c = qs_fertile_defaults();
    c.sink = sink;
    c.contraction = contraction;
    c.lambda = lambda;
    c.generations = gens;
    c.rho_target = 0.1;
    c.sink_noise = 0.05;
    return c;
}

Test(fertile, drift_gradient_matches_finite_differences)
{
    qs_fertile_cfg_t c1 = only(0, 0, 0, 1), c3 = only(0, 0, 0, 3);
    check_grad(QS_KIND_VANILLA, &c1, "vanilla, drift, K=1");
    check_grad(QS_KIND_VANILLA, &c3, "vanilla, drift, K=3");
}

Test(fertile, sink_gradient_matches_finite_differences)
{
    qs_fertile_cfg_t c = only(2.0, 0, 0, 1);
    check_grad(QS_KIND_VANILLA, &c, "vanilla, drift + sink");
}

Test(fertile, contraction_gradient_matches_finite_differences)
{
    qs_fertile_cfg_t c = only(0, 0.5, 0, 1);
    check_grad(QS_KIND_VANILLA, &c, "vanilla, drift + contraction");
}

/* The stretch term, with r detached: alone (with the K = 1 drift), plain and standardized,
 * and with every other term on an aux quine. */
Test(fertile, stretch_gradient_matches_finite_differences)
{
    qs_fertile_cfg_t c = only(0, 0, 0, 1);
    c.stretch = 0.4;
    check_grad(QS_KIND_VANILLA, &c, "vanilla, drift + stretch");
    c.regen = QS_REGEN_STANDARDIZE;
    check_grad(QS_KIND_VANILLA, &c, "vanilla, standardized, drift + stretch");
    qs_fertile_cfg_t all = only(1.5, 0.3, 0.7, 2);
    all.stretch = 0.2;
    check_grad(QS_KIND_AUX, &all, "aux, every term and the stretch, K=2");
}

/* The repair term: alone (with the K = 1 drift) on a vanilla quine, and with the repaired
 * genome's task loss and every other term on an aux quine. */
Test(fertile, repair_gradient_matches_finite_differences)
{
    qs_fertile_cfg_t c = only(0, 0, 0, 1);
    c.repair = 3;
    c.repair_frac = 0.3;
    check_grad(QS_KIND_VANILLA, &c, "vanilla, drift + repair");
    qs_fertile_cfg_t task = only(0, 0, 2.0, 1);
    task.repair = 0.1;
    task.temperature = 0.3;
    check_grad(QS_KIND_AUX, &task, "aux, drift + tasks + repair (task-heavy)");
    qs_fertile_cfg_t all = only(1.5, 0.3, 0.7, 2);
    all.repair = 2;
    all.repair_frac = 0.4;
    check_grad(QS_KIND_AUX, &all, "aux, every term and the repair, K=2");
}

/* core/fertility's exact stretch |J r| / |r| (one Jacobian-vector product) against central
 * differences of the double reference along u = r / |r|; and against the finite-difference
 * estimate of the fertile term, which it approaches as the step h shrinks. */
static void check_stretch(qs_regen_t mode)
{
    ref_mode = mode;
    net_t t;
    net_init(&t, QS_KIND_VANILLA, 1.0f);
    const size_t n = t.n;
    double *base = calloc(n, sizeof *base), *u = calloc(n, sizeof *u), *p = calloc(n, sizeof *p),
           *m = calloc(n, sizeof *m), *pt = calloc(n, sizeof *pt);
    for (size_t i = 0; i < n; i++)
        base[i] = t.theta[i];
    ref_copy_direction(&t, base, u);
    const double h = 1e-5;
    for (size_t i = 0; i < n; i++)
        pt[i] = base[i] + h * u[i];
    ref_T(&t, pt, p);
    for (size_t i = 0; i < n; i++)
        pt[i] = base[i] - h * u[i];
    ref_T(&t, pt, m);
    double want = sqrt(sqdist(p, m, n)) / (2 * h);
    double got = qs_fertility_stretch(t.phys, mode, t.theta);
    cr_expect_lt(fabs(got - want), 1e-4 * want, "mode %d: stretch %.9g, reference %.9g", mode, got,
                 want);
    qs_fertile_cfg_t c = only(0, 0, 0, 1);
    c.stretch = 1;
    c.regen = mode;
    c.fd_step = 1e-4;
    qs_fertile_t *f = qs_fertile_new(t.phys, &c, 1);
    float *grad = xaligned(n * sizeof *grad);
    qs_fertile_stats_t st;
    qs_fertile_loss_grad(f, t.theta, NULL, NULL, 0, NULL, grad, &st);
    cr_expect_lt(fabs(st.stretch_hat - want), 1e-2 * want, "mode %d: stretch_hat %.9g, exact %.9g",
                 mode, st.stretch_hat, want);
    qs_fertile_free(f);
    free(grad);
    free(base);
    free(u);
    free(p);
    free(m);
    free(pt);
    net_free(&t);
}

Test(fertile, stretch_matches_the_reference)
{
    check_stretch(QS_REGEN_PLAIN);
    check_stretch(QS_REGEN_STANDARDIZE);
}

/* An exact fixed point has no copy error: stretch 0, and the term stays off. */
Test(fertile, zero_genome_has_no_stretch)
{
    net_t t;
    net_init(&t, QS_KIND_VANILLA, 0);
    cr_expect_eq(qs_fertility_stretch(t.phys, QS_REGEN_PLAIN, t.theta), 0.0);
    qs_fertile_cfg_t c = only(0, 0, 0, 1);
    c.stretch = 1;
    qs_fertile_t *f = qs_fertile_new(t.phys, &c, 1);
    float *grad = xaligned(t.n * sizeof *grad);
    qs_fertile_stats_t st;
    double loss = qs_fertile_loss_grad(f, t.theta, NULL, NULL, 0, NULL, grad, &st);
    cr_expect(isfinite(loss), "loss %g", loss);
    cr_expect_eq(st.stretch_hat, 0.0);
    qs_fertile_free(f);
    free(grad);
    net_free(&t);
}

Test(fertile, aux_task_gradient_matches_finite_differences)
{
    qs_fertile_cfg_t c = only(0, 0, 0.7, 2);
    check_grad(QS_KIND_AUX, &c, "aux, drift + tasks, K=2");
    qs_fertile_cfg_t all = only(1.5, 0.3, 0.7, 3);
    all.temperature = 0.5;
    check_grad(QS_KIND_AUX, &all, "aux, every term, K=3");
}

/* The zero genome: no variance, T(0) = 0 and a zero Jacobian (T(h v) is O(h^3): three
 * factors of theta meet in every prediction). The loss stays finite. */
Test(fertile, zero_genome_is_finite)
{
    net_t t;
    net_init(&t, QS_KIND_VANILLA, 0);
    qs_fertile_cfg_t c = qs_fertile_defaults();
    qs_fertile_t *f = qs_fertile_new(t.phys, &c, 1);
    float *grad = xaligned(t.n * sizeof *grad);
    qs_rng_t rng;
    qs_rng_init(&rng, 1, qs_rng_stream(QS_STREAM_TEST, 1));
    qs_fertile_stats_t st;
    double loss = qs_fertile_loss_grad(f, t.theta, NULL, NULL, 0, &rng, grad, &st);
    cr_expect(isfinite(loss), "loss %g", loss);
    cr_expect_eq(st.drift[1], 0.0);
    cr_expect_lt(st.rho_hat, 1e-3, "T is flat at 0: rho_hat %g", st.rho_hat);
    cr_expect_eq(qs_fertile_power_step(f, t.theta), 0.0);
    qs_fertile_free(f);
    free(grad);
    net_free(&t);
}

/* Repeated power steps settle on the spectral radius core/fertility estimates. */
Test(fertile, power_steps_find_the_spectral_radius)
{
    net_t t;
    net_init(&t, QS_KIND_VANILLA, 1.0f);
    qs_fertile_t *f = qs_fertile_new(t.phys, NULL, 2);
    double g = 0;
    for (int i = 0; i < 300; i++)
        g = qs_fertile_power_step(f, t.theta);
    qs_spectral_t sp;
    qs_fertility_spectral(t.phys, QS_REGEN_PLAIN, t.theta, 300, 4, &sp);
    cr_expect_lt(fabs(g - sp.radius) / sp.radius, 0.05, "power step %g, radius %g", g, sp.radius);
    qs_fertile_free(f);
    net_free(&t);
}

Test(fertile, standardized_gradient_matches_finite_differences)
{
    qs_fertile_cfg_t c = only(0, 0, 0, 3);
    c.regen = QS_REGEN_STANDARDIZE;
    check_grad(QS_KIND_VANILLA, &c, "vanilla, standardized, drift K=3");
    qs_fertile_cfg_t all = only(1.5, 0.3, 0.7, 2);
    all.regen = QS_REGEN_STANDARDIZE;
    check_grad(QS_KIND_AUX, &all, "aux, standardized, every term, K=2");
}

/* Levenberg-Marquardt on copy + contraction: steps that are taken lower E, and a few of
 * them lower both the copy's error and the stretch along v; the same call twice gives the
 * same genome. */
static void check_lm(qs_regen_t mode, double w1)
{
    net_t t;
    net_init(&t, QS_KIND_VANILLA, 1.0f);
    qs_fertile_cfg_t c = qs_fertile_defaults();
    c.regen = mode;
    qs_fertile_t *f = qs_fertile_new(t.phys, &c, 2), *f2 = qs_fertile_new(t.phys, &c, 2);
    float *copy = xaligned(t.n * sizeof *copy);
    memcpy(copy, t.theta, t.n * sizeof *copy);
    for (int i = 0; i < 50; i++) {
        qs_fertile_power_step(f, t.theta);
        qs_fertile_power_step(f2, copy);
    }
    double mu = 1, mu2 = 1, first = 0, rho0 = 0;
    qs_fertile_lm_stats_t s;
    for (int k = 0; k < 5; k++) {
        qs_fertile_lm_step(f, t.theta, 0.1, w1, 40, &mu, &s);
        if (k == 0) {
            first = s.before;
            rho0 = s.rho_hat;
        }
        cr_expect(!s.accepted || s.after < s.before, "mode %d step %d: E %g -> %g", mode, k,
                  s.before, s.after);
        cr_expect(s.tries >= 1 && s.cg_iters >= 1);
    }
    cr_expect_lt(s.after, 0.5 * first, "mode %d: E %g after 5 steps, %g before", mode, s.after,
                 first);
    cr_expect_lt(s.rho_hat, rho0, "mode %d: stretch along v %g, was %g", mode, s.rho_hat, rho0);
    for (int k = 0; k < 5; k++)
        qs_fertile_lm_step(f2, copy, 0.1, w1, 40, &mu2, NULL);
    cr_expect_arr_eq(copy, t.theta, t.n * sizeof *copy, "deterministic");
    free(copy);
    qs_fertile_free(f);
    qs_fertile_free(f2);
    net_free(&t);
}

Test(fertile, lm_steps_lower_copy_error_and_stretch)
{
    check_lm(QS_REGEN_PLAIN, 0);
    check_lm(QS_REGEN_STANDARDIZE, 0);
    check_lm(QS_REGEN_STANDARDIZE, 1);
}

/* An LM test's start: the vanilla test net, a fertile objective of c after 20 power
 * steps, the genome and the direction v in double (*base, *vd: N each, allocated) and the
 * genome's variance sum *d. */
static qs_fertile_t *lm_start(net_t *t, const qs_fertile_cfg_t *c, double **base, double **vd,
                              double *d)
{
    ref_mode = c->regen;
    net_init(t, QS_KIND_VANILLA, 1.0f);
    const size_t n = t->n;
    qs_fertile_t *f = qs_fertile_new(t->phys, c, 2);
    for (int i = 0; i < 20; i++)
        qs_fertile_power_step(f, t->theta);
    *base = calloc(n, sizeof **base);
    *vd = calloc(n, sizeof **vd);
    double mean = 0;
    for (size_t i = 0; i < n; i++) {
        (*base)[i] = t->theta[i];
        (*vd)[i] = qs_fertile_direction(f)[i];
        mean += t->theta[i] / (double)n;
    }
    *d = 0;
    for (size_t i = 0; i < n; i++)
        *d += ((*base)[i] - mean) * ((*base)[i] - mean);
    return f;
}

/* The stretch as a residual block of the LM step: E before the first step is the
 * reference's (1 - R^2) + c rho_hat^2 + s sigma_hat^2 (v and u as the step holds them), the
 * reported stretch is the reference's, and a step that is taken lowers E. */
static void check_lm_stretch(qs_regen_t mode)
{
    net_t t;
    qs_fertile_cfg_t c = qs_fertile_defaults();
    c.regen = mode;
    c.stretch = 0.5;
    const double cw = 0.1;
    double *base, *vd, d;
    qs_fertile_t *f = lm_start(&t, &c, &base, &vd, &d);
    const size_t n = t.n;
    double *u = calloc(n, sizeof *u), *t1 = calloc(n, sizeof *t1);
    ref_copy_direction(&t, base, u);
    ref_T(&t, base, t1);
    double rho = ref_stretch_fd(&t, &c, base, vd), sg = ref_stretch_fd(&t, &c, base, u);
    double want = sqdist(t1, base, n) / d + cw * rho * rho + c.stretch * sg * sg;
    double mu = 1;
    qs_fertile_lm_stats_t s;
    for (int k = 0; k < 3; k++) {
        qs_fertile_lm_step(f, t.theta, cw, 0, 40, &mu, &s);
        if (k == 0) {
            cr_expect_lt(fabs(s.before - want), 1e-4 * want, "mode %d: E %.9g, reference %.9g",
                         mode, s.before, want);
            cr_expect_lt(fabs(s.stretch_hat - sg), 1e-4 * sg,
                         "mode %d: stretch_hat %.9g, reference %.9g", mode, s.stretch_hat, sg);
        }
        cr_expect(!s.accepted || s.after < s.before, "mode %d step %d: E %g -> %g", mode, k,
                  s.before, s.after);
    }
    free(base);
    free(u);
    free(vd);
    free(t1);
    qs_fertile_free(f);
    net_free(&t);
}

Test(fertile, lm_stretch_block_matches_the_reference)
{
    check_lm_stretch(QS_REGEN_PLAIN);
    check_lm_stretch(QS_REGEN_STANDARDIZE);
}

/* The descendants' blocks of the LM step (cfg.lm_descendants = 2: child and grandchild):
 * E is the reference's (1 - R^2) + c rho_hat^2 + w1 |T(theta_1) - theta_1|^2 / D
 * + w1 decay |T(theta_2) - theta_2|^2 / D; A dir matches central differences of the
 * residual blocks, block by block; A^T is A's adjoint; and steps that are taken lower E. */
static void check_lm_descendants(qs_regen_t mode, int scale_free)
{
    net_t t;
    qs_fertile_cfg_t c = qs_fertile_defaults();
    c.regen = mode;
    c.lm_descendants = 2;
    c.lm_scale_free = scale_free;
    const double cw = 0.1, w1 = 1;
    double *base, *vd, d;
    qs_fertile_t *f = lm_start(&t, &c, &base, &vd, &d);
    const size_t n = t.n;
    const size_t nb = qs_fertile_lm_blocks(f, w1);
    cr_assert_eq(nb, 5, "blocks: copy, contraction, stretch, child, grandchild (%zu)", nb);
    cr_expect_eq(qs_fertile_lm_blocks(f, 0), 3, "no descendants without w1");

    /* E against the double-precision reference */
    double *k1 = calloc(n, sizeof *k1), *k2 = calloc(n, sizeof *k2), *k3 = calloc(n, sizeof *k3);
    ref_T(&t, base, k1);
    ref_T(&t, k1, k2);
    ref_T(&t, k2, k3);
    double rho = ref_stretch_fd(&t, &c, base, vd);
    double want = sqdist(k1, base, n) / d + cw * rho * rho + w1 * sqdist(k2, k1, n) / d +
                  w1 * c.decay * sqdist(k3, k2, n) / d;
    float *res = xaligned(nb * n * sizeof *res), *ad = xaligned(nb * n * sizeof *ad),
          *rp = xaligned(nb * n * sizeof *rp), *rm = xaligned(nb * n * sizeof *rm),
          *uin = xaligned(nb * n * sizeof *uin), *atu = xaligned(n * sizeof *atu),
          *dir = xaligned(n * sizeof *dir), *x = xaligned(n * sizeof *x);
    double e = qs_fertile_lm_model(f, t.theta, d, cw, w1, res, NULL, NULL, NULL, NULL);
    cr_expect_lt(fabs(e - want), 1e-4 * want, "mode %d: E %.9g, reference %.9g", mode, e, want);
    double sum = 0;
    for (size_t i = 0; i < nb * n; i++)
        sum += (double)res[i] * res[i];
    cr_expect_lt(fabs(sum - e), 1e-5 * e, "mode %d: |R|^2 %.9g, E %.9g", mode, sum, e);

    /* A dir against central differences of the blocks */
    qs_rng_t rng;
    qs_rng_init(&rng, 5, 0);
    const double rms = sqrt(d / (double)n), eps = 3e-4;
    double mean = 0;
    for (size_t i = 0; i < n; i++)
        mean += base[i] / (double)n;
    for (size_t i = 0; i < n; i++) /* with a radial part: D changes along it */
        dir[i] = (float)(rms * qs_rng_normal(&rng) + (base[i] - mean));
    for (size_t i = 0; i < nb * n; i++)
        uin[i] = (float)qs_rng_normal(&rng);
    qs_fertile_lm_model(f, t.theta, d, cw, w1, NULL, dir, ad, uin, atu);
    for (size_t i = 0; i < n; i++)
        x[i] = t.theta[i] + (float)eps * dir[i];
    qs_fertile_lm_model(f, x, d, cw, w1, rp, NULL, NULL, NULL, NULL);
    for (size_t i = 0; i < n; i++)
        x[i] = t.theta[i] - (float)eps * dir[i];
    qs_fertile_lm_model(f, x, d, cw, w1, rm, NULL, NULL, NULL, NULL);
    const char *names[] = {"copy", "contraction", "stretch", "child", "grandchild"};
    for (size_t b = 0; b < nb; b++) {
        if (b == 2)
            continue; /* stretch off: zero */
        double err = 0, norm = 0;
        for (size_t i = b * n; i < (b + 1) * n; i++) {
            double fd = ((double)rp[i] - rm[i]) / (2 * eps);
            err += (fd - ad[i]) * (fd - ad[i]);
            norm += fd * fd;
        }
        cr_expect_lt(sqrt(err / norm), 0.03, "mode %d%s, block %s: |A d - FD| / |FD| = %g", mode,
                     scale_free ? " scale-free" : "", names[b], sqrt(err / norm));
    }
    /* <A d, u> = <d, A^T u> */
    double lhs = 0, rhs = 0, scale = 0;
    for (size_t i = 0; i < nb * n; i++) {
        lhs += (double)ad[i] * uin[i];
        scale += fabs((double)ad[i] * uin[i]);
    }
    for (size_t i = 0; i < n; i++)
        rhs += (double)dir[i] * atu[i];
    cr_expect_lt(fabs(lhs - rhs), 1e-4 * scale, "mode %d: <A d, u> %.9g, <d, A^T u> %.9g", mode,
                 lhs, rhs);

    double mu = 1, first = 0;
    qs_fertile_lm_stats_t s;
    for (int k = 0; k < 5; k++) {
        qs_fertile_lm_step(f, t.theta, cw, w1, 40, &mu, &s);
        if (k == 0) {
            first = s.before;
            cr_expect_lt(fabs(s.before - want), 1e-4 * want, "mode %d: step's E %.9g, want %.9g",
                         mode, s.before, want);
        }
        cr_expect(!s.accepted || s.after < s.before, "mode %d step %d: E %g -> %g", mode, k,
                  s.before, s.after);
    }
    cr_expect_lt(s.after, 0.5 * first, "mode %d: E %g after 5 steps, %g before", mode, s.after,
                 first);
    void *bufs[] = {base, k1, k2, k3, vd, res, ad, rp, rm, uin, atu, dir, x};
    for (size_t i = 0; i < sizeof bufs / sizeof bufs[0]; i++)
        free(bufs[i]);
    qs_fertile_free(f);
    net_free(&t);
}

Test(fertile, lm_descendant_blocks_match_the_reference)
{
    check_lm_descendants(QS_REGEN_PLAIN, 0);
    check_lm_descendants(QS_REGEN_STANDARDIZE, 0);
}

/* cfg.lm_scale_free: D is the variance sum of each point the energy is evaluated at, so
 * the copy's and descendants' blocks are scale-free, and A carries the rank-one term of
 * D's derivative (the same central differences and adjointness, along a direction with a
 * radial part). */
Test(fertile, lm_scale_free_blocks_match_the_reference)
{
    check_lm_descendants(QS_REGEN_PLAIN, 1);
    check_lm_descendants(QS_REGEN_STANDARDIZE, 1);
}
