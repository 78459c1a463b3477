/* genome: an organism's genome as one self-describing MessagePack map, and `.genome`
 * files. Field table in proto/PROTOCOL.md.
 *
 * Encoding writes the weights straight from the float buffer into one bin (little-endian
 * float32, a memcpy on little-endian hosts) beside their CRC-32. Decoding scans the
 * payload (bounding what msgpack-c may allocate), reads the map into a temporary genome,
 * checks the weight count against the spec and the checksum, and only then hands the
 * result over, so that on any error the caller's genome is untouched. */
#include "proto/genome.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "proto/file.h"
#include "proto/mp.h"

/* ---- The spec sub-map (shared with wire.c) ------------------------------------------- */

static const char *kind_nm(int i)
{
    return qs_kind_name((qs_kind_t)i);
}

static const char *rest_nm(int i)
{
    return qs_rest_name((qs_rest_t)i);
}

void qs_mp_pack_spec(msgpack_packer *pk, const qs_quine_spec_t *spec)
{
    msgpack_pack_map(pk, 8);
    qs_mp_kv_str(pk, "kind", qs_kind_name(spec->kind));
    qs_mp_kv_u64(pk, "hidden", spec->hidden);
    qs_mp_kv_u64(pk, "depth", spec->depth);
    qs_mp_kv_u64(pk, "classes", spec->classes);
    qs_mp_kv_u64(pk, "image_dim", spec->image_dim);
    qs_mp_kv_str(pk, "rest", qs_rest_name(spec->rest));
    qs_mp_kv_f32(pk, "coord_scale", spec->coord_scale);
    qs_mp_kv_u64(pk, "proj_seed", spec->proj_seed);
}

int qs_mp_read_spec(const msgpack_object *o, const char *what, qs_quine_spec_t *spec,
                    size_t *nparams, qs_error_t *err)
{
    enum { KIND, HIDDEN, DEPTH, CLASSES, IMAGE_DIM, REST, COORD_SCALE, PROJ_SEED, NKEYS };
    static const char *const keys[NKEYS] = {"kind",      "hidden", "depth",       "classes",
                                            "image_dim", "rest",   "coord_scale", "proj_seed"};
    const msgpack_object *v[NKEYS];
    qs_quine_spec_t s;
    memset(&s, 0, sizeof s);
    int kind = 0, rest = 0, rc;
    if ((rc = qs_mp_fields(o, keys, NKEYS, v, what, err)) < 0 ||
        (rc = qs_mp_enum(v[KIND], what, "kind", kind_nm, 0, 64, &kind, err)) < 0 ||
        (rc = qs_mp_u32(v[HIDDEN], what, "hidden", 0, UINT32_MAX, &s.hidden, err)) < 0 ||
        (rc = qs_mp_u32(v[DEPTH], what, "depth", 0, UINT32_MAX, &s.depth, err)) < 0 ||
        (rc = qs_mp_u32(v[CLASSES], what, "classes", 0, UINT32_MAX, &s.classes, err)) < 0 ||
        (rc = qs_mp_u32(v[IMAGE_DIM], what, "image_dim", 0, UINT32_MAX, &s.image_dim, err)) < 0 ||
        (rc = qs_mp_enum(v[REST], what, "rest", rest_nm, 0, 64, &rest, err)) < 0 ||
        (rc = qs_mp_u64(v[PROJ_SEED], what, "proj_seed", 0, UINT64_MAX, &s.proj_seed, err)) < 0)
        return rc;
    /* optional: absent (files from before it existed) reads as 0, which means 1 */
    if (v[COORD_SCALE] && (rc = qs_mp_f32_range(v[COORD_SCALE], what, "coord_scale", 0, 1000,
                                                &s.coord_scale, err)) < 0)
        return rc;
    s.kind = (qs_kind_t)kind;
    s.rest = (qs_rest_t)rest;
    if ((rc = qs_quine_spec_validate(&s, err)) < 0) {
        if (err && strncmp(err->msg, "spec: ", 6) == 0) /* what already says "spec" */
            memmove(err->msg, err->msg + 6, strlen(err->msg + 6) + 1);
        qs_error_prefix(err, "%s", what);
        return rc;
    }
    size_t n = qs_quine_nparams(&s);
    if (n == 0 || n > UINT32_MAX / 4)
        return qs_error_set(err, QS_ERR(RANGE), "%s: %zu parameters, at most %u supported", what, n,
                            UINT32_MAX / 4);
    *spec = s;
    *nparams = n;
    return 0;
}

/* ---- Genome -------------------------------------------------------------------------- */

