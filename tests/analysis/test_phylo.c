/* Tests for analysis/phylo: every metric on small trees computed by hand (binary, a
 * sampled ancestor, a polytomy, a forest, one taxon, none), lineages through time, PD and
 * MPD against a brute-force walk on random forests, the per-generation series on a
 * synthetic run, and the whole command on a real run's tree against DendroPy. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analysis/newick.h"
#include "analysis/phylo.h"
#include "analysis/tree.h"
#include "synth.h"
#include "tests/simutil.h"

#define N QS_TREE_NONE

static void taxa_of(const char *list, uint8_t *m, uint32_t n)
{
    memset(m, 0, n);
    char buf[64];
    snprintf(buf, sizeof buf, "%s", list);
    for (char *tok = strtok(buf, ","); tok; tok = strtok(NULL, ","))
        m[atoi(tok)] = 1;
}

/*        0 (t0)
 *       / \
 *  (t1)1   2 (t4)
 *     / \
 * (t3)3  4 (t2)                                               */
static const uint32_t bin_parent[5] = {N, 0, 0, 1, 1};
static const double bin_time[5] = {0, 1, 4, 3, 2};

Test(phylo, binary_tree_by_hand)
{
    uint8_t t[5];
    qs_phylo_t m;
    taxa_of("2,3,4", t, 5);
    qs_phylo_measure(&m, 5, bin_parent, bin_time, t);
    cr_expect_eq(m.taxa, 3);
    cr_expect_eq(m.nodes, 5);
    cr_expect_eq(m.roots, 1);
    cr_expect_float_eq(m.pd, 8, 1e-12);                  /* 1 + 4 + 2 + 1 */
    cr_expect_float_eq(m.mpd, (3 + 7 + 6) / 3.0, 1e-12); /* d(3,4), d(3,2), d(4,2) */
    cr_expect_eq(m.sackin, 5);                           /* depths 2 + 2 + 1 */
    cr_expect_eq(m.colless, 1);                          /* root |2 - 1|, node 1 |1 - 1| */
    cr_expect_eq(m.polytomies, 0);
    cr_expect_eq(m.mrca, 0);
    cr_expect_float_eq(m.mrca_time, 0, 1e-12);

    /* Two taxa under node 1: the stem from the root counts in PD, the root's single
     * child is suppressed in the shape. */
    taxa_of("3,4", t, 5);
    qs_phylo_measure(&m, 5, bin_parent, bin_time, t);
    cr_expect_eq(m.nodes, 4);
    cr_expect_float_eq(m.pd, 4, 1e-12);
    cr_expect_float_eq(m.mpd, 3, 1e-12);
    cr_expect_eq(m.sackin, 2);
    cr_expect_eq(m.colless, 0);
    cr_expect_eq(m.mrca, 1);
    cr_expect_float_eq(m.mrca_time, 1, 1e-12);

    /* One taxon: no pairs; its MRCA is itself. */
    taxa_of("4", t, 5);
    qs_phylo_measure(&m, 5, bin_parent, bin_time, t);
    cr_expect_float_eq(m.pd, 2, 1e-12);
    cr_expect(isnan(m.mpd));
    cr_expect_eq(m.sackin, 0);
    cr_expect_eq(m.colless, 0);
    cr_expect_eq(m.mrca, 4);

    /* None. */
    memset(t, 0, sizeof t);
    qs_phylo_measure(&m, 5, bin_parent, bin_time, t);
    cr_expect_eq(m.taxa, 0);
    cr_expect_eq(m.nodes, 0);
    cr_expect_float_eq(m.pd, 0, 1e-12);
    cr_expect_eq(m.mrca, QS_NONE);
}

