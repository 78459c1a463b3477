/* Tests for proto/inspect: files recognised by content; a genome printed as one JSON
 * object with its weights summarised (and every value with --weights); a lineage log as
 * JSON Lines, with corruption reported and the readable records still printed; clear
 * errors for empty, foreign, unknown-format and corrupt files. The output is checked to
 * parse with Python's json module when python3 is there. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto/inspect.h"
#include "tests/proto/proto_test.h"
#include "tests/testutil.h"

static char dir[64];
static void setup(void)
{
    tu_tmpdir(dir, sizeof dir);
}
static void teardown(void)
{
    tu_rmrf(dir);
}
TestSuite(inspect, .init = setup, .fini = teardown);

/* Run inspect on path; returns rc, *out the output (malloc'ed), warnings in *warn. */
static int run(const char *path, int weights, char **out, char **warn, qs_error_t *err)
{
    size_t ol = 0, wl = 0;
    *out = NULL;
    *warn = NULL;
    FILE *o = open_memstream(out, &ol), *w = open_memstream(warn, &wl);
    qs_inspect_opts_t opts = {weights};
    int rc = qs_inspect_file(path, &opts, o, w, err);
    fclose(o);
    fclose(w);
    return rc;
}

/* If python3 is available: does text parse as JSON (lines = 1: every line)? */
static void assert_json(const char *text, int lines)
{
    if (tu_run("python3 -c 'import json'", NULL) != 0)
        return;
    char path[128], cmd[512];
    snprintf(path, sizeof path, "%s/out.json", dir);
    tu_write_file(path, text, strlen(text));
    snprintf(cmd, sizeof cmd,
             lines ? "python3 -c 'import json,sys\nfor l in open(sys.argv[1]): json.loads(l)' %s"
                   : "python3 -c 'import json,sys; json.load(open(sys.argv[1]))' %s",
             path);
    char *msg;
    int st = tu_run(cmd, &msg);
    cr_assert_eq(st, 0, "not valid JSON: %s\n%s", msg, text);
    free(msg);
}

Test(inspect, genome_summary_and_weights)
{
    qs_quine_spec_t s = pt_spec(QS_KIND_VANILLA, 4, 1, 77);
    qs_genome_t g;
    qs_genome_init(&g, &s);
    cr_assert_eq(g.nweights, 20);
    for (uint32_t i = 0; i < g.nweights; i++)
        g.weights[i] = (float)i; /* mean 9.5, std sqrt(33.25), min 0, max 19 */
    g.weights[19] = NAN;         /* excluded from the statistics, counted */
    g.id = 7;
    g.nparents = 2;
    g.parents[0] = 3;
    g.parents[1] = 5;
    snprintf(g.species, sizeof g.species, "s\"1");
    g.metrics.present = 1;
    g.metrics.accuracy = NAN;
    g.metrics.l_sr = 2.5;
    char path[128];
    snprintf(path, sizeof path, "%s/x.genome", dir);
    qs_error_t err;
    cr_assert_eq(qs_genome_save(&g, path, &err), 0, "%s", err.msg);
    char *out, *warn;
    cr_assert_eq(run(path, 0, &out, &warn, &err), 0, "%s", err.msg);
    assert_json(out, 0);
    cr_assert(strstr(out, "\"format\": \"quinesim.genome\""), "%s", out);
    cr_assert(strstr(out, "\"id\": 7"), "%s", out);
    cr_assert(strstr(out, "\"species\": \"s\\\"1\""), "%s", out);
    cr_assert(strstr(out, "\"count\": 20"), "%s", out);
    cr_assert(strstr(out, "\"mean\": 9,"), "%s", out); /* 0..18: mean 9 */
    cr_assert(strstr(out, "\"min\": 0,"), "%s", out);
    cr_assert(strstr(out, "\"max\": 18,"), "%s", out);
    cr_assert(strstr(out, "\"nonfinite\": 1"), "%s", out);
    cr_assert(strstr(out, "\"checksum_ok\": true"), "%s", out);
    cr_assert(strstr(out, "\"accuracy\": null"), "%s", out);
    cr_assert(strstr(out, "\"l_sr\": 2.5"), "%s", out);
    cr_assert_null(strstr(out, "\"values\""));
    free(out);
    free(warn);
    cr_assert_eq(run(path, 1, &out, &warn, &err), 0, "%s", err.msg);
    assert_json(out, 0);
    cr_assert(strstr(out, "\"values\": [0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,null]"),
              "%s", out);
    free(out);
    free(warn);
    qs_genome_destroy(&g);
}

