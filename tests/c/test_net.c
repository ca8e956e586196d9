/* test_net.c — nets over the CPU backend (net.c, block.c, rng.c, mlp.c):
 * their Philox streams, the optimisers on a net's block and on a bare block
 * against torch.optim's formulas, clones, aliases and copies, refusals of
 * bad specs and of passes out of order, and the normal init of norm scales.
 * Built in double and float; ends with "net <precision>: N passed, N
 * failed". */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "net_util.h"

/* ---- random streams ----------------------------------------------------- */
static void net_streams_repeat_rewind_and_draw_indices_from_uniforms(void) {
  wf_mlp_spec s = {.n_layers = 1, .widths = {2, 1}, .activation = WF_ACT_RELU};
  wf_net *a = make_net(&s, 7), *b = make_net(&s, 7);
  size_t n = 100003;
  wf_real *u = dalloc(n), *v = dalloc(n);
  double *hu = hvec(n), *hv = hvec(n);
  wf_net_uniform(a, u, n);
  wf_net_uniform(b, v, n);
  get(hu, u, n);
  get(hv, v, n);
  CHECK(memcmp(hu, hv, n * sizeof(double)) == 0, "same seed, same stream");
  double mean = 0, lo = 1, hi = 0;
  for (size_t i = 0; i < n; i++) {
    mean += hu[i];
    if (hu[i] < lo) lo = hu[i];
    if (hu[i] > hi) hi = hu[i];
  }
  mean /= n;
  CHECK(fabs(mean - 0.5) < 0.005 && lo > 0 && hi < 1, "uniform mean %g [%g, %g]",
        mean, lo, hi);
  wf_net_normal(a, u, n);
  get(hu, u, n);
  double m1 = 0, m2 = 0;
  for (size_t i = 0; i < n; i++) m1 += hu[i], m2 += hu[i] * hu[i];
  m1 /= n;
  m2 = m2 / n - m1 * m1;
  CHECK(fabs(m1) < 0.01 && fabs(m2 - 1) < 0.02, "normal mean %g var %g", m1, m2);
  /* a stream split in two draws equals one draw (counter advances by blocks) */
  uint64_t key, ctr;
  wf_net_get_rng(b, &key, &ctr);
  wf_net_uniform(b, v, 8);
  wf_net_set_rng(b, key, ctr);
  wf_net_uniform(b, v + 8, 8);
  get(hv, v, 16);
  CHECK(memcmp(hv, hv + 8, 8 * sizeof(double)) == 0, "set_rng rewinds the stream");
  /* random indices: the same draws as the uniforms, in range */
  int *idx = wf_device_alloc_int(dev, 1000);
  int hidx[1000];
  wf_net_set_rng(b, key, ctr);
  wf_net_uniform(b, v, 1000);
  wf_net_set_rng(b, key, ctr);
  CHECK(wf_net_random_index(b, idx, 1000, 37) == WF_OK, "random_index");
  wf_device_download_int(dev, hidx, idx, 1000);
  get(hv, v, 1000);
  int ok = 1;
  for (int i = 0; i < 1000; i++) {
    wf_real uf = (wf_real)hv[i];
    int want = (int)(uf * 37);
    ok &= hidx[i] == (want > 36 ? 36 : want);
  }
  CHECK(ok, "random_index follows the uniforms");
  CHECK(wf_net_random_index(b, idx, 10, 0) == WF_ERR_ARG, "bound 0 refused");
  wf_device_free(dev, idx);
  wf_device_free(dev, u);
  wf_device_free(dev, v);
  free(hu), free(hv);
  wf_net_free(a);
  wf_net_free(b);
}

