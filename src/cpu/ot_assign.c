/* ot_assign.c — the semi-discrete assignment (OTS's hot loop) on the CPU:
 * for each batch row a_j, idx[j] = argmin_i c(a_j, y_i) - psi_i over the
 * data rows y_i, without ever storing the m x n scores.
 *
 * Like the GEMM (gemm.c) this is a register-blocked micro-kernel
 * (ot_assign_kernel.h), here over a tile of 6 data rows x 2 vectors of
 * batch columns. The batch (small: m x d) is packed once per call, k-major
 * in strips of NR columns, so a strip's row k is NR contiguous values; the
 * data rows are read in place, six streams, one value of each broadcast
 * per k. For the squared cost the tile accumulates a . y (the product of
 * the GEMM form |a|^2/2 + |y|^2/2 - a.y), for L1 sum |a - y|. The tile
 * never leaves the registers: yh_i - psi_i is added and each batch
 * column's running minimum taken by a vector compare and select, rows in
 * increasing order with a strict <.
 *
 * Batch strips are grouped into blocks that stay in L2 while a thread
 * streams its data rows past them; threads take contiguous ranges of data
 * rows, keep their own minima and are merged in thread order with a strict
 * <. A score is one accumulation over k in a fixed order whatever the split,
 * so the result (the smallest index among equal scores) does not depend on
 * the thread count.
 *
 * Vector widths: 64 bytes (AVX-512), 32 (AVX2 + FMA) or 16 (the baseline),
 * each kernel compiled for its instruction set and chosen at run time (the
 * "simd_bytes" knob caps it), so the package needs no -march flag.
 *
 * The squared cost goes to the bf16 screen of ot_assign_bf16.c where the CPU
 * has AVX512-BF16 (knob "assign_screen"); it rescores its candidates with
 * the kernel's own one-lane product (AK_DOT), so the result is the same to
 * the bit, and the columns it cannot settle come back here.
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#ifdef _OPENMP
#include <omp.h>
#endif

#include "cpu.h"

#ifdef WF_DOUBLE
typedef int64_t ak_lane; /* an integer lane as wide as wf_real */
#define AK_ABS_BITS ((ak_lane)0x7fffffffffffffffLL)
#else
typedef int32_t ak_lane;
#define AK_ABS_BITS ((ak_lane)0x7fffffff)
#endif
#define AK_MR 6         /* data rows per tile */
#define MAX_BYTES 64    /* the widest vector */
#define BLOCK_BYTES (384 * 1024) /* a block of packed batch strips, in L2 */

typedef struct {
  wf_cost_kind cost;
  const wf_real *y; /* [n x d] */
  int n, d;
  const wf_real *yh, *psi; /* [n] each (yh: SQ only; psi may be NULL) */
  const wf_real *pack; /* [strips x d x NR] the batch, k-major strips */
  int strips;          /* ceil(m / NR) */
  int block;           /* strips per block */
} assign_job;

typedef void (*assign_fn)(const assign_job *, int, int, wf_real *, ak_lane *);

#if defined(__x86_64__) && defined(__GNUC__) && !defined(WF_NO_CLONES)
#define AK_X86 1
#define AK_BYTES 64
#define AK_NAME assign_rows_64
#define AK_DOT dot_64
#define AK_ATTR __attribute__((target("avx512f,avx512dq,avx512vl,avx2,fma")))
#include "ot_assign_kernel.h"
#undef AK_BYTES
#undef AK_NAME
#undef AK_DOT
#undef AK_ATTR
#define AK_BYTES 32
#define AK_NAME assign_rows_32
#define AK_DOT dot_32
#define AK_ATTR __attribute__((target("avx2,fma")))
#include "ot_assign_kernel.h"
#undef AK_BYTES
#undef AK_NAME
#undef AK_DOT
#undef AK_ATTR
#endif
#define AK_BYTES 16
#define AK_NAME assign_rows_16
#define AK_DOT dot_16
#define AK_ATTR
#include "ot_assign_kernel.h"
#undef AK_BYTES
#undef AK_NAME
#undef AK_DOT
#undef AK_ATTR

