/* json: a small streaming JSON writer for everything quinesim prints as JSON (`inspect`,
 * analysis summaries, `--json` reports).
 *
 * It keeps track of commas and nesting, so callers just say what comes next. Strings are
 * escaped per RFC 8259 (quote, backslash, control characters), and bytes that are not
 * valid UTF-8 become U+FFFD, so the output is always valid JSON. Numbers: integers
 * exactly; doubles and floats with the fewest digits that read back to the same value;
 * NaN and infinities (which JSON cannot express) as null. indent 0 writes one line
 * (JSON Lines); indent > 0 pretty-prints. */
#ifndef QS_JSON_H
#define QS_JSON_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define QS_JSON_MAX_DEPTH 32

typedef struct {
    FILE *f;
    int indent;                         /* spaces per level; 0 = compact */
    int depth;                          /* open containers */
    int count[QS_JSON_MAX_DEPTH + 1];   /* values written in each open container */
    char closer[QS_JSON_MAX_DEPTH + 1]; /* '}' or ']' */
    int after_key;                      /* a key was written, its value comes next */
} qs_json_t;

void qs_json_init(qs_json_t *j, FILE *f, int indent);

void qs_json_begin_object(qs_json_t *j);
void qs_json_begin_array(qs_json_t *j);
void qs_json_end(qs_json_t *j); /* closes the innermost object or array */
/* Inside an object: the key of the next value. */
void qs_json_key(qs_json_t *j, const char *key);

void qs_json_str(qs_json_t *j, const char *s);
void qs_json_strn(qs_json_t *j, const char *s, size_t n);
void qs_json_u64(qs_json_t *j, uint64_t v);
void qs_json_i64(qs_json_t *j, int64_t v);
void qs_json_f64(qs_json_t *j, double v); /* NaN, +-inf -> null */
void qs_json_f32(qs_json_t *j, float v);  /* shortest digits for the float */
void qs_json_bool(qs_json_t *j, int v);
void qs_json_null(qs_json_t *j);
/* After a complete top-level value: a newline (one value per line). */
void qs_json_newline(qs_json_t *j);

/* Shorthands for "key": value inside an object. */
void qs_json_kv_str(qs_json_t *j, const char *key, const char *s);
void qs_json_kv_u64(qs_json_t *j, const char *key, uint64_t v);
void qs_json_kv_i64(qs_json_t *j, const char *key, int64_t v);
void qs_json_kv_f64(qs_json_t *j, const char *key, double v);
void qs_json_kv_bool(qs_json_t *j, const char *key, int v);

/* Format a double with the fewest significant digits (up to 17) that read back exactly;
 * "null" for NaN and infinities. buf of at least 32 bytes. */
void qs_json_format_f64(char *buf, size_t cap, double v);

#endif
