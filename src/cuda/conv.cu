/* conv.cu — the data movement that lowers a 2-D convolution to matrix
 * products, on the GPU (backend.h, API 5): per-row transposes between
 * channels-first and channels-last images, im2col and its adjoint col2im.
 *
 * The geometry is read on the host when the op is called and passed to the
 * kernels by value (a copy in the launch's parameters), so a recorded graph
 * never reads host memory again. Every output value has one thread, and
 * col2im is a gather that sums in the fixed order of backend.h (kernel row
 * i, then column j, from 0, in wf_real) as cpu/conv.c does: no atomics, and
 * the two backends make the same additions. */
#include "cuda_ops.h"

/* ---- transpose_rows --------------------------------------------------------------
 * A block moves 32 x 32 tiles through shared memory (a column of padding
 * against bank conflicts): reads along rows of in, writes along rows of
 * out, both coalesced. Its 256 threads are 8 rows of 32 lanes. Tiles of all
 * m matrices are numbered together and taken grid-stride, so any m, a and b
 * fit a one-dimensional grid. */
#define TP_TILE 32
#define TP_ROWS (WF_CU_THREADS / TP_TILE)

static __global__ void transpose_rows_kernel(const wf_real *in /* [m x (a b)] */, int m,
                                             int a, int b,
                                             wf_real *out /* [m x (b a)] */) {
  __shared__ wf_real tile[TP_TILE][TP_TILE + 1];
  const int lane = threadIdx.x % TP_TILE, row = threadIdx.x / TP_TILE;
  const size_t ta = (a + TP_TILE - 1) / TP_TILE, tb = (b + TP_TILE - 1) / TP_TILE;
  const size_t per = ta * tb, tiles = (size_t)m * per, ab = (size_t)a * b;
  for (size_t t = blockIdx.x; t < tiles; t += gridDim.x) { /* the same bound block-wide */
    const size_t r = t / per, u = t - r * per;
    const int i0 = (int)(u / tb) * TP_TILE, j0 = (int)(u % tb) * TP_TILE;
    const wf_real *src = in + r * ab; /* [a x b] */
    wf_real *dst = out + r * ab;      /* [b x a] */
    __syncthreads(); /* the previous tile's readers are done with it */
    for (int k = row; k < TP_TILE; k += TP_ROWS) {
      const int i = i0 + k, j = j0 + lane;
      if (i < a && j < b) tile[k][lane] = src[(size_t)i * b + j];
    }
    __syncthreads();
    for (int k = row; k < TP_TILE; k += TP_ROWS) {
      const int j = j0 + k, i = i0 + lane;
      if (i < a && j < b) dst[(size_t)j * a + i] = tile[lane][k];
    }
  }
}

void wf_cu_transpose_rows(wf_ctx *ctx, const wf_real *in, int m, int a, int b,
                          wf_real *out) {
  if (m <= 0 || a <= 0 || b <= 0) return;
  const size_t tiles = (size_t)m * ((a + TP_TILE - 1) / TP_TILE) *
                       ((b + TP_TILE - 1) / TP_TILE);
  transpose_rows_kernel<<<wf_cu_grid_cap(tiles, 1, WF_CU_MAX_GRID), WF_CU_THREADS, 0,
                          ctx->stream>>>(in, m, a, b, out);
  WF_CU_LAUNCHED(ctx, "transpose_rows");
}

/* ---- im2col ----------------------------------------------------------------------
 * One thread per entry of cols [(m ho wo) x (c kh kw)], in storage order:
 * the writes are coalesced; the reads of a warp fall in a few image rows. */
