/* phylo: Faith's PD, mean pairwise distance, Sackin, Colless, MRCA and lineages through
 * time on a parent array, and their use on a run's history. */
#include "analysis/phylo.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "analysis/export.h"
#include "analysis/plot.h"
#include "analysis/tree.h"

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

/* sum over i < j of |a_i - a_j|, a sorted in place. */
static uint64_t pair_abs_sum(uint32_t *a, uint32_t k)
{
    if (k == 2)
        return a[0] > a[1] ? a[0] - a[1] : a[1] - a[0];
    qsort(a, k, sizeof *a, cmp_u32);
    int64_t s = 0;
    for (uint32_t j = 0; j < k; j++)
        s += (int64_t)a[j] * (2 * (int64_t)j - (int64_t)(k - 1));
    return (uint64_t)s;
}

/* One branching node of the shape tree: its children's leaf counts in a[0..k). */
static void shape_node(qs_phylo_t *m, uint32_t *a, uint32_t k, uint32_t leaves)
{
    if (k < 2)
        return; /* a leaf, or a unifurcation (suppressed) */
    m->sackin += leaves;
    m->colless += pair_abs_sum(a, k);
    m->polytomies += k > 2;
}

void qs_phylo_measure(qs_phylo_t *m, uint32_t n, const uint32_t *parent, const double *time,
                      const uint8_t *taxon)
{
    memset(m, 0, sizeof *m);
    m->mpd = NAN;
    m->mrca = QS_NONE;
    m->mrca_time = NAN;
    /* Only nodes up to the last taxon can be in the tree. */
    uint32_t lim = n;
    while (lim > 0 && !taxon[lim - 1])
        lim--;
    if (lim == 0)
        return;
    uint8_t *in = xmalloc(lim);
    uint32_t *below = xcalloc(lim, sizeof *below); /* taxa in the subtree */
    uint32_t *first = xmalloc(((size_t)lim + 1) * sizeof *first);
    uint32_t *child = xmalloc((size_t)lim * sizeof *child);
    uint32_t *roots = xmalloc((size_t)lim * sizeof *roots);
    uint32_t *counts = xmalloc(((size_t)lim + 1) * sizeof *counts);
    m->nodes = qs_tree_ancestry(lim, parent, taxon, in);
    m->roots = qs_tree_children(lim, parent, in, first, child, roots);
    for (uint32_t i = lim; i-- > 0;) {
        if (!in[i])
            continue;
        below[i] += taxon[i] != 0;
        m->taxa += taxon[i] != 0;
        if (parent[i] != QS_TREE_NONE)
            below[parent[i]] += below[i];
    }
    double N = m->taxa, pairs_dist = 0;
    for (uint32_t i = 0; i < lim; i++) {
        if (!in[i])
            continue;
        /* The edge above i: from its parent, or from the virtual root at time 0. */
        double len = parent[i] != QS_TREE_NONE ? time[i] - time[parent[i]]
                     : m->roots > 1            ? time[i]
                                               : 0;
        m->pd += len;
        pairs_dist += len * below[i] * (N - below[i]);
        /* Shape tree: the children's leaf counts, and the taxon's own leaf if it has
         * children. */
        uint32_t k = 0;
        for (uint32_t c = first[i]; c < first[i + 1]; c++)
            counts[k++] = below[child[c]];
        if (k > 0 && taxon[i])
            counts[k++] = 1;
        shape_node(m, counts, k, below[i]);
    }
    if (m->roots > 1) {
        for (uint32_t r = 0; r < m->roots; r++)
            counts[r] = below[roots[r]];
        shape_node(m, counts, m->roots, m->taxa);
    }
    if (m->taxa >= 2)
        m->mpd = pairs_dist / (N * (N - 1) / 2);
    uint32_t mrca = qs_tree_mrca(lim, parent, taxon, NULL);
    if (mrca != QS_TREE_NONE) {
        m->mrca = mrca;
        m->mrca_time = time[mrca];
    }
    free(in);
    free(below);
    free(first);
    free(child);
    free(roots);
    free(counts);
}

