/* ffi-view.c — a net's parameters, BatchNorm state and optimiser moments,
 * in its R copy, as double vectors that read the engine when R first looks
 * at them (an ALTREP class): an engine call no longer copies the state up
 * to R after every step, yet every read of the R copy, saveRDS() included,
 * sees the values the net holds.
 *
 * A view knows its net and which part it shows. Unread, it stands for the
 * net's state as it is when read; once read it holds the values (and lets
 * go of the net). Two rules make that the values R would have seen had
 * every call copied them up:
 *  - net_sync() (ffi_net_sync, after each call that changes a net) keeps an
 *    unread view bound in the net's environment only where no other R
 *    object holds it, and binds fresh views elsewhere;
 *  - before a net changes (net_ptr() before every engine call, and each
 *    training epoch), the views of its R copy that another R object may
 *    hold are read (ffi_net_freeze): a vector someone kept keeps its values.
 * Whether another object holds a view is R's reference count
 * (MAYBE_SHARED, as for the in-place writes R itself does): it may count
 * too many, which costs a read, never a wrong value. saveRDS() reads a view
 * like any double vector (no Serialized_state method), so a saved net holds
 * plain values and loads without this class.
 *
 * data1: the net's handle while unread (keeping the net alive), then NULL.
 * data2: while unread, an integer vector c(part, length) (part a
 *        wf_net_part); once read, the values (a plain double vector). */
#include <limits.h>

#include "ffi-net.h"

#include <R_ext/Altrep.h> /* after Rinternals.h (ffi-util.h) */

static R_altrep_class_t view_class;
static double views_read = 0; /* how many views read the engine (tests) */

static int is_view(SEXP x) { return R_altrep_inherits(x, view_class); }
static int unread(SEXP x) { return TYPEOF(R_altrep_data2(x)) == INTSXP; }

static wf_status read_part(wf_net *net, int part, double *out) {
  switch (part) {
  case WF_PART_PARAMS: return wf_net_get_params(net, out);
  case WF_PART_STATE: return wf_net_get_state(net, out);
  default: return wf_net_get_moment(net, part == WF_PART_M1 ? 1 : 2, out);
  }
}

/* The view's values, read from its net the first time. */
static SEXP view_values(SEXP x) {
  SEXP meta = R_altrep_data2(x);
  if (TYPEOF(meta) == REALSXP) return meta;
  int part = INTEGER(meta)[0];
  R_xlen_t n = INTEGER(meta)[1];
  SEXP ptr = R_altrep_data1(x);
  wf_net *net = TYPEOF(ptr) == EXTPTRSXP ? (wf_net *)R_ExternalPtrAddr(ptr) : NULL;
  if (net == NULL)
    wf_r_abort("wgflow_error_state",
               "the net behind this vector was freed before the vector was read");
  SEXP values = PROTECT(Rf_allocVector(REALSXP, n));
  wf_status rc = read_part(net, part, REAL(values));
  if (rc != WF_OK) {
    UNPROTECT(1);
    wf_r_abort_status(rc, wf_net_message(net));
  }
  R_set_altrep_data2(x, values);
  R_set_altrep_data1(x, R_NilValue);
  UNPROTECT(1);
  views_read++;
  return values;
}

static R_xlen_t view_length(SEXP x) {
  SEXP d = R_altrep_data2(x);
  return TYPEOF(d) == INTSXP ? (R_xlen_t)INTEGER(d)[1] : XLENGTH(d);
}

static void *view_dataptr(SEXP x, Rboolean writeable) {
  SEXP values = view_values(x);
  if (writeable && MAYBE_SHARED(values)) {
    /* the values were handed out (wf_params()): a write goes to a copy */
    values = PROTECT(Rf_duplicate(values));
    R_set_altrep_data2(x, values);
    UNPROTECT(1);
  }
  return REAL(values);
}

static const void *view_dataptr_or_null(SEXP x) {
  return unread(x) ? NULL : (const void *)REAL(R_altrep_data2(x));
}

static double view_elt(SEXP x, R_xlen_t i) { return REAL(view_values(x))[i]; }

static R_xlen_t view_get_region(SEXP x, R_xlen_t i, R_xlen_t n, double *buf) {
  SEXP values = view_values(x);
  R_xlen_t len = XLENGTH(values);
  R_xlen_t k = 0;
  for (; k < n && i + k < len; k++) buf[k] = REAL(values)[i + k];
  return k;
}

/* a copy is plain: it must not follow the net */
static SEXP view_duplicate(SEXP x, Rboolean deep) {
  (void)deep;
  return Rf_duplicate(view_values(x));
}

static Rboolean view_inspect(SEXP x, int pre, int deep, int pvec,
                             void (*inspect_subtree)(SEXP, int, int, int)) {
  (void)pre, (void)deep, (void)pvec, (void)inspect_subtree;
  Rprintf(" wgflow net view, %s\n", unread(x) ? "not read yet" : "read");
  return TRUE;
}

