/* algo_ots.c — semi-discrete optimal transport and OTS/FIT (Chen et al.
 * 2019, Algorithms 1-3), over the generic trainer.
 *
 * The target is the data set y_1..y_N. A dual vector psi [N] (a bare
 * parameter block: psi, its gradient and Adam moments live in the named
 * buffers "psi", "psi_grad", "psi_m1", "psi_m2", so R can save and restore
 * them) is ascended by stochastic gradient on
 *   D(psi) = E_a min_i (c(a, y_i) - psi_i) + mean_i psi_i,
 * a lower bound of the transport cost from the source law to the data
 * (the paper's sign); its gradient on a batch is 1/N - count_i / B, where
 * count_i is the number of batch points a_j whose argmin is i.
 *
 *   ots     OTS (Algorithm 1): steps of the dual ascent on batches a = G(z)
 *           (or rows of a fixed source sample), every check_every steps the
 *           stopping rule on the histogram of the assignments of the last
 *           `window` steps (min(bins, N) bins of consecutive indices, every
 *           bin within [low, high] x its expected count), or the step cap.
 *           With record = 1 the (z, target) pairs of every step are kept
 *           for FIT: the targets as indices in a device list, the z as the
 *           position of the generator's stream (FIT draws them again).
 *   fit     FIT (Algorithm 2): `passes` passes over the recorded pairs in
 *           order, one optimiser step of the generator per pair batch on the
 *           cost c(G(z), y_target) (L1, or |.|^2 / 2).
 *   assign  the assignment of a whole source (every row of the source set,
 *           or n generated points) under the current psi: indices into the
 *           buffer "assignment", points into "assign_x", and the exact mean
 *           of min_i c - psi_i plus mean psi (the dual) and of the cost of
 *           the assignment (the primal) over it.
 *
 * Two registrations share the phases: "ots" (a generator and the data) and
 * "semidiscrete" (the same plus a fixed "source" sample; with source = 1
 * the generator only lends its random stream).
 *
 * Randomness: latents and source rows from the generator's stream.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "net.h"
#include "trainer.h"

enum { GEN = 0 };            /* net roles */
enum { DATA = 0, SOURCE = 1 }; /* data roles */

/* the phase's slots: sums over the steps of one check */
enum { S_DUAL = 0, S_PSI, S_PRIMAL, S_FIT_FIRST, S_FIT_LAST, S_FIT_MID, N_SLOTS };
/* the state's own device slots */
enum { P_PSI_STEP = 0, P_PAIRS_POS, P_FIT_POS, P_FIT_COUNTER, N_OWN };

typedef struct {
  wf_block psi;       /* [N] the dual vector (pointers into named buffers) */
  wf_real *kept[3];   /* [N] each: psi, m1, m2 before the running OTS phase */
  double *own;        /* device [N_OWN] */
  wf_real *yh;        /* [N] |y_i|^2 / 2 */
  int pairs_steps;    /* OTS steps recorded for FIT (0: none) */
  int pairs_m;        /* their batch size */
  uint64_t z_counter; /* the generator stream's counter at the first of them */
  wf_replay ots_step, fit_first, fit_mid, fit_last; /* recorded steps */
} ots_state;

/* what one OTS step or one FIT step works on */
typedef struct {
  int m, cost, source, record, bins;
  wf_opt_spec opt;  /* psi's optimiser (OTS) */
  wf_real *z;       /* [m x latent] */
  wf_real *a;       /* [m x d] the batch (source rows) */
  int *src_idx;     /* [m] source rows drawn */
  int *idx;         /* [m] the assignment */
  wf_real *val;     /* [m] min_i c - psi_i */
  wf_real *target;  /* [m x d] y[idx] */
  wf_real *hist;    /* [bins] this check's assignment histogram */
  int *pairs;       /* [max steps x m] the recorded targets */
  double *slot;     /* FIT: where its loss goes */
} ots_step;

