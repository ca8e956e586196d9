/* ot.c — exact W_p between two point clouds of equal size.
 *
 * With uniform weights and n points on each side an optimal plan is a
 * permutation (Birkhoff), so W_p^p is the value of the linear assignment
 * problem with costs c_ij = |x_i - y_j|^p, divided by n. Large problems are
 * solved on shortlists of candidate columns priced against all costs
 * (ot_sparse.c), which on point clouds is many times faster than a dense
 * shortest-path solver; small ones, and any the shortlists leave unfinished,
 * by the dense Jonker-Volgenant solver (ot_dense.c). Either way the answer
 * is checked here against the full cost matrix: u_i = min_j (c_ij - v_j)
 * and every row's column must attain it, so a result is never silently
 * wrong. The costs come from ot_cost.c: kept in a matrix when it fits
 * (store_cap), else computed row by row as the solvers ask.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifndef _WIN32
#include <unistd.h>
#endif

#include "ot_lap.h"

/* keep the cost matrix up to this size, compute rows on the fly beyond;
 * OT_STORE_AUTO: store_cap() decides */
#define OT_STORE_AUTO ((size_t)-1)
static size_t store_bytes = OT_STORE_AUTO;
#define OT_STORE_NARROW ((size_t)256 << 20)
#define OT_STORE_WIDE_MAX ((size_t)4 << 30)
/* below this n the dense solver is as fast and simpler */
#define OT_SPARSE_MIN_N 128
/* the coarse problem of the warm start takes every OT_COARSEN-th point */
#ifndef OT_COARSEN
#define OT_COARSEN 2
#endif
/* slack allowed on the assignment in the final check, relative to max |c| */
#define OT_CHECK_TOL 1e-9

/* Frees the rows whose column is not (within tol) their cheapest reduced
 * cost, then runs a dense search from every free row. */
static wf_status dense_finish(ot_lap *s) {
  int n = s->n, n_free = 0;
  for (int i = 0; i < n; i++) {
    int j1 = s->x2y[i];
    if (j1 < 0) {
      s->free_rows[n_free++] = i;
      continue;
    }
    const double *ci = ot_row_all(s, i);
    double rmin = INFINITY;
    for (int j = 0; j < n; j++)
      if (ci[j] - s->v[j] < rmin) rmin = ci[j] - s->v[j];
    if (ci[j1] - s->v[j1] > rmin + s->tol) {
      s->y2x[j1] = -1;
      s->x2y[i] = -1;
      s->free_rows[n_free++] = i;
    }
  }
  for (int k = 0; k < n_free; k++) {
    wf_status rc = ot_dense_augment(s, s->free_rows[k]);
    if (rc != WF_OK) return rc;
    if (ot_interrupted(s)) return ot_fail(s, WF_ERR_INTERRUPT, "interrupted");
  }
  return WF_OK;
}

/* The matrix of n points in d dimensions is kept up to 256 MiB (n = 5792),
 * or, for wide points, whose costs are d times dearer to recompute than to
 * read, up to a quarter of the machine's memory and at most 4 GiB
 * (n = 23170): at d = 784 computing rows on the fly is ~20 times slower. */
static size_t store_cap(int d) {
  if (store_bytes != OT_STORE_AUTO) return store_bytes;
  if (d < OT_WIDE_D) return OT_STORE_NARROW;
  size_t cap = OT_STORE_WIDE_MAX;
#if !defined(_WIN32) && defined(_SC_PHYS_PAGES) && defined(_SC_PAGESIZE)
  long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGESIZE);
  if (pages > 0 && page > 0 && (size_t)pages / 4 < cap / (size_t)page)
    cap = (size_t)pages / 4 * (size_t)page;
#endif
  return cap > OT_STORE_NARROW ? cap : OT_STORE_NARROW;
}

static wf_status lap_alloc(ot_lap *s);
static void lap_free(ot_lap *s);
static wf_status solve(ot_lap *s);

/* Near-optimal potentials from a coarse problem: every OT_COARSEN-th row
 * and column, solved the same way (recursively); then the c-transforms
 * u0_i = min_b (c_{i, b'} - v_b) over the coarse columns b' and
 * v_j = min_i (c_ij - u0_i) extend them to every row and column. */
