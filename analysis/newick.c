/* newick: an iterative writer over a parent array and an iterative parser. */
#include "analysis/newick.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "analysis/tree.h"

/* ---- writer ------------------------------------------------------------------------------ */

static void put_u64(FILE *out, uint64_t v)
{
    char tmp[20];
    fwrite(tmp, 1, qs_fmt_u64(tmp, v), out);
}

/* ":len"; whole numbers of generations (the usual case) without printf. */
static void put_length(FILE *out, double len)
{
    fputc(':', out);
    if (len >= 0 && len < 1e15 && len == floor(len))
        put_u64(out, (uint64_t)len);
    else
        fprintf(out, "%.15g", len);
}

int qs_newick_write(FILE *out, uint32_t n, const uint32_t *parent, const uint64_t *id,
                    const double *time, const uint8_t *keep, qs_error_t *err)
{
    int rc = 0;
    uint32_t *first = xmalloc((size_t)(n + 1) * sizeof *first);
    uint32_t *child = xmalloc((n ? n : 1) * sizeof *child);
    uint32_t *roots = xmalloc((n ? n : 1) * sizeof *roots);
    uint32_t *stack = xmalloc((n ? n : 1) * sizeof *stack); /* node */
    uint32_t *next = xmalloc((n ? n : 1) * sizeof *next);   /* its next child position */
    uint32_t nroots = qs_tree_children(n, parent, keep, first, child, roots);
    if (nroots == 0) {
        rc = qs_error_set(err, QS_ERR(INVAL), "newick: no node to write");
        goto out;
    }
    int forest = nroots > 1;
    if (forest)
        fputc('(', out);
    for (uint32_t r = 0; r < nroots; r++) {
        if (r > 0)
            fputc(',', out);
        uint32_t top = 0;
        stack[top] = roots[r];
        next[top] = first[roots[r]];
        top++;
        while (top > 0) {
            uint32_t v = stack[top - 1];
            uint32_t k = next[top - 1];
            if (k < first[v + 1]) { /* descend into the next child */
                fputc(k == first[v] ? '(' : ',', out);
                next[top - 1] = k + 1;
                uint32_t c = child[k];
                stack[top] = c;
                next[top] = first[c];
                top++;
                continue;
            }
            if (first[v + 1] > first[v])
                fputc(')', out);
            fputs(QS_NEWICK_LABEL_PREFIX, out);
            put_u64(out, id[v]);
            uint32_t p = parent[v];
            if (top > 1)
                put_length(out, time[v] - time[p]);
            else if (forest)
                put_length(out, time[v]); /* from the unnamed root at time 0 */
            top--;
        }
    }
    if (forest)
        fputc(')', out);
    fputs(";\n", out);
    if (ferror(out))
        rc = qs_error_set(err, QS_ERR(IO), "newick: write error");
out:
    free(first);
    free(child);
    free(roots);
    free(stack);
    free(next);
    return rc;
}

/* ---- reader ------------------------------------------------------------------------------ */

void qs_newick_tree_destroy(qs_newick_tree_t *t)
{
    for (uint32_t i = 0; i < t->n; i++)
        free(t->nodes[i].label);
    free(t->nodes);
    memset(t, 0, sizeof *t);
}

static uint32_t new_node(qs_newick_tree_t *t, uint32_t parent)
{
    if (t->n == t->cap) {
        t->cap = t->cap ? t->cap * 2 : 64;
        t->nodes = xrealloc(t->nodes, (size_t)t->cap * sizeof *t->nodes);
    }
    qs_newick_node_t *nd = &t->nodes[t->n];
    nd->label = NULL;
    nd->length = NAN;
    nd->parent = parent;
    return t->n++;
}

static int is_plain(char c)
{
    return c && !strchr("()[]':;, \t\r\n", c);
}

/* Skip whitespace and [comments]; returns the new position or (size_t)-1 for an
 * unterminated comment. */
static size_t skip_blank(const char *s, size_t len, size_t i)
{
    for (;;) {
        while (i < len && strchr(" \t\r\n", s[i]) && s[i])
            i++;
        if (i < len && s[i] == '[') {
            const char *close = memchr(s + i, ']', len - i);
            if (!close)
                return (size_t)-1;
            i = (size_t)(close - s) + 1;
            continue;
        }
        return i;
    }
}

/* The branch length after the ':' at s[*pos - 1]: *v, *pos past it; or an error. */
static int read_length(const char *s, size_t len, size_t *pos, double *v, qs_error_t *err)
{
    size_t i = skip_blank(s, len, *pos);
    char num[64];
    size_t k = 0;
    while (i < len && k + 1 < sizeof num &&
           (strchr("+-.eE", s[i]) || (s[i] >= '0' && s[i] <= '9')) && s[i])
        num[k++] = s[i++];
    num[k] = '\0';
    char *end;
    errno = 0;
    double x = strtod(num, &end);
    if (k == 0 || *end || errno == ERANGE || isnan(x))
        return qs_error_set(err, QS_ERR(FORMAT), "newick: bad branch length '%s' at byte %zu", num,
                            i - k);
    *v = x;
    *pos = i;
    return 0;
}

