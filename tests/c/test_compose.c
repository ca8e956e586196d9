/* test_compose.c — the compositions of compose.c against central finite
 * differences: loss-backward and pull-back for every loss kind, the
 * gradient penalties for every row-norm kind, the Euler step, and the
 * regression, weighted regression and classifier steps (an SGD step is
 * minus lr times the gradient). Built in double only (-DWF_DOUBLE), the
 * tolerance FD_TOL of net_util.h; ends with "compose double: N passed, N
 * failed". (The W2 dual's compositions: test_potentials.c.) */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "compose.h"
#include "net_util.h"

#ifndef WF_DOUBLE
#error "finite-difference checks: build in double (-DWF_DOUBLE)"
#endif

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

static void losses_penalties_euler_and_regress_steps_match_finite_differences(void) {
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

static void weighted_regress_step_is_sgd_on_the_weighted_loss(void) {
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

static void classify_step_is_sgd_on_softmax_cross_entropy(void) {
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

int main(void) {
  open_cpu_device();
  losses_penalties_euler_and_regress_steps_match_finite_differences();
  weighted_regress_step_is_sgd_on_the_weighted_loss();
  classify_step_is_sgd_on_softmax_cross_entropy();
  return finish("compose");
}