/* ---- optimisers against torch.optim's formulas -------------------------- */
static void optimisers_follow_torch_optim_on_nets_and_bare_blocks(void) {
  wf_mlp_spec s = {.n_layers = 1, .widths = {3, 2}, .activation = WF_ACT_RELU};
  wf_net *net = make_net(&s, 3);
  size_t np = wf_net_layout(net)->n_params;
  double p[8], g[8], m[8] = {0}, v[8] = {0}, got[8];
  wf_opt_spec kinds[3] = {
      {.kind = WF_OPT_ADAM, .lr = 0.01, .beta1 = 0.5, .beta2 = 0.9, .eps = 1e-8,
       .weight_decay = 0.1},
      {.kind = WF_OPT_RMSPROP, .lr = 0.01, .beta2 = 0.99, .eps = 1e-8},
      {.kind = WF_OPT_SGD, .lr = 0.1, .momentum = 0.9, .eps = 1, .weight_decay = 0.01}};
  for (int o = 0; o < 3; o++) {
    wf_opt_spec *op = &kinds[o];
    wf_net_get_params(net, p);
    memset(m, 0, sizeof(m));
    memset(v, 0, sizeof(v));
    wf_net_set_opt_state(net, 0, m, v);
    for (int t = 1; t <= 4; t++) {
      for (size_t i = 0; i < np; i++) g[i] = sin(3.0 * i + t);
      wf_net_set_grad(net, g);
      CHECK(wf_net_opt_step(net, op) == WF_OK, "opt step");
      for (size_t i = 0; i < np; i++) {
        double gi = g[i] + op->weight_decay * p[i];
        if (op->kind == WF_OPT_ADAM) {
          m[i] = op->beta1 * m[i] + (1 - op->beta1) * gi;
          v[i] = op->beta2 * v[i] + (1 - op->beta2) * gi * gi;
          double mh = m[i] / (1 - pow(op->beta1, t)), vh = v[i] / (1 - pow(op->beta2, t));
          p[i] -= op->lr * mh / (sqrt(vh) + op->eps);
        } else if (op->kind == WF_OPT_RMSPROP) {
          v[i] = op->beta2 * v[i] + (1 - op->beta2) * gi * gi;
          p[i] -= op->lr * gi / (sqrt(v[i]) + op->eps);
        } else {
          m[i] = t == 1 ? gi : op->momentum * m[i] + gi;
          p[i] -= op->lr * m[i];
        }
      }
    }
    wf_net_get_params(net, got);
#ifdef WF_DOUBLE
    double tol = 1e-12;
#else
    double tol = 1e-5;
#endif
    CHECK(rel_err(got, p, np) < tol, "optimiser %d: err %g", o, rel_err(got, p, np));
  }
  wf_opt_spec bad = kinds[0];
  bad.lr = -1;
  CHECK(wf_net_opt_step(net, &bad) == WF_ERR_ARG, "negative lr refused");
  CHECK(wf_net_clip(net, 0.01) == WF_OK, "clip");
  wf_net_get_params(net, got);
  int inside = 1;
  for (size_t i = 0; i < np; i++) inside &= fabs(got[i]) <= 0.01 + 1e-9;
  CHECK(inside, "clip clamps every parameter");
  wf_net_free(net);

  /* a bare block (OTS's dual vector): Adam on a given gradient */
  char msg[WF_MSG_LEN];
  wf_block b;
  CHECK(wf_block_init(&b, dev, 5, msg) == WF_OK, "block init");
  double zero[5] = {0}, grad[5] = {1, -2, 3, -4, 5}, after[5];
  put(b.params, zero, 5);
  put(b.grad, grad, 5);
  CHECK(wf_block_step(&b, dev, &kinds[0], msg) == WF_OK && b.step == 1, "block step");
  get(after, b.params, 5);
  int signs = 1; /* Adam's first step moves each value by lr against its gradient */
  for (int i = 0; i < 5; i++) signs &= fabs(after[i] + 0.01 * (grad[i] > 0 ? 1 : -1)) < 1e-6;
  CHECK(signs, "block Adam's first step is -lr sign(g)");
  wf_block_free(&b, dev);
}

