/* orchestrator: workers, tasks, generations, signals and progress on one libuv loop. */
#include "sim/orchestrator.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>
#include <uv.h>

#include "core/fidelity.h"
#include "core/quine.h"
#include "proto/frame.h"
#include "proto/wire.h"
#include "sim/auth.h"
#include "sim/dataset.h"
#include "sim/islands.h"
#include "sim/rundir.h"

#define MAX_INFLIGHT      64
#define MAX_TASK_ATTEMPTS 3
#define HEARTBEATS_MISSED 5
#define STARTUP_TIMEOUT_S 60.0
#define SHUTDOWN_GRACE_MS 3000

#define PREAUTH_MAX_MESSAGE 4096 /* a hello is a few hundred bytes */

typedef enum { T_PENDING, T_SENT, T_DONE } task_state_t;

typedef struct {
    task_state_t state;
    uint32_t attempts;
    char last_error[192];
} task_t;

typedef struct orch orch_t;
typedef struct worker worker_t;

/* A place for one local worker process; it outlives the processes it respawns. */
typedef struct {
    orch_t *o;
    uint32_t index;
    worker_t *w;
    uv_timer_t respawn;
    uint32_t start_failures; /* consecutive deaths before a hello */
    uint32_t spawns;
} slot_t;

struct worker {
    orch_t *o;
    slot_t *slot;   /* local workers only */
    worker_t *next; /* in o->workers */
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
    uint32_t inflight[MAX_INFLIGHT]; /* task indices, in the order sent */
    uint32_t ninflight;
    double started, last_heard, busy_since;
    char errbuf[256]; /* partial stderr line */
    size_t errlen;
    char last_stderr[256];
    char name[128];
    int pid;
};

struct orch {
    uv_loop_t loop;
    qs_scenario_t *sc;
    const char *scenario_text;
    const qs_run_opts_t *opts;
    qs_islands_t isl; /* the population(s) */
    qs_rundir_t rd;
    int rd_open;
    qs_data_t data;
    qs_msg_config_t config;
    char exe[QS_PATH_MAX];
    char **env;
    /* workers */
    uint32_t nslots;
    slot_t *slots;
    worker_t *workers;
    uint32_t nworkers_alive;
    /* the current generation's tasks (one per organism, same index) */
    task_t *tasks;
    uint32_t ntasks, ndone;
    uint32_t *queue; /* ring of pending task indices */
    uint32_t qhead, qlen;
    /* remote workers */
    uv_tcp_t listener;
    int listening;
    qs_token_t token;
    int has_token;
    uint32_t remote_seq;
    /* timers and signals */
    uv_timer_t watchdog, status, kill_timer;
    uv_signal_t sigint, sigterm;
    int loop_handles_closed;
    /* state */
    int stopping, exit_code, interrupts;
    double run_started, gen_started, last_gen_seconds;
    double wall_before;                  /* spent by earlier sessions of a resumed run */
    uint64_t bytes_sent, bytes_received; /* to and from workers, this session */
    uint64_t births_before;              /* births by replication before this session */
    uint64_t tasks_sent;                 /* this session (a requeued task counts again) */
    char blas_core[32];                  /* the OpenBLAS kernels of the first worker */
    int tty;
    size_t status_len;
};

static void dispatch(orch_t *o);
static void finish(orch_t *o, int code);
static void worker_fail(worker_t *w, const char *fmt, ...) QS_PRINTF(2, 3);
static void spawn_worker(slot_t *s);
static int remote_hello_ok(worker_t *w, const qs_msg_hello_t *h);

/* ---- logging and progress ------------------------------------------------------------------- */

static void clear_status(orch_t *o)
{
    if (o->tty && o->status_len) {
        fprintf(stderr, "\r\033[K");
        o->status_len = 0;
    }
}

/* An event for run.log; `loud` ones also go to stderr. */
static void event(orch_t *o, int loud, const char *fmt, ...) QS_PRINTF(3, 4);
static void event(orch_t *o, int loud, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (o->rd_open)
        qs_rundir_log(&o->rd, "%s", msg);
    if (loud && o->opts->progress != QS_PROGRESS_QUIET) {
        clear_status(o);
        fprintf(stderr, "quinesim: %s\n", msg);
    }
}

static void fatal(orch_t *o, const char *fmt, ...) QS_PRINTF(2, 3);
static void fatal(orch_t *o, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (o->rd_open)
        qs_rundir_log(&o->rd, "fatal: %s", msg);
    clear_status(o);
    fprintf(stderr, "quinesim run: %s\n", msg);
    finish(o, 1);
}

static uint32_t busy_workers(const orch_t *o)
{
    uint32_t n = 0;
    for (const worker_t *w = o->workers; w; w = w->next)
        n += w->ninflight > 0;
    return n;
}

static uint32_t ready_workers(const orch_t *o)
{
    uint32_t n = 0;
    for (const worker_t *w = o->workers; w; w = w->next)
        n += w->ready && !w->dying;
    return n;
}

static void format_duration(char *buf, size_t cap, double s)
{
    if (!isfinite(s) || s < 0)
        snprintf(buf, cap, "?");
    else if (s < 60)
        snprintf(buf, cap, "%.0fs", s);
    else if (s < 3600)
        snprintf(buf, cap, "%dm%02ds", (int)(s / 60), (int)s % 60);
    else
        snprintf(buf, cap, "%dh%02dm", (int)(s / 3600), (int)(s / 60) % 60);
}

static void on_status(uv_timer_t *t)
{
    orch_t *o = t->data;
    if (!o->tty || o->stopping)
        return;
    double elapsed = qs_now() - o->run_started;
    uint32_t g = o->isl.generation, G = o->sc->generations;
    uint64_t founders, births, deaths;
    qs_islands_totals(&o->isl, &founders, &births, &deaths);
    births -= founders; /* by replication */
    double per_gen = g ? (o->gen_started - o->run_started) / g : NAN;
    double eta = per_gen * (G - g) - (qs_now() - o->gen_started);
    char eta_s[32];
    format_duration(eta_s, sizeof eta_s, g ? QS_MAX(eta, 0) : NAN);
    char line[256];
    int n = snprintf(line, sizeof line,
                     "gen %u (0..%u)  %u/%u tasks  births %" PRIu64 " (%.1f/s)  workers %u/%u "
                     "busy  ETA %s",
                     g, G - 1, o->ndone, o->ntasks, births, elapsed > 0 ? births / elapsed : 0.0,
                     busy_workers(o), ready_workers(o), eta_s);
    fprintf(stderr, "\r\033[K%s", line);
    fflush(stderr);
    o->status_len = (size_t)n;
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
        worker_fail(w, "write failed: %s", uv_strerror(status));
    qs_bytes_destroy(&wr->bytes);
    free(wr);
}

