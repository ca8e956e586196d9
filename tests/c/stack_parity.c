/* stack_parity.c — nets as stacks of layers on a backend table under test
 * against the CPU table, pass by pass (float builds).
 *
 * For every layer kind (conv2d at strides 1 and 2 with padding and without
 * a bias, conv_transpose2d with output padding, BatchNorm in training and
 * eval mode, LayerNorm, each activation, reshape between images, flatten +
 * dense) and for the DCGAN generator and critic of the image experiments
 * (28 x 28, latent 100, batch 64), the same net is built on both devices
 * from one seed (the initial parameters must agree: exactly for PyTorch's
 * uniform init, to float rounding for the normal one), then the test side
 * is given the reference's parameters and BatchNorm state, and both run on
 * the same inputs:
 *   forward     y (training mode: and the BatchNorm running statistics)
 *   backward    the parameter gradient and dx along dy
 *   input_grad  g = d/dx sum(dy * y), the parameter gradient left at zero
 *   double_bwd  along u after input_grad: the parameter gradient, dx, du and
 *               S = sum u . g; for one-output nets also backward_rows (row
 *               weights and u); BatchNorm nets: both must refuse
 * BatchNorm nets run every pass in training and in eval mode (running
 * statistics from an earlier batch, restored before every pass).
 *
 * Bound: each value within tol (|cpu_i| + max_j |cpu_j|) of the CPU's, tol
 * 1e-4 (2e-4 for the DCGAN nets: float sums of up to 12544 terms in another
 * order, through two BatchNorms); the line shows, per pass, the largest
 * max |test - cpu| / max |cpu| over its arrays.
 *
 * Kinks: where relu, leaky relu or elu (whose second derivative jumps)
 * meet a pre-activation within rounding of 0, the two tables may take
 * different branches and the gradients differ by far more than rounding
 * (a batch-64 DCGAN net has 1.2 million such values; moving the inputs and
 * parameters by 30 eps flips some and fails the critic at 5e-3). So before
 * the comparison, the bias (or norm shift) feeding each such activation is
 * moved, channel by channel and by at most 1% of the pre-activations' rms,
 * to the point farthest from that channel's pre-activations near 0 on the
 * reference (in every mode run). The line then notes the smallest distance
 * left between a pre-activation and its kink, in rms units: 1e-4 or more,
 * hundreds of times the tables' differences.
 *
 * One line per case and mode, PASS or FAIL (and where it failed the first
 * failing value); then "stack parity: N passed, M failed".
 *
 *   stack_parity            the CPU table against itself, the test side on 2
 *                           threads (a sanity run: the differences come out 0)
 *   stack_parity --quick    the DCGAN nets at batch 8 (compute-sanitizer; the
 *                           default when built with -DWF_STACK_PARITY_QUICK,
 *                           as tests/c/Makefile's sanitizer build is)
 *   stack_parity --perturb  the test side's parameters and inputs moved by
 *                           30 eps relative (more than the tables differ by):
 *                           the bounds and the kinks' margins hold
 *   built with -DWF_PARITY_CUDA and the CUDA backend's objects (as parity.c;
 *   tools/gpu-check): the CUDA table against the CPU's, TF32 off.
 */
#include <float.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "net.h"
#include "layer_specs.h"
#include "stack.h"
#include "test_util.h"

#define TEST 0 /* the table under test */
#define REF 1  /* the CPU table */
#define SIDES for (int s = 0; s < 2; s++)
#define PERTURB_ULPS 30 /* --perturb: relative moves of 30 eps */

enum { C_FWD = 0, C_BWD, C_IGRAD, C_DBL, N_COLS };
static const char *COL_NAMES[N_COLS] = {"forward", "backward", "input_grad",
                                        "double_bwd"};

static wf_device *DEV[2];
#ifdef WF_STACK_PARITY_QUICK /* the sanitizer build of tests/c/Makefile */
static int QUICK = 1;
#else
static int QUICK = 0;
#endif
static int PERTURB = 0;

/* ---- a case's tally ---------------------------------------------------------- */
typedef struct {
  double err[N_COLS]; /* max |test - cpu| / max |cpu| per pass */
  int refused;        /* the double backward refused on both (BatchNorm) */
  long n_bad;
  char first[400];
  const char *pass; /* the pass being compared */
} tally;

