/* mp: proto's private wrapper around msgpack-c (see mp.h): a packer that appends to a
 * qs_bytes_t, the pre-scan that bounds what msgpack-c may allocate, and typed, range-
 * checked getters that name the field in every error. */
#include "proto/mp.h"

#include <assert.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

/* ---- Encoding ------------------------------------------------------------------------ */

static int bytes_write(void *data, const char *buf, size_t len)
{
    qs_bytes_append(data, buf, len);
    return 0;
}

void qs_mp_packer_init(msgpack_packer *pk, qs_bytes_t *out)
{
    msgpack_packer_init(pk, out, bytes_write);
}

void qs_mp_pack_cstr(msgpack_packer *pk, const char *s)
{
    size_t n = strlen(s);
    msgpack_pack_str(pk, n);
    msgpack_pack_str_body(pk, s, n);
}

void qs_mp_kv_str(msgpack_packer *pk, const char *key, const char *s)
{
    qs_mp_pack_cstr(pk, key);
    qs_mp_pack_cstr(pk, s);
}

void qs_mp_kv_u64(msgpack_packer *pk, const char *key, uint64_t v)
{
    qs_mp_pack_cstr(pk, key);
    msgpack_pack_uint64(pk, v);
}

void qs_mp_kv_i64(msgpack_packer *pk, const char *key, int64_t v)
{
    qs_mp_pack_cstr(pk, key);
    msgpack_pack_int64(pk, v);
}

void qs_mp_kv_f64(msgpack_packer *pk, const char *key, double v)
{
    qs_mp_pack_cstr(pk, key);
    msgpack_pack_double(pk, v);
}

void qs_mp_kv_f32(msgpack_packer *pk, const char *key, float v)
{
    qs_mp_pack_cstr(pk, key);
    msgpack_pack_float(pk, v);
}

void qs_mp_kv_bool(msgpack_packer *pk, const char *key, int v)
{
    qs_mp_pack_cstr(pk, key);
    if (v)
        msgpack_pack_true(pk);
    else
        msgpack_pack_false(pk);
}

void qs_mp_kv_bin(msgpack_packer *pk, const char *key, const void *data, size_t len)
{
    qs_mp_pack_cstr(pk, key);
    msgpack_pack_bin(pk, len);
    if (len)
        msgpack_pack_bin_body(pk, data, len);
}

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define QS_HOST_LE 1
#else
#define QS_HOST_LE 0
#endif

void qs_mp_kv_floats(msgpack_packer *pk, const char *key, const float *v, size_t n)
{
    if (n > UINT32_MAX / 4)
        qs_die("%s: %zu floats do not fit in a MessagePack bin", key, n);
    qs_mp_pack_cstr(pk, key);
    msgpack_pack_bin(pk, n * 4);
    if (n == 0)
        return;
    if (QS_HOST_LE) {
        msgpack_pack_bin_body(pk, v, n * 4);
        return;
    }
    uint8_t chunk[4096];
    for (size_t i = 0; i < n;) {
        size_t k = QS_MIN(n - i, sizeof chunk / 4);
        for (size_t j = 0; j < k; j++) {
            uint32_t u;
            memcpy(&u, &v[i + j], 4);
            qs_store_le32(chunk + 4 * j, u);
        }
        msgpack_pack_bin_body(pk, chunk, k * 4);
        i += k;
    }
}

void qs_mp_load_floats(float *dst, const uint8_t *src, size_t n)
{
    if (n == 0)
        return;
    if (QS_HOST_LE) {
        memcpy(dst, src, n * 4);
        return;
    }
    for (size_t i = 0; i < n; i++) {
        uint32_t u = qs_load_le32(src + 4 * i);
        memcpy(&dst[i], &u, 4);
    }
}

/* ---- Pre-scan ------------------------------------------------------------------------ */

static uint64_t load_be(const uint8_t *p, int n)
{
    uint64_t v = 0;
    for (int i = 0; i < n; i++)
        v = v << 8 | p[i];
    return v;
}

