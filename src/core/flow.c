/* flow.c — the three routines of a W1-FE epoch (Malik & Huang, Alg. 1):
 * critic training, the forward-Euler step, and persistent fitting. R drives
 * the epochs; each routine runs a whole phase without returning to R.
 *
 * Sign: our critic phi maximises mean phi(data) - mean phi(G z), so it is
 * high on the data and the flow moves samples up its gradient:
 * zeta = G(z) + eps grad phi(G(z)). This is the paper's
 * zeta = G(z) - eps grad psi with psi = -phi its Kantorovich potential from
 * the generated law to the data, and it makes Proposition 4.1 hold: one
 * SGD step on the regression equals the WGAN generator step (ascending
 * mean phi(G z)) with learning rate 2 eps gamma. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "net.h"

struct wf_flow {
  wf_net *critic, *gen;
  char msg[WF_MSG_LEN];
  int n, d, latent;
  wf_real *data;  /* [n x d] training data on the device */
  int cap;        /* rows the batch buffers hold */
  wf_real *u;     /* [cap] uniforms for the data batch */
  wf_real *real;  /* [cap x d] data batch */
  wf_real *z;     /* [cap x latent] latents of the Euler step */
  wf_real *y;     /* [cap x d] generated samples */
  wf_real *zeta;  /* [cap x d] frozen Euler targets */
  wf_real *g;     /* [cap x d] grad phi at y */
  wf_real *dy;    /* [cap x d] output adjoint of the generator */
  int m;          /* rows of the current z / zeta (0: none yet) */
};

static wf_status flow_fail(wf_flow *f, wf_status rc, const char *msg) {
  snprintf(f->msg, WF_MSG_LEN, "%s", msg);
  return rc;
}

/* a failed net call: copy its message into the flow's */
#define NET_TRY(f, net, expr)                                     \
  do {                                                            \
    wf_status rc_ = (expr);                                       \
    if (rc_ != WF_OK) return flow_fail((f), rc_, wf_net_message(net)); \
  } while (0)

const char *wf_flow_message(const wf_flow *flow) { return flow->msg; }

static void release_batch(wf_flow *f) {
  const wf_backend *be = f->critic->be;
  wf_real **bufs[] = {&f->u, &f->real, &f->z, &f->y, &f->zeta, &f->g, &f->dy};
  for (size_t i = 0; i < sizeof(bufs) / sizeof(bufs[0]); i++) {
    be->release(*bufs[i]);
    *bufs[i] = NULL;
  }
  f->cap = 0;
  f->m = 0;
}

static wf_status reserve_batch(wf_flow *f, int m) {
  if (m <= f->cap) return WF_OK;
  release_batch(f);
  const wf_backend *be = f->critic->be;
  size_t md = (size_t)m * f->d, sz = sizeof(wf_real);
  f->u = be->alloc((size_t)m * sz);
  f->real = be->alloc(md * sz);
  f->z = be->alloc((size_t)m * f->latent * sz);
  f->y = be->alloc(md * sz);
  f->zeta = be->alloc(md * sz);
  f->g = be->alloc(md * sz);
  f->dy = be->alloc(md * sz);
  if (!f->u || !f->real || !f->z || !f->y || !f->zeta || !f->g || !f->dy) {
    release_batch(f);
    return flow_fail(f, WF_ERR_NOMEM, "out of memory for the batch buffers");
  }
  f->cap = m;
  return WF_OK;
}

