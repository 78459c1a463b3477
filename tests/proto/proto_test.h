/* proto_test: helpers shared by the proto suites (header-only): random genomes and
 * specs from the project's counter-based RNG, bitwise float comparison (NaN-safe, and of
 * whole fidelities), and feeding a byte stream to a frame reader in chunks. */
#ifndef QS_PROTO_TEST_H
#define QS_PROTO_TEST_H

#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "core/fidelity.h"
#include "core/rng.h"
#include "proto/frame.h"
#include "proto/genome.h"

static inline qs_quine_spec_t pt_spec(qs_kind_t kind, uint32_t hidden, uint32_t depth,
                                      uint64_t seed)
{
    qs_quine_spec_t s;
    memset(&s, 0, sizeof s);
    s.kind = kind;
    s.hidden = hidden;
    s.depth = depth;
    s.classes = kind == QS_KIND_AUX ? 10 : 0;
    s.image_dim = kind == QS_KIND_AUX ? 784 : 0;
    s.rest = QS_REST_ZERO;
    s.proj_seed = seed;
    return s;
}

/* The paper's aux quine: H=100, depth 2, N = 21,100. */
static inline qs_quine_spec_t pt_paper_aux(void)
{
    return pt_spec(QS_KIND_AUX, 100, 2, 12345);
}

/* A random genome: random small spec, weights (including, when special != 0, some NaN,
 * infinities, -0 and denormals), parents, species name and metrics. */
static inline void pt_random_genome(qs_genome_t *g, uint64_t seed, int special)
{
    qs_rng_t r;
    qs_rng_init(&r, seed, qs_rng_stream(QS_STREAM_TEST, 1));
    qs_kind_t kind = qs_rng_below(&r, 2) ? QS_KIND_AUX : QS_KIND_VANILLA;
    qs_quine_spec_t s =
        pt_spec(kind, 2 + qs_rng_below(&r, 20), 1 + qs_rng_below(&r, 3), qs_rng_u64(&r));
    if (kind == QS_KIND_AUX) {
        s.classes = 2 + qs_rng_below(&r, 11);
        s.coord_scale = qs_rng_below(&r, 2) ? 0.1f : 0.0f;
        s.image_dim = 1 + qs_rng_below(&r, 800);
        s.rest = qs_rng_below(&r, 2) ? QS_REST_MEAN : QS_REST_ZERO;
    }
    qs_genome_init(g, &s);
    g->id = qs_rng_u64(&r);
    g->nparents = qs_rng_below(&r, QS_MAX_PARENTS + 1);
    for (uint32_t i = 0; i < g->nparents; i++)
        g->parents[i] = qs_rng_u64(&r);
    g->generation = qs_rng_u32(&r);
    static const char *const names[] = {"", "alpha", "b\xc3\xa9ta \xe2\x9c\x93", "x\"y\\z\n"};
    snprintf(g->species, sizeof g->species, "%s", names[qs_rng_below(&r, 4)]);
    for (uint32_t i = 0; i < g->nweights; i++)
        g->weights[i] = (float)(qs_rng_normal(&r) * 0.1);
    if (special && g->nweights >= 5) {
        g->weights[0] = NAN;
        g->weights[1] = INFINITY;
        g->weights[2] = -INFINITY;
        g->weights[3] = -0.0f;
        g->weights[4] = 1e-45f;
    }
    g->metrics.present = (int)qs_rng_below(&r, 2);
    if (g->metrics.present) {
        g->metrics.accuracy = qs_rng_uniform(&r);
        g->metrics.l_sr = qs_rng_uniform(&r) * 100;
        g->metrics.rel_err = NAN;
        g->metrics.r2 = -INFINITY;
    }
}

/* Same bits (so NaN == NaN), for n floats. */
static inline int pt_floats_same(const float *a, const float *b, size_t n)
{
    return n == 0 || memcmp(a, b, n * sizeof(float)) == 0;
}

static inline int pt_double_same(double a, double b)
{
    return memcmp(&a, &b, sizeof a) == 0;
}

/* Fidelities equal field by field (NaN equal to the same NaN). */
static inline void pt_assert_fidelity_eq(const qs_fidelity_t *a, const qs_fidelity_t *b)
{
    cr_assert(pt_double_same(a->l_sr, b->l_sr));
    cr_assert(pt_double_same(a->margin, b->margin));
    cr_assert(pt_double_same(a->srq, b->srq));
    cr_assert(pt_double_same(a->rel_err, b->rel_err));
    cr_assert(pt_double_same(a->r2, b->r2));
    cr_assert(pt_double_same(a->rms, b->rms));
    cr_assert_eq(a->zero_quine, b->zero_quine);
}

