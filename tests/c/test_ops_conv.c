/* test_ops_conv.c — the ops convolutions lower to (cpu/conv.c):
 * transpose_rows, im2col and col2im (scatter and gather) against direct
 * loops, exactly, with im2col and col2im adjoint to each other; 1 vs 2
 * threads bit for bit. Built in double and float (and avx2_*); ends with
 * "ops conv <precision>: N passed, N failed". */
#include "ops_test_util.h"

/* ---- convolutions lowered to matrix products ------------------------------- */
static void transpose_rows_swaps_the_inner_axes(void) {
  const wf_backend *be = D.be;
  /* m, a, b: single values, a or b of 1, neither a multiple of the CPU's
   * 32-wide tiles, and one long enough to be split among threads */
  static const int shapes[][3] = {{1, 1, 1}, {5, 1, 9}, {3, 9, 1}, {3, 5, 7},
                                  {1, 3, 1024}, {2, 1024, 3}, {4, 33, 65},
                                  {2, 64, 4096}};
  for (int s = 0; s < 8; s++) {
    int m = shapes[s][0], a = shapes[s][1], b = shapes[s][2];
    size_t ab = (size_t)a * b, n = (size_t)m * ab;
    double *hin = ou_rnorm(&D, n, 1); /* [m x (a b)] */
    ou_round(hin, n);
    double *ref = ou_vec(&D, n); /* out[r][j][i] = in[r][i][j] */
    for (int r = 0; r < m; r++)
      for (int i = 0; i < a; i++)
        for (int j = 0; j < b; j++)
          ref[r * ab + (size_t)j * a + i] = hin[r * ab + (size_t)i * b + j];
    wf_real *in = ou_up(&D, hin, n), *out = ou_up(&D, NULL, n), *back = ou_up(&D, NULL, n);
    double *got[2];
    for (int th = 1; th <= 2; th++) {
      threads(th);
      be->fill(D.ctx, out, n, 7);
      be->transpose_rows(D.ctx, in, m, a, b, out);
      got[th - 1] = ou_down(&D, out, n);
    }
    threads(1);
    be->transpose_rows(D.ctx, out, m, b, a, back); /* and back again */
    CHECK(same(got[0], ref, n), "transpose_rows %d x %d x %d", m, a, b);
    CHECK(same(ou_down(&D, back, n), hin, n), "transpose_rows %d x %d x %d and back",
          m, a, b);
    CHECK(same(got[0], got[1], n), "transpose_rows %d x %d x %d: 1 and 2 threads differ",
          m, a, b);
    ou_reset(&D);
  }
}

/* m, c, h, w, kh, kw, stride, pad; ho and wo from the formula of backend.h */
static wf_conv_geom conv_geom(const int p[8]) {
  wf_conv_geom g = {.m = p[0], .c = p[1], .h = p[2], .w = p[3], .kh = p[4],
                    .kw = p[5], .stride = p[6], .pad = p[7]};
  g.ho = (g.h + 2 * g.pad - g.kh) / g.stride + 1;
  g.wo = (g.w + 2 * g.pad - g.kw) / g.stride + 1;
  return g;
}

static size_t conv_x_len(const wf_conv_geom *g) {
  return (size_t)g->m * g->h * g->w * g->c;
}
static size_t conv_cols_len(const wf_conv_geom *g) {
  return (size_t)g->m * g->ho * g->wo * g->c * g->kh * g->kw;
}

/* x[b, y, xx, ci] of x [(m h w) x c], 0 outside the image */
static double conv_pixel(const wf_conv_geom *g, const double *x, int b, int y, int xx,
                         int ci) {
  if (y < 0 || y >= g->h || xx < 0 || xx >= g->w) return 0;
  return x[(((size_t)b * g->h + y) * g->w + xx) * g->c + ci];
}

/* the index of cols entry (row (b ho + oy) wo + ox, column (ci kh + i) kw + j) */
static size_t conv_col_at(const wf_conv_geom *g, int b, int oy, int ox, int ci, int i,
                          int j) {
  size_t row = ((size_t)b * g->ho + oy) * g->wo + ox;
  return row * ((size_t)g->c * g->kh * g->kw) + ((size_t)ci * g->kh + i) * g->kw + j;
}

