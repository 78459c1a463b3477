/* lineage: the run's append-only log of births, evaluations, deaths and generations.
 *
 * lineage.msgpack is a sequence of frames (proto/frame.h), one record each. The first
 * record is a header (format version, run name, seed, species names, the resolved
 * scenario text). A torn last record (cut short or failing its checksum) is detected,
 * reported and ignored by the reader; everything before it is usable. */
#ifndef QS_LINEAGE_H
#define QS_LINEAGE_H

#include <stdint.h>
#include <stdio.h>

#include "core/util.h"
#include "proto/frame.h"
#include "proto/genome.h"
#include "proto/wire.h"

#define QS_LINEAGE_VERSION 1

typedef enum {
    QS_REC_HEADER = 1,
    QS_REC_BIRTH,
    QS_REC_EVAL,
    QS_REC_DEATH,
    QS_REC_GENERATION,
    QS_REC_END
} qs_rec_type_t;
const char *qs_rec_type_name(qs_rec_type_t t); /* "header", "birth", ... */

typedef struct {
    uint32_t version;
    char run_name[QS_NAME_MAX];
    uint64_t seed;
    double created; /* Unix time */
    uint32_t nspecies;
    char species[QS_MAX_SPECIES][QS_NAME_MAX];
    uint64_t species_params[QS_MAX_SPECIES]; /* N of each species */
    char *scenario;                          /* owned, NUL-terminated: the resolved scenario.ini */
} qs_rec_header_t;

typedef struct {
    uint64_t id;
    uint64_t parent; /* 0 for a founder */
    uint32_t generation;
    uint32_t species;
    qs_replicate_mode_t mode;
    int has_link;                            /* founders have none */
    double link_l_sr, link_rel_err, link_r2; /* child before mutation vs parent */
    double mutation_sigma, mutation_rate;
    uint32_t mutated; /* weights changed */
} qs_rec_birth_t;

typedef struct {
    uint64_t id;
    uint32_t generation;
    double accuracy;          /* fitness set (NaN for vanilla) */
    double l_sr, rel_err, r2; /* self-prediction after life */
    int zero_quine;
    uint64_t steps; /* training steps this generation */
    uint64_t flops; /* FLOPs charged to it this generation */
    double train_loss;
} qs_rec_eval_t;

typedef enum {
    QS_DEATH_SELECTION = 1, /* not chosen to survive */
    QS_DEATH_CAPACITY = 2,  /* no room under max_params */
    QS_DEATH_BUDGET = 3,    /* could not pay for replication and was not kept */
    QS_DEATH_END = 4        /* alive when the run ended (closes its time span) */
} qs_death_cause_t;
const char *qs_death_cause_name(qs_death_cause_t c);

typedef struct {
    uint64_t id;
    uint32_t generation;
    qs_death_cause_t cause;
} qs_rec_death_t;

typedef struct {
    uint32_t generation;
    uint32_t population;
    uint32_t nspecies;
    uint32_t species_count[QS_MAX_SPECIES];
    uint32_t births, deaths;
    double best_accuracy, mean_accuracy;
    uint64_t best_id;
    double mean_rel_err, mean_r2; /* self-prediction fidelity */
    double mean_link_r2;          /* replication links of this generation's births */
    uint64_t flops;               /* spent this generation */
    uint64_t params_alive;
    double wall_seconds; /* this generation */
    uint32_t workers;
} qs_rec_generation_t;

typedef struct {
    uint32_t generations;
    char reason[64]; /* "completed", "extinct", ... */
} qs_rec_end_t;

typedef struct {
    qs_rec_type_t type;
    union {
        qs_rec_header_t header;
        qs_rec_birth_t birth;
        qs_rec_eval_t eval;
        qs_rec_death_t death;
        qs_rec_generation_t generation;
        qs_rec_end_t end;
    } u;
} qs_record_t;

/* Append r as one frame to out. */
void qs_record_encode(const qs_record_t *r, qs_bytes_t *out);
/* Decode one frame payload. */
int qs_record_decode(qs_record_t *r, const uint8_t *payload, size_t len, qs_error_t *err);
void qs_record_destroy(qs_record_t *r);

/* Sequential reader over a lineage file. */
typedef struct {
    FILE *f;
    char path[QS_PATH_MAX];
    qs_frame_reader_t frames;
    uint8_t buf[65536];
    size_t buf_len, buf_off;
    uint64_t records;    /* complete records returned */
    uint64_t good_bytes; /* file offset just after the last complete record */
    int eof;
} qs_lineage_reader_t;

int qs_lineage_open(qs_lineage_reader_t *rd, const char *path, qs_error_t *err);
/* 1 and *r filled (destroy it after use), 0 at a clean end, or a negative error. A torn
 * tail (partial or corrupt last frame) returns QS_ERR(TRUNCATED) with err saying how many
 * bytes after rd->good_bytes were skipped; records before it are all valid. */
int qs_lineage_next(qs_lineage_reader_t *rd, qs_record_t *r, qs_error_t *err);
void qs_lineage_close(qs_lineage_reader_t *rd);

#endif
