/* block.c — parameter blocks: parameters, gradient and optimiser moments in
 * one layout, so each optimiser is one elementwise op over the block. */
#include <math.h>

#include "device.h"

wf_status wf_block_init(wf_block *b, wf_device *dev, size_t n, char *msg) {
  b->n = n;
  b->step = 0;
  b->params = wf_device_alloc(dev, n);
  b->grad = wf_device_alloc(dev, n);
  b->m1 = wf_device_alloc(dev, n);
  b->m2 = wf_device_alloc(dev, n);
  b->step_dev = wf_device_alloc_scalars(dev, 1);
  if (!b->params || !b->grad || !b->m1 || !b->m2 || !b->step_dev) {
    wf_block_free(b, dev);
    return wf_fail_msg(msg, WF_ERR_NOMEM, "out of device memory for %zu parameters", n);
  }
  const wf_backend *be = WF_BE(dev);
  be->fill(WF_CTX(dev), b->grad, n, 0);
  be->fill(WF_CTX(dev), b->m1, n, 0);
  be->fill(WF_CTX(dev), b->m2, n, 0);
  return WF_OK;
}

void wf_block_free(wf_block *b, wf_device *dev) {
  wf_device_free(dev, b->params);
  wf_device_free(dev, b->grad);
  wf_device_free(dev, b->m1);
  wf_device_free(dev, b->m2);
  wf_device_free(dev, b->step_dev);
  b->params = b->grad = b->m1 = b->m2 = NULL;
  b->step_dev = NULL;
  b->n = 0;
}

void wf_block_zero_grad(wf_block *b, wf_device *dev) {
  WF_BE(dev)->fill(WF_CTX(dev), b->grad, b->n, 0);
}

static int in_unit(double b) { return b >= 0 && b < 1; }

wf_status wf_opt_check(const wf_opt_spec *o, char *msg) {
  if (!(o->lr >= 0) || !isfinite(o->lr))
    return wf_fail_msg(msg, WF_ERR_ARG, "learning rate must be finite and >= 0");
  if (!(o->eps > 0) || !isfinite(o->eps))
    return wf_fail_msg(msg, WF_ERR_ARG, "eps must be finite and > 0");
  if (!(o->weight_decay >= 0) || !isfinite(o->weight_decay))
    return wf_fail_msg(msg, WF_ERR_ARG, "weight decay must be finite and >= 0");
  switch (o->kind) {
  case WF_OPT_ADAM:
    if (!in_unit(o->beta1) || !in_unit(o->beta2))
      return wf_fail_msg(msg, WF_ERR_ARG, "Adam betas must lie in [0, 1)");
    return WF_OK;
  case WF_OPT_RMSPROP:
    if (!in_unit(o->beta2))
      return wf_fail_msg(msg, WF_ERR_ARG, "RMSprop alpha must lie in [0, 1)");
    return WF_OK;
  case WF_OPT_SGD:
    if (!(o->momentum >= 0) || !isfinite(o->momentum))
      return wf_fail_msg(msg, WF_ERR_ARG, "momentum must be finite and >= 0");
    return WF_OK;
  }
  return wf_fail_msg(msg, WF_ERR_ARG, "unknown optimiser");
}

wf_status wf_block_step(wf_block *b, wf_device *dev, const wf_opt_spec *opt,
                        char *msg) {
  wf_status rc = wf_opt_check(opt, msg);
  if (rc != WF_OK) return rc;
  const wf_backend *be = WF_BE(dev);
  wf_ctx *ctx = WF_CTX(dev);
  switch (opt->kind) {
  case WF_OPT_ADAM:
    be->adam(ctx, b->params, b->grad, b->m1, b->m2, b->n, opt, b->step_dev);
    break;
  case WF_OPT_RMSPROP:
    be->rmsprop(ctx, b->params, b->grad, b->m2, b->n, opt, b->step_dev);
    break;
  case WF_OPT_SGD:
    be->sgd(ctx, b->params, b->grad, b->m1, b->n, opt, b->step_dev);
    break;
  }
  b->step += 1; /* the op advanced the device slot */
  return WF_OK;
}

wf_status wf_block_clamp(wf_block *b, wf_device *dev, double c, char *msg) {
  if (!(c > 0) || !isfinite(c))
    return wf_fail_msg(msg, WF_ERR_ARG, "the clipping value must be finite and > 0");
  WF_BE(dev)->clamp(WF_CTX(dev), b->params, b->n, (wf_real)c);
  return WF_OK;
}

wf_status wf_block_set_step(wf_block *b, wf_device *dev, double step, char *msg) {
  wf_status rc = wf_device_write_scalars(dev, b->step_dev, &step, 1);
  if (rc != WF_OK) return wf_fail_msg(msg, rc, "%s", wf_device_message(dev));
  b->step = step;
  return WF_OK;
}
