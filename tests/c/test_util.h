/* test_util.h — what the standalone C tests share: a pass/fail counter
 * with CHECK, and a reproducible stream for test data (not the engine's). */
#ifndef WF_TEST_UTIL_H
#define WF_TEST_UTIL_H

#include <math.h>
#include <stdint.h>
#include <stdio.h>

static int n_pass = 0, n_fail = 0;

#define CHECK(cond, ...)                                   \
  do {                                                     \
    if (cond) {                                            \
      n_pass++;                                            \
    } else {                                               \
      n_fail++;                                            \
      fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__); \
      fprintf(stderr, __VA_ARGS__);                        \
      fprintf(stderr, "\n");                               \
    }                                                      \
  } while (0)

static uint64_t lcg = 12345;
static inline void seed_test_stream(uint64_t s) { lcg = s; }
static inline double runif(void) {
  lcg = lcg * 6364136223846793005ull + 1442695040888963407ull;
  return (double)(lcg >> 11) / 9007199254740992.0;
}
static inline double rnorm(void) {
  double u = runif() + 1e-12, v = runif();
  return sqrt(-2 * log(u)) * cos(6.283185307179586 * v);
}

#endif
