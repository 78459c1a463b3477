/* inspect: any quinesim file (genome, lineage log, checkpoint) as readable JSON (`quinesim inspect
 * FILE`), and the JSON forms of genomes and lineage records for other printers (analysis).
 *
 * A file is recognised by its content, never its name: a frame stream (lineage log,
 * checkpoint) starts with the frame magic and its first payload is a map whose "format"
 * field names the format; any other quinesim file is one MessagePack map with a "format"
 * field (genome). The format name selects a printer from a table in inspect.c, so a new
 * file type plugs in with one line there (its "format" value, framed or not, and a print
 * function).
 *
 * Output: a genome is one pretty-printed JSON object whose "weights" is a summary
 * (count, mean, std, min, max, nonfinite, crc32, checksum_ok), plus "values" (every
 * weight) with opts.weights. A lineage log is JSON Lines: one compact object per record,
 * in file order, each with its "type"; corrupt stretches are reported on warn and
 * skipped. A checkpoint is one pretty-printed object: counters, file offsets, the plan's
 * organisms (weights summarised as for a genome), the best organism and the scenario. */
#ifndef QS_INSPECT_H
#define QS_INSPECT_H

#include <stdio.h>

#include "core/fidelity.h"
#include "core/util.h"
#include "proto/genome.h"
#include "proto/json.h"
#include "proto/lineage.h"

typedef struct {
    int weights; /* print every weight, not only the summary */
} qs_inspect_opts_t;

/* Print path to out. 0 when the whole file was printed; a negative error naming the file
 * when it is not a quinesim file, of an unknown format, or corrupt (for a lineage log,
 * every readable record is still printed and each problem reported on warn, which may be
 * NULL). */
int qs_inspect_file(const char *path, const qs_inspect_opts_t *opts, FILE *out, FILE *warn,
                    qs_error_t *err);

/* A printer for one format: path is the file, already recognised. */
typedef int (*qs_inspect_fn)(const char *path, const qs_inspect_opts_t *opts, FILE *out, FILE *warn,
                             qs_error_t *err);
typedef struct {
    const char *format; /* the "format" field, e.g. "quinesim.genome" */
    int framed;         /* 1: a frame stream whose first payload carries "format" */
    qs_inspect_fn print;
} qs_inspect_format_t;
/* The table of known formats (count in *n). */
const qs_inspect_format_t *qs_inspect_formats(size_t *n);

/* The "format" field of a MessagePack map (at most cap - 1 bytes). 0, or an error saying
 * why data is not a quinesim document. */
int qs_inspect_peek_format(const uint8_t *data, size_t len, char *out, size_t cap, qs_error_t *err);

/* JSON forms, written as one object at the writer's current position. */
void qs_genome_write_json(qs_jw_t *j, const qs_genome_t *g, int all_weights);
void qs_record_write_json(qs_jw_t *j, const qs_record_t *r);
/* A fidelity's seven fields (l_sr, margin, srq, rel_err, r2, rms, zero_quine) written into
 * the object open in j: inspect nests them as "fidelity", train and repair put them on
 * their --json lines. */
void qs_fidelity_write_json_fields(qs_jw_t *j, const qs_fidelity_t *f);

#endif
