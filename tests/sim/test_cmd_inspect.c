/* Tests for `quinesim inspect` (the program itself): a genome, a lineage log and a
 * checkpoint printed as JSON with exit status 0; --weights; a damaged lineage log printed
 * as far as it goes with exit status 1 and the problem on stderr; clear errors (exit 1)
 * for missing, foreign and corrupt files; usage errors exit 2. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "proto/checkpoint.h"
#include "proto/genome.h"
#include "proto/lineage.h"
#include "tests/testutil.h"

static char dir[256];

static void setup(void)
{
    tu_tmpdir(dir, sizeof dir);
}

static void teardown(void)
{
    tu_rmrf(dir);
}

TestSuite(cmd_inspect, .init = setup, .fini = teardown, .timeout = 30);

/* Run `quinesim inspect ARGS`, stdout only into *out (stderr into *errout). */
static int inspect(const char *args, char **out, char **errout)
{
    char cmd[1024], errpath[300];
    snprintf(errpath, sizeof errpath, "%s/stderr", dir);
    snprintf(cmd, sizeof cmd, "%s inspect %s 2>%s", tu_bin(), args, errpath);
    FILE *p = popen(cmd, "r");
    cr_assert_not_null(p);
    size_t cap = 1 << 16, n = 0, got;
    char *buf = malloc(cap);
    while ((got = fread(buf + n, 1, cap - n - 1, p)) > 0) {
        n += got;
        if (cap - n - 1 == 0)
            buf = realloc(buf, cap *= 2);
    }
    buf[n] = '\0';
    int st = pclose(p);
    *out = buf;
    *errout = tu_read_file(errpath, NULL);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static void save_genome(const char *path)
{
    qs_quine_spec_t s = qs_quine_spec_default(QS_KIND_AUX, 9);
    qs_genome_t g;
    qs_genome_init(&g, &s);
    for (uint32_t i = 0; i < g.nweights; i++)
        g.weights[i] = (float)(i % 7) - 3.0f; /* mean about 0, min -3, max 3 */
    g.id = 17;
    snprintf(g.species, sizeof g.species, "aux");
    qs_error_t err;
    cr_assert_eq(qs_genome_save(&g, path, &err), 0, "%s", err.msg);
    qs_genome_destroy(&g);
}

Test(cmd_inspect, genome)
{
    char path[300], args[400], *out, *err;
    snprintf(path, sizeof path, "%s/best.genome", dir);
    save_genome(path);
    cr_assert_eq(inspect(path, &out, &err), 0, "%s", err);
    cr_assert(strstr(out, "\"format\": \"quinesim.genome\""), "%s", out);
    cr_assert(strstr(out, "\"id\": 17"), "%s", out);
    cr_assert(strstr(out, "\"count\": 21100"), "%s", out);
    cr_assert(strstr(out, "\"min\": -3,") && strstr(out, "\"max\": 3,"), "%s", out);
    cr_assert(strstr(out, "\"checksum_ok\": true"), "%s", out);
    cr_assert_null(strstr(out, "\"values\""));
    free(out);
    free(err);
    snprintf(args, sizeof args, "%s --weights", path);
    cr_assert_eq(inspect(args, &out, &err), 0, "%s", err);
    cr_assert(strstr(out, "\"values\": [-3,-2,-1,0,1,2,3,-3,"), "%.300s", out);
    free(out);
    free(err);
}

Test(cmd_inspect, lineage_and_damaged_lineage)
{
    char path[300], *out, *err;
    snprintf(path, sizeof path, "%s/lineage.msgpack", dir);
    qs_bytes_t b;
    qs_bytes_init(&b);
    qs_record_t r;
    memset(&r, 0, sizeof r);
    r.type = QS_REC_HEADER;
    r.u.header.scenario = "[run]\n";
    qs_record_encode(&r, &b);
    for (int i = 1; i <= 3; i++) {
        memset(&r, 0, sizeof r);
        r.type = QS_REC_DEATH;
        r.u.death.id = (uint64_t)i;
        r.u.death.cause = QS_DEATH_SELECTION;
        qs_record_encode(&r, &b);
    }
    tu_write_file(path, b.data, b.len);
    cr_assert_eq(inspect(path, &out, &err), 0, "%s", err);
    cr_assert(
        strstr(out, "{\"type\":\"death\",\"id\":3,\"generation\":0,\"cause\":\"selection\"}\n"),
        "%s", out);
    free(out);
    free(err);
    tu_write_file(path, b.data, b.len - 4); /* torn */
    cr_assert_eq(inspect(path, &out, &err), 1);
    cr_assert(strstr(out, "\"id\":2"), "%s", out);
    cr_assert_null(strstr(out, "\"id\":3"), "%s", out);
    cr_assert(strstr(err, "torn tail"), "%s", err);
    free(out);
    free(err);
    qs_bytes_destroy(&b);
}

Test(cmd_inspect, checkpoint)
{
    char path[300], *out, *err;
    snprintf(path, sizeof path, "%s/checkpoint.msgpack", dir);
    qs_checkpoint_t c;
    memset(&c, 0, sizeof c);
    c.scenario = "[run]\nseed = 3\n";
    c.seed = 3;
    c.generation = 5;
    c.next_id = 40;
    c.norgs = 1;
    qs_ckpt_org_t org;
    memset(&org, 0, sizeof org);
    float w[4] = {1, 2, 3, 4};
    org.id = 39;
    org.accuracy = NAN;
    org.nweights = 4;
    org.weights = w;
    c.orgs = &org;
    qs_error_t e;
    cr_assert_eq(qs_checkpoint_save(&c, path, &e), 0, "%s", e.msg);
    cr_assert_eq(inspect(path, &out, &err), 0, "%s", err);
    cr_assert(strstr(out, "\"format\": \"quinesim.checkpoint\""), "%s", out);
    cr_assert(strstr(out, "\"generation\": 5"), "%s", out);
    cr_assert(strstr(out, "\"id\": 39"), "%s", out);
    cr_assert(strstr(out, "\"mean\": 2.5"), "%s", out);
    cr_assert(strstr(out, "\"best\": null"), "%s", out);
    free(out);
    free(err);
}

Test(cmd_inspect, errors_and_usage)
{
    char path[300], *out, *err;
    snprintf(path, sizeof path, "%s/nope", dir);
    cr_assert_eq(inspect(path, &out, &err), 1);
    cr_assert(strstr(err, "cannot open"), "%s", err);
    free(out);
    free(err);
    snprintf(path, sizeof path, "%s/text", dir);
    tu_write_file(path, "just text\n", 10);
    cr_assert_eq(inspect(path, &out, &err), 1);
    cr_assert(strstr(err, "not a quinesim file"), "%s", err);
    cr_assert_str_eq(out, "");
    free(out);
    free(err);
    cr_assert_eq(inspect("", &out, &err), 2);
    cr_assert(strstr(err, "quinesim inspect: which file?"), "%s", err);
    cr_assert(strstr(err, "(see quinesim inspect --help)"), "%s", err);
    free(out);
    free(err);
    cr_assert_eq(inspect("a b", &out, &err), 2);
    free(out);
    free(err);
    cr_assert_eq(inspect("--help", &out, &err), 0);
    cr_assert(strstr(out, "quinesim.genome quinesim.lineage quinesim.checkpoint"), "%s", out);
    free(out);
    free(err);
}
