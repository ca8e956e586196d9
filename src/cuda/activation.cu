/* activation.cu — activations and their first and second derivatives,
 * elementwise, in float with the CPU's formulas (cpu/activation.c): u is the
 * pre-activation; softplus follows PyTorch (beta 1, threshold 20). */
#include "cuda_ops.h"

static __device__ __forceinline__ wf_real sigmoid(wf_real x) { return 1 / (1 + expf(-x)); }

static __device__ __forceinline__ wf_real act_f(int act, wf_real a, wf_real x) {
  switch (act) {
  case WF_ACT_RELU: return x > 0 ? x : 0;
  case WF_ACT_LEAKY_RELU: return x > 0 ? x : a * x;
  case WF_ACT_TANH: return tanhf(x);
  case WF_ACT_SOFTPLUS: return x > 20 ? x : log1pf(expf(x));
  case WF_ACT_ELU: return x > 0 ? x : expf(x) - 1;
  case WF_ACT_SIGMOID: return sigmoid(x);
  default: return x;
  }
}

/* act'(x) */
static __device__ __forceinline__ wf_real act_d1(int act, wf_real a, wf_real x) {
  switch (act) {
  case WF_ACT_RELU: return x > 0 ? 1 : 0;
  case WF_ACT_LEAKY_RELU: return x > 0 ? 1 : a;
  case WF_ACT_TANH: {
    wf_real t = tanhf(x);
    return 1 - t * t;
  }
  case WF_ACT_SOFTPLUS: return x > 20 ? 1 : sigmoid(x);
  case WF_ACT_ELU: return x > 0 ? 1 : expf(x);
  case WF_ACT_SIGMOID: {
    wf_real s = sigmoid(x);
    return s * (1 - s);
  }
  default: return 1;
  }
}

/* act''(x) */
static __device__ __forceinline__ wf_real act_d2(int act, wf_real x) {
  switch (act) {
  case WF_ACT_TANH: {
    wf_real t = tanhf(x);
    return -2 * t * (1 - t * t);
  }
  case WF_ACT_SOFTPLUS: {
    if (x > 20) return 0;
    wf_real s = sigmoid(x);
    return s * (1 - s);
  }
  case WF_ACT_ELU: return x > 0 ? 0 : expf(x);
  case WF_ACT_SIGMOID: {
    wf_real s = sigmoid(x);
    return s * (1 - s) * (1 - 2 * s);
  }
  default: return 0;
  }
}

/* h [n] = act(u [n]) */
static __global__ void act_forward_kernel(int act, wf_real a, const wf_real *u, wf_real *h,
                                          size_t n) {
  WF_CU_FOR(i, n) h[i] = act_f(act, a, u[i]);
}

/* out [n] = g * act'(u); out may alias g */
static __global__ void act_backward_kernel(int act, wf_real a, const wf_real *u,
                                           const wf_real *g, wf_real *out, size_t n) {
  if (act == WF_ACT_RELU) { /* the CPU's select: +0 where u <= 0 */
    WF_CU_FOR(i, n) out[i] = u[i] > 0 ? g[i] : 0;
  } else {
    WF_CU_FOR(i, n) out[i] = g[i] * act_d1(act, a, u[i]);
  }
}

/* out [n] = hbar * act'(u) + gbar * udot * act''(u); hbar NULL: zero. For the
 * piecewise-linear activations gbar and udot are not read (may be unset). */
static __global__ void act_second_kernel(int act, wf_real a, const wf_real *u,
                                         const wf_real *hbar, const wf_real *gbar,
                                         const wf_real *udot, wf_real *out, size_t n) {
  if (act == WF_ACT_IDENTITY || act == WF_ACT_RELU || act == WF_ACT_LEAKY_RELU) {
    WF_CU_FOR(i, n) out[i] = hbar != NULL ? hbar[i] * act_d1(act, a, u[i]) : 0;
  } else {
    WF_CU_FOR(i, n) {
      wf_real v = gbar[i] * udot[i] * act_d2(act, u[i]);
      if (hbar != NULL) v += hbar[i] * act_d1(act, a, u[i]);
      out[i] = v;
    }
  }
}

void wf_cu_act_forward(wf_ctx *ctx, wf_activation act, double slope, const wf_real *u,
                       wf_real *h, size_t n) {
  if (n == 0) return;
  if (act == WF_ACT_IDENTITY) {
    wf_cu_copy(ctx, h, u, n);
    return;
  }
  act_forward_kernel<<<wf_cu_grid(n), WF_CU_THREADS, 0, ctx->stream>>>(
      (int)act, (wf_real)slope, u, h, n);
  WF_CU_LAUNCHED(ctx, "act_forward");
}

void wf_cu_act_backward(wf_ctx *ctx, wf_activation act, double slope, const wf_real *u,
                        const wf_real *g, wf_real *out, size_t n) {
  if (n == 0) return;
  if (act == WF_ACT_IDENTITY) {
    wf_cu_copy(ctx, out, g, n);
    return;
  }
  act_backward_kernel<<<wf_cu_grid(n), WF_CU_THREADS, 0, ctx->stream>>>(
      (int)act, (wf_real)slope, u, g, out, n);
  WF_CU_LAUNCHED(ctx, "act_backward");
}

void wf_cu_act_second(wf_ctx *ctx, wf_activation act, double slope, const wf_real *u,
                      const wf_real *hbar, const wf_real *gbar, const wf_real *udot,
                      wf_real *out, size_t n) {
  if (n == 0) return;
  act_second_kernel<<<wf_cu_grid(n), WF_CU_THREADS, 0, ctx->stream>>>(
      (int)act, (wf_real)slope, u, hbar, gbar, udot, out, n);
  WF_CU_LAUNCHED(ctx, "act_second");
}
