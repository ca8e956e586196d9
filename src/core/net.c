/* net.c — creating, cloning, aliasing and freeing nets; host <-> device
 * copies of their parameters and state. */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "net.h"
#include "stack.h"
#include "philox.h"

wf_status wf_fail(wf_net *net, wf_status status, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(net->msg, WF_MSG_LEN, fmt, ap);
  va_end(ap);
  return status;
}

const char *wf_net_message(const wf_net *net) { return net->msg; }
const wf_mlp_spec *wf_net_spec(const wf_net *net) { return &net->spec; }
const wf_layout *wf_net_layout(const wf_net *net) { return &net->layout; }
wf_device *wf_net_device(const wf_net *net) { return net->dev; }
wf_block *wf_net_block(wf_net *net) { return &net->p->block; }
int wf_net_in(const wf_net *net) { return net->spec.widths[0]; }
int wf_net_out(const wf_net *net) { return net->spec.widths[net->spec.n_layers]; }

static int is_activation(int a) { return a >= 0 && a < WF_ACT_COUNT; }

wf_status wf_mlp_check(const wf_mlp_spec *s, char *msg) {
  if (s->n_layers < 1 || s->n_layers > WF_MAX_LAYERS)
    return wf_fail_msg(msg, WF_ERR_ARG, "an MLP needs 1 to %d layers, not %d",
                       WF_MAX_LAYERS, s->n_layers);
  for (int l = 0; l <= s->n_layers; l++) {
    if (s->widths[l] < 1 || s->widths[l] > (1 << 20))
      return wf_fail_msg(msg, WF_ERR_ARG,
                         "width %d of the MLP is %d; widths are 1 .. 2^20", l,
                         s->widths[l]);
  }
  if (!is_activation(s->activation) || !is_activation(s->output_activation))
    return wf_fail_msg(msg, WF_ERR_ARG, "unknown activation code");
  if (s->norm < WF_NORM_NONE || s->norm > WF_NORM_LAYER)
    return wf_fail_msg(msg, WF_ERR_ARG, "unknown norm code %d", (int)s->norm);
  if (s->residual && s->widths[0] != s->widths[s->n_layers])
    return wf_fail_msg(msg, WF_ERR_ARG,
                       "a residual MLP needs input width (%d) == output width (%d)",
                       s->widths[0], s->widths[s->n_layers]);
  if (s->gamma_normal && s->init != WF_INIT_NORMAL)
    return wf_fail_msg(msg, WF_ERR_ARG, "a normal gamma needs the normal init");
  if (!(s->init_sd >= 0) || !isfinite(s->init_sd) || !isfinite(s->leaky_slope))
    return wf_fail_msg(msg, WF_ERR_ARG, "init_sd and leaky_slope must be finite, sd >= 0");
  return WF_OK;
}

void wf_mlp_layout(const wf_mlp_spec *s, wf_layout *lay) {
  size_t off = 0, st = 0;
  memset(lay, 0, sizeof(*lay));
  for (int l = 0; l < s->n_layers; l++) {
    size_t in = (size_t)s->widths[l], out = (size_t)s->widths[l + 1];
    lay->weight[l] = off;
    off += out * in;
    lay->bias[l] = off;
    off += out;
    if (l < s->n_layers - 1 && s->norm != WF_NORM_NONE) {
      lay->gamma[l] = off;
      off += out;
      lay->beta[l] = off;
      off += out;
      if (s->norm == WF_NORM_BATCH) {
        lay->running_mean[l] = st;
        st += out;
        lay->running_var[l] = st;
        st += out;
      }
    }
  }
  lay->n_params = off;
  lay->n_state = st;
}

int wf_net_max_width(const wf_net *net) {
  int w = 0;
  for (int l = 0; l <= net->spec.n_layers; l++)
    if (net->spec.widths[l] > w) w = net->spec.widths[l];
  return w;
}

/* Initial parameters and state, drawn on the device from the net's stream,
 * then rescaled on the host in double (so every backend starts from the
 * same numbers). p [n_params], st [n_state]. */
