/* life: species runtimes, birth (replication, link, mutation), life, evaluation. */
#include "core/life.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/fertile.h"
#include "core/regen.h"
#include "core/rng.h"
#include "core/vec.h"

/* ---- names ----------------------------------------------------------------------------- */

static const char *const mode_names[] = {"self", "copy"};
QS_NAME_FNS(qs_replicate_mode_name, qs_replicate_mode_parse, qs_replicate_mode_t, mode_names)
const qs_names_t qs_replicate_mode_names = QS_NAMES(mode_names);

static const char *const recipe_names[] = {"paper", "fertile"};
QS_NAME_FNS(qs_life_recipe_name, qs_life_recipe_parse, qs_life_recipe_t, recipe_names)
const qs_names_t qs_life_recipe_names = QS_NAMES(recipe_names);

const char *qs_task_kind_name(qs_task_kind_t k)
{
    switch (k) {
    case QS_TASK_LIVE:
        return "live";
    case QS_TASK_BIRTH:
        return "birth";
    case QS_TASK_ECHO:
        return "echo";
    }
    return NULL;
}

void qs_life_task_destroy(qs_life_task_t *t)
{
    free(t->weights);
    t->weights = NULL;
    t->nweights = 0;
}

void qs_life_result_destroy(qs_life_result_t *r)
{
    free(r->weights);
    r->weights = NULL;
    r->nweights = 0;
}

/* ---- a species runtime ----------------------------------------------------------------- */

static int check_images(const qs_dataset_t *ds, const char *what, const qs_quine_spec_t *spec,
                        qs_error_t *err)
{
    if ((size_t)ds->rows * ds->cols == spec->image_dim)
        return 0;
    return qs_error_set(err, QS_ERR(FORMAT), "%s images of %u x %u pixels, the %s quine expects %u",
                        what, ds->rows, ds->cols, qs_kind_name(spec->kind), spec->image_dim);
}

int qs_life_species_init(qs_life_species_t *s, const qs_quine_spec_t *spec,
                         const qs_life_setup_t *setup, qs_error_t *err)
{
    memset(s, 0, sizeof *s);
    const int aux = spec->kind == QS_KIND_AUX;
    const int want_train = aux && setup->train_cfg && !setup->classifier_only;
    const int want_mean = aux && spec->rest == QS_REST_MEAN;
    if ((want_train || want_mean) && !setup->train)
        return qs_error_set(err, QS_ERR(INVAL), "the %s needs the training images",
                            want_mean ? "mean rest input" : "trainer");
    if (aux && setup->train && check_images(setup->train, "training", spec, err) < 0)
        return QS_ERR(FORMAT);
    if (aux && setup->fitness && check_images(setup->fitness, "fitness", spec, err) < 0)
        return QS_ERR(FORMAT);

    float *mean = NULL;
    if (want_mean) {
        mean = xmalloc(spec->image_dim * sizeof *mean);
        qs_dataset_mean_image(setup->train, mean);
    }
    s->spec = *spec;
    s->phys = setup->classifier_only ? qs_phys_new_classifier(spec, mean) : qs_phys_new(spec, mean);
    free(mean);
    s->n = qs_phys_nparams(s->phys);
    if (want_train) {
        qs_features_init(&s->train, s->phys, setup->train);
        s->has_train = 1;
    }
    if (aux && setup->fitness) {
        qs_features_init(&s->fitness, s->phys, setup->fitness);
        s->has_fitness = 1;
    }
    if (setup->train_cfg && !setup->classifier_only)
        s->trainer = qs_trainer_new(s->phys, setup->train_cfg, s->has_train ? &s->train : NULL);
    s->work = qs_work_new(spec, setup->work_rows ? setup->work_rows : 1);
    s->precision = qs_work_set_precision(s->work, setup->precision);
    if (s->trainer) /* its regenerations (train --regen-every) */
        qs_trainer_set_precision(s->trainer, setup->precision);
    s->pred = xaligned(s->n * sizeof(float));
    s->child = xaligned(s->n * sizeof(float));
    s->grand = xaligned(s->n * sizeof(float));
    if (setup->fertility)
        s->fertility = *setup->fertility;
    if (s->fertility.recipe == QS_LIFE_RECIPE_FERTILE && s->trainer) {
        qs_fertile_cfg_t fc = qs_fertile_defaults();
        fc.generations = 2; /* the child's own copy error needs theta_1 */
        fc.regen = s->fertility.regen;
        s->fert = qs_fertile_new(s->phys, &fc, 0);
    }
    return 0;
}

