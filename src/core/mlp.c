/* mlp.c — the four passes of an MLP, written once over the backend table.
 *
 * Layer l (0-based) maps h_{l-1} [m x k] to h_l [m x n]:
 *   z = h_{l-1} W^T + b,  nrm = norm(z) (hidden layers, optional),
 *   h = act(nrm or z).    h_{-1} = x; output y = h_{L-1} (+ x if residual).
 *
 * The double backward is reverse mode over the tangent (forward-mode) pass:
 * S = sum_i u_i . grad_x f(x_i) is the directional derivative of f along u,
 * so we push the tangent u through the net, then differentiate that tangent
 * pass. Its tangent adjoints are exactly the adjoint chain of the input-
 * gradient pass, which we therefore keep and reuse; its primal adjoints are
 * zero through layers whose activation has no curvature (identity, relu,
 * leaky relu), which we skip.
 */
#include "net.h"
#include "rowchain.h"
#include "stack.h"

#define L_OF(net) ((net)->spec.n_layers)
#define IN_OF(net) ((net)->spec.widths[0])
#define OUT_OF(net) ((net)->spec.widths[(net)->spec.n_layers])

static wf_activation layer_act(const wf_net *net, int l) {
  return l == L_OF(net) - 1 ? net->spec.output_activation : net->spec.activation;
}

static int has_norm(const wf_net *net, int l) {
  return l < L_OF(net) - 1 && net->spec.norm != WF_NORM_NONE;
}

/* act'' == 0 everywhere (where defined): the primal adjoint stays zero */
static int is_piecewise_linear(wf_activation a) {
  return a == WF_ACT_IDENTITY || a == WF_ACT_RELU || a == WF_ACT_LEAKY_RELU;
}

static const wf_real *weight(const wf_net *net, int l) {
  return WF_PARAMS(net) + net->layout.weight[l];
}

/* Layers whose activation is folded into the product's store: no norm,
 * and an activation whose derivative is read off its output as well as its
 * input (identity, relu, leaky relu with a positive slope: h > 0 iff z > 0).
 * They keep h only; z is never written. */
static int fused(const wf_net *net, int l) {
  wf_activation a = layer_act(net, l);
  return !has_norm(net, l) &&
         (a == WF_ACT_IDENTITY || a == WF_ACT_RELU ||
          (a == WF_ACT_LEAKY_RELU && net->spec.leaky_slope > 0));
}

/* the activation's input (after the norm if there is one), or for fused
 * layers its output, which gives the same derivative */
static const wf_real *pre_act(const wf_net *net, int l) {
  if (has_norm(net, l)) return net->layer[l].nrm;
  return fused(net, l) ? net->layer[l].h : net->layer[l].z;
}

/* the epilogue "times act'(u)" of layer l (a fused layer) */
static wf_epilogue times_deriv(const wf_net *net, int l) {
  wf_epilogue ep = {WF_EP_TIMES_DERIV, layer_act(net, l),
                    (wf_real)net->spec.leaky_slope, NULL, pre_act(net, l)};
  return ep;
}

/* the layer's input: x for the first layer */
static const wf_real *layer_input(const wf_net *net, int l) {
  return l == 0 ? net->x_in : net->layer[l - 1].h;
}

/* a row chain over the net's rows */
static void rows_begin(wf_rowchain *ch, wf_net *net, int m) {
  wf_rows_begin(ch, WF_NET_BE(net), WF_NET_CTX(net), m);
}

