/* Tests for core/life: a species runtime is set up from its data set (the mean image of
 * the TRAINING images for rest = mean, image sizes checked); a birth is f^k(parent) or a
 * copy, then mutation, re-implemented here from the public pieces; a task is exactly
 * birth + life + evaluation, the same bits every time; echo and bad genomes; what a species
 * runtime costs in memory, against the allocator's own count. */
#include <criterion/criterion.h>
#include <malloc.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/fertility.h"
#include "core/life.h"
#include "tests/core/qtest.h"

typedef struct {
    qs_quine_spec_t spec;
    qs_dataset_t train, fitness;
    qs_train_cfg_t tc;
    qs_life_species_t sp;
    float *theta;
} fx_t;

static void fx_init_fertility(fx_t *f, qs_kind_t kind, qs_rest_t rest,
                              const qs_life_fertility_t *fert)
{
    memset(f, 0, sizeof *f);
    f->spec = qs_quine_spec_default(kind, 5);
    f->spec.hidden = 8;
    f->spec.rest = rest;
    if (kind == QS_KIND_AUX) {
        f->spec.image_dim = 20;
        f->spec.classes = 3;
        qt_dataset(&f->train, 31, 4, 5, 3, 1);
        qt_dataset(&f->fitness, 17, 4, 5, 3, 2);
    }
    f->tc = qs_train_cfg_paper(kind);
    qs_life_setup_t setup = {.train = kind == QS_KIND_AUX ? &f->train : NULL,
                             .fitness = kind == QS_KIND_AUX ? &f->fitness : NULL,
                             .train_cfg = &f->tc,
                             .work_rows = 16,
                             .fertility = fert};
    qs_error_t err = {0};
    cr_assert_eq(qs_life_species_init(&f->sp, &f->spec, &setup, &err), 0, "%s", err.msg);
    f->theta = malloc(f->sp.n * sizeof(float));
    qs_rng_t r;
    qs_rng_init(&r, 9, qs_rng_stream(QS_STREAM_INIT, 0));
    qs_quine_init_weights(&f->spec, QS_INIT_UNIFORM, &r, f->theta);
}

static void fx_init(fx_t *f, qs_kind_t kind, qs_rest_t rest)
{
    fx_init_fertility(f, kind, rest, NULL);
}

static void fx_free(fx_t *f)
{
    qs_life_species_destroy(&f->sp);
    if (f->spec.kind == QS_KIND_AUX) {
        qs_dataset_destroy(&f->train);
        qs_dataset_destroy(&f->fitness);
    }
    free(f->theta);
}

static float *copy_of(const float *v, size_t n)
{
    float *c = malloc(n * sizeof *c);
    memcpy(c, v, n * sizeof *c);
    return c;
}

Test(life, rest_mean_uses_the_mean_training_image)
{
    fx_t f;
    fx_init(&f, QS_KIND_AUX, QS_REST_MEAN);
    float mean[20];
    qs_dataset_mean_image(&f.train, mean);
    qs_phys_t *ref = qs_phys_new(&f.spec, mean);
    uint32_t hi = qs_phys_image_width(ref);
    cr_assert(hi > 0);
    cr_assert(!memcmp(qs_phys_rest_act(ref), qs_phys_rest_act(f.sp.phys), hi * sizeof(float)));
    qs_dataset_mean_image(&f.fitness, mean); /* not the fitness set's mean */
    qs_phys_t *other = qs_phys_new(&f.spec, mean);
    cr_assert(memcmp(qs_phys_rest_act(other), qs_phys_rest_act(f.sp.phys), hi * sizeof(float)));
    cr_assert(f.sp.trainer && f.sp.has_train && f.sp.has_fitness);
    cr_assert_eq(f.sp.fitness.count, 17);
    qs_phys_free(ref);
    qs_phys_free(other);
    fx_free(&f);
}

