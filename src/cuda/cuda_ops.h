/* cuda_ops.h — the CUDA backend's implementations of the ops of backend.h
 * (same signatures and contracts; read them there), one group per file.
 * backend.cu puts them in the table. Hidden: not exported from the .so. */
#ifndef WF_CUDA_OPS_H
#define WF_CUDA_OPS_H

#include "cuda_util.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ctx.cu: context, knobs, errors, memory */
WF_CU_HIDDEN wf_status wf_cu_ctx_create(wf_ctx **out, char *msg);
WF_CU_HIDDEN void wf_cu_ctx_free(wf_ctx *ctx);
WF_CU_HIDDEN int wf_cu_knob(wf_ctx *ctx, const char *name, int value);
WF_CU_HIDDEN wf_status wf_cu_synchronize(wf_ctx *ctx, char *msg);
WF_CU_HIDDEN wf_status wf_cu_last_error(wf_ctx *ctx, char *msg);
WF_CU_HIDDEN void *wf_cu_alloc(wf_ctx *ctx, size_t bytes);
WF_CU_HIDDEN void wf_cu_release(wf_ctx *ctx, void *p);
/* give the pool's free blocks back to CUDA (memory.cu) */
WF_CU_HIDDEN void wf_cu_pool_trim(wf_ctx *ctx);
WF_CU_HIDDEN wf_status wf_cu_upload(wf_ctx *ctx, wf_real *dst, const double *src, size_t n);
WF_CU_HIDDEN wf_status wf_cu_download(wf_ctx *ctx, double *dst, const wf_real *src, size_t n);
WF_CU_HIDDEN wf_status wf_cu_upload_int(wf_ctx *ctx, int *dst, const int *src, size_t n);
WF_CU_HIDDEN wf_status wf_cu_download_int(wf_ctx *ctx, int *dst, const int *src, size_t n);
WF_CU_HIDDEN void wf_cu_copy(wf_ctx *ctx, wf_real *dst, const wf_real *src, size_t n);
WF_CU_HIDDEN void wf_cu_fill(wf_ctx *ctx, wf_real *x, size_t n, wf_real value);
WF_CU_HIDDEN void wf_cu_zero_scalars(wf_ctx *ctx, double *slots, int n);
WF_CU_HIDDEN wf_status wf_cu_write_scalars(wf_ctx *ctx, double *slots, const double *host,
                                           int n);
WF_CU_HIDDEN wf_status wf_cu_read_scalars(wf_ctx *ctx, double *host, const double *slots, int n);

/* graph.cu: recording steps into CUDA graphs and replaying them */
WF_CU_HIDDEN wf_status wf_cu_graph_begin(wf_ctx *ctx);
WF_CU_HIDDEN wf_status wf_cu_graph_end(wf_ctx *ctx, wf_graph **out);
WF_CU_HIDDEN wf_status wf_cu_graph_launch(wf_ctx *ctx, wf_graph *g);
WF_CU_HIDDEN void wf_cu_graph_free(wf_ctx *ctx, wf_graph *g);
/* ends a capture in progress and drops what it recorded (ctx_free) */
WF_CU_HIDDEN void wf_cu_graph_abandon(wf_ctx *ctx);

/* gemm.cu: cuBLAS product + epilogue, bias, column sums, axpy, scal */
WF_CU_HIDDEN void wf_cu_gemm(wf_ctx *ctx, int trans_a, int trans_b, int m, int n, int k,
                             wf_real alpha, const wf_real *a, int lda, const wf_real *b,
                             int ldb, wf_real beta, wf_real *c, int ldc,
                             const wf_epilogue *ep);
WF_CU_HIDDEN void wf_cu_add_bias(wf_ctx *ctx, wf_real *z, const wf_real *bias, int m, int n);
WF_CU_HIDDEN void wf_cu_col_sum(wf_ctx *ctx, const wf_real *a, int m, int n, wf_real *out);
WF_CU_HIDDEN void wf_cu_axpy(wf_ctx *ctx, size_t n, wf_real alpha, const wf_real *x, wf_real *y);
WF_CU_HIDDEN void wf_cu_scal(wf_ctx *ctx, size_t n, wf_real alpha, wf_real *x);

