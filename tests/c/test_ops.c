/* test_ops.c — every op of the CPU backend, through its table only, against
 * naive double-precision references written here: exact formulas where the
 * backend's arithmetic is pinned (memory, randomness, the MSE and LINEAR
 * gradients, the GP / LP directions of the pre-v2 penalty_dir, row_lerp,
 * gathers, argmin), finite differences of a double reference where the op
 * is a derivative, and thread-count invariance (1 vs 2 threads) on inputs
 * long enough to be split.
 *
 * Needs only a C compiler (no R); from the package root, with CPU the
 * sources of src/cpu (activation backend gemm loss memory norm ops optim
 * random rows, .c each):
 *   gcc -std=gnu11 -O2 -Wall -Wextra -fopenmp [-DWF_DOUBLE] -Isrc/core \
 *       -Isrc/cpu tests/c/test_ops.c $CPU src/core/status.c -lm
 */
#include <float.h>
#include <limits.h>
#include <string.h>

#include "backend.h"
#include "ops_util.h"
#include "philox.h"
#include "simd.h"
#include "test_util.h"

#ifdef WF_DOUBLE
#define EPS DBL_EPSILON
#define FD_TOL 1e-7   /* elementwise derivatives vs finite differences */
#define NORM_TOL 1e-7 /* normalisation passes vs finite differences */
#define OPT_TOL 1e-12 /* optimisers vs their formulas */
#else
#define EPS ((double)FLT_EPSILON)
#define FD_TOL 2e-5
#define NORM_TOL 1e-4
#define OPT_TOL 1e-5
#endif
#define NORM_EPS 1e-5 /* the eps inside LayerNorm / BatchNorm */

static ou_dev D; /* the CPU table and one context */

#ifdef WF_DOUBLE
#define WF_SQRT_T sqrt
#else
#define WF_SQRT_T sqrtf
#endif

/* ---- helpers ------------------------------------------------------------ */
/* max |got - ref| / max |ref|: an error relative to the array's scale */
static double scaled_err(const double *got, const double *ref, size_t n) {
  double e = 0, s = 0;
  for (size_t i = 0; i < n; i++) {
    double d = fabs(got[i] - ref[i]);
    if (!(d <= e)) e = d; /* NaN propagates */
    if (fabs(ref[i]) > s) s = fabs(ref[i]);
  }
  return s > 0 ? e / s : e;
}

/* bitwise equal (thread invariance, exact formulas) */
static int same(const double *a, const double *b, size_t n) {
  return memcmp(a, b, n * sizeof(double)) == 0;
}
static int same_int(const int *a, const int *b, size_t n) {
  return memcmp(a, b, n * sizeof(int)) == 0;
}

static int threads(int t) { return D.be->knob(D.ctx, "threads", t); }

/* f(x) where x is a vector the closure also sees */
typedef double (*scalar_fn)(void *closure);
/* central differences of f w.r.t. x[n] (restored after) into grad[n] */
static void fd_grad(scalar_fn f, void *closure, double *x, size_t n, double h,
                    double *grad) {
  for (size_t i = 0; i < n; i++) {
    double xi = x[i];
    x[i] = xi + h;
    double fp = f(closure);
    x[i] = xi - h;
    double fm = f(closure);
    x[i] = xi;
    grad[i] = (fp - fm) / (2 * h);
  }
}

/* ---- the table, the context, memory ------------------------------------- */
static void test_table(void) {
  const wf_backend *be = D.be;
  char msg[WF_MSG_LEN];
  CHECK(wf_backend_check(be, msg) == WF_OK, "backend check: %s", msg);
  CHECK(be->api_version == WF_BACKEND_API && be->real_size == sizeof(wf_real),
        "api version and real size");
  CHECK(strcmp(be->name, "cpu") == 0, "name '%s'", be->name);
#define SLOT(f) CHECK(be->f != NULL, "table slot " #f " is empty")
  SLOT(ctx_create); SLOT(ctx_free); SLOT(knob); SLOT(synchronize);
  SLOT(last_error); SLOT(alloc); SLOT(release); SLOT(upload); SLOT(download);
  SLOT(upload_int); SLOT(download_int); SLOT(copy); SLOT(fill);
  SLOT(zero_scalars); SLOT(write_scalars); SLOT(read_scalars); SLOT(gemm);
  SLOT(add_bias);
  SLOT(col_sum); SLOT(axpy); SLOT(scal); SLOT(act_forward); SLOT(act_backward);
  SLOT(act_second); SLOT(ln_forward); SLOT(ln_backward); SLOT(ln_jvp);
  SLOT(ln_double); SLOT(bn_forward); SLOT(bn_backward); SLOT(adam);
  SLOT(rmsprop); SLOT(sgd); SLOT(clamp); SLOT(uniform); SLOT(normal);
  SLOT(random_index); SLOT(loss); SLOT(row_norm_loss); SLOT(row_sq_norm);
  SLOT(row_sq_dist); SLOT(row_scale); SLOT(row_lerp); SLOT(gather_rows);
  SLOT(row_argmin); SLOT(softmax_xent); SLOT(ot_assign); SLOT(index_count);
  SLOT(copy_ints_at);
  SLOT(transpose_rows); SLOT(im2col); SLOT(col2im);
#undef SLOT
  /* the CPU runs every op as it is called: no graphs */
  CHECK(be->graph.begin == NULL && be->graph.end == NULL &&
            be->graph.launch == NULL && be->graph.free == NULL,
        "the CPU table has no graph ops");

  /* knobs: "threads" >= 1 sets, < 0 queries, 0 sets 1; others unknown */
  wf_ctx *c = NULL;
  CHECK(be->ctx_create(&c, msg) == WF_OK && c != NULL, "ctx_create: %s", msg);
  CHECK(be->knob(c, "threads", -1) == 1, "one thread by default");
  CHECK(be->knob(c, "threads", 3) == 1, "set returns the previous count");
  CHECK(be->knob(c, "threads", -1) == 3, "the count was set");
  CHECK(be->knob(c, "threads", 0) == 3 && be->knob(c, "threads", -1) == 1,
        "0 threads means 1");
  CHECK(be->knob(c, "tf32", 1) == -1 && be->knob(c, "no such", -1) == -1,
        "unknown knobs answer -1");
  /* "simd_bytes": the width ot_assign uses, capped by the knob */
  int widest = be->knob(c, "simd_bytes", -1);
  CHECK(widest == 16 || widest == 32 || widest == 64, "simd_bytes %d", widest);
  CHECK(be->knob(c, "simd_bytes", 16) == widest && be->knob(c, "simd_bytes", 0) == 16 &&
            be->knob(c, "simd_bytes", -1) == widest,
        "simd_bytes caps and uncaps the width");
  /* "isa": the code path taken, within the build's cap (simd.h), and the
   * same width ot_assign takes */
  int isa = be->knob(c, "isa", -1);
  CHECK(isa >= 0 && isa <= WF_ISA_MAX, "isa %d, cap %d", isa, WF_ISA_MAX);
#if defined(__x86_64__) && defined(__GNUC__) && !defined(WF_NO_CLONES)
  CHECK(widest <= 16 << isa, "isa %d but ot_assign takes %d bytes", isa, widest);
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))
    CHECK(isa >= (WF_ISA_MAX < 1 ? WF_ISA_MAX : 1), "an AVX2 machine reports isa %d", isa);
#endif
  strcpy(msg, "junk");
  CHECK(be->synchronize(c, msg) == WF_OK && msg[0] == '\0', "synchronize");
  strcpy(msg, "junk");
  CHECK(be->last_error(c, msg) == WF_OK && msg[0] == '\0', "last_error");
  be->ctx_free(c);
  be->ctx_free(NULL);
}

static void test_memory(void) {
  const wf_backend *be = D.be;
  /* small, and large enough to be split among threads */
  size_t sizes[2] = {1001, 100003};
  double *h = NULL;
  for (int th = 1; th <= 2; th++) {
    threads(th);
    for (int s = 0; s < 2; s++) {
      size_t n = sizes[s];
      h = ou_rnorm(&D, n, 3);
      wf_real *x = ou_up(&D, h, n);
      double *back = ou_down(&D, x, n);
      int ok = 1;
      for (size_t i = 0; i < n; i++) ok &= back[i] == (double)(wf_real)h[i];
      CHECK(ok, "upload / download round to wf_real (n %zu, %d threads)", n, th);
    }
  }
  threads(1);
  size_t n = 1001;
  h = ou_rnorm(&D, n, 3);
  wf_real *x = ou_up(&D, h, n);
  double *back = ou_down(&D, x, n);

  void *empty = be->alloc(D.ctx, 0);
  CHECK(empty != NULL, "alloc(0) is not NULL");
  CHECK(be->upload(D.ctx, empty, h, 0) == WF_OK, "upload of nothing");
  be->release(D.ctx, empty);
  be->release(D.ctx, NULL);

  int hi[7] = {0, -1, 5, INT_MAX, INT_MIN, 42, 7};
  int *di = ou_up_int(&D, hi, 7);
  CHECK(same_int(ou_down_int(&D, di, 7), hi, 7), "int round trip");

  wf_real *y = ou_up(&D, NULL, n);
  be->copy(D.ctx, y, x, n);
  CHECK(same(ou_down(&D, y, n), back, n), "copy");
  be->copy(D.ctx, y, y, n);
  CHECK(same(ou_down(&D, y, n), back, n), "copy onto itself");
  be->fill(D.ctx, y, n, (wf_real)-2.5);
  double *f = ou_down(&D, y, n);
  int ok = 1;
  for (size_t i = 0; i < n; i++) ok &= f[i] == -2.5;
  CHECK(ok, "fill");

  /* slots: zeroed, then five distinct values read back in one call */
  double *slots = ou_alloc(&D, 5 * sizeof(double));
  be->zero_scalars(D.ctx, slots, 5);
  double got[5];
  CHECK(be->read_scalars(D.ctx, got, slots, 5) == WF_OK, "read_scalars");
  CHECK(got[0] == 0 && got[4] == 0, "zero_scalars");
  wf_real *one = ou_up(&D, (double[]){1.0}, 1);
  for (int s = 0; s < 5; s++) {
    wf_loss_spec ls = {.kind = WF_LOSS_LINEAR, .scale = s + 0.5, .target = 1};
    be->loss(D.ctx, &ls, one, NULL, 1, NULL, slots + s);
  }
  be->read_scalars(D.ctx, got, slots, 5);
  CHECK(got[0] == 0.5 && got[2] == 2.5 && got[4] == 4.5, "five slots read");

  /* write_scalars: a round trip of every bit (counters up to 2^53, -0,
   * infinities, NaN), in part of the slots only */
  double w[5] = {9007199254740991.0, -0.0, INFINITY, NAN, 1.0 / 3};
  CHECK(be->write_scalars(D.ctx, slots, w, 5) == WF_OK, "write_scalars");
  double back5[5];
  be->read_scalars(D.ctx, back5, slots, 5);
  CHECK(memcmp(back5, w, sizeof(w)) == 0, "write_scalars / read_scalars round trip");
  CHECK(be->write_scalars(D.ctx, slots + 1, (double[]){42}, 1) == WF_OK &&
            be->write_scalars(D.ctx, slots, w, 0) == WF_OK,
        "write_scalars of one and of none");
  be->read_scalars(D.ctx, back5, slots, 5);
  CHECK(back5[0] == w[0] && back5[1] == 42 && back5[2] == INFINITY,
        "write_scalars writes only its slots");
  ou_reset(&D);
}

/* ---- gemm --------------------------------------------------------------- */
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

