/* fertile: the lineage objectives of fertile.h and their gradients.
 *
 * Forward: lin[k] is the linearisation at theta_k (k = 0..K-1); its prediction is
 * theta_{k+1}. Backward, G_k = dL/dtheta_k in full:
 *   G_K = 2 w_K (theta_K - theta_0) / D + lambda w_K dCE_K
 *   G_k = 2 w_k (theta_k - theta_0) / D + lambda w_k dCE_k + J_k^T G_{k+1}     (1 <= k < K)
 *   dL/dtheta = J_0^T G_1 - 2 sum_k w_k (theta_k - theta_0) / D + lambda dCE_0
 *               + sink (J'^T - I) 2 (T(theta + eps) - theta) / D
 *               - (S + sink S_sink) 2 (theta - mean) / D^2
 *               + 2 c (rho_hat - rho_t)_+ (J_h^T - J_0^T) d / (h |d|)
 *               + 2 s (J_u^T - J_0^T) e / h^2
 * with J', J_h and J_u the Jacobians at theta + eps, theta + h v and theta + h u,
 * d = T(theta + h v) - T(theta), e = T(theta + h u) - T(theta), S and S_sink the
 * unnormalised sums of squares. */
#include "core/fertile.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/newton.h"
#include "core/regen.h"
#include "core/vec.h"

#define MAX_GROUPS 24

struct qs_fertile {
    const qs_phys_t *phys;
    qs_fertile_cfg_t cfg;
    size_t n;
    int aux;
    qs_newton_t *lin[QS_FERTILE_MAX_GENS]; /* at theta_0 .. theta_{K-1} */
    qs_newton_t *pert;                     /* at the perturbed points, one after another */
    qs_newton_t *spert;                    /* LM: at theta + h u (stretch > 0 only) */
    float *g, *g2, *tmp, *point, *dtask, *v, *grad, *gp, *acc;
    float *u, *sacc;                      /* the stretch direction u and LM's T(theta + h u) */
    unsigned char *mask;                  /* the repair term's z */
    float *kids[QS_FERTILE_MAX_GENS + 1]; /* theta_1 .. theta_K (regenerated) */
    uint32_t *images;                     /* (QS_CHUNK_ROWS) the images of a qs_fertile_run step */
    qs_work_t *work;
    qs_param_group_t groups[MAX_GROUPS];
    size_t ngroups;
};

qs_fertile_cfg_t qs_fertile_defaults(void)
{
    return (qs_fertile_cfg_t){3,   0.5, 1.0, 1.0, 1.0, 0.02, 1.0, 0.5, 1e-2, QS_REGEN_PLAIN,
                              0.0, 0.0, 0.3, 1,   0};
}

qs_fertile_t *qs_fertile_new(const qs_phys_t *phys, const qs_fertile_cfg_t *cfg, uint64_t seed)
{
    qs_fertile_t *f = xcalloc(1, sizeof *f);
    const qs_quine_spec_t *spec = qs_phys_spec(phys);
    f->phys = phys;
    f->cfg = cfg ? *cfg : qs_fertile_defaults();
    if (f->cfg.generations < 1)
        f->cfg.generations = 1;
    if (f->cfg.generations > QS_FERTILE_MAX_GENS)
        f->cfg.generations = QS_FERTILE_MAX_GENS;
    f->n = qs_phys_nparams(phys);
    f->aux = spec->kind == QS_KIND_AUX;
    for (uint32_t k = 0; k < f->cfg.generations; k++) {
        f->lin[k] = qs_newton_new(phys, NULL);
        f->kids[k + 1] = xaligned(f->n * sizeof(float));
    }
    f->pert = qs_newton_new(phys, NULL);
    if (f->cfg.stretch > 0)
        f->spert = qs_newton_new(phys, NULL);
    float **bufs[] = {&f->g,    &f->g2, &f->tmp, &f->point, &f->dtask, &f->v,
                      &f->grad, &f->gp, &f->acc, &f->u,     &f->sacc};
    for (size_t i = 0; i < sizeof bufs / sizeof bufs[0]; i++)
        *bufs[i] = xaligned(f->n * sizeof(float));
    if (f->cfg.repair > 0)
        f->mask = xmalloc(f->n);
    f->work = qs_work_new(spec, 1);
    f->images = xmalloc(QS_CHUNK_ROWS * sizeof *f->images);
    f->ngroups = qs_quine_param_groups(spec, f->groups, MAX_GROUPS);
    qs_rng_t rng;
    qs_rng_init(&rng, seed, qs_rng_stream(QS_STREAM_LIFE, 0xFE27));
    for (size_t i = 0; i < f->n; i++)
        f->v[i] = (float)qs_rng_normal(&rng);
    qs_fertile_set_direction(f, f->v);
    return f;
}

