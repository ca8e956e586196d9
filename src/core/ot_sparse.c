/* ot_sparse.c — the assignment on shortlists of candidate columns, priced
 * against all costs.
 *
 * A dense Dijkstra search (ot_dense.c) reads a whole row of costs for every
 * row it reaches, and on point clouds most of those costs are irrelevant.
 * Here each row keeps a short list of candidate columns: its columns of
 * least reduced cost c_ij - v_j under prices from a coarse problem, the
 * columns for which it is among the cheapest rows, and its own index (so a
 * perfect matching exists on the lists). The problem on the lists is solved
 * by Dijkstra searches with a heap; then one pass over the costs finds
 * columns with c_ij - u_i - v_j < 0. They join their row's list, the row is
 * freed, and the searches run again, until no reduced cost is negative:
 * (u, v) is then feasible for the full problem and the assignment optimal.
 * This is the shortlist idea of Gottschlich & Schuhmacher (SIAM J. Imaging
 * Sci. 7, 2014) applied to the assignment problem, with a multiscale start.
 *
 * Prices only fall during the searches, so a row whose u_i did not rise
 * since it was last priced cannot have gained a negative reduced cost:
 * pricing reads only the rows marked dirty.
 */
#include <stdlib.h>
#include <string.h>

#include "ot_lap.h"

#ifndef SP_K_ROW
#define SP_K_ROW 32 /* columns of least reduced cost listed for each row */
#endif
#ifndef SP_K_COL
#define SP_K_COL 8 /* rows of least reduced cost listed for each column */
#endif
#ifndef SP_K_ADD
#define SP_K_ADD 16 /* most negative columns a row gains per round */
#endif
#ifndef SP_ARR
#define SP_ARR 2 /* rounds of augmenting row reduction before the searches */
#endif
#ifndef SP_MAX_ROUNDS
#define SP_MAX_ROUNDS 100 /* then the dense solver finishes */
#endif

typedef struct {
  int n;
  /* the lists, CSR: row i's edges are [start[i], start[i + 1]) */
  int *start;    /* [n + 1] */
  int *col;      /* [n_edges] */
  double *cost;  /* [n_edges] c_ij, exact */
  size_t n_edges;
  /* a pricing round's additions: up to SP_K_ADD per row */
  int *add_col;     /* [n x SP_K_ADD] */
  double *add_cost; /* [n x SP_K_ADD] */
  int *n_add;       /* [n] */
  /* the searches */
  double *acost; /* [n] cost of each row's assigned edge */
  double *pcost; /* [n] cost of the edge pred[j] -> j */
  char *dirty;   /* [n] row whose u_i may have risen since it was priced */
  int *seen;     /* [n] == stamp: column reached in this search */
  int *done;     /* [n] == stamp: column settled in this search */
  int stamp;
  double *hkey;  /* [n] binary heap of (distance, column) */
  int *hcol;     /* [n] */
  int *hpos;     /* [n] each column's place in the heap, -1 if out */
  size_t hsize;
} sparse;

static void sparse_free(sparse *g) {
  free(g->start);
  free(g->col);
  free(g->cost);
  free(g->add_col);
  free(g->add_cost);
  free(g->n_add);
  free(g->acost);
  free(g->pcost);
  free(g->dirty);
  free(g->seen);
  free(g->done);
  free(g->hkey);
  free(g->hcol);
  free(g->hpos);
}

/* ---- the heap: columns keyed by distance, indexed for decrease-key ------------ */
static void heap_place(sparse *g, size_t at, double key, int j) {
  g->hkey[at] = key;
  g->hcol[at] = j;
  g->hpos[j] = (int)at;
}

/* column j enters with key, or its key falls to key */
static void heap_update(sparse *g, int j, double key) {
  size_t at = g->hpos[j] < 0 ? g->hsize++ : (size_t)g->hpos[j];
  while (at > 0) { /* sift up */
    size_t up = (at - 1) / 2;
    if (g->hkey[up] <= key) break;
    heap_place(g, at, g->hkey[up], g->hcol[up]);
    at = up;
  }
  heap_place(g, at, key, j);
}

