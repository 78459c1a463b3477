/* hosting_moves: islands that change hosts. A lost host's islands restart elsewhere from
 * the run's last checkpoint and redo the generations since; at a checkpoint, islands move
 * from the busiest host to workers that host none. */
#include <assert.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "sim/hosting_impl.h"

/* Every island at the boundary with its state in hand (a checkpoint): islands move from
 * the busiest host to ready workers that host none, so that workers ready after the
 * islands were dealt out (remote ones, respawned ones) get their share. */
void hosting_rebalance(qs_hosting_t *h)
{
    for (;;) {
        uint64_t idle = 0, busy = 0;
        uint32_t most = 0;
        for (uint32_t i = 0; i < h->nworkers; i++) {
            uint32_t c = hosting_islands_on(h, h->workers[i]);
            if (c == 0 && !idle)
                idle = h->workers[i];
            if (c > most) {
                most = c;
                busy = h->workers[i];
            }
        }
        if (!idle || most < 2)
            return;
        island_t *x = NULL; /* the busiest host's last island */
        for (uint32_t k = 0; k < h->n; k++)
            if (h->is[k].host == busy)
                x = &h->is[k];
        qs_bytes_t state; /* its state, as its host sent it, from the checkpoint just written */
        qs_bytes_init(&state);
        qs_error_t err = {0};
        uint32_t g;
        if (qs_checkpoint_load_island(h->ckpt_path, x->k, h->n, 1, &state, &g, &err) < 0 ||
            g != h->isl->generation) {
            hosting_fail(h, "island %u cannot move: %s", x->k,
                         err.msg[0] ? err.msg : "the checkpoint is of another generation");
            qs_bytes_destroy(&state);
            return;
        }
        qs_msg_t m = {.type = QS_MSG_ISLAND};
        m.u.island = (qs_msg_island_t){.op = QS_ISLAND_DROP,
                                       .config = h->config,
                                       .island = x->k,
                                       .generation = h->isl->generation};
        qs_pool_send_to(h->pool, busy, &m);
        m.u.island.op = QS_ISLAND_HOST;
        m.u.island.scenario = hosting_scenario_for(h, idle);
        m.u.island.genomes = state.data;
        m.u.island.genomes_len = (uint32_t)state.len;
        h->state_bytes += state.len;
        h->cb.on_event(h->cb.ctx, "island %u moves from %s to %s at generation %u", x->k,
                       qs_pool_worker_name(h->pool, busy), qs_pool_worker_name(h->pool, idle),
                       h->isl->generation);
        x->host = idle;
        int sent = qs_pool_send_to(h->pool, idle, &m);
        qs_bytes_destroy(&state);
        if (sent < 0) {
            hosting_fail(h, "island %u: %s is gone", x->k, qs_pool_worker_name(h->pool, idle));
            return;
        }
    }
}

/* ---- a lost host ----------------------------------------------------------------------------- */

/* The ops that bring a new host of island x from the checkpoint's generation to where its
 * lost host was, then what the current stage still wants of it. */
static void replay_ops(qs_hosting_t *h, island_t *x)
{
    uint32_t g = h->isl->generation;
    x->head = x->nops = 0;
    x->busy = 0;
    for (uint32_t e = h->ckpt_generation; e < g; e++) {
        hosting_push(x, QS_ISLAND_RUN, e, 1, NULL);
        if (!hosting_migrates(h, e))
            continue;
        const sent_t *l = NULL;
        for (uint32_t i = 0; i < x->nlog && !l; i++)
            if (x->log[i].generation == e)
                l = &x->log[i];
        assert(l); /* kept since the checkpoint (qs_hosting_checkpointed) */
        hosting_push(x, QS_ISLAND_IMMIGRANTS, e, 1, &l->bytes);
    }
    switch (h->stage) {
    case STAGE_RUN: /* answered: its host had advanced (or was waiting for immigrants) */
        hosting_push(x, QS_ISLAND_RUN, g, x->answered, NULL);
        break;
    case STAGE_MIGRATE:
        hosting_push(x, QS_ISLAND_RUN, g, 1, NULL);
        hosting_push(x, QS_ISLAND_IMMIGRANTS, g, x->answered, &x->frame);
        break;
    case STAGE_STATE:
        if (!x->answered)
            hosting_push(x, QS_ISLAND_STATE, g, 0, NULL);
        break;
    case STAGE_IDLE:
        break;
    }
}

uint32_t hosting_islands_on(const qs_hosting_t *h, uint64_t w)
{
    uint32_t n = 0;
    for (uint32_t k = 0; k < h->isl->n; k++)
        n += h->is[k].host == w;
    return n;
}

