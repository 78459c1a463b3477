/* lineage: the run's append-only log of births, evaluations, deaths and generations.
 *
 * lineage.msgpack is a sequence of frames (proto/frame.h), one record each: a map with
 * "type" (the record type's name) and "v" (QS_LINEAGE_VERSION). The first record is a
 * header (also "format": "quinesim.lineage"; run name, seed, species, the resolved
 * scenario text). A torn last record (cut short, zero-filled or failing its checksum) is
 * detected, reported and ignored by the reader; everything before it is usable. A
 * corrupt stretch in the MIDDLE of a file is reported too, and the reader can carry on:
 * it resynchronises on the next frame that is whole and checksum-correct, and counts
 * what it skipped. */
#ifndef QS_LINEAGE_H
#define QS_LINEAGE_H

#include <stdint.h>
#include <stdio.h>

#include "core/util.h"
#include "proto/frame.h"
#include "proto/genome.h"
#include "core/life.h"

#define QS_LINEAGE_VERSION 1
#define QS_LINEAGE_FORMAT  "quinesim.lineage" /* the header record's "format" field */
/* Largest record the reader accepts (a header carries the scenario text). */
#define QS_LINEAGE_MAX_RECORD ((size_t)16 << 20)
/* A run's identity: 32 lower-case hex digits (128 random bits) drawn when the run folder
 * is created, carried by the lineage header and every checkpoint. */
#define QS_RUN_ID_LEN 32
/* The most [islands] a run can have (birth records name an island below it). */
#define QS_MAX_ISLANDS 100000

/* phylogeny.csv (ALife Data Standards) markers, as the standard's own examples write them
 * and its reference tools (ALifeStdDev) expect by default: a root's ancestor_list, and the
 * destruction_time of an organism alive at the end (ALifeStdDev's not_destroyed_value). */
#define QS_ALIFE_ROOT  "['none']"
#define QS_ALIFE_ALIVE "none"

typedef enum {
    QS_REC_HEADER = 1,
    QS_REC_BIRTH,
    QS_REC_EVAL,
    QS_REC_DEATH,
    QS_REC_GENERATION,
    QS_REC_END
} qs_rec_type_t;
const char *qs_rec_type_name(qs_rec_type_t t); /* "header", "birth", ...; NULL if unknown */

typedef struct {
    uint32_t version;
    char run_name[QS_NAME_MAX];
    uint64_t seed;
    double created; /* Unix time */
    uint32_t nspecies;
    char species[QS_MAX_SPECIES][QS_NAME_MAX];
    uint64_t species_params[QS_MAX_SPECIES]; /* N of each species */
    char *scenario;                          /* owned, NUL-terminated: the resolved scenario.ini */
    char run_id[QS_RUN_ID_LEN + 1];          /* "" in logs written before run ids */
    uint32_t scenario_crc32;                 /* of scenario; with run_id */
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
    /* [islands]: the island it was born on, and for a migrant (born from a parent on
     * another island) that island. Written only in runs with islands: a record without
     * them is island 0, no migrant. */
    uint32_t island;
    int migrant;
    uint32_t origin_island; /* 0 unless migrant */
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
    /* [life] measure_child: the child's own copy R^2 (T(T(theta)) vs T(theta)) and the
     * grandchild's drift R^2 (T(T(theta)) vs theta) after life; NaN when not measured */
    int has_child;
    double child_r2, drift2_r2;
} qs_rec_eval_t;

typedef enum {
    QS_DEATH_SELECTION = 1, /* not chosen to survive */
    QS_DEATH_CAPACITY = 2,  /* no room under max_params */
    QS_DEATH_BUDGET = 3,    /* could not pay for replication and was not kept */
    QS_DEATH_END = 4        /* alive when the run ended (closes its time span) */
} qs_death_cause_t;
const char *qs_death_cause_name(qs_death_cause_t c); /* "selection", ...; NULL if unknown */

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
/* Decode one frame payload: unknown record types (QS_ERR(FORMAT)) and other versions
 * (QS_ERR(VERSION)) are rejected naming what was received and what is supported; unknown
 * fields are ignored. On error r holds nothing to free. */
int qs_record_decode(qs_record_t *r, const uint8_t *payload, size_t len, qs_error_t *err);
void qs_record_destroy(qs_record_t *r);

/* Sequential reader over a lineage file (caller-owned storage; open/close). */
typedef struct {
    FILE *f;
    char path[QS_PATH_MAX];
    qs_frame_reader_t frames;
    uint8_t buf[65536];
    size_t buf_len, buf_off;
    uint64_t buf_pos;     /* file offset of buf[0] */
    uint64_t frame_start; /* file offset of the frame being read */
    uint64_t records;     /* complete records returned */
    uint64_t good_bytes;  /* file offset just after the last complete frame */
    uint64_t skipped;     /* bytes skipped over corrupt stretches and a torn tail */
    uint64_t corrupt;     /* corrupt stretches and undecodable records met */
    int eof;
    int done;   /* the end (clean or torn) was reported */
    int failed; /* a read error (sticky) */
} qs_lineage_reader_t;

int qs_lineage_open(qs_lineage_reader_t *rd, const char *path, qs_error_t *err);
/* Next record:
 *   1   *r filled (destroy it after use);
 *   0   clean end of the file (also after a torn tail was reported);
 *   QS_ERR(TRUNCATED)  a torn tail: err says at which offset and how many bytes were
 *       skipped; every record before it was valid. The next call returns 0.
 *   QS_ERR(CHECKSUM), QS_ERR(FORMAT), QS_ERR(TOOBIG), QS_ERR(VERSION), ...  a corrupt
 *       stretch in the middle of the file (err gives its offset and size) or a frame
 *       that is whole but does not hold a record this build can read. The reader has
 *       already moved past it: call again to continue with the next good record (or
 *       stop, if the caller wants a pristine file). rd->skipped and rd->corrupt count.
 *   QS_ERR(IO)  reading failed (sticky). */
int qs_lineage_next(qs_lineage_reader_t *rd, qs_record_t *r, qs_error_t *err);
void qs_lineage_close(qs_lineage_reader_t *rd);

#endif
