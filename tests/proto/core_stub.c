/* core_stub: TEMPORARY stand-ins for the few core/quine.c functions proto/ calls
 * (qs_quine_nparams, qs_quine_spec_validate and the enum name helpers), so the proto
 * suite links before core/quine.c lands on main. They are weak: once the real ones are
 * linked they win. Delete this file when core/quine.c is merged. Formulas follow the
 * comments of core/quine.h. */
#include <stdio.h>

#include "core/optim.h"
#include "core/quine.h"
#include "core/train.h"

#define WEAK __attribute__((weak))

WEAK size_t qs_quine_nparams(const qs_quine_spec_t *s)
{
    size_t h = s->hidden;
    return (size_t)s->depth * h * h + h + (s->kind == QS_KIND_AUX ? h * s->classes : 0);
}

WEAK int qs_quine_spec_validate(const qs_quine_spec_t *s, qs_error_t *err)
{
    if (s->hidden < 2 || s->hidden > 4096)
        return qs_error_set(err, QS_ERR(RANGE), "spec: hidden %u out of range 2..4096", s->hidden);
    if (s->depth < 1 || s->depth > 16)
        return qs_error_set(err, QS_ERR(RANGE), "spec: depth %u out of range 1..16", s->depth);
    if (s->kind == QS_KIND_AUX && (s->classes < 1 || s->classes > 1000))
        return qs_error_set(err, QS_ERR(RANGE), "spec: classes %u out of range", s->classes);
    if (s->kind == QS_KIND_AUX && (s->image_dim < 1 || s->image_dim > 65536))
        return qs_error_set(err, QS_ERR(RANGE), "spec: image_dim %u out of range", s->image_dim);
    return 0;
}

#define NAMES(fn, type, ...)                                                                       \
    WEAK const char *fn(type v)                                                                    \
    {                                                                                              \
        static const char *const n[] = {__VA_ARGS__};                                              \
        return (unsigned)v < sizeof n / sizeof n[0] ? n[v] : "?";                                  \
    }
NAMES(qs_kind_name, qs_kind_t, "vanilla", "aux")
NAMES(qs_rest_name, qs_rest_t, "zero", "mean")
NAMES(qs_init_name, qs_init_t, "uniform", "he")
NAMES(qs_sr_loss_name, qs_sr_loss_t, "sse", "relative", "r2")
NAMES(qs_pairing_name, qs_pairing_t, "separate", "paired")
NAMES(qs_opt_name, qs_opt_kind_t, "sgd", "momentum", "adam", "adamax", "adagrad", "rmsprop")
NAMES(qs_refresh_name, qs_refresh_t, "epoch", "step")
