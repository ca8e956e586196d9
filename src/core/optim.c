/* optim.c — optimiser steps over the one parameter buffer. */
#include <math.h>

#include "net.h"

wf_status wf_net_zero_grad(wf_net *net) {
  net->be->fill(net->grad, net->layout.n_params, 0);
  return wf_net_sync_error(net);
}

static int in_unit(double b) { return b >= 0 && b < 1; }

static wf_status check_opt(wf_net *net, const wf_opt_spec *o) {
  if (!(o->lr >= 0) || !isfinite(o->lr))
    return wf_fail(net, WF_ERR_ARG, "learning rate must be finite and >= 0");
  if (!(o->eps > 0) || !isfinite(o->eps))
    return wf_fail(net, WF_ERR_ARG, "eps must be finite and > 0");
  if (!(o->weight_decay >= 0) || !isfinite(o->weight_decay))
    return wf_fail(net, WF_ERR_ARG, "weight decay must be finite and >= 0");
  switch (o->kind) {
  case WF_OPT_ADAM:
    if (!in_unit(o->beta1) || !in_unit(o->beta2))
      return wf_fail(net, WF_ERR_ARG, "Adam betas must lie in [0, 1)");
    return WF_OK;
  case WF_OPT_RMSPROP:
    if (!in_unit(o->beta2))
      return wf_fail(net, WF_ERR_ARG, "RMSprop alpha must lie in [0, 1)");
    return WF_OK;
  case WF_OPT_SGD:
    if (!(o->momentum >= 0) || !isfinite(o->momentum))
      return wf_fail(net, WF_ERR_ARG, "momentum must be finite and >= 0");
    return WF_OK;
  }
  return wf_fail(net, WF_ERR_ARG, "unknown optimiser");
}

wf_status wf_net_opt_step(wf_net *net, const wf_opt_spec *opt) {
  wf_status rc = check_opt(net, opt);
  if (rc != WF_OK) return rc;
  const wf_backend *be = net->be;
  size_t n = net->layout.n_params;
  net->opt_step += 1;
  switch (opt->kind) {
  case WF_OPT_ADAM:
    be->adam(net->params, net->grad, net->m1, net->m2, n, opt, net->opt_step);
    break;
  case WF_OPT_RMSPROP:
    be->rmsprop(net->params, net->grad, net->m2, n, opt);
    break;
  case WF_OPT_SGD:
    be->sgd(net->params, net->grad, net->m1, n, opt, net->opt_step);
    break;
  }
  net->cache = WF_CACHE_EMPTY; /* cached activations used the old weights */
  return wf_net_sync_error(net);
}

wf_status wf_net_clip(wf_net *net, double c) {
  if (!(c > 0) || !isfinite(c))
    return wf_fail(net, WF_ERR_ARG, "the clipping value must be finite and > 0");
  net->be->clamp(net->params, net->layout.n_params, (wf_real)c);
  net->cache = WF_CACHE_EMPTY;
  return wf_net_sync_error(net);
}
