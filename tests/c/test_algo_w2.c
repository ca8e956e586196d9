/* test_algo_w2.c — W2GAN and W2-FE through the generic trainer
 * (algo_w2.c): every penalty switch in both registrations, refusals named,
 * W2-FE with K = 1 equal to the W2GAN update at 2 eps lr (Proposition 4.1
 * with the W2 potential), the Euler direction against central differences
 * of the potential (in double), and balanced batches by strata. Built in
 * double and float; ends with "algo_w2 <precision>: N passed, N failed". */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "trainer_util.h"

/* ---- W2GAN and W2-FE: the phases, and Proposition 4.1 for W2-FE -------- */
static wf_trainer *w2_trainer(const char *algo, uint64_t seed, const double *const *data,
                              const int *rows, int n_data, const wf_opt_spec *gen_opt,
                              wf_net **nets) {
  wf_mlp_spec cs = {.n_layers = 3, .widths = {2, 16, 16, 1},
                    .activation = WF_ACT_TANH, .init = WF_INIT_NORMAL, .init_sd = 0.3};
  wf_mlp_spec gs = {.n_layers = 3, .widths = {2, 16, 16, 2}, .activation = WF_ACT_RELU,
                    .norm = WF_NORM_BATCH, .residual = 1, .init = WF_INIT_NORMAL,
                    .init_sd = 0.1, .gamma_normal = 1};
  nets[0] = make_net(&cs, seed);
  nets[1] = make_net(&cs, seed + 1);
  nets[2] = make_net(&gs, seed + 2);
  wf_opt_spec adam = {.kind = WF_OPT_ADAM, .lr = 1e-3, .beta1 = 0.9, .beta2 = 0.999,
                      .eps = 1e-8};
  wf_opt_spec opts[3] = {adam, adam, *gen_opt};
  int cols[2] = {2, 2};
  char msg[WF_MSG_LEN];
  wf_trainer *t = NULL;
  wf_status rc = wf_trainer_create(wf_algo_find(algo), nets, opts, 3, data, rows, cols,
                                   n_data, &t, msg);
  CHECK(rc == WF_OK, "%s trainer: %s", algo, msg);
  return t;
}

/* The Euler phase's direction is the gradient of the generated side's
 * potential: f, or e - g with that side reparameterised (reparam 2), by
 * central differences of sum_i f(y_i) at the phase's own y = G(z) (the
 * phase's z read back; G's BatchNorm in training mode on the same batch
 * gives the same y). */
static void w2_euler_direction_is_the_potential_gradient(const double *const *data, const int *rows, int m) {
#ifdef WF_DOUBLE
  for (int rp = 0; rp <= 2; rp++) {
    wf_net *nets[3];
    wf_opt_spec adam = {.kind = WF_OPT_ADAM, .lr = 1e-2, .beta1 = 0.9, .beta2 = 0.999,
                        .eps = 1e-8};
    wf_trainer *t = w2_trainer("w2fe", 21 + rp, data, rows, 2, &adam, nets);
    const char *cn[] = {"batch_size", "steps", "ineq", "lambda_ineq", "lambda_eq",
                        "reparam", "lambda_e", "reg", "data_strata",
                              "source_strata"};
    double cv[] = {m, 3, 3, 20, 20, rp, 0, 0, 0, 0}, out[5];
    CHECK(phase(t, "critic", cn, cv, 10, out) == WF_OK, "critic: %s", wf_trainer_message(t));
    double eps = 0.8;
    const char *en[] = {"batch_size", "step_size", "reparam", "source_strata"};
    double ev[] = {m, eps, rp, 0};
    CHECK(phase(t, "euler", en, ev, 4, out) == WF_OK, "euler: %s", wf_trainer_message(t));
    size_t md = (size_t)m * 2;
    double *hz = hvec(md), *hzeta = hvec(md), *hy = hvec(md), *num = hvec(md),
           *dir = hvec(md), *hv = hvec(m);
    CHECK(wf_trainer_buffer_get(t, "z", 0, hz, md) == WF_OK &&
              wf_trainer_buffer_get(t, "zeta", 0, hzeta, md) == WF_OK,
          "euler buffers: %s", wf_trainer_message(t));
    wf_real *z = dalloc(md), *y = dalloc(md), *v = dalloc(m);
    put(z, hz, md);
    wf_mlp_forward(nets[2], z, m, 1, y);
    get(hy, y, md);
    /* sum_i f(y_i), f = f (rp 0, 1) or e - g (rp 2) */
    for (size_t i = 0; i < md; i++) {
      double keep = hy[i], val[2];
      for (int k = 0; k < 2; k++) {
        hy[i] = keep + (k ? -1e-6 : 1e-6);
        put(y, hy, md);
        val[k] = 0;
        for (int net = 0; net < (rp == 2 ? 2 : 1); net++) {
          wf_mlp_forward(nets[net], y, m, 1, v);
          get(hv, v, m);
          for (int r = 0; r < m; r++) val[k] += (net ? -1 : 1) * hv[r];
        }
      }
      hy[i] = keep;
      num[i] = (val[0] - val[1]) / 2e-6;
    }
    for (size_t i = 0; i < md; i++) dir[i] = (hy[i] - hzeta[i]) / eps;
    CHECK(rel_err(dir, num, md) < FD_TOL, "euler reparam %d: (y - zeta) / eps vs grad f: err %g",
          rp, rel_err(dir, num, md));
    wf_device_free(dev, z), wf_device_free(dev, y), wf_device_free(dev, v);
    free(hz), free(hzeta), free(hy), free(num), free(dir), free(hv);
    wf_trainer_free(t);
    for (int i = 0; i < 3; i++) wf_net_free(nets[i]);
  }
#else
  (void)data, (void)rows, (void)m;
#endif
}

