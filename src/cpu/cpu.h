/* cpu.h — the CPU backend's context and functions, shared by its files.
 *
 * Every op has the signature of its slot in struct wf_backend (backend.h);
 * backend.c collects them into the table. Files, one concern each:
 *   backend.c     the table, the context, knobs, status
 *   memory.c      allocation, host copies, fill, scalar slots
 *   ops.c         bias, column sums, axpy, scal, the count of non-finite
 *                 values
 *   gemm.c        the matrix product
 *   activation.c  activations and their derivatives
 *   norm.c        LayerNorm and BatchNorm
 *   optim.c       optimiser updates
 *   random.c      Philox streams
 *   loss.c        elementwise losses, functions of row norms, softmax
 *                 cross-entropy over rows
 *   rows.c        row operations
 *   ot_assign.c   the semi-discrete assignment (OTS's hot loop)
 *   ot_assign_bf16.c  its squared cost screened with bf16 products
 *   index.c       histograms of indices, lists read or written by position
 *   conv.c        transposes, im2col and col2im (convolutions as products)
 *   chain.c       fused passes: a chain of row ops, weight-gradient products
 *                 (one parallel region each)
 *   team.c        the threads an op takes now (fewer while cores are busy)
 */
#ifndef WF_CPU_H
#define WF_CPU_H

#include "backend.h"
#include "simd.h"

/* The GEMM keeps packing buffers for at most this many threads; more
 * threads than this run the product on this many. */
#define WF_CPU_MAX_THREADS 64

/* The CPU context (no graphs: the table's graph members are NULL, and the
 * core runs every step eagerly): the thread count and the GEMM's per-thread packing
 * buffers, grown on demand and kept between calls (a fresh malloc of their
 * size per call would page-fault every time); ctx_free frees them. */
struct wf_ctx {
  int threads;                           /* >= 1; knob "threads" */
  double flops;                          /* 2 m n k of every product; knob "mflop" */
  wf_real *pack_a[WF_CPU_MAX_THREADS];   /* [KC x MR] each, or NULL */
  wf_real *pack_b[WF_CPU_MAX_THREADS];   /* [KC x NC] each, or NULL */
  /* ot_assign's work space, grown on demand: the batch packed in column
   * strips and each thread's running minima (ot_assign.c) */
  void *assign_ws;
  size_t assign_bytes;
  int simd_cap; /* knob "simd_bytes": the widest vector ot_assign uses (0: any) */
  int screen;   /* knob "assign_screen": 0 never, 1 large problems, 2 always */
  int screened; /* batch rows the last ot_assign settled by the screen */
  /* team.c: one thread until solo_until (monotonic seconds; 0: none) after
   * a region waited long for a thread; solo_len the last such stretch */
  int adaptive; /* knob "adaptive" (default 1) */
  double solo_until, solo_len;
  /* gemm's micro-kernel: the 512-bit FMA units of the core (peak.c, timed
   * at creation) and the vector width in bytes the knob "gemm_vec_bytes"
   * sets (32 or 64; 0: chosen per product, gemm.c) */
  int fma_units_512, gemm_vec;
};

/* Whether gemm has its 512-bit micro-kernel: on x86-64 with GCC's clones
 * and AVX-512 paths built (it runs only where wf_cpu_isa() is 2). */
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && \
    !defined(WF_NO_CLONES) && WF_ISA_MAX >= 2
#define WF_CPU_WIDE_KERNEL 1
#else
#define WF_CPU_WIDE_KERNEL 0
#endif

/* Threads for an op over n values: 1 below a size where the fork costs more
 * than it saves, else the context's count (as wf_cpu_team allows). */
int wf_cpu_threads_for(const wf_ctx *ctx, size_t n);

/* team.c: nt, or 1 while the machine's other cores are busy (a recent
 * region waited long for a thread); the clock; and the report of a region
 * of nt threads that began at t0, whose thread 0 ended its share at t_own,
 * and that ended at t1. */
int wf_cpu_team(const wf_ctx *ctx, int nt);
double wf_cpu_now(void);
void wf_cpu_team_timed(wf_ctx *ctx, int nt, double t0, double t_own, double t1);
/* The threads of a region of products (gemm, a row chain, a list of weight
 * gradients) doing `flops` of products over `touched` values: 1 for small
 * work, else the context's count as wf_cpu_team allows, at most
 * WF_CPU_MAX_THREADS. */
