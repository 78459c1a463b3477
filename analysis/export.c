/* export: phylogeny CSV, generations CSV, Newick and ancestry lines from a history. */
#include "analysis/export.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "analysis/newick.h"
#include "analysis/tree.h"
#include "proto/runcsv.h"

const char *qs_export_cause_name(uint8_t cause)
{
    if (!cause)
        return "";
    const char *n = qs_death_cause_name((qs_death_cause_t)cause);
    return n ? n : "?";
}

static int open_out(const char *path, FILE **f, qs_error_t *err)
{
    if (!strcmp(path, "-")) {
        *f = stdout;
        return 0;
    }
    *f = fopen(path, "w");
    if (!*f)
        return qs_error_set(err, QS_ERR(IO), "%s: cannot create: %s", path, strerror(errno));
    return 0;
}

static int close_out(FILE *f, const char *path, qs_error_t *err)
{
    int bad = ferror(f);
    if (f == stdout)
        bad |= fflush(f) != 0;
    else
        bad |= fclose(f) != 0;
    if (bad)
        return qs_error_set(err, QS_ERR(IO), "%s: write error: %s", path, strerror(errno));
    return 0;
}

/* ---- phylogeny and generations: proto/runcsv.h's rows, extended ------------------------- */

int qs_export_phylogeny(const qs_history_t *h, const char *path, qs_error_t *err)
{
    FILE *f;
    int rc = open_out(path, &f, err);
    if (rc < 0)
        return rc;
    int islands = h->nislands > 1;
    qs_runcsv_phylogeny_header(f, islands, 1);
    char names[QS_MAX_SPECIES][32];
    const char *species[QS_MAX_SPECIES];
    for (uint32_t s = 0; s < QS_MAX_SPECIES; s++)
        species[s] = qs_history_species(h, s, names[s], sizeof names[s]);
    for (uint32_t i = 0; i < h->norgs; i++) {
        const qs_horg_t *o = &h->orgs[i];
        qs_runcsv_org_t row = {.id = o->id,
                               .parent_id = o->parent != QS_NONE ? h->orgs[o->parent].id : 0,
                               .origin_time = o->born,
                               .alive = !o->cause || o->cause == QS_DEATH_END,
                               .destruction_time = o->died + 1,
                               .species = species[o->species],
                               .accuracy = o->accuracy,
                               .rel_err = o->rel_err,
                               .r2 = o->r2,
                               .flops = o->flops,
                               .islands = islands,
                               .island = o->island,
                               .migrant = o->migrant,
                               .origin_island = o->origin_island,
                               .link_r2 = o->link_r2,
                               .link_rel_err = o->link_rel_err,
                               .death_cause = qs_export_cause_name(o->cause)};
        qs_runcsv_phylogeny_row(f, &row, 1);
    }
    return close_out(f, path, err);
}

/* A generations row from what a generation (or an island in it) recomputed. */
static qs_runcsv_gen_t gen_row(uint32_t generation, uint32_t population, uint32_t births,
                               uint32_t deaths, const qs_genstats_t *st, uint64_t best_fit_id,
                               uint64_t flops, const uint32_t *species_count,
                               const uint32_t *deaths_by_cause, uint64_t cumulative_flops)
{
    return (qs_runcsv_gen_t){.generation = generation,
                             .population = population,
                             .births = births,
                             .deaths = deaths,
                             .best_accuracy = st->best_accuracy,
                             .mean_accuracy = qs_genstats_mean(&st->accuracy),
                             .mean_rel_err = qs_genstats_mean(&st->rel_err),
                             .mean_r2 = qs_genstats_mean(&st->r2),
                             .mean_link_r2 = qs_genstats_mean(&st->link_r2),
                             .best_id = st->accuracy.n ? st->best_id
                                        : population   ? best_fit_id
                                                       : 0,
                             .flops = flops,
                             .species_count = species_count,
                             .deaths_selection = deaths_by_cause[QS_DEATH_SELECTION],
                             .deaths_capacity = deaths_by_cause[QS_DEATH_CAPACITY],
                             .deaths_budget = deaths_by_cause[QS_DEATH_BUDGET],
                             .mean_link_rel_err = qs_genstats_mean(&st->link_rel_err),
                             .cumulative_flops = cumulative_flops,
                             .nonfinite_rel_err = st->rel_err.nonfinite,
                             .nonfinite_r2 = st->r2.nonfinite};
}