Test(phylo, sampled_ancestor_gets_its_own_leaf)
{
    /* Taxa 1 and its child 3: node 1 has child 3 and its own zero-length leaf. */
    uint8_t t[5];
    qs_phylo_t m;
    taxa_of("1,3", t, 5);
    qs_phylo_measure(&m, 5, bin_parent, bin_time, t);
    cr_expect_eq(m.taxa, 2);
    cr_expect_eq(m.nodes, 3);
    cr_expect_float_eq(m.pd, 3, 1e-12);
    cr_expect_float_eq(m.mpd, 2, 1e-12);
    cr_expect_eq(m.sackin, 2);
    cr_expect_eq(m.colless, 0);
    cr_expect_eq(m.mrca, 1);

    /* Taxa 0, 3, 4: the root has child 1 (2 leaves) and its own leaf: Colless |2 - 1|. */
    taxa_of("0,3,4", t, 5);
    qs_phylo_measure(&m, 5, bin_parent, bin_time, t);
    cr_expect_float_eq(m.pd, 4, 1e-12);
    cr_expect_float_eq(m.mpd, (3 + 3 + 2) / 3.0, 1e-12); /* d(0,3), d(3,4), d(0,4) */
    cr_expect_eq(m.sackin, 2 + 2 + 1);
    cr_expect_eq(m.colless, 1);
    cr_expect_eq(m.mrca, 0);
}

Test(phylo, polytomy_and_forest)
{
    /*        0 (t0)
     *     /  |  \
     *  1(t1) 2(t1) 3 (t2)
     *             / \
     *         4(t3)  5(t5)       taxa 1, 2, 4, 5 */
    const uint32_t parent[6] = {N, 0, 0, 0, 3, 3};
    const double time[6] = {0, 1, 1, 2, 3, 5};
    uint8_t t[6];
    qs_phylo_t m;
    taxa_of("1,2,4,5", t, 6);
    qs_phylo_measure(&m, 6, parent, time, t);
    cr_expect_float_eq(m.pd, 8, 1e-12);
    cr_expect_float_eq(m.mpd, 26 / 6.0, 1e-12);
    cr_expect_eq(m.sackin, 4 + 2);
    cr_expect_eq(m.colless, 2); /* root: |1-1| + |1-2| + |1-2| */
    cr_expect_eq(m.polytomies, 1);

    /* Two roots 0 (t0) and 1 (t2) with one taxon each: joined at a virtual root at 0. */
    const uint32_t fp[4] = {N, N, 0, 1};
    const double ft[4] = {0, 2, 3, 4};
    uint8_t ftax[4] = {0, 0, 1, 1};
    qs_phylo_measure(&m, 4, fp, ft, ftax);
    cr_expect_eq(m.roots, 2);
    cr_expect_float_eq(m.pd, 3 + 4, 1e-12);
    cr_expect_float_eq(m.mpd, 7, 1e-12);
    cr_expect_eq(m.sackin, 2);
    cr_expect_eq(m.colless, 0);
    cr_expect_eq(m.mrca, QS_NONE);
    cr_expect(isnan(m.mrca_time));
}

Test(phylo, lineages_through_time_by_hand)
{
    const uint32_t born[5] = {0, 1, 4, 3, 2};
    uint8_t t[5];
    uint32_t ltt[6];
    taxa_of("2,3,4", t, 5);
    qs_phylo_ltt(5, bin_parent, born, t, 5, ltt);
    /* t0: {0}; t1: {0,1}; t2: {0,1,4}; t3: {0,3,4}; t4: {2,3,4} */
    const uint32_t want[5] = {1, 2, 3, 3, 3};
    for (int g = 0; g < 5; g++)
        cr_expect_eq(ltt[g], want[g], "generation %d: %u lineages, want %u", g, ltt[g], want[g]);
    /* A sampled ancestor (taxon 1) keeps its own lineage after its child's birth. */
    taxa_of("1,3", t, 5);
    qs_phylo_ltt(5, bin_parent, born, t, 6, ltt);
    const uint32_t want2[6] = {1, 1, 1, 2, 2, 2};
    for (int g = 0; g < 6; g++)
        cr_expect_eq(ltt[g], want2[g], "generation %d: %u lineages, want %u", g, ltt[g], want2[g]);
}

/* Path length between i and j by walking up from both (parents have smaller indices). */
static double naive_distance(const uint32_t *parent, const double *time, uint32_t i, uint32_t j,
                             int *joined)
{
    double d = 0;
    while (i != j) {
        uint32_t *hi = i > j ? &i : &j;
        if (parent[*hi] == N) { /* different roots: through the virtual root at 0 */
            *joined = 0;
            return time[i] + time[j] + d;
        }
        d += time[*hi] - time[parent[*hi]];
        *hi = parent[*hi];
    }
    *joined = 1;
    return d;
}

