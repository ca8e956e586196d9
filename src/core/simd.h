/* simd.h — how hot loops are compiled: the code paths of GCC function
 * multiversioning (WF_CLONES) and the vectoriser options (WF_VECTORISE).
 * Shared by the CPU backend (src/cpu) and the exact-OT cost kernels
 * (ot_cost.c).
 */
#ifndef WF_SIMD_H
#define WF_SIMD_H

/* Hot loops are compiled for AVX-512, AVX2+FMA and the baseline, and the
 * best is picked at load time (GCC function multiversioning), so the package
 * needs no -march flag. R builds with -O2, whose "very cheap" vectoriser
 * skips any loop that needs a remainder; these loops get the dynamic cost
 * model. The sanitizer build turns this off.
 *
 * Loops whose results must stay bit-identical across machines and to the
 * pre-v2 code (row_lerp, the losses, the row-norm direction) are NOT cloned:
 * the AVX2 clone would fuse a * b + c into one FMA and round differently. */
#if defined(__GNUC__) && !defined(__clang__)
/* ira-region=one: GCC 12 at -O2 allocates the AVX2 micro-kernel's registers
 * region by region and spills one B vector to the stack in the inner loop
 * (12 accumulators, two B vectors and a broadcast need 15 of the 16 ymm
 * registers), which halved the AVX2 clone's speed; one region for the
 * whole function keeps them all in registers. */
/* no-trapping-math: without it the AVX2 and baseline clones keep a branch
 * for every select such as ReLU's `v > 0 ? v : s * v` (a compare may raise
 * an FP exception, so GCC will not if-convert it; only AVX-512's masks
 * get around that), and the bias-and-activation epilogue took 30 % of a
 * forward pass there. Values are unchanged; R never traps FP exceptions. */
#define WF_VECTORISE                                                       \
  optimize("tree-vectorize", "vect-cost-model=dynamic", "ira-region=one", \
           "no-trapping-math")
#else
#define WF_VECTORISE
#endif
/* WF_ISA_MAX caps the code paths built (configure's WGFLOW_CPU_ISA): 2
 * AVX-512, AVX2 + FMA and the baseline (the default); 1 no AVX-512, so an
 * AVX-512 machine runs, and the tests and benchmarks measure, what an
 * AVX2-only one would; 0 the baseline alone. wf_cpu_isa() reports the path
 * taken under the cap. */
#ifndef WF_ISA_MAX
#define WF_ISA_MAX 2
#endif
#if defined(__x86_64__) && defined(__GNUC__) && defined(__linux__) && \
    !defined(WF_NO_CLONES) && WF_ISA_MAX >= 1
#if WF_ISA_MAX >= 2
#define WF_CLONE_PATHS "arch=x86-64-v4", "arch=x86-64-v3", "default"
#else
#define WF_CLONE_PATHS "arch=x86-64-v3", "default"
#endif
#define WF_CLONES __attribute__((target_clones(WF_CLONE_PATHS), WF_VECTORISE))
#else
#define WF_CLONES __attribute__((WF_VECTORISE))
#endif

#endif
