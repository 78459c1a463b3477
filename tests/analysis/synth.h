/* synth: a synthetic run's lineage records, for the analysis tests and the bench.
 *
 * A small, deterministic stand-in for the simulator's bookkeeping (sim/population.c):
 * founders 1..F in species order; each generation every living organism is evaluated,
 * the `elitism` best (accuracy, then lower id) survive, the other places go to children
 * of parents drawn from the better half, and everyone not kept dies (cause SELECTION, or
 * END in the last generation). Records come out in the simulator's order: births, evals,
 * deaths, one summary per generation, then an end record. The generator keeps the
 * truths a test checks against (counts, extinctions). Memory: the living only. */
#ifndef QS_TEST_SYNTH_H
#define QS_TEST_SYNTH_H

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto/lineage.h"

typedef struct {
    uint32_t nspecies;
    uint32_t founders[QS_MAX_SPECIES];
    double handicap[QS_MAX_SPECIES]; /* subtracted from a species' accuracy */
    uint32_t generations, population, elitism;
    uint64_t seed;
    int vanilla;          /* accuracy NaN for everyone (fitness falls back to r2) */
    const char *scenario; /* more scenario text after the header's own (NULL: none) */
} synth_params_t;

typedef struct {
    uint64_t births, founders, deaths_selection, deaths_end, evals, records;
    uint32_t last_alive_gen[QS_MAX_SPECIES]; /* last generation with a living member */
    uint32_t alive_at_end[QS_MAX_SPECIES];
    uint64_t flops;
} synth_truth_t;

typedef void (*synth_emit_fn)(const qs_record_t *r, void *ctx);

typedef struct {
    uint64_t id, parent;
    uint32_t species, born;
    double acc;
} synth_org_t;

static inline uint64_t synth_mix(uint64_t x)
{
    x += 0x9E3779B97F4A7C15ull;
    x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
    x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
    return x ^ (x >> 31);
}

/* Accuracy of organism id: its parent's plus a small deterministic step. */
static inline double synth_acc(const synth_params_t *p, uint64_t id, double parent_acc,
                               uint32_t species)
{
    double u = (double)(synth_mix(p->seed ^ id) >> 11) / 9007199254740992.0;
    double a = (parent_acc > 0 ? parent_acc : 0.1 + 0.2 * u) + (u - 0.4) * 0.05;
    a -= parent_acc > 0 ? 0 : p->handicap[species];
    return a < 0 ? 0 : a > 1 ? 1 : a;
}

static int synth_cmp_rank(const void *a, const void *b)
{
    const synth_org_t *x = a, *y = b;
    if (x->acc != y->acc)
        return x->acc > y->acc ? -1 : 1;
    return x->id < y->id ? -1 : x->id > y->id;
}

static int synth_cmp_id(const void *a, const void *b)
{
    const synth_org_t *x = a, *y = b;
    return x->id < y->id ? -1 : x->id > y->id;
}

static inline void synth_header(const synth_params_t *p, synth_emit_fn emit, void *ctx)
{
    qs_record_t r;
    memset(&r, 0, sizeof r);
    r.type = QS_REC_HEADER;
    r.u.header.version = QS_LINEAGE_VERSION;
    snprintf(r.u.header.run_name, sizeof r.u.header.run_name, "synth");
    r.u.header.seed = p->seed;
    r.u.header.nspecies = p->nspecies;
    for (uint32_t s = 0; s < p->nspecies; s++) {
        snprintf(r.u.header.species[s], QS_NAME_MAX, "sp%u", s);
        r.u.header.species_params[s] = 1000 + s;
    }
    char scen[1024];
    snprintf(scen, sizeof scen,
             "[run]\nname = synth\ngenerations = %u\n[selection]\nfitness = %s\n%s", p->generations,
             p->vanilla ? "fidelity" : "accuracy", p->scenario ? p->scenario : "");
    r.u.header.scenario = scen;
    emit(&r, ctx);
}

