/* report: a run's data as JSON for the HTML page, and the page itself. */
#include "analysis/report.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "analysis/export.h"
#include "analysis/logread.h"
#include "analysis/tree.h"
#include "proto/json.h"

/* The page's pieces, built into the program by analysis/report_assets.c. */
extern const char qs_report_asset_uplot_js[], qs_report_asset_uplot_css[],
    qs_report_asset_page_js[], qs_report_asset_page_css[];

/* ---- the second pass over the log ------------------------------------------------------ */

typedef struct {
    uint32_t gen;
    float acc, r2;
} eval_t;

typedef struct {
    char *scenario; /* owned, NULL when the header was lost */
    eval_t *ev;
    size_t n, cap;
} pass_t;

static int read_log(pass_t *p, const char *path, uint32_t ngens, qs_error_t *err)
{
    memset(p, 0, sizeof *p);
    qs_logread_t lr;
    if (qs_logread_open(&lr, path, err) < 0)
        return -1;
    qs_record_t r;
    int rc;
    while ((rc = qs_logread_next(&lr, &r, err)) > 0) {
        if (r.type == QS_REC_HEADER && !p->scenario && r.u.header.scenario)
            p->scenario = xstrdup(r.u.header.scenario);
        else if (r.type == QS_REC_EVAL && r.u.eval.generation < ngens) {
            if (p->n == p->cap) {
                p->cap = p->cap ? 2 * p->cap : 1024;
                p->ev = xrealloc(p->ev, p->cap * sizeof *p->ev);
            }
            p->ev[p->n++] =
                (eval_t){r.u.eval.generation, (float)r.u.eval.accuracy, (float)r.u.eval.r2};
        }
        qs_record_destroy(&r);
    }
    qs_logread_close(&lr);
    return rc < 0 ? -1 : 0;
}

static int cmp_float(const void *a, const void *b)
{
    float x = *(const float *)a, y = *(const float *)b;
    return x < y ? -1 : x > y;
}

/* Quantile q of sorted v[0..n) (linear between order statistics, R's type 7). */
static double quantile(const float *v, size_t n, double q)
{
    double pos = q * (double)(n - 1);
    size_t lo = (size_t)pos;
    double frac = pos - (double)lo;
    return lo + 1 < n ? v[lo] + frac * (v[lo + 1] - v[lo]) : v[lo];
}

#define NQ 5
static const double qs_levels[NQ] = {0.10, 0.25, 0.50, 0.75, 0.90};

/* out[k * ngens + g]: quantile k of generation g's finite values of field (0 acc, 1 r2),
 * NaN for a generation without any. */
static void gen_quantiles(const pass_t *p, uint32_t ngens, int field, double *out)
{
    size_t *start = xcalloc((size_t)ngens + 1, sizeof *start);
    for (size_t i = 0; i < p->n; i++) {
        float v = field ? p->ev[i].r2 : p->ev[i].acc;
        start[p->ev[i].gen + 1] += isfinite(v) != 0;
    }
    for (uint32_t g = 0; g < ngens; g++)
        start[g + 1] += start[g];
    float *vals = xmalloc((start[ngens] ? start[ngens] : 1) * sizeof *vals);
    size_t *fill = xmalloc(((size_t)ngens + 1) * sizeof *fill);
    memcpy(fill, start, ((size_t)ngens + 1) * sizeof *fill);
    for (size_t i = 0; i < p->n; i++) {
        float v = field ? p->ev[i].r2 : p->ev[i].acc;
        if (isfinite(v))
            vals[fill[p->ev[i].gen]++] = v;
    }
    for (uint32_t g = 0; g < ngens; g++) {
        size_t n = start[g + 1] - start[g];
        float *v = vals + start[g];
        if (n)
            qsort(v, n, sizeof *v, cmp_float);
        for (int k = 0; k < NQ; k++)
            out[(size_t)k * ngens + g] = n ? quantile(v, n, qs_levels[k]) : NAN;
    }
    free(start);
    free(vals);
    free(fill);
}

