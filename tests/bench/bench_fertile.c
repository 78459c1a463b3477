/* bench_fertile: the cost of fertility, single-threaded, at the paper's sizes (`make bench`
 * runs it; never part of the tests).
 *
 *  1. One step of the fertility objective (core/fertile.h: K = 3 unrolled offspring,
 *     sink, contraction; aux: the task of every generation on 100 images) with its Adam
 *     update and power step, vanilla and aux, in milliseconds, and in units of one
 *     regeneration (qs_quine_predict_all) timed in the same run: the backward pass
 *     through the lineage costs a few regenerations per generation.
 *  2. The same step with the stretch term on (--fertile-stretch: one more linearisation
 *     at theta + h u and two more vector-Jacobian products), and with the repair term on
 *     (--fertile-repair: one linearisation of the damaged network, one vector-Jacobian
 *     product; aux: the repaired genome's task).
 *  3. The spectral-radius estimate of `quinesim fertility` (40 Jacobian-vector products).
 *  4. Vanilla only: one Levenberg-Marquardt step (qs_fertile_lm_step, 30 CG iterations,
 *     c = 0.03, child weight 1: the --recipe fertile step) without and with the stretch
 *     block (weight 1), and with the grandchild's copy error too (--fertile-newton-depth 2:
 *     one more linearisation per energy, one more product each way per CG iteration),
 *     REPS_LM repetitions.
 *
 * Medians (min, max) of REPS repetitions after a warm-up. The quinesim binary re-executes
 * itself with fast OpenBLAS kernels where OpenBLAS falls back to generic ones; this bench
 * does the same (see bench_core.c). Timings on a shared machine vary: compare the ratio
 * to the regeneration, measured side by side, rather than the milliseconds. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/blas.h"
#include "core/fertile.h"
#include "core/fertility.h"
#include "core/quine.h"
#include "tests/bench/benchutil.h"

#define REPS    7
#define REPS_LM 3

/* One LM step's time in ms, median of REPS_LM, each from the same theta. */
static stat_t bench_lm(const qs_phys_t *phys, const float *theta, double stretch,
                       uint32_t descendants)
{
    size_t n = qs_phys_nparams(phys);
    qs_fertile_cfg_t cfg = qs_fertile_defaults();
    cfg.regen = QS_REGEN_STANDARDIZE;
    cfg.stretch = stretch;
    cfg.lm_descendants = descendants;
    qs_fertile_t *f = qs_fertile_new(phys, &cfg, 1);
    float *th = xaligned(n * sizeof *th);
    double t[REPS_LM];
    for (int i = 0; i < 5; i++)
        qs_fertile_power_step(f, theta);
    for (int r = 0; r < REPS_LM; r++) {
        memcpy(th, theta, n * sizeof *th);
        double mu = 1, t0 = qs_now();
        qs_fertile_lm_step(f, th, 0.03, 1, 30, &mu, NULL);
        t[r] = (qs_now() - t0) * 1e3;
    }
    free(th);
    qs_fertile_free(f);
    return summarize(t, REPS_LM);
}