Test(phylo, pd_and_mpd_match_brute_force_on_random_forests)
{
    uint64_t x = 12345;
    for (int trial = 0; trial < 200; trial++) {
        uint32_t n = 1 + (uint32_t)(synth_mix(x++) % 40);
        uint32_t parent[40];
        double time[40];
        uint8_t taxon[40];
        for (uint32_t i = 0; i < n; i++) {
            uint64_t r = synth_mix(x++);
            parent[i] = i == 0 || r % 7 == 0 ? N : (uint32_t)(r % i);
            time[i] = parent[i] == N ? (double)(r % 3) : time[parent[i]] + 1 + (double)(r % 4);
            taxon[i] = (r >> 20) % 3 == 0;
        }
        qs_phylo_t m;
        qs_phylo_measure(&m, n, parent, time, taxon);
        /* PD: the union of the taxa's paths to their roots (plus the virtual root's
         * edges when the tree has several roots). */
        uint8_t on[40] = {0};
        uint32_t ntax = 0;
        for (uint32_t i = 0; i < n; i++)
            if (taxon[i]) {
                ntax++;
                for (uint32_t v = i; v != N && !on[v]; v = parent[v])
                    on[v] = 1;
            }
        double pd = 0;
        uint32_t roots = 0;
        for (uint32_t i = 0; i < n; i++)
            if (on[i]) {
                pd += parent[i] != N ? time[i] - time[parent[i]] : 0;
                roots += parent[i] == N;
            }
        if (roots > 1)
            for (uint32_t i = 0; i < n; i++)
                pd += on[i] && parent[i] == N ? time[i] : 0;
        double sum = 0;
        for (uint32_t i = 0; i < n; i++)
            for (uint32_t j = i + 1; j < n; j++)
                if (taxon[i] && taxon[j]) {
                    int joined;
                    sum += naive_distance(parent, time, i, j, &joined);
                }
        cr_assert_eq(m.taxa, ntax);
        cr_assert_eq(m.roots, roots);
        cr_assert_float_eq(m.pd, pd, 1e-9, "trial %d: PD %g, brute force %g", trial, m.pd, pd);
        if (ntax >= 2) {
            double mpd = sum / (ntax * (ntax - 1) / 2.0);
            cr_assert_float_eq(m.mpd, mpd, 1e-9, "trial %d: MPD %g, brute force %g", trial, m.mpd,
                               mpd);
        }
        /* Sackin bounds: each leaf is at depth >= 1 below a branching root, <= taxa - 1. */
        if (ntax >= 2)
            cr_assert(m.sackin >= 2 * (uint64_t)ntax - 2 || m.polytomies > 0);
    }
}

static void add_to(const qs_record_t *r, void *ctx)
{
    qs_history_add(ctx, r);
}