static void write_log(const char *path, int damage_middle, int torn)
{
    qs_bytes_t b;
    qs_bytes_init(&b);
    qs_record_t r;
    memset(&r, 0, sizeof r);
    r.type = QS_REC_HEADER;
    snprintf(r.u.header.run_name, sizeof r.u.header.run_name, "t");
    r.u.header.nspecies = 1;
    snprintf(r.u.header.species[0], QS_NAME_MAX, "a");
    r.u.header.species_params[0] = 20100;
    r.u.header.scenario = "[run]\nname = \"t\"\n";
    qs_record_encode(&r, &b);
    size_t mid = 0;
    for (int i = 1; i <= 5; i++) {
        memset(&r, 0, sizeof r);
        r.type = QS_REC_BIRTH;
        r.u.birth.id = (uint64_t)i;
        r.u.birth.parent = (uint64_t)i - 1;
        r.u.birth.mutation_sigma = 0.01;
        if (i == 3)
            mid = b.len;
        qs_record_encode(&r, &b);
    }
    if (damage_middle)
        b.data[mid + QS_FRAME_HEADER + 4] ^= 0x10;
    if (torn)
        b.len -= 3;
    tu_write_file(path, b.data, b.len);
    qs_bytes_destroy(&b);
}

Test(inspect, lineage_as_json_lines)
{
    char path[128];
    snprintf(path, sizeof path, "%s/lineage.msgpack", dir);
    write_log(path, 0, 0);
    char *out, *warn;
    qs_error_t err;
    cr_assert_eq(run(path, 0, &out, &warn, &err), 0, "%s", err.msg);
    assert_json(out, 1);
    int lines = 0;
    for (char *p = out; *p; p++)
        lines += *p == '\n';
    cr_assert_eq(lines, 6);
    cr_assert_eq(strncmp(out, "{\"type\":\"header\",\"format\":\"quinesim.lineage\"", 44), 0, "%s",
                 out);
    cr_assert(strstr(out, "\"scenario\":\"[run]\\nname = \\\"t\\\"\\n\""), "%s", out);
    cr_assert(strstr(out, "{\"type\":\"birth\",\"id\":5,\"parent\":4,"), "%s", out);
    cr_assert(strstr(out, "\"link\":null"), "%s", out);
    cr_assert_str_eq(warn, "");
    free(out);
    free(warn);
}

Test(inspect, damaged_lineage_prints_what_it_can)
{
    char path[128];
    snprintf(path, sizeof path, "%s/lineage.msgpack", dir);
    write_log(path, 1, 1);
    char *out, *warn;
    qs_error_t err;
    int rc = run(path, 0, &out, &warn, &err);
    cr_assert_eq(rc, QS_ERR(CHECKSUM), "%d %s", rc, err.msg);
    cr_assert(strstr(err.msg, "4 records printed; 2 problem(s)"), "%s", err.msg);
    int lines = 0;
    for (char *p = out; *p; p++)
        lines += *p == '\n';
    cr_assert_eq(lines, 4); /* header, births 1, 2, 4 (3 corrupt, 5 torn) */
    cr_assert(strstr(warn, "corrupt data at offset"), "%s", warn);
    cr_assert(strstr(warn, "torn tail"), "%s", warn);
    free(out);
    free(warn);
}

