/* Tests for sim/islands without workers: shares and ids, topologies, emigrants,
 * immigrants and whom they replace, independence from the order of results, one island
 * as the central population, and checkpoints. */
#include <criterion/criterion.h>

#include "proto/checkpoint.h"
#include "sim/islands.h"
#include "tests/sim/poputil.h"

/* Budget, fake every life (accuracy by id; in reverse order if asked) and advance. */
static void run_generation(qs_islands_t *isl, int reverse, int last, qs_islands_out_t *out)
{
    uint32_t n = qs_islands_budget(isl);
    for (uint32_t k = 0; k < n; k++) {
        uint32_t index = reverse ? n - 1 - k : k;
        const qs_org_t *o = qs_islands_entry(isl, index);
        const qs_population_t *p = &isl->pop[qs_island_of(o->id, isl->n)];
        qs_life_result_t r;
        pu_fake_result(p, (uint32_t)(o - p->orgs), pu_acc_by_id(o->id), &r);
        qs_error_t err = {0};
        cr_assert_eq(qs_islands_apply(isl, &r, &err), 0, "%s", err.msg);
        free(r.weights);
    }
    qs_islands_advance(isl, last, out);
}

static const char *three = "[run]\nseed = 5\n[selection]\nelitism = 1\npopulation = 12\n"
                           "[islands]\ncount = 3\ninterval = 2\nmigrants = 1\n"
                           "[species.a]\nhidden = 8\ncount = 6\n"
                           "[species.b]\nhidden = 6\ncount = 3\n";

Test(islands_model, founders_dealt_out_with_interleaved_ids)
{
    qs_scenario_t *sc = pu_scenario(three);
    qs_islands_t isl;
    qs_islands_init(&isl, sc);
    cr_assert_eq(isl.n, 3);
    for (uint32_t k = 0; k < 3; k++) {
        const qs_population_t *p = &isl.pop[k];
        cr_assert_eq(p->norgs, 3);
        cr_assert_eq(isl.isc[k].population, 4);
        for (uint32_t i = 0; i < p->norgs; i++) {
            uint64_t id = p->orgs[i].id;
            cr_assert_eq(id, k + 1 + 3 * i, "island %u entry %u", k, i);
            cr_assert_eq(qs_island_of(id, 3), k);
            cr_assert_eq(p->orgs[i].species, id <= 6 ? 0u : 1u, "founder %llu's species",
                         (unsigned long long)id);
        }
    }
    uint64_t founders, births, deaths;
    qs_islands_totals(&isl, &founders, &births, &deaths);
    cr_assert_eq(founders, 9);
    cr_assert_eq(births, 9);
    qs_islands_destroy(&isl);
    free(sc);
}

Test(islands_model, budget_and_capacity_split_or_each)
{
    qs_scenario_t *sc = pu_scenario("[budget]\nflops_per_generation = 1000000001\n"
                                    "max_params = 10000\n[islands]\ncount = 2\nmigrants = 0\n"
                                    "[species.a]\nhidden = 8\ncount = 4\n");
    qs_islands_t isl;
    qs_islands_init(&isl, sc);
    cr_assert_eq(isl.isc[0].flops_per_generation, 500000001);
    cr_assert_eq(isl.isc[1].flops_per_generation, 500000000);
    cr_assert_eq(isl.isc[0].max_params, 5000);
    qs_islands_destroy(&isl);
    sc->budget_share = sc->capacity_share = QS_SHARE_EACH;
    qs_islands_init(&isl, sc);
    cr_assert_eq(isl.isc[1].flops_per_generation, 1000000001);
    cr_assert_eq(isl.isc[1].max_params, 10000);
    qs_islands_destroy(&isl);
    free(sc);
}

