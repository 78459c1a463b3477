/* history: a run's life story rebuilt from its lineage records, compact enough to hold
 * a million organisms.
 *
 * Records are fed one at a time (from analysis/logread.h, or built in memory by tests);
 * nothing of the log is kept but one fixed-size entry per organism and one per
 * generation. Organisms are stored in the order of their BIRTH records, which the
 * simulator writes parents first, so index order is a valid parents-before-children
 * order (a record that breaks this is counted as an anomaly and its organism treated as
 * a root). Per-generation figures are recomputed from the births, evaluations and
 * deaths themselves; the GENERATION summary records add what only the simulator knew
 * (wall time, workers, parameters alive) and are checked against the recomputation. */
#ifndef QS_HISTORY_H
#define QS_HISTORY_H

#include <stdint.h>

#include "analysis/logread.h"
#include "core/fidelity.h"
#include "core/genstats.h"
#include "core/util.h"
#include "proto/lineage.h"

#define QS_NONE UINT32_MAX /* no index / no generation */

/* One organism (about 90 bytes). */
typedef struct {
    uint64_t id;
    uint64_t parent_id; /* 0 for a founder */
    uint32_t parent;    /* index of the parent, QS_NONE for a root (founder or lost parent) */
    uint32_t born;      /* generation of its first life (origin_time) */
    uint32_t died;      /* generation of its DEATH record, QS_NONE if none was read */
    uint32_t last_eval; /* generation of its last EVAL record, QS_NONE if none */
    uint32_t lives;     /* EVAL records */
    uint8_t species;
    uint8_t cause;    /* qs_death_cause_t, 0 while alive */
    uint8_t has_link; /* born by replication, with link fidelity */
    uint8_t zero_quine;
    double accuracy, rel_err, r2; /* from its last evaluation (NaN if none) */
    double link_r2, link_rel_err; /* replication fidelity of its birth (NaN for founders) */
    uint64_t flops;               /* charged over its whole life */
    uint32_t island;              /* [islands]: where it lived (0 without islands) */
    uint32_t origin_island;       /* a migrant's parent's island (= island otherwise) */
    uint8_t migrant;              /* born from a parent on another island */
} qs_horg_t;

/* A value's spread over a group of organisms (n = 0: no value). */
typedef struct {
    uint32_t n;
    double sum, sumsq, min, max;
} qs_hstat_t;

void qs_hstat_add(qs_hstat_t *s, double v);
double qs_hstat_mean(const qs_hstat_t *s); /* NaN when n = 0 */
double qs_hstat_sd(const qs_hstat_t *s);   /* population sd; NaN when n = 0 */

/* One generation, recomputed from the events, plus its summary record when present. */
typedef struct {
    uint32_t population; /* EVAL records */
    uint32_t births, deaths;
    uint32_t deaths_by_cause[5];
    uint32_t species_count[QS_MAX_SPECIES];
    qs_genstats_t st; /* best accuracy and means (core/genstats.h: finite values only) */
    uint64_t flops;
    /* per species: accuracy and self-prediction R^2 over the generation's evaluations,
     * replication R^2 over its births */
    qs_hstat_t sp_acc[QS_MAX_SPECIES], sp_r2[QS_MAX_SPECIES], sp_link_r2[QS_MAX_SPECIES];
    double best_fitness; /* by the run's fitness measure */
    uint64_t best_fit_id;
    /* from the GENERATION record */
    int has_summary;
    double wall_seconds;
    uint32_t workers;
    uint64_t params_alive;
    uint64_t summary_best_id;
} qs_hgen_t;

/* One island in one generation ([islands] count > 1), recomputed from the events. */
typedef struct {
    uint32_t population, births, deaths, immigrants;
    uint32_t deaths_by_cause[5];
    uint32_t species_count[QS_MAX_SPECIES];
    qs_genstats_t st;
    uint64_t flops;
    double best_fitness;
    uint64_t best_fit_id;
} qs_higen_t;

typedef struct {
    /* header */
    int has_header;
    uint32_t version;
    char run_name[QS_NAME_MAX];
    uint64_t seed;
    double created;
    uint32_t nspecies;
    char species[QS_MAX_SPECIES][QS_NAME_MAX];
    uint64_t species_params[QS_MAX_SPECIES];
    qs_fitness_t fitness;         /* [selection] fitness of the scenario text (default accuracy) */
    uint32_t planned_generations; /* [run] generations of the scenario text, 0 if unknown */
    uint32_t nislands;            /* [islands] count of the scenario text (1 if none) */
    char *scenario;               /* owned: the header's scenario text, NULL if none was read */
    /* end */
    int has_end;
    uint32_t end_generations;
    char end_reason[64];
    /* organisms, in birth-record order */
    qs_horg_t *orgs;
    uint32_t norgs, cap;
    /* id -> index. While ids come as first_id, first_id + 1, ... (the simulator numbers
     * births consecutively) the index is id - first_id and no map is kept; the first id
     * out of that sequence builds an open-addressing map (key 0 = empty). */
    int sparse;
    uint64_t first_id;
    uint64_t *map_keys;
    uint32_t *map_vals;
    uint32_t map_cap;
    /* generations (index = generation number) */
    qs_hgen_t *gens;
    uint32_t ngens, gens_cap;
    qs_higen_t *igens; /* nislands > 1: igens[g * nislands + k], as gens */
    /* the best organism by the run's fitness measure (higher, then lower id) */
    int has_best;
    uint64_t best_id;
    uint32_t best_generation;
    double best_fitness, best_accuracy, best_r2;
    double species_best_accuracy[QS_MAX_SPECIES]; /* highest of any evaluation, NaN if none */
    /* counts */
    uint64_t records[QS_REC_END + 1];
    uint64_t founders;
    uint64_t flops;
    double wall_seconds;
    uint32_t max_workers;
    /* anomalies: records that do not fit the story (each counted, the first described) */
    uint64_t anomalies;
    char first_anomaly[256];
    uint64_t lost_parents;     /* births whose parent was never born in the log */
    uint64_t summary_mismatch; /* generation records disagreeing with the recomputation */
} qs_history_t;

void qs_history_init(qs_history_t *h);
void qs_history_destroy(qs_history_t *h);
/* Take one record into the history (r is only read). */
void qs_history_add(qs_history_t *h, const qs_record_t *r);
/* Index of organism id, or QS_NONE. */
uint32_t qs_history_find(const qs_history_t *h, uint64_t id);

/* Read a whole lineage file into h (initialised here; destroyed again on error). What the
 * reader got (records, skipped regions) goes to *report if not NULL. Errors only for I/O
 * or a file that holds no lineage record at all. */
int qs_history_load(qs_history_t *h, const char *path, qs_logread_stats_t *report, qs_error_t *err);

/* Is organism i alive at the end of the log (death cause END, or no death read)? */
int qs_history_survivor(const qs_history_t *h, uint32_t i);
/* The species name, or "species<k>" when the header was lost. */
const char *qs_history_species(const qs_history_t *h, uint32_t s, char *buf, size_t cap);
/* Island k in generation g (g < ngens, k < nislands; NULL without islands). */
const qs_higen_t *qs_history_island_gen(const qs_history_t *h, uint32_t g, uint32_t k);
/* Last generation seen (ngens - 1), QS_NONE when none. */
uint32_t qs_history_last_generation(const qs_history_t *h);

#endif
