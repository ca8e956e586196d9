/* stack.h — nets as stacks of typed layers: what stack.c (the walker) and
 * the layer_<kind>.c files (one kind each, its passes side by side) share.
 *
 * Every layer maps a tensor x [m x size(in)] to y [m x size(out)], images
 * channels-last (backend.h, wf_conv_geom). A kind implements:
 *   forward   y = f(x) (train: batch statistics), caching what it needs
 *   backward  from dy: parameter gradients (as `grads` asks) and dx
 *   tangent   ydot = J xdot (the linearisation at the cached forward)
 *   second    the reverse of (y, ydot): given the primal adjoint ybar of y
 *             (NULL: zero) and the tangent adjoint ydbar of ydot (the
 *             input-gradient chain), accumulate the parameter gradient and
 *             return the primal adjoint of x (written to xbar, or NULL when
 *             it is zero)
 * The walker chains them into the net's four passes (forward, backward,
 * input gradient, double backward); see stack.c. */
#ifndef WF_STACK_H
#define WF_STACK_H

#include "net.h"

/* What a backward pass accumulates into the parameter gradient. */
enum {
  WF_GRADS_NONE = 0,
  WF_GRADS_WEIGHT = 1, /* weights (and norm scales) only, no biases */
  WF_GRADS_ALL = 2
};

/* One layer at work: its spec, shapes, parameters and caches. */
typedef struct {
  const wf_backend *be;
  wf_ctx *ctx;
  const wf_layer_spec *spec;
  wf_shape in, out;
  int m;                 /* rows of the batch */
  int train;             /* BatchNorm: batch statistics */
  const wf_real *w;      /* weight (or norm gamma) in the net's parameters */
  const wf_real *b;      /* bias (or norm beta); NULL without */
  wf_real *dw, *db;      /* their gradients */
  wf_real *run_mean, *run_var; /* BatchNorm state [c] */
  wf_real *xhat;         /* norms: normalised values [m x size(out)] */
  wf_real *xhat_dot;     /* LayerNorm: their tangent [m x size(out)] */
  wf_real *rstd;         /* norms: 1/sd, [m] (layer) or [c] (batch) */
  wf_real *cols;         /* scratch shared by the layers [m x cols_per_row] */
} wf_layer_run;

typedef struct {
  const char *name;
  /* out shape from in, or WF_ERR_ARG with why in msg (the walker adds
   * which layer) */
  wf_status (*shape)(const wf_layer_spec *s, wf_shape in, wf_shape *out,
                     char *msg);
  /* parameters (weight, bias or gamma, beta) and state values; this and
   * the next two may be NULL: none */
  void (*sizes)(const wf_layer_spec *s, wf_shape in, wf_shape out,
                size_t *n_weight, size_t *n_bias, size_t *n_state);
  /* fan-in of PyTorch's default init (weight layers; 0 otherwise) */
  size_t (*fan_in)(const wf_layer_spec *s, wf_shape in, wf_shape out);
  /* scratch values per row (cols) */
  size_t (*scratch)(const wf_layer_spec *s, wf_shape in, wf_shape out);
  /* with_bias 0: the linear part alone (a linear layer's tangent) */
  void (*forward)(const wf_layer_run *r, const wf_real *x, wf_real *y,
                  int with_bias);
  void (*backward)(const wf_layer_run *r, const wf_real *x, const wf_real *y,
                   const wf_real *dy, wf_real *dx, int grads);
  /* NULL for linear kinds (the walker's own), and for BatchNorm (refused) */
  void (*tangent)(const wf_layer_run *r, const wf_real *x, const wf_real *xdot,
                  wf_real *ydot);
  const wf_real *(*second)(const wf_layer_run *r, const wf_real *x,
                           const wf_real *ybar, const wf_real *ydbar,
                           const wf_real *xdot, wf_real *xbar);
  int linear; /* y = A x + b: the tangent is A xdot, the second generic */
} wf_layer_ops;

extern const wf_layer_ops wf_layer_dense, wf_layer_conv2d, wf_layer_conv_t2d,
    wf_layer_batch_norm, wf_layer_layer_norm, wf_layer_activation,
    wf_layer_reshape;

const wf_layer_ops *wf_layer_ops_of(wf_layer_kind kind);

static inline size_t wf_shape_size(wf_shape s) {
  return (size_t)s.c * (size_t)s.h * (size_t)s.w;
}
static inline size_t wf_shape_pixels(wf_shape s) {
  return (size_t)s.h * (size_t)s.w;
}

/* Layout changes between PyTorch's c, h, w order and channels-last. */
void wf_to_channels_last(const wf_layer_run *r, wf_shape s, const wf_real *x,
                         wf_real *y);
void wf_from_channels_last(const wf_layer_run *r, wf_shape s, const wf_real *x,
                           wf_real *y);

/* A stack net's layers: shapes, per-layer caches, shared scratch. */
typedef struct {
  wf_real *y;        /* [cap x size(out)] output */
  wf_real *chain;    /* [cap x size(out)] adjoint of y, input-gradient pass */
  wf_real *dot;      /* [cap x size(out)] tangent of y */
  wf_real *xhat;     /* norms [cap x size(out)] */
  wf_real *xhat_dot; /* LayerNorm [cap x size(out)] */
  wf_real *rstd;     /* norms: [cap] or [c] */
} wf_stack_cache;

struct wf_stack {
  wf_stack_spec spec;
  wf_shape shape[WF_MAX_LAYERS + 1]; /* [0] the input, [l + 1] after layer l */
  wf_stack_cache layer[WF_MAX_LAYERS];
  wf_real *x;        /* [cap x size(in)] the input, channels-last */
  wf_real *u;        /* [cap x size(in)] the double backward's direction, same */
  wf_real *y_out;    /* [cap x size(out)] the output in c, h, w order */
  wf_real *adj[2];   /* [cap x max size] adjoints, ping-pong */
  wf_real *cols;     /* [cap x max scratch] */
  size_t max_size, max_scratch;
};

/* A stack's shapes and workspace sizes from a spec (checked), the MLP-shaped
 * summary the rest of the engine reads (in and out widths, which norm)
 * and its parameter layout. */
wf_status wf_stack_new(const wf_stack_spec *spec, wf_stack **out, wf_mlp_spec *summary,
                       wf_layout *lay, char *msg);
wf_status wf_stack_reserve(wf_net *net, int m);
void wf_stack_free_workspace(wf_net *net);
wf_status wf_stack_init_params(wf_net *net, double *p, double *st);

/* The passes of a stack net (mlp.c's wf_mlp_* call them after their checks:
 * the second-order ones need the input gradient's chain, no BatchNorm). */
wf_status wf_stack_forward(wf_net *net, const wf_real *x, int m, int train,
                           wf_real *y);
const wf_real *wf_stack_output(const wf_net *net);
wf_status wf_stack_backward(wf_net *net, const wf_real *dy, wf_real *dx);
wf_status wf_stack_input_grad(wf_net *net, const wf_real *dy, wf_real *g);
wf_status wf_stack_double_backward(wf_net *net, const wf_real *u, wf_real *dx,
                                   wf_real *du, double *value);
wf_status wf_stack_backward_rows(wf_net *net, const wf_real *w, const wf_real *u);

#endif
