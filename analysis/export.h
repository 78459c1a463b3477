/* export: the files `quinesim analyze` writes for other tools.
 *
 *   phylogeny CSV     ALife Data Standards: id, ancestor_list ("[parent]", QS_ALIFE_ROOT for a
 *                     root), origin_time (birth generation), destruction_time (death
 *                     generation + 1, QS_ALIFE_ALIVE if alive), then species, accuracy,
 *                     rel_err, r2, flops (as the run's own phylogeny.csv) and link_r2,
 *                     link_rel_err, death_cause. One row per organism, parents first.
 *   generations CSV   one row per generation, recomputed from the records
 *   Newick            the survivors' ancestry (or every organism), lengths in generations
 *   lineage           one organism's line back to its founder, one row per organism
 *
 * A path of "-" writes to standard output. Numbers are written so that they read back
 * exactly (%.9g for metrics, integers in full); a missing value is an empty field. */
#ifndef QS_EXPORT_H
#define QS_EXPORT_H

#include <stdint.h>
#include <stdio.h>

#include "analysis/history.h"
#include "proto/json.h"
#include "core/util.h"

int qs_export_phylogeny(const qs_history_t *h, const char *path, qs_error_t *err);
int qs_export_generations(const qs_history_t *h, const char *path, qs_error_t *err);

/* The survivors' ancestry (all = 0) or every organism (all = 1). *nodes (if not NULL)
 * gets the number of organisms written. A run without survivors has no survivors' tree:
 * QS_ERR(INVAL) saying so. */
int qs_export_newick(const qs_history_t *h, const char *path, int all, uint32_t *nodes,
                     qs_error_t *err);

/* The line of organism index i back to its root: indices from i up, into *line
 * (malloc'ed; the caller frees it). Returns the number of entries. */
uint32_t qs_export_line(const qs_history_t *h, uint32_t i, uint32_t **line);
/* The line as an aligned table (one row per organism, its link to its parent). */
void qs_export_line_table(const qs_history_t *h, uint32_t i, FILE *out);

/* The line as a JSON array (member key of the enclosing object), one object per organism. */
void qs_export_line_json(const qs_history_t *h, uint32_t i, qs_jw_t *w, const char *key);

/* Parent indices, ids and birth times of every organism, for analysis/tree.h (malloc'ed
 * arrays of h->norgs entries; NULL pointers are skipped). */
void qs_export_tree_arrays(const qs_history_t *h, uint32_t **parent, uint64_t **id, double **time);
/* member[i] = 1 for the organisms alive at the end (malloc'ed); *count gets how many. */
uint8_t *qs_export_survivors(const qs_history_t *h, uint32_t *count);

/* The name of a death cause ("" when alive). */
const char *qs_export_cause_name(uint8_t cause);

#endif
