/* test_core.c — standalone tests of the engine core over the CPU backend:
 * nets and their passes, parameter blocks, clones and aliases, every
 * composition (loss-backward, pull-back, gradient penalties, the Euler
 * step, regression and classifier steps, the critic losses: WGAN, GAN,
 * DRAGAN; RWP's proximal term and SBE's potential objective) and the
 * generic trainer with W1-FE (Proposition 4.1), RWP (l = 1 is WGAN
 * training; Proposition 5 of Lin et al.), SBE, W2GAN / W2-FE /
 * Barycentric-OT and OTS/FIT (the dual's gradient, the recorded pairs FIT
 * replays).
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
#include "net_util.h"

#ifdef WF_DOUBLE
#define FD_TOL 1e-6
#endif

#ifdef WF_DOUBLE
static double read_slot(const double *slot) {
  double v = NAN;
  wf_device_read_scalars(dev, &v, slot, 1);
  return v;
}

#endif

static wf_net *make_net(const wf_mlp_spec *s, uint64_t seed) {
  char msg[WF_MSG_LEN];
  wf_net *net = NULL;
  if (wf_net_create(s, dev, seed, &net, msg) != WF_OK) {
    fprintf(stderr, "net: %s\n", msg);
    exit(2);
  }
  return net;
}

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

/* ---- critic-loss kinds: the standard GAN and DRAGAN -------------------- */
typedef struct {
  wf_net *net;
  wf_critic_ws ws;
  wf_critic_spec cs;
  wf_real *real, *fake, *noise;
  double *slots;
  int m;
} kind_case;

static double f_kind(void *p) {
  kind_case *c = p;
  double h[WF_CRITIC_SLOTS];
  wf_critic_report rep;
  wf_device_zero_scalars(dev, c->slots, WF_CRITIC_SLOTS);
  wf_net_zero_grad(c->net);
  wf_critic_loss_grad_spec(c->net, &c->ws, &c->cs, c->real, c->fake, c->m, c->noise,
                           c->slots);
  wf_device_read_scalars(dev, h, c->slots, WF_CRITIC_SLOTS);
  wf_critic_report_spec(h, 1, &c->cs, &rep);
  return rep.loss;
}

/* the generator's loss pulled back through the critic, at x */
typedef struct {
  wf_net *net;
  wf_critic_kind kind;
  wf_real *x, *dx;
  double *slot;
  int m;
} gen_case;

static double f_gen(void *p) {
  gen_case *c = p;
  wf_loss_spec ls = wf_critic_generator_loss(c->kind, c->m);
  wf_device_zero_scalars(dev, c->slot, 1);
  wf_pullback(c->net, c->x, c->m, 1, &ls, NULL, c->slot, c->dx);
  return read_slot(c->slot);
}

static double softplus(double x) { return x > 0 ? x + log1p(exp(-x)) : log1p(exp(x)); }

static void test_critic_kinds(void) {
  wf_mlp_spec s = {.n_layers = 3, .widths = {2, 8, 8, 1}, .activation = WF_ACT_TANH,
                   .init = WF_INIT_NORMAL, .init_sd = 0.8, .norm = WF_NORM_LAYER};
  int m = 7, d = 2;
  kind_case c = {.net = make_net(&s, 9), .m = m};
  double *hreal, *hfake, *hu = hvec((size_t)m * d);
  c.real = dnormal((size_t)m * d, 1, &hreal);
  c.fake = dnormal((size_t)m * d, 1, &hfake);
  for (int i = 0; i < m * d; i++) hu[i] = runif();
  wf_real *u_dev = dalloc((size_t)m * d);
  put(u_dev, hu, (size_t)m * d);
  c.noise = u_dev;
  c.slots = wf_device_alloc_scalars(dev, WF_CRITIC_SLOTS);
  size_t np = wf_net_layout(c.net)->n_params;
  double *an = hvec(np), *fd = hvec(np);
  wf_real *y = dalloc(2 * (size_t)m);
  double hy[14];
  for (int kind = WF_CRITIC_GAN; kind <= WF_CRITIC_DRAGAN; kind++) {
    c.cs = (wf_critic_spec){(wf_critic_kind)kind, WF_PENALTY_NONE, 10, 0.35, 0};
    double loss = f_kind(&c);
    wf_net_get_grad(c.net, an);
    fd_params(c.net, f_kind, &c, fd);
    CHECK(rel_err(an, fd, np) < FD_TOL, "critic loss kind %d: param grad err %g", kind,
          rel_err(an, fd, np));
    /* the value: -mean log D(real) - mean log(1 - D(fake)) (+ DRAGAN's penalty
     * at real + 0.35 u, by wf_grad_penalty at those points) */
    double h[WF_CRITIC_SLOTS], want = 0;
    wf_mlp_forward(c.net, c.real, m, 1, y);
    wf_mlp_forward(c.net, c.fake, m, 1, y + m);
    get(hy, y, 2 * (size_t)m);
    for (int i = 0; i < m; i++) want += (softplus(-hy[i]) + softplus(hy[m + i])) / m;
    if (kind == WF_CRITIC_DRAGAN) {
      double *hxp = hvec((size_t)m * d);
      for (int i = 0; i < m * d; i++) hxp[i] = hreal[i] + 0.35 * hu[i];
      wf_real *xp = dalloc((size_t)m * d), *u = dalloc((size_t)m * d);
      put(xp, hxp, (size_t)m * d);
      wf_device_zero_scalars(dev, c.slots, 2);
      wf_grad_penalty(c.net, xp, m, WF_ROWNORM_GP, 10.0 / m, u, NULL, c.slots,
                      c.slots + 1);
      wf_device_read_scalars(dev, h, c.slots, 2);
      want += h[0];
      wf_device_free(dev, xp);
      wf_device_free(dev, u);
      free(hxp);
    }
    CHECK(fabs(loss - want) < 1e-12, "critic loss kind %d: value %g, want %g", kind,
          loss, want);
  }
  /* the spec form of WGAN-GP is the WGAN critic loss */
  c.cs = (wf_critic_spec){WF_CRITIC_WGAN, WF_PENALTY_GP, 10, 0, 0};
  wf_real *t = dalloc((size_t)m);
  double ht[7];
  for (int i = 0; i < m; i++) ht[i] = runif();
  put(t, ht, (size_t)m);
  c.noise = t;
  double l1 = f_kind(&c);
  wf_net_get_grad(c.net, an);
  wf_device_zero_scalars(dev, c.slots, WF_CRITIC_SLOTS);
  wf_net_zero_grad(c.net);
  wf_critic_loss_grad(c.net, &c.ws, c.real, c.fake, m, t, WF_PENALTY_GP, 10, c.slots);
  double h[WF_CRITIC_SLOTS];
  wf_critic_report rep;
  wf_device_read_scalars(dev, h, c.slots, WF_CRITIC_SLOTS);
  wf_critic_report_of(h, 1, WF_PENALTY_GP, &rep);
  wf_net_get_grad(c.net, fd);
  CHECK(l1 == rep.loss && memcmp(an, fd, np * sizeof(double)) == 0,
        "the WGAN spec is the WGAN critic loss");
  /* inconsistent specs are refused */
  char msg[WF_MSG_LEN];
  wf_critic_spec bad = {WF_CRITIC_GAN, WF_PENALTY_GP, 10, 0, 0};
  CHECK(wf_critic_spec_check(&bad, msg) == WF_ERR_ARG, "GAN with GP refused");
  bad = (wf_critic_spec){WF_CRITIC_DRAGAN, WF_PENALTY_NONE, 10, -1, 0};
  CHECK(wf_critic_spec_check(&bad, msg) == WF_ERR_ARG, "negative perturbation refused");
  bad = (wf_critic_spec){(wf_critic_kind)7, WF_PENALTY_NONE, 10, 0, 0};
  CHECK(wf_critic_spec_check(&bad, msg) == WF_ERR_ARG, "unknown kind refused");
  CHECK(wf_critic_loss_grad_spec(c.net, &c.ws, &bad, c.real, c.fake, m, NULL, c.slots) ==
            WF_ERR_ARG && strstr(wf_net_message(c.net), "unknown") != NULL,
        "an unknown kind is refused by the loss: %s", wf_net_message(c.net));
  /* the generator's loss through the critic: value and input gradient */
  for (int kind = WF_CRITIC_WGAN; kind <= WF_CRITIC_GAN; kind++) {
    gen_case g = {.net = c.net, .kind = (wf_critic_kind)kind, .x = c.fake, .m = m,
                  .slot = c.slots, .dx = dalloc((size_t)m * d)};
    double v = f_gen(&g), want = 0, *adx = hvec((size_t)m * d), *fdx = hvec((size_t)m * d);
    get(adx, g.dx, (size_t)m * d);
    for (int i = 0; i < m; i++)
      want += (kind == WF_CRITIC_WGAN ? -hy[m + i] : softplus(-hy[m + i])) / m;
    CHECK(fabs(v - want) < 1e-12, "generator loss kind %d: %g, want %g", kind, v, want);
    fd_input(c.fake, hfake, (size_t)m * d, f_gen, &g, fdx);
    CHECK(rel_err(adx, fdx, (size_t)m * d) < FD_TOL, "generator loss kind %d: err %g",
          kind, rel_err(adx, fdx, (size_t)m * d));
    wf_device_free(dev, g.dx);
    free(adx), free(fdx);
  }
  wf_critic_ws_free(&c.ws);
  wf_real *bufs[] = {c.real, c.fake, t, y, u_dev};
  for (size_t i = 0; i < 5; i++) wf_device_free(dev, bufs[i]);
  wf_device_free(dev, c.slots);
  free(hreal), free(hfake), free(hu), free(an), free(fd);
  wf_net_free(c.net);
}

/* ---- RWP's proximal term and SBE's potential objective ------------------- */
typedef struct {
  wf_net *g, *a, *critic; /* critic NULL: the proximal term alone */
  wf_real *z, *dy;
  double *slots, weight;
  int m;
} prox_case;

/* F(g(z)) (GAN loss through the critic) + weight mean |g(z) - a(z)|^2, its
 * gradient in g's */
static double f_prox(void *p) {
  prox_case *c = p;
  wf_device_zero_scalars(dev, c->slots, 3);
  wf_net_zero_grad(c->g);
  wf_mlp_forward(c->g, c->z, c->m, 1, NULL);
  if (c->critic != NULL) {
    wf_loss_spec ls = wf_critic_generator_loss(WF_CRITIC_GAN, c->m);
    wf_pullback(c->critic, wf_mlp_output(c->g), c->m, 1, &ls, NULL, c->slots, c->dy);
  } else {
    double zero[64] = {0};
    put(c->dy, zero, (size_t)c->m * wf_net_out(c->g)); /* at most 64 values */
  }
  wf_proximal_term(c->g, c->a, c->z, c->m, 1, c->weight, c->dy, c->slots + 1,
                   c->slots + 2);
  wf_mlp_backward(c->g, c->dy, NULL);
  return read_slot(c->slots) + read_slot(c->slots + 1);
}

typedef struct {
  wf_net *phi;
  wf_real *y, *ya, *x2, *u;
  double *slots;
  int m;
} sbe_case;

/* J, its gradient -dJ/dtheta in phi's */
static double f_sbe(void *p) {
  sbe_case *c = p;
  double h[3];
  wf_device_zero_scalars(dev, c->slots, 3);
  wf_net_zero_grad(c->phi);
  wf_sbe_potential_grad(c->phi, c->y, c->ya, c->m, c->x2, c->u, c->slots);
  wf_device_read_scalars(dev, h, c->slots, 3);
  return h[0] - h[1];
}

