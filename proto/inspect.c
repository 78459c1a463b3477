/* inspect: recognise a quinesim file by its content and print it as JSON (see
 * inspect.h). To add a file type, write a printer and add a line to `formats` below. */
#include "proto/inspect.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "proto/archive.h"
#include "proto/checkpoint.h"
#include "proto/file.h"
#include "proto/mp.h"

static int print_genome(const char *path, const qs_inspect_opts_t *opts, FILE *out, FILE *warn,
                        qs_error_t *err);
static int print_lineage(const char *path, const qs_inspect_opts_t *opts, FILE *out, FILE *warn,
                         qs_error_t *err);
static int print_checkpoint(const char *path, const qs_inspect_opts_t *opts, FILE *out, FILE *warn,
                            qs_error_t *err);
static int print_archive(const char *path, const qs_inspect_opts_t *opts, FILE *out, FILE *warn,
                         qs_error_t *err);

static const qs_inspect_format_t formats[] = {
    {QS_GENOME_FORMAT, 0, print_genome},
    {QS_LINEAGE_FORMAT, 1, print_lineage},
    {QS_CHECKPOINT_FORMAT, 1, print_checkpoint},
    {QS_ARCHIVE_FORMAT, 1, print_archive},
};

const qs_inspect_format_t *qs_inspect_formats(size_t *n)
{
    *n = QS_ARRAY_LEN(formats);
    return formats;
}

/* ---- JSON forms ---------------------------------------------------------------------------- */

static void write_spec(qs_jw_t *j, const qs_quine_spec_t *s)
{
    qs_jw_begin_object(j);
    qs_jw_kv_str(j, "kind", qs_kind_name(s->kind));
    qs_jw_kv_u64(j, "hidden", s->hidden);
    qs_jw_kv_u64(j, "depth", s->depth);
    qs_jw_kv_u64(j, "classes", s->classes);
    qs_jw_kv_u64(j, "image_dim", s->image_dim);
    qs_jw_kv_str(j, "rest", qs_rest_name(s->rest));
    qs_jw_key(j, "coord_scale");
    qs_jw_f32(j, s->coord_scale);
    qs_jw_kv_u64(j, "proj_seed", s->proj_seed);
    qs_jw_end(j);
}

static void write_weight_summary(qs_jw_t *j, const float *w, uint32_t n, int all)
{
    double sum = 0, sumsq = 0, lo = INFINITY, hi = -INFINITY;
    uint64_t finite = 0;
    for (uint32_t i = 0; i < n; i++) {
        double x = w[i];
        if (!isfinite(x))
            continue;
        finite++;
        sum += x;
        lo = x < lo ? x : lo;
        hi = x > hi ? x : hi;
    }
    double mean = finite ? sum / (double)finite : NAN;
    for (uint32_t i = 0; i < n; i++)
        if (isfinite(w[i]))
            sumsq += ((double)w[i] - mean) * ((double)w[i] - mean);
    char crc[16];
    snprintf(crc, sizeof crc, "%08x", qs_crc32(w, (size_t)n * 4));
    qs_jw_begin_object(j);
    qs_jw_kv_u64(j, "count", n);
    qs_jw_kv_f64(j, "mean", mean);
    qs_jw_kv_f64(j, "std", finite ? sqrt(sumsq / (double)finite) : NAN);
    qs_jw_key(j, "min"); /* weights are float32: print them as such */
    qs_jw_f32(j, finite ? (float)lo : NAN);
    qs_jw_key(j, "max");
    qs_jw_f32(j, finite ? (float)hi : NAN);
    qs_jw_kv_u64(j, "nonfinite", n - finite);
    qs_jw_kv_str(j, "crc32", crc);
    qs_jw_kv_bool(j, "checksum_ok", 1); /* decoding verified it */
    if (all) {
        qs_jw_key(j, "values");
        qs_jw_begin_array(j);
        int indent = j->indent;
        j->indent = 0; /* the values on one line */
        for (uint32_t i = 0; i < n; i++)
            qs_jw_f32(j, w[i]);
        j->indent = indent;
        j->count[j->depth] = 0; /* close on the same line */
        qs_jw_end(j);
    }
    qs_jw_end(j);
}

