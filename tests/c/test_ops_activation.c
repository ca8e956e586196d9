/* test_ops_activation.c — the activations (cpu/activation.c): every kind's
 * forward against its formula, its first and second derivatives against
 * finite differences, the kinks' conventions (torch's), and 1 vs 2 threads
 * bit for bit. Built in double and float (and avx2_*); ends with "ops
 * activation <precision>: N passed, N failed". */
#include "ops_test_util.h"

/* ---- activations ------------------------------------------------------- */
#define SLOPE 0.2
static double act_ref(wf_activation act, double u) {
  switch (act) {
  case WF_ACT_RELU: return u > 0 ? u : 0;
  case WF_ACT_LEAKY_RELU: return u > 0 ? u : (double)(wf_real)SLOPE * u;
  case WF_ACT_TANH: return tanh(u);
  case WF_ACT_SOFTPLUS: return u > 20 ? u : log1p(exp(u));
  case WF_ACT_ELU: return u > 0 ? u : exp(u) - 1;
  case WF_ACT_SIGMOID: return 1 / (1 + exp(-u));
  default: return u;
  }
}
static double act_d1(wf_activation act, double u) {
  double h = 1e-5;
  return (act_ref(act, u + h) - act_ref(act, u - h)) / (2 * h);
}
static double act_d2(wf_activation act, double u) {
  double h = 1e-4;
  return (act_ref(act, u + h) - 2 * act_ref(act, u) + act_ref(act, u - h)) /
         (h * h);
}

