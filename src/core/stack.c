/* stack.c — nets as stacks of layers: checking a stack and laying out its
 * parameters, its workspace, and the walker that chains the layers' passes
 * (stack.h) into the four passes of a net:
 *   forward          y = f_L(... f_1(x))
 *   backward         the reverse sweep of dy: parameter gradients and dx
 *   input gradient   the same sweep without parameter gradients, keeping
 *                    every layer's adjoint (the "chain") for
 *   double backward  S = sum_i u_i . g_i with g the input gradient: the
 *                    tangent sweep of u (forward mode), then the reverse of
 *                    (y, ydot) with the chain as the tangents' adjoints.
 * Inputs and outputs cross in PyTorch's c, h, w order; inside, images are
 * channels-last. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "stack.h"

static const char *kind_names[WF_LAYER_KIND_COUNT] = {
    "dense",      "conv2d",     "conv_transpose2d", "batch_norm",
    "layer_norm", "activation", "reshape",          "flatten"};

const wf_layer_ops *wf_layer_ops_of(wf_layer_kind kind) {
  switch (kind) {
  case WF_LAYER_DENSE: return &wf_layer_dense;
  case WF_LAYER_CONV2D: return &wf_layer_conv2d;
  case WF_LAYER_CONV_T2D: return &wf_layer_conv_t2d;
  case WF_LAYER_BATCH_NORM: return &wf_layer_batch_norm;
  case WF_LAYER_LAYER_NORM: return &wf_layer_layer_norm;
  case WF_LAYER_ACTIVATION: return &wf_layer_activation;
  case WF_LAYER_RESHAPE:
  case WF_LAYER_FLATTEN: return &wf_layer_reshape;
  default: return NULL;
  }
}

/* ---- checking and layout ---------------------------------------------- */

static int shape_ok(wf_shape s) {
  return s.c >= 1 && s.h >= 1 && s.w >= 1 &&
         (double)s.c * s.h * s.w <= (double)(1 << 24);
}

wf_status wf_stack_check(const wf_stack_spec *spec, wf_shape *shapes, char *msg) {
  if (spec->n_layers < 1 || spec->n_layers > WF_MAX_LAYERS)
    return wf_fail_msg(msg, WF_ERR_ARG, "a stack needs 1 to %d layers, not %d",
                       WF_MAX_LAYERS, spec->n_layers);
  if (!shape_ok(spec->in))
    return wf_fail_msg(msg, WF_ERR_ARG, "the input shape %d x %d x %d is not valid",
                       spec->in.c, spec->in.h, spec->in.w);
  if (spec->init != WF_INIT_TORCH && spec->init != WF_INIT_NORMAL)
    return wf_fail_msg(msg, WF_ERR_ARG, "unknown init code %d", (int)spec->init);
  if (!(spec->init_sd >= 0) || !isfinite(spec->init_sd))
    return wf_fail_msg(msg, WF_ERR_ARG, "init_sd must be finite and >= 0");
  wf_shape s = spec->in;
  if (shapes != NULL) shapes[0] = s;
  for (int l = 0; l < spec->n_layers; l++) {
    const wf_layer_spec *ls = &spec->layer[l];
    const wf_layer_ops *ops = wf_layer_ops_of(ls->kind);
    if (ops == NULL)
      return wf_fail_msg(msg, WF_ERR_ARG, "layer %d: unknown kind %d", l + 1,
                         (int)ls->kind);
    char why[WF_MSG_LEN];
    wf_shape out;
    if (ops->shape(ls, s, &out, why) != WF_OK)
      return wf_fail_msg(msg, WF_ERR_ARG, "layer %d (%s): %s", l + 1,
                         kind_names[ls->kind], why);
    if (!shape_ok(out))
      return wf_fail_msg(msg, WF_ERR_ARG, "layer %d (%s): output %d x %d x %d is too large",
                         l + 1, kind_names[ls->kind], out.c, out.h, out.w);
    s = out;
    if (shapes != NULL) shapes[l + 1] = s;
  }
  return WF_OK;
}