/* Send one message (encoded here) to w. */
static void send_msg(worker_t *w, const qs_msg_t *m)
{
    if (w->dying)
        return;
    write_req_t *wr = xcalloc(1, sizeof *wr);
    qs_bytes_init(&wr->bytes);
    qs_msg_encode(m, &wr->bytes);
    uv_buf_t buf = uv_buf_init((char *)wr->bytes.data, (unsigned)wr->bytes.len);
    wr->req.data = w;
    w->o->bytes_sent += wr->bytes.len;
    int rc = uv_write(&wr->req, w->tx, &buf, 1, on_written);
    if (rc < 0) {
        qs_bytes_destroy(&wr->bytes);
        free(wr);
        worker_fail(w, "write failed: %s", uv_strerror(rc));
    }
}

/* ---- tasks ------------------------------------------------------------------------------------
 */

static uint64_t task_id_of(const orch_t *o, uint32_t index)
{
    return (uint64_t)o->isl.generation << 32 | (uint64_t)(index + 1);
}

static void enqueue(orch_t *o, uint32_t index)
{
    o->queue[(o->qhead + o->qlen) % o->ntasks] = index;
    o->qlen++;
    o->tasks[index].state = T_PENDING;
}

static void send_task(worker_t *w, uint32_t index)
{
    orch_t *o = w->o;
    qs_msg_t m = {.type = QS_MSG_TASK};
    qs_islands_task(&o->isl, index, task_id_of(o, index), &m.u.task);
    if (w->ninflight == 0)
        w->busy_since = qs_now();
    w->inflight[w->ninflight++] = index;
    o->tasks[index].state = T_SENT;
    o->tasks_sent++;
    send_msg(w, &m); /* the task borrows the genome: nothing to free */
}

static void dispatch(orch_t *o)
{
    if (o->stopping)
        return;
    uint32_t in_flight = QS_MIN(o->sc->in_flight, MAX_INFLIGHT), nready = ready_workers(o);
    /* Round-robin, one task per worker per pass, so work spreads evenly. A worker gets a
     * second (third...) queued task only while the queue holds more than one task per
     * worker: near the end of a generation a task waits in the shared queue for the first
     * free worker instead of behind a busy one. */
    int progress = 1;
    while (o->qlen > 0 && progress) {
        progress = 0;
        uint32_t limit = o->qlen > nready ? in_flight : 1;
        for (worker_t *w = o->workers; w && o->qlen > 0; w = w->next) {
            if (!w->ready || w->dying || w->ninflight >= limit)
                continue;
            uint32_t index = o->queue[o->qhead];
            o->qhead = (o->qhead + 1) % o->ntasks;
            o->qlen--;
            send_task(w, index);
            progress = 1;
        }
    }
}

/* Put w's tasks back in the queue; the one it was computing counts as a failed attempt. */
static void requeue(worker_t *w, const char *reason)
{
    orch_t *o = w->o;
    for (uint32_t k = 0; k < w->ninflight; k++) {
        uint32_t index = w->inflight[k];
        task_t *t = &o->tasks[index];
        if (t->state != T_SENT)
            continue;
        if (k == 0) {
            t->attempts++;
            snprintf(t->last_error, sizeof t->last_error, "%s", reason);
        }
        enqueue(o, index);
    }
    w->ninflight = 0;
    for (uint32_t k = 0; k < o->ntasks; k++) {
        if (o->tasks[k].attempts >= MAX_TASK_ATTEMPTS && o->tasks[k].state != T_DONE) {
            fatal(o, "the task of organism %" PRIu64 " failed on %u workers (last: %s); giving up",
                  qs_islands_entry(&o->isl, k)->id, o->tasks[k].attempts, o->tasks[k].last_error);
            return;
        }
    }
}

/* ---- generations ---------------------------------------------------------------------------- */

static void start_generation(orch_t *o)
{
    free(o->tasks);
    free(o->queue);
    o->ntasks = qs_islands_budget(&o->isl);
    o->tasks = xcalloc(o->ntasks ? o->ntasks : 1, sizeof *o->tasks);
    o->queue = xmalloc((o->ntasks ? o->ntasks : 1) * sizeof *o->queue);
    o->qhead = o->qlen = o->ndone = 0;
    /* Longest first: births (replication, then a life) before lives of survivors, so the
     * short tasks fill the end of the generation. */
    for (int pass = 0; pass < 2; pass++)
        for (uint32_t i = 0; i < o->ntasks; i++)
            if (qs_islands_entry(&o->isl, i)->newborn == (pass == 0))
                enqueue(o, i);
    o->gen_started = qs_now();
    dispatch(o);
}

static void print_generation(orch_t *o, const qs_rec_generation_t *s, double wall)
{
    if (o->opts->progress == QS_PROGRESS_QUIET)
        return;
    clear_status(o);
    char acc[64] = "", link[48] = "";
    if (isfinite(s->best_accuracy))
        snprintf(acc, sizeof acc, "  acc best %.4f mean %.4f", s->best_accuracy, s->mean_accuracy);
    if (isfinite(s->mean_link_r2))
        snprintf(link, sizeof link, "  link R2 %.3f", s->mean_link_r2);
    /* Generations are numbered from 0 everywhere (CSVs, run.log, analyze, genome files);
     * "(0..G-1)" says how far the run goes. */
    printf("gen %u (0..%u)%s  self R2 %.3f rel_err %.3f%s  pop %u  %s %u  deaths %u  %.1fs\n",
           s->generation, o->sc->generations - 1, acc, s->mean_r2, s->mean_rel_err, link,
           s->population, s->generation ? "births" : "founders", s->births, s->deaths, wall);
    fflush(stdout);
}

