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

/* R^2 has no lower bound: one diverged organism can drag a mean to -1e6 and flatten every
 * other value. Axes are cut at R2_FLOOR and the title says how many values fall below. */
#define R2_FLOOR -1.0

typedef struct {
    int accuracy, fidelity, scatter, species; /* which charts have data */
    int islands_accuracy, islands_fidelity;   /* [islands]: per-island curves */
    uint32_t points, organisms_linked, stride;
    uint32_t species_points[QS_MAX_SPECIES]; /* scatter points of each species */
    uint8_t sp_acc[QS_MAX_SPECIES], sp_r2[QS_MAX_SPECIES], sp_link[QS_MAX_SPECIES];
    uint32_t nsp_acc;              /* species with an accuracy */
    double acc_lo, acc_hi;         /* range of every accuracy evaluated */
    double r2_lo;                  /* lowest R^2 drawn (band minimum or mean), >= R2_FLOOR */
    uint32_t fid_below;            /* means below the floor */
    uint32_t band_below;           /* species-generations whose band reaches below the floor */
    uint32_t scatter_below;        /* scatter points left of the floor */
    double scatter_lo, scatter_hi; /* range of the scatter's accuracies */
    uint32_t peak;                 /* most organisms of one species in one generation */
} chart_data_t;

/* " n mean min max sd" of each of st[0..n), then the end of the row. sample: the sd with
 * n - 1 (none for one value), else the population's. */
static void dat_stats(FILE *f, const qs_hstat_t *const *st, size_t n, int sample)
{
    for (size_t k = 0; k < n; k++) {
        const qs_hstat_t *x = st[k];
        double sd = qs_hstat_sd(x);
        if (sample)
            sd = x->n > 1 ? sd * sqrt((double)x->n / (x->n - 1)) : NAN;
        fprintf(f, " %u", x->n);
        double v[] = {qs_hstat_mean(x), x->n ? x->min : NAN, x->n ? x->max : NAN, sd};
        for (size_t j = 0; j < QS_ARRAY_LEN(v); j++)
            dat_num(f, v[j]);
    }
    fputc('\n', f);
}

/* One block per species (gnuplot `index s`), one row per generation with a value:
 * generation, then for accuracy and self-prediction R^2 over the generation's evaluations
 * n mean min max sd, then the replication R^2 of its births n mean min max sd. A
 * generation without the species leaves a blank line, so that lines do not bridge it. */
static void write_species_block(const qs_history_t *h, uint32_t s, chart_data_t *cd, FILE *f)
{
    int gap = 0;
    for (uint32_t g = 0; g < h->ngens; g++) {
        const qs_hgen_t *gg = &h->gens[g];
        const qs_hstat_t *st[] = {&gg->sp_acc[s], &gg->sp_r2[s], &gg->sp_link_r2[s]};
        if (!st[0]->n && !st[1]->n && !st[2]->n) {
            if (!gap)
                fputc('\n', f);
            gap = 1;
            continue;
        }
        gap = 0;
        fprintf(f, "%u", g);
        dat_stats(f, st, QS_ARRAY_LEN(st), 0);
        if (st[0]->n) {
            cd->sp_acc[s] = 1;
            cd->acc_lo = QS_MIN(cd->acc_lo, st[0]->min);
            cd->acc_hi = QS_MAX(cd->acc_hi, st[0]->max);
        }
        for (size_t k = 1; k < 3; k++) {
            if (!st[k]->n)
                continue;
            double mean = qs_hstat_mean(st[k]);
            (k == 1 ? cd->sp_r2 : cd->sp_link)[s] = 1;
            cd->fid_below += mean < R2_FLOOR;
            cd->band_below += k == 1 && st[k]->min < R2_FLOOR;
            cd->r2_lo = QS_MIN(cd->r2_lo, QS_MAX(R2_FLOOR, k == 1 ? st[k]->min : mean));
        }
        cd->peak = QS_MAX(cd->peak, gg->species_count[s]);
    }
    fputs("\n\n", f);
}

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
        double v[] = {gg->st.best_accuracy,
                      mean_of(gg->st.accuracy.sum, gg->st.accuracy.n),
                      mean_of(gg->st.r2.sum, gg->st.r2.n),
                      mean_of(gg->st.rel_err.sum, gg->st.rel_err.n),
                      mean_of(gg->st.link_r2.sum, gg->st.link_r2.n),
                      mean_of(gg->st.link_rel_err.sum, gg->st.link_rel_err.n)};
        for (size_t k = 0; k < QS_ARRAY_LEN(v); k++)
            dat_num(f, v[k]);
        fprintf(f, " %u\n", gg->population);
        cd->accuracy |= gg->st.accuracy.n > 0;
        cd->fidelity |= gg->st.r2.n > 0 || gg->st.link_r2.n > 0;
        cd->species |= gg->population > 0;
    }
    if ((rc = finish_file(f, dir, "generations.dat", err)) < 0)
        return rc;

    if (!(f = create_in(dir, "species.dat", err)))
        return QS_ERR(IO);
    fputs("# one block per species (gnuplot: index S), one row per generation with the "
          "species:\n# generation, then n mean min max sd of: accuracy (fitness set), "
          "self-prediction R², replication R² of the births\n",
          f);
    cd->acc_lo = cd->scatter_lo = INFINITY;
    cd->acc_hi = cd->scatter_hi = -INFINITY;
    cd->r2_lo = 1;
    for (uint32_t s = 0; s < nsp; s++) {
        char sbuf[32];
        fprintf(f, "# species %u: %s\n", s, qs_history_species(h, s, sbuf, sizeof sbuf));
        write_species_block(h, s, cd, f);
        cd->nsp_acc += cd->sp_acc[s];
    }
    if ((rc = finish_file(f, dir, "species.dat", err)) < 0)
        return rc;

    if (!(f = create_in(dir, "abundance.dat", err)))
        return QS_ERR(IO);
    fputs("# generation, then the organisms of species 0, 1, ... evaluated in it, then all;\n"
          "# ? where a species is absent and was absent the generation before (so that the "
          "line of an\n# extinct species ends at its 0 instead of running along the axis)\n",
          f);
    for (uint32_t g = 0; g < h->ngens; g++) {
        fprintf(f, "%u", g);
        for (uint32_t s = 0; s < nsp; s++) {
            uint32_t c = h->gens[g].species_count[s];
            if (c || (g > 0 && h->gens[g - 1].species_count[s]))
                fprintf(f, " %u", c);
            else
                fputs(" ?", f);
        }
        fprintf(f, " %u\n", h->gens[g].population);
    }
    if ((rc = finish_file(f, dir, "abundance.dat", err)) < 0)
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
        cd->scatter_lo = QS_MIN(cd->scatter_lo, o->accuracy);
        cd->scatter_hi = QS_MAX(cd->scatter_hi, o->accuracy);
    }
    cd->scatter = cd->points > 0;
    if ((rc = finish_file(f, dir, "organisms.dat", err)) < 0 || h->nislands <= 1)
        return rc;

    if (!(f = create_in(dir, "islands.dat", err)))
        return QS_ERR(IO);
    fputs("# generation, then for island 0, 1, ...: its mean accuracy and mean self-prediction "
          "R² (? if none)\n",
          f);
    for (uint32_t g = 0; g < h->ngens; g++) {
        fprintf(f, "%u", g);
        for (uint32_t isle = 0; isle < h->nislands; isle++) {
            const qs_higen_t *ig = qs_history_island_gen(h, g, isle);
            dat_num(f, mean_of(ig->st.accuracy.sum, ig->st.accuracy.n));
            dat_num(f, mean_of(ig->st.r2.sum, ig->st.r2.n));
            cd->islands_accuracy |= ig->st.accuracy.n > 0;
            cd->islands_fidelity |= ig->st.r2.n > 0;
        }
        fputc('\n', f);
    }
    return finish_file(f, dir, "islands.dat", err);
}