/* ---- the run's data -------------------------------------------------------------------- */

typedef struct {
    const qs_summary_t *s;
    const qs_history_t *h;
    const qs_phylo_run_t *ph;
    const pass_t *pass;
} ctx_t;

static void arr_f64(qs_jw_t *w, const char *key, const double *v, uint32_t n)
{
    qs_jw_key(w, key);
    qs_jw_begin_array(w);
    for (uint32_t i = 0; i < n; i++)
        qs_jw_f64(w, v[i]);
    qs_jw_end(w);
}

static double ratio(double sum, uint32_t n)
{
    return n ? sum / n : NAN;
}

static void write_generations(qs_jw_t *w, const ctx_t *c)
{
    const qs_history_t *h = c->h;
    uint32_t n = c->ph->ngens;
    double *v = xmalloc(((size_t)n + 1) * NQ * sizeof *v);
    qs_jw_key(w, "generations");
    qs_jw_begin_object(w);
#define SERIES(key, expr)                                                                          \
    do {                                                                                           \
        for (uint32_t g = 0; g < n; g++) {                                                         \
            const qs_hgen_t *x = &h->gens[g];                                                      \
            (void)x;                                                                               \
            v[g] = (expr);                                                                         \
        }                                                                                          \
        arr_f64(w, key, v, n);                                                                     \
    } while (0)
    SERIES("population", x->population);
    SERIES("births", x->births);
    SERIES("best_accuracy", x->st.best_accuracy);
    SERIES("mean_accuracy", ratio(x->st.accuracy.sum, x->st.accuracy.n));
    SERIES("mean_r2", ratio(x->st.r2.sum, x->st.r2.n));
    SERIES("mean_link_r2", ratio(x->st.link_r2.sum, x->st.link_r2.n));
    static const char *const acc_keys[NQ] = {"accuracy_p10", "accuracy_p25", "accuracy_p50",
                                             "accuracy_p75", "accuracy_p90"};
    static const char *const r2_keys[NQ] = {"r2_p10", "r2_p25", "r2_p50", "r2_p75", "r2_p90"};
    gen_quantiles(c->pass, n, 0, v);
    for (int k = 0; k < NQ; k++)
        arr_f64(w, acc_keys[k], v + (size_t)k * n, n);
    gen_quantiles(c->pass, n, 1, v);
    for (int k = 0; k < NQ; k++)
        arr_f64(w, r2_keys[k], v + (size_t)k * n, n);
    qs_jw_key(w, "species");
    qs_jw_begin_array(w);
    for (uint32_t s = 0; s < c->s->nspecies; s++) {
        qs_jw_begin_array(w);
        for (uint32_t g = 0; g < n; g++)
            qs_jw_u64(w, h->gens[g].species_count[s]);
        qs_jw_end(w);
    }
    qs_jw_end(w);
    /* The phylogenetic metrics of each generation's living. */
    uint32_t ng;
    qs_phylo_gen_t *pg = qs_phylo_generations(h, c->ph, &ng);
    SERIES("phylogenetic_diversity", pg[g].living.pd);
    SERIES("mean_pairwise_distance", pg[g].living.mpd);
    SERIES("sackin", (double)pg[g].living.sackin);
    SERIES("colless", (double)pg[g].living.colless);
    SERIES("mrca_depth", pg[g].living.mrca == QS_NONE ? NAN : g - pg[g].living.mrca_time);
    SERIES("whole_phylogenetic_diversity", pg[g].whole.pd);
    SERIES("ltt", pg[g].ltt);
#undef SERIES
    free(pg);
    qs_jw_end(w);
    free(v);
}