static wf_status init(wf_trainer *t) {
  ots_state *st = t->state;
  const wf_data *y = &t->data[DATA];
  if (t->algo->data[1] == NULL && wf_net_out(t->nets[GEN]) != y->d)
    return wf_trainer_fail(t, WF_ERR_ARG, "the generator outputs %d columns, the data has %d",
                           wf_net_out(t->nets[GEN]), y->d);
  if (t->n_data > SOURCE && t->data[SOURCE].d != y->d)
    return wf_trainer_fail(t, WF_ERR_ARG, "the source has %d columns, the data %d",
                           t->data[SOURCE].d, y->d);
  size_t n = (size_t)y->n;
  wf_block *b = &st->psi;
  b->n = n;
  b->params = wf_trainer_buffer(t, "psi", n);
  b->grad = wf_trainer_buffer(t, "psi_grad", n);
  b->m1 = wf_trainer_buffer(t, "psi_m1", n);
  b->m2 = wf_trainer_buffer(t, "psi_m2", n);
  st->kept[0] = wf_trainer_buffer(t, "psi_kept", n);
  st->kept[1] = wf_trainer_buffer(t, "psi_kept_m1", n);
  st->kept[2] = wf_trainer_buffer(t, "psi_kept_m2", n);
  st->yh = wf_trainer_buffer(t, "yh", n);
  st->own = wf_device_alloc_scalars(t->dev, N_OWN);
  if (!b->params || !b->grad || !b->m1 || !b->m2 || !st->kept[0] || !st->kept[1] ||
      !st->kept[2] || !st->yh || !st->own)
    return wf_trainer_fail(t, WF_ERR_NOMEM, "out of device memory for the dual vector");
  b->step_dev = st->own + P_PSI_STEP;
  b->step = 0;
  const wf_backend *be = WF_BE(t->dev);
  wf_ctx *ctx = WF_CTX(t->dev);
  be->fill(ctx, b->params, n, 0); /* psi = 0 at the first outer iteration */
  be->fill(ctx, b->grad, n, 0);
  be->fill(ctx, b->m1, n, 0);
  be->fill(ctx, b->m2, n, 0);
  be->row_sq_norm(ctx, y->x, y->n, y->d, st->yh);
  be->scal(ctx, n, (wf_real)0.5, st->yh);
  return WF_OK;
}

static void release(wf_trainer *t) {
  ots_state *st = t->state;
  wf_device_free(t->dev, st->own); /* the named buffers go with the trainer */
}

/* the batch a [m x d]: G(z) for fresh latents (source 0) or rows of the
 * source set drawn with replacement (source 1) */
static wf_status draw_batch(wf_trainer *t, const ots_step *c, const wf_real **a) {
  wf_net *gen = t->nets[GEN];
  if (c->source) {
    const wf_data *x = &t->data[SOURCE];
    WF_TRY_NET(t, gen, wf_net_random_index(gen, c->src_idx, (size_t)c->m, x->n));
    WF_BE(t->dev)->gather_rows(WF_CTX(t->dev), x->x, x->d, c->src_idx, c->m, c->a);
    *a = c->a;
    return WF_OK;
  }
  WF_TRY_NET(t, gen, wf_net_normal(gen, c->z, (size_t)c->m * wf_net_in(gen)));
  WF_TRY_NET(t, gen, wf_mlp_forward(gen, c->z, c->m, 0, NULL));
  *a = wf_mlp_output(gen);
  return WF_OK;
}

/* the mean cost of a [m x d] against target: |.|_1 or |.|^2 / 2 */
static wf_loss_spec cost_loss(int cost, int m, double scale) {
  wf_loss_spec ls = {cost == WF_COST_L1 ? WF_LOSS_L1 : WF_LOSS_MSE,
                     (cost == WF_COST_L1 ? 1.0 : 0.5) * scale / m, 0.0, 0};
  return ls;
}

