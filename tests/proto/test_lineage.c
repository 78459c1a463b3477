/* Tests for proto/lineage: every record type round-trips; every prefix of a record is
 * rejected; the file reader returns every record then a clean end; a torn tail (cut at
 * every offset of the last record, zero-filled, or failing its checksum) is reported
 * with the records before it intact; corruption in the middle (flipped byte, inserted
 * garbage, broken length, undecodable record) is reported and reading resumes at the
 * next good record, with the skipped bytes counted. */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "proto/lineage.h"
#include "tests/proto/proto_test.h"
#include "tests/testutil.h"

#define NRECTYPES 6

static void rand_record(qs_record_t *r, qs_rec_type_t t, uint64_t seed)
{
    qs_rng_t g;
    qs_rng_init(&g, seed, qs_rng_stream(QS_STREAM_TEST, 60 + (uint64_t)t));
    memset(r, 0, sizeof *r);
    r->type = t;
    switch (t) {
    case QS_REC_HEADER: {
        qs_rec_header_t *h = &r->u.header;
        h->version = QS_LINEAGE_VERSION;
        snprintf(h->run_name, sizeof h->run_name, "run-%u", qs_rng_u32(&g));
        h->seed = qs_rng_u64(&g);
        h->created = 1.7e9 + qs_rng_uniform(&g);
        h->nspecies = 1 + qs_rng_below(&g, QS_MAX_SPECIES);
        for (uint32_t i = 0; i < h->nspecies; i++) {
            snprintf(h->species[i], sizeof h->species[i], "sp%u", i);
            h->species_params[i] = 20100 + i;
        }
        h->scenario = malloc(64);
        snprintf(h->scenario, 64, "[run]\nseed = %u\n# \xc3\xa9\n", qs_rng_u32(&g));
        if (seed & 1) { /* logs written before run ids have none */
            for (int i = 0; i < QS_RUN_ID_LEN; i++)
                h->run_id[i] = "0123456789abcdef"[qs_rng_below(&g, 16)];
            h->scenario_crc32 = qs_crc32(h->scenario, strlen(h->scenario));
        }
        break;
    }
    case QS_REC_BIRTH: {
        qs_rec_birth_t *b = &r->u.birth;
        b->id = qs_rng_u64(&g);
        b->parent = qs_rng_u64(&g);
        b->generation = qs_rng_u32(&g);
        b->species = qs_rng_below(&g, QS_MAX_SPECIES);
        b->mode = (qs_replicate_mode_t)qs_rng_below(&g, 2);
        b->has_link = (int)qs_rng_below(&g, 2);
        b->link_l_sr = b->has_link ? qs_rng_uniform(&g) : NAN;
        b->link_rel_err = b->has_link ? qs_rng_uniform(&g) : NAN;
        b->link_r2 = b->has_link ? -INFINITY : NAN;
        b->mutation_sigma = qs_rng_uniform(&g);
        b->mutation_rate = qs_rng_uniform(&g);
        b->mutated = qs_rng_u32(&g);
        b->island = qs_rng_below(&g, 3); /* [islands]: 0 is written as no field at all */
        b->migrant = (int)qs_rng_below(&g, 2);
        b->origin_island = b->migrant ? qs_rng_below(&g, 5) : 0;
        break;
    }
    case QS_REC_EVAL: {
        qs_rec_eval_t *e = &r->u.eval;
        e->id = qs_rng_u64(&g);
        e->generation = qs_rng_u32(&g);
        e->accuracy = qs_rng_below(&g, 2) ? NAN : qs_rng_uniform(&g);
        e->l_sr = qs_rng_uniform(&g) * 100;
        e->rel_err = INFINITY;
        e->r2 = qs_rng_normal(&g);
        e->zero_quine = (int)qs_rng_below(&g, 2);
        e->steps = qs_rng_u64(&g);
        e->flops = qs_rng_u64(&g);
        e->train_loss = NAN;
        e->has_child = (int)qs_rng_below(&g, 2); /* [life] measure_child */
        e->child_r2 = e->has_child ? qs_rng_normal(&g) : NAN;
        e->drift2_r2 = e->has_child ? -INFINITY : NAN;
        break;
    }
    case QS_REC_DEATH:
        r->u.death.id = qs_rng_u64(&g);
        r->u.death.generation = qs_rng_u32(&g);
        r->u.death.cause = (qs_death_cause_t)(1 + qs_rng_below(&g, 4));
        break;
    case QS_REC_GENERATION: {
        qs_rec_generation_t *x = &r->u.generation;
        x->generation = qs_rng_u32(&g);
        x->population = qs_rng_u32(&g);
        x->nspecies = qs_rng_below(&g, QS_MAX_SPECIES + 1);
        for (uint32_t i = 0; i < x->nspecies; i++)
            x->species_count[i] = qs_rng_u32(&g);
        x->births = qs_rng_u32(&g);
        x->deaths = qs_rng_u32(&g);
        x->best_accuracy = qs_rng_uniform(&g);
        x->mean_accuracy = NAN;
        x->best_id = qs_rng_u64(&g);
        x->mean_rel_err = qs_rng_uniform(&g);
        x->mean_r2 = qs_rng_normal(&g);
        x->mean_link_r2 = NAN;
        x->flops = qs_rng_u64(&g);
        x->params_alive = qs_rng_u64(&g);
        x->wall_seconds = qs_rng_uniform(&g) * 100;
        x->workers = qs_rng_below(&g, 64);
        break;
    }
    case QS_REC_END:
        r->u.end.generations = qs_rng_u32(&g);
        snprintf(r->u.end.reason, sizeof r->u.end.reason, "completed");
        break;
    }
}

