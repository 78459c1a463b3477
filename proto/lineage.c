/* lineage: the records of a run's lineage log (header, birth, eval, death, generation,
 * end) and a reader that tells a clean end from a torn tail and survives corruption in
 * the middle of a file. Field tables in proto/PROTOCOL.md.
 *
 * The reader streams the file through a frame reader. When a frame is bad (wrong magic,
 * impossible length, checksum mismatch, or cut short by the end of the file) it looks
 * for the next offset after the bad frame's start where a whole, checksum-correct frame
 * begins. Found: the stretch in between was corruption in the middle; it is reported and
 * reading continues there. Not found: the rest of the file is a torn tail. */
#include "proto/lineage.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "proto/mp.h"

/* ---- Names ------------------------------------------------------------------------------ */

static const char *const rec_names[] = {NULL,    "header",     "birth", "eval",
                                        "death", "generation", "end"};
enum { QS_REC_LAST = QS_REC_END };

const char *qs_rec_type_name(qs_rec_type_t t)
{
    return (unsigned)t <= QS_REC_LAST ? rec_names[t] : NULL;
}

const char *qs_death_cause_name(qs_death_cause_t c)
{
    switch (c) {
    case QS_DEATH_SELECTION:
        return "selection";
    case QS_DEATH_CAPACITY:
        return "capacity";
    case QS_DEATH_BUDGET:
        return "budget";
    case QS_DEATH_END:
        return "end";
    }
    return NULL;
}

static const char *nm_cause(int i)
{
    return qs_death_cause_name((qs_death_cause_t)i);
}

static const char *nm_mode(int i)
{
    return qs_replicate_mode_name((qs_replicate_mode_t)i);
}

/* ---- Encoding ---------------------------------------------------------------------------- */

static void open_rec(msgpack_packer *pk, qs_rec_type_t t, size_t n)
{
    msgpack_pack_map(pk, n + 2);
    qs_mp_kv_str(pk, "type", rec_names[t]);
    qs_mp_kv_u64(pk, "v", QS_LINEAGE_VERSION);
}

