/* gemm.c — the CPU matrix product: packed panels, a register-blocked
 * micro-kernel, rows split over OpenMP threads.
 *
 * C[m x n] = alpha * op(A) op(B) + beta * C, row-major. op(B) is packed in
 * strips of NR columns ([kc x NR] each); op(A) is read in place, MR rows at
 * a time; the micro-kernel keeps an MR x NR tile of C in registers, NR two
 * vectors (gemm_kernel.h). The kernel is plain C on GCC vector types; on
 * x86-64 it is compiled for AVX-512, AVX2+FMA and the baseline and picked
 * at load time, so no -march flag is needed. AVX-512 machines have a second
 * kernel on 512-bit vectors, taken where the core has two 512-bit FMA units
 * (peak.c measures it): there the 256-bit kernel reaches half the peak. The
 * packing buffers live in the context (one pair per thread).
 */
#include <stdlib.h>
#include <string.h>

#ifdef _OPENMP
#include <omp.h>
#endif

#include "cpu.h"

#define MR 6   /* tile rows: a thread's rows are whole strips of MR */
#define KC 256 /* a panel's depth: each C value adds its products in runs of KC */
#define NC 512 /* a panel's columns (a multiple of every kernel's tile) */

/* the thin loops' vectors (their sums' order follows the lanes: fixed) */
#define VEC_BYTES 32
#define VL ((int)(VEC_BYTES / sizeof(wf_real))) /* lanes: 8 float, 4 double */
typedef wf_real vreal __attribute__((vector_size(VEC_BYTES)));

/* The context's per-thread packing buffers for nt threads, allocated on
 * first use; 0 if an allocation failed. */
static int ensure_buffers(wf_ctx *ctx, int nt) {
  for (int t = 0; t < nt; t++) {
    if (ctx->pack_a[t] == NULL) ctx->pack_a[t] = malloc(sizeof(wf_real) * KC * MR);
    if (ctx->pack_b[t] == NULL) ctx->pack_b[t] = malloc(sizeof(wf_real) * KC * NC);
    if (ctx->pack_a[t] == NULL || ctx->pack_b[t] == NULL) return 0;
  }
  return 1;
}

void wf_cpu_gemm_release(wf_ctx *ctx) {
  for (int t = 0; t < WF_CPU_MAX_THREADS; t++) {
    free(ctx->pack_a[t]);
    free(ctx->pack_b[t]);
    ctx->pack_a[t] = ctx->pack_b[t] = NULL;
  }
}

/* element (i, p) of op(A) and (p, j) of op(B) */
#define OPA(i, p) (ta ? a[(size_t)(p) * lda + (i)] : a[(size_t)(i) * lda + (p)])
#define OPB(p, j) (tb ? b[(size_t)(j) * ldb + (p)] : b[(size_t)(p) * ldb + (j)])

/* op(A)[i0:i0+h, p0:p0+kc] into dst [kc x MR], zero padded to MR rows */
static inline __attribute__((always_inline)) void
pack_a_strip(int ta, const wf_real *a, int lda, int i0, int p0, int kc, int h,
             wf_real *dst) {
  if (ta) {
    for (int p = 0; p < kc; p++) {
      const wf_real *src = a + (size_t)(p0 + p) * lda + i0;
      wf_real *d = dst + (size_t)p * MR;
      for (int i = 0; i < h; i++) d[i] = src[i];
      for (int i = h; i < MR; i++) d[i] = 0;
    }
  } else {
    for (int p = 0; p < kc; p++)
      for (int i = h; i < MR; i++) dst[(size_t)p * MR + i] = 0;
    for (int i = 0; i < h; i++) {
      const wf_real *src = a + (size_t)(i0 + i) * lda + p0;
      for (int p = 0; p < kc; p++) dst[(size_t)p * MR + i] = src[p];
    }
  }
}

/* the ymm kernel, on every code path (GCC clones) */
#define KERNEL_VEC_BYTES 32
#define KN(name) name##_v32
#define KERNEL_ATTR WF_CLONES
#include "gemm_kernel.h"
#undef KERNEL_VEC_BYTES
#undef KN
#undef KERNEL_ATTR

#if WF_CPU_WIDE_KERNEL
/* the zmm kernel, AVX-512 only: for cores with two 512-bit FMA units */
#define KERNEL_VEC_BYTES 64
#define KN(name) name##_v64
#define KERNEL_ATTR __attribute__((target("arch=x86-64-v4"), WF_VECTORISE))
#include "gemm_kernel.h"
#undef KERNEL_VEC_BYTES
#undef KN
#undef KERNEL_ATTR
#endif