/* The same, height pixels high. */
static void script_terminal_height(FILE *f, unsigned height)
{
    fprintf(f,
            "do for [fmt in \"png svg\"] {\n"
            "if (fmt eq \"png\") {\n"
            "    set terminal pngcairo size 960,%u noenhanced font \"DejaVu Sans,11\"\n"
            "} else {\n"
            "    set terminal svg size 960,%u noenhanced font \"DejaVu Sans,11\" "
            "background \"white\"\n"
            "}\n",
            height, height);
}

static void script_terminal(FILE *f)
{
    script_terminal_height(f, 600);
}

/* "set yrange [lo:hi]" around [lo, hi] with a 6% margin, inside [floor, ceil]. */
static void data_yrange(FILE *f, double lo, double hi, double floor_, double ceil_)
{
    double span = hi - lo > 1e-9 ? hi - lo : 0.05;
    fprintf(f, "set yrange [%.6g:%.6g]\n", QS_MAX(floor_, lo - 0.06 * span),
            QS_MIN(ceil_, hi + 0.06 * span));
}

/* A species' colour, and its name made safe for gnuplot. */
static const char *sp_name(const qs_history_t *h, uint32_t s, char *name, size_t cap)
{
    char sbuf[32];
    gp_text(name, cap, qs_history_species(h, s, sbuf, sizeof sbuf));
    return name;
}

static const char *sp_colour(uint32_t s)
{
    return palette[s % QS_ARRAY_LEN(palette)];
}

static void chart_accuracy(const qs_history_t *h, const char *run, uint32_t nsp,
                           const chart_data_t *cd, FILE *f)
{
    fprintf(f,
            "set output \"accuracy.\".fmt\n"
            "set title \"Accuracy on the fitness set per generation (run %s)\\n"
            "line: mean over the species' organisms; band: their min-max\"\n"
            "set xlabel \"generation\"\n"
            "set ylabel \"fitness-set accuracy (fraction correct)\"\n"
            "set key default\n"
            "set key box opaque outside right top vertical Left reverse width 1\n",
            run);
    data_yrange(f, cd->acc_lo, cd->acc_hi, 0, 1);
    fputs("plot ", f);
    const char *sep = "";
    for (uint32_t s = 0; s < nsp; s++) {
        if (!cd->sp_acc[s])
            continue;
        char name[QS_NAME_MAX * 2];
        fprintf(f,
                "%s\"species.dat\" index %u using 1:4:5 with filledcurves lc rgb \"%s\" "
                "fs transparent solid 0.22 noborder notitle, \\\n"
                "     \"species.dat\" index %u using 1:3 with linespoints lw 2 pt 7 ps 0.5 "
                "lc rgb \"%s\" title \"%s\"",
                sep, s, sp_colour(s), s, sp_colour(s), sp_name(h, s, name, sizeof name));
        sep = ", \\\n     ";
    }
    fputs("\n", f);
}

