/* population: the evolutionary bookkeeping of a run, deterministic and free of I/O.
 *
 * A generation is a PLAN: one entry per organism that lives in it, either an organism
 * that lives again (an elite, or a founder in generation 0) or a child to be born from a
 * parent's genome. The orchestrator turns each entry into one worker task, collects the
 * results (in any order), and hands them back here by organism id. Then:
 *
 *   1. budget   every entry got an allowance of FLOPs before its life; it reserved the
 *               cost of one replication and trained for at most [life] steps on the rest
 *   2. evaluate fitness = accuracy, R^2 of the self-prediction, or their product
 *   3. select   the top `elitism` organisms survive; the other places are filled with
 *               children of parents drawn by tournament, roulette or truncation; a parent
 *               pays each child's replication cost from what its life left over, and a
 *               child is only born if its parameters fit under max_params
 *   4. die      every organism not kept ends with this generation
 *
 * Every random draw comes from (run seed, purpose, id) streams and every list is in
 * organism-id order, so the outcome never depends on which worker computed what when. */
#ifndef QS_POPULATION_H
#define QS_POPULATION_H

#include <stdint.h>

#include "core/fidelity.h"
#include "proto/checkpoint.h"
#include "proto/genome.h"
#include "proto/lineage.h"
#include "core/life.h"
#include "sim/scenario.h"

/* One organism of the current generation. */
typedef struct {
    uint64_t id;
    uint64_t parent; /* 0 for founders */
    uint32_t species;
    uint32_t born;        /* generation of its first life */
    int newborn;          /* BIRTH entry: its genome is made from the parent's at the worker */
    float *genome;        /* owned: its own (LIVE) or its parent's (BIRTH): the task's input */
    float *result;        /* owned: the genome after its life, kept apart until the generation
                           * is complete so that the plan itself stays intact */
    double prior_fitness; /* last fitness (LIVE) or the parent's (BIRTH): for allocation */
    /* set when the plan is budgeted */
    uint64_t allowance, steps;
    uint64_t life_stream, mutation_stream;
    /* set from the result */
    int done;
    double accuracy, train_loss;
    qs_fidelity_t fidelity;
    int has_link;
    qs_fidelity_t link;
    int has_child;              /* [life] measure_child: */
    double child_r2, drift2_r2; /* see qs_life_eval_t */
    uint32_t mutated;
    uint64_t flops;       /* charged this generation: life, then replications it paid for */
    uint64_t flops_total; /* charged over its whole life */
    double fitness;
    double seconds; /* worker time (not part of the deterministic outputs) */
} qs_org_t;

/* The species' costs, computed once from core's FLOP counts. */
typedef struct {
    uint64_t nparams;
    uint64_t step_flops;        /* one training step including the optimizer */
    uint64_t replication_flops; /* one child: regenerations x regeneration */
    uint64_t eval_flops;        /* evaluation (not charged to the organism) */
} qs_species_cost_t;

typedef struct {
    const qs_scenario_t *sc; /* borrowed */
    /* [islands] (sim/islands.h): this population is island `island` of `nislands`; its
     * organisms' ids are island+1, island+1+nislands, ... (one island: 1, 2, 3, ...) */
    uint32_t island, nislands;
    /* Set before qs_population_advance by the islands at a migration: organisms of other
     * islands (id, species, fitness and genome after their life: owned) whose children
     * take places among this island's newborns. advance consumes and clears them. */
    qs_org_t *immigrants;
    uint32_t nimmigrants;
    qs_species_cost_t cost[QS_MAX_SPECIES];
    uint32_t generation; /* the generation the plan is for */
    uint64_t next_id;
    qs_org_t *orgs; /* the plan / the living, sorted by id */
    uint32_t norgs, cap;
    /* totals */
    uint64_t births, deaths, flops_total;
    int echo; /* benchmarks: tasks are QS_TASK_ECHO (the orchestrator's own ceiling) */
    /* the best organism ever evaluated (highest fitness, then lowest id) */
    int has_best;
    qs_org_t best; /* owns best.genome */
    uint32_t best_generation;
    int best_changed; /* since the last qs_population_take_best_changed */
} qs_population_t;

/* Costs of each species from the scenario. */
void qs_population_costs(const qs_scenario_t *sc, qs_species_cost_t *cost);

/* Generation 0: the founders, ids 1.. in species order, weights from each species' init
 * with stream (seed, INIT, id). */
void qs_population_init(qs_population_t *pop, const qs_scenario_t *sc);
/* The same for island `island` of `nislands`: sc is the island's own scenario (its share
 * of the places, founders, budget and capacity); its founders get ids island+1,
 * island+1+nislands, ... in species order. */
void qs_population_init_island(qs_population_t *pop, const qs_scenario_t *sc, uint32_t island,
                               uint32_t nislands);
/* The same without the weights: the founders' ids, species and counters, each genome NULL
 * ([islands] hosting = workers: the hosts make the founders, whose weights depend on their
 * ids alone). Only for qs_islands_shed, the checkpoint and the counters. */
