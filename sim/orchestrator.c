/* orchestrator: generations, scheduling, checkpoints, signals and resume on one libuv
 * loop. Workers are the pool's (sim/pool.h); what the run prints is sim/progress.h's. */
#include "sim/orchestrator.h"

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
#include "sim/islands.h"
#include "sim/pool.h"
#include "sim/progress.h"
#include "sim/resources.h"
#include "sim/rundir.h"

typedef struct orch {
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
    qs_pool_t *pool;
    uint32_t nworkers; /* local worker places */
    /* the current generation's tasks (one per organism, same index) */
    qs_pool_task_t *tasks;
    uint32_t ntasks, ndone;
    /* timers and signals (closed when the pool has stopped) */
    uv_timer_t status;
    uv_signal_t sigint, sigterm;
    /* state */
    int stopping, exit_code, interrupts;
    double run_started, gen_started, last_gen_seconds;
    double wall_before;     /* spent by earlier sessions of a resumed run */
    uint64_t births_before; /* births by replication before this session */
    qs_progress_out_t prog;
} orch_t;

static void finish(orch_t *o, int code);

#define event(o, ...) qs_progress_event(&(o)->prog, __VA_ARGS__)

static void fatal(orch_t *o, const char *fmt, ...) QS_PRINTF(2, 3);
static void fatal(orch_t *o, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    qs_progress_fatal(&o->prog, msg);
    finish(o, 1);
}

static void on_status(uv_timer_t *t)
{
    orch_t *o = t->data;
    if (!o->prog.tty || o->stopping)
        return;
    uint32_t g = o->isl.generation, G = o->sc->generations;
    uint64_t founders, births, deaths;
    qs_islands_totals(&o->isl, &founders, &births, &deaths);
    double per_gen = g ? (o->gen_started - o->run_started) / g : NAN;
    double eta = per_gen * (G - g) - (qs_now() - o->gen_started);
    qs_progress_status_t s = {.generation = g,
                              .generations = G,
                              .done = o->ndone,
                              .tasks = o->ntasks,
                              .births = births - founders, /* by replication */
                              .elapsed = qs_now() - o->run_started,
                              .eta = g ? QS_MAX(eta, 0) : NAN,
                              .busy = qs_pool_busy(o->pool),
                              .ready = qs_pool_ready(o->pool)};
    qs_progress_status(&o->prog, &s);
}

/* ---- tasks: one per organism of the generation ---------------------------------------------- */

static void generation_complete(orch_t *o);

static uint32_t task_index(const qs_pool_task_t *t)
{
    const orch_t *o = t->ctx;
    return (uint32_t)(t - o->tasks);
}

static void task_encode(qs_pool_task_t *t, qs_msg_t *m)
{
    orch_t *o = t->ctx;
    qs_islands_task(&o->isl, task_index(t), t->id, &m->u.task);
}

static int task_result(qs_pool_task_t *t, qs_life_result_t *r, qs_error_t *err)
{
    orch_t *o = t->ctx;
    uint64_t expected = qs_islands_entry(&o->isl, task_index(t))->id;
    if (expected != r->organism)
        return qs_error_set(err, QS_ERR(PEER),
                            "result of task %" PRIu64 " names organism %" PRIu64
                            ", expected %" PRIu64,
                            r->task_id, r->organism, expected);
    if (qs_islands_apply(&o->isl, r, err) < 0)
        return qs_error_prefix(err, "bad result");
    return 0;
}

static void task_done(qs_pool_task_t *t)
{
    orch_t *o = t->ctx;
    if (++o->ndone == o->ntasks)
        generation_complete(o);
}

static void task_failed(qs_pool_task_t *t)
{
    orch_t *o = t->ctx;
    fatal(o, "the task of organism %" PRIu64 " failed on %u workers (last: %s); giving up",
          qs_islands_entry(&o->isl, task_index(t))->id, t->attempts, t->last_error);
}

static void task_describe(const qs_pool_task_t *t, char *buf, size_t cap)
{
    const orch_t *o = t->ctx;
    snprintf(buf, cap, "organism %" PRIu64, qs_islands_entry(&o->isl, task_index(t))->id);
}

static const qs_pool_task_ops_t task_ops = {task_encode, task_result, task_done, task_failed,
                                            task_describe};

