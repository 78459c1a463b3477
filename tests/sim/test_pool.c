/* Tests for sim/pool on its own: no orchestrator, no worker processes. Fake workers on
 * the test's own loop connect to the pool over loopback TCP and speak the protocol; some
 * drop the connection on their first task. The pool must hand every task to a worker,
 * each result to its task's callbacks once, put a dead worker's tasks back in the queue
 * (the one it was computing counting a failed attempt), and give up on a task after
 * QS_POOL_MAX_TASK_ATTEMPTS workers. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "proto/frame.h"
#include "sim/pool.h"

#define NTASKS 3

typedef struct {
    qs_pool_task_t t;
    uint32_t organism;
    int results, done, failed;
} tt_task_t;

typedef struct fake fake_t;

typedef struct {
    uv_loop_t loop;
    qs_pool_t *pool;
    qs_msg_config_t config;
    const qs_msg_config_t *configs[1];
    tt_task_t tasks[NTASKS];
    float weight;
    int port;
    int dying_fakes; /* fakes still to connect that drop their first task */
    int fakes;       /* connected so far */
    int done, failed, stopped, dropped, bad_results;
    uint64_t result_for; /* nonzero: the next fake answers with this task id instead */
    /* nonzero: on its first task the next fake heartbeats this task id instead of answering
     * (QS_HEARTBEAT_SETTING_UP: it answers, then heartbeats "setting up") */
    uint64_t heartbeat_for;
    char last_event[1024], first_drop[1024];
    /* with run_pool's `stranger`: a task of another ctx queued among them, then cancelled */
    tt_task_t stranger;
    uint32_t cancelled;
} tt_t;

struct fake {
    tt_t *tt;
    uv_tcp_t tcp;
    uv_connect_t req;
    qs_frame_reader_t reader;
    int dies_on_task;
};

static void fake_connect(tt_t *tt);

/* ---- the tasks' callbacks ---------------------------------------------------------------------
 */

static void t_encode(qs_pool_task_t *t, qs_msg_t *m)
{
    tt_task_t *x = (tt_task_t *)t;
    tt_t *tt = t->ctx;
    m->u.task.task_id = t->id;
    m->u.task.kind = QS_TASK_ECHO;
    m->u.task.organism = x->organism;
    m->u.task.nweights = 1;
    m->u.task.weights = &tt->weight;
}

static int t_result(qs_pool_task_t *t, qs_life_result_t *r, qs_error_t *err)
{
    tt_task_t *x = (tt_task_t *)t;
    if (r->organism != x->organism)
        return qs_error_set(err, QS_ERR(PEER), "wrong organism");
    x->results++;
    return 0;
}

static void t_done(qs_pool_task_t *t)
{
    tt_t *tt = t->ctx;
    ((tt_task_t *)t)->done++;
    if (++tt->done == NTASKS)
        qs_pool_shutdown(tt->pool, "run complete");
}

static void t_failed(qs_pool_task_t *t)
{
    tt_t *tt = t->ctx;
    ((tt_task_t *)t)->failed++;
    tt->failed++;
    qs_pool_shutdown(tt->pool, "run stopped");
}

static void t_describe(const qs_pool_task_t *t, char *buf, size_t cap)
{
    snprintf(buf, cap, "organism %u", ((const tt_task_t *)t)->organism);
}

static const qs_pool_task_ops_t ops = {t_encode, t_result, t_done, t_failed, t_describe, NULL};

/* ---- the pool's events ------------------------------------------------------------------------
 */

static void on_event(void *ctx, int loud, const char *msg)
{
    (void)loud;
    tt_t *tt = ctx;
    snprintf(tt->last_event, sizeof tt->last_event, "%s", msg);
    const char *at = strstr(msg, "listening for remote workers on 127.0.0.1:");
    if (at)
        tt->port = atoi(at + strlen("listening for remote workers on 127.0.0.1:"));
    if (strstr(msg, "disconnecting it")) {
        if (!tt->dropped++)
            snprintf(tt->first_drop, sizeof tt->first_drop, "%s", msg);
        if (strstr(msg, "which it was not given"))
            tt->bad_results++;
        fake_connect(tt); /* the next worker comes in */
    }
}

static void on_fatal(void *ctx, const char *msg)
{
    tt_t *tt = ctx;
    cr_log_error("pool fatal: %s", msg);
    qs_pool_shutdown(tt->pool, "run stopped");
}

static void on_stopped(void *ctx)
{
    ((tt_t *)ctx)->stopped++;
}

/* ---- a fake worker ----------------------------------------------------------------------------
 */

