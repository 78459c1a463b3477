/* rng: Philox4x32-10 and the draws built on it. */
#include "core/rng.h"

#include <math.h>

#define PHILOX_M0 UINT32_C(0xD2511F53)
#define PHILOX_M1 UINT32_C(0xCD9E8D57)
#define PHILOX_W0 UINT32_C(0x9E3779B9)
#define PHILOX_W1 UINT32_C(0xBB67AE85)

void qs_philox4x32(uint64_t seed, uint64_t stream, uint64_t counter, uint32_t out[4])
{
    uint32_t c0 = (uint32_t)counter, c1 = (uint32_t)(counter >> 32);
    uint32_t c2 = (uint32_t)stream, c3 = (uint32_t)(stream >> 32);
    uint32_t k0 = (uint32_t)seed, k1 = (uint32_t)(seed >> 32);
    for (int round = 0; round < 10; round++) {
        uint64_t p0 = (uint64_t)PHILOX_M0 * c0;
        uint64_t p1 = (uint64_t)PHILOX_M1 * c2;
        uint32_t n0 = (uint32_t)(p1 >> 32) ^ c1 ^ k0;
        uint32_t n1 = (uint32_t)p1;
        uint32_t n2 = (uint32_t)(p0 >> 32) ^ c3 ^ k1;
        uint32_t n3 = (uint32_t)p0;
        c0 = n0, c1 = n1, c2 = n2, c3 = n3;
        k0 += PHILOX_W0;
        k1 += PHILOX_W1;
    }
    out[0] = c0, out[1] = c1, out[2] = c2, out[3] = c3;
}

void qs_rng_init(qs_rng_t *r, uint64_t seed, uint64_t stream)
{
    r->seed = seed;
    r->stream = stream;
    r->counter = 0;
    r->pos = 4;
    r->buf[0] = r->buf[1] = r->buf[2] = r->buf[3] = 0;
}

uint32_t qs_rng_u32(qs_rng_t *r)
{
    if (r->pos >= 4) {
        qs_philox4x32(r->seed, r->stream, r->counter++, r->buf);
        r->pos = 0;
    }
    return r->buf[r->pos++];
}

uint64_t qs_rng_u64(qs_rng_t *r)
{
    uint64_t hi = qs_rng_u32(r);
    return hi << 32 | qs_rng_u32(r);
}

double qs_rng_uniform(qs_rng_t *r)
{
    return (double)(qs_rng_u64(r) >> 11) * 0x1.0p-53;
}

uint32_t qs_rng_below(qs_rng_t *r, uint32_t n)
{
    /* Lemire's multiply-and-reject: unbiased, usually one draw. */
    uint64_t m = (uint64_t)qs_rng_u32(r) * n;
    uint32_t low = (uint32_t)m;
    if (low < n) {
        uint32_t threshold = (uint32_t)-n % n;
        while (low < threshold) {
            m = (uint64_t)qs_rng_u32(r) * n;
            low = (uint32_t)m;
        }
    }
    return (uint32_t)(m >> 32);
}

double qs_rng_normal(qs_rng_t *r)
{
    double u1 = 1.0 - qs_rng_uniform(r); /* (0, 1]: log is finite */
    double u2 = qs_rng_uniform(r);
    return sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2);
}

void qs_rng_shuffle_u32(qs_rng_t *r, uint32_t *idx, size_t n)
{
    for (size_t i = n; i > 1; i--) {
        size_t j = qs_rng_below(r, (uint32_t)i);
        uint32_t t = idx[i - 1];
        idx[i - 1] = idx[j];
        idx[j] = t;
    }
}