static wf_status init_params(wf_net *net, double *p, double *st) {
  const wf_mlp_spec *s = &net->spec;
  const wf_layout *lay = &net->layout;
  size_t np = lay->n_params;
  wf_real *raw = wf_device_alloc(net->dev, np); /* [n_params] */
  if (raw == NULL) return wf_fail(net, WF_ERR_NOMEM, "out of device memory");
  wf_status rc = s->init == WF_INIT_TORCH ? wf_net_uniform(net, raw, np)
                                          : wf_net_normal(net, raw, np);
  if (rc == WF_OK) rc = wf_device_download(net->dev, p, raw, np);
  wf_device_free(net->dev, raw);
  if (rc != WF_OK) return wf_fail(net, rc, "%s", wf_device_message(net->dev));
  if (net->stk != NULL) return wf_stack_init_params(net, p, st);
  for (int l = 0; l < s->n_layers; l++) {
    size_t in = (size_t)s->widths[l], out = (size_t)s->widths[l + 1];
    double bound = 1.0 / sqrt((double)in);
    for (size_t i = 0; i < out * in + out; i++) {
      size_t k = lay->weight[l] + i; /* weight then bias are contiguous */
      int is_bias = i >= out * in;
      if (s->init == WF_INIT_TORCH)
        p[k] = bound * (2.0 * p[k] - 1.0);
      else
        p[k] = is_bias ? 0.0 : s->init_sd * p[k];
    }
    if (l < s->n_layers - 1 && s->norm != WF_NORM_NONE) {
      for (size_t j = 0; j < out; j++) {
        size_t k = lay->gamma[l] + j;
        p[k] = s->gamma_normal ? s->init_sd * p[k] : 1.0; /* p[k] holds a normal */
        p[lay->beta[l] + j] = 0.0;
      }
      if (s->norm == WF_NORM_BATCH) {
        for (size_t j = 0; j < out; j++) {
          st[lay->running_mean[l] + j] = 0.0;
          st[lay->running_var[l] + j] = 1.0;
        }
      }
    }
  }
  return WF_OK;
}

static void free_workspace(wf_net *net) {
  wf_stack_free_workspace(net);
  for (int l = 0; l < WF_MAX_LAYERS; l++) {
    wf_layer_cache *c = &net->layer[l];
    wf_real **bufs[] = {&c->z,    &c->nrm,      &c->xhat, &c->rstd,
                        &c->h,    &c->zdot,     &c->xhat_dot, &c->ndot,
                        &c->hdot, &c->chain_h,  &c->chain_z, &c->zbar,
                        &c->dw_in};
    for (size_t i = 0; i < sizeof(bufs) / sizeof(bufs[0]); i++) {
      wf_device_free(net->dev, *bufs[i]);
      *bufs[i] = NULL;
    }
  }
  wf_real **more[] = {&net->x_in,    &net->y_out,  &net->u_in,   &net->dy_chain,
                      &net->chain_x, &net->out_adj, &net->adj[0], &net->adj[1],
                      &net->adj[2],  &net->adj[3]};
  for (size_t i = 0; i < sizeof(more) / sizeof(more[0]); i++) {
    wf_device_free(net->dev, *more[i]);
    *more[i] = NULL;
  }
  net->cap = 0;
  net->cache = WF_CACHE_EMPTY;
}

wf_status wf_net_reserve(wf_net *net, int m) {
  if (m <= net->cap) return WF_OK;
  free_workspace(net);
  if (net->stk != NULL) {
    if (wf_stack_reserve(net, m) != WF_OK) {
      free_workspace(net);
      return wf_fail(net, WF_ERR_NOMEM, "out of memory for a batch of %d rows", m);
    }
    net->cap = m;
    return WF_OK;
  }
  const wf_mlp_spec *s = &net->spec;
  size_t cap = (size_t)m, in = (size_t)s->widths[0];
  size_t out = (size_t)s->widths[s->n_layers];
  size_t wmax = (size_t)wf_net_max_width(net);
  int ok = 1;
  for (int l = 0; l < s->n_layers; l++) {
    wf_layer_cache *c = &net->layer[l];
    size_t n = (size_t)s->widths[l + 1];
    int has_norm = l < s->n_layers - 1 && s->norm != WF_NORM_NONE;
    wf_net_get(net, &c->z, cap * n, &ok);
    wf_net_get(net, &c->h, cap * n, &ok);
    wf_net_get(net, &c->zdot, cap * n, &ok);
    wf_net_get(net, &c->hdot, cap * n, &ok);
    wf_net_get(net, &c->chain_h, cap * n, &ok);
    wf_net_get(net, &c->chain_z, cap * n, &ok);
    wf_net_get(net, &c->zbar, cap * n, &ok);
    wf_net_get(net, &c->dw_in, cap * (size_t)s->widths[l], &ok);
    if (has_norm) {
      wf_net_get(net, &c->nrm, cap * n, &ok);
      wf_net_get(net, &c->xhat, cap * n, &ok);
      wf_net_get(net, &c->rstd, cap > n ? cap : n, &ok);
      wf_net_get(net, &c->xhat_dot, cap * n, &ok);
      wf_net_get(net, &c->ndot, cap * n, &ok);
    }
  }
  wf_net_get(net, &net->x_in, cap * in, &ok);
  if (s->residual) wf_net_get(net, &net->y_out, cap * out, &ok);
  wf_net_get(net, &net->u_in, cap * in, &ok);
  wf_net_get(net, &net->dy_chain, cap * out, &ok);
  wf_net_get(net, &net->chain_x, cap * in, &ok);
  wf_net_get(net, &net->out_adj, cap * out, &ok);
  for (int i = 0; i < 4; i++) wf_net_get(net, &net->adj[i], cap * wmax, &ok);
  if (!ok) {
    free_workspace(net);
    return wf_fail(net, WF_ERR_NOMEM, "out of memory for a batch of %d rows", m);
  }
  net->cap = m;
  return WF_OK;
}

