/* norm.cu — LayerNorm (per row) and BatchNorm (per column), with the CPU's
 * arithmetic (cpu/norm.c): statistics and row sums in double, values
 * stored in float.
 *
 * LayerNorm: one warp per row, its sums by butterfly so every lane holds
 * the same bits. The parameter gradients (sums over rows) are a second,
 * column-wise kernel that runs first, because abar may alias an input.
 * BatchNorm: a block owns whole columns (all m rows), so statistics,
 * running stats and outputs are one launch without a grid-wide sync.
 *
 * LayerNorm's double backward (ln_double) is the reverse of the pair
 * (out, out_dot); cpu/norm.c derives it:
 *   p = nbar gamma, q = ndbar gamma, A = sum q c_dot, B = sum q xhat,
 *   s = mean(adot xhat), rho = A - s B,
 *   v = p - r (B adot / d + s q),  abar = LNback(v) - (r^2 rho / d) xhat,
 *   LNback(v) = r (v - mean v - xhat mean(v xhat)).
 */
#include "cuda_ops.h"

#define NORM_EPS 1e-5

/* rows of a LayerNorm kernel: one warp each, WF_CU_WARPS a block */
#define LN_ROWS_BEGIN(row, m)                                                     \
  for (size_t row = (size_t)blockIdx.x * WF_CU_WARPS + (threadIdx.x >> 5);        \
       row < (size_t)(m); row += (size_t)gridDim.x * WF_CU_WARPS)

static unsigned int ln_grid(int m) {
  return wf_cu_grid_cap((size_t)m, WF_CU_WARPS, WF_CU_MAX_GRID);
}

/* a [m x n] -> out, xhat [m x n], rstd [m] */
static __global__ void ln_forward_kernel(const wf_real *a, int m, int n,
                                         const wf_real *gamma /* [n] */,
                                         const wf_real *beta /* [n] */, wf_real *out,
                                         wf_real *xhat, wf_real *rstd) {
  const int lane = threadIdx.x & 31;
  LN_ROWS_BEGIN(row, m) {
    const size_t o = row * n;
    const wf_real *ai = a + o;
    double s = 0;
    for (int j = lane; j < n; j += 32) s += ai[j];
    const double mean = wf_cu_group_sum(s, 32) / n;
    double v = 0;
    for (int j = lane; j < n; j += 32) {
      double c = ai[j] - mean;
      v += c * c;
    }
    const double var = wf_cu_group_sum(v, 32) / n;
    const double r = 1 / sqrt(var + NORM_EPS);
    if (lane == 0) rstd[row] = (wf_real)r;
    for (int j = lane; j < n; j += 32) {
      wf_real x = (wf_real)((ai[j] - mean) * r); /* r unrounded, as the CPU */
      xhat[o + j] = x;
      out[o + j] = gamma[j] * x + beta[j];
    }
  }
}

/* abar [m x n] = LNback(nbar * gamma) row by row (may alias nbar) */
static __global__ void ln_backward_kernel(const wf_real *nbar, const wf_real *xhat,
                                          const wf_real *rstd /* [m] */,
                                          const wf_real *gamma, int m, int n,
                                          wf_real *abar) {
  const int lane = threadIdx.x & 31;
  LN_ROWS_BEGIN(row, m) {
    const size_t o = row * n;
    const wf_real *gi = nbar + o, *xi = xhat + o;
    double mv = 0, mvx = 0;
    for (int j = lane; j < n; j += 32) {
      wf_real v = gi[j] * gamma[j];
      mv += v;
      mvx += (double)v * xi[j];
    }
    mv = wf_cu_group_sum(mv, 32) / n;
    mvx = wf_cu_group_sum(mvx, 32) / n;
    const double r = rstd[row];
    for (int j = lane; j < n; j += 32) {
      wf_real v = gi[j] * gamma[j];
      abar[o + j] = (wf_real)(r * (v - mv - xi[j] * mvx));
    }
  }
}

/* dgamma [n] += sum_i (q xdot + nbar xhat), dbeta [n] += sum_i nbar over the
 * m rows (q or nbar NULL: no such term). A block owns cb columns. */