static void chart_fidelity(const qs_history_t *h, const char *run, uint32_t nsp,
                           const chart_data_t *cd, FILE *f)
{
    char cut[200] = "";
    if (cd->fid_below || cd->band_below)
        snprintf(cut, sizeof cut,
                 "\\n(axis cut at R² = %g: %u mean%s below it, off the chart; %u band%s "
                 "reach%s below)",
                 R2_FLOOR, cd->fid_below, cd->fid_below == 1 ? "" : "s", cd->band_below,
                 cd->band_below == 1 ? "" : "s", cd->band_below == 1 ? "es" : "");
    fprintf(f,
            "set output \"fidelity.\".fmt\n"
            "set title \"Replication fidelity per generation (run %s)\\n"
            "solid: organisms' self-prediction R² (mean, band min-max)\\n"
            "dashed: births' copies vs their parents (mean)%s\"\n"
            "set xlabel \"generation\"\n"
            "set ylabel \"R² of predicted vs actual weights (1 = exact copy)\"\n"
            "set key default\n"
            "set key box opaque outside right top vertical Left reverse width 1\n",
            run, cut);
    data_yrange(f, cd->r2_lo, 1, R2_FLOOR, 1.02);
    fputs("plot ", f);
    const char *sep = "";
    for (uint32_t s = 0; s < nsp; s++) {
        char name[QS_NAME_MAX * 2];
        sp_name(h, s, name, sizeof name);
        if (cd->sp_r2[s]) {
            fprintf(f,
                    "%s\"species.dat\" index %u using 1:($9 < %g ? %g : $9):10 with filledcurves "
                    "lc rgb \"%s\" fs transparent solid 0.22 noborder notitle, \\\n"
                    "     \"species.dat\" index %u using 1:8 with linespoints lw 2 pt 7 ps 0.5 "
                    "lc rgb \"%s\" title \"%s: self-prediction\"",
                    sep, s, R2_FLOOR, R2_FLOOR, sp_colour(s), s, sp_colour(s), name);
            sep = ", \\\n     ";
        }
        if (cd->sp_link[s]) {
            fprintf(f,
                    "%s\"species.dat\" index %u using 1:13 with linespoints lw 2 dt 2 pt 4 "
                    "ps 0.5 lc rgb \"%s\" title \"%s: child vs parent\"",
                    sep, s, sp_colour(s), name);
            sep = ", \\\n     ";
        }
    }
    fputs("\n", f);
}

/* Point shapes by species (filled circle, square, triangle, diamond, ...). */
static const int shapes[] = {7, 5, 9, 13, 11, 15};

static void chart_scatter(const qs_history_t *h, const char *run, uint32_t nsp, uint32_t last,
                          const chart_data_t *cd, FILE *f)
{
    char thinned[96] = "", cut[128] = "";
    if (cd->stride > 1)
        snprintf(thinned, sizeof thinned, ", every %u. of %u organisms", cd->stride,
                 cd->organisms_linked);
    if (cd->scatter_below)
        snprintf(cut, sizeof cut,
                 "\\n(axis cut at R² = %g: %u organism%s left of it, off "
                 "the chart)",
                 R2_FLOOR, cd->scatter_below, cd->scatter_below == 1 ? "" : "s");
    int several = 0;
    for (uint32_t s = 0, seen = 0; s < nsp; s++)
        several = (seen += cd->species_points[s] > 0) > 1;
    fprintf(f,
            "set output \"accuracy_fidelity.\".fmt\n"
            "set title \"Accuracy vs replication fidelity (run %s: %u organisms born by "
            "replication%s)%s\"\n"
            "set xlabel \"replication fidelity: R² of the child's inherited weights vs its "
            "parent's\"\n"
            "set ylabel \"fitness-set accuracy (fraction correct)\"\n"
            "set xrange [%s:*]\n"
            "set palette defined (0 \"#440154\", 1 \"#3B528B\", 2 \"#21908C\", 3 \"#5DC863\", "
            "4 \"#FDE725\")\n"
            "set cbrange [0:%u]\n"
            "set cblabel \"generation of birth\"\n"
            "set colorbox\n"
            "set key default\n"
            "%s\n",
            run, cd->points, thinned, cut, cd->scatter_below ? "-1" : "*", last ? last : 1,
            several ? "set key box opaque top left Left reverse width 1 title \"species\""
                    : "unset key");
    data_yrange(f, cd->scatter_lo, cd->scatter_hi, 0, 1);
    fputs("plot ", f);
    const char *sep = "";
    for (uint32_t s = 0; s < nsp; s++) {
        if (!cd->species_points[s])
            continue; /* no point of its own: no legend entry */
        char name[QS_NAME_MAX * 2];
        int pt = shapes[s % QS_ARRAY_LEN(shapes)];
        /* Hollow-edged small points: overlapping ones stay visible as density. */
        fprintf(f,
                "%s\"organisms.dat\" using ($3 == %u ? $1 : 1/0):2:5 with points pt %d ps 0.45 "
                "lc palette notitle",
                sep, s, pt);
        if (several)
            fprintf(f, ", \\\n     1/0 with points pt %d ps 1 lc rgb \"#444444\" title \"%s\"", pt,
                    sp_name(h, s, name, sizeof name));
        sep = ", \\\n     ";
    }
    fputs("\nunset colorbox\nset key\nset xrange [*:*]\n", f);
}