static void pack_record(msgpack_packer *pk, const qs_record_t *r)
{
    switch (r->type) {
    case QS_REC_HEADER: {
        const qs_rec_header_t *h = &r->u.header;
        open_rec(pk, r->type, h->run_id[0] ? 8 : 6);
        qs_mp_kv_str(pk, "format", QS_LINEAGE_FORMAT);
        if (h->run_id[0]) {
            qs_mp_kv_str(pk, "run_id", h->run_id);
            qs_mp_kv_u64(pk, "scenario_crc32", h->scenario_crc32);
        }
        qs_mp_kv_str(pk, "run_name", h->run_name);
        qs_mp_kv_u64(pk, "seed", h->seed);
        qs_mp_kv_f64(pk, "created", h->created);
        qs_mp_pack_cstr(pk, "species");
        uint32_t ns = QS_MIN(h->nspecies, (uint32_t)QS_MAX_SPECIES);
        msgpack_pack_array(pk, ns);
        for (uint32_t i = 0; i < ns; i++) {
            msgpack_pack_map(pk, 2);
            qs_mp_kv_str(pk, "name", h->species[i]);
            qs_mp_kv_u64(pk, "params", h->species_params[i]);
        }
        qs_mp_kv_str(pk, "scenario", h->scenario ? h->scenario : "");
        return;
    }
    case QS_REC_BIRTH: {
        const qs_rec_birth_t *b = &r->u.birth;
        open_rec(pk, r->type,
                 8 + (b->has_link ? 1 : 0) + (b->island || b->migrant) + (b->migrant ? 1 : 0));
        qs_mp_kv_u64(pk, "id", b->id);
        qs_mp_kv_u64(pk, "parent", b->parent);
        qs_mp_kv_u64(pk, "generation", b->generation);
        qs_mp_kv_u64(pk, "species", b->species);
        qs_mp_kv_str(pk, "mode", qs_replicate_mode_name(b->mode));
        if (b->has_link) {
            qs_mp_pack_cstr(pk, "link");
            msgpack_pack_map(pk, 3);
            qs_mp_kv_f64(pk, "l_sr", b->link_l_sr);
            qs_mp_kv_f64(pk, "rel_err", b->link_rel_err);
            qs_mp_kv_f64(pk, "r2", b->link_r2);
        }
        qs_mp_kv_f64(pk, "mutation_sigma", b->mutation_sigma);
        qs_mp_kv_f64(pk, "mutation_rate", b->mutation_rate);
        qs_mp_kv_u64(pk, "mutated", b->mutated);
        if (b->island || b->migrant)
            qs_mp_kv_u64(pk, "island", b->island);
        if (b->migrant)
            qs_mp_kv_u64(pk, "origin_island", b->origin_island);
        return;
    }
    case QS_REC_EVAL: {
        const qs_rec_eval_t *e = &r->u.eval;
        open_rec(pk, r->type, 10 + (e->has_child ? 2 : 0));
        qs_mp_kv_u64(pk, "id", e->id);
        qs_mp_kv_u64(pk, "generation", e->generation);
        qs_mp_kv_f64(pk, "accuracy", e->accuracy);
        qs_mp_kv_f64(pk, "l_sr", e->l_sr);
        qs_mp_kv_f64(pk, "rel_err", e->rel_err);
        qs_mp_kv_f64(pk, "r2", e->r2);
        qs_mp_kv_bool(pk, "zero_quine", e->zero_quine);
        qs_mp_kv_u64(pk, "steps", e->steps);
        qs_mp_kv_u64(pk, "flops", e->flops);
        qs_mp_kv_f64(pk, "train_loss", e->train_loss);
        if (e->has_child) {
            qs_mp_kv_f64(pk, "child_r2", e->child_r2);
            qs_mp_kv_f64(pk, "drift2_r2", e->drift2_r2);
        }
        return;
    }
    case QS_REC_DEATH:
        open_rec(pk, r->type, 3);
        qs_mp_kv_u64(pk, "id", r->u.death.id);
        qs_mp_kv_u64(pk, "generation", r->u.death.generation);
        qs_mp_kv_str(pk, "cause", qs_death_cause_name(r->u.death.cause));
        return;
    case QS_REC_GENERATION: {
        const qs_rec_generation_t *g = &r->u.generation;
        open_rec(pk, r->type, 15);
        qs_mp_kv_u64(pk, "generation", g->generation);
        qs_mp_kv_u64(pk, "population", g->population);
        qs_mp_pack_cstr(pk, "species_count");
        uint32_t ns = QS_MIN(g->nspecies, (uint32_t)QS_MAX_SPECIES);
        msgpack_pack_array(pk, ns);
        for (uint32_t i = 0; i < ns; i++)
            msgpack_pack_uint64(pk, g->species_count[i]);
        qs_mp_kv_u64(pk, "births", g->births);
        qs_mp_kv_u64(pk, "deaths", g->deaths);
        qs_mp_kv_f64(pk, "best_accuracy", g->best_accuracy);
        qs_mp_kv_f64(pk, "mean_accuracy", g->mean_accuracy);
        qs_mp_kv_u64(pk, "best_id", g->best_id);
        qs_mp_kv_f64(pk, "mean_rel_err", g->mean_rel_err);
        qs_mp_kv_f64(pk, "mean_r2", g->mean_r2);
        qs_mp_kv_f64(pk, "mean_link_r2", g->mean_link_r2);
        qs_mp_kv_u64(pk, "flops", g->flops);
        qs_mp_kv_u64(pk, "params_alive", g->params_alive);
        qs_mp_kv_f64(pk, "wall_seconds", g->wall_seconds);
        qs_mp_kv_u64(pk, "workers", g->workers);
        return;
    }
    case QS_REC_END:
        open_rec(pk, r->type, 2);
        qs_mp_kv_u64(pk, "generations", r->u.end.generations);
        qs_mp_kv_str(pk, "reason", r->u.end.reason);
        return;
    }
}

void qs_record_encode(const qs_record_t *r, qs_bytes_t *out)
{
    if (!qs_rec_type_name(r->type))
        qs_die("lineage: cannot encode a record of unknown type %d", (int)r->type);
    size_t start = qs_frame_begin(out);
    msgpack_packer pk;
    qs_mp_packer_init(&pk, out);
    pack_record(&pk, r);
    qs_frame_finish(out, start);
}

/* ---- Decoding ---------------------------------------------------------------------------- */