void qs_phylo_ltt(uint32_t n, const uint32_t *parent, const uint32_t *born, const uint8_t *taxon,
                  uint32_t ngens, uint32_t *ltt)
{
    memset(ltt, 0, (size_t)ngens * sizeof *ltt);
    if (n == 0 || ngens == 0)
        return;
    /* Node i is a lineage's latest ancestor over [born[i], end[i]): to the end for a taxon,
     * else to the birth of its last child in the tree (0: not in the tree). */
    uint32_t *end = xcalloc(n, sizeof *end);
    uint8_t *in = xcalloc(n, 1);
    int32_t *diff = xcalloc((size_t)ngens + 1, sizeof *diff);
    for (uint32_t i = n; i-- > 0;) {
        if (taxon[i]) {
            in[i] = 1;
            end[i] = ngens;
        }
        if (!in[i])
            continue;
        uint32_t p = parent[i];
        if (p != QS_TREE_NONE) {
            in[p] = 1;
            if (born[i] > end[p])
                end[p] = born[i];
        }
        uint32_t b = born[i] < ngens ? born[i] : ngens;
        uint32_t e = end[i] < ngens ? end[i] : ngens;
        if (b < e) {
            diff[b]++;
            diff[e]--;
        }
    }
    int64_t run = 0;
    for (uint32_t t = 0; t < ngens; t++) {
        run += diff[t];
        ltt[t] = (uint32_t)run;
    }
    free(end);
    free(in);
    free(diff);
}

/* ---- a run ----------------------------------------------------------------------------- */

void qs_phylo_run(qs_phylo_run_t *r, const qs_history_t *h)
{
    memset(r, 0, sizeof *r);
    uint32_t *parent;
    double *time;
    qs_export_tree_arrays(h, &parent, NULL, &time);
    uint8_t *surv = qs_export_survivors(h, NULL);
    uint8_t *all = xmalloc(h->norgs ? h->norgs : 1);
    memset(all, 1, h->norgs);
    qs_phylo_measure(&r->survivors, h->norgs, parent, time, surv);
    qs_phylo_measure(&r->whole, h->norgs, parent, time, all);
    uint32_t last = qs_history_last_generation(h);
    r->last_generation = last;
    r->ngens = last == QS_NONE ? 0 : last + 1;
    r->ltt = xmalloc((r->ngens ? r->ngens : 1) * sizeof *r->ltt);
    uint32_t *born = xmalloc((h->norgs ? h->norgs : 1) * sizeof *born);
    for (uint32_t i = 0; i < h->norgs; i++)
        born[i] = h->orgs[i].born;
    qs_phylo_ltt(h->norgs, parent, born, surv, r->ngens, r->ltt);
    free(born);
    free(parent);
    free(time);
    free(surv);
    free(all);
}

void qs_phylo_run_destroy(qs_phylo_run_t *r)
{
    free(r->ltt);
    r->ltt = NULL;
}

/* Generations from the MRCA's birth to generation `at`, NaN when there is no MRCA. */
static double mrca_depth(const qs_phylo_t *m, uint32_t at)
{
    return m->mrca == QS_NONE || at == QS_NONE ? NAN : (double)at - m->mrca_time;
}

static void print_one(const char *name, const qs_phylo_t *m, const qs_history_t *h, uint32_t at,
                      FILE *out)
{
    if (m->taxa == 0) {
        fprintf(out, "  %-10s no organisms\n", name);
        return;
    }
    fprintf(out,
            "  %-10s %u taxa, %u organisms, %u root%s: PD %.6g, mean pairwise distance %.6g,\n"
            "  %-10s Sackin %llu, Colless %llu (%u polytom%s), ",
            name, m->taxa, m->nodes, m->roots, m->roots == 1 ? "" : "s", m->pd, m->mpd, "",
            (unsigned long long)m->sackin, (unsigned long long)m->colless, m->polytomies,
            m->polytomies == 1 ? "y" : "ies");
    if (m->mrca != QS_NONE)
        fprintf(out, "MRCA %llu, depth %.6g\n", (unsigned long long)h->orgs[m->mrca].id,
                mrca_depth(m, at));
    else
        fputs("no MRCA (several roots)\n", out);
}

void qs_phylo_run_print(const qs_phylo_run_t *r, const qs_history_t *h, FILE *out)
{
    fputs("phylogeny (branch lengths in generations; analysis/README.md):\n", out);
    print_one("survivors", &r->survivors, h, r->last_generation, out);
    print_one("whole", &r->whole, h, r->last_generation, out);
    if (r->ngens > 0 && r->survivors.taxa > 0) {
        fputs("  lineages through time (survivors):", out);
        uint32_t step = r->ngens <= 10 ? 1 : (r->ngens + 9) / 10;
        for (uint32_t t = 0; t < r->ngens; t += step)
            fprintf(out, " g%u:%u", t, r->ltt[t]);
        if ((r->ngens - 1) % step)
            fprintf(out, " g%u:%u", r->ngens - 1, r->ltt[r->ngens - 1]);
        fputc('\n', out);
    }
}

