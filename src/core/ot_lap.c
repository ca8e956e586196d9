/* ot_lap.c — what the exact-OT solvers share (ot_lap.h): failures and the
 * abort check. It calls into no other OT file: ot_cost.c (the costs and
 * the rows the solvers read), ot.c, ot_dense.c and ot_sparse.c build on
 * it, so the dependencies run one way. */
#include <stdio.h>

#include "ot_lap.h"

wf_status ot_fail(ot_lap *s, wf_status rc, const char *text) {
  snprintf(s->msg, WF_MSG_LEN, "%s", text);
  return rc;
}

int ot_interrupted(ot_lap *s) {
  if (s->work < s->next_check) return 0;
  s->next_check = s->work + OT_CHECK_EVERY;
  return wf_should_abort();
}
