/* test_ot.c — standalone tests of the exact OT solver (src/core/ot.c).
 *
 * No R. Small problems are checked against brute force over all n!
 * permutations (random clouds, duplicated points, integer costs full of
 * ties); larger ones by the LP certificate: dual feasibility for every
 * (i, j), complementary slackness on the assignment and primal == dual.
 * Ends with "ot: N passed, M failed".
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ot.h"
#include "ot_lap.h"
#include "test_util.h"


/* kind 0: normal; 1: few distinct points (ties); 2: integer grid */
static void fill_points(double *x, int n, int d, int kind) {
  for (int i = 0; i < n; i++) {
    int copy = kind == 1 && i > 0 && runif() < 0.6;
    int src = copy ? (int)(runif() * i) : i;
    for (int k = 0; k < d; k++) {
      double val = kind == 2 ? floor(runif() * 3) : rnorm();
      x[(size_t)i * d + k] = copy ? x[(size_t)src * d + k] : val;
    }
  }
}

static double cost_of(const double *x, const double *y, int i, int j, int d,
                      double p) {
  double sq = 0;
  for (int k = 0; k < d; k++) {
    double t = x[(size_t)i * d + k] - y[(size_t)j * d + k];
    sq += t * t;
  }
  return p == 2 ? sq : pow(sqrt(sq), p);
}

/* min over permutations of sum_i c[i, sigma(i)] (Heap's algorithm) */
static double brute_force(const double *c, int n) {
  int perm[8], cnt[8] = {0};
  for (int i = 0; i < n; i++) perm[i] = i;
  double best = 0;
  for (int i = 0; i < n; i++) best += c[i * n + perm[i]];
  int i = 1;
  while (i < n) {
    if (cnt[i] < i) {
      int a = i % 2 == 0 ? 0 : cnt[i], t = perm[a];
      perm[a] = perm[i];
      perm[i] = t;
      double s = 0;
      for (int r = 0; r < n; r++) s += c[r * n + perm[r]];
      if (s < best) best = s;
      cnt[i]++;
      i = 1;
    } else {
      cnt[i] = 0;
      i++;
    }
  }
  return best;
}

static int is_permutation(const int *perm, int n) {
  char seen[10000] = {0};
  if (n > 10000) return 0;
  for (int i = 0; i < n; i++) {
    if (perm[i] < 0 || perm[i] >= n || seen[perm[i]]) return 0;
    seen[perm[i]] = 1;
  }
  return 1;
}

/* ---- brute force, point clouds -------------------------------------------- */
static void test_brute_clouds(void) {
  int dims[] = {1, 2, 5};
  double ps[] = {1, 2, 1.5};
  double x[7 * 5], y[7 * 5], c[49], u[7], v[7];
  int perm[7];
  char msg[WF_MSG_LEN];
  for (int n = 1; n <= 7; n++)
    for (int di = 0; di < 3; di++)
      for (int pi = 0; pi < 3; pi++)
        for (int kind = 0; kind < 3; kind++)
          for (int rep = 0; rep < 3; rep++) {
            int d = dims[di];
            double p = ps[pi];
            fill_points(x, n, d, kind);
            if (kind == 1 && rep == 2) memcpy(y, x, sizeof(double) * n * d);
            else fill_points(y, n, d, kind);
            for (int i = 0; i < n; i++)
              for (int j = 0; j < n; j++) c[i * n + j] = cost_of(x, y, i, j, d, p);
            double want = brute_force(c, n) / n, got = -1;
            wf_status rc = wf_ot_assign(x, y, n, d, p, &got, perm, u, v, msg);
            CHECK(rc == WF_OK, "n=%d d=%d p=%g: status %d (%s)", n, d, p, rc, msg);
            if (rc != WF_OK) continue;
            CHECK(fabs(got - want) <= 1e-12 * (1 + want),
                  "n=%d d=%d p=%g kind=%d: cost %.17g, brute force %.17g", n, d, p,
                  kind, got, want);
            CHECK(is_permutation(perm, n), "n=%d: perm is not a permutation", n);
            double s = 0;
            for (int i = 0; i < n; i++) s += c[i * n + perm[i]];
            CHECK(fabs(s / n - got) <= 1e-12 * (1 + want),
                  "n=%d: perm's cost %.17g != reported %.17g", n, s / n, got);
          }
}

