/* Tests for core/quine: the paper's sizes, parameter groups, projections regenerated bit
 * for bit, forward passes against a double-precision reference (tests/core/qtest.h),
 * finite-difference gradient checks of every parameter group for both kinds, every loss
 * variant, both pairings and both reductions, hand-checkable loss values, chunking. */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/quine.h"
#include "tests/core/qtest.h"

Test(quine, paper_sizes)
{
    qs_quine_spec_t v = qs_quine_spec_default(QS_KIND_VANILLA, 1);
    qs_quine_spec_t a = qs_quine_spec_default(QS_KIND_AUX, 1);
    cr_assert_eq(qs_quine_nparams(&v), 20100);
    cr_assert_eq(qs_quine_nparams(&a), 21100);
    cr_assert_eq(qs_quine_spec_validate(&v, NULL), 0);
    cr_assert_eq(qs_quine_spec_validate(&a, NULL), 0);
    cr_assert_eq(a.classes, 10);
    cr_assert_eq(a.image_dim, 784);
    cr_assert_eq(a.rest, QS_REST_ZERO);
}

Test(quine, parameter_groups_tile_the_genome)
{
    qs_quine_spec_t a = qs_quine_spec_default(QS_KIND_AUX, 1);
    qs_param_group_t g[8];
    size_t n = qs_quine_param_groups(&a, g, 8);
    cr_assert_eq(n, 4);
    const char *names[] = {"W1", "W2", "w_out", "W_cls"};
    size_t counts[] = {10000, 10000, 100, 1000}, off = 0;
    for (size_t i = 0; i < n; i++) {
        cr_expect_str_eq(g[i].name, names[i]);
        cr_expect_eq(g[i].offset, off);
        cr_expect_eq(g[i].count, counts[i]);
        off += g[i].count;
    }
    cr_expect_eq(off, 21100);
    qs_quine_spec_t v = qs_quine_spec_default(QS_KIND_VANILLA, 1);
    v.depth = 3;
    cr_expect_eq(qs_quine_param_groups(&v, g, 2), 4, "returns the total even when cap is small");
    cr_expect_str_eq(g[1].name, "W2");
}

Test(quine, spec_validation_names_the_field)
{
    qs_error_t err;
    qs_quine_spec_t s = qs_quine_spec_default(QS_KIND_VANILLA, 1);
    s.hidden = 1;
    cr_expect_eq(qs_quine_spec_validate(&s, &err), QS_ERR(RANGE));
    cr_expect(strstr(err.msg, "hidden"));
    s = qs_quine_spec_default(QS_KIND_VANILLA, 1);
    s.depth = 0;
    cr_expect_eq(qs_quine_spec_validate(&s, &err), QS_ERR(RANGE));
    cr_expect(strstr(err.msg, "depth"));
    s = qs_quine_spec_default(QS_KIND_VANILLA, 1);
    s.classes = 10;
    cr_expect_eq(qs_quine_spec_validate(&s, &err), QS_ERR(INVAL));
    cr_expect(strstr(err.msg, "classes"));
    s = qs_quine_spec_default(QS_KIND_AUX, 1);
    s.classes = 1;
    cr_expect_eq(qs_quine_spec_validate(&s, &err), QS_ERR(RANGE));
    s = qs_quine_spec_default(QS_KIND_AUX, 1);
    s.rest = (qs_rest_t)7;
    cr_expect_eq(qs_quine_spec_validate(&s, &err), QS_ERR(INVAL));
    s = qs_quine_spec_default(QS_KIND_VANILLA, 1);
    s.hidden = 4096;
    s.depth = 16;
    cr_expect_eq(qs_quine_spec_validate(&s, &err), 0,
                 "the largest spec (2^28 parameters) is valid");
}

Test(quine, names_round_trip)
{
    qs_kind_t k;
    qs_sr_loss_t l;
    qs_pairing_t p;
    qs_init_t in;
    qs_rest_t r;
    qs_reduce_t red;
    cr_expect_eq(qs_kind_parse("aux", &k), 0);
    cr_expect_eq(k, QS_KIND_AUX);
    cr_expect_str_eq(qs_kind_name(QS_KIND_VANILLA), "vanilla");
    cr_expect_eq(qs_kind_parse("Aux", &k), QS_ERR(INVAL));
    const char *losses[] = {"sse", "relative", "r2", "none"};
    for (int i = 0; i < 4; i++) {
        cr_expect_eq(qs_sr_loss_parse(losses[i], &l), 0);
        cr_expect_str_eq(qs_sr_loss_name(l), losses[i]);
    }
    cr_expect_eq(qs_pairing_parse("paired", &p), 0);
    cr_expect_eq(p, QS_PAIR_PAIRED);
    cr_expect_eq(qs_init_parse("he", &in), 0);
    cr_expect_eq(in, QS_INIT_HE);
    cr_expect_eq(qs_rest_parse("mean", &r), 0);
    cr_expect_eq(r, QS_REST_MEAN);
    cr_expect_eq(qs_reduce_parse("sum", &red), 0);
    cr_expect_eq(red, QS_REDUCE_SUM);
    cr_expect_eq(qs_pairing_parse(NULL, &p), QS_ERR(INVAL));
}

