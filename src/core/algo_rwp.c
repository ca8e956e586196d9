/* algo_rwp.c — Wasserstein-proximal generator training (Lin, Li, Osher,
 * Montufar, "Wasserstein Proximal of GANs"): the Relaxed Wasserstein
 * Proximal (RWP, Algorithm 1 and appendix D) and the Semi-Backward Euler
 * method (SBE, appendix G), over any critic loss of critic.c (WGAN with GP
 * or LP, the standard GAN, DRAGAN).
 *
 * An outer iteration (an epoch) runs these phases:
 *   rwp  critic     `steps` critic updates on fresh batches
 *        generator  g_prev := g (a frozen snapshot); `steps` (l) generator
 *                   updates, each on a fresh z, of
 *                   F(g(z)) + (1 / (2h)) mean |g(z) - g_prev(z)|^2
 *   sbe  critic     as above
 *        potential  `steps` updates of the potential Phi ascending
 *                   J = mean[Phi(g(z)) - Phi(a(z)) - |grad Phi(a(z))|^2 / 2]
 *        generator  `steps` updates of F(g(z)) + (1/h) mean Phi(g(z)) (the
 *                   other terms of the paper's objective do not depend on
 *                   the generator)
 * SBE's anchor a (net role "anchor", a frozen copy of the generator the
 * fit keeps, so a continued run resumes it) is, with lag = 1 (rwp.R's default),
 * the generator one outer iteration ago: the generator phase saves g
 * before its updates and makes that the anchor after them. With lag = 0
 * (the paper read literally) the potential phase sets a := g first, J
 * becomes -mean |grad Phi|^2 / 2, maximised by grad Phi = 0, and SBE
 * reduces to plain GAN training.
 *
 * Randomness: data rows, interpolation weights and DRAGAN's noise from the
 * critic's stream; every latent batch from the generator's. The critic
 * phase draws exactly as W1-FE's does, so RWP with l = 1 and a WGAN critic
 * is W1-FE's naive K = 1 (the WGAN generator update) step for step
 * (tests/c/test_algo_rwp.c).
 */
#include <math.h>
#include <string.h>

#include "net.h"
#include "trainer.h"

enum { CRITIC = 0, GEN = 1, POTENTIAL = 2, ANCHOR = 3 }; /* net roles */
enum { DATA = 0 };                                       /* data roles */

typedef struct {
  wf_critic_ws ws;  /* the critic loss's work space */
  wf_net *snapshot; /* RWP: g_prev; SBE: the generator before its phase */
  wf_replay critic_step, generator_step, potential_step; /* trainer.h */
} prox_state;

/* what one step of any phase works on */
typedef struct {
  int m;
  wf_critic_spec cs;
  int kind;         /* critic-loss kind, for the generator's loss */
  double weight;    /* RWP: 1 / (2h), 0 without the proximal term; SBE: 1/h */
  int *idx;         /* [m] data rows */
  wf_real *real;    /* [m x d] */
  wf_real *z;       /* [m x latent] */
  wf_real *dy;      /* [m x d] adjoint of the generator's output */
  wf_real *dphi;    /* [m x d] SBE: the potential term's part of it */
  wf_real *x2;      /* [2m x d] SBE: potential work space */
  wf_real *u;       /* [m x d] SBE: potential work space */
} prox_step;

/* ---- shapes, state -------------------------------------------------------- */
static wf_status check_shapes(wf_trainer *t) {
  wf_net *critic = t->nets[CRITIC], *gen = t->nets[GEN];
  int d = t->data[DATA].d;
  if (wf_net_in(critic) != d || wf_net_out(critic) != 1)
    return wf_trainer_fail(t, WF_ERR_ARG, "the critic must map %d columns to 1", d);
  if (wf_net_out(gen) != d)
    return wf_trainer_fail(t, WF_ERR_ARG,
                           "the generator outputs %d columns, the data has %d",
                           wf_net_out(gen), d);
  return WF_OK;
}

