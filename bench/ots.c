/* ots.c — throughput of the semi-discrete assignment (the backend op
 * ot_assign, OTS's hot loop) on the CPU backend, and the CPU's FMA peak
 * measured in the same process. No R; bench/ots.R builds and drives it.
 *
 *   ots assign <sq|l1> <B> <N> <d> <threads> <reps> [cuda]
 *     prints "wgflow <cost> <B> <N> <d> <threads> <ms per call> <GFLOP/s>
 *     <backend> <CPU ms per call>" (best of reps calls, wall and process
 *     CPU time; the squared cost counts 2 B N d
 *     flops, the product's; L1 counts 3 B N d: subtract, absolute value,
 *     add). "cuda" (built with -DWF_OTS_CUDA and the CUDA backend's
 *     objects, as tools/gpu-check does) times the GPU backend.
 *     WGFLOW_BENCH_SCREEN=0 turns the CPU's bf16 screen of the squared
 *     cost off (knob assign_screen: the fp32 kernel alone).
 *   ots peak <threads>
 *     prints "peak <threads> <GFLOP/s> <GFLOP/s by CPU time>": independent
 *     FMA chains on the widest vectors the CPU has, every thread at once
 *     (best of 5)
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#ifdef _OPENMP
#include <omp.h>
#endif

#include "backend.h"
#include "cpu.h" /* wf_cpu_fma_loop */
#include "clock.h"

static uint64_t lcg = 42;
static double unif(void) {
  lcg = lcg * 6364136223846793005ull + 1442695040888963407ull;
  return (double)(lcg >> 11) / 9007199254740992.0;
}

#ifdef WF_OTS_CUDA
const wf_backend *wf_cuda_backend(void);
#endif

/* n reals on the backend's device from host doubles */
static wf_real *device_copy(const wf_backend *be, wf_ctx *ctx, const double *h, size_t n) {
  wf_real *p = be->alloc(ctx, sizeof(wf_real) * (n > 0 ? n : 1));
  if (p != NULL && h != NULL && be->upload(ctx, p, h, n) != WF_OK) return NULL;
  return p;
}

static int assign(int argc, char **argv) {
  if (argc < 8) return 2;
  wf_cost_kind cost = strcmp(argv[2], "l1") == 0 ? WF_COST_L1 : WF_COST_SQ;
  int B = atoi(argv[3]), N = atoi(argv[4]), d = atoi(argv[5]);
  int threads = atoi(argv[6]), reps = atoi(argv[7]);
  const wf_backend *be = wf_cpu_backend();
#ifdef WF_OTS_CUDA
  if (argc >= 9 && strcmp(argv[8], "cuda") == 0) be = wf_cuda_backend();
#endif
  wf_ctx *ctx;
  char msg[WF_MSG_LEN];
  if (be->ctx_create(&ctx, msg) != WF_OK) {
    fprintf(stderr, "%s\n", msg);
    return 1;
  }
  be->knob(ctx, "threads", threads);
  const char *screen = getenv("WGFLOW_BENCH_SCREEN");
  if (screen != NULL && *screen != '\0') be->knob(ctx, "assign_screen", atoi(screen));
  /* images in [-1, 1] (the data) against generated points of the same law */
  size_t nd = (size_t)N * d, bd = (size_t)B * d;
  double *hy = malloc(sizeof(double) * nd), *ha = malloc(sizeof(double) * bd);
  double *hp = malloc(sizeof(double) * (size_t)N);
  if (!hy || !ha || !hp) return 1;
  for (size_t k = 0; k < nd; k++) hy[k] = 2 * unif() - 1;
  for (size_t k = 0; k < bd; k++) ha[k] = 2 * unif() - 1;
  for (int i = 0; i < N; i++) hp[i] = unif() - 0.5;
  wf_real *y = device_copy(be, ctx, hy, nd), *a = device_copy(be, ctx, ha, bd);
  wf_real *psi = device_copy(be, ctx, hp, (size_t)N), *yh = device_copy(be, ctx, NULL, (size_t)N);
  wf_real *val = device_copy(be, ctx, NULL, (size_t)B);
  int *idx = be->alloc(ctx, sizeof(int) * (size_t)B);
  if (!y || !a || !psi || !yh || !val || !idx) return 1;
  be->row_sq_norm(ctx, y, N, d, yh);
  be->scal(ctx, (size_t)N, (wf_real)0.5, yh);
  double best = INFINITY, best_cpu = INFINITY;
  be->ot_assign(ctx, cost, a, B, y, N, d, yh, psi, idx, val); /* warm-up */
  if (be->synchronize(ctx, msg) != WF_OK) {
    fprintf(stderr, "%s\n", msg);
    return 1;
  }
  for (int r = 0; r < reps; r++) {
    double t0 = wf_cpu_now(), c0 = cpu_now();
    be->ot_assign(ctx, cost, a, B, y, N, d, yh, psi, idx, val);
    be->synchronize(ctx, msg);
    double t = wf_cpu_now() - t0, c = cpu_now() - c0;
    if (t < best) best = t;
    if (c < best_cpu) best_cpu = c;
  }
  double flops = (cost == WF_COST_SQ ? 2.0 : 3.0) * B * (double)N * d;
  printf("wgflow %s %d %d %d %d %.4f %.2f %s %.4f\n", cost == WF_COST_SQ ? "sq" : "l1", B, N,
         d, threads, best * 1e3, flops / best * 1e-9, be->name, best_cpu * 1e3);
  be->release(ctx, y), be->release(ctx, a), be->release(ctx, psi), be->release(ctx, yh);
  be->release(ctx, val), be->release(ctx, idx);
  be->ctx_free(ctx);
  free(hy), free(ha), free(hp);
  return 0;
}

/* ---- FMA peak ---------------------------------------------------------------- */
/* The CPU backend's own peak loop (wf_cpu_fma_loop, src/cpu/peak.c) on
 * every thread at once, best of 5, timed by the wall clock and by the
 * process's CPU time per thread. */
static int peak(int argc, char **argv) {
  if (argc < 3) return 2;
  int threads = atoi(argv[2]);
  long iters = 20000000;
  double best = INFINITY, best_cpu = INFINITY, flops = 0;
  for (int r = 0; r < 5; r++) {
    double t0 = wf_cpu_now(), c0 = cpu_now(), f = 0;
#ifdef _OPENMP
#pragma omp parallel num_threads(threads) reduction(+ : f)
#endif
    {
      float sink;
      f += wf_cpu_fma_loop(iters, &sink);
    }
    double t = wf_cpu_now() - t0, c = (cpu_now() - c0) / threads;
    if (t < best) best = t;
    if (c < best_cpu) best_cpu = c;
    flops = f;
  }
  printf("peak %d %.2f %.2f\n", threads, flops / best * 1e-9, flops / best_cpu * 1e-9);
  return 0;
}

int main(int argc, char **argv) {
  if (argc >= 2 && strcmp(argv[1], "assign") == 0) return assign(argc, argv);
  if (argc >= 2 && strcmp(argv[1], "peak") == 0) return peak(argc, argv);
  fprintf(stderr, "usage: ots assign <sq|l1> <B> <N> <d> <threads> <reps> | ots peak <threads>\n");
  return 2;
}