int qs_export_generations(const qs_history_t *h, const char *path, qs_error_t *err)
{
    FILE *f;
    int rc = open_out(path, &f, err);
    if (rc < 0)
        return rc;
    uint32_t nsp = h->nspecies;
    for (uint32_t g = 0; g < h->ngens; g++) /* species seen without a header */
        for (uint32_t s = nsp; s < QS_MAX_SPECIES; s++)
            if (h->gens[g].species_count[s])
                nsp = s + 1;
    char names[QS_MAX_SPECIES][32];
    const char *species[QS_MAX_SPECIES];
    for (uint32_t s = 0; s < nsp; s++)
        species[s] = qs_history_species(h, s, names[s], sizeof names[s]);
    uint32_t ni = h->nislands > 1 ? h->nislands : 0;
    qs_runcsv_generations_header(f, species, nsp, ni > 0, 1);
    uint64_t cum = 0, *icum = xcalloc(ni ? ni : 1, sizeof *icum);
    for (uint32_t gi = 0; gi < h->ngens; gi++) {
        /* with islands: each island's row, then the whole's */
        for (uint32_t k = 0; k < ni; k++) {
            const qs_higen_t *g = qs_history_island_gen(h, gi, k);
            icum[k] += g->flops;
            uint64_t params = 0;
            for (uint32_t s = 0; s < nsp; s++)
                params += (uint64_t)g->species_count[s] * h->species_params[s];
            qs_runcsv_gen_t row =
                gen_row(gi, g->population, g->births, g->deaths, &g->st, g->best_fit_id, g->flops,
                        g->species_count, g->deaths_by_cause, icum[k]);
            row.islands = 1;
            row.island = (int)k;
            row.has_summary = h->has_header; /* params_alive from the species' sizes */
            row.params_alive = params;
            qs_runcsv_generations_row(f, &row, nsp, 1);
        }
        const qs_hgen_t *g = &h->gens[gi];
        cum += g->flops;
        qs_runcsv_gen_t row =
            gen_row(gi, g->population, g->births, g->deaths, &g->st, g->best_fit_id, g->flops,
                    g->species_count, g->deaths_by_cause, cum);
        row.islands = ni > 0;
        row.island = -1;
        row.has_summary = g->has_summary;
        row.params_alive = g->params_alive;
        row.wall_seconds = g->wall_seconds;
        row.workers = g->workers;
        qs_runcsv_generations_row(f, &row, nsp, 1);
    }
    free(icum);
    return close_out(f, path, err);
}

/* ---- trees --------------------------------------------------------------------------------- */

void qs_export_tree_arrays(const qs_history_t *h, uint32_t **parent, uint64_t **id, double **time)
{
    size_t n = h->norgs ? h->norgs : 1;
    uint32_t *p = parent ? xmalloc(n * sizeof *p) : NULL;
    uint64_t *d = id ? xmalloc(n * sizeof *d) : NULL;
    double *t = time ? xmalloc(n * sizeof *t) : NULL;
    for (uint32_t i = 0; i < h->norgs; i++) {
        if (p)
            p[i] = h->orgs[i].parent;
        if (d)
            d[i] = h->orgs[i].id;
        if (t)
            t[i] = h->orgs[i].born;
    }
    if (parent)
        *parent = p;
    if (id)
        *id = d;
    if (time)
        *time = t;
}

uint8_t *qs_export_survivors(const qs_history_t *h, uint32_t *count)
{
    uint8_t *m = xmalloc(h->norgs ? h->norgs : 1);
    uint32_t k = 0;
    for (uint32_t i = 0; i < h->norgs; i++) {
        m[i] = (uint8_t)qs_history_survivor(h, i);
        k += m[i];
    }
    if (count)
        *count = k;
    return m;
}

int qs_export_newick(const qs_history_t *h, const char *path, int all, uint32_t *nodes,
                     qs_error_t *err)
{
    uint32_t *parent;
    uint64_t *id;
    double *time;
    uint8_t *keep = NULL, *surv = NULL;
    FILE *f = NULL;
    int rc = 0;
    uint32_t n = h->norgs;
    if (n == 0)
        return qs_error_set(err, QS_ERR(INVAL), "the log holds no organism");
    qs_export_tree_arrays(h, &parent, &id, &time);
    if (!all) {
        uint32_t nsurv;
        surv = qs_export_survivors(h, &nsurv);
        if (nsurv == 0) {
            rc = qs_error_set(err, QS_ERR(INVAL),
                              "no organism is alive at the end of the log (the "
                              "population went extinct): there is no survivors' tree; use --all");
            goto out;
        }
        keep = xmalloc(n);
        n = h->norgs;
        uint32_t k = qs_tree_ancestry(n, parent, surv, keep);
        if (nodes)
            *nodes = k;
    } else if (nodes) {
        *nodes = n;
    }
    if ((rc = open_out(path, &f, err)) < 0)
        goto out;
    rc = qs_newick_write(f, n, parent, id, time, keep, err);
    int rc2 = close_out(f, path, err);
    if (rc == 0)
        rc = rc2;
out:
    free(parent);
    free(id);
    free(time);
    free(keep);
    free(surv);
    return rc;
}

