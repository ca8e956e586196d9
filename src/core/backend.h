/* backend.h — the one table of device operations the engine is written in.
 *
 * The CPU backend (src/cpu) and the CUDA backend (src/cuda) each fill this
 * table with the same signatures; mlp.c, optim.c and losses.c only ever call
 * through it. All pointers are device pointers of the backend; sizes are
 * element counts; matrices are row-major. Ops are asynchronous on a GPU
 * unless they return a host value.
 */
#ifndef WF_BACKEND_H
#define WF_BACKEND_H

#include "wf.h"

/* What a matrix product may fold into its store, once C is complete:
 *   WF_EP_BIAS_ACT:    C = act(C + bias[col])
 *   WF_EP_TIMES_DERIV: C = C * act'(u), u with C's shape and leading dim
 * act is identity, relu or leaky relu (slope > 0): the activations whose
 * derivative is read off their output as well as their input. */
typedef enum { WF_EP_NONE = 0, WF_EP_BIAS_ACT, WF_EP_TIMES_DERIV } wf_ep_kind;
typedef struct {
  wf_ep_kind kind;
  wf_activation act;
  wf_real slope;
  const wf_real *bias; /* [n], BIAS_ACT */
  const wf_real *u;    /* [m x n], TIMES_DERIV */
} wf_epilogue;

struct wf_backend {
  const char *name;

  /* memory */
  void *(*alloc)(size_t bytes); /* NULL on failure */
  void (*release)(void *p);
  wf_status (*upload)(wf_real *dst, const double *src, size_t n);
  wf_status (*download)(double *dst, const wf_real *src, size_t n);
  void (*copy)(wf_real *dst, const wf_real *src, size_t n);
  void (*fill)(wf_real *x, size_t n, wf_real value);
  /* last asynchronous error (WF_OK if none); msg gets its text */
  wf_status (*last_error)(char *msg);

  /* C[m x n] = alpha * op(A) op(B) + beta * C, op(X) = X or X^T (row-major:
   * op(A) is m x k, op(B) is k x n), then the epilogue ep (NULL: none). */
  void (*gemm)(int trans_a, int trans_b, int m, int n, int k, wf_real alpha,
               const wf_real *a, int lda, const wf_real *b, int ldb,
               wf_real beta, wf_real *c, int ldc, const wf_epilogue *ep);

  /* z[m x n] += bias[n] on every row */
  void (*add_bias)(wf_real *z, const wf_real *bias, int m, int n);
  /* out[n] += sum over rows of a[m x n] */
  void (*col_sum)(const wf_real *a, int m, int n, wf_real *out);
  /* y[n] += alpha * x[n] */
  void (*axpy)(size_t n, wf_real alpha, const wf_real *x, wf_real *y);
  /* sum(x[n] * w[n]) (w NULL: sum x), returned to the host in double */
  double (*dot)(const wf_real *x, const wf_real *w, size_t n);

  /* activations, elementwise over n values (u: the pre-activation) */
  void (*act_forward)(wf_activation act, double slope, const wf_real *u,
                      wf_real *h, size_t n);
  /* out = g * act'(u) (out may alias g) */
  void (*act_backward)(wf_activation act, double slope, const wf_real *u,
                       const wf_real *g, wf_real *out, size_t n);
  /* out = hbar * act'(u) + gbar * udot * act''(u); hbar may be NULL (zero) */
  void (*act_second)(wf_activation act, double slope, const wf_real *u,
                     const wf_real *hbar, const wf_real *gbar,
                     const wf_real *udot, wf_real *out, size_t n);

