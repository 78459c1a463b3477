/* quine: the vanilla and auxiliary quine networks: spec, initialisation, the fixed
 * projections, batched forward/backward (OpenBLAS sgemm, row-major, preallocated
 * workspaces), the replication and task losses, regeneration, accuracy, FLOP counts.
 *
 * Layers are free functions over row-major matrices, shapes in comments:
 *   A_0 (m, H) -> Z_l = A_{l-1} W_l (m, H) -> A_l = SELU(Z_l) -> out = A_d [w_out|W_cls]
 * The derivative of SELU is recovered from A_l alone (lambda where A > 0, else
 * A + lambda*alpha), so the pre-activations are never stored.
 *
 * FLOP convention (qs_flops_*; the simulator charges budgets with these):
 *   - a matrix product of (m, k) by (k, n) counts 2mnk, whatever beta (a vector product
 *     is the case n = 1);
 *   - every float add, subtract, multiply, divide and compare counts 1, and so does a
 *     libm call (expf, logf, sqrtf); SELU counts QS_FLOPS_SELU = 26 per element (the
 *     operations of its inlined exp), its derivative QS_FLOPS_SELU_GRAD = 3;
 *   - copies, gathers, integer and bit operations count 0, and so do the scalar set-ups
 *     done once per call (a handful of operations, independent of the shapes);
 *   - per coordinate row of the replication loss 4 (difference, square, sum, gradient);
 *     per image row of the task loss 8K + 6 for K classes (see task_row());
 *   - the scale-free losses add 2N (relative: sum of squares) or 4N (r2: sum, centred
 *     sum of squares) for the denominator and 3N for its gradient term.
 * Work that is computed is counted even when unused (separate pairing computes both
 * heads on every row), so the count is what the CPU does. */
#include "core/quine.h"

#include <assert.h>
#include <cblas.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/mm.h"
#include "core/vec.h"

#define SR_ROW_FLOPS        4
#define TASK_ROW_FLOPS(k)   (8 * (uint64_t)(k) + 6)
#define SCALEFREE_MIN_DENOM 1e-30

static _Thread_local uint64_t flops_counted;

uint64_t qs_flops_counted(void)
{
    return flops_counted;
}

void qs_flops_counted_reset(void)
{
    flops_counted = 0;
}

/* ---- Names ------------------------------------------------------------------------ */

static const char *const kind_names[] = {"vanilla", "aux"};
static const char *const rest_names[] = {"zero", "mean"};
static const char *const init_names[] = {"uniform", "he"};
static const char *const sr_names[] = {"sse", "relative", "r2", "none", "hinge"};
static const char *const pairing_names[] = {"separate", "paired"};
static const char *const reduce_names[] = {"sum", "mean"};

QS_NAME_FNS(qs_kind_name, qs_kind_parse, qs_kind_t, kind_names)
const qs_names_t qs_kind_names = QS_NAMES(kind_names);
QS_NAME_FNS(qs_rest_name, qs_rest_parse, qs_rest_t, rest_names)
const qs_names_t qs_rest_names = QS_NAMES(rest_names);
QS_NAME_FNS(qs_init_name, qs_init_parse, qs_init_t, init_names)
const qs_names_t qs_init_names = QS_NAMES(init_names);
QS_NAME_FNS(qs_sr_loss_name, qs_sr_loss_parse, qs_sr_loss_t, sr_names)
const qs_names_t qs_sr_loss_names = QS_NAMES(sr_names);
QS_NAME_FNS(qs_pairing_name, qs_pairing_parse, qs_pairing_t, pairing_names)
const qs_names_t qs_pairing_names = QS_NAMES(pairing_names);
QS_NAME_FNS(qs_reduce_name, qs_reduce_parse, qs_reduce_t, reduce_names)
const qs_names_t qs_reduce_names = QS_NAMES(reduce_names);

/* ---- Spec --------------------------------------------------------------------------- */

qs_quine_spec_t qs_quine_spec_default(qs_kind_t kind, uint64_t proj_seed)
{
    qs_quine_spec_t s = {0};
    s.kind = kind;
    s.hidden = 100;
    s.depth = 2;
    s.classes = kind == QS_KIND_AUX ? QS_NUM_CLASSES : 0;
    s.image_dim = kind == QS_KIND_AUX ? 784 : 0;
    s.rest = QS_REST_ZERO;
    s.coord_scale = 1.0f;
    s.proj_seed = proj_seed;
    return s;
}

static size_t nparams_unchecked(const qs_quine_spec_t *s)
{
    size_t h = s->hidden;
    size_t n = (size_t)s->depth * h * h + h;
    if (s->kind == QS_KIND_AUX)
        n += h * s->classes;
    return n;
}

