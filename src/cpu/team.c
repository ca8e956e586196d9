/* team.c — how many threads an op takes now. On cores shared with other
 * programs a thread of a parallel region can be off its core for a whole
 * time slice (milliseconds) while the other waits for it at the region's
 * end, spinning: with another busy process on the machine two threads ran
 * a WGAN critic step ten times slower than one. So the big regions (row
 * chains, weight-gradient lists, products) time themselves; when thread 0
 * waited for the others far longer than its own share took, every op runs
 * on one thread for a stretch (5 ms, doubled at each such wait up to
 * 0.5 s, halved after a clean stretch four times as long), then the team
 * is tried again. Results do not depend on the thread count, so this
 * changes times only; the knob "adaptive" 0 turns it off. */
#include <time.h>

#include "cpu.h"

#define SOLO_FIRST 0.005 /* seconds on one thread after a slow region */
#define SOLO_MAX 0.5
#define SLOW_WAIT 1e-4   /* a wait this long beyond twice the own share is slow */

double wf_cpu_now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

int wf_cpu_team(const wf_ctx *ctx, int nt) {
  if (nt <= 1 || !ctx->adaptive || ctx->solo_until == 0) return nt;
  return wf_cpu_now() < ctx->solo_until ? 1 : nt;
}

int wf_cpu_region_threads(const wf_ctx *ctx, double flops, size_t touched) {
  /* below ~1 MFLOP a fork-join costs more than it saves (and far more when
   * the machine is busy), unless the work reads or writes many values: a
   * thin product such as the first layer's (k = 2, m x 128 outputs) is
   * bound by its memory traffic, which threads share as well */
  if (flops < 1e6 && touched < 32768) return 1;
  return wf_cpu_team(ctx, ctx->threads > WF_CPU_MAX_THREADS ? WF_CPU_MAX_THREADS
                                                             : ctx->threads);
}

void wf_cpu_team_timed(wf_ctx *ctx, int nt, double t0, double t_own, double t1) {
  if (nt <= 1 || !ctx->adaptive) return;
  double own = t_own - t0, wait = t1 - t_own;
  if (wait > 2 * own + SLOW_WAIT) {
    ctx->solo_len = ctx->solo_len >= SOLO_FIRST ? 2 * ctx->solo_len : SOLO_FIRST;
    if (ctx->solo_len > SOLO_MAX) ctx->solo_len = SOLO_MAX;
    ctx->solo_until = t1 + ctx->solo_len;
  } else if (ctx->solo_len > 0 && t1 > ctx->solo_until + 4 * ctx->solo_len) {
    ctx->solo_len /= 2; /* clean for a while: the next stretch is shorter */
    ctx->solo_until = t1;
  }
}