/* im2col by the contract's formula, entry by entry */
static void ref_im2col(const wf_conv_geom *g, const double *x, double *cols) {
  for (int b = 0; b < g->m; b++)
    for (int oy = 0; oy < g->ho; oy++)
      for (int ox = 0; ox < g->wo; ox++)
        for (int ci = 0; ci < g->c; ci++)
          for (int i = 0; i < g->kh; i++)
            for (int j = 0; j < g->kw; j++)
              cols[conv_col_at(g, b, oy, ox, ci, i, j)] =
                  conv_pixel(g, x, b, oy * g->stride - g->pad + i,
                             ox * g->stride - g->pad + j, ci);
}

/* the adjoint as a scatter, in double: every cols entry added to the pixel
 * im2col read it from (exact on small whole numbers, whatever the order) */
static void ref_col2im_scatter(const wf_conv_geom *g, const double *cols, double *x) {
  memset(x, 0, conv_x_len(g) * sizeof(double));
  for (int b = 0; b < g->m; b++)
    for (int oy = 0; oy < g->ho; oy++)
      for (int ox = 0; ox < g->wo; ox++)
        for (int ci = 0; ci < g->c; ci++)
          for (int i = 0; i < g->kh; i++)
            for (int j = 0; j < g->kw; j++) {
              int y = oy * g->stride - g->pad + i, xx = ox * g->stride - g->pad + j;
              if (y < 0 || y >= g->h || xx < 0 || xx >= g->w) continue;
              x[(((size_t)b * g->h + y) * g->w + xx) * g->c + ci] +=
                  cols[conv_col_at(g, b, oy, ox, ci, i, j)];
            }
}

/* the adjoint as the contract's gather: each pixel's sum in wf_real from 0,
 * over every kernel position (i, then j, ascending) whose output position
 * oy = (y + pad - i) / stride, ox likewise, is whole and in range */
static void ref_col2im_gather(const wf_conv_geom *g, const double *cols, double *x) {
  for (int b = 0; b < g->m; b++)
    for (int y = 0; y < g->h; y++)
      for (int xx = 0; xx < g->w; xx++)
        for (int ci = 0; ci < g->c; ci++) {
          wf_real acc = 0;
          for (int i = 0; i < g->kh; i++)
            for (int j = 0; j < g->kw; j++) {
              int ty = y + g->pad - i, tx = xx + g->pad - j;
              if (ty < 0 || tx < 0 || ty % g->stride || tx % g->stride) continue;
              int oy = ty / g->stride, ox = tx / g->stride;
              if (oy >= g->ho || ox >= g->wo) continue;
              acc += (wf_real)cols[conv_col_at(g, b, oy, ox, ci, i, j)];
            }
          x[(((size_t)b * g->h + y) * g->w + xx) * g->c + ci] = acc;
        }
}

/* im2col and col2im of one geometry on 1 and 2 threads; cols and x start
 * filled with 7, so every entry must be written (padding, pixels no kernel
 * position reaches) */
static void conv_run(const wf_conv_geom *g, const double *hx, const double *hc,
                     double *got_cols[2], double *got_x[2]) {
  const wf_backend *be = D.be;
  size_t nx = conv_x_len(g), nc = conv_cols_len(g);
  wf_real *x = ou_up(&D, hx, nx), *c = ou_up(&D, hc, nc);
  wf_real *cols = ou_up(&D, NULL, nc), *xo = ou_up(&D, NULL, nx);
  for (int th = 1; th <= 2; th++) {
    threads(th);
    be->fill(D.ctx, cols, nc, 7);
    be->fill(D.ctx, xo, nx, 7);
    be->im2col(D.ctx, g, x, cols);
    be->col2im(D.ctx, g, c, xo);
    got_cols[th - 1] = ou_down(&D, cols, nc);
    got_x[th - 1] = ou_down(&D, xo, nx);
  }
  threads(1);
}

/* small whole numbers in [-4, 4]: every sum of col2im exact */
static double *conv_levels(size_t n) {
  double *p = ou_vec(&D, n);
  for (size_t k = 0; k < n; k++) p[k] = floor(9 * ou_unif(&D)) - 4;
  return p;
}

