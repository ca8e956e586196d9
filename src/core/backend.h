/* backend.h — the one table of device operations the engine is written in
 * (version 8).
 *
 * The CPU backend (src/cpu) and the CUDA backend (src/cuda, its own shared
 * object) fill this table with the same signatures; the core only ever
 * calls through it. Rules every op follows:
 *  - What changes from one training step to the next (a random stream's
 *    position, an optimiser's step count) lives in device slots that the
 *    ops read and advance themselves, so a recorded step (a CUDA graph) can
 *    be replayed and draws fresh numbers each time.
 *
 *  - The backend's context comes first (wf_ctx: on the GPU a stream, the
 *    cuBLAS handle and a caching allocator; on the CPU the thread count and
 *    the GEMM's packing buffers).
 *  - Pointers are device pointers of the backend; sizes are element counts;
 *    matrices are row-major, one sample per row.
 *  - Ops are asynchronous on a GPU. No op returns a host value: a reduction
 *    adds into a device-side scalar slot (a double in device memory), and
 *    the host reads the slots once per phase with read_scalars. That is what
 *    lets a GPU phase run without a host round trip.
 *  - Ops do not fail one by one; allocation returns NULL, and errors of
 *    asynchronous work are reported by last_error / synchronize.
 *
 * A backend is looked up through its table and checked with
 * wf_backend_check (API version and sizeof(wf_real) must match the core's).
 */
#ifndef WF_BACKEND_H
#define WF_BACKEND_H

#include "wf.h"

