/* test_ops_loss.c — the losses (cpu/loss.c): every loss kind's value
 * and gradient against double references and finite differences (and the
 * arithmetic they pin), the row-norm losses of the gradient penalties, and
 * softmax cross-entropy over rows; 1 vs 2 threads bit for bit. Built in
 * double and float (and avx2_*); ends with "ops loss <precision>: N passed,
 * N failed". */
#include "ops_test_util.h"

/* ---- losses ------------------------------------------------------------------ */
/* one term L(y, t) of a loss kind, in double */
static double loss_term(wf_loss_kind kind, double y, double t) {
  double r = y - t;
  switch (kind) {
  case WF_LOSS_LINEAR: return y * t;
  case WF_LOSS_MSE: return r * r;
  case WF_LOSS_L1: return fabs(r);
  case WF_LOSS_BCE_LOGITS: return fmax(y, 0) - t * y + log1p(exp(-fabs(y)));
  case WF_LOSS_SQ_HINGE: return r > 0 ? r * r : 0;
  case WF_LOSS_EXP: return exp(r);
  default: return 0;
  }
}

static void loss_case(wf_loss_kind kind, size_t n, int with_t, double scale) {
  const wf_backend *be = D.be;
  double target = kind == WF_LOSS_BCE_LOGITS ? 0.75 : 0.3;
  double *hy = ou_vec(&D, n), *ht = ou_vec(&D, n), *tk = ou_vec(&D, n);
  for (size_t k = 0; k < n; k++) {
    ht[k] = kind == WF_LOSS_BCE_LOGITS ? ou_unif(&D) : ou_norm(&D);
    ht[k] = (wf_real)ht[k];
    tk[k] = with_t ? ht[k] : target;
    double y;
    do { /* away from the kink at y = t */
      y = (wf_real)(2 * ou_norm(&D));
      if (kind == WF_LOSS_BCE_LOGITS && k % 50 == 0) y = k % 100 ? 800 : -800;
    } while (fabs(y - (double)(wf_real)tk[k]) < 1e-3);
    hy[k] = y;
  }
  /* the residual kinds take a NULL t as the target rounded to wf_real */
  int residual = kind == WF_LOSS_MSE || kind == WF_LOSS_L1 ||
                 kind == WF_LOSS_SQ_HINGE || kind == WF_LOSS_EXP;
  if (!with_t && residual)
    for (size_t k = 0; k < n; k++) tk[k] = (double)(wf_real)target;
  wf_loss_spec ls = {.kind = kind, .scale = scale, .target = target};
  wf_real *y = ou_up(&D, hy, n), *t = with_t ? ou_up(&D, ht, n) : NULL;
  wf_real *dy = ou_up(&D, NULL, n);
  double *slots = ou_slots(&D, 3);
  be->loss(D.ctx, &ls, y, t, n, dy, slots);
  double *g = ou_down(&D, dy, n);

  /* value against the double terms; gradient against finite differences */
  double value = 0, mag = 0;
  int bad = 0, exact = 1;
  for (size_t k = 0; k < n; k++) {
    double term = loss_term(kind, hy[k], tk[k]);
    value += term;
    mag += fabs(term);
    double h = 1e-6 * fmax(1, fabs(hy[k]));
    double fd = scale * (loss_term(kind, hy[k] + h, tk[k]) -
                         loss_term(kind, hy[k] - h, tk[k])) / (2 * h);
    bad += !(fabs(g[k] - fd) <= FD_TOL * (fabs(fd) + fabs(scale)));
    /* the pinned arithmetic */
    if (kind == WF_LOSS_MSE)
      exact &= g[k] == (double)((wf_real)(2.0 * scale) *
                                (wf_real)((wf_real)hy[k] - (wf_real)tk[k]));
    if (kind == WF_LOSS_LINEAR) exact &= g[k] == (double)(wf_real)(scale * tk[k]);
    if (kind == WF_LOSS_EXP)
      exact &= g[k] == (double)(wf_real)(scale * exp((double)(wf_real)((wf_real)hy[k] -
                                                                      (wf_real)tk[k])));
  }
  double got = ou_slot(&D, slots, 0);
  /* terms to a few eps of wf_real; n double roundings in either sum */
  double tol = 16 * EPS + (double)n * DBL_EPSILON;
  CHECK(fabs(got - scale * value) <= tol * fabs(scale) * mag + DBL_MIN,
        "loss %d n %zu t %d: value %.17g want %.17g", kind, n, with_t, got,
        scale * value);
  CHECK(bad == 0, "loss %d n %zu t %d: %d gradients off the finite differences",
        kind, n, with_t, bad);
  CHECK(exact, "loss %d n %zu: the gradient's pinned arithmetic", kind, n);

  /* accumulate adds; dy NULL gives the value only; slot NULL the gradient */
  double *pre = ou_rnorm(&D, n, 1);
  ou_round(pre, n);
  wf_real *dy2 = ou_up(&D, pre, n);
  ls.accumulate = 1;
  be->loss(D.ctx, &ls, y, t, n, dy2, NULL);
  double *g2 = ou_down(&D, dy2, n);
  exact = 1;
  for (size_t k = 0; k < n; k++) exact &= g2[k] == (double)((wf_real)pre[k] + (wf_real)g[k]);
  CHECK(exact, "loss %d accumulate adds the gradient", kind);
  be->loss(D.ctx, &ls, y, t, n, NULL, slots + 1);
  CHECK(ou_slot(&D, slots, 1) == got, "loss %d with dy NULL: the same value", kind);
  ou_reset(&D);
}

