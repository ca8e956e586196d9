/* test_core.c — standalone tests of the engine core over the CPU backend:
 * nets and their passes, parameter blocks, clones and aliases, every
 * composition (loss-backward, pull-back, gradient penalties, the Euler
 * step, regression steps, the WGAN critic loss) and the generic trainer
 * with W1-FE (Proposition 4.1) and with OTS/FIT (the dual's gradient, the
 * recorded pairs FIT replays).
 *
 * No R: builds with a C compiler alone. Every buffer the engine sees is
 * allocated, uploaded and downloaded through the device (no host arrays
 * passed as device buffers), so the same tests drive any backend. Built
 * twice by the Makefile: in double (-DWF_DOUBLE), where every pass and
 * composition is checked against central finite differences to a
 * relative error below 1e-6, and in float. Ends with "N passed, N failed".
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "trainer.h"
#include "test_util.h"

#ifdef WF_DOUBLE
#define FD_TOL 1e-6
#endif

static wf_device *dev; /* the device under test */

/* ---- device buffers ------------------------------------------------------ */
static wf_real *dalloc(size_t n) {
  wf_real *p = wf_device_alloc(dev, n);
  if (p == NULL) {
    fprintf(stderr, "out of device memory\n");
    exit(2);
  }
  return p;
}
static void put(wf_real *d, const double *h, size_t n) { wf_device_upload(dev, d, h, n); }
static void get(double *h, const wf_real *d, size_t n) { wf_device_download(dev, h, d, n); }
static double *hvec(size_t n) { return calloc(n > 0 ? n : 1, sizeof(double)); }
static void fill_normal(double *x, size_t n, double sd) {
  for (size_t i = 0; i < n; i++) x[i] = sd * rnorm();
}
/* a device buffer holding n normals (sd), its host copy in *host if wanted */
static wf_real *dnormal(size_t n, double sd, double **host) {
  double *h = hvec(n);
  fill_normal(h, n, sd);
  wf_real *d = dalloc(n);
  put(d, h, n);
  if (host != NULL) *host = h; else free(h);
  return d;
}
#ifdef WF_DOUBLE
static double read_slot(const double *slot) {
  double v = NAN;
  wf_device_read_scalars(dev, &v, slot, 1);
  return v;
}

#endif

/* max |a - b| / max(1e-3, max |b|) */
static double rel_err(const double *a, const double *b, size_t n) {
  double num = 0, den = 1e-3;
  for (size_t i = 0; i < n; i++) {
    double d = fabs(a[i] - b[i]);
    if (d > num || d != d) num = d != d ? INFINITY : d;
    if (fabs(b[i]) > den) den = fabs(b[i]);
  }
  return num / den;
}

static wf_net *make_net(const wf_mlp_spec *s, uint64_t seed) {
  char msg[WF_MSG_LEN];
  wf_net *net = NULL;
  if (wf_net_create(s, dev, seed, &net, msg) != WF_OK) {
    fprintf(stderr, "net: %s\n", msg);
    exit(2);
  }
  return net;
}

#ifdef WF_DOUBLE
/* move parameters off their init so norms and biases are exercised */
static void jiggle(wf_net *net, double sd) {
  size_t np = wf_net_layout(net)->n_params;
  double *p = hvec(np);
  wf_net_get_params(net, p);
  for (size_t i = 0; i < np; i++) p[i] += sd * rnorm();
  wf_net_set_params(net, p);
  free(p);
}

/* central differences of f(ctx) over the net's parameters */
static void fd_params(wf_net *net, double (*f)(void *), void *ctx, double *out) {
  const double h = 1e-6;
  size_t np = wf_net_layout(net)->n_params;
  double *p = hvec(np);
  wf_net_get_params(net, p);
  for (size_t i = 0; i < np; i++) {
    double keep = p[i], val[2];
    for (int sgn = 0; sgn < 2; sgn++) {
      p[i] = keep + (sgn ? -h : h);
      wf_net_set_params(net, p);
      val[sgn] = f(ctx);
    }
    p[i] = keep;
    wf_net_set_params(net, p);
    out[i] = (val[0] - val[1]) / (2 * h);
  }
  free(p);
}

/* central differences of f(ctx) over a device input x [n], host copy xh */
static void fd_input(wf_real *x, double *xh, size_t n, double (*f)(void *),
                     void *ctx, double *out) {
  const double h = 1e-6;
  for (size_t i = 0; i < n; i++) {
    double keep = xh[i], val[2];
    for (int sgn = 0; sgn < 2; sgn++) {
      xh[i] = keep + (sgn ? -h : h);
      put(x, xh, n);
      val[sgn] = f(ctx);
    }
    xh[i] = keep;
    put(x, xh, n);
    out[i] = (val[0] - val[1]) / (2 * h);
  }
}

#endif

/* ---- random streams ----------------------------------------------------- */
static void test_random(void) {
  wf_mlp_spec s = {.n_layers = 1, .widths = {2, 1}, .activation = WF_ACT_RELU};
  wf_net *a = make_net(&s, 7), *b = make_net(&s, 7);
  size_t n = 100003;
  wf_real *u = dalloc(n), *v = dalloc(n);
  double *hu = hvec(n), *hv = hvec(n);
  wf_net_uniform(a, u, n);
  wf_net_uniform(b, v, n);
  get(hu, u, n);
  get(hv, v, n);
  CHECK(memcmp(hu, hv, n * sizeof(double)) == 0, "same seed, same stream");
  double mean = 0, lo = 1, hi = 0;
  for (size_t i = 0; i < n; i++) {
    mean += hu[i];
    if (hu[i] < lo) lo = hu[i];
    if (hu[i] > hi) hi = hu[i];
  }
  mean /= n;
  CHECK(fabs(mean - 0.5) < 0.005 && lo > 0 && hi < 1, "uniform mean %g [%g, %g]",
        mean, lo, hi);
  wf_net_normal(a, u, n);
  get(hu, u, n);
  double m1 = 0, m2 = 0;
  for (size_t i = 0; i < n; i++) m1 += hu[i], m2 += hu[i] * hu[i];
  m1 /= n;
  m2 = m2 / n - m1 * m1;
  CHECK(fabs(m1) < 0.01 && fabs(m2 - 1) < 0.02, "normal mean %g var %g", m1, m2);
  /* a stream split in two draws equals one draw (counter advances by blocks) */
  uint64_t key, ctr;
  wf_net_get_rng(b, &key, &ctr);
  wf_net_uniform(b, v, 8);
  wf_net_set_rng(b, key, ctr);
  wf_net_uniform(b, v + 8, 8);
  get(hv, v, 16);
  CHECK(memcmp(hv, hv + 8, 8 * sizeof(double)) == 0, "set_rng rewinds the stream");
  /* random indices: the same draws as the uniforms, in range */
  int *idx = wf_device_alloc_int(dev, 1000);
  int hidx[1000];
  wf_net_set_rng(b, key, ctr);
  wf_net_uniform(b, v, 1000);
  wf_net_set_rng(b, key, ctr);
  CHECK(wf_net_random_index(b, idx, 1000, 37) == WF_OK, "random_index");
  wf_device_download_int(dev, hidx, idx, 1000);
  get(hv, v, 1000);
  int ok = 1;
  for (int i = 0; i < 1000; i++) {
    wf_real uf = (wf_real)hv[i];
    int want = (int)(uf * 37);
    ok &= hidx[i] == (want > 36 ? 36 : want);
  }
  CHECK(ok, "random_index follows the uniforms");
  CHECK(wf_net_random_index(b, idx, 10, 0) == WF_ERR_ARG, "bound 0 refused");
  wf_device_free(dev, idx);
  wf_device_free(dev, u);
  wf_device_free(dev, v);
  free(hu), free(hv);
  wf_net_free(a);
  wf_net_free(b);
}