/* ---- Projections ---------------------------------------------------------------------- */

Test(quine, projections_regenerate_bit_identically)
{
    qs_quine_spec_t s = qs_quine_spec_default(QS_KIND_AUX, 42);
    qs_phys_t *a = qs_phys_new(&s, NULL), *b = qs_phys_new(&s, NULL);
    size_t n = qs_phys_nparams(a), hc = qs_phys_coord_width(a);
    cr_assert_eq(hc, 50);
    cr_assert_eq(qs_phys_image_width(a), 50);
    for (size_t c = 0; c < n; c++)
        cr_assert(!memcmp(qs_phys_coord_act(a, c), qs_phys_coord_act(b, c), hc * sizeof(float)));
    /* Any single row, regenerated alone, gives the stored activations exactly. */
    size_t rows[] = {0, 1, 17, 10000, n - 1};
    for (size_t i = 0; i < 5; i++) {
        float pre[50], act[50];
        qs_phys_coord_projection(&s, rows[i], pre);
        qs_vec_selu(act, pre, hc);
        cr_assert(!memcmp(act, qs_phys_coord_act(a, rows[i]), sizeof act), "row %zu", rows[i]);
    }
    /* Another seed gives another projection. */
    qs_quine_spec_t s2 = s;
    s2.proj_seed = 43;
    float r1[50], r2[50], i1[50], i2[50];
    qs_phys_coord_projection(&s, 5, r1);
    qs_phys_coord_projection(&s2, 5, r2);
    cr_expect(memcmp(r1, r2, sizeof r1));
    qs_phys_image_projection(&s, 300, i1);
    qs_phys_image_projection(&s, 300, i2);
    cr_expect(!memcmp(i1, i2, sizeof i1));
    cr_expect(memcmp(i1, r1, sizeof i1), "image rows use their own streams");
    /* coord_scale multiplies the entries; a zeroed field means the default 1. */
    qs_quine_spec_t s3 = s;
    s3.coord_scale = 0;
    qs_phys_coord_projection(&s3, 5, r2);
    cr_expect(!memcmp(r1, r2, sizeof r1));
    s3.coord_scale = 0.1f;
    qs_phys_coord_projection(&s3, 5, r2);
    for (int j = 0; j < 50; j++)
        cr_expect_lt(fabs(r2[j] - 0.1 * r1[j]), 1e-6 * (1 + fabs(r1[j])));
    s3.coord_scale = -1;
    cr_expect_eq(qs_quine_spec_validate(&s3, NULL), QS_ERR(RANGE));
    qs_phys_free(a);
    qs_phys_free(b);
}

Test(quine, projection_scales)
{
    /* Coordinate entries N(0,1); image entries N(0, 10/784). */
    qs_quine_spec_t s = qs_quine_spec_default(QS_KIND_AUX, 7);
    double sum = 0, sq = 0, isq = 0;
    size_t cnt = 0, icnt = 0;
    float row[50];
    for (size_t c = 0; c < 2000; c++) {
        qs_phys_coord_projection(&s, c * 7, row);
        for (int j = 0; j < 50; j++) {
            sum += row[j];
            sq += (double)row[j] * row[j];
            cnt++;
        }
    }
    for (size_t p = 0; p < 784; p++) {
        qs_phys_image_projection(&s, p, row);
        for (int j = 0; j < 50; j++) {
            isq += (double)row[j] * row[j];
            icnt++;
        }
    }
    cr_expect_lt(fabs(sum / cnt), 0.01);
    cr_expect_lt(fabs(sq / cnt - 1.0), 0.02);
    cr_expect_lt(fabs(isq / icnt / (10.0 / 784) - 1.0), 0.03);
}

Test(quine, features_are_selu_of_projected_pixels)
{
    qs_quine_spec_t s = qs_quine_spec_default(QS_KIND_AUX, 3);
    s.hidden = 8;
    s.image_dim = 20;
    s.classes = 3;
    qs_dataset_t ds;
    qt_dataset(&ds, 9, 4, 5, 3, 1);
    qs_phys_t *ph = qs_phys_new(&s, NULL);
    qs_features_t f;
    qs_features_init(&f, ph, &ds);
    cr_assert_eq(f.count, 9);
    cr_assert_eq(f.width, 4);
    float proj[20][4];
    for (int p = 0; p < 20; p++)
        qs_phys_image_projection(&s, (size_t)p, proj[p]);
    for (int i = 0; i < 9; i++)
        for (int j = 0; j < 4; j++) {
            double z = 0;
            for (int p = 0; p < 20; p++)
                z += ds.pixels[i * 20 + p] / 255.0 * proj[p][j];
            cr_expect_lt(fabs(f.act[i * 4 + j] - qt_selu(z)), 1e-5 * (1 + fabs(z)));
        }
    qs_features_destroy(&f);
    qs_phys_free(ph);
    qs_dataset_destroy(&ds);
}

