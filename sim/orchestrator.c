/* orchestrator: generations, scheduling, checkpoints, signals and resume on one libuv
 * loop. Workers are the pool's (sim/pool.h); what the run prints is sim/progress.h's. */
#include "sim/orchestrator.h"

#include <assert.h>
#include <inttypes.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>
#include <uv.h>

#include "core/fidelity.h"
#include "core/quine.h"
#include "proto/wire.h"
#include "sim/dataset.h"
#include "sim/hosting.h"
#include "sim/islands.h"
#include "sim/pool.h"
#include "sim/progress.h"
#include "sim/resources.h"
#include "sim/rundir.h"

typedef struct orch orch_t;

/* One run: its population, directory and generation (runs of a set share the pool). */
typedef struct run {
    orch_t *o;
    qs_orch_run_t *out; /* what the caller asked and gets back */
    uint32_t index;     /* its config's index in the pool */
    qs_scenario_t *sc;
    const char *scenario_text;
    qs_islands_t isl;      /* the population(s) */
    qs_hosting_t *hosting; /* [islands] hosting = workers: the hosts compute isl's islands */
    char ckpt_path[QS_PATH_MAX + 32];
    int end_after_state;        /* hosted: the checkpoint being gathered is the last */
    int first_gather;           /* hosted, fresh: generation 0's checkpoint comes first */
    qs_checkpoint_writer_t ckw; /* hosted: the checkpoint being gathered, as its parts come */
    qs_rundir_t rd;
    int rd_open;
    qs_data_t *data; /* own_data or an earlier run's with the same images */
    qs_data_t own_data;
    qs_msg_config_t config;
    /* the current generation's tasks (one per organism, same index); kept until the pool
     * is freed once submitted (a stopped run's tasks may still be in the pool) */
    qs_pool_task_t *tasks;
    uint32_t ntasks, ndone;
    /* state */
    int stopped, exit_code;
    double run_started, gen_started, last_gen_seconds;
    double wall_before;     /* spent by earlier sessions of a resumed run */
    uint64_t births_before; /* births by replication before this session */
    qs_progress_out_t prog;
} run_t;

/* What the runs share: the loop, the pool, the signals and the status line. */
struct orch {
    uv_loop_t loop;
    const qs_run_opts_t *opts;
    run_t *runs;
    uint32_t nruns, running;
    const qs_msg_config_t **configs; /* runs[i].config, for the pool */
    const qs_data_t **data;
    char exe[QS_PATH_MAX];
    qs_pool_t *pool;
    uint32_t nworkers; /* local worker places */
    /* timers and signals (closed when the pool has stopped) */
    uv_timer_t status;
    uv_signal_t sigint, sigterm;
    int stopping, interrupts;
    double started;
    qs_progress_out_t prog; /* the set's status line */
};

static void finish(run_t *r, int code);

#define event(r, ...) qs_progress_event(&(r)->prog, __VA_ARGS__)

/* r fails alone (the other runs go on). */
static void fatal(run_t *r, const char *fmt, ...) QS_PRINTF(2, 3);
static void fatal(run_t *r, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    qs_progress_fatal(&r->prog, msg);
    snprintf(r->out->reason, sizeof r->out->reason, "failed");
    finish(r, 1);
}

/* The organisms of the current plan, wherever it is held. */
static uint32_t run_count(const run_t *r)
{
    return r->hosting ? qs_islands_hosted_count(&r->isl) : qs_islands_count(&r->isl);
}

static void on_status(uv_timer_t *t)
{
    orch_t *o = t->data;
    if (!o->prog.tty || o->stopping)
        return;
    qs_progress_status_t s = {.busy = qs_pool_busy(o->pool), .ready = qs_pool_ready(o->pool)};
    double eta = 0;
    int first = 1;
    for (uint32_t i = 0; i < o->nruns; i++) {
        run_t *r = &o->runs[i];
        if (r->stopped)
            continue;
        uint32_t g = r->isl.generation, G = r->sc->generations;
        uint64_t founders, births, deaths;
        qs_islands_totals(&r->isl, &founders, &births, &deaths);
        double per_gen = g ? (r->gen_started - r->run_started) / g : NAN;
        eta = QS_MAX(eta, per_gen * (G - g) - (qs_now() - r->gen_started));
        if (first || g < s.generation) { /* the set: its slowest run */
            s.generation = g;
            s.generations = G;
        }
        first = 0;
        if (r->hosting) { /* the islands' generations on their hosts */
            uint32_t done, total;
            qs_hosting_progress(r->hosting, &done, &total);
            s.done += done;
            s.tasks += total;
        } else {
            s.done += r->ndone;
            s.tasks += r->ntasks;
        }
        s.births += births - founders; /* by replication */
        if (!g)
            eta = NAN;
    }
    s.elapsed = qs_now() - o->started;
    s.eta = isfinite(eta) ? QS_MAX(eta, 0) : NAN;
    s.runs = o->nruns;
    s.running = o->running;
    qs_progress_status(&o->prog, &s);
}