static void final_report(orch_t *o, const char *reason)
{
    const qs_population_t *pop = qs_islands_best(&o->isl); /* the best's, or NULL */
    char held[160] = "";
    if (pop && o->data.test.count > 0) {
        const qs_org_t *b = &pop->best;
        qs_quine_spec_t spec = qs_scenario_spec(o->sc, b->species);
        qs_life_setup_t setup = {.train = &o->data.train,
                                 .fitness = &o->data.test,
                                 .classifier_only = 1,
                                 .work_rows = 1024};
        qs_life_species_t sp;
        qs_error_t err = {0};
        if (spec.kind == QS_KIND_AUX && qs_life_species_init(&sp, &spec, &setup, &err) == 0) {
            snprintf(held, sizeof held, "; held-out test accuracy %.4f (%u images)",
                     qs_life_accuracy(&sp, b->genome), sp.fitness.count);
            qs_life_species_destroy(&sp);
        }
    }
    double wall = qs_now() - o->run_started;
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    double cpu = (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec * 1e-6 +
                 (double)ru.ru_stime.tv_sec + ru.ru_stime.tv_usec * 1e-6;
    /* Births are by replication, as in `analyze`; the founders are counted apart. */
    uint32_t generations = o->isl.generation;
    uint64_t founders, births, deaths;
    qs_islands_totals(&o->isl, &founders, &births, &deaths);
    births -= founders; /* by replication, as in `analyze` */
    event(o, 0,
          "run %s after %u generations: %" PRIu64 " founders, %" PRIu64 " births, %" PRIu64
          " deaths, %.3fs",
          reason, generations, founders, births, deaths, wall);
    event(o, 0, "orchestrator CPU time %.3fs (%.2f%% of the wall time)", cpu,
          wall > 0 ? 100 * cpu / wall : 0.0);
    /* this session's births: a resumed run's earlier ones sent their bytes before */
    uint64_t session_births = births - o->births_before;
    uint64_t bytes = o->bytes_sent + o->bytes_received;
    event(o, 0,
          "traffic with workers: %" PRIu64 " bytes sent, %" PRIu64 " received, %.0f bytes per "
          "birth, %.0f per task (%" PRIu64 " tasks)",
          o->bytes_sent, o->bytes_received,
          session_births ? (double)bytes / (double)session_births : 0.0,
          o->tasks_sent ? (double)bytes / (double)o->tasks_sent : 0.0, o->tasks_sent);
    if (o->isl.n > 1) /* what hosts would send instead of genomes (sim/islands.h) */
        event(o, 0,
              "island records: %" PRIu64 " bytes in this session's island_records messages, "
              "%.0f per birth",
              o->isl.records_bytes,
              session_births ? (double)o->isl.records_bytes / (double)session_births : 0.0);
    if (o->opts->progress == QS_PROGRESS_QUIET)
        return;
    clear_status(o);
    printf("%s: %u generations, %" PRIu64 " founders and %" PRIu64
           " births in %.1fs (%.2f births/s)\n",
           reason, generations, founders, births, wall, wall > 0 ? births / wall : 0.0);
    if (pop) {
        const qs_org_t *b = &pop->best;
        printf("best: organism %" PRIu64 " (%s, born in generation %u), in generation %u: "
               "fitness %.4f, accuracy %.4f, self-prediction R2 %.4f%s\n",
               b->id, o->sc->species[b->species].name, b->born, pop->best_generation, b->fitness,
               b->accuracy, b->fidelity.r2, held);
        event(o, 0, "best organism %" PRIu64 ": fitness %.4f%s", b->id, b->fitness, held);
    }
    printf("run directory: %s\n", o->rd.dir);
    fflush(stdout);
}

/* Write checkpoint.msgpack for the current boundary (the plan of pop.generation). */
static int write_checkpoint(orch_t *o, int finished)
{
    qs_checkpoint_t c;
    qs_islands_checkpoint(&o->isl, &c);
    c.scenario = (char *)o->scenario_text;
    c.finished = finished;
    c.wall_seconds = o->wall_before + (qs_now() - o->run_started);
    qs_rundir_stamp(&o->rd, &c);
    char path[QS_PATH_MAX + 32];
    snprintf(path, sizeof path, "%s/checkpoint.msgpack", o->rd.dir);
    qs_error_t err = {0};
    int rc = qs_checkpoint_save(&c, path, &err);
    c.scenario = NULL;
    qs_islands_checkpoint_release(&c);
    if (rc < 0) {
        fatal(o,
              "cannot write the checkpoint: %s (the previous checkpoint is intact; resume "
              "from it once the problem is fixed)",
              err.msg);
        return rc;
    }
    event(o, 0, "checkpoint: generation %u, %u organisms", o->isl.generation,
          qs_islands_count(&o->isl));
    return 0;
}

static void generation_complete(orch_t *o)
{
    double wall = qs_now() - o->gen_started;
    uint32_t g = o->isl.generation;
    int last = g + 1 >= o->sc->generations;
    qs_error_t err = {0};
    if (qs_archiver_write_generation(&o->rd.archive, o->isl.pop, o->isl.n, &err) < 0) {
        fatal(o, "%s", err.msg); /* the lives are over: archive them */
        return;
    }
    qs_islands_out_t out;
    qs_islands_advance(&o->isl, last, &out);
    int done = last || qs_islands_count(&o->isl) == 0;
    /* Workers start on the next generation at once; the records of this one are written
     * (and fsynced) while they compute. The checkpoint comes after the records it counts. */
    if (!done)
        start_generation(o);
    if (qs_rundir_write_generation(&o->rd, &out, wall, ready_workers(o), &err) < 0) {
        qs_islands_out_destroy(&out);
        fatal(o, "%s", err.msg);
        return;
    }
    if (o->isl.best_changed) {
        o->isl.best_changed = 0;
        if (qs_rundir_save_best(&o->rd, qs_islands_best(&o->isl), &err) < 0) {
            qs_islands_out_destroy(&out);
            fatal(o, "%s", err.msg);
            return;
        }
    }
    if (out.migrated || out.lost)
        event(o, 0, "migration after generation %u: %u immigrants placed, %u refused (capacity)", g,
              out.migrated, out.lost);
    const qs_rec_generation_t *s = &out.all.summary;
    event(o, 0,
          "generation %u: population %u, births %u, deaths %u, best accuracy %.4f, mean %.4f, "
          "self R2 %.4f, %.2fs",
          g, s->population, s->births, s->deaths, s->best_accuracy, s->mean_accuracy, s->mean_r2,
          wall);
    for (uint32_t sp = 0; sp < o->sc->nspecies; sp++)
        if (out.all.extinct & (1u << sp))
            event(o, 1, "species %s went extinct in generation %u", o->sc->species[sp].name, g);
    print_generation(o, s, wall);
    o->last_gen_seconds = wall;
    qs_islands_out_destroy(&out);

    if (done) {
        const char *reason = last ? "completed" : "extinct";
        if (qs_rundir_write_end(&o->rd, o->isl.generation, reason, &err) < 0) {
            fatal(o, "%s", err.msg);
            return;
        }
        if (write_checkpoint(o, 1) < 0)
            return;
        final_report(o, reason);
        finish(o, 0);
        return;
    }
    uint32_t every = o->sc->checkpoint_every;
    if (every && o->isl.generation % every == 0)
        write_checkpoint(o, 0);
}

/* ---- messages from workers ------------------------------------------------------------------ */

static int inflight_position(const worker_t *w, uint32_t index)
{
    for (uint32_t k = 0; k < w->ninflight; k++)
        if (w->inflight[k] == index)
            return (int)k;
    return -1;
}

static void handle_result(worker_t *w, qs_life_result_t *r)
{
    orch_t *o = w->o;
    uint64_t gen = r->task_id >> 32, idx1 = r->task_id & 0xFFFFFFFFu;
    if (gen != o->isl.generation || idx1 == 0 || idx1 > o->ntasks) {
        worker_fail(w, "result for unknown task %" PRIu64, r->task_id);
        return;
    }
    uint32_t index = (uint32_t)(idx1 - 1);
    int pos = inflight_position(w, index);
    if (pos < 0) {
        worker_fail(w, "result for task %" PRIu64 ", which it was not given", r->task_id);
        return;
    }
    uint64_t expected = qs_islands_entry(&o->isl, index)->id;
    if (expected != r->organism) {
        worker_fail(w, "result of task %" PRIu64 " names organism %" PRIu64 ", expected %" PRIu64,
                    r->task_id, r->organism, expected);
        return;
    }
    qs_error_t err = {0};
    if (qs_islands_apply(&o->isl, r, &err) < 0) {
        worker_fail(w, "bad result: %s", err.msg);
        return;
    }
    memmove(&w->inflight[pos], &w->inflight[pos + 1],
            (w->ninflight - (uint32_t)pos - 1) * sizeof w->inflight[0]);
    w->ninflight--;
    w->busy_since = qs_now();
    o->tasks[index].state = T_DONE;
    o->ndone++;
    if (o->ndone == o->ntasks)
        generation_complete(o);
    else
        dispatch(o);
}

static void send_data(worker_t *w)
{
    orch_t *o = w->o;
    qs_msg_t m = {.type = QS_MSG_DATA};
    m.u.data.data_hash = o->data.hash;
    m.u.data.train = o->data.train; /* borrowed for encoding */
    m.u.data.fitness = o->data.fitness;
    event(o, 0, "%s asked for the data set; sending %u + %u images", w->name, o->data.train.count,
          o->data.fitness.count);
    send_msg(w, &m);
}

static void handle_msg(worker_t *w, qs_msg_t *m)
{
    orch_t *o = w->o;
    w->last_heard = qs_now();
    switch (m->type) {
    case QS_MSG_HELLO: {
        if (w->ready) {
            worker_fail(w, "said hello twice");
            return;
        }
        if (w->remote && !remote_hello_ok(w, &m->u.hello))
            return;
        w->ready = 1;
        if (w->slot)
            w->slot->start_failures = 0;
        const char *blas = m->u.hello.blas[0] ? m->u.hello.blas : "unknown";
        event(o, 0, "%s ready (pid %" PRId64 " on %s, OpenBLAS %s)", w->name, m->u.hello.pid,
              m->u.hello.host, blas);
        /* Different kernels round differently: then results depend on who computed what. */
        if (!o->blas_core[0])
            snprintf(o->blas_core, sizeof o->blas_core, "%s", blas);
        else if (strcmp(o->blas_core, blas) != 0)
            event(o, 1,
                  "warning: %s uses OpenBLAS '%s' kernels, earlier workers '%s': results may "
                  "differ in the last bits from a run on one kind of machine",
                  w->name, blas, o->blas_core);
        qs_msg_t c = {.type = QS_MSG_CONFIG};
        c.u.config = o->config;
        send_msg(w, &c);
        dispatch(o);
        return;
    }
    case QS_MSG_RESULT:
        handle_result(w, &m->u.result);
        return;
    case QS_MSG_HEARTBEAT:
        return;
    case QS_MSG_DATA_REQUEST:
        if (m->u.data_request.data_hash != o->data.hash) {
            worker_fail(w, "asked for data set %08x, the run's is %08x",
                        m->u.data_request.data_hash, o->data.hash);
            return;
        }
        send_data(w);
        return;
    case QS_MSG_ERROR:
        if (m->u.error.task_id) {
            /* The worker could not compute a task: that task counts a failed attempt. */
            worker_fail(w, "error on task %" PRIu64 ": %s", m->u.error.task_id, m->u.error.message);
        } else {
            worker_fail(w, "reported an error: %s", m->u.error.message);
        }
        return;
    default:
        worker_fail(w, "sent an unexpected %s message", qs_msg_type_name(m->type));
        return;
    }
}

/* ---- worker processes ----------------------------------------------------------------------- */

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    (void)h;
    buf->base = xmalloc(suggested);
    buf->len = suggested;
}

