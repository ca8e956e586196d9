/* selfcheck.c — a quick comparison of a device with a reference device
 * (the CPU) on the ops a training step uses, so that a wrong kernel refuses
 * the device instead of silently producing results. Run once per session,
 * on first use of the GPU. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "device.h"
#include "philox.h"
#include "trainer.h"

/* the data of the check: a reproducible stream of its own */
static double draw(uint32_t i) {
  uint32_t key[2] = {0x5e1fc0deu, 7}, r[4];
  wf_philox_block(key, i / 4, r);
  return 2.0 * wf_philox_unit(r[i % 4]) - 1.0;
}

/* max |a - b| / (1e-3 + max |b|) */
static double rel_diff(const double *a, const double *b, size_t n) {
  double num = 0, den = 1e-3;
  for (size_t i = 0; i < n; i++) {
    double d = fabs(a[i] - b[i]);
    if (!(d <= num)) num = d; /* NaN wins */
    if (fabs(b[i]) > den) den = fabs(b[i]);
  }
  return num / den;
}

/* One device's results: a critic step (LP penalty, SGD) from the same
 * start, a generator's forward with BatchNorm in training mode, and
 * uniform draws. out: [n_critic params | 4 slots | m*d gen out | 64 u]. */
static wf_status run_on(wf_device *dev, int m, double *out, size_t *n_out,
                        char *msg) {
  wf_mlp_spec cs = {.n_layers = 3, .widths = {3, 32, 32, 1},
                    .activation = WF_ACT_TANH, .norm = WF_NORM_LAYER,
                    .init = WF_INIT_TORCH};
  wf_mlp_spec gs = {.n_layers = 3, .widths = {3, 32, 32, 3},
                    .activation = WF_ACT_RELU, .norm = WF_NORM_BATCH,
                    .init = WF_INIT_TORCH};
  /* SGD, not Adam: Adam's first step is lr * sign(g), which turns a
   * rounding difference in a near-zero gradient into a full 2 lr */
  wf_opt_spec sgd = {.kind = WF_OPT_SGD, .lr = 0.1, .eps = 1};
  wf_net *critic = NULL, *gen = NULL;
  wf_critic_ws ws = {0};
  size_t nx = (size_t)m * 3;
  double *host = malloc(nx * 2 * sizeof(double));
  wf_real *real = wf_device_alloc(dev, nx), *fake = wf_device_alloc(dev, nx);
  wf_real *y = wf_device_alloc(dev, nx), *u = wf_device_alloc(dev, 64);
  double *slots = wf_device_alloc_scalars(dev, WF_CRITIC_SLOTS);
  wf_status rc = host && real && fake && y && u && slots ? WF_OK : WF_ERR_NOMEM;
  if (rc != WF_OK) snprintf(msg, WF_MSG_LEN, "out of memory");
  if (rc == WF_OK) rc = wf_net_create(&cs, dev, 11, &critic, msg);
  if (rc == WF_OK) rc = wf_net_create(&gs, dev, 12, &gen, msg);
  if (rc == WF_OK) {
    for (size_t i = 0; i < 2 * nx; i++) host[i] = draw((uint32_t)i) + (i < nx ? 0.5 : 0);
    rc = wf_device_upload(dev, real, host, nx);
    if (rc == WF_OK) rc = wf_device_upload(dev, fake, host + nx, nx);
    if (rc != WF_OK) snprintf(msg, WF_MSG_LEN, "%s", wf_device_message(dev));
  }
  if (rc == WF_OK) {
    rc = wf_critic_step(critic, &ws, real, fake, m, NULL, WF_PENALTY_LP, 10, &sgd,
                        0, slots);
    if (rc != WF_OK) snprintf(msg, WF_MSG_LEN, "%s", wf_net_message(critic));
  }
  if (rc == WF_OK) {
    rc = wf_mlp_forward(gen, real, m, 1, y);
    if (rc == WF_OK) rc = wf_net_uniform(gen, u, 64);
    if (rc != WF_OK) snprintf(msg, WF_MSG_LEN, "%s", wf_net_message(gen));
  }
  size_t np = rc == WF_OK ? wf_net_layout(critic)->n_params : 0;
  if (rc == WF_OK) rc = wf_net_get_params(critic, out);
  if (rc == WF_OK) rc = wf_device_read_scalars(dev, out + np, slots, WF_CRITIC_SLOTS);
  if (rc == WF_OK) rc = wf_device_download(dev, out + np + WF_CRITIC_SLOTS, y, nx);
  if (rc == WF_OK)
    rc = wf_device_download(dev, out + np + WF_CRITIC_SLOTS + nx, u, 64);
  if (rc != WF_OK && msg[0] == '\0')
    snprintf(msg, WF_MSG_LEN, "%s", wf_device_message(dev));
  *n_out = np + WF_CRITIC_SLOTS + nx + 64;
  wf_critic_ws_free(&ws);
  wf_net_free(critic);
  wf_net_free(gen);
  wf_device_free(dev, real);
  wf_device_free(dev, fake);
  wf_device_free(dev, y);
  wf_device_free(dev, u);
  wf_device_free(dev, slots);
  free(host);
  return rc;
}

/* Two epochs of a small W1-FE run with recorded steps or without; out
 * [14]: the phase outputs of both epochs, then the generator's params
 * after them in out + 14. */
