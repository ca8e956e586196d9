/* test_prox.c — the Wasserstein-proximal terms of prox.c: SBE's potential
 * trained on fresh batches learns the displacement v (its gradient aligns
 * with v); in double, RWP's proximal term and SBE's objective against
 * central finite differences, and gradient descent on F plus the proximal
 * term reaching Proposition 5's closed-form shrinkage (Lin et al.). Built
 * in double and float; ends with "prox <precision>: N passed, N failed". */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "compose.h"
#include "net_util.h"

#ifdef WF_DOUBLE
/* ---- RWP's proximal term and SBE's potential objective ------------------- */
typedef struct {
  wf_net *g, *a, *critic; /* critic NULL: the proximal term alone */
  wf_real *z, *dy;
  double *slots, weight;
  int m;
} prox_case;

/* F(g(z)) (GAN loss through the critic) + weight mean |g(z) - a(z)|^2, its
 * gradient in g's */
static double f_prox(void *p) {
  prox_case *c = p;
  wf_device_zero_scalars(dev, c->slots, 3);
  wf_net_zero_grad(c->g);
  wf_mlp_forward(c->g, c->z, c->m, 1, NULL);
  if (c->critic != NULL) {
    wf_loss_spec ls = wf_critic_generator_loss(WF_CRITIC_GAN, c->m);
    wf_pullback(c->critic, wf_mlp_output(c->g), c->m, 1, &ls, NULL, c->slots, c->dy);
  } else {
    double zero[64] = {0};
    put(c->dy, zero, (size_t)c->m * wf_net_out(c->g)); /* at most 64 values */
  }
  wf_proximal_term(c->g, c->a, c->z, c->m, 1, c->weight, c->dy, c->slots + 1,
                   c->slots + 2);
  wf_mlp_backward(c->g, c->dy, NULL);
  return read_slot(c->slots) + read_slot(c->slots + 1);
}

typedef struct {
  wf_net *phi;
  wf_real *y, *ya, *x2, *u;
  double *slots;
  int m;
} sbe_case;

/* J, its gradient -dJ/dtheta in phi's */
static double f_sbe(void *p) {
  sbe_case *c = p;
  double h[3];
  wf_device_zero_scalars(dev, c->slots, 3);
  wf_net_zero_grad(c->phi);
  wf_sbe_potential_grad(c->phi, c->y, c->ya, c->m, c->x2, c->u, c->slots);
  wf_device_read_scalars(dev, h, c->slots, 3);
  return h[0] - h[1];
}

