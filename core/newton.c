/* newton: Levenberg-Marquardt on the scale-free replication residual (see newton.h).
 *
 * Shapes: every coordinate is a row; A_0 (N, Hc) is the fixed coordinate half of the
 * input (phys), the image half is the constant rest row, A_l (N, H) = SELU(A_{l-1} W_l),
 * f = A_d w_out (N). Tangents run through the same chunks of QS_CHUNK_ROWS rows.
 * FLOPs are counted by core/quine.c's convention (2mnk per product, 3 per SELU
 * derivative element, 2 per element of a dot product or axpy). */
#include "core/newton.h"

#include <cblas.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/vec.h"

struct qs_newton {
    const qs_phys_t *phys;
    qs_newton_cfg_t cfg;
    size_t n, h, hc, hi, depth;
    int rest_bias; /* the rest input is not zero: it adds a bias row to Z_1 */
    float *theta;  /* (N) the linearisation point */
    float *act;    /* depth x (N, H) */
    float *pred;   /* (N) */
    float *rho;    /* (N) */
    float *x, *r, *p, *q, *t1, *t2, *trial, *trial_pred; /* (N) */
    float *da, *db;                                      /* (CHUNK, H) */
    float *bias, *dvec;                                  /* (H) */
    double mean, d;                                      /* of theta at the linearisation point */
    qs_work_t *work;
    uint64_t flops;
    /* The logits kept by qs_newton_keep_logits (aux). */
    const qs_features_t *feat;
    const uint32_t *images;
    size_t nimg, classes;
    double keep_weight, keep_coef;
    float *ximg;    /* (K, Hi) the images' half of the input */
    float *act_img; /* depth x (K, H) */
    float *dlog;    /* (K, C) */
    float *t3;      /* (N) */
};

qs_newton_cfg_t qs_newton_defaults(void)
{
    return (qs_newton_cfg_t){30, 1e-3, 1.0, 6};
}

qs_newton_t *qs_newton_new(const qs_phys_t *phys, const qs_newton_cfg_t *cfg)
{
    const qs_quine_spec_t *s = qs_phys_spec(phys);
    qs_newton_t *nt = xcalloc(1, sizeof *nt);
    nt->phys = phys;
    nt->cfg = cfg ? *cfg : qs_newton_defaults();
    nt->n = qs_phys_nparams(phys);
    nt->h = s->hidden;
    nt->hc = qs_phys_coord_width(phys);
    nt->hi = qs_phys_image_width(phys);
    nt->depth = s->depth;
    nt->rest_bias = s->kind == QS_KIND_AUX && s->rest != QS_REST_ZERO;
    size_t n = nt->n, h = nt->h;
    nt->theta = xaligned(n * sizeof(float));
    nt->act = xaligned(nt->depth * n * h * sizeof(float));
    float **vecs[] = {&nt->pred, &nt->rho, &nt->x,  &nt->r,     &nt->p,
                      &nt->q,    &nt->t1,  &nt->t2, &nt->trial, &nt->trial_pred};
    for (size_t i = 0; i < sizeof vecs / sizeof vecs[0]; i++)
        *vecs[i] = xaligned(n * sizeof(float));
    nt->da = xaligned(QS_CHUNK_ROWS * h * sizeof(float));
    nt->db = xaligned(QS_CHUNK_ROWS * h * sizeof(float));
    nt->bias = xaligned(h * sizeof(float));
    nt->dvec = xaligned(h * sizeof(float));
    nt->work = qs_work_new(s, 1);
    nt->classes = s->kind == QS_KIND_AUX ? s->classes : 0;
    return nt;
}

