/* test_layers.c — nets as stacks of layers (stack.c, layer_*.c) over the
 * CPU backend: every layer kind's four passes against central finite
 * differences (in double), convolutions and transposed convolutions
 * against direct loops in PyTorch's definition, a dense stack against the
 * MLP with the same parameters, the fused backward along row weights, and
 * stacks that do not fit. Built in double and float; the finite-difference
 * checks run in double. Ends with "layers <precision>: N passed, N
 * failed". */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "net_util.h"
#include "layer_specs.h"
#include "stack.h"

static wf_net *make_stack(const wf_stack_spec *s, uint64_t seed) {
  char msg[WF_MSG_LEN];
  wf_net *net = NULL;
  if (wf_net_create_stack(s, dev, seed, &net, msg) != WF_OK) {
    fprintf(stderr, "stack: %s\n", msg);
    exit(2);
  }
  return net;
}


/* ---- PyTorch's definitions as direct loops (c, h, w order) -------------- */
/* y [m][co][ho][wo] of Conv2d with W [co][ci][k][k] */
static void conv_ref(const double *x, int m, int ci, int h, int w, const double *W,
                     const double *b, int co, int k, int s, int p, double *y) {
  int ho = (h + 2 * p - k) / s + 1, wo = (w + 2 * p - k) / s + 1;
  for (int n = 0; n < m; n++)
    for (int o = 0; o < co; o++)
      for (int oy = 0; oy < ho; oy++)
        for (int ox = 0; ox < wo; ox++) {
          double acc = b[o];
          for (int c = 0; c < ci; c++)
            for (int i = 0; i < k; i++)
              for (int j = 0; j < k; j++) {
                int iy = oy * s - p + i, ix = ox * s - p + j;
                if (iy < 0 || iy >= h || ix < 0 || ix >= w) continue;
                acc += W[((o * ci + c) * k + i) * k + j] *
                       x[((n * ci + c) * h + iy) * w + ix];
              }
          y[((n * co + o) * ho + oy) * wo + ox] = acc;
        }
}

/* y [m][co][ho][wo] of ConvTranspose2d with W [ci][co][k][k] */
static void conv_t_ref(const double *x, int m, int ci, int h, int w, const double *W,
                       const double *b, int co, int k, int s, int p, int op, double *y) {
  int ho = (h - 1) * s - 2 * p + k + op, wo = (w - 1) * s - 2 * p + k + op;
  for (int n = 0; n < m; n++)
    for (int o = 0; o < co; o++)
      for (int i = 0; i < ho * wo; i++) y[(n * co + o) * ho * wo + i] = b[o];
  for (int n = 0; n < m; n++)
    for (int c = 0; c < ci; c++)
      for (int iy = 0; iy < h; iy++)
        for (int ix = 0; ix < w; ix++)
          for (int o = 0; o < co; o++)
            for (int i = 0; i < k; i++)
              for (int j = 0; j < k; j++) {
                int oy = iy * s - p + i, ox = ix * s - p + j;
                if (oy < 0 || oy >= ho || ox < 0 || ox >= wo) continue;
                y[((n * co + o) * ho + oy) * wo + ox] +=
                    W[((c * co + o) * k + i) * k + j] * x[((n * ci + c) * h + iy) * w + ix];
              }
}

static void check_conv_forward(int transposed, int ci, int h, int w, int co, int k, int s,
                               int p, int op, int m, const char *label) {
  wf_stack_spec spec = {.n_layers = 1, .in = {ci, h, w}, .init = WF_INIT_TORCH};
  spec.layer[0] = transposed ? conv_t(co, k, s, p, op) : conv(co, k, s, p);
  wf_net *net = make_stack(&spec, 5);
  size_t np = wf_net_layout(net)->n_params, nx = (size_t)m * ci * h * w;
  size_t ny = (size_t)m * wf_net_out(net);
  double *params = hvec(np), *hx, *want = hvec(ny), *got = hvec(ny);
  wf_net_get_params(net, params);
  wf_real *x = dnormal(nx, 1, &hx), *y = dalloc(ny);
  size_t nw = (size_t)ci * co * k * k;
  if (transposed)
    conv_t_ref(hx, m, ci, h, w, params, params + nw, co, k, s, p, op, want);
  else
    conv_ref(hx, m, ci, h, w, params, params + nw, co, k, s, p, want);
  CHECK(wf_mlp_forward(net, x, m, 0, y) == WF_OK, "%s: forward", label);
  get(got, y, ny);
  CHECK(rel_err(got, want, ny) < (sizeof(wf_real) == 8 ? 1e-12 : 1e-5),
        "%s: forward against the direct loop, err %g", label, rel_err(got, want, ny));
  wf_device_free(dev, x), wf_device_free(dev, y);
  free(params), free(hx), free(want), free(got);
  wf_net_free(net);
}

