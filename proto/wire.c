/* wire: the worker protocol's messages, each one frame holding a map with "type", "v"
 * and the type's fields (field tables in proto/PROTOCOL.md).
 *
 * Encoders append a whole frame (header filled in place, no copy of the payload).
 * Decoders parse the payload once through the guarded scan (proto/mp.c), read each field
 * with its type and range checked into a temporary message, and hand it over only when
 * everything is valid, so a failed decode leaves nothing to free. Enums travel as their
 * names; weights and images as bins. */
#include "proto/wire.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "proto/lineage.h"
#include "proto/mp.h"

/* ---- Names ----------------------------------------------------------------------------- */

static const char *const msg_names[] = {
    NULL,           "hello",    "challenge",      "welcome", "config",
    "data_request", "data",     "task",           "result",  "heartbeat",
    "error",        "shutdown", "island_records", "island",  "island_genomes"};
enum { QS_MSG_LAST = QS_MSG_ISLAND_GENOMES };

static const char *const island_op_names[] = {"host", "run", "immigrants", "state", "drop"};

const char *qs_island_op_name(qs_island_op_t op)
{
    return (unsigned)op < QS_ARRAY_LEN(island_op_names) ? island_op_names[op] : NULL;
}

static const char *nm_island_op(int i)
{
    return qs_island_op_name((qs_island_op_t)i);
}

const char *qs_msg_type_name(qs_msg_type_t t)
{
    return (unsigned)t <= QS_MSG_LAST ? msg_names[t] : NULL;
}

/* int-indexed adapters for qs_mp_enum */
static const char *nm_init(int i)
{
    return qs_init_name((qs_init_t)i);
}
static const char *nm_sr(int i)
{
    return qs_sr_loss_name((qs_sr_loss_t)i);
}
static const char *nm_pair(int i)
{
    return qs_pairing_name((qs_pairing_t)i);
}
static const char *nm_reduce(int i)
{
    return qs_reduce_name((qs_reduce_t)i);
}
static const char *nm_opt(int i)
{
    return qs_opt_name((qs_opt_kind_t)i);
}
static const char *nm_refresh(int i)
{
    return qs_refresh_name((qs_refresh_t)i);
}
static const char *nm_mode(int i)
{
    return qs_replicate_mode_name((qs_replicate_mode_t)i);
}
static const char *nm_recipe(int i)
{
    return qs_life_recipe_name((qs_life_recipe_t)i);
}
static const char *nm_regen(int i)
{
    return qs_regen_name((qs_regen_t)i);
}
static const char *nm_precision(int i)
{
    return qs_precision_name((qs_precision_t)i);
}
static const char *nm_task(int i)
{
    return qs_task_kind_name((qs_task_kind_t)i);
}

/* ---- Encoding -------------------------------------------------------------------------- */

static void pack_objective(msgpack_packer *pk, const qs_objective_t *o)
{
    msgpack_pack_map(pk, 5);
    qs_mp_kv_str(pk, "sr_loss", qs_sr_loss_name(o->sr_loss));
    qs_mp_kv_f32(pk, "lambda", o->lambda);
    qs_mp_kv_f32(pk, "temperature", o->temperature);
    qs_mp_kv_str(pk, "reduce", qs_reduce_name(o->reduce));
    qs_mp_kv_str(pk, "pairing", qs_pairing_name(o->pairing));
}

static void pack_opt(msgpack_packer *pk, const qs_opt_cfg_t *o)
{
    msgpack_pack_map(pk, 7);
    qs_mp_kv_str(pk, "kind", qs_opt_name(o->kind));
    qs_mp_kv_f32(pk, "lr", o->lr);
    qs_mp_kv_f32(pk, "beta1", o->beta1);
    qs_mp_kv_f32(pk, "beta2", o->beta2);
    qs_mp_kv_f32(pk, "eps", o->eps);
    qs_mp_kv_f32(pk, "momentum", o->momentum);
    qs_mp_kv_f32(pk, "alpha", o->alpha);
}

static void pack_dataset(msgpack_packer *pk, const qs_dataset_t *d)
{
    msgpack_pack_map(pk, 5);
    qs_mp_kv_u64(pk, "count", d->count);
    qs_mp_kv_u64(pk, "rows", d->rows);
    qs_mp_kv_u64(pk, "cols", d->cols);
    qs_mp_kv_bin(pk, "pixels", d->pixels, (size_t)d->count * d->rows * d->cols);
    qs_mp_kv_bin(pk, "labels", d->labels, d->count);
}

/* The map header for a message with n own fields, then the envelope ("type", "v"). */
static void open_msg(msgpack_packer *pk, qs_msg_type_t t, size_t n)
{
    msgpack_pack_map(pk, n + 2);
    qs_mp_kv_str(pk, "type", qs_msg_type_name(t));
    qs_mp_kv_u64(pk, "v", QS_PROTOCOL_VERSION);
}

static void pack_config(msgpack_packer *pk, const qs_msg_config_t *c)
{
    int several = c->count > 1; /* a single run's config stays as it was */
    open_msg(pk, QS_MSG_CONFIG, 23 + (several ? 2 : 0));
    if (several) {
        qs_mp_kv_u64(pk, "index", c->index);
        qs_mp_kv_u64(pk, "count", c->count);
    }
    qs_mp_kv_u64(pk, "seed", c->seed);
    qs_mp_pack_cstr(pk, "species");
    uint32_t ns = QS_MIN(c->nspecies, (uint32_t)QS_MAX_SPECIES);
    msgpack_pack_array(pk, ns);
    for (uint32_t i = 0; i < ns; i++) {
        const qs_species_cfg_t *s = &c->species[i];
        msgpack_pack_map(pk, 4);
        qs_mp_kv_str(pk, "name", s->name);
        qs_mp_pack_cstr(pk, "spec");
        qs_mp_pack_spec(pk, &s->spec);
        qs_mp_pack_cstr(pk, "objective");
        pack_objective(pk, &s->obj);
        qs_mp_kv_str(pk, "init", qs_init_name(s->init));
    }
    qs_mp_pack_cstr(pk, "opt");
    pack_opt(pk, &c->opt);
    qs_mp_kv_u64(pk, "batch", c->batch);
    qs_mp_kv_u64(pk, "images", c->images);
    qs_mp_kv_str(pk, "refresh", qs_refresh_name(c->refresh));
    qs_mp_kv_str(pk, "recipe", qs_life_recipe_name(c->fertility.recipe));
    qs_mp_kv_u64(pk, "fertile_steps", c->fertility.steps);
    qs_mp_kv_u64(pk, "fertile_cg", c->fertility.cg_iters);
    qs_mp_kv_bool(pk, "measure_child", c->fertility.measure_child);
    qs_mp_kv_str(pk, "regen", qs_regen_name(c->fertility.regen));
    qs_mp_kv_str(pk, "mode", qs_replicate_mode_name(c->mode));
    qs_mp_kv_u64(pk, "regenerations", c->regenerations);
    qs_mp_kv_f32(pk, "mutation_sigma", c->mutation_sigma);
    qs_mp_kv_f32(pk, "mutation_rate", c->mutation_rate);
    qs_mp_kv_str(pk, "precision", qs_precision_name(c->precision));
    qs_mp_kv_str(pk, "data_path", c->data_path);
    qs_mp_kv_u64(pk, "train_count", c->train_count);
    qs_mp_kv_u64(pk, "fitness_count", c->fitness_count);
    qs_mp_kv_u64(pk, "data_hash", c->data_hash);
    qs_mp_kv_u64(pk, "max_message", c->max_message);
    qs_mp_kv_f64(pk, "heartbeat_s", c->heartbeat_s);
    qs_mp_kv_u64(pk, "memory_mb", c->memory_mb);
}

