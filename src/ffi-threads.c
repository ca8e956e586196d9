/* ffi-threads.c — .Call entry points for the CPU's threads: the cores
 * this process may use, and the thread count of the CPU backend. */
#ifdef _OPENMP
#include <omp.h>
#endif

#include "ffi-util.h"

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