/* What the lead byte b of a MessagePack value says follows it: a length field of *lenbytes
 * bytes, then *skip fixed bytes; or, for a container (*container), *count elements (when
 * *lenbytes is 0; else the length field holds them). -1 for the one invalid byte, 0xc1. */
static int lead_byte(uint8_t b, size_t *lenbytes, size_t *skip, uint64_t *count, int *container)
{
    *lenbytes = 0, *skip = 0, *count = 0, *container = 0;
    if (b <= 0x7f || b >= 0xe0 || b == 0xc0 || b == 0xc2 || b == 0xc3)
        return 0;
    if (b >= 0x80 && b <= 0x8f) {
        *container = 1, *count = 2u * (b & 0x0fu);
        return 0;
    }
    if (b >= 0x90 && b <= 0x9f) {
        *container = 1, *count = b & 0x0fu;
        return 0;
    }
    if (b >= 0xa0 && b <= 0xbf) {
        *skip = b & 0x1fu;
        return 0;
    }
    switch (b) {
    case 0xc4:
    case 0xd9:
        *lenbytes = 1;
        break; /* bin8, str8 */
    case 0xc5:
    case 0xda:
        *lenbytes = 2;
        break; /* bin16, str16 */
    case 0xc6:
    case 0xdb:
        *lenbytes = 4;
        break; /* bin32, str32 */
    case 0xc7:
        *lenbytes = 1, *skip = 1;
        break; /* ext8: length, type */
    case 0xc8:
        *lenbytes = 2, *skip = 1;
        break;
    case 0xc9:
        *lenbytes = 4, *skip = 1;
        break;
    case 0xca:
        *skip = 4;
        break; /* float32 */
    case 0xcb:
        *skip = 8;
        break; /* float64 */
    case 0xcc:
    case 0xd0:
        *skip = 1;
        break;
    case 0xcd:
    case 0xd1:
        *skip = 2;
        break;
    case 0xce:
    case 0xd2:
        *skip = 4;
        break;
    case 0xcf:
    case 0xd3:
        *skip = 8;
        break;
    case 0xd4:
        *skip = 2;
        break; /* fixext1: type + 1 */
    case 0xd5:
        *skip = 3;
        break;
    case 0xd6:
        *skip = 5;
        break;
    case 0xd7:
        *skip = 9;
        break;
    case 0xd8:
        *skip = 17;
        break;
    case 0xdc:
    case 0xde:
        *lenbytes = 2, *container = 1;
        break;
    case 0xdd:
    case 0xdf:
        *lenbytes = 4, *container = 1;
        break;
    default: /* 0xc1 */
        return -1;
    }
    return 0;
}