void qs_genome_init(qs_genome_t *g, const qs_quine_spec_t *spec)
{
    memset(g, 0, sizeof *g);
    g->spec = *spec;
    size_t n = qs_quine_nparams(spec);
    if (n > UINT32_MAX)
        qs_die("genome: %zu parameters do not fit a genome", n);
    g->nweights = (uint32_t)n;
    g->weights = xcalloc(n ? n : 1, sizeof(float));
    g->metrics.accuracy = g->metrics.l_sr = g->metrics.rel_err = g->metrics.r2 = NAN;
}

void qs_genome_destroy(qs_genome_t *g)
{
    free(g->weights);
    memset(g, 0, sizeof *g);
}

void qs_genome_copy(qs_genome_t *dst, const qs_genome_t *src)
{
    *dst = *src;
    dst->weights = xmalloc((src->nweights ? src->nweights : 1) * sizeof(float));
    if (src->nweights)
        memcpy(dst->weights, src->weights, src->nweights * sizeof(float));
}

static uint32_t weights_crc(const float *w, uint32_t n)
{
    /* The checksum covers the little-endian bytes as stored; on a little-endian host
     * that is the float buffer itself. */
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    return qs_crc32(w, (size_t)n * 4);
#else
    uint8_t *tmp = xmalloc((size_t)n * 4 + 1);
    for (uint32_t i = 0; i < n; i++) {
        uint32_t u;
        memcpy(&u, &w[i], 4);
        qs_store_le32(tmp + 4 * i, u);
    }
    uint32_t c = qs_crc32(tmp, (size_t)n * 4);
    free(tmp);
    return c;
#endif
}

static void pack_metrics(msgpack_packer *pk, const qs_genome_metrics_t *m)
{
    msgpack_pack_map(pk, 4);
    qs_mp_kv_f64(pk, "accuracy", m->accuracy);
    qs_mp_kv_f64(pk, "l_sr", m->l_sr);
    qs_mp_kv_f64(pk, "rel_err", m->rel_err);
    qs_mp_kv_f64(pk, "r2", m->r2);
}

/* The metadata checksum (version 2): CRC-32 of the array [id, parents, generation,
 * species, spec, nweights, metrics or nil], packed as the encoder packs those fields. A
 * flipped bit in, say, spec.proj_seed would otherwise make another network silently. */
static uint32_t meta_crc(const qs_genome_t *g)
{
    qs_bytes_t b;
    qs_bytes_init(&b);
    msgpack_packer pk;
    qs_mp_packer_init(&pk, &b);
    msgpack_pack_array(&pk, 7);
    msgpack_pack_uint64(&pk, g->id);
    uint32_t np = QS_MIN(g->nparents, (uint32_t)QS_MAX_PARENTS);
    msgpack_pack_array(&pk, np);
    for (uint32_t i = 0; i < np; i++)
        msgpack_pack_uint64(&pk, g->parents[i]);
    msgpack_pack_uint64(&pk, g->generation);
    qs_mp_pack_cstr(&pk, g->species);
    qs_mp_pack_spec(&pk, &g->spec);
    msgpack_pack_uint64(&pk, g->nweights);
    if (g->metrics.present)
        pack_metrics(&pk, &g->metrics);
    else
        msgpack_pack_nil(&pk);
    uint32_t c = qs_crc32(b.data, b.len);
    qs_bytes_destroy(&b);
    return c;
}

void qs_genome_encode(const qs_genome_t *g, qs_bytes_t *out)
{
    msgpack_packer pk;
    qs_mp_packer_init(&pk, out);
    qs_bytes_reserve(out, (size_t)g->nweights * 4 + 512);
    msgpack_pack_map(&pk, g->metrics.present ? 12 : 11);
    qs_mp_kv_str(&pk, "format", QS_GENOME_FORMAT);
    qs_mp_kv_u64(&pk, "version", QS_GENOME_VERSION);
    qs_mp_kv_u64(&pk, "id", g->id);
    qs_mp_pack_cstr(&pk, "parents");
    uint32_t np = QS_MIN(g->nparents, (uint32_t)QS_MAX_PARENTS);
    msgpack_pack_array(&pk, np);
    for (uint32_t i = 0; i < np; i++)
        msgpack_pack_uint64(&pk, g->parents[i]);
    qs_mp_kv_u64(&pk, "generation", g->generation);
    qs_mp_kv_str(&pk, "species", g->species);
    qs_mp_pack_cstr(&pk, "spec");
    qs_mp_pack_spec(&pk, &g->spec);
    qs_mp_kv_u64(&pk, "nweights", g->nweights);
    qs_mp_kv_floats(&pk, "weights", g->weights, g->nweights);
    qs_mp_kv_u64(&pk, "weights_crc32", weights_crc(g->weights, g->nweights));
    qs_mp_kv_u64(&pk, "meta_crc32", meta_crc(g));
    if (g->metrics.present) {
        qs_mp_pack_cstr(&pk, "metrics");
        pack_metrics(&pk, &g->metrics);
    }
}