/* ---- ancestry lines ------------------------------------------------------------------------ */

uint32_t qs_export_line(const qs_history_t *h, uint32_t i, uint32_t **line)
{
    uint32_t n = 0, cap = 64;
    uint32_t *l = xmalloc(cap * sizeof *l);
    for (uint32_t v = i; v != QS_NONE; v = h->orgs[v].parent) {
        if (n == cap)
            l = xrealloc(l, (cap *= 2) * sizeof *l);
        l[n++] = v;
    }
    *line = l;
    return n;
}

static void table_num(FILE *out, double v, int width)
{
    if (isnan(v))
        fprintf(out, " %*s", width, "-");
    else
        fprintf(out, " %*.4f", width, v);
}

void qs_export_line_table(const qs_history_t *h, uint32_t i, FILE *out)
{
    uint32_t *line;
    uint32_t n = qs_export_line(h, i, &line);
    char sbuf[32];
    const qs_horg_t *root = &h->orgs[line[n - 1]];
    fprintf(out, "ancestry of organism %llu: %u link%s back to %s %llu\n",
            (unsigned long long)h->orgs[i].id, n - 1, n - 1 == 1 ? "" : "s",
            root->parent_id ? "organism" : "founder", (unsigned long long)root->id);
    if (root->parent_id)
        fprintf(out, "  (its parent %llu was not in the log that was read)\n",
                (unsigned long long)root->parent_id);
    fprintf(out, "  %4s %10s %10s %5s %-12s %8s %10s %11s %10s %12s %5s %s\n", "step", "id",
            "parent", "born", "species", "accuracy", "self_r2", "self_relerr", "link_r2",
            "link_relerr", "lives", "death");
    for (uint32_t k = 0; k < n; k++) {
        const qs_horg_t *o = &h->orgs[line[k]];
        fprintf(out, "  %4u %10llu ", k, (unsigned long long)o->id);
        if (o->parent_id)
            fprintf(out, "%10llu", (unsigned long long)o->parent_id);
        else
            fprintf(out, "%10s", "-");
        fprintf(out, " %5u %-12s", o->born, qs_history_species(h, o->species, sbuf, sizeof sbuf));
        table_num(out, o->accuracy, 8);
        table_num(out, o->r2, 10);
        table_num(out, o->rel_err, 11);
        table_num(out, o->link_r2, 10);
        table_num(out, o->link_rel_err, 12);
        fprintf(out, " %5u ", o->lives);
        if (o->cause && o->cause != QS_DEATH_END)
            fprintf(out, "%s in %u\n", qs_export_cause_name(o->cause), o->died);
        else
            fprintf(out, "alive at the end\n");
    }
    free(line);
}

void qs_export_line_json(const qs_history_t *h, uint32_t i, qs_jw_t *w, const char *key)
{
    uint32_t *line;
    uint32_t n = qs_export_line(h, i, &line);
    char sbuf[32];
    qs_jw_key(w, key);
    qs_jw_begin_array(w);
    for (uint32_t k = 0; k < n; k++) {
        const qs_horg_t *o = &h->orgs[line[k]];
        qs_jw_begin_object(w);
        qs_jw_kv_u64(w, "step", k);
        qs_jw_kv_u64(w, "id", o->id);
        if (o->parent_id)
            qs_jw_kv_u64(w, "parent", o->parent_id);
        else
            qs_jw_kv_null(w, "parent");
        qs_jw_kv_u64(w, "born", o->born);
        qs_jw_kv_str(w, "species", qs_history_species(h, o->species, sbuf, sizeof sbuf));
        qs_jw_kv_f64(w, "accuracy", o->accuracy);
        qs_jw_kv_f64(w, "r2", o->r2);
        qs_jw_kv_f64(w, "rel_err", o->rel_err);
        qs_jw_kv_f64(w, "link_r2", o->link_r2);
        qs_jw_kv_f64(w, "link_rel_err", o->link_rel_err);
        qs_jw_kv_u64(w, "lives", o->lives);
        if (o->cause && o->cause != QS_DEATH_END) {
            qs_jw_kv_str(w, "death_cause", qs_export_cause_name(o->cause));
            qs_jw_kv_u64(w, "died", o->died);
        } else {
            qs_jw_kv_null(w, "death_cause");
            qs_jw_kv_null(w, "died");
        }
        qs_jw_end(w);
    }
    qs_jw_end(w);
    free(line);
}