static void test_conv_forward(void) {
  char label[128];
  /* ci, h, w, co, k, s, p, op, m */
  int cases[][9] = {{1, 5, 5, 1, 3, 1, 0, 0, 1}, {2, 5, 7, 3, 3, 1, 1, 0, 2},
                    {3, 6, 6, 4, 4, 2, 1, 0, 3}, {2, 7, 5, 2, 1, 1, 0, 0, 2},
                    {1, 9, 8, 2, 5, 2, 2, 0, 1}, {4, 3, 3, 2, 3, 2, 1, 1, 2},
                    {3, 4, 4, 2, 4, 2, 1, 0, 2}, {2, 1, 1, 3, 4, 1, 0, 0, 3}};
  for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
    int *a = cases[c];
    snprintf(label, sizeof(label), "conv2d %dx%dx%d -> %d k%d s%d p%d", a[0], a[1], a[2],
             a[3], a[4], a[5], a[6]);
    if (a[7] == 0 && a[1] + 2 * a[6] >= a[4])
      check_conv_forward(0, a[0], a[1], a[2], a[3], a[4], a[5], a[6], 0, a[8], label);
    snprintf(label, sizeof(label), "conv_t2d %dx%dx%d -> %d k%d s%d p%d op%d", a[0], a[1],
             a[2], a[3], a[4], a[5], a[6], a[7]);
    if (a[7] < a[5] && (a[1] - 1) * a[5] - 2 * a[6] + a[4] + a[7] >= 1)
      check_conv_forward(1, a[0], a[1], a[2], a[3], a[4], a[5], a[6], a[7], a[8], label);
  }
}

/* ---- a dense stack is the MLP ------------------------------------------- */
static void test_dense_is_mlp(void) {
  char msg[WF_MSG_LEN];
  wf_mlp_spec mlp = {.n_layers = 3, .widths = {3, 8, 6, 2}, .activation = WF_ACT_TANH,
                     .output_activation = WF_ACT_IDENTITY, .init = WF_INIT_TORCH};
  wf_stack_spec stack = {.n_layers = 5, .in = {3, 1, 1}, .init = WF_INIT_TORCH};
  stack.layer[0] = dense(8), stack.layer[1] = act(WF_ACT_TANH);
  stack.layer[2] = dense(6), stack.layer[3] = act(WF_ACT_TANH);
  stack.layer[4] = dense(2);
  wf_net *a = NULL, *b = make_stack(&stack, 9);
  CHECK(wf_net_create(&mlp, dev, 9, &a, msg) == WF_OK, "mlp: %s", msg);
  size_t np = wf_net_layout(a)->n_params;
  CHECK(np == wf_net_layout(b)->n_params, "same parameter count");
  double *p = hvec(np), *q = hvec(np);
  wf_net_get_params(a, p);
  wf_net_get_params(b, q);
  CHECK(memcmp(p, q, np * sizeof(double)) == 0,
        "the same seed draws the same initial parameters");
  int m = 5;
  wf_real *x = dnormal((size_t)m * 3, 1, NULL), *ya = dalloc(m * 2), *yb = dalloc(m * 2);
  wf_real *ga = dalloc(m * 3), *gb = dalloc(m * 3);
  wf_mlp_forward(a, x, m, 1, ya);
  wf_mlp_forward(b, x, m, 1, yb);
  wf_mlp_input_grad(a, NULL, ga);
  wf_mlp_input_grad(b, NULL, gb);
  double *ha = hvec(m * 3), *hb = hvec(m * 3);
  get(ha, ya, m * 2), get(hb, yb, m * 2);
  CHECK(rel_err(hb, ha, m * 2) < 1e-6, "dense stack forward = MLP forward");
  get(ha, ga, m * 3), get(hb, gb, m * 3);
  CHECK(rel_err(hb, ha, m * 3) < 1e-6, "dense stack input gradient = MLP's");
  wf_real *bufs[] = {x, ya, yb, ga, gb};
  for (size_t i = 0; i < 5; i++) wf_device_free(dev, bufs[i]);
  free(p), free(q), free(ha), free(hb);
  wf_net_free(a), wf_net_free(b);
}

