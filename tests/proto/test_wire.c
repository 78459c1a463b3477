/* Tests for proto/wire: every message type round-trips (random contents, several seeds),
 * re-encodes to the same bytes, and streams through a frame reader one byte at a time;
 * every prefix of a payload is rejected and flipped bytes never crash; unknown types and
 * other versions are rejected naming what was received and what is supported; unknown
 * fields are ignored; each field's validation names the field. */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "proto/lineage.h"
#include "proto/wire.h"
#include "tests/proto/proto_test.h"

#define NTYPES 14

static void rand_bytes(qs_rng_t *r, uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        p[i] = (uint8_t)qs_rng_u32(r);
}

static double rand_special(qs_rng_t *r)
{
    switch (qs_rng_below(r, 5)) {
    case 0:
        return NAN;
    case 1:
        return INFINITY;
    case 2:
        return -INFINITY;
    default:
        return qs_rng_normal(r) * 1e3;
    }
}

static void rand_fidelity(qs_rng_t *r, qs_fidelity_t *f)
{
    f->l_sr = qs_rng_uniform(r) * 100;
    f->margin = qs_rng_uniform(r);
    f->srq = rand_special(r);
    f->rel_err = rand_special(r);
    f->r2 = rand_special(r);
    f->rms = qs_rng_uniform(r);
    f->zero_quine = (int)qs_rng_below(r, 2);
}

static float *rand_weights(qs_rng_t *r, uint32_t n)
{
    float *w = malloc(n * sizeof *w);
    for (uint32_t i = 0; i < n; i++)
        w[i] = (float)qs_rng_normal(r);
    return w;
}

static void rand_dataset(qs_rng_t *r, qs_dataset_t *d, uint32_t count)
{
    d->count = count;
    d->rows = 1 + qs_rng_below(r, 28);
    d->cols = 1 + qs_rng_below(r, 28);
    size_t n = (size_t)count * d->rows * d->cols;
    d->pixels = malloc(n + 1);
    d->labels = malloc(count + 1);
    rand_bytes(r, d->pixels, n);
    for (uint32_t i = 0; i < count; i++)
        d->labels[i] = (uint8_t)qs_rng_below(r, QS_NUM_CLASSES);
}