/* A human-readable spec for messages: "aux H=100 depth 2". */
static void spec_str(const qs_quine_spec_t *s, char *buf, size_t cap)
{
    snprintf(buf, cap, "%s H=%u depth %u", qs_kind_name(s->kind), s->hidden, s->depth);
}

static int read_metrics(const msgpack_object *o, qs_genome_metrics_t *m, qs_error_t *err)
{
    static const char *const keys[] = {"accuracy", "l_sr", "rel_err", "r2"};
    double *dst[] = {&m->accuracy, &m->l_sr, &m->rel_err, &m->r2};
    const msgpack_object *v[4];
    int rc = qs_mp_fields(o, keys, 4, v, "genome: metrics", err);
    if (rc < 0)
        return rc;
    for (int i = 0; i < 4; i++) {
        *dst[i] = NAN;
        if (v[i] && v[i]->type != MSGPACK_OBJECT_NIL &&
            (rc = qs_mp_f64(v[i], "genome: metrics", keys[i], dst[i], err)) < 0)
            return rc;
    }
    m->present = 1;
    return 0;
}

/* Long (130 lines) for a reason: a flat decoder, one check per field of proto/PROTOCOL.md
 * section 4 that reads top to bottom, the checksums last. */
int qs_genome_decode(qs_genome_t *g, const uint8_t *data, size_t len, qs_error_t *err)
{
    enum {
        FORMAT,
        VERSION,
        ID,
        PARENTS,
        GENERATION,
        SPECIES,
        SPEC,
        NWEIGHTS,
        WEIGHTS,
        CRC,
        METRICS,
        META_CRC,
        NKEYS
    };
    static const char *const keys[NKEYS] = {"format",     "version",       "id",      "parents",
                                            "generation", "species",       "spec",    "nweights",
                                            "weights",    "weights_crc32", "metrics", "meta_crc32"};
    const char *what = "genome";
    const msgpack_object *v[NKEYS];
    qs_mp_doc_t doc;
    qs_genome_t t;
    memset(&t, 0, sizeof t);
    t.metrics.accuracy = t.metrics.l_sr = t.metrics.rel_err = t.metrics.r2 = NAN;
    uint64_t version;
    size_t n = 0;
    int rc = qs_mp_doc_parse(&doc, data, len, what, err);
    if (rc < 0)
        return rc;
    if ((rc = qs_mp_fields(doc.root, keys, NKEYS, v, what, err)) < 0)
        goto out;
    if (!v[FORMAT]) {
        rc = qs_error_set(err, QS_ERR(FORMAT),
                          "genome: missing field 'format' (not a quinesim genome)");
        goto out;
    }
    if (!qs_mp_str_eq(v[FORMAT], QS_GENOME_FORMAT)) {
        char got[QS_NAME_MAX];
        if (qs_mp_str(v[FORMAT], what, "format", got, sizeof got, err) < 0)
            snprintf(got, sizeof got, "?");
        rc = qs_error_set(err, QS_ERR(FORMAT), "genome: field 'format' is '%s', expected '%s'", got,
                          QS_GENOME_FORMAT);
        goto out;
    }
    if ((rc = qs_mp_u64(v[VERSION], what, "version", 1, UINT64_MAX, &version, err)) < 0)
        goto out;
    if (version > QS_GENOME_VERSION) {
        rc = qs_error_set(err, QS_ERR(VERSION),
                          "genome: format version %llu is newer than this build supports "
                          "(version %d)",
                          (unsigned long long)version, QS_GENOME_VERSION);
        goto out;
    }
    const msgpack_object *parents;
    size_t nparents;
    if ((rc = qs_mp_u64(v[ID], what, "id", 0, UINT64_MAX, &t.id, err)) < 0 ||
        (rc = qs_mp_array(v[PARENTS], what, "parents", &parents, &nparents, err)) < 0)
        goto out;
    if (nparents > QS_MAX_PARENTS) {
        rc = qs_error_set(err, QS_ERR(RANGE), "genome: field 'parents' has %zu entries, at most %d",
                          nparents, QS_MAX_PARENTS);
        goto out;
    }
    t.nparents = (uint32_t)nparents;
    for (size_t i = 0; i < nparents; i++)
        if ((rc = qs_mp_u64(&parents[i], what, "parents[]", 0, UINT64_MAX, &t.parents[i], err)) < 0)
            goto out;
    if ((rc = qs_mp_u32(v[GENERATION], what, "generation", 0, UINT32_MAX, &t.generation, err)) <
            0 ||
        (rc = qs_mp_str(v[SPECIES], what, "species", t.species, sizeof t.species, err)) < 0 ||
        (rc = qs_mp_read_spec(v[SPEC], "genome: spec", &t.spec, &n, err)) < 0)
        goto out;
    if (v[NWEIGHTS]) { /* redundant with the spec; if present it must agree */
        uint32_t nw;
        if ((rc = qs_mp_u32(v[NWEIGHTS], what, "nweights", 0, UINT32_MAX, &nw, err)) < 0)
            goto out;
        if (nw != n) {
            char sp[96];
            spec_str(&t.spec, sp, sizeof sp);
            rc = qs_error_set(err, QS_ERR(MISMATCH),
                              "genome: field 'nweights' is %u, spec %s needs %zu", nw, sp, n);
            goto out;
        }
    }
    const uint8_t *wb;
    size_t wlen;
    uint32_t crc;
    if ((rc = qs_mp_bin(v[WEIGHTS], what, "weights", -1, &wb, &wlen, err)) < 0 ||
        (rc = qs_mp_u32(v[CRC], what, "weights_crc32", 0, UINT32_MAX, &crc, err)) < 0)
        goto out;
    if (wlen != n * 4) {
        char sp[96];
        spec_str(&t.spec, sp, sizeof sp);
        rc = qs_error_set(err, QS_ERR(MISMATCH),
                          "genome: field 'weights' has %zu bytes, spec %s needs %zu", wlen, sp,
                          n * 4);
        goto out;
    }
    uint32_t got = qs_crc32(wb, wlen);
    if (got != crc) {
        rc = qs_error_set(err, QS_ERR(CHECKSUM),
                          "genome: weights checksum mismatch (stored %08x, computed %08x)", crc,
                          got);
        goto out;
    }
    if (v[METRICS] && v[METRICS]->type != MSGPACK_OBJECT_NIL &&
        (rc = read_metrics(v[METRICS], &t.metrics, err)) < 0)
        goto out;
    t.nweights = (uint32_t)n;
    if (version >= 2) { /* version 1 files have no metadata checksum */
        uint32_t stored, want = meta_crc(&t);
        if ((rc = qs_mp_u32(v[META_CRC], what, "meta_crc32", 0, UINT32_MAX, &stored, err)) < 0)
            goto out;
        if (stored != want) {
            rc = qs_error_set(err, QS_ERR(CHECKSUM),
                              "genome: metadata checksum mismatch (stored %08x, computed %08x): "
                              "id, parents, generation, species, spec or metrics were altered",
                              stored, want);
            goto out;
        }
    }
    t.weights = xmalloc(wlen);
    qs_mp_load_floats(t.weights, wb, n);
    *g = t;
out:
    qs_mp_doc_release(&doc);
    return rc;
}