static void pack_island_records(msgpack_packer *pk, const qs_msg_island_records_t *r)
{
    open_msg(pk, QS_MSG_ISLAND_RECORDS, 8 + (r->task_id ? 1 : 0) + (r->run_best_id ? 2 : 0));
    if (r->task_id)
        qs_mp_kv_u64(pk, "task_id", r->task_id);
    if (r->run_best_id) {
        qs_mp_kv_u64(pk, "run_best_id", r->run_best_id);
        qs_mp_kv_f64(pk, "run_best_fitness", r->run_best_fitness);
    }
    qs_mp_kv_u64(pk, "island", r->island);
    qs_mp_kv_u64(pk, "generation", r->generation);
    qs_mp_kv_bin(pk, "records", r->records, r->records_len);
    qs_mp_pack_cstr(pk, "dead");
    msgpack_pack_array(pk, r->ndead);
    for (uint32_t i = 0; i < r->ndead; i++) { /* [id, parent, born, species, flops_total,
                                               *  accuracy, rel_err, r2] */
        const qs_island_dead_t *d = &r->dead[i];
        msgpack_pack_array(pk, 8);
        msgpack_pack_uint64(pk, d->id);
        msgpack_pack_uint64(pk, d->parent);
        msgpack_pack_uint32(pk, d->born);
        msgpack_pack_uint32(pk, d->species);
        msgpack_pack_uint64(pk, d->flops_total);
        msgpack_pack_double(pk, d->accuracy);
        msgpack_pack_double(pk, d->rel_err);
        msgpack_pack_double(pk, d->r2);
    }
    qs_mp_pack_cstr(pk, "alive");
    msgpack_pack_array(pk, r->nspecies);
    for (uint32_t s = 0; s < r->nspecies; s++)
        msgpack_pack_uint32(pk, r->alive[s]);
    qs_mp_kv_u64(pk, "immigrants", r->immigrants);
    qs_mp_kv_u64(pk, "immigrants_lost", r->immigrants_lost);
    qs_mp_kv_f64(pk, "best_fitness", r->best_fitness);
}

static void pack_island(msgpack_packer *pk, const qs_msg_island_t *x)
{
    open_msg(pk, QS_MSG_ISLAND,
             7 + (x->best_id ? 2 : 0) + (x->scenario ? 1 : 0) + (x->genomes ? 1 : 0));
    qs_mp_kv_str(pk, "op", qs_island_op_name(x->op));
    qs_mp_kv_u64(pk, "task_id", x->task_id);
    qs_mp_kv_u64(pk, "config", x->config);
    qs_mp_kv_u64(pk, "island", x->island);
    qs_mp_kv_u64(pk, "generation", x->generation);
    qs_mp_kv_bool(pk, "last", x->last);
    qs_mp_kv_bool(pk, "migrate", x->migrate);
    if (x->best_id) {
        qs_mp_kv_u64(pk, "best_id", x->best_id);
        qs_mp_kv_f64(pk, "best_fitness", x->best_fitness);
    }
    if (x->scenario)
        qs_mp_kv_str(pk, "scenario", x->scenario);
    if (x->genomes)
        qs_mp_kv_bin(pk, "genomes", x->genomes, x->genomes_len);
}

static void pack_island_genomes(msgpack_packer *pk, const qs_msg_island_genomes_t *x)
{
    open_msg(pk, QS_MSG_ISLAND_GENOMES, 5);
    qs_mp_kv_u64(pk, "task_id", x->task_id);
    qs_mp_kv_u64(pk, "island", x->island);
    qs_mp_kv_u64(pk, "generation", x->generation);
    qs_mp_kv_str(pk, "what", x->state ? "state" : "emigrants");
    qs_mp_kv_bin(pk, "genomes", x->genomes, x->genomes_len);
}

