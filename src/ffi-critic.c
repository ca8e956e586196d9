/* ffi-critic.c — .Call entry points for the critic's losses and steps
 * (WGAN with its penalties, GAN, DRAGAN), the gradient penalty alone, and
 * the classifier's softmax cross-entropy. Thin: stage, call the core,
 * release scratch buffers, then raise any error. */
#include <math.h>
#include <string.h>

#include "ffi-net.h"

/* Stage real, fake (and t: WGAN's interpolation weights [m], DRAGAN's
 * noise [m x in] row-major, t_per_row values a row) for the critic calls. */
static int stage_critic(wf_scratch *s, SEXP real, SEXP fake, SEXP t, int t_per_row,
                        wf_real **rb, wf_real **fb, wf_real **tb) {
  int m, m2;
  int d = wf_r_in_dim(s->net);
  *rb = wf_r_matrix_in(s, real, d, "real", &m);
  *fb = wf_r_matrix_in(s, fake, d, "fake", &m2);
  if (m2 != m) {
    wf_scratch_free(s);
    wf_r_abort("wgflow_error_arg", "`fake` must have as many rows as `real` (%d), not %d",
               m, m2);
  }
  *tb = NULL;
  if (!Rf_isNull(t)) {
    size_t nt = (size_t)m * t_per_row;
    if (TYPEOF(t) != REALSXP || (size_t)Rf_xlength(t) != nt) {
      wf_scratch_free(s);
      wf_r_abort("wgflow_error_arg", "`t` must be a double vector of length %zu", nt);
    }
    *tb = wf_scratch_alloc(s, nt);
    if (*tb == NULL || wf_device_upload(wf_net_device(s->net), *tb, REAL(t), nt) != WF_OK) {
      wf_scratch_free(s);
      wf_r_abort("wgflow_error_memory", "could not stage `t`");
    }
  }
  return m;
}

static SEXP report_list(const wf_critic_report *r, SEXP grad) {
  const char *names[] = {"loss", "w1", "penalty", "grad_norm", "param_grad", ""};
  int n = Rf_isNull(grad) ? 4 : 5;
  if (n == 4) names[4] = "";
  SEXP out = PROTECT(wf_r_named_list(names));
  SET_VECTOR_ELT(out, 0, Rf_ScalarReal(r->loss));
  SET_VECTOR_ELT(out, 1, Rf_ScalarReal(r->w1));
  SET_VECTOR_ELT(out, 2, Rf_ScalarReal(r->penalty));
  SET_VECTOR_ELT(out, 3, Rf_ScalarReal(isnan(r->grad_norm) ? NA_REAL : r->grad_norm));
  if (n == 5) SET_VECTOR_ELT(out, 4, grad);
  UNPROTECT(1);
  return out;
}

/* The critic loss (opt == NULL) or one critic step on staged batches:
 * its report, read back from its slots. Frees the scratch and the work
 * space before raising any error. */
static wf_critic_report run_critic(wf_scratch *s, const wf_real *rb,
                                   const wf_real *fb, int m, const wf_real *tb,
                                   const wf_critic_spec *cs, const wf_opt_spec *opt) {
  wf_net *net = s->net;
  wf_critic_ws ws = {0};
  wf_critic_report rep = {0, 0, 0, 0};
  double host[WF_CRITIC_SLOTS];
  double *slots = wf_scratch_slots(s, WF_CRITIC_SLOTS);
  wf_status rc = slots == NULL ? WF_ERR_NOMEM : WF_OK;
  if (rc == WF_OK && opt == NULL) rc = wf_net_zero_grad(net);
  if (rc == WF_OK)
    rc = opt == NULL ? wf_critic_loss_grad_spec(net, &ws, cs, rb, fb, m, tb, slots)
                     : wf_critic_step_spec(net, &ws, cs, rb, fb, m, tb, opt, slots);
  if (rc == WF_OK)
    rc = wf_device_read_scalars(wf_net_device(net), host, slots, WF_CRITIC_SLOTS);
  wf_critic_ws_free(&ws);
  if (rc == WF_OK && wf_critic_report_spec(host, 1, cs, &rep) != WF_OK) {
    wf_scratch_free(s);
    wf_r_abort("wgflow_error_numeric", "the critic loss is not finite");
  }
  if (rc != WF_OK) wf_scratch_abort(s, rc);
  return rep;
}

