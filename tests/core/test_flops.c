/* Tests for the FLOP counts of core/quine (and the optimizer's in the trainer): the
 * formulas qs_flops_* against (1) the counter that every kernel call increments as it
 * runs, over many shapes, pairings, losses and multi-chunk batches, and (2) counts worked
 * out by hand for tiny networks. */
#include <criterion/criterion.h>
#include <stdlib.h>

#include "core/quine.h"
#include "tests/core/qtest.h"

typedef struct {
    int kind, hidden, depth, sr, pairing, rest;
    size_t nc, ni;
} fcase_t;

static void run_case(const fcase_t *c)
{
    qs_quine_spec_t s = qs_quine_spec_default(c->kind ? QS_KIND_AUX : QS_KIND_VANILLA, 1);
    s.hidden = (uint32_t)c->hidden;
    s.depth = (uint32_t)c->depth;
    qs_dataset_t ds = {0};
    qs_features_t f = {0};
    float mean[20] = {0.5f};
    if (c->kind) {
        s.image_dim = 20;
        s.classes = 3;
        s.rest = c->rest ? QS_REST_MEAN : QS_REST_ZERO;
        qt_dataset(&ds, 1200, 4, 5, 3, 1);
    }
    qs_phys_t *ph = qs_phys_new(&s, mean);
    if (c->kind)
        qs_features_init(&f, ph, &ds);
    size_t n = qs_phys_nparams(ph);
    float *th = calloc(n, sizeof *th), *g = malloc(n * sizeof *g), *pred = malloc(n * sizeof *pred);
    uint32_t *coords = malloc((c->nc + 1) * sizeof *coords),
             *imgs = malloc((c->ni + 1) * sizeof *imgs);
    for (size_t i = 0; i < c->nc; i++)
        coords[i] = (uint32_t)(i % n);
    for (size_t i = 0; i < c->ni; i++)
        imgs[i] = (uint32_t)(i % 1200);
    qs_objective_t obj = {(qs_sr_loss_t)c->sr, 0.1f, 0.5f, QS_REDUCE_MEAN,
                          (qs_pairing_t)c->pairing};
    qs_work_t *w = qs_work_new(&s, 8);
    qs_flops_counted_reset();
    qs_quine_loss_grad(ph, th, th, coords, c->nc, c->kind ? &f : NULL, imgs, c->ni, &obj, w, g,
                       NULL);
    cr_expect_eq(qs_flops_counted(), qs_flops_step(&s, &obj, c->nc, c->ni),
                 "step kind %d H %d d %d sr %d pair %d nc %zu ni %zu: counted %llu formula %llu",
                 c->kind, c->hidden, c->depth, c->sr, c->pairing, c->nc, c->ni,
                 (unsigned long long)qs_flops_counted(),
                 (unsigned long long)qs_flops_step(&s, &obj, c->nc, c->ni));
    qs_flops_counted_reset();
    qs_quine_predict_all(ph, th, pred, w);
    cr_expect_eq(qs_flops_counted(), qs_flops_regen(&s), "regen kind %d rest %d", c->kind, c->rest);
    if (c->kind) {
        qs_flops_counted_reset();
        qs_quine_accuracy(ph, th, &f, w, NULL);
        cr_expect_eq(qs_flops_counted(), qs_flops_eval(&s, 1200));
        qs_features_destroy(&f);
        qs_dataset_destroy(&ds);
    }
    qs_work_free(w);
    qs_phys_free(ph);
    free(th);
    free(g);
    free(pred);
    free(coords);
    free(imgs);
}

