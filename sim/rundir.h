/* rundir: the files of a run directory (architecture.md) and how they are written.
 *
 *   scenario.ini       the fully resolved scenario
 *   lineage.msgpack    framed records: header, then per generation its births, evaluations,
 *                      deaths and summary; fsynced at the end of every generation
 *   phylogeny.csv      ALife Data Standards phylogeny: one row per organism, written when it
 *                      dies (the survivors' rows when the run ends, destruction_time none);
 *                      sorted into id order (parents first) when the run ends or stops
 *   generations.csv    one row per generation (with islands: one per island, then the whole)
 *   best.genome        the fittest organism so far (atomic replace)
 *   run.log            what happened, with timestamps: workers, faults, generations
 *   archive.msgpack    the genome archive ([run] archive, sim/archiver.h), if any
 *   run.lock           flock()ed by the orchestrator writing the folder; says who it is
 *
 * Every append goes through one writer that can report its byte offsets, so that a
 * checkpoint can record them and a resume can cut the files back to that boundary. */
#ifndef QS_RUNDIR_H
#define QS_RUNDIR_H

#include <stdint.h>
#include <stdio.h>

#include "core/util.h"
#include "proto/checkpoint.h"
#include "proto/lineage.h"
#include "sim/archiver.h"
#include "sim/islands.h"
#include "sim/population.h"
#include "sim/scenario.h"

typedef struct {
    char dir[QS_PATH_MAX];
    const qs_scenario_t *sc;
    int lineage_fd;
    FILE *phylo, *gens, *log;
    int lock_fd; /* run.lock, held (flock) while the folder is open */
    qs_bytes_t buf;
    char run_id[QS_RUN_ID_LEN + 1]; /* the run's identity (lineage header) */
    uint32_t scenario_crc32;
    qs_archiver_t archive; /* archive.msgpack: written by the orchestrator, cut with the rest */
} qs_rundir_t;

/* Sizes of the appendable files at a generation boundary. */
typedef struct {
    uint64_t lineage, phylogeny, generations;
} qs_rundir_offsets_t;

/* Create a fresh run directory (refuses a non-empty one unless force, in which case the
 * run's own files are replaced), take its lock, draw a run id, write scenario.ini and
 * the lineage header. */
int qs_rundir_create(qs_rundir_t *rd, const char *dir, const qs_scenario_t *sc,
                     const char *scenario_text, int force, qs_error_t *err);
/* Reopen for a resume from ck: take the folder's lock, check that ck belongs to this run
 * (run id, scenario digest and seed of the lineage header) and that each of its offsets
 * is a boundary the files really have (the lineage log's record after which generation
 * ck->generation starts, the CSVs' rows), and only then cut the appendable files back to
 * those offsets, write scenario_text to scenario.ini if it changed, and append from
 * there. Nothing is changed when a check fails. */
int qs_rundir_reopen(qs_rundir_t *rd, const char *dir, const qs_scenario_t *sc,
                     const char *scenario_text, const qs_checkpoint_t *ck, qs_error_t *err);
void qs_rundir_close(qs_rundir_t *rd);

/* Append the generation's records (lineage, phylogeny rows, generations row) and make
 * them durable (fflush + fsync). */
int qs_rundir_write_generation(qs_rundir_t *rd, const qs_islands_out_t *out, double wall_seconds,
                               uint32_t workers, qs_error_t *err);
/* The end record, when the run is over (the last generation's deaths, cause END, have
 * already closed every organism's row). */
int qs_rundir_write_end(qs_rundir_t *rd, uint32_t generations, const char *reason, qs_error_t *err);
/* Rewrite phylogeny.csv with its rows in id order, which puts parents before children
 * (atomically; the same bytes in another order, so a checkpoint's offset and row count
 * stay true). qs_rundir_write_end does it; a run stopped by a signal calls it after its
 * checkpoint. Rows appended later (a resumed run) follow in death order until the next. */
int qs_rundir_sort_phylogeny(qs_rundir_t *rd, qs_error_t *err);
int qs_rundir_save_best(qs_rundir_t *rd, const qs_population_t *pop, qs_error_t *err);
void qs_rundir_offsets(const qs_rundir_t *rd, qs_rundir_offsets_t *off);
/* Stamp a checkpoint with the run's identity and the files' current offsets. */
void qs_rundir_stamp(const qs_rundir_t *rd, qs_checkpoint_t *c);

/* run.log: a timestamped line (also to stderr when echo). */
void qs_rundir_log(qs_rundir_t *rd, const char *fmt, ...) QS_PRINTF(2, 3);

#endif
