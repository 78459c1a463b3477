/* poputil: scenarios and fake lives for the population and islands tests, which drive
 * sim/population without workers. */
#ifndef QS_TESTS_POPUTIL_H
#define QS_TESTS_POPUTIL_H

#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "sim/population.h"

/* A validated scenario from INI text (malloc'ed). */
static inline qs_scenario_t *pu_scenario(const char *text)
{
    qs_scenario_t *sc = calloc(1, sizeof *sc);
    qs_error_t err = {0};
    qs_scenario_defaults(sc);
    cr_assert_eq(qs_scenario_parse_string(sc, text, "t.ini", &err), 0, "%s", err.msg);
    cr_assert_eq(qs_scenario_validate(sc, &err), 0, "%s", err.msg);
    return sc;
}

/* Figures of theta whose R^2 is r2 (to rounding), consistent with theta as a worker's
 * must be (qs_life_result_check). */
static inline void pu_fidelity(qs_fidelity_t *f, const float *theta, size_t n, double r2)
{
    qs_fidelity_derive(f, 1.0, theta, n); /* r2 = 1 - 1 / ss_tot */
    double ss_tot = f->r2 < 1 ? 1.0 / (1.0 - f->r2) : 0;
    qs_fidelity_derive(f, (1.0 - r2) * ss_tot, theta, n);
}

/* A result for entry i: the given accuracy, weights = input + 1, R^2 0.5 (and a link of
 * R^2 0.9 for a newborn). */
static inline void pu_fake_result(const qs_population_t *pop, uint32_t i, double accuracy,
                                  qs_life_result_t *r)
{
    const qs_org_t *o = &pop->orgs[i];
    size_t n = pop->cost[o->species].nparams;
    memset(r, 0, sizeof *r);
    r->organism = o->id;
    r->steps = o->steps;
    r->accuracy = accuracy;
    r->has_link = o->newborn;
    r->link.r2 = NAN;
    if (o->newborn)
        pu_fidelity(&r->link, o->genome, n, 0.9);
    r->nweights = (uint32_t)n;
    r->weights = malloc(n * sizeof(float));
    for (size_t k = 0; k < n; k++)
        r->weights[k] = o->genome[k] + 1.0f;
    pu_fidelity(&r->fidelity, r->weights, n, 0.5);
}

/* A fixed, id-dependent accuracy. */
static inline double pu_acc_by_id(uint64_t id)
{
    return (double)((id * 37) % 100) / 100.0;
}

/* Fake every life of the plan (accuracy by id), in reverse order if asked. */
static inline void pu_apply_all(qs_population_t *pop, int reverse)
{
    for (uint32_t k = 0; k < pop->norgs; k++) {
        uint32_t i = reverse ? pop->norgs - 1 - k : k;
        qs_life_result_t r;
        pu_fake_result(pop, i, pu_acc_by_id(pop->orgs[i].id), &r);
        qs_error_t err = {0};
        cr_assert_eq(qs_population_apply(pop, &r, &err), 0, "%s", err.msg);
        free(r.weights);
    }
    cr_assert(qs_population_complete(pop));
}

#endif
