/* rows.cu — row operations: squared norms and distances, row scaling and
 * interpolation, gathering rows by index, and the row argmin of OTS.
 * A row reduction uses a group of lanes per row (a power of two <= 32,
 * from the row's width), or a whole block for the argmin of long rows. */
#include <limits.h>

#include "cuda_ops.h"

/* rows of a grouped kernel: the bound is the same for the whole block, so
 * every lane reaches the group's shuffles; `ok` marks a real row */
#define GROUP_ROWS_BEGIN(row, ok, m, width)                                         \
  const int rows_ = blockDim.x / (width), grp_ = threadIdx.x / (width);             \
  for (size_t base_ = (size_t)blockIdx.x * rows_; base_ < (size_t)(m);              \
       base_ += (size_t)gridDim.x * rows_) {                                       \
    const size_t row = base_ + grp_;                                               \
    const bool ok = row < (size_t)(m);
#define GROUP_ROWS_END }

static unsigned int group_grid(int m, int width) {
  return wf_cu_grid_cap((size_t)m, (size_t)(WF_CU_THREADS / width), WF_CU_MAX_GRID);
}

/* out [m] = |a_i - b_i|^2 (b NULL: |a_i|^2) for a, b [m x d], all in double
 * as cpu/rows.c */
static __global__ void row_sq_kernel(const wf_real *a, const wf_real *b, int m, int d,
                                     int width, wf_real *out) {
  const int sub = threadIdx.x & (width - 1);
  GROUP_ROWS_BEGIN(row, ok, m, width)
    double s = 0;
    if (ok)
      for (int j = sub; j < d; j += width) {
        size_t k = row * d + j;
        double x = b != NULL ? (double)a[k] - b[k] : (double)a[k];
        s += x * x;
      }
    s = wf_cu_group_sum(s, width);
    if (ok && sub == 0) out[row] = (wf_real)s;
  GROUP_ROWS_END
}

static void row_sq(wf_ctx *ctx, const wf_real *a, const wf_real *b, int m, int d,
                   wf_real *out, const char *what) {
  if (m <= 0 || d < 0) return;
  const int width = wf_cu_pow2(d, 32);
  row_sq_kernel<<<group_grid(m, width), WF_CU_THREADS, 0, ctx->stream>>>(a, b, m, d, width,
                                                                         out);
  WF_CU_LAUNCHED(ctx, what);
}

void wf_cu_row_sq_norm(wf_ctx *ctx, const wf_real *x, int m, int d, wf_real *out) {
  row_sq(ctx, x, NULL, m, d, out, "row_sq_norm");
}

void wf_cu_row_sq_dist(wf_ctx *ctx, const wf_real *a, const wf_real *b, int m, int d,
                       wf_real *out) {
  row_sq(ctx, a, b, m, d, out, "row_sq_dist");
}

/* out [m x d] = s [m] (row) * x [m x d]; out may alias x */
static __global__ void row_scale_kernel(const wf_real *x, const wf_real *s, int m, int d,
                                        wf_real *out) {
  const size_t total = (size_t)m * d;
  WF_CU_FOR(k, total) {
    size_t i;
    unsigned int j;
    wf_cu_divmod(k, (unsigned int)d, &i, &j);
    out[k] = s[i] * x[k];
  }
}

void wf_cu_row_scale(wf_ctx *ctx, const wf_real *x, const wf_real *s, int m, int d,
                     wf_real *out) {
  if (m <= 0 || d <= 0) return;
  row_scale_kernel<<<wf_cu_grid((size_t)m * d), WF_CU_THREADS, 0, ctx->stream>>>(x, s, m, d,
                                                                                 out);
  WF_CU_LAUNCHED(ctx, "row_scale");
}

/* out [m x d] = t [m] * a + (1 - t) * b, as cpu/rows.c: each product
 * rounded alone (no FMA), so the interpolates are the CPU's bit for bit */
static __global__ void row_lerp_kernel(const wf_real *a, const wf_real *b, const wf_real *t,
                                       int m, int d, wf_real *out) {
  const size_t total = (size_t)m * d;
  WF_CU_FOR(k, total) {
    size_t i;
    unsigned int j;
    wf_cu_divmod(k, (unsigned int)d, &i, &j);
    const wf_real ti = t[i];
    out[k] = __fadd_rn(__fmul_rn(ti, a[k]), __fmul_rn(1 - ti, b[k]));
  }
}

void wf_cu_row_lerp(wf_ctx *ctx, const wf_real *a, const wf_real *b, const wf_real *t, int m,
                    int d, wf_real *out) {
  if (m <= 0 || d <= 0) return;
  row_lerp_kernel<<<wf_cu_grid((size_t)m * d), WF_CU_THREADS, 0, ctx->stream>>>(a, b, t, m, d,
                                                                                out);
  WF_CU_LAUNCHED(ctx, "row_lerp");
}

/* out [m x d] row i = src row idx[i] (src rows of width d) */
static __global__ void gather_rows_kernel(const wf_real *src, int d, const int *idx, int m,
                                          wf_real *out) {
  const size_t total = (size_t)m * d;
  WF_CU_FOR(k, total) {
    size_t i;
    unsigned int j;
    wf_cu_divmod(k, (unsigned int)d, &i, &j);
    out[k] = src[(size_t)idx[i] * d + j];
  }
}

void wf_cu_gather_rows(wf_ctx *ctx, const wf_real *src, int d, const int *idx, int m,
                       wf_real *out) {
  if (m <= 0 || d <= 0) return;
  gather_rows_kernel<<<wf_cu_grid((size_t)m * d), WF_CU_THREADS, 0, ctx->stream>>>(src, d, idx,
                                                                                   m, out);
  WF_CU_LAUNCHED(ctx, "gather_rows");
}

/* ---- row argmin ---------------------------------------------------------------
 * The result is the CPU's sequential scan (best = a[0]; take a[j] < best):
 * a[0] if it is NaN, else the first minimum among the non-NaN values. In
 * parallel: lanes skip NaNs, pairs compare by (value, index), so ties go to
 * the smallest index whatever the order of combination. */
#define NO_INDEX INT_MAX

static __device__ __forceinline__ bool argmin_better(wf_real v2, int j2, wf_real v1, int j1) {
  return j2 != NO_INDEX && (j1 == NO_INDEX || v2 < v1 || (v2 == v1 && j2 < j1));
}

/* a lane's scan, j increasing */
static __device__ __forceinline__ void argmin_take(wf_real x, int j, wf_real &bv, int &bj) {
  if (x == x && (bj == NO_INDEX || x < bv)) {
    bv = x;
    bj = j;
  }
}

/* butterfly over groups of width lanes: every lane ends with the group's best */
static __device__ __forceinline__ void argmin_group(wf_real &bv, int &bj, int width) {
  for (int off = width >> 1; off > 0; off >>= 1) {
    wf_real ov = __shfl_xor_sync(0xffffffffu, bv, off, width);
    int oj = __shfl_xor_sync(0xffffffffu, bj, off, width);
    if (argmin_better(ov, oj, bv, bj)) {
      bv = ov;
      bj = oj;
    }
  }
}

/* idx, val [m] from a [m x n]: groups of width lanes per row */
static __global__ void row_argmin_group_kernel(const wf_real *a, int m, int n, int width,
                                               int *idx, wf_real *val) {
  const int sub = threadIdx.x & (width - 1);
  GROUP_ROWS_BEGIN(row, ok, m, width)
    const wf_real *ai = a + row * n;
    wf_real bv = 0;
    int bj = NO_INDEX;
    if (ok)
      for (int j = sub; j < n; j += width) argmin_take(ai[j], j, bv, bj);
    argmin_group(bv, bj, width);
    if (ok && sub == 0) {
      const wf_real a0 = ai[0];
      if (a0 != a0) {
        bv = a0;
        bj = 0;
      }
      idx[row] = bj;
      if (val != NULL) val[row] = bv;
    }
  GROUP_ROWS_END
}

/* idx, val [m] from a [m x n]: a block per row, for long rows */
static __global__ void row_argmin_block_kernel(const wf_real *a, int m, int n, int *idx,
                                               wf_real *val) {
  __shared__ wf_real sv[WF_CU_WARPS];
  __shared__ int sj[WF_CU_WARPS];
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
  for (size_t row = blockIdx.x; row < (size_t)m; row += gridDim.x) {
    const wf_real *ai = a + row * n;
    wf_real bv = 0;
    int bj = NO_INDEX;
    for (int j = threadIdx.x; j < n; j += blockDim.x) argmin_take(ai[j], j, bv, bj);
    argmin_group(bv, bj, 32);
    __syncthreads(); /* the previous row's reader is done with sv, sj */
    if (lane == 0) {
      sv[warp] = bv;
      sj[warp] = bj;
    }
    __syncthreads();
    if (threadIdx.x == 0) {
      for (int w = 1; w < (int)(blockDim.x >> 5); w++)
        if (argmin_better(sv[w], sj[w], bv, bj)) {
          bv = sv[w];
          bj = sj[w];
        }
      const wf_real a0 = ai[0];
      if (a0 != a0) {
        bv = a0;
        bj = 0;
      }
      idx[row] = bj;
      if (val != NULL) val[row] = bv;
    }
  }
}

/* rows at least this long get a block each */
#define ARGMIN_BLOCK_ROW 2048

void wf_cu_row_argmin(wf_ctx *ctx, const wf_real *a, int m, int n, int *idx, wf_real *val) {
  if (m <= 0 || n <= 0) return; /* no column to choose: nothing written */
  if (n >= ARGMIN_BLOCK_ROW) {
    row_argmin_block_kernel<<<wf_cu_grid_cap((size_t)m, 1, WF_CU_MAX_GRID), WF_CU_THREADS, 0,
                              ctx->stream>>>(a, m, n, idx, val);
  } else {
    const int width = wf_cu_pow2(n, 32);
    row_argmin_group_kernel<<<group_grid(m, width), WF_CU_THREADS, 0, ctx->stream>>>(
        a, m, n, width, idx, val);
  }
  WF_CU_LAUNCHED(ctx, "row_argmin");
}