static void json_one(qs_jw_t *w, const char *key, const qs_phylo_t *m, const qs_history_t *h,
                     uint32_t at)
{
    qs_jw_key(w, key);
    qs_jw_begin_object(w);
    qs_jw_kv_u64(w, "taxa", m->taxa);
    qs_jw_kv_u64(w, "nodes", m->nodes);
    qs_jw_kv_u64(w, "roots", m->roots);
    qs_jw_kv_f64(w, "phylogenetic_diversity", m->pd);
    qs_jw_kv_f64(w, "mean_pairwise_distance", m->mpd);
    qs_jw_kv_u64(w, "sackin", m->sackin);
    qs_jw_kv_u64(w, "colless", m->colless);
    qs_jw_kv_u64(w, "polytomies", m->polytomies);
    if (m->mrca != QS_NONE) {
        qs_jw_kv_u64(w, "mrca", h->orgs[m->mrca].id);
        qs_jw_kv_f64(w, "mrca_generation", m->mrca_time);
        qs_jw_kv_f64(w, "mrca_depth", mrca_depth(m, at));
    } else {
        qs_jw_kv_null(w, "mrca");
        qs_jw_kv_null(w, "mrca_generation");
        qs_jw_kv_null(w, "mrca_depth");
    }
}

void qs_phylo_run_json(const qs_phylo_run_t *r, const qs_history_t *h, qs_jw_t *w)
{
    qs_jw_key(w, "phylogeny");
    qs_jw_begin_object(w);
    json_one(w, "survivors", &r->survivors, h, r->last_generation);
    qs_jw_key(w, "ltt");
    qs_jw_begin_array(w);
    for (uint32_t t = 0; t < r->ngens; t++)
        qs_jw_u64(w, r->ltt[t]);
    qs_jw_end(w);
    qs_jw_end(w);
    json_one(w, "whole", &r->whole, h, r->last_generation);
    qs_jw_end(w);
    qs_jw_end(w);
}

/* ---- per generation ------------------------------------------------------------------ */

/* Alive in generation t: born by t, and not dead before t (a death record's generation is
 * the last one lived; no death record: alive to the end of the log). */
static int alive_in(const qs_horg_t *o, uint32_t t)
{
    return o->born <= t && (o->died == QS_NONE || o->died >= t);
}

