/* philox.h — Philox4x32-10 (Salmon et al. 2011) and the draws built on it,
 * as inline functions that compile for the host (C) and the device (CUDA),
 * so both backends produce the same streams from the same key and counter.
 *
 * A stream is a 64-bit key and a 64-bit block counter: block b gives four
 * 32-bit values, and value i of a draw of n comes from block counter + i / 4,
 * lane i % 4. A net's stream position is therefore one counter, advanced by
 * ceil(n / 4) per draw on every backend.
 */
#ifndef WF_PHILOX_H
#define WF_PHILOX_H

#include <math.h>
#include <stdint.h>

#ifdef __CUDACC__
#define WF_HD __host__ __device__ __forceinline__
#else
#define WF_HD static inline
#endif

#ifdef __cplusplus
extern "C" {
#endif

#define WF_PHILOX_M0 0xD2511F53u
#define WF_PHILOX_M1 0xCD9E8D57u
#define WF_PHILOX_W0 0x9E3779B9u
#define WF_PHILOX_W1 0xBB67AE85u
#define WF_TWO_PI 6.283185307179586

/* Ten rounds on ctr[4] in place, under key[2]. */
WF_HD void wf_philox4x32(uint32_t ctr[4], const uint32_t key[2]) {
  uint32_t k0 = key[0], k1 = key[1];
  for (int round = 0; round < 10; round++) {
    uint64_t p0 = (uint64_t)WF_PHILOX_M0 * ctr[0];
    uint64_t p1 = (uint64_t)WF_PHILOX_M1 * ctr[2];
    uint32_t hi0 = (uint32_t)(p0 >> 32), lo0 = (uint32_t)p0;
    uint32_t hi1 = (uint32_t)(p1 >> 32), lo1 = (uint32_t)p1;
    uint32_t c1 = ctr[1], c3 = ctr[3];
    ctr[0] = hi1 ^ c1 ^ k0;
    ctr[1] = lo1;
    ctr[2] = hi0 ^ c3 ^ k1;
    ctr[3] = lo0;
    k0 += WF_PHILOX_W0;
    k1 += WF_PHILOX_W1;
  }
}

/* The four values of block b. */
WF_HD void wf_philox_block(const uint32_t key[2], uint64_t b, uint32_t out[4]) {
  out[0] = (uint32_t)b;
  out[1] = (uint32_t)(b >> 32);
  out[2] = 0;
  out[3] = 0;
  wf_philox4x32(out, key);
}

/* A 32-bit draw to (0, 1): its top 24 bits, centred in their bucket (exact
 * in double; in float the top value rounds to 1.0f). */
WF_HD double wf_philox_unit(uint32_t x) {
  return ((double)(x >> 8) + 0.5) * (1.0 / 16777216.0);
}

/* Two normals from two uniforms (Box-Muller), in double. */
WF_HD void wf_philox_box_muller(uint32_t a, uint32_t b, double *z0, double *z1) {
  double rad = sqrt(-2.0 * log(wf_philox_unit(a)));
  double th = WF_TWO_PI * wf_philox_unit(b);
  *z0 = rad * cos(th);
  *z1 = rad * sin(th);
}

/* Blocks a draw of n values uses (the counter's advance). */
WF_HD uint64_t wf_philox_blocks(uint64_t n) { return (n + 3) / 4; }

#ifdef __cplusplus
}
#endif

#endif