/* ---- optimisers against torch.optim's formulas -------------------------- */
static void test_optim(void) {
  wf_mlp_spec s = {.n_layers = 1, .widths = {3, 2}, .activation = WF_ACT_RELU};
  wf_net *net = make_net(&s, 3);
  size_t np = wf_net_layout(net)->n_params;
  double p[8], g[8], m[8] = {0}, v[8] = {0}, got[8];
  wf_opt_spec kinds[3] = {
      {.kind = WF_OPT_ADAM, .lr = 0.01, .beta1 = 0.5, .beta2 = 0.9, .eps = 1e-8,
       .weight_decay = 0.1},
      {.kind = WF_OPT_RMSPROP, .lr = 0.01, .beta2 = 0.99, .eps = 1e-8},
      {.kind = WF_OPT_SGD, .lr = 0.1, .momentum = 0.9, .eps = 1, .weight_decay = 0.01}};
  for (int o = 0; o < 3; o++) {
    wf_opt_spec *op = &kinds[o];
    wf_net_get_params(net, p);
    memset(m, 0, sizeof(m));
    memset(v, 0, sizeof(v));
    wf_net_set_opt_state(net, 0, m, v);
    for (int t = 1; t <= 4; t++) {
      for (size_t i = 0; i < np; i++) g[i] = sin(3.0 * i + t);
      wf_net_set_grad(net, g);
      CHECK(wf_net_opt_step(net, op) == WF_OK, "opt step");
      for (size_t i = 0; i < np; i++) {
        double gi = g[i] + op->weight_decay * p[i];
        if (op->kind == WF_OPT_ADAM) {
          m[i] = op->beta1 * m[i] + (1 - op->beta1) * gi;
          v[i] = op->beta2 * v[i] + (1 - op->beta2) * gi * gi;
          double mh = m[i] / (1 - pow(op->beta1, t)), vh = v[i] / (1 - pow(op->beta2, t));
          p[i] -= op->lr * mh / (sqrt(vh) + op->eps);
        } else if (op->kind == WF_OPT_RMSPROP) {
          v[i] = op->beta2 * v[i] + (1 - op->beta2) * gi * gi;
          p[i] -= op->lr * gi / (sqrt(v[i]) + op->eps);
        } else {
          m[i] = t == 1 ? gi : op->momentum * m[i] + gi;
          p[i] -= op->lr * m[i];
        }
      }
    }
    wf_net_get_params(net, got);
#ifdef WF_DOUBLE
    double tol = 1e-12;
#else
    double tol = 1e-5;
#endif
    CHECK(rel_err(got, p, np) < tol, "optimiser %d: err %g", o, rel_err(got, p, np));
  }
  wf_opt_spec bad = kinds[0];
  bad.lr = -1;
  CHECK(wf_net_opt_step(net, &bad) == WF_ERR_ARG, "negative lr refused");
  CHECK(wf_net_clip(net, 0.01) == WF_OK, "clip");
  wf_net_get_params(net, got);
  int inside = 1;
  for (size_t i = 0; i < np; i++) inside &= fabs(got[i]) <= 0.01 + 1e-9;
  CHECK(inside, "clip clamps every parameter");
  wf_net_free(net);

  /* a bare block (OTS's dual vector): Adam on a given gradient */
  char msg[WF_MSG_LEN];
  wf_block b;
  CHECK(wf_block_init(&b, dev, 5, msg) == WF_OK, "block init");
  double zero[5] = {0}, grad[5] = {1, -2, 3, -4, 5}, after[5];
  put(b.params, zero, 5);
  put(b.grad, grad, 5);
  CHECK(wf_block_step(&b, dev, &kinds[0], msg) == WF_OK && b.step == 1, "block step");
  get(after, b.params, 5);
  int signs = 1; /* Adam's first step moves each value by lr against its gradient */
  for (int i = 0; i < 5; i++) signs &= fabs(after[i] + 0.01 * (grad[i] > 0 ? 1 : -1)) < 1e-6;
  CHECK(signs, "block Adam's first step is -lr sign(g)");
  wf_block_free(&b, dev);
}

#ifdef WF_DOUBLE
/* ---- the passes against finite differences ----------------------------- */
typedef struct {
  wf_net *net;
  int m, train;
  wf_real *x, *dy, *u, *y, *g; /* device */
  double *hx, *hdy, *hu;       /* host copies */
} fd_case;

/* sum(dy * f(x)) */
static double f_out(void *p) {
  fd_case *c = p;
  size_t ny = (size_t)c->m * wf_net_out(c->net);
  double *y = hvec(ny), s = 0;
  wf_mlp_forward(c->net, c->x, c->m, c->train, c->y);
  get(y, c->y, ny);
  for (size_t i = 0; i < ny; i++) s += y[i] * c->hdy[i];
  free(y);
  return s;
}

/* S = sum u . grad_x sum(dy * f(x)) */
static double f_dir(void *p) {
  fd_case *c = p;
  size_t nx = (size_t)c->m * wf_net_in(c->net);
  double *g = hvec(nx), s = 0;
  wf_mlp_forward(c->net, c->x, c->m, c->train, NULL);
  wf_mlp_input_grad(c->net, c->dy, c->g);
  get(g, c->g, nx);
  for (size_t i = 0; i < nx; i++) s += c->hu[i] * g[i];
  free(g);
  return s;
}

static const char *act_names[] = {"identity", "relu", "leaky_relu", "tanh",
                                  "softplus", "elu",  "sigmoid"};