/* A random message of type t. */
static void rand_msg(qs_msg_t *m, qs_msg_type_t t, uint64_t seed)
{
    qs_rng_t r;
    qs_rng_init(&r, seed, qs_rng_stream(QS_STREAM_TEST, 20 + (uint64_t)t));
    memset(m, 0, sizeof *m);
    m->type = t;
    switch (t) {
    case QS_MSG_HELLO:
        snprintf(m->u.hello.role, sizeof m->u.hello.role, "worker");
        m->u.hello.pid = qs_rng_u32(&r);
        snprintf(m->u.hello.host, sizeof m->u.hello.host, "node-%u", qs_rng_below(&r, 100));
        m->u.hello.has_auth = (int)(seed & 1);
        if (seed & 2) { /* the optional fields */
            snprintf(m->u.hello.blas, sizeof m->u.hello.blas, "SkylakeX");
            snprintf(m->u.hello.isa, sizeof m->u.hello.isa, "avx512_core_amx");
        }
        if (m->u.hello.has_auth) {
            rand_bytes(&r, m->u.hello.nonce, QS_NONCE_LEN);
            rand_bytes(&r, m->u.hello.mac, QS_MAC_LEN);
        }
        break;
    case QS_MSG_CHALLENGE:
        rand_bytes(&r, m->u.challenge.nonce, QS_NONCE_LEN);
        break;
    case QS_MSG_WELCOME:
        rand_bytes(&r, m->u.welcome.mac, QS_MAC_LEN);
        break;
    case QS_MSG_CONFIG: {
        qs_msg_config_t *c = &m->u.config;
        c->seed = qs_rng_u64(&r);
        c->nspecies = 1 + qs_rng_below(&r, QS_MAX_SPECIES);
        for (uint32_t i = 0; i < c->nspecies; i++) {
            qs_species_cfg_t *s = &c->species[i];
            snprintf(s->name, sizeof s->name, "species-%u", i);
            s->spec = pt_spec(qs_rng_below(&r, 2) ? QS_KIND_AUX : QS_KIND_VANILLA,
                              2 + qs_rng_below(&r, 200), 1 + qs_rng_below(&r, 4), qs_rng_u64(&r));
            s->obj.sr_loss = (qs_sr_loss_t)qs_rng_below(&r, 3);
            s->obj.lambda = (float)qs_rng_uniform(&r);
            s->obj.temperature = 0.01f;
            s->obj.reduce = (qs_reduce_t)qs_rng_below(&r, 2);
            s->obj.pairing = (qs_pairing_t)qs_rng_below(&r, 2);
            s->init = (qs_init_t)qs_rng_below(&r, 2);
        }
        c->opt.kind = (qs_opt_kind_t)qs_rng_below(&r, 6);
        c->opt.lr = 2e-3f;
        c->opt.beta1 = 0.9f;
        c->opt.beta2 = 0.999f;
        c->opt.eps = 1e-8f;
        c->opt.momentum = 0.9f;
        c->opt.alpha = 0.99f;
        c->batch = qs_rng_below(&r, 1000);
        c->images = qs_rng_below(&r, 1000);
        c->refresh = (qs_refresh_t)qs_rng_below(&r, 2);
        c->fertility.recipe = (qs_life_recipe_t)qs_rng_below(&r, 2);
        c->fertility.steps = qs_rng_below(&r, 100);
        c->fertility.cg_iters = qs_rng_below(&r, 100);
        c->fertility.regen = (qs_regen_t)qs_rng_below(&r, 2);
        c->fertility.measure_child = (int)qs_rng_below(&r, 2);
        c->mode = (qs_replicate_mode_t)qs_rng_below(&r, 2);
        c->regenerations = qs_rng_below(&r, 10);
        c->mutation_sigma = (float)qs_rng_uniform(&r);
        c->mutation_rate = (float)qs_rng_uniform(&r);
        c->precision = (qs_precision_t)qs_rng_below(&r, 2);
        snprintf(c->data_path, sizeof c->data_path, "/data/mnist-\xc3\xa9/%u", qs_rng_u32(&r));
        c->train_count = qs_rng_u32(&r);
        c->fitness_count = qs_rng_u32(&r);
        c->data_hash = qs_rng_u32(&r);
        c->max_message = 1024 + qs_rng_below(&r, 1u << 30);
        c->heartbeat_s = 0.5 + qs_rng_uniform(&r);
        c->memory_mb = qs_rng_u32(&r);
        c->count = 1 + qs_rng_below(&r, 3); /* 1: a single run's, sent without the fields */
        c->index = qs_rng_below(&r, c->count);
        break;
    }
    case QS_MSG_DATA_REQUEST:
        m->u.data_request.data_hash = qs_rng_u32(&r);
        break;
    case QS_MSG_DATA:
        m->u.data.data_hash = qs_rng_u32(&r);
        rand_dataset(&r, &m->u.data.train, qs_rng_below(&r, 20));
        rand_dataset(&r, &m->u.data.fitness, qs_rng_below(&r, 5));
        break;
    case QS_MSG_TASK: {
        qs_life_task_t *k = &m->u.task;
        k->task_id = qs_rng_u64(&r);
        k->kind = (qs_task_kind_t)(1 + qs_rng_below(&r, 3));
        k->organism = qs_rng_u64(&r);
        k->parent = qs_rng_u64(&r);
        k->generation = qs_rng_u32(&r);
        k->species = qs_rng_below(&r, QS_MAX_SPECIES);
        k->steps = qs_rng_u64(&r);
        k->life_stream = qs_rng_u64(&r);
        k->mutation_stream = qs_rng_u64(&r);
        k->nweights = 1 + qs_rng_below(&r, 300);
        k->weights = rand_weights(&r, k->nweights);
        k->config = qs_rng_below(&r, 3); /* 0: a single run's, sent without the field */
        break;
    }
    case QS_MSG_RESULT: {
        qs_life_result_t *k = &m->u.result;
        k->task_id = qs_rng_u64(&r);
        k->organism = qs_rng_u64(&r);
        k->steps = qs_rng_u64(&r);
        k->flops_life = qs_rng_u64(&r);
        k->flops_replication = qs_rng_u64(&r);
        k->flops_eval = qs_rng_u64(&r);
        k->train_loss = rand_special(&r);
        k->accuracy = qs_rng_below(&r, 2) ? NAN : qs_rng_uniform(&r);
        rand_fidelity(&r, &k->fidelity);
        k->has_link = (int)qs_rng_below(&r, 2);
        if (k->has_link)
            rand_fidelity(&r, &k->link);
        k->mutated = qs_rng_u32(&r);
        k->seconds = qs_rng_uniform(&r) * 10;
        k->nweights = 1 + qs_rng_below(&r, 300);
        k->weights = rand_weights(&r, k->nweights);
        k->has_child = (int)qs_rng_below(&r, 2); /* last: the pinned encodings keep their draws */
        k->child_r2 = k->has_child ? qs_rng_normal(&r) : NAN;
        k->drift2_r2 = k->has_child ? rand_special(&r) : NAN;
        break;
    }
    case QS_MSG_HEARTBEAT:
        m->u.heartbeat.seq = qs_rng_u64(&r);
        m->u.heartbeat.task_id = qs_rng_u64(&r);
        break;
    case QS_MSG_ERROR:
        m->u.error.task_id = qs_rng_u64(&r);
        m->u.error.code = QS_ERR(CHECKSUM);
        snprintf(m->u.error.message, sizeof m->u.error.message, "task %u: \"bad\" \xe2\x9c\x97",
                 qs_rng_u32(&r));
        break;
    case QS_MSG_SHUTDOWN:
        snprintf(m->u.shutdown.reason, sizeof m->u.shutdown.reason, "done");
        break;
    case QS_MSG_ISLAND_RECORDS: {
        qs_msg_island_records_t *k = &m->u.island_records;
        k->island = qs_rng_below(&r, 1000);
        k->generation = qs_rng_u32(&r);
        k->records_len = qs_rng_below(&r, 300);
        k->records = malloc(k->records_len + 1);
        rand_bytes(&r, k->records, k->records_len);
        k->ndead = qs_rng_below(&r, 5);
        k->dead = calloc(k->ndead + 1, sizeof *k->dead);
        for (uint32_t i = 0; i < k->ndead; i++)
            k->dead[i] = (qs_island_dead_t){.id = 1 + qs_rng_below(&r, 1000),
                                            .parent = qs_rng_u64(&r),
                                            .flops_total = qs_rng_u64(&r),
                                            .born = qs_rng_u32(&r),
                                            .species = qs_rng_below(&r, QS_MAX_SPECIES),
                                            .accuracy = rand_special(&r),
                                            .rel_err = rand_special(&r),
                                            .r2 = rand_special(&r)};
        k->nspecies = qs_rng_below(&r, QS_MAX_SPECIES + 1);
        for (uint32_t i = 0; i < k->nspecies; i++)
            k->alive[i] = qs_rng_u32(&r);
        k->immigrants = qs_rng_u32(&r);
        k->immigrants_lost = qs_rng_u32(&r);
        k->best_fitness = rand_special(&r);
        if (qs_rng_below(&r, 2)) { /* hosting = workers: the task and the best's genome */
            k->task_id = 1 + qs_rng_below(&r, 1000);
            k->run_best_id = 1 + qs_rng_below(&r, 1000);
            k->run_best_fitness = rand_special(&r);
        }
        break;
    }
    case QS_MSG_ISLAND: {
        qs_msg_island_t *k = &m->u.island;
        k->op = (qs_island_op_t)qs_rng_below(&r, 5);
        k->task_id = qs_rng_u64(&r);
        k->config = qs_rng_below(&r, QS_WIRE_MAX_CONFIGS);
        k->island = qs_rng_below(&r, QS_MAX_ISLANDS);
        k->generation = qs_rng_u32(&r);
        k->last = (int)qs_rng_below(&r, 2);
        k->migrate = (int)qs_rng_below(&r, 2);
        if (qs_rng_below(&r, 2)) {
            k->best_id = 1 + qs_rng_below(&r, 1000);
            k->best_fitness = rand_special(&r);
        }
        if (k->op == QS_ISLAND_HOST && qs_rng_below(&r, 2)) {
            k->scenario = malloc(32);
            snprintf(k->scenario, 32, "[run]\nseed = %u\n", qs_rng_u32(&r));
        }
        if (k->op == QS_ISLAND_IMMIGRANTS || (k->op == QS_ISLAND_HOST && qs_rng_below(&r, 2))) {
            k->genomes_len = qs_rng_below(&r, 300);
            k->genomes = malloc(k->genomes_len + 1);
            rand_bytes(&r, k->genomes, k->genomes_len);
        }
        break;
    }
    case QS_MSG_ISLAND_GENOMES: {
        qs_msg_island_genomes_t *k = &m->u.island_genomes;
        k->task_id = 1 + qs_rng_u32(&r);
        k->island = qs_rng_below(&r, QS_MAX_ISLANDS);
        k->generation = qs_rng_u32(&r);
        k->state = (int)qs_rng_below(&r, 2);
        k->genomes_len = qs_rng_below(&r, 300);
        k->genomes = malloc(k->genomes_len + 1);
        rand_bytes(&r, k->genomes, k->genomes_len);
        break;
    }
    }
}

