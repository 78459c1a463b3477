/* checkpoint: encode, decode, save and load a run's checkpoint. Field table in
 * proto/PROTOCOL.md. */
#include "proto/checkpoint.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "proto/file.h"
#include "proto/mp.h"

#define CKPT_MAX_BYTES    ((size_t)64 << 30)
#define CKPT_MAX_SCENARIO ((size_t)16 << 20)

static void pack_org(msgpack_packer *pk, const qs_ckpt_org_t *o)
{
    msgpack_pack_map(pk, 13);
    qs_mp_kv_u64(pk, "id", o->id);
    qs_mp_kv_u64(pk, "parent", o->parent);
    qs_mp_kv_u64(pk, "species", o->species);
    qs_mp_kv_u64(pk, "born", o->born);
    qs_mp_kv_bool(pk, "newborn", o->newborn);
    qs_mp_kv_f64(pk, "prior_fitness", o->prior_fitness);
    qs_mp_kv_u64(pk, "flops_total", o->flops_total);
    qs_mp_kv_f64(pk, "accuracy", o->accuracy);
    qs_mp_kv_f64(pk, "fitness", o->fitness);
    qs_mp_pack_cstr(pk, "fidelity");
    qs_mp_pack_fidelity(pk, &o->fidelity);
    qs_mp_kv_floats(pk, "weights", o->weights, o->nweights);
    qs_mp_kv_u64(pk, "weights_crc32", qs_crc32(o->weights, (size_t)o->nweights * 4));
    qs_mp_kv_u64(pk, "nweights", o->nweights);
}

void qs_checkpoint_encode(const qs_checkpoint_t *c, qs_bytes_t *out)
{
    qs_bytes_t body;
    qs_bytes_init(&body);
    msgpack_packer pk;
    qs_mp_packer_init(&pk, &body);
    msgpack_pack_map(&pk, (c->has_best ? 17 : 15) + (c->run_id[0] ? 2 : 0) +
                              (c->off_archive ? 1 : 0) + (c->nislands ? 1 : 0));
    qs_mp_kv_str(&pk, "format", QS_CHECKPOINT_FORMAT);
    qs_mp_kv_u64(&pk, "version", QS_CHECKPOINT_VERSION);
    if (c->run_id[0]) {
        qs_mp_kv_str(&pk, "run_id", c->run_id);
        qs_mp_kv_u64(&pk, "run_scenario_crc32", c->run_scenario_crc32);
    }
    qs_mp_kv_str(&pk, "scenario", c->scenario ? c->scenario : "");
    qs_mp_kv_u64(&pk, "seed", c->seed);
    qs_mp_kv_u64(&pk, "generation", c->generation);
    qs_mp_kv_bool(&pk, "finished", c->finished);
    qs_mp_kv_u64(&pk, "next_id", c->next_id);
    qs_mp_kv_u64(&pk, "births", c->births);
    qs_mp_kv_u64(&pk, "deaths", c->deaths);
    qs_mp_kv_u64(&pk, "flops_total", c->flops_total);
    qs_mp_kv_f64(&pk, "wall_seconds", c->wall_seconds);
    qs_mp_kv_u64(&pk, "off_lineage", c->off_lineage);
    qs_mp_kv_u64(&pk, "off_phylogeny", c->off_phylogeny);
    qs_mp_kv_u64(&pk, "off_generations", c->off_generations);
    if (c->off_archive)
        qs_mp_kv_u64(&pk, "off_archive", c->off_archive);
    qs_mp_pack_cstr(&pk, "orgs");
    msgpack_pack_array(&pk, c->norgs);
    for (uint32_t i = 0; i < c->norgs; i++)
        pack_org(&pk, &c->orgs[i]);
    if (c->has_best) {
        qs_mp_kv_u64(&pk, "best_generation", c->best_generation);
        qs_mp_pack_cstr(&pk, "best");
        pack_org(&pk, &c->best);
    }
    if (c->nislands) {
        qs_mp_pack_cstr(&pk, "islands");
        msgpack_pack_array(&pk, c->nislands);
        for (uint32_t k = 0; k < c->nislands; k++) {
            msgpack_pack_map(&pk, 4);
            qs_mp_kv_u64(&pk, "next_id", c->islands[k].next_id);
            qs_mp_kv_u64(&pk, "births", c->islands[k].births);
            qs_mp_kv_u64(&pk, "deaths", c->islands[k].deaths);
            qs_mp_kv_u64(&pk, "flops_total", c->islands[k].flops_total);
        }
    }
    qs_frame_append(out, body.data, body.len);
    qs_bytes_destroy(&body);
}

