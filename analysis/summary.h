/* summary: what a run amounted to, from its history, as text or JSON.
 *
 * Generations, births, deaths (by cause), extinctions, each species' outcome, the best
 * organism (by the run's own fitness measure) and its ancestry depth, the trends of
 * accuracy and fidelity (first / last / best generation), FLOPs and wall time spent, the
 * most recent common ancestor of the survivors, and what the reader had to skip. The
 * text is for people; the JSON object carries the same fields for scripts. Several runs
 * are compared side by side in one table. */
#ifndef QS_SUMMARY_H
#define QS_SUMMARY_H

#include <stdint.h>
#include <stdio.h>

#include "analysis/history.h"
#include "proto/json.h"
#include "analysis/logread.h"

/* A series over generations: its first, last and best value (and where). */
typedef struct {
    int present; /* some generation has a finite value */
    double first, last, best;
    uint32_t first_gen, last_gen, best_gen;
} qs_trend_t;

typedef struct {
    char name[QS_NAME_MAX];
    uint64_t params;
    uint64_t founders, births; /* births include its founders */
    uint32_t peak, peak_gen;   /* largest population and its (first) generation */
    uint32_t alive_at_end;
    int extinct;
    uint32_t extinct_gen; /* the generation its last organism lived in */
    double best_accuracy; /* NaN when none */
} qs_species_out_t;

typedef struct {
    char path[QS_PATH_MAX];
    char label[QS_NAME_MAX]; /* the run's name (or the file name) */
    qs_logread_stats_t read;
    /* the run */
    char run_name[QS_NAME_MAX];
    uint64_t seed;
    int has_header, complete; /* complete: an END record was read */
    char end_reason[64];
    uint32_t generations, planned_generations;
    const char *fitness; /* the measure the run selected on */
    /* organisms */
    uint64_t organisms, founders, births; /* births exclude founders */
    uint64_t deaths;                      /* before the end (not cause END) */
    uint64_t deaths_by_cause[5];
    uint64_t alive_at_end;
    uint32_t nspecies;
    qs_species_out_t species[QS_MAX_SPECIES];
    /* best organism */
    int has_best;
    uint64_t best_id;
    uint32_t best_generation, best_species, best_depth, best_born;
    uint64_t best_founder;
    double best_fitness, best_accuracy, best_r2;
    /* trends over generations */
    qs_trend_t best_accuracy_trend, mean_accuracy_trend, mean_r2_trend, mean_rel_err_trend,
        mean_link_r2_trend;
    /* spending */
    uint64_t flops;
    double wall_seconds;
    uint32_t max_workers;
    /* most recent common ancestor of the survivors */
    int has_mrca;
    uint64_t mrca_id;
    uint32_t mrca_born, mrca_back, mrca_roots, mrca_species;
    /* oddities */
    uint64_t anomalies, lost_parents, summary_mismatch;
    char first_anomaly[256];
} qs_summary_t;

/* Fill s from h (and what the reader reported; read may be NULL). */
void qs_summary_compute(qs_summary_t *s, const qs_history_t *h, const char *path,
                        const qs_logread_stats_t *read);

void qs_summary_print(const qs_summary_t *s, FILE *out);
/* One JSON object on one line. extra (if not NULL) adds members before it closes. */
void qs_summary_json(const qs_summary_t *s, FILE *out, void (*extra)(qs_jw_t *w, void *ctx),
                     void *ctx);
/* Several runs side by side: one column per run. */
void qs_summary_compare(const qs_summary_t *s, uint32_t n, FILE *out);

#endif
