/* worker: configuration, data, the task loop (tasks run by core/life.h), heartbeats, faults. */
#include "sim/worker.h"

#include <cblas.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "core/blas.h"
#include "core/life.h"
#include "core/mm.h"
#include "proto/frame.h"
#include "proto/wire.h"
#include "sim/dataset.h"
#include "sim/host.h"

typedef enum {
    FAULT_NONE,
    FAULT_EXIT_AT_START,
    FAULT_ABORT_IN_SETUP,
    FAULT_EXIT,
    FAULT_KILL,
    FAULT_GARBAGE,
    FAULT_STOP,
    FAULT_HANG,
    FAULT_IDLE,
    FAULT_OOM,
    FAULT_NAN_WEIGHT,
    FAULT_BAD_ACCURACY,
    FAULT_WRONG_ISLAND,
    FAULT_SLOW
} fault_t;

/* One config and what it runs on. Configs that differ only in what a task's birth uses
 * (seed, replication mode, regenerations, mutation) share the species runtimes; configs
 * with the same data set share it. */
typedef struct {
    qs_msg_config_t cfg;
    qs_data_t own_data;    /* loaded or received for this config (else empty) */
    const qs_data_t *data; /* own_data or an earlier config's */
    qs_life_species_t own_sp[QS_MAX_SPECIES];
    int nsp;               /* own species set up */
    qs_life_species_t *sp; /* own_sp or an earlier config's */
} wk_cfg_t;

typedef struct {
    const qs_worker_opts_t *opts;
    pthread_mutex_t wlock;
    qs_frame_reader_t reader;
    uint8_t buf[65536];
    size_t blen, boff;
    double deadline; /* qs_now() by which the next message must be in (0: none) */
    /* The configs (one per run sharing the pool: config.index of config.count), received
     * in order; configured once all are set up. */
    wk_cfg_t *cfgs;
    uint32_t ncfgs, count;
    int configured;
    /* Messages (configs, tasks) that arrived while a data set was on its way (the
     * orchestrator dispatches as soon as a worker says hello; a worker without the data
     * asks for it first): replayed in order when it is in. */
    int awaiting_data;
    qs_msg_t *pending;
    size_t npending, cap_pending;
    /* heartbeat thread */
    pthread_t hb;
    int hb_running;
    atomic_int hb_stop;
    atomic_ullong current_task;
    qs_host_t host; /* the islands it keeps ([islands] hosting = workers) */
    /* fault injection */
    fault_t fault;
    uint64_t fault_task, tasks_seen;
    long fault_ms;
} wk_t;

/* ---- I/O ------------------------------------------------------------------------------------ */

