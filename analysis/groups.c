/* groups: runs grouped by the scenario keys that vary between them, mean ± sd per group. */
#include "analysis/groups.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "analysis/inikv.h"
#include "proto/json.h"

/* Keys that say how a run is carried out, not what it computes. */
static int operational(const char *key)
{
    static const char *const keys[] = {"run.name",
                                       "run.seed",
                                       "run.checkpoint_every",
                                       "run.archive",
                                       "run.archive_every",
                                       "budget.task_timeout_s",
                                       "budget.worker_memory_mb"};
    for (size_t k = 0; k < QS_ARRAY_LEN(keys); k++)
        if (!strcmp(key, keys[k]))
            return 1;
    return !strncmp(key, "workers.", 8);
}

/* One run's pairs, in text order. */
typedef struct {
    char **key, **value;
    uint32_t n, cap;
} pairs_t;

static void pair_add(const char *key, const char *value, void *ctx)
{
    pairs_t *p = ctx;
    if (operational(key))
        return;
    for (uint32_t k = 0; k < p->n; k++)
        if (!strcmp(p->key[k], key)) { /* a key set twice: the last one counts, as in inih */
            free(p->value[k]);
            p->value[k] = xstrdup(value);
            return;
        }
    if (p->n == p->cap) {
        p->cap = p->cap ? 2 * p->cap : 64;
        p->key = xrealloc(p->key, p->cap * sizeof *p->key);
        p->value = xrealloc(p->value, p->cap * sizeof *p->value);
    }
    p->key[p->n] = xstrdup(key);
    p->value[p->n++] = xstrdup(value);
}

static const char *pair_get(const pairs_t *p, const char *key)
{
    for (uint32_t k = 0; k < p->n; k++)
        if (!strcmp(p->key[k], key))
            return p->value[k];
    return NULL;
}

/* Equal values: the same text, or numbers that parse to the same value. */
static int same_value(const char *a, const char *b)
{
    if (!a || !b)
        return a == b;
    if (!strcmp(a, b))
        return 1;
    char *ea, *eb;
    double x = strtod(a, &ea), y = strtod(b, &eb);
    return ea != a && eb != b && !*ea && !*eb && x == y;
}

void qs_groups_init(qs_groups_t *g, const char *const *scenarios, uint32_t nruns)
{
    memset(g, 0, sizeof *g);
    g->nruns = nruns;
    pairs_t *p = xcalloc(nruns ? nruns : 1, sizeof *p);
    for (uint32_t r = 0; r < nruns; r++)
        if (scenarios[r])
            qs_inikv_each(scenarios[r], pair_add, &p[r]);

    /* The varying keys: every key of every run with a scenario, kept if some other such
     * run has another value (or none). */
    uint32_t cap = 0;
    for (uint32_t r = 0; r < nruns; r++) {
        if (!scenarios[r])
            continue;
        for (uint32_t k = 0; k < p[r].n; k++) {
            const char *key = p[r].key[k];
            int seen = 0, varies = 0;
            for (uint32_t j = 0; j < g->nkeys && !seen; j++)
                seen = !strcmp(g->keys[j], key);
            for (uint32_t q = 0; q < r && !seen; q++) /* already looked at with run q */
                seen = scenarios[q] && pair_get(&p[q], key);
            if (seen)
                continue;
            for (uint32_t q = 0; q < nruns && !varies; q++)
                varies = scenarios[q] && !same_value(p[r].value[k], pair_get(&p[q], key));
            if (!varies)
                continue;
            if (g->nkeys == cap) {
                cap = cap ? 2 * cap : 8;
                g->keys = xrealloc(g->keys, cap * sizeof *g->keys);
            }
            g->keys[g->nkeys++] = xstrdup(key);
        }
    }

    g->values = xcalloc((size_t)nruns * (g->nkeys ? g->nkeys : 1), sizeof *g->values);
    for (uint32_t r = 0; r < nruns; r++)
        for (uint32_t k = 0; k < g->nkeys; k++) {
            const char *v = scenarios[r] ? pair_get(&p[r], g->keys[k]) : NULL;
            g->values[(size_t)r * g->nkeys + k] = v ? xstrdup(v) : NULL;
        }

    uint32_t n = nruns ? nruns : 1;
    g->group = xcalloc(n, sizeof *g->group);
    g->first = xcalloc(n, sizeof *g->first);
    g->size = xcalloc(n, sizeof *g->size);
    g->unknown = xcalloc(n, sizeof *g->unknown);
    for (uint32_t r = 0; r < nruns; r++) {
        uint32_t k = 0;
        for (; k < g->ngroups; k++) {
            uint32_t f = g->first[k];
            if ((scenarios[r] == NULL) != g->unknown[k])
                continue;
            int same = 1;
            for (uint32_t j = 0; j < g->nkeys && same; j++)
                same = same_value(g->values[(size_t)r * g->nkeys + j],
                                  g->values[(size_t)f * g->nkeys + j]);
            if (same)
                break;
        }
        if (k == g->ngroups) {
            g->first[k] = r;
            g->unknown[k] = !scenarios[r];
            g->ngroups++;
        }
        g->group[r] = k;
        g->size[k]++;
    }

    for (uint32_t r = 0; r < nruns; r++) {
        for (uint32_t k = 0; k < p[r].n; k++) {
            free(p[r].key[k]);
            free(p[r].value[k]);
        }
        free(p[r].key);
        free(p[r].value);
    }
    free(p);
}