static void check_passes(wf_mlp_spec *s, int train, const char *label) {
  wf_net *net = make_net(s, 11);
  jiggle(net, 0.3);
  size_t np = wf_net_layout(net)->n_params;
  int in = s->widths[0], out = s->widths[s->n_layers], m = 7;
  size_t nx = (size_t)m * in, ny = (size_t)m * out;
  fd_case c = {.net = net, .m = m, .train = train};
  c.x = dnormal(nx, 1, &c.hx);
  c.u = dnormal(nx, 1, &c.hu);
  c.dy = dnormal(ny, 1, &c.hdy);
  c.g = dalloc(nx);
  c.y = dalloc(ny);
  double *fd = hvec(np > nx ? np : nx), *an = hvec(np > nx ? np : nx);
  wf_real *dx = dalloc(nx), *du = dalloc(nx);
  double *slot = wf_device_alloc_scalars(dev, 1);

  /* backward: parameter and input gradients of sum(dy * f) */
  wf_net_zero_grad(net);
  wf_mlp_forward(net, c.x, m, train, c.y);
  wf_status rc = wf_mlp_backward(net, c.dy, dx);
  CHECK(rc == WF_OK, "%s: backward: %s", label, wf_net_message(net));
  wf_net_get_grad(net, an);
  fd_params(net, f_out, &c, fd);
  CHECK(rel_err(an, fd, np) < FD_TOL, "%s: backward param grad err %g", label,
        rel_err(an, fd, np));
  get(an, dx, nx);
  fd_input(c.x, c.hx, nx, f_out, &c, fd);
  CHECK(rel_err(an, fd, nx) < FD_TOL, "%s: backward input grad err %g", label,
        rel_err(an, fd, nx));
  /* input_grad gives the same input gradient, parameter gradient untouched */
  wf_net_zero_grad(net);
  wf_mlp_forward(net, c.x, m, train, NULL);
  wf_mlp_input_grad(net, c.dy, c.g);
  get(an, c.g, nx);
  CHECK(rel_err(an, fd, nx) < FD_TOL, "%s: input_grad err %g", label,
        rel_err(an, fd, nx));
  wf_net_get_grad(net, an);
  double gsum = 0;
  for (size_t i = 0; i < np; i++) gsum += fabs(an[i]);
  CHECK(gsum == 0, "%s: input_grad leaves the parameter gradient alone", label);

  if (s->norm == WF_NORM_BATCH) {
    rc = wf_mlp_double_backward(net, c.u, dx, du, slot);
    CHECK(rc == WF_ERR_UNSUPPORTED, "%s: double backward refuses BatchNorm", label);
  } else {
    /* double backward: S = sum u . g, its parameter and input gradients */
    wf_net_zero_grad(net);
    wf_mlp_forward(net, c.x, m, train, NULL);
    wf_mlp_input_grad(net, c.dy, NULL);
    rc = wf_mlp_double_backward(net, c.u, dx, du, slot);
    CHECK(rc == WF_OK, "%s: double backward: %s", label, wf_net_message(net));
    double value = read_slot(slot), direct = f_dir(&c);
    CHECK(fabs(value - direct) <= 1e-12 * (1 + fabs(direct)), "%s: S %g vs %g",
          label, value, direct);
    wf_net_get_grad(net, an);
    fd_params(net, f_dir, &c, fd);
    CHECK(rel_err(an, fd, np) < FD_TOL, "%s: double backward param grad err %g",
          label, rel_err(an, fd, np));
    get(an, dx, nx);
    fd_input(c.x, c.hx, nx, f_dir, &c, fd);
    CHECK(rel_err(an, fd, nx) < FD_TOL, "%s: double backward input grad err %g",
          label, rel_err(an, fd, nx));
    /* dS/du is the input gradient itself */
    f_dir(&c);
    get(an, du, nx);
    get(fd, c.g, nx);
    CHECK(rel_err(an, fd, nx) < 1e-12, "%s: dS/du", label);
  }
  wf_real *bufs[] = {c.x, c.u, c.dy, c.g, c.y, dx, du};
  for (size_t i = 0; i < sizeof(bufs) / sizeof(bufs[0]); i++) wf_device_free(dev, bufs[i]);
  wf_device_free(dev, slot);
  free(c.hx), free(c.hu), free(c.hdy), free(fd), free(an);
  wf_net_free(net);
}

static void test_passes(void) {
  char label[128];
  for (int a = 0; a < WF_ACT_COUNT; a++)
    for (int norm = 0; norm <= 2; norm++)
      for (int residual = 0; residual <= 1; residual++) {
        wf_mlp_spec s = {.n_layers = 3,
                         .widths = {3, 6, 5, residual ? 3 : 2},
                         .activation = (wf_activation)a,
                         .output_activation = a % 2 ? WF_ACT_IDENTITY : WF_ACT_TANH,
                         .leaky_slope = 0.2,
                         .norm = (wf_norm)norm,
                         .residual = residual,
                         .init = WF_INIT_TORCH};
        for (int train = 0; train <= (norm == WF_NORM_BATCH); train++) {
          snprintf(label, sizeof(label), "%s norm=%d residual=%d train=%d",
                   act_names[a], norm, residual, train);
          check_passes(&s, train, label);
        }
      }
  /* a critic with one output, the shape the penalties use */
  wf_mlp_spec critic = {.n_layers = 4, .widths = {2, 8, 8, 8, 1},
                        .activation = WF_ACT_RELU, .init = WF_INIT_NORMAL,
                        .init_sd = 0.5};
  check_passes(&critic, 0, "relu critic");
}

/* ---- compositions against finite differences ---------------------------- */
typedef struct {
  wf_net *net;
  int m, kind;
  double scale;
  wf_real *x, *t, *u; /* device: input, targets, penalty work space */
  double *slot;
} comp_case;

static const wf_loss_kind loss_kinds[] = {WF_LOSS_LINEAR, WF_LOSS_MSE, WF_LOSS_L1,
                                          WF_LOSS_BCE_LOGITS, WF_LOSS_SQ_HINGE};

/* the loss of wf_loss_backward / wf_pullback, read from its slot */
static double f_loss(void *p) {
  comp_case *c = p;
  wf_loss_spec ls = {(wf_loss_kind)c->kind, c->scale, 0.3, 0};
  wf_device_zero_scalars(dev, c->slot, 1);
  wf_net_zero_grad(c->net);
  wf_loss_backward(c->net, c->x, c->m, 1, &ls, c->t, c->slot, NULL);
  return read_slot(c->slot);
}