static int read_org(const msgpack_object *o, const char *what, qs_ckpt_org_t *out, qs_error_t *err)
{
    enum {
        ID,
        PARENT,
        SPECIES,
        BORN,
        NEWBORN,
        PRIOR,
        FLOPS,
        ACC,
        FIT,
        FID,
        WEIGHTS,
        CRC,
        NW,
        NKEYS
    };
    static const char *const keys[NKEYS] = {
        "id",          "parent",   "species", "born",     "newborn", "prior_fitness",
        "flops_total", "accuracy", "fitness", "fidelity", "weights", "weights_crc32",
        "nweights"};
    const msgpack_object *v[NKEYS];
    qs_ckpt_org_t t;
    memset(&t, 0, sizeof t);
    const uint8_t *wb;
    size_t wlen;
    uint32_t crc, nw;
    int rc;
    if ((rc = qs_mp_map(o, what, "orgs[]", err)) < 0 ||
        (rc = qs_mp_fields(o, keys, NKEYS, v, what, err)) < 0 ||
        (rc = qs_mp_u64(v[ID], what, "id", 1, UINT64_MAX, &t.id, err)) < 0 ||
        (rc = qs_mp_u64(v[PARENT], what, "parent", 0, UINT64_MAX, &t.parent, err)) < 0 ||
        (rc = qs_mp_u32(v[SPECIES], what, "species", 0, 255, &t.species, err)) < 0 ||
        (rc = qs_mp_u32(v[BORN], what, "born", 0, UINT32_MAX, &t.born, err)) < 0 ||
        (rc = qs_mp_bool(v[NEWBORN], what, "newborn", &t.newborn, err)) < 0 ||
        (rc = qs_mp_f64(v[PRIOR], what, "prior_fitness", &t.prior_fitness, err)) < 0 ||
        (rc = qs_mp_u64(v[FLOPS], what, "flops_total", 0, UINT64_MAX, &t.flops_total, err)) < 0 ||
        (rc = qs_mp_f64(v[ACC], what, "accuracy", &t.accuracy, err)) < 0 ||
        (rc = qs_mp_f64(v[FIT], what, "fitness", &t.fitness, err)) < 0 ||
        (rc = qs_mp_map(v[FID], what, "fidelity", err)) < 0 ||
        (rc = qs_mp_read_fidelity(v[FID], what, &t.fidelity, err)) < 0 ||
        (rc = qs_mp_u32(v[NW], what, "nweights", 1, UINT32_MAX / 4, &nw, err)) < 0 ||
        (rc = qs_mp_bin(v[WEIGHTS], what, "weights", (long long)nw * 4, &wb, &wlen, err)) < 0 ||
        (rc = qs_mp_u32(v[CRC], what, "weights_crc32", 0, UINT32_MAX, &crc, err)) < 0)
        return rc;
    uint32_t got = qs_crc32(wb, wlen);
    if (got != crc)
        return qs_error_set(err, QS_ERR(CHECKSUM),
                            "%s: weights of organism %llu fail their checksum (stored %08x, "
                            "computed %08x)",
                            what, (unsigned long long)t.id, crc, got);
    t.nweights = nw;
    t.weights = xmalloc(wlen);
    qs_mp_load_floats(t.weights, wb, nw);
    *out = t;
    return 0;
}

