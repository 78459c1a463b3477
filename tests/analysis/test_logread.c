/* Tests for analysis/logread on logs written with proto's record encoder: a clean log
 * read whole; the log cut at every byte of its last frames (a torn tail: the complete
 * records before the cut, the rest reported); corruption in the middle (flipped payload
 * byte, broken magic, garbage between frames, a length field pointing past the end, a
 * valid frame whose payload is not a record), each skipped exactly and reported, with
 * every other record still read; and files with nothing readable. */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analysis/history.h"
#include "analysis/logread.h"
#include "proto/frame.h"
#include "synth.h"
#include "tests/testutil.h"

static char tmp[256];
static char path[512];

static void setup(void)
{
    tu_tmpdir(tmp, sizeof tmp);
    snprintf(path, sizeof path, "%s/lineage.msgpack", tmp);
}

static void teardown(void)
{
    tu_rmrf(tmp);
}

TestSuite(logread, .init = setup, .fini = teardown, .timeout = 60);

/* A log in memory, with the offset where each frame starts. */
typedef struct {
    qs_bytes_t bytes;
    size_t *start;
    size_t n, cap;
} log_t;

static void encode(const qs_record_t *r, void *ctx)
{
    log_t *l = ctx;
    if (l->n == l->cap) {
        l->cap = l->cap ? l->cap * 2 : 256;
        l->start = realloc(l->start, l->cap * sizeof *l->start);
    }
    l->start[l->n++] = l->bytes.len;
    qs_record_encode(r, &l->bytes);
}

static void make_log(log_t *l, synth_truth_t *t)
{
    memset(l, 0, sizeof *l);
    qs_bytes_init(&l->bytes);
    synth_params_t p = {0};
    p.nspecies = 2;
    p.founders[0] = 4;
    p.founders[1] = 3;
    p.handicap[1] = 0.1;
    p.generations = 6;
    p.population = 7;
    p.elitism = 1;
    p.seed = 21;
    synth_run(&p, encode, l, t);
}

static void free_log(log_t *l)
{
    qs_bytes_destroy(&l->bytes);
    free(l->start);
}

static size_t frame_len(const log_t *l, size_t k)
{
    return (k + 1 < l->n ? l->start[k + 1] : l->bytes.len) - l->start[k];
}

/* Read path whole; returns the records, fills *st, and checks types are plausible. */
static uint64_t read_all(qs_logread_stats_t *st, uint64_t *types)
{
    qs_logread_t rd;
    qs_error_t err = {0};
    cr_assert_eq(qs_logread_open(&rd, path, &err), 0, "%s", err.msg);
    qs_record_t r;
    int rc;
    while ((rc = qs_logread_next(&rd, &r, &err)) == 1) {
        if (types)
            types[r.type]++;
        qs_record_destroy(&r);
    }
    cr_assert_eq(rc, 0, "%s", err.msg);
    *st = rd.st;
    qs_logread_close(&rd);
    return st->records;
}

Test(logread, clean_log_read_whole)
{
    log_t l;
    synth_truth_t t;
    make_log(&l, &t);
    tu_write_file(path, l.bytes.data, l.bytes.len);
    qs_logread_stats_t st;
    uint64_t types[QS_REC_END + 1] = {0};
    cr_assert_eq(read_all(&st, types), t.records);
    cr_assert_eq(st.good_bytes, l.bytes.len);
    cr_assert_eq(st.skipped_bytes, 0);
    cr_assert_eq(st.nskips_total, 0);
    cr_assert_eq(types[QS_REC_HEADER], 1);
    cr_assert_eq(types[QS_REC_BIRTH], t.births);
    cr_assert_eq(types[QS_REC_EVAL], t.evals);
    cr_assert_eq(types[QS_REC_END], 1);
    free_log(&l);
}