static void heap_pop(sparse *g, double *key, int *j) {
  *key = g->hkey[0];
  *j = g->hcol[0];
  g->hpos[*j] = -1;
  size_t n = --g->hsize;
  if (n == 0) return;
  double k = g->hkey[n];
  int c = g->hcol[n];
  size_t at = 0;
  for (;;) { /* sift down */
    size_t child = 2 * at + 1;
    if (child >= n) break;
    if (child + 1 < n && g->hkey[child + 1] < g->hkey[child]) child++;
    if (g->hkey[child] >= k) break;
    heap_place(g, at, g->hkey[child], g->hcol[child]);
    at = child;
  }
  heap_place(g, at, k, c);
}

static void heap_clear(sparse *g) {
  for (size_t a = 0; a < g->hsize; a++) g->hpos[g->hcol[a]] = -1;
  g->hsize = 0;
}

/* ---- candidate lists ------------------------------------------------------------ */
/* insert (r, j) into the ascending top list of length k (r < rs[k - 1]) */
static void top_insert(double *rs, int *js, int k, double r, int j) {
  int at = k - 1;
  while (at > 0 && rs[at - 1] > r) {
    rs[at] = rs[at - 1];
    js[at] = js[at - 1];
    at--;
  }
  rs[at] = r;
  js[at] = j;
}

/* One pass over all costs: each row's kr columns of least c_ij - v_j, each
 * column's kc rows of least c_ij - u0_i, and max |c|. Builds the lists,
 * deduplicated, each row also holding its own index. */
static wf_status build_lists(ot_lap *s, sparse *g, const double *u0) {
  int n = s->n, kr = n < SP_K_ROW ? n : SP_K_ROW, kc = n < SP_K_COL ? n : SP_K_COL;
  size_t cap = (size_t)n * (kr + kc + 1);
  double *rr = malloc(sizeof(double) * n * kr); /* [n x kr] */
  double *cr = malloc(sizeof(double) * n * kc); /* [n x kc] */
  int *rj = malloc(sizeof(int) * n * kr), *ci = malloc(sizeof(int) * n * kc);
  int *fill = malloc(sizeof(int) * (n + 1));
  g->start = malloc(sizeof(int) * (n + 1));
  g->col = malloc(sizeof(int) * cap);
  g->cost = malloc(sizeof(double) * cap);
  wf_status rc = WF_OK;
  if (!rr || !cr || !rj || !ci || !fill || !g->start || !g->col || !g->cost) {
    rc = ot_fail(s, WF_ERR_NOMEM, "out of memory for the candidate lists");
    goto done;
  }
  for (size_t k = 0; k < (size_t)n * kc; k++) {
    cr[k] = INFINITY;
    ci[k] = 0;
  }
  double cmax = 0;
  const double *v = s->v;
  for (int i = 0; i < n; i++) {
    const double *c = ot_row_all(s, i);
    double *br = rr + (size_t)i * kr, ui = u0[i];
    int *bj = rj + (size_t)i * kr;
    for (int k = 0; k < kr; k++) {
      br[k] = INFINITY;
      bj[k] = 0;
    }
    for (int j = 0; j < n; j++) {
      double cij = c[j];
      if (fabs(cij) > cmax || !isfinite(cij)) cmax = fabs(cij);
      double r = cij - v[j];
      if (r < br[kr - 1]) top_insert(br, bj, kr, r, j);
      r = cij - ui;
      if (r < cr[(size_t)j * kc + kc - 1])
        top_insert(cr + (size_t)j * kc, ci + (size_t)j * kc, kc, r, i);
    }
    if (!isfinite(cmax)) {
      rc = ot_fail(s, WF_ERR_NUMERIC, "a cost is not finite (overflow?)");
      goto done;
    }
    if (ot_interrupted(s)) {
      rc = ot_fail(s, WF_ERR_INTERRUPT, "interrupted");
      goto done;
    }
  }
  s->cmax = cmax;
  s->tol = OT_REL_TOL * cmax;
  /* counting sort of the column lists into rows; row lists; identity */
  for (int i = 0; i <= n; i++) fill[i] = 0;
  for (size_t k = 0; k < (size_t)n * kc; k++) fill[ci[k] + 1]++;
  for (int i = 0; i < n; i++) fill[i + 1] += fill[i] + kr + 1;
  for (int i = 0; i <= n; i++) g->start[i] = fill[i];
  for (int j = 0; j < n; j++)
    for (int k = 0; k < kc; k++) {
      int i = ci[(size_t)j * kc + k];
      g->col[fill[i]] = j;
      g->cost[fill[i]++] = ot_cost(s, i, j); /* exact, not r + u0_i */
    }
  for (int i = 0; i < n; i++) {
    for (int k = 0; k < kr; k++) {
      int j = rj[(size_t)i * kr + k];
      g->col[fill[i]] = j;
      g->cost[fill[i]++] = ot_cost(s, i, j);
    }
    g->col[fill[i]] = i;
    g->cost[fill[i]++] = ot_cost(s, i, i);
  }
  s->work += (size_t)n * (kr + kc + 1) * 4;
  /* deduplicate in place, marking columns with the row's number */
  int *mark = fill;
  for (int j = 0; j < n; j++) mark[j] = -1;
  size_t out = 0;
  for (int i = 0; i < n; i++) {
    int a = g->start[i], b = g->start[i + 1];
    g->start[i] = (int)out;
    for (int e = a; e < b; e++) {
      int j = g->col[e];
      if (mark[j] == i) continue;
      mark[j] = i;
      g->col[out] = j;
      g->cost[out++] = g->cost[e];
    }
  }
  g->start[n] = (int)out;
  g->n_edges = out;
done:
  free(rr);
  free(cr);
  free(rj);
  free(ci);
  free(fill);
  return rc;
}

