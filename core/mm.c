/* mm: oneDNN matmul with a per-shape primitive cache, bf16 conversion (see mm.h). */
#include "core/mm.h"

#include <dnnl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"
#include "core/vec.h"

/* oneDNN 2.6 on Debian runs on OpenMP (DNNL_CPU_RUNTIME_OMP): its thread count is
 * OpenMP's. Declared here rather than through <omp.h>, which not every compiler ships. */
void omp_set_num_threads(int n);

#define MM_CACHE_MAX 32

static const char *const precision_names[] = {"fp32", "bf16"};
QS_NAME_FNS(qs_precision_name, qs_precision_parse, qs_precision_t, precision_names)
const qs_names_t qs_precision_names = QS_NAMES(precision_names);

void qs_mm_init(int threads)
{
    omp_set_num_threads(threads < 1 ? 1 : threads);
}

const char *qs_mm_isa(void)
{
    switch (dnnl_get_effective_cpu_isa()) {
    case dnnl_cpu_isa_sse41:
        return "sse41";
    case dnnl_cpu_isa_avx:
        return "avx";
    case dnnl_cpu_isa_avx2:
        return "avx2";
    case dnnl_cpu_isa_avx2_vnni:
        return "avx2_vnni";
    case dnnl_cpu_isa_avx512_mic:
    case dnnl_cpu_isa_avx512_mic_4ops:
        return "avx512_mic";
    case dnnl_cpu_isa_avx512_core:
        return "avx512_core";
    case dnnl_cpu_isa_avx512_core_vnni:
        return "avx512_core_vnni";
    case dnnl_cpu_isa_avx512_core_bf16:
        return "avx512_core_bf16";
    case dnnl_cpu_isa_avx512_core_amx:
        return "avx512_core_amx";
    default:
        return "unknown";
    }
}

int qs_mm_bf16_native(void)
{
    dnnl_cpu_isa_t isa = dnnl_get_effective_cpu_isa();
    /* The ISA values are bit sets, each containing the ones it extends. */
    return ((unsigned)isa & (unsigned)dnnl_cpu_isa_avx512_core_bf16) ==
           (unsigned)dnnl_cpu_isa_avx512_core_bf16;
}

int qs_mm_isa_bf16(const char *isa)
{
    return strcmp(isa, "avx512_core_bf16") == 0 || strcmp(isa, "avx512_core_amx") == 0;
}

qs_precision_t qs_mm_effective(qs_precision_t p, char *why, size_t len)
{
    if (why && len)
        why[0] = '\0';
    if (p == QS_PREC_BF16 && !qs_mm_bf16_native()) {
        if (why && len)
            snprintf(why, len,
                     "this CPU has no native bf16 products (oneDNN ISA %s; bf16 needs "
                     "avx512_core_bf16 or avx512_core_amx)",
                     qs_mm_isa());
        return QS_PREC_FP32;
    }
    return p;
}

/* ---- Conversion ------------------------------------------------------------------------- */

static uint16_t bf16_round(float x)
{
    uint32_t u;
    memcpy(&u, &x, sizeof u);
    if ((u & 0x7fffffffu) > 0x7f800000u) /* NaN: keep it quiet and a NaN */
        return (uint16_t)((u >> 16) | 0x40u);
    u += 0x7fffu + ((u >> 16) & 1u);
    return (uint16_t)(u >> 16);
}

void qs_bf16_from_f32(uint16_t *dst, const float *src, size_t n)
{
    for (size_t i = 0; i < n; i++)
        dst[i] = bf16_round(src[i]);
}

void qs_bf16_to_f32(float *dst, const uint16_t *src, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        uint32_t u = (uint32_t)src[i] << 16;
        memcpy(dst + i, &u, sizeof u);
    }
}