void qs_genome_write_json(qs_jw_t *j, const qs_genome_t *g, int all_weights)
{
    qs_jw_begin_object(j);
    qs_jw_kv_str(j, "format", QS_GENOME_FORMAT);
    qs_jw_kv_u64(j, "version", QS_GENOME_VERSION);
    qs_jw_kv_u64(j, "id", g->id);
    qs_jw_key(j, "parents");
    qs_jw_begin_array(j);
    for (uint32_t i = 0; i < g->nparents && i < QS_MAX_PARENTS; i++)
        qs_jw_u64(j, g->parents[i]);
    qs_jw_end(j);
    qs_jw_kv_u64(j, "generation", g->generation);
    qs_jw_kv_str(j, "species", g->species);
    qs_jw_key(j, "spec");
    write_spec(j, &g->spec);
    qs_jw_key(j, "weights");
    write_weight_summary(j, g->weights, g->nweights, all_weights);
    if (g->metrics.present) {
        qs_jw_key(j, "metrics");
        qs_jw_begin_object(j);
        qs_jw_kv_f64(j, "accuracy", g->metrics.accuracy);
        qs_jw_kv_f64(j, "l_sr", g->metrics.l_sr);
        qs_jw_kv_f64(j, "rel_err", g->metrics.rel_err);
        qs_jw_kv_f64(j, "r2", g->metrics.r2);
        qs_jw_end(j);
    }
    qs_jw_end(j);
}

void qs_record_write_json(qs_jw_t *j, const qs_record_t *r)
{
    qs_jw_begin_object(j);
    qs_jw_kv_str(j, "type", qs_rec_type_name(r->type));
    switch (r->type) {
    case QS_REC_HEADER: {
        const qs_rec_header_t *h = &r->u.header;
        qs_jw_kv_str(j, "format", QS_LINEAGE_FORMAT);
        qs_jw_kv_u64(j, "version", h->version);
        qs_jw_kv_str(j, "run_name", h->run_name);
        if (h->run_id[0]) {
            qs_jw_kv_str(j, "run_id", h->run_id);
            qs_jw_kv_u64(j, "scenario_crc32", h->scenario_crc32);
        }
        qs_jw_kv_u64(j, "seed", h->seed);
        qs_jw_kv_f64(j, "created", h->created);
        qs_jw_key(j, "species");
        qs_jw_begin_array(j);
        for (uint32_t i = 0; i < h->nspecies && i < QS_MAX_SPECIES; i++) {
            qs_jw_begin_object(j);
            qs_jw_kv_str(j, "name", h->species[i]);
            qs_jw_kv_u64(j, "params", h->species_params[i]);
            qs_jw_end(j);
        }
        qs_jw_end(j);
        qs_jw_kv_str(j, "scenario", h->scenario ? h->scenario : "");
        break;
    }
    case QS_REC_BIRTH: {
        const qs_rec_birth_t *b = &r->u.birth;
        qs_jw_kv_u64(j, "id", b->id);
        qs_jw_kv_u64(j, "parent", b->parent);
        qs_jw_kv_u64(j, "generation", b->generation);
        qs_jw_kv_u64(j, "species", b->species);
        qs_jw_kv_str(j, "mode", qs_replicate_mode_name(b->mode));
        qs_jw_key(j, "link");
        if (b->has_link) {
            qs_jw_begin_object(j);
            qs_jw_kv_f64(j, "l_sr", b->link_l_sr);
            qs_jw_kv_f64(j, "rel_err", b->link_rel_err);
            qs_jw_kv_f64(j, "r2", b->link_r2);
            qs_jw_end(j);
        } else {
            qs_jw_null(j);
        }
        qs_jw_kv_f64(j, "mutation_sigma", b->mutation_sigma);
        qs_jw_kv_f64(j, "mutation_rate", b->mutation_rate);
        qs_jw_kv_u64(j, "mutated", b->mutated);
        if (b->island || b->migrant) /* [islands] only, as in the record */
            qs_jw_kv_u64(j, "island", b->island);
        if (b->migrant)
            qs_jw_kv_u64(j, "origin_island", b->origin_island);
        break;
    }
    case QS_REC_EVAL: {
        const qs_rec_eval_t *e = &r->u.eval;
        qs_jw_kv_u64(j, "id", e->id);
        qs_jw_kv_u64(j, "generation", e->generation);
        qs_jw_kv_f64(j, "accuracy", e->accuracy);
        qs_jw_kv_f64(j, "l_sr", e->l_sr);
        qs_jw_kv_f64(j, "rel_err", e->rel_err);
        qs_jw_kv_f64(j, "r2", e->r2);
        qs_jw_kv_bool(j, "zero_quine", e->zero_quine);
        qs_jw_kv_u64(j, "steps", e->steps);
        qs_jw_kv_u64(j, "flops", e->flops);
        qs_jw_kv_f64(j, "train_loss", e->train_loss);
        if (e->has_child) {
            qs_jw_kv_f64(j, "child_r2", e->child_r2);
            qs_jw_kv_f64(j, "drift2_r2", e->drift2_r2);
        }
        break;
    }
    case QS_REC_DEATH:
        qs_jw_kv_u64(j, "id", r->u.death.id);
        qs_jw_kv_u64(j, "generation", r->u.death.generation);
        qs_jw_kv_str(j, "cause", qs_death_cause_name(r->u.death.cause));
        break;
    case QS_REC_GENERATION: {
        const qs_rec_generation_t *g = &r->u.generation;
        qs_jw_kv_u64(j, "generation", g->generation);
        qs_jw_kv_u64(j, "population", g->population);
        qs_jw_key(j, "species_count");
        qs_jw_begin_array(j);
        for (uint32_t i = 0; i < g->nspecies && i < QS_MAX_SPECIES; i++)
            qs_jw_u64(j, g->species_count[i]);
        qs_jw_end(j);
        qs_jw_kv_u64(j, "births", g->births);
        qs_jw_kv_u64(j, "deaths", g->deaths);
        qs_jw_kv_f64(j, "best_accuracy", g->best_accuracy);
        qs_jw_kv_f64(j, "mean_accuracy", g->mean_accuracy);
        qs_jw_kv_u64(j, "best_id", g->best_id);
        qs_jw_kv_f64(j, "mean_rel_err", g->mean_rel_err);
        qs_jw_kv_f64(j, "mean_r2", g->mean_r2);
        qs_jw_kv_f64(j, "mean_link_r2", g->mean_link_r2);
        qs_jw_kv_u64(j, "flops", g->flops);
        qs_jw_kv_u64(j, "params_alive", g->params_alive);
        qs_jw_kv_f64(j, "wall_seconds", g->wall_seconds);
        qs_jw_kv_u64(j, "workers", g->workers);
        break;
    }
    case QS_REC_END:
        qs_jw_kv_u64(j, "generations", r->u.end.generations);
        qs_jw_kv_str(j, "reason", r->u.end.reason);
        break;
    }
    qs_jw_end(j);
}