/* the penalty of wf_grad_penalty */
static double f_penalty(void *p) {
  comp_case *c = p;
  wf_device_zero_scalars(dev, c->slot, 2);
  wf_net_zero_grad(c->net);
  wf_grad_penalty(c->net, c->x, c->m, (wf_rownorm_kind)c->kind, c->scale, c->u, NULL,
                  c->slot, c->slot + 1);
  return read_slot(c->slot);
}

static void test_compose(void) {
  wf_mlp_spec s = {.n_layers = 3, .widths = {3, 7, 6, 2}, .activation = WF_ACT_TANH,
                   .norm = WF_NORM_LAYER, .init = WF_INIT_TORCH};
  wf_net *net = make_net(&s, 31);
  jiggle(net, 0.3);
  int m = 5, in = 3, out = 2;
  size_t np = wf_net_layout(net)->n_params, nx = (size_t)m * in, ny = (size_t)m * out;
  comp_case c = {.net = net, .m = m, .scale = 0.7};
  double *hx, *ht;
  c.x = dnormal(nx, 1, &hx);
  c.t = dnormal(ny, 1, &ht);
  c.u = dalloc(nx);
  c.slot = wf_device_alloc_scalars(dev, 2);
  double *an = hvec(np), *fd = hvec(np);
  wf_real *dx = dalloc(nx);
  for (size_t k = 0; k < sizeof(loss_kinds) / sizeof(loss_kinds[0]); k++) {
    c.kind = loss_kinds[k];
    /* loss-backward: parameter and input gradients */
    wf_loss_spec ls = {loss_kinds[k], c.scale, 0.3, 0};
    wf_net_zero_grad(net);
    wf_device_zero_scalars(dev, c.slot, 1);
    CHECK(wf_loss_backward(net, c.x, m, 1, &ls, c.t, c.slot, dx) == WF_OK,
          "loss_backward %d", c.kind);
    wf_net_get_grad(net, an);
    fd_params(net, f_loss, &c, fd);
    CHECK(rel_err(an, fd, np) < FD_TOL, "loss_backward kind %d: param grad err %g",
          c.kind, rel_err(an, fd, np));
    double *adx = hvec(nx), *fdx = hvec(nx);
    wf_net_zero_grad(net);
    wf_loss_backward(net, c.x, m, 1, &ls, c.t, c.slot, dx);
    get(adx, dx, nx);
    fd_input(c.x, hx, nx, f_loss, &c, fdx);
    CHECK(rel_err(adx, fdx, nx) < FD_TOL, "loss_backward kind %d: input grad err %g",
          c.kind, rel_err(adx, fdx, nx));
    /* pull-back: the same input gradient, the parameter gradient untouched */
    wf_net_zero_grad(net);
    CHECK(wf_pullback(net, c.x, m, 1, &ls, c.t, c.slot, dx) == WF_OK, "pullback");
    get(adx, dx, nx);
    CHECK(rel_err(adx, fdx, nx) < FD_TOL, "pullback kind %d: err %g", c.kind,
          rel_err(adx, fdx, nx));
    wf_net_get_grad(net, an);
    double gsum = 0;
    for (size_t i = 0; i < np; i++) gsum += fabs(an[i]);
    CHECK(gsum == 0, "pullback leaves the parameter gradient alone");
    free(adx), free(fdx);
  }
  wf_net_free(net);

  /* gradient penalties on a one-output critic: every row-norm kind */
  wf_mlp_spec cs = {.n_layers = 3, .widths = {3, 8, 8, 1}, .activation = WF_ACT_SOFTPLUS,
                    .init = WF_INIT_NORMAL, .init_sd = 1.2};
  net = make_net(&cs, 5);
  c.net = net;
  np = wf_net_layout(net)->n_params;
  double *an2 = hvec(np), *fd2 = hvec(np);
  for (int kind = WF_ROWNORM_NORM; kind < WF_ROWNORM_COUNT; kind++) {
    c.kind = kind;
    f_penalty(&c);
    wf_net_get_grad(net, an2);
    fd_params(net, f_penalty, &c, fd2);
    CHECK(rel_err(an2, fd2, np) < FD_TOL, "grad_penalty kind %d: err %g", kind,
          rel_err(an2, fd2, np));
  }
  /* the Euler step: zeta = y + step grad f(y), either sign */
  wf_real *g = dalloc(nx), *zeta = dalloc(nx);
  double *hg = hvec(nx), *hz = hvec(nx), *num = hvec(nx);
  for (int sgn = -1; sgn <= 1; sgn += 2) {
    wf_device_zero_scalars(dev, c.slot, 1);
    CHECK(wf_euler_step(net, c.x, m, 0.4 * sgn, g, zeta, c.slot) == WF_OK, "euler");
    get(hg, g, nx);
    get(hz, zeta, nx);
    /* grad f by differences of sum f */
    wf_real *y1 = dalloc(m);
    for (size_t i = 0; i < nx; i++) {
      double keep = hx[i], val[2];
      for (int k = 0; k < 2; k++) {
        hx[i] = keep + (k ? -1e-6 : 1e-6);
        put(c.x, hx, nx);
        double *hy = hvec(m), sum = 0;
        wf_mlp_forward(net, c.x, m, 0, y1);
        get(hy, y1, m);
        for (int r = 0; r < m; r++) sum += hy[r];
        free(hy);
        val[k] = sum;
      }
      hx[i] = keep;
      put(c.x, hx, nx);
      num[i] = (val[0] - val[1]) / 2e-6;
    }
    wf_device_free(dev, y1);
    CHECK(rel_err(hg, num, nx) < FD_TOL, "euler: grad err %g", rel_err(hg, num, nx));
    double zerr = 0, norms = 0;
    for (size_t i = 0; i < nx; i++) zerr = fmax(zerr, fabs(hz[i] - (hx[i] + 0.4 * sgn * hg[i])));
    for (int r = 0; r < m; r++) {
      double sq = 0;
      for (int k = 0; k < in; k++) sq += hg[r * in + k] * hg[r * in + k];
      norms += sqrt(sq) / m;
    }
    CHECK(zerr < 1e-12, "euler: zeta = y + step g (err %g)", zerr);
    CHECK(fabs(read_slot(c.slot) - norms) < 1e-12, "euler: mean |g|");
  }
  /* a regression step with SGD moves the parameters by -lr * the gradient */
  wf_mlp_spec gs = {.n_layers = 2, .widths = {3, 6, 3}, .activation = WF_ACT_ELU,
                    .init = WF_INIT_TORCH};
  wf_net *gen = make_net(&gs, 8);
  size_t ng = wf_net_layout(gen)->n_params;
  double *p0 = hvec(ng), *p1 = hvec(ng), *gfd = hvec(ng);
  wf_real *target = dnormal(nx, 1, NULL);
  wf_opt_spec sgd = {.kind = WF_OPT_SGD, .lr = 0.05, .eps = 1};
  comp_case r = {.net = gen, .m = m, .kind = WF_LOSS_MSE, .scale = 1.0 / m, .x = c.x,
                 .t = target, .slot = c.slot};
  wf_net_get_params(gen, p0);
  fd_params(gen, f_loss, &r, gfd);
  double before = f_loss(&r);
  wf_device_zero_scalars(dev, c.slot, 1);
  wf_loss_spec mse = {WF_LOSS_MSE, 1.0 / m, 0, 0};
  CHECK(wf_regress_step(gen, c.x, m, target, &mse, &sgd, c.slot) == WF_OK, "regress");
  CHECK(fabs(read_slot(c.slot) - before) < 1e-12, "regress: the loss before the step");
  wf_net_get_params(gen, p1);
  for (size_t i = 0; i < ng; i++) p0[i] -= 0.05 * gfd[i];
  CHECK(rel_err(p1, p0, ng) < 1e-8, "regress: SGD step err %g", rel_err(p1, p0, ng));
  wf_device_free(dev, target);
  free(p0), free(p1), free(gfd);
  wf_net_free(gen);

  wf_real *bufs[] = {c.x, c.t, c.u, dx, g, zeta};
  for (size_t i = 0; i < sizeof(bufs) / sizeof(bufs[0]); i++) wf_device_free(dev, bufs[i]);
  wf_device_free(dev, c.slot);
  free(hx), free(ht), free(an), free(fd), free(an2), free(fd2), free(hg), free(hz), free(num);
  wf_net_free(net);
}