static void losses_and_gradients_match_their_formulas(void) {
  static const size_t sizes[] = {1, 7, 1000, 50000};
  for (int kind = 0; kind < WF_LOSS_COUNT; kind++)
    for (int s = 0; s < 4; s++)
      for (int with_t = 0; with_t < 2; with_t++)
        loss_case((wf_loss_kind)kind, sizes[s], with_t, s == 1 ? 1.0 / 7 : 0.37);

  /* MSE at scale 1/m is the pre-v2 mse_grad, bit for bit */
  const wf_backend *be = D.be;
  static const int ms[] = {7, 512, 1030};
  for (int c = 0; c < 3; c++) {
    int m = ms[c], d = 3;
    size_t n = (size_t)m * d;
    double *hy = ou_rnorm(&D, n, 1), *ht = ou_rnorm(&D, n, 1);
    ou_round(hy, n);
    ou_round(ht, n);
    wf_loss_spec ls = {.kind = WF_LOSS_MSE, .scale = 1.0 / m};
    wf_real *dy = ou_up(&D, NULL, n);
    double *slot = ou_slots(&D, 1);
    be->loss(D.ctx, &ls, ou_up(&D, hy, n), ou_up(&D, ht, n), n, dy, slot);
    double *g = ou_down(&D, dy, n), s = 0;
    int exact = 1;
    wf_real scale = (wf_real)(2.0 / m); /* the old code */
    for (size_t k = 0; k < n; k++) {
      wf_real r = (wf_real)hy[k] - (wf_real)ht[k];
      s += (double)r * r;
      exact &= g[k] == (double)(scale * r);
    }
    CHECK(exact, "MSE at scale 1/%d is the old mse_grad", m);
    double v = ou_slot(&D, slot, 0);
    CHECK(fabs(v - s / m) <= 2 * DBL_EPSILON * (s / m), "MSE value %.17g vs %.17g",
          v, s / m);
    ou_reset(&D);
  }

  /* a slot's rounding does not depend on the thread count */
  size_t n = 100003;
  double *hy = ou_rnorm(&D, n, 1), *ht = ou_rnorm(&D, n, 1);
  for (int kind = 0; kind < WF_LOSS_COUNT; kind++) {
    double v[2], *g[2];
    for (int th = 1; th <= 2; th++) {
      threads(th);
      wf_loss_spec ls = {.kind = (wf_loss_kind)kind, .scale = 0.01};
      wf_real *dy = ou_up(&D, NULL, n);
      double *slot = ou_slots(&D, 1);
      be->loss(D.ctx, &ls, ou_up(&D, hy, n), ou_up(&D, ht, n), n, dy, slot);
      v[th - 1] = ou_slot(&D, slot, 0);
      g[th - 1] = ou_down(&D, dy, n);
    }
    threads(1);
    CHECK(v[0] == v[1] && same(g[0], g[1], n), "loss %d: 1 and 2 threads differ",
          kind);
  }
  ou_reset(&D);
}

/* ---- functions of row norms ------------------------------------------------- */
static double phi_ref(wf_rownorm_kind kind, double r) {
  switch (kind) {
  case WF_ROWNORM_NORM: return r;
  case WF_ROWNORM_GP: return (r - 1) * (r - 1);
  case WF_ROWNORM_LP: return r > 1 ? (r - 1) * (r - 1) : 0;
  case WF_ROWNORM_HALF_SQ: return r * r / 2;
  default: return 0;
  }
}

