/* test_device.c — the CPU device (device.c, cpu/peak.c, cpu/team.c) and
 * the self-check (selfcheck.c): the FLOP count of a product, the code path
 * taken within the build's cap, the measured FMA peak, one thread for a
 * while after a region waited long for one, and the check of one device
 * against another on the ops of a training step. Built in double and float;
 * ends with "device <precision>: N passed, N failed". */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cpu.h"
#include "device.h"
#include "net_util.h"

/* ---- the CPU's measurement knobs: the products' FLOP count, the code
 * path, the FMA peak -------------------------------------------------------- */
static void cpu_device_counts_flops_and_reports_its_isa_and_peak(void) {
  wf_mlp_spec big = {.n_layers = 2, .widths = {100, 1000, 100}, .activation = WF_ACT_RELU};
  wf_net *bn = make_net(&big, 2);
  wf_real *xb = dalloc(100 * 100);
  wf_device_knob(dev, "mflop", 0);
  wf_mlp_forward(bn, xb, 100, 0, NULL);
  CHECK(wf_device_knob(dev, "mflop", -1) == 40, "mflop counts 2 m n k: %d",
        wf_device_knob(dev, "mflop", -1));
  int isa = wf_device_knob(dev, "isa", -1);
  CHECK(isa >= 0 && isa <= 2, "isa %d", isa);
  CHECK(wf_device_knob(dev, "peak_mflops", 1) > 100, "an FMA peak above 0.1 GFLOP/s");
  wf_device_free(dev, xb);
  wf_net_free(bn);
}

/* ---- the team (cpu/team.c): a region whose thread 0 waited for the others
 * far longer than its own share took sends the ops to one thread for a
 * stretch; a clean region does not; knob "adaptive" 0 restores the team -- */
static void cpu_team_takes_one_thread_after_a_long_wait(void) {
  wf_ctx *ctx = WF_CTX(dev);
  int old = wf_device_knob(dev, "threads", 2);
  CHECK(wf_device_knob(dev, "adaptive", 1) == 0, "the tests' device is not adaptive");
  double t = wf_cpu_now();
  wf_cpu_team_timed(ctx, 2, t - 2e-4, t - 1e-4, t); /* own 100 us, waited 100 us */
  CHECK(wf_cpu_team(ctx, 2) == 2, "a clean region keeps two threads");
  t = wf_cpu_now();
  wf_cpu_team_timed(ctx, 2, t - 3e-3, t - 29e-4, t); /* own 100 us, waited 2.9 ms */
  CHECK(wf_cpu_team(ctx, 2) == 1 && wf_cpu_threads_for(ctx, 1 << 20) == 1,
        "one thread after a long wait");
  wf_device_knob(dev, "adaptive", 0);
  CHECK(wf_cpu_team(ctx, 2) == 2 && wf_device_knob(dev, "adaptive", -1) == 0,
        "adaptive 0 restores the team");
  wf_device_knob(dev, "threads", old);
}

/* ---- the self-check of one device against another (selfcheck.c) --------- */
static void two_cpu_devices_pass_the_self_check(void) {
  char msg[WF_MSG_LEN];
  wf_device *other = NULL;
  CHECK(wf_device_open(wf_cpu_backend(), &other, msg) == WF_OK, "second device");
  CHECK(wf_device_selfcheck(other, dev, msg) == WF_OK, "self-check: %s", msg);
  wf_device_release(other);
}

int main(void) {
  open_cpu_device();
  cpu_device_counts_flops_and_reports_its_isa_and_peak();
  cpu_team_takes_one_thread_after_a_long_wait();
  two_cpu_devices_pass_the_self_check();
  return finish("device");
}
