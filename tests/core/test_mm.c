/* Tests of core/mm (oneDNN matmul, bf16) and of the bf16 regeneration and evaluation of
 * core/quine: bf16 rounding by hand-checked values; products against a double reference
 * on the same bf16 inputs; the shape cache; qs_quine_predict_all / qs_quine_accuracy at
 * bf16 against fp32 to tolerance, deterministic, counting the same FLOPs. On a CPU
 * without native bf16 (or under valgrind, which hides AVX-512) the bf16 tests skip. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/fidelity.h"
#include "core/mm.h"
#include "core/quine.h"
#include "tests/core/qtest.h"

#define NEED_BF16()                                                                                \
    do {                                                                                           \
        if (!qs_mm_bf16_native())                                                                  \
            cr_skip_test("no native bf16 on this CPU (oneDNN ISA %s)", qs_mm_isa());               \
    } while (0)

static float f32_of_bits(uint32_t u)
{
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}

Test(mm, bf16_rounds_to_nearest_even)
{
    /* 1 + 2^-8 is half way between bf16 1 (0x3f80) and 1 + 2^-7 (0x3f81): to even. */
    float x[] = {
        1.0f,  1.0f + 0x1p-8f, 1.0f + 0x1p-7f + 0x1p-8f, 1.0f + 0x1p-8f + 0x1p-12f, -2.5f, 0.0f,
        -0.0f, INFINITY,       f32_of_bits(0x7f7fffffu)};
    uint16_t want[] = {0x3f80, 0x3f80, 0x3f82, 0x3f81, 0xc020, 0x0000, 0x8000, 0x7f80, 0x7f80};
    uint16_t got[9];
    qs_bf16_from_f32(got, x, 9);
    for (int i = 0; i < 9; i++)
        cr_expect_eq(got[i], want[i], "x[%d] = %a: 0x%04x, want 0x%04x", i, (double)x[i], got[i],
                     want[i]);
    float nan = NAN, back;
    uint16_t b;
    qs_bf16_from_f32(&b, &nan, 1);
    qs_bf16_to_f32(&back, &b, 1);
    cr_expect(isnan(back));
    /* Every bf16 value widens exactly and rounds back to itself. */
    for (uint32_t v = 0; v < 0x10000; v += 7) {
        uint16_t h = (uint16_t)v, h2;
        float f;
        qs_bf16_to_f32(&f, &h, 1);
        if (isnan(f))
            continue;
        qs_bf16_from_f32(&h2, &f, 1);
        cr_assert_eq(h2, h, "0x%04x", h);
    }
}

Test(mm, precision_names)
{
    qs_precision_t p;
    cr_expect_eq(qs_precision_parse("bf16", &p), 0);
    cr_expect_eq(p, QS_PREC_BF16);
    cr_expect_str_eq(qs_precision_name(QS_PREC_FP32), "fp32");
    cr_expect_lt(qs_precision_parse("fp16", &p), 0);
    char why[160] = "x";
    cr_expect_eq(qs_mm_effective(QS_PREC_FP32, why, sizeof why), QS_PREC_FP32);
    cr_expect_str_empty(why);
    qs_precision_t e = qs_mm_effective(QS_PREC_BF16, why, sizeof why);
    cr_expect_eq(e, qs_mm_bf16_native() ? QS_PREC_BF16 : QS_PREC_FP32);
    cr_expect_eq(why[0] == '\0', e == QS_PREC_BF16);
    if (e == QS_PREC_FP32)
        cr_expect(strstr(why, qs_mm_isa()), "the reason names the ISA: %s", why);
    cr_expect_eq(qs_mm_isa_bf16(qs_mm_isa()), qs_mm_bf16_native());
    cr_expect(qs_mm_isa_bf16("avx512_core_amx"));
    cr_expect(!qs_mm_isa_bf16("avx2"));
}

/* C = epilogue(A B + bias) in double from the bf16 values themselves. */
static void ref_product(double *c, const uint16_t *a, const uint16_t *b, const float *bias,
                        size_t m, size_t n, size_t k, int selu)
{
    for (size_t i = 0; i < m; i++)
        for (size_t j = 0; j < n; j++) {
            double z = bias ? bias[j] : 0;
            for (size_t p = 0; p < k; p++) {
                float x, y;
                qs_bf16_to_f32(&x, a + i * k + p, 1);
                qs_bf16_to_f32(&y, b + p * n + j, 1);
                z += (double)x * y;
            }
            c[i * n + j] = selu ? qt_selu(z) : z;
        }
}

