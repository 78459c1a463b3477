/* plot: data files, a gnuplot script and a dot graph, and the child processes that draw
 * them. */
#include "analysis/plot.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "analysis/export.h"
#include "analysis/tree.h"

/* Colours for species (colour-blind-safe, Okabe & Ito), cycled. */
static const char *const palette[] = {"#0072B2", "#E69F00", "#009E73", "#CC79A7",
                                      "#56B4E9", "#D55E00", "#F0E442", "#000000"};
static const char *const palette_light[] = {"#B3D4EA", "#F7DFB3", "#B3E2D5", "#F0D7E5",
                                            "#CCE9F9", "#F2CFB3", "#FBF8C5", "#CCCCCC"};

/* ---- running a program ---------------------------------------------------------------- */

/* Run argv in dir (NULL: here) with stdout and stderr to log_path; wait for it. */
static int run_tool(char *const argv[], const char *dir, const char *log_path, const char *package,
                    qs_error_t *err)
{
    pid_t pid = fork();
    if (pid < 0)
        return qs_error_set(err, QS_ERR(IO), "cannot start %s: %s", argv[0], strerror(errno));
    if (pid == 0) {
        int fd = open(log_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (fd >= 0) {
            dup2(fd, 1);
            dup2(fd, 2);
            close(fd);
        }
        if (dir && chdir(dir) != 0)
            _exit(126);
        execvp(argv[0], argv);
        _exit(127);
    }
    int st;
    while (waitpid(pid, &st, 0) < 0)
        if (errno != EINTR)
            return qs_error_set(err, QS_ERR(IO), "waiting for %s: %s", argv[0], strerror(errno));
    if (WIFEXITED(st) && WEXITSTATUS(st) == 127)
        return qs_error_set(err, QS_ERR(NOENT),
                            "%s was not found on PATH (Debian package %s: apt-get install %s)",
                            argv[0], package, package);
    if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
        char msg[300] = "";
        FILE *f = fopen(log_path, "r");
        if (f) {
            size_t n = fread(msg, 1, sizeof msg - 1, f);
            msg[n] = '\0';
            fclose(f);
        }
        return qs_error_set(err, QS_ERR(IO), "%s failed (%s %d): %s", argv[0],
                            WIFEXITED(st) ? "exit status" : "signal",
                            WIFEXITED(st) ? WEXITSTATUS(st) : WTERMSIG(st),
                            msg[0] ? msg : "no message");
    }
    return 0;
}

static int mkdir_p(const char *dir, qs_error_t *err)
{
    char at[QS_PATH_MAX];
    if (qs_mkdir_p(dir, at, sizeof at) < 0)
        return qs_error_set(err, QS_ERR(IO), "%s: cannot create folder: %s", at, strerror(errno));
    return 0;
}

static FILE *create_in(const char *dir, const char *name, qs_error_t *err)
{
    char p[QS_PATH_MAX + 64];
    snprintf(p, sizeof p, "%s/%s", dir, name);
    FILE *f = fopen(p, "w");
    if (!f)
        qs_error_set(err, QS_ERR(IO), "%s: cannot create: %s", p, strerror(errno));
    return f;
}

static int finish_file(FILE *f, const char *dir, const char *name, qs_error_t *err)
{
    int bad = ferror(f);
    bad |= fclose(f) != 0;
    if (bad)
        return qs_error_set(err, QS_ERR(IO), "%s/%s: write error", dir, name);
    return 0;
}

/* A value for a gnuplot data file ("?" is declared missing). */
static void dat_num(FILE *f, double v)
{
    if (isfinite(v))
        fprintf(f, " %.9g", v);
    else
        fputs(" ?", f);
}

/* Text safe inside a gnuplot double-quoted string (no enhanced mode is used). */
static void gp_text(char *dst, size_t cap, const char *src)
{
    size_t k = 0;
    for (; *src && k + 1 < cap; src++)
        dst[k++] = *src == '"' ? '\'' : *src == '\\' ? '/' : *src;
    dst[k] = '\0';
}

static double mean_of(double sum, uint32_t n)
{
    return n ? sum / n : NAN;
}