Test(life, setup_errors_name_the_problem)
{
    qs_quine_spec_t spec = qs_quine_spec_default(QS_KIND_AUX, 5);
    spec.hidden = 8; /* image_dim 784, the data has 20 pixels */
    qs_dataset_t ds;
    qt_dataset(&ds, 5, 4, 5, 3, 1);
    qs_life_setup_t setup = {.fitness = &ds};
    qs_life_species_t sp;
    qs_error_t err = {0};
    cr_assert_eq(qs_life_species_init(&sp, &spec, &setup, &err), QS_ERR(FORMAT));
    cr_assert(strstr(err.msg, "4 x 5 pixels") && strstr(err.msg, "784"), "%s", err.msg);
    spec.image_dim = 20;
    spec.classes = 3;
    spec.rest = QS_REST_MEAN;
    cr_assert_eq(qs_life_species_init(&sp, &spec, &setup, &err), QS_ERR(INVAL));
    cr_assert(strstr(err.msg, "training images"), "%s", err.msg);
    qs_dataset_destroy(&ds);
}

Test(life, copy_birth_without_mutation_is_the_parent)
{
    fx_t f;
    fx_init(&f, QS_KIND_VANILLA, QS_REST_ZERO);
    float *parent = copy_of(f.theta, f.sp.n);
    qs_birth_cfg_t b = {.mode = QS_REPLICATE_COPY, .regenerations = 3};
    qs_life_result_t r = {0};
    qs_life_birth(&f.sp, &b, 1, 2, f.theta, &r);
    cr_assert(!memcmp(parent, f.theta, f.sp.n * sizeof(float)));
    cr_assert(r.has_link && r.mutated == 0 && r.flops_replication == 0);
    cr_assert_eq(r.link.l_sr, 0.0);
    cr_assert_eq(r.link.r2, 1.0);
    free(parent);
    fx_free(&f);
}

Test(life, self_birth_is_k_regenerations_then_mutation)
{
    fx_t f;
    fx_init(&f, QS_KIND_AUX, QS_REST_ZERO);
    size_t n = f.sp.n;
    float *ref = copy_of(f.theta, n), *pred = malloc(n * sizeof *pred);
    qs_work_t *w = qs_work_new(&f.spec, 4);
    for (int k = 0; k < 2; k++) {
        qs_quine_predict_all(f.sp.phys, ref, pred, w);
        memcpy(ref, pred, n * sizeof *ref);
    }
    qs_fidelity_t link;
    qs_fidelity_compute(&link, f.theta, ref, n);
    qs_rng_t rng;
    qs_rng_init(&rng, 11, 42);
    uint32_t mutated = 0;
    for (size_t i = 0; i < n; i++)
        if (qs_rng_uniform(&rng) < 0.25f) {
            ref[i] += (float)(0.5f * qs_rng_normal(&rng));
            mutated++;
        }
    qs_birth_cfg_t b = {.mode = QS_REPLICATE_SELF,
                        .regenerations = 2,
                        .mutation_sigma = 0.5f,
                        .mutation_rate = 0.25f};
    qs_life_result_t r = {0};
    qs_life_birth(&f.sp, &b, 11, 42, f.theta, &r);
    cr_assert(!memcmp(ref, f.theta, n * sizeof(float)), "the child differs from f^2 + mutation");
    cr_assert_eq(r.mutated, mutated);
    cr_assert(mutated > 0 && mutated < n);
    cr_assert_eq(r.link.l_sr, link.l_sr);
    cr_assert_eq(r.flops_replication, 2 * qs_flops_regen(&f.spec));
    qs_work_free(w);
    free(ref);
    free(pred);
    fx_free(&f);
}

