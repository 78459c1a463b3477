/* population: plans, budgets, results, selection, births and deaths. */
#include "sim/population.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/genstats.h"
#include "core/optim.h"
#include "core/rng.h"

void qs_population_costs(const qs_scenario_t *sc, qs_species_cost_t *cost)
{
    for (uint32_t s = 0; s < sc->nspecies; s++) {
        qs_quine_spec_t spec = qs_scenario_spec(sc, s);
        const qs_scn_species_t *sp = &sc->species[s];
        size_t n = qs_quine_nparams(&spec);
        qs_objective_t obj = {.sr_loss = sp->loss,
                              .lambda = (float)sp->lambda,
                              .temperature = (float)sp->temperature,
                              .reduce = sp->reduce,
                              .pairing = sp->pairing};
        size_t nc = sc->batch ? sc->batch : n;
        size_t ni = 0;
        if (spec.kind == QS_KIND_AUX)
            ni = sc->images ? sc->images : (sc->batch ? sc->batch : 100);
        cost[s].nparams = n;
        cost[s].step_flops = qs_flops_step(&spec, &obj, nc, ni) + qs_flops_opt(sc->optimizer, n);
        cost[s].replication_flops = (uint64_t)sc->regenerations * qs_flops_regen(&spec);
        cost[s].eval_flops = qs_flops_regen(&spec) +
                             (spec.kind == QS_KIND_AUX ? qs_flops_eval(&spec, sc->fitness) : 0);
    }
}

static void reserve(qs_population_t *pop, uint32_t n)
{
    if (n <= pop->cap)
        return;
    pop->cap = QS_MAX(n, pop->cap * 2);
    pop->orgs = xrealloc(pop->orgs, pop->cap * sizeof *pop->orgs);
}

static qs_org_t *push(qs_population_t *pop)
{
    reserve(pop, pop->norgs + 1);
    qs_org_t *o = &pop->orgs[pop->norgs++];
    memset(o, 0, sizeof *o);
    return o;
}

void qs_population_init(qs_population_t *pop, const qs_scenario_t *sc)
{
    qs_population_init_island(pop, sc, 0, 1);
}

/* The next id of this island's space. */
static uint64_t take_id(qs_population_t *pop)
{
    uint64_t id = pop->next_id;
    pop->next_id += pop->nislands;
    return id;
}

/* The founders, with their weights or (weights = 0) without: genome NULL. */
static void found(qs_population_t *pop, const qs_scenario_t *sc, uint32_t island, uint32_t nislands,
                  int weights)
{
    memset(pop, 0, sizeof *pop);
    pop->sc = sc;
    pop->island = island;
    pop->nislands = nislands ? nislands : 1;
    pop->next_id = (uint64_t)island + 1;
    qs_population_costs(sc, pop->cost);
    for (uint32_t s = 0; s < sc->nspecies; s++) {
        qs_quine_spec_t spec = qs_scenario_spec(sc, s);
        for (uint32_t k = 0; k < sc->species[s].count; k++) {
            qs_org_t *o = push(pop);
            o->id = take_id(pop);
            o->species = s;
            o->born = 0;
            o->newborn = 0;
            o->prior_fitness = NAN;
            if (!weights)
                continue;
            o->genome = xmalloc(pop->cost[s].nparams * sizeof(float));
            qs_rng_t rng;
            qs_rng_init(&rng, sc->seed, qs_rng_stream(QS_STREAM_INIT, o->id));
            qs_quine_init_weights(&spec, sc->species[s].init, &rng, o->genome);
        }
    }
    pop->births = pop->norgs;
}

void qs_population_init_island(qs_population_t *pop, const qs_scenario_t *sc, uint32_t island,
                               uint32_t nislands)
{
    found(pop, sc, island, nislands, 1);
}

void qs_population_init_island_ids(qs_population_t *pop, const qs_scenario_t *sc, uint32_t island,
                                   uint32_t nislands)
{
    found(pop, sc, island, nislands, 0);
}

uint64_t qs_population_founders(const qs_population_t *pop)
{
    uint64_t n = 0;
    for (uint32_t s = 0; s < pop->sc->nspecies; s++)
        n += pop->sc->species[s].count;
    return n;
}

static void free_immigrants(qs_population_t *pop)
{
    for (uint32_t i = 0; i < pop->nimmigrants; i++)
        free(pop->immigrants[i].genome);
    free(pop->immigrants);
    pop->immigrants = NULL;
    pop->nimmigrants = 0;
}

