/* ffi-trainer.c — the two .Call entry points every algorithm trains
 * through: create a trainer (core/trainer.h) from named nets, optimisers
 * and data sets, and run one of its phases with named arguments, getting
 * named doubles back. */
#include <math.h>
#include <string.h>

#include "choices.h"
#include "ffi-util.h"
#include "trainer.h"

#include "ffi-net.h" /* wf_r_opt */

static void trainer_finalize(SEXP ptr) {
  wf_trainer *t = (wf_trainer *)R_ExternalPtrAddr(ptr);
  if (t != NULL) {
    wf_trainer_free(t);
    R_ClearExternalPtr(ptr);
  }
}

static wf_trainer *r_trainer(SEXP ptr) {
  if (TYPEOF(ptr) != EXTPTRSXP || R_ExternalPtrTag(ptr) != Rf_install("wf_trainer"))
    wf_r_abort("wgflow_error_arg", "not a wgflow trainer handle");
  wf_trainer *t = (wf_trainer *)R_ExternalPtrAddr(ptr);
  if (t == NULL) wf_r_abort("wgflow_error_state", "the trainer's handle is dead");
  return t;
}

/* The element of a named list called name, or NULL (R's NULL counts as
 * absent); `what` names the list in the error when it is not one. */
static SEXP named_or_null(SEXP list, const char *name, const char *what) {
  char desc[64];
  snprintf(desc, sizeof(desc), "`%s`", what);
  return wf_r_field(list, name, desc);
}

/* The element called name; an error naming `what` if it is missing. */
static SEXP named(SEXP list, const char *name, const char *what) {
  SEXP x = named_or_null(list, name, what);
  if (Rf_isNull(x)) wf_r_abort("wgflow_error_arg", "`%s` has no `%s`", what, name);
  return x;
}

/* algo: a string; nets, opts: named lists keyed by the algorithm's net
 * roles (nets of class wf_net handles, opts optimiser lists); data: a named
 * list of double matrices keyed by its data roles (an optional role, e.g.
 * a source sample, may be missing or NULL). */
SEXP ffi_trainer_create(SEXP algo, SEXP nets, SEXP opts, SEXP data) {
  if (!Rf_isString(algo) || Rf_length(algo) != 1)
    wf_r_abort("wgflow_error_arg", "`algo` must be a single string");
  const wf_algo *a = wf_algo_find(CHAR(STRING_ELT(algo, 0)));
  if (a == NULL)
    wf_r_abort("wgflow_error_arg", "no algorithm called \"%s\"", CHAR(STRING_ELT(algo, 0)));
  wf_net *net[WF_TRAINER_MAX_NETS];
  wf_opt_spec opt[WF_TRAINER_MAX_NETS];
  int n_nets = 0, n_data = 0;
  for (; a->nets[n_nets] != NULL; n_nets++) {
    net[n_nets] = wf_r_net(named(nets, a->nets[n_nets], "nets"));
    wf_r_opt(named(opts, a->nets[n_nets], "opts"), &opt[n_nets]);
  }
  const double *rows_major[WF_TRAINER_MAX_DATA];
  int rows[WF_TRAINER_MAX_DATA], cols[WF_TRAINER_MAX_DATA];
  int n_roles = 0;
  while (a->data[n_roles] != NULL) n_roles++;
  for (; n_data < n_roles; n_data++) {
    SEXP x = named_or_null(data, a->data[n_data], "data");
    if (Rf_isNull(x) && n_data >= n_roles - a->optional_data) break;
    if (Rf_isNull(x)) wf_r_abort("wgflow_error_arg", "`data` has no `%s`", a->data[n_data]);
    rows_major[n_data] = wf_r_row_major(NULL, x, a->data[n_data], &rows[n_data], &cols[n_data]);
    wf_r_check_range(NULL, rows_major[n_data], (size_t)rows[n_data] * cols[n_data],
                     a->data[n_data]);
  }
  char msg[WF_MSG_LEN];
  wf_trainer *t = NULL;
  wf_status rc = wf_trainer_create(a, net, opt, n_nets, rows_major, rows, cols,
                                   n_data, &t, msg);
  if (rc != WF_OK) wf_r_abort_status(rc, msg);
  /* the trainer borrows the nets: keep their handles alive with it */
  SEXP ptr = PROTECT(R_MakeExternalPtr(t, Rf_install("wf_trainer"), nets));
  R_RegisterCFinalizerEx(ptr, trainer_finalize, TRUE);
  UNPROTECT(1);
  return ptr;
}

/* phase: a string; args: a named list (or NULL) of single numbers
 * (double, integer or logical) and single strings (choices, matched in
 * C: choices.h). Returns the phase's outputs as a named double vector
 * (NaN as NA). */