/* Emit the whole run; fills *t. */
static inline void synth_run(const synth_params_t *p, synth_emit_fn emit, void *ctx,
                             synth_truth_t *t)
{
    memset(t, 0, sizeof *t);
    synth_header(p, emit, ctx);
    t->records++;
    uint32_t cap = 0;
    for (uint32_t s = 0; s < p->nspecies; s++)
        cap += p->founders[s];
    cap = cap > p->population ? cap : p->population;
    synth_org_t *alive = malloc((cap + 1) * sizeof *alive);
    synth_org_t *next = malloc((cap + 1) * sizeof *next);
    uint32_t n = 0;
    uint64_t next_id = 1;
    for (uint32_t s = 0; s < p->nspecies; s++)
        for (uint32_t k = 0; k < p->founders[s]; k++) {
            synth_org_t *o = &alive[n++];
            o->id = next_id++;
            o->parent = 0;
            o->species = s;
            o->born = 0;
            o->acc = synth_acc(p, o->id, 0, s);
        }
    uint64_t lcg = p->seed * 6364136223846793005ull + 1;
    for (uint32_t g = 0; g < p->generations && n > 0; g++) {
        int last = g + 1 == p->generations;
        qs_record_t r;
        qs_rec_generation_t sum;
        memset(&sum, 0, sizeof sum);
        sum.generation = g;
        sum.population = n;
        sum.nspecies = p->nspecies;
        sum.best_accuracy = NAN;
        for (uint32_t i = 0; i < n; i++) { /* births (alive is sorted by id) */
            if (alive[i].born != g)
                continue;
            memset(&r, 0, sizeof r);
            r.type = QS_REC_BIRTH;
            r.u.birth.id = alive[i].id;
            r.u.birth.parent = alive[i].parent;
            r.u.birth.generation = g;
            r.u.birth.species = alive[i].species;
            r.u.birth.has_link = alive[i].parent != 0;
            r.u.birth.link_r2 = alive[i].parent ? 0.9 + 0.05 * alive[i].acc : NAN;
            r.u.birth.link_rel_err = alive[i].parent ? 0.1 - 0.05 * alive[i].acc : NAN;
            r.u.birth.link_l_sr = r.u.birth.link_rel_err;
            emit(&r, ctx);
            t->records++;
            t->births++;
            t->founders += alive[i].parent == 0;
            sum.births++;
        }
        double acc_sum = 0;
        for (uint32_t i = 0; i < n; i++) { /* evaluations */
            memset(&r, 0, sizeof r);
            r.type = QS_REC_EVAL;
            r.u.eval.id = alive[i].id;
            r.u.eval.generation = g;
            r.u.eval.accuracy = p->vanilla ? NAN : alive[i].acc;
            r.u.eval.r2 = 0.5 + 0.4 * alive[i].acc;
            r.u.eval.rel_err = 0.5 - 0.4 * alive[i].acc;
            r.u.eval.l_sr = r.u.eval.rel_err;
            r.u.eval.steps = 10;
            r.u.eval.flops = 1000 + alive[i].species;
            emit(&r, ctx);
            t->records++;
            t->evals++;
            t->flops += r.u.eval.flops;
            sum.flops += r.u.eval.flops;
            sum.species_count[alive[i].species]++;
            t->last_alive_gen[alive[i].species] = g;
            acc_sum += alive[i].acc;
            if (!p->vanilla && !(sum.best_accuracy >= alive[i].acc)) {
                sum.best_accuracy = alive[i].acc;
                sum.best_id = alive[i].id;
            }
        }
        sum.mean_accuracy = p->vanilla ? NAN : acc_sum / n;
        /* Selection: rank, keep the elites, children of the better half. */
        synth_org_t *ranked = malloc(n * sizeof *ranked);
        memcpy(ranked, alive, n * sizeof *ranked);
        qsort(ranked, n, sizeof *ranked, synth_cmp_rank);
        uint32_t nelite = last ? 0 : (p->elitism < n ? p->elitism : n);
        uint32_t nn = 0;
        for (uint32_t k = 0; k < nelite; k++)
            next[nn++] = ranked[k];
        uint32_t half = (n + 1) / 2;
        uint32_t nchildren = last ? 0 : p->population - nelite;
        for (uint32_t k = 0; k < nchildren; k++) {
            lcg = lcg * 6364136223846793005ull + 1442695040888963407ull;
            const synth_org_t *par = &ranked[(lcg >> 33) % half];
            synth_org_t *c = &next[nn++];
            c->id = next_id++;
            c->parent = par->id;
            c->species = par->species;
            c->born = g + 1;
            c->acc = synth_acc(p, c->id, par->acc, par->species);
        }
        for (uint32_t i = 0; i < n; i++) { /* deaths: everyone not kept, by id */
            int kept = 0;
            for (uint32_t k = 0; k < nelite; k++)
                kept |= ranked[k].id == alive[i].id;
            if (kept)
                continue;
            memset(&r, 0, sizeof r);
            r.type = QS_REC_DEATH;
            r.u.death.id = alive[i].id;
            r.u.death.generation = g;
            r.u.death.cause = last ? QS_DEATH_END : QS_DEATH_SELECTION;
            emit(&r, ctx);
            t->records++;
            sum.deaths++;
            if (last) {
                t->deaths_end++;
                t->alive_at_end[alive[i].species]++;
            } else {
                t->deaths_selection++;
            }
        }
        free(ranked);
        sum.wall_seconds = 0.5;
        sum.workers = 2;
        sum.params_alive = 1000ull * n;
        memset(&r, 0, sizeof r);
        r.type = QS_REC_GENERATION;
        r.u.generation = sum;
        emit(&r, ctx);
        t->records++;
        qsort(next, nn, sizeof *next, synth_cmp_id);
        memcpy(alive, next, nn * sizeof *alive);
        n = nn;
    }
    qs_record_t e;
    memset(&e, 0, sizeof e);
    e.type = QS_REC_END;
    e.u.end.generations = p->generations;
    snprintf(e.u.end.reason, sizeof e.u.end.reason, "completed");
    emit(&e, ctx);
    t->records++;
    free(alive);
    free(next);
}

#endif
