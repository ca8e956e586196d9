/* parity.c — the per-op parity runner: a backend table under test against
 * the CPU table, op by op, on the same random inputs (float builds).
 *
 * Each op runs on both tables, each with its own context and memory (the
 * inputs are uploaded through each table); the results come back through
 * each table's download and are compared value by value against a bound
 * that fits the op:
 *   - exact: memory ops, scal, add_bias, clamp, row_scale, gathers, argmin,
 *     uniform and random_index (both compute the same IEEE operations),
 *     index_count (equal addends), count_nonfinite (whole numbers),
 *     copy_ints_at and its positions,
 *     transpose_rows and im2col (copies), col2im (the same additions in the
 *     order backend.h fixes);
 *   - ot_assign: each chosen index's score, recomputed in double on the
 *     host, within 8 (d + 4) eps (sum of the terms' sizes) of the CPU's
 *     choice's (a near-tie may pick either), the indices equal on small
 *     whole numbers (exact sums, ties included), val to the same bound;
 *   - gemm: 4 (sqrt(k) + 2) eps (|alpha| (|A||B|)_ij + |beta C_ij| + |bias_j|),
 *     so TF32 is switched off on the table under test;
 *   - column sums: 4 sqrt(m) eps (sum_i |a_ij| + |out_j|);
 *   - elementwise maths (activations, optimisers, losses' gradients, row
 *     ops): a few eps relative, plus a few eps of the array's largest value;
 *   - normalisations: 2e-5 relative and of the array's largest value (1e-4
 *     for the double backward of LayerNorm);
 *   - row_norm_loss directions: 4 eps, which holds when the row's squares
 *     are summed in double as backend.h asks (a float sum fails near r = 1);
 *   - reductions into scalar slots, row_sq_norm, row_sq_dist: 1e-5
 *     relative;
 *   - normal: 1e-6 absolute (both compute in double and round);
 *   - stream counters and step counts (device slots the ops advance):
 *     exact;
 *   - graphs (when the table has graph ops): a short training step
 *     recorded once and launched six times against six eager runs on the
 *     CPU, each value within its op's bound (a few 1e-5 where Adam's steps
 *     compound gemm rounding); a record freed unlaunched changes nothing;
 *     what must not run while recording fails on its own context.
 * One line per op: name, max abs error, max rel error (over the values with
 * a nonzero reference), PASS or FAIL, and where it failed the first failing
 * case; then "parity: N ops, M failed".
 *
 *   CPU against itself (a sanity run; every error must be 0), with CPU the
 *   sources of src/cpu (activation backend gemm loss memory norm ops optim
 *   random rows, .c each):
 *     gcc -std=gnu11 -O2 -Wall -Wextra -fopenmp -Isrc/core -Isrc/cpu \
 *         tests/c/parity.c $CPU src/core/status.c -lm
 *   CUDA: the same with -DWF_PARITY_CUDA, linked with the CUDA backend's
 *   objects (extern "C" wf_cuda_backend) and -lcublas -lcudart -lstdc++.
 */
#include <float.h>
#include <limits.h>
#include <stdarg.h>
#include <string.h>

#include "backend.h"
#include "ops_util.h"

#define FEPS ((double)FLT_EPSILON)
#define TEST 0 /* side 0: the table under test */
#define REF 1  /* side 1: the CPU table (it also holds the host data) */
#define SIDES for (int s = 0; s < 2; s++)

typedef struct {
  ou_dev side[2];
  /* the current op's tally */
  double max_abs, max_rel;
  long n_bad;
  char first[512]; /* the first failing case */
  char label[160]; /* the case being run */
  const char *skip; /* why the op was not run on this table, or NULL */
} parity;

static const int MS[] = {1, 7, 512, 1030};
static const int WIDTHS[] = {1, 2, 3, 128, 784};
/* --quick (under compute-sanitizer) drops the largest batch, width and
 * draw sizes */
static int N_MS = 4, N_WIDTHS = 5, N_DRAWS = 7, N_SHAPES_MAX = 1000;

