/* Tests for analysis/plot: gnuplot charts (PNG and SVG written, charts without data
 * skipped with a reason) and Graphviz drawings (whole tree, pruned to the survivors'
 * ancestry, refused when still too big). Skipped when gnuplot or dot is missing. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analysis/plot.h"
#include "synth.h"
#include "tests/testutil.h"

static char tmp[256];

static void setup(void)
{
    tu_tmpdir(tmp, sizeof tmp);
}

static void teardown(void)
{
    tu_rmrf(tmp);
}

TestSuite(plot, .init = setup, .fini = teardown, .timeout = 60);

static void feed(const qs_record_t *r, void *ctx)
{
    qs_history_add(ctx, r);
}

static void make_run(qs_history_t *h, uint32_t generations, uint32_t population, int vanilla)
{
    synth_params_t p = {0};
    p.nspecies = 2;
    p.founders[0] = population / 2;
    p.founders[1] = population - population / 2;
    p.handicap[1] = 0.05;
    p.generations = generations;
    p.population = population;
    p.elitism = 2;
    p.seed = 9;
    p.vanilla = vanilla;
    qs_history_init(h);
    synth_truth_t t;
    synth_run(&p, feed, h, &t);
}

static void need(const char *tool)
{
    char cmd[128];
    snprintf(cmd, sizeof cmd, "command -v %s", tool);
    if (tu_run(cmd, NULL) != 0)
        cr_skip_test("%s is not installed (Debian: %s)", tool,
                     strcmp(tool, "dot") ? "gnuplot-nox" : "graphviz");
}

static void assert_png(const char *dir, const char *name)
{
    char p[512];
    size_t len = 0;
    snprintf(p, sizeof p, "%s/%s.png", dir, name);
    char *d = tu_read_file(p, &len);
    cr_assert(d, "%s missing", p);
    cr_assert_gt(len, 1000, "%s: %zu bytes", p, len);
    cr_assert(!memcmp(d, "\x89PNG\r\n\x1a\n", 8), "%s is not a PNG", p);
    free(d);
    snprintf(p, sizeof p, "%s/%s.svg", dir, name);
    d = tu_read_file(p, &len);
    cr_assert(d, "%s missing", p);
    cr_assert(strstr(d, "<svg"), "%s is not an SVG", p);
    free(d);
}

static char *info_of(FILE *f, char **buf)
{
    fclose(f);
    return *buf;
}

Test(plot, charts_written)
{
    need("gnuplot");
    qs_history_t h;
    make_run(&h, 12, 10, 0);
    char *buf = NULL;
    size_t len = 0;
    FILE *info = open_memstream(&buf, &len);
    qs_error_t err = {0};
    char dir[512];
    snprintf(dir, sizeof dir, "%s/plots/a", tmp); /* folders are created */
    cr_assert_eq(qs_plot_charts(&h, "test \"run\"", dir, info, &err), 0, "%s", err.msg);
    info_of(info, &buf);
    for (const char *const *n =
             (const char *const[]){"accuracy", "fidelity", "accuracy_fidelity", "species", NULL};
         *n; n++)
        assert_png(dir, *n);
    cr_assert_not(strstr(buf, "skipped"), "%s", buf);
    char gp[600];
    snprintf(gp, sizeof gp, "%s/plots.gp", dir);
    char *script = tu_read_file(gp, NULL);
    cr_assert(strstr(script, "run test 'run'"), "quotes in the run name are neutralised");
    /* Each species has its line and its min-max band; the label names the fitness set. */
    for (unsigned s = 0; s < 2; s++) {
        char band[96], line[96];
        snprintf(band, sizeof band, "\"species.dat\" index %u using 1:4:5 with filledcurves", s);
        snprintf(line, sizeof line, "\"species.dat\" index %u using 1:3 with linespoints", s);
        cr_assert(strstr(script, band) && strstr(script, line), "species %u:\n%s", s, script);
    }
    cr_assert(strstr(script, "fitness-set accuracy") && !strstr(script, "test accuracy"));
    cr_assert_not(strstr(script, "set yrange [0:1]"), "the accuracy axis fits the data");
    cr_assert(strstr(script, ":5 with points") && strstr(script, "lc palette"),
              "the scatter is coloured by generation of birth");
    free(script);
    free(buf);
    qs_history_destroy(&h);
}