/* ---- Printers -------------------------------------------------------------------------------- */

static int print_genome(const char *path, const qs_inspect_opts_t *opts, FILE *out, FILE *warn,
                        qs_error_t *err)
{
    (void)warn;
    qs_genome_t g;
    int rc = qs_genome_load(&g, path, err);
    if (rc < 0)
        return rc;
    qs_jw_t j;
    qs_jw_init(&j, out, 2);
    qs_genome_write_json(&j, &g, opts->weights);
    qs_jw_newline(&j);
    qs_genome_destroy(&g);
    return 0;
}

static int print_lineage(const char *path, const qs_inspect_opts_t *opts, FILE *out, FILE *warn,
                         qs_error_t *err)
{
    (void)opts;
    qs_lineage_reader_t *rd = xmalloc(sizeof *rd);
    int rc = qs_lineage_open(rd, path, err), first = 0;
    if (rc < 0)
        goto out;
    qs_jw_t j;
    qs_jw_init(&j, out, 0);
    qs_error_t e;
    for (;;) {
        qs_record_t r;
        rc = qs_lineage_next(rd, &r, &e);
        if (rc == 0)
            break;
        if (rc == QS_ERR(IO)) {
            first = qs_error_set(err, rc, "%s", e.msg);
            break;
        }
        if (rc < 0) {
            if (warn)
                fprintf(warn, "quinesim: inspect: %s\n", e.msg);
            if (!first)
                first = rc;
            continue;
        }
        qs_record_write_json(&j, &r);
        qs_jw_newline(&j);
        qs_record_destroy(&r);
        if (ferror(out)) { /* e.g. a closed pipe: stop reading */
            first = qs_error_set(err, QS_ERR(IO), "%s: cannot write the output", path);
            break;
        }
    }
    rc = first;
    if (rc < 0 && rc != QS_ERR(IO))
        qs_error_set(err, rc,
                     "%s: %" PRIu64 " records printed; %" PRIu64 " problem(s), %" PRIu64
                     " bytes skipped",
                     path, rd->records, rd->corrupt, rd->skipped);
    qs_lineage_close(rd);
out:
    free(rd);
    return rc;
}