static void assert_ds_eq(const qs_dataset_t *a, const qs_dataset_t *b)
{
    cr_assert_eq(a->count, b->count);
    cr_assert_eq(a->rows, b->rows);
    cr_assert_eq(a->cols, b->cols);
    size_t n = (size_t)a->count * a->rows * a->cols;
    cr_assert(n == 0 || memcmp(a->pixels, b->pixels, n) == 0);
    cr_assert(a->count == 0 || memcmp(a->labels, b->labels, a->count) == 0);
}

static void assert_msg_eq(const qs_msg_t *a, const qs_msg_t *b)
{
    cr_assert_eq(a->type, b->type);
    switch (a->type) {
    case QS_MSG_HELLO:
        cr_assert_str_eq(a->u.hello.role, b->u.hello.role);
        cr_assert_eq(a->u.hello.pid, b->u.hello.pid);
        cr_assert_str_eq(a->u.hello.host, b->u.hello.host);
        cr_assert_eq(a->u.hello.has_auth, b->u.hello.has_auth);
        cr_assert_arr_eq(a->u.hello.nonce, b->u.hello.nonce, QS_NONCE_LEN);
        cr_assert_arr_eq(a->u.hello.mac, b->u.hello.mac, QS_MAC_LEN);
        cr_assert_str_eq(a->u.hello.blas, b->u.hello.blas);
        cr_assert_str_eq(a->u.hello.isa, b->u.hello.isa);
        break;
    case QS_MSG_CHALLENGE:
        cr_assert_arr_eq(a->u.challenge.nonce, b->u.challenge.nonce, QS_NONCE_LEN);
        break;
    case QS_MSG_WELCOME:
        cr_assert_arr_eq(a->u.welcome.mac, b->u.welcome.mac, QS_MAC_LEN);
        break;
    case QS_MSG_CONFIG: {
        const qs_msg_config_t *x = &a->u.config, *y = &b->u.config;
        cr_assert_eq(x->seed, y->seed);
        cr_assert_eq(x->nspecies, y->nspecies);
        for (uint32_t i = 0; i < x->nspecies; i++) {
            const qs_species_cfg_t *s = &x->species[i], *t = &y->species[i];
            cr_assert_str_eq(s->name, t->name);
            cr_assert_eq(memcmp(&s->spec, &t->spec, sizeof s->spec), 0);
            cr_assert_eq(s->obj.sr_loss, t->obj.sr_loss);
            cr_assert_eq(s->obj.lambda, t->obj.lambda);
            cr_assert_eq(s->obj.temperature, t->obj.temperature);
            cr_assert_eq(s->obj.reduce, t->obj.reduce);
            cr_assert_eq(s->obj.pairing, t->obj.pairing);
            cr_assert_eq(s->init, t->init);
        }
        cr_assert_eq(memcmp(&x->opt, &y->opt, sizeof x->opt), 0);
        cr_assert_eq(x->batch, y->batch);
        cr_assert_eq(x->images, y->images);
        cr_assert_eq(x->refresh, y->refresh);
        cr_assert_eq(x->fertility.recipe, y->fertility.recipe);
        cr_assert_eq(x->fertility.steps, y->fertility.steps);
        cr_assert_eq(x->fertility.cg_iters, y->fertility.cg_iters);
        cr_assert_eq(x->fertility.regen, y->fertility.regen);
        cr_assert_eq(x->fertility.measure_child, y->fertility.measure_child);
        cr_assert_eq(x->mode, y->mode);
        cr_assert_eq(x->regenerations, y->regenerations);
        cr_assert_eq(x->mutation_sigma, y->mutation_sigma);
        cr_assert_eq(x->mutation_rate, y->mutation_rate);
        cr_assert_eq(x->precision, y->precision);
        cr_assert_str_eq(x->data_path, y->data_path);
        cr_assert_eq(x->train_count, y->train_count);
        cr_assert_eq(x->fitness_count, y->fitness_count);
        cr_assert_eq(x->data_hash, y->data_hash);
        cr_assert_eq(x->max_message, y->max_message);
        cr_assert_eq(x->heartbeat_s, y->heartbeat_s);
        cr_assert_eq(x->memory_mb, y->memory_mb);
        cr_assert_eq(x->count, y->count);
        cr_assert_eq(x->index, y->index);
        break;
    }
    case QS_MSG_DATA_REQUEST:
        cr_assert_eq(a->u.data_request.data_hash, b->u.data_request.data_hash);
        break;
    case QS_MSG_DATA:
        cr_assert_eq(a->u.data.data_hash, b->u.data.data_hash);
        assert_ds_eq(&a->u.data.train, &b->u.data.train);
        assert_ds_eq(&a->u.data.fitness, &b->u.data.fitness);
        break;
    case QS_MSG_TASK: {
        const qs_life_task_t *x = &a->u.task, *y = &b->u.task;
        cr_assert_eq(x->task_id, y->task_id);
        cr_assert_eq(x->kind, y->kind);
        cr_assert_eq(x->organism, y->organism);
        cr_assert_eq(x->parent, y->parent);
        cr_assert_eq(x->generation, y->generation);
        cr_assert_eq(x->species, y->species);
        cr_assert_eq(x->steps, y->steps);
        cr_assert_eq(x->life_stream, y->life_stream);
        cr_assert_eq(x->mutation_stream, y->mutation_stream);
        cr_assert_eq(x->nweights, y->nweights);
        cr_assert(pt_floats_same(x->weights, y->weights, x->nweights));
        cr_assert_eq(x->config, y->config);
        break;
    }
    case QS_MSG_RESULT: {
        const qs_life_result_t *x = &a->u.result, *y = &b->u.result;
        cr_assert_eq(x->task_id, y->task_id);
        cr_assert_eq(x->organism, y->organism);
        cr_assert_eq(x->steps, y->steps);
        cr_assert_eq(x->flops_life, y->flops_life);
        cr_assert_eq(x->flops_replication, y->flops_replication);
        cr_assert_eq(x->flops_eval, y->flops_eval);
        cr_assert(pt_double_same(x->train_loss, y->train_loss));
        cr_assert(pt_double_same(x->accuracy, y->accuracy));
        pt_assert_fidelity_eq(&x->fidelity, &y->fidelity);
        cr_assert_eq(x->has_link, y->has_link);
        if (x->has_link)
            pt_assert_fidelity_eq(&x->link, &y->link);
        cr_assert_eq(x->has_child, y->has_child);
        cr_assert(pt_double_same(x->child_r2, y->child_r2));
        cr_assert(pt_double_same(x->drift2_r2, y->drift2_r2));
        cr_assert_eq(x->mutated, y->mutated);
        cr_assert_eq(x->seconds, y->seconds);
        cr_assert_eq(x->nweights, y->nweights);
        cr_assert(pt_floats_same(x->weights, y->weights, x->nweights));
        break;
    }
    case QS_MSG_HEARTBEAT:
        cr_assert_eq(a->u.heartbeat.seq, b->u.heartbeat.seq);
        cr_assert_eq(a->u.heartbeat.task_id, b->u.heartbeat.task_id);
        break;
    case QS_MSG_ERROR:
        cr_assert_eq(a->u.error.task_id, b->u.error.task_id);
        cr_assert_eq(a->u.error.code, b->u.error.code);
        cr_assert_str_eq(a->u.error.message, b->u.error.message);
        break;
    case QS_MSG_SHUTDOWN:
        cr_assert_str_eq(a->u.shutdown.reason, b->u.shutdown.reason);
        break;
    case QS_MSG_ISLAND_RECORDS: {
        const qs_msg_island_records_t *x = &a->u.island_records, *y = &b->u.island_records;
        cr_assert_eq(x->island, y->island);
        cr_assert_eq(x->generation, y->generation);
        cr_assert_eq(x->records_len, y->records_len);
        cr_assert_arr_eq(x->records, y->records, x->records_len);
        cr_assert_eq(x->ndead, y->ndead);
        for (uint32_t i = 0; i < x->ndead; i++) {
            const qs_island_dead_t *p = &x->dead[i], *q = &y->dead[i];
            cr_assert(p->id == q->id && p->parent == q->parent && p->born == q->born &&
                      p->species == q->species && p->flops_total == q->flops_total);
            cr_assert(pt_double_same(p->accuracy, q->accuracy));
            cr_assert(pt_double_same(p->rel_err, q->rel_err));
            cr_assert(pt_double_same(p->r2, q->r2));
        }
        cr_assert_eq(x->nspecies, y->nspecies);
        cr_assert_arr_eq(x->alive, y->alive, x->nspecies * sizeof x->alive[0]);
        cr_assert_eq(x->immigrants, y->immigrants);
        cr_assert_eq(x->immigrants_lost, y->immigrants_lost);
        cr_assert(pt_double_same(x->best_fitness, y->best_fitness));
        cr_assert_eq(x->task_id, y->task_id);
        cr_assert_eq(x->run_best_id, y->run_best_id);
        cr_assert(!x->run_best_id || pt_double_same(x->run_best_fitness, y->run_best_fitness));
        break;
    }
    case QS_MSG_ISLAND: {
        const qs_msg_island_t *x = &a->u.island, *y = &b->u.island;
        cr_assert(x->op == y->op && x->task_id == y->task_id && x->config == y->config &&
                  x->island == y->island && x->generation == y->generation && x->last == y->last &&
                  x->migrate == y->migrate && x->best_id == y->best_id);
        cr_assert(!x->best_id || pt_double_same(x->best_fitness, y->best_fitness));
        cr_assert_eq(!x->scenario, !y->scenario);
        cr_assert(!x->scenario || strcmp(x->scenario, y->scenario) == 0);
        cr_assert_eq(!x->genomes, !y->genomes);
        cr_assert_eq(x->genomes_len, y->genomes_len);
        cr_assert(!x->genomes || memcmp(x->genomes, y->genomes, x->genomes_len) == 0);
        break;
    }
    case QS_MSG_ISLAND_GENOMES: {
        const qs_msg_island_genomes_t *x = &a->u.island_genomes, *y = &b->u.island_genomes;
        cr_assert(x->task_id == y->task_id && x->island == y->island &&
                  x->generation == y->generation && x->state == y->state);
        cr_assert_eq(x->genomes_len, y->genomes_len);
        cr_assert_arr_eq(x->genomes, y->genomes, x->genomes_len);
        break;
    }
    }
}