Test(quine, mean_rest_input)
{
    qs_quine_spec_t s = qs_quine_spec_default(QS_KIND_AUX, 3);
    s.hidden = 6;
    s.image_dim = 20;
    s.classes = 3;
    s.rest = QS_REST_MEAN;
    qs_dataset_t ds;
    qt_dataset(&ds, 30, 4, 5, 3, 2);
    float mean[20];
    qs_dataset_mean_image(&ds, mean);
    double m0 = 0;
    for (int i = 0; i < 30; i++)
        m0 += ds.pixels[i * 20] / 255.0;
    cr_expect_lt(fabs(mean[0] - m0 / 30), 1e-6);
    qs_phys_t *ph = qs_phys_new(&s, mean);
    float proj[20][3];
    for (int p = 0; p < 20; p++)
        qs_phys_image_projection(&s, (size_t)p, proj[p]);
    for (int j = 0; j < 3; j++) {
        double z = 0;
        for (int p = 0; p < 20; p++)
            z += mean[p] * (double)proj[p][j];
        cr_expect_lt(fabs(qs_phys_rest_act(ph)[j] - qt_selu(z)), 1e-6);
    }
    qs_phys_free(ph);
    s.rest = QS_REST_ZERO;
    ph = qs_phys_new(&s, NULL);
    for (int j = 0; j < 3; j++)
        cr_expect_eq(qs_phys_rest_act(ph)[j], 0.0f);
    qs_phys_free(ph);
    qs_dataset_destroy(&ds);
}

Test(quine, init_distributions)
{
    qs_quine_spec_t s = qs_quine_spec_default(QS_KIND_AUX, 1);
    size_t n = qs_quine_nparams(&s);
    float *th = malloc(n * sizeof *th);
    qs_rng_t r;
    qs_rng_init(&r, 1, qs_rng_stream(QS_STREAM_INIT, 0));
    qs_quine_init_weights(&s, QS_INIT_UNIFORM, &r, th);
    double sq = 0;
    for (size_t i = 0; i < n; i++) {
        cr_assert(th[i] >= -0.1f && th[i] <= 0.1f);
        sq += (double)th[i] * th[i];
    }
    cr_expect_lt(fabs(sq / n - 0.01 / 3), 0.0002); /* var of U(-0.1, 0.1) */
    qs_quine_init_weights(&s, QS_INIT_HE, &r, th);
    double hid = 0, heads = 0;
    for (size_t i = 0; i < 20000; i++)
        hid += (double)th[i] * th[i];
    for (size_t i = 20000; i < n; i++)
        heads += (double)th[i] * th[i];
    cr_expect_lt(fabs(hid / 20000 / 0.02 - 1), 0.05);
    cr_expect_lt(fabs(heads / 1100 / 0.01 - 1), 0.15);
    free(th);
}

/* ---- Forward against the reference ------------------------------------------------------ */

Test(quine, predict_all_matches_reference)
{
    qs_quine_spec_t specs[3] = {qs_quine_spec_default(QS_KIND_VANILLA, 5),
                                qs_quine_spec_default(QS_KIND_AUX, 5),
                                qs_quine_spec_default(QS_KIND_AUX, 5)};
    specs[0].hidden = 7;
    specs[0].depth = 3;
    specs[1].hidden = 9;
    specs[1].image_dim = 20;
    specs[1].classes = 4;
    specs[2] = specs[1];
    specs[2].rest = QS_REST_MEAN;
    float mean[20];
    for (int i = 0; i < 20; i++)
        mean[i] = (float)i / 20.0f;
    for (int si = 0; si < 3; si++) {
        qs_quine_spec_t *s = &specs[si];
        qs_phys_t *ph = qs_phys_new(s, mean);
        size_t n = qs_phys_nparams(ph);
        float *th = malloc(n * sizeof *th), *pred = malloc(n * sizeof *pred);
        double *thd = malloc(n * sizeof *thd), *ref = malloc(n * sizeof *ref);
        uint32_t *coords = malloc(n * sizeof *coords);
        qs_rng_t r;
        qs_rng_init(&r, 3, qs_rng_stream(QS_STREAM_INIT, (uint64_t)si));
        qs_quine_init_weights(s, QS_INIT_HE, &r, th);
        for (size_t i = 0; i < n; i++) {
            thd[i] = th[i];
            coords[i] = (uint32_t)i;
        }
        qs_work_t *w = qs_work_new(s, 16);
        qs_quine_predict_all(ph, th, pred, w);
        qs_objective_t obj = {QS_SR_SSE, 0, 1, QS_REDUCE_SUM, QS_PAIR_SEPARATE};
        qt_ref_loss(ph, thd, th, coords, n, NULL, NULL, 0, &obj, ref, NULL);
        for (size_t c = 0; c < n; c++)
            cr_assert_lt(fabs(pred[c] - ref[c]), 2e-5 * (1 + fabs(ref[c])),
                         "spec %d coord %zu: %g vs %g", si, c, pred[c], ref[c]);
        qs_work_free(w);
        qs_phys_free(ph);
        free(th);
        free(pred);
        free(thd);
        free(ref);
        free(coords);
    }
}