/* Balanced batches: data rows sorted by stratum (stratum c marked by its
 * first column, 10 c + noise) and source rows likewise (-10 (c + 1)); a
 * critic step's data batch takes m / k rows of every stratum (one more for
 * the first m % k) in round-robin order, its source batch the same counts
 * stratum by stratum; draws are uniform within a stratum; one stratum is
 * the i.i.d. draw to the bit; bad strata are refused by name. */
static int stratum_of(double v, int source) {
  return source ? (int)lround(-v / 10) - 1 : (int)lround(v / 10);
}

static void balanced_batches_take_every_stratum_in_turn(int m) {
  enum { ND = 200, NS = 180 };
  const int dc[3] = {50, 70, 80}, sc[2] = {120, 60};
  double *x = hvec(2 * ND), *z = hvec(2 * NS);
  for (int c = 0, r = 0; c < 3; c++)
    for (int j = 0; j < dc[c]; j++, r++) {
      x[2 * r] = 10 * c + 0.1 * rnorm();
      x[2 * r + 1] = j; /* the row's index within its stratum */
    }
  for (int c = 0, r = 0; c < 2; c++)
    for (int j = 0; j < sc[c]; j++, r++) {
      z[2 * r] = -10 * (c + 1) + 0.1 * rnorm();
      z[2 * r + 1] = j;
    }
  const double *data[2] = {x, z};
  int rows[2] = {ND, NS};
  const char *names[] = {"batch_size", "steps", "ineq", "lambda_ineq", "lambda_eq",
                         "reparam", "lambda_e", "reg", "data_strata", "data_stratum_1",
                         "data_stratum_2", "data_stratum_3", "source_strata",
                         "source_stratum_1", "source_stratum_2"};
  double vals[] = {m, 1, 3, 20, 20, 2, 0, 0, 3, dc[0], dc[1], dc[2], 2, sc[0], sc[1]};
  wf_net *nets[3];
  wf_opt_spec adam = {.kind = WF_OPT_ADAM, .lr = 1e-3, .beta1 = 0.9, .beta2 = 0.999,
                      .eps = 1e-8};
  wf_trainer *t = w2_trainer("w2gan", 31, data, rows, 2, &adam, nets);
  size_t md = (size_t)m * 2;
  double *real = hvec(md), *src = hvec(md), out[5];
  double mean_j[3] = {0}, n_j[3] = {0};
  int ok_data = 1, ok_src = 1, seen_max[3] = {0};
  for (int rep = 0; rep < 40; rep++) {
    CHECK(phase(t, "critic", names, vals, 15, out) == WF_OK, "balanced critic: %s",
          wf_trainer_message(t));
    wf_trainer_buffer_get(t, "real", 0, real, md);
    wf_trainer_buffer_get(t, "z", 0, src, md);
    for (int i = 0; i < m; i++) {
      int c = stratum_of(real[2 * i], 0);
      ok_data = ok_data && c == i % 3;
      if (c >= 0 && c < 3) {
        mean_j[c] += real[2 * i + 1] / dc[c];
        n_j[c] += 1;
        if ((int)real[2 * i + 1] == dc[c] - 1) seen_max[c] = 1;
      }
      /* the source stratum by stratum: m / 2 + (m % 2) rows of stratum 0 */
      int s = stratum_of(src[2 * i], 1);
      ok_src = ok_src && s == (i < m / 2 + m % 2 ? 0 : 1);
    }
  }
  CHECK(ok_data, "balanced data rows: stratum i %% k at row i");
  CHECK(ok_src, "balanced source rows: stratum by stratum");
  for (int c = 0; c < 3; c++)
    CHECK(fabs(mean_j[c] / n_j[c] - 0.5) < 0.08 && seen_max[c],
          "uniform within stratum %d: mean position %g", c, mean_j[c] / n_j[c]);
  /* the generator and Euler phases draw the source balanced too */
  const char *gn[] = {"batch_size", "steps", "reparam", "source_strata", "source_stratum_1",
                      "source_stratum_2"};
  double gv[] = {m, 1, 2, 2, sc[0], sc[1]};
  CHECK(phase(t, "generator", gn, gv, 6, out) == WF_OK, "balanced generator: %s",
        wf_trainer_message(t));
  wf_trainer_buffer_get(t, "z", 0, src, md);
  ok_src = 1;
  for (int i = 0; i < m; i++)
    ok_src = ok_src && stratum_of(src[2 * i], 1) == (i < m / 2 + m % 2 ? 0 : 1);
  CHECK(ok_src, "balanced generator batch");
  /* refusals: sizes that do not sum to the rows, more strata than rows in a
   * batch, strata of a source a trainer does not have */
  double bad_sum[15];
  memcpy(bad_sum, vals, sizeof(vals));
  bad_sum[11] = dc[2] - 1;
  CHECK(phase(t, "critic", names, bad_sum, 15, out) == WF_ERR_ARG &&
            strstr(wf_trainer_message(t), "strata") != NULL,
        "strata that miss rows are refused: %s", wf_trainer_message(t));
  double bad_k[] = {2, 1, 3, 20, 20, 2, 0, 0, 3, dc[0], dc[1], dc[2]};
  CHECK(phase(t, "critic", names, bad_k, 12, out) == WF_ERR_ARG &&
            strstr(wf_trainer_message(t), "data_strata") != NULL,
        "more strata than batch rows are refused: %s", wf_trainer_message(t));
  wf_trainer_free(t);
  for (int i = 0; i < 3; i++) wf_net_free(nets[i]);
  {
    wf_trainer *t1 = w2_trainer("w2gan", 31, data, rows, 1, &adam, nets);
    double v1[] = {m, 1, 3, 20, 20, 0, 0, 0, 0, 0, 0, 0, 1, NS};
    const char *n1[] = {"batch_size", "steps", "ineq", "lambda_ineq", "lambda_eq",
                        "reparam", "lambda_e", "reg", "data_strata", "data_stratum_1",
                        "data_stratum_2", "data_stratum_3", "source_strata",
                        "source_stratum_1"};
    CHECK(phase(t1, "critic", n1, v1, 14, out) == WF_ERR_ARG &&
              strstr(wf_trainer_message(t1), "source_strata") != NULL,
          "source strata without a source are refused: %s", wf_trainer_message(t1));
    wf_trainer_free(t1);
    for (int i = 0; i < 3; i++) wf_net_free(nets[i]);
  }
  /* one stratum per side is the i.i.d. draw: the same nets after a critic
   * and a generator phase, to the bit */
  {
    wf_net *n2[2][3];
    wf_trainer *t2[2];
    for (int r = 0; r < 2; r++) {
      t2[r] = w2_trainer("w2gan", 41, data, rows, 2, &adam, n2[r]);
      double v[] = {m, 2, 3, 20, 20, 1, 0, 0, r, ND, r, NS};
      const char *nn[] = {"batch_size", "steps", "ineq", "lambda_ineq", "lambda_eq",
                          "reparam", "lambda_e", "reg", "data_strata", "data_stratum_1",
                          "source_strata", "source_stratum_1"};
      CHECK(phase(t2[r], "critic", nn, v, 12, out) == WF_OK, "critic: %s",
            wf_trainer_message(t2[r]));
      const char *gn1[] = {"batch_size", "steps", "reparam", "source_strata",
                           "source_stratum_1"};
      double gv1[] = {m, 1, 0, r, NS};
      CHECK(phase(t2[r], "generator", gn1, gv1, 5, out) == WF_OK, "generator: %s",
            wf_trainer_message(t2[r]));
    }
    int same = 1;
    for (int k = 0; k < 3; k++) {
      size_t np = wf_net_layout(n2[0][k])->n_params;
      double *p0 = hvec(np), *p1 = hvec(np);
      wf_net_get_params(n2[0][k], p0);
      wf_net_get_params(n2[1][k], p1);
      same = same && memcmp(p0, p1, np * sizeof(double)) == 0;
      free(p0), free(p1);
    }
    CHECK(same, "one stratum per side is the i.i.d. draw to the bit");
    for (int r = 0; r < 2; r++) {
      wf_trainer_free(t2[r]);
      for (int i = 0; i < 3; i++) wf_net_free(n2[r][i]);
    }
  }
  free(x), free(z), free(real), free(src);
}

