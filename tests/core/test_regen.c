/* Tests for core/regen: the standardized offspring has its parent's per-group mean and
 * spread; the rescaling's tangent against central differences; its transpose by
 * adjointness; plain leaves everything as it is. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/regen.h"
#include "core/rng.h"
#include "core/util.h"

static qs_quine_spec_t small_spec(void)
{
    qs_quine_spec_t s = qs_quine_spec_default(QS_KIND_AUX, 1);
    s.hidden = 6;
    s.depth = 2;
    s.image_dim = 12;
    s.classes = 3;
    return s;
}

static void fill(float *x, size_t n, double scale, double shift, uint64_t id)
{
    qs_rng_t r;
    qs_rng_init(&r, 9, qs_rng_stream(QS_STREAM_TEST, id));
    for (size_t i = 0; i < n; i++)
        x[i] = (float)(shift + scale * qs_rng_normal(&r));
}

static void group_stats(const float *x, size_t n, double *m, double *s)
{
    *m = 0;
    for (size_t i = 0; i < n; i++)
        *m += x[i];
    *m /= (double)n;
    *s = 0;
    for (size_t i = 0; i < n; i++)
        *s += (x[i] - *m) * (x[i] - *m);
    *s = sqrt(*s / (double)n);
}

Test(regen, standardized_offspring_has_the_parents_moments)
{
    qs_quine_spec_t spec = small_spec();
    size_t n = qs_quine_nparams(&spec);
    float *theta = malloc(n * sizeof *theta), *p = malloc(n * sizeof *p),
          *q = malloc(n * sizeof *q);
    fill(theta, n, 0.3, 0.05, 1);
    fill(p, n, 2.0, -1.0, 2);
    memcpy(q, p, n * sizeof *q);
    qs_regen_apply(&spec, QS_REGEN_PLAIN, theta, q);
    cr_expect_arr_eq(q, p, n * sizeof *q, "plain changes nothing");
    qs_regen_apply(&spec, QS_REGEN_STANDARDIZE, theta, q);
    qs_param_group_t g[8];
    size_t ng = qs_quine_param_groups(&spec, g, 8);
    for (size_t k = 0; k < ng; k++) {
        double mt, st, mq, sq, mp, sp;
        group_stats(theta + g[k].offset, g[k].count, &mt, &st);
        group_stats(q + g[k].offset, g[k].count, &mq, &sq);
        group_stats(p + g[k].offset, g[k].count, &mp, &sp);
        cr_expect_lt(fabs(mq - mt), 1e-5, "%s: mean %g, parent %g", g[k].name, mq, mt);
        cr_expect_lt(fabs(sq - st), 1e-5 * st, "%s: sd %g, parent %g", g[k].name, sq, st);
        /* the shape is the prediction's: an affine image of it */
        size_t i = g[k].offset;
        double want = mt + st / sp * (p[i] - mp);
        cr_expect_lt(fabs(q[i] - want), 1e-5, "%s", g[k].name);
    }
    /* A flat prediction becomes the parent's mean. */
    for (size_t i = 0; i < n; i++)
        q[i] = 0.5f;
    qs_regen_apply(&spec, QS_REGEN_STANDARDIZE, theta, q);
    double mt, st;
    group_stats(theta, g[0].count, &mt, &st);
    cr_expect_lt(fabs(q[0] - mt), 1e-6);
    free(theta);
    free(p);
    free(q);
}

Test(regen, tangent_and_transpose)
{
    qs_quine_spec_t spec = small_spec();
    size_t n = qs_quine_nparams(&spec);
    float *theta = malloc(n * sizeof *theta), *p = malloc(n * sizeof *p),
          *dt = malloc(n * sizeof *dt), *dp = malloc(n * sizeof *dp), *jv = malloc(n * sizeof *jv),
          *u = malloc(n * sizeof *u), *gp = malloc(n * sizeof *gp), *gt = calloc(n, sizeof *gt),
          *a = malloc(n * sizeof *a), *b = malloc(n * sizeof *b), *ta = malloc(n * sizeof *ta),
          *tb = malloc(n * sizeof *tb);
    fill(theta, n, 0.3, 0.05, 3);
    fill(p, n, 1.5, 0.2, 4);
    fill(dt, n, 1, 0, 5);
    fill(dp, n, 1, 0, 6);
    fill(u, n, 1, 0, 7);
    memcpy(jv, dp, n * sizeof *jv);
    qs_regen_jvp(&spec, QS_REGEN_STANDARDIZE, theta, p, dt, jv);
    /* central differences in float, with a step that keeps rounding small */
    const float h = 1e-2f;
    for (size_t i = 0; i < n; i++) {
        ta[i] = theta[i] + h * dt[i];
        tb[i] = theta[i] - h * dt[i];
        a[i] = p[i] + h * dp[i];
        b[i] = p[i] - h * dp[i];
    }
    qs_regen_apply(&spec, QS_REGEN_STANDARDIZE, ta, a);
    qs_regen_apply(&spec, QS_REGEN_STANDARDIZE, tb, b);
    for (size_t i = 0; i < n; i++) {
        double fd = ((double)a[i] - b[i]) / (2 * h);
        cr_assert_lt(fabs(jv[i] - fd), 2e-3 * (1 + fabs(fd)), "[%zu]: tangent %g, differences %g",
                     i, jv[i], fd);
    }
    /* u . (J_p dp + J_t dt) = (gp . dp) + (gt . dt) */
    qs_regen_vjp(&spec, QS_REGEN_STANDARDIZE, theta, p, u, gp, gt);
    double lhs = 0, rhs = 0, mag = 0;
    for (size_t i = 0; i < n; i++) {
        lhs += (double)u[i] * jv[i];
        rhs += (double)gp[i] * dp[i] + (double)gt[i] * dt[i];
        mag += fabs((double)u[i] * jv[i]);
    }
    cr_expect_lt(fabs(lhs - rhs), 1e-5 * mag, "u.Jv %g, (J^T u).v %g", lhs, rhs);
    /* plain: the transpose is the identity on p and nothing on theta */
    memset(gt, 0, n * sizeof *gt);
    qs_regen_vjp(&spec, QS_REGEN_PLAIN, theta, p, u, gp, gt);
    cr_expect_arr_eq(gp, u, n * sizeof *gp);
    for (size_t i = 0; i < n; i++)
        cr_assert_eq(gt[i], 0.0f);
    float *bufs[] = {theta, p, dt, dp, jv, u, gp, gt, a, b, ta, tb};
    for (size_t i = 0; i < sizeof bufs / sizeof bufs[0]; i++)
        free(bufs[i]);
}

