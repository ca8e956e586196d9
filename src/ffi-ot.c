/* ffi-ot.c — .Call entry point for exact optimal transport between two
 * point clouds (core/ot.c). Thin: R matrices in, the core's solve, a list
 * out. */
#include "ffi-util.h"
#include "ot.h"

/* list(cost = W_p^p, perm = 1-based y row of each x row, u, v) */
SEXP ffi_ot_assign(SEXP x, SEXP y, SEXP p) {
  int n, d, ny, dy;
  double pp = wf_r_double(p, "p");
  if (pp < 1) wf_r_abort("wgflow_error_arg", "`p` must be >= 1");
  double *xr = wf_r_row_major(NULL, x, "x", &n, &d);
  double *yr = wf_r_row_major(NULL, y, "y", &ny, &dy);
  if (ny != n || dy != d)
    wf_r_abort("wgflow_error_arg",
               "`x` (%d x %d) and `y` (%d x %d) must have the same dimensions", n, d,
               ny, dy);
  const char *names[] = {"cost", "perm", "u", "v", ""};
  SEXP out = PROTECT(wf_r_named_list(names));
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
  UNPROTECT(1);
  return out;
}
