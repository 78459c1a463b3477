/* Tests for analysis/groups and analysis/inikv: which scenario keys vary between runs,
 * which runs share a group, and each group's mean ± sd (n - 1) of hand-set summaries. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analysis/groups.h"
#include "analysis/inikv.h"

static void collect(const char *key, const char *value, void *ctx)
{
    char *buf = ctx;
    size_t n = strlen(buf);
    snprintf(buf + n, 1024 - n, "%s=%s|", key, value);
}

Test(inikv, sections_comments_and_species)
{
    char got[1024] = "";
    qs_inikv_each("; a comment\n[run]\nname = x ; trailing\n  seed=3  \n\n"
                  "[species.big]\nhidden = 100 # more\nnot a pair\n[data]\npath = d/m",
                  collect, got);
    cr_assert_str_eq(got, "run.name=x|run.seed=3|species.big.hidden=100|data.path=d/m|");
}

/* Runs 0, 2: mode self; 1, 3: copy; 3 has another lambda spelled as the same number,
 * another seed, name and worker count: none of those splits a group. Run 4's
 * scenario was not read; run 5 lacks the mode key. */
static const char *const scenarios[] = {
    "[run]\nname = a\nseed = 1\n[replication]\nmode = self\n[species.q]\nlambda = 0.01\n",
    "[run]\nname = b\nseed = 1\n[replication]\nmode = copy\n[species.q]\nlambda = 0.01\n",
    "[run]\nname = c\nseed = 2\n[replication]\nmode = self\n[species.q]\nlambda = 0.01\n",
    "[run]\nname = d\nseed = 2\n[replication]\nmode = copy\n[species.q]\nlambda = 1e-2\n"
    "[workers]\ncount = 7\n",
    NULL,
    "[run]\nname = f\nseed = 3\n[species.q]\nlambda = 0.01\n",
};

Test(groups, varying_keys_and_membership)
{
    qs_groups_t g;
    qs_groups_init(&g, scenarios, 6);
    cr_assert_eq(g.nkeys, 1, "only replication.mode varies (%u keys)", g.nkeys);
    cr_assert_str_eq(g.keys[0], "replication.mode");
    cr_assert_eq(g.ngroups, 4);
    uint32_t want[] = {0, 1, 0, 1, 2, 3};
    for (uint32_t r = 0; r < 6; r++)
        cr_assert_eq(g.group[r], want[r], "run %u in group %u", r, g.group[r]);
    cr_assert_eq(g.size[0], 2);
    cr_assert_eq(g.size[2], 1);
    char label[256];
    qs_groups_label(&g, 0, label, sizeof label);
    cr_assert_str_eq(label, "replication.mode=self");
    qs_groups_label(&g, 2, label, sizeof label);
    cr_assert_str_eq(label, "scenario unknown");
    qs_groups_label(&g, 3, label, sizeof label);
    cr_assert_str_eq(label, "replication.mode=(none)");
    qs_groups_destroy(&g);

    qs_groups_init(&g, scenarios, 1); /* one run: nothing varies */
    cr_assert_eq(g.nkeys, 0);
    cr_assert_eq(g.ngroups, 1);
    qs_groups_label(&g, 0, label, sizeof label);
    cr_assert_str_eq(label, "all runs");
    qs_groups_destroy(&g);
}

static void summary(qs_summary_t *s, const char *label, uint64_t seed, double best_acc)
{
    memset(s, 0, sizeof *s);
    snprintf(s->label, sizeof s->label, "%s", label);
    s->has_header = 1;
    s->seed = seed;
    s->has_best = 1;
    s->best_accuracy = best_acc;
    s->best_fitness = best_acc;
    s->births = 10;
}

/* The number after "KEY":{"n":N,"mean": in a JSON line. */
static double json_field(const char *line, const char *key, const char *field)
{
    char pat[128];
    snprintf(pat, sizeof pat, "\"%s\":{", key);
    const char *p = strstr(line, pat);
    cr_assert(p, "%s not in %s", key, line);
    snprintf(pat, sizeof pat, "\"%s\":", field);
    const char *q = strstr(p, pat);
    cr_assert(q, "%s.%s not in %s", key, field, line);
    if (!strncmp(q + strlen(pat), "null", 4))
        return NAN;
    return strtod(q + strlen(pat), NULL);
}

Test(groups, mean_and_sample_sd)
{
    const char *const sc[] = {"[life]\nsteps = 1\n", "[life]\nsteps = 1\n", "[life]\nsteps = 1\n",
                              "[life]\nsteps = 2\n"};
    qs_summary_t s[4];
    summary(&s[0], "a", 1, 0.1);
    summary(&s[1], "b", 2, 0.2);
    summary(&s[2], "c", 3, 0.6);
    summary(&s[3], "d", 7, 0.5);
    qs_groups_t g;
    qs_groups_init(&g, sc, 4);
    cr_assert_eq(g.ngroups, 2);
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    qs_groups_json(&g, s, f);
    fclose(f);
    char *second = strchr(buf, '\n');
    cr_assert(second && second[1], "%s", buf);
    *second++ = '\0';
    /* group 1: 0.1, 0.2, 0.6: mean 0.3, sd sqrt(((0.2)^2 + 0.1^2 + 0.3^2) / 2) = sqrt(0.07) */
    cr_assert(strstr(buf, "\"group\":{\"life.steps\":\"1\"}"), "%s", buf);
    cr_assert(strstr(buf, "\"runs\":[\"a\",\"b\",\"c\"],\"seeds\":[1,2,3]"), "%s", buf);
    cr_assert_float_eq(json_field(buf, "best_accuracy", "mean"), 0.3, 1e-12);
    cr_assert_float_eq(json_field(buf, "best_accuracy", "sd"), sqrt(0.07), 1e-12);
    cr_assert_float_eq(json_field(buf, "best_accuracy", "min"), 0.1, 1e-12);
    cr_assert_float_eq(json_field(buf, "best_accuracy", "max"), 0.6, 1e-12);
    cr_assert_float_eq(json_field(buf, "births", "sd"), 0, 1e-12);
    /* group 2: one run, no sd */
    cr_assert_float_eq(json_field(second, "best_accuracy", "mean"), 0.5, 1e-12);
    cr_assert(isnan(json_field(second, "best_accuracy", "sd")), "%s", second);
    /* a figure no run has (no trend): n 0, mean null */
    cr_assert_eq(json_field(second, "mean_accuracy_last", "n"), 0);
    cr_assert(isnan(json_field(second, "mean_accuracy_last", "mean")));
    free(buf);

    buf = NULL;
    f = open_memstream(&buf, &len);
    qs_groups_print(&g, s, f);
    fclose(f);
    cr_assert(strstr(buf, "2 groups of 4 runs, by the scenario keys that differ: life.steps\n"),
              "%s", buf);
    cr_assert(strstr(buf, "1-3"), "the seeds 1, 2, 3 as a range: %s", buf);
    cr_assert(strstr(buf, "0.3000 ± 0.2646"), "%s", buf);
    cr_assert(strstr(buf, " 0.5000\n"), "one run: its value alone: %s", buf);
    free(buf);
    qs_groups_destroy(&g);
}
