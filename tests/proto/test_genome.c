/* Tests for proto/genome (and the guarded decoding in proto/mp): round trips of random
 * genomes and the paper's 21,100-parameter aux quine, every prefix of an encoding
 * rejected, flipped bytes never crash, oversize container claims refused by the pre-scan
 * before msgpack-c allocates, wrong format names and versions named in the error,
 * unknown fields ignored, weight counts checked against the spec, atomic save and load
 * with errors naming the file. */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <dirent.h>
#include <stdlib.h>
#include <string.h>

#include "proto/file.h"
#include "proto/genome.h"
#include "proto/mp.h"
#include "tests/proto/proto_test.h"
#include "tests/testutil.h"

static void roundtrip(uint64_t seed, int special)
{
    qs_genome_t g, h;
    pt_random_genome(&g, seed, special);
    qs_bytes_t b;
    qs_bytes_init(&b);
    qs_genome_encode(&g, &b);
    qs_error_t err;
    int rc = qs_genome_decode(&h, b.data, b.len, &err);
    cr_assert_eq(rc, 0, "seed %llu: %s", (unsigned long long)seed, err.msg);
    pt_assert_genome_eq(&g, &h);
    /* re-encoding gives the same bytes */
    qs_bytes_t c;
    qs_bytes_init(&c);
    qs_genome_encode(&h, &c);
    cr_assert_eq(c.len, b.len);
    cr_assert_eq(memcmp(c.data, b.data, b.len), 0);
    qs_bytes_destroy(&b);
    qs_bytes_destroy(&c);
    qs_genome_destroy(&g);
    qs_genome_destroy(&h);
}

ParameterizedTestParameters(genome, roundtrip_random)
{
    static uint64_t seeds[32];
    for (int i = 0; i < 32; i++)
        seeds[i] = 1000 + (uint64_t)i;
    return cr_make_param_array(uint64_t, seeds, 32);
}

ParameterizedTest(uint64_t *seed, genome, roundtrip_random)
{
    roundtrip(*seed, (int)(*seed & 1));
}

Test(genome, roundtrip_paper_aux_and_copy)
{
    qs_quine_spec_t s = pt_paper_aux();
    qs_genome_t g, h, k;
    qs_genome_init(&g, &s);
    cr_assert_eq(g.nweights, 21100);
    for (uint32_t i = 0; i < g.nweights; i++)
        g.weights[i] = (float)i * 1e-3f - 10.0f;
    qs_genome_copy(&k, &g);
    g.weights[0] = 7; /* the copy is deep */
    cr_assert_eq(k.weights[0], -10.0f);
    qs_bytes_t b;
    qs_bytes_init(&b);
    qs_genome_encode(&k, &b);
    cr_assert_lt(b.len, 21100 * 4 + 400, "overhead %zu bytes", b.len - 21100 * 4);
    qs_error_t err;
    cr_assert_eq(qs_genome_decode(&h, b.data, b.len, &err), 0, "%s", err.msg);
    pt_assert_genome_eq(&k, &h);
    qs_bytes_destroy(&b);
    qs_genome_destroy(&g);
    qs_genome_destroy(&h);
    qs_genome_destroy(&k);
}

/* A small genome's encoding. */
static void small_encoding(qs_bytes_t *b, qs_genome_t *g)
{
    qs_quine_spec_t s = pt_spec(QS_KIND_AUX, 3, 1, 9);
    qs_genome_init(g, &s);
    for (uint32_t i = 0; i < g->nweights; i++)
        g->weights[i] = (float)i;
    g->id = 42;
    g->nparents = 1;
    g->parents[0] = 41;
    snprintf(g->species, sizeof g->species, "a");
    g->metrics.present = 1;
    qs_bytes_init(b);
    qs_genome_encode(g, b);
}

