/* critic.c — the critic losses of every adversarial algorithm: WGAN with its
 * gradient penalties (GP, LP, clipping), the standard non-saturating GAN
 * and DRAGAN; the critic step, the report read back from its slots, and
 * each kind's generator loss.
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

wf_status wf_critic_spec_check(const wf_critic_spec *cs, char *msg) {
  if (cs->kind < WF_CRITIC_WGAN || cs->kind >= WF_CRITIC_KIND_COUNT)
    return wf_fail_msg(msg, WF_ERR_ARG, "unknown critic loss code %d", (int)cs->kind);
  if (cs->penalty < WF_PENALTY_NONE || cs->penalty > WF_PENALTY_LP)
    return wf_fail_msg(msg, WF_ERR_ARG, "unknown penalty code %d", (int)cs->penalty);
  if (cs->kind != WF_CRITIC_WGAN && cs->penalty != WF_PENALTY_NONE)
    return wf_fail_msg(msg, WF_ERR_ARG,
                       "the GAN and DRAGAN losses take no interpolate penalty");
  if (!(cs->lambda >= 0) || !isfinite(cs->lambda))
    return wf_fail_msg(msg, WF_ERR_ARG, "lambda must be finite and >= 0");
  if (!(cs->perturb >= 0) || !isfinite(cs->perturb))
    return wf_fail_msg(msg, WF_ERR_ARG, "the DRAGAN perturbation must be finite and >= 0");
  if (!(cs->clip >= 0) || !isfinite(cs->clip))
    return wf_fail_msg(msg, WF_ERR_ARG, "the clipping bound must be finite and >= 0");
  return WF_OK;
}

static wf_status check_critic(wf_net *net, wf_critic_ws *ws, int m,
                              const wf_critic_spec *cs) {
  if (wf_net_out(net) != 1)
    return wf_fail(net, WF_ERR_ARG, "a critic must have one output, not %d",
                   wf_net_out(net));
  if (m < 1) return wf_fail(net, WF_ERR_ARG, "a batch needs at least one row");
  wf_status rc = wf_critic_spec_check(cs, net->msg);
  if (rc != WF_OK) return rc;
  return wf_critic_ws_reserve(ws, net->dev, m, wf_net_in(net), net->msg);
}

/* The penalty's points into ws->xh: WGAN's interpolates t real + (1 - t)
 * fake, DRAGAN's real + perturb u; noise (t [m] or u [m x in]) drawn from
 * the critic's stream when NULL. */
static wf_status penalty_points(wf_net *net, wf_critic_ws *ws, const wf_critic_spec *cs,
                                const wf_real *real, const wf_real *fake, int m,
                                const wf_real *noise) {
  const wf_backend *be = WF_NET_BE(net);
  wf_ctx *ctx = WF_NET_CTX(net);
  int d = wf_net_in(net);
  size_t nx = (size_t)m * d;
  if (cs->kind == WF_CRITIC_WGAN) {
    if (noise == NULL) {
      wf_status rc = wf_net_uniform(net, ws->t, (size_t)m);
      if (rc != WF_OK) return rc;
      noise = ws->t;
    }
    be->row_lerp(ctx, real, fake, noise, m, d, ws->xh);
    return WF_OK;
  }
  if (noise == NULL) {
    wf_status rc = wf_net_uniform(net, ws->xh, nx);
    if (rc != WF_OK) return rc;
  } else {
    be->copy(ctx, ws->xh, noise, nx);
  }
  be->scal(ctx, nx, (wf_real)cs->perturb, ws->xh);
  be->axpy(ctx, nx, (wf_real)1, real, ws->xh);
  return WF_OK;
}

