/* util: allocation wrappers, error codes and messages, time, number text, CRC-32, atomic
 * file writes. */
#include "core/util.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
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

const char *qs_fmt_num(char *buf, size_t cap, double v, int digits)
{
    if (isinf(v))
        snprintf(buf, cap, "%s", v > 0 ? "inf" : "-inf");
    else
        snprintf(buf, cap, "%.*g", digits, v);
    return buf;
}

int qs_fmt_roundtrip(char *buf, size_t cap, double v, int lo, int hi, int is_float)
{
    int p = lo;
    for (; p <= hi; p++) {
        snprintf(buf, cap, "%.*g", p, v);
        if (is_float ? strtof(buf, NULL) == (float)v : strtod(buf, NULL) == v)
            return p;
    }
    return hi;
}

size_t qs_fmt_u64(char *buf, uint64_t v)
{
    char tmp[20];
    size_t k = sizeof tmp;
    do {
        tmp[--k] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    memcpy(buf, tmp + k, sizeof tmp - k);
    return sizeof tmp - k;
}

void qs_csv_num(FILE *f, double v)
{
    char buf[32];
    if (!isnan(v))
        fputs(qs_fmt_num(buf, sizeof buf, v, 9), f);
}

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>
#define QS_CRC_CLMUL 1

/* CRC-32 by carry-less multiplication (Gopal et al., "Fast CRC Computation for Generic
 * Polynomials Using PCLMULQDQ", Intel 2009), for zlib's reflected polynomial 0xEDB88320:
 * four 128-bit lanes are folded 512 bits at a time, folded into one, then reduced to
 * 128 -> 64 bits and by Barrett reduction to the 32-bit remainder. The constants are
 * x^k mod P for the fold distances (bit-reflected), mu = floor(x^64 / P) and P itself.
 * crc is zlib's running value before its final inversion (~state); len >= 64 and a
 * multiple of 16. Same results as zlib's crc32(), bit for bit (tests/core/test_crc.c). */
__attribute__((target("pclmul,sse4.1"))) static uint32_t crc32_clmul(const unsigned char *p,
                                                                     size_t len, uint32_t crc)
{
    const __m128i k1k2 = _mm_set_epi64x(0x1c6e41596, 0x154442bd4); /* fold by 512 bits */
    const __m128i k3k4 = _mm_set_epi64x(0x0ccaa009e, 0x1751997d0); /* fold by 128 bits */
    const __m128i k5 = _mm_set_epi64x(0, 0x163cd6124);             /* 64 -> 32 bits */
    const __m128i poly = _mm_set_epi64x(0x1f7011641, 0x1db710641); /* mu, P */
    const __m128i mask32 = _mm_set_epi32(0, -1, 0, -1);
    __m128i x1 = _mm_loadu_si128((const __m128i *)p);
    __m128i x2 = _mm_loadu_si128((const __m128i *)(p + 16));
    __m128i x3 = _mm_loadu_si128((const __m128i *)(p + 32));
    __m128i x4 = _mm_loadu_si128((const __m128i *)(p + 48));
    x1 = _mm_xor_si128(x1, _mm_cvtsi32_si128((int)crc));
    p += 64;
    len -= 64;
    for (; len >= 64; p += 64, len -= 64) {
        __m128i h1 = _mm_clmulepi64_si128(x1, k1k2, 0x11);
        __m128i l1 = _mm_clmulepi64_si128(x1, k1k2, 0x00);
        __m128i h2 = _mm_clmulepi64_si128(x2, k1k2, 0x11);
        __m128i l2 = _mm_clmulepi64_si128(x2, k1k2, 0x00);
        __m128i h3 = _mm_clmulepi64_si128(x3, k1k2, 0x11);
        __m128i l3 = _mm_clmulepi64_si128(x3, k1k2, 0x00);
        __m128i h4 = _mm_clmulepi64_si128(x4, k1k2, 0x11);
        __m128i l4 = _mm_clmulepi64_si128(x4, k1k2, 0x00);
        x1 = _mm_xor_si128(_mm_xor_si128(h1, l1), _mm_loadu_si128((const __m128i *)p));
        x2 = _mm_xor_si128(_mm_xor_si128(h2, l2), _mm_loadu_si128((const __m128i *)(p + 16)));
        x3 = _mm_xor_si128(_mm_xor_si128(h3, l3), _mm_loadu_si128((const __m128i *)(p + 32)));
        x4 = _mm_xor_si128(_mm_xor_si128(h4, l4), _mm_loadu_si128((const __m128i *)(p + 48)));
    }
    /* the four lanes into one, then any 16-byte blocks left */
    const __m128i next[3] = {x2, x3, x4};
    for (int i = 0; i < 3; i++) {
        __m128i h = _mm_clmulepi64_si128(x1, k3k4, 0x11), l = _mm_clmulepi64_si128(x1, k3k4, 0x00);
        x1 = _mm_xor_si128(_mm_xor_si128(h, l), next[i]);
    }
    for (; len >= 16; p += 16, len -= 16) {
        __m128i h = _mm_clmulepi64_si128(x1, k3k4, 0x11), l = _mm_clmulepi64_si128(x1, k3k4, 0x00);
        x1 = _mm_xor_si128(_mm_xor_si128(h, l), _mm_loadu_si128((const __m128i *)p));
    }
    /* 128 -> 64 bits */
    __m128i t = _mm_clmulepi64_si128(x1, k3k4, 0x10);
    x1 = _mm_xor_si128(_mm_srli_si128(x1, 8), t);
    t = _mm_srli_si128(x1, 4);
    x1 = _mm_clmulepi64_si128(_mm_and_si128(x1, mask32), k5, 0x00);
    x1 = _mm_xor_si128(x1, t);
    /* Barrett reduction to 32 bits */
    t = _mm_clmulepi64_si128(_mm_and_si128(x1, mask32), poly, 0x10);
    t = _mm_clmulepi64_si128(_mm_and_si128(t, mask32), poly, 0x00);
    x1 = _mm_xor_si128(x1, t);
    return (uint32_t)_mm_extract_epi32(x1, 1);
}
#endif

uint32_t qs_crc32(const void *data, size_t len)
{
    const unsigned char *p = data;
    uLong crc = crc32(0L, Z_NULL, 0);
#ifdef QS_CRC_CLMUL
    /* about 9x zlib's speed where the CPU has PCLMULQDQ; the tail goes to zlib */
    if (len >= 64 && __builtin_cpu_supports("pclmul") && __builtin_cpu_supports("sse4.1")) {
        size_t n = len & ~(size_t)15;
        crc = ~crc32_clmul(p, n, ~(uint32_t)crc) & 0xffffffffu;
        p += n;
        len -= n;
    }
#endif
    while (len > 0) {
        uInt chunk = len > (1u << 30) ? (1u << 30) : (uInt)len;
        crc = crc32(crc, p, chunk);
        p += chunk;
        len -= chunk;
    }
    return (uint32_t)crc;
}

const char *qs_name_of(const char *const *names, size_t n, unsigned i)
{
    return i < n ? names[i] : "?";
}

int qs_name_index(const char *const *names, size_t n, const char *s)
{
    for (size_t i = 0; s && i < n; i++)
        if (!strcmp(s, names[i]))
            return (int)i;
    return QS_ERR(INVAL);
}

int qs_list_append(char *buf, size_t cap, const char *item)
{
    size_t used = strlen(buf);
    int w = snprintf(buf + used, cap - used, "%s%s", used ? ", " : "", item);
    return w < 0 || (size_t)w >= cap - used ? -1 : 0;
}

size_t qs_utf8_seq(const unsigned char *s, size_t n)
{
    unsigned c = s[0];
    size_t k;
    unsigned cp, min;
    if (c < 0x80)
        return 1;
    if (c >= 0xc2 && c <= 0xdf)
        k = 1, cp = c & 0x1f, min = 0x80;
    else if (c >= 0xe0 && c <= 0xef)
        k = 2, cp = c & 0x0f, min = 0x800;
    else if (c >= 0xf0 && c <= 0xf4)
        k = 3, cp = c & 0x07, min = 0x10000;
    else
        return 0;
    if (n < k + 1)
        return 0;
    for (size_t i = 1; i <= k; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0;
        cp = cp << 6 | (s[i] & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
        return 0;
    return k + 1;
}

int qs_utf8_valid(const char *str, size_t n)
{
    const unsigned char *s = (const unsigned char *)str;
    for (size_t i = 0, k; i < n; i += k)
        if ((k = qs_utf8_seq(s + i, n - i)) == 0)
            return 0;
    return 1;
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

int qs_open_regular(const char *path, struct stat *st, qs_error_t *err)
{
    struct stat own;
    if (!st)
        st = &own;
    /* O_NONBLOCK: opening a FIFO for reading would otherwise wait for a writer */
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0)
        return qs_error_set(err, errno == ENOENT || errno == ENOTDIR ? QS_ERR(NOENT) : QS_ERR(IO),
                            "%s: cannot open: %s", path, strerror(errno));
    if (fstat(fd, st) != 0) {
        int e = errno;
        close(fd);
        return qs_error_set(err, QS_ERR(IO), "%s: cannot stat: %s", path, strerror(e));
    }
    if (!S_ISREG(st->st_mode)) {
        const char *what = S_ISDIR(st->st_mode)    ? "a directory"
                           : S_ISFIFO(st->st_mode) ? "a FIFO (named pipe)"
                           : S_ISCHR(st->st_mode)  ? "a character device"
                           : S_ISBLK(st->st_mode)  ? "a block device"
                           : S_ISSOCK(st->st_mode) ? "a socket"
                                                   : "not a file";
        close(fd);
        return qs_error_set(err, QS_ERR(INVAL), "%s: is %s, not a regular file", path, what);
    }
    int fl = fcntl(fd, F_GETFL);
    if (fl >= 0)
        fcntl(fd, F_SETFL, fl & ~O_NONBLOCK);
    return fd;
}

FILE *qs_fopen_regular(const char *path, struct stat *st, qs_error_t *err)
{
    int fd = qs_open_regular(path, st, err);
    if (fd < 0)
        return NULL;
    FILE *f = fdopen(fd, "rb");
    if (!f) {
        qs_error_set(err, QS_ERR(IO), "%s: %s", path, strerror(errno));
        close(fd);
    }
    return f;
}

int qs_mkdir_p(const char *dir, char *at, size_t cap)
{
    snprintf(at, cap, "%s", dir);
    for (char *p = at + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(at, 0755) != 0 && errno != EEXIST)
            return -1;
        *p = '/';
    }
    if (mkdir(at, 0755) != 0 && errno != EEXIST)
        return -1;
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

int qs_natural_cmp(const void *pa, const void *pb)
{
    const char *a = *(char *const *)pa, *b = *(char *const *)pb;
    while (*a && *b) {
        if (isdigit((unsigned char)*a) && isdigit((unsigned char)*b)) {
            while (*a == '0' && isdigit((unsigned char)a[1]))
                a++;
            while (*b == '0' && isdigit((unsigned char)b[1]))
                b++;
            size_t na = 0, nb = 0;
            while (isdigit((unsigned char)a[na]))
                na++;
            while (isdigit((unsigned char)b[nb]))
                nb++;
            if (na != nb)
                return na < nb ? -1 : 1;
            int c = strncmp(a, b, na);
            if (c)
                return c;
            a += na;
            b += nb;
        } else {
            if (*a != *b)
                return (unsigned char)*a < (unsigned char)*b ? -1 : 1;
            a++;
            b++;
        }
    }
    return (unsigned char)*a - (unsigned char)*b;
}
