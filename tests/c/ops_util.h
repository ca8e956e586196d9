/* ops_util.h — what the test_ops_*.c programs and parity.c share: a
 * backend table with one context, and the device and host buffers a test
 * made, released together; host data from a reproducible stream of its
 * own. Everything goes through the table (alloc, upload, download, ...),
 * so the same code drives the CPU and the CUDA backend. */
#ifndef WF_OPS_UTIL_H
#define WF_OPS_UTIL_H

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "backend.h"

#define OU_MAX_BUFFERS 512

typedef struct {
  const wf_backend *be;
  wf_ctx *ctx;
  void *dev[OU_MAX_BUFFERS]; /* device buffers made since the last ou_reset */
  int n_dev;
  void *host[OU_MAX_BUFFERS]; /* host buffers made since the last ou_reset */
  int n_host;
  uint64_t rng; /* the host data stream (a 64-bit LCG) */
} ou_dev;

static inline void ou_die(const char *what) {
  fprintf(stderr, "ops_util: %s\n", what);
  exit(2);
}

/* A context on be; 0 on success, else the context message on stderr. */
static inline int ou_open(ou_dev *d, const wf_backend *be, uint64_t seed) {
  char msg[WF_MSG_LEN] = "";
  d->be = be;
  d->ctx = NULL;
  d->n_dev = d->n_host = 0;
  d->rng = seed;
  if (be->ctx_create(&d->ctx, msg) != WF_OK) {
    fprintf(stderr, "ctx_create (%s): %s\n", be->name, msg);
    return 1;
  }
  return 0;
}

/* Free every buffer made since the last reset. */
static inline void ou_reset(ou_dev *d) {
  for (int i = 0; i < d->n_dev; i++) d->be->release(d->ctx, d->dev[i]);
  for (int i = 0; i < d->n_host; i++) free(d->host[i]);
  d->n_dev = d->n_host = 0;
}

static inline void ou_close(ou_dev *d) {
  ou_reset(d);
  d->be->ctx_free(d->ctx);
  d->ctx = NULL;
}

/* ---- host ------------------------------------------------------------- */
/* n zeroed doubles (at least one), freed at the next reset */
static inline double *ou_vec(ou_dev *d, size_t n) {
  if (d->n_host == OU_MAX_BUFFERS) ou_die("too many host buffers");
  double *p = calloc(n > 0 ? n : 1, sizeof(double));
  if (p == NULL) ou_die("out of host memory");
  d->host[d->n_host++] = p;
  return p;
}

static inline int *ou_ivec(ou_dev *d, size_t n) {
  if (d->n_host == OU_MAX_BUFFERS) ou_die("too many host buffers");
  int *p = calloc(n > 0 ? n : 1, sizeof(int));
  if (p == NULL) ou_die("out of host memory");
  d->host[d->n_host++] = p;
  return p;
}

/* the host data stream: uniform on [0, 1) and standard normal */
static inline double ou_unif(ou_dev *d) {
  d->rng = d->rng * 6364136223846793005ull + 1442695040888963407ull;
  return (double)(d->rng >> 11) / 9007199254740992.0;
}
static inline double ou_norm(ou_dev *d) {
  double u = ou_unif(d) + 1e-12, v = ou_unif(d);
  return sqrt(-2 * log(u)) * cos(6.283185307179586 * v);
}

/* n values uniform on [lo, hi) */
static inline double *ou_runif(ou_dev *d, size_t n, double lo, double hi) {
  double *p = ou_vec(d, n);
  for (size_t i = 0; i < n; i++) p[i] = lo + (hi - lo) * ou_unif(d);
  return p;
}

/* n values normal with sd sd */
static inline double *ou_rnorm(ou_dev *d, size_t n, double sd) {
  double *p = ou_vec(d, n);
  for (size_t i = 0; i < n; i++) p[i] = sd * ou_norm(d);
  return p;
}

/* host values rounded to wf_real, as an upload would store them */
static inline void ou_round(double *x, size_t n) {
  for (size_t i = 0; i < n; i++) x[i] = (double)(wf_real)x[i];
}

/* ---- device ----------------------------------------------------------- */
static inline void *ou_alloc(ou_dev *d, size_t bytes) {
  if (d->n_dev == OU_MAX_BUFFERS) ou_die("too many device buffers");
  void *p = d->be->alloc(d->ctx, bytes > 0 ? bytes : 1);
  if (p == NULL) ou_die("device allocation failed");
  d->dev[d->n_dev++] = p;
  return p;
}

/* n reals on the device holding host[n] (zeros when host is NULL) */
static inline wf_real *ou_up(ou_dev *d, const double *host, size_t n) {
  wf_real *p = ou_alloc(d, n * sizeof(wf_real));
  if (host != NULL) {
    if (d->be->upload(d->ctx, p, host, n) != WF_OK) ou_die("upload failed");
  } else {
    d->be->fill(d->ctx, p, n, 0);
  }
  return p;
}

static inline int *ou_up_int(ou_dev *d, const int *host, size_t n) {
  int *p = ou_alloc(d, n * sizeof(int));
  if (n > 0 && d->be->upload_int(d->ctx, p, host, n) != WF_OK)
    ou_die("upload_int failed");
  return p;
}

/* n device scalar slots, zeroed */
static inline double *ou_slots(ou_dev *d, int n) {
  double *p = ou_alloc(d, (size_t)n * sizeof(double));
  d->be->zero_scalars(d->ctx, p, n);
  return p;
}

/* one device slot holding value (written with write_scalars): a stream's
 * counter or an optimiser's step count */
static inline double *ou_slot_at(ou_dev *d, double value) {
  double *p = ou_alloc(d, sizeof(double));
  if (d->be->write_scalars(d->ctx, p, &value, 1) != WF_OK)
    ou_die("write_scalars failed");
  return p;
}

/* a host copy of dev[n] */
static inline double *ou_down(ou_dev *d, const wf_real *dev, size_t n) {
  double *h = ou_vec(d, n);
  if (d->be->download(d->ctx, h, dev, n) != WF_OK) ou_die("download failed");
  return h;
}

static inline int *ou_down_int(ou_dev *d, const int *dev, size_t n) {
  int *h = ou_ivec(d, n);
  if (n > 0 && d->be->download_int(d->ctx, h, dev, n) != WF_OK)
    ou_die("download_int failed");
  return h;
}

/* slot i of slots (waits for queued work) */
static inline double ou_slot(ou_dev *d, const double *slots, int i) {
  double v[1];
  if (d->be->read_scalars(d->ctx, v, slots + i, 1) != WF_OK)
    ou_die("read_scalars failed");
  return v[0];
}

#endif