static int read_header(const msgpack_object *map, qs_rec_header_t *h, qs_error_t *err)
{
    enum { FORMAT, RUN, SEED, CREATED, SPECIES, SCENARIO, RUN_ID, SC_CRC, NK };
    static const char *const keys[NK] = {"format",  "run_name", "seed",   "created",
                                         "species", "scenario", "run_id", "scenario_crc32"};
    const char *what = "lineage header";
    const msgpack_object *v[NK], *items;
    size_t n;
    const char *sc;
    int rc;
    TRY(qs_mp_fields(map, keys, NK, v, what, err));
    if (!v[FORMAT] || !qs_mp_str_eq(v[FORMAT], QS_LINEAGE_FORMAT)) {
        rc = qs_error_set(err, QS_ERR(FORMAT), "%s: field 'format' is not '%s'", what,
                          QS_LINEAGE_FORMAT);
        goto out;
    }
    TRY(qs_mp_str(v[RUN], what, "run_name", h->run_name, sizeof h->run_name, err));
    if (v[RUN_ID]) { /* logs written before run ids have none */
        TRY(qs_mp_hex(v[RUN_ID], what, "run_id", QS_RUN_ID_LEN, h->run_id, err));
        TRY(qs_mp_u32(v[SC_CRC], what, "scenario_crc32", 0, UINT32_MAX, &h->scenario_crc32, err));
    }
    TRY(qs_mp_u64(v[SEED], what, "seed", 0, UINT64_MAX, &h->seed, err));
    TRY(qs_mp_f64(v[CREATED], what, "created", &h->created, err));
    TRY(qs_mp_array(v[SPECIES], what, "species", &items, &n, err));
    if (n > QS_MAX_SPECIES) {
        rc = qs_error_set(err, QS_ERR(RANGE), "%s: field 'species' has %zu entries, at most %d",
                          what, n, QS_MAX_SPECIES);
        goto out;
    }
    h->nspecies = (uint32_t)n;
    for (size_t i = 0; i < n; i++) {
        static const char *const skeys[] = {"name", "params"};
        const msgpack_object *sv[2];
        char sw[48];
        snprintf(sw, sizeof sw, "%s: species[%zu]", what, i);
        TRY(qs_mp_fields(&items[i], skeys, 2, sv, sw, err));
        TRY(qs_mp_str(sv[0], sw, "name", h->species[i], sizeof h->species[i], err));
        TRY(qs_mp_u64(sv[1], sw, "params", 0, UINT32_MAX, &h->species_params[i], err));
    }
    TRY(qs_mp_str_view(v[SCENARIO], what, "scenario", &sc, &n, err));
    h->scenario = xmalloc(n + 1);
    memcpy(h->scenario, sc, n);
    h->scenario[n] = '\0';
    h->version = QS_LINEAGE_VERSION;
out:
    return rc;
}

static int read_birth(const msgpack_object *map, qs_rec_birth_t *b, qs_error_t *err)
{
    enum { ID, PARENT, GEN, SPECIES, MODE, LINK, SIGMA, RATE, MUTATED, ISLAND, ORIGIN, NK };
    static const char *const keys[NK] = {"id",      "parent", "generation",     "species",
                                         "mode",    "link",   "mutation_sigma", "mutation_rate",
                                         "mutated", "island", "origin_island"};
    const char *what = "birth";
    const msgpack_object *v[NK];
    int mode = 0, rc;
    TRY(qs_mp_fields(map, keys, NK, v, what, err));
    TRY(qs_mp_u64(v[ID], what, "id", 0, UINT64_MAX, &b->id, err));
    TRY(qs_mp_u64(v[PARENT], what, "parent", 0, UINT64_MAX, &b->parent, err));
    TRY(qs_mp_u32(v[GEN], what, "generation", 0, UINT32_MAX, &b->generation, err));
    TRY(qs_mp_u32(v[SPECIES], what, "species", 0, QS_MAX_SPECIES - 1, &b->species, err));
    TRY(qs_mp_enum(v[MODE], what, "mode", nm_mode, 0, 64, &mode, err));
    b->mode = (qs_replicate_mode_t)mode;
    if (v[LINK] && v[LINK]->type != MSGPACK_OBJECT_NIL) {
        static const char *const lkeys[] = {"l_sr", "rel_err", "r2"};
        const msgpack_object *lv[3];
        TRY(qs_mp_fields(v[LINK], lkeys, 3, lv, "birth: link", err));
        TRY(qs_mp_f64(lv[0], "birth: link", "l_sr", &b->link_l_sr, err));
        TRY(qs_mp_f64(lv[1], "birth: link", "rel_err", &b->link_rel_err, err));
        TRY(qs_mp_f64(lv[2], "birth: link", "r2", &b->link_r2, err));
        b->has_link = 1;
    } else {
        b->link_l_sr = b->link_rel_err = b->link_r2 = NAN;
    }
    TRY(qs_mp_f64_range(v[SIGMA], what, "mutation_sigma", 0, 1e9, &b->mutation_sigma, err));
    TRY(qs_mp_f64_range(v[RATE], what, "mutation_rate", 0, 1, &b->mutation_rate, err));
    TRY(qs_mp_u32(v[MUTATED], what, "mutated", 0, UINT32_MAX, &b->mutated, err));
    b->island = b->origin_island = 0;
    b->migrant = 0;
    if (v[ISLAND])
        TRY(qs_mp_u32(v[ISLAND], what, "island", 0, UINT32_MAX, &b->island, err));
    if (v[ORIGIN]) {
        TRY(qs_mp_u32(v[ORIGIN], what, "origin_island", 0, UINT32_MAX, &b->origin_island, err));
        b->migrant = 1;
    }
out:
    return rc;
}