/* An archive: JSON Lines, the header then one object per entry (the genome as its size:
 * `quinesim extract` writes it out). */
static int print_archive(const char *path, const qs_inspect_opts_t *opts, FILE *out, FILE *warn,
                         qs_error_t *err)
{
    (void)opts;
    (void)warn;
    qs_archive_reader_t rd;
    int rc = qs_archive_open(&rd, path, err);
    if (rc < 0)
        return rc;
    qs_jw_t j;
    qs_jw_init(&j, out, 0);
    qs_jw_begin_object(&j);
    qs_jw_kv_str(&j, "type", "header");
    qs_jw_kv_str(&j, "format", QS_ARCHIVE_FORMAT);
    qs_jw_kv_str(&j, "run_id", rd.header.run_id);
    qs_jw_kv_str(&j, "run_name", rd.header.run_name);
    qs_jw_kv_u64(&j, "seed", rd.header.seed);
    qs_jw_kv_str(&j, "mode", qs_archive_mode_name(rd.header.mode));
    qs_jw_kv_u64(&j, "every", rd.header.every);
    qs_jw_end(&j);
    qs_jw_newline(&j);
    qs_archive_entry_t e;
    while ((rc = qs_archive_next(&rd, &e, err)) > 0) {
        qs_jw_begin_object(&j);
        qs_jw_kv_str(&j, "type", "organism");
        qs_jw_kv_u64(&j, "generation", e.generation);
        qs_jw_kv_u64(&j, "id", e.id);
        qs_jw_kv_u64(&j, "parent", e.parent);
        qs_jw_kv_u64(&j, "born", e.born);
        qs_jw_kv_str(&j, "species", e.species);
        qs_jw_kv_f64(&j, "fitness", e.fitness);
        qs_jw_kv_f64(&j, "accuracy", e.accuracy);
        qs_jw_kv_f64(&j, "r2", e.r2);
        qs_jw_kv_u64(&j, "genome_bytes", e.genome_len);
        qs_jw_end(&j);
        qs_jw_newline(&j);
        if (ferror(out)) {
            rc = qs_error_set(err, QS_ERR(IO), "%s: cannot write the output", path);
            break;
        }
    }
    qs_archive_close(&rd);
    return rc < 0 ? rc : 0;
}

void qs_fidelity_write_json_fields(qs_jw_t *j, const qs_fidelity_t *f)
{
    qs_jw_kv_f64(j, "l_sr", f->l_sr);
    qs_jw_kv_f64(j, "margin", f->margin);
    qs_jw_kv_f64(j, "srq", f->srq);
    qs_jw_kv_f64(j, "rel_err", f->rel_err);
    qs_jw_kv_f64(j, "r2", f->r2);
    qs_jw_kv_f64(j, "rms", f->rms);
    qs_jw_kv_bool(j, "zero_quine", f->zero_quine);
}

static void write_ckpt_org(qs_jw_t *j, const qs_ckpt_org_t *o, int all_weights)
{
    qs_jw_begin_object(j);
    qs_jw_kv_u64(j, "id", o->id);
    qs_jw_kv_u64(j, "parent", o->parent);
    qs_jw_kv_u64(j, "species", o->species);
    qs_jw_kv_u64(j, "born", o->born);
    qs_jw_kv_bool(j, "newborn", o->newborn);
    qs_jw_kv_f64(j, "prior_fitness", o->prior_fitness);
    qs_jw_kv_u64(j, "flops_total", o->flops_total);
    qs_jw_kv_f64(j, "accuracy", o->accuracy);
    qs_jw_kv_f64(j, "fitness", o->fitness);
    qs_jw_key(j, "fidelity");
    qs_jw_begin_object(j);
    qs_fidelity_write_json_fields(j, &o->fidelity);
    qs_jw_end(j);
    qs_jw_key(j, "weights");
    write_weight_summary(j, o->weights, o->nweights, all_weights);
    qs_jw_end(j);
}

