/* prox_run.h — RWP and SBE training runs (algo_rwp.c) through the generic
 * trainer on any device, for the programs that compare backends
 * (gpu_epochs.c). No R; everything through the engine's C API. */
#ifndef WF_PROX_RUN_H
#define WF_PROX_RUN_H

#include <stdlib.h>
#include <string.h>

#include "trainer.h"

/* A workload: "rwp" or "sbe", the critic-loss kind, l (generator steps),
 * and the 2-D networks of W1FE_2D (3 x 128 ReLU; latent 2) at batch 64. */
typedef struct {
  const char *name, *algo;
  int kind, penalty, l;
  double h;
} prox_workload;

static const prox_workload PROX_RWP = {"rwp-gp", "rwp", WF_CRITIC_WGAN, WF_PENALTY_GP, 10, 0.1};
static const prox_workload PROX_RWP_DRAGAN = {"rwp-dragan", "rwp", WF_CRITIC_DRAGAN,
                                              WF_PENALTY_NONE, 5, 0.2};
static const prox_workload PROX_SBE = {"sbe-gp", "sbe", WF_CRITIC_WGAN, WF_PENALTY_GP, 1, 0.2};

typedef struct {
  wf_net *nets[4];
  int n_nets;
  wf_trainer *t;
} prox_run;

/* Nets (seeded) and a trainer on dev with n data rows [n x 2]; 0 on success. */
static int prox_open(prox_run *r, wf_device *dev, const prox_workload *w,
                     const double *data, int n, uint64_t seed, char *msg) {
  wf_mlp_spec cs = {.n_layers = 4, .widths = {2, 128, 128, 128, 1},
                    .activation = WF_ACT_RELU, .init = WF_INIT_TORCH};
  wf_mlp_spec gs = cs;
  gs.widths[4] = 2;
  wf_mlp_spec ps = {.n_layers = 2, .widths = {2, 128, 1}, .activation = WF_ACT_TANH,
                    .norm = WF_NORM_LAYER, .init = WF_INIT_TORCH};
  wf_opt_spec adam = {.kind = WF_OPT_ADAM, .lr = 1e-4, .beta1 = 0.5, .beta2 = 0.9,
                      .eps = 1e-8};
  wf_opt_spec opts[4] = {adam, adam, adam, adam};
  memset(r, 0, sizeof(*r));
  r->n_nets = strcmp(w->algo, "sbe") == 0 ? 4 : 2;
  if (wf_net_create(&cs, dev, seed, &r->nets[0], msg) != WF_OK) return 1;
  if (wf_net_create(&gs, dev, seed + 1, &r->nets[1], msg) != WF_OK) return 1;
  if (r->n_nets == 4) {
    if (wf_net_create(&ps, dev, seed + 2, &r->nets[2], msg) != WF_OK) return 1;
    if (wf_net_clone(r->nets[1], &r->nets[3], msg) != WF_OK) return 1; /* the anchor */
  }
  int cols = 2;
  return wf_trainer_create(wf_algo_find(w->algo), r->nets, opts, r->n_nets, &data, &n,
                           &cols, 1, &r->t, msg) != WF_OK;
}

static void prox_close(prox_run *r) {
  wf_trainer_free(r->t);
  for (int i = 0; i < r->n_nets; i++) wf_net_free(r->nets[i]);
}

/* One outer iteration; out[8]: the critic's 4 outputs, then the
 * generator's 3 (rwp) or the potential's 2 and the generator's 2 (sbe), the
 * rest 0. 0 on success. */
static int prox_epoch(prox_run *r, const prox_workload *w, double *out) {
  const char *cn[] = {"batch_size", "steps", "loss", "penalty", "lambda", "perturb",
                      "clip"};
  double cv[] = {64, 5, w->kind, w->penalty, 10, 0.25, 0};
  const char *gn[] = {"batch_size", "steps", "loss", "h", "proximal"};
  double gv[] = {64, w->l, w->kind, w->h, 1};
  const char *pn[] = {"batch_size", "steps", "lag"};
  double pv[] = {64, 5, 1};
  const char *sn[] = {"batch_size", "steps", "loss", "h", "lag"};
  double sv[] = {64, w->l, w->kind, w->h, 1};
  wf_args ca = {cn, cv, 7, NULL}, ga = {gn, gv, 5, NULL}, pa = {pn, pv, 3, NULL},
          sa = {sn, sv, 5, NULL};
  wf_trainer *t = r->t;
  memset(out, 0, 8 * sizeof(double));
  if (wf_trainer_run(t, wf_trainer_phase(t, "critic"), &ca, out) != WF_OK) return 1;
  if (r->n_nets == 2)
    return wf_trainer_run(t, wf_trainer_phase(t, "generator"), &ga, out + 4) != WF_OK;
  if (wf_trainer_run(t, wf_trainer_phase(t, "potential"), &pa, out + 4) != WF_OK) return 1;
  return wf_trainer_run(t, wf_trainer_phase(t, "generator"), &sa, out + 6) != WF_OK;
}

#endif