static void layer_sizes(const wf_stack_spec *spec, const wf_shape *shapes, int l,
                        size_t *nw, size_t *nb, size_t *ns) {
  const wf_layer_spec *ls = &spec->layer[l];
  const wf_layer_ops *ops = wf_layer_ops_of(ls->kind);
  *nw = *nb = *ns = 0;
  if (ops->sizes != NULL) ops->sizes(ls, shapes[l], shapes[l + 1], nw, nb, ns);
}

void wf_stack_layer_sizes(const wf_stack_spec *spec, int l, size_t *n_params,
                          size_t *n_state) {
  wf_shape shapes[WF_MAX_LAYERS + 1];
  char msg[WF_MSG_LEN];
  *n_params = *n_state = 0;
  if (wf_stack_check(spec, shapes, msg) != WF_OK || l < 0 || l >= spec->n_layers)
    return;
  size_t nw, nb;
  layer_sizes(spec, shapes, l, &nw, &nb, n_state);
  *n_params = nw + nb;
}

/* weight[l] then bias[l] for every layer with parameters (a norm's gamma
 * and beta, mirrored in gamma[l] and beta[l]); BatchNorm's running mean
 * and variance in the state */
static void layout_of(const wf_stack_spec *spec, const wf_shape *shapes,
                      wf_layout *lay) {
  size_t off = 0, st = 0;
  memset(lay, 0, sizeof(*lay));
  for (int l = 0; l < spec->n_layers; l++) {
    size_t nw, nb, ns;
    layer_sizes(spec, shapes, l, &nw, &nb, &ns);
    lay->weight[l] = lay->gamma[l] = off;
    off += nw;
    lay->bias[l] = lay->beta[l] = off;
    off += nb;
    lay->running_mean[l] = st;
    lay->running_var[l] = st + ns / 2;
    st += ns;
  }
  lay->n_params = off;
  lay->n_state = st;
}

void wf_stack_layout(const wf_stack_spec *spec, wf_layout *out) {
  wf_shape shapes[WF_MAX_LAYERS + 1];
  char msg[WF_MSG_LEN];
  memset(out, 0, sizeof(*out));
  if (wf_stack_check(spec, shapes, msg) == WF_OK) layout_of(spec, shapes, out);
}

const wf_stack_spec *wf_net_stack(const wf_net *net) {
  return net->stk != NULL ? &net->stk->spec : NULL;
}

/* ---- creation ------------------------------------------------------------ */

static int has_kind(const wf_stack_spec *spec, wf_layer_kind kind) {
  for (int l = 0; l < spec->n_layers; l++)
    if (spec->layer[l].kind == kind) return 1;
  return 0;
}

/* The MLP-shaped summary of a stack that the rest of the engine reads:
 * input and output widths, and which norm it holds (BatchNorm refuses the
 * second-order passes). */
static wf_mlp_spec summary_of(const wf_stack *stk) {
  const wf_stack_spec *s = &stk->spec;
  wf_mlp_spec m;
  memset(&m, 0, sizeof(m));
  m.n_layers = 1;
  m.widths[0] = (int)wf_shape_size(stk->shape[0]);
  m.widths[1] = (int)wf_shape_size(stk->shape[s->n_layers]);
  m.norm = has_kind(s, WF_LAYER_BATCH_NORM)   ? WF_NORM_BATCH
           : has_kind(s, WF_LAYER_LAYER_NORM) ? WF_NORM_LAYER
                                               : WF_NORM_NONE;
  m.init = s->init;
  m.init_sd = s->init_sd;
  return m;
}

wf_status wf_stack_new(const wf_stack_spec *spec, wf_stack **out, wf_mlp_spec *summary,
                       wf_layout *lay, char *msg) {
  *out = NULL;
  wf_stack *stk = calloc(1, sizeof(wf_stack));
  if (stk == NULL) return wf_fail_msg(msg, WF_ERR_NOMEM, "out of memory");
  wf_status rc = wf_stack_check(spec, stk->shape, msg);
  if (rc != WF_OK) {
    free(stk);
    return rc;
  }
  stk->spec = *spec;
  for (int l = 0; l <= spec->n_layers; l++) {
    size_t n = wf_shape_size(stk->shape[l]);
    if (n > stk->max_size) stk->max_size = n;
  }
  for (int l = 0; l < spec->n_layers; l++) {
    const wf_layer_spec *ls = &spec->layer[l];
    const wf_layer_ops *ops = wf_layer_ops_of(ls->kind);
    size_t sc = ops->scratch != NULL ? ops->scratch(ls, stk->shape[l], stk->shape[l + 1]) : 0;
    if (sc > stk->max_scratch) stk->max_scratch = sc;
  }
  *summary = summary_of(stk);
  layout_of(spec, stk->shape, lay);
  *out = stk;
  return WF_OK;
}

