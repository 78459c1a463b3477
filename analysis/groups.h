/* groups: several runs grouped by the scenario keys whose values differ between them.
 *
 * Each run's resolved scenario (the text its lineage header carries) is read as key =
 * value pairs (analysis/inikv.h). A key varies when some run has another value for it,
 * or none (numbers are compared as numbers: 0.01 = 0.010). Runs with the same value of
 * every varying key form a group, in the order of their first run; the seed is what
 * tells a group's runs apart (replicates). Keys that say how a run is carried out, not
 * what it computes, never split a group: run.name, run.seed, run.checkpoint_every,
 * run.archive, run.archive_every, budget.task_timeout_s, budget.worker_memory_mb and the
 * [workers] section. A run whose scenario was not read (its header lost) is put in a
 * group of its own kind, "scenario unknown", and does not take part in finding the keys.
 *
 * Each group is summarised as mean ± sd over its runs (sd with n - 1, the sample standard
 * deviation; none for a single run) of the figures of qs_summary_compare: the last
 * generation's population means, the best organism, births, wall time. */
#ifndef QS_GROUPS_H
#define QS_GROUPS_H

#include <stdint.h>
#include <stdio.h>

#include "analysis/summary.h"

typedef struct {
    uint32_t nruns, nkeys, ngroups;
    char **keys;     /* owned: the varying keys, "section.key", in first-seen order */
    char **values;   /* owned: nruns x nkeys, run r's value of key k at [r * nkeys + k]
                      * (NULL: the run's scenario lacks the key, or was not read) */
    uint32_t *group; /* per run: its group */
    uint32_t *first; /* per group: its first run */
    uint32_t *size;  /* per group: its runs */
    int *unknown;    /* per group: the runs' scenario was not read */
} qs_groups_t;

/* Group nruns runs by their scenario texts (NULL: not read). Caller-owned storage:
 * qs_groups_destroy releases it. */
void qs_groups_init(qs_groups_t *g, const char *const *scenarios, uint32_t nruns);
void qs_groups_destroy(qs_groups_t *g);

/* "key=value key=value" of group k's varying keys ("all runs" when none varies,
 * "scenario unknown" for runs without one). */
void qs_groups_label(const qs_groups_t *g, uint32_t k, char *buf, size_t cap);

/* The groups as a table, one row per group: its key values, runs, seeds, then mean ± sd
 * of each figure; s holds the runs' summaries in the order given to _init. */
void qs_groups_print(const qs_groups_t *g, const qs_summary_t *s, FILE *out);
/* One JSON object per group, one per line: {"group": {key: value, ...}, "label",
 * "runs": [run labels], "seeds": [...], "n", then per figure {"n", "mean", "sd", "min",
 * "max"}}. */
void qs_groups_json(const qs_groups_t *g, const qs_summary_t *s, FILE *out);

#endif