static void pack_msg(msgpack_packer *pk, const qs_msg_t *m)
{
    switch (m->type) {
    case QS_MSG_HELLO: {
        const qs_msg_hello_t *h = &m->u.hello;
        open_msg(pk, m->type,
                 3 + (h->has_auth ? 2 : 0) + (h->blas[0] ? 1 : 0) + (h->isa[0] ? 1 : 0));
        qs_mp_kv_str(pk, "role", h->role);
        qs_mp_kv_i64(pk, "pid", h->pid);
        qs_mp_kv_str(pk, "host", h->host);
        if (h->blas[0])
            qs_mp_kv_str(pk, "blas", h->blas);
        if (h->isa[0])
            qs_mp_kv_str(pk, "isa", h->isa);
        if (h->has_auth) {
            qs_mp_kv_bin(pk, "nonce", h->nonce, QS_NONCE_LEN);
            qs_mp_kv_bin(pk, "mac", h->mac, QS_MAC_LEN);
        }
        return;
    }
    case QS_MSG_CHALLENGE:
        open_msg(pk, m->type, 1);
        qs_mp_kv_bin(pk, "nonce", m->u.challenge.nonce, QS_NONCE_LEN);
        return;
    case QS_MSG_WELCOME:
        open_msg(pk, m->type, 1);
        qs_mp_kv_bin(pk, "mac", m->u.welcome.mac, QS_MAC_LEN);
        return;
    case QS_MSG_CONFIG:
        pack_config(pk, &m->u.config);
        return;
    case QS_MSG_DATA_REQUEST:
        open_msg(pk, m->type, 1);
        qs_mp_kv_u64(pk, "data_hash", m->u.data_request.data_hash);
        return;
    case QS_MSG_DATA:
        open_msg(pk, m->type, 3);
        qs_mp_kv_u64(pk, "data_hash", m->u.data.data_hash);
        qs_mp_pack_cstr(pk, "train");
        pack_dataset(pk, &m->u.data.train);
        qs_mp_pack_cstr(pk, "fitness");
        pack_dataset(pk, &m->u.data.fitness);
        return;
    case QS_MSG_TASK: {
        const qs_life_task_t *t = &m->u.task;
        open_msg(pk, m->type, 10 + (t->config ? 1 : 0));
        if (t->config)
            qs_mp_kv_u64(pk, "config", t->config);
        qs_mp_kv_u64(pk, "task_id", t->task_id);
        qs_mp_kv_str(pk, "kind", qs_task_kind_name(t->kind));
        qs_mp_kv_u64(pk, "organism", t->organism);
        qs_mp_kv_u64(pk, "parent", t->parent);
        qs_mp_kv_u64(pk, "generation", t->generation);
        qs_mp_kv_u64(pk, "species", t->species);
        qs_mp_kv_u64(pk, "steps", t->steps);
        qs_mp_kv_u64(pk, "life_stream", t->life_stream);
        qs_mp_kv_u64(pk, "mutation_stream", t->mutation_stream);
        qs_mp_kv_floats(pk, "weights", t->weights, t->nweights);
        return;
    }
    case QS_MSG_RESULT: {
        const qs_life_result_t *r = &m->u.result;
        open_msg(pk, m->type, 12 + (r->has_link ? 1 : 0) + (r->has_child ? 1 : 0));
        qs_mp_kv_u64(pk, "task_id", r->task_id);
        qs_mp_kv_u64(pk, "organism", r->organism);
        qs_mp_kv_u64(pk, "steps", r->steps);
        qs_mp_kv_u64(pk, "flops_life", r->flops_life);
        qs_mp_kv_u64(pk, "flops_replication", r->flops_replication);
        qs_mp_kv_u64(pk, "flops_eval", r->flops_eval);
        qs_mp_kv_f64(pk, "train_loss", r->train_loss);
        qs_mp_kv_f64(pk, "accuracy", r->accuracy);
        qs_mp_pack_cstr(pk, "fidelity");
        qs_mp_pack_fidelity(pk, &r->fidelity);
        if (r->has_link) {
            qs_mp_pack_cstr(pk, "link");
            qs_mp_pack_fidelity(pk, &r->link);
        }
        if (r->has_child) {
            qs_mp_pack_cstr(pk, "child");
            msgpack_pack_map(pk, 2);
            qs_mp_kv_f64(pk, "r2", r->child_r2);
            qs_mp_kv_f64(pk, "drift2_r2", r->drift2_r2);
        }
        qs_mp_kv_u64(pk, "mutated", r->mutated);
        qs_mp_kv_f64(pk, "seconds", r->seconds);
        qs_mp_kv_floats(pk, "weights", r->weights, r->nweights);
        return;
    }
    case QS_MSG_HEARTBEAT:
        open_msg(pk, m->type, 2);
        qs_mp_kv_u64(pk, "seq", m->u.heartbeat.seq);
        qs_mp_kv_u64(pk, "task_id", m->u.heartbeat.task_id);
        return;
    case QS_MSG_ERROR:
        open_msg(pk, m->type, 3);
        qs_mp_kv_u64(pk, "task_id", m->u.error.task_id);
        qs_mp_kv_i64(pk, "code", m->u.error.code);
        qs_mp_kv_str(pk, "message", m->u.error.message);
        return;
    case QS_MSG_SHUTDOWN:
        open_msg(pk, m->type, 1);
        qs_mp_kv_str(pk, "reason", m->u.shutdown.reason);
        return;
    case QS_MSG_ISLAND_RECORDS:
        pack_island_records(pk, &m->u.island_records);
        break;
    case QS_MSG_ISLAND:
        pack_island(pk, &m->u.island);
        break;
    case QS_MSG_ISLAND_GENOMES:
        pack_island_genomes(pk, &m->u.island_genomes);
        return;
    }
}

void qs_msg_encode(const qs_msg_t *m, qs_bytes_t *out)
{
    if (!qs_msg_type_name(m->type))
        qs_die("wire: cannot encode a message of unknown type %d", (int)m->type);
    size_t start = qs_frame_begin(out);
    msgpack_packer pk;
    qs_mp_packer_init(&pk, out);
    pack_msg(&pk, m);
    qs_frame_finish(out, start);
}

/* ---- Decoding -------------------------------------------------------------------------- */

static int read_hello(const msgpack_object *map, qs_msg_hello_t *h, qs_error_t *err)
{
    enum { ROLE, PID, HOST, NONCE, MAC, BLAS, ISA, NK };
    static const char *const keys[NK] = {"role", "pid", "host", "nonce", "mac", "blas", "isa"};
    const msgpack_object *v[NK];
    const uint8_t *p;
    size_t n;
    int rc;
    TRY(qs_mp_fields(map, keys, NK, v, "hello", err));
    TRY(qs_mp_str(v[ROLE], "hello", "role", h->role, sizeof h->role, err));
    TRY(qs_mp_i64(v[PID], "hello", "pid", 0, INT64_MAX, &h->pid, err));
    TRY(qs_mp_str(v[HOST], "hello", "host", h->host, sizeof h->host, err));
    if (v[BLAS]) /* optional: absent in a worker that does not say */
        TRY(qs_mp_str(v[BLAS], "hello", "blas", h->blas, sizeof h->blas, err));
    if (v[ISA]) /* optional too */
        TRY(qs_mp_str(v[ISA], "hello", "isa", h->isa, sizeof h->isa, err));
    if (!v[NONCE] != !v[MAC]) {
        rc = qs_error_set(err, QS_ERR(FORMAT), "hello: field '%s' without '%s'",
                          v[NONCE] ? "nonce" : "mac", v[NONCE] ? "mac" : "nonce");
        goto out;
    }
    if (v[NONCE]) {
        TRY(qs_mp_bin(v[NONCE], "hello", "nonce", QS_NONCE_LEN, &p, &n, err));
        memcpy(h->nonce, p, QS_NONCE_LEN);
        TRY(qs_mp_bin(v[MAC], "hello", "mac", QS_MAC_LEN, &p, &n, err));
        memcpy(h->mac, p, QS_MAC_LEN);
        h->has_auth = 1;
    }
out:
    return rc;
}

static int read_bin_field(const msgpack_object *map, const char *what, const char *key,
                          uint8_t *dst, size_t len, qs_error_t *err)
{
    const msgpack_object *v;
    const uint8_t *p;
    size_t n;
    int rc;
    TRY(qs_mp_fields(map, &key, 1, &v, what, err));
    TRY(qs_mp_bin(v, what, key, (long long)len, &p, &n, err));
    memcpy(dst, p, len);
out:
    return rc;
}

