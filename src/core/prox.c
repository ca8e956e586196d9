/* prox.c — the Wasserstein-proximal terms of generator training (Lin, Li,
 * Osher, Montufar, "Wasserstein Proximal of GANs"): RWP's relaxed proximal
 * term against a frozen snapshot, and SBE's potential objective.
 *
 * Coefficient and sign, which the paper's text garbles: the relaxed
 * proximal step is argmin F(theta) + (1 / (2h)) E |g_theta(Z) - g_prev(Z)|^2
 * (its equation (4)); the box of Algorithm 1 prints 1/h and appendix D a
 * minus sign. The 1/(2h) is what makes the step the W2 proximal map in one
 * dimension (Proposition 5's shrinkage by h: tests/c/test_prox.c). */
#include <math.h>
#include <string.h>

#include "compose.h"
#include "net.h"

wf_status wf_proximal_term(wf_net *g, wf_net *a, const wf_real *z, int m,
                           int train, double weight, wf_real *dy, double *slot,
                           double *disp_slot) {
  if (!(weight >= 0) || !isfinite(weight))
    return wf_fail(g, WF_ERR_ARG, "the proximal weight must be finite and >= 0");
  if (memcmp(wf_net_layout(g), wf_net_layout(a), sizeof(wf_layout)) != 0 ||
      wf_net_in(g) != wf_net_in(a) || wf_net_out(g) != wf_net_out(a))
    return wf_fail(g, WF_ERR_ARG, "the proximal anchor must have the generator's shape");
  if (a->dev != g->dev)
    return wf_fail(g, WF_ERR_ARG, "the proximal anchor must be on the generator's device");
  if (g->cache == WF_CACHE_EMPTY || g->m != m)
    return wf_fail(g, WF_ERR_STATE, "the proximal term needs the generator's forward first");
  wf_status rc = wf_mlp_forward(a, z, m, train, NULL);
  if (rc != WF_OK) return wf_fail(g, rc, "%s", wf_net_message(a));
  const wf_backend *be = WF_NET_BE(g);
  wf_ctx *ctx = WF_NET_CTX(g);
  size_t n = (size_t)m * wf_net_out(g);
  /* weight/m * sum_ik (y - ya)^2, gradient 2 weight/m (y - ya) added to dy */
  wf_loss_spec prox = {WF_LOSS_MSE, weight / m, 0.0, 1};
  be->loss(ctx, &prox, wf_mlp_output(g), wf_mlp_output(a), n, dy, slot);
  if (disp_slot != NULL) {
    wf_loss_spec disp = {WF_LOSS_MSE, 1.0 / m, 0.0, 0};
    be->loss(ctx, &disp, wf_mlp_output(g), wf_mlp_output(a), n, NULL, disp_slot);
  }
  return wf_net_sync_error(g);
}

wf_status wf_sbe_potential_grad(wf_net *phi, const wf_real *y, const wf_real *ya,
                                int m, wf_real *x2, wf_real *u, double *slots) {
  if (wf_net_out(phi) != 1)
    return wf_fail(phi, WF_ERR_ARG, "a potential must have one output, not %d",
                   wf_net_out(phi));
  if (m < 1) return wf_fail(phi, WF_ERR_ARG, "a batch needs at least one row");
  const wf_backend *be = WF_NET_BE(phi);
  wf_ctx *ctx = WF_NET_CTX(phi);
  size_t nx = (size_t)m * wf_net_in(phi);
  /* -J's first two terms in one forward/backward over [y; ya], with
   * dy = -1/m on y and +1/m on ya; slots[0] gets the terms' value in J */
  be->copy(ctx, x2, y, nx);
  be->copy(ctx, x2 + nx, ya, nx);
  wf_status rc = wf_mlp_forward(phi, x2, 2 * m, 1, NULL);
  if (rc != WF_OK) return rc;
  const wf_real *out = wf_mlp_output(phi); /* [2m] */
  wf_loss_spec val_y = {WF_LOSS_LINEAR, 1.0 / m, 1.0, 0};
  wf_loss_spec val_ya = {WF_LOSS_LINEAR, -1.0 / m, 1.0, 0};
  wf_loss_spec grad_y = {WF_LOSS_LINEAR, -1.0 / m, 1.0, 0};
  wf_loss_spec grad_ya = {WF_LOSS_LINEAR, 1.0 / m, 1.0, 0};
  be->loss(ctx, &val_y, out, NULL, (size_t)m, NULL, slots);
  be->loss(ctx, &val_ya, out + m, NULL, (size_t)m, NULL, slots);
  be->loss(ctx, &grad_y, out, NULL, (size_t)m, phi->out_adj, NULL);
  be->loss(ctx, &grad_ya, out + m, NULL, (size_t)m, phi->out_adj + m, NULL);
  rc = wf_mlp_backward(phi, phi->out_adj, NULL);
  if (rc != WF_OK) return rc;
  /* + mean |grad phi(ya)|^2 / 2 through the double backward */
  rc = wf_grad_penalty(phi, ya, m, WF_ROWNORM_HALF_SQ, 1.0 / m, u, NULL, slots + 1,
                       slots + 2);
  if (rc != WF_OK) return rc;
  return wf_net_sync_error(phi);
}
