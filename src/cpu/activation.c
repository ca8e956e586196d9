/* activation.c — activations and their first and second derivatives.
 * u is the pre-activation; softplus follows PyTorch (beta 1, threshold 20). */
#include <math.h>
#include <string.h>

#include "cpu.h"

/* dst[n] = src[n] (the identity's forward and backward) */
static void copy_values(wf_real *dst, const wf_real *src, size_t n) {
  if (dst != src && n > 0) memmove(dst, src, n * sizeof(wf_real));
}

static inline wf_real sigmoid(wf_real x) { return 1 / (1 + WF_EXP(-x)); }

WF_CLONES
void wf_cpu_act_forward_range(wf_activation act, double slope, const wf_real *u,
                              wf_real *h, size_t n) {
  wf_real a = (wf_real)slope;
  switch (act) {
  case WF_ACT_IDENTITY:
    copy_values(h, u, n);
    break;
  case WF_ACT_RELU:
    for (size_t i = 0; i < n; i++) h[i] = u[i] > 0 ? u[i] : 0;
    break;
  case WF_ACT_LEAKY_RELU:
    for (size_t i = 0; i < n; i++) h[i] = u[i] > 0 ? u[i] : a * u[i];
    break;
  case WF_ACT_TANH:
    for (size_t i = 0; i < n; i++) h[i] = WF_TANH(u[i]);
    break;
  case WF_ACT_SOFTPLUS:
    for (size_t i = 0; i < n; i++)
      h[i] = u[i] > 20 ? u[i] : WF_LOG1P(WF_EXP(u[i]));
    break;
  case WF_ACT_ELU:
    for (size_t i = 0; i < n; i++) h[i] = u[i] > 0 ? u[i] : WF_EXP(u[i]) - 1;
    break;
  case WF_ACT_SIGMOID:
    for (size_t i = 0; i < n; i++) h[i] = sigmoid(u[i]);
    break;
  default:
    break;
  }
}

/* act'(x) */
static inline wf_real d1(wf_activation act, wf_real a, wf_real x) {
  switch (act) {
  case WF_ACT_RELU:
    return x > 0 ? 1 : 0;
  case WF_ACT_LEAKY_RELU:
    return x > 0 ? 1 : a;
  case WF_ACT_TANH: {
    wf_real t = WF_TANH(x);
    return 1 - t * t;
  }
  case WF_ACT_SOFTPLUS:
    return x > 20 ? 1 : sigmoid(x);
  case WF_ACT_ELU:
    return x > 0 ? 1 : WF_EXP(x);
  case WF_ACT_SIGMOID: {
    wf_real s = sigmoid(x);
    return s * (1 - s);
  }
  default:
    return 1;
  }
}

/* act''(x) */
static inline wf_real d2(wf_activation act, wf_real x) {
  switch (act) {
  case WF_ACT_TANH: {
    wf_real t = WF_TANH(x);
    return -2 * t * (1 - t * t);
  }
  case WF_ACT_SOFTPLUS: {
    if (x > 20) return 0;
    wf_real s = sigmoid(x);
    return s * (1 - s);
  }
  case WF_ACT_ELU:
    return x > 0 ? 0 : WF_EXP(x);
  case WF_ACT_SIGMOID: {
    wf_real s = sigmoid(x);
    return s * (1 - s) * (1 - 2 * s);
  }
  default:
    return 0;
  }
}

WF_CLONES
void wf_cpu_act_backward_range(wf_activation act, double slope, const wf_real *u,
                               const wf_real *g, wf_real *out, size_t n) {
  wf_real a = (wf_real)slope;
  switch (act) {
  case WF_ACT_IDENTITY:
    copy_values(out, g, n);
    break;
  case WF_ACT_RELU: /* the hot case: both loads unconditional, so the
                     * select vectorises */
    for (size_t i = 0; i < n; i++) {
      wf_real gi = g[i];
      out[i] = u[i] > 0 ? gi : 0;
    }
    break;
  default:
    for (size_t i = 0; i < n; i++) out[i] = g[i] * d1(act, a, u[i]);
    break;
  }
}

WF_CLONES
void wf_cpu_act_second_range(wf_activation act, double slope, const wf_real *u,
                             const wf_real *hbar, const wf_real *gbar,
                             const wf_real *udot, wf_real *out, size_t n) {
  wf_real a = (wf_real)slope;
  if (act == WF_ACT_IDENTITY || act == WF_ACT_RELU || act == WF_ACT_LEAKY_RELU) {
    /* no curvature: gbar and udot are not read (they may be unset) */
    for (size_t i = 0; i < n; i++) out[i] = hbar != NULL ? hbar[i] * d1(act, a, u[i]) : 0;
    return;
  }
  for (size_t i = 0; i < n; i++) {
    wf_real v = gbar[i] * udot[i] * d2(act, u[i]);
    if (hbar != NULL) v += hbar[i] * d1(act, a, u[i]);
    out[i] = v;
  }
}

/* The public ops split long vectors over the CPU threads; each share runs
 * the multiversioned loop above. */
void wf_cpu_act_forward(wf_ctx *ctx, wf_activation act, double slope,
                        const wf_real *u /* [n] */, wf_real *h /* [n] */,
                        size_t n) {
  int nt = wf_cpu_threads_for(ctx, n);
  WF_OMP_CHUNKS(nt)
  for (int t = 0; t < nt; t++) {
    size_t lo, hi;
    wf_cpu_range(n, t, nt, &lo, &hi);
    wf_cpu_act_forward_range(act, slope, u + lo, h + lo, hi - lo);
  }
}

void wf_cpu_act_backward(wf_ctx *ctx, wf_activation act, double slope,
                         const wf_real *u /* [n] */, const wf_real *g /* [n] */,
                         wf_real *out /* [n], may alias g */, size_t n) {
  int nt = wf_cpu_threads_for(ctx, n);
  WF_OMP_CHUNKS(nt)
  for (int t = 0; t < nt; t++) {
    size_t lo, hi;
    wf_cpu_range(n, t, nt, &lo, &hi);
    wf_cpu_act_backward_range(act, slope, u + lo, g + lo, out + lo, hi - lo);
  }
}

void wf_cpu_act_second(wf_ctx *ctx, wf_activation act, double slope,
                       const wf_real *u /* [n] */,
                       const wf_real *hbar /* [n] or NULL */,
                       const wf_real *gbar /* [n]; NULL when flat */,
                       const wf_real *udot /* [n]; NULL when flat */,
                       wf_real *out /* [n] */,
                       size_t n) {
  int nt = wf_cpu_threads_for(ctx, n);
  WF_OMP_CHUNKS(nt)
  for (int t = 0; t < nt; t++) {
    size_t lo, hi;
    wf_cpu_range(n, t, nt, &lo, &hi);
    wf_cpu_act_second_range(act, slope, u + lo, hbar ? hbar + lo : NULL,
                     gbar ? gbar + lo : NULL, udot ? udot + lo : NULL, out + lo,
                     hi - lo);
  }
}
