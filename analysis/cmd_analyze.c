/* cmd_analyze: `quinesim analyze`, offline analysis of one or more runs.
 *
 * Each run (a run directory, or a lineage.msgpack on its own) is read in one streaming
 * pass into a compact history (analysis/history.h), summarised, exported as asked, and
 * released before the next run is read, so memory follows the largest run's organism
 * count. One run prints its full summary; several print a side-by-side table. With
 * --json, standard output holds only JSON (one object per run, one per line) and the
 * notes about written files go to standard error. With several runs, each output file
 * gets the run's name before its extension (phylo.csv -> phylo.RUN.csv; a --plot
 * folder gets one subfolder per run). */
#include <dirent.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "analysis/export.h"
#include "analysis/groups.h"
#include "analysis/history.h"
#include "analysis/phylo.h"
#include "analysis/islands.h"
#include "analysis/plot.h"
#include "analysis/report.h"
#include "analysis/summary.h"
#include "core/cli.h"
#include "sim/commands.h"

typedef struct {
    int json, all;
    int to_stdout; /* an export goes to standard output: no summary there */
    const char *phylogeny, *newick, *generations, *plot, *tree, *phylo, *html;
    int has_lineage;
    uint64_t lineage;
    const char **runs;  /* the runs, parent folders expanded */
    const char **names; /* per run: its subfolder's name when found in a parent folder */
    char **owned;       /* the paths made by expanding parent folders */
    int nruns, nowned;
} opts_t;

static void usage(FILE *to)
{
    fputs("usage: quinesim analyze RUN_DIR|LINEAGE_FILE|PARENT_DIR [more ...] [options]\n"
          "\n"
          "Offline analysis of runs: a summary (generations, births, deaths, extinctions,\n"
          "species outcomes, best organism and its ancestry, accuracy and fidelity trends,\n"
          "FLOPs and wall time, the survivors' most recent common ancestor), and exports.\n"
          "A torn or corrupt stretch of the log is skipped and reported. Several runs are\n"
          "compared side by side, then grouped by the scenario keys that differ between\n"
          "them (the seed apart): mean and sd per group, and with --plot one band per group.\n"
          "A PARENT_DIR (`run --seeds/--sweep`'s --out) stands for its run subfolders.\n"
          "\n"
          "options:\n"
          "  --json               the summary as JSON (one object per run, one per line;\n"
          "                       with several runs, then one per group)\n"
          "  --phylogeny FILE     ALife-standard phylogeny CSV, parents before children\n"
          "  --newick FILE        the survivors' ancestry as a Newick tree (lengths in\n"
          "                       generations); with --all, every organism\n"
          "  --all                every organism in --newick and --tree\n"
          "  --generations FILE   one CSV row per generation\n"
          "  --phylo FILE         phylogenetic metrics per generation (CSV): PD, mean\n"
          "                       pairwise distance, Sackin, Colless, MRCA depth, LTT\n"
          "  --lineage ID         organism ID's line back to its founder, one row per link\n"
          "  --plot DIR           charts (PNG and SVG) with gnuplot, and their data/script\n"
          "  --tree FILE.svg      an ancestry drawing with Graphviz: every organism up to\n"
          "                       100 (--all: 300), else the survivors' ancestry\n"
          "  --html FILE          one self-contained HTML page: scenario, curves, scatter,\n"
          "                       phylogeny; with several runs, their comparison\n"
          "  -h, --help           this text\n"
          "\n"
          "FILE may be '-' for standard output (then no summary is printed). With several\n"
          "runs each file name gets the run's name before its extension (DIR: a subfolder\n"
          "per run). See analysis/README.md.\n",
          to);
}

