/* ffi-passes.c — .Call entry points for a net's passes (forward, input
 * gradient, backward, double backward), optimiser steps, clipping, random
 * draws and sampling a generator. Thin: convert, call the core, release
 * scratch buffers, then raise any error. */
#include <math.h>
#include <string.h>

#include "ffi-net.h"

int wf_r_in_dim(wf_net *net) { return wf_net_spec(net)->widths[0]; }
int wf_r_out_dim(wf_net *net) {
  return wf_net_spec(net)->widths[wf_net_spec(net)->n_layers];
}

/* f(x) [m x out] (grad = 0) or d/dx sum f(x) [m x in] (grad = 1) */
static SEXP forward_or_grad(SEXP ptr, SEXP x, SEXP train, int grad) {
  wf_net *net = wf_r_net(ptr);
  int tr = Rf_asLogical(train) == TRUE, m;
  int cols = grad ? wf_r_in_dim(net) : wf_r_out_dim(net);
  wf_scratch s = {.net = net};
  wf_status rc;
  wf_real *xb = wf_r_matrix_in(&s, x, wf_r_in_dim(net), "x", &m);
  wf_real *out_b = wf_scratch_alloc(&s, (size_t)m * cols);
  if (out_b == NULL) {
    rc = WF_ERR_NOMEM;
    goto fail;
  }
  TRY(wf_mlp_forward(net, xb, m, tr, grad ? NULL : out_b));
  if (grad) TRY(wf_mlp_input_grad(net, NULL, out_b));
  wf_r_account(ptr, net, m);
  SEXP out = PROTECT(wf_r_matrix_out(&s, out_b, m, cols, &rc));
  if (rc != WF_OK) goto fail;
  wf_scratch_free(&s);
  UNPROTECT(1);
  return out;
fail:
  FAIL_AND_RAISE(s);
  return R_NilValue;
}

SEXP ffi_forward(SEXP ptr, SEXP x, SEXP train) {
  return forward_or_grad(ptr, x, train, 0);
}

SEXP ffi_input_grad(SEXP ptr, SEXP x, SEXP train) {
  return forward_or_grad(ptr, x, train, 1);
}


SEXP wf_r_param_grad(wf_net *net) {
  SEXP g = PROTECT(Rf_allocVector(REALSXP, (R_xlen_t)wf_net_layout(net)->n_params));
  wf_status rc = wf_net_get_grad(net, REAL(g));
  if (rc != WF_OK) wf_r_abort_status(rc, wf_net_message(net));
  UNPROTECT(1);
  return g;
}

SEXP ffi_backward(SEXP ptr, SEXP x, SEXP dy, SEXP train) {
  wf_net *net = wf_r_net(ptr);
  int tr = Rf_asLogical(train) == TRUE, m, m2;
  wf_scratch s = {.net = net};
  wf_status rc;
  wf_real *xb = wf_r_matrix_in(&s, x, wf_r_in_dim(net), "x", &m);
  wf_real *dyb = wf_r_matrix_in(&s, dy, wf_r_out_dim(net), "dy", &m2);
  wf_real *dxb = wf_scratch_alloc(&s, (size_t)m * wf_r_in_dim(net));
  if (m2 != m) {
    wf_scratch_free(&s);
    wf_r_abort("wgflow_error_arg", "`dy` must have as many rows as `x` (%d), not %d", m, m2);
  }
  if (dxb == NULL) {
    rc = WF_ERR_NOMEM;
    goto fail;
  }
  TRY(wf_net_zero_grad(net));
  TRY(wf_mlp_forward(net, xb, m, tr, NULL));
  TRY(wf_mlp_backward(net, dyb, dxb));
  wf_r_account(ptr, net, m);
  const char *names[] = {"param_grad", "input_grad", ""};
  SEXP out = PROTECT(wf_r_named_list(names));
  SET_VECTOR_ELT(out, 1, wf_r_matrix_out(&s, dxb, m, wf_r_in_dim(net), &rc));
  if (rc != WF_OK) goto fail;
  wf_scratch_free(&s);
  SET_VECTOR_ELT(out, 0, wf_r_param_grad(net));
  UNPROTECT(1);
  return out;
fail:
  FAIL_AND_RAISE(s);
  return R_NilValue;
}