size_t qs_life_species_bytes(const qs_quine_spec_t *spec, uint32_t ntrain, uint32_t nfitness,
                             const qs_train_cfg_t *train_cfg)
{
    size_t n = qs_quine_nparams(spec);
    size_t bytes = qs_phys_bytes(spec, 1) + qs_work_bytes(spec) + 3 * n * sizeof(float);
    if (spec->kind == QS_KIND_AUX) {
        size_t hi = spec->hidden - spec->hidden / 2;
        if (train_cfg)
            bytes += ((size_t)ntrain * hi + 1) * sizeof(float);
        if (nfitness)
            bytes += ((size_t)nfitness * hi + 1) * sizeof(float);
    }
    if (train_cfg)
        bytes += qs_trainer_bytes(spec, train_cfg, spec->kind == QS_KIND_AUX ? ntrain : 0);
    return bytes;
}

void qs_life_species_destroy(qs_life_species_t *s)
{
    qs_trainer_free(s->trainer);
    qs_work_free(s->work);
    if (s->has_train)
        qs_features_destroy(&s->train);
    if (s->has_fitness)
        qs_features_destroy(&s->fitness);
    qs_fertile_free(s->fert);
    qs_phys_free(s->phys);
    free(s->pred);
    free(s->child);
    free(s->grand);
    memset(s, 0, sizeof *s);
}

/* ---- the three steps ------------------------------------------------------------------- */

void qs_life_birth(qs_life_species_t *s, const qs_birth_cfg_t *b, uint64_t seed, uint64_t stream,
                   float *theta, qs_life_result_t *r)
{
    /* child = f^k(parent) (self) or parent (copy); link = child vs parent. */
    memcpy(s->child, theta, s->n * sizeof(float));
    r->flops_replication = 0;
    if (b->mode == QS_REPLICATE_SELF) {
        for (uint32_t k = 0; k < b->regenerations; k++) {
            qs_quine_predict_all(s->phys, s->child, s->pred, s->work);
            qs_regen_apply(&s->spec, b->regen, s->child, s->pred);
            memcpy(s->child, s->pred, s->n * sizeof(float));
        }
        r->flops_replication = (uint64_t)b->regenerations * qs_flops_regen(&s->spec);
    }
    qs_fidelity_compute(&r->link, theta, s->child, s->n);
    r->has_link = 1;
    qs_rng_t rng;
    qs_rng_init(&rng, seed, stream);
    r->mutated = 0;
    for (size_t i = 0; i < s->n; i++) {
        if (qs_rng_uniform(&rng) < b->mutation_rate) {
            s->child[i] += (float)(b->mutation_sigma * qs_rng_normal(&rng));
            r->mutated++;
        }
    }
    memcpy(theta, s->child, s->n * sizeof(float));
}

uint64_t qs_life_fertile_flops(const qs_quine_spec_t *spec, uint64_t cg_iters, uint64_t tries)
{
    return (12 * cg_iters + 3 * (2 * tries + 1) + 6) * qs_flops_regen(spec);
}

/* The fertile recipe's steps on theta, after the trainer's; returns their FLOPs. */
static uint64_t fertile_life(qs_life_species_t *s, qs_rng_t rng, float *theta)
{
    const qs_life_fertility_t *fc = &s->fertility;
    float *v = s->grand; /* a random unit direction from the life's stream */
    for (size_t i = 0; i < s->n; i++)
        v[i] = (float)qs_rng_normal(&rng);
    qs_fertile_set_direction(s->fert, v);
    const uint32_t cg = fc->cg_iters ? fc->cg_iters : 30;
    double mu = 1;
    uint64_t flops = 0;
    for (uint32_t k = 0; k < fc->steps; k++) {
        if (k % 2 == 0) {
            for (int p = 0; p < 5; p++)
                qs_fertile_power_step(s->fert, theta);
            flops += 10 * qs_flops_regen(&s->spec);
        }
        qs_fertile_lm_stats_t ls;
        qs_fertile_lm_step(s->fert, theta, QS_LIFE_FERTILE_C, QS_LIFE_FERTILE_CHILD, cg, &mu, &ls);
        flops += qs_life_fertile_flops(&s->spec, ls.cg_iters, ls.tries);
    }
    return flops;
}

