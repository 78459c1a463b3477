/* islands: shares, topology, migration, and the islands as one plan and one record. */
#include "sim/islands.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/genstats.h"
#include "core/rng.h"
#include "proto/lineage.h"

void qs_islands_topology(const qs_scenario_t *sc, uint32_t *out)
{
    uint32_t n = sc->islands, deg = qs_scenario_in_degree(sc);
    if (n <= 1)
        return;
    if (sc->topology == QS_TOPO_RING) {
        for (uint32_t k = 0; k < n; k++)
            out[k] = (k + 1) % n;
        return;
    }
    if (sc->topology == QS_TOPO_FULL) {
        for (uint32_t k = 0; k < n; k++)
            for (uint32_t d = 1; d < n; d++)
                out[k * deg + d - 1] = (k + d) % n;
        return;
    }
    /* random: a circulant graph on a shuffled order of the islands (degree distinct
     * offsets among 1..n-1), so that every island sends to and receives from `degree`
     * others, none twice and never itself */
    qs_rng_t rng;
    qs_rng_init(&rng, sc->topology_seed ? sc->topology_seed : sc->seed,
                qs_rng_stream(QS_STREAM_TOPOLOGY, n));
    uint32_t *perm = xmalloc(n * sizeof *perm), *off = xmalloc((n - 1) * sizeof *off);
    for (uint32_t k = 0; k < n; k++)
        perm[k] = k;
    for (uint32_t d = 0; d + 1 < n; d++)
        off[d] = d + 1;
    qs_rng_shuffle_u32(&rng, perm, n);
    qs_rng_shuffle_u32(&rng, off, n - 1);
    for (uint32_t j = 0; j < n; j++)
        for (uint32_t d = 0; d < deg; d++)
            out[perm[j] * deg + d] = perm[(j + off[d]) % n];
    free(perm);
    free(off);
}

void qs_islands_scenario(const qs_scenario_t *sc, uint32_t k, qs_scenario_t *out)
{
    *out = *sc;
    if (sc->islands <= 1)
        return;
    out->population = (uint32_t)qs_scenario_share(sc, k, sc->population);
    for (uint32_t s = 0; s < sc->nspecies; s++)
        out->species[s].count = qs_scenario_island_founders(sc, k, s);
    if (sc->budget_share == QS_SHARE_SPLIT)
        out->flops_per_generation = qs_scenario_share(sc, k, sc->flops_per_generation);
    if (sc->capacity_share == QS_SHARE_SPLIT)
        out->max_params = qs_scenario_share(sc, k, sc->max_params);
}

static void setup(qs_islands_t *isl, const qs_scenario_t *sc)
{
    memset(isl, 0, sizeof *isl);
    isl->sc = sc;
    isl->n = sc->islands > 1 ? sc->islands : 1;
    isl->isc = xcalloc(isl->n, sizeof *isl->isc);
    isl->pop = xcalloc(isl->n, sizeof *isl->pop);
    isl->start = xcalloc(isl->n + 1, sizeof *isl->start);
    isl->hosted_alive = xcalloc(isl->n, sizeof *isl->hosted_alive);
    isl->degree = qs_scenario_in_degree(sc);
    size_t edges = (size_t)isl->n * isl->degree;
    isl->adj = xmalloc((edges + 1) * sizeof *isl->adj);
    isl->src = xmalloc((edges + 1) * sizeof *isl->src);
    qs_islands_topology(sc, isl->adj);
    uint32_t *in = xcalloc(isl->n, sizeof *in);
    for (uint32_t a = 0; a < isl->n; a++) /* ascending a: each island's sources in order */
        for (uint32_t d = 0; d < isl->degree; d++) {
            uint32_t b = isl->adj[(size_t)a * isl->degree + d];
            isl->src[(size_t)b * isl->degree + in[b]++] = a;
        }
    free(in);
    for (uint32_t k = 0; k < isl->n; k++)
        qs_islands_scenario(sc, k, &isl->isc[k]);
}

/* The island whose best is the best of all (fitness, then the lower id), or -1. */
static int best_island(const qs_islands_t *isl)
{
    int b = -1;
    for (uint32_t k = 0; k < isl->n; k++) {
        const qs_population_t *p = &isl->pop[k];
        if (!p->has_best)
            continue;
        const qs_org_t *o = &p->best, *than = b < 0 ? NULL : &isl->pop[b].best;
        if (!than || o->fitness > than->fitness ||
            (o->fitness == than->fitness && o->id < than->id))
            b = (int)k;
    }
    return b;
}