Test(genome, every_prefix_rejected)
{
    qs_bytes_t b;
    qs_genome_t g;
    small_encoding(&b, &g);
    for (size_t n = 0; n < b.len; n++) {
        qs_genome_t h;
        memset(&h, 0xab, sizeof h);
        qs_genome_t before = h;
        uint8_t *copy = malloc(n + 1); /* exact size, so ASan sees any overread */
        memcpy(copy, b.data, n);
        qs_error_t err;
        int rc = qs_genome_decode(&h, copy, n, &err);
        cr_assert_lt(rc, 0, "prefix of %zu/%zu bytes accepted", n, b.len);
        cr_assert(rc == QS_ERR(TRUNCATED) || rc == QS_ERR(TOOBIG), "prefix %zu: %s", n, err.msg);
        cr_assert_eq(memcmp(&h, &before, sizeof h), 0, "genome touched on error");
        free(copy);
    }
    qs_bytes_destroy(&b);
    qs_genome_destroy(&g);
}

Test(genome, flipped_bytes_never_crash)
{
    qs_bytes_t b;
    qs_genome_t g;
    small_encoding(&b, &g);
    qs_rng_t r;
    qs_rng_init(&r, 5, qs_rng_stream(QS_STREAM_TEST, 9));
    int accepted = 0;
    for (size_t i = 0; i < b.len; i++) {
        for (int bit = 0; bit < 8; bit++) {
            uint8_t *copy = malloc(b.len);
            memcpy(copy, b.data, b.len);
            copy[i] ^= (uint8_t)(1u << bit);
            qs_genome_t h;
            qs_error_t err;
            if (qs_genome_decode(&h, copy, b.len, &err) == 0) {
                accepted++;
                cr_assert_eq(h.nweights, qs_quine_nparams(&h.spec));
                qs_genome_destroy(&h);
            } else {
                cr_assert_neq(err.msg[0], '\0');
            }
            free(copy);
        }
    }
    /* flips in the weights are all caught by the checksum */
    cr_assert_lt(accepted, (int)b.len * 8 / 2, "%d accepted", accepted);
    qs_bytes_destroy(&b);
    qs_genome_destroy(&g);
}

Test(genome, flipped_weight_bits_fail_the_checksum)
{
    qs_bytes_t b;
    qs_genome_t g;
    small_encoding(&b, &g);
    /* find the weights bin: the bytes of weights[1] = 1.0f (00 00 80 3f) */
    const uint8_t one[4] = {0, 0, 0x80, 0x3f};
    uint8_t *at = NULL;
    for (size_t i = 0; i + 4 <= b.len && !at; i++)
        if (memcmp(b.data + i, one, 4) == 0)
            at = b.data + i;
    cr_assert_not_null(at);
    at[2] ^= 1;
    qs_genome_t h;
    qs_error_t err;
    cr_assert_eq(qs_genome_decode(&h, b.data, b.len, &err), QS_ERR(CHECKSUM));
    cr_assert(strstr(err.msg, "checksum"), "%s", err.msg);
    qs_bytes_destroy(&b);
    qs_genome_destroy(&g);
}

/* Hostile headers: each claims far more than the payload holds. */
typedef struct {
    uint8_t bytes[16];
    size_t len;
    int code;
} hostile_t;

ParameterizedTestParameters(genome, oversize_claims_refused_by_the_scan)
{
    static hostile_t cases[] = {
        {{0xdd, 0xff, 0xff, 0xff, 0xff}, 5, QS_ERR(TOOBIG)},                     /* array32 4G */
        {{0xdf, 0xff, 0xff, 0xff, 0xff}, 5, QS_ERR(TOOBIG)},                     /* map32 4G */
        {{0xdc, 0xff, 0xff, 0x01, 0x02}, 5, QS_ERR(TOOBIG)},                     /* array16 65535 */
        {{0x81, 0xa1, 'w', 0xc6, 0x7f, 0xff, 0xff, 0xff}, 8, QS_ERR(TOOBIG)},    /* bin32 2G */
        {{0x81, 0xa1, 'w', 0xdb, 0xff, 0xff, 0xff, 0xff}, 8, QS_ERR(TOOBIG)},    /* str32 4G */
        {{0x81, 0xa1, 'w', 0xc9, 0xff, 0xff, 0xff, 0xff, 1}, 9, QS_ERR(TOOBIG)}, /* ext32 */
        {{0x81, 0xa1, 'w', 0xdd, 0x00, 0x10, 0x00, 0x00}, 8, QS_ERR(TOOBIG)},    /* nested 1M */
        {{0x8f}, 1, QS_ERR(TOOBIG)},                           /* fixmap 15, empty */
        {{0x81, 0xc1, 0xc0}, 3, QS_ERR(FORMAT)},               /* reserved 0xc1 */
        {{0x80, 0x00}, 2, QS_ERR(FORMAT)},                     /* trailing byte */
        {{0x81, 0xa1, 'w', 0xcb, 0, 0}, 6, QS_ERR(TRUNCATED)}, /* float64 cut */
    };
    return cr_make_param_array(hostile_t, cases, sizeof cases / sizeof cases[0]);
}