Test(quine, accuracy_matches_reference_argmax)
{
    qs_quine_spec_t s = qs_quine_spec_default(QS_KIND_AUX, 5);
    s.hidden = 10;
    s.image_dim = 20;
    s.classes = 5;
    qs_dataset_t ds;
    qt_dataset(&ds, 1100, 4, 5, 5, 3); /* more than two chunks */
    qs_phys_t *ph = qs_phys_new(&s, NULL);
    qs_features_t f;
    qs_features_init(&f, ph, &ds);
    size_t n = qs_phys_nparams(ph);
    float *th = malloc(n * sizeof *th);
    double *thd = malloc(n * sizeof *thd);
    qs_rng_t r;
    qs_rng_init(&r, 4, qs_rng_stream(QS_STREAM_INIT, 0));
    qs_quine_init_weights(&s, QS_INIT_HE, &r, th);
    for (size_t i = 0; i < n; i++)
        thd[i] = th[i];
    uint32_t *imgs = malloc(ds.count * sizeof *imgs);
    for (uint32_t i = 0; i < ds.count; i++)
        imgs[i] = i;
    qs_work_t *w = qs_work_new(&s, 1);
    uint32_t correct;
    double acc = qs_quine_accuracy(ph, th, &f, w, &correct);
    unsigned ref_correct;
    qs_objective_t obj = {QS_SR_NONE, 1, 1, QS_REDUCE_SUM, QS_PAIR_SEPARATE};
    qt_ref_loss(ph, thd, th, NULL, 0, &f, imgs, ds.count, &obj, NULL, &ref_correct);
    cr_expect_eq(correct, ref_correct);
    cr_expect_float_eq(acc, correct / 1100.0, 1e-12);
    cr_expect_gt(correct, 0);
    cr_expect_lt(correct, 1100);
    /* A classifier-only physics (no coordinate table) classifies identically. */
    qs_phys_t *pc = qs_phys_new_classifier(&s, NULL);
    qs_features_t fc;
    qs_features_init(&fc, pc, &ds);
    cr_expect_arr_eq(fc.act, f.act, (size_t)fc.count * fc.width * sizeof(float));
    uint32_t correct_c;
    cr_expect_eq(qs_quine_accuracy(pc, th, &fc, w, &correct_c), acc);
    cr_expect_eq(correct_c, correct);
    qs_features_destroy(&fc);
    qs_phys_free(pc);
    qs_work_free(w);
    qs_features_destroy(&f);
    qs_phys_free(ph);
    qs_dataset_destroy(&ds);
    free(th);
    free(thd);
    free(imgs);
}

/* ---- Hand-checkable loss values --------------------------------------------------------- */

Test(quine, hand_checked_losses)
{
    /* Vanilla H=4, depth 1 (N = 16 + 4 = 20). With w_out = 0 every prediction is 0, so for
     * coordinates {0, 5} and targets t_c = c / 10:
     *   SSE      = 0^2 + 0.5^2 = 0.25
     *   relative = (N / nc) SSE / sum theta^2 = (20 / 2) 0.25 / sum theta^2
     *   r2       = (20 / 2) 0.25 / sum (theta - mean)^2
     * and d SSE / d w_out[i] = sum_rows 2 (0 - t) a_1[i] = -2 * 0.5 * a_1(c=5)[i]. */
    qs_quine_spec_t s = qs_quine_spec_default(QS_KIND_VANILLA, 9);
    s.hidden = 4;
    s.depth = 1;
    qs_phys_t *ph = qs_phys_new(&s, NULL);
    float th[20], tg[20], g[20];
    for (int i = 0; i < 16; i++)
        th[i] = (float)(i % 5) * 0.25f - 0.5f;
    for (int i = 16; i < 20; i++)
        th[i] = 0;
    for (int i = 0; i < 20; i++)
        tg[i] = (float)i / 10.0f;
    double ss = 0, mean = 0, ssc = 0;
    for (int i = 0; i < 20; i++) {
        ss += (double)th[i] * th[i];
        mean += th[i] / 20.0;
    }
    for (int i = 0; i < 20; i++)
        ssc += (th[i] - mean) * (th[i] - mean);
    uint32_t coords[2] = {0, 5};
    qs_work_t *w = qs_work_new(&s, 2);
    qs_batch_stats_t st;
    qs_objective_t obj = {QS_SR_SSE, 0.01f, 0.01f, QS_REDUCE_MEAN, QS_PAIR_SEPARATE};
    qs_quine_loss_grad(ph, th, tg, coords, 2, NULL, NULL, 0, &obj, w, g, &st);
    cr_expect_float_eq(st.sse, 0.25, 1e-7);
    cr_expect_float_eq(st.loss, 0.25, 1e-7);
    /* a_1 of coordinate 5 by hand: SELU(h0 W1) */
    const float *h0 = qs_phys_coord_act(ph, 5);
    for (int o = 0; o < 4; o++) {
        double z = 0;
        for (int i = 0; i < 4; i++)
            z += (double)h0[i] * th[i * 4 + o];
        cr_expect_lt(fabs(g[16 + o] - (-1.0 * qt_selu(z))), 1e-5);
    }
    obj.sr_loss = QS_SR_RELATIVE;
    qs_quine_loss_grad(ph, th, tg, coords, 2, NULL, NULL, 0, &obj, w, g, &st);
    cr_expect_float_eq(st.sr, 10 * 0.25 / ss, 1e-6);
    cr_expect_float_eq(st.sse, 0.25, 1e-7);
    obj.sr_loss = QS_SR_R2;
    qs_quine_loss_grad(ph, th, tg, coords, 2, NULL, NULL, 0, &obj, w, g, &st);
    cr_expect_float_eq(st.sr, 10 * 0.25 / ssc, 1e-6);
    qs_work_free(w);
    qs_phys_free(ph);

    /* Aux with W_cls = 0: every logit is 0, softmax uniform, cross-entropy ln K per image
     * whatever T: sum over 3 images = 3 ln 4, mean = ln 4; with w_out = 0 and targets 0
     * the replication term is 0; L = lambda L_task; 2 of 3 ... argmax ties go to class 0. */
    qs_quine_spec_t a = qs_quine_spec_default(QS_KIND_AUX, 9);
    a.hidden = 6;
    a.image_dim = 20;
    a.classes = 4;
    qs_dataset_t ds;
    qt_dataset(&ds, 5, 4, 5, 4, 8);
    ds.labels[0] = 0, ds.labels[1] = 2, ds.labels[2] = 0;
    ph = qs_phys_new(&a, NULL);
    qs_features_t f;
    qs_features_init(&f, ph, &ds);
    size_t n = qs_phys_nparams(ph);
    float *ta = calloc(n, sizeof *ta), *ga = malloc(n * sizeof *ga), *zt = calloc(n, sizeof *zt);
    for (size_t i = 0; i < 72; i++)
        ta[i] = 0.1f * (float)((int)(i % 7) - 3);
    uint32_t imgs[3] = {0, 1, 2}, cs[3] = {1, 2, 3};
    w = qs_work_new(&a, 6);
    qs_objective_t ao = {QS_SR_SSE, 0.5f, 0.01f, QS_REDUCE_SUM, QS_PAIR_PAIRED};
    qs_quine_loss_grad(ph, ta, zt, cs, 3, &f, imgs, 3, &ao, w, ga, &st);
    cr_expect_float_eq(st.task, 3 * log(4.0), 1e-5);
    cr_expect_float_eq(st.loss, 0.5 * 3 * log(4.0), 1e-5);
    cr_expect_eq(st.sse, 0.0);
    cr_expect_eq(st.correct, 2);
    ao.reduce = QS_REDUCE_MEAN;
    ao.pairing = QS_PAIR_SEPARATE;
    qs_quine_loss_grad(ph, ta, zt, cs, 3, &f, imgs, 3, &ao, w, ga, &st);
    cr_expect_float_eq(st.task, log(4.0), 1e-6);
    qs_work_free(w);
    qs_features_destroy(&f);
    qs_phys_free(ph);
    qs_dataset_destroy(&ds);
    free(ta);
    free(ga);
    free(zt);
}