/* ---- charts ---------------------------------------------------------------------------- */

typedef struct {
    int accuracy, fidelity, scatter, species; /* which charts have data */
    uint32_t points, organisms_linked, stride;
    uint32_t species_points[QS_MAX_SPECIES]; /* scatter points of each species */
    /* R^2 has no lower bound: one diverged organism can drag a mean to -1e6 and flatten
     * every other value. Axes are cut at R2_FLOOR and the title says how many values
     * fall below. */
    uint32_t fid_below;     /* generation means below the floor */
    uint32_t scatter_below; /* scatter points left of the floor */
} chart_data_t;

#define R2_FLOOR -1.0

static int write_data(const qs_history_t *h, const char *dir, uint32_t nsp, chart_data_t *cd,
                      qs_error_t *err)
{
    int rc;
    FILE *f = create_in(dir, "generations.dat", err);
    if (!f)
        return QS_ERR(IO);
    fputs("# generation best_accuracy mean_accuracy mean_self_r2 mean_self_rel_err "
          "mean_link_r2 mean_link_rel_err population\n",
          f);
    for (uint32_t g = 0; g < h->ngens; g++) {
        const qs_hgen_t *gg = &h->gens[g];
        fprintf(f, "%u", g);
        double v[] = {gg->best_accuracy,
                      mean_of(gg->acc_sum, gg->acc_n),
                      mean_of(gg->r2_sum, gg->r2_n),
                      mean_of(gg->rel_sum, gg->rel_n),
                      mean_of(gg->link_r2_sum, gg->link_n),
                      mean_of(gg->link_rel_sum, gg->link_rel_n)};
        for (size_t k = 0; k < QS_ARRAY_LEN(v); k++)
            dat_num(f, v[k]);
        fprintf(f, " %u\n", gg->population);
        cd->accuracy |= gg->acc_n > 0;
        cd->fidelity |= gg->r2_n > 0 || gg->link_n > 0;
        cd->fid_below += v[2] < R2_FLOOR;
        cd->fid_below += v[4] < R2_FLOOR;
        cd->species |= gg->population > 0;
    }
    if ((rc = finish_file(f, dir, "generations.dat", err)) < 0)
        return rc;

    if (!(f = create_in(dir, "species.dat", err)))
        return QS_ERR(IO);
    fputs("# generation, then the cumulative count of species 0, 0..1, 0..2, ...\n", f);
    for (uint32_t g = 0; g < h->ngens; g++) {
        fprintf(f, "%u", g);
        uint32_t cum = 0;
        for (uint32_t s = 0; s < nsp; s++) {
            cum += h->gens[g].species_count[s];
            fprintf(f, " %u", cum);
        }
        fputc('\n', f);
    }
    if ((rc = finish_file(f, dir, "species.dat", err)) < 0)
        return rc;

    if (!(f = create_in(dir, "organisms.dat", err)))
        return QS_ERR(IO);
    fputs("# link_r2 accuracy species id born: organisms born by replication\n", f);
    uint32_t linked = 0;
    for (uint32_t i = 0; i < h->norgs; i++)
        linked +=
            h->orgs[i].has_link && isfinite(h->orgs[i].link_r2) && isfinite(h->orgs[i].accuracy);
    cd->organisms_linked = linked;
    cd->stride =
        linked > QS_PLOT_MAX_POINTS ? (linked + QS_PLOT_MAX_POINTS - 1) / QS_PLOT_MAX_POINTS : 1;
    uint32_t k = 0;
    for (uint32_t i = 0; i < h->norgs; i++) {
        const qs_horg_t *o = &h->orgs[i];
        if (!(o->has_link && isfinite(o->link_r2) && isfinite(o->accuracy)))
            continue;
        if (k++ % cd->stride)
            continue;
        fprintf(f, "%.9g %.9g %u %llu %u\n", o->link_r2, o->accuracy, o->species,
                (unsigned long long)o->id, o->born);
        cd->points++;
        cd->species_points[o->species]++;
        cd->scatter_below += o->link_r2 < R2_FLOOR;
    }
    cd->scatter = cd->points > 0;
    return finish_file(f, dir, "organisms.dat", err);
}