/* A BIRTH task of 30 steps, run through qs_life_task_run. */
static qs_life_result_t run_birth(fx_t *f, const float *parent)
{
    qs_life_task_t t = {.task_id = 7,
                        .kind = QS_TASK_BIRTH,
                        .organism = 3,
                        .steps = 30,
                        .life_stream = 100,
                        .mutation_stream = 200,
                        .nweights = (uint32_t)f->sp.n,
                        .weights = copy_of(parent, f->sp.n)};
    qs_birth_cfg_t b = {.mode = QS_REPLICATE_SELF,
                        .regenerations = 1,
                        .mutation_sigma = 0.01f,
                        .mutation_rate = 0.1f};
    qs_life_result_t r;
    qs_error_t err = {0};
    cr_assert_eq(qs_life_task_run(&f->sp, &b, 5, &t, &r, &err), 0, "%s", err.msg);
    cr_assert_null(t.weights, "the genome moved into the result");
    return r;
}

Test(life, a_task_is_birth_life_evaluation_and_repeats_bit_for_bit)
{
    fx_t f;
    fx_init(&f, QS_KIND_AUX, QS_REST_MEAN);
    qs_life_result_t a = run_birth(&f, f.theta), b = run_birth(&f, f.theta);
    cr_assert_eq(a.task_id, 7);
    cr_assert_eq(a.organism, 3);
    cr_assert_eq(a.nweights, f.sp.n);
    cr_assert(!memcmp(a.weights, b.weights, f.sp.n * sizeof(float)), "same task, other bits");
    cr_assert_eq(a.steps, 30);
    cr_assert(a.has_link && isfinite(a.train_loss));
    cr_assert(a.accuracy >= 0 && a.accuracy <= 1);

    /* The same three steps by hand. */
    float *theta = copy_of(f.theta, f.sp.n);
    qs_birth_cfg_t bc = {.mode = QS_REPLICATE_SELF,
                         .regenerations = 1,
                         .mutation_sigma = 0.01f,
                         .mutation_rate = 0.1f};
    qs_life_result_t h = {0};
    qs_life_birth(&f.sp, &bc, 5, 200, theta, &h);
    qs_life_live(&f.sp, 5, 100, 30, theta, &h);
    qs_life_eval_t e;
    qs_life_evaluate(&f.sp, theta, &e);
    cr_assert(!memcmp(a.weights, theta, f.sp.n * sizeof(float)));
    cr_assert_eq(a.fidelity.r2, e.fidelity.r2);
    cr_assert_eq(a.accuracy, e.accuracy);
    cr_assert_eq(a.train_loss, h.train_loss);
    cr_assert_eq(a.mutated, h.mutated);
    cr_assert_eq(a.flops_eval, e.flops);
    cr_assert_eq(e.flops, qs_flops_regen(&f.spec) + qs_flops_eval(&f.spec, 17));
    free(theta);
    qs_life_result_destroy(&a);
    qs_life_result_destroy(&b);
    cr_assert_null(a.weights);
    fx_free(&f);
}

/* A result as a worker could send it, and an edit a hostile or broken one could make. */
typedef struct {
    const char *name;
    void (*edit)(qs_life_result_t *r, qs_life_task_t *t);
    const char *says; /* in the error; NULL: the edited result is accepted */
} result_edit_t;

