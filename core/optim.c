/* optim: the six optimizers of the paper's comparison, following torch.optim's documented
 * algorithms (maximize=False, weight_decay=0, no amsgrad/nesterov/centered, single
 * tensor path), with the per-step scalars (bias corrections, step sizes) computed in
 * double as PyTorch does in Python and rounded to float once:
 *
 *   sgd       theta += -lr * g
 *   momentum  b = mu b + g;  theta += -lr * b            (b starts at 0, so b_1 = g exactly)
 *   adam      m = b1 m + (1 - b1) g;  v = b2 v + (1 - b2) g^2
 *             theta += -(lr / (1 - b1^t)) * (m / (sqrt(v) / sqrt(1 - b2^t) + eps))
 *   adamax    m = b1 m + (1 - b1) g;  u = max(b2 u, |g| + eps)
 *             theta += -(lr / (1 - b1^t)) * (m / u)
 *   adagrad   s = s + g^2;  theta += -lr * (g / (sqrt(s) + eps))
 *   rmsprop   v = alpha v + (1 - alpha) g^2;  theta += -lr * (g / (sqrt(v) + eps))
 *
 * FLOPs per parameter (core/quine.c's convention; |g| is a bit operation):
 *   sgd 2, momentum 4, adam 13, adamax 9, adagrad 7, rmsprop 9.
 * All run 16 lanes wide (core/vec.h), square roots by qs_vec_sqrt (correctly rounded,
 * like sqrtf), so the lanes give the same bits as scalar code. */
#include "core/optim.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/vec.h"

typedef float v16f __attribute__((vector_size(64)));
typedef int32_t v16i __attribute__((vector_size(64)));
#define LANES 16

static const char *const opt_names[] = {"sgd", "momentum", "adam", "adamax", "adagrad", "rmsprop"};

QS_NAME_FNS(qs_opt_name, qs_opt_parse, qs_opt_kind_t, opt_names)
const qs_names_t qs_opt_names = QS_NAMES(opt_names);

qs_opt_cfg_t qs_opt_defaults(qs_opt_kind_t kind)
{
    qs_opt_cfg_t c = {0};
    c.kind = kind;
    c.beta1 = 0.9f;
    c.beta2 = 0.999f;
    c.eps = 1e-8f;
    c.momentum = 0.9f;
    c.alpha = 0.99f;
    switch (kind) {
    case QS_OPT_SGD:
    case QS_OPT_MOMENTUM:
        c.lr = 0.01f;
        break;
    case QS_OPT_ADAM:
        c.lr = 1e-3f;
        break;
    case QS_OPT_ADAMAX:
        c.lr = 2e-3f;
        break;
    case QS_OPT_ADAGRAD:
        c.lr = 1e-2f;
        c.eps = 1e-10f;
        break;
    case QS_OPT_RMSPROP:
        c.lr = 1e-2f;
        break;
    }
    return c;
}

void qs_opt_init(qs_opt_t *opt, const qs_opt_cfg_t *cfg, size_t n)
{
    memset(opt, 0, sizeof *opt);
    opt->cfg = *cfg;
    if (opt->cfg.lr <= 0)
        opt->cfg.lr = qs_opt_defaults(cfg->kind).lr;
    opt->n = n;
    opt->m = xaligned((n ? n : 1) * sizeof(float));
    opt->v = xaligned((n ? n : 1) * sizeof(float));
    qs_opt_reset(opt);
}

void qs_opt_destroy(qs_opt_t *opt)
{
    free(opt->m);
    free(opt->v);
    opt->m = opt->v = NULL;
    opt->n = 0;
}

void qs_opt_reset(qs_opt_t *opt)
{
    opt->t = 0;
    memset(opt->m, 0, opt->n * sizeof(float));
    memset(opt->v, 0, opt->n * sizeof(float));
}

#define ALWAYS_INLINE static inline __attribute__((always_inline))

/* The 16-lane kernels: th, g, m, u point at 16 floats each. */
ALWAYS_INLINE void sgd16(v16f *th, const v16f *g, float neg_lr)
{
    *th += neg_lr * *g;
}

ALWAYS_INLINE void momentum16(v16f *th, const v16f *g, v16f *b, float mu, float neg_lr)
{
    *b = mu * *b + *g;
    *th += neg_lr * *b;
}