static void note_best(qs_islands_t *isl)
{
    int b = best_island(isl);
    if (b < 0)
        return;
    const qs_population_t *p = &isl->pop[b];
    if (!isl->has_best || (uint32_t)b != isl->best_island || p->best_changed)
        isl->best_changed = 1;
    for (uint32_t k = 0; k < isl->n; k++)
        isl->pop[k].best_changed = 0;
    isl->has_best = 1;
    isl->best_island = (uint32_t)b;
}

void qs_islands_init(qs_islands_t *isl, const qs_scenario_t *sc)
{
    setup(isl, sc);
    for (uint32_t k = 0; k < isl->n; k++)
        qs_population_init_island(&isl->pop[k], &isl->isc[k], k, isl->n);
}

void qs_islands_init_hosted(qs_islands_t *isl, const qs_scenario_t *sc)
{
    setup(isl, sc);
    for (uint32_t k = 0; k < isl->n; k++)
        qs_population_init_island_ids(&isl->pop[k], &isl->isc[k], k, isl->n);
}

int qs_islands_restore(qs_islands_t *isl, const qs_scenario_t *sc, qs_checkpoint_t *c,
                       qs_error_t *err)
{
    setup(isl, sc);
    isl->generation = c->generation;
    if (isl->n == 1) {
        int rc = qs_population_restore(&isl->pop[0], &isl->isc[0], c, err);
        if (rc == 0)
            note_best(isl);
        isl->best_changed = 0;
        return rc;
    }
    if (c->nislands != isl->n)
        return qs_error_set(
            err, QS_ERR(MISMATCH),
            "checkpoint: it holds %u islands; the scenario has [islands] count = %u",
            c->nislands ? c->nislands : 1, isl->n);
    int rc = 0;
    /* each island restored from a view of the checkpoint: its counters and organisms */
    qs_ckpt_org_t *mine = xmalloc((c->norgs ? c->norgs : 1) * sizeof *mine);
    for (uint32_t k = 0; k < isl->n && rc == 0; k++) {
        qs_checkpoint_t v;
        memset(&v, 0, sizeof v);
        v.seed = c->seed;
        v.generation = c->generation;
        v.next_id = c->islands[k].next_id;
        v.births = c->islands[k].births;
        v.deaths = c->islands[k].deaths;
        v.flops_total = c->islands[k].flops_total;
        v.orgs = mine;
        for (uint32_t i = 0; i < c->norgs; i++)
            if (qs_island_of(c->orgs[i].id, isl->n) == k)
                mine[v.norgs++] = c->orgs[i];
        if (c->has_best && qs_island_of(c->best.id, isl->n) == k) {
            v.has_best = 1;
            v.best_generation = c->best_generation;
            v.best = c->best;
        }
        rc = qs_population_restore_island(&isl->pop[k], &isl->isc[k], k, isl->n, &v, err);
        /* the weights taken are NULL in the view: clear them in c too */
        for (uint32_t i = 0, j = 0; i < c->norgs; i++)
            if (qs_island_of(c->orgs[i].id, isl->n) == k)
                c->orgs[i].weights = mine[j++].weights;
        if (v.has_best)
            c->best.weights = v.best.weights;
    }
    free(mine);
    if (rc == 0)
        note_best(isl);
    isl->best_changed = 0;
    return rc;
}

void qs_islands_destroy(qs_islands_t *isl)
{
    for (uint32_t k = 0; k < isl->n; k++)
        qs_population_destroy(&isl->pop[k]);
    free(isl->pop);
    free(isl->isc);
    free(isl->start);
    free(isl->hosted_alive);
    free(isl->adj);
    free(isl->src);
    memset(isl, 0, sizeof *isl);
}

uint32_t qs_islands_budget(qs_islands_t *isl)
{
    uint32_t n = 0;
    for (uint32_t k = 0; k < isl->n; k++) {
        qs_population_budget(&isl->pop[k]);
        isl->start[k] = n;
        n += isl->pop[k].norgs;
    }
    isl->start[isl->n] = n;
    return n;
}

uint32_t qs_islands_count(const qs_islands_t *isl)
{
    uint32_t n = 0;
    for (uint32_t k = 0; k < isl->n; k++)
        n += isl->pop[k].norgs;
    return n;
}

