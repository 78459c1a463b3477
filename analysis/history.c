/* history: folding lineage records into per-organism and per-generation tables. */
#include "analysis/history.h"

#include "analysis/inikv.h"

#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

/* A generation number this far beyond the last one seen is not believed (it would make
 * the per-generation table allocate for nothing). */
#define GEN_JUMP_MAX 1000000u

void qs_history_init(qs_history_t *h)
{
    memset(h, 0, sizeof *h);
    h->fitness = QS_FIT_ACCURACY;
    h->nislands = 1;
    for (uint32_t s = 0; s < QS_MAX_SPECIES; s++)
        h->species_best_accuracy[s] = NAN;
}

void qs_history_destroy(qs_history_t *h)
{
    free(h->orgs);
    free(h->map_keys);
    free(h->map_vals);
    free(h->gens);
    free(h->igens);
    free(h->scenario);
    memset(h, 0, sizeof *h);
}

static void anomaly(qs_history_t *h, const char *fmt, ...) QS_PRINTF(2, 3);
static void anomaly(qs_history_t *h, const char *fmt, ...)
{
    if (h->anomalies++ == 0) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(h->first_anomaly, sizeof h->first_anomaly, fmt, ap);
        va_end(ap);
    }
}

/* ---- id -> index map (open addressing, linear probing) ------------------------------- */

static uint32_t slot_of(uint64_t id, uint32_t cap)
{
    return (uint32_t)((id * 0x9E3779B97F4A7C15ull) >> 32) & (cap - 1);
}

static void map_put(qs_history_t *h, uint64_t id, uint32_t idx)
{
    uint32_t s = slot_of(id, h->map_cap);
    while (h->map_keys[s] != 0)
        s = (s + 1) & (h->map_cap - 1);
    h->map_keys[s] = id;
    h->map_vals[s] = idx;
}

static void map_grow(qs_history_t *h)
{
    uint64_t *keys = h->map_keys;
    uint32_t *vals = h->map_vals, old = h->map_cap;
    h->map_cap = old ? old * 2 : 1024;
    h->map_keys = xcalloc(h->map_cap, sizeof *h->map_keys);
    h->map_vals = xmalloc(h->map_cap * sizeof *h->map_vals);
    for (uint32_t i = 0; i < old; i++)
        if (keys[i])
            map_put(h, keys[i], vals[i]);
    free(keys);
    free(vals);
}

uint32_t qs_history_find(const qs_history_t *h, uint64_t id)
{
    if (!h->sparse) {
        if (h->norgs == 0 || id < h->first_id || id - h->first_id >= h->norgs)
            return QS_NONE;
        return (uint32_t)(id - h->first_id);
    }
    if (!h->map_cap || id == 0)
        return QS_NONE;
    uint32_t s = slot_of(id, h->map_cap);
    while (h->map_keys[s] != 0) {
        if (h->map_keys[s] == id)
            return h->map_vals[s];
        s = (s + 1) & (h->map_cap - 1);
    }
    return QS_NONE;
}

/* ---- the scenario text: the two keys the analysis needs -------------------------------- */

static void scenario_key(const char *key, const char *val, void *ctx)
{
    qs_history_t *h = ctx;
    if (!strcmp(key, "selection.fitness")) {
        if (qs_fitness_parse(val, &h->fitness) < 0)
            h->fitness = QS_FIT_ACCURACY;
    } else if (!strcmp(key, "run.generations")) {
        h->planned_generations = (uint32_t)strtoul(val, NULL, 10);
    } else if (!strcmp(key, "islands.count")) {
        unsigned long count = strtoul(val, NULL, 10);
        h->nislands = count >= 1 && count <= QS_MAX_ISLANDS ? (uint32_t)count : 1;
    }
}

/* ---- records ---------------------------------------------------------------------------- */

static qs_hgen_t *gen_at(qs_history_t *h, uint32_t g, const char *what)
{
    if (g >= h->ngens) {
        if (g - h->ngens > GEN_JUMP_MAX) {
            anomaly(h, "%s record for generation %u, far beyond the last one seen (%u): ignored",
                    what, g, h->ngens ? h->ngens - 1 : 0);
            return NULL;
        }
        uint32_t ni = h->nislands > 1 ? h->nislands : 0;
        if (g >= h->gens_cap) {
            uint32_t cap = QS_MAX(g + 1, h->gens_cap * 2);
            h->gens = xrealloc(h->gens, (size_t)cap * sizeof *h->gens);
            if (ni)
                h->igens = xrealloc(h->igens, (size_t)cap * ni * sizeof *h->igens);
            h->gens_cap = cap;
        }
        for (uint32_t k = h->ngens; k <= g; k++) {
            memset(&h->gens[k], 0, sizeof h->gens[k]);
            qs_genstats_init(&h->gens[k].st);
            h->gens[k].best_fitness = -INFINITY;
            for (uint32_t i = 0; i < ni; i++) {
                qs_higen_t *ig = &h->igens[(size_t)k * ni + i];
                memset(ig, 0, sizeof *ig);
                qs_genstats_init(&ig->st);
                ig->best_fitness = -INFINITY;
            }
        }
        h->ngens = g + 1;
    }
    return &h->gens[g];
}

