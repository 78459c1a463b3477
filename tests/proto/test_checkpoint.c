/* Tests for proto/checkpoint (and the fidelity sub-codec it shares with proto/wire through
 * proto/mp): a checkpoint round-trips (non-finite fidelities included) and re-encodes to
 * the same bytes, whose CRC-32 is pinned so that the encoding cannot drift; an organism's
 * fidelity that is missing, not a map or has a bad field is rejected naming it. */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <unistd.h>

#include "proto/checkpoint.h"
#include "proto/file.h"
#include "tests/proto/proto_test.h"

static void fill_org(qs_ckpt_org_t *o, uint64_t id, uint32_t nweights, double k)
{
    memset(o, 0, sizeof *o);
    o->id = id;
    o->parent = id > 1 ? id - 1 : 0;
    o->species = (uint32_t)(id % 3);
    o->born = (uint32_t)id * 2;
    o->newborn = (int)(id & 1);
    o->prior_fitness = 0.25 * k;
    o->flops_total = 1000000007ull * id;
    o->accuracy = 0.5 + 0.01 * k;
    o->fitness = id == 2 ? NAN : 0.125 * k;
    o->fidelity.l_sr = 12.5 * k;
    o->fidelity.margin = 0.0625;
    o->fidelity.srq = id == 2 ? INFINITY : 3.75;
    o->fidelity.rel_err = 1.0 / 3.0;
    o->fidelity.r2 = id == 3 ? -INFINITY : 0.875;
    o->fidelity.rms = id == 2 ? NAN : 0.05;
    o->fidelity.zero_quine = id == 3;
    o->nweights = nweights;
    o->weights = malloc(nweights * sizeof *o->weights);
    for (uint32_t i = 0; i < nweights; i++)
        o->weights[i] = (float)(k * 0.001 * (double)i - 0.01);
}

/* A fixed checkpoint: two organisms and the best. */
static void fixed_checkpoint(qs_checkpoint_t *c)
{
    memset(c, 0, sizeof *c);
    c->scenario = strdup("[run]\nname = t\n");
    c->seed = 7;
    c->generation = 3;
    c->next_id = 9;
    c->births = 8;
    c->deaths = 4;
    c->flops_total = 123456789012ull;
    c->wall_seconds = 1.5;
    c->off_lineage = 100;
    c->off_phylogeny = 200;
    c->off_generations = 300;
    c->norgs = 2;
    c->orgs = calloc(2, sizeof *c->orgs);
    fill_org(&c->orgs[0], 2, 5, 1.0);
    fill_org(&c->orgs[1], 3, 3, 2.0);
    c->has_best = 1;
    c->best_generation = 2;
    fill_org(&c->best, 1, 4, 3.0);
}

static void payload_of(const qs_checkpoint_t *c, qs_bytes_t *b, const uint8_t **p, size_t *n)
{
    qs_bytes_init(b);
    qs_checkpoint_encode(c, b);
    pt_unframe(b, p, n);
}

Test(checkpoint, roundtrip_and_pinned_encoding)
{
    qs_checkpoint_t c, d;
    fixed_checkpoint(&c);
    qs_bytes_t b, b2;
    const uint8_t *p, *p2;
    size_t n, n2;
    payload_of(&c, &b, &p, &n);
    /* The encoding of this checkpoint, as every build since version 1 has written it. */
    cr_assert_eq(qs_crc32(b.data, b.len), 0x035b470bu, "encoding changed: crc32 %08x, %zu bytes",
                 qs_crc32(b.data, b.len), b.len);
    qs_error_t err = {0};
    cr_assert_eq(qs_checkpoint_decode(&d, p, n, &err), 0, "%s", err.msg);
    cr_assert_str_eq(d.scenario, c.scenario);
    cr_assert_eq(d.norgs, 2);
    cr_assert_eq(d.has_best, 1);
    for (uint32_t i = 0; i < 2; i++) {
        cr_assert_eq(d.orgs[i].id, c.orgs[i].id);
        cr_assert_eq(d.orgs[i].nweights, c.orgs[i].nweights);
        cr_assert(pt_double_same(d.orgs[i].fitness, c.orgs[i].fitness));
        pt_assert_fidelity_eq(&d.orgs[i].fidelity, &c.orgs[i].fidelity);
    }
    pt_assert_fidelity_eq(&d.best.fidelity, &c.best.fidelity);
    payload_of(&d, &b2, &p2, &n2);
    cr_assert_eq(b2.len, b.len);
    cr_assert(memcmp(b2.data, b.data, b.len) == 0, "re-encodes to the same bytes");
    qs_bytes_destroy(&b);
    qs_bytes_destroy(&b2);
    qs_checkpoint_destroy(&c);
    qs_checkpoint_destroy(&d);
}

