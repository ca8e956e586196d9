/* optim.c — optimiser updates on the CPU, in torch.optim's arithmetic:
 * weight decay is added to the gradient (L2, not AdamW). Each op reads its
 * step slot (CPU device memory is host memory), takes step t = *step + 1
 * and leaves *step = t. */
#include <math.h>

#include "cpu.h"

/* root[0 .. n) = sqrt(x[0 .. n)) on the widest vectors the code path has.
 * GCC keeps any loop that calls sqrtf scalar (for errno) unless errno is
 * off for the whole file (-fno-math-errno, which no portable Makevars flag
 * says), and Adam then spent three quarters of its time in the scalar
 * roots. Every lane is the correctly rounded root, as sqrtf's, so the same
 * numbers on every path. */
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && \
    !defined(WF_NO_CLONES)
#include <immintrin.h>
#define VECTOR_ROOTS 1
#ifdef WF_DOUBLE
#define LANES_512 8
#define ROOT_512(p) _mm512_storeu_pd(root + (p), _mm512_sqrt_pd(_mm512_loadu_pd(x + (p))))
#define ROOT_256(p) _mm256_storeu_pd(root + (p), _mm256_sqrt_pd(_mm256_loadu_pd(x + (p))))
#else
#define LANES_512 16
#define ROOT_512(p) _mm512_storeu_ps(root + (p), _mm512_sqrt_ps(_mm512_loadu_ps(x + (p))))
#define ROOT_256(p) _mm256_storeu_ps(root + (p), _mm256_sqrt_ps(_mm256_loadu_ps(x + (p))))
#endif
__attribute__((target("avx512f"))) static size_t roots_512(wf_real *root,
                                                            const wf_real *x, size_t n) {
  size_t i = 0;
  for (; i + LANES_512 <= n; i += LANES_512) ROOT_512(i);
  return i;
}
__attribute__((target("avx"))) static size_t roots_256(wf_real *root, const wf_real *x,
                                                       size_t n) {
  size_t i = 0;
  for (; i + LANES_512 / 2 <= n; i += LANES_512 / 2) ROOT_256(i);
  return i;
}
#endif

/* isa: wf_cpu_isa() */
static void roots(wf_real *root, const wf_real *x, size_t n, int isa) {
  size_t i = 0; /* the values done on vectors */
#ifdef VECTOR_ROOTS
  if (isa == 2) i = roots_512(root, x, n);
  else if (isa == 1) i = roots_256(root, x, n);
#else
  (void)isa;
#endif
  for (; i < n; i++) root[i] = WF_SQRT(x[i]);
}

/* In chunks of 256: the moment updates and the parameter update vectorise;
 * the square roots between them run on their own (roots). Same operations
 * in the same order as one loop, so the same numbers. */
WF_CLONES
static void adam_range(wf_real *p, const wf_real *g, wf_real *m1, wf_real *m2,
                       size_t n, const wf_opt_spec *o, double t) {
  wf_real b1 = (wf_real)o->beta1, b2 = (wf_real)o->beta2;
  wf_real wd = (wf_real)o->weight_decay, eps = (wf_real)o->eps;
  wf_real step = (wf_real)(o->lr / (1 - pow(o->beta1, t)));
  wf_real bc2 = (wf_real)sqrt(1 - pow(o->beta2, t));
  wf_real root[256]; /* sqrt(m2) of a chunk */
  const int isa = wf_cpu_isa();
  for (size_t lo = 0; lo < n; lo += 256) {
    size_t len = n - lo < 256 ? n - lo : 256;
    wf_real *pc = p + lo, *m1c = m1 + lo, *m2c = m2 + lo;
    const wf_real *gc = g + lo;
    for (size_t i = 0; i < len; i++) {
      wf_real gi = gc[i] + wd * pc[i];
      m1c[i] += (1 - b1) * (gi - m1c[i]);
      m2c[i] = b2 * m2c[i] + (1 - b2) * gi * gi;
    }
    roots(root, m2c, len, isa);
    for (size_t i = 0; i < len; i++) pc[i] -= step * m1c[i] / (root[i] / bc2 + eps);
  }
}

/* p, m1, m2 [n] updated from g [n] at step t = *step + 1 */
void wf_cpu_adam(wf_ctx *ctx, wf_real *p, const wf_real *g, wf_real *m1,
                 wf_real *m2, size_t n, const wf_opt_spec *o, double *step) {
  const double t = *step + 1;
  int nt = wf_cpu_threads_for(ctx, n);
  WF_OMP_CHUNKS(nt)
  for (int k = 0; k < nt; k++) {
    size_t lo, hi;
    wf_cpu_range(n, k, nt, &lo, &hi);
    adam_range(p + lo, g + lo, m1 + lo, m2 + lo, hi - lo, o, t);
  }
  *step = t;
}

/* p, m2 [n] updated from g [n]; *step counts the steps */
void wf_cpu_rmsprop(wf_ctx *ctx, wf_real *p, const wf_real *g, wf_real *m2,
                    size_t n, const wf_opt_spec *o, double *step) {
  (void)ctx;
  wf_real alpha = (wf_real)o->beta2, lr = (wf_real)o->lr;
  wf_real wd = (wf_real)o->weight_decay, eps = (wf_real)o->eps;
  for (size_t i = 0; i < n; i++) {
    wf_real gi = g[i] + wd * p[i];
    m2[i] = alpha * m2[i] + (1 - alpha) * gi * gi;
    p[i] -= lr * gi / (WF_SQRT(m2[i]) + eps);
  }
  *step += 1;
}

/* p, m1 [n] updated from g [n] at step t = *step + 1 (m1 unused without
 * momentum) */
void wf_cpu_sgd(wf_ctx *ctx, wf_real *p, const wf_real *g, wf_real *m1,
                size_t n, const wf_opt_spec *o, double *step) {
  (void)ctx;
  const double t = *step + 1;
  wf_real mu = (wf_real)o->momentum, lr = (wf_real)o->lr;
  wf_real wd = (wf_real)o->weight_decay;
  for (size_t i = 0; i < n; i++) {
    wf_real gi = g[i] + wd * p[i];
    if (mu != 0) {
      m1[i] = t <= 1 ? gi : mu * m1[i] + gi; /* torch: buffer = g at step 1 */
      gi = m1[i];
    }
    p[i] -= lr * gi;
  }
  *step = t;
}

/* p[n] = min(c, max(-c, p)) */
void wf_cpu_clamp(wf_ctx *ctx, wf_real *p, size_t n, wf_real c) {
  (void)ctx;
  for (size_t i = 0; i < n; i++) p[i] = p[i] > c ? c : (p[i] < -c ? -c : p[i]);
}
