/* fertility: lineages under pure regeneration, the spectral radius of the regeneration
 * map, and damage (see fertility.h). */
#include "core/fertility.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/fidelity.h"
#include "core/newton.h"
#include "core/rng.h"
#include "core/vec.h"

void qs_fertility_lineage(const qs_phys_t *phys, qs_regen_t mode, const float *theta0,
                          const float *ref, uint32_t generations, const qs_features_t *test,
                          qs_work_t *work, qs_fertility_gen_t *rows, float *last)
{
    const size_t n = qs_phys_nparams(phys);
    float *cur = xaligned(n * sizeof *cur), *next = xaligned(n * sizeof *next);
    memcpy(cur, theta0, n * sizeof *cur);
    if (!ref)
        ref = theta0;
    for (uint32_t k = 0; k <= generations; k++) {
        qs_fertility_gen_t *g = &rows[k];
        qs_fidelity_t link, drift;
        qs_quine_predict_all(phys, cur, next, work);
        qs_regen_apply(qs_phys_spec(phys), mode, cur, next);
        qs_fidelity_compute(&link, cur, next, n);
        qs_fidelity_compute(&drift, ref, cur, n);
        g->generation = k;
        g->link_r2 = link.r2;
        g->link_rel_err = link.rel_err;
        g->drift_r2 = drift.r2;
        g->rms = link.rms;
        g->zero_quine = link.zero_quine;
        g->acc = test ? qs_quine_accuracy(phys, cur, test, work, NULL) : NAN;
        if (k < generations) {
            float *t = cur;
            cur = next;
            next = t;
        }
    }
    if (last)
        memcpy(last, cur, n * sizeof *cur);
    free(cur);
    free(next);
}

static double norm(const float *v, size_t n)
{
    return sqrt(qs_vec_sumsq(v, n));
}

/* exp(mean log g[a..b)) */
static double geomean(const double *g, uint32_t a, uint32_t b)
{
    double s = 0;
    for (uint32_t i = a; i < b; i++) {
        if (!(g[i] > 0))
            return 0;
        s += log(g[i]);
    }
    return b > a ? exp(s / (double)(b - a)) : 0;
}

void qs_spectral_radius(size_t n, qs_linear_map_fn apply, void *ctx, uint32_t iters, uint64_t seed,
                        qs_spectral_t *out)
{
    if (iters < 4)
        iters = 4;
    float *v = xaligned(n * sizeof *v), *w = xaligned(n * sizeof *w);
    double *growth = xcalloc(iters, sizeof *growth);
    qs_rng_t rng;
    qs_rng_init(&rng, seed, qs_rng_stream(QS_STREAM_TEST, 0x5eC7));
    for (size_t i = 0; i < n; i++)
        v[i] = (float)qs_rng_normal(&rng);
    double nv = norm(v, n);
    qs_vec_scale(v, (float)(1.0 / nv), v, n);
    uint32_t done = 0;
    for (; done < iters; done++) {
        apply(ctx, v, w);
        double nw = norm(w, n);
        growth[done] = nw;
        if (!(nw > 0) || !isfinite(nw)) {
            done++;
            break;
        }
        qs_vec_scale(v, (float)(1.0 / nw), w, n);
    }
    memset(out, 0, sizeof *out);
    out->iters = done;
    out->last = growth[done - 1];
    if (done < iters) { /* the map annihilated v (or overflowed): nothing to average */
        out->radius = growth[done - 1];
        out->spread = 0;
    } else {
        uint32_t h = iters / 2, q3 = iters / 2 + iters / 4;
        out->radius = geomean(growth, h, iters);
        double r3 = geomean(growth, h, q3), r4 = geomean(growth, q3, iters);
        out->spread = r4 > 0 ? fabs(r3 - r4) / r4 : 0;
    }
    free(v);
    free(w);
    free(growth);
}

typedef struct {
    qs_newton_t *nt;
    const qs_quine_spec_t *spec;
    qs_regen_t mode;
    const float *theta;
} jvp_ctx_t;

static void jvp_map(void *ctx, const float *v, float *out)
{
    jvp_ctx_t *c = ctx;
    qs_newton_jvp(c->nt, v, out);
    qs_regen_jvp(c->spec, c->mode, c->theta, qs_newton_prediction(c->nt), v, out);
}

