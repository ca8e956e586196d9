/* chain.c — the fused passes: a chain of row ops (row_chain), each thread
 * running every step on its own block of rows, and a list of weight-
 * gradient products (grad_products), each thread running its own rows of
 * every product: one fork-join where there was one per op.
 *
 * Bits: every step runs its own op's loop (gemm's slices, the activation
 * and level-1 loops) on a part of its rows, and each value those loops
 * write depends on its own row (columns, for a column sum) alone; the
 * parts are cut by gemm's rule, in whole strips of the micro-tile. So the
 * results are exactly those of the ops run one after the other, whatever
 * the thread count.
 */
#include <string.h>

#include "cpu.h"

/* ---- row chains ---------------------------------------------------------- */

/* a PRODUCT step as gemm's arguments over m rows */
static wf_cpu_product product_of(const wf_row_op *op, int m) {
  wf_cpu_product p = {0,        op->trans_b, m,        op->n,
                      op->k,    op->alpha,   op->a,    op->k,
                      op->b,    op->trans_b ? op->k : op->n,
                      op->beta, op->out,     op->n,
                      op->ep.kind == WF_EP_NONE ? NULL : &op->ep};
  return p;
}

/* rows [i0, i1) of one step of a chain over m rows, on thread t's buffers */
static void run_rows(wf_ctx *ctx, int t, int m, const wf_row_op *op, int i0,
                     int i1) {
  size_t lo = (size_t)i0 * op->n, len = (size_t)(i1 - i0) * op->n;
  switch (op->kind) {
  case WF_ROW_PRODUCT: {
    wf_cpu_product p = product_of(op, m);
    wf_cpu_gemm_slice(ctx, t, &p, wf_cpu_gemm_thin(&p), i0, i1);
    break;
  }
  case WF_ROW_ACT_FORWARD:
    wf_cpu_act_forward_range(op->act, op->slope, op->a + lo, op->out + lo, len);
    break;
  case WF_ROW_ACT_BACKWARD:
    wf_cpu_act_backward_range(op->act, op->slope, op->a + lo, op->a2 + lo,
                              op->out + lo, len);
    break;
  case WF_ROW_ACT_SECOND:
    wf_cpu_act_second_range(op->act, op->slope, op->a + lo,
                            op->a2 ? op->a2 + lo : NULL, op->a3 ? op->a3 + lo : NULL,
                            op->a4 ? op->a4 + lo : NULL, op->out + lo, len);
    break;
  case WF_ROW_ADD_BIAS:
    wf_cpu_add_bias_rows(op->out + lo, op->b, i1 - i0, op->n);
    break;
  case WF_ROW_COPY:
    if (op->out != op->a && len > 0)
      memmove(op->out + lo, op->a + lo, len * sizeof(wf_real));
    break;
  case WF_ROW_FILL:
    for (size_t i = 0; i < len; i++) op->out[lo + i] = op->alpha;
    break;
  case WF_ROW_AXPY:
    wf_cpu_axpy_range(len, op->alpha, op->a + lo, op->out + lo);
    break;
  case WF_ROW_SCALE:
    wf_cpu_scale_rows(op->a, op->a2, i0, i1, op->n, op->out);
    break;
  default:
    break;
  }
}