/* The island of flat entry index (after qs_islands_budget). */
static uint32_t island_at(const qs_islands_t *isl, uint32_t index)
{
    uint32_t lo = 0, hi = isl->n; /* the last k with start[k] <= index */
    while (hi - lo > 1) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (isl->start[mid] <= index)
            lo = mid;
        else
            hi = mid;
    }
    return lo;
}

qs_org_t *qs_islands_entry(const qs_islands_t *isl, uint32_t index)
{
    uint32_t k = island_at(isl, index);
    return &isl->pop[k].orgs[index - isl->start[k]];
}

void qs_islands_task(const qs_islands_t *isl, uint32_t index, uint64_t task_id,
                     qs_life_task_t *task)
{
    uint32_t k = island_at(isl, index);
    qs_population_task(&isl->pop[k], index - isl->start[k], task_id, task);
}

int qs_islands_apply(qs_islands_t *isl, qs_life_result_t *res, qs_error_t *err)
{
    uint32_t k = res->organism ? qs_island_of(res->organism, isl->n) : 0;
    return qs_population_apply(&isl->pop[k], res, err);
}

void qs_islands_set_echo(qs_islands_t *isl, int echo)
{
    for (uint32_t k = 0; k < isl->n; k++)
        isl->pop[k].echo = echo;
}

void qs_islands_totals(const qs_islands_t *isl, uint64_t *founders, uint64_t *births,
                       uint64_t *deaths)
{
    *founders = *births = *deaths = 0;
    for (uint32_t k = 0; k < isl->n; k++) {
        *founders += qs_population_founders(&isl->pop[k]);
        *births += isl->pop[k].births;
        *deaths += isl->pop[k].deaths;
    }
}

const qs_population_t *qs_islands_best(const qs_islands_t *isl)
{
    return isl->has_best ? &isl->pop[isl->best_island] : NULL;
}

void qs_islands_out_destroy(qs_islands_out_t *out)
{
    qs_generation_out_destroy(&out->all);
    for (uint32_t k = 0; out->island && k < out->n; k++)
        qs_generation_out_destroy(&out->island[k]);
    free(out->island);
    memset(out, 0, sizeof *out);
}

/* ---- migration --------------------------------------------------------------------------- */

static void migrate(qs_islands_t *isl)
{
    const qs_scenario_t *sc = isl->sc;
    uint32_t n = isl->n, m = sc->migrants;
    qs_org_t *em = xcalloc((size_t)n * m, sizeof *em);
    uint32_t *nem = xcalloc(n, sizeof *nem);
    for (uint32_t a = 0; a < n; a++)
        nem[a] = qs_population_emigrants(&isl->pop[a], m, sc->emigrants, sc->tournament,
                                         &em[(size_t)a * m]);
    for (uint32_t b = 0; b < n; b++) {
        qs_population_t *p = &isl->pop[b];
        p->immigrants = xcalloc((size_t)isl->degree * m + 1, sizeof *p->immigrants);
        for (uint32_t j = 0; j < isl->degree; j++) {
            uint32_t a = isl->src[(size_t)b * isl->degree + j];
            for (uint32_t i = 0; i < nem[a]; i++) {
                const qs_org_t *e = &em[(size_t)a * m + i];
                size_t np = isl->pop[a].cost[e->species].nparams;
                qs_org_t *im = &p->immigrants[p->nimmigrants++];
                *im = *e;
                im->genome = xmalloc(np * sizeof(float));
                memcpy(im->genome, e->genome, np * sizeof(float));
            }
        }
    }
    for (size_t i = 0; i < (size_t)n * m; i++)
        free(em[i].genome);
    free(em);
    free(nem);
}

/* ---- one record of all islands ------------------------------------------------------------ */

static int by_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* The records are in id order already within each island: sort the concatenation by
 * id (each record starts with its id). */