/* kind: a critic_loss ("wgan", "gan", "dragan"); penalty: "none", "gp",
 * "lp" (WGAN only); perturb: DRAGAN's noise scale. */
static wf_critic_spec critic_spec(SEXP kind, SEXP penalty, SEXP lambda, SEXP perturb,
                                  double clip) {
  wf_critic_spec cs = {(wf_critic_kind)wf_r_choice(kind, "critic_loss", "loss"),
                       (wf_penalty)wf_r_choice(penalty, "penalty", "penalty"),
                       wf_r_double(lambda, "lambda"), wf_r_double(perturb, "perturb"),
                       clip > 0 ? clip : 0};
  char msg[WF_MSG_LEN];
  if (wf_critic_spec_check(&cs, msg) != WF_OK) wf_r_abort("wgflow_error_arg", "%s", msg);
  return cs;
}

SEXP ffi_critic_loss(SEXP ptr, SEXP real, SEXP fake, SEXP t, SEXP penalty,
                     SEXP lambda, SEXP kind, SEXP perturb) {
  wf_net *net = wf_r_net(ptr);
  wf_critic_spec cs = critic_spec(kind, penalty, lambda, perturb, 0);
  wf_scratch s = {.net = net};
  wf_real *rb, *fb, *tb;
  int m = stage_critic(&s, real, fake, t, cs.kind == WF_CRITIC_DRAGAN ? wf_r_in_dim(net) : 1,
                       &rb, &fb, &tb);
  wf_critic_report rep = run_critic(&s, rb, fb, m, tb, &cs, NULL);
  wf_scratch_free(&s);
  wf_r_account(ptr, net, 2 * m); /* real and fake rows in one pass */
  SEXP g = PROTECT(wf_r_param_grad(net));
  SEXP out = report_list(&rep, g);
  UNPROTECT(1);
  return out;
}

SEXP ffi_critic_step(SEXP ptr, SEXP real, SEXP fake, SEXP t, SEXP penalty,
                     SEXP lambda, SEXP opt, SEXP clip, SEXP kind, SEXP perturb) {
  wf_net *net = wf_r_net(ptr);
  wf_critic_spec cs = critic_spec(kind, penalty, lambda, perturb, wf_r_double(clip, "clip"));
  wf_opt_spec o;
  wf_r_opt(opt, &o);
  wf_scratch s = {.net = net};
  wf_real *rb, *fb, *tb;
  int m = stage_critic(&s, real, fake, t, cs.kind == WF_CRITIC_DRAGAN ? wf_r_in_dim(net) : 1,
                       &rb, &fb, &tb);
  wf_critic_report rep = run_critic(&s, rb, fb, m, tb, &cs, &o);
  wf_scratch_free(&s);
  wf_r_account(ptr, net, 2 * m);
  return report_list(&rep, R_NilValue);
}

