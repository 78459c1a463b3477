/* Tests of the precision setting (`[replication] precision` of a run, `--precision
 * fp32|bf16` of train, repair and fertility; core/mm.h): bf16 where the CPU has native
 * bf16 products, close to fp32 and deterministic (1 or 2 workers); and the fallback where
 * it has not, simulated by capping oneDNN's instruction set with its own variable
 * (ONEDNN_MAX_CPU_ISA=AVX2): one line naming what was asked and what is used, and
 * results identical to fp32's. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/mm.h"
#include "tests/simutil.h"
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

TestSuite(precision, .init = setup, .fini = teardown, .timeout = 120);

/* Run `quinesim ARGS` with environment ENV ("" or "NAME=VALUE"): stdout into *out, stderr
 * into *err (both malloc'ed); returns the exit status. Timings are cut from stdout. */
static int qs_env(const char *env, const char *args, char **out, char **err)
{
    char cmd[4096], opath[512], epath[512];
    snprintf(opath, sizeof opath, "%s/out.txt", dir);
    snprintf(epath, sizeof epath, "%s/err.txt", dir);
    snprintf(cmd, sizeof cmd, "(%s %s %s > %s 2> %s)", env, tu_bin(), args, opath, epath);
    int rc = tu_run(cmd, NULL);
    *out = tu_read_file(opath, NULL);
    *err = tu_read_file(epath, NULL);
    cr_assert(*out && *err);
    char *p; /* "seconds":X, of --json rows */
    while ((p = strstr(*out, "\"seconds\":"))) {
        char *q = strchr(p, ',');
        if (!q)
            break;
        memmove(p, q + 1, strlen(q + 1) + 1);
    }
    return rc;
}

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

static const char *train_args = "train --model vanilla --hidden 16 --epochs 3 --json --seed 3";

Test(precision, bad_value_is_a_usage_error)
{
    char *out, *err;
    static const char *const cmds[] = {"train --precision fp16",
                                       "repair x --damage 0.1 --precision fp16",
                                       "fertility x --precision fp16"};
    for (int i = 0; i < 3; i++) {
        cr_expect_eq(qs_env("", cmds[i], &out, &err), 2, "%s", cmds[i]);
        cr_expect(strstr(err, "--precision: 'fp16' is not fp32 or bf16"), "%s: %s", cmds[i], err);
        free(out);
        free(err);
    }
}

Test(precision, train_at_bf16_is_close_to_fp32_and_deterministic)
{
    if (!qs_mm_bf16_native())
        cr_skip_test("no native bf16 on this CPU (oneDNN ISA %s)", qs_mm_isa());
    char args[512], *f32, *b16, *again, *err;
    cr_assert_eq(qs_env("", train_args, &f32, &err), 0, "%s", err);
    free(err);
    snprintf(args, sizeof args, "%s --precision bf16", train_args);
    cr_assert_eq(qs_env("", args, &b16, &err), 0, "%s", err);
    cr_expect_str_empty(err, "no fallback message on a CPU with bf16: %s", err);
    free(err);
    cr_assert_eq(qs_env("", args, &again, &err), 0);
    free(err);
    cr_expect_str_eq(b16, again, "bf16 runs are deterministic");
    cr_expect_str_neq(b16, f32, "bf16 evaluates differently");
    /* Training is fp32 either way: only the self-prediction is measured in bf16. */
    double r32 = last_value(f32, "r2"), r16 = last_value(b16, "r2");
    cr_expect_lt(fabs(r32 - r16), 0.01, "R^2 fp32 %g, bf16 %g", r32, r16);
    cr_expect_eq(last_value(f32, "l_sr_run"), last_value(b16, "l_sr_run"),
                 "the training steps are fp32's");
    free(f32);
    free(b16);
    free(again);
}

/* Without native bf16, each command says so in one line and computes fp32's results. */
Test(precision, fallback_without_native_bf16_is_fp32)
{
    char args[1024], *out, *err;
    snprintf(args, sizeof args, "train --model vanilla --hidden 16 --epochs 2 --save %s/v.genome",
             dir);
    cr_assert_eq(qs_env("", args, &out, &err), 0, "%s", err);
    free(out);
    free(err);
    char repair[512], fert[512];
    snprintf(repair, sizeof repair, "repair %s/v.genome --damage 0.2 --cycles 2 --json", dir);
    snprintf(fert, sizeof fert, "fertility %s/v.genome --generations 3 --power-iters 4 --json",
             dir);
    const char *cmds[] = {"train --model vanilla --hidden 16 --epochs 2 --regen-every 1 --json",
                          repair, fert};
    const char *names[] = {"train", "repair", "fertility"};
    for (int i = 0; i < 3; i++) {
        char *f32, *e32;
        snprintf(args, sizeof args, "%s --precision fp32", cmds[i]);
        cr_assert_eq(qs_env("ONEDNN_MAX_CPU_ISA=AVX2", args, &f32, &e32), 0, "%s", e32);
        cr_expect_str_empty(e32, "%s", e32);
        snprintf(args, sizeof args, "%s --precision bf16", cmds[i]);
        cr_assert_eq(qs_env("ONEDNN_MAX_CPU_ISA=AVX2", args, &out, &err), 0, "%s", err);
        char want[256];
        snprintf(want, sizeof want,
                 "quinesim %s: --precision bf16 asked, but this CPU has no native bf16 products "
                 "(oneDNN ISA avx2; bf16 needs avx512_core_bf16 or avx512_core_amx): running "
                 "at fp32\n",
                 names[i]);
        cr_expect_str_eq(err, want, "one line on stderr");
        cr_expect_str_eq(out, f32, "%s: the fallback computes fp32's results", names[i]);
        free(out);
        free(err);
        free(f32);
        free(e32);
    }
}

