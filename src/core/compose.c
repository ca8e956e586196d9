/* compose.c — losses through nets, gradient penalties, the Euler step and
 * regression steps, over the passes of mlp.c and the backend's ops. */
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
  wf_real **rows[] = {&ws->v1, &ws->v2, &ws->r, &ws->w, &ws->tmp};
  wf_real **mats[] = {&ws->g1, &ws->g2, &ws->pt, &ws->u, &ws->tmpd};
  int ok = 1;
  for (int i = 0; i < 5; i++) {
    *rows[i] = wf_device_alloc(dev, cap);
    *mats[i] = wf_device_alloc(dev, md);
    ok = ok && *rows[i] != NULL && *mats[i] != NULL;
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
  wf_real **all[] = {&ws->v1, &ws->v2, &ws->r, &ws->w, &ws->tmp,
                     &ws->g1, &ws->g2, &ws->pt, &ws->u, &ws->tmpd};
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

/* val [m] = phi(x); grad [m x d] = grad phi(x) when not NULL (keeping the
 * adjoint chains for a double backward). Training mode. */
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

/* grad += d/dtheta sum_i dy_i phi(x_i) at the cached x; tmp [m] */
static wf_status pot_backward(const wf_potential *p, const wf_real *dy, int m,
                              wf_real *tmp) {
  for (int k = 0; k < p->n; k++) {
    wf_net *net = p->net[k];
    const wf_real *d = dy;
    if (p->coef[k] != 1) {
      put_scaled(WF_NET_BE(net), WF_NET_CTX(net), tmp, dy, (size_t)m, p->coef[k], 0);
      d = tmp;
    }
    wf_status rc = wf_mlp_backward(net, d, NULL);
    if (rc != WF_OK) return rc;
  }
  return WF_OK;
}

/* grad += d/dtheta sum_i u_i . grad phi(x_i) at the cached x; tmp [m x d] */
static wf_status pot_double_backward(const wf_potential *p, const wf_real *u, int m,
                                     wf_real *tmp) {
  for (int k = 0; k < p->n; k++) {
    wf_net *net = p->net[k];
    const wf_real *d = u;
    if (p->coef[k] != 1) {
      put_scaled(WF_NET_BE(net), WF_NET_CTX(net), tmp, u, (size_t)m * wf_net_in(net),
                 p->coef[k], 0);
      d = tmp;
    }
    wf_status rc = wf_mlp_double_backward(net, d, NULL, NULL, NULL);
    if (rc != WF_OK) return rc;
  }
  return WF_OK;
}

/* shapes, a batch size and a finite lambda; the work space for m rows */
static wf_status pot_prepare(const wf_potential *phi, const wf_potential *psi, int m,
                             double lambda, wf_pot_ws *ws) {
  wf_net *net = pot_net(phi);
  int d = wf_net_in(net);
  if (pot_check(phi, d) != WF_OK || pot_check(psi, d) != WF_OK)
    return wf_fail(net, WF_ERR_ARG,
                   "potentials need 1 to %d one-output nets of input width %d",
                   WF_POT_TERMS, d);
  for (int i = 0; i < phi->n; i++)
    for (int j = 0; j < psi->n; j++)
      if (phi->net[i] == psi->net[j])
        return wf_fail(net, WF_ERR_ARG, "two potentials share a net (use an alias)");
  if (m < 1) return wf_fail(net, WF_ERR_ARG, "a batch needs at least one row");
  if (!(lambda >= 0) || !isfinite(lambda))
    return wf_fail(net, WF_ERR_ARG, "lambda must be finite and >= 0");
  return wf_pot_ws_reserve(ws, net->dev, m, d, net->msg);
}

wf_status wf_pot_pair_loss(const wf_potential *phi, const wf_potential *psi,
                           const wf_real *a, const wf_real *b, int m, double ot_scale,
                           wf_pot_reg reg, double lambda, wf_pot_ws *ws,
                           double *slots) {
  wf_status rc = pot_prepare(phi, psi, m, lambda, ws);
  if (rc != WF_OK) return rc;
  wf_net *net = pot_net(phi);
  if (reg != WF_POT_REG_L2 && reg != WF_POT_REG_ENTROPIC)
    return wf_fail(net, WF_ERR_ARG, "unknown regulariser code %d", (int)reg);
  if (reg == WF_POT_REG_ENTROPIC && !(lambda > 0))
    return wf_fail(net, WF_ERR_ARG, "the entropic regulariser needs lambda > 0");
  const wf_backend *be = WF_NET_BE(net);
  wf_ctx *ctx = WF_NET_CTX(net);
  int d = wf_net_in(net);
  rc = pot_forward(phi, a, m, ws->v1, NULL);
  if (rc == WF_OK) rc = pot_forward(psi, b, m, ws->v2, NULL);
  if (rc != WF_OK) return rc;
  /* r = phi(a) + psi(b) (its mean into slot 0), then minus c(a, b) */
  be->copy(ctx, ws->r, ws->v1, (size_t)m);
  be->axpy(ctx, (size_t)m, 1, ws->v2, ws->r);
  if (slots != NULL) {
    wf_loss_spec mean = {WF_LOSS_LINEAR, 1.0 / m, 1.0, 0};
    be->loss(ctx, &mean, ws->r, NULL, (size_t)m, NULL, slots);
  }
  be->row_sq_dist(ctx, a, b, m, d, ws->tmp);
  be->axpy(ctx, (size_t)m, -0.5, ws->tmp, ws->r);
  /* w = d objective / d r_i = ot_scale + pen'(r_i) / m */
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
  rc = pot_backward(phi, ws->w, m, ws->tmp);
  if (rc == WF_OK) rc = pot_backward(psi, ws->w, m, ws->tmp);
  return rc;
}

wf_status wf_pot_plan_density(const wf_potential *phi, const wf_potential *psi,
                              const wf_real *a, const wf_real *b, int m,
                              wf_pot_reg reg, double lambda, wf_pot_ws *ws,
                              wf_real *h) {
  wf_status rc = pot_prepare(phi, psi, m, lambda, ws);
  if (rc != WF_OK) return rc;
  wf_net *net = pot_net(phi);
  if ((reg != WF_POT_REG_L2 && reg != WF_POT_REG_ENTROPIC) ||
      (reg == WF_POT_REG_ENTROPIC && !(lambda > 0)))
    return wf_fail(net, WF_ERR_ARG, "a plan density needs L2, or entropic with lambda > 0");
  const wf_backend *be = WF_NET_BE(net);
  wf_ctx *ctx = WF_NET_CTX(net);
  rc = pot_forward(phi, a, m, ws->v1, NULL);
  if (rc == WF_OK) rc = pot_forward(psi, b, m, ws->v2, NULL);
  if (rc != WF_OK) return rc;
  be->copy(ctx, ws->r, ws->v1, (size_t)m);
  be->axpy(ctx, (size_t)m, 1, ws->v2, ws->r);
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
  wf_status rc = pot_prepare(phi, psi, m, lambda, ws);
  if (rc != WF_OK) return rc;
  wf_net *net = pot_net(phi);
  const wf_backend *be = WF_NET_BE(net);
  wf_ctx *ctx = WF_NET_CTX(net);
  int d = wf_net_in(net);
  size_t md = (size_t)m * d;
  /* p = grad phi(x) (g1), T = x - p (pt), psi at T with its gradient (g2) */
  rc = pot_forward(phi, x, m, ws->v1, ws->g1);
  if (rc != WF_OK) return rc;
  be->copy(ctx, ws->pt, x, md);
  be->axpy(ctx, md, -1, ws->g1, ws->pt);
  rc = pot_forward(psi, ws->pt, m, ws->v2, ws->g2);
  if (rc != WF_OK) return rc;
  /* E = phi(x) + psi(T) - |p|^2 / 2; P = (lambda / m) sum E^2, w = dP/dE */
  be->copy(ctx, ws->r, ws->v1, (size_t)m);
  be->axpy(ctx, (size_t)m, 1, ws->v2, ws->r);
  be->row_sq_norm(ctx, ws->g1, m, d, ws->tmp);
  be->axpy(ctx, (size_t)m, -0.5, ws->tmp, ws->r);
  wf_loss_spec sq = {WF_LOSS_MSE, lambda / m, 0.0, 0};
  be->loss(ctx, &sq, ws->r, NULL, (size_t)m, ws->w, slot);
  /* the direct parts: psi at T, phi at x */
  rc = pot_backward(psi, ws->w, m, ws->tmp);
  if (rc == WF_OK) rc = pot_backward(phi, ws->w, m, ws->tmp);
  if (rc != WF_OK) return rc;
  /* through p: dE/dp = -(grad psi(T) + p), so u = -w (g2 + g1) */
  be->copy(ctx, ws->u, ws->g2, md);
  be->axpy(ctx, md, 1, ws->g1, ws->u);
  be->row_scale(ctx, ws->u, ws->w, m, d, ws->u);
  be->scal(ctx, md, -1, ws->u);
  return pot_double_backward(phi, ws->u, m, ws->tmpd);
}