void qs_groups_destroy(qs_groups_t *g)
{
    for (uint32_t k = 0; k < g->nkeys; k++)
        free(g->keys[k]);
    for (size_t k = 0; k < (size_t)g->nruns * g->nkeys; k++)
        free(g->values[k]);
    free(g->keys);
    free(g->values);
    free(g->group);
    free(g->first);
    free(g->size);
    free(g->unknown);
    memset(g, 0, sizeof *g);
}

static const char *value_of(const qs_groups_t *g, uint32_t group, uint32_t key)
{
    const char *v = g->values[(size_t)g->first[group] * g->nkeys + key];
    return v ? v : "(none)";
}

void qs_groups_label(const qs_groups_t *g, uint32_t k, char *buf, size_t cap)
{
    if (g->unknown[k]) {
        snprintf(buf, cap, "scenario unknown");
        return;
    }
    if (!g->nkeys) {
        snprintf(buf, cap, "all runs");
        return;
    }
    size_t n = 0;
    buf[0] = '\0';
    for (uint32_t j = 0; j < g->nkeys && n + 1 < cap; j++) {
        int w = snprintf(buf + n, cap - n, "%s%s=%s", j ? " " : "", g->keys[j], value_of(g, k, j));
        n += w > 0 ? (size_t)w : 0;
    }
}

/* ---- figures ---------------------------------------------------------------------------- */

typedef double (*figure_fn)(const qs_summary_t *s);

static double f_gens(const qs_summary_t *s)
{
    return s->generations;
}
static double f_births(const qs_summary_t *s)
{
    return (double)s->births;
}
static double f_alive(const qs_summary_t *s)
{
    return (double)s->alive_at_end;
}
static double f_best_fit(const qs_summary_t *s)
{
    return s->has_best ? s->best_fitness : NAN;
}
static double f_best_acc(const qs_summary_t *s)
{
    return s->has_best ? s->best_accuracy : NAN;
}
static double last_of(const qs_trend_t *t)
{
    return t->present ? t->last : NAN;
}
static double f_best_acc_last(const qs_summary_t *s)
{
    return last_of(&s->best_accuracy_trend);
}
static double f_acc_last(const qs_summary_t *s)
{
    return last_of(&s->mean_accuracy_trend);
}
static double f_r2_last(const qs_summary_t *s)
{
    return last_of(&s->mean_r2_trend);
}
static double f_link_last(const qs_summary_t *s)
{
    return last_of(&s->mean_link_r2_trend);
}
static double f_wall(const qs_summary_t *s)
{
    return s->wall_seconds;
}

