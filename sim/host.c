/* host: hosted islands, and the island messages that drive them. */
#include "sim/host.h"

#include <stdlib.h>
#include <string.h>

#include "proto/checkpoint.h"
#include "sim/islands.h"
#include "sim/population.h"
#include "sim/scenario.h"

struct qs_hosted {
    uint32_t config, island;
    qs_scenario_t sc;  /* the run's */
    qs_scenario_t isc; /* the island's share (pop borrows it) */
    qs_population_t pop;
    int awaiting; /* emigrants sent: the immigrants come next */
};

void qs_host_init(qs_host_t *h, qs_host_life_fn life, void *ctx)
{
    memset(h, 0, sizeof *h);
    h->life = life;
    h->ctx = ctx;
}

static void hosted_free(qs_hosted_t *x)
{
    qs_population_destroy(&x->pop);
    free(x);
}

void qs_host_destroy(qs_host_t *h)
{
    for (uint32_t i = 0; i < h->n; i++)
        hosted_free(h->isl[i]);
    free(h->isl);
    memset(h, 0, sizeof *h);
}

static qs_hosted_t *find(const qs_host_t *h, uint32_t config, uint32_t island)
{
    for (uint32_t i = 0; i < h->n; i++)
        if (h->isl[i]->config == config && h->isl[i]->island == island)
            return h->isl[i];
    return NULL;
}

/* ---- host: take an island ------------------------------------------------------------------ */

/* The run's scenario: from the message, or an earlier island of the same config's. */
static int island_run_scenario(const qs_host_t *h, const qs_msg_island_t *m, qs_scenario_t *sc,
                               qs_error_t *err)
{
    if (!m->scenario) {
        for (uint32_t i = 0; i < h->n; i++)
            if (h->isl[i]->config == m->config) {
                *sc = h->isl[i]->sc;
                return 0;
            }
        return qs_error_set(err, QS_ERR(PEER), "island %u of config %u: no scenario", m->island,
                            m->config);
    }
    qs_scenario_defaults(sc);
    int rc = qs_scenario_parse_string(sc, m->scenario, "the orchestrator's scenario", err);
    return rc < 0 ? rc : qs_scenario_validate(sc, err);
}

static int take_island(qs_host_t *h, const qs_msg_island_t *m, qs_error_t *err)
{
    qs_hosted_t *x = xcalloc(1, sizeof *x);
    x->config = m->config;
    x->island = m->island;
    int rc = island_run_scenario(h, m, &x->sc, err);
    uint32_t n = x->sc.islands > 1 ? x->sc.islands : 1;
    if (rc == 0 && m->island >= n)
        rc = qs_error_set(err, QS_ERR(RANGE), "island %u of a run of %u islands", m->island, n);
    if (rc < 0) {
        free(x);
        return rc;
    }
    qs_islands_scenario(&x->sc, m->island, &x->isc);
    if (m->genomes) {
        qs_checkpoint_t c;
        rc = qs_checkpoint_decode_frame(&c, m->genomes, m->genomes_len, err);
        if (rc == 0) {
            rc = qs_population_restore_island(&x->pop, &x->isc, m->island, n, &c, err);
            qs_checkpoint_destroy(&c);
        }
        if (rc < 0) {
            free(x);
            return qs_error_prefix(err, "island %u's state", m->island);
        }
    } else {
        qs_population_init_island(&x->pop, &x->isc, m->island, n);
    }
    qs_hosted_t *old = find(h, m->config, m->island);
    if (old) { /* taken again (a resume, a reassignment): the new state wins */
        for (uint32_t i = 0; i < h->n; i++)
            if (h->isl[i] == old)
                h->isl[i] = x;
        hosted_free(old);
        return 0;
    }
    if (h->n == h->cap) {
        h->cap = h->cap ? 2 * h->cap : 8;
        h->isl = xrealloc(h->isl, h->cap * sizeof *h->isl);
    }
    h->isl[h->n++] = x;
    return 0;
}

/* ---- genomes as checkpoint frames ------------------------------------------------------------ */