void qs_population_destroy(qs_population_t *pop)
{
    for (uint32_t i = 0; i < pop->norgs; i++) {
        free(pop->orgs[i].genome);
        free(pop->orgs[i].result);
    }
    free_immigrants(pop);
    free(pop->orgs);
    free(pop->best.genome);
    memset(pop, 0, sizeof *pop);
}

void qs_population_budget(qs_population_t *pop)
{
    const qs_scenario_t *sc = pop->sc;
    double total_weight = 0;
    for (uint32_t i = 0; i < pop->norgs; i++) {
        double f = pop->orgs[i].prior_fitness;
        total_weight += isfinite(f) && f > 0 ? f : 0;
    }
    int by_fitness = sc->allocation == QS_ALLOC_FITNESS && total_weight > 0;
    for (uint32_t i = 0; i < pop->norgs; i++) {
        qs_org_t *o = &pop->orgs[i];
        const qs_species_cost_t *c = &pop->cost[o->species];
        /* A life's stream: 24 bits of generation, 32 of organism id. */
        o->life_stream = qs_rng_stream(
            QS_STREAM_LIFE, (uint64_t)(pop->generation & 0xFFFFFF) << 32 | (o->id & 0xFFFFFFFF));
        o->mutation_stream = qs_rng_stream(QS_STREAM_MUTATION, o->id);
        if (sc->flops_per_generation == 0) {
            o->allowance = UINT64_MAX;
            o->steps = sc->steps;
            continue;
        }
        double share;
        if (by_fitness) {
            double f = o->prior_fitness;
            share = (isfinite(f) && f > 0 ? f : 0) / total_weight;
        } else {
            share = 1.0 / pop->norgs;
        }
        /* floor of an exact share: the allowances never sum above the budget */
        long double a = (long double)sc->flops_per_generation * share;
        o->allowance = a >= (long double)UINT64_MAX ? UINT64_MAX : (uint64_t)a;
        /* Reserve one replication, learn with the rest. */
        uint64_t learnable =
            o->allowance > c->replication_flops ? o->allowance - c->replication_flops : 0;
        uint64_t affordable = c->step_flops ? learnable / c->step_flops : sc->steps;
        o->steps = QS_MIN((uint64_t)sc->steps, affordable);
    }
}

int qs_population_find(const qs_population_t *pop, uint64_t id)
{
    uint32_t lo = 0, hi = pop->norgs;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (pop->orgs[mid].id < id)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < pop->norgs && pop->orgs[lo].id == id ? (int)lo : -1;
}

int qs_population_apply(qs_population_t *pop, qs_life_result_t *res, qs_error_t *err)
{
    int i = qs_population_find(pop, res->organism);
    if (i < 0)
        return qs_error_set(err, QS_ERR(MISMATCH),
                            "result for organism %llu, which is not in generation %u",
                            (unsigned long long)res->organism, pop->generation);
    qs_org_t *o = &pop->orgs[i];
    if (o->done)
        return qs_error_set(err, QS_ERR(MISMATCH), "second result for organism %llu",
                            (unsigned long long)res->organism);
    const qs_species_cost_t *c = &pop->cost[o->species];
    /* What the worker says must be possible for this task (core/life.h): a peer that
     * sends NaN weights with finite figures, or an accuracy no count gives, is dropped by
     * the caller and the task requeued. */
    qs_life_task_t task;
    qs_population_task(pop, (uint32_t)i, res->task_id, &task);
    qs_quine_spec_t spec = qs_scenario_spec(pop->sc, o->species);
    if (qs_life_result_check(res, &task, &spec, pop->sc->fitness, err) < 0)
        return QS_ERR(PEER);
    if (res->steps != o->steps)
        return qs_error_set(err, QS_ERR(MISMATCH),
                            "result for organism %llu took %llu steps, %llu were paid for",
                            (unsigned long long)res->organism, (unsigned long long)res->steps,
                            (unsigned long long)o->steps);
    o->result = res->weights;
    res->weights = NULL;
    res->nweights = 0;
    o->done = 1;
    o->accuracy = res->accuracy;
    o->train_loss = res->train_loss;
    o->fidelity = res->fidelity;
    o->has_link = res->has_link;
    o->link = res->link;
    o->has_child = res->has_child;
    o->child_r2 = res->child_r2;
    o->drift2_r2 = res->drift2_r2;
    o->mutated = res->mutated;
    o->seconds = res->seconds;
    o->flops = o->steps * c->step_flops;
    o->fitness = qs_fitness(pop->sc->fitness_measure, o->accuracy, o->fidelity.r2);
    return 0;
}

int qs_population_complete(const qs_population_t *pop)
{
    for (uint32_t i = 0; i < pop->norgs; i++)
        if (!pop->orgs[i].done)
            return 0;
    return 1;
}