void qs_population_init_island_ids(qs_population_t *pop, const qs_scenario_t *sc, uint32_t island,
                                   uint32_t nislands);
/* The island of an organism: ids are dealt out to the islands in turn. */
static inline uint32_t qs_island_of(uint64_t id, uint32_t nislands)
{
    return nislands > 1 ? (uint32_t)((id - 1) % nislands) : 0;
}
/* The founders of generation 0 (the sum of the species' counts). pop->births counts them
 * too; births by replication are pop->births minus this (what `analyze` calls births). */
uint64_t qs_population_founders(const qs_population_t *pop);
void qs_population_destroy(qs_population_t *pop);

/* Share the generation's budget and set each entry's allowance, steps and streams. */
void qs_population_budget(qs_population_t *pop);

/* Index of the entry for organism id, or -1. */
int qs_population_find(const qs_population_t *pop, uint64_t id);
/* Store a task's result. Checks that it belongs to this generation and has the right
 * genome length; takes ownership of res->weights. */
int qs_population_apply(qs_population_t *pop, qs_life_result_t *res, qs_error_t *err);
int qs_population_complete(const qs_population_t *pop);

/* Emigrants, chosen when every result of the generation is in (before advance): up to m
 * organisms by `how` (the fittest, drawn at random, or winners of tournaments of
 * `tournament` entrants), drawn from the stream (seed, MIGRATION, island, generation).
 * Fills out[0..return) with copies: id, species, fitness, accuracy and the genome after
 * this life (owned by out). */
uint32_t qs_population_emigrants(const qs_population_t *pop, uint32_t m, qs_emigrate_t how,
                                 uint32_t tournament, qs_org_t *out);

/* What one generation produced, for the logs (arrays owned by the struct). */
typedef struct {
    qs_rec_generation_t summary;
    qs_rec_birth_t *births; /* this generation's newborns (and founders), by id */
    uint32_t nbirths;
    qs_rec_eval_t *evals; /* every organism of the generation, by id */
    uint32_t nevals;
    qs_rec_death_t *deaths; /* by id */
    uint32_t ndeaths;
    /* for phylogeny.csv: the dead, with their last evaluation */
    qs_org_t *dead;      /* genome pointers are NULL */
    uint32_t extinct;    /* species that died out this generation (bit mask) */
    double best_fitness; /* of summary.best_id when it is the fittest (vanilla) */
    /* a migration into this island (for the next generation) */
    uint32_t immigrants;      /* placed among the newborns */
    uint32_t immigrants_lost; /* refused: their parameters did not fit under max_params */
    uint32_t alive_next[QS_MAX_SPECIES]; /* organisms of each species in the next plan */
} qs_generation_out_t;
void qs_generation_out_destroy(qs_generation_out_t *out);

/* After every result is in: evaluate, select, record, and replace the plan with the
 * next generation's (the last generation kills everyone with cause END). */
void qs_population_advance(qs_population_t *pop, int last, qs_generation_out_t *out);

/* The population as a checkpoint (counters and plan; the caller adds the scenario text
 * and file offsets). The weights are BORROWED from pop: release with
 * qs_population_checkpoint_release, not qs_checkpoint_destroy. */
void qs_population_checkpoint(const qs_population_t *pop, qs_checkpoint_t *c);
/* One organism as a checkpoint organism of n weights (the weights borrowed, not copied). */
void qs_population_org_checkpoint(const qs_org_t *o, size_t n, qs_ckpt_org_t *c);
void qs_population_checkpoint_release(qs_checkpoint_t *c);
/* Restore from a checkpoint (taking its weights); checks every organism against the
 * scenario's species. */
int qs_population_restore(qs_population_t *pop, const qs_scenario_t *sc, qs_checkpoint_t *c,
                          qs_error_t *err);
/* The same for island `island` of `nislands` (c holds only this island's organisms and
 * counters). */
int qs_population_restore_island(qs_population_t *pop, const qs_scenario_t *sc, uint32_t island,
                                 uint32_t nislands, qs_checkpoint_t *c, qs_error_t *err);

/* [islands] hosting = workers: the orchestrator's copy of an island keeps no plan, only its
 * counters and its best. Its host names its best (id, fitness) when it becomes the run's
 * best: taken unless it is not better than pop's (as qs_population_advance decides), with
 * no genome yet; fill_best copies in the rest and the genome from the island's state. */
void qs_population_name_best(qs_population_t *pop, uint64_t id, double fitness,
                             uint32_t generation);
void qs_population_fill_best(qs_population_t *pop, const qs_ckpt_org_t *best);

/* Organism o as a genome document (BORROWING weights, which are o's genome or its
 * result: do not destroy g): id, parent, birth generation, species, spec and its last
 * evaluation as metrics (best.genome, the archive). */
void qs_population_genome(const qs_population_t *pop, const qs_org_t *o, float *weights,
                          qs_genome_t *g);

/* Build a task for entry i (genome borrowed, not copied: valid while the plan lives). */
void qs_population_task(const qs_population_t *pop, uint32_t i, uint64_t task_id,
                        qs_life_task_t *task);

#endif
