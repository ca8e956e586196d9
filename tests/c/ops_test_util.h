/* ops_test_util.h — what the test_ops_*.c programs share: the CPU table
 * under test with one context (D, ops_util.h), the tolerances of the
 * references, errors relative to an array's scale, bitwise comparisons,
 * the thread-count knob, central finite differences of a scalar function,
 * and a program's first and last steps. Each program tests the ops of one
 * file of src/cpu through the table only, against naive double-precision
 * references written in the program: exact formulas where the backend's
 * arithmetic is pinned, finite differences of a double reference where
 * the op is a derivative, and thread-count invariance (1 vs 2 threads) on
 * inputs long enough to be split.
 *
 * Needs only a C compiler (no R); from the package root, with CPU the
 * sources of src/cpu (.c each):
 *   gcc -std=gnu11 -O2 -Wall -Wextra -fopenmp [-DWF_DOUBLE] -Isrc/core \
 *       -Isrc/cpu tests/c/test_ops_gemm.c $CPU src/core/status.c -lm
 * Included once per program; a program uses only some of these, so they
 * are inline. */
#ifndef WF_OPS_TEST_UTIL_H
#define WF_OPS_TEST_UTIL_H

#include <float.h>
#include <limits.h>
#include <string.h>

#include "backend.h"
#include "ops_util.h"
#include "test_util.h"

#ifdef WF_DOUBLE
#define EPS DBL_EPSILON
#define FD_TOL 1e-7   /* elementwise derivatives vs finite differences */
#define NORM_TOL 1e-7 /* normalisation passes vs finite differences */
#define OPT_TOL 1e-12 /* optimisers vs their formulas */
#else
#define EPS ((double)FLT_EPSILON)
#define FD_TOL 2e-5
#define NORM_TOL 1e-4
#define OPT_TOL 1e-5
#endif
#define NORM_EPS 1e-5 /* the eps inside LayerNorm / BatchNorm */

static ou_dev D; /* the CPU table and one context */

/* ---- a program's first and last steps ------------------------------------ */
/* D := the CPU table with a context, its host data stream seeded; exits on
 * failure */
static inline void ops_open(void) {
  if (ou_open(&D, wf_cpu_backend(), 20240607) != 0) exit(1);
  /* the threads asked for, even on a busy machine (cpu/team.c) */
  D.be->knob(D.ctx, "adaptive", 0);
}

/* Closes D and prints the summary line, "ops <name> <double|float>: N
 * passed, N failed" (the Makefile shows it); the exit status. */
static inline int ops_finish(const char *name) {
  ou_close(&D);
  printf("ops %s %s: %d passed, %d failed\n", name,
         sizeof(wf_real) == 8 ? "double" : "float", n_pass, n_fail);
  return n_fail == 0 ? 0 : 1;
}

/* ---- comparisons ---------------------------------------------------------- */
/* max |got - ref| / max |ref|: an error relative to the array's scale */
static inline double scaled_err(const double *got, const double *ref, size_t n) {
  double e = 0, s = 0;
  for (size_t i = 0; i < n; i++) {
    double d = fabs(got[i] - ref[i]);
    if (!(d <= e)) e = d; /* NaN propagates */
    if (fabs(ref[i]) > s) s = fabs(ref[i]);
  }
  return s > 0 ? e / s : e;
}

/* bitwise equal (thread invariance, exact formulas) */
static inline int same(const double *a, const double *b, size_t n) {
  return memcmp(a, b, n * sizeof(double)) == 0;
}
static inline int same_int(const int *a, const int *b, size_t n) {
  return memcmp(a, b, n * sizeof(int)) == 0;
}

/* sets the context's thread count; returns the previous one */
static inline int threads(int t) { return D.be->knob(D.ctx, "threads", t); }

/* ---- finite differences --------------------------------------------------- */
/* f(x) where x is a vector the closure also sees */
typedef double (*scalar_fn)(void *closure);
/* central differences of f w.r.t. x[n] (restored after) into grad[n] */
static inline void fd_grad(scalar_fn f, void *closure, double *x, size_t n, double h,
                           double *grad) {
  for (size_t i = 0; i < n; i++) {
    double xi = x[i];
    x[i] = xi + h;
    double fp = f(closure);
    x[i] = xi - h;
    double fm = f(closure);
    x[i] = xi;
    grad[i] = (fp - fm) / (2 * h);
  }
}

#endif
