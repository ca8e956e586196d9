/* test_algo_w1fe.c — W1-FE through the generic trainer (algo_w1fe.c):
 * Proposition 4.1 (one Euler-fit update with SGD(gamma) is the WGAN
 * generator update with SGD(2 eps gamma)), persistent fits lowering the
 * MSE, arguments refused and named, phases out of order, and keyed
 * samples (generate.c) that leave the generator's stream alone. Built in
 * double and float; ends with "algo_w1fe <precision>: N passed, N
 * failed". */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "trainer_util.h"

/* ---- the trainer with W1-FE: Proposition 4.1 and the phases -------------- */
static void w1fe_euler_and_fit_equal_the_wgan_update(void) {
  int n = 300, m = 64;
  double *data = hvec((size_t)n * 2);
  for (int i = 0; i < 2 * n; i++) data[i] = rnorm() + (i % 2 ? 2 : -1);
  double gamma = 0.05, eps = 0.7;
  wf_opt_spec sgd = {.kind = WF_OPT_SGD, .lr = gamma, .eps = 1};
  wf_opt_spec sgd_wgan = sgd;
  sgd_wgan.lr = 2 * eps * gamma;
  const char *crit_names[] = {"batch_size", "steps", "penalty", "lambda", "clip"};
  const double crit_vals[] = {m, 3, WF_PENALTY_LP, 10, 0};
  const char *euler_names[] = {"batch_size", "step_size"};
  const double euler_vals[] = {m, eps};
  const char *fit_names[] = {"persistency", "mode"};
  double out[4];
  /* Proposition 4.1: one Euler-fit update with SGD(gamma) equals the WGAN
   * generator update with SGD(2 eps gamma), from the same state and z */
  wf_net *nets[2][2];
  wf_trainer *t[2];
  for (int r = 0; r < 2; r++) {
    t[r] = w1fe_trainer(21, data, n, r == 0 ? &sgd : &sgd_wgan, nets[r]);
    CHECK(phase(t[r], "critic", crit_names, crit_vals, 5, out) == WF_OK,
          "critic phase: %s", wf_trainer_message(t[r]));
    CHECK(isfinite(out[0]) && isfinite(out[1]) && out[3] > 0, "critic outputs");
    CHECK(phase(t[r], "euler", euler_names, euler_vals, 2, out) == WF_OK, "euler");
    CHECK(out[0] > 0, "euler grad norm %g", out[0]);
    double fit_vals[] = {1, r};
    CHECK(phase(t[r], "fit", fit_names, fit_vals, 2, out) == WF_OK, "fit: %s",
          wf_trainer_message(t[r]));
    /* G(z) - zeta = -eps grad phi, so the first MSE is eps^2 mean |grad|^2 */
    if (r == 0) CHECK(out[0] > 0 && out[0] == out[1], "one step: first == last");
  }
  size_t np = wf_net_layout(nets[0][1])->n_params;
  double *p0 = hvec(np), *p1 = hvec(np);
  wf_net_get_params(nets[0][1], p0);
  wf_net_get_params(nets[1][1], p1);
#ifdef WF_DOUBLE
  double tol41 = 1e-12;
#else
  double tol41 = 1e-6; /* float rounding of 2 eps gamma and of the sums */
#endif
  CHECK(rel_err(p0, p1, np) < tol41, "Proposition 4.1: err %g", rel_err(p0, p1, np));
  /* K steps of the regression decrease its loss */
  wf_net_get_params(nets[0][1], p0);
  CHECK(phase(t[0], "euler", euler_names, euler_vals, 2, out) == WF_OK, "euler");
  wf_opt_spec adam = {.kind = WF_OPT_ADAM, .lr = 1e-3, .beta1 = 0.5, .beta2 = 0.9,
                      .eps = 1e-8};
  t[0]->opts[1] = adam;
  double k20[] = {20, 0};
  CHECK(phase(t[0], "fit", fit_names, k20, 2, out) == WF_OK && out[1] < out[0],
        "persistent fit decreases the MSE: %g -> %g", out[0], out[1]);
  double k0[] = {0, 0};
  CHECK(phase(t[0], "fit", fit_names, k0, 2, out) == WF_ERR_ARG, "K = 0 refused");
  CHECK(phase(t[0], "critic", euler_names, euler_vals, 2, out) == WF_ERR_ARG &&
            strstr(wf_trainer_message(t[0]), "steps") != NULL,
        "a missing argument is named: %s", wf_trainer_message(t[0]));
  CHECK(phase(t[0], "critic", crit_names, crit_vals, 5, out) == WF_OK, "critic again");
  CHECK(phase(t[0], "fit", fit_names, k20, 2, out) == WF_ERR_STATE,
        "fit after a critic phase needs a new Euler step");
  CHECK(phase(t[0], "nope", NULL, NULL, 0, out) == WF_ERR_ARG, "unknown phase");
  /* samples from a key leave the generator's stream alone */
  uint64_t k0_, c0, k1, c1;
  wf_net *gen = nets[0][1];
  wf_net_get_rng(gen, &k0_, &c0);
  wf_real *o1 = dalloc(20), *o2 = dalloc(20);
  double h1[20], h2[20];
  wf_generate(gen, 10, 99, o1);
  wf_generate(gen, 10, 99, o2);
  get(h1, o1, 20);
  get(h2, o2, 20);
  wf_net_get_rng(gen, &k1, &c1);
  CHECK(k0_ == k1 && c0 == c1 && memcmp(h1, h2, sizeof(h1)) == 0,
        "wf_generate is keyed and leaves the stream alone");
  wf_device_free(dev, o1);
  wf_device_free(dev, o2);
  for (int r = 0; r < 2; r++) {
    wf_trainer_free(t[r]);
    wf_net_free(nets[r][0]);
    wf_net_free(nets[r][1]);
  }
  free(p0), free(p1), free(data);
}

int main(void) {
  open_cpu_device();
  w1fe_euler_and_fit_equal_the_wgan_update();
  return finish("algo_w1fe");
}