/* A net shell on dev: spec (an MLP, or a stack when stack != NULL), layout
 * and stream set, no parameters yet. */
static wf_status new_shell(const wf_mlp_spec *spec, const wf_stack_spec *stack,
                           wf_device *dev, wf_net **out, char *msg) {
  *out = NULL;
  wf_stack *stk = NULL;
  wf_mlp_spec summary;
  wf_layout lay;
  wf_status rc = stack != NULL ? wf_stack_new(stack, &stk, &summary, &lay, msg)
                               : wf_mlp_check(spec, msg);
  if (rc != WF_OK) return rc;
  wf_net *net = calloc(1, sizeof(wf_net));
  if (net == NULL) {
    free(stk);
    return wf_fail_msg(msg, WF_ERR_NOMEM, "out of memory");
  }
  net->stk = stk;
  net->spec = stack != NULL ? summary : *spec;
  net->dev = dev;
  wf_device_retain(dev);
  if (stack != NULL)
    net->layout = lay;
  else
    wf_mlp_layout(spec, &net->layout);
  net->stream_dev = wf_device_alloc_scalars(dev, 1);
  if (net->stream_dev == NULL) {
    wf_net_free(net);
    return wf_fail_msg(msg, WF_ERR_NOMEM, "out of device memory");
  }
  *out = net;
  return WF_OK;
}

/* Fresh parameter storage for net (gradient and moments zero). */
static wf_status new_params(wf_net *net, char *msg) {
  wf_net_params *p = calloc(1, sizeof(wf_net_params));
  if (p == NULL) return wf_fail_msg(msg, WF_ERR_NOMEM, "out of memory");
  p->refs = 1;
  net->p = p;
  wf_status rc = wf_block_init(&p->block, net->dev, net->layout.n_params, msg);
  if (rc != WF_OK) return rc;
  p->state = wf_device_alloc(net->dev, net->layout.n_state);
  if (p->state == NULL)
    return wf_fail_msg(msg, WF_ERR_NOMEM, "out of memory for the BatchNorm state");
  return WF_OK;
}

static wf_status create(const wf_mlp_spec *spec, const wf_stack_spec *stack,
                        wf_device *dev, uint64_t seed, wf_net **out, char *msg) {
  *out = NULL;
  wf_net *net;
  wf_status rc = new_shell(spec, stack, dev, &net, msg);
  if (rc != WF_OK) return rc;
  rc = wf_net_set_rng(net, seed, 0);
  if (rc != WF_OK) snprintf(msg, WF_MSG_LEN, "%s", net->msg);
  if (rc == WF_OK) rc = new_params(net, msg);
  size_t np = net->layout.n_params, ns = net->layout.n_state;
  double *host = rc == WF_OK ? calloc(np + ns + 1, sizeof(double)) : NULL;
  if (rc == WF_OK && host == NULL)
    rc = wf_fail_msg(msg, WF_ERR_NOMEM, "out of memory for %zu parameters", np);
  if (rc == WF_OK) {
    rc = init_params(net, host, host + np);
    if (rc == WF_OK) rc = wf_net_set_params(net, host);
    if (rc == WF_OK && ns > 0) rc = wf_net_set_state(net, host + np);
    if (rc != WF_OK) snprintf(msg, WF_MSG_LEN, "%s", net->msg);
  }
  free(host);
  if (rc != WF_OK) {
    wf_net_free(net);
    return rc;
  }
  *out = net;
  return WF_OK;
}

wf_status wf_net_create(const wf_mlp_spec *spec, wf_device *dev, uint64_t seed,
                        wf_net **out, char *msg) {
  return create(spec, NULL, dev, seed, out, msg);
}