void qs_newton_free(qs_newton_t *nt)
{
    if (!nt)
        return;
    float *bufs[] = {nt->theta, nt->act, nt->pred, nt->rho, nt->x,     nt->r,
                     nt->p,     nt->q,   nt->t1,   nt->t2,  nt->trial, nt->trial_pred,
                     nt->da,    nt->db,  nt->bias, nt->dvec};
    for (size_t i = 0; i < sizeof bufs / sizeof bufs[0]; i++)
        free(bufs[i]);
    qs_work_free(nt->work);
    free(nt->ximg);
    free(nt->act_img);
    free(nt->dlog);
    free(nt->t3);
    free(nt);
}

static void gemm(qs_newton_t *nt, int ta, int tb, size_t m, size_t n, size_t k, const float *a,
                 size_t lda, const float *b, size_t ldb, float beta, float *c, size_t ldc)
{
    if (m == 0 || n == 0 || k == 0)
        return;
    nt->flops += 2 * (uint64_t)m * n * k;
    cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans,
                (int)m, (int)n, (int)k, 1.0f, a, (int)lda, b, (int)ldb, beta, c, (int)ldc);
}

static const float *w_layer(const qs_newton_t *nt, const float *theta, size_t l)
{
    return theta + l * nt->h * nt->h;
}

static float *act_rows(const qs_newton_t *nt, size_t l, size_t c0)
{
    return nt->act + (l * nt->n + c0) * nt->h;
}

/* bias (H) = rest (Hi) W_1[Hc:] (Hi, H): the image half's share of Z_1. */
static void rest_row(qs_newton_t *nt, const float *w1, float *out)
{
    gemm(nt, 0, 0, 1, nt->h, nt->hi, qs_phys_rest_act(nt->phys), nt->hi, w1 + nt->hc * nt->h, nt->h,
         0.0f, out, nt->h);
}

void qs_newton_linearize(qs_newton_t *nt, const float *theta)
{
    const size_t n = nt->n, h = nt->h, hc = nt->hc;
    memcpy(nt->theta, theta, n * sizeof(float));
    if (nt->rest_bias)
        rest_row(nt, theta, nt->bias);
    for (size_t c0 = 0; c0 < n; c0 += QS_CHUNK_ROWS) {
        size_t m = QS_MIN((size_t)QS_CHUNK_ROWS, n - c0);
        float *z = act_rows(nt, 0, c0);
        if (nt->rest_bias)
            for (size_t i = 0; i < m; i++)
                memcpy(z + i * h, nt->bias, h * sizeof(float));
        gemm(nt, 0, 0, m, h, hc, qs_phys_coord_act(nt->phys, c0), hc, theta, h,
             nt->rest_bias ? 1.0f : 0.0f, z, h);
        qs_vec_selu(z, z, m * h);
        for (size_t l = 1; l < nt->depth; l++) {
            float *out = act_rows(nt, l, c0);
            gemm(nt, 0, 0, m, h, h, act_rows(nt, l - 1, c0), h, w_layer(nt, theta, l), h, 0.0f, out,
                 h);
            qs_vec_selu(out, out, m * h);
        }
        gemm(nt, 0, 0, m, 1, h, act_rows(nt, nt->depth - 1, c0), h, theta + nt->depth * h * h, 1,
             0.0f, nt->pred + c0, 1);
    }
    nt->flops += (uint64_t)nt->depth * n * h * QS_FLOPS_SELU;
    nt->mean = qs_vec_sum(theta, n) / (double)n;
    nt->d = qs_vec_sumsq_centered(theta, n, nt->mean);
}

const float *qs_newton_prediction(const qs_newton_t *nt)
{
    return nt->pred;
}