/* ---- brute force, integer cost matrices (ties, negative entries) --------- */
static void test_brute_matrices(void) {
  double c[49], u[7], v[7], total;
  int perm[7];
  char msg[WF_MSG_LEN];
  for (int n = 1; n <= 7; n++)
    for (int rep = 0; rep < 20; rep++) {
      int range = rep < 10 ? 3 : 100;
      for (int k = 0; k < n * n; k++) c[k] = floor(runif() * range) - (rep % 2) * 50;
      double want = brute_force(c, n);
      wf_status rc = wf_ot_lap(c, n, &total, perm, u, v, msg);
      CHECK(rc == WF_OK && total == want && is_permutation(perm, n),
            "lap n=%d rep=%d: status %d, total %g, brute force %g", n, rep, rc, total,
            want);
      /* integer data: the certificate is exact to rounding */
      double dual = 0;
      int feasible = 1;
      for (int i = 0; i < n; i++) {
        dual += u[i] + v[i];
        for (int j = 0; j < n; j++)
          if (c[i * n + j] - u[i] - v[j] < -1e-9) feasible = 0;
      }
      CHECK(feasible && fabs(dual - want) <= 1e-9, "lap n=%d: dual %g vs %g", n, dual,
            want);
    }
}

/* ---- the LP certificate on larger clouds --------------------------------- */
static void certificate(int n, int d, double p, int kind, const char *what) {
  double *x = malloc(sizeof(double) * n * d), *y = malloc(sizeof(double) * n * d);
  double *u = malloc(sizeof(double) * n), *v = malloc(sizeof(double) * n);
  int *perm = malloc(sizeof(int) * n);
  char msg[WF_MSG_LEN];
  fill_points(x, n, d, kind);
  fill_points(y, n, d, kind);
  if (kind == 0) /* a shifted mixture against a normal: a real transport */
    for (int i = 0; i < n * d; i++) y[i] = 0.5 * y[i] + (i % 3 == 0 ? 2 : -1);
  double cost = -1;
  wf_status rc = wf_ot_assign(x, y, n, d, p, &cost, perm, u, v, msg);
  CHECK(rc == WF_OK, "%s n=%d p=%g: status %d (%s)", what, n, p, rc, msg);
  if (rc == WF_OK) {
    double cmax = 0, worst_feas = 0, worst_cs = 0, primal = 0, dual = 0;
    for (int i = 0; i < n; i++)
      for (int j = 0; j < n; j++) {
        double cij = cost_of(x, y, i, j, d, p);
        if (cij > cmax) cmax = cij;
        double r = cij - u[i] - v[j];
        if (-r > worst_feas) worst_feas = -r;
        if (j == perm[i]) {
          if (fabs(r) > worst_cs) worst_cs = fabs(r);
          primal += cij;
        }
      }
    for (int i = 0; i < n; i++) dual += u[i] + v[i];
    CHECK(is_permutation(perm, n), "%s n=%d: not a permutation", what, n);
    CHECK(worst_feas <= 1e-9 * cmax, "%s n=%d p=%g: dual infeasible by %g (max c %g)",
          what, n, p, worst_feas, cmax);
    CHECK(worst_cs <= 1e-9 * cmax, "%s n=%d p=%g: slackness violated by %g", what,
          n, p, worst_cs);
    CHECK(fabs(primal - dual) <= 1e-9 * fabs(primal) + 1e-12,
          "%s n=%d p=%g: primal %.17g != dual %.17g", what, n, p, primal, dual);
    CHECK(fabs(primal / n - cost) <= 1e-12 * fabs(cost) + 1e-15,
          "%s n=%d: reported cost %.17g, matched %.17g", what, n, cost, primal / n);
  }
  free(x);
  free(y);
  free(u);
  free(v);
  free(perm);
}

