/* ffi-util.c — classed errors, external pointers and matrix staging. */
#include <float.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "ffi-util.h"

#include "choices.h"

/* call wgflow:::abort_from_c(msg, cls, arg), which signals the classed
 * error (arg may be NULL) */
static void abort_with(const char *cls, const char *arg, const char *msg) {
  SEXP ns = PROTECT(R_FindNamespace(Rf_mkString("wgflow")));
  SEXP call = PROTECT(Rf_lang4(Rf_install("abort_from_c"), Rf_mkString(msg),
                               Rf_mkString(cls),
                               arg == NULL ? R_NilValue : Rf_mkString(arg)));
  Rf_eval(call, ns);
  UNPROTECT(2);
  Rf_error("%s", msg); /* not reached */
}

void wf_r_abort(const char *cls, const char *fmt, ...) {
  char msg[512];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof(msg), fmt, ap);
  va_end(ap);
  abort_with(cls, NULL, msg);
}

void wf_r_abort_arg(const char *arg, const char *fmt, ...) {
  char msg[512];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof(msg), fmt, ap);
  va_end(ap);
  abort_with("wgflow_error_arg", arg, msg);
}

void wf_r_check_range(wf_scratch *s, const double *x, size_t n, const char *what) {
  if (sizeof(wf_real) != sizeof(float)) return;
  for (size_t i = 0; i < n; i++) {
    if (fabs(x[i]) > FLT_MAX) {
      if (s != NULL) wf_scratch_free(s);
      wf_r_abort_arg(what, "`%s` has a value (%g, element %zu) beyond the "
                     "single-precision range of the engine (|x| <= %g)",
                     what, x[i], i + 1, (double)FLT_MAX);
    }
  }
}

void wf_scratch_nomem(wf_scratch *s, size_t n, const char *what) {
  if (s != NULL) wf_scratch_free(s);
  wf_r_abort("wgflow_error_memory",
             "out of memory: cannot allocate %zu values (%.3g GB) for %s", n,
             (double)n * sizeof(wf_real) / 1e9, what);
}

void wf_r_abort_status(wf_status status, const char *msg) {
  const char *cls = "wgflow_error";
  switch (status) {
  case WF_ERR_ARG: cls = "wgflow_error_arg"; break;
  case WF_ERR_NOMEM: cls = "wgflow_error_memory"; break;
  case WF_ERR_UNSUPPORTED: cls = "wgflow_error_unsupported"; break;
  case WF_ERR_STATE: cls = "wgflow_error_state"; break;
  case WF_ERR_INTERRUPT: cls = "wgflow_error_interrupt"; break;
  case WF_ERR_NUMERIC: cls = "wgflow_error_numeric"; break;
  case WF_ERR_DEVICE: cls = "wgflow_error_device"; break;
  default: break;
  }
  wf_r_abort(cls, "%s", msg);
}

wf_net *wf_r_net(SEXP ptr) {
  if (TYPEOF(ptr) != EXTPTRSXP || R_ExternalPtrTag(ptr) != Rf_install("wf_net"))
    wf_r_abort("wgflow_error_arg", "not a wgflow net handle");
  wf_net *net = (wf_net *)R_ExternalPtrAddr(ptr);
  if (net == NULL)
    wf_r_abort("wgflow_error_state", "the net's handle is dead (freed or restored "
               "from a file); rebuild it from its parameters");
  return net;
}

wf_real *wf_scratch_alloc(wf_scratch *s, size_t n) {
  if (s->n >= WF_SCRATCH_MAX) return NULL;
  wf_real *p = wf_device_alloc(wf_net_device(s->net), n);
  if (p != NULL) s->bufs[s->n++] = p;
  return p;
}

double *wf_scratch_slots(wf_scratch *s, int n) {
  if (s->n >= WF_SCRATCH_MAX) return NULL;
  double *p = wf_device_alloc_scalars(wf_net_device(s->net), n);
  if (p != NULL) s->bufs[s->n++] = p;
  return p;
}

void wf_scratch_free(wf_scratch *s) {
  for (int i = 0; i < s->n; i++) wf_device_free(wf_net_device(s->net), s->bufs[i]);
  s->n = 0;
}

void wf_scratch_abort(wf_scratch *s, wf_status status) {
  char msg[WF_MSG_LEN];
  const char *dev_msg = wf_device_message(wf_net_device(s->net));
  /* a device failure's text is the device's; any other the net's */
  snprintf(msg, sizeof(msg), "%s",
           status == WF_ERR_DEVICE && dev_msg[0] != '\0' ? dev_msg
                                                         : wf_net_message(s->net));
  if (status == WF_ERR_NOMEM && msg[0] == '\0')
    snprintf(msg, sizeof(msg), "out of memory on the %s device",
             wf_backend_name(wf_device_backend(wf_net_device(s->net))));
  wf_scratch_free(s);
  wf_r_abort_status(status, msg);
}