int qs_quine_spec_validate(const qs_quine_spec_t *s, qs_error_t *err)
{
    if (s->kind != QS_KIND_VANILLA && s->kind != QS_KIND_AUX)
        return qs_error_set(err, QS_ERR(INVAL), "spec: unknown kind %d", (int)s->kind);
    if (s->hidden < 2 || s->hidden > 4096)
        return qs_error_set(err, QS_ERR(RANGE), "spec: hidden %u is outside 2..4096", s->hidden);
    if (s->depth < 1 || s->depth > 16)
        return qs_error_set(err, QS_ERR(RANGE), "spec: depth %u is outside 1..16", s->depth);
    if (s->kind == QS_KIND_AUX) {
        if (s->classes < 2 || s->classes > 1024)
            return qs_error_set(err, QS_ERR(RANGE), "spec: classes %u is outside 2..1024",
                                s->classes);
        if (s->image_dim < 1 || s->image_dim > 65536)
            return qs_error_set(err, QS_ERR(RANGE), "spec: image_dim %u is outside 1..65536",
                                s->image_dim);
        if (s->rest != QS_REST_ZERO && s->rest != QS_REST_MEAN)
            return qs_error_set(err, QS_ERR(INVAL), "spec: unknown rest input %d", (int)s->rest);
    } else if (s->classes != 0 || s->image_dim != 0) {
        return qs_error_set(err, QS_ERR(INVAL),
                            "spec: a vanilla quine has no class head or image input "
                            "(classes %u, image_dim %u; both must be 0)",
                            s->classes, s->image_dim);
    }
    if (!(s->coord_scale >= 0 && s->coord_scale <= 1000))
        return qs_error_set(err, QS_ERR(RANGE), "spec: coord_scale %g is outside 0..1000",
                            (double)s->coord_scale);
    if (nparams_unchecked(s) >= (size_t)1 << 31)
        return qs_error_set(err, QS_ERR(RANGE), "spec: %zu parameters (limit 2^31)",
                            nparams_unchecked(s));
    return 0;
}

size_t qs_quine_nparams(const qs_quine_spec_t *spec)
{
    return nparams_unchecked(spec);
}

static uint32_t coord_width(const qs_quine_spec_t *s)
{
    return s->kind == QS_KIND_AUX ? s->hidden / 2 : s->hidden;
}

static uint32_t image_width(const qs_quine_spec_t *s)
{
    return s->kind == QS_KIND_AUX ? s->hidden - s->hidden / 2 : 0;
}

/* Offsets into theta. */
static size_t off_w(const qs_quine_spec_t *s, uint32_t l) /* W_{l+1}, l = 0..depth-1 */
{
    return (size_t)l * s->hidden * s->hidden;
}
static size_t off_out(const qs_quine_spec_t *s)
{
    return (size_t)s->depth * s->hidden * s->hidden;
}
static size_t off_cls(const qs_quine_spec_t *s)
{
    return off_out(s) + s->hidden;
}

size_t qs_quine_param_groups(const qs_quine_spec_t *spec, qs_param_group_t *out, size_t cap)
{
    static const char *const wnames[16] = {"W1", "W2",  "W3",  "W4",  "W5",  "W6",  "W7",  "W8",
                                           "W9", "W10", "W11", "W12", "W13", "W14", "W15", "W16"};
    size_t n = 0, h = spec->hidden;
    qs_param_group_t g[18];
    for (uint32_t l = 0; l < spec->depth && l < 16; l++)
        g[n++] = (qs_param_group_t){wnames[l], off_w(spec, l), h * h};
    g[n++] = (qs_param_group_t){"w_out", off_out(spec), h};
    if (spec->kind == QS_KIND_AUX)
        g[n++] = (qs_param_group_t){"W_cls", off_cls(spec), h * spec->classes};
    for (size_t i = 0; i < n && i < cap; i++)
        out[i] = g[i];
    return n;
}

void qs_quine_init_weights(const qs_quine_spec_t *spec, qs_init_t init, qs_rng_t *rng, float *theta)
{
    size_t n = qs_quine_nparams(spec), hidden_end = off_out(spec);
    double h = spec->hidden;
    for (size_t i = 0; i < n; i++) {
        if (init == QS_INIT_UNIFORM) {
            theta[i] = (float)(qs_rng_uniform(rng) * 0.2 - 0.1);
        } else {
            double sd = i < hidden_end ? sqrt(2.0 / h) : sqrt(1.0 / h);
            theta[i] = (float)(qs_rng_normal(rng) * sd);
        }
    }
}

/* ---- Physics -------------------------------------------------------------------------- */

struct qs_phys {
    qs_quine_spec_t spec;
    size_t n;
    uint32_t hc, hi;
    float *coord_act;         /* (N, hc): SELU(Pc) */
    uint16_t *coord_act_bf16; /* (N, hc): the same rounded to bf16, for bf16 regeneration */
    float *img_proj;          /* (image_dim, hi): Pi, scale included (aux) */
    float *rest_act;          /* (hi): SELU(rest Pi) (aux) */
};

static double image_scale(const qs_quine_spec_t *spec)
{
    return sqrt(10.0 / spec->image_dim);
}

void qs_phys_coord_projection(const qs_quine_spec_t *spec, size_t c, float *row)
{
    qs_rng_t r;
    qs_rng_init(&r, spec->proj_seed, qs_rng_stream(QS_STREAM_PROJECTION, c));
    uint32_t hc = coord_width(spec);
    double scale = spec->coord_scale > 0 ? spec->coord_scale : 1.0;
    for (uint32_t j = 0; j < hc; j++)
        row[j] = (float)(qs_rng_normal(&r) * scale);
}