static void fake_closed(uv_handle_t *h)
{
    fake_t *f = h->data;
    qs_frame_reader_destroy(&f->reader);
    free(f);
}

static void fake_written(uv_write_t *req, int status)
{
    (void)status;
    qs_bytes_t *b = req->data;
    qs_bytes_destroy(b);
    free(b);
    free(req);
}

static void fake_send(fake_t *f, const qs_msg_t *m)
{
    qs_bytes_t *b = malloc(sizeof *b);
    qs_bytes_init(b);
    qs_msg_encode(m, b);
    uv_write_t *req = malloc(sizeof *req);
    req->data = b;
    uv_buf_t buf = uv_buf_init((char *)b->data, (unsigned)b->len);
    if (uv_write(req, (uv_stream_t *)&f->tcp, &buf, 1, fake_written) < 0)
        fake_written(req, 0);
}

static void fake_close(fake_t *f)
{
    if (!uv_is_closing((uv_handle_t *)&f->tcp))
        uv_close((uv_handle_t *)&f->tcp, fake_closed);
}

static void fake_message(fake_t *f, const qs_msg_t *m)
{
    tt_t *tt = f->tt;
    if (m->type == QS_MSG_CHALLENGE) {
        qs_msg_t h = {.type = QS_MSG_HELLO};
        snprintf(h.u.hello.role, sizeof h.u.hello.role, "worker");
        h.u.hello.pid = getpid();
        snprintf(h.u.hello.host, sizeof h.u.hello.host, "test");
        fake_send(f, &h);
    } else if (m->type == QS_MSG_TASK) {
        if (f->dies_on_task) {
            fake_close(f);
            return;
        }
        qs_msg_t hb = {.type = QS_MSG_HEARTBEAT};
        hb.u.heartbeat.task_id = tt->heartbeat_for;
        tt->heartbeat_for = 0;
        if (hb.u.heartbeat.task_id && hb.u.heartbeat.task_id != QS_HEARTBEAT_SETTING_UP) {
            fake_send(f, &hb); /* and no answer: the pool must drop it */
            return;
        }
        qs_msg_t r = {.type = QS_MSG_RESULT};
        r.u.result.task_id = tt->result_for ? tt->result_for : m->u.task.task_id;
        tt->result_for = 0;
        r.u.result.organism = m->u.task.organism;
        r.u.result.nweights = 1;
        r.u.result.weights = &tt->weight;
        fake_send(f, &r);
        if (hb.u.heartbeat.task_id)
            fake_send(f, &hb);
    } else if (m->type == QS_MSG_SHUTDOWN) {
        fake_close(f);
    }
}

static void fake_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    (void)h;
    buf->base = malloc(suggested);
    buf->len = suggested;
}

static void fake_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
    fake_t *f = s->data;
    const uint8_t *q = (const uint8_t *)buf->base;
    size_t left = nread > 0 ? (size_t)nread : 0;
    if (nread < 0)
        fake_close(f);
    while (left > 0 && !uv_is_closing((uv_handle_t *)&f->tcp)) {
        size_t used = 0, plen = 0;
        const uint8_t *payload = NULL;
        qs_error_t err = {0};
        int rc = qs_frame_reader_feed(&f->reader, q, left, &used, &payload, &plen, &err);
        q += used;
        left -= used;
        if (rc <= 0)
            break;
        qs_msg_t m;
        if (qs_msg_decode(&m, payload, plen, &err) < 0)
            continue; /* e.g. the test's config has no species: not needed here */
        fake_message(f, &m);
        qs_msg_destroy(&m);
    }
    free(buf->base);
}

static void fake_connected(uv_connect_t *req, int status)
{
    fake_t *f = req->data;
    if (status < 0 && f->tt->failed) { /* came in as the pool gave up */
        fake_close(f);
        return;
    }
    cr_assert_eq(status, 0, "connect: %s", uv_strerror(status));
    uv_read_start((uv_stream_t *)&f->tcp, fake_alloc, fake_read);
}

static void fake_connect(tt_t *tt)
{
    fake_t *f = calloc(1, sizeof *f);
    f->tt = tt;
    f->dies_on_task = tt->dying_fakes > 0;
    tt->dying_fakes -= tt->dying_fakes > 0;
    tt->fakes++;
    qs_frame_reader_init(&f->reader, QS_MAX_MESSAGE_DEFAULT);
    uv_tcp_init(&tt->loop, &f->tcp);
    f->tcp.data = f->req.data = f;
    struct sockaddr_in a;
    uv_ip4_addr("127.0.0.1", tt->port, &a);
    uv_tcp_connect(&f->req, &f->tcp, (struct sockaddr *)&a, fake_connected);
}

/* ---- the harness ------------------------------------------------------------------------------
 */