static void assert_record_eq(const qs_record_t *a, const qs_record_t *b)
{
    cr_assert_eq(a->type, b->type);
    switch (a->type) {
    case QS_REC_HEADER: {
        const qs_rec_header_t *x = &a->u.header, *y = &b->u.header;
        cr_assert_eq(x->version, y->version);
        cr_assert_str_eq(x->run_name, y->run_name);
        cr_assert_eq(x->seed, y->seed);
        cr_assert(pt_double_same(x->created, y->created));
        cr_assert_eq(x->nspecies, y->nspecies);
        for (uint32_t i = 0; i < x->nspecies; i++) {
            cr_assert_str_eq(x->species[i], y->species[i]);
            cr_assert_eq(x->species_params[i], y->species_params[i]);
        }
        cr_assert_str_eq(x->scenario, y->scenario);
        cr_assert_str_eq(x->run_id, y->run_id);
        cr_assert_eq(x->scenario_crc32, y->scenario_crc32);
        break;
    }
    case QS_REC_BIRTH: {
        const qs_rec_birth_t *x = &a->u.birth, *y = &b->u.birth;
        cr_assert_eq(x->id, y->id);
        cr_assert_eq(x->parent, y->parent);
        cr_assert_eq(x->generation, y->generation);
        cr_assert_eq(x->species, y->species);
        cr_assert_eq(x->mode, y->mode);
        cr_assert_eq(x->has_link, y->has_link);
        if (x->has_link) {
            cr_assert(pt_double_same(x->link_l_sr, y->link_l_sr));
            cr_assert(pt_double_same(x->link_rel_err, y->link_rel_err));
            cr_assert(pt_double_same(x->link_r2, y->link_r2));
        }
        cr_assert(pt_double_same(x->mutation_sigma, y->mutation_sigma));
        cr_assert(pt_double_same(x->mutation_rate, y->mutation_rate));
        cr_assert_eq(x->mutated, y->mutated);
        cr_assert_eq(x->island, y->island);
        cr_assert_eq(x->migrant, y->migrant);
        cr_assert_eq(x->origin_island, y->origin_island);
        break;
    }
    case QS_REC_EVAL: {
        const qs_rec_eval_t *x = &a->u.eval, *y = &b->u.eval;
        cr_assert_eq(x->id, y->id);
        cr_assert_eq(x->generation, y->generation);
        cr_assert(pt_double_same(x->accuracy, y->accuracy));
        cr_assert(pt_double_same(x->l_sr, y->l_sr));
        cr_assert(pt_double_same(x->rel_err, y->rel_err));
        cr_assert(pt_double_same(x->r2, y->r2));
        cr_assert_eq(x->zero_quine, y->zero_quine);
        cr_assert_eq(x->steps, y->steps);
        cr_assert_eq(x->flops, y->flops);
        cr_assert(pt_double_same(x->train_loss, y->train_loss));
        cr_assert_eq(x->has_child, y->has_child);
        cr_assert(pt_double_same(x->child_r2, y->child_r2));
        cr_assert(pt_double_same(x->drift2_r2, y->drift2_r2));
        break;
    }
    case QS_REC_DEATH:
        cr_assert_eq(a->u.death.id, b->u.death.id);
        cr_assert_eq(a->u.death.generation, b->u.death.generation);
        cr_assert_eq(a->u.death.cause, b->u.death.cause);
        break;
    case QS_REC_GENERATION: {
        const qs_rec_generation_t *x = &a->u.generation, *y = &b->u.generation;
        cr_assert_eq(x->generation, y->generation);
        cr_assert_eq(x->population, y->population);
        cr_assert_eq(x->nspecies, y->nspecies);
        for (uint32_t i = 0; i < x->nspecies; i++)
            cr_assert_eq(x->species_count[i], y->species_count[i]);
        cr_assert_eq(x->births, y->births);
        cr_assert_eq(x->deaths, y->deaths);
        cr_assert(pt_double_same(x->best_accuracy, y->best_accuracy));
        cr_assert(pt_double_same(x->mean_accuracy, y->mean_accuracy));
        cr_assert_eq(x->best_id, y->best_id);
        cr_assert(pt_double_same(x->mean_rel_err, y->mean_rel_err));
        cr_assert(pt_double_same(x->mean_r2, y->mean_r2));
        cr_assert(pt_double_same(x->mean_link_r2, y->mean_link_r2));
        cr_assert_eq(x->flops, y->flops);
        cr_assert_eq(x->params_alive, y->params_alive);
        cr_assert(pt_double_same(x->wall_seconds, y->wall_seconds));
        cr_assert_eq(x->workers, y->workers);
        break;
    }
    case QS_REC_END:
        cr_assert_eq(a->u.end.generations, b->u.end.generations);
        cr_assert_str_eq(a->u.end.reason, b->u.end.reason);
        break;
    }
}

