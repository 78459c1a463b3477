/* hosting_impl: what sim/hosting.c (the stages, the answers, dealing out) and
 * sim/hosting_moves.c (islands moving: a lost host's to other workers, some to workers
 * ready later) share (not for other files). */
#ifndef QS_HOSTING_IMPL_H
#define QS_HOSTING_IMPL_H

#include "sim/hosting.h"

typedef enum { STAGE_IDLE, STAGE_RUN, STAGE_MIGRATE, STAGE_STATE } stage_t;

/* One thing to ask of an island's host. A replay recomputes what a lost host had done
 * (its answer is dropped: the orchestrator took the first one). */
typedef struct {
    qs_island_op_t op;
    uint32_t generation;
    int replay;
    const uint8_t *genomes; /* immigrants: borrowed from the island's frame or log */
    uint32_t genomes_len;
} op_t;

/* The immigrants an island received at generation `generation` (kept until a checkpoint
 * is past them: a new host replays from that checkpoint). */
typedef struct {
    uint32_t generation;
    qs_bytes_t bytes;
} sent_t;

typedef struct {
    qs_hosting_t *h;
    uint32_t k;
    uint64_t host;       /* its worker (0: none: not dealt out yet, or lost) */
    qs_pool_task_t task; /* its one task at a time */
    qs_msg_island_t msg; /* what the task sends (genomes borrowed) */
    op_t *ops;           /* what its host is to be asked, in order: ops[head..nops) */
    uint32_t nops, head, cap_ops;
    int busy;          /* an op is with its host */
    int replaying;     /* that op is a replay */
    int answered;      /* its real answer of this stage is in */
    uint32_t rebuilds; /* hosts lost since its last real answer */
    sent_t *log;       /* immigrants since the last checkpoint */
    uint32_t nlog;
    qs_bytes_t frame;        /* the genomes it sends: its immigrants */
    qs_bytes_t emigrants;    /* its emigrants' frames, as its host sent them (checked) */
    qs_generation_out_t out; /* its records of the generation */
} island_t;

struct qs_hosting {
    qs_pool_t *pool;
    qs_islands_t *isl;
    uint32_t config, expect;
    const char *scenario;
    uint64_t task_base, seq;
    qs_hosting_cb_t cb;
    island_t *is;      /* isl->n */
    uint32_t n;        /* isl->n (isl may be gone when h is freed) */
    uint64_t *workers; /* ready, in the order they came */
    uint32_t nworkers, cap_workers;
    qs_bytes_t *initial; /* a resumed run's states, sent as the islands are dealt out */
    int dealt, stopped, last, start_when_dealt;
    const char *ckpt_path; /* the run's checkpoint: a lost host's islands restart from it */
    uint32_t ckpt_generation;
    int has_ckpt; /* ckpt_path exists (a fresh run's first one is gathered from the hosts) */
    stage_t stage;
    uint32_t waiting;                    /* answers still to come in this stage */
    uint64_t migrant_bytes, state_bytes; /* genome payloads both ways */
    uint64_t *told; /* workers that have the scenario (sent with their first island) */
    uint32_t ntold;
};

/* sim/hosting.c */
void hosting_fail(qs_hosting_t *h, const char *fmt, ...) QS_PRINTF(2, 3); /* the run stops */
int hosting_migrates(const qs_hosting_t *h, uint32_t g); /* a migration follows generation g */
/* Queue an op for island x (genomes: the immigrants, borrowed); pump sends x's next op to
 * its host unless one is with it already. */
void hosting_push(island_t *x, qs_island_op_t op, uint32_t generation, int replay,
                  const qs_bytes_t *genomes);
void hosting_pump(island_t *x);
char *hosting_scenario_for(qs_hosting_t *h, uint64_t w); /* the text the first time, else NULL */
void hosting_deal(qs_hosting_t *h);                      /* over the workers ready now */

/* sim/hosting_moves.c */
uint32_t hosting_islands_on(const qs_hosting_t *h, uint64_t w);
/* At a checkpoint, once written: a moving island's state is read back from it. */
void hosting_rebalance(qs_hosting_t *h);

#endif
