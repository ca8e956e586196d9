/* test_ops_norm.c — LayerNorm and BatchNorm (cpu/norm.c): forward,
 * backward, the tangent and the double backward of LayerNorm, and
 * BatchNorm's passes and running statistics, against double references and
 * finite differences. Built in double and float (and avx2_*); ends with
 * "ops norm <precision>: N passed, N failed". */
#include "ops_test_util.h"

/* ---- LayerNorm ------------------------------------------------------------ */
typedef struct {
  int m, n;
  double *a, *gamma, *beta, *nbar, *ndbar, *adot; /* nbar may be NULL */
} ln_case;

/* out, xhat [m x n] and rstd [m] of a [m x n] in double */
static void ln_ref(const ln_case *c, double *out, double *xhat, double *rstd) {
  int n = c->n;
  for (int i = 0; i < c->m; i++) {
    const double *ai = c->a + (size_t)i * n;
    double mean = 0, var = 0;
    for (int j = 0; j < n; j++) mean += ai[j];
    mean /= n;
    for (int j = 0; j < n; j++) var += (ai[j] - mean) * (ai[j] - mean);
    var /= n;
    double r = 1 / sqrt(var + NORM_EPS);
    rstd[i] = r;
    for (int j = 0; j < n; j++) {
      size_t o = (size_t)i * n + j;
      xhat[o] = (ai[j] - mean) * r;
      out[o] = c->gamma[j] * xhat[o] + c->beta[j];
    }
  }
}

/* xhat_dot [m x n] = J adot, from the double forward */
static void ln_jvp_ref(const ln_case *c, const double *xhat, const double *rstd,
                       double *xd) {
  int n = c->n;
  for (int i = 0; i < c->m; i++) {
    const double *di = c->adot + (size_t)i * n, *xi = xhat + (size_t)i * n;
    double md = 0, s = 0;
    for (int j = 0; j < n; j++) {
      md += di[j];
      s += di[j] * xi[j];
    }
    md /= n;
    s /= n;
    for (int j = 0; j < n; j++)
      xd[(size_t)i * n + j] = rstd[i] * (di[j] - md - xi[j] * s);
  }
}

/* sum nbar * out + sum ndbar * out_dot (terms of NULL weights left out) */
static double ln_objective(void *closure) {
  const ln_case *c = closure;
  size_t mn = (size_t)c->m * c->n;
  double *out = malloc(sizeof(double) * mn), *xhat = malloc(sizeof(double) * mn);
  double *xd = malloc(sizeof(double) * mn), *rstd = malloc(sizeof(double) * c->m);
  ln_ref(c, out, xhat, rstd);
  double f = 0;
  if (c->nbar != NULL)
    for (size_t k = 0; k < mn; k++) f += c->nbar[k] * out[k];
  if (c->ndbar != NULL) {
    ln_jvp_ref(c, xhat, rstd, xd);
    for (size_t k = 0; k < mn; k++) f += c->ndbar[k] * c->gamma[k % c->n] * xd[k];
  }
  free(out);
  free(xhat);
  free(xd);
  free(rstd);
  return f;
}