typedef struct {
  wf_rownorm_kind kind;
  int d;
  double *row; /* the row being differentiated */
} rn_case;

static double rn_objective(void *closure) {
  const rn_case *c = closure;
  double sq = 0;
  for (int j = 0; j < c->d; j++) sq += c->row[j] * c->row[j];
  return phi_ref(c->kind, sqrt(sq));
}

static void rownorm_case(wf_rownorm_kind kind, int m, int d) {
  const wf_backend *be = D.be;
  size_t md = (size_t)m * d;
  double *hg = ou_vec(&D, md), *norms = ou_vec(&D, (size_t)m);
  for (int i = 0; i < m; i++) {
    double *gi = hg + (size_t)i * d, sq;
    do { /* rows of norm below and above 1, away from the kink at 1 */
      double sd = (0.2 + 2 * ou_unif(&D)) / sqrt((double)d);
      sq = 0;
      for (int j = 0; j < d; j++) {
        gi[j] = (wf_real)(sd * ou_norm(&D));
        sq += gi[j] * gi[j];
      }
    } while (fabs(sqrt(sq) - 1) < 1e-3);
    if (m > 1 && i == m / 2) /* a zero row: no direction */
      for (int j = 0; j < d; j++) gi[j] = 0;
    norms[i] = i == m / 2 && m > 1 ? 0 : sqrt(sq);
  }
  double scale = 10.0 / m; /* lambda / m */
  wf_real *g = ou_up(&D, hg, md), *u = ou_up(&D, NULL, md);
  double *slots = ou_slots(&D, 6);
  be->row_norm_loss(D.ctx, kind, g, m, d, scale, u, slots, slots + 1);
  double *hu = ou_down(&D, u, md);
  double value = 0, nsum = 0;
  for (int i = 0; i < m; i++) {
    value += phi_ref(kind, norms[i]);
    nsum += norms[i];
  }
  double v = ou_slot(&D, slots, 0), nv = ou_slot(&D, slots, 1);
  CHECK(fabs(v - scale * value) <= 1e-12 * fabs(scale * value) + DBL_MIN,
        "row_norm_loss %d %d x %d: value %.17g want %.17g", kind, m, d, v,
        scale * value);
  CHECK(fabs(nv - nsum / m) <= 1e-12 * nsum / m, "row_norm_loss %d: norm slot "
        "%.17g want %.17g", kind, nv, nsum / m);

  /* the direction against finite differences of scale * phi(|g_i|) */
  double *fd = ou_vec(&D, (size_t)d), *row = ou_vec(&D, (size_t)d);
  int bad = 0, exact = 1;
  for (int i = 0; i < m; i++) {
    const double *gi = hg + (size_t)i * d, *ui = hu + (size_t)i * d;
    if (norms[i] == 0) {
      for (int j = 0; j < d; j++) bad += ui[j] != 0;
      continue;
    }
    memcpy(row, gi, sizeof(double) * d);
    rn_case c = {kind, d, row};
    fd_grad(rn_objective, &c, row, (size_t)d, 1e-6, fd);
    double big = 0;
    for (int j = 0; j < d; j++) big = fmax(big, fabs(fd[j]));
    for (int j = 0; j < d; j++)
      bad += !(fabs(ui[j] - scale * fd[j]) <= FD_TOL * scale * (big + 1e-3));
    /* GP / LP: the old penalty_dir's coefficient, bit for bit */
    if (kind == WF_ROWNORM_GP || kind == WF_ROWNORM_LP) {
      double sq = 0;
      for (int j = 0; j < d; j++) sq += gi[j] * gi[j];
      double norm = sqrt(sq), excess = norm - 1;
      if (kind == WF_ROWNORM_LP && excess < 0) excess = 0;
      double coef = norm > 0 ? 2.0 * 10.0 / m * excess / norm : 0.0;
      for (int j = 0; j < d; j++) exact &= ui[j] == (double)(wf_real)(coef * gi[j]);
    }
  }
  CHECK(bad == 0, "row_norm_loss %d %d x %d: %d direction entries wrong", kind,
        m, d, bad);
  CHECK(exact, "row_norm_loss %d %d x %d: the old penalty_dir, bit for bit",
        kind, m, d);

  /* NULL outputs: the rest unchanged; a second call adds again */
  wf_real *u2 = ou_up(&D, NULL, md);
  be->row_norm_loss(D.ctx, kind, g, m, d, scale, NULL, slots + 2, slots + 3);
  be->row_norm_loss(D.ctx, kind, g, m, d, scale, u2, NULL, NULL);
  be->row_norm_loss(D.ctx, kind, g, m, d, scale, NULL, slots + 2, slots + 3);
  CHECK(ou_slot(&D, slots, 2) == 2 * v && ou_slot(&D, slots, 3) == 2 * nv,
        "row_norm_loss %d: u NULL and accumulating slots", kind);
  CHECK(same(ou_down(&D, u2, md), hu, md), "row_norm_loss %d: slots NULL", kind);
  ou_reset(&D);
}

