/* ffi-net.c — .Call entry points for net handles: create, free, memory
 * accounting, parameters, optimiser state and random streams, and the sync
 * of the R copy (views of that state, ffi-view.c). Thin: convert, call the
 * core, raise any error. */
#include <math.h>
#include <string.h>

#include "ffi-net.h"

static SEXP list_get(SEXP list, const char *name) {
  SEXP x = wf_r_field(list, name, "internal: a spec");
  if (Rf_isNull(x)) wf_r_abort("wgflow_error_arg", "internal: `%s` missing from a spec", name);
  return x;
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
  s->activation =
      (wf_activation)wf_r_choice(list_get(spec, "activation"), "activation", "activation");
  s->output_activation = (wf_activation)wf_r_choice(list_get(spec, "output_activation"),
                                                    "activation", "output_activation");
  s->leaky_slope = wf_r_double(list_get(spec, "leaky_slope"), "leaky_slope");
  s->norm = (wf_norm)wf_r_choice(list_get(spec, "norm"), "norm", "norm");
  s->residual = wf_r_int(list_get(spec, "residual"), "residual", 0, 1);
  s->init = (wf_init)wf_r_choice(list_get(spec, "init"), "init", "init");
  s->init_sd = wf_r_double(list_get(spec, "init_sd"), "init_sd");
  s->gamma_normal = wf_r_int(list_get(spec, "gamma_normal"), "gamma_normal", 0, 1);
}

void wf_r_opt(SEXP opt, wf_opt_spec *o) {
  if (TYPEOF(opt) != VECSXP) wf_r_abort("wgflow_error_arg", "an optimiser must be a list");
  o->kind = (wf_opt_kind)wf_r_choice(list_get(opt, "kind"), "optimizer", "kind");
  o->lr = wf_r_double(list_get(opt, "lr"), "lr");
  o->beta1 = wf_r_double(list_get(opt, "beta1"), "beta1");
  o->beta2 = wf_r_double(list_get(opt, "beta2"), "beta2");
  o->eps = wf_r_double(list_get(opt, "eps"), "eps");
  o->momentum = wf_r_double(list_get(opt, "momentum"), "momentum");
  o->weight_decay = wf_r_double(list_get(opt, "weight_decay"), "weight_decay");
}

/* two doubles, each a whole number in [0, 2^32), into one 64-bit value */
uint64_t wf_r_u64(SEXP x, int at, const char *what) {
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
void wf_r_account(SEXP ptr, wf_net *net, int rows) {
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
  uint64_t k = wf_r_u64(key, 0, "key");
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
void wf_r_set_block(wf_net *net, int what, SEXP value, const char *arg) {
  size_t n = block_size(net, what);
  if (TYPEOF(value) != REALSXP || (size_t)Rf_xlength(value) != n)
    wf_r_abort_arg(arg, "`%s` must be a double vector of length %zu", arg, n);
  const double *v = REAL_RO(value); /* once: `value` may be a view (ffi-view.c) */
  for (size_t i = 0; i < n; i++)
    if (!isfinite(v[i]))
      wf_r_abort_arg(arg, "`%s` must be finite (element %zu is not)", arg, i + 1);
  wf_r_check_range(NULL, v, n, arg);
  wf_status rc = what == 0   ? wf_net_set_params(net, v)
                 : what == 1 ? wf_net_set_state(net, v)
                             : wf_net_set_grad(net, v);
  if (rc != WF_OK) wf_r_abort_status(rc, wf_net_message(net));
}

SEXP ffi_net_set(SEXP ptr, SEXP what_, SEXP value) {
  wf_net *net = wf_r_net(ptr);
  wf_r_set_block(net, wf_r_int(what_, "what", 0, 2), value, "value");
  return R_NilValue;
}

static const char *opt_names[] = {"step", "m1", "m2", ""};

SEXP ffi_net_set_opt(SEXP ptr, SEXP step, SEXP m1, SEXP m2) {
  wf_net *net = wf_r_net(ptr);
  size_t n = wf_net_layout(net)->n_params;
  if (TYPEOF(m1) != REALSXP || TYPEOF(m2) != REALSXP ||
      (size_t)Rf_xlength(m1) != n || (size_t)Rf_xlength(m2) != n)
    wf_r_abort("wgflow_error_arg", "optimiser moments must have length %zu", n);
  wf_r_check_range(NULL, REAL_RO(m1), n, "m1");
  wf_r_check_range(NULL, REAL_RO(m2), n, "m2");
  wf_status rc = wf_net_set_opt_state(net, wf_r_double(step, "step"), REAL_RO(m1),
                                      REAL_RO(m2));
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

/* Bring the R copy kept in env up to the net's C state without copying
 * its values: params, state and opt$m1, opt$m2 become views that read the
 * engine when R looks at them (ffi-view.c); opt$step and rng, host numbers,
 * are written, in place where R allows. */
SEXP ffi_net_sync(SEXP ptr, SEXP env) {
  wf_net *net = wf_r_net(ptr);
  if (TYPEOF(env) != ENVSXP) wf_r_abort("wgflow_error_arg", "`env` must be an environment");
  wf_r_bind_view(env, R_NilValue, 0, "params", ptr, WF_PART_PARAMS);
  wf_r_bind_view(env, R_NilValue, 0, "state", ptr, WF_PART_STATE);
  SEXP opt = Rf_findVarInFrame(env, Rf_install("opt"));
  if (opt == R_UnboundValue || TYPEOF(opt) != VECSXP || XLENGTH(opt) != 3 ||
      MAYBE_SHARED(opt)) {
    opt = PROTECT(wf_r_named_list(opt_names));
    Rf_defineVar(Rf_install("opt"), opt, env);
    UNPROTECT(1);
  }
  REAL(writable_in(env, opt, 0, "step", 1))[0] = wf_net_block(net)->step;
  wf_r_bind_view(env, opt, 1, "m1", ptr, WF_PART_M1);
  wf_r_bind_view(env, opt, 2, "m2", ptr, WF_PART_M2);
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
  wf_status rc = wf_net_set_rng(net, wf_r_u64(v, 0, "rng"), wf_r_u64(v, 2, "rng"));
  if (rc != WF_OK) wf_r_abort_status(rc, wf_net_message(net));
  return R_NilValue;
}

/* dst's parameters and BatchNorm state := src's (the same spec), net to
 * net: SBE's anchor starts as a copy of the generator without a trip
 * through R. */
SEXP ffi_net_copy_params(SEXP dst_ptr, SEXP src_ptr) {
  wf_net *dst = wf_r_net(dst_ptr), *src = wf_r_net(src_ptr);
  wf_status rc = wf_net_copy_params(dst, src);
  if (rc != WF_OK) wf_r_abort_status(rc, wf_net_message(dst));
  return R_NilValue;
}
