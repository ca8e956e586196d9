/* ot_cost.c — the costs c_ij = |x_i - y_j|^p of the exact-OT solver,
 * computed from the points: one pair, one row against some columns, and
 * the whole matrix; and the rows the solvers read (ot_row_all,
 * ot_row_some), from the stored matrix or computed on the fly.
 *
 * For wide points (d >= OT_WIDE_D) the costs, not the solver, take the
 * time: at d = 784 a cost is 2.4 kFLOP and a 2000-point problem's matrix
 * 3 G of them. Their squared distances are summed in 4 interleaved partial
 * sums (lane l takes the coordinates k = l mod 4, in order) that are added
 * in one fixed tree, so that a 4-double vector carries one pair and every
 * kernel here gives the same bits for the same pair: a cost stored,
 * recomputed on the fly or listed singly is one number (the solver's
 * optimality check compares them). The kernels are compiled for each ISA
 * (simd.h), and all of them take the same clone on one machine, where a
 * clone with FMA fuses the same products in each. The fill reuses each
 * y vector it loads for four pairs (4 x 2 blocks), over tiles of columns
 * that stay in cache.
 *
 * Narrow points keep the plain sequential sum of ot_cost() (ot_lap.h),
 * in functions that are not cloned, so that ot_cost()'s inline copies in
 * the solvers round the same way.
 */
#include <string.h>

#include "ot_lap.h"
#include "simd.h"

/* the lanes of one pair: lane l sums the coordinates k = l mod 4 */
typedef double ot_v4 __attribute__((vector_size(32)));

/* the helpers below go into each clone of their callers (an optimize
 * attribute that differs would otherwise keep them out, in baseline code) */
#define WF_INLINE __attribute__((always_inline))

/* bytes of y rows per tile of the fill: they stay in a core's L2 while
 * every block of x rows passes over them */
#ifndef FILL_TILE_BYTES
#define FILL_TILE_BYTES ((size_t)3 << 19)
#endif

#define LOAD4(v, p) memcpy(&(v), (p), sizeof(ot_v4))

/* the coordinates past the last multiple of 4 go to lanes 0, 1, 2; then
 * the lanes are added in a fixed tree */
static inline WF_INLINE double lanes_total(const ot_v4 *acc, const double *a,
                                           const double *b, int d4, int d) {
  double l[4];
  memcpy(l, acc, sizeof(l));
  for (int k = d4; k < d; k++) {
    double t = a[k] - b[k];
    l[k - d4] += t * t;
  }
  return (l[0] + l[1]) + (l[2] + l[3]);
}

static inline WF_INLINE double pair_sq(const double *a, const double *b, int d) {
  ot_v4 acc = {0}, u, w, t;
  int d4 = d & ~3;
  for (int k = 0; k < d4; k += 4) {
    LOAD4(u, a + k);
    LOAD4(w, b + k);
    t = u - w;
    acc += t * t;
  }
  return lanes_total(&acc, a, b, d4, d);
}

/* squared distances of a to b[0..3] */
static inline WF_INLINE void pair_sq_1x4(const double *a, const double *const b[4],
                                         int d, double out[4]) {
  ot_v4 c0 = {0}, c1 = {0}, c2 = {0}, c3 = {0};
  int d4 = d & ~3;
  for (int k = 0; k < d4; k += 4) {
    ot_v4 x, y, t;
    LOAD4(x, a + k);
    LOAD4(y, b[0] + k); t = x - y; c0 += t * t;
    LOAD4(y, b[1] + k); t = x - y; c1 += t * t;
    LOAD4(y, b[2] + k); t = x - y; c2 += t * t;
    LOAD4(y, b[3] + k); t = x - y; c3 += t * t;
  }
  out[0] = lanes_total(&c0, a, b[0], d4, d);
  out[1] = lanes_total(&c1, a, b[1], d4, d);
  out[2] = lanes_total(&c2, a, b[2], d4, d);
  out[3] = lanes_total(&c3, a, b[3], d4, d);
}

/* squared distances of a[0..3] to b0, b1: out[2 r + q] for a[r], b_q.
 * Eight accumulators, two y vectors and one x vector fit AVX2's 16
 * registers; each y vector loaded serves four pairs. */
static inline WF_INLINE void pair_sq_4x2(const double *const a[4], const double *b0,
                                         const double *b1, int d, double out[8]) {
  ot_v4 c00 = {0}, c01 = {0}, c10 = {0}, c11 = {0};
  ot_v4 c20 = {0}, c21 = {0}, c30 = {0}, c31 = {0};
  int d4 = d & ~3;
  for (int k = 0; k < d4; k += 4) {
    ot_v4 y0, y1, x, t;
    LOAD4(y0, b0 + k);
    LOAD4(y1, b1 + k);
    LOAD4(x, a[0] + k); t = x - y0; c00 += t * t; t = x - y1; c01 += t * t;
    LOAD4(x, a[1] + k); t = x - y0; c10 += t * t; t = x - y1; c11 += t * t;
    LOAD4(x, a[2] + k); t = x - y0; c20 += t * t; t = x - y1; c21 += t * t;
    LOAD4(x, a[3] + k); t = x - y0; c30 += t * t; t = x - y1; c31 += t * t;
  }
  out[0] = lanes_total(&c00, a[0], b0, d4, d);
  out[1] = lanes_total(&c01, a[0], b1, d4, d);
  out[2] = lanes_total(&c10, a[1], b0, d4, d);
  out[3] = lanes_total(&c11, a[1], b1, d4, d);
  out[4] = lanes_total(&c20, a[2], b0, d4, d);
  out[5] = lanes_total(&c21, a[2], b1, d4, d);
  out[6] = lanes_total(&c30, a[3], b0, d4, d);
  out[7] = lanes_total(&c31, a[3], b1, d4, d);
}