static void row_norm_losses_match_finite_differences(void) {
  static const int shapes[][2] = {{1, 1}, {7, 3}, {64, 2}, {5, 784}, {2000, 20}};
  for (int kind = 0; kind < WF_ROWNORM_COUNT; kind++)
    for (int s = 0; s < 5; s++)
      rownorm_case((wf_rownorm_kind)kind, shapes[s][0], shapes[s][1]);

  int m = 3000, d = 30;
  size_t md = (size_t)m * d;
  double *hg = ou_rnorm(&D, md, 0.3);
  for (int kind = 0; kind < WF_ROWNORM_COUNT; kind++) {
    double v[2][2], *u[2];
    for (int th = 1; th <= 2; th++) {
      threads(th);
      wf_real *du = ou_up(&D, NULL, md);
      double *slots = ou_slots(&D, 2);
      D.be->row_norm_loss(D.ctx, (wf_rownorm_kind)kind, ou_up(&D, hg, md), m, d,
                          0.01, du, slots, slots + 1);
      v[th - 1][0] = ou_slot(&D, slots, 0);
      v[th - 1][1] = ou_slot(&D, slots, 1);
      u[th - 1] = ou_down(&D, du, md);
    }
    threads(1);
    CHECK(v[0][0] == v[1][0] && v[0][1] == v[1][1] && same(u[0], u[1], md),
          "row_norm_loss %d: 1 and 2 threads differ", kind);
  }
  ou_reset(&D);
}

/* ---- softmax cross-entropy over rows --------------------------------------- */
/* log sum_j exp(y_j) of one row y [k], in double (max subtracted) */
static double xent_lse(const double *y, int k) {
  double mx = y[0], se = 0;
  for (int j = 1; j < k; j++) mx = fmax(mx, y[j]);
  for (int j = 0; j < k; j++) se += exp(y[j] - mx);
  return mx + log(se);
}
/* the row's loss, lse - y_l */
static double xent_row(const double *y, int k, int l) { return xent_lse(y, k) - y[l]; }

typedef struct {
  double *y;
  int k, l;
} xent_fd;

static double xent_fd_value(void *closure) {
  const xent_fd *c = closure;
  return xent_row(c->y, c->k, c->l);
}

static void xent_case(int m, int k, double scale) {
  const wf_backend *be = D.be;
  size_t mk = (size_t)m * k;
  double *hy = ou_rnorm(&D, mk, 2);
  int *hl = ou_ivec(&D, (size_t)m);
  for (int i = 0; i < m; i++) {
    hl[i] = (int)(ou_unif(&D) * k);
    if (i % 5 == 1) hy[(size_t)i * k + (size_t)(i % k)] = i % 2 ? 800 : -800; /* no overflow */
  }
  ou_round(hy, mk);
  wf_real *y = ou_up(&D, hy, mk), *dy = ou_up(&D, NULL, mk);
  int *lab = ou_up_int(&D, hl, (size_t)m);
  double *slots = ou_slots(&D, 3);
  be->softmax_xent(D.ctx, y, lab, m, k, scale, dy, slots);
  double *g = ou_down(&D, dy, mk);

  /* value against the double terms; gradient against the formula and, on
   * rows of moderate logits, finite differences */
  double value = 0, *fd = ou_vec(&D, (size_t)k);
  int bad_formula = 0, bad_fd = 0;
  for (int i = 0; i < m; i++) {
    double *yi = hy + (size_t)i * k;
    double term = xent_row(yi, k, hl[i]);
    value += term;
    double lse = xent_lse(yi, k);
    for (int j = 0; j < k; j++) {
      double want = scale * (exp(yi[j] - lse) - (j == hl[i]));
      bad_formula += !(fabs(g[(size_t)i * k + j] - want) <= 2 * EPS * fabs(scale));
    }
    if (i % 5 != 1 && i < 50) {
      xent_fd c = {yi, k, hl[i]};
      fd_grad(xent_fd_value, &c, yi, (size_t)k, 1e-6, fd);
      for (int j = 0; j < k; j++)
        bad_fd += !(fabs(g[(size_t)i * k + j] - scale * fd[j]) <= FD_TOL * fabs(scale));
    }
  }
  double got = ou_slot(&D, slots, 0);
  CHECK(fabs(got - scale * value) <= 1e-12 * fabs(scale) * (value + 1),
        "softmax_xent %d x %d: value %.17g want %.17g", m, k, got, scale * value);
  CHECK(bad_formula == 0, "softmax_xent %d x %d: %d gradients off the formula", m, k,
        bad_formula);
  CHECK(bad_fd == 0, "softmax_xent %d x %d: %d gradients off the finite differences", m,
        k, bad_fd);
  /* dy NULL: the same value; slot NULL: the same gradient */
  be->softmax_xent(D.ctx, y, lab, m, k, scale, NULL, slots + 1);
  CHECK(ou_slot(&D, slots, 1) == got, "softmax_xent %d x %d: dy NULL, same value", m, k);
  wf_real *dy2 = ou_up(&D, NULL, mk);
  be->softmax_xent(D.ctx, y, lab, m, k, scale, dy2, NULL);
  CHECK(same(ou_down(&D, dy2, mk), g, mk), "softmax_xent %d x %d: slot NULL, same dy", m,
        k);
  ou_reset(&D);
}

