/* test_algo_ots.c — OTS/FIT through the generic trainer (algo_ots.c): the
 * semi-discrete dual's first step (the nearest assignment, the gradient
 * 1/N - count/B), ascent until the histogram is even (dual and primal
 * close), the trainer's named buffers, and FIT replaying the pairs OTS
 * recorded (its loss at lr 0 is OTS's primal). Built in double and float;
 * ends with "algo_ots <precision>: N passed, N failed". */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "trainer_util.h"

/* ---- the trainer with OTS/FIT ------------------------------------------------ */
static wf_trainer *ots_trainer(const char *algo, const double *data, int n,
                               const double *source, int n_src, wf_opt_spec gen_opt,
                               wf_net **gen) {
  wf_mlp_spec gs = {.n_layers = 2, .widths = {2, 16, 2}, .activation = WF_ACT_RELU,
                    .init = WF_INIT_TORCH};
  *gen = make_net(&gs, 5);
  const double *sets[2] = {data, source};
  int rows[2] = {n, n_src}, cols[2] = {2, 2};
  char msg[WF_MSG_LEN];
  wf_trainer *t = NULL;
  wf_status rc = wf_trainer_create(wf_algo_find(algo), gen, &gen_opt, 1, sets, rows, cols,
                                   source != NULL ? 2 : 1, &t, msg);
  CHECK(rc == WF_OK, "%s trainer: %s", algo, msg);
  return t;
}

static double sq_cost(const double *a, const double *b) {
  return 0.5 * ((a[0] - b[0]) * (a[0] - b[0]) + (a[1] - b[1]) * (a[1] - b[1]));
}

/* Every argument of the OTS phase, at ots_fit()'s defaults (R holds them;
 * the phase takes all); a test sets some by name with ots_set(). */
static const char *const ots_names[] = {
    "batch_size", "cost",   "max_steps", "check_every", "window",    "bins",
    "low",        "high",   "record",    "source",      "psi_opt",   "psi_lr",
    "psi_beta1",  "psi_beta2", "psi_eps", "psi_momentum", "psi_weight_decay"};
#define OTS_N_ARGS 17
static void ots_defaults(double *v, int m) {
  const double d[OTS_N_ARGS] = {m, WF_COST_L1, 20000, 1000, 4000, 1000, 0.78, 1.25, 0, 0,
                                WF_OPT_ADAM, 0.1, 0.9, 0.999, 1e-8, 0, 0};
  memcpy(v, d, sizeof(d));
}
static void ots_set(double *v, const char *name, double x) {
  for (int i = 0; i < OTS_N_ARGS; i++)
    if (strcmp(ots_names[i], name) == 0) v[i] = x;
}