static void e_none(qs_life_result_t *r, qs_life_task_t *t)
{
    (void)r, (void)t;
}
static void e_nan_weight(qs_life_result_t *r, qs_life_task_t *t)
{
    (void)t;
    r->weights[5] = NAN;
}
static void e_inf_weight(qs_life_result_t *r, qs_life_task_t *t)
{
    (void)t;
    r->weights[0] = INFINITY;
}
/* A lineage that diverged for real: its weights overflowed, and its figures say so. */
static void e_diverged(qs_life_result_t *r, qs_life_task_t *t)
{
    (void)t;
    r->weights[3] = INFINITY;
    qs_fidelity_derive(&r->fidelity, INFINITY, r->weights, r->nweights);
}
static void e_acc_nan(qs_life_result_t *r, qs_life_task_t *t)
{
    (void)t;
    r->accuracy = NAN;
}
static void e_acc_over(qs_life_result_t *r, qs_life_task_t *t)
{
    (void)t;
    r->accuracy = 1.5;
}
static void e_acc_not_a_count(qs_life_result_t *r, qs_life_task_t *t)
{
    (void)t;
    r->accuracy = 0.5 / 17; /* half a right answer */
}
static void e_acc_one(qs_life_result_t *r, qs_life_task_t *t)
{
    (void)t;
    r->accuracy = 1.0; /* 17 of 17: possible, and nothing cheap can tell */
}
static void e_r2(qs_life_result_t *r, qs_life_task_t *t)
{
    (void)t;
    r->fidelity.r2 = 0.99;
}
static void e_lsr_negative(qs_life_result_t *r, qs_life_task_t *t)
{
    (void)t;
    r->fidelity.l_sr = -1;
}
static void e_link_rms(qs_life_result_t *r, qs_life_task_t *t)
{
    (void)t;
    r->link.rms *= 1.01;
}
static void e_size(qs_life_result_t *r, qs_life_task_t *t)
{
    (void)t;
    r->nweights--;
}
static void e_organism(qs_life_result_t *r, qs_life_task_t *t)
{
    (void)t;
    r->organism++;
}
static void e_steps(qs_life_result_t *r, qs_life_task_t *t)
{
    r->steps = t->steps + 1;
}
static void e_no_link(qs_life_result_t *r, qs_life_task_t *t)
{
    (void)t;
    r->has_link = 0;
}

/* qs_life_result_check (issue 16, case 6): a true result passes; what a peer could change
 * is refused with the field named, except what cannot be told from a true result (a
 * diverged genome with the figures it gives, a perfect score). */
Test(life, a_result_is_checked_against_its_task)
{
    static const result_edit_t edits[] = {
        {"none", e_none, NULL},
        {"a NaN weight", e_nan_weight, "the weights (weight 5 is nan) and L_SR"},
        {"an infinite weight", e_inf_weight, "(weight 0 is inf)"},
        {"a diverged genome with its own figures", e_diverged, NULL},
        {"accuracy NaN", e_acc_nan, "not a count of right answers out of 17"},
        {"accuracy 1.5", e_acc_over, "accuracy 1.5"},
        {"half an answer", e_acc_not_a_count, "not a count"},
        {"accuracy 1", e_acc_one, NULL},
        {"r2", e_r2, "r2 0.98999"},
        {"negative L_SR", e_lsr_negative, "L_SR -1 is negative"},
        {"link rms", e_link_rms, "its replication link: rms"},
        {"one weight short", e_size, "weights, the species has"},
        {"another organism", e_organism, "not task 7"},
        {"unpaid steps", e_steps, "31 steps of 30 paid for"},
        {"no link for a birth", e_no_link, "no replication link for a birth task"}};
    fx_t f;
    fx_init(&f, QS_KIND_AUX, QS_REST_MEAN);
    for (size_t i = 0; i < sizeof edits / sizeof edits[0]; i++) {
        qs_life_result_t r = run_birth(&f, f.theta);
        qs_life_task_t t = {.task_id = 7,
                            .kind = QS_TASK_BIRTH,
                            .organism = 3,
                            .steps = 30,
                            .nweights = (uint32_t)f.sp.n,
                            .weights = f.theta};
        edits[i].edit(&r, &t);
        qs_error_t err = {0};
        int rc = qs_life_result_check(&r, &t, &f.spec, 17, &err);
        if (!edits[i].says) {
            cr_assert_eq(rc, 0, "%s: %s", edits[i].name, err.msg);
        } else {
            cr_assert_eq(rc, QS_ERR(PEER), "%s is accepted", edits[i].name);
            cr_assert(strstr(err.msg, edits[i].says), "%s: %s", edits[i].name, err.msg);
        }
        qs_life_result_destroy(&r);
    }
    fx_free(&f);

    /* A vanilla quine is measured on no image: its accuracy must be NaN. */
    fx_init(&f, QS_KIND_VANILLA, QS_REST_ZERO);
    qs_life_result_t r = run_birth(&f, f.theta);
    qs_life_task_t t = {.task_id = 7, .kind = QS_TASK_BIRTH, .organism = 3, .steps = 30};
    qs_error_t err = {0};
    cr_assert_eq(qs_life_result_check(&r, &t, &f.spec, 0, &err), 0, "%s", err.msg);
    r.accuracy = 0.5;
    cr_assert_eq(qs_life_result_check(&r, &t, &f.spec, 0, &err), QS_ERR(PEER));
    cr_assert(strstr(err.msg, "not measured on any image"), "%s", err.msg);
    qs_life_result_destroy(&r);
    fx_free(&f);
}