/* ---- selection --------------------------------------------------------------------------- */

/* Order: higher fitness first, then lower id. */
static const qs_org_t *cmp_base;
static int by_rank(const void *a, const void *b)
{
    const qs_org_t *x = &cmp_base[*(const uint32_t *)a], *y = &cmp_base[*(const uint32_t *)b];
    if (x->fitness != y->fitness)
        return x->fitness > y->fitness ? -1 : 1;
    return x->id < y->id ? -1 : x->id > y->id;
}

/* Draw one candidate position (into the ranked pool) by the scenario's method. */
static uint32_t draw(const qs_scenario_t *sc, qs_rng_t *rng, const qs_org_t *orgs,
                     const uint32_t *pool, uint32_t npool)
{
    switch (sc->method) {
    case QS_SEL_TOURNAMENT: {
        uint32_t best = qs_rng_below(rng, npool);
        for (uint32_t k = 1; k < sc->size; k++) {
            uint32_t c = qs_rng_below(rng, npool);
            if (c < best) /* the pool is ranked: a lower position is fitter */
                best = c;
        }
        return best;
    }
    case QS_SEL_ROULETTE: {
        double total = 0;
        for (uint32_t k = 0; k < npool; k++) {
            double f = orgs[pool[k]].fitness;
            total += f > 0 ? f : 0;
        }
        if (total <= 0)
            return qs_rng_below(rng, npool);
        double x = qs_rng_uniform(rng) * total;
        for (uint32_t k = 0; k < npool; k++) {
            double f = orgs[pool[k]].fitness;
            x -= f > 0 ? f : 0;
            if (x < 0)
                return k;
        }
        return npool - 1;
    }
    case QS_SEL_TRUNCATION:
        return qs_rng_below(rng, QS_MIN(npool, QS_MAX(sc->size, 1u)));
    }
    return 0;
}

void qs_generation_out_destroy(qs_generation_out_t *out)
{
    free(out->births);
    free(out->evals);
    free(out->deaths);
    free(out->dead);
    memset(out, 0, sizeof *out);
}

static int by_id(const void *a, const void *b)
{
    const qs_org_t *x = a, *y = b;
    return x->id < y->id ? -1 : x->id > y->id;
}

/* Higher fitness wins, then the lower id. */
static int better(const qs_org_t *o, const qs_org_t *than)
{
    return o->fitness > than->fitness || (o->fitness == than->fitness && o->id < than->id);
}

static void update_best(qs_population_t *pop)
{
    for (uint32_t i = 0; i < pop->norgs; i++) {
        const qs_org_t *o = &pop->orgs[i];
        if (pop->has_best && !better(o, &pop->best) &&
            !(o->id == pop->best.id && o->fitness > pop->best.fitness))
            continue;
        size_t n = pop->cost[o->species].nparams;
        free(pop->best.genome);
        pop->best = *o;
        pop->best.genome = xmalloc(n * sizeof(float));
        memcpy(pop->best.genome, o->genome, n * sizeof(float));
        pop->has_best = 1;
        pop->best_generation = pop->generation;
        pop->best_changed = 1;
    }
}

/* The newborns to give up for immigrants, worst first: the lowest parent fitness (a NaN
 * lowest of all), then the later drawn. */
static const qs_org_t *victim_base;
static int by_victim(const void *a, const void *b)
{
    uint32_t i = *(const uint32_t *)a, j = *(const uint32_t *)b;
    double x = victim_base[i].prior_fitness, y = victim_base[j].prior_fitness;
    if (isnan(x) != isnan(y))
        return isnan(x) ? -1 : 1;
    if (!isnan(x) && x != y)
        return x < y ? -1 : 1;
    return i > j ? -1 : i < j;
}

/* Place pop->immigrants among the newborns next[0..*nnext): first in the places left
 * empty (`free_places`), then instead of newborns chosen by [islands] replace (whose
 * parents get the replication back). An immigrant whose parameters do not fit under
 * max_params is refused. The immigrants' genomes move into next. */
