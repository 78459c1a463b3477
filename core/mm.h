/* mm: the large matrix products of the numerical core on oneDNN's matmul, the CPU's matrix
 * engine (AMX tiles, or AVX-512 BF16 dot products) when it has one.
 *
 * What runs here: C (m, n) = epilogue(A (m, k) B (k, n) [+ bias (n)]), row-major with
 * leading dimensions, A and B in fp32 or bf16, C in fp32 or bf16, accumulation in fp32,
 * the epilogue SELU (fused into the product) or nothing. core/quine.c uses it for
 * regeneration and evaluation at QS_PREC_BF16; fp32 stays on OpenBLAS (core/blas.h),
 * whose results the tests pin.
 *
 * oneDNN builds a primitive (JIT-compiled kernel) for each shape: a context caches one
 * per shape (m, n, k, leading dimensions, types, epilogue), with its memory objects and a
 * scratchpad of its own, so a product after the first allocates nothing and compiles
 * nothing. A context serves one thread at a time; results are deterministic for a given
 * kernel (single-threaded, fixed blocking), so two runs on the same CPU type agree bit
 * for bit. The kernel family differs across CPUs: qs_mm_isa() names it.
 *
 * bf16 (bfloat16: fp32's exponent, 8 significant bits) halves the bytes moved and runs
 * on the matrix engine; fp32 -> bf16 conversion rounds to nearest even. */
#ifndef QS_MM_H
#define QS_MM_H

#include <stddef.h>
#include <stdint.h>

#include "core/util.h"

/* The precision of replication and evaluation (regeneration, self-prediction, accuracy). */
typedef enum {
    QS_PREC_FP32 = 0, /* OpenBLAS sgemm: bit-identical to the pinned results */
    QS_PREC_BF16 = 1  /* bf16 products, fp32 accumulation, on oneDNN */
} qs_precision_t;

extern const qs_names_t qs_precision_names;                 /* "fp32", "bf16" */
const char *qs_precision_name(qs_precision_t p);            /* "fp32" | "bf16" */
int qs_precision_parse(const char *s, qs_precision_t *out); /* 0 or QS_ERR(INVAL) */

/* Set the number of oneDNN (OpenMP) threads (< 1 means 1). */
void qs_mm_init(int threads);
/* The instruction set oneDNN dispatches to on this CPU: "avx512_core_amx",
 * "avx512_core_bf16", "avx512_core", "avx2", ... */
const char *qs_mm_isa(void);
/* 1 when the CPU runs bf16 products natively (AVX-512 BF16 or AMX), else 0: without it
 * oneDNN would emulate bf16, slower than fp32, so callers fall back to fp32. The ISA can
 * be capped for tests with oneDNN's own variable, e.g. ONEDNN_MAX_CPU_ISA=AVX2. */
int qs_mm_bf16_native(void);
/* The same from an ISA's name as qs_mm_isa() gives it (a remote worker's): 1 for
 * "avx512_core_bf16" and "avx512_core_amx", else 0. */
int qs_mm_isa_bf16(const char *isa);
/* The precision to run at when p is asked for: p, or QS_PREC_FP32 when p is bf16 and the
 * CPU has no native bf16. Then why (len bytes, if not NULL) says why, naming the ISA:
 * "this CPU has no native bf16 products (oneDNN ISA avx2; bf16 needs avx512_core_bf16
 * or avx512_core_amx)"; else it is left "". */
qs_precision_t qs_mm_effective(qs_precision_t p, char *why, size_t len);

typedef enum { QS_MM_F32 = 0, QS_MM_BF16 = 1 } qs_mm_type_t;
typedef enum { QS_MM_NONE = 0, QS_MM_SELU = 1 } qs_mm_epilogue_t;

/* One product's shape: C (m, n) = A (m, k) B (k, n), row-major, leading dimensions lda,
 * ldb, ldc (in elements); A and B share ab's type. */
typedef struct {
    size_t m, n, k, lda, ldb, ldc;
    qs_mm_type_t ab, c;
    int bias; /* a bias row (n fp32) added before the epilogue */
    qs_mm_epilogue_t epilogue;
} qs_mm_shape_t;

/* A context: an engine, a stream and the cache of primitives. Owned by the caller; free
 * with qs_mm_free. Dies (qs_die) if oneDNN cannot run a CPU engine. */
typedef struct qs_mm qs_mm_t;
qs_mm_t *qs_mm_new(void);
void qs_mm_free(qs_mm_t *mm);
/* C = epilogue(A B + bias): see qs_mm_shape_t; bias is NULL unless s->bias. The first
 * call of a shape builds its primitive (and dies naming oneDNN's status if it cannot);
 * later calls only run it. */
void qs_mm_run(qs_mm_t *mm, const qs_mm_shape_t *s, const void *a, const void *b, const float *bias,
               void *c);
/* The implementation oneDNN chose for the last shape built ("brg:avx512_core_amx", ...),
 * or "" before any. */
const char *qs_mm_impl(const qs_mm_t *mm);
/* Primitives built since qs_mm_new (for tests of the cache: a shape seen again builds
 * nothing while the context holds fewer than 32 shapes). */
size_t qs_mm_built(const qs_mm_t *mm);

/* dst[i] = bf16(src[i]), round to nearest even (NaN stays NaN). */
void qs_bf16_from_f32(uint16_t *dst, const float *src, size_t n);
/* dst[i] = src[i] widened to fp32 (exact). */
void qs_bf16_to_f32(float *dst, const uint16_t *src, size_t n);

/* The SELU epilogue of the bf16 path: y = bf16(SELU(x)), or SELU(x) in fp32 (y may equal
 * x), with an exp accurate to about 1e-5 relative, enough for bf16 and far cheaper than
 * qs_vec_selu's (see mm.c). Needs native bf16 (qs_mm_bf16_native()). */
void qs_bf16_selu(uint16_t *y, const float *x, size_t n);
void qs_bf16_selu_f32(float *y, const float *x, size_t n);

#endif
