/* plot: charts with gnuplot and ancestry drawings with Graphviz, for a history.
 *
 * --plot DIR writes, into DIR, the data files (*.dat, whitespace-separated, "?" for a
 * missing value; species.dat holds one block per species with n, mean, min, max and sd
 * per generation), the gnuplot script that draws them (plots.gp: `cd DIR && gnuplot
 * plots.gp` redraws everything, so a user can restyle a chart), and the charts, each as
 * PNG and SVG, every axis fitted to its data:
 *   accuracy          fitness-set accuracy per generation: per species, the mean over its
 *                     organisms and a min-max band
 *   fidelity          per species, mean self-prediction R^2 with a min-max band, and the
 *                     mean replication R^2 of the births
 *   accuracy_fidelity accuracy against replication fidelity, one point per organism born
 *                     by replication, coloured by generation of birth, shaped by species
 *                     (at most QS_PLOT_MAX_POINTS, evenly thinned, said in the title)
 *   species           organisms of each species per generation, one line each
 *   islands_accuracy  [islands] only: each island's mean accuracy per generation
 *   islands_fidelity  and its mean self-prediction R^2 (data: islands.dat)
 * A chart without data (no accuracy in a vanilla-only run, no births) is skipped and
 * the reason printed.
 *
 * --tree FILE.svg draws the ancestry with dot: every organism when there are at most
 * QS_TREE_MAX_WHOLE (or QS_TREE_MAX_NODES when asked for all), else the survivors'
 * ancestry if it has at most QS_TREE_MAX_NODES, else it refuses (and says to use
 * --newick with a tree viewer). A whole tree grows as wide as it has leaves, and most
 * organisms of a run are leaves (they die childless), so beyond ~100 organisms only the
 * survivors' ancestry, a few lines, stays legible. One row per generation in which a
 * drawn organism was born; fill by self-prediction R^2, border by species, double border
 * for organisms alive at the end, the best organism outlined in red and labelled with the
 * evaluation that made it best.
 *
 * The programs are found on PATH (Debian: gnuplot-nox, graphviz) and run without a
 * shell; their messages go to DIR/gnuplot.log (or are quoted in the error for dot). */
#ifndef QS_PLOT_H
#define QS_PLOT_H

#include <stdio.h>

#include "analysis/history.h"
#include "core/util.h"

#define QS_PLOT_MAX_POINTS 100000u
#define QS_TREE_MAX_WHOLE  100u
#define QS_TREE_MAX_NODES  300u

/* What was written (and skipped) is reported on info, one line each. */
int qs_plot_charts(const qs_history_t *h, const char *label, const char *dir, FILE *info,
                   qs_error_t *err);
/* Several runs of one scenario (seeds): each run's per-generation population means,
 * gathered run by run (qs_plot_runs_add, or _merge of other accumulators), then drawn in
 * DIR as accuracy_runs and fidelity_runs (PNG and SVG, data runs.dat, script runs.gp):
 * the mean over the runs of each run's mean, a band from the lowest run's mean to the
 * highest, and the sd over runs (n - 1) as error bars. Caller-owned storage: _init /
 * _destroy. */
typedef struct {
    qs_hstat_t *acc, *r2, *link_r2; /* per generation, over runs */
    uint32_t ngens, cap, nruns;
} qs_plot_runs_t;

void qs_plot_runs_init(qs_plot_runs_t *r);
void qs_plot_runs_destroy(qs_plot_runs_t *r);
void qs_plot_runs_add(qs_plot_runs_t *r, const qs_history_t *h);
void qs_plot_runs_merge(qs_plot_runs_t *dst, const qs_plot_runs_t *src);
int qs_plot_runs_charts(const qs_plot_runs_t *r, const char *dir, FILE *info, qs_error_t *err);
/* Groups of runs (analysis/groups.h) on the same two charts: groups[k], labelled
 * labels[k], in its own colour with its band, bars and line; runs.dat holds one block per
 * group (gnuplot `index k`). n = 1 draws what qs_plot_runs_charts draws (labels unused). */
int qs_plot_groups_charts(const qs_plot_runs_t *groups, const char *const *labels, uint32_t n,
                          const char *dir, FILE *info, qs_error_t *err);

/* Run `gnuplot SCRIPT` in dir (its messages to DIR/SCRIPT.log), for other modules' charts
 * (analysis/phylo.h). */
int qs_plot_gnuplot(const char *dir, const char *script, qs_error_t *err);
int qs_plot_tree(const qs_history_t *h, const char *label, const char *svg, int all, FILE *info,
                 qs_error_t *err);

#endif
