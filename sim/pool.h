/* pool: worker processes and remote workers that compute tasks, on one libuv loop.
 *
 * The pool supervises workers (local processes over pipes, sim/pool_local.c; remote
 * workers over TCP with authentication, sim/pool_remote.c), keeps every ready worker
 * busy with up to in_flight tasks, and hands each result to the task it answers. It knows
 * nothing of generations or organisms: a task carries its own callbacks.
 *
 * Operational limits: a task running past task_timeout_s, a worker silent for five
 * heartbeats (hung or stopped), a worker that exits or writes garbage: the worker is
 * killed (or disconnected), its tasks go back to the queue, a local one is respawned with
 * backoff. A worker that keeps failing at start-up ends the pool (on_fatal); a task that
 * fails on several workers calls its on_task_failed. Every such event goes to on_event. */
#ifndef QS_POOL_H
#define QS_POOL_H

#include <stdint.h>
#include <uv.h>

#include "core/util.h"
#include "proto/wire.h"
#include "sim/dataset.h"

#define QS_POOL_MAX_INFLIGHT      64 /* tasks per worker at most */
#define QS_POOL_MAX_TASK_ATTEMPTS 3

typedef struct qs_pool qs_pool_t;
typedef struct qs_pool_task qs_pool_task_t;

/* What a task does at each step; one table is shared by many tasks (ctx tells them apart). */
typedef struct {
    /* Fill m->u.task (m->type is QS_MSG_TASK) to send t; borrowed data must stay valid
     * until the task is done or the pool is freed. */
    void (*encode)(qs_pool_task_t *t, qs_msg_t *m);
    /* A worker's result for t. Returns 0 if taken, or < 0 with err set: the result is bad,
     * the worker is dropped and t goes back to the queue. */
    int (*on_result)(qs_pool_task_t *t, qs_life_result_t *r, qs_error_t *err);
    /* t is done (after on_result took it and the pool let go of it). May submit tasks. */
    void (*on_done)(qs_pool_task_t *t);
    /* t failed on QS_POOL_MAX_TASK_ATTEMPTS workers; the last reason is t->last_error. */
    void (*on_task_failed)(qs_pool_task_t *t);
    /* A name for messages ("organism 12"). */
    void (*describe)(const qs_pool_task_t *t, char *buf, size_t cap);
    /* Pinned tasks (an island's host, sim/hosting.h): the worker's answer, an
     * island_records or island_genomes message naming t's id (taken as on_result is). */
    int (*on_reply)(qs_pool_task_t *t, qs_msg_t *m, qs_error_t *err);
} qs_pool_task_ops_t;

typedef enum { QS_POOL_TASK_PENDING, QS_POOL_TASK_SENT, QS_POOL_TASK_DONE } qs_pool_task_state_t;

/* Caller-owned; it must stay in place from qs_pool_submit until on_done, on_task_failed
 * or qs_pool_free. The caller sets ops, ctx and id (the task_id its message carries). */
struct qs_pool_task {
    const qs_pool_task_ops_t *ops;
    void *ctx;
    uint64_t id;
    /* the lives it computes (an island's generation: its organisms): it may take that many
     * task_timeout_s (0: one) */
    uint32_t lives;
    /* the pool's */
    uint64_t pin; /* the one worker it goes to (qs_pool_submit_to), 0: any */
    qs_pool_task_state_t state;
    uint32_t attempts;
    char last_error[192];
    qs_pool_task_t *next; /* in the queue */
};