typedef struct {
    int type;
    uint64_t seed;
} type_seed_t;

ParameterizedTestParameters(wire, roundtrip_every_type)
{
    static type_seed_t cases[NTYPES * 4];
    for (int t = 0; t < NTYPES; t++)
        for (int s = 0; s < 4; s++)
            cases[t * 4 + s] = (type_seed_t){t + 1, (uint64_t)(100 * t + s)};
    return cr_make_param_array(type_seed_t, cases, NTYPES * 4);
}

ParameterizedTest(type_seed_t *c, wire, roundtrip_every_type)
{
    qs_msg_t m, d;
    rand_msg(&m, (qs_msg_type_t)c->type, c->seed);
    qs_bytes_t b, b2;
    qs_bytes_init(&b);
    qs_bytes_init(&b2);
    qs_msg_encode(&m, &b);
    const uint8_t *p;
    size_t plen;
    pt_unframe(&b, &p, &plen);
    qs_error_t err;
    int rc = qs_msg_decode(&d, p, plen, &err);
    cr_assert_eq(rc, 0, "%s: %s", qs_msg_type_name(m.type), err.msg);
    assert_msg_eq(&m, &d);
    qs_msg_encode(&d, &b2);
    cr_assert_eq(b.len, b2.len);
    cr_assert_eq(memcmp(b.data, b2.data, b.len), 0, "re-encoding differs");
    qs_msg_destroy(&m);
    qs_msg_destroy(&d);
    cr_assert_eq(d.type, 0);
    qs_bytes_destroy(&b);
    qs_bytes_destroy(&b2);
}