static wf_status rwp_init(wf_trainer *t) {
  WF_TRY(check_shapes(t));
  prox_state *st = t->state;
  wf_net *gen = t->nets[GEN];
  return wf_net_clone(gen, &st->snapshot, t->msg); /* its message in t->msg */
}

static wf_status sbe_init(wf_trainer *t) {
  WF_TRY(rwp_init(t));
  wf_net *phi = t->nets[POTENTIAL], *gen = t->nets[GEN], *anchor = t->nets[ANCHOR];
  int d = t->data[DATA].d;
  if (wf_net_in(phi) != d || wf_net_out(phi) != 1)
    return wf_trainer_fail(t, WF_ERR_ARG, "the potential must map %d columns to 1", d);
  if (memcmp(wf_net_layout(anchor), wf_net_layout(gen), sizeof(wf_layout)) != 0 ||
      wf_net_in(anchor) != wf_net_in(gen))
    return wf_trainer_fail(t, WF_ERR_ARG, "the anchor must have the generator's shape");
  return WF_OK;
}

static void release(wf_trainer *t) {
  prox_state *st = t->state;
  wf_critic_ws_free(&st->ws);
  wf_net_free(st->snapshot);
  st->snapshot = NULL;
}

/* ---- the critic ------------------------------------------------------------ */
/* y = G(z) for m fresh latents z from the generator's stream; y is the
 * generator's cached output */
static wf_status generate(wf_trainer *t, int m, wf_real *z, const wf_real **y) {
  wf_net *gen = t->nets[GEN];
  WF_TRY_NET(t, gen, wf_net_normal(gen, z, (size_t)m * wf_net_in(gen)));
  WF_TRY_NET(t, gen, wf_mlp_forward(gen, z, m, 1, NULL));
  *y = wf_mlp_output(gen);
  return WF_OK;
}

/* one critic update on a fresh batch: data rows, generated samples */
static wf_status critic_step(wf_trainer *t, void *data) {
  const prox_step *c = data;
  prox_state *st = t->state;
  wf_net *critic = t->nets[CRITIC];
  const wf_data *x = &t->data[DATA];
  WF_TRY_NET(t, critic, wf_net_random_index(critic, c->idx, (size_t)c->m, x->n));
  WF_BE(t->dev)->gather_rows(WF_CTX(t->dev), x->x, x->d, c->idx, c->m, c->real);
  const wf_real *fake;
  WF_TRY(generate(t, c->m, c->z, &fake));
  WF_TRY_NET(t, critic, wf_critic_step_spec(critic, &st->ws, &c->cs, c->real, fake,
                                            c->m, NULL, &t->opts[CRITIC], t->slots));
  return WF_OK;
}

/* the batch size and work buffers every phase takes */
static wf_status batch(wf_trainer *t, const wf_args *a, prox_step *c) {
  WF_TRY(wf_arg_int(t, a, "batch_size", 1, 1 << 24, &c->m));
  size_t m = (size_t)c->m, d = (size_t)t->data[DATA].d;
  c->idx = wf_trainer_ints(t, "idx", m);                                   /* [m] */
  c->real = wf_trainer_buffer(t, "real", m * d);                           /* [m x d] */
  c->z = wf_trainer_buffer(t, "z", m * wf_net_in(t->nets[GEN]));          /* [m x latent] */
  c->dy = wf_trainer_buffer(t, "dy", m * d);                               /* [m x d] */
  if (c->idx == NULL || c->real == NULL || c->z == NULL || c->dy == NULL)
    return WF_ERR_NOMEM;
  return WF_OK;
}

/* args: batch_size, steps, loss (a critic_loss: "wgan", "gan", "dragan"),
 * penalty ("none", "gp", "lp"; WGAN only), lambda, perturb (DRAGAN), clip (> 0: clamp) */
