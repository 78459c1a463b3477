/* vec: elementwise kernels, 16 lanes wide, multiversioned (see vec.h for the rules that
 * keep them bit-identical across instruction sets, and for the expm1 approximation). */
#include "core/vec.h"

#include <math.h>
#include <stdint.h>
#include <string.h>
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__)) && !defined(QS_NO_CLONES)
#include <immintrin.h>
#define QS_SQRT_DISPATCH 1
#endif

typedef float v16f __attribute__((vector_size(64)));
typedef int32_t v16i __attribute__((vector_size(64)));
typedef float v8f __attribute__((vector_size(32)));
typedef double v8d __attribute__((vector_size(64)));

#define LANES  16
#define LAMBDA ((float)QS_SELU_LAMBDA)
#define LALPHA ((float)(QS_SELU_LAMBDA * QS_SELU_ALPHA))

/* Kernels take pointers (not vectors by value) so that no vector crosses a call ABI. */
#define ALWAYS_INLINE static inline __attribute__((always_inline))

/* *y = SELU(*x) on 16 lanes; x and y may be the same. */
ALWAYS_INLINE void selu16(v16f *y, const v16f *xp)
{
    const v16f x = *xp;
    const v16i neg = (v16i)x >> 31;        /* all ones where the sign bit is set */
    v16f xn = (v16f)((v16i)x & neg);       /* x where negative, else +0 */
    v16i lo = (v16i)(xn + 87.0f) >> 31;    /* xn < -87 */
    const v16f floor_ = (v16f){0} - 87.0f; /* -87 in every lane */
    xn = (v16f)(((v16i)xn & ~lo) | ((v16i)floor_ & lo));
    /* k = round(xn / ln 2) by the 1.5 * 2^23 trick; ki its integer value. */
    const v16f t = xn * 1.44269504088896341f + 12582912.0f;
    const v16f k = t - 12582912.0f;
    const v16i ki = (v16i)t - 0x4B400000;
    v16f r = xn - k * 0.693145751953125f; /* ln 2 high part: k * it is exact */
    r = r - k * 1.428606765330187e-06f;   /* ln 2 low part */
    v16f p = r * (1.0f / 5040.0f) + (1.0f / 720.0f);
    p = p * r + (1.0f / 120.0f);
    p = p * r + (1.0f / 24.0f);
    p = p * r + (1.0f / 6.0f);
    p = p * r + 0.5f;
    const v16f q = r + (r * r) * p;               /* e^r - 1, |r| <= 0.347 */
    const v16f s = (v16f)((ki + 127) << 23);      /* 2^k, k in [-126, 0] */
    const v16f e = (s * q + (s - 1.0f)) * LALPHA; /* lambda alpha (e^x - 1) */
    const v16f lin = x * LAMBDA;
    *y = (v16f)(((v16i)e & neg) | ((v16i)lin & ~neg));
}

QS_CLONES void qs_vec_selu(float *y, const float *x, size_t n)
{
    size_t i = 0;
    v16f v;
    for (; i + LANES <= n; i += LANES) {
        memcpy(&v, x + i, sizeof v);
        selu16(&v, &v);
        memcpy(y + i, &v, sizeof v);
    }
    if (i < n) {
        memset(&v, 0, sizeof v);
        memcpy(&v, x + i, (n - i) * sizeof(float));
        selu16(&v, &v);
        memcpy(y + i, &v, (n - i) * sizeof(float));
    }
}

float qs_selu(float x)
{
    float y;
    qs_vec_selu(&y, &x, 1);
    return y;
}

ALWAYS_INLINE void selu_grad16(v16f *dz, const v16f *da, const v16f *a)
{
    const v16i pos = (v16i)*a > 0; /* a > 0 (as float) <=> its bits are a positive integer */
    const v16f neg_slope = *a + LALPHA;
    const v16f slope = (v16f)((pos & (v16i)((v16f){0} + LAMBDA)) | (~pos & (v16i)neg_slope));
    *dz = *da * slope;
}

