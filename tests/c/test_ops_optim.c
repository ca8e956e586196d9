/* test_ops_optim.c — the optimisers and the clamp (cpu/optim.c): Adam,
 * RMSprop and SGD against torch.optim's formulas, from any step slot;
 * Adam's step exactly as its formula rounds (vector square roots too); the clamp; 1 vs 2 threads bit
 * for bit. Built in double and float (and avx2_*); ends with "ops optim
 * <precision>: N passed, N failed". */
#include "ops_test_util.h"

#ifdef WF_DOUBLE
#define WF_SQRT_T sqrt
#else
#define WF_SQRT_T sqrtf
#endif

/* ---- optimisers (torch.optim arithmetic, as test_net.c's on nets) ----- */
/* one step of op's optimiser; step: its step slot */
static void optimise(const wf_opt_spec *op, wf_real *p, const wf_real *g,
                     wf_real *m1, wf_real *m2, size_t n, double *step) {
  if (op->kind == WF_OPT_ADAM)
    D.be->adam(D.ctx, p, g, m1, m2, n, op, step);
  else if (op->kind == WF_OPT_RMSPROP)
    D.be->rmsprop(D.ctx, p, g, m2, n, op, step);
  else
    D.be->sgd(D.ctx, p, g, m1, n, op, step);
}

/* One step from a step slot at t0 - 1 steps taken, from given moments:
 * the step is t0 (Adam's bias corrections from t0; SGD's momentum buffer
 * reset only at t0 = 1), and the slot ends at t0. */
static void optimiser_at(const wf_opt_spec *op, int o, double t0) {
  size_t n = 301;
  double *p = ou_rnorm(&D, n, 1), *m1 = ou_rnorm(&D, n, 0.1);
  double *m2 = ou_runif(&D, n, 0.01, 0.2), *g = ou_rnorm(&D, n, 1);
  ou_round(p, n);
  ou_round(m1, n);
  ou_round(m2, n);
  ou_round(g, n);
  wf_real *dp = ou_up(&D, p, n), *dm1 = ou_up(&D, m1, n), *dm2 = ou_up(&D, m2, n);
  double *step = ou_slot_at(&D, t0 - 1);
  optimise(op, dp, ou_up(&D, g, n), dm1, dm2, n, step);
  double *got = ou_down(&D, dp, n);
  const double t = t0;
  for (size_t i = 0; i < n; i++) {
    double gi = g[i] + op->weight_decay * p[i];
    if (op->kind == WF_OPT_ADAM) {
      m1[i] = op->beta1 * m1[i] + (1 - op->beta1) * gi;
      m2[i] = op->beta2 * m2[i] + (1 - op->beta2) * gi * gi;
      double mh = m1[i] / (1 - pow(op->beta1, t));
      double vh = m2[i] / (1 - pow(op->beta2, t));
      p[i] -= op->lr * mh / (sqrt(vh) + op->eps);
    } else if (op->kind == WF_OPT_RMSPROP) {
      m2[i] = op->beta2 * m2[i] + (1 - op->beta2) * gi * gi;
      p[i] -= op->lr * gi / (sqrt(m2[i]) + op->eps);
    } else {
      if (op->momentum != 0) {
        m1[i] = t == 1 ? gi : op->momentum * m1[i] + gi;
        gi = m1[i];
      }
      p[i] -= op->lr * gi;
    }
  }
  CHECK(scaled_err(got, p, n) < OPT_TOL, "optimiser %d from step slot %g: err %g",
        o, t0 - 1, scaled_err(got, p, n));
  CHECK(ou_slot(&D, step, 0) == t0, "optimiser %d: step slot %g after a step "
        "from %g", o, ou_slot(&D, step, 0), t0 - 1);
  ou_reset(&D);
}