void qs_phys_image_projection(const qs_quine_spec_t *spec, size_t p, float *row)
{
    qs_rng_t r;
    qs_rng_init(&r, spec->proj_seed, qs_rng_stream(QS_STREAM_PROJECTION, QS_PROJ_IMAGE_STREAM + p));
    uint32_t hi = image_width(spec);
    double scale = image_scale(spec);
    for (uint32_t j = 0; j < hi; j++)
        row[j] = (float)(qs_rng_normal(&r) * scale);
}

static qs_phys_t *phys_build(const qs_quine_spec_t *spec, const float *mean_image, int with_coords)
{
    qs_error_t err;
    if (qs_quine_spec_validate(spec, &err) < 0)
        qs_die("qs_phys_new: %s", err.msg);
    qs_phys_t *p = xcalloc(1, sizeof *p);
    p->spec = *spec;
    p->n = qs_quine_nparams(spec);
    p->hc = coord_width(spec);
    p->hi = image_width(spec);
    if (with_coords) {
        p->coord_act = xaligned(p->n * p->hc * sizeof(float));
        for (size_t c = 0; c < p->n; c++)
            qs_phys_coord_projection(spec, c, p->coord_act + c * p->hc);
        qs_vec_selu(p->coord_act, p->coord_act, p->n * p->hc);
        p->coord_act_bf16 = xaligned(p->n * p->hc * sizeof(uint16_t));
        qs_bf16_from_f32(p->coord_act_bf16, p->coord_act, p->n * p->hc);
    }
    if (spec->kind == QS_KIND_AUX) {
        p->img_proj = xaligned((size_t)spec->image_dim * p->hi * sizeof(float));
        for (uint32_t i = 0; i < spec->image_dim; i++)
            qs_phys_image_projection(spec, i, p->img_proj + (size_t)i * p->hi);
        p->rest_act = xcalloc(p->hi, sizeof(float));
        if (spec->rest == QS_REST_MEAN) {
            if (!mean_image)
                qs_die("qs_phys_new: rest input 'mean' needs the mean training image");
            for (uint32_t j = 0; j < p->hi; j++) {
                double z = 0;
                for (uint32_t i = 0; i < spec->image_dim; i++)
                    z += (double)mean_image[i] * p->img_proj[(size_t)i * p->hi + j];
                p->rest_act[j] = (float)z;
            }
            qs_vec_selu(p->rest_act, p->rest_act, p->hi);
        }
    }
    return p;
}

size_t qs_phys_bytes(const qs_quine_spec_t *spec, int with_coords)
{
    size_t n = qs_quine_nparams(spec), hc = coord_width(spec), hi = image_width(spec);
    size_t bytes = sizeof(qs_phys_t);
    if (with_coords)
        bytes += n * hc * (sizeof(float) + sizeof(uint16_t));
    if (spec->kind == QS_KIND_AUX)
        bytes += ((size_t)spec->image_dim * hi + hi) * sizeof(float);
    return bytes;
}

qs_phys_t *qs_phys_new(const qs_quine_spec_t *spec, const float *mean_image)
{
    return phys_build(spec, mean_image, 1);
}

qs_phys_t *qs_phys_new_classifier(const qs_quine_spec_t *spec, const float *mean_image)
{
    return phys_build(spec, mean_image, 0);
}

void qs_phys_free(qs_phys_t *p)
{
    if (!p)
        return;
    free(p->coord_act);
    free(p->coord_act_bf16);
    free(p->img_proj);
    free(p->rest_act);
    free(p);
}

const qs_quine_spec_t *qs_phys_spec(const qs_phys_t *p)
{
    return &p->spec;
}

size_t qs_phys_nparams(const qs_phys_t *p)
{
    return p->n;
}

uint32_t qs_phys_coord_width(const qs_phys_t *p)
{
    return p->hc;
}

uint32_t qs_phys_image_width(const qs_phys_t *p)
{
    return p->hi;
}

const float *qs_phys_coord_act(const qs_phys_t *p, size_t c)
{
    assert(c < p->n && p->coord_act);
    return p->coord_act + c * p->hc;
}

const float *qs_phys_rest_act(const qs_phys_t *p)
{
    return p->rest_act;
}

/* ---- Matrix products ------------------------------------------------------------------ */

/* C (m, n) = op(A) (m, k) op(B) (k, n) + beta C, row-major. */
static void gemm(int trans_a, int trans_b, size_t m, size_t n, size_t k, const float *a, size_t lda,
                 const float *b, size_t ldb, float beta, float *c, size_t ldc)
{
    if (m == 0 || n == 0)
        return;
    flops_counted += 2 * (uint64_t)m * n * k;
    if (k == 0) { /* nothing to multiply: C = beta C */
        for (size_t i = 0; i < m; i++)
            for (size_t j = 0; j < n; j++)
                c[i * ldc + j] = beta == 0 ? 0 : beta * c[i * ldc + j];
        return;
    }
    cblas_sgemm(CblasRowMajor, trans_a ? CblasTrans : CblasNoTrans,
                trans_b ? CblasTrans : CblasNoTrans, (int)m, (int)n, (int)k, 1.0f, a, (int)lda, b,
                (int)ldb, beta, c, (int)ldc);
}

static void selu_inplace(float *x, size_t n)
{
    flops_counted += (uint64_t)n * QS_FLOPS_SELU;
    qs_vec_selu(x, x, n);
}

static void selu_grad_inplace(float *da, const float *a, size_t n)
{
    flops_counted += (uint64_t)n * QS_FLOPS_SELU_GRAD;
    qs_vec_selu_grad(da, da, a, n);
}