static void conv_case(const int p[8]) {
  wf_conv_geom g = conv_geom(p);
  size_t nx = conv_x_len(&g), nc = conv_cols_len(&g);
  char name[96];
  snprintf(name, sizeof(name), "m %d c %d %d x %d, kernel %d x %d, stride %d, pad %d",
           g.m, g.c, g.h, g.w, g.kh, g.kw, g.stride, g.pad);
  double *ref_cols = ou_vec(&D, nc), *ref_x = ou_vec(&D, nx);
  double *gc[2], *gx[2];

  /* whole numbers: im2col's copies and the scatter's exact sums */
  double *hx = conv_levels(nx), *hc = conv_levels(nc);
  conv_run(&g, hx, hc, gc, gx);
  ref_im2col(&g, hx, ref_cols);
  ref_col2im_scatter(&g, hc, ref_x);
  CHECK(same(gc[0], ref_cols, nc), "im2col %s, whole numbers", name);
  CHECK(same(gx[0], ref_x, nx), "col2im %s: the scatter's exact sums", name);

  /* normal values: the copies, and the gather's sums in the fixed order to
   * the bit; 1 and 2 threads alike */
  hx = ou_rnorm(&D, nx, 1);
  hc = ou_rnorm(&D, nc, 1);
  ou_round(hx, nx);
  ou_round(hc, nc);
  conv_run(&g, hx, hc, gc, gx);
  ref_im2col(&g, hx, ref_cols);
  ref_col2im_gather(&g, hc, ref_x);
  CHECK(same(gc[0], ref_cols, nc), "im2col %s", name);
  CHECK(same(gx[0], ref_x, nx), "col2im %s: sums in the order i, then j", name);
  CHECK(same(gc[0], gc[1], nc) && same(gx[0], gx[1], nx),
        "im2col / col2im %s: 1 and 2 threads differ", name);

  /* adjoint: <im2col(x), C> = <x, col2im(C)>, in double from the backend's
   * values; col2im's wf_real sums of at most kh kw terms bound the gap */
  double lhs = 0, rhs = 0, mag = 0;
  for (size_t k = 0; k < nc; k++) {
    lhs += gc[0][k] * hc[k];
    mag += fabs(gc[0][k] * hc[k]);
  }
  for (size_t k = 0; k < nx; k++) rhs += hx[k] * gx[0][k];
  double tol = 4.0 * (g.kh * g.kw + 2) * EPS * mag;
  CHECK(fabs(lhs - rhs) <= tol, "im2col / col2im %s: <im2col(x), C> %.17g, "
        "<x, col2im(C)> %.17g (tolerance %.3g)", name, lhs, rhs, tol);
  ou_reset(&D);
}

static void im2col_and_col2im_match_direct_loops(void) {
  /* m, c, h, w, kh, kw, stride, pad: odd sizes, stride 1, 2 and 3, padding
   * 0, 1, 2, 1 x 1 kernels (with stride 2: pixels no kernel reaches), kernels
   * of 4 and 5 (one wider than the image but not the padded image),
   * non-square kernels (kh != kw pins the column order), rows and columns
   * that stride 2 leaves unread, 1 and several channels, batches of 1 and
   * 3, and one large enough to be split among threads */
  static const int geoms[][8] = {
      {1, 1, 5, 7, 3, 3, 1, 0}, {3, 2, 5, 7, 3, 3, 1, 1}, {1, 3, 5, 7, 4, 4, 2, 1},
      {3, 1, 7, 5, 5, 5, 2, 2}, {2, 4, 6, 6, 1, 1, 1, 0}, {1, 2, 5, 7, 1, 1, 2, 0},
      {3, 3, 8, 9, 4, 4, 2, 2}, {1, 1, 4, 4, 5, 5, 1, 2}, {2, 5, 5, 7, 3, 5, 2, 1},
      {2, 1, 7, 6, 4, 5, 2, 0}, {1, 2, 8, 7, 3, 2, 3, 1}, {3, 1, 5, 5, 5, 4, 1, 0},
      {3, 8, 32, 32, 4, 4, 2, 1}};
  for (size_t k = 0; k < sizeof(geoms) / sizeof(geoms[0]); k++) conv_case(geoms[k]);
}

int main(void) {
  ops_open();
  transpose_rows_swaps_the_inner_axes();
  im2col_and_col2im_match_direct_loops();
  return ops_finish("conv");
}
