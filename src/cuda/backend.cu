/* backend.cu — the CUDA backend's table (backend.h, WF_BACKEND_API) and its
 * exported entry point. Filled field by field, so a reordered struct
 * cannot misplace an op. */
#include "cuda_ops.h"
#include "wf_cuda.h"

#include <string.h>

static wf_backend make_table(void) {
  wf_backend t;
  memset(&t, 0, sizeof t);
  t.api_version = WF_BACKEND_API;
  t.real_size = sizeof(wf_real);
  t.name = "cuda";

  t.ctx_create = wf_cu_ctx_create;
  t.ctx_free = wf_cu_ctx_free;
  t.knob = wf_cu_knob;
  t.synchronize = wf_cu_synchronize;
  t.last_error = wf_cu_last_error;

  t.alloc = wf_cu_alloc;
  t.release = wf_cu_release;
  t.upload = wf_cu_upload;
  t.download = wf_cu_download;
  t.upload_int = wf_cu_upload_int;
  t.download_int = wf_cu_download_int;
  t.copy = wf_cu_copy;
  t.fill = wf_cu_fill;
  t.zero_scalars = wf_cu_zero_scalars;
  t.write_scalars = wf_cu_write_scalars;
  t.read_scalars = wf_cu_read_scalars;

  t.gemm = wf_cu_gemm;
  t.add_bias = wf_cu_add_bias;
  t.col_sum = wf_cu_col_sum;
  t.axpy = wf_cu_axpy;
  t.scal = wf_cu_scal;

  t.act_forward = wf_cu_act_forward;
  t.act_backward = wf_cu_act_backward;
  t.act_second = wf_cu_act_second;

  t.ln_forward = wf_cu_ln_forward;
  t.ln_backward = wf_cu_ln_backward;
  t.ln_jvp = wf_cu_ln_jvp;
  t.ln_double = wf_cu_ln_double;
  t.bn_forward = wf_cu_bn_forward;
  t.bn_backward = wf_cu_bn_backward;

  t.adam = wf_cu_adam;
  t.rmsprop = wf_cu_rmsprop;
  t.sgd = wf_cu_sgd;
  t.clamp = wf_cu_clamp;

  t.uniform = wf_cu_uniform;
  t.normal = wf_cu_normal;
  t.random_index = wf_cu_random_index;

  t.loss = wf_cu_loss;
  t.row_norm_loss = wf_cu_row_norm_loss;
  t.row_sq_norm = wf_cu_row_sq_norm;
  t.row_sq_dist = wf_cu_row_sq_dist;
  t.row_scale = wf_cu_row_scale;
  t.row_lerp = wf_cu_row_lerp;
  t.gather_rows = wf_cu_gather_rows;
  t.row_argmin = wf_cu_row_argmin;
  t.softmax_xent = wf_cu_softmax_xent;
  t.ot_assign = wf_cu_ot_assign;
  t.index_count = wf_cu_index_count;
  t.copy_ints_at = wf_cu_copy_ints_at;
  t.transpose_rows = wf_cu_transpose_rows;
  t.im2col = wf_cu_im2col;
  t.col2im = wf_cu_col2im;
  t.count_nonfinite = wf_cu_count_nonfinite;
  t.row_chain = wf_cu_row_chain;
  t.grad_products = wf_cu_grad_products;

  t.graph.begin = wf_cu_graph_begin;
  t.graph.end = wf_cu_graph_end;
  t.graph.launch = wf_cu_graph_launch;
  t.graph.free = wf_cu_graph_free;
  return t;
}

/* built when the library loads: no CUDA call, so loading never fails */
static const wf_backend cuda_backend = make_table();

extern "C" const wf_backend *wf_cuda_backend(void) { return &cuda_backend; }
