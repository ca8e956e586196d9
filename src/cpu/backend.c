/* backend.c — the CPU backend's table, its context and knobs. */
#include <stdlib.h>
#include <string.h>

#include "cpu.h"

wf_status wf_cpu_ctx_create(wf_ctx **out, char *msg) {
  *out = calloc(1, sizeof(wf_ctx));
  if (*out == NULL) {
    if (msg != NULL)
      return wf_fail_msg(msg, WF_ERR_NOMEM, "cannot allocate the CPU context");
    return WF_ERR_NOMEM;
  }
  (*out)->threads = 1;
  (*out)->screen = 1;
  (*out)->adaptive = 1;
  (*out)->fma_units_512 = wf_cpu_fma_units_512();
  if (msg != NULL) msg[0] = '\0';
  return WF_OK;
}

void wf_cpu_ctx_free(wf_ctx *ctx) {
  if (ctx == NULL) return;
  wf_cpu_gemm_release(ctx);
  wf_cpu_ot_assign_release(ctx);
  free(ctx);
}

/* Knobs:
 *   "threads"   value >= 1 sets the count, 0 sets 1, < 0 only queries;
 *               returns the previous count
 *   "adaptive"  1 (default): ops take one thread for a while after a
 *               parallel region waited long for a thread (team.c); 0: never;
 *               < 0 queries; returns the previous setting
 *   "simd_bytes"  value 16, 32 or 64 caps the vector width of ot_assign
 *               (0: no cap), < 0 queries; returns the width in use before
 *   "gemm_vec_bytes"  value 32 or 64 sets the vector width of gemm's
 *               micro-kernel (64 only on the AVX-512 path; the same
 *               results at either), 0 chooses it per product (gemm.c),
 *               < 0 queries; returns the width a 128-column product took
 *               before
 *   "fma_units_512"  512-bit FMAs the core starts per cycle (peak.c)
 *   "assign_screen"  ot_assign's bf16 screen of the squared cost
 *               (ot_assign_bf16.c; the same results): value 0 never, 1 on
 *               large problems (the default), 2 always, < 0 queries;
 *               returns the setting before, or -1 where the screen cannot
 *               run (no AVX512-BF16, a build without AVX-512 or in double)
 *   "assign_screened"  batch rows the last ot_assign settled by the screen
 *               (the rest: by the fp32 kernel)
 *   "mflop"     MFLOP of the matrix products since the last reset (value
 *               >= 0 resets); the benchmarks' count of a workload's work
 *   "isa"       the loops' code path: 2 AVX-512, 1 AVX2 + FMA, 0 baseline
 *   "peak_mflops"  the fp32 FMA peak measured now on `value` threads (>= 1)
 * Any other name: -1. */
int wf_cpu_knob(wf_ctx *ctx, const char *name, int value) {
  if (name == NULL) return -1;
  if (strcmp(name, "threads") == 0) {
    int old = ctx->threads;
    if (value >= 0) ctx->threads = value < 1 ? 1 : value;
    return old;
  }
  if (strcmp(name, "adaptive") == 0) {
    int old = ctx->adaptive;
    if (value >= 0) ctx->adaptive = value > 0;
    if (!ctx->adaptive) ctx->solo_until = ctx->solo_len = 0;
    return old;
  }
  if (strcmp(name, "simd_bytes") == 0) {
    int old = wf_cpu_simd_bytes(ctx);
    if (value >= 0) ctx->simd_cap = value;
    return old;
  }
  if (strcmp(name, "gemm_vec_bytes") == 0) {
    int old = wf_cpu_gemm_vec_bytes(ctx, 128);
    if (value >= 0) ctx->gemm_vec = value;
    return old;
  }
  if (strcmp(name, "fma_units_512") == 0) return ctx->fma_units_512;
  if (strcmp(name, "assign_screen") == 0) return wf_cpu_ot_screen_knob(ctx, value);
  if (strcmp(name, "assign_screened") == 0) return ctx->screened;
  if (strcmp(name, "mflop") == 0) {
    double mflop = ctx->flops / 1e6;
    if (value >= 0) ctx->flops = 0;
    return mflop > 2e9 ? 2000000000 : (int)mflop;
  }
  if (strcmp(name, "isa") == 0) return wf_cpu_isa();
  if (strcmp(name, "peak_mflops") == 0) {
    double peak = wf_cpu_fma_peak(value < 1 ? 1 : value);
    return peak > 2e9 ? 2000000000 : (int)peak;
  }
  return -1;
}

