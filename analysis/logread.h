/* logread: a tolerant, streaming reader of lineage.msgpack for offline analysis.
 *
 * The simulator's own reader (proto/lineage.h) stops at the first bad frame: right for a
 * resume, too strict for a post-mortem. This reader goes on. It reads the file in large
 * chunks through proto's frame reader and record decoder, and when a frame fails (bad
 * magic, checksum mismatch, length beyond the end of the file) it scans forward for the
 * next offset where a complete, checksum-verified frame starts and resumes there. Each
 * stretch it could not use is reported as a skipped region: a torn tail (nothing valid
 * after it: a run stopped mid-write), a corrupt stretch in the middle (valid frames
 * follow it), or a frame whose checksum holds but whose record does not decode. Memory
 * is one read buffer and one frame, whatever the size of the file. */
#ifndef QS_LOGREAD_H
#define QS_LOGREAD_H

#include <stdint.h>
#include <stdio.h>

#include "core/util.h"
#include "proto/frame.h"
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
    char why[160]; /* the first error met there */
} qs_skip_t;

/* At most this many regions are kept in detail (all are counted). */
#define QS_LOGREAD_MAX_SKIPS 32

/* What a reader got out of a file. */
typedef struct {
    uint64_t size;          /* of the file (as far as it was read) */
    uint64_t records;       /* complete records returned */
    uint64_t good_bytes;    /* bytes of the frames returned */
    uint64_t skipped_bytes; /* bytes of every skipped region */
    uint32_t nskips, nskips_total;
    qs_skip_t skips[QS_LOGREAD_MAX_SKIPS];
} qs_logread_stats_t;

typedef struct {
    FILE *f;
    char path[QS_PATH_MAX];
    qs_frame_reader_t frames;
    uint8_t *buf; /* read buffer */
    size_t buf_len, buf_off;
    uint64_t buf_pos;     /* file offset of buf[0] */
    uint64_t frame_start; /* file offset where the frame being read began */
    int tentative;        /* the frame being read is a resync candidate, not yet verified */
    uint64_t bad_start;   /* start of the region being skipped (when tentative) */
    char bad_why[160];
    qs_logread_stats_t st;
} qs_logread_t;

/* Open path for reading. On error nothing needs closing. */
int qs_logread_open(qs_logread_t *rd, const char *path, qs_error_t *err);
/* 1 and *r filled (qs_record_destroy it after use), 0 at the end of the file (skipped
 * regions, if any, are in rd->st.skips), or a negative error for an I/O failure. */
int qs_logread_next(qs_logread_t *rd, qs_record_t *r, qs_error_t *err);
void qs_logread_close(qs_logread_t *rd);

#endif
