/* loss.c — elementwise losses on network outputs, and functions of the row
 * norms of a gradient (the penalty directions), on the CPU.
 *
 * Each adds its value into a scalar slot and writes its gradient. Values
 * are summed in double over parts (cpu.h: the rounding does not depend on
 * the thread count). The gradient arithmetic is pinned, because W1-FE runs
 * must reproduce the pre-v2 code bit for bit:
 *   - residuals r = y - t are taken in wf_real (MSE, L1, SQ_HINGE), with
 *     t = (wf_real)target when t is NULL; LINEAR and BCE_LOGITS work on
 *     (double)t_k, or on the double target;
 *   - MSE writes (wf_real)(2 s) * r: with s = 1/m that is the old
 *     (wf_real)(2.0 / m) * (y - t), since doubling commutes with rounding;
 *   - GP / LP directions: coef = 2.0 * s * excess / r in double, left to
 *     right, then u = (wf_real)(coef * g), the old penalty_dir with
 *     s = lambda / m.
 * These loops are not cloned (cpu.h): an FMA would round differently.
 */
#include <math.h>

#include "cpu.h"

/* dy[k] = g, or dy[k] += g */
static inline void put(wf_real *dy, size_t k, wf_real g, int accumulate) {
  dy[k] = accumulate ? dy[k] + g : g;
}

/* Entries [lo, hi) of y and t ([n] each; t may be NULL): returns the sum of
 * the unscaled loss terms; writes (or adds) s * dL/dy into dy if not NULL. */
static double loss_range(const wf_loss_spec *ls, const wf_real *y,
                         const wf_real *t, size_t lo, size_t hi, wf_real *dy) {
  const double s = ls->scale;
  const int acc = ls->accumulate;
  const wf_real tr = (wf_real)ls->target; /* t_k in wf_real when t is NULL */
  double sum = 0;
  switch (ls->kind) {
  case WF_LOSS_LINEAR:
    for (size_t k = lo; k < hi; k++) {
      double tk = t != NULL ? (double)t[k] : ls->target;
      sum += (double)y[k] * tk;
      if (dy != NULL) put(dy, k, (wf_real)(s * tk), acc);
    }
    break;
  case WF_LOSS_MSE: {
    const wf_real c = (wf_real)(2.0 * s);
    for (size_t k = lo; k < hi; k++) {
      wf_real r = y[k] - (t != NULL ? t[k] : tr);
      sum += (double)r * r;
      if (dy != NULL) put(dy, k, c * r, acc);
    }
    break;
  }
  case WF_LOSS_L1: {
    const wf_real c = (wf_real)s;
    for (size_t k = lo; k < hi; k++) {
      wf_real r = y[k] - (t != NULL ? t[k] : tr);
      sum += fabs((double)r);
      if (dy != NULL) put(dy, k, r > 0 ? c : (r < 0 ? -c : 0), acc);
    }
    break;
  }
  case WF_LOSS_BCE_LOGITS:
    for (size_t k = lo; k < hi; k++) {
      double yk = y[k], tk = t != NULL ? (double)t[k] : ls->target;
      /* softplus(y) - t y, without overflow for large |y| */
      sum += (yk > 0 ? yk : 0) - tk * yk + log1p(exp(-fabs(yk)));
      if (dy != NULL) {
        double e = exp(-fabs(yk));
        double sig = yk >= 0 ? 1 / (1 + e) : e / (1 + e);
        put(dy, k, (wf_real)(s * (sig - tk)), acc);
      }
    }
    break;
  case WF_LOSS_SQ_HINGE: {
    const wf_real c = (wf_real)(2.0 * s);
    for (size_t k = lo; k < hi; k++) {
      wf_real r = y[k] - (t != NULL ? t[k] : tr);
      wf_real h = r > 0 ? r : 0;
      sum += (double)h * h;
      if (dy != NULL) put(dy, k, c * h, acc);
    }
    break;
  }
  case WF_LOSS_EXP:
    for (size_t k = lo; k < hi; k++) {
      wf_real r = y[k] - (t != NULL ? t[k] : tr);
      double e = exp((double)r);
      sum += e;
      if (dy != NULL) put(dy, k, (wf_real)(s * e), acc);
    }
    break;
  default:
    break;
  }
  return sum;
}

/* *slot += s * L(y[n], t[n] or target); dy[n] = (or +=) s * dL/dy */
void wf_cpu_loss(wf_ctx *ctx, const wf_loss_spec *ls, const wf_real *y,
                 const wf_real *t, size_t n, wf_real *dy, double *slot) {
  size_t len = wf_cpu_part_len(n, 1);
  int parts = (int)((n + len - 1) / len);
  double partial[WF_CPU_PARTS];
  int nt = wf_cpu_threads_for(ctx, n);
  WF_OMP_CHUNKS(nt)
  for (int p = 0; p < parts; p++) {
    size_t lo = (size_t)p * len, hi = lo + len < n ? lo + len : n;
    partial[p] = loss_range(ls, y, t, lo, hi, dy);
  }
  if (slot == NULL) return;
  double total = 0;
  for (int p = 0; p < parts; p++) total += partial[p];
  *slot += ls->scale * total;
}

