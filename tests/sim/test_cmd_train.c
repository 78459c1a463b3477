/* Tests for `quinesim train` (sim/cmd_train.c), run as a child process: help, argument
 * errors (exit 2, message naming the option), the JSON keys, determinism of the output,
 * regeneration rows, and an aux run on the real MNIST subset when it is present. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/testutil.h"

static int run(const char *args, char **out)
{
    char cmd[4096];
    snprintf(cmd, sizeof cmd, "%s train %s", tu_bin(), args);
    return tu_run(cmd, out);
}

Test(cmd_train, help_and_bad_arguments, .timeout = 60)
{
    char *out;
    cr_assert_eq(run("--help", &out), 0);
    cr_expect(strstr(out, "--model") && strstr(out, "--regen-every") && strstr(out, "--json"));
    free(out);
    struct {
        const char *args, *needle;
    } bad[] = {
        {"", "--model"},
        {"--model tiny", "--model"},
        {"--model vanilla --epochs -3", "--epochs"},
        {"--model vanilla --epochs 3x", "--epochs"},
        {"--model vanilla --optimizer lbfgs", "--optimizer"},
        {"--model vanilla --loss mae", "--loss"},
        {"--model vanilla --loss none", "none"},
        {"--model vanilla --temperature 0", "--temperature"},
        {"--model vanilla --hidden 1", "--hidden"},
        {"--model vanilla --frobnicate", "--frobnicate"},
        {"--model vanilla --lr", "--lr"},
        {"--model vanilla --epoch-unit images", "aux"},
        {"--model aux --images 5", "separate"},
        {"--model vanilla extra", "extra"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        cr_expect_eq(run(bad[i].args, &out), 2, "'%s' should exit 2", bad[i].args);
        cr_expect(strstr(out, bad[i].needle), "'%s': message should name %s: %s", bad[i].args,
                  bad[i].needle, out);
        free(out);
    }
}

/* The output without the wall-clock fields ("seconds":...,). */
static void strip_seconds(char *s)
{
    char *p;
    while ((p = strstr(s, "\"seconds\":"))) {
        char *q = strchr(p, ',');
        if (!q)
            break;
        memmove(p, q + 1, strlen(q + 1) + 1);
    }
}

static const char *small = "--model vanilla --hidden 8 --depth 2 --epochs 3 --json --seed 5";

Test(cmd_train, json_rows_are_complete_and_deterministic, .timeout = 60)
{
    char *a, *b;
    cr_assert_eq(run(small, &a), 0, "%s", a);
    cr_assert_eq(run(small, &b), 0);
    cr_expect(strstr(a, "\"seconds\":"));
    strip_seconds(a);
    strip_seconds(b);
    cr_expect_str_eq(a, b, "same seed, same output (but for the timings)");
    const char *keys[] = {"\"epoch\":",   "\"l_sr\":", "\"margin\":",     "\"srq\":",
                          "\"rel_err\":", "\"r2\":",   "\"zero_quine\":", "\"steps\":"};
    int lines = 0;
    for (char *p = a; (p = strstr(p, "{\"epoch\":")); p++)
        lines++;
    cr_expect_eq(lines, 4, "epoch 0 (before training) and 3 epochs: %s", a);
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
        cr_expect(strstr(a, keys[i]), "missing %s", keys[i]);
    cr_expect(strstr(a, "{\"epoch\":3,\"steps\":42,"), "ceil(136 / 10) = 14 steps per epoch: %s",
              a);
    cr_expect(!strstr(a, "\"acc\""), "vanilla has no accuracy");
    free(a);
    free(b);
    /* Another seed, other numbers. */
    cr_assert_eq(run("--model vanilla --hidden 8 --epochs 3 --json --seed 6", &b), 0);
    char *last_a = NULL;
    cr_assert_eq(run(small, &a), 0);
    strip_seconds(a);
    strip_seconds(b);
    last_a = strrchr(a, '{');
    cr_expect(!strstr(b, last_a));
    free(a);
    free(b);
}

Test(cmd_train, regeneration_and_table, .timeout = 60)
{
    char *out;
    cr_assert_eq(run("--model vanilla --hidden 8 --epochs 2 --regen-every 1 --json", &out), 0);
    cr_expect(strstr(out, "\"epoch\":1,") && strstr(out, "\"regen\":true"), "%s", out);
    free(out);
    cr_assert_eq(run("--model vanilla --hidden 8 --epochs 2 --optimizer sgd", &out), 0);
    cr_expect(strstr(out, "L_SR") && strstr(out, "R^2") && strstr(out, "sgd"), "%s", out);
    free(out);
    cr_assert_eq(
        run("--model vanilla --hidden 8 --full-batch --loss r2 --optimizer adam --steps 30 "
            "--report-every 10 --json",
            &out),
        0);
    cr_expect(strstr(out, "\"epoch\":30,\"steps\":30,"), "full batch: a step is an epoch: %s", out);
    free(out);
    /* Newton steps alone (no gradient steps) make a tiny random network a far better
     * copier: 1 - R^2 falls by more than half. */
    cr_assert_eq(run("--model vanilla --hidden 8 --epochs 4 --newton 2 --newton-only --json", &out),
                 0);
    cr_expect(strstr(out, "\"newton\":"), "%s", out);
    const char *first = strstr(out, "\"r2\":"), *last = first, *p = first;
    while ((p = strstr(p + 1, "\"r2\":")))
        last = p;
    double r0 = atof(first + 5), r1 = atof(last + 5);
    cr_expect_lt(1 - r1, 0.5 * (1 - r0), "R^2 %g -> %g", r0, r1);
    cr_expect(strstr(out, "\"steps\":0,"), "no gradient steps");
    free(out);
}

