/* logread: streaming lineage reader that skips what it cannot read and says so.
 *
 * The file is read through one buffer. The FILE position is always buf_pos + buf_len,
 * so moving inside the buffer is free and moving outside it is one fseeko. After a
 * failed frame the reader is "tentative": it scans for the next magic whose header
 * claims a length that fits in the file, and the region is closed when a frame there
 * passes its checksum (corrupt stretch) or when the file ends first (torn tail). */
#include "analysis/logread.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define READ_CHUNK ((size_t)1 << 20)

const char *qs_skip_kind_name(qs_skip_kind_t k)
{
    switch (k) {
    case QS_SKIP_TAIL:
        return "torn tail";
    case QS_SKIP_CORRUPT:
        return "corrupt";
    case QS_SKIP_RECORD:
        return "bad record";
    }
    return "?";
}

int qs_logread_open(qs_logread_t *rd, const char *path, qs_error_t *err)
{
    memset(rd, 0, sizeof *rd);
    snprintf(rd->path, sizeof rd->path, "%s", path);
    rd->f = fopen(path, "rb");
    if (!rd->f)
        return qs_error_set(err, errno == ENOENT ? QS_ERR(NOENT) : QS_ERR(IO), "%s: %s", path,
                            strerror(errno));
    struct stat st;
    if (fstat(fileno(rd->f), &st) == 0)
        rd->st.size = (uint64_t)st.st_size;
    rd->buf = xmalloc(READ_CHUNK);
    qs_frame_reader_init(&rd->frames, QS_MAX_MESSAGE_DEFAULT);
    return 0;
}

void qs_logread_close(qs_logread_t *rd)
{
    if (rd->f)
        fclose(rd->f);
    rd->f = NULL;
    free(rd->buf);
    rd->buf = NULL;
    qs_frame_reader_destroy(&rd->frames);
}

static uint64_t cur_pos(const qs_logread_t *rd)
{
    return rd->buf_pos + rd->buf_off;
}

/* Keep the unread bytes, read more after them. Returns the bytes read (0 at EOF), or a
 * negative error. */
static int fill_more(qs_logread_t *rd, size_t *got, qs_error_t *err)
{
    size_t keep = rd->buf_len - rd->buf_off;
    memmove(rd->buf, rd->buf + rd->buf_off, keep);
    rd->buf_pos += rd->buf_off;
    rd->buf_off = 0;
    rd->buf_len = keep;
    size_t n = fread(rd->buf + keep, 1, READ_CHUNK - keep, rd->f);
    if (n == 0 && ferror(rd->f))
        return qs_error_set(err, QS_ERR(IO), "%s: read error at offset %llu", rd->path,
                            (unsigned long long)(rd->buf_pos + keep));
    rd->buf_len += n;
    if (rd->buf_pos + rd->buf_len > rd->st.size) /* the file grew since it was opened */
        rd->st.size = rd->buf_pos + rd->buf_len;
    *got = n;
    return 0;
}

static int seek_to(qs_logread_t *rd, uint64_t pos, qs_error_t *err)
{
    if (pos >= rd->buf_pos && pos <= rd->buf_pos + rd->buf_len) {
        rd->buf_off = (size_t)(pos - rd->buf_pos);
        return 0;
    }
    if (fseeko(rd->f, (off_t)pos, SEEK_SET) != 0)
        return qs_error_set(err, QS_ERR(IO), "%s: cannot seek to %llu: %s", rd->path,
                            (unsigned long long)pos, strerror(errno));
    rd->buf_pos = pos;
    rd->buf_len = rd->buf_off = 0;
    return 0;
}

static void reset_frames(qs_logread_t *rd)
{
    qs_frame_reader_destroy(&rd->frames);
    qs_frame_reader_init(&rd->frames, QS_MAX_MESSAGE_DEFAULT);
}

/* Copy a message, cut to fit. */
static void copy_text(char *dst, size_t cap, const char *src)
{
    size_t n = strnlen(src, cap - 1);
    memcpy(dst, src, n);
    dst[n] = '\0';
}

static void add_skip(qs_logread_t *rd, uint64_t from, uint64_t to, qs_skip_kind_t kind,
                     const char *why)
{
    if (to <= from)
        return;
    rd->st.skipped_bytes += to - from;
    rd->st.nskips_total++;
    if (rd->st.nskips < QS_LOGREAD_MAX_SKIPS) {
        qs_skip_t *s = &rd->st.skips[rd->st.nskips++];
        s->offset = from;
        s->length = to - from;
        s->kind = kind;
        copy_text(s->why, sizeof s->why, why);
    }
}