/* Every island sends to and receives from `degree` distinct others. */
static void assert_regular(const qs_scenario_t *sc)
{
    uint32_t n = sc->islands, deg = qs_scenario_in_degree(sc);
    uint32_t *adj = malloc((size_t)n * deg * sizeof *adj), *in = calloc(n, sizeof *in);
    qs_islands_topology(sc, adj);
    for (uint32_t k = 0; k < n; k++)
        for (uint32_t d = 0; d < deg; d++) {
            uint32_t to = adj[k * deg + d];
            cr_assert_lt(to, n);
            cr_assert_neq(to, k, "island %u sends to itself", k);
            for (uint32_t e = 0; e < d; e++)
                cr_assert_neq(adj[k * deg + e], to, "island %u sends to %u twice", k, to);
            in[to]++;
        }
    for (uint32_t k = 0; k < n; k++)
        cr_assert_eq(in[k], deg, "island %u receives from %u, not %u", k, in[k], deg);
    free(adj);
    free(in);
}

Test(islands_model, topologies_are_regular_and_seeded)
{
    qs_scenario_t *sc = pu_scenario("[islands]\ncount = 7\nmigrants = 0\n[species.a]\nhidden = 4\n"
                                    "count = 7\n");
    uint32_t ring[7];
    qs_islands_topology(sc, ring);
    for (uint32_t k = 0; k < 7; k++)
        cr_assert_eq(ring[k], (k + 1) % 7);
    sc->topology = QS_TOPO_FULL;
    assert_regular(sc);
    sc->topology = QS_TOPO_RANDOM;
    for (sc->degree = 1; sc->degree <= 6; sc->degree++)
        assert_regular(sc);
    sc->degree = 3;
    uint32_t a[21], b[21], c[21];
    qs_islands_topology(sc, a);
    qs_islands_topology(sc, b);
    cr_assert_arr_eq(a, b, sizeof a, "the same seed, the same graph");
    sc->topology_seed = 99;
    qs_islands_topology(sc, c);
    cr_assert(memcmp(a, c, sizeof a) != 0, "topology_seed changes the graph");
    free(sc);
}

Test(islands_model, emigrants_best_random_tournament)
{
    qs_scenario_t *sc = pu_scenario("[selection]\npopulation = 8\n[species.a]\nhidden = 4\n"
                                    "count = 8\n");
    qs_population_t p;
    qs_population_init(&p, sc);
    qs_population_budget(&p);
    pu_apply_all(&p, 0);
    qs_org_t e[3], f[8];
    /* ids 1..8 have accuracies 37 74 11 48 85 22 59 96 (%) */
    cr_assert_eq(qs_population_emigrants(&p, 3, QS_EMIGRATE_BEST, 2, e), 3);
    cr_assert_eq(e[0].id, 8);
    cr_assert_eq(e[1].id, 5);
    cr_assert_eq(e[2].id, 2);
    size_t np = p.cost[0].nparams;
    cr_assert_arr_eq(e[0].genome, p.orgs[7].result, np * sizeof(float), "the genome after life");
    for (int how = QS_EMIGRATE_RANDOM; how <= QS_EMIGRATE_TOURNAMENT; how++) {
        for (int k = 0; k < 3; k++)
            free(e[k].genome);
        qs_population_emigrants(&p, 3, (qs_emigrate_t)how, 4, e);
        qs_population_emigrants(&p, 3, (qs_emigrate_t)how, 4, f);
        for (int k = 0; k < 3; k++) {
            cr_assert_eq(e[k].id, f[k].id, "the same stream, the same draw");
            for (int j = 0; j < k; j++)
                cr_assert_neq(e[k].id, e[j].id, "an organism emigrates once");
            free(f[k].genome);
        }
    }
    for (int k = 0; k < 3; k++)
        free(e[k].genome);
    cr_assert_eq(qs_population_emigrants(&p, 20, QS_EMIGRATE_BEST, 2, f), 8, "at most all");
    for (int k = 0; k < 8; k++)
        free(f[k].genome);
    qs_population_destroy(&p);
    free(sc);
}

/* After generation 1 (interval 2) island k's plan holds a child of the best of island
 * k-1, born from that organism's genome after its life; the next generation's birth
 * records name it a migrant from there. */