/* integer cost matrices full of ties (and negative entries) */
static void certificate_matrix(int n, int range, int shift) {
  double *c = malloc(sizeof(double) * n * n), *u = malloc(sizeof(double) * n);
  double *v = malloc(sizeof(double) * n), total;
  int *perm = malloc(sizeof(int) * n);
  char msg[WF_MSG_LEN];
  for (int k = 0; k < n * n; k++) c[k] = floor(runif() * range) - shift;
  wf_status rc = wf_ot_lap(c, n, &total, perm, u, v, msg);
  CHECK(rc == WF_OK, "lap n=%d range=%d: status %d (%s)", n, range, rc, msg);
  if (rc == WF_OK) {
    double worst = 0, primal = 0, dual = 0;
    for (int i = 0; i < n; i++) {
      primal += c[i * n + perm[i]];
      dual += u[i] + v[i];
      for (int j = 0; j < n; j++)
        if (-(c[i * n + j] - u[i] - v[j]) > worst) worst = -(c[i * n + j] - u[i] - v[j]);
    }
    CHECK(is_permutation(perm, n) && primal == total, "lap n=%d: bad assignment", n);
    CHECK(worst <= 1e-9 * range && fabs(primal - dual) <= 1e-9 * n * range,
          "lap n=%d range=%d: infeasible by %g, gap %g", n, range, worst, primal - dual);
  }
  free(c);
  free(u);
  free(v);
  free(perm);
}

static void test_certificates(void) {
  certificate_matrix(300, 4, 0);
  certificate_matrix(300, 1000, 500);
  certificate_matrix(1000, 3, 1);
  int sizes[] = {50, 300, 1000};
  for (int s = 0; s < 3; s++) {
    certificate(sizes[s], 2, 1, 0, "normal");
    certificate(sizes[s], 2, 2, 0, "normal");
  }
  certificate(300, 5, 1, 0, "normal d=5");
  certificate(300, 3, 1.5, 0, "normal p=1.5");
  certificate(300, 2, 1, 1, "duplicates");
  certificate(300, 2, 2, 2, "grid");
  /* costs computed on the fly instead of stored */
  size_t old = wf_ot_set_store_bytes(0);
  certificate(300, 2, 1, 0, "on the fly");
  certificate(300, 2, 2, 1, "on the fly, duplicates");
  certificate(200, 4, 3, 0, "on the fly, p=3");
  wf_ot_set_store_bytes(old);
}

/* ---- the cost kernels of wide points (ot_cost.c) ------------------------- */
/* Every way of computing a cost gives the same bits (the whole matrix, a
 * row against all or some columns, one pair), within 1e-14 of a long
 * double sum, for d on both sides of the SIMD width and its tails; and a
 * problem solved on stored costs and on the fly gives the same answer. */
