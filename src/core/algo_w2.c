/* algo_w2.c — W2GAN (Leygonie et al., Algorithms 1-2 and App. A.7-A.9) and
 * W2-FE, its persistent form (the W1-FE loop with the W2 critic), over the
 * potential compositions of compose.c.
 *
 *   critic     `steps` updates of the two potentials: f on the generated
 *              side, g on the data side (or g = -f + e, the epsilon
 *              reparameterisation), maximising mean f(a) + mean g(b) under
 *              f(a) + g(b) <= |a - b|^2 / 2: an L2 (or entropic) penalty on
 *              the pairs and / or on interpolates, the equality penalty on
 *              both sides, and e's own penalty max(0, e(b))^2
 *   generator  `steps` W2GAN generator updates, minimising mean f(G(z)) (the
 *              paper's eq. (6)-(7); its algorithm boxes print the sign the
 *              other way)
 *   euler      W2-FE: fresh z, frozen targets zeta = G(z) - eps grad f(G(z))
 *              (eps = 1: zeta = T(G(z)), the Monge map's image)
 *   fit        W2-FE: K generator updates regressing G(z) onto zeta
 *
 * Four registrations share the phases: "w2gan" and "w2fe" draw latents
 * z ~ N(0, I); "w2gan_map" and "w2fe_map" draw them as rows of a source
 * sample, to learn a map from the source to the data. Randomness: data rows and interpolation weights
 * from f's stream, latents from the generator's.
 */
#include <math.h>

#include "net.h"
#include "trainer.h"

enum { F = 0, G = 1, GEN = 2 }; /* net roles: f, g (or e), generator */
enum { DATA = 0, SOURCE = 1 };  /* data roles */

/* the critic phase's slots */
enum {
  S_DUAL = 0,   /* mean f(a) + mean g(b) on the pairs */
  S_INEQ = 1,   /* the inequality penalty on the pairs */
  S_EQ_A = 2,   /* the equality penalty on the generated side */
  S_EQ_B = 3,   /* ... and on the data side */
  S_INTERP = 5, /* the inequality penalty on interpolates (4: their mean) */
  S_E = 6,      /* lambda_e mean max(0, e(b))^2 */
  S_COUNT = 7
};

typedef struct {
  /* more caches of f and g (g or e): the dual loss evaluates the potentials
   * at the pairs, at T = a - grad f(a) and at S = b - grad g(b) */
  wf_net *f_alias[3], *g_alias;
  wf_pot_ws ws;
  int m;            /* rows of the current z and zeta (0: no Euler step yet) */
  wf_replay critic_step, gen_step, fit_step;
} w2_state;

/* what one step works on */
typedef struct {
  int m, ineq, reparam, reg;
  double lambda_ineq, lambda_eq, lambda_e;
  int *idx, *zidx;             /* [m] data rows, source rows */
  wf_real *real, *z;           /* [m x d], [m x latent] */
  wf_real *a_sh, *b_sh;        /* [m x d] rows shifted by one */
  wf_real *at, *bt;            /* [m x d] interpolates */
  wf_real *s1, *s2;            /* [m] interpolation weights */
  wf_real *zeta;               /* [m x d] Euler targets */
  wf_real *dy;                 /* [m x d] a generator loss pulled back */
  double *slot;                /* a generator step's loss */
} w2_step;

static int map_mode(const wf_trainer *t) { return t->n_data > SOURCE; }

static wf_status init(wf_trainer *t) {
  wf_net *f = t->nets[F], *g = t->nets[G], *gen = t->nets[GEN];
  int d = t->data[DATA].d;
  if (wf_net_in(f) != d || wf_net_out(f) != 1 || wf_net_in(g) != d || wf_net_out(g) != 1)
    return wf_trainer_fail(t, WF_ERR_ARG, "the potentials must map %d columns to 1", d);
  if (wf_net_out(gen) != d)
    return wf_trainer_fail(t, WF_ERR_ARG,
                           "the generator outputs %d columns, the data has %d",
                           wf_net_out(gen), d);
  if (map_mode(t) && t->data[SOURCE].d != wf_net_in(gen))
    return wf_trainer_fail(t, WF_ERR_ARG,
                           "the generator takes %d columns, the source has %d",
                           wf_net_in(gen), t->data[SOURCE].d);
  if (wf_net_spec(f)->norm == WF_NORM_BATCH || wf_net_spec(g)->norm == WF_NORM_BATCH)
    return wf_trainer_fail(t, WF_ERR_ARG,
                           "the potentials cannot use BatchNorm (double backward)");
  w2_state *st = t->state;
  for (int i = 0; i < 3; i++)
    if (wf_net_alias(f, &st->f_alias[i], t->msg) != WF_OK) return WF_ERR_NOMEM;
  if (wf_net_alias(g, &st->g_alias, t->msg) != WF_OK) return WF_ERR_NOMEM;
  return WF_OK;
}

