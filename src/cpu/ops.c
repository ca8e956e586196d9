/* ops.c — bias rows, column sums, the level-1 ops and the count of
 * non-finite values on the CPU. */
#include <math.h>

#include "cpu.h"

WF_CLONES
void wf_cpu_add_bias_rows(wf_real *z /* [m x n] */, const wf_real *bias /* [n] */,
                          int m, int n) {
  for (int i = 0; i < m; i++) {
    wf_real *row = z + (size_t)i * n;
    for (int j = 0; j < n; j++) row[j] += bias[j];
  }
}

/* z[m x n] += bias[n] on every row */
void wf_cpu_add_bias(wf_ctx *ctx, wf_real *z, const wf_real *bias, int m,
                     int n) {
  int nt = wf_cpu_threads_for(ctx, (size_t)m * n);
  WF_OMP_CHUNKS(nt)
  for (int t = 0; t < nt; t++) {
    int i0 = (int)((long)m * t / nt), i1 = (int)((long)m * (t + 1) / nt);
    wf_cpu_add_bias_rows(z + (size_t)i0 * n, bias, i1 - i0, n);
  }
}

WF_CLONES
void wf_cpu_col_sum_cols(const wf_real *a /* [m x n] */, int m, int n, int j0,
                         int j1, wf_real *out /* [n] */) {
  for (int i = 0; i < m; i++) {
    const wf_real *row = a + (size_t)i * n;
    for (int j = j0; j < j1; j++) out[j] += row[j];
  }
}

/* out[n] += sum over rows of a[m x n] */
void wf_cpu_col_sum(wf_ctx *ctx, const wf_real *a, int m, int n, wf_real *out) {
  int nt = n >= 32 ? wf_cpu_threads_for(ctx, (size_t)m * n) : 1;
  WF_OMP_CHUNKS(nt)
  for (int t = 0; t < nt; t++) /* threads own column ranges: no races */
    wf_cpu_col_sum_cols(a, m, n, (int)((long)n * t / nt),
                        (int)((long)n * (t + 1) / nt), out);
}

WF_CLONES
void wf_cpu_axpy_range(size_t n, wf_real alpha, const wf_real *x, wf_real *y) {
  for (size_t i = 0; i < n; i++) y[i] += alpha * x[i];
}

/* y[n] += alpha * x[n] */
void wf_cpu_axpy(wf_ctx *ctx, size_t n, wf_real alpha, const wf_real *x,
                 wf_real *y) {
  (void)ctx;
  wf_cpu_axpy_range(n, alpha, x, y);
}

WF_CLONES
static void scal_range(size_t n, wf_real alpha, wf_real *x) {
  for (size_t i = 0; i < n; i++) x[i] *= alpha;
}

/* x[n] *= alpha */
void wf_cpu_scal(wf_ctx *ctx, size_t n, wf_real alpha, wf_real *x) {
  (void)ctx;
  scal_range(n, alpha, x);
}

/* *slot += the number of x[n] that are not finite; once per training epoch
 * per net, so one plain loop */
void wf_cpu_count_nonfinite(wf_ctx *ctx, const wf_real *x, size_t n, double *slot) {
  (void)ctx;
  size_t bad = 0;
  for (size_t i = 0; i < n; i++) bad += !isfinite(x[i]);
  *slot += (double)bad;
}
