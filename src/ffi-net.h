/* ffi-net.h — what the .Call files for nets share: ffi-net.c (handles,
 * parameters and sync), ffi-view.c (the R copy's views of a net),
 * ffi-passes.c (passes, optimiser steps, draws,
 * sampling) and ffi-critic.c (critic and classifier losses). */
#ifndef WGFLOW_FFI_NET_H
#define WGFLOW_FFI_NET_H

#include "compose.h"
#include "ffi-util.h"

/* run a core call; on failure jump to `fail`, which frees and raises */
#define TRY(expr)                  \
  do {                             \
    rc = (expr);                   \
    if (rc != WF_OK) goto fail;    \
  } while (0)

#define FAIL_AND_RAISE(s) wf_scratch_abort(&(s), rc)

/* ffi-net.c */
void wf_r_opt(SEXP opt, wf_opt_spec *o);
uint64_t wf_r_u64(SEXP x, int at, const char *what); /* 2 doubles from x[at] */
void wf_r_account(SEXP ptr, wf_net *net, int rows);   /* memory held for R's GC */
/* set a block (what: 0 params, 1 state, 2 gradient) from an R vector */
void wf_r_set_block(wf_net *net, int what, SEXP value, const char *arg);

/* ffi-view.c: a net's R copy as views that read the engine on first use */
#include <R_ext/Rdynload.h>
void wf_r_views_init(DllInfo *dll); /* registers the ALTREP class (init.c) */
/* bind to `name` in env (holder R_NilValue) or to element `at` of the list
 * holder a view of `part` (a wf_net_part) of the net behind ptr, unless an
 * unread view of it that no one else holds is bound there already */
void wf_r_bind_view(SEXP env, SEXP holder, int at, const char *name, SEXP ptr,
                    int part);

/* ffi-passes.c */
int wf_r_in_dim(wf_net *net);
int wf_r_out_dim(wf_net *net);
SEXP wf_r_param_grad(wf_net *net); /* the parameter gradient as an R vector */

#endif