/* ---- Gradient checks --------------------------------------------------------------------- */

typedef struct {
    char name[40];
    int kind, sr, pairing, reduce, rest;
    int hidden, depth, nc, ni;
    int targets_are_theta;
    float lambda, temperature;
} gcase_t;

static gcase_t gcases[] = {
    /* name                 kind sr pair red rest H  d  nc ni tt lambda T */
    {"vanilla sse", 0, QS_SR_SSE, 0, 0, 0, 6, 2, 5, 0, 0, 0, 1},
    {"vanilla relative", 0, QS_SR_RELATIVE, 0, 0, 0, 6, 2, 5, 0, 0, 0, 1},
    {"vanilla r2", 0, QS_SR_R2, 0, 0, 0, 6, 2, 5, 0, 0, 0, 1},
    {"vanilla r2 all coords", 0, QS_SR_R2, 0, 0, 0, 5, 2, -1, 0, 0, 0, 1},
    {"vanilla relative all", 0, QS_SR_RELATIVE, 0, 0, 0, 5, 2, -1, 0, 1, 0, 1},
    {"vanilla sse depth 1", 0, QS_SR_SSE, 0, 0, 0, 7, 1, 4, 0, 0, 0, 1},
    {"vanilla sse depth 3", 0, QS_SR_SSE, 0, 0, 0, 5, 3, 6, 0, 1, 0, 1},
    {"aux sse paired sum", 1, QS_SR_SSE, 1, 0, 0, 6, 2, 4, 4, 0, 0.3f, 0.5f},
    {"aux sse paired mean", 1, QS_SR_SSE, 1, 1, 0, 6, 2, 4, 4, 0, 0.3f, 0.5f},
    {"aux sse separate", 1, QS_SR_SSE, 0, 1, 0, 6, 2, 3, 4, 0, 0.3f, 0.5f},
    {"aux relative paired", 1, QS_SR_RELATIVE, 1, 1, 0, 6, 2, 4, 4, 0, 0.3f, 0.5f},
    {"aux relative separate", 1, QS_SR_RELATIVE, 0, 0, 0, 6, 2, 4, 3, 0, 0.3f, 0.5f},
    {"aux r2 paired", 1, QS_SR_R2, 1, 1, 0, 6, 2, 4, 4, 1, 0.3f, 0.5f},
    {"aux r2 separate", 1, QS_SR_R2, 0, 1, 0, 6, 2, 4, 4, 0, 0.3f, 0.5f},
    {"aux task only paired", 1, QS_SR_NONE, 1, 1, 0, 6, 2, 4, 4, 0, 1, 0.5f},
    {"aux task only separate", 1, QS_SR_NONE, 0, 1, 0, 6, 2, 0, 5, 0, 1, 0.5f},
    {"aux replication only", 1, QS_SR_SSE, 0, 1, 0, 6, 2, 5, 0, 0, 1, 0.5f},
    {"aux paired nc<ni", 1, QS_SR_SSE, 1, 0, 0, 6, 2, 2, 5, 0, 0.3f, 0.5f},
    {"aux paired nc>ni", 1, QS_SR_R2, 1, 0, 0, 6, 2, 5, 2, 0, 0.3f, 0.5f},
    {"aux rest mean r2", 1, QS_SR_R2, 0, 1, 1, 6, 2, 4, 3, 0, 0.3f, 0.5f},
    {"aux odd H depth 1", 1, QS_SR_SSE, 1, 1, 0, 7, 1, 4, 4, 0, 0.3f, 0.5f},
    {"aux paper T 0.01", 1, QS_SR_SSE, 1, 1, 0, 6, 2, 4, 4, 0, 0.01f, 0.01f},
    {"vanilla hinge", 0, QS_SR_HINGE, 0, 0, 0, 6, 2, 7, 0, 0, 0, 1},
    {"vanilla hinge all coords", 0, QS_SR_HINGE, 0, 0, 0, 5, 2, -1, 0, 0, 0, 1},
    {"aux hinge paired", 1, QS_SR_HINGE, 1, 1, 0, 6, 2, 5, 5, 0, 0.3f, 0.5f},
};

