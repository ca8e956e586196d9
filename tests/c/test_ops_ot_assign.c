/* test_ops_ot_assign.c — the semi-discrete assignment (cpu/ot_assign.c):
 * argmin_i c(a_j, y_i) - psi_i for the squared and L1 costs, exact on
 * small whole numbers and within a score's rounding otherwise, ties to the
 * first data row, NaN scores never chosen; and the squared cost's bf16
 * screen (cpu/ot_assign_bf16.c, where the CPU has AVX512-BF16) the same as
 * the fp32 kernel to the bit: ties, near-ties (rows one ulp apart, psi one
 * ulp apart), crowded columns left to the kernel, NaN and infinities.
 * Built in double and float (and avx2_*, its AVX2 kernels on an AVX-512
 * machine); ends with "ops ot_assign <precision>: N passed, N failed". */
#include "ops_test_util.h"

static void screen_matches_kernel(const char *what, const double *ha, int m,
                                  const double *hy, int n, int d, const double *hp,
                                  int settled);

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
  if (cost == WF_COST_SQ) { /* the same problem through the screen */
    char what[64];
    snprintf(what, sizeof what, "%d x %d x %d%s%s", m, n, d, exact ? " exact" : "",
             with_psi ? " psi" : "");
    screen_matches_kernel(what, ha, m, hy, n, d, hp, n <= 64 || !exact ? 1 : -1);
  }
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

/* ---- the bf16 screen ------------------------------------------------------ */
/* whether this build on this CPU should screen: fp32, AVX-512 paths built,
 * AVX512-BF16 */
static int screen_expected(void) {
#if !defined(WF_DOUBLE) && defined(__x86_64__) && defined(__GNUC__) && \
    (!defined(WF_ISA_MAX) || WF_ISA_MAX >= 2)
  __builtin_cpu_init();
  return __builtin_cpu_supports("avx512bf16") && __builtin_cpu_supports("avx512bw") &&
         __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512dq");
#else
  return 0;
#endif
}

/* The squared cost with the screen (knob "assign_screen" 2) against the
 * fp32 kernel alone (0): the same indices and values to the bit, on 1 and 2
 * threads. settled: 1 every batch row settled by the screen, 0 some left to
 * the kernel, -1 either. hp (psi) may be NULL; values rounded to wf_real. */
static void screen_matches_kernel(const char *what, const double *ha, int m,
                                  const double *hy, int n, int d, const double *hp,
                                  int settled) {
  const wf_backend *be = D.be;
  if (be->knob(D.ctx, "assign_screen", -1) < 0) return;
  size_t md = (size_t)m * d, nd = (size_t)n * d;
  double *hyh = ou_vec(&D, (size_t)n); /* |y_i|^2 / 2 */
  for (int i = 0; i < n; i++) {
    double s = 0;
    for (int k = 0; k < d; k++) s += hy[(size_t)i * d + k] * hy[(size_t)i * d + k];
    hyh[i] = 0.5 * s;
  }
  wf_real *a = ou_up(&D, ha, md), *y = ou_up(&D, hy, nd), *yh = ou_up(&D, hyh, (size_t)n);
  wf_real *psi = hp != NULL ? ou_up(&D, hp, (size_t)n) : NULL;
  int *idx = ou_alloc(&D, (size_t)m * sizeof(int));
  wf_real *val = ou_up(&D, NULL, (size_t)m);
  be->knob(D.ctx, "assign_screen", 0);
  threads(1);
  be->ot_assign(D.ctx, WF_COST_SQ, a, m, y, n, d, yh, psi, idx, val);
  int *ref = ou_down_int(&D, idx, (size_t)m);
  double *ref_val = ou_down(&D, val, (size_t)m);
  CHECK(be->knob(D.ctx, "assign_screened", -1) == 0, "screen %s: the knob turns it off",
        what);
  be->knob(D.ctx, "assign_screen", 2);
  for (int th = 1; th <= 2; th++) {
    threads(th);
    be->fill(D.ctx, val, (size_t)m, 7);
    be->ot_assign(D.ctx, WF_COST_SQ, a, m, y, n, d, yh, psi, idx, val);
    int got = be->knob(D.ctx, "assign_screened", -1);
    int *gi = ou_down_int(&D, idx, (size_t)m);
    double *gv = ou_down(&D, val, (size_t)m);
    int j = 0;
    while (j < m && gi[j] == ref[j] && memcmp(&gv[j], &ref_val[j], sizeof(double)) == 0) j++;
    CHECK(j == m, "screen %s, %d thread(s): row %d gets %d (%.9g), the kernel %d (%.9g)",
          what, th, j, j < m ? gi[j] : 0, j < m ? gv[j] : 0, j < m ? ref[j] : 0,
          j < m ? ref_val[j] : 0);
    CHECK(settled < 0 || (settled ? got == m : got < m),
          "screen %s, %d thread(s): %d of %d rows settled by the screen", what, th, got, m);
  }
  threads(1);
  be->knob(D.ctx, "assign_screen", 1);
}

