/* rowchain.h — building the fused passes of the backend table: a chain of
 * row ops (row_chain) and a list of weight-gradient products
 * (grad_products), so a pass over a batch costs the CPU one fork-join per
 * chain instead of one per op (backend.h has the contracts).
 *
 * A pass pushes its row steps in order and flushes the chain before any op
 * that is not a row step (a norm, a loss with a slot, a read of all rows);
 * a full chain flushes itself, which changes nothing but the fork-joins.
 * Weight-gradient products collect in a list run after the chain that made
 * their operands. */
#ifndef WF_ROWCHAIN_H
#define WF_ROWCHAIN_H

#include "backend.h"

#define WF_ROWCHAIN_MAX 48
#define WF_GRADLIST_MAX (3 * WF_MAX_LAYERS)

typedef struct {
  const wf_backend *be;
  wf_ctx *ctx;
  int m;                          /* rows */
  int n;                          /* steps pending */
  wf_row_op op[WF_ROWCHAIN_MAX];  /* [n] */
} wf_rowchain;

typedef struct {
  int n;                               /* entries */
  wf_grad_product e[WF_GRADLIST_MAX];  /* [n] */
} wf_gradlist;

static inline void wf_rows_begin(wf_rowchain *ch, const wf_backend *be, wf_ctx *ctx,
                                 int m) {
  ch->be = be;
  ch->ctx = ctx;
  ch->m = m;
  ch->n = 0;
}

/* run the pending steps */
static inline void wf_rows_flush(wf_rowchain *ch) {
  if (ch->n > 0) ch->be->row_chain(ch->ctx, ch->m, ch->op, ch->n);
  ch->n = 0;
}

static inline wf_row_op *wf_rows_next(wf_rowchain *ch, wf_row_kind kind, int n) {
  if (ch->n == WF_ROWCHAIN_MAX) wf_rows_flush(ch);
  wf_row_op *op = &ch->op[ch->n++];
  *op = (wf_row_op){0};
  op->kind = kind;
  op->n = n;
  return op;
}

/* out [m x n] = a [m x k] op(b) (b^T when trans_b: b [n x k]; else b [k x n]),
 * then the epilogue ep (NULL: none) */
static inline void wf_rows_product(wf_rowchain *ch, int trans_b, int n, int k,
                                   const wf_real *a, const wf_real *b, wf_real *out,
                                   const wf_epilogue *ep) {
  wf_row_op *op = wf_rows_next(ch, WF_ROW_PRODUCT, n);
  op->k = k;
  op->trans_b = trans_b;
  op->alpha = 1;
  op->beta = 0;
  op->a = a;
  op->b = b;
  op->out = out;
  if (ep != NULL) op->ep = *ep;
}

/* out [m x n] = act(u) */
static inline void wf_rows_act_forward(wf_rowchain *ch, wf_activation act, double slope,
                                       const wf_real *u, wf_real *out, int n) {
  wf_row_op *op = wf_rows_next(ch, WF_ROW_ACT_FORWARD, n);
  op->act = act;
  op->slope = slope;
  op->a = u;
  op->out = out;
}

/* out [m x n] = g * act'(u) (out may be g) */
static inline void wf_rows_act_backward(wf_rowchain *ch, wf_activation act, double slope,
                                        const wf_real *u, const wf_real *g, wf_real *out,
                                        int n) {
  wf_row_op *op = wf_rows_next(ch, WF_ROW_ACT_BACKWARD, n);
  op->act = act;
  op->slope = slope;
  op->a = u;
  op->a2 = g;
  op->out = out;
}

/* out [m x n] = hbar act'(u) + gbar udot act''(u) (hbar NULL: zero) */
static inline void wf_rows_act_second(wf_rowchain *ch, wf_activation act, double slope,
                                      const wf_real *u, const wf_real *hbar,
                                      const wf_real *gbar, const wf_real *udot,
                                      wf_real *out, int n) {
  wf_row_op *op = wf_rows_next(ch, WF_ROW_ACT_SECOND, n);
  op->act = act;
  op->slope = slope;
  op->a = u;
  op->a2 = hbar;
  op->a3 = gbar;
  op->a4 = udot;
  op->out = out;
}

/* out [m x n] += bias [n] */
static inline void wf_rows_add_bias(wf_rowchain *ch, wf_real *out, const wf_real *bias,
                                    int n) {
  wf_row_op *op = wf_rows_next(ch, WF_ROW_ADD_BIAS, n);
  op->b = bias;
  op->out = out;
}

/* out [m x n] = a */
static inline void wf_rows_copy(wf_rowchain *ch, wf_real *out, const wf_real *a, int n) {
  wf_row_op *op = wf_rows_next(ch, WF_ROW_COPY, n);
  op->a = a;
  op->out = out;
}

/* out [m x n] = value */
static inline void wf_rows_fill(wf_rowchain *ch, wf_real *out, wf_real value, int n) {
  wf_row_op *op = wf_rows_next(ch, WF_ROW_FILL, n);
  op->alpha = value;
  op->out = out;
}

/* out [m x n] += alpha a */
static inline void wf_rows_axpy(wf_rowchain *ch, wf_real *out, wf_real alpha,
                                const wf_real *a, int n) {
  wf_row_op *op = wf_rows_next(ch, WF_ROW_AXPY, n);
  op->alpha = alpha;
  op->a = a;
  op->out = out;
}

/* out [m x n] = s [m] (one value per row) times x [m x n] */
static inline void wf_rows_scale(wf_rowchain *ch, wf_real *out, const wf_real *s,
                                 const wf_real *x, int n) {
  wf_row_op *op = wf_rows_next(ch, WF_ROW_SCALE, n);
  op->a = x;
  op->a2 = s;
  op->out = out;
}

/* c [n x k] += a [m x n]^T b [m x k]; col [n] (NULL: none) += column sums of a.
 * A full list runs after the chain ch has made its operands. */
static inline void wf_grads_add(wf_gradlist *gl, wf_rowchain *ch, int m, int n, int k,
                                const wf_real *a, const wf_real *b, wf_real *c,
                                wf_real *col) {
  if (gl->n == WF_GRADLIST_MAX) {
    wf_rows_flush(ch);
    ch->be->grad_products(ch->ctx, gl->e, gl->n);
    gl->n = 0;
  }
  gl->e[gl->n++] = (wf_grad_product){m, n, k, a, b, c, col};
}

/* the listed products (after the chain that made their operands) */
static inline void wf_grads_run(wf_gradlist *gl, const wf_backend *be, wf_ctx *ctx) {
  if (gl->n > 0) be->grad_products(ctx, gl->e, gl->n);
  gl->n = 0;
}

#endif
