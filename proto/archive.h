/* archive: a run's genome archive, archive.msgpack ([run] archive, PROTOCOL.md).
 *
 * A sequence of frames (proto/frame.h), one record each: a map with "type" and "v"
 * (QS_ARCHIVE_VERSION). The first record is a header ("format": "quinesim.archive", the
 * run id of the lineage header, run name, seed, mode and archive_every); each later one
 * is an organism: the generation it was archived at, its id, parent, birth generation,
 * species, fitness, accuracy and replication R^2, and its genome as a bin holding exactly
 * the bytes of a .genome file (proto/genome.h, with its own checksums). So an entry
 * needs no decoding to be listed, and extracting one writes that bin as a file.
 *
 * The reader stops at the first frame that is not whole and checksum-correct: the
 * archive is written only at generation boundaries and cut back on resume, so anything
 * after a bad frame is a torn tail (or damage) and is reported with its offset. */
#ifndef QS_ARCHIVE_H
#define QS_ARCHIVE_H

#include <stdint.h>
#include <stdio.h>

#include "core/util.h"
#include "proto/frame.h"
#include "proto/genome.h"
#include "proto/lineage.h"

#define QS_ARCHIVE_VERSION 1
#define QS_ARCHIVE_FORMAT  "quinesim.archive" /* the header record's "format" field */
/* Largest record accepted: a genome document and a little metadata. */
#define QS_ARCHIVE_MAX_RECORD (QS_GENOME_MAX_BYTES + ((size_t)64 << 10))

/* Which organisms a run archives ([run] archive). */
typedef enum {
    QS_ARCHIVE_NONE = 0,  /* no archive file */
    QS_ARCHIVE_BEST,      /* the fittest organism of every archived generation */
    QS_ARCHIVE_SURVIVORS, /* every organism alive in an archived generation */
    QS_ARCHIVE_ALL        /* every organism, once: at the end of the generation it was born in */
} qs_archive_mode_t;
extern const qs_names_t qs_archive_mode_names; /* "none", "best", "survivors", "all" */
const char *qs_archive_mode_name(qs_archive_mode_t m);

typedef struct {
    char run_id[QS_RUN_ID_LEN + 1]; /* the lineage header's */
    char run_name[QS_NAME_MAX];
    uint64_t seed;
    qs_archive_mode_t mode;
    uint32_t every; /* archive_every */
} qs_archive_header_t;

/* One archived organism. */
typedef struct {
    uint32_t generation; /* archived at: its genome after its life in this generation */
    uint64_t id, parent; /* parent 0 for a founder */
    uint32_t born;       /* generation of birth (the genome's "generation") */
    char species[QS_NAME_MAX];
    double fitness, accuracy, r2;
    const uint8_t *genome; /* a .genome document: borrowed (encode) or into the reader */
    size_t genome_len;
} qs_archive_entry_t;

/* Append the header, or an entry, as one frame to out. */
void qs_archive_header_encode(const qs_archive_header_t *h, qs_bytes_t *out);
void qs_archive_entry_encode(const qs_archive_entry_t *e, qs_bytes_t *out);

/* Sequential reader (caller-owned storage; open/close). */
typedef struct {
    FILE *f;
    char path[QS_PATH_MAX];
    uint64_t size;    /* of the file when opened */
    uint64_t pos;     /* offset just after the last whole record read */
    uint64_t entries; /* entries returned */
    qs_bytes_t buf;   /* the current frame; entries point into it */
    qs_archive_header_t header;
} qs_archive_reader_t;

/* Open path and read its header: errors name the file (not a quinesim archive, another
 * version, a torn or corrupt header). On error nothing is held. */
int qs_archive_open(qs_archive_reader_t *rd, const char *path, qs_error_t *err);
/* Next entry: 1 (*e valid until the next call), 0 at a clean end, or a negative error
 * naming the file and the offset: QS_ERR(TRUNCATED) for a record cut short by the end of
 * the file, QS_ERR(CHECKSUM) / QS_ERR(FORMAT) / QS_ERR(TOOBIG) for a damaged one,
 * QS_ERR(IO). rd->pos stays at the end of the last whole record, and the entries before
 * it are valid. */
int qs_archive_next(qs_archive_reader_t *rd, qs_archive_entry_t *e, qs_error_t *err);
void qs_archive_close(qs_archive_reader_t *rd);

#endif
