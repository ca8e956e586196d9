/* compose.h — compositions of passes and backend ops that every algorithm
 * shares: a loss pulled back through a net (with or without its parameter
 * gradient), gradient penalties, the forward-Euler step of a potential's
 * gradient flow, regression steps, and the WGAN critic loss.
 *
 * All buffers are device buffers of the net's device; scalar results add
 * into device slots (double *, NULL: not wanted) and are read by the caller
 * once per phase. Work space a composition needs beyond the net's own is
 * passed in by its owner (an algorithm or the ffi layer).
 */
#ifndef WF_COMPOSE_H
#define WF_COMPOSE_H

#include "backend.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Forward x [m x in], the loss ls on the outputs [m x out] against t
 * (NULL: ls->target), and its gradient back through the net:
 * grad += d loss / d theta; dx [m x in] (NULL: not wanted) = d loss / dx.
 * slot += the loss. */
wf_status wf_loss_backward(wf_net *net, const wf_real *x, int m, int train,
                           const wf_loss_spec *ls, const wf_real *t,
                           double *slot, wf_real *dx);

/* The same through a frozen net: dx [m x in] = d loss / dx, the parameter
 * gradient untouched (a generator's loss through a critic or potential).
 * slot += the loss. */
wf_status wf_pullback(wf_net *net, const wf_real *x, int m, int train,
                      const wf_loss_spec *ls, const wf_real *t, double *slot,
                      wf_real *dx);

/* A penalty on the input gradient of f at x [m x in]:
 * P = scale * sum_i phi(|grad f(x_i)|), phi by kind (backend.h: GP, LP,
 * HALF_SQ, NORM); grad += dP/dtheta through the double backward.
 * slot += P; norm_slot += mean_i |grad f(x_i)|. u [m x in] is work space;
 * g [m x in] (NULL: not wanted) gets grad f(x). */
wf_status wf_grad_penalty(wf_net *f, const wf_real *x, int m,
                          wf_rownorm_kind kind, double scale, wf_real *u,
                          wf_real *g, double *slot, double *norm_slot);

/* The forward-Euler step of the gradient flow of a frozen potential f at
 * y [m x d]: g = grad f(y), zeta = y + step * g, step of either sign (W1-FE
 * ascends its critic; W2-FE descends its potential). g, zeta: [m x d].
 * norm_slot += mean_i |g_i|. */
wf_status wf_euler_step(wf_net *f, const wf_real *y, int m, double step,
                        wf_real *g, wf_real *zeta, double *norm_slot);

/* One optimiser step of net towards targets: zero the gradient, forward x
 * [m x in] in training mode, loss ls (MSE, L1, ...) against target
 * [m x out], backward, step. slot += the loss before the step. */
wf_status wf_regress_step(wf_net *net, const wf_real *x, int m,
                          const wf_real *target, const wf_loss_spec *ls,
                          const wf_opt_spec *opt, double *slot);

/* A classifier's softmax cross-entropy: forward x [m x in] (train: batch
 * statistics), L = (1/m) sum_i (log sum_j exp(y_ij) - y_i,label_i) on its
 * logits y [m x k] (k = the net's outputs) against labels [m] (device
 * ints, 0 .. k - 1), and grad += dL/dtheta. slot += L. With opt != NULL,
 * the gradient is zeroed first and one optimiser step taken after. */
wf_status wf_classify_step(wf_net *net, const wf_real *x, int m, int train,
                           const int *labels, const wf_opt_spec *opt,
                           double *slot);

/* m latents z [m x in] for a generator: N(0, I) from its stream (src NULL),
 * or m rows of src [n_src x in] drawn uniformly with replacement from its
 * stream (a map between two samples). idx [m]: work space. */
wf_status wf_latents(wf_net *gen, const wf_real *src, int n_src, int m, int *idx,
                     wf_real *z);

/* One optimiser step of net on the weighted regression
 * L = (1/m) sum_i w_i |net(x_i) - target_i|^2 / 2 (x [m x in], target
 * [m x out], w [m] fixed): Barycentric-OT's map stage. slot += L before the
 * step. diff [m x out] and sq [m]: work space. */
wf_status wf_weighted_regress_step(wf_net *net, const wf_real *x, int m,
                                   const wf_real *target, const wf_real *w,
                                   const wf_opt_spec *opt, wf_real *diff,
                                   wf_real *sq, double *slot);

