/* device.c — a backend table with its context: opening, reference counts,
 * memory, scalar read-back and error checks. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "device.h"

const char *wf_backend_name(const wf_backend *be) { return be->name; }

wf_status wf_device_open(const wf_backend *be, wf_device **out, char *msg) {
  *out = NULL;
  wf_status rc = wf_backend_check(be, msg);
  if (rc != WF_OK) return rc;
  wf_device *dev = calloc(1, sizeof(wf_device));
  if (dev == NULL) return wf_fail_msg(msg, WF_ERR_NOMEM, "out of memory");
  dev->be = be;
  dev->refs = 1;
  dev->graphs = be->graph.begin != NULL;
  rc = be->ctx_create(&dev->ctx, msg);
  if (rc != WF_OK) {
    free(dev);
    return rc;
  }
  *out = dev;
  return WF_OK;
}

void wf_device_retain(wf_device *dev) { dev->refs++; }

void wf_device_release(wf_device *dev) {
  if (dev == NULL || --dev->refs > 0) return;
  dev->be->ctx_free(dev->ctx);
  free(dev);
}

const wf_backend *wf_device_backend(const wf_device *dev) { return dev->be; }
const char *wf_device_message(const wf_device *dev) { return dev->msg; }

int wf_device_knob(wf_device *dev, const char *name, int value) {
  return dev->be->knob(dev->ctx, name, value);
}

void *wf_device_alloc_bytes(wf_device *dev, size_t bytes) {
  dev->generation++;
  return dev->be->alloc(dev->ctx, bytes > 0 ? bytes : 1);
}

/* at least one element, so a zero count still gives a valid pointer */
static void *alloc_n(wf_device *dev, size_t n, size_t size) {
  return wf_device_alloc_bytes(dev, (n > 0 ? n : 1) * size);
}

wf_real *wf_device_alloc(wf_device *dev, size_t n) {
  return alloc_n(dev, n, sizeof(wf_real));
}

int *wf_device_alloc_int(wf_device *dev, size_t n) {
  return alloc_n(dev, n, sizeof(int));
}

double *wf_device_alloc_scalars(wf_device *dev, int n) {
  double *p = alloc_n(dev, (size_t)(n > 0 ? n : 1), sizeof(double));
  if (p != NULL) dev->be->zero_scalars(dev->ctx, p, n > 0 ? n : 1);
  return p;
}

void wf_device_free(wf_device *dev, void *p) {
  if (p == NULL) return;
  dev->generation++;
  dev->be->release(dev->ctx, p);
}

wf_status wf_device_check(wf_device *dev) {
  return dev->be->last_error(dev->ctx, dev->msg);
}

wf_status wf_device_sync(wf_device *dev) {
  return dev->be->synchronize(dev->ctx, dev->msg);
}

/* a copy's own failure, else an earlier asynchronous one */
static wf_status after_copy(wf_device *dev, wf_status rc) {
  if (rc == WF_OK) return wf_device_check(dev);
  if (dev->be->last_error(dev->ctx, dev->msg) == WF_OK)
    snprintf(dev->msg, WF_MSG_LEN, "a copy between host and device failed");
  return rc;
}

wf_status wf_device_upload(wf_device *dev, wf_real *dst, const double *src,
                           size_t n) {
  return after_copy(dev, dev->be->upload(dev->ctx, dst, src, n));
}

wf_status wf_device_download(wf_device *dev, double *dst, const wf_real *src,
                             size_t n) {
  return after_copy(dev, dev->be->download(dev->ctx, dst, src, n));
}

wf_status wf_device_read_scalars(wf_device *dev, double *host,
                                 const double *slots, int n) {
  return after_copy(dev, dev->be->read_scalars(dev->ctx, host, slots, n));
}

wf_status wf_device_upload_int(wf_device *dev, int *dst, const int *src, size_t n) {
  return after_copy(dev, dev->be->upload_int(dev->ctx, dst, src, n));
}

wf_status wf_device_download_int(wf_device *dev, int *dst, const int *src, size_t n) {
  return after_copy(dev, dev->be->download_int(dev->ctx, dst, src, n));
}

void wf_device_zero_scalars(wf_device *dev, double *slots, int n) {
  dev->be->zero_scalars(dev->ctx, slots, n);
}

wf_status wf_device_write_scalars(wf_device *dev, double *slots, const double *host,
                                  int n) {
  return after_copy(dev, dev->be->write_scalars(dev->ctx, slots, host, n));
}
