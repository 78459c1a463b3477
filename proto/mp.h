/* mp: proto's private wrapper around msgpack-c, shared by the genome, wire, lineage
 * and checkpoint codecs (include it only from the .c files of proto/: it is the one header that
 * pulls in <msgpack.h>).
 *
 * Decoding is guarded. msgpack-c allocates n objects from its zone as soon as it reads
 * an array or map header claiming n elements, before they arrive, so a 5-byte message
 * could make it ask for gigabytes. qs_mp_scan therefore walks the raw bytes first and
 * rejects any container whose count exceeds the bytes left (each element takes at least
 * one byte), any string/bin/ext longer than what is left, nesting deeper than
 * QS_MP_MAX_DEPTH, the reserved byte 0xc1 and trailing bytes. What msgpack-c then
 * allocates is at most a small multiple of the payload size. The object tree is read
 * straight into the caller's structs and released (qs_mp_doc_release).
 *
 * Getters read one field of a map: the value is found once by qs_mp_fields (one pass
 * over the map, unknown keys ignored, duplicate known keys rejected), then each getter
 * checks its type and range and reports "<what>: field '<key>' ..." on error. A NULL
 * value means the field was absent: getters report it as missing, qs_mp_opt_* leave the
 * default. */
#ifndef QS_PROTO_MP_H
#define QS_PROTO_MP_H

#include <msgpack.h>
#include <stddef.h>
#include <stdint.h>

#include "core/fidelity.h"
#include "core/quine.h"
#include "core/util.h"
#include "proto/frame.h"

/* Deepest nesting of containers accepted (the formats need 4). */
#define QS_MP_MAX_DEPTH 16
/* The most keys one qs_mp_fields call looks for (the formats need 17). */
#define QS_MP_MAX_FIELDS 32

/* ---- Encoding ------------------------------------------------------------------------ */

/* A packer that appends to out. */
void qs_mp_packer_init(msgpack_packer *pk, qs_bytes_t *out);
void qs_mp_pack_cstr(msgpack_packer *pk, const char *s);
/* Keyed values for maps: the key as a str, then the value. */
void qs_mp_kv_str(msgpack_packer *pk, const char *key, const char *s);
void qs_mp_kv_u64(msgpack_packer *pk, const char *key, uint64_t v);
void qs_mp_kv_i64(msgpack_packer *pk, const char *key, int64_t v);
void qs_mp_kv_f64(msgpack_packer *pk, const char *key, double v);
void qs_mp_kv_f32(msgpack_packer *pk, const char *key, float v);
void qs_mp_kv_bool(msgpack_packer *pk, const char *key, int v);
void qs_mp_kv_bin(msgpack_packer *pk, const char *key, const void *data, size_t len);
/* n floats as one bin of little-endian float32 (4n bytes). */
void qs_mp_kv_floats(msgpack_packer *pk, const char *key, const float *v, size_t n);

/* ---- Decoding ------------------------------------------------------------------------ */

/* The decoders' error path: run x, and on a negative result (in the function's int rc)
 * jump to its `out` label. */
#define TRY(x)                                                                                     \
    do {                                                                                           \
        if ((rc = (x)) < 0)                                                                        \
            goto out;                                                                              \
    } while (0)

/* Check that data[0..len) holds exactly one well-formed MessagePack value within the
 * limits above. 0 or QS_ERR(FORMAT/TRUNCATED/TOOBIG) with err naming `what`. */
int qs_mp_scan(const uint8_t *data, size_t len, const char *what, qs_error_t *err);

/* A decoded document: msgpack-c's result and its zone. */
typedef struct {
    msgpack_unpacked up;
    const msgpack_object *root; /* the top-level map */
} qs_mp_doc_t;

/* Scan, then unpack data[0..len) (which must be exactly one map) into doc. Strings and
 * bins in the tree point into data, so keep data alive until qs_mp_doc_release. On
 * error nothing is held. */
int qs_mp_doc_parse(qs_mp_doc_t *doc, const uint8_t *data, size_t len, const char *what,
                    qs_error_t *err);
void qs_mp_doc_release(qs_mp_doc_t *doc);

/* Find keys[0..n) in map (which must be a map; NULL reports `what` as missing): vals[i] =
 * the value or NULL. Unknown keys and non-string keys are ignored; a known key appearing
 * twice is an error. n is at most QS_MP_MAX_FIELDS. */
int qs_mp_fields(const msgpack_object *map, const char *const *keys, size_t n,
                 const msgpack_object **vals, const char *what, qs_error_t *err);

/* Does the str object equal s? */
int qs_mp_str_eq(const msgpack_object *o, const char *s);

/* The head of a typed document, a map {"type": NAME, "v": VERSION, ...} (worker messages,
 * lineage records). */
