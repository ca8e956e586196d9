/* wf.h — the public C API of the wgflow engine.
 *
 * R-free: nothing here includes R headers, calls R, exits or prints. Every
 * call that can fail returns a wf_status and leaves a message where the
 * caller can read it (a msg buffer, wf_net_message, wf_device_message,
 * wf_trainer_message) for the ffi layer to raise as an R error.
 *
 * Layers, bottom up (ARCHITECTURE.md draws them):
 *   device    a backend table (backend.h) and its context
 *   block     parameters, gradient and optimiser moments in one layout
 *   net       an MLP over a block, with the four passes (mlp.c)
 *   compose   compositions every algorithm uses: loss-backward, pull-back,
 *             gradient penalties, the Euler step, regression steps, the
 *             WGAN critic loss
 *   trainer   nets + data + workspaces + scalar slots, running the phases
 *             of one algorithm (algo_<family>.c)
 *
 * Conventions: matrices are row-major, one sample per row; "m" is a batch
 * size. wf_real buffers passed to the engine live on the device of the net
 * or trainer (host memory for the CPU backend). Scalar slots are doubles in
 * device memory: reductions add into them and the host reads them once per
 * phase.
 */
#ifndef WF_H
#define WF_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#ifdef WF_DOUBLE
typedef double wf_real; /* tests/c builds the core in double for tight checks */
#else
typedef float wf_real; /* the package computes in float32, like PyTorch */
#endif

#define WF_MAX_LAYERS 32
#define WF_MSG_LEN 256

typedef enum {
  WF_OK = 0,
  WF_ERR_ARG,         /* a bad argument reached the core */
  WF_ERR_NOMEM,       /* an allocation failed */
  WF_ERR_UNSUPPORTED, /* e.g. double backward through BatchNorm */
  WF_ERR_STATE,       /* a pass was called out of order */
  WF_ERR_INTERRUPT,   /* the abort callback asked to stop */
  WF_ERR_NUMERIC,     /* NaN or Inf appeared */
  WF_ERR_DEVICE       /* a GPU runtime or cuBLAS error */
} wf_status;

typedef enum {
  WF_ACT_IDENTITY = 0,
  WF_ACT_RELU,
  WF_ACT_LEAKY_RELU,
  WF_ACT_TANH,
  WF_ACT_SOFTPLUS,
  WF_ACT_ELU,
  WF_ACT_SIGMOID,
  WF_ACT_COUNT
} wf_activation;

typedef enum { WF_NORM_NONE = 0, WF_NORM_BATCH, WF_NORM_LAYER } wf_norm;
typedef enum { WF_INIT_TORCH = 0, WF_INIT_NORMAL } wf_init;

/* An MLP: n_layers Linear layers; hidden ones are Linear -> norm -> act,
 * the last is Linear -> output act. residual: y = x + H(x). */
typedef struct {
  int n_layers;                     /* >= 1 */
  int widths[WF_MAX_LAYERS + 1];    /* widths[0] in, widths[n_layers] out */
  wf_activation activation;         /* hidden layers */
  wf_activation output_activation;  /* last layer */
  double leaky_slope;               /* leaky_relu negative slope */
  wf_norm norm;                     /* on hidden layers */
  int residual;                     /* needs widths[0] == widths[n_layers] */
  wf_init init;                     /* torch: U(-1/sqrt(in), 1/sqrt(in)) */
  double init_sd;                   /* normal init: weights ~ N(0, sd), bias 0 */
  int gamma_normal;                 /* norm gamma ~ N(0, init_sd) instead of 1
                                     * (identity-start residual generators) */
} wf_mlp_spec;

/* Where each parameter block of layer l (0-based) starts in the buffer.
 * Order matches PyTorch's named_parameters() of the same Sequential:
 * weight [out x in], bias [out], then norm weight [out], norm bias [out]. */
typedef struct {
  size_t weight[WF_MAX_LAYERS], bias[WF_MAX_LAYERS];
  size_t gamma[WF_MAX_LAYERS], beta[WF_MAX_LAYERS]; /* valid if hidden+norm */
  size_t running_mean[WF_MAX_LAYERS], running_var[WF_MAX_LAYERS]; /* in state */
  size_t n_params;
  size_t n_state; /* BatchNorm running statistics, not trained */
} wf_layout;

