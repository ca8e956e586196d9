/* algo_barycentric.c — Barycentric-OT (Seguy et al. 2018), the W2GAN
 * paper's baseline for maps between two samples: two stages over the
 * potential compositions of compose.c.
 *
 *   dual  SGD on the regularised dual of OT between the source and the
 *         data: two potentials u (source side) and v (data side)
 *         maximising mean u(a) + mean v(b) - (1/m) sum pen(r), r = u(a) +
 *         v(b) - |a - b|^2 / 2, pen L2 (lambda max(0, r)^2) or entropic
 *         (lambda exp(r / lambda))
 *   map   regression of the generator onto the barycentric projection of
 *         the regularised plan: minimise (1/m) sum h_i |G(a_i) - b_i|^2 / 2
 *         with h_i = pen'(r_i) the plan's density at the pair
 *
 * One phase runs a stretch of steps and splits it between the stages by
 * u's optimiser step count, so a fit interrupted or continued resumes in
 * the right stage. Randomness: rows of both samples from u's stream.
 */
#include <math.h>

#include "net.h"
#include "trainer.h"

enum { U = 0, V = 1, GEN = 2 }; /* net roles */
enum { DATA = 0, SOURCE = 1 };  /* data roles */

typedef struct {
  wf_pot_ws ws;
  wf_replay dual_step, map_step;
} bary_state;

typedef struct {
  int m, reg;
  double lambda;
  int *ia, *ib;          /* [m] source rows, data rows */
  wf_real *a, *b;        /* [m x d] */
  wf_real *h;            /* [m] plan density */
  wf_real *diff, *sq;    /* [m x d], [m] regression work space */
} bary_step;

static wf_status init(wf_trainer *t) {
  int d = t->data[DATA].d;
  if (t->data[SOURCE].d != d)
    return wf_trainer_fail(t, WF_ERR_ARG, "the source has %d columns, the data %d",
                           t->data[SOURCE].d, d);
  for (int k = U; k <= V; k++)
    if (wf_net_in(t->nets[k]) != d || wf_net_out(t->nets[k]) != 1)
      return wf_trainer_fail(t, WF_ERR_ARG, "the potentials must map %d columns to 1", d);
  if (wf_net_in(t->nets[GEN]) != d || wf_net_out(t->nets[GEN]) != d)
    return wf_trainer_fail(t, WF_ERR_ARG, "the map must take and give %d columns", d);
  return WF_OK;
}

static void release(wf_trainer *t) { wf_pot_ws_free(&((bary_state *)t->state)->ws); }

/* m rows of each sample from u's stream */
static wf_status draw_pairs(wf_trainer *t, const bary_step *c) {
  wf_net *u = t->nets[U];
  const wf_data *src = &t->data[SOURCE], *x = &t->data[DATA];
  WF_TRY_NET(t, u, wf_net_random_index(u, c->ia, (size_t)c->m, src->n));
  WF_TRY_NET(t, u, wf_net_random_index(u, c->ib, (size_t)c->m, x->n));
  WF_BE(t->dev)->gather_rows(WF_CTX(t->dev), src->x, src->d, c->ia, c->m, c->a);
  WF_BE(t->dev)->gather_rows(WF_CTX(t->dev), x->x, x->d, c->ib, c->m, c->b);
  return WF_OK;
}

static wf_status dual_step(wf_trainer *t, void *data) {
  const bary_step *c = data;
  bary_state *st = t->state;
  wf_net *u = t->nets[U], *v = t->nets[V];
  WF_TRY(draw_pairs(t, c));
  WF_TRY_NET(t, u, wf_net_zero_grad(u));
  WF_TRY_NET(t, v, wf_net_zero_grad(v));
  wf_potential pu = {{u}, {1}, 1}, pv = {{v}, {1}, 1};
  WF_TRY_NET(t, u, wf_pot_pair_loss(&pu, &pv, c->a, c->b, c->m, -1.0 / c->m,
                                    (wf_pot_reg)c->reg, c->lambda, &st->ws, t->slots));
  WF_TRY_NET(t, u, wf_net_opt_step(u, &t->opts[U]));
  WF_TRY_NET(t, v, wf_net_opt_step(v, &t->opts[V]));
  return WF_OK;
}