void qs_fertile_free(qs_fertile_t *f)
{
    if (!f)
        return;
    for (uint32_t k = 0; k < f->cfg.generations; k++) {
        qs_newton_free(f->lin[k]);
        free(f->kids[k + 1]);
    }
    qs_newton_free(f->pert);
    qs_newton_free(f->spert);
    float *bufs[] = {f->g,    f->g2, f->tmp, f->point, f->dtask, f->v,
                     f->grad, f->gp, f->acc, f->u,     f->sacc};
    for (size_t i = 0; i < sizeof bufs / sizeof bufs[0]; i++)
        free(bufs[i]);
    qs_work_free(f->work);
    free(f->images);
    free(f->mask);
    free(f);
}

const float *qs_fertile_direction(const qs_fertile_t *f)
{
    return f->v;
}

void qs_fertile_set_direction(qs_fertile_t *f, const float *v)
{
    double nv = sqrt(qs_vec_sumsq(v, f->n));
    qs_vec_scale(f->v, nv > 0 ? (float)(1.0 / nv) : 0.0f, v, f->n);
}

double qs_fertile_power_step(qs_fertile_t *f, const float *theta)
{
    qs_newton_linearize(f->pert, theta);
    qs_newton_jvp(f->pert, f->v, f->tmp);
    qs_regen_jvp(qs_phys_spec(f->phys), f->cfg.regen, theta, qs_newton_prediction(f->pert), f->v,
                 f->tmp);
    double nw = sqrt(qs_vec_sumsq(f->tmp, f->n));
    if (nw > 0 && isfinite(nw))
        qs_vec_scale(f->v, (float)(1.0 / nw), f->tmp, f->n);
    return nw;
}

/* CE of images at th, and its gradient into out (aux, ni > 0). */
static double task_grad(qs_fertile_t *f, const float *th, const qs_features_t *feat,
                        const uint32_t *images, size_t ni, float *out)
{
    qs_objective_t obj = {QS_SR_NONE, 1.0f, (float)f->cfg.temperature, QS_REDUCE_MEAN,
                          QS_PAIR_SEPARATE};
    qs_batch_stats_t bs;
    qs_quine_loss_grad(f->phys, th, th, NULL, 0, feat, images, ni, &obj, f->work, out, &bs);
    return bs.task;
}

/* out += a * x + b * y */
static void axpby(float *out, double a, const float *x, double b, const float *y, size_t n)
{
    for (size_t i = 0; i < n; i++)
        out[i] += (float)(a * x[i] + b * y[i]);
}

/* Linearise nt at x and regenerate: out = T(x) (N floats). */
static void regenerate(qs_fertile_t *f, qs_newton_t *nt, const float *x, float *out)
{
    qs_newton_linearize(nt, x);
    memcpy(out, qs_newton_prediction(nt), f->n * sizeof(float));
    qs_regen_apply(qs_phys_spec(f->phys), f->cfg.regen, x, out);
}

/* out (overwritten) = d/dx [u . T(x)] at nt's linearisation point x: J^T of the raw
 * prediction after the rescaling's transpose. Uses f->gp. */
static void pullback(qs_fertile_t *f, qs_newton_t *nt, const float *x, const float *u, float *out)
{
    memset(out, 0, f->n * sizeof(float));
    qs_regen_vjp(qs_phys_spec(f->phys), f->cfg.regen, x, qs_newton_prediction(nt), u, f->gp, out);
    qs_newton_vjp(nt, f->gp, f->tmp);
    qs_vec_axpy(out, 1.0f, f->tmp, f->n);
}

/* u = (t1 - theta) / |t1 - theta| (t1 = T(theta)). Returns 0 (u then meaningless) when the
 * copy is exact or its error not finite. */
