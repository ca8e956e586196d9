/* layer_dense.c — a fully connected layer over flat rows:
 * y [m x n] = x [m x k] W^T + b, W [n x k] (PyTorch's nn.Linear). */
#include "stack.h"

static wf_status dense_shape(const wf_layer_spec *s, wf_shape in, wf_shape *out,
                             char *msg) {
  if (in.h != 1 || in.w != 1)
    return wf_fail_msg(msg, WF_ERR_ARG,
                       "needs flat input, not %d x %d x %d (flatten it first)", in.c,
                       in.h, in.w);
  if (s->units < 1 || s->units > (1 << 20))
    return wf_fail_msg(msg, WF_ERR_ARG, "%d units; 1 .. 2^20 allowed", s->units);
  *out = (wf_shape){s->units, 1, 1};
  return WF_OK;
}

static void dense_sizes(const wf_layer_spec *s, wf_shape in, wf_shape out,
                        size_t *n_weight, size_t *n_bias, size_t *n_state) {
  *n_weight = (size_t)out.c * (size_t)in.c;
  *n_bias = s->bias ? (size_t)out.c : 0;
  *n_state = 0;
}

static size_t dense_fan_in(const wf_layer_spec *s, wf_shape in, wf_shape out) {
  (void)s, (void)out;
  return (size_t)in.c;
}

static void dense_forward(const wf_layer_run *r, const wf_real *x, wf_real *y,
                          int with_bias) {
  int k = r->in.c, n = r->out.c;
  wf_epilogue bias = {WF_EP_BIAS_ACT, WF_ACT_IDENTITY, 0, r->b, NULL};
  r->be->gemm(r->ctx, 0, 1, r->m, n, k, 1, x, k, r->w, k, 0, y, n,
              with_bias && r->b != NULL ? &bias : NULL);
}

static void dense_backward(const wf_layer_run *r, const wf_real *x, const wf_real *y,
                           const wf_real *dy, wf_real *dx, int grads) {
  (void)y;
  int m = r->m, k = r->in.c, n = r->out.c;
  if (grads != WF_GRADS_NONE) /* dW [n x k] += dy^T x */
    r->be->gemm(r->ctx, 1, 0, n, k, m, 1, dy, n, x, k, 1, r->dw, k, NULL);
  if (grads == WF_GRADS_ALL && r->db != NULL) r->be->col_sum(r->ctx, dy, m, n, r->db);
  if (dx != NULL) /* dx [m x k] = dy W */
    r->be->gemm(r->ctx, 0, 0, m, k, n, 1, dy, n, r->w, k, 0, dx, k, NULL);
}

const wf_layer_ops wf_layer_dense = {
    .name = "dense",
    .shape = dense_shape,
    .sizes = dense_sizes,
    .fan_in = dense_fan_in,
    .forward = dense_forward,
    .backward = dense_backward,
    .linear = 1,
};
