/* Tests for core/fidelity: hand-checked values and every degenerate case; the fitness
 * measures built on it. */
#include <criterion/criterion.h>
#include <math.h>

#include "core/fidelity.h"
#include "core/util.h"

Test(fidelity, hand_checked)
{
    /* theta = (1, 2, 3), pred = (1, 2, 4): L_SR = 1, margin = sqrt(1/3),
     * srq = ln(3 / 1), rel_err = 1 / (1 + 4 + 9) = 1/14, mean 2,
     * sum (theta - mean)^2 = 2, R^2 = 1 - 1/2 = 0.5, rms = sqrt(14/3). */
    float th[3] = {1, 2, 3}, pr[3] = {1, 2, 4};
    qs_fidelity_t f;
    qs_fidelity_compute(&f, th, pr, 3);
    cr_expect_float_eq(f.l_sr, 1.0, 1e-12);
    cr_expect_float_eq(f.margin, sqrt(1.0 / 3), 1e-12);
    cr_expect_float_eq(f.srq, log(3.0), 1e-12);
    cr_expect_float_eq(f.rel_err, 1.0 / 14, 1e-12);
    cr_expect_float_eq(f.r2, 0.5, 1e-12);
    cr_expect_float_eq(f.rms, sqrt(14.0 / 3), 1e-12);
    cr_expect_eq(f.zero_quine, 0);
}

Test(fidelity, shrinking_copy_looks_good_on_lsr_but_not_on_r2)
{
    /* pred = 0.9 theta: the trap of quine-paper.md. L_SR = 0.01 sum theta^2, so
     * rel_err = 0.01 and R^2 = 1 - 0.01 * sum theta^2 / sum (theta - mean)^2; for
     * predicting zeros rel_err = 1 exactly. */
    float th[4] = {0.1f, -0.2f, 0.3f, -0.2f}, pr[4], zero[4] = {0};
    for (int i = 0; i < 4; i++)
        pr[i] = 0.9f * th[i];
    qs_fidelity_t f;
    qs_fidelity_compute(&f, th, pr, 4);
    cr_expect_float_eq(f.rel_err, 0.01, 1e-6);
    qs_fidelity_compute(&f, th, zero, 4);
    cr_expect_float_eq(f.rel_err, 1.0, 1e-12);
    cr_expect_lt(f.r2, 0.0);
}

Test(fidelity, degenerate_cases_are_defined)
{
    qs_fidelity_t f;
    float z[3] = {0, 0, 0}, c[3] = {0.5f, 0.5f, 0.5f}, p[3] = {0.5f, 0.5f, 0.6f};
    /* The zero quine: a perfect copy of nothing. */
    qs_fidelity_compute(&f, z, z, 3);
    cr_expect_eq(f.l_sr, 0.0);
    cr_expect(isinf(f.srq) && f.srq > 0);
    cr_expect_eq(f.rel_err, 0.0);
    cr_expect_eq(f.r2, 1.0);
    cr_expect_eq(f.zero_quine, 1);
    /* Zero genome, nonzero prediction: relative error infinite, R^2 -inf. */
    qs_fidelity_compute(&f, z, p, 3);
    cr_expect(isinf(f.rel_err) && f.rel_err > 0);
    cr_expect(isinf(f.r2) && f.r2 < 0);
    /* All-equal genome, imperfect prediction: R^2 -inf, relative error finite. */
    qs_fidelity_compute(&f, c, p, 3);
    cr_expect(isinf(f.r2) && f.r2 < 0);
    cr_expect(isfinite(f.rel_err));
    cr_expect_eq(f.zero_quine, 0);
    /* Empty. */
    qs_fidelity_compute(&f, z, z, 0);
    cr_expect_eq(f.margin, 0.0);
    cr_expect_eq(f.r2, 1.0);
    cr_expect_eq(f.zero_quine, 0);
    /* Nothing is ever NaN. */
    qs_fidelity_t all[3];
    qs_fidelity_compute(&all[0], z, p, 3);
    qs_fidelity_compute(&all[1], c, c, 3);
    qs_fidelity_compute(&all[2], c, z, 3);
    for (int i = 0; i < 3; i++) {
        cr_expect(!isnan(all[i].srq) && !isnan(all[i].r2) && !isnan(all[i].rel_err));
        cr_expect(!isnan(all[i].margin) && !isnan(all[i].rms));
    }
}

Test(fidelity, zero_quine_threshold)
{
    float th[2] = {9e-4f, -9e-4f}, th2[2] = {2e-3f, 0};
    qs_fidelity_t f;
    qs_fidelity_compute(&f, th, th, 2);
    cr_expect_eq(f.zero_quine, 1);
    qs_fidelity_compute(&f, th2, th2, 2);
    cr_expect_eq(f.zero_quine, 0, "rms sqrt(2e-6) = 1.4e-3 is above 1e-3");
}

Test(fidelity, fitness_measures)
{
    cr_assert_eq(qs_fitness(QS_FIT_ACCURACY, 0.75, 0.5), 0.75);
    cr_assert_eq(qs_fitness(QS_FIT_ACCURACY, NAN, 0.5), 0.0, "no accuracy counts 0");
    cr_assert_eq(qs_fitness(QS_FIT_FIDELITY, 0.75, 0.5), 0.5);
    cr_assert_eq(qs_fitness(QS_FIT_FIDELITY, 0.75, -INFINITY), -1.0, "no R^2 counts -1");
    cr_assert_eq(qs_fitness(QS_FIT_PRODUCT, 0.75, 0.5), 0.375);
    cr_assert_eq(qs_fitness(QS_FIT_PRODUCT, 0.75, -0.5), 0.0, "a negative R^2 counts 0");
    cr_assert_eq(qs_fitness(QS_FIT_PRODUCT, NAN, NAN), 0.0);
    qs_fitness_t f = QS_FIT_ACCURACY;
    cr_assert_eq(qs_fitness_parse("product", &f), 0);
    cr_assert_eq(f, QS_FIT_PRODUCT);
    cr_assert_eq(qs_fitness_parse("speed", &f), QS_ERR(INVAL));
    cr_assert_eq(qs_fitness_parse(NULL, &f), QS_ERR(INVAL));
    cr_assert_eq(f, QS_FIT_PRODUCT, "left as it was");
    cr_assert_str_eq(qs_fitness_name(QS_FIT_FIDELITY), "fidelity");
    cr_assert_str_eq(qs_fitness_name((qs_fitness_t)7), "?");
}