static void immigrate(qs_population_t *pop, qs_org_t *next, uint32_t *nnext, uint32_t free_places,
                      uint64_t *params, qs_generation_out_t *out)
{
    const qs_scenario_t *sc = pop->sc;
    uint32_t n = *nnext, m = pop->nimmigrants;
    uint32_t replace = m > free_places ? QS_MIN(m - free_places, n) : 0;
    uint32_t *order = xmalloc((n ? n : 1) * sizeof *order);
    for (uint32_t k = 0; k < n; k++)
        order[k] = k;
    if (sc->replace == QS_REPLACE_WORST) {
        victim_base = next;
        qsort(order, n, sizeof *order, by_victim);
    } else {
        qs_rng_t rng;
        qs_rng_init(&rng, sc->seed,
                    qs_rng_stream(QS_STREAM_MIGRATION, UINT64_C(1) << 55 |
                                                           (uint64_t)pop->island << 32 |
                                                           pop->generation));
        for (uint32_t k = 0; k < replace; k++) { /* the first `replace` of a shuffle */
            uint32_t j = k + qs_rng_below(&rng, n - k), t = order[k];
            order[k] = order[j];
            order[j] = t;
        }
    }
    char *gone = xcalloc(n ? n : 1, 1);
    for (uint32_t k = 0; k < replace; k++) {
        qs_org_t *ch = &next[order[k]];
        const qs_species_cost_t *c = &pop->cost[ch->species];
        int pi = qs_population_find(pop, ch->parent);
        pop->orgs[pi].flops -= c->replication_flops;
        *params -= c->nparams;
        gone[order[k]] = 1;
        free(ch->genome);
    }
    uint32_t w = 0;
    for (uint32_t k = 0; k < n; k++)
        if (!gone[k])
            next[w++] = next[k];
    for (uint32_t i = 0; i < m; i++) {
        qs_org_t *im = &pop->immigrants[i];
        uint64_t np = pop->cost[im->species].nparams;
        if (sc->max_params && *params + np > sc->max_params) {
            out->immigrants_lost++;
            continue;
        }
        *params += np;
        qs_org_t *ch = &next[w++];
        memset(ch, 0, sizeof *ch);
        ch->parent = im->id;
        ch->species = im->species;
        ch->born = pop->generation + 1;
        ch->newborn = 1;
        ch->genome = im->genome;
        im->genome = NULL;
        ch->prior_fitness = im->fitness;
        out->immigrants++;
    }
    *nnext = w;
    free(gone);
    free(order);
}

uint32_t qs_population_emigrants(const qs_population_t *pop, uint32_t m, qs_emigrate_t how,
                                 uint32_t tournament, qs_org_t *out)
{
    uint32_t n = pop->norgs;
    m = QS_MIN(m, n);
    if (m == 0)
        return 0;
    uint32_t *rank = xmalloc(n * sizeof *rank);
    for (uint32_t i = 0; i < n; i++)
        rank[i] = i;
    cmp_base = pop->orgs;
    qsort(rank, n, sizeof *rank, by_rank);
    qs_rng_t rng;
    qs_rng_init(&rng, pop->sc->seed,
                qs_rng_stream(QS_STREAM_MIGRATION, (uint64_t)pop->island << 32 | pop->generation));
    /* rank[0..left) are still candidates, in rank order */
    uint32_t left = n;
    for (uint32_t k = 0; k < m; k++) {
        uint32_t pos = 0; /* best: the fittest left */
        if (how == QS_EMIGRATE_RANDOM) {
            pos = qs_rng_below(&rng, left);
        } else if (how == QS_EMIGRATE_TOURNAMENT) {
            pos = qs_rng_below(&rng, left);
            for (uint32_t t = 1; t < tournament; t++)
                pos = QS_MIN(pos, qs_rng_below(&rng, left));
        }
        const qs_org_t *o = &pop->orgs[rank[pos]];
        size_t np = pop->cost[o->species].nparams;
        qs_org_t *e = &out[k];
        memset(e, 0, sizeof *e);
        e->id = o->id;
        e->species = o->species;
        e->fitness = o->fitness;
        e->accuracy = o->accuracy;
        e->genome = xmalloc(np * sizeof(float));
        memcpy(e->genome, o->result ? o->result : o->genome, np * sizeof(float));
        memmove(&rank[pos], &rank[pos + 1], (left - pos - 1) * sizeof *rank);
        left--;
    }
    free(rank);
    return m;
}

/* Parents for the slots after the elites, drawn from everyone in rank order, each paying
 * its replication from balance; their children go to next[*nnext..] (ids come later).
 * Returns the slots left unfilled. */
