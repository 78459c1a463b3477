/* Tests for proto/frame: the byte buffer, frame writing, the one-shot parser and the
 * streaming reader (whole, one byte at a time, random chunks), bad magic reported at
 * once, oversize lengths refused before allocating, growth bounded by what arrived,
 * checksum errors, stickiness and reset. */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <stdlib.h>
#include <string.h>

#include "core/rng.h"
#include "proto/frame.h"

Test(frame, bytes_append_reserve_clear)
{
    qs_bytes_t b;
    qs_bytes_init(&b);
    cr_assert_eq(b.len, 0);
    for (int i = 0; i < 1000; i++) {
        uint8_t c = (uint8_t)i;
        qs_bytes_append(&b, &c, 1);
    }
    cr_assert_eq(b.len, 1000);
    cr_assert_geq(b.cap, 1000);
    for (int i = 0; i < 1000; i++)
        cr_assert_eq(b.data[i], (uint8_t)i);
    size_t cap = b.cap;
    qs_bytes_clear(&b);
    cr_assert_eq(b.len, 0);
    cr_assert_eq(b.cap, cap);
    qs_bytes_append(&b, "", 0);
    cr_assert_eq(b.len, 0);
    qs_bytes_reserve(&b, 100000);
    cr_assert_geq(b.cap, 100000);
    qs_bytes_destroy(&b);
    cr_assert_null(b.data);
}

/* n frames with payloads of varied sizes (including empty), concatenated. */
static void make_stream(qs_bytes_t *s, uint8_t **payloads, size_t *lens, int n, uint64_t seed)
{
    qs_rng_t r;
    qs_rng_init(&r, seed, qs_rng_stream(QS_STREAM_TEST, 2));
    qs_bytes_init(s);
    for (int i = 0; i < n; i++) {
        size_t len = i == 0 ? 0 : qs_rng_below(&r, i % 3 == 0 ? 20000 : 40);
        payloads[i] = malloc(len + 1);
        for (size_t k = 0; k < len; k++)
            payloads[i][k] = (uint8_t)qs_rng_u32(&r);
        lens[i] = len;
        qs_frame_append(s, payloads[i], len);
    }
}

static void free_payloads(uint8_t **p, int n)
{
    for (int i = 0; i < n; i++)
        free(p[i]);
}

Test(frame, layout_is_magic_length_crc_payload)
{
    qs_bytes_t b;
    qs_bytes_init(&b);
    qs_frame_append(&b, (const uint8_t *)"hello", 5);
    cr_assert_eq(b.len, QS_FRAME_HEADER + 5);
    cr_assert_eq(memcmp(b.data, "qsm1", 4), 0);
    cr_assert_eq(qs_load_le32(b.data + 4), 5);
    cr_assert_eq(qs_load_le32(b.data + 8), qs_crc32("hello", 5));
    cr_assert_eq(memcmp(b.data + 12, "hello", 5), 0);
    /* begin/finish builds the same bytes in place */
    qs_bytes_t c;
    qs_bytes_init(&c);
    size_t start = qs_frame_begin(&c);
    qs_bytes_append(&c, "hello", 5);
    qs_frame_finish(&c, start);
    cr_assert_eq(c.len, b.len);
    cr_assert_eq(memcmp(c.data, b.data, b.len), 0);
    qs_bytes_destroy(&b);
    qs_bytes_destroy(&c);
}

/* Feed the stream with chunk sizes drawn from [1, maxchunk] (1 = byte at a time) and
 * check every payload comes out, in order, exactly when its last byte arrives. */
