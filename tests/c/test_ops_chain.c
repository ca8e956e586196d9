/* test_ops_chain.c — the fused passes (cpu/chain.c): a row chain with every
 * kind of step gives the bits of its ops run one after the other through
 * the table, and a list of weight-gradient products those of gemm and
 * col_sum, at 1, 2 and 3 threads, on batches from one row (thin products)
 * to many (packed products cut among threads), with steps reading what
 * earlier steps wrote and entries adding into the same gradient. Built in
 * double and float (and avx2_*); ends with "ops chain <precision>: N
 * passed, N failed". */
#include "ops_test_util.h"

/* ---- row chains ---------------------------------------------------------- */
/* a step through its own op of the table, over all m rows */
static void run_op(int m, const wf_row_op *op) {
  const wf_backend *be = D.be;
  size_t len = (size_t)m * op->n;
  switch (op->kind) {
  case WF_ROW_PRODUCT:
    be->gemm(D.ctx, 0, op->trans_b, m, op->n, op->k, op->alpha, op->a, op->k, op->b,
             op->trans_b ? op->k : op->n, op->beta, op->out, op->n,
             op->ep.kind == WF_EP_NONE ? NULL : &op->ep);
    break;
  case WF_ROW_ACT_FORWARD:
    be->act_forward(D.ctx, op->act, op->slope, op->a, op->out, len);
    break;
  case WF_ROW_ACT_BACKWARD:
    be->act_backward(D.ctx, op->act, op->slope, op->a, op->a2, op->out, len);
    break;
  case WF_ROW_ACT_SECOND:
    be->act_second(D.ctx, op->act, op->slope, op->a, op->a2, op->a3, op->a4, op->out, len);
    break;
  case WF_ROW_ADD_BIAS:
    be->add_bias(D.ctx, op->out, op->b, m, op->n);
    break;
  case WF_ROW_COPY:
    be->copy(D.ctx, op->out, op->a, len);
    break;
  case WF_ROW_FILL:
    be->fill(D.ctx, op->out, len, op->alpha);
    break;
  case WF_ROW_AXPY:
    be->axpy(D.ctx, len, op->alpha, op->a, op->out);
    break;
  case WF_ROW_SCALE:
    be->row_scale(D.ctx, op->a, op->a2, m, op->n, op->out);
    break;
  default:
    break;
  }
}

/* the sample pass of ops_util.h, over batches from one row (thin
 * products) to many (packed products cut among threads) */
static void row_chain_gives_the_bits_of_its_ops(void) {
  const int ms[] = {1, 5, 7, 13, 64, 301, 1000};
  for (size_t c = 0; c < sizeof(ms) / sizeof(ms[0]); c++) {
    int m = ms[c];
    double *host[OU_PASS_BUFS];
    wf_real *buf[OU_PASS_BUFS];
    wf_row_op ops[16];
    ou_pass_host(&D, m, host);
    /* the reference: the ops one by one, on one thread */
    threads(1);
    ou_pass_up(&D, m, host, buf);
    int n = ou_pass_chain(buf, ops);
    for (int s = 0; s < n; s++) run_op(m, &ops[s]);
    size_t len;
    double *want = ou_pass_down(&D, m, buf, &len);
    for (int t = 1; t <= 3; t++) {
      threads(t);
      ou_pass_up(&D, m, host, buf);
      n = ou_pass_chain(buf, ops);
      D.be->row_chain(D.ctx, m, ops, n);
      double *have = ou_pass_down(&D, m, buf, &len);
      CHECK(same(want, have, len),
            "row_chain over %d rows at %d threads: not the bits of its ops", m, t);
    }
    threads(1);
    ou_reset(&D);
  }
}

/* ---- weight-gradient products ---------------------------------------------- */
static void grad_products_give_the_bits_of_gemm_and_col_sum(void) {
  /* (m, n, k) of each entry; entries 0 and 1 add into the same c and col,
   * 3 has one column (a bias by a product), 4 one output */
  const int shapes[][3] = {{700, 37, 23}, {301, 37, 23}, {64, 9, 3}, {700, 37, 1},
                           {700, 1, 37}, {5, 12, 7}};
  const int same_as[] = {-1, 0, -1, -1, -1, -1};
  const int with_col[] = {1, 1, 0, 0, 1, 1};
  enum { E = 6 };
  double *ha[E], *hb[E], *hc[E], *hcol[E];
  for (int e = 0; e < E; e++) {
    size_t m = shapes[e][0], n = shapes[e][1], k = shapes[e][2];
    ha[e] = ou_rnorm(&D, m * n, 1);
    hb[e] = ou_rnorm(&D, m * k, 1);
    hc[e] = ou_rnorm(&D, n * k, 1);
    hcol[e] = ou_rnorm(&D, n, 1);
  }
  double *want[E], *want_col[E];
  for (int run = 0; run <= 3; run++) { /* 0: gemm and col_sum at 1 thread */
    threads(run == 0 ? 1 : run);
    wf_real *c[E], *col[E];
    wf_grad_product list[E];
    for (int e = 0; e < E; e++) {
      int m = shapes[e][0], n = shapes[e][1], k = shapes[e][2], o = same_as[e];
      c[e] = o >= 0 ? c[o] : ou_up(&D, hc[e], (size_t)n * k);
      col[e] = o >= 0 ? col[o] : ou_up(&D, hcol[e], (size_t)n);
      list[e] = (wf_grad_product){m, n, k, ou_up(&D, ha[e], (size_t)m * n),
                                  ou_up(&D, hb[e], (size_t)m * k), c[e],
                                  with_col[e] ? col[e] : NULL};
    }
    if (run == 0) {
      for (int e = 0; e < E; e++) {
        const wf_grad_product *g = &list[e];
        D.be->gemm(D.ctx, 1, 0, g->n, g->k, g->m, 1, g->a, g->n, g->b, g->k, 1, g->c, g->k,
                   NULL);
        if (g->col != NULL) D.be->col_sum(D.ctx, g->a, g->m, g->n, g->col);
      }
    } else {
      D.be->grad_products(D.ctx, list, E);
    }
    for (int e = 0; e < E; e++) {
      size_t n = shapes[e][1], k = shapes[e][2];
      double *gc = ou_down(&D, c[e], n * k), *gcol = ou_down(&D, col[e], n);
      if (run == 0) {
        want[e] = gc;
        want_col[e] = gcol;
        continue;
      }
      CHECK(same(want[e], gc, n * k) && same(want_col[e], gcol, n),
            "grad_products entry %d at %d threads: not the bits of gemm and col_sum", e,
            run);
    }
  }
  threads(1);
  ou_reset(&D);
}

int main(void) {
  ops_open();
  row_chain_gives_the_bits_of_its_ops();
  grad_products_give_the_bits_of_gemm_and_col_sum();
  return ops_finish("chain");
}
