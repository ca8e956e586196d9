/* test_potentials.c — the W2 dual's compositions (wf_potential,
 * compose.c) against central finite differences: the equality penalty on
 * either side, plain and reparameterised; the pair loss with the L2 and
 * entropic penalties; the plan density; the fused dual loss, equal to the
 * separate compositions' sum; refusals. Built in double only
 * (-DWF_DOUBLE), the tolerance FD_TOL of net_util.h; ends with "potentials
 * double: N passed, N failed". */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "compose.h"
#include "net_util.h"

#ifndef WF_DOUBLE
#error "finite-difference checks: build in double (-DWF_DOUBLE)"
#endif

/* ---- potentials: the W2 dual's pair loss and equality penalty ----------- */
typedef struct {
  wf_potential phi, psi, psi_t, phi_s;
  wf_pot_ws ws;
  wf_real *a, *b;
  double *slots;
  int m, eq, reg; /* eq: 1 the equality penalty, 2 the fused dual loss */
  double ot_scale, lambda, lambda_eq;
  wf_net *zero[3]; /* nets whose gradient is zeroed before a run */
} pot_case;

/* the composition's objective, from its slots */
static double f_pot(void *p) {
  pot_case *c = p;
  wf_device_zero_scalars(dev, c->slots, 4);
  for (int i = 0; i < 3; i++)
    if (c->zero[i] != NULL) wf_net_zero_grad(c->zero[i]);
  wf_status rc;
  if (c->eq == 2) {
    rc = wf_pot_dual_loss(&c->phi, &c->psi, &c->psi_t, &c->phi_s, c->a, c->b, c->m,
                          c->ot_scale, (wf_pot_reg)c->reg, c->lambda, c->lambda_eq,
                          &c->ws, c->slots);
    double s[4];
    wf_device_read_scalars(dev, s, c->slots, 4);
    return rc == WF_OK ? c->ot_scale * c->m * s[0] + s[1] + s[2] + s[3] : NAN;
  }
  if (c->eq) {
    rc = wf_pot_eq_penalty(&c->phi, &c->psi, c->a, c->m, c->lambda, &c->ws, c->slots);
    return rc == WF_OK ? read_slot(c->slots) : NAN;
  }
  rc = wf_pot_pair_loss(&c->phi, &c->psi, c->a, c->b, c->m, c->ot_scale,
                        (wf_pot_reg)c->reg, c->lambda, &c->ws, c->slots);
  return rc == WF_OK ? c->ot_scale * c->m * read_slot(c->slots) + read_slot(c->slots + 1)
                     : NAN;
}

/* the analytic parameter gradient of every net against central differences */
static void check_pot_grads(pot_case *c, wf_net *const *nets, const char *const *names,
                            int n_nets, const char *label) {
  double v = f_pot(c);
  CHECK(isfinite(v) && v != 0, "%s: value %g", label, v);
  double *an[3];
  for (int k = 0; k < n_nets; k++) {
    size_t np = wf_net_layout(nets[k])->n_params;
    an[k] = hvec(np);
    wf_net_get_grad(nets[k], an[k]); /* all nets' gradients from the one run */
  }
  for (int k = 0; k < n_nets; k++) {
    size_t np = wf_net_layout(nets[k])->n_params;
    double *fd = hvec(np);
    fd_params(nets[k], f_pot, c, fd);
    CHECK(rel_err(an[k], fd, np) < FD_TOL, "%s: %s's gradient err %g", label, names[k],
          rel_err(an[k], fd, np));
    free(fd), free(an[k]);
  }
}

