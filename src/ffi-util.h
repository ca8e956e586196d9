/* ffi-util.h — helpers of the ffi layer: classed R errors from C, nets
 * behind external pointers, R matrices <-> device buffers. */
#ifndef WF_FFI_UTIL_H
#define WF_FFI_UTIL_H

#define R_NO_REMAP
#include <R.h>
#include <Rinternals.h>

#include "wf.h"

/* Raise an R error of class `cls` (plus "wgflow_error") with a formatted
 * message. Does not return. Free C resources before calling it. */
void wf_r_abort(const char *cls, const char *fmt, ...);
/* Raise a "wgflow_error_arg" whose `arg` field names the argument. */
void wf_r_abort_arg(const char *arg, const char *fmt, ...);
/* Raise the R error that matches a core status, with the net's message. */
void wf_r_abort_status(wf_status status, const char *msg);

/* A layer stack from R (ffi-stack.c): is `spec` one (it has `kind`), and
 * read it into s, raising a classed error for a malformed one. */
int wf_r_is_stack(SEXP spec);
void wf_r_stack_spec(SEXP spec, wf_stack_spec *s);

/* The net behind an external pointer; an error for a dead handle. */
wf_net *wf_r_net(SEXP ptr);

/* The device called name ("cpu" or "cuda"), opened on first use and kept
 * for the session; raises a classed R error if it cannot be used. */
wf_device *wf_r_device(const char *name);

/* Device buffers of one .Call, released together (before any R error).
 * net: whose device they live on, and whose message an error reports. */
#define WF_SCRATCH_MAX 8
typedef struct {
  wf_net *net;
  void *bufs[WF_SCRATCH_MAX];
  int n;
} wf_scratch;
wf_real *wf_scratch_alloc(wf_scratch *s, size_t n);
double *wf_scratch_slots(wf_scratch *s, int n); /* zeroed */
void wf_scratch_free(wf_scratch *s);
/* Free the scratch buffers, then raise the R error for status with the
 * net's message. Does not return. */
void wf_scratch_abort(wf_scratch *s, wf_status status);

/* Refuse (an error naming `what`, after freeing s, which may be NULL) any
 * of x[n] beyond the range of wf_real when it is float: such a double would
 * become Inf in the engine. */
void wf_r_check_range(wf_scratch *s, const double *x, size_t n, const char *what);
/* Free s (may be NULL) and raise an out-of-memory error that says how much
 * was asked for, and for what. Does not return. */
void wf_scratch_nomem(wf_scratch *s, size_t n, const char *what);

/* A double matrix x [m x cols] (R, column-major) into a new scratch buffer,
 * row-major. Errors (before allocating) if x is not a double matrix with
 * `cols` columns; `what` names the argument. */
wf_real *wf_r_matrix_in(wf_scratch *s, SEXP x, int cols, const char *what,
                        int *m);
/* A scratch buffer [m x cols] (row-major) into a new R matrix. */
SEXP wf_r_matrix_out(wf_scratch *s, const wf_real *buf, int m, int cols,
                     wf_status *status);
/* A buffer of n values into a new R double vector. */
SEXP wf_r_vector_out(wf_scratch *s, const wf_real *buf, size_t n,
                     wf_status *status);

/* x, a double matrix [m x d] (R: column-major) with at least one row and
 * column, as a row-major copy R frees when the .Call returns (also after an
 * error). Frees s's buffers (s may be NULL) before raising for a bad x. */
double *wf_r_row_major(wf_scratch *s, SEXP x, const char *what, int *m, int *d);
/* A list with the given names (a "" entry ends the array, as Rf_mkNamed). */
#define wf_r_named_list(names) Rf_mkNamed(VECSXP, names)

/* Argument helpers: a finite double, an int in range, a choice of a kind
 * (choices.h: a single string, its enum value returned). */
double wf_r_double(SEXP x, const char *what);
int wf_r_int(SEXP x, const char *what, int lo, int hi);
int wf_r_choice(SEXP x, const char *kind, const char *what);
/* The element of a named list called name, or R's NULL when it has none;
 * a classed error "<list_desc> must be a named list" when list is not one. */
SEXP wf_r_field(SEXP list, const char *name, const char *list_desc);

#endif