static wf_status coarse_start(ot_lap *s, double *u0) {
  int n = s->n, m = n / OT_COARSEN, d = s->d;
  ot_lap sub;
  memset(&sub, 0, sizeof(sub));
  sub.n = m;
  sub.msg = s->msg;
  double *cs = NULL, *pts = NULL;
  if (s->c == NULL) { /* the coarse points, for the cost kernels */
    pts = malloc(sizeof(double) * 2 * m * d); /* [m x d] x, then [m x d] y */
    if (pts == NULL) return ot_fail(s, WF_ERR_NOMEM, "out of memory for the coarse problem");
    for (int a = 0; a < m; a++)
      for (int k = 0; k < d; k++) {
        pts[(size_t)a * d + k] = s->x[(size_t)a * OT_COARSEN * d + k];
        pts[(size_t)(m + a) * d + k] = s->y[(size_t)a * OT_COARSEN * d + k];
      }
    sub.x = pts;
    sub.y = pts + (size_t)m * d;
    sub.d = d;
    sub.pk = s->pk;
    sub.half_p = s->half_p;
  }
  /* the coarse costs: taken from the stored ones, else computed and kept
   * when they fit, else computed on the fly too */
  if (s->c != NULL || (size_t)m * m <= store_cap(d) / sizeof(double)) {
    cs = malloc(sizeof(double) * m * m); /* [m x m] */
    if (cs == NULL) {
      free(pts);
      return ot_fail(s, WF_ERR_NOMEM, "out of memory for the coarse problem");
    }
    if (s->c != NULL) {
      for (int a = 0; a < m; a++)
        for (int b = 0; b < m; b++)
          cs[(size_t)a * m + b] = s->c[(size_t)a * OT_COARSEN * n + b * OT_COARSEN];
    } else {
      ot_costs_fill(&sub, cs);
    }
    s->work += (size_t)m * m;
  }
  sub.c = cs;
  wf_status rc = lap_alloc(&sub);
  if (rc == WF_OK) rc = solve(&sub);
  if (rc == WF_OK) {
    /* the coarse columns of each row: the stored row, or those computed */
    int *coarse_cols = s->c == NULL ? s->cols : NULL;
    if (coarse_cols != NULL)
      for (int b = 0; b < m; b++) coarse_cols[b] = b * OT_COARSEN;
    for (int i = 0; i < n; i++) {
      const double *ci = s->c != NULL ? s->c + (size_t)i * n : s->row;
      if (coarse_cols != NULL) ot_costs_row(s, i, coarse_cols, m, s->row);
      double ui = INFINITY;
      for (int b = 0; b < m; b++) {
        double r = ci[b * OT_COARSEN] - sub.v[b];
        if (r < ui) ui = r;
      }
      u0[i] = ui;
    }
    s->work += (size_t)n * m;
    for (int j = 0; j < n; j++) s->v[j] = INFINITY;
    for (int i = 0; i < n && rc == WF_OK; i++) {
      const double *ci = ot_row_all(s, i);
      for (int j = 0; j < n; j++)
        if (ci[j] - u0[i] < s->v[j]) s->v[j] = ci[j] - u0[i];
      if (ot_interrupted(s)) rc = ot_fail(s, WF_ERR_INTERRUPT, "interrupted");
    }
  }
  lap_free(&sub);
  free(cs);
  free(pts);
  return rc;
}

static wf_status solve(ot_lap *s) {
  int n = s->n;
  if (n == 1) { /* one row, one column: nothing to search */
    s->v[0] = 0;
    s->x2y[0] = s->y2x[0] = 0;
    return WF_OK;
  }
  if (n >= OT_SPARSE_MIN_N) {
    double *u0 = malloc(sizeof(double) * n);
    if (u0 == NULL) return ot_fail(s, WF_ERR_NOMEM, "out of memory for the assignment solver");
    int converged = 0;
    wf_status rc = coarse_start(s, u0);
    if (rc == WF_OK) rc = ot_sparse_solve(s, u0, &converged);
    free(u0);
    if (rc != WF_OK || converged) return rc;
    return dense_finish(s);
  }
  int n_free = 0;
  wf_status rc = ot_dense_init(s, &n_free);
  if (rc != WF_OK) return rc;
  return dense_finish(s);
}

/* u_i = min_j (c_ij - v_j), the tightest feasible u; checks that each row's
 * assigned column attains it (complementary slackness), centres v, and
 * writes the matched total. */
