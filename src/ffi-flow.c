/* ffi-flow.c — .Call entry points for W1-FE flows and sampling. */
#include <string.h>

#include "ffi-util.h"

static void flow_finalize(SEXP ptr) {
  wf_flow *flow = (wf_flow *)R_ExternalPtrAddr(ptr);
  if (flow != NULL) {
    wf_flow_free(flow);
    R_ClearExternalPtr(ptr);
  }
}

static wf_flow *r_flow(SEXP ptr) {
  if (TYPEOF(ptr) != EXTPTRSXP || R_ExternalPtrTag(ptr) != Rf_install("wf_flow"))
    wf_r_abort("wgflow_error_arg", "not a wgflow flow handle");
  wf_flow *flow = (wf_flow *)R_ExternalPtrAddr(ptr);
  if (flow == NULL) wf_r_abort("wgflow_error_state", "the flow's handle is dead");
  return flow;
}

static void raise_flow(wf_status rc, wf_flow *flow) {
  char msg[WF_MSG_LEN];
  snprintf(msg, sizeof(msg), "%s", wf_flow_message(flow));
  wf_r_abort_status(rc, msg);
}

/* data: double matrix [n x d] (R, column-major) */
SEXP ffi_flow_create(SEXP critic, SEXP gen, SEXP data) {
  wf_net *c = wf_r_net(critic), *g = wf_r_net(gen);
  int n, d;
  double *rm = wf_r_row_major(NULL, data, "data", &n, &d);
  if (d != wf_net_spec(c)->widths[0])
    wf_r_abort("wgflow_error_arg", "`data` has %d columns, the critic takes %d", d,
               wf_net_spec(c)->widths[0]);
  char msg[WF_MSG_LEN];
  wf_flow *flow = NULL;
  wf_status rc = wf_flow_create(c, g, rm, n, &flow, msg);
  if (rc != WF_OK) wf_r_abort_status(rc, msg);
  /* the flow borrows both nets: keep their handles alive with it */
  SEXP keep = PROTECT(Rf_list2(critic, gen));
  SEXP ptr = PROTECT(R_MakeExternalPtr(flow, Rf_install("wf_flow"), keep));
  R_RegisterCFinalizerEx(ptr, flow_finalize, TRUE);
  UNPROTECT(2);
  return ptr;
}

/* opt: an optimiser list as in ffi-net.c */
void wf_r_opt(SEXP opt, wf_opt_spec *o);

SEXP ffi_flow_critic(SEXP ptr, SEXP m, SEXP steps, SEXP penalty, SEXP lambda,
                     SEXP opt, SEXP clip) {
  wf_flow *flow = r_flow(ptr);
  wf_opt_spec o;
  wf_r_opt(opt, &o);
  wf_critic_report rep;
  wf_status rc = wf_flow_critic(flow, wf_r_int(m, "batch_size", 1, 1 << 24),
                                wf_r_int(steps, "critic_steps", 1, 1 << 24),
                                (wf_penalty)wf_r_int(penalty, "penalty", 0, 2),
                                wf_r_double(lambda, "lambda"), &o,
                                wf_r_double(clip, "clip"), &rep);
  if (rc != WF_OK) raise_flow(rc, flow);
  SEXP out = PROTECT(Rf_allocVector(REALSXP, 4));
  REAL(out)[0] = rep.loss;
  REAL(out)[1] = rep.w1;
  REAL(out)[2] = rep.penalty;
  REAL(out)[3] = ISNAN(rep.grad_norm) ? NA_REAL : rep.grad_norm;
  UNPROTECT(1);
  return out;
}

SEXP ffi_flow_euler(SEXP ptr, SEXP m, SEXP step_size) {
  wf_flow *flow = r_flow(ptr);
  double gn;
  wf_status rc = wf_flow_euler(flow, wf_r_int(m, "batch_size", 1, 1 << 24),
                               wf_r_double(step_size, "step_size"), &gn);
  if (rc != WF_OK) raise_flow(rc, flow);
  return Rf_ScalarReal(gn);
}

SEXP ffi_flow_fit(SEXP ptr, SEXP K, SEXP opt, SEXP mode) {
  wf_flow *flow = r_flow(ptr);
  wf_opt_spec o;
  wf_r_opt(opt, &o);
  double first, last;
  wf_status rc = wf_flow_fit(flow, wf_r_int(K, "persistency", 1, 1 << 24), &o,
                             wf_r_int(mode, "mode", 0, 1), &first, &last);
  if (rc != WF_OK) raise_flow(rc, flow);
  SEXP out = PROTECT(Rf_allocVector(REALSXP, 2));
  REAL(out)[0] = first;
  REAL(out)[1] = last;
  UNPROTECT(1);
  return out;
}

SEXP ffi_flow_free(SEXP ptr) {
  if (TYPEOF(ptr) == EXTPTRSXP) flow_finalize(ptr);
  return R_NilValue;
}

/* key: 2 doubles (32-bit halves) */
SEXP ffi_generate(SEXP gen, SEXP n_, SEXP key) {
  wf_net *net = wf_r_net(gen);
  int n = wf_r_int(n_, "n", 1, 1 << 28);
  if (TYPEOF(key) != REALSXP || Rf_length(key) != 2)
    wf_r_abort("wgflow_error_arg", "`key` must be 2 doubles");
  uint64_t k = (uint64_t)REAL(key)[0] | ((uint64_t)REAL(key)[1] << 32);
  int d = wf_net_spec(net)->widths[wf_net_spec(net)->n_layers];
  wf_scratch s = {.net = net};
  wf_real *out = wf_scratch_alloc(&s, (size_t)n * d);
  if (out == NULL) wf_r_abort("wgflow_error_memory", "out of memory for %d samples", n);
  wf_status rc = wf_generate(net, n, k, out);
  SEXP res = R_NilValue;
  if (rc == WF_OK) res = PROTECT(wf_r_matrix_out(&s, out, n, d, &rc));
  if (rc != WF_OK) {
    char msg[WF_MSG_LEN];
    snprintf(msg, sizeof(msg), "%s", wf_net_message(net));
    wf_scratch_free(&s);
    wf_r_abort_status(rc, msg);
  }
  wf_scratch_free(&s);
  UNPROTECT(1);
  return res;
}
