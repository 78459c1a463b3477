/* Tests for `quinesim analyze` (re-running build/quinesim): a small run produced by the
 * simulator in the test, then the summary, JSON and every export checked against the
 * run's own files (phylogeny.csv, generations.csv) and read back (Newick by the
 * project's reader, JSON by Python's json module); several runs side by side; torn and
 * corrupt logs reported on the command line; usage errors. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "analysis/newick.h"
#include "proto/genome.h"
#include "analysis/tree.h"
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

TestSuite(cmd_analyze, .init = setup, .fini = teardown, .timeout = 240);

/* ---- helpers ---------------------------------------------------------------------------- */

static int run(char **out, const char *fmt, ...) QS_PRINTF(2, 3);
static int run(char **out, const char *fmt, ...)
{
    char args[3072], cmd[4096];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(args, sizeof args, fmt, ap);
    va_end(ap);
    snprintf(cmd, sizeof cmd, "%s %s", tu_bin(), args);
    return tu_run(cmd, out);
}

static void encode_to(const qs_record_t *r, void *ctx)
{
    qs_record_encode(r, ctx);
}

/* A synthetic run's lineage.msgpack in dir (created), its scenario text extended by
 * scenario (NULL: nothing). Returns its size. */
static size_t synth_log_scenario(const char *dir, uint64_t seed, const char *scenario,
                                 synth_truth_t *t)
{
    char p[512];
    snprintf(p, sizeof p, "mkdir -p %s", dir);
    cr_assert_eq(system(p), 0);
    synth_params_t sp = {0};
    sp.nspecies = 2;
    sp.founders[0] = 4;
    sp.founders[1] = 4;
    sp.handicap[1] = 0.2;
    sp.generations = 10;
    sp.population = 8;
    sp.elitism = 1;
    sp.seed = seed;
    sp.scenario = scenario;
    qs_bytes_t b;
    qs_bytes_init(&b);
    synth_run(&sp, encode_to, &b, t);
    snprintf(p, sizeof p, "%s/lineage.msgpack", dir);
    tu_write_file(p, b.data, b.len);
    size_t n = b.len;
    qs_bytes_destroy(&b);
    return n;
}

static size_t synth_log(const char *dir, uint64_t seed, synth_truth_t *t)
{
    return synth_log_scenario(dir, seed, NULL, t);
}

/* `quinesim analyze TARGET --json` into a file, then the Python script check run on it
 * (sys.argv[1]); it must succeed. Returns what it printed (free it). */
static char *json_checked(const char *target, const char *check)
{
    char js[600], py[600], cmd[2048], *out = NULL;
    snprintf(js, sizeof js, "%s/analyze.json", tmp);
    snprintf(py, sizeof py, "%s/check.py", tmp);
    int rc = run(&out, "analyze %s --json > %s", target, js);
    cr_assert_eq(rc, 0, "%s", out);
    free(out);
    tu_write_file(py, check, strlen(check));
    snprintf(cmd, sizeof cmd, "python3 %s %s", py, js);
    rc = tu_run(cmd, &out);
    cr_assert_eq(rc, 0, "%s", out);
    return out;
}

/* A CSV file as rows of fields (no quoted fields in these files). */
typedef struct {
    char **cell; /* row-major, ncols per row, row 0 = header */
    size_t nrows, ncols;
    char *text;
} csv_t;

static void csv_load(csv_t *c, const char *path)
{
    memset(c, 0, sizeof *c);
    c->text = tu_read_file(path, NULL);
    cr_assert(c->text, "%s missing", path);
    size_t cap = 0;
    for (char *line = strtok(c->text, "\n"); line; line = strtok(NULL, "\n")) {
        size_t cols = 1;
        for (char *p = line; *p; p++)
            cols += *p == ',';
        if (!c->ncols)
            c->ncols = cols;
        cr_assert_eq(cols, c->ncols, "%s: row %zu has %zu fields", path, c->nrows, cols);
        if ((c->nrows + 1) * c->ncols > cap) {
            cap = (c->nrows + 1) * c->ncols * 2;
            c->cell = realloc(c->cell, cap * sizeof *c->cell);
        }
        char **row = c->cell + c->nrows * c->ncols;
        size_t k = 0;
        row[k++] = line;
        for (char *p = line; *p; p++)
            if (*p == ',') {
                *p = '\0';
                row[k++] = p + 1;
            }
        c->nrows++;
    }
}

