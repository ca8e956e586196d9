/* algo_w2.c — W2GAN (Leygonie et al., Algorithms 1-2 and App. A.7-A.9) and
 * W2-FE, its persistent form (the W1-FE loop with the W2 critic), over the
 * potential compositions of compose.c.
 *
 *   critic     `steps` updates of the two potentials: f on the generated
 *              side, g on the data side (or an epsilon reparameterisation:
 *              g = -f + e on the data side, App. A.8, or f = -g + e on the
 *              generated side, the public code's), maximising
 *              mean f(a) + mean g(b) under
 *              f(a) + g(b) <= |a - b|^2 / 2: an L2 (or entropic) penalty on
 *              the pairs and / or on interpolates, the equality penalty on
 *              both sides, and e's own penalty max(0, e)^2 on its side's
 *              batch
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
 *
 * Batches: i.i.d. rows of each data set (uniform with replacement), or
 * balanced by strata (the public code's batches, equal counts per mixture
 * component): a data set whose rows are sorted by stratum is given its
 * strata's sizes in the phase arguments "<role>_strata" (k; 0: i.i.d.) and
 * "<role>_stratum_1" .. "<role>_stratum_<k>" (role "data" or "source");
 * every batch of m rows then takes m / k rows of each stratum (one more
 * for the first m % k), uniform with replacement within it. The data rows
 * are laid out round robin (row i from stratum i % k), the source rows
 * stratum by stratum, so every source stratum meets every data stratum
 * in equal numbers of pairs (the public code shuffles each batch instead).
 *
 * Reparameterisation (phase argument "reparam"): 0 none (f on net f, g on
 * net g), 1 the data side (g = -f + e, net g holds e), 2 the generated
 * side (f = -g + e, net f holds e). The generator and Euler phases take it
 * too: with 2 they descend f = e - g.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "net.h"
#include "trainer.h"

enum { F = 0, G = 1, GEN = 2 }; /* net roles: f (or e), g (or e), generator */
enum { REPARAM_NONE = 0, REPARAM_DATA = 1, REPARAM_GENERATED = 2 };
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

/* the strata of a data set whose rows are sorted by stratum */
typedef struct {
  int k;      /* strata; 0: i.i.d. rows */
  int *count; /* [k] rows of each stratum, in row order */
  int cap;    /* count's allocation */
} w2_strata;

typedef struct {
  /* more caches of the nets f and g: the dual loss evaluates the
   * potentials at the pairs, at T = a - grad f(a) and at S = b - grad g(b),
   * a reparameterised potential through both nets */
  wf_net *f_alias[3], *g_alias[3];
  wf_pot_ws ws;
  int m;            /* rows of the current z and zeta (0: no Euler step yet) */
  wf_replay critic_step, gen_step, fit_step;
  w2_strata strata[2]; /* of DATA and SOURCE */
  int *perm;           /* the device's round-robin order of a balanced data batch */
  int perm_m, perm_k;  /* what perm holds */
} w2_state;

/* what one step works on */
typedef struct {
  int m, ineq, reparam, reg;
  double lambda_ineq, lambda_eq, lambda_e;
  int *idx, *zidx;             /* [m] data rows, source rows */
  const int *perm;             /* [m] a balanced data batch's order, or NULL */
  wf_real *rows_tmp;           /* [m x d] a balanced data batch by stratum */
  wf_real *real, *z;           /* [m x d], [m x latent] */
  wf_real *a_sh, *b_sh;        /* [m x d] rows shifted by one */
  wf_real *at, *bt;            /* [m x d] interpolates */
  wf_real *s1, *s2;            /* [m] interpolation weights */
  wf_real *zeta;               /* [m x d] Euler targets */
  wf_real *dy, *dy2;           /* [m x d] a generator loss pulled back */
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
    if (wf_net_alias(f, &st->f_alias[i], t->msg) != WF_OK ||
        wf_net_alias(g, &st->g_alias[i], t->msg) != WF_OK)
      return WF_ERR_NOMEM;
  return WF_OK;
}

static void release(wf_trainer *t) {
  w2_state *st = t->state;
  wf_pot_ws_free(&st->ws);
  for (int i = 0; i < 3; i++) {
    wf_net_free(st->f_alias[i]);
    wf_net_free(st->g_alias[i]);
  }
  for (int r = 0; r < 2; r++) free(st->strata[r].count);
}

