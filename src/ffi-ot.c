/* ffi-ot.c — .Call entry point for exact optimal transport between two
 * point clouds (core/ot.c). Thin: R matrices in, the core's solve, a list
 * out. */
#include "ffi-util.h"
#include "ot.h"

/* x, a double matrix [m x d] (R: column-major), as a row-major copy that R
 * frees when the .Call returns (also after an error) */
static double *row_major(SEXP x, const char *what, int *m, int *d) {
  SEXP dim = Rf_getAttrib(x, R_DimSymbol);
  if (TYPEOF(x) != REALSXP || Rf_length(dim) != 2)
    wf_r_abort("wgflow_error_arg", "`%s` must be a double matrix", what);
  *m = INTEGER(dim)[0];
  *d = INTEGER(dim)[1];
  if (*m < 1 || *d < 1)
    wf_r_abort("wgflow_error_arg", "`%s` must have at least one row and column", what);
  size_t n = (size_t)*m * *d;
  double *out = (double *)R_alloc(n, sizeof(double));
  const double *cm = REAL(x);
  for (int i = 0; i < *m; i++)
    for (int k = 0; k < *d; k++) out[(size_t)i * *d + k] = cm[i + (size_t)k * *m];
  return out;
}

/* list(cost = W_p^p, perm = 1-based y row of each x row, u, v) */
SEXP ffi_ot_assign(SEXP x, SEXP y, SEXP p) {
  int n, d, ny, dy;
  double pp = wf_r_double(p, "p");
  if (pp < 1) wf_r_abort("wgflow_error_arg", "`p` must be >= 1");
  double *xr = row_major(x, "x", &n, &d);
  double *yr = row_major(y, "y", &ny, &dy);
  if (ny != n || dy != d)
    wf_r_abort("wgflow_error_arg",
               "`x` (%d x %d) and `y` (%d x %d) must have the same dimensions", n, d,
               ny, dy);
  SEXP out = PROTECT(Rf_allocVector(VECSXP, 4));
  SEXP perm = Rf_allocVector(INTSXP, n);
  SET_VECTOR_ELT(out, 1, perm);
  SEXP u = Rf_allocVector(REALSXP, n);
  SET_VECTOR_ELT(out, 2, u);
  SEXP v = Rf_allocVector(REALSXP, n);
  SET_VECTOR_ELT(out, 3, v);
  char msg[WF_MSG_LEN];
  double cost = 0;
  wf_status rc = wf_ot_assign(xr, yr, n, d, pp, &cost, INTEGER(perm), REAL(u),
                              REAL(v), msg);
  if (rc != WF_OK) {
    UNPROTECT(1);
    wf_r_abort_status(rc, msg);
  }
  for (int i = 0; i < n; i++) INTEGER(perm)[i] += 1;
  SET_VECTOR_ELT(out, 0, Rf_ScalarReal(cost));
  SEXP names = PROTECT(Rf_allocVector(STRSXP, 4));
  SET_STRING_ELT(names, 0, Rf_mkChar("cost"));
  SET_STRING_ELT(names, 1, Rf_mkChar("perm"));
  SET_STRING_ELT(names, 2, Rf_mkChar("u"));
  SET_STRING_ELT(names, 3, Rf_mkChar("v"));
  Rf_setAttrib(out, R_NamesSymbol, names);
  UNPROTECT(2);
  return out;
}
