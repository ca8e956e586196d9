/* test_ops_ot_assign.c — the semi-discrete assignment (cpu/ot_assign.c):
 * argmin_i c(a_j, y_i) - psi_i for the squared and L1 costs, exact on
 * small whole numbers and within a score's rounding otherwise, ties to the
 * first data row, NaN scores never chosen. Built in double and float (and
 * avx2_*, its AVX2 kernels on an AVX-512 machine); ends with "ops
 * ot_assign <precision>: N passed, N failed". */
#include "ops_test_util.h"

/* ---- the semi-discrete assignment ----------------------------------------- */
/* score_ij = c(a_j, y_i) - psi_i in double (psi NULL: 0) */
static double ot_score(wf_cost_kind cost, const double *a, const double *y,
                       const double *psi, int d, int j, int i) {
  double s = 0;
  for (int k = 0; k < d; k++) {
    double e = a[(size_t)j * d + k] - y[(size_t)i * d + k];
    s += cost == WF_COST_SQ ? 0.5 * e * e : fabs(e);
  }
  return s - (psi != NULL ? psi[i] : 0);
}

/* the rounding a wf_real score may carry: a few eps of its terms' sizes */
static double ot_slack(wf_cost_kind cost, const double *a, const double *y,
                       const double *psi, int d, int j, int i) {
  double s = 0;
  for (int k = 0; k < d; k++) {
    double u = fabs(a[(size_t)j * d + k]), v = fabs(y[(size_t)i * d + k]);
    s += cost == WF_COST_SQ ? 0.5 * (u * u + v * v) + u * v : u + v;
  }
  return 8 * (d + 4) * EPS * (s + (psi != NULL ? fabs(psi[i]) : 0));
}

/* one case: m x d batch against n x d data, exact (small whole numbers:
 * every wf_real sum exact, so the first minimum must be found, ties
 * included) or random (the chosen score within rounding of the minimum);
 * every vector width the CPU has, 1 and 2 threads, val and val NULL */
static void ot_assign_case(wf_cost_kind cost, int m, int n, int d, int exact,
                           int with_psi) {
  const wf_backend *be = D.be;
  size_t md = (size_t)m * d, nd = (size_t)n * d;
  double *ha = ou_vec(&D, md), *hy = ou_vec(&D, nd), *hp = NULL;
  for (size_t k = 0; k < md; k++)
    ha[k] = exact ? floor(7 * ou_unif(&D)) - 3 : ou_norm(&D);
  for (size_t k = 0; k < nd; k++)
    hy[k] = exact ? floor(7 * ou_unif(&D)) - 3 : ou_norm(&D);
  if (exact && n > 3) /* repeated data rows: exact ties between them */
    for (int k = 0; k < d; k++) hy[(size_t)(n - 1) * d + k] = hy[(size_t)1 * d + k];
  if (with_psi) {
    hp = ou_vec(&D, (size_t)n);
    for (int i = 0; i < n; i++)
      hp[i] = exact ? floor(4 * ou_unif(&D)) / 2 : 0.5 * ou_norm(&D);
    if (exact && n > 3) hp[n - 1] = hp[1];
  }
  ou_round(ha, md);
  ou_round(hy, nd);
  double *hyh = ou_vec(&D, (size_t)n); /* |y_i|^2 / 2 */
  for (int i = 0; i < n; i++) {
    double s = 0;
    for (int k = 0; k < d; k++) s += hy[(size_t)i * d + k] * hy[(size_t)i * d + k];
    hyh[i] = (double)(wf_real)(0.5 * s);
  }
  /* the reference: the first minimum of the double scores */
  int *ref = ou_ivec(&D, (size_t)m);
  double *low = ou_vec(&D, (size_t)m);
  for (int j = 0; j < m; j++) {
    int b = 0;
    double bv = ot_score(cost, ha, hy, hp, d, j, 0);
    for (int i = 1; i < n; i++) {
      double v = ot_score(cost, ha, hy, hp, d, j, i);
      if (v < bv) bv = v, b = i;
    }
    ref[j] = b;
    low[j] = bv;
  }
  wf_real *a = ou_up(&D, ha, md), *y = ou_up(&D, hy, nd);
  wf_real *yh = ou_up(&D, hyh, (size_t)n), *psi = hp ? ou_up(&D, hp, (size_t)n) : NULL;
  int *idx = ou_alloc(&D, (size_t)m * sizeof(int));
  wf_real *val = ou_up(&D, NULL, (size_t)m);
  int widest = be->knob(D.ctx, "simd_bytes", -1);
  const char *name = cost == WF_COST_SQ ? "SQ" : "L1";
  for (int w = 16; w <= widest; w *= 2) {
    be->knob(D.ctx, "simd_bytes", w);
    int *got[2];
    double *gv[2];
    for (int th = 1; th <= 2; th++) {
      threads(th);
      be->ot_assign(D.ctx, cost, a, m, y, n, d, cost == WF_COST_SQ ? yh : NULL, psi,
                    idx, val);
      got[th - 1] = ou_down_int(&D, idx, (size_t)m);
      gv[th - 1] = ou_down(&D, val, (size_t)m);
    }
    threads(1);
    be->fill(D.ctx, val, (size_t)m, 7);
    be->ot_assign(D.ctx, cost, a, m, y, n, d, cost == WF_COST_SQ ? yh : NULL, psi, idx,
                  NULL);
    int same_nul = same_int(ou_down_int(&D, idx, (size_t)m), got[0], (size_t)m);
    double *untouched = ou_down(&D, val, (size_t)m);
    int ok = 1, vals = 1;
    for (int j = 0; j < m; j++) {
      int g = got[0][j];
      if (g < 0 || g >= n) {
        ok = 0;
        continue;
      }
      double slack = ot_slack(cost, ha, hy, hp, d, j, g);
      if (exact) {
        ok &= g == ref[j];
        vals &= gv[0][j] == low[j];
      } else {
        ok &= ot_score(cost, ha, hy, hp, d, j, g) <= low[j] + 2 * slack;
        vals &= fabs(gv[0][j] - low[j]) <= 2 * slack;
      }
    }
    CHECK(ok && vals, "ot_assign %s %d x %d x %d%s%s, %d-byte vectors: %s", name, m, n,
          d, exact ? " exact" : "", with_psi ? " psi" : "", w,
          ok ? "values" : "indices");
    CHECK(same_int(got[0], got[1], (size_t)m) && same(gv[0], gv[1], (size_t)m),
          "ot_assign %s %d x %d x %d (%d bytes): 1 and 2 threads differ", name, m, n, d,
          w);
    CHECK(same_nul && untouched[0] == 7, "ot_assign %s %d x %d x %d: val NULL", name, m,
          n, d);
  }
  be->knob(D.ctx, "simd_bytes", 0);
  ou_reset(&D);
}