static inline void pt_assert_genome_eq(const qs_genome_t *a, const qs_genome_t *b)
{
    cr_assert_eq(a->id, b->id);
    cr_assert_eq(a->nparents, b->nparents);
    for (uint32_t i = 0; i < a->nparents; i++)
        cr_assert_eq(a->parents[i], b->parents[i]);
    cr_assert_eq(a->generation, b->generation);
    cr_assert_str_eq(a->species, b->species);
    cr_assert_eq(a->spec.kind, b->spec.kind);
    cr_assert_eq(a->spec.hidden, b->spec.hidden);
    cr_assert_eq(a->spec.depth, b->spec.depth);
    cr_assert_eq(a->spec.classes, b->spec.classes);
    cr_assert_eq(a->spec.image_dim, b->spec.image_dim);
    cr_assert_eq(a->spec.rest, b->spec.rest);
    cr_assert_eq(a->spec.proj_seed, b->spec.proj_seed);
    cr_assert_eq(a->spec.coord_scale, b->spec.coord_scale);
    cr_assert_eq(a->nweights, b->nweights);
    cr_assert(pt_floats_same(a->weights, b->weights, a->nweights));
    cr_assert_eq(a->metrics.present, b->metrics.present);
    if (a->metrics.present) {
        cr_assert(pt_double_same(a->metrics.accuracy, b->metrics.accuracy));
        cr_assert(pt_double_same(a->metrics.l_sr, b->metrics.l_sr));
        cr_assert(pt_double_same(a->metrics.rel_err, b->metrics.rel_err));
        cr_assert(pt_double_same(a->metrics.r2, b->metrics.r2));
    }
}

/* ---- Editing encoded maps (for validation tests) ------------------------------------- */
#include "proto/mp.h"

typedef enum { PT_REPLACE, PT_REMOVE, PT_ADD } pt_op_t;
typedef void (*pt_packfn)(msgpack_packer *);

/* Does the dotted path's first component (up to '.' or end) equal the key / index? */
static inline int pt_component_is(const char *path, const msgpack_object *key, uint32_t index,
                                  size_t *clen)
{
    const char *dot = strchr(path, '.');
    size_t n = dot ? (size_t)(dot - path) : strlen(path);
    *clen = n;
    if (!key) {
        char buf[16];
        snprintf(buf, sizeof buf, "%u", index);
        return strlen(buf) == n && memcmp(buf, path, n) == 0;
    }
    return key->type == MSGPACK_OBJECT_STR && key->via.str.size == n &&
           memcmp(key->via.str.ptr, path, n) == 0;
}

/* Re-pack o with the value at path replaced / removed, or a key added (the last path
 * component names the new key, in the map the prefix designates). */
static inline void pt_pack_edit(msgpack_packer *pk, const msgpack_object *o, const char *path,
                                pt_op_t op, pt_packfn fn)
{
    const char *dot = strchr(path, '.');
    if (o->type == MSGPACK_OBJECT_MAP) {
        uint32_t n = o->via.map.size;
        int last = dot == NULL;
        size_t clen;
        int adds = last && op == PT_ADD, removes = 0;
        for (uint32_t i = 0; i < n; i++)
            if (last && op == PT_REMOVE && pt_component_is(path, &o->via.map.ptr[i].key, 0, &clen))
                removes++;
        msgpack_pack_map(pk, n + adds - removes);
        for (uint32_t i = 0; i < n; i++) {
            const msgpack_object_kv *kv = &o->via.map.ptr[i];
            if (!adds && pt_component_is(path, &kv->key, 0, &clen)) {
                if (last && op == PT_REMOVE)
                    continue;
                msgpack_pack_object(pk, kv->key);
                if (last)
                    fn(pk);
                else
                    pt_pack_edit(pk, &kv->val, dot + 1, op, fn);
                continue;
            }
            msgpack_pack_object(pk, kv->key);
            msgpack_pack_object(pk, kv->val);
        }
        if (adds) {
            qs_mp_pack_cstr(pk, path);
            fn(pk);
        }
        return;
    }
    if (o->type == MSGPACK_OBJECT_ARRAY) {
        uint32_t n = o->via.array.size;
        msgpack_pack_array(pk, n);
        for (uint32_t i = 0; i < n; i++) {
            size_t clen;
            if (pt_component_is(path, NULL, i, &clen)) {
                if (dot)
                    pt_pack_edit(pk, &o->via.array.ptr[i], dot + 1, op, fn);
                else
                    fn(pk);
            } else {
                msgpack_pack_object(pk, o->via.array.ptr[i]);
            }
        }
        return;
    }
    msgpack_pack_object(pk, *o);
}

/* Edit one MessagePack map payload into out (a bare payload, no frame). */
static inline void pt_edit_payload(qs_bytes_t *out, const uint8_t *payload, size_t len,
                                   const char *path, pt_op_t op, pt_packfn fn)
{
    qs_mp_doc_t doc;
    qs_error_t err;
    cr_assert_eq(qs_mp_doc_parse(&doc, payload, len, "test", &err), 0, "%s", err.msg);
    msgpack_packer pk;
    qs_mp_packer_init(&pk, out);
    pt_pack_edit(&pk, doc.root, path, op, fn);
    qs_mp_doc_release(&doc);
}

/* The payload of the single frame in b. */
static inline void pt_unframe(const qs_bytes_t *b, const uint8_t **payload, size_t *plen)
{
    size_t flen;
    qs_error_t err;
    cr_assert_eq(
        qs_frame_parse(b->data, b->len, QS_MAX_MESSAGE_DEFAULT, payload, plen, &flen, &err), 1,
        "%s", err.msg);
    cr_assert_eq(flen, b->len);
}

#endif