static int csv_col(const csv_t *c, const char *name)
{
    for (size_t k = 0; k < c->ncols; k++)
        if (!strcmp(c->cell[k], name))
            return (int)k;
    return -1;
}

static const char *csv_get(const csv_t *c, size_t row, const char *name)
{
    int k = csv_col(c, name);
    cr_assert_geq(k, 0, "no column %s", name);
    return c->cell[row * c->ncols + (size_t)k];
}

static void csv_free(csv_t *c)
{
    free(c->cell);
    free(c->text);
}

/* Every line of the run's file `run_csv` is the start of the same line of `ours`, which
 * goes on with ",..." (extra columns); both have `lines` lines. */
static void lines_extend(const char *run_csv, const char *ours, size_t lines)
{
    char *x = tu_read_file(run_csv, NULL), *y = tu_read_file(ours, NULL);
    cr_assert(x && y, "%s, %s", run_csv, ours);
    size_t n = 0;
    char *sx, *sy, *lx = strtok_r(x, "\n", &sx), *ly = strtok_r(y, "\n", &sy);
    for (; lx && ly; lx = strtok_r(NULL, "\n", &sx), ly = strtok_r(NULL, "\n", &sy), n++) {
        size_t k = strlen(lx);
        cr_assert(!strncmp(lx, ly, k) && ly[k] == ',',
                  "line %zu: the run's\n  %s\nis not the start of\n  %s", n, lx, ly);
    }
    cr_assert(!lx && !ly, "%s and %s differ in length", run_csv, ours);
    cr_assert_eq(n, lines);
    free(x);
    free(y);
}

/* ---- a real run ------------------------------------------------------------------------ */

static const char scenario[] = "[run]\nname = tiny\nseed = 5\ngenerations = 3\n"
                               "[data]\npath = %s\ntrain = 300\nfitness = 100\ntest = 100\n"
                               "[life]\nsteps = 4\nbatch = 10\n"
                               "[selection]\npopulation = 6\nelitism = 1\n"
                               "[budget]\nworker_memory_mb = 0\n" /* ASan needs the room */
                               "[workers]\ncount = 1\n"
                               "[species.aux]\nkind = aux\nhidden = 8\ncount = 4\n"
                               "[species.van]\nkind = vanilla\nhidden = 8\ncount = 2\n";

static void simulate(const char *rundir)
{
    const char *data = tu_data();
    if (!data)
        cr_skip_test("no MNIST data (make data, or QS_DATA): the simulator cannot run");
    char ini[512], text[2048], *out = NULL;
    snprintf(ini, sizeof ini, "%s/tiny.ini", tmp);
    snprintf(text, sizeof text, scenario, data);
    tu_write_file(ini, text, strlen(text));
    int rc = run(&out, "run %s --out %s --workers 1 --quiet", ini, rundir);
    cr_assert_eq(rc, 0, "the simulator failed: %s", out);
    free(out);
}