static void script_terminal(FILE *f)
{
    fputs("do for [fmt in \"png svg\"] {\n"
          "if (fmt eq \"png\") {\n"
          "    set terminal pngcairo size 960,600 noenhanced font \"DejaVu Sans,11\"\n"
          "} else {\n"
          "    set terminal svg size 960,600 noenhanced font \"DejaVu Sans,11\" "
          "background \"white\"\n"
          "}\n",
          f);
}

static int write_script(const qs_history_t *h, const char *label, const char *dir, uint32_t nsp,
                        const chart_data_t *cd, qs_error_t *err)
{
    FILE *f = create_in(dir, "plots.gp", err);
    if (!f)
        return QS_ERR(IO);
    char run[QS_NAME_MAX * 2];
    gp_text(run, sizeof run, label);
    fprintf(f, "# quinesim analyze: the charts of run %s. Redraw with: gnuplot plots.gp\n", run);
    fputs("set datafile missing \"?\"\n"
          "set grid lc rgb \"#dddddd\"\n"
          "set border lc rgb \"#444444\"\n"
          "set key box opaque\n",
          f);

    uint32_t last = h->ngens ? h->ngens - 1 : 0;
    fprintf(f, "set xrange [0:%u]\n", last > 0 ? last : 1);
    fprintf(f, "set xtics %s\n", last <= 10 ? "1" : "autofreq");
    script_terminal(f);

    if (cd->accuracy) {
        fprintf(f,
                "set output \"accuracy.\".fmt\n"
                "set title \"Test accuracy per generation (run %s)\"\n"
                "set xlabel \"generation\"\n"
                "set ylabel \"test accuracy (fraction of test images classified correctly)\"\n"
                "set yrange [0:1]\n"
                "set key default\n"
                "set key box opaque bottom right\n"
                "plot \"generations.dat\" using 1:2 with linespoints lw 2 pt 7 ps 0.6 "
                "lc rgb \"#0072B2\" title \"best organism\", \\\n"
                "     \"generations.dat\" using 1:3 with linespoints lw 2 pt 5 ps 0.5 "
                "lc rgb \"#E69F00\" title \"population mean\"\n"
                "set yrange [*:*]\n",
                run);
    }
    if (cd->fidelity) {
        char cut[128] = "";
        if (cd->fid_below)
            snprintf(cut, sizeof cut, "\\n(axis cut at R² = %g: %u mean%s below it, off the chart)",
                     R2_FLOOR, cd->fid_below, cd->fid_below == 1 ? "" : "s");
        fprintf(f,
                "set output \"fidelity.\".fmt\n"
                "set title \"Replication fidelity per generation (run %s)%s\"\n"
                "set xlabel \"generation\"\n"
                "set ylabel \"R² of predicted vs actual weights (1 = exact copy)\"\n"
                "set yrange [%s:*]\n"
                "set key default\n"
                "set key box opaque bottom right\n"
                "plot \"generations.dat\" using 1:4 with linespoints lw 2 pt 7 ps 0.6 "
                "lc rgb \"#009E73\" title \"mean self-prediction R² (after life)\", \\\n"
                "     \"generations.dat\" using 1:6 with linespoints lw 2 pt 5 ps 0.5 "
                "lc rgb \"#CC79A7\" title \"mean replication R² (child vs parent, births)\"\n"
                "set yrange [*:*]\n",
                run, cut, cd->fid_below ? "-1" : "*");
    }
    if (cd->scatter) {
        char thinned[96] = "", cut[128] = "";
        if (cd->stride > 1)
            snprintf(thinned, sizeof thinned, ", every %u. of %u organisms", cd->stride,
                     cd->organisms_linked);
        if (cd->scatter_below)
            snprintf(cut, sizeof cut,
                     "\\n(axis cut at R² = %g: %u organism%s left of it, off "
                     "the chart)",
                     R2_FLOOR, cd->scatter_below, cd->scatter_below == 1 ? "" : "s");
        fprintf(f,
                "set output \"accuracy_fidelity.\".fmt\n"
                "set title \"Accuracy vs replication fidelity (run %s: %u organisms born by "
                "replication%s)%s\"\n"
                "set xlabel \"replication fidelity: R² of the child's copy vs its parent\"\n"
                "set ylabel \"test accuracy (fraction correct)\"\n"
                "set xrange [%s:*]\n"
                "set yrange [*:*]\n"
                "set key default\n"
                "set key box opaque top left Left reverse width 1 title \"species\"\n",
                run, cd->points, thinned, cut, cd->scatter_below ? "-1" : "*");
        fputs("plot ", f);
        int first = 1;
        for (uint32_t s = 0; s < nsp; s++) {
            if (!cd->species_points[s])
                continue; /* no point of its own: no legend entry */
            char name[QS_NAME_MAX * 2], sbuf[32];
            gp_text(name, sizeof name, qs_history_species(h, s, sbuf, sizeof sbuf));
            fprintf(f,
                    "%s\"organisms.dat\" using ($3 == %u ? $1 : 1/0):2 with points pt 7 ps 0.5 "
                    "lc rgb \"%s\" title \"%s\"",
                    first ? "" : ", \\\n     ", s, palette[s % QS_ARRAY_LEN(palette)], name);
            first = 0;
        }
        fprintf(f, "\nset xrange [0:%u]\n", last > 0 ? last : 1);
    }
    if (cd->species) {
        fprintf(f,
                "set output \"species.\".fmt\n"
                "set title \"Species abundance per generation, stacked (run %s)\"\n"
                "set xlabel \"generation\"\n"
                "set ylabel \"organisms alive (count)\"\n"
                "set yrange [0:*]\n"
                "set key default\n"
                "set key box opaque outside right top Left reverse width 1 title \"species\"\n"
                "set style fill solid 0.85 border -1\n",
                run);
        fputs("plot ", f);
        /* Tallest band first: each lower one paints over it. */
        for (uint32_t k = nsp; k-- > 0;) {
            char name[QS_NAME_MAX * 2], sbuf[32];
            gp_text(name, sizeof name, qs_history_species(h, k, sbuf, sizeof sbuf));
            fprintf(
                f, "%s\"species.dat\" using 1:%u with filledcurves x1 lc rgb \"%s\" title \"%s\"",
                k == nsp - 1 ? "" : ", \\\n     ", k + 2, palette[k % QS_ARRAY_LEN(palette)], name);
        }
        fputs("\nset yrange [*:*]\nset style fill empty\n", f);
    }
    fputs("set output\n}\n", f);
    return finish_file(f, dir, "plots.gp", err);
}