ParameterizedTest(hostile_t *c, genome, oversize_claims_refused_by_the_scan)
{
    uint8_t *copy = malloc(c->len);
    memcpy(copy, c->bytes, c->len);
    qs_error_t err;
    qs_genome_t g;
    int rc = qs_genome_decode(&g, copy, c->len, &err);
    cr_assert_eq(rc, c->code, "got %d: %s", rc, err.msg);
    if (c->code == QS_ERR(TOOBIG)) /* the scan's message, not msgpack-c's NOMEM */
        cr_assert(strstr(err.msg, "claims") || strstr(err.msg, "elements"), "%s", err.msg);
    free(copy);
}

Test(genome, nesting_depth_limited)
{
    uint8_t buf[64];
    size_t n = 0;
    for (int i = 0; i < 40; i++)
        buf[n++] = 0x91; /* [[[[...]]]] */
    buf[n++] = 0x00;
    qs_error_t err;
    cr_assert_eq(qs_mp_scan(buf, n, "test", &err), QS_ERR(TOOBIG));
    cr_assert(strstr(err.msg, "nested deeper"), "%s", err.msg);
    cr_assert_eq(qs_mp_scan(buf + 40 - QS_MP_MAX_DEPTH, QS_MP_MAX_DEPTH + 1, "test", &err), 0, "%s",
                 err.msg);
}

/* Re-pack a genome map with one field replaced (or added, or removed). */
typedef enum { EDIT_REPLACE, EDIT_REMOVE, EDIT_ADD } edit_t;

static void pack_edited(qs_bytes_t *out, const qs_genome_t *g, const char *key, edit_t how,
                        void (*pack_value)(msgpack_packer *))
{
    qs_bytes_t b;
    qs_bytes_init(&b);
    qs_genome_encode(g, &b);
    qs_mp_doc_t doc;
    qs_error_t err;
    cr_assert_eq(qs_mp_doc_parse(&doc, b.data, b.len, "test", &err), 0);
    const msgpack_object_map *m = &doc.root->via.map;
    msgpack_packer pk;
    qs_mp_packer_init(&pk, out);
    uint32_t n = m->size + (how == EDIT_ADD) - (how == EDIT_REMOVE);
    msgpack_pack_map(&pk, n);
    for (uint32_t i = 0; i < m->size; i++) {
        if (qs_mp_str_eq(&m->ptr[i].key, key)) {
            if (how == EDIT_REMOVE)
                continue;
            msgpack_pack_object(&pk, m->ptr[i].key);
            pack_value(&pk);
            continue;
        }
        msgpack_pack_object(&pk, m->ptr[i].key);
        msgpack_pack_object(&pk, m->ptr[i].val);
    }
    if (how == EDIT_ADD) {
        qs_mp_pack_cstr(&pk, key);
        pack_value(&pk);
    }
    qs_mp_doc_release(&doc);
    qs_bytes_destroy(&b);
}