static void layernorm_passes_match_finite_differences(void) {
  const wf_backend *be = D.be;
  static const int shapes[][2] = {{4, 1}, {3, 5}, {4, 37}};
  for (int s = 0; s < 3; s++) {
    int m = shapes[s][0], n = shapes[s][1];
    size_t mn = (size_t)m * n;
    ln_case c = {m, n, ou_rnorm(&D, mn, 2), ou_runif(&D, (size_t)n, 0.5, 1.5),
                 ou_rnorm(&D, (size_t)n, 1), ou_rnorm(&D, mn, 1),
                 ou_rnorm(&D, mn, 1), ou_rnorm(&D, mn, 1)};
    for (size_t k = 0; k < mn; k++) c.a[k] += (double)(k / n); /* row shifts */
    ou_round(c.a, mn);
    ou_round(c.gamma, (size_t)n);
    ou_round(c.beta, (size_t)n);
    ou_round(c.nbar, mn);
    ou_round(c.ndbar, mn);
    ou_round(c.adot, mn);
    double *rout = ou_vec(&D, mn), *rxhat = ou_vec(&D, mn);
    double *rrstd = ou_vec(&D, (size_t)m), *rxd = ou_vec(&D, mn);
    ln_ref(&c, rout, rxhat, rrstd);
    ln_jvp_ref(&c, rxhat, rrstd, rxd);

    wf_real *a = ou_up(&D, c.a, mn), *gamma = ou_up(&D, c.gamma, (size_t)n);
    wf_real *beta = ou_up(&D, c.beta, (size_t)n), *out = ou_up(&D, NULL, mn);
    wf_real *xhat = ou_up(&D, NULL, mn), *rstd = ou_up(&D, NULL, (size_t)m);
    be->ln_forward(D.ctx, a, m, n, gamma, beta, out, xhat, rstd);
    CHECK(scaled_err(ou_down(&D, out, mn), rout, mn) < NORM_TOL &&
              scaled_err(ou_down(&D, xhat, mn), rxhat, mn) < NORM_TOL &&
              scaled_err(ou_down(&D, rstd, (size_t)m), rrstd, (size_t)m) <
                  NORM_TOL,
          "ln_forward %d x %d", m, n);

    /* backward: abar = d/da sum(nbar * out); dgamma, dbeta accumulate */
    double *fa = ou_vec(&D, mn), *fg = ou_vec(&D, (size_t)n);
    double *fb = ou_vec(&D, (size_t)n), *pre = ou_rnorm(&D, (size_t)n, 1);
    ou_round(pre, (size_t)n);
    double *saved = c.ndbar;
    c.ndbar = NULL;
    fd_grad(ln_objective, &c, c.a, mn, 1e-5, fa);
    fd_grad(ln_objective, &c, c.gamma, (size_t)n, 1e-5, fg);
    fd_grad(ln_objective, &c, c.beta, (size_t)n, 1e-5, fb);
    c.ndbar = saved;
    wf_real *nbar = ou_up(&D, c.nbar, mn), *abar = ou_up(&D, NULL, mn);
    wf_real *dg = ou_up(&D, pre, (size_t)n), *db = ou_up(&D, pre, (size_t)n);
    be->ln_backward(D.ctx, nbar, xhat, rstd, gamma, m, n, abar, dg, db);
    double *ga = ou_down(&D, abar, mn), *gg = ou_down(&D, dg, (size_t)n);
    double *gb = ou_down(&D, db, (size_t)n);
    for (int j = 0; j < n; j++) {
      gg[j] -= pre[j];
      gb[j] -= pre[j];
    }
    CHECK(scaled_err(ga, fa, mn) < NORM_TOL, "ln_backward abar %d x %d: %g", m,
          n, scaled_err(ga, fa, mn));
    CHECK(scaled_err(gg, fg, (size_t)n) < NORM_TOL &&
              scaled_err(gb, fb, (size_t)n) < NORM_TOL,
          "ln_backward dgamma / dbeta %d x %d", m, n);
    wf_real *abar2 = ou_up(&D, NULL, mn);
    be->ln_backward(D.ctx, nbar, xhat, rstd, gamma, m, n, abar2, NULL, NULL);
    CHECK(same(ou_down(&D, abar2, mn), ga, mn), "ln_backward without dgamma");

    /* jvp: xhat_dot = J adot, out_dot = gamma xhat_dot */
    wf_real *adot = ou_up(&D, c.adot, mn), *xd = ou_up(&D, NULL, mn);
    wf_real *od = ou_up(&D, NULL, mn);
    be->ln_jvp(D.ctx, adot, xhat, rstd, gamma, m, n, xd, od);
    double *fxd = ou_vec(&D, mn), *fod = ou_vec(&D, mn);
    {
      double h = 1e-5, *ap = ou_vec(&D, mn), *am = ou_vec(&D, mn);
      double *o1 = ou_vec(&D, mn), *x1 = ou_vec(&D, mn), *o2 = ou_vec(&D, mn);
      double *x2 = ou_vec(&D, mn), *r1 = ou_vec(&D, (size_t)m);
      for (size_t k = 0; k < mn; k++) {
        ap[k] = c.a[k] + h * c.adot[k];
        am[k] = c.a[k] - h * c.adot[k];
      }
      ln_case cp = c, cm = c;
      cp.a = ap;
      cm.a = am;
      ln_ref(&cp, o1, x1, r1);
      ln_ref(&cm, o2, x2, r1);
      for (size_t k = 0; k < mn; k++) {
        fxd[k] = (x1[k] - x2[k]) / (2 * h);
        fod[k] = (o1[k] - o2[k]) / (2 * h);
      }
    }
    CHECK(scaled_err(ou_down(&D, xd, mn), fxd, mn) < NORM_TOL &&
              scaled_err(ou_down(&D, od, mn), fod, mn) < NORM_TOL,
          "ln_jvp %d x %d vs finite differences", m, n);

    /* double: the reverse of (out, out_dot), with and without nbar */
    for (int with_nbar = 0; with_nbar < 2; with_nbar++) {
      double *keep = c.nbar;
      if (!with_nbar) c.nbar = NULL;
      fd_grad(ln_objective, &c, c.a, mn, 1e-5, fa);
      fd_grad(ln_objective, &c, c.gamma, (size_t)n, 1e-5, fg);
      fd_grad(ln_objective, &c, c.beta, (size_t)n, 1e-5, fb);
      c.nbar = keep;
      wf_real *ab = ou_up(&D, NULL, mn), *dg2 = ou_up(&D, pre, (size_t)n);
      wf_real *db2 = ou_up(&D, pre, (size_t)n);
      be->ln_double(D.ctx, with_nbar ? nbar : NULL, ou_up(&D, c.ndbar, mn),
                    adot, xhat, xd, rstd, gamma, m, n, ab, dg2, db2);
      double *g1 = ou_down(&D, ab, mn), *g2 = ou_down(&D, dg2, (size_t)n);
      double *g3 = ou_down(&D, db2, (size_t)n);
      for (int j = 0; j < n; j++) {
        g2[j] -= pre[j];
        g3[j] -= pre[j];
      }
      CHECK(scaled_err(g1, fa, mn) < NORM_TOL, "ln_double abar %d x %d nbar %d: %g",
            m, n, with_nbar, scaled_err(g1, fa, mn));
      CHECK(scaled_err(g2, fg, (size_t)n) < NORM_TOL, "ln_double dgamma %d x %d "
            "nbar %d: %g", m, n, with_nbar, scaled_err(g2, fg, (size_t)n));
      if (with_nbar)
        CHECK(scaled_err(g3, fb, (size_t)n) < NORM_TOL, "ln_double dbeta");
      else
        CHECK(scaled_err(g3, fb, (size_t)n) == 0, "ln_double leaves dbeta "
              "alone without nbar");
    }
    ou_reset(&D);
  }
}

