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