void qs_life_live(qs_life_species_t *s, uint64_t seed, uint64_t stream, uint64_t steps,
                  float *theta, qs_life_result_t *r)
{
    qs_rng_t rng;
    qs_rng_init(&rng, seed, stream);
    qs_trainer_begin(s->trainer, theta, &rng);
    uint64_t done = qs_trainer_run(s->trainer, steps);
    const qs_train_stats_t *st = qs_trainer_stats(s->trainer);
    r->steps = done;
    r->flops_life = done * qs_trainer_step_flops(s->trainer);
    r->train_loss = done ? st->loss_sum / (double)done : NAN;
    if (s->fert)
        r->flops_life += fertile_life(s, qs_trainer_rng(s->trainer), theta);
}

void qs_life_evaluate(qs_life_species_t *s, const float *theta, qs_life_eval_t *e)
{
    qs_quine_predict_all(s->phys, theta, s->pred, s->work);
    qs_fidelity_compute(&e->fidelity, theta, s->pred, s->n);
    e->flops = qs_flops_regen(&s->spec);
    e->has_child = 0;
    e->child_r2 = e->drift2_r2 = NAN;
    if (s->fertility.measure_child) {
        /* theta_1 = T(theta) into child, theta_2 = T(theta_1) into grand; pred stays
         * f_theta(C) */
        memcpy(s->child, s->pred, s->n * sizeof(float));
        qs_regen_apply(&s->spec, s->fertility.regen, theta, s->child);
        qs_quine_predict_all(s->phys, s->child, s->grand, s->work);
        qs_regen_apply(&s->spec, s->fertility.regen, s->child, s->grand);
        qs_fidelity_t f;
        qs_fidelity_compute(&f, s->child, s->grand, s->n);
        e->child_r2 = f.r2;
        qs_fidelity_compute(&f, theta, s->grand, s->n);
        e->drift2_r2 = f.r2;
        e->has_child = 1;
        e->flops += qs_flops_regen(&s->spec);
    }
    e->accuracy = NAN;
    if (s->has_fitness) {
        e->accuracy = qs_quine_accuracy(s->phys, theta, &s->fitness, s->work, NULL);
        e->flops += qs_flops_eval(&s->spec, s->fitness.count);
    }
}

double qs_life_accuracy(qs_life_species_t *s, const float *theta)
{
    return s->has_fitness ? qs_quine_accuracy(s->phys, theta, &s->fitness, s->work, NULL) : NAN;
}

/* a and b agree: equal, both NaN, or within a relative 1e-9 (the sums may be taken in
 * another order on another CPU). */
static int agree(double a, double b)
{
    if (isnan(a) || isnan(b))
        return isnan(a) && isnan(b);
    if (isinf(a) || isinf(b))
        return a == b;
    return fabs(a - b) <= 1e-9 * QS_MAX(1.0, QS_MAX(fabs(a), fabs(b)));
}

static int fidelity_check(const qs_fidelity_t *f, const float *theta, size_t n, const char *what,
                          qs_error_t *err)
{
    if (!(f->l_sr >= 0) && !isnan(f->l_sr))
        return qs_error_set(err, QS_ERR(PEER), "%s: L_SR %g is negative", what, f->l_sr);
    qs_fidelity_t want;
    qs_fidelity_derive(&want, f->l_sr, theta, n);
    static const struct {
        const char *name;
        size_t off;
    } fields[] = {{"margin", offsetof(qs_fidelity_t, margin)},
                  {"srq", offsetof(qs_fidelity_t, srq)},
                  {"rel_err", offsetof(qs_fidelity_t, rel_err)},
                  {"r2", offsetof(qs_fidelity_t, r2)},
                  {"rms", offsetof(qs_fidelity_t, rms)}};
    for (size_t i = 0; i < QS_ARRAY_LEN(fields); i++) {
        double got = *(const double *)((const char *)f + fields[i].off);
        double exp = *(const double *)((const char *)&want + fields[i].off);
        if (agree(got, exp))
            continue;
        size_t bad = 0;
        while (bad < n && isfinite(theta[bad]))
            bad++;
        char because[64] = "";
        if (bad < n)
            snprintf(because, sizeof because, " (weight %zu is %g)", bad, (double)theta[bad]);
        return qs_error_set(err, QS_ERR(PEER),
                            "%s: %s %.17g, the weights%s and L_SR %.17g give %.17g", what,
                            fields[i].name, got, because, f->l_sr, exp);
    }
    if (!f->zero_quine != !want.zero_quine)
        return qs_error_set(err, QS_ERR(PEER), "%s: zero_quine %d, the weights give %d", what,
                            f->zero_quine, want.zero_quine);
    return 0;
}