static void test_gemm(void) {
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
  for (int th = 1; th <= 2; th++) {
    threads(th);
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
}

/* ---- bias, column sums, level 1 ------------------------------------------ */
static void test_level1(void) {
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

/* ---- activations ------------------------------------------------------- */
#define SLOPE 0.2
static double act_ref(wf_activation act, double u) {
  switch (act) {
  case WF_ACT_RELU: return u > 0 ? u : 0;
  case WF_ACT_LEAKY_RELU: return u > 0 ? u : (double)(wf_real)SLOPE * u;
  case WF_ACT_TANH: return tanh(u);
  case WF_ACT_SOFTPLUS: return u > 20 ? u : log1p(exp(u));
  case WF_ACT_ELU: return u > 0 ? u : exp(u) - 1;
  case WF_ACT_SIGMOID: return 1 / (1 + exp(-u));
  default: return u;
  }
}
static double act_d1(wf_activation act, double u) {
  double h = 1e-5;
  return (act_ref(act, u + h) - act_ref(act, u - h)) / (2 * h);
}
static double act_d2(wf_activation act, double u) {
  double h = 1e-4;
  return (act_ref(act, u + h) - 2 * act_ref(act, u) + act_ref(act, u - h)) /
         (h * h);
}

static void test_activations(void) {
  const wf_backend *be = D.be;
  size_t n = 2000;
  for (int a = 0; a < WF_ACT_COUNT; a++) {
    wf_activation act = (wf_activation)a;
    /* away from the kinks at 0 and at softplus's threshold 20 */
    double *hu = ou_vec(&D, n);
    for (size_t i = 0; i < n; i++) {
      double v;
      do {
        v = i % 10 == 0 ? 21 + 9 * ou_unif(&D) : (i % 10 == 1 ? -30 * ou_unif(&D) : -4 + 8 * ou_unif(&D));
        v = (wf_real)v;
      } while (fabs(v) < 1e-3);
      hu[i] = v;
    }
    double *hg = ou_rnorm(&D, n, 1), *hh = ou_rnorm(&D, n, 1);
    double *hgb = ou_rnorm(&D, n, 1), *hd = ou_rnorm(&D, n, 1);
    ou_round(hg, n);
    ou_round(hh, n);
    ou_round(hgb, n);
    ou_round(hd, n);
    wf_real *u = ou_up(&D, hu, n), *out = ou_up(&D, NULL, n);
    wf_real *g = ou_up(&D, hg, n), *hbar = ou_up(&D, hh, n);
    wf_real *gbar = ou_up(&D, hgb, n), *udot = ou_up(&D, hd, n);

    be->act_forward(D.ctx, act, SLOPE, u, out, n);
    double *f = ou_down(&D, out, n);
    int bad = 0;
    for (size_t i = 0; i < n; i++) {
      double ref = act_ref(act, hu[i]);
      bad += !(fabs(f[i] - ref) <= 8 * EPS * (fabs(ref) + 1));
    }
    CHECK(bad == 0, "act_forward %d: %d wrong", a, bad);

    be->act_backward(D.ctx, act, SLOPE, u, g, out, n);
    double *b = ou_down(&D, out, n);
    bad = 0;
    for (size_t i = 0; i < n; i++) {
      double ref = hg[i] * act_d1(act, hu[i]);
      bad += !(fabs(b[i] - ref) <= FD_TOL * (fabs(ref) + fabs(hg[i])));
    }
    CHECK(bad == 0, "act_backward %d vs finite differences: %d wrong", a, bad);
    wf_real *g2 = ou_up(&D, hg, n);
    be->act_backward(D.ctx, act, SLOPE, u, g2, g2, n); /* out aliases g */
    CHECK(same(ou_down(&D, g2, n), b, n), "act_backward %d in place", a);

    int flat = act == WF_ACT_IDENTITY || act == WF_ACT_RELU ||
               act == WF_ACT_LEAKY_RELU;
    for (int with_h = 0; with_h < 2; with_h++) {
      /* flat activations read neither gbar nor udot: pass NULL */
      be->act_second(D.ctx, act, SLOPE, u, with_h ? hbar : NULL,
                     flat ? NULL : gbar, flat ? NULL : udot, out, n);
      double *s2 = ou_down(&D, out, n);
      bad = 0;
      for (size_t i = 0; i < n; i++) {
        double ref = 0, mag = 0;
        if (with_h) {
          ref += hh[i] * act_d1(act, hu[i]);
          mag += fabs(hh[i]);
        }
        if (!flat) {
          ref += hgb[i] * hd[i] * act_d2(act, hu[i]);
          mag += fabs(hgb[i] * hd[i]);
        }
        bad += !(fabs(s2[i] - ref) <= 10 * FD_TOL * (fabs(ref) + mag) + DBL_MIN);
      }
      CHECK(bad == 0, "act_second %d (hbar %s) vs finite differences: %d wrong",
            a, with_h ? "set" : "NULL", bad);
    }
    ou_reset(&D);
  }

  /* the kink at 0: relu' = 0, leaky' = slope, elu' = 1 (torch) */
  double z[2] = {0, 0}, one[2] = {1, -2};
  wf_real *u = ou_up(&D, z, 2), *g = ou_up(&D, one, 2), *out = ou_up(&D, NULL, 2);
  be->act_backward(D.ctx, WF_ACT_RELU, SLOPE, u, g, out, 2);
  double *r = ou_down(&D, out, 2);
  CHECK(r[0] == 0 && r[1] == 0, "relu'(0) = 0");
  be->act_backward(D.ctx, WF_ACT_LEAKY_RELU, SLOPE, u, g, out, 2);
  r = ou_down(&D, out, 2);
  CHECK(r[0] == (wf_real)SLOPE && r[1] == -2 * (double)(wf_real)SLOPE,
        "leaky_relu'(0) = slope");
  be->act_backward(D.ctx, WF_ACT_ELU, SLOPE, u, g, out, 2);
  r = ou_down(&D, out, 2);
  CHECK(r[0] == 1 && r[1] == -2, "elu'(0) = 1");
  ou_reset(&D);

  /* long inputs: 1 and 2 threads agree bit for bit */
  n = 40000;
  double *hu = ou_rnorm(&D, n, 2), *hg = ou_rnorm(&D, n, 1);
  for (int a = 0; a < WF_ACT_COUNT; a++) {
    double *res[2][3];
    for (int th = 1; th <= 2; th++) {
      threads(th);
      wf_real *du = ou_up(&D, hu, n), *dg = ou_up(&D, hg, n);
      wf_real *o = ou_up(&D, NULL, n);
      be->act_forward(D.ctx, (wf_activation)a, SLOPE, du, o, n);
      res[th - 1][0] = ou_down(&D, o, n);
      be->act_backward(D.ctx, (wf_activation)a, SLOPE, du, dg, o, n);
      res[th - 1][1] = ou_down(&D, o, n);
      be->act_second(D.ctx, (wf_activation)a, SLOPE, du, dg, dg, du, o, n);
      res[th - 1][2] = ou_down(&D, o, n);
    }
    threads(1);
    CHECK(same(res[0][0], res[1][0], n) && same(res[0][1], res[1][1], n) &&
              same(res[0][2], res[1][2], n),
          "activation %d: 1 and 2 threads differ", a);
  }
  ou_reset(&D);
}

/* ---- LayerNorm ------------------------------------------------------------ */
typedef struct {
  int m, n;
  double *a, *gamma, *beta, *nbar, *ndbar, *adot; /* nbar may be NULL */
} ln_case;

/* out, xhat [m x n] and rstd [m] of a [m x n] in double */
static void ln_ref(const ln_case *c, double *out, double *xhat, double *rstd) {
  int n = c->n;
  for (int i = 0; i < c->m; i++) {
    const double *ai = c->a + (size_t)i * n;
    double mean = 0, var = 0;
    for (int j = 0; j < n; j++) mean += ai[j];
    mean /= n;
    for (int j = 0; j < n; j++) var += (ai[j] - mean) * (ai[j] - mean);
    var /= n;
    double r = 1 / sqrt(var + NORM_EPS);
    rstd[i] = r;
    for (int j = 0; j < n; j++) {
      size_t o = (size_t)i * n + j;
      xhat[o] = (ai[j] - mean) * r;
      out[o] = c->gamma[j] * xhat[o] + c->beta[j];
    }
  }
}

/* xhat_dot [m x n] = J adot, from the double forward */
static void ln_jvp_ref(const ln_case *c, const double *xhat, const double *rstd,
                       double *xd) {
  int n = c->n;
  for (int i = 0; i < c->m; i++) {
    const double *di = c->adot + (size_t)i * n, *xi = xhat + (size_t)i * n;
    double md = 0, s = 0;
    for (int j = 0; j < n; j++) {
      md += di[j];
      s += di[j] * xi[j];
    }
    md /= n;
    s /= n;
    for (int j = 0; j < n; j++)
      xd[(size_t)i * n + j] = rstd[i] * (di[j] - md - xi[j] * s);
  }
}

/* sum nbar * out + sum ndbar * out_dot (terms of NULL weights left out) */
static double ln_objective(void *closure) {
  const ln_case *c = closure;
  size_t mn = (size_t)c->m * c->n;
  double *out = malloc(sizeof(double) * mn), *xhat = malloc(sizeof(double) * mn);
  double *xd = malloc(sizeof(double) * mn), *rstd = malloc(sizeof(double) * c->m);
  ln_ref(c, out, xhat, rstd);
  double f = 0;
  if (c->nbar != NULL)
    for (size_t k = 0; k < mn; k++) f += c->nbar[k] * out[k];
  if (c->ndbar != NULL) {
    ln_jvp_ref(c, xhat, rstd, xd);
    for (size_t k = 0; k < mn; k++) f += c->ndbar[k] * c->gamma[k % c->n] * xd[k];
  }
  free(out);
  free(xhat);
  free(xd);
  free(rstd);
  return f;
}

static void test_layernorm(void) {
  const wf_backend *be = D.be;
  static const int shapes[][2] = {{4, 1}, {3, 5}, {4, 37}};
  for (int s = 0; s < 3; s++) {
    int m = shapes[s][0], n = shapes[s][1];
    size_t mn = (size_t)m * n;
    ln_case c = {m, n, ou_rnorm(&D, mn, 2), ou_runif(&D, (size_t)n, 0.5, 1.5),
                 ou_rnorm(&D, (size_t)n, 1), ou_rnorm(&D, mn, 1),
                 ou_rnorm(&D, mn, 1), ou_rnorm(&D, mn, 1)};
    for (size_t k = 0; k < mn; k++) c.a[k] += (double)(k / n); /* row shifts */
    ou_round(c.a, mn);
    ou_round(c.gamma, (size_t)n);
    ou_round(c.beta, (size_t)n);
    ou_round(c.nbar, mn);
    ou_round(c.ndbar, mn);
    ou_round(c.adot, mn);
    double *rout = ou_vec(&D, mn), *rxhat = ou_vec(&D, mn);
    double *rrstd = ou_vec(&D, (size_t)m), *rxd = ou_vec(&D, mn);
    ln_ref(&c, rout, rxhat, rrstd);
    ln_jvp_ref(&c, rxhat, rrstd, rxd);

    wf_real *a = ou_up(&D, c.a, mn), *gamma = ou_up(&D, c.gamma, (size_t)n);
    wf_real *beta = ou_up(&D, c.beta, (size_t)n), *out = ou_up(&D, NULL, mn);
    wf_real *xhat = ou_up(&D, NULL, mn), *rstd = ou_up(&D, NULL, (size_t)m);
    be->ln_forward(D.ctx, a, m, n, gamma, beta, out, xhat, rstd);
    CHECK(scaled_err(ou_down(&D, out, mn), rout, mn) < NORM_TOL &&
              scaled_err(ou_down(&D, xhat, mn), rxhat, mn) < NORM_TOL &&
              scaled_err(ou_down(&D, rstd, (size_t)m), rrstd, (size_t)m) <
                  NORM_TOL,
          "ln_forward %d x %d", m, n);

    /* backward: abar = d/da sum(nbar * out); dgamma, dbeta accumulate */
    double *fa = ou_vec(&D, mn), *fg = ou_vec(&D, (size_t)n);
    double *fb = ou_vec(&D, (size_t)n), *pre = ou_rnorm(&D, (size_t)n, 1);
    ou_round(pre, (size_t)n);
    double *saved = c.ndbar;
    c.ndbar = NULL;
    fd_grad(ln_objective, &c, c.a, mn, 1e-5, fa);
    fd_grad(ln_objective, &c, c.gamma, (size_t)n, 1e-5, fg);
    fd_grad(ln_objective, &c, c.beta, (size_t)n, 1e-5, fb);
    c.ndbar = saved;
    wf_real *nbar = ou_up(&D, c.nbar, mn), *abar = ou_up(&D, NULL, mn);
    wf_real *dg = ou_up(&D, pre, (size_t)n), *db = ou_up(&D, pre, (size_t)n);
    be->ln_backward(D.ctx, nbar, xhat, rstd, gamma, m, n, abar, dg, db);
    double *ga = ou_down(&D, abar, mn), *gg = ou_down(&D, dg, (size_t)n);
    double *gb = ou_down(&D, db, (size_t)n);
    for (int j = 0; j < n; j++) {
      gg[j] -= pre[j];
      gb[j] -= pre[j];
    }
    CHECK(scaled_err(ga, fa, mn) < NORM_TOL, "ln_backward abar %d x %d: %g", m,
          n, scaled_err(ga, fa, mn));
    CHECK(scaled_err(gg, fg, (size_t)n) < NORM_TOL &&
              scaled_err(gb, fb, (size_t)n) < NORM_TOL,
          "ln_backward dgamma / dbeta %d x %d", m, n);
    wf_real *abar2 = ou_up(&D, NULL, mn);
    be->ln_backward(D.ctx, nbar, xhat, rstd, gamma, m, n, abar2, NULL, NULL);
    CHECK(same(ou_down(&D, abar2, mn), ga, mn), "ln_backward without dgamma");

    /* jvp: xhat_dot = J adot, out_dot = gamma xhat_dot */
    wf_real *adot = ou_up(&D, c.adot, mn), *xd = ou_up(&D, NULL, mn);
    wf_real *od = ou_up(&D, NULL, mn);
    be->ln_jvp(D.ctx, adot, xhat, rstd, gamma, m, n, xd, od);
    double *fxd = ou_vec(&D, mn), *fod = ou_vec(&D, mn);
    {
      double h = 1e-5, *ap = ou_vec(&D, mn), *am = ou_vec(&D, mn);
      double *o1 = ou_vec(&D, mn), *x1 = ou_vec(&D, mn), *o2 = ou_vec(&D, mn);
      double *x2 = ou_vec(&D, mn), *r1 = ou_vec(&D, (size_t)m);
      for (size_t k = 0; k < mn; k++) {
        ap[k] = c.a[k] + h * c.adot[k];
        am[k] = c.a[k] - h * c.adot[k];
      }
      ln_case cp = c, cm = c;
      cp.a = ap;
      cm.a = am;
      ln_ref(&cp, o1, x1, r1);
      ln_ref(&cm, o2, x2, r1);
      for (size_t k = 0; k < mn; k++) {
        fxd[k] = (x1[k] - x2[k]) / (2 * h);
        fod[k] = (o1[k] - o2[k]) / (2 * h);
      }
    }
    CHECK(scaled_err(ou_down(&D, xd, mn), fxd, mn) < NORM_TOL &&
              scaled_err(ou_down(&D, od, mn), fod, mn) < NORM_TOL,
          "ln_jvp %d x %d vs finite differences", m, n);

    /* double: the reverse of (out, out_dot), with and without nbar */
    for (int with_nbar = 0; with_nbar < 2; with_nbar++) {
      double *keep = c.nbar;
      if (!with_nbar) c.nbar = NULL;
      fd_grad(ln_objective, &c, c.a, mn, 1e-5, fa);
      fd_grad(ln_objective, &c, c.gamma, (size_t)n, 1e-5, fg);
      fd_grad(ln_objective, &c, c.beta, (size_t)n, 1e-5, fb);
      c.nbar = keep;
      wf_real *ab = ou_up(&D, NULL, mn), *dg2 = ou_up(&D, pre, (size_t)n);
      wf_real *db2 = ou_up(&D, pre, (size_t)n);
      be->ln_double(D.ctx, with_nbar ? nbar : NULL, ou_up(&D, c.ndbar, mn),
                    adot, xhat, xd, rstd, gamma, m, n, ab, dg2, db2);
      double *g1 = ou_down(&D, ab, mn), *g2 = ou_down(&D, dg2, (size_t)n);
      double *g3 = ou_down(&D, db2, (size_t)n);
      for (int j = 0; j < n; j++) {
        g2[j] -= pre[j];
        g3[j] -= pre[j];
      }
      CHECK(scaled_err(g1, fa, mn) < NORM_TOL, "ln_double abar %d x %d nbar %d: %g",
            m, n, with_nbar, scaled_err(g1, fa, mn));
      CHECK(scaled_err(g2, fg, (size_t)n) < NORM_TOL, "ln_double dgamma %d x %d "
            "nbar %d: %g", m, n, with_nbar, scaled_err(g2, fg, (size_t)n));
      if (with_nbar)
        CHECK(scaled_err(g3, fb, (size_t)n) < NORM_TOL, "ln_double dbeta");
      else
        CHECK(scaled_err(g3, fb, (size_t)n) == 0, "ln_double leaves dbeta "
              "alone without nbar");
    }
    ou_reset(&D);
  }
}

/* ---- BatchNorm ------------------------------------------------------------ */
typedef struct {
  int m, n, train;
  double momentum;
  double *a, *gamma, *beta, *rm, *rv, *nbar;
} bn_case;

/* out, xhat [m x n]; rstd, new running stats [n] */
static void bn_ref(const bn_case *c, double *out, double *xhat, double *rstd,
                   double *new_rm, double *new_rv) {
  int m = c->m, n = c->n;
  for (int j = 0; j < n; j++) {
    double mean = 0, var = 0;
    if (c->train) {
      for (int i = 0; i < m; i++) mean += c->a[(size_t)i * n + j];
      mean /= m;
      for (int i = 0; i < m; i++) {
        double e = c->a[(size_t)i * n + j] - mean;
        var += e * e;
      }
      var /= m;
      if (new_rm != NULL) {
        new_rm[j] = (1 - c->momentum) * c->rm[j] + c->momentum * mean;
        new_rv[j] = (1 - c->momentum) * c->rv[j] + c->momentum * var * m / (m - 1);
      }
    } else {
      mean = c->rm[j];
      var = c->rv[j];
    }
    double r = 1 / sqrt(var + NORM_EPS);
    rstd[j] = r;
    for (int i = 0; i < m; i++) {
      size_t o = (size_t)i * n + j;
      xhat[o] = (c->a[o] - mean) * r;
      out[o] = c->gamma[j] * xhat[o] + c->beta[j];
    }
  }
}

static double bn_objective(void *closure) {
  const bn_case *c = closure;
  size_t mn = (size_t)c->m * c->n;
  double *out = malloc(sizeof(double) * mn), *xhat = malloc(sizeof(double) * mn);
  double *rstd = malloc(sizeof(double) * c->n);
  bn_ref(c, out, xhat, rstd, NULL, NULL);
  double f = 0;
  for (size_t k = 0; k < mn; k++) f += c->nbar[k] * out[k];
  free(out);
  free(xhat);
  free(rstd);
  return f;
}

static void test_batchnorm(void) {
  const wf_backend *be = D.be;
  /* m >= 3: with two rows xhat is +-1 and abar all but vanishes */
  static const int shapes[][2] = {{3, 1}, {6, 4}, {33, 3}};
  for (int s = 0; s < 3; s++)
    for (int train = 0; train < 2; train++) {
      int m = shapes[s][0], n = shapes[s][1];
      size_t mn = (size_t)m * n;
      bn_case c = {m, n, train, 0.1, ou_rnorm(&D, mn, 2),
                   ou_runif(&D, (size_t)n, 0.5, 1.5), ou_rnorm(&D, (size_t)n, 1),
                   ou_rnorm(&D, (size_t)n, 0.3), ou_runif(&D, (size_t)n, 0.5, 2),
                   ou_rnorm(&D, mn, 1)};
      for (size_t k = 0; k < mn; k++) c.a[k] += (double)(k % n); /* column shifts */
      ou_round(c.a, mn);
      ou_round(c.gamma, (size_t)n);
      ou_round(c.beta, (size_t)n);
      ou_round(c.rm, (size_t)n);
      ou_round(c.rv, (size_t)n);
      ou_round(c.nbar, mn);
      double *rout = ou_vec(&D, mn), *rxhat = ou_vec(&D, mn);
      double *rrstd = ou_vec(&D, (size_t)n), *rrm = ou_vec(&D, (size_t)n);
      double *rrv = ou_vec(&D, (size_t)n);
      bn_ref(&c, rout, rxhat, rrstd, rrm, rrv);

      wf_real *gamma = ou_up(&D, c.gamma, (size_t)n);
      wf_real *rm = ou_up(&D, c.rm, (size_t)n), *rv = ou_up(&D, c.rv, (size_t)n);
      wf_real *out = ou_up(&D, NULL, mn), *xhat = ou_up(&D, NULL, mn);
      wf_real *rstd = ou_up(&D, NULL, (size_t)n);
      be->bn_forward(D.ctx, ou_up(&D, c.a, mn), m, n, gamma,
                     ou_up(&D, c.beta, (size_t)n), rm, rv, train, c.momentum,
                     out, xhat, rstd);
      CHECK(scaled_err(ou_down(&D, out, mn), rout, mn) < NORM_TOL &&
                scaled_err(ou_down(&D, xhat, mn), rxhat, mn) < NORM_TOL &&
                scaled_err(ou_down(&D, rstd, (size_t)n), rrstd, (size_t)n) <
                    NORM_TOL,
            "bn_forward %d x %d train %d", m, n, train);
      double *grm = ou_down(&D, rm, (size_t)n), *grv = ou_down(&D, rv, (size_t)n);
      if (train)
        CHECK(scaled_err(grm, rrm, (size_t)n) < NORM_TOL &&
                  scaled_err(grv, rrv, (size_t)n) < NORM_TOL,
              "bn_forward running statistics %d x %d", m, n);
      else
        CHECK(same(grm, c.rm, (size_t)n) && same(grv, c.rv, (size_t)n),
              "bn_forward eval leaves the running statistics alone");

      double *fa = ou_vec(&D, mn), *fg = ou_vec(&D, (size_t)n);
      double *fb = ou_vec(&D, (size_t)n), *pre = ou_rnorm(&D, (size_t)n, 1);
      ou_round(pre, (size_t)n);
      fd_grad(bn_objective, &c, c.a, mn, 1e-5, fa);
      fd_grad(bn_objective, &c, c.gamma, (size_t)n, 1e-5, fg);
      fd_grad(bn_objective, &c, c.beta, (size_t)n, 1e-5, fb);
      wf_real *abar = ou_up(&D, NULL, mn), *dg = ou_up(&D, pre, (size_t)n);
      wf_real *db = ou_up(&D, pre, (size_t)n), *nbar = ou_up(&D, c.nbar, mn);
      be->bn_backward(D.ctx, nbar, xhat, rstd, gamma, m, n, train, abar, dg, db);
      double *ga = ou_down(&D, abar, mn), *gg = ou_down(&D, dg, (size_t)n);
      double *gb = ou_down(&D, db, (size_t)n);
      for (int j = 0; j < n; j++) {
        gg[j] -= pre[j];
        gb[j] -= pre[j];
      }
      CHECK(scaled_err(ga, fa, mn) < NORM_TOL, "bn_backward abar %d x %d train "
            "%d: %g", m, n, train, scaled_err(ga, fa, mn));
      CHECK(scaled_err(gg, fg, (size_t)n) < NORM_TOL &&
                scaled_err(gb, fb, (size_t)n) < NORM_TOL,
            "bn_backward dgamma / dbeta %d x %d train %d", m, n, train);
      wf_real *abar2 = ou_up(&D, NULL, mn);
      be->bn_backward(D.ctx, nbar, xhat, rstd, gamma, m, n, train, abar2, NULL,
                      NULL);
      CHECK(same(ou_down(&D, abar2, mn), ga, mn), "bn_backward without dgamma");
      ou_reset(&D);
    }
}

/* ---- optimisers (torch.optim arithmetic, as test_core.c's test_optim) ---- */
/* one step of op's optimiser; step: its step slot */
static void optimise(const wf_opt_spec *op, wf_real *p, const wf_real *g,
                     wf_real *m1, wf_real *m2, size_t n, double *step) {
  if (op->kind == WF_OPT_ADAM)
    D.be->adam(D.ctx, p, g, m1, m2, n, op, step);
  else if (op->kind == WF_OPT_RMSPROP)
    D.be->rmsprop(D.ctx, p, g, m2, n, op, step);
  else
    D.be->sgd(D.ctx, p, g, m1, n, op, step);
}

/* One step from a step slot at t0 - 1 steps taken, from given moments:
 * the step is t0 (Adam's bias corrections from t0; SGD's momentum buffer
 * reset only at t0 = 1), and the slot ends at t0. */
static void optimiser_at(const wf_opt_spec *op, int o, double t0) {
  size_t n = 301;
  double *p = ou_rnorm(&D, n, 1), *m1 = ou_rnorm(&D, n, 0.1);
  double *m2 = ou_runif(&D, n, 0.01, 0.2), *g = ou_rnorm(&D, n, 1);
  ou_round(p, n);
  ou_round(m1, n);
  ou_round(m2, n);
  ou_round(g, n);
  wf_real *dp = ou_up(&D, p, n), *dm1 = ou_up(&D, m1, n), *dm2 = ou_up(&D, m2, n);
  double *step = ou_slot_at(&D, t0 - 1);
  optimise(op, dp, ou_up(&D, g, n), dm1, dm2, n, step);
  double *got = ou_down(&D, dp, n);
  const double t = t0;
  for (size_t i = 0; i < n; i++) {
    double gi = g[i] + op->weight_decay * p[i];
    if (op->kind == WF_OPT_ADAM) {
      m1[i] = op->beta1 * m1[i] + (1 - op->beta1) * gi;
      m2[i] = op->beta2 * m2[i] + (1 - op->beta2) * gi * gi;
      double mh = m1[i] / (1 - pow(op->beta1, t));
      double vh = m2[i] / (1 - pow(op->beta2, t));
      p[i] -= op->lr * mh / (sqrt(vh) + op->eps);
    } else if (op->kind == WF_OPT_RMSPROP) {
      m2[i] = op->beta2 * m2[i] + (1 - op->beta2) * gi * gi;
      p[i] -= op->lr * gi / (sqrt(m2[i]) + op->eps);
    } else {
      if (op->momentum != 0) {
        m1[i] = t == 1 ? gi : op->momentum * m1[i] + gi;
        gi = m1[i];
      }
      p[i] -= op->lr * gi;
    }
  }
  CHECK(scaled_err(got, p, n) < OPT_TOL, "optimiser %d from step slot %g: err %g",
        o, t0 - 1, scaled_err(got, p, n));
  CHECK(ou_slot(&D, step, 0) == t0, "optimiser %d: step slot %g after a step "
        "from %g", o, ou_slot(&D, step, 0), t0 - 1);
  ou_reset(&D);
}

static void test_optimisers(void) {
  const wf_backend *be = D.be;
  wf_opt_spec specs[] = {
      {.kind = WF_OPT_ADAM, .lr = 0.01, .beta1 = 0.5, .beta2 = 0.9, .eps = 1e-8,
       .weight_decay = 0.1},
      {.kind = WF_OPT_ADAM, .lr = 1e-3, .beta1 = 0.9, .beta2 = 0.999, .eps = 1e-8},
      {.kind = WF_OPT_RMSPROP, .lr = 0.01, .beta2 = 0.99, .eps = 1e-8},
      {.kind = WF_OPT_RMSPROP, .lr = 0.005, .beta2 = 0.9, .eps = 1e-6,
       .weight_decay = 0.05},
      {.kind = WF_OPT_SGD, .lr = 0.1, .momentum = 0.9, .weight_decay = 0.01},
      {.kind = WF_OPT_SGD, .lr = 0.05}};
  int n_specs = (int)(sizeof(specs) / sizeof(specs[0]));
  for (int o = 0; o < n_specs; o++) {
    const wf_opt_spec *op = &specs[o];
    for (int big = 0; big < 2; big++) {
      size_t n = big ? 40000 : 37;
      double *p = ou_rnorm(&D, n, 1), *m1 = ou_vec(&D, n), *m2 = ou_vec(&D, n);
      double *g = ou_vec(&D, n);
      ou_round(p, n);
      double *res[2], steps[2];
      for (int th = 1; th <= 2; th++) {
        threads(th);
        wf_real *dp = ou_up(&D, p, n), *dm1 = ou_up(&D, NULL, n);
        wf_real *dm2 = ou_up(&D, NULL, n), *dg = ou_up(&D, NULL, n);
        double *step = ou_slots(&D, 1); /* no step taken yet */
        for (int t = 1; t <= 4; t++) {
          for (size_t i = 0; i < n; i++) g[i] = sin(3.0 * i + t);
          be->upload(D.ctx, dg, g, n);
          optimise(op, dp, dg, dm1, dm2, n, step);
        }
        res[th - 1] = ou_down(&D, dp, n);
        steps[th - 1] = ou_slot(&D, step, 0);
      }
      threads(1);
      CHECK(same(res[0], res[1], n), "optimiser %d: 1 and 2 threads differ", o);
      CHECK(steps[0] == 4 && steps[1] == 4, "optimiser %d: four steps leave the "
            "step slot at %g, %g", o, steps[0], steps[1]);
      for (int t = 1; t <= 4; t++)
        for (size_t i = 0; i < n; i++) {
          double gi = (double)(wf_real)sin(3.0 * i + t) + op->weight_decay * p[i];
          if (op->kind == WF_OPT_ADAM) {
            m1[i] = op->beta1 * m1[i] + (1 - op->beta1) * gi;
            m2[i] = op->beta2 * m2[i] + (1 - op->beta2) * gi * gi;
            double mh = m1[i] / (1 - pow(op->beta1, t));
            double vh = m2[i] / (1 - pow(op->beta2, t));
            p[i] -= op->lr * mh / (sqrt(vh) + op->eps);
          } else if (op->kind == WF_OPT_RMSPROP) {
            m2[i] = op->beta2 * m2[i] + (1 - op->beta2) * gi * gi;
            p[i] -= op->lr * gi / (sqrt(m2[i]) + op->eps);
          } else {
            if (op->momentum != 0) {
              m1[i] = t == 1 ? gi : op->momentum * m1[i] + gi;
              gi = m1[i];
            }
            p[i] -= op->lr * gi;
          }
        }
      CHECK(scaled_err(res[0], p, n) < OPT_TOL, "optimiser %d (n %zu): err %g",
            o, n, scaled_err(res[0], p, n));
      ou_reset(&D);
    }
    optimiser_at(op, o, 1);
    optimiser_at(op, o, 42);
    optimiser_at(op, o, 1e6 + 1);
  }
  /* Adam's step at slot t is the formula's exactly: the bias corrections
   * lr / (1 - beta1^t) and sqrt(1 - beta2^t) in double, rounded to wf_real
   * once (cpu/optim.c); with zero moments and g = 1 the first element
   * becomes p - step * (1 - b1) / (sqrt(1 - b2) / bc2 + eps) */
  {
    const wf_opt_spec *op = &specs[1];
    const double t = 42;
    double *step = ou_slot_at(&D, t - 1);
    wf_real *dp = ou_up(&D, (double[]){0.5}, 1), *dm1 = ou_up(&D, NULL, 1);
    wf_real *dm2 = ou_up(&D, NULL, 1), *dg = ou_up(&D, (double[]){1}, 1);
    be->adam(D.ctx, dp, dg, dm1, dm2, 1, op, step);
    wf_real b1 = (wf_real)op->beta1, b2 = (wf_real)op->beta2;
    wf_real st = (wf_real)(op->lr / (1 - pow(op->beta1, t)));
    wf_real bc2 = (wf_real)sqrt(1 - pow(op->beta2, t));
    volatile wf_real m1 = (1 - b1) * (wf_real)1; /* no contraction */
    volatile wf_real m2 = (1 - b2) * (wf_real)1;
    volatile wf_real den = WF_SQRT_T(m2) / bc2 + (wf_real)op->eps;
    volatile wf_real upd = st * m1;
    wf_real want = (wf_real)0.5 - upd / den;
    double got = ou_down(&D, dp, 1)[0];
    CHECK(got == (double)want, "adam at step slot %g: %.17g, formula %.17g",
          t - 1, got, (double)want);
    CHECK(ou_slot(&D, step, 0) == t, "adam: step slot %g", ou_slot(&D, step, 0));
    ou_reset(&D);
  }
  size_t n = 1000;
  double *p = ou_runif(&D, n, -2, 2);
  ou_round(p, n);
  wf_real *dp = ou_up(&D, p, n);
  be->clamp(D.ctx, dp, n, (wf_real)0.5);
  double *got = ou_down(&D, dp, n);
  int bad = 0;
  for (size_t i = 0; i < n; i++)
    bad += got[i] != (p[i] > 0.5 ? 0.5 : (p[i] < -0.5 ? -0.5 : p[i]));
  CHECK(bad == 0, "clamp: %d wrong", bad);
  ou_reset(&D);
}

/* ---- randomness ---------------------------------------------------------- */
static void test_philox(void) {
  /* Random123's known answers for Philox4x32-10 */
  static const uint32_t kat[3][10] = {
      {0, 0, 0, 0, 0, 0, 0x6627e8d5u, 0xe169c58du, 0xbc57ac4cu, 0x9b00dbd8u},
      {0xffffffffu, 0xffffffffu, 0xffffffffu, 0xffffffffu, 0xffffffffu,
       0xffffffffu, 0x408f276du, 0x41c83b0eu, 0xa20bc7c6u, 0x6d5451fdu},
      {0x243f6a88u, 0x85a308d3u, 0x13198a2eu, 0x03707344u, 0xa4093822u,
       0x299f31d0u, 0xd16cfe09u, 0x94fdccebu, 0x5001e420u, 0x24126ea1u}};
  for (int v = 0; v < 3; v++) {
    uint32_t ctr[4] = {kat[v][0], kat[v][1], kat[v][2], kat[v][3]};
    uint32_t key[2] = {kat[v][4], kat[v][5]};
    wf_philox4x32(ctr, key);
    CHECK(ctr[0] == kat[v][6] && ctr[1] == kat[v][7] && ctr[2] == kat[v][8] &&
              ctr[3] == kat[v][9],
          "philox known answer %d: %08x %08x %08x %08x", v, ctr[0], ctr[1],
          ctr[2], ctr[3]);
  }
  /* the backend's first uniforms at key 0, counter 0 are those words */
  const uint32_t key0[2] = {0, 0};
  wf_real *u = ou_up(&D, NULL, 4);
  D.be->uniform(D.ctx, u, 4, key0, ou_slots(&D, 1));
  double *got = ou_down(&D, u, 4);
  int ok = 1;
  for (int q = 0; q < 4; q++)
    ok &= got[q] == (double)(wf_real)(((kat[0][6 + q] >> 8) + 0.5) / 16777216.0);
  CHECK(ok, "uniform at key 0, counter 0 is the known answer");
  ou_reset(&D);
}

/* value i of a draw at (key, counter): word i % 4 of block counter + i / 4 */
static uint32_t word(const uint32_t key[2], uint64_t counter, size_t i) {
  uint32_t r[4];
  wf_philox_block(key, counter + i / 4, r);
  return r[i % 4];
}

/* a counter slot at c (a stream's next block) */
static double *at(uint64_t c) { return ou_slot_at(&D, (double)c); }
static uint64_t counter_of(const double *slot) {
  return (uint64_t)ou_slot(&D, slot, 0);
}

/* what a draw of n does to its counter slot: + ceil(n / 4), for every op
 * and from any counter below 2^53 */
static void test_counter_advance(void) {
  const wf_backend *be = D.be;
  const uint32_t key[2] = {7u, 11u};
  static const size_t ns[] = {1, 2, 3, 4, 5, 8, 1003, 70001};
  static const uint64_t starts[] = {0, 5 + (1ull << 33), (1ull << 53) - 40000};
  for (int c = 0; c < 3; c++)
    for (int k = 0; k < 8; k++) {
      size_t n = ns[k];
      uint64_t c0 = starts[c], want = c0 + (n + 3) / 4;
      wf_real *x = ou_up(&D, NULL, n);
      int *idx = ou_alloc(&D, n * sizeof(int));
      double *cu = at(c0), *cz = at(c0), *ci = at(c0);
      be->uniform(D.ctx, x, n, key, cu);
      be->normal(D.ctx, x, n, key, cz);
      be->random_index(D.ctx, idx, n, 9, key, ci);
      CHECK(counter_of(cu) == want && counter_of(cz) == want &&
                counter_of(ci) == want,
            "a draw of %zu from %llu leaves the counter at %llu (uniform %llu, "
            "normal %llu, random_index %llu)", n, (unsigned long long)c0,
            (unsigned long long)want, (unsigned long long)counter_of(cu),
            (unsigned long long)counter_of(cz), (unsigned long long)counter_of(ci));
      ou_reset(&D);
    }
  /* a draw of nothing leaves it */
  double *c5 = at(5);
  be->uniform(D.ctx, NULL, 0, key, c5);
  be->normal(D.ctx, NULL, 0, key, c5);
  be->random_index(D.ctx, NULL, 0, 3, key, c5);
  CHECK(counter_of(c5) == 5, "draws of 0 values leave the counter");
  ou_reset(&D);

  /* two draws of n / 2 (a multiple of 4) from one slot are one draw of n;
   * for every op, with 1 and 2 threads */
  const size_t n = 80000, h = n / 2;
  for (int th = 1; th <= 2; th++) {
    threads(th);
    wf_real *a = ou_up(&D, NULL, n), *b = ou_up(&D, NULL, n);
    wf_real *za = ou_up(&D, NULL, n), *zb = ou_up(&D, NULL, n);
    int *ia = ou_alloc(&D, n * sizeof(int)), *ib = ou_alloc(&D, n * sizeof(int));
    double *one = at(123), *two = at(123);
    be->uniform(D.ctx, a, n, key, one);
    be->uniform(D.ctx, b, h, key, two);
    be->uniform(D.ctx, b + h, h, key, two);
    CHECK(same(ou_down(&D, a, n), ou_down(&D, b, n), n) &&
              counter_of(one) == counter_of(two),
          "uniform, %d threads: two draws of n/2 are one of n", th);
    be->normal(D.ctx, za, n, key, one);
    be->normal(D.ctx, zb, h, key, two);
    be->normal(D.ctx, zb + h, h, key, two);
    CHECK(same(ou_down(&D, za, n), ou_down(&D, zb, n), n) &&
              counter_of(one) == counter_of(two),
          "normal, %d threads: two draws of n/2 are one of n", th);
    be->random_index(D.ctx, ia, n, 1000, key, one);
    be->random_index(D.ctx, ib, h, 1000, key, two);
    be->random_index(D.ctx, ib + h, h, 1000, key, two);
    CHECK(same_int(ou_down_int(&D, ia, n), ou_down_int(&D, ib, n), n) &&
              counter_of(one) == 123 + 3 * n / 4,
          "random_index, %d threads: two draws of n/2 are one of n", th);
    ou_reset(&D);
  }
  threads(1);
}

static void test_random(void) {
  const wf_backend *be = D.be;
  const uint32_t key[2] = {0x12345678u, 0x9abcdef0u};
  const uint64_t c0 = 5 + (1ull << 33); /* the counter's high word matters */
  size_t n = 1003;

  /* uniform: the exact formula, and a draw split in two is the same stream */
  wf_real *u = ou_up(&D, NULL, n);
  be->uniform(D.ctx, u, n, key, at(c0));
  double *hu = ou_down(&D, u, n);
  int ok = 1;
  for (size_t i = 0; i < n; i++)
    ok &= hu[i] == (double)(wf_real)wf_philox_unit(word(key, c0, i));
  CHECK(ok, "uniform: value i from block counter + i / 4, lane i %% 4");
  wf_real *u2 = ou_up(&D, NULL, n);
  double *cs = at(c0);
  be->uniform(D.ctx, u2, 400, key, cs);
  CHECK(counter_of(cs) == c0 + wf_philox_blocks(400), "uniform advances its counter");
  be->uniform(D.ctx, u2 + 400, n - 400, key, cs);
  CHECK(same(ou_down(&D, u2, n), hu, n), "uniform: a split draw is one stream");
  be->uniform(D.ctx, u2, 6, key, at(c0));
  CHECK(same(ou_down(&D, u2, 6), hu, 6), "uniform: a short draw is a prefix");

  /* normal: Box-Muller on the lane pairs, in double */
  wf_real *z = ou_up(&D, NULL, n);
  be->normal(D.ctx, z, n, key, at(c0));
  double *hz = ou_down(&D, z, n);
  ok = 1;
  for (size_t i = 0; i < n; i++) {
    size_t b = i - i % 2; /* the pair's first value */
    double u0 = ((word(key, c0, b) >> 8) + 0.5) / 16777216.0;
    double u1 = ((word(key, c0, b + 1) >> 8) + 0.5) / 16777216.0;
    double rad = sqrt(-2 * log(u0)), th = 6.283185307179586 * u1;
    ok &= hz[i] == (double)(wf_real)(i % 2 == 0 ? rad * cos(th) : rad * sin(th));
  }
  CHECK(ok, "normal: Box-Muller on each block's pairs");
  wf_real *z2 = ou_up(&D, NULL, n);
  cs = at(c0);
  be->normal(D.ctx, z2, 10, key, cs); /* blocks c0 .. c0 + 2: the next at 12 */
  be->normal(D.ctx, z2 + 12, n - 12, key, cs);
  double *hz2 = ou_down(&D, z2, n);
  CHECK(same(hz2, hz, 10) && same(hz2 + 12, hz + 12, n - 12),
        "normal: a split draw is one stream");
  CHECK(counter_of(cs) == c0 + wf_philox_blocks(n), "normal: the counter at the end");
  ou_reset(&D);

  /* moments, bounds and thread invariance on long draws */
  n = 200000;
  double *res[2][2];
  for (int th = 1; th <= 2; th++) {
    threads(th);
    wf_real *a = ou_up(&D, NULL, n), *b = ou_up(&D, NULL, n);
    be->uniform(D.ctx, a, n, key, at(77));
    be->normal(D.ctx, b, n, key, at(77));
    res[th - 1][0] = ou_down(&D, a, n);
    res[th - 1][1] = ou_down(&D, b, n);
  }
  threads(1);
  CHECK(same(res[0][0], res[1][0], n) && same(res[0][1], res[1][1], n),
        "uniform / normal: 1 and 2 threads differ");
  double s1 = 0, s2 = 0, z1 = 0, z2s = 0, inside = 0;
  double lo = 1, hi = 0;
  for (size_t i = 0; i < n; i++) {
    double x = res[0][0][i], y = res[0][1][i];
    s1 += x;
    s2 += x * x;
    lo = fmin(lo, x);
    hi = fmax(hi, x);
    z1 += y;
    z2s += y * y;
    inside += fabs(y) < 1;
  }
  double mean = s1 / n, var = s2 / n - mean * mean;
  CHECK(fabs(mean - 0.5) < 5 * sqrt(1.0 / 12 / n), "uniform mean %g", mean);
  CHECK(fabs(var - 1.0 / 12) < 5 * sqrt((1.0 / 80 - 1.0 / 144) / n),
        "uniform variance %g", var);
  CHECK(lo > 0 && hi <= 1, "uniform range [%g, %g]", lo, hi);
  double zm = z1 / n, zv = z2s / n - zm * zm, pin = inside / n;
  CHECK(fabs(zm) < 5 / sqrt((double)n) && fabs(zv - 1) < 5 * sqrt(2.0 / n),
        "normal mean %g variance %g", zm, zv);
  CHECK(fabs(pin - 0.682689) < 5 * sqrt(0.2166 / n), "normal P(|z| < 1) = %g",
        pin);
  ou_reset(&D);

  /* random_index: min(bound - 1, (int)(u * bound)), u and the product in
   * wf_real, which is the pre-v2 uniform-then-sample_rows path */
  static const int bounds[] = {1, 2, 3, 7, 1000, (1 << 24) + 1, INT_MAX};
  n = 1003;
  for (int b = 0; b < 7; b++) {
    int bound = bounds[b];
    int *idx = ou_alloc(&D, n * sizeof(int));
    be->random_index(D.ctx, idx, n, bound, key, at(c0));
    int *got = ou_down_int(&D, idx, n);
    wf_real *uu = ou_up(&D, NULL, n);
    be->uniform(D.ctx, uu, n, key, at(c0));
    double *hu2 = ou_down(&D, uu, n);
    int formula = 1, old = 1, range = 1;
    for (size_t i = 0; i < n; i++) {
      wf_real ui = (wf_real)wf_philox_unit(word(key, c0, i));
      wf_real x = ui * bound;
      int k = x < (wf_real)INT_MAX ? (int)x : INT_MAX;
      formula &= got[i] == (k < bound ? k : bound - 1);
      wf_real uo = (wf_real)hu2[i]; /* the old path, from the uniform op */
      int r = (int)(uo * bound);
      if (r >= bound) r = bound - 1;
      old &= bound == INT_MAX || got[i] == r; /* old: UB at INT_MAX */
      range &= got[i] >= 0 && got[i] < bound;
    }
    CHECK(formula && old && range, "random_index bound %d: formula %d old path "
          "%d range %d", bound, formula, old, range);
    ou_reset(&D);
  }
  /* the top uniform, 1 - 2^-25 (word 0xffffff0a), rounds to 1 in float:
   * the index is still bound - 1 there, even for bound = INT_MAX */
  const uint32_t key1[2] = {0x0badcafeu, 0x5eed0001u};
  const uint64_t c1 = 5287575;
  CHECK(word(key1, c1, 0) >> 8 == 0xffffffu, "the top word is where expected");
  wf_real top = (wf_real)wf_philox_unit(word(key1, c1, 0));
  CHECK(sizeof(wf_real) == 8 ? top < 1 : top == 1, "the top uniform %.17g", top);
  for (int b = 0; b < 7; b++) {
    int *idx = ou_alloc(&D, 4 * sizeof(int));
    be->random_index(D.ctx, idx, 4, bounds[b], key1, at(c1));
    int got = ou_down_int(&D, idx, 4)[0];
    int want = top == 1 || bounds[b] < (1 << 24) ? bounds[b] - 1
                                                 : (int)(top * bounds[b]);
    CHECK(got == want, "random_index at the top uniform, bound %d: %d", bounds[b],
          got);
  }
  /* frequencies and thread invariance */
  n = 70000;
  int *r[2];
  for (int th = 1; th <= 2; th++) {
    threads(th);
    int *idx = ou_alloc(&D, n * sizeof(int));
    be->random_index(D.ctx, idx, n, 7, key, at(3));
    r[th - 1] = ou_down_int(&D, idx, n);
  }
  threads(1);
  CHECK(same_int(r[0], r[1], n), "random_index: 1 and 2 threads differ");
  int count[7] = {0};
  for (size_t i = 0; i < n; i++) count[r[0][i]]++;
  ok = 1;
  for (int j = 0; j < 7; j++) ok &= fabs(count[j] - 10000.0) < 5 * sqrt(10000.0 * 6 / 7);
  CHECK(ok, "random_index frequencies %d %d %d %d %d %d %d", count[0], count[1],
        count[2], count[3], count[4], count[5], count[6]);
  ou_reset(&D);
}

/* ---- losses ------------------------------------------------------------------ */
/* one term L(y, t) of a loss kind, in double */
static double loss_term(wf_loss_kind kind, double y, double t) {
  double r = y - t;
  switch (kind) {
  case WF_LOSS_LINEAR: return y * t;
  case WF_LOSS_MSE: return r * r;
  case WF_LOSS_L1: return fabs(r);
  case WF_LOSS_BCE_LOGITS: return fmax(y, 0) - t * y + log1p(exp(-fabs(y)));
  case WF_LOSS_SQ_HINGE: return r > 0 ? r * r : 0;
  case WF_LOSS_EXP: return exp(r);
  default: return 0;
  }
}

static void loss_case(wf_loss_kind kind, size_t n, int with_t, double scale) {
  const wf_backend *be = D.be;
  double target = kind == WF_LOSS_BCE_LOGITS ? 0.75 : 0.3;
  double *hy = ou_vec(&D, n), *ht = ou_vec(&D, n), *tk = ou_vec(&D, n);
  for (size_t k = 0; k < n; k++) {
    ht[k] = kind == WF_LOSS_BCE_LOGITS ? ou_unif(&D) : ou_norm(&D);
    ht[k] = (wf_real)ht[k];
    tk[k] = with_t ? ht[k] : target;
    double y;
    do { /* away from the kink at y = t */
      y = (wf_real)(2 * ou_norm(&D));
      if (kind == WF_LOSS_BCE_LOGITS && k % 50 == 0) y = k % 100 ? 800 : -800;
    } while (fabs(y - (double)(wf_real)tk[k]) < 1e-3);
    hy[k] = y;
  }
  /* the residual kinds take a NULL t as the target rounded to wf_real */
  int residual = kind == WF_LOSS_MSE || kind == WF_LOSS_L1 ||
                 kind == WF_LOSS_SQ_HINGE || kind == WF_LOSS_EXP;
  if (!with_t && residual)
    for (size_t k = 0; k < n; k++) tk[k] = (double)(wf_real)target;
  wf_loss_spec ls = {.kind = kind, .scale = scale, .target = target};
  wf_real *y = ou_up(&D, hy, n), *t = with_t ? ou_up(&D, ht, n) : NULL;
  wf_real *dy = ou_up(&D, NULL, n);
  double *slots = ou_slots(&D, 3);
  be->loss(D.ctx, &ls, y, t, n, dy, slots);
  double *g = ou_down(&D, dy, n);

  /* value against the double terms; gradient against finite differences */
  double value = 0, mag = 0;
  int bad = 0, exact = 1;
  for (size_t k = 0; k < n; k++) {
    double term = loss_term(kind, hy[k], tk[k]);
    value += term;
    mag += fabs(term);
    double h = 1e-6 * fmax(1, fabs(hy[k]));
    double fd = scale * (loss_term(kind, hy[k] + h, tk[k]) -
                         loss_term(kind, hy[k] - h, tk[k])) / (2 * h);
    bad += !(fabs(g[k] - fd) <= FD_TOL * (fabs(fd) + fabs(scale)));
    /* the pinned arithmetic */
    if (kind == WF_LOSS_MSE)
      exact &= g[k] == (double)((wf_real)(2.0 * scale) *
                                (wf_real)((wf_real)hy[k] - (wf_real)tk[k]));
    if (kind == WF_LOSS_LINEAR) exact &= g[k] == (double)(wf_real)(scale * tk[k]);
    if (kind == WF_LOSS_EXP)
      exact &= g[k] == (double)(wf_real)(scale * exp((double)(wf_real)((wf_real)hy[k] -
                                                                      (wf_real)tk[k])));
  }
  double got = ou_slot(&D, slots, 0);
  /* terms to a few eps of wf_real; n double roundings in either sum */
  double tol = 16 * EPS + (double)n * DBL_EPSILON;
  CHECK(fabs(got - scale * value) <= tol * fabs(scale) * mag + DBL_MIN,
        "loss %d n %zu t %d: value %.17g want %.17g", kind, n, with_t, got,
        scale * value);
  CHECK(bad == 0, "loss %d n %zu t %d: %d gradients off the finite differences",
        kind, n, with_t, bad);
  CHECK(exact, "loss %d n %zu: the gradient's pinned arithmetic", kind, n);

  /* accumulate adds; dy NULL gives the value only; slot NULL the gradient */
  double *pre = ou_rnorm(&D, n, 1);
  ou_round(pre, n);
  wf_real *dy2 = ou_up(&D, pre, n);
  ls.accumulate = 1;
  be->loss(D.ctx, &ls, y, t, n, dy2, NULL);
  double *g2 = ou_down(&D, dy2, n);
  exact = 1;
  for (size_t k = 0; k < n; k++) exact &= g2[k] == (double)((wf_real)pre[k] + (wf_real)g[k]);
  CHECK(exact, "loss %d accumulate adds the gradient", kind);
  be->loss(D.ctx, &ls, y, t, n, NULL, slots + 1);
  CHECK(ou_slot(&D, slots, 1) == got, "loss %d with dy NULL: the same value", kind);
  ou_reset(&D);
}

static void test_losses(void) {
  static const size_t sizes[] = {1, 7, 1000, 50000};
  for (int kind = 0; kind < WF_LOSS_COUNT; kind++)
    for (int s = 0; s < 4; s++)
      for (int with_t = 0; with_t < 2; with_t++)
        loss_case((wf_loss_kind)kind, sizes[s], with_t, s == 1 ? 1.0 / 7 : 0.37);

  /* MSE at scale 1/m is the pre-v2 mse_grad, bit for bit */
  const wf_backend *be = D.be;
  static const int ms[] = {7, 512, 1030};
  for (int c = 0; c < 3; c++) {
    int m = ms[c], d = 3;
    size_t n = (size_t)m * d;
    double *hy = ou_rnorm(&D, n, 1), *ht = ou_rnorm(&D, n, 1);
    ou_round(hy, n);
    ou_round(ht, n);
    wf_loss_spec ls = {.kind = WF_LOSS_MSE, .scale = 1.0 / m};
    wf_real *dy = ou_up(&D, NULL, n);
    double *slot = ou_slots(&D, 1);
    be->loss(D.ctx, &ls, ou_up(&D, hy, n), ou_up(&D, ht, n), n, dy, slot);
    double *g = ou_down(&D, dy, n), s = 0;
    int exact = 1;
    wf_real scale = (wf_real)(2.0 / m); /* the old code */
    for (size_t k = 0; k < n; k++) {
      wf_real r = (wf_real)hy[k] - (wf_real)ht[k];
      s += (double)r * r;
      exact &= g[k] == (double)(scale * r);
    }
    CHECK(exact, "MSE at scale 1/%d is the old mse_grad", m);
    double v = ou_slot(&D, slot, 0);
    CHECK(fabs(v - s / m) <= 2 * DBL_EPSILON * (s / m), "MSE value %.17g vs %.17g",
          v, s / m);
    ou_reset(&D);
  }

  /* a slot's rounding does not depend on the thread count */
  size_t n = 100003;
  double *hy = ou_rnorm(&D, n, 1), *ht = ou_rnorm(&D, n, 1);
  for (int kind = 0; kind < WF_LOSS_COUNT; kind++) {
    double v[2], *g[2];
    for (int th = 1; th <= 2; th++) {
      threads(th);
      wf_loss_spec ls = {.kind = (wf_loss_kind)kind, .scale = 0.01};
      wf_real *dy = ou_up(&D, NULL, n);
      double *slot = ou_slots(&D, 1);
      be->loss(D.ctx, &ls, ou_up(&D, hy, n), ou_up(&D, ht, n), n, dy, slot);
      v[th - 1] = ou_slot(&D, slot, 0);
      g[th - 1] = ou_down(&D, dy, n);
    }
    threads(1);
    CHECK(v[0] == v[1] && same(g[0], g[1], n), "loss %d: 1 and 2 threads differ",
          kind);
  }
  ou_reset(&D);
}

/* ---- functions of row norms ------------------------------------------------- */
static double phi_ref(wf_rownorm_kind kind, double r) {
  switch (kind) {
  case WF_ROWNORM_NORM: return r;
  case WF_ROWNORM_GP: return (r - 1) * (r - 1);
  case WF_ROWNORM_LP: return r > 1 ? (r - 1) * (r - 1) : 0;
  case WF_ROWNORM_HALF_SQ: return r * r / 2;
  default: return 0;
  }
}

typedef struct {
  wf_rownorm_kind kind;
  int d;
  double *row; /* the row being differentiated */
} rn_case;

static double rn_objective(void *closure) {
  const rn_case *c = closure;
  double sq = 0;
  for (int j = 0; j < c->d; j++) sq += c->row[j] * c->row[j];
  return phi_ref(c->kind, sqrt(sq));
}

static void rownorm_case(wf_rownorm_kind kind, int m, int d) {
  const wf_backend *be = D.be;
  size_t md = (size_t)m * d;
  double *hg = ou_vec(&D, md), *norms = ou_vec(&D, (size_t)m);
  for (int i = 0; i < m; i++) {
    double *gi = hg + (size_t)i * d, sq;
    do { /* rows of norm below and above 1, away from the kink at 1 */
      double sd = (0.2 + 2 * ou_unif(&D)) / sqrt((double)d);
      sq = 0;
      for (int j = 0; j < d; j++) {
        gi[j] = (wf_real)(sd * ou_norm(&D));
        sq += gi[j] * gi[j];
      }
    } while (fabs(sqrt(sq) - 1) < 1e-3);
    if (m > 1 && i == m / 2) /* a zero row: no direction */
      for (int j = 0; j < d; j++) gi[j] = 0;
    norms[i] = i == m / 2 && m > 1 ? 0 : sqrt(sq);
  }
  double scale = 10.0 / m; /* lambda / m */
  wf_real *g = ou_up(&D, hg, md), *u = ou_up(&D, NULL, md);
  double *slots = ou_slots(&D, 6);
  be->row_norm_loss(D.ctx, kind, g, m, d, scale, u, slots, slots + 1);
  double *hu = ou_down(&D, u, md);
  double value = 0, nsum = 0;
  for (int i = 0; i < m; i++) {
    value += phi_ref(kind, norms[i]);
    nsum += norms[i];
  }
  double v = ou_slot(&D, slots, 0), nv = ou_slot(&D, slots, 1);
  CHECK(fabs(v - scale * value) <= 1e-12 * fabs(scale * value) + DBL_MIN,
        "row_norm_loss %d %d x %d: value %.17g want %.17g", kind, m, d, v,
        scale * value);
  CHECK(fabs(nv - nsum / m) <= 1e-12 * nsum / m, "row_norm_loss %d: norm slot "
        "%.17g want %.17g", kind, nv, nsum / m);

  /* the direction against finite differences of scale * phi(|g_i|) */
  double *fd = ou_vec(&D, (size_t)d), *row = ou_vec(&D, (size_t)d);
  int bad = 0, exact = 1;
  for (int i = 0; i < m; i++) {
    const double *gi = hg + (size_t)i * d, *ui = hu + (size_t)i * d;
    if (norms[i] == 0) {
      for (int j = 0; j < d; j++) bad += ui[j] != 0;
      continue;
    }
    memcpy(row, gi, sizeof(double) * d);
    rn_case c = {kind, d, row};
    fd_grad(rn_objective, &c, row, (size_t)d, 1e-6, fd);
    double big = 0;
    for (int j = 0; j < d; j++) big = fmax(big, fabs(fd[j]));
    for (int j = 0; j < d; j++)
      bad += !(fabs(ui[j] - scale * fd[j]) <= FD_TOL * scale * (big + 1e-3));
    /* GP / LP: the old penalty_dir's coefficient, bit for bit */
    if (kind == WF_ROWNORM_GP || kind == WF_ROWNORM_LP) {
      double sq = 0;
      for (int j = 0; j < d; j++) sq += gi[j] * gi[j];
      double norm = sqrt(sq), excess = norm - 1;
      if (kind == WF_ROWNORM_LP && excess < 0) excess = 0;
      double coef = norm > 0 ? 2.0 * 10.0 / m * excess / norm : 0.0;
      for (int j = 0; j < d; j++) exact &= ui[j] == (double)(wf_real)(coef * gi[j]);
    }
  }
  CHECK(bad == 0, "row_norm_loss %d %d x %d: %d direction entries wrong", kind,
        m, d, bad);
  CHECK(exact, "row_norm_loss %d %d x %d: the old penalty_dir, bit for bit",
        kind, m, d);

  /* NULL outputs: the rest unchanged; a second call adds again */
  wf_real *u2 = ou_up(&D, NULL, md);
  be->row_norm_loss(D.ctx, kind, g, m, d, scale, NULL, slots + 2, slots + 3);
  be->row_norm_loss(D.ctx, kind, g, m, d, scale, u2, NULL, NULL);
  be->row_norm_loss(D.ctx, kind, g, m, d, scale, NULL, slots + 2, slots + 3);
  CHECK(ou_slot(&D, slots, 2) == 2 * v && ou_slot(&D, slots, 3) == 2 * nv,
        "row_norm_loss %d: u NULL and accumulating slots", kind);
  CHECK(same(ou_down(&D, u2, md), hu, md), "row_norm_loss %d: slots NULL", kind);
  ou_reset(&D);
}

static void test_row_norm_loss(void) {
  static const int shapes[][2] = {{1, 1}, {7, 3}, {64, 2}, {5, 784}, {2000, 20}};
  for (int kind = 0; kind < WF_ROWNORM_COUNT; kind++)
    for (int s = 0; s < 5; s++)
      rownorm_case((wf_rownorm_kind)kind, shapes[s][0], shapes[s][1]);

  int m = 3000, d = 30;
  size_t md = (size_t)m * d;
  double *hg = ou_rnorm(&D, md, 0.3);
  for (int kind = 0; kind < WF_ROWNORM_COUNT; kind++) {
    double v[2][2], *u[2];
    for (int th = 1; th <= 2; th++) {
      threads(th);
      wf_real *du = ou_up(&D, NULL, md);
      double *slots = ou_slots(&D, 2);
      D.be->row_norm_loss(D.ctx, (wf_rownorm_kind)kind, ou_up(&D, hg, md), m, d,
                          0.01, du, slots, slots + 1);
      v[th - 1][0] = ou_slot(&D, slots, 0);
      v[th - 1][1] = ou_slot(&D, slots, 1);
      u[th - 1] = ou_down(&D, du, md);
    }
    threads(1);
    CHECK(v[0][0] == v[1][0] && v[0][1] == v[1][1] && same(u[0], u[1], md),
          "row_norm_loss %d: 1 and 2 threads differ", kind);
  }
  ou_reset(&D);
}

/* ---- softmax cross-entropy over rows --------------------------------------- */
/* log sum_j exp(y_j) of one row y [k], in double (max subtracted) */
static double xent_lse(const double *y, int k) {
  double mx = y[0], se = 0;
  for (int j = 1; j < k; j++) mx = fmax(mx, y[j]);
  for (int j = 0; j < k; j++) se += exp(y[j] - mx);
  return mx + log(se);
}
/* the row's loss, lse - y_l */
static double xent_row(const double *y, int k, int l) { return xent_lse(y, k) - y[l]; }

typedef struct {
  double *y;
  int k, l;
} xent_fd;

static double xent_fd_value(void *closure) {
  const xent_fd *c = closure;
  return xent_row(c->y, c->k, c->l);
}

static void xent_case(int m, int k, double scale) {
  const wf_backend *be = D.be;
  size_t mk = (size_t)m * k;
  double *hy = ou_rnorm(&D, mk, 2);
  int *hl = ou_ivec(&D, (size_t)m);
  for (int i = 0; i < m; i++) {
    hl[i] = (int)(ou_unif(&D) * k);
    if (i % 5 == 1) hy[(size_t)i * k + (size_t)(i % k)] = i % 2 ? 800 : -800; /* no overflow */
  }
  ou_round(hy, mk);
  wf_real *y = ou_up(&D, hy, mk), *dy = ou_up(&D, NULL, mk);
  int *lab = ou_up_int(&D, hl, (size_t)m);
  double *slots = ou_slots(&D, 3);
  be->softmax_xent(D.ctx, y, lab, m, k, scale, dy, slots);
  double *g = ou_down(&D, dy, mk);

  /* value against the double terms; gradient against the formula and, on
   * rows of moderate logits, finite differences */
  double value = 0, *fd = ou_vec(&D, (size_t)k);
  int bad_formula = 0, bad_fd = 0;
  for (int i = 0; i < m; i++) {
    double *yi = hy + (size_t)i * k;
    double term = xent_row(yi, k, hl[i]);
    value += term;
    double lse = xent_lse(yi, k);
    for (int j = 0; j < k; j++) {
      double want = scale * (exp(yi[j] - lse) - (j == hl[i]));
      bad_formula += !(fabs(g[(size_t)i * k + j] - want) <= 2 * EPS * fabs(scale));
    }
    if (i % 5 != 1 && i < 50) {
      xent_fd c = {yi, k, hl[i]};
      fd_grad(xent_fd_value, &c, yi, (size_t)k, 1e-6, fd);
      for (int j = 0; j < k; j++)
        bad_fd += !(fabs(g[(size_t)i * k + j] - scale * fd[j]) <= FD_TOL * fabs(scale));
    }
  }
  double got = ou_slot(&D, slots, 0);
  CHECK(fabs(got - scale * value) <= 1e-12 * fabs(scale) * (value + 1),
        "softmax_xent %d x %d: value %.17g want %.17g", m, k, got, scale * value);
  CHECK(bad_formula == 0, "softmax_xent %d x %d: %d gradients off the formula", m, k,
        bad_formula);
  CHECK(bad_fd == 0, "softmax_xent %d x %d: %d gradients off the finite differences", m,
        k, bad_fd);
  /* dy NULL: the same value; slot NULL: the same gradient */
  be->softmax_xent(D.ctx, y, lab, m, k, scale, NULL, slots + 1);
  CHECK(ou_slot(&D, slots, 1) == got, "softmax_xent %d x %d: dy NULL, same value", m, k);
  wf_real *dy2 = ou_up(&D, NULL, mk);
  be->softmax_xent(D.ctx, y, lab, m, k, scale, dy2, NULL);
  CHECK(same(ou_down(&D, dy2, mk), g, mk), "softmax_xent %d x %d: slot NULL, same dy", m,
        k);
  ou_reset(&D);
}

static void test_softmax_xent(void) {
  static const int shapes[][2] = {{1, 1}, {1, 10}, {7, 3}, {64, 10}, {1030, 33},
                                  {3000, 10}};
  for (int s = 0; s < 6; s++) xent_case(shapes[s][0], shapes[s][1], s % 2 ? 1.0 / 64 : 0.7);

  /* one class: log 1 - y = 0, gradient 0 */
  const wf_backend *be = D.be;
  double hy1[3] = {2.5, -1, 40};
  int hl1[3] = {0, 0, 0};
  wf_real *y1 = ou_up(&D, hy1, 3), *d1 = ou_up(&D, NULL, 3);
  double *s1 = ou_slots(&D, 1);
  be->softmax_xent(D.ctx, y1, ou_up_int(&D, hl1, 3), 3, 1, 1, d1, s1);
  double *g1 = ou_down(&D, d1, 3);
  CHECK(ou_slot(&D, s1, 0) == 0 && g1[0] == 0 && g1[1] == 0 && g1[2] == 0,
        "softmax_xent with one class: 0");

  /* a label out of range: its row NaN, the others untouched */
  double hy[6] = {0.5, -1, 2, 1, 0, -3};
  int hl[2] = {1, 3};
  wf_real *y = ou_up(&D, hy, 6), *dy = ou_up(&D, NULL, 6);
  double *slot = ou_slots(&D, 1);
  be->softmax_xent(D.ctx, y, ou_up_int(&D, hl, 2), 2, 3, 1, dy, slot);
  double *g = ou_down(&D, dy, 6);
  CHECK(isnan(ou_slot(&D, slot, 0)) && isnan(g[3]) && isnan(g[5]) && !isnan(g[0]) &&
            !isnan(g[2]),
        "softmax_xent: a label out of range gives NaN in its row only");
  ou_reset(&D);

  /* a slot's rounding does not depend on the thread count */
  int m = 4000, k = 10;
  size_t mk = (size_t)m * k;
  double *hz = ou_rnorm(&D, mk, 3), v[2], *gz[2];
  int *hlz = ou_ivec(&D, (size_t)m);
  for (int i = 0; i < m; i++) hlz[i] = i % k;
  for (int th = 1; th <= 2; th++) {
    threads(th);
    wf_real *dz = ou_up(&D, NULL, mk);
    double *sz = ou_slots(&D, 1);
    be->softmax_xent(D.ctx, ou_up(&D, hz, mk), ou_up_int(&D, hlz, (size_t)m), m, k,
                     1.0 / m, dz, sz);
    v[th - 1] = ou_slot(&D, sz, 0);
    gz[th - 1] = ou_down(&D, dz, mk);
  }
  threads(1);
  CHECK(v[0] == v[1] && same(gz[0], gz[1], mk), "softmax_xent: 1 and 2 threads differ");
  ou_reset(&D);
}

/* ---- row operations ---------------------------------------------------------- */
static void test_rows(void) {
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

static void test_row_argmin(void) {
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

static void test_ot_assign(void) {
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

static void test_index_ops(void) {
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

/* ---- convolutions lowered to matrix products ------------------------------- */
static void test_transpose_rows(void) {
  const wf_backend *be = D.be;
  /* m, a, b: single values, a or b of 1, neither a multiple of the CPU's
   * 32-wide tiles, and one long enough to be split among threads */
  static const int shapes[][3] = {{1, 1, 1}, {5, 1, 9}, {3, 9, 1}, {3, 5, 7},
                                  {1, 3, 1024}, {2, 1024, 3}, {4, 33, 65},
                                  {2, 64, 4096}};
  for (int s = 0; s < 8; s++) {
    int m = shapes[s][0], a = shapes[s][1], b = shapes[s][2];
    size_t ab = (size_t)a * b, n = (size_t)m * ab;
    double *hin = ou_rnorm(&D, n, 1); /* [m x (a b)] */
    ou_round(hin, n);
    double *ref = ou_vec(&D, n); /* out[r][j][i] = in[r][i][j] */
    for (int r = 0; r < m; r++)
      for (int i = 0; i < a; i++)
        for (int j = 0; j < b; j++)
          ref[r * ab + (size_t)j * a + i] = hin[r * ab + (size_t)i * b + j];
    wf_real *in = ou_up(&D, hin, n), *out = ou_up(&D, NULL, n), *back = ou_up(&D, NULL, n);
    double *got[2];
    for (int th = 1; th <= 2; th++) {
      threads(th);
      be->fill(D.ctx, out, n, 7);
      be->transpose_rows(D.ctx, in, m, a, b, out);
      got[th - 1] = ou_down(&D, out, n);
    }
    threads(1);
    be->transpose_rows(D.ctx, out, m, b, a, back); /* and back again */
    CHECK(same(got[0], ref, n), "transpose_rows %d x %d x %d", m, a, b);
    CHECK(same(ou_down(&D, back, n), hin, n), "transpose_rows %d x %d x %d and back",
          m, a, b);
    CHECK(same(got[0], got[1], n), "transpose_rows %d x %d x %d: 1 and 2 threads differ",
          m, a, b);
    ou_reset(&D);
  }
}

/* m, c, h, w, kh, kw, stride, pad; ho and wo from the formula of backend.h */
static wf_conv_geom conv_geom(const int p[8]) {
  wf_conv_geom g = {.m = p[0], .c = p[1], .h = p[2], .w = p[3], .kh = p[4],
                    .kw = p[5], .stride = p[6], .pad = p[7]};
  g.ho = (g.h + 2 * g.pad - g.kh) / g.stride + 1;
  g.wo = (g.w + 2 * g.pad - g.kw) / g.stride + 1;
  return g;
}

static size_t conv_x_len(const wf_conv_geom *g) {
  return (size_t)g->m * g->h * g->w * g->c;
}
static size_t conv_cols_len(const wf_conv_geom *g) {
  return (size_t)g->m * g->ho * g->wo * g->c * g->kh * g->kw;
}

/* x[b, y, xx, ci] of x [(m h w) x c], 0 outside the image */
static double conv_pixel(const wf_conv_geom *g, const double *x, int b, int y, int xx,
                         int ci) {
  if (y < 0 || y >= g->h || xx < 0 || xx >= g->w) return 0;
  return x[(((size_t)b * g->h + y) * g->w + xx) * g->c + ci];
}

/* the index of cols entry (row (b ho + oy) wo + ox, column (ci kh + i) kw + j) */
static size_t conv_col_at(const wf_conv_geom *g, int b, int oy, int ox, int ci, int i,
                          int j) {
  size_t row = ((size_t)b * g->ho + oy) * g->wo + ox;
  return row * ((size_t)g->c * g->kh * g->kw) + ((size_t)ci * g->kh + i) * g->kw + j;
}

/* im2col by the contract's formula, entry by entry */
static void ref_im2col(const wf_conv_geom *g, const double *x, double *cols) {
  for (int b = 0; b < g->m; b++)
    for (int oy = 0; oy < g->ho; oy++)
      for (int ox = 0; ox < g->wo; ox++)
        for (int ci = 0; ci < g->c; ci++)
          for (int i = 0; i < g->kh; i++)
            for (int j = 0; j < g->kw; j++)
              cols[conv_col_at(g, b, oy, ox, ci, i, j)] =
                  conv_pixel(g, x, b, oy * g->stride - g->pad + i,
                             ox * g->stride - g->pad + j, ci);
}

/* the adjoint as a scatter, in double: every cols entry added to the pixel
 * im2col read it from (exact on small whole numbers, whatever the order) */
static void ref_col2im_scatter(const wf_conv_geom *g, const double *cols, double *x) {
  memset(x, 0, conv_x_len(g) * sizeof(double));
  for (int b = 0; b < g->m; b++)
    for (int oy = 0; oy < g->ho; oy++)
      for (int ox = 0; ox < g->wo; ox++)
        for (int ci = 0; ci < g->c; ci++)
          for (int i = 0; i < g->kh; i++)
            for (int j = 0; j < g->kw; j++) {
              int y = oy * g->stride - g->pad + i, xx = ox * g->stride - g->pad + j;
              if (y < 0 || y >= g->h || xx < 0 || xx >= g->w) continue;
              x[(((size_t)b * g->h + y) * g->w + xx) * g->c + ci] +=
                  cols[conv_col_at(g, b, oy, ox, ci, i, j)];
            }
}

/* the adjoint as the contract's gather: each pixel's sum in wf_real from 0,
 * over every kernel position (i, then j, ascending) whose output position
 * oy = (y + pad - i) / stride, ox likewise, is whole and in range */
static void ref_col2im_gather(const wf_conv_geom *g, const double *cols, double *x) {
  for (int b = 0; b < g->m; b++)
    for (int y = 0; y < g->h; y++)
      for (int xx = 0; xx < g->w; xx++)
        for (int ci = 0; ci < g->c; ci++) {
          wf_real acc = 0;
          for (int i = 0; i < g->kh; i++)
            for (int j = 0; j < g->kw; j++) {
              int ty = y + g->pad - i, tx = xx + g->pad - j;
              if (ty < 0 || tx < 0 || ty % g->stride || tx % g->stride) continue;
              int oy = ty / g->stride, ox = tx / g->stride;
              if (oy >= g->ho || ox >= g->wo) continue;
              acc += (wf_real)cols[conv_col_at(g, b, oy, ox, ci, i, j)];
            }
          x[(((size_t)b * g->h + y) * g->w + xx) * g->c + ci] = acc;
        }
}

/* im2col and col2im of one geometry on 1 and 2 threads; cols and x start
 * filled with 7, so every entry must be written (padding, pixels no kernel
 * position reaches) */
static void conv_run(const wf_conv_geom *g, const double *hx, const double *hc,
                     double *got_cols[2], double *got_x[2]) {
  const wf_backend *be = D.be;
  size_t nx = conv_x_len(g), nc = conv_cols_len(g);
  wf_real *x = ou_up(&D, hx, nx), *c = ou_up(&D, hc, nc);
  wf_real *cols = ou_up(&D, NULL, nc), *xo = ou_up(&D, NULL, nx);
  for (int th = 1; th <= 2; th++) {
    threads(th);
    be->fill(D.ctx, cols, nc, 7);
    be->fill(D.ctx, xo, nx, 7);
    be->im2col(D.ctx, g, x, cols);
    be->col2im(D.ctx, g, c, xo);
    got_cols[th - 1] = ou_down(&D, cols, nc);
    got_x[th - 1] = ou_down(&D, xo, nx);
  }
  threads(1);
}

/* small whole numbers in [-4, 4]: every sum of col2im exact */
static double *conv_levels(size_t n) {
  double *p = ou_vec(&D, n);
  for (size_t k = 0; k < n; k++) p[k] = floor(9 * ou_unif(&D)) - 4;
  return p;
}

static void conv_case(const int p[8]) {
  wf_conv_geom g = conv_geom(p);
  size_t nx = conv_x_len(&g), nc = conv_cols_len(&g);
  char name[96];
  snprintf(name, sizeof(name), "m %d c %d %d x %d, kernel %d x %d, stride %d, pad %d",
           g.m, g.c, g.h, g.w, g.kh, g.kw, g.stride, g.pad);
  double *ref_cols = ou_vec(&D, nc), *ref_x = ou_vec(&D, nx);
  double *gc[2], *gx[2];

  /* whole numbers: im2col's copies and the scatter's exact sums */
  double *hx = conv_levels(nx), *hc = conv_levels(nc);
  conv_run(&g, hx, hc, gc, gx);
  ref_im2col(&g, hx, ref_cols);
  ref_col2im_scatter(&g, hc, ref_x);
  CHECK(same(gc[0], ref_cols, nc), "im2col %s, whole numbers", name);
  CHECK(same(gx[0], ref_x, nx), "col2im %s: the scatter's exact sums", name);

  /* normal values: the copies, and the gather's sums in the fixed order to
   * the bit; 1 and 2 threads alike */
  hx = ou_rnorm(&D, nx, 1);
  hc = ou_rnorm(&D, nc, 1);
  ou_round(hx, nx);
  ou_round(hc, nc);
  conv_run(&g, hx, hc, gc, gx);
  ref_im2col(&g, hx, ref_cols);
  ref_col2im_gather(&g, hc, ref_x);
  CHECK(same(gc[0], ref_cols, nc), "im2col %s", name);
  CHECK(same(gx[0], ref_x, nx), "col2im %s: sums in the order i, then j", name);
  CHECK(same(gc[0], gc[1], nc) && same(gx[0], gx[1], nx),
        "im2col / col2im %s: 1 and 2 threads differ", name);

  /* adjoint: <im2col(x), C> = <x, col2im(C)>, in double from the backend's
   * values; col2im's wf_real sums of at most kh kw terms bound the gap */
  double lhs = 0, rhs = 0, mag = 0;
  for (size_t k = 0; k < nc; k++) {
    lhs += gc[0][k] * hc[k];
    mag += fabs(gc[0][k] * hc[k]);
  }
  for (size_t k = 0; k < nx; k++) rhs += hx[k] * gx[0][k];
  double tol = 4.0 * (g.kh * g.kw + 2) * EPS * mag;
  CHECK(fabs(lhs - rhs) <= tol, "im2col / col2im %s: <im2col(x), C> %.17g, "
        "<x, col2im(C)> %.17g (tolerance %.3g)", name, lhs, rhs, tol);
  ou_reset(&D);
}

static void test_conv(void) {
  /* m, c, h, w, kh, kw, stride, pad: odd sizes, stride 1, 2 and 3, padding
   * 0, 1, 2, 1 x 1 kernels (with stride 2: pixels no kernel reaches), kernels
   * of 4 and 5 (one wider than the image but not the padded image),
   * non-square kernels (kh != kw pins the column order), rows and columns
   * that stride 2 leaves unread, 1 and several channels, batches of 1 and
   * 3, and one large enough to be split among threads */
  static const int geoms[][8] = {
      {1, 1, 5, 7, 3, 3, 1, 0}, {3, 2, 5, 7, 3, 3, 1, 1}, {1, 3, 5, 7, 4, 4, 2, 1},
      {3, 1, 7, 5, 5, 5, 2, 2}, {2, 4, 6, 6, 1, 1, 1, 0}, {1, 2, 5, 7, 1, 1, 2, 0},
      {3, 3, 8, 9, 4, 4, 2, 2}, {1, 1, 4, 4, 5, 5, 1, 2}, {2, 5, 5, 7, 3, 5, 2, 1},
      {2, 1, 7, 6, 4, 5, 2, 0}, {1, 2, 8, 7, 3, 2, 3, 1}, {3, 1, 5, 5, 5, 4, 1, 0},
      {3, 8, 32, 32, 4, 4, 2, 1}};
  for (size_t k = 0; k < sizeof(geoms) / sizeof(geoms[0]); k++) conv_case(geoms[k]);
}

int main(void) {
  if (ou_open(&D, wf_cpu_backend(), 20240607) != 0) return 1;
  test_table();
  test_memory();
  test_gemm();
  test_level1();
  test_activations();
  test_layernorm();
  test_batchnorm();
  test_optimisers();
  test_philox();
  test_counter_advance();
  test_random();
  test_losses();
  test_row_norm_loss();
  test_softmax_xent();
  test_rows();
  test_row_argmin();
  test_ot_assign();
  test_index_ops();
  test_transpose_rows();
  test_conv();
  ou_close(&D);
  printf("ops %s: %d passed, %d failed\n",
         sizeof(wf_real) == 8 ? "double" : "float", n_pass, n_fail);
  return n_fail == 0 ? 0 : 1;
}
