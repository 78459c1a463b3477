/* repair: the self-repair protocol of `quinesim repair`, as a library function.
 *
 * From theta_0 (a genome): measure it ("original") and its offspring f_theta0(C)
 * ("offspring": how well the child copies itself); damage round(fraction * N) weights
 * (qs_damage_apply: zero or noise, the seed's draws; "damaged"); then regenerate K times,
 * theta <- f_theta(C), rewriting every weight or only the damaged ones ("cycle" 1..K).
 * Each stage is measured: the fidelity of the network's self-prediction, dist =
 * |theta - theta_0|^2 / |theta_0|^2, restored = 1 - |theta - theta_0|^2 /
 * |theta_damaged - theta_0|^2 (1 fully repaired, 0 no better than the damaged genome,
 * NaN before the damage or when it changed nothing) and, with test features, accuracy.
 *
 * A network can repair itself only if it is a genuine, stable replicator: R^2 >=
 * QS_REPAIR_MIN_R2 for the genome (not a near-zero quine) and for its offspring. The
 * verdict says which case holds, in words. */
#ifndef QS_REPAIR_H
#define QS_REPAIR_H

#include <stddef.h>
#include <stdint.h>

#include "core/fertility.h"
#include "core/fidelity.h"
#include "core/quine.h"

#define QS_REPAIR_MIN_R2 0.9

typedef struct {
    double damage; /* fraction of the weights, 0..1 */
    qs_damage_mode_t mode;
    uint64_t cycles;
    int only_damaged; /* regenerate only the damaged weights */
    uint64_t seed;    /* of the damage */
} qs_repair_cfg_t;

/* One measured stage. For "offspring" only f is set (the others NaN). */
typedef struct {
    const char *stage; /* "original", "offspring", "damaged", "cycle" */
    uint64_t cycle;    /* 1..K for "cycle", else 0 */
    qs_fidelity_t f;
    double dist, restored;
    double acc; /* NaN without test features */
} qs_repair_stage_t;

typedef void (*qs_repair_stage_fn)(void *ctx, const qs_repair_stage_t *s);

typedef struct {
    qs_fidelity_t original, offspring;
    size_t damaged;     /* weights damaged */
    double damage_dist; /* |theta_damaged - theta_0|^2 */
    double final_dist;  /* |theta_K - theta_0|^2 */
    int copies;         /* the genome copies itself (R^2 >= QS_REPAIR_MIN_R2, not zero) */
    int good;           /* ... and so does its offspring: a stable replicator */
    int repaired;       /* theta_K is closer to theta_0 than the damaged genome */
} qs_repair_result_t;

/* Run the protocol on theta0 (n = qs_phys_nparams(phys) weights, not changed). test may
 * be NULL (no accuracy). on_stage (may be NULL) is called for each stage in the order
 * above. work: qs_work_new(spec, 1) or larger. */
void qs_repair_run(const qs_phys_t *phys, const qs_features_t *test, const float *theta0,
                   const qs_repair_cfg_t *cfg, qs_work_t *work, qs_repair_stage_fn on_stage,
                   void *ctx, qs_repair_result_t *out);

/* The verdict in words (one sentence, no newline) into buf. */
void qs_repair_verdict(const qs_repair_result_t *r, const qs_repair_cfg_t *cfg, char *buf,
                       size_t cap);

#endif