static void feed_in_chunks(uint64_t seed, size_t maxchunk)
{
    enum { N = 12 };
    uint8_t *payloads[N];
    size_t lens[N];
    qs_bytes_t s;
    make_stream(&s, payloads, lens, N, seed);
    qs_rng_t r;
    qs_rng_init(&r, seed, qs_rng_stream(QS_STREAM_TEST, 3));
    qs_frame_reader_t rd;
    qs_frame_reader_init(&rd, QS_MAX_MESSAGE_DEFAULT);
    int got = 0;
    size_t pos = 0, frame_end = QS_FRAME_HEADER + lens[0];
    while (pos < s.len) {
        size_t chunk = 1 + qs_rng_below(&r, (uint32_t)maxchunk);
        chunk = chunk > s.len - pos ? s.len - pos : chunk;
        const uint8_t *data = s.data + pos;
        size_t left = chunk;
        while (left > 0) {
            size_t used = 0, plen = 0;
            const uint8_t *p = NULL;
            qs_error_t err;
            int rc = qs_frame_reader_feed(&rd, data, left, &used, &p, &plen, &err);
            cr_assert_geq(rc, 0, "%s", err.msg);
            cr_assert_leq(used, left);
            pos += used;
            data += used;
            left -= used;
            if (rc == 1) {
                cr_assert_eq(pos, frame_end, "frame %d ready at %zu, ends at %zu", got, pos,
                             frame_end);
                cr_assert_eq(plen, lens[got]);
                cr_assert_not_null(p);
                cr_assert(plen == 0 || memcmp(p, payloads[got], plen) == 0);
                cr_assert_eq(qs_frame_reader_pending(&rd), 0);
                got++;
                if (got < N)
                    frame_end += QS_FRAME_HEADER + lens[got];
            } else {
                cr_assert_eq(left, 0);
                cr_assert_lt(pos, frame_end);
                cr_assert_eq(qs_frame_reader_pending(&rd),
                             pos - (frame_end - QS_FRAME_HEADER - lens[got]));
            }
        }
    }
    cr_assert_eq(got, N);
    qs_frame_reader_destroy(&rd);
    qs_bytes_destroy(&s);
    free_payloads(payloads, N);
}

Test(frame, stream_one_byte_at_a_time)
{
    feed_in_chunks(1, 1);
}

Test(frame, stream_whole_buffer)
{
    feed_in_chunks(2, SIZE_MAX >> 40);
}

ParameterizedTestParameters(frame, stream_random_chunks)
{
    static uint64_t seeds[] = {3, 4, 5, 6, 7, 8, 9, 10};
    return cr_make_param_array(uint64_t, seeds, sizeof seeds / sizeof seeds[0]);
}

ParameterizedTest(uint64_t *seed, frame, stream_random_chunks)
{
    feed_in_chunks(*seed, 1 + (*seed * 977) % 30000);
}

Test(frame, bad_magic_reported_at_the_first_wrong_byte)
{
    qs_frame_reader_t rd;
    qs_frame_reader_init(&rd, 1024);
    size_t used = 99, plen;
    const uint8_t *p;
    qs_error_t err;
    int rc =
        qs_frame_reader_feed(&rd, (const uint8_t *)"qsX1\x05\0\0\0", 8, &used, &p, &plen, &err);
    cr_assert_eq(rc, QS_ERR(FORMAT));
    cr_assert_eq(used, 3, "stopped after the first wrong byte, used %zu", used);
    cr_assert(strstr(err.msg, "bad magic"), "%s", err.msg);
    cr_assert(strstr(err.msg, "qsX"), "%s", err.msg);
    /* sticky until reset */
    rc = qs_frame_reader_feed(&rd, (const uint8_t *)"qsm1", 4, &used, &p, &plen, &err);
    cr_assert_eq(rc, QS_ERR(FORMAT));
    qs_frame_reader_reset(&rd);
    qs_bytes_t b;
    qs_bytes_init(&b);
    qs_frame_append(&b, (const uint8_t *)"ok", 2);
    rc = qs_frame_reader_feed(&rd, b.data, b.len, &used, &p, &plen, &err);
    cr_assert_eq(rc, 1);
    cr_assert_eq(plen, 2);
    qs_bytes_destroy(&b);
    qs_frame_reader_destroy(&rd);
}

Test(frame, first_byte_wrong)
{
    qs_frame_reader_t rd;
    qs_frame_reader_init(&rd, 1024);
    size_t used, plen;
    const uint8_t *p;
    qs_error_t err;
    cr_assert_eq(qs_frame_reader_feed(&rd, (const uint8_t *)"{", 1, &used, &p, &plen, &err),
                 QS_ERR(FORMAT));
    cr_assert_eq(used, 1);
    qs_frame_reader_destroy(&rd);
}

Test(frame, oversize_length_refused_before_allocating)
{
    uint8_t h[QS_FRAME_HEADER] = {'q', 's', 'm', '1'};
    qs_store_le32(h + 4, 0xffffffffu);
    qs_frame_reader_t rd;
    qs_frame_reader_init(&rd, 1 << 20);
    size_t used, plen;
    const uint8_t *p;
    qs_error_t err;
    /* one byte at a time: the error comes with the 12th byte, nothing allocated */
    int rc = 0;
    for (int i = 0; i < QS_FRAME_HEADER && rc == 0; i++)
        rc = qs_frame_reader_feed(&rd, h + i, 1, &used, &p, &plen, &err);
    cr_assert_eq(rc, QS_ERR(TOOBIG));
    cr_assert_eq(rd.payload.cap, 0);
    cr_assert(strstr(err.msg, "4294967295") && strstr(err.msg, "1048576"), "%s", err.msg);
    qs_frame_reader_destroy(&rd);

    size_t flen;
    cr_assert_eq(qs_frame_parse(h, sizeof h, 1 << 20, &p, &plen, &flen, &err), QS_ERR(TOOBIG));
}