static __global__ void ln_param_grad_kernel(const wf_real *nbar, const wf_real *xhat,
                                            const wf_real *q, const wf_real *xdot, int m,
                                            int n, int cb, wf_real *dgamma,
                                            wf_real *dbeta) {
  __shared__ double sh[WF_CU_THREADS];
  const int c = threadIdx.x & (cb - 1), groups = blockDim.x / cb;
  const int j = blockIdx.x * cb + c;
  double sg = 0, sb = 0;
  if (j < n)
    for (int i = threadIdx.x / cb; i < m; i += groups) {
      size_t k = (size_t)i * n + j;
      if (q != NULL) sg += q[k] * xdot[k];
      if (nbar != NULL) {
        sg += nbar[k] * xhat[k];
        sb += nbar[k];
      }
    }
  sg = wf_cu_col_total(sg, sh, cb);
  sb = wf_cu_col_total(sb, sh, cb);
  if (j < n && (int)threadIdx.x < cb) {
    if (dgamma != NULL) dgamma[j] = (wf_real)(dgamma[j] + sg);
    if (dbeta != NULL && nbar != NULL) dbeta[j] = (wf_real)(dbeta[j] + sb);
  }
}

static void ln_param_grad(wf_ctx *ctx, const wf_real *nbar, const wf_real *xhat,
                          const wf_real *q, const wf_real *xdot, int m, int n,
                          wf_real *dgamma, wf_real *dbeta, const char *what) {
  if (dgamma == NULL && (dbeta == NULL || nbar == NULL)) return;
  const int cb = wf_cu_pow2(n, WF_CU_COL_BLOCK);
  ln_param_grad_kernel<<<(unsigned int)((n + cb - 1) / cb), WF_CU_THREADS, 0, ctx->stream>>>(
      nbar, xhat, q, xdot, m, n, cb, dgamma, dbeta);
  WF_CU_LAUNCHED(ctx, what);
}

/* xhat_dot [m x n] = r (adot - mean adot - xhat mean(adot xhat));
 * out_dot = gamma * xhat_dot */
static __global__ void ln_jvp_kernel(const wf_real *adot, const wf_real *xhat,
                                     const wf_real *rstd, const wf_real *gamma, int m, int n,
                                     wf_real *xhat_dot, wf_real *out_dot) {
  const int lane = threadIdx.x & 31;
  LN_ROWS_BEGIN(row, m) {
    const size_t o = row * n;
    const wf_real *di = adot + o, *xi = xhat + o;
    double md = 0, s = 0;
    for (int j = lane; j < n; j += 32) {
      md += di[j];
      s += (double)di[j] * xi[j];
    }
    md = wf_cu_group_sum(md, 32) / n;
    s = wf_cu_group_sum(s, 32) / n;
    const double r = rstd[row];
    for (int j = lane; j < n; j += 32) {
      wf_real xd = (wf_real)(r * (di[j] - md - xi[j] * s));
      xhat_dot[o + j] = xd;
      out_dot[o + j] = gamma[j] * xd;
    }
  }
}

/* abar [m x n] of the double backward (see the top). v goes through abar in
 * float, as the CPU's row buffer, so abar may alias nbar, ndbar or adot:
 * each lane reads an element before it writes the same element. */
static __global__ void ln_double_kernel(const wf_real *nbar, const wf_real *ndbar,
                                        const wf_real *adot, const wf_real *xhat,
                                        const wf_real *rstd, const wf_real *gamma, int m,
                                        int n, wf_real *abar) {
  const int lane = threadIdx.x & 31;
  LN_ROWS_BEGIN(row, m) {
    const size_t o = row * n;
    const wf_real *di = adot + o, *xi = xhat + o, *qi = ndbar + o;
    const double r = rstd[row];
    double md = 0, s = 0;
    for (int j = lane; j < n; j += 32) {
      md += di[j];
      s += (double)di[j] * xi[j];
    }
    md = wf_cu_group_sum(md, 32) / n;
    s = wf_cu_group_sum(s, 32) / n;
    double A = 0, B = 0;
    for (int j = lane; j < n; j += 32) {
      double q = (double)qi[j] * gamma[j];
      A += q * (di[j] - md);
      B += q * xi[j];
    }
    A = wf_cu_group_sum(A, 32);
    B = wf_cu_group_sum(B, 32);
    const double rho = A - s * B;
    double mv = 0, mvx = 0;
    for (int j = lane; j < n; j += 32) {
      double q = (double)qi[j] * gamma[j];
      double p = nbar != NULL ? (double)nbar[o + j] * gamma[j] : 0.0;
      wf_real v = (wf_real)(p - r * (B * di[j] / n + s * q));
      abar[o + j] = v;
      mv += v;
      mvx += (double)v * xi[j];
    }
    mv = wf_cu_group_sum(mv, 32) / n;
    mvx = wf_cu_group_sum(mvx, 32) / n;
    for (int j = lane; j < n; j += 32) {
      wf_real v = abar[o + j];
      wf_real back = (wf_real)(r * (v - mv - xi[j] * mvx));
      abar[o + j] = back - (wf_real)(r * r * rho / n * xi[j]);
    }
  }
}

