/* hosting: dealing out the islands, a generation's stages on the hosts, routing the
 * migrants, gathering the states; every answer checked before it is taken. */
#include "sim/hosting_impl.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void hosting_fail(qs_hosting_t *h, const char *fmt, ...)
{
    if (h->stopped)
        return; /* the first failure is the one reported */
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    h->stopped = 1;
    h->cb.on_fatal(h->cb.ctx, msg);
}

/* ---- answers --------------------------------------------------------------------------------- */

/* Whether o can be an organism of island x: its species, its size, its id. */
static int own_org(const island_t *x, const qs_ckpt_org_t *o)
{
    const qs_islands_t *isl = x->h->isl;
    return o->species < isl->sc->nspecies &&
           o->nweights == isl->pop[x->k].cost[o->species].nparams &&
           qs_island_of(o->id, isl->n) == x->k;
}

/* Island x's emigrants: checked, and kept as they came (routed as they are). */
static int take_emigrants(island_t *x, qs_msg_island_genomes_t *g, qs_error_t *err)
{
    qs_ckpt_org_t *orgs;
    uint32_t n;
    if (qs_checkpoint_decode_orgs(g->genomes, g->genomes_len, x->h->isl->sc->migrants, &orgs, &n,
                                  err) < 0)
        return qs_error_prefix(err, "island %u's emigrants", x->k);
    int rc = 0;
    for (uint32_t i = 0; i < n && rc == 0; i++)
        if (!own_org(x, &orgs[i]))
            rc = qs_error_set(err, QS_ERR(PEER),
                              "island %u: emigrant %" PRIu64 " of species %u with %u weights is "
                              "none of its own",
                              x->k, orgs[i].id, orgs[i].species, orgs[i].nweights);
    qs_checkpoint_orgs_free(orgs, n);
    x->h->migrant_bytes += g->genomes_len;
    if (rc == 0) {
        qs_bytes_clear(&x->emigrants);
        qs_bytes_append(&x->emigrants, g->genomes, g->genomes_len);
    }
    return rc;
}

/* Island x's state: checked, then streamed into the checkpoint (on_part) and let go: no
 * more than one island's state is held. The run's best, when on x, keeps its genome. */
static int take_state(island_t *x, qs_msg_island_genomes_t *g, qs_error_t *err)
{
    qs_hosting_t *h = x->h;
    qs_checkpoint_t c;
    h->state_bytes += g->genomes_len;
    if (qs_checkpoint_decode_frame(&c, g->genomes, g->genomes_len, err) < 0)
        return qs_error_prefix(err, "island %u's state", x->k);
    int rc = 0;
    if (c.generation != h->isl->generation || c.nislands ||
        qs_island_of(c.next_id, h->isl->n) != x->k)
        rc =
            qs_error_set(err, QS_ERR(PEER), "island %u: a state of generation %u, next id %" PRIu64,
                         x->k, c.generation, c.next_id);
    for (uint32_t i = 0; i < c.norgs && rc == 0; i++)
        if (!own_org(x, &c.orgs[i]))
            rc = qs_error_set(err, QS_ERR(PEER),
                              "island %u: organism %" PRIu64 " of species %u with %u weights "
                              "is none of its own",
                              x->k, c.orgs[i].id, c.orgs[i].species, c.orgs[i].nweights);
    const qs_population_t *b = qs_islands_best(h->isl); /* its genome comes with the state */
    if (rc == 0 && b && b->island == x->k && c.has_best)
        qs_population_fill_best(&h->isl->pop[x->k], &c.best);
    qs_checkpoint_destroy(&c);
    if (rc == 0)
        h->cb.on_part(h->cb.ctx, x->k, g->genomes, g->genomes_len);
    return rc;
}

/* A genomes frame from island x's host: decoded and checked against the island. */
static int take_genomes(island_t *x, qs_msg_island_genomes_t *g, int state, qs_error_t *err)
{
    qs_hosting_t *h = x->h;
    if (g->state != state || g->island != x->k || g->generation != h->isl->generation)
        return qs_error_set(err, QS_ERR(PEER),
                            "sent %s of island %u for generation %u; asked for the %s of island "
                            "%u for generation %u",
                            g->state ? "the state" : "emigrants", g->island, g->generation,
                            state ? "state" : "emigrants", x->k, h->isl->generation);
    if (!state)
        return take_emigrants(x, g, err);
    return take_state(x, g, err);
}