static wf_status critic_phase(wf_trainer *t, const wf_args *a, double *out) {
  prox_step c = {0};
  int steps, kind, penalty;
  WF_TRY(batch(t, a, &c));
  WF_TRY(wf_arg_int(t, a, "steps", 1, 1 << 24, &steps));
  WF_TRY(wf_arg_choice(t, a, "loss", "critic_loss", &kind));
  WF_TRY(wf_arg_choice(t, a, "penalty", "penalty", &penalty));
  c.cs.kind = (wf_critic_kind)kind;
  c.cs.penalty = (wf_penalty)penalty;
  WF_TRY(wf_arg_num(t, a, "lambda", 0, INFINITY, &c.cs.lambda));
  WF_TRY(wf_arg_num(t, a, "perturb", 0, INFINITY, &c.cs.perturb));
  WF_TRY(wf_arg_num(t, a, "clip", 0, INFINITY, &c.cs.clip));
  if (wf_critic_spec_check(&c.cs, t->msg) != WF_OK) return WF_ERR_ARG;
  prox_state *st = t->state;
  wf_trainer_zero_slots(t, WF_CRITIC_SLOTS);
  double key[] = {c.m, kind, penalty, c.cs.lambda, c.cs.perturb, c.cs.clip};
  WF_TRY(wf_trainer_repeat(t, &st->critic_step, steps, key, 6, critic_step, &c));
  double s[WF_CRITIC_SLOTS];
  WF_TRY(wf_trainer_read_slots(t, s, WF_CRITIC_SLOTS));
  wf_critic_report rep;
  if (wf_critic_report_spec(s, steps, &c.cs, &rep) != WF_OK)
    return wf_trainer_fail(t, WF_ERR_NUMERIC, "the critic loss is not finite");
  out[0] = rep.loss;
  out[1] = rep.w1;        /* NaN for GAN and DRAGAN */
  out[2] = rep.penalty;
  out[3] = rep.grad_norm; /* NaN without a penalty */
  return WF_OK;
}

/* ---- RWP's generator ------------------------------------------------------- */
/* dy = d F(g(z)) / d g(z) through the frozen critic on a fresh z, after
 * g's forward (its output cached); slot += F */
static wf_status adversarial_pullback(wf_trainer *t, const prox_step *c, double *slot) {
  wf_net *critic = t->nets[CRITIC], *gen = t->nets[GEN];
  wf_loss_spec ls = wf_critic_generator_loss((wf_critic_kind)c->kind, c->m);
  WF_TRY_NET(t, gen, wf_net_zero_grad(gen));
  WF_TRY_NET(t, gen, wf_net_normal(gen, c->z, (size_t)c->m * wf_net_in(gen)));
  WF_TRY_NET(t, gen, wf_mlp_forward(gen, c->z, c->m, 1, NULL));
  WF_TRY_NET(t, critic,
             wf_pullback(critic, wf_mlp_output(gen), c->m, 1, &ls, NULL, slot, c->dy));
  return WF_OK;
}

/* one generator update: slots 0, 1, 2 += F, the proximal term, the mean
 * squared displacement from g_prev */
static wf_status rwp_generator_step(wf_trainer *t, void *data) {
  const prox_step *c = data;
  prox_state *st = t->state;
  wf_net *gen = t->nets[GEN];
  WF_TRY(adversarial_pullback(t, c, t->slots));
  if (c->weight > 0)
    WF_TRY_NET(t, gen, wf_proximal_term(gen, st->snapshot, c->z, c->m, 1, c->weight,
                                        c->dy, t->slots + 1, t->slots + 2));
  WF_TRY_NET(t, gen, wf_mlp_backward(gen, c->dy, NULL));
  WF_TRY_NET(t, gen, wf_net_opt_step(gen, &t->opts[GEN]));
  return WF_OK;
}

/* args: batch_size, steps (l), loss (as the critic's), h (> 0), proximal
 * (1: with the proximal term, 0: l plain generator updates) */