Test(islands_model, migrants_go_round_the_ring)
{
    qs_scenario_t *sc = pu_scenario(three);
    qs_islands_t isl;
    qs_islands_init(&isl, sc);
    qs_islands_out_t out;
    run_generation(&isl, 0, 0, &out);
    cr_assert_eq(out.migrated, 0, "no migration after generation 0");
    qs_islands_out_destroy(&out);
    run_generation(&isl, 0, 0, &out);
    cr_assert_eq(out.migrated, 3);
    uint32_t migrants = 0;
    for (uint32_t k = 0; k < 3; k++) {
        const qs_population_t *p = &isl.pop[k];
        cr_assert_eq(p->norgs, 4, "the places stay the same");
        for (uint32_t i = 0; i < p->norgs; i++) {
            const qs_org_t *o = &p->orgs[i];
            cr_assert_eq(qs_island_of(o->id, 3), k, "an island's ids stay its own");
            if (!o->newborn || qs_island_of(o->parent, 3) == k)
                continue;
            migrants++;
            cr_assert_eq(qs_island_of(o->parent, 3), (k + 2) % 3, "ring: from island k-1");
            /* the parent: the best evaluated on its island in generation 1 */
            const qs_generation_out_t *src = &out.island[(k + 2) % 3];
            double best = -1;
            uint64_t best_id = 0;
            for (uint32_t j = 0; j < src->nevals; j++)
                if (src->evals[j].accuracy > best) {
                    best = src->evals[j].accuracy;
                    best_id = src->evals[j].id;
                }
            cr_assert_eq(o->parent, best_id);
        }
    }
    cr_assert_eq(migrants, 3);
    qs_islands_out_destroy(&out);
    run_generation(&isl, 0, 0, &out);
    uint32_t marked = 0;
    for (uint32_t i = 0; i < out.all.nbirths; i++) {
        const qs_rec_birth_t *b = &out.all.births[i];
        cr_assert_eq(b->island, qs_island_of(b->id, 3));
        if (b->migrant) {
            marked++;
            cr_assert_eq(b->origin_island, qs_island_of(b->parent, 3));
            cr_assert_neq(b->origin_island, b->island);
        }
        if (i > 0)
            cr_assert_gt(b->id, out.all.births[i - 1].id, "records in id order");
    }
    cr_assert_eq(marked, 3);
    qs_islands_out_destroy(&out);
    qs_islands_destroy(&isl);
    free(sc);
}

/* The parent fitnesses of island k's own newborns, highest first. */
static uint32_t own_newborns(const qs_population_t *p, uint32_t k, uint32_t n, double *fit)
{
    uint32_t m = 0;
    for (uint32_t i = 0; i < p->norgs; i++)
        if (p->orgs[i].newborn && qs_island_of(p->orgs[i].parent, n) == k)
            fit[m++] = p->orgs[i].prior_fitness;
    for (uint32_t i = 1; i < m; i++) /* insertion sort, descending */
        for (uint32_t j = i; j > 0 && fit[j] > fit[j - 1]; j--) {
            double t = fit[j];
            fit[j] = fit[j - 1];
            fit[j - 1] = t;
        }
    return m;
}

/* replace = worst: of the newborns selection drew (the same draws as without migration),
 * those of the least fit parents give way to the immigrants, and their parents are not
 * charged for them. */