int qs_mp_scan(const uint8_t *data, size_t len, const char *what, qs_error_t *err)
{
    uint64_t left[QS_MP_MAX_DEPTH + 1]; /* values still to read at each open level */
    int d = 0;
    size_t pos = 0;
    left[0] = 1;
    while (d >= 0) {
        if (left[d] == 0) {
            d--;
            continue;
        }
        left[d]--;
        if (pos >= len)
            return qs_error_set(err, QS_ERR(TRUNCATED),
                                "%s: MessagePack value cut short at byte %zu", what, len);
        uint8_t b = data[pos];
        size_t rest = len - pos - 1;
        size_t lenbytes, skip; /* a length field, then fixed extra bytes */
        uint64_t count;        /* container elements */
        int container;
        if (lead_byte(b, &lenbytes, &skip, &count, &container) < 0)
            return qs_error_set(err, QS_ERR(FORMAT),
                                "%s: byte 0x%02x at offset %zu is not valid MessagePack", what, b,
                                pos);
        if (lenbytes > rest)
            return qs_error_set(err, QS_ERR(TRUNCATED),
                                "%s: MessagePack header at offset %zu cut short", what, pos);
        uint64_t n = load_be(data + pos + 1, (int)lenbytes);
        rest -= lenbytes;
        if (container) {
            if (lenbytes)
                count = (b == 0xde || b == 0xdf) ? 2 * n : n;
            if (count > rest)
                return qs_error_set(err, QS_ERR(TOOBIG),
                                    "%s: %s at offset %zu claims %" PRIu64
                                    " elements but only %zu bytes follow",
                                    what, (b & 0xf0) == 0x80 || b >= 0xde ? "map" : "array", pos,
                                    (b & 0xf0) == 0x80 || b >= 0xde ? count / 2 : count, rest);
            pos += 1 + lenbytes;
            if (count > 0) {
                if (d + 1 > QS_MP_MAX_DEPTH)
                    return qs_error_set(err, QS_ERR(TOOBIG),
                                        "%s: containers nested deeper than %d at offset %zu", what,
                                        QS_MP_MAX_DEPTH, pos);
                left[++d] = count;
            }
            continue;
        }
        if (n > rest || skip > rest - n) {
            if (lenbytes)
                return qs_error_set(err, QS_ERR(TOOBIG),
                                    "%s: string/bin/ext at offset %zu claims %" PRIu64
                                    " bytes but only %zu follow",
                                    what, pos, n, rest);
            return qs_error_set(err, QS_ERR(TRUNCATED),
                                "%s: MessagePack value at offset %zu cut short", what, pos);
        }
        pos += 1 + lenbytes + (size_t)n + skip;
    }
    if (pos != len)
        return qs_error_set(err, QS_ERR(FORMAT),
                            "%s: %zu unexpected bytes after the MessagePack value (%zu bytes)",
                            what, len - pos, pos);
    return 0;
}

/* ---- Documents ----------------------------------------------------------------------- */

static const char *type_name(const msgpack_object *o)
{
    switch (o->type) {
    case MSGPACK_OBJECT_NIL:
        return "nil";
    case MSGPACK_OBJECT_BOOLEAN:
        return "a boolean";
    case MSGPACK_OBJECT_POSITIVE_INTEGER:
        return "an integer";
    case MSGPACK_OBJECT_NEGATIVE_INTEGER:
        return "a negative integer";
    case MSGPACK_OBJECT_FLOAT32:
    case MSGPACK_OBJECT_FLOAT64:
        return "a float";
    case MSGPACK_OBJECT_STR:
        return "a string";
    case MSGPACK_OBJECT_ARRAY:
        return "an array";
    case MSGPACK_OBJECT_MAP:
        return "a map";
    case MSGPACK_OBJECT_BIN:
        return "a bin";
    case MSGPACK_OBJECT_EXT:
        return "an ext";
    }
    return "an unknown type";
}

int qs_mp_doc_parse(qs_mp_doc_t *doc, const uint8_t *data, size_t len, const char *what,
                    qs_error_t *err)
{
    int rc = qs_mp_scan(data, len, what, err);
    msgpack_unpacked_init(&doc->up);
    doc->root = NULL;
    if (rc < 0)
        return rc;
    size_t off = 0;
    msgpack_unpack_return ur = msgpack_unpack_next(&doc->up, (const char *)data, len, &off);
    if (ur != MSGPACK_UNPACK_SUCCESS || off != len) {
        /* The scan accepted it, so this would be a disagreement with msgpack-c. */
        qs_mp_doc_release(doc);
        return qs_error_set(err, QS_ERR(FORMAT), "%s: MessagePack decoder failed (%d at %zu)", what,
                            (int)ur, off);
    }
    if (doc->up.data.type != MSGPACK_OBJECT_MAP) {
        rc = qs_error_set(err, QS_ERR(FORMAT), "%s: expected a MessagePack map, got %s", what,
                          type_name(&doc->up.data));
        qs_mp_doc_release(doc);
        return rc;
    }
    doc->root = &doc->up.data;
    return 0;
}

