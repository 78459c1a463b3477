/* resources: the memory a run needs, checked before any work starts (issue 16, case 10).
 *
 * From the scenario alone, without loading or building anything: the bytes each local
 * worker allocates (the data set, every species' runtime as core/life.h counts it, the
 * tasks in flight), the orchestrator's (the three image sets, the population's genomes,
 * a checkpoint being encoded) and one checkpoint file, plus the fixed cost of the program
 * and its libraries, measured on this build (README, Reliability). `run` and `run
 * --dry-run` refuse a scenario whose worker does not fit in [budget] worker_memory_mb,
 * or whose local workers and orchestrator together do not fit in this machine's memory
 * (MemTotal of /proc/meminfo), and warn when they exceed what is available now
 * (MemAvailable) or when there are more local workers than cores. */
#ifndef QS_SIM_RESOURCES_H
#define QS_SIM_RESOURCES_H

#include <stdint.h>
#include <stdio.h>

#include "core/util.h"
#include "sim/scenario.h"

/* The program and its libraries: the address space a worker needs besides what it
 * allocates, once OpenBLAS has mapped its buffers (at the first product) and before
 * (while it loads the images); the resident memory of an idle process. Measured as the
 * smallest worker_memory_mb with which a run completes, less what is counted below:
 * README, Reliability. */
#define QS_WORKER_BASE_AS   ((uint64_t)226 << 20)
#define QS_WORKER_LOAD_AS   ((uint64_t)88 << 20)
#define QS_PROCESS_BASE_RSS ((uint64_t)16 << 20)

typedef struct {
    uint32_t local_workers;
    uint64_t train, fitness, test; /* images counted (0 in the scenario: MNIST's split) */
    int images_assumed;            /* a count of 0 was taken as MNIST's 60,000 / 10,000 */
    uint64_t data;                 /* a worker's train + fitness images and labels */
    uint64_t species;              /* a worker's species runtimes */
    uint64_t tasks;                /* a worker's tasks in flight (genomes and messages) */
    uint64_t worker_as;            /* the address space a worker needs: worker_memory_mb */
    uint64_t worker_rss;           /* what a worker holds resident */
    uint64_t orchestrator;         /* what the orchestrator holds resident */
    uint64_t checkpoint;           /* one checkpoint file, at most */
    uint64_t machine;              /* local_workers * worker_rss + orchestrator */
} qs_resources_t;

/* What sc needs with local_workers worker processes on this machine. */
void qs_resources_estimate(const qs_scenario_t *sc, uint32_t local_workers, qs_resources_t *r);

/* What the n runs of a set sharing one pool need (`run --seeds/--sweep`, sim/runset.h):
 * each worker holds every run's config, a data set once per distinct [data] path and
 * counts, and species runtimes once per run except where runs differ only in keys that
 * do not reach a worker's runtimes (as the worker shares them: sim/worker.c); the
 * orchestrator holds every run's population. n = 1: qs_resources_estimate. */
void qs_resources_estimate_set(const qs_scenario_t *const *scs, uint32_t n, uint32_t local_workers,
                               qs_resources_t *r);

/* The local worker processes `run` starts: --workers N when given, else [workers] count,
 * and 0 (auto) is the number of cores (remote-only runs: --workers 0 with --listen). */
uint32_t qs_resources_local_workers(const qs_scenario_t *sc, uint32_t workers, int workers_set,
                                    int listen);

/* This machine's memory, from /proc/meminfo (or the file $QS_MEMINFO names: tests). */
typedef struct {
    int known; /* 0: unreadable (nothing is checked against the machine) */
    uint64_t total, available;
    uint32_t cores;
} qs_machine_t;
void qs_machine_read(qs_machine_t *m);

/* 0 if r fits; QS_ERR(TOOBIG) with err saying what does not fit, the numbers, and what to
 * change. Warnings (one line each, no newline at the end) go to warn. */
int qs_resources_check(const qs_resources_t *r, const qs_scenario_t *sc, const qs_machine_t *m,
                       char *warn, size_t cap, qs_error_t *err);

/* The estimate as INI comment lines (run --dry-run). */
void qs_resources_print(FILE *to, const qs_resources_t *r, const qs_scenario_t *sc,
                        const qs_machine_t *m);

#endif