static int stretch_direction(qs_fertile_t *f, const float *theta, const float *t1)
{
    for (size_t i = 0; i < f->n; i++)
        f->u[i] = t1[i] - theta[i];
    double rn = sqrt(qs_vec_sumsq(f->u, f->n));
    if (!(rn > 0) || !isfinite(rn))
        return 0;
    qs_vec_scale(f->u, (float)(1.0 / rn), f->u, f->n);
    return 1;
}

/* The repair term (fertile.h) without its share of the live denominator: returns the
 * unnormalised |(P - theta) o z|^2 and adds to grad the rest of its gradient, with
 * u = 2 repair (P - theta) o z / D + lambda dCE(theta_rep) o z:
 *   grad += (J_x^T u) o (1 - z) - 2 repair (P - theta) o z / D + lambda dCE(theta_rep) o (1 - z)
 * (x = theta o (1 - z) moves only with the kept weights; theta_rep's damaged weights are
 * P's). feat NULL: no task part. Uses point (x, then theta_rep), acc, g, g2, dtask. */
static double repair_term(qs_fertile_t *f, const float *theta, double d, const qs_features_t *feat,
                          const uint32_t *images, size_t ni, qs_rng_t *rng, float *grad,
                          qs_fertile_stats_t *s)
{
    const size_t n = f->n;
    const double p = f->cfg.repair_frac, w = f->cfg.repair;
    size_t hit = 0;
    for (size_t i = 0; i < n; i++) {
        f->mask[i] = qs_rng_uniform(rng) < p;
        hit += f->mask[i];
        f->point[i] = f->mask[i] ? 0.0f : theta[i];
    }
    qs_newton_linearize(f->pert, f->point);
    const float *pred = qs_newton_prediction(f->pert);
    double sq = 0, hsum = 0, hsq = 0;
    for (size_t i = 0; i < n; i++) {
        f->acc[i] = 0;
        if (!f->mask[i])
            continue;
        const double e = (double)pred[i] - theta[i];
        sq += e * e;
        hsum += theta[i];
        hsq += (double)theta[i] * theta[i];
        f->acc[i] = (float)(2.0 * w / d * e);
        grad[i] -= f->acc[i];
    }
    const double hvar = hit ? hsq - hsum * hsum / (double)hit : 0;
    s->repair = hvar > 0 ? sq / hvar : 0;
    if (feat) {
        for (size_t i = 0; i < n; i++)
            f->point[i] = f->mask[i] ? pred[i] : theta[i];
        s->repair_task = task_grad(f, f->point, feat, images, ni, f->dtask);
        s->loss += f->cfg.lambda * s->repair_task;
        for (size_t i = 0; i < n; i++) {
            const float gt = (float)(f->cfg.lambda * f->dtask[i]);
            if (f->mask[i])
                f->acc[i] += gt;
            else
                grad[i] += gt;
        }
    }
    qs_newton_vjp(f->pert, f->acc, f->g2);
    for (size_t i = 0; i < n; i++)
        if (!f->mask[i])
            grad[i] += f->g2[i];
    return sq;
}