/* The emigrants as organism frames (owned bytes into *out, *len). */
static void emigrants_frames(const qs_hosted_t *x, uint8_t **out, uint32_t *len)
{
    const qs_scenario_t *sc = &x->sc;
    uint32_t m = sc->migrants;
    qs_org_t *em = xcalloc(m ? m : 1, sizeof *em);
    uint32_t n = qs_population_emigrants(&x->pop, m, sc->emigrants, sc->tournament, em);
    qs_ckpt_org_t *orgs = xcalloc(n ? n : 1, sizeof *orgs);
    for (uint32_t i = 0; i < n; i++) {
        qs_population_org_checkpoint(&em[i], x->pop.cost[em[i].species].nparams, &orgs[i]);
        orgs[i].newborn = 0; /* as emigrants' frames always had it */
    }
    qs_bytes_t b;
    qs_bytes_init(&b);
    qs_bytes_reserve(&b, 1);
    qs_checkpoint_encode_orgs(orgs, n, &b);
    *out = b.data;
    *len = (uint32_t)b.len;
    free(orgs);
    for (uint32_t i = 0; i < n; i++)
        free(em[i].genome);
    free(em);
}

/* The immigrants, organism frames in order, into x->pop (genomes taken). */
static int take_immigrants(qs_hosted_t *x, const qs_msg_island_t *m, qs_error_t *err)
{
    qs_ckpt_org_t *orgs;
    uint32_t n, max = x->sc.migrants * qs_scenario_in_degree(&x->sc);
    if (qs_checkpoint_decode_orgs(m->genomes, m->genomes_len, max, &orgs, &n, err) < 0)
        return qs_error_prefix(err, "island %u's immigrants", m->island);
    qs_population_t *p = &x->pop;
    p->immigrants = xcalloc(n ? n : 1, sizeof *p->immigrants);
    p->nimmigrants = 0;
    int rc = 0;
    for (uint32_t i = 0; i < n && rc == 0; i++) {
        qs_ckpt_org_t *o = &orgs[i];
        if (o->species >= x->sc.nspecies || o->nweights != p->cost[o->species].nparams) {
            rc = qs_error_set(err, QS_ERR(MISMATCH),
                              "island %u: immigrant %llu of species %u with %u weights", m->island,
                              (unsigned long long)o->id, o->species, o->nweights);
            break;
        }
        qs_org_t *im = &p->immigrants[p->nimmigrants++];
        im->id = o->id;
        im->species = o->species;
        im->fitness = o->fitness;
        im->accuracy = o->accuracy;
        im->genome = o->weights;
        o->weights = NULL;
    }
    qs_checkpoint_orgs_free(orgs, n);
    return rc;
}

/* The island's state as a checkpoint frame. */
static void state_frame(const qs_hosted_t *x, uint8_t **out, uint32_t *len)
{
    qs_checkpoint_t c;
    qs_population_checkpoint(&x->pop, &c);
    qs_bytes_t b;
    qs_bytes_init(&b);
    qs_checkpoint_encode(&c, &b);
    qs_population_checkpoint_release(&c);
    *out = b.data;
    *len = (uint32_t)b.len;
}

/* ---- run: a generation's lives, then advance --------------------------------------------------
 */

static int live(qs_host_t *h, qs_hosted_t *x, const qs_msg_island_t *m, qs_error_t *err)
{
    qs_population_t *p = &x->pop;
    qs_population_budget(p);
    for (uint32_t i = 0; i < p->norgs; i++) {
        qs_life_task_t t;
        qs_life_result_t r;
        memset(&r, 0, sizeof r);
        qs_population_task(p, i, m->task_id, &t);
        t.config = m->config;
        size_t bytes = (size_t)t.nweights * sizeof(float); /* the life takes its own copy */
        t.weights = memcpy(xmalloc(bytes ? bytes : 1), t.weights, bytes);
        int rc = h->life(h->ctx, &t, &r, err);
        if (rc == 0)
            rc = qs_population_apply(p, &r, err);
        free(t.weights); /* NULL unless the life failed */
        free(r.weights);
        if (rc < 0)
            return qs_error_prefix(err, "island %u, organism %llu", m->island,
                                   (unsigned long long)p->orgs[i].id);
    }
    return 0;
}