static void test_wide_costs(void) {
  int dims[] = {8, 9, 10, 11, 12, 64, 783, 784};
  double pows[] = {1, 2, 1.5};
  int n = 37; /* odd, not a multiple of any block */
  for (int t = 0; t < 8; t++) {
    int d = dims[t];
    double *x = malloc(sizeof(double) * n * d), *y = malloc(sizeof(double) * n * d);
    double *c = malloc(sizeof(double) * n * n), *row = malloc(sizeof(double) * n);
    int cols[5] = {36, 0, 17, 3, 35};
    fill_points(x, n, d, 0);
    fill_points(y, n, d, 0);
    for (int q = 0; q < 3; q++) {
      ot_lap s;
      memset(&s, 0, sizeof(s));
      s.n = n;
      s.d = d;
      s.x = x;
      s.y = y;
      s.pk = pows[q] == 1 ? OT_POW_1 : pows[q] == 2 ? OT_POW_2 : OT_POW_P;
      s.half_p = 0.5 * pows[q];
      ot_costs_fill(&s, c);
      int same = 1, near = 1;
      for (int i = 0; i < n; i++) {
        ot_costs_row(&s, i, NULL, n, row);
        for (int j = 0; j < n; j++) {
          long double sq = 0;
          for (int k = 0; k < d; k++) {
            long double e = (long double)x[i * d + k] - y[j * d + k];
            sq += e * e;
          }
          double want = (double)powl(sq, 0.5L * pows[q]);
          double cij = c[(size_t)i * n + j];
          if (row[j] != cij || ot_cost(&s, i, j) != cij) same = 0;
          if (fabs(cij - want) > 1e-14 * want) near = 0;
        }
        for (int j = 0; j < n; j++) row[j] = NAN;
        ot_costs_row(&s, i, cols, 5, row);
        for (int k = 0; k < 5; k++)
          if (row[cols[k]] != c[(size_t)i * n + cols[k]]) same = 0;
        if (!isnan(row[1])) same = 0; /* a column not listed is not written */
      }
      CHECK(same, "wide costs d=%d p=%g: the kernels disagree", d, pows[q]);
      CHECK(near, "wide costs d=%d p=%g: off the long double sum", d, pows[q]);
    }
    free(x);
    free(y);
    free(c);
    free(row);
  }
  /* one problem, costs stored and on the fly: the same answer */
  n = 300;
  int d = 50;
  double *x = malloc(sizeof(double) * n * d), *y = malloc(sizeof(double) * n * d);
  double *u1 = malloc(sizeof(double) * n), *u2 = malloc(sizeof(double) * n);
  int *p1 = malloc(sizeof(int) * n), *p2 = malloc(sizeof(int) * n);
  char msg[WF_MSG_LEN];
  fill_points(x, n, d, 0);
  fill_points(y, n, d, 0);
  for (int i = 0; i < n * d; i++) y[i] += 0.3;
  double c1 = -1, c2 = -2;
  wf_status r1 = wf_ot_assign(x, y, n, d, 1, &c1, p1, u1, NULL, msg);
  size_t old = wf_ot_set_store_bytes(0);
  wf_status r2 = wf_ot_assign(x, y, n, d, 1, &c2, p2, u2, NULL, msg);
  wf_ot_set_store_bytes(old);
  CHECK(r1 == WF_OK && r2 == WF_OK && c1 == c2 && memcmp(p1, p2, sizeof(int) * n) == 0,
        "wide d=%d: stored %.17g, on the fly %.17g", d, c1, c2);
  free(x);
  free(y);
  free(u1);
  free(u2);
  free(p1);
  free(p2);
  certificate(300, 784, 1, 0, "wide d=784");
  certificate(300, 9, 2, 1, "wide d=9, duplicates");
  old = wf_ot_set_store_bytes(0);
  certificate(300, 64, 1, 0, "wide d=64, on the fly");
  wf_ot_set_store_bytes(old);
}

/* ---- closed forms and edge cases ------------------------------------------ */
static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