wf_status wf_mlp_forward(wf_net *net, const wf_real *x, int m, int train,
                         wf_real *y) {
  if (net->stk != NULL) return wf_stack_forward(net, x, m, train, y);
  const wf_backend *be = WF_NET_BE(net);
  wf_ctx *ctx = WF_NET_CTX(net);
  const wf_mlp_spec *s = &net->spec;
  if (m < 1) return wf_fail(net, WF_ERR_ARG, "a batch needs at least one row");
  if (train && s->norm == WF_NORM_BATCH && m < 2)
    return wf_fail(net, WF_ERR_ARG,
                   "BatchNorm in training mode needs at least 2 rows");
  wf_status rc = wf_net_reserve(net, m);
  if (rc != WF_OK) return rc;
  net->cache = WF_CACHE_EMPTY;
  /* rows do not mix (but in BatchNorm): one chain from x to y */
  wf_rowchain ch;
  rows_begin(&ch, net, m);
  wf_rows_copy(&ch, net->x_in, x, IN_OF(net));
  for (int l = 0; l < L_OF(net); l++) {
    wf_layer_cache *c = &net->layer[l];
    int k = s->widths[l], n = s->widths[l + 1];
    const wf_real *bias = WF_PARAMS(net) + net->layout.bias[l];
    if (fused(net, l)) { /* h = act(x W^T + b) in one pass */
      wf_epilogue ep = {WF_EP_BIAS_ACT, layer_act(net, l),
                        (wf_real)s->leaky_slope, bias, NULL};
      wf_rows_product(&ch, 1, n, k, layer_input(net, l), weight(net, l), c->h, &ep);
      continue;
    }
    wf_rows_product(&ch, 1, n, k, layer_input(net, l), weight(net, l), c->z, NULL);
    wf_rows_add_bias(&ch, c->z, bias, n);
    if (has_norm(net, l)) {
      wf_rows_flush(&ch);
      const wf_real *gamma = WF_PARAMS(net) + net->layout.gamma[l];
      const wf_real *beta = WF_PARAMS(net) + net->layout.beta[l];
      if (s->norm == WF_NORM_LAYER)
        be->ln_forward(ctx, c->z, m, n, gamma, beta, c->nrm, c->xhat, c->rstd);
      else
        be->bn_forward(ctx, c->z, m, n, gamma, beta,
                       net->p->state + net->layout.running_mean[l],
                       net->p->state + net->layout.running_var[l], train, 0.1,
                       c->nrm, c->xhat, c->rstd);
    }
    wf_rows_act_forward(&ch, layer_act(net, l), s->leaky_slope, pre_act(net, l), c->h, n);
  }
  int out = OUT_OF(net);
  if (s->residual) { /* y = x + H(x), kept for wf_mlp_output */
    wf_rows_copy(&ch, net->y_out, net->layer[L_OF(net) - 1].h, out);
    wf_rows_axpy(&ch, net->y_out, 1, net->x_in, out);
  }
  if (y != NULL) wf_rows_copy(&ch, y, wf_mlp_output(net), out);
  wf_rows_flush(&ch);
  net->m = m;
  net->train = train;
  net->cache = WF_CACHE_FORWARD;
  return wf_net_sync_error(net);
}

const wf_real *wf_mlp_output(const wf_net *net) {
  if (net->stk != NULL) return wf_stack_output(net);
  return net->spec.residual ? net->y_out : net->layer[L_OF(net) - 1].h;
}

const wf_real *wf_mlp_input_grad_result(const wf_net *net) { return net->chain_x; }

/* The reverse sweep shared by backward and input_grad, pushed onto the
 * row chain ch: from the output adjoint dy [m x out], write the input
 * adjoint to dx [m x in] (if not NULL); with keep_chain store the adjoints
 * of every h and z for the double backward; with param_grads keep the
 * adjoint of every z (layer zbar) and list the parameter gradients on gl,
 * to run after the chain (a norm's gamma and beta are added on the way). */