Test(cmd_analyze, real_run_summary_and_exports)
{
    char rundir[512], phy[512], gens[512], nwk[512], plots[512], svg[512], *out = NULL;
    snprintf(rundir, sizeof rundir, "%s/run", tmp);
    simulate(rundir);
    snprintf(phy, sizeof phy, "%s/phylo.csv", tmp);
    snprintf(gens, sizeof gens, "%s/gens.csv", tmp);
    snprintf(nwk, sizeof nwk, "%s/tree.nwk", tmp);
    snprintf(plots, sizeof plots, "%s/plots", tmp);
    snprintf(svg, sizeof svg, "%s/tree.svg", tmp);

    /* The readable summary. */
    int rc = run(&out, "analyze %s", rundir);
    cr_assert_eq(rc, 0, "%s", out);
    cr_assert(strstr(out, "run tiny (seed 5)"), "%s", out);
    cr_assert(strstr(out, "status:      completed after 3 generations (3 planned)"), "%s", out);
    cr_assert(strstr(out, "(the whole file)"), "%s", out);
    cr_assert(strstr(out, "survivors' MRCA:"), "%s", out);
    cr_assert(strstr(out, "best organism: "), "%s", out);
    free(out);

    /* Every export at once. */
    rc = run(&out, "analyze %s --phylogeny %s --generations %s --newick %s --plot %s --tree %s",
             rundir, phy, gens, nwk, plots, svg);
    cr_assert_eq(rc, 0, "%s", out);
    free(out);

    /* Our phylogeny's first nine columns hold the run's own rows (which are in death
     * order), and parents come before children. */
    char own[600];
    snprintf(own, sizeof own, "%s/phylogeny.csv", rundir);
    csv_t a, b;
    csv_load(&a, phy);
    csv_load(&b, own);
    cr_assert_eq(a.nrows, b.nrows, "%zu vs %zu rows", a.nrows, b.nrows);
    for (size_t r = 1; r < b.nrows; r++) {
        size_t found = 0;
        for (size_t q = 1; q < a.nrows && !found; q++) {
            int same = 1;
            for (size_t k = 0; k < 9; k++)
                same &= !strcmp(a.cell[q * a.ncols + k], b.cell[r * b.ncols + k]);
            found = same ? q : 0;
        }
        cr_assert(found, "run's row for organism %s not in the analysis' phylogeny",
                  b.cell[r * b.ncols]);
    }
    for (size_t r = 1; r < a.nrows; r++) {
        const char *anc = csv_get(&a, r, "ancestor_list");
        if (!strcmp(anc, QS_ALIFE_ROOT))
            continue;
        char want[64];
        snprintf(want, sizeof want, "%.*s", (int)strlen(anc) - 2, anc + 1);
        size_t q = 1;
        while (q < r && strcmp(csv_get(&a, q, "id"), want))
            q++;
        cr_assert_lt(q, r, "ancestor %s of row %zu not listed before it", want, r);
    }
    csv_free(&b);

    /* One writer and one computation (proto/runcsv.h, core/genstats.h): each line of
     * the run's own CSVs, header included, is the beginning of the analysis' line, which
     * only adds columns. */
    char own_g[600];
    snprintf(own_g, sizeof own_g, "%s/generations.csv", rundir);
    lines_extend(own_g, gens, 4);
    lines_extend(own, phy, a.nrows);

    /* The Newick parses with the project's reader; every label is an organism. */
    size_t len = 0;
    char *t = tu_read_file(nwk, &len);
    cr_assert(t);
    qs_newick_tree_t tr;
    qs_error_t err = {0};
    cr_assert_eq(qs_newick_parse(&tr, t, len, &err), 0, "%s: %s", err.msg, t);
    for (uint32_t k = 0; k < tr.n; k++) {
        if (!tr.nodes[k].label[0])
            continue; /* the forest's root */
        const char *lab = tr.nodes[k].label, *pre = QS_NEWICK_LABEL_PREFIX;
        cr_assert(!strncmp(lab, pre, strlen(pre)), "Newick label %s", lab);
        size_t q = 1;
        while (q < a.nrows && strcmp(csv_get(&a, q, "id"), lab + strlen(pre)))
            q++;
        cr_assert_lt(q, a.nrows, "Newick label %s is no organism", tr.nodes[k].label);
        if (tr.nodes[k].parent != QS_TREE_NONE && tr.nodes[tr.nodes[k].parent].label[0])
            cr_assert_geq(tr.nodes[k].length, 0);
    }
    qs_newick_tree_destroy(&tr);
    free(t);
    csv_free(&a);

    /* Debian's pandas reads both CSVs of the real run. */
    if (tu_run("/usr/bin/python3 -c 'import pandas'", NULL) == 0) {
        char py[600], cmd[2048];
        static const char check[] =
            "import sys, pandas as pd\n"
            "p = pd.read_csv(sys.argv[1], na_values=['none'])\n"
            "g = pd.read_csv(sys.argv[2])\n"
            "assert p['id'].is_unique and len(g) == 3\n"
            "alive = p['destruction_time'].isna()\n"
            "assert (p['origin_time'] <= p['destruction_time'])[~alive].all()\n"
            "assert set(p['species']) <= {'aux', 'van'}\n"
            "assert g['cumulative_flops'].iloc[-1] == p['flops'].sum()\n"
            "print('ok', len(p))\n";
        snprintf(py, sizeof py, "%s/check.py", tmp);
        tu_write_file(py, check, strlen(check));
        snprintf(cmd, sizeof cmd, "/usr/bin/python3 %s %s %s", py, phy, gens);
        rc = tu_run(cmd, &out);
        cr_assert_eq(rc, 0, "pandas: %s", out);
        free(out);
    } else {
        cr_log_warn("Debian's python3-pandas is missing: the real run's CSVs were not read "
                    "with pandas");
    }

    /* Plots and the tree drawing exist. */
    static const char *const files[] = {"accuracy.png", "accuracy.svg", "fidelity.png",
                                        "species.png",  "species.svg",  "plots.gp"};
    for (size_t k = 0; k < QS_ARRAY_LEN(files); k++) {
        char p[700];
        struct stat st;
        snprintf(p, sizeof p, "%s/%s", plots, files[k]);
        cr_assert(stat(p, &st) == 0 && st.st_size > 0, "%s missing", p);
    }
    struct stat st;
    cr_assert(stat(svg, &st) == 0 && st.st_size > 0);
}

