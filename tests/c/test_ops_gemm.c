/* test_ops_gemm.c — the matrix product and the level-1 ops (cpu/gemm.c,
 * cpu/ops.c): gemm in every transpose, scale and epilogue (bias and
 * activation, times a derivative) against the naive product, padded
 * leading dimensions left alone, thin products split among threads, at
 * every micro-kernel width this machine runs (256-bit and 512-bit vectors)
 * with the same bits at each; the model's choice of width; bias,
 * column sums, axpy and scal against their formulas. Built in double and
 * float (and avx2_*); ends with "ops gemm <precision>: N passed, N
 * failed". */
#include "ops_test_util.h"

/* ---- gemm --------------------------------------------------------------- */
/* the micro-kernel's vector width: value 32 or 64 sets it, 0 the core's
 * choice, < 0 asks; returns the width in use before */
static int kernel_width(int bytes) { return D.be->knob(D.ctx, "gemm_vec_bytes", bytes); }
/* 2 where this build and machine run the 512-bit kernel, else 1 */
static int n_widths(void) {
  int old = kernel_width(64), wide = kernel_width(old) == 64;
  return wide ? 2 : 1;
}

static double ep_act(wf_activation act, double slope, double v) {
  if (act == WF_ACT_RELU) return v > 0 ? v : 0;
  if (act == WF_ACT_LEAKY_RELU) return v > 0 ? v : slope * v;
  return v;
}
static double ep_deriv(wf_activation act, double slope, double u) {
  if (act == WF_ACT_RELU) return u > 0 ? 1 : 0;
  if (act == WF_ACT_LEAKY_RELU) return u > 0 ? 1 : slope;
  return 1;
}

/* One product with leading dimensions padded by `pad`; C's padding must
 * come back untouched, and with beta == 0 C holds NaN (never read). */
static void gemm_case(int ta, int tb, int m, int n, int k, double alpha,
                      double beta, wf_ep_kind ek, wf_activation act, int pad) {
  const wf_backend *be = D.be;
  int lda = (ta ? m : k) + pad, ldb = (tb ? k : n) + pad, ldc = n + pad;
  size_t na = (size_t)(ta ? k : m) * lda, nb = (size_t)(tb ? n : k) * ldb;
  size_t nc = (size_t)m * ldc;
  double *ha = ou_rnorm(&D, na, 1), *hb = ou_rnorm(&D, nb, 1);
  double *hc = ou_rnorm(&D, nc, 1), *hbias = ou_rnorm(&D, (size_t)n, 1);
  double *hu = ou_rnorm(&D, nc, 1);
  ou_round(ha, na);
  ou_round(hb, nb);
  ou_round(hc, nc);
  ou_round(hbias, (size_t)n);
  if (beta == 0)
    for (size_t i = 0; i < nc; i++) hc[i] = NAN;
  double al = (wf_real)alpha, bt = (wf_real)beta, slope = (wf_real)0.2;
  wf_epilogue ep = {.kind = ek, .act = act, .slope = (wf_real)slope,
                    .bias = ou_up(&D, hbias, (size_t)n), .u = ou_up(&D, hu, nc)};
  wf_real *c = ou_up(&D, hc, nc);
  /* kind NONE: alternately no epilogue and an epilogue of kind NONE */
  const wf_epilogue *epp = ek == WF_EP_NONE && pad == 0 ? NULL : &ep;
  be->gemm(D.ctx, ta, tb, m, n, k, (wf_real)alpha, ou_up(&D, ha, na), lda,
           ou_up(&D, hb, nb), ldb, (wf_real)beta, c, ldc, epp);
  double *got = ou_down(&D, c, nc);
  int bad = 0, pad_ok = 1;
  double worst = 0;
  for (int i = 0; i < m; i++) {
    for (int j = 0; j < n; j++) {
      double s = 0, mag = 0;
      for (int p = 0; p < k; p++) {
        double av = ta ? ha[(size_t)p * lda + i] : ha[(size_t)i * lda + p];
        double bv = tb ? hb[(size_t)j * ldb + p] : hb[(size_t)p * ldb + j];
        s += av * bv;
        mag += fabs(av * bv);
      }
      size_t o = (size_t)i * ldc + j;
      double v = al * s, bound = fabs(al) * mag;
      if (beta != 0) {
        v += bt * hc[o];
        bound += fabs(bt * hc[o]);
      }
      if (ek == WF_EP_BIAS_ACT) {
        v = ep_act(act, slope, v + hbias[j]);
        bound += fabs(hbias[j]);
      } else if (ek == WF_EP_TIMES_DERIV) {
        v *= ep_deriv(act, slope, hu[o]);
      }
      bound = 4 * (k + 2) * EPS * bound + DBL_MIN;
      double e = fabs(got[o] - v);
      if (!(e <= bound)) bad++;
      if (e / bound > worst) worst = e / bound;
    }
    for (int j = n; j < ldc; j++) {
      size_t o = (size_t)i * ldc + j;
      pad_ok &= got[o] == hc[o] || (isnan(got[o]) && isnan(hc[o]));
    }
  }
  CHECK(bad == 0, "gemm ta %d tb %d m %d n %d k %d alpha %g beta %g ep %d act %d "
        "pad %d: %d wrong (worst %.3g of the bound)", ta, tb, m, n, k, alpha,
        beta, ek, act, pad, bad, worst);
  CHECK(pad_ok, "gemm writes outside C (m %d n %d k %d)", m, n, k);
  ou_reset(&D);
}

