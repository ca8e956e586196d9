/* conv.c — the data movement that lowers a 2-D convolution to matrix
 * products, on the CPU: per-row transposes between channels-first and
 * channels-last images, im2col (the patches of every output position as the
 * rows of a matrix) and its adjoint col2im. Each output value is written by
 * one thread, so results do not depend on the thread count; col2im is a
 * gather that sums in the fixed order of backend.h (kernel row i, then
 * column j), which the CUDA kernels follow addition for addition. */
#include <string.h>

#include "cpu.h"

/* the transpose's tile: a TILE x TILE block of in and out stays in L1 */
#define TILE 32

/* first item of thread th's share of n items among nt */
static inline size_t share_lo(size_t n, int th, int nt) {
  return n * (size_t)th / (size_t)nt;
}

/* ---- transpose_rows ----------------------------------------------------- */
/* Rows i0 .. i1 - 1 (i1 - i0 <= TILE) of one matrix in [a x b] into the
 * same columns of out [b x a], TILE columns of in at a time: reads and
 * writes stay within one tile, every write run is contiguous. */
static void transpose_strip(const wf_real *in /* [a x b] */, int a, int b,
                            int i0, int i1, wf_real *out /* [b x a] */) {
  for (int j0 = 0; j0 < b; j0 += TILE) {
    int j1 = j0 + TILE < b ? j0 + TILE : b;
    for (int j = j0; j < j1; j++) {
      wf_real *oj = out + (size_t)j * a;
      for (int i = i0; i < i1; i++) oj[i] = in[(size_t)i * b + j];
    }
  }
}

/* For each of m rows of a x b values: out[b x a] = in[a x b]^T. The work is
 * m x ceil(a / TILE) strips, split over threads (a single large image still
 * uses them all). */
void wf_cpu_transpose_rows(wf_ctx *ctx, const wf_real *in, int m, int a, int b,
                           wf_real *out) {
  if (m <= 0 || a <= 0 || b <= 0) return;
  const size_t ab = (size_t)a * b, strips = (size_t)(a + TILE - 1) / TILE;
  const size_t units = (size_t)m * strips;
  int nt = wf_cpu_threads_for(ctx, (size_t)m * ab);
  if ((size_t)nt > units) nt = (int)units;
  WF_OMP_CHUNKS(nt)
  for (int th = 0; th < nt; th++) {
    for (size_t u = share_lo(units, th, nt); u < share_lo(units, th + 1, nt); u++) {
      size_t r = u / strips;
      int i0 = (int)(u - r * strips) * TILE, i1 = i0 + TILE < a ? i0 + TILE : a;
      transpose_strip(in + r * ab, a, b, i0, i1, out + r * ab);
    }
  }
}

/* ---- im2col -------------------------------------------------------------- */
/* One row of cols: the patch of output position (b, oy, ox). Kernel position
 * (i, j) copies the c channels of one pixel (a contiguous read) to columns
 * (ci kh + i) kw + j, kh kw apart; the row's c kh kw values stay in L1, so
 * this beats writing the row in order (an inner loop of only kw strided
 * reads) by 2 to 3 times once c is more than a few, and matches it at
 * c = 1. */
static void im2col_row(const wf_conv_geom *g, const wf_real *x /* [(m h w) x c] */,
                       int b, int oy, int ox, wf_real *row /* [c kh kw] */) {
  const int c = g->c, kh = g->kh, kw = g->kw;
  const size_t khw = (size_t)kh * kw;
  const int y0 = oy * g->stride - g->pad, x0 = ox * g->stride - g->pad;
  for (int i = 0; i < kh; i++) {
    const int y = y0 + i;
    for (int j = 0; j < kw; j++) {
      const int xx = x0 + j;
      wf_real *dst = row + (size_t)i * kw + j; /* channel 0; ci at ci kh kw */
      if (y < 0 || y >= g->h || xx < 0 || xx >= g->w) { /* padding */
        for (int ci = 0; ci < c; ci++) dst[ci * khw] = 0;
        continue;
      }
      const wf_real *src = x + (((size_t)b * g->h + y) * g->w + xx) * c; /* [c] */
      for (int ci = 0; ci < c; ci++) dst[ci * khw] = src[ci];
    }
  }
}