/* ---- BatchNorm ------------------------------------------------------------ */
typedef struct {
  int m, n, train;
  double momentum;
  double *a, *gamma, *beta, *rm, *rv, *nbar;
} bn_case;

/* out, xhat [m x n]; rstd, new running stats [n] */
static void bn_ref(const bn_case *c, double *out, double *xhat, double *rstd,
                   double *new_rm, double *new_rv) {
  int m = c->m, n = c->n;
  for (int j = 0; j < n; j++) {
    double mean = 0, var = 0;
    if (c->train) {
      for (int i = 0; i < m; i++) mean += c->a[(size_t)i * n + j];
      mean /= m;
      for (int i = 0; i < m; i++) {
        double e = c->a[(size_t)i * n + j] - mean;
        var += e * e;
      }
      var /= m;
      if (new_rm != NULL) {
        new_rm[j] = (1 - c->momentum) * c->rm[j] + c->momentum * mean;
        new_rv[j] = (1 - c->momentum) * c->rv[j] + c->momentum * var * m / (m - 1);
      }
    } else {
      mean = c->rm[j];
      var = c->rv[j];
    }
    double r = 1 / sqrt(var + NORM_EPS);
    rstd[j] = r;
    for (int i = 0; i < m; i++) {
      size_t o = (size_t)i * n + j;
      xhat[o] = (c->a[o] - mean) * r;
      out[o] = c->gamma[j] * xhat[o] + c->beta[j];
    }
  }
}

static double bn_objective(void *closure) {
  const bn_case *c = closure;
  size_t mn = (size_t)c->m * c->n;
  double *out = malloc(sizeof(double) * mn), *xhat = malloc(sizeof(double) * mn);
  double *rstd = malloc(sizeof(double) * c->n);
  bn_ref(c, out, xhat, rstd, NULL, NULL);
  double f = 0;
  for (size_t k = 0; k < mn; k++) f += c->nbar[k] * out[k];
  free(out);
  free(xhat);
  free(rstd);
  return f;
}