wf_status wf_flow_create(wf_net *critic, wf_net *gen, const double *data,
                         int n, wf_flow **out, char *msg) {
  *out = NULL;
  const wf_mlp_spec *cs = &critic->spec, *gs = &gen->spec;
  int d = cs->widths[0];
  if (critic->be != gen->be) {
    snprintf(msg, WF_MSG_LEN, "critic and generator are on different devices");
    return WF_ERR_ARG;
  }
  if (cs->widths[cs->n_layers] != 1) {
    snprintf(msg, WF_MSG_LEN, "the critic must have one output");
    return WF_ERR_ARG;
  }
  if (gs->widths[gs->n_layers] != d) {
    snprintf(msg, WF_MSG_LEN, "the generator outputs %d columns, the data has %d",
             gs->widths[gs->n_layers], d);
    return WF_ERR_ARG;
  }
  if (n < 1) {
    snprintf(msg, WF_MSG_LEN, "no training data");
    return WF_ERR_ARG;
  }
  wf_flow *f = calloc(1, sizeof(wf_flow));
  if (f == NULL) {
    snprintf(msg, WF_MSG_LEN, "out of memory");
    return WF_ERR_NOMEM;
  }
  f->critic = critic;
  f->gen = gen;
  f->n = n;
  f->d = d;
  f->latent = gs->widths[0];
  f->data = critic->be->alloc((size_t)n * d * sizeof(wf_real));
  wf_status rc = f->data == NULL ? WF_ERR_NOMEM
                                 : critic->be->upload(f->data, data, (size_t)n * d);
  if (rc != WF_OK) {
    snprintf(msg, WF_MSG_LEN, "could not place %d x %d data on the device", n, d);
    wf_flow_free(f);
    return rc;
  }
  *out = f;
  return WF_OK;
}

void wf_flow_free(wf_flow *flow) {
  if (flow == NULL) return;
  release_batch(flow);
  flow->critic->be->release(flow->data);
  free(flow);
}

/* y = G(z) for m fresh latents from the generator's stream */
static wf_status generate_batch(wf_flow *f, int m) {
  NET_TRY(f, f->gen, wf_net_normal(f->gen, f->z, (size_t)m * f->latent));
  NET_TRY(f, f->gen, wf_mlp_forward(f->gen, f->z, m, 1, f->y));
  return WF_OK;
}

static wf_status check_batch(wf_flow *f, int m) {
  if (m < 1) return flow_fail(f, WF_ERR_ARG, "the batch size must be >= 1");
  return reserve_batch(f, m);
}

wf_status wf_flow_critic(wf_flow *f, int m, int steps, wf_penalty penalty,
                         double lambda, const wf_opt_spec *opt, double clip,
                         wf_critic_report *mean) {
  wf_status rc = check_batch(f, m);
  if (rc != WF_OK) return rc;
  if (steps < 1) return flow_fail(f, WF_ERR_ARG, "critic steps must be >= 1");
  const wf_backend *be = f->critic->be;
  wf_critic_report sum = {0, 0, 0, 0}, rep;
  for (int s = 0; s < steps; s++) {
    if (wf_should_abort()) return flow_fail(f, WF_ERR_INTERRUPT, "interrupted");
    NET_TRY(f, f->critic, wf_net_uniform(f->critic, f->u, (size_t)m));
    be->sample_rows(f->data, f->n, f->d, f->u, m, f->real);
    rc = generate_batch(f, m);
    if (rc != WF_OK) return rc;
    NET_TRY(f, f->critic, wf_critic_step(f->critic, f->real, f->y, m, NULL,
                                         penalty, lambda, opt, clip, &rep));
    sum.loss += rep.loss;
    sum.w1 += rep.w1;
    sum.penalty += rep.penalty;
    sum.grad_norm += rep.grad_norm;
  }
  mean->loss = sum.loss / steps;
  mean->w1 = sum.w1 / steps;
  mean->penalty = sum.penalty / steps;
  mean->grad_norm = sum.grad_norm / steps; /* NaN without a penalty */
  return WF_OK;
}

