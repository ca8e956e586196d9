/* w1fe_run.h — W1-FE-LP training runs through the generic trainer on any
 * device, for the programs that compare or time backends (gpu_epochs.c,
 * bench/gpu_w1fe.c): MLPs, or the DCGAN pair as stacks of layers. No R;
 * everything through the engine's C API. */
#ifndef WF_W1FE_RUN_H
#define WF_W1FE_RUN_H

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "trainer.h"

/* A workload: data dimension, hidden widths (ReLU), batch, critic steps,
 * persistency K; dcgan > 0: instead of MLPs, the DCGAN pair of that width
 * on 28 x 28 images (d = 784, latent W1FE_DCGAN_LATENT; w1fe_dcgan_specs). */
typedef struct {
  const char *name;
  int d, n_hidden, hidden[4], m, n_critic, K;
  int dcgan;
} w1fe_workload;

static const w1fe_workload W1FE_2D = {"2d", 2, 3, {128, 128, 128}, 512, 10, 3, 0};
static const w1fe_workload W1FE_IMAGE = {"image", 784, 2, {1024, 1024}, 64, 5, 3, 0};
/* the papers' DCGAN pair at a quarter of its width (64), to stay quick */
static const w1fe_workload W1FE_DCGAN = {"dcgan", 784, 0, {0}, 64, 5, 3, 16};

#define W1FE_DCGAN_LATENT 100

typedef struct {
  wf_net *critic, *gen;
  wf_trainer *t;
} w1fe_run;

/* n rows of the workload's data, row-major: 8 Gaussians in 2-D (as
 * wf_toy), uniform on [-1, 1]^d otherwise; a fixed LCG stream. */
static double *w1fe_data(const w1fe_workload *w, int n) {
  double *x = malloc(sizeof(double) * (size_t)n * w->d);
  uint64_t s = 12345;
  for (size_t i = 0; i < (size_t)n * w->d; i++) {
    s = s * 6364136223846793005ull + 1442695040888963407ull;
    x[i] = (double)(s >> 11) / 9007199254740992.0 * 2 - 1;
  }
  if (w->d == 2)
    for (int i = 0; i < n; i++) {
      double a = (i % 8) * 0.7853981633974483;
      x[2 * i] = (2 * cos(a) + 0.02 * x[2 * i]) / 1.414;
      x[2 * i + 1] = (2 * sin(a) + 0.02 * x[2 * i + 1]) / 1.414;
    }
  return x;
}

static wf_mlp_spec w1fe_spec(const w1fe_workload *w, int in, int out) {
  wf_mlp_spec s = {.n_layers = w->n_hidden + 1, .activation = WF_ACT_RELU,
                   .init = WF_INIT_TORCH};
  s.widths[0] = in;
  for (int l = 0; l < w->n_hidden; l++) s.widths[l + 1] = w->hidden[l];
  s.widths[w->n_hidden + 1] = out;
  return s;
}

/* The DCGAN pair at width k (channels k and 2k), N(0, 0.02) init:
 *   generator  latent 100 -> dense(2k 7 7) -> reshape(2k, 7, 7) -> BatchNorm
 *              -> relu -> conv_transpose2d(k, 4, 2, 1) -> BatchNorm -> relu
 *              -> conv_transpose2d(1, 4, 2, 1) -> tanh
 *   critic     (1, 28, 28) -> conv2d(k, 4, 2, 1) -> leaky_relu(0.2)
 *              -> conv2d(2k, 4, 2, 1) -> leaky_relu(0.2) -> flatten -> dense(1)
 */
