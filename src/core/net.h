/* net.h — the inside of a wf_net, shared by the core's .c files only. */
#ifndef WF_NET_H
#define WF_NET_H

#include "device.h"

/* What the cache holds, so passes called out of order are refused. */
typedef enum {
  WF_CACHE_EMPTY = 0,
  WF_CACHE_FORWARD,    /* forward activations of the last batch */
  WF_CACHE_INPUT_GRAD  /* ... plus the adjoint chain of wf_mlp_input_grad */
} wf_cache_state;

/* Per-layer activations and tangents for a batch of up to `cap` rows.
 * Layer l has width n = widths[l + 1]; every buffer below is [cap x n]
 * unless noted. */
typedef struct {
  wf_real *z;        /* Linear output */
  wf_real *nrm;      /* after the norm (NULL without norm: use z) */
  wf_real *xhat;     /* normalised, before gamma/beta (norm only) */
  wf_real *rstd;     /* 1/sd: [cap] for LayerNorm, [n] for BatchNorm */
  wf_real *h;        /* after the activation */
  wf_real *zdot;     /* tangent of z (double backward) */
  wf_real *xhat_dot; /* tangent of xhat (LayerNorm only) */
  wf_real *ndot;     /* tangent of nrm (LayerNorm only) */
  wf_real *hdot;     /* tangent of h */
  wf_real *chain_h;  /* adjoint of h in the input-gradient pass */
  wf_real *chain_z;  /* adjoint of z in the input-gradient pass */
  /* kept by a pass's row chain for its weight gradients, run after it
   * (rowchain.h): */
  wf_real *zbar;     /* [cap x n] adjoint of z (backward, second order) */
  wf_real *dw_in;    /* [cap x k] hdot_{l-1} + w h_{l-1} (backward_rows) */
} wf_layer_cache;

/* Parameters, their optimiser and the BatchNorm state: shared between a
 * net and its aliases, freed with the last of them. */
typedef struct {
  wf_block block;  /* [n_params] each, in the layout of wf_mlp_layout */
  wf_real *state;  /* BatchNorm running statistics [n_state] */
  int refs;
} wf_net_params;

typedef struct wf_stack wf_stack; /* stack.h */

struct wf_net {
  wf_mlp_spec spec;     /* an MLP, or a stack's summary (in, out, norm) */
  wf_stack *stk;        /* the layers of a stack net; NULL for an MLP */
  wf_layout layout;
  wf_device *dev;      /* one reference held */
  char msg[WF_MSG_LEN];
  wf_net_params *p;

  /* randomness: Philox key and the next block counter, which lives in a
   * device slot (the draws advance it) with a host mirror */
  uint32_t key[2];
  double *stream_dev; /* device slot [1] */
  uint64_t counter;   /* its host mirror */

  /* batch workspace, owned by this net (an alias has its own) */
  int cap;             /* rows the workspace holds */
  int m;               /* rows of the cached batch */
  int train;           /* mode of the cached forward */
  wf_cache_state cache;
  int chain_ones;      /* the input-gradient chain is of dy = ones */
  wf_layer_cache layer[WF_MAX_LAYERS];
  wf_real *x_in;       /* [cap x in] input of the cached forward */
  wf_real *y_out;      /* [cap x out] output (residual nets; else the last h) */
  wf_real *u_in;       /* [cap x in] direction of the double backward */
  wf_real *dy_chain;   /* [cap x out] dy of the input-gradient pass */
  wf_real *chain_x;    /* [cap x in] input gradient of that pass */
  wf_real *out_adj;    /* [cap x out] an output adjoint for compositions */
  wf_real *adj[4];     /* [cap x max width] scratch adjoints */

  /* a copy of the training state on the same device and the finite check's
   * slots (snapshot.c); NULL until first used */
  wf_net_snapshot *snap;
};

/* Set the net's message and return status (for `return wf_fail(...)`). */
wf_status wf_fail(wf_net *net, wf_status status, const char *fmt, ...);
/* Make sure the workspace holds m rows. */
wf_status wf_net_reserve(wf_net *net, int m);
int wf_net_max_width(const wf_net *net);
/* *ptr = n values of the net's device; *ok cleared when that fails (a
 * workspace is allocated whole, then checked once) */
static inline void wf_net_get(wf_net *net, wf_real **ptr, size_t n, int *ok) {
  *ptr = wf_device_alloc(net->dev, n);
  *ok = *ok && *ptr != NULL;
}
/* The device's asynchronous error state after a pass, into the net's
 * message. */
wf_status wf_net_sync_error(wf_net *net);

#define WF_NET_BE(net) ((net)->dev->be)
#define WF_NET_CTX(net) ((net)->dev->ctx)
#define WF_PARAMS(net) ((net)->p->block.params)
#define WF_GRAD(net) ((net)->p->block.grad)

#endif
