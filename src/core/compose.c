/* compose.c — losses through nets, gradient penalties, the Euler step,
 * regression and classifier steps, over the passes of mlp.c and the
 * backend's ops. */
#include <math.h>

#include "compose.h"
#include "net.h"

wf_status wf_loss_backward(wf_net *net, const wf_real *x, int m, int train,
                           const wf_loss_spec *ls, const wf_real *t,
                           double *slot, wf_real *dx) {
  wf_status rc = wf_mlp_forward(net, x, m, train, NULL);
  if (rc != WF_OK) return rc;
  WF_NET_BE(net)->loss(WF_NET_CTX(net), ls, wf_mlp_output(net), t,
                       (size_t)m * wf_net_out(net), net->out_adj, slot);
  return wf_mlp_backward(net, net->out_adj, dx);
}

wf_status wf_pullback(wf_net *net, const wf_real *x, int m, int train,
                      const wf_loss_spec *ls, const wf_real *t, double *slot,
                      wf_real *dx) {
  wf_status rc = wf_mlp_forward(net, x, m, train, NULL);
  if (rc != WF_OK) return rc;
  WF_NET_BE(net)->loss(WF_NET_CTX(net), ls, wf_mlp_output(net), t,
                       (size_t)m * wf_net_out(net), net->out_adj, slot);
  return wf_mlp_input_grad(net, net->out_adj, dx);
}

wf_status wf_grad_penalty(wf_net *f, const wf_real *x, int m,
                          wf_rownorm_kind kind, double scale, wf_real *u,
                          wf_real *g, double *slot, double *norm_slot) {
  wf_status rc = wf_mlp_forward(f, x, m, 1, NULL);
  if (rc == WF_OK) rc = wf_mlp_input_grad(f, NULL, g);
  if (rc != WF_OK) return rc;
  /* u = dP/dg, then dP/dtheta = the double backward along u */
  WF_NET_BE(f)->row_norm_loss(WF_NET_CTX(f), kind, wf_mlp_input_grad_result(f),
                              m, wf_net_in(f), scale, u, slot, norm_slot);
  return wf_mlp_double_backward(f, u, NULL, NULL, NULL);
}

wf_status wf_euler_step(wf_net *f, const wf_real *y, int m, double step,
                        wf_real *g, wf_real *zeta, double *norm_slot) {
  if (!isfinite(step)) return wf_fail(f, WF_ERR_ARG, "the step size must be finite");
  wf_status rc = wf_mlp_forward(f, y, m, 1, NULL);
  if (rc == WF_OK) rc = wf_mlp_input_grad(f, NULL, g);
  if (rc != WF_OK) return rc;
  const wf_backend *be = WF_NET_BE(f);
  wf_ctx *ctx = WF_NET_CTX(f);
  size_t md = (size_t)m * wf_net_in(f);
  be->copy(ctx, zeta, y, md);
  be->axpy(ctx, md, (wf_real)step, g, zeta);
  be->row_norm_loss(ctx, WF_ROWNORM_NORM, g, m, wf_net_in(f), 1.0, NULL, NULL,
                    norm_slot);
  return wf_net_sync_error(f);
}

wf_status wf_regress_step(wf_net *net, const wf_real *x, int m,
                          const wf_real *target, const wf_loss_spec *ls,
                          const wf_opt_spec *opt, double *slot) {
  wf_status rc = wf_net_zero_grad(net);
  if (rc == WF_OK) rc = wf_loss_backward(net, x, m, 1, ls, target, slot, NULL);
  if (rc == WF_OK) rc = wf_net_opt_step(net, opt);
  return rc;
}

wf_status wf_classify_step(wf_net *net, const wf_real *x, int m, int train,
                           const int *labels, const wf_opt_spec *opt,
                           double *slot) {
  if (m < 1) return wf_fail(net, WF_ERR_ARG, "a classifier step needs rows");
  wf_status rc = opt != NULL ? wf_net_zero_grad(net) : WF_OK;
  if (rc == WF_OK) rc = wf_mlp_forward(net, x, m, train, NULL);
  if (rc != WF_OK) return rc;
  /* dL/dy [m x k] = (softmax(y_i) - onehot(label_i)) / m into the net's
   * output adjoint */
  WF_NET_BE(net)->softmax_xent(WF_NET_CTX(net), wf_mlp_output(net), labels, m,
                               wf_net_out(net), 1.0 / m, net->out_adj, slot);
  rc = wf_mlp_backward(net, net->out_adj, NULL);
  if (rc == WF_OK && opt != NULL) rc = wf_net_opt_step(net, opt);
  return rc;
}