/* measure_child: the child's own link and the grandchild's drift are those of the lineage
 * core/fertility follows (generations 1 and 2), for both regenerations. */
Test(life, measure_child_is_the_lineage_of_quinesim_fertility)
{
    for (int mode = 0; mode < 2; mode++) {
        qs_life_fertility_t fc = {.regen = (qs_regen_t)mode, .measure_child = 1};
        fx_t f;
        fx_init_fertility(&f, QS_KIND_AUX, QS_REST_ZERO, &fc);
        qs_fertility_gen_t rows[3];
        qs_work_t *w = qs_work_new(&f.spec, 4);
        qs_fertility_lineage(f.sp.phys, (qs_regen_t)mode, f.theta, NULL, 2, NULL, w, rows, NULL);
        qs_life_eval_t e;
        qs_life_evaluate(&f.sp, f.theta, &e);
        cr_assert(e.has_child);
        cr_assert_float_eq(e.child_r2, rows[1].link_r2, 1e-9, "mode %d: %g vs %g", mode, e.child_r2,
                           rows[1].link_r2);
        cr_assert_float_eq(e.drift2_r2, rows[2].drift_r2, 1e-9, "mode %d: %g vs %g", mode,
                           e.drift2_r2, rows[2].drift_r2);
        cr_assert_eq(e.flops, 2 * qs_flops_regen(&f.spec) + qs_flops_eval(&f.spec, 17));
        /* the fidelity stays the plain self-prediction */
        qs_fertility_lineage(f.sp.phys, QS_REGEN_PLAIN, f.theta, NULL, 0, NULL, w, rows, NULL);
        cr_assert_float_eq(e.fidelity.r2, rows[0].link_r2, 1e-9);
        qs_work_free(w);
        fx_free(&f);
    }
    fx_t f; /* off by default */
    fx_init(&f, QS_KIND_VANILLA, QS_REST_ZERO);
    qs_life_eval_t e;
    qs_life_evaluate(&f.sp, f.theta, &e);
    cr_assert(!e.has_child && isnan(e.child_r2) && isnan(e.drift2_r2));
    fx_free(&f);
}

/* A fertile life: the trainer's steps, then the recipe's Levenberg-Marquardt steps (power
 * iteration from a direction of the life's stream); the same bits by hand, and its
 * steps lower their objective. */