/* A pool listening on loopback, NTASKS tasks submitted, one fake connected (the first
 * dying_fakes fakes drop their first task; with result_for, the first result names that
 * task id; with heartbeat_for, the first task gets that heartbeat); then the loop runs
 * until the pool has stopped. */
static void run_pool_with(tt_t *tt, int dying_fakes, uint64_t result_for, uint64_t heartbeat_for,
                          tt_t *stranger)
{
    memset(tt, 0, sizeof *tt);
    tt->dying_fakes = dying_fakes;
    tt->result_for = result_for;
    tt->heartbeat_for = heartbeat_for;
    tt->weight = 0.5f;
    tt->config.max_message = QS_MAX_MESSAGE_DEFAULT;
    tt->config.heartbeat_s = 10;
    uv_loop_init(&tt->loop);
    static const qs_data_t *const no_data[1] = {NULL};
    tt->configs[0] = &tt->config;
    qs_pool_opts_t po = {.configs = tt->configs,
                         .data = no_data,
                         .nconfigs = 1,
                         .exe = "/nonexistent",
                         .in_flight = 2,
                         .max_restarts = 1,
                         .heartbeat_s = 10,
                         .task_timeout_s = 60,
                         .auth_timeout_s = 10,
                         .ctx = tt,
                         .on_event = on_event,
                         .on_fatal = on_fatal,
                         .on_stopped = on_stopped};
    tt->pool = qs_pool_new(&tt->loop, &po);
    qs_error_t err = {0};
    cr_assert_eq(qs_pool_listen(tt->pool, "127.0.0.1:0", NULL, &err), 0, "%s", err.msg);
    cr_assert_gt(tt->port, 0, "the pool logs the port it listens on");
    for (uint32_t i = 0; i < NTASKS; i++) {
        tt->tasks[i].t = (qs_pool_task_t){.ops = &ops, .ctx = tt, .id = 100 + i};
        tt->tasks[i].organism = 10 + i;
        qs_pool_submit(tt->pool, &tt->tasks[i].t);
        if (stranger && i == 0) {
            tt->stranger.t = (qs_pool_task_t){.ops = &ops, .ctx = stranger, .id = 99};
            tt->stranger.organism = 9;
            qs_pool_submit(tt->pool, &tt->stranger.t);
        }
    }
    if (stranger) {
        tt->cancelled = qs_pool_cancel(tt->pool, stranger);
        tt->cancelled += 10 * qs_pool_cancel(tt->pool, stranger); /* nothing left */
    }
    qs_pool_dispatch(tt->pool); /* no worker yet: the tasks wait */
    cr_assert_eq(qs_pool_stats(tt->pool)->tasks_sent, 0);
    fake_connect(tt);
    uv_run(&tt->loop, UV_RUN_DEFAULT);
    cr_assert_eq(uv_loop_close(&tt->loop), 0, "every handle was closed");
}

static void run_pool(tt_t *tt, int dying_fakes, uint64_t result_for, uint64_t heartbeat_for)
{
    run_pool_with(tt, dying_fakes, result_for, heartbeat_for, NULL);
}

/* Every task's result was taken once and it is done; the pool stopped once. */
static void assert_all_done(const tt_t *tt)
{
    cr_assert_eq(tt->done, NTASKS);
    for (int i = 0; i < NTASKS; i++) {
        cr_assert_eq(tt->tasks[i].results, 1, "task %d: one result taken", i);
        cr_assert_eq(tt->tasks[i].done, 1, "task %d", i);
        cr_assert_eq(tt->tasks[i].t.state, QS_POOL_TASK_DONE);
    }
    cr_assert_eq(tt->stopped, 1, "on_stopped once");
}

static void free_run(tt_t *tt)
{
    qs_pool_free(tt->pool);
    free(tt);
}

TestSuite(pool, .timeout = 30);

Test(pool, every_task_is_computed_once_by_a_worker)
{
    tt_t *tt = malloc(sizeof *tt);
    run_pool(tt, 0, 0, 0);
    assert_all_done(tt);
    for (int i = 0; i < NTASKS; i++)
        cr_assert_eq(tt->tasks[i].t.attempts, 0);
    cr_assert_eq(qs_pool_stats(tt->pool)->tasks_sent, NTASKS);
    cr_assert_eq(tt->dropped, 0);
    free_run(tt);
}

/* A cancelled task (another run's, queued between the first and the second) is never
 * sent; the others are computed in order as if it had not been there. */