static uint32_t breed(qs_population_t *pop, const uint32_t *rank, uint32_t slots, uint64_t *balance,
                      uint64_t *params, qs_org_t *next, uint32_t *nnext)
{
    const qs_scenario_t *sc = pop->sc;
    uint32_t n = pop->norgs, g = pop->generation;
    uint32_t *pool = xmalloc((n ? n : 1) * sizeof *pool), npool = 0;
    for (uint32_t k = 0; k < n; k++)
        pool[npool++] = rank[k];
    qs_rng_t rng; /* island 0's stream is the one population's */
    qs_rng_init(&rng, sc->seed,
                qs_rng_stream(QS_STREAM_SELECTION, (uint64_t)pop->island << 32 | g));
    while (slots > 0 && npool > 0) {
        uint32_t pos = draw(sc, &rng, pop->orgs, pool, npool);
        uint32_t pi = pool[pos];
        qs_org_t *p = &pop->orgs[pi];
        const qs_species_cost_t *c = &pop->cost[p->species];
        int can_pay = balance[pi] >= c->replication_flops;
        int fits = sc->max_params == 0 || *params + c->nparams <= sc->max_params;
        if (!can_pay || !fits) {
            /* Out of the pool for good: it cannot pay, or its species no longer fits
             * (then none of its species does: remove them all). */
            uint32_t w = 0;
            for (uint32_t k = 0; k < npool; k++) {
                const qs_org_t *q = &pop->orgs[pool[k]];
                int drop = can_pay ? q->species == p->species : pool[k] == pi;
                if (!drop)
                    pool[w++] = pool[k];
            }
            npool = w;
            continue;
        }
        if (balance[pi] != UINT64_MAX)
            balance[pi] -= c->replication_flops;
        p->flops += c->replication_flops;
        *params += c->nparams;
        slots--;
        qs_org_t *ch = &next[(*nnext)++];
        memset(ch, 0, sizeof *ch);
        ch->parent = p->id; /* its id comes once the immigrants have their places */
        ch->species = p->species;
        ch->born = g + 1;
        ch->newborn = 1;
        ch->genome = xmalloc(c->nparams * sizeof(float));
        memcpy(ch->genome, p->genome, c->nparams * sizeof(float));
        ch->prior_fitness = p->fitness;
    }
    free(pool);
    return slots;
}

/* The birth record of o, born in this generation. */
static void birth_record(const qs_population_t *pop, const qs_org_t *o, qs_rec_birth_t *b)
{
    const qs_scenario_t *sc = pop->sc;
    memset(b, 0, sizeof *b);
    b->id = o->id;
    b->parent = o->parent;
    b->generation = pop->generation;
    b->species = o->species;
    b->mode = sc->mode;
    b->has_link = o->has_link;
    b->link_l_sr = o->has_link ? o->link.l_sr : NAN;
    b->link_rel_err = o->has_link ? o->link.rel_err : NAN;
    b->link_r2 = o->has_link ? o->link.r2 : NAN;
    b->mutation_sigma = o->parent ? sc->mutation_sigma : 0;
    b->mutation_rate = o->parent ? sc->mutation_rate : 0;
    b->mutated = o->mutated;
    b->island = pop->island;
    uint32_t origin = o->parent ? qs_island_of(o->parent, pop->nislands) : pop->island;
    b->migrant = origin != pop->island;
    b->origin_island = b->migrant ? origin : 0; /* as the record reads back */
}

/* The evaluation record of o's life in this generation. */
static void eval_record(const qs_population_t *pop, const qs_org_t *o, qs_rec_eval_t *e)
{
    memset(e, 0, sizeof *e);
    e->id = o->id;
    e->generation = pop->generation;
    e->accuracy = o->accuracy;
    e->l_sr = o->fidelity.l_sr;
    e->rel_err = o->fidelity.rel_err;
    e->r2 = o->fidelity.r2;
    e->zero_quine = o->fidelity.zero_quine;
    e->steps = o->steps;
    e->flops = o->flops;
    e->train_loss = o->train_loss;
    e->has_child = o->has_child;
    e->child_r2 = o->has_child ? o->child_r2 : NAN;
    e->drift2_r2 = o->has_child ? o->drift2_r2 : NAN;
}

/* out's records of this generation (births, evaluations, deaths of those not kept) and its
 * summary; adds each life's FLOPs to its organism's and the population's totals. */
