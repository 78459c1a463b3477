/* report: output helpers shared by the single-network commands (train, repair,
 * fertility): their JSON lines (option numbers: core/cli.h), a progress bar for
 * terminals, loading a data split for an aux quine, and a loaded genome's physics with
 * its test images. */
#ifndef QS_REPORT_H
#define QS_REPORT_H

#include <stdint.h>
#include <stdio.h>

#include "core/cli.h"
#include "core/idx.h"
#include "core/life.h"
#include "core/quine.h"
#include "core/util.h"
#include "proto/json.h"

/* One --json line: qs_report_line_begin opens an object on f, the fields are written
 * with qs_jw_kv_* (doubles as "%.9g", null when not finite: an infinite SRQ, say), and
 * qs_report_line_end closes it, ends the line and flushes f. */
void qs_report_line_begin(qs_jw_t *j, FILE *f);
void qs_report_line_end(qs_jw_t *j);

/* A progress bar on stderr, drawn only when stderr is a terminal, at most 10 times a
 * second. */
typedef struct {
    int tty;
    double last;
    int drawn;
} qs_bar_t;
void qs_bar_init(qs_bar_t *p);
void qs_bar_draw(qs_bar_t *p, uint64_t done, uint64_t total, const char *label);
void qs_bar_clear(qs_bar_t *p);

/* Load a split from dir and keep its first `limit` examples (0 = all). */
int qs_load_split(qs_dataset_t *ds, const char *dir, qs_split_t split, uint32_t limit,
                  qs_error_t *err);

/* What a loaded genome needs to be regenerated and scored: a species runtime
 * (core/life.h, without a trainer) whose physics uses the mean training image of dir
 * when spec->rest is mean (the test split stands in if the training split is missing)
 * and, for aux genomes, the first test_count (0: all) test images of dir as its fitness
 * set, checked against the genome's image size. Owned by the caller:
 * qs_genome_env_destroy. */
typedef struct {
    qs_life_species_t life;
    const qs_phys_t *phys;     /* = life.phys */
    const qs_features_t *test; /* aux: the projected test images; NULL for vanilla */
    int has_test;
    qs_dataset_t test_ds;
} qs_genome_env_t;
int qs_genome_env_init(qs_genome_env_t *e, const qs_quine_spec_t *spec, const char *dir,
                       uint32_t test_count, qs_error_t *err);
void qs_genome_env_destroy(qs_genome_env_t *e);

#endif
