/* optim.cu — optimiser updates over n parameters, in torch.optim's
 * arithmetic as cpu/optim.c: weight decay added to the gradient (L2, not
 * AdamW). Each kernel reads the step slot (steps taken), takes step
 * t = *step + 1 and leaves *step = t (cuda_util.h: wf_cu_slot_read /
 * wf_cu_slot_store_last), so a recorded step advances on every replay.
 * Adam's bias corrections are computed on the device from t in double and
 * rounded to float once, as the CPU computes them on the host (the device's
 * pow may differ from glibc's in the last bit of a double). */
#include <math.h>

#include "cuda_ops.h"

/* blocks for an update of n values: one when n is 0, so the step slot
 * still advances */
static unsigned int opt_grid(size_t n) { return n == 0 ? 1 : wf_cu_grid(n); }

/* p, m1, m2 [n] updated from g [n] at step t = *step + 1; *step = t */
static __global__ void adam_kernel(wf_real *p, const wf_real *g, wf_real *m1, wf_real *m2,
                                   size_t n, wf_real b1, wf_real b2, wf_real wd,
                                   wf_real eps, double lr, double beta1, double beta2,
                                   double *step_slot, unsigned int *ticket) {
  __shared__ wf_real bc[2];
  const double t = wf_cu_slot_read(step_slot) + 1;
  if (threadIdx.x == 0) {
    bc[0] = (wf_real)(lr / (1 - pow(beta1, t)));
    bc[1] = (wf_real)sqrt(1 - pow(beta2, t));
  }
  __syncthreads();
  const wf_real step = bc[0], bc2 = bc[1];
  WF_CU_FOR(i, n) {
    wf_real gi = g[i] + wd * p[i];
    wf_real a = m1[i] + (1 - b1) * (gi - m1[i]);
    wf_real b = b2 * m2[i] + (1 - b2) * gi * gi;
    m1[i] = a;
    m2[i] = b;
    p[i] -= step * a / (sqrtf(b) / bc2 + eps);
  }
  if (threadIdx.x == 0) wf_cu_slot_store_last(step_slot, t, ticket);
}

void wf_cu_adam(wf_ctx *ctx, wf_real *p, const wf_real *g, wf_real *m1, wf_real *m2,
                size_t n, const wf_opt_spec *o, double *step) {
  adam_kernel<<<opt_grid(n), WF_CU_THREADS, 0, ctx->stream>>>(
      p, g, m1, m2, n, (wf_real)o->beta1, (wf_real)o->beta2, (wf_real)o->weight_decay,
      (wf_real)o->eps, o->lr, o->beta1, o->beta2, step, ctx->ticket);
  WF_CU_LAUNCHED(ctx, "adam");
}

/* p, m2 [n] from g [n]; alpha is the spec's beta2; *step += 1 */
static __global__ void rmsprop_kernel(wf_real *p, const wf_real *g, wf_real *m2, size_t n,
                                      wf_real alpha, wf_real lr, wf_real wd, wf_real eps,
                                      double *step_slot, unsigned int *ticket) {
  const double t = wf_cu_slot_read(step_slot) + 1;
  WF_CU_FOR(i, n) {
    wf_real gi = g[i] + wd * p[i];
    wf_real b = alpha * m2[i] + (1 - alpha) * gi * gi;
    m2[i] = b;
    p[i] -= lr * gi / (sqrtf(b) + eps);
  }
  if (threadIdx.x == 0) wf_cu_slot_store_last(step_slot, t, ticket);
}

void wf_cu_rmsprop(wf_ctx *ctx, wf_real *p, const wf_real *g, wf_real *m2, size_t n,
                   const wf_opt_spec *o, double *step) {
  rmsprop_kernel<<<opt_grid(n), WF_CU_THREADS, 0, ctx->stream>>>(
      p, g, m2, n, (wf_real)o->beta2, (wf_real)o->lr, (wf_real)o->weight_decay,
      (wf_real)o->eps, step, ctx->ticket);
  WF_CU_LAUNCHED(ctx, "rmsprop");
}

/* p, m1 [n] from g [n] at step t = *step + 1 (torch's momentum buffer
 * starts as g at t = 1); *step = t */
static __global__ void sgd_kernel(wf_real *p, const wf_real *g, wf_real *m1, size_t n,
                                  wf_real mu, wf_real lr, wf_real wd, double *step_slot,
                                  unsigned int *ticket) {
  const double t = wf_cu_slot_read(step_slot) + 1;
  const int first = t <= 1;
  WF_CU_FOR(i, n) {
    wf_real gi = g[i] + wd * p[i];
    if (mu != 0) {
      wf_real b = first ? gi : mu * m1[i] + gi;
      m1[i] = b;
      gi = b;
    }
    p[i] -= lr * gi;
  }
  if (threadIdx.x == 0) wf_cu_slot_store_last(step_slot, t, ticket);
}

void wf_cu_sgd(wf_ctx *ctx, wf_real *p, const wf_real *g, wf_real *m1, size_t n,
               const wf_opt_spec *o, double *step) {
  sgd_kernel<<<opt_grid(n), WF_CU_THREADS, 0, ctx->stream>>>(
      p, g, m1, n, (wf_real)o->momentum, (wf_real)o->lr, (wf_real)o->weight_decay, step,
      ctx->ticket);
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