/* ---- Data ------------------------------------------------------------------------------ */

void qs_dataset_mean_image(const qs_dataset_t *ds, float *out)
{
    size_t dim = (size_t)ds->rows * ds->cols;
    double *acc = xcalloc(dim, sizeof *acc);
    for (uint32_t i = 0; i < ds->count; i++) {
        const uint8_t *px = ds->pixels + (size_t)i * dim;
        for (size_t j = 0; j < dim; j++)
            acc[j] += px[j];
    }
    for (size_t j = 0; j < dim; j++)
        out[j] = ds->count ? (float)(acc[j] / 255.0 / ds->count) : 0.0f;
    free(acc);
}

void qs_features_init(qs_features_t *f, const qs_phys_t *phys, const qs_dataset_t *ds)
{
    const qs_quine_spec_t *spec = &phys->spec;
    size_t dim = spec->image_dim, hi = phys->hi;
    if (spec->kind != QS_KIND_AUX)
        qs_die("qs_features_init: a vanilla quine has no image input");
    if ((size_t)ds->rows * ds->cols != dim)
        qs_die("qs_features_init: images have %u x %u pixels, the model expects %zu", ds->rows,
               ds->cols, dim);
    f->count = ds->count;
    f->width = (uint32_t)hi;
    f->labels = ds->labels;
    f->act = xaligned(((size_t)ds->count * hi + 1) * sizeof(float));
    float *x = xaligned(QS_CHUNK_ROWS * dim * sizeof(float));
    for (size_t i0 = 0; i0 < ds->count; i0 += QS_CHUNK_ROWS) {
        size_t m = QS_MIN((size_t)QS_CHUNK_ROWS, ds->count - i0);
        const uint8_t *px = ds->pixels + i0 * dim;
        for (size_t j = 0; j < m * dim; j++)
            x[j] = (float)px[j] / 255.0f;
        /* act (m, hi) = x (m, dim) Pi (dim, hi) */
        gemm(0, 0, m, hi, dim, x, dim, phys->img_proj, hi, 0.0f, f->act + i0 * hi, hi);
    }
    qs_vec_selu(f->act, f->act, (size_t)ds->count * hi);
    free(x);
}

void qs_features_destroy(qs_features_t *f)
{
    free(f->act);
    f->act = NULL;
    f->count = 0;
}

/* ---- Workspace ------------------------------------------------------------------------ */

struct qs_work {
    size_t h, depth, k1, hc, hi;
    float *x0;    /* (CHUNK, H) gathered first-layer activations */
    float *act;   /* depth x (CHUNK, H): A_1 .. A_depth */
    float *da;    /* (CHUNK, H) */
    float *db;    /* (CHUNK, H) */
    float *out;   /* (CHUNK, K1): [y | logits] */
    float *dout;  /* (CHUNK, K1) */
    float *head;  /* (H, K1): [w_out | W_cls] packed (aux) */
    float *ghead; /* (H, K1) */
    /* Regeneration and evaluation at bf16 (qs_work_set_precision): */
    qs_precision_t prec;
    qs_mm_t *mm;    /* oneDNN context, made on the first bf16 product */
    uint16_t *wb;   /* (depth, H, H): the hidden matrices in bf16 */
    uint16_t *x0b;  /* (CHUNK, H): the first layer's input chunk in bf16 */
    uint16_t *actb; /* 2 x (CHUNK, H): hidden activations in bf16 (ping-pong) */
};

qs_work_t *qs_work_new(const qs_quine_spec_t *spec, size_t max_rows)
{
    (void)max_rows; /* chunks are always QS_CHUNK_ROWS rows: see quine.h */
    qs_work_t *w = xcalloc(1, sizeof *w);
    w->h = spec->hidden;
    w->depth = spec->depth;
    w->k1 = 1 + (spec->kind == QS_KIND_AUX ? spec->classes : 0);
    w->hc = coord_width(spec);
    w->hi = image_width(spec);
    size_t rows = QS_CHUNK_ROWS, h = w->h;
    w->x0 = xaligned(rows * h * sizeof(float));
    w->act = xaligned(w->depth * rows * h * sizeof(float));
    w->da = xaligned(rows * h * sizeof(float));
    w->db = xaligned(rows * h * sizeof(float));
    w->out = xaligned(rows * w->k1 * sizeof(float));
    w->dout = xaligned(rows * w->k1 * sizeof(float));
    w->head = xaligned(h * w->k1 * sizeof(float));
    w->ghead = xaligned(h * w->k1 * sizeof(float));
    return w;
}

size_t qs_work_bytes(const qs_quine_spec_t *spec)
{
    size_t rows = QS_CHUNK_ROWS, h = spec->hidden;
    size_t k1 = 1 + (spec->kind == QS_KIND_AUX ? spec->classes : 0);
    /* x0, act (depth layers), da, db; out, dout; head, ghead */
    return sizeof(qs_work_t) +
           ((3 + spec->depth) * rows * h + 2 * rows * k1 + 2 * h * k1) * sizeof(float);
}

void qs_work_free(qs_work_t *w)
{
    if (!w)
        return;
    free(w->x0);
    free(w->act);
    free(w->da);
    free(w->db);
    free(w->out);
    free(w->dout);
    free(w->head);
    free(w->ghead);
    qs_mm_free(w->mm);
    free(w->wb);
    free(w->x0b);
    free(w->actb);
    free(w);
}