static void chart_species(const qs_history_t *h, const char *run, uint32_t nsp,
                          const chart_data_t *cd, FILE *f)
{
    fprintf(f,
            "set output \"species.\".fmt\n"
            "set title \"Organisms of each species per generation (run %s)\"\n"
            "set xlabel \"generation\"\n"
            "set ylabel \"organisms evaluated (count)\"\n"
            "set yrange [0:%u]\n"
            "set key default\n"
            "set key box opaque outside right top Left reverse width 1 title \"species\"\n",
            run, (cd->peak + cd->peak / 10 + 1));
    fputs("plot ", f);
    const char *sep = "";
    for (uint32_t s = 0; s < nsp; s++) {
        char name[QS_NAME_MAX * 2];
        fprintf(f,
                "%s\"abundance.dat\" using 1:%u with linespoints lw 2.5 pt 7 ps 0.4 lc rgb \"%s\" "
                "title \"%s\"",
                sep, s + 2, sp_colour(s), sp_name(h, s, name, sizeof name));
        sep = ", \\\n     ";
    }
    fputs("\n", f);
}

/* One line per island of islands.dat's column `col` (1: accuracy, 2: R²); the key only
 * while it stays readable. */
static void chart_islands(const qs_history_t *h, const char *run, int col, const chart_data_t *cd,
                          FILE *f)
{
    fprintf(f,
            "set output \"islands_%s.\".fmt\n"
            "set title \"%s per island and generation (run %s: %u islands)\"\n"
            "set xlabel \"generation\"\n"
            "set ylabel \"%s\"\n"
            "set key default\n"
            "%s\n",
            col == 1 ? "accuracy" : "fidelity",
            col == 1 ? "Mean fitness-set accuracy" : "Mean self-prediction R²", run, h->nislands,
            col == 1 ? "fitness-set accuracy (fraction correct)"
                     : "R² of predicted vs actual weights (1 = exact copy)",
            h->nislands <= 16 ? "set key box opaque outside right top vertical Left reverse "
                                "title \"island\""
                              : "unset key");
    if (col == 1)
        data_yrange(f, cd->acc_lo, cd->acc_hi, 0, 1);
    else
        data_yrange(f, cd->r2_lo, 1, R2_FLOOR, 1.02);
    fputs("plot ", f);
    for (uint32_t k = 0; k < h->nislands; k++)
        fprintf(f,
                "%s\"islands.dat\" using 1:($%u < %g ? 1/0 : $%u) with linespoints lw 2 pt 7 "
                "ps 0.4 lc rgb \"%s\" title \"%u\"",
                k ? ", \\\n     " : "", 2 + 2 * k + col - 1, R2_FLOOR, 2 + 2 * k + col - 1,
                sp_colour(k), k);
    fputs("\nset key\n", f);
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
          "set grid xtics ytics back lt 1 lw 1 lc rgb \"#dddddd\"\n"
          "set border lc rgb \"#444444\"\n"
          "set key box opaque\n",
          f);
    uint32_t last = h->ngens ? h->ngens - 1 : 0;
    fprintf(f, "set xrange [0:%u]\n", last > 0 ? last : 1);
    fprintf(f, "set xtics %s\n", last <= 10 ? "1" : "autofreq");
    script_terminal(f);
    if (cd->accuracy)
        chart_accuracy(h, run, nsp, cd, f);
    if (cd->fidelity)
        chart_fidelity(h, run, nsp, cd, f);
    if (cd->scatter) {
        fputs("set xtics autofreq\n", f);
        chart_scatter(h, run, nsp, last, cd, f);
        fprintf(f, "set xrange [0:%u]\nset xtics %s\n", last > 0 ? last : 1,
                last <= 10 ? "1" : "autofreq");
    }
    if (cd->species)
        chart_species(h, run, nsp, cd, f);
    if (cd->islands_accuracy)
        chart_islands(h, run, 1, cd, f);
    if (cd->islands_fidelity)
        chart_islands(h, run, 2, cd, f);
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
    if (cd.islands_accuracy)
        fprintf(info, "plot: %s/islands_accuracy.png and islands_accuracy.svg\n", dir);
    if (cd.islands_fidelity)
        fprintf(info, "plot: %s/islands_fidelity.png and islands_fidelity.svg\n", dir);
    fprintf(info, "plot: data and script in %s (redraw: cd %s && gnuplot plots.gp)\n", dir, dir);
    return 0;
}

/* ---- several runs ---------------------------------------------------------------------- */

void qs_plot_runs_init(qs_plot_runs_t *r)
{
    memset(r, 0, sizeof *r);
}

void qs_plot_runs_destroy(qs_plot_runs_t *r)
{
    free(r->acc);
    free(r->r2);
    free(r->link_r2);
    memset(r, 0, sizeof *r);
}