ALWAYS_INLINE void adamax16(v16f *th, const v16f *g, v16f *m, v16f *u, float b1, float one_b1,
                            float b2, float eps, float neg_clr)
{
    *m = b1 * *m + one_b1 * *g;
    const v16f bu = b2 * *u;
    const v16f ag = (v16f)((v16i)*g & 0x7fffffff) + eps; /* |g| + eps */
    /* Both are >= 0, so their order is the order of their bit patterns as integers. */
    const v16i take_g = (v16i)ag > (v16i)bu;
    *u = (v16f)((take_g & (v16i)ag) | (~take_g & (v16i)bu));
    *th += neg_clr * (*m / *u);
}

/* The square-root optimizers run in blocks: moments (16 lanes), square roots of the block
 * (qs_vec_sqrt, into a stack buffer), then the update (16 lanes). */
#define BLOCK 256

ALWAYS_INLINE void ema16(v16f *acc, const v16f *g, float keep, float take, int square)
{
    *acc = keep * *acc + take * (square ? *g * *g : *g);
}

ALWAYS_INLINE void adam_update16(v16f *th, const v16f *m, const v16f *root, float neg_step,
                                 float bc2_sqrt, float eps)
{
    *th += neg_step * (*m / (*root / bc2_sqrt + eps));
}

ALWAYS_INLINE void accum16(v16f *s, const v16f *g)
{
    *s += *g * *g;
}

ALWAYS_INLINE void scaled_update16(v16f *th, const v16f *g, const v16f *root, float neg_lr,
                                   float eps)
{
    *th += neg_lr * (*g / (*root + eps));
}

/* Run a 16-lane kernel over n elements: whole blocks with fixed-size loads and stores,
 * the tail through padded copies (padding lanes hold theta = g = m = 0 and u = 1, so no
 * division by zero). m and u may be NULL when the kernel does not use them. */
#define RUN16(n, th, g, m, u, CALL)                                                                \
    do {                                                                                           \
        v16f vt_, vg_, vm_ = {0}, vu_ = {0};                                                       \
        size_t i_ = 0;                                                                             \
        for (; i_ + LANES <= (n); i_ += LANES) {                                                   \
            memcpy(&vt_, (th) + i_, sizeof vt_);                                                   \
            memcpy(&vg_, (g) + i_, sizeof vg_);                                                    \
            if (m)                                                                                 \
                memcpy(&vm_, (m) + i_, sizeof vm_);                                                \
            if (u)                                                                                 \
                memcpy(&vu_, (u) + i_, sizeof vu_);                                                \
            CALL;                                                                                  \
            memcpy((th) + i_, &vt_, sizeof vt_);                                                   \
            if (m)                                                                                 \
                memcpy((m) + i_, &vm_, sizeof vm_);                                                \
            if (u)                                                                                 \
                memcpy((u) + i_, &vu_, sizeof vu_);                                                \
        }                                                                                          \
        if (i_ < (n)) {                                                                            \
            size_t k_ = (n)-i_;                                                                    \
            vt_ = (v16f){0}, vg_ = vt_, vm_ = vt_, vu_ = vt_ + 1.0f;                               \
            memcpy(&vt_, (th) + i_, k_ * sizeof(float));                                           \
            memcpy(&vg_, (g) + i_, k_ * sizeof(float));                                            \
            if (m)                                                                                 \
                memcpy(&vm_, (m) + i_, k_ * sizeof(float));                                        \
            if (u)                                                                                 \
                memcpy(&vu_, (u) + i_, k_ * sizeof(float));                                        \
            CALL;                                                                                  \
            memcpy((th) + i_, &vt_, k_ * sizeof(float));                                           \
            if (m)                                                                                 \
                memcpy((m) + i_, &vm_, k_ * sizeof(float));                                        \
            if (u)                                                                                 \
                memcpy((u) + i_, &vu_, k_ * sizeof(float));                                        \
        }                                                                                          \
    } while (0)

QS_CLONES static void step_sgd(float *th, const float *g, size_t n, float neg_lr)
{
    float *none = NULL;
    RUN16(n, th, g, none, none, sgd16(&vt_, &vg_, neg_lr));
}

QS_CLONES static void step_momentum(float *th, const float *g, float *b, size_t n, float mu,
                                    float neg_lr)
{
    float *none = NULL;
    RUN16(n, th, g, b, none, momentum16(&vt_, &vg_, &vm_, mu, neg_lr));
}