/* ---- potentials and the W2 dual ------------------------------------------ *
 * A potential is phi(x) = sum_k coef[k] net_k(x) over one-output nets: W2GAN's
 * f, its g, or its epsilon reparameterisation g = -f + e. A net caches the
 * point it last saw, so a potential needed at two points of one step is two
 * potentials over aliases of the same nets (wf_net_alias): the two
 * potentials given to one composition must not share a net (they may share
 * parameters). Parameter gradients add into the nets' blocks. */
#define WF_POT_TERMS 2
typedef struct {
  wf_net *net[WF_POT_TERMS];
  double coef[WF_POT_TERMS];
  int n; /* terms, 1 .. WF_POT_TERMS */
} wf_potential;

/* Work space of the potential compositions, owned by their caller. */
typedef struct {
  wf_device *dev;
  int cap, d;
  wf_real *v[4], *r, *w, *wa, *wb, *tmp; /* [cap] */
  wf_real *g[4], *pt, *ps, *u, *tmpd;    /* [cap x d] */
} wf_pot_ws;

wf_status wf_pot_ws_reserve(wf_pot_ws *ws, wf_device *dev, int m, int d, char *msg);
void wf_pot_ws_free(wf_pot_ws *ws);

/* The constraint phi(a) + psi(b) <= c(a, b) = |a - b|^2 / 2 as a penalty on
 * r = phi(a) + psi(b) - c(a, b): L2, lambda max(0, r)^2, or entropic,
 * lambda exp(r / lambda) (the regularised duals of Seguy et al.). */
typedef enum { WF_POT_REG_L2 = 0, WF_POT_REG_ENTROPIC } wf_pot_reg;

/* On pairs (a_i, b_i), a, b [m x d]: adds to the objective
 *   ot_scale * sum_i (phi(a_i) + psi(b_i)) + (1/m) sum_i pen(r_i)
 * (ot_scale = -1/m: the dual objective to maximise, as a loss; 0: the
 * penalty alone, e.g. on interpolates) and its parameter gradient.
 * slots[0] += mean_i (phi(a_i) + psi(b_i)); slots[1] += the penalty. */
wf_status wf_pot_pair_loss(const wf_potential *phi, const wf_potential *psi,
                           const wf_real *a, const wf_real *b, int m, double ot_scale,
                           wf_pot_reg reg, double lambda, wf_pot_ws *ws,
                           double *slots);

/* The density of the regularised optimal plan at pairs (a_i, b_i) with
 * respect to the product of the marginals, h [m]: the derivative of the
 * penalty, 2 lambda max(0, r_i) (L2) or exp(r_i / lambda) (entropic), at
 * r_i = phi(a_i) + psi(b_i) - |a_i - b_i|^2 / 2 (Seguy et al.: the weights
 * of Barycentric-OT's regression). No gradients. */
wf_status wf_pot_plan_density(const wf_potential *phi, const wf_potential *psi,
                              const wf_real *a, const wf_real *b, int m,
                              wf_pot_reg reg, double lambda, wf_pot_ws *ws,
                              wf_real *h);

/* The W2 critic's loss on pairs (a_i, b_i) with the equality penalty on
 * both sides, sharing every evaluation (the pair loss's phi(a), psi(b) are
 * the equality penalties' too):
 *   ot_scale sum_i (phi(a_i) + psi(b_i)) + (1/m) sum_i pen(r_i)
 *   + (lambda_eq / m) sum_i (phi(a_i) + psi(T_i) - |grad phi(a_i)|^2 / 2)^2
 *   + (lambda_eq / m) sum_i (phi(S_i) + psi(b_i) - |grad psi(b_i)|^2 / 2)^2
 * with T = a - grad phi(a), S = b - grad psi(b): the sum of
 * wf_pot_pair_loss(phi, psi, a, b) and wf_pot_eq_penalty on either side,
 * for about half their work. Four potentials with pairwise distinct nets:
 * phi_a, psi_b at the pairs, psi_t at T, phi_s at S (aliases of phi and
 * psi's nets). lambda_eq = 0 is the pair loss alone. slots[0] += mean
 * phi(a) + psi(b); [1] += the inequality penalty; [2], [3] += the equality
 * penalties at a and at b. */
wf_status wf_pot_dual_loss(const wf_potential *phi_a, const wf_potential *psi_b,
                           const wf_potential *psi_t, const wf_potential *phi_s,
                           const wf_real *a, const wf_real *b, int m, double ot_scale,
                           wf_pot_reg reg, double lambda_ineq, double lambda_eq,
                           wf_pot_ws *ws, double *slots);