static void gemm_matches_the_naive_product_with_every_epilogue(void) {
  static const int sizes[][3] = {
      {1, 1, 1},    {7, 5, 3},   {13, 17, 1}, {3, 33, 2},  {12, 1, 7},
      {6, 16, 300}, {37, 530, 9}, {50, 3, 40}, {20, 8, 100}, {64, 64, 64},
      {100, 200, 260}, {9, 4, 0},
      /* thin products large enough to be split among threads: the first
       * layer's forward (k = 2), input gradient (n = 2), a one-output
       * layer */
      {1024, 128, 2}, {1024, 2, 128}, {600, 1, 64},
      /* fewer rows than a micro-tile (a one-output layer's weight
       * gradient) and than two */
      {1, 300, 1024}, {5, 200, 700}, {11, 100, 400}};
  static const wf_activation acts[3] = {WF_ACT_IDENTITY, WF_ACT_RELU,
                                        WF_ACT_LEAKY_RELU};
  int n_sizes = (int)(sizeof(sizes) / sizeof(sizes[0]));
  int widths = n_widths();
  for (int run = 0; run < 2 * widths; run++) {
    int th = 1 + run % 2;
    threads(th);
    kernel_width(32 << (run / 2));
    for (int s = 0; s < n_sizes; s++) {
      int m = sizes[s][0], n = sizes[s][1], k = sizes[s][2];
      for (int ta = 0; ta < 2; ta++)
        for (int tb = 0; tb < 2; tb++) {
          int pad = (s + ta + tb) % 3 == 0 ? 3 : 0;
          gemm_case(ta, tb, m, n, k, 1, 0, WF_EP_NONE, WF_ACT_IDENTITY, pad);
          gemm_case(ta, tb, m, n, k, -0.5, 1, WF_EP_NONE, WF_ACT_IDENTITY, pad);
          gemm_case(ta, tb, m, n, k, 1.5, 0.7, WF_EP_NONE, WF_ACT_IDENTITY, 0);
          for (int a = 0; a < 3; a++) {
            gemm_case(ta, tb, m, n, k, 1, 0, WF_EP_BIAS_ACT, acts[a], pad);
            gemm_case(ta, tb, m, n, k, 1, 1, WF_EP_BIAS_ACT, acts[a], 0);
            gemm_case(ta, tb, m, n, k, 1, 0, WF_EP_TIMES_DERIV, acts[a], pad);
            gemm_case(ta, tb, m, n, k, -1, 1, WF_EP_TIMES_DERIV, acts[a], 0);
          }
        }
    }
    gemm_case(0, 0, 40, 30, 20, 0, 0.5, WF_EP_NONE, WF_ACT_IDENTITY, 1);
  }
  threads(1);
  kernel_width(0);
}