QS_CLONES void qs_vec_selu_grad(float *dz, const float *da, const float *a, size_t n)
{
    size_t i = 0;
    v16f g, v;
    for (; i + LANES <= n; i += LANES) {
        memcpy(&g, da + i, sizeof g);
        memcpy(&v, a + i, sizeof v);
        selu_grad16(&g, &g, &v);
        memcpy(dz + i, &g, sizeof g);
    }
    if (i < n) {
        memset(&g, 0, sizeof g);
        memset(&v, 0, sizeof v);
        memcpy(&g, da + i, (n - i) * sizeof(float));
        memcpy(&v, a + i, (n - i) * sizeof(float));
        selu_grad16(&g, &g, &v);
        memcpy(dz + i, &g, (n - i) * sizeof(float));
    }
}

/* Load 16 floats (zero-padded past n) as two vectors of 8 doubles. */
ALWAYS_INLINE void load16d(v8d *lo, v8d *hi, const float *x, size_t avail)
{
    v8f a, b;
    if (avail >= LANES) {
        memcpy(&a, x, sizeof a);
        memcpy(&b, x + 8, sizeof b);
    } else {
        float tmp[LANES] = {0};
        memcpy(tmp, x, avail * sizeof(float));
        memcpy(&a, tmp, sizeof a);
        memcpy(&b, tmp + 8, sizeof b);
    }
    *lo = __builtin_convertvector(a, v8d);
    *hi = __builtin_convertvector(b, v8d);
}

static double lanes_total(const v8d *lo, const v8d *hi)
{
    double s = 0;
    for (int j = 0; j < 8; j++)
        s += (*lo)[j];
    for (int j = 0; j < 8; j++)
        s += (*hi)[j];
    return s;
}

/* The reductions: mode 0 sum x, 1 sum x^2, 2 sum (x - shift)^2, 3 sum (x - y)^2. Padded
 * lanes contribute exactly 0 in every mode (x = y = 0 and, for mode 2, masked). */
ALWAYS_INLINE double reduce(const float *x, const float *y, double shift, int mode, size_t n)
{
    v8d acc_lo = {0}, acc_hi = {0};
    for (size_t i = 0; i < n; i += LANES) {
        size_t avail = n - i;
        v8d xl, xh;
        load16d(&xl, &xh, x + i, avail);
        if (mode == 0) {
            acc_lo += xl;
            acc_hi += xh;
            continue;
        }
        if (mode == 2) {
            xl -= shift;
            xh -= shift;
            if (avail < LANES) /* the padding must not add shift^2 */
                for (size_t j = avail; j < LANES; j++) {
                    if (j < 8)
                        xl[j] = 0;
                    else
                        xh[j - 8] = 0;
                }
        } else if (mode == 3) {
            v8d yl, yh;
            load16d(&yl, &yh, y + i, avail);
            xl -= yl;
            xh -= yh;
        }
        acc_lo += xl * xl;
        acc_hi += xh * xh;
    }
    return lanes_total(&acc_lo, &acc_hi);
}

QS_CLONES double qs_vec_sum(const float *x, size_t n)
{
    return reduce(x, NULL, 0, 0, n);
}

QS_CLONES double qs_vec_sumsq(const float *x, size_t n)
{
    return reduce(x, NULL, 0, 1, n);
}

QS_CLONES double qs_vec_sumsq_centered(const float *x, size_t n, double mean)
{
    return reduce(x, NULL, mean, 2, n);
}

QS_CLONES double qs_vec_sqdist(const float *a, const float *b, size_t n)
{
    return reduce(a, b, 0, 3, n);
}

