/* progress: what a run tells its terminal and its run.log. Events go to run.log (loud ones
 * also to stderr); on a terminal a status line is redrawn in place; one line per
 * generation and the final summary go to stdout unless quiet. */
#ifndef QS_PROGRESS_H
#define QS_PROGRESS_H

#include <stddef.h>
#include <stdint.h>

#include "core/util.h"
#include "sim/population.h"
#include "sim/rundir.h"

typedef enum { QS_PROGRESS_AUTO = 0, QS_PROGRESS_LINES = 1, QS_PROGRESS_QUIET = 2 } qs_progress_t;

typedef struct qs_progress_out {
    qs_progress_t mode;
    int tty;                        /* the status line is drawn (auto mode, stderr a terminal) */
    size_t status_len;              /* 0: no status line on screen */
    qs_rundir_t *rd;                /* run.log, once open (borrowed; NULL: none) */
    const char *tag;                /* a run of a set: its lines start "[tag] " (NULL: none) */
    struct qs_progress_out *screen; /* whose status line is cleared (NULL: this one's) */
} qs_progress_out_t;

/* What the status line shows. */
typedef struct {
    uint32_t generation, generations;
    uint32_t done, tasks;
    uint64_t births; /* by replication */
    double elapsed, eta;
    uint32_t busy, ready;
    uint32_t runs, running; /* a set of runs (runs > 1): generation is its slowest's */
} qs_progress_status_t;

void qs_progress_init(qs_progress_out_t *p, qs_progress_t mode);
void qs_progress_clear(qs_progress_out_t *p); /* erase the status line */
void qs_progress_event(qs_progress_out_t *p, int loud, const char *fmt, ...) QS_PRINTF(3, 4);
/* run.log "fatal: msg", stderr "quinesim run: msg". */
void qs_progress_fatal(qs_progress_out_t *p, const char *msg);
void qs_progress_status(qs_progress_out_t *p, const qs_progress_status_t *s);
void qs_progress_start(qs_progress_out_t *p, const char *name, uint32_t generations,
                       uint32_t population, uint32_t workers, const char *out_dir);
void qs_progress_generation(qs_progress_out_t *p, const qs_rec_generation_t *s,
                            uint32_t generations, double wall);
/* The end: "REASON: ..." and the best organism (pop NULL: none; held: extra text). */
void qs_progress_final(qs_progress_out_t *p, const char *reason, uint32_t generations,
                       uint64_t founders, uint64_t births, double wall, const qs_population_t *pop,
                       const char *species, const char *held);

#endif