/* Initial values from raw draws p [n_params] (uniforms on (0, 1] for the
 * torch init, normals otherwise): PyTorch's default U(-b, b) with
 * b = 1/sqrt(fan_in) for weights and biases, or N(0, init_sd) weights and
 * zero biases; norms start at gamma 1, beta 0, running mean 0, variance 1. */
wf_status wf_stack_init_params(wf_net *net, double *p, double *st) {
  const wf_stack *stk = net->stk;
  const wf_stack_spec *s = &stk->spec;
  const wf_layout *lay = &net->layout;
  for (int l = 0; l < s->n_layers; l++) {
    const wf_layer_spec *ls = &s->layer[l];
    const wf_layer_ops *ops = wf_layer_ops_of(ls->kind);
    size_t nw, nb, ns;
    layer_sizes(s, stk->shape, l, &nw, &nb, &ns);
    size_t fan_in = ops->fan_in != NULL ? ops->fan_in(ls, stk->shape[l], stk->shape[l + 1]) : 0;
    double bound = fan_in > 0 ? 1.0 / sqrt((double)fan_in) : 0;
    for (size_t i = 0; i < nw + nb; i++) {
      size_t k = lay->weight[l] + i; /* weight then bias are contiguous */
      int is_bias = i >= nw;
      if (fan_in == 0) /* a norm */
        p[k] = is_bias ? 0.0 : 1.0;
      else if (s->init == WF_INIT_TORCH)
        p[k] = bound * (2.0 * p[k] - 1.0);
      else
        p[k] = is_bias ? 0.0 : s->init_sd * p[k];
    }
    for (size_t i = 0; i < ns; i++) st[lay->running_mean[l] + i] = i < ns / 2 ? 0.0 : 1.0;
  }
  return WF_OK;
}

/* ---- workspace ------------------------------------------------------------ */

void wf_stack_free_workspace(wf_net *net) {
  wf_stack *stk = net->stk;
  if (stk == NULL) return;
  for (int l = 0; l < WF_MAX_LAYERS; l++) {
    wf_stack_cache *c = &stk->layer[l];
    wf_real **bufs[] = {&c->y, &c->chain, &c->dot, &c->xhat, &c->xhat_dot, &c->rstd};
    for (size_t i = 0; i < sizeof(bufs) / sizeof(bufs[0]); i++) {
      wf_device_free(net->dev, *bufs[i]);
      *bufs[i] = NULL;
    }
  }
  wf_real **more[] = {&stk->x,      &stk->u,      &stk->y_out,    &stk->adj[0],
                      &stk->adj[1], &stk->cols,   &net->u_in,     &net->dy_chain,
                      &net->chain_x, &net->out_adj};
  for (size_t i = 0; i < sizeof(more) / sizeof(more[0]); i++) {
    wf_device_free(net->dev, *more[i]);
    *more[i] = NULL;
  }
}

