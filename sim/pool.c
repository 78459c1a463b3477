/* pool: the worker records, the one send path and the one receive path, the message
 * switch, dispatch and requeue, dropping a failed worker, the watchdog and shutdown.
 * Local processes are started in sim/pool_local.c, TCP peers accepted in sim/pool_remote.c. */
#include "sim/pool.h"

#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim/pool_impl.h"

#define HEARTBEATS_MISSED 5
/* A worker holding tasks whose heartbeats say idle this many times in a row, for at least
 * IDLE_BEATS_MISSED heartbeat periods plus a second, is lying: dropped, tasks requeued. */
#define IDLE_BEATS_MISSED 3
/* Bytes queued for a worker beyond what it could need (the data set, a full in-flight
 * window of tasks, the config): it is not reading, and is dropped. */
#define QUEUE_SLACK       ((size_t)16 << 20)
#define STARTUP_TIMEOUT_S 60.0
#define SHUTDOWN_GRACE_MS 3000

/* ---- events --------------------------------------------------------------------------------- */

void pool_event(qs_pool_t *p, int loud, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (p->o.on_event)
        p->o.on_event(p->o.ctx, loud, msg);
}

void pool_fatal(qs_pool_t *p, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (p->o.on_fatal)
        p->o.on_fatal(p->o.ctx, msg);
    else
        qs_pool_shutdown(p, "run stopped");
}

uint32_t qs_pool_busy(const qs_pool_t *p)
{
    uint32_t n = 0;
    for (const worker_t *w = p->workers; w; w = w->next)
        n += w->ninflight > 0;
    return n;
}

uint32_t qs_pool_ready(const qs_pool_t *p)
{
    uint32_t n = 0;
    for (const worker_t *w = p->workers; w; w = w->next)
        n += w->ready && !w->dying;
    return n;
}

const qs_pool_stats_t *qs_pool_stats(const qs_pool_t *p)
{
    return &p->stats;
}

/* ---- writing to workers ---------------------------------------------------------------------- */

typedef struct {
    uv_write_t req;
    qs_bytes_t bytes;
} write_req_t;

static void on_written(uv_write_t *req, int status)
{
    write_req_t *wr = (write_req_t *)req;
    worker_t *w = req->data;
    if (status < 0 && status != UV_ECANCELED && w && !w->dying)
        pool_worker_fail(w, "write failed: %s", uv_strerror(status));
    qs_bytes_destroy(&wr->bytes);
    free(wr);
}

/* The first config whose data set has this hash (nconfigs: none). */
static uint32_t data_index(const qs_pool_t *p, uint32_t hash)
{
    uint32_t c = 0;
    while (c < p->o.nconfigs && !(p->o.data[c] && p->o.data[c]->hash == hash))
        c++;
    return c;
}

/* The most a worker may have waiting to be sent to it: the data set once, a full window of
 * the largest tasks, and QUEUE_SLACK for the rest. */
static size_t queue_limit(const qs_pool_t *p)
{
    size_t data = 0, genome = 0;
    for (uint32_t c = 0; c < p->o.nconfigs; c++) {
        const qs_data_t *dd = p->o.data[c];
        if (dd && data_index(p, dd->hash) == c) { /* each data set once */
            const qs_dataset_t *d[2] = {&dd->train, &dd->fitness};
            for (int i = 0; i < 2; i++)
                data += (size_t)d[i]->count * ((size_t)d[i]->rows * d[i]->cols + 1);
        }
        const qs_msg_config_t *cf = p->o.configs[c];
        for (uint32_t s = 0; s < cf->nspecies; s++)
            genome = QS_MAX(genome, qs_quine_nparams(&cf->species[s].spec) * sizeof(float));
    }
    return data + 2 * (size_t)QS_MAX(p->o.in_flight, 1) * (genome + 4096) + QUEUE_SLACK;
}