void qs_newton_jvp(qs_newton_t *nt, const float *v, float *out)
{
    const size_t n = nt->n, h = nt->h, hc = nt->hc, d = nt->depth;
    const float *th = nt->theta, *vout = v + d * h * h, *wout = th + d * h * h;
    if (nt->rest_bias)
        rest_row(nt, v, nt->dvec);
    for (size_t c0 = 0; c0 < n; c0 += QS_CHUNK_ROWS) {
        size_t m = QS_MIN((size_t)QS_CHUNK_ROWS, n - c0);
        float *da = nt->da, *db = nt->db;
        /* dZ_1 (m, H) = A_0 (m, Hc) dW_1[:Hc] (+ the rest row's dW_1[Hc:] share) */
        if (nt->rest_bias)
            for (size_t i = 0; i < m; i++)
                memcpy(da + i * h, nt->dvec, h * sizeof(float));
        gemm(nt, 0, 0, m, h, hc, qs_phys_coord_act(nt->phys, c0), hc, v, h,
             nt->rest_bias ? 1.0f : 0.0f, da, h);
        qs_vec_selu_grad(da, da, act_rows(nt, 0, c0), m * h); /* dA_1 */
        for (size_t l = 1; l < d; l++) {
            /* dZ_l = dA_{l-1} W_l + A_{l-1} dW_l */
            gemm(nt, 0, 0, m, h, h, da, h, w_layer(nt, th, l), h, 0.0f, db, h);
            gemm(nt, 0, 0, m, h, h, act_rows(nt, l - 1, c0), h, w_layer(nt, v, l), h, 1.0f, db, h);
            qs_vec_selu_grad(db, db, act_rows(nt, l, c0), m * h);
            float *t = da;
            da = db;
            db = t;
        }
        /* dy = dA_d w_out + A_d dw_out */
        gemm(nt, 0, 0, m, 1, h, da, h, wout, 1, 0.0f, out + c0, 1);
        gemm(nt, 0, 0, m, 1, h, act_rows(nt, d - 1, c0), h, vout, 1, 1.0f, out + c0, 1);
    }
    nt->flops += (uint64_t)d * n * h * QS_FLOPS_SELU_GRAD;
}

void qs_newton_vjp(qs_newton_t *nt, const float *u, float *out)
{
    const size_t n = nt->n, h = nt->h, hc = nt->hc, d = nt->depth;
    const float *th = nt->theta, *wout = th + d * h * h;
    float *gout = out + d * h * h;
    /* The class head does not touch f: its entries of J^T u are 0. Column sums of dZ_1
     * collect the rest row's share (dvec). */
    memset(out, 0, n * sizeof(float));
    memset(nt->dvec, 0, h * sizeof(float));
    for (size_t c0 = 0; c0 < n; c0 += QS_CHUNK_ROWS) {
        size_t m = QS_MIN((size_t)QS_CHUNK_ROWS, n - c0);
        float *da = nt->da, *db = nt->db;
        const float *ad = act_rows(nt, d - 1, c0);
        /* grad w_out (H) += A_d^T (H, m) u (m); dA_d (m, H) = u (m, 1) w_out^T (1, H) */
        gemm(nt, 1, 0, h, 1, m, ad, h, u + c0, 1, 1.0f, gout, 1);
        gemm(nt, 0, 0, m, h, 1, u + c0, 1, wout, h, 0.0f, da, h);
        for (size_t l = d; l-- > 0;) {
            qs_vec_selu_grad(da, da, act_rows(nt, l, c0), m * h); /* dZ_{l+1} */
            if (l > 0) {
                gemm(nt, 1, 0, h, h, m, act_rows(nt, l - 1, c0), h, da, h, 1.0f, out + l * h * h,
                     h);
                gemm(nt, 0, 1, m, h, h, da, h, w_layer(nt, th, l), h, 0.0f, db, h);
                float *t = da;
                da = db;
                db = t;
            } else {
                gemm(nt, 1, 0, hc, h, m, qs_phys_coord_act(nt->phys, c0), hc, da, h, 1.0f, out, h);
                if (nt->rest_bias)
                    for (size_t i = 0; i < m; i++)
                        qs_vec_axpy(nt->dvec, 1.0f, da + i * h, h);
            }
        }
    }
    if (nt->rest_bias) /* grad W_1[Hc:] (Hi, H) = rest^T (Hi, 1) colsum(dZ_1) (1, H) */
        gemm(nt, 0, 0, nt->hi, h, 1, qs_phys_rest_act(nt->phys), 1, nt->dvec, h, 0.0f, out + hc * h,
             h);
    nt->flops += (uint64_t)d * n * h * QS_FLOPS_SELU_GRAD;
}