QS_CLONES static void step_adamax(float *th, const float *g, float *m, float *u, size_t n, float b1,
                                  float b2, float eps, float neg_clr)
{
    const float one_b1 = 1.0f - b1;
    RUN16(n, th, g, m, u, adamax16(&vt_, &vg_, &vm_, &vu_, b1, one_b1, b2, eps, neg_clr));
}

QS_CLONES static void step_adam(float *th, const float *g, float *m, float *v, size_t n, float b1,
                                float b2, float eps, float neg_step, float bc2_sqrt)
{
    const float one_b1 = 1.0f - b1, one_b2 = 1.0f - b2;
    float root_buf[BLOCK], *root = root_buf, *none = NULL;
    for (size_t b0 = 0; b0 < n; b0 += BLOCK) {
        size_t len = QS_MIN((size_t)BLOCK, n - b0);
        RUN16(len, m + b0, g + b0, none, none, ema16(&vt_, &vg_, b1, one_b1, 0));
        RUN16(len, v + b0, g + b0, none, none, ema16(&vt_, &vg_, b2, one_b2, 1));
        qs_vec_sqrt(root, v + b0, len);
        RUN16(len, th + b0, m + b0, root, none,
              adam_update16(&vt_, &vg_, &vm_, neg_step, bc2_sqrt, eps));
    }
}

QS_CLONES static void step_adagrad(float *th, const float *g, float *s, size_t n, float eps,
                                   float neg_lr)
{
    float root_buf[BLOCK], *root = root_buf, *none = NULL;
    for (size_t b0 = 0; b0 < n; b0 += BLOCK) {
        size_t len = QS_MIN((size_t)BLOCK, n - b0);
        RUN16(len, s + b0, g + b0, none, none, accum16(&vt_, &vg_));
        qs_vec_sqrt(root, s + b0, len);
        RUN16(len, th + b0, g + b0, root, none, scaled_update16(&vt_, &vg_, &vm_, neg_lr, eps));
    }
}

QS_CLONES static void step_rmsprop(float *th, const float *g, float *v, size_t n, float alpha,
                                   float eps, float neg_lr)
{
    const float one_a = 1.0f - alpha;
    float root_buf[BLOCK], *root = root_buf, *none = NULL;
    for (size_t b0 = 0; b0 < n; b0 += BLOCK) {
        size_t len = QS_MIN((size_t)BLOCK, n - b0);
        RUN16(len, v + b0, g + b0, none, none, ema16(&vt_, &vg_, alpha, one_a, 1));
        qs_vec_sqrt(root, v + b0, len);
        RUN16(len, th + b0, g + b0, root, none, scaled_update16(&vt_, &vg_, &vm_, neg_lr, eps));
    }
}

void qs_opt_step(qs_opt_t *opt, float *theta, const float *grad)
{
    const qs_opt_cfg_t *c = &opt->cfg;
    opt->t++;
    const double t = (double)opt->t;
    const float neg_lr = -c->lr;
    switch (c->kind) {
    case QS_OPT_SGD:
        step_sgd(theta, grad, opt->n, neg_lr);
        break;
    case QS_OPT_MOMENTUM:
        step_momentum(theta, grad, opt->m, opt->n, c->momentum, neg_lr);
        break;
    case QS_OPT_ADAM: {
        double bc1 = 1.0 - pow((double)c->beta1, t), bc2 = 1.0 - pow((double)c->beta2, t);
        step_adam(theta, grad, opt->m, opt->v, opt->n, c->beta1, c->beta2, c->eps,
                  (float)(-(double)c->lr / bc1), (float)sqrt(bc2));
        break;
    }
    case QS_OPT_ADAMAX: {
        double bc1 = 1.0 - pow((double)c->beta1, t);
        step_adamax(theta, grad, opt->m, opt->v, opt->n, c->beta1, c->beta2, c->eps,
                    (float)(-(double)c->lr / bc1));
        break;
    }
    case QS_OPT_ADAGRAD:
        step_adagrad(theta, grad, opt->v, opt->n, c->eps, neg_lr);
        break;
    case QS_OPT_RMSPROP:
        step_rmsprop(theta, grad, opt->v, opt->n, c->alpha, c->eps, neg_lr);
        break;
    }
}

uint64_t qs_flops_opt(qs_opt_kind_t kind, size_t n)
{
    static const uint64_t per[] = {2, 4, 13, 9, 7, 9};
    return (unsigned)kind < QS_ARRAY_LEN(per) ? per[kind] * (uint64_t)n : 0;
}