ParameterizedTestParameters(quine, gradient_check)
{
    return cr_make_param_array(gcase_t, gcases, sizeof gcases / sizeof gcases[0]);
}

/* Central differences of the double reference (eps 1e-6) against the float analytic
 * gradient, for EVERY parameter, group by group. */
ParameterizedTest(gcase_t *gc, quine, gradient_check)
{
    qs_quine_spec_t s = qs_quine_spec_default(gc->kind ? QS_KIND_AUX : QS_KIND_VANILLA, 11);
    s.hidden = (uint32_t)gc->hidden;
    s.depth = (uint32_t)gc->depth;
    if (gc->kind) {
        s.image_dim = 20;
        s.classes = 3;
        s.rest = gc->rest ? QS_REST_MEAN : QS_REST_ZERO;
    }
    qs_dataset_t ds = {0};
    qs_features_t f = {0};
    float mean[20];
    if (gc->kind) {
        qt_dataset(&ds, 12, 4, 5, 3, 4);
        qs_dataset_mean_image(&ds, mean);
    }
    qs_phys_t *ph = qs_phys_new(&s, mean);
    if (gc->kind)
        qs_features_init(&f, ph, &ds);
    size_t n = qs_phys_nparams(ph);
    float *th = malloc(n * sizeof *th), *tg = malloc(n * sizeof *tg), *g = malloc(n * sizeof *g);
    double *thd = malloc(n * sizeof *thd);
    qs_rng_t r;
    qs_rng_init(&r, 21, qs_rng_stream(QS_STREAM_TEST, 3));
    qs_quine_init_weights(&s, QS_INIT_HE, &r, th);
    for (size_t i = 0; i < n; i++) {
        th[i] *= 1.5f;
        thd[i] = th[i];
        tg[i] = gc->targets_are_theta ? th[i] : th[i] + (float)(0.3 * qs_rng_normal(&r));
    }
    size_t nc = gc->nc < 0 ? n : (size_t)gc->nc, ni = (size_t)gc->ni;
    uint32_t *coords = malloc((nc + 1) * sizeof *coords), imgs[8];
    for (size_t i = 0; i < nc; i++)
        coords[i] = gc->nc < 0 ? (uint32_t)i : qs_rng_below(&r, (uint32_t)n);
    for (size_t i = 0; i < ni; i++)
        imgs[i] = qs_rng_below(&r, 12);
    qs_objective_t obj = {(qs_sr_loss_t)gc->sr, gc->lambda, gc->temperature,
                          (qs_reduce_t)gc->reduce, (qs_pairing_t)gc->pairing};
    qs_work_t *w = qs_work_new(&s, nc + ni);
    qs_batch_stats_t st;
    qs_quine_loss_grad(ph, th, gc->targets_are_theta ? th : tg, coords, nc, gc->kind ? &f : NULL,
                       imgs, ni, &obj, w, g, &st);
    /* The reference's targets are a fixed copy: detached. */
    double l0 = qt_ref_loss(ph, thd, tg, coords, nc, &f, imgs, ni, &obj, NULL, NULL);
    cr_expect_lt(fabs(st.loss - l0), 1e-4 * fabs(l0) + 1e-6, "%s: loss %.9g, reference %.9g",
                 gc->name, st.loss, l0);

    qs_param_group_t groups[8];
    size_t ng = qs_quine_param_groups(&s, groups, 8);
    const double eps = 1e-6;
    for (size_t gi = 0; gi < ng; gi++) {
        double *num = malloc(groups[gi].count * sizeof *num), gmax = 0;
        for (size_t k = 0; k < groups[gi].count; k++) {
            size_t j = groups[gi].offset + k;
            double keep = thd[j];
            thd[j] = keep + eps;
            double lp = qt_ref_loss(ph, thd, tg, coords, nc, &f, imgs, ni, &obj, NULL, NULL);
            thd[j] = keep - eps;
            double lm = qt_ref_loss(ph, thd, tg, coords, nc, &f, imgs, ni, &obj, NULL, NULL);
            thd[j] = keep;
            num[k] = (lp - lm) / (2 * eps);
            gmax = fmax(gmax, fabs(num[k]));
        }
        int nonzero = 0;
        for (size_t k = 0; k < groups[gi].count; k++) {
            size_t j = groups[gi].offset + k;
            double tol = 2e-3 * fabs(num[k]) + 2e-4 * gmax + 1e-7;
            cr_expect_leq(fabs(g[j] - num[k]), tol, "%s: %s[%zu] analytic %.8g numeric %.8g",
                          gc->name, groups[gi].name, k, g[j], num[k]);
            nonzero += g[j] != 0;
        }
        /* Every group receives gradient unless its loss is off (W_cls without images,
         * w_out with neither a replication term nor a scale-free denominator). */
        int expect_zero = (!strcmp(groups[gi].name, "W_cls") && ni == 0) ||
                          (!strcmp(groups[gi].name, "w_out") && gc->sr == QS_SR_NONE);
        if (!expect_zero)
            cr_expect_gt(nonzero, 0, "%s: no gradient reaches %s", gc->name, groups[gi].name);
        free(num);
    }
    qs_work_free(w);
    if (gc->kind) {
        qs_features_destroy(&f);
        qs_dataset_destroy(&ds);
    }
    qs_phys_free(ph);
    free(th);
    free(tg);
    free(g);
    free(thd);
    free(coords);
}