static void generation_records(qs_population_t *pop, int last, const char *kept,
                               const uint32_t *rank, qs_generation_out_t *out)
{
    const qs_scenario_t *sc = pop->sc;
    uint32_t n = pop->norgs, g = pop->generation;
    qs_rec_generation_t *sum = &out->summary;
    sum->generation = g;
    sum->population = n;
    sum->nspecies = sc->nspecies;
    out->evals = xmalloc((n ? n : 1) * sizeof *out->evals);
    out->births = xmalloc((n ? n : 1) * sizeof *out->births);
    out->deaths = xmalloc((n ? n : 1) * sizeof *out->deaths);
    out->dead = xmalloc((n ? n : 1) * sizeof *out->dead);
    qs_genstats_t st;
    qs_genstats_init(&st);
    for (uint32_t i = 0; i < n; i++) {
        qs_org_t *o = &pop->orgs[i];
        o->flops_total += o->flops;
        sum->species_count[o->species]++;
        sum->flops += o->flops;
        sum->params_alive += pop->cost[o->species].nparams;
        if (o->born == g) {
            birth_record(pop, o, &out->births[out->nbirths++]);
            if (o->has_link)
                qs_genstats_link(&st, o->link.r2, o->link.rel_err);
        }
        eval_record(pop, o, &out->evals[out->nevals++]);
        qs_genstats_eval(&st, o->id, o->accuracy, o->fidelity.rel_err, o->fidelity.r2);
        if (!kept[i]) {
            qs_rec_death_t *d = &out->deaths[out->ndeaths++];
            d->id = o->id;
            d->generation = g;
            const qs_species_cost_t *c = &pop->cost[o->species];
            uint64_t life = o->steps * c->step_flops;
            int could_pay =
                o->allowance == UINT64_MAX || o->allowance - life >= c->replication_flops;
            d->cause = last ? QS_DEATH_END : could_pay ? QS_DEATH_SELECTION : QS_DEATH_BUDGET;
            out->dead[out->ndeaths - 1] = *o;
            out->dead[out->ndeaths - 1].genome = NULL;
        }
    }
    sum->best_accuracy = st.best_accuracy;
    sum->best_id = st.best_id;
    if (!st.accuracy.n) /* vanilla only: best by fitness */
        sum->best_id = n ? pop->orgs[rank[0]].id : 0;
    out->best_fitness = n ? pop->orgs[rank[0]].fitness : NAN;
    sum->births = out->nbirths;
    sum->deaths = out->ndeaths;
    sum->mean_accuracy = qs_genstats_mean(&st.accuracy);
    sum->mean_rel_err = qs_genstats_mean(&st.rel_err);
    sum->mean_r2 = qs_genstats_mean(&st.r2);
    sum->mean_link_r2 = qs_genstats_mean(&st.link_r2);
    pop->deaths += out->ndeaths;
    pop->flops_total += sum->flops;
}

/* The next plan replaces the population's organisms: the elites (kept, living again) and
 * the children next[0..nnext) (moved), by id; out gets who is alive next and the species
 * that die out. */
static void next_plan(qs_population_t *pop, int last, const char *kept, uint32_t nelite,
                      qs_org_t *next, uint32_t nnext, qs_generation_out_t *out)
{
    uint32_t n = pop->norgs;
    uint32_t alive_next[QS_MAX_SPECIES] = {0};
    qs_org_t *plan = xmalloc((nelite + nnext + 1) * sizeof *plan);
    uint32_t nplan = 0;
    for (uint32_t i = 0; i < n; i++) {
        qs_org_t *o = &pop->orgs[i];
        if (kept[i]) {
            qs_org_t *e = &plan[nplan++];
            *e = *o;
            e->newborn = 0;
            e->done = 0;
            e->has_link = 0;
            e->mutated = 0;
            e->flops = 0;
            e->prior_fitness = o->fitness;
            alive_next[o->species]++;
            o->genome = NULL; /* moved */
        }
    }
    for (uint32_t k = 0; k < nnext; k++) {
        plan[nplan++] = next[k];
        alive_next[next[k].species]++;
    }
    qsort(plan, nplan, sizeof *plan, by_id);
    memcpy(out->alive_next, alive_next, sizeof alive_next);
    for (uint32_t s = 0; s < pop->sc->nspecies; s++)
        if (!last && out->summary.species_count[s] > 0 && alive_next[s] == 0)
            out->extinct |= 1u << s;
    for (uint32_t i = 0; i < n; i++)
        free(pop->orgs[i].genome);
    free(pop->orgs);
    pop->orgs = plan;
    pop->norgs = pop->cap = nplan;
    if (!pop->cap) {
        pop->orgs = xrealloc(pop->orgs, sizeof *pop->orgs);
        pop->cap = 1;
    }
}

