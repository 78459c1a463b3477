/* checkpoint: everything needed to continue a run bit-identically, in one file.
 *
 * checkpoint.msgpack is one frame (proto/frame.h) holding one map: the resolved scenario
 * (so a resume needs nothing else), the counters, the byte sizes of the run's appendable
 * files at this generation boundary (a resume cuts them back to exactly these), the plan
 * of the next generation (every organism that will live in it, with its genome or, for a
 * child not yet born, its parent's genome) and the best organism so far. The random
 * streams need no state: every draw is keyed by (seed, purpose, id/generation). It is
 * written atomically (temporary file, fsync, rename, fsync of the folder), so the file
 * always holds the previous checkpoint or the new one, never a torn one. */
#ifndef QS_CHECKPOINT_H
#define QS_CHECKPOINT_H

#include <stdint.h>

#include "core/fidelity.h"
#include "core/util.h"
#include "proto/frame.h"
#include "proto/lineage.h"

#define QS_CHECKPOINT_FORMAT  "quinesim.checkpoint"
#define QS_CHECKPOINT_VERSION 1

/* One organism of the plan (or the best one). */
typedef struct {
    uint64_t id, parent;
    uint32_t species;
    uint32_t born;
    int newborn;          /* a child not yet born: weights are the parent's */
    double prior_fitness; /* for fitness-proportional budgets */
    uint64_t flops_total;
    double accuracy, fitness;
    qs_fidelity_t fidelity; /* its last evaluation (elites, the best) */
    uint32_t nweights;
    float *weights; /* owned */
} qs_ckpt_org_t;

/* One island's counters ([islands] count > 1; its organisms are among orgs). */
typedef struct {
    uint64_t next_id, births, deaths, flops_total;
} qs_ckpt_island_t;

typedef struct {
    char *scenario; /* owned: the resolved scenario.ini */
    /* The run it belongs to: its lineage header's run_id and scenario_crc32 ("" and 0 in
     * checkpoints written before run ids). */
    char run_id[QS_RUN_ID_LEN + 1];
    uint32_t run_scenario_crc32;
    uint64_t seed;
    uint32_t generation; /* the generation the plan is for (= generations done) */
    int finished;        /* the run is over: nothing to resume */
    uint64_t next_id, births, deaths, flops_total;
    double wall_seconds; /* spent so far (informative) */
    uint64_t off_lineage, off_phylogeny, off_generations;
    uint64_t off_archive; /* archive.msgpack (0: the run keeps no archive) */
    uint32_t norgs;
    qs_ckpt_org_t *orgs; /* owned, by id */
    int has_best;
    uint32_t best_generation;
    qs_ckpt_org_t best;
    uint32_t nislands;         /* 0: one population (next_id... above are its own) */
    qs_ckpt_island_t *islands; /* owned */
} qs_checkpoint_t;

/* Append the checkpoint as one frame to out. */
void qs_checkpoint_encode(const qs_checkpoint_t *c, qs_bytes_t *out);
/* Decode a frame payload. Validates types, counts and every genome's checksum. */
int qs_checkpoint_decode(qs_checkpoint_t *c, const uint8_t *payload, size_t len, qs_error_t *err);
/* Decode a buffer that holds exactly one checkpoint frame (a message's bin: the islands'
 * states and migrants with [islands] hosting = workers). */
int qs_checkpoint_decode_frame(qs_checkpoint_t *c, const uint8_t *data, size_t len,
                               qs_error_t *err);
/* Organisms in a given order (migrants, [islands] hosting = workers): one checkpoint frame
 * per organism, appended to out; decode reads them back (at most max; *orgs owned:
 * qs_checkpoint_orgs_free). */
void qs_checkpoint_encode_orgs(const qs_ckpt_org_t *orgs, uint32_t n, qs_bytes_t *out);
int qs_checkpoint_decode_orgs(const uint8_t *data, size_t len, uint32_t max, qs_ckpt_org_t **orgs,
                              uint32_t *n, qs_error_t *err);
void qs_checkpoint_orgs_free(qs_ckpt_org_t *orgs, uint32_t n);
/* Atomic save; load checks the frame (magic, length, CRC) and names the file in errors. */
int qs_checkpoint_save(const qs_checkpoint_t *c, const char *path, qs_error_t *err);
int qs_checkpoint_load(qs_checkpoint_t *c, const char *path, qs_error_t *err);
void qs_checkpoint_destroy(qs_checkpoint_t *c);

#endif
