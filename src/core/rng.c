/* rng.c — Philox4x32-10 (Salmon et al. 2011), one stream per net.
 *
 * Value i of a draw comes from block counter + i / 4, so a stream is the
 * same on every backend and a net's position is one 64-bit counter.
 */
#include "net.h"

#define PHILOX_M0 0xD2511F53u
#define PHILOX_M1 0xCD9E8D57u
#define PHILOX_W0 0x9E3779B9u
#define PHILOX_W1 0xBB67AE85u

void wf_philox4x32(uint32_t ctr[4], const uint32_t key_in[2]) {
  uint32_t k0 = key_in[0], k1 = key_in[1];
  for (int round = 0; round < 10; round++) {
    uint64_t p0 = (uint64_t)PHILOX_M0 * ctr[0];
    uint64_t p1 = (uint64_t)PHILOX_M1 * ctr[2];
    uint32_t hi0 = (uint32_t)(p0 >> 32), lo0 = (uint32_t)p0;
    uint32_t hi1 = (uint32_t)(p1 >> 32), lo1 = (uint32_t)p1;
    uint32_t c1 = ctr[1], c3 = ctr[3];
    ctr[0] = hi1 ^ c1 ^ k0;
    ctr[1] = lo1;
    ctr[2] = hi0 ^ c3 ^ k1;
    ctr[3] = lo0;
    k0 += PHILOX_W0;
    k1 += PHILOX_W1;
  }
}

static uint64_t blocks_for(size_t n) { return ((uint64_t)n + 3) / 4; }

wf_status wf_net_uniform(wf_net *net, wf_real *out, size_t n) {
  net->be->uniform(out, n, net->key, net->counter);
  net->counter += blocks_for(n);
  return wf_net_sync_error(net);
}

wf_status wf_net_normal(wf_net *net, wf_real *out, size_t n) {
  net->be->normal(out, n, net->key, net->counter);
  net->counter += blocks_for(n);
  return wf_net_sync_error(net);
}
