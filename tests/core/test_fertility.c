/* Tests for core/fertility: lineages against step-by-step regeneration, the zero genome
 * as an exact (super-attracting) fixed point, the power iteration on linear maps with a
 * known spectral radius, the quine's Jacobian spectral radius against an independent one
 * (a dense Jacobian by central differences of the double reference, tests/core/qtest.h,
 * raised to the 1024th power), and damage. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/fertility.h"
#include "core/fidelity.h"
#include "tests/core/qtest.h"

Test(fertility, lineage_is_repeated_regeneration)
{
    qt_net_t t;
    qt_net_init(&t, QS_KIND_VANILLA, 8, 2, QS_REST_ZERO);
    const size_t n = t.n;
    /* Three generations: this network's lineage overflows to inf at the fifth (rms 0.52,
     * 1.4, 37, 1.9e6, 3.3e20: f grows like theta^3 through two SELU layers). */
    const uint32_t gens = 3;
    qs_fertility_gen_t rows[4];
    /* Aligned like the module's own buffers: BLAS's rounding may depend on alignment. */
    float *last = xaligned(n * sizeof *last), *cur = xaligned(n * sizeof *cur),
          *next = xaligned(n * sizeof *next);
    qs_fertility_lineage(t.phys, QS_REGEN_PLAIN, t.theta, NULL, gens, NULL, t.work, rows, last);
    memcpy(cur, t.theta, n * sizeof *cur);
    for (uint32_t k = 0; k <= gens; k++) {
        qs_fidelity_t link, drift;
        qs_quine_predict_all(t.phys, cur, next, t.work);
        qs_fidelity_compute(&link, cur, next, n);
        qs_fidelity_compute(&drift, t.theta, cur, n);
        cr_expect_eq(rows[k].generation, k);
        cr_expect_eq(rows[k].link_r2, link.r2, "generation %u", k);
        cr_expect_eq(rows[k].link_rel_err, link.rel_err);
        cr_expect_eq(rows[k].drift_r2, drift.r2, "generation %u", k);
        cr_expect_eq(rows[k].rms, link.rms);
        cr_expect(isnan(rows[k].acc), "no test features, no accuracy");
        if (k == gens)
            cr_expect_arr_eq(last, cur, n * sizeof *cur, "last is theta_K");
        memcpy(cur, next, n * sizeof *cur);
    }
    cr_expect_eq(rows[0].drift_r2, 1.0, "theta_0 against itself");
    /* A He-initialised network copies nothing: its offspring explains no variance. */
    cr_expect_lt(rows[0].link_r2, 0.5);

    /* Drift against another reference: theta_0 itself is then not at R^2 1. */
    float *ref = malloc(n * sizeof *ref);
    for (size_t i = 0; i < n; i++)
        ref[i] = t.theta[i] * 2.0f;
    qs_fertility_lineage(t.phys, QS_REGEN_PLAIN, t.theta, ref, 0, NULL, t.work, rows, NULL);
    qs_fidelity_t d;
    qs_fidelity_compute(&d, ref, t.theta, n);
    cr_expect_eq(rows[0].drift_r2, d.r2);
    cr_expect_lt(rows[0].drift_r2, 1.0);
    free(ref);
    free(last);
    free(cur);
    free(next);
    qt_net_free(&t);
}

Test(fertility, lineage_reports_accuracy_with_test_features)
{
    qt_net_t t;
    qt_net_init(&t, QS_KIND_AUX, 8, 2, QS_REST_ZERO);
    qs_dataset_t ds;
    qt_dataset(&ds, 40, 3, 4, 3, 9);
    qs_features_t feat;
    qs_features_init(&feat, t.phys, &ds);
    qs_fertility_gen_t rows[3];
    qs_fertility_lineage(t.phys, QS_REGEN_PLAIN, t.theta, NULL, 2, &feat, t.work, rows, NULL);
    cr_expect_eq(rows[0].acc, qs_quine_accuracy(t.phys, t.theta, &feat, t.work, NULL));
    for (int k = 0; k < 3; k++)
        cr_expect(rows[k].acc >= 0 && rows[k].acc <= 1);
    qs_features_destroy(&feat);
    qs_dataset_destroy(&ds);
    qt_net_free(&t);
}

/* f_0(C) = 0: the zero genome is an exact fixed point, and since every product through
 * it ends in w_out = 0 or A_d = SELU(0) = 0, its Jacobian is 0 (radius exactly 0). */
