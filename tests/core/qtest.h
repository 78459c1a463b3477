/* qtest: helpers shared by the quine, train and FLOP tests: small synthetic data sets and
 * a double-precision reference model written independently of core/quine.c (plain loops,
 * libm expm1), used for forward checks and finite-difference gradient checks. */
#ifndef QS_QTEST_H
#define QS_QTEST_H

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/idx.h"
#include "core/quine.h"
#include "core/rng.h"
#include "core/vec.h"

/* A synthetic data set: count images of rows x cols random bytes, labels < classes. */
/* A small test network with He-initialised weights (seed 4): vanilla, or aux on 12-pixel
 * images of 3 classes whose mean image is (i % 4) / 4. */
typedef struct {
    qs_quine_spec_t spec;
    qs_phys_t *phys;
    qs_work_t *work;
    size_t n;
    float *theta;
} qt_net_t;

static inline void qt_net_init(qt_net_t *t, qs_kind_t kind, uint32_t hidden, uint32_t depth,
                               qs_rest_t rest)
{
    t->spec = qs_quine_spec_default(kind, 23);
    t->spec.hidden = hidden;
    t->spec.depth = depth;
    float mean[12];
    if (kind == QS_KIND_AUX) {
        t->spec.image_dim = 12;
        t->spec.classes = 3;
        t->spec.rest = rest;
        for (int i = 0; i < 12; i++)
            mean[i] = (float)(i % 4) / 4.0f;
    }
    t->phys = qs_phys_new(&t->spec, kind == QS_KIND_AUX ? mean : NULL);
    t->work = qs_work_new(&t->spec, 1);
    t->n = qs_phys_nparams(t->phys);
    t->theta = malloc(t->n * sizeof(float));
    qs_rng_t r;
    qs_rng_init(&r, 4, qs_rng_stream(QS_STREAM_INIT, 0));
    qs_quine_init_weights(&t->spec, QS_INIT_HE, &r, t->theta);
}

static inline void qt_net_free(qt_net_t *t)
{
    qs_work_free(t->work);
    qs_phys_free(t->phys);
    free(t->theta);
}

static inline void qt_dataset(qs_dataset_t *ds, uint32_t count, uint32_t rows, uint32_t cols,
                              uint32_t classes, uint64_t seed)
{
    qs_rng_t r;
    qs_rng_init(&r, seed, qs_rng_stream(QS_STREAM_TEST, 77));
    ds->count = count;
    ds->rows = rows;
    ds->cols = cols;
    ds->pixels = malloc((size_t)count * rows * cols);
    ds->labels = malloc(count ? count : 1);
    for (size_t i = 0; i < (size_t)count * rows * cols; i++)
        ds->pixels[i] = (uint8_t)qs_rng_below(&r, 256);
    for (uint32_t i = 0; i < count; i++)
        ds->labels[i] = (uint8_t)qs_rng_below(&r, classes);
}

static inline double qt_selu(double z)
{
    return z > 0 ? QS_SELU_LAMBDA * z : QS_SELU_LAMBDA * QS_SELU_ALPHA * expm1(z);
}

/* The objective of quine.h, evaluated in double from scratch. Rows follow quine.h's
 * pairing rules. Returns L; *pred_out (if not NULL) gets y of each row, *correct_out the
 * number of image rows whose argmax is the label. */
static inline double qt_ref_loss(const qs_phys_t *phys, const double *th, const float *targets,
                                 const uint32_t *coords, size_t nc, const qs_features_t *feat,
                                 const uint32_t *images, size_t ni, const qs_objective_t *obj,
                                 double *pred_out, unsigned *correct_out)
{
    const qs_quine_spec_t *s = qs_phys_spec(phys);
    const size_t n = qs_phys_nparams(phys), h = s->hidden, d = s->depth;
    const int aux = s->kind == QS_KIND_AUX;
    const size_t k = aux ? s->classes : 0, hc = qs_phys_coord_width(phys),
                 hi = qs_phys_image_width(phys);
    const int paired = aux && obj->pairing == QS_PAIR_PAIRED;
    const size_t rows = paired ? (nc > ni ? nc : ni) : nc + ni;
    const double *wout = th + d * h * h, *wcls = wout + h;
    double *a = malloc(h * sizeof *a), *z = malloc(h * sizeof *z);
    double sse = 0, hinge = 0, task = 0;
    unsigned correct = 0;
    for (size_t r = 0; r < rows; r++) {
        int has_c = r < nc;
        int has_i = aux && (paired ? r < ni : r >= nc);
        for (size_t j = 0; j < hc; j++)
            a[j] = has_c ? qs_phys_coord_act(phys, coords[r])[j] : 0.0;
        for (size_t j = 0; j < hi; j++)
            a[hc + j] = has_i ? feat->act[(size_t)images[paired ? r : r - nc] * hi + j]
                              : qs_phys_rest_act(phys)[j];
        for (size_t l = 0; l < d; l++) {
            const double *w = th + l * h * h;
            for (size_t o = 0; o < h; o++) {
                double acc = 0;
                for (size_t i = 0; i < h; i++)
                    acc += a[i] * w[i * h + o];
                z[o] = qt_selu(acc);
            }
            memcpy(a, z, h * sizeof *a);
        }
        double y = 0;
        for (size_t i = 0; i < h; i++)
            y += a[i] * wout[i];
        if (pred_out)
            pred_out[r] = y;
        if (has_c && obj->sr_loss != QS_SR_NONE) {
            double e = y - targets[coords[r]];
            sse += e * e;
            if (targets[coords[r]] != 0 && y / targets[coords[r]] < 1)
                hinge += 1 - y / targets[coords[r]];
        }
        if (has_i) {
            unsigned label = feat->labels[images[paired ? r : r - nc]];
            double lg[64], mx = -INFINITY, sum = 0;
            size_t arg = 0;
            for (size_t c = 0; c < k; c++) {
                lg[c] = 0;
                for (size_t i = 0; i < h; i++)
                    lg[c] += a[i] * wcls[i * k + c];
                if (lg[c] > lg[arg])
                    arg = c;
                lg[c] /= obj->temperature;
                if (lg[c] > mx)
                    mx = lg[c];
            }
            for (size_t c = 0; c < k; c++)
                sum += exp(lg[c] - mx);
            task += mx + log(sum) - lg[label];
            correct += arg == label;
        }
    }
    free(a);
    free(z);
    double sr = obj->sr_loss == QS_SR_HINGE ? hinge : sse;
    if (obj->sr_loss == QS_SR_RELATIVE || obj->sr_loss == QS_SR_R2) {
        double mean = 0, den = 0;
        if (obj->sr_loss == QS_SR_R2) {
            for (size_t i = 0; i < n; i++)
                mean += th[i];
            mean /= (double)n;
        }
        for (size_t i = 0; i < n; i++)
            den += (th[i] - mean) * (th[i] - mean);
        sr = nc ? (double)n / (double)nc * sse / den : 0;
    }
    if (obj->reduce == QS_REDUCE_MEAN && ni > 0)
        task /= (double)ni;
    if (correct_out)
        *correct_out = correct;
    return sr + (double)obj->lambda * task;
}

#endif