qs_precision_t qs_work_set_precision(qs_work_t *w, qs_precision_t p)
{
    p = qs_mm_effective(p, NULL, 0);
    if (p == QS_PREC_BF16 && !w->mm) {
        size_t h = w->h;
        w->mm = qs_mm_new();
        w->wb = xaligned(w->depth * h * h * sizeof(uint16_t));
        w->x0b = xaligned(QS_CHUNK_ROWS * h * sizeof(uint16_t));
        w->actb = xaligned(2 * QS_CHUNK_ROWS * h * sizeof(uint16_t));
    }
    w->prec = p;
    return p;
}

qs_precision_t qs_work_precision(const qs_work_t *w)
{
    return w->prec;
}

const char *qs_work_impl(const qs_work_t *w)
{
    return w->mm ? qs_mm_impl(w->mm) : "";
}

/* ---- Forward / backward ----------------------------------------------------------------- */

/* The hidden stack: act_l (m, H) = SELU(act_{l-1} W_l), act_0 = a0 (m, k0) with W_1's first
 * k0 rows (k0 < H when the rest of the first layer is known to be zero). If bias is not
 * NULL, Z_1 = bias + a0 W_1[:k0] instead (bias (H) broadcast over rows). */
static void hidden_forward(qs_work_t *w, const float *theta, const qs_quine_spec_t *spec,
                           const float *a0, size_t lda0, size_t k0, const float *w1,
                           const float *bias, size_t m)
{
    size_t h = w->h;
    float *z = w->act;
    if (bias)
        for (size_t i = 0; i < m; i++)
            memcpy(z + i * h, bias, h * sizeof(float));
    gemm(0, 0, m, h, k0, a0, lda0, w1, h, bias ? 1.0f : 0.0f, z, h);
    selu_inplace(z, m * h);
    for (size_t l = 1; l < w->depth; l++) {
        float *prev = w->act + (l - 1) * QS_CHUNK_ROWS * h;
        float *cur = w->act + l * QS_CHUNK_ROWS * h;
        gemm(0, 0, m, h, h, prev, h, theta + off_w(spec, (uint32_t)l), h, 0.0f, cur, h);
        selu_inplace(cur, m * h);
    }
}

static float *last_act(qs_work_t *w)
{
    return w->act + (w->depth - 1) * QS_CHUNK_ROWS * w->h;
}

/* The hidden stack at bf16 on oneDNN, the same contract as hidden_forward with W_1's rows
 * from w1_row on (k0 of them): a0 is rounded to bf16 (unless a0b, contiguous, already
 * holds it), each layer is one product
 * A W_l [+ bias] with fp32 accumulation (into the fp32 activation buffer), then the bf16
 * path's SELU (qs_bf16_selu) writes it in bf16 for the next layer, or in fp32 for the
 * last (the heads stay fp32). w->wb must hold theta's hidden matrices. FLOPs are counted
 * as hidden_forward counts them, so that budgets mean the same at either precision. */
static void hidden_forward_bf16(qs_work_t *w, const qs_quine_spec_t *spec, const float *a0,
                                const uint16_t *a0b, size_t lda0, size_t k0, size_t w1_row,
                                const float *bias, size_t m)
{
    size_t h = w->h;
    const uint16_t *in = a0b;
    if (!a0b) {
        for (size_t i = 0; i < m; i++)
            qs_bf16_from_f32(w->x0b + i * k0, a0 + i * lda0, k0);
        in = w->x0b;
    }
    size_t k = k0;
    float *z = last_act(w);
    for (size_t l = 0; l < w->depth; l++) {
        qs_mm_shape_t sh = {.m = m,
                            .n = h,
                            .k = k,
                            .lda = k,
                            .ldb = h,
                            .ldc = h,
                            .ab = QS_MM_BF16,
                            .c = QS_MM_F32,
                            .bias = l == 0 && bias,
                            .epilogue = QS_MM_NONE};
        const uint16_t *b = w->wb + off_w(spec, (uint32_t)l) + (l == 0 ? w1_row * h : 0);
        qs_mm_run(w->mm, &sh, in, b, l == 0 ? bias : NULL, z);
        flops_counted += 2 * (uint64_t)m * h * k + (uint64_t)m * h * QS_FLOPS_SELU;
        if (l + 1 == w->depth) {
            qs_bf16_selu_f32(z, z, m * h);
        } else {
            uint16_t *outb = w->actb + (l % 2) * QS_CHUNK_ROWS * h;
            qs_bf16_selu(outb, z, m * h);
            in = outb;
        }
        k = h;
    }
}

/* One image row of the task loss: logits (K) -> adds the cross-entropy to *task, writes
 * dlogits = coef (softmax(logits / T) - onehot) / T (coef includes lambda and the
 * reduction), returns 1 if argmax == label. 8K + 6 FLOPs (see the file comment). */
