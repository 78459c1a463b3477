/* host: the islands a worker keeps ([islands] hosting = workers).
 *
 * With hosting = workers each island lives on one worker, its host, which holds the
 * island's population (sim/population.h: genomes included) and computes its generations
 * with the same calls the orchestrator makes for a central population: budget, one life
 * per organism (the caller's life function: the worker's task runner, core/life.h), then
 * advance. What goes back is what the orchestrator writes (island_records: the lineage
 * records, no genomes), the emigrants at a migration epoch, and the island's state for a
 * checkpoint (island_genomes). proto/wire.h describes the conversation.
 *
 * A host may keep several islands, of several runs (configs). The host trusts nothing it
 * is sent: an island it does not hold, a generation it is not at, immigrants it did not
 * ask for, genomes of the wrong size are errors (the worker reports them and ends). */
#ifndef QS_HOST_H
#define QS_HOST_H

#include <stdint.h>

#include "core/life.h"
#include "proto/wire.h"

/* Compute one task of config `config` (genome borrowed, result owned by the caller). */
typedef int (*qs_host_life_fn)(void *ctx, qs_life_task_t *task, qs_life_result_t *res,
                               qs_error_t *err);

typedef struct qs_hosted qs_hosted_t;

typedef struct {
    qs_hosted_t **isl; /* owned */
    uint32_t n, cap;
    qs_host_life_fn life;
    void *ctx;
} qs_host_t;

void qs_host_init(qs_host_t *h, qs_host_life_fn life, void *ctx);
void qs_host_destroy(qs_host_t *h);

/* One island message. 0 with *reply filled (reply->type 0: nothing to send; the caller
 * sends it and frees it with qs_msg_destroy), or < 0 with err set. */
int qs_host_handle(qs_host_t *h, const qs_msg_island_t *m, qs_msg_t *reply, qs_error_t *err);

#endif