static void add_run(opts_t *o, const char *run, const char *name, int *cap)
{
    if (o->nruns == *cap) {
        *cap = *cap ? 2 * *cap : 16;
        o->runs = xrealloc(o->runs, (size_t)*cap * sizeof *o->runs);
        o->names = xrealloc(o->names, (size_t)*cap * sizeof *o->names);
        o->owned = xrealloc(o->owned, (size_t)*cap * sizeof *o->owned);
    }
    o->names[o->nruns] = name;
    o->runs[o->nruns++] = run;
}

static int is_file(const char *dir, const char *sub, const char *name)
{
    char p[QS_PATH_MAX * 2 + 32];
    snprintf(p, sizeof p, "%s%s%s/%s", dir, sub ? "/" : "", sub ? sub : "", name);
    struct stat st;
    return stat(p, &st) == 0 && S_ISREG(st.st_mode);
}

/* A run argument: a run folder or lineage file as it is; a folder without a
 * lineage.msgpack whose subfolders hold one (the --out of `run --seeds/--sweep`) stands
 * for those subfolders, in natural order of their names. */
static void add_arg(opts_t *o, const char *arg, int *cap)
{
    struct stat st;
    DIR *d = NULL;
    if (stat(arg, &st) != 0 || !S_ISDIR(st.st_mode) || is_file(arg, NULL, "lineage.msgpack") ||
        !(d = opendir(arg))) {
        add_run(o, arg, NULL, cap);
        return;
    }
    char **subs = NULL;
    size_t n = 0, scap = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.' || !is_file(arg, e->d_name, "lineage.msgpack"))
            continue;
        if (n == scap) {
            scap = scap ? 2 * scap : 16;
            subs = xrealloc(subs, scap * sizeof *subs);
        }
        subs[n++] = xstrdup(e->d_name);
    }
    closedir(d);
    if (n == 0) {
        add_run(o, arg, NULL, cap); /* reported as a run without a log */
        free(subs);
        return;
    }
    qsort(subs, n, sizeof *subs, qs_natural_cmp);
    size_t len = strlen(arg);
    while (len > 1 && arg[len - 1] == '/')
        len--;
    for (size_t k = 0; k < n; k++) {
        size_t plen = len + strlen(subs[k]) + 2;
        char *path = xmalloc(plen);
        snprintf(path, plen, "%.*s/%s", (int)len, arg, subs[k]);
        add_run(o, path, path + len + 1, cap);
        o->owned[o->nowned++] = path;
        free(subs[k]);
    }
    free(subs);
}

