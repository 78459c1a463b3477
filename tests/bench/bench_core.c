/* bench_core: speed of the numerical core, single-threaded, printed with how it was
 * measured (`make bench` runs it; never part of the tests).
 *
 *  1. One training step at the paper's setting (batch 10, Adamax, SSE; aux: paired rows,
 *     lambda 0.01, T 0.01, on data/mnist when present), vanilla and aux, in microseconds:
 *     warm-up, then repetitions of many steps each, median (min, max) per step.
 *  2. Regeneration of all N coordinates (qs_quine_predict_all) against the raw
 *     cblas_sgemm rate on the same shapes in the same run: the very matrix products the
 *     regeneration makes (same chunks, same leading dimensions), timed alone. The ratio
 *     of the two times is the share of the sgemm rate that regeneration achieves.
 *
 * Like quinesim itself (sim/main.c), the bench runs with the OpenBLAS kernels this CPU
 * deserves: when OpenBLAS fell back to generic ones and OPENBLAS_CORETYPE is unset, it
 * sets it and executes itself again. OPENBLAS_CORETYPE=Prescott make bench measures the
 * generic kernels. */
#include <cblas.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/blas.h"
#include "core/fidelity.h"
#include "core/mm.h"
#include "core/quine.h"
#include "core/train.h"
#include "core/vec.h"
#include "tests/bench/benchutil.h"

#define REPS 15

/* Synthetic MNIST-shaped data when the real set is missing. */
static void fake_dataset(qs_dataset_t *ds, uint32_t count)
{
    qs_rng_t r;
    qs_rng_init(&r, 1, qs_rng_stream(QS_STREAM_TEST, 0));
    ds->count = count;
    ds->rows = ds->cols = 28;
    ds->pixels = malloc((size_t)count * 784);
    ds->labels = malloc(count);
    for (size_t i = 0; i < (size_t)count * 784; i++)
        ds->pixels[i] = qs_rng_below(&r, 4) ? 0 : (uint8_t)qs_rng_below(&r, 256);
    for (uint32_t i = 0; i < count; i++)
        ds->labels[i] = (uint8_t)qs_rng_below(&r, 10);
}

static void bench_step(qs_kind_t kind, const qs_dataset_t *ds)
{
    qs_quine_spec_t spec = qs_quine_spec_default(kind, 1);
    qs_phys_t *phys = qs_phys_new(&spec, NULL);
    qs_features_t feat = {0};
    if (kind == QS_KIND_AUX)
        qs_features_init(&feat, phys, ds);
    size_t n = qs_phys_nparams(phys);
    float *theta = xaligned(n * sizeof *theta);
    qs_rng_t r;
    qs_rng_init(&r, 1, qs_rng_stream(QS_STREAM_INIT, 0));
    qs_quine_init_weights(&spec, QS_INIT_UNIFORM, &r, theta);
    qs_train_cfg_t cfg = qs_train_cfg_paper(kind);
    qs_trainer_t *tr = qs_trainer_new(phys, &cfg, kind == QS_KIND_AUX ? &feat : NULL);
    qs_rng_init(&r, 1, qs_rng_stream(QS_STREAM_LIFE, 0));
    qs_trainer_begin(tr, theta, &r);
    const uint64_t per_rep = 2000;
    qs_trainer_run(tr, 2 * per_rep); /* warm-up: caches, page faults, CPU clock */
    double us[REPS];
    for (int i = 0; i < REPS; i++) {
        double t = qs_now();
        qs_trainer_run(tr, per_rep);
        us[i] = (qs_now() - t) / (double)per_rep * 1e6;
    }
    stat_t s = summarize(us, REPS);
    printf("training step, %-7s (N = %5zu, batch 10, %s): %6.1f us/step median "
           "(min %.1f, max %.1f; %d reps x %llu steps after %llu warm-up steps; "
           "%.2f MFLOP/step incl. Adamax)\n",
           qs_kind_name(kind), n, kind == QS_KIND_AUX ? "paired rows, lambda 0.01, T 0.01" : "SSE",
           s.median, s.min, s.max, REPS, (unsigned long long)per_rep,
           (unsigned long long)(2 * per_rep), (double)qs_trainer_step_flops(tr) / 1e6);

    /* Where the time goes: the loss/gradient alone and the optimizer alone. */
    qs_work_t *w = qs_work_new(&spec, 10);
    float *grad = xaligned(n * sizeof *grad), *shadow = xaligned(n * sizeof *shadow);
    uint32_t coords[10], imgs[10];
    for (int i = 0; i < 10; i++) {
        coords[i] = (uint32_t)(i * 2011 % n);
        imgs[i] = (uint32_t)i;
    }
    size_t ni = kind == QS_KIND_AUX ? 10 : 0;
    qs_batch_stats_t bs;
    double lg[REPS], op[REPS];
    qs_opt_t opt;
    qs_opt_init(&opt, &cfg.opt, n);
    for (int i = 0; i < REPS; i++) {
        double t = qs_now();
        for (int k = 0; k < 2000; k++)
            qs_quine_loss_grad(phys, theta, theta, coords, 10, kind == QS_KIND_AUX ? &feat : NULL,
                               imgs, ni, &cfg.obj, w, grad, &bs);
        lg[i] = (qs_now() - t) / 2000 * 1e6;
        /* The optimizer on a fixed, realistic gradient (a copy: theta must not drift). */
        memcpy(shadow, theta, n * sizeof *shadow);
        t = qs_now();
        for (int k = 0; k < 2000; k++)
            qs_opt_step(&opt, shadow, grad);
        op[i] = (qs_now() - t) / 2000 * 1e6;
    }
    stat_t sl = summarize(lg, REPS), so = summarize(op, REPS);
    printf("    of which: forward+backward %.1f us, Adamax update of %zu parameters %.1f us "
           "(medians)\n",
           sl.median, n, so.median);
    qs_opt_destroy(&opt);
    free(grad);
    free(shadow);
    qs_work_free(w);
    qs_trainer_free(tr);
    free(theta);
    if (kind == QS_KIND_AUX)
        qs_features_destroy(&feat);
    qs_phys_free(phys);
}