static void proximal_term_and_sbe_objective_match_finite_differences(void) {
  /* a generator with BatchNorm (train mode on both), its jiggled snapshot */
  wf_mlp_spec gs = {.n_layers = 3, .widths = {3, 6, 5, 2}, .activation = WF_ACT_ELU,
                    .norm = WF_NORM_BATCH, .init = WF_INIT_TORCH};
  wf_mlp_spec cs = {.n_layers = 2, .widths = {2, 7, 1}, .activation = WF_ACT_TANH,
                    .init = WF_INIT_NORMAL, .init_sd = 0.9};
  char msg[WF_MSG_LEN];
  int m = 6;
  prox_case c = {.g = make_net(&gs, 41), .critic = NULL, .m = m, .weight = 1 / (2 * 0.3)};
  jiggle(c.g, 0.2);
  CHECK(wf_net_clone(c.g, &c.a, msg) == WF_OK, "clone: %s", msg);
  jiggle(c.a, 0.2);
  double *hz;
  c.z = dnormal((size_t)m * 3, 1, &hz);
  c.dy = dalloc((size_t)m * 2);
  c.slots = wf_device_alloc_scalars(dev, 3);
  size_t np = wf_net_layout(c.g)->n_params;
  double *an = hvec(np), *fd = hvec(np);
  for (int with_critic = 0; with_critic < 2; with_critic++) {
    c.critic = with_critic ? make_net(&cs, 43) : NULL;
    double v = f_prox(&c);
    wf_net_get_grad(c.g, an);
    fd_params(c.g, f_prox, &c, fd);
    CHECK(rel_err(an, fd, np) < FD_TOL, "proximal objective (critic %d): err %g",
          with_critic, rel_err(an, fd, np));
    /* the value: weight * mean_i |g(z_i) - a(z_i)|^2, and the displacement */
    double yg[12], ya[12], want = 0;
    wf_real *o = dalloc(12);
    wf_mlp_forward(c.g, c.z, m, 1, o);
    get(yg, o, 12);
    wf_mlp_forward(c.a, c.z, m, 1, o);
    get(ya, o, 12);
    wf_device_free(dev, o);
    for (int i = 0; i < 12; i++) want += (yg[i] - ya[i]) * (yg[i] - ya[i]) / m;
    f_prox(&c);
    CHECK(fabs(read_slot(c.slots + 1) - c.weight * want) < 1e-12 &&
              fabs(read_slot(c.slots + 2) - want) < 1e-12,
          "proximal term value %g, want %g", read_slot(c.slots + 1), c.weight * want);
    (void)v;
    if (c.critic != NULL) wf_net_free(c.critic);
  }
  /* at the snapshot itself the term and its gradient vanish exactly */
  wf_net_copy_params(c.a, c.g);
  c.critic = NULL;
  f_prox(&c);
  wf_net_get_grad(c.g, an);
  double gsum = 0;
  for (size_t i = 0; i < np; i++) gsum += fabs(an[i]);
  CHECK(gsum == 0 && read_slot(c.slots + 1) == 0, "no proximal gradient at the anchor");
  wf_mlp_spec other = gs;
  other.widths[1] = 4;
  wf_net *o = make_net(&other, 1);
  wf_mlp_forward(c.g, c.z, m, 1, NULL);
  CHECK(wf_proximal_term(c.g, o, c.z, m, 1, 1, c.dy, c.slots, NULL) == WF_ERR_ARG,
        "an anchor of another shape is refused");
  CHECK(wf_proximal_term(c.g, c.a, c.z, m, 1, -1, c.dy, c.slots, NULL) == WF_ERR_ARG,
        "a negative weight is refused");
  wf_net_free(o);

  /* SBE: J = mean phi(y) - mean phi(ya) - mean |grad phi(ya)|^2 / 2, a
   * potential with one hidden layer and LayerNorm */
  wf_mlp_spec ps = {.n_layers = 2, .widths = {2, 9, 1}, .activation = WF_ACT_TANH,
                    .norm = WF_NORM_LAYER, .init = WF_INIT_TORCH};
  sbe_case s = {.phi = make_net(&ps, 47), .m = m};
  jiggle(s.phi, 0.3);
  double *hy, *hya;
  s.y = dnormal((size_t)m * 2, 1, &hy);
  s.ya = dnormal((size_t)m * 2, 1, &hya);
  s.x2 = dalloc((size_t)m * 4);
  s.u = dalloc((size_t)m * 2);
  s.slots = wf_device_alloc_scalars(dev, 3);
  size_t nq = wf_net_layout(s.phi)->n_params;
  double *aq = hvec(nq), *fq = hvec(nq);
  double j = f_sbe(&s);
  wf_net_get_grad(s.phi, aq);
  fd_params(s.phi, f_sbe, &s, fq);
  for (size_t i = 0; i < nq; i++) fq[i] = -fq[i]; /* the gradient is -dJ */
  CHECK(rel_err(aq, fq, nq) < FD_TOL, "SBE objective: err %g", rel_err(aq, fq, nq));
  /* its value from the passes */
  wf_real *py = dalloc((size_t)m), *g = dalloc((size_t)m * 2);
  double hp[6], hpa[6], hg[12], want = 0;
  wf_mlp_forward(s.phi, s.y, m, 1, py);
  get(hp, py, (size_t)m);
  wf_mlp_forward(s.phi, s.ya, m, 1, py);
  get(hpa, py, (size_t)m);
  wf_mlp_input_grad(s.phi, NULL, g);
  get(hg, g, (size_t)m * 2);
  for (int i = 0; i < m; i++)
    want += (hp[i] - hpa[i] - 0.5 * (hg[2 * i] * hg[2 * i] + hg[2 * i + 1] * hg[2 * i + 1])) / m;
  CHECK(fabs(j - want) < 1e-12, "SBE objective value %g, want %g", j, want);
  wf_real *bufs[] = {c.z, c.dy, s.y, s.ya, s.x2, s.u, py, g};
  for (size_t i = 0; i < sizeof(bufs) / sizeof(bufs[0]); i++) wf_device_free(dev, bufs[i]);
  wf_device_free(dev, c.slots);
  wf_device_free(dev, s.slots);
  free(hz), free(an), free(fd), free(hy), free(hya), free(aq), free(fq);
  wf_net_free(c.g), wf_net_free(c.a), wf_net_free(s.phi);
}