/* ---- tasks: one per organism of the generation ---------------------------------------------- */

static void generation_complete(run_t *r);

static uint32_t task_index(const qs_pool_task_t *t)
{
    const run_t *r = t->ctx;
    return (uint32_t)(t - r->tasks);
}

static void task_encode(qs_pool_task_t *t, qs_msg_t *m)
{
    run_t *r = t->ctx;
    qs_islands_task(&r->isl, task_index(t), t->id, &m->u.task);
    m->u.task.config = r->index;
}

static int task_result(qs_pool_task_t *t, qs_life_result_t *res, qs_error_t *err)
{
    run_t *r = t->ctx;
    if (r->stopped) /* a run that failed: its late results are dropped */
        return 0;
    uint64_t expected = qs_islands_entry(&r->isl, task_index(t))->id;
    if (expected != res->organism)
        return qs_error_set(err, QS_ERR(PEER),
                            "result of task %" PRIu64 " names organism %" PRIu64
                            ", expected %" PRIu64,
                            res->task_id, res->organism, expected);
    if (qs_islands_apply(&r->isl, res, err) < 0)
        return qs_error_prefix(err, "bad result");
    return 0;
}

static void task_done(qs_pool_task_t *t)
{
    run_t *r = t->ctx;
    if (++r->ndone == r->ntasks && !r->stopped)
        generation_complete(r);
}

static void task_failed(qs_pool_task_t *t)
{
    run_t *r = t->ctx;
    if (!r->stopped)
        fatal(r, "the task of organism %" PRIu64 " failed on %u workers (last: %s); giving up",
              qs_islands_entry(&r->isl, task_index(t))->id, t->attempts, t->last_error);
}

static void task_describe(const qs_pool_task_t *t, char *buf, size_t cap)
{
    const run_t *r = t->ctx;
    int n = r->o->nruns > 1 ? snprintf(buf, cap, "%s: ", r->out->tag ? r->out->tag : "") : 0;
    snprintf(buf + n, cap - (size_t)n, "organism %" PRIu64,
             qs_islands_entry(&r->isl, task_index(t))->id);
}

static const qs_pool_task_ops_t task_ops = {task_encode, task_result,   task_done,
                                            task_failed, task_describe, NULL};

/* ---- generations ---------------------------------------------------------------------------- */

/* A task id: unique among the pool's tasks (run index, generation, organism's place): for
 * a single run, generation << 32 | place + 1. */
static uint64_t task_id(const run_t *r, uint32_t i)
{
    return (uint64_t)r->index << 54 | (uint64_t)(r->isl.generation & 0x3FFFFF) << 32 |
           (uint64_t)(i + 1);
}

static void start_generation(run_t *r)
{
    if (r->hosting) {
        r->ntasks = r->ndone = 0;
        r->gen_started = qs_now();
        qs_hosting_generation(r->hosting, r->isl.generation + 1 >= r->sc->generations);
        return;
    }
    free(r->tasks);
    r->ntasks = qs_islands_budget(&r->isl);
    r->tasks = xcalloc(r->ntasks ? r->ntasks : 1, sizeof *r->tasks);
    r->ndone = 0;
    for (uint32_t i = 0; i < r->ntasks; i++) {
        r->tasks[i].ops = &task_ops;
        r->tasks[i].ctx = r;
        r->tasks[i].id = task_id(r, i);
    }
    /* Longest first: births (replication, then a life) before lives of survivors, so the
     * short tasks fill the end of the generation. */
    for (int pass = 0; pass < 2; pass++)
        for (uint32_t i = 0; i < r->ntasks; i++)
            if (qs_islands_entry(&r->isl, i)->newborn == (pass == 0))
                qs_pool_submit(r->o->pool, &r->tasks[i]);
    r->gen_started = qs_now();
    qs_pool_dispatch(r->o->pool);
}

/* The held-out test accuracy of the best organism, as "; held-out ..." (or ""). */
static void held_out(run_t *r, const qs_population_t *pop, char *held, size_t cap)
{
    held[0] = '\0';
    if (!pop || r->data->test.count == 0)
        return;
    const qs_org_t *b = &pop->best;
    if (!b->genome)
        return;
    qs_quine_spec_t spec = qs_scenario_spec(r->sc, b->species);
    qs_life_setup_t setup = {.train = &r->data->train,
                             .fitness = &r->data->test,
                             .classifier_only = 1,
                             .work_rows = 1024};
    qs_life_species_t sp;
    qs_error_t err = {0};
    if (spec.kind == QS_KIND_AUX && qs_life_species_init(&sp, &spec, &setup, &err) == 0) {
        snprintf(held, cap, "; held-out test accuracy %.4f (%u images)",
                 qs_life_accuracy(&sp, b->genome), sp.fitness.count);
        qs_life_species_destroy(&sp);
    }
}

