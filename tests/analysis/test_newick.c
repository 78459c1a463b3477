/* Tests for analysis/newick: the exact text for a known forest, round trips of topology
 * and branch lengths through the project's own reader on random forests and on a deep
 * chain, the reader's grammar (quotes, comments, blanks) and its errors. */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analysis/newick.h"
#include "analysis/tree.h"
#include "tests/testutil.h"

#define N QS_TREE_NONE

static char *write_str(uint32_t n, const uint32_t *parent, const uint64_t *id, const double *t,
                       const uint8_t *keep)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    qs_error_t err = {0};
    cr_assert_eq(qs_newick_write(f, n, parent, id, t, keep, &err), 0, "%s", err.msg);
    fclose(f);
    return buf;
}

Test(newick, known_forest_text)
{
    static const uint32_t parent[8] = {N, N, 0, 0, 2, 2, 3, 1};
    static const uint64_t id[8] = {10, 11, 12, 13, 14, 15, 16, 17};
    static const double t[8] = {0, 0, 1, 2, 3, 5, 3, 4};
    char *s = write_str(8, parent, id, t, NULL);
    cr_assert_str_eq(s, "(((org14:2,org15:4)org12:1,(org16:1)org13:2)org10:0,(org17:4)org11:0);\n");
    free(s);
    /* One root: no unnamed root above it, and no length on the root. */
    uint8_t keep[8] = {1, 0, 1, 1, 1, 0, 0, 0};
    s = write_str(8, parent, id, t, keep);
    cr_assert_str_eq(s, "((org14:2)org12:1,org13:2)org10;\n");
    free(s);
}

Test(newick, nothing_kept_is_an_error)
{
    static const uint32_t parent[1] = {N};
    static const uint64_t id[1] = {1};
    static const double t[1] = {0};
    uint8_t keep[1] = {0};
    qs_error_t err = {0};
    FILE *f = fopen("/dev/null", "w");
    cr_assert_eq(qs_newick_write(f, 1, parent, id, t, keep, &err), QS_ERR(INVAL));
    fclose(f);
}

/* Parse s and check every node against the forest it was written from. */
static void check_round_trip(uint32_t n, const uint32_t *parent, const uint64_t *id,
                             const double *t, const char *s)
{
    qs_newick_tree_t tr;
    qs_error_t err = {0};
    cr_assert_eq(qs_newick_parse(&tr, s, strlen(s), &err), 0, "%s", err.msg);
    uint32_t nroots = 0;
    for (uint32_t i = 0; i < n; i++)
        nroots += parent[i] == N;
    cr_assert_eq(tr.n, n + (nroots > 1), "%u nodes parsed, %u written", tr.n, n);
    /* label -> index in the parsed tree */
    uint32_t *at = malloc(n * sizeof *at);
    for (uint32_t i = 0; i < n; i++)
        at[i] = N;
    for (uint32_t k = 0; k < tr.n; k++) {
        if (!tr.nodes[k].label[0]) {
            cr_assert(nroots > 1 && tr.nodes[k].parent == N, "unlabelled node that is not "
                                                             "the forest's root");
            continue;
        }
        const char *lab = tr.nodes[k].label;
        cr_assert(!strncmp(lab, QS_NEWICK_LABEL_PREFIX, strlen(QS_NEWICK_LABEL_PREFIX)), "label %s",
                  lab);
        unsigned long long v = strtoull(lab + strlen(QS_NEWICK_LABEL_PREFIX), NULL, 10);
        uint32_t i = (uint32_t)(v - 1000);
        cr_assert_lt(i, n);
        cr_assert_eq(at[i], N, "label %llu twice", v);
        at[i] = k;
    }
    for (uint32_t i = 0; i < n; i++) {
        const qs_newick_node_t *nd = &tr.nodes[at[i]];
        if (parent[i] == N) {
            if (nroots > 1) {
                cr_assert_str_eq(tr.nodes[nd->parent].label, "");
                cr_assert_float_eq(nd->length, t[i], 1e-12);
            } else {
                cr_assert_eq(nd->parent, N);
                cr_assert(isnan(nd->length));
            }
            continue;
        }
        cr_assert_eq(nd->parent, at[parent[i]], "node %llu: parent differs",
                     (unsigned long long)id[i]);
        cr_assert_float_eq(nd->length, t[i] - t[parent[i]], 1e-12, "node %llu: length %g vs %g",
                           (unsigned long long)id[i], nd->length, t[i] - t[parent[i]]);
    }
    free(at);
    qs_newick_tree_destroy(&tr);
}