static int parse_args(int argc, char **argv, opts_t *o)
{
    enum {
        O_JSON = 256,
        O_ALL,
        O_PHYLOGENY,
        O_NEWICK,
        O_GENERATIONS,
        O_PHYLO,
        O_HTML,
        O_PLOT,
        O_TREE,
        O_LINEAGE
    };
    static const struct option long_opts[] = {{"json", no_argument, 0, O_JSON},
                                              {"all", no_argument, 0, O_ALL},
                                              {"phylogeny", required_argument, 0, O_PHYLOGENY},
                                              {"newick", required_argument, 0, O_NEWICK},
                                              {"generations", required_argument, 0, O_GENERATIONS},
                                              {"phylo", required_argument, 0, O_PHYLO},
                                              {"html", required_argument, 0, O_HTML},
                                              {"plot", required_argument, 0, O_PLOT},
                                              {"tree", required_argument, 0, O_TREE},
                                              {"lineage", required_argument, 0, O_LINEAGE},
                                              {"help", no_argument, 0, 'h'},
                                              {0, 0, 0, 0}};
    memset(o, 0, sizeof *o);
    qs_error_t err = {0};
    int c;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":h", long_opts, NULL)) != -1) {
        switch (c) {
        case 'h':
            usage(stdout);
            return 1;
        case O_JSON:
            o->json = 1;
            break;
        case O_ALL:
            o->all = 1;
            break;
        case O_PHYLOGENY:
            o->phylogeny = optarg;
            break;
        case O_NEWICK:
            o->newick = optarg;
            break;
        case O_GENERATIONS:
            o->generations = optarg;
            break;
        case O_PHYLO:
            o->phylo = optarg;
            break;
        case O_HTML:
            o->html = optarg;
            break;
        case O_PLOT:
            o->plot = optarg;
            break;
        case O_TREE:
            o->tree = optarg;
            break;
        case O_LINEAGE:
            if (qs_parse_u64("--lineage", optarg, 1, UINT64_MAX, &o->lineage, &err) < 0)
                return qs_cli_usage_error("analyze", "--lineage %s: not an organism id (1, 2, ...)",
                                          optarg);
            o->has_lineage = 1;
            break;
        default: /* ':' or '?' */
            qs_cli_opt_error(c, argc, argv, &err);
            return qs_cli_usage_error("analyze", "%s", err.msg);
        }
    }
    int cap = 0;
    for (int i = optind; i < argc; i++)
        add_arg(o, argv[i], &cap);
    if (o->nruns == 0)
        return qs_cli_usage_error("analyze",
                                  "which run? (quinesim analyze RUN_DIR|LINEAGE_FILE ...)");
    if (o->all && !o->newick && !o->tree)
        return qs_cli_usage_error("analyze", "--all applies to --newick and --tree");
    const char *files[] = {o->phylogeny, o->newick, o->generations, o->phylo};
    int dash = 0;
    for (size_t k = 0; k < QS_ARRAY_LEN(files); k++)
        dash += files[k] && !strcmp(files[k], "-");
    if (dash && (dash > 1 || o->nruns > 1 || o->json || o->has_lineage))
        return qs_cli_usage_error("analyze", "standard output ('-') takes one output of one run, "
                                             "without --json or --lineage");
    o->to_stdout = dash > 0;
    return 0;
}

static void free_opts(opts_t *o)
{
    for (int k = 0; k < o->nowned; k++)
        free(o->owned[k]);
    free(o->owned);
    free(o->names);
    free(o->runs);
}

/* The lineage file of a run argument: DIR/lineage.msgpack for a folder. */
static void lineage_path(const char *arg, char *buf, size_t cap)
{
    struct stat st;
    if (stat(arg, &st) == 0 && S_ISDIR(st.st_mode))
        snprintf(buf, cap, "%s/lineage.msgpack", arg);
    else
        snprintf(buf, cap, "%s", arg);
}

/* A file name for run `label` when several runs are analysed: NAME.EXT -> NAME.label.EXT,
 * or DIR -> DIR/label for a folder. */
static void per_run_path(const char *base, const char *label, int nruns, int folder, char *buf,
                         size_t cap)
{
    if (nruns <= 1) {
        snprintf(buf, cap, "%s", base);
        return;
    }
    if (folder) {
        snprintf(buf, cap, "%s/%s", base, label);
        return;
    }
    const char *slash = strrchr(base, '/');
    const char *dot = strrchr(base, '.');
    if (dot && (!slash || dot > slash + 1))
        snprintf(buf, cap, "%.*s.%s%s", (int)(dot - base), base, label, dot);
    else
        snprintf(buf, cap, "%s.%s", base, label);
}

/* Run labels as file-name parts: [A-Za-z0-9._-] only, not starting with a dot (the caller
 * makes them unique with -2, -3, ...). */
static void safe_label(const char *label, char *out, size_t cap)
{
    size_t k = 0;
    for (const char *p = label; *p && k + 1 < cap; p++) {
        char c = *p;
        int ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                 c == '.' || c == '_' || c == '-';
        if (k == 0 && c == '.')
            ok = 0; /* no ".", "..", hidden names */
        out[k++] = ok ? c : '_';
    }
    out[k] = '\0';
    if (k == 0)
        snprintf(out, cap, "run");
}

typedef struct {
    const qs_history_t *h;
    const qs_phylo_run_t *phylo;
    uint32_t line;
    const qs_island_summary_t *islands;
} json_ctx_t;