static void on_worker_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
    worker_t *w = s->data;
    if (nread < 0) {
        if (nread == UV_EOF && !w->remote) {
            /* A local worker's output ends when it exits: on_worker_exit tells why. */
            uv_read_stop(s);
        } else if (!w->dying) {
            worker_fail(w, "%s",
                        nread == UV_EOF ? "closed the connection" : uv_strerror((int)nread));
        }
        free(buf->base);
        return;
    }
    const uint8_t *p = (const uint8_t *)buf->base;
    size_t left = (size_t)nread;
    w->o->bytes_received += left;
    while (left > 0 && !w->dying) {
        size_t used = 0, plen = 0;
        const uint8_t *payload = NULL;
        qs_error_t err = {0};
        int rc = qs_frame_reader_feed(&w->reader, p, left, &used, &payload, &plen, &err);
        p += used;
        left -= used;
        if (rc < 0) {
            worker_fail(w, "sent malformed data: %s", err.msg);
            break;
        }
        if (rc == 0)
            break;
        qs_msg_t m;
        if (qs_msg_decode(&m, payload, plen, &err) < 0) {
            worker_fail(w, "sent a bad message: %s", err.msg);
            break;
        }
        handle_msg(w, &m);
        qs_msg_destroy(&m);
    }
    free(buf->base);
}

/* stderr of a worker: whole lines go to run.log, the last one is kept for messages. */
static void on_worker_stderr(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
    worker_t *w = s->data;
    if (nread > 0) {
        for (ssize_t i = 0; i < nread; i++) {
            char c = buf->base[i];
            if (c == '\n' || w->errlen + 1 >= sizeof w->errbuf) {
                w->errbuf[w->errlen] = '\0';
                if (w->errlen) {
                    event(w->o, 0, "%s stderr: %s", w->name, w->errbuf);
                    snprintf(w->last_stderr, sizeof w->last_stderr, "%s", w->errbuf);
                }
                w->errlen = 0;
                if (c == '\n')
                    continue;
            }
            w->errbuf[w->errlen++] = c;
        }
    }
    free(buf->base);
}