/* A net as a stack of typed layers (stack.c, one layer_<kind>.c each).
 * Tensors between layers have a shape (c, h, w): a flat vector of n values
 * is (n, 1, 1). Rows given to and returned by the engine hold c x h x w
 * values in PyTorch's order (channel, row, column); inside, images are kept
 * channels-last (backend.h, wf_conv_geom). */
typedef enum {
  WF_LAYER_DENSE = 0,      /* y = x W^T + b over the flattened values */
  WF_LAYER_CONV2D,         /* square kernel, stride, zero padding, bias */
  WF_LAYER_CONV_T2D,       /* transposed convolution, output padding */
  WF_LAYER_BATCH_NORM,     /* per channel over batch and pixels */
  WF_LAYER_LAYER_NORM,     /* per row over all c h w values, affine */
  WF_LAYER_ACTIVATION,     /* elementwise */
  WF_LAYER_RESHAPE,        /* same values, new shape (PyTorch's view) */
  WF_LAYER_FLATTEN,        /* to (c h w, 1, 1) */
  WF_LAYER_KIND_COUNT
} wf_layer_kind;

typedef struct {
  int c, h, w;
} wf_shape;

typedef struct {
  wf_layer_kind kind;
  int units;          /* dense: outputs; conv, conv_t: output channels */
  int kernel, stride, padding, output_padding; /* conv, conv_t */
  int bias;           /* dense, conv, conv_t: with a bias */
  wf_activation act;  /* activation */
  double slope;       /* activation: leaky relu's negative slope */
  wf_shape shape;     /* reshape: the new shape */
} wf_layer_spec;

typedef struct {
  int n_layers;                        /* 1 .. WF_MAX_LAYERS */
  wf_shape in;                         /* the input's shape */
  wf_layer_spec layer[WF_MAX_LAYERS];
  wf_init init;    /* torch: U(+-1/sqrt(fan_in)); normal: N(0, init_sd), bias 0 */
  double init_sd;
} wf_stack_spec;

typedef enum { WF_OPT_SGD = 0, WF_OPT_ADAM, WF_OPT_RMSPROP } wf_opt_kind;

typedef struct {
  wf_opt_kind kind;
  double lr;
  double beta1, beta2; /* adam; rmsprop uses beta2 as alpha */
  double eps;
  double momentum;     /* sgd */
  double weight_decay; /* L2 added to the gradient, as torch.optim does */
} wf_opt_spec;

typedef enum { WF_PENALTY_NONE = 0, WF_PENALTY_GP, WF_PENALTY_LP } wf_penalty;

/* What one critic loss evaluation reports (host side, after a read-back). */
typedef struct {
  double loss;      /* -(mean phi(real) - mean phi(fake)) + penalty */
  double w1;        /* mean phi(real) - mean phi(fake) */
  double penalty;   /* lambda * mean(...) */
  double grad_norm; /* mean |grad phi(xh)| over the interpolates (NaN: none) */
} wf_critic_report;

typedef struct wf_backend wf_backend;
typedef struct wf_device wf_device;
typedef struct wf_net wf_net;
typedef struct wf_trainer wf_trainer;

/* ---- status (status.c) ---------------------------------------------------- */
/* An abort callback checked between the steps of multi-step calls; when it
 * returns nonzero the call stops with WF_ERR_INTERRUPT. */
typedef int (*wf_abort_fn)(void *data);
void wf_set_abort_callback(wf_abort_fn fn, void *data);
int wf_should_abort(void);
/* Write a formatted message to msg[WF_MSG_LEN] and return status. */
wf_status wf_fail_msg(char *msg, wf_status status, const char *fmt, ...);

/* ---- devices (device.c) --------------------------------------------------- */
const wf_backend *wf_cpu_backend(void);
const char *wf_backend_name(const wf_backend *be);

/* A device is a backend table with one context (on a GPU: one stream).
 * Reference counted: every net and trainer on it holds a reference, so it
 * lives as long as the last of them. */
wf_status wf_device_open(const wf_backend *be, wf_device **out, char *msg);
void wf_device_retain(wf_device *dev);
void wf_device_release(wf_device *dev); /* frees at the last reference */
const wf_backend *wf_device_backend(const wf_device *dev);
const char *wf_device_message(const wf_device *dev);
/* A backend knob by name (e.g. "threads"): value >= 0 sets it; returns the
 * previous value, -1 if the backend has no such knob. */