void qs_mp_doc_release(qs_mp_doc_t *doc)
{
    msgpack_unpacked_destroy(&doc->up);
    doc->root = NULL;
}

int qs_mp_str_eq(const msgpack_object *o, const char *s)
{
    size_t n = strlen(s);
    return o->type == MSGPACK_OBJECT_STR && o->via.str.size == n &&
           (n == 0 || memcmp(o->via.str.ptr, s, n) == 0);
}

int qs_mp_fields(const msgpack_object *map, const char *const *keys, size_t n,
                 const msgpack_object **vals, const char *what, qs_error_t *err)
{
    /* The key lengths once per call, not once per comparison: matching keys is a good
     * part of reading a long lineage log. */
    size_t len[QS_MP_MAX_FIELDS];
    assert(n <= QS_MP_MAX_FIELDS);
    for (size_t k = 0; k < n; k++) {
        vals[k] = NULL;
        len[k] = strlen(keys[k]);
    }
    if (!map)
        return qs_error_set(err, QS_ERR(FORMAT), "%s: missing (a required map)", what);
    if (map->type != MSGPACK_OBJECT_MAP)
        return qs_error_set(err, QS_ERR(FORMAT), "%s: expected a map, got %s", what,
                            type_name(map));
    for (uint32_t i = 0; i < map->via.map.size; i++) {
        const msgpack_object_kv *kv = &map->via.map.ptr[i];
        if (kv->key.type != MSGPACK_OBJECT_STR)
            continue;
        const char *name = kv->key.via.str.ptr;
        size_t size = kv->key.via.str.size;
        for (size_t k = 0; k < n; k++) {
            if (size != len[k] || (size && memcmp(name, keys[k], size) != 0))
                continue;
            if (vals[k])
                return qs_error_set(err, QS_ERR(FORMAT), "%s: field '%s' appears twice", what,
                                    keys[k]);
            vals[k] = &kv->val;
            break;
        }
    }
    return 0;
}

/* ---- Getters ------------------------------------------------------------------------- */

static int missing(const char *what, const char *key, qs_error_t *err)
{
    return qs_error_set(err, QS_ERR(FORMAT), "%s: missing field '%s'", what, key);
}

static int wrong_type(const msgpack_object *o, const char *what, const char *key,
                      const char *expected, qs_error_t *err)
{
    return qs_error_set(err, QS_ERR(FORMAT), "%s: field '%s' is %s, expected %s", what, key,
                        type_name(o), expected);
}

int qs_mp_u64(const msgpack_object *o, const char *what, const char *key, uint64_t lo, uint64_t hi,
              uint64_t *out, qs_error_t *err)
{
    if (!o)
        return missing(what, key, err);
    if (o->type == MSGPACK_OBJECT_NEGATIVE_INTEGER)
        return qs_error_set(err, QS_ERR(RANGE),
                            "%s: field '%s' is %" PRId64 ", expected an integer in %" PRIu64
                            "..%" PRIu64,
                            what, key, o->via.i64, lo, hi);
    if (o->type != MSGPACK_OBJECT_POSITIVE_INTEGER)
        return wrong_type(o, what, key, "an unsigned integer", err);
    uint64_t v = o->via.u64;
    if (v < lo || v > hi)
        return qs_error_set(err, QS_ERR(RANGE),
                            "%s: field '%s' is %" PRIu64 ", expected an integer in %" PRIu64
                            "..%" PRIu64,
                            what, key, v, lo, hi);
    *out = v;
    return 0;
}

int qs_mp_u32(const msgpack_object *o, const char *what, const char *key, uint32_t lo, uint32_t hi,
              uint32_t *out, qs_error_t *err)
{
    uint64_t v;
    int rc = qs_mp_u64(o, what, key, lo, hi, &v, err);
    if (rc == 0)
        *out = (uint32_t)v;
    return rc;
}

