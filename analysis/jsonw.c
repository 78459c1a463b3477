/* jsonw: comma bookkeeping, string escaping, numbers that round-trip. */
#include "analysis/jsonw.h"

#include <assert.h>
#include <math.h>
#include <stdlib.h>

void qs_jsonw_init(qs_jsonw_t *w, FILE *f)
{
    w->f = f;
    w->depth = 0;
    w->count[0] = 0;
}

static void put_string(FILE *f, const char *s)
{
    fputc('"', f);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        switch (*p) {
        case '"':
            fputs("\\\"", f);
            break;
        case '\\':
            fputs("\\\\", f);
            break;
        case '\n':
            fputs("\\n", f);
            break;
        case '\r':
            fputs("\\r", f);
            break;
        case '\t':
            fputs("\\t", f);
            break;
        default:
            if (*p < 0x20)
                fprintf(f, "\\u%04x", *p);
            else
                fputc(*p, f);
        }
    }
    fputc('"', f);
}

/* The comma and the key before a value. */
static void member(qs_jsonw_t *w, const char *key)
{
    if (w->count[w->depth]++ > 0)
        fputc(',', w->f);
    if (key) {
        put_string(w->f, key);
        fputc(':', w->f);
    }
}

static void open_level(qs_jsonw_t *w, const char *key, char c)
{
    member(w, key);
    fputc(c, w->f);
    assert(w->depth + 1 < QS_JSONW_DEPTH);
    w->depth++;
    w->count[w->depth] = 0;
    w->close[w->depth] = c == '{' ? '}' : ']';
}

void qs_jsonw_object(qs_jsonw_t *w, const char *key)
{
    open_level(w, key, '{');
}

void qs_jsonw_array(qs_jsonw_t *w, const char *key)
{
    open_level(w, key, '[');
}

void qs_jsonw_end(qs_jsonw_t *w)
{
    assert(w->depth > 0);
    fputc(w->close[w->depth], w->f);
    w->depth--;
}

void qs_jsonw_str(qs_jsonw_t *w, const char *key, const char *s)
{
    member(w, key);
    put_string(w->f, s ? s : "");
}

void qs_jsonw_num(qs_jsonw_t *w, const char *key, double v)
{
    member(w, key);
    if (!isfinite(v)) {
        fputs("null", w->f);
        return;
    }
    char buf[32];
    for (int prec = 15; prec <= 17; prec++) {
        snprintf(buf, sizeof buf, "%.*g", prec, v);
        if (strtod(buf, NULL) == v)
            break;
    }
    fputs(buf, w->f);
}

void qs_jsonw_u64(qs_jsonw_t *w, const char *key, uint64_t v)
{
    member(w, key);
    fprintf(w->f, "%llu", (unsigned long long)v);
}

void qs_jsonw_bool(qs_jsonw_t *w, const char *key, int v)
{
    member(w, key);
    fputs(v ? "true" : "false", w->f);
}

void qs_jsonw_null(qs_jsonw_t *w, const char *key)
{
    member(w, key);
    fputs("null", w->f);
}