/* The widest vector the CPU runs, at most cap bytes (0: no cap). */
static int simd_bytes(int cap) {
  static int hw = 0; /* found once (a benign race: every thread finds the same) */
  if (hw == 0) {
    int w = 16;
#ifdef AK_X86
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) w = 32;
    if (w == 32 && __builtin_cpu_supports("avx512f") &&
        __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vl"))
      w = 64;
#endif
    if (w > (16 << WF_ISA_MAX)) w = 16 << WF_ISA_MAX; /* the build's cap */
    hw = w;
  }
  int w = hw;
  while (cap > 0 && w > cap && w > 16) w /= 2;
  return w;
}

static assign_fn kernel_for(int bytes) {
#ifdef AK_X86
  if (bytes == 64) return assign_rows_64;
  if (bytes == 32) return assign_rows_32;
#endif
  (void)bytes;
  return assign_rows_16;
}

static wf_cpu_dot_fn dot_for(int bytes) {
#ifdef AK_X86
  if (bytes == 64) return dot_64;
  if (bytes == 32) return dot_32;
#endif
  (void)bytes;
  return dot_16;
}

int wf_cpu_simd_bytes(const wf_ctx *ctx) { return simd_bytes(ctx->simd_cap); }

void wf_cpu_ot_assign_release(wf_ctx *ctx) {
  free(ctx->assign_ws);
  ctx->assign_ws = NULL;
  ctx->assign_bytes = 0;
}

void *wf_cpu_assign_space(wf_ctx *ctx, size_t bytes) {
  if (bytes <= ctx->assign_bytes) return ctx->assign_ws;
  wf_cpu_ot_assign_release(ctx);
  void *p = NULL;
  if (posix_memalign(&p, 64, bytes) != 0) return NULL;
  ctx->assign_ws = p;
  ctx->assign_bytes = bytes;
  return p;
}

/* pack[s][k][c] = a[(s NR + c) d + k], zero past the last row */
static void pack_batch(const wf_real *a /* [m x d] */, int m, int d, int nr,
                       int strips, wf_real *pack /* [strips x d x nr] */) {
  for (int s = 0; s < strips; s++) {
    wf_real *ps = pack + (size_t)s * d * nr;
    for (int c = 0; c < nr; c++) {
      const int j = s * nr + c;
      if (j < m) {
        const wf_real *aj = a + (size_t)j * d;
        for (int k = 0; k < d; k++) ps[(size_t)k * nr + c] = aj[k];
      } else {
        for (int k = 0; k < d; k++) ps[(size_t)k * nr + c] = 0;
      }
    }
  }
}

/* The same without work space: one batch row at a time, plain loops
 * (the scores in the kernel's order of operations are not promised here,
 * only a correct argmin). */
static void assign_plain(wf_cost_kind cost, const wf_real *a, int m,
                         const wf_real *y, int n, int d, const wf_real *yh,
                         const wf_real *psi, int *idx, wf_real *best) {
  for (int j = 0; j < m; j++) {
    const wf_real *aj = a + (size_t)j * d;
    wf_real b = INFINITY;
    int bi = 0;
    for (int i = 0; i < n; i++) {
      const wf_real *yi = y + (size_t)i * d;
      wf_real s = 0;
      if (cost == WF_COST_SQ)
        for (int k = 0; k < d; k++) s += aj[k] * yi[k];
      else
        for (int k = 0; k < d; k++) s += (wf_real)fabs((double)(aj[k] - yi[k]));
      const wf_real p = psi != NULL ? psi[i] : 0;
      const wf_real sc = cost == WF_COST_SQ ? (yh[i] - p) - s : s - p;
      if (sc < b) b = sc, bi = i;
    }
    idx[j] = bi;
    best[j] = b;
  }
}

/* the minimum's value from its score: + |a_j|^2 / 2 (in double) for SQ */
static wf_real finish_val(wf_cost_kind cost, const wf_real *aj /* [d] */, int d,
                          wf_real score) {
  double v = score;
  if (cost == WF_COST_SQ) {
    double s = 0;
    for (int k = 0; k < d; k++) s += (double)aj[k] * aj[k];
    v += 0.5 * s;
  }
  return (wf_real)v;
}