Test(life, a_fertile_life_is_the_trainer_then_the_recipe)
{
    qs_life_fertility_t fc = {.recipe = QS_LIFE_RECIPE_FERTILE,
                              .steps = 2,
                              .cg_iters = 10,
                              .regen = QS_REGEN_STANDARDIZE};
    fx_t f;
    fx_init_fertility(&f, QS_KIND_VANILLA, QS_REST_ZERO, &fc);
    cr_assert_not_null(f.sp.fert);
    size_t n = f.sp.n;
    float *theta = copy_of(f.theta, n);
    qs_life_result_t r = {0};
    qs_life_live(&f.sp, 5, 100, 20, theta, &r);
    cr_assert_eq(r.steps, 20);

    /* by hand: a paper life of 20 steps, then the recipe */
    fx_t p;
    fx_init(&p, QS_KIND_VANILLA, QS_REST_ZERO);
    cr_assert_null(p.sp.fert);
    float *ref = copy_of(f.theta, n);
    qs_life_result_t rp = {0};
    qs_life_live(&p.sp, 5, 100, 20, ref, &rp);
    cr_assert(memcmp(ref, theta, n * sizeof(float)), "the recipe changed nothing");
    qs_fertile_cfg_t cfg = qs_fertile_defaults();
    cfg.generations = 2;
    cfg.regen = QS_REGEN_STANDARDIZE;
    qs_fertile_t *fe = qs_fertile_new(p.sp.phys, &cfg, 0);
    qs_rng_t rng = qs_trainer_rng(p.sp.trainer);
    float *v = malloc(n * sizeof *v);
    for (size_t i = 0; i < n; i++)
        v[i] = (float)qs_rng_normal(&rng);
    qs_fertile_set_direction(fe, v);
    double mu = 1;
    uint64_t flops = 0;
    int accepted = 0;
    for (int k = 0; k < 2; k++) {
        if (k == 0)
            for (int i = 0; i < 5; i++)
                qs_fertile_power_step(fe, ref);
        qs_fertile_lm_stats_t ls;
        qs_fertile_lm_step(fe, ref, QS_LIFE_FERTILE_C, QS_LIFE_FERTILE_CHILD, 10, &mu, &ls);
        flops += qs_life_fertile_flops(&f.spec, ls.cg_iters, ls.tries);
        cr_assert(ls.after <= ls.before, "step %d: E %g -> %g", k, ls.before, ls.after);
        accepted += ls.accepted;
    }
    cr_assert(accepted > 0);
    cr_assert(!memcmp(ref, theta, n * sizeof(float)), "the fertile life differs from its steps");
    cr_assert_eq(r.flops_life, rp.flops_life + flops + 10 * qs_flops_regen(&f.spec));
    qs_fertile_free(fe);
    free(v);
    free(ref);
    free(theta);
    fx_free(&p);
    fx_free(&f);
}

Test(life, echo_returns_the_genome_and_a_wrong_size_is_refused)
{
    fx_t f;
    fx_init(&f, QS_KIND_VANILLA, QS_REST_ZERO);
    qs_life_task_t t = {.task_id = 1,
                        .kind = QS_TASK_ECHO,
                        .nweights = (uint32_t)f.sp.n,
                        .weights = copy_of(f.theta, f.sp.n)};
    qs_life_result_t r;
    qs_error_t err = {0};
    cr_assert_eq(qs_life_task_run(&f.sp, NULL, 1, &t, &r, &err), 0);
    cr_assert(!memcmp(r.weights, f.theta, f.sp.n * sizeof(float)));
    cr_assert(isnan(r.accuracy) && r.steps == 0);
    qs_life_result_destroy(&r);

    qs_life_task_t bad = {.task_id = 2, .kind = QS_TASK_LIVE, .nweights = 3};
    bad.weights = malloc(3 * sizeof(float));
    cr_assert_eq(qs_life_task_run(&f.sp, NULL, 1, &bad, &r, &err), QS_ERR(MISMATCH));
    cr_assert(strstr(err.msg, "3 weights"), "%s", err.msg);
    cr_assert_not_null(bad.weights, "a refused task keeps its genome");
    qs_life_task_destroy(&bad);
    fx_free(&f);
}

Test(life, classifier_only_measures_the_same_accuracy)
{
    fx_t f;
    fx_init(&f, QS_KIND_AUX, QS_REST_MEAN);
    qs_life_setup_t setup = {.train = &f.train, .fitness = &f.fitness, .classifier_only = 1};
    qs_life_species_t c;
    qs_error_t err = {0};
    cr_assert_eq(qs_life_species_init(&c, &f.spec, &setup, &err), 0, "%s", err.msg);
    cr_assert_null(c.trainer);
    cr_assert_eq(qs_life_accuracy(&c, f.theta), qs_life_accuracy(&f.sp, f.theta));
    qs_life_species_destroy(&c);
    fx_free(&f);
}