/* One step of the dual ascent: assign a batch, its dual and primal terms
 * into the slots, the gradient 1/N - count/B as count/B - 1/N for the
 * optimiser's descent, one step, the histogram, the recorded pair. */
static wf_status ots_step_run(wf_trainer *t, void *data) {
  const ots_step *c = data;
  ots_state *st = t->state;
  const wf_data *y = &t->data[DATA];
  const wf_backend *be = WF_BE(t->dev);
  wf_ctx *ctx = WF_CTX(t->dev);
  const wf_real *a = NULL;
  WF_TRY(draw_batch(t, c, &a));
  be->ot_assign(ctx, (wf_cost_kind)c->cost, a, c->m, y->x, y->n, y->d, st->yh,
                st->psi.params, c->idx, c->val);
  wf_loss_spec mean_m = {WF_LOSS_LINEAR, 1.0 / c->m, 1.0, 0};
  wf_loss_spec mean_n = {WF_LOSS_LINEAR, 1.0 / y->n, 1.0, 0};
  be->loss(ctx, &mean_m, c->val, NULL, (size_t)c->m, NULL, t->slots + S_DUAL);
  be->loss(ctx, &mean_n, st->psi.params, NULL, (size_t)y->n, NULL, t->slots + S_PSI);
  be->gather_rows(ctx, y->x, y->d, c->idx, c->m, c->target);
  wf_loss_spec primal = cost_loss(c->cost, c->m, 1.0);
  be->loss(ctx, &primal, a, c->target, (size_t)c->m * y->d, NULL, t->slots + S_PRIMAL);
  be->fill(ctx, st->psi.grad, (size_t)y->n, (wf_real)(-1.0 / y->n));
  be->index_count(ctx, c->idx, c->m, y->n, y->n, (wf_real)(1.0 / c->m), st->psi.grad);
  WF_TRY(wf_block_step(&st->psi, t->dev, &c->opt, t->msg));
  be->index_count(ctx, c->idx, c->m, y->n, c->bins, (wf_real)1, c->hist);
  if (c->record) be->copy_ints_at(ctx, c->pairs, st->own + P_PAIRS_POS, c->idx, NULL,
                                  (size_t)c->m);
  return WF_OK;
}

/* psi's optimiser from the phase's arguments psi_opt (an optimiser name),
 * psi_lr, psi_beta1, psi_beta2, psi_eps, psi_momentum, psi_weight_decay */
static wf_status psi_opt(wf_trainer *t, const wf_args *a, wf_opt_spec *o) {
  int kind;
  memset(o, 0, sizeof(*o));
  WF_TRY(wf_arg_choice(t, a, "psi_opt", "optimizer", &kind));
  o->kind = (wf_opt_kind)kind;
  WF_TRY(wf_arg_num(t, a, "psi_lr", 0, INFINITY, &o->lr));
  WF_TRY(wf_arg_num(t, a, "psi_beta1", 0, 0.999999, &o->beta1));
  WF_TRY(wf_arg_num(t, a, "psi_beta2", 0, 0.999999, &o->beta2));
  WF_TRY(wf_arg_num(t, a, "psi_eps", 1e-300, INFINITY, &o->eps));
  WF_TRY(wf_arg_num(t, a, "psi_momentum", 0, INFINITY, &o->momentum));
  WF_TRY(wf_arg_num(t, a, "psi_weight_decay", 0, INFINITY, &o->weight_decay));
  char msg[WF_MSG_LEN];
  if (wf_opt_check(o, msg) != WF_OK) return wf_trainer_fail(t, WF_ERR_ARG, "psi: %s", msg);
  return WF_OK;
}

/* the phase's source: 1 (the source set) needs one; 0 (the generator)
 * needs a generator with the data's width */