static void optimisers_follow_torch_optim_from_any_step_slot(void) {
  const wf_backend *be = D.be;
  wf_opt_spec specs[] = {
      {.kind = WF_OPT_ADAM, .lr = 0.01, .beta1 = 0.5, .beta2 = 0.9, .eps = 1e-8,
       .weight_decay = 0.1},
      {.kind = WF_OPT_ADAM, .lr = 1e-3, .beta1 = 0.9, .beta2 = 0.999, .eps = 1e-8},
      {.kind = WF_OPT_RMSPROP, .lr = 0.01, .beta2 = 0.99, .eps = 1e-8},
      {.kind = WF_OPT_RMSPROP, .lr = 0.005, .beta2 = 0.9, .eps = 1e-6,
       .weight_decay = 0.05},
      {.kind = WF_OPT_SGD, .lr = 0.1, .momentum = 0.9, .weight_decay = 0.01},
      {.kind = WF_OPT_SGD, .lr = 0.05}};
  int n_specs = (int)(sizeof(specs) / sizeof(specs[0]));
  for (int o = 0; o < n_specs; o++) {
    const wf_opt_spec *op = &specs[o];
    for (int big = 0; big < 2; big++) {
      size_t n = big ? 40000 : 37;
      double *p = ou_rnorm(&D, n, 1), *m1 = ou_vec(&D, n), *m2 = ou_vec(&D, n);
      double *g = ou_vec(&D, n);
      ou_round(p, n);
      double *res[2], steps[2];
      for (int th = 1; th <= 2; th++) {
        threads(th);
        wf_real *dp = ou_up(&D, p, n), *dm1 = ou_up(&D, NULL, n);
        wf_real *dm2 = ou_up(&D, NULL, n), *dg = ou_up(&D, NULL, n);
        double *step = ou_slots(&D, 1); /* no step taken yet */
        for (int t = 1; t <= 4; t++) {
          for (size_t i = 0; i < n; i++) g[i] = sin(3.0 * i + t);
          be->upload(D.ctx, dg, g, n);
          optimise(op, dp, dg, dm1, dm2, n, step);
        }
        res[th - 1] = ou_down(&D, dp, n);
        steps[th - 1] = ou_slot(&D, step, 0);
      }
      threads(1);
      CHECK(same(res[0], res[1], n), "optimiser %d: 1 and 2 threads differ", o);
      CHECK(steps[0] == 4 && steps[1] == 4, "optimiser %d: four steps leave the "
            "step slot at %g, %g", o, steps[0], steps[1]);
      for (int t = 1; t <= 4; t++)
        for (size_t i = 0; i < n; i++) {
          double gi = (double)(wf_real)sin(3.0 * i + t) + op->weight_decay * p[i];
          if (op->kind == WF_OPT_ADAM) {
            m1[i] = op->beta1 * m1[i] + (1 - op->beta1) * gi;
            m2[i] = op->beta2 * m2[i] + (1 - op->beta2) * gi * gi;
            double mh = m1[i] / (1 - pow(op->beta1, t));
            double vh = m2[i] / (1 - pow(op->beta2, t));
            p[i] -= op->lr * mh / (sqrt(vh) + op->eps);
          } else if (op->kind == WF_OPT_RMSPROP) {
            m2[i] = op->beta2 * m2[i] + (1 - op->beta2) * gi * gi;
            p[i] -= op->lr * gi / (sqrt(m2[i]) + op->eps);
          } else {
            if (op->momentum != 0) {
              m1[i] = t == 1 ? gi : op->momentum * m1[i] + gi;
              gi = m1[i];
            }
            p[i] -= op->lr * gi;
          }
        }
      CHECK(scaled_err(res[0], p, n) < OPT_TOL, "optimiser %d (n %zu): err %g",
            o, n, scaled_err(res[0], p, n));
      ou_reset(&D);
    }
    optimiser_at(op, o, 1);
    optimiser_at(op, o, 42);
    optimiser_at(op, o, 1e6 + 1);
  }
  /* Adam's step at slot t is the formula's exactly: the bias corrections
   * lr / (1 - beta1^t) and sqrt(1 - beta2^t) in double, rounded to wf_real
   * once (cpu/optim.c); with zero moments element i becomes
   * p - step * (1 - b1) g / (sqrt((1 - b2) g^2) / bc2 + eps). Forty
   * elements: the vector square roots of two chunks of 16 (or 8) and the
   * scalar ones of the rest must all be sqrt's, correctly rounded. */
  {
    const wf_opt_spec *op = &specs[1];
    const double t = 42;
    enum { N_EXACT = 40 };
    double hp[N_EXACT], hg[N_EXACT];
    for (int i = 0; i < N_EXACT; i++) hp[i] = 0.5, hg[i] = 1 + i / 8.0;
    double *step = ou_slot_at(&D, t - 1);
    wf_real *dp = ou_up(&D, hp, N_EXACT), *dm1 = ou_up(&D, NULL, N_EXACT);
    wf_real *dm2 = ou_up(&D, NULL, N_EXACT), *dg = ou_up(&D, hg, N_EXACT);
    be->adam(D.ctx, dp, dg, dm1, dm2, N_EXACT, op, step);
    wf_real b1 = (wf_real)op->beta1, b2 = (wf_real)op->beta2;
    wf_real st = (wf_real)(op->lr / (1 - pow(op->beta1, t)));
    wf_real bc2 = (wf_real)sqrt(1 - pow(op->beta2, t));
    double *got = ou_down(&D, dp, N_EXACT);
    int bad = 0, first = -1;
    for (int i = 0; i < N_EXACT; i++) {
      wf_real g = (wf_real)hg[i];
      volatile wf_real m1 = (1 - b1) * g; /* no contraction */
      volatile wf_real m2g = (1 - b2) * g;
      volatile wf_real m2 = m2g * g;
      volatile wf_real den = WF_SQRT_T(m2) / bc2 + (wf_real)op->eps;
      volatile wf_real upd = st * m1;
      wf_real want = (wf_real)0.5 - upd / den;
      if (got[i] != (double)want) bad++, first = first < 0 ? i : first;
    }
    CHECK(bad == 0, "adam at step slot %g: %d of %d elements differ from the "
          "formula (the first: %d)", t - 1, bad, (int)N_EXACT, first);
    CHECK(ou_slot(&D, step, 0) == t, "adam: step slot %g", ou_slot(&D, step, 0));
    ou_reset(&D);
  }
  size_t n = 1000;
  double *p = ou_runif(&D, n, -2, 2);
  ou_round(p, n);
  wf_real *dp = ou_up(&D, p, n);
  be->clamp(D.ctx, dp, n, (wf_real)0.5);
  double *got = ou_down(&D, dp, n);
  int bad = 0;
  for (size_t i = 0; i < n; i++)
    bad += got[i] != (p[i] > 0.5 ? 0.5 : (p[i] < -0.5 ? -0.5 : p[i]));
  CHECK(bad == 0, "clamp: %d wrong", bad);
  ou_reset(&D);
}

int main(void) {
  ops_open();
  optimisers_follow_torch_optim_from_any_step_slot();
  return ops_finish("optim");
}
