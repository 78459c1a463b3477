/* scenario: the INI files that describe a run, parsed with libinih.
 *
 * One table (scenario.c) lists every key: section, name, type, default, range and a
 * line of help. The same table validates files and --set overrides, writes the fully
 * resolved scenario (every default spelled out) and prints the key reference
 * (`quinesim run --keys`). Errors read `file:line: message`; an unknown key or section
 * is an error with a "did you mean" suggestion. */
#ifndef QS_SCENARIO_H
#define QS_SCENARIO_H

#include <stdint.h>
#include <stdio.h>

#include "core/fidelity.h"
#include "core/optim.h"
#include "core/quine.h"
#include "core/train.h"
#include "core/util.h"
#include "core/life.h"
#include "proto/archive.h"
#include "proto/lineage.h"

typedef enum { QS_SEL_TOURNAMENT = 0, QS_SEL_ROULETTE = 1, QS_SEL_TRUNCATION = 2 } qs_selection_t;
typedef enum { QS_ALLOC_EQUAL = 0, QS_ALLOC_FITNESS = 1 } qs_alloc_t;
/* [islands]: who is connected to whom, who leaves, whom they replace, how a total is shared. */
typedef enum { QS_TOPO_RING = 0, QS_TOPO_FULL = 1, QS_TOPO_RANDOM = 2 } qs_topology_t;
typedef enum {
    QS_EMIGRATE_BEST = 0,
    QS_EMIGRATE_RANDOM = 1,
    QS_EMIGRATE_TOURNAMENT = 2
} qs_emigrate_t;
typedef enum { QS_REPLACE_WORST = 0, QS_REPLACE_RANDOM = 1 } qs_replace_t;
typedef enum { QS_SHARE_SPLIT = 0, QS_SHARE_EACH = 1 } qs_share_t;
/* Who holds the islands' genomes and computes their generations (sim/hosting.h). */
typedef enum { QS_HOSTING_ORCHESTRATOR = 0, QS_HOSTING_WORKERS = 1 } qs_hosting_mode_t;

#define QS_SCN_MAX_KEYS 80

typedef struct {
    char name[QS_NAME_MAX];
    qs_kind_t kind;
    uint32_t hidden, depth;
    double lambda, temperature;
    qs_sr_loss_t loss;
    qs_reduce_t reduce;
    qs_pairing_t pairing;
    qs_init_t init;
    uint64_t projection_seed;
    uint32_t count;
    uint32_t line[QS_SCN_MAX_KEYS]; /* where each key was set (0 = default) */
} qs_scn_species_t;

typedef struct {
    /* [run] */
    char name[QS_NAME_MAX];
    uint64_t seed;
    uint32_t generations;
    uint32_t checkpoint_every;
    qs_archive_mode_t archive;
    uint32_t archive_every;
    /* [data] */
    char data_path[QS_PATH_MAX];
    uint32_t train, fitness, test;
    /* [life] */
    qs_opt_kind_t optimizer;
    double lr; /* 0 = the optimizer's default */
    uint32_t batch, images, steps;
    qs_refresh_t refresh;
    qs_life_recipe_t recipe;
    uint32_t fertile_steps, fertile_cg;
    uint32_t measure_child; /* 0 or 1 */
    /* [replication] */
    qs_replicate_mode_t mode;
    uint32_t regenerations;
    qs_regen_t regen;
    double mutation_sigma, mutation_rate;
    qs_rest_t input;
    qs_precision_t precision; /* of regeneration and evaluation in the workers */
    /* [selection] */
    qs_selection_t method;
    uint32_t size, elitism, population;
    qs_fitness_t fitness_measure;
    /* [budget] */
    uint64_t flops_per_generation; /* 0 = unlimited */
    qs_alloc_t allocation;
    uint64_t max_params; /* 0 = unlimited */
    double task_timeout_s;
    uint32_t worker_memory_mb; /* 0 = unlimited */
    /* [workers] */
    uint32_t workers; /* 0 = auto (number of cores) */
    double heartbeat_s;
    uint32_t in_flight;
    uint32_t max_restarts;
    double auth_timeout_s;
    /* [islands] (sim/islands.h): count 1 is one central population */
    uint32_t islands;
    qs_topology_t topology;
    uint32_t degree;        /* random: out-neighbours of each island */
    uint64_t topology_seed; /* random: 0 = the run seed */
    uint32_t interval;      /* generations between migrations */
    uint32_t migrants;      /* sent by each island to each out-neighbour per migration */
    qs_emigrate_t emigrants;
    uint32_t tournament; /* emigrants = tournament: entrants per draw */
    qs_replace_t replace;
    qs_share_t budget_share, capacity_share;
    qs_hosting_mode_t hosting;

    uint32_t nspecies;
    qs_scn_species_t species[QS_MAX_SPECIES];

    char path[QS_PATH_MAX];         /* the file it came from */
    uint32_t line[QS_SCN_MAX_KEYS]; /* where each global key was set (0 = default) */
} qs_scenario_t;

/* All defaults, no species. */
void qs_scenario_defaults(qs_scenario_t *sc);
/* Parse a file over the defaults, then validate. */
int qs_scenario_load(qs_scenario_t *sc, const char *path, qs_error_t *err);
/* Parse INI text (for tests and for scenarios stored in checkpoints); origin names it
 * in error messages. Does not validate across keys: call qs_scenario_validate. */
int qs_scenario_parse_string(qs_scenario_t *sc, const char *text, const char *origin,
                             qs_error_t *err);
/* Apply "section.key=value" (species: "species.NAME.key=value"). */
int qs_scenario_set(qs_scenario_t *sc, const char *assignment, qs_error_t *err);
/* Checks that involve several keys (capacity against the founders, pairing and batch,
 * ...). Fills in derived defaults (population). */
int qs_scenario_validate(qs_scenario_t *sc, qs_error_t *err);
/* The fully resolved scenario as INI text, every key written out. */
void qs_scenario_write(const qs_scenario_t *sc, FILE *out);
/* Into a malloc'ed string. */
char *qs_scenario_to_string(const qs_scenario_t *sc);
/* Markdown table of every key: section, key, default, range, meaning. */
void qs_scenario_print_keys(FILE *out);

/* Differences between two scenarios, one per changed key ("run.generations",
 * "species.big.hidden", or "species.NAME" for a species only one of them has), with the
 * old and new values as text. Returns how many (at most cap are stored). */
typedef struct {
    char key[QS_NAME_MAX + 48];
    char old_value[96], new_value[96];
} qs_scenario_change_t;
size_t qs_scenario_diff(const qs_scenario_t *a, const qs_scenario_t *b, qs_scenario_change_t *out,
                        size_t cap);

/* The model spec of a species (with the run's replication input). */
qs_quine_spec_t qs_scenario_spec(const qs_scenario_t *sc, uint32_t species);
const char *qs_selection_name(qs_selection_t s);
/* How many islands send migrants to each island (ring 1, full count-1, random degree). */
uint32_t qs_scenario_in_degree(const qs_scenario_t *sc);
/* Island k's share (k < sc->islands) of a total dealt out over the islands: total/count,
 * one more for the first total%count islands. */
uint64_t qs_scenario_share(const qs_scenario_t *sc, uint32_t k, uint64_t total);
/* Founders of a species on island k: the founders, in species order, are dealt out to the
 * islands in turn (founder j, id j+1, to island j % count). */
uint32_t qs_scenario_island_founders(const qs_scenario_t *sc, uint32_t k, uint32_t species);

#endif