static int read_objective(const msgpack_object *o, const char *what, qs_objective_t *obj,
                          qs_error_t *err)
{
    enum { SR, LAMBDA, TEMP, REDUCE, PAIRING, NK };
    static const char *const keys[NK] = {"sr_loss", "lambda", "temperature", "reduce", "pairing"};
    const msgpack_object *v[NK];
    int sr = 0, reduce = 0, pairing = 0, rc;
    TRY(qs_mp_fields(o, keys, NK, v, what, err));
    TRY(qs_mp_enum(v[SR], what, "sr_loss", nm_sr, 0, 64, &sr, err));
    TRY(qs_mp_f32_range(v[LAMBDA], what, "lambda", 0, 1e9, &obj->lambda, err));
    TRY(qs_mp_f32_range(v[TEMP], what, "temperature", 0, 1e9, &obj->temperature, err));
    if (!(obj->temperature > 0)) {
        rc = qs_error_set(err, QS_ERR(RANGE), "%s: field 'temperature' must be positive", what);
        goto out;
    }
    TRY(qs_mp_enum(v[REDUCE], what, "reduce", nm_reduce, 0, 64, &reduce, err));
    TRY(qs_mp_enum(v[PAIRING], what, "pairing", nm_pair, 0, 64, &pairing, err));
    obj->sr_loss = (qs_sr_loss_t)sr;
    obj->reduce = (qs_reduce_t)reduce;
    obj->pairing = (qs_pairing_t)pairing;
out:
    return rc;
}

/* A float in [lo, hi) (upper bound excluded). */
static int f32_below(const msgpack_object *o, const char *what, const char *key, double lo,
                     double hi, float *out, qs_error_t *err)
{
    int rc = qs_mp_f32_range(o, what, key, lo, hi, out, err);
    if (rc == 0 && !(*out < hi))
        rc = qs_error_set(err, QS_ERR(RANGE), "%s: field '%s' is %g, expected a number in [%g, %g)",
                          what, key, (double)*out, lo, hi);
    return rc;
}

static int read_opt(const msgpack_object *o, qs_opt_cfg_t *opt, qs_error_t *err)
{
    enum { KIND, LR, B1, B2, EPS, MOM, ALPHA, NK };
    static const char *const keys[NK] = {"kind", "lr",       "beta1", "beta2",
                                         "eps",  "momentum", "alpha"};
    const char *what = "config: opt";
    const msgpack_object *v[NK];
    int kind = 0, rc;
    TRY(qs_mp_fields(o, keys, NK, v, what, err));
    TRY(qs_mp_enum(v[KIND], what, "kind", nm_opt, 0, 64, &kind, err));
    TRY(qs_mp_f32_range(v[LR], what, "lr", 0, 1e6, &opt->lr, err));
    if (!(opt->lr > 0)) {
        rc = qs_error_set(err, QS_ERR(RANGE), "%s: field 'lr' must be positive", what);
        goto out;
    }
    TRY(f32_below(v[B1], what, "beta1", 0, 1, &opt->beta1, err));
    TRY(f32_below(v[B2], what, "beta2", 0, 1, &opt->beta2, err));
    TRY(qs_mp_f32_range(v[EPS], what, "eps", 0, 1, &opt->eps, err));
    TRY(f32_below(v[MOM], what, "momentum", 0, 1, &opt->momentum, err));
    TRY(qs_mp_f32_range(v[ALPHA], what, "alpha", 0, 1, &opt->alpha, err));
    opt->kind = (qs_opt_kind_t)kind;
out:
    return rc;
}

static int read_species(const msgpack_object *o, uint32_t i, qs_species_cfg_t *s, qs_error_t *err)
{
    enum { NAME, SPEC, OBJ, INIT, NK };
    static const char *const keys[NK] = {"name", "spec", "objective", "init"};
    const msgpack_object *v[NK];
    char what[64], sub[80];
    size_t nparams;
    int init = 0, rc;
    snprintf(what, sizeof what, "config: species[%u]", i);
    TRY(qs_mp_fields(o, keys, NK, v, what, err));
    TRY(qs_mp_str(v[NAME], what, "name", s->name, sizeof s->name, err));
    snprintf(sub, sizeof sub, "%s.spec", what);
    TRY(qs_mp_read_spec(v[SPEC], sub, &s->spec, &nparams, err));
    snprintf(sub, sizeof sub, "%s.objective", what);
    TRY(read_objective(v[OBJ], sub, &s->obj, err));
    TRY(qs_mp_enum(v[INIT], what, "init", nm_init, 0, 64, &init, err));
    s->init = (qs_init_t)init;
out:
    return rc;
}