static wf_status check_source(wf_trainer *t, int source) {
  if (source && t->n_data <= SOURCE)
    return wf_trainer_fail(t, WF_ERR_ARG, "`source` = 1 needs a source sample");
  if (!source && wf_net_out(t->nets[GEN]) != t->data[DATA].d)
    return wf_trainer_fail(t, WF_ERR_ARG, "the generator outputs %d columns, the data has %d",
                           wf_net_out(t->nets[GEN]), t->data[DATA].d);
  return WF_OK;
}

/* Bin b of `bins` over N indices holds i with floor(i bins / N) = b: from
 * ceil(b N / bins) to ceil((b + 1) N / bins) - 1. */
static double bin_size(int b, int bins, int n) {
  long long lo = ((long long)b * n + bins - 1) / bins;
  long long hi = ((long long)(b + 1) * n + bins - 1) / bins;
  return (double)(hi - lo);
}

/* The dual's state (psi, both moments, the step) before an OTS phase is
 * kept on the device (copies, no host transfer) and put back when the
 * phase fails on a dual that is not finite: the trainer's dual is always
 * the last good one, and R copies it up once per run, not per phase. */
static void keep_dual(ots_state *st, const wf_trainer *t) {
  const wf_backend *be = WF_BE(t->dev);
  wf_real *live[3] = {st->psi.params, st->psi.m1, st->psi.m2};
  for (int i = 0; i < 3; i++) be->copy(WF_CTX(t->dev), st->kept[i], live[i], st->psi.n);
}

static void restore_dual(ots_state *st, wf_trainer *t, double step) {
  const wf_backend *be = WF_BE(t->dev);
  wf_real *live[3] = {st->psi.params, st->psi.m1, st->psi.m2};
  for (int i = 0; i < 3; i++) be->copy(WF_CTX(t->dev), live[i], st->kept[i], st->psi.n);
  char msg[WF_MSG_LEN];
  if (wf_block_set_step(&st->psi, t->dev, step, msg) == WF_OK) st->psi.step = step;
}

/* args: batch_size, cost ("l2", "l1"), max_steps, check_every, window
 * (steps, a multiple of check_every), bins, low, high, record (0/1),
 * source (0/1), psi_* (its optimiser). Outputs: the dual and primal means
 * over the last check's steps, the histogram's smallest and largest ratio
 * to its expected counts over the last window (or what there is of it),
 * steps, whether the rule fired, psi's optimiser steps so far. */