int wf_cpu_region_threads(const wf_ctx *ctx, double flops, size_t touched);
/* A region's clock for wf_cpu_team_timed: start before the region, own(t)
 * at the end of thread t's share, end after it. */
typedef struct {
  int nt;
  double t0, t_own;
} wf_cpu_region_clock;
static inline wf_cpu_region_clock wf_cpu_region_start(int nt) {
  wf_cpu_region_clock c = {nt, nt > 1 ? wf_cpu_now() : 0, 0};
  return c;
}
static inline void wf_cpu_region_own(wf_cpu_region_clock *c, int t) {
  if (t == 0 && c->nt > 1) c->t_own = wf_cpu_now();
}
static inline void wf_cpu_region_end(wf_ctx *ctx, const wf_cpu_region_clock *c) {
  if (c->nt > 1) wf_cpu_team_timed(ctx, c->nt, c->t0, c->t_own, wf_cpu_now());
}

/* peak.c: the code path the multiversioned loops take (2 AVX-512, 1 AVX2
 * with FMA, 0 the baseline), and the fp32 FMA rate of this machine in
 * MFLOP/s on `threads` threads, measured by a register-resident loop of
 * independent FMAs at the widest vectors of that path (about 0.4 s). */
int wf_cpu_isa(void);
double wf_cpu_fma_peak(int threads);
/* The 512-bit FMAs a core starts per cycle, as timed here (about 1 ms): 2
 * where a loop of them runs twice as fast as one of 256-bit FMAs (Intel
 * server cores with two 512-bit units), else 1 (AMD Zen 4, whose 512-bit
 * FMA takes both 256-bit units; Intel cores with one); 0 without AVX-512. */
int wf_cpu_fma_units_512(void);
/* One thread's FMA loop of the peak measurement: `reps` rounds of 12
 * independent chains on the code path's widest vectors; returns its FLOPs
 * (the result goes to *sink so the loop stays). */
double wf_cpu_fma_loop(long reps, float *sink);
/* Thread t's share [*lo, *hi) of [0, n) among nt, in multiples of 64. */
static inline void wf_cpu_range(size_t n, int t, int nt, size_t *lo,
                                size_t *hi) {
  size_t blocks = (n + 63) / 64;
  *lo = blocks * t / nt * 64;
  *hi = blocks * (t + 1) / nt * 64;
  if (*hi > n) *hi = n;
  if (*lo > n) *lo = n;
}
/* Before a loop over the nt threads' shares (the variable must be named
 * nt); without OpenMP the loop runs them one after the other. */
#ifdef _OPENMP
#define WF_OMP_CHUNKS(nt) _Pragma("omp parallel for num_threads(nt) if (nt > 1)")
#else
#define WF_OMP_CHUNKS(nt) (void)(nt);
#endif

/* Sums into scalar slots are taken over parts whose size depends on the
 * problem alone, and the parts' sums are added in order: a slot's rounding
 * does not depend on the thread count, and a problem of one part (every one
 * of fewer than WF_CPU_PART_MIN values) is one plain sequential sum. */
#define WF_CPU_PARTS 64
#define WF_CPU_PART_MIN 8192
/* Items per part for count items of `width` values each. */
static inline size_t wf_cpu_part_len(size_t count, size_t width) {
  size_t len = (WF_CPU_PART_MIN + width - 1) / (width > 0 ? width : 1);
  size_t even = (count + WF_CPU_PARTS - 1) / WF_CPU_PARTS;
  if (len < even) len = even;
  return len > 0 ? len : 1;
}

/* float or double math, matching wf_real */
#ifdef WF_DOUBLE
#define WF_EXP exp
#define WF_LOG1P log1p
#define WF_TANH tanh
#define WF_SQRT sqrt
#else
#define WF_EXP expf
#define WF_LOG1P log1pf
#define WF_TANH tanhf
#define WF_SQRT sqrtf
#endif

/* backend.c */
wf_status wf_cpu_ctx_create(wf_ctx **out, char *msg);
void wf_cpu_ctx_free(wf_ctx *ctx);
int wf_cpu_knob(wf_ctx *ctx, const char *name, int value);
wf_status wf_cpu_synchronize(wf_ctx *ctx, char *msg);
wf_status wf_cpu_last_error(wf_ctx *ctx, char *msg);

