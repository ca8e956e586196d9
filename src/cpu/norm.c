/* norm.c — LayerNorm (per row) and BatchNorm (per column) on the CPU.
 *
 * LayerNorm keeps xhat and rstd = 1/sqrt(var + eps) per row. Its double
 * backward (ln_double) is the reverse of the pair (out, out_dot):
 *   out_dot = gamma * r * (c_dot - s xhat),  c_dot = adot - mean(adot),
 *   s = mean(adot * xhat).
 * With p = nbar*gamma, q = ndbar*gamma, A = sum q c_dot, B = sum q xhat,
 *   w = -r (B adot / d + s q),  rho = A - s B,
 *   abar = LNback(p + w) - (r^2 rho / d) xhat,
 * LNback(v) = r (v - mean v - xhat mean(v xhat)). tests/c checks this
 * against finite differences.
 */
#include <math.h>
#include <stdlib.h>

#include "cpu.h"

#define NORM_EPS 1e-5

/* out, xhat [m x n] of a [m x n]; gamma, beta [n]; rstd [m] */
void wf_cpu_ln_forward(wf_ctx *ctx, const wf_real *a, int m, int n,
                       const wf_real *gamma, const wf_real *beta, wf_real *out,
                       wf_real *xhat, wf_real *rstd) {
  (void)ctx;
  for (int i = 0; i < m; i++) {
    const wf_real *ai = a + (size_t)i * n;
    double mean = 0, var = 0;
    for (int j = 0; j < n; j++) mean += ai[j];
    mean /= n;
    for (int j = 0; j < n; j++) var += (ai[j] - mean) * (ai[j] - mean);
    var /= n;
    double r = 1 / sqrt(var + NORM_EPS);
    rstd[i] = (wf_real)r;
    wf_real *xi = xhat + (size_t)i * n, *oi = out + (size_t)i * n;
    for (int j = 0; j < n; j++) {
      xi[j] = (wf_real)((ai[j] - mean) * r);
      oi[j] = gamma[j] * xi[j] + beta[j];
    }
  }
}

/* abar = LNback(v) for one row, v given */
static void ln_back_row(const wf_real *v, const wf_real *x, double r, int n,
                        wf_real *abar) {
  double mv = 0, mvx = 0;
  for (int j = 0; j < n; j++) {
    mv += v[j];
    mvx += (double)v[j] * x[j];
  }
  mv /= n;
  mvx /= n;
  for (int j = 0; j < n; j++) abar[j] = (wf_real)(r * (v[j] - mv - x[j] * mvx));
}

/* abar [m x n] from nbar, xhat [m x n], rstd [m]; dgamma, dbeta [n] += */
void wf_cpu_ln_backward(wf_ctx *ctx, const wf_real *nbar, const wf_real *xhat,
                        const wf_real *rstd, const wf_real *gamma, int m, int n,
                        wf_real *abar, wf_real *dgamma, wf_real *dbeta) {
  (void)ctx;
  wf_real *v = malloc(sizeof(wf_real) * (size_t)n);
  if (v == NULL) return;
  for (int i = 0; i < m; i++) {
    const wf_real *gi = nbar + (size_t)i * n, *xi = xhat + (size_t)i * n;
    for (int j = 0; j < n; j++) {
      v[j] = gi[j] * gamma[j];
      if (dgamma != NULL) dgamma[j] += gi[j] * xi[j];
      if (dbeta != NULL) dbeta[j] += gi[j];
    }
    ln_back_row(v, xi, rstd[i], n, abar + (size_t)i * n);
  }
  free(v);
}

/* xhat_dot, out_dot [m x n] from adot, xhat [m x n], rstd [m], gamma [n] */
void wf_cpu_ln_jvp(wf_ctx *ctx, const wf_real *adot, const wf_real *xhat,
                   const wf_real *rstd, const wf_real *gamma, int m, int n,
                   wf_real *xhat_dot, wf_real *out_dot) {
  (void)ctx;
  for (int i = 0; i < m; i++) {
    const wf_real *di = adot + (size_t)i * n, *xi = xhat + (size_t)i * n;
    wf_real *xd = xhat_dot + (size_t)i * n, *od = out_dot + (size_t)i * n;
    double r = rstd[i];
    double md = 0, s = 0;
    for (int j = 0; j < n; j++) {
      md += di[j];
      s += (double)di[j] * xi[j];
    }
    md /= n;
    s /= n;
    for (int j = 0; j < n; j++) {
      xd[j] = (wf_real)(r * (di[j] - md - xi[j] * s));
      od[j] = gamma[j] * xd[j];
    }
  }
}

/* abar [m x n] from nbar (or NULL), ndbar, adot, xhat, xhat_dot [m x n],
 * rstd [m], gamma [n]; dgamma [n] += and, with nbar, dbeta [n] += */