/* CPU ops finish before they return: nothing is ever pending. */
wf_status wf_cpu_synchronize(wf_ctx *ctx, char *msg) {
  (void)ctx;
  if (msg != NULL) msg[0] = '\0';
  return WF_OK;
}

wf_status wf_cpu_last_error(wf_ctx *ctx, char *msg) {
  (void)ctx;
  if (msg != NULL) msg[0] = '\0';
  return WF_OK;
}

int wf_cpu_threads_for(const wf_ctx *ctx, size_t n) {
  return n < 32768 ? 1 : wf_cpu_team(ctx, ctx->threads);
}

static const wf_backend cpu_backend = {
    .api_version = WF_BACKEND_API,
    .real_size = sizeof(wf_real),
    .name = "cpu",
    .ctx_create = wf_cpu_ctx_create,
    .ctx_free = wf_cpu_ctx_free,
    .knob = wf_cpu_knob,
    .synchronize = wf_cpu_synchronize,
    .last_error = wf_cpu_last_error,
    .alloc = wf_cpu_alloc,
    .release = wf_cpu_release,
    .upload = wf_cpu_upload,
    .download = wf_cpu_download,
    .upload_int = wf_cpu_upload_int,
    .download_int = wf_cpu_download_int,
    .copy = wf_cpu_copy,
    .fill = wf_cpu_fill,
    .zero_scalars = wf_cpu_zero_scalars,
    .write_scalars = wf_cpu_write_scalars,
    .read_scalars = wf_cpu_read_scalars,
    .gemm = wf_cpu_gemm,
    .add_bias = wf_cpu_add_bias,
    .col_sum = wf_cpu_col_sum,
    .axpy = wf_cpu_axpy,
    .scal = wf_cpu_scal,
    .act_forward = wf_cpu_act_forward,
    .act_backward = wf_cpu_act_backward,
    .act_second = wf_cpu_act_second,
    .ln_forward = wf_cpu_ln_forward,
    .ln_backward = wf_cpu_ln_backward,
    .ln_jvp = wf_cpu_ln_jvp,
    .ln_double = wf_cpu_ln_double,
    .bn_forward = wf_cpu_bn_forward,
    .bn_backward = wf_cpu_bn_backward,
    .adam = wf_cpu_adam,
    .rmsprop = wf_cpu_rmsprop,
    .sgd = wf_cpu_sgd,
    .clamp = wf_cpu_clamp,
    .uniform = wf_cpu_uniform,
    .normal = wf_cpu_normal,
    .random_index = wf_cpu_random_index,
    .loss = wf_cpu_loss,
    .row_norm_loss = wf_cpu_row_norm_loss,
    .row_sq_norm = wf_cpu_row_sq_norm,
    .row_sq_dist = wf_cpu_row_sq_dist,
    .row_scale = wf_cpu_row_scale,
    .row_lerp = wf_cpu_row_lerp,
    .gather_rows = wf_cpu_gather_rows,
    .row_argmin = wf_cpu_row_argmin,
    .softmax_xent = wf_cpu_softmax_xent,
    .ot_assign = wf_cpu_ot_assign,
    .index_count = wf_cpu_index_count,
    .copy_ints_at = wf_cpu_copy_ints_at,
    .transpose_rows = wf_cpu_transpose_rows,
    .im2col = wf_cpu_im2col,
    .col2im = wf_cpu_col2im,
    .count_nonfinite = wf_cpu_count_nonfinite,
    .row_chain = wf_cpu_row_chain,
    .grad_products = wf_cpu_grad_products,
    /* no graphs: ops run as they are called (.graph all NULL) */
    .graph = {NULL, NULL, NULL, NULL},
};

const wf_backend *wf_cpu_backend(void) { return &cpu_backend; }
