/* test_critic.c — the critic losses of critic.c: WGAN with GP and LP
 * against central finite differences; the standard GAN and DRAGAN losses
 * against their formulas and differences; the WGAN spec against the WGAN
 * loss; refusals of inconsistent specs; the generator loss of each kind
 * through the critic. Built in double only (-DWF_DOUBLE), the tolerance
 * FD_TOL of net_util.h; ends with "critic double: N passed, N failed". */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "compose.h"
#include "net_util.h"

#ifndef WF_DOUBLE
#error "finite-difference checks: build in double (-DWF_DOUBLE)"
#endif

/* ---- the WGAN critic loss with GP and LP against finite differences ----- */
typedef struct {
  wf_net *net;
  wf_critic_ws ws;
  wf_real *real, *fake, *t;
  double *slots;
  int m, pen;
} critic_case;

static double f_critic(void *p) {
  critic_case *c = p;
  double h[WF_CRITIC_SLOTS];
  wf_critic_report rep;
  wf_device_zero_scalars(dev, c->slots, WF_CRITIC_SLOTS);
  wf_net_zero_grad(c->net);
  wf_critic_loss_grad(c->net, &c->ws, c->real, c->fake, c->m, c->t,
                      (wf_penalty)c->pen, 10, c->slots);
  wf_device_read_scalars(dev, h, c->slots, WF_CRITIC_SLOTS);
  wf_critic_report_of(h, 1, (wf_penalty)c->pen, &rep);
  return rep.loss;
}

static void wgan_critic_loss_with_gp_and_lp_matches_finite_differences(void) {
  wf_mlp_spec s = {.n_layers = 3, .widths = {2, 8, 8, 1},
                   .activation = WF_ACT_TANH, .init = WF_INIT_NORMAL,
                   .init_sd = 0.8, .norm = WF_NORM_LAYER};
  critic_case c = {.net = make_net(&s, 5), .m = 9};
  double ht[9];
  c.real = dnormal(18, 1, NULL);
  c.fake = dnormal(18, 1, NULL);
  for (int i = 0; i < 9; i++) ht[i] = runif();
  c.t = dalloc(9);
  put(c.t, ht, 9);
  c.slots = wf_device_alloc_scalars(dev, WF_CRITIC_SLOTS);
  size_t np = wf_net_layout(c.net)->n_params;
  double *an = hvec(np), *fd = hvec(np);
  for (c.pen = 0; c.pen <= 2; c.pen++) {
    f_critic(&c);
    wf_net_get_grad(c.net, an);
    fd_params(c.net, f_critic, &c, fd);
    CHECK(rel_err(an, fd, np) < FD_TOL, "critic loss penalty=%d: err %g", c.pen,
          rel_err(an, fd, np));
  }
  wf_critic_ws_free(&c.ws);
  wf_device_free(dev, c.real);
  wf_device_free(dev, c.fake);
  wf_device_free(dev, c.t);
  wf_device_free(dev, c.slots);
  free(an), free(fd);
  wf_net_free(c.net);
}

/* ---- critic-loss kinds: the standard GAN and DRAGAN -------------------- */
typedef struct {
  wf_net *net;
  wf_critic_ws ws;
  wf_critic_spec cs;
  wf_real *real, *fake, *noise;
  double *slots;
  int m;
} kind_case;

static double f_kind(void *p) {
  kind_case *c = p;
  double h[WF_CRITIC_SLOTS];
  wf_critic_report rep;
  wf_device_zero_scalars(dev, c->slots, WF_CRITIC_SLOTS);
  wf_net_zero_grad(c->net);
  wf_critic_loss_grad_spec(c->net, &c->ws, &c->cs, c->real, c->fake, c->m, c->noise,
                           c->slots);
  wf_device_read_scalars(dev, h, c->slots, WF_CRITIC_SLOTS);
  wf_critic_report_spec(h, 1, &c->cs, &rep);
  return rep.loss;
}