static int read_eval(const msgpack_object *map, qs_rec_eval_t *e, qs_error_t *err)
{
    enum { ID, GEN, ACC, LSR, REL, R2, ZERO, STEPS, FLOPS, LOSS, CHILD, DRIFT2, NK };
    static const char *const keys[NK] = {"id",      "generation", "accuracy",   "l_sr",
                                         "rel_err", "r2",         "zero_quine", "steps",
                                         "flops",   "train_loss", "child_r2",   "drift2_r2"};
    const char *what = "eval";
    const msgpack_object *v[NK];
    int rc;
    TRY(qs_mp_fields(map, keys, NK, v, what, err));
    TRY(qs_mp_u64(v[ID], what, "id", 0, UINT64_MAX, &e->id, err));
    TRY(qs_mp_u32(v[GEN], what, "generation", 0, UINT32_MAX, &e->generation, err));
    TRY(qs_mp_accuracy(v[ACC], what, "accuracy", &e->accuracy, err));
    TRY(qs_mp_f64(v[LSR], what, "l_sr", &e->l_sr, err));
    TRY(qs_mp_f64(v[REL], what, "rel_err", &e->rel_err, err));
    TRY(qs_mp_f64(v[R2], what, "r2", &e->r2, err));
    TRY(qs_mp_bool(v[ZERO], what, "zero_quine", &e->zero_quine, err));
    TRY(qs_mp_u64(v[STEPS], what, "steps", 0, UINT64_MAX, &e->steps, err));
    TRY(qs_mp_u64(v[FLOPS], what, "flops", 0, UINT64_MAX, &e->flops, err));
    TRY(qs_mp_f64(v[LOSS], what, "train_loss", &e->train_loss, err));
    e->child_r2 = e->drift2_r2 = NAN;
    e->has_child = v[CHILD] != NULL;
    if (e->has_child) { /* both or neither */
        TRY(qs_mp_f64(v[CHILD], what, "child_r2", &e->child_r2, err));
        TRY(qs_mp_f64(v[DRIFT2], what, "drift2_r2", &e->drift2_r2, err));
    }
out:
    return rc;
}

static int read_death(const msgpack_object *map, qs_rec_death_t *d, qs_error_t *err)
{
    static const char *const keys[] = {"id", "generation", "cause"};
    const msgpack_object *v[3];
    int cause = 0, rc;
    TRY(qs_mp_fields(map, keys, 3, v, "death", err));
    TRY(qs_mp_u64(v[0], "death", "id", 0, UINT64_MAX, &d->id, err));
    TRY(qs_mp_u32(v[1], "death", "generation", 0, UINT32_MAX, &d->generation, err));
    TRY(qs_mp_enum(v[2], "death", "cause", nm_cause, 1, 64, &cause, err));
    d->cause = (qs_death_cause_t)cause;
out:
    return rc;
}

