/* cpu.h — the CPU backend's functions, shared by its files. */
#ifndef WF_CPU_H
#define WF_CPU_H

#include "backend.h"

void wf_cpu_gemm(int trans_a, int trans_b, int m, int n, int k, wf_real alpha,
                 const wf_real *a, int lda, const wf_real *b, int ldb,
                 wf_real beta, wf_real *c, int ldc, const wf_epilogue *ep);
/* free the GEMM's packing buffers (at unload) */
void wf_cpu_gemm_release(void);

/* Hot loops are compiled for AVX-512, AVX2+FMA and the baseline, and the
 * best is picked at load time (GCC function multiversioning), so the package
 * needs no -march flag. R builds with -O2, whose "very cheap" vectoriser
 * skips any loop that needs a remainder; these loops get the dynamic cost
 * model. The sanitizer build turns this off. */
#if defined(__GNUC__) && !defined(__clang__)
#define WF_VECTORISE optimize("tree-vectorize", "vect-cost-model=dynamic")
#else
#define WF_VECTORISE
#endif
#if defined(__x86_64__) && defined(__GNUC__) && defined(__linux__) && \
    !defined(WF_NO_CLONES)
#define WF_CLONES                                                      \
  __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3",      \
                               "default"), WF_VECTORISE))
#else
#define WF_CLONES __attribute__((WF_VECTORISE))
#endif

/* Threads for an elementwise op over n values: 1 below a size where the
 * fork costs more than it saves. */
int wf_cpu_threads_for(size_t n);
/* Thread t's share [*lo, *hi) of [0, n) among nt, in multiples of 64. */
static inline void wf_cpu_range(size_t n, int t, int nt, size_t *lo,
                                size_t *hi) {
  size_t blocks = (n + 63) / 64;
  *lo = blocks * t / nt * 64;
  *hi = blocks * (t + 1) / nt * 64;
  if (*hi > n) *hi = n;
  if (*lo > n) *lo = n;
}
#ifdef _OPENMP
#define WF_OMP_CHUNKS(nt) _Pragma("omp parallel for num_threads(nt) if (nt > 1)")
#else
#define WF_OMP_CHUNKS(nt)
#endif

/* float or double math, matching wf_real */
#ifdef WF_DOUBLE
#define WF_EXP exp
#define WF_LOG1P log1p
#define WF_TANH tanh
#define WF_SQRT sqrt
#else
#define WF_EXP expf
#define WF_LOG1P log1pf
#define WF_TANH tanhf
#define WF_SQRT sqrtf
#endif

/* ops.c */
void *wf_cpu_alloc(size_t bytes);
void wf_cpu_release(void *p);
wf_status wf_cpu_upload(wf_real *dst, const double *src, size_t n);
wf_status wf_cpu_download(double *dst, const wf_real *src, size_t n);
void wf_cpu_copy(wf_real *dst, const wf_real *src, size_t n);
void wf_cpu_fill(wf_real *x, size_t n, wf_real value);
wf_status wf_cpu_last_error(char *msg);
void wf_cpu_add_bias(wf_real *z, const wf_real *bias, int m, int n);
void wf_cpu_col_sum(const wf_real *a, int m, int n, wf_real *out);
void wf_cpu_axpy(size_t n, wf_real alpha, const wf_real *x, wf_real *y);
double wf_cpu_dot(const wf_real *x, const wf_real *w, size_t n);
void wf_cpu_lerp_rows(const wf_real *a, const wf_real *b, const wf_real *t,
                      int m, int d, wf_real *out);
void wf_cpu_penalty_dir(const wf_real *g, int m, int d, wf_penalty kind,
                        double lambda, wf_real *u, double *value,
                        double *mean_norm);
void wf_cpu_sample_rows(const wf_real *data, int n, int d, const wf_real *u,
                        int m, wf_real *out);
void wf_cpu_mse_grad(const wf_real *y, const wf_real *target, int m, int d,
                     wf_real *dy, double *mse);
double wf_cpu_mean_row_norm(const wf_real *g, int m, int d);

/* activation.c */
void wf_cpu_act_forward(wf_activation act, double slope, const wf_real *u,
                        wf_real *h, size_t n);
void wf_cpu_act_backward(wf_activation act, double slope, const wf_real *u,
                         const wf_real *g, wf_real *out, size_t n);
void wf_cpu_act_second(wf_activation act, double slope, const wf_real *u,
                       const wf_real *hbar, const wf_real *gbar,
                       const wf_real *udot, wf_real *out, size_t n);

/* norm.c */
void wf_cpu_ln_forward(const wf_real *a, int m, int n, const wf_real *gamma,
                       const wf_real *beta, wf_real *out, wf_real *xhat,
                       wf_real *rstd);
void wf_cpu_ln_backward(const wf_real *nbar, const wf_real *xhat,
                        const wf_real *rstd, const wf_real *gamma, int m, int n,
                        wf_real *abar, wf_real *dgamma, wf_real *dbeta);
void wf_cpu_ln_jvp(const wf_real *adot, const wf_real *xhat,
                   const wf_real *rstd, const wf_real *gamma, int m, int n,
                   wf_real *xhat_dot, wf_real *out_dot);
void wf_cpu_ln_double(const wf_real *nbar, const wf_real *ndbar,
                      const wf_real *adot, const wf_real *xhat,
                      const wf_real *xhat_dot, const wf_real *rstd,
                      const wf_real *gamma, int m, int n, wf_real *abar,
                      wf_real *dgamma, wf_real *dbeta);
void wf_cpu_bn_forward(const wf_real *a, int m, int n, const wf_real *gamma,
                       const wf_real *beta, wf_real *run_mean,
                       wf_real *run_var, int train, double momentum,
                       wf_real *out, wf_real *xhat, wf_real *rstd);
void wf_cpu_bn_backward(const wf_real *nbar, const wf_real *xhat,
                        const wf_real *rstd, const wf_real *gamma, int m, int n,
                        int train, wf_real *abar, wf_real *dgamma,
                        wf_real *dbeta);

/* optim.c */
void wf_cpu_adam(wf_real *p, const wf_real *g, wf_real *m1, wf_real *m2,
                 size_t n, const wf_opt_spec *opt, double t);
void wf_cpu_rmsprop(wf_real *p, const wf_real *g, wf_real *m2, size_t n,
                    const wf_opt_spec *opt);
void wf_cpu_sgd(wf_real *p, const wf_real *g, wf_real *m1, size_t n,
                const wf_opt_spec *opt, double t);
void wf_cpu_clamp(wf_real *p, size_t n, wf_real c);

/* random.c */
void wf_cpu_uniform(wf_real *out, size_t n, const uint32_t key[2],
                    uint64_t counter);
void wf_cpu_normal(wf_real *out, size_t n, const uint32_t key[2],
                   uint64_t counter);

#endif