/* The fp32 (or fp64) kernel's assignment: the op without the screen. */
static void assign_kernel(wf_ctx *ctx, wf_cost_kind cost, const wf_real *a, int m,
                          const wf_real *y, int n, int d, const wf_real *yh,
                          const wf_real *psi, int *idx, wf_real *val) {
  const int bytes = simd_bytes(ctx->simd_cap);
  const int nr = 2 * bytes / (int)sizeof(wf_real);
  const int strips = (m + nr - 1) / nr;
  const size_t width = (size_t)strips * nr; /* padded batch columns */
  const int tiles = (n + AK_MR - 1) / AK_MR;
  int nt = ctx->threads;
  /* below ~2 MFLOP a fork-join costs more than it saves */
  if (2.0 * m * (double)n * d < 2e6) nt = 1;
  if (nt > WF_CPU_MAX_THREADS) nt = WF_CPU_MAX_THREADS;
  if (nt > tiles) nt = tiles;
  /* work space: the packed batch, then each thread's minima and indices */
  const size_t pack_bytes = sizeof(wf_real) * width * (size_t)d;
  const size_t per_thread = (sizeof(wf_real) + sizeof(ak_lane)) * width;
  char *ws = wf_cpu_assign_space(ctx, pack_bytes + per_thread * (size_t)nt + MAX_BYTES);
  if (ws == NULL) { /* no memory: plain loops, one batch row at a time */
    for (int j = 0; j < m; j++) {
      wf_real b;
      assign_plain(cost, a + (size_t)j * d, 1, y, n, d, yh, psi, idx + j, &b);
      if (val != NULL) val[j] = finish_val(cost, a + (size_t)j * d, d, b);
    }
    return;
  }
  {
    wf_real *pack = (wf_real *)ws;
    pack_batch(a, m, d, nr, strips, pack);
    int block = (int)(BLOCK_BYTES / (sizeof(wf_real) * (size_t)d * nr));
    if (block < 1) block = 1;
    assign_job job = {cost, y, n, d, yh, psi, pack, strips, block};
    assign_fn fn = kernel_for(bytes);
    char *thr = ws + pack_bytes;
#ifdef _OPENMP
#pragma omp parallel for num_threads(nt) schedule(static, 1) if (nt > 1)
#endif
    for (int t = 0; t < nt; t++) {
      wf_real *best = (wf_real *)(thr + per_thread * (size_t)t);
      ak_lane *bidx = (ak_lane *)(best + width);
      for (size_t c = 0; c < width; c++) best[c] = INFINITY, bidx[c] = 0;
      const int i0 = (int)((long)tiles * t / nt) * AK_MR;
      int i1 = (int)((long)tiles * (t + 1) / nt) * AK_MR;
      if (i1 > n) i1 = n;
      if (i0 < i1) fn(&job, i0, i1, best, bidx);
    }
    /* thread order, strict <: earlier rows win ties */
    wf_real *best0 = (wf_real *)thr;
    ak_lane *bidx0 = (ak_lane *)(best0 + width);
    for (int t = 1; t < nt; t++) {
      const wf_real *bt = (const wf_real *)(thr + per_thread * (size_t)t);
      const ak_lane *it = (const ak_lane *)(bt + width);
      for (int j = 0; j < m; j++)
        if (bt[j] < best0[j]) best0[j] = bt[j], bidx0[j] = it[j];
    }
    for (int j = 0; j < m; j++) {
      idx[j] = (int)bidx0[j];
      if (val != NULL) val[j] = finish_val(cost, a + (size_t)j * d, d, best0[j]);
    }
  }
}

/* The screen pays (knob "assign_screen" 1) from about this many data rows
 * (below, packing the batch costs more than it saves), coordinates (below,
 * the bounds and compares per score do) and products per call (measured on
 * a Zen 4: 0.7 of the kernel's time at 64 x 2000 x 784, 1.4 at
 * 64 x 200 x 784, 1.7 at 64 x 10000 x 8). */
