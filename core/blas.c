/* blas: OpenBLAS threads and kernel choice (see blas.h). */
#include "core/blas.h"

#include <cblas.h>
#include <string.h>

void qs_blas_init(int threads)
{
    openblas_set_num_threads(threads < 1 ? 1 : threads);
}

const char *qs_blas_core(void)
{
    const char *c = openblas_get_corename();
    return c ? c : "unknown";
}

const char *qs_blas_suggest_coretype(void)
{
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
    static const char *const generic[] = {"Prescott",  "Core2",  "Penryn", "Dunnington",
                                          "Nehalem",   "Atom",   "Katmai", "Coppermine",
                                          "Northwood", "Banias", "unknown"};
    const char *core = qs_blas_core();
    int is_generic = 0;
    for (size_t i = 0; i < sizeof generic / sizeof generic[0]; i++)
        is_generic |= !strcmp(core, generic[i]);
    if (!is_generic)
        return NULL;
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512vl") &&
        __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512dq"))
        return "SkylakeX";
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))
        return "Haswell";
#endif
    return NULL;
}