typedef struct {
    /* The runs' configs, sent to each worker after its hello as config i of nconfigs (a
     * task names its config in its message); data[i] is config i's data set, sent on a
     * request for its hash (data[i] may be NULL: none). All borrowed; nconfigs >= 1. */
    const qs_msg_config_t *const *configs;
    const qs_data_t *const *data;
    uint32_t nconfigs;
    const char *exe;       /* the program local workers run (`EXE worker --stdio`) */
    uint32_t in_flight;    /* tasks per worker (at most QS_POOL_MAX_INFLIGHT) */
    uint32_t max_restarts; /* start-up failures in a row before on_fatal */
    uint32_t memory_mb;    /* a local worker's --memory-mb */
    double heartbeat_s, task_timeout_s, auth_timeout_s;
    /* events: the pool's messages (`loud` ones are meant for the terminal too), a fatal
     * error (the caller shuts the pool down), and the end of qs_pool_shutdown (every worker
     * and pool handle closed). */
    void *ctx;
    void (*on_event)(void *ctx, int loud, const char *msg);
    void (*on_fatal)(void *ctx, const char *msg);
    void (*on_stopped)(void *ctx);
    /* (optional) A worker is ready for tasks (up: it said hello and has the configs), or a
     * ready one is gone (its pinned tasks are dropped, not requeued: its state is lost). */
    void (*on_worker)(void *ctx, uint64_t worker, int up);
} qs_pool_opts_t;

typedef struct {
    uint64_t bytes_sent, bytes_received; /* to and from workers */
    uint64_t tasks_sent;                 /* a requeued task counts again */
    uint64_t received_by_type[32];       /* bytes received, by message type (whole frames) */
} qs_pool_stats_t;

/* A pool on loop (its handles are started at once). Free with qs_pool_free once
 * on_stopped was called and the loop has closed. */
qs_pool_t *qs_pool_new(uv_loop_t *loop, const qs_pool_opts_t *opts);
void qs_pool_free(qs_pool_t *p);

/* Listen for remote workers on HOST:PORT; with token_file (else loopback only) they must
 * authenticate. Logs the bound port. */
int qs_pool_listen(qs_pool_t *p, const char *hostport, const char *token_file, qs_error_t *err);

/* Start n local worker places (numbered from 0), each respawned when its worker dies. */
void qs_pool_spawn(qs_pool_t *p, uint32_t n);

/* Queue t; qs_pool_dispatch sends queued tasks to ready workers (call it after a batch). */
void qs_pool_submit(qs_pool_t *p, qs_pool_task_t *t);
void qs_pool_dispatch(qs_pool_t *p);
/* Take every queued (not yet sent) task whose ctx is ctx out of the queue, the others
 * keeping their order; they are left DONE without callbacks (a run that stopped: its
 * tasks would only be computed to be dropped). Tasks already sent are not touched.
 * Returns how many were taken. */
uint32_t qs_pool_cancel(qs_pool_t *p, const void *ctx);
/* Queue t for worker `worker` only (an id from on_worker), in order; -1 if that worker is
 * gone. Its messages are sent by qs_pool_dispatch. */
int qs_pool_submit_to(qs_pool_t *p, qs_pool_task_t *t, uint64_t worker);
/* Send one message that is no task to a worker (-1 if it is gone). */
int qs_pool_send_to(qs_pool_t *p, uint64_t worker, const qs_msg_t *m);
/* The name run.log uses for worker `worker` ("worker 2 (pid 123)"; "?" if it is gone). */
const char *qs_pool_worker_name(const qs_pool_t *p, uint64_t worker);
/* The ids of the workers ready for tasks, at most cap of them; returns how many there are. */
uint32_t qs_pool_ready_ids(const qs_pool_t *p, uint64_t *ids, uint32_t cap);

uint32_t qs_pool_ready(const qs_pool_t *p); /* workers that said hello */
uint32_t qs_pool_busy(const qs_pool_t *p);  /* workers with a task */
const qs_pool_stats_t *qs_pool_stats(const qs_pool_t *p);

/* Stop: no more dispatch; ready workers get a shutdown message with reason, then every
 * worker is closed (killed after a grace period); then on_stopped. Idempotent. */
void qs_pool_shutdown(qs_pool_t *p, const char *reason);
/* SIGKILL every local worker now (the caller is about to _exit). */
void qs_pool_kill_all(qs_pool_t *p);

#endif