Test(phylo, per_generation_series_on_a_synthetic_run)
{
    synth_params_t sp = {0};
    sp.nspecies = 1; /* one species: the living come to have an MRCA */
    sp.founders[0] = 6;
    sp.generations = 12;
    sp.population = 6;
    sp.elitism = 2;
    sp.seed = 3;
    qs_history_t h;
    qs_history_init(&h);
    synth_truth_t truth;
    synth_run(&sp, add_to, &h, &truth);
    qs_phylo_run_t r;
    qs_phylo_run(&r, &h);
    cr_assert_eq(r.ngens, 12);
    uint32_t n;
    qs_phylo_gen_t *g = qs_phylo_generations(&h, &r, &n);
    cr_assert_eq(n, 12);
    for (uint32_t t = 0; t < n; t++) {
        cr_expect_eq(g[t].living.taxa, h.gens[t].population, "generation %u", t);
        if (t > 0) /* the whole tree only grows */
            cr_expect_geq(g[t].whole.pd, g[t - 1].whole.pd);
    }
    /* Each generation's living tree, measured on the compact ancestry, is the tree of the
     * living measured on the whole forest. */
    uint32_t *parent = malloc(h.norgs * sizeof *parent);
    double *time = malloc(h.norgs * sizeof *time);
    uint8_t *alive = malloc(h.norgs);
    for (uint32_t i = 0; i < h.norgs; i++) {
        parent[i] = h.orgs[i].parent;
        time[i] = h.orgs[i].born;
    }
    for (uint32_t t = 0; t < n; t++) {
        for (uint32_t i = 0; i < h.norgs; i++)
            alive[i] = h.orgs[i].born <= t && (h.orgs[i].died == QS_NONE || h.orgs[i].died >= t);
        qs_phylo_t m;
        qs_phylo_measure(&m, h.norgs, parent, time, alive);
        const qs_phylo_t *l = &g[t].living;
        cr_expect_eq(l->taxa, m.taxa, "generation %u", t);
        cr_expect_eq(l->nodes, m.nodes, "generation %u", t);
        cr_expect_eq(l->roots, m.roots, "generation %u", t);
        cr_expect_float_eq(l->pd, m.pd, 1e-9, "generation %u", t);
        cr_expect(isnan(m.mpd) ? isnan(l->mpd) : fabs(l->mpd - m.mpd) < 1e-9, "generation %u", t);
        cr_expect_eq(l->sackin, m.sackin, "generation %u", t);
        cr_expect_eq(l->colless, m.colless, "generation %u", t);
        cr_expect_eq(l->mrca, m.mrca, "generation %u", t);
        for (uint32_t i = 0; i < h.norgs; i++)
            alive[i] = h.orgs[i].born <= t;
        qs_phylo_measure(&m, h.norgs, parent, time, alive);
        cr_expect_eq(g[t].whole.taxa, m.taxa, "generation %u", t);
        cr_expect_float_eq(g[t].whole.pd, m.pd, 1e-9, "generation %u", t);
    }
    free(parent);
    free(time);
    free(alive);
    cr_expect_neq(g[n - 1].living.mrca, QS_NONE, "the test wants a generation with an MRCA");
    cr_expect_eq(g[0].whole.taxa, 6);
    cr_expect_float_eq(g[0].whole.pd, 0, 1e-12); /* founders at the virtual root's time */
    /* The last generation's living are the survivors; everything born is the whole tree. */
    const qs_phylo_t *l = &g[n - 1].living, *s = &r.survivors;
    cr_expect_eq(l->taxa, s->taxa);
    cr_expect_float_eq(l->pd, s->pd, 1e-12);
    cr_expect_float_eq(l->mpd, s->mpd, 1e-12);
    cr_expect_eq(l->sackin, s->sackin);
    cr_expect_eq(l->colless, s->colless);
    cr_expect_eq(g[n - 1].whole.taxa, h.norgs);
    cr_expect_float_eq(g[n - 1].whole.pd, r.whole.pd, 1e-12);
    /* LTT ends at the survivors and never exceeds them. */
    cr_expect_eq(r.ltt[n - 1], s->taxa);
    for (uint32_t t = 0; t < n; t++)
        cr_expect_leq(r.ltt[t], s->taxa);
    free(g);
    qs_phylo_run_destroy(&r);
    qs_history_destroy(&h);
}

/* ---- a real run against DendroPy -------------------------------------------------------- */

static double json_number(const char *text, const char *section, const char *key)
{
    const char *p = strstr(text, section);
    cr_assert(p, "no %s in %s", section, text);
    char k[64];
    snprintf(k, sizeof k, "\"%s\":", key);
    p = strstr(p, k);
    cr_assert(p, "no %s after %s", key, section);
    p += strlen(k);
    p += strspn(p, " ");
    return strncmp(p, "null", 4) ? strtod(p, NULL) : NAN;
}

