/* random.cu — Philox4x32-10 draws from philox.h, the same inline code the
 * CPU runs: thread b computes block c + b, values 4b .. 4b + 3, where c is
 * the stream's counter slot, read by every block at its start and advanced
 * by ceil(n / 4) once all have read it (cuda_util.h: wf_cu_slot_read /
 * wf_cu_slot_store_last), so a recorded draw is a fresh one on every replay.
 * Uniforms (and the indices built on them) are bit-identical to the CPU's;
 * normals go through the device's double sqrt / log / cos / sin, which may
 * differ from glibc's in the last bit of a double, below float rounding in
 * all but rare cases. */
#include "cuda_ops.h"
#include "philox.h"

/* out [n] uniform on (0, 1), rounded to float */
static __global__ void uniform_kernel(wf_real *out, size_t n, uint32_t k0, uint32_t k1,
                                      double *counter_slot, unsigned int *ticket) {
  const uint32_t key[2] = {k0, k1};
  const size_t blocks = (n + 3) / 4;
  const uint64_t counter = (uint64_t)wf_cu_slot_read(counter_slot);
  WF_CU_FOR(b, blocks) {
    uint32_t r[4];
    wf_philox_block(key, counter + b, r);
    const size_t i = 4 * b;
    for (int q = 0; q < 4; q++)
      if (i + q < n) out[i + q] = (wf_real)wf_philox_unit(r[q]);
  }
  if (threadIdx.x == 0) wf_cu_slot_store_last(counter_slot, (double)(counter + blocks), ticket);
}

/* out [n] N(0, 1): Box-Muller on the pairs (0, 1) and (2, 3) of each block */
static __global__ void normal_kernel(wf_real *out, size_t n, uint32_t k0, uint32_t k1,
                                     double *counter_slot, unsigned int *ticket) {
  const uint32_t key[2] = {k0, k1};
  const size_t blocks = (n + 3) / 4;
  const uint64_t counter = (uint64_t)wf_cu_slot_read(counter_slot);
  WF_CU_FOR(b, blocks) {
    uint32_t r[4];
    double z[4];
    wf_philox_block(key, counter + b, r);
    wf_philox_box_muller(r[0], r[1], &z[0], &z[1]);
    wf_philox_box_muller(r[2], r[3], &z[2], &z[3]);
    const size_t i = 4 * b;
    for (int q = 0; q < 4; q++)
      if (i + q < n) out[i + q] = (wf_real)z[q];
  }
  if (threadIdx.x == 0) wf_cu_slot_store_last(counter_slot, (double)(counter + blocks), ticket);
}

/* out [n] = min(bound - 1, (int)(u * bound)), u the float uniform and the
 * product in float (a float uniform can round up to 1.0: hence the min) */
static __global__ void random_index_kernel(int *out, size_t n, int bound, uint32_t k0,
                                           uint32_t k1, double *counter_slot,
                                           unsigned int *ticket) {
  const uint32_t key[2] = {k0, k1};
  const size_t blocks = (n + 3) / 4;
  const uint64_t counter = (uint64_t)wf_cu_slot_read(counter_slot);
  const wf_real fb = (wf_real)bound;
  WF_CU_FOR(b, blocks) {
    uint32_t r[4];
    wf_philox_block(key, counter + b, r);
    const size_t i = 4 * b;
    for (int q = 0; q < 4; q++)
      if (i + q < n) {
        wf_real u = (wf_real)wf_philox_unit(r[q]);
        int v = (int)__fmul_rn(u, fb); /* one rounded product, never fused */
        out[i + q] = v < bound - 1 ? v : bound - 1;
      }
  }
  if (threadIdx.x == 0) wf_cu_slot_store_last(counter_slot, (double)(counter + blocks), ticket);
}

void wf_cu_uniform(wf_ctx *ctx, wf_real *out, size_t n, const uint32_t key[2],
                   double *counter) {
  if (n == 0) return; /* no blocks drawn: the counter stays */
  uniform_kernel<<<wf_cu_grid((n + 3) / 4), WF_CU_THREADS, 0, ctx->stream>>>(
      out, n, key[0], key[1], counter, ctx->ticket);
  WF_CU_LAUNCHED(ctx, "uniform");
}

void wf_cu_normal(wf_ctx *ctx, wf_real *out, size_t n, const uint32_t key[2],
                  double *counter) {
  if (n == 0) return;
  normal_kernel<<<wf_cu_grid((n + 3) / 4), WF_CU_THREADS, 0, ctx->stream>>>(
      out, n, key[0], key[1], counter, ctx->ticket);
  WF_CU_LAUNCHED(ctx, "normal");
}

void wf_cu_random_index(wf_ctx *ctx, int *out, size_t n, int bound, const uint32_t key[2],
                        double *counter) {
  if (n == 0) return;
  random_index_kernel<<<wf_cu_grid((n + 3) / 4), WF_CU_THREADS, 0, ctx->stream>>>(
      out, n, bound, key[0], key[1], counter, ctx->ticket);
  WF_CU_LAUNCHED(ctx, "random_index");
}