static void bench_kind(qs_kind_t kind)
{
    qs_quine_spec_t spec = qs_quine_spec_default(kind, 1);
    qs_phys_t *phys = qs_phys_new(&spec, NULL);
    size_t n = qs_phys_nparams(phys);
    float *theta = xaligned(n * sizeof *theta), *pred = xaligned(n * sizeof *pred);
    qs_rng_t rng;
    qs_rng_init(&rng, 1, qs_rng_stream(QS_STREAM_INIT, 0));
    qs_quine_init_weights(&spec, QS_INIT_HE, &rng, theta);
    for (size_t i = 0; i < n; i++)
        theta[i] *= 0.3f; /* a lineage that stays finite over 3 generations */
    qs_work_t *work = qs_work_new(&spec, 1);
    qs_dataset_t ds = {0};
    qs_features_t feat = {0};
    if (kind == QS_KIND_AUX) { /* synthetic images: the cost does not depend on them */
        ds.count = 1000;
        ds.rows = ds.cols = 28;
        ds.pixels = malloc((size_t)ds.count * 784);
        ds.labels = malloc(ds.count);
        for (size_t i = 0; i < (size_t)ds.count * 784; i++)
            ds.pixels[i] = (uint8_t)qs_rng_below(&rng, 256);
        for (size_t i = 0; i < ds.count; i++)
            ds.labels[i] = (uint8_t)qs_rng_below(&rng, 10);
        qs_features_init(&feat, phys, &ds);
    }
    qs_fertile_cfg_t cfg = qs_fertile_defaults();
    qs_fertile_t *f = qs_fertile_new(phys, &cfg, 1);
    qs_fertile_cfg_t scfg = cfg;
    scfg.stretch = 1;
    qs_fertile_t *fs = qs_fertile_new(phys, &scfg, 1);
    qs_fertile_cfg_t rcfg = cfg;
    rcfg.repair = 1;
    qs_fertile_t *fr = qs_fertile_new(phys, &rcfg, 1);
    qs_opt_cfg_t ocfg = qs_opt_defaults(QS_OPT_ADAM);
    ocfg.lr = 1e-7f; /* keep theta where it is */
    qs_opt_t opt;
    qs_opt_init(&opt, &ocfg, n);
    double regen[REPS], step[REPS], sstep[REPS], rstep[REPS], spec_t[REPS];
    qs_quine_predict_all(phys, theta, pred, work); /* warm-up */
    qs_fertile_run(f, &opt, theta, kind == QS_KIND_AUX ? &feat : NULL, 100, &rng, 1, NULL);
    qs_fertile_run(fs, &opt, theta, kind == QS_KIND_AUX ? &feat : NULL, 100, &rng, 1, NULL);
    qs_fertile_run(fr, &opt, theta, kind == QS_KIND_AUX ? &feat : NULL, 100, &rng, 1, NULL);
    for (int r = 0; r < REPS; r++) {
        double t0 = qs_now();
        qs_quine_predict_all(phys, theta, pred, work);
        double t1 = qs_now();
        qs_fertile_run(f, &opt, theta, kind == QS_KIND_AUX ? &feat : NULL, 100, &rng, 1, NULL);
        double t2 = qs_now();
        qs_spectral_t sp;
        qs_fertility_spectral(phys, QS_REGEN_PLAIN, theta, 40, 1, &sp);
        double t3 = qs_now();
        qs_fertile_run(fs, &opt, theta, kind == QS_KIND_AUX ? &feat : NULL, 100, &rng, 1, NULL);
        double t4 = qs_now();
        qs_fertile_run(fr, &opt, theta, kind == QS_KIND_AUX ? &feat : NULL, 100, &rng, 1, NULL);
        rstep[r] = (qs_now() - t4) * 1e3;
        regen[r] = (t1 - t0) * 1e3;
        step[r] = (t2 - t1) * 1e3;
        spec_t[r] = (t3 - t2) * 1e3;
        sstep[r] = (t4 - t3) * 1e3;
    }
    stat_t sr = summarize(regen, REPS), ss = summarize(step, REPS), sx = summarize(spec_t, REPS),
           st = summarize(sstep, REPS), sq = summarize(rstep, REPS);
    printf("%-7s (N = %zu): regeneration %.2f ms median (min %.2f, max %.2f)\n", qs_kind_name(kind),
           n, sr.median, sr.min, sr.max);
    printf("    fertile step (K = %u, sink, contraction%s, Adam, power step): %.1f ms median "
           "(min %.1f, max %.1f) = %.1f regenerations\n",
           cfg.generations, kind == QS_KIND_AUX ? ", task of 4 generations on 100 images" : "",
           ss.median, ss.min, ss.max, ss.median / sr.median);
    printf("    the same with the stretch term (--fertile-stretch 1): %.1f ms median (min %.1f, "
           "max %.1f) = %.1f regenerations\n",
           st.median, st.min, st.max, st.median / sr.median);
    printf("    the same with the repair term (--fertile-repair 1, 30 %% zeroed): %.1f ms median "
           "(min %.1f, max %.1f) = %.1f regenerations\n",
           sq.median, sq.min, sq.max, sq.median / sr.median);
    printf("    spectral radius, 40 Jacobian-vector products: %.1f ms median (min %.1f, max "
           "%.1f) = %.1f regenerations\n",
           sx.median, sx.min, sx.max, sx.median / sr.median);
    if (kind == QS_KIND_VANILLA) {
        stat_t l0 = bench_lm(phys, theta, 0, 1), l1 = bench_lm(phys, theta, 1, 1),
               l2 = bench_lm(phys, theta, 0, 2);
        printf("    LM step (--recipe fertile's, standardized, 30 CG): %.0f ms median (min %.0f, "
               "max %.0f) = %.0f regenerations; with the stretch block %.0f ms (min %.0f, max "
               "%.0f) = %.0f regenerations\n",
               l0.median, l0.min, l0.max, l0.median / sr.median, l1.median, l1.min, l1.max,
               l1.median / sr.median);
        printf("    LM step with the grandchild's copy too (--fertile-newton-depth 2): %.0f ms "
               "median (min %.0f, max %.0f) = %.0f regenerations\n",
               l2.median, l2.min, l2.max, l2.median / sr.median);
    }
    qs_fertile_free(f);
    qs_fertile_free(fs);
    qs_fertile_free(fr);
    qs_opt_destroy(&opt);
    if (kind == QS_KIND_AUX) {
        qs_features_destroy(&feat);
        qs_dataset_destroy(&ds);
    }
    qs_work_free(work);
    qs_phys_free(phys);
    free(theta);
    free(pred);
}

int main(int argc, char **argv)
{
    (void)argc;
    bu_reexec_fast_blas(argv);
    qs_blas_init(1);
    printf("bench_fertile: single-threaded; OpenBLAS '%s' kernels; %d repetitions after a "
           "warm-up; medians\n",
           qs_blas_core(), REPS);
    bench_kind(QS_KIND_VANILLA);
    bench_kind(QS_KIND_AUX);
    return 0;
}
