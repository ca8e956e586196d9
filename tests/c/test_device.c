/* test_device.c — the CPU device (device.c, cpu/peak.c) and the
 * self-check (selfcheck.c): the FLOP count of a product, the code path taken
 * within the build's cap, the measured FMA peak, and the check of one device
 * against another on the ops of a training step. Built in double and float;
 * ends with "device <precision>: N passed, N failed". */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
  two_cpu_devices_pass_the_self_check();
  return finish("device");
}