/* Island x's records of the generation (and its best, when it changed). */
static int take_records(island_t *x, qs_msg_island_records_t *m, qs_error_t *err)
{
    qs_hosting_t *h = x->h;
    qs_population_t *p = &h->isl->pop[x->k];
    if (m->island != x->k || m->generation != h->isl->generation)
        return qs_error_set(err, QS_ERR(PEER),
                            "sent the records of island %u, generation %u; asked for island %u, "
                            "generation %u",
                            m->island, m->generation, x->k, h->isl->generation);
    qs_generation_out_destroy(&x->out);
    if (qs_islands_records_out(m, &x->out, err) < 0)
        return -1;
    for (uint32_t i = 0; i < x->out.nevals; i++)
        if (qs_island_of(x->out.evals[i].id, h->isl->n) != x->k)
            return qs_error_set(err, QS_ERR(PEER), "island %u: a record of organism %" PRIu64, x->k,
                                x->out.evals[i].id);
    if (!m->run_best_id)
        return 0;
    for (uint32_t i = 0; i < x->out.nevals; i++) /* one evaluated in this generation */
        if (x->out.evals[i].id == m->run_best_id) {
            qs_population_name_best(p, m->run_best_id, m->run_best_fitness, m->generation);
            return 0;
        }
    return qs_error_set(err, QS_ERR(PEER),
                        "island %u: names organism %" PRIu64 " its best, which did not live in "
                        "generation %u",
                        x->k, m->run_best_id, m->generation);
}

static int on_reply(qs_pool_task_t *t, qs_msg_t *m, qs_error_t *err)
{
    island_t *x = t->ctx;
    qs_hosting_t *h = x->h;
    if (h->stopped)
        return 0;
    int want_genomes =
        x->msg.op == QS_ISLAND_STATE || (x->msg.op == QS_ISLAND_RUN && x->msg.migrate);
    if (want_genomes != (m->type == QS_MSG_ISLAND_GENOMES))
        return qs_error_set(err, QS_ERR(PEER), "answered island %u's %s with %s", x->k,
                            qs_island_op_name(x->msg.op), qs_msg_type_name(m->type));
    if (x->replaying) /* recomputed: the first answer was taken */
        return 0;
    if (want_genomes)
        return take_genomes(x, &m->u.island_genomes, h->stage == STAGE_STATE, err);
    return take_records(x, &m->u.island_records, err);
}

static int on_result(qs_pool_task_t *t, qs_life_result_t *r, qs_error_t *err)
{
    (void)t;
    (void)r;
    return qs_error_set(err, QS_ERR(PEER), "a task result for an island's host task");
}

static void stage_done(qs_hosting_t *h);

static void on_done(qs_pool_task_t *t)
{
    island_t *x = t->ctx;
    qs_hosting_t *h = x->h;
    x->busy = 0;
    if (h->stopped)
        return;
    if (!x->replaying) {
        x->answered = 1;
        x->rebuilds = 0;
        if (--h->waiting == 0)
            stage_done(h);
    }
    hosting_pump(x);
}

static void on_failed(qs_pool_task_t *t)
{
    (void)t; /* pinned tasks are never requeued: a lost host is qs_hosting_worker's */
}

static void encode(qs_pool_task_t *t, qs_msg_t *m)
{
    island_t *x = t->ctx;
    m->type = QS_MSG_ISLAND;
    m->u.island = x->msg;
}

static void describe(const qs_pool_task_t *t, char *buf, size_t cap)
{
    const island_t *x = t->ctx;
    snprintf(buf, cap, "island %u (%s)", x->k, qs_island_op_name(x->msg.op));
}

static const qs_pool_task_ops_t island_ops = {encode,    on_result, on_done,
                                              on_failed, describe,  on_reply};

/* ---- asking ---------------------------------------------------------------------------------- */

/* Whether a migration follows generation g. */
int hosting_migrates(const qs_hosting_t *h, uint32_t g)
{
    const qs_scenario_t *sc = h->isl->sc;
    return h->isl->n > 1 && sc->migrants && (g + 1) % sc->interval == 0 && g + 1 < sc->generations;
}

void hosting_push(island_t *x, qs_island_op_t op, uint32_t generation, int replay,
                  const qs_bytes_t *genomes)
{
    if (x->nops == x->cap_ops) {
        x->cap_ops = x->cap_ops ? 2 * x->cap_ops : 8;
        x->ops = xrealloc(x->ops, x->cap_ops * sizeof *x->ops);
    }
    x->ops[x->nops++] = (op_t){op, generation, replay, genomes ? genomes->data : NULL,
                               genomes ? (uint32_t)genomes->len : 0};
}