static void advance(qs_hosted_t *x, const qs_msg_island_t *m, qs_msg_t *reply)
{
    qs_generation_out_t out;
    qs_population_advance(&x->pop, m->last, &out);
    qs_bytes_t records;
    qs_bytes_init(&records);
    reply->type = QS_MSG_ISLAND_RECORDS;
    qs_msg_island_records_t *r = &reply->u.island_records;
    qs_islands_records_msg(&out, x->island, x->sc.nspecies, &records, r);
    r->records = records.data; /* the message owns it now */
    r->task_id = m->task_id;
    /* The island's best is named to the orchestrator only when it is the run's best: better
     * than the best so far (fitness, then the lower id), or that one re-evaluated. */
    const qs_org_t *b = &x->pop.best;
    if (x->pop.best_changed &&
        (!m->best_id || b->id == m->best_id || b->fitness > m->best_fitness ||
         (b->fitness == m->best_fitness && b->id < m->best_id))) {
        r->run_best_id = b->id;
        r->run_best_fitness = b->fitness;
    }
    x->pop.best_changed = 0;
    qs_generation_out_destroy(&out);
}

static int step(qs_host_t *h, qs_hosted_t *x, const qs_msg_island_t *m, qs_msg_t *reply,
                qs_error_t *err)
{
    if (m->op != QS_ISLAND_STATE && m->generation != x->pop.generation)
        return qs_error_set(err, QS_ERR(PEER), "island %u: %s for generation %u, it is at %u",
                            m->island, qs_island_op_name(m->op), m->generation, x->pop.generation);
    if ((m->op == QS_ISLAND_IMMIGRANTS) != x->awaiting)
        return qs_error_set(err, QS_ERR(PEER), "island %u: %s %s", m->island,
                            qs_island_op_name(m->op),
                            x->awaiting ? "while its immigrants are awaited" : "not asked for");
    int rc = 0;
    switch (m->op) {
    case QS_ISLAND_RUN:
        if ((rc = live(h, x, m, err)) < 0)
            return rc;
        if (!m->migrate) {
            advance(x, m, reply);
            return 0;
        }
        reply->type = QS_MSG_ISLAND_GENOMES;
        reply->u.island_genomes = (qs_msg_island_genomes_t){
            .task_id = m->task_id, .island = x->island, .generation = x->pop.generation};
        emigrants_frames(x, &reply->u.island_genomes.genomes, &reply->u.island_genomes.genomes_len);
        x->awaiting = 1;
        return 0;
    case QS_ISLAND_IMMIGRANTS:
        if ((rc = take_immigrants(x, m, err)) < 0)
            return rc;
        x->awaiting = 0;
        advance(x, m, reply);
        return 0;
    case QS_ISLAND_STATE:
        reply->type = QS_MSG_ISLAND_GENOMES;
        reply->u.island_genomes = (qs_msg_island_genomes_t){.task_id = m->task_id,
                                                            .island = x->island,
                                                            .generation = x->pop.generation,
                                                            .state = 1};
        state_frame(x, &reply->u.island_genomes.genomes, &reply->u.island_genomes.genomes_len);
        return 0;
    default:
        return qs_error_set(err, QS_ERR(PEER), "island %u: unexpected op", m->island);
    }
}

/* Forget island x (it moved to another host). */
static void drop_island(qs_host_t *h, qs_hosted_t *x)
{
    uint32_t w = 0;
    for (uint32_t i = 0; i < h->n; i++)
        if (h->isl[i] != x)
            h->isl[w++] = h->isl[i];
    h->n = w;
    hosted_free(x);
}

int qs_host_handle(qs_host_t *h, const qs_msg_island_t *m, qs_msg_t *reply, qs_error_t *err)
{
    memset(reply, 0, sizeof *reply);
    if (m->op == QS_ISLAND_HOST)
        return take_island(h, m, err);
    qs_hosted_t *x = find(h, m->config, m->island);
    if (!x)
        return qs_error_set(err, QS_ERR(PEER),
                            "%s for island %u of config %u, which it does not "
                            "host",
                            qs_island_op_name(m->op), m->island, m->config);
    if (m->op == QS_ISLAND_DROP) {
        if (x->awaiting)
            return qs_error_set(err, QS_ERR(PEER),
                                "island %u: dropped while its immigrants are "
                                "awaited",
                                m->island);
        drop_island(h, x);
        return 0;
    }
    if (m->task_id == 0)
        return qs_error_set(err, QS_ERR(PEER), "island %u: %s without a task id", m->island,
                            qs_island_op_name(m->op));
    return step(h, x, m, reply, err);
}