/* Loops for thin products (a few columns, or k of a few), ordered so the
 * innermost loop runs along contiguous memory; `tmp` holds at least
 * KC * NC values for the transposed operand or result. With `overwrite`
 * (beta 0) each C value is written once, as 0 + its first term (the bits
 * of a zeroed C accumulated into), instead of zeroed first: the first
 * layer's forward product is bound by these passes over C. */
WF_CLONES
static void gemm_small(int ta, int tb, int m, int n, int k, wf_real alpha,
                       const wf_real *a, int lda, const wf_real *b, int ldb,
                       wf_real *c, int ldc, wf_real *tmp, int overwrite) {
  size_t room = (size_t)KC * NC;
  if (ta && n <= 8 && (size_t)n * m <= room) {
    /* few columns from a transposed A (a weight gradient of the first
     * layer): accumulate C^T [n x m] along A's contiguous rows */
    memset(tmp, 0, sizeof(wf_real) * (size_t)n * m);
    for (int p = 0; p < k; p++) {
      const wf_real *ap = a + (size_t)p * lda;
      for (int j = 0; j < n; j++) {
        wf_real bpj = alpha * OPB(p, j);
        wf_real *tj = tmp + (size_t)j * m;
        for (int i = 0; i < m; i++) tj[i] += bpj * ap[i];
      }
    }
    for (int i = 0; i < m; i++)
      for (int j = 0; j < n; j++) {
        wf_real *cij = c + (size_t)i * ldc + j;
        *cij = (overwrite ? 0 : *cij) + tmp[(size_t)j * m + i];
      }
    return;
  }
  if (tb && k <= 8 && (size_t)k * n <= room) {
    /* a thin transposed B (the first layer's weights): transpose it */
    for (int p = 0; p < k; p++)
      for (int j = 0; j < n; j++) tmp[(size_t)p * n + j] = b[(size_t)j * ldb + p];
    b = tmp, ldb = n, tb = 0;
  } else if (!ta && !tb && n <= 8 && (size_t)k * n <= room) {
    /* a few columns of a plain B (an input gradient through the first
     * layer's weights): transpose it, for the dot products below */
    for (int p = 0; p < k; p++)
      for (int j = 0; j < n; j++) tmp[(size_t)j * k + p] = b[(size_t)p * ldb + j];
    b = tmp, ldb = k, tb = 1;
  }
  if (!ta && tb) { /* rows of A against rows of B: dot products, in vector
                     * lanes (C alone would not reassociate the sum) */
    for (int i = 0; i < m; i++)
      for (int j = 0; j < n; j++) {
        const wf_real *ai = a + (size_t)i * lda, *bj = b + (size_t)j * ldb;
        vreal acc = {0};
        int p = 0;
        for (; p + VL <= k; p += VL) {
          vreal x, y;
          memcpy(&x, ai + p, sizeof(vreal));
          memcpy(&y, bj + p, sizeof(vreal));
          acc += x * y;
        }
        wf_real s = 0;
        for (int q = 0; q < VL; q++) s += acc[q];
        for (; p < k; p++) s += ai[p] * bj[p];
        wf_real *cij = c + (size_t)i * ldc + j;
        *cij = (overwrite ? 0 : *cij) + alpha * s;
      }
  } else if (!tb) { /* C row i += A(i, p) * B row p */
    for (int i = 0; i < m; i++) {
      wf_real *ci = c + (size_t)i * ldc;
      for (int p = 0; p < k; p++) {
        wf_real aip = alpha * OPA(i, p);
        const wf_real *bp = b + (size_t)p * ldb;
        if (p == 0 && overwrite)
          for (int j = 0; j < n; j++) ci[j] = (wf_real)0 + aip * bp[j];
        else
          for (int j = 0; j < n; j++) ci[j] += aip * bp[j];
      }
    }
  } else {
    for (int i = 0; i < m; i++)
      for (int j = 0; j < n; j++) {
        wf_real s = 0;
        for (int p = 0; p < k; p++) s += OPA(i, p) * OPB(p, j);
        wf_real *cij = c + (size_t)i * ldc + j;
        *cij = (overwrite ? 0 : *cij) + alpha * s;
      }
  }
}

