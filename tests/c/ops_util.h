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

/* ---- a sample row chain (the fused passes' tests) ---------------------- */
/* A two-layer pass over m rows using every kind of row step (backend.h):
 * a relu layer fused into its product, a tanh layer with its own bias and
 * activation, an output adjoint (fill, axpy), a reverse through both (the
 * first derivative, the second's step twice, a product times a derivative
 * in its epilogue), a row scale and a copy; steps read what earlier ones
 * wrote. Its buffers, by index: */
enum {
  OU_X, OU_W1, OU_B1, OU_W2, OU_B2, OU_S, /* inputs */
  OU_H1, OU_G1, OU_Z2, OU_H2, OU_G2, OU_U2, OU_Y, OU_GX, /* outputs */
  OU_PASS_BUFS
};
enum { OU_PASS_IN = 3, OU_PASS_N1 = 37, OU_PASS_N2 = 5, OU_PASS_FIRST_OUT = OU_H1 };

/* values in buffer i for m rows */
static inline size_t ou_pass_len(int i, int m) {
  static const int rows[OU_PASS_BUFS] = {1, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1};
  static const int width[OU_PASS_BUFS] = {
      OU_PASS_IN, OU_PASS_N1 * OU_PASS_IN, OU_PASS_N1, OU_PASS_N2 * OU_PASS_N1,
      OU_PASS_N2, 1, OU_PASS_N1, OU_PASS_N1, OU_PASS_N2, OU_PASS_N2, OU_PASS_N2,
      OU_PASS_N2, OU_PASS_N2, OU_PASS_IN};
  return (size_t)(rows[i] ? m : 1) * (size_t)width[i];
}

/* host values of the buffers: inputs normal, outputs NaN (a step that reads
 * before it writes shows) */
static inline void ou_pass_host(ou_dev *d, int m, double *host[OU_PASS_BUFS]) {
  for (int i = 0; i < OU_PASS_BUFS; i++) {
    size_t n = ou_pass_len(i, m);
    host[i] = i < OU_PASS_FIRST_OUT ? ou_rnorm(d, n, i == OU_W2 ? 0.3 : 0.7) : ou_vec(d, n);
    if (i >= OU_PASS_FIRST_OUT)
      for (size_t j = 0; j < n; j++) host[i][j] = NAN;
    ou_round(host[i], n);
  }
}

/* device buffers holding host */
static inline void ou_pass_up(ou_dev *d, int m, double *const host[OU_PASS_BUFS],
                              wf_real *buf[OU_PASS_BUFS]) {
  for (int i = 0; i < OU_PASS_BUFS; i++) buf[i] = ou_up(d, host[i], ou_pass_len(i, m));
}

/* the outputs, end to end, into a host array of *n values */
static inline double *ou_pass_down(ou_dev *d, int m, wf_real *const buf[OU_PASS_BUFS],
                                   size_t *n) {
  size_t total = 0, at = 0;
  for (int i = OU_PASS_FIRST_OUT; i < OU_PASS_BUFS; i++) total += ou_pass_len(i, m);
  double *all = ou_vec(d, total);
  for (int i = OU_PASS_FIRST_OUT; i < OU_PASS_BUFS; i++) {
    size_t len = ou_pass_len(i, m);
    double *h = ou_down(d, buf[i], len);
    for (size_t j = 0; j < len; j++) all[at + j] = h[j];
    at += len;
  }
  *n = total;
  return all;
}

/* the steps into ops [at least 16]; returns their number */
static inline int ou_pass_chain(wf_real *const b[OU_PASS_BUFS], wf_row_op *ops) {
  const int in = OU_PASS_IN, n1 = OU_PASS_N1, n2 = OU_PASS_N2;
  wf_epilogue bias_relu = {WF_EP_BIAS_ACT, WF_ACT_RELU, 0, b[OU_B1], NULL};
  wf_epilogue times_leaky = {WF_EP_TIMES_DERIV, WF_ACT_LEAKY_RELU, (wf_real)0.2, NULL,
                             b[OU_H1]};
  int n = 0;
  ops[n++] = (wf_row_op){.kind = WF_ROW_PRODUCT, .n = n1, .k = in, .trans_b = 1,
                         .alpha = 1, .a = b[OU_X], .b = b[OU_W1], .out = b[OU_H1],
                         .ep = bias_relu};
  ops[n++] = (wf_row_op){.kind = WF_ROW_PRODUCT, .n = n2, .k = n1, .trans_b = 1,
                         .alpha = 1, .a = b[OU_H1], .b = b[OU_W2], .out = b[OU_Z2]};
  ops[n++] = (wf_row_op){.kind = WF_ROW_ADD_BIAS, .n = n2, .b = b[OU_B2], .out = b[OU_Z2]};
  ops[n++] = (wf_row_op){.kind = WF_ROW_ACT_FORWARD, .n = n2, .act = WF_ACT_TANH,
                         .a = b[OU_Z2], .out = b[OU_H2]};
  ops[n++] = (wf_row_op){.kind = WF_ROW_FILL, .n = n2, .alpha = (wf_real)0.25,
                         .out = b[OU_G2]};
  ops[n++] = (wf_row_op){.kind = WF_ROW_AXPY, .n = n2, .alpha = (wf_real)-0.7,
                         .a = b[OU_H2], .out = b[OU_G2]};
  ops[n++] = (wf_row_op){.kind = WF_ROW_ACT_BACKWARD, .n = n2, .act = WF_ACT_TANH,
                         .a = b[OU_Z2], .a2 = b[OU_G2], .out = b[OU_U2]};
  ops[n++] = (wf_row_op){.kind = WF_ROW_ACT_SECOND, .n = n2, .act = WF_ACT_SOFTPLUS,
                         .a = b[OU_Z2], .a2 = b[OU_U2], .a3 = b[OU_G2], .a4 = b[OU_H2],
                         .out = b[OU_Y]};
  ops[n++] = (wf_row_op){.kind = WF_ROW_ACT_SECOND, .n = n2, .act = WF_ACT_TANH,
                         .a = b[OU_Z2], .a2 = NULL, .a3 = b[OU_Y], .a4 = b[OU_G2],
                         .out = b[OU_U2]};
  ops[n++] = (wf_row_op){.kind = WF_ROW_PRODUCT, .n = n1, .k = n2, .trans_b = 0,
                         .alpha = 1, .a = b[OU_U2], .b = b[OU_W2], .out = b[OU_G1],
                         .ep = times_leaky};
  ops[n++] = (wf_row_op){.kind = WF_ROW_PRODUCT, .n = in, .k = n1, .trans_b = 0,
                         .alpha = (wf_real)0.5, .beta = 0, .a = b[OU_G1], .b = b[OU_W1],
                         .out = b[OU_GX]};
  ops[n++] = (wf_row_op){.kind = WF_ROW_SCALE, .n = in, .a = b[OU_GX], .a2 = b[OU_S],
                         .out = b[OU_GX]};
  ops[n++] = (wf_row_op){.kind = WF_ROW_COPY, .n = n2, .a = b[OU_U2], .out = b[OU_Y]};
  return n;
}

#endif