  /* LayerNorm over the n features of each of m rows (eps inside). */
  void (*ln_forward)(const wf_real *a, int m, int n, const wf_real *gamma,
                     const wf_real *beta, wf_real *out, wf_real *xhat,
                     wf_real *rstd /* [m] */);
  /* abar = d/da of sum(nbar * out); dgamma, dbeta accumulate (may be NULL) */
  void (*ln_backward)(const wf_real *nbar, const wf_real *xhat,
                      const wf_real *rstd, const wf_real *gamma, int m, int n,
                      wf_real *abar, wf_real *dgamma, wf_real *dbeta);
  /* tangent: xhat_dot = J adot; out_dot = gamma * xhat_dot */
  void (*ln_jvp)(const wf_real *adot, const wf_real *xhat, const wf_real *rstd,
                 const wf_real *gamma, int m, int n, wf_real *xhat_dot,
                 wf_real *out_dot);
  /* reverse of (out, out_dot) w.r.t. a and gamma, given the primal adjoint
   * nbar (NULL: zero) and the tangent adjoint ndbar; writes abar. */
  void (*ln_double)(const wf_real *nbar, const wf_real *ndbar,
                    const wf_real *adot, const wf_real *xhat,
                    const wf_real *xhat_dot, const wf_real *rstd,
                    const wf_real *gamma, int m, int n, wf_real *abar,
                    wf_real *dgamma, wf_real *dbeta);

  /* BatchNorm over the m rows of each of n features. train: batch stats
   * (biased variance) and running stats updated with momentum; else the
   * running stats. rstd [n] is kept for the backward pass. */
  void (*bn_forward)(const wf_real *a, int m, int n, const wf_real *gamma,
                     const wf_real *beta, wf_real *run_mean, wf_real *run_var,
                     int train, double momentum, wf_real *out, wf_real *xhat,
                     wf_real *rstd);
  void (*bn_backward)(const wf_real *nbar, const wf_real *xhat,
                      const wf_real *rstd, const wf_real *gamma, int m, int n,
                      int train, wf_real *abar, wf_real *dgamma,
                      wf_real *dbeta);

  /* optimisers over n parameters (t: the step number, from 1) */
  void (*adam)(wf_real *p, const wf_real *g, wf_real *m1, wf_real *m2,
               size_t n, const wf_opt_spec *opt, double t);
  void (*rmsprop)(wf_real *p, const wf_real *g, wf_real *m2, size_t n,
                  const wf_opt_spec *opt);
  void (*sgd)(wf_real *p, const wf_real *g, wf_real *m1, size_t n,
              const wf_opt_spec *opt, double t);
  void (*clamp)(wf_real *p, size_t n, wf_real c);

  /* Philox4x32-10 block counter..counter+ceil(n/4)-1 under key */
  void (*uniform)(wf_real *out, size_t n, const uint32_t key[2],
                  uint64_t counter);
  void (*normal)(wf_real *out, size_t n, const uint32_t key[2],
                 uint64_t counter);

  /* losses */
  /* out[i,] = t[i] * a[i,] + (1 - t[i]) * b[i,], rows of width d */
  void (*lerp_rows)(const wf_real *a, const wf_real *b, const wf_real *t,
                    int m, int d, wf_real *out);
  /* out[i,] = data[min(n - 1, floor(u[i] * n)),]: m rows drawn by uniforms */
  void (*sample_rows)(const wf_real *data, int n, int d, const wf_real *u,
                      int m, wf_real *out);
  /* dy = (2/m) (y - target) and the mean over rows of |y_i - target_i|^2 */
  void (*mse_grad)(const wf_real *y, const wf_real *target, int m, int d,
                   wf_real *dy, double *mse);
  /* mean over the m rows of |g_i| */
  double (*mean_row_norm)(const wf_real *g, int m, int d);
  /* Gradient-penalty direction: from g[m x d] (input gradients) write
   * u = dP/dg for P = lambda * mean(h(|g_i| - 1)^2), h = identity (GP) or
   * max(0, .) (LP); returns P and the mean norm on the host. */
  void (*penalty_dir)(const wf_real *g, int m, int d, wf_penalty kind,
                      double lambda, wf_real *u, double *value,
                      double *mean_norm);
};

#endif