/* ---- generations ---------------------------------------------------------------------------- */

static void start_generation(orch_t *o)
{
    free(o->tasks);
    o->ntasks = qs_islands_budget(&o->isl);
    o->tasks = xcalloc(o->ntasks ? o->ntasks : 1, sizeof *o->tasks);
    o->ndone = 0;
    for (uint32_t i = 0; i < o->ntasks; i++) {
        o->tasks[i].ops = &task_ops;
        o->tasks[i].ctx = o;
        o->tasks[i].id = (uint64_t)o->isl.generation << 32 | (uint64_t)(i + 1);
    }
    /* Longest first: births (replication, then a life) before lives of survivors, so the
     * short tasks fill the end of the generation. */
    for (int pass = 0; pass < 2; pass++)
        for (uint32_t i = 0; i < o->ntasks; i++)
            if (qs_islands_entry(&o->isl, i)->newborn == (pass == 0))
                qs_pool_submit(o->pool, &o->tasks[i]);
    o->gen_started = qs_now();
    qs_pool_dispatch(o->pool);
}

/* The held-out test accuracy of the best organism, as "; held-out ..." (or ""). */
static void held_out(orch_t *o, const qs_population_t *pop, char *held, size_t cap)
{
    held[0] = '\0';
    if (!pop || o->data.test.count == 0)
        return;
    const qs_org_t *b = &pop->best;
    qs_quine_spec_t spec = qs_scenario_spec(o->sc, b->species);
    qs_life_setup_t setup = {
        .train = &o->data.train, .fitness = &o->data.test, .classifier_only = 1, .work_rows = 1024};
    qs_life_species_t sp;
    qs_error_t err = {0};
    if (spec.kind == QS_KIND_AUX && qs_life_species_init(&sp, &spec, &setup, &err) == 0) {
        snprintf(held, cap, "; held-out test accuracy %.4f (%u images)",
                 qs_life_accuracy(&sp, b->genome), sp.fitness.count);
        qs_life_species_destroy(&sp);
    }
}

