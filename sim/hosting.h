/* hosting: the orchestrator's side of [islands] hosting = workers.
 *
 * Each island lives on one worker, its host (sim/host.h), which keeps its genomes and
 * computes its generations; a host takes several islands when there are more islands than
 * workers (dealt out in turn over the workers ready when the run starts; at each
 * checkpoint, islands move from the busiest host to workers that host none, with the
 * states just gathered, so that workers ready later get their share). The orchestrator
 * keeps each island's counters and best (sim/islands.h: qs_islands_shed) and, per
 * generation, asks every host to run its islands; what comes back is the islands' records
 * (no genomes), gathered in island order as qs_islands_advance would have made them. At a
 * migration epoch the hosts answer with their emigrants instead, which are routed by the
 * topology as immigrants to their new islands' hosts, and then the records come. For a
 * checkpoint every host sends its islands' states, each streamed into the checkpoint's
 * temporary file as it comes (proto/checkpoint.h, qs_checkpoint_writer_t) and let go.
 *
 * A lost host (it died, hung, or sent something wrong: the pool drops it) takes its
 * islands' genomes with it: they go to other workers, restart from the run's last
 * checkpoint and redo the generations since (their answers dropped: the first ones were
 * taken), with the immigrants the orchestrator kept for them.
 *
 * Nothing depends on who hosted what: every island computes what it would in the
 * orchestrator, with the same calls, streams and ids (tests/sim/test_islands.c checks the
 * files byte for byte). */
#ifndef QS_HOSTING_H
#define QS_HOSTING_H

#include <stddef.h>
#include <stdint.h>

#include "proto/checkpoint.h"
#include "sim/islands.h"
#include "sim/pool.h"

typedef struct qs_hosting qs_hosting_t;

typedef struct {
    void *ctx;
    /* A generation is over: its output (owned by the callee: qs_islands_out_destroy). */
    void (*on_generation)(void *ctx, qs_islands_out_t *out);
    /* Island k's state (qs_hosting_gather), one checkpoint frame as its host sent it
     * (checked), valid during the call: written to the checkpoint as it comes, so that the
     * orchestrator holds one at a time. A failure to write it is the callee's (its run
     * fails: qs_hosting_stop). */
    void (*on_part)(void *ctx, uint32_t k, const uint8_t *frame, size_t len);
    /* Every island's state has come (on_part each): the checkpoint can be completed; then
     * qs_hosting_checkpointed. */
    void (*on_state)(void *ctx);
    /* The run cannot go on (msg says why). */
    void (*on_fatal)(void *ctx, const char *msg);
    /* Something for run.log (a lost host's islands going elsewhere). */
    void (*on_event)(void *ctx, const char *fmt, ...) QS_PRINTF(2, 3);
} qs_hosting_cb_t;

/* Host isl's islands (of config `config`, whose resolved scenario is scenario: borrowed)
 * on pool's workers, with task ids task_base | 1, 2, ... A resumed isl (resumed = 1) still
 * holds its plans: their states go to the hosts (from generation 1 on; at generation 0
 * the hosts make the founders, the same ones); a fresh one (qs_islands_init_hosted: no
 * genomes) has its hosts make the founders, and its first checkpoint is gathered from
 * them (qs_hosting_gather, before the first qs_hosting_generation). isl's plans are shed
 * either way. expect: workers to wait for before dealing out the islands (at least 1).
 * ckpt_path (borrowed) is the run's checkpoint, of isl's generation now when resumed and of
 * the boundary of each qs_hosting_checkpointed later: when a host is lost, its islands go
 * to the other workers (or wait for the next one ready) from that checkpoint, and redo the
 * generations since with the immigrants they had received; before the first checkpoint
 * exists, their new hosts make the founders again. */
qs_hosting_t *qs_hosting_new(qs_pool_t *pool, qs_islands_t *isl, uint32_t config,
                             const char *scenario, const char *ckpt_path, int resumed,
                             uint64_t task_base, uint32_t expect, const qs_hosting_cb_t *cb);
/* Only once the pool has let go of every task (after the loop ended). */
void qs_hosting_free(qs_hosting_t *h);

/* The pool's on_worker events. */
void qs_hosting_worker(qs_hosting_t *h, uint64_t worker, int up);

/* Run generation isl->generation on the hosts (on_generation when it is over). */
void qs_hosting_generation(qs_hosting_t *h, int last);
/* Gather the islands' states at the current boundary (on_state when they are in); before
 * the islands are dealt out, their hosts are asked once they have them. */
void qs_hosting_gather(qs_hosting_t *h);
/* The checkpoint of the current boundary is written (ckpt_path): islands move to workers
 * that host none (their states read back from it), unless the run is at its end. */
void qs_hosting_checkpointed(qs_hosting_t *h);
/* Genome bytes that crossed the network (the bin payloads, both ways): migrants (emigrants
 * in, immigrants out) and islands' states (for checkpoints in, to new hosts out). */
void qs_hosting_genome_bytes(const qs_hosting_t *h, uint64_t *migrants, uint64_t *states);
/* The stage under way, for the status line: its island tasks answered (done) of total
 * (one per island; both 0 between stages). */
void qs_hosting_progress(const qs_hosting_t *h, uint32_t *done, uint32_t *total);
/* The run is over or failed: late answers are dropped. */
void qs_hosting_stop(qs_hosting_t *h);

#endif
