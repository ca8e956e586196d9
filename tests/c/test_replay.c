/* test_replay.c — recorded and replayed steps (wf_trainer_repeat) without a
 * GPU: a test backend wraps the CPU table with graph ops that record the
 * ops of a step as closures (the op and a copy of its arguments) and replay
 * them, as a CUDA graph does. W1-FE trained through it must give exactly
 * the CPU's eager results (every phase output, the nets, the stream and
 * step mirrors and their device slots), with MLPs and with the DCGAN
 * pair's layers as stacks; a record must be dropped when the device
 * allocates, and a failed recording must fall back to eager steps.
 * Float build; ends with "replay: N passed, M failed".
 */
#include <stdlib.h>
#include <string.h>

#include "net.h"
#include "test_util.h"
#include "trainer.h"

/* ---- the recording backend -------------------------------------------- */
static wf_backend REC;          /* the CPU table with recording wrappers */
static const wf_backend *CPU;   /* the table that runs the ops */

typedef struct {
  void (*run)(wf_ctx *ctx, const void *args);
  void *args;
} closure;

struct wf_graph {
  closure *ops;
  int n;
};

static wf_graph *recording = NULL; /* the graph being recorded, or NULL */
static int n_recorded = 0;         /* graphs ended (recordings made) */
static int fail_begin = 0;         /* make graph begin fail (a device that cannot) */
static int forbidden = 0;          /* host copies or syncs while recording */

/* record a closure while recording; 0 when the op should run now */
static int push(void (*run)(wf_ctx *, const void *), const void *args, size_t size) {
  if (recording == NULL) return 0;
  recording->ops = realloc(recording->ops, sizeof(closure) * (recording->n + 1));
  void *copy = malloc(size);
  memcpy(copy, args, size);
  recording->ops[recording->n++] = (closure){run, copy};
  return 1;
}

/* One wrapper per op: NAME_args holds the arguments, run_NAME calls the
 * CPU op with them, w_NAME records or runs. FIELDS and PACK come in
 * parentheses (their commas would split the macro's arguments). */