int qs_life_result_check(const qs_life_result_t *r, const qs_life_task_t *t,
                         const qs_quine_spec_t *spec, uint32_t nfitness, qs_error_t *err)
{
    size_t n = qs_quine_nparams(spec);
    if (r->task_id != t->task_id || r->organism != t->organism)
        return qs_error_set(err, QS_ERR(PEER),
                            "result for task %llu (organism %llu), not task %llu (organism %llu)",
                            (unsigned long long)r->task_id, (unsigned long long)r->organism,
                            (unsigned long long)t->task_id, (unsigned long long)t->organism);
    if (r->nweights != n || !r->weights)
        return qs_error_set(err, QS_ERR(PEER),
                            "result of organism %llu: %u weights, the species has %zu",
                            (unsigned long long)r->organism, r->nweights, n);
    if (r->steps > t->steps)
        return qs_error_set(err, QS_ERR(PEER),
                            "result of organism %llu: %llu steps of %llu paid for",
                            (unsigned long long)r->organism, (unsigned long long)r->steps,
                            (unsigned long long)t->steps);
    if (r->mutated > n)
        return qs_error_set(err, QS_ERR(PEER), "result of organism %llu: %u weights mutated of %zu",
                            (unsigned long long)r->organism, r->mutated, n);
    if (!r->has_link != (t->kind != QS_TASK_BIRTH))
        return qs_error_set(
            err, QS_ERR(PEER), "result of organism %llu: %s replication link for a %s task",
            (unsigned long long)r->organism, r->has_link ? "a" : "no", qs_task_kind_name(t->kind));
    if (t->kind == QS_TASK_ECHO)
        return 0;
    char what[96];
    snprintf(what, sizeof what, "result of organism %llu", (unsigned long long)r->organism);
    if (spec->kind == QS_KIND_AUX && nfitness > 0) {
        double k = r->accuracy * nfitness;
        if (!(r->accuracy >= 0 && r->accuracy <= 1) || fabs(k - nearbyint(k)) > 1e-6 * nfitness)
            return qs_error_set(err, QS_ERR(PEER),
                                "%s: accuracy %.17g is not a count of right answers out of %u",
                                what, r->accuracy, nfitness);
    } else if (!isnan(r->accuracy)) {
        return qs_error_set(err, QS_ERR(PEER),
                            "%s: accuracy %g, but the species is not measured on any image", what,
                            r->accuracy);
    }
    if (fidelity_check(&r->fidelity, r->weights, n, what, err) < 0)
        return QS_ERR(PEER);
    if (r->has_link && t->weights && t->nweights == n) {
        snprintf(what, sizeof what, "result of organism %llu: its replication link",
                 (unsigned long long)r->organism);
        if (fidelity_check(&r->link, t->weights, n, what, err) < 0)
            return QS_ERR(PEER);
    }
    return 0;
}

int qs_life_task_run(qs_life_species_t *s, const qs_birth_cfg_t *b, uint64_t seed,
                     qs_life_task_t *t, qs_life_result_t *r, qs_error_t *err)
{
    if (t->nweights != s->n)
        return qs_error_set(err, QS_ERR(MISMATCH), "task %llu: %u weights, the species has %zu",
                            (unsigned long long)t->task_id, t->nweights, s->n);
    double t0 = qs_now();
    memset(r, 0, sizeof *r);
    r->task_id = t->task_id;
    r->organism = t->organism;
    float *theta = t->weights; /* moved into the result at the end */
    t->weights = NULL;
    t->nweights = 0;
    if (t->kind == QS_TASK_ECHO) {
        r->accuracy = NAN;
        r->train_loss = NAN;
    } else {
        if (t->kind == QS_TASK_BIRTH)
            qs_life_birth(s, b, seed, t->mutation_stream, theta, r);
        qs_life_live(s, seed, t->life_stream, t->steps, theta, r);
        qs_life_eval_t e;
        qs_life_evaluate(s, theta, &e);
        r->fidelity = e.fidelity;
        r->has_child = e.has_child;
        r->child_r2 = e.child_r2;
        r->drift2_r2 = e.drift2_r2;
        r->accuracy = e.accuracy;
        r->flops_eval = e.flops;
    }
    r->weights = theta;
    r->nweights = (uint32_t)s->n;
    r->seconds = qs_now() - t0;
    return 0;
}