/* Bytes the allocator hands out now (small blocks and mmapped ones). */
static size_t heap_in_use(void)
{
    struct mallinfo2 mi = mallinfo2();
    return mi.uordblks + mi.hblkhd;
}

/* qs_life_species_bytes (what `run` checks worker memory with, issue 16 case 10) against
 * what qs_life_species_init really allocates, by glibc's count: never less, and at most
 * the allocator's per-block overhead more. Sizes from tiny to a coordinate table of
 * 40 MB; with and without trainer, fitness set, training images. */
Test(life, species_bytes_is_what_init_allocates)
{
    if (getenv("QS_UNDER_VALGRIND") || getenv("ASAN_OPTIONS"))
        cr_skip_test("the allocator is replaced: mallinfo2 does not see it");
    static const struct {
        qs_kind_t kind;
        uint32_t hidden, depth, ntrain, nfitness;
        int trainer;
    } cases[] = {{QS_KIND_VANILLA, 8, 1, 0, 0, 1},   {QS_KIND_VANILLA, 100, 2, 0, 0, 1},
                 {QS_KIND_AUX, 8, 2, 31, 17, 1},     {QS_KIND_AUX, 100, 2, 600, 300, 1},
                 {QS_KIND_AUX, 64, 3, 200, 0, 1},    {QS_KIND_AUX, 100, 2, 0, 300, 0},
                 {QS_KIND_VANILLA, 160, 2, 0, 0, 0}, {QS_KIND_AUX, 200, 1, 1000, 100, 1}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        qs_quine_spec_t spec = qs_quine_spec_default(cases[i].kind, 3);
        spec.hidden = cases[i].hidden;
        spec.depth = cases[i].depth;
        qs_dataset_t train = {0}, fitness = {0};
        if (cases[i].kind == QS_KIND_AUX) {
            spec.image_dim = 20;
            spec.classes = 3;
            qt_dataset(&train, cases[i].ntrain ? cases[i].ntrain : 1, 4, 5, 3, 1);
            qt_dataset(&fitness, cases[i].nfitness ? cases[i].nfitness : 1, 4, 5, 3, 2);
        }
        qs_train_cfg_t tc = qs_train_cfg_paper(cases[i].kind);
        qs_life_setup_t setup = {.train = cases[i].ntrain ? &train : NULL,
                                 .fitness = cases[i].nfitness ? &fitness : NULL,
                                 .train_cfg = cases[i].trainer ? &tc : NULL,
                                 .work_rows = 16};
        size_t est =
            qs_life_species_bytes(&spec, cases[i].ntrain, cases[i].nfitness, setup.train_cfg);
        size_t before = heap_in_use();
        qs_life_species_t sp;
        qs_error_t err = {0};
        cr_assert_eq(qs_life_species_init(&sp, &spec, &setup, &err), 0, "%s", err.msg);
        size_t used = heap_in_use() - before;
        cr_assert_geq(used, est, "case %zu: %zu bytes allocated, %zu estimated", i, used, est);
        cr_assert_leq(used, est + est / 100 + 4096, "case %zu: %zu bytes allocated, %zu estimated",
                      i, used, est);
        qs_life_species_destroy(&sp);
        if (cases[i].kind == QS_KIND_AUX) {
            qs_dataset_destroy(&train);
            qs_dataset_destroy(&fitness);
        }
    }
}

Test(life, names)
{
    cr_assert_str_eq(qs_replicate_mode_name(QS_REPLICATE_COPY), "copy");
    qs_replicate_mode_t m = QS_REPLICATE_COPY;
    cr_assert_eq(qs_replicate_mode_parse("self", &m), 0);
    cr_assert_eq(m, QS_REPLICATE_SELF);
    cr_assert_eq(qs_replicate_mode_names.n, 2);
    cr_assert_str_eq(qs_task_kind_name(QS_TASK_BIRTH), "birth");
    cr_assert_null(qs_task_kind_name((qs_task_kind_t)9));
}
