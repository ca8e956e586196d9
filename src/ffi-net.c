/* ffi-net.c — .Call entry points for nets: create, parameters, passes,
 * critic loss, classifier loss, optimiser steps, random draws. Thin: convert, call the core,
 * release scratch buffers, then raise any error. */
#include <math.h>
#include <string.h>
#ifdef _OPENMP
#include <omp.h>
#endif

#include "compose.h"
#include "ffi-util.h"

/* run a core call; on failure jump to `fail`, which frees and raises */
#define TRY(expr)                  \
  do {                             \
    rc = (expr);                   \
    if (rc != WF_OK) goto fail;    \
  } while (0)

#define FAIL_AND_RAISE(s) wf_scratch_abort(&(s), rc)

static SEXP list_get(SEXP list, const char *name) {
  SEXP names = Rf_getAttrib(list, R_NamesSymbol);
  if (TYPEOF(list) != VECSXP || TYPEOF(names) != STRSXP)
    wf_r_abort("wgflow_error_arg", "internal: a spec must be a named list");
  for (R_xlen_t i = 0; i < Rf_xlength(list); i++)
    if (strcmp(CHAR(STRING_ELT(names, i)), name) == 0) return VECTOR_ELT(list, i);
  wf_r_abort("wgflow_error_arg", "internal: `%s` missing from a spec", name);
  return R_NilValue;
}

static void spec_from_list(SEXP spec, wf_mlp_spec *s) {
  if (TYPEOF(spec) != VECSXP) wf_r_abort("wgflow_error_arg", "a spec must be a list");
  memset(s, 0, sizeof(*s));
  SEXP widths = list_get(spec, "widths");
  if (TYPEOF(widths) != INTSXP || Rf_length(widths) < 2 ||
      Rf_length(widths) > WF_MAX_LAYERS + 1)
    wf_r_abort("wgflow_error_arg", "an MLP needs 2 to %d integer widths",
               WF_MAX_LAYERS + 1);
  s->n_layers = Rf_length(widths) - 1;
  for (int l = 0; l <= s->n_layers; l++) s->widths[l] = INTEGER(widths)[l];
  s->activation = (wf_activation)wf_r_int(list_get(spec, "activation"),
                                          "activation", 0, WF_ACT_COUNT - 1);
  s->output_activation = (wf_activation)wf_r_int(
      list_get(spec, "output_activation"), "output_activation", 0, WF_ACT_COUNT - 1);
  s->leaky_slope = wf_r_double(list_get(spec, "leaky_slope"), "leaky_slope");
  s->norm = (wf_norm)wf_r_int(list_get(spec, "norm"), "norm", 0, 2);
  s->residual = wf_r_int(list_get(spec, "residual"), "residual", 0, 1);
  s->init = (wf_init)wf_r_int(list_get(spec, "init"), "init", 0, 1);
  s->init_sd = wf_r_double(list_get(spec, "init_sd"), "init_sd");
  s->gamma_normal = wf_r_int(list_get(spec, "gamma_normal"), "gamma_normal", 0, 1);
}

void wf_r_opt(SEXP opt, wf_opt_spec *o) {
  if (TYPEOF(opt) != VECSXP) wf_r_abort("wgflow_error_arg", "an optimiser must be a list");
  o->kind = (wf_opt_kind)wf_r_int(list_get(opt, "kind"), "kind", 0, 2);
  o->lr = wf_r_double(list_get(opt, "lr"), "lr");
  o->beta1 = wf_r_double(list_get(opt, "beta1"), "beta1");
  o->beta2 = wf_r_double(list_get(opt, "beta2"), "beta2");
  o->eps = wf_r_double(list_get(opt, "eps"), "eps");
  o->momentum = wf_r_double(list_get(opt, "momentum"), "momentum");
  o->weight_decay = wf_r_double(list_get(opt, "weight_decay"), "weight_decay");
}

/* two doubles, each a whole number in [0, 2^32), into one 64-bit value */
static uint64_t u64_from(SEXP x, int at, const char *what) {
  if (TYPEOF(x) != REALSXP || Rf_length(x) < at + 2)
    wf_r_abort("wgflow_error_arg", "`%s` must be a double vector", what);
  double lo = REAL(x)[at], hi = REAL(x)[at + 1];
  if (!(lo >= 0 && lo < 4294967296.0 && hi >= 0 && hi < 4294967296.0) ||
      lo != floor(lo) || hi != floor(hi))
    wf_r_abort("wgflow_error_arg", "`%s` must hold 32-bit whole numbers", what);
  return (uint64_t)lo | ((uint64_t)hi << 32);
}