static void reverse_sweep(wf_net *net, wf_rowchain *ch, wf_gradlist *gl,
                          const wf_real *dy, wf_real *dx, int param_grads,
                          int keep_chain) {
  const wf_backend *be = WF_NET_BE(net);
  wf_ctx *ctx = WF_NET_CTX(net);
  const wf_mlp_spec *s = &net->spec;
  const wf_layout *lay = &net->layout;
  int m = net->m, L = L_OF(net);
  const wf_real *g = dy; /* adjoint of h_l (of its pre-activation if g_is_ubar) */
  int g_is_ubar = 0;
  int ping = 2;          /* adj[2] / adj[3] alternate as the adjoint of h */
  if (keep_chain) wf_rows_copy(ch, net->layer[L - 1].chain_h, dy, OUT_OF(net));
  for (int l = L - 1; l >= 0; l--) {
    wf_layer_cache *c = &net->layer[l];
    int k = s->widths[l], n = s->widths[l + 1];
    int norm = has_norm(net, l);
    /* adjoint of the activation's input (the product below may have made
     * it already), then of z */
    wf_real *ubar;
    if (g_is_ubar) {
      ubar = (wf_real *)g;
    } else {
      if (keep_chain) g = c->chain_h;
      /* without a norm this is z's adjoint: kept where its reader looks */
      ubar = norm ? net->adj[0] : keep_chain ? c->chain_z : c->zbar;
      wf_rows_act_backward(ch, layer_act(net, l), s->leaky_slope, pre_act(net, l), g,
                           ubar, n);
    }
    wf_real *zbar = ubar;
    if (norm) { /* the norm reads all rows (BatchNorm) and adds gamma's sums */
      wf_rows_flush(ch);
      zbar = keep_chain ? c->chain_z : c->zbar;
      wf_real *dgamma = param_grads ? WF_GRAD(net) + lay->gamma[l] : NULL;
      wf_real *dbeta = param_grads ? WF_GRAD(net) + lay->beta[l] : NULL;
      const wf_real *gamma = WF_PARAMS(net) + lay->gamma[l];
      if (s->norm == WF_NORM_LAYER)
        be->ln_backward(ctx, ubar, c->xhat, c->rstd, gamma, m, n, zbar, dgamma,
                        dbeta);
      else
        be->bn_backward(ctx, ubar, c->xhat, c->rstd, gamma, m, n, net->train, zbar,
                        dgamma, dbeta);
    }
    /* dW [n x k] += zbar^T h_{l-1};  db [n] += column sums of zbar */
    if (param_grads)
      wf_grads_add(gl, ch, m, n, k, zbar, layer_input(net, l),
                   WF_GRAD(net) + lay->weight[l], WF_GRAD(net) + lay->bias[l]);
    if (l == 0) {
      if (dx != NULL) wf_rows_product(ch, 0, k, n, zbar, weight(net, l), dx, NULL);
      break;
    }
    /* the adjoint of h_{l-1}; for a fused layer straight away times its
     * act' (the chain of h is then not kept: the double backward reads it
     * only for curved activations and norms) */
    g_is_ubar = fused(net, l - 1);
    wf_epilogue ep = times_deriv(net, l - 1);
    wf_layer_cache *below = &net->layer[l - 1];
    wf_real *next = keep_chain  ? (g_is_ubar ? below->chain_z : below->chain_h)
                    : g_is_ubar ? below->zbar
                                : net->adj[ping];
    wf_rows_product(ch, 0, k, n, zbar, weight(net, l), next, g_is_ubar ? &ep : NULL);
    g = next;
    ping = ping == 2 ? 3 : 2;
  }
  if (s->residual && dx != NULL) wf_rows_axpy(ch, dx, 1, dy, IN_OF(net));
}

wf_status wf_mlp_backward(wf_net *net, const wf_real *dy, wf_real *dx) {
  if (net->stk != NULL) return wf_stack_backward(net, dy, dx);
  if (net->cache == WF_CACHE_EMPTY)
    return wf_fail(net, WF_ERR_STATE, "backward needs a forward pass first");
  wf_rowchain ch;
  wf_gradlist gl;
  gl.n = 0;
  rows_begin(&ch, net, net->m);
  reverse_sweep(net, &ch, &gl, dy, dx, 1, 0);
  wf_rows_flush(&ch);
  wf_grads_run(&gl, WF_NET_BE(net), WF_NET_CTX(net));
  return wf_net_sync_error(net);
}

wf_status wf_mlp_input_grad(wf_net *net, const wf_real *dy, wf_real *g) {
  if (net->stk != NULL) return wf_stack_input_grad(net, dy, g);
  if (net->cache == WF_CACHE_EMPTY)
    return wf_fail(net, WF_ERR_STATE, "input_grad needs a forward pass first");
  wf_rowchain ch;
  rows_begin(&ch, net, net->m);
  if (dy == NULL)
    wf_rows_fill(&ch, net->dy_chain, 1, OUT_OF(net));
  else
    wf_rows_copy(&ch, net->dy_chain, dy, OUT_OF(net));
  net->chain_ones = dy == NULL;
  reverse_sweep(net, &ch, NULL, net->dy_chain, net->chain_x, 0, 1);
  if (g != NULL) wf_rows_copy(&ch, g, net->chain_x, IN_OF(net));
  wf_rows_flush(&ch);
  net->cache = WF_CACHE_INPUT_GRAD;
  return wf_net_sync_error(net);
}

/* Push the direction u_in through the net onto the row chain: zdot,
 * (xhat_dot, ndot), hdot. */
