/* layer_layer_norm.c — LayerNorm over all c h w values of each row, with
 * an elementwise scale and shift (PyTorch's nn.LayerNorm([c, h, w]); the
 * scale and shift are stored channels-last, h, w, c). Twice
 * differentiable: the WGAN-GP critic's norm. */
#include "stack.h"

static wf_status ln_shape(const wf_layer_spec *s, wf_shape in, wf_shape *out,
                          char *msg) {
  (void)s;
  if (wf_shape_size(in) < 2)
    return wf_fail_msg(msg, WF_ERR_ARG, "needs at least 2 values to normalise");
  *out = in;
  return WF_OK;
}

static void ln_sizes(const wf_layer_spec *s, wf_shape in, wf_shape out,
                     size_t *n_weight, size_t *n_bias, size_t *n_state) {
  (void)s, (void)out;
  *n_weight = *n_bias = wf_shape_size(in);
  *n_state = 0;
}

static size_t ln_scratch(const wf_layer_spec *s, wf_shape in, wf_shape out) {
  (void)s, (void)out;
  return wf_shape_size(in);
}

static int n_of(const wf_layer_run *r) { return (int)wf_shape_size(r->in); }

static void ln_forward(const wf_layer_run *r, const wf_real *x, wf_real *y,
                       int with_bias) {
  (void)with_bias;
  r->be->ln_forward(r->ctx, x, r->m, n_of(r), r->w, r->b, y, r->xhat, r->rstd);
}

static void ln_backward(const wf_layer_run *r, const wf_real *x, const wf_real *y,
                        const wf_real *dy, wf_real *dx, int grads) {
  (void)x, (void)y;
  r->be->ln_backward(r->ctx, dy, r->xhat, r->rstd, r->w, r->m, n_of(r),
                     dx != NULL ? dx : r->cols, grads != WF_GRADS_NONE ? r->dw : NULL,
                     grads == WF_GRADS_ALL ? r->db : NULL);
}

static void ln_tangent(const wf_layer_run *r, const wf_real *x, const wf_real *xdot,
                       wf_real *ydot) {
  (void)x;
  r->be->ln_jvp(r->ctx, xdot, r->xhat, r->rstd, r->w, r->m, n_of(r), r->xhat_dot,
                ydot);
}

static const wf_real *ln_second(const wf_layer_run *r, const wf_real *x,
                                const wf_real *ybar, const wf_real *ydbar,
                                const wf_real *xdot, wf_real *xbar) {
  (void)x;
  r->be->ln_double(r->ctx, ybar, ydbar, xdot, r->xhat, r->xhat_dot, r->rstd, r->w,
                   r->m, n_of(r), xbar, r->dw, r->db);
  return xbar;
}

const wf_layer_ops wf_layer_layer_norm = {
    .name = "layer_norm",
    .shape = ln_shape,
    .sizes = ln_sizes,
    .scratch = ln_scratch,
    .forward = ln_forward,
    .backward = ln_backward,
    .tangent = ln_tangent,
    .second = ln_second,
};