static void test_proximal(void) {
  /* a generator with BatchNorm (train mode on both), its jiggled snapshot */
  wf_mlp_spec gs = {.n_layers = 3, .widths = {3, 6, 5, 2}, .activation = WF_ACT_ELU,
                    .norm = WF_NORM_BATCH, .init = WF_INIT_TORCH};
  wf_mlp_spec cs = {.n_layers = 2, .widths = {2, 7, 1}, .activation = WF_ACT_TANH,
                    .init = WF_INIT_NORMAL, .init_sd = 0.9};
  char msg[WF_MSG_LEN];
  int m = 6;
  prox_case c = {.g = make_net(&gs, 41), .critic = NULL, .m = m, .weight = 1 / (2 * 0.3)};
  jiggle(c.g, 0.2);
  CHECK(wf_net_clone(c.g, &c.a, msg) == WF_OK, "clone: %s", msg);
  jiggle(c.a, 0.2);
  double *hz;
  c.z = dnormal((size_t)m * 3, 1, &hz);
  c.dy = dalloc((size_t)m * 2);
  c.slots = wf_device_alloc_scalars(dev, 3);
  size_t np = wf_net_layout(c.g)->n_params;
  double *an = hvec(np), *fd = hvec(np);
  for (int with_critic = 0; with_critic < 2; with_critic++) {
    c.critic = with_critic ? make_net(&cs, 43) : NULL;
    double v = f_prox(&c);
    wf_net_get_grad(c.g, an);
    fd_params(c.g, f_prox, &c, fd);
    CHECK(rel_err(an, fd, np) < FD_TOL, "proximal objective (critic %d): err %g",
          with_critic, rel_err(an, fd, np));
    /* the value: weight * mean_i |g(z_i) - a(z_i)|^2, and the displacement */
    double yg[12], ya[12], want = 0;
    wf_real *o = dalloc(12);
    wf_mlp_forward(c.g, c.z, m, 1, o);
    get(yg, o, 12);
    wf_mlp_forward(c.a, c.z, m, 1, o);
    get(ya, o, 12);
    wf_device_free(dev, o);
    for (int i = 0; i < 12; i++) want += (yg[i] - ya[i]) * (yg[i] - ya[i]) / m;
    f_prox(&c);
    CHECK(fabs(read_slot(c.slots + 1) - c.weight * want) < 1e-12 &&
              fabs(read_slot(c.slots + 2) - want) < 1e-12,
          "proximal term value %g, want %g", read_slot(c.slots + 1), c.weight * want);
    (void)v;
    if (c.critic != NULL) wf_net_free(c.critic);
  }
  /* at the snapshot itself the term and its gradient vanish exactly */
  wf_net_copy_params(c.a, c.g);
  c.critic = NULL;
  f_prox(&c);
  wf_net_get_grad(c.g, an);
  double gsum = 0;
  for (size_t i = 0; i < np; i++) gsum += fabs(an[i]);
  CHECK(gsum == 0 && read_slot(c.slots + 1) == 0, "no proximal gradient at the anchor");
  wf_mlp_spec other = gs;
  other.widths[1] = 4;
  wf_net *o = make_net(&other, 1);
  wf_mlp_forward(c.g, c.z, m, 1, NULL);
  CHECK(wf_proximal_term(c.g, o, c.z, m, 1, 1, c.dy, c.slots, NULL) == WF_ERR_ARG,
        "an anchor of another shape is refused");
  CHECK(wf_proximal_term(c.g, c.a, c.z, m, 1, -1, c.dy, c.slots, NULL) == WF_ERR_ARG,
        "a negative weight is refused");
  wf_net_free(o);

  /* SBE: J = mean phi(y) - mean phi(ya) - mean |grad phi(ya)|^2 / 2, a
   * potential with one hidden layer and LayerNorm */
  wf_mlp_spec ps = {.n_layers = 2, .widths = {2, 9, 1}, .activation = WF_ACT_TANH,
                    .norm = WF_NORM_LAYER, .init = WF_INIT_TORCH};
  sbe_case s = {.phi = make_net(&ps, 47), .m = m};
  jiggle(s.phi, 0.3);
  double *hy, *hya;
  s.y = dnormal((size_t)m * 2, 1, &hy);
  s.ya = dnormal((size_t)m * 2, 1, &hya);
  s.x2 = dalloc((size_t)m * 4);
  s.u = dalloc((size_t)m * 2);
  s.slots = wf_device_alloc_scalars(dev, 3);
  size_t nq = wf_net_layout(s.phi)->n_params;
  double *aq = hvec(nq), *fq = hvec(nq);
  double j = f_sbe(&s);
  wf_net_get_grad(s.phi, aq);
  fd_params(s.phi, f_sbe, &s, fq);
  for (size_t i = 0; i < nq; i++) fq[i] = -fq[i]; /* the gradient is -dJ */
  CHECK(rel_err(aq, fq, nq) < FD_TOL, "SBE objective: err %g", rel_err(aq, fq, nq));
  /* its value from the passes */
  wf_real *py = dalloc((size_t)m), *g = dalloc((size_t)m * 2);
  double hp[6], hpa[6], hg[12], want = 0;
  wf_mlp_forward(s.phi, s.y, m, 1, py);
  get(hp, py, (size_t)m);
  wf_mlp_forward(s.phi, s.ya, m, 1, py);
  get(hpa, py, (size_t)m);
  wf_mlp_input_grad(s.phi, NULL, g);
  get(hg, g, (size_t)m * 2);
  for (int i = 0; i < m; i++)
    want += (hp[i] - hpa[i] - 0.5 * (hg[2 * i] * hg[2 * i] + hg[2 * i + 1] * hg[2 * i + 1])) / m;
  CHECK(fabs(j - want) < 1e-12, "SBE objective value %g, want %g", j, want);
  wf_real *bufs[] = {c.z, c.dy, s.y, s.ya, s.x2, s.u, py, g};
  for (size_t i = 0; i < sizeof(bufs) / sizeof(bufs[0]); i++) wf_device_free(dev, bufs[i]);
  wf_device_free(dev, c.slots);
  wf_device_free(dev, s.slots);
  free(hz), free(an), free(fd), free(hy), free(hya), free(aq), free(fq);
  wf_net_free(c.g), wf_net_free(c.a), wf_net_free(s.phi);
}

/* ---- Proposition 5: the relaxed proximal step on two weighted deltas ----- *
 * rho(theta) = alpha delta_A + (1 - alpha) delta_B as a generator: a Linear
 * 2 -> 1 map on latents e1 (a fraction alpha of the batch) and e2, so
 * A = w1 + c, B = w2 + c. F = W1 to theta* = alpha |A - a*| + (1 - alpha)
 * |B - b*| is the mean L1 loss against a* and b*. In one dimension the
 * relaxed metric is the W2 one, so gradient descent on F + (1/(2h)) mean
 * |g(z) - g_k(z)|^2, through wf_proximal_term, must reach the closed form
 * A = shrink_{a*}(A_k, h), B = shrink_{b*}(B_k, h) (from outside the
 * shrink region, where the minimiser is smooth and descent converges to
 * it exactly); and F there is at most F at the Euclidean proximal point
 * shrink(A_k, alpha h), shrink(B_k, (1 - alpha) h). A coefficient of 1/h
 * would shrink by h/2, a minus sign would diverge. */
static double shrink(double x, double centre, double h) {
  return x > centre + h ? x - h : (x < centre - h ? x + h : centre);
}

static void test_prop5(void) {
  wf_mlp_spec s = {.n_layers = 1, .widths = {2, 1}, .activation = WF_ACT_IDENTITY};
  const int m = 10;
  const double cases[][5] = {/* alpha, h, A_k - a*, B_k - b*, lr */
                             {0.3, 0.5, -1.5, 1.4, 0.2},
                             {0.5, 0.2, 0.7, -0.9, 0.1},
                             {0.8, 1.0, -2.5, -3.0, 0.3},
                             {0.1, 0.05, 0.4, 0.2, 0.02}};
  const double astar = -1, bstar = 2;
  for (size_t k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
    double alpha = cases[k][0], h = cases[k][1], lr = cases[k][4];
    double ak = astar + cases[k][2], bk = bstar + cases[k][3];
    int na = (int)lround(alpha * m);
    double hz[2 * m], ht[m], p[3] = {ak, bk, 0}; /* weight [1 x 2], bias */
    for (int i = 0; i < m; i++) {
      hz[2 * i] = i < na;
      hz[2 * i + 1] = i >= na;
      ht[i] = i < na ? astar : bstar;
    }
    wf_net *g = make_net(&s, 3), *a = NULL;
    char msg[WF_MSG_LEN];
    wf_net_set_params(g, p);
    wf_net_clone(g, &a, msg);
    wf_real *z = dalloc(2 * m), *t = dalloc(m), *dy = dalloc(m), *o = dalloc(2);
    double *slots = wf_device_alloc_scalars(dev, 1);
    put(z, hz, 2 * m);
    put(t, ht, m);
    wf_opt_spec sgd = {.kind = WF_OPT_SGD, .lr = lr, .eps = 1};
    wf_loss_spec l1 = {WF_LOSS_L1, 1.0 / m, 0, 0};
    double zero[m];
    memset(zero, 0, sizeof(zero));
    wf_status rc = WF_OK;
    for (int it = 0; it < 4000 && rc == WF_OK; it++) {
      /* grad = that of F (the L1 loss), then + the proximal term's */
      wf_net_zero_grad(g);
      rc = wf_loss_backward(g, z, m, 1, &l1, t, NULL, NULL);
      if (rc == WF_OK) rc = wf_mlp_forward(g, z, m, 1, NULL);
      put(dy, zero, m);
      if (rc == WF_OK) rc = wf_proximal_term(g, a, z, m, 1, 1 / (2 * h), dy, slots, NULL);
      if (rc == WF_OK) rc = wf_mlp_backward(g, dy, NULL);
      if (rc == WF_OK) rc = wf_net_opt_step(g, &sgd);
    }
    double e[4] = {1, 0, 0, 1}, out[2];
    wf_real *ez = dalloc(4);
    put(ez, e, 4);
    wf_mlp_forward(g, ez, 2, 0, o);
    get(out, o, 2);
    double aw = shrink(ak, astar, h), bw = shrink(bk, bstar, h);
    double ae = shrink(ak, astar, alpha * h), be = shrink(bk, bstar, (1 - alpha) * h);
    double fw = alpha * fabs(out[0] - astar) + (1 - alpha) * fabs(out[1] - bstar);
    double fe = alpha * fabs(ae - astar) + (1 - alpha) * fabs(be - bstar);
    CHECK(rc == WF_OK && fabs(out[0] - aw) < 1e-9 && fabs(out[1] - bw) < 1e-9,
          "Proposition 5 case %zu: RWP step (%.12g, %.12g), closed form (%.12g, %.12g)",
          k, out[0], out[1], aw, bw);
    CHECK(fw <= fe + 1e-12, "Proposition 5 case %zu: F_W %g <= F_E %g", k, fw, fe);
    wf_real *bufs[] = {z, t, dy, o, ez};
    for (size_t i = 0; i < 5; i++) wf_device_free(dev, bufs[i]);
    wf_device_free(dev, slots);
    wf_net_free(g), wf_net_free(a);
  }
}

/* ---- backward_rows: the backward along row weights, fused with the double
 * backward, against the two passes it replaces ----------------------------- */