/* "islands": one map of counters per island (absent: one population). */
static int read_islands(const msgpack_object *o, qs_checkpoint_t *t, qs_error_t *err)
{
    static const char *const keys[] = {"next_id", "births", "deaths", "flops_total"};
    const char *what = "checkpoint: islands[]";
    const msgpack_object *items;
    size_t n;
    int rc = qs_mp_array(o, "checkpoint", "islands", &items, &n, err);
    if (rc < 0)
        return rc;
    if (n < 2 || n > UINT32_MAX)
        return qs_error_set(err, QS_ERR(FORMAT), "checkpoint: %zu islands (at least 2 if any)", n);
    t->islands = xcalloc(n, sizeof *t->islands);
    t->nislands = (uint32_t)n;
    for (size_t k = 0; k < n; k++) {
        const msgpack_object *v[4];
        qs_ckpt_island_t *c = &t->islands[k];
        if ((rc = qs_mp_map(&items[k], what, "islands[]", err)) < 0 ||
            (rc = qs_mp_fields(&items[k], keys, 4, v, what, err)) < 0 ||
            (rc = qs_mp_u64(v[0], what, "next_id", 1, UINT64_MAX, &c->next_id, err)) < 0 ||
            (rc = qs_mp_u64(v[1], what, "births", 0, UINT64_MAX, &c->births, err)) < 0 ||
            (rc = qs_mp_u64(v[2], what, "deaths", 0, UINT64_MAX, &c->deaths, err)) < 0 ||
            (rc = qs_mp_u64(v[3], what, "flops_total", 0, UINT64_MAX, &c->flops_total, err)) < 0)
            return rc;
    }
    return 0;
}

void qs_checkpoint_destroy(qs_checkpoint_t *c)
{
    for (uint32_t i = 0; i < c->norgs; i++)
        free(c->orgs[i].weights);
    free(c->orgs);
    free(c->best.weights);
    free(c->scenario);
    free(c->islands);
    memset(c, 0, sizeof *c);
}

/* Long (136 lines, 50 of them the key table) for a reason: a flat decoder, one check per
 * field of proto/PROTOCOL.md section 7 that reads top to bottom; the organisms and the
 * islands are already read apart (read_org, read_islands). */