static int read_generation(const msgpack_object *map, qs_rec_generation_t *g, qs_error_t *err)
{
    enum {
        GEN,
        POP,
        COUNTS,
        BIRTHS,
        DEATHS,
        BEST_ACC,
        MEAN_ACC,
        BEST_ID,
        MEAN_REL,
        MEAN_R2,
        MEAN_LINK,
        FLOPS,
        PARAMS,
        WALL,
        WORKERS,
        NK
    };
    static const char *const keys[NK] = {
        "generation",    "population",    "species_count", "births",       "deaths",
        "best_accuracy", "mean_accuracy", "best_id",       "mean_rel_err", "mean_r2",
        "mean_link_r2",  "flops",         "params_alive",  "wall_seconds", "workers"};
    const char *what = "generation";
    const msgpack_object *v[NK], *items;
    size_t n;
    int rc;
    TRY(qs_mp_fields(map, keys, NK, v, what, err));
    TRY(qs_mp_u32(v[GEN], what, "generation", 0, UINT32_MAX, &g->generation, err));
    TRY(qs_mp_u32(v[POP], what, "population", 0, UINT32_MAX, &g->population, err));
    TRY(qs_mp_array(v[COUNTS], what, "species_count", &items, &n, err));
    if (n > QS_MAX_SPECIES) {
        rc = qs_error_set(err, QS_ERR(RANGE),
                          "generation: field 'species_count' has %zu entries, at most %d", n,
                          QS_MAX_SPECIES);
        goto out;
    }
    g->nspecies = (uint32_t)n;
    for (size_t i = 0; i < n; i++)
        TRY(qs_mp_u32(&items[i], what, "species_count[]", 0, UINT32_MAX, &g->species_count[i],
                      err));
    TRY(qs_mp_u32(v[BIRTHS], what, "births", 0, UINT32_MAX, &g->births, err));
    TRY(qs_mp_u32(v[DEATHS], what, "deaths", 0, UINT32_MAX, &g->deaths, err));
    TRY(qs_mp_accuracy(v[BEST_ACC], what, "best_accuracy", &g->best_accuracy, err));
    TRY(qs_mp_accuracy(v[MEAN_ACC], what, "mean_accuracy", &g->mean_accuracy, err));
    TRY(qs_mp_u64(v[BEST_ID], what, "best_id", 0, UINT64_MAX, &g->best_id, err));
    TRY(qs_mp_f64(v[MEAN_REL], what, "mean_rel_err", &g->mean_rel_err, err));
    TRY(qs_mp_f64(v[MEAN_R2], what, "mean_r2", &g->mean_r2, err));
    TRY(qs_mp_f64(v[MEAN_LINK], what, "mean_link_r2", &g->mean_link_r2, err));
    TRY(qs_mp_u64(v[FLOPS], what, "flops", 0, UINT64_MAX, &g->flops, err));
    TRY(qs_mp_u64(v[PARAMS], what, "params_alive", 0, UINT64_MAX, &g->params_alive, err));
    TRY(qs_mp_f64_range(v[WALL], what, "wall_seconds", 0, 1e12, &g->wall_seconds, err));
    TRY(qs_mp_u32(v[WORKERS], what, "workers", 0, UINT32_MAX, &g->workers, err));
out:
    return rc;
}

static int read_end(const msgpack_object *map, qs_rec_end_t *e, qs_error_t *err)
{
    static const char *const keys[] = {"generations", "reason"};
    const msgpack_object *v[2];
    int rc;
    TRY(qs_mp_fields(map, keys, 2, v, "end", err));
    TRY(qs_mp_u32(v[0], "end", "generations", 0, UINT32_MAX, &e->generations, err));
    TRY(qs_mp_str(v[1], "end", "reason", e->reason, sizeof e->reason, err));
out:
    return rc;
}

int qs_record_decode(qs_record_t *r, const uint8_t *payload, size_t len, qs_error_t *err)
{
    static const qs_mp_kind_t kind = {.what = "lineage record",
                                      .version_of = "version",
                                      .verb = "reads",
                                      .names = rec_names,
                                      .last = QS_REC_LAST,
                                      .version = QS_LINEAGE_VERSION};
    qs_mp_doc_t doc;
    qs_record_t t;
    memset(&t, 0, sizeof t);
    int type = 0;
    int rc = qs_mp_doc_parse(&doc, payload, len, "lineage record", err);
    if (rc < 0)
        return rc;
    TRY(qs_mp_typed_head(doc.root, &kind, &type, err));
    t.type = (qs_rec_type_t)type;
    switch (t.type) {
    case QS_REC_HEADER:
        TRY(read_header(doc.root, &t.u.header, err));
        break;
    case QS_REC_BIRTH:
        TRY(read_birth(doc.root, &t.u.birth, err));
        break;
    case QS_REC_EVAL:
        TRY(read_eval(doc.root, &t.u.eval, err));
        break;
    case QS_REC_DEATH:
        TRY(read_death(doc.root, &t.u.death, err));
        break;
    case QS_REC_GENERATION:
        TRY(read_generation(doc.root, &t.u.generation, err));
        break;
    case QS_REC_END:
        TRY(read_end(doc.root, &t.u.end, err));
        break;
    }
    *r = t;
    memset(&t, 0, sizeof t);
out:
    qs_record_destroy(&t);
    qs_mp_doc_release(&doc);
    return rc;
}