typedef struct {
    int type;
    uint64_t seed;
} type_seed_t;

ParameterizedTestParameters(lineage, roundtrip_every_type)
{
    static type_seed_t cases[NRECTYPES * 4];
    for (int t = 0; t < NRECTYPES; t++)
        for (int s = 0; s < 4; s++)
            cases[t * 4 + s] = (type_seed_t){t + 1, (uint64_t)(10 * t + s)};
    return cr_make_param_array(type_seed_t, cases, NRECTYPES * 4);
}

ParameterizedTest(type_seed_t *c, lineage, roundtrip_every_type)
{
    qs_record_t r, d;
    rand_record(&r, (qs_rec_type_t)c->type, c->seed);
    qs_bytes_t b;
    qs_bytes_init(&b);
    qs_record_encode(&r, &b);
    const uint8_t *p;
    size_t plen;
    pt_unframe(&b, &p, &plen);
    qs_error_t err;
    cr_assert_eq(qs_record_decode(&d, p, plen, &err), 0, "%s", err.msg);
    assert_record_eq(&r, &d);
    /* every prefix is rejected */
    for (size_t n = 0; n < plen; n++) {
        uint8_t *copy = malloc(n + 1);
        memcpy(copy, p, n);
        qs_record_t x;
        cr_assert_lt(qs_record_decode(&x, copy, n, &err), 0, "prefix %zu/%zu", n, plen);
        free(copy);
    }
    qs_record_destroy(&r);
    qs_record_destroy(&d);
    qs_bytes_destroy(&b);
}

Test(lineage, names)
{
    cr_assert_str_eq(qs_rec_type_name(QS_REC_GENERATION), "generation");
    cr_assert_null(qs_rec_type_name((qs_rec_type_t)7));
    cr_assert_str_eq(qs_death_cause_name(QS_DEATH_CAPACITY), "capacity");
    cr_assert_null(qs_death_cause_name((qs_death_cause_t)0));
}

Test(lineage, unknown_type_and_newer_version_named)
{
    qs_bytes_t b, e;
    qs_bytes_init(&b);
    qs_bytes_init(&e);
    msgpack_packer pk;
    qs_mp_packer_init(&pk, &b);
    msgpack_pack_map(&pk, 2);
    qs_mp_kv_str(&pk, "type", "mutation");
    qs_mp_kv_u64(&pk, "v", 1);
    qs_record_t r;
    qs_error_t err;
    cr_assert_eq(qs_record_decode(&r, b.data, b.len, &err), QS_ERR(FORMAT));
    cr_assert(strstr(err.msg, "unknown type 'mutation' (this build reads: header, birth, eval, "
                              "death, generation, end)"),
              "%s", err.msg);
    qs_bytes_clear(&b);
    msgpack_pack_map(&pk, 2);
    qs_mp_kv_str(&pk, "type", "birth");
    qs_mp_kv_u64(&pk, "v", 2);
    cr_assert_eq(qs_record_decode(&r, b.data, b.len, &err), QS_ERR(VERSION));
    cr_assert(strstr(err.msg, "'birth': version 2 received, this build reads version 1"), "%s",
              err.msg);
    qs_bytes_destroy(&b);
    qs_bytes_destroy(&e);
}