/* The equality (complementary slackness) penalty at x [m x d]:
 *   P = (lambda / m) sum_i (phi(x_i) + psi(T_i) - |grad phi(x_i)|^2 / 2)^2,
 *   T_i = x_i - grad phi(x_i),
 * zero at the optimum, where T is the Monge map and the constraint is
 * tight on its graph. Its parameter gradient flows through T: with
 * w_i = 2 lambda E_i / m, phi gets w . dphi/dtheta at x plus the double
 * backward along u_i = -w_i (grad psi(T_i) + grad phi(x_i)), psi gets
 * w . dpsi/dtheta at T. slot += P. */
wf_status wf_pot_eq_penalty(const wf_potential *phi, const wf_potential *psi,
                            const wf_real *x, int m, double lambda, wf_pot_ws *ws,
                            double *slot);

/* ---- the WGAN critic loss ---------------------------------------------- *
 * loss = -(mean phi(real) - mean phi(fake)) + P, where P is lambda times
 * the mean of (|grad phi(xh)| - 1)^2 (GP) or max(0, |grad phi(xh)| - 1)^2
 * (LP) at xh = t real + (1 - t) fake. Its slots (four, consecutive):
 *   [WF_CRITIC_REAL] += -mean phi(real)   [WF_CRITIC_FAKE] += mean phi(fake)
 *   [WF_CRITIC_PENALTY] += P              [WF_CRITIC_NORM] += mean |grad phi(xh)|
 * so they can be summed over the steps of a phase and read once. */
enum {
  WF_CRITIC_REAL = 0,
  WF_CRITIC_FAKE,
  WF_CRITIC_PENALTY,
  WF_CRITIC_NORM,
  WF_CRITIC_SLOTS
};

/* The critic loss's work space, owned by its caller. */
typedef struct {
  wf_device *dev;
  int cap, in;
  wf_real *x2; /* [2 cap x in] real rows, then fake rows */
  wf_real *xh; /* [cap x in] interpolates */
  wf_real *t;  /* [cap] interpolation weights */
  wf_real *u;  /* [cap x in] penalty direction */
} wf_critic_ws;

wf_status wf_critic_ws_reserve(wf_critic_ws *ws, wf_device *dev, int m, int in,
                               char *msg);
void wf_critic_ws_free(wf_critic_ws *ws);

/* The loss's gradient, accumulated into the critic's gradient. real, fake:
 * [m x in]; t: [m] interpolation weights, or NULL to draw them from the
 * critic's stream. slots: WF_CRITIC_SLOTS doubles on the device. */
wf_status wf_critic_loss_grad(wf_net *critic, wf_critic_ws *ws,
                              const wf_real *real, const wf_real *fake, int m,
                              const wf_real *t, wf_penalty penalty,
                              double lambda, double *slots);
/* One update: zero the gradient, the loss's gradient, one optimiser step,
 * and with clip > 0 every parameter clamped to [-clip, clip]. */
wf_status wf_critic_step(wf_net *critic, wf_critic_ws *ws, const wf_real *real,
                         const wf_real *fake, int m, const wf_real *t,
                         wf_penalty penalty, double lambda,
                         const wf_opt_spec *opt, double clip, double *slots);
/* The report of `steps` accumulated evaluations from the read-back slots;
 * WF_ERR_NUMERIC if any is not finite. */
wf_status wf_critic_report_of(const double *slots /* [WF_CRITIC_SLOTS] host */,
                              int steps, wf_penalty penalty,
                              wf_critic_report *rep);

/* ---- critic losses of every adversarial algorithm ------------------------ *
 * A critic-loss kind, with its generator loss:
 *   WGAN    -(mean phi(real) - mean phi(fake)) + P, P by `penalty` (none,
 *           GP, LP at interpolates, as above); generator -mean phi(G z)
 *   GAN     the standard (non-saturating) GAN: with D = sigmoid(phi),
 *           -mean log D(real) - mean log(1 - D(fake)), as BCE with logits;
 *           generator -mean log D(G z)
 *   DRAGAN  GAN + lambda mean (|grad phi(xp)| - 1)^2 at the perturbed data
 *           xp = real + perturb * u, u ~ U(0, 1) elementwise (Kodali et al.
 *           take perturb = 0.5 sd(x)); generator as GAN
 * The penalty acts on phi, the logit, as DRAGAN's does on its
 * discriminator's pre-sigmoid output. Slots as above:
 *   [WF_CRITIC_REAL] += the loss's data term (-mean phi(real), or
 *   -mean log D(real)), [WF_CRITIC_FAKE] += its generated term, so their
 *   sum plus [WF_CRITIC_PENALTY] is the loss. */