static int task_row(const float *logits, size_t k, unsigned label, float inv_t, float coef_t,
                    float *dlogits, double *task, float *scratch)
{
    float mx = -INFINITY;
    size_t arg = 0;
    for (size_t j = 0; j < k; j++) { /* K multiplies, K compares */
        scratch[j] = logits[j] * inv_t;
        if (scratch[j] > mx) {
            mx = scratch[j];
            arg = j;
        }
    }
    float sum = 0;
    for (size_t j = 0; j < k; j++) { /* subtract, exp, add: 3K */
        scratch[j] = expf(scratch[j] - mx);
        sum += scratch[j];
    }
    float zl = logits[label] * inv_t;               /* 1 */
    *task += (double)(mx + logf(sum)) - (double)zl; /* log, add, subtract, add: 4 */
    float inv_sum = 1.0f / sum;                     /* 1 */
    for (size_t j = 0; j < k; j++)                  /* multiply, subtract, multiply: 3K */
        dlogits[j] = coef_t * (scratch[j] * inv_sum - (j == label ? 1.0f : 0.0f));
    return arg == label;
}

/* The batch's forward pass, losses and hand-derived backward pass (core/quine.h). Long
 * (160 lines) for a reason: the hot kernel, one chunk loop whose gather, forward, loss and
 * backward steps share a dozen shapes and buffers (m, H, K1, beta, head, ghead, ...); split,
 * each step would take them all as arguments and the derivation would no longer read top
 * to bottom. */
