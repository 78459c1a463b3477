/* runset: replicates and sweeps, `quinesim run SCENARIO --seeds 1-5 --sweep sec.key=a,b`.
 *
 * The points of a grid (each --sweep key's values, the first key outermost, then each
 * seed) become runs in one parent folder, one subfolder per point named after it
 * ("seed-3", "life.steps=100,seed-2"), all on one pool of workers
 * (qs_orchestrator_run_set): their tasks interleave and each run computes what it would
 * alone. Every value is checked with the scenario's own parser before anything starts;
 * the memory checks apply to the set's sum; a table sums the runs up at the end.
 * `run --resume PARENT` continues every unfinished run of such a folder together. */
#ifndef QS_RUNSET_H
#define QS_RUNSET_H

#include <stdint.h>

#include "core/util.h"
#include "proto/checkpoint.h"
#include "sim/orchestrator.h"
#include "sim/scenario.h"

/* What `run` was asked for a set (borrowed strings). */
typedef struct {
    const char *scenario;    /* the scenario file */
    const char *const *sets; /* --set and --data assignments, in order */
    int nsets;
    const char *seeds;         /* --seeds SPEC (NULL: the scenario's seed) */
    const char *const *sweeps; /* --sweep KEY=V1,V2,... */
    int nsweeps;
    const char *out; /* the parent folder (NULL or "": runs/<run name>) */
    int dry;         /* --dry-run: print the points and the estimate */
} qs_runset_args_t;

/* Parse a --seeds list ("1-5", "1,3,7", "2,10-12") into *seeds (malloc'ed, *n of them,
 * in the order given): 0, or QS_ERR(INVAL) naming the bad part (not a number, a range
 * that runs backwards, a seed given twice, more than QS_WIRE_MAX_CONFIGS). */
int qs_runset_parse_seeds(const char *spec, uint64_t **seeds, uint32_t *n, qs_error_t *err);

/* Run the set (or print it with dry). Returns the exit status (0, 1, 2 for a refused
 * set, 130 interrupted). */
int qs_runset_run(const qs_runset_args_t *a, qs_run_opts_t *ro);

/* Whether dir is a set's parent folder: no checkpoint of its own, subfolders with one. */
int qs_runset_is_parent(const char *dir);

/* Continue every unfinished run under the parent folder dir together (a finished one is
 * reported as such). sets, nsets and allow as for a single --resume. */
int qs_runset_resume(const char *dir, const char *const *sets, int nsets, const char *allow,
                     qs_run_opts_t *ro, int dry);

/* A single run's --resume: read dir's checkpoint into ck and its scenario (the stored
 * one, or scenario_path's, with sets applied; changed keys must be in allow) into sc and
 * *text (malloc'ed). Returns -1 to go on (then ck, sc and *text are the caller's), or
 * the exit status: 0 when the run is already complete, else the error's (printed). */
int qs_runset_load_resume(const char *dir, const char *scenario_path, const char *const *sets,
                          int nsets, const char *allow, qs_scenario_t *sc, char **text,
                          qs_checkpoint_t *ck);

/* The memory the n runs need against worker_memory_mb and this machine
 * (sim/resources.h): 0, or the exit status 2 with the reason on stderr; printed as
 * comments with dry, warnings on stderr. */
int qs_runset_check_resources(const qs_scenario_t *const *scs, uint32_t n, const qs_run_opts_t *ro,
                              int dry);

#endif