/* Send one message (encoded here) to w: the only place bytes go to a worker. */
void pool_send(worker_t *w, const qs_msg_t *m)
{
    if (w->dying)
        return;
    write_req_t *wr = xcalloc(1, sizeof *wr);
    qs_bytes_init(&wr->bytes);
    qs_msg_encode(m, &wr->bytes);
    uv_buf_t buf = uv_buf_init((char *)wr->bytes.data, (unsigned)wr->bytes.len);
    wr->req.data = w;
    w->p->stats.bytes_sent += wr->bytes.len;
    int rc = uv_write(&wr->req, w->tx, &buf, 1, on_written);
    if (rc < 0) {
        qs_bytes_destroy(&wr->bytes);
        free(wr);
        pool_worker_fail(w, "write failed: %s", uv_strerror(rc));
        return;
    }
    size_t queued = uv_stream_get_write_queue_size(w->tx), limit = queue_limit(w->p);
    if (queued > limit)
        pool_worker_fail(w, "is not reading: %zu bytes wait to be sent to it (at most %zu)", queued,
                         limit);
}

/* ---- tasks ----------------------------------------------------------------------------------- */

void qs_pool_submit(qs_pool_t *p, qs_pool_task_t *t)
{
    t->state = QS_POOL_TASK_PENDING;
    t->next = NULL;
    if (p->qtail)
        p->qtail->next = t;
    else
        p->qhead = t;
    p->qtail = t;
    p->qlen++;
}

static qs_pool_task_t *dequeue(qs_pool_t *p)
{
    qs_pool_task_t *t = p->qhead;
    p->qhead = t->next;
    if (!p->qhead)
        p->qtail = NULL;
    p->qlen--;
    t->next = NULL;
    return t;
}

uint32_t qs_pool_cancel(qs_pool_t *p, const void *ctx)
{
    uint32_t n = 0;
    qs_pool_task_t **link = &p->qhead, *last = NULL;
    while (*link) {
        qs_pool_task_t *t = *link;
        if (t->ctx == ctx) {
            *link = t->next;
            t->next = NULL;
            t->state = QS_POOL_TASK_DONE;
            p->qlen--;
            n++;
        } else {
            last = t;
            link = &t->next;
        }
    }
    p->qtail = last;
    return n;
}

static void send_task(worker_t *w, qs_pool_task_t *t)
{
    qs_msg_t m = {.type = QS_MSG_TASK};
    t->ops->encode(t, &m);
    if (w->ninflight == 0)
        w->busy_since = qs_now();
    w->inflight[w->ninflight++] = t;
    t->state = QS_POOL_TASK_SENT;
    w->p->stats.tasks_sent++;
    pool_send(w, &m); /* the task borrows what it sends: nothing to free */
}

static worker_t *find_worker(const qs_pool_t *p, uint64_t uid)
{
    for (worker_t *w = p->workers; w; w = w->next)
        if (w->uid == uid && w->ready && !w->dying)
            return w;
    return NULL;
}

const char *qs_pool_worker_name(const qs_pool_t *p, uint64_t worker)
{
    const worker_t *w = find_worker(p, worker);
    return w ? w->name : "?";
}

uint32_t qs_pool_ready_ids(const qs_pool_t *p, uint64_t *ids, uint32_t cap)
{
    uint32_t n = 0;
    for (const worker_t *w = p->workers; w; w = w->next)
        if (w->ready && !w->dying) {
            if (n < cap)
                ids[n] = w->uid;
            n++;
        }
    return n;
}

int qs_pool_submit_to(qs_pool_t *p, qs_pool_task_t *t, uint64_t worker)
{
    worker_t *w = find_worker(p, worker);
    if (!w)
        return -1;
    t->state = QS_POOL_TASK_PENDING;
    t->pin = worker;
    t->next = NULL;
    if (w->ptail)
        w->ptail->next = t;
    else
        w->phead = t;
    w->ptail = t;
    return 0;
}

int qs_pool_send_to(qs_pool_t *p, uint64_t worker, const qs_msg_t *m)
{
    worker_t *w = find_worker(p, worker);
    if (!w)
        return -1;
    pool_send(w, m);
    return 0;
}

/* w's pinned tasks, in order, as far as its window allows. */
static void dispatch_pinned(worker_t *w)
{
    while (w->phead && w->ninflight < QS_POOL_MAX_INFLIGHT && !w->dying) {
        qs_pool_task_t *t = w->phead;
        w->phead = t->next;
        if (!w->phead)
            w->ptail = NULL;
        t->next = NULL;
        send_task(w, t);
    }
}