/* ---- the WGAN critic loss with GP and LP against finite differences ----- */
typedef struct {
  wf_net *net;
  wf_critic_ws ws;
  wf_real *real, *fake, *t;
  double *slots;
  int m, pen;
} critic_case;

static double f_critic(void *p) {
  critic_case *c = p;
  double h[WF_CRITIC_SLOTS];
  wf_critic_report rep;
  wf_device_zero_scalars(dev, c->slots, WF_CRITIC_SLOTS);
  wf_net_zero_grad(c->net);
  wf_critic_loss_grad(c->net, &c->ws, c->real, c->fake, c->m, c->t,
                      (wf_penalty)c->pen, 10, c->slots);
  wf_device_read_scalars(dev, h, c->slots, WF_CRITIC_SLOTS);
  wf_critic_report_of(h, 1, (wf_penalty)c->pen, &rep);
  return rep.loss;
}

static void test_critic_loss(void) {
  wf_mlp_spec s = {.n_layers = 3, .widths = {2, 8, 8, 1},
                   .activation = WF_ACT_TANH, .init = WF_INIT_NORMAL,
                   .init_sd = 0.8, .norm = WF_NORM_LAYER};
  critic_case c = {.net = make_net(&s, 5), .m = 9};
  double ht[9];
  c.real = dnormal(18, 1, NULL);
  c.fake = dnormal(18, 1, NULL);
  for (int i = 0; i < 9; i++) ht[i] = runif();
  c.t = dalloc(9);
  put(c.t, ht, 9);
  c.slots = wf_device_alloc_scalars(dev, WF_CRITIC_SLOTS);
  size_t np = wf_net_layout(c.net)->n_params;
  double *an = hvec(np), *fd = hvec(np);
  for (c.pen = 0; c.pen <= 2; c.pen++) {
    f_critic(&c);
    wf_net_get_grad(c.net, an);
    fd_params(c.net, f_critic, &c, fd);
    CHECK(rel_err(an, fd, np) < FD_TOL, "critic loss penalty=%d: err %g", c.pen,
          rel_err(an, fd, np));
  }
  wf_critic_ws_free(&c.ws);
  wf_device_free(dev, c.real);
  wf_device_free(dev, c.fake);
  wf_device_free(dev, c.t);
  wf_device_free(dev, c.slots);
  free(an), free(fd);
  wf_net_free(c.net);
}
#endif

/* ---- clones, aliases and copies ------------------------------------------ */
static void test_clone_alias(void) {
  wf_mlp_spec s = {.n_layers = 2, .widths = {2, 5, 1}, .activation = WF_ACT_TANH,
                   .init = WF_INIT_TORCH};
  char msg[WF_MSG_LEN];
  wf_net *net = make_net(&s, 17), *clone = NULL, *alias = NULL, *other = make_net(&s, 18);
  size_t np = wf_net_layout(net)->n_params;
  double *p0 = hvec(np), *p1 = hvec(np), *g0 = hvec(np), *g1 = hvec(np), *g2 = hvec(np);
  CHECK(wf_net_clone(net, &clone, msg) == WF_OK, "clone: %s", msg);
  CHECK(wf_net_alias(net, &alias, msg) == WF_OK, "alias: %s", msg);
  wf_net_get_params(net, p0);
  wf_net_get_params(clone, p1);
  CHECK(memcmp(p0, p1, np * sizeof(double)) == 0, "a clone starts equal");
  double *hx;
  wf_real *a = dnormal(8, 1, &hx), *b = dnormal(8, 1, NULL), *ones = dalloc(4);
  double one4[4] = {1, 1, 1, 1};
  put(ones, one4, 4);
  /* an alias and its net at two points in one step: the gradients add up */
  wf_net_zero_grad(net);
  wf_mlp_forward(net, a, 4, 1, NULL);
  wf_mlp_forward(alias, b, 4, 1, NULL);
  CHECK(wf_mlp_backward(net, ones, NULL) == WF_OK, "net backward after alias forward");
  CHECK(wf_mlp_backward(alias, ones, NULL) == WF_OK, "alias backward");
  wf_net_get_grad(net, g2);
  wf_net_zero_grad(net);
  wf_mlp_forward(net, a, 4, 1, NULL);
  wf_mlp_backward(net, ones, NULL);
  wf_net_get_grad(net, g0);
  wf_net_zero_grad(net);
  wf_mlp_forward(net, b, 4, 1, NULL);
  wf_mlp_backward(net, ones, NULL);
  wf_net_get_grad(net, g1);
  for (size_t i = 0; i < np; i++) g0[i] += g1[i];
  CHECK(rel_err(g2, g0, np) < 1e-5, "alias: separate caches, shared gradient (err %g)",
        rel_err(g2, g0, np));
  /* a step through the alias moves the net; the clone stays */
  wf_opt_spec sgd = {.kind = WF_OPT_SGD, .lr = 0.1, .eps = 1};
  wf_net_opt_step(alias, &sgd);
  wf_net_get_params(net, p1);
  CHECK(memcmp(p0, p1, np * sizeof(double)) != 0, "a step through an alias moves the net");
  wf_net_get_params(clone, p1);
  CHECK(memcmp(p0, p1, np * sizeof(double)) == 0, "a clone is a frozen snapshot");
  /* copy_params: other := net */
  CHECK(wf_net_copy_params(other, net) == WF_OK, "copy_params");
  wf_net_get_params(net, p0);
  wf_net_get_params(other, p1);
  CHECK(memcmp(p0, p1, np * sizeof(double)) == 0, "copy_params copies");
  wf_mlp_spec wider = s;
  wider.widths[1] = 6;
  wf_net *w = make_net(&wider, 1);
  CHECK(wf_net_copy_params(w, net) == WF_ERR_ARG, "copy_params refuses other shapes");
  wf_net_free(w);
  wf_net_free(net); /* the alias keeps the parameters alive */
  CHECK(wf_mlp_forward(alias, a, 4, 0, NULL) == WF_OK, "an alias outlives its net");
  wf_net_free(alias);
  wf_net_free(clone);
  wf_net_free(other);
  wf_device_free(dev, a);
  wf_device_free(dev, b);
  wf_device_free(dev, ones);
  free(hx), free(p0), free(p1), free(g0), free(g1), free(g2);
}

