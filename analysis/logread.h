/* logread: read a whole lineage log for offline analysis, going past damage, and keep
 * an account of what had to be skipped.
 *
 * proto's reader (proto/lineage.h) does the reading: it reports a torn tail, and after a
 * corrupt stretch in the middle it resynchronises on the next whole, checksum-correct
 * frame and lets the caller carry on. A resume must stop at the first such error; an
 * analysis wants everything that can still be read. This wrapper carries on and turns
 * each reported problem into a skipped region with its byte range, its kind and proto's
 * message: a torn tail (nothing valid after it: a run stopped mid-write), a corrupt
 * stretch (valid records follow it), or a frame whose checksum holds but whose record
 * does not decode. Memory: the reader's buffer and one frame. */
#ifndef QS_LOGREAD_H
#define QS_LOGREAD_H

#include <stdint.h>
#include <stdio.h>

#include "core/util.h"
#include "proto/lineage.h"

typedef enum {
    QS_SKIP_TAIL = 1,    /* torn or partial last frame(s): nothing valid follows */
    QS_SKIP_CORRUPT = 2, /* bytes in the middle that are not a valid frame */
    QS_SKIP_RECORD = 3   /* a valid frame whose payload is not a valid record */
} qs_skip_kind_t;
const char *qs_skip_kind_name(qs_skip_kind_t k); /* "torn tail", "corrupt", "bad record" */

typedef struct {
    uint64_t offset, length; /* bytes [offset, offset + length) of the file */
    qs_skip_kind_t kind;
    char why[256]; /* proto's description */
} qs_skip_t;

/* At most this many regions are kept in detail (all are counted). */
#define QS_LOGREAD_MAX_SKIPS 32

/* What a reader got out of a file. */
typedef struct {
    uint64_t size;          /* of the file when opened */
    uint64_t records;       /* complete records returned */
    uint64_t good_bytes;    /* bytes of the frames returned */
    uint64_t skipped_bytes; /* bytes of every skipped region */
    uint32_t nskips, nskips_total;
    qs_skip_t skips[QS_LOGREAD_MAX_SKIPS];
} qs_logread_stats_t;

typedef struct {
    qs_lineage_reader_t rd;
    qs_logread_stats_t st;
} qs_logread_t;

/* Open path for reading. On error nothing needs closing. */
int qs_logread_open(qs_logread_t *lr, const char *path, qs_error_t *err);
/* 1 and *r filled (qs_record_destroy it after use), 0 at the end of the file (skipped
 * regions, if any, are in lr->st.skips), or a negative error for an I/O failure. */
int qs_logread_next(qs_logread_t *lr, qs_record_t *r, qs_error_t *err);
void qs_logread_close(qs_logread_t *lr);

#endif
