/* test_algo_rwp.c — RWP and SBE through the generic trainer (algo_rwp.c):
 * RWP with l = 1 and a WGAN-GP critic is WGAN training bit for bit (and
 * plain training for the GAN and DRAGAN losses); at l = 10 the proximal
 * term is the mean displacement over 2h; bad arguments are named; SBE's
 * literal anchor gives J <= 0 and its lag-one anchor is the generator
 * before its phase. Built in double and float; ends with "algo_rwp
 * <precision>: N passed, N failed". */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "trainer_util.h"

/* ---- RWP and SBE through the trainer ---------------------------------------- */
static wf_trainer *prox_trainer(const char *algo, uint64_t seed, const double *data,
                                int n, wf_net **nets) {
  wf_mlp_spec cs = {.n_layers = 3, .widths = {2, 16, 16, 1},
                    .activation = WF_ACT_TANH, .init = WF_INIT_TORCH};
  wf_mlp_spec gs = {.n_layers = 3, .widths = {3, 16, 16, 2},
                    .activation = WF_ACT_RELU, .init = WF_INIT_TORCH};
  wf_mlp_spec ps = {.n_layers = 2, .widths = {2, 16, 1}, .activation = WF_ACT_TANH,
                    .norm = WF_NORM_LAYER, .init = WF_INIT_TORCH};
  wf_opt_spec adam = {.kind = WF_OPT_ADAM, .lr = 1e-3, .beta1 = 0.5, .beta2 = 0.9,
                      .eps = 1e-8};
  wf_opt_spec opts[4] = {adam, adam, adam, adam};
  int n_nets = strcmp(algo, "sbe") == 0 ? 4 : 2;
  nets[0] = make_net(&cs, seed);
  nets[1] = make_net(&gs, seed + 1);
  if (n_nets == 4) {
    char msg[WF_MSG_LEN];
    nets[2] = make_net(&ps, seed + 2);
    wf_net_clone(nets[1], &nets[3], msg); /* the anchor starts at the generator */
  }
  int rows = n, cols = 2;
  char msg[WF_MSG_LEN];
  wf_trainer *t = NULL;
  wf_status rc = wf_trainer_create(wf_algo_find(algo), nets, opts, n_nets, &data,
                                   &rows, &cols, 1, &t, msg);
  CHECK(rc == WF_OK, "%s trainer: %s", algo, msg);
  return t;
}