wf_status wf_latents(wf_net *gen, const wf_real *src, int n_src, int m, int *idx,
                     wf_real *z) {
  int in = wf_net_in(gen);
  if (src == NULL) return wf_net_normal(gen, z, (size_t)m * in);
  if (n_src < 1) return wf_fail(gen, WF_ERR_ARG, "the source sample is empty");
  wf_status rc = wf_net_random_index(gen, idx, (size_t)m, n_src);
  if (rc != WF_OK) return rc;
  WF_NET_BE(gen)->gather_rows(WF_NET_CTX(gen), src, in, idx, m, z);
  return wf_net_sync_error(gen);
}

wf_status wf_weighted_regress_step(wf_net *net, const wf_real *x, int m,
                                   const wf_real *target, const wf_real *w,
                                   const wf_opt_spec *opt, wf_real *diff,
                                   wf_real *sq, double *slot) {
  const wf_backend *be = WF_NET_BE(net);
  wf_ctx *ctx = WF_NET_CTX(net);
  int out = wf_net_out(net);
  size_t n = (size_t)m * out;
  wf_status rc = wf_net_zero_grad(net);
  if (rc == WF_OK) rc = wf_mlp_forward(net, x, m, 1, NULL);
  if (rc != WF_OK) return rc;
  be->copy(ctx, diff, wf_mlp_output(net), n); /* net(x) - target */
  be->axpy(ctx, n, -1, target, diff);
  if (slot != NULL) { /* L = (1 / 2m) sum_i w_i |diff_i|^2 */
    be->row_sq_norm(ctx, diff, m, out, sq);
    wf_loss_spec dot = {WF_LOSS_LINEAR, 0.5 / m, 0.0, 0};
    be->loss(ctx, &dot, sq, w, (size_t)m, NULL, slot);
  }
  /* dL/dnet(x_i) = w_i diff_i / m */
  be->row_scale(ctx, diff, w, m, out, diff);
  be->scal(ctx, n, (wf_real)(1.0 / m), diff);
  rc = wf_mlp_backward(net, diff, NULL);
  if (rc == WF_OK) rc = wf_net_opt_step(net, opt);
  return rc;
}

/* ---- potentials ------------------------------------------------------------ */
wf_status wf_pot_ws_reserve(wf_pot_ws *ws, wf_device *dev, int m, int d, char *msg) {
  if (ws->dev == dev && m <= ws->cap && d == ws->d) return WF_OK;
  wf_pot_ws_free(ws);
  ws->dev = dev;
  size_t cap = (size_t)m, md = cap * (size_t)d;
  wf_real **rows[] = {&ws->v[0], &ws->v[1], &ws->v[2], &ws->v[3], &ws->r,
                      &ws->w,    &ws->wa,   &ws->wb,   &ws->tmp};
  wf_real **mats[] = {&ws->g[0], &ws->g[1], &ws->g[2], &ws->g[3], &ws->pt,
                      &ws->ps,   &ws->u,    &ws->tmpd};
  int ok = 1;
  for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
    *rows[i] = wf_device_alloc(dev, cap);
    ok = ok && *rows[i] != NULL;
  }
  for (size_t i = 0; i < sizeof(mats) / sizeof(mats[0]); i++) {
    *mats[i] = wf_device_alloc(dev, md);
    ok = ok && *mats[i] != NULL;
  }
  if (!ok) {
    wf_pot_ws_free(ws);
    return wf_fail_msg(msg, WF_ERR_NOMEM, "out of memory for a batch of %d rows", m);
  }
  ws->cap = m;
  ws->d = d;
  return WF_OK;
}

void wf_pot_ws_free(wf_pot_ws *ws) {
  wf_real **all[] = {&ws->v[0], &ws->v[1], &ws->v[2], &ws->v[3], &ws->r,  &ws->w,
                     &ws->wa,   &ws->wb,   &ws->tmp,  &ws->g[0], &ws->g[1], &ws->g[2],
                     &ws->g[3], &ws->pt,   &ws->ps,   &ws->u,    &ws->tmpd};
  for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++) {
    if (ws->dev != NULL) wf_device_free(ws->dev, *all[i]);
    *all[i] = NULL;
  }
  ws->cap = 0;
}

/* the potential's first net, where its errors are reported */
static wf_net *pot_net(const wf_potential *p) { return p->net[0]; }