#define SCREEN_MIN_ROWS 1024
#define SCREEN_MIN_D 64
#define SCREEN_MIN_PRODUCTS 8e6

/* whether the squared cost goes to the bf16 screen: where it runs, not
 * capped below 64-byte vectors (a cap stands for a CPU without AVX-512) */
static int screen_on(const wf_ctx *ctx, wf_cost_kind cost, int m, int n, int d) {
  if (cost != WF_COST_SQ || ctx->screen == 0 || d > 65536) return 0;
  if (ctx->simd_cap > 0 && ctx->simd_cap < 64) return 0;
  if (!wf_cpu_ot_bf16_ready()) return 0;
  return ctx->screen == 2 || (n >= SCREEN_MIN_ROWS && d >= SCREEN_MIN_D &&
                              (double)m * n * d >= SCREEN_MIN_PRODUCTS);
}

int wf_cpu_ot_screen_knob(wf_ctx *ctx, int value) {
  if (!wf_cpu_ot_bf16_ready()) return -1;
  int old = ctx->screen;
  if (value >= 0) ctx->screen = value > 2 ? 2 : value;
  return old;
}

/* The screen's columns left to the kernel (idx -1): their batch rows
 * gathered, assigned by the kernel, scattered back. Returns 0, or -1 with
 * nothing written when there is no memory. */
static int assign_left(wf_ctx *ctx, const wf_real *a, int m, const wf_real *y, int n,
                       int d, const wf_real *yh, const wf_real *psi, int *idx,
                       wf_real *val) {
  int left = 0;
  for (int j = 0; j < m; j++) left += idx[j] < 0;
  if (left == 0) return 0;
  int *cols = malloc(sizeof(int) * 2 * (size_t)left);              /* [left] x 2 */
  wf_real *sub = malloc(sizeof(wf_real) * ((size_t)left * d + left)); /* [left x d], [left] */
  if (cols == NULL || sub == NULL) {
    free(cols), free(sub);
    return -1;
  }
  int *sub_idx = cols + left;
  wf_real *sub_val = sub + (size_t)left * d;
  for (int j = 0, k = 0; j < m; j++)
    if (idx[j] < 0) {
      memcpy(sub + (size_t)k * d, a + (size_t)j * d, sizeof(wf_real) * d);
      cols[k++] = j;
    }
  assign_kernel(ctx, WF_COST_SQ, sub, left, y, n, d, yh, psi, sub_idx, sub_val);
  for (int k = 0; k < left; k++) {
    idx[cols[k]] = sub_idx[k];
    if (val != NULL) val[cols[k]] = sub_val[k];
  }
  free(cols), free(sub);
  return 0;
}

void wf_cpu_ot_assign(wf_ctx *ctx, wf_cost_kind cost, const wf_real *a, int m,
                      const wf_real *y, int n, int d, const wf_real *yh,
                      const wf_real *psi, int *idx, wf_real *val) {
  ctx->screened = 0;
  if (m <= 0 || n <= 0 || d <= 0) return;
  if (screen_on(ctx, cost, m, n, d)) {
    int nt = 2.0 * m * (double)n * d < 2e6 ? 1 : ctx->threads; /* as the kernel */
    if (nt > WF_CPU_MAX_THREADS) nt = WF_CPU_MAX_THREADS;
    const int bytes = simd_bytes(ctx->simd_cap);
    if (wf_cpu_ot_assign_bf16(ctx, a, m, y, n, d, yh, psi, dot_for(bytes), nt, idx, val) ==
        0) {
      /* val holds the scores: finish the settled columns' values first */
      for (int j = 0; j < m; j++)
        if (idx[j] >= 0) {
          ctx->screened++;
          if (val != NULL) val[j] = finish_val(cost, a + (size_t)j * d, d, val[j]);
        }
      if (assign_left(ctx, a, m, y, n, d, yh, psi, idx, val) == 0) return;
      ctx->screened = 0;
    }
  }
  assign_kernel(ctx, cost, a, m, y, n, d, yh, psi, idx, val);
}