wf_status wf_stack_reserve(wf_net *net, int m) {
  wf_stack *stk = net->stk;
  const wf_stack_spec *s = &stk->spec;
  size_t cap = (size_t)m, in = wf_shape_size(stk->shape[0]);
  size_t out = wf_shape_size(stk->shape[s->n_layers]);
  int ok = 1;
  for (int l = 0; l < s->n_layers; l++) {
    wf_stack_cache *c = &stk->layer[l];
    wf_layer_kind kind = s->layer[l].kind;
    size_t n = wf_shape_size(stk->shape[l + 1]);
    wf_net_get(net, &c->y, cap * n, &ok);
    wf_net_get(net, &c->chain, cap * n, &ok);
    wf_net_get(net, &c->dot, cap * n, &ok);
    if (kind == WF_LAYER_BATCH_NORM || kind == WF_LAYER_LAYER_NORM) {
      wf_net_get(net, &c->xhat, cap * n, &ok);
      size_t n_rstd = kind == WF_LAYER_LAYER_NORM ? cap : (size_t)stk->shape[l + 1].c;
      wf_net_get(net, &c->rstd, n_rstd, &ok);
    }
    if (kind == WF_LAYER_LAYER_NORM) wf_net_get(net, &c->xhat_dot, cap * n, &ok);
  }
  wf_net_get(net, &stk->x, cap * in, &ok);
  wf_net_get(net, &stk->u, cap * in, &ok);
  wf_net_get(net, &stk->y_out, cap * out, &ok);
  wf_net_get(net, &stk->adj[0], cap * stk->max_size, &ok);
  wf_net_get(net, &stk->adj[1], cap * stk->max_size, &ok);
  size_t scratch = stk->max_scratch > 0 ? stk->max_scratch : 1;
  wf_net_get(net, &stk->cols, cap * scratch, &ok);
  wf_net_get(net, &net->u_in, cap * in, &ok);
  wf_net_get(net, &net->dy_chain, cap * out, &ok);
  wf_net_get(net, &net->chain_x, cap * in, &ok);
  wf_net_get(net, &net->out_adj, cap * out, &ok);
  return ok ? WF_OK : WF_ERR_NOMEM;
}

/* ---- the walker -------------------------------------------------------- */

#define L_OF(net) ((net)->stk->spec.n_layers)

static wf_layer_run run_of(wf_net *net, int l) {
  wf_stack *stk = net->stk;
  const wf_layer_spec *ls = &stk->spec.layer[l];
  const wf_layout *lay = &net->layout;
  wf_stack_cache *c = &stk->layer[l];
  size_t nw, nb, ns;
  layer_sizes(&stk->spec, stk->shape, l, &nw, &nb, &ns);
  wf_layer_run r = {
      .be = WF_NET_BE(net),
      .ctx = WF_NET_CTX(net),
      .spec = ls,
      .in = stk->shape[l],
      .out = stk->shape[l + 1],
      .m = net->m,
      .train = net->train,
      .w = nw > 0 ? WF_PARAMS(net) + lay->weight[l] : NULL,
      .b = nb > 0 ? WF_PARAMS(net) + lay->bias[l] : NULL,
      .dw = nw > 0 ? WF_GRAD(net) + lay->weight[l] : NULL,
      .db = nb > 0 ? WF_GRAD(net) + lay->bias[l] : NULL,
      .run_mean = ns > 0 ? net->p->state + lay->running_mean[l] : NULL,
      .run_var = ns > 0 ? net->p->state + lay->running_var[l] : NULL,
      .xhat = c->xhat,
      .xhat_dot = c->xhat_dot,
      .rstd = c->rstd,
      .cols = stk->cols,
  };
  return r;
}

/* a run over the whole batch with no layer: for layout changes */
static wf_layer_run batch_run(wf_net *net) {
  wf_layer_run r;
  memset(&r, 0, sizeof(r));
  r.be = WF_NET_BE(net);
  r.ctx = WF_NET_CTX(net);
  r.m = net->m;
  return r;
}

static const wf_real *layer_x(const wf_net *net, int l) {
  return l == 0 ? net->stk->x : net->stk->layer[l - 1].y;
}

static wf_shape out_shape(const wf_net *net) {
  return net->stk->shape[L_OF(net)];
}