static void test_backward_rows(void) {
  wf_mlp_spec specs[3] = {
      {.n_layers = 3, .widths = {3, 7, 6, 1}, .activation = WF_ACT_TANH,
       .norm = WF_NORM_LAYER, .init = WF_INIT_TORCH},
      {.n_layers = 3, .widths = {2, 8, 8, 1}, .activation = WF_ACT_RELU,
       .init = WF_INIT_NORMAL, .init_sd = 0.5},
      {.n_layers = 2, .widths = {3, 5, 3}, .activation = WF_ACT_SOFTPLUS, .residual = 1,
       .init = WF_INIT_TORCH}};
  for (int k = 0; k < 3; k++) {
    wf_mlp_spec *s = &specs[k];
    wf_net *net = make_net(s, 60 + k);
    jiggle(net, 0.2);
    int m = 7, in = s->widths[0], out = s->widths[s->n_layers];
    size_t np = wf_net_layout(net)->n_params, nx = (size_t)m * in;
    double *hw = hvec(m), *ones_w = hvec((size_t)m * out);
    for (int i = 0; i < m; i++) hw[i] = rnorm();
    for (int i = 0; i < m * out; i++) ones_w[i] = hw[i / out];
    wf_real *x = dnormal(nx, 1, NULL), *u = dnormal(nx, 1, NULL), *w = dalloc(m);
    wf_real *dyw = dalloc((size_t)m * out);
    put(w, hw, m);
    put(dyw, ones_w, (size_t)m * out); /* dy_ij = w_i */
    double *want = hvec(np), *got = hvec(np), *part = hvec(np);
    for (int variant = 0; variant < 3; variant++) { /* w, u, both */
      int use_w = variant != 1, use_u = variant != 0;
      /* the reference: backward along dy = w, and the double backward along u */
      wf_net_zero_grad(net);
      wf_mlp_forward(net, x, m, 1, NULL);
      if (use_w) wf_mlp_backward(net, dyw, NULL);
      wf_net_get_grad(net, part);
      wf_net_zero_grad(net);
      wf_mlp_forward(net, x, m, 1, NULL);
      wf_mlp_input_grad(net, NULL, NULL);
      if (use_u) wf_mlp_double_backward(net, u, NULL, NULL, NULL);
      wf_net_get_grad(net, want);
      for (size_t i = 0; i < np; i++) want[i] += part[i];
      /* the fused pass after the input gradient */
      wf_net_zero_grad(net);
      wf_mlp_forward(net, x, m, 1, NULL);
      wf_mlp_input_grad(net, NULL, NULL);
      CHECK(wf_mlp_backward_rows(net, use_w ? w : NULL, use_u ? u : NULL) == WF_OK,
            "backward_rows: %s", wf_net_message(net));
      wf_net_get_grad(net, got);
      CHECK(rel_err(got, want, np) < 1e-12, "backward_rows net %d variant %d: err %g", k,
            variant, rel_err(got, want, np));
    }
    /* it needs the chain of the summed output */
    wf_mlp_forward(net, x, m, 1, NULL);
    CHECK(wf_mlp_backward_rows(net, w, NULL) == WF_ERR_STATE, "backward_rows before input_grad");
    wf_mlp_input_grad(net, dyw, NULL);
    CHECK(wf_mlp_backward_rows(net, w, NULL) == WF_ERR_STATE,
          "backward_rows after an input gradient along another dy");
    wf_device_free(dev, x), wf_device_free(dev, u), wf_device_free(dev, w);
    wf_device_free(dev, dyw);
    free(hw), free(ones_w), free(want), free(got), free(part);
    wf_net_free(net);
  }
}

/* ---- potentials: the W2 dual's pair loss and equality penalty ----------- */
typedef struct {
  wf_potential phi, psi, psi_t, phi_s;
  wf_pot_ws ws;
  wf_real *a, *b;
  double *slots;
  int m, eq, reg; /* eq: 1 the equality penalty, 2 the fused dual loss */
  double ot_scale, lambda, lambda_eq;
  wf_net *zero[3]; /* nets whose gradient is zeroed before a run */
} pot_case;

/* the composition's objective, from its slots */
static double f_pot(void *p) {
  pot_case *c = p;
  wf_device_zero_scalars(dev, c->slots, 4);
  for (int i = 0; i < 3; i++)
    if (c->zero[i] != NULL) wf_net_zero_grad(c->zero[i]);
  wf_status rc;
  if (c->eq == 2) {
    rc = wf_pot_dual_loss(&c->phi, &c->psi, &c->psi_t, &c->phi_s, c->a, c->b, c->m,
                          c->ot_scale, (wf_pot_reg)c->reg, c->lambda, c->lambda_eq,
                          &c->ws, c->slots);
    double s[4];
    wf_device_read_scalars(dev, s, c->slots, 4);
    return rc == WF_OK ? c->ot_scale * c->m * s[0] + s[1] + s[2] + s[3] : NAN;
  }
  if (c->eq) {
    rc = wf_pot_eq_penalty(&c->phi, &c->psi, c->a, c->m, c->lambda, &c->ws, c->slots);
    return rc == WF_OK ? read_slot(c->slots) : NAN;
  }
  rc = wf_pot_pair_loss(&c->phi, &c->psi, c->a, c->b, c->m, c->ot_scale,
                        (wf_pot_reg)c->reg, c->lambda, &c->ws, c->slots);
  return rc == WF_OK ? c->ot_scale * c->m * read_slot(c->slots) + read_slot(c->slots + 1)
                     : NAN;
}

/* the analytic parameter gradient of every net against central differences */
static void check_pot_grads(pot_case *c, wf_net *const *nets, const char *const *names,
                            int n_nets, const char *label) {
  double v = f_pot(c);
  CHECK(isfinite(v) && v != 0, "%s: value %g", label, v);
  double *an[3];
  for (int k = 0; k < n_nets; k++) {
    size_t np = wf_net_layout(nets[k])->n_params;
    an[k] = hvec(np);
    wf_net_get_grad(nets[k], an[k]); /* all nets' gradients from the one run */
  }
  for (int k = 0; k < n_nets; k++) {
    size_t np = wf_net_layout(nets[k])->n_params;
    double *fd = hvec(np);
    fd_params(nets[k], f_pot, c, fd);
    CHECK(rel_err(an[k], fd, np) < FD_TOL, "%s: %s's gradient err %g", label, names[k],
          rel_err(an[k], fd, np));
    free(fd), free(an[k]);
  }
}