void qs_pool_dispatch(qs_pool_t *p)
{
    if (p->stopping)
        return;
    for (worker_t *w = p->workers; w; w = w->next)
        if (w->ready && !w->dying)
            dispatch_pinned(w);
    uint32_t in_flight = QS_MIN(p->o.in_flight, QS_POOL_MAX_INFLIGHT), nready = qs_pool_ready(p);
    /* Round-robin, one task per worker per pass, so work spreads evenly. A worker gets a
     * second (third...) queued task only while the queue holds more than one task per
     * worker: near the end of a generation a task waits in the shared queue for the first
     * free worker instead of behind a busy one. */
    int progress = 1;
    while (p->qlen > 0 && progress) {
        progress = 0;
        uint32_t limit = p->qlen > nready ? in_flight : 1;
        for (worker_t *w = p->workers; w && p->qlen > 0; w = w->next) {
            if (!w->ready || w->dying || w->ninflight >= limit)
                continue;
            send_task(w, dequeue(p));
            progress = 1;
        }
    }
}

/* Put w's tasks back in the queue; the one it was computing counts as a failed attempt.
 * Pinned tasks are dropped with the worker: on_worker tells their owner. */
void pool_requeue(worker_t *w, const char *reason)
{
    qs_pool_t *p = w->p;
    qs_pool_task_t *failed = NULL;
    int was_ready = w->ready && w->uid;
    w->dying = 1;
    for (qs_pool_task_t *t = w->phead; t; t = t->next)
        t->state = QS_POOL_TASK_DONE;
    w->phead = w->ptail = NULL;
    for (uint32_t k = 0; k < w->ninflight; k++) {
        qs_pool_task_t *t = w->inflight[k];
        if (t->state != QS_POOL_TASK_SENT)
            continue;
        if (t->pin) {
            t->state = QS_POOL_TASK_DONE;
            continue;
        }
        if (k == 0) {
            t->attempts++;
            snprintf(t->last_error, sizeof t->last_error, "%s", reason);
            failed = t;
        }
        qs_pool_submit(p, t);
    }
    w->ninflight = 0;
    if (failed && failed->attempts >= QS_POOL_MAX_TASK_ATTEMPTS && failed->ops->on_task_failed)
        failed->ops->on_task_failed(failed);
    if (was_ready && p->o.on_worker && !p->stopping)
        p->o.on_worker(p->o.ctx, w->uid, 0);
}

/* ---- messages from workers ------------------------------------------------------------------ */

static int inflight_position(const worker_t *w, uint64_t task_id)
{
    for (uint32_t k = 0; k < w->ninflight; k++)
        if (w->inflight[k]->id == task_id)
            return (int)k;
    return -1;
}

/* w's species are built: a local worker that dies from now on has started. */
static void mark_set_up(worker_t *w)
{
    if (w->set_up)
        return;
    w->set_up = 1;
    if (w->slot)
        pool_local_ready(w);
}

/* Task inflight[pos] of w is answered and taken: the pool lets go of it. */
static void complete(worker_t *w, int pos, uint64_t task_id)
{
    qs_pool_task_t *t = w->inflight[pos];
    memmove(&w->inflight[pos], &w->inflight[pos + 1],
            (w->ninflight - (uint32_t)pos - 1) * sizeof w->inflight[0]);
    w->ninflight--;
    w->busy_since = qs_now();
    w->results++;
    w->last_result = task_id;
    mark_set_up(w);
    w->idle_beats = 0;
    t->state = QS_POOL_TASK_DONE;
    t->ops->on_done(t);
    qs_pool_dispatch(w->p);
}

/* The one place a result is received. */
static void handle_result(worker_t *w, qs_life_result_t *r)
{
    int pos = inflight_position(w, r->task_id);
    if (pos < 0) {
        pool_worker_fail(w, "result for task %" PRIu64 ", which it was not given", r->task_id);
        return;
    }
    qs_pool_task_t *t = w->inflight[pos];
    qs_error_t err = {0};
    if (t->pin || t->ops->on_result(t, r, &err) < 0) {
        pool_worker_fail(w, "%s", t->pin ? "a result for an island task" : err.msg);
        return;
    }
    complete(w, pos, r->task_id);
}

