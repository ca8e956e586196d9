/* algo_w1fe.c — W1-FE (Malik & Huang, Algorithm 1) and the WGAN family as
 * its K = 1 case: three phases of an epoch, over the shared compositions.
 *
 *   critic  `steps` WGAN critic updates (SimulatePhi) on fresh batches
 *   euler   fresh z, y = G(z), frozen targets zeta = y + eps grad phi(y)
 *   fit     K generator updates on the same z: regress G(z) onto zeta
 *           (mode 0, the paper's), or "naive persistency" (mode 1, the
 *           paper's counter-example) descending -mean phi(G(z))
 *
 * Sign: our critic phi maximises mean phi(data) - mean phi(G z), so it is
 * high on the data and the flow moves samples up its gradient. This is the
 * paper's zeta = G(z) - eps grad psi with psi = -phi its Kantorovich
 * potential from the generated law to the data, and it makes Proposition
 * 4.1 hold: one SGD step on the regression equals the WGAN generator step
 * (ascending mean phi(G z)) with learning rate 2 eps gamma.
 *
 * Randomness: data batches and interpolates from the critic's stream,
 * latents from the generator's.
 *
 * Latents: z ~ N(0, I), or, when the trainer has the optional data set
 * "source", rows of that sample (WGAN-GP / WGAN-LP maps between two
 * samples, the W2GAN paper's baselines).
 */
#include <math.h>

#include "net.h"
#include "trainer.h"

enum { CRITIC = 0, GEN = 1 }; /* net roles */
enum { DATA = 0, SOURCE = 1 }; /* data roles */

typedef struct {
  wf_critic_ws ws;     /* the critic loss's work space */
  int m;               /* rows of the current z and zeta (0: no Euler step yet) */
  wf_replay critic_step, fit_step; /* recorded steps (trainer.h) */
} w1fe_state;

/* what one critic step or one generator step works on */
typedef struct {
  int m, penalty, mode;
  double lambda, clip;
  int *idx;       /* [m] data rows */
  int *zidx;      /* [m] source rows (w1fe_map) */
  wf_real *real;  /* [m x d] */
  wf_real *z;     /* [m x latent] */
  wf_real *zeta;  /* [m x d] Euler targets */
  double *slot;   /* the generator step's loss */
} w1fe_step;

static wf_status init(wf_trainer *t) {
  wf_net *critic = t->nets[CRITIC], *gen = t->nets[GEN];
  int d = t->data[DATA].d;
  if (wf_net_in(critic) != d || wf_net_out(critic) != 1)
    return wf_trainer_fail(t, WF_ERR_ARG, "the critic must map %d columns to 1", d);
  if (wf_net_out(gen) != d)
    return wf_trainer_fail(t, WF_ERR_ARG,
                           "the generator outputs %d columns, the data has %d",
                           wf_net_out(gen), d);
  if (t->n_data > SOURCE && t->data[SOURCE].d != wf_net_in(gen))
    return wf_trainer_fail(t, WF_ERR_ARG,
                           "the generator takes %d columns, the source has %d",
                           wf_net_in(gen), t->data[SOURCE].d);
  return WF_OK;
}

static void release(wf_trainer *t) {
  wf_critic_ws_free(&((w1fe_state *)t->state)->ws);
}

/* y = G(z) for m fresh latents z from the generator's stream (normal, or
 * rows of the source); y is the generator's cached output */
static wf_status generate(wf_trainer *t, int m, int *zidx, wf_real *z,
                          const wf_real **y) {
  wf_net *gen = t->nets[GEN];
  const wf_data *src = t->n_data > SOURCE ? &t->data[SOURCE] : NULL;
  WF_TRY_NET(t, gen, wf_latents(gen, src ? src->x : NULL, src ? src->n : 0, m, zidx, z));
  WF_TRY_NET(t, gen, wf_mlp_forward(gen, z, m, 1, NULL));
  *y = wf_mlp_output(gen);
  return WF_OK;
}