int qs_genome_save(const qs_genome_t *g, const char *path, qs_error_t *err)
{
    qs_bytes_t b;
    qs_bytes_init(&b);
    qs_genome_encode(g, &b);
    int rc = qs_write_file_atomic(path, b.data, b.len, err);
    qs_bytes_destroy(&b);
    return rc;
}

int qs_genome_load(qs_genome_t *g, const char *path, qs_error_t *err)
{
    qs_bytes_t b;
    qs_bytes_init(&b);
    int rc = qs_file_read_all(path, QS_GENOME_MAX_BYTES, &b, err);
    if (rc < 0)
        goto out;
    if (b.len == 0) {
        rc = qs_error_set(err, QS_ERR(FORMAT), "%s: empty file, not a genome", path);
        goto out;
    }
    if (b.len >= 4 && memcmp(b.data, QS_FRAME_MAGIC, 4) == 0) {
        rc = qs_error_set(err, QS_ERR(FORMAT),
                          "%s: a framed quinesim file (lineage log or checkpoint), not a genome "
                          "(see 'quinesim inspect')",
                          path);
        goto out;
    }
    if ((rc = qs_genome_decode(g, b.data, b.len, err)) < 0)
        qs_error_prefix(err, "%s", path);
out:
    qs_bytes_destroy(&b);
    return rc;
}