static void json_extra(qs_jw_t *w, void *ctx)
{
    const json_ctx_t *c = ctx;
    qs_phylo_run_json(c->phylo, c->h, w);
    qs_islands_json(c->h, c->islands, w);
    if (c->line != QS_NONE)
        qs_export_line_json(c->h, c->line, w, "lineage");
}

/* labels[index]: the run's label made safe for file names and unique among labels[0..index)
 * (a suffix -2, -3, ...). */
static void unique_label(const char *label, char labels[][QS_NAME_MAX], int index)
{
    safe_label(label, labels[index], QS_NAME_MAX);
    for (int k = 0, dup = 1; k < index; k++)
        if (!strcmp(labels[k], labels[index])) {
            char tmp[QS_NAME_MAX];
            snprintf(tmp, sizeof tmp, "%.40s-%d", label, ++dup);
            safe_label(tmp, labels[index], QS_NAME_MAX);
            k = -1;
        }
}

/* The run's summary on stdout: JSON, or text when it is the only run and no export goes to
 * stdout; then organism `line`'s lineage table (QS_NONE: none) unless JSON. */
static void print_run(const opts_t *o, const qs_summary_t *s, const qs_history_t *h,
                      const qs_phylo_run_t *phylo, uint32_t line)
{
    qs_island_summary_t *islands = qs_islands_summarize(h);
    if (o->json) {
        json_ctx_t ctx = {h, phylo, line, islands};
        qs_summary_json(s, stdout, json_extra, &ctx);
    } else if (o->nruns == 1 && !o->to_stdout) {
        qs_summary_print(s, stdout);
        qs_phylo_run_print(phylo, h, stdout);
        qs_islands_print(h, islands, stdout);
    }
    free(islands);
    if (!o->json && line != QS_NONE) {
        if (o->nruns > 1)
            fprintf(stdout, "\n%s: ", s->label);
        else
            fputc('\n', stdout);
        qs_export_line_table(h, line, stdout);
    }
}

/* The exports and drawings asked for, into files named after label (what was written is
 * said on info). Returns 0 or 1 (some failed: said on stderr). */
static int export_run(const opts_t *o, const char *label, const qs_summary_t *s,
                      const qs_history_t *h, const qs_phylo_run_t *phylo, FILE *info)
{
    int failed = 0;
    qs_error_t err = {0};
    char out[QS_PATH_MAX + QS_NAME_MAX + 8];
    if (o->phylogeny) {
        per_run_path(o->phylogeny, label, o->nruns, 0, out, sizeof out);
        if (qs_export_phylogeny(h, out, &err) < 0) {
            fprintf(stderr, "quinesim analyze: --phylogeny: %s\n", err.msg);
            failed = 1;
        } else if (strcmp(out, "-")) {
            fprintf(info, "phylogeny: %s (%u organisms)\n", out, h->norgs);
        }
    }
    if (o->newick) {
        per_run_path(o->newick, label, o->nruns, 0, out, sizeof out);
        uint32_t nodes = 0;
        if (qs_export_newick(h, out, o->all, &nodes, &err) < 0) {
            fprintf(stderr, "quinesim analyze: --newick: %s\n", err.msg);
            failed = 1;
        } else if (strcmp(out, "-")) {
            fprintf(info, "newick: %s (%u organisms, %s)\n", out, nodes,
                    o->all ? "every organism" : "the survivors' ancestry");
        }
    }
    if (o->generations) {
        per_run_path(o->generations, label, o->nruns, 0, out, sizeof out);
        if (qs_export_generations(h, out, &err) < 0) {
            fprintf(stderr, "quinesim analyze: --generations: %s\n", err.msg);
            failed = 1;
        } else if (strcmp(out, "-")) {
            fprintf(info, "generations: %s (%u generations)\n", out, h->ngens);
        }
    }
    if (o->phylo) {
        per_run_path(o->phylo, label, o->nruns, 0, out, sizeof out);
        if (qs_phylo_write_csv(h, phylo, out, &err) < 0) {
            fprintf(stderr, "quinesim analyze: --phylo: %s\n", err.msg);
            failed = 1;
        } else if (strcmp(out, "-")) {
            fprintf(info, "phylo: %s (%u generations)\n", out, phylo->ngens);
        }
    }
    if (o->plot) {
        per_run_path(o->plot, label, o->nruns, 1, out, sizeof out);
        if (qs_plot_charts(h, s->label, out, info, &err) < 0 ||
            qs_phylo_plot(h, phylo, s->label, out, info, &err) < 0) {
            fprintf(stderr, "quinesim analyze: --plot: %s\n", err.msg);
            failed = 1;
        }
    }
    if (o->tree) {
        per_run_path(o->tree, label, o->nruns, 0, out, sizeof out);
        if (qs_plot_tree(h, s->label, out, o->all, info, &err) < 0) {
            fprintf(stderr, "quinesim analyze: %s\n", err.msg);
            failed = 1;
        }
    }
    return failed;
}

