/* Tests for proto/json: exact output for nesting, commas and pretty printing; string
 * escaping (quotes, backslashes, control characters, invalid UTF-8 -> U+FFFD); numbers
 * (shortest round-trip digits, NaN and infinities as null, integers exact; a document's
 * own %g digits: train/repair's "%.9g", analyze's 15 to 17 digits). */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto/json.h"

typedef struct {
    char *buf;
    size_t len;
    FILE *f;
    qs_jw_t j;
} capture_t;

static void cap_open(capture_t *c, int indent)
{
    c->buf = NULL;
    c->len = 0;
    c->f = open_memstream(&c->buf, &c->len);
    cr_assert_not_null(c->f);
    qs_jw_init(&c->j, c->f, indent);
}

static char *cap_close(capture_t *c)
{
    fclose(c->f);
    return c->buf;
}

Test(json, compact_nesting_and_commas)
{
    capture_t c;
    cap_open(&c, 0);
    qs_jw_begin_object(&c.j);
    qs_jw_kv_u64(&c.j, "a", 1);
    qs_jw_key(&c.j, "b");
    qs_jw_begin_array(&c.j);
    qs_jw_i64(&c.j, -2);
    qs_jw_begin_object(&c.j);
    qs_jw_end(&c.j);
    qs_jw_begin_array(&c.j);
    qs_jw_end(&c.j);
    qs_jw_null(&c.j);
    qs_jw_end(&c.j);
    qs_jw_kv_bool(&c.j, "c", 0);
    qs_jw_kv_str(&c.j, "d", "x");
    qs_jw_end(&c.j);
    qs_jw_newline(&c.j);
    char *s = cap_close(&c);
    cr_assert_str_eq(s, "{\"a\":1,\"b\":[-2,{},[],null],\"c\":false,\"d\":\"x\"}\n");
    free(s);
}

Test(json, pretty_printing)
{
    capture_t c;
    cap_open(&c, 2);
    qs_jw_begin_object(&c.j);
    qs_jw_kv_u64(&c.j, "a", 1);
    qs_jw_key(&c.j, "b");
    qs_jw_begin_array(&c.j);
    qs_jw_u64(&c.j, 2);
    qs_jw_u64(&c.j, 3);
    qs_jw_end(&c.j);
    qs_jw_key(&c.j, "e");
    qs_jw_begin_object(&c.j);
    qs_jw_end(&c.j);
    qs_jw_end(&c.j);
    char *s = cap_close(&c);
    cr_assert_str_eq(s, "{\n  \"a\": 1,\n  \"b\": [\n    2,\n    3\n  ],\n  \"e\": {}\n}");
    free(s);
}

Test(json, string_escaping_and_invalid_utf8)
{
    capture_t c;
    cap_open(&c, 0);
    qs_jw_begin_array(&c.j);
    qs_jw_str(&c.j, "q\"b\\s/\n\t\r\b\f\x01\x1f\x7f");
    qs_jw_str(&c.j, "caf\xc3\xa9 \xe2\x9c\x93 \xf0\x9f\x98\x80"); /* valid UTF-8 kept */
    qs_jw_str(&c.j, "bad \xff \xc3 \xed\xa0\x80 \xc0\xaf end");   /* invalid bytes */
    qs_jw_strn(&c.j, "nul\0inside", 10);
    qs_jw_str(&c.j, NULL);
    qs_jw_end(&c.j);
    char *s = cap_close(&c);
    cr_assert_str_eq(s, "[\"q\\\"b\\\\s/\\n\\t\\r\\b\\f\\u0001\\u001f\\u007f\","
                        "\"caf\xc3\xa9 \xe2\x9c\x93 \xf0\x9f\x98\x80\","
                        "\"bad \\ufffd \\ufffd \\ufffd\\ufffd\\ufffd \\ufffd\\ufffd end\","
                        "\"nul\\u0000inside\",\"\"]");
    free(s);
}

