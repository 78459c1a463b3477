/* bench_analysis: how fast `quinesim analyze` reads a big lineage log, and how much
 * memory it needs.
 *
 * A synthetic run (tests/analysis/synth.h: the simulator's record order, elites living
 * several generations) is written with proto's record encoder to a temporary file:
 * 1,000,000 births by default (population 1000, 10 elites, 1011 generations), and a
 * quarter of that to show how memory scales. Each log is then analysed in a fresh child
 * process, so that its peak resident memory (getrusage RUSAGE_CHILDREN, ru_maxrss) is the
 * analysis' own and not the writer's: reading and folding the log (qs_history_load),
 * the summary (qs_summary_compute, which includes the MRCA), the phylogenetic metrics of
 * the survivors' and the whole tree (qs_phylo_run, also part of every `analyze`), and the
 * phylogeny CSV,
 * generations CSV and full Newick written to /dev/null. Each phase's wall time
 * (CLOCK_MONOTONIC) and CPU time (CLOCK_PROCESS_CPUTIME_ID: what the phase costs even on
 * a busy machine). Target: the analysis (read + summary + phylo) of the 1,000,000-birth log under
 * 5 s, memory proportional to organisms (bytes per organism about constant, far below the
 * log's bytes per organism).
 *
 * usage: bench_analysis [BIRTHS]   (default 1000000) */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "analysis/export.h"
#include "analysis/history.h"
#include "analysis/phylo.h"
#include "analysis/summary.h"
#include "tests/analysis/synth.h"