wf_status wf_net_create_stack(const wf_stack_spec *spec, wf_device *dev,
                              uint64_t seed, wf_net **out, char *msg) {
  return create(NULL, spec, dev, seed, out, msg);
}

static const wf_stack_spec *stack_of(const wf_net *net) {
  return net->stk != NULL ? wf_net_stack(net) : NULL;
}

wf_status wf_net_clone(const wf_net *src, wf_net **out, char *msg) {
  *out = NULL;
  wf_net *net;
  wf_status rc = new_shell(&src->spec, stack_of(src), src->dev, &net, msg);
  if (rc == WF_OK) rc = new_params(net, msg);
  if (rc != WF_OK) {
    wf_net_free(net);
    return rc;
  }
  const wf_backend *be = WF_NET_BE(src);
  wf_ctx *ctx = WF_NET_CTX(src);
  const wf_block *a = &src->p->block;
  wf_block *b = &net->p->block;
  be->copy(ctx, b->params, a->params, a->n);
  be->copy(ctx, b->grad, a->grad, a->n);
  be->copy(ctx, b->m1, a->m1, a->n);
  be->copy(ctx, b->m2, a->m2, a->n);
  be->copy(ctx, net->p->state, src->p->state, src->layout.n_state);
  rc = wf_block_set_step(b, net->dev, a->step, msg);
  uint64_t key, counter;
  wf_net_get_rng(src, &key, &counter);
  if (rc == WF_OK) rc = wf_net_set_rng(net, key, counter);
  if (rc == WF_OK) rc = wf_net_sync_error(net);
  if (rc != WF_OK) {
    snprintf(msg, WF_MSG_LEN, "%s", net->msg);
    wf_net_free(net);
    return rc;
  }
  *out = net;
  return WF_OK;
}

wf_status wf_net_alias(wf_net *src, wf_net **out, char *msg) {
  *out = NULL;
  wf_net *net;
  wf_status rc = new_shell(&src->spec, stack_of(src), src->dev, &net, msg);
  if (rc != WF_OK) return rc;
  net->p = src->p;
  net->p->refs++;
  uint64_t key, counter;
  wf_net_get_rng(src, &key, &counter);
  rc = wf_net_set_rng(net, key, counter);
  if (rc != WF_OK) {
    snprintf(msg, WF_MSG_LEN, "%s", net->msg);
    wf_net_free(net);
    return rc;
  }
  *out = net;
  return WF_OK;
}

wf_status wf_net_copy_params(wf_net *dst, const wf_net *src) {
  if (memcmp(&dst->layout, &src->layout, sizeof(wf_layout)) != 0)
    return wf_fail(dst, WF_ERR_ARG, "copy_params needs two nets of the same shape");
  if (dst->p == src->p) return WF_OK;
  if (dst->dev == src->dev) {
    const wf_backend *be = WF_NET_BE(dst);
    be->copy(WF_NET_CTX(dst), WF_PARAMS(dst), WF_PARAMS(src), dst->layout.n_params);
    be->copy(WF_NET_CTX(dst), dst->p->state, src->p->state, dst->layout.n_state);
  } else { /* across devices through the host */
    size_t np = dst->layout.n_params, ns = dst->layout.n_state;
    double *host = malloc((np + ns + 1) * sizeof(double));
    if (host == NULL) return wf_fail(dst, WF_ERR_NOMEM, "out of memory");
    wf_status rc = wf_net_get_params((wf_net *)src, host);
    if (rc == WF_OK) rc = wf_net_get_state((wf_net *)src, host + np);
    if (rc != WF_OK) {
      free(host);
      return wf_fail(dst, rc, "%s", src->msg);
    }
    rc = wf_net_set_params(dst, host);
    if (rc == WF_OK) rc = wf_net_set_state(dst, host + np);
    free(host);
    if (rc != WF_OK) return rc;
  }
  dst->cache = WF_CACHE_EMPTY;
  return wf_net_sync_error(dst);
}

void wf_net_free(wf_net *net) {
  if (net == NULL) return;
  free_workspace(net);
  wf_net_snapshot_drop(net);
  wf_net_params *p = net->p;
  if (p != NULL && --p->refs == 0) {
    wf_block_free(&p->block, net->dev);
    wf_device_free(net->dev, p->state);
    free(p);
  }
  wf_device_free(net->dev, net->stream_dev);
  wf_device_release(net->dev);
  free(net->stk);
  free(net);
}

wf_status wf_net_sync_error(wf_net *net) {
  wf_status rc = wf_device_check(net->dev);
  if (rc != WF_OK) return wf_fail(net, rc, "%s", wf_device_message(net->dev));
  return WF_OK;
}