static void pack_v3(msgpack_packer *pk)
{
    msgpack_pack_uint64(pk, 3);
}
static void pack_ckpt(msgpack_packer *pk)
{
    qs_mp_pack_cstr(pk, "quinesim.checkpoint");
}
static void pack_future(msgpack_packer *pk)
{
    msgpack_pack_map(pk, 1);
    qs_mp_kv_str(pk, "nested", "unknown fields are ignored");
}
static void pack_short_weights(msgpack_packer *pk)
{
    float w[21099] = {0};
    msgpack_pack_bin(pk, sizeof w);
    msgpack_pack_bin_body(pk, w, sizeof w);
}
static void pack_neg(msgpack_packer *pk)
{
    msgpack_pack_int64(pk, -1);
}
static void pack_str(msgpack_packer *pk)
{
    qs_mp_pack_cstr(pk, "7");
}
static void pack_three_parents(msgpack_packer *pk)
{
    msgpack_pack_array(pk, 3);
    for (int i = 0; i < 3; i++)
        msgpack_pack_uint64(pk, 1);
}
static void pack_long_species(msgpack_packer *pk)
{
    char s[QS_NAME_MAX + 1];
    memset(s, 'x', QS_NAME_MAX);
    s[QS_NAME_MAX] = '\0';
    qs_mp_pack_cstr(pk, s);
}
static void pack_bad_utf8(msgpack_packer *pk)
{
    msgpack_pack_str(pk, 2);
    msgpack_pack_str_body(pk, "\xc3\x28", 2);
}
static void pack_bad_spec(msgpack_packer *pk)
{
    qs_quine_spec_t s = pt_spec(QS_KIND_AUX, 100, 2, 1);
    s.hidden = 1;
    qs_mp_pack_spec(pk, &s);
}
static void pack_bad_kind(msgpack_packer *pk)
{
    msgpack_pack_map(pk, 7);
    qs_mp_kv_str(pk, "kind", "transformer");
    qs_mp_kv_u64(pk, "hidden", 100);
    qs_mp_kv_u64(pk, "depth", 2);
    qs_mp_kv_u64(pk, "classes", 10);
    qs_mp_kv_u64(pk, "image_dim", 784);
    qs_mp_kv_str(pk, "rest", "zero");
    qs_mp_kv_u64(pk, "proj_seed", 1);
}
static void pack_nw(msgpack_packer *pk)
{
    msgpack_pack_uint64(pk, 21099);
}

typedef struct {
    char key[24];
    edit_t how;
    int which; /* index into the value packers below */
    int code;
    char needle[96]; /* must appear in the message */
} edit_case_t;

static void (*const packers[])(msgpack_packer *) = {
    pack_v3,       pack_ckpt,     pack_future,        pack_short_weights,
    pack_neg,      pack_str,      pack_three_parents, pack_long_species,
    pack_bad_utf8, pack_bad_spec, pack_bad_kind,      pack_nw};

ParameterizedTestParameters(genome, edited_fields)
{
    static edit_case_t cases[] = {
        {"version", EDIT_REPLACE, 0, QS_ERR(VERSION),
         "format version 3 is newer than this build supports (version 2)"},
        {"format", EDIT_REPLACE, 1, QS_ERR(FORMAT),
         "'quinesim.checkpoint', expected 'quinesim.genome'"},
        {"format", EDIT_REMOVE, 0, QS_ERR(FORMAT), "missing field 'format'"},
        {"from_the_future", EDIT_ADD, 2, 0, ""},
        {"weights", EDIT_REPLACE, 3, QS_ERR(MISMATCH),
         "field 'weights' has 84396 bytes, spec aux H=100 depth 2 needs 84400"},
        {"weights", EDIT_REMOVE, 0, QS_ERR(FORMAT), "missing field 'weights'"},
        {"id", EDIT_REPLACE, 4, QS_ERR(RANGE), "field 'id' is -1"},
        {"generation", EDIT_REPLACE, 5, QS_ERR(FORMAT),
         "field 'generation' is a string, expected an unsigned integer"},
        {"parents", EDIT_REPLACE, 6, QS_ERR(RANGE), "field 'parents' has 3 entries"},
        {"species", EDIT_REPLACE, 7, QS_ERR(TOOBIG), "field 'species' has 64 bytes, at most 63"},
        {"species", EDIT_REPLACE, 8, QS_ERR(FORMAT), "field 'species' is not valid UTF-8"},
        {"spec", EDIT_REPLACE, 9, QS_ERR(RANGE), "genome: spec"},
        {"spec", EDIT_REPLACE, 10, QS_ERR(RANGE), "'transformer', expected one of: vanilla, aux"},
        {"nweights", EDIT_REPLACE, 11, QS_ERR(MISMATCH), "field 'nweights' is 21099"},
        {"metrics", EDIT_REMOVE, 0, QS_ERR(CHECKSUM), "metadata checksum mismatch"},
        {"spec", EDIT_REMOVE, 0, QS_ERR(FORMAT), "genome: spec: missing"},
        {"version", EDIT_ADD, 0, QS_ERR(FORMAT), "field 'version' appears twice"},
    };
    return cr_make_param_array(edit_case_t, cases, sizeof cases / sizeof cases[0]);
}