/* ---- Files ----------------------------------------------------------------------------- */

static char dir[64];
static void setup(void)
{
    tu_tmpdir(dir, sizeof dir);
}
static void teardown(void)
{
    tu_rmrf(dir);
}
TestSuite(lineage_file, .init = setup, .fini = teardown);

#define NREC 40

/* A log of NREC records (header first, then a mix); ends[i] = offset after record i. */
static void make_log(qs_bytes_t *b, qs_record_t *recs, size_t *ends)
{
    qs_bytes_init(b);
    for (int i = 0; i < NREC; i++) {
        qs_rec_type_t t = i == 0          ? QS_REC_HEADER
                          : i == NREC - 1 ? QS_REC_END
                                          : (qs_rec_type_t)(2 + i % 4);
        rand_record(&recs[i], t, (uint64_t)i);
        qs_record_encode(&recs[i], b);
        ends[i] = b->len;
    }
}

static void free_log(qs_bytes_t *b, qs_record_t *recs)
{
    for (int i = 0; i < NREC; i++)
        qs_record_destroy(&recs[i]);
    qs_bytes_destroy(b);
}

/* Read path to the end; collect the indices (into recs) of the records read, and the
 * errors met (codes). Returns the number of records. */
typedef struct {
    int nrec;
    int idx[NREC];
    int nerr;
    int codes[8];
    char msgs[8][512];
    uint64_t skipped, corrupt;
} readout_t;

static void read_all(const char *path, const qs_record_t *recs, readout_t *out)
{
    memset(out, 0, sizeof *out);
    qs_lineage_reader_t *rd = malloc(sizeof *rd);
    qs_error_t err;
    cr_assert_eq(qs_lineage_open(rd, path, &err), 0, "%s", err.msg);
    for (int guard = 0; guard < 1000; guard++) {
        qs_record_t r;
        int rc = qs_lineage_next(rd, &r, &err);
        if (rc == 0)
            break;
        if (rc < 0) {
            cr_assert_lt(out->nerr, 8);
            out->codes[out->nerr] = rc;
            snprintf(out->msgs[out->nerr], 512, "%s", err.msg);
            out->nerr++;
            continue;
        }
        /* find which record it is (records are distinct), check it is intact */
        int found = -1;
        for (int k = 0; k < NREC; k++) {
            qs_bytes_t x, y;
            qs_bytes_init(&x);
            qs_bytes_init(&y);
            qs_record_encode(&recs[k], &x);
            qs_record_encode(&r, &y);
            if (x.len == y.len && memcmp(x.data, y.data, x.len) == 0)
                found = k;
            qs_bytes_destroy(&x);
            qs_bytes_destroy(&y);
            if (found >= 0)
                break;
        }
        cr_assert_geq(found, 0, "record %d read back is not one that was written", out->nrec);
        out->idx[out->nrec++] = found;
        qs_record_destroy(&r);
    }
    qs_record_t r;
    cr_assert_eq(qs_lineage_next(rd, &r, &err), 0, "end is sticky");
    out->skipped = rd->skipped;
    out->corrupt = rd->corrupt;
    cr_assert_eq(rd->records, (uint64_t)out->nrec);
    qs_lineage_close(rd);
    free(rd);
}

Test(lineage_file, reads_every_record_then_a_clean_end)
{
    qs_bytes_t b;
    qs_record_t recs[NREC];
    size_t ends[NREC];
    make_log(&b, recs, ends);
    char path[128];
    snprintf(path, sizeof path, "%s/lineage.msgpack", dir);
    tu_write_file(path, b.data, b.len);
    readout_t o;
    read_all(path, recs, &o);
    cr_assert_eq(o.nrec, NREC);
    cr_assert_eq(o.nerr, 0, "%s", o.msgs[0]);
    for (int i = 0; i < NREC; i++)
        cr_assert_eq(o.idx[i], i);
    cr_assert_eq(o.skipped, 0);
    /* an empty file is a clean, empty log */
    tu_write_file(path, "", 0);
    read_all(path, recs, &o);
    cr_assert_eq(o.nrec, 0);
    cr_assert_eq(o.nerr, 0);
    free_log(&b, recs);
}