static wf_status w1fe_epochs(wf_device *dev, int graphs, double *out, size_t *np,
                             char *msg) {
  enum { N = 256, D = 2, M = 64 };
  wf_mlp_spec cs = {.n_layers = 3, .widths = {D, 16, 16, 1},
                    .activation = WF_ACT_RELU, .init = WF_INIT_TORCH};
  wf_mlp_spec gs = {.n_layers = 3, .widths = {D, 16, 16, D},
                    .activation = WF_ACT_RELU, .init = WF_INIT_TORCH};
  wf_opt_spec adam = {.kind = WF_OPT_ADAM, .lr = 1e-3, .beta1 = 0.5, .beta2 = 0.9,
                      .eps = 1e-8};
  wf_opt_spec opts[2] = {adam, adam};
  double data[N * D];
  for (int i = 0; i < N * D; i++) data[i] = draw((uint32_t)(1000 + i));
  const double *dp = data;
  int rows = N, cols = D;
  wf_net *nets[2] = {NULL, NULL};
  wf_trainer *t = NULL;
  wf_status rc = wf_net_create(&cs, dev, 3, &nets[0], msg);
  if (rc == WF_OK) rc = wf_net_create(&gs, dev, 4, &nets[1], msg);
  if (rc == WF_OK)
    rc = wf_trainer_create(wf_algo_find("w1fe"), nets, opts, 2, &dp, &rows, &cols, 1,
                           &t, msg);
  if (rc == WF_OK) t->graphs = graphs;
  const char *cn[] = {"batch_size", "steps", "penalty", "lambda", "clip"};
  const char *en[] = {"batch_size", "step_size"};
  const char *fn[] = {"persistency", "mode"};
  double cv[] = {M, 4, WF_PENALTY_LP, 10, 0}, ev[] = {M, 1}, fv[] = {3, 0};
  wf_args ca = {cn, cv, 5, NULL}, ea = {en, ev, 2, NULL}, fa = {fn, fv, 2, NULL};
  for (int e = 0; e < 2 && rc == WF_OK; e++) {
    double *o = out + 7 * e;
    rc = wf_trainer_run(t, wf_trainer_phase(t, "critic"), &ca, o);
    if (rc == WF_OK) rc = wf_trainer_run(t, wf_trainer_phase(t, "euler"), &ea, o + 4);
    if (rc == WF_OK) rc = wf_trainer_run(t, wf_trainer_phase(t, "fit"), &fa, o + 5);
    if (rc != WF_OK) snprintf(msg, WF_MSG_LEN, "%s", wf_trainer_message(t));
  }
  if (rc == WF_OK) {
    *np = wf_net_layout(nets[1])->n_params;
    rc = wf_net_get_params(nets[1], out + 14);
  }
  wf_trainer_free(t);
  wf_net_free(nets[0]);
  wf_net_free(nets[1]);
  return rc;
}

/* Recorded and replayed steps against eager ones on the same device: the
 * same kernels on the same inputs, so the same bits. Switches the device's
 * graphs off (and says so in msg) if they differ or fail. */
static void check_graphs(wf_device *dev, char *msg) {
  double a[2048], b[2048];
  size_t na = 0, nb = 0;
  char m1[WF_MSG_LEN] = "", m2[WF_MSG_LEN] = "";
  wf_status ra = w1fe_epochs(dev, 1, a, &na, m1);
  wf_status rb = w1fe_epochs(dev, 0, b, &nb, m2);
  if (ra == WF_OK && rb == WF_OK && na == nb &&
      memcmp(a, b, (14 + na) * sizeof(double)) == 0)
    return;
  dev->graphs = 0;
  snprintf(msg, WF_MSG_LEN,
           "recorded training steps (graphs) disagree with eager ones on the %s "
           "backend (%s); steps run eagerly",
           dev->be->name, ra != WF_OK ? m1 : rb != WF_OK ? m2 : "different results");
}

wf_status wf_device_selfcheck(wf_device *test, wf_device *ref, char *msg) {
  enum { M = 37, MAX_OUT = 4096 };
  double *a = calloc(2 * MAX_OUT, sizeof(double)), *b = a + MAX_OUT;
  if (a == NULL) return wf_fail_msg(msg, WF_ERR_NOMEM, "out of memory");
  size_t na = 0, nb = 0;
  msg[0] = '\0';
  wf_status rc = run_on(test, M, a, &na, msg);
  if (rc == WF_OK) rc = run_on(ref, M, b, &nb, msg);
  if (rc == WF_OK) {
    size_t np = na - WF_CRITIC_SLOTS - 3 * M - 64;
    double e_params = rel_diff(a, b, np);
    double e_slots = rel_diff(a + np, b + np, WF_CRITIC_SLOTS);
    double e_gen = rel_diff(a + np + WF_CRITIC_SLOTS, b + np + WF_CRITIC_SLOTS, 3 * M);
    int same_u = memcmp(a + na - 64, b + nb - 64, 64 * sizeof(double)) == 0;
    if (!(e_params < 1e-4 && e_slots < 1e-4 && e_gen < 1e-4 && same_u))
      rc = wf_fail_msg(msg, WF_ERR_DEVICE,
                       "the %s backend disagrees with the CPU on a training step "
                       "(relative differences: critic step %.2g, losses %.2g, "
                       "BatchNorm generator %.2g; uniform draws %s)",
                       wf_device_backend(test)->name, e_params, e_slots, e_gen,
                       same_u ? "equal" : "differ");
  }
  free(a);
  if (rc == WF_OK && test->graphs) check_graphs(test, msg);
  return rc;
}
