/* gpu_epochs.c — whole W1-FE epochs on the CUDA backend against the CPU
 * backend, and the device-memory test. Built by tools/gpu-check with the
 * CPU and CUDA backends linked in (float); no R.
 *
 *   gpu_epochs epochs    3 epochs of each workload (W1-FE with MLPs and with
 *                        the DCGAN pair as stacks of layers, 2 epochs; RWP
 *                        with WGAN-GP and DRAGAN critics, SBE) on both
 *                        devices, from the same seeds: every phase output
 *                        and the final generator within float tolerance;
 *                        and recorded (graph) steps against eager ones on
 *                        the GPU: the same bits
 *   gpu_epochs memory    100 consecutive small fits on one CUDA device:
 *                        the allocator's live memory back at its start after
 *                        every fit, and the device's used memory the same
 *                        after the last fit as after the first
 *   gpu_epochs short     one small epoch of MLPs and one of a narrow DCGAN
 *                        pair (for compute-sanitizer)
 * Ends with "<mode>: N passed, M failed".
 */
#include <cuda_runtime.h>
#include <string.h>

#include "prox_run.h"
#include "test_util.h"
#include "w1fe_run.h"

const wf_backend *wf_cuda_backend(void);

static wf_device *open_device(const wf_backend *be) {
  char msg[WF_MSG_LEN];
  wf_device *dev = NULL;
  if (wf_device_open(be, &dev, msg) != WF_OK) {
    fprintf(stderr, "device %s: %s\n", be->name, msg);
    exit(2);
  }
  return dev;
}

/* max |a - b| / (1e-3 + max |b|) */
static double rel_diff(const double *a, const double *b, size_t n) {
  double num = 0, den = 1e-3;
  for (size_t i = 0; i < n; i++) {
    double d = fabs(a[i] - b[i]);
    if (!(d <= num)) num = d;
    if (fabs(b[i]) > den) den = fabs(b[i]);
  }
  return num / den;
}

static void epochs_match(wf_device *gpu, wf_device *cpu, const w1fe_workload *w,
                         int epochs) {
  int n = 4096;
  double *data = w1fe_data(w, n);
  w1fe_run run[2];
  wf_device *devs[2] = {gpu, cpu};
  double out[2][7];
  char msg[WF_MSG_LEN];
  for (int k = 0; k < 2; k++) {
    int bad = w1fe_open(&run[k], devs[k], w, data, n, 5, msg);
    CHECK(!bad, "%s open on %s: %s", w->name, wf_device_backend(devs[k])->name, msg);
    if (bad) exit(1);
  }
  double worst = 0;
  for (int e = 0; e < epochs; e++) {
    for (int k = 0; k < 2; k++)
      CHECK(w1fe_epoch(&run[k], w, out[k]) == 0, "%s epoch %d on %s: %s", w->name,
            e + 1, wf_device_backend(devs[k])->name, wf_trainer_message(run[k].t));
    double d = rel_diff(out[0], out[1], 7);
    if (d > worst) worst = d;
  }
  size_t np = wf_net_layout(run[0].gen)->n_params;
  double *p = malloc(2 * np * sizeof(double));
  wf_net_get_params(run[0].gen, p);
  wf_net_get_params(run[1].gen, p + np);
  double dp = rel_diff(p, p + np, np);
  printf("epochs %-6s %d epochs: max rel diff of phase outputs %.3g, of the "
         "generator %.3g\n", w->name, epochs, worst, dp);
  /* float sums in another order, chaos of training: loose but meaningful */
  CHECK(worst < 5e-3, "%s: phase outputs differ by %g", w->name, worst);
  CHECK(dp < 1e-2, "%s: generators differ by %g", w->name, dp);
  free(p);
  for (int k = 0; k < 2; k++) w1fe_close(&run[k]);
  free(data);
}