Test(pool, a_cancelled_task_is_never_sent)
{
    tt_t *tt = malloc(sizeof *tt), *other = calloc(1, sizeof *other);
    run_pool_with(tt, 0, 0, 0, other);
    cr_assert_eq(tt->cancelled, 1, "one taken, then none");
    assert_all_done(tt);
    cr_assert_eq(tt->stranger.results, 0);
    cr_assert_eq(tt->stranger.done, 0);
    cr_assert_eq(tt->stranger.t.state, QS_POOL_TASK_DONE);
    cr_assert_eq(other->done, 0);
    cr_assert_eq(qs_pool_stats(tt->pool)->tasks_sent, NTASKS);
    free_run(tt);
    free(other);
}

Test(pool, a_dead_workers_tasks_go_to_the_next_worker)
{
    tt_t *tt = malloc(sizeof *tt);
    run_pool(tt, 1, 0, 0);
    cr_assert_eq(tt->dropped, 1, "the first worker was dropped");
    cr_assert_eq(tt->fakes, 2);
    assert_all_done(tt); /* by the second worker */
    /* The first worker had two tasks (three queued, one worker, in_flight 2): the one it
     * was computing counts a failed attempt, the other goes back untouched. */
    cr_assert_eq(tt->tasks[0].t.attempts, 1);
    cr_assert(strstr(tt->tasks[0].t.last_error, "closed the connection"), "%s",
              tt->tasks[0].t.last_error);
    cr_assert_eq(tt->tasks[1].t.attempts, 0);
    cr_assert_eq(tt->tasks[2].t.attempts, 0);
    cr_assert_eq(qs_pool_stats(tt->pool)->tasks_sent, 2 + NTASKS);
    cr_assert_eq(tt->failed, 0);
    free_run(tt);
}

/* Every worker drops its first task: each drop costs one attempt of the task it was
 * computing (the queue rotates, so the attempts spread over the tasks) until one task has
 * failed on QS_POOL_MAX_TASK_ATTEMPTS workers. */
Test(pool, a_task_that_fails_on_every_worker_is_given_up)
{
    tt_t *tt = malloc(sizeof *tt);
    run_pool(tt, 1000, 0, 0);
    cr_assert_eq(tt->failed, 1, "on_task_failed once");
    uint32_t attempts = 0;
    int given_up = -1;
    for (int i = 0; i < NTASKS; i++) {
        attempts += tt->tasks[i].t.attempts;
        if (tt->tasks[i].failed) {
            cr_assert_eq(given_up, -1, "one task given up");
            given_up = i;
        }
    }
    cr_assert_geq(given_up, 0);
    cr_assert_eq(tt->tasks[given_up].t.attempts, QS_POOL_MAX_TASK_ATTEMPTS);
    cr_assert_eq(attempts, (uint32_t)tt->dropped, "one attempt per dropped worker");
    cr_assert_gt(tt->dropped, QS_POOL_MAX_TASK_ATTEMPTS, "other tasks failed in between");
    cr_assert_eq(tt->done, 0);
    cr_assert_eq(tt->stopped, 1);
    free_run(tt);
}

Test(pool, a_result_for_a_task_not_given_drops_the_worker)
{
    tt_t *tt = malloc(sizeof *tt);
    run_pool(tt, 0, 999, 0);
    cr_assert_eq(tt->bad_results, 1, "dropped for it: %s", tt->last_event);
    cr_assert_eq(tt->dropped, 1);
    assert_all_done(tt); /* by the next worker */
    cr_assert_eq(tt->tasks[0].t.attempts, 1, "the task it was computing counts an attempt");
    free_run(tt);
}

/* Heartbeats must agree with what the worker holds (issue 16): one naming a task it was
 * not given, or saying "setting up" after it has answered a task, drops it; its tasks go
 * to the next worker. */
Test(pool, a_heartbeat_that_disagrees_with_the_tasks_drops_the_worker)
{
    tt_t *tt = malloc(sizeof *tt);
    run_pool(tt, 0, 0, 999);
    cr_assert_eq(tt->dropped, 1, "%s", tt->last_event);
    cr_assert(strstr(tt->first_drop, "heartbeat names task 999, which it does not hold"), "%s",
              tt->first_drop);
    assert_all_done(tt); /* by the next worker */
    cr_assert_eq(tt->tasks[0].t.attempts, 1, "the task it was computing counts an attempt");
    free_run(tt);

    tt = malloc(sizeof *tt);
    run_pool(tt, 0, 0, QS_HEARTBEAT_SETTING_UP);
    cr_assert_eq(tt->dropped, 1, "%s", tt->last_event);
    cr_assert(strstr(tt->first_drop, "heartbeats say it is setting up after it answered 1 task"),
              "%s", tt->first_drop);
    assert_all_done(tt);
    free_run(tt);
}