/* ---- clones, aliases and copies ------------------------------------------ */
static void clones_freeze_aliases_share_and_copy_params_copies(void) {
  wf_mlp_spec s = {.n_layers = 2, .widths = {2, 5, 1}, .activation = WF_ACT_TANH,
                   .init = WF_INIT_TORCH};
  char msg[WF_MSG_LEN];
  wf_net *net = make_net(&s, 17), *clone = NULL, *alias = NULL, *other = make_net(&s, 18);
  size_t np = wf_net_layout(net)->n_params;
  double *p0 = hvec(np), *p1 = hvec(np), *g0 = hvec(np), *g1 = hvec(np), *g2 = hvec(np);
  CHECK(wf_net_clone(net, &clone, msg) == WF_OK, "clone: %s", msg);
  CHECK(wf_net_alias(net, &alias, msg) == WF_OK, "alias: %s", msg);
  wf_net_get_params(net, p0);
  wf_net_get_params(clone, p1);
  CHECK(memcmp(p0, p1, np * sizeof(double)) == 0, "a clone starts equal");
  double *hx;
  wf_real *a = dnormal(8, 1, &hx), *b = dnormal(8, 1, NULL), *ones = dalloc(4);
  double one4[4] = {1, 1, 1, 1};
  put(ones, one4, 4);
  /* an alias and its net at two points in one step: the gradients add up */
  wf_net_zero_grad(net);
  wf_mlp_forward(net, a, 4, 1, NULL);
  wf_mlp_forward(alias, b, 4, 1, NULL);
  CHECK(wf_mlp_backward(net, ones, NULL) == WF_OK, "net backward after alias forward");
  CHECK(wf_mlp_backward(alias, ones, NULL) == WF_OK, "alias backward");
  wf_net_get_grad(net, g2);
  wf_net_zero_grad(net);
  wf_mlp_forward(net, a, 4, 1, NULL);
  wf_mlp_backward(net, ones, NULL);
  wf_net_get_grad(net, g0);
  wf_net_zero_grad(net);
  wf_mlp_forward(net, b, 4, 1, NULL);
  wf_mlp_backward(net, ones, NULL);
  wf_net_get_grad(net, g1);
  for (size_t i = 0; i < np; i++) g0[i] += g1[i];
  CHECK(rel_err(g2, g0, np) < 1e-5, "alias: separate caches, shared gradient (err %g)",
        rel_err(g2, g0, np));
  /* a step through the alias moves the net; the clone stays */
  wf_opt_spec sgd = {.kind = WF_OPT_SGD, .lr = 0.1, .eps = 1};
  wf_net_opt_step(alias, &sgd);
  wf_net_get_params(net, p1);
  CHECK(memcmp(p0, p1, np * sizeof(double)) != 0, "a step through an alias moves the net");
  wf_net_get_params(clone, p1);
  CHECK(memcmp(p0, p1, np * sizeof(double)) == 0, "a clone is a frozen snapshot");
  /* copy_params: other := net */
  CHECK(wf_net_copy_params(other, net) == WF_OK, "copy_params");
  wf_net_get_params(net, p0);
  wf_net_get_params(other, p1);
  CHECK(memcmp(p0, p1, np * sizeof(double)) == 0, "copy_params copies");
  wf_mlp_spec wider = s;
  wider.widths[1] = 6;
  wf_net *w = make_net(&wider, 1);
  CHECK(wf_net_copy_params(w, net) == WF_ERR_ARG, "copy_params refuses other shapes");
  wf_net_free(w);
  wf_net_free(net); /* the alias keeps the parameters alive */
  CHECK(wf_mlp_forward(alias, a, 4, 0, NULL) == WF_OK, "an alias outlives its net");
  wf_net_free(alias);
  wf_net_free(clone);
  wf_net_free(other);
  wf_device_free(dev, a);
  wf_device_free(dev, b);
  wf_device_free(dev, ones);
  free(hx), free(p0), free(p1), free(g0), free(g1), free(g2);
}

