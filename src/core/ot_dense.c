/* ot_dense.c — the dense linear assignment solver, in the style of Jonker &
 * Volgenant (Computing 38, 1987): column reduction, reduction transfer, two
 * rounds of augmenting row reduction (cheap auction-like moves that settle
 * many rows), then one Dijkstra search over all columns per free row.
 * O(n^3) in the worst case.
 *
 * Floating point: augmenting row reduction can cycle when a price change
 * rounds to nothing, so each round has a step budget and the rows it leaves
 * go to the Dijkstra phase, which ends after at most n scans whatever the
 * rounding (each scan settles one column).
 */
#include <stdlib.h>

#include "ot_lap.h"

/* ---- column reduction and reduction transfer ----------------------------- */
/* Each column's price is its smallest cost; the column goes to its cheapest
 * row if that row is free (or cheaper there than the row's own column).
 * A row that got exactly one column then lowers that column's price to the
 * row's second-best reduced cost, so later searches value it correctly. */
static wf_status reduce_columns(ot_lap *s, int *n_free) {
  int n = s->n;
  int *argmin = s->pred, *matches = s->cols; /* both free until the search */
  for (int j = 0; j < n; j++) {
    s->v[j] = INFINITY;
    argmin[j] = 0;
  }
  double cmax = 0;
  for (int i = 0; i < n; i++) { /* row-wise: one pass over the costs */
    const double *ci = ot_row_all(s, i);
    for (int j = 0; j < n; j++) {
      if (fabs(ci[j]) > cmax || !isfinite(ci[j])) cmax = fabs(ci[j]);
      if (ci[j] < s->v[j]) {
        s->v[j] = ci[j];
        argmin[j] = i;
      }
    }
    if (!isfinite(cmax)) return ot_fail(s, WF_ERR_NUMERIC, "a cost is not finite (overflow?)");
    if (ot_interrupted(s)) return ot_fail(s, WF_ERR_INTERRUPT, "interrupted");
  }
  s->cmax = cmax;
  s->tol = OT_REL_TOL * cmax;
  for (int i = 0; i < n; i++) {
    s->x2y[i] = -1;
    matches[i] = 0;
  }
  for (int j = n - 1; j >= 0; j--) {
    int i = argmin[j];
    s->y2x[j] = -1;
    matches[i]++;
    if (s->x2y[i] < 0) {
      s->x2y[i] = j;
      s->y2x[j] = i;
    } else if (s->v[j] < s->v[s->x2y[i]]) {
      s->y2x[s->x2y[i]] = -1;
      s->x2y[i] = j;
      s->y2x[j] = i;
    }
  }
  int nf = 0;
  for (int i = 0; i < n; i++) {
    if (matches[i] == 0) {
      s->free_rows[nf++] = i;
    } else if (matches[i] == 1) {
      int j1 = s->x2y[i];
      const double *ci = ot_row_all(s, i);
      double mu = INFINITY;
      for (int j = 0; j < n; j++)
        if (j != j1 && ci[j] - s->v[j] < mu) mu = ci[j] - s->v[j];
      /* r_ij1 was 0 (the column's minimum); now it ties the runner-up */
      s->v[j1] -= mu;
    }
    if (ot_interrupted(s)) return ot_fail(s, WF_ERR_INTERRUPT, "interrupted");
  }
  *n_free = nf;
  return WF_OK;
}

/* ---- augmenting row reduction --------------------------------------------- */
/* A free row takes the column of its smallest reduced cost, lowering that
 * column's price until it ties the row's second best; the row it displaces
 * is processed next. On a tie the row takes the second column instead. */