/* Analyse one run: summary into *s, exports and plots as asked. Returns 0 or 1 (some
 * output failed: said on stderr). */
static int analyze_run(const opts_t *o, int arg_index, int index, char labels[][QS_NAME_MAX],
                       qs_summary_t *s, qs_plot_runs_t *series, char **scenario,
                       qs_report_run_t *page)
{
    const char *arg = o->runs[arg_index];
    char path[QS_PATH_MAX + 32];
    lineage_path(arg, path, sizeof path);
    qs_history_t h;
    qs_logread_stats_t st;
    qs_error_t err = {0};
    if (qs_history_load(&h, path, &st, &err) < 0) {
        fprintf(stderr, "quinesim analyze: %s\n", err.msg);
        return 1;
    }
    qs_summary_compute(s, &h, arg, &st);
    if (o->names[arg_index]) /* found in a parent folder: named by its subfolder */
        snprintf(s->label, sizeof s->label, "%s", o->names[arg_index]);
    *scenario = h.scenario ? xstrdup(h.scenario) : NULL;
    qs_plot_runs_add(series, &h);
    if (st.skipped_bytes)
        fprintf(stderr,
                "quinesim analyze: warning: %s: read %llu complete records; skipped %llu bytes "
                "(%u region%s, first: %s at byte %llu: %s)\n",
                path, (unsigned long long)st.records, (unsigned long long)st.skipped_bytes,
                st.nskips_total, st.nskips_total == 1 ? "" : "s",
                qs_skip_kind_name(st.skips[0].kind), (unsigned long long)st.skips[0].offset,
                st.skips[0].why);
    unique_label(s->label, labels, index);
    int failed = 0;
    uint32_t line = QS_NONE;
    if (o->has_lineage) {
        line = qs_history_find(&h, o->lineage);
        if (line == QS_NONE) {
            fprintf(stderr, "quinesim analyze: %s: organism %llu is not in the log\n", arg,
                    (unsigned long long)o->lineage);
            failed = 1;
        }
    }
    qs_phylo_run_t phylo;
    qs_phylo_run(&phylo, &h);
    print_run(o, s, &h, &phylo, line);
    FILE *info = o->json || o->to_stdout ? stderr : stdout;
    if (export_run(o, labels[index], s, &h, &phylo, info))
        failed = 1;
    if (o->html && qs_report_run_data(page, s, &h, &phylo, path, &err) < 0) {
        fprintf(stderr, "quinesim analyze: --html: %s\n", err.msg);
        failed = 1;
    }
    qs_phylo_run_destroy(&phylo);
    qs_history_destroy(&h);
    return failed;
}

