/* ffi-stack.c — stacks of layers from R: the spec list R/layers.R builds
 * (choices cross as strings, matched here), and the shapes and sizes of
 * each layer, read off the core's own checks so R never repeats them. */
#include <string.h>

#include "choices.h"
#include "ffi-util.h"

static SEXP field(SEXP list, const char *name) {
  return wf_r_field(list, name, "a layer stack");
}

int wf_r_is_stack(SEXP spec) {
  return TYPEOF(spec) == VECSXP && field(spec, "kind") != R_NilValue;
}

/* the enum value of element i of x in a choice kind (choices.h), or an
 * error naming the layer */
static int match_choice(SEXP x, R_xlen_t i, const char *kind, const char *what) {
  const char *s = CHAR(STRING_ELT(x, i));
  int k = wf_choice_index(kind, s);
  if (k < 0)
    wf_r_abort("wgflow_error_arg", "layer %d: unknown %s \"%s\"", (int)i + 1, what, s);
  return k;
}

/* an integer column of n values */
static const int *ints(SEXP spec, const char *name, R_xlen_t n) {
  SEXP x = field(spec, name);
  if (TYPEOF(x) != INTSXP || Rf_xlength(x) != n)
    wf_r_abort("wgflow_error_arg", "a layer stack's `%s` must be %d integers", name,
               (int)n);
  return INTEGER(x);
}

void wf_r_stack_spec(SEXP spec, wf_stack_spec *s) {
  memset(s, 0, sizeof(*s));
  SEXP kind = field(spec, "kind");
  R_xlen_t n = Rf_xlength(kind);
  if (TYPEOF(kind) != STRSXP || n < 1 || n > WF_MAX_LAYERS)
    wf_r_abort("wgflow_error_arg", "a layer stack needs 1 to %d layers", WF_MAX_LAYERS);
  const int *in = ints(spec, "in_shape", 3);
  const int *units = ints(spec, "units", n), *kernel = ints(spec, "kernel", n);
  const int *stride = ints(spec, "stride", n), *padding = ints(spec, "padding", n);
  const int *out_pad = ints(spec, "output_padding", n), *bias = ints(spec, "bias", n);
  const int *shape = ints(spec, "shape", 3 * n); /* an n x 3 matrix, by columns */
  SEXP act = field(spec, "activation"), slope = field(spec, "slope");
  if (TYPEOF(act) != STRSXP || Rf_xlength(act) != n || TYPEOF(slope) != REALSXP ||
      Rf_xlength(slope) != n)
    wf_r_abort("wgflow_error_arg",
               "a layer stack's `activation` and `slope` must have one value a layer");
  SEXP init = field(spec, "init");
  if (TYPEOF(init) != STRSXP || Rf_xlength(init) != 1)
    wf_r_abort("wgflow_error_arg", "a layer stack's `init` must be one string");
  s->n_layers = (int)n;
  s->in = (wf_shape){in[0], in[1], in[2]};
  s->init = (wf_init)match_choice(init, 0, "init", "init");
  s->init_sd = wf_r_double(field(spec, "init_sd"), "init_sd");
  for (R_xlen_t l = 0; l < n; l++) {
    wf_layer_spec *ls = &s->layer[l];
    ls->kind = (wf_layer_kind)match_choice(kind, l, "layer", "kind");
    ls->units = units[l];
    ls->kernel = kernel[l];
    ls->stride = stride[l];
    ls->padding = padding[l];
    ls->output_padding = out_pad[l];
    ls->bias = bias[l] != 0;
    ls->slope = REAL(slope)[l];
    ls->shape = (wf_shape){shape[l], shape[n + l], shape[2 * n + l]};
    if (ls->kind == WF_LAYER_ACTIVATION)
      ls->act = (wf_activation)match_choice(act, l, "activation", "activation");
  }
}

/* list(c, h, w [n + 1], params, state [n]) of a stack; a layer that does
 * not fit is a classed error naming it */
SEXP ffi_stack_shapes(SEXP spec) {
  wf_stack_spec s;
  wf_r_stack_spec(spec, &s);
  wf_shape shapes[WF_MAX_LAYERS + 1];
  char msg[WF_MSG_LEN];
  if (wf_stack_check(&s, shapes, msg) != WF_OK) wf_r_abort("wgflow_error_arg", "%s", msg);
  int n = s.n_layers;
  SEXP out = PROTECT(Rf_allocVector(VECSXP, 5));
  SEXP c = SET_VECTOR_ELT(out, 0, Rf_allocVector(INTSXP, n + 1));
  SEXP h = SET_VECTOR_ELT(out, 1, Rf_allocVector(INTSXP, n + 1));
  SEXP w = SET_VECTOR_ELT(out, 2, Rf_allocVector(INTSXP, n + 1));
  SEXP np = SET_VECTOR_ELT(out, 3, Rf_allocVector(REALSXP, n));
  SEXP ns = SET_VECTOR_ELT(out, 4, Rf_allocVector(REALSXP, n));
  for (int l = 0; l <= n; l++) {
    INTEGER(c)[l] = shapes[l].c;
    INTEGER(h)[l] = shapes[l].h;
    INTEGER(w)[l] = shapes[l].w;
  }
  for (int l = 0; l < n; l++) {
    size_t p, st;
    wf_stack_layer_sizes(&s, l, &p, &st);
    REAL(np)[l] = (double)p;
    REAL(ns)[l] = (double)st;
  }
  SEXP names = PROTECT(Rf_allocVector(STRSXP, 5));
  const char *nm[] = {"c", "h", "w", "params", "state"};
  for (int i = 0; i < 5; i++) SET_STRING_ELT(names, i, Rf_mkChar(nm[i]));
  Rf_setAttrib(out, R_NamesSymbol, names);
  UNPROTECT(2);
  return out;
}