Test(wire, type_names)
{
    cr_assert_str_eq(qs_msg_type_name(QS_MSG_HELLO), "hello");
    cr_assert_str_eq(qs_msg_type_name(QS_MSG_DATA_REQUEST), "data_request");
    cr_assert_str_eq(qs_msg_type_name(QS_MSG_SHUTDOWN), "shutdown");
    cr_assert_null(qs_msg_type_name((qs_msg_type_t)0));
    cr_assert_str_eq(qs_msg_type_name(QS_MSG_ISLAND_RECORDS), "island_records");
    cr_assert_str_eq(qs_msg_type_name(QS_MSG_ISLAND), "island");
    cr_assert_str_eq(qs_msg_type_name(QS_MSG_ISLAND_GENOMES), "island_genomes");
    cr_assert_null(qs_msg_type_name((qs_msg_type_t)15));
    cr_assert_str_eq(qs_island_op_name(QS_ISLAND_IMMIGRANTS), "immigrants");
    cr_assert_str_eq(qs_island_op_name(QS_ISLAND_DROP), "drop");
    cr_assert_null(qs_island_op_name((qs_island_op_t)5));
    cr_assert_str_eq(qs_task_kind_name(QS_TASK_BIRTH), "birth");
    cr_assert_str_eq(qs_replicate_mode_name(QS_REPLICATE_COPY), "copy");
}

/* Every message type, each several times, in one stream fed one byte at a time. */
Test(wire, stream_of_every_type_one_byte_at_a_time)
{
    enum { N = NTYPES * 3 };
    qs_msg_t sent[N];
    qs_bytes_t s;
    qs_bytes_init(&s);
    for (int i = 0; i < N; i++) {
        rand_msg(&sent[i], (qs_msg_type_t)(1 + i % NTYPES), (uint64_t)i);
        qs_msg_encode(&sent[i], &s);
    }
    qs_frame_reader_t rd;
    qs_frame_reader_init(&rd, QS_MAX_MESSAGE_DEFAULT);
    int got = 0;
    for (size_t pos = 0; pos < s.len; pos++) {
        size_t used, plen;
        const uint8_t *p;
        qs_error_t err;
        int rc = qs_frame_reader_feed(&rd, s.data + pos, 1, &used, &p, &plen, &err);
        cr_assert_geq(rc, 0, "%s", err.msg);
        cr_assert_eq(used, 1);
        if (rc == 1) {
            qs_msg_t d;
            cr_assert_eq(qs_msg_decode(&d, p, plen, &err), 0, "%s", err.msg);
            assert_msg_eq(&sent[got], &d);
            qs_msg_destroy(&d);
            got++;
        }
    }
    cr_assert_eq(got, N);
    cr_assert_eq(qs_frame_reader_pending(&rd), 0);
    for (int i = 0; i < N; i++)
        qs_msg_destroy(&sent[i]);
    qs_frame_reader_destroy(&rd);
    qs_bytes_destroy(&s);
}

ParameterizedTestParameters(wire, every_prefix_rejected)
{
    static int types[NTYPES];
    for (int t = 0; t < NTYPES; t++)
        types[t] = t + 1;
    return cr_make_param_array(int, types, NTYPES);
}

ParameterizedTest(int *type, wire, every_prefix_rejected)
{
    qs_msg_t m;
    rand_msg(&m, (qs_msg_type_t)*type, 7);
    qs_bytes_t b;
    qs_bytes_init(&b);
    qs_msg_encode(&m, &b);
    const uint8_t *p;
    size_t plen;
    pt_unframe(&b, &p, &plen);
    for (size_t n = 0; n < plen; n++) {
        uint8_t *copy = malloc(n + 1);
        memcpy(copy, p, n);
        qs_msg_t d;
        memset(&d, 0x5a, sizeof d);
        qs_error_t err;
        int rc = qs_msg_decode(&d, copy, n, &err);
        cr_assert_lt(rc, 0, "%s: prefix %zu/%zu accepted", qs_msg_type_name(m.type), n, plen);
        free(copy);
    }
    qs_msg_destroy(&m);
    qs_bytes_destroy(&b);
}

ParameterizedTestParameters(wire, flipped_bytes_never_crash)
{
    static int types[NTYPES];
    for (int t = 0; t < NTYPES; t++)
        types[t] = t + 1;
    return cr_make_param_array(int, types, NTYPES);
}

ParameterizedTest(int *type, wire, flipped_bytes_never_crash)
{
    qs_msg_t m;
    rand_msg(&m, (qs_msg_type_t)*type, 8);
    qs_bytes_t b;
    qs_bytes_init(&b);
    qs_msg_encode(&m, &b);
    const uint8_t *p;
    size_t plen;
    pt_unframe(&b, &p, &plen);
    qs_rng_t r;
    qs_rng_init(&r, 8, qs_rng_stream(QS_STREAM_TEST, 40));
    for (int k = 0; k < 3000; k++) {
        uint8_t *copy = malloc(plen);
        memcpy(copy, p, plen);
        int flips = 1 + (int)qs_rng_below(&r, 3);
        for (int f = 0; f < flips; f++)
            copy[qs_rng_below(&r, (uint32_t)plen)] ^= (uint8_t)(1u << qs_rng_below(&r, 8));
        qs_msg_t d;
        qs_error_t err;
        if (qs_msg_decode(&d, copy, plen, &err) == 0)
            qs_msg_destroy(&d);
        else
            cr_assert_neq(err.msg[0], '\0');
        free(copy);
    }
    qs_msg_destroy(&m);
    qs_bytes_destroy(&b);
}

/* ---- Versions, types, unknown fields, validation -------------------------------------- */