/* Several runs: the comparison table, then the groups (text or JSON) and their charts. */
static int compare_runs(const opts_t *o, const qs_summary_t *sums, char *const *scen,
                        const qs_plot_runs_t *series, uint32_t n)
{
    int status = 0;
    if (!o->json)
        qs_summary_compare(sums, n, stdout);
    qs_groups_t g;
    qs_groups_init(&g, (const char *const *)scen, n);
    if (o->json)
        qs_groups_json(&g, sums, stdout);
    else
        qs_groups_print(&g, sums, stdout);
    if (o->plot) { /* the runs side by side, a band per group, in DIR itself */
        qs_plot_runs_t *groups = xcalloc(g.ngroups, sizeof *groups);
        char(*labels)[512] = xcalloc(g.ngroups, sizeof *labels);
        const char **lp = xcalloc(g.ngroups, sizeof *lp);
        for (uint32_t k = 0; k < g.ngroups; k++) {
            qs_plot_runs_init(&groups[k]);
            qs_groups_label(&g, k, labels[k], sizeof labels[k]);
            lp[k] = labels[k];
        }
        for (uint32_t r = 0; r < n; r++)
            qs_plot_runs_merge(&groups[g.group[r]], &series[r]);
        qs_error_t err = {0};
        if (qs_plot_groups_charts(groups, lp, g.ngroups, o->plot, o->json ? stderr : stdout, &err) <
            0) {
            fprintf(stderr, "quinesim analyze: --plot: %s\n", err.msg);
            status = 1;
        }
        for (uint32_t k = 0; k < g.ngroups; k++)
            qs_plot_runs_destroy(&groups[k]);
        free(groups);
        free(labels);
        free(lp);
    }
    qs_groups_destroy(&g);
    return status;
}

int cmd_analyze(int argc, char **argv)
{
    opts_t o;
    int rc = parse_args(argc, argv, &o);
    if (rc != 0) {
        free_opts(&o);
        return rc == 1 ? 0 : rc;
    }
    qs_summary_t *sums = xcalloc((size_t)o.nruns, sizeof *sums);
    char(*labels)[QS_NAME_MAX] = xcalloc((size_t)o.nruns, QS_NAME_MAX);
    qs_report_run_t *pages = xcalloc((size_t)o.nruns, sizeof *pages);
    qs_plot_runs_t *series = xcalloc((size_t)o.nruns, sizeof *series);
    char **scen = xcalloc((size_t)o.nruns, sizeof *scen);
    int status = 0, nok = 0;
    for (int k = 0; k < o.nruns; k++) {
        qs_summary_t *s = &sums[nok];
        qs_plot_runs_init(&series[nok]);
        int r = analyze_run(&o, k, nok, labels, s, &series[nok], &scen[nok], &pages[nok]);
        if (s->path[0]) /* the log was read: the summary stands even if an export failed */
            nok++;
        status |= r;
    }
    if (o.nruns > 1 && nok > 1)
        status |= compare_runs(&o, sums, scen, series, (uint32_t)nok);
    else if (!o.json && o.nruns > 1 && nok > 0)
        qs_summary_compare(sums, (uint32_t)nok, stdout);
    for (int k = 0; k < nok; k++) {
        qs_plot_runs_destroy(&series[k]);
        free(scen[k]);
    }
    free(series);
    free(scen);
    if (o.html && nok > 0) {
        uint32_t npages = 0; /* the runs whose data was built, in order */
        for (int k = 0; k < nok; k++)
            if (pages[k].json)
                pages[npages++] = pages[k];
        qs_error_t err = {0};
        if (qs_report_write(o.html, pages, npages, &err) < 0) {
            fprintf(stderr, "quinesim analyze: --html: %s\n", err.msg);
            status = 1;
        } else {
            fprintf(o.json ? stderr : stdout, "html: %s (%u run%s)\n", o.html, npages,
                    npages == 1 ? "" : "s");
        }
        for (uint32_t k = 0; k < npages; k++)
            qs_report_run_destroy(&pages[k]);
    }
    free(pages);
    fflush(stdout);
    free(sums);
    free(labels);
    free_opts(&o);
    return status;
}
