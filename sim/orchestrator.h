/* orchestrator: the libuv event loop that runs a population on a worker pool.
 *
 * One loop, single-threaded. The pool (sim/pool.h) spawns local workers (`quinesim worker
 * --stdio` over pipes) and accepts remote ones, sends each the run's configuration and
 * keeps every worker busy with several tasks in flight; the orchestrator submits one task
 * per organism of a generation and its callbacks put the results into the population
 * (sim/islands.h), which decides everything in organism-id order. The generation's
 * bookkeeping (records, checkpoint, the next generation's tasks) runs when its last
 * result arrives; what the run prints is sim/progress.h's.
 *
 * Killed, hung or babbling workers are the pool's to handle (its tasks go back to the
 * queue); a worker that keeps failing at start-up, or a task that fails on several
 * workers, ends the run with a clear error. SIGINT/SIGTERM: stop, keep the last checkpoint
 * consistent, exit non-zero (a second SIGINT exits at once). Every such event goes to
 * run.log. */
#ifndef QS_ORCHESTRATOR_H
#define QS_ORCHESTRATOR_H

#include <stdint.h>

#include "proto/checkpoint.h"
#include "sim/progress.h"
#include "sim/scenario.h"

typedef struct {
    const char *out_dir;
    int force;          /* replace an existing run in out_dir */
    const char *resume; /* resume this run directory (issue 6) */
    uint32_t workers;   /* local workers; with workers_set, 0 = none (remote only) */
    int workers_set;    /* --workers was given (auto: not set) */
    qs_progress_t progress;
    const char *listen; /* HOST:PORT for remote workers (NULL: none) */
    const char *token_file;
    const char *worker_exe; /* the program to spawn (default: this one) */
    int echo_tasks;         /* benchmarks: workers return genomes untouched (no compute) */
} qs_run_opts_t;

/* Run the scenario to the end; with resume, continue that checkpoint's run in
 * opts->out_dir (its organisms are taken). Returns the process exit status: 0 done,
 * 1 error, 130 interrupted (resumable). */
int qs_orchestrator_run(qs_scenario_t *sc, const char *scenario_text, const qs_run_opts_t *opts,
                        qs_checkpoint_t *resume);

/* One run of a set that shares one pool of workers (replicates and sweeps, sim/runset.h).
 * Each run keeps its own population, run directory, checkpoints and lineage; the pool,
 * the loop and the signals are shared, and the tasks of all runs interleave. Each
 * worker gets every run's config (proto/wire.h: config index of count) and each task
 * names its run's, so a run computes what it would alone. */
typedef struct {
    /* in (borrowed) */
    qs_scenario_t *sc;
    const char *scenario_text;
    const char *out_dir;
    qs_checkpoint_t *resume; /* continue this checkpoint's run in out_dir (NULL: fresh) */
    const char *tag;         /* its terminal lines start "[tag] " (NULL: none) */
    /* out */
    int status;      /* as qs_orchestrator_run's: 0, 1, 130 */
    char reason[32]; /* "completed", "extinct", "interrupted", "failed", "not started" */
    int has_last;    /* last is the summary of its last generation */
    qs_rec_generation_t last;
    uint32_t generations; /* done */
    uint64_t births;      /* by replication, over all its sessions */
    double wall;          /* seconds, over all its sessions */
} qs_orch_run_t;

/* Run the n runs together (opts' out_dir and resume are ignored: each run has its own).
 * A run that fails (its directory, a task failing on several workers) stops alone; a
 * pool failure or a signal stops all (interrupted runs resumable). Returns the worst
 * status: 0 when every run completed, else 130/143 if interrupted, else 1. */
int qs_orchestrator_run_set(qs_orch_run_t *runs, uint32_t n, const qs_run_opts_t *opts);

#endif