/* one host <-> device copy, its failure in the net's message */
static wf_status put(wf_net *net, wf_real *dst, const double *src, size_t n) {
  wf_status rc = wf_device_upload(net->dev, dst, src, n);
  return rc == WF_OK ? WF_OK : wf_fail(net, rc, "%s", wf_device_message(net->dev));
}
static wf_status get(wf_net *net, double *dst, const wf_real *src, size_t n) {
  wf_status rc = wf_device_download(net->dev, dst, src, n);
  return rc == WF_OK ? WF_OK : wf_fail(net, rc, "%s", wf_device_message(net->dev));
}

wf_status wf_net_get_params(wf_net *net, double *host) {
  return get(net, host, WF_PARAMS(net), net->layout.n_params);
}
wf_status wf_net_set_params(wf_net *net, const double *host) {
  net->cache = WF_CACHE_EMPTY;
  return put(net, WF_PARAMS(net), host, net->layout.n_params);
}
wf_status wf_net_get_grad(wf_net *net, double *host) {
  return get(net, host, WF_GRAD(net), net->layout.n_params);
}
wf_status wf_net_set_grad(wf_net *net, const double *host) {
  return put(net, WF_GRAD(net), host, net->layout.n_params);
}
wf_status wf_net_get_state(wf_net *net, double *host) {
  return get(net, host, net->p->state, net->layout.n_state);
}
wf_status wf_net_set_state(wf_net *net, const double *host) {
  return put(net, net->p->state, host, net->layout.n_state);
}

wf_status wf_net_get_opt_state(wf_net *net, double *step, double *m1, double *m2) {
  *step = net->p->block.step;
  wf_status rc = get(net, m1, net->p->block.m1, net->layout.n_params);
  if (rc == WF_OK) rc = get(net, m2, net->p->block.m2, net->layout.n_params);
  return rc;
}

wf_status wf_net_get_moment(wf_net *net, int which, double *host) {
  if (which != 1 && which != 2)
    return wf_fail(net, WF_ERR_ARG, "an optimiser moment is 1 or 2, not %d", which);
  return get(net, host, which == 1 ? net->p->block.m1 : net->p->block.m2,
             net->layout.n_params);
}

wf_status wf_net_set_opt_state(wf_net *net, double step, const double *m1,
                               const double *m2) {
  if (!(step >= 0) || !isfinite(step))
    return wf_fail(net, WF_ERR_ARG, "the optimiser step count must be >= 0");
  wf_status rc = wf_block_set_step(&net->p->block, net->dev, step, net->msg);
  if (rc == WF_OK) rc = put(net, net->p->block.m1, m1, net->layout.n_params);
  if (rc == WF_OK) rc = put(net, net->p->block.m2, m2, net->layout.n_params);
  return rc;
}

void wf_net_get_rng(const wf_net *net, uint64_t *key, uint64_t *counter) {
  *key = (uint64_t)net->key[0] | ((uint64_t)net->key[1] << 32);
  *counter = net->counter;
}

wf_status wf_net_set_rng(wf_net *net, uint64_t key, uint64_t counter) {
  if (counter >= ((uint64_t)1 << 53))
    return wf_fail(net, WF_ERR_ARG, "a stream counter must be below 2^53");
  double c = (double)counter;
  wf_status rc = wf_device_write_scalars(net->dev, net->stream_dev, &c, 1);
  if (rc != WF_OK) return wf_fail(net, rc, "%s", wf_device_message(net->dev));
  net->key[0] = (uint32_t)(key & 0xffffffffu);
  net->key[1] = (uint32_t)(key >> 32);
  net->counter = counter;
  return WF_OK;
}

/* ---- optimiser steps on the net's block --------------------------------- */
wf_status wf_net_zero_grad(wf_net *net) {
  wf_block_zero_grad(&net->p->block, net->dev);
  return wf_net_sync_error(net);
}

wf_status wf_net_opt_step(wf_net *net, const wf_opt_spec *opt) {
  wf_status rc = wf_block_step(&net->p->block, net->dev, opt, net->msg);
  if (rc != WF_OK) return rc;
  net->cache = WF_CACHE_EMPTY; /* cached activations used the old weights */
  return wf_net_sync_error(net);
}

wf_status wf_net_clip(wf_net *net, double c) {
  wf_status rc = wf_block_clamp(&net->p->block, net->dev, c, net->msg);
  if (rc != WF_OK) return rc;
  net->cache = WF_CACHE_EMPTY;
  return wf_net_sync_error(net);
}