double qs_fertile_loss_grad(qs_fertile_t *f, const float *theta, const qs_features_t *feat,
                            const uint32_t *images, size_t ni, qs_rng_t *rng, float *grad,
                            qs_fertile_stats_t *st)
{
    const size_t n = f->n;
    const uint32_t K = f->cfg.generations;
    const int task = f->aux && ni > 0 && feat && f->cfg.lambda > 0;
    const double lambda = f->cfg.lambda;
    qs_fertile_stats_t s;
    memset(&s, 0, sizeof s);
    const float *th[QS_FERTILE_MAX_GENS + 1];
    double w[QS_FERTILE_MAX_GENS + 1];
    th[0] = theta;
    w[0] = 1;
    for (uint32_t k = 0; k < K; k++) {
        regenerate(f, f->lin[k], th[k], f->kids[k + 1]);
        th[k + 1] = f->kids[k + 1];
        w[k + 1] = k == 0 ? 1.0 : w[k] * f->cfg.decay;
    }
    const double mean = qs_vec_sum(theta, n) / (double)n;
    double d = qs_vec_sumsq_centered(theta, n, mean);
    if (!(d > 1e-30))
        d = 1e-30;

    /* Backward through the lineage. g holds G_{k+1} on entry to step k. */
    double sum_sq = 0, loss = 0;
    memset(f->g, 0, n * sizeof(float));
    memset(grad, 0, n * sizeof(float));
    for (uint32_t k = K; k >= 1; k--) {
        const float *tk = th[k];
        double sq = qs_vec_sqdist(tk, theta, n);
        s.drift[k] = sq / d;
        sum_sq += w[k] * sq;
        if (k < K) {
            pullback(f, f->lin[k], th[k], f->g, f->g2); /* through theta_{k+1} = T(theta_k) */
            memcpy(f->g, f->g2, n * sizeof(float));
        }
        /* direct terms of theta_k; theta_0's share of the drift goes to grad */
        axpby(f->g, 2 * w[k] / d, tk, -2 * w[k] / d, theta, n);
        axpby(grad, -2 * w[k] / d, tk, 2 * w[k] / d, theta, n);
        if (task) {
            s.task[k] = task_grad(f, tk, feat, images, ni, f->dtask);
            loss += lambda * w[k] * s.task[k];
            qs_vec_axpy(f->g, (float)(lambda * w[k]), f->dtask, n);
        }
    }
    pullback(f, f->lin[0], theta, f->g, f->g2);
    qs_vec_axpy(grad, 1.0f, f->g2, n);
    if (task) {
        s.task[0] = task_grad(f, theta, feat, images, ni, f->dtask);
        loss += lambda * s.task[0];
        qs_vec_axpy(grad, (float)lambda, f->dtask, n);
    }

    /* Sink: theta + eps, eps per layer, back onto theta. */
    double sink_sq = 0;
    if (f->cfg.sink > 0) {
        memcpy(f->point, theta, n * sizeof(float));
        for (size_t gi = 0; gi < f->ngroups; gi++) {
            const qs_param_group_t *gr = &f->groups[gi];
            const float *x = theta + gr->offset;
            double m = qs_vec_sum(x, gr->count) / (double)gr->count;
            double sd = sqrt(qs_vec_sumsq_centered(x, gr->count, m) / (double)gr->count);
            if (sd < 1e-6)
                sd = 1e-3;
            for (size_t i = 0; i < gr->count; i++)
                f->point[gr->offset + i] += (float)(qs_rng_normal(rng) * sd * f->cfg.sink_noise);
        }
        regenerate(f, f->pert, f->point, f->acc);
        sink_sq = qs_vec_sqdist(f->acc, theta, n);
        s.sink = sink_sq / d;
        for (size_t i = 0; i < n; i++)
            f->acc[i] = (float)(2.0 * f->cfg.sink / d * ((double)f->acc[i] - theta[i]));
        pullback(f, f->pert, f->point, f->acc, f->g2);
        axpby(grad, 1.0, f->g2, -1.0, f->acc, n);
    }

    /* Repair: zero the weights of z, predict them from the damaged network. */
    double repair_sq = 0;
    if (f->cfg.repair > 0)
        repair_sq = repair_term(f, theta, d, task ? feat : NULL, images, ni, rng, grad, &s);

    /* The live denominator. */
    const double rep = (sum_sq + f->cfg.sink * sink_sq + f->cfg.repair * repair_sq) / d;
    loss += rep;
    for (size_t i = 0; i < n; i++)
        grad[i] -= (float)(rep * 2.0 * ((double)theta[i] - mean) / d);

    /* Contraction along v. */
    if (f->cfg.contraction > 0) {
        const double h = f->cfg.fd_step;
        for (size_t i = 0; i < n; i++)
            f->point[i] = theta[i] + (float)(h * f->v[i]);
        regenerate(f, f->pert, f->point, f->acc);
        for (size_t i = 0; i < n; i++)
            f->acc[i] -= th[1][i];
        double dn = sqrt(qs_vec_sumsq(f->acc, n));
        s.rho_hat = dn / h;
        double excess = s.rho_hat - f->cfg.rho_target;
        if (excess > 0 && dn > 0) {
            loss += f->cfg.contraction * excess * excess;
            double coef = 2 * f->cfg.contraction * excess / (h * dn);
            pullback(f, f->pert, f->point, f->acc, f->g);
            pullback(f, f->lin[0], theta, f->acc, f->g2);
            axpby(grad, coef, f->g, -coef, f->g2, n);
        }
    }
    /* Stretch along the copy's own error u = r / |r| (detached). */
    if (f->cfg.stretch > 0 && stretch_direction(f, theta, th[1])) {
        const double h = f->cfg.fd_step;
        for (size_t i = 0; i < n; i++)
            f->point[i] = theta[i] + (float)(h * f->u[i]);
        regenerate(f, f->pert, f->point, f->acc);
        for (size_t i = 0; i < n; i++)
            f->acc[i] -= th[1][i];
        s.stretch_hat = sqrt(qs_vec_sumsq(f->acc, n)) / h;
        loss += f->cfg.stretch * s.stretch_hat * s.stretch_hat;
        double coef = 2 * f->cfg.stretch / (h * h);
        pullback(f, f->pert, f->point, f->acc, f->g);
        pullback(f, f->lin[0], theta, f->acc, f->g2);
        axpby(grad, coef, f->g, -coef, f->g2, n);
    }
    s.loss += loss;
    if (st)
        *st = s;
    return s.loss;
}