/* ---- The kept logits --------------------------------------------------------------------- */

void qs_newton_keep_logits(qs_newton_t *nt, const qs_features_t *feat, const uint32_t *images,
                           size_t count, double weight)
{
    if (count > QS_CHUNK_ROWS)
        count = QS_CHUNK_ROWS;
    nt->feat = feat;
    nt->images = images;
    nt->nimg = nt->classes && feat ? count : 0;
    nt->keep_weight = weight;
    if (!nt->nimg || weight <= 0) {
        nt->nimg = 0;
        return;
    }
    free(nt->ximg);
    free(nt->act_img);
    free(nt->dlog);
    free(nt->t3);
    nt->ximg = xaligned(nt->nimg * nt->hi * sizeof(float));
    nt->act_img = xaligned(nt->depth * nt->nimg * nt->h * sizeof(float));
    nt->dlog = xaligned(nt->nimg * nt->classes * sizeof(float));
    nt->t3 = xaligned(nt->n * sizeof(float));
    for (size_t i = 0; i < nt->nimg; i++)
        memcpy(nt->ximg + i * nt->hi, feat->act + (size_t)images[i] * nt->hi,
               nt->hi * sizeof(float));
}

static float *img_rows(const qs_newton_t *nt, size_t l)
{
    return nt->act_img + l * nt->nimg * nt->h;
}

/* Activations of the kept images (zero coordinate half) at theta, and the coefficient
 * weight / (K C s^2) from the variance s^2 of their logits. */
static void linearize_images(qs_newton_t *nt, const float *theta)
{
    const size_t k = nt->nimg, h = nt->h, hc = nt->hc, c = nt->classes, d = nt->depth;
    gemm(nt, 0, 0, k, h, nt->hi, nt->ximg, nt->hi, theta + hc * h, h, 0.0f, img_rows(nt, 0), h);
    qs_vec_selu(img_rows(nt, 0), img_rows(nt, 0), k * h);
    for (size_t l = 1; l < d; l++) {
        gemm(nt, 0, 0, k, h, h, img_rows(nt, l - 1), h, w_layer(nt, theta, l), h, 0.0f,
             img_rows(nt, l), h);
        qs_vec_selu(img_rows(nt, l), img_rows(nt, l), k * h);
    }
    gemm(nt, 0, 0, k, c, h, img_rows(nt, d - 1), h, theta + d * h * h + h, c, 0.0f, nt->dlog, c);
    nt->flops += (uint64_t)d * k * h * QS_FLOPS_SELU;
    double mean = qs_vec_sum(nt->dlog, k * c) / (double)(k * c);
    double var = qs_vec_sumsq_centered(nt->dlog, k * c, mean) / (double)(k * c);
    nt->keep_coef = nt->keep_weight / ((double)(k * c) * (var > 1e-12 ? var : 1e-12));
}

/* out (K, C) = J_L v: the logits' tangent. */
static void jvp_images(qs_newton_t *nt, const float *v, float *out)
{
    const size_t k = nt->nimg, h = nt->h, hc = nt->hc, c = nt->classes, d = nt->depth;
    const float *th = nt->theta, *wcls = th + d * h * h + h, *vcls = v + d * h * h + h;
    float *da = nt->da, *db = nt->db;
    gemm(nt, 0, 0, k, h, nt->hi, nt->ximg, nt->hi, v + hc * h, h, 0.0f, da, h);
    qs_vec_selu_grad(da, da, img_rows(nt, 0), k * h);
    for (size_t l = 1; l < d; l++) {
        gemm(nt, 0, 0, k, h, h, da, h, w_layer(nt, th, l), h, 0.0f, db, h);
        gemm(nt, 0, 0, k, h, h, img_rows(nt, l - 1), h, w_layer(nt, v, l), h, 1.0f, db, h);
        qs_vec_selu_grad(db, db, img_rows(nt, l), k * h);
        float *t = da;
        da = db;
        db = t;
    }
    gemm(nt, 0, 0, k, c, h, da, h, wcls, c, 0.0f, out, c);
    gemm(nt, 0, 0, k, c, h, img_rows(nt, d - 1), h, vcls, c, 1.0f, out, c);
    nt->flops += (uint64_t)d * k * h * QS_FLOPS_SELU_GRAD;
}