Test(regen, names)
{
    qs_regen_t r;
    cr_expect_eq(qs_regen_parse("standardize", &r), 0);
    cr_expect_eq(r, QS_REGEN_STANDARDIZE);
    cr_expect_str_eq(qs_regen_name(QS_REGEN_PLAIN), "plain");
    cr_expect_lt(qs_regen_parse("scaled", &r), 0);
}

/* Sign offspring: every weight of group l becomes +-a_l, a_l the mean |theta| over the
 * group's NONZERO weights (zeroed weights do not shrink it), with the prediction's sign
 * (0 reads as +). A binary genome whose prediction has the right signs is an exact fixed
 * point, however far the prediction's size is off. The map's derivatives are 0. */
Test(regen, sign_offspring_keep_the_scale_and_read_the_signs)
{
    qs_quine_spec_t spec = small_spec();
    size_t n = qs_quine_nparams(&spec);
    float *theta = malloc(n * sizeof *theta), *p = malloc(n * sizeof *p),
          *q = malloc(n * sizeof *q);
    fill(theta, n, 0.3, 0.05, 5);
    fill(p, n, 2.0, -0.5, 6);
    for (size_t i = 0; i < n; i += 3)
        theta[i] = 0;
    p[1] = 0;
    memcpy(q, p, n * sizeof *q);
    qs_regen_apply(&spec, QS_REGEN_SIGN, theta, q);
    qs_param_group_t g[8];
    size_t ng = qs_quine_param_groups(&spec, g, 8);
    for (size_t k = 0; k < ng; k++) {
        double sum = 0;
        size_t nz = 0;
        for (size_t i = 0; i < g[k].count; i++)
            if (theta[g[k].offset + i] != 0) {
                sum += fabs(theta[g[k].offset + i]);
                nz++;
            }
        const float a = (float)(sum / (double)nz);
        cr_expect_float_eq(qs_regen_sign_scale(theta + g[k].offset, g[k].count), sum / (double)nz,
                           1e-12);
        for (size_t i = 0; i < g[k].count; i++) {
            size_t j = g[k].offset + i;
            cr_expect_eq(q[j], p[j] >= 0 ? a : -a, "%s[%zu]: %g from prediction %g (a %g)",
                         g[k].name, i, q[j], p[j], a);
        }
    }
    /* q is binary: as a parent it has the same scales, and a prediction with its signs
     * (here q times random positive factors) gives q back exactly. */
    for (size_t i = 0; i < n; i++)
        p[i] = q[i] * (float)(0.01 + fabs(theta[i]) * 10);
    qs_regen_apply(&spec, QS_REGEN_SIGN, q, p);
    cr_expect_arr_eq(p, q, n * sizeof *q, "a binary genome with the right signs is a fixed point");
    float *d = malloc(n * sizeof *d), *gp = malloc(n * sizeof *gp), *gt = calloc(n, sizeof *gt);
    fill(d, n, 1.0, 0, 7);
    qs_regen_jvp(&spec, QS_REGEN_SIGN, theta, p, theta, d);
    qs_regen_vjp(&spec, QS_REGEN_SIGN, theta, p, theta, gp, gt);
    for (size_t i = 0; i < n; i++) {
        cr_expect_eq(d[i], 0.0f);
        cr_expect_eq(gp[i], 0.0f);
        cr_expect_eq(gt[i], 0.0f);
    }
    qs_regen_t r;
    cr_expect_eq(qs_regen_parse("sign", &r), 0);
    cr_expect_eq(r, QS_REGEN_SIGN);
    float zero[4] = {0};
    cr_expect_eq(qs_regen_sign_scale(zero, 4), 0.0);
    free(theta);
    free(p);
    free(q);
    free(d);
    free(gp);
    free(gt);
}