/* ---- SELU for the bf16 path ------------------------------------------------------------
 * The epilogue of a bf16 layer: its output is rounded to bf16 (8 significant bits), so
 * SELU needs only about 16 bits of its own: e^x - 1 = 2^k (e^r - 1) + (2^k - 1) with
 * k = round(x / ln 2), |r| <= ln 2 / 2, and e^r - 1 the degree-5 Taylor polynomial
 * (truncation below 2.2e-6 relative; with fused multiply-adds and the CPU's bf16
 * conversion). Measured against double expm1 over [-90, 5] (tests/core/test_mm.c):
 * relative error below 1e-5. oneDNN's own fused ELU costs about twice as much per element
 * here (bench_core). Runs only where the CPU has AVX-512 BF16 (qs_mm_bf16_native). */
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__)) && !defined(QS_NO_CLONES)
#include <immintrin.h>
#define BF16_TARGET __attribute__((target("avx512f,avx512bw,avx512vl,avx512bf16,fma")))

BF16_TARGET static inline __m512 selu_fast16(__m512 x)
{
    const __m512 zero = _mm512_setzero_ps(), one = _mm512_set1_ps(1.0f);
    __m512 xn = _mm512_max_ps(_mm512_min_ps(x, zero), _mm512_set1_ps(-87.0f));
    __m512 k = _mm512_roundscale_ps(_mm512_mul_ps(xn, _mm512_set1_ps(1.44269504088896341f)),
                                    _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m512 r = _mm512_fnmadd_ps(k, _mm512_set1_ps(0.693145751953125f), xn);
    r = _mm512_fnmadd_ps(k, _mm512_set1_ps(1.428606765330187e-06f), r);
    __m512 p = _mm512_fmadd_ps(r, _mm512_set1_ps(1.0f / 120.0f), _mm512_set1_ps(1.0f / 24.0f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f / 6.0f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(0.5f));
    __m512 q = _mm512_fmadd_ps(_mm512_mul_ps(r, r), p, r); /* e^r - 1 */
    __m512 s = _mm512_scalef_ps(one, k);                   /* 2^k */
    __m512 e = _mm512_mul_ps(_mm512_fmadd_ps(s, q, _mm512_sub_ps(s, one)),
                             _mm512_set1_ps((float)(QS_SELU_LAMBDA * QS_SELU_ALPHA)));
    __mmask16 neg = _mm512_cmp_ps_mask(x, zero, _CMP_LT_OQ);
    return _mm512_mask_blend_ps(neg, _mm512_mul_ps(x, _mm512_set1_ps((float)QS_SELU_LAMBDA)), e);
}

static inline __mmask16 tail_mask(size_t left)
{
    return left >= 16 ? (__mmask16)0xffff : (__mmask16)((1u << left) - 1);
}

BF16_TARGET void qs_bf16_selu(uint16_t *y, const float *x, size_t n)
{
    size_t i = 0;
    for (; i + 32 <= n; i += 32) {
        __m512 a = selu_fast16(_mm512_loadu_ps(x + i)),
               b = selu_fast16(_mm512_loadu_ps(x + i + 16));
        _mm512_storeu_si512((void *)(y + i), (__m512i)_mm512_cvtne2ps_pbh(b, a));
    }
    for (; i < n; i += 16) {
        __mmask16 m = tail_mask(n - i);
        __m256bh c = _mm512_cvtneps_pbh(selu_fast16(_mm512_maskz_loadu_ps(m, x + i)));
        _mm256_mask_storeu_epi16(y + i, m, (__m256i)c);
    }
}

BF16_TARGET void qs_bf16_selu_f32(float *y, const float *x, size_t n)
{
    for (size_t i = 0; i < n; i += 16) {
        __mmask16 m = tail_mask(n - i);
        _mm512_mask_storeu_ps(y + i, m, selu_fast16(_mm512_maskz_loadu_ps(m, x + i)));
    }
}
#else
void qs_bf16_selu(uint16_t *y, const float *x, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        float v = qs_selu(x[i]);
        qs_bf16_from_f32(y + i, &v, 1);
    }
}

void qs_bf16_selu_f32(float *y, const float *x, size_t n)
{
    qs_vec_selu(y, x, n);
}
#endif

/* ---- Context and cache ------------------------------------------------------------------ */

typedef struct {
    qs_mm_shape_t shape;
    dnnl_primitive_t prim;
    dnnl_memory_t a, b, bias, c, scratch;
    void *scratch_buf;
} mm_entry_t;

struct qs_mm {
    dnnl_engine_t engine;
    dnnl_stream_t stream;
    mm_entry_t cache[MM_CACHE_MAX];
    size_t ncached; /* entries in use */
    size_t nbuilt;  /* primitives built since qs_mm_new */
    char impl[64];
};

#define DNNL_TRY(call)                                                                             \
    do {                                                                                           \
        dnnl_status_t st_ = (call);                                                                \
        if (st_ != dnnl_success)                                                                   \
            qs_die("oneDNN: %s failed (status %d)", #call, (int)st_);                              \
    } while (0)

static void entry_destroy(mm_entry_t *e)
{
    dnnl_primitive_destroy(e->prim);
    dnnl_memory_destroy(e->a);
    dnnl_memory_destroy(e->b);
    dnnl_memory_destroy(e->bias);
    dnnl_memory_destroy(e->c);
    dnnl_memory_destroy(e->scratch);
    free(e->scratch_buf);
    memset(e, 0, sizeof *e);
}

qs_mm_t *qs_mm_new(void)
{
    qs_mm_t *mm = xcalloc(1, sizeof *mm);
    DNNL_TRY(dnnl_engine_create(&mm->engine, dnnl_cpu, 0));
    DNNL_TRY(dnnl_stream_create(&mm->stream, mm->engine, dnnl_stream_default_flags));
    return mm;
}

void qs_mm_free(qs_mm_t *mm)
{
    if (!mm)
        return;
    for (size_t i = 0; i < mm->ncached; i++)
        entry_destroy(&mm->cache[i]);
    dnnl_stream_destroy(mm->stream);
    dnnl_engine_destroy(mm->engine);
    free(mm);
}

const char *qs_mm_impl(const qs_mm_t *mm)
{
    return mm->impl;
}

size_t qs_mm_built(const qs_mm_t *mm)
{
    return mm->nbuilt;
}

static dnnl_data_type_t dtype(qs_mm_type_t t)
{
    return t == QS_MM_BF16 ? dnnl_bf16 : dnnl_f32;
}

static int shape_eq(const qs_mm_shape_t *x, const qs_mm_shape_t *y)
{
    return x->m == y->m && x->n == y->n && x->k == y->k && x->lda == y->lda && x->ldb == y->ldb &&
           x->ldc == y->ldc && x->ab == y->ab && x->c == y->c && x->bias == y->bias &&
           x->epilogue == y->epilogue;
}

static void matrix_md(dnnl_memory_desc_t *md, size_t rows, size_t cols, size_t ld, qs_mm_type_t t)
{
    dnnl_dims_t dims = {(dnnl_dim_t)rows, (dnnl_dim_t)cols};
    dnnl_dims_t strides = {(dnnl_dim_t)ld, 1};
    DNNL_TRY(dnnl_memory_desc_init_by_strides(md, 2, dims, dtype(t), strides));
}

static dnnl_memory_t memory_for(const dnnl_memory_desc_t *md, dnnl_engine_t engine)
{
    dnnl_memory_t mem;
    DNNL_TRY(dnnl_memory_create(&mem, md, engine, DNNL_MEMORY_NONE));
    return mem;
}

static mm_entry_t *entry_build(qs_mm_t *mm, const qs_mm_shape_t *s)
{
    /* A full cache replaces its entries in turn (a caller with more shapes than
     * MM_CACHE_MAX is slower, never wrong). */
    mm_entry_t *e = &mm->cache[mm->nbuilt % MM_CACHE_MAX];
    if (mm->ncached == MM_CACHE_MAX)
        entry_destroy(e);
    e->shape = *s;

    dnnl_memory_desc_t a_md, b_md, c_md, bias_md;
    matrix_md(&a_md, s->m, s->k, s->lda, s->ab);
    matrix_md(&b_md, s->k, s->n, s->ldb, s->ab);
    matrix_md(&c_md, s->m, s->n, s->ldc, s->c);
    if (s->bias)
        matrix_md(&bias_md, 1, s->n, s->n, QS_MM_F32);
    dnnl_matmul_desc_t desc;
    DNNL_TRY(dnnl_matmul_desc_init(&desc, &a_md, &b_md, s->bias ? &bias_md : NULL, &c_md));

    dnnl_primitive_attr_t attr;
    DNNL_TRY(dnnl_primitive_attr_create(&attr));
    DNNL_TRY(dnnl_primitive_attr_set_scratchpad_mode(attr, dnnl_scratchpad_mode_user));
    if (s->epilogue == QS_MM_SELU) {
        /* SELU(x) = lambda * ELU_alpha(x) */
        dnnl_post_ops_t po;
        DNNL_TRY(dnnl_post_ops_create(&po));
        DNNL_TRY(dnnl_post_ops_append_eltwise(po, (float)QS_SELU_LAMBDA, dnnl_eltwise_elu,
                                              (float)QS_SELU_ALPHA, 0.0f));
        DNNL_TRY(dnnl_primitive_attr_set_post_ops(attr, po));
        dnnl_post_ops_destroy(po);
    }
    dnnl_primitive_desc_t pd;
    DNNL_TRY(dnnl_primitive_desc_create(&pd, &desc, attr, mm->engine, NULL));
    dnnl_primitive_attr_destroy(attr);

    const char *impl = NULL;
    if (dnnl_primitive_desc_query(pd, dnnl_query_impl_info_str, 0, &impl) == dnnl_success && impl)
        snprintf(mm->impl, sizeof mm->impl, "%s", impl);
    const dnnl_memory_desc_t *sp_md = dnnl_primitive_desc_query_md(pd, dnnl_query_scratchpad_md, 0);
    size_t sp_size = sp_md ? dnnl_memory_desc_get_size(sp_md) : 0;
    if (sp_size) {
        e->scratch_buf = xaligned(sp_size);
        DNNL_TRY(dnnl_memory_create(&e->scratch, sp_md, mm->engine, e->scratch_buf));
    }
    DNNL_TRY(dnnl_primitive_create(&e->prim, pd));
    dnnl_primitive_desc_destroy(pd);

    e->a = memory_for(&a_md, mm->engine);
    e->b = memory_for(&b_md, mm->engine);
    e->c = memory_for(&c_md, mm->engine);
    if (s->bias)
        e->bias = memory_for(&bias_md, mm->engine);
    mm->nbuilt++;
    mm->ncached = QS_MIN(mm->nbuilt, (size_t)MM_CACHE_MAX);
    return e;
}

void qs_mm_run(qs_mm_t *mm, const qs_mm_shape_t *s, const void *a, const void *b, const float *bias,
               void *c)
{
    if (s->m == 0 || s->n == 0)
        return;
    mm_entry_t *e = NULL;
    for (size_t i = 0; i < mm->ncached && !e; i++)
        if (shape_eq(&mm->cache[i].shape, s))
            e = &mm->cache[i];
    if (!e)
        e = entry_build(mm, s);
    DNNL_TRY(dnnl_memory_set_data_handle(e->a, (void *)a));
    DNNL_TRY(dnnl_memory_set_data_handle(e->b, (void *)b));
    DNNL_TRY(dnnl_memory_set_data_handle(e->c, c));
    dnnl_exec_arg_t args[5] = {
        {DNNL_ARG_SRC, e->a}, {DNNL_ARG_WEIGHTS, e->b}, {DNNL_ARG_DST, e->c}};
    int nargs = 3;
    if (s->bias) {
        DNNL_TRY(dnnl_memory_set_data_handle(e->bias, (void *)bias));
        args[nargs++] = (dnnl_exec_arg_t){DNNL_ARG_BIAS, e->bias};
    }
    if (e->scratch)
        args[nargs++] = (dnnl_exec_arg_t){DNNL_ARG_SCRATCHPAD, e->scratch};
    DNNL_TRY(dnnl_primitive_execute(e->prim, mm->stream, nargs, args));
    DNNL_TRY(dnnl_stream_wait(mm->stream));
}