static int print_checkpoint(const char *path, const qs_inspect_opts_t *opts, FILE *out, FILE *warn,
                            qs_error_t *err)
{
    (void)warn;
    qs_checkpoint_t c;
    int rc = qs_checkpoint_load(&c, path, err);
    if (rc < 0)
        return rc;
    qs_jw_t j;
    qs_jw_init(&j, out, 2);
    qs_jw_begin_object(&j);
    qs_jw_kv_str(&j, "format", QS_CHECKPOINT_FORMAT);
    qs_jw_kv_u64(&j, "version", QS_CHECKPOINT_VERSION);
    if (c.run_id[0]) {
        qs_jw_kv_str(&j, "run_id", c.run_id);
        qs_jw_kv_u64(&j, "run_scenario_crc32", c.run_scenario_crc32);
    }
    qs_jw_kv_u64(&j, "seed", c.seed);
    qs_jw_kv_u64(&j, "generation", c.generation);
    qs_jw_kv_bool(&j, "finished", c.finished);
    qs_jw_kv_u64(&j, "next_id", c.next_id);
    qs_jw_kv_u64(&j, "births", c.births);
    qs_jw_kv_u64(&j, "deaths", c.deaths);
    qs_jw_kv_u64(&j, "flops_total", c.flops_total);
    qs_jw_kv_f64(&j, "wall_seconds", c.wall_seconds);
    qs_jw_kv_u64(&j, "off_lineage", c.off_lineage);
    qs_jw_kv_u64(&j, "off_phylogeny", c.off_phylogeny);
    qs_jw_kv_u64(&j, "off_generations", c.off_generations);
    qs_jw_kv_u64(&j, "off_archive", c.off_archive);
    qs_jw_key(&j, "orgs");
    qs_jw_begin_array(&j);
    for (uint32_t i = 0; i < c.norgs; i++)
        write_ckpt_org(&j, &c.orgs[i], opts->weights);
    qs_jw_end(&j);
    qs_jw_key(&j, "best");
    if (c.has_best) {
        qs_jw_begin_object(&j);
        qs_jw_kv_u64(&j, "generation", c.best_generation);
        qs_jw_key(&j, "organism");
        write_ckpt_org(&j, &c.best, opts->weights);
        qs_jw_end(&j);
    } else {
        qs_jw_null(&j);
    }
    if (c.nislands) {
        qs_jw_key(&j, "islands");
        qs_jw_begin_array(&j);
        for (uint32_t k = 0; k < c.nislands; k++) {
            qs_jw_begin_object(&j);
            qs_jw_kv_u64(&j, "next_id", c.islands[k].next_id);
            qs_jw_kv_u64(&j, "births", c.islands[k].births);
            qs_jw_kv_u64(&j, "deaths", c.islands[k].deaths);
            qs_jw_kv_u64(&j, "flops_total", c.islands[k].flops_total);
            qs_jw_end(&j);
        }
        qs_jw_end(&j);
    }
    qs_jw_kv_str(&j, "scenario", c.scenario ? c.scenario : "");
    qs_jw_end(&j);
    qs_jw_newline(&j);
    qs_checkpoint_destroy(&c);
    return 0;
}

/* ---- Recognition ----------------------------------------------------------------------------- */

int qs_inspect_peek_format(const uint8_t *data, size_t len, char *out, size_t cap, qs_error_t *err)
{
    static const char *const key = "format";
    qs_mp_doc_t doc;
    const msgpack_object *v;
    int rc = qs_mp_doc_parse(&doc, data, len, "MessagePack", err);
    if (rc < 0)
        return rc;
    if ((rc = qs_mp_fields(doc.root, &key, 1, &v, "map", err)) == 0) {
        if (!v)
            rc = qs_error_set(err, QS_ERR(FORMAT), "a MessagePack map without a 'format' field");
        else
            rc = qs_mp_str(v, "map", "format", out, cap, err);
    }
    qs_mp_doc_release(&doc);
    return rc;
}