/* ---- stacks that do not fit ---------------------------------------------- */
static void test_bad_stacks(void) {
  char msg[WF_MSG_LEN];
  wf_net *net = NULL;
  wf_stack_spec s = {.n_layers = 2, .in = {1, 3, 3}, .init = WF_INIT_TORCH};
  s.layer[0] = conv(4, 5, 1, 0);
  s.layer[1] = layer_of(WF_LAYER_FLATTEN);
  CHECK(wf_net_create_stack(&s, dev, 1, &net, msg) == WF_ERR_ARG && net == NULL &&
            strstr(msg, "layer 1 (conv2d)") != NULL,
        "a kernel larger than the padded input names its layer: %s", msg);
  s.layer[0] = dense(3);
  CHECK(wf_stack_check(&s, NULL, msg) == WF_ERR_ARG && strstr(msg, "layer 1 (dense)"),
        "dense on an image asks for a flatten: %s", msg);
  s.n_layers = 1;
  s.layer[0] = reshape(2, 2, 2);
  CHECK(wf_stack_check(&s, NULL, msg) == WF_ERR_ARG && strstr(msg, "reshape"),
        "a reshape that changes the count: %s", msg);
  s.layer[0] = conv_t(2, 3, 2, 0, 2);
  CHECK(wf_stack_check(&s, NULL, msg) == WF_ERR_ARG && strstr(msg, "output padding"),
        "output padding must be below the stride: %s", msg);
  s.n_layers = 0;
  CHECK(wf_stack_check(&s, NULL, msg) == WF_ERR_ARG, "an empty stack");
  s.n_layers = 1;
  s.layer[0] = (wf_layer_spec){.kind = WF_LAYER_KIND_COUNT};
  CHECK(wf_stack_check(&s, NULL, msg) == WF_ERR_ARG, "an unknown kind");
}

#ifdef WF_DOUBLE
/* ---- four passes against finite differences ------------------------------ */
typedef struct {
  wf_net *net;
  int m, train;
  wf_real *x, *dy, *u, *y, *g;
  double *hx, *hdy, *hu;
  double *state; /* BatchNorm state restored before every evaluation */
} fd_case;

static void restore_state(fd_case *c) {
  if (wf_net_layout(c->net)->n_state > 0) wf_net_set_state(c->net, c->state);
}

static double f_out(void *p) {
  fd_case *c = p;
  size_t ny = (size_t)c->m * wf_net_out(c->net);
  double *y = hvec(ny), s = 0;
  restore_state(c);
  wf_mlp_forward(c->net, c->x, c->m, c->train, c->y);
  get(y, c->y, ny);
  for (size_t i = 0; i < ny; i++) s += y[i] * c->hdy[i];
  free(y);
  return s;
}

static double f_dir(void *p) {
  fd_case *c = p;
  size_t nx = (size_t)c->m * wf_net_in(c->net);
  double *g = hvec(nx), s = 0;
  restore_state(c);
  wf_mlp_forward(c->net, c->x, c->m, c->train, NULL);
  wf_mlp_input_grad(c->net, c->dy, c->g);
  get(g, c->g, nx);
  for (size_t i = 0; i < nx; i++) s += c->hu[i] * g[i];
  free(g);
  return s;
}