/* Room for ngens generations in every series of r. */
static void runs_reserve(qs_plot_runs_t *r, uint32_t ngens)
{
    if (ngens > r->cap) {
        uint32_t cap = QS_MAX(ngens, r->cap * 2);
        qs_hstat_t **arrays[] = {&r->acc, &r->r2, &r->link_r2};
        for (size_t k = 0; k < QS_ARRAY_LEN(arrays); k++) {
            *arrays[k] = xrealloc(*arrays[k], (size_t)cap * sizeof **arrays[k]);
            memset(*arrays[k] + r->cap, 0, (size_t)(cap - r->cap) * sizeof **arrays[k]);
        }
        r->cap = cap;
    }
    r->ngens = QS_MAX(r->ngens, ngens);
}

void qs_plot_runs_add(qs_plot_runs_t *r, const qs_history_t *h)
{
    runs_reserve(r, h->ngens);
    for (uint32_t g = 0; g < h->ngens; g++) {
        const qs_hgen_t *gg = &h->gens[g];
        double v[] = {mean_of(gg->st.accuracy.sum, gg->st.accuracy.n),
                      mean_of(gg->st.r2.sum, gg->st.r2.n),
                      mean_of(gg->st.link_r2.sum, gg->st.link_r2.n)};
        qs_hstat_t *at[] = {&r->acc[g], &r->r2[g], &r->link_r2[g]};
        for (size_t k = 0; k < QS_ARRAY_LEN(v); k++)
            if (isfinite(v[k]))
                qs_hstat_add(at[k], v[k]);
    }
    r->nruns++;
}

static void hstat_merge(qs_hstat_t *d, const qs_hstat_t *s)
{
    if (!s->n)
        return;
    d->min = d->n ? fmin(d->min, s->min) : s->min;
    d->max = d->n ? fmax(d->max, s->max) : s->max;
    d->n += s->n;
    d->sum += s->sum;
    d->sumsq += s->sumsq;
}

void qs_plot_runs_merge(qs_plot_runs_t *dst, const qs_plot_runs_t *src)
{
    runs_reserve(dst, src->ngens);
    for (uint32_t g = 0; g < src->ngens; g++) {
        hstat_merge(&dst->acc[g], &src->acc[g]);
        hstat_merge(&dst->r2[g], &src->r2[g]);
        hstat_merge(&dst->link_r2[g], &src->link_r2[g]);
    }
    dst->nruns += src->nruns;
}

int qs_plot_runs_charts(const qs_plot_runs_t *r, const char *dir, FILE *info, qs_error_t *err)
{
    return qs_plot_groups_charts(r, NULL, 1, dir, info, err);
}

/* What the runs' data holds, for the script: whether there is an accuracy and a fidelity to
 * draw, their ranges, the longest run and how many runs. */
typedef struct {
    int acc, fid;
    double acc_lo, acc_hi, r2_lo;
    uint32_t ngens, nruns;
} runs_extent_t;

/* runs.dat: one block of rows per group, a row per generation; x gets what it holds. */
static int runs_data(const qs_plot_runs_t *groups, const char *const *labels, uint32_t n,
                     const char *dir, runs_extent_t *x, qs_error_t *err)
{
    FILE *f = create_in(dir, "runs.dat", err);
    if (!f)
        return QS_ERR(IO);
    fputs("# generation, then for the population mean accuracy, self-prediction R² and "
          "replication R² of each run:\n# runs mean min max sd (over the runs; sd with n - 1)\n",
          f);
    if (n > 1)
        fputs("# one block per group of runs (gnuplot: index k), in the order of the key\n", f);
    *x = (runs_extent_t){.acc_lo = INFINITY, .acc_hi = -INFINITY, .r2_lo = 1};
    for (uint32_t k = 0; k < n; k++) {
        const qs_plot_runs_t *r = &groups[k];
        x->ngens = QS_MAX(x->ngens, r->ngens);
        x->nruns += r->nruns;
        if (k > 0)
            fputs("\n\n", f);
        if (n > 1)
            fprintf(f, "# group %u: %s\n", k + 1, labels[k]);
        for (uint32_t g = 0; g < r->ngens; g++) {
            fprintf(f, "%u", g);
            const qs_hstat_t *st[] = {&r->acc[g], &r->r2[g], &r->link_r2[g]};
            dat_stats(f, st, QS_ARRAY_LEN(st), 1);
            if (st[0]->n) {
                x->acc = 1;
                x->acc_lo = QS_MIN(x->acc_lo, st[0]->min);
                x->acc_hi = QS_MAX(x->acc_hi, st[0]->max);
            }
            for (size_t j = 1; j < 3; j++)
                if (st[j]->n) {
                    x->fid = 1;
                    x->r2_lo = QS_MIN(x->r2_lo, QS_MAX(R2_FLOOR, st[j]->min));
                }
        }
    }
    return finish_file(f, dir, "runs.dat", err);
}