/* out (N) = J_L^T u, u (K, C). */
static void vjp_images(qs_newton_t *nt, const float *u, float *out)
{
    const size_t k = nt->nimg, h = nt->h, hc = nt->hc, c = nt->classes, d = nt->depth;
    const float *th = nt->theta, *wcls = th + d * h * h + h;
    float *da = nt->da, *db = nt->db;
    memset(out, 0, nt->n * sizeof(float));
    gemm(nt, 1, 0, h, c, k, img_rows(nt, d - 1), h, u, c, 0.0f, out + d * h * h + h, c);
    gemm(nt, 0, 1, k, h, c, u, c, wcls, c, 0.0f, da, h);
    for (size_t l = d; l-- > 0;) {
        qs_vec_selu_grad(da, da, img_rows(nt, l), k * h);
        if (l > 0) {
            gemm(nt, 1, 0, h, h, k, img_rows(nt, l - 1), h, da, h, 0.0f, out + l * h * h, h);
            gemm(nt, 0, 1, k, h, h, da, h, w_layer(nt, th, l), h, 0.0f, db, h);
            float *t = da;
            da = db;
            db = t;
        } else {
            gemm(nt, 1, 0, nt->hi, h, k, nt->ximg, nt->hi, da, h, 0.0f, out + hc * h, h);
        }
    }
    nt->flops += (uint64_t)d * k * h * QS_FLOPS_SELU_GRAD;
}

/* ---- Levenberg-Marquardt on rho ------------------------------------------------------ */

static double dot(const float *a, const float *b, size_t n)
{
    double s = 0;
    for (size_t i = 0; i < n; i++)
        s += (double)a[i] * b[i];
    return s;
}

/* out = J_rho v = (J_f v - v) / sqrt(D) - rho ((theta - mean) . v) / D */
static void jrho(qs_newton_t *nt, const float *v, float *out)
{
    const size_t n = nt->n;
    qs_newton_jvp(nt, v, out);
    double s = 0;
    for (size_t i = 0; i < n; i++)
        s += ((double)nt->theta[i] - nt->mean) * v[i];
    const double a = 1.0 / sqrt(nt->d), b = s / nt->d;
    for (size_t i = 0; i < n; i++)
        out[i] = (float)(((double)out[i] - v[i]) * a - (double)nt->rho[i] * b);
    nt->flops += 8 * (uint64_t)n;
}

/* out = J_rho^T u = (J_f^T u - u) / sqrt(D) - (theta - mean) (rho . u) / D */
static void jrho_t(qs_newton_t *nt, const float *u, float *out)
{
    const size_t n = nt->n;
    qs_newton_vjp(nt, u, out);
    const double s = dot(nt->rho, u, n);
    const double a = 1.0 / sqrt(nt->d), b = s / nt->d;
    for (size_t i = 0; i < n; i++)
        out[i] = (float)(((double)out[i] - u[i]) * a - ((double)nt->theta[i] - nt->mean) * b);
    nt->flops += 8 * (uint64_t)n;
}

/* 1 - R^2 of theta from its prediction. */
static double one_minus_r2(const float *theta, const float *pred, size_t n)
{
    double mean = qs_vec_sum(theta, n) / (double)n;
    double d = qs_vec_sumsq_centered(theta, n, mean);
    return d > 0 ? qs_vec_sqdist(pred, theta, n) / d : INFINITY;
}