static void test_potentials(void) {
  seed_test_stream(41); /* its draws do not depend on the tests run before */
  wf_mlp_spec fs = {.n_layers = 3, .widths = {2, 8, 8, 1}, .activation = WF_ACT_TANH,
                    .init = WF_INIT_NORMAL, .init_sd = 0.7};
  wf_mlp_spec es = fs;
  es.activation = WF_ACT_SOFTPLUS;
  es.norm = WF_NORM_LAYER;
  char msg[WF_MSG_LEN];
  wf_net *f = make_net(&fs, 41), *g = make_net(&es, 42), *e = make_net(&es, 43), *fa;
  CHECK(wf_net_alias(f, &fa, msg) == WF_OK, "alias: %s", msg);
  jiggle(g, 0.2);
  jiggle(e, 0.2);
  /* lift g and e so that the constraint is violated on some pairs */
  for (int k = 0; k < 2; k++) {
    wf_net *n = k ? e : g;
    const wf_layout *lay = wf_net_layout(n);
    double *p = hvec(lay->n_params);
    wf_net_get_params(n, p);
    p[lay->bias[2]] += 1.5;
    wf_net_set_params(n, p);
    free(p);
  }
  int m = 6;
  pot_case c = {.m = m, .lambda = 3};
  double *ha;
  c.a = dnormal((size_t)m * 2, 1, &ha);
  c.b = dnormal((size_t)m * 2, 1, NULL);
  c.slots = wf_device_alloc_scalars(dev, 4);
  wf_potential F = {{f}, {1}, 1}, G = {{g}, {1}, 1};
  wf_potential Ge = {{fa, e}, {-1, 1}, 2}; /* g = -f + e */
  wf_net *fg[] = {f, g}, *fe[] = {f, e};
  const char *n_fg[] = {"f", "g"}, *n_fe[] = {"f", "e"};
  /* the equality penalty on either side, plain and reparameterised; a
   * penalty large enough that the path through T matters */
  c.eq = 1;
  c.zero[0] = f, c.zero[1] = g, c.zero[2] = e;
  c.phi = F, c.psi = G;
  check_pot_grads(&c, fg, n_fg, 2, "eq (f at x, g at T)");
  c.phi = G, c.psi = F;
  check_pot_grads(&c, fg, n_fg, 2, "eq (g at x, f at T)");
  c.phi = F, c.psi = Ge;
  check_pot_grads(&c, fe, n_fe, 2, "eq (f at x, -f + e at T)");
  c.phi = Ge, c.psi = F;
  check_pot_grads(&c, fe, n_fe, 2, "eq (-f + e at x, f at T)");
  /* its value against the passes: f at x, T = x - grad f, g at T */
  {
    c.phi = F, c.psi = G;
    double v = f_pot(&c), want = 0;
    wf_real *y = dalloc(m), *gx = dalloc((size_t)m * 2), *t = dalloc((size_t)m * 2);
    double hy[6], hg[12], ht[12], hgt[6];
    wf_mlp_forward(f, c.a, m, 1, y);
    wf_mlp_input_grad(f, NULL, gx);
    get(hy, y, m);
    get(hg, gx, 12);
    for (int i = 0; i < 12; i++) ht[i] = ha[i] - hg[i];
    put(t, ht, 12);
    wf_mlp_forward(g, t, m, 1, y);
    get(hgt, y, m);
    for (int i = 0; i < m; i++) {
      double E = hy[i] + hgt[i] - 0.5 * (hg[2 * i] * hg[2 * i] + hg[2 * i + 1] * hg[2 * i + 1]);
      want += c.lambda / m * E * E;
    }
    CHECK(fabs(v - want) < 1e-12 * fmax(1, want), "eq value %.15g vs %.15g", v, want);
    wf_device_free(dev, y), wf_device_free(dev, gx), wf_device_free(dev, t);
  }
  /* the pair loss: dual objective plus the L2 or entropic penalty */
  c.eq = 0;
  for (c.reg = WF_POT_REG_L2; c.reg <= WF_POT_REG_ENTROPIC; c.reg++) {
    for (int k = 0; k < 2; k++) {
      c.ot_scale = k == 0 ? -1.0 / m : 0;
      c.lambda = c.reg == WF_POT_REG_L2 ? 3 : 0.5;
      c.phi = F, c.psi = G;
      check_pot_grads(&c, fg, n_fg, 2, c.reg ? "pair entropic (f, g)" : "pair L2 (f, g)");
      c.phi = F, c.psi = Ge;
      check_pot_grads(&c, fe, n_fe, 2, c.reg ? "pair entropic (f, -f + e)" : "pair L2 (f, -f + e)");
    }
  }
  /* the plan density: pen'(r) at the pairs, against the forwards */
  {
    wf_real *h = dalloc(m), *y = dalloc(m);
    double hh[6], fa_[6], gb[6], hb[12];
    get(hb, c.b, 12);
    wf_mlp_forward(f, c.a, m, 1, y);
    get(fa_, y, m);
    wf_mlp_forward(g, c.b, m, 1, y);
    get(gb, y, m);
    for (int reg = 0; reg <= 1; reg++) {
      double lam = reg ? 0.7 : 3;
      CHECK(wf_pot_plan_density(&F, &G, c.a, c.b, m, (wf_pot_reg)reg, lam, &c.ws, h) ==
                WF_OK, "plan density");
      get(hh, h, m);
      double err = 0;
      int pos = 0;
      for (int i = 0; i < m; i++) {
        double dx = ha[2 * i] - hb[2 * i], dy = ha[2 * i + 1] - hb[2 * i + 1];
        double r = fa_[i] + gb[i] - 0.5 * (dx * dx + dy * dy);
        double want = reg ? exp(r / lam) : 2 * lam * fmax(0, r);
        pos += want > 0;
        err = fmax(err, fabs(hh[i] - want) / fmax(1, want));
      }
      CHECK(err < 1e-12 && pos > 0, "plan density reg %d: err %g", reg, err);
    }
    wf_device_free(dev, h), wf_device_free(dev, y);
  }
  /* the fused dual loss: pairs, inequality and both equality penalties,
   * against differences, and equal to the separate compositions' sum */
  {
    wf_net *fa2, *fa3, *ea, *ga;
    CHECK(wf_net_alias(f, &fa2, msg) == WF_OK && wf_net_alias(f, &fa3, msg) == WF_OK &&
              wf_net_alias(e, &ea, msg) == WF_OK && wf_net_alias(g, &ga, msg) == WF_OK,
          "aliases");
    wf_potential Gt = {{fa2, ea}, {-1, 1}, 2}, Fs = {{fa3}, {1}, 1};
    wf_potential Gpt = {{ga}, {1}, 1}, Fps = {{fa}, {1}, 1};
    c.eq = 2;
    c.lambda_eq = 3;
    for (c.reg = WF_POT_REG_L2; c.reg <= WF_POT_REG_ENTROPIC; c.reg++) {
      c.lambda = c.reg == WF_POT_REG_L2 ? 3 : 0.5;
      c.ot_scale = -1.0 / m;
      c.phi = F, c.psi = Ge, c.psi_t = Gt, c.phi_s = Fs;
      check_pot_grads(&c, fe, n_fe, 2, c.reg ? "dual entropic (f, -f + e)" : "dual L2 (f, -f + e)");
      c.phi = F, c.psi = G, c.psi_t = Gpt, c.phi_s = Fps;
      check_pot_grads(&c, fg, n_fg, 2, c.reg ? "dual entropic (f, g)" : "dual L2 (f, g)");
    }
    /* the same value and gradients as the three separate compositions */
    c.reg = WF_POT_REG_L2;
    c.lambda = 3;
    c.phi = F, c.psi = Ge, c.psi_t = Gt, c.phi_s = Fs;
    double fused = f_pot(&c);
    size_t nf = wf_net_layout(f)->n_params, ne = wf_net_layout(e)->n_params;
    double *gf = hvec(nf), *ge = hvec(ne), *sf = hvec(nf), *se = hvec(ne);
    wf_net_get_grad(f, gf);
    wf_net_get_grad(e, ge);
    wf_net_zero_grad(f), wf_net_zero_grad(e);
    double s4[4], sep = 0;
    wf_device_zero_scalars(dev, c.slots, 4);
    wf_pot_pair_loss(&F, &Ge, c.a, c.b, m, -1.0 / m, WF_POT_REG_L2, 3, &c.ws, c.slots);
    wf_pot_eq_penalty(&F, &Ge, c.a, m, 3, &c.ws, c.slots + 2);
    wf_pot_eq_penalty(&Ge, &F, c.b, m, 3, &c.ws, c.slots + 3);
    wf_device_read_scalars(dev, s4, c.slots, 4);
    sep = -s4[0] + s4[1] + s4[2] + s4[3];
    wf_net_get_grad(f, sf);
    wf_net_get_grad(e, se);
    CHECK(fabs(fused - sep) < 1e-12 * fmax(1, fabs(sep)) && rel_err(gf, sf, nf) < 1e-12 &&
              rel_err(ge, se, ne) < 1e-12,
          "dual loss = pair + eq + eq (value %g vs %g, grads %g %g)", fused, sep,
          rel_err(gf, sf, nf), rel_err(ge, se, ne));
    CHECK(wf_pot_dual_loss(&F, &Ge, &Ge, &Fs, c.a, c.b, m, 0, WF_POT_REG_L2, 1, 1, &c.ws,
                           c.slots) == WF_ERR_ARG, "dual loss: shared nets refused");
    /* the public code's arrangement: the generated side reparameterised,
     * phi = -g + e at a and at S, psi = g at b and at T (algo_w2.c's
     * reparam 2), against differences in both nets */
    {
      wf_net *gx[3], *es;
      for (int i = 0; i < 3; i++)
        CHECK(wf_net_alias(g, &gx[i], msg) == WF_OK, "alias of g");
      CHECK(wf_net_alias(e, &es, msg) == WF_OK, "alias of e");
      wf_potential Pa = {{e, gx[0]}, {1, -1}, 2}, Pb = {{g}, {1}, 1};
      wf_potential Pt = {{gx[1]}, {1}, 1}, Ps = {{es, gx[2]}, {1, -1}, 2};
      wf_net *eg[] = {e, g};
      const char *n_eg[] = {"e", "g"};
      for (c.reg = WF_POT_REG_L2; c.reg <= WF_POT_REG_ENTROPIC; c.reg++) {
        c.lambda = c.reg == WF_POT_REG_L2 ? 3 : 0.5;
        c.ot_scale = -1.0 / m;
        c.phi = Pa, c.psi = Pb, c.psi_t = Pt, c.phi_s = Ps;
        check_pot_grads(&c, eg, n_eg, 2,
                        c.reg ? "dual entropic (-g + e, g)" : "dual L2 (-g + e, g)");
      }
      /* the equality penalty alone on the generated side: -g + e at x */
      c.eq = 1;
      c.lambda = 3;
      c.phi = Pa, c.psi = Pt;
      check_pot_grads(&c, eg, n_eg, 2, "eq (-g + e at x, g at T)");
      c.eq = 2;
      for (int i = 0; i < 3; i++) wf_net_free(gx[i]);
      wf_net_free(es);
    }
    free(gf), free(ge), free(sf), free(se);
    wf_net_free(fa2), wf_net_free(fa3), wf_net_free(ea), wf_net_free(ga);
  }
  /* refusals: shared nets, a bad regulariser, a negative lambda */
  CHECK(wf_pot_pair_loss(&F, &F, c.a, c.b, m, 0, WF_POT_REG_L2, 1, &c.ws, c.slots) ==
            WF_ERR_ARG, "two potentials on one net refused");
  CHECK(wf_pot_pair_loss(&F, &G, c.a, c.b, m, 0, (wf_pot_reg)7, 1, &c.ws, c.slots) ==
            WF_ERR_ARG, "unknown regulariser refused");
  CHECK(wf_pot_eq_penalty(&F, &G, c.a, m, -1, &c.ws, c.slots) == WF_ERR_ARG,
        "negative lambda refused");
  CHECK(wf_pot_pair_loss(&F, &G, c.a, c.b, m, 0, WF_POT_REG_ENTROPIC, 0, &c.ws, c.slots) ==
            WF_ERR_ARG, "entropic with lambda 0 refused");
  wf_pot_ws_free(&c.ws);
  wf_device_free(dev, c.a), wf_device_free(dev, c.b), wf_device_free(dev, c.slots);
  free(ha);
  wf_net_free(fa), wf_net_free(f), wf_net_free(g), wf_net_free(e);
}

/* the weighted regression step: its loss and an SGD step against differences */
typedef struct {
  wf_net *net;
  wf_real *x, *t, *w, *diff, *sq;
  double *slot;
  int m;
} wreg_case;

static double f_wreg(void *p) {
  wreg_case *c = p;
  /* lr 0: the step leaves the parameters, the slot has the loss */
  wf_opt_spec none = {.kind = WF_OPT_SGD, .lr = 0, .eps = 1};
  wf_device_zero_scalars(dev, c->slot, 1);
  wf_weighted_regress_step(c->net, c->x, c->m, c->t, c->w, &none, c->diff, c->sq, c->slot);
  return read_slot(c->slot);
}

static void test_weighted_regress(void) {
  wf_mlp_spec gs = {.n_layers = 2, .widths = {2, 6, 2}, .activation = WF_ACT_TANH,
                    .init = WF_INIT_TORCH};
  int m = 5;
  wreg_case c = {.net = make_net(&gs, 9), .m = m};
  double hw[5] = {0.5, 0, 2, 1.5, 0.25};
  c.x = dnormal(10, 1, NULL);
  c.t = dnormal(10, 1, NULL);
  c.w = dalloc(5);
  put(c.w, hw, 5);
  c.diff = dalloc(10);
  c.sq = dalloc(5);
  c.slot = wf_device_alloc_scalars(dev, 1);
  size_t np = wf_net_layout(c.net)->n_params;
  double *p0 = hvec(np), *p1 = hvec(np), *fd = hvec(np);
  wf_net_get_params(c.net, p0);
  fd_params(c.net, f_wreg, &c, fd);
  wf_opt_spec sgd = {.kind = WF_OPT_SGD, .lr = 0.1, .eps = 1};
  wf_device_zero_scalars(dev, c.slot, 1);
  CHECK(wf_weighted_regress_step(c.net, c.x, m, c.t, c.w, &sgd, c.diff, c.sq, c.slot) ==
            WF_OK, "weighted regress");
  wf_net_get_params(c.net, p1);
  for (size_t i = 0; i < np; i++) p0[i] -= 0.1 * fd[i];
  CHECK(rel_err(p1, p0, np) < 1e-8, "weighted regress: SGD step err %g", rel_err(p1, p0, np));
  wf_real *bufs[] = {c.x, c.t, c.w, c.diff, c.sq};
  for (int i = 0; i < 5; i++) wf_device_free(dev, bufs[i]);
  wf_device_free(dev, c.slot);
  free(p0), free(p1), free(fd);
  wf_net_free(c.net);
}

/* the classifier step: its softmax cross-entropy against the loss written
 * here, its gradient against differences, an SGD step */
typedef struct {
  wf_net *net;
  wf_real *x;
  int *labels;
  double *slot;
  int m;
} xent_case;

static double f_xent(void *p) {
  xent_case *c = p;
  wf_device_zero_scalars(dev, c->slot, 1);
  wf_net_zero_grad(c->net);
  wf_classify_step(c->net, c->x, c->m, 1, c->labels, NULL, c->slot);
  return read_slot(c->slot);
}

