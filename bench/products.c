/* products.c — the matrix products of the benchmarks' workloads, each
 * timed on the CPU backend's GEMM alone, with its share of the FMA peak
 * measured now (the backend's own peak loop, src/cpu/peak.c): an MLP
 * critic's layers (bench/engine.R: batch 512, width 128) and the products a
 * DCGAN iteration lowers its convolutions to (bench/dcgan.R's nets,
 * 28 x 28, batch 64). Each runs at every micro-kernel width this machine
 * has (256-bit and, on AVX-512, 512-bit vectors), so the core's choice
 * (the knob gemm_vec_bytes 0, from the 512-bit FMA units peak.c counts)
 * can be checked against both.
 *
 *   make bench-products             (builds into build/bench, 1 and 2 threads)
 *   build/bench/products T          (T threads)
 *
 * Rates are from the best of 10 wall-clock times; the process's CPU time
 * (per thread) is printed beside it: when they differ, another process
 * took the core and the run should be repeated. */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "backend.h"
#include "cpu.h"
#include "clock.h"

typedef struct {
  const char *what;
  int ta, tb, m, n, k;
} product;

/* an MLP critic's hidden layer over a batch of 512 (forward, input
 * gradient, weight gradient), then (64 -> 128 channels, 14 x 14 -> 7 x 7,
 * kernel 4: 3136 output pixels of 1024 lowered inputs) and the generator's
 * first transposed one (the same shapes, transposed), over a batch of 64 */
static const product products[] = {
    {"MLP layer forward: x W^T", 0, 1, 512, 128, 128},
    {"MLP layer input gradient: dz W", 0, 0, 512, 128, 128},
    {"MLP layer weight gradient: dz^T x", 1, 0, 128, 128, 512},
    {"conv2d forward: cols W^T", 0, 1, 3136, 128, 1024},
    {"conv2d input gradient: dy W", 0, 0, 3136, 1024, 128},
    {"conv2d weight gradient: dy^T cols", 1, 0, 128, 1024, 3136},
    {"conv_transpose2d forward: x W", 0, 0, 3136, 1024, 128},
    {"conv_transpose2d weight gradient", 1, 0, 128, 1024, 3136},
    {"conv_transpose2d input gradient", 0, 1, 3136, 128, 1024},
    {"conv2d 1 -> 64, 28 x 28: forward", 0, 1, 12544, 64, 16},
};

int main(int argc, char **argv) {
  int threads = argc > 1 ? atoi(argv[1]) : 1;
  const wf_backend *be = wf_cpu_backend();
  wf_ctx *ctx;
  char msg[WF_MSG_LEN];
  if (be->ctx_create(&ctx, msg) != WF_OK) {
    fprintf(stderr, "%s\n", msg);
    return 2;
  }
  be->knob(ctx, "threads", threads);
  double peak = wf_cpu_fma_peak(threads) / 1e3; /* GFLOP/s */
  size_t n = (size_t)3136 * 1024;                /* the largest operand */
  float *a = malloc(sizeof(float) * n), *b = malloc(sizeof(float) * n);
  float *c = malloc(sizeof(float) * n);
  if (a == NULL || b == NULL || c == NULL) return 2;
  for (size_t i = 0; i < n; i++) a[i] = b[i] = (float)(i % 97) / 97.0f, c[i] = 0;
  int chosen = be->knob(ctx, "gemm_vec_bytes", -1);
  be->knob(ctx, "gemm_vec_bytes", 64);
  int widest = be->knob(ctx, "gemm_vec_bytes", -1);
  printf("products, %d thread%s, FMA peak measured now %.1f GFLOP/s; 512-bit FMA "
         "units %d; kernel width chosen %d bytes\n", threads, threads > 1 ? "s" : "",
         peak, be->knob(ctx, "fma_units_512", -1), chosen);
  for (int width = 32; width <= widest; width *= 2) {
    be->knob(ctx, "gemm_vec_bytes", width);
    printf(" %d-bit kernel%s\n", 8 * width, width == chosen ? " (chosen)" : "");
    double total_flop = 0, total_wall = 0;
    for (size_t p = 0; p < sizeof(products) / sizeof(products[0]); p++) {
      const product *q = &products[p];
      int lda = q->ta ? q->m : q->k, ldb = q->tb ? q->k : q->n;
      double best_cpu = 1e30, best_wall = 1e30;
      for (int r = 0; r < 10; r++) {
        double w0 = wf_cpu_now(), c0 = cpu_now();
        be->gemm(ctx, q->ta, q->tb, q->m, q->n, q->k, 1, a, lda, b, ldb, 0, c, q->n, NULL);
        double w = wf_cpu_now() - w0, cp = (cpu_now() - c0) / threads;
        if (cp < best_cpu) best_cpu = cp;
        if (w < best_wall) best_wall = w;
      }
      double flop = 2.0 * q->m * q->n * q->k;
      total_flop += flop, total_wall += best_wall;
      printf("  %-36s %5d x %5d x %5d: %6.2f ms (CPU %6.2f), %6.1f GFLOP/s, %3.0f%% of the peak\n",
             q->what, q->m, q->n, q->k, best_wall * 1e3, best_cpu * 1e3,
             flop / best_wall * 1e-9, 100 * flop / best_wall * 1e-9 / peak);
    }
    printf("  all together: %.1f GFLOP/s, %.0f%% of the peak\n", total_flop / total_wall * 1e-9,
           100 * total_flop / total_wall * 1e-9 / peak);
  }
  be->ctx_free(ctx);
  free(a), free(b), free(c);
  return 0;
}
