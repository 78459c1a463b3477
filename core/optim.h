/* optim: the optimizers of the paper's comparison, with PyTorch's default
 * hyperparameters (torch.optim, single parameter group, no weight decay):
 *   sgd       lr 0.01 (PyTorch has no default; 0.01 is the common choice)
 *   momentum  SGD with momentum 0.9, dampening 0, lr 0.01
 *   adam      lr 1e-3, betas (0.9, 0.999), eps 1e-8
 *   adamax    lr 2e-3, betas (0.9, 0.999), eps 1e-8
 *   adagrad   lr 1e-2, eps 1e-10, initial accumulator 0
 *   rmsprop   lr 1e-2, alpha 0.99, eps 1e-8
 * The update rules follow PyTorch's documented algorithms exactly, so the paper's
 * optimizer comparison can be rerun. */
#ifndef QS_OPTIM_H
#define QS_OPTIM_H

#include <stddef.h>
#include <stdint.h>

#include "core/util.h"

typedef enum {
    QS_OPT_SGD = 0,
    QS_OPT_MOMENTUM = 1,
    QS_OPT_ADAM = 2,
    QS_OPT_ADAMAX = 3,
    QS_OPT_ADAGRAD = 4,
    QS_OPT_RMSPROP = 5
} qs_opt_kind_t;

typedef struct {
    qs_opt_kind_t kind;
    float lr;
    float beta1, beta2; /* adam, adamax */
    float eps;
    float momentum; /* momentum */
    float alpha;    /* rmsprop */
} qs_opt_cfg_t;

/* The PyTorch defaults for a kind. (qs_opt_init reads a cfg.lr <= 0 as the kind's
 * default lr.) */
qs_opt_cfg_t qs_opt_defaults(qs_opt_kind_t kind);
extern const qs_names_t qs_opt_names;                /* in enumerator order */
const char *qs_opt_name(qs_opt_kind_t kind);         /* "sgd", "momentum", "adam", ... */
int qs_opt_parse(const char *s, qs_opt_kind_t *out); /* 0 or QS_ERR(INVAL) */

/* Optimizer state for n parameters (caller-owned storage; _init/_destroy). */
typedef struct {
    qs_opt_cfg_t cfg;
    size_t n;
    uint64_t t; /* steps taken */
    float *m;   /* first moment / momentum buffer / square-average, as the kind needs */
    float *v;   /* second moment / infinity norm / accumulator */
} qs_opt_t;

void qs_opt_init(qs_opt_t *opt, const qs_opt_cfg_t *cfg, size_t n);
void qs_opt_destroy(qs_opt_t *opt);
/* Forget the state (moments to zero, t = 0), keep the configuration. */
void qs_opt_reset(qs_opt_t *opt);
/* theta -= update(grad). Allocation-free. */
void qs_opt_step(qs_opt_t *opt, float *theta, const float *grad);
/* FLOPs of one qs_opt_step on n parameters (the convention of core/quine.c). */
uint64_t qs_flops_opt(qs_opt_kind_t kind, size_t n);

#endif