/* ---- Proposition 5: the relaxed proximal step on two weighted deltas ----- *
 * rho(theta) = alpha delta_A + (1 - alpha) delta_B as a generator: a Linear
 * 2 -> 1 map on latents e1 (a fraction alpha of the batch) and e2, so
 * A = w1 + c, B = w2 + c. F = W1 to theta* = alpha |A - a*| + (1 - alpha)
 * |B - b*| is the mean L1 loss against a* and b*. In one dimension the
 * relaxed metric is the W2 one, so gradient descent on F + (1/(2h)) mean
 * |g(z) - g_k(z)|^2, through wf_proximal_term, must reach the closed form
 * A = shrink_{a*}(A_k, h), B = shrink_{b*}(B_k, h) (from outside the
 * shrink region, where the minimiser is smooth and descent converges to
 * it exactly); and F there is at most F at the Euclidean proximal point
 * shrink(A_k, alpha h), shrink(B_k, (1 - alpha) h). A coefficient of 1/h
 * would shrink by h/2, a minus sign would diverge. */
static double shrink(double x, double centre, double h) {
  return x > centre + h ? x - h : (x < centre - h ? x + h : centre);
}

static void rwp_step_reaches_the_closed_form_of_proposition_5(void) {
  wf_mlp_spec s = {.n_layers = 1, .widths = {2, 1}, .activation = WF_ACT_IDENTITY};
  const int m = 10;
  const double cases[][5] = {/* alpha, h, A_k - a*, B_k - b*, lr */
                             {0.3, 0.5, -1.5, 1.4, 0.2},
                             {0.5, 0.2, 0.7, -0.9, 0.1},
                             {0.8, 1.0, -2.5, -3.0, 0.3},
                             {0.1, 0.05, 0.4, 0.2, 0.02}};
  const double astar = -1, bstar = 2;
  for (size_t k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
    double alpha = cases[k][0], h = cases[k][1], lr = cases[k][4];
    double ak = astar + cases[k][2], bk = bstar + cases[k][3];
    int na = (int)lround(alpha * m);
    double hz[2 * m], ht[m], p[3] = {ak, bk, 0}; /* weight [1 x 2], bias */
    for (int i = 0; i < m; i++) {
      hz[2 * i] = i < na;
      hz[2 * i + 1] = i >= na;
      ht[i] = i < na ? astar : bstar;
    }
    wf_net *g = make_net(&s, 3), *a = NULL;
    char msg[WF_MSG_LEN];
    wf_net_set_params(g, p);
    wf_net_clone(g, &a, msg);
    wf_real *z = dalloc(2 * m), *t = dalloc(m), *dy = dalloc(m), *o = dalloc(2);
    double *slots = wf_device_alloc_scalars(dev, 1);
    put(z, hz, 2 * m);
    put(t, ht, m);
    wf_opt_spec sgd = {.kind = WF_OPT_SGD, .lr = lr, .eps = 1};
    wf_loss_spec l1 = {WF_LOSS_L1, 1.0 / m, 0, 0};
    double zero[m];
    memset(zero, 0, sizeof(zero));
    wf_status rc = WF_OK;
    for (int it = 0; it < 4000 && rc == WF_OK; it++) {
      /* grad = that of F (the L1 loss), then + the proximal term's */
      wf_net_zero_grad(g);
      rc = wf_loss_backward(g, z, m, 1, &l1, t, NULL, NULL);
      if (rc == WF_OK) rc = wf_mlp_forward(g, z, m, 1, NULL);
      put(dy, zero, m);
      if (rc == WF_OK) rc = wf_proximal_term(g, a, z, m, 1, 1 / (2 * h), dy, slots, NULL);
      if (rc == WF_OK) rc = wf_mlp_backward(g, dy, NULL);
      if (rc == WF_OK) rc = wf_net_opt_step(g, &sgd);
    }
    double e[4] = {1, 0, 0, 1}, out[2];
    wf_real *ez = dalloc(4);
    put(ez, e, 4);
    wf_mlp_forward(g, ez, 2, 0, o);
    get(out, o, 2);
    double aw = shrink(ak, astar, h), bw = shrink(bk, bstar, h);
    double ae = shrink(ak, astar, alpha * h), be = shrink(bk, bstar, (1 - alpha) * h);
    double fw = alpha * fabs(out[0] - astar) + (1 - alpha) * fabs(out[1] - bstar);
    double fe = alpha * fabs(ae - astar) + (1 - alpha) * fabs(be - bstar);
    CHECK(rc == WF_OK && fabs(out[0] - aw) < 1e-9 && fabs(out[1] - bw) < 1e-9,
          "Proposition 5 case %zu: RWP step (%.12g, %.12g), closed form (%.12g, %.12g)",
          k, out[0], out[1], aw, bw);
    CHECK(fw <= fe + 1e-12, "Proposition 5 case %zu: F_W %g <= F_E %g", k, fw, fe);
    wf_real *bufs[] = {z, t, dy, o, ez};
    for (size_t i = 0; i < 5; i++) wf_device_free(dev, bufs[i]);
    wf_device_free(dev, slots);
    wf_net_free(g), wf_net_free(a);
  }
}
#endif

