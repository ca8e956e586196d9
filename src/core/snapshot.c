/* snapshot.c — a net's training state kept on its own device, and a finite
 * check that reads back four counts.
 *
 * A training run keeps the state of its last good epoch, so that a run
 * that diverges returns usable nets (R/train-keep.R). Keeping it on the
 * host would copy every parameter and both optimiser moments down after
 * every epoch; here they are device copies (the backend's `copy`), and the
 * check that decides whether an epoch was good counts the values that are
 * not finite on the device (`count_nonfinite`) and reads back only those
 * counts. */
#include <stdlib.h>

#include "net.h"

struct wf_net_snapshot {
  wf_real *params, *m1, *m2; /* [n_params] each */
  wf_real *state;            /* BatchNorm running statistics [n_state] */
  double step;               /* the optimiser's step count */
  uint64_t key, counter;     /* the random stream's position */
  int saved;                 /* the copies hold a saved state */
  double *counts;            /* device slots [WF_NET_PARTS]: the finite check's */
};

/* The net's snapshot buffers, allocated on first use (so a trainer's
 * recorded steps see no allocation after it); NULL, with the net's
 * message, when out of memory. */
static wf_net_snapshot *buffers(wf_net *net) {
  if (net->snap != NULL) return net->snap;
  wf_net_snapshot *s = calloc(1, sizeof(wf_net_snapshot));
  if (s == NULL) {
    wf_fail(net, WF_ERR_NOMEM, "out of memory for the net's snapshot");
    return NULL;
  }
  size_t np = net->layout.n_params, ns = net->layout.n_state;
  s->params = wf_device_alloc(net->dev, np);
  s->m1 = wf_device_alloc(net->dev, np);
  s->m2 = wf_device_alloc(net->dev, np);
  s->state = wf_device_alloc(net->dev, ns);
  s->counts = wf_device_alloc_scalars(net->dev, WF_NET_PARTS);
  net->snap = s;
  if (!s->params || !s->m1 || !s->m2 || !s->state || !s->counts) {
    wf_net_snapshot_drop(net);
    wf_fail(net, WF_ERR_NOMEM, "out of device memory for a snapshot of %zu parameters",
            np);
    return NULL;
  }
  return s;
}

wf_status wf_net_snapshot_save(wf_net *net) {
  wf_net_snapshot *s = buffers(net);
  if (s == NULL) return WF_ERR_NOMEM;
  const wf_backend *be = WF_NET_BE(net);
  wf_ctx *ctx = WF_NET_CTX(net);
  const wf_block *b = &net->p->block;
  be->copy(ctx, s->params, b->params, b->n);
  be->copy(ctx, s->m1, b->m1, b->n);
  be->copy(ctx, s->m2, b->m2, b->n);
  be->copy(ctx, s->state, net->p->state, net->layout.n_state);
  /* the step count and the stream's counter have host mirrors equal to
   * their device slots (the ops and the trainer's replays advance both) */
  s->step = b->step;
  wf_net_get_rng(net, &s->key, &s->counter);
  s->saved = 1;
  return wf_net_sync_error(net);
}

int wf_net_snapshot_saved(const wf_net *net) {
  return net->snap != NULL && net->snap->saved;
}

wf_status wf_net_snapshot_restore(wf_net *net) {
  if (!wf_net_snapshot_saved(net))
    return wf_fail(net, WF_ERR_STATE, "the net has no saved snapshot to restore");
  wf_net_snapshot *s = net->snap;
  const wf_backend *be = WF_NET_BE(net);
  wf_ctx *ctx = WF_NET_CTX(net);
  wf_block *b = &net->p->block;
  be->copy(ctx, b->params, s->params, b->n);
  be->copy(ctx, b->m1, s->m1, b->n);
  be->copy(ctx, b->m2, s->m2, b->n);
  be->copy(ctx, net->p->state, s->state, net->layout.n_state);
  net->cache = WF_CACHE_EMPTY; /* cached activations used other weights */
  wf_status rc = wf_block_set_step(b, net->dev, s->step, net->msg);
  if (rc == WF_OK) rc = wf_net_set_rng(net, s->key, s->counter);
  if (rc == WF_OK) rc = wf_net_sync_error(net);
  return rc;
}

void wf_net_snapshot_drop(wf_net *net) {
  wf_net_snapshot *s = net->snap;
  if (s == NULL) return;
  wf_device_free(net->dev, s->params);
  wf_device_free(net->dev, s->m1);
  wf_device_free(net->dev, s->m2);
  wf_device_free(net->dev, s->state);
  wf_device_free(net->dev, s->counts);
  free(s);
  net->snap = NULL;
}

wf_status wf_net_count_nonfinite(wf_net *net, double counts[WF_NET_PARTS]) {
  wf_net_snapshot *s = buffers(net);
  if (s == NULL) return WF_ERR_NOMEM;
  const wf_backend *be = WF_NET_BE(net);
  wf_ctx *ctx = WF_NET_CTX(net);
  const wf_block *b = &net->p->block;
  be->zero_scalars(ctx, s->counts, WF_NET_PARTS);
  be->count_nonfinite(ctx, b->params, b->n, s->counts + WF_PART_PARAMS);
  be->count_nonfinite(ctx, net->p->state, net->layout.n_state, s->counts + WF_PART_STATE);
  be->count_nonfinite(ctx, b->m1, b->n, s->counts + WF_PART_M1);
  be->count_nonfinite(ctx, b->m2, b->n, s->counts + WF_PART_M2);
  wf_status rc = wf_device_read_scalars(net->dev, counts, s->counts, WF_NET_PARTS);
  return rc == WF_OK ? WF_OK : wf_fail(net, rc, "%s", wf_device_message(net->dev));
}