void wf_cu_ln_forward(wf_ctx *ctx, const wf_real *a, int m, int n, const wf_real *gamma,
                      const wf_real *beta, wf_real *out, wf_real *xhat, wf_real *rstd) {
  if (m <= 0 || n <= 0) return;
  ln_forward_kernel<<<ln_grid(m), WF_CU_THREADS, 0, ctx->stream>>>(a, m, n, gamma, beta, out,
                                                                   xhat, rstd);
  WF_CU_LAUNCHED(ctx, "ln_forward");
}

void wf_cu_ln_backward(wf_ctx *ctx, const wf_real *nbar, const wf_real *xhat,
                       const wf_real *rstd, const wf_real *gamma, int m, int n,
                       wf_real *abar, wf_real *dgamma, wf_real *dbeta) {
  if (m <= 0 || n <= 0) return;
  ln_param_grad(ctx, nbar, xhat, NULL, NULL, m, n, dgamma, dbeta, "ln_backward");
  ln_backward_kernel<<<ln_grid(m), WF_CU_THREADS, 0, ctx->stream>>>(nbar, xhat, rstd, gamma,
                                                                    m, n, abar);
  WF_CU_LAUNCHED(ctx, "ln_backward");
}

void wf_cu_ln_jvp(wf_ctx *ctx, const wf_real *adot, const wf_real *xhat, const wf_real *rstd,
                  const wf_real *gamma, int m, int n, wf_real *xhat_dot, wf_real *out_dot) {
  if (m <= 0 || n <= 0) return;
  ln_jvp_kernel<<<ln_grid(m), WF_CU_THREADS, 0, ctx->stream>>>(adot, xhat, rstd, gamma, m, n,
                                                               xhat_dot, out_dot);
  WF_CU_LAUNCHED(ctx, "ln_jvp");
}

void wf_cu_ln_double(wf_ctx *ctx, const wf_real *nbar, const wf_real *ndbar,
                     const wf_real *adot, const wf_real *xhat, const wf_real *xhat_dot,
                     const wf_real *rstd, const wf_real *gamma, int m, int n, wf_real *abar,
                     wf_real *dgamma, wf_real *dbeta) {
  if (m <= 0 || n <= 0) return;
  ln_param_grad(ctx, nbar, xhat, ndbar, xhat_dot, m, n, dgamma, dbeta, "ln_double");
  ln_double_kernel<<<ln_grid(m), WF_CU_THREADS, 0, ctx->stream>>>(nbar, ndbar, adot, xhat,
                                                                  rstd, gamma, m, n, abar);
  WF_CU_LAUNCHED(ctx, "ln_double");
}

/* ---- BatchNorm: a block owns cb columns (WF_CU_COL_BLOCK) and all m
 * rows of them, in 256 / cb row groups ---------------------------------------- */

/* a [m x n] -> out, xhat [m x n], rstd [n]; train: batch statistics and the
 * running ones updated (unbiased variance); else the running ones */