static void check_stack_passes(const wf_stack_spec *s, int m, int train, const char *label) {
  wf_net *net = make_stack(s, 11);
  jiggle(net, 0.1);
  size_t np = wf_net_layout(net)->n_params, ns = wf_net_layout(net)->n_state;
  int in = wf_net_in(net), out = wf_net_out(net);
  size_t nx = (size_t)m * in, ny = (size_t)m * out, nmax = np > nx ? np : nx;
  fd_case c = {.net = net, .m = m, .train = train, .state = hvec(ns)};
  wf_net_get_state(net, c.state);
  c.x = dnormal(nx, 1, &c.hx);
  c.u = dnormal(nx, 1, &c.hu);
  c.dy = dnormal(ny, 1, &c.hdy);
  c.g = dalloc(nx);
  c.y = dalloc(ny);
  double *fd = hvec(nmax), *an = hvec(nmax);
  wf_real *dx = dalloc(nx), *du = dalloc(nx);
  double *slot = wf_device_alloc_scalars(dev, 1);

  wf_net_zero_grad(net);
  restore_state(&c);
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
  wf_net_zero_grad(net);
  restore_state(&c);
  wf_mlp_forward(net, c.x, m, train, NULL);
  wf_mlp_input_grad(net, c.dy, c.g);
  get(an, c.g, nx);
  CHECK(rel_err(an, fd, nx) < FD_TOL, "%s: input_grad err %g", label, rel_err(an, fd, nx));
  wf_net_get_grad(net, an);
  double gsum = 0;
  for (size_t i = 0; i < np; i++) gsum += fabs(an[i]);
  CHECK(gsum == 0, "%s: input_grad leaves the parameter gradient alone", label);

  if (wf_net_spec(net)->norm == WF_NORM_BATCH) {
    rc = wf_mlp_double_backward(net, c.u, dx, du, slot);
    CHECK(rc == WF_ERR_UNSUPPORTED, "%s: double backward refuses BatchNorm", label);
  } else {
    wf_net_zero_grad(net);
    wf_mlp_forward(net, c.x, m, train, NULL);
    wf_mlp_input_grad(net, c.dy, NULL);
    rc = wf_mlp_double_backward(net, c.u, dx, du, slot);
    CHECK(rc == WF_OK, "%s: double backward: %s", label, wf_net_message(net));
    double value = NAN, direct = f_dir(&c);
    wf_device_read_scalars(dev, &value, slot, 1);
    CHECK(fabs(value - direct) <= 1e-12 * (1 + fabs(direct)), "%s: S %g vs %g", label,
          value, direct);
    wf_net_get_grad(net, an);
    fd_params(net, f_dir, &c, fd);
    CHECK(rel_err(an, fd, np) < FD_TOL, "%s: double backward param grad err %g", label,
          rel_err(an, fd, np));
    get(an, dx, nx);
    fd_input(c.x, c.hx, nx, f_dir, &c, fd);
    CHECK(rel_err(an, fd, nx) < FD_TOL, "%s: double backward input grad err %g", label,
          rel_err(an, fd, nx));
    f_dir(&c);
    get(an, du, nx);
    get(fd, c.g, nx);
    CHECK(rel_err(an, fd, nx) < 1e-12, "%s: dS/du", label);
  }
  wf_real *bufs[] = {c.x, c.u, c.dy, c.g, c.y, dx, du};
  for (size_t i = 0; i < sizeof(bufs) / sizeof(bufs[0]); i++) wf_device_free(dev, bufs[i]);
  wf_device_free(dev, slot);
  free(c.hx), free(c.hu), free(c.hdy), free(c.state), free(fd), free(an);
  wf_net_free(net);
}