static void test_classify(void) {
  wf_mlp_spec s = {.n_layers = 2, .widths = {3, 6, 4}, .activation = WF_ACT_TANH,
                   .init = WF_INIT_TORCH};
  int m = 6, k = 4, in = 3;
  int hl[6] = {0, 3, 1, 1, 2, 3};
  xent_case c = {.net = make_net(&s, 17), .m = m};
  jiggle(c.net, 0.5);
  double *hx;
  c.x = dnormal((size_t)m * in, 1, &hx);
  c.labels = wf_device_alloc_int(dev, (size_t)m);
  wf_device_upload_int(dev, c.labels, hl, (size_t)m);
  c.slot = wf_device_alloc_scalars(dev, 1);
  /* the value: mean over rows of logsumexp(y_i) - y_i,label_i */
  double got = f_xent(&c), want = 0, *hy = hvec((size_t)m * k);
  wf_real *y = dalloc((size_t)m * k);
  wf_mlp_forward(c.net, c.x, m, 0, y);
  get(hy, y, (size_t)m * k);
  for (int i = 0; i < m; i++) {
    double se = 0;
    for (int j = 0; j < k; j++) se += exp(hy[i * k + j]);
    want += (log(se) - hy[i * k + hl[i]]) / m;
  }
  CHECK(fabs(got - want) < 1e-12 * fabs(want), "classify: loss %.17g want %.17g", got,
        want);
  size_t np = wf_net_layout(c.net)->n_params;
  double *an = hvec(np), *fd = hvec(np), *p0 = hvec(np), *p1 = hvec(np);
  f_xent(&c);
  wf_net_get_grad(c.net, an);
  fd_params(c.net, f_xent, &c, fd);
  CHECK(rel_err(an, fd, np) < FD_TOL, "classify: param grad err %g", rel_err(an, fd, np));
  /* a step: zeroes the gradient first, then p -= lr grad */
  wf_net_get_params(c.net, p0);
  wf_opt_spec sgd = {.kind = WF_OPT_SGD, .lr = 0.1, .eps = 1};
  wf_device_zero_scalars(dev, c.slot, 1);
  CHECK(wf_classify_step(c.net, c.x, m, 1, c.labels, &sgd, c.slot) == WF_OK, "classify step");
  CHECK(fabs(read_slot(c.slot) - got) < 1e-14 * fabs(got), "classify step: loss before it");
  wf_net_get_params(c.net, p1);
  for (size_t i = 0; i < np; i++) p0[i] -= 0.1 * an[i];
  CHECK(rel_err(p1, p0, np) < 1e-12, "classify: SGD step err %g", rel_err(p1, p0, np));
  CHECK(wf_classify_step(c.net, c.x, 0, 1, c.labels, NULL, c.slot) == WF_ERR_ARG,
        "classify: no rows refused");
  wf_device_free(dev, c.x), wf_device_free(dev, c.labels), wf_device_free(dev, c.slot);
  wf_device_free(dev, y);
  free(hx), free(hy), free(an), free(fd), free(p0), free(p1);
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
  wf_args a = {names, values, n, NULL};
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
  const char *crit_names[] = {"batch_size", "steps", "penalty", "lambda", "clip"};
  const double crit_vals[] = {m, 3, WF_PENALTY_LP, 10, 0};
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
    CHECK(phase(t[r], "critic", crit_names, crit_vals, 5, out) == WF_OK,
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
  CHECK(phase(t[0], "critic", crit_names, crit_vals, 5, out) == WF_OK, "critic again");
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

/* ---- SBE: with g = g_prev + v the potential's gradient is v --------------- *
 * sup over phi of mean phi(ya + v) - mean phi(ya) - mean |grad phi(ya)|^2 / 2
 * is attained (for a linear phi exactly, and to first order in general) at
 * grad phi = v: train the paper's potential (one hidden layer, LayerNorm)
 * on fresh batches and check the cosine of grad phi(ya) with v. */
static void test_sbe_alignment(void) {
  wf_mlp_spec ps = {.n_layers = 2, .widths = {2, 32, 1}, .activation = WF_ACT_TANH,
                    .norm = WF_NORM_LAYER, .init = WF_INIT_TORCH};
  wf_net *phi = make_net(&ps, 53);
  const int m = 128;
  const double v[2] = {0.4, -0.25};
  wf_opt_spec adam = {.kind = WF_OPT_ADAM, .lr = 3e-3, .beta1 = 0.5, .beta2 = 0.999,
                      .eps = 1e-8};
  wf_real *y = dalloc(2 * m), *ya = dalloc(2 * m), *x2 = dalloc(4 * m), *u = dalloc(2 * m);
  wf_real *g = dalloc(2 * m);
  double *slots = wf_device_alloc_scalars(dev, 3);
  double hy[2 * m], hya[2 * m], hg[2 * m];
  seed_test_stream(77);
  for (int it = 0; it < 600; it++) {
    for (int i = 0; i < m; i++)
      for (int k = 0; k < 2; k++) {
        hya[2 * i + k] = rnorm();
        hy[2 * i + k] = hya[2 * i + k] + v[k];
      }
    put(y, hy, 2 * m);
    put(ya, hya, 2 * m);
    wf_net_zero_grad(phi);
    wf_device_zero_scalars(dev, slots, 3);
    wf_sbe_potential_grad(phi, y, ya, m, x2, u, slots);
    wf_net_opt_step(phi, &adam);
  }
  /* mean cosine of grad phi with v on fresh points, and the objective near
   * its supremum |v|^2 / 2 */
  for (int i = 0; i < 2 * m; i++) hya[i] = rnorm();
  put(ya, hya, 2 * m);
  wf_mlp_forward(phi, ya, m, 0, NULL);
  wf_mlp_input_grad(phi, NULL, g);
  get(hg, g, 2 * m);
  double cos_mean = 0, vn = sqrt(v[0] * v[0] + v[1] * v[1]);
  for (int i = 0; i < m; i++) {
    double gn = sqrt(hg[2 * i] * hg[2 * i] + hg[2 * i + 1] * hg[2 * i + 1]);
    cos_mean += (hg[2 * i] * v[0] + hg[2 * i + 1] * v[1]) / (gn * vn + 1e-30) / m;
  }
  double h[3];
  wf_device_read_scalars(dev, h, slots, 3);
  CHECK(cos_mean >= 0.95, "SBE potential: mean cosine of grad phi with v %g", cos_mean);
  CHECK(h[0] - h[1] > 0.5 * 0.5 * vn * vn, "SBE potential: J %g near |v|^2/2 = %g",
        h[0] - h[1], 0.5 * vn * vn);
  wf_real *bufs[] = {y, ya, x2, u, g};
  for (size_t i = 0; i < 5; i++) wf_device_free(dev, bufs[i]);
  wf_device_free(dev, slots);
  wf_net_free(phi);
}

/* ---- RWP and SBE through the trainer ---------------------------------------- */
static wf_trainer *prox_trainer(const char *algo, uint64_t seed, const double *data,
                                int n, wf_net **nets) {
  wf_mlp_spec cs = {.n_layers = 3, .widths = {2, 16, 16, 1},
                    .activation = WF_ACT_TANH, .init = WF_INIT_TORCH};
  wf_mlp_spec gs = {.n_layers = 3, .widths = {3, 16, 16, 2},
                    .activation = WF_ACT_RELU, .init = WF_INIT_TORCH};
  wf_mlp_spec ps = {.n_layers = 2, .widths = {2, 16, 1}, .activation = WF_ACT_TANH,
                    .norm = WF_NORM_LAYER, .init = WF_INIT_TORCH};
  wf_opt_spec adam = {.kind = WF_OPT_ADAM, .lr = 1e-3, .beta1 = 0.5, .beta2 = 0.9,
                      .eps = 1e-8};
  wf_opt_spec opts[4] = {adam, adam, adam, adam};
  int n_nets = strcmp(algo, "sbe") == 0 ? 4 : 2;
  nets[0] = make_net(&cs, seed);
  nets[1] = make_net(&gs, seed + 1);
  if (n_nets == 4) {
    char msg[WF_MSG_LEN];
    nets[2] = make_net(&ps, seed + 2);
    wf_net_clone(nets[1], &nets[3], msg); /* the anchor starts at the generator */
  }
  int rows = n, cols = 2;
  char msg[WF_MSG_LEN];
  wf_trainer *t = NULL;
  wf_status rc = wf_trainer_create(wf_algo_find(algo), nets, opts, n_nets, &data,
                                   &rows, &cols, 1, &t, msg);
  CHECK(rc == WF_OK, "%s trainer: %s", algo, msg);
  return t;
}

static int same_params(wf_net *a, wf_net *b) {
  size_t np = wf_net_layout(a)->n_params;
  double *p = hvec(np), *q = hvec(np);
  wf_net_get_params(a, p);
  wf_net_get_params(b, q);
  int same = memcmp(p, q, np * sizeof(double)) == 0;
  free(p), free(q);
  return same;
}

static void test_rwp(void) {
  int n = 300, m = 32;
  double *data = hvec((size_t)n * 2);
  for (int i = 0; i < 2 * n; i++) data[i] = rnorm() + (i % 2 ? 2 : -1);
  const char *cn[] = {"batch_size", "steps", "loss", "penalty", "lambda", "perturb", "clip"};
  const char *gn[] = {"batch_size", "steps", "loss", "h", "proximal"};
  double out[4];
  /* RWP with l = 1 and a WGAN-GP critic is W1-FE's naive K = 1, i.e. WGAN
   * training, bit for bit: the proximal gradient is zero at the anchor */
  {
    wf_net *rn[2], *wn[2];
    wf_opt_spec adam = {.kind = WF_OPT_ADAM, .lr = 1e-3, .beta1 = 0.5, .beta2 = 0.9,
                        .eps = 1e-8};
    wf_trainer *r = prox_trainer("rwp", 61, data, n, rn);
    wf_trainer *w = w1fe_trainer(61, data, n, &adam, wn);
    /* the same generator spec and seeds as prox_trainer's */
    const char *wc[] = {"batch_size", "steps", "penalty", "lambda", "clip"};
    const char *we[] = {"batch_size", "step_size"};
    const char *wf[] = {"persistency", "mode"};
    double cv[] = {m, 3, WF_CRITIC_WGAN, WF_PENALTY_GP, 10, 0, 0};
    double gv[] = {m, 1, WF_CRITIC_WGAN, 0.1, 1};
    double wcv[] = {m, 3, WF_PENALTY_GP, 10, 0}, wev[] = {m, 1}, wfv[] = {1, 1};
    int ok = 1;
    for (int it = 0; it < 4; it++) {
      ok &= phase(r, "critic", cn, cv, 7, out) == WF_OK;
      ok &= phase(r, "generator", gn, gv, 5, out) == WF_OK;
      ok &= out[1] == 0 && out[2] == 0; /* l = 1: no displacement yet */
      ok &= phase(w, "critic", wc, wcv, 5, out) == WF_OK;
      ok &= phase(w, "euler", we, wev, 2, out) == WF_OK;
      ok &= phase(w, "fit", wf, wfv, 2, out) == WF_OK;
    }
    CHECK(ok, "rwp / w1fe phases: %s %s", wf_trainer_message(r), wf_trainer_message(w));
    CHECK(same_params(rn[0], wn[0]) && same_params(rn[1], wn[1]),
          "RWP (l = 1, WGAN-GP) equals WGAN training exactly");
    wf_trainer_free(r), wf_trainer_free(w);
    for (int i = 0; i < 2; i++) wf_net_free(rn[i]), wf_net_free(wn[i]);
  }
  /* the same for the GAN and DRAGAN losses: with and without the proximal
   * term, l = 1 gives the same parameters */
  for (int kind = WF_CRITIC_GAN; kind <= WF_CRITIC_DRAGAN; kind++) {
    wf_net *a[2], *b[2];
    wf_trainer *ta = prox_trainer("rwp", 71, data, n, a);
    wf_trainer *tb = prox_trainer("rwp", 71, data, n, b);
    double cv[] = {m, 1, kind, WF_PENALTY_NONE, 10, 0.5, 0};
    double with[] = {m, 1, kind, 0.2, 1}, without[] = {m, 1, kind, 0.2, 0};
    int ok = 1;
    for (int it = 0; it < 3; it++) {
      ok &= phase(ta, "critic", cn, cv, 7, out) == WF_OK;
      ok &= phase(ta, "generator", gn, with, 5, out) == WF_OK;
      ok &= phase(tb, "critic", cn, cv, 7, out) == WF_OK;
      ok &= phase(tb, "generator", gn, without, 5, out) == WF_OK;
    }
    CHECK(ok && isnan(out[1]), "kind %d phases: %s", kind, wf_trainer_message(ta));
    CHECK(same_params(a[0], b[0]) && same_params(a[1], b[1]),
          "RWP (l = 1, kind %d) equals plain training", kind);
    /* l = 10: the proximal term is 1/(2h) times the mean displacement */
    double l10[] = {m, 10, kind, 0.2, 1};
    CHECK(phase(ta, "generator", gn, l10, 5, out) == WF_OK && out[2] > 0 &&
              fabs(out[1] - out[2] / 0.4) <= 1e-6 * out[1],
          "proximal %g = displacement %g / (2h)", out[1], out[2]);
    CHECK(!same_params(a[1], b[1]), "l = 10 moves the generator");
    wf_trainer_free(ta), wf_trainer_free(tb);
    for (int i = 0; i < 2; i++) wf_net_free(a[i]), wf_net_free(b[i]);
  }
  /* bad arguments are named */
  {
    wf_net *a[2];
    wf_trainer *t = prox_trainer("rwp", 81, data, n, a);
    double gan_gp[] = {m, 1, WF_CRITIC_GAN, WF_PENALTY_GP, 10, 0, 0};
    CHECK(phase(t, "critic", cn, gan_gp, 7, out) == WF_ERR_ARG,
          "GAN with GP refused: %s", wf_trainer_message(t));
    double h0[] = {m, 1, WF_CRITIC_WGAN, 0, 1};
    CHECK(phase(t, "generator", gn, h0, 5, out) == WF_ERR_ARG &&
              strstr(wf_trainer_message(t), "`h`") != NULL,
          "h = 0 refused: %s", wf_trainer_message(t));
    double l0[] = {m, 0, WF_CRITIC_WGAN, 0.1, 1};
    CHECK(phase(t, "generator", gn, l0, 5, out) == WF_ERR_ARG &&
              strstr(wf_trainer_message(t), "`steps`") != NULL,
          "l = 0 refused: %s", wf_trainer_message(t));
    double k9[] = {m, 1, 9, 0.1, 1};
    CHECK(phase(t, "generator", gn, k9, 5, out) == WF_ERR_ARG &&
              strstr(wf_trainer_message(t), "`loss`") != NULL,
          "an unknown loss refused: %s", wf_trainer_message(t));
    wf_trainer_free(t);
    for (int i = 0; i < 2; i++) wf_net_free(a[i]);
  }
  /* SBE: the literal anchor makes J = -mean |grad Phi|^2 / 2 <= 0; the
   * lag-one anchor is the generator before the last generator phase */
  {
    wf_net *s[4];
    wf_trainer *t = prox_trainer("sbe", 91, data, n, s);
    const char *pn[] = {"batch_size", "steps", "lag"};
    const char *sg[] = {"batch_size", "steps", "loss", "h", "lag"};
    double cv[] = {m, 2, WF_CRITIC_WGAN, WF_PENALTY_GP, 10, 0, 0};
    size_t np = wf_net_layout(s[1])->n_params;
    double *p0 = hvec(np), *pa = hvec(np);
    int ok = 1;
    for (int lag = 0; lag <= 1; lag++) {
      double pv[] = {m, 3, lag}, gv[] = {m, 2, WF_CRITIC_WGAN, 0.2, lag};
      for (int it = 0; it < 3; it++) {
        ok &= phase(t, "critic", cn, cv, 7, out) == WF_OK;
        ok &= phase(t, "potential", pn, pv, 3, out) == WF_OK;
        if (lag == 0) CHECK(out[0] <= 0 && out[1] >= 0, "literal SBE: J = %g <= 0", out[0]);
        wf_net_get_params(s[1], p0);
        ok &= phase(t, "generator", sg, gv, 5, out) == WF_OK;
      }
      wf_net_get_params(s[3], pa);
      if (lag == 1)
        CHECK(memcmp(p0, pa, np * sizeof(double)) == 0 && !same_params(s[1], s[3]),
              "lag-one anchor = the generator before its phase");
    }
    CHECK(ok, "sbe phases: %s", wf_trainer_message(t));
    wf_trainer_free(t);
    free(p0), free(pa);
    for (int i = 0; i < 4; i++) wf_net_free(s[i]);
    /* an anchor of another shape is refused */
    wf_net *bad[4];
    wf_mlp_spec cs = {.n_layers = 2, .widths = {2, 4, 1}, .activation = WF_ACT_TANH};
    wf_mlp_spec gs = {.n_layers = 2, .widths = {3, 4, 2}, .activation = WF_ACT_TANH};
    wf_mlp_spec gs2 = {.n_layers = 2, .widths = {3, 5, 2}, .activation = WF_ACT_TANH};
    bad[0] = make_net(&cs, 1), bad[1] = make_net(&gs, 2), bad[2] = make_net(&cs, 3);
    bad[3] = make_net(&gs2, 4);
    wf_opt_spec sgd = {.kind = WF_OPT_SGD, .lr = 0.1, .eps = 1};
    wf_opt_spec opts[4] = {sgd, sgd, sgd, sgd};
    int rows = n, cols = 2;
    char msg[WF_MSG_LEN];
    const double *dp = data;
    wf_trainer *tb = NULL;
    CHECK(wf_trainer_create(wf_algo_find("sbe"), bad, opts, 4, &dp, &rows, &cols, 1, &tb,
                            msg) == WF_ERR_ARG && strstr(msg, "anchor") != NULL,
          "sbe refuses a bad anchor: %s", msg);
    for (int i = 0; i < 4; i++) wf_net_free(bad[i]);
  }
  free(data);
}

/* ---- W2GAN and W2-FE: the phases, and Proposition 4.1 for W2-FE -------- */
static wf_trainer *w2_trainer(const char *algo, uint64_t seed, const double *const *data,
                              const int *rows, int n_data, const wf_opt_spec *gen_opt,
                              wf_net **nets) {
  wf_mlp_spec cs = {.n_layers = 3, .widths = {2, 16, 16, 1},
                    .activation = WF_ACT_TANH, .init = WF_INIT_NORMAL, .init_sd = 0.3};
  wf_mlp_spec gs = {.n_layers = 3, .widths = {2, 16, 16, 2}, .activation = WF_ACT_RELU,
                    .norm = WF_NORM_BATCH, .residual = 1, .init = WF_INIT_NORMAL,
                    .init_sd = 0.1, .gamma_normal = 1};
  nets[0] = make_net(&cs, seed);
  nets[1] = make_net(&cs, seed + 1);
  nets[2] = make_net(&gs, seed + 2);
  wf_opt_spec adam = {.kind = WF_OPT_ADAM, .lr = 1e-3, .beta1 = 0.9, .beta2 = 0.999,
                      .eps = 1e-8};
  wf_opt_spec opts[3] = {adam, adam, *gen_opt};
  int cols[2] = {2, 2};
  char msg[WF_MSG_LEN];
  wf_trainer *t = NULL;
  wf_status rc = wf_trainer_create(wf_algo_find(algo), nets, opts, 3, data, rows, cols,
                                   n_data, &t, msg);
  CHECK(rc == WF_OK, "%s trainer: %s", algo, msg);
  return t;
}

/* The Euler phase's direction is the gradient of the generated side's
 * potential: f, or e - g with that side reparameterised (reparam 2), by
 * central differences of sum_i f(y_i) at the phase's own y = G(z) (the
 * phase's z read back; G's BatchNorm in training mode on the same batch
 * gives the same y). */
static void test_w2_euler_direction(const double *const *data, const int *rows, int m) {
#ifdef WF_DOUBLE
  for (int rp = 0; rp <= 2; rp++) {
    wf_net *nets[3];
    wf_opt_spec adam = {.kind = WF_OPT_ADAM, .lr = 1e-2, .beta1 = 0.9, .beta2 = 0.999,
                        .eps = 1e-8};
    wf_trainer *t = w2_trainer("w2fe", 21 + rp, data, rows, 2, &adam, nets);
    const char *cn[] = {"batch_size", "steps", "ineq", "lambda_ineq", "lambda_eq",
                        "reparam", "lambda_e", "reg", "data_strata",
                              "source_strata"};
    double cv[] = {m, 3, 3, 20, 20, rp, 0, 0, 0, 0}, out[5];
    CHECK(phase(t, "critic", cn, cv, 10, out) == WF_OK, "critic: %s", wf_trainer_message(t));
    double eps = 0.8;
    const char *en[] = {"batch_size", "step_size", "reparam", "source_strata"};
    double ev[] = {m, eps, rp, 0};
    CHECK(phase(t, "euler", en, ev, 4, out) == WF_OK, "euler: %s", wf_trainer_message(t));
    size_t md = (size_t)m * 2;
    double *hz = hvec(md), *hzeta = hvec(md), *hy = hvec(md), *num = hvec(md),
           *dir = hvec(md), *hv = hvec(m);
    CHECK(wf_trainer_buffer_get(t, "z", 0, hz, md) == WF_OK &&
              wf_trainer_buffer_get(t, "zeta", 0, hzeta, md) == WF_OK,
          "euler buffers: %s", wf_trainer_message(t));
    wf_real *z = dalloc(md), *y = dalloc(md), *v = dalloc(m);
    put(z, hz, md);
    wf_mlp_forward(nets[2], z, m, 1, y);
    get(hy, y, md);
    /* sum_i f(y_i), f = f (rp 0, 1) or e - g (rp 2) */
    for (size_t i = 0; i < md; i++) {
      double keep = hy[i], val[2];
      for (int k = 0; k < 2; k++) {
        hy[i] = keep + (k ? -1e-6 : 1e-6);
        put(y, hy, md);
        val[k] = 0;
        for (int net = 0; net < (rp == 2 ? 2 : 1); net++) {
          wf_mlp_forward(nets[net], y, m, 1, v);
          get(hv, v, m);
          for (int r = 0; r < m; r++) val[k] += (net ? -1 : 1) * hv[r];
        }
      }
      hy[i] = keep;
      num[i] = (val[0] - val[1]) / 2e-6;
    }
    for (size_t i = 0; i < md; i++) dir[i] = (hy[i] - hzeta[i]) / eps;
    CHECK(rel_err(dir, num, md) < FD_TOL, "euler reparam %d: (y - zeta) / eps vs grad f: err %g",
          rp, rel_err(dir, num, md));
    wf_device_free(dev, z), wf_device_free(dev, y), wf_device_free(dev, v);
    free(hz), free(hzeta), free(hy), free(num), free(dir), free(hv);
    wf_trainer_free(t);
    for (int i = 0; i < 3; i++) wf_net_free(nets[i]);
  }
#else
  (void)data, (void)rows, (void)m;
#endif
}

/* Balanced batches: data rows sorted by stratum (stratum c marked by its
 * first column, 10 c + noise) and source rows likewise (-10 (c + 1)); a
 * critic step's data batch takes m / k rows of every stratum (one more for
 * the first m % k) in round-robin order, its source batch the same counts
 * stratum by stratum; draws are uniform within a stratum; one stratum is
 * the i.i.d. draw to the bit; bad strata are refused by name. */
static int stratum_of(double v, int source) {
  return source ? (int)lround(-v / 10) - 1 : (int)lround(v / 10);
}

static void test_w2_strata(int m) {
  enum { ND = 200, NS = 180 };
  const int dc[3] = {50, 70, 80}, sc[2] = {120, 60};
  double *x = hvec(2 * ND), *z = hvec(2 * NS);
  for (int c = 0, r = 0; c < 3; c++)
    for (int j = 0; j < dc[c]; j++, r++) {
      x[2 * r] = 10 * c + 0.1 * rnorm();
      x[2 * r + 1] = j; /* the row's index within its stratum */
    }
  for (int c = 0, r = 0; c < 2; c++)
    for (int j = 0; j < sc[c]; j++, r++) {
      z[2 * r] = -10 * (c + 1) + 0.1 * rnorm();
      z[2 * r + 1] = j;
    }
  const double *data[2] = {x, z};
  int rows[2] = {ND, NS};
  const char *names[] = {"batch_size", "steps", "ineq", "lambda_ineq", "lambda_eq",
                         "reparam", "lambda_e", "reg", "data_strata", "data_stratum_1",
                         "data_stratum_2", "data_stratum_3", "source_strata",
                         "source_stratum_1", "source_stratum_2"};
  double vals[] = {m, 1, 3, 20, 20, 2, 0, 0, 3, dc[0], dc[1], dc[2], 2, sc[0], sc[1]};
  wf_net *nets[3];
  wf_opt_spec adam = {.kind = WF_OPT_ADAM, .lr = 1e-3, .beta1 = 0.9, .beta2 = 0.999,
                      .eps = 1e-8};
  wf_trainer *t = w2_trainer("w2gan", 31, data, rows, 2, &adam, nets);
  size_t md = (size_t)m * 2;
  double *real = hvec(md), *src = hvec(md), out[5];
  double mean_j[3] = {0}, n_j[3] = {0};
  int ok_data = 1, ok_src = 1, seen_max[3] = {0};
  for (int rep = 0; rep < 40; rep++) {
    CHECK(phase(t, "critic", names, vals, 15, out) == WF_OK, "balanced critic: %s",
          wf_trainer_message(t));
    wf_trainer_buffer_get(t, "real", 0, real, md);
    wf_trainer_buffer_get(t, "z", 0, src, md);
    for (int i = 0; i < m; i++) {
      int c = stratum_of(real[2 * i], 0);
      ok_data = ok_data && c == i % 3;
      if (c >= 0 && c < 3) {
        mean_j[c] += real[2 * i + 1] / dc[c];
        n_j[c] += 1;
        if ((int)real[2 * i + 1] == dc[c] - 1) seen_max[c] = 1;
      }
      /* the source stratum by stratum: m / 2 + (m % 2) rows of stratum 0 */
      int s = stratum_of(src[2 * i], 1);
      ok_src = ok_src && s == (i < m / 2 + m % 2 ? 0 : 1);
    }
  }
  CHECK(ok_data, "balanced data rows: stratum i %% k at row i");
  CHECK(ok_src, "balanced source rows: stratum by stratum");
  for (int c = 0; c < 3; c++)
    CHECK(fabs(mean_j[c] / n_j[c] - 0.5) < 0.08 && seen_max[c],
          "uniform within stratum %d: mean position %g", c, mean_j[c] / n_j[c]);
  /* the generator and Euler phases draw the source balanced too */
  const char *gn[] = {"batch_size", "steps", "reparam", "source_strata", "source_stratum_1",
                      "source_stratum_2"};
  double gv[] = {m, 1, 2, 2, sc[0], sc[1]};
  CHECK(phase(t, "generator", gn, gv, 6, out) == WF_OK, "balanced generator: %s",
        wf_trainer_message(t));
  wf_trainer_buffer_get(t, "z", 0, src, md);
  ok_src = 1;
  for (int i = 0; i < m; i++)
    ok_src = ok_src && stratum_of(src[2 * i], 1) == (i < m / 2 + m % 2 ? 0 : 1);
  CHECK(ok_src, "balanced generator batch");
  /* refusals: sizes that do not sum to the rows, more strata than rows in a
   * batch, strata of a source a trainer does not have */
  double bad_sum[15];
  memcpy(bad_sum, vals, sizeof(vals));
  bad_sum[11] = dc[2] - 1;
  CHECK(phase(t, "critic", names, bad_sum, 15, out) == WF_ERR_ARG &&
            strstr(wf_trainer_message(t), "strata") != NULL,
        "strata that miss rows are refused: %s", wf_trainer_message(t));
  double bad_k[] = {2, 1, 3, 20, 20, 2, 0, 0, 3, dc[0], dc[1], dc[2]};
  CHECK(phase(t, "critic", names, bad_k, 12, out) == WF_ERR_ARG &&
            strstr(wf_trainer_message(t), "data_strata") != NULL,
        "more strata than batch rows are refused: %s", wf_trainer_message(t));
  wf_trainer_free(t);
  for (int i = 0; i < 3; i++) wf_net_free(nets[i]);
  {
    wf_trainer *t1 = w2_trainer("w2gan", 31, data, rows, 1, &adam, nets);
    double v1[] = {m, 1, 3, 20, 20, 0, 0, 0, 0, 0, 0, 0, 1, NS};
    const char *n1[] = {"batch_size", "steps", "ineq", "lambda_ineq", "lambda_eq",
                        "reparam", "lambda_e", "reg", "data_strata", "data_stratum_1",
                        "data_stratum_2", "data_stratum_3", "source_strata",
                        "source_stratum_1"};
    CHECK(phase(t1, "critic", n1, v1, 14, out) == WF_ERR_ARG &&
              strstr(wf_trainer_message(t1), "source_strata") != NULL,
          "source strata without a source are refused: %s", wf_trainer_message(t1));
    wf_trainer_free(t1);
    for (int i = 0; i < 3; i++) wf_net_free(nets[i]);
  }
  /* one stratum per side is the i.i.d. draw: the same nets after a critic
   * and a generator phase, to the bit */
  {
    wf_net *n2[2][3];
    wf_trainer *t2[2];
    for (int r = 0; r < 2; r++) {
      t2[r] = w2_trainer("w2gan", 41, data, rows, 2, &adam, n2[r]);
      double v[] = {m, 2, 3, 20, 20, 1, 0, 0, r, ND, r, NS};
      const char *nn[] = {"batch_size", "steps", "ineq", "lambda_ineq", "lambda_eq",
                          "reparam", "lambda_e", "reg", "data_strata", "data_stratum_1",
                          "source_strata", "source_stratum_1"};
      CHECK(phase(t2[r], "critic", nn, v, 12, out) == WF_OK, "critic: %s",
            wf_trainer_message(t2[r]));
      const char *gn1[] = {"batch_size", "steps", "reparam", "source_strata",
                           "source_stratum_1"};
      double gv1[] = {m, 1, 0, r, NS};
      CHECK(phase(t2[r], "generator", gn1, gv1, 5, out) == WF_OK, "generator: %s",
            wf_trainer_message(t2[r]));
    }
    int same = 1;
    for (int k = 0; k < 3; k++) {
      size_t np = wf_net_layout(n2[0][k])->n_params;
      double *p0 = hvec(np), *p1 = hvec(np);
      wf_net_get_params(n2[0][k], p0);
      wf_net_get_params(n2[1][k], p1);
      same = same && memcmp(p0, p1, np * sizeof(double)) == 0;
      free(p0), free(p1);
    }
    CHECK(same, "one stratum per side is the i.i.d. draw to the bit");
    for (int r = 0; r < 2; r++) {
      wf_trainer_free(t2[r]);
      for (int i = 0; i < 3; i++) wf_net_free(n2[r][i]);
    }
  }
  free(x), free(z), free(real), free(src);
}

static void test_w2(void) {
  int n = 200, m = 32;
  double *x = hvec((size_t)n * 2), *z = hvec((size_t)n * 2);
  for (int i = 0; i < 2 * n; i++) {
    x[i] = 0.3 * rnorm() + (i % 4 < 2 ? 1 : -1);
    z[i] = 2 * rnorm();
  }
  const double *data[2] = {x, z};
  int rows[2] = {n, n};
  const char *crit_names[] = {"batch_size", "steps", "ineq", "lambda_ineq", "lambda_eq",
                              "reparam", "lambda_e", "reg", "data_strata",
                              "source_strata"};
  double out[5];
  /* the data set is required, the source optional: no data set, or more
   * than the roles, is refused */
  {
    wf_mlp_spec ps = {.n_layers = 1, .widths = {2, 1}, .init = WF_INIT_NORMAL, .init_sd = 0.1};
    wf_mlp_spec gs = {.n_layers = 1, .widths = {2, 2}, .init = WF_INIT_NORMAL, .init_sd = 0.1};
    wf_net *nets[3] = {make_net(&ps, 1), make_net(&ps, 2), make_net(&gs, 3)};
    wf_opt_spec sgd = {.kind = WF_OPT_SGD, .lr = 0.1, .eps = 1};
    wf_opt_spec opts[3] = {sgd, sgd, sgd};
    int cols[3] = {2, 2, 2}, rows3[3] = {n, n, n};
    const double *data3[3] = {x, z, x};
    char msg[WF_MSG_LEN];
    wf_trainer *t = NULL;
    CHECK(wf_trainer_create(wf_algo_find("w2gan"), nets, opts, 3, data3, rows3, cols, 0, &t,
                            msg) == WF_ERR_ARG && t == NULL && strstr(msg, "1 or more"),
          "no data set refused: %s", msg);
    CHECK(wf_trainer_create(wf_algo_find("w2gan"), nets, opts, 3, data3, rows3, cols, 3, &t,
                            msg) == WF_ERR_ARG && t == NULL,
          "a third data set refused: %s", msg);
    for (int i = 0; i < 3; i++) wf_net_free(nets[i]);
  }
  /* every penalty switch runs, without and with the optional source */
  for (int mode = 0; mode < 2; mode++) {
    wf_net *nets[3];
    wf_opt_spec adam = {.kind = WF_OPT_ADAM, .lr = 1e-3, .beta1 = 0.9, .beta2 = 0.999,
                        .eps = 1e-8};
    const char *algo = mode ? "w2gan (map)" : "w2gan"; /* for messages */
    wf_trainer *t = w2_trainer("w2gan", 5, data, rows, mode ? 2 : 1, &adam, nets);
    CHECK(t->n_data == 1 + mode, "%s: %d data sets", algo, t->n_data);
    for (int ineq = 0; ineq <= 3; ineq++)
      for (int reparam = 0; reparam <= 2; reparam++)
        for (int reg = 0; reg <= 1; reg++) {
          double vals[] = {m, 2, ineq, 20, ineq == 1 ? 0 : 20, reparam, 5, reg, 0, 0};
          wf_status rc = phase(t, "critic", crit_names, vals, 10, out);
          CHECK(rc == WF_OK && isfinite(out[0]) && isfinite(out[1]) && out[2] >= 0 &&
                    (ineq == 1 ? isnan(out[3]) : out[3] > 0) &&
                    (reparam ? out[4] >= 0 : isnan(out[4])),
                "%s critic ineq %d reparam %d reg %d: %s (%g %g %g %g %g)", algo, ineq,
                reparam, reg, wf_trainer_message(t), out[0], out[1], out[2], out[3],
                out[4]);
        }
    const char *gen_names[] = {"batch_size", "steps", "reparam", "source_strata"};
    for (int reparam = 0; reparam <= 2; reparam++) {
      double gen_vals[] = {m, 3, reparam, 0};
      CHECK(phase(t, "generator", gen_names, gen_vals, 4, out) == WF_OK && isfinite(out[0]),
            "%s generator reparam %d: %s", algo, reparam, wf_trainer_message(t));
    }
    double bad_rp[] = {m, 1, 3, 0};
    CHECK(phase(t, "generator", gen_names, bad_rp, 4, out) == WF_ERR_ARG &&
              strstr(wf_trainer_message(t), "reparam") != NULL,
          "an unknown reparameterisation is named");
    double bad[] = {m, 2, 3, 20, 20, 0, 0, 2, 0, 0};
    CHECK(phase(t, "critic", crit_names, bad, 10, out) == WF_ERR_ARG &&
              strstr(wf_trainer_message(t), "reg") != NULL,
          "an unknown regulariser is named");
    const char *fit_names[] = {"persistency"};
    double k1[] = {1};
    CHECK(phase(t, "fit", fit_names, k1, 1, out) == WF_ERR_STATE, "fit needs an Euler step");
    wf_trainer_free(t);
    for (int i = 0; i < 3; i++) wf_net_free(nets[i]);
  }
  /* W2-FE, K = 1 with SGD(gamma) equals the W2GAN generator update with
   * SGD(2 eps gamma), from the same state and the same z (Proposition 4.1's
   * argument with the W2 potential: grad of mean |zeta - G|^2 at the frozen
   * zeta = G - eps grad f(G) is 2 eps times that of mean f(G)) */
  double gamma = 0.05, eps = 0.6;
  wf_opt_spec sgd = {.kind = WF_OPT_SGD, .lr = gamma, .eps = 1};
  wf_opt_spec sgd_w2gan = sgd;
  sgd_w2gan.lr = 2 * eps * gamma;
  /* ... with either side's potential reparameterised */
  for (int rp = 1; rp <= 2; rp++) {
    wf_net *nets[2][3];
    wf_trainer *t[2];
    for (int r = 0; r < 2; r++) {
      t[r] = w2_trainer("w2gan", 11, data, rows, 2, r == 0 ? &sgd : &sgd_w2gan,
                        nets[r]);
      double vals[] = {m, 3, 3, 20, 20, rp, 0, 0, 0, 0};
      CHECK(phase(t[r], "critic", crit_names, vals, 10, out) == WF_OK, "critic: %s",
            wf_trainer_message(t[r]));
      if (r == 0) {
        const char *en[] = {"batch_size", "step_size", "reparam", "source_strata"};
        double ev[] = {m, eps, rp, 0};
        CHECK(phase(t[r], "euler", en, ev, 4, out) == WF_OK && out[0] > 0, "euler: %s",
              wf_trainer_message(t[r]));
        const char *fn[] = {"persistency"};
        double fv[] = {1};
        CHECK(phase(t[r], "fit", fn, fv, 1, out) == WF_OK && out[0] == out[1], "fit: %s",
              wf_trainer_message(t[r]));
      } else {
        const char *gn[] = {"batch_size", "steps", "reparam", "source_strata"};
        double gv[] = {m, 1, rp, 0};
        CHECK(phase(t[r], "generator", gn, gv, 4, out) == WF_OK, "generator: %s",
              wf_trainer_message(t[r]));
      }
    }
    size_t np = wf_net_layout(nets[0][2])->n_params;
    double *p0 = hvec(np), *p1 = hvec(np);
    wf_net_get_params(nets[0][2], p0);
    wf_net_get_params(nets[1][2], p1);
#ifdef WF_DOUBLE
    double tol = 1e-11;
#else
    double tol = 2e-5;
#endif
    CHECK(rel_err(p0, p1, np) < tol,
          "W2-FE K = 1 is the W2GAN update at 2 eps lr (reparam %d): err %g", rp,
          rel_err(p0, p1, np));
    for (int r = 0; r < 2; r++) {
      wf_trainer_free(t[r]);
      for (int i = 0; i < 3; i++) wf_net_free(nets[r][i]);
    }
    free(p0), free(p1);
  }
  test_w2_euler_direction(data, rows, m);
  test_w2_strata(m);

  /* Barycentric-OT: the dual stage, then the map stage, split by u's steps */
  {
    wf_net *bn[3];
    wf_mlp_spec cs = {.n_layers = 2, .widths = {2, 16, 1}, .activation = WF_ACT_RELU,
                      .init = WF_INIT_TORCH};
    wf_mlp_spec gs = {.n_layers = 2, .widths = {2, 16, 2}, .activation = WF_ACT_RELU,
                      .residual = 1, .init = WF_INIT_NORMAL, .init_sd = 0.01};
    bn[0] = make_net(&cs, 1), bn[1] = make_net(&cs, 2), bn[2] = make_net(&gs, 3);
    wf_opt_spec adam = {.kind = WF_OPT_ADAM, .lr = 5e-3, .beta1 = 0.9, .beta2 = 0.999,
                        .eps = 1e-8};
    wf_opt_spec opts[3] = {adam, adam, adam};
    int cols[2] = {2, 2};
    char msg[WF_MSG_LEN];
    wf_trainer *bt = NULL;
    CHECK(wf_trainer_create(wf_algo_find("barycentric"), bn, opts, 3, data, rows, cols, 2,
                            &bt, msg) == WF_OK, "barycentric: %s", msg);
    const char *names[] = {"batch_size", "steps", "dual_steps", "lambda", "reg"};
    for (int reg = 0; reg <= 1; reg++) {
      double v1[] = {m, 5, 3 + 2 * reg, 0.5, reg};
      CHECK(phase(bt, "steps", names, v1, 5, out) == WF_OK && isfinite(out[0]) &&
                isfinite(out[1]) && isfinite(out[2]),
            "barycentric: both stages in one call (%s)", wf_trainer_message(bt));
      CHECK(phase(bt, "steps", names, v1, 5, out) == WF_OK && isnan(out[0]) &&
                isnan(out[1]) && isfinite(out[2]),
            "barycentric: the map stage alone");
    }
    CHECK(wf_net_block(bn[0])->step == 5, "the dual stage's length is u's steps");
    double v0[] = {m, 5, 3, 0, 0};
    CHECK(phase(bt, "steps", names, v0, 5, out) == WF_ERR_ARG, "lambda 0 refused");
    wf_trainer_free(bt);
    for (int i = 0; i < 3; i++) wf_net_free(bn[i]);
  }
  free(x), free(z);
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


/* Every argument of the OTS phase, at ots_fit()'s defaults (R holds them;
 * the phase takes all); a test sets some by name with ots_set(). */
static const char *const ots_names[] = {
    "batch_size", "cost",   "max_steps", "check_every", "window",    "bins",
    "low",        "high",   "record",    "source",      "psi_opt",   "psi_lr",
    "psi_beta1",  "psi_beta2", "psi_eps", "psi_momentum", "psi_weight_decay"};
#define OTS_N_ARGS 17
static void ots_defaults(double *v, int m) {
  const double d[OTS_N_ARGS] = {m, WF_COST_L1, 20000, 1000, 4000, 1000, 0.78, 1.25, 0, 0,
                                WF_OPT_ADAM, 0.1, 0.9, 0.999, 1e-8, 0, 0};
  memcpy(v, d, sizeof(d));
}
static void ots_set(double *v, const char *name, double x) {
  for (int i = 0; i < OTS_N_ARGS; i++)
    if (strcmp(ots_names[i], name) == 0) v[i] = x;
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
  double vals[OTS_N_ARGS];
  ots_defaults(vals, m);
  ots_set(vals, "cost", WF_COST_SQ), ots_set(vals, "max_steps", 1);
  ots_set(vals, "check_every", 1), ots_set(vals, "window", 4), ots_set(vals, "source", 1);
  ots_set(vals, "psi_opt", WF_OPT_SGD), ots_set(vals, "psi_lr", 1);
  double out[8];
  CHECK(phase(t, "ots", ots_names, vals, OTS_N_ARGS, out) == WF_OK, "ots step: %s", wf_trainer_message(t));
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
  /* Adam on psi (ots_fit()'s default) until the histogram is even; then the dual
   * (a lower bound of the transport cost) and the cost of the assignment
   * of every source row (near a transport plan: balanced to within a
   * point per data row) agree closely */
  double vals2[OTS_N_ARGS];
  ots_defaults(vals2, m);
  ots_set(vals2, "cost", WF_COST_SQ), ots_set(vals2, "check_every", 200);
  ots_set(vals2, "window", 800), ots_set(vals2, "bins", 10), ots_set(vals2, "source", 1);
  ots_set(vals2, "psi_lr", 0.01);
  CHECK(phase(t, "ots", ots_names, vals2, OTS_N_ARGS, out) == WF_OK, "ots: %s", wf_trainer_message(t));
  CHECK(out[5] == 1 && out[2] >= 0.78 && out[3] <= 1.25,
        "the rule fired after %g steps (ratios %g .. %g)", out[4], out[2], out[3]);
  const char *anames[] = {"cost", "source", "batch_size"};
  double avals[] = {WF_COST_SQ, 1, 1024}, aout[3];
  CHECK(phase(t, "assign", anames, avals, 3, aout) == WF_OK && aout[2] == n_src,
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
    double ovals[OTS_N_ARGS];
    ots_defaults(ovals, m);
    ots_set(ovals, "cost", cost), ots_set(ovals, "max_steps", 40);
    ots_set(ovals, "check_every", 40), ots_set(ovals, "window", 160);
    ots_set(ovals, "record", 1);
    CHECK(phase(t, "ots", ots_names, ovals, OTS_N_ARGS, out) == WF_OK, "ots: %s", wf_trainer_message(t));
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
  double badv[OTS_N_ARGS];
  ots_defaults(badv, m);
  ots_set(badv, "window", 30), ots_set(badv, "check_every", 20);
  CHECK(phase(t, "ots", ots_names, badv, OTS_N_ARGS, out) == WF_ERR_ARG, "a window not a multiple refused");
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
  /* a normal norm gamma (the identity start of W2GAN's generator) needs
   * the normal init; it draws gamma ~ N(0, init_sd), the rest unchanged */
  wf_mlp_spec gn = {.n_layers = 3, .widths = {2, 32, 32, 2}, .activation = WF_ACT_RELU,
                    .norm = WF_NORM_BATCH, .residual = 1, .init = WF_INIT_TORCH,
                    .init_sd = 0.01, .gamma_normal = 1};
  CHECK(wf_net_create(&gn, dev, 1, &net, msg) == WF_ERR_ARG, "normal gamma needs normal init");
  gn.init = WF_INIT_NORMAL;
  wf_net *g1 = make_net(&gn, 3);
  gn.gamma_normal = 0;
  wf_net *g0 = make_net(&gn, 3);
  const wf_layout *gl = wf_net_layout(g1);
  double *p1 = hvec(gl->n_params), *p0 = hvec(gl->n_params);
  wf_net_get_params(g1, p1);
  wf_net_get_params(g0, p0);
  double sq = 0, rest = 0;
  for (int l = 0; l < 2; l++)
    for (int j = 0; j < 32; j++) {
      double gj = p1[gl->gamma[l] + j];
      sq += gj * gj / 64;
      CHECK(p0[gl->gamma[l] + j] == 1 && gj != 0 && p1[gl->beta[l] + j] == 0,
            "gamma normal, beta 0");
      p1[gl->gamma[l] + j] = p0[gl->gamma[l] + j];
    }
  for (size_t i = 0; i < gl->n_params; i++) rest += fabs(p1[i] - p0[i]);
  CHECK(fabs(sqrt(sq) - 0.01) < 0.003 && rest == 0,
        "gamma ~ N(0, 0.01) (rms %g), every other parameter as with gamma 1", sqrt(sq));
  free(p1), free(p0);
  wf_net_free(g1), wf_net_free(g0);
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
  /* the CPU's measurement knobs: the products' FLOP count, the code path,
   * the FMA peak */
  wf_mlp_spec big = {.n_layers = 2, .widths = {100, 1000, 100}, .activation = WF_ACT_RELU};
  wf_net *bn = make_net(&big, 2);
  wf_real *xb = dalloc(100 * 100);
  wf_device_knob(dev, "mflop", 0);
  wf_mlp_forward(bn, xb, 100, 0, NULL);
  CHECK(wf_device_knob(dev, "mflop", -1) == 40, "mflop counts 2 m n k: %d",
        wf_device_knob(dev, "mflop", -1));
  int isa = wf_device_knob(dev, "isa", -1);
  CHECK(isa >= 0 && isa <= 2, "isa %d", isa);
  CHECK(wf_device_knob(dev, "peak_mflops", 1) > 100, "an FMA peak above 0.1 GFLOP/s");
  wf_device_free(dev, xb);
  wf_net_free(bn);
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
  test_rwp();
  test_sbe_alignment();
  test_w2();
  test_ots();
#ifdef WF_DOUBLE
  test_passes();
  test_compose();
  test_critic_loss();
  test_critic_kinds();
  test_proximal();
  test_prop5();
  test_backward_rows();
  test_potentials();
  test_weighted_regress();
  test_classify();
#endif
  wf_device_release(dev);
  printf("%s: %d passed, %d failed\n", sizeof(wf_real) == 8 ? "double" : "float",
         n_pass, n_fail);
  return n_fail == 0 ? 0 : 1;
}