void qs_fertile_run(qs_fertile_t *f, qs_opt_t *opt, float *theta, const qs_features_t *feat,
                    uint32_t images, qs_rng_t *rng, uint64_t steps, qs_fertile_run_t *out)
{
    qs_fertile_run_t r;
    memset(&r, 0, sizeof r);
    if (images > QS_CHUNK_ROWS)
        images = QS_CHUNK_ROWS;
    const size_t ni = feat && feat->count ? images : 0;
    for (uint64_t s = 0; s < steps; s++) {
        for (size_t i = 0; i < ni; i++)
            f->images[i] = qs_rng_below(rng, feat->count);
        r.loss_sum += qs_fertile_loss_grad(f, theta, feat, f->images, ni, rng, f->grad, &r.last);
        qs_opt_step(opt, theta, f->grad);
        r.rho_power = qs_fertile_power_step(f, theta);
        r.steps++;
    }
    if (out)
        *out = r;
}

/* ---- Levenberg-Marquardt on copy and contraction together ------------------------------ */

/* The residual blocks, N floats each: the copy, the contraction, the stretch (zero when
 * off), then descendant k's own copy error at block B_KIDS + k - 1 (k = 1..M). */
enum { B_COPY, B_CONTRACT, B_STRETCH, B_KIDS };

/* M: the descendants whose copy error is in E (0 without w1; at most K - 1, for lin[k]
 * at theta_k and its prediction theta_{k+1}). */
static uint32_t lm_descendants(const qs_fertile_t *f, double w1)
{
    if (!(w1 > 0))
        return 0;
    uint32_t m = f->cfg.lm_descendants ? f->cfg.lm_descendants : 1;
    return m < f->cfg.generations ? m : f->cfg.generations - 1;
}

static double variance_sum(const float *theta, size_t n)
{
    const double mean = qs_vec_sum(theta, n) / (double)n;
    double d = qs_vec_sumsq_centered(theta, n, mean);
    return d > 1e-30 ? d : 1e-30;
}

size_t qs_fertile_lm_blocks(const qs_fertile_t *f, double w1)
{
    return B_KIDS + lm_descendants(f, w1);
}

typedef struct {
    qs_fertile_t *f;
    const float *theta, *point;     /* theta and theta + h v (lin[0] and pert linearised there) */
    const float *spoint;            /* theta + h u (spert linearised there; stretch only) */
    double isd, qs, ss;             /* 1 / sqrt(D), sqrt(c) / h, sqrt(s) / h (0: no stretch) */
    uint32_t m;                     /* descendants in E */
    double sk[QS_FERTILE_MAX_GENS]; /* sk[k] = sqrt(w_k / D), w_k = w1 decay^(k-1) */
    float *t1, *t2, *t3, *t4, *t5;  /* N scratch each */
    /* cfg.lm_scale_free: D is live, so the blocks divided by sqrt(D) (the copy and the
     * descendants) gain the rank-one term -R_b (cen . d) / D, cen = theta - mean */
    const float *res; /* R at theta (the blocks) */
    float *cen;       /* N, theta - mean */
    double d;         /* D at theta */
} lm_t;