Test(cmd_analyze, real_run_json_and_lineage)
{
    char rundir[512], *out = NULL;
    snprintf(rundir, sizeof rundir, "%s/run", tmp);
    simulate(rundir);
    /* The best organism's line, in JSON; Python's json module reads it. */
    static const char check[] =
        "import json, sys\n"
        "s = json.load(open(sys.argv[1]))\n"
        "assert s['run'] == 'tiny' and s['generations'] == 3 and s['complete'], s\n"
        "assert s['organisms'] == s['founders'] + s['births'] and s['founders'] == 6\n"
        "assert [x['name'] for x in s['species']] == ['aux', 'van']\n"
        "print(s['best']['id'])\n";
    out = json_checked(rundir, check);
    unsigned long long best = strtoull(out, NULL, 10);
    free(out);
    int rc;
    cr_assert_gt(best, 0);
    /* The same organism the simulator saved as best.genome. */
    char bg[600];
    snprintf(bg, sizeof bg, "%s/best.genome", rundir);
    qs_genome_t g;
    qs_error_t err = {0};
    cr_assert_eq(qs_genome_load(&g, bg, &err), 0, "%s", err.msg);
    cr_assert_eq(g.id, best, "analysis: best %llu, simulator: %llu", best,
                 (unsigned long long)g.id);
    qs_genome_destroy(&g);

    rc = run(&out, "analyze %s --lineage %llu", rundir, best);
    cr_assert_eq(rc, 0, "%s", out);
    char want[96];
    snprintf(want, sizeof want, "ancestry of organism %llu:", best);
    cr_assert(strstr(out, want), "%s", out);
    free(out);
    rc = run(&out, "analyze %s --json --lineage %llu", rundir, best);
    cr_assert_eq(rc, 0, "%s", out);
    snprintf(want, sizeof want, "\"lineage\":[{\"step\":0,\"id\":%llu,", best);
    cr_assert(strstr(out, want), "%s", out);
    free(out);
    rc = run(&out, "analyze %s --lineage 999999", rundir);
    cr_assert_eq(rc, 1);
    cr_assert(strstr(out, "organism 999999 is not in the log"), "%s", out);
    free(out);
}

/* ---- synthetic logs: several runs, damage ------------------------------------------------ */

Test(cmd_analyze, several_runs_side_by_side)
{
    char a[512], b[512], phy[512], *out = NULL;
    snprintf(a, sizeof a, "%s/a", tmp);
    snprintf(b, sizeof b, "%s/b", tmp);
    snprintf(phy, sizeof phy, "%s/phylo.csv", tmp);
    synth_truth_t t;
    synth_log(a, 1, &t);
    synth_log(b, 2, &t);
    char plots[512];
    snprintf(plots, sizeof plots, "%s/plots", tmp);
    int rc = run(&out, "analyze %s %s/lineage.msgpack --phylogeny %s --plot %s", a, b, phy, plots);
    cr_assert_eq(rc, 0, "%s", out);
    cr_assert(strstr(out, "best organism"), "%s", out);
    cr_assert(strstr(out, "survivors' MRCA"), "%s", out);
    /* Both runs are named "synth": the second file name is made unique. */
    char p[600];
    snprintf(p, sizeof p, "%s/phylo.synth.csv", tmp);
    cr_assert_eq(access(p, F_OK), 0, "%s missing: %s", p, out);
    snprintf(p, sizeof p, "%s/phylo.synth-2.csv", tmp);
    cr_assert_eq(access(p, F_OK), 0, "%s missing: %s", p, out);
    snprintf(p, sizeof p, "%s/synth/species.png", plots); /* a folder per run */
    cr_assert_eq(access(p, F_OK), 0, "%s missing: %s", p, out);
    snprintf(p, sizeof p, "%s/synth-2/species.png", plots);
    cr_assert_eq(access(p, F_OK), 0, "%s missing: %s", p, out);
    cr_assert(strstr(out, "species extinct"), "the comparison table: %s", out);
    free(out);
    rc = run(&out, "analyze %s %s --json 2>/dev/null", a, b);
    cr_assert_eq(rc, 0, "%s", out);
    int lines = 0;
    for (char *c = out; *c; c++)
        lines += *c == '\n';
    cr_assert_eq(lines, 3, "one JSON object per run, then one group: %s", out);
    cr_assert_eq(out[0], '{');
    free(out);
}