Test(mm, bf16_products_match_a_double_reference)
{
    NEED_BF16();
    const size_t m = 37, n = 23, k = 50;
    float *af = malloc(m * k * sizeof *af), *bf = malloc(k * n * sizeof *bf);
    float bias[23], *c = malloc(m * n * sizeof *c);
    uint16_t *a = malloc(m * k * 2), *b = malloc(k * n * 2), *cb = malloc(m * n * 2);
    double *ref = malloc(m * n * sizeof *ref);
    qs_rng_t r;
    qs_rng_init(&r, 9, qs_rng_stream(QS_STREAM_TEST, 1));
    for (size_t i = 0; i < m * k; i++)
        af[i] = (float)qs_rng_normal(&r);
    for (size_t i = 0; i < k * n; i++)
        bf[i] = (float)(qs_rng_normal(&r) * 0.2);
    for (size_t j = 0; j < n; j++)
        bias[j] = (float)qs_rng_normal(&r);
    qs_bf16_from_f32(a, af, m * k);
    qs_bf16_from_f32(b, bf, k * n);
    qs_mm_t *mm = qs_mm_new();
    for (int variant = 0; variant < 3; variant++) {
        int selu = variant > 0, with_bias = variant == 2;
        qs_mm_shape_t s = {m, n, k, k, n, n, QS_MM_BF16, QS_MM_F32, with_bias, selu};
        qs_mm_run(mm, &s, a, b, with_bias ? bias : NULL, c);
        ref_product(ref, a, b, with_bias ? bias : NULL, m, n, k, selu);
        for (size_t i = 0; i < m * n; i++) /* fp32 accumulation of exact bf16 products */
            cr_assert_lt(fabs(c[i] - ref[i]), 1e-4 * (1 + fabs(ref[i])),
                         "variant %d [%zu]: %g vs %g", variant, i, c[i], ref[i]);
        /* The same written in bf16: the fp32 result rounded (within one bf16 step). */
        s.c = QS_MM_BF16;
        qs_mm_run(mm, &s, a, b, with_bias ? bias : NULL, cb);
        for (size_t i = 0; i < m * n; i++) {
            float x;
            qs_bf16_to_f32(&x, cb + i, 1);
            cr_assert_leq(fabs(x - ref[i]), 0x1p-8 * fabs(ref[i]) + 1e-4, "[%zu]", i);
        }
    }
    cr_expect_eq(qs_mm_built(mm), 6);
    cr_expect_neq(qs_mm_impl(mm)[0], '\0');
    qs_mm_free(mm);
    free(af);
    free(bf);
    free(c);
    free(a);
    free(b);
    free(cb);
    free(ref);
}

Test(mm, primitives_are_cached_per_shape)
{
    NEED_BF16();
    qs_mm_t *mm = qs_mm_new();
    uint16_t a[64 * 16] = {0}, b[16 * 8] = {0};
    float c[64 * 8];
    qs_mm_shape_t s = {64, 8, 16, 16, 8, 8, QS_MM_BF16, QS_MM_F32, 0, QS_MM_NONE};
    for (int i = 0; i < 5; i++)
        qs_mm_run(mm, &s, a, b, NULL, c);
    cr_expect_eq(qs_mm_built(mm), 1);
    s.m = 10; /* a new shape: one more */
    qs_mm_run(mm, &s, a, b, NULL, c);
    s.m = 64;
    qs_mm_run(mm, &s, a, b, NULL, c);
    cr_expect_eq(qs_mm_built(mm), 2);
    /* More shapes than the cache holds: each still right. */
    for (size_t m = 1; m <= 40; m++) {
        for (size_t i = 0; i < m * 16; i++)
            a[i] = 0x3f80; /* 1.0 */
        for (size_t i = 0; i < 16 * 8; i++)
            b[i] = 0x4000; /* 2.0 */
        s.m = m;
        qs_mm_run(mm, &s, a, b, NULL, c);
        cr_assert_float_eq(c[(m - 1) * 8 + 7], 32.0f, 0, "m %zu", m);
    }
    qs_mm_free(mm);
}

/* A paper-size aux quine (H 100) and MNIST-shaped features, for the bf16 comparisons. */
typedef struct {
    qs_quine_spec_t spec;
    qs_phys_t *phys;
    qs_dataset_t ds;
    qs_features_t feat;
    float *theta;
    size_t n;
} fixture_t;

static void fixture_init(fixture_t *f, qs_rest_t rest)
{
    f->spec = qs_quine_spec_default(QS_KIND_AUX, 11);
    f->spec.rest = rest;
    qt_dataset(&f->ds, 700, 28, 28, 10, 5);
    float *mean = malloc(784 * sizeof *mean);
    qs_dataset_mean_image(&f->ds, mean);
    f->phys = qs_phys_new(&f->spec, mean);
    free(mean);
    qs_features_init(&f->feat, f->phys, &f->ds);
    f->n = qs_phys_nparams(f->phys);
    f->theta = malloc(f->n * sizeof *f->theta);
    qs_rng_t r;
    qs_rng_init(&r, 2, qs_rng_stream(QS_STREAM_INIT, 0));
    qs_quine_init_weights(&f->spec, QS_INIT_HE, &r, f->theta);
}

static void fixture_destroy(fixture_t *f)
{
    free(f->theta);
    qs_features_destroy(&f->feat);
    qs_phys_free(f->phys);
    qs_dataset_destroy(&f->ds);
}