/* steps [0, n) over m rows: ops [m x width] */
void wf_cpu_row_chain(wf_ctx *ctx, int m, const wf_row_op *ops, int n) {
  if (m <= 0 || n <= 0) return;
  /* the chain's work decides its threads, as gemm's rule does for one
   * product: one fork-join now pays for the whole chain */
  double flops = 0;
  size_t touched = 0;
  for (int s = 0; s < n; s++) {
    if (ops[s].n <= 0) continue;
    if (ops[s].kind == WF_ROW_PRODUCT) {
      flops += 2.0 * m * ops[s].n * (ops[s].k > 0 ? ops[s].k : 0);
      touched += (size_t)m * (size_t)(ops[s].k > 0 ? ops[s].k : 0);
    }
    touched += (size_t)m * (size_t)ops[s].n;
  }
  int nt = wf_cpu_region_threads(ctx, flops, touched);
  if (!wf_cpu_gemm_buffers(ctx, nt)) { /* gemm's own fallback, op by op */
    for (int s = 0; s < n; s++) {
      const wf_row_op *op = &ops[s];
      if (op->n <= 0) continue;
      if (op->kind == WF_ROW_PRODUCT) {
        wf_cpu_product p = product_of(op, m);
        wf_cpu_gemm(ctx, 0, p.tb, m, p.n, p.k, p.alpha, p.a, p.lda, p.b, p.ldb, p.beta,
                    p.c, p.ldc, p.ep);
      } else {
        run_rows(ctx, 0, m, op, 0, m);
      }
    }
    return;
  }
  ctx->flops += flops;
  nt = wf_cpu_gemm_split(m, nt);
  wf_cpu_region_clock timing = wf_cpu_region_start(nt);
#ifdef _OPENMP
#pragma omp parallel for num_threads(nt) schedule(static, 1) if (nt > 1)
#endif
  for (int t = 0; t < nt; t++) {
    int i0, i1;
    wf_cpu_gemm_rows_of(m, t, nt, &i0, &i1);
    for (int s = 0; s < n && i0 < i1; s++)
      if (ops[s].n > 0) run_rows(ctx, t, m, &ops[s], i0, i1);
    wf_cpu_region_own(&timing, t);
  }
  wf_cpu_region_end(ctx, &timing);
}

/* ---- weight-gradient products -------------------------------------------- */

/* entry e as gemm's arguments: c [n x k] += a^T b over its m rows */
static wf_cpu_product grad_of(const wf_grad_product *e) {
  wf_cpu_product p = {1, 0, e->n, e->k, e->m, 1, e->a, e->n, e->b, e->k, 1, e->c, e->k,
                      NULL};
  return p;
}

/* The threads sharing an entry's rows of c and its columns of col: a
 * function of n alone, so entries adding into the same c (same n) cut it
 * the same way and each part sees the entries in list order. */
static int grad_threads(int n, int nt) { return wf_cpu_gemm_split(n, nt); }

void wf_cpu_grad_products(wf_ctx *ctx, const wf_grad_product *list, int n) {
  if (n <= 0) return;
  double flops = 0;
  size_t touched = 0;
  for (int e = 0; e < n; e++) {
    if (list[e].n <= 0 || list[e].k <= 0) continue;
    flops += 2.0 * list[e].m * list[e].n * list[e].k;
    touched += (size_t)list[e].m * (size_t)(list[e].n + list[e].k);
  }
  int nt = wf_cpu_region_threads(ctx, flops, touched);
  if (!wf_cpu_gemm_buffers(ctx, nt)) { /* gemm's own fallback, op by op */
    for (int e = 0; e < n; e++) {
      const wf_grad_product *g = &list[e];
      if (g->n <= 0) continue;
      wf_cpu_gemm(ctx, 1, 0, g->n, g->k, g->m, 1, g->a, g->n, g->b, g->k, 1, g->c, g->k,
                  NULL);
      if (g->col != NULL) wf_cpu_col_sum(ctx, g->a, g->m, g->n, g->col);
    }
    return;
  }
  ctx->flops += flops;
  wf_cpu_region_clock timing = wf_cpu_region_start(nt);
#ifdef _OPENMP
#pragma omp parallel for num_threads(nt) schedule(static, 1) if (nt > 1)
#endif
  for (int t = 0; t < nt; t++) {
    for (int e = 0; e < n; e++) {
      const wf_grad_product *g = &list[e];
      if (g->n <= 0) continue;
      int ne = grad_threads(g->n, nt);
      if (t >= ne) continue;
      if (g->k > 0) {
        wf_cpu_product p = grad_of(g);
        int i0, i1;
        wf_cpu_gemm_rows_of(g->n, t, ne, &i0, &i1);
        wf_cpu_gemm_slice(ctx, t, &p, wf_cpu_gemm_thin(&p), i0, i1);
      }
      if (g->col != NULL && g->m > 0)
        wf_cpu_col_sum_cols(g->a, g->m, g->n, (int)((long)g->n * t / ne),
                            (int)((long)g->n * (t + 1) / ne), g->col);
    }
    wf_cpu_region_own(&timing, t);
  }
  wf_cpu_region_end(ctx, &timing);
}