Test(json, numbers)
{
    capture_t c;
    cap_open(&c, 0);
    qs_jw_begin_array(&c.j);
    qs_jw_f64(&c.j, 0.1);
    qs_jw_f64(&c.j, 1.0 / 3.0);
    qs_jw_f64(&c.j, 1e300);
    qs_jw_f64(&c.j, -0.0);
    qs_jw_f64(&c.j, 5e-324);
    qs_jw_f64(&c.j, NAN);
    qs_jw_f64(&c.j, INFINITY);
    qs_jw_f64(&c.j, -INFINITY);
    qs_jw_f32(&c.j, 0.1f);
    qs_jw_f32(&c.j, 16777217.0f);
    qs_jw_f32(&c.j, NAN);
    qs_jw_u64(&c.j, UINT64_MAX);
    qs_jw_i64(&c.j, INT64_MIN);
    qs_jw_end(&c.j);
    char *s = cap_close(&c);
    cr_assert_str_eq(s, "[0.1,0.3333333333333333,1e+300,-0,5e-324,null,null,"
                        "null,0.1,16777216,null,18446744073709551615,-9223372036854775808]");
    free(s);
    /* shortest digits read back exactly */
    char buf[40];
    for (double v = 1e-7; v < 1e7; v *= 1.7) {
        qs_jw_format_f64(buf, sizeof buf, v);
        cr_assert_eq(strtod(buf, NULL), v, "%s", buf);
    }
}

/* printf's "%.*g" with the fewest digits in lo..hi that read back (hi when none does):
 * the reference for qs_jw_set_digits. */
static void ref_g(char *buf, size_t cap, double v, int lo, int hi)
{
    for (int p = lo; p <= hi; p++) {
        snprintf(buf, cap, "%.*g", p, v);
        if (strtod(buf, NULL) == v)
            return;
    }
}

Test(json, chosen_digits)
{
    capture_t c;
    cap_open(&c, 0);
    qs_jw_set_digits(&c.j, 9, 9);
    qs_jw_begin_array(&c.j);
    qs_jw_f64(&c.j, 1.0 / 3.0);
    qs_jw_f64(&c.j, 0.1);
    qs_jw_f64(&c.j, 1e15);
    qs_jw_f64(&c.j, 2502329400.0);
    qs_jw_f64(&c.j, -0.0);
    qs_jw_f64(&c.j, INFINITY);
    qs_jw_set_digits(&c.j, 15, 17);
    qs_jw_f64(&c.j, 1.0 / 3.0);
    qs_jw_f64(&c.j, 0.1);
    qs_jw_f64(&c.j, 1e15);
    qs_jw_f64(&c.j, NAN);
    qs_jw_set_digits(&c.j, 0, 0);
    qs_jw_f64(&c.j, 1e15);
    qs_jw_f32(&c.j, 0.1f); /* floats keep their shortest digits */
    qs_jw_end(&c.j);
    char *s = cap_close(&c);
    cr_assert_str_eq(s, "[0.333333333,0.1,1e+15,2.5023294e+09,-0,null,"
                        "0.3333333333333333,0.1,1e+15,null,1000000000000000,0.1]");
    free(s);
    /* against printf over many magnitudes */
    char want[40], got[64];
    for (double v = 1.234567890123e-12; v < 1e25; v *= 3.7) {
        for (int k = 0; k < 2; k++) {
            int lo = k ? 15 : 9, hi = k ? 17 : 9;
            cap_open(&c, 0);
            qs_jw_set_digits(&c.j, lo, hi);
            qs_jw_f64(&c.j, -v);
            s = cap_close(&c);
            snprintf(got, sizeof got, "%s", s);
            free(s);
            ref_g(want, sizeof want, -v, lo, hi);
            cr_assert_str_eq(got, want, "%d..%d digits of %.17g", lo, hi, -v);
        }
    }
}

Test(json, kv_null)
{
    capture_t c;
    cap_open(&c, 0);
    qs_jw_begin_object(&c.j);
    qs_jw_kv_null(&c.j, "a");
    qs_jw_kv_null(&c.j, "b");
    qs_jw_end(&c.j);
    char *s = cap_close(&c);
    cr_assert_str_eq(s, "{\"a\":null,\"b\":null}");
    free(s);
}