/* The run identity (issue 16) round-trips; a checkpoint without one (every checkpoint
 * before it, as the pinned encoding above) still reads, with an empty run_id. */
Test(checkpoint, run_identity_roundtrips_and_is_checked)
{
    qs_checkpoint_t c, d;
    fixed_checkpoint(&c);
    snprintf(c.run_id, sizeof c.run_id, "0123456789abcdef0123456789abcdef");
    c.run_scenario_crc32 = 0xdeadbeefu;
    qs_bytes_t b;
    const uint8_t *p;
    size_t n;
    payload_of(&c, &b, &p, &n);
    qs_error_t err = {0};
    cr_assert_eq(qs_checkpoint_decode(&d, p, n, &err), 0, "%s", err.msg);
    cr_assert_str_eq(d.run_id, c.run_id);
    cr_assert_eq(d.run_scenario_crc32, 0xdeadbeefu);
    qs_checkpoint_destroy(&d);
    qs_bytes_destroy(&b);
    c.run_id[5] = 'G'; /* not a lower-case hex digit */
    payload_of(&c, &b, &p, &n);
    cr_assert_lt(qs_checkpoint_decode(&d, p, n, &err), 0);
    cr_assert_str_eq(err.msg, "checkpoint: field 'run_id' is not 32 hex digits");
    qs_bytes_destroy(&b);
    qs_checkpoint_destroy(&c);
}

static void pack_str(msgpack_packer *pk)
{
    qs_mp_pack_cstr(pk, "x");
}

/* Strings held in the struct: Criterion copies the parameters into the test's process,
 * where pointers into this one's data need not be valid. */
typedef struct {
    char path[32];
    pt_op_t op;
    char msg[96]; /* the whole error message */
} edit_case_t;

ParameterizedTestParameters(checkpoint, edited_fidelity)
{
    static edit_case_t cases[] = {
        {"orgs.0.fidelity", PT_REMOVE, "checkpoint: orgs[]: missing field 'fidelity'"},
        {"orgs.1.fidelity", PT_REPLACE,
         "checkpoint: orgs[]: field 'fidelity' is a string, expected a map"},
        {"orgs.0.fidelity.srq", PT_REPLACE,
         "checkpoint: orgs[]: field 'srq' is a string, expected a number"},
        {"orgs.0.fidelity.l_sr", PT_REMOVE, "checkpoint: orgs[]: missing field 'l_sr'"},
        {"best.fidelity.zero_quine", PT_REPLACE,
         "checkpoint: best: field 'zero_quine' is a string, expected a boolean"},
        {"best.fidelity.rms", PT_REMOVE, "checkpoint: best: missing field 'rms'"},
    };
    return cr_make_param_array(edit_case_t, cases, sizeof cases / sizeof cases[0]);
}

ParameterizedTest(edit_case_t *ec, checkpoint, edited_fidelity)
{
    qs_checkpoint_t c, d;
    fixed_checkpoint(&c);
    qs_bytes_t b, ed;
    const uint8_t *p;
    size_t n;
    payload_of(&c, &b, &p, &n);
    qs_bytes_init(&ed);
    pt_edit_payload(&ed, p, n, ec->path, ec->op, pack_str);
    qs_error_t err = {0};
    cr_assert_eq(qs_checkpoint_decode(&d, ed.data, ed.len, &err), QS_ERR(FORMAT), "%s: %s",
                 ec->path, err.msg);
    cr_assert_str_eq(err.msg, ec->msg);
    qs_bytes_destroy(&b);
    qs_bytes_destroy(&ed);
    qs_checkpoint_destroy(&c);
}

/* [islands]: each island's counters round-trip; a checkpoint without them (one
 * population, as the pinned encoding above) has none; one island alone is refused. */