/* ---- memory R does not see --------------------------------------------------
 * A net's buffers live outside R's heap, so R's collector does not know that
 * dropping a net frees anything: a loop that makes many nets would grow
 * until the next collection R runs for its own reasons. The bytes held by
 * live nets are counted here, and creating a net runs a full collection
 * (which runs the finalizers of unreachable nets) whenever they have
 * doubled since the last one (at least 64 MB).
 *
 * A handle's protected value is a double vector [3]: its identity (so a
 * handle swapped into another net's R object is recognised, ffi_net_id),
 * the bytes counted for it, and the rows of the pass workspace counted. */
static double live_net_bytes = 0;
static double gc_trigger_bytes = 64.0 * 1024 * 1024;
static double last_net_id = 0;

/* What a net holds, as far as its public shape tells: parameters,
 * gradient, two optimiser moments, BatchNorm state, and the workspace of
 * a pass over `rows` rows (net.c keeps about six buffers per layer width,
 * five more per normalised width, three per input and output and four of
 * the widest layer). An estimate for the collector, not an allocator. */
static double stack_row_values(const wf_stack_spec *s) {
  wf_shape shapes[WF_MAX_LAYERS + 1];
  char msg[WF_MSG_LEN];
  double values = 0;
  if (wf_stack_check(s, shapes, msg) != WF_OK) return 0;
  /* a stack keeps about four buffers per layer output, a few of its input
   * and output, and a convolution's lowered columns (about four times its
   * output again) */
  for (int l = 0; l <= s->n_layers; l++)
    values += 8.0 * shapes[l].c * shapes[l].h * shapes[l].w;
  return values;
}

static double net_bytes(wf_net *net, int rows) {
  const wf_layout *lay = wf_net_layout(net);
  const wf_mlp_spec *s = wf_net_spec(net);
  if (wf_net_stack(net) != NULL)
    return ((double)lay->n_params * 4 + (double)lay->n_state +
            stack_row_values(wf_net_stack(net)) * rows) * sizeof(wf_real) + 4096;
  double widths = 0, normed = 0, wmax = 0;
  for (int l = 0; l < s->n_layers; l++) {
    double n = s->widths[l + 1];
    widths += n;
    if (l < s->n_layers - 1 && s->norm != WF_NORM_NONE) normed += n;
    if (n > wmax) wmax = n;
  }
  double per_row = 6 * widths + 5 * normed + 3 * (double)s->widths[0] +
                   3 * (double)s->widths[s->n_layers] + 4 * wmax;
  return ((double)lay->n_params * 4 + (double)lay->n_state + per_row * rows) *
             sizeof(wf_real) + 4096;
}

/* After a pass over `rows` rows: count the workspace it may have grown. */
static void account(SEXP ptr, wf_net *net, int rows) {
  SEXP prot = R_ExternalPtrProtected(ptr);
  if (TYPEOF(prot) != REALSXP || XLENGTH(prot) < 3 || rows <= REAL(prot)[2]) return;
  double now = net_bytes(net, rows);
  live_net_bytes += now - REAL(prot)[1];
  REAL(prot)[1] = now;
  REAL(prot)[2] = rows;
}

static void net_finalize(SEXP ptr) {
  wf_net *net = (wf_net *)R_ExternalPtrAddr(ptr);
  if (net != NULL) {
    SEXP prot = R_ExternalPtrProtected(ptr);
    if (TYPEOF(prot) == REALSXP && XLENGTH(prot) >= 3) live_net_bytes -= REAL(prot)[1];
    if (live_net_bytes < 0) live_net_bytes = 0;
    wf_net_free(net);
    R_ClearExternalPtr(ptr);
  }
}

static void collect_if_grown(void) {
  if (live_net_bytes <= gc_trigger_bytes) return;
  R_gc();
  double next = 2 * live_net_bytes;
  gc_trigger_bytes = next > 64.0 * 1024 * 1024 ? next : 64.0 * 1024 * 1024;
}

