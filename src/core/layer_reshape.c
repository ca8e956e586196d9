/* layer_reshape.c — reshape and flatten: the same values in PyTorch's
 * c, h, w order under a new shape. Channels-last inside, so a reshape
 * between two images goes through that order: x -> (c, h, w) -> y. */
#include "stack.h"

static int channels_last_is_plain(wf_shape s) { return s.c == 1 || s.h * s.w == 1; }

void wf_to_channels_last(const wf_layer_run *r, wf_shape s, const wf_real *x,
                         wf_real *y) {
  if (channels_last_is_plain(s))
    r->be->copy(r->ctx, y, x, (size_t)r->m * wf_shape_size(s));
  else
    r->be->transpose_rows(r->ctx, x, r->m, s.c, s.h * s.w, y);
}

void wf_from_channels_last(const wf_layer_run *r, wf_shape s, const wf_real *x,
                           wf_real *y) {
  if (channels_last_is_plain(s))
    r->be->copy(r->ctx, y, x, (size_t)r->m * wf_shape_size(s));
  else
    r->be->transpose_rows(r->ctx, x, r->m, s.h * s.w, s.c, y);
}

static wf_status reshape_shape(const wf_layer_spec *s, wf_shape in, wf_shape *out,
                               char *msg) {
  wf_shape to = s->kind == WF_LAYER_FLATTEN ? (wf_shape){(int)wf_shape_size(in), 1, 1}
                                            : s->shape;
  if (to.c < 1 || to.h < 1 || to.w < 1)
    return wf_fail_msg(msg, WF_ERR_ARG, "the shape %d x %d x %d has an empty side",
                       to.c, to.h, to.w);
  if (wf_shape_size(to) != wf_shape_size(in))
    return wf_fail_msg(msg, WF_ERR_ARG,
                       "cannot reshape %d x %d x %d (%zu values) to %d x %d x %d", in.c,
                       in.h, in.w, wf_shape_size(in), to.c, to.h, to.w);
  *out = to;
  return WF_OK;
}

/* the values in c, h, w order between the two layouts */
static size_t reshape_scratch(const wf_layer_spec *s, wf_shape in, wf_shape out) {
  (void)s, (void)out;
  return wf_shape_size(in);
}

/* from a tensor of shape `from` to one of shape `to`, both channels-last */
static void relayout(const wf_layer_run *r, wf_shape from, wf_shape to,
                     const wf_real *x, wf_real *y) {
  if (channels_last_is_plain(from)) {
    wf_to_channels_last(r, to, x, y);
  } else if (channels_last_is_plain(to)) {
    wf_from_channels_last(r, from, x, y);
  } else {
    wf_from_channels_last(r, from, x, r->cols);
    wf_to_channels_last(r, to, r->cols, y);
  }
}

static void reshape_forward(const wf_layer_run *r, const wf_real *x, wf_real *y,
                            int with_bias) {
  (void)with_bias;
  relayout(r, r->in, r->out, x, y);
}

/* a permutation: its adjoint is its inverse */
static void reshape_backward(const wf_layer_run *r, const wf_real *x, const wf_real *y,
                             const wf_real *dy, wf_real *dx, int grads) {
  (void)x, (void)y, (void)grads;
  if (dx != NULL) relayout(r, r->out, r->in, dy, dx);
}

const wf_layer_ops wf_layer_reshape = {
    .name = "reshape",
    .shape = reshape_shape,
    .scratch = reshape_scratch,
    .forward = reshape_forward,
    .backward = reshape_backward,
    .linear = 1, /* no parameters: the generic second is the backward */
};