typedef enum {
  WF_CRITIC_WGAN = 0,
  WF_CRITIC_GAN,
  WF_CRITIC_DRAGAN,
  WF_CRITIC_KIND_COUNT
} wf_critic_kind;

typedef struct {
  wf_critic_kind kind;
  wf_penalty penalty; /* WGAN: NONE, GP or LP; GAN, DRAGAN: NONE */
  double lambda;      /* the penalty's weight (WGAN with GP / LP, DRAGAN) */
  double perturb;     /* DRAGAN: the noise scale of xp (>= 0) */
  double clip;        /* > 0: clamp every parameter after each step */
} wf_critic_spec;

/* WF_OK or WF_ERR_ARG with a message (an unknown kind, a penalty with GAN,
 * a negative lambda or perturb, ...). */
wf_status wf_critic_spec_check(const wf_critic_spec *cs, char *msg);
/* The loss's gradient, accumulated into the critic's gradient. real, fake:
 * [m x in]. noise: WGAN's interpolation weights [m], DRAGAN's u [m x in],
 * or NULL to draw them from the critic's stream (GAN: unused). */
wf_status wf_critic_loss_grad_spec(wf_net *critic, wf_critic_ws *ws,
                                   const wf_critic_spec *cs, const wf_real *real,
                                   const wf_real *fake, int m,
                                   const wf_real *noise, double *slots);
/* One update: zero the gradient, the loss's gradient, one optimiser step,
 * the clamp when cs->clip > 0. */
wf_status wf_critic_step_spec(wf_net *critic, wf_critic_ws *ws,
                              const wf_critic_spec *cs, const wf_real *real,
                              const wf_real *fake, int m, const wf_real *noise,
                              const wf_opt_spec *opt, double *slots);
/* The report of `steps` accumulated evaluations; w1 is the critic's W1
 * estimate for WGAN, NaN for GAN and DRAGAN; grad_norm NaN without a
 * penalty. WF_ERR_NUMERIC if a value is not finite. */
wf_status wf_critic_report_spec(const double *slots /* [WF_CRITIC_SLOTS] host */,
                                int steps, const wf_critic_spec *cs,
                                wf_critic_report *rep);
/* The generator's loss on the critic's outputs phi(G z) [m] for a kind,
 * to pull back through the critic (wf_pullback with t = NULL): WGAN
 * -mean phi, GAN and DRAGAN mean softplus(-phi) = -mean log D. */
wf_loss_spec wf_critic_generator_loss(wf_critic_kind kind, int m);

/* ---- Wasserstein-proximal terms (prox.c) ----------------------------------- *
 * RWP's relaxed proximal term of a generator g against a frozen snapshot a
 * of it (Lin, Li, Osher, Montufar): weight * mean_i |g(z_i) - a(z_i)|^2,
 * with weight = 1 / (2 h). After wf_mlp_forward(g, z, m, train, ...): a is
 * run on the same z [m x in] in the same mode, the term is added to *slot
 * and its gradient with respect to g's outputs is added into dy [m x out]
 * (which holds, e.g., the adversarial loss's pull-back), so
 * wf_mlp_backward(g, dy, ...) then takes the gradient of the sum.
 * disp_slot += mean_i |g(z_i) - a(z_i)|^2 (NULL: not wanted). */
wf_status wf_proximal_term(wf_net *g, wf_net *a, const wf_real *z, int m,
                           int train, double weight, wf_real *dy, double *slot,
                           double *disp_slot);

/* SBE's potential objective (Lin et al., App. G) at y = g(z), ya = a(z)
 * [m x d] each, for a potential phi (one output):
 *   J = mean phi(y) - mean phi(ya) - mean |grad phi(ya)|^2 / 2,
 * whose supremum over phi is the semi-backward Euler approximation of half
 * the squared W2 distance between the laws of y and ya. phi's gradient
 * += -dJ/dtheta, so an optimiser step ascends J. x2 [2m x d] and u
 * [m x d] are work space. Three slots: slots[0] += mean phi(y) -
 * mean phi(ya), slots[1] += mean |grad phi(ya)|^2 / 2 (so J = slots[0] -
 * slots[1]), slots[2] += mean |grad phi(ya)|. */
wf_status wf_sbe_potential_grad(wf_net *phi, const wf_real *y, const wf_real *ya,
                                int m, wf_real *x2, wf_real *u, double *slots);

#ifdef __cplusplus
}
#endif

#endif
