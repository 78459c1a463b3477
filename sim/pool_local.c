/* pool_local: the pool's local workers, `quinesim worker --stdio` processes over pipes.
 * Each has a place (slot) that respawns it with backoff when it dies; its stderr lines go
 * to the pool's events; it runs with OPENBLAS_NUM_THREADS=1. */
#include <assert.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sim/pool_impl.h"

static void spawn_worker(slot_t *s);

/* This process's environment with OPENBLAS_NUM_THREADS=1 (the strings are borrowed). */
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

void pool_local_init(qs_pool_t *p)
{
    p->env = make_env();
}

void pool_local_destroy(qs_pool_t *p)
{
    free(p->slots);
    free(p->env);
}

void pool_local_stop(qs_pool_t *p)
{
    for (uint32_t i = 0; i < p->nslots; i++)
        uv_timer_stop(&p->slots[i].respawn);
}

void pool_local_close(qs_pool_t *p)
{
    for (uint32_t i = 0; i < p->nslots; i++)
        uv_close((uv_handle_t *)&p->slots[i].respawn, NULL);
}

void pool_local_ready(worker_t *w)
{
    w->slot->start_failures = 0;
}

/* stderr of a worker: whole lines go to the events, the last one is kept for messages. */
static void take_stderr(worker_t *w, const char *bytes, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        char c = bytes[i];
        if (c == '\n' || w->errlen + 1 >= sizeof w->errbuf) {
            w->errbuf[w->errlen] = '\0';
            if (w->errlen) {
                pool_event(w->p, 0, "%s stderr: %s", w->name, w->errbuf);
                snprintf(w->last_stderr, sizeof w->last_stderr, "%s", w->errbuf);
            }
            w->errlen = 0;
            if (c == '\n')
                continue;
        }
        w->errbuf[w->errlen++] = c;
    }
}

static void on_worker_stderr(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
    if (nread > 0)
        take_stderr(s->data, buf->base, (size_t)nread);
    free(buf->base);
}

/* The process has exited, so everything it wrote to stderr is in the pipe; the exit can be
 * reported before the loop has read it (an abort right after its message), so read the rest
 * now, before the pipe is closed and the message is lost. The pipe is non-blocking. */
static void drain_stderr(worker_t *w)
{
    uv_os_fd_t fd;
    if (uv_fileno((uv_handle_t *)&w->err, &fd) != 0)
        return;
    char buf[4096];
    ssize_t n;
    while ((n = read(fd, buf, sizeof buf)) > 0)
        take_stderr(w, buf, (size_t)n);
    take_stderr(w, "\n", 1); /* a last line without its newline */
}

static void on_respawn(uv_timer_t *t)
{
    slot_t *s = t->data;
    if (!s->p->stopping && !s->w)
        spawn_worker(s);
}

static void on_worker_exit(uv_process_t *proc, int64_t status, int signo)
{
    worker_t *w = proc->data;
    qs_pool_t *p = w->p;
    slot_t *s = w->slot;
    w->alive = 0;
    p->nworkers_alive--;
    drain_stderr(w);
    char how[96];
    if (signo)
        snprintf(how, sizeof how, "killed by signal %d (%s)", signo, strsignal(signo));
    else
        snprintf(how, sizeof how, "exited with status %" PRId64, status);
    /* What it said last (an allocation that failed, a species it could not build) goes
     * with the reason, into the run's error if it comes to that. */
    char why[sizeof how + sizeof w->last_stderr + 32];
    snprintf(why, sizeof why, "%s%s%s%s", how, w->ready && !w->set_up ? " while setting up" : "",
             w->last_stderr[0] ? ": " : "", w->last_stderr);
    if (!p->stopping && !w->dying) {
        pool_event(p, 1, "%s %s", w->name, why);
        pool_requeue(w, why);
    } else {
        pool_event(p, 0, "%s %s", w->name, how);
    }
    w->dying = 1;
    int had_started = w->set_up;
    pool_close_worker(w);
    s->w = NULL;
    if (p->stopping)
        return;
    if (!had_started) {
        s->start_failures++;
        if (s->start_failures > p->o.max_restarts) {
            pool_fatal(p, "worker %u failed to start %u times in a row (last: %s)", s->index,
                       s->start_failures, why);
            return;
        }
    }
    /* Backoff: 0.1 s, doubling with each consecutive start-up failure, at most 5 s. */
    double delay = QS_MIN(5.0, 0.1 * (double)(1u << QS_MIN(s->start_failures, 6u)));
    pool_event(p, 0, "respawning worker %u in %.1fs", s->index, delay);
    uv_timer_start(&s->respawn, on_respawn, (uint64_t)(delay * 1000), 0);
}