static void tangent_sweep(wf_net *net, wf_rowchain *ch) {
  const wf_backend *be = WF_NET_BE(net);
  wf_ctx *ctx = WF_NET_CTX(net);
  const wf_mlp_spec *s = &net->spec;
  int m = net->m;
  const wf_real *prev = net->u_in;
  for (int l = 0; l < L_OF(net); l++) {
    wf_layer_cache *c = &net->layer[l];
    int k = s->widths[l], n = s->widths[l + 1];
    if (fused(net, l)) { /* hdot = (prev W^T) * act'(u) in one pass */
      wf_epilogue ep = times_deriv(net, l);
      wf_rows_product(ch, 1, n, k, prev, weight(net, l), c->hdot, &ep);
      prev = c->hdot;
      continue;
    }
    wf_rows_product(ch, 1, n, k, prev, weight(net, l), c->zdot, NULL);
    const wf_real *udot = c->zdot;
    if (has_norm(net, l)) {
      wf_rows_flush(ch);
      be->ln_jvp(ctx, c->zdot, c->xhat, c->rstd,
                 WF_PARAMS(net) + net->layout.gamma[l], m, n, c->xhat_dot,
                 c->ndot);
      udot = c->ndot;
    }
    wf_rows_act_backward(ch, layer_act(net, l), s->leaky_slope, pre_act(net, l), udot,
                         c->hdot, n);
    prev = c->hdot;
  }
}

/* The reverse sweep of the second-order passes, pushed onto the row chain
 * ch with the parameter gradients listed on gl. With have_u: of the
 * tangent pass (tangent_sweep pushed, u in u_in), S_u = sum_i u_i . g_i;
 * with w: S_w = sum_i w_i sum_j y_ij, whose adjoint at every layer is the
 * kept chain of the summed output scaled by rows (rows do not mix without
 * BatchNorm), so it adds parameter products but nothing to propagate:
 *   dW += chain_z^T (hdot_{l-1} + w h_{l-1}),  db += chain_z^T w.
 * dx (NULL: not wanted) gets dS_u/dx. */
static void second_sweep(wf_net *net, wf_rowchain *ch, wf_gradlist *gl, int have_u,
                         const wf_real *w, wf_real *dx) {
  const wf_backend *be = WF_NET_BE(net);
  wf_ctx *ctx = WF_NET_CTX(net);
  const wf_mlp_spec *s = &net->spec;
  const wf_layout *lay = &net->layout;
  int m = net->m, L = L_OF(net);
  const wf_real *hbar = NULL; /* primal adjoint of h_l; NULL means zero */
  for (int l = L - 1; l >= 0; l--) {
    wf_layer_cache *c = &net->layer[l];
    int k = s->widths[l], n = s->widths[l + 1];
    wf_activation act = layer_act(net, l);
    int norm = has_norm(net, l);
    const wf_real *gamma = WF_PARAMS(net) + lay->gamma[l];
    wf_real *dgamma = WF_GRAD(net) + lay->gamma[l], *dbeta = WF_GRAD(net) + lay->beta[l];
    wf_real *ubar = NULL, *zbar = NULL; /* primal adjoints of the act's input, of z */
    if (have_u) {
      const wf_real *udot = norm ? c->ndot : c->zdot;
      if (hbar != NULL || !is_piecewise_linear(act)) {
        ubar = norm ? net->adj[0] : c->zbar;
        wf_rows_act_second(ch, act, s->leaky_slope, pre_act(net, l), hbar, c->chain_h,
                           udot, ubar, n);
      }
      zbar = ubar;
      if (norm) {
        /* tangent adjoint of nrm: chain_h * act'(nrm) */
        wf_real *ndbar = net->adj[2];
        wf_rows_act_backward(ch, act, s->leaky_slope, c->nrm, c->chain_h, ndbar, n);
        wf_rows_flush(ch);
        zbar = c->zbar;
        be->ln_double(ctx, ubar, ndbar, c->zdot, c->xhat, c->xhat_dot, c->rstd, gamma, m,
                      n, zbar, dgamma, dbeta);
      }
    }
    if (w != NULL && norm) {
      /* S_w's gamma and beta: the norm's backward along w (act'(nrm) chain_h) */
      wf_real *nbar = net->adj[2];
      wf_rows_act_backward(ch, act, s->leaky_slope, c->nrm, c->chain_h, nbar, n);
      wf_rows_scale(ch, nbar, w, nbar, n);
      wf_rows_flush(ch);
      be->ln_backward(ctx, nbar, c->xhat, c->rstd, gamma, m, n, net->adj[3], dgamma, dbeta);
    }
    /* dW += zdotbar^T hdot_{l-1} (+ the w part) + zbar^T h_{l-1}; the tangent
     * adjoint of z is chain_z; the bias gets the primal parts only */
    const wf_real *prev_dot = l == 0 ? net->u_in : net->layer[l - 1].hdot;
    const wf_real *h_in = layer_input(net, l);
    wf_real *dw = WF_GRAD(net) + lay->weight[l], *db = WF_GRAD(net) + lay->bias[l];
    if (w != NULL) {
      wf_real *b = c->dw_in; /* [m x k] hdot_{l-1} + w h_{l-1} */
      wf_rows_scale(ch, b, w, h_in, k);
      if (have_u) wf_rows_axpy(ch, b, 1, prev_dot, k);
      wf_grads_add(gl, ch, m, n, k, c->chain_z, b, dw, NULL);
      wf_grads_add(gl, ch, m, n, 1, c->chain_z, w, db, NULL);
    } else if (have_u) {
      wf_grads_add(gl, ch, m, n, k, c->chain_z, prev_dot, dw, NULL);
    }
    if (zbar != NULL) wf_grads_add(gl, ch, m, n, k, zbar, h_in, dw, db);
    if (zbar == NULL || (l == 0 && dx == NULL)) {
      hbar = NULL;
      continue;
    }
    wf_real *next = l == 0 ? dx : net->adj[3];
    wf_rows_product(ch, 0, k, n, zbar, weight(net, l), next, NULL);
    hbar = next;
  }
  if (dx != NULL && hbar == NULL) wf_rows_fill(ch, dx, 0, IN_OF(net));
}

