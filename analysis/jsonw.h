/* jsonw: a small streaming JSON writer for the analysis output.
 *
 * proto/ has no JSON helpers on this branch yet, so the analysis carries this one: it
 * writes compact JSON to a FILE, puts the commas itself, escapes strings (control
 * characters as \u00XX, UTF-8 passed through), and writes NaN and infinities as null
 * (JSON has no such numbers). Keys are given for object members and NULL for array
 * elements. Nesting is limited to QS_JSONW_DEPTH levels (asserted). */
#ifndef QS_JSONW_H
#define QS_JSONW_H

#include <stdint.h>
#include <stdio.h>

#define QS_JSONW_DEPTH 16

typedef struct {
    FILE *f;
    int depth;
    int count[QS_JSONW_DEPTH];  /* members written at each level */
    char close[QS_JSONW_DEPTH]; /* the bracket that closes each level */
} qs_jsonw_t;

void qs_jsonw_init(qs_jsonw_t *w, FILE *f);
void qs_jsonw_object(qs_jsonw_t *w, const char *key); /* opens { */
void qs_jsonw_array(qs_jsonw_t *w, const char *key);  /* opens [ */
void qs_jsonw_end(qs_jsonw_t *w);                     /* closes the innermost */
void qs_jsonw_str(qs_jsonw_t *w, const char *key, const char *s);
/* The shortest text that reads back to v; null when not finite. */
void qs_jsonw_num(qs_jsonw_t *w, const char *key, double v);
void qs_jsonw_u64(qs_jsonw_t *w, const char *key, uint64_t v);
void qs_jsonw_bool(qs_jsonw_t *w, const char *key, int v);
void qs_jsonw_null(qs_jsonw_t *w, const char *key);

#endif
