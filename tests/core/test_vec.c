/* Tests for core/vec: SELU and its exp approximation against double-precision libm, the
 * derivative, the reductions against naive double sums, tails of every length. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/rng.h"
#include "core/vec.h"

static double selu_ref(double x)
{
    return x > 0 ? QS_SELU_LAMBDA * x : QS_SELU_LAMBDA * QS_SELU_ALPHA * expm1(x);
}

/* The accuracy documented in vec.h: relative error <= 1.4e-7 everywhere on [-90, 0],
 * measured on a grid of step 1e-5 (9 million points) plus the edges. */
Test(vec, selu_matches_double_expm1)
{
    const size_t n = 9000001;
    float *x = malloc(n * sizeof *x), *y = malloc(n * sizeof *y);
    for (size_t i = 0; i < n; i++)
        x[i] = (float)(-90.0 + 1e-5 * (double)i);
    qs_vec_selu(y, x, n);
    double worst = 0;
    for (size_t i = 0; i < n; i++) {
        double ref = selu_ref((double)x[i]);
        double rel = ref == 0 ? fabs((double)y[i]) : fabs((double)y[i] - ref) / fabs(ref);
        if (rel > worst)
            worst = rel;
    }
    cr_expect_lt(worst, 1.4e-7, "worst relative error %g", worst);
    free(x);
    free(y);

    /* Edges: zeros, tiny values keep relative precision, saturation, positives exact. */
    float e[] = {0.0f, -0.0f, -1e-30f, 1e-30f, -1e-7f, -87.0f, -88.0f, -1e4f, 3.0f, -INFINITY};
    for (size_t i = 0; i < sizeof e / sizeof e[0]; i++) {
        float got = qs_selu(e[i]);
        double ref = selu_ref((double)e[i]);
        if (ref == 0)
            cr_expect_eq(got, 0.0f);
        else
            cr_expect_lt(fabs(got - ref) / fabs(ref), 2e-7, "x=%g got %.9g ref %.9g", e[i], got,
                         ref);
    }
    cr_expect_eq(qs_selu(2.5f), (float)QS_SELU_LAMBDA * 2.5f);
}

Test(vec, selu_every_tail_length_and_in_place)
{
    float x[40], y[40], z[40];
    qs_rng_t r;
    qs_rng_init(&r, 5, qs_rng_stream(QS_STREAM_TEST, 1));
    for (size_t n = 0; n <= 40; n++) {
        for (size_t i = 0; i < 40; i++)
            x[i] = (float)(qs_rng_normal(&r) * 3);
        memcpy(z, x, sizeof z);
        for (size_t i = 0; i < 40; i++)
            y[i] = 12345.0f;
        qs_vec_selu(y, x, n);
        qs_vec_selu(z, z, n); /* in place */
        for (size_t i = 0; i < n; i++) {
            cr_assert_eq(y[i], qs_selu(x[i]), "n=%zu i=%zu", n, i);
            cr_assert_eq(y[i], z[i]);
        }
        for (size_t i = n; i < 40; i++)
            cr_assert_eq(y[i], 12345.0f, "wrote past n");
    }
}

Test(vec, selu_grad_from_activation)
{
    /* dz = da * (a > 0 ? lambda : a + lambda alpha); at z = 0 (a = 0) the left slope,
     * lambda alpha, as PyTorch's SELU backward (z > 0 takes the linear branch). */
    const float lam = (float)QS_SELU_LAMBDA, la = (float)(QS_SELU_LAMBDA * QS_SELU_ALPHA);
    float z[19], a[19], da[19], dz[19];
    for (int i = 0; i < 19; i++) {
        z[i] = -3.0f + (float)i / 3.0f;
        da[i] = 0.5f + (float)i;
    }
    z[9] = 0.0f;
    qs_vec_selu(a, z, 19);
    qs_vec_selu_grad(dz, da, a, 19);
    for (int i = 0; i < 19; i++) {
        double ref =
            da[i] * (z[i] > 0 ? QS_SELU_LAMBDA : QS_SELU_LAMBDA * QS_SELU_ALPHA * exp(z[i]));
        cr_expect_lt(fabs(dz[i] - ref), 1e-6 * fabs(ref) + 1e-7, "z=%g dz=%g ref=%g", z[i], dz[i],
                     ref);
        float slope = a[i] > 0 ? lam : a[i] + la;
        cr_expect_eq(dz[i], da[i] * slope);
    }
    cr_expect_eq(dz[9], da[9] * la);
}