static void test_stack_passes(void) {
  wf_stack_spec s;
  /* conv2d: padding, stride 2, odd sizes, curved activations */
  s = (wf_stack_spec){.n_layers = 6, .in = {2, 5, 7}, .init = WF_INIT_TORCH};
  s.layer[0] = conv(3, 3, 1, 1), s.layer[1] = act(WF_ACT_SOFTPLUS);
  s.layer[2] = conv(4, 3, 2, 0), s.layer[3] = act(WF_ACT_ELU);
  s.layer[4] = layer_of(WF_LAYER_FLATTEN), s.layer[5] = dense(2);
  check_stack_passes(&s, 3, 1, "conv2d stride 1 pad 1, stride 2, elu, softplus");
  /* one channel, a 1 x 1 kernel, batch 1 */
  s = (wf_stack_spec){.n_layers = 5, .in = {1, 4, 4}, .init = WF_INIT_TORCH};
  s.layer[0] = conv(1, 1, 1, 0), s.layer[1] = act(WF_ACT_TANH);
  s.layer[2] = conv(2, 2, 2, 1), s.layer[3] = layer_of(WF_LAYER_FLATTEN);
  s.layer[4] = dense(1);
  check_stack_passes(&s, 1, 1, "conv2d 1x1 kernel, one channel, batch 1");
  /* transposed convolutions from a latent vector: dense, reshape, output padding */
  s = (wf_stack_spec){.n_layers = 6, .in = {4, 1, 1}, .init = WF_INIT_TORCH};
  s.layer[0] = dense(18), s.layer[1] = reshape(2, 3, 3);
  s.layer[2] = conv_t(3, 4, 2, 1, 0), s.layer[3] = act(WF_ACT_SIGMOID);
  s.layer[4] = conv_t(1, 3, 2, 1, 1), s.layer[5] = act(WF_ACT_TANH);
  check_stack_passes(&s, 2, 1, "conv_transpose2d stride 2, output padding");
  /* LayerNorm over (c, h, w), leaky relu, the DCGAN critic's shape */
  s = (wf_stack_spec){.n_layers = 7, .in = {1, 8, 8}, .init = WF_INIT_NORMAL,
                      .init_sd = 0.3};
  s.layer[0] = conv(3, 4, 2, 1), s.layer[1] = act(WF_ACT_LEAKY_RELU);
  s.layer[2] = conv(4, 4, 2, 1), s.layer[3] = layer_of(WF_LAYER_LAYER_NORM);
  s.layer[4] = act(WF_ACT_LEAKY_RELU), s.layer[5] = layer_of(WF_LAYER_FLATTEN);
  s.layer[6] = dense(1);
  check_stack_passes(&s, 3, 1, "DCGAN critic with LayerNorm");
  check_stack_passes(&s, 1, 1, "DCGAN critic with LayerNorm, batch 1");
  /* BatchNorm over channels, training and eval mode (the DCGAN generator's) */
  s = (wf_stack_spec){.n_layers = 7, .in = {3, 1, 1}, .init = WF_INIT_TORCH};
  s.layer[0] = dense(8), s.layer[1] = reshape(2, 2, 2);
  s.layer[2] = layer_of(WF_LAYER_BATCH_NORM), s.layer[3] = act(WF_ACT_RELU);
  s.layer[4] = conv_t(2, 4, 2, 1, 0), s.layer[5] = layer_of(WF_LAYER_BATCH_NORM);
  s.layer[6] = act(WF_ACT_TANH);
  check_stack_passes(&s, 3, 1, "BatchNorm2d generator, training");
  check_stack_passes(&s, 3, 0, "BatchNorm2d generator, eval");
  /* BatchNorm1d on flat rows, reshape between two images */
  s = (wf_stack_spec){.n_layers = 5, .in = {2, 3, 2}, .init = WF_INIT_TORCH};
  s.layer[0] = reshape(3, 2, 2), s.layer[1] = layer_of(WF_LAYER_FLATTEN);
  s.layer[2] = dense(4), s.layer[3] = layer_of(WF_LAYER_BATCH_NORM);
  s.layer[4] = act(WF_ACT_SOFTPLUS);
  check_stack_passes(&s, 4, 1, "reshape between images, BatchNorm1d");
}