#define UNPAREN(...) __VA_ARGS__
#define WRAP(NAME, FIELDS, PARAMS, PACK, CALL)                                  \
  typedef struct { UNPAREN FIELDS } NAME##_args;                               \
  static void run_##NAME(wf_ctx *ctx, const void *p) {                         \
    const NAME##_args *a = p;                                                  \
    CPU->NAME CALL;                                                            \
  }                                                                            \
  static void w_##NAME PARAMS {                                                \
    NAME##_args rec_ = {UNPAREN PACK};                                         \
    if (!push(run_##NAME, &rec_, sizeof(rec_))) run_##NAME(ctx, &rec_);       \
  }

WRAP(copy, (wf_real *dst; const wf_real *src; size_t n;),
     (wf_ctx *ctx, wf_real *dst, const wf_real *src, size_t n), (dst, src, n),
     (ctx, a->dst, a->src, a->n))
WRAP(fill, (wf_real *x; size_t n; wf_real v;), (wf_ctx *ctx, wf_real *x, size_t n, wf_real v), (x, n, v), (ctx, a->x, a->n, a->v))
WRAP(zero_scalars, (double *s; int n;), (wf_ctx *ctx, double *s, int n), (s, n),
     (ctx, a->s, a->n))
WRAP(gemm, (int ta, tb, m, n, k; wf_real alpha; const wf_real *a; int lda; const wf_real *b;
      int ldb; wf_real beta; wf_real *c; int ldc; int has_ep; wf_epilogue ep;),
     (wf_ctx *ctx, int ta, int tb, int m, int n, int k, wf_real alpha, const wf_real *a,
      int lda, const wf_real *b, int ldb, wf_real beta, wf_real *c, int ldc,
      const wf_epilogue *ep), (ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc, ep != NULL,
      ep != NULL ? *ep : (wf_epilogue){0}),
     (ctx, a->ta, a->tb, a->m, a->n, a->k, a->alpha, a->a, a->lda, a->b, a->ldb, a->beta,
      a->c, a->ldc, a->has_ep ? &a->ep : NULL))
WRAP(add_bias, (wf_real *z; const wf_real *b; int m, n;),
     (wf_ctx *ctx, wf_real *z, const wf_real *b, int m, int n), (z, b, m, n),
     (ctx, a->z, a->b, a->m, a->n))
WRAP(col_sum, (const wf_real *x; int m, n; wf_real *out;),
     (wf_ctx *ctx, const wf_real *x, int m, int n, wf_real *out), (x, m, n, out),
     (ctx, a->x, a->m, a->n, a->out))
WRAP(axpy, (size_t n; wf_real alpha; const wf_real *x; wf_real *y;),
     (wf_ctx *ctx, size_t n, wf_real alpha, const wf_real *x, wf_real *y), (n, alpha, x, y), (ctx, a->n, a->alpha, a->x, a->y))
WRAP(scal, (size_t n; wf_real alpha; wf_real *x;),
     (wf_ctx *ctx, size_t n, wf_real alpha, wf_real *x), (n, alpha, x),
     (ctx, a->n, a->alpha, a->x))
WRAP(act_forward, (wf_activation act; double s; const wf_real *u; wf_real *h; size_t n;),
     (wf_ctx *ctx, wf_activation act, double s, const wf_real *u, wf_real *h, size_t n), (act, s, u, h, n), (ctx, a->act, a->s, a->u, a->h, a->n))
WRAP(act_backward, (wf_activation act; double s; const wf_real *u; const wf_real *g; wf_real *out; size_t n;),
     (wf_ctx *ctx, wf_activation act, double s, const wf_real *u, const wf_real *g,
      wf_real *out, size_t n), (act, s, u, g, out, n), (ctx, a->act, a->s, a->u, a->g, a->out, a->n))
WRAP(act_second, (wf_activation act; double s; const wf_real *u, *hbar, *gbar, *udot; wf_real *out;
      size_t n;),
     (wf_ctx *ctx, wf_activation act, double s, const wf_real *u, const wf_real *hbar,
      const wf_real *gbar, const wf_real *udot, wf_real *out, size_t n), (act, s, u, hbar, gbar, udot, out, n),
     (ctx, a->act, a->s, a->u, a->hbar, a->gbar, a->udot, a->out, a->n))
WRAP(adam, (wf_real *p; const wf_real *g; wf_real *m1, *m2; size_t n; wf_opt_spec o; double *step;),
     (wf_ctx *ctx, wf_real *p, const wf_real *g, wf_real *m1, wf_real *m2, size_t n,
      const wf_opt_spec *o, double *step), (p, g, m1, m2, n, *o, step), (ctx, a->p, a->g, a->m1, a->m2, a->n, &a->o, a->step))
WRAP(rmsprop, (wf_real *p; const wf_real *g; wf_real *m2; size_t n; wf_opt_spec o; double *step;),
     (wf_ctx *ctx, wf_real *p, const wf_real *g, wf_real *m2, size_t n,
      const wf_opt_spec *o, double *step), (p, g, m2, n, *o, step), (ctx, a->p, a->g, a->m2, a->n, &a->o, a->step))
WRAP(sgd, (wf_real *p; const wf_real *g; wf_real *m1; size_t n; wf_opt_spec o; double *step;),
     (wf_ctx *ctx, wf_real *p, const wf_real *g, wf_real *m1, size_t n,
      const wf_opt_spec *o, double *step), (p, g, m1, n, *o, step), (ctx, a->p, a->g, a->m1, a->n, &a->o, a->step))
WRAP(clamp, (wf_real *p; size_t n; wf_real c;), (wf_ctx *ctx, wf_real *p, size_t n, wf_real c), (p, n, c), (ctx, a->p, a->n, a->c))
WRAP(uniform, (wf_real *out; size_t n; uint32_t key[2]; double *counter;),
     (wf_ctx *ctx, wf_real *out, size_t n, const uint32_t key[2], double *counter), (out, n, {key[0], key[1]}, counter), (ctx, a->out, a->n, a->key, a->counter))
WRAP(normal, (wf_real *out; size_t n; uint32_t key[2]; double *counter;),
     (wf_ctx *ctx, wf_real *out, size_t n, const uint32_t key[2], double *counter), (out, n, {key[0], key[1]}, counter), (ctx, a->out, a->n, a->key, a->counter))
WRAP(random_index, (int *out; size_t n; int bound; uint32_t key[2]; double *counter;),
     (wf_ctx *ctx, int *out, size_t n, int bound, const uint32_t key[2], double *counter), (out, n, bound, {key[0], key[1]}, counter),
     (ctx, a->out, a->n, a->bound, a->key, a->counter))
WRAP(loss, (wf_loss_spec ls; const wf_real *y, *t; size_t n; wf_real *dy; double *slot;),
     (wf_ctx *ctx, const wf_loss_spec *ls, const wf_real *y, const wf_real *t, size_t n,
      wf_real *dy, double *slot), (*ls, y, t, n, dy, slot), (ctx, &a->ls, a->y, a->t, a->n, a->dy, a->slot))
WRAP(row_norm_loss, (wf_rownorm_kind kind; const wf_real *g; int m, d; double scale; wf_real *u;
      double *slot, *norm_slot;),
     (wf_ctx *ctx, wf_rownorm_kind kind, const wf_real *g, int m, int d, double scale,
      wf_real *u, double *slot, double *norm_slot), (kind, g, m, d, scale, u, slot, norm_slot),
     (ctx, a->kind, a->g, a->m, a->d, a->scale, a->u, a->slot, a->norm_slot))
WRAP(row_lerp, (const wf_real *x, *y, *t; int m, d; wf_real *out;),
     (wf_ctx *ctx, const wf_real *x, const wf_real *y, const wf_real *t, int m, int d,
      wf_real *out), (x, y, t, m, d, out), (ctx, a->x, a->y, a->t, a->m, a->d, a->out))
WRAP(gather_rows, (const wf_real *src; int d; const int *idx; int m; wf_real *out;),
     (wf_ctx *ctx, const wf_real *src, int d, const int *idx, int m, wf_real *out), (src, d, idx, m, out), (ctx, a->src, a->d, a->idx, a->m, a->out))

WRAP(ln_forward,
     (const wf_real *x; int m, n; const wf_real *gamma, *beta; wf_real *out, *xhat, *rstd;),
     (wf_ctx *ctx, const wf_real *x, int m, int n, const wf_real *gamma,
      const wf_real *beta, wf_real *out, wf_real *xhat, wf_real *rstd),
     (x, m, n, gamma, beta, out, xhat, rstd),
     (ctx, a->x, a->m, a->n, a->gamma, a->beta, a->out, a->xhat, a->rstd))
WRAP(ln_backward,
     (const wf_real *nbar, *xhat, *rstd, *gamma; int m, n; wf_real *abar, *dg, *db;),
     (wf_ctx *ctx, const wf_real *nbar, const wf_real *xhat, const wf_real *rstd,
      const wf_real *gamma, int m, int n, wf_real *abar, wf_real *dg, wf_real *db),
     (nbar, xhat, rstd, gamma, m, n, abar, dg, db),
     (ctx, a->nbar, a->xhat, a->rstd, a->gamma, a->m, a->n, a->abar, a->dg, a->db))
WRAP(ln_jvp,
     (const wf_real *adot, *xhat, *rstd, *gamma; int m, n; wf_real *xd, *od;),
     (wf_ctx *ctx, const wf_real *adot, const wf_real *xhat, const wf_real *rstd,
      const wf_real *gamma, int m, int n, wf_real *xd, wf_real *od),
     (adot, xhat, rstd, gamma, m, n, xd, od),
     (ctx, a->adot, a->xhat, a->rstd, a->gamma, a->m, a->n, a->xd, a->od))
WRAP(ln_double,
     (const wf_real *nbar, *ndbar, *adot, *xhat, *xd, *rstd, *gamma; int m, n;
      wf_real *abar, *dg, *db;),
     (wf_ctx *ctx, const wf_real *nbar, const wf_real *ndbar, const wf_real *adot,
      const wf_real *xhat, const wf_real *xd, const wf_real *rstd, const wf_real *gamma,
      int m, int n, wf_real *abar, wf_real *dg, wf_real *db),
     (nbar, ndbar, adot, xhat, xd, rstd, gamma, m, n, abar, dg, db),
     (ctx, a->nbar, a->ndbar, a->adot, a->xhat, a->xd, a->rstd, a->gamma, a->m, a->n,
      a->abar, a->dg, a->db))
WRAP(bn_forward,
     (const wf_real *x; int m, n; const wf_real *gamma, *beta; wf_real *rm, *rv; int train;
      double mom; wf_real *out, *xhat, *rstd;),
     (wf_ctx *ctx, const wf_real *x, int m, int n, const wf_real *gamma,
      const wf_real *beta, wf_real *rm, wf_real *rv, int train, double mom, wf_real *out,
      wf_real *xhat, wf_real *rstd),
     (x, m, n, gamma, beta, rm, rv, train, mom, out, xhat, rstd),
     (ctx, a->x, a->m, a->n, a->gamma, a->beta, a->rm, a->rv, a->train, a->mom, a->out,
      a->xhat, a->rstd))
WRAP(bn_backward,
     (const wf_real *nbar, *xhat, *rstd, *gamma; int m, n, train; wf_real *abar, *dg, *db;),
     (wf_ctx *ctx, const wf_real *nbar, const wf_real *xhat, const wf_real *rstd,
      const wf_real *gamma, int m, int n, int train, wf_real *abar, wf_real *dg,
      wf_real *db),
     (nbar, xhat, rstd, gamma, m, n, train, abar, dg, db),
     (ctx, a->nbar, a->xhat, a->rstd, a->gamma, a->m, a->n, a->train, a->abar, a->dg,
      a->db))
WRAP(row_sq_norm, (const wf_real *x; int m, d; wf_real *out;),
     (wf_ctx *ctx, const wf_real *x, int m, int d, wf_real *out), (x, m, d, out),
     (ctx, a->x, a->m, a->d, a->out))
WRAP(row_sq_dist, (const wf_real *x, *y; int m, d; wf_real *out;),
     (wf_ctx *ctx, const wf_real *x, const wf_real *y, int m, int d, wf_real *out),
     (x, y, m, d, out), (ctx, a->x, a->y, a->m, a->d, a->out))
WRAP(row_scale, (const wf_real *x, *s; int m, d; wf_real *out;),
     (wf_ctx *ctx, const wf_real *x, const wf_real *s, int m, int d, wf_real *out),
     (x, s, m, d, out), (ctx, a->x, a->s, a->m, a->d, a->out))
WRAP(row_argmin, (const wf_real *x; int m, n; int *idx; wf_real *val;),
     (wf_ctx *ctx, const wf_real *x, int m, int n, int *idx, wf_real *val),
     (x, m, n, idx, val), (ctx, a->x, a->m, a->n, a->idx, a->val))
WRAP(softmax_xent, (const wf_real *y; const int *lab; int m, k; double scale; wf_real *dy;
      double *slot;),
     (wf_ctx *ctx, const wf_real *y, const int *lab, int m, int k, double scale, wf_real *dy,
      double *slot), (y, lab, m, k, scale, dy, slot),
     (ctx, a->y, a->lab, a->m, a->k, a->scale, a->dy, a->slot))
/* the geometry is copied into the record, as a CUDA graph keeps a launch's
 * parameters: a replay never reads the caller's struct */
WRAP(transpose_rows, (const wf_real *in; int m, na, nb; wf_real *out;),
     (wf_ctx *ctx, const wf_real *in, int m, int na, int nb, wf_real *out),
     (in, m, na, nb, out), (ctx, a->in, a->m, a->na, a->nb, a->out))
WRAP(im2col, (wf_conv_geom g; const wf_real *x; wf_real *cols;),
     (wf_ctx *ctx, const wf_conv_geom *g, const wf_real *x, wf_real *cols), (*g, x, cols),
     (ctx, &a->g, a->x, a->cols))
WRAP(col2im, (wf_conv_geom g; const wf_real *cols; wf_real *x;),
     (wf_ctx *ctx, const wf_conv_geom *g, const wf_real *cols, wf_real *x), (*g, cols, x),
     (ctx, &a->g, a->cols, a->x))

/* the fused passes: their lists are copied into the record, as a CUDA
 * graph keeps the launches they made */
typedef struct {
  int m, n;
  wf_row_op ops[];
} row_chain_args;
static void run_row_chain(wf_ctx *ctx, const void *p) {
  const row_chain_args *a = p;
  CPU->row_chain(ctx, a->m, a->ops, a->n);
}
static void w_row_chain(wf_ctx *ctx, int m, const wf_row_op *ops, int n) {
  size_t size = sizeof(row_chain_args) + sizeof(wf_row_op) * (size_t)n;
  row_chain_args *a = malloc(size);
  a->m = m, a->n = n;
  memcpy(a->ops, ops, sizeof(wf_row_op) * (size_t)n);
  if (!push(run_row_chain, a, size)) run_row_chain(ctx, a);
  free(a);
}
typedef struct {
  int n;
  wf_grad_product list[];
} grad_products_args;
static void run_grad_products(wf_ctx *ctx, const void *p) {
  const grad_products_args *a = p;
  CPU->grad_products(ctx, a->list, a->n);
}
static void w_grad_products(wf_ctx *ctx, const wf_grad_product *list, int n) {
  size_t size = sizeof(grad_products_args) + sizeof(wf_grad_product) * (size_t)n;
  grad_products_args *a = malloc(size);
  a->n = n;
  memcpy(a->list, list, sizeof(wf_grad_product) * (size_t)n);
  if (!push(run_grad_products, a, size)) run_grad_products(ctx, a);
  free(a);
}

/* host copies and waits must not happen while recording */
static wf_status w_read_scalars(wf_ctx *ctx, double *host, const double *s, int n) {
  forbidden += recording != NULL;
  return CPU->read_scalars(ctx, host, s, n);
}
static wf_status w_write_scalars(wf_ctx *ctx, double *s, const double *host, int n) {
  forbidden += recording != NULL;
  return CPU->write_scalars(ctx, s, host, n);
}
static wf_status w_synchronize(wf_ctx *ctx, char *msg) {
  forbidden += recording != NULL;
  return CPU->synchronize(ctx, msg);
}

static wf_status g_begin(wf_ctx *ctx) {
  (void)ctx;
  if (fail_begin) return WF_ERR_UNSUPPORTED;
  recording = calloc(1, sizeof(wf_graph));
  return WF_OK;
}
static wf_status g_end(wf_ctx *ctx, wf_graph **out) {
  (void)ctx;
  *out = recording;
  recording = NULL;
  n_recorded++;
  return WF_OK;
}
static wf_status g_launch(wf_ctx *ctx, wf_graph *g) {
  for (int i = 0; i < g->n; i++) g->ops[i].run(ctx, g->ops[i].args);
  return WF_OK;
}
static void g_free(wf_ctx *ctx, wf_graph *g) {
  (void)ctx;
  for (int i = 0; i < g->n; i++) free(g->ops[i].args);
  free(g->ops);
  free(g);
}

static void make_rec(void) {
  CPU = wf_cpu_backend();
  REC = *CPU;
  REC.name = "recording cpu";
  REC.copy = w_copy, REC.fill = w_fill, REC.zero_scalars = w_zero_scalars;
  REC.gemm = w_gemm, REC.add_bias = w_add_bias, REC.col_sum = w_col_sum;
  REC.axpy = w_axpy, REC.scal = w_scal, REC.act_forward = w_act_forward;
  REC.act_backward = w_act_backward, REC.act_second = w_act_second;
  REC.adam = w_adam, REC.rmsprop = w_rmsprop, REC.sgd = w_sgd, REC.clamp = w_clamp;
  REC.uniform = w_uniform, REC.normal = w_normal, REC.random_index = w_random_index;
  REC.loss = w_loss, REC.row_norm_loss = w_row_norm_loss, REC.row_lerp = w_row_lerp;
  REC.gather_rows = w_gather_rows;
  REC.ln_forward = w_ln_forward, REC.ln_backward = w_ln_backward, REC.ln_jvp = w_ln_jvp;
  REC.ln_double = w_ln_double, REC.bn_forward = w_bn_forward;
  REC.bn_backward = w_bn_backward, REC.row_sq_norm = w_row_sq_norm;
  REC.row_sq_dist = w_row_sq_dist, REC.row_scale = w_row_scale;
  REC.row_argmin = w_row_argmin, REC.softmax_xent = w_softmax_xent;
  REC.transpose_rows = w_transpose_rows, REC.im2col = w_im2col, REC.col2im = w_col2im;
  REC.row_chain = w_row_chain, REC.grad_products = w_grad_products;
  REC.read_scalars = w_read_scalars, REC.write_scalars = w_write_scalars;
  REC.synchronize = w_synchronize;
  REC.graph = (wf_graph_ops){g_begin, g_end, g_launch, g_free};
}

/* ---- W1-FE through both devices ------------------------------------------ */
typedef struct {
  wf_device *dev;
  wf_net *nets[2];
  wf_trainer *t;
} run;

/* 0: MLPs on 2-D data; 1: the DCGAN pair's layers (stacks) at width 4 on
 * 12 x 12 images, latent 8 */
static int STACKS = 0;
#define IMG 12
static int data_cols(void) { return STACKS ? IMG * IMG : 2; }

static void dcgan_specs(wf_stack_spec *c, wf_stack_spec *g) {
  const int k = 4;
  wf_layer_spec bn = {.kind = WF_LAYER_BATCH_NORM};
  wf_layer_spec relu = {.kind = WF_LAYER_ACTIVATION, .act = WF_ACT_RELU};
  wf_layer_spec leaky = {.kind = WF_LAYER_ACTIVATION, .act = WF_ACT_LEAKY_RELU,
                         .slope = 0.2};
  wf_layer_spec up = {.kind = WF_LAYER_CONV_T2D, .units = k, .kernel = 4, .stride = 2,
                      .padding = 1, .bias = 1};
  wf_layer_spec down = {.kind = WF_LAYER_CONV2D, .units = k, .kernel = 4, .stride = 2,
                        .padding = 1, .bias = 1};
  *g = (wf_stack_spec){.n_layers = 9, .in = {8, 1, 1}, .init = WF_INIT_TORCH};
  g->layer[0] = (wf_layer_spec){.kind = WF_LAYER_DENSE, .units = 2 * k * 9, .bias = 1};
  g->layer[1] = (wf_layer_spec){.kind = WF_LAYER_RESHAPE, .shape = {2 * k, 3, 3}};
  g->layer[2] = bn, g->layer[3] = relu, g->layer[4] = up;
  g->layer[5] = bn, g->layer[6] = relu, g->layer[7] = up;
  g->layer[7].units = 1;
  g->layer[8] = (wf_layer_spec){.kind = WF_LAYER_ACTIVATION, .act = WF_ACT_TANH};
  *c = (wf_stack_spec){.n_layers = 6, .in = {1, IMG, IMG}, .init = WF_INIT_TORCH};
  c->layer[0] = down, c->layer[1] = leaky, c->layer[2] = down, c->layer[3] = leaky;
  c->layer[2].units = 2 * k;
  c->layer[4] = (wf_layer_spec){.kind = WF_LAYER_FLATTEN};
  c->layer[5] = (wf_layer_spec){.kind = WF_LAYER_DENSE, .units = 1, .bias = 1};
}

static void open_run(run *r, const wf_backend *be, const double *data, int n,
                     const wf_opt_spec *opts) {
  char msg[WF_MSG_LEN];
  wf_mlp_spec cs = {.n_layers = 3, .widths = {2, 12, 12, 1}, .activation = WF_ACT_TANH,
                    .init = WF_INIT_TORCH};
  wf_mlp_spec gs = {.n_layers = 3, .widths = {2, 12, 12, 2}, .activation = WF_ACT_RELU,
                    .norm = WF_NORM_BATCH, .init = WF_INIT_TORCH};
  wf_stack_spec csk, gsk;
  dcgan_specs(&csk, &gsk);
  int ok = wf_device_open(be, &r->dev, msg) == WF_OK;
  if (STACKS)
    ok = ok && wf_net_create_stack(&csk, r->dev, 5, &r->nets[0], msg) == WF_OK &&
         wf_net_create_stack(&gsk, r->dev, 6, &r->nets[1], msg) == WF_OK;
  else
    ok = ok && wf_net_create(&cs, r->dev, 5, &r->nets[0], msg) == WF_OK &&
         wf_net_create(&gs, r->dev, 6, &r->nets[1], msg) == WF_OK;
  int rows = n, cols = data_cols();
  ok = ok && wf_trainer_create(wf_algo_find("w1fe"), r->nets, opts, 2, &data, &rows,
                               &cols, 1, &r->t, msg) == WF_OK;
  if (!ok) {
    fprintf(stderr, "open: %s\n", msg);
    exit(2);
  }
}

static void close_run(run *r) {
  wf_trainer_free(r->t);
  wf_net_free(r->nets[0]);
  wf_net_free(r->nets[1]);
  wf_device_release(r->dev);
}

/* one epoch; out[7] */
static wf_status epoch(run *r, int penalty, double clip, int mode, double *out) {
  const char *cn[] = {"batch_size", "steps", "penalty", "lambda", "clip"};
  double cv[] = {32, 4, penalty, 10, clip};
  const char *en[] = {"batch_size", "step_size"};
  double ev[] = {32, 0.5};
  const char *fn[] = {"persistency", "mode"};
  double fv[] = {4, mode};
  wf_args ca = {cn, cv, 5, NULL}, ea = {en, ev, 2, NULL}, fa = {fn, fv, 2, NULL};
  wf_trainer *t = r->t;
  wf_status rc = wf_trainer_run(t, wf_trainer_phase(t, "critic"), &ca, out);
  if (rc == WF_OK) rc = wf_trainer_run(t, wf_trainer_phase(t, "euler"), &ea, out + 4);
  if (rc == WF_OK) rc = wf_trainer_run(t, wf_trainer_phase(t, "fit"), &fa, out + 5);
  return rc;
}

/* the nets' parameters, and the stream and step mirrors against their slots */
static int same_state(run *a, run *b, const char *label) {
  int same = 1;
  for (int k = 0; k < 2; k++) {
    size_t np = wf_net_layout(a->nets[k])->n_params;
    double *pa = malloc(np * sizeof(double)), *pb = malloc(np * sizeof(double));
    wf_net_get_params(a->nets[k], pa);
    wf_net_get_params(b->nets[k], pb);
    same &= memcmp(pa, pb, np * sizeof(double)) == 0;
    free(pa), free(pb);
    for (int side = 0; side < 2; side++) {
      wf_net *net = (side ? b : a)->nets[k];
      double slot[2];
      wf_device_read_scalars(net->dev, slot, net->stream_dev, 1);
      wf_device_read_scalars(net->dev, slot + 1, net->p->block.step_dev, 1);
      CHECK(slot[0] == (double)net->counter && slot[1] == net->p->block.step,
            "%s: net %d's mirrors and slots agree (%g/%llu, %g/%g)", label, k, slot[0],
            (unsigned long long)net->counter, slot[1], net->p->block.step);
    }
    same &= a->nets[k]->counter == b->nets[k]->counter &&
            a->nets[k]->p->block.step == b->nets[k]->p->block.step;
  }
  return same;
}

static void compare(int penalty, double clip, int mode, const wf_opt_spec *opts,
                    const char *label) {
  int n = 400, d = data_cols();
  double *data = malloc(sizeof(double) * n * d);
  for (int i = 0; i < d * n; i++) data[i] = rnorm() + (i % 2 ? 1 : -1);
  run eager, rec;
  open_run(&eager, CPU, data, n, opts);
  open_run(&rec, &REC, data, n, opts);
  double a[7], b[7];
  int same = 1, recorded0 = n_recorded;
  for (int e = 0; e < 5; e++) {
    CHECK(epoch(&eager, penalty, clip, mode, a) == WF_OK, "%s: eager epoch %d", label, e);
    CHECK(epoch(&rec, penalty, clip, mode, b) == WF_OK, "%s: recorded epoch %d: %s", label,
          e, wf_trainer_message(rec.t));
    same &= memcmp(a, b, sizeof(a)) == 0;
    if (e == 2) { /* the device allocates and frees: the records must go */
      wf_real *out = wf_device_alloc(rec.dev, 10 * d);
      wf_generate(rec.nets[1], 10, 77, out);
      wf_device_free(rec.dev, out);
      out = wf_device_alloc(eager.dev, 10 * d);
      wf_generate(eager.nets[1], 10, 77, out);
      wf_device_free(eager.dev, out);
    }
  }
  CHECK(same, "%s: replayed steps give the eager phase outputs", label);
  CHECK(same_state(&eager, &rec, label), "%s: the same nets and streams", label);
  /* records: the critic and the fit step in the first epoch; the critic's
   * again in the second (the first Euler step allocated its buffers after
   * it was recorded); both again after the allocation in the third */
  CHECK(n_recorded - recorded0 == 5, "%s: %d recordings", label, n_recorded - recorded0);
  CHECK(forbidden == 0, "%s: no host copy or wait while recording", label);
  close_run(&eager);
  close_run(&rec);
  free(data);
}

static void test_fallback(void) {
  int n = 300;
  double *data = malloc(sizeof(double) * n * 2), a[7], b[7];
  for (int i = 0; i < 2 * n; i++) data[i] = rnorm();
  wf_opt_spec adam = {.kind = WF_OPT_ADAM, .lr = 1e-3, .beta1 = 0.5, .beta2 = 0.9,
                      .eps = 1e-8};
  wf_opt_spec opts[2] = {adam, adam};
  run eager, rec;
  open_run(&eager, CPU, data, n, opts);
  open_run(&rec, &REC, data, n, opts);
  fail_begin = 1; /* a device that cannot record: eager steps, same results */
  int same = 1, recorded0 = n_recorded;
  for (int e = 0; e < 3; e++) {
    epoch(&eager, WF_PENALTY_LP, 0, 0, a);
    CHECK(epoch(&rec, WF_PENALTY_LP, 0, 0, b) == WF_OK, "fallback epoch");
    same &= memcmp(a, b, sizeof(a)) == 0;
  }
  fail_begin = 0;
  CHECK(same && same_state(&eager, &rec, "fallback"), "a failed recording runs eagerly");
  CHECK(n_recorded == recorded0, "nothing recorded");
  /* graphs off for a trainer: eager too */
  wf_trainer_set_graphs(rec.t, 0);
  recorded0 = n_recorded;
  epoch(&eager, WF_PENALTY_GP, 0, 0, a);
  epoch(&rec, WF_PENALTY_GP, 0, 0, b);
  CHECK(memcmp(a, b, sizeof(a)) == 0 && n_recorded == recorded0, "graphs off");
  close_run(&eager);
  close_run(&rec);
  free(data);
}

int main(void) {
  make_rec();
  wf_opt_spec adam = {.kind = WF_OPT_ADAM, .lr = 1e-3, .beta1 = 0.5, .beta2 = 0.9,
                      .eps = 1e-8};
  wf_opt_spec rms = {.kind = WF_OPT_RMSPROP, .lr = 5e-4, .beta2 = 0.99, .eps = 1e-8};
  wf_opt_spec sgd = {.kind = WF_OPT_SGD, .lr = 1e-2, .momentum = 0.9, .eps = 1};
  wf_opt_spec adam_adam[2] = {adam, adam}, rms_sgd[2] = {rms, sgd};
  compare(WF_PENALTY_LP, 0, 0, adam_adam, "LP, Euler fit");
  compare(WF_PENALTY_GP, 0, 1, adam_adam, "GP, naive fit");
  compare(WF_PENALTY_NONE, 0.05, 0, rms_sgd, "clipping, RMSprop and SGD");
  STACKS = 1; /* convolutions, transposed ones, BatchNorm over channels */
  compare(WF_PENALTY_LP, 0, 0, adam_adam, "DCGAN stacks, LP, Euler fit");
  compare(WF_PENALTY_GP, 0, 1, adam_adam, "DCGAN stacks, GP, naive fit");
  STACKS = 0;
  test_fallback();
  printf("replay: %d passed, %d failed\n", n_pass, n_fail);
  return n_fail == 0 ? 0 : 1;
}
