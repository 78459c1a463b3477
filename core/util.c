/* util: allocation wrappers, error codes and messages, time, CRC-32. */
#include "core/util.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

static const char *const err_names[] = {"OK",
#define QS_ERR_NAME_(name, text) "E" #name,
                                        QS_ERRNO_MAP(QS_ERR_NAME_)
#undef QS_ERR_NAME_
};

static const char *const err_texts[] = {"success",
#define QS_ERR_TEXT_(name, text) text,
                                        QS_ERRNO_MAP(QS_ERR_TEXT_)
#undef QS_ERR_TEXT_
};

const char *qs_err_name(int code)
{
    if (code > 0 || -code >= QS_ERR_COUNT_)
        return "EUNKNOWN";
    return err_names[-code];
}

const char *qs_strerror(int code)
{
    if (code > 0 || -code >= QS_ERR_COUNT_)
        return "unknown error";
    return err_texts[-code];
}

int qs_error_setv(qs_error_t *err, int code, const char *fmt, va_list ap)
{
    if (err) {
        err->code = code;
        vsnprintf(err->msg, sizeof err->msg, fmt, ap);
    }
    return code;
}

int qs_error_set(qs_error_t *err, int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    qs_error_setv(err, code, fmt, ap);
    va_end(ap);
    return code;
}

int qs_error_prefix(qs_error_t *err, const char *fmt, ...)
{
    if (!err)
        return 0;
    char prefix[256];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(prefix, sizeof prefix, fmt, ap);
    va_end(ap);
    size_t plen = n < 0 ? 0 : QS_MIN((size_t)n, sizeof prefix - 1);
    size_t cap = sizeof err->msg, add = plen + 2; /* "prefix: " */
    size_t keep = QS_MIN(strlen(err->msg), cap - 1 - add);
    memmove(err->msg + add, err->msg, keep);
    memcpy(err->msg, prefix, plen);
    err->msg[plen] = ':';
    err->msg[plen + 1] = ' ';
    err->msg[add + keep] = '\0';
    return err->code;
}

void qs_error_clear(qs_error_t *err)
{
    if (err) {
        err->code = 0;
        err->msg[0] = '\0';
    }
}

void qs_die(const char *fmt, ...)
{
    va_list ap;
    fputs("quinesim: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    exit(1);
}

static QS_NORETURN void oom(size_t n, const char *file, int line)
{
    fprintf(stderr, "quinesim: out of memory allocating %zu bytes at %s:%d\n", n, file, line);
    abort();
}

void *qs_xmalloc_at(size_t n, const char *file, int line)
{
    void *p = malloc(n ? n : 1);
    if (!p)
        oom(n, file, line);
    return p;
}

void *qs_xcalloc_at(size_t count, size_t size, const char *file, int line)
{
    void *p = calloc(count ? count : 1, size ? size : 1);
    if (!p)
        oom(count * size, file, line);
    return p;
}

void *qs_xrealloc_at(void *p, size_t n, const char *file, int line)
{
    void *q = realloc(p, n ? n : 1);
    if (!q)
        oom(n, file, line);
    return q;
}

char *qs_xstrdup_at(const char *s, const char *file, int line)
{
    size_t n = strlen(s) + 1;
    char *p = qs_xmalloc_at(n, file, line);
    memcpy(p, s, n);
    return p;
}

void *qs_xaligned_at(size_t n, const char *file, int line)
{
    size_t rounded = (n + 63) / 64 * 64;
    void *p = aligned_alloc(64, rounded ? rounded : 64);
    if (!p)
        oom(n, file, line);
    return p;
}

double qs_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

uint32_t qs_crc32(const void *data, size_t len)
{
    const unsigned char *p = data;
    uLong crc = crc32(0L, Z_NULL, 0);
    while (len > 0) {
        uInt chunk = len > (1u << 30) ? (1u << 30) : (uInt)len;
        crc = crc32(crc, p, chunk);
        p += chunk;
        len -= chunk;
    }
    return (uint32_t)crc;
}

int qs_fsync_parent(const char *path, qs_error_t *err)
{
    char copy[4096];
    snprintf(copy, sizeof copy, "%s", path);
    const char *dir = dirname(copy);
    int fd = open(dir, O_RDONLY | O_DIRECTORY);
    if (fd < 0)
        return qs_error_set(err, QS_ERR(IO), "%s: cannot open folder: %s", dir, strerror(errno));
    int rc = fsync(fd) == 0 || errno == EINVAL ? 0 : -1;
    int saved = errno;
    close(fd);
    if (rc < 0)
        return qs_error_set(err, QS_ERR(IO), "%s: fsync: %s", dir, strerror(saved));
    return 0;
}

int qs_write_file_atomic(const char *path, const void *data, size_t len, qs_error_t *err)
{
    char tmp[4200];
    snprintf(tmp, sizeof tmp, "%s.tmp.%ld", path, (long)getpid());
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0)
        return qs_error_set(err, errno == ENOSPC ? QS_ERR(NOSPC) : QS_ERR(IO),
                            "%s: cannot create: %s", tmp, strerror(errno));
    const unsigned char *p = data;
    size_t left = len;
    while (left > 0) {
        ssize_t w = write(fd, p, left);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0) {
            int saved = errno;
            close(fd);
            unlink(tmp);
            return qs_error_set(err, saved == ENOSPC ? QS_ERR(NOSPC) : QS_ERR(IO), "%s: write: %s",
                                path, strerror(saved));
        }
        p += w;
        left -= (size_t)w;
    }
    if (fsync(fd) != 0) {
        int saved = errno;
        close(fd);
        unlink(tmp);
        return qs_error_set(err, saved == ENOSPC ? QS_ERR(NOSPC) : QS_ERR(IO), "%s: fsync: %s",
                            path, strerror(saved));
    }
    if (close(fd) != 0 || rename(tmp, path) != 0) {
        int saved = errno;
        unlink(tmp);
        return qs_error_set(err, QS_ERR(IO), "%s: %s", path, strerror(saved));
    }
    return qs_fsync_parent(path, err);
}
