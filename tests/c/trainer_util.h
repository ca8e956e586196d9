/* trainer_util.h — what the C tests of the trainer and its algorithm
 * families share: running a phase by name with named arguments, the W1-FE
 * trainer of the tests (RWP's tests compare against it), and a comparison
 * of two nets' parameters. Builds on net_util.h; included once per
 * program. */
#ifndef WF_TRAINER_UTIL_H
#define WF_TRAINER_UTIL_H

#include <stdlib.h>
#include <string.h>

#include "net_util.h"
#include "trainer.h"

/* Runs phase `name` of t with arguments names[i] = values[i] (i < n);
 * out: its named outputs. WF_ERR_ARG for an unknown phase. */
static inline wf_status phase(wf_trainer *t, const char *name, const char *const *names,
                              const double *values, int n, double *out) {
  wf_args a = {names, values, n, NULL};
  const wf_phase *p = wf_trainer_phase(t, name);
  return p == NULL ? WF_ERR_ARG : wf_trainer_run(t, p, &a, out);
}

/* A W1-FE trainer on data [n x 2]: nets[0] a tanh critic 2-16-16-1 (Adam),
 * nets[1] a ReLU generator 3-16-16-2 (gen_opt), seeds seed and seed + 1. */
static inline wf_trainer *w1fe_trainer(uint64_t seed, const double *data, int n,
                                       const wf_opt_spec *gen_opt, wf_net **nets) {
  wf_mlp_spec cs = {.n_layers = 3, .widths = {2, 16, 16, 1},
                    .activation = WF_ACT_TANH, .init = WF_INIT_TORCH};
  wf_mlp_spec gs = {.n_layers = 3, .widths = {3, 16, 16, 2},
                    .activation = WF_ACT_RELU, .init = WF_INIT_TORCH};
  nets[0] = make_net(&cs, seed);
  nets[1] = make_net(&gs, seed + 1);
  wf_opt_spec opts[2] = {{.kind = WF_OPT_ADAM, .lr = 1e-3, .beta1 = 0.5, .beta2 = 0.9,
                          .eps = 1e-8},
                         *gen_opt};
  int rows = n, cols = 2;
  char msg[WF_MSG_LEN];
  wf_trainer *t = NULL;
  wf_status rc = wf_trainer_create(wf_algo_find("w1fe"), nets, opts, 2, &data, &rows,
                                   &cols, 1, &t, msg);
  CHECK(rc == WF_OK, "trainer: %s", msg);
  return t;
}

/* 1 when a and b (of one layout) hold the same parameters, bit for bit */
static inline int same_params(wf_net *a, wf_net *b) {
  size_t np = wf_net_layout(a)->n_params;
  double *p = hvec(np), *q = hvec(np);
  wf_net_get_params(a, p);
  wf_net_get_params(b, q);
  int same = memcmp(p, q, np * sizeof(double)) == 0;
  free(p), free(q);
  return same;
}

#endif