void qs_population_advance(qs_population_t *pop, int last, qs_generation_out_t *out)
{
    const qs_scenario_t *sc = pop->sc;
    uint32_t n = pop->norgs, g = pop->generation;
    memset(out, 0, sizeof *out);
    for (uint32_t i = 0; i < n; i++) { /* the lives are over: their results become them */
        qs_org_t *o = &pop->orgs[i];
        free(o->genome);
        o->genome = o->result;
        o->result = NULL;
    }
    update_best(pop);

    /* Rank everyone. */
    uint32_t *rank = xmalloc((n ? n : 1) * sizeof *rank);
    for (uint32_t i = 0; i < n; i++)
        rank[i] = i;
    cmp_base = pop->orgs;
    qsort(rank, n, sizeof *rank, by_rank);

    /* Elites survive. */
    uint32_t nelite = last ? 0 : QS_MIN(sc->elitism, n);
    char *kept = xcalloc(n ? n : 1, 1);
    uint64_t params = 0;
    for (uint32_t k = 0; k < nelite; k++) {
        kept[rank[k]] = 1;
        params += pop->cost[pop->orgs[rank[k]].species].nparams;
    }

    /* Balances after life (an unlimited budget never runs out). */
    uint64_t *balance = xmalloc((n ? n : 1) * sizeof *balance);
    for (uint32_t i = 0; i < n; i++) {
        const qs_org_t *o = &pop->orgs[i];
        balance[i] = o->allowance == UINT64_MAX ? UINT64_MAX : o->allowance - o->flops;
    }

    /* Children, then the immigrants in the places left. */
    qs_org_t *next = xmalloc((sc->population + pop->nimmigrants + 1) * sizeof *next);
    uint32_t nnext = 0;
    uint32_t slots =
        breed(pop, rank, last ? 0 : sc->population - nelite, balance, &params, next, &nnext);
    if (!last && pop->nimmigrants)
        immigrate(pop, next, &nnext, slots, &params, out);
    free_immigrants(pop);
    for (uint32_t k = 0; k < nnext; k++)
        next[k].id = take_id(pop);
    pop->births += nnext;

    generation_records(pop, last, kept, rank, out);
    next_plan(pop, last, kept, nelite, next, nnext, out);
    pop->generation = g + 1;
    free(next);
    free(balance);
    free(kept);
    free(rank);
}

void qs_population_task(const qs_population_t *pop, uint32_t i, uint64_t task_id,
                        qs_life_task_t *task)
{
    const qs_org_t *o = &pop->orgs[i];
    memset(task, 0, sizeof *task);
    task->task_id = task_id;
    task->kind = pop->echo ? QS_TASK_ECHO : o->newborn ? QS_TASK_BIRTH : QS_TASK_LIVE;
    task->organism = o->id;
    task->parent = o->newborn ? o->parent : 0;
    task->generation = pop->generation;
    task->species = o->species;
    task->steps = o->steps;
    task->life_stream = o->life_stream;
    task->mutation_stream = o->mutation_stream;
    task->nweights = (uint32_t)pop->cost[o->species].nparams;
    task->weights = o->genome;
}

/* ---- checkpoints ----------------------------------------------------------------------------- */

void qs_population_org_checkpoint(const qs_org_t *o, size_t n, qs_ckpt_org_t *c)
{
    memset(c, 0, sizeof *c);
    c->id = o->id;
    c->parent = o->parent;
    c->species = o->species;
    c->born = o->born;
    c->newborn = o->newborn;
    c->prior_fitness = o->prior_fitness;
    c->flops_total = o->flops_total;
    c->accuracy = o->accuracy;
    c->fitness = o->fitness;
    c->fidelity = o->fidelity;
    c->nweights = (uint32_t)n;
    c->weights = o->genome;
}

static void org_from_ckpt(qs_org_t *o, qs_ckpt_org_t *c)
{
    memset(o, 0, sizeof *o);
    o->id = c->id;
    o->parent = c->parent;
    o->species = c->species;
    o->born = c->born;
    o->newborn = c->newborn;
    o->prior_fitness = c->prior_fitness;
    o->flops_total = c->flops_total;
    o->accuracy = c->accuracy;
    o->fitness = c->fitness;
    o->fidelity = c->fidelity;
    o->genome = c->weights;
    c->weights = NULL;
}

void qs_population_name_best(qs_population_t *pop, uint64_t id, double fitness, uint32_t generation)
{
    qs_org_t o = {.id = id, .fitness = fitness};
    if (pop->has_best && !better(&o, &pop->best) &&
        !(o.id == pop->best.id && o.fitness > pop->best.fitness))
        return; /* as update_best: never a worse one */
    free(pop->best.genome);
    pop->best = o;
    pop->has_best = 1;
    pop->best_generation = generation;
    pop->best_changed = 1;
}

void qs_population_fill_best(qs_population_t *pop, const qs_ckpt_org_t *best)
{
    if (!pop->has_best || pop->best.id != best->id || pop->best.genome)
        return;
    size_t bytes = (size_t)best->nweights * sizeof(float);
    pop->best.parent = best->parent;
    pop->best.species = best->species;
    pop->best.born = best->born;
    pop->best.flops_total = best->flops_total;
    pop->best.accuracy = best->accuracy;
    pop->best.fidelity = best->fidelity;
    pop->best.genome = memcpy(xmalloc(bytes ? bytes : 1), best->weights, bytes);
}