static void v_str_bogus(msgpack_packer *pk)
{
    qs_mp_pack_cstr(pk, "bogus");
}
static void v_2(msgpack_packer *pk)
{
    msgpack_pack_uint64(pk, 2);
}
static void v_0(msgpack_packer *pk)
{
    msgpack_pack_uint64(pk, 0);
}
static void v_map(msgpack_packer *pk)
{
    msgpack_pack_map(pk, 1);
    qs_mp_kv_u64(pk, "x", 1);
}
static void v_neg(msgpack_packer *pk)
{
    msgpack_pack_int64(pk, -3);
}
static void v_big(msgpack_packer *pk)
{
    msgpack_pack_uint64(pk, 1u << 20);
}
static void v_pos_code(msgpack_packer *pk)
{
    msgpack_pack_int64(pk, 5);
}
static void v_six_bytes(msgpack_packer *pk)
{
    msgpack_pack_bin(pk, 6);
    msgpack_pack_bin_body(pk, "abcdef", 6);
}
static void v_empty_bin(msgpack_packer *pk)
{
    msgpack_pack_bin(pk, 0);
}
static void v_31_bytes(msgpack_packer *pk)
{
    uint8_t b[31] = {0};
    msgpack_pack_bin(pk, 31);
    msgpack_pack_bin_body(pk, b, 31);
}
static void v_hidden_1(msgpack_packer *pk)
{
    msgpack_pack_uint64(pk, 1);
}
static void v_same_name(msgpack_packer *pk)
{
    qs_mp_pack_cstr(pk, "species-0");
}
static void v_empty_array(msgpack_packer *pk)
{
    msgpack_pack_array(pk, 0);
}
static void v_float_neg(msgpack_packer *pk)
{
    msgpack_pack_float(pk, -1.0f);
}
static void v_float_nan(msgpack_packer *pk)
{
    msgpack_pack_double(pk, NAN);
}
static void v_float_one(msgpack_packer *pk)
{
    msgpack_pack_float(pk, 1.0f);
}
static void v_float_2(msgpack_packer *pk)
{
    msgpack_pack_double(pk, 2.0);
}
static void v_label_12(msgpack_packer *pk)
{
    msgpack_pack_bin(pk, 1);
    msgpack_pack_bin_body(pk, "\x0c", 1);
}
static void v_nil(msgpack_packer *pk)
{
    msgpack_pack_nil(pk);
}
static void v_long_str(msgpack_packer *pk)
{
    char s[200];
    memset(s, 'r', sizeof s - 1);
    s[sizeof s - 1] = '\0';
    qs_mp_pack_cstr(pk, s);
}
static void v_str_adamw(msgpack_packer *pk)
{
    qs_mp_pack_cstr(pk, "adamw");
}
static void v_species_16(msgpack_packer *pk)
{
    msgpack_pack_uint64(pk, QS_MAX_SPECIES);
}

static const pt_packfn valfns[] = {
    v_str_bogus,   v_2,         v_0,         v_map,       v_neg,      v_big,
    v_pos_code,    v_six_bytes, v_empty_bin, v_31_bytes,  v_hidden_1, v_same_name,
    v_empty_array, v_float_neg, v_float_nan, v_float_one, v_float_2,  v_label_12,
    v_nil,         v_long_str,  v_str_adamw, v_species_16};
enum {
    F_BOGUS,
    F_2,
    F_0,
    F_MAP,
    F_NEG,
    F_BIG,
    F_POSCODE,
    F_SIX,
    F_EMPTYBIN,
    F_31,
    F_HIDDEN1,
    F_SAMENAME,
    F_EMPTYARR,
    F_FNEG,
    F_FNAN,
    F_FONE,
    F_F2,
    F_LABEL12,
    F_NIL,
    F_LONGSTR,
    F_ADAMW,
    F_SPECIES16
};

typedef struct {
    int type;
    char path[40];
    pt_op_t op;
    int fn;
    int code;
    char needle[200];
} edit_case_t;

