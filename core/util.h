/* util: the small things every layer needs. Allocation that aborts loudly on
 * out-of-memory (so callers need no NULL checks for small allocations), the error
 * codes shared by the whole program (one X-macro table gives their names and text),
 * and an error record that carries a human-readable message naming what went wrong.
 *
 * Convention (libuv's): functions return 0 on success or a negative QS_E* code, and
 * fill a caller-provided qs_error_t (which may be NULL) with the details. */
#ifndef QS_UTIL_H
#define QS_UTIL_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>
#include <stdio.h>

#define QS_NORETURN     _Noreturn
#define QS_PRINTF(a, b) __attribute__((format(printf, a, b)))
#define QS_ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))
#define QS_MIN(a, b)    ((a) < (b) ? (a) : (b))
#define QS_MAX(a, b)    ((a) > (b) ? (a) : (b))

/* Longest name (species, run) and path, NUL included. */
#define QS_NAME_MAX 64
#define QS_PATH_MAX 1024

/* X(name, text): the error codes, numbered -1, -2, ... in this order. */
#define QS_ERRNO_MAP(X)                                                                            \
    X(INVAL, "invalid argument")                                                                   \
    X(IO, "input/output error")                                                                    \
    X(NOENT, "no such file or directory")                                                          \
    X(FORMAT, "malformed data")                                                                    \
    X(RANGE, "value out of range")                                                                 \
    X(VERSION, "unsupported version")                                                              \
    X(TOOBIG, "size limit exceeded")                                                               \
    X(CHECKSUM, "checksum mismatch")                                                               \
    X(TRUNCATED, "truncated data")                                                                 \
    X(AGAIN, "more data needed")                                                                   \
    X(AUTH, "authentication failed")                                                               \
    X(TIMEOUT, "timed out")                                                                        \
    X(CANCELED, "canceled")                                                                        \
    X(NOSPC, "no space left on device")                                                            \
    X(MISMATCH, "does not match")                                                                  \
    X(PEER, "peer misbehaved")                                                                     \
    X(BUSY, "in use by another process")

enum {
    QS_OK = 0,
    QS_ERR_FIRST_ = 0,
#define QS_ERR_ENUM_(name, text) QS_E##name,
    /* Enumerated upwards from 1, then negated by QS_ERR() below. */
    QS_ERRNO_MAP(QS_ERR_ENUM_)
#undef QS_ERR_ENUM_
        QS_ERR_COUNT_
};
/* Error codes are negative: QS_ERR(INVAL) == -QS_EINVAL. */
#define QS_ERR(name) (-(int)QS_E##name)

/* The name ("EFORMAT") and text ("malformed data") of an error code. */
const char *qs_err_name(int code);
const char *qs_strerror(int code);

/* An error record: the code and a message that names the file/field and the problem. */
typedef struct {
    int code;
    char msg[512];
} qs_error_t;

/* Set err (if not NULL) to code and the formatted message; returns code, so that
 * `return qs_error_set(err, QS_ERR(FORMAT), "%s: bad magic", path);` reads naturally. */
int qs_error_set(qs_error_t *err, int code, const char *fmt, ...) QS_PRINTF(3, 4);
int qs_error_setv(qs_error_t *err, int code, const char *fmt, va_list ap);
/* Prefix an existing message with "prefix: " (e.g. a file name added by a caller). */
int qs_error_prefix(qs_error_t *err, const char *fmt, ...) QS_PRINTF(2, 3);
void qs_error_clear(qs_error_t *err);

/* Print "quinesim: message" to stderr and exit(1). */
QS_NORETURN void qs_die(const char *fmt, ...) QS_PRINTF(1, 2);

/* Allocation: abort with file and line on out-of-memory. Sizes that come from outside
 * (files, messages) must be validated before they get here. */
void *qs_xmalloc_at(size_t n, const char *file, int line);
void *qs_xcalloc_at(size_t count, size_t size, const char *file, int line);
void *qs_xrealloc_at(void *p, size_t n, const char *file, int line);
char *qs_xstrdup_at(const char *s, const char *file, int line);
/* 64-byte aligned, for BLAS buffers; free with free(). */
void *qs_xaligned_at(size_t n, const char *file, int line);
#define xmalloc(n)     qs_xmalloc_at((n), __FILE__, __LINE__)
#define xcalloc(c, s)  qs_xcalloc_at((c), (s), __FILE__, __LINE__)
#define xrealloc(p, n) qs_xrealloc_at((p), (n), __FILE__, __LINE__)
#define xstrdup(s)     qs_xstrdup_at((s), __FILE__, __LINE__)
#define xaligned(n)    qs_xaligned_at((n), __FILE__, __LINE__)

/* Write a whole file atomically: a temporary file in the same folder, fsync, rename over
 * path, fsync the folder. On failure the old file (if any) is untouched. ENOSPC is
 * reported as QS_ERR(NOSPC). */
