/* Tests for sim/population: founders, budgets, results, selection, capacity, extinction,
 * and that the outcome does not depend on the order in which results arrive. */
#include <criterion/criterion.h>
#include <math.h>
#include <string.h>

#include "sim/population.h"
#include "tests/sim/poputil.h"

Test(population, founders_in_species_order_and_deterministic)
{
    qs_scenario_t *sc = pu_scenario("[species.a]\nhidden = 8\ncount = 3\n"
                                    "[species.b]\nhidden = 4\ncount = 2\n");
    qs_population_t p1, p2;
    qs_population_init(&p1, sc);
    qs_population_init(&p2, sc);
    cr_assert_eq(p1.norgs, 5);
    for (uint32_t i = 0; i < 5; i++) {
        cr_assert_eq(p1.orgs[i].id, i + 1);
        cr_assert_eq(p1.orgs[i].species, i < 3 ? 0u : 1u);
        cr_assert_eq(p1.orgs[i].parent, 0);
        size_t n = p1.cost[p1.orgs[i].species].nparams;
        cr_assert_arr_eq(p1.orgs[i].genome, p2.orgs[i].genome, n * sizeof(float));
    }
    cr_assert_neq(memcmp(p1.orgs[0].genome, p1.orgs[1].genome, 8 * sizeof(float)), 0,
                  "founders differ from each other");
    qs_population_destroy(&p1);
    qs_population_destroy(&p2);
    free(sc);
}

Test(population, unlimited_budget_gives_every_step)
{
    qs_scenario_t *sc = pu_scenario("[life]\nsteps = 77\n[species.a]\nhidden = 8\ncount = 4\n");
    qs_population_t p;
    qs_population_init(&p, sc);
    qs_population_budget(&p);
    for (uint32_t i = 0; i < p.norgs; i++)
        cr_assert_eq(p.orgs[i].steps, 77);
    qs_population_destroy(&p);
    free(sc);
}

Test(population, budget_shares_are_exact)
{
    qs_scenario_t *sc = pu_scenario("[life]\nsteps = 1000000\n[budget]\n"
                                    "flops_per_generation = 123456789\n"
                                    "[species.a]\nhidden = 8\ncount = 3\n"
                                    "[species.b]\nhidden = 16\ncount = 2\n");
    qs_population_t p;
    qs_population_init(&p, sc);
    qs_population_budget(&p);
    uint64_t total = 0;
    for (uint32_t i = 0; i < p.norgs; i++) {
        const qs_org_t *o = &p.orgs[i];
        const qs_species_cost_t *c = &p.cost[o->species];
        total += o->allowance;
        cr_assert_eq(o->allowance, 123456789 / 5);
        /* It reserves one replication and learns with the rest, and no more. */
        cr_assert_leq(o->steps * c->step_flops + c->replication_flops, o->allowance);
        cr_assert_gt((o->steps + 1) * c->step_flops + c->replication_flops, o->allowance);
    }
    cr_assert_leq(total, 123456789);
    cr_assert_gt(p.orgs[0].steps, p.orgs[4].steps, "the smaller species affords more steps");
    qs_population_destroy(&p);
    free(sc);
}

Test(population, rejects_bad_results)
{
    qs_scenario_t *sc = pu_scenario("[species.a]\nhidden = 8\ncount = 2\n");
    qs_population_t p;
    qs_population_init(&p, sc);
    qs_population_budget(&p);
    qs_life_result_t r;
    qs_error_t err = {0};
    pu_fake_result(&p, 0, 0.5, &r);
    r.organism = 99;
    cr_assert_eq(qs_population_apply(&p, &r, &err), QS_ERR(MISMATCH));
    cr_assert(strstr(err.msg, "organism 99"), "%s", err.msg);
    r.organism = 1;
    /* What no true worker could send (qs_life_result_check): a peer's fault. */
    r.nweights--;
    cr_assert_eq(qs_population_apply(&p, &r, &err), QS_ERR(PEER));
    cr_assert(strstr(err.msg, "weights"), "%s", err.msg);
    r.nweights++;
    r.steps++;
    cr_assert_eq(qs_population_apply(&p, &r, &err), QS_ERR(PEER));
    cr_assert(strstr(err.msg, "steps"), "%s", err.msg);
    r.steps--;
    r.weights[1] = NAN;
    cr_assert_eq(qs_population_apply(&p, &r, &err), QS_ERR(PEER));
    cr_assert(strstr(err.msg, "weight 1 is nan"), "%s", err.msg);
    r.weights[1] = p.orgs[0].genome[1] + 1.0f;
    cr_assert_eq(qs_population_apply(&p, &r, &err), 0, "%s", err.msg);
    cr_assert_null(r.weights, "apply takes the weights");
    pu_fake_result(&p, 0, 0.5, &r);
    cr_assert_eq(qs_population_apply(&p, &r, &err), QS_ERR(MISMATCH));
    cr_assert(strstr(err.msg, "second result"), "%s", err.msg);
    free(r.weights);
    qs_population_destroy(&p);
    free(sc);
}