static __global__ void bn_forward_kernel(const wf_real *a, int m, int n, int cb,
                                         const wf_real *gamma, const wf_real *beta,
                                         wf_real *run_mean, wf_real *run_var, int train,
                                         double momentum, wf_real *out, wf_real *xhat,
                                         wf_real *rstd) {
  __shared__ double sh[WF_CU_THREADS];
  const int c = threadIdx.x & (cb - 1), groups = blockDim.x / cb;
  const int g0 = threadIdx.x / cb, j = blockIdx.x * cb + c;
  const bool ok = j < n;
  double mean = 0, var = 0;
  if (train) {
    double s = 0;
    if (ok)
      for (int i = g0; i < m; i += groups) s += a[(size_t)i * n + j];
    mean = wf_cu_col_total(s, sh, cb) / m;
    double v = 0;
    if (ok)
      for (int i = g0; i < m; i += groups) {
        double d = a[(size_t)i * n + j] - mean;
        v += d * d;
      }
    var = wf_cu_col_total(v, sh, cb) / m;
    if (ok && g0 == 0) {
      run_mean[j] = (wf_real)((1 - momentum) * run_mean[j] + momentum * mean);
      run_var[j] = (wf_real)((1 - momentum) * run_var[j] + momentum * var * m / (m - 1));
    }
  } else if (ok) {
    mean = run_mean[j];
    var = run_var[j];
  }
  const wf_real r = (wf_real)(1 / sqrt(var + NORM_EPS));
  if (ok && g0 == 0) rstd[j] = r;
  if (ok)
    for (int i = g0; i < m; i += groups) {
      size_t k = (size_t)i * n + j;
      wf_real x = (wf_real)((a[k] - mean) * r); /* r rounded, as the CPU */
      xhat[k] = x;
      out[k] = gamma[j] * x + beta[j];
    }
}

/* abar [m x n] (may alias nbar); dgamma, dbeta [n] accumulate (may be NULL) */
static __global__ void bn_backward_kernel(const wf_real *nbar, const wf_real *xhat,
                                          const wf_real *rstd, const wf_real *gamma, int m,
                                          int n, int cb, int train, wf_real *abar,
                                          wf_real *dgamma, wf_real *dbeta) {
  __shared__ double sh[WF_CU_THREADS];
  const int c = threadIdx.x & (cb - 1), groups = blockDim.x / cb;
  const int g0 = threadIdx.x / cb, j = blockIdx.x * cb + c;
  const bool ok = j < n;
  double mg = 0, mgx = 0, sg = 0, sb = 0;
  if (ok)
    for (int i = g0; i < m; i += groups) {
      size_t k = (size_t)i * n + j;
      double g = (double)nbar[k] * gamma[j];
      mg += g;
      mgx += g * xhat[k];
      sg += nbar[k] * xhat[k];
      sb += nbar[k];
    }
  mg = wf_cu_col_total(mg, sh, cb);
  mgx = wf_cu_col_total(mgx, sh, cb);
  sg = wf_cu_col_total(sg, sh, cb);
  sb = wf_cu_col_total(sb, sh, cb);
  if (!ok) return;
  if (g0 == 0) {
    if (dgamma != NULL) dgamma[j] = (wf_real)(dgamma[j] + sg);
    if (dbeta != NULL) dbeta[j] = (wf_real)(dbeta[j] + sb);
  }
  const wf_real r = rstd[j];
  for (int i = g0; i < m; i += groups) {
    size_t k = (size_t)i * n + j;
    double g = (double)nbar[k] * gamma[j];
    abar[k] = train ? (wf_real)(r * (g - mg / m - xhat[k] * mgx / m)) : (wf_real)(r * g);
  }
}

void wf_cu_bn_forward(wf_ctx *ctx, const wf_real *a, int m, int n, const wf_real *gamma,
                      const wf_real *beta, wf_real *run_mean, wf_real *run_var, int train,
                      double momentum, wf_real *out, wf_real *xhat, wf_real *rstd) {
  if (m <= 0 || n <= 0) return;
  const int cb = wf_cu_pow2(n, WF_CU_COL_BLOCK);
  bn_forward_kernel<<<(unsigned int)((n + cb - 1) / cb), WF_CU_THREADS, 0, ctx->stream>>>(
      a, m, n, cb, gamma, beta, run_mean, run_var, train, momentum, out, xhat, rstd);
  WF_CU_LAUNCHED(ctx, "bn_forward");
}

void wf_cu_bn_backward(wf_ctx *ctx, const wf_real *nbar, const wf_real *xhat,
                       const wf_real *rstd, const wf_real *gamma, int m, int n, int train,
                       wf_real *abar, wf_real *dgamma, wf_real *dbeta) {
  if (m <= 0 || n <= 0) return;
  const int cb = wf_cu_pow2(n, WF_CU_COL_BLOCK);
  bn_backward_kernel<<<(unsigned int)((n + cb - 1) / cb), WF_CU_THREADS, 0, ctx->stream>>>(
      nbar, xhat, rstd, gamma, m, n, cb, train, abar, dgamma, dbeta);
  WF_CU_LAUNCHED(ctx, "bn_backward");
}