/* ---- the trainer with W1-FE: Proposition 4.1 and the phases -------------- */
static wf_trainer *w1fe_trainer(uint64_t seed, const double *data, int n,
                                const wf_opt_spec *gen_opt, wf_net **nets) {
  wf_mlp_spec cs = {.n_layers = 3, .widths = {2, 16, 16, 1},
                    .activation = WF_ACT_TANH, .init = WF_INIT_TORCH};
  wf_mlp_spec gs = {.n_layers = 3, .widths = {3, 16, 16, 2},
                    .activation = WF_ACT_RELU, .init = WF_INIT_TORCH};
  nets[0] = make_net(&cs, seed);
  nets[1] = make_net(&gs, seed + 1);
  wf_opt_spec opts[2] = {{.kind = WF_OPT_ADAM, .lr = 1e-3, .beta1 = 0.5, .beta2 = 0.9,
                          .eps = 1e-8},
                         *gen_opt};
  int rows = n, cols = 2;
  char msg[WF_MSG_LEN];
  wf_trainer *t = NULL;
  wf_status rc = wf_trainer_create(wf_algo_find("w1fe"), nets, opts, 2, &data, &rows,
                                   &cols, 1, &t, msg);
  CHECK(rc == WF_OK, "trainer: %s", msg);
  return t;
}

static wf_status phase(wf_trainer *t, const char *name, const char *const *names,
                       const double *values, int n, double *out) {
  wf_args a = {names, values, n};
  const wf_phase *p = wf_trainer_phase(t, name);
  return p == NULL ? WF_ERR_ARG : wf_trainer_run(t, p, &a, out);
}

static void test_w1fe(void) {
  int n = 300, m = 64;
  double *data = hvec((size_t)n * 2);
  for (int i = 0; i < 2 * n; i++) data[i] = rnorm() + (i % 2 ? 2 : -1);
  double gamma = 0.05, eps = 0.7;
  wf_opt_spec sgd = {.kind = WF_OPT_SGD, .lr = gamma, .eps = 1};
  wf_opt_spec sgd_wgan = sgd;
  sgd_wgan.lr = 2 * eps * gamma;
  const char *crit_names[] = {"batch_size", "steps", "penalty", "lambda"};
  const double crit_vals[] = {m, 3, WF_PENALTY_LP, 10};
  const char *euler_names[] = {"batch_size", "step_size"};
  const double euler_vals[] = {m, eps};
  const char *fit_names[] = {"persistency", "mode"};
  double out[4];
  /* Proposition 4.1: one Euler-fit update with SGD(gamma) equals the WGAN
   * generator update with SGD(2 eps gamma), from the same state and z */
  wf_net *nets[2][2];
  wf_trainer *t[2];
  for (int r = 0; r < 2; r++) {
    t[r] = w1fe_trainer(21, data, n, r == 0 ? &sgd : &sgd_wgan, nets[r]);
    CHECK(phase(t[r], "critic", crit_names, crit_vals, 4, out) == WF_OK,
          "critic phase: %s", wf_trainer_message(t[r]));
    CHECK(isfinite(out[0]) && isfinite(out[1]) && out[3] > 0, "critic outputs");
    CHECK(phase(t[r], "euler", euler_names, euler_vals, 2, out) == WF_OK, "euler");
    CHECK(out[0] > 0, "euler grad norm %g", out[0]);
    double fit_vals[] = {1, r};
    CHECK(phase(t[r], "fit", fit_names, fit_vals, 2, out) == WF_OK, "fit: %s",
          wf_trainer_message(t[r]));
    /* G(z) - zeta = -eps grad phi, so the first MSE is eps^2 mean |grad|^2 */
    if (r == 0) CHECK(out[0] > 0 && out[0] == out[1], "one step: first == last");
  }
  size_t np = wf_net_layout(nets[0][1])->n_params;
  double *p0 = hvec(np), *p1 = hvec(np);
  wf_net_get_params(nets[0][1], p0);
  wf_net_get_params(nets[1][1], p1);
#ifdef WF_DOUBLE
  double tol41 = 1e-12;
#else
  double tol41 = 1e-6; /* float rounding of 2 eps gamma and of the sums */
#endif
  CHECK(rel_err(p0, p1, np) < tol41, "Proposition 4.1: err %g", rel_err(p0, p1, np));
  /* K steps of the regression decrease its loss */
  wf_net_get_params(nets[0][1], p0);
  CHECK(phase(t[0], "euler", euler_names, euler_vals, 2, out) == WF_OK, "euler");
  wf_opt_spec adam = {.kind = WF_OPT_ADAM, .lr = 1e-3, .beta1 = 0.5, .beta2 = 0.9,
                      .eps = 1e-8};
  t[0]->opts[1] = adam;
  double k20[] = {20, 0};
  CHECK(phase(t[0], "fit", fit_names, k20, 2, out) == WF_OK && out[1] < out[0],
        "persistent fit decreases the MSE: %g -> %g", out[0], out[1]);
  double k0[] = {0, 0};
  CHECK(phase(t[0], "fit", fit_names, k0, 2, out) == WF_ERR_ARG, "K = 0 refused");
  CHECK(phase(t[0], "critic", euler_names, euler_vals, 2, out) == WF_ERR_ARG &&
            strstr(wf_trainer_message(t[0]), "steps") != NULL,
        "a missing argument is named: %s", wf_trainer_message(t[0]));
  CHECK(phase(t[0], "critic", crit_names, crit_vals, 4, out) == WF_OK, "critic again");
  CHECK(phase(t[0], "fit", fit_names, k20, 2, out) == WF_ERR_STATE,
        "fit after a critic phase needs a new Euler step");
  CHECK(phase(t[0], "nope", NULL, NULL, 0, out) == WF_ERR_ARG, "unknown phase");
  /* samples from a key leave the generator's stream alone */
  uint64_t k0_, c0, k1, c1;
  wf_net *gen = nets[0][1];
  wf_net_get_rng(gen, &k0_, &c0);
  wf_real *o1 = dalloc(20), *o2 = dalloc(20);
  double h1[20], h2[20];
  wf_generate(gen, 10, 99, o1);
  wf_generate(gen, 10, 99, o2);
  get(h1, o1, 20);
  get(h2, o2, 20);
  wf_net_get_rng(gen, &k1, &c1);
  CHECK(k0_ == k1 && c0 == c1 && memcmp(h1, h2, sizeof(h1)) == 0,
        "wf_generate is keyed and leaves the stream alone");
  wf_device_free(dev, o1);
  wf_device_free(dev, o2);
  for (int r = 0; r < 2; r++) {
    wf_trainer_free(t[r]);
    wf_net_free(nets[r][0]);
    wf_net_free(nets[r][1]);
  }
  free(p0), free(p1), free(data);
}

