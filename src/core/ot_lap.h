/* ot_lap.h — the inside of the assignment solver, shared by the OT files
 * only: the solver's state, what every solver uses (ot_lap.c), the costs
 * and the rows the solvers read (ot_cost.c), and the two solvers
 * (ot_dense.c, ot_sparse.c) that ot.c drives.
 *
 * Rows are the points x_i, columns the points y_j. The solvers keep column
 * prices v and leave row potentials implicit: with reduced costs
 * r_ij = c_ij - v_j, an assigned row sits on a column where r_ij is its
 * minimum (over the edges the solver knows), so u_i = min_j r_ij and
 * c_ij - u_i - v_j >= 0 everywhere. A full assignment with that invariant
 * is optimal.
 */
#ifndef WF_OT_LAP_H
#define WF_OT_LAP_H

#include <math.h>
#include <stddef.h>

#include "ot.h"

/* work units (cost entries touched) between two abort checks: a few ms */
#define OT_CHECK_EVERY ((size_t)1 << 23)

typedef enum { OT_POW_1, OT_POW_2, OT_POW_P } ot_pow;

typedef struct {
  int n, d;
  /* costs: a stored matrix, or computed from the points when c == NULL */
  const double *c;     /* [n x n] row-major */
  const double *x, *y; /* [n x d] */
  ot_pow pk;
  double half_p;       /* p / 2, for OT_POW_P */
  double *row;         /* [n] a row computed on the fly (NULL if stored) */
  double cmax;         /* max |c_ij|, set by the first full pass */
  double tol;          /* violations below this are rounding: OT_REL_TOL * cmax */

  int *x2y;       /* [n] column of each row, -1 if free */
  int *y2x;       /* [n] row of each column, -1 if free */
  double *v;      /* [n] column prices */
  double *dist;   /* [n] shortest-path distances, by column */
  int *cols;      /* [n] column lists of the searches */
  int *pred;      /* [n] row preceding each column on the shortest path */
  int *free_rows; /* [n] rows still free */

  void *block;    /* the allocation holding the arrays above */

  size_t work, next_check;
  char *msg;
} ot_lap;

/* slack below which a reduced cost counts as zero, relative to max |c| */
#define OT_REL_TOL 1e-12

/* ---- ot_lap.c: what every solver uses ----------------------------------- */
wf_status ot_fail(ot_lap *s, wf_status rc, const char *text);
/* the abort callback, consulted once per OT_CHECK_EVERY units of work */
int ot_interrupted(ot_lap *s);

/* ---- ot_cost.c: costs from the points, and the rows the solvers read ----- */
/* |x_i - y_j|^p from the squared distance */
static inline double ot_power(const ot_lap *s, double sq) {
  switch (s->pk) {
  case OT_POW_2: return sq;
  case OT_POW_1: return sqrt(sq);
  default: return pow(sq, s->half_p);
  }
}

/* From this many coordinates on, costs are computed by the SIMD kernels of
 * ot_cost.c (lane-wise sums); below it, by the plain sum here. */
#define OT_WIDE_D 8

/* c_ij of wide points (d >= OT_WIDE_D); ot_cost() calls it */
double ot_cost_wide(const ot_lap *s, int i, int j);
/* row[j] = c_ij for j = cols[0 .. m), or for j = 0 .. m-1 if cols is NULL */
void ot_costs_row(const ot_lap *s, int i, const int *cols, int m, double *row);
/* all costs, c [n x n] row-major */
void ot_costs_fill(const ot_lap *s, double *c);

/* c_ij: stored, or computed from the points (the same bits either way) */
static inline double ot_cost(const ot_lap *s, int i, int j) {
  if (s->c != NULL) return s->c[(size_t)i * s->n + j];
  if (s->d >= OT_WIDE_D) return ot_cost_wide(s, i, j);
  const double *xi = s->x + (size_t)i * s->d, *yj = s->y + (size_t)j * s->d;
  double sq = 0;
  for (int k = 0; k < s->d; k++) {
    double t = xi[k] - yj[k];
    sq += t * t;
  }
  return ot_power(s, sq);
}

/* row i of the costs, all columns: the stored row, or computed into s->row;
 * counts n units of work */
const double *ot_row_all(ot_lap *s, int i);
/* row i where only the columns cols[0 .. m) and j1 are read (the others of
 * s->row are stale when computed); counts m + 1 units of work */
const double *ot_row_some(ot_lap *s, int i, const int *cols, int m, int j1);

/* ---- ot_dense.c: Jonker-Volgenant on the full cost matrix ---------------- */
/* Column reduction, reduction transfer and two rounds of augmenting row
 * reduction from scratch; the rows left free are in free_rows[0 .. *n_free). */
wf_status ot_dense_init(ot_lap *s, int *n_free);
/* One Dijkstra search from free row f over all columns, then augment. */
wf_status ot_dense_augment(ot_lap *s, int f);

/* ---- ot_sparse.c: shortlists of candidate columns, priced densely -------- */
/* From starting prices s->v and row potentials u0, near optimal (from a
 * coarse problem): solves on short candidate lists, adds the columns whose
 * reduced cost is negative and solves again, until none is. Sets cmax and
 * tol. *converged is 0 if it gave up (round cap): rows may then be free,
 * the others tight on their lists, and the dense solver finishes. */
wf_status ot_sparse_solve(ot_lap *s, const double *u0, int *converged);

#endif
