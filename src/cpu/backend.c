/* backend.c — the CPU backend's table. */
#include "cpu.h"

static const wf_backend cpu_backend = {
    .name = "cpu",
    .alloc = wf_cpu_alloc,
    .release = wf_cpu_release,
    .upload = wf_cpu_upload,
    .download = wf_cpu_download,
    .copy = wf_cpu_copy,
    .fill = wf_cpu_fill,
    .last_error = wf_cpu_last_error,
    .gemm = wf_cpu_gemm,
    .add_bias = wf_cpu_add_bias,
    .col_sum = wf_cpu_col_sum,
    .axpy = wf_cpu_axpy,
    .dot = wf_cpu_dot,
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
    .lerp_rows = wf_cpu_lerp_rows,
    .penalty_dir = wf_cpu_penalty_dir,
};

const wf_backend *wf_cpu_backend(void) { return &cpu_backend; }