void wf_r_views_init(DllInfo *dll) {
  view_class = R_make_altreal_class("wf_net_view", "wgflow", dll);
  R_set_altrep_Length_method(view_class, view_length);
  R_set_altrep_Duplicate_method(view_class, view_duplicate);
  R_set_altrep_Inspect_method(view_class, view_inspect);
  R_set_altvec_Dataptr_method(view_class, view_dataptr);
  R_set_altvec_Dataptr_or_null_method(view_class, view_dataptr_or_null);
  R_set_altreal_Elt_method(view_class, view_elt);
  R_set_altreal_Get_region_method(view_class, view_get_region);
}

/* A view of `part` of the net behind ptr; a part too long for the view's
 * integer length, or empty, is read now as a plain vector. */
static SEXP new_view(SEXP ptr, wf_net *net, int part) {
  const wf_layout *lay = wf_net_layout(net);
  size_t n = part == WF_PART_STATE ? lay->n_state : lay->n_params;
  if (n == 0 || n > INT_MAX) {
    SEXP values = PROTECT(Rf_allocVector(REALSXP, (R_xlen_t)n));
    wf_status rc = n > 0 ? read_part(net, part, REAL(values)) : WF_OK;
    if (rc != WF_OK) wf_r_abort_status(rc, wf_net_message(net));
    UNPROTECT(1);
    return values;
  }
  SEXP meta = PROTECT(Rf_allocVector(INTSXP, 2));
  INTEGER(meta)[0] = part;
  INTEGER(meta)[1] = (int)n;
  SEXP view = R_new_altrep(view_class, ptr, meta);
  UNPROTECT(1);
  return view;
}

void wf_r_bind_view(SEXP env, SEXP holder, int at, const char *name, SEXP ptr,
                    int part) {
  wf_net *net = wf_r_net(ptr);
  SEXP cur = holder == R_NilValue ? Rf_findVarInFrame(env, Rf_install(name))
                                  : VECTOR_ELT(holder, at);
  /* an unread view of this net that no one else holds already shows its
   * state, whatever the call did; so does an empty vector of an empty part */
  if (cur != R_UnboundValue && is_view(cur) && unread(cur) &&
      R_altrep_data1(cur) == ptr && INTEGER(R_altrep_data2(cur))[0] == part &&
      !MAYBE_SHARED(cur))
    return;
  size_t n = part == WF_PART_STATE ? wf_net_layout(net)->n_state
                                   : wf_net_layout(net)->n_params;
  if (n == 0 && cur != R_UnboundValue && TYPEOF(cur) == REALSXP && XLENGTH(cur) == 0 &&
      !is_view(cur))
    return;
  SEXP view = PROTECT(new_view(ptr, net, part));
  if (holder == R_NilValue)
    Rf_defineVar(Rf_install(name), view, env);
  else
    SET_VECTOR_ELT(holder, at, view);
  UNPROTECT(1);
}

/* read v now if it is an unread view that another R object may hold */
static void freeze(SEXP v, int holder_shared) {
  if (v != R_UnboundValue && is_view(v) && unread(v) && (holder_shared || MAYBE_SHARED(v)))
    view_values(v);
}

/* Before the net of the R copy in env changes: read every view of the copy
 * that another R object may hold, so it keeps the values it shows now. */
SEXP ffi_net_freeze(SEXP env) {
  if (TYPEOF(env) != ENVSXP) wf_r_abort("wgflow_error_arg", "`env` must be an environment");
  freeze(Rf_findVarInFrame(env, Rf_install("params")), 0);
  freeze(Rf_findVarInFrame(env, Rf_install("state")), 0);
  SEXP opt = Rf_findVarInFrame(env, Rf_install("opt"));
  if (TYPEOF(opt) == VECSXP) {
    int held = MAYBE_SHARED(opt);
    for (R_xlen_t i = 0; i < XLENGTH(opt); i++) freeze(VECTOR_ELT(opt, i), held);
  }
  return R_NilValue;
}

/* x with its views read: a view gives its values, a list (a net's `opt`)
 * a copy whose views are read; anything else is x. */
SEXP ffi_view_plain(SEXP x) {
  if (is_view(x)) return view_values(x);
  if (TYPEOF(x) != VECSXP) return x;
  SEXP out = x;
  int n_prot = 0;
  for (R_xlen_t i = 0; i < XLENGTH(x); i++) {
    SEXP el = VECTOR_ELT(x, i);
    if (!is_view(el)) continue;
    if (out == x) {
      out = PROTECT(Rf_shallow_duplicate(x));
      n_prot = 1;
    }
    SET_VECTOR_ELT(out, i, view_values(el));
  }
  UNPROTECT(n_prot);
  return out;
}

/* Is x a view not read yet (its values are the net's, not R's to check)? */
SEXP ffi_view_unread(SEXP x) { return Rf_ScalarLogical(is_view(x) && unread(x)); }

/* How many views have read the engine in this session (the tests count
 * the reads an engine call costs). */
SEXP ffi_view_reads(void) { return Rf_ScalarReal(views_read); }