static wf_status ots_phase(wf_trainer *t, const wf_args *a, double *out) {
  ots_state *st = t->state;
  ots_step c;
  memset(&c, 0, sizeof(c));
  const wf_data *y = &t->data[DATA];
  int max_steps, every, window, bins;
  double low, high;
  WF_TRY(wf_arg_int(t, a, "batch_size", 1, 1 << 24, &c.m));
  WF_TRY(wf_arg_choice(t, a, "cost", "cost", &c.cost));
  WF_TRY(wf_arg_int(t, a, "max_steps", 1, 1 << 24, &max_steps));
  WF_TRY(wf_arg_int(t, a, "check_every", 1, 1 << 24, &every));
  WF_TRY(wf_arg_int(t, a, "window", 1, 1 << 26, &window));
  WF_TRY(wf_arg_int(t, a, "bins", 1, 1 << 24, &bins));
  WF_TRY(wf_arg_num(t, a, "low", 0, INFINITY, &low));
  WF_TRY(wf_arg_num(t, a, "high", 0, INFINITY, &high));
  WF_TRY(wf_arg_int(t, a, "record", 0, 1, &c.record));
  WF_TRY(wf_arg_int(t, a, "source", 0, 1, &c.source));
  WF_TRY(psi_opt(t, a, &c.opt));
  WF_TRY(check_source(t, c.source));
  if (window % every != 0)
    return wf_trainer_fail(t, WF_ERR_ARG, "`window` (%d) must be a multiple of `check_every` (%d)",
                           window, every);
  if (bins > y->n) bins = y->n;
  c.bins = bins;
  int m = c.m, d = y->d, dz = wf_net_in(t->nets[GEN]);
  c.z = wf_trainer_buffer(t, "z", (size_t)m * dz);              /* [m x dz] */
  c.a = wf_trainer_buffer(t, "a", (size_t)m * d);               /* [m x d] */
  c.src_idx = wf_trainer_ints(t, "src_idx", (size_t)m);         /* [m] */
  c.idx = wf_trainer_ints(t, "idx", (size_t)m);                 /* [m] */
  c.val = wf_trainer_buffer(t, "val", (size_t)m);               /* [m] */
  c.target = wf_trainer_buffer(t, "target", (size_t)m * d);     /* [m x d] */
  c.hist = wf_trainer_buffer(t, "hist", (size_t)bins);          /* [bins] */
  c.pairs = c.record ? wf_trainer_ints(t, "pairs", (size_t)max_steps * m) : NULL;
  if (!c.z || !c.a || !c.src_idx || !c.idx || !c.val || !c.target || !c.hist ||
      (c.record && !c.pairs))
    return WF_ERR_NOMEM;
  /* the ring of the window's histograms, on the host */
  const int chunks = window / every;
  double *ring = calloc((size_t)chunks * bins + bins, sizeof(double));
  int *ring_steps = calloc((size_t)chunks, sizeof(int));
  if (ring == NULL || ring_steps == NULL) {
    free(ring);
    free(ring_steps);
    return wf_trainer_fail(t, WF_ERR_NOMEM, "out of memory");
  }
  double *h = ring + (size_t)chunks * bins; /* [bins] one check's download */
  st->pairs_steps = 0;
  double kept_step = st->psi.step;
  keep_dual(st, t);
  uint64_t key0;
  wf_net_get_rng(t->nets[GEN], &key0, &st->z_counter);
  const wf_backend *be = WF_BE(t->dev);
  wf_ctx *ctx = WF_CTX(t->dev);
  wf_status rc = WF_OK;
  if (c.record) {
    double zero = 0;
    rc = wf_device_write_scalars(t->dev, st->own + P_PAIRS_POS, &zero, 1);
    if (rc != WF_OK) snprintf(t->msg, WF_MSG_LEN, "%s", wf_device_message(t->dev));
  }
  double key[] = {m, c.cost, c.source, c.record, bins, c.opt.kind, c.opt.lr,
                  c.opt.beta1, c.opt.beta2, c.opt.eps, c.opt.momentum, c.opt.weight_decay};
  int done = 0, stopped = 0, filled = 0;
  double s[3] = {NAN, NAN, NAN}, rmin = NAN, rmax = NAN;
  while (rc == WF_OK && done < max_steps && !stopped) {
    int n = max_steps - done < every ? max_steps - done : every;
    wf_trainer_zero_slots(t, 3);
    be->fill(ctx, c.hist, (size_t)bins, 0);
    rc = wf_trainer_repeat(t, &st->ots_step, n, key, 12, ots_step_run, &c);
    if (rc != WF_OK) break;
    done += n;
    rc = wf_trainer_read_slots(t, s, 3);
    if (rc == WF_OK) rc = wf_device_download(t->dev, h, c.hist, (size_t)bins);
    if (rc != WF_OK) {
      snprintf(t->msg, WF_MSG_LEN, "%s", wf_device_message(t->dev));
      break;
    }
    s[0] = (s[0] + s[1]) / n; /* the dual: mean min_i (c - psi_i) + mean psi */
    s[2] /= n;
    if (!isfinite(s[0]) || !isfinite(s[2])) {
      rc = wf_trainer_fail(t, WF_ERR_NUMERIC, "the dual or the transport cost is not finite");
      break;
    }
    /* the newest check replaces the oldest in the ring */
    int slot = (done - n) / every % chunks;
    memcpy(ring + (size_t)slot * bins, h, sizeof(double) * bins);
    ring_steps[slot] = n;
    filled = filled < chunks ? filled + 1 : chunks;
    double total_steps = 0;
    for (int k = 0; k < chunks; k++) total_steps += ring_steps[k];
    rmin = INFINITY, rmax = 0;
    for (int b = 0; b < bins; b++) {
      double count = 0;
      for (int k = 0; k < chunks; k++) count += ring[(size_t)k * bins + b];
      double expect = total_steps * m * bin_size(b, bins, y->n) / y->n;
      double r = count / expect;
      if (r < rmin) rmin = r;
      if (r > rmax) rmax = r;
    }
    /* the rule needs a whole window */
    if (filled == chunks && total_steps == window && rmin >= low && rmax <= high)
      stopped = 1;
  }
  free(ring);
  free(ring_steps);
  if (rc == WF_ERR_NUMERIC) restore_dual(st, t, kept_step);
  if (rc != WF_OK) return rc;
  double step;
  WF_TRY(wf_device_read_scalars(t->dev, &step, st->own + P_PSI_STEP, 1));
  st->psi.step = step;
  if (c.record) {
    st->pairs_steps = done;
    st->pairs_m = m;
  }
  out[0] = s[0];
  out[1] = s[2];
  out[2] = rmin;
  out[3] = rmax;
  out[4] = done;
  out[5] = stopped;
  out[6] = step;
  return WF_OK;
}