Test(checkpoint, island_counters_roundtrip)
{
    qs_checkpoint_t c, d;
    fixed_checkpoint(&c);
    c.nislands = 2;
    c.islands = calloc(2, sizeof *c.islands);
    c.islands[0] = (qs_ckpt_island_t){.next_id = 9, .births = 5, .deaths = 3, .flops_total = 7};
    c.islands[1] = (qs_ckpt_island_t){.next_id = 6, .births = 3, .deaths = 1, .flops_total = 11};
    qs_bytes_t b;
    const uint8_t *p;
    size_t n;
    payload_of(&c, &b, &p, &n);
    qs_error_t err = {0};
    cr_assert_eq(qs_checkpoint_decode(&d, p, n, &err), 0, "%s", err.msg);
    cr_assert_eq(d.nislands, 2);
    cr_assert_arr_eq(d.islands, c.islands, 2 * sizeof *c.islands);
    qs_checkpoint_destroy(&d);
    qs_bytes_destroy(&b);
    c.nislands = 1;
    payload_of(&c, &b, &p, &n);
    cr_assert_lt(qs_checkpoint_decode(&d, p, n, &err), 0);
    cr_assert(strstr(err.msg, "checkpoint: 1 islands (at least 2 if any)"), "%s", err.msg);
    qs_bytes_destroy(&b);
    c.nislands = 2;
    qs_checkpoint_destroy(&c);
}

/* ---- a checkpoint in parts (qs_checkpoint_writer_t) ------------------------------------------ */

/* Island k's state of a run of 3 islands (ids k+1, k+4, ...): two organisms, its best. */
static void island_part(qs_checkpoint_t *c, uint32_t k)
{
    memset(c, 0, sizeof *c);
    c->seed = 7;
    c->generation = 3;
    c->next_id = 7 + k; /* (next_id - 1) mod 3 = k */
    c->births = 10 + k;
    c->deaths = 5 + k;
    c->flops_total = 1000 * (k + 1);
    c->norgs = 2;
    c->orgs = calloc(2, sizeof *c->orgs);
    fill_org(&c->orgs[0], 1 + k, 4, 1.0 + k);
    fill_org(&c->orgs[1], 4 + k, 4, 2.0 + k);
    c->has_best = 1;
    c->best_generation = 2;
    fill_org(&c->best, 1 + k, 4, 5.0 + k);
}

static void head_of(qs_checkpoint_t *h)
{
    memset(h, 0, sizeof *h);
    h->scenario = "[run]\nname = t\n";
    h->seed = 7;
    h->generation = 3;
    h->wall_seconds = 1.5;
    h->off_lineage = 100;
    h->off_phylogeny = 200;
    h->off_generations = 300;
}

/* Parts written in the order they come (2, 0, 1) load as one checkpoint of 3 islands: the
 * organisms in id order, the counters summed, the best from best_island's part; one island's
 * part reads back alone. Aborted (or before its commit), the previous checkpoint stays. */