/* memory.c */
void *wf_cpu_alloc(wf_ctx *ctx, size_t bytes);
void wf_cpu_release(wf_ctx *ctx, void *p);
wf_status wf_cpu_upload(wf_ctx *ctx, wf_real *dst, const double *src, size_t n);
wf_status wf_cpu_download(wf_ctx *ctx, double *dst, const wf_real *src,
                          size_t n);
wf_status wf_cpu_upload_int(wf_ctx *ctx, int *dst, const int *src, size_t n);
wf_status wf_cpu_download_int(wf_ctx *ctx, int *dst, const int *src, size_t n);
void wf_cpu_copy(wf_ctx *ctx, wf_real *dst, const wf_real *src, size_t n);
void wf_cpu_fill(wf_ctx *ctx, wf_real *x, size_t n, wf_real value);
void wf_cpu_zero_scalars(wf_ctx *ctx, double *slots, int n);
wf_status wf_cpu_write_scalars(wf_ctx *ctx, double *slots, const double *host,
                               int n);
wf_status wf_cpu_read_scalars(wf_ctx *ctx, double *host, const double *slots,
                              int n);

/* gemm.c */
void wf_cpu_gemm(wf_ctx *ctx, int trans_a, int trans_b, int m, int n, int k,
                 wf_real alpha, const wf_real *a, int lda, const wf_real *b,
                 int ldb, wf_real beta, wf_real *c, int ldc,
                 const wf_epilogue *ep);
/* free the context's packing buffers (ctx_free) */
void wf_cpu_gemm_release(wf_ctx *ctx);
/* One product's arguments, as gemm takes them (ep NULL: none). */
typedef struct {
  int ta, tb, m, n, k;
  wf_real alpha;
  const wf_real *a;
  int lda;
  const wf_real *b;
  int ldb;
  wf_real beta;
  wf_real *c;
  int ldc;
  const wf_epilogue *ep;
} wf_cpu_product;
/* The pieces of gemm, for ops that run several products (or a product and
 * other row work) in one parallel region (chain.c). A product's rows are
 * cut in whole strips of the micro-tile's height, and each row of C comes
 * out the same whatever the cut; the loops it runs (thin or packed) depend
 * on its shape alone. So any thread running any slice gives gemm's bits.
 *   gemm_threads  the threads gemm would use for p (1 for a small product)
 *   gemm_thin     whether p runs the thin loops
 *   gemm_buffers  the packing buffers of nt threads (0: out of memory; gemm
 *                 then runs plain loops, whose rounding differs)
 *   gemm_split    nt capped at the number of strips of m rows
 *   gemm_rows_of  thread t's rows [*i0, *i1) of m among nt (split first)
 *   gemm_slice    rows [i0, i1) of p's C, on thread t's packing buffers */
int wf_cpu_gemm_threads(const wf_ctx *ctx, const wf_cpu_product *p);
int wf_cpu_gemm_thin(const wf_cpu_product *p);
int wf_cpu_gemm_buffers(wf_ctx *ctx, int nt);
/* the micro-kernel's vector width in bytes (32 or 64) for a product with
 * n columns of C on this context (n <= 0: a wide one) */
int wf_cpu_gemm_vec_bytes(const wf_ctx *ctx, int n);
int wf_cpu_gemm_split(int m, int nt);
void wf_cpu_gemm_rows_of(int m, int t, int nt, int *i0, int *i1);
void wf_cpu_gemm_slice(wf_ctx *ctx, int t, const wf_cpu_product *p, int thin,
                       int i0, int i1);

/* ops.c */
void wf_cpu_add_bias(wf_ctx *ctx, wf_real *z, const wf_real *bias, int m,
                     int n);
void wf_cpu_col_sum(wf_ctx *ctx, const wf_real *a, int m, int n, wf_real *out);
void wf_cpu_axpy(wf_ctx *ctx, size_t n, wf_real alpha, const wf_real *x,
                 wf_real *y);
void wf_cpu_scal(wf_ctx *ctx, size_t n, wf_real alpha, wf_real *x);
void wf_cpu_count_nonfinite(wf_ctx *ctx, const wf_real *x, size_t n, double *slot);
/* the ops' loops on one thread (for chain.c) */
void wf_cpu_add_bias_rows(wf_real *z, const wf_real *bias, int m, int n);
void wf_cpu_col_sum_cols(const wf_real *a, int m, int n, int j0, int j1,
                         wf_real *out);
void wf_cpu_axpy_range(size_t n, wf_real alpha, const wf_real *x, wf_real *y);