/* The islands without a host go to the ready workers that hold the fewest, each from the
 * last checkpoint (read back from the run directory) and its immigrants since. */
static void rehost(qs_hosting_t *h)
{
    if (!h->nworkers || !h->dealt)
        return;
    qs_error_t err = {0};
    qs_bytes_t state;
    qs_bytes_init(&state);
    for (uint32_t k = 0; k < h->isl->n && !h->stopped; k++) {
        island_t *x = &h->is[k];
        if (x->host)
            continue;
        if (++x->rebuilds > QS_POOL_MAX_TASK_ATTEMPTS) {
            hosting_fail(h, "island %u lost its host %u times in generation %u; giving up", k,
                         x->rebuilds - 1, h->isl->generation);
            break;
        }
        uint32_t cg = 0; /* its part only: one island's state held */
        qs_bytes_clear(&state);
        if (!h->has_ckpt) {
            /* the first checkpoint is being gathered: its new host makes its founders
             * again (their weights come from their ids alone), no genomes sent */
            assert(h->isl->generation == 0 && h->ckpt_generation == 0);
        } else if (qs_checkpoint_load_island(h->ckpt_path, k, h->n, 0, &state, &cg, &err) < 0) {
            hosting_fail(h, "a host was lost, and its islands cannot restart: %s", err.msg);
            break;
        }
        if (h->has_ckpt && cg != h->ckpt_generation) {
            hosting_fail(h, "a host was lost: %s holds generation %u, not %u", h->ckpt_path, cg,
                         h->ckpt_generation);
            break;
        }
        uint64_t best = h->workers[0];
        for (uint32_t i = 1; i < h->nworkers; i++)
            if (hosting_islands_on(h, h->workers[i]) < hosting_islands_on(h, best))
                best = h->workers[i];
        x->host = best;
        qs_msg_t m = {.type = QS_MSG_ISLAND};
        m.u.island = (qs_msg_island_t){.op = QS_ISLAND_HOST,
                                       .config = h->config,
                                       .island = k,
                                       .generation = cg,
                                       .scenario = hosting_scenario_for(h, best)};
        if (h->has_ckpt) {
            m.u.island.genomes = state.data;
            m.u.island.genomes_len = (uint32_t)state.len;
        }
        h->state_bytes += m.u.island.genomes_len;
        if (qs_pool_send_to(h->pool, best, &m) < 0) {
            hosting_fail(h, "island %u: worker %" PRIu64 " is gone", k, best);
            break;
        }
        if (h->has_ckpt)
            h->cb.on_event(h->cb.ctx, "island %u goes to %s, from the checkpoint of generation %u",
                           k, qs_pool_worker_name(h->pool, best), cg);
        else
            h->cb.on_event(h->cb.ctx,
                           "island %u goes to %s, its founders made again (no checkpoint yet)", k,
                           qs_pool_worker_name(h->pool, best));
        replay_ops(h, x);
        hosting_pump(x);
    }
    qs_bytes_destroy(&state);
    qs_pool_dispatch(h->pool);
}

void qs_hosting_worker(qs_hosting_t *h, uint64_t worker, int up)
{
    if (h->stopped)
        return;
    if (up) {
        if (h->nworkers == h->cap_workers) {
            h->cap_workers = h->cap_workers ? 2 * h->cap_workers : 8;
            h->workers = xrealloc(h->workers, h->cap_workers * sizeof *h->workers);
        }
        h->workers[h->nworkers++] = worker;
        if (!h->dealt && h->nworkers >= h->expect)
            hosting_deal(h);
        else
            rehost(h); /* islands waiting for a host, if any */
        return;
    }
    uint32_t w = 0;
    for (uint32_t i = 0; i < h->nworkers; i++)
        if (h->workers[i] != worker)
            h->workers[w++] = h->workers[i];
    h->nworkers = w;
    for (uint32_t k = 0; k < h->isl->n; k++)
        if (h->is[k].host == worker) {
            h->is[k].host = 0;
            h->is[k].busy = 0; /* the pool dropped its op */
        }
    rehost(h);
}

void qs_hosting_checkpointed(qs_hosting_t *h)
{
    h->ckpt_generation = h->isl->generation;
    h->has_ckpt = 1;
    for (uint32_t k = 0; k < h->isl->n; k++) { /* what no host can have to redo */
        island_t *x = &h->is[k];
        uint32_t w = 0;
        for (uint32_t i = 0; i < x->nlog; i++) {
            if (x->log[i].generation >= h->ckpt_generation)
                x->log[w++] = x->log[i];
            else
                qs_bytes_destroy(&x->log[i].bytes);
        }
        x->nlog = w;
    }
    if (h->isl->generation < h->isl->sc->generations) /* not at the end */
        hosting_rebalance(h);
}