/* The answer to a pinned task (an island's host): island_records or island_genomes. */
static void handle_reply(worker_t *w, uint64_t task_id, qs_msg_t *m)
{
    int pos = inflight_position(w, task_id);
    if (pos < 0 || !w->inflight[pos]->pin) {
        pool_worker_fail(w, "%s for task %" PRIu64 ", which it was not given as an island's host",
                         qs_msg_type_name(m->type), task_id);
        return;
    }
    qs_pool_task_t *t = w->inflight[pos];
    qs_error_t err = {0};
    if (t->ops->on_reply(t, m, &err) < 0) {
        pool_worker_fail(w, "%s", err.msg);
        return;
    }
    complete(w, pos, task_id);
}

/* A worker's hello names its kernels: run.log records them, and the run warns when they
 * differ between workers (different kernels round differently: results would then depend
 * on who computed what) or when a worker cannot replicate at the run's precision. */
static void hello_kernels(worker_t *w, const qs_msg_hello_t *h)
{
    qs_pool_t *p = w->p;
    const char *blas = h->blas[0] ? h->blas : "unknown", *isa = h->isa[0] ? h->isa : "unknown";
    int bf16 = 0;
    for (uint32_t c = 0; c < p->o.nconfigs; c++)
        bf16 |= p->o.configs[c]->precision == QS_PREC_BF16;
    pool_event(p, 0, "%s ready (pid %" PRId64 " on %s, OpenBLAS %s, oneDNN %s)", w->name, h->pid,
               h->host, blas, isa);
    if (!p->blas_core[0])
        snprintf(p->blas_core, sizeof p->blas_core, "%s", blas);
    else if (strcmp(p->blas_core, blas) != 0)
        pool_event(p, 1,
                   "warning: %s uses OpenBLAS '%s' kernels, earlier workers '%s': results may "
                   "differ in the last bits from a run on one kind of machine",
                   w->name, blas, p->blas_core);
    /* oneDNN computes only at bf16 (fp32 is OpenBLAS's): its ISA matters only then. */
    if (!p->isa[0])
        snprintf(p->isa, sizeof p->isa, "%s", isa);
    else if (bf16 && strcmp(p->isa, isa) != 0)
        pool_event(p, 1,
                   "warning: %s runs oneDNN's '%s' kernels, earlier workers '%s': bf16 results "
                   "may differ from a run on one kind of machine",
                   w->name, isa, p->isa);
    if (bf16 && !qs_mm_isa_bf16(isa) && !p->warned_no_bf16) {
        p->warned_no_bf16 = 1;
        pool_event(p, 1,
                   "[replication] precision = bf16 asked, but %s has no native bf16 products "
                   "(oneDNN ISA %s): it replicates in fp32",
                   w->name, isa);
    }
}

static void handle_hello(worker_t *w, const qs_msg_hello_t *h)
{
    qs_pool_t *p = w->p;
    if (w->ready) {
        pool_worker_fail(w, "said hello twice");
        return;
    }
    if (w->remote && !pool_remote_hello_ok(w, h))
        return;
    w->ready = 1;
    hello_kernels(w, h);
    for (uint32_t i = 0; i < p->o.nconfigs; i++) {
        qs_msg_t c = {.type = QS_MSG_CONFIG};
        c.u.config = *p->o.configs[i];
        c.u.config.index = i;
        c.u.config.count = p->o.nconfigs;
        pool_send(w, &c);
    }
    if (p->o.on_worker)
        p->o.on_worker(p->o.ctx, w->uid, 1);
    qs_pool_dispatch(p);
}

/* A heartbeat must agree with the tasks w holds: the task it names is one of them (or the
 * one it just answered), "setting up" only before its first result, and "idle" while it
 * holds tasks for no longer than a few periods. */