/* activation.c */
void wf_cpu_act_forward(wf_ctx *ctx, wf_activation act, double slope,
                        const wf_real *u, wf_real *h, size_t n);
void wf_cpu_act_backward(wf_ctx *ctx, wf_activation act, double slope,
                         const wf_real *u, const wf_real *g, wf_real *out,
                         size_t n);
void wf_cpu_act_second(wf_ctx *ctx, wf_activation act, double slope,
                       const wf_real *u, const wf_real *hbar,
                       const wf_real *gbar, const wf_real *udot, wf_real *out,
                       size_t n);
/* the ops' loops on one thread (for chain.c) */
void wf_cpu_act_forward_range(wf_activation act, double slope, const wf_real *u,
                              wf_real *h, size_t n);
void wf_cpu_act_backward_range(wf_activation act, double slope, const wf_real *u,
                               const wf_real *g, wf_real *out, size_t n);
void wf_cpu_act_second_range(wf_activation act, double slope, const wf_real *u,
                             const wf_real *hbar, const wf_real *gbar,
                             const wf_real *udot, wf_real *out, size_t n);

/* norm.c */
void wf_cpu_ln_forward(wf_ctx *ctx, const wf_real *a, int m, int n,
                       const wf_real *gamma, const wf_real *beta, wf_real *out,
                       wf_real *xhat, wf_real *rstd);
void wf_cpu_ln_backward(wf_ctx *ctx, const wf_real *nbar, const wf_real *xhat,
                        const wf_real *rstd, const wf_real *gamma, int m, int n,
                        wf_real *abar, wf_real *dgamma, wf_real *dbeta);
void wf_cpu_ln_jvp(wf_ctx *ctx, const wf_real *adot, const wf_real *xhat,
                   const wf_real *rstd, const wf_real *gamma, int m, int n,
                   wf_real *xhat_dot, wf_real *out_dot);
void wf_cpu_ln_double(wf_ctx *ctx, const wf_real *nbar, const wf_real *ndbar,
                      const wf_real *adot, const wf_real *xhat,
                      const wf_real *xhat_dot, const wf_real *rstd,
                      const wf_real *gamma, int m, int n, wf_real *abar,
                      wf_real *dgamma, wf_real *dbeta);
void wf_cpu_bn_forward(wf_ctx *ctx, const wf_real *a, int m, int n,
                       const wf_real *gamma, const wf_real *beta,
                       wf_real *run_mean, wf_real *run_var, int train,
                       double momentum, wf_real *out, wf_real *xhat,
                       wf_real *rstd);
void wf_cpu_bn_backward(wf_ctx *ctx, const wf_real *nbar, const wf_real *xhat,
                        const wf_real *rstd, const wf_real *gamma, int m, int n,
                        int train, wf_real *abar, wf_real *dgamma,
                        wf_real *dbeta);

/* optim.c */
void wf_cpu_adam(wf_ctx *ctx, wf_real *p, const wf_real *g, wf_real *m1,
                 wf_real *m2, size_t n, const wf_opt_spec *opt,
                 double *step);
void wf_cpu_rmsprop(wf_ctx *ctx, wf_real *p, const wf_real *g, wf_real *m2,
                    size_t n, const wf_opt_spec *opt, double *step);
void wf_cpu_sgd(wf_ctx *ctx, wf_real *p, const wf_real *g, wf_real *m1,
                size_t n, const wf_opt_spec *opt, double *step);
void wf_cpu_clamp(wf_ctx *ctx, wf_real *p, size_t n, wf_real c);

/* random.c */
void wf_cpu_uniform(wf_ctx *ctx, wf_real *out, size_t n, const uint32_t key[2],
                    double *counter);
void wf_cpu_normal(wf_ctx *ctx, wf_real *out, size_t n, const uint32_t key[2],
                   double *counter);
void wf_cpu_random_index(wf_ctx *ctx, int *out, size_t n, int bound,
                         const uint32_t key[2], double *counter);

/* loss.c */
void wf_cpu_loss(wf_ctx *ctx, const wf_loss_spec *ls, const wf_real *y,
                 const wf_real *t, size_t n, wf_real *dy, double *slot);
void wf_cpu_row_norm_loss(wf_ctx *ctx, wf_rownorm_kind kind, const wf_real *g,
                          int m, int d, double scale, wf_real *u, double *slot,
                          double *norm_slot);
void wf_cpu_softmax_xent(wf_ctx *ctx, const wf_real *y, const int *labels, int m,
                         int k, double scale, wf_real *dy, double *slot);

