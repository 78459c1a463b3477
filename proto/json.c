/* json: a small streaming JSON writer (see json.h): commas and nesting tracked for the
 * caller, RFC 8259 string escaping with invalid UTF-8 replaced, shortest round-trip
 * numbers (or a document's chosen %g digits), NaN and infinities as null. */
#include "proto/json.h"

#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"

void qs_jw_init(qs_jw_t *j, FILE *f, int indent)
{
    memset(j, 0, sizeof *j);
    j->f = f;
    j->indent = indent;
}

void qs_jw_set_digits(qs_jw_t *j, int min_digits, int max_digits)
{
    if (min_digits < 0 || max_digits < min_digits || max_digits > 17 ||
        (min_digits == 0) != (max_digits == 0))
        abort(); /* a programming error */
    j->min_digits = min_digits;
    j->max_digits = max_digits;
}

static void write_string(FILE *f, const char *str, size_t n);

static void newline_indent(qs_jw_t *j)
{
    if (j->indent <= 0)
        return;
    fputc('\n', j->f);
    for (int i = 0; i < j->depth * j->indent; i++)
        fputc(' ', j->f);
}

/* Before any value: the comma and line break it needs (not after a key). */
static void before_value(qs_jw_t *j)
{
    if (j->after_key) {
        j->after_key = 0;
        return;
    }
    if (j->depth > 0) {
        if (j->count[j->depth]++ > 0)
            fputc(',', j->f);
        newline_indent(j);
    }
}

static void json_open(qs_jw_t *j, char c, char closer)
{
    before_value(j);
    fputc(c, j->f);
    if (j->depth >= QS_JW_MAX_DEPTH)
        abort(); /* a programming error: the writer's nesting is static */
    j->depth++;
    j->count[j->depth] = 0;
    j->closer[j->depth] = closer;
}

void qs_jw_begin_object(qs_jw_t *j)
{
    json_open(j, '{', '}');
}

void qs_jw_begin_array(qs_jw_t *j)
{
    json_open(j, '[', ']');
}

void qs_jw_end(qs_jw_t *j)
{
    if (j->depth == 0)
        abort();
    int had = j->count[j->depth] > 0;
    char c = j->closer[j->depth];
    j->depth--;
    if (had)
        newline_indent(j);
    fputc(c, j->f);
}

void qs_jw_key(qs_jw_t *j, const char *key)
{
    before_value(j);
    write_string(j->f, key, strlen(key));
    fputs(j->indent > 0 ? ": " : ":", j->f);
    j->after_key = 1;
}

static void write_string(FILE *f, const char *str, size_t n)
{
    const unsigned char *s = (const unsigned char *)str;
    fputc('"', f);
    for (size_t i = 0; i < n;) {
        unsigned char c = s[i];
        if (c == '"' || c == '\\') {
            fputc('\\', f);
            fputc(c, f);
            i++;
        } else if (c < 0x20 || c == 0x7f) {
            switch (c) {
            case '\n':
                fputs("\\n", f);
                break;
            case '\t':
                fputs("\\t", f);
                break;
            case '\r':
                fputs("\\r", f);
                break;
            case '\b':
                fputs("\\b", f);
                break;
            case '\f':
                fputs("\\f", f);
                break;
            default:
                fprintf(f, "\\u%04x", c);
                break;
            }
            i++;
        } else if (c < 0x80) {
            fputc(c, f);
            i++;
        } else {
            size_t k = qs_utf8_seq(s + i, n - i);
            if (k == 0) {
                fputs("\\ufffd", f);
                i++;
            } else {
                fwrite(s + i, 1, k, f);
                i += k;
            }
        }
    }
    fputc('"', f);
}

void qs_jw_strn(qs_jw_t *j, const char *s, size_t n)
{
    before_value(j);
    write_string(j->f, s ? s : "", s ? n : 0);
}

void qs_jw_str(qs_jw_t *j, const char *s)
{
    qs_jw_strn(j, s, s ? strlen(s) : 0);
}

void qs_jw_u64(qs_jw_t *j, uint64_t v)
{
    before_value(j);
    fprintf(j->f, "%" PRIu64, v);
}

void qs_jw_i64(qs_jw_t *j, int64_t v)
{
    before_value(j);
    fprintf(j->f, "%" PRId64, v);
}

/* qs_fmt_roundtrip's digits (minprec..maxprec); with positional, a number whose integer
 * part has at most 17 digits is written out rather than as 1e+01. */
static void format_num(char *buf, size_t cap, double v, int minprec, int maxprec, int is_float,
                       int positional)
{
    if (!isfinite(v)) {
        snprintf(buf, cap, "null");
        return;
    }
    int p = qs_fmt_roundtrip(buf, cap, v, minprec, maxprec, is_float);
    double a = fabs(v);
    if (positional && strchr(buf, 'e') && a >= 1 && a < 1e17) {
        int digits = (int)floor(log10(a)) + 1;
        snprintf(buf, cap, "%.*g", digits > p ? digits : p, v);
    }
}

void qs_jw_format_f64(char *buf, size_t cap, double v)
{
    format_num(buf, cap, v, 1, 17, 0, 1);
}

void qs_jw_f64(qs_jw_t *j, double v)
{
    char buf[40];
    if (j->min_digits)
        format_num(buf, sizeof buf, v, j->min_digits, j->max_digits, 0, 0);
    else
        format_num(buf, sizeof buf, v, 1, 17, 0, 1);
    before_value(j);
    fputs(buf, j->f);
}

void qs_jw_f32(qs_jw_t *j, float v)
{
    char buf[40];
    format_num(buf, sizeof buf, v, 1, 9, 1, 1);
    before_value(j);
    fputs(buf, j->f);
}

void qs_jw_bool(qs_jw_t *j, int v)
{
    before_value(j);
    fputs(v ? "true" : "false", j->f);
}

void qs_jw_null(qs_jw_t *j)
{
    before_value(j);
    fputs("null", j->f);
}

void qs_jw_newline(qs_jw_t *j)
{
    fputc('\n', j->f);
}

void qs_jw_kv_str(qs_jw_t *j, const char *key, const char *s)
{
    qs_jw_key(j, key);
    qs_jw_str(j, s);
}

void qs_jw_kv_u64(qs_jw_t *j, const char *key, uint64_t v)
{
    qs_jw_key(j, key);
    qs_jw_u64(j, v);
}

void qs_jw_kv_i64(qs_jw_t *j, const char *key, int64_t v)
{
    qs_jw_key(j, key);
    qs_jw_i64(j, v);
}

void qs_jw_kv_f64(qs_jw_t *j, const char *key, double v)
{
    qs_jw_key(j, key);
    qs_jw_f64(j, v);
}

void qs_jw_kv_bool(qs_jw_t *j, const char *key, int v)
{
    qs_jw_key(j, key);
    qs_jw_bool(j, v);
}

void qs_jw_kv_null(qs_jw_t *j, const char *key)
{
    qs_jw_key(j, key);
    qs_jw_null(j);
}