/* Recorded and replayed steps (CUDA graphs) against eager steps on the
 * same device: the same kernels on the same inputs, so the same bits. */
static void graphs_match(wf_device *gpu, const w1fe_workload *w, int epochs) {
  int n = 4096;
  double *data = w1fe_data(w, n);
  w1fe_run run[2];
  double out[2][7];
  char msg[WF_MSG_LEN];
  int same = 1;
  for (int k = 0; k < 2; k++) {
    int bad = w1fe_open(&run[k], gpu, w, data, n, 9, msg);
    CHECK(!bad, "%s open: %s", w->name, msg);
    if (bad) exit(1);
  }
  wf_trainer_set_graphs(run[1].t, 0);
  for (int e = 0; e < epochs; e++) {
    for (int k = 0; k < 2; k++)
      CHECK(w1fe_epoch(&run[k], w, out[k]) == 0, "%s epoch %d (graphs %s): %s", w->name,
            e + 1, k ? "off" : "on", wf_trainer_message(run[k].t));
    same &= memcmp(out[0], out[1], sizeof(out[0])) == 0;
  }
  size_t np = wf_net_layout(run[0].gen)->n_params;
  double *p = malloc(2 * np * sizeof(double));
  wf_net_get_params(run[0].gen, p);
  wf_net_get_params(run[1].gen, p + np);
  uint64_t k0, c0, k1, c1;
  wf_net_get_rng(run[0].critic, &k0, &c0);
  wf_net_get_rng(run[1].critic, &k1, &c1);
  printf("graphs %-6s %d epochs: replayed and eager steps %s; generators %s; "
         "critic streams at %llu and %llu\n", w->name, epochs,
         same ? "give the same outputs" : "DIFFER",
         memcmp(p, p + np, np * sizeof(double)) == 0 ? "identical" : "DIFFER",
         (unsigned long long)c0, (unsigned long long)c1);
  CHECK(same, "%s: replayed steps differ from eager ones", w->name);
  CHECK(memcmp(p, p + np, np * sizeof(double)) == 0, "%s: generators differ", w->name);
  CHECK(c0 == c1, "%s: the stream mirrors differ", w->name);
  free(p);
  for (int k = 0; k < 2; k++) w1fe_close(&run[k]);
  free(data);
}

static size_t device_used(void) {
  size_t free_b = 0, total = 0;
  cudaDeviceSynchronize();
  cudaMemGetInfo(&free_b, &total);
  return total - free_b;
}

static void memory_test(wf_device *gpu) {
  w1fe_workload w = W1FE_2D;
  w.hidden[0] = w.hidden[1] = w.hidden[2] = 32;
  w.m = 128;
  w.n_critic = 2;
  int n = 2000;
  double *data = w1fe_data(&w, n), out[7];
  char msg[WF_MSG_LEN];
  int live0 = wf_device_knob(gpu, "live_kib", -1);
  size_t used_start = device_used(), used_first = 0;
  int live_ok = 1;
  for (int fit = 0; fit < 100; fit++) {
    w1fe_run r;
    if (w1fe_open(&r, gpu, &w, data, n, 100 + fit, msg) != 0) {
      CHECK(0, "fit %d: %s", fit, msg);
      break;
    }
    for (int e = 0; e < 2; e++) w1fe_epoch(&r, &w, out);
    w1fe_close(&r);
    int live = wf_device_knob(gpu, "live_kib", -1);
    live_ok &= live == live0;
    if (fit == 0) used_first = device_used();
  }
  size_t used_last = device_used();
  wf_device_knob(gpu, "cache_mb", 0); /* hand the cache back to the driver */
  size_t used_released = device_used();
  printf("memory: allocator live %d KiB before, %d KiB after 100 fits; device "
         "used %.1f MiB at the start, %.1f after fit 1, %.1f after fit 100, "
         "%.1f with the cache released\n",
         live0, wf_device_knob(gpu, "live_kib", -1), used_start / 1048576.0,
         used_first / 1048576.0, used_last / 1048576.0, used_released / 1048576.0);
  CHECK(live0 >= 0, "the CUDA backend reports its live memory (knob live_kib)");
  CHECK(live_ok, "every fit gives back all it allocated");
  CHECK(used_last == used_first, "device memory after 100 fits is where it was "
        "after the first (%zu vs %zu bytes)", used_last, used_first);
  /* cuBLAS keeps its own workspace: allow it, nothing that grows */
  CHECK(used_released <= used_start + ((size_t)64 << 20),
        "with the cache released, device memory is back near its start "
        "(%zu vs %zu bytes)", used_released, used_start);
  free(data);
}