static wf_status pot_check(const wf_potential *p, int d) {
  if (p->n < 1 || p->n > WF_POT_TERMS) return WF_ERR_ARG;
  for (int k = 0; k < p->n; k++)
    if (p->net[k] == NULL || wf_net_in(p->net[k]) != d || wf_net_out(p->net[k]) != 1 ||
        !isfinite(p->coef[k]))
      return WF_ERR_ARG;
  return WF_OK;
}

/* dst = coef * src, or dst += coef * src (n values) */
static void put_scaled(const wf_backend *be, wf_ctx *ctx, wf_real *dst,
                       const wf_real *src, size_t n, double coef, int add) {
  if (add) {
    be->axpy(ctx, n, (wf_real)coef, src, dst);
    return;
  }
  be->copy(ctx, dst, src, n);
  if (coef != 1) be->scal(ctx, n, (wf_real)coef, dst);
}

/* val [m] = phi(x); grad [m x d] = grad phi(x) when not NULL (then the
 * nets keep the chains of their summed outputs for pot_backward's fused
 * passes). Training mode. */
static wf_status pot_forward(const wf_potential *p, const wf_real *x, int m,
                             wf_real *val, wf_real *grad) {
  for (int k = 0; k < p->n; k++) {
    wf_net *net = p->net[k];
    const wf_backend *be = WF_NET_BE(net);
    wf_ctx *ctx = WF_NET_CTX(net);
    wf_status rc = wf_mlp_forward(net, x, m, 1, NULL);
    if (rc != WF_OK) return rc;
    put_scaled(be, ctx, val, wf_mlp_output(net), (size_t)m, p->coef[k], k > 0);
    if (grad == NULL) continue;
    rc = wf_mlp_input_grad(net, NULL, NULL);
    if (rc != WF_OK) return rc;
    put_scaled(be, ctx, grad, wf_mlp_input_grad_result(net),
               (size_t)m * wf_net_in(net), p->coef[k], k > 0);
  }
  return WF_OK;
}

/* grad += d/dtheta [sum_i w_i phi(x_i) + sum_i u_i . grad phi(x_i)] at the
 * cached x (w or u NULL: that part absent). With grads (pot_forward gave the
 * gradient) the fused pass after the input gradient; without, u must be
 * NULL and it is the plain backward. tmp [m], tmpd [m x d]: work space. */
static wf_status pot_backward(const wf_potential *p, const wf_real *w, const wf_real *u,
                              int m, int grads, wf_real *tmp, wf_real *tmpd) {
  for (int k = 0; k < p->n; k++) {
    wf_net *net = p->net[k];
    const wf_backend *be = WF_NET_BE(net);
    wf_ctx *ctx = WF_NET_CTX(net);
    double coef = p->coef[k];
    const wf_real *wk = w, *uk = u;
    if (w != NULL && coef != 1) {
      put_scaled(be, ctx, tmp, w, (size_t)m, coef, 0);
      wk = tmp;
    }
    if (u != NULL && coef != 1) {
      put_scaled(be, ctx, tmpd, u, (size_t)m * wf_net_in(net), coef, 0);
      uk = tmpd;
    }
    wf_status rc = grads ? wf_mlp_backward_rows(net, wk, uk)
                         : (wk == NULL ? WF_OK : wf_mlp_backward(net, wk, NULL));
    if (rc != WF_OK) return rc;
  }
  return WF_OK;
}

/* shapes, a batch size and a finite lambda; no net in two of the n
 * potentials; the work space for m rows */
static wf_status pot_prepare(const wf_potential *const *pots, int n, int m, double lambda,
                             wf_pot_ws *ws) {
  wf_net *net = pot_net(pots[0]);
  int d = wf_net_in(net);
  for (int i = 0; i < n; i++)
    if (pot_check(pots[i], d) != WF_OK)
      return wf_fail(net, WF_ERR_ARG,
                     "potentials need 1 to %d one-output nets of input width %d",
                     WF_POT_TERMS, d);
  for (int i = 0; i < n; i++)
    for (int j = i + 1; j < n; j++)
      for (int a = 0; a < pots[i]->n; a++)
        for (int b = 0; b < pots[j]->n; b++)
          if (pots[i]->net[a] == pots[j]->net[b])
            return wf_fail(net, WF_ERR_ARG, "two potentials share a net (use an alias)");
  if (m < 1) return wf_fail(net, WF_ERR_ARG, "a batch needs at least one row");
  if (!(lambda >= 0) || !isfinite(lambda))
    return wf_fail(net, WF_ERR_ARG, "lambda must be finite and >= 0");
  return wf_pot_ws_reserve(ws, net->dev, m, d, net->msg);
}