/* activation.cu */
WF_CU_HIDDEN void wf_cu_act_forward(wf_ctx *ctx, wf_activation act, double slope,
                                    const wf_real *u, wf_real *h, size_t n);
WF_CU_HIDDEN void wf_cu_act_backward(wf_ctx *ctx, wf_activation act, double slope,
                                     const wf_real *u, const wf_real *g, wf_real *out,
                                     size_t n);
WF_CU_HIDDEN void wf_cu_act_second(wf_ctx *ctx, wf_activation act, double slope,
                                   const wf_real *u, const wf_real *hbar,
                                   const wf_real *gbar, const wf_real *udot,
                                   wf_real *out, size_t n);

/* norm.cu */
WF_CU_HIDDEN void wf_cu_ln_forward(wf_ctx *ctx, const wf_real *a, int m, int n,
                                   const wf_real *gamma, const wf_real *beta,
                                   wf_real *out, wf_real *xhat, wf_real *rstd);
WF_CU_HIDDEN void wf_cu_ln_backward(wf_ctx *ctx, const wf_real *nbar, const wf_real *xhat,
                                    const wf_real *rstd, const wf_real *gamma, int m,
                                    int n, wf_real *abar, wf_real *dgamma,
                                    wf_real *dbeta);
WF_CU_HIDDEN void wf_cu_ln_jvp(wf_ctx *ctx, const wf_real *adot, const wf_real *xhat,
                               const wf_real *rstd, const wf_real *gamma, int m, int n,
                               wf_real *xhat_dot, wf_real *out_dot);
WF_CU_HIDDEN void wf_cu_ln_double(wf_ctx *ctx, const wf_real *nbar, const wf_real *ndbar,
                                  const wf_real *adot, const wf_real *xhat,
                                  const wf_real *xhat_dot, const wf_real *rstd,
                                  const wf_real *gamma, int m, int n, wf_real *abar,
                                  wf_real *dgamma, wf_real *dbeta);
WF_CU_HIDDEN void wf_cu_bn_forward(wf_ctx *ctx, const wf_real *a, int m, int n,
                                   const wf_real *gamma, const wf_real *beta,
                                   wf_real *run_mean, wf_real *run_var, int train,
                                   double momentum, wf_real *out, wf_real *xhat,
                                   wf_real *rstd);
WF_CU_HIDDEN void wf_cu_bn_backward(wf_ctx *ctx, const wf_real *nbar, const wf_real *xhat,
                                    const wf_real *rstd, const wf_real *gamma, int m,
                                    int n, int train, wf_real *abar, wf_real *dgamma,
                                    wf_real *dbeta);

/* optim.cu */
WF_CU_HIDDEN void wf_cu_adam(wf_ctx *ctx, wf_real *p, const wf_real *g, wf_real *m1,
                             wf_real *m2, size_t n, const wf_opt_spec *opt, double *step);
WF_CU_HIDDEN void wf_cu_rmsprop(wf_ctx *ctx, wf_real *p, const wf_real *g, wf_real *m2,
                                size_t n, const wf_opt_spec *opt, double *step);
WF_CU_HIDDEN void wf_cu_sgd(wf_ctx *ctx, wf_real *p, const wf_real *g, wf_real *m1,
                            size_t n, const wf_opt_spec *opt, double *step);
WF_CU_HIDDEN void wf_cu_clamp(wf_ctx *ctx, wf_real *p, size_t n, wf_real c);

/* random.cu */
WF_CU_HIDDEN void wf_cu_uniform(wf_ctx *ctx, wf_real *out, size_t n, const uint32_t key[2],
                                double *counter);