/* ---- the trainer with OTS/FIT ------------------------------------------------ */
static wf_trainer *ots_trainer(const char *algo, const double *data, int n,
                               const double *source, int n_src, wf_opt_spec gen_opt,
                               wf_net **gen) {
  wf_mlp_spec gs = {.n_layers = 2, .widths = {2, 16, 2}, .activation = WF_ACT_RELU,
                    .init = WF_INIT_TORCH};
  *gen = make_net(&gs, 5);
  const double *sets[2] = {data, source};
  int rows[2] = {n, n_src}, cols[2] = {2, 2};
  char msg[WF_MSG_LEN];
  wf_trainer *t = NULL;
  wf_status rc = wf_trainer_create(wf_algo_find(algo), gen, &gen_opt, 1, sets, rows, cols,
                                   source != NULL ? 2 : 1, &t, msg);
  CHECK(rc == WF_OK, "%s trainer: %s", algo, msg);
  return t;
}

static double sq_cost(const double *a, const double *b) {
  return 0.5 * ((a[0] - b[0]) * (a[0] - b[0]) + (a[1] - b[1]) * (a[1] - b[1]));
}

static void test_ots(void) {
#ifdef WF_DOUBLE
  const double tol = 1e-12;
#else
  const double tol = 2e-6;
#endif
  int n = 40, n_src = 90, m = 32;
  double *data = hvec((size_t)n * 2), *src = hvec((size_t)n_src * 2);
  for (int i = 0; i < 2 * n; i++) data[i] = (double)(wf_real)rnorm();
  for (int i = 0; i < 2 * n_src; i++) src[i] = (double)(wf_real)(0.5 * rnorm() + 1);
  wf_opt_spec sgd0 = {.kind = WF_OPT_SGD, .lr = 0, .eps = 1};
  wf_net *gen;
  wf_trainer *t = ots_trainer("semidiscrete", data, n, src, n_src, sgd0, &gen);
  /* one step of plain gradient ascent (SGD, lr 1) from psi = 0 on source
   * rows: psi becomes the gradient 1/N - count/B; the assignment is the
   * nearest data row; dual and primal are the mean nearest cost */
  const char *names[] = {"batch_size", "cost", "max_steps", "check_every", "source",
                         "psi_opt", "psi_lr"};
  double vals[] = {m, WF_COST_SQ, 1, 1, 1, WF_OPT_SGD, 1};
  double out[8];
  CHECK(phase(t, "ots", names, vals, 7, out) == WF_OK, "ots step: %s", wf_trainer_message(t));
  double *psi = hvec((size_t)n), *idx = hvec((size_t)m), *rows = hvec((size_t)m);
  CHECK(wf_trainer_buffer_get(t, "psi", 0, psi, (size_t)n) == WF_OK &&
            wf_trainer_buffer_get(t, "idx", 1, idx, (size_t)m) == WF_OK &&
            wf_trainer_buffer_get(t, "src_idx", 1, rows, (size_t)m) == WF_OK,
        "buffers: %s", wf_trainer_message(t));
  int nearest = 1;
  double mean_cost = 0;
  for (int j = 0; j < m; j++) {
    const double *aj = src + 2 * (size_t)rows[j];
    int b = 0;
    for (int i = 1; i < n; i++)
      if (sq_cost(aj, data + 2 * i) < sq_cost(aj, data + 2 * b)) b = i;
    nearest &= (int)idx[j] == b;
    mean_cost += sq_cost(aj, data + 2 * b) / m;
  }
  CHECK(nearest, "the first step assigns each point to its nearest data row");
  double err = 0;
  for (int i = 0; i < n; i++) {
    int count = 0;
    for (int j = 0; j < m; j++) count += (int)idx[j] == i;
    err = fmax(err, fabs(psi[i] - (1.0 / n - (double)count / m)));
  }
  CHECK(err < tol, "the dual's gradient is 1/N - count/B (err %g)", err);
  CHECK(fabs(out[0] - mean_cost) < tol * 10 && fabs(out[1] - mean_cost) < tol * 10,
        "dual %g and primal %g at psi = 0 are the mean nearest cost %g", out[0], out[1],
        mean_cost);
  CHECK(out[4] == 1 && out[5] == 0 && out[6] == 1, "one step, no stop, one psi step");
  /* Adam on psi (the default) until the histogram is even; then the dual
   * (a lower bound of the transport cost) and the cost of the assignment
   * of every source row (near a transport plan: balanced to within a
   * point per data row) agree closely */
  const char *names2[] = {"batch_size", "cost", "max_steps", "check_every", "bins",
                          "source", "psi_lr"};
  double vals2[] = {m, WF_COST_SQ, 20000, 200, 10, 1, 0.01};
  CHECK(phase(t, "ots", names2, vals2, 7, out) == WF_OK, "ots: %s", wf_trainer_message(t));
  CHECK(out[5] == 1 && out[2] >= 0.78 && out[3] <= 1.25,
        "the rule fired after %g steps (ratios %g .. %g)", out[4], out[2], out[3]);
  const char *anames[] = {"cost", "source"};
  double avals[] = {WF_COST_SQ, 1}, aout[3];
  CHECK(phase(t, "assign", anames, avals, 2, aout) == WF_OK && aout[2] == n_src,
        "assign: %s", wf_trainer_message(t));
  CHECK(fabs(aout[0] - aout[1]) < 0.1 * aout[1],
        "dual %g and primal %g of the whole sample are close", aout[0], aout[1]);
  double *asg = hvec((size_t)n_src);
  wf_trainer_buffer_get(t, "assignment", 1, asg, (size_t)n_src);
  double primal = 0;
  for (int j = 0; j < n_src; j++) primal += sq_cost(src + 2 * j, data + 2 * (int)asg[j]);
  CHECK(fabs(primal / n_src - aout[1]) < tol * 10, "the primal is the assignment's cost");
  CHECK(wf_trainer_buffer_get(t, "nope", 0, psi, 1) == WF_ERR_ARG &&
            wf_trainer_buffer_get(t, "psi", 0, psi, (size_t)n + 1) == WF_ERR_ARG,
        "unknown or short buffers refused");
  double back[3] = {1, 2, 3};
  CHECK(wf_trainer_buffer_set(t, "psi", back, 3) == WF_OK &&
            wf_trainer_buffer_get(t, "psi", 0, psi, 3) == WF_OK && psi[0] == 1 && psi[2] == 3,
        "buffer set / get round trip");
  wf_trainer_free(t);
  wf_net_free(gen);

  /* OTS/FIT with a generator: FIT draws the recorded latents again, so with
   * a learning rate of 0 its mean loss over one pass is OTS's primal */
  t = ots_trainer("ots", data, n, NULL, 0, sgd0, &gen);
  const char *fnames[] = {"cost", "passes", "share"};
  double fvals[] = {WF_COST_L1, 1, 0.5};
  CHECK(phase(t, "fit", fnames, fvals, 3, out) == WF_ERR_STATE, "fit before ots refused");
  for (int cost = 0; cost < 2; cost++) {
    const char *onames[] = {"batch_size", "cost", "max_steps", "check_every", "record"};
    double ovals[] = {m, cost, 40, 40, 1};
    CHECK(phase(t, "ots", onames, ovals, 5, out) == WF_OK, "ots: %s", wf_trainer_message(t));
    double primal_ots = out[1];
    fvals[0] = cost;
    CHECK(phase(t, "fit", fnames, fvals, 3, out) == WF_OK && out[2] == 40,
          "fit: %s", wf_trainer_message(t));
    double mean_fit = (out[0] + out[1]) / 2;
    CHECK(fabs(mean_fit - primal_ots) < 10 * tol * (1 + primal_ots),
          "cost %d: FIT replays OTS's pairs: loss %.12g vs primal %.12g", cost, mean_fit,
          primal_ots);
  }
  /* a learning rate: FIT lowers its loss over two passes */
  t->opts[0] = (wf_opt_spec){.kind = WF_OPT_ADAM, .lr = 1e-2, .beta1 = 0.9, .beta2 = 0.999,
                             .eps = 1e-8};
  fvals[1] = 20, fvals[2] = 0.1;
  CHECK(phase(t, "fit", fnames, fvals, 3, out) == WF_OK && out[1] < out[0] && out[2] == 800,
        "20 passes of FIT lower the loss %g -> %g", out[0], out[1]);
  const char *bad[] = {"batch_size", "window", "check_every"};
  double badv[] = {m, 30, 20};
  CHECK(phase(t, "ots", bad, badv, 3, out) == WF_ERR_ARG, "a window not a multiple refused");
  wf_trainer_free(t);
  wf_net_free(gen);
  free(data), free(src), free(psi), free(idx), free(rows), free(asg);
}