SEXP ffi_trainer_run(SEXP ptr, SEXP phase, SEXP args) {
  wf_trainer *t = r_trainer(ptr);
  if (!Rf_isString(phase) || Rf_length(phase) != 1)
    wf_r_abort("wgflow_error_arg", "`phase` must be a single string");
  const wf_phase *p = wf_trainer_phase(t, CHAR(STRING_ELT(phase, 0)));
  if (p == NULL)
    wf_r_abort("wgflow_error_arg", "%s has no phase \"%s\"", t->algo->name,
               CHAR(STRING_ELT(phase, 0)));
  int n = Rf_isNull(args) ? 0 : Rf_length(args);
  SEXP names = Rf_getAttrib(args, R_NamesSymbol);
  if (n > 0 && (TYPEOF(args) != VECSXP || TYPEOF(names) != STRSXP))
    wf_r_abort("wgflow_error_arg", "`args` must be a named list");
  const char **arg_names = (const char **)R_alloc((size_t)n + 1, sizeof(char *));
  const char **strings = (const char **)R_alloc((size_t)n + 1, sizeof(char *));
  double *values = (double *)R_alloc((size_t)n + 1, sizeof(double));
  for (int i = 0; i < n; i++) {
    SEXP v = VECTOR_ELT(args, i);
    arg_names[i] = CHAR(STRING_ELT(names, i));
    strings[i] = NULL;
    values[i] = NAN;
    if (Rf_length(v) != 1)
      wf_r_abort("wgflow_error_arg", "phase argument `%s` must be a single value",
                 arg_names[i]);
    if (TYPEOF(v) == STRSXP && STRING_ELT(v, 0) != NA_STRING)
      strings[i] = CHAR(STRING_ELT(v, 0));
    else if (TYPEOF(v) == REALSXP || TYPEOF(v) == INTSXP || TYPEOF(v) == LGLSXP)
      values[i] = Rf_asReal(v); /* NA becomes NaN: refused by the phase */
    else
      wf_r_abort("wgflow_error_arg", "phase argument `%s` must be a number or a string",
                 arg_names[i]);
  }
  wf_args a = {arg_names, values, n, strings};
  int n_out = 0;
  while (p->outputs[n_out] != NULL) n_out++;
  double out[WF_PHASE_MAX_OUTPUTS];
  wf_status rc = wf_trainer_run(t, p, &a, out);
  if (rc != WF_OK) {
    char msg[WF_MSG_LEN];
    snprintf(msg, sizeof(msg), "%s", wf_trainer_message(t));
    wf_r_abort_status(rc, msg);
  }
  SEXP res = PROTECT(Rf_allocVector(REALSXP, n_out));
  SEXP res_names = PROTECT(Rf_allocVector(STRSXP, n_out));
  for (int i = 0; i < n_out; i++) {
    REAL(res)[i] = isnan(out[i]) ? NA_REAL : out[i];
    SET_STRING_ELT(res_names, i, Rf_mkChar(p->outputs[i]));
  }
  Rf_setAttrib(res, R_NamesSymbol, res_names);
  UNPROTECT(2);
  return res;
}

/* Set the learning rate of the optimiser of the trainer's net number index
 * (1-based, role order) for its next phases: a schedule, one change per
 * epoch. (A recorded step is recorded again after the change.) */
SEXP ffi_trainer_set_lr(SEXP ptr, SEXP index, SEXP lr) {
  wf_trainer *t = r_trainer(ptr);
  int i = wf_r_int(index, "index", 1, t->n_nets);
  double v = wf_r_double(lr, "lr");
  if (v < 0) wf_r_abort_arg("lr", "`lr` must be >= 0, not %g", v);
  t->opts[i - 1].lr = v;
  return R_NilValue;
}

SEXP ffi_trainer_free(SEXP ptr) {
  if (TYPEOF(ptr) == EXTPTRSXP) trainer_finalize(ptr);
  return R_NilValue;
}

/* on: record and replay repeated steps where the device can (the default),
 * or run every step eagerly. */
SEXP ffi_trainer_set_graphs(SEXP ptr, SEXP on) {
  wf_trainer *t = r_trainer(ptr);
  if (!Rf_isLogical(on) || Rf_length(on) != 1 || LOGICAL(on)[0] == NA_LOGICAL)
    wf_r_abort("wgflow_error_arg", "`on` must be TRUE or FALSE");
  wf_trainer_set_graphs(t, LOGICAL(on)[0]);
  return R_NilValue;
}

/* A trainer's named buffer (an algorithm's state, e.g. OTS's dual vector):
 * its first n values as doubles, or as integers when ints is TRUE. */
