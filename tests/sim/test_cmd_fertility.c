/* Tests for `quinesim fertility` (sim/cmd_fertility.c), run as child processes on small
 * networks saved by `quinesim train`. */
#include <criterion/criterion.h>
#include <math.h>
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

TestSuite(cmd_fertility, .init = setup, .fini = teardown, .timeout = 120);

static int qs(const char *args, char **out)
{
    char cmd[4096];
    snprintf(cmd, sizeof cmd, "%s %s", tu_bin(), args);
    return tu_run(cmd, out);
}

static unsigned count(const char *s, const char *needle)
{
    unsigned n = 0;
    for (const char *p = s; (p = strstr(p, needle)); p++)
        n++;
    return n;
}

/* Every "rms" of a --json lineage equals generation 0's within tol (relative); returns how
 * many there are. */
static unsigned expect_rms_kept(const char *out, double tol)
{
    const char *p = out;
    double rms0 = -1;
    unsigned rows = 0;
    while ((p = strstr(p, "\"rms\":"))) {
        double rms = strtod(p + 6, NULL);
        if (rms0 < 0)
            rms0 = rms;
        cr_expect_lt(fabs(rms - rms0), tol * rms0, "rms %g, generation 0 %g", rms, rms0);
        rows++;
        p++;
    }
    return rows;
}

Test(cmd_fertility, json_has_one_object_per_generation)
{
    char args[1024], *out;
    snprintf(args, sizeof args,
             "train --model vanilla --hidden 8 --epochs 3 --save %s/v.genome > /dev/null", dir);
    cr_assert_eq(qs(args, NULL), 0);
    snprintf(args, sizeof args, "fertility %s/v.genome --generations 3 --json --power-iters 8",
             dir);
    cr_assert_eq(qs(args, &out), 0, "%s", out);
    cr_expect_eq(count(out, "\"generation\":"), 4, "generations 0..3: %s", out);
    cr_expect_eq(count(out, "\"lineage\":\"intact\""), 4);
    cr_expect(strstr(out, "\"generation\":0,\"link_r2\":"), "%s", out);
    cr_expect(strstr(out, "\"drift_r2\":1,"), "generation 0 against itself: %s", out);
    cr_expect(strstr(out, "\"rms\":"));
    cr_expect(!strstr(out, "\"acc\""), "no accuracy for vanilla");
    cr_expect(strstr(out, "\"spectral_radius\":"), "%s", out);
    cr_expect(strstr(out, "\"power_iters\":8"), "%s", out);
    free(out);

    /* Damage adds the damaged lineage; the text form names both and the radius. */
    snprintf(args, sizeof args, "fertility %s/v.genome --generations 2 --damage 0.3 --json", dir);
    cr_assert_eq(qs(args, &out), 0, "%s", out);
    cr_expect_eq(count(out, "\"lineage\":\"damaged\""), 3, "%s", out);
    cr_expect(!strstr(out, "\"lineage\":\"damaged\",\"generation\":0,\"link_r2\":1,"));
    free(out);
    snprintf(args, sizeof args, "fertility %s/v.genome --generations 2 --damage 0.3", dir);
    cr_assert_eq(qs(args, &out), 0, "%s", out);
    cr_expect(strstr(out, "intact") && strstr(out, "damaged") && strstr(out, "lowest link R^2"),
              "%s", out);
    cr_expect(strstr(out, "spectral radius of dT/dtheta"), "%s", out);
    free(out);
}

Test(cmd_fertility, aux_reports_accuracy)
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
             "fertility %s/x.genome --generations 1 --json --data %s --test-count 100 "
             "--power-iters 0",
             dir, data);
    cr_assert_eq(qs(args, &out), 0, "%s", out);
    cr_expect_eq(count(out, "\"acc\":"), 2, "%s", out);
    cr_expect(!strstr(out, "spectral_radius"), "--power-iters 0 skips it");
    free(out);
}

Test(cmd_fertility, bad_arguments)
{
    char *out;
    struct {
        const char *args, *needle;
        int rc;
    } bad[] = {
        {"fertility", "genome", 2},
        {"fertility x.genome --generations -1", "--generations", 2},
        {"fertility x.genome --damage 2", "--damage", 2},
        {"fertility x.genome --mode fire", "--mode", 2},
        {"fertility x.genome --regen scaled", "--regen", 2},
        {"fertility x.genome --bogus", "--bogus", 2},
        {"fertility x.genome --power-iters", "--power-iters", 2},
        {"fertility a.genome b.genome", "b.genome", 2},
        {"fertility /nonexistent/x.genome", "/nonexistent/x.genome", 1},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        cr_expect_eq(qs(bad[i].args, &out), bad[i].rc, "%s", bad[i].args);
        cr_expect(strstr(out, bad[i].needle), "'%s': %s", bad[i].args, out);
        cr_expect(strstr(out, "quinesim fertility: "), "'%s': %s", bad[i].args, out);
        if (bad[i].rc == 2)
            cr_expect(strstr(out, "(see quinesim fertility --help)"), "%s", out);
        free(out);
    }
    cr_expect_eq(qs("fertility --help", &out), 0);
    cr_expect(strstr(out, "--generations"));
    free(out);
}

/* `quinesim train --fertile`: the fertility objective's steps, their figures in the
 * report, and --recipe. */