typedef struct {
    const char *what;         /* "message", "lineage record" */
    const char *version_of;   /* how errors name the version: "protocol version" */
    const char *verb;         /* this build "supports" / "reads" */
    const char *const *names; /* names[1..last]; names[0] is unused */
    int last;
    uint64_t version; /* the one version this build reads */
} qs_mp_kind_t;
/* *type = i with names[i] == NAME. QS_ERR(VERSION) for another version and QS_ERR(FORMAT)
 * for an unknown type, each naming what was received and what this build reads. */
int qs_mp_typed_head(const msgpack_object *root, const qs_mp_kind_t *kind, int *type,
                     qs_error_t *err);

/* Required fields (o == NULL reports the field as missing). Integers accept any msgpack
 * integer encoding whose value lies in [lo, hi]. */
int qs_mp_u64(const msgpack_object *o, const char *what, const char *key, uint64_t lo, uint64_t hi,
              uint64_t *out, qs_error_t *err);
int qs_mp_u32(const msgpack_object *o, const char *what, const char *key, uint32_t lo, uint32_t hi,
              uint32_t *out, qs_error_t *err);
int qs_mp_i64(const msgpack_object *o, const char *what, const char *key, int64_t lo, int64_t hi,
              int64_t *out, qs_error_t *err);
/* Any number (float32, float64 or an integer); NaN and infinities allowed. */
int qs_mp_f64(const msgpack_object *o, const char *what, const char *key, double *out,
              qs_error_t *err);
/* A finite number in [lo, hi]. */
int qs_mp_f64_range(const msgpack_object *o, const char *what, const char *key, double lo,
                    double hi, double *out, qs_error_t *err);
/* An accuracy: NaN (not measured) or a number in [0, 1]. */
int qs_mp_accuracy(const msgpack_object *o, const char *what, const char *key, double *out,
                   qs_error_t *err);
int qs_mp_f32_range(const msgpack_object *o, const char *what, const char *key, double lo,
                    double hi, float *out, qs_error_t *err);
int qs_mp_bool(const msgpack_object *o, const char *what, const char *key, int *out,
               qs_error_t *err);
/* A str of valid UTF-8 without NUL bytes, shorter than cap; copied NUL-terminated. */
int qs_mp_str(const msgpack_object *o, const char *what, const char *key, char *buf, size_t cap,
              qs_error_t *err);
/* A str of exactly len lower-case hex digits (an identifier); copied NUL-terminated into
 * buf[len + 1]. */
int qs_mp_hex(const msgpack_object *o, const char *what, const char *key, size_t len, char *buf,
              qs_error_t *err);
/* The same checks, without copying: *p and *n point into the payload. */
int qs_mp_str_view(const msgpack_object *o, const char *what, const char *key, const char **p,
                   size_t *n, qs_error_t *err);
/* A bin; exact >= 0 demands that many bytes, exact < 0 accepts any size. */
int qs_mp_bin(const msgpack_object *o, const char *what, const char *key, long long exact,
              const uint8_t **p, size_t *n, qs_error_t *err);
/* An array; *n elements. */
int qs_mp_array(const msgpack_object *o, const char *what, const char *key,
                const msgpack_object **items, size_t *n, qs_error_t *err);
/* A map (value of a nested field). */
int qs_mp_map(const msgpack_object *o, const char *what, const char *key, qs_error_t *err);
/* A str naming one of names(0..count) (NULL names are skipped); *out is its index. The
 * error lists the accepted names. */
int qs_mp_enum(const msgpack_object *o, const char *what, const char *key, const char *(*name)(int),
               int first, int count, int *out, qs_error_t *err);

/* Copy n little-endian float32 values from a bin's bytes. */
void qs_mp_load_floats(float *dst, const uint8_t *src, size_t n);

/* ---- Sub-codecs shared by several formats (the spec's in genome.c) ------------------- */

/* The model spec as a map: kind, hidden, depth, classes, image_dim, rest, proj_seed. */
void qs_mp_pack_spec(msgpack_packer *pk, const qs_quine_spec_t *spec);
/* Read and validate (qs_quine_spec_validate, and N fits in uint32) a spec map; what names
 * it in errors ("genome: spec"). *nparams = N. */
int qs_mp_read_spec(const msgpack_object *o, const char *what, qs_quine_spec_t *spec,
                    size_t *nparams, qs_error_t *err);

/* A fidelity as a map (wire results, checkpoints): l_sr, margin, srq, rel_err, r2, rms
 * (float64) and zero_quine. */
void qs_mp_pack_fidelity(msgpack_packer *pk, const qs_fidelity_t *f);
/* Read a fidelity map into *f (numbers of any encoding, NaN and infinities allowed); what
 * names it in errors, and a missing or non-map o is reported as qs_mp_fields does. */
int qs_mp_read_fidelity(const msgpack_object *o, const char *what, qs_fidelity_t *f,
                        qs_error_t *err);

#endif