static void lm_init(lm_t *m, qs_fertile_t *f, const float *theta, const float *point,
                    const float *spoint, double d, double c, double w1, double sw, float *scratch,
                    const float *res)
{
    *m = (lm_t){.f = f,
                .theta = theta,
                .point = point,
                .spoint = spoint,
                .isd = 1.0 / sqrt(d),
                .qs = sqrt(c) / f->cfg.fd_step,
                .ss = sw > 0 ? sqrt(sw) / f->cfg.fd_step : 0,
                .m = lm_descendants(f, w1)};
    for (uint32_t k = 1, w = 0; k <= m->m; k++, w++)
        m->sk[k] = sqrt(w1 * pow(f->cfg.decay, (double)w) / d);
    float **t[] = {&m->t1, &m->t2, &m->t3, &m->t4, &m->t5, &m->cen};
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++)
        *t[i] = scratch + i * f->n;
    m->d = d;
    m->res = f->cfg.lm_scale_free ? res : NULL;
    if (m->res) {
        const double mean = qs_vec_sum(theta, f->n) / (double)f->n;
        for (size_t i = 0; i < f->n; i++)
            m->cen[i] = (float)(theta[i] - mean);
    }
}

/* Whether block b is divided by sqrt(D): the copy and the descendants. */
static int scaled_block(size_t b)
{
    return b == B_COPY || b >= B_KIDS;
}

/* Tangent of T at nt's point x along d: out = J_T d. */
static void push(qs_fertile_t *f, qs_newton_t *nt, const float *x, const float *d, float *out)
{
    qs_newton_jvp(nt, d, out);
    qs_regen_jvp(qs_phys_spec(f->phys), f->cfg.regen, x, qs_newton_prediction(nt), d, out);
}

/* out = A d, block by block (J_k the Jacobian of T at theta_k, P_k = J_{k-1} ... J_0):
 *   [ (J_0 - I) d / sqrt(D) ; sqrt(c) (J_T(theta + h v) - J_0) d / h ;
 *     sqrt(s) (J_T(theta + h u) - J_0) d / h ; sk[k] (J_k - I) P_k d, k = 1..M ] */
static void lm_apply(lm_t *m, const float *d, float *out)
{
    qs_fertile_t *f = m->f;
    const size_t n = f->n;
    float *ar = out + B_COPY * n, *aq = out + B_CONTRACT * n, *as = out + B_STRETCH * n;
    push(f, f->lin[0], m->theta, d, m->t1);
    push(f, f->pert, m->point, d, m->t2);
    for (size_t i = 0; i < n; i++) {
        ar[i] = (float)(((double)m->t1[i] - d[i]) * m->isd);
        aq[i] = (float)(((double)m->t2[i] - m->t1[i]) * m->qs);
    }
    memset(as, 0, n * sizeof(float));
    if (m->ss > 0) {
        push(f, f->spert, m->spoint, d, m->t5);
        for (size_t i = 0; i < n; i++)
            as[i] = (float)(((double)m->t5[i] - m->t1[i]) * m->ss);
    }
    const float *prev = m->t1; /* P_k d */
    for (uint32_t k = 1; k <= m->m; k++) {
        float *next = prev == m->t3 ? m->t4 : m->t3, *ak = out + (B_KIDS + k - 1) * n;
        push(f, f->lin[k], f->kids[k], prev, next);
        for (size_t i = 0; i < n; i++)
            ak[i] = (float)(((double)next[i] - prev[i]) * m->sk[k]);
        prev = next;
    }
    if (m->res) {
        const double dot = qs_vec_dot(m->cen, d, n) / m->d;
        for (size_t b = 0; b < B_KIDS + m->m; b++)
            if (scaled_block(b))
                qs_vec_axpy(out + b * n, (float)-dot, m->res + b * n, n);
    }
}

/* out = A^T u (u in blocks as lm_apply's out). The descendants by Horner's rule from the
 * deepest: z_M = (J_M^T - I) sk_M u_M, z_k = J_k^T (z_{k+1} + sk_k u_k) - sk_k u_k, which
 * lands in J_0^T with the copy's and the contraction's parts. */
