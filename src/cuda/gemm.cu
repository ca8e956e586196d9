/* gemm.cu — the matrix product through cuBLAS and the linear-algebra ops
 * around it (bias, column sums, axpy, scal).
 *
 * Row-major C = op(A) op(B) is, read column-major, C^T = op(B)^T op(A)^T:
 * cuBLAS gets B first, the row-major transposes unchanged, and m, n swapped.
 * The epilogue (backend.h) is one elementwise pass after the product, with
 * the CPU's arithmetic (cpu/gemm.c apply_epilogue).
 */
#include "cuda_ops.h"

/* c [m x n], leading dim ldc: optionally c = beta * c (scale: no product was
 * taken, so the product's beta was not applied; beta 0 never reads c), then
 * the epilogue. u: [m x n], leading dim ldc. */
static __global__ void gemm_finish_kernel(wf_real *c, int ldc, int m, int n, int scale,
                                          wf_real beta, int kind, int linear, wf_real s,
                                          const wf_real *bias /* [n] */,
                                          const wf_real *u) {
  const size_t total = (size_t)m * n;
  WF_CU_FOR(idx, total) {
    size_t i;
    unsigned int j;
    wf_cu_divmod(idx, (unsigned int)n, &i, &j);
    wf_real *cp = c + i * (size_t)ldc + j;
    wf_real v = scale ? (beta == 0 ? (wf_real)0 : beta * *cp) : *cp;
    if (kind == WF_EP_BIAS_ACT) {
      if (linear) {
        v = v + bias[j];
      } else {
        wf_real w = v + bias[j], neg = s * w;
        v = w > 0 ? w : neg;
      }
    } else if (kind == WF_EP_TIMES_DERIV && !linear) {
      wf_real neg = s * v;
      v = u[i * (size_t)ldc + j] > 0 ? v : neg;
    }
    *cp = v;
  }
}

void wf_cu_gemm(wf_ctx *ctx, int trans_a, int trans_b, int m, int n, int k, wf_real alpha,
                const wf_real *a, int lda, const wf_real *b, int ldb, wf_real beta,
                wf_real *c, int ldc, const wf_epilogue *ep) {
  if (m <= 0 || n <= 0) return;
  if (ep != NULL && ep->kind == WF_EP_NONE) ep = NULL;
  /* as the CPU: no product when k is 0 or alpha is 0 (A and B unread) */
  const int product = k > 0 && alpha != 0;
  if (product)
    wf_cu_blas_ok(ctx,
                  cublasSgemm(ctx->blas, trans_b ? CUBLAS_OP_T : CUBLAS_OP_N,
                              trans_a ? CUBLAS_OP_T : CUBLAS_OP_N, n, m, k, &alpha, b, ldb,
                              a, lda, &beta, c, ldc),
                  "gemm");
  const int linear = ep != NULL && ep->act == WF_ACT_IDENTITY;
  /* identity's derivative is 1: TIMES_DERIV then changes nothing */
  const int epilogue = ep != NULL && !(ep->kind == WF_EP_TIMES_DERIV && linear);
  const int scale = !product && beta != 1;
  if (!epilogue && !scale) return;
  const wf_real s = ep != NULL && ep->act == WF_ACT_LEAKY_RELU ? ep->slope : (wf_real)0;
  gemm_finish_kernel<<<wf_cu_grid((size_t)m * n), WF_CU_THREADS, 0, ctx->stream>>>(
      c, ldc, m, n, scale, beta, epilogue ? (int)ep->kind : (int)WF_EP_NONE, linear, s,
      epilogue ? ep->bias : NULL, epilogue ? ep->u : NULL);
  WF_CU_LAUNCHED(ctx, "gemm epilogue");
}

/* z [m x n] += bias [n] on every row */
static __global__ void add_bias_kernel(wf_real *z, const wf_real *bias, int m, int n) {
  const size_t total = (size_t)m * n;
  WF_CU_FOR(idx, total) {
    size_t i;
    unsigned int j;
    wf_cu_divmod(idx, (unsigned int)n, &i, &j);
    z[idx] += bias[j];
  }
}

void wf_cu_add_bias(wf_ctx *ctx, wf_real *z, const wf_real *bias, int m, int n) {
  if (m <= 0 || n <= 0) return;
  add_bias_kernel<<<wf_cu_grid((size_t)m * n), WF_CU_THREADS, 0, ctx->stream>>>(z, bias, m,
                                                                                n);
  WF_CU_LAUNCHED(ctx, "add_bias");
}

/* out [n] += column sums of a [m x n]. A block owns cb columns (see
 * WF_CU_COL_BLOCK); each thread sums its row group in float, as the CPU
 * does, then a fixed tree. */
static __global__ void col_sum_kernel(const wf_real *a, int m, int n, int cb,
                                      wf_real *out) {
  __shared__ wf_real sh[WF_CU_THREADS];
  const int c = threadIdx.x & (cb - 1), groups = blockDim.x / cb;
  const int j = blockIdx.x * cb + c;
  wf_real v = 0;
  if (j < n)
    for (int i = threadIdx.x / cb; i < m; i += groups) v += a[(size_t)i * n + j];
  v = wf_cu_col_total(v, sh, cb);
  if (j < n && (int)threadIdx.x < cb) out[j] += v;
}

void wf_cu_col_sum(wf_ctx *ctx, const wf_real *a, int m, int n, wf_real *out) {
  if (m <= 0 || n <= 0) return;
  const int cb = wf_cu_pow2(n, WF_CU_COL_BLOCK);
  const unsigned int grid = (unsigned int)((n + cb - 1) / cb);
  col_sum_kernel<<<grid, WF_CU_THREADS, 0, ctx->stream>>>(a, m, n, cb, out);
  WF_CU_LAUNCHED(ctx, "col_sum");
}

/* y [n] += alpha * x [n] */
static __global__ void axpy_kernel(size_t n, wf_real alpha, const wf_real *x, wf_real *y) {
  WF_CU_FOR(i, n) y[i] += alpha * x[i];
}

void wf_cu_axpy(wf_ctx *ctx, size_t n, wf_real alpha, const wf_real *x, wf_real *y) {
  if (n == 0) return;
  axpy_kernel<<<wf_cu_grid(n), WF_CU_THREADS, 0, ctx->stream>>>(n, alpha, x, y);
  WF_CU_LAUNCHED(ctx, "axpy");
}

/* x [n] *= alpha */
static __global__ void scal_kernel(size_t n, wf_real alpha, wf_real *x) {
  WF_CU_FOR(i, n) x[i] *= alpha;
}

void wf_cu_scal(wf_ctx *ctx, size_t n, wf_real alpha, wf_real *x) {
  if (n == 0) return;
  scal_kernel<<<wf_cu_grid(n), WF_CU_THREADS, 0, ctx->stream>>>(n, alpha, x);
  WF_CU_LAUNCHED(ctx, "scal");
}