/* C of one product at the kernel width `bytes` (A, B, C from the seed) */
static double *product_at_width(int bytes, int th, int ta, int tb, int m, int n,
                                int k, double beta, wf_ep_kind ek) {
  const wf_backend *be = D.be;
  threads(th);
  kernel_width(bytes);
  int lda = ta ? m : k, ldb = tb ? k : n;
  size_t na = (size_t)m * k, nb = (size_t)k * n, nc = (size_t)m * n;
  uint64_t seed = D.rng;
  double *ha = ou_rnorm(&D, na, 1), *hb = ou_rnorm(&D, nb, 1);
  double *hc = ou_rnorm(&D, nc, 1), *hbias = ou_rnorm(&D, (size_t)n, 1);
  D.rng = seed; /* every width multiplies the same values */
  wf_epilogue ep = {.kind = ek, .act = WF_ACT_LEAKY_RELU, .slope = (wf_real)0.2,
                    .bias = ou_up(&D, hbias, (size_t)n), .u = ou_up(&D, hc, nc)};
  wf_real *c = ou_up(&D, hc, nc);
  be->gemm(D.ctx, ta, tb, m, n, k, (wf_real)0.75, ou_up(&D, ha, na), lda,
           ou_up(&D, hb, nb), ldb, (wf_real)beta, c, n, &ep);
  return ou_down(&D, c, nc);
}

/* Each C value adds its products in the same order whatever the tile's
 * width, so the 512-bit kernel must give the 256-bit kernel's bits: on the
 * MLP's shapes (batch 512, width 128), across a panel's depth KC and width
 * NC, and at ragged edges. Where the 512-bit kernel cannot run, asking for
 * it must leave the 256-bit one in use. */
static void gemm_kernel_widths_give_the_same_bits(void) {
  static const int sizes[][3] = {{512, 128, 128}, {512, 128, 2}, {257, 300, 600},
                                 {37, 530, 9},   {100, 33, 260}, {1000, 1100, 70},
                                 {13, 17, 513}};
  int widths = n_widths();
  int was = kernel_width(64);
  CHECK(was == 32 || was == 64, "gemm_vec_bytes: width %d in use", was);
  CHECK(kernel_width(-1) == (widths == 2 ? 64 : 32),
        "gemm_vec_bytes 64: width %d in use with %d widths", kernel_width(-1), widths);
  int units = D.be->knob(D.ctx, "fma_units_512", -1);
  CHECK(units >= 0 && units <= 2 && (units == 0) == (D.be->knob(D.ctx, "isa", -1) < 2),
        "fma_units_512 %d on code path %d", units, D.be->knob(D.ctx, "isa", -1));
  kernel_width(0); /* the choice per product: 512-bit for 128 columns */
  CHECK(kernel_width(-1) == (widths == 2 ? 64 : 32),
        "the choice for 128 columns: %d bytes with %d 512-bit FMA units",
        kernel_width(-1), units);
  if (widths < 2) return;
  for (size_t s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++)
    for (int v = 0; v < 8; v++) {
      int ta = v & 1, tb = (v >> 1) & 1, th = 1 + (v >> 2);
      int m = sizes[s][0], n = sizes[s][1], k = sizes[s][2];
      double beta = s % 2 ? 1 : 0;
      wf_ep_kind ek = s % 3 == 0 ? WF_EP_BIAS_ACT : s % 3 == 1 ? WF_EP_NONE : WF_EP_TIMES_DERIV;
      double *narrow = product_at_width(32, th, ta, tb, m, n, k, beta, ek);
      double *wide = product_at_width(64, 3 - th, ta, tb, m, n, k, beta, ek);
      CHECK(same(narrow, wide, (size_t)m * n),
            "gemm %d x %d x %d ta %d tb %d: 256-bit (%d threads) and 512-bit "
            "(%d) kernels differ", m, n, k, ta, tb, th, 3 - th);
      ou_reset(&D);
    }
  threads(1);
  kernel_width(0);
}