Test(fertility, the_zero_genome_is_an_exact_fixed_point)
{
    qs_kind_t kinds[] = {QS_KIND_VANILLA, QS_KIND_AUX};
    for (int i = 0; i < 2; i++) {
        qt_net_t t;
        qt_net_init(&t, kinds[i], 6, 2, QS_REST_MEAN);
        memset(t.theta, 0, t.n * sizeof(float));
        qs_fertility_gen_t rows[4];
        float *last = malloc(t.n * sizeof *last);
        qs_fertility_lineage(t.phys, QS_REGEN_PLAIN, t.theta, NULL, 3, NULL, t.work, rows, last);
        for (int k = 0; k < 4; k++) {
            cr_expect_eq(rows[k].link_r2, 1.0, "a perfect copy (L_SR = 0)");
            cr_expect_eq(rows[k].drift_r2, 1.0);
            cr_expect_eq(rows[k].rms, 0.0);
            cr_expect(rows[k].zero_quine);
        }
        for (size_t j = 0; j < t.n; j++)
            cr_assert_eq(last[j], 0.0f);
        qs_spectral_t sp;
        qs_fertility_spectral(t.phys, QS_REGEN_PLAIN, t.theta, 20, 1, &sp);
        cr_expect_eq(sp.radius, 0.0, "kind %d: radius %g", kinds[i], sp.radius);
        free(last);
        qt_net_free(&t);
    }
}

/* ---- Power iteration on maps with a known spectral radius ------------------------------ */

typedef struct {
    size_t n;
    const double *diag;      /* n entries */
    double rot_r, rot_angle; /* if rot_r > 0: coordinates 0,1 are a scaled rotation */
} lin_t;

static void lin_apply(void *ctx, const float *v, float *out)
{
    const lin_t *m = ctx;
    for (size_t i = 0; i < m->n; i++)
        out[i] = (float)(m->diag[i] * v[i]);
    if (m->rot_r > 0) {
        double c = m->rot_r * cos(m->rot_angle), s = m->rot_r * sin(m->rot_angle);
        out[0] = (float)(c * v[0] - s * v[1]);
        out[1] = (float)(s * v[0] + c * v[1]);
    }
}

Test(fertility, power_iteration_finds_a_real_dominant_eigenvalue)
{
    double diag[50];
    for (int i = 0; i < 50; i++)
        diag[i] = 0.3 + 0.4 * i / 50.0; /* 0.3 .. 0.692 */
    diag[17] = -1.25;                   /* the dominant one, negative */
    lin_t m = {50, diag, 0, 0};
    qs_spectral_t sp;
    qs_spectral_radius(50, lin_apply, &m, 60, 3, &sp);
    cr_expect_eq(sp.iters, 60);
    cr_expect_lt(fabs(sp.radius - 1.25), 1e-4, "radius %.9g", sp.radius);
    cr_expect_lt(fabs(sp.last - 1.25), 1e-5, "last %.9g", sp.last);
    cr_expect_lt(sp.spread, 1e-4);
}

Test(fertility, power_iteration_finds_a_complex_pair)
{
    double diag[40];
    for (int i = 0; i < 40; i++)
        diag[i] = 0.5 * (i % 7) / 7.0; /* below 0.5 */
    lin_t m = {40, diag, 0.8, 2.0};    /* eigenvalues 0.8 e^{+-2i}: |lambda| = 0.8 */
    qs_spectral_t sp;
    qs_spectral_radius(40, lin_apply, &m, 200, 5, &sp);
    /* A rotation keeps the norm of the (0,1) component, so after the rest dies out every
     * growth factor is 0.8 exactly; early ones are mixed, hence the loose bound. */
    cr_expect_lt(fabs(sp.radius - 0.8), 1e-3, "radius %.9g", sp.radius);
    cr_expect_lt(sp.radius, 1.0, "attracting");
}

Test(fertility, power_iteration_on_the_zero_map)
{
    double diag[10] = {0};
    lin_t m = {10, diag, 0, 0};
    qs_spectral_t sp;
    qs_spectral_radius(10, lin_apply, &m, 30, 1, &sp);
    cr_expect_eq(sp.radius, 0.0);
    cr_expect_eq(sp.iters, 1, "stops when the map annihilates v");
}

/* ---- The quine's Jacobian against an independent estimate ----------------------------- */

/* f_theta(C) in double by the reference. */
static void ref_pred(const qt_net_t *t, const double *th, double *out, uint32_t *coords)
{
    qs_objective_t obj = {QS_SR_SSE, 0, 1, QS_REDUCE_SUM, QS_PAIR_SEPARATE};
    qt_ref_loss(t->phys, th, t->theta, coords, t->n, NULL, NULL, 0, &obj, out, NULL);
}

/* out = a b, n x n, then scaled to unit Frobenius norm; returns log of the scale. */
static double matmul_normalised(const double *a, const double *b, double *out, size_t n)
{
    double ss = 0;
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < n; j++) {
            double s = 0;
            for (size_t k = 0; k < n; k++)
                s += a[i * n + k] * b[k * n + j];
            out[i * n + j] = s;
            ss += s * s;
        }
    double f = sqrt(ss);
    for (size_t i = 0; i < n * n; i++)
        out[i] /= f;
    return log(f);
}

/* The dense Jacobian d f / d theta (n x n, malloc'ed, row r = output r) by central
 * differences of the reference. */
