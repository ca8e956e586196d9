/* rng.c — draws from a net's Philox stream (philox.h): value i of a draw
 * comes from block counter + i / 4, so a stream is the same on every
 * backend and a net's position is one counter. The counter lives in a
 * device slot that the draw itself advances (so a recorded step replays
 * with fresh numbers); the host mirror advances by the same amount. */
#include "net.h"
#include "philox.h"

wf_status wf_net_uniform(wf_net *net, wf_real *out, size_t n) {
  WF_NET_BE(net)->uniform(WF_NET_CTX(net), out, n, net->key, net->stream_dev);
  net->counter += wf_philox_blocks(n);
  return wf_net_sync_error(net);
}

wf_status wf_net_normal(wf_net *net, wf_real *out, size_t n) {
  WF_NET_BE(net)->normal(WF_NET_CTX(net), out, n, net->key, net->stream_dev);
  net->counter += wf_philox_blocks(n);
  return wf_net_sync_error(net);
}

wf_status wf_net_random_index(wf_net *net, int *out, size_t n, int bound) {
  if (bound < 1) return wf_fail(net, WF_ERR_ARG, "an index bound must be >= 1");
  WF_NET_BE(net)->random_index(WF_NET_CTX(net), out, n, bound, net->key,
                               net->stream_dev);
  net->counter += wf_philox_blocks(n);
  return wf_net_sync_error(net);
}