/* NaN outputs (the GAN losses' w1_critic) compare as equal */
static void clear_nan(double *v, int n) {
  for (int i = 0; i < n; i++)
    if (isnan(v[i])) v[i] = 0;
}

/* RWP and SBE outer iterations on the GPU against the CPU, from the same
 * seeds (prox_run.h) */
static void prox_match(wf_device *gpu, wf_device *cpu, const prox_workload *w,
                       int epochs) {
  int n = 4096;
  double *data = w1fe_data(&W1FE_2D, n), out[2][8], worst = 0;
  prox_run run[2];
  wf_device *devs[2] = {gpu, cpu};
  char msg[WF_MSG_LEN];
  for (int k = 0; k < 2; k++) {
    int bad = prox_open(&run[k], devs[k], w, data, n, 5, msg);
    CHECK(!bad, "%s open on %s: %s", w->name, wf_device_backend(devs[k])->name, msg);
    if (bad) exit(1);
  }
  for (int e = 0; e < epochs; e++) {
    for (int k = 0; k < 2; k++) {
      CHECK(prox_epoch(&run[k], w, out[k]) == 0, "%s epoch %d on %s: %s", w->name,
            e + 1, wf_device_backend(devs[k])->name, wf_trainer_message(run[k].t));
      clear_nan(out[k], 8);
    }
    double d = rel_diff(out[0], out[1], 8);
    if (d > worst) worst = d;
  }
  size_t np = wf_net_layout(run[0].nets[1])->n_params;
  double *p = malloc(2 * np * sizeof(double));
  wf_net_get_params(run[0].nets[1], p);
  wf_net_get_params(run[1].nets[1], p + np);
  double dp = rel_diff(p, p + np, np);
  printf("epochs %-10s %d outer iterations: max rel diff of phase outputs %.3g, of "
         "the generator %.3g\n", w->name, epochs, worst, dp);
  CHECK(worst < 5e-3, "%s: phase outputs differ by %g", w->name, worst);
  CHECK(dp < 1e-2, "%s: generators differ by %g", w->name, dp);
  free(p);
  for (int k = 0; k < 2; k++) prox_close(&run[k]);
  free(data);
}

/* their recorded steps (the critic's, the generator's l, SBE's potential
 * steps) against eager ones on the GPU: the same bits */
