/* clock.h — the benchmarks' clocks: wall time is the backend's own
 * (wf_cpu_now, monotonic seconds); the process's CPU time tells whether
 * another program took a core during a timing (then the two differ). */
#ifndef WF_BENCH_CLOCK_H
#define WF_BENCH_CLOCK_H

#include <time.h>

#include "cpu.h" /* wf_cpu_now */

/* seconds of CPU time this process has used, over all its threads */
static inline double cpu_now(void) {
  struct timespec t;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
  return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

#endif
