/* rows.c — operations on the rows of a matrix (one sample per row), on the
 * CPU. Rows are independent, so long inputs are split over threads by rows
 * and results do not depend on the thread count. */
#include <string.h>

#include "cpu.h"

/* first row of thread th's share of m rows among nt */
static inline int row_lo(int m, int th, int nt) {
  return (int)((long)m * th / nt);
}

/* Threads for an op over m rows of width w (wf_cpu_threads_for). */
static inline int row_threads(const wf_ctx *ctx, int m, int w) {
  return wf_cpu_threads_for(ctx, (size_t)m * (size_t)(w > 0 ? w : 1));
}

static void sq_norm_rows(const wf_real *x /* [m x d] */, int i0, int i1, int d,
                         wf_real *out /* [m] */) {
  for (int i = i0; i < i1; i++) {
    const wf_real *xi = x + (size_t)i * d;
    double s = 0;
    for (int j = 0; j < d; j++) s += (double)xi[j] * xi[j];
    out[i] = (wf_real)s;
  }
}

/* out[m] = |x_i|^2, x [m x d], summed in double */
void wf_cpu_row_sq_norm(wf_ctx *ctx, const wf_real *x, int m, int d,
                        wf_real *out) {
  int nt = row_threads(ctx, m, d);
  WF_OMP_CHUNKS(nt)
  for (int th = 0; th < nt; th++)
    sq_norm_rows(x, row_lo(m, th, nt), row_lo(m, th + 1, nt), d, out);
}

static void sq_dist_rows(const wf_real *a, const wf_real *b /* [m x d] */,
                         int i0, int i1, int d, wf_real *out /* [m] */) {
  for (int i = i0; i < i1; i++) {
    const wf_real *ai = a + (size_t)i * d, *bi = b + (size_t)i * d;
    double s = 0;
    for (int j = 0; j < d; j++) {
      double e = (double)ai[j] - bi[j];
      s += e * e;
    }
    out[i] = (wf_real)s;
  }
}

/* out[m] = |a_i - b_i|^2, a and b [m x d], in double */
void wf_cpu_row_sq_dist(wf_ctx *ctx, const wf_real *a, const wf_real *b, int m,
                        int d, wf_real *out) {
  int nt = row_threads(ctx, m, d);
  WF_OMP_CHUNKS(nt)
  for (int th = 0; th < nt; th++)
    sq_dist_rows(a, b, row_lo(m, th, nt), row_lo(m, th + 1, nt), d, out);
}

WF_CLONES
void wf_cpu_scale_rows(const wf_real *x /* [m x d] */, const wf_real *s /* [m] */,
                       int i0, int i1, int d, wf_real *out /* [m x d] */) {
  for (int i = i0; i < i1; i++) {
    const wf_real *xi = x + (size_t)i * d;
    wf_real *oi = out + (size_t)i * d, si = s[i];
    for (int j = 0; j < d; j++) oi[j] = si * xi[j];
  }
}

/* out[i,] = s[i] * x[i,] (out may alias x) */
void wf_cpu_row_scale(wf_ctx *ctx, const wf_real *x, const wf_real *s, int m,
                      int d, wf_real *out) {
  int nt = row_threads(ctx, m, d);
  WF_OMP_CHUNKS(nt)
  for (int th = 0; th < nt; th++)
    wf_cpu_scale_rows(x, s, row_lo(m, th, nt), row_lo(m, th + 1, nt), d, out);
}

/* not cloned: an FMA would change the interpolates of the pre-v2 code */
static void lerp_rows(const wf_real *a, const wf_real *b /* [m x d] */,
                      const wf_real *t /* [m] */, int i0, int i1, int d,
                      wf_real *out /* [m x d] */) {
  for (int i = i0; i < i1; i++)
    for (int j = 0; j < d; j++) {
      size_t k = (size_t)i * d + j;
      out[k] = t[i] * a[k] + (1 - t[i]) * b[k];
    }
}

/* out[i,] = t[i] * a[i,] + (1 - t[i]) * b[i,], in wf_real */
void wf_cpu_row_lerp(wf_ctx *ctx, const wf_real *a, const wf_real *b,
                     const wf_real *t, int m, int d, wf_real *out) {
  int nt = row_threads(ctx, m, d);
  WF_OMP_CHUNKS(nt)
  for (int th = 0; th < nt; th++)
    lerp_rows(a, b, t, row_lo(m, th, nt), row_lo(m, th + 1, nt), d, out);
}

static void gather(const wf_real *src /* [? x d] */, int d,
                   const int *idx /* [m] */, int i0, int i1,
                   wf_real *out /* [m x d] */) {
  for (int i = i0; i < i1; i++)
    memcpy(out + (size_t)i * d, src + (size_t)idx[i] * d,
           sizeof(wf_real) * (size_t)d);
}

/* out[i,] = src[idx[i],] */
void wf_cpu_gather_rows(wf_ctx *ctx, const wf_real *src, int d, const int *idx,
                        int m, wf_real *out) {
  if (d <= 0) return;
  int nt = row_threads(ctx, m, d);
  WF_OMP_CHUNKS(nt)
  for (int th = 0; th < nt; th++)
    gather(src, d, idx, row_lo(m, th, nt), row_lo(m, th + 1, nt), out);
}

WF_CLONES
static void argmin_rows(const wf_real *a /* [m x n] */, int i0, int i1, int n,
                        int *idx /* [m] */, wf_real *val /* [m] or NULL */) {
  for (int i = i0; i < i1; i++) {
    const wf_real *ai = a + (size_t)i * n;
    int best = 0;
    wf_real low = ai[0];
    for (int j = 1; j < n; j++)
      if (ai[j] < low) { /* strict: ties keep the first */
        low = ai[j];
        best = j;
      }
    idx[i] = best;
    if (val != NULL) val[i] = low;
  }
}

/* idx[i] = the first j minimising a[i, j] over n >= 1 columns; val[i] the
 * minimum (val may be NULL) */
void wf_cpu_row_argmin(wf_ctx *ctx, const wf_real *a, int m, int n, int *idx,
                       wf_real *val) {
  if (n <= 0) return;
  int nt = row_threads(ctx, m, n);
  WF_OMP_CHUNKS(nt)
  for (int th = 0; th < nt; th++)
    argmin_rows(a, row_lo(m, th, nt), row_lo(m, th + 1, nt), n, idx, val);
}
