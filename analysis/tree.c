/* tree: MRCA, ancestry masks and children lists over a parents-first parent array. */
#include "analysis/tree.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"

int qs_tree_check(uint32_t n, const uint32_t *parent)
{
    for (uint32_t i = 0; i < n; i++)
        if (parent[i] != QS_TREE_NONE && parent[i] >= i)
            return 0;
    return 1;
}

uint32_t qs_tree_depth(const uint32_t *parent, uint32_t i)
{
    uint32_t d = 0;
    while (parent[i] != QS_TREE_NONE) {
        assert(parent[i] < i);
        i = parent[i];
        d++;
    }
    return d;
}

uint32_t qs_tree_mrca(uint32_t n, const uint32_t *parent, const uint8_t *member, uint32_t *nroots)
{
    uint32_t *count = xmalloc((n ? n : 1) * sizeof *count);
    uint32_t total = 0, roots = 0, mrca = QS_TREE_NONE;
    for (uint32_t i = 0; i < n; i++) {
        count[i] = member[i] ? 1 : 0;
        total += count[i];
    }
    /* Children after parents: a reverse sweep sums each subtree into its root. */
    for (uint32_t i = n; i-- > 0;) {
        if (parent[i] != QS_TREE_NONE) {
            assert(parent[i] < i);
            count[parent[i]] += count[i];
        } else if (count[i] > 0) {
            roots++;
        }
    }
    /* The nodes holding every member form a chain from a root down; its deepest node
     * is the one with the largest index. */
    if (total > 0 && roots == 1)
        for (uint32_t i = n; i-- > 0;)
            if (count[i] == total) {
                mrca = i;
                break;
            }
    free(count);
    if (nroots)
        *nroots = roots;
    return mrca;
}

uint32_t qs_tree_ancestry(uint32_t n, const uint32_t *parent, const uint8_t *member, uint8_t *out)
{
    uint32_t k = 0;
    for (uint32_t i = 0; i < n; i++)
        out[i] = member[i] ? 1 : 0;
    for (uint32_t i = n; i-- > 0;)
        if (out[i]) {
            k++;
            if (parent[i] != QS_TREE_NONE)
                out[parent[i]] = 1;
        }
    return k;
}

uint32_t qs_tree_children(uint32_t n, const uint32_t *parent, const uint8_t *keep, uint32_t *first,
                          uint32_t *child, uint32_t *roots)
{
    uint32_t nroots = 0;
    memset(first, 0, (size_t)(n + 1) * sizeof *first);
    for (uint32_t i = 0; i < n; i++) {
        if (keep && !keep[i])
            continue;
        uint32_t p = parent[i];
        if (p == QS_TREE_NONE || (keep && !keep[p]))
            roots[nroots++] = i;
        else
            first[p + 1]++;
    }
    for (uint32_t i = 0; i < n; i++)
        first[i + 1] += first[i];
    /* Fill in index order, using first[] shifted by one as the write cursor. */
    uint32_t *cursor = xmalloc((n ? n : 1) * sizeof *cursor);
    memcpy(cursor, first, (n ? n : 1) * sizeof *cursor);
    for (uint32_t i = 0; i < n; i++) {
        if (keep && !keep[i])
            continue;
        uint32_t p = parent[i];
        if (p != QS_TREE_NONE && (!keep || keep[p]))
            child[cursor[p]++] = i;
    }
    free(cursor);
    return nroots;
}