/* Send island x's next op to its host, unless one is with it already. */
void hosting_pump(island_t *x)
{
    qs_hosting_t *h = x->h;
    if (x->busy || x->head == x->nops || !x->host || h->stopped)
        return;
    const op_t *o = &x->ops[x->head++];
    if (x->head == x->nops)
        x->head = x->nops = 0;
    x->msg =
        (qs_msg_island_t){.op = o->op,
                          .task_id = h->task_base | ++h->seq,
                          .config = h->config,
                          .island = x->k,
                          .generation = o->generation,
                          .last = !o->replay && h->last,
                          .migrate = o->op == QS_ISLAND_RUN && hosting_migrates(h, o->generation),
                          .genomes = (uint8_t *)o->genomes,
                          .genomes_len = o->genomes_len};
    const qs_population_t *best = qs_islands_best(h->isl); /* the run's best so far */
    if (best) {
        x->msg.best_id = best->best.id;
        x->msg.best_fitness = best->best.fitness;
    }
    x->replaying = o->replay;
    if (o->op == QS_ISLAND_IMMIGRANTS)
        h->migrant_bytes += o->genomes_len;
    memset(&x->task, 0, sizeof x->task);
    x->task.ops = &island_ops;
    x->task.ctx = x;
    x->task.id = x->msg.task_id;
    if (o->op == QS_ISLAND_RUN) /* every life of the island, one after the other */
        x->task.lives = QS_MAX(h->isl->hosted_alive[x->k], h->isl->isc[x->k].population);
    if (qs_pool_submit_to(h->pool, &x->task, x->host) < 0)
        hosting_fail(h, "island %u: its host (worker %" PRIu64 ") is gone", x->k, x->host);
    else
        x->busy = 1;
}

static void ask_all(qs_hosting_t *h, stage_t stage, qs_island_op_t op)
{
    h->stage = stage;
    h->waiting = h->isl->n;
    for (uint32_t k = 0; k < h->isl->n && !h->stopped; k++) {
        island_t *x = &h->is[k];
        x->answered = 0;
        hosting_push(x, op, h->isl->generation, 0, op == QS_ISLAND_IMMIGRANTS ? &x->frame : NULL);
        hosting_pump(x);
    }
    qs_pool_dispatch(h->pool);
}

/* The emigrants to their new islands: island b's immigrants are its sources' emigrants in
 * the order of the sources (as sim/islands.c's migrate), their frames as the hosts sent them. */
static void route(qs_hosting_t *h)
{
    const qs_islands_t *isl = h->isl;
    for (uint32_t b = 0; b < isl->n; b++) {
        island_t *x = &h->is[b];
        qs_bytes_clear(&x->frame);
        qs_bytes_reserve(&x->frame, 1);
        for (uint32_t j = 0; j < isl->degree; j++) {
            const qs_bytes_t *e = &h->is[isl->src[(size_t)b * isl->degree + j]].emigrants;
            qs_bytes_append(&x->frame, e->data, e->len);
        }
        /* kept for a host that would have to redo this generation from a checkpoint */
        x->log = xrealloc(x->log, (x->nlog + 1) * sizeof *x->log);
        sent_t *l = &x->log[x->nlog++];
        l->generation = isl->generation;
        qs_bytes_init(&l->bytes);
        qs_bytes_append(&l->bytes, x->frame.data, x->frame.len);
    }
}

static void generation_over(qs_hosting_t *h)
{
    qs_islands_t *isl = h->isl;
    qs_generation_out_t *outs = xcalloc(isl->n, sizeof *outs);
    for (uint32_t k = 0; k < isl->n; k++) {
        outs[k] = h->is[k].out;
        memset(&h->is[k].out, 0, sizeof h->is[k].out);
    }
    qs_islands_out_t out;
    qs_islands_hosted_advance(isl, h->last, outs, &out);
    h->stage = STAGE_IDLE;
    h->cb.on_generation(h->cb.ctx, &out);
}

static void states_in(qs_hosting_t *h)
{
    h->stage = STAGE_IDLE;
    h->cb.on_state(h->cb.ctx);
}

static void stage_done(qs_hosting_t *h)
{
    if (h->stage == STAGE_RUN && qs_islands_migrate_after(h->isl, h->last)) {
        route(h);
        ask_all(h, STAGE_MIGRATE, QS_ISLAND_IMMIGRANTS);
    } else if (h->stage == STAGE_RUN || h->stage == STAGE_MIGRATE) {
        generation_over(h);
    } else if (h->stage == STAGE_STATE) {
        states_in(h);
    }
}

void qs_hosting_generation(qs_hosting_t *h, int last)
{
    h->last = last;
    if (!h->dealt) {
        h->start_when_dealt = 1;
        return;
    }
    ask_all(h, STAGE_RUN, QS_ISLAND_RUN);
}

void qs_hosting_gather(qs_hosting_t *h)
{
    ask_all(h, STAGE_STATE, QS_ISLAND_STATE);
}

/* ---- hosts ----------------------------------------------------------------------------------- */

/* The scenario for worker w's next island: the text the first time, else NULL. */
char *hosting_scenario_for(qs_hosting_t *h, uint64_t w)
{
    for (uint32_t i = 0; i < h->ntold; i++)
        if (h->told[i] == w)
            return NULL;
    h->told = xrealloc(h->told, (h->ntold + 1) * sizeof *h->told);
    h->told[h->ntold++] = w;
    return (char *)h->scenario;
}