/* ---- batches: i.i.d. or balanced by strata -------------------------------- */
static const char *const role_names[] = {"data", "source"};

/* Reads the strata of data set `role` from the phase's arguments
 * "<role>_strata" (0: i.i.d. rows) and "<role>_stratum_<c>": k
 * sizes >= 1 summing to the data set's rows, k <= m (every stratum in every
 * batch of m rows). */
static wf_status read_strata(wf_trainer *t, const wf_args *a, int role, int m) {
  w2_state *st = t->state;
  w2_strata *s = &st->strata[role];
  char name[64];
  int k;
  snprintf(name, sizeof(name), "%s_strata", role_names[role]);
  int present = role < t->n_data;
  WF_TRY(wf_arg_int(t, a, name, 0, present ? m : 0, &k));
  if (k > s->cap) {
    int *p = realloc(s->count, (size_t)k * sizeof(int));
    if (p == NULL) return wf_trainer_fail(t, WF_ERR_NOMEM, "out of memory for %d strata", k);
    s->count = p;
    s->cap = k;
  }
  long sum = 0;
  for (int c = 0; c < k; c++) {
    snprintf(name, sizeof(name), "%s_stratum_%d", role_names[role], c + 1);
    WF_TRY(wf_arg_int(t, a, name, 1, t->data[role].n, &s->count[c]));
    sum += s->count[c];
  }
  if (k > 0 && sum != t->data[role].n)
    return wf_trainer_fail(t, WF_ERR_ARG, "the %s strata hold %ld rows, the %s has %d",
                           role_names[role], sum, role_names[role], t->data[role].n);
  s->k = k;
  return WF_OK;
}

/* the strata of both data sets as a step's key: k and a weighted sum of
 * the sizes each */
static void strata_key(const w2_state *st, double *key) {
  for (int r = 0; r < 2; r++) {
    const w2_strata *s = &st->strata[r];
    double h = 0;
    for (int c = 0; c < s->k; c++) h += (c + 1.0) * s->count[c];
    key[2 * r] = s->k;
    key[2 * r + 1] = h;
  }
}

/* The round-robin order of a balanced data batch of m rows (NULL for
 * i.i.d. rows or one stratum): perm[i] = the position, in the batch laid
 * out stratum by stratum, of the (i / k)-th row of stratum i % k. Uploaded
 * when m or k change (between steps, never while one is recorded). */
static wf_status data_order(wf_trainer *t, int m, const int **out) {
  w2_state *st = t->state;
  int k = st->strata[DATA].k;
  *out = NULL;
  if (k < 2) return WF_OK;
  int *perm = wf_trainer_ints(t, "perm", (size_t)m);
  if (perm == NULL) return WF_ERR_NOMEM;
  if (perm != st->perm || st->perm_m != m || st->perm_k != k) {
    int *h = malloc((size_t)m * sizeof(int)), *off = malloc((size_t)k * sizeof(int));
    if (h == NULL || off == NULL) {
      free(h), free(off);
      return wf_trainer_fail(t, WF_ERR_NOMEM, "out of memory for a batch order");
    }
    for (int c = 0, o = 0; c < k; c++) {
      off[c] = o;
      o += m / k + (c < m % k);
    }
    for (int i = 0; i < m; i++) h[i] = off[i % k] + i / k;
    wf_status rc = wf_device_upload_int(t->dev, perm, h, (size_t)m);
    free(h), free(off);
    if (rc != WF_OK) return wf_trainer_fail(t, rc, "%s", wf_device_message(t->dev));
    st->perm = perm, st->perm_m = m, st->perm_k = k;
  }
  *out = perm;
  return WF_OK;
}

/* m balanced rows of data set `role` into out [m x d], from net's stream:
 * stratum c gives m / k rows (one more for c < m % k), uniform with
 * replacement among its rows (idx [m]: their indices within it), laid out
 * stratum by stratum, then gathered into perm's order through tmp when
 * perm is not NULL. */