/* A parent folder (the --out of `run --seeds/--sweep`) stands for its run subfolders, in
 * natural order and named by them; the runs are grouped by the scenario key that differs
 * (not by the seed, nor by [workers]), and each group's mean, sd (n - 1), min and max are
 * those of its runs' own figures, as Python's statistics module computes them. */
Test(cmd_analyze, parent_folder_groups_runs)
{
    static const struct {
        const char *dir;
        uint64_t seed;
        const char *scenario;
    } runs[] = {
        {"mode-self_seed-10", 10, "[replication]\nmode = self\n[workers]\ncount = 2\n"},
        {"mode-self_seed-2", 2, "[replication]\nmode = self\n"},
        {"mode-copy_seed-1", 1, "[replication]\nmode = copy\n"},
        {"mode-self_seed-1", 1, "[replication]\nmode = self\n"},
        {"mode-copy_seed-2", 2, "[replication]\nmode = copy\n"},
    };
    char parent[512], d[700], *out = NULL;
    snprintf(parent, sizeof parent, "%s/sweep", tmp);
    synth_truth_t t;
    for (size_t k = 0; k < QS_ARRAY_LEN(runs); k++) {
        snprintf(d, sizeof d, "%s/%s", parent, runs[k].dir);
        synth_log_scenario(d, runs[k].seed, runs[k].scenario, &t);
    }
    snprintf(d, sizeof d, "mkdir -p %s/not-a-run", parent); /* a folder without a log */
    cr_assert_eq(system(d), 0);

    static const char check[] =
        "import json, statistics, sys\n"
        "lines = [json.loads(l) for l in open(sys.argv[1])]\n"
        "runs = [l for l in lines if 'group' not in l]\n"
        "groups = [l for l in lines if 'group' in l]\n"
        "assert [r['run'] for r in runs] == ['mode-copy_seed-1', 'mode-copy_seed-2',\n"
        "    'mode-self_seed-1', 'mode-self_seed-2', 'mode-self_seed-10'], runs\n"
        "assert lines[:5] == runs, 'the runs come first'\n"
        "assert [g['group'] for g in groups] == [{'replication.mode': 'copy'},\n"
        "    {'replication.mode': 'self'}], groups\n"
        "assert [g['label'] for g in groups] == ['replication.mode=copy',\n"
        "    'replication.mode=self']\n"
        "figures = {'births': lambda r: r['births'],\n"
        "    'best_accuracy': lambda r: r['best']['accuracy'],\n"
        "    'mean_accuracy_last': lambda r: r['trends']['mean_accuracy']['last'],\n"
        "    'best_accuracy_last': lambda r: r['trends']['best_accuracy']['last']}\n"
        "for g in groups:\n"
        "    members = [r for r in runs if r['run'] in g['runs']]\n"
        "    assert g['n'] == len(members) == len(g['runs']), g\n"
        "    assert g['seeds'] == [r['seed'] for r in members], g\n"
        "    for key, get in figures.items():\n"
        "        v = [get(r) for r in members]\n"
        "        f = g[key]\n"
        "        assert f['n'] == len(v), (key, f)\n"
        "        assert abs(f['mean'] - statistics.mean(v)) < 1e-12, (key, f, v)\n"
        "        assert abs(f['sd'] - statistics.stdev(v)) < 1e-12, (key, f, v)\n"
        "        assert f['min'] == min(v) and f['max'] == max(v), (key, f, v)\n"
        "assert len(set(r['trends']['mean_accuracy']['last'] for r in runs)) > 1, 'seeds differ'\n"
        "print('ok')\n";
    free(json_checked(parent, check));

    /* The text: a table of groups; --plot: one block per group in runs.dat. */
    char plots[600];
    snprintf(plots, sizeof plots, "%s/plots", tmp);
    int rc = run(&out, "analyze %s --plot %s", parent, plots);
    cr_assert_eq(rc, 0, "%s", out);
    cr_assert(strstr(out, "2 groups of 5 runs, by the scenario keys that differ: "
                          "replication.mode\n"),
              "%s", out);
    cr_assert(strstr(out, "1,2,10"), "the self group's seeds: %s", out);
    cr_assert(strstr(out, "(6 runs in 2 groups)") == NULL && strstr(out, "5 runs in 2 groups"),
              "%s", out);
    free(out);
    snprintf(d, sizeof d, "%s/runs.dat", plots);
    char *dat = tu_read_file(d, NULL);
    cr_assert(dat, "%s missing", d);
    cr_assert(strstr(dat, "# group 1: replication.mode=copy\n"), "%s", dat);
    cr_assert(strstr(dat, "\n\n\n# group 2: replication.mode=self\n"), "%s", dat);
    /* generation 0 of group 2 counts its 3 runs */
    char *g2 = strstr(dat, "# group 2");
    unsigned gen, n;
    cr_assert_eq(sscanf(strchr(g2, '\n') + 1, "%u %u", &gen, &n), 2);
    cr_assert_eq(gen, 0);
    cr_assert_eq(n, 3);
    free(dat);
    snprintf(d, sizeof d, "%s/accuracy_runs.png", plots);
    cr_assert_eq(access(d, F_OK), 0, "%s missing", d);

    /* Runs of one scenario and seeds only: one group, "all runs". */
    snprintf(d, sizeof d, "%s/mode-copy_seed-1", parent);
    char e[700];
    snprintf(e, sizeof e, "%s/mode-copy_seed-2", parent);
    rc = run(&out, "analyze %s %s", d, e);
    cr_assert_eq(rc, 0, "%s", out);
    cr_assert(strstr(out, "1 group of 2 runs: no scenario key differs but the seed"), "%s", out);
    free(out);
}