static void fail(tally *T, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void fail(tally *T, const char *fmt, ...) {
  if (T->n_bad++ > 0) return;
  va_list ap;
  va_start(ap, fmt);
  int k = snprintf(T->first, sizeof(T->first), "%s: ", T->pass);
  vsnprintf(T->first + k, sizeof(T->first) - (size_t)k, fmt, ap);
  va_end(ap);
}

/* got[n] against ref[n]: each within tol (|ref_i| + max |ref|) */
static void cmp(tally *T, int col, const char *what, const double *got, const double *ref,
                size_t n, double tol) {
  double big = 0, worst = 0;
  for (size_t i = 0; i < n; i++)
    if (fabs(ref[i]) > big) big = fabs(ref[i]);
  long bad0 = T->n_bad;
  for (size_t i = 0; i < n; i++) {
    double e = fabs(got[i] - ref[i]);
    if (isnan(got[i]) || isnan(ref[i])) e = isnan(got[i]) && isnan(ref[i]) ? 0 : INFINITY;
    if (e > worst) worst = e;
    if (e > tol * (fabs(ref[i]) + big) && T->n_bad == bad0)
      fail(T, "%s[%zu] = %.9g, cpu %.9g (max |cpu| %.3g)", what, i, got[i], ref[i], big);
  }
  double rel = big > 0 ? worst / big : worst;
  if (rel > T->err[col]) T->err[col] = rel;
}

/* ---- both devices ------------------------------------------------------------ */
static wf_real *dalloc(int s, size_t n) {
  wf_real *p = wf_device_alloc(DEV[s], n);
  if (p == NULL) {
    fprintf(stderr, "out of device memory\n");
    exit(2);
  }
  return p;
}
static double *hvec(size_t n) {
  double *p = calloc(n > 0 ? n : 1, sizeof(double));
  if (p == NULL) {
    fprintf(stderr, "out of memory\n");
    exit(2);
  }
  return p;
}
static double *down(int s, const wf_real *d, size_t n) {
  double *h = hvec(n);
  wf_device_download(DEV[s], h, d, n);
  return h;
}
/* x (1 +- 30 eps), the sign at random */
static double nudge(double x) {
  return x * (1 + (runif() < 0.5 ? -1 : 1) * PERTURB_ULPS * FLT_EPSILON);
}

/* n normals on the host and on both devices; the test side's nudged under
 * --perturb */
static double *normals(size_t n, wf_real *d[2]) {
  double *h = hvec(n), *t = hvec(n);
  for (size_t i = 0; i < n; i++) h[i] = (double)(wf_real)rnorm();
  for (size_t i = 0; i < n; i++) t[i] = PERTURB ? nudge(h[i]) : h[i];
  SIDES {
    d[s] = dalloc(s, n);
    wf_device_upload(DEV[s], d[s], s == TEST ? t : h, n);
  }
  free(t);
  return h;
}

static wf_layer_spec no_bias(wf_layer_spec l) {
  l.bias = 0;
  return l;
}

/* ---- kinks ------------------------------------------------------------------- */
static int kinked(const wf_layer_spec *l) {
  return l->kind == WF_LAYER_ACTIVATION &&
         (l->act == WF_ACT_RELU || l->act == WF_ACT_LEAKY_RELU || l->act == WF_ACT_ELU);
}

/* Where the shift of layer l's output lives: its first value in the
 * parameters and the number of features (values cycle through them in the
 * channels-last output); 0 when layer l has no bias or shift. */
static size_t shift_of(const wf_net *net, int l, size_t *start) {
  const wf_stack *stk = net->stk;
  const wf_layer_spec *ls = &stk->spec.layer[l];
  wf_shape out = stk->shape[l + 1];
  *start = net->layout.bias[l];
  switch (ls->kind) {
  case WF_LAYER_DENSE:
  case WF_LAYER_CONV2D:
  case WF_LAYER_CONV_T2D:
    return ls->bias ? (size_t)out.c : 0;
  case WF_LAYER_BATCH_NORM:
    return (size_t)out.c;
  case WF_LAYER_LAYER_NORM:
    return wf_shape_size(out);
  default:
    return 0;
  }
}

/* the reference's forward in the modes asked, state restored first; the
 * pre-activations of layer l (its input) of each mode into z[mode] */
static void pre_activations(wf_net *net, const wf_real *x, int m, int modes,
                            const double *state, int l, double *z[2], size_t n) {
  for (int mode = 0; mode < 2; mode++) {
    if (!(modes & (1 << mode))) continue;
    if (net->layout.n_state > 0) wf_net_set_state(net, state);
    wf_mlp_forward(net, x, m, mode == 0, NULL);
    wf_device_download(DEV[REF], z[mode], net->stk->layer[l - 1].y, n);
  }
}

static int by_value(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

/* Move the shift before every kinked activation of the reference net so no
 * pre-activation sits near the kink (see the top); returns the smallest
 * distance left, in rms units of its layer (INFINITY: no kinked layer). */
static double clear_kinks(wf_net *net, const wf_real *x, int m, int modes,
                          const double *state) {
  const wf_stack *stk = net->stk;
  size_t np = net->layout.n_params;
  double *p = hvec(np), margin = INFINITY;
  for (int l = 1; l < stk->spec.n_layers; l++) {
    if (!kinked(&stk->spec.layer[l])) continue;
    size_t start, nf = shift_of(net, l - 1, &start);
    size_t n = (size_t)m * wf_shape_size(stk->shape[l]);
    double *z[2] = {hvec(n), hvec(n)};
    pre_activations(net, x, m, modes, state, l, z, n);
    double ss = 0;
    size_t cnt = 0;
    for (int mode = 0; mode < 2; mode++)
      if (modes & (1 << mode))
        for (size_t i = 0; i < n; i++) ss += z[mode][i] * z[mode][i], cnt++;
    double rms = sqrt(ss / (double)cnt);
    if (nf > 0 && rms > 0) {
      double win = 0.01 * rms; /* the shift's range */
      double *near = hvec(2 * n / nf + 2);
      wf_net_get_params(net, p);
      for (size_t f = 0; f < nf; f++) {
        size_t k = 0;
        for (int mode = 0; mode < 2; mode++)
          if (modes & (1 << mode))
            for (size_t i = f; i < n; i += nf)
              if (fabs(z[mode][i]) < 2 * win) near[k++] = z[mode][i];
        /* t in [-win, win] farthest from every value near 0: an end of the
         * range or the middle of a gap between neighbours */
        qsort(near, k, sizeof(double), by_value);
        double best_t = 0, best_d = -1;
        for (size_t c = 0; c < k + 2; c++) {
          double t = c == k       ? -win
                     : c == k + 1 ? win
                                  : 0.5 * (near[c] + (c + 1 < k ? near[c + 1] : 2 * win));
          if (t < -win) t = -win;
          if (t > win) t = win;
          double d = 2 * win;
          for (size_t j = 0; j < k; j++)
            if (fabs(near[j] - t) < d) d = fabs(near[j] - t);
          if (d > best_d) best_d = d, best_t = t;
        }
        p[start + f] -= best_t;
      }
      wf_net_set_params(net, p);
      free(near);
    }
    /* what is left */
    pre_activations(net, x, m, modes, state, l, z, n);
    for (int mode = 0; mode < 2; mode++)
      if (modes & (1 << mode))
        for (size_t i = 0; i < n; i++)
          if (rms > 0 && fabs(z[mode][i]) / rms < margin) margin = fabs(z[mode][i]) / rms;
    free(z[0]), free(z[1]);
  }
  free(p);
  return margin;
}

/* ---- one case ---------------------------------------------------------------- */
typedef struct {
  const char *name;
  wf_stack_spec spec;
  int m;
  double tol;
} sp_case;

static wf_net *make(int s, const wf_stack_spec *spec, uint64_t seed) {
  char msg[WF_MSG_LEN];
  wf_net *net = NULL;
  if (wf_net_create_stack(spec, DEV[s], seed, &net, msg) != WF_OK) {
    fprintf(stderr, "stack on %s: %s\n", wf_device_backend(DEV[s])->name, msg);
    exit(2);
  }
  return net;
}

/* the parameter gradients of both sides compared, then zeroed */
static void cmp_grads(tally *T, int col, const char *what, wf_net *net[2], double tol) {
  size_t np = net[REF]->layout.n_params;
  double *g[2];
  SIDES {
    g[s] = hvec(np);
    wf_net_get_grad(net[s], g[s]);
  }
  cmp(T, col, what, g[TEST], g[REF], np, tol);
  free(g[0]), free(g[1]);
}

static void cmp_dev(tally *T, int col, const char *what, wf_real *d[2], size_t n,
                    double tol) {
  double *h[2];
  SIDES h[s] = down(s, d[s], n);
  cmp(T, col, what, h[TEST], h[REF], n, tol);
  free(h[0]), free(h[1]);
}

static void check_rc(tally *T, wf_status rc[2], wf_net *net[2], const char *what) {
  SIDES if (rc[s] != WF_OK) fail(T, "%s on %s: %s", what,
                                 wf_device_backend(DEV[s])->name, wf_net_message(net[s]));
}

static void print_line(const char *name, const char *mode, tally *T, double margin) {
  char label[96];
  snprintf(label, sizeof(label), "%s%s", name, mode);
  printf("%-44s", label);
  for (int c = 0; c < N_COLS; c++) {
    if (c == C_DBL && T->refused)
      printf(" %10s", "refused");
    else
      printf(" %10.3e", T->err[c]);
  }
  printf("  %s", T->n_bad ? "FAIL" : "PASS");
  if (isfinite(margin)) printf("  (kinks >= %.1e rms away)", margin);
  printf("\n");
  if (T->n_bad) printf("    %ld values off; first: %s\n", T->n_bad, T->first);
  if (T->n_bad) n_fail++; else n_pass++;
  fflush(stdout);
}

static void run_case(const sp_case *c, uint64_t seed) {
  seed_test_stream(seed * 7919 + 1);
  wf_net *net[2];
  SIDES net[s] = make(s, &c->spec, seed);
  const wf_layout *lay = &net[REF]->layout;
  size_t np = lay->n_params, ns = lay->n_state;
  int m = c->m, in = wf_net_in(net[REF]), out = wf_net_out(net[REF]);
  int bn = wf_net_spec(net[REF])->norm == WF_NORM_BATCH;
  int modes = bn ? 3 : 1; /* bit 0 training, bit 1 eval */
  size_t nx = (size_t)m * in, ny = (size_t)m * out;
  double tol = c->tol;
  tally T0;
  memset(&T0, 0, sizeof(T0));

  /* the same seed, the same initial parameters */
  double *p[2];
  SIDES {
    p[s] = hvec(np);
    wf_net_get_params(net[s], p[s]);
  }
  T0.pass = "init";
  cmp(&T0, C_FWD, "params", p[TEST], p[REF], np,
      c->spec.init == WF_INIT_TORCH ? 0 : 2 * FLT_EPSILON);

  /* inputs; BatchNorm running statistics: another batch's (from zero, one
   * step of momentum 0.1 is a tenth of them) */
  wf_real *x[2], *dy[2], *u[2], *w[2];
  free(normals(nx, x));
  free(normals(ny, dy));
  free(normals(nx, u));
  free(normals((size_t)m, w));
  double *state = hvec(ns);
  if (bn) {
    wf_real *x0[2];
    free(normals(nx, x0));
    wf_net_set_state(net[REF], state);
    wf_mlp_forward(net[REF], x0[REF], m, 1, NULL);
    wf_net_get_state(net[REF], state);
    for (size_t i = 0; i < ns; i++) state[i] *= 10;
    SIDES wf_device_free(DEV[s], x0[s]);
  }
  double margin = clear_kinks(net[REF], x[REF], m, modes, state);
  /* the test side takes the reference's parameters and state */
  wf_net_get_params(net[REF], p[REF]);
  if (PERTURB)
    for (size_t i = 0; i < np; i++)
      p[REF][i] = nudge(p[REF][i]);
  wf_net_set_params(net[TEST], p[REF]);
  SIDES if (ns > 0) wf_net_set_state(net[s], state);
  free(p[0]), free(p[1]);

  wf_real *y[2], *dx[2], *du[2], *g[2];
  double *slot[2];
  SIDES {
    y[s] = dalloc(s, ny);
    dx[s] = dalloc(s, nx);
    du[s] = dalloc(s, nx);
    g[s] = dalloc(s, nx);
    slot[s] = wf_device_alloc_scalars(DEV[s], 1);
  }
  for (int mode = 0; mode < 2; mode++) {
    if (!(modes & (1 << mode))) continue;
    int train = mode == 0;
    tally T = T0;
    if (mode == 1) memset(&T, 0, sizeof(T));
    wf_status rc[2];
#define EACH(what, call)                   \
  do {                                     \
    SIDES {                                \
      if (ns > 0) wf_net_set_state(net[s], state); \
      rc[s] = (call);                      \
    }                                      \
    check_rc(&T, rc, net, what);           \
  } while (0)
    /* forward */
    T.pass = "forward";
    EACH("forward", wf_mlp_forward(net[s], x[s], m, train, y[s]));
    cmp_dev(&T, C_FWD, "y", y, ny, tol);
    if (train && ns > 0) {
      double *st[2];
      SIDES {
        st[s] = hvec(ns);
        wf_net_get_state(net[s], st[s]);
      }
      cmp(&T, C_FWD, "running stats", st[TEST], st[REF], ns, tol);
      free(st[0]), free(st[1]);
    }
    /* backward: parameter gradient and dx */
    T.pass = "backward";
    SIDES wf_net_zero_grad(net[s]);
    EACH("forward", wf_mlp_forward(net[s], x[s], m, train, NULL));
    SIDES rc[s] = wf_mlp_backward(net[s], dy[s], dx[s]);
    check_rc(&T, rc, net, "backward");
    cmp_grads(&T, C_BWD, "param grad", net, tol);
    cmp_dev(&T, C_BWD, "dx", dx, nx, tol);
    /* input gradient; the parameter gradient stays zero */
    T.pass = "input_grad";
    SIDES wf_net_zero_grad(net[s]);
    EACH("forward", wf_mlp_forward(net[s], x[s], m, train, NULL));
    SIDES rc[s] = wf_mlp_input_grad(net[s], dy[s], g[s]);
    check_rc(&T, rc, net, "input_grad");
    cmp_dev(&T, C_IGRAD, "g", g, nx, tol);
    SIDES {
      double *gr = hvec(np), sum = 0;
      wf_net_get_grad(net[s], gr);
      for (size_t i = 0; i < np; i++) sum += fabs(gr[i]);
      if (sum != 0) fail(&T, "input_grad changed the parameter gradient on %s",
                         wf_device_backend(DEV[s])->name);
      free(gr);
    }
    /* double backward, S = sum u . g */
    T.pass = "double_bwd";
    if (bn) {
      SIDES rc[s] = wf_mlp_double_backward(net[s], u[s], dx[s], du[s], slot[s]);
      SIDES if (rc[s] != WF_ERR_UNSUPPORTED)
        fail(&T, "BatchNorm not refused on %s", wf_device_backend(DEV[s])->name);
      T.refused = 1;
    } else {
      double *hg = down(REF, g[REF], nx), *hu = down(REF, u[REF], nx), mag = 0, S[2];
      for (size_t i = 0; i < nx; i++) mag += fabs(hg[i] * hu[i]);
      SIDES {
        wf_net_zero_grad(net[s]);
        wf_device_zero_scalars(DEV[s], slot[s], 1);
      }
      EACH("forward", wf_mlp_forward(net[s], x[s], m, train, NULL));
      SIDES rc[s] = wf_mlp_input_grad(net[s], dy[s], NULL);
      check_rc(&T, rc, net, "input_grad");
      SIDES rc[s] = wf_mlp_double_backward(net[s], u[s], dx[s], du[s], slot[s]);
      check_rc(&T, rc, net, "double backward");
      cmp_grads(&T, C_DBL, "param grad", net, tol);
      cmp_dev(&T, C_DBL, "dx", dx, nx, tol);
      cmp_dev(&T, C_DBL, "du", du, nx, tol);
      SIDES wf_device_read_scalars(DEV[s], &S[s], slot[s], 1);
      if (!(fabs(S[TEST] - S[REF]) <= tol * mag))
        fail(&T, "S = %.9g, cpu %.9g (sum |u g| %.3g)", S[TEST], S[REF], mag);
      if (mag > 0 && fabs(S[TEST] - S[REF]) / mag > T.err[C_DBL])
        T.err[C_DBL] = fabs(S[TEST] - S[REF]) / mag;
      free(hg), free(hu);
      if (out == 1) { /* backward_rows: row weights and u, fused */
        T.pass = "backward_rows";
        SIDES wf_net_zero_grad(net[s]);
        EACH("forward", wf_mlp_forward(net[s], x[s], m, train, NULL));
        SIDES rc[s] = wf_mlp_input_grad(net[s], NULL, NULL);
        check_rc(&T, rc, net, "input_grad");
        SIDES rc[s] = wf_mlp_backward_rows(net[s], w[s], u[s]);
        check_rc(&T, rc, net, "backward_rows");
        cmp_grads(&T, C_DBL, "param grad", net, tol);
      }
    }
#undef EACH
    SIDES if (wf_device_check(DEV[s]) != WF_OK)
      fail(&T, "device %s: %s", wf_device_backend(DEV[s])->name,
           wf_device_message(DEV[s]));
    print_line(c->name, !bn ? "" : train ? ", train" : ", eval", &T, margin);
  }
  SIDES {
    wf_real *bufs[] = {x[s], dy[s], u[s], w[s], y[s], dx[s], du[s], g[s]};
    for (size_t i = 0; i < sizeof(bufs) / sizeof(bufs[0]); i++)
      wf_device_free(DEV[s], bufs[i]);
    wf_device_free(DEV[s], slot[s]);
    wf_net_free(net[s]);
  }
  free(state);
}

/* ---- the cases --------------------------------------------------------------- */
#define MAX_CASES 32
static sp_case CASES[MAX_CASES];
static int N_CASES = 0;

static wf_stack_spec *add(const char *name, int c, int h, int w, int m) {
  sp_case *k = &CASES[N_CASES++];
  memset(k, 0, sizeof(*k));
  k->name = name;
  k->m = m;
  k->tol = 1e-4;
  k->spec.in = (wf_shape){c, h, w};
  k->spec.init = WF_INIT_TORCH;
  return &k->spec;
}
#define L(spec, ly) ((spec)->layer[(spec)->n_layers++] = (ly))

static void make_cases(void) {
  static const char *ACT_NAMES[WF_ACT_COUNT] = {
      "activation identity", "activation relu", "activation leaky_relu(0.2)",
      "activation tanh",     "activation softplus", "activation elu",
      "activation sigmoid"};
  wf_stack_spec *s;
  s = add("conv2d k3 s1 p1", 3, 7, 6, 4);
  L(s, conv(4, 3, 1, 1)), L(s, act(WF_ACT_TANH));
  s = add("conv2d k4 s2 p1 -> flatten -> dense", 2, 9, 8, 4);
  L(s, conv(5, 4, 2, 1)), L(s, act(WF_ACT_SOFTPLUS));
  L(s, layer_of(WF_LAYER_FLATTEN)), L(s, dense(3));
  s = add("conv2d k3 s2 p0 no bias, k1 s1 p0", 3, 7, 7, 3);
  L(s, no_bias(conv(4, 3, 2, 0))), L(s, act(WF_ACT_SIGMOID)), L(s, conv(2, 1, 1, 0));
  s = add("conv_transpose2d k3 s2 p1 op1", 3, 4, 5, 3);
  L(s, conv_t(2, 3, 2, 1, 1)), L(s, act(WF_ACT_TANH));
  s = add("conv_transpose2d k4 s2 p1, k3 s1 p0 no bias", 4, 3, 3, 3);
  L(s, conv_t(3, 4, 2, 1, 0)), L(s, act(WF_ACT_SOFTPLUS));
  L(s, no_bias(conv_t(2, 3, 1, 0, 0)));
  s = add("batch_norm 2-D", 3, 5, 4, 6);
  L(s, conv(4, 3, 1, 1)), L(s, layer_of(WF_LAYER_BATCH_NORM)), L(s, act(WF_ACT_RELU));
  L(s, layer_of(WF_LAYER_FLATTEN)), L(s, dense(2));
  s = add("batch_norm 1-D", 6, 1, 1, 10);
  L(s, dense(8)), L(s, layer_of(WF_LAYER_BATCH_NORM)), L(s, act(WF_ACT_TANH));
  L(s, dense(3));
  s = add("layer_norm 2-D", 2, 6, 6, 4);
  L(s, conv(3, 3, 2, 1)), L(s, layer_of(WF_LAYER_LAYER_NORM)), L(s, act(WF_ACT_ELU));
  L(s, layer_of(WF_LAYER_FLATTEN)), L(s, dense(2));
  s = add("layer_norm 1-D -> dense(1)", 5, 1, 1, 7);
  L(s, dense(9)), L(s, layer_of(WF_LAYER_LAYER_NORM)), L(s, act(WF_ACT_SOFTPLUS));
  L(s, dense(1));
  for (int a = 0; a < WF_ACT_COUNT; a++) {
    s = add(ACT_NAMES[a], 2, 5, 5, 4);
    L(s, conv(3, 3, 1, 1)), L(s, act((wf_activation)a));
    L(s, layer_of(WF_LAYER_FLATTEN)), L(s, dense(2));
  }
  s = add("reshape between images", 2, 3, 4, 3);
  L(s, reshape(3, 2, 4)), L(s, conv(2, 3, 1, 1)), L(s, act(WF_ACT_TANH));
  L(s, reshape(4, 2, 2)), L(s, conv_t(1, 2, 2, 0, 0));
  s = add("flatten -> dense -> dense no bias", 3, 4, 4, 5);
  L(s, layer_of(WF_LAYER_FLATTEN)), L(s, dense(8)), L(s, act(WF_ACT_LEAKY_RELU));
  L(s, no_bias(dense(2)));

  /* the DCGAN pair (28 x 28, latent 100), N(0, 0.02) init as the paper's */
  int m = QUICK ? 8 : 64;
  s = add(QUICK ? "DCGAN generator (batch 8)" : "DCGAN generator (batch 64)", 100, 1, 1,
          m);
  s->init = WF_INIT_NORMAL, s->init_sd = 0.02;
  CASES[N_CASES - 1].tol = 2e-4;
  L(s, dense(128 * 7 * 7)), L(s, reshape(128, 7, 7));
  L(s, layer_of(WF_LAYER_BATCH_NORM)), L(s, act(WF_ACT_RELU));
  L(s, conv_t(64, 4, 2, 1, 0)), L(s, layer_of(WF_LAYER_BATCH_NORM));
  L(s, act(WF_ACT_RELU)), L(s, conv_t(1, 4, 2, 1, 0)), L(s, act(WF_ACT_TANH));
  s = add(QUICK ? "DCGAN critic (batch 8)" : "DCGAN critic (batch 64)", 1, 28, 28, m);
  s->init = WF_INIT_NORMAL, s->init_sd = 0.02;
  CASES[N_CASES - 1].tol = 2e-4;
  L(s, conv(64, 4, 2, 1)), L(s, act(WF_ACT_LEAKY_RELU));
  L(s, conv(128, 4, 2, 1)), L(s, act(WF_ACT_LEAKY_RELU));
  L(s, layer_of(WF_LAYER_FLATTEN)), L(s, dense(1));
}

#ifdef WF_PARITY_CUDA
const wf_backend *wf_cuda_backend(void); /* extern "C" in the CUDA objects */
#endif

int main(int argc, char **argv) {
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--quick") == 0) QUICK = 1;
    else if (strcmp(argv[i], "--perturb") == 0) PERTURB = 1;
    else {
      fprintf(stderr, "usage: stack_parity [--quick] [--perturb]\n");
      return 2;
    }
  }
#ifdef WF_PARITY_CUDA
  const wf_backend *test = wf_cuda_backend();
#else
  const wf_backend *test = wf_cpu_backend(); /* a sanity run: all errors 0 */
#endif
  const wf_backend *bes[2] = {test, wf_cpu_backend()};
  char msg[WF_MSG_LEN];
  SIDES if (wf_device_open(bes[s], &DEV[s], msg) != WF_OK) {
    printf("stack parity: no device '%s': %s\n", bes[s]->name, msg);
    printf("stack parity: 0 passed, 1 failed\n");
    return 1;
  }
  /* exact float products on the table under test; a CPU table under test
   * runs on two threads against the reference's one */
  wf_device_knob(DEV[TEST], "tf32", 0);
  wf_device_knob(DEV[TEST], "threads", 2);
  make_cases();
  printf("stack parity of '%s' against 'cpu'%s: per pass, max |test - cpu| / max |cpu|\n",
         test->name, PERTURB ? " (test side perturbed by 30 eps)" : "");
  printf("%-44s", "case");
  for (int c = 0; c < N_COLS; c++) printf(" %10s", COL_NAMES[c]);
  printf("\n");
  for (int k = 0; k < N_CASES; k++) run_case(&CASES[k], 100 + (uint64_t)k);
  SIDES wf_device_release(DEV[s]);
  printf("stack parity: %d passed, %d failed\n", n_pass, n_fail);
  return n_fail == 0 ? 0 : 1;
}