static void gather(qs_islands_t *isl, qs_islands_out_t *out)
{
    qs_generation_out_t *all = &out->all;
    uint32_t nb = 0, ne = 0, nd = 0;
    for (uint32_t k = 0; k < isl->n; k++) {
        nb += out->island[k].nbirths;
        ne += out->island[k].nevals;
        nd += out->island[k].ndeaths;
    }
    memset(all, 0, sizeof *all);
    all->births = xmalloc((nb ? nb : 1) * sizeof *all->births);
    all->evals = xmalloc((ne ? ne : 1) * sizeof *all->evals);
    all->deaths = xmalloc((nd ? nd : 1) * sizeof *all->deaths);
    all->dead = xmalloc((nd ? nd : 1) * sizeof *all->dead);
    qs_rec_generation_t *s = &all->summary;
    double best_fitness = NAN;
    uint64_t best_by_fitness = 0;
    for (uint32_t k = 0; k < isl->n; k++) {
        const qs_generation_out_t *o = &out->island[k];
        memcpy(all->births + all->nbirths, o->births, o->nbirths * sizeof *o->births);
        memcpy(all->evals + all->nevals, o->evals, o->nevals * sizeof *o->evals);
        memcpy(all->deaths + all->ndeaths, o->deaths, o->ndeaths * sizeof *o->deaths);
        memcpy(all->dead + all->ndeaths, o->dead, o->ndeaths * sizeof *o->dead);
        all->nbirths += o->nbirths;
        all->nevals += o->nevals;
        all->ndeaths += o->ndeaths;
        const qs_rec_generation_t *t = &o->summary;
        s->generation = t->generation;
        s->nspecies = t->nspecies;
        s->population += t->population;
        for (uint32_t sp = 0; sp < t->nspecies; sp++)
            s->species_count[sp] += t->species_count[sp];
        s->flops += t->flops;
        s->params_alive += t->params_alive;
        all->immigrants += o->immigrants;
        all->immigrants_lost += o->immigrants_lost;
        if (t->population && (best_by_fitness == 0 || o->best_fitness > best_fitness ||
                              (o->best_fitness == best_fitness && t->best_id < best_by_fitness))) {
            best_fitness = o->best_fitness;
            best_by_fitness = t->best_id;
        }
    }
    /* id order: the records (deaths with their dead) sorted together */
    qsort(all->births, all->nbirths, sizeof *all->births, by_u64);
    qsort(all->evals, all->nevals, sizeof *all->evals, by_u64);
    uint64_t(*key)[2] = xmalloc((nd ? nd : 1) * sizeof *key);
    for (uint32_t i = 0; i < nd; i++) {
        key[i][0] = all->deaths[i].id;
        key[i][1] = i;
    }
    qsort(key, nd, sizeof *key, by_u64);
    qs_rec_death_t *deaths = xmalloc((nd ? nd : 1) * sizeof *deaths);
    qs_org_t *dead = xmalloc((nd ? nd : 1) * sizeof *dead);
    for (uint32_t i = 0; i < nd; i++) {
        deaths[i] = all->deaths[key[i][1]];
        dead[i] = all->dead[key[i][1]];
    }
    free(all->deaths);
    free(all->dead);
    free(key);
    all->deaths = deaths;
    all->dead = dead;
    /* the statistics of the whole, as one population computes them */
    qs_genstats_t st;
    qs_genstats_init(&st);
    for (uint32_t i = 0; i < all->nbirths; i++)
        if (all->births[i].has_link)
            qs_genstats_link(&st, all->births[i].link_r2, all->births[i].link_rel_err);
    for (uint32_t i = 0; i < all->nevals; i++) {
        const qs_rec_eval_t *e = &all->evals[i];
        qs_genstats_eval(&st, e->id, e->accuracy, e->rel_err, e->r2);
    }
    s->best_accuracy = st.best_accuracy;
    s->best_id = st.accuracy.n ? st.best_id : best_by_fitness;
    s->births = all->nbirths;
    s->deaths = all->ndeaths;
    s->mean_accuracy = qs_genstats_mean(&st.accuracy);
    s->mean_rel_err = qs_genstats_mean(&st.rel_err);
    s->mean_r2 = qs_genstats_mean(&st.r2);
    s->mean_link_r2 = qs_genstats_mean(&st.link_r2);
    all->best_fitness = best_fitness;
    /* extinct: a species alive in this generation with no organism left on any island */
    uint32_t alive_next[QS_MAX_SPECIES] = {0};
    for (uint32_t k = 0; k < isl->n; k++)
        for (uint32_t sp = 0; sp < QS_MAX_SPECIES; sp++)
            alive_next[sp] += out->island[k].alive_next[sp];
    for (uint32_t sp = 0; sp < s->nspecies; sp++)
        if (s->species_count[sp] > 0 && alive_next[sp] == 0)
            all->extinct |= 1u << sp;
}