/* the generator's loss pulled back through the critic, at x */
typedef struct {
  wf_net *net;
  wf_critic_kind kind;
  wf_real *x, *dx;
  double *slot;
  int m;
} gen_case;

static double f_gen(void *p) {
  gen_case *c = p;
  wf_loss_spec ls = wf_critic_generator_loss(c->kind, c->m);
  wf_device_zero_scalars(dev, c->slot, 1);
  wf_pullback(c->net, c->x, c->m, 1, &ls, NULL, c->slot, c->dx);
  return read_slot(c->slot);
}

static double softplus(double x) { return x > 0 ? x + log1p(exp(-x)) : log1p(exp(x)); }

static void gan_and_dragan_critic_losses_match_their_formulas(void) {
  wf_mlp_spec s = {.n_layers = 3, .widths = {2, 8, 8, 1}, .activation = WF_ACT_TANH,
                   .init = WF_INIT_NORMAL, .init_sd = 0.8, .norm = WF_NORM_LAYER};
  int m = 7, d = 2;
  kind_case c = {.net = make_net(&s, 9), .m = m};
  double *hreal, *hfake, *hu = hvec((size_t)m * d);
  c.real = dnormal((size_t)m * d, 1, &hreal);
  c.fake = dnormal((size_t)m * d, 1, &hfake);
  for (int i = 0; i < m * d; i++) hu[i] = runif();
  wf_real *u_dev = dalloc((size_t)m * d);
  put(u_dev, hu, (size_t)m * d);
  c.noise = u_dev;
  c.slots = wf_device_alloc_scalars(dev, WF_CRITIC_SLOTS);
  size_t np = wf_net_layout(c.net)->n_params;
  double *an = hvec(np), *fd = hvec(np);
  wf_real *y = dalloc(2 * (size_t)m);
  double hy[14];
  for (int kind = WF_CRITIC_GAN; kind <= WF_CRITIC_DRAGAN; kind++) {
    c.cs = (wf_critic_spec){(wf_critic_kind)kind, WF_PENALTY_NONE, 10, 0.35, 0};
    double loss = f_kind(&c);
    wf_net_get_grad(c.net, an);
    fd_params(c.net, f_kind, &c, fd);
    CHECK(rel_err(an, fd, np) < FD_TOL, "critic loss kind %d: param grad err %g", kind,
          rel_err(an, fd, np));
    /* the value: -mean log D(real) - mean log(1 - D(fake)) (+ DRAGAN's penalty
     * at real + 0.35 u, by wf_grad_penalty at those points) */
    double h[WF_CRITIC_SLOTS], want = 0;
    wf_mlp_forward(c.net, c.real, m, 1, y);
    wf_mlp_forward(c.net, c.fake, m, 1, y + m);
    get(hy, y, 2 * (size_t)m);
    for (int i = 0; i < m; i++) want += (softplus(-hy[i]) + softplus(hy[m + i])) / m;
    if (kind == WF_CRITIC_DRAGAN) {
      double *hxp = hvec((size_t)m * d);
      for (int i = 0; i < m * d; i++) hxp[i] = hreal[i] + 0.35 * hu[i];
      wf_real *xp = dalloc((size_t)m * d), *u = dalloc((size_t)m * d);
      put(xp, hxp, (size_t)m * d);
      wf_device_zero_scalars(dev, c.slots, 2);
      wf_grad_penalty(c.net, xp, m, WF_ROWNORM_GP, 10.0 / m, u, NULL, c.slots,
                      c.slots + 1);
      wf_device_read_scalars(dev, h, c.slots, 2);
      want += h[0];
      wf_device_free(dev, xp);
      wf_device_free(dev, u);
      free(hxp);
    }
    CHECK(fabs(loss - want) < 1e-12, "critic loss kind %d: value %g, want %g", kind,
          loss, want);
  }
  /* the spec form of WGAN-GP is the WGAN critic loss */
  c.cs = (wf_critic_spec){WF_CRITIC_WGAN, WF_PENALTY_GP, 10, 0, 0};
  wf_real *t = dalloc((size_t)m);
  double ht[7];
  for (int i = 0; i < m; i++) ht[i] = runif();
  put(t, ht, (size_t)m);
  c.noise = t;
  double l1 = f_kind(&c);
  wf_net_get_grad(c.net, an);
  wf_device_zero_scalars(dev, c.slots, WF_CRITIC_SLOTS);
  wf_net_zero_grad(c.net);
  wf_critic_loss_grad(c.net, &c.ws, c.real, c.fake, m, t, WF_PENALTY_GP, 10, c.slots);
  double h[WF_CRITIC_SLOTS];
  wf_critic_report rep;
  wf_device_read_scalars(dev, h, c.slots, WF_CRITIC_SLOTS);
  wf_critic_report_of(h, 1, WF_PENALTY_GP, &rep);
  wf_net_get_grad(c.net, fd);
  CHECK(l1 == rep.loss && memcmp(an, fd, np * sizeof(double)) == 0,
        "the WGAN spec is the WGAN critic loss");
  /* inconsistent specs are refused */
  char msg[WF_MSG_LEN];
  wf_critic_spec bad = {WF_CRITIC_GAN, WF_PENALTY_GP, 10, 0, 0};
  CHECK(wf_critic_spec_check(&bad, msg) == WF_ERR_ARG, "GAN with GP refused");
  bad = (wf_critic_spec){WF_CRITIC_DRAGAN, WF_PENALTY_NONE, 10, -1, 0};
  CHECK(wf_critic_spec_check(&bad, msg) == WF_ERR_ARG, "negative perturbation refused");
  bad = (wf_critic_spec){(wf_critic_kind)7, WF_PENALTY_NONE, 10, 0, 0};
  CHECK(wf_critic_spec_check(&bad, msg) == WF_ERR_ARG, "unknown kind refused");
  CHECK(wf_critic_loss_grad_spec(c.net, &c.ws, &bad, c.real, c.fake, m, NULL, c.slots) ==
            WF_ERR_ARG && strstr(wf_net_message(c.net), "unknown") != NULL,
        "an unknown kind is refused by the loss: %s", wf_net_message(c.net));
  /* the generator's loss through the critic: value and input gradient */
  for (int kind = WF_CRITIC_WGAN; kind <= WF_CRITIC_GAN; kind++) {
    gen_case g = {.net = c.net, .kind = (wf_critic_kind)kind, .x = c.fake, .m = m,
                  .slot = c.slots, .dx = dalloc((size_t)m * d)};
    double v = f_gen(&g), want = 0, *adx = hvec((size_t)m * d), *fdx = hvec((size_t)m * d);
    get(adx, g.dx, (size_t)m * d);
    for (int i = 0; i < m; i++)
      want += (kind == WF_CRITIC_WGAN ? -hy[m + i] : softplus(-hy[m + i])) / m;
    CHECK(fabs(v - want) < 1e-12, "generator loss kind %d: %g, want %g", kind, v, want);
    fd_input(c.fake, hfake, (size_t)m * d, f_gen, &g, fdx);
    CHECK(rel_err(adx, fdx, (size_t)m * d) < FD_TOL, "generator loss kind %d: err %g",
          kind, rel_err(adx, fdx, (size_t)m * d));
    wf_device_free(dev, g.dx);
    free(adx), free(fdx);
  }
  wf_critic_ws_free(&c.ws);
  wf_real *bufs[] = {c.real, c.fake, t, y, u_dev};
  for (size_t i = 0; i < 5; i++) wf_device_free(dev, bufs[i]);
  wf_device_free(dev, c.slots);
  free(hreal), free(hfake), free(hu), free(an), free(fd);
  wf_net_free(c.net);
}

int main(void) {
  open_cpu_device();
  wgan_critic_loss_with_gp_and_lp_matches_finite_differences();
  gan_and_dragan_critic_losses_match_their_formulas();
  return finish("critic");
}
