/* frame: the growable byte buffer every encoder writes into, and the frame that
 * delimits each message and record on a byte stream (magic, length, CRC-32, payload).
 *
 * The streaming reader is a small state machine: it collects the 12-byte header one
 * byte at a time if need be (checking each magic byte as it arrives), checks the length
 * against its limit before allocating anything, then collects the payload in a buffer
 * that grows with the bytes actually received, and verifies the checksum. */
#include "proto/frame.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- Byte buffer ------------------------------------------------------------------- */

void qs_bytes_init(qs_bytes_t *b)
{
    b->data = NULL;
    b->len = b->cap = 0;
}

void qs_bytes_destroy(qs_bytes_t *b)
{
    free(b->data);
    qs_bytes_init(b);
}

/* Make room for exactly cap bytes in total (cap >= b->len). */
static void bytes_set_cap(qs_bytes_t *b, size_t cap)
{
    b->data = xrealloc(b->data, cap);
    b->cap = cap;
}

void qs_bytes_reserve(qs_bytes_t *b, size_t extra)
{
    if (extra > SIZE_MAX - b->len)
        qs_die("byte buffer: %zu + %zu bytes overflow", b->len, extra);
    size_t need = b->len + extra;
    if (need <= b->cap)
        return;
    size_t cap = b->cap < 64 ? 64 : b->cap;
    while (cap < need)
        cap = cap > SIZE_MAX / 2 ? need : cap * 2;
    bytes_set_cap(b, cap);
}

void qs_bytes_append(qs_bytes_t *b, const void *data, size_t len)
{
    if (len == 0)
        return;
    qs_bytes_reserve(b, len);
    memcpy(b->data + b->len, data, len);
    b->len += len;
}

void qs_bytes_clear(qs_bytes_t *b)
{
    b->len = 0;
}

/* ---- Writing frames ---------------------------------------------------------------- */

size_t qs_frame_begin(qs_bytes_t *out)
{
    static const uint8_t placeholder[QS_FRAME_HEADER] = {0};
    size_t start = out->len;
    qs_bytes_append(out, placeholder, sizeof placeholder);
    return start;
}

void qs_frame_finish(qs_bytes_t *out, size_t start)
{
    size_t len = out->len - start - QS_FRAME_HEADER;
    if (start + QS_FRAME_HEADER > out->len || len > UINT32_MAX)
        qs_die("frame: payload of %zu bytes cannot be framed", len);
    uint8_t *h = out->data + start;
    memcpy(h, QS_FRAME_MAGIC, 4);
    qs_store_le32(h + 4, (uint32_t)len);
    qs_store_le32(h + 8, qs_crc32(h + QS_FRAME_HEADER, len));
}

void qs_frame_append(qs_bytes_t *out, const uint8_t *payload, size_t len)
{
    size_t start = qs_frame_begin(out);
    qs_bytes_append(out, payload, len);
    qs_frame_finish(out, start);
}

/* ---- Reading frames ---------------------------------------------------------------- */

static size_t effective_limit(size_t max_payload)
{
    return max_payload > UINT32_MAX ? UINT32_MAX : max_payload;
}

static int bad_magic(const uint8_t *head, size_t got, qs_error_t *err)
{
    char seen[4 * 4 + 1] = "";
    for (size_t i = 0; i < got && i < 4; i++) {
        char *p = seen + strlen(seen);
        unsigned char c = head[i];
        if (c >= 0x20 && c < 0x7f && c != '\\')
            snprintf(p, 5, "%c", c);
        else
            snprintf(p, 5, "\\x%02x", c);
    }
    return qs_error_set(err, QS_ERR(FORMAT),
                        "frame: bad magic '%s' (expected '" QS_FRAME_MAGIC
                        "'): not a quinesim frame, or the stream lost its place",
                        seen);
}

static int too_big(uint32_t need, size_t limit, qs_error_t *err)
{
    return qs_error_set(err, QS_ERR(TOOBIG),
                        "frame: payload length %u bytes exceeds the limit of %zu", need, limit);
}

static int bad_crc(uint32_t want, uint32_t got, uint32_t len, qs_error_t *err)
{
    return qs_error_set(err, QS_ERR(CHECKSUM),
                        "frame: checksum mismatch on a %u-byte payload (header says %08x, payload "
                        "has %08x)",
                        len, want, got);
}

