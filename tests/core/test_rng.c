/* Tests for core/rng: Philox4x32-10 known answers (Random123's kat_vectors), stream
 * independence, determinism, and the distributions built on it. */
#include <criterion/criterion.h>
#include <math.h>

#include "core/rng.h"

Test(rng, philox_known_answers)
{
    uint32_t out[4];
    qs_philox4x32(0, 0, 0, out);
    cr_assert_eq(out[0], 0x6627e8d5u);
    cr_assert_eq(out[1], 0xe169c58du);
    cr_assert_eq(out[2], 0xbc57ac4cu);
    cr_assert_eq(out[3], 0x9b00dbd8u);
    qs_philox4x32(UINT64_MAX, UINT64_MAX, UINT64_MAX, out);
    cr_assert_eq(out[0], 0x408f276du);
    cr_assert_eq(out[1], 0x41c83b0eu);
    cr_assert_eq(out[2], 0xa20bc7c6u);
    cr_assert_eq(out[3], 0x6d5451fdu);
    /* ctr = {243f6a88 85a308d3 13198a2e 03707344}, key = {a4093822 299f31d0} */
    qs_philox4x32(UINT64_C(0x299f31d0a4093822), UINT64_C(0x0370734413198a2e),
                  UINT64_C(0x85a308d3243f6a88), out);
    cr_assert_eq(out[0], 0xd16cfe09u);
    cr_assert_eq(out[1], 0x94fdccebu);
    cr_assert_eq(out[2], 0x5001e420u);
    cr_assert_eq(out[3], 0x24126ea1u);
}

Test(rng, same_key_same_sequence_other_stream_differs)
{
    qs_rng_t a, b, c;
    qs_rng_init(&a, 42, qs_rng_stream(QS_STREAM_LIFE, 7));
    qs_rng_init(&b, 42, qs_rng_stream(QS_STREAM_LIFE, 7));
    qs_rng_init(&c, 42, qs_rng_stream(QS_STREAM_LIFE, 8));
    int differ = 0;
    for (int i = 0; i < 1000; i++) {
        uint32_t x = qs_rng_u32(&a), y = qs_rng_u32(&b), z = qs_rng_u32(&c);
        cr_assert_eq(x, y);
        differ += x != z;
    }
    cr_assert_gt(differ, 990);
}

Test(rng, state_copy_resumes_exactly)
{
    qs_rng_t a;
    qs_rng_init(&a, 1, 2);
    for (int i = 0; i < 7; i++)
        qs_rng_u32(&a);
    qs_rng_t saved = a;
    uint32_t x[10], y[10];
    for (int i = 0; i < 10; i++)
        x[i] = qs_rng_u32(&a);
    for (int i = 0; i < 10; i++)
        y[i] = qs_rng_u32(&saved);
    cr_assert_arr_eq(x, y, sizeof x);
}

Test(rng, uniform_and_normal_moments)
{
    qs_rng_t r;
    qs_rng_init(&r, 123, qs_rng_stream(QS_STREAM_TEST, 0));
    const int n = 200000;
    double su = 0, sn = 0, sn2 = 0;
    for (int i = 0; i < n; i++) {
        double u = qs_rng_uniform(&r);
        cr_assert(u >= 0 && u < 1);
        su += u;
        double z = qs_rng_normal(&r);
        sn += z;
        sn2 += z * z;
    }
    cr_assert_lt(fabs(su / n - 0.5), 0.005);
    cr_assert_lt(fabs(sn / n), 0.01);
    cr_assert_lt(fabs(sn2 / n - 1.0), 0.02);
}

Test(rng, below_is_unbiased_and_in_range)
{
    qs_rng_t r;
    qs_rng_init(&r, 5, 5);
    unsigned hist[7] = {0};
    for (int i = 0; i < 70000; i++) {
        uint32_t v = qs_rng_below(&r, 7);
        cr_assert_lt(v, 7);
        hist[v]++;
    }
    for (int k = 0; k < 7; k++)
        cr_assert(hist[k] > 9500 && hist[k] < 10500, "bucket %d has %u", k, hist[k]);
}

Test(rng, shuffle_is_a_permutation)
{
    qs_rng_t r;
    qs_rng_init(&r, 9, 9);
    uint32_t v[100];
    for (uint32_t i = 0; i < 100; i++)
        v[i] = i;
    qs_rng_shuffle_u32(&r, v, 100);
    int seen[100] = {0}, moved = 0;
    for (uint32_t i = 0; i < 100; i++) {
        seen[v[i]]++;
        moved += v[i] != i;
    }
    for (int i = 0; i < 100; i++)
        cr_assert_eq(seen[i], 1);
    cr_assert_gt(moved, 80);
}