static void softmax_cross_entropy_matches_its_formula_and_differences(void) {
  static const int shapes[][2] = {{1, 1}, {1, 10}, {7, 3}, {64, 10}, {1030, 33},
                                  {3000, 10}};
  for (int s = 0; s < 6; s++) xent_case(shapes[s][0], shapes[s][1], s % 2 ? 1.0 / 64 : 0.7);

  /* one class: log 1 - y = 0, gradient 0 */
  const wf_backend *be = D.be;
  double hy1[3] = {2.5, -1, 40};
  int hl1[3] = {0, 0, 0};
  wf_real *y1 = ou_up(&D, hy1, 3), *d1 = ou_up(&D, NULL, 3);
  double *s1 = ou_slots(&D, 1);
  be->softmax_xent(D.ctx, y1, ou_up_int(&D, hl1, 3), 3, 1, 1, d1, s1);
  double *g1 = ou_down(&D, d1, 3);
  CHECK(ou_slot(&D, s1, 0) == 0 && g1[0] == 0 && g1[1] == 0 && g1[2] == 0,
        "softmax_xent with one class: 0");

  /* a label out of range: its row NaN, the others untouched */
  double hy[6] = {0.5, -1, 2, 1, 0, -3};
  int hl[2] = {1, 3};
  wf_real *y = ou_up(&D, hy, 6), *dy = ou_up(&D, NULL, 6);
  double *slot = ou_slots(&D, 1);
  be->softmax_xent(D.ctx, y, ou_up_int(&D, hl, 2), 2, 3, 1, dy, slot);
  double *g = ou_down(&D, dy, 6);
  CHECK(isnan(ou_slot(&D, slot, 0)) && isnan(g[3]) && isnan(g[5]) && !isnan(g[0]) &&
            !isnan(g[2]),
        "softmax_xent: a label out of range gives NaN in its row only");
  ou_reset(&D);

  /* a slot's rounding does not depend on the thread count */
  int m = 4000, k = 10;
  size_t mk = (size_t)m * k;
  double *hz = ou_rnorm(&D, mk, 3), v[2], *gz[2];
  int *hlz = ou_ivec(&D, (size_t)m);
  for (int i = 0; i < m; i++) hlz[i] = i % k;
  for (int th = 1; th <= 2; th++) {
    threads(th);
    wf_real *dz = ou_up(&D, NULL, mk);
    double *sz = ou_slots(&D, 1);
    be->softmax_xent(D.ctx, ou_up(&D, hz, mk), ou_up_int(&D, hlz, (size_t)m), m, k,
                     1.0 / m, dz, sz);
    v[th - 1] = ou_slot(&D, sz, 0);
    gz[th - 1] = ou_down(&D, dz, mk);
  }
  threads(1);
  CHECK(v[0] == v[1] && same(gz[0], gz[1], mk), "softmax_xent: 1 and 2 threads differ");
  ou_reset(&D);
}

int main(void) {
  ops_open();
  losses_and_gradients_match_their_formulas();
  row_norm_losses_match_finite_differences();
  softmax_cross_entropy_matches_its_formula_and_differences();
  return ops_finish("loss");
}