ParameterizedTestParameters(wire, edited_messages)
{
    static edit_case_t cases[] = {
        {QS_MSG_TASK, "type", PT_REPLACE, F_BOGUS, QS_ERR(FORMAT),
         "unknown type 'bogus' (this build supports: hello, challenge, welcome, config, "
         "data_request, data, task, result, heartbeat, error, shutdown, "
         "island_records, island, island_genomes)"},
        {QS_MSG_TASK, "v", PT_REPLACE, F_2, QS_ERR(VERSION),
         "message 'task': protocol version 2 received, this build supports version 1"},
        {QS_MSG_HELLO, "v", PT_REPLACE, F_0, QS_ERR(VERSION), "protocol version 0 received"},
        {QS_MSG_HELLO, "v", PT_REMOVE, 0, QS_ERR(FORMAT), "message: missing field 'v'"},
        {QS_MSG_HELLO, "type", PT_REMOVE, 0, QS_ERR(FORMAT), "message: missing field 'type'"},
        {QS_MSG_HELLO, "type", PT_REPLACE, F_MAP, QS_ERR(FORMAT),
         "field 'type' is a map, expected a string"},
        {QS_MSG_TASK, "a_field_from_the_future", PT_ADD, F_MAP, 0, ""},
        {QS_MSG_CONFIG, "species.0.future", PT_ADD, F_MAP, 0, ""},
        {QS_MSG_RESULT, "link", PT_REPLACE, F_NIL, 0, ""}, /* nil = no link */
        {QS_MSG_CONFIG, "recipe", PT_REPLACE, F_BOGUS, QS_ERR(RANGE),
         "config: field 'recipe' is 'bogus', expected one of: paper, fertile"},
        {QS_MSG_RESULT, "link", PT_ADD, F_NIL, QS_ERR(FORMAT),
         "result: field 'link' appears twice"},
        {QS_MSG_HELLO, "pid", PT_REPLACE, F_NEG, QS_ERR(RANGE), "hello: field 'pid' is -3"},
        {QS_MSG_HELLO, "role", PT_REPLACE, F_LONGSTR, QS_ERR(TOOBIG),
         "hello: field 'role' has 199 bytes, at most 15 allowed"},
        {QS_MSG_CHALLENGE, "nonce", PT_REPLACE, F_31, QS_ERR(FORMAT),
         "challenge: field 'nonce' has 31 bytes, expected 32"},
        {QS_MSG_WELCOME, "mac", PT_REMOVE, 0, QS_ERR(FORMAT), "welcome: missing field 'mac'"},
        {QS_MSG_TASK, "weights", PT_REPLACE, F_SIX, QS_ERR(RANGE),
         "task: field 'weights' has 6 bytes, expected 4 x (1..67108864) float32"},
        {QS_MSG_TASK, "weights", PT_REPLACE, F_EMPTYBIN, QS_ERR(RANGE), "has 0 bytes"},
        {QS_MSG_TASK, "kind", PT_REPLACE, F_BOGUS, QS_ERR(RANGE),
         "task: field 'kind' is 'bogus', expected one of: live, birth, echo"},
        {QS_MSG_TASK, "species", PT_REPLACE, F_SPECIES16, QS_ERR(RANGE),
         "task: field 'species' is 16, expected an integer in 0..15"},
        {QS_MSG_TASK, "generation", PT_REPLACE, F_BIG, 0, ""},
        {QS_MSG_CONFIG, "species.1.spec.hidden", PT_REPLACE, F_HIDDEN1, QS_ERR(RANGE),
         "config: species[1].spec: "},
        {QS_MSG_CONFIG, "species.1.name", PT_REPLACE, F_SAMENAME, QS_ERR(INVAL),
         "config: species[1] has the same name 'species-0' as species[0]"},
        {QS_MSG_CONFIG, "species", PT_REPLACE, F_EMPTYARR, QS_ERR(RANGE),
         "config: field 'species' has 0 entries, expected 1..16"},
        {QS_MSG_CONFIG, "opt.lr", PT_REPLACE, F_FNEG, QS_ERR(RANGE),
         "config: opt: field 'lr' is -1, expected a number in [0, 1e+06]"},
        {QS_MSG_CONFIG, "opt.beta1", PT_REPLACE, F_FONE, QS_ERR(RANGE),
         "config: opt: field 'beta1' is 1, expected a number in [0, 1)"},
        {QS_MSG_CONFIG, "opt.kind", PT_REPLACE, F_ADAMW, QS_ERR(RANGE),
         "expected one of: sgd, momentum, adam, adamax, adagrad, rmsprop"},
        {QS_MSG_CONFIG, "species.0.objective.temperature", PT_REPLACE, F_FNAN, QS_ERR(RANGE),
         "config: species[0].objective: field 'temperature' is nan"},
        {QS_MSG_CONFIG, "mutation_rate", PT_REPLACE, F_F2, QS_ERR(RANGE),
         "config: field 'mutation_rate' is 2, expected a number in [0, 1]"},
        {QS_MSG_CONFIG, "heartbeat_s", PT_REPLACE, F_0, QS_ERR(RANGE),
         "field 'heartbeat_s' must be positive"},
        {QS_MSG_CONFIG, "max_message", PT_REPLACE, F_0, QS_ERR(RANGE),
         "config: field 'max_message' is 0, expected an integer in 1024..4294967295"},
        {QS_MSG_CONFIG, "mode", PT_REPLACE, F_BOGUS, QS_ERR(RANGE),
         "config: field 'mode' is 'bogus', expected one of: self, copy"},
        {QS_MSG_CONFIG, "precision", PT_REPLACE, F_BOGUS, QS_ERR(RANGE),
         "config: field 'precision' is 'bogus', expected one of: fp32, bf16"},
        {QS_MSG_HELLO, "isa", PT_REPLACE, F_LONGSTR, QS_ERR(TOOBIG),
         "hello: field 'isa' has 199 bytes, at most 31 allowed"},
        {QS_MSG_DATA, "train.pixels", PT_REPLACE, F_SIX, QS_ERR(MISMATCH),
         "data: train: field 'pixels' has 6 bytes"},
        {QS_MSG_DATA, "fitness.rows", PT_REPLACE, F_0, QS_ERR(RANGE),
         "data: fitness: field 'rows' is 0, expected an integer in 1..4096"},
        {QS_MSG_RESULT, "accuracy", PT_REPLACE, F_F2, QS_ERR(RANGE),
         "result: field 'accuracy' is 2, expected NaN or a number in [0, 1]"},
        {QS_MSG_RESULT, "fidelity.zero_quine", PT_REPLACE, F_0, QS_ERR(FORMAT),
         "result: fidelity: field 'zero_quine' is an integer, expected a boolean"},
        {QS_MSG_RESULT, "fidelity", PT_REMOVE, F_0, QS_ERR(FORMAT),
         "result: fidelity: missing (a required map)"},
        {QS_MSG_RESULT, "fidelity", PT_REPLACE, F_BOGUS, QS_ERR(FORMAT),
         "result: fidelity: expected a map, got a string"},
        {QS_MSG_RESULT, "fidelity.rms", PT_REMOVE, F_0, QS_ERR(FORMAT),
         "result: fidelity: missing field 'rms'"},
        {QS_MSG_ERROR, "code", PT_REPLACE, F_POSCODE, QS_ERR(RANGE),
         "error: field 'code' is 5, expected an integer in -2147483648..-1"},
        {QS_MSG_SHUTDOWN, "reason", PT_REPLACE, F_LONGSTR, QS_ERR(TOOBIG),
         "shutdown: field 'reason' has 199 bytes, at most 127 allowed"},
        {QS_MSG_HEARTBEAT, "seq", PT_REPLACE, F_FONE, QS_ERR(FORMAT),
         "heartbeat: field 'seq' is a float, expected an unsigned integer"},
        {QS_MSG_DATA_REQUEST, "data_hash", PT_REPLACE, F_BIG, 0, ""},
        {QS_MSG_CONFIG, "count", PT_ADD, F_0, QS_ERR(RANGE),
         "config: field 'count' is 0, expected an integer in 1..1024"},
        {QS_MSG_CONFIG, "index", PT_ADD, F_2, QS_ERR(RANGE),
         "config: field 'index' is 2, expected an integer in 0..0"},
        {QS_MSG_TASK, "config", PT_REPLACE, F_BIG, QS_ERR(RANGE), /* seed 3: config 1 */
         "task: field 'config' is"},
    };
    return cr_make_param_array(edit_case_t, cases, sizeof cases / sizeof cases[0]);
}