static void w2gan_phases_run_and_w2fe_k1_is_the_w2gan_update(void) {
  int n = 200, m = 32;
  double *x = hvec((size_t)n * 2), *z = hvec((size_t)n * 2);
  for (int i = 0; i < 2 * n; i++) {
    x[i] = 0.3 * rnorm() + (i % 4 < 2 ? 1 : -1);
    z[i] = 2 * rnorm();
  }
  const double *data[2] = {x, z};
  int rows[2] = {n, n};
  const char *crit_names[] = {"batch_size", "steps", "ineq", "lambda_ineq", "lambda_eq",
                              "reparam", "lambda_e", "reg", "data_strata",
                              "source_strata"};
  double out[5];
  /* the data set is required, the source optional: no data set, or more
   * than the roles, is refused */
  {
    wf_mlp_spec ps = {.n_layers = 1, .widths = {2, 1}, .init = WF_INIT_NORMAL, .init_sd = 0.1};
    wf_mlp_spec gs = {.n_layers = 1, .widths = {2, 2}, .init = WF_INIT_NORMAL, .init_sd = 0.1};
    wf_net *nets[3] = {make_net(&ps, 1), make_net(&ps, 2), make_net(&gs, 3)};
    wf_opt_spec sgd = {.kind = WF_OPT_SGD, .lr = 0.1, .eps = 1};
    wf_opt_spec opts[3] = {sgd, sgd, sgd};
    int cols[3] = {2, 2, 2}, rows3[3] = {n, n, n};
    const double *data3[3] = {x, z, x};
    char msg[WF_MSG_LEN];
    wf_trainer *t = NULL;
    CHECK(wf_trainer_create(wf_algo_find("w2gan"), nets, opts, 3, data3, rows3, cols, 0, &t,
                            msg) == WF_ERR_ARG && t == NULL && strstr(msg, "1 or more"),
          "no data set refused: %s", msg);
    CHECK(wf_trainer_create(wf_algo_find("w2gan"), nets, opts, 3, data3, rows3, cols, 3, &t,
                            msg) == WF_ERR_ARG && t == NULL,
          "a third data set refused: %s", msg);
    for (int i = 0; i < 3; i++) wf_net_free(nets[i]);
  }
  /* every penalty switch runs, without and with the optional source */
  for (int mode = 0; mode < 2; mode++) {
    wf_net *nets[3];
    wf_opt_spec adam = {.kind = WF_OPT_ADAM, .lr = 1e-3, .beta1 = 0.9, .beta2 = 0.999,
                        .eps = 1e-8};
    const char *algo = mode ? "w2gan (map)" : "w2gan"; /* for messages */
    wf_trainer *t = w2_trainer("w2gan", 5, data, rows, mode ? 2 : 1, &adam, nets);
    CHECK(t->n_data == 1 + mode, "%s: %d data sets", algo, t->n_data);
    for (int ineq = 0; ineq <= 3; ineq++)
      for (int reparam = 0; reparam <= 2; reparam++)
        for (int reg = 0; reg <= 1; reg++) {
          double vals[] = {m, 2, ineq, 20, ineq == 1 ? 0 : 20, reparam, 5, reg, 0, 0};
          wf_status rc = phase(t, "critic", crit_names, vals, 10, out);
          CHECK(rc == WF_OK && isfinite(out[0]) && isfinite(out[1]) && out[2] >= 0 &&
                    (ineq == 1 ? isnan(out[3]) : out[3] > 0) &&
                    (reparam ? out[4] >= 0 : isnan(out[4])),
                "%s critic ineq %d reparam %d reg %d: %s (%g %g %g %g %g)", algo, ineq,
                reparam, reg, wf_trainer_message(t), out[0], out[1], out[2], out[3],
                out[4]);
        }
    const char *gen_names[] = {"batch_size", "steps", "reparam", "source_strata"};
    for (int reparam = 0; reparam <= 2; reparam++) {
      double gen_vals[] = {m, 3, reparam, 0};
      CHECK(phase(t, "generator", gen_names, gen_vals, 4, out) == WF_OK && isfinite(out[0]),
            "%s generator reparam %d: %s", algo, reparam, wf_trainer_message(t));
    }
    double bad_rp[] = {m, 1, 3, 0};
    CHECK(phase(t, "generator", gen_names, bad_rp, 4, out) == WF_ERR_ARG &&
              strstr(wf_trainer_message(t), "reparam") != NULL,
          "an unknown reparameterisation is named");
    double bad[] = {m, 2, 3, 20, 20, 0, 0, 2, 0, 0};
    CHECK(phase(t, "critic", crit_names, bad, 10, out) == WF_ERR_ARG &&
              strstr(wf_trainer_message(t), "reg") != NULL,
          "an unknown regulariser is named");
    const char *fit_names[] = {"persistency"};
    double k1[] = {1};
    CHECK(phase(t, "fit", fit_names, k1, 1, out) == WF_ERR_STATE, "fit needs an Euler step");
    wf_trainer_free(t);
    for (int i = 0; i < 3; i++) wf_net_free(nets[i]);
  }
  /* W2-FE, K = 1 with SGD(gamma) equals the W2GAN generator update with
   * SGD(2 eps gamma), from the same state and the same z (Proposition 4.1's
   * argument with the W2 potential: grad of mean |zeta - G|^2 at the frozen
   * zeta = G - eps grad f(G) is 2 eps times that of mean f(G)) */
  double gamma = 0.05, eps = 0.6;
  wf_opt_spec sgd = {.kind = WF_OPT_SGD, .lr = gamma, .eps = 1};
  wf_opt_spec sgd_w2gan = sgd;
  sgd_w2gan.lr = 2 * eps * gamma;
  /* ... with either side's potential reparameterised */
  for (int rp = 1; rp <= 2; rp++) {
    wf_net *nets[2][3];
    wf_trainer *t[2];
    for (int r = 0; r < 2; r++) {
      t[r] = w2_trainer("w2gan", 11, data, rows, 2, r == 0 ? &sgd : &sgd_w2gan,
                        nets[r]);
      double vals[] = {m, 3, 3, 20, 20, rp, 0, 0, 0, 0};
      CHECK(phase(t[r], "critic", crit_names, vals, 10, out) == WF_OK, "critic: %s",
            wf_trainer_message(t[r]));
      if (r == 0) {
        const char *en[] = {"batch_size", "step_size", "reparam", "source_strata"};
        double ev[] = {m, eps, rp, 0};
        CHECK(phase(t[r], "euler", en, ev, 4, out) == WF_OK && out[0] > 0, "euler: %s",
              wf_trainer_message(t[r]));
        const char *fn[] = {"persistency"};
        double fv[] = {1};
        CHECK(phase(t[r], "fit", fn, fv, 1, out) == WF_OK && out[0] == out[1], "fit: %s",
              wf_trainer_message(t[r]));
      } else {
        const char *gn[] = {"batch_size", "steps", "reparam", "source_strata"};
        double gv[] = {m, 1, rp, 0};
        CHECK(phase(t[r], "generator", gn, gv, 4, out) == WF_OK, "generator: %s",
              wf_trainer_message(t[r]));
      }
    }
    size_t np = wf_net_layout(nets[0][2])->n_params;
    double *p0 = hvec(np), *p1 = hvec(np);
    wf_net_get_params(nets[0][2], p0);
    wf_net_get_params(nets[1][2], p1);
#ifdef WF_DOUBLE
    double tol = 1e-11;
#else
    double tol = 2e-5;
#endif
    CHECK(rel_err(p0, p1, np) < tol,
          "W2-FE K = 1 is the W2GAN update at 2 eps lr (reparam %d): err %g", rp,
          rel_err(p0, p1, np));
    for (int r = 0; r < 2; r++) {
      wf_trainer_free(t[r]);
      for (int i = 0; i < 3; i++) wf_net_free(nets[r][i]);
    }
    free(p0), free(p1);
  }
  w2_euler_direction_is_the_potential_gradient(data, rows, m);
  balanced_batches_take_every_stratum_in_turn(m);
  free(x), free(z);
}

int main(void) {
  open_cpu_device();
  w2gan_phases_run_and_w2fe_k1_is_the_w2gan_update();
  return finish("algo_w2");
}