Test(cmd_train, aux_on_real_mnist, .timeout = 120)
{
    const char *data = tu_data();
    if (!data)
        cr_skip_test("no data/mnist");
    char args[1024], *out;
    snprintf(args, sizeof args,
             "--model aux --hidden 16 --epochs 2 --train-count 500 --test-count 200 --json "
             "--data %s",
             data);
    cr_assert_eq(run(args, &out), 0, "%s", out);
    cr_expect(strstr(out, "\"acc\":") && strstr(out, "\"train_acc\":"), "%s", out);
    /* 2 epochs: the accuracy reported after training is well above chance. */
    char *last = strrchr(out, '{');
    char *acc = strstr(last, "\"acc\":");
    cr_assert(acc);
    double a = atof(acc + 6);
    cr_expect_gt(a, 0.3, "accuracy %g after 2 epochs", a);
    free(out);
    snprintf(args, sizeof args, "--model aux --data /nonexistent/dir --epochs 1");
    cr_expect_eq(run(args, &out), 1);
    cr_expect(strstr(out, "/nonexistent/dir"), "%s", out);
    free(out);
}

/* --recipe paper60k is exactly its documented options (aux, image epochs, T 0.1, He
 * initialisation), and options given with it still apply. */
Test(cmd_train, recipe_paper60k_is_its_options, .timeout = 120)
{
    const char *data = tu_data();
    if (!data)
        cr_skip_test("no data/mnist");
    char args[1024], *a, *b, *c;
    const char *common = "--model aux --hidden 16 --epochs 1 --train-count 300 --test-count 100 "
                         "--json --seed 3";
    snprintf(args, sizeof args, "%s --data %s --recipe paper60k", common, data);
    cr_assert_eq(run(args, &a), 0, "%s", a);
    snprintf(args, sizeof args, "%s --data %s --epoch-unit images --temperature 0.1 --init he",
             common, data);
    cr_assert_eq(run(args, &b), 0, "%s", b);
    snprintf(args, sizeof args, "%s --data %s --recipe paper60k --temperature 1", common, data);
    cr_assert_eq(run(args, &c), 0, "%s", c);
    strip_seconds(a);
    strip_seconds(b);
    strip_seconds(c);
    cr_expect_str_eq(a, b);
    cr_expect(strstr(a, "{\"epoch\":1,\"steps\":30,"), "an epoch is 300 images: %s", a);
    cr_expect(strcmp(a, c) != 0, "--temperature after the recipe overrides it");
    free(a);
    free(b);
    free(c);
}

/* --recipe lineage is exactly its documented options (a regeneration every epoch, then
 * the fertile LM steps), and options given with it still apply. */
Test(cmd_train, recipe_lineage_is_its_options, .timeout = 120)
{
    char args[1024], *a, *b, *c;
    const char *common = "--model vanilla --hidden 8 --epochs 2 --json --seed 3";
    snprintf(args, sizeof args, "%s --recipe lineage", common);
    cr_assert_eq(run(args, &a), 0, "%s", a);
    snprintf(args, sizeof args,
             "%s --fertile-only --fertile-newton 4 --fertile-newton-c 0.03 "
             "--fertile-newton-child 1 --fertile-regen standardize --regen-every 1",
             common);
    cr_assert_eq(run(args, &b), 0, "%s", b);
    snprintf(args, sizeof args, "%s --recipe lineage --regen-every 0", common);
    cr_assert_eq(run(args, &c), 0, "%s", c);
    strip_seconds(a);
    strip_seconds(b);
    strip_seconds(c);
    cr_expect_str_eq(a, b);
    cr_expect(strstr(a, "\"regen\":true"), "a regeneration every epoch: %s", a);
    cr_expect(!strstr(c, "\"regen\":true"), "--regen-every 0 after the recipe: %s", c);
    free(a);
    free(b);
    free(c);
}

/* --fertile-newton-depth: depth 1 is the default (the child alone), depth 4 adds the
 * descendants' copy errors and so trains a different genome, raising --fertile-gens when it
 * is not given; a --fertile-gens too small for the depth is refused, naming both.
 * --fertile-newton-scale-free changes the steps too. */
Test(cmd_train, fertile_newton_depth, .timeout = 120)
{
    char args[1024], *a, *b, *c, *d;
    const char *common = "--model vanilla --hidden 8 --epochs 2 --json --seed 3 --recipe fertile";
    snprintf(args, sizeof args, "%s", common);
    cr_assert_eq(run(args, &a), 0, "%s", a);
    snprintf(args, sizeof args, "%s --fertile-newton-depth 1", common);
    cr_assert_eq(run(args, &b), 0, "%s", b);
    snprintf(args, sizeof args, "%s --fertile-newton-depth 4", common);
    cr_assert_eq(run(args, &c), 0, "%s", c);
    strip_seconds(a);
    strip_seconds(b);
    strip_seconds(c);
    cr_expect_str_eq(a, b);
    cr_expect(strcmp(a, c) != 0, "the great-great-grandchild's copy changes the steps");
    snprintf(args, sizeof args, "%s --fertile-newton-depth 3 --fertile-gens 3", common);
    cr_expect_eq(run(args, &d), 2, "a usage error");
    cr_expect(strstr(d, "--fertile-newton-depth 3 needs --fertile-gens 4"), "%s", d);
    free(d);
    snprintf(args, sizeof args, "%s --fertile-newton-scale-free", common);
    cr_assert_eq(run(args, &d), 0, "%s", d);
    strip_seconds(d);
    cr_expect(strcmp(a, d) != 0, "a live variance sum changes the steps");
    free(a);
    free(b);
    free(c);
    free(d);
}