static void close_loop_handles(orch_t *o)
{
    if (o->loop_handles_closed)
        return;
    o->loop_handles_closed = 1;
    uv_close((uv_handle_t *)&o->watchdog, NULL);
    uv_close((uv_handle_t *)&o->status, NULL);
    uv_close((uv_handle_t *)&o->kill_timer, NULL);
    uv_close((uv_handle_t *)&o->sigint, NULL);
    uv_close((uv_handle_t *)&o->sigterm, NULL);
    if (o->listening && !uv_is_closing((uv_handle_t *)&o->listener))
        uv_close((uv_handle_t *)&o->listener, NULL);
    for (uint32_t i = 0; i < o->nslots; i++)
        uv_close((uv_handle_t *)&o->slots[i].respawn, NULL);
}

static void on_worker_closed(uv_handle_t *h)
{
    worker_t *w = h->data;
    if (--w->open_handles > 0)
        return;
    orch_t *o = w->o;
    worker_t **pp = &o->workers;
    while (*pp && *pp != w)
        pp = &(*pp)->next;
    if (*pp)
        *pp = w->next;
    qs_frame_reader_destroy(&w->reader);
    free(w);
    if (o->stopping && !o->workers)
        close_loop_handles(o); /* everything is down: let uv_run return */
}

static void close_worker_handles(worker_t *w)
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

static void on_respawn(uv_timer_t *t)
{
    slot_t *s = t->data;
    if (!s->o->stopping && !s->w)
        spawn_worker(s);
}

static void on_worker_exit(uv_process_t *p, int64_t status, int signo)
{
    worker_t *w = p->data;
    orch_t *o = w->o;
    slot_t *s = w->slot;
    w->alive = 0;
    o->nworkers_alive--;
    char how[96];
    if (signo)
        snprintf(how, sizeof how, "killed by signal %d (%s)", signo, strsignal(signo));
    else
        snprintf(how, sizeof how, "exited with status %" PRId64, status);
    if (!o->stopping && !w->dying) {
        event(o, 1, "%s %s%s%s", w->name, how, w->last_stderr[0] ? ": " : "", w->last_stderr);
        requeue(w, how);
    } else {
        event(o, 0, "%s %s", w->name, how);
    }
    w->dying = 1;
    int had_started = w->ready;
    close_worker_handles(w);
    s->w = NULL;
    if (o->stopping)
        return;
    if (!had_started) {
        s->start_failures++;
        if (s->start_failures > o->sc->max_restarts) {
            fatal(o,
                  "worker %u failed to start %u times in a row (last: %s%s%s); see run.log in %s",
                  s->index, s->start_failures, how, w->last_stderr[0] ? ": " : "", w->last_stderr,
                  o->rd.dir);
            return;
        }
    }
    /* Backoff: 0.1 s, doubling with each consecutive start-up failure, at most 5 s. */
    double delay = QS_MIN(5.0, 0.1 * (double)(1u << QS_MIN(s->start_failures, 6u)));
    event(o, 0, "respawning worker %u in %.1fs", s->index, delay);
    uv_timer_start(&s->respawn, on_respawn, (uint64_t)(delay * 1000), 0);
}