/* Give island x to worker w: its scenario, and its state when the run was resumed. */
static void give(qs_hosting_t *h, island_t *x, uint64_t w)
{
    x->host = w;
    qs_msg_t m = {.type = QS_MSG_ISLAND};
    m.u.island = (qs_msg_island_t){.op = QS_ISLAND_HOST,
                                   .config = h->config,
                                   .island = x->k,
                                   .generation = h->isl->generation,
                                   .scenario = hosting_scenario_for(h, w)};
    if (h->initial) {
        m.u.island.genomes = h->initial[x->k].data;
        m.u.island.genomes_len = (uint32_t)h->initial[x->k].len;
        h->state_bytes += m.u.island.genomes_len;
    }
    if (qs_pool_send_to(h->pool, w, &m) < 0)
        hosting_fail(h, "island %u: worker %" PRIu64 " is gone", x->k, w);
}

/* Deal the islands out in turn over the workers ready now. */
void hosting_deal(qs_hosting_t *h)
{
    for (uint32_t k = 0; k < h->isl->n; k++)
        give(h, &h->is[k], h->workers[k % h->nworkers]);
    if (h->initial) {
        for (uint32_t k = 0; k < h->isl->n; k++)
            qs_bytes_destroy(&h->initial[k]);
        free(h->initial);
        h->initial = NULL;
    }
    h->dealt = 1;
    for (uint32_t k = 0; k < h->isl->n; k++) /* asked before they had hosts: a gathering */
        hosting_pump(&h->is[k]);
    if (h->start_when_dealt && !h->stopped)
        ask_all(h, STAGE_RUN, QS_ISLAND_RUN);
    qs_pool_dispatch(h->pool);
}

/* ---- life ------------------------------------------------------------------------------------ */

qs_hosting_t *qs_hosting_new(qs_pool_t *pool, qs_islands_t *isl, uint32_t config,
                             const char *scenario, const char *ckpt_path, int resumed,
                             uint64_t task_base, uint32_t expect, const qs_hosting_cb_t *cb)
{
    qs_hosting_t *h = xcalloc(1, sizeof *h);
    h->ckpt_path = ckpt_path;
    h->has_ckpt = resumed;
    h->ckpt_generation = isl->generation;
    h->pool = pool;
    h->isl = isl;
    h->config = config;
    h->scenario = scenario;
    h->task_base = task_base;
    h->expect = QS_MAX(expect, 1);
    h->cb = *cb;
    h->n = isl->n;
    h->is = xcalloc(isl->n, sizeof *h->is);
    for (uint32_t k = 0; k < isl->n; k++) {
        h->is[k].h = h;
        h->is[k].k = k;
        qs_bytes_init(&h->is[k].frame);
        qs_bytes_init(&h->is[k].emigrants);
    }
    if (resumed && isl->generation > 0) { /* the plans go to the hosts */
        h->initial = xcalloc(isl->n, sizeof *h->initial);
        for (uint32_t k = 0; k < isl->n; k++) {
            qs_checkpoint_t c;
            qs_population_checkpoint(&isl->pop[k], &c);
            qs_bytes_init(&h->initial[k]);
            qs_checkpoint_encode(&c, &h->initial[k]);
            qs_population_checkpoint_release(&c);
        }
    }
    qs_islands_shed(isl);
    return h;
}

void qs_hosting_progress(const qs_hosting_t *h, uint32_t *done, uint32_t *total)
{
    const int busy = h->stage != STAGE_IDLE && h->waiting > 0;
    *total = busy ? h->n : 0;
    *done = busy ? h->n - h->waiting : 0;
}

void qs_hosting_genome_bytes(const qs_hosting_t *h, uint64_t *migrants, uint64_t *states)
{
    *migrants = h->migrant_bytes;
    *states = h->state_bytes;
}

void qs_hosting_stop(qs_hosting_t *h)
{
    h->stopped = 1;
}

void qs_hosting_free(qs_hosting_t *h)
{
    if (!h)
        return;
    for (uint32_t k = 0; k < h->n; k++) {
        qs_generation_out_destroy(&h->is[k].out);
        qs_bytes_destroy(&h->is[k].frame);
        qs_bytes_destroy(&h->is[k].emigrants);
        for (uint32_t i = 0; i < h->is[k].nlog; i++)
            qs_bytes_destroy(&h->is[k].log[i].bytes);
        free(h->is[k].log);
        free(h->is[k].ops);
    }
    if (h->initial) {
        for (uint32_t k = 0; k < h->n; k++)
            qs_bytes_destroy(&h->initial[k]);
        free(h->initial);
    }
    free(h->is);
    free(h->workers);
    free(h->told);
    free(h);
}
