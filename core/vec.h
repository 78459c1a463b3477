/* vec: the elementwise kernels of the numerical core (SELU and its derivative, sums of
 * squares, scaled updates), written with GCC/Clang vector extensions 16 floats wide and
 * compiled for AVX-512, AVX2 and plain x86-64 (target_clones; the CPU picks at load).
 *
 * Determinism: the kernels contain no fused multiply-adds (ISO C mode leaves GCC's
 * -ffp-contract off; Clang is told so below) and every reduction sums in a fixed lane
 * order, so results are bit-identical whichever instruction set runs them.
 *
 * SELU's exp: e^x - 1 for x <= 0 is computed as 2^k * q(r) + (2^k - 1) with
 * k = round(x / ln 2), r = x - k ln 2 (two-part ln 2, |r| <= 0.347) and q the degree-7
 * Taylor polynomial of expm1 (truncation error below 2e-8 relative), inputs clamped at
 * -87 (where e^x < 2^-125 is below float resolution of the -1 it is added to). Measured
 * against double expm1 over [-90, 0] in steps of 1e-5 and at the edges (tests/core/
 * test_vec.c): relative error at most 1.4e-7 (about 1.4 ulp), and exactly 0 at x = 0;
 * small negative x keep full relative precision (no cancellation: q(r) is computed
 * directly, not as e^r - 1). */
#ifndef QS_VEC_H
#define QS_VEC_H

#include <stddef.h>

#ifdef __clang__
/* Clang contracts a * b + c into an FMA by default even in ISO mode; results would then
 * depend on the instruction set. GCC in -std=c11 mode does not contract. */
#pragma STDC FP_CONTRACT OFF
#endif

/* Multiversioned hot loops (x86-64 with GCC or Clang); elsewhere one plain version. */
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__)) && !defined(QS_NO_CLONES)
#define QS_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define QS_CLONES
#endif

#define QS_SELU_LAMBDA 1.0507009873554805
#define QS_SELU_ALPHA  1.6732632423543772

/* FLOPs per element of each kernel (the convention of core/quine.c: every float add,
 * subtract, multiply, divide and compare counts 1; integer and bit operations 0). */
#define QS_FLOPS_SELU      26 /* clamp 1, range reduction 7, polynomial 13, scaling 4, linear 1 */
#define QS_FLOPS_SELU_GRAD 3  /* compare, a + lambda*alpha, product */

/* y[i] = SELU(x[i]); y may equal x. */
void qs_vec_selu(float *y, const float *x, size_t n);
/* dz[i] = da[i] * SELU'(z[i]), from the activation a = SELU(z): lambda where a > 0, else
 * a + lambda*alpha (= lambda*alpha*e^z). dz may equal da. */
void qs_vec_selu_grad(float *dz, const float *da, const float *a, size_t n);
/* SELU of one value by the same kernel (tests, scalar callers). */
float qs_selu(float x);

/* Sums in double precision, fixed order: 16 lanes, then the lanes in index order. */
double qs_vec_sum(const float *x, size_t n);
double qs_vec_sumsq(const float *x, size_t n);
/* sum_i (x[i] - mean)^2, the difference taken in double. */
double qs_vec_sumsq_centered(const float *x, size_t n, double mean);
/* sum_i (a[i] - b[i])^2, the difference taken in double. */
double qs_vec_sqdist(const float *a, const float *b, size_t n);

/* y[i] = sqrt(x[i]), correctly rounded (as sqrtf); y may equal x. Runs AVX-512, AVX or
 * SSE square-root instructions, whichever the CPU has. */
void qs_vec_sqrt(float *y, const float *x, size_t n);

/* Dot product in float, 16 lanes then the lanes in index order (deterministic). */
float qs_vec_dot(const float *a, const float *b, size_t n);
/* y[i] += alpha * x[i]. */
void qs_vec_axpy(float *y, float alpha, const float *x, size_t n);
/* y[i] = alpha * x[i]. */
void qs_vec_scale(float *y, float alpha, const float *x, size_t n);

/* y[i] += alpha * (x[i] - shift) in float. */
void qs_vec_add_scaled_shifted(float *y, const float *x, float alpha, float shift, size_t n);

#endif