void qs_record_destroy(qs_record_t *r)
{
    if (r->type == QS_REC_HEADER)
        free(r->u.header.scenario);
    memset(r, 0, sizeof *r);
}

/* ---- Reader ------------------------------------------------------------------------------ */

int qs_lineage_open(qs_lineage_reader_t *rd, const char *path, qs_error_t *err)
{
    memset(rd, 0, sizeof *rd);
    if (strlen(path) >= sizeof rd->path)
        return qs_error_set(err, QS_ERR(INVAL), "%s: path too long", path);
    if (!(rd->f = qs_fopen_regular(path, NULL, err)))
        return err ? err->code : QS_ERR(IO);
    snprintf(rd->path, sizeof rd->path, "%s", path);
    qs_frame_reader_init(&rd->frames, QS_LINEAGE_MAX_RECORD);
    return 0;
}

void qs_lineage_close(qs_lineage_reader_t *rd)
{
    if (rd->f)
        fclose(rd->f);
    qs_frame_reader_destroy(&rd->frames);
    rd->f = NULL;
}

static int read_failed(qs_lineage_reader_t *rd, qs_error_t *err)
{
    rd->failed = QS_ERR(IO);
    return qs_error_set(err, QS_ERR(IO), "%s: read error: %s", rd->path, strerror(errno));
}

/* Position the stream at file offset off (buffer emptied, frame reader reset). */
static int seek_to(qs_lineage_reader_t *rd, uint64_t off)
{
    if (fseeko(rd->f, (off_t)off, SEEK_SET) != 0)
        return -1;
    rd->buf_pos = off;
    rd->buf_len = rd->buf_off = 0;
    rd->eof = 0;
    rd->frame_start = off;
    qs_frame_reader_reset(&rd->frames);
    return 0;
}

/* Is there a whole, checksum-correct frame at file offset off? */
static int frame_at(qs_lineage_reader_t *rd, uint64_t off, qs_bytes_t *tmp)
{
    uint8_t h[QS_FRAME_HEADER];
    if (fseeko(rd->f, (off_t)off, SEEK_SET) != 0 || fread(h, 1, sizeof h, rd->f) != sizeof h)
        return 0;
    if (memcmp(h, QS_FRAME_MAGIC, 4) != 0)
        return 0;
    uint32_t len = qs_load_le32(h + 4);
    if (len > rd->frames.max_payload)
        return 0;
    qs_bytes_clear(tmp);
    /* read in pieces, so that a length beyond the end costs only what is there */
    while (tmp->len < len) {
        size_t want = QS_MIN((size_t)len - tmp->len, (size_t)1 << 16);
        qs_bytes_reserve(tmp, want);
        size_t got = fread(tmp->data + tmp->len, 1, want, rd->f);
        tmp->len += got;
        if (got < want)
            return 0;
    }
    return qs_crc32(tmp->data, len) == qs_load_le32(h + 8);
}

/* After a bad frame starting at rd->frame_start: find the next good frame after it.
 * 1 and *next set, 0 if none (a torn tail), -1 on a read error. */
static int resync(qs_lineage_reader_t *rd, uint64_t *next)
{
    uint8_t chunk[65536 + 3];
    qs_bytes_t tmp;
    qs_bytes_init(&tmp);
    uint64_t off = rd->frame_start + 1; /* file offset of chunk[0] */
    int found = 0;
    for (;;) {
        if (fseeko(rd->f, (off_t)off, SEEK_SET) != 0) {
            found = -1;
            break;
        }
        size_t n = fread(chunk, 1, sizeof chunk, rd->f);
        if (ferror(rd->f)) {
            found = -1;
            break;
        }
        if (n < 4)
            break;
        for (size_t i = 0; i + 4 <= n; i++) {
            if (memcmp(chunk + i, QS_FRAME_MAGIC, 4) != 0)
                continue;
            if (frame_at(rd, off + i, &tmp)) {
                *next = off + i;
                found = 1;
                goto out;
            }
        }
        off += n - 3; /* keep 3 bytes of overlap for a magic across chunks */
    }
out:
    qs_bytes_destroy(&tmp);
    return found;
}