/* The island's share of generation g (gen_at(g) done), or NULL without islands. */
static qs_higen_t *island_gen(qs_history_t *h, uint32_t g, uint32_t island)
{
    if (h->nislands <= 1 || island >= h->nislands || g >= h->ngens)
        return NULL;
    return &h->igens[(size_t)g * h->nislands + island];
}

const qs_higen_t *qs_history_island_gen(const qs_history_t *h, uint32_t g, uint32_t k)
{
    return island_gen((qs_history_t *)h, g, k);
}

static void add_header(qs_history_t *h, const qs_rec_header_t *r)
{
    if (h->has_header) {
        anomaly(h, "a second header record (run %s): ignored", r->run_name);
        return;
    }
    h->has_header = 1;
    h->version = r->version;
    snprintf(h->run_name, sizeof h->run_name, "%s", r->run_name);
    h->seed = r->seed;
    h->created = r->created;
    h->nspecies = QS_MIN(r->nspecies, (uint32_t)QS_MAX_SPECIES);
    for (uint32_t s = 0; s < h->nspecies; s++) {
        snprintf(h->species[s], QS_NAME_MAX, "%s", r->species[s]);
        h->species_params[s] = r->species_params[s];
    }
    if (r->scenario) {
        h->scenario = xstrdup(r->scenario);
        qs_inikv_each(r->scenario, scenario_key, h);
    }
}

static void add_birth(qs_history_t *h, const qs_rec_birth_t *b)
{
    if (b->id == 0 || b->id == b->parent) {
        anomaly(h, "birth record with id %llu and parent %llu: ignored", (unsigned long long)b->id,
                (unsigned long long)b->parent);
        return;
    }
    if (b->species >= QS_MAX_SPECIES) {
        anomaly(h, "birth of organism %llu in species %u: ignored", (unsigned long long)b->id,
                b->species);
        return;
    }
    if (qs_history_find(h, b->id) != QS_NONE) {
        anomaly(h, "a second birth record for organism %llu: ignored", (unsigned long long)b->id);
        return;
    }
    qs_hgen_t *g = gen_at(h, b->generation, "birth");
    if (!g)
        return;
    if (h->norgs == UINT32_MAX - 1)
        qs_die("more than %u organisms: beyond what the analysis can index", UINT32_MAX - 1);
    if (h->norgs == h->cap) {
        h->cap = h->cap ? h->cap * 2 : 1024;
        h->orgs = xrealloc(h->orgs, (size_t)h->cap * sizeof *h->orgs);
    }
    if (h->norgs == 0) {
        h->first_id = b->id;
    } else if (!h->sparse && b->id != h->first_id + h->norgs) {
        h->sparse = 1; /* from now on, a map: put everyone born so far in it */
        while ((uint64_t)(h->norgs + 1) * 2 > h->map_cap)
            map_grow(h);
        for (uint32_t i = 0; i < h->norgs; i++)
            map_put(h, h->orgs[i].id, i);
    }
    if (h->sparse && (uint64_t)(h->norgs + 1) * 2 > h->map_cap)
        map_grow(h);
    uint32_t idx = h->norgs++;
    qs_horg_t *o = &h->orgs[idx];
    memset(o, 0, sizeof *o);
    o->id = b->id;
    o->parent_id = b->parent;
    o->parent = QS_NONE;
    o->born = b->generation;
    o->died = QS_NONE;
    o->last_eval = QS_NONE;
    o->species = (uint8_t)b->species;
    o->accuracy = o->rel_err = o->r2 = NAN;
    o->has_link = b->has_link != 0;
    o->link_r2 = b->has_link ? b->link_r2 : NAN;
    o->link_rel_err = b->has_link ? b->link_rel_err : NAN;
    o->island = b->island;
    o->migrant = b->migrant != 0;
    o->origin_island = b->migrant ? b->origin_island : b->island;
    if (h->sparse)
        map_put(h, b->id, idx);
    if (b->parent) {
        uint32_t p = qs_history_find(h, b->parent);
        if (p == QS_NONE) {
            h->lost_parents++;
        } else if (h->orgs[p].born > b->generation) {
            anomaly(h, "organism %llu (born in generation %u) has a parent born later (%u)",
                    (unsigned long long)b->id, b->generation, h->orgs[p].born);
        } else {
            o->parent = p;
        }
    } else {
        h->founders++;
    }
    g->births++;
    if (b->has_link)
        qs_genstats_link(&g->st, b->link_r2, b->link_rel_err);
    qs_higen_t *ig = island_gen(h, b->generation, o->island);
    if (ig) {
        ig->births++;
        ig->immigrants += o->migrant;
        if (b->has_link)
            qs_genstats_link(&ig->st, b->link_r2, b->link_rel_err);
    }
    if (b->has_link && isfinite(b->link_r2))
        qs_hstat_add(&g->sp_link_r2[o->species], b->link_r2);
}