static wf_status check_reg(wf_net *net, wf_pot_reg reg, double lambda) {
  if (reg != WF_POT_REG_L2 && reg != WF_POT_REG_ENTROPIC)
    return wf_fail(net, WF_ERR_ARG, "unknown regulariser code %d", (int)reg);
  if (reg == WF_POT_REG_ENTROPIC && !(lambda > 0))
    return wf_fail(net, WF_ERR_ARG, "the entropic regulariser needs lambda > 0");
  return WF_OK;
}

/* From v1 = phi(a), v2 = psi(b): slots[0] += mean (v1 + v2); r = v1 + v2 -
 * |a - b|^2 / 2; w = ot_scale + pen'(r) / m; slots[1] += (1/m) sum pen(r). */
static void pair_weights(const wf_backend *be, wf_ctx *ctx, wf_pot_ws *ws,
                         const wf_real *a, const wf_real *b, int m, int d, double ot_scale,
                         wf_pot_reg reg, double lambda, double *slots) {
  be->copy(ctx, ws->r, ws->v[0], (size_t)m);
  be->axpy(ctx, (size_t)m, 1, ws->v[1], ws->r);
  if (slots != NULL) {
    wf_loss_spec mean = {WF_LOSS_LINEAR, 1.0 / m, 1.0, 0};
    be->loss(ctx, &mean, ws->r, NULL, (size_t)m, NULL, slots);
  }
  be->row_sq_dist(ctx, a, b, m, d, ws->tmp);
  be->axpy(ctx, (size_t)m, -0.5, ws->tmp, ws->r);
  be->fill(ctx, ws->w, (size_t)m, (wf_real)ot_scale);
  double *pen_slot = slots != NULL ? slots + 1 : NULL;
  if (reg == WF_POT_REG_L2) {
    wf_loss_spec hinge = {WF_LOSS_SQ_HINGE, lambda / m, 0.0, 1};
    be->loss(ctx, &hinge, ws->r, NULL, (size_t)m, ws->w, pen_slot);
  } else { /* lambda exp(r / lambda): the loss on r / lambda, chained */
    be->scal(ctx, (size_t)m, (wf_real)(1.0 / lambda), ws->r);
    wf_loss_spec ex = {WF_LOSS_EXP, lambda / m, 0.0, 0};
    be->loss(ctx, &ex, ws->r, NULL, (size_t)m, ws->tmp, pen_slot);
    be->axpy(ctx, (size_t)m, (wf_real)(1.0 / lambda), ws->tmp, ws->w);
  }
}

/* The equality residual at x and its weights: from phi(x) (vx), psi(T)
 * (vt) and p = grad phi(x) (gx): E = vx + vt - |p|^2 / 2, wout = dP/dE =
 * 2 lambda E / m, slot += P = (lambda / m) sum E^2. */
static void eq_weights(const wf_backend *be, wf_ctx *ctx, wf_pot_ws *ws,
                       const wf_real *vx, const wf_real *vt, const wf_real *gx, int m,
                       int d, double lambda, wf_real *wout, double *slot) {
  be->copy(ctx, ws->r, vx, (size_t)m);
  be->axpy(ctx, (size_t)m, 1, vt, ws->r);
  be->row_sq_norm(ctx, gx, m, d, ws->tmp);
  be->axpy(ctx, (size_t)m, -0.5, ws->tmp, ws->r);
  wf_loss_spec sq = {WF_LOSS_MSE, lambda / m, 0.0, 0};
  be->loss(ctx, &sq, ws->r, NULL, (size_t)m, wout, slot);
}

/* u = -w (g_t + g_x): the direction of the double backward of phi at x,
 * through T = x - grad phi(x) (dE/dp = -(grad psi(T) + p)) */
static void eq_direction(const wf_backend *be, wf_ctx *ctx, wf_real *u, const wf_real *gt,
                         const wf_real *gx, const wf_real *w, int m, int d) {
  size_t md = (size_t)m * d;
  be->copy(ctx, u, gt, md);
  be->axpy(ctx, md, 1, gx, u);
  be->row_scale(ctx, u, w, m, d, u);
  be->scal(ctx, md, -1, u);
}

/* The pair terms' common start: workspace for m pairs, the regulariser
 * checked, ws->v[0] [m] = phi(a) and ws->v[1] [m] = psi(b). */