/* ---- SBE: with g = g_prev + v the potential's gradient is v --------------- *
 * sup over phi of mean phi(ya + v) - mean phi(ya) - mean |grad phi(ya)|^2 / 2
 * is attained (for a linear phi exactly, and to first order in general) at
 * grad phi = v: train the paper's potential (one hidden layer, LayerNorm)
 * on fresh batches and check the cosine of grad phi(ya) with v. */
static void sbe_potential_gradient_learns_the_displacement(void) {
  wf_mlp_spec ps = {.n_layers = 2, .widths = {2, 32, 1}, .activation = WF_ACT_TANH,
                    .norm = WF_NORM_LAYER, .init = WF_INIT_TORCH};
  wf_net *phi = make_net(&ps, 53);
  const int m = 128;
  const double v[2] = {0.4, -0.25};
  wf_opt_spec adam = {.kind = WF_OPT_ADAM, .lr = 3e-3, .beta1 = 0.5, .beta2 = 0.999,
                      .eps = 1e-8};
  wf_real *y = dalloc(2 * m), *ya = dalloc(2 * m), *x2 = dalloc(4 * m), *u = dalloc(2 * m);
  wf_real *g = dalloc(2 * m);
  double *slots = wf_device_alloc_scalars(dev, 3);
  double hy[2 * m], hya[2 * m], hg[2 * m];
  seed_test_stream(77);
  for (int it = 0; it < 600; it++) {
    for (int i = 0; i < m; i++)
      for (int k = 0; k < 2; k++) {
        hya[2 * i + k] = rnorm();
        hy[2 * i + k] = hya[2 * i + k] + v[k];
      }
    put(y, hy, 2 * m);
    put(ya, hya, 2 * m);
    wf_net_zero_grad(phi);
    wf_device_zero_scalars(dev, slots, 3);
    wf_sbe_potential_grad(phi, y, ya, m, x2, u, slots);
    wf_net_opt_step(phi, &adam);
  }
  /* mean cosine of grad phi with v on fresh points, and the objective near
   * its supremum |v|^2 / 2 */
  for (int i = 0; i < 2 * m; i++) hya[i] = rnorm();
  put(ya, hya, 2 * m);
  wf_mlp_forward(phi, ya, m, 0, NULL);
  wf_mlp_input_grad(phi, NULL, g);
  get(hg, g, 2 * m);
  double cos_mean = 0, vn = sqrt(v[0] * v[0] + v[1] * v[1]);
  for (int i = 0; i < m; i++) {
    double gn = sqrt(hg[2 * i] * hg[2 * i] + hg[2 * i + 1] * hg[2 * i + 1]);
    cos_mean += (hg[2 * i] * v[0] + hg[2 * i + 1] * v[1]) / (gn * vn + 1e-30) / m;
  }
  double h[3];
  wf_device_read_scalars(dev, h, slots, 3);
  CHECK(cos_mean >= 0.95, "SBE potential: mean cosine of grad phi with v %g", cos_mean);
  CHECK(h[0] - h[1] > 0.5 * 0.5 * vn * vn, "SBE potential: J %g near |v|^2/2 = %g",
        h[0] - h[1], 0.5 * vn * vn);
  wf_real *bufs[] = {y, ya, x2, u, g};
  for (size_t i = 0; i < 5; i++) wf_device_free(dev, bufs[i]);
  wf_device_free(dev, slots);
  wf_net_free(phi);
}

int main(void) {
  open_cpu_device();
  sbe_potential_gradient_learns_the_displacement();
#ifdef WF_DOUBLE
  proximal_term_and_sbe_objective_match_finite_differences();
  rwp_step_reaches_the_closed_form_of_proposition_5();
#endif
  return finish("prox");
}