static wf_status rwp_generator_phase(wf_trainer *t, const wf_args *a, double *out) {
  prox_step c = {0};
  int steps, proximal;
  double h;
  WF_TRY(batch(t, a, &c));
  WF_TRY(wf_arg_int(t, a, "steps", 1, 1 << 24, &steps));
  WF_TRY(wf_arg_choice(t, a, "loss", "critic_loss", &c.kind));
  WF_TRY(wf_arg_num(t, a, "h", 1e-300, INFINITY, &h));
  WF_TRY(wf_arg_int(t, a, "proximal", 0, 1, &proximal));
  c.weight = proximal ? 1 / (2 * h) : 0;
  prox_state *st = t->state;
  if (proximal) WF_TRY_NET(t, st->snapshot, wf_net_copy_params(st->snapshot, t->nets[GEN]));
  wf_trainer_zero_slots(t, 3);
  double key[] = {c.m, c.kind, c.weight};
  WF_TRY(wf_trainer_repeat(t, &st->generator_step, steps, key, 3, rwp_generator_step,
                           &c));
  double s[3];
  WF_TRY(wf_trainer_read_slots(t, s, 3));
  out[0] = s[0] / steps;
  out[1] = proximal ? s[1] / steps : NAN;
  out[2] = proximal ? s[2] / steps : NAN;
  if (!isfinite(out[0]) || (proximal && (!isfinite(out[1]) || !isfinite(out[2]))))
    return wf_trainer_fail(t, WF_ERR_NUMERIC, "the generator's loss is not finite");
  return WF_OK;
}

/* ---- SBE: the potential ---------------------------------------------------- */
/* one potential update on a fresh z: ascend J at g(z), a(z); slots 0..2 as
 * wf_sbe_potential_grad's */
static wf_status potential_step(wf_trainer *t, void *data) {
  const prox_step *c = data;
  wf_net *anchor = t->nets[ANCHOR], *phi = t->nets[POTENTIAL];
  const wf_real *y;
  WF_TRY(generate(t, c->m, c->z, &y));
  WF_TRY_NET(t, anchor, wf_mlp_forward(anchor, c->z, c->m, 1, NULL));
  WF_TRY_NET(t, phi, wf_net_zero_grad(phi));
  WF_TRY_NET(t, phi, wf_sbe_potential_grad(phi, y, wf_mlp_output(anchor), c->m, c->x2,
                                           c->u, t->slots));
  WF_TRY_NET(t, phi, wf_net_opt_step(phi, &t->opts[POTENTIAL]));
  return WF_OK;
}

/* args: batch_size, steps, lag (1: the anchor is the generator one outer
 * iteration ago; 0: the generator now, the literal reading) */
static wf_status potential_phase(wf_trainer *t, const wf_args *a, double *out) {
  prox_step c = {0};
  int steps, lag;
  WF_TRY(batch(t, a, &c));
  WF_TRY(wf_arg_int(t, a, "steps", 1, 1 << 24, &steps));
  WF_TRY(wf_arg_int(t, a, "lag", 0, 1, &lag));
  size_t m = (size_t)c.m, d = (size_t)t->data[DATA].d;
  c.x2 = wf_trainer_buffer(t, "x2", 2 * m * d); /* [2m x d] */
  c.u = wf_trainer_buffer(t, "u", m * d);       /* [m x d] */
  if (c.x2 == NULL || c.u == NULL) return WF_ERR_NOMEM;
  prox_state *st = t->state;
  if (!lag) WF_TRY_NET(t, t->nets[ANCHOR], wf_net_copy_params(t->nets[ANCHOR], t->nets[GEN]));
  wf_trainer_zero_slots(t, 3);
  double key[] = {c.m};
  WF_TRY(wf_trainer_repeat(t, &st->potential_step, steps, key, 1, potential_step, &c));
  double s[3];
  WF_TRY(wf_trainer_read_slots(t, s, 3));
  out[0] = (s[0] - s[1]) / steps; /* J */
  out[1] = s[2] / steps;          /* mean |grad Phi(a(z))| */
  if (!isfinite(out[0]) || !isfinite(out[1]))
    return wf_trainer_fail(t, WF_ERR_NUMERIC, "the potential's objective is not finite");
  return WF_OK;
}

/* ---- SBE: the generator ---------------------------------------------------- */
/* one generator update of F(g(z)) + (1/h) mean Phi(g(z)); slots 0, 1 += F,
 * (1/h) mean Phi(g(z)) */