static void release(wf_trainer *t) {
  w2_state *st = t->state;
  wf_pot_ws_free(&st->ws);
  for (int i = 0; i < 3; i++) wf_net_free(st->f_alias[i]);
  wf_net_free(st->g_alias);
}

/* y = G(z) in training mode for m fresh latents z (normal, or source rows);
 * y is the generator's cached output */
static wf_status generate(wf_trainer *t, int m, int *zidx, wf_real *z,
                          const wf_real **y) {
  wf_net *gen = t->nets[GEN];
  const wf_data *src = map_mode(t) ? &t->data[SOURCE] : NULL;
  WF_TRY_NET(t, gen, wf_latents(gen, src ? src->x : NULL, src ? src->n : 0, m, zidx, z));
  WF_TRY_NET(t, gen, wf_mlp_forward(gen, z, m, 1, NULL));
  *y = wf_mlp_output(gen);
  return WF_OK;
}

/* the potentials at the four points of the dual loss, over distinct
 * caches: f at a, g at b, g at T, f at S; g is g or -f + e */
static void potentials(wf_trainer *t, int reparam, wf_potential *pf, wf_potential *pg,
                       wf_potential *pg_t, wf_potential *pf_s) {
  w2_state *st = t->state;
  wf_net *f = t->nets[F], *g = t->nets[G];
  *pf = (wf_potential){{f}, {1}, 1};
  *pf_s = (wf_potential){{st->f_alias[2]}, {1}, 1};
  if (reparam) {
    *pg = (wf_potential){{st->f_alias[0], g}, {-1, 1}, 2};
    *pg_t = (wf_potential){{st->f_alias[1], st->g_alias}, {-1, 1}, 2};
  } else {
    *pg = (wf_potential){{g}, {1}, 1};
    *pg_t = (wf_potential){{st->g_alias}, {1}, 1};
  }
}