static int read_config(const msgpack_object *map, qs_msg_config_t *c, qs_error_t *err)
{
    enum {
        SEED,
        SPECIES,
        OPT,
        BATCH,
        IMAGES,
        REFRESH,
        MODE,
        REGEN,
        SIGMA,
        RATE,
        PATH,
        TRAIN,
        FITNESS,
        HASH,
        MAXMSG,
        HEARTBEAT,
        MEMORY,
        RECIPE,
        FSTEPS,
        FCG,
        MCHILD,
        REGENT,
        PRECISION,
        INDEX,
        COUNT,
        NK
    };
    static const char *const keys[NK] = {
        "seed",          "species",     "opt",           "batch",          "images",
        "refresh",       "mode",        "regenerations", "mutation_sigma", "mutation_rate",
        "data_path",     "train_count", "fitness_count", "data_hash",      "max_message",
        "heartbeat_s",   "memory_mb",   "recipe",        "fertile_steps",  "fertile_cg",
        "measure_child", "regen",       "precision",     "index",          "count"};
    const char *what = "config";
    const msgpack_object *v[NK], *items;
    size_t n;
    int refresh = 0, mode = 0, recipe = 0, regen = 0, precision = QS_PREC_FP32, rc;
    TRY(qs_mp_fields(map, keys, NK, v, what, err));
    c->count = 1; /* optional, both: one config, index 0 */
    if (v[COUNT])
        TRY(qs_mp_u32(v[COUNT], what, "count", 1, QS_WIRE_MAX_CONFIGS, &c->count, err));
    if (v[INDEX])
        TRY(qs_mp_u32(v[INDEX], what, "index", 0, c->count - 1, &c->index, err));
    TRY(qs_mp_u64(v[SEED], what, "seed", 0, UINT64_MAX, &c->seed, err));
    TRY(qs_mp_array(v[SPECIES], what, "species", &items, &n, err));
    if (n < 1 || n > QS_MAX_SPECIES) {
        rc = qs_error_set(err, QS_ERR(RANGE),
                          "config: field 'species' has %zu entries, expected 1..%d", n,
                          QS_MAX_SPECIES);
        goto out;
    }
    c->nspecies = (uint32_t)n;
    for (uint32_t i = 0; i < c->nspecies; i++) {
        TRY(read_species(&items[i], i, &c->species[i], err));
        for (uint32_t j = 0; j < i; j++)
            if (strcmp(c->species[i].name, c->species[j].name) == 0) {
                rc = qs_error_set(err, QS_ERR(INVAL),
                                  "config: species[%u] has the same name '%s' as species[%u]", i,
                                  c->species[i].name, j);
                goto out;
            }
    }
    TRY(read_opt(v[OPT], &c->opt, err));
    TRY(qs_mp_u32(v[BATCH], what, "batch", 0, UINT32_MAX, &c->batch, err));
    TRY(qs_mp_u32(v[IMAGES], what, "images", 0, UINT32_MAX, &c->images, err));
    TRY(qs_mp_enum(v[REFRESH], what, "refresh", nm_refresh, 0, 64, &refresh, err));
    TRY(qs_mp_enum(v[MODE], what, "mode", nm_mode, 0, 64, &mode, err));
    TRY(qs_mp_u32(v[REGEN], what, "regenerations", 0, 1000000, &c->regenerations, err));
    TRY(qs_mp_f32_range(v[SIGMA], what, "mutation_sigma", 0, 1e6, &c->mutation_sigma, err));
    TRY(qs_mp_f32_range(v[RATE], what, "mutation_rate", 0, 1, &c->mutation_rate, err));
    if (v[PRECISION]) /* optional: an orchestrator that does not send it runs fp32 */
        TRY(qs_mp_enum(v[PRECISION], what, "precision", nm_precision, 0, 64, &precision, err));
    TRY(qs_mp_str(v[PATH], what, "data_path", c->data_path, sizeof c->data_path, err));
    TRY(qs_mp_u32(v[TRAIN], what, "train_count", 0, UINT32_MAX, &c->train_count, err));
    TRY(qs_mp_u32(v[FITNESS], what, "fitness_count", 0, UINT32_MAX, &c->fitness_count, err));
    TRY(qs_mp_u32(v[HASH], what, "data_hash", 0, UINT32_MAX, &c->data_hash, err));
    TRY(qs_mp_u64(v[MAXMSG], what, "max_message", 1024, UINT32_MAX, &c->max_message, err));
    TRY(qs_mp_f64_range(v[HEARTBEAT], what, "heartbeat_s", 0, 86400, &c->heartbeat_s, err));
    if (!(c->heartbeat_s > 0)) {
        rc = qs_error_set(err, QS_ERR(RANGE), "config: field 'heartbeat_s' must be positive");
        goto out;
    }
    TRY(qs_mp_u32(v[MEMORY], what, "memory_mb", 0, UINT32_MAX, &c->memory_mb, err));
    TRY(qs_mp_enum(v[RECIPE], what, "recipe", nm_recipe, 0, 64, &recipe, err));
    TRY(qs_mp_u32(v[FSTEPS], what, "fertile_steps", 0, 1000000, &c->fertility.steps, err));
    TRY(qs_mp_u32(v[FCG], what, "fertile_cg", 0, 1000000, &c->fertility.cg_iters, err));
    TRY(qs_mp_bool(v[MCHILD], what, "measure_child", &c->fertility.measure_child, err));
    TRY(qs_mp_enum(v[REGENT], what, "regen", nm_regen, 0, 64, &regen, err));
    c->fertility.recipe = (qs_life_recipe_t)recipe;
    c->fertility.regen = (qs_regen_t)regen;
    c->refresh = (qs_refresh_t)refresh;
    c->mode = (qs_replicate_mode_t)mode;
    c->precision = (qs_precision_t)precision;
out:
    return rc;
}

static int read_dataset(const msgpack_object *o, const char *what, qs_dataset_t *ds,
                        qs_error_t *err)
{
    enum { COUNT, ROWS, COLS, PIXELS, LABELS, NK };
    static const char *const keys[NK] = {"count", "rows", "cols", "pixels", "labels"};
    const msgpack_object *v[NK];
    const uint8_t *px, *lb;
    size_t npx, nlb;
    uint32_t count, rows, cols;
    int rc;
    TRY(qs_mp_fields(o, keys, NK, v, what, err));
    TRY(qs_mp_u32(v[COUNT], what, "count", 0, UINT32_MAX, &count, err));
    TRY(qs_mp_u32(v[ROWS], what, "rows", 1, QS_WIRE_MAX_IMAGE_SIDE, &rows, err));
    TRY(qs_mp_u32(v[COLS], what, "cols", 1, QS_WIRE_MAX_IMAGE_SIDE, &cols, err));
    uint64_t want = (uint64_t)count * rows * cols; /* < 2^56: no overflow */
    TRY(qs_mp_bin(v[PIXELS], what, "pixels", -1, &px, &npx, err));
    if (npx != want) {
        rc = qs_error_set(err, QS_ERR(MISMATCH),
                          "%s: field 'pixels' has %zu bytes, %u images of %ux%u need %llu", what,
                          npx, count, rows, cols, (unsigned long long)want);
        goto out;
    }
    TRY(qs_mp_bin(v[LABELS], what, "labels", count, &lb, &nlb, err));
    for (size_t i = 0; i < nlb; i++)
        if (lb[i] >= QS_NUM_CLASSES) {
            rc =
                qs_error_set(err, QS_ERR(RANGE), "%s: label %u of image %zu is not a class (0..%d)",
                             what, lb[i], i, QS_NUM_CLASSES - 1);
            goto out;
        }
    ds->count = count;
    ds->rows = rows;
    ds->cols = cols;
    ds->pixels = xmalloc(npx);
    ds->labels = xmalloc(nlb);
    if (npx)
        memcpy(ds->pixels, px, npx);
    if (nlb)
        memcpy(ds->labels, lb, nlb);
out:
    return rc;
}

static int read_data(const msgpack_object *map, qs_msg_data_t *d, qs_error_t *err)
{
    enum { HASH, TRAIN, FITNESS, NK };
    static const char *const keys[NK] = {"data_hash", "train", "fitness"};
    const msgpack_object *v[NK];
    int rc;
    TRY(qs_mp_fields(map, keys, NK, v, "data", err));
    TRY(qs_mp_u32(v[HASH], "data", "data_hash", 0, UINT32_MAX, &d->data_hash, err));
    TRY(read_dataset(v[TRAIN], "data: train", &d->train, err));
    TRY(read_dataset(v[FITNESS], "data: fitness", &d->fitness, err));
out:
    return rc;
}