static int write_all(int fd, const uint8_t *p, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

static int send_msg(wk_t *w, const qs_msg_t *m)
{
    qs_bytes_t b;
    qs_bytes_init(&b);
    qs_msg_encode(m, &b);
    pthread_mutex_lock(&w->wlock);
    int rc = write_all(w->opts->out_fd, b.data, b.len);
    pthread_mutex_unlock(&w->wlock);
    qs_bytes_destroy(&b);
    return rc;
}

static void send_error(wk_t *w, uint64_t task_id, int code, const char *msg)
{
    qs_msg_t m = {.type = QS_MSG_ERROR};
    m.u.error.task_id = task_id;
    m.u.error.code = code;
    snprintf(m.u.error.message, sizeof m.u.error.message, "%s", msg);
    send_msg(w, &m);
}

/* Next message: 1 and *m filled, 0 at a clean end of input, -1 on error (err set). */
static int recv_msg(wk_t *w, qs_msg_t *m, qs_error_t *err)
{
    for (;;) {
        if (w->boff < w->blen) {
            size_t used;
            const uint8_t *payload;
            size_t plen;
            int rc = qs_frame_reader_feed(&w->reader, w->buf + w->boff, w->blen - w->boff, &used,
                                          &payload, &plen, err);
            w->boff += used;
            if (rc < 0)
                return -1;
            if (rc == 1)
                return qs_msg_decode(m, payload, plen, err) < 0 ? -1 : 1;
            continue;
        }
        if (w->deadline > 0) {
            double left = w->deadline - qs_now();
            struct pollfd pfd = {.fd = w->opts->in_fd, .events = POLLIN};
            int ready = left > 0 ? poll(&pfd, 1, (int)(left * 1000) + 1) : 0;
            if (ready < 0 && errno == EINTR)
                continue;
            if (ready == 0)
                return qs_error_set(err, QS_ERR(TIMEOUT), "nothing within %gs",
                                    w->opts->handshake_s);
        }
        ssize_t got = read(w->opts->in_fd, w->buf, sizeof w->buf);
        if (got < 0 && errno == EINTR)
            continue;
        if (got < 0) {
            qs_error_set(err, QS_ERR(IO), "read: %s", strerror(errno));
            return -1;
        }
        if (got == 0) {
            if (qs_frame_reader_pending(&w->reader)) {
                qs_error_set(err, QS_ERR(TRUNCATED), "input ended inside a message");
                return -1;
            }
            return 0;
        }
        w->blen = (size_t)got;
        w->boff = 0;
    }
}

/* ---- heartbeats ----------------------------------------------------------------------------- */

static void *heartbeat_main(void *arg)
{
    wk_t *w = arg;
    uint64_t seq = 0;
    double interval = w->cfgs[0].cfg.heartbeat_s > 0 ? w->cfgs[0].cfg.heartbeat_s : 1.0;
    double next = qs_now() + interval;
    while (!atomic_load(&w->hb_stop)) {
        struct timespec ts = {0, 20 * 1000 * 1000};
        nanosleep(&ts, NULL);
        if (qs_now() < next)
            continue;
        next += interval;
        /* The task is read under the write lock: a heartbeat never names a task after
         * the answers to later ones (several answers may go out quickly, an island's
         * host sends one per island). */
        qs_msg_t m = {.type = QS_MSG_HEARTBEAT};
        m.u.heartbeat.seq = ++seq;
        qs_bytes_t b;
        qs_bytes_init(&b);
        pthread_mutex_lock(&w->wlock);
        m.u.heartbeat.task_id = atomic_load(&w->current_task);
        qs_msg_encode(&m, &b);
        int rc = write_all(w->opts->out_fd, b.data, b.len);
        pthread_mutex_unlock(&w->wlock);
        qs_bytes_destroy(&b);
        if (rc < 0)
            break;
    }
    return NULL;
}

/* ---- faults ---------------------------------------------------------------------------------- */

static void fault_parse(wk_t *w)
{
    const char *f = getenv("QS_FAULT");
    if (!f || !*f)
        return;
    static const struct {
        const char *name;
        fault_t fault;
    } table[] = {{"exit-at-start", FAULT_EXIT_AT_START},
                 {"abort-in-setup", FAULT_ABORT_IN_SETUP},
                 {"exit-on-task", FAULT_EXIT},
                 {"kill-on-task", FAULT_KILL},
                 {"garbage-on-task", FAULT_GARBAGE},
                 {"stop-on-task", FAULT_STOP},
                 {"hang-on-task", FAULT_HANG},
                 {"idle-on-task", FAULT_IDLE},
                 {"oom-on-task", FAULT_OOM},
                 {"nan-weight-on-task", FAULT_NAN_WEIGHT},
                 {"bad-accuracy-on-task", FAULT_BAD_ACCURACY},
                 {"wrong-island-on-task", FAULT_WRONG_ISLAND},
                 {"slow", FAULT_SLOW}};
    for (size_t i = 0; i < QS_ARRAY_LEN(table); i++) {
        size_t len = strlen(table[i].name);
        if (strncmp(f, table[i].name, len) != 0)
            continue;
        w->fault = table[i].fault;
        if (f[len] == ':') {
            w->fault_task = strtoull(f + len + 1, NULL, 10);
            w->fault_ms = strtol(f + len + 1, NULL, 10);
        }
    }
}

/* Claim the fault: without QS_FAULT_ONCE always; with it, only the first worker of the
 * run to get here (O_EXCL creation is atomic across processes). */
static int fault_claim(void)
{
    const char *once = getenv("QS_FAULT_ONCE");
    if (!once || !*once)
        return 1;
    int fd = open(once, O_WRONLY | O_CREAT | O_EXCL, 0644);
    if (fd < 0)
        return 0;
    close(fd);
    return 1;
}

/* The faults serve_task applies to a result before sending it. */
static int bad_result_fault(const wk_t *w)
{
    return w->fault == FAULT_NAN_WEIGHT || w->fault == FAULT_BAD_ACCURACY ||
           w->fault == FAULT_WRONG_ISLAND;
}

/* A broken or hostile host: its answer names the next island (or island 1 of one). */
static void wrong_island_fault(wk_t *w, qs_msg_t *out)
{
    if (w->fault != FAULT_WRONG_ISLAND || w->tasks_seen != w->fault_task || !fault_claim())
        return;
    if (out->type == QS_MSG_ISLAND_RECORDS)
        out->u.island_records.island++;
    else if (out->type == QS_MSG_ISLAND_GENOMES)
        out->u.island_genomes.island++;
}

/* Called as each task arrives, once the heartbeats name it, so a slow or memory-hungry
 * worker says busy as a real one would; may not return. */
static void fault_on_task(wk_t *w)
{
    w->tasks_seen++;
    if (w->fault == FAULT_SLOW) {
        struct timespec ts = {w->fault_ms / 1000, (w->fault_ms % 1000) * 1000000L};
        nanosleep(&ts, NULL);
        return;
    }
    if (w->fault == FAULT_NONE || w->fault == FAULT_EXIT_AT_START ||
        w->fault == FAULT_ABORT_IN_SETUP || bad_result_fault(w) || w->tasks_seen != w->fault_task ||
        !fault_claim())
        return;
    switch (w->fault) {
    case FAULT_EXIT:
        _exit(3);
    case FAULT_KILL:
        raise(SIGKILL);
        break;
    case FAULT_GARBAGE: {
        static const uint8_t junk[] = "qsm1\xff\xff\xff\x7f garbage from a broken worker";
        pthread_mutex_lock(&w->wlock);
        write_all(w->opts->out_fd, junk, sizeof junk);
        pthread_mutex_unlock(&w->wlock);
        break;
    }
    case FAULT_STOP:
        raise(SIGSTOP);
        break;
    case FAULT_HANG:
        for (;;)
            pause(); /* heartbeats say busy: only the task timeout can catch this */
    case FAULT_IDLE:
        atomic_store(&w->current_task, 0);
        for (;;)
            pause(); /* heartbeats say idle while the task is held: a lie */
    case FAULT_OOM: {
        /* Touch memory until the address-space limit makes allocation fail. */
        for (;;) {
            char *p = malloc((size_t)64 << 20);
            if (!p) {
                fprintf(stderr, "worker: out of memory (fault injection)\n");
                abort();
            }
            memset(p, 1, (size_t)64 << 20);
        }
    }
    default:
        break;
    }
}

/* ---- configuration ------------------------------------------------------------------------- */

/* Whether two configs build the same species runtimes: equal but for what only births
 * use. Compared as encoded bytes (no struct padding involved). */
static int same_runtime(const qs_msg_config_t *a, const qs_msg_config_t *b)
{
    qs_msg_t m[2] = {{.type = QS_MSG_CONFIG}, {.type = QS_MSG_CONFIG}};
    m[0].u.config = *a;
    m[1].u.config = *b;
    qs_bytes_t e[2];
    for (int i = 0; i < 2; i++) {
        qs_msg_config_t *c = &m[i].u.config;
        c->index = c->count = 0;
        c->seed = 0;
        c->mode = QS_REPLICATE_SELF;
        c->regenerations = 0;
        c->mutation_sigma = c->mutation_rate = 0;
        qs_bytes_init(&e[i]);
        qs_msg_encode(&m[i], &e[i]);
    }
    int same = e[0].len == e[1].len && memcmp(e[0].data, e[1].data, e[0].len) == 0;
    qs_bytes_destroy(&e[0]);
    qs_bytes_destroy(&e[1]);
    return same;
}

static int same_data(const qs_msg_config_t *a, const qs_msg_config_t *b)
{
    return a->data_hash == b->data_hash && a->train_count == b->train_count &&
           a->fitness_count == b->fitness_count && strcmp(a->data_path, b->data_path) == 0;
}

/* Config k's species runtimes, from it and its data set (core/life.h), or an earlier
 * config's when they would be the same. */
static int build_species(wk_t *w, uint32_t k, qs_error_t *err)
{
    wk_cfg_t *x = &w->cfgs[k];
    const qs_msg_config_t *c = &x->cfg;
    for (uint32_t j = 0; j < k; j++)
        if (w->cfgs[j].data == x->data && same_runtime(&w->cfgs[j].cfg, c)) {
            x->sp = w->cfgs[j].sp;
            return 0;
        }
    x->sp = x->own_sp;
    for (uint32_t s = 0; s < c->nspecies; s++) {
        const qs_species_cfg_t *sc = &c->species[s];
        qs_train_cfg_t tc = {.obj = sc->obj,
                             .opt = c->opt,
                             .batch = c->batch,
                             .images = c->images,
                             .refresh = c->refresh};
        qs_life_setup_t setup = {.train = &x->data->train,
                                 .fitness = &x->data->fitness,
                                 .train_cfg = &tc,
                                 .work_rows = 1024,
                                 .fertility = &c->fertility,
                                 .precision = c->precision};
        if (qs_life_species_init(&x->own_sp[s], &sc->spec, &setup, err) < 0) {
            char why[sizeof err->msg];
            snprintf(why, sizeof why, "%s", err->msg);
            return qs_error_set(err, err->code, "species %s: %s", sc->name, why);
        }
        x->nsp = (int)s + 1;
    }
    /* One line on stderr (run.log) when this CPU cannot replicate at the run's precision. */
    char why[160];
    if (qs_mm_effective(c->precision, why, sizeof why) != c->precision)
        fprintf(stderr, "worker: [replication] precision = %s asked, but %s: replicating in %s\n",
                qs_precision_name(c->precision), why,
                qs_precision_name(qs_mm_effective(c->precision, NULL, 0)));
    return 0;
}

/* The first config is in: heartbeats start, saying "setting up" until every config is. */
static void start_heartbeats(wk_t *w)
{
    atomic_store(&w->current_task, QS_HEARTBEAT_SETTING_UP);
    w->hb_running = pthread_create(&w->hb, NULL, heartbeat_main, w) == 0;
}

/* Config k and its data are in: set up its species. -1 (the orchestrator told why) if a
 * species cannot be set up. */
static int configure(wk_t *w, uint32_t k)
{
    qs_error_t err = {0};
    if (build_species(w, k, &err) < 0) {
        fprintf(stderr, "worker: %s\n", err.msg);
        send_error(w, 0, err.code, err.msg);
        return -1;
    }
    if (k + 1 == w->count) {
        w->configured = 1;
        atomic_store(&w->current_task, 0);
    }
    return 0;
}

static int run_task(wk_t *w, qs_life_task_t *t, qs_life_result_t *r, qs_error_t *err)
{
    if (t->config >= w->count)
        return qs_error_set(err, QS_ERR(RANGE), "task %llu: config %u, %u received",
                            (unsigned long long)t->task_id, t->config, w->count);
    wk_cfg_t *x = &w->cfgs[t->config];
    const qs_msg_config_t *c = &x->cfg;
    if (t->species >= c->nspecies)
        return qs_error_set(err, QS_ERR(RANGE), "task %llu: species %u, the run has %u",
                            (unsigned long long)t->task_id, t->species, c->nspecies);
    qs_birth_cfg_t b = {.mode = c->mode,
                        .regenerations = c->regenerations,
                        .regen = c->fertility.regen,
                        .mutation_sigma = c->mutation_sigma,
                        .mutation_rate = c->mutation_rate};
    if (qs_life_task_run(&x->sp[t->species], &b, c->seed, t, r, err) < 0) {
        char why[sizeof err->msg];
        snprintf(why, sizeof why, "%s", err->msg);
        return qs_error_set(err, err->code, "%s (species %s)", why, c->species[t->species].name);
    }
    return 0;
}

/* ---- main loop ------------------------------------------------------------------------------- */

/* Builds with AddressSanitizer reserve terabytes of address space for its shadow memory,
 * so an address-space limit would stop them from starting: they run without one. */
#if defined(__SANITIZE_ADDRESS__)
#define QS_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define QS_ASAN 1
#endif
#endif

static void apply_memory_limit(uint64_t mb)
{
    if (!mb)
        return;
#ifdef QS_ASAN
    fprintf(stderr, "worker: built with AddressSanitizer: no %llu MiB address-space limit\n",
            (unsigned long long)mb);
    return;
#endif
    struct rlimit rl = {.rlim_cur = (rlim_t)mb << 20, .rlim_max = (rlim_t)mb << 20};
    if (setrlimit(RLIMIT_AS, &rl) != 0)
        fprintf(stderr, "worker: setrlimit(RLIMIT_AS, %llu MiB): %s\n", (unsigned long long)mb,
                strerror(errno));
}

/* TCP: answer the challenge, and check the orchestrator's proof when we hold a token.
 * Until then a message may hold QS_PREAUTH_MAX_MESSAGE bytes, and the whole exchange must
 * end within opts->handshake_s: a peer that is silent, slow or sends a big frame gets
 * QS_WORKER_NO_HANDSHAKE, not our memory or our time. */
static qs_worker_end_t handshake(wk_t *w, qs_msg_t *hello, qs_error_t *err)
{
    qs_msg_t in;
    w->reader.max_payload = QS_PREAUTH_MAX_MESSAGE;
    if (w->opts->handshake_s > 0)
        w->deadline = qs_now() + w->opts->handshake_s;
    int rc = recv_msg(w, &in, err);
    if (rc <= 0) {
        if (rc == 0)
            qs_error_set(err, QS_ERR(PEER), "connection closed");
        qs_error_prefix(err, "no challenge from the orchestrator");
        return QS_WORKER_NO_HANDSHAKE;
    }
    if (in.type != QS_MSG_CHALLENGE) {
        qs_error_set(err, QS_ERR(PEER), "expected a challenge, got %s", qs_msg_type_name(in.type));
        qs_msg_destroy(&in);
        return QS_WORKER_NO_HANDSHAKE;
    }
    uint8_t server_nonce[QS_NONCE_LEN];
    memcpy(server_nonce, in.u.challenge.nonce, QS_NONCE_LEN);
    qs_msg_destroy(&in);
    const qs_token_t *token = w->opts->token;
    if (token) {
        if (qs_auth_nonce(hello->u.hello.nonce, err) < 0)
            return QS_WORKER_ERROR;
        hello->u.hello.has_auth = 1;
        qs_auth_mac(hello->u.hello.mac, token, "hello", server_nonce, hello->u.hello.nonce);
    }
    if (send_msg(w, hello) < 0) {
        qs_error_set(err, QS_ERR(IO), "cannot write hello: %s", strerror(errno));
        return QS_WORKER_EOF;
    }
    if (token) {
        rc = recv_msg(w, &in, err);
        if (rc <= 0) {
            if (rc == 0)
                qs_error_set(err, QS_ERR(PEER), "connection closed");
            qs_error_prefix(err, "no welcome from the orchestrator");
            return QS_WORKER_NO_HANDSHAKE;
        }
        if (in.type == QS_MSG_ERROR) {
            qs_error_set(err, QS_ERR(AUTH), "the orchestrator refused us: %s", in.u.error.message);
            qs_msg_destroy(&in);
            return QS_WORKER_REJECTED;
        }
        int ok = in.type == QS_MSG_WELCOME && qs_auth_check(in.u.welcome.mac, token, "welcome",
                                                            hello->u.hello.nonce, server_nonce);
        qs_msg_destroy(&in);
        if (!ok) {
            qs_error_set(err, QS_ERR(AUTH),
                         "the orchestrator did not prove it holds the token; leaving");
            return QS_WORKER_REJECTED;
        }
    }
    w->deadline = 0;
    w->reader.max_payload = QS_MAX_MESSAGE_DEFAULT;
    return QS_WORKER_SHUTDOWN; /* (continue) */
}

/* Run one task and send its result (or its error); -1 when the result cannot be sent. */
static int serve_task(wk_t *w, qs_msg_t *in)
{
    atomic_store(&w->current_task, in->u.task.task_id);
    fault_on_task(w);
    qs_msg_t out = {.type = QS_MSG_RESULT};
    qs_error_t terr = {0};
    int rc = 0;
    if (run_task(w, &in->u.task, &out.u.result, &terr) < 0) {
        send_error(w, in->u.task.task_id, terr.code, terr.msg);
    } else {
        /* A broken or hostile peer's result: a NaN under the true genome's figures, or an
         * accuracy that is no count of right answers. */
        if (bad_result_fault(w) && w->tasks_seen == w->fault_task && fault_claim()) {
            if (w->fault == FAULT_NAN_WEIGHT)
                out.u.result.weights[0] = NAN;
            else /* half an answer short of perfect: the best, and no count gives it */
                out.u.result.accuracy = 1.0 - 0.5 / QS_MAX(w->cfgs[0].cfg.fitness_count, 1u);
        }
        if (send_msg(w, &out) < 0)
            rc = -1;
    }
    atomic_store(&w->current_task, 0);
    qs_msg_destroy(&out);
    return rc;
}

static int host_life(void *ctx, qs_life_task_t *t, qs_life_result_t *r, qs_error_t *err)
{
    return run_task(ctx, t, r, err);
}

/* One island message (sim/host.h): its answer, or its error; -1 when it cannot be sent. */
static int serve_island(wk_t *w, qs_msg_t *in)
{
    const qs_msg_island_t *m = &in->u.island;
    if (m->task_id) {
        atomic_store(&w->current_task, m->task_id);
        fault_on_task(w);
    }
    qs_msg_t out;
    qs_error_t err = {0};
    int rc = 0;
    if (m->config >= w->count)
        qs_error_set(&err, QS_ERR(RANGE), "island message: config %u, %u received", m->config,
                     w->count);
    else if (qs_host_handle(&w->host, m, &out, &err) == 0 && out.type) {
        wrong_island_fault(w, &out);
        if (send_msg(w, &out) < 0)
            rc = -1;
    }
    if (err.msg[0]) {
        fprintf(stderr, "worker: %s\n", err.msg);
        send_error(w, m->task_id, err.code ? err.code : QS_ERR(PEER), err.msg);
    } else {
        qs_msg_destroy(&out);
    }
    atomic_store(&w->current_task, 0);
    return rc;
}

/* Queue m (taken) until the data set is in. */
static void hold(wk_t *w, qs_msg_t *m)
{
    if (w->npending == w->cap_pending) {
        w->cap_pending = w->cap_pending ? 2 * w->cap_pending : 8;
        w->pending = xrealloc(w->pending, w->cap_pending * sizeof *w->pending);
    }
    w->pending[w->npending++] = *m;
}

static int handle_msg(wk_t *w, qs_msg_t *in, qs_worker_end_t *status, qs_error_t *err);

/* Config k is in: find its data (an earlier config's, the files, or ask for it) and set it
 * up. 1 to end the conversation. */
static int take_config(wk_t *w, qs_msg_t *in)
{
    const qs_msg_config_t *c = &in->u.config;
    if (w->configured || (w->ncfgs && (c->index != w->ncfgs || c->count != w->count)) ||
        (!w->ncfgs && c->index != 0)) {
        send_error(w, 0, QS_ERR(PEER),
                   w->configured ? "config received twice" : "configs out of order");
        qs_msg_destroy(in);
        return 1;
    }
    if (!w->ncfgs) {
        w->count = c->count;
        w->cfgs = xcalloc(w->count, sizeof *w->cfgs);
    }
    uint32_t k = w->ncfgs++;
    wk_cfg_t *x = &w->cfgs[k];
    x->cfg = *c;
    qs_msg_destroy(in);
    if (k == 0) {
        start_heartbeats(w);
        if (w->fault == FAULT_ABORT_IN_SETUP && fault_claim()) {
            fprintf(stderr, "worker: cannot allocate the species (fault injection)\n");
            abort();
        }
    }
    for (uint32_t j = 0; j < k && !x->data; j++)
        if (same_data(&w->cfgs[j].cfg, &x->cfg))
            x->data = w->cfgs[j].data;
    if (!x->data) {
        x->data = &x->own_data;
        qs_error_t derr = {0};
        if (qs_data_load_for_config(&x->own_data, &x->cfg, &derr) < 0) {
            /* Not here, or not the same: ask the orchestrator for it. */
            qs_msg_t req = {.type = QS_MSG_DATA_REQUEST};
            req.u.data_request.data_hash = x->cfg.data_hash;
            if (!w->opts->quiet)
                fprintf(stderr, "worker: %s; asking the orchestrator for the data\n", derr.msg);
            send_msg(w, &req);
            w->awaiting_data = 1;
            return 0;
        }
    }
    return configure(w, k) < 0;
}

/* The data set the last config asked for: set it up, then replay what waited. */
static int take_data(wk_t *w, qs_msg_t *in, qs_worker_end_t *status, qs_error_t *err)
{
    qs_error_t derr = {0};
    wk_cfg_t *x = w->ncfgs ? &w->cfgs[w->ncfgs - 1] : NULL;
    if (!w->awaiting_data || qs_data_adopt(&x->own_data, &x->cfg, &in->u.data, &derr) < 0) {
        send_error(w, 0, QS_ERR(MISMATCH), !w->awaiting_data ? "data sent twice" : derr.msg);
        qs_msg_destroy(in);
        return 1;
    }
    qs_msg_destroy(in);
    w->awaiting_data = 0;
    if (configure(w, w->ncfgs - 1) < 0)
        return 1;
    /* Replay in order; a later config may ask for another data set, and then what follows
     * it waits again (hold() queues it anew). */
    qs_msg_t *q = w->pending;
    size_t n = w->npending, i = 0;
    w->pending = NULL;
    w->npending = w->cap_pending = 0;
    int end = 0;
    for (; i < n && !end; i++)
        end = handle_msg(w, &q[i], status, err);
    for (; i < n; i++)
        qs_msg_destroy(&q[i]);
    free(q);
    return end;
}

/* One message from the orchestrator: 0 to go on, 1 to end (status and err say why). */
static int handle_msg(wk_t *w, qs_msg_t *in, qs_worker_end_t *status, qs_error_t *err)
{
    if (in->type == QS_MSG_ERROR) {
        /* The orchestrator refused or dropped us; an authentication refusal is final. */
        qs_error_set(err, QS_ERR(PEER), "the orchestrator refused us: %s", in->u.error.message);
        fprintf(stderr, "worker: %s\n", err->msg);
        *status = in->u.error.code == QS_ERR(AUTH) ? QS_WORKER_REJECTED : QS_WORKER_ERROR;
        qs_msg_destroy(in);
        return 1;
    }
    if (in->type == QS_MSG_SHUTDOWN) {
        qs_msg_destroy(in);
        *status = QS_WORKER_SHUTDOWN;
        return 1;
    }
    if (in->type == QS_MSG_DATA)
        return take_data(w, in, status, err);
    if (w->awaiting_data &&
        (in->type == QS_MSG_TASK || in->type == QS_MSG_CONFIG || in->type == QS_MSG_ISLAND)) {
        hold(w, in);
        return 0;
    }
    if (in->type == QS_MSG_CONFIG)
        return take_config(w, in);
    if (in->type == QS_MSG_ISLAND && w->configured) {
        int sent = serve_island(w, in);
        qs_msg_destroy(in);
        return sent < 0;
    }
    if (in->type != QS_MSG_TASK || !w->configured) {
        char msg[128];
        snprintf(msg, sizeof msg, "unexpected %s message%s", qs_msg_type_name(in->type),
                 w->configured ? "" : " before config");
        send_error(w, 0, QS_ERR(PEER), msg);
        qs_msg_destroy(in);
        return 1;
    }
    int sent = serve_task(w, in);
    qs_msg_destroy(in);
    return sent < 0;
}

/* The worker's state for opts, the process set up for tasks (one BLAS thread, the memory
 * limit, SIGPIPE ignored); a start-up fault exits here. */
static wk_t *worker_new(const qs_worker_opts_t *opts)
{
    wk_t *w = xcalloc(1, sizeof *w);
    w->opts = opts;
    pthread_mutex_init(&w->wlock, NULL);
    qs_frame_reader_init(&w->reader, QS_MAX_MESSAGE_DEFAULT);
    openblas_set_num_threads(1);
    qs_mm_init(1);
    apply_memory_limit(opts->memory_mb);
    signal(SIGPIPE, SIG_IGN);
    fault_parse(w);
    qs_host_init(&w->host, host_life, w);
    if (w->fault == FAULT_EXIT_AT_START && fault_claim()) {
        fprintf(stderr, "worker: exiting at start-up (fault injection)\n");
        _exit(4);
    }
    return w;
}

/* Stops the heartbeats and frees w with everything it holds. */
static void worker_free(wk_t *w)
{
    for (size_t i = 0; i < w->npending; i++)
        qs_msg_destroy(&w->pending[i]);
    free(w->pending);
    if (w->hb_running) {
        atomic_store(&w->hb_stop, 1);
        pthread_join(w->hb, NULL);
    }
    for (uint32_t k = 0; k < w->ncfgs; k++) {
        for (int s = 0; s < w->cfgs[k].nsp; s++)
            qs_life_species_destroy(&w->cfgs[k].own_sp[s]);
        qs_data_destroy(&w->cfgs[k].own_data);
    }
    free(w->cfgs);
    qs_host_destroy(&w->host);
    qs_frame_reader_destroy(&w->reader);
    pthread_mutex_destroy(&w->wlock);
    free(w);
}

/* Introduce ourselves: hello, through the handshake over TCP. QS_WORKER_SHUTDOWN to go on,
 * else how the worker ends (the reason printed, and in err after a handshake). */
static qs_worker_end_t say_hello(wk_t *w, qs_error_t *err)
{
    qs_msg_t m = {.type = QS_MSG_HELLO};
    snprintf(m.u.hello.role, sizeof m.u.hello.role, "worker");
    m.u.hello.pid = getpid();
    gethostname(m.u.hello.host, sizeof m.u.hello.host - 1);
    snprintf(m.u.hello.blas, sizeof m.u.hello.blas, "%s", qs_blas_core());
    snprintf(m.u.hello.isa, sizeof m.u.hello.isa, "%s", qs_mm_isa());
    if (w->opts->tcp) {
        qs_worker_end_t status = handshake(w, &m, err);
        if (status != QS_WORKER_SHUTDOWN)
            fprintf(stderr, "worker: %s\n", err->msg);
        return status;
    }
    if (send_msg(w, &m) < 0) {
        fprintf(stderr, "worker: cannot write hello: %s\n", strerror(errno));
        return QS_WORKER_ERROR;
    }
    return QS_WORKER_SHUTDOWN;
}

/* Every message until the end: how the worker ends, err set but on a shutdown. */
static qs_worker_end_t serve_messages(wk_t *w, qs_error_t *err)
{
    qs_worker_end_t status = QS_WORKER_ERROR;
    for (;;) {
        qs_msg_t in;
        int rc = recv_msg(w, &in, err);
        if (rc == 0) {
            /* The orchestrator closed the pipe: the normal end of a local worker. */
            qs_error_set(err, QS_ERR(PEER), "connection closed");
            return w->opts->tcp ? QS_WORKER_EOF : QS_WORKER_SHUTDOWN;
        }
        if (rc < 0) {
            fprintf(stderr, "worker: %s\n", err->msg);
            send_error(w, 0, err->code, err->msg);
            return QS_WORKER_ERROR;
        }
        if (handle_msg(w, &in, &status, err))
            return status;
    }
}

qs_worker_end_t qs_worker_serve(const qs_worker_opts_t *opts, qs_error_t *why)
{
    wk_t *w = worker_new(opts);
    qs_error_t err = {0};
    qs_worker_end_t status = say_hello(w, &err);
    if (status == QS_WORKER_SHUTDOWN) /* introduced */
        status = serve_messages(w, &err);
    if (why && status != QS_WORKER_SHUTDOWN)
        *why = err;
    worker_free(w);
    return status;
}