int qs_mp_i64(const msgpack_object *o, const char *what, const char *key, int64_t lo, int64_t hi,
              int64_t *out, qs_error_t *err)
{
    if (!o)
        return missing(what, key, err);
    int64_t v;
    if (o->type == MSGPACK_OBJECT_NEGATIVE_INTEGER)
        v = o->via.i64;
    else if (o->type == MSGPACK_OBJECT_POSITIVE_INTEGER && o->via.u64 <= INT64_MAX)
        v = (int64_t)o->via.u64;
    else if (o->type == MSGPACK_OBJECT_POSITIVE_INTEGER)
        return qs_error_set(err, QS_ERR(RANGE),
                            "%s: field '%s' is %" PRIu64 ", expected an integer in %" PRId64
                            "..%" PRId64,
                            what, key, o->via.u64, lo, hi);
    else
        return wrong_type(o, what, key, "an integer", err);
    if (v < lo || v > hi)
        return qs_error_set(err, QS_ERR(RANGE),
                            "%s: field '%s' is %" PRId64 ", expected an integer in %" PRId64
                            "..%" PRId64,
                            what, key, v, lo, hi);
    *out = v;
    return 0;
}

int qs_mp_f64(const msgpack_object *o, const char *what, const char *key, double *out,
              qs_error_t *err)
{
    if (!o)
        return missing(what, key, err);
    switch (o->type) {
    case MSGPACK_OBJECT_FLOAT32:
    case MSGPACK_OBJECT_FLOAT64:
        *out = o->via.f64;
        return 0;
    case MSGPACK_OBJECT_POSITIVE_INTEGER:
        *out = (double)o->via.u64;
        return 0;
    case MSGPACK_OBJECT_NEGATIVE_INTEGER:
        *out = (double)o->via.i64;
        return 0;
    default:
        return wrong_type(o, what, key, "a number", err);
    }
}

int qs_mp_f64_range(const msgpack_object *o, const char *what, const char *key, double lo,
                    double hi, double *out, qs_error_t *err)
{
    double v = 0;
    int rc = qs_mp_f64(o, what, key, &v, err);
    if (rc < 0)
        return rc;
    if (!isfinite(v) || v < lo || v > hi)
        return qs_error_set(err, QS_ERR(RANGE),
                            "%s: field '%s' is %g, expected a number in [%g, %g]", what, key, v, lo,
                            hi);
    *out = v;
    return 0;
}

int qs_mp_accuracy(const msgpack_object *o, const char *what, const char *key, double *out,
                   qs_error_t *err)
{
    int rc = qs_mp_f64(o, what, key, out, err);
    if (rc == 0 && !isnan(*out) && !(*out >= 0 && *out <= 1))
        rc = qs_error_set(err, QS_ERR(RANGE),
                          "%s: field '%s' is %g, expected NaN or a number in [0, 1]", what, key,
                          *out);
    return rc;
}

int qs_mp_f32_range(const msgpack_object *o, const char *what, const char *key, double lo,
                    double hi, float *out, qs_error_t *err)
{
    double v = 0;
    int rc = qs_mp_f64_range(o, what, key, lo, hi, &v, err);
    if (rc < 0)
        return rc;
    if (fabs(v) > 3.4028234663852886e38)
        return qs_error_set(err, QS_ERR(RANGE), "%s: field '%s' is %g, beyond float32", what, key,
                            v);
    *out = (float)v;
    return 0;
}

int qs_mp_bool(const msgpack_object *o, const char *what, const char *key, int *out,
               qs_error_t *err)
{
    if (!o)
        return missing(what, key, err);
    if (o->type != MSGPACK_OBJECT_BOOLEAN)
        return wrong_type(o, what, key, "a boolean", err);
    *out = o->via.boolean ? 1 : 0;
    return 0;
}