int wf_device_knob(wf_device *dev, const char *name, int value);

/* Device memory. NULL on failure. n counts elements (at least one is
 * allocated, so n = 0 is fine). */
wf_real *wf_device_alloc(wf_device *dev, size_t n);
int *wf_device_alloc_int(wf_device *dev, size_t n);
double *wf_device_alloc_scalars(wf_device *dev, int n); /* zeroed */
void wf_device_free(wf_device *dev, void *p);
wf_status wf_device_upload(wf_device *dev, wf_real *dst, const double *src, size_t n);
wf_status wf_device_download(wf_device *dev, double *dst, const wf_real *src, size_t n);
wf_status wf_device_upload_int(wf_device *dev, int *dst, const int *src, size_t n);
wf_status wf_device_download_int(wf_device *dev, int *dst, const int *src, size_t n);
/* Write n scalar slots from the host (waits for the copy). */
wf_status wf_device_write_scalars(wf_device *dev, double *slots, const double *host,
                                  int n);
/* Zero n scalar slots (queued like any op). */
void wf_device_zero_scalars(wf_device *dev, double *slots, int n);
/* Read n scalar slots (waits for queued work). */
wf_status wf_device_read_scalars(wf_device *dev, double *host, const double *slots, int n);
/* The first asynchronous error so far (WF_OK if none), its text in the
 * device's message. wf_device_sync waits first. */
wf_status wf_device_check(wf_device *dev);
wf_status wf_device_sync(wf_device *dev);

/* Compare dev with a reference device (the CPU) on a training step: a
 * critic step with the LP penalty and SGD, a BatchNorm generator's forward
 * and uniform draws, from the same seeds and inputs (selfcheck.c). WF_OK if
 * they agree to float tolerance, else WF_ERR_DEVICE and what disagreed.
 * On a device that records steps (graphs) it also runs two W1-FE epochs
 * with recorded steps and without: if they differ, the device's trainers
 * run steps eagerly from then on, and msg (otherwise "") says so. */
wf_status wf_device_selfcheck(wf_device *dev, wf_device *ref, char *msg);

/* ---- parameter blocks (block.c) ------------------------------------------- */
/* Parameters, their gradient and two optimiser moments, all [n] in one
 * layout, and the optimiser's step count: the optimisers are written once
 * over blocks. A net embeds one; a bare block is, e.g., OTS's dual vector. */
typedef struct {
  size_t n;
  wf_real *params, *grad, *m1, *m2; /* device [n] each */
  double *step_dev; /* device slot: optimiser steps taken (the ops advance it) */
  double step;      /* its host mirror, advanced with it */
} wf_block;

/* Allocate a block of n values on dev: parameters unset, gradient and
 * moments zero, step 0. */
wf_status wf_block_init(wf_block *b, wf_device *dev, size_t n, char *msg);
void wf_block_free(wf_block *b, wf_device *dev);
void wf_block_zero_grad(wf_block *b, wf_device *dev);
wf_status wf_opt_check(const wf_opt_spec *opt, char *msg);
/* One optimiser step on the block's gradient (opt validated first). */
wf_status wf_block_step(wf_block *b, wf_device *dev, const wf_opt_spec *opt,
                        char *msg);
/* Set the step count (device slot and host mirror). */
wf_status wf_block_set_step(wf_block *b, wf_device *dev, double step, char *msg);
/* Clamp every parameter to [-c, c] (c > 0). */
wf_status wf_block_clamp(wf_block *b, wf_device *dev, double c, char *msg);

/* ---- nets (net.c) ----------------------------------------------------------- */
/* Validate a spec; on error writes a message to msg (WF_MSG_LEN bytes). */
wf_status wf_mlp_check(const wf_mlp_spec *spec, char *msg);
void wf_mlp_layout(const wf_mlp_spec *spec, wf_layout *out);

/* Validate a stack and infer its shapes: shapes[l + 1] is the output of
 * layer l, shapes[0] the input (shapes may be NULL). A layer that does not
 * fit its input is named in msg ("layer 3 (conv2d): ..."). */
