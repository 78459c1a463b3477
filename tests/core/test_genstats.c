/* Tests for core/genstats, the one computation of a generation's means: the rule for
 * non-finite values (left out of the mean, counted), the best accuracy (highest finite,
 * first on a tie) and links that are only counted for births by replication. */
#include <criterion/criterion.h>
#include <math.h>

#include "core/genstats.h"

Test(genstats, means_over_finite_values_and_a_count_of_the_rest)
{
    qs_genstats_t s;
    qs_genstats_init(&s);
    cr_assert(isnan(s.best_accuracy));
    cr_assert(isnan(qs_genstats_mean(&s.rel_err)), "no value: NaN");
    qs_genstats_eval(&s, 1, 0.5, 0.2, 0.9);
    qs_genstats_eval(&s, 2, NAN, INFINITY, -INFINITY); /* a zero genome of a vanilla quine */
    qs_genstats_eval(&s, 3, 0.7, 0.4, 0.5);
    cr_assert_float_eq(qs_genstats_mean(&s.accuracy), 0.6, 1e-15);
    cr_assert_float_eq(qs_genstats_mean(&s.rel_err), 0.3, 1e-15);
    cr_assert_float_eq(qs_genstats_mean(&s.r2), 0.7, 1e-15);
    cr_assert_eq(s.accuracy.n, 2);
    cr_assert_eq(s.accuracy.nonfinite, 1);
    cr_assert_eq(s.rel_err.nonfinite, 1);
    cr_assert_eq(s.r2.nonfinite, 1);
    cr_assert_float_eq(s.best_accuracy, 0.7, 0);
    cr_assert_eq(s.best_id, 3);
}

Test(genstats, best_accuracy_is_the_first_of_the_highest)
{
    qs_genstats_t s;
    qs_genstats_init(&s);
    qs_genstats_eval(&s, 4, 0.8, 0, 0);
    qs_genstats_eval(&s, 2, 0.8, 0, 0);
    qs_genstats_eval(&s, 9, INFINITY, 0, 0);
    cr_assert_eq(s.best_id, 4);
    cr_assert_eq(s.accuracy.nonfinite, 1);
}

Test(genstats, links)
{
    qs_genstats_t s;
    qs_genstats_init(&s);
    cr_assert(isnan(qs_genstats_mean(&s.link_r2)), "founders only: no link");
    qs_genstats_link(&s, 0.9, 0.1);
    qs_genstats_link(&s, NAN, INFINITY);
    cr_assert_float_eq(qs_genstats_mean(&s.link_r2), 0.9, 0);
    cr_assert_float_eq(qs_genstats_mean(&s.link_rel_err), 0.1, 0);
    cr_assert_eq(s.link_r2.nonfinite, 1);
}