/* The first frame's payload of a framed file (appended to b). */
static int read_first_frame(FILE *f, const char *path, qs_bytes_t *b, qs_error_t *err)
{
    uint8_t h[QS_FRAME_HEADER];
    if (fread(h, 1, sizeof h, f) != sizeof h)
        return qs_error_set(err, QS_ERR(TRUNCATED), "%s: first frame cut short", path);
    uint32_t len = qs_load_le32(h + 4);
    if (len > QS_MAX_MESSAGE_DEFAULT)
        return qs_error_set(err, QS_ERR(TOOBIG), "%s: first frame claims %u bytes", path, len);
    qs_bytes_append(b, h, sizeof h);
    while (b->len < QS_FRAME_HEADER + (size_t)len) {
        size_t want = QS_MIN(QS_FRAME_HEADER + (size_t)len - b->len, (size_t)1 << 16);
        qs_bytes_reserve(b, want);
        size_t got = fread(b->data + b->len, 1, want, f);
        b->len += got;
        if (got < want)
            return qs_error_set(err, QS_ERR(TRUNCATED), "%s: first frame cut short", path);
    }
    return 0;
}

int qs_inspect_file(const char *path, const qs_inspect_opts_t *opts, FILE *out, FILE *warn,
                    qs_error_t *err)
{
    qs_bytes_t b;
    qs_bytes_init(&b);
    char fmt[QS_NAME_MAX], known[256];
    int rc = 0, framed = 0;
    FILE *f = qs_fopen_regular(path, NULL, err);
    if (!f) {
        rc = err ? err->code : QS_ERR(IO);
        goto out;
    }
    uint8_t magic[4];
    size_t n = fread(magic, 1, sizeof magic, f);
    if (n == 0) {
        rc = qs_error_set(err, QS_ERR(FORMAT), "%s: empty file", path);
        goto out;
    }
    if (n == 4 && memcmp(magic, QS_FRAME_MAGIC, 4) == 0) {
        framed = 1;
        rewind(f);
        if ((rc = read_first_frame(f, path, &b, err)) < 0)
            goto out;
        const uint8_t *p;
        size_t plen, flen;
        if ((rc = qs_frame_parse(b.data, b.len, QS_MAX_MESSAGE_DEFAULT, &p, &plen, &flen, err)) <
            0) {
            qs_error_prefix(err, "%s: first frame", path);
            goto out;
        }
        rc = qs_inspect_peek_format(p, plen, fmt, sizeof fmt, err);
    } else {
        fclose(f);
        f = NULL;
        if ((rc = qs_file_read_all(path, QS_GENOME_MAX_BYTES, &b, err)) < 0)
            goto out;
        rc = qs_inspect_peek_format(b.data, b.len, fmt, sizeof fmt, err);
    }
    if (rc < 0) {
        qs_error_prefix(err, "%s: not a quinesim file", path);
        goto out;
    }
    qs_bytes_destroy(&b);
    if (f) {
        fclose(f);
        f = NULL;
    }
    for (size_t i = 0; i < QS_ARRAY_LEN(formats); i++)
        if (formats[i].framed == framed && strcmp(formats[i].format, fmt) == 0) {
            rc = formats[i].print(path, opts, out, warn, err);
            goto out;
        }
    for (size_t i = 0; i < QS_ARRAY_LEN(formats); i++)
        if (strcmp(formats[i].format, fmt) == 0) { /* known, but framed the other way */
            rc = qs_error_set(err, QS_ERR(FORMAT),
                              "%s: a '%s' document %s: not a file quinesim wrote", path, fmt,
                              framed ? "in a frame, which quinesim does not put around one"
                                     : "without the frame header quinesim writes before one");
            goto out;
        }
    known[0] = '\0';
    for (size_t i = 0; i < QS_ARRAY_LEN(formats); i++)
        if (qs_list_append(known, sizeof known, formats[i].format) < 0)
            break;
    rc = qs_error_set(err, QS_ERR(FORMAT), "%s: unknown %sformat '%s' (inspect knows: %s)", path,
                      framed ? "framed " : "", fmt, known);
out:
    if (f)
        fclose(f);
    qs_bytes_destroy(&b);
    return rc;
}
