/* archiver: writes a run's genome archive, archive.msgpack (format in proto/archive.h).
 *
 * [run] archive chooses the organisms, archive_every = K the generations:
 *   best       the fittest organism (fitness, then the lower id) of generations
 *              0, K, 2K, ... and of the last generation
 *   survivors  every organism alive in those generations
 *   all        every organism once, at the end of the generation it was born in (a
 *              founder's or a child's genome after its first life); K is not used
 * An archived genome is the organism's genome after its life in that generation: what
 * it passes on to children born at the end of it, and what a checkpoint would keep.
 *
 * A generation's entries are appended and fsynced when its lives are over, before its
 * lineage records; a checkpoint records the archive's size, and a resume checks the
 * archive up to it (header of the same run, whole records, none from the generations to
 * come) and cuts it back there, like the lineage log. */
#ifndef QS_ARCHIVER_H
#define QS_ARCHIVER_H

#include <stdint.h>
#include <stdio.h>

#include "core/util.h"
#include "proto/archive.h"
#include "proto/checkpoint.h"
#include "sim/population.h"
#include "sim/scenario.h"

#define QS_ARCHIVE_FILE "archive.msgpack"

typedef struct {
    int fd; /* -1: the run keeps no archive */
    char path[QS_PATH_MAX + 32];
    const qs_scenario_t *sc;
    qs_bytes_t buf;
} qs_archiver_t;

/* No archive yet (fd -1); safe to close. */
void qs_archiver_init(qs_archiver_t *a);
/* A fresh run in dir: with archive = none removes an old archive.msgpack (a run being
 * replaced), otherwise creates it with its header (run_id: the lineage header's). */
int qs_archiver_create(qs_archiver_t *a, const char *dir, const qs_scenario_t *sc,
                       const char *run_id, qs_error_t *err);
/* Before a resume changes anything: the archive in dir holds, up to ck->off_archive, a
 * header of run ck->run_id and whole entries of generations before ck->generation, and
 * the offset is the end of one of them. Nothing to check when ck->off_archive is 0. */
int qs_archiver_check(const char *dir, const qs_checkpoint_t *ck, qs_error_t *err);
/* After the checks: cut the archive back to ck->off_archive and append from there (or
 * start one, if the checkpoint had none and sc now asks for one). */
int qs_archiver_reopen(qs_archiver_t *a, const char *dir, const qs_scenario_t *sc,
                       const qs_checkpoint_t *ck, const char *run_id, qs_error_t *err);
/* Is generation g archived (best and survivors; all archives every generation's
 * newborns)? */
int qs_archiver_archives(const qs_scenario_t *sc, uint32_t g);
/* Append the generation's organisms of pops[0..npops) (the islands, or the one
 * population; every result is in, before they advance) as the scenario asks, in id order,
 * and fsync. */
int qs_archiver_write_generation(qs_archiver_t *a, const qs_population_t *pops, uint32_t npops,
                                 qs_error_t *err);
/* The archive's size (0 without one): what a checkpoint records. */
uint64_t qs_archiver_offset(const qs_archiver_t *a);
void qs_archiver_close(qs_archiver_t *a);

/* The largest archive the scenario can write: entries and bytes (upper bounds: a
 * generation may hold fewer organisms than [selection] population). */
typedef struct {
    uint32_t generations; /* archived generations (all: every one) */
    uint64_t entries, bytes;
    uint64_t entry_bytes; /* of the largest species' entry */
} qs_archiver_estimate_t;
void qs_archiver_estimate(const qs_scenario_t *sc, qs_archiver_estimate_t *est);

#endif
