/* net_util.h — what the C tests of nets share: the device under test and
 * a program's first and last steps (open it; release it and print the
 * summary line), nets made on it, device buffers filled and read through
 * it (so the same tests drive any backend), a relative error, and (in
 * double) central finite differences over a net's parameters or a device
 * input. Included once per program; a program uses only some of these, so
 * they are inline. */
#ifndef WF_NET_UTIL_H
#define WF_NET_UTIL_H

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "test_util.h"
#include "wf.h"

static wf_device *dev; /* the device under test */

/* ---- a program's first and last steps ------------------------------------ */
/* dev := a CPU device; exits on failure */
static inline void open_cpu_device(void) {
  char msg[WF_MSG_LEN];
  if (wf_device_open(wf_cpu_backend(), &dev, msg) != WF_OK) {
    fprintf(stderr, "device: %s\n", msg);
    exit(2);
  }
  /* the threads asked for, even on a busy machine (cpu/team.c) */
  wf_device_knob(dev, "adaptive", 0);
}

/* Releases dev and prints the summary line, "<name> <double|float>: N
 * passed, N failed" (the Makefile shows it); the exit status. */
static inline int finish(const char *name) {
  wf_device_release(dev);
  printf("%s %s: %d passed, %d failed\n", name, sizeof(wf_real) == 8 ? "double" : "float",
         n_pass, n_fail);
  return n_fail == 0 ? 0 : 1;
}

/* ---- nets ----------------------------------------------------------------- */
/* an MLP on dev; exits on failure */
static inline wf_net *make_net(const wf_mlp_spec *s, uint64_t seed) {
  char msg[WF_MSG_LEN];
  wf_net *net = NULL;
  if (wf_net_create(s, dev, seed, &net, msg) != WF_OK) {
    fprintf(stderr, "net: %s\n", msg);
    exit(2);
  }
  return net;
}

/* ---- device buffers ------------------------------------------------------ */
static inline wf_real *dalloc(size_t n) {
  wf_real *p = wf_device_alloc(dev, n);
  if (p == NULL) {
    fprintf(stderr, "out of device memory\n");
    exit(2);
  }
  return p;
}
static inline void put(wf_real *d, const double *h, size_t n) { wf_device_upload(dev, d, h, n); }
static inline void get(double *h, const wf_real *d, size_t n) { wf_device_download(dev, h, d, n); }
static inline double *hvec(size_t n) { return calloc(n > 0 ? n : 1, sizeof(double)); }
static inline void fill_normal(double *x, size_t n, double sd) {
  for (size_t i = 0; i < n; i++) x[i] = sd * rnorm();
}
/* a device buffer holding n normals (sd), its host copy in *host if wanted */
static inline wf_real *dnormal(size_t n, double sd, double **host) {
  double *h = hvec(n);
  fill_normal(h, n, sd);
  wf_real *d = dalloc(n);
  put(d, h, n);
  if (host != NULL) *host = h; else free(h);
  return d;
}

/* slot 0 of slot, read back (waits for queued work) */
static inline double read_slot(const double *slot) {
  double v = NAN;
  wf_device_read_scalars(dev, &v, slot, 1);
  return v;
}

/* max |a - b| / max(1e-3, max |b|) */
static inline double rel_err(const double *a, const double *b, size_t n) {
  double num = 0, den = 1e-3;
  for (size_t i = 0; i < n; i++) {
    double d = fabs(a[i] - b[i]);
    if (d > num || d != d) num = d != d ? INFINITY : d;
    if (fabs(b[i]) > den) den = fabs(b[i]);
  }
  return num / den;
}

#ifdef WF_DOUBLE
/* the relative error allowed an analytic gradient against central
 * differences (rel_err), in double */
#define FD_TOL 1e-6

/* move parameters off their init so norms and biases are exercised */
static inline void jiggle(wf_net *net, double sd) {
  size_t np = wf_net_layout(net)->n_params;
  double *p = hvec(np);
  wf_net_get_params(net, p);
  for (size_t i = 0; i < np; i++) p[i] += sd * rnorm();
  wf_net_set_params(net, p);
  free(p);
}

/* central differences of f(ctx) over the net's parameters */
static inline void fd_params(wf_net *net, double (*f)(void *), void *ctx, double *out) {
  const double h = 1e-6;
  size_t np = wf_net_layout(net)->n_params;
  double *p = hvec(np);
  wf_net_get_params(net, p);
  for (size_t i = 0; i < np; i++) {
    double keep = p[i], val[2];
    for (int sgn = 0; sgn < 2; sgn++) {
      p[i] = keep + (sgn ? -h : h);
      wf_net_set_params(net, p);
      val[sgn] = f(ctx);
    }
    p[i] = keep;
    wf_net_set_params(net, p);
    out[i] = (val[0] - val[1]) / (2 * h);
  }
  free(p);
}

/* central differences of f(ctx) over a device input x [n], host copy xh */
static inline void fd_input(wf_real *x, double *xh, size_t n, double (*f)(void *),
                     void *ctx, double *out) {
  const double h = 1e-6;
  for (size_t i = 0; i < n; i++) {
    double keep = xh[i], val[2];
    for (int sgn = 0; sgn < 2; sgn++) {
      xh[i] = keep + (sgn ? -h : h);
      put(x, xh, n);
      val[sgn] = f(ctx);
    }
    xh[i] = keep;
    put(x, xh, n);
    out[i] = (val[0] - val[1]) / (2 * h);
  }
}

#endif

#endif
