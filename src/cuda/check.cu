/* check.cu — the count of non-finite values, into a scalar slot: a net's
 * finite check after each training epoch reads back that count, never the
 * values themselves. */
#include "cuda_ops.h"

/* items per thread before a block's count is reduced */
#define CHECK_ITEMS 8

/* x [n]; sink slot 0 += how many of x are NaN or +-Inf. Whole numbers in
 * double: the sum is exact in any order. */
static __global__ void count_nonfinite_kernel(const wf_real *x, size_t n, wf_cu_sink sink) {
  double v[1] = {0.0};
  WF_CU_FOR(k, n) v[0] += isfinite(x[k]) ? 0.0 : 1.0;
  wf_cu_sink_add<1>(v, sink);
}

void wf_cu_count_nonfinite(wf_ctx *ctx, const wf_real *x, size_t n, double *slot) {
  if (n == 0 || slot == NULL) return;
  wf_cu_sink sink = wf_cu_sink_make(ctx);
  sink.slot[0] = slot;
  const unsigned int grid =
      wf_cu_grid_cap(n, (size_t)WF_CU_THREADS * CHECK_ITEMS, WF_CU_MAX_PARTIALS);
  count_nonfinite_kernel<<<grid, WF_CU_THREADS, 0, ctx->stream>>>(x, n, sink);
  WF_CU_LAUNCHED(ctx, "count_nonfinite");
}