/* The products qs_quine_predict_all makes, alone: per chunk of QS_CHUNK_ROWS coordinates,
 * Z1 = A0[:, :Hc] W1[:Hc] (m x Hc x H), Z_l = A W_l (m x H x H), y = A w_out (m x H x 1). */
static void raw_gemms(const qs_phys_t *phys, const float *theta, float *z1, float *z2, float *y)
{
    const qs_quine_spec_t *s = qs_phys_spec(phys);
    size_t n = qs_phys_nparams(phys), h = s->hidden, hc = qs_phys_coord_width(phys);
    const float *a0 = qs_phys_coord_act(phys, 0);
    for (size_t c0 = 0; c0 < n; c0 += QS_CHUNK_ROWS) {
        size_t m = n - c0 < QS_CHUNK_ROWS ? n - c0 : QS_CHUNK_ROWS;
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)m, (int)h, (int)hc, 1.0f,
                    a0 + c0 * hc, (int)hc, theta, (int)h, 0.0f, z1, (int)h);
        float *in = z1, *out = z2;
        for (uint32_t l = 1; l < s->depth; l++) {
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)m, (int)h, (int)h, 1.0f, in,
                        (int)h, theta + (size_t)l * h * h, (int)h, 0.0f, out, (int)h);
            float *t = in;
            in = out;
            out = t;
        }
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)m, 1, (int)h, 1.0f, in, (int)h,
                    theta + (size_t)s->depth * h * h, 1, 0.0f, y + c0, 1);
    }
}

/* The same products on oneDNN (core/mm.h) at type t, alone: per chunk, A0 W1 and then
 * A W_l for the next layers, each written in fp32 as quine.c's bf16 path writes them, and
 * the head's (m, H) x (H, 1) sgemm. At bf16 the inputs are converted beforehand (a0b:
 * the coordinate table, ab: a chunk of activations, wts: the hidden matrices). */
static void mm_products(qs_mm_t *mm, qs_mm_type_t t, const qs_phys_t *phys, const void *a0,
                        const void *ab, const void *wts, float *z, const float *theta, float *y)
{
    const qs_quine_spec_t *s = qs_phys_spec(phys);
    size_t n = qs_phys_nparams(phys), h = s->hidden, hc = qs_phys_coord_width(phys);
    size_t es = t == QS_MM_BF16 ? 2 : 4;
    for (size_t c0 = 0; c0 < n; c0 += QS_CHUNK_ROWS) {
        size_t m = n - c0 < QS_CHUNK_ROWS ? n - c0 : QS_CHUNK_ROWS;
        const void *in = (const char *)a0 + c0 * hc * es;
        size_t k = hc;
        for (uint32_t l = 0; l < s->depth; l++) {
            qs_mm_shape_t sh = {m, h, k, k, h, h, t, QS_MM_F32, 0, QS_MM_NONE};
            qs_mm_run(mm, &sh, in, (const char *)wts + (size_t)l * h * h * es, NULL, z);
            in = t == QS_MM_BF16 ? ab : (const void *)z;
            k = h;
        }
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)m, 1, (int)h, 1.0f, z, (int)h,
                    theta + (size_t)s->depth * h * h, 1, 0.0f, y + c0, 1);
    }
}

