/* checkpoint: encode, decode, save and load a run's checkpoint. Field table in
 * proto/PROTOCOL.md. */
#include "proto/checkpoint.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <assert.h>

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

/* The fields every checkpoint document starts with, whole or in parts: what it is, whose
 * run, and which boundary. */
static void pack_identity(msgpack_packer *pk, const qs_checkpoint_t *c, unsigned version)
{
    qs_mp_kv_str(pk, "format", QS_CHECKPOINT_FORMAT);
    qs_mp_kv_u64(pk, "version", version);
    if (c->run_id[0]) {
        qs_mp_kv_str(pk, "run_id", c->run_id);
        qs_mp_kv_u64(pk, "run_scenario_crc32", c->run_scenario_crc32);
    }
    qs_mp_kv_str(pk, "scenario", c->scenario ? c->scenario : "");
    qs_mp_kv_u64(pk, "seed", c->seed);
    qs_mp_kv_u64(pk, "generation", c->generation);
    qs_mp_kv_bool(pk, "finished", c->finished);
}

/* Then the run's time and where its files end at this boundary (what --resume cuts to). */
static void pack_files(msgpack_packer *pk, const qs_checkpoint_t *c)
{
    qs_mp_kv_f64(pk, "wall_seconds", c->wall_seconds);
    qs_mp_kv_u64(pk, "off_lineage", c->off_lineage);
    qs_mp_kv_u64(pk, "off_phylogeny", c->off_phylogeny);
    qs_mp_kv_u64(pk, "off_generations", c->off_generations);
    if (c->off_archive)
        qs_mp_kv_u64(pk, "off_archive", c->off_archive);
}

