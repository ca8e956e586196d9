/* net.c — creating, initialising and freeing nets; host <-> device copies. */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "net.h"

static wf_abort_fn abort_fn = NULL;
static void *abort_data = NULL;

void wf_set_abort_callback(wf_abort_fn fn, void *data) {
  abort_fn = fn;
  abort_data = data;
}

int wf_should_abort(void) { return abort_fn != NULL && abort_fn(abort_data); }

wf_status wf_fail(wf_net *net, wf_status status, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(net->msg, WF_MSG_LEN, fmt, ap);
  va_end(ap);
  return status;
}

const char *wf_backend_name(const wf_backend *be) { return be->name; }
const char *wf_net_message(const wf_net *net) { return net->msg; }
const wf_mlp_spec *wf_net_spec(const wf_net *net) { return &net->spec; }
const wf_layout *wf_net_layout(const wf_net *net) { return &net->layout; }
const wf_backend *wf_net_backend(const wf_net *net) { return net->be; }

static int is_activation(int a) { return a >= 0 && a < WF_ACT_COUNT; }

wf_status wf_mlp_check(const wf_mlp_spec *s, char *msg) {
  if (s->n_layers < 1 || s->n_layers > WF_MAX_LAYERS) {
    snprintf(msg, WF_MSG_LEN, "an MLP needs 1 to %d layers, not %d",
             WF_MAX_LAYERS, s->n_layers);
    return WF_ERR_ARG;
  }
  for (int l = 0; l <= s->n_layers; l++) {
    if (s->widths[l] < 1 || s->widths[l] > (1 << 20)) {
      snprintf(msg, WF_MSG_LEN, "width %d of the MLP is %d; widths are 1 .. 2^20",
               l, s->widths[l]);
      return WF_ERR_ARG;
    }
  }
  if (!is_activation(s->activation) || !is_activation(s->output_activation)) {
    snprintf(msg, WF_MSG_LEN, "unknown activation code");
    return WF_ERR_ARG;
  }
  if (s->norm < WF_NORM_NONE || s->norm > WF_NORM_LAYER) {
    snprintf(msg, WF_MSG_LEN, "unknown norm code %d", (int)s->norm);
    return WF_ERR_ARG;
  }
  if (s->residual && s->widths[0] != s->widths[s->n_layers]) {
    snprintf(msg, WF_MSG_LEN,
             "a residual MLP needs input width (%d) == output width (%d)",
             s->widths[0], s->widths[s->n_layers]);
    return WF_ERR_ARG;
  }
  if (!(s->init_sd >= 0) || !isfinite(s->init_sd) || !isfinite(s->leaky_slope)) {
    snprintf(msg, WF_MSG_LEN, "init_sd and leaky_slope must be finite, sd >= 0");
    return WF_ERR_ARG;
  }
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

/* Initial parameters and state, drawn on the host in double from the net's
 * stream (so both backends start from the same numbers). */
static wf_status init_params(wf_net *net, double *p, double *st) {
  const wf_mlp_spec *s = &net->spec;
  const wf_layout *lay = &net->layout;
  size_t np = lay->n_params;
  /* one block of uniforms or normals for all parameters, then rescale */
  wf_real *dev = wf_net_alloc(net, np);
  if (dev == NULL) return wf_fail(net, WF_ERR_NOMEM, "out of device memory");
  wf_status rc = s->init == WF_INIT_TORCH ? wf_net_uniform(net, dev, np)
                                          : wf_net_normal(net, dev, np);
  double *tmp = p; /* reuse the host array for the raw draws */
  if (rc == WF_OK) rc = wf_net_download(net, tmp, dev, np);
  wf_net_release(net, dev);
  if (rc != WF_OK) return rc;
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
        p[lay->gamma[l] + j] = 1.0;
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
  const wf_backend *be = net->be;
  for (int l = 0; l < WF_MAX_LAYERS; l++) {
    wf_layer_cache *c = &net->layer[l];
    wf_real **bufs[] = {&c->z,    &c->nrm,      &c->xhat, &c->rstd,
                        &c->h,    &c->zdot,     &c->xhat_dot, &c->ndot,
                        &c->hdot, &c->chain_h,  &c->chain_z};
    for (size_t i = 0; i < sizeof(bufs) / sizeof(bufs[0]); i++) {
      be->release(*bufs[i]);
      *bufs[i] = NULL;
    }
  }
  wf_real **more[] = {&net->x_in, &net->u_in, &net->dy_chain, &net->chain_x,
                      &net->adj[0], &net->adj[1], &net->adj[2], &net->adj[3]};
  for (size_t i = 0; i < sizeof(more) / sizeof(more[0]); i++) {
    be->release(*more[i]);
    *more[i] = NULL;
  }
  net->cap = 0;
  net->cache = WF_CACHE_EMPTY;
}

wf_status wf_net_reserve(wf_net *net, int m) {
  if (m <= net->cap) return WF_OK;
  free_workspace(net);
  const wf_mlp_spec *s = &net->spec;
  const wf_backend *be = net->be;
  size_t cap = (size_t)m, in = (size_t)s->widths[0];
  size_t out = (size_t)s->widths[s->n_layers];
  size_t wmax = (size_t)wf_net_max_width(net);
  int ok = 1;
#define WF_GET(ptr, count)                                        \
  do {                                                            \
    (ptr) = be->alloc((count) * sizeof(wf_real));                 \
    ok = ok && (ptr) != NULL;                                     \
  } while (0)
  for (int l = 0; l < s->n_layers; l++) {
    wf_layer_cache *c = &net->layer[l];
    size_t n = (size_t)s->widths[l + 1];
    int has_norm = l < s->n_layers - 1 && s->norm != WF_NORM_NONE;
    WF_GET(c->z, cap * n);
    WF_GET(c->h, cap * n);
    WF_GET(c->zdot, cap * n);
    WF_GET(c->hdot, cap * n);
    WF_GET(c->chain_h, cap * n);
    WF_GET(c->chain_z, cap * n);
    if (has_norm) {
      WF_GET(c->nrm, cap * n);
      WF_GET(c->xhat, cap * n);
      WF_GET(c->rstd, cap > n ? cap : n);
      WF_GET(c->xhat_dot, cap * n);
      WF_GET(c->ndot, cap * n);
    }
  }
  WF_GET(net->x_in, cap * in);
  WF_GET(net->u_in, cap * in);
  WF_GET(net->dy_chain, cap * out);
  WF_GET(net->chain_x, cap * in);
  for (int i = 0; i < 4; i++) WF_GET(net->adj[i], cap * wmax);
#undef WF_GET
  if (!ok) {
    free_workspace(net);
    return wf_fail(net, WF_ERR_NOMEM, "out of memory for a batch of %d rows", m);
  }
  net->cap = m;
  return WF_OK;
}

wf_status wf_net_create(const wf_mlp_spec *spec, const wf_backend *be,
                        uint64_t seed, wf_net **out, char *msg) {
  *out = NULL;
  wf_status rc = wf_mlp_check(spec, msg);
  if (rc != WF_OK) return rc;
  wf_net *net = calloc(1, sizeof(wf_net));
  if (net == NULL) {
    snprintf(msg, WF_MSG_LEN, "out of memory");
    return WF_ERR_NOMEM;
  }
  net->spec = *spec;
  net->be = be;
  wf_mlp_layout(spec, &net->layout);
  wf_net_set_rng(net, seed, 0);
  size_t np = net->layout.n_params, ns = net->layout.n_state;
  net->params = be->alloc(np * sizeof(wf_real));
  net->grad = be->alloc(np * sizeof(wf_real));
  net->m1 = be->alloc(np * sizeof(wf_real));
  net->m2 = be->alloc(np * sizeof(wf_real));
  net->state = be->alloc((ns > 0 ? ns : 1) * sizeof(wf_real));
  double *host = calloc(np + ns + 1, sizeof(double));
  if (!net->params || !net->grad || !net->m1 || !net->m2 || !net->state ||
      !host) {
    free(host);
    wf_net_free(net);
    snprintf(msg, WF_MSG_LEN, "out of memory for %zu parameters", np);
    return WF_ERR_NOMEM;
  }
  be->fill(net->grad, np, 0);
  be->fill(net->m1, np, 0);
  be->fill(net->m2, np, 0);
  rc = init_params(net, host, host + np);
  if (rc == WF_OK) rc = wf_net_set_params(net, host);
  if (rc == WF_OK && ns > 0) rc = wf_net_set_state(net, host + np);
  free(host);
  if (rc != WF_OK) {
    snprintf(msg, WF_MSG_LEN, "%s", net->msg);
    wf_net_free(net);
    return rc;
  }
  *out = net;
  return WF_OK;
}

void wf_net_free(wf_net *net) {
  if (net == NULL) return;
  const wf_backend *be = net->be;
  free_workspace(net);
  be->release(net->params);
  be->release(net->grad);
  be->release(net->m1);
  be->release(net->m2);
  be->release(net->state);
  be->release(net->loss_x);
  be->release(net->loss_y);
  be->release(net->loss_t);
  be->release(net->loss_u);
  free(net);
}

wf_real *wf_net_alloc(wf_net *net, size_t n) {
  return net->be->alloc((n > 0 ? n : 1) * sizeof(wf_real));
}
void wf_net_release(wf_net *net, wf_real *p) { net->be->release(p); }

wf_status wf_net_upload(wf_net *net, wf_real *dst, const double *src, size_t n) {
  wf_status rc = net->be->upload(dst, src, n);
  return rc == WF_OK ? WF_OK : wf_net_sync_error(net);
}
wf_status wf_net_download(wf_net *net, double *dst, const wf_real *src, size_t n) {
  wf_status rc = net->be->download(dst, src, n);
  return rc == WF_OK ? WF_OK : wf_net_sync_error(net);
}

wf_status wf_net_sync_error(wf_net *net) {
  char buf[WF_MSG_LEN];
  wf_status rc = net->be->last_error(buf);
  if (rc != WF_OK) return wf_fail(net, rc, "%s", buf);
  return WF_OK;
}

wf_status wf_net_get_params(wf_net *net, double *host) {
  return wf_net_download(net, host, net->params, net->layout.n_params);
}
wf_status wf_net_set_params(wf_net *net, const double *host) {
  return wf_net_upload(net, net->params, host, net->layout.n_params);
}
wf_status wf_net_get_grad(wf_net *net, double *host) {
  return wf_net_download(net, host, net->grad, net->layout.n_params);
}
wf_status wf_net_set_grad(wf_net *net, const double *host) {
  return wf_net_upload(net, net->grad, host, net->layout.n_params);
}
wf_status wf_net_get_state(wf_net *net, double *host) {
  return wf_net_download(net, host, net->state, net->layout.n_state);
}
wf_status wf_net_set_state(wf_net *net, const double *host) {
  return wf_net_upload(net, net->state, host, net->layout.n_state);
}

wf_status wf_net_get_opt_state(wf_net *net, double *step, double *m1, double *m2) {
  *step = net->opt_step;
  wf_status rc = wf_net_download(net, m1, net->m1, net->layout.n_params);
  if (rc == WF_OK) rc = wf_net_download(net, m2, net->m2, net->layout.n_params);
  return rc;
}

wf_status wf_net_set_opt_state(wf_net *net, double step, const double *m1,
                               const double *m2) {
  if (!(step >= 0) || !isfinite(step))
    return wf_fail(net, WF_ERR_ARG, "the optimiser step count must be >= 0");
  net->opt_step = step;
  wf_status rc = wf_net_upload(net, net->m1, m1, net->layout.n_params);
  if (rc == WF_OK) rc = wf_net_upload(net, net->m2, m2, net->layout.n_params);
  return rc;
}

void wf_net_get_rng(const wf_net *net, uint64_t *key, uint64_t *counter) {
  *key = (uint64_t)net->key[0] | ((uint64_t)net->key[1] << 32);
  *counter = net->counter;
}

void wf_net_set_rng(wf_net *net, uint64_t key, uint64_t counter) {
  net->key[0] = (uint32_t)(key & 0xffffffffu);
  net->key[1] = (uint32_t)(key >> 32);
  net->counter = counter;
}
