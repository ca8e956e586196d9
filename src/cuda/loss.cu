/* loss.cu — the elementwise losses, the row-norm losses (gradient
 * penalties) and the softmax cross-entropy over rows, each one launch:
 * gradients written per element, values reduced in double into device
 * scalar slots through wf_cu_sink_add (deterministic: no float atomics, a
 * fixed summation order). */
#include <math.h>

#include "cuda_ops.h"

/* items per thread before a reduction adds a block */
#define LOSS_ITEMS 4

/* dy [k] = g, or dy [k] += g, rounded as the CPU's separate add (no FMA) */
static __device__ __forceinline__ void put(wf_real *dy, size_t k, wf_real g,
                                           int accumulate) {
  dy[k] = accumulate ? __fadd_rn(dy[k], g) : g;
}

/* y, t [n] (t NULL: the target); dy [n] (=|+=) s * dL/dy if not NULL; the
 * sum of the loss terms into sink slot 0 (times s there). The arithmetic is
 * cpu/loss.c's: residuals in float with t = (float)target (MSE, L1,
 * SQ_HINGE, EXP), LINEAR and BCE_LOGITS on the double t_k or target; c the
 * float gradient factor, (float)(2 s) or (float)s. Products that meet an
 * add are rounded alone (__fmul_rn), as on the CPU. */
static __global__ void loss_kernel(int kind, double s, wf_real c, double target,
                                   int accumulate, const wf_real *y, const wf_real *t,
                                   size_t n, wf_real *dy, int want_value, wf_cu_sink sink) {
  const wf_real tr = (wf_real)target;
  double v[1] = {0.0};
  WF_CU_FOR(k, n) {
    double val;
    switch (kind) {
    case WF_LOSS_LINEAR: {
      double tk = t != NULL ? (double)t[k] : target;
      val = (double)y[k] * tk;
      if (dy != NULL) put(dy, k, (wf_real)(s * tk), accumulate);
      break;
    }
    case WF_LOSS_MSE: {
      wf_real r = y[k] - (t != NULL ? t[k] : tr);
      val = (double)r * r;
      if (dy != NULL) put(dy, k, __fmul_rn(c, r), accumulate);
      break;
    }
    case WF_LOSS_L1: {
      wf_real r = y[k] - (t != NULL ? t[k] : tr);
      val = fabs((double)r);
      if (dy != NULL) put(dy, k, r > 0 ? c : (r < 0 ? -c : (wf_real)0), accumulate);
      break;
    }
    case WF_LOSS_BCE_LOGITS: {
      double yk = y[k], tk = t != NULL ? (double)t[k] : target;
      /* softplus(y) - t y without overflow for large |y| */
      double e = exp(-fabs(yk));
      val = (yk > 0 ? yk : 0) - tk * yk + log1p(e);
      if (dy != NULL) {
        double sig = yk >= 0 ? 1 / (1 + e) : e / (1 + e);
        put(dy, k, (wf_real)(s * (sig - tk)), accumulate);
      }
      break;
    }
    case WF_LOSS_EXP: {
      wf_real r = y[k] - (t != NULL ? t[k] : tr);
      val = exp((double)r);
      if (dy != NULL) put(dy, k, (wf_real)(s * val), accumulate);
      break;
    }
    default: { /* WF_LOSS_SQ_HINGE */
      wf_real r = y[k] - (t != NULL ? t[k] : tr);
      wf_real h = r > 0 ? r : (wf_real)0;
      val = (double)h * h;
      if (dy != NULL) put(dy, k, __fmul_rn(c, h), accumulate);
      break;
    }
    }
    v[0] += val;
  }
  if (want_value) wf_cu_sink_add<1>(v, sink);
}