/* the knob: where the screen runs and where it does not */
static void screen_runs_where_the_cpu_has_bf16(void) {
  const wf_backend *be = D.be;
  int setting = be->knob(D.ctx, "assign_screen", -1);
  CHECK((setting >= 0) == screen_expected(), "assign_screen %d on a CPU %s AVX512-BF16",
        setting, screen_expected() ? "with" : "without");
  if (setting < 0) return;
  CHECK(setting == 1 && be->knob(D.ctx, "assign_screen", 2) == 1 &&
            be->knob(D.ctx, "assign_screen", 1) == 2,
        "assign_screen: 1 by default, set and queried");
}

/* normal data of every shape the kernel's tests use and a few more (odd d:
 * a half pair; d not a multiple of 16; several strips and chunks), and
 * image-like data (255 levels in [-1, 1], the scale of OTS's data) */
static void screen_matches_kernel_on_random_data(void) {
  static const int shapes[][3] = {{1, 1, 1},   {2, 3, 1},     {31, 50, 33},  {40, 700, 785},
                                  {65, 400, 17}, {96, 1500, 64}, {7, 3001, 3}};
  for (int s = 0; s < 7; s++) {
    const int m = shapes[s][0], n = shapes[s][1], d = shapes[s][2];
    double *ha = ou_rnorm(&D, (size_t)m * d, 1), *hy = ou_rnorm(&D, (size_t)n * d, 1);
    double *hp = ou_rnorm(&D, (size_t)n, 0.5);
    ou_round(ha, (size_t)m * d), ou_round(hy, (size_t)n * d), ou_round(hp, (size_t)n);
    char what[64];
    snprintf(what, sizeof what, "normal %d x %d x %d", m, n, d);
    screen_matches_kernel(what, ha, m, hy, n, d, s % 2 ? hp : NULL, 1);
    ou_reset(&D);
  }
  const int m = 64, n = 2000, d = 784;
  double *hy = ou_vec(&D, (size_t)n * d), *ha = ou_rnorm(&D, (size_t)m * d, 0.6);
  for (size_t k = 0; k < (size_t)n * d; k++) hy[k] = floor(256 * ou_unif(&D)) / 127.5 - 1;
  double *hp = ou_rnorm(&D, (size_t)n, 2);
  ou_round(ha, (size_t)m * d), ou_round(hy, (size_t)n * d), ou_round(hp, (size_t)n);
  screen_matches_kernel("images 64 x 2000 x 784", ha, m, hy, n, d, hp, 1);
  ou_reset(&D);
}

/* Ties and near-ties the bf16 products cannot tell apart: exact copies of a
 * row (same psi: the first copy wins), copies one ulp apart in one
 * coordinate, copies with psi one ulp apart; each batch row close to one of
 * the copied rows, so the copies are its best candidates. */