static void batchnorm_passes_and_running_stats_match_their_references(void) {
  const wf_backend *be = D.be;
  /* m >= 3: with two rows xhat is +-1 and abar all but vanishes */
  static const int shapes[][2] = {{3, 1}, {6, 4}, {33, 3}};
  for (int s = 0; s < 3; s++)
    for (int train = 0; train < 2; train++) {
      int m = shapes[s][0], n = shapes[s][1];
      size_t mn = (size_t)m * n;
      bn_case c = {m, n, train, 0.1, ou_rnorm(&D, mn, 2),
                   ou_runif(&D, (size_t)n, 0.5, 1.5), ou_rnorm(&D, (size_t)n, 1),
                   ou_rnorm(&D, (size_t)n, 0.3), ou_runif(&D, (size_t)n, 0.5, 2),
                   ou_rnorm(&D, mn, 1)};
      for (size_t k = 0; k < mn; k++) c.a[k] += (double)(k % n); /* column shifts */
      ou_round(c.a, mn);
      ou_round(c.gamma, (size_t)n);
      ou_round(c.beta, (size_t)n);
      ou_round(c.rm, (size_t)n);
      ou_round(c.rv, (size_t)n);
      ou_round(c.nbar, mn);
      double *rout = ou_vec(&D, mn), *rxhat = ou_vec(&D, mn);
      double *rrstd = ou_vec(&D, (size_t)n), *rrm = ou_vec(&D, (size_t)n);
      double *rrv = ou_vec(&D, (size_t)n);
      bn_ref(&c, rout, rxhat, rrstd, rrm, rrv);

      wf_real *gamma = ou_up(&D, c.gamma, (size_t)n);
      wf_real *rm = ou_up(&D, c.rm, (size_t)n), *rv = ou_up(&D, c.rv, (size_t)n);
      wf_real *out = ou_up(&D, NULL, mn), *xhat = ou_up(&D, NULL, mn);
      wf_real *rstd = ou_up(&D, NULL, (size_t)n);
      be->bn_forward(D.ctx, ou_up(&D, c.a, mn), m, n, gamma,
                     ou_up(&D, c.beta, (size_t)n), rm, rv, train, c.momentum,
                     out, xhat, rstd);
      CHECK(scaled_err(ou_down(&D, out, mn), rout, mn) < NORM_TOL &&
                scaled_err(ou_down(&D, xhat, mn), rxhat, mn) < NORM_TOL &&
                scaled_err(ou_down(&D, rstd, (size_t)n), rrstd, (size_t)n) <
                    NORM_TOL,
            "bn_forward %d x %d train %d", m, n, train);
      double *grm = ou_down(&D, rm, (size_t)n), *grv = ou_down(&D, rv, (size_t)n);
      if (train)
        CHECK(scaled_err(grm, rrm, (size_t)n) < NORM_TOL &&
                  scaled_err(grv, rrv, (size_t)n) < NORM_TOL,
              "bn_forward running statistics %d x %d", m, n);
      else
        CHECK(same(grm, c.rm, (size_t)n) && same(grv, c.rv, (size_t)n),
              "bn_forward eval leaves the running statistics alone");

      double *fa = ou_vec(&D, mn), *fg = ou_vec(&D, (size_t)n);
      double *fb = ou_vec(&D, (size_t)n), *pre = ou_rnorm(&D, (size_t)n, 1);
      ou_round(pre, (size_t)n);
      fd_grad(bn_objective, &c, c.a, mn, 1e-5, fa);
      fd_grad(bn_objective, &c, c.gamma, (size_t)n, 1e-5, fg);
      fd_grad(bn_objective, &c, c.beta, (size_t)n, 1e-5, fb);
      wf_real *abar = ou_up(&D, NULL, mn), *dg = ou_up(&D, pre, (size_t)n);
      wf_real *db = ou_up(&D, pre, (size_t)n), *nbar = ou_up(&D, c.nbar, mn);
      be->bn_backward(D.ctx, nbar, xhat, rstd, gamma, m, n, train, abar, dg, db);
      double *ga = ou_down(&D, abar, mn), *gg = ou_down(&D, dg, (size_t)n);
      double *gb = ou_down(&D, db, (size_t)n);
      for (int j = 0; j < n; j++) {
        gg[j] -= pre[j];
        gb[j] -= pre[j];
      }
      CHECK(scaled_err(ga, fa, mn) < NORM_TOL, "bn_backward abar %d x %d train "
            "%d: %g", m, n, train, scaled_err(ga, fa, mn));
      CHECK(scaled_err(gg, fg, (size_t)n) < NORM_TOL &&
                scaled_err(gb, fb, (size_t)n) < NORM_TOL,
            "bn_backward dgamma / dbeta %d x %d train %d", m, n, train);
      wf_real *abar2 = ou_up(&D, NULL, mn);
      be->bn_backward(D.ctx, nbar, xhat, rstd, gamma, m, n, train, abar2, NULL,
                      NULL);
      CHECK(same(ou_down(&D, abar2, mn), ga, mn), "bn_backward without dgamma");
      ou_reset(&D);
    }
}

int main(void) {
  ops_open();
  layernorm_passes_match_finite_differences();
  batchnorm_passes_and_running_stats_match_their_references();
  return ops_finish("norm");
}