/* Advance one generation, returning the outcome. */
static void run_generation(qs_population_t *p, int reverse, int last, qs_generation_out_t *out)
{
    qs_population_budget(p);
    pu_apply_all(p, reverse);
    qs_population_advance(p, last, out);
}

Test(population, selection_keeps_elites_and_fills_with_children)
{
    qs_scenario_t *sc = pu_scenario("[selection]\nelitism = 2\npopulation = 6\n"
                                    "[species.a]\nhidden = 8\ncount = 6\n");
    qs_population_t p;
    qs_population_init(&p, sc);
    qs_generation_out_t out;
    run_generation(&p, 0, 0, &out);
    cr_assert_eq(p.norgs, 6);
    cr_assert_eq(p.generation, 1);
    /* elites: the two best of ids 1..6 by acc_by_id: 37,74,11,48,85,22 -> ids 5 and 2 */
    cr_assert_eq(p.orgs[0].id, 2);
    cr_assert_eq(p.orgs[1].id, 5);
    cr_assert_not(p.orgs[0].newborn);
    for (uint32_t i = 2; i < 6; i++) {
        cr_assert(p.orgs[i].newborn);
        cr_assert_eq(p.orgs[i].id, 7 + (i - 2), "children numbered in order");
        cr_assert(p.orgs[i].parent >= 1 && p.orgs[i].parent <= 6);
        cr_assert_eq(p.orgs[i].born, 1);
    }
    /* The elite carries its evolved genome (input + 1 from the fake life). */
    cr_assert_eq(out.ndeaths, 4);
    cr_assert_eq(out.nbirths, 6, "founders are born in generation 0");
    cr_assert_eq(out.summary.best_id, 5);
    cr_assert_float_eq(out.summary.best_accuracy, 0.85, 1e-12);
    for (uint32_t k = 0; k < out.ndeaths; k++)
        cr_assert_eq(out.deaths[k].cause, QS_DEATH_SELECTION);
    qs_generation_out_destroy(&out);
    qs_population_destroy(&p);
    free(sc);
}

Test(population, outcome_independent_of_result_order)
{
    qs_scenario_t *sc = pu_scenario("[selection]\nelitism = 1\n"
                                    "[species.a]\nhidden = 8\ncount = 8\n"
                                    "[species.b]\nhidden = 6\ncount = 4\n");
    qs_population_t a, b;
    qs_population_init(&a, sc);
    qs_population_init(&b, sc);
    for (int g = 0; g < 4; g++) {
        qs_generation_out_t oa, ob;
        run_generation(&a, 0, 0, &oa);
        run_generation(&b, 1, 0, &ob);
        cr_assert_eq(a.norgs, b.norgs);
        for (uint32_t i = 0; i < a.norgs; i++) {
            cr_assert_eq(a.orgs[i].id, b.orgs[i].id);
            cr_assert_eq(a.orgs[i].parent, b.orgs[i].parent);
            size_t n = a.cost[a.orgs[i].species].nparams;
            cr_assert_arr_eq(a.orgs[i].genome, b.orgs[i].genome, n * sizeof(float));
        }
        cr_assert_eq(oa.ndeaths, ob.ndeaths);
        qs_generation_out_destroy(&oa);
        qs_generation_out_destroy(&ob);
    }
    qs_population_destroy(&a);
    qs_population_destroy(&b);
    free(sc);
}

Test(population, truncation_draws_only_the_top)
{
    qs_scenario_t *sc = pu_scenario("[selection]\nmethod = truncation\nsize = 2\nelitism = 0\n"
                                    "population = 20\n[species.a]\nhidden = 8\ncount = 20\n");
    qs_population_t p;
    qs_population_init(&p, sc);
    qs_generation_out_t out;
    run_generation(&p, 0, 0, &out);
    /* acc_by_id over ids 1..20: the top two are id 8 (0.96) and id 19 (0.03 + ...): compute */
    uint64_t best1 = 0, best2 = 0;
    for (uint64_t id = 1; id <= 20; id++) {
        if (!best1 || pu_acc_by_id(id) > pu_acc_by_id(best1)) {
            best2 = best1;
            best1 = id;
        } else if (!best2 || pu_acc_by_id(id) > pu_acc_by_id(best2)) {
            best2 = id;
        }
    }
    for (uint32_t i = 0; i < p.norgs; i++)
        cr_assert(p.orgs[i].parent == best1 || p.orgs[i].parent == best2, "parent %llu",
                  (unsigned long long)p.orgs[i].parent);
    qs_generation_out_destroy(&out);
    qs_population_destroy(&p);
    free(sc);
}