void qs_fertility_spectral(const qs_phys_t *phys, qs_regen_t mode, const float *theta,
                           uint32_t iters, uint64_t seed, qs_spectral_t *out)
{
    qs_newton_t *nt = qs_newton_new(phys, NULL);
    qs_newton_linearize(nt, theta);
    jvp_ctx_t c = {nt, qs_phys_spec(phys), mode, theta};
    qs_spectral_radius(qs_phys_nparams(phys), jvp_map, &c, iters, seed, out);
    qs_newton_free(nt);
}

double qs_rms_singular(size_t n, qs_linear_map_fn apply, void *ctx, uint32_t probes, uint64_t seed)
{
    float *d = xaligned(n * sizeof *d), *ad = xaligned(n * sizeof *ad);
    qs_rng_t rng;
    qs_rng_init(&rng, seed, qs_rng_stream(QS_STREAM_TEST, 0x6A17));
    double sum = 0;
    if (probes < 1)
        probes = 1;
    for (uint32_t k = 0; k < probes; k++) {
        for (size_t i = 0; i < n; i++)
            d[i] = (float)qs_rng_normal(&rng);
        apply(ctx, d, ad);
        double nd = qs_vec_sumsq(d, n);
        sum += nd > 0 ? qs_vec_sumsq(ad, n) / nd : 0;
    }
    free(d);
    free(ad);
    return sqrt(sum / probes);
}

double qs_fertility_gain(const qs_phys_t *phys, qs_regen_t mode, const float *theta,
                         uint32_t probes, uint64_t seed)
{
    qs_newton_t *nt = qs_newton_new(phys, NULL);
    qs_newton_linearize(nt, theta);
    jvp_ctx_t c = {nt, qs_phys_spec(phys), mode, theta};
    double g = qs_rms_singular(qs_phys_nparams(phys), jvp_map, &c, probes, seed);
    qs_newton_free(nt);
    return g;
}

double qs_fertility_stretch(const qs_phys_t *phys, qs_regen_t mode, const float *theta)
{
    const size_t n = qs_phys_nparams(phys);
    qs_newton_t *nt = qs_newton_new(phys, NULL);
    qs_newton_linearize(nt, theta);
    float *r = xaligned(n * sizeof *r), *jr = xaligned(n * sizeof *jr);
    memcpy(r, qs_newton_prediction(nt), n * sizeof *r);
    qs_regen_apply(qs_phys_spec(phys), mode, theta, r);
    for (size_t i = 0; i < n; i++)
        r[i] -= theta[i];
    double rn = sqrt(qs_vec_sumsq(r, n)), out = 0;
    if (rn > 0 && isfinite(rn)) {
        jvp_ctx_t c = {nt, qs_phys_spec(phys), mode, theta};
        jvp_map(&c, r, jr);
        out = sqrt(qs_vec_sumsq(jr, n)) / rn;
    }
    free(r);
    free(jr);
    qs_newton_free(nt);
    return out;
}

size_t qs_damage_apply(float *theta, size_t n, double fraction, qs_damage_mode_t mode,
                       uint64_t seed, unsigned char *hit)
{
    size_t k = (size_t)llround(fraction * (double)n);
    if (k > n)
        k = n;
    uint32_t *idx = xmalloc((n ? n : 1) * sizeof *idx);
    for (size_t i = 0; i < n; i++)
        idx[i] = (uint32_t)i;
    qs_rng_t rng;
    qs_rng_init(&rng, seed, qs_rng_stream(QS_STREAM_DAMAGE, 0));
    for (size_t i = 0; i < k; i++) {
        size_t j = i + qs_rng_below(&rng, (uint32_t)(n - i));
        uint32_t t = idx[i];
        idx[i] = idx[j];
        idx[j] = t;
    }
    double rms = n ? sqrt(qs_vec_sumsq(theta, n) / (double)n) : 0;
    if (hit)
        memset(hit, 0, n);
    for (size_t i = 0; i < k; i++) {
        theta[idx[i]] = mode == QS_DAMAGE_NOISE ? (float)(qs_rng_normal(&rng) * rms) : 0.0f;
        if (hit)
            hit[idx[i]] = 1;
    }
    free(idx);
    return k;
}
