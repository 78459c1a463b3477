/* islands: per-island counts, survival of immigrant lineages, diversity and trends. */
#include "analysis/islands.h"

#include <math.h>
#include <stdlib.h>

#include "analysis/export.h"
#include "analysis/phylo.h"

qs_island_summary_t *qs_islands_summarize(const qs_history_t *h)
{
    uint32_t ni = h->nislands;
    if (ni <= 1)
        return NULL;
    qs_island_summary_t *is = xcalloc(ni, sizeof *is);
    uint32_t n = h->norgs;
    uint32_t *parent, *root = xmalloc((n ? n : 1) * sizeof *root);
    double *time;
    qs_export_tree_arrays(h, &parent, NULL, &time);
    uint8_t *alive = qs_export_survivors(h, NULL);
    /* lives on: alive at the end, or an ancestor of one (children come after parents) */
    uint8_t *lives = xmalloc(n ? n : 1);
    for (uint32_t i = 0; i < n; i++)
        lives[i] = alive[i];
    for (uint32_t i = n; i-- > 0;)
        if (lives[i] && parent[i] != QS_NONE)
            lives[parent[i]] = 1;
    for (uint32_t i = 0; i < n; i++)
        root[i] = parent[i] == QS_NONE ? i : root[parent[i]];
    for (uint32_t k = 0; k < ni; k++)
        is[k].best_accuracy = NAN;
    for (uint32_t i = 0; i < n; i++) {
        const qs_horg_t *o = &h->orgs[i];
        if (o->island >= ni)
            continue;
        qs_island_summary_t *s = &is[o->island];
        if (o->parent_id == 0)
            s->founders++;
        else
            s->births++;
        if (o->migrant) {
            s->immigrants++;
            s->immigrant_lineages_alive += lives[i];
        }
        s->alive_at_end += alive[i];
    }
    /* the survivors' tree on each island: its roots and PD */
    uint8_t *taxon = xmalloc(n ? n : 1);
    uint32_t *seen = xcalloc(n ? n : 1, sizeof *seen); /* root -> last island + 1 */
    for (uint32_t k = 0; k < ni; k++) {
        for (uint32_t i = 0; i < n; i++)
            taxon[i] = alive[i] && h->orgs[i].island == k;
        qs_phylo_t m;
        qs_phylo_measure(&m, n, parent, time, taxon);
        is[k].pd_alive = m.pd;
        for (uint32_t i = 0; i < n; i++)
            if (taxon[i] && seen[root[i]] != k + 1) {
                seen[root[i]] = k + 1;
                is[k].roots_alive++;
            }
    }
    /* accuracy and fidelity from the per-island generations */
    for (uint32_t k = 0; k < ni; k++) {
        is[k].last_mean_accuracy = is[k].last_mean_r2 = NAN;
        for (uint32_t g = 0; g < h->ngens; g++) {
            const qs_higen_t *ig = qs_history_island_gen(h, g, k);
            if (!(is[k].best_accuracy >= ig->st.best_accuracy) && isfinite(ig->st.best_accuracy))
                is[k].best_accuracy = ig->st.best_accuracy;
            if (ig->population) {
                is[k].last_mean_accuracy = qs_genstats_mean(&ig->st.accuracy);
                is[k].last_mean_r2 = qs_genstats_mean(&ig->st.r2);
            }
        }
    }
    free(taxon);
    free(seen);
    free(lives);
    free(alive);
    free(root);
    free(parent);
    free(time);
    return is;
}

static const char *num(char *buf, size_t cap, double v)
{
    if (isnan(v))
        snprintf(buf, cap, "-");
    else
        snprintf(buf, cap, "%.4f", v);
    return buf;
}

void qs_islands_print(const qs_history_t *h, const qs_island_summary_t *is, FILE *out)
{
    if (!is)
        return;
    fprintf(out, "islands: %u (accuracy and R2: the last generation's means)\n", h->nislands);
    fputs("  island: founders, births (immigrants among them, and how many of their lineages "
          "are alive at the end);\n  alive at the end, from how many founders, their tree's PD; "
          "best accuracy; accuracy and R2\n",
          out);
    for (uint32_t k = 0; k < h->nislands; k++) {
        const qs_island_summary_t *s = &is[k];
        char a[16], b[16], c[16];
        fprintf(out,
                "  %-4u founders %llu  births %llu (%llu immigrants, %llu lineages alive)  "
                "alive %llu from %u founders, PD %.4g  best acc %s  acc %s  R2 %s\n",
                k, (unsigned long long)s->founders, (unsigned long long)s->births,
                (unsigned long long)s->immigrants, (unsigned long long)s->immigrant_lineages_alive,
                (unsigned long long)s->alive_at_end, s->roots_alive, s->pd_alive,
                num(a, sizeof a, s->best_accuracy), num(b, sizeof b, s->last_mean_accuracy),
                num(c, sizeof c, s->last_mean_r2));
    }
}

void qs_islands_json(const qs_history_t *h, const qs_island_summary_t *is, qs_jw_t *w)
{
    if (!is) {
        qs_jw_kv_null(w, "islands");
        return;
    }
    qs_jw_key(w, "islands");
    qs_jw_begin_array(w);
    for (uint32_t k = 0; k < h->nislands; k++) {
        const qs_island_summary_t *s = &is[k];
        qs_jw_begin_object(w);
        qs_jw_kv_u64(w, "island", k);
        qs_jw_kv_u64(w, "founders", s->founders);
        qs_jw_kv_u64(w, "births", s->births);
        qs_jw_kv_u64(w, "immigrants", s->immigrants);
        qs_jw_kv_u64(w, "immigrant_lineages_alive", s->immigrant_lineages_alive);
        qs_jw_kv_u64(w, "alive_at_end", s->alive_at_end);
        qs_jw_kv_u64(w, "roots_alive", s->roots_alive);
        qs_jw_kv_f64(w, "pd_alive", s->pd_alive);
        qs_jw_kv_f64(w, "best_accuracy", s->best_accuracy);
        qs_jw_kv_f64(w, "last_mean_accuracy", s->last_mean_accuracy);
        qs_jw_kv_f64(w, "last_mean_r2", s->last_mean_r2);
        qs_jw_end(w);
    }
    qs_jw_end(w);
}