wf_status wf_stack_check(const wf_stack_spec *spec, wf_shape *shapes, char *msg);
/* Where each layer's parameters start: weight[l] and bias[l] (dense, conv,
 * conv_t; PyTorch's layouts [out][in], [out][in][k][k], [in][out][k][k]),
 * gamma[l] and beta[l] (norms; LayerNorm's in channels-last order h, w, c),
 * running_mean[l] and running_var[l] in the state (BatchNorm). */
void wf_stack_layout(const wf_stack_spec *spec, wf_layout *out);
/* Parameters and state of layer l of a checked stack. */
void wf_stack_layer_sizes(const wf_stack_spec *spec, int l, size_t *n_params,
                          size_t *n_state);
/* A net from a stack, as wf_net_create does from an MLP. */
wf_status wf_net_create_stack(const wf_stack_spec *spec, wf_device *dev,
                              uint64_t seed, wf_net **out, char *msg);
/* The stack a net was built from, NULL for an MLP. */
const wf_stack_spec *wf_net_stack(const wf_net *net);

/* Create a net on dev: parameters initialised from the net's own Philox
 * stream keyed by seed (drawn on the device, rescaled on the host in
 * double, so every backend starts from the same numbers). *out is NULL on
 * failure (msg says why). */
wf_status wf_net_create(const wf_mlp_spec *spec, wf_device *dev, uint64_t seed,
                        wf_net **out, char *msg);
/* A copy with its own parameters, BatchNorm state, optimiser state and
 * stream position (a frozen snapshot, e.g. RWP's g_prev). */
wf_status wf_net_clone(const wf_net *src, wf_net **out, char *msg);
/* A second view of src that shares its parameters, gradient, optimiser and
 * BatchNorm state but has its own activation cache (W2's f at a and at
 * a - grad f(a) in one step). Free aliases before or after src, any order. */
wf_status wf_net_alias(wf_net *src, wf_net **out, char *msg);
/* dst's parameters and BatchNorm state := src's (same spec; any device). */
wf_status wf_net_copy_params(wf_net *dst, const wf_net *src);
void wf_net_free(wf_net *net);
const char *wf_net_message(const wf_net *net);
const wf_mlp_spec *wf_net_spec(const wf_net *net);
const wf_layout *wf_net_layout(const wf_net *net);
wf_device *wf_net_device(const wf_net *net);
wf_block *wf_net_block(wf_net *net);
int wf_net_in(const wf_net *net);
int wf_net_out(const wf_net *net);

/* Host <-> net copies of parameters, BatchNorm state and optimiser state.
 * Host arrays are double so R vectors pass straight through. */
wf_status wf_net_get_params(wf_net *net, double *host /* [n_params] */);
wf_status wf_net_set_params(wf_net *net, const double *host /* [n_params] */);
wf_status wf_net_get_state(wf_net *net, double *host /* [n_state] */);
wf_status wf_net_set_state(wf_net *net, const double *host /* [n_state] */);
wf_status wf_net_get_grad(wf_net *net, double *host /* [n_params] */);
wf_status wf_net_set_grad(wf_net *net, const double *host /* [n_params] */);
/* Optimiser state: step count and two moment vectors [n_params] each. */
wf_status wf_net_get_opt_state(wf_net *net, double *step, double *m1, double *m2);
/* One of them alone: which 1 (first moment) or 2 (second) [n_params]. */
wf_status wf_net_get_moment(wf_net *net, int which, double *host);
wf_status wf_net_set_opt_state(wf_net *net, double step, const double *m1,
                               const double *m2);
/* RNG position: key and counter, so a saved model resumes its stream. The
 * counter lives in a device slot (the draws advance it) with a host mirror
 * advanced alongside; get reads the mirror. */
void wf_net_get_rng(const wf_net *net, uint64_t *key, uint64_t *counter);
wf_status wf_net_set_rng(wf_net *net, uint64_t key, uint64_t counter);

/* ---- a net's kept state (snapshot.c) --------------------------------------
 * A copy of the parameters, BatchNorm state, optimiser moments and step
 * count and the random stream's position, held on the net's own device
 * (device copies: nothing goes through the host), so a training run can
 * return to its last good epoch. The buffers are allocated by the first
 * save or count and kept until drop (or the net is freed). */