/* ---- an island's records as its host sends them ----------------------------------------- */

void qs_islands_records_msg(const qs_generation_out_t *o, uint32_t island, uint32_t nspecies,
                            qs_bytes_t *records, qs_msg_island_records_t *m)
{
    memset(m, 0, sizeof *m);
    qs_bytes_clear(records);
    for (uint32_t i = 0; i < o->nbirths; i++)
        qs_record_encode(&(qs_record_t){.type = QS_REC_BIRTH, .u.birth = o->births[i]}, records);
    for (uint32_t i = 0; i < o->nevals; i++)
        qs_record_encode(&(qs_record_t){.type = QS_REC_EVAL, .u.eval = o->evals[i]}, records);
    for (uint32_t i = 0; i < o->ndeaths; i++)
        qs_record_encode(&(qs_record_t){.type = QS_REC_DEATH, .u.death = o->deaths[i]}, records);
    qs_record_encode(&(qs_record_t){.type = QS_REC_GENERATION, .u.generation = o->summary},
                     records);
    m->island = island;
    m->generation = o->summary.generation;
    m->records = records->data;
    m->records_len = (uint32_t)records->len;
    m->ndead = o->ndeaths;
    m->dead = xcalloc(o->ndeaths ? o->ndeaths : 1, sizeof *m->dead);
    for (uint32_t i = 0; i < o->ndeaths; i++) {
        const qs_org_t *d = &o->dead[i];
        m->dead[i] = (qs_island_dead_t){.id = d->id,
                                        .parent = d->parent,
                                        .flops_total = d->flops_total,
                                        .born = d->born,
                                        .species = d->species,
                                        .accuracy = d->accuracy,
                                        .rel_err = d->fidelity.rel_err,
                                        .r2 = d->fidelity.r2};
    }
    m->nspecies = nspecies;
    memcpy(m->alive, o->alive_next, sizeof m->alive);
    m->immigrants = o->immigrants;
    m->immigrants_lost = o->immigrants_lost;
    m->best_fitness = o->best_fitness;
}

int qs_islands_records_out(const qs_msg_island_records_t *m, qs_generation_out_t *o,
                           qs_error_t *err)
{
    memset(o, 0, sizeof *o);
    uint32_t cap = m->ndead + 1; /* grown as records come */
    uint32_t bcap = 16, ecap = 16;
    o->births = xmalloc(bcap * sizeof *o->births);
    o->evals = xmalloc(ecap * sizeof *o->evals);
    o->deaths = xmalloc(cap * sizeof *o->deaths);
    o->dead = xcalloc(cap, sizeof *o->dead);
    qs_frame_reader_t fr;
    qs_frame_reader_init(&fr, QS_LINEAGE_MAX_RECORD);
    const uint8_t *p = m->records;
    size_t left = m->records_len;
    int rc = 0, summary = 0;
    while (left > 0 && rc >= 0) {
        size_t used = 0, plen = 0;
        const uint8_t *payload = NULL;
        rc = qs_frame_reader_feed(&fr, p, left, &used, &payload, &plen, err);
        p += used;
        left -= used;
        if (rc == 0) {
            rc = qs_error_set(err, QS_ERR(TRUNCATED), "island %u: a record cut short", m->island);
            break;
        }
        if (rc < 0)
            break;
        qs_record_t r;
        if ((rc = qs_record_decode(&r, payload, plen, err)) < 0)
            break;
        if (r.type == QS_REC_BIRTH) {
            if (o->nbirths == bcap)
                o->births = xrealloc(o->births, (bcap *= 2) * sizeof *o->births);
            o->births[o->nbirths++] = r.u.birth;
        } else if (r.type == QS_REC_EVAL) {
            if (o->nevals == ecap)
                o->evals = xrealloc(o->evals, (ecap *= 2) * sizeof *o->evals);
            o->evals[o->nevals++] = r.u.eval;
        } else if (r.type == QS_REC_DEATH && o->ndeaths < m->ndead) {
            o->deaths[o->ndeaths++] = r.u.death;
        } else if (r.type == QS_REC_GENERATION) {
            o->summary = r.u.generation;
            summary = 1;
        } else {
            rc = qs_error_set(err, QS_ERR(FORMAT), "island %u: unexpected %s record", m->island,
                              qs_rec_type_name(r.type) ? qs_rec_type_name(r.type) : "?");
        }
        qs_record_destroy(&r);
    }
    qs_frame_reader_destroy(&fr);
    if (rc >= 0 && (!summary || o->ndeaths != m->ndead))
        rc = qs_error_set(err, QS_ERR(FORMAT),
                          "island %u: %u death records for %u dead, %s generation summary",
                          m->island, o->ndeaths, m->ndead, summary ? "a" : "no");
    for (uint32_t i = 0; rc >= 0 && i < m->ndead; i++) {
        const qs_island_dead_t *d = &m->dead[i];
        if (d->id != o->deaths[i].id) {
            rc = qs_error_set(
                err, QS_ERR(FORMAT), "island %u: dead organism %llu, its death record names %llu",
                m->island, (unsigned long long)d->id, (unsigned long long)o->deaths[i].id);
            break;
        }
        qs_org_t *x = &o->dead[i];
        x->id = d->id;
        x->parent = d->parent;
        x->flops_total = d->flops_total;
        x->born = d->born;
        x->species = d->species;
        x->accuracy = d->accuracy;
        x->fidelity.rel_err = d->rel_err;
        x->fidelity.r2 = d->r2;
    }
    memcpy(o->alive_next, m->alive, sizeof o->alive_next);
    o->immigrants = m->immigrants;
    o->immigrants_lost = m->immigrants_lost;
    o->best_fitness = m->best_fitness;
    if (rc < 0) {
        qs_generation_out_destroy(o);
        return rc;
    }
    return 0;
}