static void prox_graphs_match(wf_device *gpu, const prox_workload *w, int epochs) {
  int n = 4096, same = 1;
  double *data = w1fe_data(&W1FE_2D, n), out[2][8];
  prox_run run[2];
  char msg[WF_MSG_LEN];
  for (int k = 0; k < 2; k++) {
    int bad = prox_open(&run[k], gpu, w, data, n, 9, msg);
    CHECK(!bad, "%s open: %s", w->name, msg);
    if (bad) exit(1);
  }
  wf_trainer_set_graphs(run[1].t, 0);
  for (int e = 0; e < epochs; e++) {
    for (int k = 0; k < 2; k++)
      CHECK(prox_epoch(&run[k], w, out[k]) == 0, "%s epoch %d (graphs %s): %s", w->name,
            e + 1, k ? "off" : "on", wf_trainer_message(run[k].t));
    same &= memcmp(out[0], out[1], sizeof(out[0])) == 0;
  }
  int nets_same = 1;
  for (int i = 0; i < run[0].n_nets; i++) {
    size_t np = wf_net_layout(run[0].nets[i])->n_params;
    double *p = malloc(2 * np * sizeof(double));
    wf_net_get_params(run[0].nets[i], p);
    wf_net_get_params(run[1].nets[i], p + np);
    nets_same &= memcmp(p, p + np, np * sizeof(double)) == 0;
    free(p);
  }
  printf("graphs %-10s %d outer iterations: replayed and eager steps %s; nets %s\n",
         w->name, epochs, same ? "give the same outputs" : "DIFFER",
         nets_same ? "identical" : "DIFFER");
  CHECK(same, "%s: replayed steps differ from eager ones", w->name);
  CHECK(nets_same, "%s: nets differ", w->name);
  for (int k = 0; k < 2; k++) prox_close(&run[k]);
  free(data);
}

int main(int argc, char **argv) {
  const char *mode = argc > 1 ? argv[1] : "epochs";
  wf_device *gpu = open_device(wf_cuda_backend());
  if (strcmp(mode, "epochs") == 0) {
    wf_device *cpu = open_device(wf_cpu_backend());
    char msg[WF_MSG_LEN];
    CHECK(wf_device_selfcheck(gpu, cpu, msg) == WF_OK, "self-check: %s", msg);
    epochs_match(gpu, cpu, &W1FE_2D, 3);
    epochs_match(gpu, cpu, &W1FE_IMAGE, 3);
    epochs_match(gpu, cpu, &W1FE_DCGAN, 2);
    graphs_match(gpu, &W1FE_2D, 4);
    graphs_match(gpu, &W1FE_IMAGE, 2);
    graphs_match(gpu, &W1FE_DCGAN, 2);
    const prox_workload *prox[] = {&PROX_RWP, &PROX_RWP_DRAGAN, &PROX_SBE};
    for (int i = 0; i < 3; i++) {
      prox_match(gpu, cpu, prox[i], 3);
      prox_graphs_match(gpu, prox[i], 3);
    }
    wf_device_release(cpu);
  } else if (strcmp(mode, "memory") == 0) {
    memory_test(gpu);
  } else if (strcmp(mode, "short") == 0) {
    w1fe_workload w = W1FE_2D;
    w.m = 64;
    w.n_critic = 2;
    double *data = w1fe_data(&w, 500), out[7];
    char msg[WF_MSG_LEN];
    w1fe_run r;
    CHECK(w1fe_open(&r, gpu, &w, data, 500, 1, msg) == 0, "open: %s", msg);
    CHECK(w1fe_epoch(&r, &w, out) == 0, "epoch: %s", wf_trainer_message(r.t));
    w1fe_close(&r);
    free(data);
    /* the layers' kernels (im2col, col2im, transposes, BatchNorm over
     * channels) in recorded and replayed steps */
    w1fe_workload dc = W1FE_DCGAN;
    dc.dcgan = 8;
    dc.m = 16;
    dc.n_critic = 3;
    dc.K = 2;
    data = w1fe_data(&dc, 200);
    CHECK(w1fe_open(&r, gpu, &dc, data, 200, 2, msg) == 0, "open dcgan: %s", msg);
    CHECK(w1fe_epoch(&r, &dc, out) == 0, "dcgan epoch: %s", wf_trainer_message(r.t));
    w1fe_close(&r);
    free(data);
  } else {
    fprintf(stderr, "usage: gpu_epochs epochs|memory|short\n");
    return 2;
  }
  CHECK(wf_device_sync(gpu) == WF_OK, "no asynchronous error: %s", wf_device_message(gpu));
  wf_device_release(gpu);
  printf("%s: %d passed, %d failed\n", mode, n_pass, n_fail);
  return n_fail == 0 ? 0 : 1;
}