Test(inspect, errors_for_foreign_and_unknown_files)
{
    char path[128], *out, *warn;
    qs_error_t err;
    snprintf(path, sizeof path, "%s/missing", dir);
    cr_assert_eq(run(path, 0, &out, &warn, &err), QS_ERR(NOENT));
    free(out);
    free(warn);

    snprintf(path, sizeof path, "%s/empty", dir);
    tu_write_file(path, "", 0);
    cr_assert_eq(run(path, 0, &out, &warn, &err), QS_ERR(FORMAT));
    cr_assert(strstr(err.msg, "empty file"), "%s", err.msg);
    free(out);
    free(warn);

    snprintf(path, sizeof path, "%s/text", dir);
    tu_write_file(path, "hello\n", 6);
    cr_assert_lt(run(path, 0, &out, &warn, &err), 0);
    cr_assert(strstr(err.msg, "not a quinesim file"), "%s", err.msg);
    cr_assert_str_eq(out, "");
    free(out);
    free(warn);

    /* a map with another format name */
    qs_bytes_t b;
    qs_bytes_init(&b);
    msgpack_packer pk;
    qs_mp_packer_init(&pk, &b);
    msgpack_pack_map(&pk, 1);
    qs_mp_kv_str(&pk, "format", "quinesim.future");
    snprintf(path, sizeof path, "%s/future", dir);
    tu_write_file(path, b.data, b.len);
    cr_assert_eq(run(path, 0, &out, &warn, &err), QS_ERR(FORMAT));
    cr_assert(strstr(err.msg, "unknown format 'quinesim.future' (inspect knows: "
                              "quinesim.genome, quinesim.lineage, quinesim.checkpoint, "
                              "quinesim.archive)"),
              "%s", err.msg);
    free(out);
    free(warn);

    /* the same map framed */
    qs_bytes_t fr;
    qs_bytes_init(&fr);
    qs_frame_append(&fr, b.data, b.len);
    tu_write_file(path, fr.data, fr.len);
    cr_assert_eq(run(path, 0, &out, &warn, &err), QS_ERR(FORMAT));
    cr_assert(strstr(err.msg, "unknown framed format 'quinesim.future'"), "%s", err.msg);
    free(out);
    free(warn);

    /* a known format framed the other way: a bare checkpoint document, a framed genome */
    qs_bytes_clear(&b);
    msgpack_pack_map(&pk, 1);
    qs_mp_kv_str(&pk, "format", "quinesim.checkpoint");
    tu_write_file(path, b.data, b.len);
    cr_assert_eq(run(path, 0, &out, &warn, &err), QS_ERR(FORMAT));
    cr_assert(strstr(err.msg, "a 'quinesim.checkpoint' document without the frame header"), "%s",
              err.msg);
    free(out);
    free(warn);
    qs_bytes_clear(&b);
    msgpack_pack_map(&pk, 1);
    qs_mp_kv_str(&pk, "format", "quinesim.genome");
    qs_bytes_clear(&fr);
    qs_frame_append(&fr, b.data, b.len);
    tu_write_file(path, fr.data, fr.len);
    cr_assert_eq(run(path, 0, &out, &warn, &err), QS_ERR(FORMAT));
    cr_assert(strstr(err.msg, "a 'quinesim.genome' document in a frame"), "%s", err.msg);
    free(out);
    free(warn);

    /* a map without a format */
    qs_bytes_clear(&b);
    msgpack_pack_map(&pk, 0);
    tu_write_file(path, b.data, b.len);
    cr_assert_eq(run(path, 0, &out, &warn, &err), QS_ERR(FORMAT));
    cr_assert(strstr(err.msg, "without a 'format' field"), "%s", err.msg);
    free(out);
    free(warn);

    /* a corrupt genome: the checksum error, with the file name */
    qs_genome_t g;
    pt_random_genome(&g, 4, 0);
    g.weights[g.nweights / 2] = 12345.5f; /* bytes 00 e6 40 46 */
    qs_bytes_clear(&b);
    qs_genome_encode(&g, &b);
    const uint8_t mark[4] = {0x00, 0xe6, 0x40, 0x46};
    size_t at = 0;
    for (size_t i = 0; i + 4 <= b.len && !at; i++)
        if (memcmp(b.data + i, mark, 4) == 0)
            at = i;
    cr_assert_gt(at, 0);
    b.data[at + 1] ^= 1; /* one bit of one weight */
    snprintf(path, sizeof path, "%s/bad.genome", dir);
    tu_write_file(path, b.data, b.len);
    cr_assert_eq(run(path, 0, &out, &warn, &err), QS_ERR(CHECKSUM));
    cr_assert(strstr(err.msg, path) && strstr(err.msg, "checksum mismatch"), "%s", err.msg);
    free(out);
    free(warn);
    qs_genome_destroy(&g);
    qs_bytes_destroy(&b);
    qs_bytes_destroy(&fr);
}
