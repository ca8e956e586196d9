/* losses.c — the WGAN critic loss with its gradient penalties.
 *
 * loss = -(mean phi(real) - mean phi(fake)) + P, where P is lambda times the
 * mean of (|grad phi(xh)| - 1)^2 (GP) or max(0, |grad phi(xh)| - 1)^2 (LP)
 * at xh = t real + (1 - t) fake. P's parameter gradient is the double
 * backward with u = dP/dg, g = grad phi(xh) (chain rule through g).
 */
#include <math.h>

#include "net.h"

/* Loss buffers for m rows: stacked inputs [2m x in], outputs [2m], t [m],
 * penalty direction [m x in]. */
static wf_status reserve_loss(wf_net *net, int m) {
  if (m <= net->loss_cap) return WF_OK;
  const wf_backend *be = net->be;
  size_t in = (size_t)net->spec.widths[0];
  be->release(net->loss_x);
  be->release(net->loss_y);
  be->release(net->loss_t);
  be->release(net->loss_u);
  net->loss_x = be->alloc(2 * (size_t)m * in * sizeof(wf_real));
  net->loss_y = be->alloc(2 * (size_t)m * sizeof(wf_real));
  net->loss_t = be->alloc((size_t)m * sizeof(wf_real));
  net->loss_u = be->alloc((size_t)m * in * sizeof(wf_real));
  if (!net->loss_x || !net->loss_y || !net->loss_t || !net->loss_u) {
    net->loss_cap = 0;
    return wf_fail(net, WF_ERR_NOMEM, "out of memory for a batch of %d rows", m);
  }
  net->loss_cap = m;
  return WF_OK;
}

static wf_status check_critic(wf_net *net, int m, double lambda) {
  if (net->spec.widths[net->spec.n_layers] != 1)
    return wf_fail(net, WF_ERR_ARG, "a critic must have one output, not %d",
                   net->spec.widths[net->spec.n_layers]);
  if (m < 1) return wf_fail(net, WF_ERR_ARG, "a batch needs at least one row");
  if (!(lambda >= 0) || !isfinite(lambda))
    return wf_fail(net, WF_ERR_ARG, "lambda must be finite and >= 0");
  return reserve_loss(net, m);
}

wf_status wf_penalty_grad(wf_net *net, const wf_real *x, int m,
                          wf_penalty penalty, double lambda, double *value,
                          double *grad_norm) {
  wf_status rc = check_critic(net, m, lambda);
  if (rc != WF_OK) return rc;
  if (penalty != WF_PENALTY_GP && penalty != WF_PENALTY_LP)
    return wf_fail(net, WF_ERR_ARG, "the penalty must be gp or lp");
  rc = wf_mlp_forward(net, x, m, 1, NULL);
  if (rc == WF_OK) rc = wf_mlp_input_grad(net, NULL, NULL);
  if (rc != WF_OK) return rc;
  net->be->penalty_dir(net->chain_x, m, net->spec.widths[0], penalty, lambda,
                       net->loss_u, value, grad_norm);
  return wf_mlp_double_backward(net, net->loss_u, NULL, NULL, NULL);
}

wf_status wf_critic_loss_grad(wf_net *net, const wf_real *real,
                              const wf_real *fake, int m, const wf_real *t,
                              wf_penalty penalty, double lambda,
                              wf_critic_report *rep) {
  const wf_backend *be = net->be;
  wf_status rc = check_critic(net, m, lambda);
  if (rc != WF_OK) return rc;
  size_t nx = (size_t)m * net->spec.widths[0];
  /* one forward/backward over [real; fake] with dy = -1/m, +1/m */
  be->copy(net->loss_x, real, nx);
  be->copy(net->loss_x + nx, fake, nx);
  rc = wf_mlp_forward(net, net->loss_x, 2 * m, 1, net->loss_y);
  if (rc != WF_OK) return rc;
  double mean_real = be->dot(net->loss_y, NULL, (size_t)m) / m;
  double mean_fake = be->dot(net->loss_y + m, NULL, (size_t)m) / m;
  be->fill(net->loss_y, (size_t)m, (wf_real)(-1.0 / m));
  be->fill(net->loss_y + m, (size_t)m, (wf_real)(1.0 / m));
  rc = wf_mlp_backward(net, net->loss_y, NULL);
  if (rc != WF_OK) return rc;
  rep->w1 = mean_real - mean_fake;
  rep->penalty = 0;
  rep->grad_norm = NAN;
  if (penalty != WF_PENALTY_NONE) {
    if (t == NULL) {
      rc = wf_net_uniform(net, net->loss_t, (size_t)m);
      if (rc != WF_OK) return rc;
      t = net->loss_t;
    }
    be->lerp_rows(real, fake, t, m, net->spec.widths[0], net->loss_x);
    rc = wf_penalty_grad(net, net->loss_x, m, penalty, lambda, &rep->penalty,
                         &rep->grad_norm);
    if (rc != WF_OK) return rc;
  }
  rep->loss = -rep->w1 + rep->penalty;
  if (!isfinite(rep->loss))
    return wf_fail(net, WF_ERR_NUMERIC, "the critic loss is not finite");
  return WF_OK;
}

wf_status wf_critic_step(wf_net *net, const wf_real *real, const wf_real *fake,
                         int m, const wf_real *t, wf_penalty penalty,
                         double lambda, const wf_opt_spec *opt, double clip,
                         wf_critic_report *rep) {
  wf_status rc = wf_net_zero_grad(net);
  if (rc == WF_OK)
    rc = wf_critic_loss_grad(net, real, fake, m, t, penalty, lambda, rep);
  if (rc == WF_OK) rc = wf_net_opt_step(net, opt);
  if (rc == WF_OK && clip > 0) rc = wf_net_clip(net, clip);
  return rc;
}
