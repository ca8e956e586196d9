/* test_trainer.c — the generic trainer (trainer.c, algos.c) at creation:
 * nets that do not fit the data, bad optimisers and unknown algorithms are
 * refused. (Its phases, arguments and buffers are tested with each family:
 * test_algo_*.c.) Built in double and float; ends with "trainer
 * <precision>: N passed, N failed". */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "net_util.h"
#include "trainer.h"

/* ---- refusals at creation ------------------------------------------------ */
/* a trainer checks its nets' shapes against its data, its optimisers, and
 * the name of its algorithm */
static void trainer_refuses_wrong_widths_bad_optimisers_and_unknown_algorithms(void) {
  char msg[WF_MSG_LEN];
  wf_mlp_spec ok = {.n_layers = 2, .widths = {2, 4, 1}};
  wf_net *net = make_net(&ok, 1);
  double data[6] = {0, 1, 2, 3, 4, 5};
  const double *dp = data;
  int rows = 2, cols = 3;
  wf_net *nets[2] = {net, net};
  wf_opt_spec opts[2] = {{.kind = WF_OPT_SGD, .lr = 0.1, .eps = 1},
                         {.kind = WF_OPT_SGD, .lr = 0.1, .eps = 1}};
  wf_trainer *t = NULL;
  CHECK(wf_trainer_create(wf_algo_find("w1fe"), nets, opts, 2, &dp, &rows, &cols, 1,
                          &t, msg) == WF_ERR_ARG && t == NULL,
        "a trainer refuses a critic of the wrong width");
  opts[1].lr = -1;
  cols = 2;
  CHECK(wf_trainer_create(wf_algo_find("w1fe"), nets, opts, 2, &dp, &rows, &cols, 1,
                          &t, msg) == WF_ERR_ARG,
        "a trainer refuses a bad optimiser");
  CHECK(wf_algo_find("nope") == NULL, "unknown algorithm");
  wf_net_free(net);
}

int main(void) {
  open_cpu_device();
  trainer_refuses_wrong_widths_bad_optimisers_and_unknown_algorithms();
  return finish("trainer");
}