/* one critic update on a fresh batch: data rows, generated samples */
static wf_status critic_step(wf_trainer *t, void *data) {
  const w1fe_step *c = data;
  w1fe_state *st = t->state;
  wf_net *critic = t->nets[CRITIC];
  const wf_data *x = &t->data[DATA];
  WF_TRY_NET(t, critic, wf_net_random_index(critic, c->idx, (size_t)c->m, x->n));
  WF_BE(t->dev)->gather_rows(WF_CTX(t->dev), x->x, x->d, c->idx, c->m, c->real);
  const wf_real *fake;
  WF_TRY(generate(t, c->m, c->zidx, c->z, &fake));
  WF_TRY_NET(t, critic, wf_critic_step(critic, &st->ws, c->real, fake, c->m, NULL,
                                       (wf_penalty)c->penalty, c->lambda,
                                       &t->opts[CRITIC], c->clip, t->slots));
  return WF_OK;
}

/* args: batch_size, steps, penalty ("none", "gp", "lp"), lambda, clip
 * (> 0: weight clipping) */
static wf_status critic_phase(wf_trainer *t, const wf_args *a, double *out) {
  w1fe_step c = {0};
  int steps;
  WF_TRY(wf_arg_int(t, a, "batch_size", 1, 1 << 24, &c.m));
  WF_TRY(wf_arg_int(t, a, "steps", 1, 1 << 24, &steps));
  WF_TRY(wf_arg_choice(t, a, "penalty", "penalty", &c.penalty));
  WF_TRY(wf_arg_num(t, a, "lambda", 0, INFINITY, &c.lambda));
  WF_TRY(wf_arg_num(t, a, "clip", 0, INFINITY, &c.clip));
  w1fe_state *st = t->state;
  int m = c.m, d = t->data[DATA].d;
  c.idx = wf_trainer_ints(t, "idx", (size_t)m);             /* [m] */
  c.zidx = wf_trainer_ints(t, "zidx", (size_t)m);           /* [m] */
  c.real = wf_trainer_buffer(t, "real", (size_t)m * d);     /* [m x d] */
  c.z = wf_trainer_buffer(t, "z", (size_t)m * wf_net_in(t->nets[GEN]));
  if (c.idx == NULL || c.zidx == NULL || c.real == NULL || c.z == NULL)
    return WF_ERR_NOMEM;
  st->m = 0; /* z is overwritten: the Euler targets are gone */
  wf_trainer_zero_slots(t, WF_CRITIC_SLOTS);
  double key[] = {m, c.penalty, c.lambda, c.clip};
  WF_TRY(wf_trainer_repeat(t, &st->critic_step, steps, key, 4, critic_step, &c));
  double s[WF_CRITIC_SLOTS];
  WF_TRY(wf_trainer_read_slots(t, s, WF_CRITIC_SLOTS));
  wf_critic_report rep;
  if (wf_critic_report_of(s, steps, (wf_penalty)c.penalty, &rep) != WF_OK)
    return wf_trainer_fail(t, WF_ERR_NUMERIC, "the critic loss is not finite");
  out[0] = rep.loss;
  out[1] = rep.w1;
  out[2] = rep.penalty;
  out[3] = rep.grad_norm; /* NaN without a penalty */
  return WF_OK;
}

/* args: batch_size, step_size */
static wf_status euler_phase(wf_trainer *t, const wf_args *a, double *out) {
  int m;
  double eps;
  WF_TRY(wf_arg_int(t, a, "batch_size", 1, 1 << 24, &m));
  WF_TRY(wf_arg_num(t, a, "step_size", -INFINITY, INFINITY, &eps));
  w1fe_state *st = t->state;
  int d = t->data[DATA].d;
  wf_real *z = wf_trainer_buffer(t, "z", (size_t)m * wf_net_in(t->nets[GEN]));
  wf_real *zeta = wf_trainer_buffer(t, "zeta", (size_t)m * d); /* [m x d] */
  wf_real *g = wf_trainer_buffer(t, "g", (size_t)m * d);       /* [m x d] */
  int *zidx = wf_trainer_ints(t, "zidx", (size_t)m);           /* [m] */
  if (z == NULL || zeta == NULL || g == NULL || zidx == NULL) return WF_ERR_NOMEM;
  st->m = 0;
  const wf_real *y;
  WF_TRY(generate(t, m, zidx, z, &y));
  wf_trainer_zero_slots(t, 1);
  WF_TRY_NET(t, t->nets[CRITIC],
             wf_euler_step(t->nets[CRITIC], y, m, eps, g, zeta, t->slots));
  WF_TRY(wf_trainer_read_slots(t, out, 1));
  if (!isfinite(out[0]))
    return wf_trainer_fail(t, WF_ERR_NUMERIC, "the critic's gradient is not finite");
  st->m = m;
  return WF_OK;
}