QS_CLONES void qs_vec_add_scaled_shifted(float *y, const float *x, float alpha, float shift,
                                         size_t n)
{
    size_t i = 0;
    v16f vx, vy;
    for (; i + LANES <= n; i += LANES) {
        memcpy(&vx, x + i, sizeof vx);
        memcpy(&vy, y + i, sizeof vy);
        vy += alpha * (vx - shift);
        memcpy(y + i, &vy, sizeof vy);
    }
    for (; i < n; i++)
        y[i] += alpha * (x[i] - shift);
}

QS_CLONES float qs_vec_dot(const float *a, const float *b, size_t n)
{
    v16f acc = {0}, va, vb;
    size_t i = 0;
    for (; i + LANES <= n; i += LANES) {
        memcpy(&va, a + i, sizeof va);
        memcpy(&vb, b + i, sizeof vb);
        acc += va * vb;
    }
    if (i < n) {
        va = (v16f){0};
        vb = va;
        memcpy(&va, a + i, (n - i) * sizeof(float));
        memcpy(&vb, b + i, (n - i) * sizeof(float));
        acc += va * vb;
    }
    float s = 0;
    for (int j = 0; j < LANES; j++)
        s += acc[j];
    return s;
}

QS_CLONES void qs_vec_axpy(float *y, float alpha, const float *x, size_t n)
{
    size_t i = 0;
    v16f vx, vy;
    for (; i + LANES <= n; i += LANES) {
        memcpy(&vx, x + i, sizeof vx);
        memcpy(&vy, y + i, sizeof vy);
        vy += alpha * vx;
        memcpy(y + i, &vy, sizeof vy);
    }
    for (; i < n; i++)
        y[i] += alpha * x[i];
}

QS_CLONES void qs_vec_scale(float *y, float alpha, const float *x, size_t n)
{
    size_t i = 0;
    v16f vx;
    for (; i + LANES <= n; i += LANES) {
        memcpy(&vx, x + i, sizeof vx);
        vx = alpha * vx;
        memcpy(y + i, &vx, sizeof vx);
    }
    for (; i < n; i++)
        y[i] = alpha * x[i];
}

/* Square roots. The vector extensions have no sqrt, and sqrtf in a loop is not vectorised
 * while it may set errno, so: one function per instruction set, chosen at each call by
 * __builtin_cpu_supports (two loads; no ifunc, whose resolver would run before the
 * sanitizers are set up). All are IEEE correctly rounded: the same bits. */
static void sqrt_scalar(float *y, const float *x, size_t n)
{
    for (size_t i = 0; i < n; i++)
        y[i] = sqrtf(x[i]);
}

#ifdef QS_SQRT_DISPATCH
__attribute__((target("avx512f"))) static void sqrt_avx512(float *y, const float *x, size_t n)
{
    size_t i = 0;
    for (; i + 16 <= n; i += 16)
        _mm512_storeu_ps(y + i, _mm512_sqrt_ps(_mm512_loadu_ps(x + i)));
    sqrt_scalar(y + i, x + i, n - i);
}

__attribute__((target("avx"))) static void sqrt_avx(float *y, const float *x, size_t n)
{
    size_t i = 0;
    for (; i + 8 <= n; i += 8)
        _mm256_storeu_ps(y + i, _mm256_sqrt_ps(_mm256_loadu_ps(x + i)));
    sqrt_scalar(y + i, x + i, n - i);
}

static void sqrt_sse(float *y, const float *x, size_t n)
{
    size_t i = 0;
    for (; i + 4 <= n; i += 4)
        _mm_storeu_ps(y + i, _mm_sqrt_ps(_mm_loadu_ps(x + i)));
    sqrt_scalar(y + i, x + i, n - i);
}

void qs_vec_sqrt(float *y, const float *x, size_t n)
{
    if (__builtin_cpu_supports("avx512f"))
        sqrt_avx512(y, x, n);
    else if (__builtin_cpu_supports("avx"))
        sqrt_avx(y, x, n);
    else
        sqrt_sse(y, x, n);
}
#else
void qs_vec_sqrt(float *y, const float *x, size_t n)
{
    sqrt_scalar(y, x, n);
}
#endif