void qs_hstat_add(qs_hstat_t *s, double v)
{
    if (!s->n || v < s->min)
        s->min = v;
    if (!s->n || v > s->max)
        s->max = v;
    s->n++;
    s->sum += v;
    s->sumsq += v * v;
}

double qs_hstat_mean(const qs_hstat_t *s)
{
    return s->n ? s->sum / s->n : NAN;
}

double qs_hstat_sd(const qs_hstat_t *s)
{
    if (!s->n)
        return NAN;
    double m = s->sum / s->n, var = s->sumsq / s->n - m * m;
    return var > 0 ? sqrt(var) : 0;
}

static void add_eval(qs_history_t *h, const qs_rec_eval_t *e)
{
    uint32_t i = qs_history_find(h, e->id);
    if (i == QS_NONE) {
        anomaly(h, "evaluation of organism %llu, which was never born in the log",
                (unsigned long long)e->id);
        return;
    }
    qs_horg_t *o = &h->orgs[i];
    if (o->cause) {
        anomaly(h, "evaluation of organism %llu after its death", (unsigned long long)e->id);
        return;
    }
    qs_hgen_t *g = gen_at(h, e->generation, "evaluation");
    if (!g)
        return;
    o->accuracy = e->accuracy;
    o->rel_err = e->rel_err;
    o->r2 = e->r2;
    o->zero_quine = e->zero_quine != 0;
    o->flops += e->flops;
    o->lives++;
    o->last_eval = e->generation;
    g->population++;
    g->species_count[o->species]++;
    g->flops += e->flops;
    h->flops += e->flops;
    qs_genstats_eval(&g->st, e->id, e->accuracy, e->rel_err, e->r2);
    if (isfinite(e->accuracy)) {
        qs_hstat_add(&g->sp_acc[o->species], e->accuracy);
        if (!(h->species_best_accuracy[o->species] >= e->accuracy))
            h->species_best_accuracy[o->species] = e->accuracy;
    }
    if (isfinite(e->r2))
        qs_hstat_add(&g->sp_r2[o->species], e->r2);
    double fit = qs_fitness(h->fitness, e->accuracy, e->r2);
    if (fit > g->best_fitness || (fit == g->best_fitness && e->id < g->best_fit_id)) {
        g->best_fitness = fit;
        g->best_fit_id = e->id;
    }
    qs_higen_t *ig = island_gen(h, e->generation, o->island);
    if (ig) {
        ig->population++;
        ig->species_count[o->species]++;
        ig->flops += e->flops;
        qs_genstats_eval(&ig->st, e->id, e->accuracy, e->rel_err, e->r2);
        if (fit > ig->best_fitness || (fit == ig->best_fitness && e->id < ig->best_fit_id)) {
            ig->best_fitness = fit;
            ig->best_fit_id = e->id;
        }
    }
    if (!h->has_best || fit > h->best_fitness || (fit == h->best_fitness && e->id < h->best_id)) {
        h->has_best = 1;
        h->best_id = e->id;
        h->best_fitness = fit;
        h->best_generation = e->generation;
        h->best_accuracy = e->accuracy;
        h->best_r2 = e->r2;
    }
}