static void worker_fail(worker_t *w, const char *fmt, ...)
{
    if (w->dying)
        return;
    orch_t *o = w->o;
    char reason[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(reason, sizeof reason, fmt, ap);
    va_end(ap);
    w->dying = 1;
    uv_read_stop(w->rx);
    event(o, 1, "%s %s: %s it, its %u task(s) go back to the queue", w->name, reason,
          w->remote ? "disconnecting" : "killing", w->ninflight);
    requeue(w, reason);
    if (w->remote)
        close_worker_handles(w); /* a remote peer is simply dropped */
    else if (w->alive)
        uv_process_kill(&w->proc, SIGKILL); /* on_worker_exit closes and respawns */
    if (!o->stopping)
        dispatch(o);
}

/* ---- remote workers (TCP) ------------------------------------------------------------------- */

static void reject_peer(worker_t *w, const char *tell, const char *log)
{
    qs_msg_t e = {.type = QS_MSG_ERROR};
    e.u.error.code = QS_ERR(AUTH);
    snprintf(e.u.error.message, sizeof e.u.error.message, "%s", tell);
    send_msg(w, &e);
    worker_fail(w, "%s", log);
}

static int remote_hello_ok(worker_t *w, const qs_msg_hello_t *h)
{
    orch_t *o = w->o;
    if (o->has_token) {
        if (!h->has_auth) {
            reject_peer(w, "this run requires a token (--token-file)",
                        "sent no authentication (this run requires a token)");
            return 0;
        }
        if (!qs_auth_check(h->mac, &o->token, "hello", w->nonce, h->nonce)) {
            reject_peer(w, "authentication failed", "failed authentication (wrong token)");
            return 0;
        }
        qs_msg_t wm = {.type = QS_MSG_WELCOME};
        qs_auth_mac(wm.u.welcome.mac, &o->token, "welcome", h->nonce, w->nonce);
        send_msg(w, &wm);
    }
    uv_timer_stop(&w->auth_timer);
    w->reader.max_payload = o->config.max_message;
    return 1;
}

static void on_auth_timeout(uv_timer_t *t)
{
    worker_t *w = t->data;
    if (!w->ready)
        worker_fail(w, "did not authenticate within %gs", w->o->sc->auth_timeout_s);
}

static void peer_name(uv_tcp_t *tcp, char *buf, size_t cap)
{
    struct sockaddr_storage addr;
    int alen = sizeof addr;
    char ip[64] = "?";
    int port = 0;
    if (uv_tcp_getpeername(tcp, (struct sockaddr *)&addr, &alen) == 0) {
        if (addr.ss_family == AF_INET6) {
            uv_ip6_name((struct sockaddr_in6 *)&addr, ip, sizeof ip);
            port = ntohs(((struct sockaddr_in6 *)&addr)->sin6_port);
        } else {
            uv_ip4_name((struct sockaddr_in *)&addr, ip, sizeof ip);
            port = ntohs(((struct sockaddr_in *)&addr)->sin_port);
        }
    }
    snprintf(buf, cap, "%s:%d", ip, port);
}

static void on_connection(uv_stream_t *server, int status)
{
    orch_t *o = server->data;
    if (status < 0) {
        event(o, 1, "accepting a remote worker failed: %s", uv_strerror(status));
        return;
    }
    worker_t *w = xcalloc(1, sizeof *w);
    w->o = o;
    w->remote = 1;
    uv_tcp_init(&o->loop, &w->tcp);
    uv_timer_init(&o->loop, &w->auth_timer);
    w->tcp.data = w->auth_timer.data = w;
    w->open_handles = 2;
    w->tx = w->rx = (uv_stream_t *)&w->tcp;
    /* Until it authenticates, a peer may send one small message: nothing big is read. */
    qs_frame_reader_init(&w->reader, PREAUTH_MAX_MESSAGE);
    w->next = o->workers;
    o->workers = w;
    w->started = w->last_heard = qs_now();
    snprintf(w->name, sizeof w->name, "remote peer");
    if (uv_accept(server, (uv_stream_t *)&w->tcp) < 0 || o->stopping) {
        w->dying = 1;
        close_worker_handles(w);
        return;
    }
    char peer[96];
    peer_name(&w->tcp, peer, sizeof peer);
    snprintf(w->name, sizeof w->name, "remote worker %u (%s)", ++o->remote_seq, peer);
    event(o, 0, "%s connected", w->name);
    uv_tcp_nodelay(&w->tcp, 1);
    qs_error_t err = {0};
    if (qs_auth_nonce(w->nonce, &err) < 0) {
        worker_fail(w, "%s", err.msg);
        return;
    }
    qs_msg_t c = {.type = QS_MSG_CHALLENGE};
    memcpy(c.u.challenge.nonce, w->nonce, QS_NONCE_LEN);
    send_msg(w, &c);
    uv_timer_start(&w->auth_timer, on_auth_timeout, (uint64_t)(o->sc->auth_timeout_s * 1000), 0);
    uv_read_start(w->rx, on_alloc, on_worker_read);
}

static int start_listening(orch_t *o, qs_error_t *err)
{
    char host[256];
    int port;
    int rc = qs_parse_hostport(o->opts->listen, host, sizeof host, &port, err);
    if (rc < 0)
        return qs_error_prefix(err, "--listen");
    if (o->opts->token_file) {
        if ((rc = qs_token_load(&o->token, o->opts->token_file, err)) < 0)
            return rc;
        o->has_token = 1;
    } else if (!qs_host_is_loopback(host)) {
        return qs_error_set(err, QS_ERR(AUTH),
                            "--listen %s: listening beyond loopback needs --token-file (anyone "
                            "who can reach the port could join the run)",
                            o->opts->listen);
    }
    struct sockaddr_storage addr;
    if (uv_ip4_addr(host, port, (struct sockaddr_in *)&addr) != 0 &&
        uv_ip6_addr(host, port, (struct sockaddr_in6 *)&addr) != 0)
        return qs_error_set(err, QS_ERR(INVAL), "--listen %s: '%s' is not an IP address",
                            o->opts->listen, host);
    uv_tcp_init(&o->loop, &o->listener);
    o->listener.data = o;
    o->listening = 1;
    if ((rc = uv_tcp_bind(&o->listener, (struct sockaddr *)&addr, 0)) < 0 ||
        (rc = uv_listen((uv_stream_t *)&o->listener, 128, on_connection)) < 0)
        return qs_error_set(err, QS_ERR(IO), "--listen %s: %s", o->opts->listen, uv_strerror(rc));
    struct sockaddr_storage bound;
    int blen = sizeof bound;
    if (uv_tcp_getsockname(&o->listener, (struct sockaddr *)&bound, &blen) == 0)
        port = ntohs(bound.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&bound)->sin6_port
                                                 : ((struct sockaddr_in *)&bound)->sin_port);
    event(o, 1, "listening for remote workers on %s:%d%s", host, port,
          o->has_token ? " (token required)" : " (loopback, no token)");
    return 0;
}

static void spawn_worker(slot_t *s)
{
    orch_t *o = s->o;
    worker_t *w = xcalloc(1, sizeof *w);
    w->o = o;
    w->slot = s;
    s->spawns++;
    snprintf(w->name, sizeof w->name, "worker %u", s->index);
    qs_frame_reader_init(&w->reader, o->config.max_message);
    uv_pipe_init(&o->loop, &w->in, 0);
    uv_pipe_init(&o->loop, &w->out, 0);
    uv_pipe_init(&o->loop, &w->err, 0);
    w->in.data = w->out.data = w->err.data = w->proc.data = w;
    w->tx = (uv_stream_t *)&w->in;
    w->rx = (uv_stream_t *)&w->out;
    char mem[32];
    snprintf(mem, sizeof mem, "%u", o->sc->worker_memory_mb);
    char *args[] = {o->exe, "worker", "--stdio", "--memory-mb", mem, NULL};
    uv_stdio_container_t stdio[3];
    stdio[0].flags = UV_CREATE_PIPE | UV_READABLE_PIPE;
    stdio[0].data.stream = (uv_stream_t *)&w->in;
    stdio[1].flags = UV_CREATE_PIPE | UV_WRITABLE_PIPE;
    stdio[1].data.stream = (uv_stream_t *)&w->out;
    stdio[2].flags = UV_CREATE_PIPE | UV_WRITABLE_PIPE;
    stdio[2].data.stream = (uv_stream_t *)&w->err;
    uv_process_options_t po = {0};
    po.file = o->exe;
    po.args = args;
    po.env = o->env;
    po.exit_cb = on_worker_exit;
    po.stdio_count = 3;
    po.stdio = stdio;
    w->open_handles = 4;
    w->next = o->workers;
    o->workers = w;
    s->w = w;
    int rc = uv_spawn(&o->loop, &w->proc, &po);
    w->started = w->last_heard = qs_now();
    if (rc < 0) {
        event(o, 1, "cannot start %s (%s): %s", w->name, o->exe, uv_strerror(rc));
        w->dying = 1;
        close_worker_handles(w);
        s->w = NULL;
        if (++s->start_failures > o->sc->max_restarts) {
            fatal(o, "cannot start workers: %s", uv_strerror(rc));
            return;
        }
        uv_timer_start(&s->respawn, on_respawn, 500, 0);
        return;
    }
    w->alive = 1;
    w->pid = w->proc.pid;
    o->nworkers_alive++;
    snprintf(w->name, sizeof w->name, "worker %u (pid %d)", s->index, w->pid);
    event(o, 0, "started %s", w->name);
    uv_read_start(w->rx, on_alloc, on_worker_read);
    uv_read_start((uv_stream_t *)&w->err, on_alloc, on_worker_stderr);
}