/* The first frame magic in p[0..n), or NULL. */
static const uint8_t *find_magic(const uint8_t *p, size_t n)
{
    const uint8_t *end = p + n;
    while (n >= 4) {
        const uint8_t *q = memchr(p, QS_FRAME_MAGIC[0], n - 3);
        if (!q)
            return NULL;
        if (memcmp(q, QS_FRAME_MAGIC, 4) == 0)
            return q;
        p = q + 1;
        n = (size_t)(end - p);
    }
    return NULL;
}

/* Start (or continue) skipping: look for the next plausible frame at or after from.
 * Returns 1 with the reader positioned on a candidate (frame_start set), 0 when the file
 * ends first (the region is then recorded as a torn tail), or a negative error. */
static int resync(qs_logread_t *rd, uint64_t from, qs_error_t *err)
{
    int rc = seek_to(rd, from, err);
    if (rc < 0)
        return rc;
    reset_frames(rd);
    for (;;) {
        const uint8_t *base = rd->buf + rd->buf_off;
        size_t avail = rd->buf_len - rd->buf_off;
        const uint8_t *hit = find_magic(base, avail);
        if (hit && (size_t)(hit - base) + QS_FRAME_HEADER <= avail) {
            uint64_t p = rd->buf_pos + rd->buf_off + (size_t)(hit - base);
            uint64_t len = qs_load_le32(hit + 4);
            /* A frame whose claimed length runs past the end cannot be the next one. */
            if (p + QS_FRAME_HEADER + len <= rd->st.size) {
                rd->buf_off += (size_t)(hit - base);
                rd->frame_start = p;
                return 1;
            }
            rd->buf_off += (size_t)(hit - base) + 1;
            continue;
        }
        /* Keep the last few bytes: a magic or header may straddle the chunk boundary. */
        size_t keep = hit ? avail - (size_t)(hit - base) : (avail < 3 ? avail : 3);
        rd->buf_off = rd->buf_len - keep;
        size_t got;
        if ((rc = fill_more(rd, &got, err)) < 0)
            return rc;
        if (got == 0) {
            add_skip(rd, rd->bad_start, rd->buf_pos + rd->buf_len, QS_SKIP_TAIL, rd->bad_why);
            rd->buf_off = rd->buf_len;
            rd->tentative = 0;
            return 0;
        }
    }
}

/* A frame failed (error, or the file ended inside it): begin or continue skipping. */
static int frame_failed(qs_logread_t *rd, const char *why, qs_error_t *err)
{
    if (!rd->tentative) {
        rd->tentative = 1;
        rd->bad_start = rd->frame_start;
        copy_text(rd->bad_why, sizeof rd->bad_why, why);
    }
    return resync(rd, rd->frame_start + 1, err);
}

int qs_logread_next(qs_logread_t *rd, qs_record_t *r, qs_error_t *err)
{
    int rc;
    for (;;) {
        if (rd->buf_off == rd->buf_len) {
            size_t got;
            if ((rc = fill_more(rd, &got, err)) < 0)
                return rc;
            if (got == 0) {
                size_t pending = qs_frame_reader_pending(&rd->frames);
                if (!rd->tentative && pending == 0)
                    return 0; /* a clean end */
                char why[160];
                snprintf(why, sizeof why, "the file ends inside a frame (%zu bytes of it present)",
                         pending);
                if ((rc = frame_failed(rd, why, err)) <= 0)
                    return rc;
                continue;
            }
        }
        size_t consumed = 0, plen = 0;
        const uint8_t *payload = NULL;
        qs_error_t ferr = {0};
        rc = qs_frame_reader_feed(&rd->frames, rd->buf + rd->buf_off, rd->buf_len - rd->buf_off,
                                  &consumed, &payload, &plen, &ferr);
        if (rc < 0) {
            if ((rc = frame_failed(rd, ferr.msg, err)) < 0)
                return rc;
            if (rc == 0)
                return 0;
            continue;
        }
        rd->buf_off += consumed;
        if (rc == 0)
            continue;
        uint64_t end = cur_pos(rd);
        if (rd->tentative) {
            add_skip(rd, rd->bad_start, rd->frame_start, QS_SKIP_CORRUPT, rd->bad_why);
            rd->tentative = 0;
        }
        qs_error_t derr = {0};
        memset(r, 0, sizeof *r);
        if (qs_record_decode(r, payload, plen, &derr) < 0) {
            add_skip(rd, rd->frame_start, end, QS_SKIP_RECORD, derr.msg);
            rd->frame_start = end;
            continue;
        }
        rd->st.records++;
        rd->st.good_bytes += end - rd->frame_start;
        rd->frame_start = end;
        return 1;
    }
}