static void ots_ascends_the_dual_and_fit_replays_its_pairs(void) {
#ifdef WF_DOUBLE
  const double tol = 1e-12;
#else
  const double tol = 2e-6;
#endif
  int n = 40, n_src = 90, m = 32;
  double *data = hvec((size_t)n * 2), *src = hvec((size_t)n_src * 2);
  for (int i = 0; i < 2 * n; i++) data[i] = (double)(wf_real)rnorm();
  for (int i = 0; i < 2 * n_src; i++) src[i] = (double)(wf_real)(0.5 * rnorm() + 1);
  wf_opt_spec sgd0 = {.kind = WF_OPT_SGD, .lr = 0, .eps = 1};
  wf_net *gen;
  wf_trainer *t = ots_trainer("semidiscrete", data, n, src, n_src, sgd0, &gen);
  /* one step of plain gradient ascent (SGD, lr 1) from psi = 0 on source
   * rows: psi becomes the gradient 1/N - count/B; the assignment is the
   * nearest data row; dual and primal are the mean nearest cost */
  double vals[OTS_N_ARGS];
  ots_defaults(vals, m);
  ots_set(vals, "cost", WF_COST_SQ), ots_set(vals, "max_steps", 1);
  ots_set(vals, "check_every", 1), ots_set(vals, "window", 4), ots_set(vals, "source", 1);
  ots_set(vals, "psi_opt", WF_OPT_SGD), ots_set(vals, "psi_lr", 1);
  double out[8];
  CHECK(phase(t, "ots", ots_names, vals, OTS_N_ARGS, out) == WF_OK, "ots step: %s", wf_trainer_message(t));
  double *psi = hvec((size_t)n), *idx = hvec((size_t)m), *rows = hvec((size_t)m);
  CHECK(wf_trainer_buffer_get(t, "psi", 0, psi, (size_t)n) == WF_OK &&
            wf_trainer_buffer_get(t, "idx", 1, idx, (size_t)m) == WF_OK &&
            wf_trainer_buffer_get(t, "src_idx", 1, rows, (size_t)m) == WF_OK,
        "buffers: %s", wf_trainer_message(t));
  int nearest = 1;
  double mean_cost = 0;
  for (int j = 0; j < m; j++) {
    const double *aj = src + 2 * (size_t)rows[j];
    int b = 0;
    for (int i = 1; i < n; i++)
      if (sq_cost(aj, data + 2 * i) < sq_cost(aj, data + 2 * b)) b = i;
    nearest &= (int)idx[j] == b;
    mean_cost += sq_cost(aj, data + 2 * b) / m;
  }
  CHECK(nearest, "the first step assigns each point to its nearest data row");
  double err = 0;
  for (int i = 0; i < n; i++) {
    int count = 0;
    for (int j = 0; j < m; j++) count += (int)idx[j] == i;
    err = fmax(err, fabs(psi[i] - (1.0 / n - (double)count / m)));
  }
  CHECK(err < tol, "the dual's gradient is 1/N - count/B (err %g)", err);
  CHECK(fabs(out[0] - mean_cost) < tol * 10 && fabs(out[1] - mean_cost) < tol * 10,
        "dual %g and primal %g at psi = 0 are the mean nearest cost %g", out[0], out[1],
        mean_cost);
  CHECK(out[4] == 1 && out[5] == 0 && out[6] == 1, "one step, no stop, one psi step");
  /* Adam on psi (ots_fit()'s default) until the histogram is even; then the dual
   * (a lower bound of the transport cost) and the cost of the assignment
   * of every source row (near a transport plan: balanced to within a
   * point per data row) agree closely */
  double vals2[OTS_N_ARGS];
  ots_defaults(vals2, m);
  ots_set(vals2, "cost", WF_COST_SQ), ots_set(vals2, "check_every", 200);
  ots_set(vals2, "window", 800), ots_set(vals2, "bins", 10), ots_set(vals2, "source", 1);
  ots_set(vals2, "psi_lr", 0.01);
  CHECK(phase(t, "ots", ots_names, vals2, OTS_N_ARGS, out) == WF_OK, "ots: %s", wf_trainer_message(t));
  CHECK(out[5] == 1 && out[2] >= 0.78 && out[3] <= 1.25,
        "the rule fired after %g steps (ratios %g .. %g)", out[4], out[2], out[3]);
  const char *anames[] = {"cost", "source", "batch_size"};
  double avals[] = {WF_COST_SQ, 1, 1024}, aout[3];
  CHECK(phase(t, "assign", anames, avals, 3, aout) == WF_OK && aout[2] == n_src,
        "assign: %s", wf_trainer_message(t));
  CHECK(fabs(aout[0] - aout[1]) < 0.1 * aout[1],
        "dual %g and primal %g of the whole sample are close", aout[0], aout[1]);
  double *asg = hvec((size_t)n_src);
  wf_trainer_buffer_get(t, "assignment", 1, asg, (size_t)n_src);
  double primal = 0;
  for (int j = 0; j < n_src; j++) primal += sq_cost(src + 2 * j, data + 2 * (int)asg[j]);
  CHECK(fabs(primal / n_src - aout[1]) < tol * 10, "the primal is the assignment's cost");
  CHECK(wf_trainer_buffer_get(t, "nope", 0, psi, 1) == WF_ERR_ARG &&
            wf_trainer_buffer_get(t, "psi", 0, psi, (size_t)n + 1) == WF_ERR_ARG,
        "unknown or short buffers refused");
  double back[3] = {1, 2, 3};
  CHECK(wf_trainer_buffer_set(t, "psi", back, 3) == WF_OK &&
            wf_trainer_buffer_get(t, "psi", 0, psi, 3) == WF_OK && psi[0] == 1 && psi[2] == 3,
        "buffer set / get round trip");
  wf_trainer_free(t);
  wf_net_free(gen);

  /* OTS/FIT with a generator: FIT draws the recorded latents again, so with
   * a learning rate of 0 its mean loss over one pass is OTS's primal */
  t = ots_trainer("ots", data, n, NULL, 0, sgd0, &gen);
  const char *fnames[] = {"cost", "passes", "share"};
  double fvals[] = {WF_COST_L1, 1, 0.5};
  CHECK(phase(t, "fit", fnames, fvals, 3, out) == WF_ERR_STATE, "fit before ots refused");
  for (int cost = 0; cost < 2; cost++) {
    double ovals[OTS_N_ARGS];
    ots_defaults(ovals, m);
    ots_set(ovals, "cost", cost), ots_set(ovals, "max_steps", 40);
    ots_set(ovals, "check_every", 40), ots_set(ovals, "window", 160);
    ots_set(ovals, "record", 1);
    CHECK(phase(t, "ots", ots_names, ovals, OTS_N_ARGS, out) == WF_OK, "ots: %s", wf_trainer_message(t));
    double primal_ots = out[1];
    fvals[0] = cost;
    CHECK(phase(t, "fit", fnames, fvals, 3, out) == WF_OK && out[2] == 40,
          "fit: %s", wf_trainer_message(t));
    double mean_fit = (out[0] + out[1]) / 2;
    CHECK(fabs(mean_fit - primal_ots) < 10 * tol * (1 + primal_ots),
          "cost %d: FIT replays OTS's pairs: loss %.12g vs primal %.12g", cost, mean_fit,
          primal_ots);
  }
  /* a learning rate: FIT lowers its loss over two passes */
  t->opts[0] = (wf_opt_spec){.kind = WF_OPT_ADAM, .lr = 1e-2, .beta1 = 0.9, .beta2 = 0.999,
                             .eps = 1e-8};
  fvals[1] = 20, fvals[2] = 0.1;
  CHECK(phase(t, "fit", fnames, fvals, 3, out) == WF_OK && out[1] < out[0] && out[2] == 800,
        "20 passes of FIT lower the loss %g -> %g", out[0], out[1]);
  double badv[OTS_N_ARGS];
  ots_defaults(badv, m);
  ots_set(badv, "window", 30), ots_set(badv, "check_every", 20);
  CHECK(phase(t, "ots", ots_names, badv, OTS_N_ARGS, out) == WF_ERR_ARG, "a window not a multiple refused");
  wf_trainer_free(t);
  wf_net_free(gen);
  free(data), free(src), free(psi), free(idx), free(rows), free(asg);
}

int main(void) {
  open_cpu_device();
  ots_ascends_the_dual_and_fit_replays_its_pairs();
  return finish("algo_ots");
}
