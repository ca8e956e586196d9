/* layer_conv_t2d.c — a transposed 2-D convolution (PyTorch's
 * nn.ConvTranspose2d, square kernel, output padding): the adjoint of the
 * convolution that maps its output shape back to its input shape. With W
 * [in x out k k] as PyTorch stores it:
 *   cols [(m h w) x (out k k)] = x W,  y = col2im(cols) + b,
 * the geometry that of the convolution over y (wf_conv_geom with c = out,
 * h x w the output, ho x wo the input). */
#include "stack.h"

static wf_status conv_t_shape(const wf_layer_spec *s, wf_shape in, wf_shape *out,
                              char *msg) {
  if (s->units < 1 || s->units > (1 << 16))
    return wf_fail_msg(msg, WF_ERR_ARG, "%d channels; 1 .. 65536 allowed", s->units);
  if (s->kernel < 1 || s->stride < 1 || s->padding < 0 || s->output_padding < 0)
    return wf_fail_msg(msg, WF_ERR_ARG,
                       "kernel %d, stride %d, padding %d, output padding %d; kernel "
                       "and stride >= 1, paddings >= 0", s->kernel, s->stride,
                       s->padding, s->output_padding);
  if (s->output_padding >= s->stride)
    return wf_fail_msg(msg, WF_ERR_ARG, "output padding %d must be below the stride %d",
                       s->output_padding, s->stride);
  int h = (in.h - 1) * s->stride - 2 * s->padding + s->kernel + s->output_padding;
  int w = (in.w - 1) * s->stride - 2 * s->padding + s->kernel + s->output_padding;
  if (h < 1 || w < 1)
    return wf_fail_msg(msg, WF_ERR_ARG, "the output would be %d x %d pixels", h, w);
  if ((double)h * w * s->units > (double)(1 << 28))
    return wf_fail_msg(msg, WF_ERR_ARG, "the output (%d x %d x %d) is too large",
                       s->units, h, w);
  *out = (wf_shape){s->units, h, w};
  return WF_OK;
}

static void conv_t_sizes(const wf_layer_spec *s, wf_shape in, wf_shape out,
                         size_t *n_weight, size_t *n_bias, size_t *n_state) {
  *n_weight = (size_t)in.c * out.c * s->kernel * s->kernel;
  *n_bias = s->bias ? (size_t)out.c : 0;
  *n_state = 0;
}

/* PyTorch's fan-in of a [in x out x k x k] weight reads its second axis */
static size_t conv_t_fan_in(const wf_layer_spec *s, wf_shape in, wf_shape out) {
  (void)in;
  return (size_t)out.c * s->kernel * s->kernel;
}

static size_t conv_t_scratch(const wf_layer_spec *s, wf_shape in, wf_shape out) {
  return wf_shape_pixels(in) * out.c * s->kernel * s->kernel;
}

static wf_conv_geom geom(const wf_layer_run *r) {
  const wf_layer_spec *s = r->spec;
  return (wf_conv_geom){r->m, r->out.c, r->out.h, r->out.w, s->kernel, s->kernel,
                        s->stride, s->padding, r->in.h, r->in.w};
}

static void conv_t_forward(const wf_layer_run *r, const wf_real *x, wf_real *y,
                           int with_bias) {
  wf_conv_geom g = geom(r);
  int rows = r->m * r->in.h * r->in.w, k = r->in.c, n = r->out.c * g.kh * g.kw;
  r->be->gemm(r->ctx, 0, 0, rows, n, k, 1, x, k, r->w, n, 0, r->cols, n, NULL);
  r->be->col2im(r->ctx, &g, r->cols, y);
  if (with_bias && r->b != NULL)
    r->be->add_bias(r->ctx, y, r->b, r->m * r->out.h * r->out.w, r->out.c);
}

static void conv_t_backward(const wf_layer_run *r, const wf_real *x, const wf_real *y,
                            const wf_real *dy, wf_real *dx, int grads) {
  (void)y;
  wf_conv_geom g = geom(r);
  int rows = r->m * r->in.h * r->in.w, k = r->in.c, n = r->out.c * g.kh * g.kw;
  r->be->im2col(r->ctx, &g, dy, r->cols); /* [rows x n] */
  if (grads != WF_GRADS_NONE) /* dW [k x n] += x^T cols */
    r->be->gemm(r->ctx, 1, 0, k, n, rows, 1, x, k, r->cols, n, 1, r->dw, n, NULL);
  if (grads == WF_GRADS_ALL && r->db != NULL)
    r->be->col_sum(r->ctx, dy, r->m * r->out.h * r->out.w, r->out.c, r->db);
  if (dx != NULL) /* dx [rows x k] = cols W^T */
    r->be->gemm(r->ctx, 0, 1, rows, k, n, 1, r->cols, n, r->w, n, 0, dx, k, NULL);
}

const wf_layer_ops wf_layer_conv_t2d = {
    .name = "conv_transpose2d",
    .shape = conv_t_shape,
    .sizes = conv_t_sizes,
    .fan_in = conv_t_fan_in,
    .scratch = conv_t_scratch,
    .forward = conv_t_forward,
    .backward = conv_t_backward,
    .linear = 1,
};
