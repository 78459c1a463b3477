/* islands: several populations that evolve apart and exchange migrants ([islands]).
 *
 * Island k is a population (sim/population.h) with its own scenario: its share of the
 * places, of the founders (dealt out in turn), of the FLOP budget and of the capacity.
 * Its organisms' ids are k+1, k+1+count, ..., so an id names its island and ids never
 * collide. Every generation each island is budgeted, lived, evaluated and selected on its
 * own, with its own selection stream. After generations interval-1, 2*interval-1, ...
 * (not the last) comes a migration: every island picks `migrants` emigrants (best, random
 * or by tournament, from the stream (seed, MIGRATION, island, generation)) and sends
 * them to each of its out-neighbours in the topology; on each island the immigrants, in
 * order of their source island, take the places left empty among the newborns, then
 * replace newborns ([islands] replace). An immigrant is a child of its emigrant born on
 * the new island in the next generation, by the same birth as any child (replication,
 * mutation, life): the lineage log's birth record names its island and origin_island.
 *
 * Nothing depends on which worker computed what: the islands are advanced in island
 * order and every draw is keyed by (seed, purpose, island, generation or id). One island
 * is exactly the central population: the same calls, streams, ids and records.
 *
 * The islands are handed to the orchestrator as one flat list of entries (island 0's
 * plan, then island 1's, ...), one task each. */
#ifndef QS_ISLANDS_H
#define QS_ISLANDS_H

#include <stdint.h>

#include "proto/checkpoint.h"
#include "proto/wire.h"
#include "sim/population.h"
#include "sim/scenario.h"

typedef struct {
    const qs_scenario_t *sc; /* borrowed: the run's */
    uint32_t n;
    qs_scenario_t *isc;     /* n: each island's own scenario */
    qs_population_t *pop;   /* n */
    uint32_t degree;        /* out-neighbours of each island */
    uint32_t *adj;          /* adj[k * degree + d]: island k's destinations */
    uint32_t *src;          /* src[k * degree + j]: the islands sending to k, ascending */
    uint32_t *start;        /* n + 1: flat index of each island's first entry */
    uint32_t *hosted_alive; /* n: hosting = workers: organisms of each island's plan */
    uint32_t generation;
    uint64_t records_bytes; /* the islands' records messages, all generations (see advance) */
    /* the best organism so far: which island holds it (its pop->best) */
    int has_best, best_changed;
    uint32_t best_island;
} qs_islands_t;

/* The islands of generation 0, or of a checkpoint (taking its weights). */
void qs_islands_init(qs_islands_t *isl, const qs_scenario_t *sc);
/* Generation 0 for [islands] hosting = workers: the founders' ids and counters only (every
 * genome NULL), so that the orchestrator never holds them; the hosts make them
 * (sim/host.c) and the checkpoint of generation 0 is gathered from the hosts. */
void qs_islands_init_hosted(qs_islands_t *isl, const qs_scenario_t *sc);
int qs_islands_restore(qs_islands_t *isl, const qs_scenario_t *sc, qs_checkpoint_t *c,
                       qs_error_t *err);
void qs_islands_destroy(qs_islands_t *isl);

/* The topology (ring, full, random k-regular from topology_seed or the run seed) as
 * out-neighbour lists: out[k * degree + d], degree = qs_scenario_in_degree(sc) (the
 * graphs are regular: as many in as out). out holds count * degree entries. */
void qs_islands_topology(const qs_scenario_t *sc, uint32_t *out);

/* Island k's own scenario: the run's sc with its shares of the places, founders, budget
 * and capacity. */
void qs_islands_scenario(const qs_scenario_t *sc, uint32_t k, qs_scenario_t *out);

/* Budget every island and number the entries; returns how many there are. */
uint32_t qs_islands_budget(qs_islands_t *isl);
uint32_t qs_islands_count(const qs_islands_t *isl); /* entries of the current plan */
qs_org_t *qs_islands_entry(const qs_islands_t *isl, uint32_t index);
void qs_islands_task(const qs_islands_t *isl, uint32_t index, uint64_t task_id,
                     qs_life_task_t *task);
/* A task's result, routed to its organism's island (see qs_population_apply). */
int qs_islands_apply(qs_islands_t *isl, qs_life_result_t *res, qs_error_t *err);
void qs_islands_set_echo(qs_islands_t *isl, int echo);

/* Founders, births (founders included) and deaths over every island. */
void qs_islands_totals(const qs_islands_t *isl, uint64_t *founders, uint64_t *births,
                       uint64_t *deaths);

/* What a generation produced: all of it in id order (the records and generations.csv's
 * row for the whole), and each island's part (n > 1 only: NULL otherwise). */
typedef struct {
    qs_generation_out_t all;
    qs_generation_out_t *island; /* n, or NULL with one island */
    uint32_t n;
    uint32_t migrated; /* immigrants placed at this generation's migration */
    uint32_t lost;     /* immigrants refused for capacity */
} qs_islands_out_t;
void qs_islands_out_destroy(qs_islands_out_t *out);

/* After every result is in: migrate (at an epoch), advance every island, and gather.
 * Each island's output goes through the bytes of its island_records message (proto/
 * wire.h) before it is gathered, as it would come from a worker hosting the island:
 * isl->records_bytes counts them. */
void qs_islands_advance(qs_islands_t *isl, int last, qs_islands_out_t *out);

/* Whether a migration follows the current generation (never after the last). */
int qs_islands_migrate_after(const qs_islands_t *isl, int last);

/* [islands] hosting = workers (sim/hosting.h). The orchestrator keeps each island's
 * counters and best, not its plan: shed frees the plans (after their states went to the
 * hosts), hosted_count is the organisms of the hosts' plans, and hosted_advance ends a
 * generation from the islands' outputs as their hosts sent them (outs: n, taken), as
 * qs_islands_advance does from its own. */
void qs_islands_shed(qs_islands_t *isl);
uint32_t qs_islands_hosted_count(const qs_islands_t *isl);
void qs_islands_hosted_advance(qs_islands_t *isl, int last, qs_generation_out_t *outs,
                               qs_islands_out_t *out);

/* One island's generation as the island_records message a host sends (records encoded
 * into *records, which m borrows; m->dead is malloc'ed: free it), and back (o owned). */
void qs_islands_records_msg(const qs_generation_out_t *o, uint32_t island, uint32_t nspecies,
                            qs_bytes_t *records, qs_msg_island_records_t *m);
int qs_islands_records_out(const qs_msg_island_records_t *m, qs_generation_out_t *o,
                           qs_error_t *err);

/* The population that holds the best organism so far (its best, best_generation), or
 * NULL before the first evaluation. */
const qs_population_t *qs_islands_best(const qs_islands_t *isl);

/* All islands as one checkpoint (weights BORROWED: release with
 * qs_islands_checkpoint_release). */
void qs_islands_checkpoint(const qs_islands_t *isl, qs_checkpoint_t *c);
void qs_islands_checkpoint_release(qs_checkpoint_t *c);
/* The same from each island's own checkpoint (part: n of them, n > 1; c borrows their
 * organisms and weights). */
void qs_islands_checkpoint_combine(const qs_islands_t *isl, const qs_checkpoint_t *part,
                                   qs_checkpoint_t *c);

#endif
