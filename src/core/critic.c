/* critic.c — the WGAN critic loss with its gradient penalties (GP, LP), the
 * critic step, and the report read back from its slots.
 *
 * P's parameter gradient is the double backward with u = dP/dg,
 * g = grad phi(xh) (chain rule through g): wf_grad_penalty. */
#include <math.h>

#include "compose.h"
#include "net.h"

wf_status wf_critic_ws_reserve(wf_critic_ws *ws, wf_device *dev, int m, int in,
                               char *msg) {
  if (ws->dev == dev && m <= ws->cap && in == ws->in) return WF_OK;
  wf_critic_ws_free(ws);
  ws->dev = dev;
  size_t cap = (size_t)m, d = (size_t)in;
  ws->x2 = wf_device_alloc(dev, 2 * cap * d);
  ws->xh = wf_device_alloc(dev, cap * d);
  ws->t = wf_device_alloc(dev, cap);
  ws->u = wf_device_alloc(dev, cap * d);
  if (!ws->x2 || !ws->xh || !ws->t || !ws->u) {
    wf_critic_ws_free(ws);
    return wf_fail_msg(msg, WF_ERR_NOMEM, "out of memory for a batch of %d rows", m);
  }
  ws->cap = m;
  ws->in = in;
  return WF_OK;
}

void wf_critic_ws_free(wf_critic_ws *ws) {
  if (ws->dev != NULL) {
    wf_device_free(ws->dev, ws->x2);
    wf_device_free(ws->dev, ws->xh);
    wf_device_free(ws->dev, ws->t);
    wf_device_free(ws->dev, ws->u);
  }
  ws->x2 = ws->xh = ws->t = ws->u = NULL;
  ws->cap = 0;
}

static wf_status check_critic(wf_net *net, wf_critic_ws *ws, int m,
                              wf_penalty penalty, double lambda) {
  if (wf_net_out(net) != 1)
    return wf_fail(net, WF_ERR_ARG, "a critic must have one output, not %d",
                   wf_net_out(net));
  if (m < 1) return wf_fail(net, WF_ERR_ARG, "a batch needs at least one row");
  if (penalty < WF_PENALTY_NONE || penalty > WF_PENALTY_LP)
    return wf_fail(net, WF_ERR_ARG, "unknown penalty code %d", (int)penalty);
  if (!(lambda >= 0) || !isfinite(lambda))
    return wf_fail(net, WF_ERR_ARG, "lambda must be finite and >= 0");
  return wf_critic_ws_reserve(ws, net->dev, m, wf_net_in(net), net->msg);
}

wf_status wf_critic_loss_grad(wf_net *net, wf_critic_ws *ws,
                              const wf_real *real, const wf_real *fake, int m,
                              const wf_real *t, wf_penalty penalty,
                              double lambda, double *slots) {
  wf_status rc = check_critic(net, ws, m, penalty, lambda);
  if (rc != WF_OK) return rc;
  const wf_backend *be = WF_NET_BE(net);
  wf_ctx *ctx = WF_NET_CTX(net);
  size_t nx = (size_t)m * wf_net_in(net);
  /* one forward/backward over [real; fake] with dy = -1/m, +1/m */
  be->copy(ctx, ws->x2, real, nx);
  be->copy(ctx, ws->x2 + nx, fake, nx);
  rc = wf_mlp_forward(net, ws->x2, 2 * m, 1, NULL);
  if (rc != WF_OK) return rc;
  const wf_real *y = wf_mlp_output(net); /* [2m] */
  wf_loss_spec on_real = {WF_LOSS_LINEAR, -1.0 / m, 1.0, 0};
  wf_loss_spec on_fake = {WF_LOSS_LINEAR, 1.0 / m, 1.0, 0};
  be->loss(ctx, &on_real, y, NULL, (size_t)m, net->out_adj, slots + WF_CRITIC_REAL);
  be->loss(ctx, &on_fake, y + m, NULL, (size_t)m, net->out_adj + m,
           slots + WF_CRITIC_FAKE);
  rc = wf_mlp_backward(net, net->out_adj, NULL);
  if (rc != WF_OK || penalty == WF_PENALTY_NONE) return rc;
  if (t == NULL) {
    rc = wf_net_uniform(net, ws->t, (size_t)m);
    if (rc != WF_OK) return rc;
    t = ws->t;
  }
  be->row_lerp(ctx, real, fake, t, m, wf_net_in(net), ws->xh);
  wf_rownorm_kind kind = penalty == WF_PENALTY_GP ? WF_ROWNORM_GP : WF_ROWNORM_LP;
  return wf_grad_penalty(net, ws->xh, m, kind, lambda / m, ws->u, NULL,
                         slots + WF_CRITIC_PENALTY, slots + WF_CRITIC_NORM);
}

wf_status wf_critic_step(wf_net *net, wf_critic_ws *ws, const wf_real *real,
                         const wf_real *fake, int m, const wf_real *t,
                         wf_penalty penalty, double lambda,
                         const wf_opt_spec *opt, double clip, double *slots) {
  wf_status rc = wf_net_zero_grad(net);
  if (rc == WF_OK)
    rc = wf_critic_loss_grad(net, ws, real, fake, m, t, penalty, lambda, slots);
  if (rc == WF_OK) rc = wf_net_opt_step(net, opt);
  if (rc == WF_OK && clip > 0) rc = wf_net_clip(net, clip);
  return rc;
}

wf_status wf_critic_report_of(const double *s, int steps, wf_penalty penalty,
                              wf_critic_report *rep) {
  rep->w1 = -(s[WF_CRITIC_REAL] + s[WF_CRITIC_FAKE]) / steps;
  rep->penalty = s[WF_CRITIC_PENALTY] / steps;
  rep->loss = -rep->w1 + rep->penalty;
  rep->grad_norm = penalty == WF_PENALTY_NONE ? NAN : s[WF_CRITIC_NORM] / steps;
  if (!isfinite(rep->loss) ||
      (penalty != WF_PENALTY_NONE && !isfinite(rep->grad_norm)))
    return WF_ERR_NUMERIC;
  return WF_OK;
}