Test(newick, round_trip_random_forests)
{
    srand(777);
    for (int trial = 0; trial < 200; trial++) {
        uint32_t n = 1 + (uint32_t)(rand() % 80);
        uint32_t *parent = malloc(n * sizeof *parent);
        uint64_t *id = malloc(n * sizeof *id);
        double *t = malloc(n * sizeof *t);
        for (uint32_t i = 0; i < n; i++) {
            parent[i] = i == 0 || rand() % 8 == 0 ? N : (uint32_t)(rand() % i);
            id[i] = 1000 + i;
            /* generations, and now and then a fractional time to test lengths */
            double step = (double)(rand() % 4) + (rand() % 5 == 0 ? 0.25 : 0.0);
            t[i] = parent[i] == N ? (double)(rand() % 3) : t[parent[i]] + step;
        }
        char *s = write_str(n, parent, id, t, NULL);
        check_round_trip(n, parent, id, t, s);
        free(s);
        free(parent);
        free(id);
        free(t);
    }
}

Test(newick, deep_chain_needs_no_recursion)
{
    TU_SKIP_UNDER_VALGRIND("memcheck aborts on its 200,000-deep tree (VG_N_SEGMENTS is too low)");
    uint32_t n = 200000;
    uint32_t *parent = malloc(n * sizeof *parent);
    uint64_t *id = malloc(n * sizeof *id);
    double *t = malloc(n * sizeof *t);
    for (uint32_t i = 0; i < n; i++) {
        parent[i] = i ? i - 1 : N;
        id[i] = 1000 + i;
        t[i] = i;
    }
    char *s = write_str(n, parent, id, t, NULL);
    check_round_trip(n, parent, id, t, s);
    free(s);
    free(parent);
    free(id);
    free(t);
}

Test(newick, reader_grammar)
{
    const char *s = " ( 'a b' : 1.5 , [comment] b_c:2e0,('it''s')x : 0.5 ) root ;\n ";
    qs_newick_tree_t tr;
    qs_error_t err = {0};
    cr_assert_eq(qs_newick_parse(&tr, s, strlen(s), &err), 0, "%s", err.msg);
    cr_assert_eq(tr.n, 5);
    cr_assert_str_eq(tr.nodes[0].label, "root");
    cr_assert_str_eq(tr.nodes[1].label, "a b");
    cr_assert_float_eq(tr.nodes[1].length, 1.5, 0);
    cr_assert_str_eq(tr.nodes[2].label, "b c");
    cr_assert_float_eq(tr.nodes[2].length, 2.0, 0);
    cr_assert_str_eq(tr.nodes[3].label, "x");
    cr_assert_str_eq(tr.nodes[4].label, "it's");
    cr_assert_eq(tr.nodes[4].parent, 3);
    cr_assert(isnan(tr.nodes[4].length));
    qs_newick_tree_destroy(&tr);
}

typedef struct {
    char text[32];
    char message[48]; /* part of the expected error */
} bad_case_t;

static bad_case_t bad_cases[] = {
    {"(a,b)", "ends before ';'"},
    {"(a,b;", "open"},
    {"a,b;", "outside parentheses"},
    {"(a)(b);", "'(' after"},
    {"(a:1:2);", "second length"},
    {"(a:x);", "bad branch length"},
    {"(a,b));", "unbalanced ')'"},
    {"(a,b);x", "after the tree"},
    {"('abc);", "unterminated quoted"},
    {"(a[x,b);", "unterminated [comment]"},
    {"(a b);", "second label"},
    {"(a:1 b);", "label after length"},
    {"", "ends before ';'"},
};

ParameterizedTestParameters(newick, reader_errors)
{
    return cr_make_param_array(bad_case_t, bad_cases, sizeof bad_cases / sizeof bad_cases[0]);
}

ParameterizedTest(bad_case_t *c, newick, reader_errors)
{
    qs_newick_tree_t tr;
    qs_error_t err = {0};
    cr_assert_eq(qs_newick_parse(&tr, c->text, strlen(c->text), &err), QS_ERR(FORMAT),
                 "'%s' was accepted", c->text);
    cr_assert(strstr(err.msg, c->message), "'%s': message '%s' lacks '%s'", c->text, err.msg,
              c->message);
    cr_assert_eq(tr.n, 0);
}