int qs_plot_charts(const qs_history_t *h, const char *label, const char *dir, FILE *info,
                   qs_error_t *err)
{
    int rc = mkdir_p(dir, err);
    if (rc < 0)
        return rc;
    uint32_t nsp = h->nspecies;
    for (uint32_t i = 0; i < h->norgs; i++)
        nsp = QS_MAX(nsp, (uint32_t)h->orgs[i].species + 1);
    chart_data_t cd = {0};
    if ((rc = write_data(h, dir, nsp, &cd, err)) < 0)
        return rc;
    if (!cd.accuracy && !cd.fidelity && !cd.scatter && !cd.species)
        return qs_error_set(err, QS_ERR(INVAL), "%s: nothing to plot: no generation was evaluated",
                            dir);
    if ((rc = write_script(h, label, dir, nsp, &cd, err)) < 0)
        return rc;
    char log_path[QS_PATH_MAX + 32];
    snprintf(log_path, sizeof log_path, "%s/gnuplot.log", dir);
    char *argv[] = {"gnuplot", "plots.gp", NULL};
    if ((rc = run_tool(argv, dir, log_path, "gnuplot-nox", err)) < 0)
        return rc;
    static const char *const names[] = {"accuracy", "fidelity", "accuracy_fidelity", "species"};
    const int made[] = {cd.accuracy, cd.fidelity, cd.scatter, cd.species};
    static const char *const why[] = {
        "no organism has an accuracy (vanilla species only)", "no fidelity was recorded",
        "no organism born by replication has both an accuracy and a replication R²",
        "no organism was evaluated"};
    for (size_t k = 0; k < QS_ARRAY_LEN(names); k++) {
        if (made[k])
            fprintf(info, "plot: %s/%s.png and %s.svg\n", dir, names[k], names[k]);
        else
            fprintf(info, "plot: %s skipped: %s\n", names[k], why[k]);
    }
    fprintf(info, "plot: data and script in %s (redraw: cd %s && gnuplot plots.gp)\n", dir, dir);
    return 0;
}