Test(frame, payload_buffer_grows_with_bytes_received)
{
    uint8_t h[QS_FRAME_HEADER] = {'q', 's', 'm', '1'};
    qs_store_le32(h + 4, 200u << 20); /* claims 200 MiB, under the 256 MiB default */
    qs_frame_reader_t rd;
    qs_frame_reader_init(&rd, QS_MAX_MESSAGE_DEFAULT);
    size_t used, plen;
    const uint8_t *p;
    qs_error_t err;
    cr_assert_eq(qs_frame_reader_feed(&rd, h, sizeof h, &used, &p, &plen, &err), 0);
    uint8_t chunk[1000] = {0};
    size_t sent = 0;
    for (int i = 0; i < 100; i++) {
        cr_assert_eq(qs_frame_reader_feed(&rd, chunk, sizeof chunk, &used, &p, &plen, &err), 0);
        sent += sizeof chunk;
        cr_assert_leq(rd.payload.cap, 2 * sent + 4096, "cap %zu after %zu bytes", rd.payload.cap,
                      sent);
    }
    cr_assert_eq(qs_frame_reader_pending(&rd), QS_FRAME_HEADER + sent);
    qs_frame_reader_destroy(&rd);
}

Test(frame, checksum_mismatch_detected)
{
    qs_bytes_t b;
    qs_bytes_init(&b);
    qs_frame_append(&b, (const uint8_t *)"payload", 7);
    b.data[QS_FRAME_HEADER + 3] ^= 0x20;
    qs_frame_reader_t rd;
    qs_frame_reader_init(&rd, 1024);
    size_t used, plen;
    const uint8_t *p;
    qs_error_t err;
    cr_assert_eq(qs_frame_reader_feed(&rd, b.data, b.len, &used, &p, &plen, &err),
                 QS_ERR(CHECKSUM));
    cr_assert(strstr(err.msg, "checksum mismatch"), "%s", err.msg);
    size_t flen;
    cr_assert_eq(qs_frame_parse(b.data, b.len, 1024, &p, &plen, &flen, &err), QS_ERR(CHECKSUM));
    qs_frame_reader_destroy(&rd);
    qs_bytes_destroy(&b);
}

Test(frame, parse_prefixes_are_incomplete_not_errors)
{
    qs_bytes_t b;
    qs_bytes_init(&b);
    qs_frame_append(&b, (const uint8_t *)"0123456789", 10);
    const uint8_t *p;
    size_t plen, flen;
    qs_error_t err;
    for (size_t n = 1; n < b.len; n++) {
        cr_assert_eq(qs_frame_parse(b.data, n, 1024, &p, &plen, &flen, &err), 0, "prefix %zu", n);
        cr_assert_eq(flen, n < QS_FRAME_HEADER ? QS_FRAME_HEADER : b.len);
    }
    cr_assert_eq(qs_frame_parse(b.data, b.len, 1024, &p, &plen, &flen, &err), 1);
    cr_assert_eq(plen, 10);
    cr_assert_eq(flen, b.len);
    cr_assert_eq(p, b.data + QS_FRAME_HEADER);
    qs_bytes_destroy(&b);
}

Test(frame, limit_is_configurable)
{
    qs_bytes_t b;
    qs_bytes_init(&b);
    uint8_t payload[100] = {1};
    qs_frame_append(&b, payload, sizeof payload);
    qs_frame_reader_t rd;
    size_t used, plen;
    const uint8_t *p;
    qs_error_t err;
    qs_frame_reader_init(&rd, 99);
    cr_assert_eq(qs_frame_reader_feed(&rd, b.data, b.len, &used, &p, &plen, &err), QS_ERR(TOOBIG));
    qs_frame_reader_destroy(&rd);
    qs_frame_reader_init(&rd, 100);
    cr_assert_eq(qs_frame_reader_feed(&rd, b.data, b.len, &used, &p, &plen, &err), 1);
    qs_frame_reader_destroy(&rd);
    qs_bytes_destroy(&b);
}