ParameterizedTest(edit_case_t *c, genome, edited_fields)
{
    qs_quine_spec_t s = pt_paper_aux();
    qs_genome_t g, h;
    qs_genome_init(&g, &s);
    g.metrics.present = 1;
    qs_bytes_t b;
    qs_bytes_init(&b);
    pack_edited(&b, &g, c->key, c->how, packers[c->which]);
    qs_error_t err = {0, ""};
    int rc = qs_genome_decode(&h, b.data, b.len, &err);
    cr_assert_eq(rc, c->code, "%s: got %d: %s", c->key, rc, err.msg);
    if (rc == 0) {
        cr_assert_eq(h.nweights, 21100);
        cr_assert_eq(h.metrics.present, c->how != EDIT_REMOVE);
        qs_genome_destroy(&h);
    } else {
        cr_assert(strstr(err.msg, c->needle), "message '%s' lacks '%s'", err.msg, c->needle);
        cr_assert_eq(strncmp(err.msg, "genome", 6), 0, "%s", err.msg);
    }
    qs_bytes_destroy(&b);
    qs_genome_destroy(&g);
}

Test(genome, not_a_map)
{
    qs_genome_t g;
    qs_error_t err;
    uint8_t arr[] = {0x91, 0x01};
    cr_assert_eq(qs_genome_decode(&g, arr, sizeof arr, &err), QS_ERR(FORMAT));
    cr_assert(strstr(err.msg, "expected a MessagePack map, got an array"), "%s", err.msg);
    cr_assert_eq(qs_genome_decode(&g, arr, 0, &err), QS_ERR(TRUNCATED));
}

/* ---- Files --------------------------------------------------------------------------- */

static char dir[64];

static void mkdir_setup(void)
{
    tu_tmpdir(dir, sizeof dir);
}

static void mkdir_teardown(void)
{
    tu_rmrf(dir);
}

TestSuite(genome_file, .init = mkdir_setup, .fini = mkdir_teardown);

static int count_entries(const char *d)
{
    DIR *dp = opendir(d);
    int n = 0;
    struct dirent *e;
    while ((e = readdir(dp)))
        n += e->d_name[0] != '.';
    closedir(dp);
    return n;
}

Test(genome_file, save_load_roundtrip_leaves_no_temporary)
{
    char path[128];
    snprintf(path, sizeof path, "%s/best.genome", dir);
    qs_genome_t g, h;
    pt_random_genome(&g, 77, 1);
    qs_error_t err;
    cr_assert_eq(qs_genome_save(&g, path, &err), 0, "%s", err.msg);
    cr_assert_eq(qs_genome_load(&h, path, &err), 0, "%s", err.msg);
    pt_assert_genome_eq(&g, &h);
    qs_genome_destroy(&h);
    /* overwrite in place */
    g.id = 99;
    cr_assert_eq(qs_genome_save(&g, path, &err), 0, "%s", err.msg);
    cr_assert_eq(qs_genome_load(&h, path, &err), 0, "%s", err.msg);
    cr_assert_eq(h.id, 99);
    cr_assert_eq(count_entries(dir), 1);
    qs_genome_destroy(&h);
    qs_genome_destroy(&g);
}