Test(lineage_file, torn_tail_at_every_offset_of_the_last_records)
{
    qs_bytes_t b;
    qs_record_t recs[NREC];
    size_t ends[NREC];
    make_log(&b, recs, ends);
    char path[128];
    snprintf(path, sizeof path, "%s/torn.msgpack", dir);
    for (size_t cut = ends[NREC - 4] + 1; cut < b.len; cut++) {
        tu_write_file(path, b.data, cut);
        int whole = 0;
        while (whole < NREC && ends[whole] <= cut)
            whole++;
        readout_t o;
        read_all(path, recs, &o);
        cr_assert_eq(o.nrec, whole, "cut at %zu", cut);
        if (cut == ends[whole - 1]) {
            cr_assert_eq(o.nerr, 0, "cut on a record boundary is a clean end: %s", o.msgs[0]);
            continue;
        }
        cr_assert_eq(o.nerr, 1, "cut at %zu", cut);
        cr_assert_eq(o.codes[0], QS_ERR(TRUNCATED), "%s", o.msgs[0]);
        cr_assert(strstr(o.msgs[0], "torn tail"), "%s", o.msgs[0]);
        cr_assert_eq(o.skipped, cut - ends[whole - 1]);
    }
    free_log(&b, recs);
}

Test(lineage_file, zero_filled_and_bad_checksum_tails)
{
    qs_bytes_t b;
    qs_record_t recs[NREC];
    size_t ends[NREC];
    make_log(&b, recs, ends);
    char path[128];
    snprintf(path, sizeof path, "%s/z.msgpack", dir);
    /* a crash can leave zeros after the last record */
    size_t len = b.len;
    uint8_t zeros[100] = {0};
    qs_bytes_append(&b, zeros, sizeof zeros);
    tu_write_file(path, b.data, b.len);
    readout_t o;
    read_all(path, recs, &o);
    cr_assert_eq(o.nrec, NREC);
    cr_assert_eq(o.nerr, 1);
    cr_assert_eq(o.codes[0], QS_ERR(TRUNCATED));
    cr_assert(strstr(o.msgs[0], "100 bytes"), "%s", o.msgs[0]);
    /* the last record's payload damaged: a checksum failure at the end is a torn tail */
    b.len = len;
    b.data[len - 3] ^= 0x40;
    tu_write_file(path, b.data, b.len);
    read_all(path, recs, &o);
    cr_assert_eq(o.nrec, NREC - 1);
    cr_assert_eq(o.codes[0], QS_ERR(TRUNCATED), "%s", o.msgs[0]);
    cr_assert(strstr(o.msgs[0], "checksum"), "%s", o.msgs[0]);
    free_log(&b, recs);
}

typedef enum { FLIP_PAYLOAD, INSERT_GARBAGE, BREAK_LENGTH, HUGE_LENGTH, BAD_MAGIC } damage_t;

ParameterizedTestParameters(lineage_file, corruption_in_the_middle_is_skipped)
{
    static damage_t cases[] = {FLIP_PAYLOAD, INSERT_GARBAGE, BREAK_LENGTH, HUGE_LENGTH, BAD_MAGIC};
    return cr_make_param_array(damage_t, cases, sizeof cases / sizeof cases[0]);
}