static void handle_heartbeat(worker_t *w, uint64_t task_id)
{
    if (task_id == QS_HEARTBEAT_SETTING_UP) {
        w->idle_beats = 0;
        if (w->results > 0)
            pool_worker_fail(
                w, "heartbeats say it is setting up after it answered %" PRIu64 " task(s)",
                w->results);
        return;
    }
    mark_set_up(w);
    if (task_id != 0) {
        w->idle_beats = 0;
        if (inflight_position(w, task_id) < 0 && !(w->results > 0 && task_id == w->last_result))
            pool_worker_fail(w, "heartbeat names task %" PRIu64 ", which it does not hold",
                             task_id);
        return;
    }
    if (w->ninflight == 0) {
        w->idle_beats = 0;
        return;
    }
    double held = qs_now() - w->busy_since;
    if (++w->idle_beats >= IDLE_BEATS_MISSED &&
        held > IDLE_BEATS_MISSED * w->p->o.heartbeat_s + 1.0)
        pool_worker_fail(w,
                         "heartbeats say idle while it holds %u task(s) (%u in a row, %.1fs after "
                         "it was given them)",
                         w->ninflight, w->idle_beats, held);
}

static void handle_msg(worker_t *w, qs_msg_t *m)
{
    w->last_heard = qs_now();
    switch (m->type) {
    case QS_MSG_HELLO:
        handle_hello(w, &m->u.hello);
        return;
    case QS_MSG_RESULT:
        handle_result(w, &m->u.result);
        return;
    case QS_MSG_ISLAND_RECORDS:
        handle_reply(w, m->u.island_records.task_id, m);
        return;
    case QS_MSG_ISLAND_GENOMES:
        handle_reply(w, m->u.island_genomes.task_id, m);
        return;
    case QS_MSG_HEARTBEAT:
        handle_heartbeat(w, m->u.heartbeat.task_id);
        return;
    case QS_MSG_DATA_REQUEST: {
        uint32_t hash = m->u.data_request.data_hash, c = data_index(w->p, hash);
        if (c == w->p->o.nconfigs) {
            const qs_data_t *d0 = w->p->o.data[0];
            pool_worker_fail(w, "asked for data set %08x, the run's is %08x%s", hash,
                             d0 ? d0->hash : 0, w->p->o.nconfigs > 1 ? " (and others)" : "");
            return;
        }
        if (w->data_sent[c / 64] & (uint64_t)1 << (c % 64)) {
            pool_worker_fail(w, "asked for the data set a second time");
            return;
        }
        w->data_sent[c / 64] |= (uint64_t)1 << (c % 64);
        pool_remote_send_data(w, w->p->o.data[c]);
        return;
    }
    case QS_MSG_ERROR:
        if (m->u.error.task_id) {
            /* The worker could not compute a task: that task counts a failed attempt. */
            pool_worker_fail(w, "error on task %" PRIu64 ": %s", m->u.error.task_id,
                             m->u.error.message);
        } else {
            pool_worker_fail(w, "reported an error: %s", m->u.error.message);
        }
        return;
    default:
        pool_worker_fail(w, "sent an unexpected %s message", qs_msg_type_name(m->type));
        return;
    }
}

void pool_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    (void)h;
    buf->base = xmalloc(suggested);
    buf->len = suggested;
}

/* Bytes from a worker: frames, decoded into messages, one at a time. */
static void on_worker_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
    worker_t *w = s->data;
    if (nread < 0) {
        if (nread == UV_EOF && !w->remote) {
            /* A local worker's output ends when it exits: its exit callback tells why. */
            uv_read_stop(s);
        } else if (!w->dying) {
            pool_worker_fail(w, "%s",
                             nread == UV_EOF ? "closed the connection" : uv_strerror((int)nread));
        }
        free(buf->base);
        return;
    }
    const uint8_t *q = (const uint8_t *)buf->base;
    size_t left = (size_t)nread;
    w->p->stats.bytes_received += left;
    while (left > 0 && !w->dying) {
        size_t used = 0, plen = 0;
        const uint8_t *payload = NULL;
        qs_error_t err = {0};
        int rc = qs_frame_reader_feed(&w->reader, q, left, &used, &payload, &plen, &err);
        q += used;
        left -= used;
        if (rc < 0) {
            pool_worker_fail(w, "sent malformed data: %s", err.msg);
            break;
        }
        if (rc == 0)
            break;
        qs_msg_t m;
        if (qs_msg_decode(&m, payload, plen, &err) < 0) {
            pool_worker_fail(w, "sent a bad message: %s", err.msg);
            break;
        }
        if ((unsigned)m.type < QS_ARRAY_LEN(w->p->stats.received_by_type))
            w->p->stats.received_by_type[m.type] += QS_FRAME_HEADER + plen;
        handle_msg(w, &m);
        qs_msg_destroy(&m);
    }
    free(buf->base);
}