static __global__ void im2col_kernel(const wf_conv_geom g,
                                     const wf_real *x /* [(m h w) x c] */,
                                     wf_real *cols /* [(m ho wo) x (c kh kw)] */) {
  const size_t khw = (size_t)g.kh * g.kw, width = (size_t)g.c * khw;
  const size_t hw_out = (size_t)g.ho * g.wo, total = (size_t)g.m * hw_out * width;
  WF_CU_FOR(k, total) {
    size_t r, q;
    unsigned int col;
    wf_cu_divmod(k, (unsigned int)width, &r, &col); /* cols row r, column col */
    const unsigned int ci = col / (unsigned int)khw, ij = col - ci * (unsigned int)khw;
    const int i = (int)(ij / g.kw), j = (int)(ij % g.kw);
    unsigned int p;
    wf_cu_divmod(r, (unsigned int)hw_out, &q, &p); /* image q, output position p */
    const int y = (int)(p / g.wo) * g.stride - g.pad + i;
    const int xx = (int)(p % g.wo) * g.stride - g.pad + j;
    wf_real v = 0; /* padding */
    if (y >= 0 && y < g.h && xx >= 0 && xx < g.w)
      v = x[((q * g.h + y) * g.w + xx) * g.c + ci];
    cols[k] = v;
  }
}

void wf_cu_im2col(wf_ctx *ctx, const wf_conv_geom *g, const wf_real *x, wf_real *cols) {
  const wf_conv_geom geom = *g; /* by value into the launch */
  const size_t total = (size_t)geom.m * geom.ho * geom.wo * geom.c * geom.kh * geom.kw;
  if (total == 0) return;
  im2col_kernel<<<wf_cu_grid(total), WF_CU_THREADS, 0, ctx->stream>>>(geom, x, cols);
  WF_CU_LAUNCHED(ctx, "im2col");
}

/* ---- col2im ----------------------------------------------------------------------
 * One thread per entry of x [(m h w) x c], in storage order (coalesced
 * writes): pixel (b, y, xx), channel ci sums the cols entries im2col copied
 * from it. The kernel rows that reach image row y are i = (y + pad) mod
 * stride, then every stride-th while the output row oy = (y + pad - i) /
 * stride is >= 0 (skipped when >= ho); columns likewise. */
static __global__ void col2im_kernel(const wf_conv_geom g,
                                     const wf_real *cols /* [(m ho wo) x (c kh kw)] */,
                                     wf_real *x /* [(m h w) x c] */) {
  const size_t khw = (size_t)g.kh * g.kw, width = (size_t)g.c * khw;
  const size_t hw = (size_t)g.h * g.w, total = (size_t)g.m * hw * g.c;
  const int s = g.stride;
  WF_CU_FOR(k, total) {
    size_t q, b;
    unsigned int ci, p;
    wf_cu_divmod(k, (unsigned int)g.c, &q, &ci); /* pixel q, channel ci */
    wf_cu_divmod(q, (unsigned int)hw, &b, &p);   /* image b, pixel p */
    const int ty = (int)(p / g.w) + g.pad, tx = (int)(p % g.w) + g.pad;
    const wf_real *src = cols + (size_t)ci * khw; /* channel ci of cols row 0 */
    wf_real acc = 0;
    for (int i = ty % s, oy = ty / s; i < g.kh && oy >= 0; i += s, oy--) {
      if (oy >= g.ho) continue;
      for (int j = tx % s, ox = tx / s; j < g.kw && ox >= 0; j += s, ox--) {
        if (ox >= g.wo) continue;
        const size_t r = (b * g.ho + oy) * g.wo + ox;
        acc += src[r * width + (size_t)i * g.kw + j];
      }
    }
    x[k] = acc;
  }
}

void wf_cu_col2im(wf_ctx *ctx, const wf_conv_geom *g, const wf_real *cols, wf_real *x) {
  const wf_conv_geom geom = *g; /* by value into the launch */
  const size_t total = (size_t)geom.m * geom.h * geom.w * geom.c;
  if (total == 0) return;
  col2im_kernel<<<wf_cu_grid(total), WF_CU_THREADS, 0, ctx->stream>>>(geom, cols, x);
  WF_CU_LAUNCHED(ctx, "col2im");
}
