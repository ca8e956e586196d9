/* layer_activation.c — an elementwise activation (relu, leaky relu, tanh,
 * softplus, elu, sigmoid, identity), any shape. */
#include "stack.h"

static wf_status act_shape(const wf_layer_spec *s, wf_shape in, wf_shape *out,
                           char *msg) {
  if (s->act < 0 || s->act >= WF_ACT_COUNT)
    return wf_fail_msg(msg, WF_ERR_ARG, "unknown activation code %d", (int)s->act);
  if (s->slope != s->slope || s->slope > 1e30 || s->slope < -1e30)
    return wf_fail_msg(msg, WF_ERR_ARG, "the slope must be finite");
  *out = in;
  return WF_OK;
}

static size_t n_of(const wf_layer_run *r) { return (size_t)r->m * wf_shape_size(r->in); }

static void act_forward(const wf_layer_run *r, const wf_real *x, wf_real *y,
                        int with_bias) {
  (void)with_bias;
  r->be->act_forward(r->ctx, r->spec->act, r->spec->slope, x, y, n_of(r));
}

static void act_backward(const wf_layer_run *r, const wf_real *x, const wf_real *y,
                         const wf_real *dy, wf_real *dx, int grads) {
  (void)y, (void)grads;
  if (dx != NULL)
    r->be->act_backward(r->ctx, r->spec->act, r->spec->slope, x, dy, dx, n_of(r));
}

static void act_tangent(const wf_layer_run *r, const wf_real *x, const wf_real *xdot,
                        wf_real *ydot) {
  r->be->act_backward(r->ctx, r->spec->act, r->spec->slope, x, xdot, ydot, n_of(r));
}

/* act'' is zero where defined: the primal adjoint stays zero */
static int is_piecewise_linear(wf_activation a) {
  return a == WF_ACT_IDENTITY || a == WF_ACT_RELU || a == WF_ACT_LEAKY_RELU;
}

static const wf_real *act_second(const wf_layer_run *r, const wf_real *x,
                                 const wf_real *ybar, const wf_real *ydbar,
                                 const wf_real *xdot, wf_real *xbar) {
  if (ybar == NULL && is_piecewise_linear(r->spec->act)) return NULL;
  r->be->act_second(r->ctx, r->spec->act, r->spec->slope, x, ybar, ydbar, xdot, xbar,
                    n_of(r));
  return xbar;
}

const wf_layer_ops wf_layer_activation = {
    .name = "activation",
    .shape = act_shape,
    .forward = act_forward,
    .backward = act_backward,
    .tangent = act_tangent,
    .second = act_second,
};