/* backward_rows on a stack = backward along dy = w plus the double backward */
static void test_stack_backward_rows(void) {
  wf_stack_spec s = {.n_layers = 6, .in = {1, 5, 5}, .init = WF_INIT_TORCH};
  s.layer[0] = conv(2, 3, 2, 1), s.layer[1] = act(WF_ACT_TANH);
  s.layer[2] = layer_of(WF_LAYER_LAYER_NORM), s.layer[3] = act(WF_ACT_LEAKY_RELU);
  s.layer[4] = layer_of(WF_LAYER_FLATTEN), s.layer[5] = dense(1);
  wf_net *net = make_stack(&s, 3);
  jiggle(net, 0.2);
  int m = 4, in = wf_net_in(net);
  size_t np = wf_net_layout(net)->n_params, nx = (size_t)m * in;
  double hw[4];
  for (int i = 0; i < m; i++) hw[i] = rnorm();
  wf_real *x = dnormal(nx, 1, NULL), *u = dnormal(nx, 1, NULL), *w = dalloc(m);
  put(w, hw, m);
  double *want = hvec(np), *got = hvec(np), *part = hvec(np);
  for (int variant = 0; variant < 3; variant++) {
    int use_w = variant != 1, use_u = variant != 0;
    wf_net_zero_grad(net);
    wf_mlp_forward(net, x, m, 1, NULL);
    if (use_w) wf_mlp_backward(net, w, NULL); /* one output: dy = w */
    wf_net_get_grad(net, part);
    wf_net_zero_grad(net);
    wf_mlp_forward(net, x, m, 1, NULL);
    wf_mlp_input_grad(net, NULL, NULL);
    if (use_u) wf_mlp_double_backward(net, u, NULL, NULL, NULL);
    wf_net_get_grad(net, want);
    for (size_t i = 0; i < np; i++) want[i] += part[i];
    wf_net_zero_grad(net);
    wf_mlp_forward(net, x, m, 1, NULL);
    wf_mlp_input_grad(net, NULL, NULL);
    CHECK(wf_mlp_backward_rows(net, use_w ? w : NULL, use_u ? u : NULL) == WF_OK,
          "stack backward_rows: %s", wf_net_message(net));
    wf_net_get_grad(net, got);
    CHECK(rel_err(got, want, np) < 1e-12, "stack backward_rows variant %d: err %g",
          variant, rel_err(got, want, np));
  }
  wf_device_free(dev, x), wf_device_free(dev, u), wf_device_free(dev, w);
  free(want), free(got), free(part);
  wf_net_free(net);
}
#endif

/* clones and aliases of a stack keep its layers */
static void test_stack_clone(void) {
  char msg[WF_MSG_LEN];
  wf_stack_spec s = {.n_layers = 4, .in = {1, 6, 6}, .init = WF_INIT_TORCH};
  s.layer[0] = conv(2, 3, 2, 1), s.layer[1] = layer_of(WF_LAYER_BATCH_NORM);
  s.layer[2] = layer_of(WF_LAYER_FLATTEN), s.layer[3] = dense(2);
  wf_net *a = make_stack(&s, 4), *b = NULL, *c = NULL;
  CHECK(wf_net_clone(a, &b, msg) == WF_OK, "clone: %s", msg);
  CHECK(wf_net_alias(a, &c, msg) == WF_OK, "alias: %s", msg);
  CHECK(wf_net_stack(b) != NULL && wf_net_stack(b)->n_layers == 4, "a clone is a stack");
  CHECK(wf_net_spec(a)->norm == WF_NORM_BATCH, "the summary names the BatchNorm");
  int m = 3;
  wf_real *x = dnormal((size_t)m * 36, 1, NULL), *ya = dalloc(m * 2), *yb = dalloc(m * 2);
  wf_mlp_forward(a, x, m, 0, ya);
  wf_mlp_forward(b, x, m, 0, yb);
  double ha[6], hb[6];
  get(ha, ya, 6), get(hb, yb, 6);
  CHECK(memcmp(ha, hb, sizeof(ha)) == 0, "a clone computes the same outputs");
  CHECK(wf_mlp_forward(c, x, m, 0, yb) == WF_OK, "an alias runs");
  wf_device_free(dev, x), wf_device_free(dev, ya), wf_device_free(dev, yb);
  wf_net_free(a), wf_net_free(b), wf_net_free(c);
}

int main(void) {
  open_cpu_device();
  test_conv_forward();
  test_dense_is_mlp();
  test_bad_stacks();
  test_stack_clone();
#ifdef WF_DOUBLE
  test_stack_passes();
  test_stack_backward_rows();
#endif
  return finish("layers");
}
