/* net.h — the inside of a wf_net, shared by the core's .c files only. */
#ifndef WF_NET_H
#define WF_NET_H

#include "backend.h"

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
} wf_layer_cache;

struct wf_net {
  wf_mlp_spec spec;
  wf_layout layout;
  const wf_backend *be;
  char msg[WF_MSG_LEN];

  /* one buffer each, all in the parameter layout [n_params] */
  wf_real *params, *grad, *m1, *m2;
  wf_real *state;   /* BatchNorm running statistics [n_state] */
  double opt_step;  /* optimiser steps taken */

  /* randomness: Philox key and the next block counter */
  uint32_t key[2];
  uint64_t counter;

  /* batch workspace */
  int cap;             /* rows the workspace holds */
  int m;               /* rows of the cached batch */
  int train;           /* mode of the cached forward */
  wf_cache_state cache;
  wf_layer_cache layer[WF_MAX_LAYERS];
  wf_real *x_in;       /* [cap x in] input of the cached forward */
  wf_real *u_in;       /* [cap x in] direction of the double backward */
  wf_real *dy_chain;   /* [cap x out] dy of the input-gradient pass */
  wf_real *chain_x;    /* [cap x in] input gradient of that pass */
  wf_real *adj[4];     /* [cap x max width] scratch adjoints */
  wf_real *loss_x;     /* [2 cap x in] stacked real/fake, interpolates */
  wf_real *loss_y;     /* [2 cap x out] critic values, then dy */
  wf_real *loss_t;     /* [cap] interpolation weights */
  wf_real *loss_u;     /* [cap x in] penalty direction dP/dg */
  int loss_cap;
};

/* Set the net's message and return status (for `return wf_fail(...)`). */
wf_status wf_fail(wf_net *net, wf_status status, const char *fmt, ...);
/* Make sure the workspace holds m rows. */
wf_status wf_net_reserve(wf_net *net, int m);
int wf_net_max_width(const wf_net *net);
/* Check the backend's asynchronous error state after a pass. */
wf_status wf_net_sync_error(wf_net *net);

#endif
