/* device.h — the inside of a wf_device, for the core's .c files only. */
#ifndef WF_DEVICE_H
#define WF_DEVICE_H

#include "backend.h"

struct wf_device {
  const wf_backend *be;
  wf_ctx *ctx;
  int refs;              /* nets and trainers holding it, plus the opener */
  unsigned long generation; /* bumped by every allocation and release, so a
                             * recorded step knows its buffers still stand */
  char msg[WF_MSG_LEN];  /* the last failure's text */
  int graphs;            /* trainers may record and replay steps (set off
                          * by a failed self-check of replays) */
};

/* The table and context of a device, for calls through the table:
 *   WF_BE(dev)->gemm(WF_CTX(dev), ...) */
#define WF_BE(dev) ((dev)->be)
#define WF_CTX(dev) ((dev)->ctx)

/* bytes of device memory (at least one), counted in the generation */
void *wf_device_alloc_bytes(wf_device *dev, size_t bytes);

#endif
