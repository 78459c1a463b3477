/* Tests for core/optim: two steps of every optimizer at PyTorch's defaults against values
 * computed by hand (the arithmetic is in the comments), the 16-lane paths against plain
 * scalar code on lengths with tails, defaults, names, reset, FLOPs.
 *
 * Every hand case starts from theta = (1, -2, 0.5) and takes
 *   step 1 with g1 = (0.5, -1, 2),   step 2 with g2 = (0.25, -1, 4). */
#include <criterion/criterion.h>
#include <math.h>
#include <string.h>

#include "core/optim.h"
#include "core/rng.h"

static void two_steps(qs_opt_kind_t kind, float after1[3], float after2[3])
{
    qs_opt_cfg_t cfg = qs_opt_defaults(kind);
    qs_opt_t opt;
    qs_opt_init(&opt, &cfg, 3);
    float th[3] = {1.0f, -2.0f, 0.5f};
    const float g1[3] = {0.5f, -1.0f, 2.0f}, g2[3] = {0.25f, -1.0f, 4.0f};
    qs_opt_step(&opt, th, g1);
    memcpy(after1, th, sizeof th);
    qs_opt_step(&opt, th, g2);
    memcpy(after2, th, sizeof th);
    cr_expect_eq(opt.t, 2);
    qs_opt_destroy(&opt);
}

static void expect3(const float got[3], const double want[3], const char *what)
{
    for (int i = 0; i < 3; i++)
        cr_expect_lt(fabs(got[i] - want[i]), 2e-7 * (1 + fabs(want[i])), "%s[%d]: %.9f want %.9f",
                     what, i, got[i], want[i]);
}

Test(optim, sgd)
{
    /* lr 0.01: theta - 0.01 g.
     *   step 1: (1 - 0.005, -2 + 0.01, 0.5 - 0.02)        = (0.995, -1.99, 0.48)
     *   step 2: (0.995 - 0.0025, -1.99 + 0.01, 0.48 - 0.04) = (0.9925, -1.98, 0.44) */
    float a[3], b[3];
    two_steps(QS_OPT_SGD, a, b);
    expect3(a, (double[]){0.995, -1.99, 0.48}, "sgd 1");
    expect3(b, (double[]){0.9925, -1.98, 0.44}, "sgd 2");
}

Test(optim, momentum)
{
    /* mu 0.9, lr 0.01: b1 = g1 = (0.5, -1, 2); theta1 = (0.995, -1.99, 0.48).
     * b2 = 0.9 b1 + g2 = (0.45 + 0.25, -0.9 - 1, 1.8 + 4) = (0.7, -1.9, 5.8)
     * theta2 = theta1 - 0.01 b2 = (0.988, -1.971, 0.422) */
    float a[3], b[3];
    two_steps(QS_OPT_MOMENTUM, a, b);
    expect3(a, (double[]){0.995, -1.99, 0.48}, "momentum 1");
    expect3(b, (double[]){0.988, -1.971, 0.422}, "momentum 2");
}

Test(optim, adam)
{
    /* lr 1e-3, betas (0.9, 0.999), eps 1e-8.
     * step 1: m = 0.1 g1, v = 0.001 g1^2; m^ = g1, v^ = g1^2, so the step is
     *   1e-3 g / (|g| + 1e-8) = 1e-3 sign(g) (to 1e-11): (0.999, -1.999, 0.499).
     * step 2, first element: m = 0.9 * 0.05 + 0.1 * 0.25 = 0.07,
     *   v = 0.999 * 0.00025 + 0.001 * 0.0625 = 0.00031225,
     *   bias corrections 1 - 0.9^2 = 0.19 and 1 - 0.999^2 = 0.001999:
     *   m^ = 0.368421053, v^ = 0.156203102, sqrt = 0.395225383,
     *   theta = 0.999 - 1e-3 * 0.368421053 / 0.395225383 = 0.998067820.
     * second: m = -0.19, v = 0.001999 -> m^ = -1, v^ = 1: -1.999 + 0.001 = -1.998.
     * third:  m = 0.18 + 0.4 = 0.58, v = 0.003996 + 0.016 = 0.019996:
     *   m^ = 3.052631579, v^ = 10.003001501, sqrt = 3.162752203,
     *   theta = 0.499 - 1e-3 * 0.965181948 = 0.498034818. */
    float a[3], b[3];
    two_steps(QS_OPT_ADAM, a, b);
    expect3(a, (double[]){0.999, -1.999, 0.499}, "adam 1");
    expect3(b, (double[]){0.9980678204, -1.998, 0.4980348180}, "adam 2");
}