SEXP ffi_double_backward(SEXP ptr, SEXP x, SEXP u) {
  wf_net *net = wf_r_net(ptr);
  int m, m2, d = wf_r_in_dim(net);
  wf_scratch s = {.net = net};
  wf_status rc;
  wf_real *xb = wf_r_matrix_in(&s, x, d, "x", &m);
  wf_real *ub = wf_r_matrix_in(&s, u, d, "u", &m2);
  if (m2 != m) {
    wf_scratch_free(&s);
    wf_r_abort("wgflow_error_arg", "`u` must have as many rows as `x` (%d), not %d", m, m2);
  }
  wf_real *dxb = wf_scratch_alloc(&s, (size_t)m * d);
  wf_real *dub = wf_scratch_alloc(&s, (size_t)m * d);
  double *slot = wf_scratch_slots(&s, 1);
  if (dxb == NULL || dub == NULL || slot == NULL) {
    rc = WF_ERR_NOMEM;
    goto fail;
  }
  double value;
  TRY(wf_net_zero_grad(net));
  TRY(wf_mlp_forward(net, xb, m, 0, NULL));
  TRY(wf_mlp_input_grad(net, NULL, NULL));
  TRY(wf_mlp_double_backward(net, ub, dxb, dub, slot));
  wf_r_account(ptr, net, m);
  TRY(wf_device_read_scalars(wf_net_device(net), &value, slot, 1));
  const char *names[] = {"value", "param_grad", "input_grad", "dir_grad", ""};
  SEXP out = PROTECT(wf_r_named_list(names));
  SET_VECTOR_ELT(out, 0, Rf_ScalarReal(value));
  SET_VECTOR_ELT(out, 2, wf_r_matrix_out(&s, dxb, m, d, &rc));
  if (rc == WF_OK) SET_VECTOR_ELT(out, 3, wf_r_matrix_out(&s, dub, m, d, &rc));
  if (rc != WF_OK) goto fail;
  wf_scratch_free(&s);
  SET_VECTOR_ELT(out, 1, wf_r_param_grad(net));
  UNPROTECT(1);
  return out;
fail:
  FAIL_AND_RAISE(s);
  return R_NilValue;
}

SEXP ffi_opt_step(SEXP ptr, SEXP grad, SEXP opt) {
  wf_net *net = wf_r_net(ptr);
  wf_opt_spec o;
  wf_r_opt(opt, &o);
  wf_r_set_block(net, 2, grad, "grad");
  wf_status rc = wf_net_opt_step(net, &o);
  if (rc != WF_OK) wf_r_abort_status(rc, wf_net_message(net));
  return R_NilValue;
}

SEXP ffi_clip(SEXP ptr, SEXP c) {
  wf_net *net = wf_r_net(ptr);
  wf_status rc = wf_net_clip(net, wf_r_double(c, "clip"));
  if (rc != WF_OK) wf_r_abort_status(rc, wf_net_message(net));
  return R_NilValue;
}

/* kind 0: uniform (0, 1), 1: standard normal */
SEXP ffi_rng_draw(SEXP ptr, SEXP n_, SEXP kind) {
  wf_net *net = wf_r_net(ptr);
  int n = wf_r_int(n_, "n", 0, 1 << 30), k = wf_r_int(kind, "kind", 0, 1);
  wf_scratch s = {.net = net};
  wf_status rc;
  wf_real *b = wf_scratch_alloc(&s, (size_t)n);
  if (b == NULL) wf_scratch_nomem(&s, (size_t)n, "the draws (`n`)");
  TRY(k == 0 ? wf_net_uniform(net, b, (size_t)n) : wf_net_normal(net, b, (size_t)n));
  SEXP out = PROTECT(wf_r_vector_out(&s, b, (size_t)n, &rc));
  if (rc != WF_OK) goto fail;
  wf_scratch_free(&s);
  UNPROTECT(1);
  return out;
fail:
  FAIL_AND_RAISE(s);
  return R_NilValue;
}

/* key: 2 doubles (32-bit halves) */
SEXP ffi_generate(SEXP gen, SEXP n_, SEXP key) {
  wf_net *net = wf_r_net(gen);
  int n = wf_r_int(n_, "n", 1, 1 << 28);
  uint64_t k = wf_r_u64(key, 0, "key");
  int d = wf_r_out_dim(net);
  wf_scratch s = {.net = net};
  wf_status rc;
  wf_real *out = wf_scratch_alloc(&s, (size_t)n * d);
  if (out == NULL) wf_scratch_nomem(&s, (size_t)n * d, "the samples (`n`)");
  TRY(wf_generate(net, n, k, out));
  wf_r_account(gen, net, n);
  SEXP res = PROTECT(wf_r_matrix_out(&s, out, n, d, &rc));
  if (rc != WF_OK) goto fail;
  wf_scratch_free(&s);
  UNPROTECT(1);
  return res;
fail:
  FAIL_AND_RAISE(s);
  return R_NilValue;
}