void qs_checkpoint_encode(const qs_checkpoint_t *c, qs_bytes_t *out)
{
    qs_bytes_t body;
    qs_bytes_init(&body);
    msgpack_packer pk;
    qs_mp_packer_init(&pk, &body);
    msgpack_pack_map(&pk, (c->has_best ? 17 : 15) + (c->run_id[0] ? 2 : 0) +
                              (c->off_archive ? 1 : 0) + (c->nislands ? 1 : 0));
    pack_identity(&pk, c, QS_CHECKPOINT_VERSION);
    qs_mp_kv_u64(&pk, "next_id", c->next_id);
    qs_mp_kv_u64(&pk, "births", c->births);
    qs_mp_kv_u64(&pk, "deaths", c->deaths);
    qs_mp_kv_u64(&pk, "flops_total", c->flops_total);
    pack_files(&pk, c);
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

/* A whole checkpoint's plan ("orgs", in id order), best and islands into t. */
static int read_plan(const msgpack_object *vorgs, const msgpack_object *vbest_gen,
                     const msgpack_object *vbest, const msgpack_object *vislands,
                     qs_checkpoint_t *t, qs_error_t *err)
{
    const char *what = "checkpoint";
    const msgpack_object *orgs;
    size_t norgs;
    int rc;
    if ((rc = qs_mp_array(vorgs, what, "orgs", &orgs, &norgs, err)) < 0)
        return rc;
    t->orgs = xcalloc(norgs ? norgs : 1, sizeof *t->orgs);
    for (size_t i = 0; i < norgs; i++) {
        if ((rc = read_org(&orgs[i], "checkpoint: orgs[]", &t->orgs[i], err)) < 0)
            return rc;
        t->norgs = (uint32_t)(i + 1);
        if (i > 0 && t->orgs[i].id <= t->orgs[i - 1].id)
            return qs_error_set(err, QS_ERR(FORMAT), "checkpoint: organisms not in id order");
    }
    if (vbest && vbest->type != MSGPACK_OBJECT_NIL) {
        if ((rc = qs_mp_u32(vbest_gen, what, "best_generation", 0, UINT32_MAX, &t->best_generation,
                            err)) < 0 ||
            (rc = read_org(vbest, "checkpoint: best", &t->best, err)) < 0)
            return rc;
        t->has_best = 1;
    }
    if (vislands && (rc = read_islands(vislands, t, err)) < 0)
        return rc;
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

/* Long (130 lines, 55 of them the key table) for a reason: a flat decoder, one check per
 * field of proto/PROTOCOL.md section 7 that reads top to bottom; the organisms and the
 * islands are already read apart (read_org, read_islands). A head (version 2, head != NULL)
 * has no counters, organisms, best or islands: *parts frames follow it in the file (its
 * islands' states), *best_island (UINT32_MAX: none) holding the run's best. */
static int decode_doc(qs_checkpoint_t *c, const uint8_t *payload, size_t len, uint32_t *parts,
                      uint32_t *best_island, qs_error_t *err)
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
        PARTS,
        BEST_ISLAND,
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
                                            "islands",
                                            "parts",
                                            "best_island"};
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
    if (version > QS_CHECKPOINT_VERSION_PARTS) {
        rc = qs_error_set(err, QS_ERR(VERSION),
                          "checkpoint: format version %llu is newer than this build supports "
                          "(versions %d and %d)",
                          (unsigned long long)version, QS_CHECKPOINT_VERSION,
                          QS_CHECKPOINT_VERSION_PARTS);
        goto out;
    }
    int head = version == QS_CHECKPOINT_VERSION_PARTS;
    if (head && !parts) {
        rc = qs_error_set(err, QS_ERR(FORMAT),
                          "checkpoint: a head of version %d, whose islands' states follow it "
                          "in its file, where one whole checkpoint was expected",
                          QS_CHECKPOINT_VERSION_PARTS);
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
        (!head &&
         ((rc = qs_mp_u64(v[NEXT_ID], what, "next_id", 1, UINT64_MAX, &t.next_id, err)) < 0 ||
          (rc = qs_mp_u64(v[BIRTHS], what, "births", 0, UINT64_MAX, &t.births, err)) < 0 ||
          (rc = qs_mp_u64(v[DEATHS], what, "deaths", 0, UINT64_MAX, &t.deaths, err)) < 0 ||
          (rc = qs_mp_u64(v[FLOPS], what, "flops_total", 0, UINT64_MAX, &t.flops_total, err)) <
              0)) ||
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
    if (head) {
        *best_island = UINT32_MAX;
        if ((rc = qs_mp_u32(v[PARTS], what, "parts", 1, QS_CHECKPOINT_MAX_PARTS, parts, err)) < 0 ||
            (v[BEST_ISLAND] && (rc = qs_mp_u32(v[BEST_ISLAND], what, "best_island", 0, *parts - 1,
                                               best_island, err)) < 0))
            goto out;
    } else if ((rc = read_plan(v[ORGS], v[BEST_GEN], v[BEST], v[ISLANDS], &t, err)) < 0) {
        goto out;
    }
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

int qs_checkpoint_decode(qs_checkpoint_t *c, const uint8_t *payload, size_t len, qs_error_t *err)
{
    return decode_doc(c, payload, len, NULL, NULL, err);
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

/* ---- a checkpoint in parts ---------------------------------------------------------------- */

/* The head of a checkpoint in parts: what is known before the islands' states arrive. */
static void encode_head(const qs_checkpoint_t *c, uint32_t parts, uint32_t best_island,
                        qs_bytes_t *out)
{
    qs_bytes_t body;
    qs_bytes_init(&body);
    msgpack_packer pk;
    qs_mp_packer_init(&pk, &body);
    msgpack_pack_map(&pk, 12 + (c->run_id[0] ? 2 : 0) + (c->off_archive ? 1 : 0) +
                              (best_island != UINT32_MAX ? 1 : 0));
    pack_identity(&pk, c, QS_CHECKPOINT_VERSION_PARTS);
    pack_files(&pk, c);
    qs_mp_kv_u64(&pk, "parts", parts);
    if (best_island != UINT32_MAX)
        qs_mp_kv_u64(&pk, "best_island", best_island);
    qs_mp_pack_cstr(&pk, "orgs"); /* none here: for readers that list them */
    msgpack_pack_array(&pk, 0);
    qs_frame_append(out, body.data, body.len);
    qs_bytes_destroy(&body);
}

static int io_error(int e, const char *path, const char *what, qs_error_t *err)
{
    return qs_error_set(err, e == ENOSPC ? QS_ERR(NOSPC) : QS_ERR(IO), "%s: %s: %s", path, what,
                        strerror(e));
}

static int write_all(qs_checkpoint_writer_t *w, const uint8_t *p, size_t len, qs_error_t *err)
{
    while (len > 0) {
        ssize_t n = write(w->fd, p, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            int rc = io_error(errno, w->tmp, "write", err);
            qs_checkpoint_writer_abort(w);
            return rc;
        }
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

int qs_checkpoint_writer_open(qs_checkpoint_writer_t *w, const char *path, const qs_checkpoint_t *c,
                              uint32_t parts, uint32_t best_island, qs_error_t *err)
{
    assert(parts >= 1 && parts <= QS_CHECKPOINT_MAX_PARTS);
    assert(best_island == UINT32_MAX || best_island < parts);
    memset(w, 0, sizeof *w);
    w->fd = -1;
    w->parts = parts;
    size_t cap = strlen(path) + 32;
    w->path = xstrdup(path);
    w->tmp = xmalloc(cap);
    snprintf(w->tmp, cap, "%s.tmp.%ld", path, (long)getpid());
    w->fd = open(w->tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (w->fd < 0) {
        int rc = io_error(errno, w->tmp, "cannot create", err);
        qs_checkpoint_writer_abort(w);
        return rc;
    }
    qs_bytes_t b;
    qs_bytes_init(&b);
    encode_head(c, parts, best_island, &b);
    int rc = write_all(w, b.data, b.len, err);
    qs_bytes_destroy(&b);
    return rc;
}

int qs_checkpoint_writer_part(qs_checkpoint_writer_t *w, const uint8_t *frame, size_t len,
                              qs_error_t *err)
{
    assert(w->fd >= 0 && w->written < w->parts);
    w->written++;
    return write_all(w, frame, len, err);
}

int qs_checkpoint_writer_commit(qs_checkpoint_writer_t *w, qs_error_t *err)
{
    assert(w->fd >= 0 && w->written == w->parts);
    int rc = 0;
    if (fsync(w->fd) != 0)
        rc = io_error(errno, w->tmp, "fsync", err);
    else if (close(w->fd) != 0) {
        w->fd = -1;
        rc = io_error(errno, w->tmp, "close", err);
    } else {
        w->fd = -1;
        if (rename(w->tmp, w->path) != 0)
            rc = io_error(errno, w->path, "rename", err);
    }
    if (rc < 0) {
        qs_checkpoint_writer_abort(w);
        return rc;
    }
    rc = qs_fsync_parent(w->path, err);
    free(w->path);
    free(w->tmp);
    memset(w, 0, sizeof *w);
    w->fd = -1;
    return rc;
}

void qs_checkpoint_writer_abort(qs_checkpoint_writer_t *w)
{
    if (!w->tmp) /* closed (or never opened: zeroed) */
        return;
    if (w->fd >= 0)
        close(w->fd);
    unlink(w->tmp);
    free(w->path);
    free(w->tmp);
    memset(w, 0, sizeof *w);
    w->fd = -1;
}

int qs_checkpoint_writer_is_open(const qs_checkpoint_writer_t *w)
{
    return w->tmp != NULL;
}

/* ---- reading ------------------------------------------------------------------------------- */

static int by_id(const void *a, const void *b)
{
    uint64_t x = ((const qs_ckpt_org_t *)a)->id, y = ((const qs_ckpt_org_t *)b)->id;
    return x < y ? -1 : x > y;
}

/* The island a part is of: its organisms' ids and its next id are (id - 1) mod n. */
static uint32_t part_island(const qs_checkpoint_t *p, uint32_t n)
{
    return n > 1 ? (uint32_t)((p->next_id - 1) % n) : 0;
}

/* A part decoded (from a whole frame) and checked against its head. */
static int decode_part(const qs_checkpoint_t *head, uint32_t n, const uint8_t *payload, size_t plen,
                       qs_checkpoint_t *p, uint32_t *island, qs_error_t *err)
{
    int rc = decode_doc(p, payload, plen, NULL, NULL, err);
    if (rc < 0)
        return qs_error_prefix(err, "checkpoint: an island's state");
    *island = part_island(p, n);
    if (p->nislands || p->generation != head->generation)
        rc = qs_error_set(err, QS_ERR(FORMAT),
                          "checkpoint: an island's state of generation %u (the head's: %u)%s",
                          p->generation, head->generation, p->nislands ? ", with islands" : "");
    for (uint32_t i = 0; i < p->norgs && rc == 0; i++)
        if (n > 1 && (p->orgs[i].id - 1) % n != *island)
            rc = qs_error_set(err, QS_ERR(FORMAT),
                              "checkpoint: organism %llu in the state of island %u",
                              (unsigned long long)p->orgs[i].id, *island);
    if (rc < 0)
        qs_checkpoint_destroy(p);
    return rc < 0 ? rc : 0;
}

/* The parts (every island once) into head, as a whole checkpoint holds them. */
static void merge_parts(qs_checkpoint_t *c, qs_checkpoint_t *part, uint32_t n, uint32_t best)
{
    if (n > 1) {
        c->nislands = n;
        c->islands = xcalloc(n, sizeof *c->islands);
    }
    for (uint32_t k = 0; k < n; k++) {
        c->norgs += part[k].norgs;
        c->next_id = QS_MAX(c->next_id, part[k].next_id);
        c->births += part[k].births;
        c->deaths += part[k].deaths;
        c->flops_total += part[k].flops_total;
        if (n > 1)
            c->islands[k] = (qs_ckpt_island_t){.next_id = part[k].next_id,
                                               .births = part[k].births,
                                               .deaths = part[k].deaths,
                                               .flops_total = part[k].flops_total};
    }
    free(c->orgs);
    c->orgs = xcalloc(c->norgs ? c->norgs : 1, sizeof *c->orgs);
    uint32_t w = 0;
    for (uint32_t k = 0; k < n; k++) {
        for (uint32_t i = 0; i < part[k].norgs; i++)
            c->orgs[w++] = part[k].orgs[i];
        part[k].norgs = 0; /* moved */
    }
    qsort(c->orgs, c->norgs, sizeof *c->orgs, by_id);
    if (best != UINT32_MAX && part[best].has_best) {
        c->has_best = 1;
        c->best_generation = part[best].best_generation;
        c->best = part[best].best;
        part[best].best.weights = NULL; /* moved */
    }
}

/* The parts following head in data[0..len) (the file after the head's frame). */
static int load_parts(qs_checkpoint_t *c, uint32_t n, uint32_t best, const uint8_t *data,
                      size_t len, qs_error_t *err)
{
    qs_checkpoint_t *part = xcalloc(n, sizeof *part);
    int rc = 0;
    uint32_t got = 0;
    while (got < n && rc == 0) {
        const uint8_t *payload;
        size_t plen, flen;
        uint32_t k;
        qs_checkpoint_t p;
        rc = qs_frame_parse(data, len, CKPT_MAX_BYTES, &payload, &plen, &flen, err);
        if (rc == 0)
            rc = qs_error_set(err, QS_ERR(TRUNCATED),
                              "checkpoint: %u of its %u islands' states, then the end", got, n);
        if (rc < 0 || (rc = decode_part(c, n, payload, plen, &p, &k, err)) < 0)
            break;
        if (part[k].next_id) { /* decoded already: every part has next_id >= 1 */
            qs_checkpoint_destroy(&p);
            rc = qs_error_set(err, QS_ERR(FORMAT), "checkpoint: island %u's state twice", k);
            break;
        }
        part[k] = p;
        got++;
        data += flen;
        len -= flen;
    }
    if (rc == 0 && len > 0)
        rc = qs_error_set(err, QS_ERR(FORMAT), "checkpoint: %zu bytes after its %u parts", len, n);
    if (rc == 0)
        merge_parts(c, part, n, best);
    for (uint32_t k = 0; k < n; k++)
        qs_checkpoint_destroy(&part[k]);
    free(part);
    return rc;
}

int qs_checkpoint_load(qs_checkpoint_t *c, const char *path, qs_error_t *err)
{
    qs_bytes_t b;
    qs_bytes_init(&b);
    qs_checkpoint_t t;
    memset(&t, 0, sizeof t);
    int rc = qs_file_read_all(path, CKPT_MAX_BYTES, &b, err);
    if (rc < 0) {
        qs_bytes_destroy(&b);
        return rc;
    }
    const uint8_t *payload;
    size_t plen, flen;
    rc = qs_frame_parse(b.data, b.len, CKPT_MAX_BYTES, &payload, &plen, &flen, err);
    if (rc == 0) {
        rc = qs_error_set(err, QS_ERR(TRUNCATED),
                          "%s: truncated checkpoint (%zu bytes; the frame is incomplete)", path,
                          b.len);
        goto out;
    }
    if (rc < 0)
        goto out;
    uint32_t parts = 0, best = UINT32_MAX;
    if ((rc = decode_doc(&t, payload, plen, &parts, &best, err)) < 0)
        goto out;
    if (parts)
        rc = load_parts(&t, parts, best, b.data + flen, b.len - flen, err);
    else if (flen != b.len)
        rc = qs_error_set(err, QS_ERR(FORMAT), "%s: %zu bytes after the checkpoint frame", path,
                          b.len - flen);
    if (rc < 0)
        goto out;
    *c = t;
    memset(&t, 0, sizeof t);
    rc = 0;
out:
    if (rc < 0 && strncmp(err->msg, path, strlen(path)) != 0)
        qs_error_prefix(err, "%s", path);
    qs_checkpoint_destroy(&t);
    qs_bytes_destroy(&b);
    return rc;
}

/* The next frame of f (left: the bytes of f not read yet) into b: its length checked
 * against what is left before anything is allocated, then its checksum. 0 at the end. */
static int read_frame(FILE *f, const char *path, uint64_t *left, qs_bytes_t *b,
                      const uint8_t **payload, size_t *plen, qs_error_t *err)
{
    uint8_t h[QS_FRAME_HEADER];
    if (*left == 0)
        return 0;
    if (*left < QS_FRAME_HEADER || fread(h, 1, sizeof h, f) != sizeof h)
        return qs_error_set(err, QS_ERR(TRUNCATED), "%s: a frame cut short", path);
    uint32_t len =
        (uint32_t)h[4] | (uint32_t)h[5] << 8 | (uint32_t)h[6] << 16 | (uint32_t)h[7] << 24;
    if ((uint64_t)len > *left - QS_FRAME_HEADER)
        return qs_error_set(err, QS_ERR(TRUNCATED),
                            "%s: a frame of %u bytes with %llu left in the file", path, len,
                            (unsigned long long)(*left - QS_FRAME_HEADER));
    qs_bytes_clear(b);
    qs_bytes_append(b, h, sizeof h);
    qs_bytes_reserve(b, len);
    if (fread(b->data + QS_FRAME_HEADER, 1, len, f) != len)
        return qs_error_set(err, QS_ERR(IO), "%s: read: %s", path, strerror(errno));
    b->len = QS_FRAME_HEADER + (size_t)len;
    *left -= b->len;
    size_t flen;
    int rc = qs_frame_parse(b->data, b->len, CKPT_MAX_BYTES, payload, plen, &flen, err);
    if (rc < 0)
        return qs_error_prefix(err, "%s", path);
    return 1;
}

/* Island k's part of a whole checkpoint c (of n islands), as one frame into out. */
static void island_of_whole(const qs_checkpoint_t *c, uint32_t k, uint32_t n, qs_bytes_t *out)
{
    qs_checkpoint_t v = *c;
    v.scenario = NULL;
    v.nislands = 0;
    v.islands = NULL;
    if (n > 1) {
        v.next_id = c->islands[k].next_id;
        v.births = c->islands[k].births;
        v.deaths = c->islands[k].deaths;
        v.flops_total = c->islands[k].flops_total;
        v.orgs = xcalloc(c->norgs ? c->norgs : 1, sizeof *v.orgs);
        v.norgs = 0;
        for (uint32_t i = 0; i < c->norgs; i++)
            if ((c->orgs[i].id - 1) % n == k)
                v.orgs[v.norgs++] = c->orgs[i];
        v.has_best = c->has_best && (c->best.id - 1) % n == k;
    }
    qs_bytes_clear(out);
    qs_checkpoint_encode(&v, out);
    if (n > 1)
        free(v.orgs);
}

int qs_checkpoint_load_island(const char *path, uint32_t k, uint32_t nislands, int as_sent,
                              qs_bytes_t *out, uint32_t *generation, qs_error_t *err)
{
    struct stat st;
    qs_bytes_t b;
    qs_bytes_init(&b);
    qs_checkpoint_t head, p;
    memset(&head, 0, sizeof head);
    FILE *f = qs_fopen_regular(path, &st, err);
    if (!f) {
        qs_bytes_destroy(&b);
        return err->code ? err->code : QS_ERR(IO);
    }
    uint64_t left = (uint64_t)st.st_size;
    const uint8_t *payload;
    size_t plen;
    uint32_t parts = 0, best = UINT32_MAX, island;
    int rc = read_frame(f, path, &left, &b, &payload, &plen, err);
    if (rc == 0)
        rc = qs_error_set(err, QS_ERR(TRUNCATED), "%s: empty", path);
    if (rc < 0 || (rc = decode_doc(&head, payload, plen, &parts, &best, err)) < 0)
        goto out;
    *generation = head.generation;
    if (!parts) { /* a whole checkpoint: read whole */
        if (left > 0) {
            rc = qs_error_set(err, QS_ERR(FORMAT), "%s: bytes after the checkpoint frame", path);
            goto out;
        }
        if ((nislands > 1 && head.nislands != nislands) || (nislands == 1 && head.nislands)) {
            rc = qs_error_set(err, QS_ERR(FORMAT), "%s: %u islands, not %u", path, head.nislands,
                              nislands);
            goto out;
        }
        island_of_whole(&head, k, nislands, out);
        rc = 0;
        goto out;
    }
    if (parts != nislands) {
        rc = qs_error_set(err, QS_ERR(FORMAT), "%s: %u islands' states, not %u", path, parts,
                          nislands);
        goto out;
    }
    for (uint32_t i = 0; i < parts; i++) {
        rc = read_frame(f, path, &left, &b, &payload, &plen, err);
        if (rc == 0)
            rc = qs_error_set(err, QS_ERR(TRUNCATED), "%s: %u of its %u islands' states", path, i,
                              parts);
        if (rc < 0 || (rc = decode_part(&head, parts, payload, plen, &p, &island, err)) < 0)
            goto out;
        int mine = island == k;
        if (mine && as_sent) {
            qs_bytes_clear(out);
            qs_bytes_append(out, b.data, b.len);
            qs_checkpoint_destroy(&p);
            rc = 0;
            goto out;
        }
        if (mine && best != k && p.has_best) { /* the run's best is elsewhere */
            free(p.best.weights);
            memset(&p.best, 0, sizeof p.best);
            p.has_best = 0;
        }
        if (mine) {
            free(p.scenario);
            p.scenario = NULL;
            qs_bytes_clear(out);
            qs_checkpoint_encode(&p, out);
        }
        qs_checkpoint_destroy(&p);
        if (mine) {
            rc = 0;
            goto out;
        }
    }
    rc = qs_error_set(err, QS_ERR(FORMAT), "%s: no state of island %u", path, k);
out:
    fclose(f);
    qs_checkpoint_destroy(&head);
    qs_bytes_destroy(&b);
    return rc;
}