/* one generator update of the naive persistency: descend -mean phi(G(z)) */
static wf_status naive_step(wf_trainer *t, const wf_real *z, int m, double *slot) {
  wf_net *critic = t->nets[CRITIC], *gen = t->nets[GEN];
  wf_real *dy = wf_trainer_buffer(t, "dy", (size_t)m * wf_net_out(gen)); /* [m x d] */
  if (dy == NULL) return WF_ERR_NOMEM;
  wf_loss_spec minus_mean = {WF_LOSS_LINEAR, -1.0 / m, 1.0, 0};
  WF_TRY_NET(t, gen, wf_net_zero_grad(gen));
  WF_TRY_NET(t, gen, wf_mlp_forward(gen, z, m, 1, NULL));
  WF_TRY_NET(t, critic, wf_pullback(critic, wf_mlp_output(gen), m, 1,
                                    &minus_mean, NULL, slot, dy));
  WF_TRY_NET(t, gen, wf_mlp_backward(gen, dy, NULL));
  WF_TRY_NET(t, gen, wf_net_opt_step(gen, &t->opts[GEN]));
  return WF_OK;
}

/* one generator update on the Euler step's z: towards zeta (mode 0) or
 * down -mean phi(G(z)) (mode 1); its loss before the update into c->slot */
static wf_status fit_step(wf_trainer *t, void *data) {
  const w1fe_step *c = data;
  wf_net *gen = t->nets[GEN];
  if (c->mode == 1) return naive_step(t, c->z, c->m, c->slot);
  /* mean_i |zeta_i - G(z_i)|^2 */
  wf_loss_spec mse = {WF_LOSS_MSE, 1.0 / c->m, 0.0, 0};
  WF_TRY_NET(t, gen, wf_regress_step(gen, c->z, c->m, c->zeta, &mse, &t->opts[GEN],
                                     c->slot));
  return WF_OK;
}

/* a later generator update: its loss alone in slot 1, which then holds the
 * loss before the last update */
static wf_status later_fit_step(wf_trainer *t, void *data) {
  const w1fe_step *c = data;
  wf_device_zero_scalars(t->dev, c->slot, 1);
  return fit_step(t, data);
}

/* args: persistency (K), mode (a persistency_mode: "euler" regression onto
 * the Euler step's points, or "naive") */
static wf_status fit_phase(wf_trainer *t, const wf_args *a, double *out) {
  int K;
  w1fe_step c = {0};
  WF_TRY(wf_arg_int(t, a, "persistency", 1, 1 << 24, &K));
  WF_TRY(wf_arg_choice(t, a, "mode", "persistency_mode", &c.mode));
  w1fe_state *st = t->state;
  int m = c.m = st->m;
  if (m < 1) return wf_trainer_fail(t, WF_ERR_STATE, "fit needs an Euler step first");
  c.z = wf_trainer_buffer(t, "z", (size_t)m * wf_net_in(t->nets[GEN]));
  c.zeta = wf_trainer_buffer(t, "zeta", (size_t)m * t->data[DATA].d);
  if (c.z == NULL || c.zeta == NULL) return WF_ERR_NOMEM;
  double key[] = {m, c.mode};
  return wf_trainer_persist(t, &st->fit_step, K, key, 2, fit_step, later_fit_step, &c,
                            &c.slot, out);
}

static const wf_phase phases[] = {
    {"critic", critic_phase, {"critic_loss", "w1_critic", "penalty", "grad_norm", NULL}},
    {"euler", euler_phase, {"euler_grad_norm", NULL}},
    {"fit", fit_phase, {"fit_mse_first", "fit_mse_last", NULL}},
    {NULL, NULL, {NULL}}};

const wf_algo wf_algo_w1fe = {
    .name = "w1fe",
    .nets = {"critic", "generator", NULL},
    .data = {"data", "source", NULL},
    .optional_data = 1,
    .state_size = sizeof(w1fe_state),
    .init = init,
    .free = release,
    .phases = phases,
};