static void w2_dual_losses_match_finite_differences(void) {
  seed_test_stream(41); /* its draws do not depend on the tests run before */
  wf_mlp_spec fs = {.n_layers = 3, .widths = {2, 8, 8, 1}, .activation = WF_ACT_TANH,
                    .init = WF_INIT_NORMAL, .init_sd = 0.7};
  wf_mlp_spec es = fs;
  es.activation = WF_ACT_SOFTPLUS;
  es.norm = WF_NORM_LAYER;
  char msg[WF_MSG_LEN];
  wf_net *f = make_net(&fs, 41), *g = make_net(&es, 42), *e = make_net(&es, 43), *fa;
  CHECK(wf_net_alias(f, &fa, msg) == WF_OK, "alias: %s", msg);
  jiggle(g, 0.2);
  jiggle(e, 0.2);
  /* lift g and e so that the constraint is violated on some pairs */
  for (int k = 0; k < 2; k++) {
    wf_net *n = k ? e : g;
    const wf_layout *lay = wf_net_layout(n);
    double *p = hvec(lay->n_params);
    wf_net_get_params(n, p);
    p[lay->bias[2]] += 1.5;
    wf_net_set_params(n, p);
    free(p);
  }
  int m = 6;
  pot_case c = {.m = m, .lambda = 3};
  double *ha;
  c.a = dnormal((size_t)m * 2, 1, &ha);
  c.b = dnormal((size_t)m * 2, 1, NULL);
  c.slots = wf_device_alloc_scalars(dev, 4);
  wf_potential F = {{f}, {1}, 1}, G = {{g}, {1}, 1};
  wf_potential Ge = {{fa, e}, {-1, 1}, 2}; /* g = -f + e */
  wf_net *fg[] = {f, g}, *fe[] = {f, e};
  const char *n_fg[] = {"f", "g"}, *n_fe[] = {"f", "e"};
  /* the equality penalty on either side, plain and reparameterised; a
   * penalty large enough that the path through T matters */
  c.eq = 1;
  c.zero[0] = f, c.zero[1] = g, c.zero[2] = e;
  c.phi = F, c.psi = G;
  check_pot_grads(&c, fg, n_fg, 2, "eq (f at x, g at T)");
  c.phi = G, c.psi = F;
  check_pot_grads(&c, fg, n_fg, 2, "eq (g at x, f at T)");
  c.phi = F, c.psi = Ge;
  check_pot_grads(&c, fe, n_fe, 2, "eq (f at x, -f + e at T)");
  c.phi = Ge, c.psi = F;
  check_pot_grads(&c, fe, n_fe, 2, "eq (-f + e at x, f at T)");
  /* its value against the passes: f at x, T = x - grad f, g at T */
  {
    c.phi = F, c.psi = G;
    double v = f_pot(&c), want = 0;
    wf_real *y = dalloc(m), *gx = dalloc((size_t)m * 2), *t = dalloc((size_t)m * 2);
    double hy[6], hg[12], ht[12], hgt[6];
    wf_mlp_forward(f, c.a, m, 1, y);
    wf_mlp_input_grad(f, NULL, gx);
    get(hy, y, m);
    get(hg, gx, 12);
    for (int i = 0; i < 12; i++) ht[i] = ha[i] - hg[i];
    put(t, ht, 12);
    wf_mlp_forward(g, t, m, 1, y);
    get(hgt, y, m);
    for (int i = 0; i < m; i++) {
      double E = hy[i] + hgt[i] - 0.5 * (hg[2 * i] * hg[2 * i] + hg[2 * i + 1] * hg[2 * i + 1]);
      want += c.lambda / m * E * E;
    }
    CHECK(fabs(v - want) < 1e-12 * fmax(1, want), "eq value %.15g vs %.15g", v, want);
    wf_device_free(dev, y), wf_device_free(dev, gx), wf_device_free(dev, t);
  }
  /* the pair loss: dual objective plus the L2 or entropic penalty */
  c.eq = 0;
  for (c.reg = WF_POT_REG_L2; c.reg <= WF_POT_REG_ENTROPIC; c.reg++) {
    for (int k = 0; k < 2; k++) {
      c.ot_scale = k == 0 ? -1.0 / m : 0;
      c.lambda = c.reg == WF_POT_REG_L2 ? 3 : 0.5;
      c.phi = F, c.psi = G;
      check_pot_grads(&c, fg, n_fg, 2, c.reg ? "pair entropic (f, g)" : "pair L2 (f, g)");
      c.phi = F, c.psi = Ge;
      check_pot_grads(&c, fe, n_fe, 2, c.reg ? "pair entropic (f, -f + e)" : "pair L2 (f, -f + e)");
    }
  }
  /* the plan density: pen'(r) at the pairs, against the forwards */
  {
    wf_real *h = dalloc(m), *y = dalloc(m);
    double hh[6], fa_[6], gb[6], hb[12];
    get(hb, c.b, 12);
    wf_mlp_forward(f, c.a, m, 1, y);
    get(fa_, y, m);
    wf_mlp_forward(g, c.b, m, 1, y);
    get(gb, y, m);
    for (int reg = 0; reg <= 1; reg++) {
      double lam = reg ? 0.7 : 3;
      CHECK(wf_pot_plan_density(&F, &G, c.a, c.b, m, (wf_pot_reg)reg, lam, &c.ws, h) ==
                WF_OK, "plan density");
      get(hh, h, m);
      double err = 0;
      int pos = 0;
      for (int i = 0; i < m; i++) {
        double dx = ha[2 * i] - hb[2 * i], dy = ha[2 * i + 1] - hb[2 * i + 1];
        double r = fa_[i] + gb[i] - 0.5 * (dx * dx + dy * dy);
        double want = reg ? exp(r / lam) : 2 * lam * fmax(0, r);
        pos += want > 0;
        err = fmax(err, fabs(hh[i] - want) / fmax(1, want));
      }
      CHECK(err < 1e-12 && pos > 0, "plan density reg %d: err %g", reg, err);
    }
    wf_device_free(dev, h), wf_device_free(dev, y);
  }
  /* the fused dual loss: pairs, inequality and both equality penalties,
   * against differences, and equal to the separate compositions' sum */
  {
    wf_net *fa2, *fa3, *ea, *ga;
    CHECK(wf_net_alias(f, &fa2, msg) == WF_OK && wf_net_alias(f, &fa3, msg) == WF_OK &&
              wf_net_alias(e, &ea, msg) == WF_OK && wf_net_alias(g, &ga, msg) == WF_OK,
          "aliases");
    wf_potential Gt = {{fa2, ea}, {-1, 1}, 2}, Fs = {{fa3}, {1}, 1};
    wf_potential Gpt = {{ga}, {1}, 1}, Fps = {{fa}, {1}, 1};
    c.eq = 2;
    c.lambda_eq = 3;
    for (c.reg = WF_POT_REG_L2; c.reg <= WF_POT_REG_ENTROPIC; c.reg++) {
      c.lambda = c.reg == WF_POT_REG_L2 ? 3 : 0.5;
      c.ot_scale = -1.0 / m;
      c.phi = F, c.psi = Ge, c.psi_t = Gt, c.phi_s = Fs;
      check_pot_grads(&c, fe, n_fe, 2, c.reg ? "dual entropic (f, -f + e)" : "dual L2 (f, -f + e)");
      c.phi = F, c.psi = G, c.psi_t = Gpt, c.phi_s = Fps;
      check_pot_grads(&c, fg, n_fg, 2, c.reg ? "dual entropic (f, g)" : "dual L2 (f, g)");
    }
    /* the same value and gradients as the three separate compositions */
    c.reg = WF_POT_REG_L2;
    c.lambda = 3;
    c.phi = F, c.psi = Ge, c.psi_t = Gt, c.phi_s = Fs;
    double fused = f_pot(&c);
    size_t nf = wf_net_layout(f)->n_params, ne = wf_net_layout(e)->n_params;
    double *gf = hvec(nf), *ge = hvec(ne), *sf = hvec(nf), *se = hvec(ne);
    wf_net_get_grad(f, gf);
    wf_net_get_grad(e, ge);
    wf_net_zero_grad(f), wf_net_zero_grad(e);
    double s4[4], sep = 0;
    wf_device_zero_scalars(dev, c.slots, 4);
    wf_pot_pair_loss(&F, &Ge, c.a, c.b, m, -1.0 / m, WF_POT_REG_L2, 3, &c.ws, c.slots);
    wf_pot_eq_penalty(&F, &Ge, c.a, m, 3, &c.ws, c.slots + 2);
    wf_pot_eq_penalty(&Ge, &F, c.b, m, 3, &c.ws, c.slots + 3);
    wf_device_read_scalars(dev, s4, c.slots, 4);
    sep = -s4[0] + s4[1] + s4[2] + s4[3];
    wf_net_get_grad(f, sf);
    wf_net_get_grad(e, se);
    CHECK(fabs(fused - sep) < 1e-12 * fmax(1, fabs(sep)) && rel_err(gf, sf, nf) < 1e-12 &&
              rel_err(ge, se, ne) < 1e-12,
          "dual loss = pair + eq + eq (value %g vs %g, grads %g %g)", fused, sep,
          rel_err(gf, sf, nf), rel_err(ge, se, ne));
    CHECK(wf_pot_dual_loss(&F, &Ge, &Ge, &Fs, c.a, c.b, m, 0, WF_POT_REG_L2, 1, 1, &c.ws,
                           c.slots) == WF_ERR_ARG, "dual loss: shared nets refused");
    /* the public code's arrangement: the generated side reparameterised,
     * phi = -g + e at a and at S, psi = g at b and at T (algo_w2.c's
     * reparam 2), against differences in both nets */
    {
      wf_net *gx[3], *es;
      for (int i = 0; i < 3; i++)
        CHECK(wf_net_alias(g, &gx[i], msg) == WF_OK, "alias of g");
      CHECK(wf_net_alias(e, &es, msg) == WF_OK, "alias of e");
      wf_potential Pa = {{e, gx[0]}, {1, -1}, 2}, Pb = {{g}, {1}, 1};
      wf_potential Pt = {{gx[1]}, {1}, 1}, Ps = {{es, gx[2]}, {1, -1}, 2};
      wf_net *eg[] = {e, g};
      const char *n_eg[] = {"e", "g"};
      for (c.reg = WF_POT_REG_L2; c.reg <= WF_POT_REG_ENTROPIC; c.reg++) {
        c.lambda = c.reg == WF_POT_REG_L2 ? 3 : 0.5;
        c.ot_scale = -1.0 / m;
        c.phi = Pa, c.psi = Pb, c.psi_t = Pt, c.phi_s = Ps;
        check_pot_grads(&c, eg, n_eg, 2,
                        c.reg ? "dual entropic (-g + e, g)" : "dual L2 (-g + e, g)");
      }
      /* the equality penalty alone on the generated side: -g + e at x */
      c.eq = 1;
      c.lambda = 3;
      c.phi = Pa, c.psi = Pt;
      check_pot_grads(&c, eg, n_eg, 2, "eq (-g + e at x, g at T)");
      c.eq = 2;
      for (int i = 0; i < 3; i++) wf_net_free(gx[i]);
      wf_net_free(es);
    }
    free(gf), free(ge), free(sf), free(se);
    wf_net_free(fa2), wf_net_free(fa3), wf_net_free(ea), wf_net_free(ga);
  }
  /* refusals: shared nets, a bad regulariser, a negative lambda */
  CHECK(wf_pot_pair_loss(&F, &F, c.a, c.b, m, 0, WF_POT_REG_L2, 1, &c.ws, c.slots) ==
            WF_ERR_ARG, "two potentials on one net refused");
  CHECK(wf_pot_pair_loss(&F, &G, c.a, c.b, m, 0, (wf_pot_reg)7, 1, &c.ws, c.slots) ==
            WF_ERR_ARG, "unknown regulariser refused");
  CHECK(wf_pot_eq_penalty(&F, &G, c.a, m, -1, &c.ws, c.slots) == WF_ERR_ARG,
        "negative lambda refused");
  CHECK(wf_pot_pair_loss(&F, &G, c.a, c.b, m, 0, WF_POT_REG_ENTROPIC, 0, &c.ws, c.slots) ==
            WF_ERR_ARG, "entropic with lambda 0 refused");
  wf_pot_ws_free(&c.ws);
  wf_device_free(dev, c.a), wf_device_free(dev, c.b), wf_device_free(dev, c.slots);
  free(ha);
  wf_net_free(fa), wf_net_free(f), wf_net_free(g), wf_net_free(e);
}

int main(void) {
  open_cpu_device();
  w2_dual_losses_match_finite_differences();
  return finish("potentials");
}