/* A bad frame at rd->frame_start (why: err's message from the frame reader, or "cut
 * short by the end of the file"): report it as a torn tail or as mid-file corruption and
 * position the reader after it. */
static int bad_frame(qs_lineage_reader_t *rd, int code, qs_error_t *err)
{
    char why[sizeof err->msg];
    snprintf(why, sizeof why, "%s", err ? err->msg : "");
    uint64_t bad = rd->frame_start, next = 0;
    int found = resync(rd, &next);
    if (found < 0)
        return read_failed(rd, err);
    if (!found && bad == 0 && code == QS_ERR(FORMAT)) {
        rd->done = 1;
        return qs_error_set(err, QS_ERR(FORMAT),
                            "%s: not a quinesim lineage log (%s, and no record anywhere after it)",
                            rd->path, why);
    }
    if (!found) {
        off_t end;
        if (fseeko(rd->f, 0, SEEK_END) != 0 || (end = ftello(rd->f)) < 0)
            return read_failed(rd, err);
        rd->done = 1;
        rd->skipped += (uint64_t)end - bad;
        rd->corrupt++;
        return qs_error_set(err, QS_ERR(TRUNCATED),
                            "%s: torn tail at offset %" PRIu64 ": %" PRIu64
                            " bytes after the last complete record skipped (%s); the %" PRIu64
                            " records before it are intact",
                            rd->path, bad, (uint64_t)end - bad, why, rd->records);
    }
    if (seek_to(rd, next) != 0)
        return read_failed(rd, err);
    rd->skipped += next - bad;
    rd->corrupt++;
    return qs_error_set(err, code == QS_ERR(TRUNCATED) ? QS_ERR(FORMAT) : code,
                        "%s: corrupt data at offset %" PRIu64 " (%s): %" PRIu64
                        " bytes skipped to the next good record at offset %" PRIu64,
                        rd->path, bad, why, next - bad, next);
}

int qs_lineage_next(qs_lineage_reader_t *rd, qs_record_t *r, qs_error_t *err)
{
    if (rd->failed)
        return qs_error_set(err, rd->failed, "%s: reading already failed", rd->path);
    if (rd->done || !rd->f)
        return 0;
    for (;;) {
        if (rd->buf_off == rd->buf_len) {
            if (rd->eof) {
                if (qs_frame_reader_pending(&rd->frames) == 0) {
                    rd->done = 1;
                    return 0;
                }
                if (rd->frames.head_got < QS_FRAME_HEADER)
                    qs_error_set(err, QS_ERR(TRUNCATED),
                                 "frame header cut short by the end of "
                                 "the file");
                else
                    qs_error_set(err, QS_ERR(TRUNCATED),
                                 "frame claims %u payload bytes, the file ends after %zu",
                                 rd->frames.need, rd->frames.payload.len);
                return bad_frame(rd, QS_ERR(TRUNCATED), err);
            }
            rd->buf_pos += rd->buf_len;
            rd->buf_off = 0;
            rd->buf_len = fread(rd->buf, 1, sizeof rd->buf, rd->f);
            if (rd->buf_len < sizeof rd->buf) {
                if (ferror(rd->f))
                    return read_failed(rd, err);
                rd->eof = 1;
            }
            continue;
        }
        size_t used = 0, plen = 0;
        const uint8_t *p = NULL;
        int rc = qs_frame_reader_feed(&rd->frames, rd->buf + rd->buf_off, rd->buf_len - rd->buf_off,
                                      &used, &p, &plen, err);
        rd->buf_off += used;
        if (rc < 0)
            return bad_frame(rd, rc, err);
        if (rc == 0)
            continue;
        uint64_t at = rd->frame_start;
        rd->good_bytes = rd->frame_start = rd->buf_pos + rd->buf_off;
        rc = qs_record_decode(r, p, plen, err);
        if (rc < 0) {
            rd->corrupt++;
            qs_error_prefix(err, "%s: record at offset %" PRIu64, rd->path, at);
            return rc;
        }
        rd->records++;
        return 1;
    }
}