static wf_status sbe_generator_step(wf_trainer *t, void *data) {
  const prox_step *c = data;
  wf_net *gen = t->nets[GEN], *phi = t->nets[POTENTIAL];
  WF_TRY(adversarial_pullback(t, c, t->slots));
  wf_loss_spec mean_phi = {WF_LOSS_LINEAR, c->weight / c->m, 1.0, 0};
  WF_TRY_NET(t, phi, wf_pullback(phi, wf_mlp_output(gen), c->m, 1, &mean_phi, NULL,
                                 t->slots + 1, c->dphi));
  size_t n = (size_t)c->m * wf_net_out(gen);
  WF_BE(t->dev)->axpy(WF_CTX(t->dev), n, (wf_real)1, c->dphi, c->dy);
  WF_TRY_NET(t, gen, wf_mlp_backward(gen, c->dy, NULL));
  WF_TRY_NET(t, gen, wf_net_opt_step(gen, &t->opts[GEN]));
  return WF_OK;
}

/* args: batch_size, steps, loss, h (> 0), lag (as the potential phase's) */
static wf_status sbe_generator_phase(wf_trainer *t, const wf_args *a, double *out) {
  prox_step c = {0};
  int steps, lag;
  double h;
  WF_TRY(batch(t, a, &c));
  WF_TRY(wf_arg_int(t, a, "steps", 1, 1 << 24, &steps));
  WF_TRY(wf_arg_choice(t, a, "loss", "critic_loss", &c.kind));
  WF_TRY(wf_arg_num(t, a, "h", 1e-300, INFINITY, &h));
  WF_TRY(wf_arg_int(t, a, "lag", 0, 1, &lag));
  c.weight = 1 / h;
  c.dphi = wf_trainer_buffer(t, "dphi", (size_t)c.m * t->data[DATA].d); /* [m x d] */
  if (c.dphi == NULL) return WF_ERR_NOMEM;
  prox_state *st = t->state;
  wf_net *gen = t->nets[GEN], *anchor = t->nets[ANCHOR];
  /* the generator before this phase: the next phase's anchor */
  if (lag) WF_TRY_NET(t, st->snapshot, wf_net_copy_params(st->snapshot, gen));
  wf_trainer_zero_slots(t, 2);
  double key[] = {c.m, c.kind, c.weight};
  WF_TRY(wf_trainer_repeat(t, &st->generator_step, steps, key, 3, sbe_generator_step,
                           &c));
  if (lag) WF_TRY_NET(t, anchor, wf_net_copy_params(anchor, st->snapshot));
  double s[2];
  WF_TRY(wf_trainer_read_slots(t, s, 2));
  out[0] = s[0] / steps;
  out[1] = s[1] / steps;
  if (!isfinite(out[0]) || !isfinite(out[1]))
    return wf_trainer_fail(t, WF_ERR_NUMERIC, "the generator's loss is not finite");
  return WF_OK;
}

static const wf_phase rwp_phases[] = {
    {"critic", critic_phase, {"critic_loss", "w1_critic", "penalty", "grad_norm", NULL}},
    {"generator", rwp_generator_phase, {"gen_loss", "proximal", "displacement", NULL}},
    {NULL, NULL, {NULL}}};

static const wf_phase sbe_phases[] = {
    {"critic", critic_phase, {"critic_loss", "w1_critic", "penalty", "grad_norm", NULL}},
    {"potential", potential_phase, {"potential_objective", "potential_grad_norm", NULL}},
    {"generator", sbe_generator_phase, {"gen_loss", "potential_term", NULL}},
    {NULL, NULL, {NULL}}};

const wf_algo wf_algo_rwp = {
    .name = "rwp",
    .nets = {"critic", "generator", NULL},
    .data = {"data", NULL},
    .state_size = sizeof(prox_state),
    .init = rwp_init,
    .free = release,
    .phases = rwp_phases,
};

const wf_algo wf_algo_sbe = {
    .name = "sbe",
    .nets = {"critic", "generator", "potential", "anchor", NULL},
    .data = {"data", NULL},
    .state_size = sizeof(prox_state),
    .init = sbe_init,
    .free = release,
    .phases = sbe_phases,
};