/* cols [(m ho wo) x (c kh kw)] from x [(m h w) x c]; output rows split over
 * threads */
void wf_cpu_im2col(wf_ctx *ctx, const wf_conv_geom *g, const wf_real *x,
                   wf_real *cols) {
  const size_t hw = (size_t)g->ho * g->wo, rows = (size_t)g->m * hw;
  const size_t width = (size_t)g->c * g->kh * g->kw;
  if (rows == 0 || width == 0) return;
  int nt = wf_cpu_threads_for(ctx, rows * width);
  WF_OMP_CHUNKS(nt)
  for (int th = 0; th < nt; th++) {
    for (size_t r = share_lo(rows, th, nt); r < share_lo(rows, th + 1, nt); r++) {
      size_t b = r / hw, p = r - b * hw; /* image, output position */
      im2col_row(g, x, (int)b, (int)(p / g->wo), (int)(p % g->wo), cols + r * width);
    }
  }
}

/* ---- col2im -------------------------------------------------------------- */
/* Image row y of image b, all its pixels and channels: xr[xx, ci] = the sum,
 * kernel row i then column j ascending, of the cols entries im2col copied
 * from pixel (y, xx). The kernel rows that reach y are i = (y + pad) mod
 * stride, then every stride-th while the output row oy = (y + pad - i) /
 * stride is >= 0 (skipped when >= ho); columns likewise. The loop over i is
 * the outermost, so every pixel still adds its terms in (i, j) order; the
 * adds over ci are independent, each a read kh kw values further along the
 * cols row. */
static void col2im_row(const wf_conv_geom *g,
                       const wf_real *cols /* [(m ho wo) x (c kh kw)] */, int b, int y,
                       wf_real *xr /* [w x c] */) {
  const int c = g->c, kh = g->kh, kw = g->kw, s = g->stride;
  const size_t khw = (size_t)kh * kw, width = (size_t)c * khw;
  const int ty = y + g->pad;
  memset(xr, 0, sizeof(wf_real) * (size_t)g->w * c);
  for (int i = ty % s, oy = ty / s; i < kh && oy >= 0; i += s, oy--) {
    if (oy >= g->ho) continue;
    /* column (ci kh + i) kw of cols row (b, oy, ox = 0) */
    const wf_real *crow = cols + ((size_t)b * g->ho + oy) * g->wo * width + (size_t)i * kw;
    for (int xx = 0; xx < g->w; xx++) {
      const int tx = xx + g->pad;
      wf_real *xp = xr + (size_t)xx * c; /* [c] */
      for (int j = tx % s, ox = tx / s; j < kw && ox >= 0; j += s, ox--) {
        if (ox >= g->wo) continue;
        const wf_real *src = crow + (size_t)ox * width + j; /* channel 0 */
        for (int ci = 0; ci < c; ci++) xp[ci] += src[ci * khw];
      }
    }
  }
}

/* x [(m h w) x c] = col2im(cols), overwritten; image rows split over
 * threads (each pixel's sums are its own: no races, no atomics) */
void wf_cpu_col2im(wf_ctx *ctx, const wf_conv_geom *g, const wf_real *cols,
                   wf_real *x) {
  const size_t rows = (size_t)g->m * g->h, row_len = (size_t)g->w * g->c;
  if (rows == 0 || row_len == 0) return;
  int nt = wf_cpu_threads_for(ctx, (size_t)g->m * g->ho * g->wo * g->c * g->kh * g->kw);
  WF_OMP_CHUNKS(nt)
  for (int th = 0; th < nt; th++) {
    for (size_t r = share_lo(rows, th, nt); r < share_lo(rows, th + 1, nt); r++)
      col2im_row(g, cols, (int)(r / g->h), (int)(r % g->h), x + r * row_len);
  }
}