static void final_report(run_t *r, const char *reason)
{
    const qs_population_t *pop = qs_islands_best(&r->isl); /* the best's, or NULL */
    char held[160];
    held_out(r, pop, held, sizeof held);
    double wall = qs_now() - r->run_started;
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    double cpu = (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec * 1e-6 +
                 (double)ru.ru_stime.tv_sec + ru.ru_stime.tv_usec * 1e-6;
    uint32_t generations = r->isl.generation;
    uint64_t founders, births, deaths;
    qs_islands_totals(&r->isl, &founders, &births, &deaths);
    births -= founders; /* by replication, as in `analyze` */
    event(r, 0,
          "run %s after %u generations: %" PRIu64 " founders, %" PRIu64 " births, %" PRIu64
          " deaths, %.3fs",
          reason, generations, founders, births, deaths, wall);
    snprintf(r->out->reason, sizeof r->out->reason, "%s", reason);
    event(r, 0, "orchestrator CPU time %.3fs (%.2f%% of the wall time)", cpu,
          wall > 0 ? 100 * cpu / wall : 0.0);
    event(r, 0, "orchestrator peak memory %.1f MB (the process's maximum resident set)",
          (double)ru.ru_maxrss / 1024.0);
    /* this session's births: a resumed run's earlier ones sent their bytes before */
    const qs_pool_stats_t *st = qs_pool_stats(r->o->pool);
    uint64_t session_births = births - r->births_before;
    uint64_t bytes = st->bytes_sent + st->bytes_received;
    event(r, 0,
          "traffic with workers%s: %" PRIu64 " bytes sent, %" PRIu64 " received, %.0f bytes per "
          "birth, %.0f per task (%" PRIu64 " tasks)",
          r->o->nruns > 1 ? " (all the set's runs so far)" : "", st->bytes_sent, st->bytes_received,
          session_births ? (double)bytes / (double)session_births : 0.0,
          st->tasks_sent ? (double)bytes / (double)st->tasks_sent : 0.0, st->tasks_sent);
    if (r->hosting) {
        uint64_t mig, states, records = st->received_by_type[QS_MSG_ISLAND_RECORDS];
        qs_hosting_genome_bytes(r->hosting, &mig, &states);
        uint64_t rest = bytes > mig + states ? bytes - mig - states : 0;
        double b = session_births ? (double)session_births : 1.0;
        event(r, 0,
              "hosted islands: %" PRIu64 " bytes of migrants' genomes, %" PRIu64
              " of islands' states (checkpoints), %" PRIu64 " of island_records; without "
              "migrants and states %.0f bytes per birth, with the migrants %.0f",
              mig, states, records, (double)rest / b, (double)(rest + mig) / b);
    } else if (r->isl.n > 1) /* what hosts would send instead of genomes (sim/islands.h) */
        event(r, 0,
              "island records: %" PRIu64 " bytes in this session's island_records messages, "
              "%.0f per birth",
              r->isl.records_bytes,
              session_births ? (double)r->isl.records_bytes / (double)session_births : 0.0);
    qs_progress_final(&r->prog, reason, generations, founders, births, wall, pop,
                      pop ? r->sc->species[pop->best.species].name : "", held);
}

/* Test hook for the fault tests: QS_TEST_SLOW_CHECKPOINT=G:MS holds the loop MS ms after
 * the checkpoint of generation G, as a slow disk would. */
static void slow_disk_hook(uint32_t generation)
{
    const char *v = getenv("QS_TEST_SLOW_CHECKPOINT");
    char *end;
    if (!v || strtoul(v, &end, 10) != generation || *end != ':')
        return;
    long ms = strtol(end + 1, NULL, 10);
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* Write c as checkpoint.msgpack for the current boundary (the plan of pop.generation). */
static int save_checkpoint(run_t *r, qs_checkpoint_t *c0, int finished)
{
    qs_checkpoint_t c = *c0;
    c.scenario = (char *)r->scenario_text;
    c.finished = finished;
    c.wall_seconds = r->wall_before + (qs_now() - r->run_started);
    qs_rundir_stamp(&r->rd, &c);
    char path[QS_PATH_MAX + 32];
    snprintf(path, sizeof path, "%s/checkpoint.msgpack", r->rd.dir);
    qs_error_t err = {0};
    int rc = qs_checkpoint_save(&c, path, &err);
    if (rc < 0) {
        fatal(r,
              "cannot write the checkpoint: %s (the previous checkpoint is intact; resume "
              "from it once the problem is fixed)",
              err.msg);
        return rc;
    }
    event(r, 0, "checkpoint: generation %u, %u organisms", r->isl.generation, run_count(r));
    slow_disk_hook(r->isl.generation);
    return 0;
}

/* The same from the islands the orchestrator holds itself. */
static int write_checkpoint(run_t *r, int finished)
{
    qs_checkpoint_t c;
    qs_islands_checkpoint(&r->isl, &c);
    int rc = save_checkpoint(r, &c, finished);
    qs_islands_checkpoint_release(&c);
    return rc;
}

/* The run is over (completed or extinct): the end record, then (checkpoint written) the
 * report. */
static int write_end(run_t *r, int last)
{
    qs_error_t err = {0};
    if (qs_rundir_write_end(&r->rd, r->isl.generation, last ? "completed" : "extinct", &err) < 0) {
        fatal(r, "%s", err.msg);
        return -1;
    }
    return 0;
}

static void report_end(run_t *r, int last)
{
    final_report(r, last ? "completed" : "extinct");
    finish(r, 0);
}

/* What generation g produced goes to the run directory and the terminal; out is taken. */
static int record_generation(run_t *r, qs_islands_out_t *out, double wall)
{
    uint32_t g = r->isl.generation - 1;
    qs_error_t err = {0};
    if (qs_rundir_write_generation(&r->rd, out, wall, qs_pool_ready(r->o->pool), &err) < 0) {
        qs_islands_out_destroy(out);
        fatal(r, "%s", err.msg);
        return -1;
    }
    if (r->isl.best_changed && !r->hosting) { /* hosted: with the next states (its genome) */
        r->isl.best_changed = 0;
        if (qs_rundir_save_best(&r->rd, qs_islands_best(&r->isl), &err) < 0) {
            qs_islands_out_destroy(out);
            fatal(r, "%s", err.msg);
            return -1;
        }
    }
    if (out->migrated || out->lost)
        event(r, 0, "migration after generation %u: %u immigrants placed, %u refused (capacity)", g,
              out->migrated, out->lost);
    const qs_rec_generation_t *s = &out->all.summary;
    r->out->last = *s;
    r->out->has_last = 1;
    event(r, 0,
          "generation %u: population %u, births %u, deaths %u, best accuracy %.4f, mean %.4f, "
          "self R2 %.4f, %.2fs",
          g, s->population, s->births, s->deaths, s->best_accuracy, s->mean_accuracy, s->mean_r2,
          wall);
    for (uint32_t sp = 0; sp < r->sc->nspecies; sp++)
        if (out->all.extinct & (1u << sp))
            event(r, 1, "species %s went extinct in generation %u", r->sc->species[sp].name, g);
    qs_progress_generation(&r->prog, s, r->sc->generations, wall);
    r->last_gen_seconds = wall;
    qs_islands_out_destroy(out);
    return 0;
}

static void generation_complete(run_t *r)
{
    double wall = qs_now() - r->gen_started;
    int last = r->isl.generation + 1 >= r->sc->generations;
    qs_error_t err = {0};
    if (qs_archiver_write_generation(&r->rd.archive, r->isl.pop, r->isl.n, &err) < 0) {
        fatal(r, "%s", err.msg); /* the lives are over: archive them */
        return;
    }
    qs_islands_out_t out;
    qs_islands_advance(&r->isl, last, &out);
    int done = last || qs_islands_count(&r->isl) == 0;
    /* Workers start on the next generation at once; the records of this one are written
     * (and fsynced) while they compute. The checkpoint comes after the records it counts. */
    if (!done)
        start_generation(r);
    if (record_generation(r, &out, wall) < 0)
        return;
    if (done) {
        if (write_end(r, last) == 0 && write_checkpoint(r, 1) == 0)
            report_end(r, last);
        return;
    }
    uint32_t every = r->sc->checkpoint_every;
    if (every && r->isl.generation % every == 0)
        write_checkpoint(r, 0);
}

/* ---- hosted islands ([islands] hosting = workers, sim/hosting.h) ------------------------------
 */

/* Test hook for the islands tests: QS_TEST_KILL_IN_CHECKPOINT=G:K kills the orchestrator
 * (SIGKILL, as kill -9 would) once K islands' states of the checkpoint of generation G are
 * in its temporary file. */
static void kill_in_checkpoint_hook(uint32_t generation, uint32_t written)
{
    const char *v = getenv("QS_TEST_KILL_IN_CHECKPOINT");
    char *end;
    if (v && strtoul(v, &end, 10) == generation && *end == ':' &&
        strtoul(end + 1, NULL, 10) == written)
        raise(SIGKILL);
}

/* A checkpoint in parts (hosted): its head now (everything known before the islands'
 * states: the files' offsets, the run, where the best is); 0, or -1 and r failed. */
static int open_parts(run_t *r, int finished)
{
    qs_checkpoint_t head;
    memset(&head, 0, sizeof head);
    head.scenario = (char *)r->scenario_text;
    head.seed = r->sc->seed;
    head.generation = r->isl.generation;
    head.finished = finished;
    head.wall_seconds = r->wall_before + (qs_now() - r->run_started);
    qs_rundir_stamp(&r->rd, &head);
    const qs_population_t *b = qs_islands_best(&r->isl);
    qs_error_t err = {0};
    if (qs_checkpoint_writer_open(&r->ckw, r->ckpt_path, &head, r->isl.n,
                                  b ? b->island : UINT32_MAX, &err) < 0) {
        fatal(r,
              "cannot write the checkpoint: %s (the previous checkpoint is intact; resume "
              "from it once the problem is fixed)",
              err.msg);
        return -1;
    }
    return 0;
}

/* The checkpoint in parts completed: 0, or -1 and r failed. */
static int commit_parts(run_t *r)
{
    qs_error_t err = {0};
    if (qs_checkpoint_writer_commit(&r->ckw, &err) < 0) {
        fatal(r,
              "cannot write the checkpoint: %s (the previous checkpoint is intact; resume "
              "from it once the problem is fixed)",
              err.msg);
        return -1;
    }
    event(r, 0, "checkpoint: generation %u, %u organisms (%u islands' states, streamed)",
          r->isl.generation, run_count(r), r->isl.n);
    slow_disk_hook(r->isl.generation);
    return 0;
}

/* A checkpoint from the hosts: the head now, each island's state as it comes
 * (hosted_part), completed when the last is in (hosted_state). */
static void hosted_gather(run_t *r, int finished)
{
    if (open_parts(r, finished) == 0)
        qs_hosting_gather(r->hosting);
}

static void hosted_part(void *ctx, uint32_t k, const uint8_t *frame, size_t len)
{
    run_t *r = ctx;
    qs_error_t err = {0};
    (void)k;
    if (r->stopped)
        return;
    if (qs_checkpoint_writer_part(&r->ckw, frame, len, &err) < 0) {
        fatal(r,
              "cannot write the checkpoint: %s (the previous checkpoint is intact; resume "
              "from it once the problem is fixed)",
              err.msg);
        return;
    }
    kill_in_checkpoint_hook(r->isl.generation, r->ckw.written);
}

/* The hosts' generation is over: record it; then a checkpoint (gathered from the hosts)
 * when one is due, and the next generation after it. */
static void hosted_generation(void *ctx, qs_islands_out_t *out)
{
    run_t *r = ctx;
    double wall = qs_now() - r->gen_started;
    int last = r->isl.generation >= r->sc->generations; /* advanced already */
    int done = last || qs_islands_hosted_count(&r->isl) == 0;
    if (r->stopped || record_generation(r, out, wall) < 0)
        return;
    uint32_t every = r->sc->checkpoint_every;
    if (done) {
        if (write_end(r, last) < 0)
            return;
        r->end_after_state = 1;
        hosted_gather(r, 1);
    } else if (every && r->isl.generation % every == 0) {
        hosted_gather(r, 0);
    } else {
        start_generation(r);
    }
}

static void hosted_state(void *ctx)
{
    run_t *r = ctx;
    qs_error_t err = {0};
    if (r->stopped || commit_parts(r) < 0)
        return;
    r->first_gather = 0;
    qs_hosting_checkpointed(r->hosting);
    if (r->isl.best_changed) { /* its genome came with the states */
        r->isl.best_changed = 0;
        if (qs_rundir_save_best(&r->rd, qs_islands_best(&r->isl), &err) < 0) {
            fatal(r, "%s", err.msg);
            return;
        }
    }
    if (r->end_after_state)
        report_end(r, r->isl.generation >= r->sc->generations);
    else
        start_generation(r);
}

static void hosted_fatal(void *ctx, const char *msg)
{
    fatal(ctx, "%s", msg);
}

static void hosted_event(void *ctx, const char *fmt, ...) QS_PRINTF(2, 3);
static void hosted_event(void *ctx, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    event((run_t *)ctx, 0, "%s", msg);
}

/* Hand r's islands to their hosts: local workers are waited for (as many as there are
 * islands, at most), remote ones as they come. */
static void start_hosting(run_t *r)
{
    static const qs_hosting_cb_t cb0 = {NULL,         hosted_generation, hosted_part,
                                        hosted_state, hosted_fatal,      hosted_event};
    qs_hosting_cb_t cb = cb0;
    cb.ctx = r;
    uint32_t expect = QS_MIN(r->o->nworkers, r->isl.n);
    r->hosting = qs_hosting_new(r->o->pool, &r->isl, r->index, r->scenario_text, r->ckpt_path,
                                r->out->resume != NULL,
                                (uint64_t)r->index << 54 | (uint64_t)1 << 53, expect, &cb);
    event(r, 0, "islands hosted by the workers: %u island(s) dealt out over the first %u ready",
          r->isl.n, QS_MAX(expect, 1));
    if (!r->out->resume) { /* the hosts make the founders: generation 0's checkpoint from them */
        r->first_gather = 1;
        hosted_gather(r, 0);
    }
}

/* ---- signals, shutdown ---------------------------------------------------------------------- */

/* The pool's events go to every open run's run.log; loud ones to the terminal once. */
static void on_pool_event(void *ctx, int loud, const char *msg)
{
    orch_t *o = ctx;
    for (uint32_t i = 0; i < o->nruns; i++)
        if (o->runs[i].rd_open)
            qs_rundir_log(&o->runs[i].rd, "%s", msg);
    if (loud)
        qs_progress_event(&o->prog, loud, "%s", msg);
}

static void on_pool_fatal(void *ctx, const char *msg)
{
    orch_t *o = ctx;
    for (uint32_t i = 0; i < o->nruns; i++)
        if (!o->runs[i].stopped)
            fatal(&o->runs[i], "%s; see run.log in %s", msg, o->runs[i].rd.dir);
}

static void on_pool_worker(void *ctx, uint64_t worker, int up)
{
    orch_t *o = ctx;
    for (uint32_t i = 0; i < o->nruns; i++)
        if (o->runs[i].hosting && !o->runs[i].stopped)
            qs_hosting_worker(o->runs[i].hosting, worker, up);
}

/* Every worker and pool handle is closed: close ours, and uv_run returns. */
static void on_pool_stopped(void *ctx)
{
    orch_t *o = ctx;
    uv_close((uv_handle_t *)&o->status, NULL);
    uv_close((uv_handle_t *)&o->sigint, NULL);
    uv_close((uv_handle_t *)&o->sigterm, NULL);
}

/* r is over (done, failed or interrupted); the pool stops with the last run. */
static void finish(run_t *r, int code)
{
    orch_t *o = r->o;
    if (r->stopped)
        return;
    r->stopped = 1;
    r->exit_code = code;
    qs_pool_cancel(o->pool, r); /* its queued tasks: the other runs' go first */
    if (r->hosting)
        qs_hosting_stop(r->hosting);
    qs_checkpoint_writer_abort(&r->ckw); /* a checkpoint being gathered: the last one stays */
    if (r->rd_open) {
        uint64_t founders, births, deaths;
        qs_islands_totals(&r->isl, &founders, &births, &deaths);
        r->out->births = births - founders;
        r->out->generations = r->isl.generation;
    }
    if (r->run_started > 0)
        r->out->wall = r->wall_before + (qs_now() - r->run_started);
    o->running--;
    if (o->running > 0 || o->stopping)
        return;
    o->stopping = 1;
    qs_progress_clear(&r->prog);
    qs_progress_clear(&o->prog);
    uv_timer_stop(&o->status);
    int ok = 1;
    for (uint32_t i = 0; i < o->nruns; i++)
        ok &= o->runs[i].exit_code == 0;
    qs_pool_shutdown(o->pool, ok ? "run complete" : "run stopped");
}

/* A signal: r keeps its last checkpoint consistent and stops, resumable. */
static void interrupt_run(run_t *r, int signo)
{
    char held[64] = "no generation yet";
    if (r->isl.generation > 0)
        snprintf(held, sizeof held, "generations 0..%u", r->isl.generation - 1);
    event(r, 1,
          "%s: stopping; generation %u is abandoned, the run directory holds %s (press Ctrl-C "
          "again to exit at once)",
          strsignal(signo), r->isl.generation, held);
    if (r->stopped)
        return;
    if (r->first_gather) {
        /* generation 0's checkpoint was being gathered from the hosts: there is none */
        event(r, 1,
              "islands hosted by the workers: stopped before the first checkpoint was "
              "complete, so the run cannot be resumed");
        snprintf(r->out->reason, sizeof r->out->reason, "interrupted");
        finish(r, 128 + signo);
        return;
    }
    if (r->hosting) {
        /* The genomes are on the hosts: the last checkpoint stays; a resume cuts the files
         * back to it and redoes the generations after it. */
        event(r, 1, "islands hosted by the workers: the last checkpoint is kept");
    } else {
        if (write_checkpoint(r, 0) < 0)
            return;
        qs_error_t err = {0};
        if (qs_rundir_sort_phylogeny(&r->rd, &err) < 0) /* the checkpoint stays good */
            event(r, 1, "phylogeny.csv left in death order: %s", err.msg);
    }
    if (r->o->nruns == 1)
        event(r, 1, "resume with: quinesim run --resume %s", r->rd.dir);
    snprintf(r->out->reason, sizeof r->out->reason, "interrupted");
    finish(r, 128 + signo); /* the shell's convention: 130 for SIGINT, 143 for SIGTERM */
}

static void on_signal(uv_signal_t *h, int signo)
{
    orch_t *o = h->data;
    o->interrupts++;
    if (o->interrupts >= 2) {
        qs_pool_kill_all(o->pool);
        qs_progress_clear(&o->prog);
        fprintf(stderr, "quinesim run: second %s, exiting at once\n", strsignal(signo));
        for (uint32_t i = 0; i < o->nruns; i++)
            if (o->runs[i].rd_open)
                qs_rundir_log(&o->runs[i].rd, "second %s: exiting at once", strsignal(signo));
        _exit(128 + signo);
    }
    for (uint32_t i = 0; i < o->nruns; i++)
        if (!o->runs[i].stopped)
            interrupt_run(&o->runs[i], signo);
}

/* ---- set-up --------------------------------------------------------------------------------- */

static void build_config(run_t *r)
{
    const qs_scenario_t *sc = r->sc;
    qs_msg_config_t *c = &r->config;
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
    c->precision = sc->precision;
    snprintf(c->data_path, sizeof c->data_path, "%s", sc->data_path);
    c->train_count = r->data->train.count;
    c->fitness_count = r->data->fitness.count;
    c->data_hash = r->data->hash;
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

/* The pool's limits and events, from the first run's scenario (a set's runs differ in
 * their keys, not in [workers] and [budget] limits: sim/runset.c). */
static void pool_start(orch_t *o)
{
    const qs_scenario_t *sc = o->runs[0].sc;
    qs_pool_opts_t po = {.configs = o->configs,
                         .data = o->data,
                         .nconfigs = o->nruns,
                         .exe = o->exe,
                         .in_flight = sc->in_flight,
                         .max_restarts = sc->max_restarts,
                         .memory_mb = sc->worker_memory_mb,
                         .heartbeat_s = sc->heartbeat_s,
                         .task_timeout_s = sc->task_timeout_s,
                         .auth_timeout_s = sc->auth_timeout_s,
                         .ctx = o,
                         .on_event = on_pool_event,
                         .on_fatal = on_pool_fatal,
                         .on_stopped = on_pool_stopped,
                         .on_worker = on_pool_worker};
    o->pool = qs_pool_new(&o->loop, &po);
    uv_timer_init(&o->loop, &o->status);
    o->status.data = o;
    uv_signal_init(&o->loop, &o->sigint);
    uv_signal_init(&o->loop, &o->sigterm);
    o->sigint.data = o->sigterm.data = o;
    uv_signal_start(&o->sigint, on_signal, SIGINT);
    uv_signal_start(&o->sigterm, on_signal, SIGTERM);
    if (o->prog.tty)
        uv_timer_start(&o->status, on_status, 500, 500);
}

/* Open the run directory (new, or the resumed one) and the population(s). */
static int open_run(run_t *r, qs_error_t *err)
{
    const qs_orch_run_t *in = r->out;
    if (in->resume) {
        if (qs_islands_restore(&r->isl, r->sc, in->resume, err) < 0 ||
            qs_rundir_reopen(&r->rd, in->out_dir, r->sc, r->scenario_text, in->resume, err) < 0)
            return -1;
        r->wall_before = in->resume->wall_seconds;
        uint64_t founders, births, deaths;
        qs_islands_totals(&r->isl, &founders, &births, &deaths);
        r->births_before = births - founders;
    } else {
        if (qs_rundir_create(&r->rd, in->out_dir, r->sc, r->scenario_text, r->o->opts->force, err) <
            0)
            return -1;
        if (r->sc->hosting == QS_HOSTING_WORKERS) /* the founders are made by the hosts */
            qs_islands_init_hosted(&r->isl, r->sc);
        else
            qs_islands_init(&r->isl, r->sc);
    }
    r->rd_open = 1;
    r->prog.rd = &r->rd;
    return 0;
}

/* The images r needs: an earlier run's when it uses the same ones. */
static int load_data(orch_t *o, run_t *r, qs_error_t *err)
{
    const qs_scenario_t *sc = r->sc;
    r->data = &r->own_data;
    if (!needs_data(sc))
        return 0;
    for (run_t *q = o->runs; q < r; q++)
        if (needs_data(q->sc) && !strcmp(q->sc->data_path, sc->data_path) &&
            q->sc->train == sc->train && q->sc->fitness == sc->fitness && q->sc->test == sc->test) {
            r->data = q->data;
            return 0;
        }
    return qs_data_load(&r->own_data, sc->data_path, sc->train, sc->fitness, sc->test, err);
}

/* Set r up (its data, directory, population, config); -1 with the reason on stderr. */
static int setup_run(orch_t *o, run_t *r)
{
    qs_error_t err = {0};
    qs_progress_init(&r->prog, o->opts->progress);
    r->prog.tag = r->out->tag;
    r->prog.screen = &o->prog; /* the status line is the set's */
    if (load_data(o, r, &err) < 0 || open_run(r, &err) < 0) {
        if (r->out->tag)
            fprintf(stderr, "quinesim run: %s: %s\n", r->out->tag, err.msg);
        else
            fprintf(stderr, "quinesim run: %s\n", err.msg);
        return -1;
    }
    qs_islands_set_echo(&r->isl, o->opts->echo_tasks);
    build_config(r);
    if (r->out->resume)
        event(r, 1, "resuming at generation %u from the checkpoint (%u organisms)",
              r->isl.generation, qs_islands_count(&r->isl));
    if (r->sc->hosting == QS_HOSTING_WORKERS && o->opts->echo_tasks) {
        fprintf(stderr, "quinesim run: [islands] hosting = workers computes every life: no "
                        "compute-free tasks\n");
        return -1;
    }
    return 0;
}

static void start_run(orch_t *o, run_t *r)
{
    const qs_scenario_t *sc = r->sc;
    r->run_started = qs_now();
    event(r, 0, "run %s: %u generations, %u species, %u organisms, %u workers, seed %" PRIu64,
          sc->name, sc->generations, sc->nspecies, run_count(r), o->nworkers, sc->seed);
    if (o->nruns > 1)
        event(r, 0, "one of %u runs sharing the workers (config %u)", o->nruns, r->index);
    qs_progress_start(&r->prog, sc->name, sc->generations, sc->population, o->nworkers,
                      r->out->out_dir);
    /* A fresh run checkpoints generation 0's plan at once: resumable from the start (hosted:
     * gathered from the hosts, who make the founders; the generation starts once it is
     * written, hosted_state). */
    if (sc->hosting == QS_HOSTING_WORKERS) {
        snprintf(r->ckpt_path, sizeof r->ckpt_path, "%s/checkpoint.msgpack", r->rd.dir);
        start_hosting(r);
    } else if (!r->out->resume) {
        write_checkpoint(r, 0);
    }
}

int qs_orchestrator_run_set(qs_orch_run_t *runs, uint32_t n, const qs_run_opts_t *opts)
{
    assert(n >= 1 && n <= QS_WIRE_MAX_CONFIGS);
    orch_t *o = xcalloc(1, sizeof *o);
    /* A worker that dies leaves a broken pipe: that is an event to handle, not a signal
     * that kills the orchestrator (libuv reports EPIPE on the write instead). */
    signal(SIGPIPE, SIG_IGN);
    o->opts = opts;
    o->nruns = n;
    o->runs = xcalloc(n, sizeof *o->runs);
    o->configs = xcalloc(n, sizeof *o->configs);
    o->data = xcalloc(n, sizeof *o->data);
    qs_progress_init(&o->prog, opts->progress);
    int status = 1;
    qs_error_t err = {0};
    for (uint32_t i = 0; i < n; i++) {
        run_t *r = &o->runs[i];
        r->o = o;
        r->out = &runs[i];
        r->index = i;
        r->sc = runs[i].sc;
        r->scenario_text = runs[i].scenario_text;
        r->exit_code = 1;
        snprintf(runs[i].reason, sizeof runs[i].reason, "not started");
        runs[i].status = 1;
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
    /* Every run is set up before any starts: a set starts whole or not at all. */
    for (uint32_t i = 0; i < n; i++) {
        if (setup_run(o, &o->runs[i]) < 0)
            goto out;
        o->configs[i] = &o->runs[i].config;
        o->data[i] = o->runs[i].data;
    }

    uv_loop_init(&o->loop);
    o->nworkers = qs_resources_local_workers(o->runs[0].sc, opts->workers, opts->workers_set,
                                             opts->listen != NULL);
    o->running = n;
    pool_start(o);
    if (opts->listen && qs_pool_listen(o->pool, opts->listen, opts->token_file, &err) < 0) {
        fprintf(stderr, "quinesim run: %s\n", err.msg);
        for (uint32_t i = 0; i < n; i++)
            finish(&o->runs[i], 2);
    }

    o->started = qs_now();
    for (uint32_t i = 0; i < n && !o->stopping; i++)
        if (!o->runs[i].stopped)
            start_run(o, &o->runs[i]);
    if (!o->stopping) {
        qs_pool_spawn(o->pool, o->nworkers);
        for (uint32_t i = 0; i < n; i++)
            if (!o->runs[i].stopped && !o->runs[i].first_gather)
                start_generation(&o->runs[i]);
    }

    uv_run(&o->loop, UV_RUN_DEFAULT);
    while (uv_loop_close(&o->loop) == UV_EBUSY)
        uv_run(&o->loop, UV_RUN_NOWAIT);
    /* the worst: an error (1, 2) over an interruption (130, 143) over done (0) */
    status = 0;
    for (uint32_t i = 0; i < n; i++) {
        int c = o->runs[i].exit_code, rank = c == 0 ? 0 : c > 2 ? 1 : 2;
        int worst = status == 0 ? 0 : status > 2 ? 1 : 2;
        runs[i].status = c;
        if (rank > worst)
            status = c;
    }
out:
    for (uint32_t i = 0; i < n; i++) {
        run_t *r = &o->runs[i];
        if (r->rd_open)
            qs_rundir_close(&r->rd);
        qs_islands_destroy(&r->isl);
        qs_data_destroy(&r->own_data);
    }
    qs_pool_free(o->pool);
    for (uint32_t i = 0; i < n; i++) {
        free(o->runs[i].tasks);
        qs_hosting_free(o->runs[i].hosting);
    }
    free(o->runs);
    free(o->configs);
    free(o->data);
    free(o);
    return status;
}

int qs_orchestrator_run(qs_scenario_t *sc, const char *scenario_text, const qs_run_opts_t *opts,
                        qs_checkpoint_t *resume)
{
    qs_orch_run_t run = {
        .sc = sc, .scenario_text = scenario_text, .out_dir = opts->out_dir, .resume = resume};
    return qs_orchestrator_run_set(&run, 1, opts);
}
