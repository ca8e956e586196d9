/* ops.c — CPU memory, row/column reductions and the loss helpers. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cpu.h"

int wf_cpu_threads_for(size_t n) {
  int nt = wf_cpu_get_threads();
  return n < 32768 ? 1 : nt;
}

void *wf_cpu_alloc(size_t bytes) { return malloc(bytes > 0 ? bytes : 1); }
void wf_cpu_release(void *p) { free(p); }

wf_status wf_cpu_upload(wf_real *dst, const double *src, size_t n) {
  for (size_t i = 0; i < n; i++) dst[i] = (wf_real)src[i];
  return WF_OK;
}

wf_status wf_cpu_download(double *dst, const wf_real *src, size_t n) {
  for (size_t i = 0; i < n; i++) dst[i] = (double)src[i];
  return WF_OK;
}

void wf_cpu_copy(wf_real *dst, const wf_real *src, size_t n) {
  if (dst != src) memmove(dst, src, n * sizeof(wf_real));
}

void wf_cpu_fill(wf_real *x, size_t n, wf_real value) {
  for (size_t i = 0; i < n; i++) x[i] = value;
}

wf_status wf_cpu_last_error(char *msg) {
  msg[0] = '\0';
  return WF_OK;
}

WF_CLONES
static void add_bias_rows(wf_real *z, const wf_real *bias, int m, int n) {
  for (int i = 0; i < m; i++) {
    wf_real *row = z + (size_t)i * n;
    for (int j = 0; j < n; j++) row[j] += bias[j];
  }
}

void wf_cpu_add_bias(wf_real *z, const wf_real *bias, int m, int n) {
  int nt = wf_cpu_threads_for((size_t)m * n);
  WF_OMP_CHUNKS(nt)
  for (int t = 0; t < nt; t++) {
    int i0 = (int)((long)m * t / nt), i1 = (int)((long)m * (t + 1) / nt);
    add_bias_rows(z + (size_t)i0 * n, bias, i1 - i0, n);
  }
}

WF_CLONES
static void col_sum_cols(const wf_real *a, int m, int n, int j0, int j1,
                         wf_real *out) {
  for (int i = 0; i < m; i++) {
    const wf_real *row = a + (size_t)i * n;
    for (int j = j0; j < j1; j++) out[j] += row[j];
  }
}

void wf_cpu_col_sum(const wf_real *a, int m, int n, wf_real *out) {
  int nt = n >= 32 ? wf_cpu_threads_for((size_t)m * n) : 1;
  WF_OMP_CHUNKS(nt)
  for (int t = 0; t < nt; t++) /* threads own column ranges: no races */
    col_sum_cols(a, m, n, (int)((long)n * t / nt), (int)((long)n * (t + 1) / nt),
                 out);
}

WF_CLONES
void wf_cpu_axpy(size_t n, wf_real alpha, const wf_real *x, wf_real *y) {
  for (size_t i = 0; i < n; i++) y[i] += alpha * x[i];
}

double wf_cpu_dot(const wf_real *x, const wf_real *w, size_t n) {
  double s = 0;
  if (w == NULL)
    for (size_t i = 0; i < n; i++) s += x[i];
  else
    for (size_t i = 0; i < n; i++) s += (double)x[i] * w[i];
  return s;
}

void wf_cpu_lerp_rows(const wf_real *a, const wf_real *b, const wf_real *t,
                      int m, int d, wf_real *out) {
  for (int i = 0; i < m; i++)
    for (int j = 0; j < d; j++) {
      size_t k = (size_t)i * d + j;
      out[k] = t[i] * a[k] + (1 - t[i]) * b[k];
    }
}

void wf_cpu_penalty_dir(const wf_real *g, int m, int d, wf_penalty kind,
                        double lambda, wf_real *u, double *value,
                        double *mean_norm) {
  double total = 0, norms = 0;
  for (int i = 0; i < m; i++) {
    const wf_real *gi = g + (size_t)i * d;
    wf_real *ui = u + (size_t)i * d;
    double sq = 0;
    for (int j = 0; j < d; j++) sq += (double)gi[j] * gi[j];
    double norm = sqrt(sq), excess = norm - 1;
    if (kind == WF_PENALTY_LP && excess < 0) excess = 0;
    total += excess * excess;
    norms += norm;
    /* d/dg of lambda/m * excess^2 = 2 lambda/m * excess * g/|g| */
    double scale = norm > 0 ? 2.0 * lambda / m * excess / norm : 0.0;
    for (int j = 0; j < d; j++) ui[j] = (wf_real)(scale * gi[j]);
  }
  *value = lambda * total / m;
  *mean_norm = norms / m;
}

void wf_cpu_sample_rows(const wf_real *data, int n, int d, const wf_real *u,
                        int m, wf_real *out) {
  for (int i = 0; i < m; i++) {
    int r = (int)(u[i] * n);
    if (r >= n) r = n - 1;
    if (r < 0) r = 0;
    memcpy(out + (size_t)i * d, data + (size_t)r * d, sizeof(wf_real) * (size_t)d);
  }
}

void wf_cpu_mse_grad(const wf_real *y, const wf_real *target, int m, int d,
                     wf_real *dy, double *mse) {
  double s = 0;
  wf_real scale = (wf_real)(2.0 / m);
  for (size_t k = 0; k < (size_t)m * d; k++) {
    wf_real r = y[k] - target[k];
    s += (double)r * r;
    dy[k] = scale * r;
  }
  *mse = s / m;
}

double wf_cpu_mean_row_norm(const wf_real *g, int m, int d) {
  double total = 0;
  for (int i = 0; i < m; i++) {
    double sq = 0;
    for (int j = 0; j < d; j++) sq += (double)g[(size_t)i * d + j] * g[(size_t)i * d + j];
    total += sqrt(sq);
  }
  return total / m;
}