static void ot_assign_takes_the_best_score_of_every_row(void) {
  /* m, n, d: one batch row, one coordinate, n not a multiple of the 6-row
   * tile nor of a thread's share, m not a multiple of a strip, several
   * strips and blocks (d 784: a block is a few strips) */
  static const int shapes[][3] = {{1, 1, 1},    {1, 5, 3},    {3, 1, 2},
                                  {1, 37, 1},   {17, 13, 1},  {5, 1000, 2},
                                  {64, 601, 7}, {33, 300, 784}, {200, 97, 40},
                                  {130, 2503, 16}};
  for (int c = 0; c < 2; c++) {
    wf_cost_kind cost = c == 0 ? WF_COST_SQ : WF_COST_L1;
    for (int s = 0; s < 10; s++)
      for (int exact = 0; exact < 2; exact++)
        ot_assign_case(cost, shapes[s][0], shapes[s][1], shapes[s][2], exact,
                       (s + exact) % 3 != 0);
  }
  /* a batch row equidistant from every data row: index 0; NaN scores are
   * never chosen */
  const wf_backend *be = D.be;
  double ha[2] = {0, 0}, hy[8] = {1, 0, 0, 1, -1, 0, 0, -1}, hyh[4] = {0.5, 0.5, 0.5, 0.5};
  double hp[4] = {NAN, 0, 0, 0};
  wf_real *a = ou_up(&D, ha, 2), *y = ou_up(&D, hy, 8), *yh = ou_up(&D, hyh, 4);
  wf_real *val = ou_up(&D, NULL, 1);
  int *idx = ou_alloc(&D, sizeof(int));
  for (int c = 0; c < 2; c++) {
    wf_cost_kind cost = c == 0 ? WF_COST_SQ : WF_COST_L1;
    be->ot_assign(D.ctx, cost, a, 1, y, 4, 2, yh, NULL, idx, val);
    CHECK(ou_down_int(&D, idx, 1)[0] == 0 && ou_down(&D, val, 1)[0] == (c ? 1 : 0.5),
          "ot_assign: ties go to the first data row");
    be->ot_assign(D.ctx, cost, a, 1, y, 4, 2, yh, ou_up(&D, hp, 4), idx, val);
    CHECK(ou_down_int(&D, idx, 1)[0] == 1, "ot_assign: a NaN score is not chosen");
  }
  ou_reset(&D);
}

int main(void) {
  ops_open();
  ot_assign_takes_the_best_score_of_every_row();
  return ops_finish("ot_assign");
}