static int count_of(const char *s, const char *needle)
{
    int n = 0;
    for (const char *p = s; (p = strstr(p, needle)); p++)
        n++;
    return n;
}

static void run_dir(char *buf, size_t cap, const char *name)
{
    snprintf(buf, cap, "%s/%s", dir, name);
}

static char *run_log(const char *out)
{
    char path[600];
    snprintf(path, sizeof path, "%s/run.log", out);
    char *t = tu_read_file(path, NULL);
    cr_assert(t, "no %s", path);
    return t;
}

Test(precision, run_at_bf16_is_deterministic_and_not_fp32)
{
    if (!qs_mm_bf16_native())
        cr_skip_test("no native bf16 on this CPU (oneDNN ISA %s)", qs_mm_isa());
    char sc[512], f32[512], one[512], two[512], *log;
    su_scenario(sc, sizeof sc, dir, "tiny", NULL);
    run_dir(f32, sizeof f32, "fp32");
    run_dir(one, sizeof one, "bf16-1");
    run_dir(two, sizeof two, "bf16-2");
    cr_assert_eq(su_run(NULL, sc, f32, "--workers 1", &log), 0, "%s", log);
    free(log);
    cr_assert_eq(su_run(NULL, sc, one, "--workers 1 --set replication.precision=bf16", &log), 0,
                 "%s", log);
    cr_expect(!strstr(log, "asked"), "no fallback: %s", log);
    free(log);
    cr_assert_eq(su_run(NULL, sc, two, "--workers 2 --set replication.precision=bf16", &log), 0,
                 "%s", log);
    free(log);
    const char *why = su_same_results(one, two);
    cr_expect_null(why, "bf16 with 1 and 2 workers: %s", why);
    cr_expect_not_null(su_same_results(f32, one), "bf16 replicates differently from fp32");
    char *rl = run_log(one);
    cr_expect(strstr(rl, qs_mm_isa()), "run.log names each worker's oneDNN ISA: %s", rl);
    free(rl);
}

/* [replication] precision = bf16 on workers without native bf16: fp32's run, said once on
 * the terminal and in run.log. */
Test(precision, run_fallback_without_native_bf16_is_fp32)
{
    char sc[512], f32[512], b16[512], *log;
    su_scenario(sc, sizeof sc, dir, "tiny", NULL);
    run_dir(f32, sizeof f32, "fp32");
    run_dir(b16, sizeof b16, "bf16");
    cr_assert_eq(su_run("ONEDNN_MAX_CPU_ISA=AVX2", sc, f32, "--workers 2", &log), 0, "%s", log);
    free(log);
    char cmd[2048]; /* not --quiet: the warning is for the terminal too */
    snprintf(cmd, sizeof cmd,
             "ONEDNN_MAX_CPU_ISA=AVX2 %s run %s --out %s --workers 2 --progress lines "
             "--set replication.precision=bf16",
             tu_bin(), sc, b16);
    cr_assert_eq(tu_run(cmd, &log), 0, "%s", log);
    /* "... but worker 0 (pid 123) has ...": whichever worker said hello first */
    const char *want = "[replication] precision = bf16 asked, but worker ",
               *want2 = "has no native bf16 products (oneDNN ISA avx2): it replicates in fp32";
    cr_expect_eq(count_of(log, want), 1, "the terminal says so, once: %s", log);
    cr_expect_eq(count_of(log, want2), 1, "%s", log);
    free(log);
    const char *why = su_same_results(f32, b16);
    cr_expect_null(why, "the fallback is fp32's run: %s", why);
    char *rl = run_log(b16);
    cr_expect_eq(count_of(rl, want), 1, "%s", rl);
    cr_expect_eq(count_of(rl, want2), 1, "%s", rl);
    cr_expect_eq(count_of(rl, "oneDNN avx2"), 2, "each worker's ISA: %s", rl);
    free(rl);
}