Test(plot, vanilla_run_skips_accuracy_charts)
{
    need("gnuplot");
    qs_history_t h;
    make_run(&h, 6, 8, 1);
    char *buf = NULL;
    size_t len = 0;
    FILE *info = open_memstream(&buf, &len);
    qs_error_t err = {0};
    cr_assert_eq(qs_plot_charts(&h, "v", tmp, info, &err), 0, "%s", err.msg);
    info_of(info, &buf);
    cr_assert(strstr(buf, "plot: accuracy skipped: no organism has an accuracy"), "%s", buf);
    cr_assert(strstr(buf, "plot: accuracy_fidelity skipped"), "%s", buf);
    assert_png(tmp, "fidelity");
    assert_png(tmp, "species");
    char p[512];
    snprintf(p, sizeof p, "%s/accuracy.png", tmp);
    cr_assert_neq(access(p, F_OK), 0);
    free(buf);
    qs_history_destroy(&h);
}

Test(plot, tree_whole_pruned_and_refused)
{
    need("dot");
    char svg[512];
    snprintf(svg, sizeof svg, "%s/tree.svg", tmp);
    qs_error_t err = {0};
    char *buf = NULL;
    size_t len = 0;

    qs_history_t h; /* small: drawn whole */
    make_run(&h, 4, 6, 0);
    FILE *info = open_memstream(&buf, &len);
    cr_assert_eq(qs_plot_tree(&h, "small", svg, 0, info, &err), 0, "%s", err.msg);
    info_of(info, &buf);
    char *d = tu_read_file(svg, NULL);
    cr_assert(d && strstr(d, "<svg") && strstr(d, "every organism"), "%s", buf);
    /* The best organism shows the evaluation that made it best. */
    char best[96], best_node[48];
    snprintf(best, sizeof best, ">best at generation %u<", h.best_generation);
    snprintf(best_node, sizeof best_node, "<title>o%llu</title>", (unsigned long long)h.best_id);
    cr_assert(strstr(d, best_node) && strstr(d, best), "no '%s'", best);
    free(d);
    free(buf);
    qs_history_destroy(&h);

    make_run(&h, 40, 10, 0); /* 400 organisms, a narrow survivors' tree */
    info = open_memstream(&buf, &len);
    cr_assert_eq(qs_plot_tree(&h, "pruned", svg, 0, info, &err), 0, "%s", err.msg);
    info_of(info, &buf);
    cr_assert(strstr(buf, "drawing the survivors' ancestry"), "%s", buf);
    d = tu_read_file(svg, NULL);
    cr_assert(d && strstr(d, "the survivors"));
    /* A row per generation in which a drawn organism was born, and no other. */
    uint8_t drawn_gen[64] = {0}, row_gen[64] = {0};
    for (const char *t = d; (t = strstr(t, "<title>o")); t++) {
        uint32_t i = qs_history_find(&h, strtoull(t + 8, NULL, 10));
        cr_assert_neq(i, QS_NONE);
        drawn_gen[h.orgs[i].born] = 1;
    }
    for (const char *t = d; (t = strstr(t, ">generation ")); t++)
        row_gen[strtoul(t + 12, NULL, 10)] = 1;
    cr_assert_arr_eq(drawn_gen, row_gen, sizeof row_gen, "a generation row without a node");
    free(d);
    free(buf);
    qs_history_destroy(&h);

    make_run(&h, 20, 10, 0); /* 162 organisms: whole with --all */
    info = open_memstream(&buf, &len);
    cr_assert_eq(qs_plot_tree(&h, "all", svg, 1, info, &err), 0, "%s", err.msg);
    info_of(info, &buf);
    d = tu_read_file(svg, NULL);
    cr_assert(d && strstr(d, "every organism (162 organisms)"), "%s", buf);
    free(d);
    free(buf);
    qs_history_destroy(&h);

    make_run(&h, 40, 10, 0); /* --all beyond the limit: says what to do instead */
    info = open_memstream(&buf, &len);
    cr_assert_eq(qs_plot_tree(&h, "all", svg, 1, info, &err), QS_ERR(TOOBIG));
    info_of(info, &buf);
    char want[96];
    snprintf(want, sizeof want, "--tree --all: %u organisms, more than the 300", h.norgs);
    cr_assert(strstr(err.msg, want) &&
                  strstr(err.msg, "without --all it draws the survivors' ancestry"),
              "%s", err.msg);
    free(buf);
    qs_history_destroy(&h);

    make_run(&h, 2, 400, 0); /* 400 survivors: too many even pruned */
    info = open_memstream(&buf, &len);
    cr_assert_eq(qs_plot_tree(&h, "big", svg, 0, info, &err), QS_ERR(TOOBIG));
    info_of(info, &buf);
    cr_assert(strstr(err.msg, "--newick"), "%s", err.msg);
    free(buf);
    qs_history_destroy(&h);
}