Test(islands_model, immigrants_replace_the_worst_newborns)
{
    const char *text = "[selection]\nelitism = 1\npopulation = 10\nmethod = roulette\n"
                       "[islands]\ncount = 2\ninterval = 1\nmigrants = 2\n"
                       "[species.a]\nhidden = 4\ncount = 10\n";
    qs_scenario_t *sc = pu_scenario(text), *none = pu_scenario(text);
    none->migrants = 0;
    qs_islands_t isl, ref;
    qs_islands_init(&isl, sc);
    qs_islands_init(&ref, none);
    qs_islands_out_t out, rout;
    run_generation(&isl, 0, 0, &out);
    run_generation(&ref, 0, 0, &rout);
    cr_assert_eq(out.migrated, 4);
    cr_assert_eq(rout.migrated, 0);
    for (uint32_t k = 0; k < 2; k++) {
        const qs_population_t *p = &isl.pop[k];
        double kept[8], drawn[8];
        uint32_t nk = own_newborns(p, k, 2, kept), nd = own_newborns(&ref.pop[k], k, 2, drawn);
        cr_assert_eq(nd, 4, "5 places, 1 elite");
        cr_assert_eq(nk, 2, "2 of them give way to 2 immigrants");
        cr_assert_eq(p->norgs, 5, "the places stay the same");
        for (uint32_t i = 0; i < nk; i++)
            cr_assert_eq(kept[i], drawn[i], "island %u: the fittest parents' newborns stay", k);
        cr_assert_lt(drawn[nd - 1], drawn[0], "the test compares different fitnesses");
        const qs_generation_out_t *g = &out.island[k], *rg = &rout.island[k];
        cr_assert_eq(rg->summary.flops - g->summary.flops, 2 * p->cost[0].replication_flops,
                     "replaced newborns are not charged");
    }
    qs_islands_out_destroy(&out);
    qs_islands_out_destroy(&rout);
    qs_islands_destroy(&isl);
    qs_islands_destroy(&ref);
    free(sc);
    free(none);
}

static void assert_same_islands(const qs_islands_t *a, const qs_islands_t *b)
{
    cr_assert_eq(a->generation, b->generation);
    for (uint32_t k = 0; k < a->n; k++) {
        const qs_population_t *p = &a->pop[k], *q = &b->pop[k];
        cr_assert_eq(p->norgs, q->norgs);
        cr_assert_eq(p->next_id, q->next_id);
        cr_assert_eq(p->births, q->births);
        for (uint32_t i = 0; i < p->norgs; i++) {
            cr_assert_eq(p->orgs[i].id, q->orgs[i].id);
            cr_assert_eq(p->orgs[i].parent, q->orgs[i].parent);
            size_t n = p->cost[p->orgs[i].species].nparams;
            cr_assert_arr_eq(p->orgs[i].genome, q->orgs[i].genome, n * sizeof(float));
        }
    }
}

Test(islands_model, outcome_independent_of_result_order)
{
    qs_scenario_t *sc = pu_scenario(three);
    sc->emigrants = QS_EMIGRATE_TOURNAMENT;
    sc->replace = QS_REPLACE_RANDOM;
    sc->topology = QS_TOPO_FULL;
    sc->interval = 1;
    qs_islands_t a, b;
    qs_islands_init(&a, sc);
    qs_islands_init(&b, sc);
    for (int g = 0; g < 4; g++) {
        qs_islands_out_t oa, ob;
        run_generation(&a, 0, 0, &oa);
        run_generation(&b, 1, 0, &ob);
        assert_same_islands(&a, &b);
        cr_assert_eq(oa.all.nbirths, ob.all.nbirths);
        cr_assert_eq(oa.migrated, ob.migrated);
        cr_assert_eq(oa.migrated, 6, "full: 2 immigrants on each island");
        qs_islands_out_destroy(&oa);
        qs_islands_out_destroy(&ob);
    }
    qs_islands_destroy(&a);
    qs_islands_destroy(&b);
    free(sc);
}

