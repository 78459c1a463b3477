/* blas: OpenBLAS set-up for the numerical core. The thread count (workers and the
 * single-network commands run single-threaded, so that results never depend on thread
 * scheduling), and what OpenBLAS chose for this CPU.
 *
 * OpenBLAS picks its kernels once, when the library loads. A release that does not know
 * the CPU model falls back to generic SSE3 kernels ("Prescott"): OpenBLAS 0.3.21 does so
 * on Emerald Rapids (family 6, model 207), where its SkylakeX kernels run small products
 * about 5 times faster. The remedy is the environment variable OPENBLAS_CORETYPE, which
 * must be set before the program starts; qs_blas_suggest_coretype() says what to set. */
#ifndef QS_BLAS_H
#define QS_BLAS_H

/* Set the number of BLAS threads (< 1 means 1). */
void qs_blas_init(int threads);
/* The kernel family OpenBLAS uses ("SkylakeX", "Haswell", "Prescott", ...). */
const char *qs_blas_core(void);
/* A better OPENBLAS_CORETYPE for this CPU when OpenBLAS fell back to a generic kernel
 * although the CPU has AVX2 or AVX-512 ("Haswell" or "SkylakeX"), else NULL. */
const char *qs_blas_suggest_coretype(void);

#endif
