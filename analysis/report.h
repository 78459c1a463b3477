/* report: `quinesim analyze --html FILE`, one self-contained HTML page for one or more
 * runs (analysis/README.md, "The HTML report").
 *
 * Per run: the scenario, the summary, the generation curves (accuracy and fidelity with
 * the population's 25-75% and 10-90% bands, species abundance, the phylogenetic metrics
 * of the living), the accuracy / replication-fidelity scatter, and the phylogeny
 * coloured by replication fidelity (zoom and pan; hovering an organism shows its
 * numbers); with several runs, their comparison (each run's curve, and the runs' mean
 * +- sd). The page carries its data as JSON and draws it with the vendored uPlot
 * (analysis/report/, MIT licence, checked by SHA-256 in analysis/report/SHA256SUMS) and
 * its own script, all inlined: it loads nothing from anywhere.
 *
 * A run's data is built while its history is in memory (analyze releases each run
 * before reading the next), as one JSON text; the page is written once all are read. */
#ifndef QS_REPORT_H
#define QS_REPORT_H

#include <stddef.h>
#include <stdint.h>

#include "analysis/history.h"
#include "analysis/phylo.h"
#include "analysis/summary.h"
#include "core/util.h"

/* At most this many points in a scatter, organisms in a drawn tree. */
#define QS_REPORT_MAX_POINTS 20000u
#define QS_REPORT_MAX_TREE   3000u

typedef struct {
    char *json; /* owned: the run's summary object with the report's data in it */
    size_t len;
} qs_report_run_t;

/* The data of one run: s, h and ph as analyze computed them; log_path is read once more
 * for the scenario text and each generation's distribution of accuracy and R^2. */
int qs_report_run_data(qs_report_run_t *r, const qs_summary_t *s, const qs_history_t *h,
                       const qs_phylo_run_t *ph, const char *log_path, qs_error_t *err);
void qs_report_run_destroy(qs_report_run_t *r);

/* Write the page with runs[0 .. n) to path. */
int qs_report_write(const char *path, const qs_report_run_t *runs, uint32_t n, qs_error_t *err);

#endif