/* ---- searches ------------------------------------------------------------------ */
/* Dijkstra from free row f over the lists; *found = 0 if no free column
 * can be reached (cannot happen while every row lists its own index). */
static wf_status augment(ot_lap *s, sparse *g, int f, int *found) {
  int *pred = s->pred, *y2x = s->y2x, *x2y = s->x2y, *settled = s->cols;
  double *d = s->dist, *v = s->v;
  int nset = 0, end = -1;
  double dmin = 0;
  if (++g->stamp == 0x7fffffff) { /* stamps wrapped: clear them */
    memset(g->seen, 0, sizeof(int) * g->n);
    memset(g->done, 0, sizeof(int) * g->n);
    g->stamp = 1;
  }
  int stamp = g->stamp, i = f;
  double h = 0; /* distance to row i minus u_i */
  for (;;) {
    for (int e = g->start[i]; e < g->start[i + 1]; e++) {
      int j = g->col[e];
      if (g->done[j] == stamp) continue;
      double dj = h + g->cost[e] - v[j];
      if (g->seen[j] != stamp || dj < d[j]) {
        g->seen[j] = stamp;
        d[j] = dj;
        pred[j] = i;
        g->pcost[j] = g->cost[e];
        heap_update(g, j, dj);
      }
    }
    s->work += (size_t)(g->start[i + 1] - g->start[i]) * 4;
    /* settle the nearest column not settled yet */
    if (g->hsize == 0) {
      *found = 0;
      return WF_OK;
    }
    int j;
    double dj;
    heap_pop(g, &dj, &j);
    g->done[j] = stamp;
    settled[nset++] = j;
    if (y2x[j] < 0) {
      end = j;
      dmin = dj;
      break;
    }
    i = y2x[j];
    h = dj - (g->acost[i] - v[j]); /* r = 0 on the assigned edge */
  }
  heap_clear(g);
  for (int k = 0; k < nset - 1; k++) { /* keep r >= 0 on the lists */
    int j = settled[k];
    if (d[j] < dmin) {
      v[j] += d[j] - dmin;
      g->dirty[y2x[j]] = 1; /* its u rose: price it again */
    }
  }
  for (;;) { /* flip the alternating path back to f */
    int r = pred[end];
    g->dirty[r] = 1;
    y2x[end] = r;
    int next = x2y[r];
    x2y[r] = end;
    g->acost[r] = g->pcost[end];
    end = next;
    if (r == f) break;
  }
  *found = 1;
  return WF_OK;
}

static wf_status augment_free(ot_lap *s, sparse *g, int n_free, int *found) {
  *found = 1;
  for (int k = 0; k < n_free && *found; k++) {
    wf_status rc = augment(s, g, s->free_rows[k], found);
    if (rc != WF_OK) return rc;
    if (ot_interrupted(s)) return ot_fail(s, WF_ERR_INTERRUPT, "interrupted");
  }
  return WF_OK;
}