/* Island k's output, through the bytes of its records message (counted in isl): what the
 * whole is made of is exactly what a host would send. */
static void through_the_wire(qs_islands_t *isl, uint32_t k, qs_generation_out_t *o)
{
    qs_bytes_t records, wire;
    qs_bytes_init(&records);
    qs_bytes_init(&wire);
    qs_msg_t m = {.type = QS_MSG_ISLAND_RECORDS}, back;
    qs_islands_records_msg(o, k, isl->sc->nspecies, &records, &m.u.island_records);
    qs_msg_encode(&m, &wire);
    free(m.u.island_records.dead);
    isl->records_bytes += wire.len;
    const uint8_t *payload;
    size_t used = 0, plen = 0;
    qs_frame_reader_t fr;
    qs_frame_reader_init(&fr, wire.len + 1);
    qs_error_t err = {0};
    if (qs_frame_reader_feed(&fr, wire.data, wire.len, &used, &payload, &plen, &err) != 1 ||
        qs_msg_decode(&back, payload, plen, &err) < 0)
        qs_die("islands: island %u's records do not read back: %s", k, err.msg);
    qs_generation_out_t got;
    if (qs_islands_records_out(&back.u.island_records, &got, &err) < 0)
        qs_die("islands: island %u's records do not read back: %s", k, err.msg);
    got.extinct = o->extinct; /* the island's own: not part of the whole */
    qs_generation_out_destroy(o);
    *o = got;
    qs_msg_destroy(&back);
    qs_frame_reader_destroy(&fr);
    qs_bytes_destroy(&records);
    qs_bytes_destroy(&wire);
}

/* The end of a generation, its islands' outputs in: the whole, the best, the next. */
static void conclude(qs_islands_t *isl, int last, qs_islands_out_t *out)
{
    if (isl->n > 1) {
        gather(isl, out);
        if (last)
            out->all.extinct = 0;
    }
    out->migrated = out->all.immigrants;
    out->lost = out->all.immigrants_lost;
    note_best(isl);
    isl->generation++;
}

void qs_islands_advance(qs_islands_t *isl, int last, qs_islands_out_t *out)
{
    memset(out, 0, sizeof *out);
    if (isl->n == 1) {
        qs_population_advance(&isl->pop[0], last, &out->all);
    } else {
        if (qs_islands_migrate_after(isl, last))
            migrate(isl);
        out->n = isl->n;
        out->island = xcalloc(isl->n, sizeof *out->island);
        for (uint32_t k = 0; k < isl->n; k++) {
            qs_population_advance(&isl->pop[k], last, &out->island[k]);
            through_the_wire(isl, k, &out->island[k]);
        }
    }
    conclude(isl, last, out);
}

int qs_islands_migrate_after(const qs_islands_t *isl, int last)
{
    const qs_scenario_t *sc = isl->sc;
    return isl->n > 1 && !last && sc->migrants && (isl->generation + 1) % sc->interval == 0;
}