static int cmp_index(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

qs_phylo_gen_t *qs_phylo_generations(const qs_history_t *h, const qs_phylo_run_t *r,
                                     uint32_t *ngens)
{
    uint32_t n = h->norgs, G = r->ngens;
    *ngens = G;
    qs_phylo_gen_t *g = xcalloc(G ? G : 1, sizeof *g);
    if (G == 0 || n == 0)
        return g;
    uint32_t *parent;
    double *time;
    qs_export_tree_arrays(h, &parent, NULL, &time);
    /* The living of each generation as lists (CSR): organism i lives over
     * [born, died or the last generation]. */
    size_t *first = xcalloc((size_t)G + 1, sizeof *first);
    for (uint32_t i = 0; i < n; i++)
        for (uint32_t t = h->orgs[i].born; t < G && alive_in(&h->orgs[i], t); t++)
            first[t + 1]++;
    for (uint32_t t = 0; t < G; t++)
        first[t + 1] += first[t];
    uint32_t *living = xmalloc((first[G] ? first[G] : 1) * sizeof *living);
    size_t *fill = xmalloc(((size_t)G + 1) * sizeof *fill);
    memcpy(fill, first, ((size_t)G + 1) * sizeof *fill);
    for (uint32_t i = 0; i < n; i++)
        for (uint32_t t = h->orgs[i].born; t < G && alive_in(&h->orgs[i], t); t++)
            living[fill[t]++] = i;
    /* The whole tree of everything born by t: its size and PD, by birth generation. */
    double *edges = xcalloc(G, sizeof *edges), *root_time = xcalloc(G, sizeof *root_time);
    uint32_t *born = xcalloc(G, sizeof *born), *roots = xcalloc(G, sizeof *roots);
    for (uint32_t i = 0; i < n; i++) {
        uint32_t b = h->orgs[i].born;
        if (b >= G)
            continue;
        born[b]++;
        if (parent[i] != QS_TREE_NONE) {
            edges[b] += time[i] - time[parent[i]];
        } else {
            roots[b]++;
            root_time[b] += time[i];
        }
    }
    /* Each generation's living tree is measured on a compact copy of the living's
     * ancestry (walked up from each living organism; sorted, so parents still come
     * first): its cost is the size of that ancestry, not of the run. */
    uint32_t *stamp = xcalloc(n, sizeof *stamp), *pos = xmalloc(n * sizeof *pos);
    uint32_t *list = xmalloc(n * sizeof *list), *cparent = xmalloc(n * sizeof *cparent);
    double *ctime = xmalloc(n * sizeof *ctime);
    uint8_t *ctaxon = xmalloc(n);
    double cum_edges = 0, cum_root_time = 0;
    uint32_t cum_born = 0, cum_roots = 0;
    for (uint32_t t = 0; t < G; t++) {
        uint32_t a = 0;
        for (size_t k = first[t]; k < first[t + 1]; k++)
            for (uint32_t v = living[k]; v != QS_TREE_NONE && stamp[v] != t + 1; v = parent[v]) {
                stamp[v] = t + 1;
                list[a++] = v;
            }
        qsort(list, a, sizeof *list, cmp_index);
        for (uint32_t k = 0; k < a; k++) {
            uint32_t v = list[k];
            pos[v] = k;
            cparent[k] = parent[v] == QS_TREE_NONE ? QS_TREE_NONE : pos[parent[v]];
            ctime[k] = time[v];
            ctaxon[k] = 0;
        }
        for (size_t k = first[t]; k < first[t + 1]; k++)
            ctaxon[pos[living[k]]] = 1;
        g[t].generation = t;
        qs_phylo_measure(&g[t].living, a, cparent, ctime, ctaxon);
        if (g[t].living.mrca != QS_NONE)
            g[t].living.mrca = list[g[t].living.mrca];
        cum_edges += edges[t];
        cum_root_time += root_time[t];
        cum_born += born[t];
        cum_roots += roots[t];
        qs_phylo_t *w = &g[t].whole;
        memset(w, 0, sizeof *w);
        w->taxa = w->nodes = cum_born;
        w->roots = cum_roots;
        w->pd = cum_edges + (cum_roots > 1 ? cum_root_time : 0);
        w->mpd = w->mrca_time = NAN;
        w->mrca = QS_NONE;
        g[t].ltt = r->ltt[t];
    }
    free(first);
    free(living);
    free(fill);
    free(edges);
    free(root_time);
    free(born);
    free(roots);
    free(stamp);
    free(pos);
    free(list);
    free(cparent);
    free(ctime);
    free(ctaxon);
    free(parent);
    free(time);
    return g;
}

static void csv_num(FILE *f, double v)
{
    if (isfinite(v))
        fprintf(f, ",%.9g", v);
    else
        fputc(',', f);
}

int qs_phylo_write_csv(const qs_history_t *h, const qs_phylo_run_t *r, const char *path,
                       qs_error_t *err)
{
    FILE *f = strcmp(path, "-") ? fopen(path, "w") : stdout;
    if (!f)
        return qs_error_set(err, QS_ERR(IO), "%s: cannot create: %s", path, strerror(errno));
    uint32_t n;
    qs_phylo_gen_t *g = qs_phylo_generations(h, r, &n);
    fputs("generation,living,phylogenetic_diversity,mean_pairwise_distance,sackin,colless,"
          "mrca,mrca_depth,whole_organisms,whole_phylogenetic_diversity,ltt\n",
          f);
    for (uint32_t t = 0; t < n; t++) {
        const qs_phylo_t *l = &g[t].living, *w = &g[t].whole;
        fprintf(f, "%u,%u", t, l->taxa);
        csv_num(f, l->pd);
        csv_num(f, l->mpd);
        fprintf(f, ",%llu,%llu,", (unsigned long long)l->sackin, (unsigned long long)l->colless);
        if (l->mrca != QS_NONE)
            fprintf(f, "%llu", (unsigned long long)h->orgs[l->mrca].id);
        csv_num(f, mrca_depth(l, t));
        fprintf(f, ",%u", w->taxa);
        csv_num(f, w->pd);
        fprintf(f, ",%u\n", g[t].ltt);
    }
    free(g);
    int bad = ferror(f);
    bad |= f == stdout ? fflush(f) != 0 : fclose(f) != 0;
    if (bad)
        return qs_error_set(err, QS_ERR(IO), "%s: write error: %s", path, strerror(errno));
    return 0;
}

/* ---- the charts ------------------------------------------------------------------------ */

static void dat_num(FILE *f, double v)
{
    if (isfinite(v))
        fprintf(f, " %.9g", v);
    else
        fputs(" ?", f);
}

int qs_phylo_plot(const qs_history_t *h, const qs_phylo_run_t *r, const char *label,
                  const char *dir, FILE *info, qs_error_t *err)
{
    if (r->ngens == 0)
        return qs_error_set(err, QS_ERR(INVAL), "%s: no generation to plot", dir);
    char path[QS_PATH_MAX + 32];
    snprintf(path, sizeof path, "%s/phylo.dat", dir);
    FILE *f = fopen(path, "w");
    if (!f)
        return qs_error_set(err, QS_ERR(IO), "%s: cannot create: %s", path, strerror(errno));
    uint32_t n;
    qs_phylo_gen_t *g = qs_phylo_generations(h, r, &n);
    fputs("# generation living pd mpd sackin colless mrca_depth whole_pd ltt "
          "(quinesim analyze; ? = none)\n",
          f);
    int has_mrca = 0; /* gnuplot refuses a curve without a point */
    for (uint32_t t = 0; t < n; t++) {
        const qs_phylo_t *l = &g[t].living;
        has_mrca |= l->mrca != QS_NONE;
        fprintf(f, "%u %u", t, l->taxa);
        dat_num(f, l->pd);
        dat_num(f, l->mpd);
        fprintf(f, " %llu %llu", (unsigned long long)l->sackin, (unsigned long long)l->colless);
        dat_num(f, mrca_depth(l, t));
        dat_num(f, g[t].whole.pd);
        fprintf(f, " %u\n", g[t].ltt);
    }
    free(g);
    int bad = ferror(f) != 0;
    bad |= fclose(f) != 0;
    if (bad)
        return qs_error_set(err, QS_ERR(IO), "%s: write error", path);
    snprintf(path, sizeof path, "%s/phylo.gp", dir);
    if (!(f = fopen(path, "w")))
        return qs_error_set(err, QS_ERR(IO), "%s: cannot create: %s", path, strerror(errno));
    char safe[QS_NAME_MAX];
    size_t k = 0;
    for (const char *p = label; *p && k + 1 < sizeof safe; p++)
        safe[k++] = *p == '"' || *p == '\\' ? '_' : *p;
    safe[k] = '\0';
    fprintf(
        f,
        "# quinesim analyze: the phylogenetic metrics of run %s. Redraw: gnuplot phylo.gp\n"
        "set datafile missing \"?\"\n"
        "set key top left\nset grid\nset xlabel \"generation\"\n"
        "do for [fmt in \"png svg\"] {\n"
        "if (fmt eq \"png\") {\n"
        "    set terminal pngcairo size 960,600 noenhanced font \"DejaVu Sans,11\"\n"
        "} else {\n"
        "    set terminal svg size 960,600 noenhanced font \"DejaVu Sans,11\" background "
        "\"white\"\n"
        "}\n"
        "set output \"phylo_diversity.\".fmt\n"
        "set title \"%s: phylogenetic diversity and mean pairwise distance of the living\"\n"
        "set ylabel \"PD (generations)\"\nset y2label \"MPD (generations)\"\n"
        "set ytics nomirror\nset y2tics\n"
        "plot \"phylo.dat\" using 1:3 with lines lw 2 lc rgb \"#0072B2\" title \"PD of the "
        "living\", \\\n"
        "     \"\" using 1:8 with lines lw 2 dt 2 lc rgb \"#56B4E9\" title \"PD of the whole "
        "tree so far\", \\\n"
        "     \"\" using 1:4 axes x1y2 with lines lw 2 lc rgb \"#E69F00\" title \"mean "
        "pairwise distance (right)\"\n"
        "set output \"phylo_lineages.\".fmt\n"
        "set title \"%s: lineages through time (survivors' tree)%s\"\n"
        "set ylabel \"lineages\"\n%s"
        "plot \"phylo.dat\" using 1:9 with steps lw 2 lc rgb \"#009E73\" title \"lineages "
        "of the survivors' tree\"%s\n"
        "unset y2tics\nunset y2label\nset ytics mirror\n"
        "}\n",
        safe, safe, safe,
        has_mrca ? " and MRCA depth of the living" : "; the living have no MRCA (several roots)",
        has_mrca ? "set y2label \"MRCA depth (generations)\"\n" : "unset y2tics\nunset y2label\n",
        has_mrca ? ", \\\n     \"\" using 1:7 axes x1y2 with lines lw 2 lc rgb \"#D55E00\" "
                   "title \"MRCA depth of the living (right)\""
                 : "");
    bad = ferror(f) != 0;
    bad |= fclose(f) != 0;
    if (bad)
        return qs_error_set(err, QS_ERR(IO), "%s: write error", path);
    int rc = qs_plot_gnuplot(dir, "phylo.gp", err);
    if (rc < 0)
        return rc;
    fprintf(info, "plot: %s/phylo_diversity.png and .svg, phylo_lineages.png and .svg\n", dir);
    return 0;
}