/* ---- watchdog, signals, shutdown ----------------------------------------------------------- */

static void on_watchdog(uv_timer_t *t)
{
    orch_t *o = t->data;
    if (o->stopping)
        return;
    double now = qs_now(), hb = o->sc->heartbeat_s;
    for (worker_t *w = o->workers; w; w = w->next) {
        if (w->dying || (!w->alive && !w->remote))
            continue;
        if (!w->ready) {
            if (now - w->started > STARTUP_TIMEOUT_S)
                worker_fail(w, "did not say hello within %.0fs", STARTUP_TIMEOUT_S);
            continue;
        }
        if (now - w->last_heard > HEARTBEATS_MISSED * hb) {
            worker_fail(w, "silent for %.1fs (%d heartbeats missed: hung or stopped)",
                        now - w->last_heard, HEARTBEATS_MISSED);
            continue;
        }
        if (w->ninflight > 0 && now - w->busy_since > o->sc->task_timeout_s)
            worker_fail(w, "task of organism %" PRIu64 " ran past task_timeout_s = %gs",
                        qs_islands_entry(&o->isl, w->inflight[0])->id, o->sc->task_timeout_s);
    }
}

static void on_kill_timer(uv_timer_t *t)
{
    orch_t *o = t->data;
    for (worker_t *w = o->workers; w; w = w->next) {
        if (w->alive)
            uv_process_kill(&w->proc, SIGKILL);
        else if (w->remote)
            close_worker_handles(w);
    }
}

static void on_remote_shutdown(uv_shutdown_t *req, int status)
{
    (void)status;
    worker_t *w = req->data;
    free(req);
    close_worker_handles(w);
}

static void finish(orch_t *o, int code)
{
    if (o->stopping)
        return;
    o->stopping = 1;
    o->exit_code = code;
    clear_status(o);
    uv_timer_stop(&o->watchdog);
    uv_timer_stop(&o->status);
    for (uint32_t i = 0; i < o->nslots; i++)
        uv_timer_stop(&o->slots[i].respawn);
    if (o->listening && !uv_is_closing((uv_handle_t *)&o->listener))
        uv_close((uv_handle_t *)&o->listener, NULL);
    for (worker_t *w = o->workers; w; w = w->next) {
        int was_dying = w->dying;
        if (!w->dying && w->ready) {
            qs_msg_t m = {.type = QS_MSG_SHUTDOWN};
            snprintf(m.u.shutdown.reason, sizeof m.u.shutdown.reason, "%s",
                     code == 0 ? "run complete" : "run stopped");
            send_msg(w, &m);
        }
        w->dying = 1;
        if (w->remote) {
            /* Let the shutdown message drain, then close. */
            uv_shutdown_t *req = xcalloc(1, sizeof *req);
            req->data = w;
            if (was_dying || uv_is_closing((uv_handle_t *)&w->tcp) ||
                uv_shutdown(req, (uv_stream_t *)&w->tcp, on_remote_shutdown) < 0) {
                free(req);
                close_worker_handles(w);
            }
            continue;
        }
        /* Local: closing its stdin ends it (EOF); the kill timer makes sure. */
        if (!uv_is_closing((uv_handle_t *)&w->in))
            uv_close((uv_handle_t *)&w->in, on_worker_closed);
        if (!w->alive)
            close_worker_handles(w);
    }
    uv_timer_start(&o->kill_timer, on_kill_timer, SHUTDOWN_GRACE_MS, 0);
    if (!o->workers)
        close_loop_handles(o);
}

static void on_signal(uv_signal_t *h, int signo)
{
    orch_t *o = h->data;
    o->interrupts++;
    if (o->interrupts >= 2) {
        for (worker_t *w = o->workers; w; w = w->next)
            if (w->alive)
                uv_process_kill(&w->proc, SIGKILL);
        clear_status(o);
        fprintf(stderr, "quinesim run: second %s, exiting at once\n", strsignal(signo));
        if (o->rd_open)
            qs_rundir_log(&o->rd, "second %s: exiting at once", strsignal(signo));
        _exit(128 + signo);
    }
    char held[64] = "no generation yet";
    if (o->isl.generation > 0)
        snprintf(held, sizeof held, "generations 0..%u", o->isl.generation - 1);
    event(o, 1,
          "%s: stopping; generation %u is abandoned, the run directory holds %s (press Ctrl-C "
          "again to exit at once)",
          strsignal(signo), o->isl.generation, held);
    if (o->stopping)
        return;
    if (write_checkpoint(o, 0) < 0)
        return;
    qs_error_t err = {0};
    if (qs_rundir_sort_phylogeny(&o->rd, &err) < 0) /* the checkpoint stays good */
        event(o, 1, "phylogeny.csv left in death order: %s", err.msg);
    event(o, 1, "resume with: quinesim run --resume %s", o->rd.dir);
    finish(o, 128 + signo); /* the shell's convention: 130 for SIGINT, 143 for SIGTERM */
}

/* ---- set-up --------------------------------------------------------------------------------- */

static char **make_env(void)
{
    extern char **environ;
    size_t n = 0;
    while (environ[n])
        n++;
    char **env = xcalloc(n + 2, sizeof *env);
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (strncmp(environ[i], "OPENBLAS_NUM_THREADS=", 21) != 0)
            env[k++] = environ[i];
    env[k++] = "OPENBLAS_NUM_THREADS=1";
    env[k] = NULL;
    return env;
}

static void build_config(orch_t *o)
{
    const qs_scenario_t *sc = o->sc;
    qs_msg_config_t *c = &o->config;
    memset(c, 0, sizeof *c);
    c->seed = sc->seed;
    c->nspecies = sc->nspecies;
    for (uint32_t s = 0; s < sc->nspecies; s++) {
        const qs_scn_species_t *sp = &sc->species[s];
        qs_species_cfg_t *x = &c->species[s];
        snprintf(x->name, sizeof x->name, "%s", sp->name);
        x->spec = qs_scenario_spec(sc, s);
        x->obj.sr_loss = sp->loss;
        x->obj.lambda = (float)sp->lambda;
        x->obj.temperature = (float)sp->temperature;
        x->obj.reduce = sp->reduce;
        x->obj.pairing = sp->pairing;
        x->init = sp->init;
    }
    c->opt = qs_opt_defaults(sc->optimizer);
    if (sc->lr > 0)
        c->opt.lr = (float)sc->lr;
    c->batch = sc->batch;
    c->images = sc->images;
    c->refresh = sc->refresh;
    c->fertility = (qs_life_fertility_t){sc->recipe, sc->fertile_steps, sc->fertile_cg, sc->regen,
                                         (int)sc->measure_child};
    c->mode = sc->mode;
    c->regenerations = sc->regenerations;
    c->mutation_sigma = (float)sc->mutation_sigma;
    c->mutation_rate = (float)sc->mutation_rate;
    snprintf(c->data_path, sizeof c->data_path, "%s", sc->data_path);
    c->train_count = o->data.train.count;
    c->fitness_count = o->data.fitness.count;
    c->data_hash = o->data.hash;
    c->max_message = QS_MAX_MESSAGE_DEFAULT;
    c->heartbeat_s = sc->heartbeat_s;
    c->memory_mb = sc->worker_memory_mb;
}

