/* optim.cu — optimiser updates over n parameters, in torch.optim's
 * arithmetic as cpu/optim.c: weight decay added to the gradient (L2, not
 * AdamW); Adam's bias corrections computed on the host in double and
 * rounded to float once, so both backends use the same two constants. */
#include <math.h>

#include "cuda_ops.h"

/* p, m1, m2 [n] updated from g [n] */
static __global__ void adam_kernel(wf_real *p, const wf_real *g, wf_real *m1, wf_real *m2,
                                   size_t n, wf_real b1, wf_real b2, wf_real wd,
                                   wf_real eps, wf_real step, wf_real bc2) {
  WF_CU_FOR(i, n) {
    wf_real gi = g[i] + wd * p[i];
    wf_real a = m1[i] + (1 - b1) * (gi - m1[i]);
    wf_real b = b2 * m2[i] + (1 - b2) * gi * gi;
    m1[i] = a;
    m2[i] = b;
    p[i] -= step * a / (sqrtf(b) / bc2 + eps);
  }
}

void wf_cu_adam(wf_ctx *ctx, wf_real *p, const wf_real *g, wf_real *m1, wf_real *m2,
                size_t n, const wf_opt_spec *o, double t) {
  if (n == 0) return;
  const wf_real step = (wf_real)(o->lr / (1 - pow(o->beta1, t)));
  const wf_real bc2 = (wf_real)sqrt(1 - pow(o->beta2, t));
  adam_kernel<<<wf_cu_grid(n), WF_CU_THREADS, 0, ctx->stream>>>(
      p, g, m1, m2, n, (wf_real)o->beta1, (wf_real)o->beta2, (wf_real)o->weight_decay,
      (wf_real)o->eps, step, bc2);
  WF_CU_LAUNCHED(ctx, "adam");
}

/* p, m2 [n] from g [n]; alpha is the spec's beta2 */
static __global__ void rmsprop_kernel(wf_real *p, const wf_real *g, wf_real *m2, size_t n,
                                      wf_real alpha, wf_real lr, wf_real wd, wf_real eps) {
  WF_CU_FOR(i, n) {
    wf_real gi = g[i] + wd * p[i];
    wf_real b = alpha * m2[i] + (1 - alpha) * gi * gi;
    m2[i] = b;
    p[i] -= lr * gi / (sqrtf(b) + eps);
  }
}

void wf_cu_rmsprop(wf_ctx *ctx, wf_real *p, const wf_real *g, wf_real *m2, size_t n,
                   const wf_opt_spec *o) {
  if (n == 0) return;
  rmsprop_kernel<<<wf_cu_grid(n), WF_CU_THREADS, 0, ctx->stream>>>(
      p, g, m2, n, (wf_real)o->beta2, (wf_real)o->lr, (wf_real)o->weight_decay,
      (wf_real)o->eps);
  WF_CU_LAUNCHED(ctx, "rmsprop");
}

/* p, m1 [n] from g [n]; first: torch's momentum buffer starts as g */
static __global__ void sgd_kernel(wf_real *p, const wf_real *g, wf_real *m1, size_t n,
                                  wf_real mu, wf_real lr, wf_real wd, int first) {
  WF_CU_FOR(i, n) {
    wf_real gi = g[i] + wd * p[i];
    if (mu != 0) {
      wf_real b = first ? gi : mu * m1[i] + gi;
      m1[i] = b;
      gi = b;
    }
    p[i] -= lr * gi;
  }
}

void wf_cu_sgd(wf_ctx *ctx, wf_real *p, const wf_real *g, wf_real *m1, size_t n,
               const wf_opt_spec *o, double t) {
  if (n == 0) return;
  sgd_kernel<<<wf_cu_grid(n), WF_CU_THREADS, 0, ctx->stream>>>(
      p, g, m1, n, (wf_real)o->momentum, (wf_real)o->lr, (wf_real)o->weight_decay, t <= 1);
  WF_CU_LAUNCHED(ctx, "sgd");
}

/* p [n] = min(c, max(-c, p)); NaN stays NaN, as the CPU's compare chain */
static __global__ void clamp_kernel(wf_real *p, size_t n, wf_real c) {
  WF_CU_FOR(i, n) {
    wf_real v = p[i];
    p[i] = v > c ? c : (v < -c ? -c : v);
  }
}

void wf_cu_clamp(wf_ctx *ctx, wf_real *p, size_t n, wf_real c) {
  if (n == 0) return;
  clamp_kernel<<<wf_cu_grid(n), WF_CU_THREADS, 0, ctx->stream>>>(p, n, c);
  WF_CU_LAUNCHED(ctx, "clamp");
}