static void bench_regen(qs_kind_t kind)
{
    qs_quine_spec_t spec = qs_quine_spec_default(kind, 1);
    qs_phys_t *phys = qs_phys_new(&spec, NULL);
    size_t n = qs_phys_nparams(phys), h = spec.hidden, hc = qs_phys_coord_width(phys);
    float *theta = xaligned(n * sizeof *theta), *pred = xaligned(n * sizeof *pred);
    float *z1 = xaligned(QS_CHUNK_ROWS * h * sizeof(float));
    float *z2 = xaligned(QS_CHUNK_ROWS * h * sizeof(float));
    float *z3 = xaligned(QS_CHUNK_ROWS * h * sizeof(float));
    float *big = xaligned(n * h * sizeof(float));
    uint16_t *a0b = xaligned(n * hc * sizeof(uint16_t));
    uint16_t *wb = xaligned(spec.depth * h * h * sizeof(uint16_t));
    uint16_t *ab = xaligned(QS_CHUNK_ROWS * h * sizeof(uint16_t));
    qs_rng_t r;
    qs_rng_init(&r, 1, qs_rng_stream(QS_STREAM_INIT, 0));
    qs_quine_init_weights(&spec, QS_INIT_HE, &r, theta);
    qs_bf16_from_f32(a0b, qs_phys_coord_act(phys, 0), n * hc);
    qs_bf16_from_f32(wb, theta, spec.depth * h * h);
    qs_bf16_from_f32(ab, qs_phys_coord_act(phys, 0), QS_CHUNK_ROWS * h);
    qs_work_t *w = qs_work_new(&spec, 10), *wbf = qs_work_new(&spec, 10);
    int bf16 = qs_work_set_precision(wbf, QS_PREC_BF16) == QS_PREC_BF16;
    qs_mm_t *mm = qs_mm_new();
    enum { REGEN, SGEMM, BIG, MM32, REGEN16, MM16, NT };
    double t[NT][REPS];
    for (int i = 0; i < 3 + REPS; i++) { /* 3 warm-ups; interleaved: one machine state */
        double t0 = qs_now(), t1, t2, t3, t4, t5, t6;
        qs_quine_predict_all(phys, theta, pred, w);
        t1 = qs_now();
        raw_gemms(phys, theta, z1, z2, pred);
        t2 = qs_now();
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)n, (int)h, (int)hc, 1.0f,
                    qs_phys_coord_act(phys, 0), (int)hc, theta, (int)h, 0.0f, big, (int)h);
        t3 = qs_now();
        mm_products(mm, QS_MM_F32, phys, qs_phys_coord_act(phys, 0), NULL, theta, z3, theta, pred);
        t4 = qs_now();
        if (bf16)
            qs_quine_predict_all(phys, theta, pred, wbf);
        t5 = qs_now();
        if (bf16)
            mm_products(mm, QS_MM_BF16, phys, a0b, ab, wb, z3, theta, pred);
        t6 = qs_now();
        if (i >= 3) {
            double d[NT] = {t1 - t0, t2 - t1, t3 - t2, t4 - t3, t5 - t4, t6 - t5};
            for (int j = 0; j < NT; j++)
                t[j][i - 3] = d[j];
        }
    }
    stat_t st[NT];
    for (int j = 0; j < NT; j++)
        st[j] = summarize(t[j], REPS);
    double gemm_flops = 2.0 * n * h * hc + 2.0 * (spec.depth - 1) * n * h * h + 2.0 * n * h;
    double big_flops = 2.0 * n * h * hc;
    printf("regeneration, %-7s (all %zu coordinates, chunks of %d rows; GFLOP/s on its %.0f "
           "MFLOP of products, %.0f MFLOP in all with SELU):\n",
           qs_kind_name(kind), n, QS_CHUNK_ROWS, gemm_flops / 1e6,
           (double)qs_flops_regen(&spec) / 1e6);
    printf("    fp32, OpenBLAS (the default): %.2f ms median (min %.2f, max %.2f) = %.1f GFLOP/s; "
           "the same cblas_sgemm calls alone %.2f ms = %.1f GFLOP/s: %.0f%% of the raw rate\n",
           st[REGEN].median * 1e3, st[REGEN].min * 1e3, st[REGEN].max * 1e3,
           gemm_flops / st[REGEN].median / 1e9, st[SGEMM].median * 1e3,
           gemm_flops / st[SGEMM].median / 1e9, 100.0 * st[SGEMM].median / st[REGEN].median);
    printf("    fp32, oneDNN (the same products alone, fp32 kernels): %.2f ms = %.1f GFLOP/s, "
           "%.2fx the sgemm calls' rate\n",
           st[MM32].median * 1e3, gemm_flops / st[MM32].median / 1e9,
           st[SGEMM].median / st[MM32].median);
    if (bf16)
        printf("    bf16, oneDNN '%s' (ISA %s): %.2f ms median (min %.2f, max %.2f) = %.1f "
               "GFLOP/s; its products alone %.2f ms = %.1f GFLOP/s: %.0f%% of the raw rate;\n"
               "    bf16 regeneration / fp32 regeneration: %.2fx faster (target >= 2.5x)\n",
               qs_work_impl(wbf), qs_mm_isa(), st[REGEN16].median * 1e3, st[REGEN16].min * 1e3,
               st[REGEN16].max * 1e3, gemm_flops / st[REGEN16].median / 1e9, st[MM16].median * 1e3,
               gemm_flops / st[MM16].median / 1e9, 100.0 * st[MM16].median / st[REGEN16].median,
               st[REGEN].median / st[REGEN16].median);
    else
        printf("    bf16: skipped: this CPU has no native bf16 (oneDNN ISA %s)\n", qs_mm_isa());
    printf("    (for reference, one %zu x %zu x %zu sgemm: %.1f GFLOP/s)\n", n, h, hc,
           big_flops / st[BIG].median / 1e9);
    qs_mm_free(mm);
    qs_work_free(w);
    qs_work_free(wbf);
    free(theta);
    free(pred);
    free(z1);
    free(z2);
    free(z3);
    free(big);
    free(a0b);
    free(wb);
    free(ab);
    qs_phys_free(phys);
}

