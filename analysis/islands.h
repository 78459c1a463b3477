/* islands: a run with [islands] summarised island by island, from its history.
 *
 * Per island: organisms born on it (founders, births, immigrants: children of parents on
 * another island), how many immigrants' lineages survive (the immigrant or a descendant,
 * wherever it lives, alive at the end), the organisms alive on it at the end, the
 * founders they descend from, and the phylogenetic diversity of their tree (Faith's PD,
 * analysis/phylo.h); accuracy (best of any evaluation, and the last generation's mean)
 * and fidelity (the last generation's mean self-prediction R^2). A run without islands
 * has none of this: the functions then print and write nothing. */
#ifndef QS_ANALYSIS_ISLANDS_H
#define QS_ANALYSIS_ISLANDS_H

#include <stdint.h>
#include <stdio.h>

#include "analysis/history.h"
#include "proto/json.h"

typedef struct {
    uint64_t founders, births, immigrants; /* births exclude founders, include immigrants */
    uint64_t immigrant_lineages_alive;
    uint64_t alive_at_end;
    uint32_t roots_alive; /* founders (roots) the survivors descend from */
    double pd_alive;      /* Faith's PD of the survivors' tree, generations (0 if none) */
    double best_accuracy; /* NaN when none */
    double last_mean_accuracy, last_mean_r2;
} qs_island_summary_t;

/* One entry per island (malloc'ed array of h->nislands), or NULL without islands. */
qs_island_summary_t *qs_islands_summarize(const qs_history_t *h);
void qs_islands_print(const qs_history_t *h, const qs_island_summary_t *is, FILE *out);
/* The JSON member "islands": an array, one object per island (null without islands). */
void qs_islands_json(const qs_history_t *h, const qs_island_summary_t *is, qs_jw_t *w);

#endif