/* The paper's aux network at full size (H = 100, 784 pixels, paired rows of 10, SSE,
 * lambda 0.01, T 0.01) and the vanilla one with the r2 loss: a few sampled parameters of
 * every group against central differences of the reference. */
Test(quine, gradient_check_paper_size, .timeout = 120)
{
    for (int kind = 0; kind < 2; kind++) {
        qs_quine_spec_t s = qs_quine_spec_default(kind ? QS_KIND_AUX : QS_KIND_VANILLA, 2018);
        qs_dataset_t ds = {0};
        qs_features_t f = {0};
        qs_phys_t *ph = qs_phys_new(&s, NULL);
        if (kind) {
            qt_dataset(&ds, 30, 28, 28, 10, 5);
            qs_features_init(&f, ph, &ds);
        }
        size_t n = qs_phys_nparams(ph);
        float *th = malloc(n * sizeof *th), *g = malloc(n * sizeof *g);
        double *thd = malloc(n * sizeof *thd);
        qs_rng_t r;
        qs_rng_init(&r, 5, qs_rng_stream(QS_STREAM_INIT, 0));
        qs_quine_init_weights(&s, kind ? QS_INIT_UNIFORM : QS_INIT_HE, &r, th);
        for (size_t i = 0; i < n; i++)
            thd[i] = th[i];
        uint32_t coords[50], imgs[10];
        size_t nc = kind ? 10 : 50, ni = kind ? 10 : 0;
        for (size_t i = 0; i < nc; i++)
            coords[i] = qs_rng_below(&r, (uint32_t)n);
        for (size_t i = 0; i < ni; i++)
            imgs[i] = qs_rng_below(&r, 30);
        qs_objective_t obj =
            kind ? (qs_objective_t){QS_SR_SSE, 0.01f, 0.01f, QS_REDUCE_MEAN, QS_PAIR_PAIRED}
                 : (qs_objective_t){QS_SR_R2, 0, 1, QS_REDUCE_MEAN, QS_PAIR_SEPARATE};
        qs_work_t *w = qs_work_new(&s, 64);
        qs_batch_stats_t st;
        qs_quine_loss_grad(ph, th, th, coords, nc, kind ? &f : NULL, imgs, ni, &obj, w, g, &st);
        double l0 = qt_ref_loss(ph, thd, th, coords, nc, &f, imgs, ni, &obj, NULL, NULL);
        cr_expect_lt(fabs(st.loss - l0), 1e-4 * fabs(l0), "kind %d: %g vs %g", kind, st.loss, l0);
        qs_param_group_t groups[4];
        size_t ng = qs_quine_param_groups(&s, groups, 4);
        for (size_t gi = 0; gi < ng; gi++) {
            /* Sample parameters with a sizeable gradient (a random one is often ~0). */
            for (int pick = 0; pick < 4; pick++) {
                size_t best = groups[gi].offset;
                for (int t = 0; t < 50; t++) {
                    size_t j = groups[gi].offset + qs_rng_below(&r, (uint32_t)groups[gi].count);
                    if (fabs(g[j]) > fabs(g[best]))
                        best = j;
                }
                const double eps = 1e-5;
                double keep = thd[best];
                thd[best] = keep + eps;
                double lp = qt_ref_loss(ph, thd, th, coords, nc, &f, imgs, ni, &obj, NULL, NULL);
                thd[best] = keep - eps;
                double lm = qt_ref_loss(ph, thd, th, coords, nc, &f, imgs, ni, &obj, NULL, NULL);
                thd[best] = keep;
                double num = (lp - lm) / (2 * eps);
                cr_expect_lt(fabs(g[best] - num), 5e-3 * fabs(num) + 1e-6,
                             "kind %d %s[%zu]: analytic %.8g numeric %.8g", kind, groups[gi].name,
                             best - groups[gi].offset, g[best], num);
            }
        }
        qs_work_free(w);
        if (kind) {
            qs_features_destroy(&f);
            qs_dataset_destroy(&ds);
        }
        qs_phys_free(ph);
        free(th);
        free(g);
        free(thd);
    }
}