/* Each row takes its listed column of least reduced cost if still free:
 * tight by construction, so with prices from a coarse problem many rows
 * need no search. Leaves the others in free_rows; returns their count. */
static int greedy_start(ot_lap *s, sparse *g) {
  int n = s->n, nf = 0;
  for (int i = 0; i < n; i++) {
    int best = g->start[i];
    double rmin = INFINITY;
    for (int e = g->start[i]; e < g->start[i + 1]; e++) {
      double r = g->cost[e] - s->v[g->col[e]];
      if (r < rmin) {
        rmin = r;
        best = e;
      }
    }
    int j = g->col[best];
    if (s->y2x[j] < 0) {
      s->y2x[j] = i;
      s->x2y[i] = j;
      g->acost[i] = g->cost[best];
    } else {
      s->free_rows[nf++] = i;
    }
  }
  s->work += g->n_edges;
  return nf;
}

/* Augmenting row reduction (as in ot_dense.c) on the lists: a free row
 * takes its listed column of least reduced cost, lowering that column's
 * price to tie its runner-up, and the row it displaces goes next. Cheap
 * (one list per step); a step budget guards against float cycling. */
static wf_status reduce_rows(ot_lap *s, sparse *g, int *n_free) {
  int n = s->n, *fr = s->free_rows, prev = *n_free, m = 0, k = 0;
  long steps = 0, budget = 4L * n + 64;
  double *v = s->v;
  while (k < prev) {
    if (++steps > budget) break;
    int i = fr[k++];
    double r1 = INFINITY, r2 = INFINITY;
    int e1 = -1, e2 = -1;
    for (int e = g->start[i]; e < g->start[i + 1]; e++) {
      double h = g->cost[e] - v[g->col[e]];
      if (h < r2) {
        if (h >= r1) {
          r2 = h;
          e2 = e;
        } else {
          r2 = r1;
          e2 = e1;
          r1 = h;
          e1 = e;
        }
      }
    }
    s->work += (size_t)(g->start[i + 1] - g->start[i]);
    if (e2 < 0) { /* a single listed column: leave the row to a search */
      fr[m++] = i;
      continue;
    }
    int j1 = g->col[e1], i0 = s->y2x[j1];
    double lowered = v[j1] - (r2 - r1);
    int strict = lowered < v[j1]; /* a price change that rounding keeps */
    if (strict) {
      v[j1] = lowered;
    } else if (i0 >= 0) {
      e1 = e2;
      j1 = g->col[e2];
      i0 = s->y2x[j1];
    }
    if (i0 >= 0) s->x2y[i0] = -1;
    s->x2y[i] = j1;
    s->y2x[j1] = i;
    g->acost[i] = g->cost[e1];
    g->dirty[i] = 1;
    if (i0 >= 0) {
      if (strict) fr[--k] = i0;
      else fr[m++] = i0;
    }
  }
  m = 0; /* the free rows, also those a spent budget left */
  for (int i = 0; i < n; i++)
    if (s->x2y[i] < 0) fr[m++] = i;
  *n_free = m;
  return ot_interrupted(s) ? ot_fail(s, WF_ERR_INTERRUPT, "interrupted") : WF_OK;
}

/* ---- pricing ------------------------------------------------------------------------- */
/* Each dirty row's columns with r_ij < -tol against all costs (at most
 * SP_K_ADD, the most negative); those rows are freed. A clean row needs no
 * look: prices only fell, so its reduced costs only grew. */
static wf_status price(ot_lap *s, sparse *g, int *n_freed) {
  int n = s->n, nf = 0;
  double br[SP_K_ADD];
  for (int i = 0; i < n; i++) {
    g->n_add[i] = 0;
    if (!g->dirty[i]) continue;
    g->dirty[i] = 0;
    int j0 = s->x2y[i], m = 0;
    double thr = g->acost[i] - s->v[j0] - s->tol; /* u_i - tol */
    const double *c = ot_row_all(s, i);
    int *bj = g->add_col + (size_t)i * SP_K_ADD;
    for (int j = 0; j < n; j++) {
      double r = c[j] - s->v[j];
      if (r < thr) {
        if (m < SP_K_ADD) m++;
        else if (r >= br[SP_K_ADD - 1]) continue;
        top_insert(br, bj, m, r, j);
      }
    }
    for (int k = 0; k < m; k++) g->add_cost[(size_t)i * SP_K_ADD + k] = c[bj[k]];
    g->n_add[i] = m;
    if (m > 0) {
      s->y2x[j0] = -1;
      s->x2y[i] = -1;
      s->free_rows[nf++] = i;
    }
    if (ot_interrupted(s)) return ot_fail(s, WF_ERR_INTERRUPT, "interrupted");
  }
  *n_freed = nf;
  return WF_OK;
}