static void test_closed_forms(void) {
  int n = 1000;
  double *x = malloc(sizeof(double) * n * 2), *y = malloc(sizeof(double) * n * 2);
  double *u = malloc(sizeof(double) * n), *v = malloc(sizeof(double) * n);
  int *perm = malloc(sizeof(int) * n);
  char msg[WF_MSG_LEN];
  double cost;
  /* 1-D: the sorted matching is optimal for every p >= 1 */
  for (int pi = 0; pi < 2; pi++) {
    double p = pi == 0 ? 1 : 2;
    fill_points(x, n, 1, 0);
    fill_points(y, n, 1, 0);
    for (int i = 0; i < n; i++) y[i] = 2 * y[i] + 0.5;
    wf_status rc = wf_ot_assign(x, y, n, 1, p, &cost, perm, u, v, msg);
    qsort(x, n, sizeof(double), cmp_double);
    qsort(y, n, sizeof(double), cmp_double);
    double want = 0;
    for (int i = 0; i < n; i++) want += pow(fabs(x[i] - y[i]), p);
    want /= n;
    CHECK(rc == WF_OK && fabs(cost - want) <= 1e-12 * want,
          "1-D p=%g: %.17g vs sorted %.17g", p, cost, want);
  }
  /* a translate: the identity is optimal (x + t, p = 2: cost |t|^2) */
  fill_points(x, n, 2, 0);
  for (int i = 0; i < n; i++) {
    y[2 * i] = x[2 * i] + 0.3;
    y[2 * i + 1] = x[2 * i + 1] - 0.4;
  }
  wf_status rc = wf_ot_assign(x, y, n, 2, 2, &cost, perm, u, v, msg);
  CHECK(rc == WF_OK && fabs(cost - 0.25) <= 1e-12, "translate p=2: %.17g", cost);
  rc = wf_ot_assign(x, y, n, 2, 1, &cost, perm, u, v, msg);
  CHECK(rc == WF_OK && fabs(cost - 0.5) <= 1e-12, "translate p=1: %.17g", cost);
  /* a cloud against itself */
  rc = wf_ot_assign(x, x, n, 2, 1, &cost, perm, u, v, msg);
  CHECK(rc == WF_OK && cost == 0, "self: %g", cost);
  /* every point the same: massive ties */
  for (int i = 0; i < 2 * n; i++) {
    x[i] = 1;
    y[i] = i % 2 ? 4 : 5;
  }
  rc = wf_ot_assign(x, y, n, 2, 1, &cost, perm, u, v, msg);
  CHECK(rc == WF_OK && fabs(cost - 5) <= 1e-12 && is_permutation(perm, n),
        "all equal: %.17g", cost);
  /* n = 1 */
  double a[2] = {0, 0}, b[2] = {3, 4};
  rc = wf_ot_assign(a, b, 1, 2, 1, &cost, perm, u, v, msg);
  CHECK(rc == WF_OK && cost == 5 && perm[0] == 0 && u[0] + v[0] == 5, "n=1: %g", cost);
  /* perm, u, v may be NULL */
  rc = wf_ot_assign(b, a, 1, 2, 2, &cost, NULL, NULL, NULL, msg);
  CHECK(rc == WF_OK && cost == 25, "NULL outputs: %g", cost);
  /* bad arguments */
  CHECK(wf_ot_assign(a, b, 1, 2, 0.5, &cost, perm, u, v, msg) == WF_ERR_ARG, "p < 1");
  CHECK(wf_ot_assign(a, b, 1, 2, NAN, &cost, perm, u, v, msg) == WF_ERR_ARG, "p NaN");
  CHECK(wf_ot_assign(a, b, 0, 2, 1, &cost, perm, u, v, msg) == WF_ERR_ARG, "n = 0");
  b[1] = INFINITY;
  CHECK(wf_ot_assign(a, b, 1, 2, 1, &cost, perm, u, v, msg) == WF_ERR_ARG, "Inf point");
  b[1] = 1e200;
  CHECK(wf_ot_assign(a, b, 1, 2, 2, &cost, perm, u, v, msg) == WF_ERR_NUMERIC,
        "overflowing cost");
  free(x);
  free(y);
  free(u);
  free(v);
  free(perm);
}

/* ---- the abort callback stops a long solve --------------------------------- */
static int abort_calls = 0;
static int always_abort(void *data) {
  (void)data;
  abort_calls++;
  return 1;
}

static void test_interrupt(void) {
  int n = 3000; /* its column reduction alone passes a check point */
  double *x = malloc(sizeof(double) * n * 2), *y = malloc(sizeof(double) * n * 2);
  char msg[WF_MSG_LEN];
  double cost;
  fill_points(x, n, 2, 0);
  fill_points(y, n, 2, 0);
  wf_set_abort_callback(always_abort, NULL);
  wf_status rc = wf_ot_assign(x, y, n, 2, 1, &cost, NULL, NULL, NULL, msg);
  wf_set_abort_callback(NULL, NULL);
  CHECK(rc == WF_ERR_INTERRUPT && abort_calls == 1, "interrupt: status %d, %d calls",
        rc, abort_calls);
  free(x);
  free(y);
}

int main(void) {
  seed_test_stream(20240611);
  test_brute_clouds();
  test_brute_matrices();
  test_certificates();
  test_wide_costs();
  test_closed_forms();
  test_interrupt();
  printf("ot: %d passed, %d failed\n", n_pass, n_fail);
  return n_fail == 0 ? 0 : 1;
}
