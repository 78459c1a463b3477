/* checkpoint: everything needed to continue a run bit-identically, in one file.
 *
 * checkpoint.msgpack is one frame (proto/frame.h) holding one map: the resolved scenario
 * (so a resume needs nothing else), the counters, the byte sizes of the run's appendable
 * files at this generation boundary (a resume cuts them back to exactly these), the plan
 * of the next generation (every organism that will live in it, with its genome or, for a
 * child not yet born, its parent's genome) and the best organism so far. The random
 * streams need no state: every draw is keyed by (seed, purpose, id/generation). It is
 * written atomically (temporary file, fsync, rename, fsync of the folder), so the file
 * always holds the previous checkpoint or the new one, never a torn one. A hosted run's
 * checkpoint is in parts (qs_checkpoint_writer_t: a head, then one frame per island, as
 * their hosts send them), written the same way. */
#ifndef QS_CHECKPOINT_H
#define QS_CHECKPOINT_H

#include <stdint.h>

#include "core/fidelity.h"
#include "core/util.h"
#include "proto/frame.h"
#include "proto/lineage.h"

#define QS_CHECKPOINT_FORMAT  "quinesim.checkpoint"
#define QS_CHECKPOINT_VERSION 1
/* A checkpoint in parts (qs_checkpoint_writer_t): a head, then one frame per island. */
#define QS_CHECKPOINT_VERSION_PARTS 2
#define QS_CHECKPOINT_MAX_PARTS     100000

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
/* A checkpoint written as its islands' states arrive ([islands] hosting = workers), so that
 * no more than one of them is held: a head frame (version 2: c's scenario, run, seed,
 * generation, finished, wall time and offsets; not its counters, organisms or best), then
 * `parts` frames, each one island's state as its host sent it (a whole checkpoint frame,
 * nislands 0), in any order. best_island (UINT32_MAX: none) names the island whose part
 * holds the run's best. Everything goes to a temporary file next to path; commit (every
 * part written) fsyncs it, renames it over path and fsyncs the folder; until then, or after
 * abort or a failure (which removes the temporary file), path holds the previous checkpoint.
 * Errors: negative QS_ERR codes, the writer then closed. */
typedef struct {
    int fd;
    uint32_t parts, written;
    char *path, *tmp; /* owned; tmp NULL: closed (a zeroed writer is a closed one) */
} qs_checkpoint_writer_t;

int qs_checkpoint_writer_open(qs_checkpoint_writer_t *w, const char *path, const qs_checkpoint_t *c,
                              uint32_t parts, uint32_t best_island, qs_error_t *err);
/* One island's state: frame[0..len) exactly one checkpoint frame (checked by the caller). */
int qs_checkpoint_writer_part(qs_checkpoint_writer_t *w, const uint8_t *frame, size_t len,
                              qs_error_t *err);
int qs_checkpoint_writer_commit(qs_checkpoint_writer_t *w, qs_error_t *err);
void qs_checkpoint_writer_abort(qs_checkpoint_writer_t *w); /* closed: nothing */
int qs_checkpoint_writer_is_open(const qs_checkpoint_writer_t *w);

/* Island k's part (of nislands) of the checkpoint at path, as one checkpoint frame (its
 * counters, organisms and, when the run's best is on it, the best; no scenario) into out,
 * and the checkpoint's generation. A checkpoint in parts is read one part at a time (one
 * island's state held at most), and with as_sent its part comes as written (its host's
 * bytes, its island's best included); a whole one is read whole. */
int qs_checkpoint_load_island(const char *path, uint32_t k, uint32_t nislands, int as_sent,
                              qs_bytes_t *out, uint32_t *generation, qs_error_t *err);

/* Atomic save; load checks the frame (magic, length, CRC) and names the file in errors. */
int qs_checkpoint_save(const qs_checkpoint_t *c, const char *path, qs_error_t *err);
/* load reads both layouts: a checkpoint in parts comes back as one (its islands' organisms
 * merged in id order, its counters summed, as a whole checkpoint of islands holds them). */
int qs_checkpoint_load(qs_checkpoint_t *c, const char *path, qs_error_t *err);
void qs_checkpoint_destroy(qs_checkpoint_t *c);

#endif
