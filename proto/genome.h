/* genome: an organism's genome as a self-describing MessagePack document.
 *
 * A `.genome` file holds exactly one genome map (no frame: any MessagePack tool reads
 * it). It carries the model spec, so it can be loaded without the scenario that made
 * it; the weights are one bin of little-endian float32 with a CRC-32 beside them, and
 * the metadata (ids, spec, metrics) has a CRC-32 of its own. The
 * projections are NOT stored: they are regenerated from spec.proj_seed. */
#ifndef QS_GENOME_H
#define QS_GENOME_H

#include <stdint.h>

#include "core/quine.h"
#include "core/util.h"
#include "proto/frame.h"

/* 2: a metadata checksum (meta_crc32) beside the weights'; version 1 files still read. */
#define QS_GENOME_VERSION 2
#define QS_GENOME_FORMAT  "quinesim.genome" /* the map's "format" field */
/* Largest genome file or document accepted (64M parameters). */
#define QS_GENOME_MAX_BYTES ((size_t)256 << 20)
#define QS_MAX_PARENTS      2

typedef struct {
    int present; /* the optional metrics below were measured */
    double accuracy, l_sr, rel_err, r2;
} qs_genome_metrics_t;

typedef struct {
    uint64_t id;       /* organism id (0 = not from a run) */
    uint32_t nparents; /* 0 for founders / single trained networks */
    uint64_t parents[QS_MAX_PARENTS];
    uint32_t generation;
    char species[QS_NAME_MAX]; /* NUL-terminated, may be empty */
    qs_quine_spec_t spec;      /* includes the projection seed */
    uint32_t nweights;         /* must equal qs_quine_nparams(&spec) */
    float *weights;            /* owned */
    qs_genome_metrics_t metrics;
} qs_genome_t;

/* weights allocated for spec (zeroed), the rest zero. */
void qs_genome_init(qs_genome_t *g, const qs_quine_spec_t *spec);
void qs_genome_destroy(qs_genome_t *g);
/* Deep copy. */
void qs_genome_copy(qs_genome_t *dst, const qs_genome_t *src);

/* Append the genome's MessagePack map to out. */
void qs_genome_encode(const qs_genome_t *g, qs_bytes_t *out);
/* Decode one genome map; validates the format name, version, types, spec, weight count
 * against the spec and the checksum. Unknown keys are ignored. On error g is untouched.
 * Non-finite weights are accepted (a diverged organism is still a genome). */
int qs_genome_decode(qs_genome_t *g, const uint8_t *data, size_t len, qs_error_t *err);

/* Files: save writes a temporary file beside path, fsyncs it, renames it over path and
 * fsyncs the folder (atomic: a reader sees the old file or the new one, never a mix).
 * load reads and decodes a whole file; errors name the file. On error g is untouched. */
int qs_genome_save(const qs_genome_t *g, const char *path, qs_error_t *err);
int qs_genome_load(qs_genome_t *g, const char *path, qs_error_t *err);

#endif
