/* generate.c — samples of a generator: G(z) for n latents z ~ N(0, I)
 * drawn from their own stream (key, counter 0), so the same key gives the
 * same samples and sampling leaves the net's own stream where it was. Apart
 * from rng.c, which only draws, because it runs the net's forward pass. */
#include "net.h"

wf_status wf_generate(wf_net *gen, int n, uint64_t key, wf_real *out) {
  if (n < 1) return wf_fail(gen, WF_ERR_ARG, "n must be >= 1");
  uint64_t old_key, old_ctr;
  wf_net_get_rng(gen, &old_key, &old_ctr);
  wf_real *z = wf_device_alloc(gen->dev, (size_t)n * wf_net_in(gen)); /* [n x in] */
  if (z == NULL) return wf_fail(gen, WF_ERR_NOMEM, "out of memory for %d latents", n);
  wf_status rc = wf_net_set_rng(gen, key, 0);
  if (rc == WF_OK) rc = wf_net_normal(gen, z, (size_t)n * wf_net_in(gen));
  wf_status back = wf_net_set_rng(gen, old_key, old_ctr);
  if (rc == WF_OK) rc = back;
  if (rc == WF_OK) rc = wf_mlp_forward(gen, z, n, 0, out);
  wf_device_free(gen->dev, z);
  return rc;
}