static wf_status pot_pair_values(const wf_potential *phi, const wf_potential *psi,
                                 const wf_real *a, const wf_real *b, int m,
                                 wf_pot_reg reg, double lambda, wf_pot_ws *ws) {
  const wf_potential *pots[] = {phi, psi};
  wf_status rc = pot_prepare(pots, 2, m, lambda, ws);
  if (rc == WF_OK) rc = check_reg(pot_net(phi), reg, lambda);
  if (rc == WF_OK) rc = pot_forward(phi, a, m, ws->v[0], NULL);
  if (rc == WF_OK) rc = pot_forward(psi, b, m, ws->v[1], NULL);
  return rc;
}

wf_status wf_pot_pair_loss(const wf_potential *phi, const wf_potential *psi,
                           const wf_real *a, const wf_real *b, int m, double ot_scale,
                           wf_pot_reg reg, double lambda, wf_pot_ws *ws,
                           double *slots) {
  wf_status rc = pot_pair_values(phi, psi, a, b, m, reg, lambda, ws);
  if (rc != WF_OK) return rc;
  wf_net *net = pot_net(phi);
  const wf_backend *be = WF_NET_BE(net);
  wf_ctx *ctx = WF_NET_CTX(net);
  pair_weights(be, ctx, ws, a, b, m, wf_net_in(net), ot_scale, reg, lambda, slots);
  rc = pot_backward(phi, ws->w, NULL, m, 0, ws->tmp, ws->tmpd);
  if (rc == WF_OK) rc = pot_backward(psi, ws->w, NULL, m, 0, ws->tmp, ws->tmpd);
  return rc;
}

wf_status wf_pot_plan_density(const wf_potential *phi, const wf_potential *psi,
                              const wf_real *a, const wf_real *b, int m,
                              wf_pot_reg reg, double lambda, wf_pot_ws *ws,
                              wf_real *h) {
  wf_status rc = pot_pair_values(phi, psi, a, b, m, reg, lambda, ws);
  if (rc != WF_OK) return rc;
  wf_net *net = pot_net(phi);
  const wf_backend *be = WF_NET_BE(net);
  wf_ctx *ctx = WF_NET_CTX(net);
  be->copy(ctx, ws->r, ws->v[0], (size_t)m);
  be->axpy(ctx, (size_t)m, 1, ws->v[1], ws->r);
  be->row_sq_dist(ctx, a, b, m, wf_net_in(net), ws->tmp);
  be->axpy(ctx, (size_t)m, -0.5, ws->tmp, ws->r);
  if (reg == WF_POT_REG_L2) {
    wf_loss_spec hinge = {WF_LOSS_SQ_HINGE, lambda, 0.0, 0}; /* dy = 2 lambda r+ */
    be->loss(ctx, &hinge, ws->r, NULL, (size_t)m, h, NULL);
  } else {
    be->scal(ctx, (size_t)m, (wf_real)(1.0 / lambda), ws->r);
    wf_loss_spec ex = {WF_LOSS_EXP, 1.0, 0.0, 0}; /* dy = exp(r / lambda) */
    be->loss(ctx, &ex, ws->r, NULL, (size_t)m, h, NULL);
  }
  return wf_net_sync_error(net);
}

wf_status wf_pot_eq_penalty(const wf_potential *phi, const wf_potential *psi,
                            const wf_real *x, int m, double lambda, wf_pot_ws *ws,
                            double *slot) {
  const wf_potential *pots[] = {phi, psi};
  wf_status rc = pot_prepare(pots, 2, m, lambda, ws);
  if (rc != WF_OK) return rc;
  wf_net *net = pot_net(phi);
  const wf_backend *be = WF_NET_BE(net);
  wf_ctx *ctx = WF_NET_CTX(net);
  int d = wf_net_in(net);
  size_t md = (size_t)m * d;
  /* p = grad phi(x) (g0), T = x - p (pt), psi at T with its gradient (g1) */
  rc = pot_forward(phi, x, m, ws->v[0], ws->g[0]);
  if (rc != WF_OK) return rc;
  be->copy(ctx, ws->pt, x, md);
  be->axpy(ctx, md, -1, ws->g[0], ws->pt);
  rc = pot_forward(psi, ws->pt, m, ws->v[1], ws->g[1]);
  if (rc != WF_OK) return rc;
  eq_weights(be, ctx, ws, ws->v[0], ws->v[1], ws->g[0], m, d, lambda, ws->wa, slot);
  /* psi at T: the direct part; phi at x: direct, and through p */
  eq_direction(be, ctx, ws->u, ws->g[1], ws->g[0], ws->wa, m, d);
  rc = pot_backward(psi, ws->wa, NULL, m, 1, ws->tmp, ws->tmpd);
  if (rc == WF_OK) rc = pot_backward(phi, ws->wa, ws->u, m, 1, ws->tmp, ws->tmpd);
  return rc;
}