wf_status wf_stack_forward(wf_net *net, const wf_real *x, int m, int train,
                           wf_real *y) {
  wf_stack *stk = net->stk;
  if (m < 1) return wf_fail(net, WF_ERR_ARG, "a batch needs at least one row");
  if (train && net->spec.norm == WF_NORM_BATCH) {
    for (int l = 0; l < L_OF(net); l++)
      if (stk->spec.layer[l].kind == WF_LAYER_BATCH_NORM &&
          (size_t)m * wf_shape_pixels(stk->shape[l]) < 2)
        return wf_fail(net, WF_ERR_ARG,
                       "BatchNorm in training mode needs at least 2 values per "
                       "channel (layer %d)", l + 1);
  }
  wf_status rc = wf_net_reserve(net, m);
  if (rc != WF_OK) return rc;
  net->cache = WF_CACHE_EMPTY;
  net->m = m;
  net->train = train;
  wf_layer_run b = batch_run(net);
  wf_to_channels_last(&b, stk->shape[0], x, stk->x);
  for (int l = 0; l < L_OF(net); l++) {
    wf_layer_run r = run_of(net, l);
    wf_layer_ops_of(r.spec->kind)->forward(&r, layer_x(net, l), stk->layer[l].y, 1);
  }
  wf_from_channels_last(&b, out_shape(net), stk->layer[L_OF(net) - 1].y, stk->y_out);
  if (y != NULL)
    b.be->copy(b.ctx, y, stk->y_out, (size_t)m * wf_shape_size(out_shape(net)));
  net->cache = WF_CACHE_FORWARD;
  return wf_net_sync_error(net);
}

const wf_real *wf_stack_output(const wf_net *net) { return net->stk->y_out; }

/* The reverse sweep of dy [m x out] (c, h, w order): parameter gradients
 * if asked, dx [m x in] (c, h, w order; NULL: not wanted), and with
 * keep_chain every layer's output adjoint in its chain. */
static void reverse_sweep(wf_net *net, const wf_real *dy, wf_real *dx, int grads,
                          int keep_chain) {
  wf_stack *stk = net->stk;
  wf_layer_run b = batch_run(net);
  int L = L_OF(net), ping = 0;
  wf_real *g = keep_chain ? stk->layer[L - 1].chain : stk->adj[ping];
  wf_to_channels_last(&b, out_shape(net), dy, g);
  for (int l = L - 1; l >= 0; l--) {
    wf_layer_run r = run_of(net, l);
    wf_real *next = l == 0 ? (dx != NULL ? stk->adj[1 - ping] : NULL)
                    : keep_chain ? stk->layer[l - 1].chain
                                 : stk->adj[1 - ping];
    wf_layer_ops_of(r.spec->kind)
        ->backward(&r, layer_x(net, l), stk->layer[l].y, g, next, grads);
    g = next;
    ping = 1 - ping;
  }
  if (dx != NULL) wf_from_channels_last(&b, stk->shape[0], g, dx);
}

wf_status wf_stack_backward(wf_net *net, const wf_real *dy, wf_real *dx) {
  if (net->cache == WF_CACHE_EMPTY)
    return wf_fail(net, WF_ERR_STATE, "backward needs a forward pass first");
  reverse_sweep(net, dy, dx, WF_GRADS_ALL, 0); /* the kept chain is untouched */
  return wf_net_sync_error(net);
}

wf_status wf_stack_input_grad(wf_net *net, const wf_real *dy, wf_real *g) {
  if (net->cache == WF_CACHE_EMPTY)
    return wf_fail(net, WF_ERR_STATE, "input_grad needs a forward pass first");
  const wf_backend *be = WF_NET_BE(net);
  size_t ny = (size_t)net->m * wf_shape_size(out_shape(net));
  if (dy == NULL)
    be->fill(WF_NET_CTX(net), net->dy_chain, ny, 1);
  else
    be->copy(WF_NET_CTX(net), net->dy_chain, dy, ny);
  net->chain_ones = dy == NULL;
  reverse_sweep(net, net->dy_chain, net->chain_x, WF_GRADS_NONE, 1);
  if (g != NULL)
    be->copy(WF_NET_CTX(net), g, net->chain_x,
             (size_t)net->m * wf_shape_size(net->stk->shape[0]));
  net->cache = WF_CACHE_INPUT_GRAD;
  return wf_net_sync_error(net);
}

/* The tangent of every layer's output along the direction in stk->u. */
static void tangent_sweep(wf_net *net) {
  wf_stack *stk = net->stk;
  const wf_real *prev = stk->u;
  for (int l = 0; l < L_OF(net); l++) {
    wf_layer_run r = run_of(net, l);
    const wf_layer_ops *ops = wf_layer_ops_of(r.spec->kind);
    if (ops->linear)
      ops->forward(&r, prev, stk->layer[l].dot, 0);
    else
      ops->tangent(&r, layer_x(net, l), prev, stk->layer[l].dot);
    prev = stk->layer[l].dot;
  }
}