static void rwp_with_one_step_is_plain_training_and_sbe_anchors_lag(void) {
  int n = 300, m = 32;
  double *data = hvec((size_t)n * 2);
  for (int i = 0; i < 2 * n; i++) data[i] = rnorm() + (i % 2 ? 2 : -1);
  const char *cn[] = {"batch_size", "steps", "loss", "penalty", "lambda", "perturb", "clip"};
  const char *gn[] = {"batch_size", "steps", "loss", "h", "proximal"};
  double out[4];
  /* RWP with l = 1 and a WGAN-GP critic is W1-FE's naive K = 1, i.e. WGAN
   * training, bit for bit: the proximal gradient is zero at the anchor */
  {
    wf_net *rn[2], *wn[2];
    wf_opt_spec adam = {.kind = WF_OPT_ADAM, .lr = 1e-3, .beta1 = 0.5, .beta2 = 0.9,
                        .eps = 1e-8};
    wf_trainer *r = prox_trainer("rwp", 61, data, n, rn);
    wf_trainer *w = w1fe_trainer(61, data, n, &adam, wn);
    /* the same generator spec and seeds as prox_trainer's */
    const char *wc[] = {"batch_size", "steps", "penalty", "lambda", "clip"};
    const char *we[] = {"batch_size", "step_size"};
    const char *wf[] = {"persistency", "mode"};
    double cv[] = {m, 3, WF_CRITIC_WGAN, WF_PENALTY_GP, 10, 0, 0};
    double gv[] = {m, 1, WF_CRITIC_WGAN, 0.1, 1};
    double wcv[] = {m, 3, WF_PENALTY_GP, 10, 0}, wev[] = {m, 1}, wfv[] = {1, 1};
    int ok = 1;
    for (int it = 0; it < 4; it++) {
      ok &= phase(r, "critic", cn, cv, 7, out) == WF_OK;
      ok &= phase(r, "generator", gn, gv, 5, out) == WF_OK;
      ok &= out[1] == 0 && out[2] == 0; /* l = 1: no displacement yet */
      ok &= phase(w, "critic", wc, wcv, 5, out) == WF_OK;
      ok &= phase(w, "euler", we, wev, 2, out) == WF_OK;
      ok &= phase(w, "fit", wf, wfv, 2, out) == WF_OK;
    }
    CHECK(ok, "rwp / w1fe phases: %s %s", wf_trainer_message(r), wf_trainer_message(w));
    CHECK(same_params(rn[0], wn[0]) && same_params(rn[1], wn[1]),
          "RWP (l = 1, WGAN-GP) equals WGAN training exactly");
    wf_trainer_free(r), wf_trainer_free(w);
    for (int i = 0; i < 2; i++) wf_net_free(rn[i]), wf_net_free(wn[i]);
  }
  /* the same for the GAN and DRAGAN losses: with and without the proximal
   * term, l = 1 gives the same parameters */
  for (int kind = WF_CRITIC_GAN; kind <= WF_CRITIC_DRAGAN; kind++) {
    wf_net *a[2], *b[2];
    wf_trainer *ta = prox_trainer("rwp", 71, data, n, a);
    wf_trainer *tb = prox_trainer("rwp", 71, data, n, b);
    double cv[] = {m, 1, kind, WF_PENALTY_NONE, 10, 0.5, 0};
    double with[] = {m, 1, kind, 0.2, 1}, without[] = {m, 1, kind, 0.2, 0};
    int ok = 1;
    for (int it = 0; it < 3; it++) {
      ok &= phase(ta, "critic", cn, cv, 7, out) == WF_OK;
      ok &= phase(ta, "generator", gn, with, 5, out) == WF_OK;
      ok &= phase(tb, "critic", cn, cv, 7, out) == WF_OK;
      ok &= phase(tb, "generator", gn, without, 5, out) == WF_OK;
    }
    CHECK(ok && isnan(out[1]), "kind %d phases: %s", kind, wf_trainer_message(ta));
    CHECK(same_params(a[0], b[0]) && same_params(a[1], b[1]),
          "RWP (l = 1, kind %d) equals plain training", kind);
    /* l = 10: the proximal term is 1/(2h) times the mean displacement */
    double l10[] = {m, 10, kind, 0.2, 1};
    CHECK(phase(ta, "generator", gn, l10, 5, out) == WF_OK && out[2] > 0 &&
              fabs(out[1] - out[2] / 0.4) <= 1e-6 * out[1],
          "proximal %g = displacement %g / (2h)", out[1], out[2]);
    CHECK(!same_params(a[1], b[1]), "l = 10 moves the generator");
    wf_trainer_free(ta), wf_trainer_free(tb);
    for (int i = 0; i < 2; i++) wf_net_free(a[i]), wf_net_free(b[i]);
  }
  /* bad arguments are named */
  {
    wf_net *a[2];
    wf_trainer *t = prox_trainer("rwp", 81, data, n, a);
    double gan_gp[] = {m, 1, WF_CRITIC_GAN, WF_PENALTY_GP, 10, 0, 0};
    CHECK(phase(t, "critic", cn, gan_gp, 7, out) == WF_ERR_ARG,
          "GAN with GP refused: %s", wf_trainer_message(t));
    double h0[] = {m, 1, WF_CRITIC_WGAN, 0, 1};
    CHECK(phase(t, "generator", gn, h0, 5, out) == WF_ERR_ARG &&
              strstr(wf_trainer_message(t), "`h`") != NULL,
          "h = 0 refused: %s", wf_trainer_message(t));
    double l0[] = {m, 0, WF_CRITIC_WGAN, 0.1, 1};
    CHECK(phase(t, "generator", gn, l0, 5, out) == WF_ERR_ARG &&
              strstr(wf_trainer_message(t), "`steps`") != NULL,
          "l = 0 refused: %s", wf_trainer_message(t));
    double k9[] = {m, 1, 9, 0.1, 1};
    CHECK(phase(t, "generator", gn, k9, 5, out) == WF_ERR_ARG &&
              strstr(wf_trainer_message(t), "`loss`") != NULL,
          "an unknown loss refused: %s", wf_trainer_message(t));
    wf_trainer_free(t);
    for (int i = 0; i < 2; i++) wf_net_free(a[i]);
  }
  /* SBE: the literal anchor makes J = -mean |grad Phi|^2 / 2 <= 0; the
   * lag-one anchor is the generator before the last generator phase */
  {
    wf_net *s[4];
    wf_trainer *t = prox_trainer("sbe", 91, data, n, s);
    const char *pn[] = {"batch_size", "steps", "lag"};
    const char *sg[] = {"batch_size", "steps", "loss", "h", "lag"};
    double cv[] = {m, 2, WF_CRITIC_WGAN, WF_PENALTY_GP, 10, 0, 0};
    size_t np = wf_net_layout(s[1])->n_params;
    double *p0 = hvec(np), *pa = hvec(np);
    int ok = 1;
    for (int lag = 0; lag <= 1; lag++) {
      double pv[] = {m, 3, lag}, gv[] = {m, 2, WF_CRITIC_WGAN, 0.2, lag};
      for (int it = 0; it < 3; it++) {
        ok &= phase(t, "critic", cn, cv, 7, out) == WF_OK;
        ok &= phase(t, "potential", pn, pv, 3, out) == WF_OK;
        if (lag == 0) CHECK(out[0] <= 0 && out[1] >= 0, "literal SBE: J = %g <= 0", out[0]);
        wf_net_get_params(s[1], p0);
        ok &= phase(t, "generator", sg, gv, 5, out) == WF_OK;
      }
      wf_net_get_params(s[3], pa);
      if (lag == 1)
        CHECK(memcmp(p0, pa, np * sizeof(double)) == 0 && !same_params(s[1], s[3]),
              "lag-one anchor = the generator before its phase");
    }
    CHECK(ok, "sbe phases: %s", wf_trainer_message(t));
    wf_trainer_free(t);
    free(p0), free(pa);
    for (int i = 0; i < 4; i++) wf_net_free(s[i]);
    /* an anchor of another shape is refused */
    wf_net *bad[4];
    wf_mlp_spec cs = {.n_layers = 2, .widths = {2, 4, 1}, .activation = WF_ACT_TANH};
    wf_mlp_spec gs = {.n_layers = 2, .widths = {3, 4, 2}, .activation = WF_ACT_TANH};
    wf_mlp_spec gs2 = {.n_layers = 2, .widths = {3, 5, 2}, .activation = WF_ACT_TANH};
    bad[0] = make_net(&cs, 1), bad[1] = make_net(&gs, 2), bad[2] = make_net(&cs, 3);
    bad[3] = make_net(&gs2, 4);
    wf_opt_spec sgd = {.kind = WF_OPT_SGD, .lr = 0.1, .eps = 1};
    wf_opt_spec opts[4] = {sgd, sgd, sgd, sgd};
    int rows = n, cols = 2;
    char msg[WF_MSG_LEN];
    const double *dp = data;
    wf_trainer *tb = NULL;
    CHECK(wf_trainer_create(wf_algo_find("sbe"), bad, opts, 4, &dp, &rows, &cols, 1, &tb,
                            msg) == WF_ERR_ARG && strstr(msg, "anchor") != NULL,
          "sbe refuses a bad anchor: %s", msg);
    for (int i = 0; i < 4; i++) wf_net_free(bad[i]);
  }
  free(data);
}

int main(void) {
  open_cpu_device();
  rwp_with_one_step_is_plain_training_and_sbe_anchors_lag();
  return finish("algo_rwp");
}