typedef struct wf_net_snapshot wf_net_snapshot;
typedef enum {
  WF_PART_PARAMS = 0, /* parameters */
  WF_PART_STATE,      /* BatchNorm running statistics */
  WF_PART_M1,         /* optimiser first moment */
  WF_PART_M2,         /* optimiser second moment */
  WF_NET_PARTS
} wf_net_part;
wf_status wf_net_snapshot_save(wf_net *net);
/* Put the saved state back (WF_ERR_STATE when nothing was saved). */
wf_status wf_net_snapshot_restore(wf_net *net);
int wf_net_snapshot_saved(const wf_net *net);
void wf_net_snapshot_drop(wf_net *net);
/* counts[part] = how many values of each part are not finite, counted on
 * the device; reads back these four numbers only. */
wf_status wf_net_count_nonfinite(wf_net *net, double counts[WF_NET_PARTS]);

/* ---- passes (device pointers; the net caches what later passes need) ---- */
/* y[m x out] = f(x[m x in]) (y may be NULL: see wf_mlp_output). train
 * selects BatchNorm batch statistics (and updates the running ones). */
wf_status wf_mlp_forward(wf_net *net, const wf_real *x, int m, int train,
                         wf_real *y);
/* The output [m x out] of the cached forward, valid until the next forward. */
const wf_real *wf_mlp_output(const wf_net *net);
/* After wf_mlp_forward on the same batch: grad += d/dtheta sum(dy * y) and,
 * if dx != NULL, dx[m x in] = d/dx sum(dy * y). */
wf_status wf_mlp_backward(wf_net *net, const wf_real *dy, wf_real *dx);
/* After wf_mlp_forward: g[m x in] = d/dx sum(dy * y) without touching the
 * parameter gradient; keeps the adjoint chain for wf_mlp_double_backward.
 * dy == NULL means all ones (the gradient of the summed output). g may be
 * NULL (see wf_mlp_input_grad_result). */
wf_status wf_mlp_input_grad(wf_net *net, const wf_real *dy, wf_real *g);
/* The input gradient [m x in] of the last wf_mlp_input_grad. */
const wf_real *wf_mlp_input_grad_result(const wf_net *net);
/* After wf_mlp_input_grad on the same batch and dy: with
 * S = sum_i u_i . g_i (g the input gradient), grad += dS/dtheta;
 * dx[m x in] = dS/dx and du[m x in] = dS/du when not NULL; S is added to
 * the device slot *value when value != NULL. */
wf_status wf_mlp_double_backward(wf_net *net, const wf_real *u, wf_real *dx,
                                 wf_real *du, double *value);

/* After wf_mlp_input_grad with dy == NULL on the same batch (the gradient of
 * the summed output, no BatchNorm): grad += dS/dtheta for
 *   S = sum_i w_i sum_j y_ij + sum_i u_i . g_i,
 * w [m] row weights, u [m x in] a direction (either NULL: that part is
 * absent). The backward along per-row weights of a one-output potential,
 * fused with its double backward: the w part reuses the kept adjoint chain,
 * so it costs the parameter products alone (no adjoint propagation). */
wf_status wf_mlp_backward_rows(wf_net *net, const wf_real *w, const wf_real *u);

/* ---- optimiser steps on a net's block ------------------------------------- */
wf_status wf_net_zero_grad(wf_net *net);
wf_status wf_net_opt_step(wf_net *net, const wf_opt_spec *opt);
wf_status wf_net_clip(wf_net *net, double c); /* clamp weights and biases */

/* ---- randomness: Philox4x32-10 (philox.h), one stream per net ------------ */
wf_status wf_net_uniform(wf_net *net, wf_real *out, size_t n); /* (0, 1]: philox.h */
wf_status wf_net_normal(wf_net *net, wf_real *out, size_t n);  /* N(0, 1) */
/* n indices uniform on 0 .. bound - 1 (device ints) */
wf_status wf_net_random_index(wf_net *net, int *out, size_t n, int bound);
/* n samples G(z) in eval mode, z from the stream keyed by key at counter 0
 * (the net's own stream is untouched). out: [n x out] device. */
wf_status wf_generate(wf_net *gen, int n, uint64_t key, wf_real *out);

#ifdef __cplusplus
}
#endif

#endif