static wf_status draw_balanced(wf_trainer *t, wf_net *net, int role, int m, int *idx,
                               const int *perm, wf_real *tmp, wf_real *out) {
  const w2_state *st = t->state;
  const w2_strata *s = &st->strata[role];
  const wf_data *x = &t->data[role];
  const wf_backend *be = WF_BE(t->dev);
  wf_ctx *ctx = WF_CTX(t->dev);
  int d = x->d, k = s->k, start = 0, off = 0;
  wf_real *dst = perm != NULL ? tmp : out;
  for (int c = 0; c < k; c++) {
    int kc = m / k + (c < m % k);
    WF_TRY_NET(t, net, wf_net_random_index(net, idx + off, (size_t)kc, s->count[c]));
    be->gather_rows(ctx, x->x + (size_t)start * d, d, idx + off, kc,
                    dst + (size_t)off * d);
    start += s->count[c];
    off += kc;
  }
  if (perm != NULL) be->gather_rows(ctx, tmp, d, perm, m, out);
  return WF_OK;
}

/* y = G(z) in training mode for m fresh latents z (normal, or source rows,
 * i.i.d. or balanced); y is the generator's cached output */
static wf_status generate(wf_trainer *t, int m, int *zidx, wf_real *z,
                          const wf_real **y) {
  wf_net *gen = t->nets[GEN];
  const w2_state *st = t->state;
  const wf_data *src = map_mode(t) ? &t->data[SOURCE] : NULL;
  if (src != NULL && st->strata[SOURCE].k > 0) {
    WF_TRY(draw_balanced(t, gen, SOURCE, m, zidx, NULL, NULL, z));
  } else {
    WF_TRY_NET(t, gen, wf_latents(gen, src ? src->x : NULL, src ? src->n : 0, m, zidx, z));
  }
  WF_TRY_NET(t, gen, wf_mlp_forward(gen, z, m, 1, NULL));
  *y = wf_mlp_output(gen);
  return WF_OK;
}

/* the potentials at the four points of the dual loss, over distinct
 * caches: f at a, g at b, g at T, f at S; g is g or -f + e (data side), f
 * is f or -g + e (generated side: net f holds e) */
static void potentials(wf_trainer *t, int reparam, wf_potential *pf, wf_potential *pg,
                       wf_potential *pg_t, wf_potential *pf_s) {
  w2_state *st = t->state;
  wf_net *f = t->nets[F], *g = t->nets[G];
  if (reparam == REPARAM_GENERATED) {
    *pf = (wf_potential){{f, st->g_alias[0]}, {1, -1}, 2};
    *pf_s = (wf_potential){{st->f_alias[2], st->g_alias[2]}, {1, -1}, 2};
    *pg = (wf_potential){{g}, {1}, 1};
    *pg_t = (wf_potential){{st->g_alias[1]}, {1}, 1};
    return;
  }
  *pf = (wf_potential){{f}, {1}, 1};
  *pf_s = (wf_potential){{st->f_alias[2]}, {1}, 1};
  if (reparam == REPARAM_DATA) {
    *pg = (wf_potential){{st->f_alias[0], g}, {-1, 1}, 2};
    *pg_t = (wf_potential){{st->f_alias[1], st->g_alias[0]}, {-1, 1}, 2};
  } else {
    *pg = (wf_potential){{g}, {1}, 1};
    *pg_t = (wf_potential){{st->g_alias[0]}, {1}, 1};
  }
}

/* With f = -g + e (generated side): grad = scale * grad f(y) = scale
 * (grad e(y) - grad g(y)), slot += scale * sum_i f(y_i) (NULL: not
 * wanted), the nets frozen; tmp [m x d] work space. */
