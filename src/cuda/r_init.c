/* r_init.c — R's registration hook for wgflow_cuda.so.
 *
 * wgflow_cuda.so is not loaded by R: src/ffi-device.c dlopen()s it and looks
 * its entry points up with dlsym(), and it exports no .Call routines. R CMD
 * check inspects every shared object in libs/, though, and asks each to
 * register its routines and turn off symbol search; this is that, done for
 * an object that has none, in case it is ever loaded with dyn.load(). The
 * only R symbols the object uses are these two (resolved from R's own
 * library when wgflow.so, inside R, loads it).
 */
#include <R.h>
#include <Rinternals.h>
#include <R_ext/Rdynload.h>

void R_init_wgflow_cuda(DllInfo *dll) {
  R_registerRoutines(dll, NULL, NULL, NULL, NULL);
  R_useDynamicSymbols(dll, FALSE);
}