/* one update of the potentials on a fresh batch */
static wf_status critic_step(wf_trainer *t, void *data) {
  const w2_step *c = data;
  w2_state *st = t->state;
  wf_net *f = t->nets[F], *g = t->nets[G];
  const wf_backend *be = WF_BE(t->dev);
  wf_ctx *ctx = WF_CTX(t->dev);
  const wf_data *x = &t->data[DATA];
  int m = c->m, d = x->d;
  size_t md = (size_t)m * d;
  WF_TRY_NET(t, f, wf_net_random_index(f, c->idx, (size_t)m, x->n));
  be->gather_rows(ctx, x->x, d, c->idx, m, c->real);
  const wf_real *a, *b = c->real;
  WF_TRY(generate(t, m, c->zidx, c->z, &a));
  WF_TRY_NET(t, f, wf_net_zero_grad(f));
  WF_TRY_NET(t, g, wf_net_zero_grad(g));
  wf_potential pf, pg, pg_t, pf_s;
  potentials(t, c->reparam, &pf, &pg, &pg_t, &pf_s);
  wf_pot_reg reg = (wf_pot_reg)c->reg;
  /* the dual objective, with the penalty on the pairs if asked, and the
   * equality penalty on both sides (slots S_DUAL, S_INEQ, S_EQ_A, S_EQ_B) */
  int pairs = c->ineq & 1;
  WF_TRY_NET(t, f, wf_pot_dual_loss(&pf, &pg, &pg_t, &pf_s, a, b, m, -1.0 / m,
                                    pairs ? reg : WF_POT_REG_L2,
                                    pairs ? c->lambda_ineq : 0, c->lambda_eq, &st->ws,
                                    t->slots + S_DUAL));
  if (c->ineq & 2) {
    /* at_i = s1 a_i + (1 - s1) b_{i+1}, bt_i = s2 b_i + (1 - s2) a_{i+1}:
     * two independent points of the segments' law, from disjoint pairs */
    for (int k = 0; k < 2; k++) {
      const wf_real *src = k ? b : a;
      wf_real *dst = k ? c->b_sh : c->a_sh;
      be->copy(ctx, dst, src + d, md - d);
      be->copy(ctx, dst + md - d, src, (size_t)d);
    }
    WF_TRY_NET(t, f, wf_net_uniform(f, c->s1, (size_t)m));
    WF_TRY_NET(t, f, wf_net_uniform(f, c->s2, (size_t)m));
    be->row_lerp(ctx, a, c->b_sh, c->s1, m, d, c->at);
    be->row_lerp(ctx, b, c->a_sh, c->s2, m, d, c->bt);
    WF_TRY_NET(t, f, wf_pot_pair_loss(&pf, &pg, c->at, c->bt, m, 0, reg, c->lambda_ineq,
                                      &st->ws, t->slots + S_INTERP - 1));
  }
  if (c->reparam && c->lambda_e > 0) { /* e(b) <= 0 since f(b) + g(b) <= c(b, b) = 0 */
    wf_loss_spec hinge = {WF_LOSS_SQ_HINGE, c->lambda_e / m, 0.0, 0};
    WF_TRY_NET(t, g, wf_loss_backward(g, b, m, 1, &hinge, NULL, t->slots + S_E, NULL));
  }
  WF_TRY_NET(t, f, wf_net_opt_step(f, &t->opts[F]));
  WF_TRY_NET(t, g, wf_net_opt_step(g, &t->opts[G]));
  return WF_OK;
}

/* the work buffers of a batch of m rows; NULL members when out of memory */
static void step_buffers(wf_trainer *t, int m, w2_step *c) {
  int d = t->data[DATA].d;
  size_t md = (size_t)m * d;
  c->idx = wf_trainer_ints(t, "idx", (size_t)m);
  c->zidx = wf_trainer_ints(t, "zidx", (size_t)m);
  c->real = wf_trainer_buffer(t, "real", md);
  c->z = wf_trainer_buffer(t, "z", (size_t)m * wf_net_in(t->nets[GEN]));
}

/* args: batch_size, steps, ineq (0 none, 1 pairs, 2 interpolates, 3 both),
 * lambda_ineq, lambda_eq, reparam (0, 1), lambda_e, reg (0 L2, 1 entropic) */