Test(phylo, real_run_matches_dendropy, .timeout = 240)
{
    if (!tu_data())
        cr_skip_test("no MNIST data (make data, or QS_DATA): the simulator cannot run");
    char tmp[256], ini[512], run[512], cmd[4096], *out = NULL;
    tu_tmpdir(tmp, sizeof tmp);
    su_scenario(ini, sizeof ini, tmp, "phylo", "");
    snprintf(run, sizeof run, "%s/run", tmp);
    int rc = su_run(NULL, ini, run, "--set run.generations=8 --set selection.population=8", &out);
    cr_assert_eq(rc, 0, "the simulator failed: %s", out);
    free(out);
    snprintf(cmd, sizeof cmd,
             "%s analyze %s --json --phylogeny %s/p.csv --newick %s/s.nwk --phylo %s/g.csv",
             tu_bin(), run, tmp, tmp, tmp);
    cr_assert_eq(tu_run(cmd, &out), 0, "%s", out);
    char *json = out;
    const char *ph = strstr(json, "\"phylogeny\":{");
    cr_assert(ph, "no phylogeny in %s", json);
    snprintf(cmd, sizeof cmd, "%s analyze %s --newick %s/a.nwk --all", tu_bin(), run, tmp);
    cr_assert_eq(tu_run(cmd, &out), 0, "%s", out);
    free(out);
    /* The per-generation CSV's last row is the survivors' tree. */
    char path[600];
    snprintf(path, sizeof path, "%s/g.csv", tmp);
    cr_expect_eq(su_count_lines(path), 1 + 8);

    if (tu_run("/usr/bin/python3 -c 'import dendropy'", NULL) != 0) {
        free(json);
        tu_rmrf(tmp);
        cr_skip_test("DendroPy is not installed (Debian python3-dendropy, `make deps`)");
    }
    const char *which[2][3] = {{"s.nwk", "survivors", "\"survivors\""},
                               {"a.nwk", "all", "\"whole\""}};
    for (int k = 0; k < 2; k++) {
        snprintf(cmd, sizeof cmd,
                 "/usr/bin/python3 %s/tests/analysis/dendropy_check.py %s/%s %s/p.csv %s",
                 getenv("QS_SRC") ? getenv("QS_SRC") : ".", tmp, which[k][0], tmp, which[k][1]);
        char *dp = NULL;
        cr_assert_eq(tu_run(cmd, &dp), 0, "%s", dp);
        const char *sec = which[k][2];
        const char *keys[] = {
            "taxa", "phylogenetic_diversity", "mean_pairwise_distance", "sackin", "polytomies",
            "mrca"};
        for (size_t q = 0; q < sizeof keys / sizeof *keys; q++) {
            double ours = json_number(ph, sec, keys[q]), theirs = json_number(dp, "{", keys[q]);
            cr_expect(isnan(ours) ? isnan(theirs) : fabs(ours - theirs) <= 1e-9 * (1 + fabs(ours)),
                      "%s %s: quinesim %.12g, DendroPy %.12g", which[k][1], keys[q], ours, theirs);
        }
        /* DendroPy's Colless takes bifurcating trees only. */
        double theirs = json_number(dp, "{", "colless");
        if (!isnan(theirs))
            cr_expect_float_eq(json_number(ph, sec, "colless"), theirs, 1e-9);
        else
            cr_expect_gt(json_number(ph, sec, "polytomies"), 0);
        cr_log_info("%s: quinesim %s / DendroPy %s", which[k][1], strstr(ph, sec), dp);
        free(dp);
    }
    free(json);
    tu_rmrf(tmp);
}

static void encode_to(const qs_record_t *r, void *ctx)
{
    qs_record_encode(r, ctx);
}

Test(phylo, plot_draws_the_metrics_per_generation, .timeout = 60)
{
    if (tu_run("command -v gnuplot", NULL) != 0)
        cr_skip_test("gnuplot is not installed (Debian gnuplot-nox, `make deps`)");
    char tmp[256], path[600], cmd[2048], *out = NULL;
    tu_tmpdir(tmp, sizeof tmp);
    synth_params_t sp = {0};
    sp.nspecies = 1;
    sp.founders[0] = 4;
    sp.generations = 9;
    sp.population = 6;
    sp.elitism = 1;
    sp.seed = 5;
    qs_bytes_t b;
    qs_bytes_init(&b);
    synth_truth_t t;
    synth_run(&sp, encode_to, &b, &t);
    snprintf(path, sizeof path, "%s/lineage.msgpack", tmp);
    tu_write_file(path, b.data, b.len);
    qs_bytes_destroy(&b);
    snprintf(cmd, sizeof cmd, "%s analyze %s --plot %s/plots", tu_bin(), path, tmp);
    cr_assert_eq(tu_run(cmd, &out), 0, "%s", out);
    cr_expect(strstr(out, "phylo_diversity.png"), "%s", out);
    free(out);
    snprintf(path, sizeof path, "%s/plots/phylo.dat", tmp);
    cr_expect_eq(su_count_lines(path), 1 + 9);
    const char *files[] = {"phylo_diversity.png", "phylo_diversity.svg", "phylo_lineages.png",
                           "phylo_lineages.svg"};
    for (size_t k = 0; k < sizeof files / sizeof *files; k++) {
        snprintf(path, sizeof path, "%s/plots/%s", tmp, files[k]);
        size_t len = 0;
        char *data = tu_read_file(path, &len);
        cr_expect(data && len > 1000, "%s missing or empty", files[k]);
        free(data);
    }
    tu_rmrf(tmp);
}

