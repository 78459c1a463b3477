/* phylo: tree statistics of a run's genealogy (analysis/README.md, "Phylogenetic metrics").
 *
 * The tree of a set of organisms S (the taxa) is S with all its ancestors; each organism
 * is a node, each parent -> child link an edge whose length is the number of generations
 * between their births. Several roots (several founders, or parents lost from the log)
 * hang under one virtual root at generation 0, as the Newick writer does. On that tree:
 *
 *   phylogenetic diversity  Faith's PD: the sum of the edge lengths
 *   mean pairwise distance  the mean, over unordered pairs of distinct taxa, of the
 *                           path length between them
 *   Sackin, Colless         shape indices of the tree whose leaves are the taxa: a taxon
 *                           with descendants in the tree (a living parent of a living
 *                           child) gets a leaf of its own at distance 0 (a "sampled
 *                           ancestor"), then nodes with one child are suppressed. Sackin
 *                           is the sum over leaves of the number of edges to the root;
 *                           Colless the sum over branching nodes of |n_i - n_j| over all
 *                           pairs of child subtrees (n: leaves below), i.e. |L - R| on a
 *                           binary node
 *   MRCA                    the deepest node whose subtree holds every taxon
 *   lineages through time   at generation t, the number of distinct organisms that are,
 *                           for some taxon, its latest ancestor (or itself) born by t
 *
 * Everything is linear in the number of nodes (no recursion), on a parent array in
 * parents-before-children order (analysis/tree.h). */
#ifndef QS_PHYLO_H
#define QS_PHYLO_H

#include <stdint.h>
#include <stdio.h>

#include "analysis/history.h"
#include "proto/json.h"

typedef struct {
    uint32_t taxa;       /* |S| = leaves of the shape tree */
    uint32_t nodes;      /* organisms in the tree (S and its ancestors) */
    uint32_t roots;      /* roots among them (>1: joined under the virtual root) */
    uint32_t polytomies; /* branching nodes with more than two children (shape tree) */
    double pd;           /* Faith's phylogenetic diversity, generations */
    double mpd;          /* mean pairwise distance, generations; NaN with fewer than 2 taxa */
    uint64_t sackin, colless;
    uint32_t mrca;    /* index of the MRCA, QS_NONE when none (no taxa, several roots) */
    double mrca_time; /* its birth time, NaN when none */
} qs_phylo_t;

/* The metrics of the tree of {i : taxon[i]} in the forest parent[0..n) (parents first),
 * birth times time[i] (>= 0). */
void qs_phylo_measure(qs_phylo_t *m, uint32_t n, const uint32_t *parent, const double *time,
                      const uint8_t *taxon);

/* Lineages through time of the same tree: ltt[t] for generations t = 0 .. ngens - 1
 * (times are whole generations here). A taxon's own lineage lasts to the end. */
void qs_phylo_ltt(uint32_t n, const uint32_t *parent, const uint32_t *born, const uint8_t *taxon,
                  uint32_t ngens, uint32_t *ltt);

/* A run's phylogenetic metrics: its survivors' tree and its whole tree (taxa: every
 * organism), and the survivors' lineages through time. */
typedef struct {
    qs_phylo_t survivors, whole;
    uint32_t ngens;
    uint32_t *ltt; /* ngens entries, malloc'ed */
    uint32_t last_generation;
} qs_phylo_run_t;

void qs_phylo_run(qs_phylo_run_t *r, const qs_history_t *h);
void qs_phylo_run_destroy(qs_phylo_run_t *r);
/* The metrics as a few lines of text, and as the JSON member "phylogeny". */
void qs_phylo_run_print(const qs_phylo_run_t *r, const qs_history_t *h, FILE *out);
void qs_phylo_run_json(const qs_phylo_run_t *r, const qs_history_t *h, qs_jw_t *w);

/* One generation's metrics: the tree of the organisms living in generation t, the whole
 * tree of everything born by t (its size and PD only: taxa, nodes, roots, pd; its shape
 * indices would cost a pass over the run per generation), and the final survivors'
 * lineages at t. */
typedef struct {
    uint32_t generation;
    qs_phylo_t living, whole;
    uint32_t ltt;
} qs_phylo_gen_t;

/* Every generation's metrics (malloc'ed array of *ngens). Cost: per generation, the size
 * of the living's ancestry (and one pass over the run in all). */
qs_phylo_gen_t *qs_phylo_generations(const qs_history_t *h, const qs_phylo_run_t *r,
                                     uint32_t *ngens);
/* The per-generation metrics as CSV ("-": standard output). */
int qs_phylo_write_csv(const qs_history_t *h, const qs_phylo_run_t *r, const char *path,
                       qs_error_t *err);

/* --plot DIR: phylo.dat (the CSV's columns, whitespace-separated) and phylo.gp, drawn
 * with gnuplot as phylo_diversity.png/.svg (PD of the living and of the whole tree, mean
 * pairwise distance) and phylo_lineages.png/.svg (the survivors' lineages through time,
 * the living's MRCA depth). What was written goes to info. */
int qs_phylo_plot(const qs_history_t *h, const qs_phylo_run_t *r, const char *label,
                  const char *dir, FILE *info, qs_error_t *err);

#endif