/* The second-order passes (MLPs and stacks) need the input gradient's
 * chain and no BatchNorm. */
static wf_status check_second(wf_net *net, const char *what) {
  if (net->spec.norm == WF_NORM_BATCH)
    return wf_fail(net, WF_ERR_UNSUPPORTED,
                   "%s through BatchNorm is not supported (use %s for critics)", what,
                   net->stk != NULL ? "no norm or wf_layer_norm()"
                                    : "norm = \"none\" or \"layer\"");
  if (net->cache != WF_CACHE_INPUT_GRAD)
    return wf_fail(net, WF_ERR_STATE, "%s needs forward and input_grad first", what);
  return WF_OK;
}

wf_status wf_mlp_double_backward(wf_net *net, const wf_real *u, wf_real *dx,
                                 wf_real *du, double *value) {
  const wf_backend *be = WF_NET_BE(net);
  wf_ctx *ctx = WF_NET_CTX(net);
  wf_status rc = check_second(net, "double backward");
  if (rc != WF_OK) return rc;
  if (net->stk != NULL) return wf_stack_double_backward(net, u, dx, du, value);
  size_t nx = (size_t)net->m * IN_OF(net);
  be->copy(ctx, net->u_in, u, nx);
  /* S = sum u . grad_x f, with the gradient from the input-gradient pass */
  if (value != NULL) {
    wf_loss_spec dot = {WF_LOSS_LINEAR, 1.0, 0.0, 0};
    be->loss(ctx, &dot, net->u_in, net->chain_x, nx, NULL, value);
  }
  wf_rowchain ch;
  wf_gradlist gl;
  gl.n = 0;
  rows_begin(&ch, net, net->m);
  tangent_sweep(net, &ch);
  second_sweep(net, &ch, &gl, 1, NULL, dx);
  if (du != NULL) wf_rows_copy(&ch, du, net->chain_x, IN_OF(net));
  wf_rows_flush(&ch);
  wf_grads_run(&gl, be, ctx);
  return wf_net_sync_error(net);
}

wf_status wf_mlp_backward_rows(wf_net *net, const wf_real *w, const wf_real *u) {
  wf_status rc = check_second(net, "backward_rows");
  if (rc != WF_OK) return rc;
  if (!net->chain_ones)
    return wf_fail(net, WF_ERR_STATE,
                   "backward_rows needs the input gradient of the summed output");
  if (w == NULL && u == NULL) return WF_OK;
  if (net->stk != NULL) return wf_stack_backward_rows(net, w, u);
  wf_rowchain ch;
  wf_gradlist gl;
  gl.n = 0;
  rows_begin(&ch, net, net->m);
  if (u != NULL) {
    wf_rows_copy(&ch, net->u_in, u, IN_OF(net));
    tangent_sweep(net, &ch);
  }
  second_sweep(net, &ch, &gl, u != NULL, w, NULL);
  wf_rows_flush(&ch);
  wf_grads_run(&gl, WF_NET_BE(net), WF_NET_CTX(net));
  return wf_net_sync_error(net);
}