/* rows.c */
void wf_cpu_row_sq_norm(wf_ctx *ctx, const wf_real *x, int m, int d,
                        wf_real *out);
void wf_cpu_row_sq_dist(wf_ctx *ctx, const wf_real *a, const wf_real *b, int m,
                        int d, wf_real *out);
void wf_cpu_row_scale(wf_ctx *ctx, const wf_real *x, const wf_real *s, int m,
                      int d, wf_real *out);
/* rows [i0, i1) of row_scale, on one thread (for chain.c) */
void wf_cpu_scale_rows(const wf_real *x, const wf_real *s, int i0, int i1, int d,
                       wf_real *out);
void wf_cpu_row_lerp(wf_ctx *ctx, const wf_real *a, const wf_real *b,
                     const wf_real *t, int m, int d, wf_real *out);
void wf_cpu_gather_rows(wf_ctx *ctx, const wf_real *src, int d, const int *idx,
                        int m, wf_real *out);
void wf_cpu_row_argmin(wf_ctx *ctx, const wf_real *a, int m, int n, int *idx,
                       wf_real *val);

/* ot_assign.c */
void wf_cpu_ot_assign(wf_ctx *ctx, wf_cost_kind cost, const wf_real *a, int m,
                      const wf_real *y, int n, int d, const wf_real *yh,
                      const wf_real *psi, int *idx, wf_real *val);
/* free the context's assignment work space (ctx_free) */
void wf_cpu_ot_assign_release(wf_ctx *ctx);
/* the vector width ot_assign runs at: the widest the CPU has, capped by the
 * context's simd_cap */
int wf_cpu_simd_bytes(const wf_ctx *ctx);
/* the assignment's work space of at least bytes (64-byte aligned, kept in
 * the context until a larger one is asked for), or NULL */
void *wf_cpu_assign_space(wf_ctx *ctx, size_t bytes);
/* knob "assign_screen": value 0, 1 or 2 sets ctx->screen, < 0 queries;
 * returns the previous setting, or -1 where the screen does not run. Knob
 * "assign_screened": ctx->screened (the tests' check that the screen ran). */
int wf_cpu_ot_screen_knob(wf_ctx *ctx, int value);
/* a . y as one lane of an fp32 assignment kernel computes it */
typedef wf_real (*wf_cpu_dot_fn)(const wf_real *y, const wf_real *a, int d);

/* ot_assign_bf16.c */
/* whether the bf16 screen runs here: an fp32 build with AVX-512 code paths
 * on a CPU with AVX512-BF16 */
int wf_cpu_ot_bf16_ready(void);
/* The squared-cost assignment (the op's arguments) by the bf16 screen on nt
 * threads, the candidates rescored by `dot`: idx[j] and score[j] (score may
 * be NULL; the score before |a_j|^2 / 2 is added) exactly as the fp32 kernel
 * whose lanes `dot` reproduces, or idx[j] = -1 for a column it left to that
 * kernel (too many candidates). Returns 0, or -1 with nothing written when
 * it did not run (screen not ready, d > 65536, a batch value not finite,
 * no memory). Uses the work space. */
int wf_cpu_ot_assign_bf16(wf_ctx *ctx, const wf_real *a, int m, const wf_real *y, int n,
                          int d, const wf_real *yh, const wf_real *psi,
                          wf_cpu_dot_fn dot, int nt, int *idx, wf_real *score);

/* index.c */
void wf_cpu_index_count(wf_ctx *ctx, const int *idx, int m, int n, int bins,
                        wf_real w, wf_real *out);
void wf_cpu_copy_ints_at(wf_ctx *ctx, int *dst, double *dst_pos, const int *src,
                         double *src_pos, size_t n);

/* chain.c */
void wf_cpu_row_chain(wf_ctx *ctx, int m, const wf_row_op *ops, int n);
void wf_cpu_grad_products(wf_ctx *ctx, const wf_grad_product *list, int n);

/* conv.c */
void wf_cpu_transpose_rows(wf_ctx *ctx, const wf_real *in, int m, int a, int b,
                           wf_real *out);
void wf_cpu_im2col(wf_ctx *ctx, const wf_conv_geom *g, const wf_real *x,
                   wf_real *cols);
void wf_cpu_col2im(wf_ctx *ctx, const wf_conv_geom *g, const wf_real *cols,
                   wf_real *x);

#endif
