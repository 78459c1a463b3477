/* simutil: helpers for the tests that run whole simulations (tests/sim, tests/fault):
 * a tiny scenario on the real data, running build/quinesim, and comparing run
 * directories while ignoring the columns that legitimately differ (wall time, workers). */
#ifndef QS_SIMUTIL_H
#define QS_SIMUTIL_H

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tests/testutil.h"

/* A small two-species aux scenario on data/mnist that runs in about a second. extra is
 * appended (later keys in a section of their own override nothing: use --set for that). */
static inline void su_scenario(char *path, size_t cap, const char *dir, const char *name,
                               const char *extra)
{
    const char *data = tu_data();
    snprintf(path, cap, "%s/%s.ini", dir, name);
    FILE *f = fopen(path, "w");
    if (!f)
        abort();
    fprintf(f,
            "[run]\nname = %s\nseed = 7\ngenerations = 4\n"
            "[data]\npath = %s\ntrain = 400\nfitness = 200\ntest = 200\n"
            "[life]\nsteps = 20\nbatch = 10\n"
            "[selection]\nelitism = 1\npopulation = 6\n"
            "[workers]\nheartbeat = 0.2\n"
            "[species.a]\nhidden = 16\ncount = 4\n"
            "[species.b]\nhidden = 8\ndepth = 1\ncount = 2\n%s",
            name, data ? data : "data/mnist", extra ? extra : "");
    fclose(f);
}

/* Run `quinesim run SCENARIO --out OUT <args>` with env (e.g. "QS_FAULT=x"); returns the
 * exit status, output in *log (malloc'ed) when log is not NULL. */
static inline int su_run(const char *env, const char *scenario, const char *out, const char *args,
                         char **log)
{
    char cmd[4096];
    snprintf(cmd, sizeof cmd, "%s %s run %s --out %s --quiet %s", env ? env : "", tu_bin(),
             scenario, out, args ? args : "");
    return tu_run(cmd, log);
}

/* A CSV with the named columns removed from every row (malloc'ed). */
static inline char *su_csv_without(const char *text, const char *const *drop, int ndrop)
{
    size_t cap = strlen(text) + 1;
    char *out = malloc(cap), *o = out;
    int skip[64] = {0}, ncols = 0;
    const char *line = text;
    int header = 1;
    while (*line) {
        const char *nl = strchr(line, '\n');
        size_t len = nl ? (size_t)(nl - line) : strlen(line);
        int col = 0, first = 1;
        const char *f = line;
        while (f <= line + len) {
            const char *comma = memchr(f, ',', (size_t)(line + len - f));
            const char *end = comma ? comma : line + len;
            if (header) {
                for (int d = 0; d < ndrop; d++)
                    if ((size_t)(end - f) == strlen(drop[d]) && !strncmp(f, drop[d], end - f))
                        skip[col] = 1;
                ncols++;
            }
            if (col >= 64 || !skip[col]) {
                if (!first)
                    *o++ = ',';
                memcpy(o, f, (size_t)(end - f));
                o += end - f;
                first = 0;
            }
            col++;
            if (!comma)
                break;
            f = comma + 1;
        }
        *o++ = '\n';
        header = 0;
        line += len + (nl ? 1 : 0);
    }
    *o = '\0';
    (void)ncols;
    return out;
}

/* Compare two run directories' phylogeny.csv and generations.csv (without wall_seconds
 * and workers); returns NULL if equal, else a static description of the first difference. */