/* ---- bias, column sums, level 1 ------------------------------------------ */
static void bias_col_sum_axpy_and_scal_match_their_formulas(void) {
  const wf_backend *be = D.be;
  static const int shapes[][2] = {{1, 1}, {7, 3}, {300, 200}, {2, 40000}};
  for (int s = 0; s < 4; s++) {
    int m = shapes[s][0], n = shapes[s][1];
    size_t mn = (size_t)m * n;
    double *hz = ou_rnorm(&D, mn, 1), *hb = ou_rnorm(&D, (size_t)n, 1);
    double *ho = ou_rnorm(&D, (size_t)n, 1);
    ou_round(hz, mn);
    ou_round(hb, (size_t)n);
    ou_round(ho, (size_t)n);
    double *r1[2], *r2[2];
    for (int th = 1; th <= 2; th++) {
      threads(th);
      wf_real *z = ou_up(&D, hz, mn), *out = ou_up(&D, ho, (size_t)n);
      be->col_sum(D.ctx, z, m, n, out);
      r2[th - 1] = ou_down(&D, out, (size_t)n);
      be->add_bias(D.ctx, z, ou_up(&D, hb, (size_t)n), m, n);
      r1[th - 1] = ou_down(&D, z, mn);
    }
    threads(1);
    int bad = 0;
    for (size_t i = 0; i < mn; i++) {
      double ref = hz[i] + hb[i % n];
      bad += !(fabs(r1[0][i] - ref) <= EPS * fabs(ref));
    }
    CHECK(bad == 0, "add_bias %d x %d: %d wrong", m, n, bad);
    bad = 0;
    for (int j = 0; j < n; j++) {
      double ref = ho[j], mag = fabs(ho[j]);
      for (int i = 0; i < m; i++) {
        ref += hz[(size_t)i * n + j];
        mag += fabs(hz[(size_t)i * n + j]);
      }
      bad += !(fabs(r2[0][j] - ref) <= (m + 1) * EPS * mag);
    }
    CHECK(bad == 0, "col_sum %d x %d: %d wrong", m, n, bad);
    CHECK(same(r1[0], r1[1], mn) && same(r2[0], r2[1], (size_t)n),
          "add_bias / col_sum %d x %d: 1 and 2 threads differ", m, n);
    ou_reset(&D);
  }

  size_t n = 5003;
  double *hx = ou_rnorm(&D, n, 1), *hy = ou_rnorm(&D, n, 1);
  ou_round(hx, n);
  ou_round(hy, n);
  wf_real *x = ou_up(&D, hx, n), *y = ou_up(&D, hy, n);
  double alpha = (wf_real)-0.3;
  be->axpy(D.ctx, n, (wf_real)alpha, x, y);
  double *gy = ou_down(&D, y, n);
  int bad = 0;
  for (size_t i = 0; i < n; i++) {
    double ref = hy[i] + alpha * hx[i];
    bad += !(fabs(gy[i] - ref) <= 2 * EPS * (fabs(hy[i]) + fabs(alpha * hx[i])));
  }
  CHECK(bad == 0, "axpy: %d wrong", bad);
  be->scal(D.ctx, n, (wf_real)alpha, x);
  double *gx = ou_down(&D, x, n);
  bad = 0;
  for (size_t i = 0; i < n; i++)
    bad += gx[i] != (double)(wf_real)(alpha * hx[i]);
  CHECK(bad == 0, "scal: %d wrong", bad);
  ou_reset(&D);
}

int main(void) {
  ops_open();
  gemm_matches_the_naive_product_with_every_epilogue();
  gemm_kernel_widths_give_the_same_bits();
  bias_col_sum_axpy_and_scal_match_their_formulas();
  return ops_finish("gemm");
}