ParameterizedTest(damage_t *how, lineage_file, corruption_in_the_middle_is_skipped)
{
    qs_bytes_t b, d;
    qs_record_t recs[NREC];
    size_t ends[NREC];
    make_log(&b, recs, ends);
    const int k = 17; /* the damaged record */
    size_t start = ends[k - 1], end = ends[k];
    qs_bytes_init(&d);
    qs_bytes_append(&d, b.data, start);
    int lost = 1; /* records lost */
    uint64_t skipped = end - start;
    int code = 0;
    switch (*how) {
    case FLIP_PAYLOAD:
        qs_bytes_append(&d, b.data + start, b.len - start);
        d.data[start + QS_FRAME_HEADER + 5] ^= 0x01;
        code = QS_ERR(CHECKSUM);
        break;
    case INSERT_GARBAGE:
        qs_bytes_append(&d, "garbage!qsm", 11); /* even a partial magic */
        qs_bytes_append(&d, b.data + start, b.len - start);
        lost = 0;
        skipped = 11;
        code = QS_ERR(FORMAT);
        break;
    case BREAK_LENGTH: /* claims 1 MiB: swallows the rest of the file, then EOF */
        qs_bytes_append(&d, b.data + start, b.len - start);
        qs_store_le32(d.data + start + 4, 1u << 20);
        code = QS_ERR(FORMAT);
        break;
    case HUGE_LENGTH: /* claims more than the reader's limit */
        qs_bytes_append(&d, b.data + start, b.len - start);
        qs_store_le32(d.data + start + 4, 0xfffffff0u);
        code = QS_ERR(TOOBIG);
        break;
    case BAD_MAGIC:
        qs_bytes_append(&d, b.data + start, b.len - start);
        d.data[start + 2] = 'X';
        code = QS_ERR(FORMAT);
        break;
    }
    char path[128];
    snprintf(path, sizeof path, "%s/mid.msgpack", dir);
    tu_write_file(path, d.data, d.len);
    readout_t o;
    read_all(path, recs, &o);
    cr_assert_eq(o.nerr, 1, "errors: %d, first: %s", o.nerr, o.msgs[0]);
    cr_assert_eq(o.codes[0], code, "%s", o.msgs[0]);
    char needle[96];
    snprintf(needle, sizeof needle, "corrupt data at offset %zu", start);
    cr_assert(strstr(o.msgs[0], needle), "%s", o.msgs[0]);
    cr_assert_eq(o.nrec, NREC - lost);
    for (int i = 0, j = 0; i < NREC; i++) {
        if (lost && i == k)
            continue;
        cr_assert_eq(o.idx[j++], i);
    }
    cr_assert_eq(o.skipped, skipped);
    cr_assert_eq(o.corrupt, 1);
    cr_log_info("%s", o.msgs[0]);
    free_log(&b, recs);
    qs_bytes_destroy(&d);
}

Test(lineage_file, undecodable_record_reported_and_skipped)
{
    qs_bytes_t b;
    qs_record_t recs[NREC];
    size_t ends[NREC];
    make_log(&b, recs, ends);
    /* a well-framed record of a type from the future, in the middle */
    qs_bytes_t d, p;
    qs_bytes_init(&d);
    qs_bytes_init(&p);
    msgpack_packer pk;
    qs_mp_packer_init(&pk, &p);
    msgpack_pack_map(&pk, 2);
    qs_mp_kv_str(&pk, "type", "migration");
    qs_mp_kv_u64(&pk, "v", 1);
    qs_bytes_append(&d, b.data, ends[9]);
    qs_frame_append(&d, p.data, p.len);
    qs_bytes_append(&d, b.data + ends[9], b.len - ends[9]);
    char path[128];
    snprintf(path, sizeof path, "%s/future.msgpack", dir);
    tu_write_file(path, d.data, d.len);
    readout_t o;
    read_all(path, recs, &o);
    cr_assert_eq(o.nrec, NREC);
    cr_assert_eq(o.nerr, 1);
    cr_assert_eq(o.codes[0], QS_ERR(FORMAT));
    char needle[96];
    snprintf(needle, sizeof needle,
             "record at offset %zu: lineage record: unknown type 'migration'", ends[9]);
    cr_assert(strstr(o.msgs[0], needle), "%s", o.msgs[0]);
    free_log(&b, recs);
    qs_bytes_destroy(&d);
    qs_bytes_destroy(&p);
}

Test(lineage_file, not_a_lineage_file)
{
    char path[128];
    snprintf(path, sizeof path, "%s/notes.txt", dir);
    tu_write_file(path, "hello world, no frames here", 27);
    qs_lineage_reader_t *rd = malloc(sizeof *rd);
    qs_error_t err;
    cr_assert_eq(qs_lineage_open(rd, path, &err), 0);
    qs_record_t r;
    cr_assert_eq(qs_lineage_next(rd, &r, &err), QS_ERR(FORMAT));
    cr_assert(strstr(err.msg, "not a quinesim lineage log"), "%s", err.msg);
    cr_assert_eq(qs_lineage_next(rd, &r, &err), 0);
    qs_lineage_close(rd);
    snprintf(path, sizeof path, "%s/missing", dir);
    cr_assert_eq(qs_lineage_open(rd, path, &err), QS_ERR(NOENT));
    cr_assert(strstr(err.msg, path), "%s", err.msg);
    free(rd);
}