int qs_write_file_atomic(const char *path, const void *data, size_t len, qs_error_t *err);
/* fsync the folder holding path (after a rename or a create). */
int qs_fsync_parent(const char *path, qs_error_t *err);
/* Create the folder dir and any missing parents (mode 0755; folders that exist are fine),
 * working in at[0..cap) (dir is copied there, cut to cap - 1 bytes). 0, or -1 with errno
 * set and at holding the folder that could not be created, for the caller's message. */
int qs_mkdir_p(const char *dir, char *at, size_t cap);
/* qsort comparator of two `char *`: names as people sort them, digit runs by value
 * (seed-2 before seed-10). */
int qs_natural_cmp(const void *pa, const void *pb);

/* Open path for reading, refusing anything but a regular file (a FIFO would block the
 * reader forever, a device would never end) without blocking on it; st, if not NULL,
 * receives its fstat. The fd (close-on-exec), or a negative code: NOENT, INVAL (not a
 * regular file; the message names what it is), IO. */
int qs_open_regular(const char *path, struct stat *st, qs_error_t *err);
/* The same as a stdio stream ("rb"); NULL with err set on failure. */
FILE *qs_fopen_regular(const char *path, struct stat *st, qs_error_t *err);

/* Monotonic wall time in seconds. */
double qs_now(void);

/* A double as text: "inf" or "-inf" for infinities, else "%.*g" (digits significant
 * digits); returns buf. */
const char *qs_fmt_num(char *buf, size_t cap, double v, int digits);
/* "%.*g" with the fewest significant digits in lo..hi that read back to v (as a float
 * when is_float), hi when none does; returns that number of digits. */
int qs_fmt_roundtrip(char *buf, size_t cap, double v, int lo, int hi, int is_float);
/* v in decimal at buf (room for 20 characters; no NUL written), without printf (the
 * exports write millions); returns the length. */
size_t qs_fmt_u64(char *buf, uint64_t v);
/* A double as a field of the run's CSV files: empty when NaN, else qs_fmt_num with 9
 * digits. */
void qs_csv_num(FILE *f, double v);

/* Enum names kept in a table, in enumerator order: names[i] when i < n, else "?"; and
 * the index of s (which may be NULL) in names[0..n), or QS_ERR(INVAL). */
const char *qs_name_of(const char *const *names, size_t n, unsigned i);
int qs_name_index(const char *const *names, size_t n, const char *s);
/* An enum's names as one value (for tables of keys and options that list them). */
typedef struct {
    const char *const *names;
    size_t n;
} qs_names_t;
#define QS_NAMES(table)                                                                            \
    {                                                                                              \
        table, QS_ARRAY_LEN(table)                                                                 \
    }
/* Define an enum's `const char *name_fn(type)` and `int parse_fn(const char *, type *)`
 * (0, or QS_ERR(INVAL) leaving *out as it was) over its static table of names. */
#define QS_NAME_FNS(name_fn, parse_fn, type, table)                                                \
    const char *name_fn(type v)                                                                    \
    {                                                                                              \
        return qs_name_of(table, QS_ARRAY_LEN(table), (unsigned)v);                                \
    }                                                                                              \
    int parse_fn(const char *s, type *out)                                                         \
    {                                                                                              \
        int i = qs_name_index(table, QS_ARRAY_LEN(table), s);                                      \
        if (i < 0)                                                                                 \
            return i;                                                                              \
        *out = (type)i;                                                                            \
        return 0;                                                                                  \
    }

/* Append item to the ", "-separated list in buf[0..cap) (NUL-terminated: start it as "")
 * for a message such as "expected one of: a, b, c". 0, or -1 when it did not fit (buf
 * then ends with what did). */
int qs_list_append(char *buf, size_t cap, const char *item);

/* UTF-8 as RFC 3629 has it (no overlong forms, no surrogates, nothing above U+10FFFF):
 * the length of the valid sequence at s[0..n) (n > 0), 0 when it is not one; and whether
 * all of s[0..n) is valid. */
size_t qs_utf8_seq(const unsigned char *s, size_t n);
int qs_utf8_valid(const char *s, size_t n);

/* CRC-32 (zlib's polynomial) of a buffer; used by every checksum in the file formats. */
uint32_t qs_crc32(const void *data, size_t len);

/* Little-endian loads and stores, independent of host order and alignment. */
static inline uint32_t qs_load_le32(const unsigned char *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}
static inline void qs_store_le32(unsigned char *p, uint32_t v)
{
    p[0] = (unsigned char)v;
    p[1] = (unsigned char)(v >> 8);
    p[2] = (unsigned char)(v >> 16);
    p[3] = (unsigned char)(v >> 24);
}
static inline uint32_t qs_load_be32(const unsigned char *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | (uint32_t)p[3];
}
static inline void qs_store_be32(unsigned char *p, uint32_t v)
{
    p[0] = (unsigned char)(v >> 24);
    p[1] = (unsigned char)(v >> 16);
    p[2] = (unsigned char)(v >> 8);
    p[3] = (unsigned char)v;
}

#endif