/* ---- refusals, and the normal init of norm scales ------------------------ */
static void net_create_refuses_bad_specs(void) {
  char msg[WF_MSG_LEN];
  wf_net *net;
  wf_mlp_spec bad = {.n_layers = 2, .widths = {2, 0, 1}};
  CHECK(wf_net_create(&bad, dev, 1, &net, msg) == WF_ERR_ARG && net == NULL &&
            strlen(msg) > 0,
        "zero width refused");
  wf_mlp_spec res = {.n_layers = 2, .widths = {2, 4, 3}, .residual = 1};
  CHECK(wf_net_create(&res, dev, 1, &net, msg) == WF_ERR_ARG, "residual with in != out refused");
  /* a normal norm gamma (the identity start of W2GAN's generator) needs
   * the normal init */
  wf_mlp_spec gn = {.n_layers = 3, .widths = {2, 32, 32, 2}, .activation = WF_ACT_RELU,
                    .norm = WF_NORM_BATCH, .residual = 1, .init = WF_INIT_TORCH,
                    .init_sd = 0.01, .gamma_normal = 1};
  CHECK(wf_net_create(&gn, dev, 1, &net, msg) == WF_ERR_ARG, "normal gamma needs normal init");
}

/* with the normal init, gamma_normal draws gamma ~ N(0, init_sd) and leaves
 * every other parameter as it is with gamma 1 */
static void normal_gamma_draws_only_the_norm_scales(void) {
  wf_mlp_spec gn = {.n_layers = 3, .widths = {2, 32, 32, 2}, .activation = WF_ACT_RELU,
                    .norm = WF_NORM_BATCH, .residual = 1, .init = WF_INIT_NORMAL,
                    .init_sd = 0.01, .gamma_normal = 1};
  wf_net *g1 = make_net(&gn, 3);
  gn.gamma_normal = 0;
  wf_net *g0 = make_net(&gn, 3);
  const wf_layout *gl = wf_net_layout(g1);
  double *p1 = hvec(gl->n_params), *p0 = hvec(gl->n_params);
  wf_net_get_params(g1, p1);
  wf_net_get_params(g0, p0);
  double sq = 0, rest = 0;
  for (int l = 0; l < 2; l++)
    for (int j = 0; j < 32; j++) {
      double gj = p1[gl->gamma[l] + j];
      sq += gj * gj / 64;
      CHECK(p0[gl->gamma[l] + j] == 1 && gj != 0 && p1[gl->beta[l] + j] == 0,
            "gamma normal, beta 0");
      p1[gl->gamma[l] + j] = p0[gl->gamma[l] + j];
    }
  for (size_t i = 0; i < gl->n_params; i++) rest += fabs(p1[i] - p0[i]);
  CHECK(fabs(sqrt(sq) - 0.01) < 0.003 && rest == 0,
        "gamma ~ N(0, 0.01) (rms %g), every other parameter as with gamma 1", sqrt(sq));
  free(p1), free(p0);
  wf_net_free(g1), wf_net_free(g0);
}

/* the second-order pass needs an input gradient first; a batch needs rows */
static void passes_refuse_a_missing_input_gradient_or_an_empty_batch(void) {
  wf_mlp_spec ok = {.n_layers = 2, .widths = {2, 4, 1}};
  wf_net *net = make_net(&ok, 1);
  wf_real *u = dalloc(2);
  CHECK(wf_mlp_double_backward(net, u, NULL, NULL, NULL) == WF_ERR_STATE,
        "double backward before input_grad refused");
  CHECK(wf_mlp_forward(net, u, 0, 0, NULL) == WF_ERR_ARG, "empty batch refused");
  wf_device_free(dev, u);
  wf_net_free(net);
}

int main(void) {
  open_cpu_device();
  net_streams_repeat_rewind_and_draw_indices_from_uniforms();
  optimisers_follow_torch_optim_on_nets_and_bare_blocks();
  net_create_refuses_bad_specs();
  normal_gamma_draws_only_the_norm_scales();
  passes_refuse_a_missing_input_gradient_or_an_empty_batch();
  clones_freeze_aliases_share_and_copy_params_copies();
  return finish("net");
}