void qs_quine_loss_grad(const qs_phys_t *phys, const float *theta, const float *targets,
                        const uint32_t *coords, size_t nc, const qs_features_t *feat,
                        const uint32_t *images, size_t ni, const qs_objective_t *obj, qs_work_t *w,
                        float *grad, qs_batch_stats_t *stats)
{
    const qs_quine_spec_t *spec = &phys->spec;
    const size_t n = phys->n, h = w->h, k1 = w->k1, k = k1 - 1, hc = phys->hc, hi = phys->hi;
    const int aux = spec->kind == QS_KIND_AUX;
    const int paired = aux && obj->pairing == QS_PAIR_PAIRED;
    assert(aux || ni == 0);
    assert(ni == 0 || feat);
    const size_t rows = paired ? QS_MAX(nc, ni) : nc + ni;
    const int sr_on = obj->sr_loss != QS_SR_NONE && nc > 0;
    const int hinge = obj->sr_loss == QS_SR_HINGE;
    double hinge_sum = 0;

    /* Replication loss scale: dL/dy = 2 sr_scale (y - t). */
    double denom = 1, mean = 0, sr_scale = 1;
    if (sr_on && (obj->sr_loss == QS_SR_RELATIVE || obj->sr_loss == QS_SR_R2)) {
        if (obj->sr_loss == QS_SR_RELATIVE) {
            denom = qs_vec_sumsq(theta, n);
            flops_counted += 2 * (uint64_t)n;
        } else {
            mean = qs_vec_sum(theta, n) / (double)n;
            denom = qs_vec_sumsq_centered(theta, n, mean);
            flops_counted += 4 * (uint64_t)n;
        }
        if (denom < SCALEFREE_MIN_DENOM)
            denom = SCALEFREE_MIN_DENOM;
        sr_scale = (double)n / ((double)nc * denom);
    }
    const float sr_coef = (float)(2.0 * sr_scale);
    const float inv_t = 1.0f / obj->temperature;
    const double reduce = (obj->reduce == QS_REDUCE_MEAN && ni > 0) ? 1.0 / (double)ni : 1.0;
    const float task_coef = (float)((double)obj->lambda * reduce / (double)obj->temperature);

    /* The heads as one (H, K1) matrix: column 0 w_out, columns 1..K W_cls. */
    const float *head;
    float *ghead;
    if (aux) {
        const float *wo = theta + off_out(spec), *wc = theta + off_cls(spec);
        for (size_t i = 0; i < h; i++) {
            w->head[i * k1] = wo[i];
            memcpy(w->head + i * k1 + 1, wc + i * k, k * sizeof(float));
        }
        head = w->head;
        ghead = w->ghead;
    } else {
        head = theta + off_out(spec);
        ghead = grad + off_out(spec);
    }

    double sse = 0, task = 0;
    uint32_t correct = 0;
    float scratch[1024 + 1];
    for (size_t r0 = 0; r0 < rows; r0 += QS_CHUNK_ROWS) {
        const size_t m = QS_MIN((size_t)QS_CHUNK_ROWS, rows - r0);
        const float beta = r0 == 0 ? 0.0f : 1.0f;

        /* Gather A_0 (m, H) = [coordinate half | image half]. */
        for (size_t i = 0; i < m; i++) {
            size_t r = r0 + i;
            int has_c = r < nc;
            int has_i = aux && (paired ? r < ni : r >= nc);
            float *row = w->x0 + i * h;
            assert(!has_c || phys->coord_act); /* a classifier-only phys cannot train */
            if (has_c)
                memcpy(row, phys->coord_act + (size_t)coords[r] * hc, hc * sizeof(float));
            else
                memset(row, 0, hc * sizeof(float));
            if (aux) {
                const float *src =
                    has_i ? feat->act + (size_t)images[paired ? r : r - nc] * hi : phys->rest_act;
                memcpy(row + hc, src, hi * sizeof(float));
            }
        }
        hidden_forward(w, theta, spec, w->x0, h, h, theta + off_w(spec, 0), NULL, m);
        float *ad = last_act(w);
        /* out (m, K1) = A_d (m, H) head (H, K1) */
        if (k1 > 1) {
            gemm(0, 0, m, k1, h, ad, h, head, k1, 0.0f, w->out, k1);
        } else { /* one column (vanilla): dot products beat a BLAS call of this shape */
            for (size_t i = 0; i < m; i++)
                w->out[i] = qs_vec_dot(ad + i * h, head, h);
            flops_counted += 2 * (uint64_t)m * h;
        }

        /* Losses and dout (m, K1). */
        memset(w->dout, 0, m * k1 * sizeof(float));
        for (size_t i = 0; i < m; i++) {
            size_t r = r0 + i;
            int has_c = r < nc;
            int has_i = aux && (paired ? r < ni : r >= nc);
            if (has_c && sr_on) {
                const float y = w->out[i * k1], t = targets[coords[r]], d = y - t;
                sse += (double)(d * d);
                if (!hinge)
                    w->dout[i * k1] = sr_coef * d;
                else if (t != 0 && y / t < 1) {
                    hinge_sum += 1.0 - (double)(y / t);
                    w->dout[i * k1] = -1.0f / t;
                }
                flops_counted += SR_ROW_FLOPS;
            }
            if (has_i) {
                unsigned label = feat->labels[images[paired ? r : r - nc]];
                correct += (uint32_t)task_row(w->out + i * k1 + 1, k, label, inv_t, task_coef,
                                              w->dout + i * k1 + 1, &task, scratch);
                flops_counted += TASK_ROW_FLOPS(k);
            }
        }

        /* Backward. ghead (H, K1) += A_d^T (H, m) dout (m, K1). */
        /* da (m, H) = dout (m, K1) head^T (K1, H) */
        if (k1 > 1) {
            gemm(1, 0, h, k1, m, ad, h, w->dout, k1, beta, ghead, k1);
            gemm(0, 1, m, h, k1, w->dout, k1, head, k1, 0.0f, w->da, h);
        } else { /* one column: axpys and an outer product, counted as the products */
            if (beta == 0)
                memset(ghead, 0, h * sizeof(float));
            for (size_t i = 0; i < m; i++) {
                qs_vec_axpy(ghead, w->dout[i], ad + i * h, h);
                qs_vec_scale(w->da + i * h, w->dout[i], head, h);
            }
            flops_counted += 4 * (uint64_t)m * h;
        }
        float *da = w->da, *db = w->db;
        for (size_t l = w->depth; l-- > 0;) {
            float *a = w->act + l * QS_CHUNK_ROWS * h;
            const float *aprev = l > 0 ? w->act + (l - 1) * QS_CHUNK_ROWS * h : w->x0;
            selu_grad_inplace(da, a, m * h); /* da := dZ_l */
            /* grad W_l (H, H) += A_{l-1}^T (H, m) dZ_l (m, H) */
            gemm(1, 0, h, h, m, aprev, h, da, h, beta, grad + off_w(spec, (uint32_t)l), h);
            if (l > 0) {
                /* db (m, H) = dZ_l (m, H) W_l^T (H, H) */
                gemm(0, 1, m, h, h, da, h, theta + off_w(spec, (uint32_t)l), h, 0.0f, db, h);
                float *t = da;
                da = db;
                db = t;
            }
        }
    }
    if (rows == 0) {
        memset(grad, 0, n * sizeof(float));
        memset(w->ghead, 0, h * k1 * sizeof(float));
    }
    if (aux) {
        float *go = grad + off_out(spec), *gc = grad + off_cls(spec);
        for (size_t i = 0; i < h; i++) {
            go[i] = w->ghead[i * k1];
            memcpy(gc + i * k, w->ghead + i * k1 + 1, k * sizeof(float));
        }
    }

    double sr = sr_on ? (hinge ? hinge_sum : sse * sr_scale) : 0;
    if (sr_on && (obj->sr_loss == QS_SR_RELATIVE || obj->sr_loss == QS_SR_R2)) {
        /* d/dtheta_j of (N/nc) S / D through D: -(sr / D) * 2 (theta_j - shift). */
        float alpha = (float)(-2.0 * sr / denom);
        float shift = obj->sr_loss == QS_SR_R2 ? (float)mean : 0.0f;
        qs_vec_add_scaled_shifted(grad, theta, alpha, shift, n);
        flops_counted += 3 * (uint64_t)n;
    }
    if (stats) {
        double t = task * reduce;
        stats->sse = sr_on ? sse : 0;
        stats->sr = sr;
        stats->task = t;
        stats->loss = sr + (double)obj->lambda * t;
        stats->correct = correct;
    }
}