Test(vec, reductions_match_naive_double)
{
    qs_rng_t r;
    qs_rng_init(&r, 9, qs_rng_stream(QS_STREAM_TEST, 2));
    for (size_t n = 0; n < 70; n += 7) {
        float x[80], y[80];
        double s = 0, s2 = 0, d2 = 0;
        for (size_t i = 0; i < n; i++) {
            x[i] = (float)qs_rng_normal(&r);
            y[i] = (float)qs_rng_normal(&r);
            s += x[i];
            s2 += (double)x[i] * x[i];
            d2 += ((double)x[i] - y[i]) * ((double)x[i] - y[i]);
        }
        double mean = n ? s / (double)n : 0, c2 = 0;
        for (size_t i = 0; i < n; i++)
            c2 += ((double)x[i] - mean) * ((double)x[i] - mean);
        cr_expect_lt(fabs(qs_vec_sum(x, n) - s), 1e-12);
        cr_expect_lt(fabs(qs_vec_sumsq(x, n) - s2), 1e-12);
        cr_expect_lt(fabs(qs_vec_sumsq_centered(x, n, mean) - c2), 1e-12);
        cr_expect_lt(fabs(qs_vec_sqdist(x, y, n) - d2), 1e-12);
    }
    float ones[3] = {1, 1, 1};
    cr_expect_eq(qs_vec_sumsq_centered(ones, 3, 1.0), 0.0, "padding must not add shift^2");
}

Test(vec, add_scaled_shifted)
{
    float y[21], x[21];
    for (int i = 0; i < 21; i++) {
        y[i] = (float)i;
        x[i] = (float)(2 * i);
    }
    qs_vec_add_scaled_shifted(y, x, 0.5f, 1.0f, 21);
    for (int i = 0; i < 21; i++)
        cr_expect_eq(y[i], (float)i + 0.5f * ((float)(2 * i) - 1.0f));
}

Test(vec, sqrt_dot_axpy_scale)
{
    float x[70], y[70], z[70], w[70];
    qs_rng_t r;
    qs_rng_init(&r, 11, qs_rng_stream(QS_STREAM_TEST, 5));
    for (int i = 0; i < 70; i++) {
        x[i] = (float)(qs_rng_uniform(&r) * 10);
        z[i] = (float)qs_rng_normal(&r);
    }
    for (size_t n = 0; n <= 70; n += 3) {
        qs_vec_sqrt(y, x, n);
        for (size_t i = 0; i < n; i++)
            cr_assert_eq(y[i], sqrtf(x[i]), "correctly rounded, n=%zu i=%zu", n, i);
        double d = 0;
        for (size_t i = 0; i < n; i++)
            d += (double)x[i] * z[i];
        cr_expect_lt(fabs(qs_vec_dot(x, z, n) - d), 1e-4 * (1 + fabs(d)));
        memcpy(w, z, sizeof w);
        qs_vec_axpy(w, 0.5f, x, n);
        for (size_t i = 0; i < n; i++)
            cr_assert_eq(w[i], z[i] + 0.5f * x[i]);
        qs_vec_scale(w, -2.0f, x, n);
        for (size_t i = 0; i < n; i++)
            cr_assert_eq(w[i], -2.0f * x[i]);
    }
    memcpy(y, x, sizeof y);
    qs_vec_sqrt(y, y, 70); /* in place */
    cr_expect_eq(y[69], sqrtf(x[69]));
}