Test(logread, cut_at_every_byte_of_the_last_frames)
{
    log_t l;
    synth_truth_t t;
    make_log(&l, &t);
    /* Every cut inside the last three frames. */
    size_t from = l.start[l.n - 3];
    for (size_t cut = from; cut <= l.bytes.len; cut++) {
        tu_write_file(path, l.bytes.data, cut);
        size_t complete = 0; /* frames wholly before the cut */
        while (complete < l.n && l.start[complete] + frame_len(&l, complete) <= cut)
            complete++;
        qs_logread_stats_t st;
        cr_assert_eq(read_all(&st, NULL), complete, "cut at %zu", cut);
        size_t good = complete ? l.start[complete - 1] + frame_len(&l, complete - 1) : 0;
        cr_assert_eq(st.good_bytes, good);
        cr_assert_eq(st.skipped_bytes, cut - good, "cut at %zu", cut);
        if (cut > good) {
            cr_assert_eq(st.nskips_total, 1);
            cr_assert_eq(st.skips[0].kind, QS_SKIP_TAIL);
            cr_assert_eq(st.skips[0].offset, good);
            cr_assert_eq(st.skips[0].length, cut - good);
            cr_assert(strstr(st.skips[0].why, "torn tail at offset"), "%s", st.skips[0].why);
        } else {
            cr_assert_eq(st.nskips_total, 0);
        }
    }
    free_log(&l);
}

typedef struct {
    char what[24];
    int frame; /* which frame is damaged (from the start; negative: from the end) */
} damage_case_t;

static damage_case_t damage_cases[] = {
    {"payload byte", 5},  {"payload byte", 40}, {"magic", 7},  {"magic", 1},
    {"length huge", 12},  {"length short", 30}, {"crc", 20},   {"garbage before", 25},
    {"not a record", 33}, {"payload byte", -2}, {"magic", -1},
};

ParameterizedTestParameters(logread, damage_in_the_middle)
{
    return cr_make_param_array(damage_case_t, damage_cases,
                               sizeof damage_cases / sizeof damage_cases[0]);
}

ParameterizedTest(damage_case_t *c, logread, damage_in_the_middle)
{
    log_t l;
    synth_truth_t t;
    make_log(&l, &t);
    size_t k = c->frame >= 0 ? (size_t)c->frame : l.n - (size_t)(-c->frame);
    size_t at = l.start[k], len = frame_len(&l, k);
    qs_bytes_t out;
    qs_bytes_init(&out);
    /* Expected: frame k is lost (skip region over it), every other record read. */
    uint64_t skip_off = at, skip_len = len;
    qs_skip_kind_t kind = k + 1 == l.n ? QS_SKIP_TAIL : QS_SKIP_CORRUPT;
    uint64_t records = l.n - 1;
    if (!strcmp(c->what, "garbage before")) {
        /* Garbage inserted before frame k: only the garbage is lost. */
        static const uint8_t junk[] = "qsm-not a frame \x01\x02\x03 qsm";
        qs_bytes_append(&out, l.bytes.data, at);
        qs_bytes_append(&out, junk, sizeof junk);
        qs_bytes_append(&out, l.bytes.data + at, l.bytes.len - at);
        skip_len = sizeof junk;
        records = l.n;
    } else if (!strcmp(c->what, "not a record")) {
        /* A valid frame whose payload is a MessagePack integer, not a record map. */
        static const uint8_t payload[] = {0x2a};
        qs_bytes_append(&out, l.bytes.data, at);
        qs_frame_append(&out, payload, sizeof payload);
        qs_bytes_append(&out, l.bytes.data + at, l.bytes.len - at);
        skip_len = QS_FRAME_HEADER + sizeof payload;
        kind = QS_SKIP_RECORD;
        records = l.n;
    } else {
        qs_bytes_append(&out, l.bytes.data, l.bytes.len);
        uint8_t *f = out.data + at;
        if (!strcmp(c->what, "payload byte"))
            f[QS_FRAME_HEADER + len / 2 - QS_FRAME_HEADER / 2] ^= 0x40;
        else if (!strcmp(c->what, "magic"))
            f[2] = 'X';
        else if (!strcmp(c->what, "length huge"))
            qs_store_le32(f + 4, 0x00FFFFFF);
        else if (!strcmp(c->what, "length short"))
            qs_store_le32(f + 4, (uint32_t)(len - QS_FRAME_HEADER - 3));
        else if (!strcmp(c->what, "crc"))
            f[9] ^= 0x01;
    }
    tu_write_file(path, out.data, out.len);
    qs_logread_stats_t st;
    cr_assert_eq(read_all(&st, NULL), records, "%s in frame %zu", c->what, k);
    cr_assert_eq(st.nskips_total, 1, "%s: %u regions", c->what, st.nskips_total);
    cr_assert_eq(st.skips[0].kind, kind, "%s: kind %s", c->what,
                 qs_skip_kind_name(st.skips[0].kind));
    cr_assert_eq(st.skips[0].offset, skip_off);
    cr_assert_eq(st.skips[0].length, skip_len, "%s: skipped %llu, expected %llu", c->what,
                 (unsigned long long)st.skips[0].length, (unsigned long long)skip_len);
    cr_assert_eq(st.skipped_bytes + st.good_bytes, out.len);
    cr_assert(st.skips[0].why[0]);
    qs_bytes_destroy(&out);
    free_log(&l);
}

