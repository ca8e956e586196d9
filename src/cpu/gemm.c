/* gemm.c — the CPU matrix product: packed panels, a register-blocked
 * micro-kernel, rows split over OpenMP threads.
 *
 * C[m x n] = alpha * op(A) op(B) + beta * C, row-major. op(A) is packed in
 * strips of MR rows ([kc x MR] each), op(B) in strips of NR columns
 * ([kc x NR] each), so the micro-kernel streams both contiguously and keeps
 * an MR x NR tile of C in registers. The kernel is plain C on GCC vector
 * types; on x86-64 it is compiled twice (AVX2+FMA and baseline) and picked
 * at load time, so no -march flag is needed.
 */
#include <stdlib.h>
#include <string.h>

#ifdef _OPENMP
#include <omp.h>
#endif

#include "cpu.h"

#define VEC_BYTES 32
#define VL ((int)(VEC_BYTES / sizeof(wf_real))) /* lanes: 8 float, 4 double */
#define MR 6
#define NR (2 * VL)
#define KC 256
#define NC 512
#define MC (MR * 16)

typedef wf_real vreal __attribute__((vector_size(VEC_BYTES)));

#if defined(__x86_64__) && defined(__GNUC__) && defined(__linux__) && \
    !defined(WF_NO_CLONES)
#define WF_CLONES __attribute__((target_clones("arch=x86-64-v3", "default")))
#else
#define WF_CLONES
#endif

static int n_threads = 1;

int wf_cpu_set_threads(int n) {
  int old = n_threads;
  n_threads = n < 1 ? 1 : n;
  return old;
}
int wf_cpu_get_threads(void) { return n_threads; }

/* Per-thread packing buffers, grown on demand and kept between calls (a
 * fresh malloc of this size per call would page-fault every time). */
#define MAX_THREADS 64
static wf_real *pack_a[MAX_THREADS], *pack_b[MAX_THREADS];

static int ensure_buffers(int nt) {
  for (int t = 0; t < nt; t++) {
    if (pack_a[t] == NULL) pack_a[t] = malloc(sizeof(wf_real) * KC * MC);
    if (pack_b[t] == NULL) pack_b[t] = malloc(sizeof(wf_real) * KC * NC);
    if (pack_a[t] == NULL || pack_b[t] == NULL) return 0;
  }
  return 1;
}

void wf_cpu_gemm_release(void) {
  for (int t = 0; t < MAX_THREADS; t++) {
    free(pack_a[t]);
    free(pack_b[t]);
    pack_a[t] = pack_b[t] = NULL;
  }
}

/* element (i, p) of op(A) and (p, j) of op(B) */
#define OPA(i, p) (ta ? a[(size_t)(p) * lda + (i)] : a[(size_t)(i) * lda + (p)])
#define OPB(p, j) (tb ? b[(size_t)(j) * ldb + (p)] : b[(size_t)(p) * ldb + (j)])