/* A random binary tree (taxa: its leaves) through DendroPy, which computes Colless only on
 * bifurcating trees: every metric, Colless included, must agree. */
Test(phylo, random_binary_tree_matches_dendropy, .timeout = 60)
{
    if (tu_run("/usr/bin/python3 -c 'import dendropy'", NULL) != 0)
        cr_skip_test("DendroPy is not installed (Debian python3-dendropy, `make deps`)");
    enum { LEAVES = 150, NODES = 2 * LEAVES - 1 };
    uint32_t parent[NODES];
    double time[NODES];
    uint64_t id[NODES];
    uint8_t leaf[NODES];
    uint32_t leaves[LEAVES], nleaves = 1, n = 1;
    parent[0] = N;
    time[0] = 0;
    leaves[0] = 0;
    uint64_t x = 99;
    while (n < NODES) { /* split a random leaf into two children */
        uint32_t k = (uint32_t)(synth_mix(x++) % nleaves), p = leaves[k];
        for (int c = 0; c < 2; c++) {
            parent[n] = p;
            time[n] = time[p] + 1 + (double)(synth_mix(x++) % 5);
            if (c == 0)
                leaves[k] = n;
            else
                leaves[nleaves++] = n;
            n++;
        }
    }
    char tmp[256], path[600], cmd[2048], *out = NULL;
    tu_tmpdir(tmp, sizeof tmp);
    snprintf(path, sizeof path, "%s/t.csv", tmp);
    FILE *f = fopen(path, "w");
    fputs("id,destruction_time\n", f);
    memset(leaf, 0, sizeof leaf);
    for (uint32_t k = 0; k < nleaves; k++)
        leaf[leaves[k]] = 1;
    for (uint32_t i = 0; i < n; i++) {
        id[i] = i + 1;
        fprintf(f, "%u,%s\n", i + 1, leaf[i] ? "none" : "1");
    }
    fclose(f);
    snprintf(path, sizeof path, "%s/t.nwk", tmp);
    f = fopen(path, "w");
    qs_error_t err = {0};
    cr_assert_eq(qs_newick_write(f, n, parent, id, time, NULL, &err), 0, "%s", err.msg);
    fclose(f);
    snprintf(cmd, sizeof cmd,
             "/usr/bin/python3 %s/tests/analysis/dendropy_check.py %s/t.nwk %s/t.csv survivors",
             getenv("QS_SRC") ? getenv("QS_SRC") : ".", tmp, tmp);
    cr_assert_eq(tu_run(cmd, &out), 0, "%s", out);
    qs_phylo_t m;
    qs_phylo_measure(&m, n, parent, time, leaf);
    cr_expect_eq(m.polytomies, 0);
    cr_expect_eq(json_number(out, "{", "taxa"), m.taxa, "%s", out);
    cr_expect_float_eq(json_number(out, "{", "phylogenetic_diversity"), m.pd, 1e-9, "%s", out);
    cr_expect_float_eq(json_number(out, "{", "mean_pairwise_distance"), m.mpd, 1e-9, "%s", out);
    cr_expect_float_eq(json_number(out, "{", "sackin"), (double)m.sackin, 1e-9, "%s", out);
    cr_expect_float_eq(json_number(out, "{", "colless"), (double)m.colless, 1e-9, "%s", out);
    cr_expect_float_eq(json_number(out, "{", "mrca"), 1, 1e-9, "%s", out); /* the root */
    cr_log_info("binary tree of %u leaves: quinesim PD %g MPD %.12g Sackin %llu Colless %llu / "
                "DendroPy %s",
                m.taxa, m.pd, m.mpd, (unsigned long long)m.sackin, (unsigned long long)m.colless,
                out);
    free(out);
    tu_rmrf(tmp);
}