/* A batch larger than one chunk gives the sum of its parts' gradients (SSE and summed
 * cross-entropy are sums over rows). */
Test(quine, chunked_batches_add_up)
{
    qs_quine_spec_t s = qs_quine_spec_default(QS_KIND_AUX, 3);
    s.hidden = 8;
    s.image_dim = 20;
    s.classes = 3;
    qs_dataset_t ds;
    qt_dataset(&ds, 700, 4, 5, 3, 9);
    qs_phys_t *ph = qs_phys_new(&s, NULL);
    qs_features_t f;
    qs_features_init(&f, ph, &ds);
    size_t n = qs_phys_nparams(ph);
    float *th = malloc(n * sizeof *th), *g = malloc(n * sizeof *g), *g1 = malloc(n * sizeof *g1),
          *g2 = malloc(n * sizeof *g2);
    qs_rng_t r;
    qs_rng_init(&r, 4, qs_rng_stream(QS_STREAM_INIT, 0));
    qs_quine_init_weights(&s, QS_INIT_HE, &r, th);
    uint32_t coords[100], imgs[700];
    for (int i = 0; i < 100; i++)
        coords[i] = qs_rng_below(&r, (uint32_t)n);
    for (int i = 0; i < 700; i++)
        imgs[i] = (uint32_t)i;
    qs_objective_t obj = {QS_SR_SSE, 0.5f, 1.0f, QS_REDUCE_SUM, QS_PAIR_SEPARATE};
    qs_work_t *w = qs_work_new(&s, 800);
    qs_batch_stats_t st, st1, st2;
    /* 100 + 700 = 800 rows: two chunks. Parts: (coords, 0 images), (none, 700 images). */
    qs_quine_loss_grad(ph, th, th, coords, 100, &f, imgs, 700, &obj, w, g, &st);
    qs_quine_loss_grad(ph, th, th, coords, 100, &f, imgs, 0, &obj, w, g1, &st1);
    qs_quine_loss_grad(ph, th, th, coords, 0, &f, imgs, 700, &obj, w, g2, &st2);
    cr_expect_float_eq(st.loss, st1.loss + st2.loss, 1e-4 * st.loss);
    cr_expect_eq(st.correct, st2.correct);
    double gmax = 0;
    for (size_t i = 0; i < n; i++)
        gmax = fmax(gmax, fabs(g[i]));
    for (size_t i = 0; i < n; i++)
        cr_expect_lt(fabs(g[i] - (g1[i] + g2[i])), 1e-5 * gmax, "param %zu", i);
    qs_work_free(w);
    qs_features_destroy(&f);
    qs_phys_free(ph);
    qs_dataset_destroy(&ds);
    free(th);
    free(g);
    free(g1);
    free(g2);
}

/* Same inputs, same bits: no hidden state in the workspace. */
Test(quine, loss_grad_is_deterministic)
{
    qs_quine_spec_t s = qs_quine_spec_default(QS_KIND_AUX, 3);
    qs_dataset_t ds;
    qt_dataset(&ds, 40, 28, 28, 10, 9);
    qs_phys_t *ph = qs_phys_new(&s, NULL);
    qs_features_t f;
    qs_features_init(&f, ph, &ds);
    size_t n = qs_phys_nparams(ph);
    float *th = malloc(n * sizeof *th), *g1 = malloc(n * sizeof *g1), *g2 = malloc(n * sizeof *g2);
    qs_rng_t r;
    qs_rng_init(&r, 4, qs_rng_stream(QS_STREAM_INIT, 0));
    qs_quine_init_weights(&s, QS_INIT_UNIFORM, &r, th);
    uint32_t coords[10] = {0, 5, 100, 20000, 21099, 7, 8, 9, 10, 11}, imgs[10];
    for (int i = 0; i < 10; i++)
        imgs[i] = (uint32_t)(i * 3);
    qs_objective_t obj = {QS_SR_R2, 0.01f, 0.01f, QS_REDUCE_MEAN, QS_PAIR_PAIRED};
    qs_work_t *w1 = qs_work_new(&s, 10), *w2 = qs_work_new(&s, 1000);
    qs_batch_stats_t a, b;
    qs_quine_loss_grad(ph, th, th, coords, 10, &f, imgs, 10, &obj, w1, g1, &a);
    qs_quine_predict_all(ph, th, g2, w1); /* scribble over the workspace */
    qs_quine_loss_grad(ph, th, th, coords, 10, &f, imgs, 10, &obj, w2, g2, &b);
    cr_expect(!memcmp(g1, g2, n * sizeof *g1));
    cr_expect_eq(a.loss, b.loss);
    qs_work_free(w1);
    qs_work_free(w2);
    qs_features_destroy(&f);
    qs_phys_free(ph);
    qs_dataset_destroy(&ds);
    free(th);
    free(g1);
    free(g2);
}