/* Rows [i0, i1) of g [m x d]: adds phi(r_i) and r_i into sums[0], sums[1];
 * writes u_i = coef_i * g_i if u [m x d] is not NULL. */
static void row_norm_range(wf_rownorm_kind kind, const wf_real *g, int i0,
                           int i1, int d, double scale, wf_real *u,
                           double sums[2]) {
  double phis = 0, norms = 0;
  for (int i = i0; i < i1; i++) {
    const wf_real *gi = g + (size_t)i * d;
    double sq = 0;
    for (int j = 0; j < d; j++) sq += (double)gi[j] * gi[j];
    double norm = sqrt(sq), phi, coef;
    switch (kind) {
    case WF_ROWNORM_NORM:
      phi = norm;
      coef = norm > 0 ? scale / norm : 0.0;
      break;
    case WF_ROWNORM_GP:
    case WF_ROWNORM_LP: {
      double excess = norm - 1;
      if (kind == WF_ROWNORM_LP && excess < 0) excess = 0;
      phi = excess * excess;
      coef = norm > 0 ? 2.0 * scale * excess / norm : 0.0;
      break;
    }
    case WF_ROWNORM_HALF_SQ:
      phi = 0.5 * sq;
      coef = scale;
      break;
    default:
      phi = coef = 0;
      break;
    }
    phis += phi;
    norms += norm;
    if (u != NULL) {
      wf_real *ui = u + (size_t)i * d;
      for (int j = 0; j < d; j++) ui[j] = (wf_real)(coef * gi[j]);
    }
  }
  sums[0] = phis;
  sums[1] = norms;
}

/* *slot += scale * sum_i phi(|g_i|), *norm_slot += mean_i |g_i|, and the
 * direction u [m x d] = scale * phi'(r_i) g_i / r_i, of g [m x d] */
void wf_cpu_row_norm_loss(wf_ctx *ctx, wf_rownorm_kind kind, const wf_real *g,
                          int m, int d, double scale, wf_real *u, double *slot,
                          double *norm_slot) {
  if (m <= 0) return;
  int len = (int)wf_cpu_part_len((size_t)m, d > 0 ? (size_t)d : 1);
  int parts = (m + len - 1) / len;
  double partial[WF_CPU_PARTS][2];
  int nt = wf_cpu_threads_for(ctx, (size_t)m * (d > 0 ? d : 1));
  WF_OMP_CHUNKS(nt)
  for (int p = 0; p < parts; p++) {
    int i0 = p * len, i1 = i0 + len < m ? i0 + len : m;
    row_norm_range(kind, g, i0, i1, d, scale, u, partial[p]);
  }
  double phis = 0, norms = 0;
  for (int p = 0; p < parts; p++) {
    phis += partial[p][0];
    norms += partial[p][1];
  }
  if (slot != NULL) *slot += scale * phis;
  if (norm_slot != NULL) *norm_slot += norms / m;
}

/* Rows [i0, i1) of the logits y [m x k]: returns sum_i (lse_i - y_i,l_i)
 * and writes dy_ij = (wf_real)(s (softmax_ij - [j == l_i])) if dy is not
 * NULL. */
static double xent_range(const wf_real *y, const int *labels, int i0, int i1,
                         int k, double s, wf_real *dy) {
  double sum = 0;
  for (int i = i0; i < i1; i++) {
    const wf_real *yi = y + (size_t)i * k;
    const int li = labels[i];
    double mx = yi[0];
    for (int j = 1; j < k; j++)
      if ((double)yi[j] > mx) mx = yi[j];
    double se = 0;
    for (int j = 0; j < k; j++) se += exp((double)yi[j] - mx);
    const double lse = mx + log(se);
    const int ok = li >= 0 && li < k;
    sum += ok ? lse - (double)yi[li] : NAN;
    if (dy != NULL) {
      wf_real *di = dy + (size_t)i * k;
      for (int j = 0; j < k; j++) {
        double p = exp((double)yi[j] - lse);
        di[j] = (wf_real)(ok ? s * (p - (j == li ? 1.0 : 0.0)) : NAN);
      }
    }
  }
  return sum;
}

/* *slot += s * sum_i (lse_i - y_i,label_i); dy [m x k] = s (softmax - onehot) */
void wf_cpu_softmax_xent(wf_ctx *ctx, const wf_real *y, const int *labels, int m,
                         int k, double scale, wf_real *dy, double *slot) {
  if (m <= 0 || k <= 0) return;
  int len = (int)wf_cpu_part_len((size_t)m, (size_t)k);
  int parts = (m + len - 1) / len;
  double partial[WF_CPU_PARTS];
  int nt = wf_cpu_threads_for(ctx, (size_t)m * k);
  WF_OMP_CHUNKS(nt)
  for (int p = 0; p < parts; p++) {
    int i0 = p * len, i1 = i0 + len < m ? i0 + len : m;
    partial[p] = xent_range(y, labels, i0, i1, k, scale, dy);
  }
  if (slot == NULL) return;
  double total = 0;
  for (int p = 0; p < parts; p++) total += partial[p];
  *slot += scale * total;
}