void pool_start_reading(worker_t *w)
{
    uv_read_start(w->rx, pool_alloc, on_worker_read);
}

/* ---- workers' lives ------------------------------------------------------------------------- */

void pool_link_worker(qs_pool_t *p, worker_t *w)
{
    w->p = p;
    w->uid = ++p->next_uid;
    w->next = p->workers;
    p->workers = w;
    w->started = w->last_heard = qs_now();
}

void pool_close_handles(qs_pool_t *p)
{
    if (p->handles_closed)
        return;
    p->handles_closed = 1;
    uv_close((uv_handle_t *)&p->watchdog, NULL);
    uv_close((uv_handle_t *)&p->kill_timer, NULL);
    pool_remote_stop(p);
    pool_local_close(p);
    if (p->o.on_stopped)
        p->o.on_stopped(p->o.ctx);
}

static void on_worker_closed(uv_handle_t *h)
{
    worker_t *w = h->data;
    if (--w->open_handles > 0)
        return;
    qs_pool_t *p = w->p;
    worker_t **pp = &p->workers;
    while (*pp && *pp != w)
        pp = &(*pp)->next;
    if (*pp)
        *pp = w->next;
    qs_frame_reader_destroy(&w->reader);
    free(w);
    if (p->stopping && !p->workers)
        pool_close_handles(p); /* everything is down: let uv_run return */
}

void pool_close_worker(worker_t *w)
{
    uv_handle_t *local[] = {(uv_handle_t *)&w->in, (uv_handle_t *)&w->out, (uv_handle_t *)&w->err,
                            (uv_handle_t *)&w->proc};
    uv_handle_t *remote[] = {(uv_handle_t *)&w->tcp, (uv_handle_t *)&w->auth_timer};
    uv_handle_t **hs = w->remote ? remote : local;
    size_t n = w->remote ? QS_ARRAY_LEN(remote) : QS_ARRAY_LEN(local);
    for (size_t i = 0; i < n; i++)
        if (!uv_is_closing(hs[i]))
            uv_close(hs[i], on_worker_closed);
}

/* Drop w: its tasks go back to the queue; a local process is killed (its exit callback
 * closes and respawns it), a remote peer is disconnected. */