static double clock_s(clockid_t c)
{
    struct timespec ts;
    clock_gettime(c, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static double now(void)
{
    return clock_s(CLOCK_MONOTONIC);
}

/* A phase's wall and CPU seconds. */
typedef struct {
    double wall, cpu;
} span_t;

typedef struct {
    double wall, cpu;
} mark_t;

static mark_t mark(void)
{
    mark_t m = {now(), clock_s(CLOCK_PROCESS_CPUTIME_ID)};
    return m;
}

static span_t since(mark_t m)
{
    span_t s = {now() - m.wall, clock_s(CLOCK_PROCESS_CPUTIME_ID) - m.cpu};
    return s;
}

typedef struct {
    FILE *f;
    qs_bytes_t buf;
} writer_t;

static void write_record(const qs_record_t *r, void *ctx)
{
    writer_t *w = ctx;
    qs_record_encode(r, &w->buf);
    if (w->buf.len >= (1u << 20)) {
        if (fwrite(w->buf.data, 1, w->buf.len, w->f) != w->buf.len) {
            perror("bench_analysis: write");
            exit(1);
        }
        qs_bytes_clear(&w->buf);
    }
}

/* Write a log with at least `births` births; returns its size in bytes. */
static long long write_log(const char *path, uint64_t births, synth_truth_t *t, double *secs)
{
    synth_params_t p = {0};
    p.nspecies = 2;
    p.founders[0] = 500;
    p.founders[1] = 500;
    p.handicap[1] = 0.02;
    p.population = 1000;
    p.elitism = 10;
    p.generations = (uint32_t)((births - 1000 + 989) / 990 + 1); /* 1000 + (g-1)*990 >= births */
    p.seed = 42;
    writer_t w;
    w.f = fopen(path, "wb");
    if (!w.f) {
        perror(path);
        exit(1);
    }
    qs_bytes_init(&w.buf);
    double t0 = now();
    synth_run(&p, write_record, &w, t);
    if (fwrite(w.buf.data, 1, w.buf.len, w.f) != w.buf.len || fclose(w.f) != 0) {
        perror("bench_analysis: write");
        exit(1);
    }
    *secs = now() - t0;
    qs_bytes_destroy(&w.buf);
    FILE *f = fopen(path, "rb");
    fseek(f, 0, SEEK_END);
    long long size = ftell(f);
    fclose(f);
    return size;
}

/* The measured part, in a child process; times go back through a pipe. */
typedef struct {
    span_t load, summary, phylo, phylogeny, generations, newick;
    uint64_t organisms, records;
    uint32_t generations_n;
    int ok;
} result_t;

static void analyse(const char *path, int fd)
{
    result_t r = {0};
    qs_history_t h;
    qs_logread_stats_t st;
    qs_error_t err = {0};
    mark_t m = mark();
    if (qs_history_load(&h, path, &st, &err) < 0) {
        fprintf(stderr, "bench_analysis: %s\n", err.msg);
        _exit(1);
    }
    r.load = since(m);
    m = mark();
    qs_summary_t *s = malloc(sizeof *s);
    qs_summary_compute(s, &h, path, &st);
    r.summary = since(m);
    m = mark();
    qs_phylo_run_t ph;
    qs_phylo_run(&ph, &h);
    qs_phylo_run_destroy(&ph);
    r.phylo = since(m);
    m = mark();
    int rc = qs_export_phylogeny(&h, "/dev/null", &err);
    r.phylogeny = since(m);
    m = mark();
    rc |= qs_export_generations(&h, "/dev/null", &err);
    r.generations = since(m);
    m = mark();
    uint32_t nodes;
    rc |= qs_export_newick(&h, "/dev/null", 1, &nodes, &err);
    r.newick = since(m);
    r.organisms = h.norgs;
    r.records = st.records;
    r.generations_n = h.ngens;
    r.ok = rc == 0 && st.skipped_bytes == 0 && h.anomalies == 0;
    if (!r.ok)
        fprintf(stderr, "bench_analysis: exports %d, skipped %llu bytes, %llu anomalies (%s)\n", rc,
                (unsigned long long)st.skipped_bytes, (unsigned long long)h.anomalies,
                h.first_anomaly);
    if (write(fd, &r, sizeof r) != (ssize_t)sizeof r)
        _exit(1);
    free(s);
    qs_history_destroy(&h);
    _exit(0);
}

static int measure(const char *path, result_t *r, long *maxrss_kb)
{
    int fds[2];
    if (pipe(fds) != 0)
        return -1;
    pid_t pid = fork();
    if (pid == 0) {
        close(fds[0]);
        analyse(path, fds[1]);
    }
    close(fds[1]);
    ssize_t got = read(fds[0], r, sizeof *r);
    close(fds[0]);
    int st;
    struct rusage ru;
    if (wait4(pid, &st, 0, &ru) < 0 || got != (ssize_t)sizeof *r || !WIFEXITED(st) ||
        WEXITSTATUS(st) != 0)
        return -1;
    *maxrss_kb = ru.ru_maxrss;
    return 0;
}

int main(int argc, char **argv)
{
    uint64_t births = argc > 1 ? strtoull(argv[1], NULL, 10) : 1000000;
    if (births < 2000)
        births = 2000;
    char dir[] = "/tmp/qs-bench-XXXXXX";
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        return 1;
    }
    printf("bench_analysis: synthetic lineage logs written with proto's record encoder "
           "(population 1000, 10 elites, 2 species), each analysed in a fresh child process.\n"
           "wall = CLOCK_MONOTONIC, CPU = CLOCK_PROCESS_CPUTIME_ID of each phase; peak RSS = the "
           "child's getrusage(RUSAGE_CHILDREN) ru_maxrss.\n");
    fflush(stdout);
    uint64_t sizes[2] = {births / 4, births};
    int failed = 0;
    span_t big = {0, 0};
    for (int k = 0; k < 2; k++) {
        char path[64];
        snprintf(path, sizeof path, "%s/lineage-%d.msgpack", dir, k);
        synth_truth_t t;
        double wsecs;
        long long bytes = write_log(path, sizes[k], &t, &wsecs);
        result_t r;
        long rss_kb = 0;
        if (measure(path, &r, &rss_kb) < 0 || !r.ok) {
            fprintf(stderr, "bench_analysis: the analysis of %s failed\n", path);
            failed = 1;
            unlink(path);
            continue;
        }
        span_t analysis = {r.load.wall + r.summary.wall + r.phylo.wall,
                           r.load.cpu + r.summary.cpu + r.phylo.cpu};
        span_t exports = {r.phylogeny.wall + r.generations.wall + r.newick.wall,
                          r.phylogeny.cpu + r.generations.cpu + r.newick.cpu};
        printf("\n%llu births, %llu records, %u generations, log %.1f MB (written in %.2f s)\n",
               (unsigned long long)r.organisms, (unsigned long long)r.records, r.generations_n,
               (double)bytes / 1e6, wsecs);
        printf("  %-34s %8s %8s\n", "phase", "wall s", "CPU s");
        printf("  %-34s %8.3f %8.3f  (%.0f MB/s, %.2f M records/s of CPU)\n", "read + fold the log",
               r.load.wall, r.load.cpu, (double)bytes / 1e6 / r.load.cpu,
               (double)r.records / 1e6 / r.load.cpu);
        printf("  %-34s %8.3f %8.3f\n", "summary (incl. MRCA)", r.summary.wall, r.summary.cpu);
        printf("  %-34s %8.3f %8.3f\n", "phylogenetic metrics (two trees)", r.phylo.wall,
               r.phylo.cpu);
        printf("  %-34s %8.3f %8.3f\n", "= analysis (read, summary, phylo)", analysis.wall,
               analysis.cpu);
        printf("  %-34s %8.3f %8.3f\n", "phylogeny CSV (to /dev/null)", r.phylogeny.wall,
               r.phylogeny.cpu);
        printf("  %-34s %8.3f %8.3f\n", "generations CSV", r.generations.wall, r.generations.cpu);
        printf("  %-34s %8.3f %8.3f\n", "Newick, all organisms", r.newick.wall, r.newick.cpu);
        printf("  %-34s %8.3f %8.3f\n", "= exports", exports.wall, exports.cpu);
        printf("  peak RSS %.1f MB = %.0f bytes per organism (the log: %.0f bytes per organism)\n",
               (double)rss_kb / 1024, (double)rss_kb * 1024 / (double)r.organisms,
               (double)bytes / (double)r.organisms);
        if (k == 1)
            big = analysis;
        unlink(path);
    }
    rmdir(dir);
    if (!failed) {
        double load = 0;
        getloadavg(&load, 1);
        printf("\ntarget: analysis of %llu births under 5 s: %s (%.3f s wall, %.3f s CPU; load "
               "average %.2f on %ld cores while measuring)\n",
               (unsigned long long)births,
               big.wall < 5.0  ? "met"
               : big.cpu < 5.0 ? "met in CPU time, not in wall time"
                               : "NOT met",
               big.wall, big.cpu, load, sysconf(_SC_NPROCESSORS_ONLN));
    }
    return failed;
}