void wf_cu_loss(wf_ctx *ctx, const wf_loss_spec *ls, const wf_real *y, const wf_real *t,
                size_t n, wf_real *dy, double *slot) {
  if ((int)ls->kind < 0 || (int)ls->kind >= (int)WF_LOSS_COUNT) {
    wf_cu_fail(ctx, WF_ERR_ARG, "loss: unknown kind %d", (int)ls->kind);
    return;
  }
  if (n == 0 || (dy == NULL && slot == NULL)) return;
  const int twice = ls->kind == WF_LOSS_MSE || ls->kind == WF_LOSS_SQ_HINGE;
  const wf_real c = (wf_real)(twice ? 2.0 * ls->scale : ls->scale);
  wf_cu_sink sink = wf_cu_sink_make(ctx);
  sink.slot[0] = slot;
  sink.mul[0] = ls->scale; /* slot += scale * total, as the CPU */
  /* a value's grid depends on n alone (its summation order with it) */
  const unsigned int grid =
      slot != NULL ? wf_cu_grid_cap(n, (size_t)WF_CU_THREADS * LOSS_ITEMS, WF_CU_MAX_PARTIALS)
                   : wf_cu_grid(n);
  loss_kernel<<<grid, WF_CU_THREADS, 0, ctx->stream>>>((int)ls->kind, ls->scale, c,
                                                        ls->target, ls->accumulate != 0, y, t,
                                                        n, dy, slot != NULL, sink);
  WF_CU_LAUNCHED(ctx, "loss");
}

/* g [m x d] in groups of `width` lanes per row (a power of two <= 32, from
 * d): r = |g_i| in double; u [m x d] = (float)(coef * g) (u may alias g),
 * coef in double as cpu/loss.c; sink slot 0 gets scale * sum phi, slot 1
 * sum r / m. */
static __global__ void row_norm_loss_kernel(int kind, const wf_real *g, int m, int d,
                                            int width, double scale, wf_real *u,
                                            int want_value, wf_cu_sink sink) {
  const int rows = blockDim.x / width, grp = threadIdx.x / width;
  const int sub = threadIdx.x & (width - 1);
  double acc[2] = {0.0, 0.0}; /* sum phi, sum r */
  /* the loop bound is the same for a whole block, so every lane reaches
   * the shuffles; lanes past the last row sum zeros */
  for (size_t base = (size_t)blockIdx.x * rows; base < (size_t)m;
       base += (size_t)gridDim.x * rows) {
    const size_t row = base + grp;
    const bool ok = row < (size_t)m;
    const wf_real *gi = g + row * d;
    double sq = 0;
    if (ok)
      for (int j = sub; j < d; j += width) sq += (double)gi[j] * gi[j];
    sq = wf_cu_group_sum(sq, width);
    if (!ok) continue;
    const double r = sqrt(sq);
    double phi, coef;
    switch (kind) {
    case WF_ROWNORM_NORM: /* coef 0 where r is 0 (or NaN), as the CPU */
      phi = r;
      coef = r > 0 ? scale / r : 0.0;
      break;
    case WF_ROWNORM_GP:
    case WF_ROWNORM_LP: {
      double e = r - 1;
      if (kind == WF_ROWNORM_LP && e < 0) e = 0;
      phi = e * e;
      coef = r > 0 ? 2.0 * scale * e / r : 0.0;
      break;
    }
    default: /* WF_ROWNORM_HALF_SQ: r^2 / 2 taken as sq / 2, as the CPU */
      phi = 0.5 * sq;
      coef = scale;
      break;
    }
    if (u != NULL)
      for (int j = sub; j < d; j += width) u[row * d + j] = (wf_real)(coef * gi[j]);
    if (sub == 0) {
      acc[0] += phi;
      acc[1] += r;
    }
  }
  if (want_value) wf_cu_sink_add<2>(acc, sink);
}

void wf_cu_row_norm_loss(wf_ctx *ctx, wf_rownorm_kind kind, const wf_real *g, int m, int d,
                         double scale, wf_real *u, double *slot, double *norm_slot) {
  if ((int)kind < 0 || (int)kind >= (int)WF_ROWNORM_COUNT) {
    wf_cu_fail(ctx, WF_ERR_ARG, "row_norm_loss: unknown kind %d", (int)kind);
    return;
  }
  if (m <= 0 || d < 0 || (u == NULL && slot == NULL && norm_slot == NULL)) return;
  const int want = slot != NULL || norm_slot != NULL;
  const int width = wf_cu_pow2(d, 32), rows = WF_CU_THREADS / width;
  wf_cu_sink sink = wf_cu_sink_make(ctx);
  sink.slot[0] = slot;
  sink.mul[0] = scale;
  sink.slot[1] = norm_slot;
  sink.div[1] = (double)m;
  const unsigned int grid =
      wf_cu_grid_cap((size_t)m, (size_t)rows, want ? WF_CU_MAX_PARTIALS : WF_CU_MAX_GRID);
  row_norm_loss_kernel<<<grid, WF_CU_THREADS, 0, ctx->stream>>>(
      (int)kind, g, m, d, width, scale, u, want, sink);
  WF_CU_LAUNCHED(ctx, "row_norm_loss");
}