/* One island is the population itself: the same ids, genomes and records. */
Test(islands_model, one_island_is_the_population)
{
    qs_scenario_t *sc = pu_scenario("[selection]\nelitism = 1\n[species.a]\nhidden = 8\ncount = 6\n"
                                    "[species.b]\nhidden = 6\ncount = 3\n");
    qs_islands_t isl;
    qs_population_t p;
    qs_islands_init(&isl, sc);
    qs_population_init(&p, sc);
    for (int g = 0; g < 3; g++) {
        qs_islands_out_t oi;
        qs_generation_out_t op;
        run_generation(&isl, 0, 0, &oi);
        qs_population_budget(&p);
        pu_apply_all(&p, 0);
        qs_population_advance(&p, 0, &op);
        cr_assert_null(oi.island);
        cr_assert_eq(oi.all.nbirths, op.nbirths);
        cr_assert_arr_eq(oi.all.births, op.births, op.nbirths * sizeof *op.births);
        cr_assert_arr_eq(oi.all.evals, op.evals, op.nevals * sizeof *op.evals);
        cr_assert_arr_eq(&oi.all.summary, &op.summary, sizeof op.summary);
        qs_islands_out_destroy(&oi);
        qs_generation_out_destroy(&op);
    }
    qs_islands_destroy(&isl);
    qs_population_destroy(&p);
    free(sc);
}

/* A checkpoint of the islands, encoded and decoded, continues as if never stopped. */
Test(islands_model, checkpoint_resumes_identically)
{
    qs_scenario_t *sc = pu_scenario(three);
    sc->interval = 1;
    qs_islands_t a, b;
    qs_islands_init(&a, sc);
    qs_islands_out_t out;
    for (int g = 0; g < 2; g++) {
        run_generation(&a, 0, 0, &out);
        qs_islands_out_destroy(&out);
    }
    qs_checkpoint_t c, d;
    qs_islands_checkpoint(&a, &c);
    cr_assert_eq(c.nislands, 3);
    cr_assert_eq(c.norgs, qs_islands_count(&a));
    qs_bytes_t bytes;
    qs_bytes_init(&bytes);
    qs_checkpoint_encode(&c, &bytes);
    qs_islands_checkpoint_release(&c);
    size_t used = 0, plen = 0;
    const uint8_t *payload = NULL;
    qs_frame_reader_t fr;
    qs_frame_reader_init(&fr, bytes.len + 16);
    qs_error_t err = {0};
    cr_assert_eq(qs_frame_reader_feed(&fr, bytes.data, bytes.len, &used, &payload, &plen, &err), 1,
                 "%s", err.msg);
    cr_assert_eq(qs_checkpoint_decode(&d, payload, plen, &err), 0, "%s", err.msg);
    qs_frame_reader_destroy(&fr);
    qs_bytes_destroy(&bytes);
    cr_assert_eq(qs_islands_restore(&b, sc, &d, &err), 0, "%s", err.msg);
    qs_checkpoint_destroy(&d);
    assert_same_islands(&a, &b);
    cr_assert_eq(qs_islands_best(&a)->best.id, qs_islands_best(&b)->best.id);
    for (int g = 0; g < 3; g++) {
        qs_islands_out_t oa, ob;
        run_generation(&a, 0, g == 2, &oa);
        run_generation(&b, 1, g == 2, &ob);
        assert_same_islands(&a, &b);
        cr_assert_eq(oa.migrated, ob.migrated);
        qs_islands_out_destroy(&oa);
        qs_islands_out_destroy(&ob);
    }
    qs_islands_destroy(&a);
    qs_islands_destroy(&b);
    free(sc);
}

Test(islands_model, restore_refuses_another_island_count)
{
    qs_scenario_t *sc = pu_scenario(three);
    qs_islands_t a, b;
    qs_islands_init(&a, sc);
    qs_checkpoint_t c;
    qs_islands_checkpoint(&a, &c);
    sc->islands = 4;
    qs_error_t err = {0};
    cr_assert_lt(qs_islands_restore(&b, sc, &c, &err), 0);
    cr_assert(strstr(err.msg, "it holds 3 islands; the scenario has [islands] count = 4"), "%s",
              err.msg);
    qs_islands_destroy(&b);
    qs_islands_checkpoint_release(&c);
    qs_islands_destroy(&a);
    free(sc);
}

/* An island's generation survives the island_records message, byte for byte where it
 * matters: records, the phylogeny fields of its dead, the next plan's species. */
