/* ot_lap.c — what the exact-OT solvers share (ot_lap.h): failures, the
 * abort check, and rows of the cost matrix, stored or computed on the fly.
 * ot.c, ot_dense.c and ot_sparse.c all build on this file, so none of them
 * calls back into another. */
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

const double *ot_row_all(ot_lap *s, int i) {
  s->work += (size_t)s->n;
  if (s->c != NULL) return s->c + (size_t)i * s->n;
  ot_costs_row(s, i, NULL, s->n, s->row);
  return s->row;
}

const double *ot_row_some(ot_lap *s, int i, const int *cols, int m, int j1) {
  s->work += (size_t)m + 1;
  if (s->c != NULL) return s->c + (size_t)i * s->n;
  ot_costs_row(s, i, cols, m, s->row);
  ot_costs_row(s, i, &j1, 1, s->row);
  return s->row;
}
