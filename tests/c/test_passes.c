/* test_passes.c — an MLP's passes (mlp.c) against central finite
 * differences: forward, backward, input gradient and double backward for
 * every activation, norm and residual switch, in training and evaluation
 * mode; and backward_rows, the backward along row weights fused with the
 * double backward, against the two passes it replaces. Built in double only
 * (-DWF_DOUBLE), the tolerance FD_TOL of net_util.h; ends with "passes
 * double: N passed, N failed". */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "net_util.h"

#ifndef WF_DOUBLE
#error "finite-difference checks: build in double (-DWF_DOUBLE)"
#endif

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

static void every_mlp_pass_matches_finite_differences(void) {
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

/* ---- backward_rows: the backward along row weights, fused with the double
 * backward, against the two passes it replaces ----------------------------- */
static void backward_rows_equals_the_backward_plus_the_double_backward(void) {
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

int main(void) {
  open_cpu_device();
  every_mlp_pass_matches_finite_differences();
  backward_rows_equals_the_backward_plus_the_double_backward();
  return finish("passes");
}