/* Without packing buffers: plain loops, no temporaries. */
static void gemm_naive(int ta, int tb, int m, int n, int k, wf_real alpha,
                       const wf_real *a, int lda, const wf_real *b, int ldb,
                       wf_real *c, int ldc) {
  for (int i = 0; i < m; i++)
    for (int j = 0; j < n; j++) {
      wf_real s = 0;
      for (int p = 0; p < k; p++) s += OPA(i, p) * OPB(p, j);
      c[(size_t)i * ldc + j] += alpha * s;
    }
}

/* The epilogue on rows [0, m) of C (a thread's slice, still in its cache).
 * Locals marked restrict and branch-free selects, so the loops vectorise. */
WF_CLONES
static void apply_epilogue(wf_real *c, int ldc, int m, int n,
                           const wf_epilogue *ep, const wf_real *u) {
  const wf_real s = ep->act == WF_ACT_LEAKY_RELU ? ep->slope : 0;
  const int linear = ep->act == WF_ACT_IDENTITY;
  const wf_real *restrict bias = ep->bias;
  for (int i = 0; i < m; i++) {
    wf_real *restrict row = c + (size_t)i * ldc;
    if (ep->kind == WF_EP_BIAS_ACT) {
      if (linear) {
        for (int j = 0; j < n; j++) row[j] += bias[j];
      } else {
        for (int j = 0; j < n; j++) {
          wf_real v = row[j] + bias[j], neg = s * v;
          row[j] = v > 0 ? v : neg;
        }
      }
    } else if (!linear) {
      const wf_real *restrict ui = u + (size_t)i * ldc;
      for (int j = 0; j < n; j++) {
        wf_real v = row[j], neg = s * v;
        row[j] = ui[j] > 0 ? v : neg;
      }
    }
  }
}

static void scale_rows(wf_real *c, int ldc, int m, int n, wf_real beta) {
  for (int i = 0; i < m; i++) {
    wf_real *row = c + (size_t)i * ldc;
    if (beta == 0)
      memset(row, 0, sizeof(wf_real) * (size_t)n);
    else if (beta != 1)
      for (int j = 0; j < n; j++) row[j] *= beta;
  }
}

/* ---- a product's plan: a function of its shape (and the thread count) -- */

int wf_cpu_gemm_threads(const wf_ctx *ctx, const wf_cpu_product *p) {
  if (p->m < 2 * MR) return 1; /* fewer than two strips: nothing to split */
  double flops = 2.0 * p->m * p->n * (p->k > 0 ? p->k : 1);
  size_t touched = (size_t)p->m * ((size_t)p->n + (size_t)(p->k > 0 ? p->k : 0));
  return wf_cpu_region_threads(ctx, flops, touched);
}

int wf_cpu_gemm_thin(const wf_cpu_product *p) {
  /* a thin product (a few output columns, or k of a few, or fewer rows than
   * a micro-tile, which would pad them to MR: a one-output layer's weight
   * gradient) wastes the kernel */
  double flops = 2.0 * p->m * p->n * (p->k > 0 ? p->k : 1);
  return flops < 4096 || p->n < 4 || p->k < 4 || (p->ta && p->n <= 8) || p->m < MR;
}

int wf_cpu_gemm_buffers(wf_ctx *ctx, int nt) { return ensure_buffers(ctx, nt); }

/* The model: per step p the kernel issues 12 FMAs on 2 vectors of B and 6
 * broadcasts of A (8 loads), so the FMA units bound it on every x86 core
 * (2 loads a cycle or more). With two 512-bit FMA units (Intel server
 * cores) the 256-bit kernel fills half of each: 32 of 64 FLOP a cycle, the
 * 512-bit one all (6 cycles a step either way). With one (AMD Zen 4 runs a
 * 512-bit FMA on its two 256-bit units; Intel cores with one) both reach
 * the peak in FMA terms, and the 512-bit one issues half the instructions:
 * on Zen 4 it ran the MLP's and DCGAN's products 7 % faster
 * (bench/products.c). There it gives way where its tile's 32 columns pad
 * the product's edge more than two 16-column tiles would (n mod 32 in
 * (0, 16]: as many kernel calls, each at the same rate). */