/* One FIT step on the next recorded pair batch: its latents drawn again
 * from the generator's stream at the recorded position, its targets read
 * from the list; one optimiser step on the cost; the loss into c->slot. */
static wf_status fit_step_run(wf_trainer *t, void *data) {
  const ots_step *c = data;
  ots_state *st = t->state;
  wf_net *gen = t->nets[GEN];
  const wf_data *y = &t->data[DATA];
  const wf_backend *be = WF_BE(t->dev);
  wf_ctx *ctx = WF_CTX(t->dev);
  be->normal(ctx, c->z, (size_t)c->m * wf_net_in(gen), gen->key, st->own + P_FIT_COUNTER);
  be->copy_ints_at(ctx, c->idx, NULL, c->pairs, st->own + P_FIT_POS, (size_t)c->m);
  be->gather_rows(ctx, y->x, y->d, c->idx, c->m, c->target);
  wf_loss_spec ls = cost_loss(c->cost, c->m, 1.0);
  WF_TRY_NET(t, gen, wf_regress_step(gen, c->z, c->m, c->target, &ls, &t->opts[GEN],
                                     c->slot));
  return WF_OK;
}

/* args: cost ("l2", "l1"), passes, share (the fraction of steps at each
 * end whose mean loss is reported). Outputs: the mean loss of the first
 * and of the last `share` of the steps (before each step), steps. */