/* One thread's share: rows [i0, i1) of C += alpha * op(A) op(B). */
WF_CLONES
static void gemm_rows(int ta, int tb, int i0, int i1, int n, int k,
                      wf_real alpha, const wf_real *a, int lda,
                      const wf_real *b, int ldb, wf_real *c, int ldc,
                      wf_real *pa /* [KC x MC] */, wf_real *pb /* [KC x NC] */) {
  for (int jc = 0; jc < n; jc += NC) {
    int nc = n - jc < NC ? n - jc : NC;
    for (int pc = 0; pc < k; pc += KC) {
      int kc = k - pc < KC ? k - pc : KC;
      /* pack op(B)[pc:pc+kc, jc:jc+nc] into NR-wide strips, zero padded */
      for (int js = 0; js < nc; js += NR) {
        wf_real *dst = pb + (size_t)js * kc;
        int w = nc - js < NR ? nc - js : NR;
        for (int p = 0; p < kc; p++) {
          for (int j = 0; j < w; j++) dst[p * NR + j] = OPB(pc + p, jc + js + j);
          for (int j = w; j < NR; j++) dst[p * NR + j] = 0;
        }
      }
      for (int ic = i0; ic < i1; ic += MC) {
        int mc = i1 - ic < MC ? i1 - ic : MC;
        /* pack op(A)[ic:ic+mc, pc:pc+kc] into MR-tall strips */
        for (int is = 0; is < mc; is += MR) {
          wf_real *dst = pa + (size_t)is * kc;
          int h = mc - is < MR ? mc - is : MR;
          for (int p = 0; p < kc; p++) {
            for (int i = 0; i < h; i++) dst[p * MR + i] = OPA(ic + is + i, pc + p);
            for (int i = h; i < MR; i++) dst[p * MR + i] = 0;
          }
        }
        for (int js = 0; js < nc; js += NR) {
          const wf_real *bp = pb + (size_t)js * kc;
          int w = nc - js < NR ? nc - js : NR;
          for (int is = 0; is < mc; is += MR) {
            const wf_real *ap = pa + (size_t)is * kc;
            int h = mc - is < MR ? mc - is : MR;
            /* micro-kernel: an MR x NR tile in 2 * MR vector registers */
            vreal acc[MR][2];
            memset(acc, 0, sizeof(acc));
            for (int p = 0; p < kc; p++) {
              vreal b0, b1;
              memcpy(&b0, bp + p * NR, sizeof(vreal));
              memcpy(&b1, bp + p * NR + VL, sizeof(vreal));
              for (int i = 0; i < MR; i++) {
                wf_real ai = ap[p * MR + i];
                acc[i][0] += ai * b0;
                acc[i][1] += ai * b1;
              }
            }
            wf_real *ct = c + (size_t)(ic + is) * ldc + jc + js;
            if (h == MR && w == NR) {
              for (int i = 0; i < MR; i++) {
                wf_real *row = ct + (size_t)i * ldc;
                vreal c0, c1;
                memcpy(&c0, row, sizeof(vreal));
                memcpy(&c1, row + VL, sizeof(vreal));
                c0 += alpha * acc[i][0];
                c1 += alpha * acc[i][1];
                memcpy(row, &c0, sizeof(vreal));
                memcpy(row + VL, &c1, sizeof(vreal));
              }
            } else {
              wf_real tile[MR][NR];
              memcpy(tile, acc, sizeof(tile));
              for (int i = 0; i < h; i++)
                for (int j = 0; j < w; j++)
                  ct[(size_t)i * ldc + j] += alpha * tile[i][j];
            }
          }
        }
      }
    }
  }
}

/* Plain loops for products too small to pay for packing. */
static void gemm_small(int ta, int tb, int m, int n, int k, wf_real alpha,
                       const wf_real *a, int lda, const wf_real *b, int ldb,
                       wf_real *c, int ldc) {
  for (int i = 0; i < m; i++)
    for (int j = 0; j < n; j++) {
      wf_real s = 0;
      for (int p = 0; p < k; p++) s += OPA(i, p) * OPB(p, j);
      c[(size_t)i * ldc + j] += alpha * s;
    }
}

void wf_cpu_gemm(int ta, int tb, int m, int n, int k, wf_real alpha,
                 const wf_real *a, int lda, const wf_real *b, int ldb,
                 wf_real beta, wf_real *c, int ldc) {
  for (int i = 0; i < m; i++) {
    wf_real *row = c + (size_t)i * ldc;
    if (beta == 0)
      memset(row, 0, sizeof(wf_real) * (size_t)n);
    else if (beta != 1)
      for (int j = 0; j < n; j++) row[j] *= beta;
  }
  if (m == 0 || n == 0 || k == 0 || alpha == 0) return;
  double flops = 2.0 * m * n * k;
  /* a thin product (one output column, or k of a few) wastes the kernel */
  if (flops < 4096 || n < 4 || k < 4) {
    gemm_small(ta, tb, m, n, k, alpha, a, lda, b, ldb, c, ldc);
    return;
  }
  int nt = n_threads;
  if (flops < 2e5 || m < 2 * MR) nt = 1;
  if (nt > MAX_THREADS) nt = MAX_THREADS;
  if (!ensure_buffers(nt)) {
    gemm_small(ta, tb, m, n, k, alpha, a, lda, b, ldb, c, ldc);
    return;
  }
  /* split rows into nt slices, each a multiple of MR */
  int strips = (m + MR - 1) / MR;
  if (nt > strips) nt = strips;
#ifdef _OPENMP
#pragma omp parallel for num_threads(nt) schedule(static, 1) if (nt > 1)
#endif
  for (int t = 0; t < nt; t++) {
    int i0 = (int)((long)strips * t / nt) * MR;
    int i1 = (int)((long)strips * (t + 1) / nt) * MR;
    if (i1 > m) i1 = m;
    if (i0 < i1)
      gemm_rows(ta, tb, i0, i1, n, k, alpha, a, lda, b, ldb, c, ldc, pack_a[t],
                pack_b[t]);
  }
}