/* A genome carried by a task or result: a bin of 1..QS_WIRE_MAX_WEIGHTS LE float32. */
static int read_weights(const msgpack_object *o, const char *what, uint32_t *nweights,
                        float **weights, qs_error_t *err)
{
    const uint8_t *p;
    size_t n;
    int rc = qs_mp_bin(o, what, "weights", -1, &p, &n, err);
    if (rc < 0)
        return rc;
    if (n == 0 || n % 4 != 0 || n / 4 > QS_WIRE_MAX_WEIGHTS)
        return qs_error_set(err, QS_ERR(RANGE),
                            "%s: field 'weights' has %zu bytes, expected 4 x (1..%u) float32", what,
                            n, QS_WIRE_MAX_WEIGHTS);
    *nweights = (uint32_t)(n / 4);
    *weights = xmalloc(n);
    qs_mp_load_floats(*weights, p, n / 4);
    return 0;
}

static int read_task(const msgpack_object *map, qs_life_task_t *t, qs_error_t *err)
{
    enum { ID, KIND, ORG, PARENT, GEN, SPECIES, STEPS, LIFE, MUT, WEIGHTS, CONFIG, NK };
    static const char *const keys[NK] = {"task_id",         "kind",    "organism", "parent",
                                         "generation",      "species", "steps",    "life_stream",
                                         "mutation_stream", "weights", "config"};
    const char *what = "task";
    const msgpack_object *v[NK];
    int kind = 0, rc;
    TRY(qs_mp_fields(map, keys, NK, v, what, err));
    TRY(qs_mp_u64(v[ID], what, "task_id", 0, UINT64_MAX, &t->task_id, err));
    TRY(qs_mp_enum(v[KIND], what, "kind", nm_task, 1, 64, &kind, err));
    t->kind = (qs_task_kind_t)kind;
    TRY(qs_mp_u64(v[ORG], what, "organism", 0, UINT64_MAX, &t->organism, err));
    TRY(qs_mp_u64(v[PARENT], what, "parent", 0, UINT64_MAX, &t->parent, err));
    TRY(qs_mp_u32(v[GEN], what, "generation", 0, UINT32_MAX, &t->generation, err));
    TRY(qs_mp_u32(v[SPECIES], what, "species", 0, QS_MAX_SPECIES - 1, &t->species, err));
    TRY(qs_mp_u64(v[STEPS], what, "steps", 0, UINT64_MAX, &t->steps, err));
    TRY(qs_mp_u64(v[LIFE], what, "life_stream", 0, UINT64_MAX, &t->life_stream, err));
    TRY(qs_mp_u64(v[MUT], what, "mutation_stream", 0, UINT64_MAX, &t->mutation_stream, err));
    if (v[CONFIG]) /* optional: 0, a single run's */
        TRY(qs_mp_u32(v[CONFIG], what, "config", 0, QS_WIRE_MAX_CONFIGS - 1, &t->config, err));
    TRY(read_weights(v[WEIGHTS], what, &t->nweights, &t->weights, err));
out:
    return rc;
}

static int read_result(const msgpack_object *map, qs_life_result_t *r, qs_error_t *err)
{
    enum {
        ID,
        ORG,
        STEPS,
        FLIFE,
        FREP,
        FEVAL,
        LOSS,
        ACC,
        FID,
        LINK,
        MUTATED,
        SECONDS,
        WEIGHTS,
        CHILD,
        NK
    };
    static const char *const keys[NK] = {
        "task_id",    "organism",   "steps",    "flops_life", "flops_replication",
        "flops_eval", "train_loss", "accuracy", "fidelity",   "link",
        "mutated",    "seconds",    "weights",  "child"};
    const char *what = "result";
    const msgpack_object *v[NK];
    int rc;
    TRY(qs_mp_fields(map, keys, NK, v, what, err));
    TRY(qs_mp_u64(v[ID], what, "task_id", 0, UINT64_MAX, &r->task_id, err));
    TRY(qs_mp_u64(v[ORG], what, "organism", 0, UINT64_MAX, &r->organism, err));
    TRY(qs_mp_u64(v[STEPS], what, "steps", 0, UINT64_MAX, &r->steps, err));
    TRY(qs_mp_u64(v[FLIFE], what, "flops_life", 0, UINT64_MAX, &r->flops_life, err));
    TRY(qs_mp_u64(v[FREP], what, "flops_replication", 0, UINT64_MAX, &r->flops_replication, err));
    TRY(qs_mp_u64(v[FEVAL], what, "flops_eval", 0, UINT64_MAX, &r->flops_eval, err));
    TRY(qs_mp_f64(v[LOSS], what, "train_loss", &r->train_loss, err));
    TRY(qs_mp_accuracy(v[ACC], what, "accuracy", &r->accuracy, err));
    TRY(qs_mp_read_fidelity(v[FID], "result: fidelity", &r->fidelity, err));
    if (v[LINK] && v[LINK]->type != MSGPACK_OBJECT_NIL) {
        TRY(qs_mp_read_fidelity(v[LINK], "result: link", &r->link, err));
        r->has_link = 1;
    }
    r->child_r2 = r->drift2_r2 = NAN;
    if (v[CHILD] && v[CHILD]->type != MSGPACK_OBJECT_NIL) {
        static const char *const ckeys[] = {"r2", "drift2_r2"};
        const msgpack_object *cv[2];
        TRY(qs_mp_fields(v[CHILD], ckeys, 2, cv, "result: child", err));
        TRY(qs_mp_f64(cv[0], "result: child", "r2", &r->child_r2, err));
        TRY(qs_mp_f64(cv[1], "result: child", "drift2_r2", &r->drift2_r2, err));
        r->has_child = 1;
    }
    TRY(qs_mp_u32(v[MUTATED], what, "mutated", 0, UINT32_MAX, &r->mutated, err));
    TRY(qs_mp_f64_range(v[SECONDS], what, "seconds", 0, 1e9, &r->seconds, err));
    TRY(read_weights(v[WEIGHTS], what, &r->nweights, &r->weights, err));
out:
    return rc;
}

static int read_heartbeat(const msgpack_object *map, qs_msg_heartbeat_t *h, qs_error_t *err)
{
    static const char *const keys[] = {"seq", "task_id"};
    const msgpack_object *v[2];
    int rc;
    TRY(qs_mp_fields(map, keys, 2, v, "heartbeat", err));
    TRY(qs_mp_u64(v[0], "heartbeat", "seq", 0, UINT64_MAX, &h->seq, err));
    TRY(qs_mp_u64(v[1], "heartbeat", "task_id", 0, UINT64_MAX, &h->task_id, err));
out:
    return rc;
}