static double *dense_jacobian(const qt_net_t *t)
{
    const size_t n = t->n;
    double *th = malloc(n * sizeof *th), *p = malloc(n * sizeof *p), *m = malloc(n * sizeof *m);
    double *j = malloc(n * n * sizeof *j);
    uint32_t *coords = malloc(n * sizeof *coords);
    for (size_t i = 0; i < n; i++) {
        th[i] = t->theta[i];
        coords[i] = (uint32_t)i;
    }
    const double eps = 1e-5;
    for (size_t c = 0; c < n; c++) { /* column c: d f / d theta_c */
        th[c] = t->theta[c] + eps;
        ref_pred(t, th, p, coords);
        th[c] = t->theta[c] - eps;
        ref_pred(t, th, m, coords);
        th[c] = t->theta[c];
        for (size_t r = 0; r < n; r++)
            j[r * n + c] = (p[r] - m[r]) / (2 * eps);
    }
    free(th);
    free(p);
    free(m);
    free(coords);
    return j;
}

static double sumsq(const double *x, size_t n)
{
    double ss = 0;
    for (size_t i = 0; i < n; i++)
        ss += x[i] * x[i];
    return ss;
}

/* The spectral radius of the dense Jacobian by Gelfand's formula, rho = lim |J^k|^(1/k),
 * at k = 1024 by ten squarings (each normalised; the logs of the scales add up). */
static double dense_radius(const qt_net_t *t)
{
    const size_t n = t->n;
    double *j = dense_jacobian(t), *j2 = malloc(n * n * sizeof *j2);
    double ss = sumsq(j, n * n);
    double logscale = 0.5 * log(ss); /* log |J| */
    for (size_t i = 0; i < n * n; i++)
        j[i] /= sqrt(ss);
    /* log |J^k| = k log|J| + log |(J/|J|)^k| */
    double lognorm = 0;
    size_t k = 1;
    for (int s = 0; s < 10; s++) {
        lognorm = 2 * lognorm + matmul_normalised(j, j, j2, n);
        memcpy(j, j2, n * n * sizeof *j);
        k *= 2;
    }
    free(j);
    free(j2);
    return exp(logscale + lognorm / (double)k);
}

static void check_radius(qs_kind_t kind, uint32_t hidden, uint32_t depth, qs_rest_t rest,
                         float scale)
{
    qt_net_t t;
    qt_net_init(&t, kind, hidden, depth, rest);
    for (size_t i = 0; i < t.n; i++)
        t.theta[i] *= scale;
    double want = dense_radius(&t);
    qs_spectral_t sp;
    qs_fertility_spectral(t.phys, QS_REGEN_PLAIN, t.theta, 400, 7, &sp);
    cr_expect_lt(fabs(sp.radius - want) / want, 0.03,
                 "kind %d rest %d scale %g: power iteration %.6g, dense Jacobian %.6g", kind, rest,
                 scale, sp.radius, want);
    qt_net_free(&t);
}

Test(fertility, jacobian_radius_matches_finite_differences)
{
    check_radius(QS_KIND_VANILLA, 6, 2, QS_REST_ZERO, 1.0f);
    check_radius(QS_KIND_VANILLA, 5, 1, QS_REST_ZERO, 3.0f);
    check_radius(QS_KIND_AUX, 6, 2, QS_REST_MEAN, 1.0f);
}

/* ---- Damage --------------------------------------------------------------------------- */

Test(fertility, damage_hits_the_stated_weights)
{
    const size_t n = 1000;
    float *a = malloc(n * sizeof *a), *b = malloc(n * sizeof *b);
    unsigned char *hit = malloc(n), *hit2 = malloc(n);
    for (size_t i = 0; i < n; i++)
        a[i] = b[i] = 0.5f + (float)i / (float)n; /* none is 0 */
    size_t k = qs_damage_apply(a, n, 0.3, QS_DAMAGE_ZERO, 11, hit);
    cr_expect_eq(k, 300);
    size_t hits = 0;
    for (size_t i = 0; i < n; i++) {
        hits += hit[i];
        if (hit[i])
            cr_expect_eq(a[i], 0.0f);
        else
            cr_expect_eq(a[i], b[i], "undamaged weights stay");
    }
    cr_expect_eq(hits, 300);
    /* The same seed hits the same weights; noise keeps the scale. */
    qs_damage_apply(b, n, 0.3, QS_DAMAGE_NOISE, 11, hit2);
    cr_expect_arr_eq(hit, hit2, n);
    double ss = 0;
    for (size_t i = 0; i < n; i++)
        if (hit2[i])
            ss += (double)b[i] * b[i];
    /* The genome's rms (weights uniform on 0.5..1.5): sqrt(E x^2) = sqrt(13/12). */
    double rms = sqrt(ss / 300);
    cr_expect_lt(fabs(rms - sqrt(13.0 / 12.0)) / sqrt(13.0 / 12.0), 0.15, "noise rms %g", rms);
    cr_expect_eq(qs_damage_apply(b, n, 0, QS_DAMAGE_ZERO, 1, hit), 0);
    cr_expect_eq(qs_damage_apply(b, n, 1, QS_DAMAGE_ZERO, 1, hit), n);
    for (size_t i = 0; i < n; i++)
        cr_assert_eq(b[i], 0.0f);
    free(a);
    free(b);
    free(hit);
    free(hit2);
}