SEXP ffi_net_create(SEXP spec, SEXP key, SEXP device) {
  wf_mlp_spec s;
  wf_stack_spec stack;
  int is_stack = wf_r_is_stack(spec);
  if (is_stack)
    wf_r_stack_spec(spec, &stack);
  else
    spec_from_list(spec, &s);
  uint64_t k = u64_from(key, 0, "key");
  if (!Rf_isString(device) || Rf_length(device) != 1)
    wf_r_abort("wgflow_error_arg", "`device` must be a single string");
  wf_device *dev = wf_r_device(CHAR(STRING_ELT(device, 0)));
  collect_if_grown();
  char msg[WF_MSG_LEN];
  wf_net *net = NULL;
  wf_status rc = is_stack ? wf_net_create_stack(&stack, dev, k, &net, msg)
                          : wf_net_create(&s, dev, k, &net, msg);
  if (rc != WF_OK) wf_r_abort_status(rc, msg);
  SEXP info = PROTECT(Rf_allocVector(REALSXP, 3));
  REAL(info)[0] = ++last_net_id;
  REAL(info)[1] = net_bytes(net, 0);
  REAL(info)[2] = 0;
  SEXP ptr = PROTECT(R_MakeExternalPtr(net, Rf_install("wf_net"), info));
  R_RegisterCFinalizerEx(ptr, net_finalize, TRUE);
  live_net_bytes += REAL(info)[1];
  UNPROTECT(2);
  return ptr;
}

/* The identity a handle was created with (a number), or NULL for anything
 * that is not a net handle. */
SEXP ffi_net_id(SEXP ptr) {
  if (TYPEOF(ptr) != EXTPTRSXP || R_ExternalPtrTag(ptr) != Rf_install("wf_net"))
    return R_NilValue;
  SEXP prot = R_ExternalPtrProtected(ptr);
  if (TYPEOF(prot) != REALSXP || XLENGTH(prot) < 1) return R_NilValue;
  return Rf_ScalarReal(REAL(prot)[0]);
}

/* Bytes held by live nets (as counted above) and the collection trigger. */
SEXP ffi_net_memory(void) {
  SEXP out = PROTECT(Rf_allocVector(REALSXP, 2));
  REAL(out)[0] = live_net_bytes;
  REAL(out)[1] = gc_trigger_bytes;
  UNPROTECT(1);
  return out;
}

SEXP ffi_net_alive(SEXP ptr) {
  return Rf_ScalarLogical(TYPEOF(ptr) == EXTPTRSXP &&
                          R_ExternalPtrAddr(ptr) != NULL);
}

SEXP ffi_net_free(SEXP ptr) {
  if (TYPEOF(ptr) == EXTPTRSXP) net_finalize(ptr);
  return R_NilValue;
}

/* what: 0 params, 1 BatchNorm state, 2 gradient */
static size_t block_size(wf_net *net, int what) {
  const wf_layout *lay = wf_net_layout(net);
  return what == 1 ? lay->n_state : lay->n_params;
}

/* Set a block (what: 0 params, 1 state, 2 gradient) from an R vector; arg
 * names the R argument in errors. */
static void set_block(wf_net *net, int what, SEXP value, const char *arg) {
  size_t n = block_size(net, what);
  if (TYPEOF(value) != REALSXP || (size_t)Rf_xlength(value) != n)
    wf_r_abort_arg(arg, "`%s` must be a double vector of length %zu", arg, n);
  for (size_t i = 0; i < n; i++)
    if (!isfinite(REAL(value)[i]))
      wf_r_abort_arg(arg, "`%s` must be finite (element %zu is not)", arg, i + 1);
  wf_r_check_range(NULL, REAL(value), n, arg);
  wf_status rc = what == 0   ? wf_net_set_params(net, REAL(value))
                 : what == 1 ? wf_net_set_state(net, REAL(value))
                             : wf_net_set_grad(net, REAL(value));
  if (rc != WF_OK) wf_r_abort_status(rc, wf_net_message(net));
}

SEXP ffi_net_set(SEXP ptr, SEXP what_, SEXP value) {
  wf_net *net = wf_r_net(ptr);
  set_block(net, wf_r_int(what_, "what", 0, 2), value, "value");
  return R_NilValue;
}

static const char *opt_names[] = {"step", "m1", "m2", ""};