int wf_cpu_gemm_vec_bytes(const wf_ctx *ctx, int n) {
  /* no 512-bit units counted: no AVX-512 on this path (peak.c) */
  if (!WF_CPU_WIDE_KERNEL || ctx->fma_units_512 == 0 || ctx->gemm_vec == 32) return 32;
  if (ctx->gemm_vec == 64 || ctx->fma_units_512 >= 2 || n <= 0) return 64;
  int tiles_512 = (n + 31) / 32, tiles_256 = (n + 15) / 16;
  return 2 * tiles_512 == tiles_256 ? 64 : 32;
}

int wf_cpu_gemm_split(int m, int nt) {
  int strips = (m + MR - 1) / MR;
  return nt > strips ? strips : nt;
}

void wf_cpu_gemm_rows_of(int m, int t, int nt, int *i0, int *i1) {
  /* whole strips of MR rows: a row's values never depend on the split */
  int strips = (m + MR - 1) / MR;
  *i0 = (int)((long)strips * t / nt) * MR;
  *i1 = (int)((long)strips * (t + 1) / nt) * MR;
  if (*i1 > m) *i1 = m;
  if (*i0 > m) *i0 = m;
}

void wf_cpu_gemm_slice(wf_ctx *ctx, int t, const wf_cpu_product *p, int thin,
                       int i0, int i1) {
  if (i0 >= i1) return;
  int ta = p->ta, lda = p->lda, ldc = p->ldc, n = p->n, k = p->k;
  wf_real *c = p->c;
  /* the kernels overwrite C on their first pass when beta is 0: no memset */
  int overwrite = p->beta == 0 && k > 0 && p->alpha != 0;
  if (!overwrite) scale_rows(c + (size_t)i0 * ldc, ldc, i1 - i0, n, p->beta);
  if (k > 0 && p->alpha != 0) {
    if (thin)
      gemm_small(ta, p->tb, i1 - i0, n, k, p->alpha,
                 p->a + (ta ? (size_t)i0 : (size_t)i0 * lda), lda, p->b, p->ldb,
                 c + (size_t)i0 * ldc, ldc, ctx->pack_b[t], overwrite);
#if WF_CPU_WIDE_KERNEL
    else if (wf_cpu_gemm_vec_bytes(ctx, n) == 64)
      gemm_rows_v64(ta, p->tb, i0, i1, n, k, p->alpha, p->a, lda, p->b, p->ldb, c,
                    ldc, overwrite, ctx->pack_a[t], ctx->pack_b[t]);
#endif
    else
      gemm_rows_v32(ta, p->tb, i0, i1, n, k, p->alpha, p->a, lda, p->b, p->ldb, c,
                    ldc, overwrite, ctx->pack_a[t], ctx->pack_b[t]);
  }
  if (p->ep != NULL)
    apply_epilogue(c + (size_t)i0 * ldc, ldc, i1 - i0, n, p->ep,
                   p->ep->u ? p->ep->u + (size_t)i0 * ldc : NULL);
}

void wf_cpu_gemm(wf_ctx *ctx, int ta, int tb, int m, int n, int k,
                 wf_real alpha, const wf_real *a, int lda, const wf_real *b,
                 int ldb, wf_real beta, wf_real *c, int ldc,
                 const wf_epilogue *ep) {
  if (m <= 0 || n <= 0) return;
  if (ep != NULL && ep->kind == WF_EP_NONE) ep = NULL;
  ctx->flops += 2.0 * m * n * (k > 0 ? k : 0);
  wf_cpu_product p = {ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc, ep};
  int nt = wf_cpu_gemm_threads(ctx, &p);
  if (!ensure_buffers(ctx, nt)) {
    scale_rows(c, ldc, m, n, beta);
    gemm_naive(ta, tb, m, n, k, alpha, a, lda, b, ldb, c, ldc);
    if (ep != NULL) apply_epilogue(c, ldc, m, n, ep, ep->u);
    return;
  }
  int thin = wf_cpu_gemm_thin(&p);
  nt = wf_cpu_gemm_split(m, nt);
  wf_cpu_region_clock timing = wf_cpu_region_start(nt);
#ifdef _OPENMP
#pragma omp parallel for num_threads(nt) schedule(static, 1) if (nt > 1)
#endif
  for (int t = 0; t < nt; t++) {
    int i0, i1;
    wf_cpu_gemm_rows_of(m, t, nt, &i0, &i1);
    wf_cpu_gemm_slice(ctx, t, &p, thin, i0, i1);
    wf_cpu_region_own(&timing, t);
  }
  wf_cpu_region_end(ctx, &timing);
}
