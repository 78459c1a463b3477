/* Tests for analysis/tree: depth, MRCA, ancestry masks and children lists on hand-built
 * forests, and an MRCA cross-checked against a naive walk on random forests. */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analysis/tree.h"

#define N QS_TREE_NONE

/*   0         1        two roots (founders)
 *  / \        |
 * 2   3       7
 * |\  |
 * 4 5 6                                                    */
static const uint32_t forest[8] = {N, N, 0, 0, 2, 2, 3, 1};

static void members_of(const char *list, uint8_t *m, uint32_t n)
{
    memset(m, 0, n);
    char buf[64];
    snprintf(buf, sizeof buf, "%s", list);
    for (char *tok = strtok(buf, ","); tok; tok = strtok(NULL, ","))
        m[atoi(tok)] = 1;
}

Test(tree, check_and_depth)
{
    cr_assert(qs_tree_check(8, forest));
    uint32_t bad[3] = {N, 2, 0}; /* node 1's parent comes after it */
    cr_assert_not(qs_tree_check(3, bad));
    cr_assert_eq(qs_tree_depth(forest, 0), 0);
    cr_assert_eq(qs_tree_depth(forest, 4), 2);
    cr_assert_eq(qs_tree_depth(forest, 6), 2);
    cr_assert_eq(qs_tree_depth(forest, 7), 1);
}

typedef struct {
    char members[32];
    uint32_t mrca, nroots;
} mrca_case_t;

static mrca_case_t mrca_cases[] = {
    {"4,5", 2, 1},       /* siblings: their parent */
    {"4,6", 0, 1},       /* cousins: the root */
    {"4", 4, 1},         /* one member is its own MRCA */
    {"2,4,5", 2, 1},     /* a member that is the others' ancestor */
    {"4,5,6", 0, 1},     /* */
    {"4,7", N, 2},       /* different founders: none */
    {"0,1", N, 2},       /* two roots */
    {"", N, 0},          /* no members */
    {"6,3", 3, 1},       /* parent and child */
    {"7", 7, 1},         /* */
    {"2,3,4,5,6", 0, 1}, /* */
};

ParameterizedTestParameters(tree, mrca)
{
    return cr_make_param_array(mrca_case_t, mrca_cases, sizeof mrca_cases / sizeof mrca_cases[0]);
}

ParameterizedTest(mrca_case_t *c, tree, mrca)
{
    uint8_t m[8];
    members_of(c->members, m, 8);
    uint32_t roots = 99;
    uint32_t got = qs_tree_mrca(8, forest, m, &roots);
    cr_assert_eq(got, c->mrca, "members {%s}: MRCA %u, expected %u", c->members, got, c->mrca);
    cr_assert_eq(roots, c->nroots, "members {%s}: %u roots, expected %u", c->members, roots,
                 c->nroots);
}

Test(tree, ancestry_mask)
{
    uint8_t m[8], out[8];
    members_of("5,6", m, 8);
    cr_assert_eq(qs_tree_ancestry(8, forest, m, out), 5);
    const uint8_t want[8] = {1, 0, 1, 1, 0, 1, 1, 0};
    cr_assert_arr_eq(out, want, 8);
}

Test(tree, children_lists)
{
    uint32_t first[9], child[8], roots[8];
    uint32_t nr = qs_tree_children(8, forest, NULL, first, child, roots);
    cr_assert_eq(nr, 2);
    cr_assert_eq(roots[0], 0);
    cr_assert_eq(roots[1], 1);
    /* children of 0: 2, 3; of 2: 4, 5; of 1: 7; of 4: none */
    cr_assert_eq(first[1] - first[0], 2);
    cr_assert_eq(child[first[0]], 2);
    cr_assert_eq(child[first[0] + 1], 3);
    cr_assert_eq(child[first[2]], 4);
    cr_assert_eq(child[first[2] + 1], 5);
    cr_assert_eq(child[first[1]], 7);
    cr_assert_eq(first[5], first[4]);
    /* Keeping only 2's subtree makes 2 a root. */
    uint8_t keep[8] = {0, 0, 1, 0, 1, 1, 0, 0};
    nr = qs_tree_children(8, forest, keep, first, child, roots);
    cr_assert_eq(nr, 1);
    cr_assert_eq(roots[0], 2);
    cr_assert_eq(first[3] - first[2], 2);
}

/* The naive MRCA: intersect the ancestor lines. */
static uint32_t naive_mrca(uint32_t n, const uint32_t *parent, const uint8_t *m)
{
    uint32_t *count = calloc(n, sizeof *count);
    uint32_t total = 0;
    for (uint32_t i = 0; i < n; i++) {
        if (!m[i])
            continue;
        total++;
        for (uint32_t v = i; v != N; v = parent[v])
            count[v]++;
    }
    uint32_t best = N, best_depth = 0;
    for (uint32_t i = 0; i < n; i++)
        if (total && count[i] == total) {
            uint32_t d = qs_tree_depth(parent, i);
            if (best == N || d > best_depth) {
                best = i;
                best_depth = d;
            }
        }
    free(count);
    return best;
}

Test(tree, mrca_matches_a_naive_walk_on_random_forests)
{
    srand(12345);
    for (int trial = 0; trial < 300; trial++) {
        uint32_t n = 1 + (uint32_t)(rand() % 60);
        uint32_t *parent = malloc(n * sizeof *parent);
        uint8_t *m = malloc(n);
        for (uint32_t i = 0; i < n; i++) {
            parent[i] = i == 0 || rand() % 10 == 0 ? N : (uint32_t)(rand() % i);
            m[i] = rand() % 4 == 0;
        }
        uint32_t got = qs_tree_mrca(n, parent, m, NULL);
        uint32_t want = naive_mrca(n, parent, m);
        cr_assert_eq(got, want, "trial %d (n %u): MRCA %u, naive %u", trial, n, got, want);
        free(parent);
        free(m);
    }
}