int qs_frame_parse(const uint8_t *data, size_t len, size_t max_payload, const uint8_t **payload,
                   size_t *plen, size_t *frame_len, qs_error_t *err)
{
    size_t m = QS_MIN(len, (size_t)4);
    if (memcmp(data, QS_FRAME_MAGIC, m) != 0)
        return bad_magic(data, m, err);
    *frame_len = QS_FRAME_HEADER;
    if (len < QS_FRAME_HEADER)
        return 0;
    uint32_t need = qs_load_le32(data + 4);
    size_t limit = effective_limit(max_payload);
    if (need > limit)
        return too_big(need, limit, err);
    *frame_len = QS_FRAME_HEADER + (size_t)need;
    if (len - QS_FRAME_HEADER < need)
        return 0;
    uint32_t want = qs_load_le32(data + 8), got = qs_crc32(data + QS_FRAME_HEADER, need);
    if (want != got)
        return bad_crc(want, got, need, err);
    *payload = data + QS_FRAME_HEADER;
    *plen = need;
    return 1;
}

void qs_frame_reader_init(qs_frame_reader_t *r, size_t max_payload)
{
    memset(r, 0, sizeof *r);
    r->max_payload = effective_limit(max_payload);
    qs_bytes_init(&r->payload);
}

void qs_frame_reader_destroy(qs_frame_reader_t *r)
{
    qs_bytes_destroy(&r->payload);
    memset(r, 0, sizeof *r);
}

void qs_frame_reader_reset(qs_frame_reader_t *r)
{
    r->head_got = 0;
    r->need = 0;
    r->crc = 0;
    r->ready = 0;
    r->failed = 0;
    qs_bytes_clear(&r->payload);
}

size_t qs_frame_reader_pending(const qs_frame_reader_t *r)
{
    if (r->ready)
        return 0;
    return r->head_got + r->payload.len;
}

/* Room for `take` more payload bytes, growing at most to twice what was received and
 * never beyond the frame's length. */
static void payload_grow(qs_frame_reader_t *r, size_t take)
{
    qs_bytes_t *b = &r->payload;
    size_t need = b->len + take;
    if (need <= b->cap)
        return;
    size_t cap = QS_MAX(need, QS_MAX(b->cap * 2, (size_t)4096));
    bytes_set_cap(b, QS_MIN(cap, (size_t)r->need));
}

int qs_frame_reader_feed(qs_frame_reader_t *r, const uint8_t *data, size_t len, size_t *consumed,
                         const uint8_t **payload, size_t *plen, qs_error_t *err)
{
    size_t i = 0;
    int rc = 0;
    if (r->failed) {
        rc = qs_error_set(err, r->failed, "frame: the stream already failed (%s)",
                          qs_strerror(r->failed));
        goto out;
    }
    if (r->ready) {
        r->ready = 0;
        r->head_got = 0;
        qs_bytes_clear(&r->payload);
    }
    while (r->head_got < QS_FRAME_HEADER) {
        if (i == len)
            goto out;
        r->head[r->head_got++] = data[i++];
        if (r->head_got <= 4 &&
            r->head[r->head_got - 1] != (uint8_t)QS_FRAME_MAGIC[r->head_got - 1]) {
            rc = bad_magic(r->head, r->head_got, err);
            goto out;
        }
        if (r->head_got == QS_FRAME_HEADER) {
            r->need = qs_load_le32(r->head + 4);
            r->crc = qs_load_le32(r->head + 8);
            if (r->need > r->max_payload) {
                rc = too_big(r->need, r->max_payload, err);
                goto out;
            }
        }
    }
    size_t take = QS_MIN(len - i, (size_t)r->need - r->payload.len);
    if (take > 0) {
        payload_grow(r, take);
        memcpy(r->payload.data + r->payload.len, data + i, take);
        r->payload.len += take;
        i += take;
    }
    if (r->payload.len < r->need)
        goto out;
    uint32_t got = qs_crc32(r->payload.data, r->payload.len);
    if (got != r->crc) {
        rc = bad_crc(r->crc, got, r->need, err);
        goto out;
    }
    r->ready = 1;
    *payload = r->payload.data ? r->payload.data : r->head; /* never NULL, even if empty */
    *plen = r->payload.len;
    rc = 1;
out:
    if (rc < 0)
        r->failed = rc;
    if (consumed)
        *consumed = i;
    return rc;
}