/* ---- the wide kernels, one clone per ISA -------------------------------- */
WF_CLONES double ot_cost_wide(const ot_lap *s, int i, int j) {
  int d = s->d;
  return ot_power(s, pair_sq(s->x + (size_t)i * d, s->y + (size_t)j * d, d));
}

WF_CLONES static void wide_row(const ot_lap *s, int i, const int *cols, int m,
                               double *row) {
  int d = s->d, k = 0;
  const double *xi = s->x + (size_t)i * d;
  for (; k + 4 <= m; k += 4) {
    int j[4];
    const double *yj[4];
    double sq[4];
    for (int q = 0; q < 4; q++) {
      j[q] = cols != NULL ? cols[k + q] : k + q;
      yj[q] = s->y + (size_t)j[q] * d;
    }
    pair_sq_1x4(xi, yj, d, sq);
    for (int q = 0; q < 4; q++) row[j[q]] = ot_power(s, sq[q]);
  }
  for (; k < m; k++) {
    int j = cols != NULL ? cols[k] : k;
    row[j] = ot_power(s, pair_sq(xi, s->y + (size_t)j * d, d));
  }
}

WF_CLONES static void wide_fill(const ot_lap *s, double *c) {
  int n = s->n, d = s->d;
  int tile = (int)(FILL_TILE_BYTES / (sizeof(double) * (size_t)d));
  if (tile < 16) tile = 16;
  for (int j0 = 0; j0 < n; j0 += tile) {
    int j1 = j0 + tile < n ? j0 + tile : n;
    int i = 0;
    for (; i + 4 <= n; i += 4) {
      const double *a[4];
      for (int r = 0; r < 4; r++) a[r] = s->x + (size_t)(i + r) * d;
      double *ci = c + (size_t)i * n;
      int j = j0;
      for (; j + 2 <= j1; j += 2) {
        double sq[8];
        const double *b0 = s->y + (size_t)j * d;
        pair_sq_4x2(a, b0, b0 + d, d, sq);
        for (int r = 0; r < 4; r++) {
          ci[(size_t)r * n + j] = ot_power(s, sq[2 * r]);
          ci[(size_t)r * n + j + 1] = ot_power(s, sq[2 * r + 1]);
        }
      }
      for (; j < j1; j++)
        for (int r = 0; r < 4; r++)
          ci[(size_t)r * n + j] = ot_power(s, pair_sq(a[r], s->y + (size_t)j * d, d));
    }
    for (; i < n; i++)
      for (int j = j0; j < j1; j++)
        c[(size_t)i * n + j] = ot_power(s, pair_sq(s->x + (size_t)i * d,
                                                   s->y + (size_t)j * d, d));
  }
}

/* ---- entry points: narrow points inline, wide ones through the clones ---- */
/* narrow points: ot_cost()'s sum, with the points' fields held in
 * registers and, inlined with constants, loops for d = 2 and all columns */
static inline WF_INLINE void narrow_row(const ot_lap *s, int i, const int *cols,
                                        int m, double *row, int d) {
  const double *xi = s->x + (size_t)i * d, *y = s->y;
  for (int k = 0; k < m; k++) {
    int j = cols != NULL ? cols[k] : k;
    const double *yj = y + (size_t)j * d;
    double sq = 0;
    for (int q = 0; q < d; q++) {
      double t = xi[q] - yj[q];
      sq += t * t;
    }
    row[j] = ot_power(s, sq);
  }
}

void ot_costs_row(const ot_lap *s, int i, const int *cols, int m, double *row) {
  if (s->d >= OT_WIDE_D)
    wide_row(s, i, cols, m, row);
  else if (s->d == 2 && cols == NULL)
    narrow_row(s, i, NULL, m, row, 2);
  else if (s->d == 2)
    narrow_row(s, i, cols, m, row, 2);
  else
    narrow_row(s, i, cols, m, row, s->d);
}

void ot_costs_fill(const ot_lap *s, double *c) {
  if (s->d >= OT_WIDE_D) {
    wide_fill(s, c);
    return;
  }
  for (int i = 0; i < s->n; i++) ot_costs_row(s, i, NULL, s->n, c + (size_t)i * s->n);
}

/* ---- the rows the solvers read: stored, or computed into s->row --------- */
const double *ot_row_all(ot_lap *s, int i) {
  s->work += (size_t)s->n;
  if (s->c != NULL) return s->c + (size_t)i * s->n;
  ot_costs_row(s, i, NULL, s->n, s->row);
  return s->row;
}

const double *ot_row_some(ot_lap *s, int i, const int *cols, int m, int j1) {
  s->work += (size_t)m + 1;
  if (s->c != NULL) return s->c + (size_t)i * s->n;
  ot_costs_row(s, i, cols, m, s->row);
  ot_costs_row(s, i, &j1, 1, s->row);
  return s->row;
}