static const struct {
    const char *name, *json;
    figure_fn fn;
    int decimals;
} figures[] = {
    {"generations", "generations", f_gens, 1},
    {"births", "births", f_births, 1},
    {"alive at the end", "alive_at_end", f_alive, 1},
    {"best fitness", "best_fitness", f_best_fit, 4},
    {"best accuracy", "best_accuracy", f_best_acc, 4},
    {"best accuracy (last)", "best_accuracy_last", f_best_acc_last, 4},
    {"mean accuracy (last)", "mean_accuracy_last", f_acc_last, 4},
    {"mean self R2 (last)", "mean_r2_last", f_r2_last, 4},
    {"mean link R2 (last)", "mean_link_r2_last", f_link_last, 4},
    {"wall seconds", "wall_seconds", f_wall, 1},
};

typedef struct {
    uint32_t n;
    double mean, sd, min, max; /* sd: NaN below 2 values */
} stat_t;

/* Figure f over group k's runs (finite values only). */
static stat_t group_stat(const qs_groups_t *g, const qs_summary_t *s, uint32_t k, size_t f)
{
    stat_t st = {0, NAN, NAN, NAN, NAN};
    double sum = 0;
    for (uint32_t r = 0; r < g->nruns; r++) {
        double v = g->group[r] == k ? figures[f].fn(&s[r]) : NAN;
        if (!isfinite(v))
            continue;
        st.min = st.n ? fmin(st.min, v) : v;
        st.max = st.n ? fmax(st.max, v) : v;
        sum += v;
        st.n++;
    }
    if (!st.n)
        return st;
    st.mean = sum / st.n;
    if (st.n > 1) {
        double ss = 0;
        for (uint32_t r = 0; r < g->nruns; r++) {
            double v = g->group[r] == k ? figures[f].fn(&s[r]) : NAN;
            if (isfinite(v))
                ss += (v - st.mean) * (v - st.mean);
        }
        st.sd = sqrt(ss / (st.n - 1));
    }
    return st;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* Group k's seeds, ascending, runs of consecutive seeds as "1-5": "1-3,7"; "?" for a run
 * without a header. */
static void seeds_text(const qs_groups_t *g, const qs_summary_t *s, uint32_t k, char *buf,
                       size_t cap)
{
    uint64_t *v = xmalloc((g->size[k] ? g->size[k] : 1) * sizeof *v);
    uint32_t n = 0, unknown = 0;
    for (uint32_t r = 0; r < g->nruns; r++)
        if (g->group[r] == k) {
            if (s[r].has_header)
                v[n++] = s[r].seed;
            else
                unknown++;
        }
    qsort(v, n, sizeof *v, cmp_u64);
    size_t len = 0;
    buf[0] = '\0';
    for (uint32_t i = 0; i < n && len + 1 < cap;) {
        uint32_t j = i;
        while (j + 1 < n && v[j + 1] == v[j] + 1)
            j++;
        int w = j > i + 1 ? snprintf(buf + len, cap - len, "%s%llu-%llu", i ? "," : "",
                                     (unsigned long long)v[i], (unsigned long long)v[j])
                          : snprintf(buf + len, cap - len, "%s%llu", i ? "," : "",
                                     (unsigned long long)v[i]);
        len += w > 0 ? QS_MIN((size_t)w, cap - len - 1) : 0;
        i = j > i + 1 ? j + 1 : i + 1;
    }
    if (unknown && len + 1 < cap)
        snprintf(buf + len, cap - len, "%s?", n ? "," : "");
    free(v);
}

#define GROUP_COL 17

void qs_groups_print(const qs_groups_t *g, const qs_summary_t *s, FILE *out)
{
    fprintf(out, "\n%u group%s of %u runs", g->ngroups, g->ngroups == 1 ? "" : "s", g->nruns);
    if (g->nkeys) {
        fprintf(out, ", by the scenario keys that differ:");
        for (uint32_t j = 0; j < g->nkeys; j++)
            fprintf(out, " %s", g->keys[j]);
    } else {
        fprintf(out, ": no scenario key differs but the seed");
    }
    fprintf(out, "\n(mean ± sd over each group's runs; sd with n - 1)\n");
    fprintf(out, "%-24s", "group");
    for (uint32_t k = 0; k < g->ngroups; k++)
        fprintf(out, " %*u", GROUP_COL, k + 1);
    fputc('\n', out);
    for (uint32_t j = 0; j < g->nkeys; j++) {
        fprintf(out, "%-24.24s", g->keys[j]);
        for (uint32_t k = 0; k < g->ngroups; k++)
            fprintf(out, " %*.*s", GROUP_COL, GROUP_COL, g->unknown[k] ? "?" : value_of(g, k, j));
        fputc('\n', out);
    }
    fprintf(out, "%-24s", "runs");
    for (uint32_t k = 0; k < g->ngroups; k++)
        fprintf(out, " %*u", GROUP_COL, g->size[k]);
    fputc('\n', out);
    fprintf(out, "%-24s", "seeds");
    for (uint32_t k = 0; k < g->ngroups; k++) {
        char seeds[256];
        seeds_text(g, s, k, seeds, sizeof seeds);
        fprintf(out, " %*.*s", GROUP_COL, GROUP_COL, seeds);
    }
    fputc('\n', out);
    for (size_t f = 0; f < QS_ARRAY_LEN(figures); f++) {
        fprintf(out, "%-24s", figures[f].name);
        for (uint32_t k = 0; k < g->ngroups; k++) {
            stat_t st = group_stat(g, s, k, f);
            char cell[64];
            int d = figures[f].decimals;
            if (!st.n)
                snprintf(cell, sizeof cell, "-");
            else if (st.n == 1)
                snprintf(cell, sizeof cell, "%.*f", d, st.mean);
            else
                snprintf(cell, sizeof cell, "%.*f ± %.*f", d, st.mean, d, st.sd);
            /* "±" is two bytes and one column: pad by hand */
            size_t cols = strlen(cell) - (st.n > 1 ? 1 : 0);
            fprintf(out, " %*s%s", (int)(cols < GROUP_COL ? GROUP_COL - cols : 0), "", cell);
        }
        fputc('\n', out);
    }
}

void qs_groups_json(const qs_groups_t *g, const qs_summary_t *s, FILE *out)
{
    for (uint32_t k = 0; k < g->ngroups; k++) {
        qs_jw_t w;
        qs_jw_init(&w, out, 0);
        qs_jw_set_digits(&w, 15, 17);
        qs_jw_begin_object(&w);
        qs_jw_key(&w, "group");
        if (g->unknown[k]) {
            qs_jw_null(&w);
        } else {
            qs_jw_begin_object(&w);
            for (uint32_t j = 0; j < g->nkeys; j++) {
                const char *v = g->values[(size_t)g->first[k] * g->nkeys + j];
                if (v)
                    qs_jw_kv_str(&w, g->keys[j], v);
                else
                    qs_jw_kv_null(&w, g->keys[j]);
            }
            qs_jw_end(&w);
        }
        char label[1024];
        qs_groups_label(g, k, label, sizeof label);
        qs_jw_kv_str(&w, "label", label);
        qs_jw_kv_u64(&w, "n", g->size[k]);
        qs_jw_key(&w, "runs");
        qs_jw_begin_array(&w);
        for (uint32_t r = 0; r < g->nruns; r++)
            if (g->group[r] == k)
                qs_jw_str(&w, s[r].label);
        qs_jw_end(&w);
        qs_jw_key(&w, "seeds");
        qs_jw_begin_array(&w);
        for (uint32_t r = 0; r < g->nruns; r++)
            if (g->group[r] == k) {
                if (s[r].has_header)
                    qs_jw_u64(&w, s[r].seed);
                else
                    qs_jw_null(&w);
            }
        qs_jw_end(&w);
        for (size_t f = 0; f < QS_ARRAY_LEN(figures); f++) {
            stat_t st = group_stat(g, s, k, f);
            qs_jw_key(&w, figures[f].json);
            qs_jw_begin_object(&w);
            qs_jw_kv_u64(&w, "n", st.n);
            qs_jw_kv_f64(&w, "mean", st.mean);
            qs_jw_kv_f64(&w, "sd", st.sd);
            qs_jw_kv_f64(&w, "min", st.min);
            qs_jw_kv_f64(&w, "max", st.max);
            qs_jw_end(&w);
        }
        qs_jw_end(&w);
        qs_jw_newline(&w);
    }
}