static wf_status critic_phase(wf_trainer *t, const wf_args *a, double *out) {
  w2_step c = {0};
  int steps;
  WF_TRY(wf_arg_int(t, a, "batch_size", 1, 1 << 24, &c.m));
  WF_TRY(wf_arg_int(t, a, "steps", 1, 1 << 24, &steps));
  WF_TRY(wf_arg_int(t, a, "ineq", 0, 3, &c.ineq));
  WF_TRY(wf_arg_num(t, a, "lambda_ineq", 0, INFINITY, &c.lambda_ineq));
  WF_TRY(wf_arg_num(t, a, "lambda_eq", 0, INFINITY, &c.lambda_eq));
  WF_TRY(wf_arg_int_or(t, a, "reparam", 0, 1, 0, &c.reparam));
  WF_TRY(wf_arg_num_or(t, a, "lambda_e", 0, INFINITY, 0, &c.lambda_e));
  WF_TRY(wf_arg_int_or(t, a, "reg", 0, 1, 0, &c.reg));
  if (c.reg == WF_POT_REG_ENTROPIC && c.ineq != 0 && !(c.lambda_ineq > 0))
    return wf_trainer_fail(t, WF_ERR_ARG, "the entropic penalty needs lambda_ineq > 0");
  w2_state *st = t->state;
  int m = c.m;
  size_t md = (size_t)m * t->data[DATA].d;
  step_buffers(t, m, &c);
  c.a_sh = wf_trainer_buffer(t, "a_sh", md);
  c.b_sh = wf_trainer_buffer(t, "b_sh", md);
  c.at = wf_trainer_buffer(t, "at", md);
  c.bt = wf_trainer_buffer(t, "bt", md);
  c.s1 = wf_trainer_buffer(t, "s1", (size_t)m);
  c.s2 = wf_trainer_buffer(t, "s2", (size_t)m);
  if (!c.idx || !c.zidx || !c.real || !c.z || !c.a_sh || !c.b_sh || !c.at || !c.bt ||
      !c.s1 || !c.s2)
    return WF_ERR_NOMEM;
  st->m = 0; /* z is overwritten: the Euler targets are gone */
  wf_trainer_zero_slots(t, S_COUNT);
  double key[] = {m, c.ineq, c.lambda_ineq, c.lambda_eq, c.reparam, c.lambda_e, c.reg};
  WF_TRY(wf_trainer_repeat(t, &st->critic_step, steps, key, 7, critic_step, &c));
  double s[S_COUNT];
  WF_TRY(wf_trainer_read_slots(t, s, S_COUNT));
  double dual = s[S_DUAL] / steps, ineq = (s[S_INEQ] + s[S_INTERP]) / steps;
  double eq = (s[S_EQ_A] + s[S_EQ_B]) / steps, pe = s[S_E] / steps;
  out[0] = -dual + ineq + eq + pe; /* the loss minimised */
  out[1] = dual;
  out[2] = ineq;
  out[3] = c.lambda_eq > 0 ? eq : NAN;
  out[4] = c.reparam && c.lambda_e > 0 ? pe : NAN;
  for (int i = 0; i < 3; i++)
    if (!isfinite(out[i]))
      return wf_trainer_fail(t, WF_ERR_NUMERIC, "the critic loss is not finite");
  return WF_OK;
}

/* one W2GAN generator update: descend mean f(G(z)) */
static wf_status gen_step(wf_trainer *t, void *data) {
  const w2_step *c = data;
  wf_net *f = t->nets[F], *gen = t->nets[GEN];
  int m = c->m;
  const wf_real *y;
  WF_TRY_NET(t, gen, wf_net_zero_grad(gen));
  WF_TRY(generate(t, m, c->zidx, c->z, &y));
  wf_loss_spec mean = {WF_LOSS_LINEAR, 1.0 / m, 1.0, 0};
  wf_device_zero_scalars(t->dev, c->slot, 1);
  WF_TRY_NET(t, f, wf_pullback(f, y, m, 1, &mean, NULL, c->slot, c->dy));
  WF_TRY_NET(t, gen, wf_mlp_backward(gen, c->dy, NULL));
  WF_TRY_NET(t, gen, wf_net_opt_step(gen, &t->opts[GEN]));
  return WF_OK;
}

/* args: batch_size, steps (default 1). Output: mean f(G(z)) before the last
 * update. */
static wf_status generator_phase(wf_trainer *t, const wf_args *a, double *out) {
  w2_step c = {0};
  int steps;
  WF_TRY(wf_arg_int(t, a, "batch_size", 1, 1 << 24, &c.m));
  WF_TRY(wf_arg_int_or(t, a, "steps", 1, 1 << 24, 1, &steps));
  if (wf_net_spec(t->nets[GEN])->norm == WF_NORM_BATCH && c.m < 2)
    return wf_trainer_fail(t, WF_ERR_ARG, "a BatchNorm generator needs batches of 2 rows");
  w2_state *st = t->state;
  step_buffers(t, c.m, &c);
  c.dy = wf_trainer_buffer(t, "dy", (size_t)c.m * t->data[DATA].d);
  if (!c.idx || !c.zidx || !c.real || !c.z || !c.dy) return WF_ERR_NOMEM;
  st->m = 0;
  c.slot = t->slots;
  double key[] = {c.m};
  WF_TRY(wf_trainer_repeat(t, &st->gen_step, steps, key, 1, gen_step, &c));
  WF_TRY(wf_trainer_read_slots(t, out, 1));
  if (!isfinite(out[0]))
    return wf_trainer_fail(t, WF_ERR_NUMERIC, "the generator's loss is not finite");
  return WF_OK;
}