void qs_quine_predict_all(const qs_phys_t *phys, const float *theta, float *pred, qs_work_t *w)
{
    const qs_quine_spec_t *spec = &phys->spec;
    const size_t n = phys->n, h = w->h, hc = phys->hc, hi = phys->hi;
    const float *w1 = theta + off_w(spec, 0);
    const float *bias = NULL;
    if (spec->kind == QS_KIND_AUX && spec->rest != QS_REST_ZERO) {
        /* The image half is the same on every row: its contribution is a bias
         * (1, H) = rest (1, hi) W_1[hc:] (hi, H), kept in x0's first row. */
        gemm(0, 0, 1, h, hi, phys->rest_act, hi, w1 + hc * h, h, 0.0f, w->x0, h);
        bias = w->x0;
    }
    assert(phys->coord_act); /* a classifier-only phys cannot replicate */
    const int bf16 = w->prec == QS_PREC_BF16;
    if (bf16)
        qs_bf16_from_f32(w->wb, theta, w->depth * h * h);
    for (size_t c0 = 0; c0 < n; c0 += QS_CHUNK_ROWS) {
        size_t m = QS_MIN((size_t)QS_CHUNK_ROWS, n - c0);
        if (bf16)
            hidden_forward_bf16(w, spec, NULL, phys->coord_act_bf16 + c0 * hc, hc, hc, 0, bias, m);
        else
            hidden_forward(w, theta, spec, phys->coord_act + c0 * hc, hc, hc, w1, bias, m);
        /* pred (m, 1) = A_d (m, H) w_out (H, 1) */
        gemm(0, 0, m, 1, h, last_act(w), h, theta + off_out(spec), 1, 0.0f, pred + c0, 1);
    }
}

double qs_quine_accuracy(const qs_phys_t *phys, const float *theta, const qs_features_t *feat,
                         qs_work_t *w, uint32_t *correct_out)
{
    const qs_quine_spec_t *spec = &phys->spec;
    const size_t h = w->h, hc = phys->hc, hi = phys->hi, k = spec->classes;
    assert(spec->kind == QS_KIND_AUX);
    uint32_t correct = 0;
    const int bf16 = w->prec == QS_PREC_BF16;
    if (bf16)
        qs_bf16_from_f32(w->wb, theta, w->depth * h * h);
    for (size_t i0 = 0; i0 < feat->count; i0 += QS_CHUNK_ROWS) {
        size_t m = QS_MIN((size_t)QS_CHUNK_ROWS, feat->count - i0);
        /* zero coordinate half: Z_1 = image half (m, hi) W_1[hc:] (hi, H) */
        if (bf16)
            hidden_forward_bf16(w, spec, feat->act + i0 * hi, NULL, hi, hi, hc, NULL, m);
        else
            hidden_forward(w, theta, spec, feat->act + i0 * hi, hi, hi,
                           theta + off_w(spec, 0) + hc * h, NULL, m);
        /* logits (m, K) = A_d (m, H) W_cls (H, K) */
        gemm(0, 0, m, k, h, last_act(w), h, theta + off_cls(spec), k, 0.0f, w->out, k);
        for (size_t i = 0; i < m; i++) {
            const float *lg = w->out + i * k;
            size_t arg = 0;
            for (size_t j = 1; j < k; j++)
                if (lg[j] > lg[arg])
                    arg = j;
            correct += arg == feat->labels[i0 + i];
        }
        flops_counted += m * (k - 1);
    }
    if (correct_out)
        *correct_out = correct;
    return feat->count ? (double)correct / feat->count : 0.0;
}

/* ---- FLOP formulas ---------------------------------------------------------------------- */

/* The hidden stack over m rows with a first layer of k0 inputs. */
static uint64_t flops_hidden(const qs_quine_spec_t *s, uint64_t m, uint64_t k0)
{
    uint64_t h = s->hidden;
    return 2 * m * h * k0 + (s->depth - 1) * 2 * m * h * h + s->depth * m * h * QS_FLOPS_SELU;
}

uint64_t qs_flops_step(const qs_quine_spec_t *s, const qs_objective_t *obj, size_t nc, size_t ni)
{
    const int aux = s->kind == QS_KIND_AUX;
    const int paired = aux && obj->pairing == QS_PAIR_PAIRED;
    const uint64_t h = s->hidden, k = aux ? s->classes : 0, k1 = 1 + k, n = nparams_unchecked(s);
    const uint64_t rows = paired ? QS_MAX(nc, ni) : nc + ni;
    const int sr_on = obj->sr_loss != QS_SR_NONE && nc > 0;
    uint64_t f = flops_hidden(s, rows, h) + 2 * rows * h * k1; /* forward */
    if (sr_on)
        f += SR_ROW_FLOPS * (uint64_t)nc;
    f += TASK_ROW_FLOPS(k) * (uint64_t)ni;
    f += 2 * h * k1 * rows + 2 * rows * h * k1;                         /* head gradients, dA_d */
    f += s->depth * (rows * h * QS_FLOPS_SELU_GRAD + 2 * h * h * rows); /* dZ_l, grad W_l */
    f += (s->depth - 1) * 2 * rows * h * h;                             /* dA_{l-1} */
    if (sr_on && obj->sr_loss == QS_SR_RELATIVE)
        f += (2 + 3) * n;
    if (sr_on && obj->sr_loss == QS_SR_R2)
        f += (4 + 3) * n;
    return f;
}

uint64_t qs_flops_regen(const qs_quine_spec_t *s)
{
    uint64_t n = nparams_unchecked(s), h = s->hidden;
    uint64_t f = flops_hidden(s, n, coord_width(s)) + 2 * n * h;
    if (s->kind == QS_KIND_AUX && s->rest != QS_REST_ZERO)
        f += 2 * h * image_width(s);
    return f;
}

uint64_t qs_flops_eval(const qs_quine_spec_t *s, size_t nimages)
{
    uint64_t m = nimages, h = s->hidden, k = s->classes;
    return flops_hidden(s, m, image_width(s)) + 2 * m * h * k + m * (k - 1);
}
