/* wf.h — the public C API of the wgflow engine.
 *
 * R-free: nothing here includes R headers, calls R, exits or prints. Every
 * call that can fail returns a wf_status and leaves a message in the net
 * (wf_net_message) for the ffi layer to raise as an R error.
 *
 * Conventions: matrices are row-major, one sample per row; "m" is a batch
 * size. Buffers passed to the engine live on the net's device (host memory
 * for the CPU backend). Parameters, their gradient and the optimiser moments
 * share one layout (see wf_mlp_layout), so the optimiser is one loop.
 */
#ifndef WF_H
#define WF_H

#include <stddef.h>
#include <stdint.h>

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

/* What one critic loss evaluation reports. */
typedef struct {
  double loss;      /* -(mean phi(real) - mean phi(fake)) + penalty */
  double w1;        /* mean phi(real) - mean phi(fake) */
  double penalty;   /* lambda * mean(...) */
  double grad_norm; /* mean |grad phi(xh)| over the interpolates */
} wf_critic_report;

typedef struct wf_backend wf_backend;
typedef struct wf_net wf_net;

/* ---- backends ---------------------------------------------------------- */
const wf_backend *wf_cpu_backend(void);
const char *wf_backend_name(const wf_backend *be);

/* CPU threads used by the GEMM (>= 1); returns the previous value. */
int wf_cpu_set_threads(int n);
int wf_cpu_get_threads(void);

/* An abort callback checked between the steps of multi-step calls; when it
 * returns nonzero the call stops with WF_ERR_INTERRUPT. */
typedef int (*wf_abort_fn)(void *data);
void wf_set_abort_callback(wf_abort_fn fn, void *data);
int wf_should_abort(void);

/* ---- nets ---------------------------------------------------------------- */
/* Validate a spec; on error writes a message to msg (WF_MSG_LEN bytes). */
wf_status wf_mlp_check(const wf_mlp_spec *spec, char *msg);
void wf_mlp_layout(const wf_mlp_spec *spec, wf_layout *out);

/* Create a net: parameters initialised from the net's own Philox stream
 * keyed by seed. *out is NULL on failure (msg says why). */
wf_status wf_net_create(const wf_mlp_spec *spec, const wf_backend *be,
                        uint64_t seed, wf_net **out, char *msg);
void wf_net_free(wf_net *net);
const char *wf_net_message(const wf_net *net);
const wf_mlp_spec *wf_net_spec(const wf_net *net);
const wf_layout *wf_net_layout(const wf_net *net);
const wf_backend *wf_net_backend(const wf_net *net);

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
wf_status wf_net_set_opt_state(wf_net *net, double step, const double *m1,
                               const double *m2);
/* RNG position: key and counter, so a saved model resumes its stream. */
void wf_net_get_rng(const wf_net *net, uint64_t *key, uint64_t *counter);
void wf_net_set_rng(wf_net *net, uint64_t key, uint64_t counter);

/* ---- passes (device pointers; the net caches what later passes need) ---- */
/* y[m x out] = f(x[m x in]). train selects BatchNorm batch statistics (and
 * updates the running ones). */
wf_status wf_mlp_forward(wf_net *net, const wf_real *x, int m, int train,
                         wf_real *y);
/* After wf_mlp_forward on the same batch: grad += d/dtheta sum(dy * y) and,
 * if dx != NULL, dx[m x in] = d/dx sum(dy * y). */
wf_status wf_mlp_backward(wf_net *net, const wf_real *dy, wf_real *dx);
/* After wf_mlp_forward: g[m x in] = d/dx sum(dy * y) without touching the
 * parameter gradient; keeps the adjoint chain for wf_mlp_double_backward.
 * dy == NULL means all ones (the gradient of the summed output). */
wf_status wf_mlp_input_grad(wf_net *net, const wf_real *dy, wf_real *g);
/* After wf_mlp_input_grad on the same batch and dy: with
 * S = sum_i u_i . g_i (g the input gradient), grad += dS/dtheta;
 * dx[m x in] = dS/dx and du[m x in] = dS/du when not NULL; *value = S. */
wf_status wf_mlp_double_backward(wf_net *net, const wf_real *u, wf_real *dx,
                                 wf_real *du, double *value);

/* ---- optimisers ---------------------------------------------------------- */
wf_status wf_net_zero_grad(wf_net *net);
wf_status wf_net_opt_step(wf_net *net, const wf_opt_spec *opt);
wf_status wf_net_clip(wf_net *net, double c); /* clamp weights and biases */