static wf_status fit_phase(wf_trainer *t, const wf_args *a, double *out) {
  ots_state *st = t->state;
  ots_step c;
  memset(&c, 0, sizeof(c));
  int passes;
  double share;
  WF_TRY(wf_arg_choice(t, a, "cost", "cost", &c.cost));
  WF_TRY(wf_arg_int(t, a, "passes", 1, 1 << 20, &passes));
  WF_TRY(wf_arg_num(t, a, "share", 0, 0.5, &share));
  if (st->pairs_steps < 1)
    return wf_trainer_fail(t, WF_ERR_STATE, "fit needs an OTS phase that recorded pairs first");
  int m = c.m = st->pairs_m, d = t->data[DATA].d;
  c.z = wf_trainer_buffer(t, "z", (size_t)m * wf_net_in(t->nets[GEN]));
  c.idx = wf_trainer_ints(t, "idx", (size_t)m);
  c.target = wf_trainer_buffer(t, "target", (size_t)m * d);
  c.pairs = wf_trainer_ints(t, "pairs", (size_t)st->pairs_steps * m);
  if (!c.z || !c.idx || !c.target || !c.pairs) return WF_ERR_NOMEM;
  long total = (long)st->pairs_steps * passes;
  long n_end = (long)ceil(share * total);
  if (n_end < 1) n_end = 1;
  if (2 * n_end > total) n_end = total / 2 > 0 ? total / 2 : 1;
  wf_trainer_zero_slots(t, N_SLOTS);
  long done = 0;
  for (int p = 0; p < passes; p++) {
    /* back to the start of the recorded pairs and of their latents */
    double pos[2] = {0, (double)st->z_counter};
    wf_status rc = wf_device_write_scalars(t->dev, st->own + P_FIT_POS, pos, 2);
    if (rc != WF_OK) return wf_trainer_fail(t, rc, "%s", wf_device_message(t->dev));
    long left = st->pairs_steps;
    while (left > 0) {
      /* the first n_end steps, the middle, the last n_end: one record each */
      wf_replay *r;
      long n;
      int seg;
      if (done < n_end) {
        n = n_end - done, c.slot = t->slots + S_FIT_FIRST, r = &st->fit_first, seg = 0;
      } else if (done < total - n_end) {
        n = total - n_end - done, c.slot = t->slots + S_FIT_MID, r = &st->fit_mid, seg = 1;
      } else {
        n = total - done, c.slot = t->slots + S_FIT_LAST, r = &st->fit_last, seg = 2;
      }
      if (n > left) n = left;
      double key[] = {m, c.cost, seg};
      WF_TRY(wf_trainer_repeat(t, r, (int)n, key, 3, fit_step_run, &c));
      done += n;
      left -= n;
    }
  }
  double s[N_SLOTS];
  WF_TRY(wf_trainer_read_slots(t, s, N_SLOTS));
  if (total == 1) s[S_FIT_LAST] = s[S_FIT_FIRST];
  out[0] = s[S_FIT_FIRST] / n_end;
  out[1] = s[S_FIT_LAST] / (total == 1 ? 1 : n_end);
  out[2] = (double)total;
  if (!isfinite(out[0]) || !isfinite(out[1]))
    return wf_trainer_fail(t, WF_ERR_NUMERIC, "the generator's loss is not finite");
  return WF_OK;
}

/* args: cost, batch_size (rows per assignment call), source (0/1), n and
 * key0, key1 (source 0: n points G(z), z from the stream keyed by key).
 * Buffers: "assignment" ints [n], "assign_x" [n x d] (source 0). Outputs:
 * the dual mean_j min_i (c - psi_i) + mean psi and the primal
 * mean_j c(a_j, y_idx) over the whole source, n. */
