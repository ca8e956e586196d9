/* memory.c — CPU "device" memory is host memory: allocation, copies between
 * the host's doubles and wf_real, fill, and the scalar slots. */
#include <stdlib.h>
#include <string.h>

#include "cpu.h"

void *wf_cpu_alloc(wf_ctx *ctx, size_t bytes) {
  (void)ctx;
  return malloc(bytes > 0 ? bytes : 1);
}

void wf_cpu_release(wf_ctx *ctx, void *p) {
  (void)ctx;
  free(p);
}

/* dst[n] = (wf_real)src[n]; on the context's threads for large n (a net's
 * parameters and optimiser moments, set from R or read up to it) */
wf_status wf_cpu_upload(wf_ctx *ctx, wf_real *dst, const double *src,
                        size_t n) {
  int nt = wf_cpu_threads_for(ctx, n);
  WF_OMP_CHUNKS(nt)
  for (int t = 0; t < nt; t++) {
    size_t lo, hi;
    wf_cpu_range(n, t, nt, &lo, &hi);
    for (size_t i = lo; i < hi; i++) dst[i] = (wf_real)src[i];
  }
  return WF_OK;
}

/* dst[n] = (double)src[n], as the upload */
wf_status wf_cpu_download(wf_ctx *ctx, double *dst, const wf_real *src,
                          size_t n) {
  int nt = wf_cpu_threads_for(ctx, n);
  WF_OMP_CHUNKS(nt)
  for (int t = 0; t < nt; t++) {
    size_t lo, hi;
    wf_cpu_range(n, t, nt, &lo, &hi);
    for (size_t i = lo; i < hi; i++) dst[i] = (double)src[i];
  }
  return WF_OK;
}

wf_status wf_cpu_upload_int(wf_ctx *ctx, int *dst, const int *src, size_t n) {
  (void)ctx;
  if (n > 0) memcpy(dst, src, n * sizeof(int));
  return WF_OK;
}

wf_status wf_cpu_download_int(wf_ctx *ctx, int *dst, const int *src,
                              size_t n) {
  (void)ctx;
  if (n > 0) memcpy(dst, src, n * sizeof(int));
  return WF_OK;
}

/* dst[n] = src[n] */
void wf_cpu_copy(wf_ctx *ctx, wf_real *dst, const wf_real *src, size_t n) {
  (void)ctx;
  if (dst != src && n > 0) memmove(dst, src, n * sizeof(wf_real));
}

/* x[n] = value */
void wf_cpu_fill(wf_ctx *ctx, wf_real *x, size_t n, wf_real value) {
  (void)ctx;
  for (size_t i = 0; i < n; i++) x[i] = value;
}

/* slots[n] = 0 */
void wf_cpu_zero_scalars(wf_ctx *ctx, double *slots, int n) {
  (void)ctx;
  for (int i = 0; i < n; i++) slots[i] = 0;
}

/* slots[n] = host[n]; nothing is queued on the CPU */
wf_status wf_cpu_write_scalars(wf_ctx *ctx, double *slots, const double *host,
                               int n) {
  (void)ctx;
  if (n > 0) memcpy(slots, host, (size_t)n * sizeof(double));
  return WF_OK;
}

/* host[n] = slots[n]; nothing is queued on the CPU */
wf_status wf_cpu_read_scalars(wf_ctx *ctx, double *host, const double *slots,
                              int n) {
  (void)ctx;
  if (n > 0) memcpy(host, slots, (size_t)n * sizeof(double));
  return WF_OK;
}