Test(flops, formulas_equal_counted_work)
{
    const fcase_t cases[] = {
        {0, 100, 2, QS_SR_SSE, 0, 0, 10, 0},   {0, 100, 2, QS_SR_R2, 0, 0, 1000, 0},
        {0, 7, 3, QS_SR_RELATIVE, 0, 0, 5, 0}, {0, 9, 1, QS_SR_SSE, 0, 0, 0, 0},
        {1, 100, 2, QS_SR_SSE, 1, 0, 10, 10},  {1, 100, 2, QS_SR_SSE, 0, 0, 10, 10},
        {1, 8, 2, QS_SR_R2, 0, 1, 600, 700},   {1, 8, 2, QS_SR_NONE, 0, 0, 0, 100},
        {1, 8, 2, QS_SR_NONE, 1, 0, 30, 30},   {1, 9, 3, QS_SR_RELATIVE, 1, 1, 3, 700},
        {1, 6, 1, QS_SR_SSE, 0, 0, 5, 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        run_case(&cases[i]);
}

Test(flops, hand_counted_tiny_networks)
{
    /* Vanilla H = 4, depth 1 (N = 20), 3 coordinates, SSE:
     *   forward   Z_1 = A_0 W_1: 2*3*4*4 = 96; SELU 3*4*26 = 312; y = A_1 w_out: 2*3*4*1 = 24
     *   loss      3 rows * 4 = 12
     *   backward  grad w_out = A_1^T dy: 2*4*1*3 = 24; dA_1 = dy w_out^T: 2*3*4*1 = 24;
     *             SELU' 3*4*3 = 36; grad W_1 = A_0^T dZ_1: 2*4*4*3 = 96
     *   total 96 + 312 + 24 + 12 + 24 + 24 + 36 + 96 = 624.
     * Regeneration, 20 rows: 2*20*4*4 + 20*4*26 + 2*20*4 = 640 + 2080 + 160 = 2880. */
    qs_quine_spec_t v = qs_quine_spec_default(QS_KIND_VANILLA, 1);
    v.hidden = 4;
    v.depth = 1;
    qs_objective_t sse = {QS_SR_SSE, 0, 1, QS_REDUCE_MEAN, QS_PAIR_SEPARATE};
    cr_expect_eq(qs_flops_step(&v, &sse, 3, 0), 624);
    cr_expect_eq(qs_flops_regen(&v), 2880);
    /* The r2 loss adds 4N for the denominator and 3N for its gradient: 624 + 7*20. */
    qs_objective_t r2 = sse;
    r2.sr_loss = QS_SR_R2;
    cr_expect_eq(qs_flops_step(&v, &r2, 3, 0), 624 + 140);

    /* Aux H = 4 (Hc = Hi = 2), depth 1, K = 3 classes (N = 16 + 4 + 12 = 32), 2 paired rows:
     *   forward   2*2*4*4 = 64; SELU 2*4*26 = 208; [y|logits] 2*2*4*(1+3) = 64
     *   losses    SR 2*4 = 8; task 2*(8*3 + 6) = 60
     *   backward  grad heads 2*4*4*2 = 64; dA_1 2*2*4*4 = 64; SELU' 2*4*3 = 24;
     *             grad W_1 2*4*4*2 = 64
     *   total 64 + 208 + 64 + 8 + 60 + 64 + 64 + 24 + 64 = 620.
     * Separate pairing makes 4 rows: every row-proportional term doubles, the losses not:
     *   2 * (620 - 68) + 68 = 1172.
     * Evaluation of 5 images (zero coordinate half, so the first product has k = Hi = 2):
     *   2*5*4*2 + 5*4*26 + 2*5*4*3 + 5*(3 - 1) = 80 + 520 + 120 + 10 = 730. */
    qs_quine_spec_t a = qs_quine_spec_default(QS_KIND_AUX, 1);
    a.hidden = 4;
    a.depth = 1;
    a.classes = 3;
    a.image_dim = 20;
    qs_objective_t paired = {QS_SR_SSE, 0.01f, 0.01f, QS_REDUCE_MEAN, QS_PAIR_PAIRED};
    cr_expect_eq(qs_quine_nparams(&a), 32);
    cr_expect_eq(qs_flops_step(&a, &paired, 2, 2), 620);
    paired.pairing = QS_PAIR_SEPARATE;
    cr_expect_eq(qs_flops_step(&a, &paired, 2, 2), 1172);
    cr_expect_eq(qs_flops_eval(&a, 5), 730);
}

Test(flops, paper_sizes_are_what_they_are)
{
    /* Vanilla paper step (10 coordinates, H = 100, depth 2): forward 2*(2*10*100*100) +
     * 2*10*100*26 + 2*10*100 = 400000 + 52000 + 2000; loss 40; backward 2*100*10 + 2*10*100
     * + 2*(10*100*3 + 2*100*100*10) + 2*10*100*100 = 4000 + 406000 + 200000.
     * Total 1,064,040 FLOPs, plus Adamax 9 * 20100 = 180,900. */
    qs_quine_spec_t v = qs_quine_spec_default(QS_KIND_VANILLA, 1);
    qs_objective_t sse = {QS_SR_SSE, 0, 1, QS_REDUCE_MEAN, QS_PAIR_SEPARATE};
    cr_expect_eq(qs_flops_step(&v, &sse, 10, 0), 1064040);
}