static void activations_and_derivatives_match_finite_differences(void) {
  const wf_backend *be = D.be;
  size_t n = 2000;
  for (int a = 0; a < WF_ACT_COUNT; a++) {
    wf_activation act = (wf_activation)a;
    /* away from the kinks at 0 and at softplus's threshold 20 */
    double *hu = ou_vec(&D, n);
    for (size_t i = 0; i < n; i++) {
      double v;
      do {
        v = i % 10 == 0 ? 21 + 9 * ou_unif(&D) : (i % 10 == 1 ? -30 * ou_unif(&D) : -4 + 8 * ou_unif(&D));
        v = (wf_real)v;
      } while (fabs(v) < 1e-3);
      hu[i] = v;
    }
    double *hg = ou_rnorm(&D, n, 1), *hh = ou_rnorm(&D, n, 1);
    double *hgb = ou_rnorm(&D, n, 1), *hd = ou_rnorm(&D, n, 1);
    ou_round(hg, n);
    ou_round(hh, n);
    ou_round(hgb, n);
    ou_round(hd, n);
    wf_real *u = ou_up(&D, hu, n), *out = ou_up(&D, NULL, n);
    wf_real *g = ou_up(&D, hg, n), *hbar = ou_up(&D, hh, n);
    wf_real *gbar = ou_up(&D, hgb, n), *udot = ou_up(&D, hd, n);

    be->act_forward(D.ctx, act, SLOPE, u, out, n);
    double *f = ou_down(&D, out, n);
    int bad = 0;
    for (size_t i = 0; i < n; i++) {
      double ref = act_ref(act, hu[i]);
      bad += !(fabs(f[i] - ref) <= 8 * EPS * (fabs(ref) + 1));
    }
    CHECK(bad == 0, "act_forward %d: %d wrong", a, bad);

    be->act_backward(D.ctx, act, SLOPE, u, g, out, n);
    double *b = ou_down(&D, out, n);
    bad = 0;
    for (size_t i = 0; i < n; i++) {
      double ref = hg[i] * act_d1(act, hu[i]);
      bad += !(fabs(b[i] - ref) <= FD_TOL * (fabs(ref) + fabs(hg[i])));
    }
    CHECK(bad == 0, "act_backward %d vs finite differences: %d wrong", a, bad);
    wf_real *g2 = ou_up(&D, hg, n);
    be->act_backward(D.ctx, act, SLOPE, u, g2, g2, n); /* out aliases g */
    CHECK(same(ou_down(&D, g2, n), b, n), "act_backward %d in place", a);

    int flat = act == WF_ACT_IDENTITY || act == WF_ACT_RELU ||
               act == WF_ACT_LEAKY_RELU;
    for (int with_h = 0; with_h < 2; with_h++) {
      /* flat activations read neither gbar nor udot: pass NULL */
      be->act_second(D.ctx, act, SLOPE, u, with_h ? hbar : NULL,
                     flat ? NULL : gbar, flat ? NULL : udot, out, n);
      double *s2 = ou_down(&D, out, n);
      bad = 0;
      for (size_t i = 0; i < n; i++) {
        double ref = 0, mag = 0;
        if (with_h) {
          ref += hh[i] * act_d1(act, hu[i]);
          mag += fabs(hh[i]);
        }
        if (!flat) {
          ref += hgb[i] * hd[i] * act_d2(act, hu[i]);
          mag += fabs(hgb[i] * hd[i]);
        }
        bad += !(fabs(s2[i] - ref) <= 10 * FD_TOL * (fabs(ref) + mag) + DBL_MIN);
      }
      CHECK(bad == 0, "act_second %d (hbar %s) vs finite differences: %d wrong",
            a, with_h ? "set" : "NULL", bad);
    }
    ou_reset(&D);
  }

  /* the kink at 0: relu' = 0, leaky' = slope, elu' = 1 (torch) */
  double z[2] = {0, 0}, one[2] = {1, -2};
  wf_real *u = ou_up(&D, z, 2), *g = ou_up(&D, one, 2), *out = ou_up(&D, NULL, 2);
  be->act_backward(D.ctx, WF_ACT_RELU, SLOPE, u, g, out, 2);
  double *r = ou_down(&D, out, 2);
  CHECK(r[0] == 0 && r[1] == 0, "relu'(0) = 0");
  be->act_backward(D.ctx, WF_ACT_LEAKY_RELU, SLOPE, u, g, out, 2);
  r = ou_down(&D, out, 2);
  CHECK(r[0] == (wf_real)SLOPE && r[1] == -2 * (double)(wf_real)SLOPE,
        "leaky_relu'(0) = slope");
  be->act_backward(D.ctx, WF_ACT_ELU, SLOPE, u, g, out, 2);
  r = ou_down(&D, out, 2);
  CHECK(r[0] == 1 && r[1] == -2, "elu'(0) = 1");
  ou_reset(&D);

  /* long inputs: 1 and 2 threads agree bit for bit */
  n = 40000;
  double *hu = ou_rnorm(&D, n, 2), *hg = ou_rnorm(&D, n, 1);
  for (int a = 0; a < WF_ACT_COUNT; a++) {
    double *res[2][3];
    for (int th = 1; th <= 2; th++) {
      threads(th);
      wf_real *du = ou_up(&D, hu, n), *dg = ou_up(&D, hg, n);
      wf_real *o = ou_up(&D, NULL, n);
      be->act_forward(D.ctx, (wf_activation)a, SLOPE, du, o, n);
      res[th - 1][0] = ou_down(&D, o, n);
      be->act_backward(D.ctx, (wf_activation)a, SLOPE, du, dg, o, n);
      res[th - 1][1] = ou_down(&D, o, n);
      be->act_second(D.ctx, (wf_activation)a, SLOPE, du, dg, dg, du, o, n);
      res[th - 1][2] = ou_down(&D, o, n);
    }
    threads(1);
    CHECK(same(res[0][0], res[1][0], n) && same(res[0][1], res[1][1], n) &&
              same(res[0][2], res[1][2], n),
          "activation %d: 1 and 2 threads differ", a);
  }
  ou_reset(&D);
}

int main(void) {
  ops_open();
  activations_and_derivatives_match_finite_differences();
  return ops_finish("activation");
}
