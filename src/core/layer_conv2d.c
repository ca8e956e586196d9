/* layer_conv2d.c — a 2-D convolution (PyTorch's nn.Conv2d with a square
 * kernel, zero padding, no dilation or groups), lowered to one matrix
 * product over the whole batch: cols [(m ho wo) x (c k k)] = im2col(x),
 * y [(m ho wo) x out] = cols W^T + b, W [out x c k k] as PyTorch stores it. */
#include "stack.h"

static wf_status conv_shape(const wf_layer_spec *s, wf_shape in, wf_shape *out,
                            char *msg) {
  if (s->units < 1 || s->units > (1 << 16))
    return wf_fail_msg(msg, WF_ERR_ARG, "%d channels; 1 .. 65536 allowed", s->units);
  if (s->kernel < 1 || s->stride < 1 || s->padding < 0)
    return wf_fail_msg(msg, WF_ERR_ARG,
                       "kernel %d, stride %d, padding %d; kernel and stride >= 1, "
                       "padding >= 0", s->kernel, s->stride, s->padding);
  int ph = in.h + 2 * s->padding, pw = in.w + 2 * s->padding;
  if (s->kernel > ph || s->kernel > pw)
    return wf_fail_msg(msg, WF_ERR_ARG,
                       "kernel %d is larger than the padded input %d x %d", s->kernel,
                       ph, pw);
  *out = (wf_shape){s->units, (ph - s->kernel) / s->stride + 1,
                    (pw - s->kernel) / s->stride + 1};
  return WF_OK;
}

static void conv_sizes(const wf_layer_spec *s, wf_shape in, wf_shape out,
                       size_t *n_weight, size_t *n_bias, size_t *n_state) {
  *n_weight = (size_t)out.c * in.c * s->kernel * s->kernel;
  *n_bias = s->bias ? (size_t)out.c : 0;
  *n_state = 0;
}

static size_t conv_fan_in(const wf_layer_spec *s, wf_shape in, wf_shape out) {
  (void)out;
  return (size_t)in.c * s->kernel * s->kernel;
}

static size_t conv_scratch(const wf_layer_spec *s, wf_shape in, wf_shape out) {
  return wf_shape_pixels(out) * in.c * s->kernel * s->kernel;
}

static wf_conv_geom geom(const wf_layer_run *r) {
  const wf_layer_spec *s = r->spec;
  return (wf_conv_geom){r->m, r->in.c, r->in.h, r->in.w, s->kernel, s->kernel,
                        s->stride, s->padding, r->out.h, r->out.w};
}

static void conv_forward(const wf_layer_run *r, const wf_real *x, wf_real *y,
                         int with_bias) {
  wf_conv_geom g = geom(r);
  int rows = r->m * r->out.h * r->out.w, k = r->in.c * g.kh * g.kw, n = r->out.c;
  wf_epilogue bias = {WF_EP_BIAS_ACT, WF_ACT_IDENTITY, 0, r->b, NULL};
  r->be->im2col(r->ctx, &g, x, r->cols);
  r->be->gemm(r->ctx, 0, 1, rows, n, k, 1, r->cols, k, r->w, k, 0, y, n,
              with_bias && r->b != NULL ? &bias : NULL);
}

static void conv_backward(const wf_layer_run *r, const wf_real *x, const wf_real *y,
                          const wf_real *dy, wf_real *dx, int grads) {
  (void)y;
  wf_conv_geom g = geom(r);
  int rows = r->m * r->out.h * r->out.w, k = r->in.c * g.kh * g.kw, n = r->out.c;
  if (grads != WF_GRADS_NONE) { /* dW [n x k] += dy^T cols */
    r->be->im2col(r->ctx, &g, x, r->cols);
    r->be->gemm(r->ctx, 1, 0, n, k, rows, 1, dy, n, r->cols, k, 1, r->dw, k, NULL);
  }
  if (grads == WF_GRADS_ALL && r->db != NULL)
    r->be->col_sum(r->ctx, dy, rows, n, r->db);
  if (dx != NULL) { /* dcols [rows x k] = dy W, then back onto the pixels */
    r->be->gemm(r->ctx, 0, 0, rows, k, n, 1, dy, n, r->w, k, 0, r->cols, k, NULL);
    r->be->col2im(r->ctx, &g, r->cols, dx);
  }
}

const wf_layer_ops wf_layer_conv2d = {
    .name = "conv2d",
    .shape = conv_shape,
    .sizes = conv_sizes,
    .fan_in = conv_fan_in,
    .scratch = conv_scratch,
    .forward = conv_forward,
    .backward = conv_backward,
    .linear = 1,
};
