/* peak.c — the machine's fp32 FMA peak, measured, and the code path the
 * multiversioned loops take: what the benchmarks divide by, so their
 * figures travel between machines (a fraction of the peak, not just ms). */
#include <time.h>
#ifdef _OPENMP
#include <omp.h>
#endif

#include "cpu.h"

int wf_cpu_isa(void) {
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
  if (__builtin_cpu_supports("avx512f")) return 2;
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return 1;
#endif
  return 0;
}

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec + 1e-9 * t.tv_nsec;
}

/* FLOPs of `reps` rounds of 12 independent FMA chains on 16-float vectors
 * (12 accumulators hide the FMA latency; the AVX2 clone splits each vector
 * in two, the AVX-512 one uses one register). Returns the FLOP count; the
 * result is written out so the loop is not removed. */
typedef float v16 __attribute__((vector_size(64)));
WF_CLONES
static double fma_loop(long reps, float *sink) {
  v16 x = {0}, y = {0};
  for (int i = 0; i < 16; i++) {
    x[i] = 1.0f + 1e-7f * i;
    y[i] = 1e-9f * i;
  }
  /* twelve different starts: equal chains would be merged into one */
  v16 a0 = y + 0.01f, a1 = y + 0.02f, a2 = y + 0.03f, a3 = y + 0.04f;
  v16 a4 = y + 0.05f, a5 = y + 0.06f, a6 = y + 0.07f, a7 = y + 0.08f;
  v16 a8 = y + 0.09f, a9 = y + 0.10f, a10 = y + 0.11f, a11 = y + 0.12f;
  for (long r = 0; r < reps; r++) {
    a0 = a0 * x + y, a1 = a1 * x + y, a2 = a2 * x + y, a3 = a3 * x + y;
    a4 = a4 * x + y, a5 = a5 * x + y, a6 = a6 * x + y, a7 = a7 * x + y;
    a8 = a8 * x + y, a9 = a9 * x + y, a10 = a10 * x + y, a11 = a11 * x + y;
  }
  v16 s = a0 + a1 + a2 + a3 + a4 + a5 + a6 + a7 + a8 + a9 + a10 + a11;
  float t = 0;
  for (int i = 0; i < 16; i++) t += s[i];
  *sink = t;
  return 2.0 * 16 * 12 * (double)reps;
}

double wf_cpu_fma_peak(int threads) {
  long reps = 1 << 22; /* about 0.05 s a pass at 100 GFLOP/s */
  double best = 0;
  float sink[WF_CPU_MAX_THREADS];
  if (threads > WF_CPU_MAX_THREADS) threads = WF_CPU_MAX_THREADS;
  for (int pass = 0; pass < 4; pass++) { /* best of four: others' load */
    double flop = 0, t0 = now();
#ifdef _OPENMP
#pragma omp parallel for num_threads(threads) reduction(+ : flop) if (threads > 1)
#endif
    for (int t = 0; t < threads; t++) flop += fma_loop(reps, &sink[t]);
    double rate = flop / (now() - t0) / 1e6;
    if (rate > best) best = rate;
  }
  return best;
}