/* runs.gp's accuracy chart: per group a band (lowest to highest run), bars and a line. */
static void script_accuracy_runs(FILE *f, const char *const *labels, uint32_t n, const char *what,
                                 const runs_extent_t *x)
{
    const size_t npal = QS_ARRAY_LEN(palette);
    fprintf(f,
            "set output \"accuracy_runs.\".fmt\n"
            "set title \"Population mean fitness-set accuracy over %s\\n"
            "line: mean of the runs' means; band: lowest to highest run; bars: sd over "
            "runs\"\n"
            "set ylabel \"fitness-set accuracy (fraction correct)\"\n",
            what);
    data_yrange(f, x->acc_lo, x->acc_hi, 0, 1);
    if (n > 1)
        fprintf(f, "set bmargin %u\n", 5 + (n * 23 + 19) / 20);
    fputs("plot", f);
    for (uint32_t k = 0; k < n; k++) {
        char t[512], band[600], bars[600], line[600];
        if (n == 1) {
            snprintf(band, sizeof band, "title \"range of the runs\"");
            snprintf(bars, sizeof bars, "title \"mean ± sd\"");
            snprintf(line, sizeof line, "notitle");
        } else {
            gp_text(t, sizeof t, labels[k]);
            snprintf(band, sizeof band, "notitle");
            snprintf(bars, sizeof bars, "notitle");
            snprintf(line, sizeof line, "title \"%s\"", t);
        }
        const char *c = palette[k % npal];
        fprintf(f,
                "%s \"runs.dat\" index %u using 1:4:5 with filledcurves lc rgb \"%s\" "
                "fs transparent solid %s noborder %s, \\\n"
                "     \"runs.dat\" index %u using 1:3:6 with yerrorbars lc rgb \"%s\" pt 7 "
                "ps 0.4 %s, \\\n"
                "     \"runs.dat\" index %u using 1:3 with lines lw 2 lc rgb \"%s\" %s",
                k ? ", \\\n    " : "", k, c, n > 1 ? "0.15" : "0.22", band, k, c, bars, k, c, line);
    }
    fputc('\n', f);
}

/* runs.gp's fidelity chart: self-prediction (band, bars, line) and child vs parent. */
static void script_fidelity_runs(FILE *f, const char *const *labels, uint32_t n, const char *what,
                                 const runs_extent_t *x)
{
    const size_t npal = QS_ARRAY_LEN(palette);
    fprintf(f,
            "set output \"fidelity_runs.\".fmt\n"
            "set title \"Replication fidelity over %s\\n"
            "lines: mean of the runs' means; band: lowest to highest run; bars: sd over "
            "runs\"\n"
            "set ylabel \"R² of predicted vs actual weights (1 = exact copy)\"\n",
            what);
    data_yrange(f, x->r2_lo, 1, R2_FLOOR, 1.02);
    if (n == 1) {
        fprintf(f,
                "plot \"runs.dat\" using 1:($9 < %g ? %g : $9):10 with filledcurves lc rgb "
                "\"%s\" fs transparent solid 0.22 noborder title \"self-prediction: "
                "range\", \\\n"
                "     \"runs.dat\" using 1:8:11 with yerrorbars lc rgb \"%s\" pt 7 ps 0.4 "
                "title \"self-prediction: mean ± sd\", \\\n"
                "     \"runs.dat\" using 1:8 with lines lw 2 lc rgb \"%s\" notitle, \\\n"
                "     \"runs.dat\" using 1:13:16 with yerrorbars lc rgb \"%s\" pt 4 ps 0.4 "
                "title \"child vs parent: mean ± sd\", \\\n"
                "     \"runs.dat\" using 1:13 with lines lw 2 dt 2 lc rgb \"%s\" notitle\n",
                R2_FLOOR, R2_FLOOR, palette[2], palette[2], palette[2], palette[3], palette[3]);
        return;
    }
    /* per group: self-prediction band, bars and line; child vs parent dashed */
    fprintf(f, "set bmargin %u\n", 5 + (2 * n * 23 + 19) / 20);
    fputs("plot", f);
    for (uint32_t k = 0; k < n; k++) {
        char t[512];
        gp_text(t, sizeof t, labels[k]);
        const char *c = palette[k % npal];
        fprintf(f,
                "%s \"runs.dat\" index %u using 1:($9 < %g ? %g : $9):10 with "
                "filledcurves lc rgb \"%s\" fs transparent solid 0.15 noborder "
                "notitle, \\\n"
                "     \"runs.dat\" index %u using 1:8:11 with yerrorbars lc rgb \"%s\" "
                "pt 7 ps 0.4 notitle, \\\n"
                "     \"runs.dat\" index %u using 1:8 with lines lw 2 lc rgb \"%s\" "
                "title \"%s: self-prediction\", \\\n"
                "     \"runs.dat\" index %u using 1:13 with lines lw 2 dt 2 lc rgb "
                "\"%s\" title \"%s: child vs parent\"",
                k ? ", \\\n    " : "", k, R2_FLOOR, R2_FLOOR, c, k, c, k, c, t, k, c, t);
    }
    fputc('\n', f);
}