static void bench_selu(void)
{
    const size_t n = (size_t)QS_CHUNK_ROWS * 100;
    float *x = xaligned(n * sizeof *x);
    qs_rng_t r;
    qs_rng_init(&r, 2, qs_rng_stream(QS_STREAM_TEST, 0));
    for (size_t i = 0; i < n; i++)
        x[i] = (float)qs_rng_normal(&r);
    double t[REPS];
    for (int i = 0; i < REPS; i++) {
        double t0 = qs_now();
        for (int k = 0; k < 100; k++)
            qs_vec_selu(x, x, n); /* SELU of SELU ...: stays finite */
        t[i] = (qs_now() - t0) / (100.0 * n) * 1e9;
    }
    stat_t s = summarize(t, REPS);
    printf("SELU kernel: %.3f ns/element median (min %.3f) over %zu floats in cache\n", s.median,
           s.min, n);
    free(x);
}

int main(int argc, char **argv)
{
    (void)argc;
    bu_reexec_fast_blas(argv);
    const char *better = qs_blas_suggest_coretype();
    qs_blas_init(1);
    qs_mm_init(1);
    if (getenv("QS_BENCH_REEXEC"))
        printf("(OpenBLAS chose generic kernels for this CPU; re-executed with "
               "OPENBLAS_CORETYPE=%s, as quinesim does)\n",
               getenv("QS_BENCH_REEXEC"));
    printf("bench_core: single-threaded (openblas_set_num_threads(1)); OpenBLAS '%s' kernels; "
           "%s\n",
           qs_blas_core(), openblas_get_config());
    if (better)
        printf("NOTE: OpenBLAS fell back to generic kernels on this CPU; run with "
               "OPENBLAS_CORETYPE=%s for its fast ones (e.g. OPENBLAS_CORETYPE=%s make bench)\n",
               better, better);
    printf("timing: monotonic clock; %d repetitions after a warm-up; medians\n\n", REPS);

    qs_dataset_t ds;
    qs_error_t err;
    const char *dir = getenv("QS_DATA") ? getenv("QS_DATA") : "data/mnist";
    if (qs_dataset_load(&ds, dir, QS_SPLIT_TRAIN, &err) < 0) {
        printf("(no MNIST at %s: %s; aux uses synthetic 28x28 images)\n", dir, err.msg);
        fake_dataset(&ds, 8000);
    }
    bench_step(QS_KIND_VANILLA, &ds);
    bench_step(QS_KIND_AUX, &ds);
    printf("  target: <= 35 us/step\n\n");
    bench_regen(QS_KIND_VANILLA);
    bench_regen(QS_KIND_AUX);
    bench_selu();
    qs_dataset_destroy(&ds);
    return 0;
}