SEXP ffi_net_set_opt(SEXP ptr, SEXP step, SEXP m1, SEXP m2) {
  wf_net *net = wf_r_net(ptr);
  size_t n = wf_net_layout(net)->n_params;
  if (TYPEOF(m1) != REALSXP || TYPEOF(m2) != REALSXP ||
      (size_t)Rf_xlength(m1) != n || (size_t)Rf_xlength(m2) != n)
    wf_r_abort("wgflow_error_arg", "optimiser moments must have length %zu", n);
  wf_r_check_range(NULL, REAL(m1), n, "m1");
  wf_r_check_range(NULL, REAL(m2), n, "m2");
  wf_status rc = wf_net_set_opt_state(net, wf_r_double(step, "step"), REAL(m1), REAL(m2));
  if (rc != WF_OK) wf_r_abort_status(rc, wf_net_message(net));
  return R_NilValue;
}

/* A double vector of length n bound to `name` in env that may be written in
 * place (not shared with any other R object), or a fresh one bound there. */
static SEXP writable_in(SEXP env, SEXP holder, int at, const char *name, R_xlen_t n) {
  SEXP cur = holder == R_NilValue ? Rf_findVarInFrame(env, Rf_install(name))
                                  : VECTOR_ELT(holder, at);
  if (cur != R_UnboundValue && TYPEOF(cur) == REALSXP && XLENGTH(cur) == n &&
      !MAYBE_SHARED(cur))
    return cur;
  SEXP v = PROTECT(Rf_allocVector(REALSXP, n));
  if (holder == R_NilValue)
    Rf_defineVar(Rf_install(name), v, env);
  else
    SET_VECTOR_ELT(holder, at, v);
  UNPROTECT(1);
  return v;
}

/* Copy the net's C state into the R copy kept in env: params, state,
 * opt = list(step, m1, m2), rng. Writes in place where R allows, so a
 * step in a loop does not allocate four parameter-sized vectors. */
SEXP ffi_net_sync(SEXP ptr, SEXP env) {
  wf_net *net = wf_r_net(ptr);
  if (TYPEOF(env) != ENVSXP) wf_r_abort("wgflow_error_arg", "`env` must be an environment");
  const wf_layout *lay = wf_net_layout(net);
  R_xlen_t np = (R_xlen_t)lay->n_params, ns = (R_xlen_t)lay->n_state;
  SEXP params = writable_in(env, R_NilValue, 0, "params", np);
  SEXP state = writable_in(env, R_NilValue, 0, "state", ns);
  SEXP opt = Rf_findVarInFrame(env, Rf_install("opt"));
  if (opt == R_UnboundValue || TYPEOF(opt) != VECSXP || XLENGTH(opt) != 3 ||
      MAYBE_SHARED(opt)) {
    opt = PROTECT(wf_r_named_list(opt_names));
    Rf_defineVar(Rf_install("opt"), opt, env);
    UNPROTECT(1);
  }
  SEXP m1 = writable_in(env, opt, 1, "m1", np);
  SEXP m2 = writable_in(env, opt, 2, "m2", np);
  double step;
  wf_status rc = wf_net_get_params(net, REAL(params));
  if (rc == WF_OK) rc = wf_net_get_state(net, REAL(state));
  if (rc == WF_OK) rc = wf_net_get_opt_state(net, &step, REAL(m1), REAL(m2));
  if (rc != WF_OK) wf_r_abort_status(rc, wf_net_message(net));
  SET_VECTOR_ELT(opt, 0, Rf_ScalarReal(step));
  SEXP rng = writable_in(env, R_NilValue, 0, "rng", 4);
  uint64_t key, ctr;
  wf_net_get_rng(net, &key, &ctr);
  REAL(rng)[0] = (double)(key & 0xffffffffu);
  REAL(rng)[1] = (double)(key >> 32);
  REAL(rng)[2] = (double)(ctr & 0xffffffffu);
  REAL(rng)[3] = (double)(ctr >> 32);
  return R_NilValue;
}

SEXP ffi_net_set_rng(SEXP ptr, SEXP v) {
  wf_net *net = wf_r_net(ptr);
  wf_status rc = wf_net_set_rng(net, u64_from(v, 0, "rng"), u64_from(v, 2, "rng"));
  if (rc != WF_OK) wf_r_abort_status(rc, wf_net_message(net));
  return R_NilValue;
}

static int in_dim(wf_net *net) { return wf_net_spec(net)->widths[0]; }
static int out_dim(wf_net *net) {
  return wf_net_spec(net)->widths[wf_net_spec(net)->n_layers];
}