Test(population, tournament_prefers_the_fit)
{
    qs_scenario_t *sc = pu_scenario("[selection]\nsize = 4\nelitism = 0\npopulation = 200\n"
                                    "[species.a]\nhidden = 4\ncount = 200\n");
    qs_population_t p;
    qs_population_init(&p, sc);
    qs_generation_out_t out;
    run_generation(&p, 0, 0, &out);
    double mean_parent = 0;
    for (uint32_t i = 0; i < p.norgs; i++)
        mean_parent += pu_acc_by_id(p.orgs[i].parent);
    mean_parent /= p.norgs;
    /* Population mean fitness is ~0.495; a 4-way tournament's winner averages ~0.8. */
    cr_assert_gt(mean_parent, 0.7, "mean parent fitness %.3f", mean_parent);
    qs_generation_out_destroy(&out);
    qs_population_destroy(&p);
    free(sc);
}

Test(population, capacity_limits_the_big_species)
{
    /* small: 4x4+4+40 = 60 params; big: 2*32*32+32+320 = 2400. Capacity 5000 holds the two
     * founders (2460) and at most one more big one. */
    qs_scenario_t *sc = pu_scenario("[selection]\nelitism = 0\npopulation = 10\n"
                                    "[budget]\nmax_params = 5000\n"
                                    "[species.small]\nhidden = 4\ndepth = 1\ncount = 1\n"
                                    "[species.big]\nhidden = 32\ncount = 1\n");
    qs_population_t p;
    qs_population_init(&p, sc);
    cr_assert_eq(p.cost[0].nparams, 60);
    cr_assert_eq(p.cost[1].nparams, 2400);
    for (int g = 0; g < 3; g++) {
        qs_generation_out_t out;
        run_generation(&p, 0, 0, &out);
        uint64_t params = 0;
        uint32_t big = 0;
        for (uint32_t i = 0; i < p.norgs; i++) {
            params += p.cost[p.orgs[i].species].nparams;
            big += p.orgs[i].species == 1;
        }
        cr_assert_leq(params, 5000, "capacity respected");
        cr_assert_leq(big, 2);
        /* Places are filled until the population is full or not even a small one fits. */
        cr_assert(p.norgs == 10 || params + 60 > 5000, "%u organisms, %llu params", p.norgs,
                  (unsigned long long)params);
        qs_generation_out_destroy(&out);
    }
    qs_population_destroy(&p);
    free(sc);
}

Test(population, no_budget_for_replication_means_extinction)
{
    /* A budget too small to pay for one replication: nobody reproduces. */
    qs_scenario_t *sc =
        pu_scenario("[selection]\nelitism = 0\n[budget]\nflops_per_generation = 10\n"
                    "[species.a]\nhidden = 8\ncount = 3\n");
    qs_population_t p;
    qs_population_init(&p, sc);
    qs_generation_out_t out;
    run_generation(&p, 0, 0, &out);
    cr_assert_eq(p.norgs, 0);
    cr_assert_eq(out.ndeaths, 3);
    for (uint32_t k = 0; k < 3; k++)
        cr_assert_eq(out.deaths[k].cause, QS_DEATH_BUDGET);
    cr_assert_eq(out.extinct, 1u);
    qs_generation_out_destroy(&out);
    qs_population_destroy(&p);
    free(sc);
}

Test(population, last_generation_ends_everyone)
{
    qs_scenario_t *sc = pu_scenario("[species.a]\nhidden = 8\ncount = 3\n");
    qs_population_t p;
    qs_population_init(&p, sc);
    qs_generation_out_t out;
    run_generation(&p, 0, 1, &out);
    cr_assert_eq(p.norgs, 0);
    cr_assert_eq(out.ndeaths, 3);
    for (uint32_t k = 0; k < 3; k++)
        cr_assert_eq(out.deaths[k].cause, QS_DEATH_END);
    cr_assert(p.has_best);
    cr_assert_eq(p.best.id, 2, "id 2 has the best acc_by_id among 1..3 (0.74)");
    qs_generation_out_destroy(&out);
    qs_population_destroy(&p);
    free(sc);
}