/* ---- comparison ---------------------------------------------------------- */
static void label(parity *P, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void label(parity *P, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(P->label, sizeof(P->label), fmt, ap);
  va_end(ap);
}

static void fail(parity *P, const char *what) {
  if (P->n_bad++ == 0)
    snprintf(P->first, sizeof(P->first), "%s: %s", P->label, what);
}

/* one value against its reference and bound */
static void tally(parity *P, const char *what, size_t i, double got, double ref,
                  double bound) {
  double e = fabs(got - ref);
  if (isnan(got) || isnan(ref)) e = isnan(got) && isnan(ref) ? 0 : INFINITY;
  if (e > P->max_abs) P->max_abs = e;
  if (ref != 0 && e / fabs(ref) > P->max_rel) P->max_rel = e / fabs(ref);
  if (e > bound) {
    char msg[120];
    snprintf(msg, sizeof(msg), "%s[%zu] = %.9g, cpu %.9g", what, i, got, ref);
    fail(P, msg);
  }
}

/* got[n] vs ref[n], each within rtol |ref_i| + atol + stol max_j |ref_j| */
static void cmp(parity *P, const char *what, const double *got,
                const double *ref, size_t n, double rtol, double atol,
                double stol) {
  double big = 0;
  for (size_t i = 0; i < n; i++)
    if (fabs(ref[i]) > big) big = fabs(ref[i]);
  for (size_t i = 0; i < n; i++)
    tally(P, what, i, got[i], ref[i], rtol * fabs(ref[i]) + atol + stol * big);
}

/* got[n] vs ref[n] within bound[n] */
static void cmp_bound(parity *P, const char *what, const double *got,
                      const double *ref, const double *bound, size_t n) {
  for (size_t i = 0; i < n; i++) tally(P, what, i, got[i], ref[i], bound[i]);
}

static void cmp_int(parity *P, const char *what, const int *got,
                    const int *ref, size_t n) {
  for (size_t i = 0; i < n; i++) tally(P, what, i, got[i], ref[i], 0);
}

/* ---- both sides ------------------------------------------------------------ */
static ou_dev *host(parity *P) { return &P->side[REF]; }
static wf_real *up(parity *P, int s, const double *h, size_t n) {
  return ou_up(&P->side[s], h, n);
}
static double *down(parity *P, int s, const wf_real *x, size_t n) {
  return ou_down(&P->side[s], x, n);
}
static const wf_backend *be(parity *P, int s) { return P->side[s].be; }
static wf_ctx *cx(parity *P, int s) { return P->side[s].ctx; }
static void done(parity *P) {
  ou_reset(&P->side[TEST]);
  ou_reset(&P->side[REF]);
}

/* host data: normal or uniform, rounded to wf_real as an upload stores it */
static double *rnorm(parity *P, size_t n, double sd, double mean) {
  double *x = ou_rnorm(host(P), n, sd);
  for (size_t i = 0; i < n; i++) x[i] = (double)(wf_real)(x[i] + mean);
  return x;
}
static double *runif(parity *P, size_t n, double lo, double hi) {
  double *x = ou_runif(host(P), n, lo, hi);
  ou_round(x, n);
  return x;
}
/* integers 0 .. k - 1 as reals: rows full of ties */
static double *rlevels(parity *P, size_t n, int k) {
  double *x = ou_vec(host(P), n);
  for (size_t i = 0; i < n; i++) x[i] = floor(k * ou_unif(host(P)));
  return x;
}

/* ---- context and memory --------------------------------------------------- */
static void op_context(parity *P) {
  const wf_backend *t = be(P, TEST);
  char msg[WF_MSG_LEN];
  label(P, "context");
  wf_ctx *c = NULL;
  if (t->ctx_create(&c, msg) != WF_OK || c == NULL) {
    fail(P, "a second context cannot be created");
    return;
  }
  if (t->knob(c, "no such knob", -1) != -1) fail(P, "an unknown knob is not -1");
  if (t->synchronize(c, msg) != WF_OK) fail(P, "synchronize on a new context");
  if (t->last_error(c, msg) != WF_OK) fail(P, "last_error on a new context");
  void *p = t->alloc(c, 1); /* (cudaMalloc of 0 bytes gives NULL) */
  if (p == NULL) fail(P, "alloc(1) is NULL");
  t->release(c, p);
  t->release(c, NULL);
  t->ctx_free(c);
}

static const size_t MEM_SIZES[] = {1, 21, 65536, 807520};

static void op_updown(parity *P) {
  for (int c = 0; c < 4; c++) {
    size_t n = MEM_SIZES[c];
    label(P, "n %zu", n);
    double *h = ou_rnorm(host(P), n, 3); /* unrounded: the upload rounds */
    double *r[2];
    SIDES r[s] = down(P, s, up(P, s, h, n), n);
    cmp(P, "x", r[TEST], r[REF], n, 0, 0, 0);
    done(P);
  }
}

static void op_updown_int(parity *P) {
  for (int c = 0; c < 4; c++) {
    size_t n = MEM_SIZES[c];
    label(P, "n %zu", n);
    int *h = ou_ivec(host(P), n);
    for (size_t i = 0; i < n; i++) h[i] = (int)(ou_unif(host(P)) * 2e9) - 1000000000;
    h[0] = INT_MIN;
    int *r[2];
    SIDES r[s] = ou_down_int(&P->side[s], ou_up_int(&P->side[s], h, n), n);
    cmp_int(P, "i", r[TEST], r[REF], n);
    done(P);
  }
}

static void op_copy(parity *P) {
  for (int c = 0; c < 4; c++) {
    size_t n = MEM_SIZES[c], half = n / 2;
    label(P, "n %zu", n);
    double *h = rnorm(P, n, 1, 0), *r[2];
    SIDES {
      wf_real *x = up(P, s, h, n), *y = up(P, s, NULL, n);
      be(P, s)->copy(cx(P, s), y, x, n);
      be(P, s)->copy(cx(P, s), y + half, x, n - half); /* at an offset */
      r[s] = down(P, s, y, n);
    }
    cmp(P, "y", r[TEST], r[REF], n, 0, 0, 0);
    done(P);
  }
}

static void op_fill(parity *P) {
  for (int c = 0; c < 4; c++) {
    size_t n = MEM_SIZES[c];
    label(P, "n %zu", n);
    double *r[2];
    SIDES {
      wf_real *x = up(P, s, NULL, n);
      be(P, s)->fill(cx(P, s), x, n, (wf_real)-1.25);
      be(P, s)->fill(cx(P, s), x + n / 3, n - n / 3, (wf_real)(1.0 / 3));
      r[s] = down(P, s, x, n);
    }
    cmp(P, "x", r[TEST], r[REF], n, 0, 0, 0);
    done(P);
  }
}

/* slots written by one-value losses, read in one call, zeroed, read again */
static void op_scalars(parity *P) {
  label(P, "8 slots");
  double vals[8] = {1, -2, 0.5, 3.25, -7, 1e-3, 1e6, 0}, r[2][16];
  SIDES {
    double *slots = ou_slots(&P->side[s], 8);
    wf_real *one = up(P, s, vals, 8);
    for (int i = 0; i < 8; i++) {
      wf_loss_spec ls = {.kind = WF_LOSS_LINEAR, .scale = 1, .target = 1};
      be(P, s)->loss(cx(P, s), &ls, one + i, NULL, 1, NULL, slots + i);
    }
    be(P, s)->read_scalars(cx(P, s), r[s], slots, 8);
    be(P, s)->zero_scalars(cx(P, s), slots, 8);
    be(P, s)->read_scalars(cx(P, s), r[s] + 8, slots, 8);
  }
  cmp(P, "slot", r[TEST], r[REF], 16, 0, 0, 0);
  done(P);

  /* write_scalars: every bit back (a counter near 2^53, -0, infinities) */
  label(P, "write_scalars");
  double w[6] = {9007199254740991.0, -0.0, INFINITY, -INFINITY, 1.0 / 3, 1e-300};
  double back[2][6];
  SIDES {
    double *slots = ou_slots(&P->side[s], 7);
    if (be(P, s)->write_scalars(cx(P, s), slots + 1, w, 6) != WF_OK)
      fail(P, "write_scalars failed");
    be(P, s)->read_scalars(cx(P, s), back[s], slots + 1, 6);
    if (memcmp(back[s], w, sizeof(w)) != 0) fail(P, "write_scalars round trip");
  }
  done(P);
}

/* ---- linear algebra --------------------------------------------------------- */
typedef struct {
  double alpha, beta;
  wf_ep_kind kind;
  wf_activation act;
} gemm_variant;

static const gemm_variant GEMM_VARIANTS[] = {
    {1, 0, WF_EP_NONE, WF_ACT_IDENTITY},
    {-0.5, 1, WF_EP_NONE, WF_ACT_IDENTITY},
    {1.5, 0.25, WF_EP_NONE, WF_ACT_IDENTITY},
    {1, 0, WF_EP_BIAS_ACT, WF_ACT_IDENTITY},
    {1, 0, WF_EP_BIAS_ACT, WF_ACT_RELU},
    {1, 1, WF_EP_BIAS_ACT, WF_ACT_LEAKY_RELU},
    {1, 0, WF_EP_TIMES_DERIV, WF_ACT_IDENTITY},
    {1, 1, WF_EP_TIMES_DERIV, WF_ACT_RELU},
    {-1, 0, WF_EP_TIMES_DERIV, WF_ACT_LEAKY_RELU}};

/* every variant of one shape and transposition, on the same operands; pad
 * widens the leading dimensions */
static void gemm_shape(parity *P, int ta, int tb, int m, int n, int k, int pad) {
  int lda = (ta ? m : k) + pad, ldb = (tb ? k : n) + pad, ldc = n + pad;
  size_t na = (size_t)(ta ? k : m) * lda, nb = (size_t)(tb ? n : k) * ldb;
  size_t nc = (size_t)m * ldc;
  double *ha = rnorm(P, na, 1, 0), *hb = rnorm(P, nb, 1, 0);
  double *hc = rnorm(P, nc, 1, 0), *hbias = rnorm(P, (size_t)n, 1, 0);
  double *hu = rnorm(P, nc, 1, 0);
  double *mag = ou_vec(host(P), nc), *bound = ou_vec(host(P), nc);
  for (int i = 0; i < m; i++) /* (|A||B|)_ij */
    for (int p = 0; p < k; p++) {
      double av = fabs(ta ? ha[(size_t)p * lda + i] : ha[(size_t)i * lda + p]);
      for (int j = 0; j < n; j++)
        mag[(size_t)i * ldc + j] +=
            av * fabs(tb ? hb[(size_t)j * ldb + p] : hb[(size_t)p * ldb + j]);
    }
  int n_var = (int)(sizeof(GEMM_VARIANTS) / sizeof(GEMM_VARIANTS[0]));
  for (int v = 0; v < n_var; v++) {
    const gemm_variant *gv = &GEMM_VARIANTS[v];
    label(P, "ta %d tb %d m %d n %d k %d pad %d alpha %g beta %g ep %d act %d",
          ta, tb, m, n, k, pad, gv->alpha, gv->beta, gv->kind, gv->act);
    double *r[2];
    SIDES {
      wf_epilogue ep = {.kind = gv->kind, .act = gv->act, .slope = (wf_real)0.2,
                        .bias = up(P, s, hbias, (size_t)n), .u = up(P, s, hu, nc)};
      wf_real *c = up(P, s, hc, nc);
      be(P, s)->gemm(cx(P, s), ta, tb, m, n, k, (wf_real)gv->alpha,
                     up(P, s, ha, na), lda, up(P, s, hb, nb), ldb,
                     (wf_real)gv->beta, c, ldc,
                     gv->kind == WF_EP_NONE ? NULL : &ep);
      r[s] = down(P, s, c, nc);
    }
    for (int i = 0; i < m; i++)
      for (int j = 0; j < ldc; j++) { /* padding: bound 0, never written */
        size_t o = (size_t)i * ldc + j;
        double b = 0;
        if (j < n) {
          b = fabs(gv->alpha) * mag[o] + fabs(gv->beta * hc[o]);
          if (gv->kind == WF_EP_BIAS_ACT) b += fabs(hbias[j]);
        }
        bound[o] = 4 * (sqrt((double)k) + 2) * FEPS * b;
      }
    cmp_bound(P, "C", r[TEST], r[REF], bound, nc);
    ou_reset(&P->side[TEST]);
  }
  done(P);
}

static void op_gemm(parity *P) {
  /* first layers (k of 1 to 3), hidden layers, the last layer (n = 1),
   * weight gradients (transposed A, k = batch) */
  static const int shapes[][3] = {
      {1, 1, 1},      {7, 3, 2},       {512, 128, 1},  {1030, 2, 1},
      {7, 784, 1},    {512, 128, 2},   {1030, 128, 3}, {512, 128, 128},
      {512, 1, 128},  {1030, 784, 128}, {128, 2, 512}, {784, 128, 1030},
      {3, 784, 7},    {1030, 3, 784}};
  int n_shapes = (int)(sizeof(shapes) / sizeof(shapes[0]));
  if (n_shapes > N_SHAPES_MAX) n_shapes = N_SHAPES_MAX;
  for (int c = 0; c < n_shapes; c++)
    for (int ta = 0; ta < 2; ta++)
      for (int tb = 0; tb < 2; tb++)
        gemm_shape(P, ta, tb, shapes[c][0], shapes[c][1], shapes[c][2],
                   (c + ta + tb) % 4 == 0 ? 5 : 0);
}

static void op_add_bias(parity *P) {
  for (int a = 0; a < N_MS; a++)
    for (int b = 0; b < N_WIDTHS; b++) {
      int m = MS[a], n = WIDTHS[b];
      size_t mn = (size_t)m * n;
      label(P, "%d x %d", m, n);
      double *hz = rnorm(P, mn, 1, 0), *hb = rnorm(P, (size_t)n, 1, 0), *r[2];
      SIDES {
        wf_real *z = up(P, s, hz, mn);
        be(P, s)->add_bias(cx(P, s), z, up(P, s, hb, (size_t)n), m, n);
        r[s] = down(P, s, z, mn);
      }
      cmp(P, "z", r[TEST], r[REF], mn, 0, 0, 0);
      done(P);
    }
}

static void op_col_sum(parity *P) {
  for (int a = 0; a < N_MS; a++)
    for (int b = 0; b < N_WIDTHS; b++) {
      int m = MS[a], n = WIDTHS[b];
      size_t mn = (size_t)m * n;
      label(P, "%d x %d", m, n);
      double *ha = rnorm(P, mn, 1, 0), *ho = rnorm(P, (size_t)n, 1, 0), *r[2];
      double *bound = ou_vec(host(P), (size_t)n);
      for (int j = 0; j < n; j++) {
        double s1 = fabs(ho[j]);
        for (int i = 0; i < m; i++) s1 += fabs(ha[(size_t)i * n + j]);
        bound[j] = 4 * sqrt((double)m) * FEPS * s1;
      }
      SIDES {
        wf_real *o = up(P, s, ho, (size_t)n);
        be(P, s)->col_sum(cx(P, s), up(P, s, ha, mn), m, n, o);
        r[s] = down(P, s, o, (size_t)n);
      }
      cmp_bound(P, "out", r[TEST], r[REF], bound, (size_t)n);
      done(P);
    }
}

static void op_axpy(parity *P) {
  for (int c = 0; c < 4; c++) {
    size_t n = MEM_SIZES[c];
    label(P, "n %zu", n);
    double *hx = rnorm(P, n, 1, 0), *hy = rnorm(P, n, 1, 0), *r[2];
    double *bound = ou_vec(host(P), n), alpha = (wf_real)-0.3;
    for (size_t i = 0; i < n; i++)
      bound[i] = 2 * FEPS * (fabs(hy[i]) + fabs(alpha * hx[i]));
    SIDES {
      wf_real *y = up(P, s, hy, n);
      be(P, s)->axpy(cx(P, s), n, (wf_real)alpha, up(P, s, hx, n), y);
      r[s] = down(P, s, y, n);
    }
    cmp_bound(P, "y", r[TEST], r[REF], bound, n);
    done(P);
  }
}

static void op_scal(parity *P) {
  for (int c = 0; c < 4; c++) {
    size_t n = MEM_SIZES[c];
    label(P, "n %zu", n);
    double *hx = rnorm(P, n, 1, 0), *r[2];
    SIDES {
      wf_real *x = up(P, s, hx, n);
      be(P, s)->scal(cx(P, s), n, (wf_real)0.7, x);
      r[s] = down(P, s, x, n);
    }
    cmp(P, "x", r[TEST], r[REF], n, 0, 0, 0);
    done(P);
  }
}

/* ---- activations ------------------------------------------------------------ */
/* pre-activations N(0, 3^2), with exact zeros and softplus's far tail */
static double *preacts(parity *P, size_t n) {
  double *u = rnorm(P, n, 3, 0);
  for (size_t i = 0; i < n; i += 17) u[i] = 0;
  for (size_t i = 5; i < n; i += 29) u[i] = (wf_real)(i % 2 ? 25.5 : -25.5);
  return u;
}

#define ACT_SLOPE 0.2

static void op_act_forward(parity *P) {
  for (int a = 0; a < WF_ACT_COUNT; a++)
    for (int c = 0; c < 4; c++) {
      size_t n = MEM_SIZES[c];
      label(P, "act %d n %zu", a, n);
      double *hu = preacts(P, n), *r[2];
      SIDES {
        wf_real *h = up(P, s, NULL, n);
        be(P, s)->act_forward(cx(P, s), (wf_activation)a, ACT_SLOPE,
                              up(P, s, hu, n), h, n);
        r[s] = down(P, s, h, n);
      }
      cmp(P, "h", r[TEST], r[REF], n, 8 * FEPS, 0, 8 * FEPS);
      done(P);
    }
}

static void op_act_backward(parity *P) {
  for (int a = 0; a < WF_ACT_COUNT; a++)
    for (int c = 0; c < 4; c++) {
      size_t n = MEM_SIZES[c];
      label(P, "act %d n %zu (out aliases g)", a, n);
      double *hu = preacts(P, n), *hg = rnorm(P, n, 1, 0), *r[2];
      SIDES {
        wf_real *g = up(P, s, hg, n);
        be(P, s)->act_backward(cx(P, s), (wf_activation)a, ACT_SLOPE,
                               up(P, s, hu, n), g, g, n);
        r[s] = down(P, s, g, n);
      }
      cmp(P, "out", r[TEST], r[REF], n, 8 * FEPS, 0, 8 * FEPS);
      done(P);
    }
}

static void op_act_second(parity *P) {
  for (int a = 0; a < WF_ACT_COUNT; a++)
    for (int c = 0; c < 4; c++)
      for (int with_h = 0; with_h < 2; with_h++) {
        size_t n = MEM_SIZES[c];
        int flat = a == WF_ACT_IDENTITY || a == WF_ACT_RELU ||
                   a == WF_ACT_LEAKY_RELU;
        label(P, "act %d n %zu hbar %s", a, n, with_h ? "set" : "NULL");
        double *hu = preacts(P, n), *hh = rnorm(P, n, 1, 0);
        double *hg = rnorm(P, n, 1, 0), *hd = rnorm(P, n, 1, 0), *r[2];
        SIDES {
          wf_real *o = up(P, s, NULL, n);
          /* flat activations read neither gbar nor udot */
          be(P, s)->act_second(cx(P, s), (wf_activation)a, ACT_SLOPE,
                               up(P, s, hu, n), with_h ? up(P, s, hh, n) : NULL,
                               flat ? NULL : up(P, s, hg, n),
                               flat ? NULL : up(P, s, hd, n), o, n);
          r[s] = down(P, s, o, n);
        }
        cmp(P, "out", r[TEST], r[REF], n, 16 * FEPS, 0, 16 * FEPS);
        done(P);
      }
}

/* ---- normalisation --------------------------------------------------------- */
#define NORM_TOL 2e-5

/* LayerNorm's cached forward of a on the CPU, as host arrays */
static void ln_cache(parity *P, const double *ha, const double *hgamma,
                     const double *hbeta, int m, int n, double **xhat,
                     double **rstd) {
  size_t mn = (size_t)m * n;
  wf_real *x = up(P, REF, NULL, mn), *r = up(P, REF, NULL, (size_t)m);
  be(P, REF)->ln_forward(cx(P, REF), up(P, REF, ha, mn), m, n,
                         up(P, REF, hgamma, (size_t)n),
                         up(P, REF, hbeta, (size_t)n), up(P, REF, NULL, mn), x, r);
  *xhat = down(P, REF, x, mn);
  *rstd = down(P, REF, r, (size_t)m);
}

static void op_ln_forward(parity *P) {
  for (int a = 0; a < N_MS; a++)
    for (int b = 0; b < N_WIDTHS; b++) {
      int m = MS[a], n = WIDTHS[b];
      size_t mn = (size_t)m * n;
      label(P, "%d x %d", m, n);
      double *ha = rnorm(P, mn, 1.5, 0.5), *hg = runif(P, (size_t)n, 0.5, 1.5);
      double *hb = rnorm(P, (size_t)n, 1, 0), *r[2][3];
      SIDES {
        wf_real *o = up(P, s, NULL, mn), *x = up(P, s, NULL, mn);
        wf_real *rs = up(P, s, NULL, (size_t)m);
        be(P, s)->ln_forward(cx(P, s), up(P, s, ha, mn), m, n,
                             up(P, s, hg, (size_t)n), up(P, s, hb, (size_t)n), o,
                             x, rs);
        r[s][0] = down(P, s, o, mn);
        r[s][1] = down(P, s, x, mn);
        r[s][2] = down(P, s, rs, (size_t)m);
      }
      cmp(P, "out", r[TEST][0], r[REF][0], mn, NORM_TOL, 0, NORM_TOL);
      cmp(P, "xhat", r[TEST][1], r[REF][1], mn, NORM_TOL, 0, NORM_TOL);
      cmp(P, "rstd", r[TEST][2], r[REF][2], (size_t)m, NORM_TOL, 0, 0);
      done(P);
    }
}

static void op_ln_backward(parity *P) {
  for (int a = 0; a < N_MS; a++)
    for (int b = 0; b < N_WIDTHS; b++) {
      int m = MS[a], n = WIDTHS[b];
      size_t mn = (size_t)m * n;
      label(P, "%d x %d", m, n);
      double *ha = rnorm(P, mn, 1.5, 0.5), *hg = runif(P, (size_t)n, 0.5, 1.5);
      double *hb = rnorm(P, (size_t)n, 1, 0), *hn = rnorm(P, mn, 1, 0);
      double *pre = rnorm(P, (size_t)n, 1, 0), *hx, *hr, *r[2][3];
      ln_cache(P, ha, hg, hb, m, n, &hx, &hr);
      SIDES {
        wf_real *ab = up(P, s, NULL, mn), *dg = up(P, s, pre, (size_t)n);
        wf_real *db = up(P, s, pre, (size_t)n);
        be(P, s)->ln_backward(cx(P, s), up(P, s, hn, mn), up(P, s, hx, mn),
                              up(P, s, hr, (size_t)m), up(P, s, hg, (size_t)n),
                              m, n, ab, dg, db);
        r[s][0] = down(P, s, ab, mn);
        r[s][1] = down(P, s, dg, (size_t)n);
        r[s][2] = down(P, s, db, (size_t)n);
      }
      cmp(P, "abar", r[TEST][0], r[REF][0], mn, NORM_TOL, 0, NORM_TOL);
      cmp(P, "dgamma", r[TEST][1], r[REF][1], (size_t)n, NORM_TOL, 0, NORM_TOL);
      cmp(P, "dbeta", r[TEST][2], r[REF][2], (size_t)n, NORM_TOL, 0, NORM_TOL);
      done(P);
    }
}

static void op_ln_jvp(parity *P) {
  for (int a = 0; a < N_MS; a++)
    for (int b = 0; b < N_WIDTHS; b++) {
      int m = MS[a], n = WIDTHS[b];
      size_t mn = (size_t)m * n;
      label(P, "%d x %d", m, n);
      double *ha = rnorm(P, mn, 1.5, 0.5), *hg = runif(P, (size_t)n, 0.5, 1.5);
      double *hb = rnorm(P, (size_t)n, 1, 0), *hd = rnorm(P, mn, 1, 0);
      double *hx, *hr, *r[2][2];
      ln_cache(P, ha, hg, hb, m, n, &hx, &hr);
      SIDES {
        wf_real *xd = up(P, s, NULL, mn), *od = up(P, s, NULL, mn);
        be(P, s)->ln_jvp(cx(P, s), up(P, s, hd, mn), up(P, s, hx, mn),
                         up(P, s, hr, (size_t)m), up(P, s, hg, (size_t)n), m, n,
                         xd, od);
        r[s][0] = down(P, s, xd, mn);
        r[s][1] = down(P, s, od, mn);
      }
      cmp(P, "xhat_dot", r[TEST][0], r[REF][0], mn, NORM_TOL, 0, NORM_TOL);
      cmp(P, "out_dot", r[TEST][1], r[REF][1], mn, NORM_TOL, 0, NORM_TOL);
      done(P);
    }
}

static void op_ln_double(parity *P) {
  for (int a = 0; a < N_MS; a++)
    for (int b = 0; b < N_WIDTHS; b++)
      for (int with_nbar = 0; with_nbar < 2; with_nbar++) {
        int m = MS[a], n = WIDTHS[b];
        size_t mn = (size_t)m * n;
        label(P, "%d x %d nbar %s", m, n, with_nbar ? "set" : "NULL");
        double *ha = rnorm(P, mn, 1.5, 0.5), *hg = runif(P, (size_t)n, 0.5, 1.5);
        double *hb = rnorm(P, (size_t)n, 1, 0), *hd = rnorm(P, mn, 1, 0);
        double *hn = rnorm(P, mn, 1, 0), *hq = rnorm(P, mn, 1, 0);
        double *pre = rnorm(P, (size_t)n, 1, 0), *hx, *hr, *r[2][3];
        ln_cache(P, ha, hg, hb, m, n, &hx, &hr);
        /* xhat_dot from the CPU's jvp */
        wf_real *xd = up(P, REF, NULL, mn);
        be(P, REF)->ln_jvp(cx(P, REF), up(P, REF, hd, mn), up(P, REF, hx, mn),
                           up(P, REF, hr, (size_t)m), up(P, REF, hg, (size_t)n), m,
                           n, xd, up(P, REF, NULL, mn));
        double *hxd = down(P, REF, xd, mn);
        SIDES {
          wf_real *ab = up(P, s, NULL, mn), *dg = up(P, s, pre, (size_t)n);
          wf_real *db = up(P, s, pre, (size_t)n);
          be(P, s)->ln_double(cx(P, s), with_nbar ? up(P, s, hn, mn) : NULL,
                              up(P, s, hq, mn), up(P, s, hd, mn), up(P, s, hx, mn),
                              up(P, s, hxd, mn), up(P, s, hr, (size_t)m),
                              up(P, s, hg, (size_t)n), m, n, ab, dg, db);
          r[s][0] = down(P, s, ab, mn);
          r[s][1] = down(P, s, dg, (size_t)n);
          r[s][2] = down(P, s, db, (size_t)n);
        }
        cmp(P, "abar", r[TEST][0], r[REF][0], mn, 1e-4, 0, 1e-4);
        cmp(P, "dgamma", r[TEST][1], r[REF][1], (size_t)n, 1e-4, 0, 1e-4);
        cmp(P, "dbeta", r[TEST][2], r[REF][2], (size_t)n, 1e-4, 0, 1e-4);
        done(P);
      }
}

static void op_bn_forward(parity *P) {
  for (int a = 0; a < N_MS; a++)
    for (int b = 0; b < N_WIDTHS; b++)
      for (int train = 0; train < 2; train++) {
        int m = MS[a], n = WIDTHS[b];
        if (train && m < 2) continue; /* no batch variance of one row */
        size_t mn = (size_t)m * n;
        label(P, "%d x %d train %d", m, n, train);
        double *ha = rnorm(P, mn, 1.5, 0.5), *hg = runif(P, (size_t)n, 0.5, 1.5);
        double *hb = rnorm(P, (size_t)n, 1, 0), *hm = rnorm(P, (size_t)n, 0.3, 0);
        double *hv = runif(P, (size_t)n, 0.5, 2), *r[2][5];
        SIDES {
          wf_real *o = up(P, s, NULL, mn), *x = up(P, s, NULL, mn);
          wf_real *rs = up(P, s, NULL, (size_t)n), *rm = up(P, s, hm, (size_t)n);
          wf_real *rv = up(P, s, hv, (size_t)n);
          be(P, s)->bn_forward(cx(P, s), up(P, s, ha, mn), m, n,
                               up(P, s, hg, (size_t)n), up(P, s, hb, (size_t)n),
                               rm, rv, train, 0.1, o, x, rs);
          r[s][0] = down(P, s, o, mn);
          r[s][1] = down(P, s, x, mn);
          r[s][2] = down(P, s, rs, (size_t)n);
          r[s][3] = down(P, s, rm, (size_t)n);
          r[s][4] = down(P, s, rv, (size_t)n);
        }
        cmp(P, "out", r[TEST][0], r[REF][0], mn, NORM_TOL, 0, NORM_TOL);
        cmp(P, "xhat", r[TEST][1], r[REF][1], mn, NORM_TOL, 0, NORM_TOL);
        cmp(P, "rstd", r[TEST][2], r[REF][2], (size_t)n, NORM_TOL, 0, 0);
        cmp(P, "run_mean", r[TEST][3], r[REF][3], (size_t)n, NORM_TOL, 0, NORM_TOL);
        cmp(P, "run_var", r[TEST][4], r[REF][4], (size_t)n, NORM_TOL, 0, 0);
        done(P);
      }
}

static void op_bn_backward(parity *P) {
  for (int a = 0; a < N_MS; a++)
    for (int b = 0; b < N_WIDTHS; b++)
      for (int train = 0; train < 2; train++) {
        int m = MS[a], n = WIDTHS[b];
        if (train && m < 2) continue;
        size_t mn = (size_t)m * n;
        label(P, "%d x %d train %d", m, n, train);
        double *ha = rnorm(P, mn, 1.5, 0.5), *hg = runif(P, (size_t)n, 0.5, 1.5);
        double *hb = rnorm(P, (size_t)n, 1, 0), *hm = rnorm(P, (size_t)n, 0.3, 0);
        double *hv = runif(P, (size_t)n, 0.5, 2), *hn = rnorm(P, mn, 1, 0);
        double *pre = rnorm(P, (size_t)n, 1, 0), *r[2][3];
        /* the CPU's forward cache */
        wf_real *x = up(P, REF, NULL, mn), *rs = up(P, REF, NULL, (size_t)n);
        be(P, REF)->bn_forward(cx(P, REF), up(P, REF, ha, mn), m, n,
                               up(P, REF, hg, (size_t)n), up(P, REF, hb, (size_t)n),
                               up(P, REF, hm, (size_t)n), up(P, REF, hv, (size_t)n),
                               train, 0.1, up(P, REF, NULL, mn), x, rs);
        double *hx = down(P, REF, x, mn), *hr = down(P, REF, rs, (size_t)n);
        SIDES {
          wf_real *ab = up(P, s, NULL, mn), *dg = up(P, s, pre, (size_t)n);
          wf_real *db = up(P, s, pre, (size_t)n);
          be(P, s)->bn_backward(cx(P, s), up(P, s, hn, mn), up(P, s, hx, mn),
                                up(P, s, hr, (size_t)n), up(P, s, hg, (size_t)n),
                                m, n, train, ab, dg, db);
          r[s][0] = down(P, s, ab, mn);
          r[s][1] = down(P, s, dg, (size_t)n);
          r[s][2] = down(P, s, db, (size_t)n);
        }
        cmp(P, "abar", r[TEST][0], r[REF][0], mn, NORM_TOL, 0, NORM_TOL);
        cmp(P, "dgamma", r[TEST][1], r[REF][1], (size_t)n, NORM_TOL, 0, NORM_TOL);
        cmp(P, "dbeta", r[TEST][2], r[REF][2], (size_t)n, NORM_TOL, 0, NORM_TOL);
        done(P);
      }
}

/* ---- optimisers -------------------------------------------------------------- */
static const wf_opt_spec OPT_SPECS[] = {
    {.kind = WF_OPT_ADAM, .lr = 0.01, .beta1 = 0.5, .beta2 = 0.9, .eps = 1e-8,
     .weight_decay = 0.1},
    {.kind = WF_OPT_ADAM, .lr = 1e-4, .beta1 = 0.9, .beta2 = 0.999, .eps = 1e-8},
    {.kind = WF_OPT_RMSPROP, .lr = 0.01, .beta2 = 0.99, .eps = 1e-8},
    {.kind = WF_OPT_RMSPROP, .lr = 5e-5, .beta2 = 0.9, .eps = 1e-6,
     .weight_decay = 0.05},
    {.kind = WF_OPT_SGD, .lr = 0.1, .momentum = 0.9, .weight_decay = 0.01},
    {.kind = WF_OPT_SGD, .lr = 0.05}};
#define N_OPT_SPECS 6

/* three steps of the spec's optimiser from p, zero moments, the step slot
 * at t0 steps taken (0, or 41: Adam's bias corrections far from 1) */
static void optimiser(parity *P, wf_opt_kind kind) {
  for (int o = 0; o < N_OPT_SPECS; o++) {
    const wf_opt_spec *op = &OPT_SPECS[o];
    if (op->kind != kind) continue;
    for (int c = 0; c < 8; c++) {
      size_t n = MEM_SIZES[c % 4];
      double t0 = c < 4 ? 0 : 41;
      label(P, "spec %d n %zu steps taken %g", o, n, t0);
      double *hp = rnorm(P, n, 1, 0), *hg[3], *r[2][3], steps[2];
      for (int t = 0; t < 3; t++) hg[t] = rnorm(P, n, 1, 0);
      SIDES {
        wf_real *p = up(P, s, hp, n), *m1 = up(P, s, NULL, n);
        wf_real *m2 = up(P, s, NULL, n);
        double *step = ou_slot_at(&P->side[s], t0);
        for (int t = 0; t < 3; t++) {
          wf_real *g = up(P, s, hg[t], n);
          if (kind == WF_OPT_ADAM)
            be(P, s)->adam(cx(P, s), p, g, m1, m2, n, op, step);
          else if (kind == WF_OPT_RMSPROP)
            be(P, s)->rmsprop(cx(P, s), p, g, m2, n, op, step);
          else
            be(P, s)->sgd(cx(P, s), p, g, m1, n, op, step);
        }
        r[s][0] = down(P, s, p, n);
        r[s][1] = down(P, s, m1, n);
        r[s][2] = down(P, s, m2, n);
        steps[s] = ou_slot(&P->side[s], step, 0);
      }
      cmp(P, "step", &steps[TEST], &steps[REF], 1, 0, 0, 0);
      if (steps[REF] != t0 + 3) fail(P, "the CPU's step slot is not t0 + 3");
      cmp(P, "p", r[TEST][0], r[REF][0], n, 4 * FEPS, 0, 4 * FEPS);
      if (kind != WF_OPT_RMSPROP && (kind == WF_OPT_ADAM || op->momentum != 0))
        cmp(P, "m1", r[TEST][1], r[REF][1], n, 8 * FEPS, 0, 8 * FEPS);
      if (kind != WF_OPT_SGD)
        cmp(P, "m2", r[TEST][2], r[REF][2], n, 8 * FEPS, 0, 8 * FEPS);
      done(P);
    }
  }
}
static void op_adam(parity *P) { optimiser(P, WF_OPT_ADAM); }
static void op_rmsprop(parity *P) { optimiser(P, WF_OPT_RMSPROP); }
static void op_sgd(parity *P) { optimiser(P, WF_OPT_SGD); }

static void op_clamp(parity *P) {
  for (int c = 0; c < 4; c++) {
    size_t n = MEM_SIZES[c];
    label(P, "n %zu", n);
    double *hp = rnorm(P, n, 0.05, 0), *r[2];
    SIDES {
      wf_real *p = up(P, s, hp, n);
      be(P, s)->clamp(cx(P, s), p, n, (wf_real)0.01);
      r[s] = down(P, s, p, n);
    }
    cmp(P, "p", r[TEST], r[REF], n, 0, 0, 0);
    done(P);
  }
}

/* ---- randomness --------------------------------------------------------------- */
typedef struct {
  uint32_t key[2];
  uint64_t counter;
} rng_at;

/* the last stream holds the top uniform (word 0xffffff0a: 1.0 in float) */
static const rng_at STREAMS[] = {{{0, 0}, 0},
                                 {{0x12345678u, 0x9abcdef0u}, (1ull << 32) + 5},
                                 {{0xffffffffu, 1}, 1ull << 40},
                                 {{0x0badcafeu, 0x5eed0001u}, 5287575}};
static const size_t DRAWS[] = {1, 3, 4, 5, 1030, 65537, 807520};
#define N_STREAMS 4

/* two draws of n from one counter slot (the second where the first
 * left it), values and the counter compared */
static void draw(parity *P, int normal) {
  for (int k = 0; k < N_STREAMS; k++)
    for (int c = 0; c < N_DRAWS; c++) {
      const rng_at *st = &STREAMS[k];
      size_t n = DRAWS[c];
      label(P, "stream %d n %zu", k, n);
      double *r[2][2], ctr[2];
      SIDES {
        double *counter = ou_slot_at(&P->side[s], (double)st->counter);
        for (int d = 0; d < 2; d++) {
          wf_real *x = up(P, s, NULL, n);
          if (normal)
            be(P, s)->normal(cx(P, s), x, n, st->key, counter);
          else
            be(P, s)->uniform(cx(P, s), x, n, st->key, counter);
          r[s][d] = down(P, s, x, n);
        }
        ctr[s] = ou_slot(&P->side[s], counter, 0);
      }
      for (int d = 0; d < 2; d++)
        cmp(P, normal ? "z" : "u", r[TEST][d], r[REF][d], n, 0, normal ? 1e-6 : 0, 0);
      cmp(P, "counter", &ctr[TEST], &ctr[REF], 1, 0, 0, 0);
      if (ctr[REF] != (double)(st->counter + 2 * ((n + 3) / 4)))
        fail(P, "the CPU's counter did not advance by ceil(n / 4) a draw");
      done(P);
    }
}
static void op_uniform(parity *P) { draw(P, 0); }
static void op_normal(parity *P) { draw(P, 1); }

static void op_random_index(parity *P) {
  static const int bounds[] = {1, 2, 7, 512, 1030, 60000, (1 << 24) + 1, INT_MAX};
  for (int k = 0; k < N_STREAMS; k++)
    for (int c = 0; c < N_DRAWS; c++)
      for (int b = 0; b < 8; b++) {
        const rng_at *st = &STREAMS[k];
        size_t n = DRAWS[c];
        if (n > 70000 && b % 3 != 0) continue;
        label(P, "stream %d n %zu bound %d", k, n, bounds[b]);
        int *r[2];
        double ctr[2];
        SIDES {
          int *idx = ou_alloc(&P->side[s], n * sizeof(int));
          double *counter = ou_slot_at(&P->side[s], (double)st->counter);
          be(P, s)->random_index(cx(P, s), idx, n, bounds[b], st->key, counter);
          r[s] = ou_down_int(&P->side[s], idx, n);
          ctr[s] = ou_slot(&P->side[s], counter, 0);
        }
        cmp_int(P, "idx", r[TEST], r[REF], n);
        cmp(P, "counter", &ctr[TEST], &ctr[REF], 1, 0, 0, 0);
        if (ctr[REF] != (double)(st->counter + (n + 3) / 4))
          fail(P, "the CPU's counter did not advance by ceil(n / 4)");
        done(P);
      }
}

/* ---- losses and row operations ------------------------------------------------ */
static const size_t LOSS_SIZES[] = {1, 21, 1536, 807520};

static void op_loss(parity *P) {
  for (int kind = 0; kind < WF_LOSS_COUNT; kind++)
    for (int c = 0; c < 4; c++)
      for (int var = 0; var < 4; var++) {
        /* var: 0 plain, 1 accumulate, 2 dy NULL, 3 slot NULL; t alternates */
        size_t n = LOSS_SIZES[c];
        int with_t = (var + c) % 2 == 0;
        label(P, "kind %d n %zu t %s variant %d", kind, n, with_t ? "set" : "NULL",
              var);
        /* no cancellation in the sums: y around 1, t in (0.5, 1.5), or (0, 1)
         * for BCE */
        double *hy = rnorm(P, n, 1, 1), *pre = rnorm(P, n, 1, 0);
        double *ht = kind == WF_LOSS_BCE_LOGITS ? runif(P, n, 0, 1)
                                                : runif(P, n, 0.5, 1.5);
        wf_loss_spec ls = {.kind = (wf_loss_kind)kind, .scale = 1.0 / (double)n,
                           .target = kind == WF_LOSS_BCE_LOGITS ? 1 : 0.75,
                           .accumulate = var == 1};
        double *r[2], v[2];
        SIDES {
          wf_real *dy = var == 2 ? NULL : up(P, s, pre, n);
          double *slot = ou_slots(&P->side[s], 1);
          be(P, s)->loss(cx(P, s), &ls, up(P, s, hy, n),
                         with_t ? up(P, s, ht, n) : NULL, n, dy,
                         var == 3 ? NULL : slot);
          r[s] = dy != NULL ? down(P, s, dy, n) : NULL;
          v[s] = ou_slot(&P->side[s], slot, 0);
        }
        if (r[REF] != NULL)
          cmp(P, "dy", r[TEST], r[REF], n, 4 * FEPS, 0, 4 * FEPS);
        cmp(P, "slot", &v[TEST], &v[REF], 1, 1e-5, 1e-12, 0);
        done(P);
      }
}

static void op_row_norm_loss(parity *P) {
  for (int kind = 0; kind < WF_ROWNORM_COUNT; kind++)
    for (int a = 0; a < N_MS; a++)
      for (int b = 0; b < N_WIDTHS; b++) {
        int m = MS[a], d = WIDTHS[b];
        size_t md = (size_t)m * d;
        int var = (a + b) % 3; /* 0 all outputs, 1 u NULL, 2 slots NULL */
        label(P, "kind %d %d x %d variant %d", kind, m, d, var);
        /* row norms spread around 1; one zero row */
        double *hg = rnorm(P, md, 1.2 / sqrt((double)d), 0);
        for (int j = 0; j < d && m > 1; j++) hg[(size_t)(m / 2) * d + j] = 0;
        double *r[2], v[2][2];
        SIDES {
          wf_real *u = var == 1 ? NULL : up(P, s, NULL, md);
          double *slots = ou_slots(&P->side[s], 2);
          be(P, s)->row_norm_loss(cx(P, s), (wf_rownorm_kind)kind,
                                  up(P, s, hg, md), m, d, 10.0 / m, u,
                                  var == 2 ? NULL : slots,
                                  var == 2 ? NULL : slots + 1);
          r[s] = u != NULL ? down(P, s, u, md) : NULL;
          v[s][0] = ou_slot(&P->side[s], slots, 0);
          v[s][1] = ou_slot(&P->side[s], slots, 1);
        }
        if (r[REF] != NULL)
          cmp(P, "u", r[TEST], r[REF], md, 4 * FEPS, 0, 4 * FEPS);
        cmp(P, "slots", v[TEST], v[REF], 2, 1e-5, 1e-12, 0);
        done(P);
      }
}

/* one op over rows: 0 sq_norm, 1 sq_dist, 2 scale (in place), 3 lerp */
static void row_op(parity *P, int which) {
  for (int a = 0; a < N_MS; a++)
    for (int b = 0; b < N_WIDTHS; b++) {
      int m = MS[a], d = WIDTHS[b];
      size_t md = (size_t)m * d, n_out = which < 2 ? (size_t)m : md;
      label(P, "%d x %d", m, d);
      double *ha = rnorm(P, md, 1, 0), *hb = rnorm(P, md, 1, 0.5);
      double *ht = runif(P, (size_t)m, 0, 1), *r[2];
      SIDES {
        const wf_backend *t = be(P, s);
        wf_real *x = up(P, s, ha, md), *y = up(P, s, hb, md);
        wf_real *w = up(P, s, ht, (size_t)m), *o = up(P, s, NULL, n_out);
        if (which == 0) t->row_sq_norm(cx(P, s), x, m, d, o);
        if (which == 1) t->row_sq_dist(cx(P, s), x, y, m, d, o);
        if (which == 2) { /* in place */
          t->row_scale(cx(P, s), x, w, m, d, x);
          o = x;
        }
        if (which == 3) t->row_lerp(cx(P, s), x, y, w, m, d, o);
        r[s] = down(P, s, o, n_out);
      }
      if (which < 2)
        cmp(P, "out", r[TEST], r[REF], n_out, 1e-5, 0, 0);
      else if (which == 2)
        cmp(P, "out", r[TEST], r[REF], n_out, 0, 0, 0);
      else
        cmp(P, "out", r[TEST], r[REF], n_out, 4 * FEPS, 0, 4 * FEPS);
      done(P);
    }
}
static void op_row_sq_norm(parity *P) { row_op(P, 0); }
static void op_row_sq_dist(parity *P) { row_op(P, 1); }
static void op_row_scale(parity *P) { row_op(P, 2); }
static void op_row_lerp(parity *P) { row_op(P, 3); }

static void op_gather_rows(parity *P) {
  static const int sources[] = {1, 2000};
  for (int a = 0; a < N_MS; a++)
    for (int b = 0; b < N_WIDTHS; b++)
      for (int c = 0; c < 2; c++) {
        int m = MS[a], d = WIDTHS[b], rows = sources[c];
        size_t md = (size_t)m * d;
        label(P, "%d of %d rows x %d", m, rows, d);
        double *src = rnorm(P, (size_t)rows * d, 1, 0), *r[2];
        int *idx = ou_ivec(host(P), (size_t)m);
        for (int i = 0; i < m; i++) idx[i] = (int)(ou_unif(host(P)) * rows);
        idx[0] = rows - 1;
        SIDES {
          wf_real *o = up(P, s, NULL, md);
          be(P, s)->gather_rows(cx(P, s), up(P, s, src, (size_t)rows * d), d,
                                ou_up_int(&P->side[s], idx, (size_t)m), m, o);
          r[s] = down(P, s, o, md);
        }
        cmp(P, "out", r[TEST], r[REF], md, 0, 0, 0);
        done(P);
      }
}

static void op_row_argmin(parity *P) {
  static const int widths[] = {1, 2, 3, 128, 784, 1030};
  for (int a = 0; a < N_MS; a++)
    for (int b = 0; b < 6; b++)
      for (int ties = 0; ties < 2; ties++) {
        int m = MS[a], n = widths[b];
        size_t mn = (size_t)m * n;
        label(P, "%d x %d%s", m, n, ties ? " with ties" : "");
        double *ha = ties ? rlevels(P, mn, 4) : rnorm(P, mn, 1, 0);
        int *r[2];
        double *v[2];
        SIDES {
          int *idx = ou_alloc(&P->side[s], (size_t)m * sizeof(int));
          wf_real *val = up(P, s, NULL, (size_t)m), *x = up(P, s, ha, mn);
          be(P, s)->row_argmin(cx(P, s), x, m, n, idx, val);
          v[s] = down(P, s, val, (size_t)m);
          be(P, s)->row_argmin(cx(P, s), x, m, n, idx, NULL); /* val NULL */
          r[s] = ou_down_int(&P->side[s], idx, (size_t)m);
        }
        cmp_int(P, "idx", r[TEST], r[REF], (size_t)m);
        cmp(P, "val", v[TEST], v[REF], (size_t)m, 0, 0, 0);
        done(P);
      }
}

static void op_softmax_xent(parity *P) {
  static const int classes[] = {1, 2, 10, 33, 128};
  for (int a = 0; a < N_MS; a++)
    for (int b = 0; b < 5; b++) {
      int m = MS[a], k = classes[b];
      size_t mk = (size_t)m * k;
      int var = (a + b) % 3; /* 0 both outputs, 1 dy NULL, 2 slot NULL */
      label(P, "%d x %d variant %d", m, k, var);
      double *hy = rnorm(P, mk, 3, 0);
      int *hl = ou_ivec(host(P), (size_t)m);
      for (int i = 0; i < m; i++) hl[i] = (int)(ou_unif(host(P)) * k);
      double *r[2], v[2];
      SIDES {
        wf_real *dy = var == 1 ? NULL : up(P, s, NULL, mk);
        double *slot = ou_slots(&P->side[s], 1);
        be(P, s)->softmax_xent(cx(P, s), up(P, s, hy, mk),
                               ou_up_int(&P->side[s], hl, (size_t)m), m, k, 1.0 / m, dy,
                               var == 2 ? NULL : slot);
        r[s] = dy != NULL ? down(P, s, dy, mk) : NULL;
        v[s] = ou_slot(&P->side[s], slot, 0);
      }
      /* exp and log in double on both sides: the gradients agree to the
       * float rounding of the same double */
      if (r[REF] != NULL) cmp(P, "dy", r[TEST], r[REF], mk, 2 * FEPS, 0, 2 * FEPS);
      cmp(P, "slot", &v[TEST], &v[REF], 1, 1e-12, 1e-15, 0);
      done(P);
    }
}

/* ---- semi-discrete assignment, index lists ---------------------------------- */
/* c(a_j, y_i) - psi_i in double, and the rounding a wf_real score may carry */
static double as_score(wf_cost_kind cost, const double *a, const double *y,
                       const double *psi, int d, int j, int i, double *slack) {
  double s = 0, mag = 0;
  for (int k = 0; k < d; k++) {
    double u = a[(size_t)j * d + k], v = y[(size_t)i * d + k], e = u - v;
    s += cost == WF_COST_SQ ? 0.5 * e * e : fabs(e);
    mag += cost == WF_COST_SQ ? 0.5 * (u * u + v * v) + fabs(u * v) : fabs(u) + fabs(v);
  }
  *slack = 8 * (d + 4) * FEPS * (mag + fabs(psi[i]));
  return s - psi[i];
}

static void op_ot_assign(parity *P) {
  static const int shapes[][3] = {{1, 1, 1}, {1, 37, 1}, {7, 13, 3}, {64, 1030, 784},
                                  {130, 601, 16}, {1030, 2049, 2}};
  for (int c = 0; c < 2; c++)
    for (int sh = 0; sh < 6; sh++)
      for (int exact = 0; exact < 2; exact++) {
        wf_cost_kind cost = c == 0 ? WF_COST_SQ : WF_COST_L1;
        int m = shapes[sh][0], n = shapes[sh][1], d = shapes[sh][2];
        if (N_MS < 4 && m > 512) continue; /* --quick */
        size_t md = (size_t)m * d, nd = (size_t)n * d;
        label(P, "%s %d x %d x %d%s", c == 0 ? "sq" : "l1", m, n, d, exact ? " exact" : "");
        double *ha = exact ? rlevels(P, md, 5) : rnorm(P, md, 1, 0);
        double *hy = exact ? rlevels(P, nd, 5) : rnorm(P, nd, 1, 0);
        double *hp = exact ? rlevels(P, (size_t)n, 3) : rnorm(P, (size_t)n, 0.5, 0);
        double *hyh = ou_vec(host(P), (size_t)n);
        for (int i = 0; i < n; i++) {
          double q = 0;
          for (int k = 0; k < d; k++) q += hy[(size_t)i * d + k] * hy[(size_t)i * d + k];
          hyh[i] = (double)(wf_real)(0.5 * q);
        }
        int *r[2];
        double *v[2];
        SIDES {
          int *idx = ou_alloc(&P->side[s], (size_t)m * sizeof(int));
          wf_real *val = up(P, s, NULL, (size_t)m);
          be(P, s)->ot_assign(cx(P, s), cost, up(P, s, ha, md), m, up(P, s, hy, nd), n, d,
                              up(P, s, hyh, (size_t)n), up(P, s, hp, (size_t)n), idx, val);
          r[s] = ou_down_int(&P->side[s], idx, (size_t)m);
          v[s] = down(P, s, val, (size_t)m);
        }
        if (exact) cmp_int(P, "idx", r[TEST], r[REF], (size_t)m);
        double *got = ou_vec(host(P), (size_t)m), *ref = ou_vec(host(P), (size_t)m);
        double *bound = ou_vec(host(P), (size_t)m);
        for (int j = 0; j < m; j++) {
          double s1, s2;
          if (r[TEST][j] < 0 || r[TEST][j] >= n) {
            fail(P, "idx out of range");
            continue;
          }
          got[j] = as_score(cost, ha, hy, hp, d, j, r[TEST][j], &s1);
          ref[j] = as_score(cost, ha, hy, hp, d, j, r[REF][j], &s2);
          bound[j] = s1 + s2;
        }
        cmp_bound(P, "score of idx", got, ref, bound, (size_t)m);
        cmp_bound(P, "val", v[TEST], v[REF], bound, (size_t)m);
        done(P);
      }
}

static void op_index_count(parity *P) {
  static const int sizes[][3] = {{1, 1, 1}, {64, 1000, 1000}, {1030, 60000, 1000},
                                 {4096, 7, 3}};
  for (int c = 0; c < 4; c++) {
    int m = sizes[c][0], n = sizes[c][1], bins = sizes[c][2];
    label(P, "%d indices of %d in %d bins", m, n, bins);
    int *hidx = ou_ivec(host(P), (size_t)m);
    for (int j = 0; j < m; j++) hidx[j] = (int)(n * ou_unif(host(P)));
    double *start = rnorm(P, (size_t)bins, 1, 0);
    double *o[2];
    SIDES {
      wf_real *out = up(P, s, start, (size_t)bins);
      int *idx = ou_up_int(&P->side[s], hidx, (size_t)m);
      be(P, s)->index_count(cx(P, s), idx, m, n, bins, (wf_real)(1.0 / 64), out);
      be(P, s)->index_count(cx(P, s), idx, m, n, bins, (wf_real)1, out);
      o[s] = down(P, s, out, (size_t)bins);
    }
    cmp(P, "out", o[TEST], o[REF], (size_t)bins, 0, 0, 0);
    done(P);
  }
}

static void op_count_nonfinite(parity *P) {
  static const size_t sizes[] = {1, 1000, 300007};
  for (int c = 0; c < 3; c++) {
    size_t n = sizes[c];
    label(P, "%zu values", n);
    double *h = rnorm(P, n, 1, 0);
    for (size_t i = 0; i < n; i++) {
      double u = ou_unif(host(P));
      if (u < 0.03) h[i] = u < 0.01 ? NAN : u < 0.02 ? INFINITY : -INFINITY;
      else if (u < 0.05) h[i] = FLT_MAX;
    }
    double v[2];
    SIDES {
      wf_real *x = up(P, s, h, n);
      double *slot = ou_slot_at(&P->side[s], 3);
      be(P, s)->count_nonfinite(cx(P, s), x, n, slot);
      v[s] = ou_slot(&P->side[s], slot, 0);
    }
    cmp(P, "count", &v[TEST], &v[REF], 1, 0, 0, 0);
    done(P);
  }
}

static void op_copy_ints_at(parity *P) {
  const size_t blk = 64;
  const int nb = 5;
  label(P, "%d blocks of %zu", nb, blk);
  int *src = ou_ivec(host(P), blk * nb);
  for (size_t k = 0; k < blk * nb; k++) src[k] = (int)(1000 * ou_unif(host(P)));
  int *l[2];
  double pos[2][2];
  SIDES {
    ou_dev *D = &P->side[s];
    int *list = ou_alloc(D, blk * nb * sizeof(int)), *one = ou_alloc(D, blk * sizeof(int));
    int *all = ou_up_int(D, src, blk * nb), *out = ou_alloc(D, blk * nb * sizeof(int));
    double *wpos = ou_slot_at(D, 0), *rpos = ou_slot_at(D, 0);
    for (int b = 0; b < nb; b++) {
      be(P, s)->copy_ints_at(cx(P, s), one, NULL, all, rpos, blk);
      be(P, s)->copy_ints_at(cx(P, s), list, wpos, one, NULL, blk);
    }
    /* blocks of nothing still move the position */
    for (int b = 0; b < nb; b++) be(P, s)->copy_ints_at(cx(P, s), out, wpos, list, NULL, 0);
    l[s] = ou_down_int(D, list, blk * nb);
    pos[s][0] = ou_slot(D, wpos, 0);
    pos[s][1] = ou_slot(D, rpos, 0);
  }
  cmp_int(P, "list", l[TEST], src, blk * nb);
  cmp_int(P, "list (cpu)", l[REF], src, blk * nb);
  cmp(P, "positions", pos[TEST], pos[REF], 2, 0, 0, 0);
  done(P);
}

/* ---- convolutions lowered to matrix products ----------------------------------- */
static void op_transpose_rows(parity *P) {
  /* m, a, b: an image's channels to channels-last and back, sizes off the
   * GPU's 32 x 32 tiles, single rows and columns */
  static const int shapes[][3] = {{1, 1, 1},   {7, 3, 5},      {1030, 1, 784},
                                  {5, 33, 65}, {64, 3, 1024},  {64, 1024, 3},
                                  {3, 2049, 7}, {16, 64, 4096}};
  for (int c = 0; c < 8; c++) {
    int m = shapes[c][0], a = shapes[c][1], b = shapes[c][2];
    size_t n = (size_t)m * a * b;
    if (N_MS < 4 && n > (1u << 20)) continue; /* --quick */
    label(P, "%d rows of %d x %d", m, a, b);
    double *h = rnorm(P, n, 1, 0), *r[2];
    SIDES {
      wf_real *o = up(P, s, NULL, n);
      be(P, s)->transpose_rows(cx(P, s), up(P, s, h, n), m, a, b, o);
      r[s] = down(P, s, o, n);
    }
    cmp(P, "out", r[TEST], r[REF], n, 0, 0, 0);
    done(P);
  }
}

/* m, c, h, w, kh, kw, stride, pad: padding 0 to 2, strides 1 to 3, 1 x 1
 * and non-square kernels, one wider than the image, pixels no kernel
 * position reaches, and a convolutional critic's first two layers */
static const int CONV_GEOMS[][8] = {
    {1, 1, 5, 7, 3, 3, 1, 0},   {3, 2, 5, 7, 3, 3, 1, 1},    {1, 3, 5, 7, 4, 4, 2, 1},
    {3, 1, 7, 5, 5, 5, 2, 2},   {2, 5, 5, 7, 3, 5, 2, 1},    {2, 3, 5, 7, 1, 1, 2, 0},
    {1, 1, 4, 4, 5, 5, 1, 2},   {2, 2, 8, 7, 3, 2, 3, 1},    {7, 4, 7, 6, 4, 5, 2, 0},
    {64, 1, 28, 28, 4, 4, 2, 1}, {32, 64, 14, 14, 4, 4, 2, 1}};
#define N_CONV_GEOMS ((int)(sizeof(CONV_GEOMS) / sizeof(CONV_GEOMS[0])))

static wf_conv_geom conv_geom(const int p[8]) {
  wf_conv_geom g = {.m = p[0], .c = p[1], .h = p[2], .w = p[3], .kh = p[4],
                    .kw = p[5], .stride = p[6], .pad = p[7]};
  g.ho = (g.h + 2 * g.pad - g.kh) / g.stride + 1;
  g.wo = (g.w + 2 * g.pad - g.kw) / g.stride + 1;
  return g;
}

/* which 0: cols = im2col(x); 1: x = col2im(cols). The outputs start filled
 * with 3, so padding and pixels no kernel reaches must be written. */
static void conv_op(parity *P, int which) {
  for (int k = 0; k < N_CONV_GEOMS; k++) {
    wf_conv_geom g = conv_geom(CONV_GEOMS[k]);
    size_t nx = (size_t)g.m * g.h * g.w * g.c;
    size_t nc = (size_t)g.m * g.ho * g.wo * g.c * g.kh * g.kw;
    if (N_MS < 4 && nc > (1u << 20)) continue; /* --quick */
    label(P, "m %d c %d %d x %d, kernel %d x %d, stride %d, pad %d", g.m, g.c, g.h, g.w,
          g.kh, g.kw, g.stride, g.pad);
    size_t n_in = which == 0 ? nx : nc, n_out = which == 0 ? nc : nx;
    double *h = rnorm(P, n_in, 1, 0), *r[2];
    SIDES {
      wf_real *in = up(P, s, h, n_in), *o = up(P, s, NULL, n_out);
      be(P, s)->fill(cx(P, s), o, n_out, 3);
      if (which == 0) be(P, s)->im2col(cx(P, s), &g, in, o);
      if (which == 1) be(P, s)->col2im(cx(P, s), &g, in, o);
      r[s] = down(P, s, o, n_out);
    }
    cmp(P, which == 0 ? "cols" : "x", r[TEST], r[REF], n_out, 0, 0, 0);
    done(P);
  }
}
static void op_im2col(parity *P) { conv_op(P, 0); }
static void op_col2im(parity *P) { conv_op(P, 1); }

/* ---- graphs ------------------------------------------------------------------ */
/* A short training step, on one side's memory: u ~ U(0, 1) [GM x GD],
 * h = u w, the MSE of h against 0.5 into a slot with its gradient dh,
 * gw = u^T dh, an Adam step on w, GM normals and GM indices, every draw
 * from one stream (the counter slot). The counter and Adam's step count
 * are device slots the ops advance, so a recorded step replays as a new
 * one. */
#define GM 1030 /* several blocks a draw on the GPU: the ticket inside a graph */
#define GD 3
#define GRAPH_RUNS 6 /* the recorded run (the first launch) and 5 replays */
static const uint32_t GKEY[2] = {0x2468aceu, 0x13579bdu};
static const double GCOUNTER = 4294967000.0; /* crosses 2^32 blocks */
static const wf_opt_spec GADAM = {.kind = WF_OPT_ADAM, .lr = 0.01, .beta1 = 0.9,
                                  .beta2 = 0.999, .eps = 1e-8};

typedef struct {
  wf_real *u, *h, *dh, *z; /* [GM x GD], [GM], [GM], [GM] */
  wf_real *w, *gw, *m1, *m2; /* [GD] */
  int *idx;                  /* [GM] */
  double *slots;             /* the counter, Adam's steps taken, the loss */
} gstep_state;

static void gstep_make(parity *P, int s, gstep_state *g) {
  static const double w0[GD] = {0.3, -0.2, 0.5};
  g->u = up(P, s, NULL, GM * GD);
  g->h = up(P, s, NULL, GM);
  g->dh = up(P, s, NULL, GM);
  g->z = up(P, s, NULL, GM);
  g->w = up(P, s, w0, GD);
  g->gw = up(P, s, NULL, GD);
  g->m1 = up(P, s, NULL, GD);
  g->m2 = up(P, s, NULL, GD);
  g->idx = ou_alloc(&P->side[s], GM * sizeof(int));
  g->slots = ou_slots(&P->side[s], 3);
  double at[2] = {GCOUNTER, 0};
  if (be(P, s)->write_scalars(cx(P, s), g->slots, at, 2) != WF_OK)
    fail(P, "write_scalars failed");
}

static void gstep_run(const wf_backend *b, wf_ctx *c, gstep_state *g) {
  b->uniform(c, g->u, GM * GD, GKEY, g->slots);
  b->gemm(c, 0, 0, GM, 1, GD, 1, g->u, GD, g->w, 1, 0, g->h, 1, NULL);
  wf_loss_spec ls = {.kind = WF_LOSS_MSE, .scale = 1.0 / GM, .target = 0.5};
  b->loss(c, &ls, g->h, NULL, GM, g->dh, g->slots + 2);
  b->gemm(c, 1, 0, GD, 1, GM, 1, g->u, GD, g->dh, 1, 0, g->gw, 1, NULL);
  b->adam(c, g->w, g->gw, g->m1, g->m2, GD, &GADAM, g->slots + 1);
  b->normal(c, g->z, GM, GKEY, g->slots);
  b->random_index(c, g->idx, GM, 1000, GKEY, g->slots);
}

/* blocks one step draws */
#define GSTEP_BLOCKS ((GM * GD + 3) / 4 + 2 * ((GM + 3) / 4))

/* both sides' states compared, each value within its op's bound */
static void gstep_compare(parity *P, gstep_state g[2]) {
  double *r[2][8], sl[2][3];
  SIDES {
    r[s][0] = down(P, s, g[s].u, GM * GD);
    r[s][1] = down(P, s, g[s].h, GM);
    r[s][2] = down(P, s, g[s].z, GM);
    r[s][3] = down(P, s, g[s].w, GD);
    r[s][4] = down(P, s, g[s].m1, GD);
    r[s][5] = down(P, s, g[s].m2, GD);
    r[s][6] = down(P, s, g[s].dh, GM);
    int *ix = ou_down_int(&P->side[s], g[s].idx, GM);
    r[s][7] = ou_vec(&P->side[s], GM);
    for (int i = 0; i < GM; i++) r[s][7][i] = ix[i];
    be(P, s)->read_scalars(cx(P, s), sl[s], g[s].slots, 3);
  }
  cmp(P, "u", r[TEST][0], r[REF][0], GM * GD, 0, 0, 0);
  cmp(P, "idx", r[TEST][7], r[REF][7], GM, 0, 0, 0);
  cmp(P, "z", r[TEST][2], r[REF][2], GM, 0, 1e-6, 0);
  cmp(P, "counter/steps", sl[TEST], sl[REF], 2, 0, 0, 0);
  /* the products of a few steps' drifted weights: float sums in another
   * order, through Adam's normalisation */
  cmp(P, "h", r[TEST][1], r[REF][1], GM, 1e-5, 0, 1e-5);
  cmp(P, "dh", r[TEST][6], r[REF][6], GM, 1e-4, 0, 1e-5);
  cmp(P, "w", r[TEST][3], r[REF][3], GD, 1e-5, 0, 1e-5);
  cmp(P, "m1", r[TEST][4], r[REF][4], GD, 1e-4, 0, 1e-5);
  cmp(P, "m2", r[TEST][5], r[REF][5], GD, 1e-4, 0, 1e-5);
  cmp(P, "loss", sl[TEST] + 2, sl[REF] + 2, 1, 1e-5, 0, 0);
}

/* the record's status failed: the context's text */
static void graph_fail(parity *P, const char *what) {
  char msg[WF_MSG_LEN], line[WF_MSG_LEN + 64];
  be(P, TEST)->last_error(cx(P, TEST), msg);
  snprintf(line, sizeof(line), "%s: %s", what, msg);
  fail(P, line);
}

/* record once, launch GRAPH_RUNS times, against as many eager steps */
static void op_graph(parity *P) {
  const wf_graph_ops *go = &be(P, TEST)->graph;
  int eager = go->begin == NULL;
  label(P, "%d steps of u, gemm, mse, gemm, adam, normal, random_index%s",
        GRAPH_RUNS, eager ? " (no graph ops: both eager)" : "");
  gstep_state g[2];
  SIDES gstep_make(P, s, &g[s]);
  for (int i = 0; i < GRAPH_RUNS; i++) gstep_run(be(P, REF), cx(P, REF), &g[REF]);
  if (eager) {
    for (int i = 0; i < GRAPH_RUNS; i++) gstep_run(be(P, TEST), cx(P, TEST), &g[TEST]);
  } else {
    wf_graph *graph = NULL;
    if (go->begin(cx(P, TEST)) != WF_OK) {
      graph_fail(P, "graph begin");
      done(P);
      return;
    }
    gstep_run(be(P, TEST), cx(P, TEST), &g[TEST]);
    if (go->end(cx(P, TEST), &graph) != WF_OK || graph == NULL) {
      graph_fail(P, "graph end");
      done(P);
      return;
    }
    /* recording ran nothing */
    double sl[3];
    be(P, TEST)->read_scalars(cx(P, TEST), sl, g[TEST].slots, 3);
    if (sl[0] != GCOUNTER || sl[1] != 0 || sl[2] != 0)
      fail(P, "recording moved the slots");
    for (int i = 0; i < GRAPH_RUNS; i++) {
      if (go->launch(cx(P, TEST), graph) != WF_OK) graph_fail(P, "graph launch");
      if (i == 0) { /* each run advances the stream and the step count */
        be(P, TEST)->read_scalars(cx(P, TEST), sl, g[TEST].slots, 2);
        if (sl[0] != GCOUNTER + GSTEP_BLOCKS || sl[1] != 1)
          fail(P, "the first launch did not advance the counter and the step");
      }
    }
    go->free(cx(P, TEST), graph);
  }
  gstep_compare(P, g);
  double sl[2];
  be(P, REF)->read_scalars(cx(P, REF), sl, g[REF].slots, 2);
  if (sl[0] != GCOUNTER + GRAPH_RUNS * GSTEP_BLOCKS || sl[1] != GRAPH_RUNS)
    fail(P, "the CPU's counter or step count");
  done(P);
}

/* a record freed without a launch changes nothing; the context then runs
 * the step eagerly as the CPU does */
static void op_graph_unlaunched(parity *P) {
  const wf_graph_ops *go = &be(P, TEST)->graph;
  if (go->begin == NULL) {
    P->skip = "no graph ops";
    return;
  }
  label(P, "record, free, then one eager step");
  gstep_state g[2];
  SIDES gstep_make(P, s, &g[s]);
  wf_graph *graph = NULL;
  if (go->begin(cx(P, TEST)) != WF_OK) {
    graph_fail(P, "graph begin");
    done(P);
    return;
  }
  gstep_run(be(P, TEST), cx(P, TEST), &g[TEST]);
  if (go->end(cx(P, TEST), &graph) != WF_OK || graph == NULL) graph_fail(P, "graph end");
  go->free(cx(P, TEST), graph);
  go->free(cx(P, TEST), NULL);
  double sl[3], *u = down(P, TEST, g[TEST].u, GM * GD), *w = down(P, TEST, g[TEST].w, GD);
  be(P, TEST)->read_scalars(cx(P, TEST), sl, g[TEST].slots, 3);
  if (sl[0] != GCOUNTER || sl[1] != 0 || sl[2] != 0)
    fail(P, "a record never launched moved the slots");
  int moved = 0;
  for (int i = 0; i < GM * GD; i++) moved |= u[i] != 0;
  moved |= w[0] != (wf_real)0.3 || w[1] != (wf_real)-0.2 || w[2] != (wf_real)0.5;
  if (moved) fail(P, "a record never launched changed its buffers");
  SIDES gstep_run(be(P, s), cx(P, s), &g[s]);
  gstep_compare(P, g);
  done(P);
}

/* what must not run while recording, each on a context of its own (the
 * failures are sticky): a cache hit is fine, a cache miss, a host copy
 * and a wait are errors naming themselves, and end gives no record */
static void op_graph_errors(parity *P) {
  const wf_backend *t = be(P, TEST);
  if (t->graph.begin == NULL) {
    P->skip = "no graph ops";
    return;
  }
  static const char *what[] = {"cache hit", "allocation", "read_scalars", "synchronize"};
  for (int k = 0; k < 4; k++) {
    label(P, "%s while recording", what[k]);
    char msg[WF_MSG_LEN];
    wf_ctx *c = NULL;
    if (t->ctx_create(&c, msg) != WF_OK) {
      fail(P, "a second context cannot be created");
      return;
    }
    double *slots = t->alloc(c, sizeof(double)), host[1];
    wf_real *x = t->alloc(c, 1000 * sizeof(wf_real)), *y = NULL;
    t->release(c, x); /* cached: the same size again is a hit */
    wf_graph *graph = NULL;
    if (t->graph.begin(c) != WF_OK) fail(P, "graph begin");
    if (k == 0) {
      y = t->alloc(c, 1000 * sizeof(wf_real));
      if (y != x) fail(P, "a cache hit did not hand the released block back");
      if (y != NULL) t->fill(c, y, 1000, (wf_real)2.5);
    } else if (k == 1) {
      if (t->alloc(c, 3u << 20) != NULL) fail(P, "a cache miss allocated");
    } else if (k == 2) {
      if (t->read_scalars(c, host, slots, 1) == WF_OK) fail(P, "read_scalars ran");
    } else {
      if (t->synchronize(c, msg) == WF_OK) fail(P, "synchronize ran");
    }
    wf_status st = t->graph.end(c, &graph);
    if (k == 0) {
      if (st != WF_OK || graph == NULL) {
        t->last_error(c, msg);
        fail(P, msg);
      } else if (y != NULL) {
        if (t->graph.launch(c, graph) != WF_OK) fail(P, "graph launch");
        double back[1000];
        int ok = t->download(c, back, y, 1000) == WF_OK;
        for (int i = 0; i < 1000; i++) ok &= back[i] == 2.5;
        if (!ok) fail(P, "the recorded fill did not run");
        t->graph.free(c, graph);
        if (t->synchronize(c, msg) != WF_OK) fail(P, msg);
      }
    } else {
      char want[64];
      snprintf(want, sizeof(want), "%s while recording a graph", what[k]);
      st = t->last_error(c, msg);
      if (graph != NULL) fail(P, "end gave a record");
      if (st != WF_ERR_STATE || strstr(msg, want) == NULL) fail(P, "no sticky error");
    }
    t->release(c, y);
    t->release(c, slots);
    t->ctx_free(c);
  }
}

/* ---- fused passes ----------------------------------------------------------- */
/* the sample pass of ops_util.h on both tables; float products summed in
 * another order compound through the pass, so within 1e-4 of each
 * output's scale */
static void op_row_chain(parity *P) {
  for (int a = 0; a < N_MS; a++) {
    int m = MS[a];
    label(P, "sample pass over %d rows", m);
    double *hv[OU_PASS_BUFS], *r[2];
    ou_pass_host(host(P), m, hv);
    size_t n = 0;
    SIDES {
      wf_real *buf[OU_PASS_BUFS];
      wf_row_op ops[16];
      ou_pass_up(&P->side[s], m, hv, buf);
      int steps = ou_pass_chain(buf, ops);
      be(P, s)->row_chain(cx(P, s), m, ops, steps);
      r[s] = ou_pass_down(&P->side[s], m, buf, &n);
    }
    cmp(P, "outputs", r[TEST], r[REF], n, 0, 0, 1e-4);
    done(P);
  }
}

/* weight gradients of a batch of m rows, two entries adding into one
 * gradient, a column-sum bias and a one-output layer */
static void op_grad_products(parity *P) {
  for (int a = 0; a < N_MS; a++) {
    int m = MS[a];
    const int shapes[4][3] = {{m, 128, 2}, {m, 128, 2}, {m, 1, 128}, {m, 37, 1}};
    label(P, "weight gradients over %d rows", m);
    double *ha[4], *hb[4], *hc[4], *hcol[4], *r[2][2];
    for (int e = 0; e < 4; e++) {
      ha[e] = rnorm(P, (size_t)m * shapes[e][1], 1, 0);
      hb[e] = rnorm(P, (size_t)m * shapes[e][2], 1, 0);
      hc[e] = rnorm(P, (size_t)shapes[e][1] * shapes[e][2], 1, 0);
      hcol[e] = rnorm(P, (size_t)shapes[e][1], 1, 0);
    }
    size_t nc = 0, ncol = 0;
    for (int e = 1; e < 4; e++) {
      nc += (size_t)shapes[e][1] * shapes[e][2];
      ncol += (size_t)shapes[e][1];
    }
    SIDES {
      wf_grad_product list[4];
      wf_real *c[4], *col[4];
      for (int e = 0; e < 4; e++) {
        int n = shapes[e][1], k = shapes[e][2];
        c[e] = e == 1 ? c[0] : up(P, s, hc[e], (size_t)n * k);
        col[e] = e == 1 ? col[0] : up(P, s, hcol[e], (size_t)n);
        list[e] = (wf_grad_product){m, n, k, up(P, s, ha[e], (size_t)m * n),
                                    up(P, s, hb[e], (size_t)m * k), c[e],
                                    e == 2 ? NULL : col[e]};
      }
      be(P, s)->grad_products(cx(P, s), list, 4);
      r[s][0] = ou_vec(host(P), nc);
      r[s][1] = ou_vec(host(P), ncol);
      size_t at = 0, atc = 0;
      for (int e = 1; e < 4; e++) {
        size_t len = (size_t)shapes[e][1] * shapes[e][2], lc = (size_t)shapes[e][1];
        memcpy(r[s][0] + at, down(P, s, c[e], len), len * sizeof(double));
        memcpy(r[s][1] + atc, down(P, s, col[e], lc), lc * sizeof(double));
        at += len;
        atc += lc;
      }
    }
    cmp(P, "c", r[TEST][0], r[REF][0], nc, 0, 0, 4 * (sqrt((double)m) + 2) * FEPS);
    cmp(P, "col", r[TEST][1], r[REF][1], ncol, 0, 0, 4 * (sqrt((double)m) + 2) * FEPS);
    done(P);
  }
}

/* ---- the runner ------------------------------------------------------------------ */
typedef struct {
  const char *name;
  void (*run)(parity *P);
} parity_op;

static const parity_op OPS[] = {
    {"context", op_context},         {"upload/download", op_updown},
    {"upload/down_int", op_updown_int}, {"copy", op_copy},
    {"fill", op_fill},               {"scalars", op_scalars},
    {"gemm", op_gemm},               {"add_bias", op_add_bias},
    {"col_sum", op_col_sum},         {"axpy", op_axpy},
    {"scal", op_scal},               {"act_forward", op_act_forward},
    {"act_backward", op_act_backward}, {"act_second", op_act_second},
    {"ln_forward", op_ln_forward},   {"ln_backward", op_ln_backward},
    {"ln_jvp", op_ln_jvp},           {"ln_double", op_ln_double},
    {"bn_forward", op_bn_forward},   {"bn_backward", op_bn_backward},
    {"adam", op_adam},               {"rmsprop", op_rmsprop},
    {"sgd", op_sgd},                 {"clamp", op_clamp},
    {"uniform", op_uniform},         {"normal", op_normal},
    {"random_index", op_random_index}, {"loss", op_loss},
    {"row_norm_loss", op_row_norm_loss}, {"row_sq_norm", op_row_sq_norm},
    {"row_sq_dist", op_row_sq_dist}, {"row_scale", op_row_scale},
    {"row_lerp", op_row_lerp},       {"gather_rows", op_gather_rows},
    {"row_argmin", op_row_argmin},   {"softmax_xent", op_softmax_xent},
    {"ot_assign", op_ot_assign},
    {"index_count", op_index_count}, {"copy_ints_at", op_copy_ints_at},
    {"transpose_rows", op_transpose_rows}, {"im2col", op_im2col},
    {"col2im", op_col2im},           {"count_nonfinite", op_count_nonfinite},
    {"row_chain", op_row_chain},     {"grad_products", op_grad_products},
    {"graph", op_graph},
    {"graph_unlaunched", op_graph_unlaunched}, {"graph_errors", op_graph_errors}};

/* Compare every op of `test` with the CPU table; one line per op on report.
 * Returns the number of ops that failed. */
int wf_parity_run(const wf_backend *test, FILE *report) {
  char msg[WF_MSG_LEN];
  if (wf_backend_check(test, msg) != WF_OK) {
    fprintf(report, "parity: %s\n", msg);
    return 1;
  }
  static parity P; /* large; one run at a time */
  memset(&P, 0, sizeof(P));
  if (ou_open(&P.side[TEST], test, 1) != 0) {
    fprintf(report, "parity: no context on '%s'\n", test->name);
    return 1;
  }
  if (ou_open(&P.side[REF], wf_cpu_backend(), 20240607) != 0) {
    ou_close(&P.side[TEST]);
    fprintf(report, "parity: no CPU context\n");
    return 1;
  }
  /* exact float products on the table under test; a CPU table under test
   * runs on two threads against the reference's one */
  test->knob(P.side[TEST].ctx, "tf32", 0);
  test->knob(P.side[TEST].ctx, "threads", 2);
  test->knob(P.side[TEST].ctx, "adaptive", 0);

  int n_ops = (int)(sizeof(OPS) / sizeof(OPS[0])), n_failed = 0;
  fprintf(report, "parity of '%s' against 'cpu'\n%-18s %11s %11s\n", test->name,
          "op", "max_abs_err", "max_rel_err");
  for (int o = 0; o < n_ops; o++) {
    P.max_abs = P.max_rel = 0;
    P.n_bad = 0;
    P.first[0] = P.label[0] = '\0';
    P.skip = NULL;
    OPS[o].run(&P);
    if (test->synchronize(P.side[TEST].ctx, msg) != WF_OK) fail(&P, msg);
    if (P.skip != NULL && P.n_bad == 0) {
      fprintf(report, "%-18s %11s %11s  SKIP (%s)\n", OPS[o].name, "", "", P.skip);
      continue;
    }
    fprintf(report, "%-18s %11.3e %11.3e  %s\n", OPS[o].name, P.max_abs,
            P.max_rel, P.n_bad ? "FAIL" : "PASS");
    if (P.n_bad) {
      fprintf(report, "    %ld values off; first: %s\n", P.n_bad, P.first);
      n_failed++;
    }
  }
  fprintf(report, "parity: %d ops, %d failed\n", n_ops, n_failed);
  ou_close(&P.side[TEST]);
  ou_close(&P.side[REF]);
  return n_failed;
}

#ifdef WF_PARITY_CUDA
const wf_backend *wf_cuda_backend(void); /* extern "C" in the CUDA objects */
#endif

int main(int argc, char **argv) {
  if (argc > 1 && strcmp(argv[1], "--quick") == 0) {
    N_MS = 3;
    N_WIDTHS = 4;
    N_DRAWS = 5;
    N_SHAPES_MAX = 9;
  }
#ifdef WF_PARITY_CUDA
  const wf_backend *test = wf_cuda_backend();
#else
  const wf_backend *test = wf_cpu_backend(); /* a sanity run: all errors 0 */
#endif
  return wf_parity_run(test, stdout) == 0 ? 0 : 1;
}