static void screen_keeps_ties_and_near_ties(void) {
  const int n = 600, d = 50, m = 40, base = 12;
  double *hy = ou_rnorm(&D, (size_t)n * d, 1), *hp = ou_rnorm(&D, (size_t)n, 0.01);
  ou_round(hy, (size_t)n * d), ou_round(hp, (size_t)n);
  /* rows 0..base-1 are copied: row b + base (k + 1) is a copy of row b */
  for (int b = 0; b < base; b++)
    for (int c = 1; c * base + b < 4 * base; c++) {
      const int i = c * base + b;
      memcpy(hy + (size_t)i * d, hy + (size_t)b * d, sizeof(double) * d);
      hp[i] = hp[b];
      if (c == 2) { /* one coordinate one ulp up */
        int k = (b * 7) % d;
        hy[(size_t)i * d + k] = nextafterf((float)hy[(size_t)i * d + k], INFINITY);
      }
      if (c == 3) hp[i] = nextafterf((float)hp[b], b % 2 ? INFINITY : -INFINITY);
    }
  /* copies far apart too: the last rows again copy rows 0..base-1 */
  for (int b = 0; b < base; b++) {
    memcpy(hy + (size_t)(n - 1 - b) * d, hy + (size_t)b * d, sizeof(double) * d);
    hp[n - 1 - b] = hp[b];
  }
  double *ha = ou_vec(&D, (size_t)m * d);
  for (int j = 0; j < m; j++)
    for (int k = 0; k < d; k++)
      ha[(size_t)j * d + k] = hy[(size_t)(j % base) * d + k] + 1e-3 * ou_norm(&D);
  ou_round(ha, (size_t)m * d);
  screen_matches_kernel("copied rows", ha, m, hy, n, d, hp, 1);
  /* and the batch rows equal to data rows: the copies tie exactly */
  for (int j = 0; j < m; j++)
    memcpy(ha + (size_t)j * d, hy + (size_t)(j % base) * d, sizeof(double) * d);
  screen_matches_kernel("batch rows on copied rows", ha, m, hy, n, d, NULL, 1);
  ou_reset(&D);
}

/* More equal candidates than a column's list holds (100 copies of a row
 * every batch row is close to): those columns go to the kernel. */
static void screen_leaves_crowded_columns_to_the_kernel(void) {
  const int n = 500, d = 24, m = 33;
  double *hy = ou_rnorm(&D, (size_t)n * d, 1);
  for (int i = 100; i < 300; i += 2)
    memcpy(hy + (size_t)i * d, hy + (size_t)5 * d, sizeof(double) * d);
  double *ha = ou_vec(&D, (size_t)m * d);
  for (size_t k = 0; k < (size_t)m * d; k++)
    ha[k] = hy[(size_t)5 * d + k % d] + (k / d % 3 == 0 ? 0.01 * ou_norm(&D) : 3 * ou_norm(&D));
  ou_round(hy, (size_t)n * d), ou_round(ha, (size_t)m * d);
  screen_matches_kernel("crowded columns", ha, m, hy, n, d, NULL, 0);
  ou_reset(&D);
}

/* NaN and infinite psi (NaN scores never chosen; psi = +inf: a score of
 * -inf, chosen first), a data row with a NaN, a row past bf16's range, and
 * a batch with a NaN (the screen declines: the kernel decides) */
static void screen_follows_the_kernel_on_nan_and_infinities(void) {
  const int n = 300, d = 20, m = 20;
  double *hy = ou_rnorm(&D, (size_t)n * d, 1), *ha = ou_rnorm(&D, (size_t)m * d, 1);
  double *hp = ou_rnorm(&D, (size_t)n, 1);
  for (int i = 0; i < n; i += 25) hp[i] = NAN;
  hp[3] = -INFINITY;
  hy[(size_t)10 * d + 4] = NAN;
  hy[(size_t)11 * d + 2] = 3.4e38; /* rounds to an infinite bf16 */
  ou_round(hy, (size_t)n * d), ou_round(ha, (size_t)m * d);
  screen_matches_kernel("NaN psi", ha, m, hy, n, d, hp, 1);
  hp[200] = INFINITY;
  hp[250] = INFINITY;
  screen_matches_kernel("infinite psi", ha, m, hy, n, d, hp, 1);
  for (int i = 0; i < n; i++) hp[i] = NAN;
  screen_matches_kernel("psi all NaN", ha, m, hy, n, d, hp, -1);
  ha[5] = NAN;
  screen_matches_kernel("a NaN in the batch", ha, m, hy, n, d, NULL, 0);
  ou_reset(&D);
}

int main(void) {
  ops_open();
  screen_runs_where_the_cpu_has_bf16();
  ot_assign_takes_the_best_score_of_every_row();
  screen_matches_kernel_on_random_data();
  screen_keeps_ties_and_near_ties();
  screen_leaves_crowded_columns_to_the_kernel();
  screen_follows_the_kernel_on_nan_and_infinities();
  return ops_finish("ot_assign");
}