/* ---- tree drawing ---------------------------------------------------------------------- */

static void write_dot(const qs_history_t *h, const char *label, const uint8_t *keep, uint32_t nkept,
                      int pruned, uint32_t nsp, FILE *f)
{
    char run[QS_NAME_MAX * 2];
    gp_text(run, sizeof run, label);
    uint32_t best = h->has_best ? qs_history_find(h, h->best_id) : QS_NONE;
    fprintf(f,
            "digraph ancestry {\n"
            "  graph [rankdir=TB, nodesep=0.15, ranksep=0.35, fontname=\"DejaVu Sans\", "
            "labelloc=t, fontsize=16,\n"
            "         label=\"Ancestry of run %s: %s (%u organisms)\\n"
            "rows = generation of birth; fill = species; double border = alive at the end; "
            "red = best organism\\nlabel: id and accuracy at its last evaluation "
            "(self-prediction R² without accuracy)\"];\n"
            "  node [shape=box, style=\"rounded,filled\", fontname=\"DejaVu Sans\", fontsize=10, "
            "margin=\"0.06,0.02\", height=0.3];\n"
            "  edge [arrowsize=0.5, color=\"#555555\"];\n",
            run, pruned ? "the survivors' ancestry" : "every organism", nkept);
    /* The generation axis. */
    uint32_t lo = UINT32_MAX, hi = 0;
    for (uint32_t i = 0; i < h->norgs; i++)
        if (keep[i]) {
            lo = QS_MIN(lo, h->orgs[i].born);
            hi = QS_MAX(hi, h->orgs[i].born);
        }
    fputs("  node [shape=plaintext, style=\"\", fontsize=11];\n", f);
    for (uint32_t g = lo; g <= hi; g++)
        fprintf(f, "  g%u [label=\"generation %u\"];\n", g, g);
    for (uint32_t g = lo; g < hi; g++)
        fprintf(f, "  g%u -> g%u [style=invis];\n", g, g + 1);
    fputs("  node [shape=box, style=\"rounded,filled\", fontsize=10];\n", f);
    char sbuf[32];
    for (uint32_t i = 0; i < h->norgs; i++) {
        if (!keep[i])
            continue;
        const qs_horg_t *o = &h->orgs[i];
        char value[32];
        if (isfinite(o->accuracy))
            snprintf(value, sizeof value, "acc %.3f", o->accuracy);
        else if (isfinite(o->r2))
            snprintf(value, sizeof value, "R² %.3f", o->r2);
        else
            snprintf(value, sizeof value, "-");
        fprintf(f,
                "  o%llu [label=\"%llu\\n%s\", fillcolor=\"%s\", peripheries=%d%s, "
                "tooltip=\"%s, born g%u\"];\n",
                (unsigned long long)o->id, (unsigned long long)o->id, value,
                palette_light[o->species % QS_ARRAY_LEN(palette_light)],
                qs_history_survivor(h, i) ? 2 : 1,
                i == best ? ", color=\"#D00000\", penwidth=2.5" : "",
                qs_history_species(h, o->species, sbuf, sizeof sbuf), o->born);
    }
    for (uint32_t g = lo; g <= hi; g++) {
        fprintf(f, "  { rank=same; g%u;", g);
        for (uint32_t i = 0; i < h->norgs; i++)
            if (keep[i] && h->orgs[i].born == g)
                fprintf(f, " o%llu;", (unsigned long long)h->orgs[i].id);
        fputs(" }\n", f);
    }
    for (uint32_t i = 0; i < h->norgs; i++)
        if (keep[i] && h->orgs[i].parent != QS_NONE && keep[h->orgs[i].parent])
            fprintf(f, "  o%llu -> o%llu;\n", (unsigned long long)h->orgs[h->orgs[i].parent].id,
                    (unsigned long long)h->orgs[i].id);
    /* Legend: the species colours. */
    fputs("  subgraph cluster_legend {\n    label=\"species\"; fontsize=11; color=\"#999999\";\n",
          f);
    for (uint32_t s = 0; s < nsp; s++) {
        char name[QS_NAME_MAX * 2];
        gp_text(name, sizeof name, qs_history_species(h, s, sbuf, sizeof sbuf));
        fprintf(f, "    legend%u [label=\"%s\", fillcolor=\"%s\"];\n", s, name,
                palette_light[s % QS_ARRAY_LEN(palette_light)]);
    }
    fputs("  }\n}\n", f);
}