/* Organisms born by replication with both numbers, evenly thinned. */
static void write_scatter(qs_jw_t *w, const qs_history_t *h)
{
    uint32_t n = 0;
    for (uint32_t i = 0; i < h->norgs; i++) {
        const qs_horg_t *o = &h->orgs[i];
        n += o->has_link && isfinite(o->link_r2) && isfinite(o->accuracy);
    }
    uint32_t step =
        n > QS_REPORT_MAX_POINTS ? (n + QS_REPORT_MAX_POINTS - 1) / QS_REPORT_MAX_POINTS : 1;
    qs_jw_key(w, "scatter");
    qs_jw_begin_object(w);
    qs_jw_kv_u64(w, "organisms", n);
    qs_jw_kv_u64(w, "every", step);
    const char *keys[4] = {"link_r2", "accuracy", "species", "id"};
    for (int k = 0; k < 4; k++) {
        qs_jw_key(w, keys[k]);
        qs_jw_begin_array(w);
        uint32_t seen = 0;
        for (uint32_t i = 0; i < h->norgs; i++) {
            const qs_horg_t *o = &h->orgs[i];
            if (!(o->has_link && isfinite(o->link_r2) && isfinite(o->accuracy)))
                continue;
            if (seen++ % step)
                continue;
            if (k == 0)
                qs_jw_f64(w, o->link_r2);
            else if (k == 1)
                qs_jw_f64(w, o->accuracy);
            else if (k == 2)
                qs_jw_u64(w, o->species);
            else
                qs_jw_u64(w, o->id);
        }
        qs_jw_end(w);
    }
    qs_jw_end(w);
}

/* The whole tree when it is small enough, else the survivors' ancestry, else none. */
static void write_tree(qs_jw_t *w, const qs_history_t *h)
{
    uint32_t n = h->norgs;
    uint32_t *parent;
    qs_export_tree_arrays(h, &parent, NULL, NULL);
    uint8_t *keep = xmalloc(n ? n : 1);
    const char *which = "whole";
    uint32_t nkeep = n;
    memset(keep, 1, n);
    if (n > QS_REPORT_MAX_TREE) {
        uint8_t *surv = qs_export_survivors(h, NULL);
        nkeep = qs_tree_ancestry(n, parent, surv, keep);
        free(surv);
        which = "survivors";
    }
    qs_jw_key(w, "tree");
    qs_jw_begin_object(w);
    if (nkeep == 0 || nkeep > QS_REPORT_MAX_TREE) {
        qs_jw_kv_str(w, "which", "none");
        qs_jw_kv_u64(w, "organisms", nkeep);
        qs_jw_end(w);
        free(parent);
        free(keep);
        return;
    }
    qs_jw_kv_str(w, "which", which);
    uint32_t *index = xmalloc((n ? n : 1) * sizeof *index);
    uint32_t k = 0;
    for (uint32_t i = 0; i < n; i++)
        index[i] = keep[i] ? k++ : QS_NONE;
    uint32_t last = qs_history_last_generation(h);
    static const char *const keys[] = {"id",       "parent", "born", "died", "species",
                                       "survivor", "acc",    "r2",   "link", "lives"};
    for (size_t f = 0; f < QS_ARRAY_LEN(keys); f++) {
        qs_jw_key(w, keys[f]);
        qs_jw_begin_array(w);
        for (uint32_t i = 0; i < n; i++) {
            if (!keep[i])
                continue;
            const qs_horg_t *o = &h->orgs[i];
            switch (f) {
            case 0:
                qs_jw_u64(w, o->id);
                break;
            case 1:
                if (parent[i] == QS_NONE || index[parent[i]] == QS_NONE)
                    qs_jw_i64(w, -1);
                else
                    qs_jw_u64(w, index[parent[i]]);
                break;
            case 2:
                qs_jw_u64(w, o->born);
                break;
            case 3:
                qs_jw_u64(w, o->died != QS_NONE ? o->died : last);
                break;
            case 4:
                qs_jw_u64(w, o->species);
                break;
            case 5:
                qs_jw_u64(w, (uint64_t)qs_history_survivor(h, i));
                break;
            case 6:
                qs_jw_f64(w, o->accuracy);
                break;
            case 7:
                qs_jw_f64(w, o->r2);
                break;
            case 8:
                qs_jw_f64(w, o->has_link ? o->link_r2 : NAN);
                break;
            default:
                qs_jw_u64(w, o->lives);
                break;
            }
        }
        qs_jw_end(w);
    }
    qs_jw_end(w);
    free(index);
    free(parent);
    free(keep);
}