/* Solve (J^T J + mu I) x = b by conjugate gradients from x = 0; returns iterations. */
static uint32_t cg_solve(qs_newton_t *nt, const float *b, double mu)
{
    const size_t n = nt->n;
    memset(nt->x, 0, n * sizeof(float));
    memcpy(nt->r, b, n * sizeof(float));
    memcpy(nt->p, b, n * sizeof(float));
    double rs = dot(nt->r, nt->r, n), b2 = rs;
    uint32_t it = 0;
    while (it < nt->cfg.cg_iters && rs > nt->cfg.cg_tol * nt->cfg.cg_tol * b2) {
        jrho(nt, nt->p, nt->t1);
        jrho_t(nt, nt->t1, nt->q);
        for (size_t i = 0; i < n; i++)
            nt->q[i] += (float)(mu * nt->p[i]);
        if (nt->nimg) { /* + keep_coef J_L^T J_L p */
            jvp_images(nt, nt->p, nt->dlog);
            vjp_images(nt, nt->dlog, nt->t3);
            for (size_t i = 0; i < n; i++)
                nt->q[i] += (float)(nt->keep_coef * nt->t3[i]);
        }
        double pq = dot(nt->p, nt->q, n);
        if (!(pq > 0))
            break;
        double alpha = rs / pq;
        for (size_t i = 0; i < n; i++) {
            nt->x[i] += (float)(alpha * nt->p[i]);
            nt->r[i] -= (float)(alpha * nt->q[i]);
        }
        double rs2 = dot(nt->r, nt->r, n);
        double beta = rs2 / rs;
        for (size_t i = 0; i < n; i++)
            nt->p[i] = nt->r[i] + (float)(beta * nt->p[i]);
        rs = rs2;
        it++;
        nt->flops += 12 * (uint64_t)n;
    }
    return it;
}

void qs_newton_step(qs_newton_t *nt, float *theta, qs_newton_stats_t *st)
{
    const size_t n = nt->n;
    qs_newton_stats_t s = {0};
    nt->flops = 0;
    if (nt->cfg.lambda <= 0)
        nt->cfg.lambda = 1;
    qs_newton_linearize(nt, theta);
    if (nt->nimg)
        linearize_images(nt, theta);
    if (!(nt->d > 0)) { /* the zero (or constant) genome: nothing scale-free to do */
        s.before = s.after = INFINITY;
        goto out;
    }
    const double isd = 1.0 / sqrt(nt->d);
    for (size_t i = 0; i < n; i++)
        nt->rho[i] = (float)(((double)nt->pred[i] - theta[i]) * isd);
    s.before = dot(nt->rho, nt->rho, n);
    s.after = s.before;
    jrho_t(nt, nt->rho, nt->t2); /* gradient direction: b = -J^T rho */
    for (size_t i = 0; i < n; i++)
        nt->t2[i] = -nt->t2[i];
    for (s.tries = 0; s.tries < nt->cfg.max_tries; s.tries++) {
        s.cg_iters += cg_solve(nt, nt->t2, nt->cfg.lambda / nt->d);
        for (size_t i = 0; i < n; i++)
            nt->trial[i] = theta[i] + nt->x[i];
        qs_quine_predict_all(nt->phys, nt->trial, nt->trial_pred, nt->work);
        nt->flops += qs_flops_regen(qs_phys_spec(nt->phys));
        double after = one_minus_r2(nt->trial, nt->trial_pred, n);
        if (after < s.before) {
            memcpy(theta, nt->trial, n * sizeof(float));
            s.after = after;
            s.accepted = 1;
            nt->cfg.lambda = fmax(nt->cfg.lambda / 3, 1e-12);
            s.tries++;
            break;
        }
        nt->cfg.lambda *= 4;
    }
out:
    s.lambda = nt->cfg.lambda;
    s.flops = nt->flops;
    if (st)
        *st = s;
}