/* The largest of v over aligned groups of `width` lanes, by butterfly
 * (every lane of a group ends with it). All 32 lanes must call it. */
static __device__ __forceinline__ double group_max(double v, int width) {
  for (int off = width >> 1; off > 0; off >>= 1)
    v = fmax(v, __shfl_xor_sync(0xffffffffu, v, off, width));
  return v;
}

/* Softmax cross-entropy, rows of y [m x k] in groups of `width` lanes (a
 * power of two <= 32, from k): the row's max and sum of exponentials in
 * double (group reductions), lse = max + log(sum); dy [m x k] =
 * (float)(s (exp(y - lse) - onehot)); sink slot 0 gets s * sum_i
 * (lse_i - y_i,label_i). A label out of range gives NaN (its row is never
 * read at it). */
static __global__ void softmax_xent_kernel(const wf_real *y, const int *labels, int m,
                                           int k, int width, double s, wf_real *dy,
                                           int want_value, wf_cu_sink sink) {
  const int rows = blockDim.x / width, grp = threadIdx.x / width;
  const int sub = threadIdx.x & (width - 1);
  double acc[1] = {0.0};
  /* the loop bound is the same for a whole block, so every lane reaches
   * the shuffles; lanes past the last row reduce nothing */
  for (size_t base = (size_t)blockIdx.x * rows; base < (size_t)m;
       base += (size_t)gridDim.x * rows) {
    const size_t row = base + grp;
    const bool ok = row < (size_t)m;
    const wf_real *yi = y + row * k;
    double mx = -INFINITY;
    if (ok)
      for (int j = sub; j < k; j += width) mx = fmax(mx, (double)yi[j]);
    mx = group_max(mx, width);
    double se = 0;
    if (ok)
      for (int j = sub; j < k; j += width) se += exp((double)yi[j] - mx);
    se = wf_cu_group_sum(se, width);
    if (!ok) continue;
    const double lse = mx + log(se);
    const int li = labels[row];
    const bool in = li >= 0 && li < k;
    if (dy != NULL)
      for (int j = sub; j < k; j += width) {
        const double p = exp((double)yi[j] - lse);
        dy[row * k + j] = (wf_real)(in ? s * (p - (j == li ? 1.0 : 0.0)) : (double)NAN);
      }
    if (sub == 0) acc[0] += in ? lse - (double)yi[li] : (double)NAN;
  }
  if (want_value) wf_cu_sink_add<1>(acc, sink);
}

void wf_cu_softmax_xent(wf_ctx *ctx, const wf_real *y, const int *labels, int m, int k,
                        double scale, wf_real *dy, double *slot) {
  if (m <= 0 || k <= 0 || (dy == NULL && slot == NULL)) return;
  const int width = wf_cu_pow2(k, 32), rows = WF_CU_THREADS / width;
  wf_cu_sink sink = wf_cu_sink_make(ctx);
  sink.slot[0] = slot;
  sink.mul[0] = scale; /* slot += scale * total, as the CPU */
  /* a value's grid depends on m and k alone (its summation order with it) */
  const unsigned int grid = wf_cu_grid_cap((size_t)m, (size_t)rows,
                                           slot != NULL ? WF_CU_MAX_PARTIALS : WF_CU_MAX_GRID);
  softmax_xent_kernel<<<grid, WF_CU_THREADS, 0, ctx->stream>>>(y, labels, m, k, width, scale,
                                                                dy, slot != NULL, sink);
  WF_CU_LAUNCHED(ctx, "softmax_xent");
}