Test(optim, adamax)
{
    /* lr 2e-3, betas (0.9, 0.999), eps 1e-8.
     * step 1: m = 0.1 g1, u = |g1| + 1e-8, bias correction 0.1:
     *   theta -= 2e-3 * (m / 0.1) / u = 2e-3 sign(g): (0.998, -1.998, 0.498).
     * step 2: m = 0.9 m + 0.1 g2 = (0.07, -0.19, 0.58),
     *   u = max(0.999 u, |g2| + 1e-8) = (0.4995, 1, 4), bias correction 0.19:
     *   first:  0.998 - 2e-3 * 0.07 / (0.19 * 0.4995) = 0.998 - 0.001475160 = 0.996524841
     *   second: -1.998 + 2e-3 * 0.19 / (0.19 * 1) = -1.996
     *   third:  0.498 - 2e-3 * 0.58 / (0.19 * 4) = 0.498 - 0.001526316 = 0.496473684 */
    float a[3], b[3];
    two_steps(QS_OPT_ADAMAX, a, b);
    expect3(a, (double[]){0.998, -1.998, 0.498}, "adamax 1");
    expect3(b, (double[]){0.9965248407, -1.996, 0.4964736842}, "adamax 2");
}

Test(optim, adagrad)
{
    /* lr 0.01, eps 1e-10, accumulator from 0.
     * step 1: s = g1^2, theta -= 0.01 g / |g|: (0.99, -1.99, 0.49).
     * step 2: s = (0.3125, 2, 20):
     *   first:  0.99 - 0.01 * 0.25 / 0.559016994 = 0.985527864
     *   second: -1.99 + 0.01 / 1.414213562 = -1.982928932
     *   third:  0.49 - 0.01 * 4 / 4.472135955 = 0.481055728 */
    float a[3], b[3];
    two_steps(QS_OPT_ADAGRAD, a, b);
    expect3(a, (double[]){0.99, -1.99, 0.49}, "adagrad 1");
    expect3(b, (double[]){0.9855278640, -1.9829289322, 0.4810557281}, "adagrad 2");
}

Test(optim, rmsprop)
{
    /* lr 0.01, alpha 0.99, eps 1e-8.
     * step 1: v = 0.01 g1^2, sqrt(v) = 0.1 |g1|: theta -= 0.01 g / (0.1 |g| + 1e-8)
     *   = 0.1 sign(g) (less 2e-8 relative): (0.90000002, -1.90000001, 0.400000005).
     * step 2: v = 0.99 v + 0.01 g2^2 = (0.0031, 0.0199, 0.1996):
     *   first:  0.9 - 0.01 * 0.25 / 0.055677644 = 0.855098703
     *   second: -1.9 + 0.01 / 0.141067360 = -1.829111895
     *   third:  0.4 - 0.01 * 4 / 0.446766158 = 0.310467711 */
    float a[3], b[3];
    two_steps(QS_OPT_RMSPROP, a, b);
    expect3(a, (double[]){0.90000002, -1.90000001, 0.400000005}, "rmsprop 1");
    expect3(b, (double[]){0.8550987026, -1.8291118945, 0.3104677108}, "rmsprop 2");
}

/* The vectorised kernels (16 lanes + padded tail, sqrtps) equal plain scalar float code
 * with the same operations (sqrtf), bit for bit, on lengths around the lane width. */
