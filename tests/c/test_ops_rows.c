/* test_ops_rows.c — the row ops and index lists (cpu/rows.c,
 * cpu/index.c): squared norms and distances, scale, lerp, gathers, the
 * first minimum of each row, index counts and lists written and read at a
 * position held in a slot; 1 vs 2 threads bit for bit. Built in double and
 * float (and avx2_*); ends with "ops rows <precision>: N passed, N failed". */
#include "ops_test_util.h"

/* ---- row operations ---------------------------------------------------------- */
static void row_ops_match_their_formulas(void) {
  const wf_backend *be = D.be;
  static const int shapes[][2] = {{1, 1}, {7, 3}, {100, 784}, {13, 1}, {3000, 20}};
  for (int s = 0; s < 5; s++) {
    int m = shapes[s][0], d = shapes[s][1];
    size_t md = (size_t)m * d;
    double *ha = ou_rnorm(&D, md, 1), *hb = ou_rnorm(&D, md, 1);
    double *ht = ou_runif(&D, (size_t)m, 0, 1), *hs = ou_rnorm(&D, (size_t)m, 2);
    ou_round(ha, md);
    ou_round(hb, md);
    ou_round(ht, (size_t)m);
    ou_round(hs, (size_t)m);
    int *hidx = ou_ivec(&D, (size_t)m);
    for (int i = 0; i < m; i++) hidx[i] = i % 3 == 0 ? m - 1 : (i * 7) % m;
    double *res[2][6];
    for (int th = 1; th <= 2; th++) {
      threads(th);
      wf_real *a = ou_up(&D, ha, md), *b = ou_up(&D, hb, md);
      wf_real *t = ou_up(&D, ht, (size_t)m), *sc = ou_up(&D, hs, (size_t)m);
      wf_real *o = ou_up(&D, NULL, md), *r = ou_up(&D, NULL, (size_t)m);
      be->row_sq_norm(D.ctx, a, m, d, r);
      res[th - 1][0] = ou_down(&D, r, (size_t)m);
      be->row_sq_dist(D.ctx, a, b, m, d, r);
      res[th - 1][1] = ou_down(&D, r, (size_t)m);
      be->row_scale(D.ctx, a, sc, m, d, o);
      res[th - 1][2] = ou_down(&D, o, md);
      be->row_lerp(D.ctx, a, b, t, m, d, o);
      res[th - 1][3] = ou_down(&D, o, md);
      be->gather_rows(D.ctx, a, d, ou_up_int(&D, hidx, (size_t)m), m, o);
      res[th - 1][4] = ou_down(&D, o, md);
      be->row_scale(D.ctx, a, sc, m, d, a); /* in place */
      res[th - 1][5] = ou_down(&D, a, md);
    }
    threads(1);
    int bad[6] = {0}, lerp_old = 1;
    for (int i = 0; i < m; i++) {
      double sn = 0, sd = 0;
      for (int j = 0; j < d; j++) {
        size_t k = (size_t)i * d + j;
        sn += ha[k] * ha[k];
        sd += (ha[k] - hb[k]) * (ha[k] - hb[k]);
        bad[2] += res[0][2][k] != (double)(wf_real)(hs[i] * ha[k]);
        double lerp = ht[i] * ha[k] + (1 - ht[i]) * hb[k];
        bad[3] += !(fabs(res[0][3][k] - lerp) <=
                    4 * EPS * (fabs(ht[i] * ha[k]) + fabs((1 - ht[i]) * hb[k])));
        wf_real ti = (wf_real)ht[i]; /* the pre-v2 lerp_rows */
        lerp_old &= res[0][3][k] == (double)(ti * (wf_real)ha[k] +
                                             (1 - ti) * (wf_real)hb[k]);
        bad[4] += res[0][4][k] != ha[(size_t)hidx[i] * d + j];
      }
      bad[0] += !(fabs(res[0][0][i] - sn) <= EPS * sn);
      bad[1] += !(fabs(res[0][1][i] - sd) <= EPS * sd);
    }
    CHECK(bad[0] == 0 && bad[1] == 0, "row_sq_norm / row_sq_dist %d x %d", m, d);
    CHECK(bad[2] == 0 && same(res[0][5], res[0][2], md),
          "row_scale %d x %d (and in place)", m, d);
    CHECK(bad[3] == 0 && lerp_old, "row_lerp %d x %d (the old lerp_rows %d)", m,
          d, lerp_old);
    CHECK(bad[4] == 0, "gather_rows %d x %d", m, d);
    int agree = 1;
    for (int k = 0; k < 6; k++)
      agree &= same(res[0][k], res[1][k], k < 2 ? (size_t)m : md);
    CHECK(agree, "row ops %d x %d: 1 and 2 threads differ", m, d);
    ou_reset(&D);
  }
}