Test(checkpoint, in_parts_streamed_loads_as_one_and_an_abort_keeps_the_previous)
{
    char dir[] = "/tmp/qs_ckpt_parts_XXXXXX", path[256];
    cr_assert(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/checkpoint.msgpack", dir);
    qs_checkpoint_t h, part[3], d;
    qs_error_t err = {0};
    head_of(&h);
    qs_bytes_t frame[3];
    for (uint32_t k = 0; k < 3; k++) {
        island_part(&part[k], k);
        qs_bytes_init(&frame[k]);
        qs_checkpoint_encode(&part[k], &frame[k]);
    }
    qs_checkpoint_writer_t w;
    cr_assert_eq(qs_checkpoint_writer_open(&w, path, &h, 3, 1, &err), 0, "%s", err.msg);
    static const uint32_t order[3] = {2, 0, 1};
    for (int i = 0; i < 3; i++)
        cr_assert_eq(qs_checkpoint_writer_part(&w, frame[order[i]].data, frame[order[i]].len, &err),
                     0, "%s", err.msg);
    cr_assert_eq(access(path, F_OK), -1, "nothing at the path before the commit");
    cr_assert_eq(qs_checkpoint_writer_commit(&w, &err), 0, "%s", err.msg);
    cr_assert_not(qs_checkpoint_writer_is_open(&w));
    cr_assert_eq(qs_checkpoint_load(&d, path, &err), 0, "%s", err.msg);
    cr_assert_eq(d.generation, 3);
    cr_assert_str_eq(d.scenario, h.scenario);
    cr_assert_eq(d.off_phylogeny, 200);
    cr_assert_eq(d.nislands, 3);
    cr_assert_eq(d.norgs, 6);
    for (uint32_t i = 0; i < 6; i++)
        cr_assert_eq(d.orgs[i].id, i + 1, "organisms in id order");
    cr_assert_eq(d.next_id, 9);
    cr_assert_eq(d.births, 33);
    cr_assert_eq(d.deaths, 18);
    cr_assert_eq(d.islands[2].flops_total, 3000);
    cr_assert(d.has_best);
    cr_assert_eq(d.best.id, 2, "the best of island 1 (best_island)");
    cr_assert_eq(d.best.weights[3], part[1].best.weights[3]);
    qs_checkpoint_destroy(&d);

    /* island 0's part alone: as written, or without a best that is not the run's */
    qs_bytes_t one;
    qs_bytes_init(&one);
    uint32_t g = 0;
    cr_assert_eq(qs_checkpoint_load_island(path, 0, 3, 1, &one, &g, &err), 0, "%s", err.msg);
    cr_assert_eq(g, 3);
    cr_assert(one.len == frame[0].len && !memcmp(one.data, frame[0].data, one.len));
    cr_assert_eq(qs_checkpoint_load_island(path, 0, 3, 0, &one, &g, &err), 0, "%s", err.msg);
    cr_assert_eq(qs_checkpoint_decode_frame(&d, one.data, one.len, &err), 0, "%s", err.msg);
    cr_assert_eq(d.norgs, 2);
    cr_assert_eq(d.orgs[1].id, 4);
    cr_assert_not(d.has_best, "the run's best is on island 1");
    qs_checkpoint_destroy(&d);
    qs_bytes_destroy(&one);

    /* a new checkpoint aborted after one part: the file is the previous one, no temporary */
    qs_bytes_t before, after;
    qs_bytes_init(&before);
    qs_bytes_init(&after);
    cr_assert_eq(qs_file_read_all(path, 1 << 20, &before, &err), 0);
    h.generation = 4;
    cr_assert_eq(qs_checkpoint_writer_open(&w, path, &h, 3, 1, &err), 0, "%s", err.msg);
    cr_assert_eq(qs_checkpoint_writer_part(&w, frame[0].data, frame[0].len, &err), 0);
    qs_checkpoint_writer_abort(&w);
    cr_assert_eq(qs_file_read_all(path, 1 << 20, &after, &err), 0);
    cr_assert(before.len == after.len && !memcmp(before.data, after.data, before.len));
    char cmd[400];
    snprintf(cmd, sizeof cmd, "ls %s | grep -q tmp", dir);
    cr_assert_neq(system(cmd), 0, "no temporary file left");

    /* a head whose parts are missing is refused, as is a head where a whole one is wanted */
    qs_bytes_t cut;
    qs_bytes_init(&cut);
    qs_bytes_append(&cut, before.data, before.len - frame[1].len);
    FILE *f = fopen(path, "wb");
    fwrite(cut.data, 1, cut.len, f);
    fclose(f);
    cr_assert_eq(qs_checkpoint_load(&d, path, &err), QS_ERR(TRUNCATED), "%s", err.msg);
    const uint8_t *payload;
    size_t plen, flen;
    cr_assert_eq(qs_frame_parse(cut.data, cut.len, 1 << 20, &payload, &plen, &flen, &err), 1);
    cr_assert_eq(qs_checkpoint_decode(&d, payload, plen, &err), QS_ERR(FORMAT));
    qs_bytes_destroy(&cut);
    qs_bytes_destroy(&before);
    qs_bytes_destroy(&after);
    for (uint32_t k = 0; k < 3; k++) {
        qs_bytes_destroy(&frame[k]);
        qs_checkpoint_destroy(&part[k]);
    }
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    cr_assert_eq(system(cmd), 0);
}