int qs_plot_tree(const qs_history_t *h, const char *label, const char *svg, int all, FILE *info,
                 qs_error_t *err)
{
    int rc = 0;
    uint32_t n = h->norgs;
    if (n == 0)
        return qs_error_set(err, QS_ERR(INVAL), "--tree: the log holds no organism");
    uint8_t *keep = xmalloc(n);
    memset(keep, 1, n);
    uint32_t nkept = n;
    int pruned = 0;
    char dot_path[] = "/tmp/quinesim-tree-XXXXXX";
    int fd = -1;
    uint32_t whole = all ? QS_TREE_MAX_NODES : QS_TREE_MAX_WHOLE;
    if (n > whole) {
        uint32_t *parent, nsurv;
        qs_export_tree_arrays(h, &parent, NULL, NULL);
        uint8_t *surv = qs_export_survivors(h, &nsurv);
        nkept = nsurv ? qs_tree_ancestry(n, parent, surv, keep) : 0;
        free(parent);
        free(surv);
        if (all || nkept == 0 || nkept > QS_TREE_MAX_NODES) {
            rc = qs_error_set(err, QS_ERR(TOOBIG),
                              "--tree: %u organisms%s, and %u in the survivors' ancestry: more "
                              "than the %u a drawing can show legibly; export the tree with "
                              "--newick (--all) and open it in a tree viewer",
                              n, all ? " (--all)" : "", nkept, QS_TREE_MAX_NODES);
            goto out;
        }
        pruned = 1;
        fprintf(info,
                "tree: %u organisms are too many to draw whole (limit %u; --all: %u): drawing "
                "the survivors' ancestry, %u organisms\n",
                n, QS_TREE_MAX_WHOLE, QS_TREE_MAX_NODES, nkept);
    }
    uint32_t nsp = h->nspecies;
    for (uint32_t i = 0; i < n; i++)
        nsp = QS_MAX(nsp, (uint32_t)h->orgs[i].species + 1);
    fd = mkstemp(dot_path);
    if (fd < 0) {
        rc = qs_error_set(err, QS_ERR(IO), "--tree: cannot create a temporary file: %s",
                          strerror(errno));
        goto out;
    }
    FILE *f = fdopen(fd, "w");
    if (!f) {
        close(fd);
        rc = qs_error_set(err, QS_ERR(IO), "--tree: %s", strerror(errno));
        goto out;
    }
    write_dot(h, label, keep, nkept, pruned, nsp, f);
    if (ferror(f) | (fclose(f) != 0)) {
        rc = qs_error_set(err, QS_ERR(IO), "--tree: cannot write %s", dot_path);
        goto out;
    }
    char log_path[sizeof dot_path + 8];
    snprintf(log_path, sizeof log_path, "%s.log", dot_path);
    char *argv[] = {"dot", "-Tsvg", "-o", (char *)svg, dot_path, NULL};
    rc = run_tool(argv, NULL, log_path, "graphviz", err);
    unlink(log_path);
    if (rc == 0)
        fprintf(info, "tree: %s (%u organisms)\n", svg, nkept);
    else
        qs_error_prefix(err, "--tree %s", svg);
out:
    if (fd >= 0)
        unlink(dot_path);
    free(keep);
    return rc;
}