static wf_status reduce_rows(ot_lap *s, int *n_free) {
  int n = s->n, *fr = s->free_rows;
  int prev = *n_free, m = 0, k = 0;
  long steps = 0, budget = 4L * n + 64;
  while (k < prev) {
    if (++steps > budget) break; /* float cycling or slow progress */
    int i = fr[k++];
    const double *ci = ot_row_all(s, i);
    double r1 = ci[0] - s->v[0], r2 = INFINITY;
    int j1 = 0, j2 = -1;
    for (int j = 1; j < n; j++) {
      double h = ci[j] - s->v[j];
      if (h < r2) {
        if (h >= r1) {
          r2 = h;
          j2 = j;
        } else {
          r2 = r1;
          j2 = j1;
          r1 = h;
          j1 = j;
        }
      }
    }
    int i0 = s->y2x[j1];
    double lowered = s->v[j1] - (r2 - r1);
    int strict = lowered < s->v[j1]; /* a price change that rounding keeps */
    if (strict) {
      s->v[j1] = lowered;
    } else if (i0 >= 0) {
      j1 = j2;
      i0 = s->y2x[j2];
    }
    if (i0 >= 0) s->x2y[i0] = -1;
    s->x2y[i] = j1;
    s->y2x[j1] = i;
    if (i0 >= 0) {
      if (strict) fr[--k] = i0; /* at once: it may take its runner-up */
      else fr[m++] = i0;
    }
    if (ot_interrupted(s)) return ot_fail(s, WF_ERR_INTERRUPT, "interrupted");
  }
  /* the free rows, also those a spent budget left unprocessed */
  m = 0;
  for (int i = 0; i < n; i++)
    if (s->x2y[i] < 0) fr[m++] = i;
  *n_free = m;
  return WF_OK;
}

wf_status ot_dense_init(ot_lap *s, int *n_free) {
  wf_status rc = reduce_columns(s, n_free);
  if (s->n < 2) return rc; /* row reduction needs a runner-up column */
  for (int round = 0; rc == WF_OK && round < 2 && *n_free > 0; round++)
    rc = reduce_rows(s, n_free);
  return rc;
}

/* ---- shortest augmenting path ---------------------------------------------- */
/* Dijkstra from free row f over reduced costs until a free column is
 * reached, then shift the prices of the scanned columns and flip the path.
 * cols[0, low) are scanned, cols[low, up) wait at the current minimum. */
wf_status ot_dense_augment(ot_lap *s, int f) {
  int n = s->n, *cols = s->cols, *pred = s->pred, *y2x = s->y2x;
  double *d = s->dist, *v = s->v;
  const double *cf = ot_row_all(s, f);
  for (int j = 0; j < n; j++) {
    d[j] = cf[j] - v[j];
    pred[j] = f;
    cols[j] = j;
  }
  int low = 0, up = 0, last = 0, end = -1;
  double dmin = 0;
  for (;;) {
    if (up == low) {
      /* the next set of columns at the minimum distance */
      if (low >= n) return ot_fail(s, WF_ERR_NUMERIC, "internal: no free column reached");
      last = low;
      dmin = d[cols[up++]];
      for (int k = up; k < n; k++) {
        int j = cols[k];
        double h = d[j];
        if (h <= dmin) {
          if (h < dmin) {
            up = low;
            dmin = h;
          }
          cols[k] = cols[up];
          cols[up++] = j;
        }
      }
      s->work += (size_t)(n - low);
      for (int k = low; k < up; k++) {
        if (y2x[cols[k]] < 0) {
          end = cols[k];
          break;
        }
      }
      if (end >= 0) break;
    }
    /* scan a column at the minimum: relax through the row that holds it */
    int j1 = cols[low++], i = y2x[j1];
    const double *ci = ot_row_some(s, i, cols + up, n - up, j1);
    double h = ci[j1] - v[j1] - dmin;
    for (int k = up; k < n; k++) {
      int j = cols[k];
      double dj = ci[j] - v[j] - h;
      if (dj < d[j]) {
        d[j] = dj;
        pred[j] = i;
        if (dj == dmin) {
          if (y2x[j] < 0) {
            end = j;
            break;
          }
          cols[k] = cols[up];
          cols[up++] = j;
        }
      }
    }
    if (end >= 0) break;
    if (ot_interrupted(s)) return ot_fail(s, WF_ERR_INTERRUPT, "interrupted");
  }
  for (int k = 0; k < last; k++) { /* keep r = 0 along the tree */
    int j = cols[k];
    v[j] += d[j] - dmin;
  }
  for (;;) { /* flip the alternating path back to f */
    int i = pred[end];
    y2x[end] = i;
    int next = s->x2y[i];
    s->x2y[i] = end;
    end = next;
    if (i == f) break;
  }
  return WF_OK;
}