WF_CU_HIDDEN void wf_cu_normal(wf_ctx *ctx, wf_real *out, size_t n, const uint32_t key[2],
                               double *counter);
WF_CU_HIDDEN void wf_cu_random_index(wf_ctx *ctx, int *out, size_t n, int bound,
                                     const uint32_t key[2], double *counter);

/* loss.cu */
WF_CU_HIDDEN void wf_cu_loss(wf_ctx *ctx, const wf_loss_spec *ls, const wf_real *y,
                             const wf_real *t, size_t n, wf_real *dy, double *slot);
WF_CU_HIDDEN void wf_cu_row_norm_loss(wf_ctx *ctx, wf_rownorm_kind kind, const wf_real *g,
                                      int m, int d, double scale, wf_real *u,
                                      double *slot, double *norm_slot);
WF_CU_HIDDEN void wf_cu_softmax_xent(wf_ctx *ctx, const wf_real *y, const int *labels,
                                     int m, int k, double scale, wf_real *dy,
                                     double *slot);

/* rows.cu */
WF_CU_HIDDEN void wf_cu_row_sq_norm(wf_ctx *ctx, const wf_real *x, int m, int d,
                                    wf_real *out);
WF_CU_HIDDEN void wf_cu_row_sq_dist(wf_ctx *ctx, const wf_real *a, const wf_real *b, int m,
                                    int d, wf_real *out);
WF_CU_HIDDEN void wf_cu_row_scale(wf_ctx *ctx, const wf_real *x, const wf_real *s, int m,
                                  int d, wf_real *out);
WF_CU_HIDDEN void wf_cu_row_lerp(wf_ctx *ctx, const wf_real *a, const wf_real *b,
                                 const wf_real *t, int m, int d, wf_real *out);
WF_CU_HIDDEN void wf_cu_gather_rows(wf_ctx *ctx, const wf_real *src, int d, const int *idx,
                                    int m, wf_real *out);
WF_CU_HIDDEN void wf_cu_row_argmin(wf_ctx *ctx, const wf_real *a, int m, int n, int *idx,
                                   wf_real *val);

/* ot_assign.cu: the semi-discrete assignment, histograms of indices, lists
 * at a position in a slot */
WF_CU_HIDDEN void wf_cu_ot_assign(wf_ctx *ctx, wf_cost_kind cost, const wf_real *a, int m,
                                  const wf_real *y, int n, int d, const wf_real *yh,
                                  const wf_real *psi, int *idx, wf_real *val);
WF_CU_HIDDEN void wf_cu_index_count(wf_ctx *ctx, const int *idx, int m, int n, int bins,
                                    wf_real w, wf_real *out);
WF_CU_HIDDEN void wf_cu_copy_ints_at(wf_ctx *ctx, int *dst, double *dst_pos, const int *src,
                                     double *src_pos, size_t n);

/* conv.cu: per-row transposes, im2col and col2im (convolutions as products) */
WF_CU_HIDDEN void wf_cu_transpose_rows(wf_ctx *ctx, const wf_real *in, int m, int a, int b,
                                       wf_real *out);
WF_CU_HIDDEN void wf_cu_im2col(wf_ctx *ctx, const wf_conv_geom *g, const wf_real *x,
                               wf_real *cols);
WF_CU_HIDDEN void wf_cu_col2im(wf_ctx *ctx, const wf_conv_geom *g, const wf_real *cols,
                               wf_real *x);

/* check.cu: the count of non-finite values */
WF_CU_HIDDEN void wf_cu_count_nonfinite(wf_ctx *ctx, const wf_real *x, size_t n, double *slot);
/* chain.cu: the fused passes as their ops, in order */
WF_CU_HIDDEN void wf_cu_row_chain(wf_ctx *ctx, int m, const wf_row_op *ops, int n);
WF_CU_HIDDEN void wf_cu_grad_products(wf_ctx *ctx, const wf_grad_product *list, int n);

#ifdef __cplusplus
}
#endif

#endif