static int read_error(const msgpack_object *map, qs_msg_error_t *e, qs_error_t *err)
{
    static const char *const keys[] = {"task_id", "code", "message"};
    const msgpack_object *v[3];
    int64_t code = 0;
    int rc;
    TRY(qs_mp_fields(map, keys, 3, v, "error", err));
    TRY(qs_mp_u64(v[0], "error", "task_id", 0, UINT64_MAX, &e->task_id, err));
    TRY(qs_mp_i64(v[1], "error", "code", INT32_MIN, -1, &code, err));
    e->code = (int32_t)code;
    TRY(qs_mp_str(v[2], "error", "message", e->message, sizeof e->message, err));
out:
    return rc;
}

/* An owned copy of a bin field (at most UINT32_MAX bytes). */
static int read_blob(const msgpack_object *o, const char *what, const char *key, uint8_t **out,
                     uint32_t *out_len, qs_error_t *err)
{
    const uint8_t *p;
    size_t len;
    int rc = qs_mp_bin(o, what, key, -1, &p, &len, err);
    if (rc < 0)
        return rc;
    if (len > UINT32_MAX)
        return qs_error_set(err, QS_ERR(TOOBIG), "%s: field '%s' of %zu bytes", what, key, len);
    *out = xmalloc(len ? len : 1);
    memcpy(*out, p, len);
    *out_len = (uint32_t)len;
    return 0;
}

static int read_island_records(const msgpack_object *map, qs_msg_island_records_t *r,
                               qs_error_t *err)
{
    enum { ISLAND, GEN, RECORDS, DEAD, ALIVE, IMM, LOST, BEST, TASK, RUNBEST, RUNBESTF, NK };
    static const char *const keys[NK] = {
        "island",  "generation",  "records",         "dead",
        "alive",   "immigrants",  "immigrants_lost", "best_fitness",
        "task_id", "run_best_id", "run_best_fitness"};
    const char *what = "island_records";
    const msgpack_object *v[NK], *items;
    const uint8_t *p;
    size_t n, len;
    int rc;
    TRY(qs_mp_fields(map, keys, NK, v, what, err));
    TRY(qs_mp_u32(v[ISLAND], what, "island", 0, QS_MAX_ISLANDS - 1, &r->island, err));
    TRY(qs_mp_u32(v[GEN], what, "generation", 0, UINT32_MAX, &r->generation, err));
    TRY(qs_mp_bin(v[RECORDS], what, "records", -1, &p, &len, err));
    if (len > UINT32_MAX) {
        rc = qs_error_set(err, QS_ERR(TOOBIG), "%s: field 'records' of %zu bytes", what, len);
        goto out;
    }
    r->records = xmalloc(len ? len : 1);
    memcpy(r->records, p, len);
    r->records_len = (uint32_t)len;
    TRY(qs_mp_array(v[DEAD], what, "dead", &items, &n, err));
    r->dead = xcalloc(n ? n : 1, sizeof *r->dead);
    for (size_t i = 0; i < n; i++) {
        const msgpack_object *f;
        size_t nf;
        qs_island_dead_t *d = &r->dead[i];
        uint64_t born = 0, species = 0;
        TRY(qs_mp_array(&items[i], what, "dead[]", &f, &nf, err));
        if (nf != 8) {
            rc = qs_error_set(err, QS_ERR(FORMAT), "%s: dead[%zu] has %zu fields, not 8", what, i,
                              nf);
            goto out;
        }
        TRY(qs_mp_u64(&f[0], what, "dead[].id", 1, UINT64_MAX, &d->id, err));
        TRY(qs_mp_u64(&f[1], what, "dead[].parent", 0, UINT64_MAX, &d->parent, err));
        TRY(qs_mp_u64(&f[2], what, "dead[].born", 0, UINT32_MAX, &born, err));
        TRY(qs_mp_u64(&f[3], what, "dead[].species", 0, QS_MAX_SPECIES - 1, &species, err));
        TRY(qs_mp_u64(&f[4], what, "dead[].flops_total", 0, UINT64_MAX, &d->flops_total, err));
        TRY(qs_mp_f64(&f[5], what, "dead[].accuracy", &d->accuracy, err));
        TRY(qs_mp_f64(&f[6], what, "dead[].rel_err", &d->rel_err, err));
        TRY(qs_mp_f64(&f[7], what, "dead[].r2", &d->r2, err));
        d->born = (uint32_t)born;
        d->species = (uint32_t)species;
        r->ndead = (uint32_t)(i + 1);
    }
    TRY(qs_mp_array(v[ALIVE], what, "alive", &items, &n, err));
    if (n > QS_MAX_SPECIES) {
        rc = qs_error_set(err, QS_ERR(RANGE), "%s: 'alive' for %zu species (at most %d)", what, n,
                          QS_MAX_SPECIES);
        goto out;
    }
    r->nspecies = (uint32_t)n;
    for (size_t s = 0; s < n; s++)
        TRY(qs_mp_u32(&items[s], what, "alive[]", 0, UINT32_MAX, &r->alive[s], err));
    TRY(qs_mp_u32(v[IMM], what, "immigrants", 0, UINT32_MAX, &r->immigrants, err));
    TRY(qs_mp_u32(v[LOST], what, "immigrants_lost", 0, UINT32_MAX, &r->immigrants_lost, err));
    TRY(qs_mp_f64(v[BEST], what, "best_fitness", &r->best_fitness, err));
    if (v[TASK])
        TRY(qs_mp_u64(v[TASK], what, "task_id", 1, UINT64_MAX, &r->task_id, err));
    if (v[RUNBEST]) {
        TRY(qs_mp_u64(v[RUNBEST], what, "run_best_id", 1, UINT64_MAX, &r->run_best_id, err));
        TRY(qs_mp_f64(v[RUNBESTF], what, "run_best_fitness", &r->run_best_fitness, err));
    }
out:
    return rc;
}