static void w1fe_dcgan_specs(int k, wf_stack_spec *critic, wf_stack_spec *gen) {
  wf_layer_spec bn = {.kind = WF_LAYER_BATCH_NORM};
  wf_layer_spec relu = {.kind = WF_LAYER_ACTIVATION, .act = WF_ACT_RELU};
  wf_layer_spec leaky = {.kind = WF_LAYER_ACTIVATION, .act = WF_ACT_LEAKY_RELU,
                         .slope = 0.2};
  *gen = (wf_stack_spec){.n_layers = 9, .in = {W1FE_DCGAN_LATENT, 1, 1},
                         .init = WF_INIT_NORMAL, .init_sd = 0.02};
  gen->layer[0] = (wf_layer_spec){.kind = WF_LAYER_DENSE, .units = 2 * k * 49, .bias = 1};
  gen->layer[1] = (wf_layer_spec){.kind = WF_LAYER_RESHAPE, .shape = {2 * k, 7, 7}};
  gen->layer[2] = bn, gen->layer[3] = relu;
  gen->layer[4] = (wf_layer_spec){.kind = WF_LAYER_CONV_T2D, .units = k, .kernel = 4,
                                  .stride = 2, .padding = 1, .bias = 1};
  gen->layer[5] = bn, gen->layer[6] = relu;
  gen->layer[7] = (wf_layer_spec){.kind = WF_LAYER_CONV_T2D, .units = 1, .kernel = 4,
                                  .stride = 2, .padding = 1, .bias = 1};
  gen->layer[8] = (wf_layer_spec){.kind = WF_LAYER_ACTIVATION, .act = WF_ACT_TANH};
  *critic = (wf_stack_spec){.n_layers = 6, .in = {1, 28, 28}, .init = WF_INIT_NORMAL,
                            .init_sd = 0.02};
  critic->layer[0] = (wf_layer_spec){.kind = WF_LAYER_CONV2D, .units = k, .kernel = 4,
                                     .stride = 2, .padding = 1, .bias = 1};
  critic->layer[1] = leaky;
  critic->layer[2] = (wf_layer_spec){.kind = WF_LAYER_CONV2D, .units = 2 * k, .kernel = 4,
                                     .stride = 2, .padding = 1, .bias = 1};
  critic->layer[3] = leaky;
  critic->layer[4] = (wf_layer_spec){.kind = WF_LAYER_FLATTEN};
  critic->layer[5] = (wf_layer_spec){.kind = WF_LAYER_DENSE, .units = 1, .bias = 1};
}

/* Nets (seeded) and a trainer on dev with n data rows; 0 on success. */
static int w1fe_open(w1fe_run *r, wf_device *dev, const w1fe_workload *w,
                     const double *data, int n, uint64_t seed, char *msg) {
  wf_opt_spec adam = {.kind = WF_OPT_ADAM, .lr = 1e-4, .beta1 = 0.9, .beta2 = 0.999,
                      .eps = 1e-8};
  wf_opt_spec opts[2] = {adam, adam};
  r->critic = r->gen = NULL;
  r->t = NULL;
  if (w->dcgan > 0) {
    wf_stack_spec cs, gs;
    w1fe_dcgan_specs(w->dcgan, &cs, &gs);
    if (wf_net_create_stack(&cs, dev, seed, &r->critic, msg) != WF_OK) return 1;
    if (wf_net_create_stack(&gs, dev, seed + 1, &r->gen, msg) != WF_OK) return 1;
  } else {
    wf_mlp_spec cs = w1fe_spec(w, w->d, 1), gs = w1fe_spec(w, w->d, w->d);
    if (wf_net_create(&cs, dev, seed, &r->critic, msg) != WF_OK) return 1;
    if (wf_net_create(&gs, dev, seed + 1, &r->gen, msg) != WF_OK) return 1;
  }
  wf_net *nets[2] = {r->critic, r->gen};
  int cols = w->d;
  return wf_trainer_create(wf_algo_find("w1fe"), nets, opts, 2, &data, &n, &cols, 1,
                           &r->t, msg) != WF_OK;
}

static void w1fe_close(w1fe_run *r) {
  wf_trainer_free(r->t);
  wf_net_free(r->critic);
  wf_net_free(r->gen);
}

/* One epoch; out[7]: critic_loss, w1_critic, penalty, grad_norm,
 * euler_grad_norm, fit_mse_first, fit_mse_last. 0 on success. */
static int w1fe_epoch(w1fe_run *r, const w1fe_workload *w, double *out) {
  const char *cn[] = {"batch_size", "steps", "penalty", "lambda", "clip"};
  double cv[] = {w->m, w->n_critic, WF_PENALTY_LP, 10, 0};
  const char *en[] = {"batch_size", "step_size"};
  double ev[] = {w->m, 1.0};
  const char *fn[] = {"persistency", "mode"};
  double fv[] = {w->K, 0}; /* mode 0: regression onto the Euler step's points */
  wf_args ca = {cn, cv, 5, NULL}, ea = {en, ev, 2, NULL}, fa = {fn, fv, 2, NULL};
  wf_trainer *t = r->t;
  if (wf_trainer_run(t, wf_trainer_phase(t, "critic"), &ca, out) != WF_OK) return 1;
  if (wf_trainer_run(t, wf_trainer_phase(t, "euler"), &ea, out + 4) != WF_OK) return 1;
  if (wf_trainer_run(t, wf_trainer_phase(t, "fit"), &fa, out + 5) != WF_OK) return 1;
  return 0;
}

#endif