SEXP ffi_trainer_buffer_get(SEXP ptr, SEXP name, SEXP n, SEXP ints) {
  wf_trainer *t = r_trainer(ptr);
  if (!Rf_isString(name) || Rf_length(name) != 1)
    wf_r_abort("wgflow_error_arg", "`name` must be a single string");
  double len = Rf_asReal(n);
  if (!(len >= 0) || len > 4503599627370496.0 || len != floor(len))
    wf_r_abort("wgflow_error_arg", "`n` must be a whole number >= 0");
  int as_int = Rf_asLogical(ints) == TRUE;
  double *host = (double *)R_alloc((size_t)len + 1, sizeof(double));
  wf_status rc = wf_trainer_buffer_get(t, CHAR(STRING_ELT(name, 0)), as_int, host, (size_t)len);
  if (rc != WF_OK) {
    char msg[WF_MSG_LEN];
    snprintf(msg, sizeof(msg), "%s", wf_trainer_message(t));
    wf_r_abort_status(rc, msg);
  }
  SEXP out = PROTECT(Rf_allocVector(as_int ? INTSXP : REALSXP, (R_xlen_t)len));
  for (R_xlen_t i = 0; i < (R_xlen_t)len; i++) {
    if (as_int) INTEGER(out)[i] = (int)host[i];
    else REAL(out)[i] = host[i];
  }
  UNPROTECT(1);
  return out;
}

/* Write a double vector into the start of a trainer's named buffer. */
SEXP ffi_trainer_buffer_set(SEXP ptr, SEXP name, SEXP values) {
  wf_trainer *t = r_trainer(ptr);
  if (!Rf_isString(name) || Rf_length(name) != 1)
    wf_r_abort("wgflow_error_arg", "`name` must be a single string");
  if (TYPEOF(values) != REALSXP)
    wf_r_abort("wgflow_error_arg", "`values` must be a double vector");
  wf_status rc = wf_trainer_buffer_set(t, CHAR(STRING_ELT(name, 0)), REAL(values),
                                       (size_t)Rf_xlength(values));
  if (rc != WF_OK) {
    char msg[WF_MSG_LEN];
    snprintf(msg, sizeof(msg), "%s", wf_trainer_message(t));
    wf_r_abort_status(rc, msg);
  }
  return R_NilValue;
}

/* The output names of an algorithm's phases, in order: what R records as
 * its training metrics (a new metric is one edit, in the phase table). */
SEXP ffi_algo_outputs(SEXP algo, SEXP phases) {
  if (!Rf_isString(algo) || Rf_length(algo) != 1)
    wf_r_abort("wgflow_error_arg", "`algo` must be a single string");
  if (!Rf_isString(phases))
    wf_r_abort("wgflow_error_arg", "`phases` must be strings");
  const wf_algo *a = wf_algo_find(CHAR(STRING_ELT(algo, 0)));
  if (a == NULL)
    wf_r_abort("wgflow_error_arg", "no algorithm called \"%s\"", CHAR(STRING_ELT(algo, 0)));
  int total = 0;
  const wf_phase *found[64];
  int n_phases = Rf_length(phases);
  if (n_phases > 64) wf_r_abort("wgflow_error_arg", "too many phases");
  for (int i = 0; i < n_phases; i++) {
    const char *name = CHAR(STRING_ELT(phases, i));
    found[i] = NULL;
    for (const wf_phase *p = a->phases; p->name != NULL; p++)
      if (strcmp(p->name, name) == 0) found[i] = p;
    if (found[i] == NULL)
      wf_r_abort("wgflow_error_arg", "%s has no phase \"%s\"", a->name, name);
    for (int k = 0; found[i]->outputs[k] != NULL; k++) total++;
  }
  SEXP out = PROTECT(Rf_allocVector(STRSXP, total));
  int at = 0;
  for (int i = 0; i < n_phases; i++)
    for (int k = 0; found[i]->outputs[k] != NULL; k++)
      SET_STRING_ELT(out, at++, Rf_mkChar(found[i]->outputs[k]));
  UNPROTECT(1);
  return out;
}

/* The names of a choice kind (choices.h), in enum order. */
SEXP ffi_choices(SEXP kind) {
  if (!Rf_isString(kind) || Rf_length(kind) != 1)
    wf_r_abort("wgflow_error_arg", "`kind` must be a single string");
  const wf_choice_table *t = wf_choice_find(CHAR(STRING_ELT(kind, 0)));
  if (t == NULL)
    wf_r_abort("wgflow_error_arg", "no choice kind \"%s\"", CHAR(STRING_ELT(kind, 0)));
  SEXP out = PROTECT(Rf_allocVector(STRSXP, t->n));
  for (int i = 0; i < t->n; i++) SET_STRING_ELT(out, i, Rf_mkChar(t->names[i]));
  UNPROTECT(1);
  return out;
}