Test(plot, diverged_r2_cuts_the_axis_and_says_so)
{
    need("gnuplot");
    qs_history_t h;
    qs_history_init(&h);
    for (uint64_t g = 0; g < 3; g++) {
        qs_record_t r;
        memset(&r, 0, sizeof r);
        r.type = QS_REC_BIRTH;
        r.u.birth.id = g + 1;
        r.u.birth.parent = g;
        r.u.birth.generation = (uint32_t)g;
        r.u.birth.has_link = g > 0;
        r.u.birth.link_r2 = g == 2 ? -5e6 : 0.5; /* a diverged copy */
        qs_history_add(&h, &r);
        memset(&r, 0, sizeof r);
        r.type = QS_REC_EVAL;
        r.u.eval.id = g + 1;
        r.u.eval.generation = (uint32_t)g;
        r.u.eval.accuracy = 0.5;
        r.u.eval.r2 = g == 1 ? -1e7 : 0.3;
        qs_history_add(&h, &r);
    }
    char *buf = NULL;
    size_t len = 0;
    FILE *info = open_memstream(&buf, &len);
    qs_error_t err = {0};
    cr_assert_eq(qs_plot_charts(&h, "d", tmp, info, &err), 0, "%s", err.msg);
    info_of(info, &buf);
    char gp[600];
    snprintf(gp, sizeof gp, "%s/plots.gp", tmp);
    char *script = tu_read_file(gp, NULL);
    cr_assert(strstr(script, "axis cut at R² = -1: 2 means below it"), "%s", script);
    cr_assert(strstr(script, "axis cut at R² = -1: 1 organism left of it"), "%s", script);
    assert_png(tmp, "fidelity");
    free(script);
    free(buf);
    qs_history_destroy(&h);
}

/* Several runs: runs.dat holds, per generation, the mean, min, max and sd over the runs
 * of each run's population mean; both charts are drawn. */
Test(plot, runs_side_by_side)
{
    need("gnuplot");
    qs_history_t a, b;
    make_run(&a, 6, 8, 0);
    make_run(&b, 8, 10, 0);
    qs_plot_runs_t runs;
    qs_plot_runs_init(&runs);
    qs_plot_runs_add(&runs, &a);
    qs_plot_runs_add(&runs, &b);
    char *buf = NULL;
    size_t len = 0;
    FILE *info = open_memstream(&buf, &len);
    qs_error_t err = {0};
    cr_assert_eq(qs_plot_runs_charts(&runs, tmp, info, &err), 0, "%s", err.msg);
    info_of(info, &buf);
    assert_png(tmp, "accuracy_runs");
    assert_png(tmp, "fidelity_runs");
    char p[600];
    snprintf(p, sizeof p, "%s/runs.dat", tmp);
    char *d = tu_read_file(p, NULL);
    cr_assert(d);
    unsigned rows = 0;
    for (char *line = strtok(d, "\n"); line; line = strtok(NULL, "\n")) {
        if (line[0] == '#')
            continue;
        unsigned g, n;
        double mean, lo, hi, sd;
        int got = sscanf(line, "%u %u %lf %lf %lf %lf", &g, &n, &mean, &lo, &hi, &sd);
        cr_assert_eq(got, n > 1 ? 6 : 5, "%s", line); /* one run: sd '?' */
        double x = a.gens[QS_MIN(g, a.ngens - 1)].st.accuracy.sum /
                   a.gens[QS_MIN(g, a.ngens - 1)].st.accuracy.n;
        double y = b.gens[g].st.accuracy.sum / b.gens[g].st.accuracy.n;
        if (g < a.ngens) {
            cr_assert_eq(n, 2);
            cr_assert_float_eq(mean, (x + y) / 2, 1e-6, "generation %u", g);
            cr_assert_float_eq(lo, QS_MIN(x, y), 1e-6);
            cr_assert_float_eq(hi, QS_MAX(x, y), 1e-6);
            cr_assert_float_eq(sd, fabs(x - y) / sqrt(2), 1e-6, "sd with n - 1");
        } else {
            cr_assert_eq(n, 1, "generation %u: only the longer run", g);
            cr_assert_float_eq(mean, y, 1e-6);
            cr_assert(strstr(line, " ?"), "no sd for one run: %s", line);
        }
        rows++;
    }
    cr_assert_eq(rows, b.ngens);
    free(d);
    free(buf);
    qs_plot_runs_destroy(&runs);
    qs_history_destroy(&a);
    qs_history_destroy(&b);
}