int qs_checkpoint_decode(qs_checkpoint_t *c, const uint8_t *payload, size_t len, qs_error_t *err)
{
    enum {
        FORMAT,
        VERSION,
        SCENARIO,
        SEED,
        GENERATION,
        FINISHED,
        NEXT_ID,
        BIRTHS,
        DEATHS,
        FLOPS,
        WALL,
        OFF_L,
        OFF_P,
        OFF_G,
        ORGS,
        BEST_GEN,
        BEST,
        RUN_ID,
        RUN_SC_CRC,
        OFF_A,
        ISLANDS,
        NKEYS
    };
    static const char *const keys[NKEYS] = {"format",
                                            "version",
                                            "scenario",
                                            "seed",
                                            "generation",
                                            "finished",
                                            "next_id",
                                            "births",
                                            "deaths",
                                            "flops_total",
                                            "wall_seconds",
                                            "off_lineage",
                                            "off_phylogeny",
                                            "off_generations",
                                            "orgs",
                                            "best_generation",
                                            "best",
                                            "run_id",
                                            "run_scenario_crc32",
                                            "off_archive",
                                            "islands"};
    const char *what = "checkpoint";
    const msgpack_object *v[NKEYS];
    qs_mp_doc_t doc;
    qs_checkpoint_t t;
    memset(&t, 0, sizeof t);
    uint64_t version;
    int rc = qs_mp_doc_parse(&doc, payload, len, what, err);
    if (rc < 0)
        return rc;
    if ((rc = qs_mp_fields(doc.root, keys, NKEYS, v, what, err)) < 0)
        goto out;
    if (!v[FORMAT] || !qs_mp_str_eq(v[FORMAT], QS_CHECKPOINT_FORMAT)) {
        rc = qs_error_set(err, QS_ERR(FORMAT), "checkpoint: field 'format' is not '%s'",
                          QS_CHECKPOINT_FORMAT);
        goto out;
    }
    if ((rc = qs_mp_u64(v[VERSION], what, "version", 1, UINT64_MAX, &version, err)) < 0)
        goto out;
    if (version > QS_CHECKPOINT_VERSION) {
        rc = qs_error_set(err, QS_ERR(VERSION),
                          "checkpoint: format version %llu is newer than this build supports "
                          "(version %d)",
                          (unsigned long long)version, QS_CHECKPOINT_VERSION);
        goto out;
    }
    const char *sp;
    size_t slen;
    if ((rc = qs_mp_str_view(v[SCENARIO], what, "scenario", &sp, &slen, err)) < 0)
        goto out;
    if (slen > CKPT_MAX_SCENARIO) {
        rc = qs_error_set(err, QS_ERR(TOOBIG), "checkpoint: scenario text of %zu bytes", slen);
        goto out;
    }
    if ((rc = qs_mp_u64(v[SEED], what, "seed", 0, UINT64_MAX, &t.seed, err)) < 0 ||
        (rc = qs_mp_u32(v[GENERATION], what, "generation", 0, UINT32_MAX, &t.generation, err)) <
            0 ||
        (rc = qs_mp_bool(v[FINISHED], what, "finished", &t.finished, err)) < 0 ||
        (rc = qs_mp_u64(v[NEXT_ID], what, "next_id", 1, UINT64_MAX, &t.next_id, err)) < 0 ||
        (rc = qs_mp_u64(v[BIRTHS], what, "births", 0, UINT64_MAX, &t.births, err)) < 0 ||
        (rc = qs_mp_u64(v[DEATHS], what, "deaths", 0, UINT64_MAX, &t.deaths, err)) < 0 ||
        (rc = qs_mp_u64(v[FLOPS], what, "flops_total", 0, UINT64_MAX, &t.flops_total, err)) < 0 ||
        (rc = qs_mp_f64(v[WALL], what, "wall_seconds", &t.wall_seconds, err)) < 0 ||
        (rc = qs_mp_u64(v[OFF_L], what, "off_lineage", 0, UINT64_MAX, &t.off_lineage, err)) < 0 ||
        (rc = qs_mp_u64(v[OFF_P], what, "off_phylogeny", 0, UINT64_MAX, &t.off_phylogeny, err)) <
            0 ||
        (rc = qs_mp_u64(v[OFF_G], what, "off_generations", 0, UINT64_MAX, &t.off_generations,
                        err)) < 0)
        goto out;
    if (v[RUN_ID] && /* checkpoints written before run ids have none */
        ((rc = qs_mp_hex(v[RUN_ID], what, "run_id", QS_RUN_ID_LEN, t.run_id, err)) < 0 ||
         (rc = qs_mp_u32(v[RUN_SC_CRC], what, "run_scenario_crc32", 0, UINT32_MAX,
                         &t.run_scenario_crc32, err)) < 0))
        goto out;
    if (v[OFF_A] && /* absent: the run keeps no archive */
        (rc = qs_mp_u64(v[OFF_A], what, "off_archive", 0, UINT64_MAX, &t.off_archive, err)) < 0)
        goto out;
    const msgpack_object *orgs;
    size_t norgs;
    if ((rc = qs_mp_array(v[ORGS], what, "orgs", &orgs, &norgs, err)) < 0)
        goto out;
    t.orgs = xcalloc(norgs ? norgs : 1, sizeof *t.orgs);
    for (size_t i = 0; i < norgs; i++) {
        if ((rc = read_org(&orgs[i], "checkpoint: orgs[]", &t.orgs[i], err)) < 0)
            goto out;
        t.norgs = (uint32_t)(i + 1);
        if (i > 0 && t.orgs[i].id <= t.orgs[i - 1].id) {
            rc = qs_error_set(err, QS_ERR(FORMAT), "checkpoint: organisms not in id order");
            goto out;
        }
    }
    if (v[BEST] && v[BEST]->type != MSGPACK_OBJECT_NIL) {
        if ((rc = qs_mp_u32(v[BEST_GEN], what, "best_generation", 0, UINT32_MAX, &t.best_generation,
                            err)) < 0 ||
            (rc = read_org(v[BEST], "checkpoint: best", &t.best, err)) < 0)
            goto out;
        t.has_best = 1;
    }
    if (v[ISLANDS] && (rc = read_islands(v[ISLANDS], &t, err)) < 0)
        goto out;
    t.scenario = xmalloc(slen + 1);
    memcpy(t.scenario, sp, slen);
    t.scenario[slen] = '\0';
    *c = t;
    memset(&t, 0, sizeof t);
out:
    qs_checkpoint_destroy(&t);
    qs_mp_doc_release(&doc);
    return rc;
}

int qs_checkpoint_save(const qs_checkpoint_t *c, const char *path, qs_error_t *err)
{
    qs_bytes_t b;
    qs_bytes_init(&b);
    qs_checkpoint_encode(c, &b);
    int rc = qs_write_file_atomic(path, b.data, b.len, err);
    qs_bytes_destroy(&b);
    return rc;
}