Test(genome_file, load_errors_name_the_file)
{
    char path[128], msg[600];
    qs_genome_t g;
    qs_error_t err;
    snprintf(path, sizeof path, "%s/missing.genome", dir);
    cr_assert_eq(qs_genome_load(&g, path, &err), QS_ERR(NOENT));
    cr_assert(strstr(err.msg, path), "%s", err.msg);

    snprintf(path, sizeof path, "%s/empty.genome", dir);
    tu_write_file(path, "", 0);
    cr_assert_eq(qs_genome_load(&g, path, &err), QS_ERR(FORMAT));
    cr_assert(strstr(err.msg, path) && strstr(err.msg, "empty"), "%s", err.msg);

    snprintf(path, sizeof path, "%s/framed.genome", dir);
    qs_bytes_t b;
    qs_bytes_init(&b);
    qs_frame_append(&b, (const uint8_t *)"\x80", 1);
    tu_write_file(path, b.data, b.len);
    cr_assert_eq(qs_genome_load(&g, path, &err), QS_ERR(FORMAT));
    cr_assert(strstr(err.msg, "framed"), "%s", err.msg);

    /* a genome cut short: the message has the path and says what is wrong */
    qs_genome_t src;
    pt_random_genome(&src, 3, 0);
    qs_bytes_clear(&b);
    qs_genome_encode(&src, &b);
    snprintf(path, sizeof path, "%s/torn.genome", dir);
    tu_write_file(path, b.data, b.len - 10);
    cr_assert_eq(qs_genome_load(&g, path, &err), QS_ERR(TRUNCATED));
    snprintf(msg, sizeof msg, "%s: genome: ", path);
    cr_assert_eq(strncmp(err.msg, msg, strlen(msg)), 0, "%s", err.msg);

    cr_assert_eq(qs_genome_load(&g, dir, &err), QS_ERR(INVAL)); /* a folder */
    cr_assert(strstr(err.msg, "not a regular file"), "%s", err.msg);
    qs_genome_destroy(&src);
    qs_bytes_destroy(&b);
}

Test(genome_file, save_into_missing_folder_fails_cleanly)
{
    char path[160];
    snprintf(path, sizeof path, "%s/no/such/dir/x.genome", dir);
    qs_genome_t g;
    pt_random_genome(&g, 1, 0);
    qs_error_t err;
    cr_assert_lt(qs_genome_save(&g, path, &err), 0);
    cr_assert(strstr(err.msg, "/no/such/dir/x.genome"), "%s", err.msg);
    cr_assert_eq(count_entries(dir), 0);
    qs_genome_destroy(&g);
}

Test(genome_file, read_all_limit)
{
    char path[128];
    snprintf(path, sizeof path, "%s/big", dir);
    tu_write_file(path, "0123456789", 10);
    qs_bytes_t b;
    qs_bytes_init(&b);
    qs_error_t err;
    cr_assert_eq(qs_file_read_all(path, 9, &b, &err), QS_ERR(TOOBIG));
    cr_assert_eq(b.len, 0);
    cr_assert_eq(qs_file_read_all(path, 10, &b, &err), 0);
    cr_assert_eq(b.len, 10);
    qs_bytes_destroy(&b);
}

static void pack_v1(msgpack_packer *pk)
{
    msgpack_pack_uint64(pk, 1);
}

/* A genome as version 1 wrote it: version 1, no meta_crc32. */
static void version1(qs_bytes_t *out, const qs_bytes_t *v2)
{
    qs_bytes_t t;
    qs_bytes_init(&t);
    pt_edit_payload(&t, v2->data, v2->len, "version", PT_REPLACE, pack_v1);
    pt_edit_payload(out, t.data, t.len, "meta_crc32", PT_REMOVE, NULL);
    qs_bytes_destroy(&t);
}