/* args: batch_size, step_size (eps) */
static wf_status euler_phase(wf_trainer *t, const wf_args *a, double *out) {
  int m;
  double eps;
  WF_TRY(wf_arg_int(t, a, "batch_size", 1, 1 << 24, &m));
  WF_TRY(wf_arg_num(t, a, "step_size", 0, INFINITY, &eps));
  w2_state *st = t->state;
  w2_step c = {0};
  step_buffers(t, m, &c);
  int d = t->data[DATA].d;
  wf_real *zeta = wf_trainer_buffer(t, "zeta", (size_t)m * d); /* [m x d] */
  wf_real *g = wf_trainer_buffer(t, "g", (size_t)m * d);       /* [m x d] */
  if (!c.zidx || !c.z || zeta == NULL || g == NULL) return WF_ERR_NOMEM;
  st->m = 0;
  const wf_real *y;
  WF_TRY(generate(t, m, c.zidx, c.z, &y));
  wf_trainer_zero_slots(t, 1);
  /* f is the potential of the generated side: T(y) = y - grad f(y) */
  WF_TRY_NET(t, t->nets[F], wf_euler_step(t->nets[F], y, m, -eps, g, zeta, t->slots));
  WF_TRY(wf_trainer_read_slots(t, out, 1));
  if (!isfinite(out[0]))
    return wf_trainer_fail(t, WF_ERR_NUMERIC, "the potential's gradient is not finite");
  st->m = m;
  return WF_OK;
}

/* one regression update of the generator on the Euler step's z and zeta */
static wf_status fit_step(wf_trainer *t, void *data) {
  const w2_step *c = data;
  wf_net *gen = t->nets[GEN];
  wf_loss_spec mse = {WF_LOSS_MSE, 1.0 / c->m, 0.0, 0};
  wf_device_zero_scalars(t->dev, c->slot, 1);
  WF_TRY_NET(t, gen, wf_regress_step(gen, c->z, c->m, c->zeta, &mse, &t->opts[GEN],
                                     c->slot));
  return WF_OK;
}

/* args: persistency (K). Outputs: the regression loss before the first and
 * before the last update. */
static wf_status fit_phase(wf_trainer *t, const wf_args *a, double *out) {
  int K;
  w2_step c = {0};
  WF_TRY(wf_arg_int(t, a, "persistency", 1, 1 << 24, &K));
  w2_state *st = t->state;
  int m = c.m = st->m;
  if (m < 1) return wf_trainer_fail(t, WF_ERR_STATE, "fit needs an Euler step first");
  c.z = wf_trainer_buffer(t, "z", (size_t)m * wf_net_in(t->nets[GEN]));
  c.zeta = wf_trainer_buffer(t, "zeta", (size_t)m * t->data[DATA].d);
  if (c.z == NULL || c.zeta == NULL) return WF_ERR_NOMEM;
  double key[] = {m};
  return wf_trainer_persist(t, &st->fit_step, K, key, 1, fit_step, fit_step, &c, &c.slot,
                            out);
}

static const wf_phase phases[] = {
    {"critic", critic_phase,
     {"critic_loss", "w2_dual", "ineq_penalty", "eq_penalty", "e_penalty", NULL}},
    {"generator", generator_phase, {"gen_loss", NULL}},
    {"euler", euler_phase, {"euler_grad_norm", NULL}},
    {"fit", fit_phase, {"fit_mse_first", "fit_mse_last", NULL}},
    {NULL, NULL, {NULL}}};

/* one registration per family and latent source: W2GAN and W2-FE run the
 * same phases (the R side picks generator or euler + fit); "_map" learns a
 * map from the source sample */
#define W2_ALGO(var, label, ...)                 \
  const wf_algo var = {                          \
      .name = label,                             \
      .nets = {"f", "g", "generator", NULL},     \
      .data = {__VA_ARGS__, NULL},               \
      .state_size = sizeof(w2_state),            \
      .init = init,                              \
      .free = release,                           \
      .phases = phases,                          \
  }
W2_ALGO(wf_algo_w2gan, "w2gan", "data");
W2_ALGO(wf_algo_w2gan_map, "w2gan_map", "data", "source");
W2_ALGO(wf_algo_w2fe, "w2fe", "data");
W2_ALGO(wf_algo_w2fe_map, "w2fe_map", "data", "source");