/* ---- losses ---------------------------------------------------------------- */
/* WGAN critic loss and its gradient, accumulated into the net's gradient.
 * real, fake: [m x in] device buffers; t: [m] interpolation weights, or NULL
 * to draw them from the net's stream. No penalty for WF_PENALTY_NONE. */
wf_status wf_critic_loss_grad(wf_net *net, const wf_real *real,
                              const wf_real *fake, int m, const wf_real *t,
                              wf_penalty penalty, double lambda,
                              wf_critic_report *rep);
/* One critic update: zero the gradient, wf_critic_loss_grad, one optimiser
 * step, and with clip > 0 clamp every parameter to [-clip, clip]. */
wf_status wf_critic_step(wf_net *net, const wf_real *real, const wf_real *fake,
                         int m, const wf_real *t, wf_penalty penalty,
                         double lambda, const wf_opt_spec *opt, double clip,
                         wf_critic_report *rep);
/* Gradient penalty alone at points x[m x in]: value and grad += dP/dtheta. */
wf_status wf_penalty_grad(wf_net *net, const wf_real *x, int m,
                          wf_penalty penalty, double lambda, double *value,
                          double *grad_norm);

/* ---- W1-FE: forward-Euler steps of the W1 gradient flow ----------------
 * A flow holds a critic phi, a generator G (latent -> data space) and the
 * training data on the nets' device. One epoch of Algorithm 1 of Malik &
 * Huang is: wf_flow_critic (SimulatePhi), wf_flow_euler (frozen targets
 * zeta = G(z) + eps grad phi(G(z)), phi the critic, high on the data; see
 * flow.c on the sign), wf_flow_fit (K regression steps).
 * Randomness: data batches and interpolates from the critic's stream,
 * latents from the generator's. */
typedef struct wf_flow wf_flow;

/* data: [n x d] host, row-major; d must be the critic's input and the
 * generator's output width. The flow borrows the nets (free it first). */
wf_status wf_flow_create(wf_net *critic, wf_net *gen, const double *data,
                         int n, wf_flow **out, char *msg);
void wf_flow_free(wf_flow *flow);
const char *wf_flow_message(const wf_flow *flow);

/* `steps` critic updates on fresh batches of m data rows and m generated
 * samples; *mean gets the reports averaged over the steps. */
wf_status wf_flow_critic(wf_flow *flow, int m, int steps, wf_penalty penalty,
                         double lambda, const wf_opt_spec *opt, double clip,
                         wf_critic_report *mean);
/* Fresh z [m x latent], y = G(z), zeta = y + step_size * grad phi(y); keeps
 * z and zeta for wf_flow_fit. *grad_norm: mean |grad phi(y)|. */
wf_status wf_flow_euler(wf_flow *flow, int m, double step_size,
                        double *grad_norm);
/* K generator updates on the same z: mode 0 (Euler, the paper's) regresses
 * G(z) onto zeta, loss mean_i |zeta_i - G(z_i)|^2, reporting that loss
 * before the first and the last update; mode 1 ("naive persistency", the
 * paper's counter-example) descends -mean phi(G(z)) with phi fixed,
 * reporting that loss instead. */
wf_status wf_flow_fit(wf_flow *flow, int K, const wf_opt_spec *opt, int mode,
                      double *loss_first, double *loss_last);
/* n samples G(z) in eval mode, z from the stream keyed by key at counter 0
 * (the generator's own stream is untouched). out: [n x d] device. */
wf_status wf_generate(wf_net *gen, int n, uint64_t key, wf_real *out);

/* ---- randomness: Philox4x32-10, one stream per net ---------------------- */
wf_status wf_net_uniform(wf_net *net, wf_real *out, size_t n); /* (0, 1) */
wf_status wf_net_normal(wf_net *net, wf_real *out, size_t n);  /* N(0, 1) */
void wf_philox4x32(uint32_t ctr[4], const uint32_t key[2]);

/* ---- device memory through the net's backend ---------------------------- */
wf_real *wf_net_alloc(wf_net *net, size_t n);
void wf_net_release(wf_net *net, wf_real *p);
wf_status wf_net_upload(wf_net *net, wf_real *dst, const double *src, size_t n);
wf_status wf_net_download(wf_net *net, double *dst, const wf_real *src, size_t n);

#endif
