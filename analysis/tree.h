/* tree: algorithms on an ancestry forest stored as a parent array.
 *
 * Node i's parent is parent[i] (QS_TREE_NONE for a root) and every parent comes before
 * its children: parent[i] < i. The history (analysis/history.h) stores organisms in
 * birth order, which has that property, so one reverse sweep pushes anything from
 * children to parents and one forward sweep from parents to children: every algorithm
 * here is linear in the number of nodes, with no recursion (lineages can be as deep as a
 * run is long). */
#ifndef QS_TREE_H
#define QS_TREE_H

#include <stddef.h>
#include <stdint.h>

#define QS_TREE_NONE UINT32_MAX

/* Does parent[] satisfy parent[i] < i (or NONE) for every node? */
int qs_tree_check(uint32_t n, const uint32_t *parent);

/* Links from node i up to its root (0 for a root). */
uint32_t qs_tree_depth(const uint32_t *parent, uint32_t i);

/* The most recent common ancestor of the nodes with member[i] != 0: the deepest node
 * whose subtree holds every member (a member can be it, when the others descend from
 * it). QS_TREE_NONE when there are no members or they descend from different roots;
 * *nroots (if not NULL) gets the number of roots the members descend from. */
uint32_t qs_tree_mrca(uint32_t n, const uint32_t *parent, const uint8_t *member, uint32_t *nroots);

/* out[i] = 1 for every member and every ancestor of a member, else 0. Returns how many. */
uint32_t qs_tree_ancestry(uint32_t n, const uint32_t *parent, const uint8_t *member, uint8_t *out);

/* Children lists of the nodes with keep[i] != 0 (keep NULL: all), in index order:
 * the children of i are child[first[i] .. first[i + 1]). first has n + 1 entries, child n
 * (both caller-allocated). A kept node whose parent is not kept counts as a root; the
 * roots, in index order, go to roots[0 .. return value) (n entries, caller-allocated). */
uint32_t qs_tree_children(uint32_t n, const uint32_t *parent, const uint8_t *keep, uint32_t *first,
                          uint32_t *child, uint32_t *roots);

#endif