Test(cmd_fertility, train_takes_fertile_steps)
{
    char args[1024], *out;
    snprintf(args, sizeof args,
             "train --model vanilla --hidden 8 --epochs 2 --fertile 3 --fertile-only --json "
             "--save %s/f.genome",
             dir);
    cr_assert_eq(qs(args, &out), 0, "%s", out);
    cr_expect_eq(count(out, "\"fertile_loss\":"), 3, "%s", out);
    cr_expect(strstr(out, "\"rho_power\":"), "%s", out);
    cr_expect_eq(count(out, "\"steps\":0,"), 3, "--fertile-only takes no ordinary step: %s", out);
    free(out);
    /* The recipe is fertile-only; an explicit option still applies. */
    snprintf(args, sizeof args,
             "train --from %s/f.genome --recipe fertile --fertile 2 --epochs 1 --json", dir);
    cr_assert_eq(qs(args, &out), 0, "%s", out);
    cr_expect_eq(count(out, "\"fertile_loss\":"), 2, "%s", out);
    cr_expect_eq(count(out, "\"steps\":0,"), 2, "%s", out);
    free(out);
    /* Levenberg-Marquardt steps on copy + contraction stand alone too. */
    snprintf(args, sizeof args,
             "train --from %s/f.genome --fertile-only --fertile-newton 1 --epochs 1 --json", dir);
    cr_assert_eq(qs(args, &out), 0, "%s", out);
    cr_expect_eq(count(out, "\"rho_power\":"), 2, "%s", out);
    free(out);
    struct {
        const char *args, *needle;
    } bad[] = {
        {"train --model vanilla --recipe fast", "--recipe"},
        {"train --model vanilla --fertile-only", "--fertile-only"},
        {"train --model vanilla --fertile 1 --fertile-gens 9", "--fertile-gens"},
        {"train --model vanilla --fertile 1 --fertile-noise -1", "--fertile-noise"},
        {"train --model vanilla --fertile 1 --fertile-regen scaled", "--fertile-regen"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        cr_expect_eq(qs(bad[i].args, &out), 2, "%s", bad[i].args);
        cr_expect(strstr(out, bad[i].needle), "'%s': %s", bad[i].args, out);
        free(out);
    }
}

/* --regen standardize keeps each layer's spread: the lineage's rms stays the genome's. */
Test(cmd_fertility, standardized_lineage_keeps_the_scale)
{
    char args[1024], *out;
    snprintf(args, sizeof args,
             "train --model vanilla --hidden 8 --epochs 2 --save %s/s.genome > /dev/null", dir);
    cr_assert_eq(qs(args, NULL), 0);
    snprintf(args, sizeof args,
             "fertility %s/s.genome --generations 4 --regen standardize --json --power-iters 0",
             dir);
    cr_assert_eq(qs(args, &out), 0, "%s", out);
    /* every group keeps its mean and spread, so the whole genome's rms is kept */
    cr_expect_eq(expect_rms_kept(out, 1e-4), 5, "%s", out);
    free(out);
}

/* A binary genome from `train --binary --loss hinge`, followed under sign regeneration:
 * every generation keeps the rms (each layer's a_l is inherited), the radius text says the
 * map is piecewise constant, the JSON carries the rms singular value (0 here, positive for
 * plain regeneration), and the fertile objectives refuse sign offspring. */
Test(cmd_fertility, binary_genome_under_sign_regeneration)
{
    char args[1024], *out;
    snprintf(args, sizeof args,
             "train --model vanilla --hidden 8 --epochs 3 --binary --loss hinge --optimizer adam "
             "--lr 1e-3 --save %s/b.genome > /dev/null",
             dir);
    cr_assert_eq(qs(args, NULL), 0);
    snprintf(args, sizeof args, "fertility %s/b.genome --generations 3 --regen sign --json", dir);
    cr_assert_eq(qs(args, &out), 0, "%s", out);
    cr_expect_eq(expect_rms_kept(out, 1e-6), 4, "%s", out);
    cr_expect(strstr(out, "\"spectral_radius\":0,"), "%s", out);
    cr_expect(strstr(out, "\"gain\":0}"), "%s", out);
    free(out);
    snprintf(args, sizeof args, "fertility %s/b.genome --generations 1 --regen sign", dir);
    cr_assert_eq(qs(args, &out), 0, "%s", out);
    cr_expect(strstr(out, "piecewise constant"), "%s", out);
    free(out);
    /* plain regeneration of the same genome: a positive rms singular value */
    snprintf(args, sizeof args, "fertility %s/b.genome --generations 1 --json", dir);
    cr_assert_eq(qs(args, &out), 0, "%s", out);
    const char *p = strstr(out, "\"gain\":");
    cr_assert(p, "%s", out);
    cr_expect_gt(strtod(p + 7, NULL), 0, "%s", out);
    free(out);
    /* the fertile objectives refuse sign offspring */
    snprintf(args, sizeof args,
             "train --from %s/b.genome --fertile-only --fertile 2 --epochs 1 --fertile-regen sign",
             dir);
    cr_expect_eq(qs(args, &out), 2, "%s", out);
    cr_expect(strstr(out, "sign offspring have no gradient"), "%s", out);
    free(out);
}