wf_status wf_flow_euler(wf_flow *f, int m, double step_size, double *grad_norm) {
  wf_status rc = check_batch(f, m);
  if (rc != WF_OK) return rc;
  if (!(step_size >= 0) || !isfinite(step_size))
    return flow_fail(f, WF_ERR_ARG, "the step size must be finite and >= 0");
  const wf_backend *be = f->critic->be;
  rc = generate_batch(f, m);
  if (rc != WF_OK) return rc;
  NET_TRY(f, f->critic, wf_mlp_forward(f->critic, f->y, m, 1, NULL));
  NET_TRY(f, f->critic, wf_mlp_input_grad(f->critic, NULL, f->g));
  size_t md = (size_t)m * f->d;
  be->copy(f->zeta, f->y, md);
  be->axpy(md, (wf_real)step_size, f->g, f->zeta);
  *grad_norm = be->mean_row_norm(f->g, m, f->d);
  f->m = m;
  NET_TRY(f, f->critic, wf_net_sync_error(f->critic));
  if (!isfinite(*grad_norm))
    return flow_fail(f, WF_ERR_NUMERIC, "the critic's gradient is not finite");
  return WF_OK;
}

/* one generator update towards zeta (mode 0) or down -mean phi (mode 1);
 * *loss is the loss before the update */
static wf_status fit_step(wf_flow *f, const wf_opt_spec *opt, int mode,
                          double *loss) {
  const wf_backend *be = f->critic->be;
  int m = f->m;
  NET_TRY(f, f->gen, wf_net_zero_grad(f->gen));
  NET_TRY(f, f->gen, wf_mlp_forward(f->gen, f->z, m, 1, f->y));
  if (mode == 0) {
    be->mse_grad(f->y, f->zeta, m, f->d, f->dy, loss);
  } else {
    /* -mean phi(y): dy = d/dy sum(-(1/m) phi(y)) */
    NET_TRY(f, f->critic, wf_mlp_forward(f->critic, f->y, m, 1, f->g));
    *loss = -be->dot(f->g, NULL, (size_t)m) / m;
    be->fill(f->u, (size_t)m, (wf_real)(-1.0 / m));
    NET_TRY(f, f->critic, wf_mlp_input_grad(f->critic, f->u, f->dy));
  }
  if (!isfinite(*loss))
    return flow_fail(f, WF_ERR_NUMERIC, "the generator's loss is not finite");
  NET_TRY(f, f->gen, wf_mlp_backward(f->gen, f->dy, NULL));
  NET_TRY(f, f->gen, wf_net_opt_step(f->gen, opt));
  return WF_OK;
}

wf_status wf_flow_fit(wf_flow *f, int K, const wf_opt_spec *opt, int mode,
                      double *loss_first, double *loss_last) {
  if (f->m < 1) return flow_fail(f, WF_ERR_STATE, "fit needs an Euler step first");
  if (K < 1) return flow_fail(f, WF_ERR_ARG, "the persistency K must be >= 1");
  if (mode != 0 && mode != 1) return flow_fail(f, WF_ERR_ARG, "unknown fit mode");
  for (int k = 0; k < K; k++) {
    if (wf_should_abort()) return flow_fail(f, WF_ERR_INTERRUPT, "interrupted");
    double loss;
    wf_status rc = fit_step(f, opt, mode, &loss);
    if (rc != WF_OK) return rc;
    if (k == 0) *loss_first = loss;
    *loss_last = loss;
  }
  return WF_OK;
}

wf_status wf_generate(wf_net *gen, int n, uint64_t key, wf_real *out) {
  if (n < 1) return wf_fail(gen, WF_ERR_ARG, "n must be >= 1");
  uint64_t old_key, old_ctr;
  wf_net_get_rng(gen, &old_key, &old_ctr);
  wf_real *z = wf_net_alloc(gen, (size_t)n * gen->spec.widths[0]);
  if (z == NULL) return wf_fail(gen, WF_ERR_NOMEM, "out of memory for %d latents", n);
  wf_net_set_rng(gen, key, 0);
  wf_status rc = wf_net_normal(gen, z, (size_t)n * gen->spec.widths[0]);
  wf_net_set_rng(gen, old_key, old_ctr);
  if (rc == WF_OK) rc = wf_mlp_forward(gen, z, n, 0, out);
  wf_net_release(gen, z);
  return rc;
}
