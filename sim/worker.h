/* worker: the compute server behind `quinesim worker`.
 *
 * A worker is stateless between tasks: it receives the run's configuration once, loads
 * (or is sent) the data set, builds each species' physics, then answers each task with
 * a result, in order. Tasks are pure functions of their inputs (genome, streams, steps),
 * so any worker gives the same answer. It talks over a pair of file descriptors (stdin/
 * stdout for local workers, one socket for remote ones) with blocking I/O; a heartbeat
 * thread writes a heartbeat frame every config.heartbeat_s so that the orchestrator can
 * tell a busy worker from a hung or stopped one. BLAS runs single-threaded. */
#ifndef QS_WORKER_H
#define QS_WORKER_H

#include <stdint.h>

#include "core/util.h"
#include "sim/auth.h"

typedef struct {
    int in_fd, out_fd;
    uint64_t memory_mb;      /* address-space limit applied at start (0: none) */
    int tcp;                 /* a socket: expect the orchestrator's challenge first */
    const qs_token_t *token; /* TCP: the shared secret (NULL: none) */
    double handshake_s;      /* TCP: the handshake must be done within this (0: no limit) */
    int quiet;
} qs_worker_opts_t;

typedef enum {
    QS_WORKER_SHUTDOWN = 0,    /* the orchestrator said shutdown */
    QS_WORKER_ERROR = 1,       /* something went wrong (reported on stderr and to the peer) */
    QS_WORKER_EOF = 2,         /* the input ended without a shutdown (connection lost) */
    QS_WORKER_REJECTED = 3,    /* authentication failed: retrying will not help */
    QS_WORKER_NO_HANDSHAKE = 4 /* TCP: the peer did not complete the handshake in time, sent
                                * something else than a challenge, or more than
                                * QS_PREAUTH_MAX_MESSAGE bytes in one message: no task was
                                * served (retry as a failed connection) */
} qs_worker_end_t;

/* Serve until shutdown or end of input. Before the orchestrator has authenticated (a
 * socket), a message may hold at most QS_PREAUTH_MAX_MESSAGE bytes and the handshake must
 * end within opts->handshake_s. err (may be NULL) says why, when the end is not a
 * shutdown. */
qs_worker_end_t qs_worker_serve(const qs_worker_opts_t *opts, qs_error_t *err);

/* Fault injection for the fault-tolerance tests, from the environment:
 *   QS_FAULT = exit-at-start | abort-in-setup | exit-on-task:N | kill-on-task:N | garbage-on-task:N
 *     | stop-on-task:N | hang-on-task:N (heartbeats say busy)
 *     | idle-on-task:N (heartbeats say idle while the task is held) | oom-on-task:N
 *     | nan-weight-on-task:N | bad-accuracy-on-task:N | slow:MS (each task MS longer)
 *     | wrong-island-on-task:N (an island's host answers its Nth island message naming
 *       the next island)
 *   Heartbeats name the task during every fault but idle-on-task.
 *   QS_FAULT_ONCE = PATH   the fault fires only if PATH does not exist, and creates it
 * (so exactly one worker of a run misbehaves once). Never set in normal use. */

#endif