static wf_status generated_potential_grad(wf_trainer *t, const wf_real *y, int m,
                                          double scale, double *slot, wf_real *grad,
                                          wf_real *tmp) {
  wf_net *e = t->nets[F], *g = t->nets[G];
  wf_loss_spec pos = {WF_LOSS_LINEAR, scale, 1.0, 0}, neg = {WF_LOSS_LINEAR, -scale, 1.0, 0};
  WF_TRY_NET(t, e, wf_pullback(e, y, m, 1, &pos, NULL, slot, grad));
  WF_TRY_NET(t, g, wf_pullback(g, y, m, 1, &neg, NULL, slot, tmp));
  WF_BE(t->dev)->axpy(WF_CTX(t->dev), (size_t)m * wf_net_in(e), 1, tmp, grad);
  return WF_OK;
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
  if (st->strata[DATA].k > 0) {
    WF_TRY(draw_balanced(t, f, DATA, m, c->idx, c->perm, c->rows_tmp, c->real));
  } else {
    WF_TRY_NET(t, f, wf_net_random_index(f, c->idx, (size_t)m, x->n));
    be->gather_rows(ctx, x->x, d, c->idx, m, c->real);
  }
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
  if (c->reparam && c->lambda_e > 0) {
    /* e <= 0 on its side's batch, since f(x) + g(x) <= c(x, x) = 0: e on
     * the data side at b, on the generated side at a */
    wf_loss_spec hinge = {WF_LOSS_SQ_HINGE, c->lambda_e / m, 0.0, 0};
    wf_net *e = c->reparam == REPARAM_GENERATED ? f : g;
    const wf_real *at_e = c->reparam == REPARAM_GENERATED ? a : b;
    WF_TRY_NET(t, e, wf_loss_backward(e, at_e, m, 1, &hinge, NULL, t->slots + S_E, NULL));
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

/* args: batch_size, steps, ineq ("none", "pairs", "interpolates", "both"),
 * lambda_ineq, lambda_eq, reparam ("none", "data" side, "generated" side),
 * lambda_e, reg (a regularizer: "l2", "entropic"), and the strata of the
 * data and the source (data_strata, data_stratum_<c>, source_strata, ...;
 * 0 strata: i.i.d. rows) */
static wf_status critic_phase(wf_trainer *t, const wf_args *a, double *out) {
  w2_step c = {0};
  int steps;
  WF_TRY(wf_arg_int(t, a, "batch_size", 1, 1 << 24, &c.m));
  WF_TRY(wf_arg_int(t, a, "steps", 1, 1 << 24, &steps));
  WF_TRY(wf_arg_choice(t, a, "ineq", "ineq", &c.ineq));
  WF_TRY(wf_arg_num(t, a, "lambda_ineq", 0, INFINITY, &c.lambda_ineq));
  WF_TRY(wf_arg_num(t, a, "lambda_eq", 0, INFINITY, &c.lambda_eq));
  WF_TRY(wf_arg_choice(t, a, "reparam", "reparam", &c.reparam));
  WF_TRY(wf_arg_num(t, a, "lambda_e", 0, INFINITY, &c.lambda_e));
  WF_TRY(wf_arg_choice(t, a, "reg", "regularizer", &c.reg));
  WF_TRY(read_strata(t, a, DATA, c.m));
  WF_TRY(read_strata(t, a, SOURCE, c.m));
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
  WF_TRY(data_order(t, m, &c.perm));
  if (c.perm != NULL && (c.rows_tmp = wf_trainer_buffer(t, "rows_tmp", md)) == NULL)
    return WF_ERR_NOMEM;
  st->m = 0; /* z is overwritten: the Euler targets are gone */
  wf_trainer_zero_slots(t, S_COUNT);
  double key[11] = {m, c.ineq, c.lambda_ineq, c.lambda_eq, c.reparam, c.lambda_e, c.reg};
  strata_key(st, key + 7);
  WF_TRY(wf_trainer_repeat(t, &st->critic_step, steps, key, 11, critic_step, &c));
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

/* one W2GAN generator update: descend mean f(G(z)) (f = e - g with the
 * generated side reparameterised) */
static wf_status gen_step(wf_trainer *t, void *data) {
  const w2_step *c = data;
  wf_net *f = t->nets[F], *gen = t->nets[GEN];
  int m = c->m;
  const wf_real *y;
  WF_TRY_NET(t, gen, wf_net_zero_grad(gen));
  WF_TRY(generate(t, m, c->zidx, c->z, &y));
  wf_loss_spec mean = {WF_LOSS_LINEAR, 1.0 / m, 1.0, 0};
  wf_device_zero_scalars(t->dev, c->slot, 1);
  if (c->reparam == REPARAM_GENERATED) {
    WF_TRY(generated_potential_grad(t, y, m, 1.0 / m, c->slot, c->dy, c->dy2));
  } else {
    WF_TRY_NET(t, f, wf_pullback(f, y, m, 1, &mean, NULL, c->slot, c->dy));
  }
  WF_TRY_NET(t, gen, wf_mlp_backward(gen, c->dy, NULL));
  WF_TRY_NET(t, gen, wf_net_opt_step(gen, &t->opts[GEN]));
  return WF_OK;
}

/* args: batch_size, steps, reparam (as the critic's), the source's
 * strata (source_strata, source_stratum_<c>). Output:
 * mean f(G(z)) before the last update. */
static wf_status generator_phase(wf_trainer *t, const wf_args *a, double *out) {
  w2_step c = {0};
  int steps;
  WF_TRY(wf_arg_int(t, a, "batch_size", 1, 1 << 24, &c.m));
  WF_TRY(wf_arg_int(t, a, "steps", 1, 1 << 24, &steps));
  WF_TRY(wf_arg_choice(t, a, "reparam", "reparam", &c.reparam));
  WF_TRY(read_strata(t, a, SOURCE, c.m));
  if (wf_net_spec(t->nets[GEN])->norm == WF_NORM_BATCH && c.m < 2)
    return wf_trainer_fail(t, WF_ERR_ARG, "a BatchNorm generator needs batches of 2 rows");
  w2_state *st = t->state;
  step_buffers(t, c.m, &c);
  c.dy = wf_trainer_buffer(t, "dy", (size_t)c.m * t->data[DATA].d);
  if (!c.idx || !c.zidx || !c.real || !c.z || !c.dy) return WF_ERR_NOMEM;
  if (c.reparam == REPARAM_GENERATED &&
      (c.dy2 = wf_trainer_buffer(t, "dy2", (size_t)c.m * t->data[DATA].d)) == NULL)
    return WF_ERR_NOMEM;
  st->m = 0;
  c.slot = t->slots;
  double key[6] = {c.m, c.reparam};
  strata_key(st, key + 2);
  WF_TRY(wf_trainer_repeat(t, &st->gen_step, steps, key, 6, gen_step, &c));
  WF_TRY(wf_trainer_read_slots(t, out, 1));
  if (!isfinite(out[0]))
    return wf_trainer_fail(t, WF_ERR_NUMERIC, "the generator's loss is not finite");
  return WF_OK;
}

/* args: batch_size, step_size (eps), reparam (as the critic's),
 * the source's strata */
static wf_status euler_phase(wf_trainer *t, const wf_args *a, double *out) {
  int m, reparam;
  double eps;
  WF_TRY(wf_arg_int(t, a, "batch_size", 1, 1 << 24, &m));
  WF_TRY(wf_arg_num(t, a, "step_size", 0, INFINITY, &eps));
  WF_TRY(wf_arg_choice(t, a, "reparam", "reparam", &reparam));
  WF_TRY(read_strata(t, a, SOURCE, m));
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
  if (reparam == REPARAM_GENERATED) { /* f = e - g */
    const wf_backend *be = WF_BE(t->dev);
    wf_ctx *ctx = WF_CTX(t->dev);
    size_t md = (size_t)m * d;
    WF_TRY(generated_potential_grad(t, y, m, 1.0, NULL, g, zeta)); /* zeta: work */
    be->copy(ctx, zeta, y, md); /* zeta = y - eps grad f(y) */
    be->axpy(ctx, md, (wf_real)(-eps), g, zeta);
    be->row_norm_loss(ctx, WF_ROWNORM_NORM, g, m, d, 1.0, NULL, NULL, t->slots);
  } else {
    WF_TRY_NET(t, t->nets[F], wf_euler_step(t->nets[F], y, m, -eps, g, zeta, t->slots));
  }
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

/* one registration per family: W2GAN and W2-FE run the same phases (the R
 * side picks generator or euler + fit); with the optional data set
 * "source" they learn a map from that sample */
#define W2_ALGO(var, label)                                \
  const wf_algo var = {                                    \
      .name = label,                                       \
      .nets = {"f", "g", "generator", NULL},               \
      .data = {"data", "source", NULL},                    \
      .optional_data = 1,                                  \
      .state_size = sizeof(w2_state),                      \
      .init = init,                                        \
      .free = release,                                     \
      .phases = phases,                                    \
  }
W2_ALGO(wf_algo_w2gan, "w2gan");
W2_ALGO(wf_algo_w2fe, "w2fe");