/* The reverse of the tangent sweep: ybar (channels-last, in adj[0]; NULL:
 * zero) is the primal adjoint of the output, the chain the tangents'
 * adjoints. Accumulates parameter gradients; the primal adjoint of the
 * input goes to dx (c, h, w order) when dx != NULL. */
static void second_sweep(wf_net *net, const wf_real *ybar, wf_real *dx) {
  wf_stack *stk = net->stk;
  int L = L_OF(net), ping = 1;
  for (int l = L - 1; l >= 0; l--) {
    wf_layer_run r = run_of(net, l);
    const wf_layer_ops *ops = wf_layer_ops_of(r.spec->kind);
    const wf_real *xdot = l == 0 ? stk->u : stk->layer[l - 1].dot;
    const wf_real *x = layer_x(net, l);
    wf_real *xbar = stk->adj[ping];
    if (ops->linear) {
      /* S's dependence on the weights through the tangent: chain (x) xdot */
      ops->backward(&r, xdot, NULL, stk->layer[l].chain, NULL, WF_GRADS_WEIGHT);
      if (ybar != NULL)
        ops->backward(&r, x, stk->layer[l].y, ybar,
                      l > 0 || dx != NULL ? xbar : NULL, WF_GRADS_ALL);
      ybar = ybar != NULL && (l > 0 || dx != NULL) ? xbar : NULL;
    } else {
      ybar = ops->second(&r, x, ybar, stk->layer[l].chain, xdot, xbar);
    }
    ping = 1 - ping;
  }
  if (dx == NULL) return;
  wf_layer_run b = batch_run(net);
  if (ybar == NULL)
    b.be->fill(b.ctx, dx, (size_t)net->m * wf_shape_size(stk->shape[0]), 0);
  else
    wf_from_channels_last(&b, stk->shape[0], ybar, dx);
}

/* u [m x in] in c, h, w order into stk->u, channels-last, and its tangents */
static void push_direction(wf_net *net, const wf_real *u) {
  wf_layer_run b = batch_run(net);
  wf_to_channels_last(&b, net->stk->shape[0], u, net->stk->u);
  tangent_sweep(net);
}

wf_status wf_stack_double_backward(wf_net *net, const wf_real *u, wf_real *dx,
                                   wf_real *du, double *value) {
  const wf_backend *be = WF_NET_BE(net);
  wf_ctx *ctx = WF_NET_CTX(net);
  size_t nx = (size_t)net->m * wf_shape_size(net->stk->shape[0]);
  if (value != NULL) { /* S = sum u . grad_x f */
    wf_loss_spec dot = {WF_LOSS_LINEAR, 1.0, 0.0, 0};
    be->loss(ctx, &dot, u, net->chain_x, nx, NULL, value);
  }
  push_direction(net, u);
  second_sweep(net, NULL, dx);
  if (du != NULL) be->copy(ctx, du, net->chain_x, nx);
  return wf_net_sync_error(net);
}

wf_status wf_stack_backward_rows(wf_net *net, const wf_real *w, const wf_real *u) {
  wf_stack *stk = net->stk;
  const wf_backend *be = WF_NET_BE(net);
  wf_ctx *ctx = WF_NET_CTX(net);
  int m = net->m, out = (int)wf_shape_size(out_shape(net));
  /* S_w's output adjoint: w_i on every value of row i (in any layout) */
  wf_real *ybar = NULL;
  if (w != NULL) {
    ybar = u == NULL ? net->out_adj : stk->adj[0];
    be->fill(ctx, ybar, (size_t)m * out, 1);
    be->row_scale(ctx, ybar, w, m, out, ybar);
  }
  if (u == NULL) { /* S_w alone: the plain backward of its adjoint */
    reverse_sweep(net, ybar, NULL, WF_GRADS_ALL, 0);
  } else {
    push_direction(net, u);
    second_sweep(net, ybar, NULL);
  }
  return wf_net_sync_error(net);
}