static int needs_data(const qs_scenario_t *sc)
{
    for (uint32_t s = 0; s < sc->nspecies; s++)
        if (sc->species[s].kind == QS_KIND_AUX)
            return 1;
    return 0;
}

int qs_orchestrator_run(qs_scenario_t *sc, const char *scenario_text, const qs_run_opts_t *opts,
                        qs_checkpoint_t *resume)
{
    orch_t *o = xcalloc(1, sizeof *o);
    /* A worker that dies leaves a broken pipe: that is an event to handle, not a signal
     * that kills the orchestrator (libuv reports EPIPE on the write instead). */
    signal(SIGPIPE, SIG_IGN);
    o->sc = sc;
    o->scenario_text = scenario_text;
    o->opts = opts;
    o->tty = opts->progress == QS_PROGRESS_AUTO && isatty(STDERR_FILENO);
    int status = 1;
    qs_error_t err = {0};

    if (needs_data(sc) &&
        qs_data_load(&o->data, sc->data_path, sc->train, sc->fitness, sc->test, &err) < 0) {
        fprintf(stderr, "quinesim run: %s\n", err.msg);
        goto out;
    }
    if (opts->worker_exe) {
        snprintf(o->exe, sizeof o->exe, "%s", opts->worker_exe);
    } else {
        size_t len = sizeof o->exe;
        if (uv_exepath(o->exe, &len) < 0) {
            fprintf(stderr, "quinesim run: cannot find my own executable\n");
            goto out;
        }
    }
    if (resume) {
        if (qs_islands_restore(&o->isl, sc, resume, &err) < 0 ||
            qs_rundir_reopen(&o->rd, opts->out_dir, sc, scenario_text, resume, &err) < 0) {
            fprintf(stderr, "quinesim run: %s\n", err.msg);
            goto out;
        }
        o->wall_before = resume->wall_seconds;
        uint64_t founders, births, deaths;
        qs_islands_totals(&o->isl, &founders, &births, &deaths);
        o->births_before = births - founders;
    } else {
        if (qs_rundir_create(&o->rd, opts->out_dir, sc, scenario_text, opts->force, &err) < 0) {
            fprintf(stderr, "quinesim run: %s\n", err.msg);
            goto out;
        }
        qs_islands_init(&o->isl, sc);
    }
    o->rd_open = 1;
    qs_islands_set_echo(&o->isl, opts->echo_tasks);
    build_config(o);
    o->env = make_env();
    if (resume)
        event(o, 1, "resuming at generation %u from the checkpoint (%u organisms)",
              o->isl.generation, qs_islands_count(&o->isl));

    uv_loop_init(&o->loop);
    o->nslots = opts->workers_set ? opts->workers : sc->workers;
    if (o->nslots == 0 && !(opts->workers_set && opts->listen))
        o->nslots = (uint32_t)QS_MAX(1, sysconf(_SC_NPROCESSORS_ONLN)); /* auto */
    o->slots = xcalloc(o->nslots ? o->nslots : 1, sizeof *o->slots);
    for (uint32_t i = 0; i < o->nslots; i++) {
        o->slots[i].o = o;
        o->slots[i].index = i;
        uv_timer_init(&o->loop, &o->slots[i].respawn);
        o->slots[i].respawn.data = &o->slots[i];
    }
    uv_timer_init(&o->loop, &o->watchdog);
    uv_timer_init(&o->loop, &o->status);
    uv_timer_init(&o->loop, &o->kill_timer);
    o->watchdog.data = o->status.data = o->kill_timer.data = o;
    uv_signal_init(&o->loop, &o->sigint);
    uv_signal_init(&o->loop, &o->sigterm);
    o->sigint.data = o->sigterm.data = o;
    uv_signal_start(&o->sigint, on_signal, SIGINT);
    uv_signal_start(&o->sigterm, on_signal, SIGTERM);
    double tick = QS_MIN(sc->heartbeat_s, 1.0) * 500;
    uv_timer_start(&o->watchdog, on_watchdog, (uint64_t)tick, (uint64_t)QS_MAX(tick, 1));
    if (o->tty)
        uv_timer_start(&o->status, on_status, 500, 500);
    if (opts->listen && start_listening(o, &err) < 0) {
        fprintf(stderr, "quinesim run: %s\n", err.msg);
        finish(o, 2);
    }

    o->run_started = qs_now();
    if (!o->stopping) {
        event(o, 0, "run %s: %u generations, %u species, %u organisms, %u workers, seed %" PRIu64,
              sc->name, sc->generations, sc->nspecies, qs_islands_count(&o->isl), o->nslots,
              sc->seed);
        if (opts->progress != QS_PROGRESS_QUIET)
            printf("run %s: %u generations of up to %u organisms on %u workers -> %s\n", sc->name,
                   sc->generations, sc->population, o->nslots, opts->out_dir);
        /* A fresh run checkpoints generation 0's plan at once: resumable from the start. */
        if (!resume)
            write_checkpoint(o, 0);
    }
    if (!o->stopping) {
        for (uint32_t i = 0; i < o->nslots; i++)
            spawn_worker(&o->slots[i]);
        start_generation(o);
    }

    uv_run(&o->loop, UV_RUN_DEFAULT);
    while (uv_loop_close(&o->loop) == UV_EBUSY)
        uv_run(&o->loop, UV_RUN_NOWAIT);
    status = o->exit_code;
out:
    if (o->rd_open)
        qs_rundir_close(&o->rd);
    qs_islands_destroy(&o->isl);
    qs_data_destroy(&o->data);
    free(o->tasks);
    free(o->queue);
    free(o->slots);
    free(o->env);
    free(o);
    return status;
}