static wf_status map_step(wf_trainer *t, void *data) {
  const bary_step *c = data;
  bary_state *st = t->state;
  wf_net *u = t->nets[U], *gen = t->nets[GEN];
  WF_TRY(draw_pairs(t, c));
  wf_potential pu = {{u}, {1}, 1}, pv = {{t->nets[V]}, {1}, 1};
  WF_TRY_NET(t, u, wf_pot_plan_density(&pu, &pv, c->a, c->b, c->m, (wf_pot_reg)c->reg,
                                       c->lambda, &st->ws, c->h));
  wf_device_zero_scalars(t->dev, t->slots + 2, 1);
  WF_TRY_NET(t, gen, wf_weighted_regress_step(gen, c->a, c->m, c->b, c->h,
                                              &t->opts[GEN], c->diff, c->sq,
                                              t->slots + 2));
  return WF_OK;
}

/* args: batch_size, steps, dual_steps (the dual stage's length), lambda,
 * reg (a regularizer: "l2", "entropic"). Outputs: the dual objective and its penalty
 * (means over this call's dual steps; NA without any), the map loss before
 * the last map step (NA without any). */
static wf_status run_phase(wf_trainer *t, const wf_args *args, double *out) {
  bary_step c = {0};
  int steps;
  double dual_steps;
  WF_TRY(wf_arg_int(t, args, "batch_size", 1, 1 << 24, &c.m));
  WF_TRY(wf_arg_int(t, args, "steps", 1, 1 << 24, &steps));
  WF_TRY(wf_arg_num(t, args, "dual_steps", 0, 9e15, &dual_steps));
  WF_TRY(wf_arg_num(t, args, "lambda", 0, INFINITY, &c.lambda));
  WF_TRY(wf_arg_choice(t, args, "reg", "regularizer", &c.reg));
  if (!(c.lambda > 0)) return wf_trainer_fail(t, WF_ERR_ARG, "`lambda` must be > 0");
  if (wf_net_spec(t->nets[GEN])->norm == WF_NORM_BATCH && c.m < 2)
    return wf_trainer_fail(t, WF_ERR_ARG, "a BatchNorm map needs batches of 2 rows");
  bary_state *st = t->state;
  int d = t->data[DATA].d;
  size_t md = (size_t)c.m * d;
  c.ia = wf_trainer_ints(t, "ia", (size_t)c.m);
  c.ib = wf_trainer_ints(t, "ib", (size_t)c.m);
  c.a = wf_trainer_buffer(t, "a", md);
  c.b = wf_trainer_buffer(t, "b", md);
  c.h = wf_trainer_buffer(t, "h", (size_t)c.m);
  c.diff = wf_trainer_buffer(t, "diff", md);
  c.sq = wf_trainer_buffer(t, "sq", (size_t)c.m);
  if (!c.ia || !c.ib || !c.a || !c.b || !c.h || !c.diff || !c.sq) return WF_ERR_NOMEM;
  double done = wf_net_block(t->nets[U])->step;
  double left = dual_steps > done ? dual_steps - done : 0;
  int n_dual = left < steps ? (int)left : steps, n_map = steps - n_dual;
  wf_trainer_zero_slots(t, 3);
  double key[] = {c.m, c.reg, c.lambda};
  WF_TRY(wf_trainer_repeat(t, &st->dual_step, n_dual, key, 3, dual_step, &c));
  WF_TRY(wf_trainer_repeat(t, &st->map_step, n_map, key, 3, map_step, &c));
  double s[3];
  WF_TRY(wf_trainer_read_slots(t, s, 3));
  out[0] = n_dual > 0 ? s[0] / n_dual : NAN;
  out[1] = n_dual > 0 ? s[1] / n_dual : NAN;
  out[2] = n_map > 0 ? s[2] : NAN;
  for (int i = 0; i < 3; i++)
    if (isinf(out[i]) || (out[i] != out[i] && (i < 2 ? n_dual : n_map) > 0))
      return wf_trainer_fail(t, WF_ERR_NUMERIC, "Barycentric-OT's loss is not finite");
  return WF_OK;
}

static const wf_phase phases[] = {
    {"steps", run_phase, {"ot_dual", "dual_penalty", "map_loss", NULL}},
    {NULL, NULL, {NULL}}};

const wf_algo wf_algo_barycentric = {
    .name = "barycentric",
    .nets = {"u", "v", "generator", NULL},
    .data = {"data", "source", NULL},
    .state_size = sizeof(bary_state),
    .init = init,
    .free = release,
    .phases = phases,
};