SEXP ffi_penalty(SEXP ptr, SEXP x, SEXP penalty, SEXP lambda) {
  wf_net *net = wf_r_net(ptr);
  int pen = wf_r_choice(penalty, "penalty", "penalty"), m;
  if (pen == WF_PENALTY_NONE) wf_r_abort("wgflow_error_arg", "`penalty` must be \"gp\" or \"lp\"");
  double lam = wf_r_double(lambda, "lambda"), host[2];
  if (!(lam >= 0)) wf_r_abort("wgflow_error_arg", "`lambda` must be >= 0");
  if (wf_net_out(net) != 1)
    wf_r_abort("wgflow_error_arg", "a critic must have one output, not %d", wf_net_out(net));
  wf_scratch s = {.net = net};
  wf_status rc;
  wf_real *xb = wf_r_matrix_in(&s, x, wf_r_in_dim(net), "x", &m);
  wf_real *u = wf_scratch_alloc(&s, (size_t)m * wf_r_in_dim(net));
  double *slots = wf_scratch_slots(&s, 2);
  if (u == NULL || slots == NULL) {
    rc = WF_ERR_NOMEM;
    goto fail;
  }
  TRY(wf_net_zero_grad(net));
  TRY(wf_grad_penalty(net, xb, m, pen == WF_PENALTY_GP ? WF_ROWNORM_GP : WF_ROWNORM_LP, lam / m,
                      u, NULL, slots, slots + 1));
  TRY(wf_device_read_scalars(wf_net_device(net), host, slots, 2));
  wf_scratch_free(&s);
  wf_r_account(ptr, net, m);
  const char *names[] = {"value", "param_grad", "grad_norm", ""};
  SEXP out = PROTECT(wf_r_named_list(names));
  SET_VECTOR_ELT(out, 0, Rf_ScalarReal(host[0]));
  SET_VECTOR_ELT(out, 1, wf_r_param_grad(net));
  SET_VECTOR_ELT(out, 2, Rf_ScalarReal(host[1]));
  UNPROTECT(1);
  return out;
fail:
  FAIL_AND_RAISE(s);
  return R_NilValue;
}

/* The softmax cross-entropy of a classifier on x [m x in] against labels
 * (an integer vector [m], 0 .. out - 1): opt NULL gives list(loss,
 * param_grad) (the gradient alone), an optimiser list(loss) after one
 * step on it. train: batch statistics. */
SEXP ffi_classify(SEXP ptr, SEXP x, SEXP labels, SEXP opt, SEXP train) {
  wf_net *net = wf_r_net(ptr);
  int tr = Rf_asLogical(train) == TRUE, m, k = wf_r_out_dim(net);
  wf_opt_spec o;
  if (!Rf_isNull(opt)) wf_r_opt(opt, &o);
  wf_scratch s = {.net = net};
  wf_status rc;
  wf_real *xb = wf_r_matrix_in(&s, x, wf_r_in_dim(net), "x", &m);
  if (TYPEOF(labels) != INTSXP || Rf_xlength(labels) != m) {
    wf_scratch_free(&s);
    wf_r_abort_arg("labels", "`labels` must be an integer vector of length %d", m);
  }
  for (int i = 0; i < m; i++) {
    int l = INTEGER(labels)[i];
    if (l == NA_INTEGER || l < 0 || l >= k) {
      wf_scratch_free(&s);
      wf_r_abort_arg("labels", "`labels` must lie in 0 .. %d (element %d)", k - 1, i + 1);
    }
  }
  /* the labels [m] as device ints: a buffer of m wf_real holds them */
  int *lb = (int *)wf_scratch_alloc(&s, (size_t)m);
  double *slot = wf_scratch_slots(&s, 1);
  double loss;
  if (lb == NULL || slot == NULL) {
    rc = WF_ERR_NOMEM;
    goto fail;
  }
  TRY(wf_device_upload_int(wf_net_device(net), lb, INTEGER(labels), (size_t)m));
  if (Rf_isNull(opt)) TRY(wf_net_zero_grad(net));
  TRY(wf_classify_step(net, xb, m, tr, lb, Rf_isNull(opt) ? NULL : &o, slot));
  TRY(wf_device_read_scalars(wf_net_device(net), &loss, slot, 1));
  wf_scratch_free(&s);
  wf_r_account(ptr, net, m);
  if (!isfinite(loss)) wf_r_abort("wgflow_error_numeric", "the classifier loss is not finite");
  const char *names[] = {"loss", "param_grad", ""};
  if (!Rf_isNull(opt)) names[1] = "";
  SEXP out = PROTECT(wf_r_named_list(names));
  SET_VECTOR_ELT(out, 0, Rf_ScalarReal(loss));
  if (Rf_isNull(opt)) SET_VECTOR_ELT(out, 1, wf_r_param_grad(net));
  UNPROTECT(1);
  return out;
fail:
  FAIL_AND_RAISE(s);
  return R_NilValue;
}