Test(mm, bf16_regeneration_is_close_to_fp32_and_deterministic, .timeout = 60)
{
    NEED_BF16();
    for (int rest = 0; rest < 2; rest++) {
        fixture_t f;
        fixture_init(&f, rest ? QS_REST_MEAN : QS_REST_ZERO);
        float *p32 = malloc(f.n * sizeof *p32), *p16 = malloc(f.n * sizeof *p16),
              *again = malloc(f.n * sizeof *again);
        qs_work_t *w32 = qs_work_new(&f.spec, 1), *w16 = qs_work_new(&f.spec, 1);
        cr_assert_eq(qs_work_set_precision(w16, QS_PREC_BF16), QS_PREC_BF16);
        qs_flops_counted_reset();
        qs_quine_predict_all(f.phys, f.theta, p32, w32);
        uint64_t f32 = qs_flops_counted();
        qs_flops_counted_reset();
        qs_quine_predict_all(f.phys, f.theta, p16, w16);
        cr_expect_eq(qs_flops_counted(), f32, "bf16 counts the same FLOPs");
        cr_expect_eq(f32, qs_flops_regen(&f.spec));
        qs_quine_predict_all(f.phys, f.theta, again, w16);
        cr_expect_arr_eq(again, p16, f.n * sizeof *p16, "bf16 regeneration is deterministic");
        cr_expect_neq(memcmp(p16, p32, f.n * sizeof *p16), 0, "bf16 is not fp32");
        /* bf16 against fp32: relative squared error (1 - R^2 of the one against the other,
         * with fp32 as the truth) below 1e-3. */
        qs_fidelity_t fd;
        qs_fidelity_compute(&fd, p32, p16, f.n);
        cr_expect_lt(fd.rel_err, 1e-3, "rest %d: rel_err %g", rest, fd.rel_err);
        cr_expect_gt(fd.r2, 0.999, "rest %d: R^2 %g", rest, fd.r2);
        cr_expect_str_neq(qs_work_impl(w16), "");
        qs_work_free(w32);
        qs_work_free(w16);
        free(p32);
        free(p16);
        free(again);
        fixture_destroy(&f);
    }
}

Test(mm, bf16_accuracy_is_close_to_fp32, .timeout = 60)
{
    NEED_BF16();
    fixture_t f;
    fixture_init(&f, QS_REST_ZERO);
    qs_work_t *w32 = qs_work_new(&f.spec, 1), *w16 = qs_work_new(&f.spec, 1);
    qs_work_set_precision(w16, QS_PREC_BF16);
    uint32_t c32, c16, c16b;
    qs_flops_counted_reset();
    qs_quine_accuracy(f.phys, f.theta, &f.feat, w32, &c32);
    uint64_t f32 = qs_flops_counted();
    qs_flops_counted_reset();
    qs_quine_accuracy(f.phys, f.theta, &f.feat, w16, &c16);
    cr_expect_eq(qs_flops_counted(), f32);
    qs_quine_accuracy(f.phys, f.theta, &f.feat, w16, &c16b);
    cr_expect_eq(c16b, c16);
    /* Random labels, so about a tenth right either way; ties of near-equal logits may
     * flip under rounding: at most 3% of the 700 images. */
    cr_expect_gt(c32, 20);
    cr_expect_leq(abs((int)c16 - (int)c32), 21, "fp32 %u, bf16 %u correct", c32, c16);
    /* Back to fp32: the pinned path again, bit for bit. */
    qs_work_set_precision(w16, QS_PREC_FP32);
    qs_quine_accuracy(f.phys, f.theta, &f.feat, w16, &c16);
    cr_expect_eq(c16, c32);
    qs_work_free(w32);
    qs_work_free(w16);
    fixture_destroy(&f);
}

Test(mm, bf16_path_selu_is_accurate)
{
    NEED_BF16();
    enum { N = 1 << 16 };
    float *x = malloc(N * sizeof *x), *y = malloc(N * sizeof *y);
    uint16_t *yb = malloc(N * sizeof *yb);
    double worst = 0, worst_b = 0;
    for (double lo = -90; lo < 5; lo += N * 1e-4) { /* [-90, 5] in steps of 1e-4 */
        for (size_t i = 0; i < N; i++)
            x[i] = (float)(lo + (double)i * 1e-4);
        qs_bf16_selu_f32(y, x, N - 3); /* a tail that is not a multiple of 16 */
        qs_bf16_selu(yb, x, N - 3);
        for (size_t i = 0; i < N - 3; i++) {
            double ref = qt_selu(x[i]), tol = fabs(ref) + 1e-30;
            float b;
            qs_bf16_to_f32(&b, yb + i, 1);
            worst = fmax(worst, fabs(y[i] - ref) / tol);
            worst_b = fmax(worst_b, fabs(b - ref) / tol);
        }
    }
    cr_expect_lt(worst, 1e-5, "fp32: %g", worst);
    cr_expect_leq(worst_b, 0x1p-8, "bf16: %g (more than half a bf16 step)", worst_b);
    free(x);
    free(y);
    free(yb);
}
