/* runcsv: phylogeny.csv and generations.csv rows (see runcsv.h). A row is built in a
 * buffer and written at once (analyze writes millions of them). */
#include "proto/runcsv.h"

#include <math.h>
#include <string.h>

#include "core/util.h"
#include "proto/lineage.h"

/* A row under construction: any row fits (species names are at most QS_NAME_MAX). */
typedef struct {
    char b[4096];
    size_t n;
} row_t;

static void put(row_t *r, const char *s)
{
    size_t k = strnlen(s, sizeof r->b - 1 - r->n);
    memcpy(r->b + r->n, s, k);
    r->n += k;
}

static void put_u64(row_t *r, uint64_t v)
{
    if (sizeof r->b - r->n > 24)
        r->n += qs_fmt_u64(r->b + r->n, v);
}

/* As qs_csv_num: %.9g, NaN an empty field. */
static void put_num(row_t *r, double v)
{
    char buf[32];
    if (!isnan(v))
        put(r, qs_fmt_num(buf, sizeof buf, v, 9));
}

/* s as a CSV field: quoted, its quotes doubled, when it holds a comma, quote or line
 * break. */
static void put_field(row_t *r, const char *s)
{
    int quote = strpbrk(s, ",\"\r\n") != NULL;
    if (quote)
        put(r, "\"");
    for (; *s && r->n + 3 < sizeof r->b; s++) {
        if (*s == '"')
            r->b[r->n++] = '"';
        r->b[r->n++] = *s;
    }
    if (quote)
        put(r, "\"");
}

static void flush_row(row_t *r, FILE *f)
{
    put(r, "\n");
    fwrite(r->b, 1, r->n, f);
}

void qs_runcsv_phylogeny_header(FILE *f, int islands, int extended)
{
    fputs("id,ancestor_list,origin_time,destruction_time,species,accuracy,rel_err,r2,flops", f);
    if (islands)
        fputs(",island,origin_island", f);
    fputs(extended ? ",link_r2,link_rel_err,death_cause\n" : "\n", f);
}

void qs_runcsv_phylogeny_row(FILE *f, const qs_runcsv_org_t *o, int extended)
{
    row_t r = {.n = 0};
    put_u64(&r, o->id);
    if (o->parent_id) {
        put(&r, ",[");
        put_u64(&r, o->parent_id);
        put(&r, "],");
    } else {
        put(&r, "," QS_ALIFE_ROOT ",");
    }
    put_u64(&r, o->origin_time);
    put(&r, ",");
    if (o->alive)
        put(&r, QS_ALIFE_ALIVE);
    else
        put_u64(&r, o->destruction_time);
    put(&r, ",");
    put_field(&r, o->species);
    put(&r, ",");
    put_num(&r, o->accuracy);
    put(&r, ",");
    put_num(&r, o->rel_err);
    put(&r, ",");
    put_num(&r, o->r2);
    put(&r, ",");
    put_u64(&r, o->flops);
    if (o->islands) {
        put(&r, ",");
        put_u64(&r, o->island);
        put(&r, ",");
        if (o->migrant)
            put_u64(&r, o->origin_island);
    }
    if (extended) {
        put(&r, ",");
        put_num(&r, o->link_r2);
        put(&r, ",");
        put_num(&r, o->link_rel_err);
        put(&r, ",");
        put(&r, o->death_cause);
    }
    flush_row(&r, f);
}

void qs_runcsv_generations_header(FILE *f, const char *const *species, uint32_t nspecies,
                                  int islands, int extended)
{
    row_t r = {.n = 0};
    put(&r, islands ? "generation,island," : "generation,");
    put(&r, "population,births,deaths,best_accuracy,mean_accuracy,mean_rel_err,"
            "mean_r2,mean_link_r2,best_id,flops,params_alive");
    char col[QS_NAME_MAX + 8];
    for (uint32_t s = 0; s < nspecies; s++) {
        snprintf(col, sizeof col, "n_%s", species[s]);
        put(&r, ",");
        put_field(&r, col);
    }
    put(&r, ",wall_seconds,workers");
    if (extended)
        put(&r, ",deaths_selection,deaths_capacity,deaths_budget,mean_link_rel_err,"
                "cumulative_flops,nonfinite_rel_err,nonfinite_r2");
    flush_row(&r, f);
}

void qs_runcsv_generations_row(FILE *f, const qs_runcsv_gen_t *g, uint32_t nspecies, int extended)
{
    row_t r = {.n = 0};
    const uint64_t ints[] = {g->generation, g->population, g->births, g->deaths};
    for (size_t k = 0; k < QS_ARRAY_LEN(ints); k++) {
        put_u64(&r, ints[k]);
        put(&r, ",");
        if (k == 0 && g->islands) {
            if (g->island < 0)
                put(&r, QS_RUNCSV_ALL_ISLANDS);
            else
                put_u64(&r, (uint64_t)g->island);
            put(&r, ",");
        }
    }
    const double means[] = {g->best_accuracy, g->mean_accuracy, g->mean_rel_err, g->mean_r2,
                            g->mean_link_r2};
    for (size_t k = 0; k < QS_ARRAY_LEN(means); k++) {
        put_num(&r, means[k]);
        put(&r, ",");
    }
    put_u64(&r, g->best_id);
    put(&r, ",");
    put_u64(&r, g->flops);
    put(&r, ",");
    if (g->has_summary)
        put_u64(&r, g->params_alive);
    for (uint32_t s = 0; s < nspecies; s++) {
        put(&r, ",");
        put_u64(&r, g->species_count[s]);
    }
    put(&r, ",");
    if (g->has_summary && !(g->islands && g->island >= 0)) {
        char buf[48];
        snprintf(buf, sizeof buf, "%.3f,%u", g->wall_seconds, g->workers);
        put(&r, buf);
    } else {
        put(&r, ",");
    }
    if (extended) {
        const uint64_t deaths[] = {g->deaths_selection, g->deaths_capacity, g->deaths_budget};
        for (size_t k = 0; k < QS_ARRAY_LEN(deaths); k++) {
            put(&r, ",");
            put_u64(&r, deaths[k]);
        }
        put(&r, ",");
        put_num(&r, g->mean_link_rel_err);
        put(&r, ",");
        put_u64(&r, g->cumulative_flops);
        put(&r, ",");
        put_u64(&r, g->nonfinite_rel_err);
        put(&r, ",");
        put_u64(&r, g->nonfinite_r2);
    }
    flush_row(&r, f);
}
