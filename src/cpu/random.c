/* random.c — Philox4x32-10 streams on the CPU (philox.h): value i of a draw
 * comes from block c + i / 4, lane i % 4, c the stream's counter slot
 * (read here, then advanced by ceil(n / 4): CPU device memory is host
 * memory). Long draws are split over threads at multiples of 64 values
 * (whole blocks), so a stream does not depend on the thread count. A value
 * costs ten Philox rounds (a normal a log and a sine and cosine in double
 * besides), far more than a copied value: draws are split from a few
 * hundred values on (a generator's latents at batch 64), where an op that
 * moves memory only splits from 32768. */
#include <limits.h>
#include <math.h>

#include "cpu.h"
#include "philox.h"

/* what a drawn value costs in copied values (wf_cpu_threads_for's unit),
 * rounded down: measured on one AVX-512 core, a copy 0.2-0.3 ns a value, a
 * uniform about 5 ns, a normal about 21 ns; so draws split from about 2048
 * uniforms or 512 normals (some 10 us of work) */
#define UNIFORM_COST 16
#define NORMAL_COST 64

/* Blocks one vector pass of Philox makes (64 values). */
#define GROUP 16

/* r[q][j] = lane q of block b + j, j < GROUP: wf_philox_block's rounds on
 * GROUP blocks at once, in lanes (its 32 x 32 -> 64-bit products vectorise;
 * one block at a time they ran at 15 ns a block, in groups at 4) */
WF_CLONES
static void philox_group(const uint32_t key[2], uint64_t b, uint32_t r[4][GROUP]) {
  uint32_t c0[GROUP], c1[GROUP], c2[GROUP], c3[GROUP];
  for (int j = 0; j < GROUP; j++) {
    c0[j] = (uint32_t)(b + (uint64_t)j);
    c1[j] = (uint32_t)((b + (uint64_t)j) >> 32);
    c2[j] = c3[j] = 0;
  }
  uint32_t k0 = key[0], k1 = key[1];
  for (int round = 0; round < 10; round++) {
    for (int j = 0; j < GROUP; j++) {
      uint64_t p0 = (uint64_t)WF_PHILOX_M0 * c0[j];
      uint64_t p1 = (uint64_t)WF_PHILOX_M1 * c2[j];
      uint32_t n0 = (uint32_t)(p1 >> 32) ^ c1[j] ^ k0;
      uint32_t n2 = (uint32_t)(p0 >> 32) ^ c3[j] ^ k1;
      c1[j] = (uint32_t)p1;
      c3[j] = (uint32_t)p0;
      c0[j] = n0;
      c2[j] = n2;
    }
    k0 += WF_PHILOX_W0;
    k1 += WF_PHILOX_W1;
  }
  for (int j = 0; j < GROUP; j++) r[0][j] = c0[j], r[1][j] = c1[j], r[2][j] = c2[j], r[3][j] = c3[j];
}

/* Value v of a group's 64 (value i of a draw is lane i % 4 of its block). */
#define GROUP_VALUE(r, v) ((r)[(v) % 4][(v) / 4])

/* out[lo .. hi) of the uniforms of a draw; lo is a multiple of 4. A last
 * short group is made whole and its extra values left unused. */
static void uniform_range(wf_real *out, size_t lo, size_t hi,
                          const uint32_t key[2], uint64_t counter) {
  for (size_t i = lo; i < hi; i += 4 * GROUP) {
    uint32_t r[4][GROUP];
    philox_group(key, counter + i / 4, r);
    size_t len = hi - i < 4 * GROUP ? hi - i : 4 * GROUP;
    for (size_t v = 0; v < len; v++)
      out[i + v] = (wf_real)wf_philox_unit(GROUP_VALUE(r, v));
  }
}

/* out[lo .. hi) of the normals of a draw: Box-Muller on lanes (0, 1) and
 * (2, 3) of each block, in double */
static void normal_range(wf_real *out, size_t lo, size_t hi,
                         const uint32_t key[2], uint64_t counter) {
  for (size_t i = lo; i < hi; i += 4 * GROUP) {
    uint32_t r[4][GROUP];
    double z[4 * GROUP];
    philox_group(key, counter + i / 4, r);
    size_t len = hi - i < 4 * GROUP ? hi - i : 4 * GROUP;
    for (size_t j = 0; 4 * j < len; j++) {
      wf_philox_box_muller(r[0][j], r[1][j], &z[4 * j], &z[4 * j + 1]);
      wf_philox_box_muller(r[2][j], r[3][j], &z[4 * j + 2], &z[4 * j + 3]);
    }
    for (size_t v = 0; v < len; v++) out[i + v] = (wf_real)z[v];
  }
}

/* out[lo .. hi) of a draw of indices on 0 .. bound - 1: the uniform rounded
 * to wf_real, times bound in wf_real, truncated, at most bound - 1 (the
 * pre-v2 sample_rows). A float u can round to 1, so u * bound can reach
 * bound, and for bound near INT_MAX even 2^31: the conversion saturates
 * there instead of overflowing. */
static void index_range(int *out, size_t lo, size_t hi, int bound,
                        const uint32_t key[2], uint64_t counter) {
  const wf_real top = (wf_real)INT_MAX; /* 2^31 in float */
  for (size_t i = lo; i < hi; i += 4 * GROUP) {
    uint32_t r[4][GROUP];
    philox_group(key, counter + i / 4, r);
    size_t len = hi - i < 4 * GROUP ? hi - i : 4 * GROUP;
    for (size_t v = 0; v < len; v++) {
      wf_real u = (wf_real)wf_philox_unit(GROUP_VALUE(r, v));
      wf_real x = u * bound;
      int k = x < top ? (int)x : INT_MAX;
      out[i + v] = k < bound ? k : bound - 1;
    }
  }
}

/* out[n]: uniforms on (0, 1) */
void wf_cpu_uniform(wf_ctx *ctx, wf_real *out, size_t n, const uint32_t key[2],
                    double *counter) {
  const uint64_t c = (uint64_t)*counter;
  int nt = wf_cpu_threads_for(ctx, n * UNIFORM_COST);
  WF_OMP_CHUNKS(nt)
  for (int t = 0; t < nt; t++) {
    size_t lo, hi;
    wf_cpu_range(n, t, nt, &lo, &hi);
    uniform_range(out, lo, hi, key, c);
  }
  *counter = (double)(c + wf_philox_blocks(n));
}

/* out[n]: standard normals */
void wf_cpu_normal(wf_ctx *ctx, wf_real *out, size_t n, const uint32_t key[2],
                   double *counter) {
  const uint64_t c = (uint64_t)*counter;
  int nt = wf_cpu_threads_for(ctx, n * NORMAL_COST);
  WF_OMP_CHUNKS(nt)
  for (int t = 0; t < nt; t++) {
    size_t lo, hi;
    wf_cpu_range(n, t, nt, &lo, &hi);
    normal_range(out, lo, hi, key, c);
  }
  *counter = (double)(c + wf_philox_blocks(n));
}

/* out[n]: indices on 0 .. bound - 1 */
void wf_cpu_random_index(wf_ctx *ctx, int *out, size_t n, int bound,
                         const uint32_t key[2], double *counter) {
  const uint64_t c = (uint64_t)*counter;
  int nt = wf_cpu_threads_for(ctx, n * UNIFORM_COST);
  WF_OMP_CHUNKS(nt)
  for (int t = 0; t < nt; t++) {
    size_t lo, hi;
    wf_cpu_range(n, t, nt, &lo, &hi);
    index_range(out, lo, hi, bound, key, c);
  }
  *counter = (double)(c + wf_philox_blocks(n));
}