void qs_islands_hosted_advance(qs_islands_t *isl, int last, qs_generation_out_t *outs,
                               qs_islands_out_t *out)
{
    memset(out, 0, sizeof *out);
    for (uint32_t k = 0; k < isl->n; k++) { /* the counters the orchestrator keeps */
        qs_population_t *p = &isl->pop[k];
        const qs_generation_out_t *o = &outs[k];
        uint32_t next = 0;
        for (uint32_t s = 0; s < QS_MAX_SPECIES; s++)
            next += o->alive_next[s];
        p->births += next - (o->summary.population - o->ndeaths); /* the next plan's newborns */
        p->deaths += o->ndeaths;
        p->flops_total += o->summary.flops;
        p->generation = isl->generation + 1;
        isl->hosted_alive[k] = next;
    }
    if (isl->n == 1) {
        out->all = outs[0];
        const qs_rec_generation_t *s = &out->all.summary;
        for (uint32_t sp = 0; sp < s->nspecies; sp++)
            if (!last && s->species_count[sp] > 0 && out->all.alive_next[sp] == 0)
                out->all.extinct |= 1u << sp;
        free(outs);
    } else {
        out->n = isl->n;
        out->island = outs;
    }
    conclude(isl, last, out);
}

uint32_t qs_islands_hosted_count(const qs_islands_t *isl)
{
    uint32_t n = 0;
    for (uint32_t k = 0; k < isl->n; k++)
        n += isl->hosted_alive[k];
    return n;
}

void qs_islands_shed(qs_islands_t *isl)
{
    for (uint32_t k = 0; k < isl->n; k++) {
        qs_population_t *p = &isl->pop[k];
        isl->hosted_alive[k] = p->norgs;
        for (uint32_t i = 0; i < p->norgs; i++) {
            free(p->orgs[i].genome);
            free(p->orgs[i].result);
        }
        p->norgs = 0;
    }
}

/* ---- checkpoints -------------------------------------------------------------------------- */

void qs_islands_checkpoint_combine(const qs_islands_t *isl, const qs_checkpoint_t *part,
                                   qs_checkpoint_t *c)
{
    memset(c, 0, sizeof *c);
    c->seed = isl->sc->seed;
    c->generation = isl->generation;
    c->nislands = isl->n;
    c->islands = xcalloc(isl->n, sizeof *c->islands);
    for (uint32_t k = 0; k < isl->n; k++) {
        c->norgs += part[k].norgs;
        c->next_id = QS_MAX(c->next_id, part[k].next_id);
        c->births += part[k].births;
        c->deaths += part[k].deaths;
        c->flops_total += part[k].flops_total;
        c->islands[k] = (qs_ckpt_island_t){.next_id = part[k].next_id,
                                           .births = part[k].births,
                                           .deaths = part[k].deaths,
                                           .flops_total = part[k].flops_total};
    }
    c->orgs = xcalloc(c->norgs ? c->norgs : 1, sizeof *c->orgs);
    uint32_t w = 0;
    for (uint32_t k = 0; k < isl->n; k++)
        for (uint32_t i = 0; i < part[k].norgs; i++)
            c->orgs[w++] = part[k].orgs[i];
    qsort(c->orgs, c->norgs, sizeof *c->orgs, by_u64); /* each starts with its id */
    const qs_population_t *b = qs_islands_best(isl);
    if (b) {
        const qs_checkpoint_t *pb = &part[b->island];
        c->has_best = pb->has_best;
        c->best_generation = pb->best_generation;
        c->best = pb->best;
    }
}

void qs_islands_checkpoint(const qs_islands_t *isl, qs_checkpoint_t *c)
{
    if (isl->n == 1) {
        qs_population_checkpoint(&isl->pop[0], c);
        return;
    }
    qs_checkpoint_t *part = xcalloc(isl->n, sizeof *part);
    for (uint32_t k = 0; k < isl->n; k++)
        qs_population_checkpoint(&isl->pop[k], &part[k]);
    qs_islands_checkpoint_combine(isl, part, c);
    for (uint32_t k = 0; k < isl->n; k++)
        qs_population_checkpoint_release(&part[k]);
    free(part);
}

void qs_islands_checkpoint_release(qs_checkpoint_t *c)
{
    free(c->islands);
    c->islands = NULL;
    c->nislands = 0;
    qs_population_checkpoint_release(c);
}