Test(optim, lanes_equal_scalar_code)
{
    qs_rng_t r;
    qs_rng_init(&r, 3, qs_rng_stream(QS_STREAM_TEST, 4));
    const qs_opt_kind_t kinds[] = {QS_OPT_SGD,  QS_OPT_MOMENTUM, QS_OPT_ADAMAX,
                                   QS_OPT_ADAM, QS_OPT_ADAGRAD,  QS_OPT_RMSPROP};
    for (size_t ki = 0; ki < 6; ki++)
        for (size_t n = 1; n <= 50; n += 7) {
            qs_opt_cfg_t cfg = qs_opt_defaults(kinds[ki]);
            qs_opt_t opt;
            qs_opt_init(&opt, &cfg, n);
            float th[50], ref[50], g[50], m[50] = {0}, u[50] = {0};
            for (size_t i = 0; i < n; i++)
                th[i] = ref[i] = (float)qs_rng_normal(&r);
            for (int s = 1; s <= 3; s++) {
                for (size_t i = 0; i < n; i++)
                    g[i] = (float)qs_rng_normal(&r);
                g[0] = 0.0f; /* |g| + eps must not divide by zero */
                qs_opt_step(&opt, th, g);
                float clr = (float)(-(double)cfg.lr / (1.0 - pow((double)cfg.beta1, s)));
                float bc2 = (float)sqrt(1.0 - pow((double)cfg.beta2, s));
                for (size_t i = 0; i < n; i++) {
                    if (kinds[ki] == QS_OPT_SGD) {
                        ref[i] += -cfg.lr * g[i];
                    } else if (kinds[ki] == QS_OPT_MOMENTUM) {
                        m[i] = cfg.momentum * m[i] + g[i];
                        ref[i] += -cfg.lr * m[i];
                    } else if (kinds[ki] == QS_OPT_ADAMAX) {
                        m[i] = cfg.beta1 * m[i] + (1.0f - cfg.beta1) * g[i];
                        float bu = cfg.beta2 * u[i], ag = fabsf(g[i]) + cfg.eps;
                        u[i] = ag > bu ? ag : bu;
                        ref[i] += clr * (m[i] / u[i]);
                    } else if (kinds[ki] == QS_OPT_ADAM) {
                        m[i] = cfg.beta1 * m[i] + (1.0f - cfg.beta1) * g[i];
                        u[i] = cfg.beta2 * u[i] + (1.0f - cfg.beta2) * (g[i] * g[i]);
                        ref[i] += clr * (m[i] / (sqrtf(u[i]) / bc2 + cfg.eps));
                    } else if (kinds[ki] == QS_OPT_ADAGRAD) {
                        m[i] += g[i] * g[i];
                        ref[i] += -cfg.lr * (g[i] / (sqrtf(m[i]) + cfg.eps));
                    } else {
                        m[i] = cfg.alpha * m[i] + (1.0f - cfg.alpha) * (g[i] * g[i]);
                        ref[i] += -cfg.lr * (g[i] / (sqrtf(m[i]) + cfg.eps));
                    }
                }
            }
            cr_assert(!memcmp(th, ref, n * sizeof(float)), "%s n=%zu", qs_opt_name(kinds[ki]), n);
            qs_opt_destroy(&opt);
        }
}

Test(optim, defaults_names_reset_flops)
{
    qs_opt_cfg_t c = qs_opt_defaults(QS_OPT_ADAGRAD);
    cr_expect_float_eq(c.lr, 0.01f, 1e-9);
    cr_expect_float_eq(c.eps, 1e-10f, 1e-20);
    cr_expect_float_eq(qs_opt_defaults(QS_OPT_ADAMAX).lr, 2e-3f, 1e-9);
    cr_expect_float_eq(qs_opt_defaults(QS_OPT_ADAM).lr, 1e-3f, 1e-9);
    cr_expect_float_eq(qs_opt_defaults(QS_OPT_RMSPROP).alpha, 0.99f, 1e-9);
    cr_expect_float_eq(qs_opt_defaults(QS_OPT_MOMENTUM).momentum, 0.9f, 1e-9);
    const char *names[] = {"sgd", "momentum", "adam", "adamax", "adagrad", "rmsprop"};
    for (int i = 0; i < 6; i++) {
        qs_opt_kind_t k;
        cr_expect_eq(qs_opt_parse(names[i], &k), 0);
        cr_expect_eq((int)k, i);
        cr_expect_str_eq(qs_opt_name(k), names[i]);
    }
    qs_opt_kind_t k;
    cr_expect_eq(qs_opt_parse("lbfgs", &k), QS_ERR(INVAL));

    /* lr <= 0 in a configuration means the kind's default. */
    c = qs_opt_defaults(QS_OPT_ADAM);
    c.lr = 0;
    qs_opt_t opt;
    qs_opt_init(&opt, &c, 5);
    cr_expect_float_eq(opt.cfg.lr, 1e-3f, 1e-9);
    float th[5] = {1, 1, 1, 1, 1}, g[5] = {1, 1, 1, 1, 1}, th2[5] = {1, 1, 1, 1, 1};
    qs_opt_step(&opt, th, g);
    qs_opt_step(&opt, th, g);
    qs_opt_reset(&opt);
    cr_expect_eq(opt.t, 0);
    qs_opt_step(&opt, th2, g); /* after a reset, a step is a first step again */
    cr_expect_float_eq(th2[0], 0.999f, 1e-7);
    qs_opt_destroy(&opt);

    cr_expect_eq(qs_flops_opt(QS_OPT_SGD, 10), 20);
    cr_expect_eq(qs_flops_opt(QS_OPT_MOMENTUM, 10), 40);
    cr_expect_eq(qs_flops_opt(QS_OPT_ADAM, 10), 130);
    cr_expect_eq(qs_flops_opt(QS_OPT_ADAMAX, 20100), 9 * 20100);
    cr_expect_eq(qs_flops_opt(QS_OPT_ADAGRAD, 10), 70);
    cr_expect_eq(qs_flops_opt(QS_OPT_RMSPROP, 10), 90);
}
