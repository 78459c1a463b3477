/* pool_impl: what sim/pool.c, sim/pool_local.c and sim/pool_remote.c share (not for
 * other files). A worker is one record whether it is a local process or a TCP peer. */
#ifndef QS_POOL_IMPL_H
#define QS_POOL_IMPL_H

#include "proto/frame.h"
#include "sim/auth.h"
#include "sim/pool.h"

typedef struct worker worker_t;

/* A place for one local worker process; it outlives the processes it respawns. */
typedef struct {
    qs_pool_t *p;
    uint32_t index;
    worker_t *w;
    uv_timer_t respawn;
    uint32_t start_failures; /* consecutive deaths before a hello */
    uint32_t spawns;
} slot_t;

struct worker {
    qs_pool_t *p;
    slot_t *slot;   /* local workers only */
    worker_t *next; /* in p->workers */
    int remote;     /* TCP: no process, no respawn */
    uv_process_t proc;
    uv_pipe_t in, out, err;
    uv_tcp_t tcp;
    uv_timer_t auth_timer;
    uv_stream_t *tx, *rx;        /* where messages go and come from */
    uint8_t nonce[QS_NONCE_LEN]; /* the challenge sent to a remote worker */
    int open_handles;
    int alive; /* process running */
    int ready; /* said hello */
    int dying; /* being killed or closed: its input is ignored */
    qs_frame_reader_t reader;
    qs_pool_task_t *inflight[QS_POOL_MAX_INFLIGHT]; /* in the order sent */
    uint32_t ninflight;
    uint64_t uid;                  /* its id for pinned tasks (1, 2, ...) */
    qs_pool_task_t *phead, *ptail; /* tasks pinned to it, not sent yet */
    /* What its heartbeats say against what it holds (issue 16): idle heartbeats in a row
     * while holding tasks; the last task it answered (a heartbeat may name it once the
     * result is on its way); which data sets it got (once each per worker: bit i for the first
     * config with that data set). */
    uint32_t idle_beats;
    uint64_t results, last_result;
    uint64_t data_sent[QS_WIRE_MAX_CONFIGS / 64];
    int set_up;   /* said it is set up (a heartbeat not "setting up", or a result) */
    int unlogged; /* a remote peer past the window's burst: its pre-auth events are counted */
    double started, last_heard, busy_since;
    char errbuf[256]; /* partial stderr line */
    size_t errlen;
    char last_stderr[256];
    char name[128];
    int pid;
};

struct qs_pool {
    uv_loop_t *loop;
    qs_pool_opts_t o;
    char **env; /* local workers' environment */
    uint32_t nslots;
    slot_t *slots;
    worker_t *workers;
    uint32_t nworkers_alive;
    qs_pool_task_t *qhead, *qtail; /* pending tasks, FIFO */
    uint32_t qlen;
    /* remote workers */
    uv_tcp_t listener;
    int listening;
    qs_token_t token;
    int has_token;
    uint32_t remote_seq;
    uint64_t next_uid;
    /* Peers that have not authenticated: the events of at most a burst of them per window
     * are logged, the others' counted and summarised (issue 16: a connect/close flood
     * filled run.log). */
    double preauth_window;
    uint32_t preauth_logged;
    uint64_t preauth_unlogged;
    uv_timer_t watchdog, kill_timer;
    double watchdog_last; /* when the watchdog last ran (or was started) */
    int handles_closed, stopping;
    qs_pool_stats_t stats;
    char blas_core[32]; /* the OpenBLAS kernels of the first worker */
    char isa[32];       /* the oneDNN ISA of the first worker */
    int warned_no_bf16; /* said that a worker replicates in fp32 at bf16 */
};

/* sim/pool.c */
void pool_event(qs_pool_t *p, int loud, const char *fmt, ...) QS_PRINTF(3, 4);
void pool_fatal(qs_pool_t *p, const char *fmt, ...) QS_PRINTF(2, 3);
void pool_send(worker_t *w, const qs_msg_t *m); /* every message to a worker goes here */
void pool_worker_fail(worker_t *w, const char *fmt, ...) QS_PRINTF(2, 3);
void pool_requeue(worker_t *w, const char *reason);
void pool_link_worker(qs_pool_t *p, worker_t *w);
void pool_close_worker(worker_t *w);  /* close its handles; freed when all are closed */
void pool_start_reading(worker_t *w); /* messages from w->rx */
void pool_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf);
void pool_close_handles(qs_pool_t *p);

/* sim/pool_local.c */
void pool_local_init(qs_pool_t *p);
void pool_local_stop(qs_pool_t *p);  /* stop the respawn timers */
void pool_local_close(qs_pool_t *p); /* close them */
void pool_local_ready(worker_t *w);  /* w is set up (its species built) */
void pool_local_destroy(qs_pool_t *p);

/* sim/pool_remote.c */
int pool_remote_hello_ok(worker_t *w, const qs_msg_hello_t *h); /* 0: w was dropped */
void pool_remote_send_data(worker_t *w, const qs_data_t *d);
void pool_remote_stop(qs_pool_t *p); /* close the listener */
/* Whether a new peer's events before it authenticates are logged (else counted);
 * pool_remote_log_flush logs the count once its window is over (force: now). */
int pool_remote_log_ok(qs_pool_t *p);
void pool_remote_log_flush(qs_pool_t *p, int force);

#endif