static inline const char *su_same_results(const char *a, const char *b)
{
    static char why[512];
    static const char *const files[] = {"phylogeny.csv", "generations.csv"};
    static const char *const drop[] = {"wall_seconds", "workers"};
    for (int i = 0; i < 2; i++) {
        char pa[512], pb[512];
        snprintf(pa, sizeof pa, "%.400s/%s", a, files[i]);
        snprintf(pb, sizeof pb, "%.400s/%s", b, files[i]);
        char *ta = tu_read_file(pa, NULL), *tb = tu_read_file(pb, NULL);
        if (!ta || !tb) {
            snprintf(why, sizeof why, "missing %.480s", !ta ? pa : pb);
            free(ta);
            free(tb);
            return why;
        }
        char *ca = su_csv_without(ta, drop, 2), *cb = su_csv_without(tb, drop, 2);
        int same = !strcmp(ca, cb);
        if (!same) {
            size_t k = 0;
            while (ca[k] && ca[k] == cb[k])
                k++;
            size_t from = k > 60 ? k - 60 : 0;
            snprintf(why, sizeof why, "%s differs near byte %zu:\n  %.120s\nvs\n  %.120s", files[i],
                     k, ca + from, cb + from);
        }
        free(ta);
        free(tb);
        free(ca);
        free(cb);
        if (!same)
            return why;
    }
    return NULL;
}

/* Lines of a file (0 if missing). */
static inline int su_count_lines(const char *path)
{
    char *t = tu_read_file(path, NULL);
    if (!t)
        return 0;
    int n = 0;
    for (char *p = t; *p; p++)
        n += *p == '\n';
    free(t);
    return n;
}

static inline int su_file_contains(const char *path, const char *needle)
{
    char *t = tu_read_file(path, NULL);
    int found = t && strstr(t, needle);
    free(t);
    return found;
}

/* Processes started with su_spawn (or registered with su_track), killed by
 * su_kill_spawned() in a suite's teardown, so that a failed or timed-out test leaves no
 * orchestrator behind. */
static pid_t su_spawned[64];
static int su_nspawned;

static inline pid_t su_track(pid_t pid)
{
    if (pid > 0 && su_nspawned < 64)
        su_spawned[su_nspawned++] = pid;
    return pid;
}

static inline void su_kill_spawned(void)
{
    for (int i = 0; i < su_nspawned; i++) {
        kill(-su_spawned[i], SIGKILL);
        kill(su_spawned[i], SIGKILL);
    }
    su_nspawned = 0;
}

/* Start `quinesim run ...` in the background (its own process group); returns the pid. */
static inline pid_t su_spawn(const char *env_kv, const char *scenario, const char *out,
                             const char *extra_arg1, const char *extra_arg2)
{
    pid_t pid = fork();
    if (pid == 0) {
        setpgid(0, 0);
        if (env_kv && *env_kv)
            putenv((char *)env_kv);
        int devnull = open("/dev/null", 1);
        dup2(devnull, 1);
        dup2(devnull, 2);
        if (extra_arg2)
            execl(tu_bin(), tu_bin(), "run", scenario, "--out", out, "--quiet", extra_arg1,
                  extra_arg2, (char *)NULL);
        else if (extra_arg1)
            execl(tu_bin(), tu_bin(), "run", scenario, "--out", out, "--quiet", extra_arg1,
                  (char *)NULL);
        else
            execl(tu_bin(), tu_bin(), "run", scenario, "--out", out, "--quiet", (char *)NULL);
        _exit(127);
    }
    return su_track(pid);
}

/* A suite of run tests: a fresh temporary folder `su_dir` for each test (skipped without
 * data/mnist), and every process started with su_spawn killed and the folder removed
 * after it. */
#define SU_RUN_SUITE(suite, seconds)                                                               \
    static char su_dir[256];                                                                       \
    static void su_setup(void)                                                                     \
    {                                                                                              \
        if (!tu_data())                                                                            \
            cr_skip_test("no data/mnist (run `make data`)");                                       \
        tu_tmpdir(su_dir, sizeof su_dir);                                                          \
    }                                                                                              \
    static void su_teardown(void)                                                                  \
    {                                                                                              \
        su_kill_spawned();                                                                         \
        tu_rmrf(su_dir);                                                                           \
    }                                                                                              \
    TestSuite(suite, .init = su_setup, .fini = su_teardown, .timeout = seconds)

#endif