static void row_argmin_takes_the_first_minimum(void) {
  const wf_backend *be = D.be;
  static const int shapes[][2] = {{1, 1}, {1, 13}, {5, 1}, {7, 2}, {9, 13},
                                  {300, 257}, {40, 1000}};
  for (int s = 0; s < 7; s++) {
    int m = shapes[s][0], n = shapes[s][1];
    size_t mn = (size_t)m * n;
    /* few distinct values, so most rows have ties; some infinities, and
     * -0 against +0 (equal: the first wins) */
    double *ha = ou_vec(&D, mn);
    for (size_t k = 0; k < mn; k++) ha[k] = floor(5 * ou_unif(&D)) - 2;
    for (int i = 0; i < m; i++) {
      double *ai = ha + (size_t)i * n;
      if (i % 4 == 1) ai[n - 1] = -INFINITY;
      if (i % 4 == 2) {
        for (int j = 0; j < n; j++) ai[j] = j % 2 ? 0.0 : -0.0;
      }
      if (i % 4 == 3) ai[0] = INFINITY;
    }
    int *ref = ou_ivec(&D, (size_t)m);
    for (int i = 0; i < m; i++) {
      const double *ai = ha + (size_t)i * n;
      int best = 0;
      for (int j = 1; j < n; j++)
        if (ai[j] < ai[best]) best = j;
      ref[i] = best;
    }
    int *got[2];
    double *val = NULL;
    for (int th = 1; th <= 2; th++) {
      threads(th);
      wf_real *a = ou_up(&D, ha, mn), *v = ou_up(&D, NULL, (size_t)m);
      int *idx = ou_alloc(&D, (size_t)m * sizeof(int));
      int *idx2 = ou_alloc(&D, (size_t)m * sizeof(int));
      be->row_argmin(D.ctx, a, m, n, idx, v);
      be->row_argmin(D.ctx, a, m, n, idx2, NULL);
      got[th - 1] = ou_down_int(&D, idx, (size_t)m);
      CHECK(same_int(ou_down_int(&D, idx2, (size_t)m), got[th - 1], (size_t)m),
            "row_argmin %d x %d with val NULL", m, n);
      if (th == 1) val = ou_down(&D, v, (size_t)m);
    }
    threads(1);
    int ok = same_int(got[0], ref, (size_t)m), vals = 1;
    for (int i = 0; i < m; i++) vals &= val[i] == ha[(size_t)i * n + ref[i]];
    CHECK(ok && vals, "row_argmin %d x %d: first minimum and its value", m, n);
    CHECK(same_int(got[0], got[1], (size_t)m), "row_argmin %d x %d: 1 and 2 "
          "threads differ", m, n);
    ou_reset(&D);
  }
}

static void index_counts_and_positioned_copies_match_loops(void) {
  const wf_backend *be = D.be;
  /* index_count: counts per index and per bin of consecutive indices */
  int m = 300, n = 37;
  int *hidx = ou_ivec(&D, (size_t)m);
  for (int j = 0; j < m; j++) hidx[j] = (int)(n * ou_unif(&D));
  hidx[0] = 0, hidx[1] = n - 1;
  int *idx = ou_up_int(&D, hidx, (size_t)m);
  static const int bins_list[] = {1, 5, 36, 37};
  for (int b = 0; b < 4; b++) {
    int bins = bins_list[b];
    double *start = ou_vec(&D, (size_t)bins), *ref = ou_vec(&D, (size_t)bins);
    for (int k = 0; k < bins; k++) start[k] = ref[k] = k == 0 ? -0.25 : 0;
    wf_real w = (wf_real)(1.0 / 3);
    for (int j = 0; j < m; j++) {
      long long k = (long long)hidx[j] * bins / n;
      ref[k] = (double)(wf_real)((wf_real)ref[k] + w);
    }
    wf_real *out = ou_up(&D, start, (size_t)bins);
    be->index_count(D.ctx, idx, m, n, bins, w, out);
    CHECK(same(ou_down(&D, out, (size_t)bins), ref, (size_t)bins),
          "index_count %d into %d bins", n, bins);
  }
  /* copy_ints_at: write blocks at a moving position, read them back */
  int blk = 5, nb = 4;
  int *src = ou_ivec(&D, (size_t)blk * nb);
  for (int k = 0; k < blk * nb; k++) src[k] = 1000 + k;
  int *list = ou_up_int(&D, ou_ivec(&D, (size_t)blk * nb), (size_t)blk * nb);
  int *one = ou_alloc(&D, (size_t)blk * sizeof(int));
  double *wpos = ou_slot_at(&D, 0), *rpos = ou_slot_at(&D, 0);
  for (int b = 0; b < nb; b++) {
    be->upload_int(D.ctx, one, src + (size_t)b * blk, (size_t)blk);
    be->copy_ints_at(D.ctx, list, wpos, one, NULL, (size_t)blk);
  }
  CHECK(same_int(ou_down_int(&D, list, (size_t)blk * nb), src, (size_t)blk * nb) &&
            ou_slot(&D, wpos, 0) == nb,
        "copy_ints_at appends blocks and advances its position");
  int ok = 1;
  for (int b = 0; b < nb; b++) {
    be->copy_ints_at(D.ctx, one, NULL, list, rpos, (size_t)blk);
    ok &= same_int(ou_down_int(&D, one, (size_t)blk), src + (size_t)b * blk, (size_t)blk);
  }
  CHECK(ok && ou_slot(&D, rpos, 0) == nb, "copy_ints_at reads blocks back in order");
  be->copy_ints_at(D.ctx, one, NULL, one, NULL, (size_t)blk);
  CHECK(same_int(ou_down_int(&D, one, (size_t)blk), src + (size_t)(nb - 1) * blk,
                 (size_t)blk),
        "copy_ints_at onto itself without positions");
  ou_reset(&D);
}

int main(void) {
  ops_open();
  row_ops_match_their_formulas();
  row_argmin_takes_the_first_minimum();
  index_counts_and_positioned_copies_match_loops();
  return ops_finish("rows");
}
