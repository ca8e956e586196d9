/* peak.c — the machine's fp32 FMA peak, measured, and the code path the
 * multiversioned loops take: what the benchmarks divide by, so their
 * figures travel between machines (a fraction of the peak, not just ms). */
#ifdef _OPENMP
#include <omp.h>
#endif

#include "cpu.h"

int wf_cpu_isa(void) {
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && \
    !defined(WF_NO_CLONES)
  /* the levels the clones' resolver tests (arch=x86-64-v4, -v3) */
  if (WF_ISA_MAX >= 2 && __builtin_cpu_supports("x86-64-v4")) return 2;
  if (WF_ISA_MAX >= 1 && __builtin_cpu_supports("x86-64-v3")) return 1;
#endif
  return 0;
}

/* FLOPs of `reps` rounds of 12 independent FMA chains on vectors of type V
 * (12 accumulators hide the FMA latency and, with the two operands, fit in
 * the 16 registers of AVX2 or the 32 of AVX-512: more would spill and
 * measure the stack). Returns the FLOP count; the result is written out so
 * the loop is not removed. */
#define FMA_LOOP_BODY(V, LANES)                                                  \
  V x, y;                                                                        \
  for (int i = 0; i < LANES; i++) {                                              \
    x[i] = 1.0f + 1e-7f * i;                                                     \
    y[i] = 1e-9f * i;                                                            \
  }                                                                              \
  /* twelve different starts: equal chains would be merged into one */         \
  V a0 = y + 0.01f, a1 = y + 0.02f, a2 = y + 0.03f, a3 = y + 0.04f;              \
  V a4 = y + 0.05f, a5 = y + 0.06f, a6 = y + 0.07f, a7 = y + 0.08f;              \
  V a8 = y + 0.09f, a9 = y + 0.10f, a10 = y + 0.11f, a11 = y + 0.12f;            \
  for (long r = 0; r < reps; r++) {                                              \
    a0 = a0 * x + y, a1 = a1 * x + y, a2 = a2 * x + y, a3 = a3 * x + y;          \
    a4 = a4 * x + y, a5 = a5 * x + y, a6 = a6 * x + y, a7 = a7 * x + y;          \
    a8 = a8 * x + y, a9 = a9 * x + y, a10 = a10 * x + y, a11 = a11 * x + y;      \
  }                                                                              \
  V s = a0 + a1 + a2 + a3 + a4 + a5 + a6 + a7 + a8 + a9 + a10 + a11;             \
  float t = 0;                                                                   \
  for (int i = 0; i < LANES; i++) t += s[i];                                     \
  *sink = t;                                                                     \
  return 2.0 * LANES * 12 * (double)reps;

typedef float v16 __attribute__((vector_size(64)));
typedef float v8 __attribute__((vector_size(32)));
typedef float v4 __attribute__((vector_size(16)));

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
__attribute__((target("avx512f"))) static double fma_loop_512(long reps, float *sink) {
  FMA_LOOP_BODY(v16, 16)
}
__attribute__((target("avx2,fma"))) static double fma_loop_256(long reps, float *sink) {
  FMA_LOOP_BODY(v8, 8)
}
#endif
static double fma_loop_128(long reps, float *sink) { FMA_LOOP_BODY(v4, 4) }

/* the loop at the widest vectors the loops' code path uses (cpu.h) */
double wf_cpu_fma_loop(long reps, float *sink) {
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
  switch (wf_cpu_isa()) {
  case 2: return fma_loop_512(reps, sink);
  case 1: return fma_loop_256(reps, sink);
  default: break;
  }
#endif
  return fma_loop_128(reps, sink);
}

/* Rates of short 512-bit and 256-bit loops, alternated, best of five each
 * (another program may take the core for one); the first rounds also wake
 * the 512-bit units, which some cores keep powered down until used. */
int wf_cpu_fma_units_512(void) {
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
  if (wf_cpu_isa() < 2) return 0;
  long reps = 1 << 15; /* 0.4 M FMAs a loop: about 0.1 ms */
  double best512 = 0, best256 = 0;
  float sink;
  for (int round = 0; round < 5; round++) {
    double t0 = wf_cpu_now(), f = fma_loop_512(reps, &sink);
    double t1 = wf_cpu_now(), g = fma_loop_256(reps, &sink);
    double t2 = wf_cpu_now();
    if (f / (t1 - t0) > best512) best512 = f / (t1 - t0);
    if (g / (t2 - t1) > best256) best256 = g / (t2 - t1);
  }
  /* two units: twice the rate; one (or two halves): the same */
  return best512 > 1.5 * best256 ? 2 : 1;
#else
  return 0;
#endif
}

double wf_cpu_fma_peak(int threads) {
  long reps = 1 << 22; /* about 0.05 s a pass at 100 GFLOP/s */
  double best = 0;
  float sink[WF_CPU_MAX_THREADS];
  if (threads > WF_CPU_MAX_THREADS) threads = WF_CPU_MAX_THREADS;
  /* best of eight passes over 0.4 s: on a shared machine another program
   * can hold a core for a pass or two (a 2-thread peak once came out as the
   * 1-thread one in four passes) */
  for (int pass = 0; pass < 8; pass++) {
    double flop = 0, t0 = wf_cpu_now();
#ifdef _OPENMP
#pragma omp parallel for num_threads(threads) reduction(+ : flop) if (threads > 1)
#endif
    for (int t = 0; t < threads; t++) flop += wf_cpu_fma_loop(reps, &sink[t]);
    double rate = flop / (wf_cpu_now() - t0) / 1e6;
    if (rate > best) best = rate;
  }
  return best;
}
