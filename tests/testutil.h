/* testutil: small helpers shared by the Criterion suites (header-only; each suite is its
 * own binary). Temporary folders, writing files, and running the project's own binary. */
#ifndef QS_TESTUTIL_H
#define QS_TESTUTIL_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

/* memcheck runs code tens of times slower and maps memory its own way: a test too slow or
 * too big for it skips, saying why. `make valgrind` sets QS_UNDER_VALGRIND; `make test`
 * and `make asan` run every test. Use inside a Test (<criterion/criterion.h> included). */
#define TU_SKIP_UNDER_VALGRIND(why)                                                                \
    do {                                                                                           \
        if (getenv("QS_UNDER_VALGRIND"))                                                           \
            cr_skip_test("skipped under valgrind: %s", why);                                       \
    } while (0)

/* A fresh temporary folder; the path is static storage per call site's buffer. */
static inline void tu_tmpdir(char *buf, size_t cap)
{
    snprintf(buf, cap, "/tmp/qs-test-XXXXXX");
    if (!mkdtemp(buf)) {
        perror("mkdtemp");
        abort();
    }
}

static inline void tu_rmrf(const char *path)
{
    char cmd[4200];
    if (strncmp(path, "/tmp/qs-test-", 13) != 0)
        return; /* never remove anything else */
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", path);
    if (system(cmd) != 0)
        fprintf(stderr, "testutil: could not remove %s\n", path);
}

static inline void tu_write_file(const char *path, const void *data, size_t len)
{
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(data, 1, len, f) != len || fclose(f) != 0) {
        perror(path);
        abort();
    }
}

/* Read a whole file into a malloc'ed, NUL-terminated buffer (NULL if missing). */
static inline char *tu_read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    size_t cap = 4096, n = 0;
    char *buf = malloc(cap);
    size_t got;
    while ((got = fread(buf + n, 1, cap - n - 1, f)) > 0) {
        n += got;
        if (cap - n - 1 == 0)
            buf = realloc(buf, cap *= 2);
    }
    fclose(f);
    buf[n] = '\0';
    if (len)
        *len = n;
    return buf;
}

/* Path of build/quinesim (from $QUINESIM, set by `make test`). */
static inline const char *tu_bin(void)
{
    const char *b = getenv("QUINESIM");
    return b && *b ? b : "build/quinesim";
}

/* The source tree (from $QS_SRC, set by `make test`; default the current folder). */
static inline const char *tu_src(void)
{
    const char *s = getenv("QS_SRC");
    return s && *s ? s : ".";
}

/* Path of the real MNIST folder (from $QS_DATA), or NULL when absent. */
static inline const char *tu_data(void)
{
    const char *d = getenv("QS_DATA");
    if (d && *d && access(d, F_OK) == 0)
        return d;
    return access("data/mnist", F_OK) == 0 ? "data/mnist" : NULL;
}

/* Run a shell command line, capturing stdout+stderr into out (malloc'ed) and returning
 * the exit status (or -1 if it did not exit normally). */
static inline int tu_run(const char *cmdline, char **out)
{
    char cmd[8192];
    if (out)
        *out = NULL; /* also when popen fails */
    snprintf(cmd, sizeof cmd, "%s 2>&1", cmdline);
    FILE *p = popen(cmd, "r");
    if (!p)
        return -1;
    size_t cap = 4096, n = 0, got;
    char *buf = malloc(cap);
    while ((got = fread(buf + n, 1, cap - n - 1, p)) > 0) {
        n += got;
        if (cap - n - 1 == 0)
            buf = realloc(buf, cap *= 2);
    }
    buf[n] = '\0';
    int st = pclose(p);
    if (out)
        *out = buf;
    else
        free(buf);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

#endif
