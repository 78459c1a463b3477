/* rng: a counter-based random number generator (Philox4x32-10, Salmon et al. 2011).
 *
 * Every draw is a pure function of (key, stream, counter): the key is the run seed and
 * the stream names who draws and why (an organism id and a purpose). So an organism's
 * random numbers never depend on which worker ran it or in what order organisms were
 * processed, and the full state is four integers, trivial to checkpoint. */
#ifndef QS_RNG_H
#define QS_RNG_H

#include <stddef.h>
#include <stdint.h>

typedef struct {
    uint64_t seed;    /* the key */
    uint64_t stream;  /* high half of the 128-bit counter */
    uint64_t counter; /* low half: index of the next 4-word block */
    uint32_t buf[4];  /* the current block */
    uint32_t pos;     /* words of buf already used (4 = empty) */
} qs_rng_t;

/* What a stream is for; combined with an id by qs_rng_stream(). */
typedef enum {
    QS_STREAM_INIT = 1,       /* initial weights of a founder */
    QS_STREAM_PROJECTION = 2, /* the fixed random projections */
    QS_STREAM_LIFE = 3,       /* minibatch sampling during an organism's life */
    QS_STREAM_MUTATION = 4,   /* mutation of a child genome */
    QS_STREAM_SELECTION = 5,  /* the orchestrator's selection draws (id = generation) */
    QS_STREAM_DATA = 6,       /* dataset splits and shuffles */
    QS_STREAM_DAMAGE = 7,     /* `repair`: which weights get damaged */
    QS_STREAM_MIGRATION = 8,  /* islands: emigrants and the newborns they replace */
    QS_STREAM_TOPOLOGY = 9,   /* islands: the random topology's graph */
    QS_STREAM_TEST = 15       /* tests and benchmarks */
} qs_stream_purpose_t;

/* A stream id from a purpose and an id (id must be < 2^56). */
static inline uint64_t qs_rng_stream(qs_stream_purpose_t purpose, uint64_t id)
{
    return ((uint64_t)purpose << 56) ^ (id & ((UINT64_C(1) << 56) - 1));
}

/* The generator itself: out = Philox4x32-10(key = seed, counter = (counter, stream)). */
void qs_philox4x32(uint64_t seed, uint64_t stream, uint64_t counter, uint32_t out[4]);

void qs_rng_init(qs_rng_t *r, uint64_t seed, uint64_t stream);
uint32_t qs_rng_u32(qs_rng_t *r);
uint64_t qs_rng_u64(qs_rng_t *r);
/* Uniform double in [0, 1) with 53 random bits. */
double qs_rng_uniform(qs_rng_t *r);
/* Uniform integer in [0, n), unbiased (n > 0). */
uint32_t qs_rng_below(qs_rng_t *r, uint32_t n);
/* Standard normal (Box-Muller on two fresh uniforms; no cached second value, so the
 * state stays the plain (seed, stream, counter, pos)). */
double qs_rng_normal(qs_rng_t *r);
/* Fisher-Yates shuffle of idx[0..n). */
void qs_rng_shuffle_u32(qs_rng_t *r, uint32_t *idx, size_t n);

#endif