static void lm_apply_t(lm_t *m, const float *u, float *out)
{
    qs_fertile_t *f = m->f;
    const size_t n = f->n;
    const float *ur = u + B_COPY * n, *uq = u + B_CONTRACT * n, *us = u + B_STRETCH * n;
    memset(m->t3, 0, n * sizeof(float)); /* z */
    for (uint32_t k = m->m; k >= 1; k--) {
        const float *uk = u + (B_KIDS + k - 1) * n;
        for (size_t i = 0; i < n; i++)
            m->t4[i] = m->t3[i] + (float)(uk[i] * m->sk[k]);
        pullback(f, f->lin[k], f->kids[k], m->t4, m->t3);
        for (size_t i = 0; i < n; i++)
            m->t3[i] -= (float)(uk[i] * m->sk[k]);
    }
    for (size_t i = 0; i < n; i++)
        m->t2[i] = (float)(ur[i] * m->isd - uq[i] * m->qs - us[i] * m->ss) + m->t3[i];
    pullback(f, f->lin[0], m->theta, m->t2, out);
    pullback(f, f->pert, m->point, uq, m->t1); /* J_T(theta + h v)^T uq */
    for (size_t i = 0; i < n; i++)
        out[i] += (float)(m->qs * m->t1[i] - ur[i] * m->isd);
    if (m->ss > 0) {
        pullback(f, f->spert, m->spoint, us, m->t1); /* J_T(theta + h u)^T us */
        qs_vec_axpy(out, (float)m->ss, m->t1, n);
    }
    if (m->res) {
        double dot = 0;
        for (size_t b = 0; b < B_KIDS + m->m; b++)
            if (scaled_block(b))
                dot += qs_vec_dot(m->res + b * n, u + b * n, n);
        qs_vec_axpy(out, (float)(-dot / m->d), m->cen, n);
    }
}

/* E = |T(x) - x|^2 / D + c |T(x + h v) - T(x)|^2 / h^2 + s |T(x + h u) - T(x)|^2 / h^2
 *     + sum_{k=1..M} w_k |T(x_k) - x_k|^2 / D, D and u fixed; the residual blocks into res
 * (lm_blocks x N) when not NULL. Linearises lin[0] at x, pert at point = x + h v, lin[k] at
 * x_k (k = 1..M) and spert at spoint = x + h u (s > 0). */
static double lm_energy(qs_fertile_t *f, const float *x, float *point, float *spoint, double d,
                        double c, double w1, double sw, float *res)
{
    const size_t n = f->n;
    const double h = f->cfg.fd_step;
    const uint32_t m = lm_descendants(f, w1);
    if (f->cfg.lm_scale_free)
        d = variance_sum(x, n);
    regenerate(f, f->lin[0], x, f->kids[1]);
    for (size_t i = 0; i < n; i++)
        point[i] = x[i] + (float)(h * f->v[i]);
    regenerate(f, f->pert, point, f->acc);
    double e = qs_vec_sqdist(f->kids[1], x, n) / d;
    e += c * qs_vec_sqdist(f->acc, f->kids[1], n) / (h * h);
    if (res)
        for (size_t i = 0; i < n; i++) {
            res[B_COPY * n + i] = (float)(((double)f->kids[1][i] - x[i]) / sqrt(d));
            res[B_CONTRACT * n + i] = (float)(((double)f->acc[i] - f->kids[1][i]) * sqrt(c) / h);
            res[B_STRETCH * n + i] = 0;
        }
    if (sw > 0) {
        for (size_t i = 0; i < n; i++)
            spoint[i] = x[i] + (float)(h * f->u[i]);
        regenerate(f, f->spert, spoint, f->sacc);
        e += sw * qs_vec_sqdist(f->sacc, f->kids[1], n) / (h * h);
        if (res)
            for (size_t i = 0; i < n; i++)
                res[B_STRETCH * n + i] =
                    (float)(((double)f->sacc[i] - f->kids[1][i]) * sqrt(sw) / h);
    }
    for (uint32_t k = 1; k <= m; k++) {
        const double wk = w1 * pow(f->cfg.decay, (double)(k - 1));
        regenerate(f, f->lin[k], f->kids[k], f->kids[k + 1]);
        e += wk * qs_vec_sqdist(f->kids[k + 1], f->kids[k], n) / d;
        if (res)
            for (size_t i = 0; i < n; i++)
                res[(B_KIDS + k - 1) * n + i] =
                    (float)(((double)f->kids[k + 1][i] - f->kids[k][i]) * sqrt(wk / d));
    }
    return e;
}