Test(logread, damage_in_two_places_and_a_torn_tail)
{
    log_t l;
    synth_truth_t t;
    make_log(&l, &t);
    qs_bytes_t out;
    qs_bytes_init(&out);
    qs_bytes_append(&out, l.bytes.data, l.bytes.len - 5); /* torn last frame */
    out.data[l.start[10] + QS_FRAME_HEADER + 1] ^= 0xFF;
    out.data[l.start[11] + 1] = 'x'; /* and the next one: one region of two frames */
    out.data[l.start[50] + 3] = '0';
    tu_write_file(path, out.data, out.len);
    qs_logread_stats_t st;
    cr_assert_eq(read_all(&st, NULL), l.n - 4);
    cr_assert_eq(st.nskips_total, 3);
    cr_assert_eq(st.skips[0].kind, QS_SKIP_CORRUPT);
    cr_assert_eq(st.skips[0].offset, l.start[10]);
    cr_assert_eq(st.skips[0].length, l.start[12] - l.start[10]);
    cr_assert_eq(st.skips[1].offset, l.start[50]);
    cr_assert_eq(st.skips[2].kind, QS_SKIP_TAIL);
    cr_assert_eq(st.skips[2].offset, l.start[l.n - 1]);
    qs_bytes_destroy(&out);
    free_log(&l);
}

Test(logread, history_of_a_torn_log_is_incomplete_but_usable)
{
    log_t l;
    synth_truth_t t;
    make_log(&l, &t);
    /* Cut in the middle of the log: inside a frame about two thirds in. */
    size_t k = l.n * 2 / 3;
    tu_write_file(path, l.bytes.data, l.start[k] + 7);
    qs_history_t h;
    qs_logread_stats_t st;
    qs_error_t err = {0};
    cr_assert_eq(qs_history_load(&h, path, &st, &err), 0, "%s", err.msg);
    cr_assert_eq(st.records, k);
    cr_assert_eq(st.skipped_bytes, 7);
    cr_assert_not(h.has_end);
    cr_assert_eq(h.anomalies, 0, "%s", h.first_anomaly);
    cr_assert_gt(h.norgs, 0);
    qs_history_destroy(&h);
    free_log(&l);
}

Test(logread, nothing_readable)
{
    qs_history_t h;
    qs_error_t err = {0};
    tu_write_file(path, "", 0);
    cr_assert_eq(qs_history_load(&h, path, NULL, &err), QS_ERR(FORMAT));
    cr_assert(strstr(err.msg, "empty file"), "%s", err.msg);
    static const char junk[] = "this is not a lineage log at all, qsm1 neither";
    tu_write_file(path, junk, sizeof junk);
    cr_assert_eq(qs_history_load(&h, path, NULL, &err), QS_ERR(FORMAT));
    cr_assert(strstr(err.msg, "no lineage record could be read"), "%s", err.msg);
    char missing[600];
    snprintf(missing, sizeof missing, "%s/none", tmp);
    cr_assert_eq(qs_history_load(&h, missing, NULL, &err), QS_ERR(NOENT));
    cr_assert(strstr(err.msg, missing), "%s", err.msg);
}