static wf_status certify(ot_lap *s, double *total, int *perm, double *u_out,
                         double *v_out) {
  int n = s->n;
  double *u = s->dist; /* free after the solve */
  double cmax = 0, slack_max = 0, sum = 0;
  for (int i = 0; i < n; i++) {
    int j1 = s->x2y[i];
    if (j1 < 0 || s->y2x[j1] != i)
      return ot_fail(s, WF_ERR_NUMERIC, "internal: the assignment is incomplete");
    const double *ci = ot_row_all(s, i);
    double ui = INFINITY;
    for (int j = 0; j < n; j++) {
      double r = ci[j] - s->v[j];
      if (r < ui) ui = r;
      if (fabs(ci[j]) > cmax) cmax = fabs(ci[j]);
    }
    u[i] = ui;
    double slack = (ci[j1] - s->v[j1]) - ui;
    if (slack > slack_max) slack_max = slack;
    sum += ci[j1];
    if (ot_interrupted(s)) return ot_fail(s, WF_ERR_INTERRUPT, "interrupted");
  }
  if (!isfinite(cmax)) return ot_fail(s, WF_ERR_NUMERIC, "a cost is not finite (overflow?)");
  if (!(slack_max <= OT_CHECK_TOL * cmax)) {
    snprintf(s->msg, WF_MSG_LEN,
             "the assignment failed its optimality check (slack %.3g, max cost %.3g)",
             slack_max, cmax);
    return WF_ERR_NUMERIC;
  }
  /* (u + t, v - t) is as good a certificate for any t: make mean(v) = 0 */
  double t = 0;
  for (int j = 0; j < n; j++) t += s->v[j];
  t /= n;
  for (int i = 0; i < n; i++) {
    if (perm != NULL) perm[i] = s->x2y[i];
    if (u_out != NULL) u_out[i] = u[i] + t;
    if (v_out != NULL) v_out[i] = s->v[i] - t;
  }
  *total = sum;
  return WF_OK;
}

/* the solver's arrays, one block: 3 double and 5 int arrays of n */
static wf_status lap_alloc(ot_lap *s) {
  int n = s->n;
  s->block = malloc((size_t)n * (5 * sizeof(int) + 3 * sizeof(double)));
  if (s->block == NULL) return ot_fail(s, WF_ERR_NOMEM, "out of memory for the assignment solver");
  s->v = (double *)s->block;
  s->dist = s->v + n;
  s->row = s->c == NULL ? s->dist + n : NULL;
  int *ib = (int *)(s->v + 3 * (size_t)n);
  s->x2y = ib;
  s->y2x = ib + n;
  s->cols = ib + 2 * (size_t)n;
  s->pred = ib + 3 * (size_t)n;
  s->free_rows = ib + 4 * (size_t)n;
  s->work = 0;
  s->next_check = OT_CHECK_EVERY;
  return WF_OK;
}

static void lap_free(ot_lap *s) {
  free(s->block);
  s->block = NULL;
}

static wf_status run(ot_lap *s, double *total, int *perm, double *u, double *v) {
  wf_status rc = lap_alloc(s);
  if (rc == WF_OK) rc = solve(s);
  if (rc == WF_OK) rc = certify(s, total, perm, u, v);
  lap_free(s);
  return rc;
}

/* ---- public entry points -------------------------------------------------- */
size_t wf_ot_set_store_bytes(size_t bytes) {
  size_t old = store_bytes;
  store_bytes = bytes;
  return old;
}

wf_status wf_ot_lap(const double *c, int n, double *total, int *perm, double *u,
                    double *v, char *msg) {
  ot_lap s;
  memset(&s, 0, sizeof(s));
  s.msg = msg;
  if (c == NULL || total == NULL || n < 1)
    return ot_fail(&s, WF_ERR_ARG, "wf_ot_lap needs a cost matrix, n >= 1 and `total`");
  s.n = n;
  s.c = c;
  return run(&s, total, perm, u, v);
}

wf_status wf_ot_assign(const double *x, const double *y, int n, int d, double p,
                       double *cost, int *perm, double *u, double *v, char *msg) {
  ot_lap s;
  memset(&s, 0, sizeof(s));
  s.msg = msg;
  if (x == NULL || y == NULL || cost == NULL || n < 1 || d < 1)
    return ot_fail(&s, WF_ERR_ARG, "wf_ot_assign needs points, n >= 1, d >= 1 and `cost`");
  if (!(p >= 1) || !isfinite(p)) return ot_fail(&s, WF_ERR_ARG, "p must be a finite number >= 1");
  for (size_t k = 0; k < (size_t)n * d; k++)
    if (!isfinite(x[k]) || !isfinite(y[k]))
      return ot_fail(&s, WF_ERR_ARG, "the points must be finite");
  s.n = n;
  s.d = d;
  s.x = x;
  s.y = y;
  s.pk = p == 1 ? OT_POW_1 : p == 2 ? OT_POW_2 : OT_POW_P;
  s.half_p = 0.5 * p;

  /* store the costs when they fit: rows are read many times */
  double *cm = NULL;
  if ((size_t)n * n <= store_cap(d) / sizeof(double))
    cm = (double *)malloc((size_t)n * n * sizeof(double));
  if (cm != NULL) {
    ot_costs_fill(&s, cm);
    s.c = cm;
  }
  double total = 0;
  wf_status rc = run(&s, &total, perm, u, v);
  free(cm);
  if (rc == WF_OK) *cost = total / n;
  return rc;
}