void pool_worker_fail(worker_t *w, const char *fmt, ...)
{
    if (w->dying)
        return;
    qs_pool_t *p = w->p;
    char reason[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(reason, sizeof reason, fmt, ap);
    va_end(ap);
    w->dying = 1;
    uv_read_stop(w->rx);
    if (w->unlogged && !w->ready)
        p->preauth_unlogged++;
    else if (w->ninflight && w->inflight[0]->pin)
        pool_event(p, 1, "%s %s: %s it (it hosted islands: they go to other workers)", w->name,
                   reason, w->remote ? "disconnecting" : "killing");
    else
        pool_event(p, 1, "%s %s: %s it, its %u task(s) go back to the queue", w->name, reason,
                   w->remote ? "disconnecting" : "killing", w->ninflight);
    pool_requeue(w, reason);
    if (w->remote)
        pool_close_worker(w); /* a remote peer is simply dropped */
    else if (w->alive)
        uv_process_kill(&w->proc, SIGKILL);
    if (!p->stopping)
        qs_pool_dispatch(p);
}

static void on_watchdog(uv_timer_t *t)
{
    qs_pool_t *p = t->data;
    if (p->stopping)
        return;
    double now = qs_now(), hb = p->o.heartbeat_s;
    /* Late by more than a heartbeat period, the loop itself was not running (a slow
     * checkpoint write, the machine busy): what the workers sent meanwhile waits unread
     * (timers run before the loop polls), so silence is judged on the next tick. */
    int stalled = now - p->watchdog_last > QS_MIN(hb, 1.0) * 0.5 + hb;
    p->watchdog_last = now;
    pool_remote_log_flush(p, 0);
    for (worker_t *w = p->workers; w; w = w->next) {
        if (w->dying || (!w->alive && !w->remote))
            continue;
        if (!w->ready) {
            if (now - w->started > STARTUP_TIMEOUT_S)
                pool_worker_fail(w, "did not say hello within %.0fs", STARTUP_TIMEOUT_S);
            continue;
        }
        if (!stalled && now - w->last_heard > HEARTBEATS_MISSED * hb) {
            pool_worker_fail(w, "silent for %.1fs (%d heartbeats missed: hung or stopped)",
                             now - w->last_heard, HEARTBEATS_MISSED);
            continue;
        }
        uint32_t lives = w->ninflight > 0 ? QS_MAX(w->inflight[0]->lives, 1) : 1;
        if (w->ninflight > 0 && now - w->busy_since > p->o.task_timeout_s * lives) {
            char what[96] = "a task";
            w->inflight[0]->ops->describe(w->inflight[0], what, sizeof what);
            pool_worker_fail(w, "task of %s ran past task_timeout_s = %gs (x %u lives)", what,
                             p->o.task_timeout_s, lives);
        }
    }
}

/* ---- shutdown ------------------------------------------------------------------------------- */

void qs_pool_kill_all(qs_pool_t *p)
{
    for (worker_t *w = p->workers; w; w = w->next)
        if (w->alive)
            uv_process_kill(&w->proc, SIGKILL);
}

static void on_kill_timer(uv_timer_t *t)
{
    qs_pool_t *p = t->data;
    for (worker_t *w = p->workers; w; w = w->next) {
        if (w->alive)
            uv_process_kill(&w->proc, SIGKILL);
        else if (w->remote)
            pool_close_worker(w);
    }
}

static void on_remote_shutdown(uv_shutdown_t *req, int status)
{
    (void)status;
    worker_t *w = req->data;
    free(req);
    pool_close_worker(w);
}

void qs_pool_shutdown(qs_pool_t *p, const char *reason)
{
    if (p->stopping)
        return;
    p->stopping = 1;
    uv_timer_stop(&p->watchdog);
    pool_local_stop(p);
    pool_remote_stop(p);
    for (worker_t *w = p->workers; w; w = w->next) {
        int was_dying = w->dying;
        if (!w->dying && w->ready) {
            qs_msg_t m = {.type = QS_MSG_SHUTDOWN};
            snprintf(m.u.shutdown.reason, sizeof m.u.shutdown.reason, "%s", reason);
            pool_send(w, &m);
        }
        w->dying = 1;
        if (w->remote) {
            /* Let the shutdown message drain, then close. */
            uv_shutdown_t *req = xcalloc(1, sizeof *req);
            req->data = w;
            if (was_dying || uv_is_closing((uv_handle_t *)&w->tcp) ||
                uv_shutdown(req, (uv_stream_t *)&w->tcp, on_remote_shutdown) < 0) {
                free(req);
                pool_close_worker(w);
            }
            continue;
        }
        /* Local: closing its stdin ends it (EOF); the kill timer makes sure. */
        if (!uv_is_closing((uv_handle_t *)&w->in))
            uv_close((uv_handle_t *)&w->in, on_worker_closed);
        if (!w->alive)
            pool_close_worker(w);
    }
    uv_timer_start(&p->kill_timer, on_kill_timer, SHUTDOWN_GRACE_MS, 0);
    if (!p->workers)
        pool_close_handles(p);
}

/* ---- set-up --------------------------------------------------------------------------------- */

qs_pool_t *qs_pool_new(uv_loop_t *loop, const qs_pool_opts_t *opts)
{
    qs_pool_t *p = xcalloc(1, sizeof *p);
    p->loop = loop;
    p->o = *opts;
    uv_timer_init(loop, &p->watchdog);
    uv_timer_init(loop, &p->kill_timer);
    p->watchdog.data = p->kill_timer.data = p;
    double tick = QS_MIN(p->o.heartbeat_s, 1.0) * 500;
    uv_timer_start(&p->watchdog, on_watchdog, (uint64_t)tick, (uint64_t)QS_MAX(tick, 1));
    p->watchdog_last = qs_now();
    pool_local_init(p);
    return p;
}

void qs_pool_free(qs_pool_t *p)
{
    if (!p)
        return;
    pool_local_destroy(p);
    free(p);
}