static void write_extra(qs_jw_t *w, void *arg)
{
    const ctx_t *c = arg;
    qs_phylo_run_json(c->ph, c->h, w);
    qs_jw_key(w, "report");
    qs_jw_begin_object(w);
    if (c->pass->scenario)
        qs_jw_kv_str(w, "scenario", c->pass->scenario);
    else
        qs_jw_kv_null(w, "scenario");
    qs_jw_key(w, "species_names");
    qs_jw_begin_array(w);
    for (uint32_t s = 0; s < c->s->nspecies; s++)
        qs_jw_str(w, c->s->species[s].name);
    qs_jw_end(w);
    write_generations(w, c);
    write_scatter(w, c->h);
    write_tree(w, c->h);
    qs_jw_end(w);
}

int qs_report_run_data(qs_report_run_t *r, const qs_summary_t *s, const qs_history_t *h,
                       const qs_phylo_run_t *ph, const char *log_path, qs_error_t *err)
{
    memset(r, 0, sizeof *r);
    pass_t pass;
    if (read_log(&pass, log_path, ph->ngens, err) < 0) {
        free(pass.scenario);
        free(pass.ev);
        return -1;
    }
    FILE *f = open_memstream(&r->json, &r->len);
    if (!f)
        qs_die("open_memstream: %s", strerror(errno));
    ctx_t c = {s, h, ph, &pass};
    qs_summary_json(s, f, write_extra, &c);
    fclose(f);
    free(pass.scenario);
    free(pass.ev);
    return 0;
}

void qs_report_run_destroy(qs_report_run_t *r)
{
    free(r->json);
    r->json = NULL;
}

/* ---- the page -------------------------------------------------------------------------- */

/* JSON text inside <script>: "</" becomes "<\/" (the same JSON string) so that no text of
 * a run (a scenario's comment) can close the element. */
static void put_script_json(FILE *f, const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '<' && i + 1 < n && s[i + 1] == '/') {
            fputs("<\\/", f);
            i++;
        } else {
            fputc(s[i], f);
        }
    }
}

int qs_report_write(const char *path, const qs_report_run_t *runs, uint32_t n, qs_error_t *err)
{
    FILE *f = fopen(path, "w");
    if (!f)
        return qs_error_set(err, QS_ERR(IO), "%s: cannot create: %s", path, strerror(errno));
    /* The error catcher comes first, so that it sees errors of every later script. */
    fputs("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
          "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
          "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
          "script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data:\">\n"
          "<title>quinesim report</title>\n"
          "<script>window.qsErrors=[];window.addEventListener('error',function(e){"
          "window.qsErrors.push(String(e.message||e));});(function(){var c=console.error;"
          "console.error=function(){window.qsErrors.push(Array.prototype.join.call(arguments,' '));"
          "return c.apply(console,arguments);};})();</script>\n<style>\n",
          f);
    fputs(qs_report_asset_uplot_css, f);
    fputs(qs_report_asset_page_css, f);
    fputs("</style>\n</head>\n<body>\n<script id=\"qs-data\" type=\"application/json\">[", f);
    for (uint32_t k = 0; k < n; k++) {
        if (k)
            fputc(',', f);
        put_script_json(f, runs[k].json, runs[k].len);
    }
    fputs("]</script>\n<pre id=\"qs-status\" hidden></pre>\n<script>\n", f);
    fputs(qs_report_asset_uplot_js, f);
    fputs("\n</script>\n<script>\n", f);
    fputs(qs_report_asset_page_js, f);
    fputs("\n</script>\n</body>\n</html>\n", f);
    int bad = ferror(f) != 0;
    bad |= fclose(f) != 0;
    if (bad)
        return qs_error_set(err, QS_ERR(IO), "%s: write error: %s", path, strerror(errno));
    return 0;
}
