/* Tests for `quinesim repair` (sim/cmd_repair.c) and the genome side of `quinesim train`
 * (--save, --from), run as child processes on small networks. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

TestSuite(cmd_repair, .init = setup, .fini = teardown, .timeout = 120);

static int qs(const char *args, char **out)
{
    char cmd[4096];
    snprintf(cmd, sizeof cmd, "%s %s", tu_bin(), args);
    return tu_run(cmd, out);
}

/* The value of "key": in the last line of out that has it. */
static double last_value(const char *out, const char *key)
{
    char pat[64];
    snprintf(pat, sizeof pat, "\"%s\":", key);
    const char *p = out, *hit = NULL;
    while ((p = strstr(p, pat))) {
        hit = p;
        p++;
    }
    cr_assert(hit, "no %s in %s", key, out);
    return strtod(hit + strlen(pat), NULL);
}

Test(cmd_repair, save_then_continue_from_the_genome)
{
    char args[1024], *out, *out2;
    snprintf(args, sizeof args,
             "train --model vanilla --hidden 8 --epochs 3 --json --save %s/a.genome", dir);
    cr_assert_eq(qs(args, &out), 0, "%s", out);
    double l_sr = last_value(out, "l_sr");
    snprintf(args, sizeof args, "train --from %s/a.genome --epochs 0 --json", dir);
    cr_assert_eq(qs(args, &out2), 0, "%s", out2);
    cr_expect_eq(last_value(out2, "l_sr"), l_sr, "the saved weights are the trained ones");
    free(out);
    free(out2);
    snprintf(args, sizeof args, "train --model aux --from %s/a.genome", dir);
    cr_expect_eq(qs(args, &out), 2);
    cr_expect(strstr(out, "vanilla"), "%s", out);
    free(out);
    snprintf(args, sizeof args, "train --from %s/missing.genome", dir);
    cr_expect_eq(qs(args, &out), 1);
    cr_expect(strstr(out, "missing.genome"), "%s", out);
    free(out);
}

Test(cmd_repair, a_shrinking_quine_is_told_it_cannot_repair_itself)
{
    char args[1024], *out;
    snprintf(args, sizeof args,
             "train --model vanilla --hidden 8 --epochs 5 --save %s/v.genome > /dev/null", dir);
    cr_assert_eq(qs(args, NULL), 0);
    snprintf(args, sizeof args, "repair %s/v.genome --damage 0.25 --cycles 2 --json", dir);
    cr_assert_eq(qs(args, &out), 0, "%s", out);
    cr_expect(strstr(out, "\"stage\":\"original\""));
    cr_expect(strstr(out, "\"stage\":\"damaged\""));
    cr_expect(strstr(out, "\"stage\":\"cycle\",\"cycle\":2"));
    cr_expect(strstr(out, "\"good_replicator\":false"), "%s", out);
    cr_expect(strstr(out, "not a good enough replicator"), "%s", out);
    /* 25% of 136 weights = 34 zeroed: dist = |damage|^2 / |theta|^2 is in (0, 1). */
    const char *dmg = strstr(out, "\"stage\":\"damaged\"");
    double dist = strtod(strstr(dmg, "\"dist\":") + 7, NULL);
    cr_expect(dist > 0.05 && dist < 0.6, "dist %g", dist);
    free(out);

    /* Same seed, same damage; the table form says the same. */
    snprintf(args, sizeof args, "repair %s/v.genome --damage 0.25 --cycles 1 --mode noise", dir);
    cr_assert_eq(qs(args, &out), 0, "%s", out);
    cr_expect(strstr(out, "original") && strstr(out, "cycle 1") && strstr(out, "verdict:"), "%s",
              out);
    free(out);
}

Test(cmd_repair, bad_arguments)
{
    char *out;
    struct {
        const char *args, *needle;
        int rc;
    } bad[] = {
        {"repair", "genome", 2},
        {"repair x.genome", "--damage", 2},
        {"repair x.genome --damage 1.5", "--damage", 2},
        {"repair x.genome --damage 0.1 --mode fire", "--mode", 2},
        {"repair x.genome --damage 0.1 --cycles -1", "--cycles", 2},
        {"repair /nonexistent/x.genome --damage 0.1", "/nonexistent/x.genome", 1},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        cr_expect_eq(qs(bad[i].args, &out), bad[i].rc, "%s", bad[i].args);
        cr_expect(strstr(out, bad[i].needle), "'%s': %s", bad[i].args, out);
        free(out);
    }
    cr_expect_eq(qs("repair --help", &out), 0);
    cr_expect(strstr(out, "--only-damaged"));
    free(out);
}

Test(cmd_repair, aux_reports_accuracy)
{
    const char *data = tu_data();
    if (!data)
        cr_skip_test("no data/mnist");
    char args[2048], *out;
    snprintf(args, sizeof args,
             "train --model aux --hidden 16 --epochs 1 --train-count 300 --test-count 100 "
             "--data %s --save %s/x.genome > /dev/null",
             data, dir);
    cr_assert_eq(qs(args, NULL), 0);
    snprintf(args, sizeof args,
             "repair %s/x.genome --damage 0.5 --cycles 1 --json --data %s --test-count 100", dir,
             data);
    cr_assert_eq(qs(args, &out), 0, "%s", out);
    cr_expect(strstr(out, "\"acc\":"), "%s", out);
    free(out);
}