int qs_checkpoint_decode_frame(qs_checkpoint_t *c, const uint8_t *data, size_t len, qs_error_t *err)
{
    const uint8_t *payload;
    size_t plen, flen;
    int rc = qs_frame_parse(data, len, CKPT_MAX_BYTES, &payload, &plen, &flen, err);
    if (rc == 0)
        return qs_error_set(err, QS_ERR(TRUNCATED), "genomes: a checkpoint frame cut short");
    if (rc < 0)
        return rc;
    if (flen != len)
        return qs_error_set(err, QS_ERR(FORMAT), "genomes: %zu bytes after the checkpoint frame",
                            len - flen);
    rc = qs_checkpoint_decode(c, payload, plen, err);
    return rc < 0 ? rc : 0;
}

void qs_checkpoint_encode_orgs(const qs_ckpt_org_t *orgs, uint32_t n, qs_bytes_t *out)
{
    for (uint32_t i = 0; i < n; i++) {
        qs_checkpoint_t c;
        memset(&c, 0, sizeof c);
        c.next_id = orgs[i].id + 1;
        c.norgs = 1;
        c.orgs = (qs_ckpt_org_t *)&orgs[i];
        qs_checkpoint_encode(&c, out);
    }
}

void qs_checkpoint_orgs_free(qs_ckpt_org_t *orgs, uint32_t n)
{
    for (uint32_t i = 0; orgs && i < n; i++)
        free(orgs[i].weights);
    free(orgs);
}

int qs_checkpoint_decode_orgs(const uint8_t *data, size_t len, uint32_t max, qs_ckpt_org_t **orgs,
                              uint32_t *n, qs_error_t *err)
{
    *orgs = xcalloc(max ? max : 1, sizeof **orgs);
    *n = 0;
    int rc = 0;
    while (len > 0 && rc == 0) {
        const uint8_t *payload;
        size_t plen, flen;
        rc = qs_frame_parse(data, len, CKPT_MAX_BYTES, &payload, &plen, &flen, err);
        if (rc == 0) {
            rc = qs_error_set(err, QS_ERR(TRUNCATED), "genomes: an organism's frame cut short");
            break;
        }
        if (rc < 0)
            break;
        qs_checkpoint_t c;
        if ((rc = qs_checkpoint_decode(&c, payload, plen, err)) < 0)
            break;
        if (c.norgs != 1 || *n == max)
            rc = qs_error_set(err, QS_ERR(FORMAT), "genomes: %s",
                              c.norgs != 1 ? "a frame that holds no single organism"
                                           : "more organisms than expected");
        else {
            (*orgs)[(*n)++] = c.orgs[0];
            c.orgs[0].weights = NULL; /* moved */
        }
        qs_checkpoint_destroy(&c);
        data += flen;
        len -= flen;
        rc = rc < 0 ? rc : 0;
    }
    if (rc < 0) {
        qs_checkpoint_orgs_free(*orgs, *n);
        *orgs = NULL;
        *n = 0;
    }
    return rc;
}

int qs_checkpoint_load(qs_checkpoint_t *c, const char *path, qs_error_t *err)
{
    qs_bytes_t b;
    qs_bytes_init(&b);
    qs_frame_reader_t fr;
    qs_frame_reader_init(&fr, CKPT_MAX_BYTES);
    int rc = qs_file_read_all(path, CKPT_MAX_BYTES, &b, err);
    if (rc < 0)
        goto out;
    size_t used = 0, plen = 0;
    const uint8_t *payload = NULL;
    rc = qs_frame_reader_feed(&fr, b.data, b.len, &used, &payload, &plen, err);
    if (rc == 0) {
        rc = qs_error_set(err, QS_ERR(TRUNCATED),
                          "%s: truncated checkpoint (%zu bytes; the frame is incomplete)", path,
                          b.len);
        goto out;
    }
    if (rc < 0) {
        qs_error_prefix(err, "%s", path);
        goto out;
    }
    if (used != b.len) {
        rc = qs_error_set(err, QS_ERR(FORMAT), "%s: %zu bytes after the checkpoint frame", path,
                          b.len - used);
        goto out;
    }
    if ((rc = qs_checkpoint_decode(c, payload, plen, err)) < 0)
        qs_error_prefix(err, "%s", path);
    else
        rc = 0;
out:
    qs_frame_reader_destroy(&fr);
    qs_bytes_destroy(&b);
    return rc;
}
