/* newick: writing an ancestry forest as a Newick tree, and reading Newick back.
 *
 * Writer. Every node is labelled "org" + its id (org51), internal nodes included, and
 * carries a branch length equal to its time minus its parent's (generations). The label
 * is not a bare number because Biopython and ete3 read a number after ')' as a support
 * value, so the internal nodes' ids would be lost; "org51" is a name for Biopython,
 * DendroPy and ape with their defaults, and for ete3 with format=1 (its default format 0
 * accepts only numbers there, as support values). An organism with a single
 * kept child stays in the tree as a node of degree two, so every ancestor on a line is
 * visible with its id. One root is written as the tree's root; several roots (several
 * founders) hang under one unnamed root placed at time 0 with branch lengths equal to
 * their own times. Both loops are iterative: the depth of a lineage never matters.
 *
 * Reader. The common Newick grammar: nested parentheses, unquoted or 'quoted' labels
 * ('' for a quote inside), ":length" after any node, [comments] skipped, whitespace
 * between tokens, one tree ended by ';'. Errors name the byte offset. */
#ifndef QS_NEWICK_H
#define QS_NEWICK_H

#include <stdint.h>
#include <stdio.h>

#include "core/util.h"

/* What the writer puts before an organism's id in its label. */
#define QS_NEWICK_LABEL_PREFIX "org"

/* Write the forest given by parent[] (parents first, QS_TREE_NONE for roots) restricted
 * to keep[] (NULL: every node), labels id[i], times time[i]. Returns 0, or QS_ERR(INVAL)
 * when nothing is kept, or QS_ERR(IO). */
int qs_newick_write(FILE *out, uint32_t n, const uint32_t *parent, const uint64_t *id,
                    const double *time, const uint8_t *keep, qs_error_t *err);

typedef struct {
    char *label;     /* owned, "" when unlabelled */
    double length;   /* NaN when absent */
    uint32_t parent; /* index of the parent node, QS_TREE_NONE for the root */
} qs_newick_node_t;

/* A parsed tree: nodes in the order their subtrees open (the root first, parents before
 * children). Caller-owned storage: qs_newick_tree_destroy. */
typedef struct {
    qs_newick_node_t *nodes;
    uint32_t n, cap;
} qs_newick_tree_t;

/* Parse text[0..len). On error t is left empty. */
int qs_newick_parse(qs_newick_tree_t *t, const char *text, size_t len, qs_error_t *err);
void qs_newick_tree_destroy(qs_newick_tree_t *t);

#endif