#ifdef __cplusplus
extern "C" {
#endif

#define WF_BACKEND_API 8

/* A backend's context (opaque to the core). */
typedef struct wf_ctx wf_ctx;

/* What a matrix product may fold into its store, once C is complete:
 *   WF_EP_BIAS_ACT:    C = act(C + bias[col])
 *   WF_EP_TIMES_DERIV: C = C * act'(u), u with C's shape and leading dim
 * act is identity, relu or leaky relu (slope > 0): the activations whose
 * derivative is read off their output as well as their input. */
typedef enum { WF_EP_NONE = 0, WF_EP_BIAS_ACT, WF_EP_TIMES_DERIV } wf_ep_kind;
typedef struct {
  wf_ep_kind kind;
  wf_activation act;
  wf_real slope;
  const wf_real *bias; /* [n], BIAS_ACT */
  const wf_real *u;    /* [m x n], TIMES_DERIV */
} wf_epilogue;

/* Elementwise losses on network outputs y [n values] against targets t
 * (t == NULL: every t_k is the constant `target`). With s = scale:
 *   LINEAR      L = sum_k y_k t_k            dL/dy_k = t_k
 *   MSE         L = sum_k (y_k - t_k)^2      dL/dy_k = 2 (y_k - t_k)
 *   L1          L = sum_k |y_k - t_k|        dL/dy_k = sign(y_k - t_k)
 *   BCE_LOGITS  L = sum_k softplus(y_k) - t_k y_k   dL/dy_k = sigmoid(y_k) - t_k
 *   SQ_HINGE    L = sum_k max(0, y_k - t_k)^2       dL/dy_k = 2 max(0, y_k - t_k)
 *   EXP         L = sum_k exp(y_k - t_k)            dL/dy_k = exp(y_k - t_k)
 *               (entropic penalties; the residual in wf_real, exp in double)
 * The op adds s * L to *slot (if slot != NULL) and writes s * dL/dy to dy
 * (adds it with accumulate; nothing if dy == NULL). Values are summed in
 * double. Gradients: MSE, L1 and SQ_HINGE as (wf_real)(s * c) * r in
 * wf_real, c the kind's constant factor (1 or 2) and r the residual (or its
 * sign), so a scale of 1/m gives exactly the (wf_real)(2.0 / m) * (y - t)
 * of a hand-written MSE; LINEAR as (wf_real)(s * t_k) and BCE_LOGITS as
 * (wf_real)(s * (sigmoid(y_k) - t_k)) and EXP as (wf_real)(s * exp(r)),
 * computed in double. */
typedef enum {
  WF_LOSS_LINEAR = 0,
  WF_LOSS_MSE,
  WF_LOSS_L1,
  WF_LOSS_BCE_LOGITS,
  WF_LOSS_SQ_HINGE,
  WF_LOSS_EXP,
  WF_LOSS_COUNT
} wf_loss_kind;

typedef struct {
  wf_loss_kind kind;
  double scale;   /* multiplies value and gradient (e.g. 1/m for a mean) */
  double target;  /* t_k when t == NULL */
  int accumulate; /* dy += instead of dy = */
} wf_loss_spec;

/* Functions of the row norms r_i = |g_i| of g [m x d]:
 *   NORM     phi(r) = r
 *   GP       phi(r) = (r - 1)^2
 *   LP       phi(r) = max(0, r - 1)^2
 *   HALF_SQ  phi(r) = r^2 / 2
 * row_norm_loss adds scale * sum_i phi(r_i) to *slot and sum_i r_i / m to
 * *norm_slot (each if not NULL) and writes the direction
 * u_i = scale * phi'(r_i) g_i / r_i (0 where r_i = 0) if u != NULL, the
 * coefficient computed in double as (2 * scale) * (r - 1) / r for GP / LP,
 * scale / r for NORM and scale for HALF_SQ, then u_i = (wf_real)(coef * g_i). */
typedef enum {
  WF_ROWNORM_NORM = 0,
  WF_ROWNORM_GP,
  WF_ROWNORM_LP,
  WF_ROWNORM_HALF_SQ,
  WF_ROWNORM_COUNT
} wf_rownorm_kind;

/* Graphs, optional (all four NULL on a backend without them): between
 * graph_begin and graph_end the context records the ops it is given
 * instead of running them; graph_launch runs the record again, reading the
 * device slots (stream positions, step counts, buffers) as they are then.
 * Nothing may allocate device memory, copy to or from the host, or read
 * slots back while recording. */
typedef struct wf_graph wf_graph;

/* Transport costs of the semi-discrete assignment (ot_assign):
 *   SQ  c(a, y) = |a - y|^2 / 2
 *   L1  c(a, y) = sum_k |a_k - y_k| */
typedef enum { WF_COST_SQ = 0, WF_COST_L1, WF_COST_COUNT } wf_cost_kind;
/* The geometry of a 2-D convolution over a batch of channels-last images
 * (API 5). Inside the engine an image batch of m images with c channels
 * and h x w pixels is the matrix [(m h w) x c]: row (b h + y) w + x holds
 * pixel (y, x) of image b. A kh x kw kernel moved by `stride` over the
 * image padded by `pad` zeros on every side gives ho x wo output
 * positions, ho = (h + 2 pad - kh) / stride + 1 (wo likewise). */
typedef struct {
  int m, c, h, w;       /* batch, channels, input rows and columns */
  int kh, kw;           /* kernel rows and columns */
  int stride, pad;
  int ho, wo;           /* output rows and columns */
} wf_conv_geom;

/* A chain of row-wise ops over the same m rows (row_chain, API 8). A "row"
 * operand is a matrix of m rows stored one after the other, its leading
 * dimension its width; a "shared" operand (weights, a bias) is read by
 * every row and written by no step. Each kind is the table op of the same
 * name restricted to rows, with that op's arithmetic:
 *   PRODUCT       out[m x n] = alpha a[m x k] op(b) + beta out, then ep
 *                 (gemm, trans_a 0; op(b) = b^T, b shared [n x k], when
 *                 trans_b, else b shared [k x n]; ep's bias shared, its u
 *                 a row operand [m x n]; beta 0 never reads out)
 *   ACT_FORWARD   out[m x n] = act(a)                          (act_forward)
 *   ACT_BACKWARD  out[m x n] = a2 * act'(a)   (act_backward; out may be a2)
 *   ACT_SECOND    out[m x n] = a2 act'(a) + a3 a4 act''(a) (act_second: a2
 *                 the primal adjoint or NULL, a3 gbar, a4 udot)
 *   ADD_BIAS      out[m x n] += b[n]                            (add_bias)
 *   COPY          out[m x n] = a                                    (copy)
 *   FILL          out[m x n] = alpha                                (fill)
 *   AXPY          out[m x n] += alpha a                             (axpy)
 *   SCALE         out[m x n] = a2[m] * a, a2 one value per row (row_scale)
 * Row i of every output depends only on row i of the row operands, so a
 * backend may run the whole chain on one block of rows after another (the
 * CPU: each thread its block, one fork-join for the chain). Results are
 * those of the steps run one after the other over all m rows: a step may
 * read what an earlier one wrote, and operands may alias as the step's op
 * allows. */
typedef enum {
  WF_ROW_PRODUCT = 0,
  WF_ROW_ACT_FORWARD,
  WF_ROW_ACT_BACKWARD,
  WF_ROW_ACT_SECOND,
  WF_ROW_ADD_BIAS,
  WF_ROW_COPY,
  WF_ROW_FILL,
  WF_ROW_AXPY,
  WF_ROW_SCALE,
  WF_ROW_KIND_COUNT
} wf_row_kind;

typedef struct {
  wf_row_kind kind;
  int n;               /* values per row of out */
  int k;               /* PRODUCT: values per row of a */
  int trans_b;         /* PRODUCT */
  wf_real alpha, beta; /* PRODUCT (alpha, beta); FILL (alpha); AXPY (alpha) */
  wf_activation act;   /* ACT_* */
  double slope;        /* ACT_*: leaky relu's slope */
  const wf_real *a, *a2, *a3, *a4; /* row operands (see the kinds) */
  const wf_real *b;    /* shared: PRODUCT's matrix, ADD_BIAS's bias */
  wf_real *out;        /* row operand */
  wf_epilogue ep;      /* PRODUCT (kind WF_EP_NONE: none) */
} wf_row_op;

/* Weight-gradient products (grad_products, API 8): for each entry, in
 * list order,
 *   c[n x k] += a[m x n]^T b[m x k]   (gemm with trans_a, alpha 1, beta 1)
 *   col[n]   += column sums of a      (col_sum; col may be NULL)
 * with gemm's and col_sum's arithmetic. Entries may add into the same c or
 * col (in list order); no entry reads what another writes. */
typedef struct {
  int m, n, k;
  const wf_real *a; /* [m x n] */
  const wf_real *b; /* [m x k] */
  wf_real *c;       /* [n x k] */
  wf_real *col;     /* [n] or NULL */
} wf_grad_product;

typedef struct {
  wf_status (*begin)(wf_ctx *ctx);
  /* stops recording; *out the record (NULL, with the error, on failure) */
  wf_status (*end)(wf_ctx *ctx, wf_graph **out);
  wf_status (*launch)(wf_ctx *ctx, wf_graph *g);
  void (*free)(wf_ctx *ctx, wf_graph *g);
} wf_graph_ops;

struct wf_backend {
  int api_version;  /* WF_BACKEND_API */
  size_t real_size; /* sizeof(wf_real) the backend was compiled with */
  const char *name;

  /* ---- context ---------------------------------------------------------- */
  wf_status (*ctx_create)(wf_ctx **out, char *msg /* [WF_MSG_LEN] */);
  void (*ctx_free)(wf_ctx *ctx);
  /* Backend-only knobs by name ("threads" on the CPU, "tf32" on CUDA):
   * value >= 0 sets it (the CPU's threads: at least 1), value < 0 only
   * reads it; returns the previous value, or -1 if unknown. */
  int (*knob)(wf_ctx *ctx, const char *name, int value);
  /* Wait for all queued work; WF_OK or the first asynchronous error, with
   * its text in msg. */
  wf_status (*synchronize)(wf_ctx *ctx, char *msg);
  /* The first asynchronous error seen so far, without waiting (WF_OK if
   * none); msg gets its text. */
  wf_status (*last_error)(wf_ctx *ctx, char *msg);

  /* ---- memory ----------------------------------------------------------- */
  void *(*alloc)(wf_ctx *ctx, size_t bytes); /* NULL on failure */
  void (*release)(wf_ctx *ctx, void *p);     /* NULL is fine */
  /* host double <-> device wf_real; these wait for the copy */
  wf_status (*upload)(wf_ctx *ctx, wf_real *dst, const double *src, size_t n);
  wf_status (*download)(wf_ctx *ctx, double *dst, const wf_real *src, size_t n);
  wf_status (*upload_int)(wf_ctx *ctx, int *dst, const int *src, size_t n);
  wf_status (*download_int)(wf_ctx *ctx, int *dst, const int *src, size_t n);
  void (*copy)(wf_ctx *ctx, wf_real *dst, const wf_real *src, size_t n);
  void (*fill)(wf_ctx *ctx, wf_real *x, size_t n, wf_real value);
  /* scalar slots: device doubles */
  void (*zero_scalars)(wf_ctx *ctx, double *slots, int n);
  /* slots[0 .. n-1] = host[0 .. n-1] (waits for the copy) */
  wf_status (*write_scalars)(wf_ctx *ctx, double *slots, const double *host,
                             int n);
  /* waits for queued work, then copies n slots to the host */
  wf_status (*read_scalars)(wf_ctx *ctx, double *host, const double *slots,
                            int n);

  /* ---- linear algebra --------------------------------------------------- */
  /* C[m x n] = alpha * op(A) op(B) + beta * C, op(X) = X or X^T (row-major:
   * op(A) is m x k, op(B) is k x n), then the epilogue ep (NULL: none).
   * beta == 0 never reads C. */
  void (*gemm)(wf_ctx *ctx, int trans_a, int trans_b, int m, int n, int k,
               wf_real alpha, const wf_real *a, int lda, const wf_real *b,
               int ldb, wf_real beta, wf_real *c, int ldc,
               const wf_epilogue *ep);
  /* z[m x n] += bias[n] on every row */
  void (*add_bias)(wf_ctx *ctx, wf_real *z, const wf_real *bias, int m, int n);
  /* out[n] += sum over rows of a[m x n] */
  void (*col_sum)(wf_ctx *ctx, const wf_real *a, int m, int n, wf_real *out);
  /* y[n] += alpha * x[n] */
  void (*axpy)(wf_ctx *ctx, size_t n, wf_real alpha, const wf_real *x,
               wf_real *y);
  /* x[n] *= alpha */
  void (*scal)(wf_ctx *ctx, size_t n, wf_real alpha, wf_real *x);

  /* ---- activations, elementwise over n values (u: pre-activation) ------- */
  void (*act_forward)(wf_ctx *ctx, wf_activation act, double slope,
                      const wf_real *u, wf_real *h, size_t n);
  /* out = g * act'(u) (out may alias g) */
  void (*act_backward)(wf_ctx *ctx, wf_activation act, double slope,
                       const wf_real *u, const wf_real *g, wf_real *out,
                       size_t n);
  /* out = hbar * act'(u) + gbar * udot * act''(u); hbar may be NULL (zero);
   * for identity / relu / leaky relu gbar and udot are not read */
  void (*act_second)(wf_ctx *ctx, wf_activation act, double slope,
                     const wf_real *u, const wf_real *hbar,
                     const wf_real *gbar, const wf_real *udot, wf_real *out,
                     size_t n);

  /* ---- normalisation ---------------------------------------------------- */
  /* LayerNorm over the n features of each of m rows (eps 1e-5 inside). */
  void (*ln_forward)(wf_ctx *ctx, const wf_real *a, int m, int n,
                     const wf_real *gamma, const wf_real *beta, wf_real *out,
                     wf_real *xhat, wf_real *rstd /* [m] */);
  /* abar = d/da of sum(nbar * out); dgamma, dbeta accumulate (may be NULL) */
  void (*ln_backward)(wf_ctx *ctx, const wf_real *nbar, const wf_real *xhat,
                      const wf_real *rstd, const wf_real *gamma, int m, int n,
                      wf_real *abar, wf_real *dgamma, wf_real *dbeta);
  /* tangent: xhat_dot = J adot; out_dot = gamma * xhat_dot */
  void (*ln_jvp)(wf_ctx *ctx, const wf_real *adot, const wf_real *xhat,
                 const wf_real *rstd, const wf_real *gamma, int m, int n,
                 wf_real *xhat_dot, wf_real *out_dot);
  /* reverse of (out, out_dot) w.r.t. a and gamma, given the primal adjoint
   * nbar (NULL: zero) and the tangent adjoint ndbar; writes abar,
   * accumulates dgamma (and dbeta when nbar != NULL). */
  void (*ln_double)(wf_ctx *ctx, const wf_real *nbar, const wf_real *ndbar,
                    const wf_real *adot, const wf_real *xhat,
                    const wf_real *xhat_dot, const wf_real *rstd,
                    const wf_real *gamma, int m, int n, wf_real *abar,
                    wf_real *dgamma, wf_real *dbeta);
  /* BatchNorm over the m rows of each of n features. train: batch stats
   * (biased variance; running stats updated with momentum, unbiased
   * variance); else the running stats. rstd [n] is kept for backward. */
  void (*bn_forward)(wf_ctx *ctx, const wf_real *a, int m, int n,
                     const wf_real *gamma, const wf_real *beta,
                     wf_real *run_mean, wf_real *run_var, int train,
                     double momentum, wf_real *out, wf_real *xhat,
                     wf_real *rstd);
  void (*bn_backward)(wf_ctx *ctx, const wf_real *nbar, const wf_real *xhat,
                      const wf_real *rstd, const wf_real *gamma, int m, int n,
                      int train, wf_real *abar, wf_real *dgamma,
                      wf_real *dbeta);

  /* ---- optimisers over n parameters ----------------------------------------
   * step: a device slot holding the steps taken so far; the op takes step
   * t = *step + 1 (Adam's bias corrections 1 - beta^t computed in double
   * from it; SGD's momentum buffer starts at t = 1) and leaves *step = t. */
  void (*adam)(wf_ctx *ctx, wf_real *p, const wf_real *g, wf_real *m1,
               wf_real *m2, size_t n, const wf_opt_spec *opt, double *step);
  void (*rmsprop)(wf_ctx *ctx, wf_real *p, const wf_real *g, wf_real *m2,
                  size_t n, const wf_opt_spec *opt, double *step);
  void (*sgd)(wf_ctx *ctx, wf_real *p, const wf_real *g, wf_real *m1,
              size_t n, const wf_opt_spec *opt, double *step);
  /* p = min(c, max(-c, p)) */
  void (*clamp)(wf_ctx *ctx, wf_real *p, size_t n, wf_real c);

  /* ---- randomness: Philox4x32-10 (philox.h) ---------------------------------
   * counter: a device slot holding the stream's next block (a whole number,
   * exact below 2^53); a draw of n values uses blocks c .. c + ceil(n/4) - 1
   * under key, value i from block c + i / 4, and leaves *counter advanced
   * by ceil(n / 4). */
  /* 24 random bits centred in their bucket, in (0, 1) in double; rounded
   * to float the top value is 1.0f, so float draws lie in (0, 1] */
  void (*uniform)(wf_ctx *ctx, wf_real *out, size_t n, const uint32_t key[2],
                  double *counter);
  /* N(0, 1) by Box-Muller on the pairs of each block, in double */
  void (*normal)(wf_ctx *ctx, wf_real *out, size_t n, const uint32_t key[2],
                 double *counter);
  /* out[i] = min(bound - 1, (int)(u_i * bound)), u_i the uniform above
   * rounded to wf_real and the product taken in wf_real (saturating) */
  void (*random_index)(wf_ctx *ctx, int *out, size_t n, int bound,
                       const uint32_t key[2], double *counter);

  /* ---- losses and row operations ---------------------------------------- */
  void (*loss)(wf_ctx *ctx, const wf_loss_spec *ls, const wf_real *y,
               const wf_real *t, size_t n, wf_real *dy, double *slot);
  void (*row_norm_loss)(wf_ctx *ctx, wf_rownorm_kind kind, const wf_real *g,
                        int m, int d, double scale, wf_real *u, double *slot,
                        double *norm_slot);
  /* out[m] = |x_i|^2 */
  void (*row_sq_norm)(wf_ctx *ctx, const wf_real *x, int m, int d,
                      wf_real *out);
  /* out[m] = |a_i - b_i|^2 */
  void (*row_sq_dist)(wf_ctx *ctx, const wf_real *a, const wf_real *b, int m,
                      int d, wf_real *out);
  /* out[i,] = s[i] * x[i,] (out may alias x) */
  void (*row_scale)(wf_ctx *ctx, const wf_real *x, const wf_real *s, int m,
                    int d, wf_real *out);
  /* out[i,] = t[i] * a[i,] + (1 - t[i]) * b[i,] */
  void (*row_lerp)(wf_ctx *ctx, const wf_real *a, const wf_real *b,
                   const wf_real *t, int m, int d, wf_real *out);
  /* out[i,] = src[idx[i],], src rows of width d; idx in range */
  void (*gather_rows)(wf_ctx *ctx, const wf_real *src, int d, const int *idx,
                      int m, wf_real *out);
  /* idx[i] = argmin_j a[i, j] (the smallest j among ties), val[i] its value
   * (val may be NULL); a is [m x n] */
  void (*row_argmin)(wf_ctx *ctx, const wf_real *a, int m, int n, int *idx,
                     wf_real *val);
  /* Softmax cross-entropy over the rows of logits y [m x k] against class
   * labels [m] (device ints, 0 .. k - 1) (API 6): with
   * lse_i = log sum_j exp(y_ij), adds scale * sum_i (lse_i - y_i,label_i)
   * to *slot (NULL: not) and writes dy [m x k] (NULL: not; not aliasing y)
   * = (wf_real)(scale * (exp(y_ij - lse_i) - [j == label_i])). Each row's
   * max, sum of exponentials, lse and gradient are taken in double, the
   * sum of exp(y_ij - max_i) in any order (backends agree to double
   * rounding). A label outside 0 .. k - 1 makes its row's value and
   * gradient NaN (never a read out of the row). m, k >= 1. */
  void (*softmax_xent)(wf_ctx *ctx, const wf_real *y, const int *labels, int m,
                       int k, double scale, wf_real *dy, double *slot);

  /* ---- semi-discrete transport (API 4) ---------------------------------- */
  /* The assignment of OTS's hot loop: for each row a_j of a [m x d],
   *   idx[j] = argmin_i c(a_j, y_i) - psi_i   over the n rows of y [n x d],
   * the smallest i among equal values, and val[j] (val may be NULL) that
   * minimum. psi [n] may be NULL (zero). For SQ the cost is evaluated as
   * |a_j|^2 / 2 + (yh_i - psi_i - a_j . y_i) with yh [n] = |y_i|^2 / 2
   * given by the caller (a matrix product with the offset and the running
   * minimum fused into it); for L1 yh is not read (may be NULL). The m x n
   * costs are never stored. The scores are wf_real sums whose rounding is
   * the backend's, so two backends agree on idx except where two
   * candidates are within rounding of each other; a score that is not a
   * number is never chosen (all such: idx 0). m, n, d >= 1. */
  void (*ot_assign)(wf_ctx *ctx, wf_cost_kind cost, const wf_real *a, int m,
                    const wf_real *y, int n, int d, const wf_real *yh,
                    const wf_real *psi, int *idx, wf_real *val);
  /* out[(idx[j] * bins) / n] += w for j < m (the product in 64 bits),
   * idx[j] in [0, n), 1 <= bins <= n: a histogram of indices in bins of
   * consecutive ones (bins == n: a count per index). Every addend is the
   * same w, so the sums do not depend on their order: backends agree to
   * the bit. */
  void (*index_count)(wf_ctx *ctx, const int *idx, int m, int n, int bins,
                      wf_real w, wf_real *out);
  /* A list read or written one block at a time by a recorded step:
   * dst[(*dst_pos) n + k] = src[(*src_pos) n + k] for k < n, then each
   * position slot (a device double holding a whole number; NULL: 0, not
   * advanced) is advanced by 1. */
  void (*copy_ints_at)(wf_ctx *ctx, int *dst, double *dst_pos, const int *src,
                       double *src_pos, size_t n);

  /* ---- convolutions lowered to matrix products (API 5) ------------------ */
  /* For each of m rows of a x b values: out[b x a] = in[a x b]^T (a row's
   * C x H x W values to channels-last H x W x C with a = C, b = H W, and
   * back with a = H W, b = C). out does not alias in. */
  void (*transpose_rows)(wf_ctx *ctx, const wf_real *in, int m, int a, int b,
                         wf_real *out);
  /* cols [(m ho wo) x (c kh kw)] from x [(m h w) x c] (geometry g): row
   * (b ho + oy) wo + ox, column (ci kh + i) kw + j holds
   * x[b, oy stride - pad + i, ox stride - pad + j, ci], 0 outside the image.
   * The column order is PyTorch's weight layout [out][c][kh][kw], so a
   * convolution is cols times the weight matrix transposed. */
  void (*im2col)(wf_ctx *ctx, const wf_conv_geom *g, const wf_real *x,
                 wf_real *cols);
  /* The adjoint of im2col: x [(m h w) x c] = for each pixel and channel,
   * the sum of the entries of cols that im2col reads from it (0 for a
   * pixel no kernel position reaches). Overwrites x. Each sum is taken in
   * one fixed order (kernel row i, then column j, ascending), so backends
   * agree to rounding of the same additions; no atomics. */
  void (*col2im)(wf_ctx *ctx, const wf_conv_geom *g, const wf_real *cols,
                 wf_real *x);

  /* ---- checks (API 7) --------------------------------------------------- */
  /* *slot += the number of values of x [n] that are not finite (NaN, +-Inf).
   * A count is a whole number below 2^53 added in any order, so backends
   * agree exactly. A net's finite check reads back a few counts, never the
   * values (snapshot.c). */
  void (*count_nonfinite)(wf_ctx *ctx, const wf_real *x, size_t n,
                          double *slot);
  /* ---- fused passes (API 8) ---------------------------------------------- */
  /* the n steps of a row chain (wf_row_op) over m rows, in order */
  void (*row_chain)(wf_ctx *ctx, int m, const wf_row_op *ops, int n);
  /* the n weight-gradient products of list (wf_grad_product), in order */
  void (*grad_products)(wf_ctx *ctx, const wf_grad_product *list, int n);

  /* ---- recording and replaying steps (NULL members: not supported) ------ */
  wf_graph_ops graph;
};

/* WF_OK if the table's API version and real size match this core's;
 * otherwise WF_ERR_DEVICE with a message in msg[WF_MSG_LEN]. Inline, so a
 * separately built backend checks against the headers it was built with. */
static inline wf_status wf_backend_check(const wf_backend *be, char *msg) {
  if (be == NULL) return wf_fail_msg(msg, WF_ERR_DEVICE, "no backend table");
  if (be->api_version != WF_BACKEND_API)
    return wf_fail_msg(msg, WF_ERR_DEVICE,
                       "backend '%s' implements table version %d, the core needs %d",
                       be->name ? be->name : "?", be->api_version, WF_BACKEND_API);
  if (be->real_size != sizeof(wf_real))
    return wf_fail_msg(msg, WF_ERR_DEVICE,
                       "backend '%s' computes in %zu-byte reals, the core in %zu",
                       be->name ? be->name : "?", be->real_size, sizeof(wf_real));
  return WF_OK;
}

#ifdef __cplusplus
}
#endif

#endif
