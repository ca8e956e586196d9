/* test_algo_barycentric.c — Barycentric-OT through the generic trainer
 * (algo_barycentric.c): one call runs the dual stage and then the map
 * stage, later calls the map stage alone, the dual stage lasts u's steps,
 * and lambda 0 is refused. Built in double and float; ends with
 * "algo_barycentric <precision>: N passed, N failed". */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "trainer_util.h"

/* ---- Barycentric-OT: the dual stage, then the map stage, split by u's steps */
static void barycentric_ot_runs_its_dual_stage_then_its_map_stage(void) {
  int n = 200, m = 32;
  double *x = hvec((size_t)n * 2), *z = hvec((size_t)n * 2);
  for (int i = 0; i < 2 * n; i++) {
    x[i] = 0.3 * rnorm() + (i % 4 < 2 ? 1 : -1);
    z[i] = 2 * rnorm();
  }
  const double *data[2] = {x, z};
  int rows[2] = {n, n};
  double out[5];
  wf_net *bn[3];
  wf_mlp_spec cs = {.n_layers = 2, .widths = {2, 16, 1}, .activation = WF_ACT_RELU,
                    .init = WF_INIT_TORCH};
  wf_mlp_spec gs = {.n_layers = 2, .widths = {2, 16, 2}, .activation = WF_ACT_RELU,
                    .residual = 1, .init = WF_INIT_NORMAL, .init_sd = 0.01};
  bn[0] = make_net(&cs, 1), bn[1] = make_net(&cs, 2), bn[2] = make_net(&gs, 3);
  wf_opt_spec adam = {.kind = WF_OPT_ADAM, .lr = 5e-3, .beta1 = 0.9, .beta2 = 0.999,
                      .eps = 1e-8};
  wf_opt_spec opts[3] = {adam, adam, adam};
  int cols[2] = {2, 2};
  char msg[WF_MSG_LEN];
  wf_trainer *bt = NULL;
  CHECK(wf_trainer_create(wf_algo_find("barycentric"), bn, opts, 3, data, rows, cols, 2,
                          &bt, msg) == WF_OK, "barycentric: %s", msg);
  const char *names[] = {"batch_size", "steps", "dual_steps", "lambda", "reg"};
  for (int reg = 0; reg <= 1; reg++) {
    double v1[] = {m, 5, 3 + 2 * reg, 0.5, reg};
    CHECK(phase(bt, "steps", names, v1, 5, out) == WF_OK && isfinite(out[0]) &&
              isfinite(out[1]) && isfinite(out[2]),
          "barycentric: both stages in one call (%s)", wf_trainer_message(bt));
    CHECK(phase(bt, "steps", names, v1, 5, out) == WF_OK && isnan(out[0]) &&
              isnan(out[1]) && isfinite(out[2]),
          "barycentric: the map stage alone");
  }
  CHECK(wf_net_block(bn[0])->step == 5, "the dual stage's length is u's steps");
  double v0[] = {m, 5, 3, 0, 0};
  CHECK(phase(bt, "steps", names, v0, 5, out) == WF_ERR_ARG, "lambda 0 refused");
  wf_trainer_free(bt);
  for (int i = 0; i < 3; i++) wf_net_free(bn[i]);
  free(x), free(z);
}

int main(void) {
  open_cpu_device();
  barycentric_ot_runs_its_dual_stage_then_its_map_stage();
  return finish("algo_barycentric");
}