int qs_mp_str_view(const msgpack_object *o, const char *what, const char *key, const char **p,
                   size_t *n, qs_error_t *err)
{
    if (!o)
        return missing(what, key, err);
    if (o->type != MSGPACK_OBJECT_STR)
        return wrong_type(o, what, key, "a string", err);
    const char *s = o->via.str.size ? o->via.str.ptr : "";
    size_t len = o->via.str.size;
    if (len && memchr(s, '\0', len))
        return qs_error_set(err, QS_ERR(FORMAT), "%s: field '%s' contains a NUL byte", what, key);
    if (!qs_utf8_valid(s, len))
        return qs_error_set(err, QS_ERR(FORMAT), "%s: field '%s' is not valid UTF-8", what, key);
    *p = s;
    *n = len;
    return 0;
}

int qs_mp_str(const msgpack_object *o, const char *what, const char *key, char *buf, size_t cap,
              qs_error_t *err)
{
    const char *s;
    size_t n;
    int rc = qs_mp_str_view(o, what, key, &s, &n, err);
    if (rc < 0)
        return rc;
    if (n >= cap)
        return qs_error_set(err, QS_ERR(TOOBIG),
                            "%s: field '%s' has %zu bytes, at most %zu allowed", what, key, n,
                            cap - 1);
    memcpy(buf, s, n);
    buf[n] = '\0';
    return 0;
}

int qs_mp_hex(const msgpack_object *o, const char *what, const char *key, size_t len, char *buf,
              qs_error_t *err)
{
    int rc = qs_mp_str(o, what, key, buf, len + 1, err);
    if (rc < 0)
        return rc;
    if (strlen(buf) != len || strspn(buf, "0123456789abcdef") != len)
        return qs_error_set(err, QS_ERR(FORMAT), "%s: field '%s' is not %zu hex digits", what, key,
                            len);
    return 0;
}

int qs_mp_bin(const msgpack_object *o, const char *what, const char *key, long long exact,
              const uint8_t **p, size_t *n, qs_error_t *err)
{
    static const uint8_t empty[1];
    if (!o)
        return missing(what, key, err);
    if (o->type != MSGPACK_OBJECT_BIN)
        return wrong_type(o, what, key, "a bin", err);
    if (exact >= 0 && (unsigned long long)exact != o->via.bin.size)
        return qs_error_set(err, QS_ERR(FORMAT), "%s: field '%s' has %u bytes, expected %lld", what,
                            key, o->via.bin.size, exact);
    *p = o->via.bin.size ? (const uint8_t *)o->via.bin.ptr : empty;
    *n = o->via.bin.size;
    return 0;
}

int qs_mp_array(const msgpack_object *o, const char *what, const char *key,
                const msgpack_object **items, size_t *n, qs_error_t *err)
{
    if (!o)
        return missing(what, key, err);
    if (o->type != MSGPACK_OBJECT_ARRAY)
        return wrong_type(o, what, key, "an array", err);
    *items = o->via.array.ptr;
    *n = o->via.array.size;
    return 0;
}

int qs_mp_map(const msgpack_object *o, const char *what, const char *key, qs_error_t *err)
{
    if (!o)
        return missing(what, key, err);
    if (o->type != MSGPACK_OBJECT_MAP)
        return wrong_type(o, what, key, "a map", err);
    return 0;
}

/* The name of value i, or NULL past the end of the table (core's name functions answer
 * "?" for values they do not know). */
static const char *enum_name(const char *(*name)(int), int i)
{
    const char *nm = name(i);
    return nm && strcmp(nm, "?") != 0 ? nm : NULL;
}

int qs_mp_enum(const msgpack_object *o, const char *what, const char *key, const char *(*name)(int),
               int first, int max, int *out, qs_error_t *err)
{
    if (!o)
        return missing(what, key, err);
    if (o->type != MSGPACK_OBJECT_STR)
        return wrong_type(o, what, key, "a string", err);
    const char *nm;
    for (int i = first; i < first + max && (nm = enum_name(name, i)); i++)
        if (qs_mp_str_eq(o, nm)) {
            *out = i;
            return 0;
        }
    char names[256] = "";
    for (int i = first; i < first + max && (nm = enum_name(name, i)); i++)
        if (qs_list_append(names, sizeof names, nm) < 0)
            break;
    int shown = (int)QS_MIN(o->via.str.size, 64u);
    return qs_error_set(err, QS_ERR(RANGE), "%s: field '%s' is '%.*s', expected one of: %s", what,
                        key, shown, o->via.str.size ? o->via.str.ptr : "", names);
}