static int read_island(const msgpack_object *map, qs_msg_island_t *x, qs_error_t *err)
{
    enum { OP, ID, CONFIG, ISLAND, GEN, LAST, MIGRATE, SCENARIO, GENOMES, BEST, BESTF, NK };
    static const char *const keys[NK] = {"op",         "task_id", "config",      "island",
                                         "generation", "last",    "migrate",     "scenario",
                                         "genomes",    "best_id", "best_fitness"};
    const char *what = "island";
    const msgpack_object *v[NK];
    const char *sp;
    size_t slen;
    int op = 0, rc;
    TRY(qs_mp_fields(map, keys, NK, v, what, err));
    TRY(qs_mp_enum(v[OP], what, "op", nm_island_op, 0, (int)QS_ARRAY_LEN(island_op_names), &op,
                   err));
    x->op = (qs_island_op_t)op;
    TRY(qs_mp_u64(v[ID], what, "task_id", 0, UINT64_MAX, &x->task_id, err));
    TRY(qs_mp_u32(v[CONFIG], what, "config", 0, QS_WIRE_MAX_CONFIGS - 1, &x->config, err));
    TRY(qs_mp_u32(v[ISLAND], what, "island", 0, QS_MAX_ISLANDS - 1, &x->island, err));
    TRY(qs_mp_u32(v[GEN], what, "generation", 0, UINT32_MAX, &x->generation, err));
    TRY(qs_mp_bool(v[LAST], what, "last", &x->last, err));
    TRY(qs_mp_bool(v[MIGRATE], what, "migrate", &x->migrate, err));
    if (v[BEST]) {
        TRY(qs_mp_u64(v[BEST], what, "best_id", 1, UINT64_MAX, &x->best_id, err));
        TRY(qs_mp_f64(v[BESTF], what, "best_fitness", &x->best_fitness, err));
    }
    if (x->op == QS_ISLAND_HOST && v[SCENARIO]) {
        TRY(qs_mp_str_view(v[SCENARIO], what, "scenario", &sp, &slen, err));
        x->scenario = xmalloc(slen + 1);
        memcpy(x->scenario, sp, slen);
        x->scenario[slen] = '\0';
    }
    if (x->op == QS_ISLAND_IMMIGRANTS || (x->op == QS_ISLAND_HOST && v[GENOMES]))
        TRY(read_blob(v[GENOMES], what, "genomes", &x->genomes, &x->genomes_len, err));
out:
    return rc;
}

static int read_island_genomes(const msgpack_object *map, qs_msg_island_genomes_t *x,
                               qs_error_t *err)
{
    static const char *const keys[] = {"task_id", "island", "generation", "what", "genomes"};
    static const char *const whats[] = {"emigrants", "state"};
    const char *what = "island_genomes";
    const msgpack_object *v[5];
    int rc;
    TRY(qs_mp_fields(map, keys, 5, v, what, err));
    TRY(qs_mp_u64(v[0], what, "task_id", 1, UINT64_MAX, &x->task_id, err));
    TRY(qs_mp_u32(v[1], what, "island", 0, QS_MAX_ISLANDS - 1, &x->island, err));
    TRY(qs_mp_u32(v[2], what, "generation", 0, UINT32_MAX, &x->generation, err));
    if (!v[3] || v[3]->type != MSGPACK_OBJECT_STR ||
        (!qs_mp_str_eq(v[3], whats[0]) && !qs_mp_str_eq(v[3], whats[1]))) {
        rc = qs_error_set(err, QS_ERR(FORMAT), "%s: field 'what' must be 'emigrants' or 'state'",
                          what);
        goto out;
    }
    x->state = qs_mp_str_eq(v[3], whats[1]);
    TRY(read_blob(v[4], what, "genomes", &x->genomes, &x->genomes_len, err));
out:
    return rc;
}

static int read_body(const msgpack_object *map, qs_msg_t *m, qs_error_t *err)
{
    switch (m->type) {
    case QS_MSG_HELLO:
        return read_hello(map, &m->u.hello, err);
    case QS_MSG_CHALLENGE:
        return read_bin_field(map, "challenge", "nonce", m->u.challenge.nonce, QS_NONCE_LEN, err);
    case QS_MSG_WELCOME:
        return read_bin_field(map, "welcome", "mac", m->u.welcome.mac, QS_MAC_LEN, err);
    case QS_MSG_CONFIG:
        return read_config(map, &m->u.config, err);
    case QS_MSG_DATA_REQUEST: {
        static const char *const key = "data_hash";
        const msgpack_object *v;
        int rc = qs_mp_fields(map, &key, 1, &v, "data_request", err);
        return rc < 0 ? rc
                      : qs_mp_u32(v, "data_request", key, 0, UINT32_MAX,
                                  &m->u.data_request.data_hash, err);
    }
    case QS_MSG_DATA:
        return read_data(map, &m->u.data, err);
    case QS_MSG_TASK:
        return read_task(map, &m->u.task, err);
    case QS_MSG_RESULT:
        return read_result(map, &m->u.result, err);
    case QS_MSG_HEARTBEAT:
        return read_heartbeat(map, &m->u.heartbeat, err);
    case QS_MSG_ERROR:
        return read_error(map, &m->u.error, err);
    case QS_MSG_ISLAND_RECORDS:
        return read_island_records(map, &m->u.island_records, err);
    case QS_MSG_ISLAND:
        return read_island(map, &m->u.island, err);
    case QS_MSG_ISLAND_GENOMES:
        return read_island_genomes(map, &m->u.island_genomes, err);
    case QS_MSG_SHUTDOWN: {
        static const char *const key = "reason";
        const msgpack_object *v;
        int rc = qs_mp_fields(map, &key, 1, &v, "shutdown", err);
        return rc < 0 ? rc
                      : qs_mp_str(v, "shutdown", key, m->u.shutdown.reason,
                                  sizeof m->u.shutdown.reason, err);
    }
    }
    return qs_error_set(err, QS_ERR(INVAL), "message: type %d", (int)m->type);
}

int qs_msg_decode(qs_msg_t *m, const uint8_t *payload, size_t len, qs_error_t *err)
{
    static const qs_mp_kind_t kind = {.what = "message",
                                      .version_of = "protocol version",
                                      .verb = "supports",
                                      .names = msg_names,
                                      .last = QS_MSG_LAST,
                                      .version = QS_PROTOCOL_VERSION};
    qs_mp_doc_t doc;
    qs_msg_t t;
    memset(&t, 0, sizeof t);
    int type = 0;
    int rc = qs_mp_doc_parse(&doc, payload, len, "message", err);
    if (rc < 0)
        return rc;
    TRY(qs_mp_typed_head(doc.root, &kind, &type, err));
    t.type = (qs_msg_type_t)type;
    TRY(read_body(doc.root, &t, err));
    *m = t;
    memset(&t, 0, sizeof t);
out:
    qs_msg_destroy(&t);
    qs_mp_doc_release(&doc);
    return rc;
}

void qs_msg_destroy(qs_msg_t *m)
{
    switch (m->type) {
    case QS_MSG_DATA:
        qs_dataset_destroy(&m->u.data.train);
        qs_dataset_destroy(&m->u.data.fitness);
        break;
    case QS_MSG_TASK:
        free(m->u.task.weights);
        break;
    case QS_MSG_RESULT:
        free(m->u.result.weights);
        break;
    case QS_MSG_ISLAND_RECORDS:
        free(m->u.island_records.records);
        free(m->u.island_records.dead);
        break;
    case QS_MSG_ISLAND:
        free(m->u.island.scenario);
        free(m->u.island.genomes);
        break;
    case QS_MSG_ISLAND_GENOMES:
        free(m->u.island_genomes.genomes);
        break;
    default:
        break;
    }
    memset(m, 0, sizeof *m);
}