Test(genome, coord_scale_optional_for_older_files)
{
    qs_quine_spec_t s = pt_paper_aux();
    s.coord_scale = 0.1f;
    qs_genome_t g, h;
    qs_genome_init(&g, &s);
    qs_bytes_t b, e;
    qs_bytes_init(&b);
    qs_bytes_init(&e);
    qs_genome_encode(&g, &b);
    qs_error_t err;
    cr_assert_eq(qs_genome_decode(&h, b.data, b.len, &err), 0, "%s", err.msg);
    cr_assert_eq(h.spec.coord_scale, 0.1f);
    qs_genome_destroy(&h);
    version1(&e, &b);
    qs_bytes_clear(&b);
    pt_edit_payload(&b, e.data, e.len, "spec.coord_scale", PT_REMOVE, NULL);
    cr_assert_eq(qs_genome_decode(&h, b.data, b.len, &err), 0, "%s", err.msg);
    cr_assert_eq(h.spec.coord_scale, 0.0f); /* 0 reads as the default, 1 */
    qs_genome_destroy(&h);
    qs_genome_destroy(&g);
    qs_bytes_destroy(&b);
    qs_bytes_destroy(&e);
}

/* Issue 16: a flipped bit in the metadata (here spec.proj_seed, which would make another
 * network) fails the metadata checksum; a version 1 file, which has none, still reads. */
Test(genome, metadata_checksum)
{
    qs_quine_spec_t s = pt_paper_aux();
    qs_genome_t g, h;
    qs_genome_init(&g, &s);
    g.id = 42;
    g.generation = 7;
    g.metrics.present = 1;
    g.metrics.accuracy = 0.5;
    qs_bytes_t b, v1;
    qs_bytes_init(&b);
    qs_bytes_init(&v1);
    qs_genome_encode(&g, &b);
    qs_error_t err;
    cr_assert_eq(qs_genome_decode(&h, b.data, b.len, &err), 0, "%s", err.msg);
    qs_genome_destroy(&h);
    version1(&v1, &b);
    /* every single-bit flip of the proj_seed's, generation's and accuracy's values */
    static const char *const keys[] = {"proj_seed", "generation", "accuracy"};
    for (size_t f = 0; f < sizeof keys / sizeof keys[0]; f++) {
        size_t klen = strlen(keys[f]), at = 0;
        while (at + klen <= b.len && memcmp(b.data + at, keys[f], klen) != 0)
            at++;
        cr_assert(at + klen < b.len, "%s", keys[f]);
        size_t pos = at + klen, from = pos + 1, len;
        uint8_t type = b.data[pos], mask = 0xff;
        if (type < 0x80) { /* a positive fixint: the value is in the type byte */
            from = pos;
            len = 1;
            mask = 0x7f;
        } else {
            cr_assert(type >= 0xca && type <= 0xcf, "%s: type %02x", keys[f], type);
            static const size_t width[] = {4, 8, 1, 2, 4, 8}; /* 0xca .. 0xcf */
            len = width[type - 0xca];
        }
        for (size_t i = from; i < from + len; i++)
            for (int bit = 0; bit < 8; bit++) {
                if (!(mask & (1u << bit)))
                    continue;
                b.data[i] ^= (uint8_t)(1u << bit);
                int rc = qs_genome_decode(&h, b.data, b.len, &err);
                b.data[i] ^= (uint8_t)(1u << bit);
                cr_assert_eq(rc, QS_ERR(CHECKSUM), "%s: byte %zu bit %d: %d", keys[f], i, bit, rc);
                cr_assert(strstr(err.msg, "metadata checksum mismatch"), "%s", err.msg);
            }
    }
    cr_assert_eq(qs_genome_decode(&h, v1.data, v1.len, &err), 0, "version 1: %s", err.msg);
    cr_assert_eq(h.id, 42);
    cr_assert_eq(h.generation, 7);
    qs_genome_destroy(&h);
    qs_genome_destroy(&g);
    qs_bytes_destroy(&b);
    qs_bytes_destroy(&v1);
}
