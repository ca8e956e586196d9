/* layer_batch_norm.c — BatchNorm over channels (PyTorch's BatchNorm1d on
 * flat rows, BatchNorm2d on images): channels-last, an image batch is the
 * matrix [(m h w) x c], so both are the backend's BatchNorm over its rows.
 * Training mode uses batch statistics and updates the running ones
 * (momentum 0.1); eval mode uses the running ones. Not twice
 * differentiable here: critics with gradient penalties refuse it. */
#include "stack.h"

static wf_status bn_shape(const wf_layer_spec *s, wf_shape in, wf_shape *out,
                          char *msg) {
  (void)s, (void)msg;
  *out = in;
  return WF_OK;
}

static void bn_sizes(const wf_layer_spec *s, wf_shape in, wf_shape out,
                     size_t *n_weight, size_t *n_bias, size_t *n_state) {
  (void)s, (void)out;
  *n_weight = *n_bias = (size_t)in.c; /* gamma, beta */
  *n_state = 2 * (size_t)in.c;        /* running mean, running variance */
}

/* the input adjoint is computed whatever is asked; scratch holds it */
static size_t bn_scratch(const wf_layer_spec *s, wf_shape in, wf_shape out) {
  (void)s, (void)out;
  return wf_shape_size(in);
}

static void bn_forward(const wf_layer_run *r, const wf_real *x, wf_real *y,
                       int with_bias) {
  (void)with_bias;
  r->be->bn_forward(r->ctx, x, r->m * r->in.h * r->in.w, r->in.c, r->w, r->b,
                    r->run_mean, r->run_var, r->train, 0.1, y, r->xhat, r->rstd);
}

static void bn_backward(const wf_layer_run *r, const wf_real *x, const wf_real *y,
                        const wf_real *dy, wf_real *dx, int grads) {
  (void)x, (void)y;
  r->be->bn_backward(r->ctx, dy, r->xhat, r->rstd, r->w, r->m * r->in.h * r->in.w,
                     r->in.c, r->train, dx != NULL ? dx : r->cols,
                     grads != WF_GRADS_NONE ? r->dw : NULL,
                     grads == WF_GRADS_ALL ? r->db : NULL);
}

const wf_layer_ops wf_layer_batch_norm = {
    .name = "batch_norm",
    .shape = bn_shape,
    .sizes = bn_sizes,
    .scratch = bn_scratch,
    .forward = bn_forward,
    .backward = bn_backward,
};