/* f(x) [m x out] (grad = 0) or d/dx sum f(x) [m x in] (grad = 1) */
static SEXP forward_or_grad(SEXP ptr, SEXP x, SEXP train, int grad) {
  wf_net *net = wf_r_net(ptr);
  int tr = Rf_asLogical(train) == TRUE, m;
  int cols = grad ? in_dim(net) : out_dim(net);
  wf_scratch s = {.net = net};
  wf_status rc;
  wf_real *xb = wf_r_matrix_in(&s, x, in_dim(net), "x", &m);
  wf_real *out_b = wf_scratch_alloc(&s, (size_t)m * cols);
  if (out_b == NULL) {
    rc = WF_ERR_NOMEM;
    goto fail;
  }
  TRY(wf_mlp_forward(net, xb, m, tr, grad ? NULL : out_b));
  if (grad) TRY(wf_mlp_input_grad(net, NULL, out_b));
  account(ptr, net, m);
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


static SEXP param_grad(wf_net *net) {
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
  wf_real *xb = wf_r_matrix_in(&s, x, in_dim(net), "x", &m);
  wf_real *dyb = wf_r_matrix_in(&s, dy, out_dim(net), "dy", &m2);
  wf_real *dxb = wf_scratch_alloc(&s, (size_t)m * in_dim(net));
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
  account(ptr, net, m);
  const char *names[] = {"param_grad", "input_grad", ""};
  SEXP out = PROTECT(wf_r_named_list(names));
  SET_VECTOR_ELT(out, 1, wf_r_matrix_out(&s, dxb, m, in_dim(net), &rc));
  if (rc != WF_OK) goto fail;
  wf_scratch_free(&s);
  SET_VECTOR_ELT(out, 0, param_grad(net));
  UNPROTECT(1);
  return out;
fail:
  FAIL_AND_RAISE(s);
  return R_NilValue;
}

SEXP ffi_double_backward(SEXP ptr, SEXP x, SEXP u) {
  wf_net *net = wf_r_net(ptr);
  int m, m2, d = in_dim(net);
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
  account(ptr, net, m);
  TRY(wf_device_read_scalars(wf_net_device(net), &value, slot, 1));
  const char *names[] = {"value", "param_grad", "input_grad", "dir_grad", ""};
  SEXP out = PROTECT(wf_r_named_list(names));
  SET_VECTOR_ELT(out, 0, Rf_ScalarReal(value));
  SET_VECTOR_ELT(out, 2, wf_r_matrix_out(&s, dxb, m, d, &rc));
  if (rc == WF_OK) SET_VECTOR_ELT(out, 3, wf_r_matrix_out(&s, dub, m, d, &rc));
  if (rc != WF_OK) goto fail;
  wf_scratch_free(&s);
  SET_VECTOR_ELT(out, 1, param_grad(net));
  UNPROTECT(1);
  return out;
fail:
  FAIL_AND_RAISE(s);
  return R_NilValue;
}

/* Stage real, fake (and t: WGAN's interpolation weights [m], DRAGAN's
 * noise [m x in] row-major, t_per_row values a row) for the critic calls. */
static int stage_critic(wf_scratch *s, SEXP real, SEXP fake, SEXP t, int t_per_row,
                        wf_real **rb, wf_real **fb, wf_real **tb) {
  int m, m2;
  int d = in_dim(s->net);
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

/* kind: 0 WGAN, 1 GAN, 2 DRAGAN; penalty: 0 none, 1 GP, 2 LP (WGAN only);
 * perturb: DRAGAN's noise scale. */
static wf_critic_spec critic_spec(SEXP kind, SEXP penalty, SEXP lambda, SEXP perturb,
                                  double clip) {
  wf_critic_spec cs = {(wf_critic_kind)wf_r_int(kind, "loss", 0, WF_CRITIC_KIND_COUNT - 1),
                       (wf_penalty)wf_r_int(penalty, "penalty", 0, 2),
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
  int m = stage_critic(&s, real, fake, t, cs.kind == WF_CRITIC_DRAGAN ? in_dim(net) : 1,
                       &rb, &fb, &tb);
  wf_critic_report rep = run_critic(&s, rb, fb, m, tb, &cs, NULL);
  wf_scratch_free(&s);
  account(ptr, net, 2 * m); /* real and fake rows in one pass */
  SEXP g = PROTECT(param_grad(net));
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
  int m = stage_critic(&s, real, fake, t, cs.kind == WF_CRITIC_DRAGAN ? in_dim(net) : 1,
                       &rb, &fb, &tb);
  wf_critic_report rep = run_critic(&s, rb, fb, m, tb, &cs, &o);
  wf_scratch_free(&s);
  account(ptr, net, 2 * m);
  return report_list(&rep, R_NilValue);
}

SEXP ffi_penalty(SEXP ptr, SEXP x, SEXP penalty, SEXP lambda) {
  wf_net *net = wf_r_net(ptr);
  int pen = wf_r_int(penalty, "penalty", 1, 2), m;
  double lam = wf_r_double(lambda, "lambda"), host[2];
  if (!(lam >= 0)) wf_r_abort("wgflow_error_arg", "`lambda` must be >= 0");
  if (wf_net_out(net) != 1)
    wf_r_abort("wgflow_error_arg", "a critic must have one output, not %d", wf_net_out(net));
  wf_scratch s = {.net = net};
  wf_status rc;
  wf_real *xb = wf_r_matrix_in(&s, x, in_dim(net), "x", &m);
  wf_real *u = wf_scratch_alloc(&s, (size_t)m * in_dim(net));
  double *slots = wf_scratch_slots(&s, 2);
  if (u == NULL || slots == NULL) {
    rc = WF_ERR_NOMEM;
    goto fail;
  }
  TRY(wf_net_zero_grad(net));
  TRY(wf_grad_penalty(net, xb, m, pen == 1 ? WF_ROWNORM_GP : WF_ROWNORM_LP, lam / m,
                      u, NULL, slots, slots + 1));
  TRY(wf_device_read_scalars(wf_net_device(net), host, slots, 2));
  wf_scratch_free(&s);
  account(ptr, net, m);
  const char *names[] = {"value", "param_grad", "grad_norm", ""};
  SEXP out = PROTECT(wf_r_named_list(names));
  SET_VECTOR_ELT(out, 0, Rf_ScalarReal(host[0]));
  SET_VECTOR_ELT(out, 1, param_grad(net));
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
  int tr = Rf_asLogical(train) == TRUE, m, k = out_dim(net);
  wf_opt_spec o;
  if (!Rf_isNull(opt)) wf_r_opt(opt, &o);
  wf_scratch s = {.net = net};
  wf_status rc;
  wf_real *xb = wf_r_matrix_in(&s, x, in_dim(net), "x", &m);
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
  account(ptr, net, m);
  if (!isfinite(loss)) wf_r_abort("wgflow_error_numeric", "the classifier loss is not finite");
  const char *names[] = {"loss", "param_grad", ""};
  if (!Rf_isNull(opt)) names[1] = "";
  SEXP out = PROTECT(wf_r_named_list(names));
  SET_VECTOR_ELT(out, 0, Rf_ScalarReal(loss));
  if (Rf_isNull(opt)) SET_VECTOR_ELT(out, 1, param_grad(net));
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
  set_block(net, 2, grad, "grad");
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

/* The processors this process may use (OpenMP's count; 1 without OpenMP,
 * where the CPU backend runs one thread whatever is asked). */
SEXP ffi_cpu_cores(void) {
#ifdef _OPENMP
  return Rf_ScalarInteger(omp_get_num_procs());
#else
  return Rf_ScalarInteger(1);
#endif
}

SEXP ffi_threads(SEXP n) {
  wf_device *cpu = wf_r_device("cpu");
  int value = Rf_isNull(n) ? -1 : wf_r_int(n, "n", 1, 1024);
  return Rf_ScalarInteger(wf_device_knob(cpu, "threads", value));
}

/* key: 2 doubles (32-bit halves) */
SEXP ffi_generate(SEXP gen, SEXP n_, SEXP key) {
  wf_net *net = wf_r_net(gen);
  int n = wf_r_int(n_, "n", 1, 1 << 28);
  uint64_t k = u64_from(key, 0, "key");
  int d = out_dim(net);
  wf_scratch s = {.net = net};
  wf_status rc;
  wf_real *out = wf_scratch_alloc(&s, (size_t)n * d);
  if (out == NULL) wf_scratch_nomem(&s, (size_t)n * d, "the samples (`n`)");
  TRY(wf_generate(net, n, k, out));
  account(gen, net, n);
  SEXP res = PROTECT(wf_r_matrix_out(&s, out, n, d, &rc));
  if (rc != WF_OK) goto fail;
  wf_scratch_free(&s);
  UNPROTECT(1);
  return res;
fail:
  FAIL_AND_RAISE(s);
  return R_NilValue;
}