/* ---- Sub-codecs ---------------------------------------------------------------------- */

void qs_mp_pack_fidelity(msgpack_packer *pk, const qs_fidelity_t *f)
{
    msgpack_pack_map(pk, 7);
    qs_mp_kv_f64(pk, "l_sr", f->l_sr);
    qs_mp_kv_f64(pk, "margin", f->margin);
    qs_mp_kv_f64(pk, "srq", f->srq);
    qs_mp_kv_f64(pk, "rel_err", f->rel_err);
    qs_mp_kv_f64(pk, "r2", f->r2);
    qs_mp_kv_f64(pk, "rms", f->rms);
    qs_mp_kv_bool(pk, "zero_quine", f->zero_quine);
}

int qs_mp_read_fidelity(const msgpack_object *o, const char *what, qs_fidelity_t *f,
                        qs_error_t *err)
{
    enum { LSR, MARGIN, SRQ, REL, R2, RMS, ZERO, NK };
    static const char *const keys[NK] = {"l_sr", "margin", "srq",       "rel_err",
                                         "r2",   "rms",    "zero_quine"};
    const msgpack_object *v[NK];
    int rc;
    if ((rc = qs_mp_fields(o, keys, NK, v, what, err)) < 0 ||
        (rc = qs_mp_f64(v[LSR], what, "l_sr", &f->l_sr, err)) < 0 ||
        (rc = qs_mp_f64(v[MARGIN], what, "margin", &f->margin, err)) < 0 ||
        (rc = qs_mp_f64(v[SRQ], what, "srq", &f->srq, err)) < 0 ||
        (rc = qs_mp_f64(v[REL], what, "rel_err", &f->rel_err, err)) < 0 ||
        (rc = qs_mp_f64(v[R2], what, "r2", &f->r2, err)) < 0 ||
        (rc = qs_mp_f64(v[RMS], what, "rms", &f->rms, err)) < 0)
        return rc;
    return qs_mp_bool(v[ZERO], what, "zero_quine", &f->zero_quine, err);
}

int qs_mp_typed_head(const msgpack_object *root, const qs_mp_kind_t *kind, int *type,
                     qs_error_t *err)
{
    static const char *const keys[] = {"type", "v"};
    const msgpack_object *v[2];
    const char *name;
    size_t len;
    uint64_t version;
    int rc;
    if ((rc = qs_mp_fields(root, keys, 2, v, kind->what, err)) < 0 ||
        (rc = qs_mp_str_view(v[0], kind->what, "type", &name, &len, err)) < 0 ||
        (rc = qs_mp_u64(v[1], kind->what, "v", 0, UINT64_MAX, &version, err)) < 0)
        return rc;
    int shown = (int)QS_MIN(len, (size_t)64);
    if (version != kind->version)
        return qs_error_set(err, QS_ERR(VERSION),
                            "%s '%.*s': %s %llu received, this build %s version %llu", kind->what,
                            shown, name, kind->version_of, (unsigned long long)version, kind->verb,
                            (unsigned long long)kind->version);
    for (int i = 1; i <= kind->last; i++)
        if (qs_mp_str_eq(v[0], kind->names[i])) {
            *type = i;
            return 0;
        }
    char list[256] = ""; /* "hello, challenge, ..." */
    for (int i = 1; i <= kind->last; i++)
        if (qs_list_append(list, sizeof list, kind->names[i]) < 0)
            break;
    return qs_error_set(err, QS_ERR(FORMAT), "%s: unknown type '%.*s' (this build %s: %s)",
                        kind->what, shown, name, kind->verb, list);
}