Test(cmd_analyze, torn_and_corrupt_logs_are_reported)
{
    char a[512], p[600], *out = NULL;
    snprintf(a, sizeof a, "%s/a", tmp);
    synth_truth_t t;
    size_t n = synth_log(a, 3, &t);
    snprintf(p, sizeof p, "%s/lineage.msgpack", a);
    cr_assert_eq(truncate(p, (off_t)(n - 4)), 0);
    int rc = run(&out, "analyze %s", a);
    cr_assert_eq(rc, 0, "%s", out);
    cr_assert(strstr(out, "warning"), "%s", out);
    char want[128];
    snprintf(want, sizeof want, "read:        %llu records", (unsigned long long)(t.records - 1));
    cr_assert(strstr(out, want), "%s", out);
    cr_assert(strstr(out, "torn tail: bytes"), "%s", out);
    cr_assert(strstr(out, "incomplete (no end record)"), "%s", out);
    free(out);
    /* A corrupt byte in the middle: reported, the rest read. */
    size_t len = 0;
    char *d = tu_read_file(p, &len);
    d[len / 2] ^= 0x55;
    tu_write_file(p, d, len);
    free(d);
    rc = run(&out, "analyze %s --json", p);
    cr_assert_eq(rc, 0, "%s", out);
    cr_assert(strstr(out, "\"kind\":\"corrupt\""), "%s", out);
    cr_assert(strstr(out, "\"kind\":\"torn tail\""), "%s", out);
    free(out);
}

Test(cmd_analyze, usage_and_errors)
{
    char *out = NULL;
    cr_assert_eq(run(&out, "analyze"), 2);
    cr_assert(strstr(out, "quinesim analyze: which run?"), "%s", out);
    free(out);
    cr_assert_eq(run(&out, "analyze --help"), 0);
    cr_assert(strstr(out, "--phylogeny FILE"), "%s", out);
    free(out);
    cr_assert_eq(run(&out, "analyze x --bogus"), 2);
    cr_assert(strstr(out, "unknown option '--bogus'"), "%s", out);
    free(out);
    cr_assert_eq(run(&out, "analyze x --lineage abc"), 2);
    cr_assert(strstr(out, "--lineage abc: not an organism id"), "%s", out);
    free(out);
    cr_assert_eq(run(&out, "analyze x --newick"), 2);
    cr_assert(strstr(out, "--newick needs a value"), "%s", out);
    free(out);
    cr_assert_eq(run(&out, "analyze x --all"), 2);
    free(out);
    cr_assert_eq(run(&out, "analyze %s/nowhere", tmp), 1);
    cr_assert(strstr(out, "nowhere/lineage.msgpack") || strstr(out, "nowhere"), "%s", out);
    free(out);
    cr_assert_eq(run(&out, "--help"), 0);
    cr_assert(strstr(out, "analyze"), "the command table lists analyze: %s", out);
    free(out);
}