static void add_death(qs_history_t *h, const qs_rec_death_t *d)
{
    uint32_t i = qs_history_find(h, d->id);
    if (i == QS_NONE) {
        anomaly(h, "death of organism %llu, which was never born in the log",
                (unsigned long long)d->id);
        return;
    }
    qs_horg_t *o = &h->orgs[i];
    if (o->cause) {
        anomaly(h, "a second death record for organism %llu", (unsigned long long)d->id);
        return;
    }
    if (d->cause < QS_DEATH_SELECTION || d->cause > QS_DEATH_END) {
        anomaly(h, "death of organism %llu with unknown cause %d", (unsigned long long)d->id,
                (int)d->cause);
        return;
    }
    qs_hgen_t *g = gen_at(h, d->generation, "death");
    if (!g)
        return;
    o->died = d->generation;
    o->cause = (uint8_t)d->cause;
    g->deaths++;
    g->deaths_by_cause[d->cause]++;
    qs_higen_t *ig = island_gen(h, d->generation, o->island);
    if (ig) {
        ig->deaths++;
        ig->deaths_by_cause[d->cause]++;
    }
}

static void add_generation(qs_history_t *h, const qs_rec_generation_t *s)
{
    qs_hgen_t *g = gen_at(h, s->generation, "generation");
    if (!g)
        return;
    if (g->has_summary) {
        anomaly(h, "a second summary record for generation %u", s->generation);
        return;
    }
    g->has_summary = 1;
    g->wall_seconds = s->wall_seconds;
    g->workers = s->workers;
    g->params_alive = s->params_alive;
    g->summary_best_id = s->best_id;
    if (isfinite(s->wall_seconds) && s->wall_seconds > 0)
        h->wall_seconds += s->wall_seconds;
    h->max_workers = QS_MAX(h->max_workers, s->workers);
    int same = s->population == g->population && s->births == g->births && s->deaths == g->deaths &&
               s->flops == g->flops;
    for (uint32_t k = 0; k < QS_MIN(s->nspecies, (uint32_t)QS_MAX_SPECIES); k++)
        same &= s->species_count[k] == g->species_count[k];
    if (!same) {
        h->summary_mismatch++;
        anomaly(h,
                "generation %u: its summary says population %u, births %u, deaths %u; its "
                "records say %u, %u, %u",
                s->generation, s->population, s->births, s->deaths, g->population, g->births,
                g->deaths);
    }
}

void qs_history_add(qs_history_t *h, const qs_record_t *r)
{
    if ((unsigned)r->type <= QS_REC_END)
        h->records[r->type]++;
    switch (r->type) {
    case QS_REC_HEADER:
        add_header(h, &r->u.header);
        break;
    case QS_REC_BIRTH:
        add_birth(h, &r->u.birth);
        break;
    case QS_REC_EVAL:
        add_eval(h, &r->u.eval);
        break;
    case QS_REC_DEATH:
        add_death(h, &r->u.death);
        break;
    case QS_REC_GENERATION:
        add_generation(h, &r->u.generation);
        break;
    case QS_REC_END:
        h->has_end = 1;
        h->end_generations = r->u.end.generations;
        snprintf(h->end_reason, sizeof h->end_reason, "%s", r->u.end.reason);
        break;
    default:
        anomaly(h, "record of unknown type %d", (int)r->type);
    }
}

int qs_history_load(qs_history_t *h, const char *path, qs_logread_stats_t *report, qs_error_t *err)
{
    qs_logread_t rd;
    qs_history_init(h);
    int rc = qs_logread_open(&rd, path, err);
    if (rc < 0)
        return rc;
    qs_record_t r;
    while ((rc = qs_logread_next(&rd, &r, err)) == 1) {
        qs_history_add(h, &r);
        qs_record_destroy(&r);
    }
    qs_logread_close(&rd);
    if (report)
        *report = rd.st;
    if (rc < 0)
        goto out;
    if (rd.st.records == 0) {
        if (rd.st.size == 0)
            rc = qs_error_set(err, QS_ERR(FORMAT), "%s: empty file, no lineage record", path);
        else
            rc = qs_error_set(
                err, QS_ERR(FORMAT), "%s: no lineage record could be read in %llu bytes (%s)", path,
                (unsigned long long)rd.st.size, rd.st.nskips ? rd.st.skips[0].why : "no frame");
    }
out:
    if (rc < 0)
        qs_history_destroy(h);
    return rc < 0 ? rc : 0;
}

int qs_history_survivor(const qs_history_t *h, uint32_t i)
{
    return h->orgs[i].cause == 0 || h->orgs[i].cause == QS_DEATH_END;
}

const char *qs_history_species(const qs_history_t *h, uint32_t s, char *buf, size_t cap)
{
    if (s < h->nspecies && h->species[s][0])
        return h->species[s];
    snprintf(buf, cap, "species%u", s);
    return buf;
}

uint32_t qs_history_last_generation(const qs_history_t *h)
{
    return h->ngens ? h->ngens - 1 : QS_NONE;
}