/* the lists plus the round's additions, into new arrays */
static wf_status merge_additions(ot_lap *s, sparse *g) {
  int n = s->n;
  size_t total = g->n_edges;
  for (int i = 0; i < n; i++) total += (size_t)g->n_add[i];
  if (total > 0x7fffffff) return ot_fail(s, WF_ERR_NOMEM, "too many candidate edges");
  int *col = malloc(sizeof(int) * total);
  double *cost = malloc(sizeof(double) * total);
  if (col == NULL || cost == NULL) {
    free(col);
    free(cost);
    return ot_fail(s, WF_ERR_NOMEM, "out of memory for the candidate lists");
  }
  size_t out = 0;
  for (int i = 0; i < n; i++) {
    int a = g->start[i], b = g->start[i + 1];
    g->start[i] = (int)out;
    for (int e = a; e < b; e++) {
      col[out] = g->col[e];
      cost[out++] = g->cost[e];
    }
    for (int k = 0; k < g->n_add[i]; k++) {
      col[out] = g->add_col[(size_t)i * SP_K_ADD + k];
      cost[out++] = g->add_cost[(size_t)i * SP_K_ADD + k];
    }
  }
  g->start[n] = (int)out;
  free(g->col);
  free(g->cost);
  g->col = col;
  g->cost = cost;
  g->n_edges = out;
  return WF_OK;
}

wf_status ot_sparse_solve(ot_lap *s, const double *u0, int *converged) {
  int n = s->n;
  sparse g;
  memset(&g, 0, sizeof(g));
  g.n = n;
  *converged = 0;
  wf_status rc = build_lists(s, &g, u0);
  if (rc != WF_OK) goto done;
  g.add_col = malloc(sizeof(int) * n * SP_K_ADD);
  g.add_cost = malloc(sizeof(double) * n * SP_K_ADD);
  g.n_add = malloc(sizeof(int) * n);
  g.acost = malloc(sizeof(double) * n);
  g.pcost = malloc(sizeof(double) * n);
  g.dirty = malloc((size_t)n);
  g.seen = calloc((size_t)n, sizeof(int));
  g.done = calloc((size_t)n, sizeof(int));
  g.hkey = malloc(sizeof(double) * n);
  g.hcol = malloc(sizeof(int) * n);
  g.hpos = malloc(sizeof(int) * n);
  if (!g.add_col || !g.add_cost || !g.n_add || !g.acost || !g.pcost || !g.dirty ||
      !g.seen || !g.done || !g.hkey || !g.hcol || !g.hpos) {
    rc = ot_fail(s, WF_ERR_NOMEM, "out of memory for the candidate lists");
    goto done;
  }
  for (int k = 0; k < n; k++) {
    g.dirty[k] = 1;
    g.hpos[k] = -1;
    s->x2y[k] = s->y2x[k] = -1;
  }
  int found = 1, n_free = greedy_start(s, &g);
  for (int round = 0; round < SP_MAX_ROUNDS; round++) {
    for (int pass = 0; pass < SP_ARR && rc == WF_OK && n_free > 0; pass++)
      rc = reduce_rows(s, &g, &n_free);
    if (rc != WF_OK) goto done;
    rc = augment_free(s, &g, n_free, &found);
    if (rc != WF_OK || !found) goto done;
    rc = price(s, &g, &n_free);
    if (rc != WF_OK) goto done;
    if (n_free == 0) {
      *converged = 1;
      break;
    }
    rc = merge_additions(s, &g);
    if (rc != WF_OK) goto done;
  }
done:
  sparse_free(&g);
  return rc;
}