static wf_status assign_phase(wf_trainer *t, const wf_args *a, double *out) {
  ots_state *st = t->state;
  const wf_data *y = &t->data[DATA];
  int cost, source, m, n;
  double k0 = 0, k1 = 0;
  WF_TRY(wf_arg_choice(t, a, "cost", "cost", &cost));
  WF_TRY(wf_arg_int(t, a, "source", 0, 1, &source));
  WF_TRY(wf_arg_int(t, a, "batch_size", 1, 1 << 24, &m));
  WF_TRY(check_source(t, source));
  if (source) {
    n = t->data[SOURCE].n;
  } else {
    WF_TRY(wf_arg_int(t, a, "n", 1, 1 << 28, &n));
    WF_TRY(wf_arg_num(t, a, "key0", 0, 4294967295.0, &k0));
    WF_TRY(wf_arg_num(t, a, "key1", 0, 4294967295.0, &k1));
  }
  int d = y->d;
  int *assignment = wf_trainer_ints(t, "assignment", (size_t)n);   /* [n] */
  wf_real *val = wf_trainer_buffer(t, "assign_val", (size_t)n);    /* [n] */
  wf_real *target = wf_trainer_buffer(t, "target", (size_t)m * d); /* [m x d] */
  wf_real *x = source ? t->data[SOURCE].x : wf_trainer_buffer(t, "assign_x", (size_t)n * d);
  if (!assignment || !val || !target || !x) return WF_ERR_NOMEM;
  if (!source) {
    uint64_t key = (uint64_t)k0 | ((uint64_t)k1 << 32);
    WF_TRY_NET(t, t->nets[GEN], wf_generate(t->nets[GEN], n, key, x));
  }
  const wf_backend *be = WF_BE(t->dev);
  wf_ctx *ctx = WF_CTX(t->dev);
  wf_trainer_zero_slots(t, 3);
  wf_loss_spec mean_n = {WF_LOSS_LINEAR, 1.0 / y->n, 1.0, 0};
  be->loss(ctx, &mean_n, st->psi.params, NULL, (size_t)y->n, NULL, t->slots + S_PSI);
  for (int j0 = 0; j0 < n; j0 += m) {
    WF_TRY(wf_trainer_check_abort(t));
    int mj = n - j0 < m ? n - j0 : m;
    const wf_real *xj = x + (size_t)j0 * d;
    be->ot_assign(ctx, (wf_cost_kind)cost, xj, mj, y->x, y->n, d, st->yh, st->psi.params,
                  assignment + j0, val + j0);
    be->gather_rows(ctx, y->x, d, assignment + j0, mj, target);
    wf_loss_spec primal = cost_loss(cost, n, 1.0);
    be->loss(ctx, &primal, xj, target, (size_t)mj * d, NULL, t->slots + S_PRIMAL);
  }
  wf_loss_spec mean_val = {WF_LOSS_LINEAR, 1.0 / n, 1.0, 0};
  be->loss(ctx, &mean_val, val, NULL, (size_t)n, NULL, t->slots + S_DUAL);
  double s[3];
  WF_TRY(wf_trainer_read_slots(t, s, 3));
  out[0] = s[S_DUAL] + s[S_PSI];
  out[1] = s[S_PRIMAL];
  out[2] = n;
  if (!isfinite(out[0]) || !isfinite(out[1]))
    return wf_trainer_fail(t, WF_ERR_NUMERIC, "the dual or the transport cost is not finite");
  return WF_OK;
}

/* args: psi_step (the dual's optimiser steps, restoring a saved state) */
static wf_status restore_phase(wf_trainer *t, const wf_args *a, double *out) {
  ots_state *st = t->state;
  double step;
  WF_TRY(wf_arg_num(t, a, "psi_step", 0, 9007199254740992.0, &step));
  if (step != floor(step))
    return wf_trainer_fail(t, WF_ERR_ARG, "`psi_step` must be a whole number, not %g", step);
  if (wf_block_set_step(&st->psi, t->dev, step, t->msg) != WF_OK) return WF_ERR_DEVICE;
  out[0] = step;
  return WF_OK;
}

static const wf_phase phases[] = {
    {"ots", ots_phase,
     {"dual", "primal", "hist_min", "hist_max", "ots_steps", "ots_converged", "psi_step",
      NULL}},
    {"fit", fit_phase, {"fit_loss_first", "fit_loss_last", "fit_steps", NULL}},
    {"assign", assign_phase, {"dual", "primal", "n", NULL}},
    {"restore", restore_phase, {"psi_step", NULL}},
    {NULL, NULL, {NULL}}};

const wf_algo wf_algo_ots = {
    .name = "ots",
    .nets = {"generator", NULL},
    .data = {"data", NULL},
    .state_size = sizeof(ots_state),
    .init = init,
    .free = release,
    .phases = phases,
};

const wf_algo wf_algo_semidiscrete = {
    .name = "semidiscrete",
    .nets = {"generator", NULL},
    .data = {"data", "source", NULL},
    .state_size = sizeof(ots_state),
    .init = init,
    .free = release,
    .phases = phases,
};
