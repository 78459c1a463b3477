/* bench_proto: speed of the MessagePack layer, single-threaded, printed with how it was
 * measured (`make bench` runs it; never part of the tests).
 *
 * The paper's aux genome (N = 21,100 parameters; 84,400 bytes of float32 weights) is
 * encoded and decoded many times; each figure is the size of the encoded document
 * divided by the time per operation, as the median (min, max) of REPS samples of ITERS
 * operations each, after a warm-up. Beside them, in the same run and on the same number
 * of bytes: memcpy (the ceiling for a decoder that must copy the weights out) and CRC-32
 * (qs_crc32, which both encode and decode run over the weights to checksum them; carry-
 * less multiplication where the CPU has PCLMULQDQ, zlib's table otherwise). Decode
 * includes the guarded pre-scan, msgpack-c's unpacking, every field check, the checksum,
 * allocating and filling the weight buffer, and freeing it again. Also: a task message
 * carrying the same genome, encoded as a frame and decoded from it. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/rng.h"
#include "proto/genome.h"
#include "proto/wire.h"
#include "tests/bench/benchutil.h"

#define REPS  15
#define ITERS 2000

/* Keep the compiler from dropping work whose result is unused. */
static void clobber(void *p)
{
    __asm__ volatile("" : : "g"(p) : "memory");
}

typedef void (*op_fn)(void *ctx);

/* GB/s for `bytes` per op: median (min, max) over REPS samples of ITERS ops. */
static stat_t measure(op_fn op, void *ctx, size_t bytes)
{
    double rates[REPS];
    for (int i = 0; i < ITERS / 4; i++) /* warm-up */
        op(ctx);
    for (int r = 0; r < REPS; r++) {
        double t0 = qs_now();
        for (int i = 0; i < ITERS; i++)
            op(ctx);
        double dt = qs_now() - t0;
        rates[r] = (double)bytes * ITERS / dt / 1e9;
    }
    return summarize(rates, REPS);
}

typedef struct {
    qs_genome_t g;
    qs_bytes_t enc;  /* the encoded genome */
    qs_bytes_t out;  /* scratch for encoders */
    qs_bytes_t task; /* a task message frame carrying the genome */
    uint8_t *src, *dst;
    size_t nbytes;
} ctx_t;

static void op_memcpy(void *p)
{
    ctx_t *c = p;
    memcpy(c->dst, c->src, c->nbytes);
    clobber(c->dst);
}

static void op_crc(void *p)
{
    ctx_t *c = p;
    uint32_t v = qs_crc32(c->src, c->nbytes);
    clobber(&v);
}

static void op_encode(void *p)
{
    ctx_t *c = p;
    qs_bytes_clear(&c->out);
    qs_genome_encode(&c->g, &c->out);
    clobber(c->out.data);
}

static void op_decode(void *p)
{
    ctx_t *c = p;
    qs_genome_t h;
    qs_error_t err;
    if (qs_genome_decode(&h, c->enc.data, c->enc.len, &err) != 0) {
        fprintf(stderr, "bench_proto: decode failed: %s\n", err.msg);
        exit(1);
    }
    clobber(h.weights);
    qs_genome_destroy(&h);
}

static void op_task_encode(void *p)
{
    ctx_t *c = p;
    qs_msg_t m;
    memset(&m, 0, sizeof m);
    m.type = QS_MSG_TASK;
    m.u.task.kind = QS_TASK_LIVE;
    m.u.task.nweights = c->g.nweights;
    m.u.task.weights = c->g.weights;
    qs_bytes_clear(&c->out);
    qs_msg_encode(&m, &c->out);
    clobber(c->out.data);
}

static void op_task_decode(void *p)
{
    ctx_t *c = p;
    const uint8_t *pl;
    size_t plen, flen;
    qs_error_t err;
    qs_msg_t m;
    if (qs_frame_parse(c->task.data, c->task.len, QS_MAX_MESSAGE_DEFAULT, &pl, &plen, &flen,
                       &err) != 1 ||
        qs_msg_decode(&m, pl, plen, &err) != 0) {
        fprintf(stderr, "bench_proto: task decode failed: %s\n", err.msg);
        exit(1);
    }
    clobber(m.u.task.weights);
    qs_msg_destroy(&m);
}

static void row(const char *what, stat_t s, const char *note)
{
    printf("  %-34s %7.2f GB/s  (min %6.2f, max %6.2f)  %s\n", what, s.median, s.min, s.max, note);
}

int main(void)
{
    ctx_t c;
    memset(&c, 0, sizeof c);
    qs_quine_spec_t spec;
    memset(&spec, 0, sizeof spec);
    spec.kind = QS_KIND_AUX;
    spec.hidden = 100;
    spec.depth = 2;
    spec.classes = 10;
    spec.image_dim = 784;
    spec.proj_seed = 1;
    qs_genome_init(&c.g, &spec);
    qs_rng_t r;
    qs_rng_init(&r, 1, qs_rng_stream(QS_STREAM_TEST, 0));
    for (uint32_t i = 0; i < c.g.nweights; i++)
        c.g.weights[i] = (float)(qs_rng_normal(&r) * 0.1);
    c.g.id = 123456;
    c.g.nparents = 1;
    c.g.parents[0] = 123000;
    c.g.generation = 42;
    snprintf(c.g.species, sizeof c.g.species, "aux");
    c.g.metrics.present = 1;
    qs_bytes_init(&c.enc);
    qs_bytes_init(&c.out);
    qs_bytes_init(&c.task);
    qs_genome_encode(&c.g, &c.enc);
    op_task_encode(&c);
    qs_bytes_append(&c.task, c.out.data, c.out.len);
    c.nbytes = c.enc.len;
    c.src = malloc(c.nbytes);
    c.dst = malloc(c.nbytes);
    memcpy(c.src, c.enc.data, c.nbytes);

    printf("bench_proto: genome of the paper's aux quine, N = %u parameters (%u bytes of "
           "weights);\n  encoded document %zu bytes, task frame %zu bytes. GB/s = bytes per op "
           "/ time per op,\n  median (min, max) of %d samples x %d ops, after %d warm-up ops; "
           "one thread.\n",
           c.g.nweights, c.g.nweights * 4, c.enc.len, c.task.len, REPS, ITERS, ITERS / 4);
    stat_t mc = measure(op_memcpy, &c, c.nbytes);
    row("memcpy of the document's bytes", mc, "(ceiling)");
    row("CRC-32 (qs_crc32) of the same bytes", measure(op_crc, &c, c.nbytes), "");
    stat_t enc = measure(op_encode, &c, c.enc.len);
    row("genome encode", enc, "");
    stat_t dec = measure(op_decode, &c, c.enc.len);
    row("genome decode (validated)", dec,
        dec.median >= 1.0 ? "target >= 1 GB/s: met" : "target >= 1 GB/s: MISSED");
    row("task message encode (framed)", measure(op_task_encode, &c, c.task.len), "");
    row("task message decode (from frame)", measure(op_task_decode, &c, c.task.len), "");
    printf("  decode / memcpy = %.2f; per genome: encode %.1f us, decode %.1f us\n",
           dec.median / mc.median, (double)c.enc.len / enc.median / 1e3,
           (double)c.enc.len / dec.median / 1e3);
    free(c.src);
    free(c.dst);
    qs_bytes_destroy(&c.enc);
    qs_bytes_destroy(&c.out);
    qs_bytes_destroy(&c.task);
    qs_genome_destroy(&c.g);
    return 0;
}
