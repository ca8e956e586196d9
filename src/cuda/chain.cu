/* chain.cu — the fused passes of the table (backend.h, API 8) on the GPU:
 * a row chain and a list of weight-gradient products run as their ops,
 * one after the other on the context's stream. Kernels already span every
 * row, so fusing rows saves a GPU nothing; a recorded step (a CUDA graph)
 * removes the launch costs instead.
 */
#include "cuda_ops.h"

/* one step of a chain over m rows, as the op of the same name */
static void run_step(wf_ctx *ctx, int m, const wf_row_op *op) {
  size_t len = (size_t)m * (size_t)op->n;
  switch (op->kind) {
  case WF_ROW_PRODUCT:
    wf_cu_gemm(ctx, 0, op->trans_b, m, op->n, op->k, op->alpha, op->a, op->k, op->b,
               op->trans_b ? op->k : op->n, op->beta, op->out, op->n,
               op->ep.kind == WF_EP_NONE ? NULL : &op->ep);
    break;
  case WF_ROW_ACT_FORWARD:
    wf_cu_act_forward(ctx, op->act, op->slope, op->a, op->out, len);
    break;
  case WF_ROW_ACT_BACKWARD:
    wf_cu_act_backward(ctx, op->act, op->slope, op->a, op->a2, op->out, len);
    break;
  case WF_ROW_ACT_SECOND:
    wf_cu_act_second(ctx, op->act, op->slope, op->a, op->a2, op->a3, op->a4, op->out,
                     len);
    break;
  case WF_ROW_ADD_BIAS:
    wf_cu_add_bias(ctx, op->out, op->b, m, op->n);
    break;
  case WF_ROW_COPY:
    wf_cu_copy(ctx, op->out, op->a, len);
    break;
  case WF_ROW_FILL:
    wf_cu_fill(ctx, op->out, len, op->alpha);
    break;
  case WF_ROW_AXPY:
    wf_cu_axpy(ctx, len, op->alpha, op->a, op->out);
    break;
  case WF_ROW_SCALE:
    wf_cu_row_scale(ctx, op->a, op->a2, m, op->n, op->out);
    break;
  default:
    break;
  }
}

void wf_cu_row_chain(wf_ctx *ctx, int m, const wf_row_op *ops, int n) {
  if (m <= 0) return;
  for (int s = 0; s < n; s++)
    if (ops[s].n > 0) run_step(ctx, m, &ops[s]);
}

void wf_cu_grad_products(wf_ctx *ctx, const wf_grad_product *list, int n) {
  for (int e = 0; e < n; e++) {
    const wf_grad_product *g = &list[e];
    if (g->n <= 0) continue;
    wf_cu_gemm(ctx, 1, 0, g->n, g->k, g->m, 1, g->a, g->n, g->b, g->k, 1, g->c, g->k,
               NULL);
    if (g->col != NULL) wf_cu_col_sum(ctx, g->a, g->m, g->n, g->col);
  }
}