void qs_population_checkpoint(const qs_population_t *pop, qs_checkpoint_t *c)
{
    memset(c, 0, sizeof *c);
    c->seed = pop->sc->seed;
    c->generation = pop->generation;
    c->next_id = pop->next_id;
    c->births = pop->births;
    c->deaths = pop->deaths;
    c->flops_total = pop->flops_total;
    c->norgs = pop->norgs;
    c->orgs = xcalloc(pop->norgs ? pop->norgs : 1, sizeof *c->orgs);
    for (uint32_t i = 0; i < pop->norgs; i++)
        qs_population_org_checkpoint(&pop->orgs[i], pop->cost[pop->orgs[i].species].nparams,
                                     &c->orgs[i]);
    if (pop->has_best) {
        c->has_best = 1;
        c->best_generation = pop->best_generation;
        qs_population_org_checkpoint(&pop->best, pop->cost[pop->best.species].nparams, &c->best);
    }
}

void qs_population_checkpoint_release(qs_checkpoint_t *c)
{
    free(c->orgs);
    memset(c, 0, sizeof *c);
}

static int check_ckpt_org(const qs_population_t *pop, const qs_ckpt_org_t *o, qs_error_t *err)
{
    if (o->species >= pop->sc->nspecies)
        return qs_error_set(err, QS_ERR(MISMATCH),
                            "checkpoint: organism %llu belongs to species %u; the scenario has %u",
                            (unsigned long long)o->id, o->species, pop->sc->nspecies);
    if (o->nweights != pop->cost[o->species].nparams)
        return qs_error_set(
            err, QS_ERR(MISMATCH), "checkpoint: organism %llu has %u weights; species %s has %llu",
            (unsigned long long)o->id, o->nweights, pop->sc->species[o->species].name,
            (unsigned long long)pop->cost[o->species].nparams);
    if (o->id >= pop->next_id)
        return qs_error_set(err, QS_ERR(MISMATCH),
                            "checkpoint: organism %llu is not below next_id %llu",
                            (unsigned long long)o->id, (unsigned long long)pop->next_id);
    return 0;
}

int qs_population_restore(qs_population_t *pop, const qs_scenario_t *sc, qs_checkpoint_t *c,
                          qs_error_t *err)
{
    return qs_population_restore_island(pop, sc, 0, 1, c, err);
}

int qs_population_restore_island(qs_population_t *pop, const qs_scenario_t *sc, uint32_t island,
                                 uint32_t nislands, qs_checkpoint_t *c, qs_error_t *err)
{
    memset(pop, 0, sizeof *pop);
    pop->sc = sc;
    pop->island = island;
    pop->nislands = nislands ? nislands : 1;
    qs_population_costs(sc, pop->cost);
    pop->generation = c->generation;
    pop->next_id = c->next_id;
    pop->births = c->births;
    pop->deaths = c->deaths;
    pop->flops_total = c->flops_total;
    for (uint32_t i = 0; i < c->norgs; i++) {
        int rc = check_ckpt_org(pop, &c->orgs[i], err);
        if (rc < 0)
            return rc;
    }
    if (c->has_best) {
        int rc = check_ckpt_org(pop, &c->best, err);
        if (rc < 0)
            return rc;
    }
    reserve(pop, c->norgs ? c->norgs : 1);
    for (uint32_t i = 0; i < c->norgs; i++)
        org_from_ckpt(&pop->orgs[pop->norgs++], &c->orgs[i]);
    if (c->has_best) {
        org_from_ckpt(&pop->best, &c->best);
        pop->has_best = 1;
        pop->best_generation = c->best_generation;
    }
    return 0;
}

void qs_population_genome(const qs_population_t *pop, const qs_org_t *o, float *weights,
                          qs_genome_t *g)
{
    memset(g, 0, sizeof *g);
    g->id = o->id;
    g->nparents = o->parent ? 1 : 0;
    g->parents[0] = o->parent;
    g->generation = o->born; /* of birth (PROTOCOL.md), as phylogeny.csv's origin_time */
    snprintf(g->species, sizeof g->species, "%s", pop->sc->species[o->species].name);
    g->spec = qs_scenario_spec(pop->sc, o->species);
    g->nweights = (uint32_t)pop->cost[o->species].nparams;
    g->weights = weights;
    g->metrics.present = 1;
    g->metrics.accuracy = o->accuracy;
    g->metrics.l_sr = o->fidelity.l_sr;
    g->metrics.rel_err = o->fidelity.rel_err;
    g->metrics.r2 = o->fidelity.r2;
}