ParameterizedTest(edit_case_t *c, wire, edited_messages)
{
    qs_msg_t m, d;
    rand_msg(&m, (qs_msg_type_t)c->type, 3); /* seed 3: config has >= 2 species */
    if (c->type == QS_MSG_CONFIG)
        cr_assert_geq(m.u.config.nspecies, 2);
    qs_bytes_t b, e;
    qs_bytes_init(&b);
    qs_bytes_init(&e);
    qs_msg_encode(&m, &b);
    const uint8_t *p;
    size_t plen;
    pt_unframe(&b, &p, &plen);
    pt_edit_payload(&e, p, plen, c->path, c->op, valfns[c->fn]);
    qs_error_t err = {0, ""};
    int rc = qs_msg_decode(&d, e.data, e.len, &err);
    cr_assert_eq(rc, c->code, "%s: got %d: %s", c->path, rc, err.msg);
    if (rc == 0) {
        cr_assert_eq(d.type, m.type);
        qs_msg_destroy(&d);
    } else {
        cr_assert(strstr(err.msg, c->needle), "message '%s' lacks '%s'", err.msg, c->needle);
    }
    qs_msg_destroy(&m);
    qs_bytes_destroy(&b);
    qs_bytes_destroy(&e);
}

/* A config without 'precision' (an older orchestrator's) and a hello without 'blas' and
 * 'isa' (an older worker's) decode, as fp32 and as unknown kernels. */
Test(wire, optional_fields_default)
{
    qs_msg_t m, d;
    rand_msg(&m, QS_MSG_CONFIG, 3);
    m.u.config.precision = QS_PREC_BF16;
    qs_bytes_t b, e;
    qs_bytes_init(&b);
    qs_bytes_init(&e);
    qs_msg_encode(&m, &b);
    const uint8_t *p;
    size_t plen;
    pt_unframe(&b, &p, &plen);
    pt_edit_payload(&e, p, plen, "precision", PT_REMOVE, NULL);
    qs_error_t err = {0, ""};
    cr_assert_eq(qs_msg_decode(&d, e.data, e.len, &err), 0, "%s", err.msg);
    cr_expect_eq(d.u.config.precision, QS_PREC_FP32);
    qs_msg_destroy(&d);
    qs_msg_destroy(&m);
    rand_msg(&m, QS_MSG_HELLO, 1); /* seed 1: no blas, no isa */
    qs_bytes_destroy(&b);
    qs_bytes_init(&b);
    qs_msg_encode(&m, &b);
    pt_unframe(&b, &p, &plen);
    cr_assert_eq(qs_msg_decode(&d, p, plen, &err), 0, "%s", err.msg);
    cr_expect_str_empty(d.u.hello.blas);
    cr_expect_str_empty(d.u.hello.isa);
    qs_msg_destroy(&d);
    qs_bytes_destroy(&b);
    qs_bytes_destroy(&e);
}

Test(wire, result_encoding_pinned)
{
    /* A result with a link (its fidelity and the link's share one sub-codec with the
     * checkpoint): the bytes every build since protocol version 1 has sent. */
    for (uint64_t seed = 1; seed <= 8; seed++) {
        qs_msg_t m;
        rand_msg(&m, QS_MSG_RESULT, seed);
        if (!m.u.result.has_link) {
            qs_msg_destroy(&m);
            continue;
        }
        m.u.result.has_child = 0; /* without [life] measure_child, the same bytes */
        qs_bytes_t b;
        qs_bytes_init(&b);
        qs_msg_encode(&m, &b);
        cr_assert_eq(qs_crc32(b.data, b.len), 0x74bd9f19u, "seed %llu: crc32 %08x, %zu bytes",
                     (unsigned long long)seed, qs_crc32(b.data, b.len), b.len);
        qs_bytes_destroy(&b);
        qs_msg_destroy(&m);
        return;
    }
    cr_assert_fail("no seed gave a result with a link");
}

Test(wire, data_labels_checked)
{
    qs_msg_t m, d;
    rand_msg(&m, QS_MSG_DATA, 11);
    cr_assert_gt(m.u.data.train.count, 3);
    m.u.data.train.labels[3] = 10;
    qs_bytes_t b;
    qs_bytes_init(&b);
    qs_msg_encode(&m, &b);
    const uint8_t *p;
    size_t plen;
    pt_unframe(&b, &p, &plen);
    qs_error_t err;
    cr_assert_eq(qs_msg_decode(&d, p, plen, &err), QS_ERR(RANGE));
    cr_assert(strstr(err.msg, "data: train: label 10 of image 3 is not a class (0..9)"), "%s",
              err.msg);
    qs_msg_destroy(&m);
    qs_bytes_destroy(&b);
}

Test(wire, hello_nonce_without_mac)
{
    qs_msg_t m, d;
    rand_msg(&m, QS_MSG_HELLO, 1); /* odd seed: has_auth */
    cr_assert(m.u.hello.has_auth);
    qs_bytes_t b, e;
    qs_bytes_init(&b);
    qs_bytes_init(&e);
    qs_msg_encode(&m, &b);
    const uint8_t *p;
    size_t plen;
    pt_unframe(&b, &p, &plen);
    pt_edit_payload(&e, p, plen, "mac", PT_REMOVE, NULL);
    qs_error_t err;
    cr_assert_eq(qs_msg_decode(&d, e.data, e.len, &err), QS_ERR(FORMAT));
    cr_assert(strstr(err.msg, "hello: field 'nonce' without 'mac'"), "%s", err.msg);
    qs_bytes_destroy(&b);
    qs_bytes_destroy(&e);
}

Test(wire, huge_weight_claim_refused_before_allocating)
{
    /* {"type":"task","v":1,"weights": bin32 claiming 1 GiB} in 30 bytes */
    qs_bytes_t b;
    qs_bytes_init(&b);
    msgpack_packer pk;
    qs_mp_packer_init(&pk, &b);
    msgpack_pack_map(&pk, 3);
    qs_mp_kv_str(&pk, "type", "task");
    qs_mp_kv_u64(&pk, "v", 1);
    qs_mp_pack_cstr(&pk, "weights");
    msgpack_pack_bin(&pk, 1u << 30);
    qs_msg_t d;
    qs_error_t err;
    cr_assert_eq(qs_msg_decode(&d, b.data, b.len, &err), QS_ERR(TOOBIG));
    cr_assert(strstr(err.msg, "claims 1073741824 bytes"), "%s", err.msg);
    qs_bytes_destroy(&b);
}
