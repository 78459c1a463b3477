/* json: quinesim's one JSON writer (prefix qs_jw_, "JSON writer"): `inspect`, the
 * `train --json` and `repair --json` lines, and the `analyze --json` summaries.
 *
 * It keeps track of commas and nesting, so callers just say what comes next. Strings are
 * escaped per RFC 8259 (quote, backslash, control characters), and bytes that are not
 * valid UTF-8 become U+FFFD, so the output is always valid JSON. Numbers: integers
 * exactly; doubles and floats with the fewest digits that read back to the same value,
 * unless qs_jw_set_digits chose printf's %g digits for the document; NaN and infinities
 * (which JSON cannot express) as null. indent 0 writes one line (JSON Lines); indent > 0
 * pretty-prints. */
#ifndef QS_JW_H
#define QS_JW_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define QS_JW_MAX_DEPTH 32

typedef struct {
    FILE *f;
    int indent;                       /* spaces per level; 0 = compact */
    int depth;                        /* open containers */
    int count[QS_JW_MAX_DEPTH + 1];   /* values written in each open container */
    char closer[QS_JW_MAX_DEPTH + 1]; /* '}' or ']' */
    int after_key;                    /* a key was written, its value comes next */
    int min_digits, max_digits;       /* qs_jw_f64's %g digits; 0: shortest (the default) */
} qs_jw_t;

void qs_jw_init(qs_jw_t *j, FILE *f, int indent);
/* How qs_jw_f64 writes doubles from now on: printf's "%.*g" with the fewest significant
 * digits in min_digits..max_digits that read back to the value (max_digits when none
 * does), null when not finite. (9, 9) is `train`'s and `repair`'s "%.9g"; (15, 17) the
 * `analyze` summaries'. (0, 0) returns to the default: the shortest digits, an integer
 * part below 1e17 written out in full. */
void qs_jw_set_digits(qs_jw_t *j, int min_digits, int max_digits);

void qs_jw_begin_object(qs_jw_t *j);
void qs_jw_begin_array(qs_jw_t *j);
void qs_jw_end(qs_jw_t *j); /* closes the innermost object or array */
/* Inside an object: the key of the next value. */
void qs_jw_key(qs_jw_t *j, const char *key);

void qs_jw_str(qs_jw_t *j, const char *s);
void qs_jw_strn(qs_jw_t *j, const char *s, size_t n);
void qs_jw_u64(qs_jw_t *j, uint64_t v);
void qs_jw_i64(qs_jw_t *j, int64_t v);
void qs_jw_f64(qs_jw_t *j, double v); /* NaN, +-inf -> null; digits: qs_jw_set_digits */
void qs_jw_f32(qs_jw_t *j, float v);  /* shortest digits for the float */
void qs_jw_bool(qs_jw_t *j, int v);
void qs_jw_null(qs_jw_t *j);
/* After a complete top-level value: a newline (one value per line). */
void qs_jw_newline(qs_jw_t *j);

/* Shorthands for "key": value inside an object. */
void qs_jw_kv_str(qs_jw_t *j, const char *key, const char *s);
void qs_jw_kv_u64(qs_jw_t *j, const char *key, uint64_t v);
void qs_jw_kv_i64(qs_jw_t *j, const char *key, int64_t v);
void qs_jw_kv_f64(qs_jw_t *j, const char *key, double v);
void qs_jw_kv_bool(qs_jw_t *j, const char *key, int v);
void qs_jw_kv_null(qs_jw_t *j, const char *key);

/* Format a double with the fewest significant digits (up to 17) that read back exactly;
 * "null" for NaN and infinities. buf of at least 32 bytes. */
void qs_jw_format_f64(char *buf, size_t cap, double v);

#endif