static void test_errors(void) {
  char msg[WF_MSG_LEN];
  wf_net *net;
  wf_mlp_spec bad = {.n_layers = 2, .widths = {2, 0, 1}};
  CHECK(wf_net_create(&bad, dev, 1, &net, msg) == WF_ERR_ARG && net == NULL &&
            strlen(msg) > 0,
        "zero width refused");
  wf_mlp_spec res = {.n_layers = 2, .widths = {2, 4, 3}, .residual = 1};
  CHECK(wf_net_create(&res, dev, 1, &net, msg) == WF_ERR_ARG, "residual with in != out refused");
  wf_mlp_spec ok = {.n_layers = 2, .widths = {2, 4, 1}};
  net = make_net(&ok, 1);
  wf_real *u = dalloc(2);
  CHECK(wf_mlp_double_backward(net, u, NULL, NULL, NULL) == WF_ERR_STATE,
        "double backward before input_grad refused");
  CHECK(wf_mlp_forward(net, u, 0, 0, NULL) == WF_ERR_ARG, "empty batch refused");
  /* a trainer checks its shapes */
  double data[6] = {0, 1, 2, 3, 4, 5};
  const double *dp = data;
  int rows = 2, cols = 3;
  wf_net *nets[2] = {net, net};
  wf_opt_spec opts[2] = {{.kind = WF_OPT_SGD, .lr = 0.1, .eps = 1},
                         {.kind = WF_OPT_SGD, .lr = 0.1, .eps = 1}};
  wf_trainer *t = NULL;
  CHECK(wf_trainer_create(wf_algo_find("w1fe"), nets, opts, 2, &dp, &rows, &cols, 1,
                          &t, msg) == WF_ERR_ARG && t == NULL,
        "a trainer refuses a critic of the wrong width");
  opts[1].lr = -1;
  cols = 2;
  CHECK(wf_trainer_create(wf_algo_find("w1fe"), nets, opts, 2, &dp, &rows, &cols, 1,
                          &t, msg) == WF_ERR_ARG,
        "a trainer refuses a bad optimiser");
  CHECK(wf_algo_find("nope") == NULL, "unknown algorithm");
  /* the device self-check: two CPU devices agree */
  wf_device *other = NULL;
  CHECK(wf_device_open(wf_cpu_backend(), &other, msg) == WF_OK, "second device");
  CHECK(wf_device_selfcheck(other, dev, msg) == WF_OK, "self-check: %s", msg);
  wf_device_release(other);
  wf_device_free(dev, u);
  wf_net_free(net);
}

int main(void) {
  char msg[WF_MSG_LEN];
  if (wf_device_open(wf_cpu_backend(), &dev, msg) != WF_OK) {
    fprintf(stderr, "device: %s\n", msg);
    return 2;
  }
  test_random();
  test_optim();
  test_errors();
  test_clone_alias();
  test_w1fe();
  test_ots();
#ifdef WF_DOUBLE
  test_passes();
  test_compose();
  test_critic_loss();
#endif
  wf_device_release(dev);
  printf("%s: %d passed, %d failed\n", sizeof(wf_real) == 8 ? "double" : "float",
         n_pass, n_fail);
  return n_fail == 0 ? 0 : 1;
}