wf_status wf_pot_dual_loss(const wf_potential *phi_a, const wf_potential *psi_b,
                           const wf_potential *psi_t, const wf_potential *phi_s,
                           const wf_real *a, const wf_real *b, int m, double ot_scale,
                           wf_pot_reg reg, double lambda_ineq, double lambda_eq,
                           wf_pot_ws *ws, double *slots) {
  if (lambda_eq == 0)
    return wf_pot_pair_loss(phi_a, psi_b, a, b, m, ot_scale, reg, lambda_ineq, ws, slots);
  const wf_potential *pots[] = {phi_a, psi_b, psi_t, phi_s};
  wf_status rc = pot_prepare(pots, 4, m, lambda_ineq, ws);
  wf_net *net = pot_net(phi_a);
  if (rc == WF_OK && (!(lambda_eq >= 0) || !isfinite(lambda_eq)))
    rc = wf_fail(net, WF_ERR_ARG, "lambda_eq must be finite and >= 0");
  if (rc == WF_OK) rc = check_reg(net, reg, lambda_ineq);
  if (rc != WF_OK) return rc;
  const wf_backend *be = WF_NET_BE(net);
  wf_ctx *ctx = WF_NET_CTX(net);
  int d = wf_net_in(net);
  size_t md = (size_t)m * d;
  /* the pairs, with gradients: phi(a) v0 g0, psi(b) v1 g1 */
  rc = pot_forward(phi_a, a, m, ws->v[0], ws->g[0]);
  if (rc == WF_OK) rc = pot_forward(psi_b, b, m, ws->v[1], ws->g[1]);
  if (rc != WF_OK) return rc;
  /* T = a - grad phi(a): psi(T) v2 g2; S = b - grad psi(b): phi(S) v3 g3 */
  be->copy(ctx, ws->pt, a, md);
  be->axpy(ctx, md, -1, ws->g[0], ws->pt);
  be->copy(ctx, ws->ps, b, md);
  be->axpy(ctx, md, -1, ws->g[1], ws->ps);
  rc = pot_forward(psi_t, ws->pt, m, ws->v[2], ws->g[2]);
  if (rc == WF_OK) rc = pot_forward(phi_s, ws->ps, m, ws->v[3], ws->g[3]);
  if (rc != WF_OK) return rc;
  /* weights: w (pairs), wa (equality at a), wb (equality at b) */
  pair_weights(be, ctx, ws, a, b, m, d, ot_scale, reg, lambda_ineq, slots);
  eq_weights(be, ctx, ws, ws->v[0], ws->v[2], ws->g[0], m, d, lambda_eq, ws->wa,
             slots != NULL ? slots + 2 : NULL);
  eq_weights(be, ctx, ws, ws->v[1], ws->v[3], ws->g[1], m, d, lambda_eq, ws->wb,
             slots != NULL ? slots + 3 : NULL);
  /* the transported points: their values' weights alone */
  rc = pot_backward(psi_t, ws->wa, NULL, m, 1, ws->tmp, ws->tmpd);
  if (rc == WF_OK) rc = pot_backward(phi_s, ws->wb, NULL, m, 1, ws->tmp, ws->tmpd);
  if (rc != WF_OK) return rc;
  /* phi at a: weights w + wa, direction -wa (grad psi(T) + grad phi(a)) */
  eq_direction(be, ctx, ws->u, ws->g[2], ws->g[0], ws->wa, m, d);
  be->axpy(ctx, (size_t)m, 1, ws->w, ws->wa);
  rc = pot_backward(phi_a, ws->wa, ws->u, m, 1, ws->tmp, ws->tmpd);
  if (rc != WF_OK) return rc;
  /* psi at b: weights w + wb, direction -wb (grad phi(S) + grad psi(b)) */
  eq_direction(be, ctx, ws->u, ws->g[3], ws->g[1], ws->wb, m, d);
  be->axpy(ctx, (size_t)m, 1, ws->w, ws->wb);
  return pot_backward(psi_b, ws->wb, ws->u, m, 1, ws->tmp, ws->tmpd);
}