int qs_plot_groups_charts(const qs_plot_runs_t *groups, const char *const *labels, uint32_t n,
                          const char *dir, FILE *info, qs_error_t *err)
{
    int rc = mkdir_p(dir, err);
    if (rc < 0)
        return rc;
    runs_extent_t x;
    if ((rc = runs_data(groups, labels, n, dir, &x, err)) < 0)
        return rc;
    if (!x.acc && !x.fid)
        return qs_error_set(err, QS_ERR(INVAL), "%s: nothing to plot across the runs", dir);

    FILE *f = create_in(dir, "runs.gp", err);
    if (!f)
        return QS_ERR(IO);
    uint32_t last = x.ngens ? x.ngens - 1 : 0;
    char what[64];
    if (n > 1)
        snprintf(what, sizeof what, "%u runs in %u groups", x.nruns, n);
    else
        snprintf(what, sizeof what, "%u runs", x.nruns);
    fprintf(f,
            "# quinesim analyze: %s side by side. Redraw with: gnuplot runs.gp\n"
            "set datafile missing \"?\"\n"
            "set grid xtics ytics back lt 1 lw 1 lc rgb \"#dddddd\"\n"
            "set border lc rgb \"#444444\"\n"
            "set xrange [0:%u]\n"
            "set xtics %s\n"
            "set xlabel \"generation\"\n"
            "%s\n",
            what, last > 0 ? last : 1, last <= 10 ? "1" : "autofreq",
            n > 1 ? "set key box opaque below center vertical Left reverse maxcols 1 width 1"
                  : "set key box opaque outside right top vertical Left reverse width 1");
    /* Groups: the key below the chart, one line per group (accuracy) or two (fidelity),
     * the canvas taller by as much. */
    if (n > 1)
        script_terminal_height(f, 600 + 20 * 2 * QS_MIN(n, 40u));
    else
        script_terminal(f);
    if (x.acc)
        script_accuracy_runs(f, labels, n, what, &x);
    if (x.fid)
        script_fidelity_runs(f, labels, n, what, &x);
    fputs("set output\n}\n", f);
    if ((rc = finish_file(f, dir, "runs.gp", err)) < 0)
        return rc;
    char log_path[QS_PATH_MAX + 32];
    snprintf(log_path, sizeof log_path, "%s/gnuplot-runs.log", dir);
    char *argv[] = {"gnuplot", "runs.gp", NULL};
    if ((rc = run_tool(argv, dir, log_path, "gnuplot-nox", err)) < 0)
        return rc;
    if (x.acc)
        fprintf(info, "plot: %s/accuracy_runs.png and .svg (%s)\n", dir, what);
    if (x.fid)
        fprintf(info, "plot: %s/fidelity_runs.png and .svg (%s)\n", dir, what);
    return 0;
}

/* ---- tree drawing ---------------------------------------------------------------------- */

/* Fill by self-prediction R^2 at the organism's last evaluation (light: copies itself
 * poorly, dark: well), in bins a reader can tell apart; the darkest take white text. */
static const struct {
    double below;
    const char *fill, *label;
} r2_bins[] = {
    {0.0, "#F2F2F2", "R² < 0"},      {0.5, "#EDF8B1", "0 - 0.5"},
    {0.8, "#C7E9B4", "0.5 - 0.8"},   {0.9, "#7FCDBB", "0.8 - 0.9"},
    {0.95, "#1D91C0", "0.9 - 0.95"}, {INFINITY, "#0C2C84", "0.95 - 1"},
};
#define R2_BIN_DARK 4 /* bins from here on take white text */

static uint32_t r2_bin(double r2)
{
    uint32_t b = 0;
    while (b + 1 < QS_ARRAY_LEN(r2_bins) && !(r2 < r2_bins[b].below))
        b++;
    return b;
}