static void final_report(orch_t *o, const char *reason)
{
    const qs_population_t *pop = qs_islands_best(&o->isl); /* the best's, or NULL */
    char held[160];
    held_out(o, pop, held, sizeof held);
    double wall = qs_now() - o->run_started;
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    double cpu = (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec * 1e-6 +
                 (double)ru.ru_stime.tv_sec + ru.ru_stime.tv_usec * 1e-6;
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
    const qs_pool_stats_t *st = qs_pool_stats(o->pool);
    uint64_t session_births = births - o->births_before;
    uint64_t bytes = st->bytes_sent + st->bytes_received;
    event(o, 0,
          "traffic with workers: %" PRIu64 " bytes sent, %" PRIu64 " received, %.0f bytes per "
          "birth, %.0f per task (%" PRIu64 " tasks)",
          st->bytes_sent, st->bytes_received,
          session_births ? (double)bytes / (double)session_births : 0.0,
          st->tasks_sent ? (double)bytes / (double)st->tasks_sent : 0.0, st->tasks_sent);
    if (o->isl.n > 1) /* what hosts would send instead of genomes (sim/islands.h) */
        event(o, 0,
              "island records: %" PRIu64 " bytes in this session's island_records messages, "
              "%.0f per birth",
              o->isl.records_bytes,
              session_births ? (double)o->isl.records_bytes / (double)session_births : 0.0);
    qs_progress_final(&o->prog, reason, generations, founders, births, wall, pop,
                      pop ? o->sc->species[pop->best.species].name : "", held);
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
    slow_disk_hook(o->isl.generation);
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
    if (qs_rundir_write_generation(&o->rd, &out, wall, qs_pool_ready(o->pool), &err) < 0) {
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
    qs_progress_generation(&o->prog, s, o->sc->generations, wall);
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

/* ---- signals, shutdown ---------------------------------------------------------------------- */

static void on_pool_event(void *ctx, int loud, const char *msg)
{
    event((orch_t *)ctx, loud, "%s", msg);
}

static void on_pool_fatal(void *ctx, const char *msg)
{
    orch_t *o = ctx;
    fatal(o, "%s; see run.log in %s", msg, o->rd.dir);
}

/* Every worker and pool handle is closed: close ours, and uv_run returns. */
static void on_pool_stopped(void *ctx)
{
    orch_t *o = ctx;
    uv_close((uv_handle_t *)&o->status, NULL);
    uv_close((uv_handle_t *)&o->sigint, NULL);
    uv_close((uv_handle_t *)&o->sigterm, NULL);
}

static void finish(orch_t *o, int code)
{
    if (o->stopping)
        return;
    o->stopping = 1;
    o->exit_code = code;
    qs_progress_clear(&o->prog);
    uv_timer_stop(&o->status);
    qs_pool_shutdown(o->pool, code == 0 ? "run complete" : "run stopped");
}

static void on_signal(uv_signal_t *h, int signo)
{
    orch_t *o = h->data;
    o->interrupts++;
    if (o->interrupts >= 2) {
        qs_pool_kill_all(o->pool);
        qs_progress_clear(&o->prog);
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
    c->precision = sc->precision;
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

/* The pool's limits and events, from the scenario. */
static void pool_start(orch_t *o)
{
    const qs_scenario_t *sc = o->sc;
    qs_pool_opts_t po = {.config = &o->config,
                         .data = &o->data,
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
                         .on_stopped = on_pool_stopped};
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
static int open_run(orch_t *o, qs_checkpoint_t *resume, qs_error_t *err)
{
    const qs_run_opts_t *opts = o->opts;
    if (resume) {
        if (qs_islands_restore(&o->isl, o->sc, resume, err) < 0 ||
            qs_rundir_reopen(&o->rd, opts->out_dir, o->sc, o->scenario_text, resume, err) < 0)
            return -1;
        o->wall_before = resume->wall_seconds;
        uint64_t founders, births, deaths;
        qs_islands_totals(&o->isl, &founders, &births, &deaths);
        o->births_before = births - founders;
    } else {
        if (qs_rundir_create(&o->rd, opts->out_dir, o->sc, o->scenario_text, opts->force, err) < 0)
            return -1;
        qs_islands_init(&o->isl, o->sc);
    }
    o->rd_open = 1;
    o->prog.rd = &o->rd;
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
    qs_progress_init(&o->prog, opts->progress);
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
    if (open_run(o, resume, &err) < 0) {
        fprintf(stderr, "quinesim run: %s\n", err.msg);
        goto out;
    }
    qs_islands_set_echo(&o->isl, opts->echo_tasks);
    build_config(o);
    if (resume)
        event(o, 1, "resuming at generation %u from the checkpoint (%u organisms)",
              o->isl.generation, qs_islands_count(&o->isl));

    uv_loop_init(&o->loop);
    o->nworkers =
        qs_resources_local_workers(sc, opts->workers, opts->workers_set, opts->listen != NULL);
    pool_start(o);
    if (opts->listen && qs_pool_listen(o->pool, opts->listen, opts->token_file, &err) < 0) {
        fprintf(stderr, "quinesim run: %s\n", err.msg);
        finish(o, 2);
    }

    o->run_started = qs_now();
    if (!o->stopping) {
        event(o, 0, "run %s: %u generations, %u species, %u organisms, %u workers, seed %" PRIu64,
              sc->name, sc->generations, sc->nspecies, qs_islands_count(&o->isl), o->nworkers,
              sc->seed);
        qs_progress_start(&o->prog, sc->name, sc->generations, sc->population, o->nworkers,
                          opts->out_dir);
        /* A fresh run checkpoints generation 0's plan at once: resumable from the start. */
        if (!resume)
            write_checkpoint(o, 0);
    }
    if (!o->stopping) {
        qs_pool_spawn(o->pool, o->nworkers);
        start_generation(o);
    }

    uv_run(&o->loop, UV_RUN_DEFAULT);
    while (uv_loop_close(&o->loop) == UV_EBUSY)
        uv_run(&o->loop, UV_RUN_NOWAIT);
    status = o->exit_code;
out:
    if (o->rd_open)
        qs_rundir_close(&o->rd);
    qs_pool_free(o->pool);
    qs_islands_destroy(&o->isl);
    qs_data_destroy(&o->data);
    free(o->tasks);
    free(o);
    return status;
}