wf_status wf_critic_loss_grad_spec(wf_net *net, wf_critic_ws *ws,
                                   const wf_critic_spec *cs, const wf_real *real,
                                   const wf_real *fake, int m,
                                   const wf_real *noise, double *slots) {
  wf_status rc = check_critic(net, ws, m, cs);
  if (rc != WF_OK) return rc;
  const wf_backend *be = WF_NET_BE(net);
  wf_ctx *ctx = WF_NET_CTX(net);
  size_t nx = (size_t)m * wf_net_in(net);
  /* one forward/backward over [real; fake] */
  be->copy(ctx, ws->x2, real, nx);
  be->copy(ctx, ws->x2 + nx, fake, nx);
  rc = wf_mlp_forward(net, ws->x2, 2 * m, 1, NULL);
  if (rc != WF_OK) return rc;
  const wf_real *y = wf_mlp_output(net); /* [2m] */
  wf_loss_spec on_real, on_fake;
  if (cs->kind == WF_CRITIC_WGAN) { /* dy = -1/m, +1/m */
    on_real = (wf_loss_spec){WF_LOSS_LINEAR, -1.0 / m, 1.0, 0};
    on_fake = (wf_loss_spec){WF_LOSS_LINEAR, 1.0 / m, 1.0, 0};
  } else { /* -log sigmoid(y) = BCE(y, 1); -log(1 - sigmoid(y)) = BCE(y, 0) */
    on_real = (wf_loss_spec){WF_LOSS_BCE_LOGITS, 1.0 / m, 1.0, 0};
    on_fake = (wf_loss_spec){WF_LOSS_BCE_LOGITS, 1.0 / m, 0.0, 0};
  }
  be->loss(ctx, &on_real, y, NULL, (size_t)m, net->out_adj, slots + WF_CRITIC_REAL);
  be->loss(ctx, &on_fake, y + m, NULL, (size_t)m, net->out_adj + m,
           slots + WF_CRITIC_FAKE);
  rc = wf_mlp_backward(net, net->out_adj, NULL);
  if (rc != WF_OK) return rc;
  int penalised = cs->kind == WF_CRITIC_DRAGAN ||
                  (cs->kind == WF_CRITIC_WGAN && cs->penalty != WF_PENALTY_NONE);
  if (!penalised) return WF_OK;
  rc = penalty_points(net, ws, cs, real, fake, m, noise);
  if (rc != WF_OK) return rc;
  wf_rownorm_kind kind = cs->kind == WF_CRITIC_WGAN && cs->penalty == WF_PENALTY_LP
                             ? WF_ROWNORM_LP
                             : WF_ROWNORM_GP;
  return wf_grad_penalty(net, ws->xh, m, kind, cs->lambda / m, ws->u, NULL,
                         slots + WF_CRITIC_PENALTY, slots + WF_CRITIC_NORM);
}

wf_status wf_critic_step_spec(wf_net *net, wf_critic_ws *ws, const wf_critic_spec *cs,
                              const wf_real *real, const wf_real *fake, int m,
                              const wf_real *noise, const wf_opt_spec *opt,
                              double *slots) {
  wf_status rc = wf_net_zero_grad(net);
  if (rc == WF_OK)
    rc = wf_critic_loss_grad_spec(net, ws, cs, real, fake, m, noise, slots);
  if (rc == WF_OK) rc = wf_net_opt_step(net, opt);
  if (rc == WF_OK && cs->clip > 0) rc = wf_net_clip(net, cs->clip);
  return rc;
}

wf_status wf_critic_report_spec(const double *s, int steps, const wf_critic_spec *cs,
                                wf_critic_report *rep) {
  int penalised = cs->kind == WF_CRITIC_DRAGAN ||
                  (cs->kind == WF_CRITIC_WGAN && cs->penalty != WF_PENALTY_NONE);
  double data_terms = (s[WF_CRITIC_REAL] + s[WF_CRITIC_FAKE]) / steps;
  rep->w1 = cs->kind == WF_CRITIC_WGAN ? -data_terms : NAN;
  rep->penalty = s[WF_CRITIC_PENALTY] / steps;
  rep->loss = data_terms + rep->penalty;
  rep->grad_norm = penalised ? s[WF_CRITIC_NORM] / steps : NAN;
  if (!isfinite(rep->loss) || (penalised && !isfinite(rep->grad_norm)))
    return WF_ERR_NUMERIC;
  return WF_OK;
}

wf_loss_spec wf_critic_generator_loss(wf_critic_kind kind, int m) {
  if (kind == WF_CRITIC_WGAN) return (wf_loss_spec){WF_LOSS_LINEAR, -1.0 / m, 1.0, 0};
  return (wf_loss_spec){WF_LOSS_BCE_LOGITS, 1.0 / m, 1.0, 0};
}

/* ---- the WGAN forms (W1-FE and the R API's defaults) ---------------------- */
static wf_critic_spec wgan_spec(wf_penalty penalty, double lambda, double clip) {
  wf_critic_spec cs = {WF_CRITIC_WGAN, penalty, lambda, 0, clip};
  return cs;
}

wf_status wf_critic_loss_grad(wf_net *net, wf_critic_ws *ws,
                              const wf_real *real, const wf_real *fake, int m,
                              const wf_real *t, wf_penalty penalty,
                              double lambda, double *slots) {
  wf_critic_spec cs = wgan_spec(penalty, lambda, 0);
  return wf_critic_loss_grad_spec(net, ws, &cs, real, fake, m, t, slots);
}

wf_status wf_critic_step(wf_net *net, wf_critic_ws *ws, const wf_real *real,
                         const wf_real *fake, int m, const wf_real *t,
                         wf_penalty penalty, double lambda,
                         const wf_opt_spec *opt, double clip, double *slots) {
  /* clip <= 0 means no clamp, as before */
  wf_critic_spec cs = wgan_spec(penalty, lambda, clip > 0 ? clip : 0);
  return wf_critic_step_spec(net, ws, &cs, real, fake, m, t, opt, slots);
}

wf_status wf_critic_report_of(const double *s, int steps, wf_penalty penalty,
                              wf_critic_report *rep) {
  wf_critic_spec cs = wgan_spec(penalty, 0, 0);
  return wf_critic_report_spec(s, steps, &cs, rep);
}
