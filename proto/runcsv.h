/* runcsv: the rows of a run's two CSV files, each with one writer, shared by `quinesim
 * run` (sim/rundir.c, as the run goes) and `quinesim analyze` (analysis/export.c, from
 * the records of the lineage log).
 *
 *   phylogeny.csv    id,ancestor_list,origin_time,destruction_time,species,accuracy,
 *                    rel_err,r2,flops   (ALife Data Standards; QS_ALIFE_ROOT, QS_ALIFE_ALIVE)
 *     islands:       + island,origin_island (the parent's island for a migrant, else empty)
 *     extended:      + link_r2,link_rel_err,death_cause
 *   generations.csv  generation,population,births,deaths,best_accuracy,mean_accuracy,
 *                    mean_rel_err,mean_r2,mean_link_r2,best_id,flops,params_alive,
 *                    n_<species>...,wall_seconds,workers
 *     islands:       generation,island,population,...: per generation one row per island
 *                    (0, 1, ...; wall_seconds and workers empty), then one for them all
 *                    (island "all", the row a run without islands writes)
 *     extended:      + deaths_selection,deaths_capacity,deaths_budget,mean_link_rel_err,
 *                    cumulative_flops,nonfinite_rel_err,nonfinite_r2
 *
 * The run writes the base columns; analyze writes the same columns, computed by the
 * same code (core/genstats.h), followed by its extended ones, so that a row of the run's
 * file is the beginning of analyze's row for the same organism or generation. Integers
 * are written in full, metrics as qs_csv_num (%.9g, inf/-inf by name, NaN an empty
 * field), wall_seconds as %.3f; a species name is quoted when CSV needs it. */
#ifndef QS_RUNCSV_H
#define QS_RUNCSV_H

#include <stdint.h>
#include <stdio.h>

/* One organism's row. */
typedef struct {
    uint64_t id;
    uint64_t parent_id;        /* 0: a root (QS_ALIFE_ROOT) */
    uint32_t origin_time;      /* its birth generation */
    int alive;                 /* destruction_time QS_ALIFE_ALIVE */
    uint32_t destruction_time; /* its death generation + 1 */
    const char *species;
    double accuracy, rel_err, r2; /* of its last evaluation */
    uint64_t flops;               /* over its life */
    /* islands (a run with [islands] count > 1) */
    int islands;
    uint32_t island;
    int migrant;
    uint32_t origin_island;
    /* extended */
    double link_r2, link_rel_err; /* of its birth; NaN for a founder */
    const char *death_cause;      /* "" while alive */
} qs_runcsv_org_t;

#define QS_RUNCSV_ALL_ISLANDS "all"

void qs_runcsv_phylogeny_header(FILE *f, int islands, int extended);
void qs_runcsv_phylogeny_row(FILE *f, const qs_runcsv_org_t *o, int extended);

/* One generation's row. */
typedef struct {
    uint32_t generation, population, births, deaths;
    int islands; /* write the island column: island, or -1 for all of them */
    int island;
    double best_accuracy, mean_accuracy, mean_rel_err, mean_r2, mean_link_r2;
    uint64_t best_id; /* 0: none */
    uint64_t flops;
    const uint32_t *species_count; /* nspecies entries (the header's) */
    int has_summary;               /* 0: params_alive, wall_seconds, workers empty */
    uint64_t params_alive;
    double wall_seconds;
    uint32_t workers;
    /* extended */
    uint32_t deaths_selection, deaths_capacity, deaths_budget;
    double mean_link_rel_err;
    uint64_t cumulative_flops;
    uint32_t nonfinite_rel_err, nonfinite_r2; /* left out of the means (core/genstats.h) */
} qs_runcsv_gen_t;

void qs_runcsv_generations_header(FILE *f, const char *const *species, uint32_t nspecies,
                                  int islands, int extended);
void qs_runcsv_generations_row(FILE *f, const qs_runcsv_gen_t *g, uint32_t nspecies, int extended);

#endif