double qs_fertile_lm_model(qs_fertile_t *f, const float *theta, double d, double c, double w1,
                           float *res, const float *dir, float *adir, const float *uin, float *atu)
{
    const size_t n = f->n;
    float *point = xaligned(n * sizeof(float)), *spoint = xaligned(n * sizeof(float));
    float *scratch = xaligned(6 * n * sizeof(float)), *own = NULL;
    if (!res && f->cfg.lm_scale_free && (adir || atu))
        res = own = xaligned(qs_fertile_lm_blocks(f, w1) * n * sizeof(float));
    if (f->cfg.lm_scale_free)
        d = variance_sum(theta, n);
    const double sw = f->cfg.stretch;
    double e = lm_energy(f, theta, point, spoint, d, c, w1, sw, res);
    lm_t m;
    lm_init(&m, f, theta, point, spoint, d, c, w1, sw, scratch, res);
    if (dir && adir)
        lm_apply(&m, dir, adir);
    if (uin && atu)
        lm_apply_t(&m, uin, atu);
    free(point);
    free(spoint);
    free(scratch);
    free(own);
    return e;
}

void qs_fertile_lm_step(qs_fertile_t *f, float *theta, double c, double w1, uint32_t cg_iters,
                        double *mu, qs_fertile_lm_stats_t *st)
{
    const size_t n = f->n;
    qs_fertile_lm_stats_t s = {0};
    const size_t nb = qs_fertile_lm_blocks(f, w1);
    enum { NB = 14 };
    float *b[NB];
    for (int i = 0; i < NB; i++)
        b[i] = xaligned(n * sizeof(float) * (i < 2 ? nb : i == 2 ? 6 : 1));
    float *res = b[0], *ap = b[1], *scratch = b[2], *g = b[3], *x = b[4], *r = b[5], *p = b[6],
          *q = b[7], *trial = b[8], *point = b[9], *tpoint = b[10], *spoint = b[11],
          *tspoint = b[12];
    const double d = variance_sum(theta, n);
    if (!(*mu > 0))
        *mu = 1;
    /* u, the copy's error direction at theta, fixed for the step */
    double sw = f->cfg.stretch;
    if (sw > 0) {
        regenerate(f, f->lin[0], theta, f->kids[1]);
        if (!stretch_direction(f, theta, f->kids[1]))
            sw = 0;
    }
    s.before = lm_energy(f, theta, point, spoint, d, c, w1, sw, res);
    s.rho_hat = sqrt(qs_vec_sqdist(f->acc, f->kids[1], n)) / f->cfg.fd_step;
    if (sw > 0)
        s.stretch_hat = sqrt(qs_vec_sqdist(f->sacc, f->kids[1], n)) / f->cfg.fd_step;
    lm_t m;
    lm_init(&m, f, theta, point, spoint, d, c, w1, sw, scratch, res);
    lm_apply_t(&m, res, g); /* gradient / 2 */
    s.after = s.before;
    for (int tries = 0; tries < 6; tries++) {
        /* CG on (A^T A + mu/D I) x = -g */
        const double damp = *mu / d;
        memset(x, 0, n * sizeof(float));
        for (size_t i = 0; i < n; i++)
            r[i] = p[i] = -g[i];
        double rs = qs_vec_sumsq(r, n), b2 = rs;
        for (uint32_t it = 0; it < cg_iters && rs > 1e-6 * b2; it++) {
            lm_apply(&m, p, ap);
            lm_apply_t(&m, ap, q);
            double pq = 0;
            for (size_t i = 0; i < n; i++) {
                q[i] += (float)(damp * p[i]);
                pq += (double)p[i] * q[i];
            }
            if (!(pq > 0))
                break;
            double alpha = rs / pq;
            for (size_t i = 0; i < n; i++) {
                x[i] += (float)(alpha * p[i]);
                r[i] -= (float)(alpha * q[i]);
            }
            double rs2 = qs_vec_sumsq(r, n);
            for (size_t i = 0; i < n; i++)
                p[i] = r[i] + (float)(rs2 / rs * p[i]);
            rs = rs2;
            s.cg_iters++;
        }
        for (size_t i = 0; i < n; i++)
            trial[i] = theta[i] + x[i];
        double e = lm_energy(f, trial, tpoint, tspoint, d, c, w1, sw, NULL);
        s.tries++;
        if (e < s.before) {
            memcpy(theta, trial, n * sizeof(float));
            s.after = e;
            s.accepted = 1;
            *mu = fmax(*mu / 3, 1e-12);
            break;
        }
        *mu *= 4;
        /* the linearisations moved to the trial: back to theta for the next solve */
        lm_energy(f, theta, point, spoint, d, c, w1, sw, NULL);
    }
    for (int i = 0; i < NB; i++)
        free(b[i]);
    if (st)
        *st = s;
}