static void spawn_worker(slot_t *s)
{
    qs_pool_t *p = s->p;
    worker_t *w = xcalloc(1, sizeof *w);
    w->slot = s;
    s->spawns++;
    snprintf(w->name, sizeof w->name, "worker %u", s->index);
    qs_frame_reader_init(&w->reader, p->o.configs[0]->max_message);
    uv_pipe_init(p->loop, &w->in, 0);
    uv_pipe_init(p->loop, &w->out, 0);
    uv_pipe_init(p->loop, &w->err, 0);
    w->in.data = w->out.data = w->err.data = w->proc.data = w;
    w->tx = (uv_stream_t *)&w->in;
    w->rx = (uv_stream_t *)&w->out;
    char mem[32], exe[QS_PATH_MAX];
    snprintf(mem, sizeof mem, "%u", p->o.memory_mb);
    snprintf(exe, sizeof exe, "%s", p->o.exe);
    char *args[] = {exe, "worker", "--stdio", "--memory-mb", mem, NULL};
    uv_stdio_container_t stdio[3];
    stdio[0].flags = UV_CREATE_PIPE | UV_READABLE_PIPE;
    stdio[0].data.stream = (uv_stream_t *)&w->in;
    stdio[1].flags = UV_CREATE_PIPE | UV_WRITABLE_PIPE;
    stdio[1].data.stream = (uv_stream_t *)&w->out;
    stdio[2].flags = UV_CREATE_PIPE | UV_WRITABLE_PIPE;
    stdio[2].data.stream = (uv_stream_t *)&w->err;
    uv_process_options_t po = {0};
    po.file = exe;
    po.args = args;
    po.env = p->env;
    po.exit_cb = on_worker_exit;
    po.stdio_count = 3;
    po.stdio = stdio;
    w->open_handles = 4;
    pool_link_worker(p, w);
    s->w = w;
    int rc = uv_spawn(p->loop, &w->proc, &po);
    w->started = w->last_heard = qs_now();
    if (rc < 0) {
        pool_event(p, 1, "cannot start %s (%s): %s", w->name, exe, uv_strerror(rc));
        w->dying = 1;
        pool_close_worker(w);
        s->w = NULL;
        if (++s->start_failures > p->o.max_restarts) {
            pool_fatal(p, "cannot start workers: %s", uv_strerror(rc));
            return;
        }
        uv_timer_start(&s->respawn, on_respawn, 500, 0);
        return;
    }
    w->alive = 1;
    w->pid = w->proc.pid;
    p->nworkers_alive++;
    snprintf(w->name, sizeof w->name, "worker %u (pid %d)", s->index, w->pid);
    pool_event(p, 0, "started %s", w->name);
    pool_start_reading(w);
    uv_read_start((uv_stream_t *)&w->err, pool_alloc, on_worker_stderr);
}

void qs_pool_spawn(qs_pool_t *p, uint32_t n)
{
    assert(p->nslots == 0);
    p->nslots = n;
    p->slots = xcalloc(n ? n : 1, sizeof *p->slots);
    for (uint32_t i = 0; i < n; i++) {
        p->slots[i].p = p;
        p->slots[i].index = i;
        uv_timer_init(p->loop, &p->slots[i].respawn);
        p->slots[i].respawn.data = &p->slots[i];
    }
    for (uint32_t i = 0; i < n; i++)
        spawn_worker(&p->slots[i]);
}
