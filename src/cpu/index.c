/* index.c — operations on device lists of indices: a histogram of indices
 * (OTS's assignment counts) and a list read or written one block at a time
 * at a position held in a device slot (a recorded step that appends to a
 * list, or reads it back, on every replay). */
#include <string.h>

#include "cpu.h"

/* out[(idx[j] * bins) / n] += w for j < m, in j order */
void wf_cpu_index_count(wf_ctx *ctx, const int *idx, int m, int n, int bins,
                        wf_real w, wf_real *out /* [bins] */) {
  (void)ctx;
  if (n <= 0 || bins <= 0) return;
  for (int j = 0; j < m; j++) {
    long long b = (long long)idx[j] * bins / n;
    out[b] += w;
  }
}

/* dst block *dst_pos := src block *src_pos (blocks of n ints), then each
 * non-NULL position advanced by one */
void wf_cpu_copy_ints_at(wf_ctx *ctx, int *dst, double *dst_pos, const int *src,
                         double *src_pos, size_t n) {
  (void)ctx;
  size_t di = dst_pos != NULL ? (size_t)*dst_pos : 0;
  size_t si = src_pos != NULL ? (size_t)*src_pos : 0;
  if (n > 0) memmove(dst + di * n, src + si * n, n * sizeof(int));
  if (dst_pos != NULL) *dst_pos += 1;
  if (src_pos != NULL) *src_pos += 1;
}
