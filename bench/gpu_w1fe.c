/* gpu_w1fe.c — ms per epoch of W1-FE-LP through the generic trainer, on
 * the CUDA (or CPU) backend, for the workloads of bench/gpu_torch.py, with
 * the FLOPs of an epoch counted from its matrix products and the fraction
 * of the GPU's fp32 peak they reach. Built by tools/gpu-check; no R.
 *
 *   gpu_w1fe cuda|cpu 2d|image [epochs] [nograph]
 * prints "wgflow <backend> <workload> <ms/epoch> <epochs> <GFLOP/epoch>
 * <fraction of fp32 peak>" (the fraction is NA on the CPU).
 */
#include <cuda_runtime.h>
#include <string.h>
#include <time.h>

#include "w1fe_run.h"

const wf_backend *wf_cuda_backend(void);

/* The backend's table with its GEMM and the fused passes that run
 * products (row chains, weight-gradient lists) wrapped to count FLOPs
 * (2 m n k per product, the epilogues not counted). */
static wf_backend counted;
static void (*real_gemm)(wf_ctx *, int, int, int, int, int, wf_real, const wf_real *,
                         int, const wf_real *, int, wf_real, wf_real *, int,
                         const wf_epilogue *);
static void (*real_row_chain)(wf_ctx *, int, const wf_row_op *, int);
static void (*real_grad_products)(wf_ctx *, const wf_grad_product *, int);
static double flops = 0;

static void counting_gemm(wf_ctx *ctx, int ta, int tb, int m, int n, int k,
                          wf_real alpha, const wf_real *a, int lda, const wf_real *b,
                          int ldb, wf_real beta, wf_real *c, int ldc,
                          const wf_epilogue *ep) {
  flops += 2.0 * m * n * k;
  real_gemm(ctx, ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc, ep);
}

static void counting_row_chain(wf_ctx *ctx, int m, const wf_row_op *ops, int n) {
  for (int s = 0; s < n; s++)
    if (ops[s].kind == WF_ROW_PRODUCT) flops += 2.0 * m * ops[s].n * ops[s].k;
  real_row_chain(ctx, m, ops, n);
}

static void counting_grad_products(wf_ctx *ctx, const wf_grad_product *list, int n) {
  for (int e = 0; e < n; e++) flops += 2.0 * list[e].m * list[e].n * list[e].k;
  real_grad_products(ctx, list, n);
}

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec + 1e-9 * t.tv_nsec;
}

/* fp32 FLOP/s of device 0: SMs x fp32 lanes per SM x 2 x clock */
static double gpu_peak(void) {
  int sms = 0, khz = 0, major = 0, minor = 0;
  cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, 0);
  cudaDeviceGetAttribute(&khz, cudaDevAttrClockRate, 0);
  cudaDeviceGetAttribute(&major, cudaDevAttrComputeCapabilityMajor, 0);
  cudaDeviceGetAttribute(&minor, cudaDevAttrComputeCapabilityMinor, 0);
  int lanes = (major == 8 && minor == 0) || major < 8 ? 64 : 128;
  return (double)sms * lanes * 2.0 * khz * 1e3;
}

int main(int argc, char **argv) {
  if (argc < 3) {
    fprintf(stderr, "usage: gpu_w1fe cuda|cpu 2d|image [epochs]\n");
    return 2;
  }
  int on_gpu = strcmp(argv[1], "cuda") == 0;
  const w1fe_workload *w = strcmp(argv[2], "image") == 0 ? &W1FE_IMAGE : &W1FE_2D;
  int epochs = argc > 3 && argv[3][0] ? atoi(argv[3]) : (w == &W1FE_2D ? 300 : 100);
  if (epochs < 1) epochs = 1;
  int graphs = !(argc > 4 && strcmp(argv[4], "nograph") == 0);
  counted = *(on_gpu ? wf_cuda_backend() : wf_cpu_backend());
  real_gemm = counted.gemm;
  counted.gemm = counting_gemm;
  real_row_chain = counted.row_chain;
  counted.row_chain = counting_row_chain;
  real_grad_products = counted.grad_products;
  counted.grad_products = counting_grad_products;
  char msg[WF_MSG_LEN];
  wf_device *dev = NULL;
  if (wf_device_open(&counted, &dev, msg) != WF_OK) {
    fprintf(stderr, "device: %s\n", msg);
    return 2;
  }
  int n = 20000;
  double *data = w1fe_data(w, n), out[7];
  w1fe_run r;
  if (w1fe_open(&r, dev, w, data, n, 1, msg) != 0) {
    fprintf(stderr, "open: %s\n", msg);
    return 2;
  }
  wf_trainer_set_graphs(r.t, graphs);
  for (int e = 0; e < 10; e++) /* warm up: caches, allocator, cuBLAS */
    if (w1fe_epoch(&r, w, out) != 0) {
      fprintf(stderr, "epoch: %s\n", wf_trainer_message(r.t));
      return 1;
    }
  wf_device_sync(dev);
  flops = 0;
  double t0 = now();
  for (int e = 0; e < epochs; e++) w1fe_epoch(&r, w, out);
  wf_device_sync(dev);
  double secs = now() - t0, per_epoch = flops / epochs;
  char frac[32] = "NA";
  if (on_gpu) snprintf(frac, sizeof(frac), "%.4f", per_epoch / (secs / epochs) / gpu_peak());
  printf("wgflow%s %s %s %.4f %d %.4f %s\n", graphs ? "" : "_nograph", argv[1],
         w->name, secs / epochs * 1e3, epochs, per_epoch / 1e9, frac);
  printf("  last epoch: critic loss %.4g, W1 estimate %.4g, fit MSE %.4g -> %.4g\n",
         out[0], out[1], out[5], out[6]);
  w1fe_close(&r);
  wf_device_release(dev);
  free(data);
  return 0;
}