/* The label at s[*pos], quoted ('' stands for a quote) or not ('_' for a blank): *label
 * (the caller frees it), *pos past it; or an error. */
static int read_label(const char *s, size_t len, size_t *pos, char **label, qs_error_t *err)
{
    size_t i = *pos;
    char *lab = xmalloc(len - i + 1);
    size_t k = 0;
    if (s[i] == '\'') {
        size_t start = i++;
        for (;;) {
            if (i >= len) {
                free(lab);
                return qs_error_set(err, QS_ERR(FORMAT),
                                    "newick: unterminated quoted label at byte %zu", start);
            }
            if (s[i] == '\'') {
                if (i + 1 < len && s[i + 1] == '\'') {
                    lab[k++] = '\'';
                    i += 2;
                    continue;
                }
                i++;
                break;
            }
            lab[k++] = s[i++];
        }
    } else {
        for (; i < len && is_plain(s[i]); i++) /* unquoted: '_' stands for a blank */
            lab[k++] = s[i] == '_' ? ' ' : s[i];
    }
    lab[k] = '\0';
    *label = lab;
    *pos = i;
    return 0;
}

int qs_newick_parse(qs_newick_tree_t *t, const char *s, size_t len, qs_error_t *err)
{
    int rc = 0;
    memset(t, 0, sizeof *t);
    uint32_t cur = new_node(t, QS_TREE_NONE);
    uint32_t depth = 0, closed = QS_TREE_NONE; /* closed: the node whose ')' was just read */
    size_t i = 0;
    int done = 0;
    /* After a node's subtree (or at a leaf) its label and length may follow. */
    while (!done) {
        i = skip_blank(s, len, i);
        if (i == (size_t)-1) {
            rc = qs_error_set(err, QS_ERR(FORMAT), "newick: unterminated [comment]");
            goto out;
        }
        if (i >= len) {
            rc = qs_error_set(err, QS_ERR(FORMAT), "newick: text ends before ';'");
            goto out;
        }
        char c = s[i];
        qs_newick_node_t *nd = &t->nodes[cur];
        if (c == '(') {
            if (nd->label || !isnan(nd->length) || cur == closed) {
                rc = qs_error_set(err, QS_ERR(FORMAT),
                                  "newick: '(' after a node's label, length or ')' at byte %zu", i);
                goto out;
            }
            cur = new_node(t, cur);
            depth++;
            i++;
        } else if (c == ',') {
            if (depth == 0) {
                rc = qs_error_set(err, QS_ERR(FORMAT),
                                  "newick: ',' outside parentheses at byte %zu", i);
                goto out;
            }
            cur = new_node(t, t->nodes[cur].parent);
            i++;
        } else if (c == ')') {
            if (depth == 0) {
                rc = qs_error_set(err, QS_ERR(FORMAT), "newick: unbalanced ')' at byte %zu", i);
                goto out;
            }
            cur = t->nodes[cur].parent;
            closed = cur;
            depth--;
            i++;
        } else if (c == ';') {
            if (depth != 0) {
                rc = qs_error_set(err, QS_ERR(FORMAT),
                                  "newick: ';' at byte %zu with %u parenthesis(es) open", i, depth);
                goto out;
            }
            done = 1;
            i++;
        } else if (c == ':') {
            if (!isnan(nd->length)) {
                rc = qs_error_set(err, QS_ERR(FORMAT), "newick: second length at byte %zu", i);
                goto out;
            }
            i++;
            if ((rc = read_length(s, len, &i, &nd->length, err)) < 0)
                goto out;
        } else if (c == '\'' || is_plain(c)) {
            if (!isnan(nd->length)) {
                rc = qs_error_set(err, QS_ERR(FORMAT), "newick: label after length at byte %zu", i);
                goto out;
            }
            if (nd->label) {
                rc = qs_error_set(err, QS_ERR(FORMAT), "newick: second label at byte %zu", i);
                goto out;
            }
            if ((rc = read_label(s, len, &i, &nd->label, err)) < 0)
                goto out;
        } else {
            rc = qs_error_set(err, QS_ERR(FORMAT), "newick: unexpected '%c' at byte %zu", c, i);
            goto out;
        }
    }
    i = skip_blank(s, len, i);
    if (i != (size_t)-1 && i < len) {
        rc = qs_error_set(err, QS_ERR(FORMAT),
                          "newick: text after the tree's ';' at byte %zu (one tree expected)", i);
        goto out;
    }
    for (uint32_t k = 0; k < t->n; k++)
        if (!t->nodes[k].label)
            t->nodes[k].label = xstrdup("");
out:
    if (rc < 0)
        qs_newick_tree_destroy(t);
    return rc;
}
