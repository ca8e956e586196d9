/* ffi-snapshot.c — .Call entry points for a net's state kept on its device
 * (core/snapshot.c): what a training run returns to when an epoch diverges
 * (R/train-keep.R), and the finite check that decides it. */
#include "ffi-net.h"

static void check(wf_net *net, wf_status rc) {
  if (rc != WF_OK) wf_r_abort_status(rc, wf_net_message(net));
}

SEXP ffi_net_snapshot_save(SEXP ptr) {
  wf_net *net = wf_r_net(ptr);
  check(net, wf_net_snapshot_save(net));
  return R_NilValue;
}

/* TRUE after putting the saved state back; FALSE when none was saved */
SEXP ffi_net_snapshot_restore(SEXP ptr) {
  wf_net *net = wf_r_net(ptr);
  if (!wf_net_snapshot_saved(net)) return Rf_ScalarLogical(FALSE);
  check(net, wf_net_snapshot_restore(net));
  return Rf_ScalarLogical(TRUE);
}

/* frees the snapshot's device memory; a dead handle has none */
SEXP ffi_net_snapshot_drop(SEXP ptr) {
  if (TYPEOF(ptr) == EXTPTRSXP && R_ExternalPtrAddr(ptr) != NULL)
    wf_net_snapshot_drop(wf_r_net(ptr));
  return R_NilValue;
}

/* The number of values that are not finite in the parameters, BatchNorm
 * statistics, optimiser first and second moment: double [4]. */
SEXP ffi_net_nonfinite(SEXP ptr) {
  wf_net *net = wf_r_net(ptr);
  double counts[WF_NET_PARTS];
  check(net, wf_net_count_nonfinite(net, counts));
  SEXP out = PROTECT(Rf_allocVector(REALSXP, WF_NET_PARTS));
  for (int i = 0; i < WF_NET_PARTS; i++) REAL(out)[i] = counts[i];
  UNPROTECT(1);
  return out;
}