void wf_cpu_ln_double(wf_ctx *ctx, const wf_real *nbar, const wf_real *ndbar,
                      const wf_real *adot, const wf_real *xhat,
                      const wf_real *xhat_dot, const wf_real *rstd,
                      const wf_real *gamma, int m, int n, wf_real *abar,
                      wf_real *dgamma, wf_real *dbeta) {
  (void)ctx;
  wf_real *v = malloc(sizeof(wf_real) * (size_t)n);
  if (v == NULL) return;
  for (int i = 0; i < m; i++) {
    size_t o = (size_t)i * n;
    const wf_real *di = adot + o, *xi = xhat + o, *qi = ndbar + o;
    double r = rstd[i];
    double md = 0, s = 0, A = 0, B = 0;
    for (int j = 0; j < n; j++) {
      md += di[j];
      s += (double)di[j] * xi[j];
    }
    md /= n;
    s /= n;
    for (int j = 0; j < n; j++) {
      double q = (double)qi[j] * gamma[j];
      A += q * (di[j] - md);
      B += q * xi[j];
    }
    double rho = A - s * B;
    for (int j = 0; j < n; j++) {
      double q = (double)qi[j] * gamma[j];
      double p = nbar != NULL ? (double)nbar[o + j] * gamma[j] : 0.0;
      v[j] = (wf_real)(p - r * (B * di[j] / n + s * q));
      dgamma[j] += qi[j] * xhat_dot[o + j];
      if (nbar != NULL) {
        dgamma[j] += nbar[o + j] * xi[j];
        dbeta[j] += nbar[o + j];
      }
    }
    ln_back_row(v, xi, r, n, abar + o);
    for (int j = 0; j < n; j++) abar[o + j] -= (wf_real)(r * r * rho / n * xi[j]);
  }
  free(v);
}

/* out, xhat [m x n] of a [m x n]; gamma, beta, run_mean, run_var, rstd [n] */
void wf_cpu_bn_forward(wf_ctx *ctx, const wf_real *a, int m, int n,
                       const wf_real *gamma, const wf_real *beta,
                       wf_real *run_mean, wf_real *run_var, int train,
                       double momentum, wf_real *out, wf_real *xhat,
                       wf_real *rstd) {
  (void)ctx;
  double *mean = calloc((size_t)n * 2, sizeof(double));
  if (mean == NULL) return;
  double *var = mean + n;
  if (train) {
    for (int i = 0; i < m; i++)
      for (int j = 0; j < n; j++) mean[j] += a[(size_t)i * n + j];
    for (int j = 0; j < n; j++) mean[j] /= m;
    for (int i = 0; i < m; i++)
      for (int j = 0; j < n; j++) {
        double c = a[(size_t)i * n + j] - mean[j];
        var[j] += c * c;
      }
    for (int j = 0; j < n; j++) {
      var[j] /= m;
      run_mean[j] = (wf_real)((1 - momentum) * run_mean[j] + momentum * mean[j]);
      run_var[j] = (wf_real)((1 - momentum) * run_var[j] +
                             momentum * var[j] * m / (m - 1));
    }
  } else {
    for (int j = 0; j < n; j++) {
      mean[j] = run_mean[j];
      var[j] = run_var[j];
    }
  }
  for (int j = 0; j < n; j++) rstd[j] = (wf_real)(1 / sqrt(var[j] + NORM_EPS));
  for (int i = 0; i < m; i++)
    for (int j = 0; j < n; j++) {
      size_t k = (size_t)i * n + j;
      xhat[k] = (wf_real)((a[k] - mean[j]) * rstd[j]);
      out[k] = gamma[j] * xhat[k] + beta[j];
    }
  free(mean);
}

/* abar [m x n] from nbar, xhat [m x n], rstd, gamma [n]; dgamma, dbeta
 * [n] += (each may be NULL) */
void wf_cpu_bn_backward(wf_ctx *ctx, const wf_real *nbar, const wf_real *xhat,
                        const wf_real *rstd, const wf_real *gamma, int m, int n,
                        int train, wf_real *abar, wf_real *dgamma,
                        wf_real *dbeta) {
  (void)ctx;
  double *mg = calloc((size_t)n * 2, sizeof(double));
  if (mg == NULL) return;
  double *mgx = mg + n; /* column means of g and g * xhat, g = nbar * gamma */
  for (int i = 0; i < m; i++)
    for (int j = 0; j < n; j++) {
      size_t k = (size_t)i * n + j;
      mg[j] += (double)nbar[k] * gamma[j];
      mgx[j] += (double)nbar[k] * gamma[j] * xhat[k];
      if (dgamma != NULL) dgamma[j] += nbar[k] * xhat[k];
      if (dbeta != NULL) dbeta[j] += nbar[k];
    }
  for (int i = 0; i < m; i++)
    for (int j = 0; j < n; j++) {
      size_t k = (size_t)i * n + j;
      double g = (double)nbar[k] * gamma[j];
      abar[k] = train ? (wf_real)(rstd[j] * (g - mg[j] / m - xhat[k] * mgx[j] / m))
                      : (wf_real)(rstd[j] * g);
    }
  free(mg);
}
