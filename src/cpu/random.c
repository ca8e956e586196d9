/* random.c — Philox4x32-10 streams on the CPU: block b gives values
 * 4b .. 4b+3; normals by Box-Muller on pairs of a block's uniforms. */
#include <math.h>

#include "cpu.h"

#define TWO_PI 6.283185307179586

/* a 32-bit draw to (0, 1): 24 random bits, centred in their bucket */
static double to_unit(uint32_t x) { return ((x >> 8) + 0.5) * (1.0 / 16777216.0); }

static void block(const uint32_t key[2], uint64_t b, uint32_t out[4]) {
  out[0] = (uint32_t)b;
  out[1] = (uint32_t)(b >> 32);
  out[2] = 0;
  out[3] = 0;
  wf_philox4x32(out, key);
}

void wf_cpu_uniform(wf_real *out, size_t n, const uint32_t key[2],
                    uint64_t counter) {
  for (size_t i = 0; i < n; i += 4) {
    uint32_t r[4];
    block(key, counter + i / 4, r);
    for (size_t q = 0; q < 4 && i + q < n; q++) out[i + q] = (wf_real)to_unit(r[q]);
  }
}

void wf_cpu_normal(wf_real *out, size_t n, const uint32_t key[2],
                   uint64_t counter) {
  for (size_t i = 0; i < n; i += 4) {
    uint32_t r[4];
    double z[4];
    block(key, counter + i / 4, r);
    for (int q = 0; q < 4; q += 2) {
      double rad = sqrt(-2.0 * log(to_unit(r[q])));
      double th = TWO_PI * to_unit(r[q + 1]);
      z[q] = rad * cos(th);
      z[q + 1] = rad * sin(th);
    }
    for (size_t q = 0; q < 4 && i + q < n; q++) out[i + q] = (wf_real)z[q];
  }
}