Test(islands_model, records_message_carries_an_island_generation)
{
    qs_scenario_t *sc = pu_scenario(three);
    qs_population_t p;
    qs_population_init_island(&p, sc, 1, 3);
    qs_generation_out_t o, back;
    for (int g = 0; g < 2; g++) {
        qs_population_budget(&p);
        pu_apply_all(&p, 0);
        qs_population_advance(&p, 0, &o);
        if (g == 0)
            qs_generation_out_destroy(&o);
    }
    cr_assert_gt(o.ndeaths, 0);
    qs_bytes_t records, wire;
    qs_bytes_init(&records);
    qs_bytes_init(&wire);
    qs_msg_t m = {.type = QS_MSG_ISLAND_RECORDS}, d;
    qs_islands_records_msg(&o, 1, sc->nspecies, &records, &m.u.island_records);
    qs_msg_encode(&m, &wire);
    free(m.u.island_records.dead);
    qs_error_t err = {0};
    size_t used = 0, plen = 0;
    const uint8_t *payload;
    qs_frame_reader_t fr;
    qs_frame_reader_init(&fr, wire.len + 1);
    cr_assert_eq(qs_frame_reader_feed(&fr, wire.data, wire.len, &used, &payload, &plen, &err), 1);
    cr_assert_eq(qs_msg_decode(&d, payload, plen, &err), 0, "%s", err.msg);
    cr_assert_eq(qs_islands_records_out(&d.u.island_records, &back, &err), 0, "%s", err.msg);
    cr_assert_eq(back.nbirths, o.nbirths);
    for (uint32_t i = 0; i < o.nbirths; i++) {
        const qs_rec_birth_t *x = &o.births[i], *y = &back.births[i];
        cr_assert(x->id == y->id && x->parent == y->parent && x->generation == y->generation &&
                  x->species == y->species && x->has_link == y->has_link &&
                  x->mutated == y->mutated && x->island == y->island && x->migrant == y->migrant &&
                  x->origin_island == y->origin_island);
        cr_assert(x->link_r2 == y->link_r2 || (isnan(x->link_r2) && isnan(y->link_r2)));
    }
    cr_assert_eq(back.nevals, o.nevals);
    for (uint32_t i = 0; i < o.nevals; i++)
        cr_assert(back.evals[i].id == o.evals[i].id &&
                  back.evals[i].accuracy == o.evals[i].accuracy &&
                  back.evals[i].flops == o.evals[i].flops);
    for (uint32_t i = 0; i < o.ndeaths; i++)
        cr_assert(back.deaths[i].id == o.deaths[i].id && back.deaths[i].cause == o.deaths[i].cause);
    cr_assert_eq(back.summary.population, o.summary.population);
    cr_assert_eq(back.summary.best_id, o.summary.best_id);
    cr_assert_eq(back.summary.mean_accuracy, o.summary.mean_accuracy);
    for (uint32_t i = 0; i < o.ndeaths; i++) {
        const qs_org_t *x = &o.dead[i], *y = &back.dead[i];
        cr_assert(x->id == y->id && x->parent == y->parent && x->born == y->born &&
                  x->species == y->species && x->flops_total == y->flops_total &&
                  x->accuracy == y->accuracy && x->fidelity.r2 == y->fidelity.r2);
    }
    cr_assert_arr_eq(back.alive_next, o.alive_next, sizeof o.alive_next);
    /* a message whose dead do not match its death records is refused */
    d.u.island_records.dead[0].id++;
    qs_generation_out_t bad;
    cr_assert_lt(qs_islands_records_out(&d.u.island_records, &bad, &err), 0);
    cr_assert(strstr(err.msg, "its death record names"), "%s", err.msg);
    qs_msg_destroy(&d);
    qs_frame_reader_destroy(&fr);
    qs_bytes_destroy(&records);
    qs_bytes_destroy(&wire);
    qs_generation_out_destroy(&o);
    qs_generation_out_destroy(&back);
    qs_population_destroy(&p);
    free(sc);
}