double *wf_r_row_major(wf_scratch *s, SEXP x, const char *what, int *m, int *d) {
  SEXP dim = Rf_getAttrib(x, R_DimSymbol);
  if (TYPEOF(x) != REALSXP || Rf_length(dim) != 2) {
    if (s != NULL) wf_scratch_free(s);
    wf_r_abort("wgflow_error_arg", "`%s` must be a double matrix", what);
  }
  *m = INTEGER(dim)[0];
  *d = INTEGER(dim)[1];
  if (*m < 1 || *d < 1) {
    if (s != NULL) wf_scratch_free(s);
    wf_r_abort("wgflow_error_arg", "`%s` must have at least one row and column", what);
  }
  size_t n = (size_t)*m * *d;
  double *out = (double *)R_alloc(n, sizeof(double));
  const double *cm = REAL(x);
  for (int i = 0; i < *m; i++)
    for (int k = 0; k < *d; k++) out[(size_t)i * *d + k] = cm[i + (size_t)k * *m];
  return out;
}

wf_real *wf_r_matrix_in(wf_scratch *s, SEXP x, int cols, const char *what,
                        int *m) {
  int d;
  double *rm = wf_r_row_major(s, x, what, m, &d);
  if (d != cols) {
    wf_scratch_free(s);
    wf_r_abort("wgflow_error_arg", "`%s` must have %d columns, not %d", what, cols, d);
  }
  size_t n = (size_t)*m * cols;
  wf_r_check_range(s, rm, n, what);
  wf_real *buf = wf_scratch_alloc(s, n);
  if (buf == NULL) wf_scratch_nomem(s, n, what);
  wf_status rc = wf_device_upload(wf_net_device(s->net), buf, rm, n);
  if (rc != WF_OK) {
    char msg[WF_MSG_LEN];
    snprintf(msg, sizeof(msg), "%s", wf_device_message(wf_net_device(s->net)));
    wf_scratch_free(s);
    wf_r_abort_status(rc, msg);
  }
  return buf;
}

SEXP wf_r_matrix_out(wf_scratch *s, const wf_real *buf, int m, int cols,
                     wf_status *status) {
  size_t n = (size_t)m * cols;
  SEXP out = PROTECT(Rf_allocMatrix(REALSXP, m, cols));
  double *rm = (double *)R_alloc(n, sizeof(double));
  *status = wf_device_download(wf_net_device(s->net), rm, buf, n);
  double *cm = REAL(out);
  for (int i = 0; i < m; i++)
    for (int j = 0; j < cols; j++) cm[i + (size_t)j * m] = rm[(size_t)i * cols + j];
  UNPROTECT(1);
  return out;
}

SEXP wf_r_vector_out(wf_scratch *s, const wf_real *buf, size_t n,
                     wf_status *status) {
  SEXP out = PROTECT(Rf_allocVector(REALSXP, (R_xlen_t)n));
  *status = wf_device_download(wf_net_device(s->net), REAL(out), buf, n);
  UNPROTECT(1);
  return out;
}

double wf_r_double(SEXP x, const char *what) {
  if (!Rf_isNumeric(x) || Rf_length(x) != 1)
    wf_r_abort("wgflow_error_arg", "`%s` must be a single number", what);
  double v = Rf_asReal(x);
  if (!isfinite(v)) wf_r_abort("wgflow_error_arg", "`%s` must be finite", what);
  return v;
}

int wf_r_int(SEXP x, const char *what, int lo, int hi) {
  double v = wf_r_double(x, what);
  if (v != floor(v) || v < lo || v > hi)
    wf_r_abort("wgflow_error_arg", "`%s` must be a whole number in [%d, %d]",
               what, lo, hi);
  return (int)v;
}

SEXP wf_r_field(SEXP list, const char *name, const char *list_desc) {
  SEXP names = Rf_getAttrib(list, R_NamesSymbol);
  if (TYPEOF(list) != VECSXP || TYPEOF(names) != STRSXP)
    wf_r_abort("wgflow_error_arg", "%s must be a named list", list_desc);
  for (R_xlen_t i = 0; i < Rf_xlength(list); i++)
    if (strcmp(CHAR(STRING_ELT(names, i)), name) == 0) return VECTOR_ELT(list, i);
  return R_NilValue;
}

int wf_r_choice(SEXP x, const char *kind, const char *what) {
  if (TYPEOF(x) != STRSXP || Rf_length(x) != 1 || STRING_ELT(x, 0) == NA_STRING)
    wf_r_abort("wgflow_error_arg", "`%s` must be a single string", what);
  int k = wf_choice_index(kind, CHAR(STRING_ELT(x, 0)));
  if (k < 0)
    wf_r_abort("wgflow_error_arg", "`%s` must be one of the %s names, not \"%s\"", what,
               kind, CHAR(STRING_ELT(x, 0)));
  return k;
}

/* TRUE when x (double, integer or logical) holds no NA, NaN or infinite
 * value: the R validators' `!anyNA(x) && all(is.finite(x))` without the
 * logical vector of length(x) that builds (100 us for a 33k-parameter net,
 * checked on every call that takes the net). */
SEXP ffi_all_finite(SEXP x) {
  R_xlen_t n = XLENGTH(x);
  int ok = 1;
  if (TYPEOF(x) == REALSXP) {
    const double *v = REAL_RO(x); /* read-only: a net's view is not copied */
    for (R_xlen_t i = 0; i < n; i++) ok &= isfinite(v[i]) != 0;
  } else if (TYPEOF(x) == INTSXP || TYPEOF(x) == LGLSXP) {
    const int *v = TYPEOF(x) == INTSXP ? INTEGER(x) : LOGICAL(x);
    for (R_xlen_t i = 0; i < n; i++) ok &= v[i] != NA_INTEGER;
  } else {
    ok = 0;
  }
  return Rf_ScalarLogical(ok);
}