static void write_dot(const qs_history_t *h, const char *label, const uint8_t *keep, uint32_t nkept,
                      int pruned, uint32_t nsp, FILE *f)
{
    char run[QS_NAME_MAX * 2];
    gp_text(run, sizeof run, label);
    uint32_t best = h->has_best ? qs_history_find(h, h->best_id) : QS_NONE;
    fprintf(f,
            "digraph ancestry {\n"
            "  graph [rankdir=TB, nodesep=0.15, ranksep=0.3, fontname=\"DejaVu Sans\", "
            "labelloc=t, fontsize=16,\n"
            "         label=\"Ancestry of run %s: %s (%u organisms)\\n"
            "rows = generation of birth (generations with no birth drawn are left out); "
            "fill = self-prediction R²; border = species; double border = alive at the end\\n"
            "label: id, accuracy and R² at its last evaluation; the best organism (red) "
            "at the evaluation that made it best\"];\n"
            "  node [shape=box, style=\"rounded,filled\", fontname=\"DejaVu Sans\", fontsize=10, "
            "margin=\"0.06,0.02\", height=0.3, penwidth=2];\n"
            "  edge [arrowsize=0.5, color=\"#555555\"];\n",
            run, pruned ? "the survivors' ancestry" : "every organism", nkept);
    /* The generation axis: only generations in which a drawn organism was born. */
    uint32_t lo = UINT32_MAX, hi = 0;
    for (uint32_t i = 0; i < h->norgs; i++)
        if (keep[i]) {
            lo = QS_MIN(lo, h->orgs[i].born);
            hi = QS_MAX(hi, h->orgs[i].born);
        }
    uint8_t *row = xcalloc(hi - lo + 1, 1);
    for (uint32_t i = 0; i < h->norgs; i++)
        if (keep[i])
            row[h->orgs[i].born - lo] = 1;
    fputs("  node [shape=plaintext, style=\"\", fontsize=11];\n", f);
    uint32_t prev = UINT32_MAX;
    for (uint32_t g = lo; g <= hi; g++) {
        if (!row[g - lo])
            continue;
        fprintf(f, "  g%u [label=\"generation %u\"];\n", g, g);
        if (prev != UINT32_MAX)
            fprintf(f, "  g%u -> g%u [style=invis];\n", prev, g);
        prev = g;
    }
    fputs("  node [shape=box, style=\"rounded,filled\", fontsize=10];\n", f);
    char sbuf[32];
    for (uint32_t i = 0; i < h->norgs; i++) {
        if (!keep[i])
            continue;
        const qs_horg_t *o = &h->orgs[i];
        double acc = i == best ? h->best_accuracy : o->accuracy;
        double r2 = i == best ? h->best_r2 : o->r2;
        char value[96] = "", at[48] = "";
        size_t k = 0;
        if (isfinite(acc))
            k += (size_t)snprintf(value + k, sizeof value - k, "acc %.3f", acc);
        if (isfinite(r2))
            k += (size_t)snprintf(value + k, sizeof value - k, "%sR² %.2f", k ? "  " : "", r2);
        if (!k)
            snprintf(value, sizeof value, "not evaluated");
        if (i == best)
            snprintf(at, sizeof at, "\\nbest at generation %u", h->best_generation);
        uint32_t b = r2_bin(r2);
        fprintf(f,
                "  o%llu [label=\"%llu%s\\n%s\", fillcolor=\"%s\", fontcolor=\"%s\", "
                "color=\"%s\", peripheries=%d%s, tooltip=\"%s, born in generation %u\"];\n",
                (unsigned long long)o->id, (unsigned long long)o->id, at, value,
                isfinite(r2) ? r2_bins[b].fill : "#FFFFFF",
                isfinite(r2) && b >= R2_BIN_DARK ? "#FFFFFF" : "#000000",
                i == best ? "#D00000" : palette[o->species % QS_ARRAY_LEN(palette)],
                qs_history_survivor(h, i) ? 2 : 1, i == best ? ", penwidth=3.5" : "",
                qs_history_species(h, o->species, sbuf, sizeof sbuf), o->born);
    }
    for (uint32_t g = lo; g <= hi; g++) {
        if (!row[g - lo])
            continue;
        fprintf(f, "  { rank=same; g%u;", g);
        for (uint32_t i = 0; i < h->norgs; i++)
            if (keep[i] && h->orgs[i].born == g)
                fprintf(f, " o%llu;", (unsigned long long)h->orgs[i].id);
        fputs(" }\n", f);
    }
    free(row);
    for (uint32_t i = 0; i < h->norgs; i++)
        if (keep[i] && h->orgs[i].parent != QS_NONE && keep[h->orgs[i].parent])
            fprintf(f, "  o%llu -> o%llu;\n", (unsigned long long)h->orgs[h->orgs[i].parent].id,
                    (unsigned long long)h->orgs[i].id);
    /* Legends: the R² fills, and the species borders. */
    fputs("  subgraph cluster_legend_r2 {\n    label=\"self-prediction R²\"; fontsize=11; "
          "color=\"#999999\";\n",
          f);
    for (size_t b = 0; b < QS_ARRAY_LEN(r2_bins); b++)
        fprintf(f,
                "    legend_r2_%zu [label=\"%s\", fillcolor=\"%s\", fontcolor=\"%s\", "
                "color=\"#999999\", penwidth=1];\n",
                b, r2_bins[b].label, r2_bins[b].fill, b >= R2_BIN_DARK ? "#FFFFFF" : "#000000");
    for (size_t b = 0; b + 1 < QS_ARRAY_LEN(r2_bins); b++)
        fprintf(f, "    legend_r2_%zu -> legend_r2_%zu [style=invis];\n", b, b + 1);
    fputs("  }\n  subgraph cluster_legend {\n    label=\"species\"; fontsize=11; "
          "color=\"#999999\";\n",
          f);
    for (uint32_t s = 0; s < nsp; s++) {
        char name[QS_NAME_MAX * 2];
        gp_text(name, sizeof name, qs_history_species(h, s, sbuf, sizeof sbuf));
        fprintf(f, "    legend%u [label=\"%s\", fillcolor=\"#FFFFFF\", color=\"%s\"];\n", s, name,
                palette[s % QS_ARRAY_LEN(palette)]);
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
        if (all) {
            char why[128];
            snprintf(why, sizeof why,
                     nkept && nkept <= QS_TREE_MAX_NODES
                         ? "without --all it draws the survivors' ancestry (%u organisms)"
                         : "the survivors' ancestry (%u organisms) is too big as well",
                     nkept);
            rc = qs_error_set(err, QS_ERR(TOOBIG),
                              "--tree --all: %u organisms, more than the %u a drawing can show "
                              "legibly; %s; for every organism, export --newick FILE --all and "
                              "open it in a tree viewer",
                              n, QS_TREE_MAX_NODES, why);
            goto out;
        }
        if (nkept == 0 || nkept > QS_TREE_MAX_NODES) {
            rc = qs_error_set(err, QS_ERR(TOOBIG),
                              "--tree: %u organisms, more than the %u drawn whole, and the "
                              "survivors' ancestry has %u, more than the %u a drawing can show "
                              "legibly; export the tree with --newick FILE (--all) and open it "
                              "in a tree viewer",
                              n, QS_TREE_MAX_WHOLE, nkept, QS_TREE_MAX_NODES);
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

int qs_plot_gnuplot(const char *dir, const char *script, qs_error_t *err)
{
    char log_path[QS_PATH_MAX + 64];
    snprintf(log_path, sizeof log_path, "%s/%s.log", dir, script);
    char *argv[] = {"gnuplot", (char *)script, NULL};
    return run_tool(argv, dir, log_path, "gnuplot-nox", err);
}
