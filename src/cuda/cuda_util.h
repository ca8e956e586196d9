/* cuda_util.h — what every file of the CUDA backend shares: the context,
 * error recording, launch geometry and deterministic reductions.
 *
 * Internal to wgflow_cuda.so: everything declared here is hidden or static,
 * so the shared object exports only the entry points of wf_cuda.h.
 */
#ifndef WF_CUDA_UTIL_H
#define WF_CUDA_UTIL_H

#ifdef WF_DOUBLE
#error "the CUDA backend computes in float only: build it without WF_DOUBLE"
#endif

#include <stddef.h>
#include <stdint.h>

#include <cublas_v2.h>
#include <cuda_runtime.h>

#include "backend.h"

#define WF_CU_HIDDEN __attribute__((visibility("hidden")))

/* ---- launch geometry -------------------------------------------------------
 * Every kernel runs blocks of WF_CU_THREADS (a multiple of 32: the warp
 * reductions need full warps) and loops grid-stride, so a grid is capped and
 * never depends on the GPU; a reduction's grid depends only on its sizes,
 * which keeps its summation order, and so its bits, fixed. */
#define WF_CU_THREADS 256
#define WF_CU_WARPS (WF_CU_THREADS / 32)
#define WF_CU_MAX_GRID 32768
/* blocks of a reduction into scalar slots (each leaves partials) */
#define WF_CU_MAX_PARTIALS 1024
#define WF_CU_SINK_SLOTS 2

/* blocks for n items at per_block items a block (n > 0), capped at cap */
static inline unsigned int wf_cu_grid_cap(size_t n, size_t per_block,
                                          unsigned int cap) {
  size_t b = (n + per_block - 1) / per_block;
  return (unsigned int)(b < cap ? b : cap);
}
static inline unsigned int wf_cu_grid(size_t n) {
  return wf_cu_grid_cap(n, WF_CU_THREADS, WF_CU_MAX_GRID);
}
/* Column kernels give a block cb = min(WF_CU_COL_BLOCK, pow2(n)) adjacent
 * columns and 256 / cb row groups: 8 floats are one 32-byte sector, so rows
 * are still read whole sectors at a time, and a thin matrix (a bias
 * gradient of 1 to 128 columns) still gets many threads per column. */
#define WF_CU_COL_BLOCK 8

/* the smallest power of two >= n, at most cap (a power of two) */
static inline int wf_cu_pow2(int n, int cap) {
  int w = 1;
  while (w < n && w < cap) w <<= 1;
  return w;
}

#define WF_CU_FOR(i, n)                                                      \
  for (size_t i = (size_t)blockIdx.x * blockDim.x + threadIdx.x; i < (n);     \
       i += (size_t)gridDim.x * blockDim.x)

/* ---- the caching allocator ---------------------------------------------------
 * Sizes round up to classes (256-byte multiples, four per power of two, so
 * at most 25% slack); a released block goes on its class's free list and is
 * handed out again without cudaMalloc. The cache frees to the driver only in
 * ctx_free, on an allocation that failed (then retried), or by the
 * "cache_mb" knob. While a graph is being recorded only the cache serves:
 * a miss is an error, not a cudaMalloc (ctx.cu). */
#define WF_CU_CLASSES 160

typedef struct {
  char *ptr;     /* device, 256-aligned */
  size_t bytes;  /* the class size */
  int cls;
  int in_use;
  int next_free; /* next free block of the class, or -1 */
} wf_cu_block;

typedef struct {
  wf_cu_block *blocks; /* [cap_blocks], n_blocks used */
  int n_blocks, cap_blocks;
  int *table;          /* [table_cap] ptr -> block index (open addressing), -1 empty */
  size_t table_cap;    /* a power of two, > 2 * n_blocks */
  int free_head[WF_CU_CLASSES];
  size_t reserved;     /* bytes held from the driver */
  size_t in_use;       /* bytes handed out */
} wf_cu_pool;

/* cuBLAS's workspace, set once at ctx_create (cublasSetWorkspace), so a
 * product recorded into a graph never allocates */
#define WF_CU_BLAS_WORKSPACE ((size_t)32 << 20)

struct wf_ctx {
  int device;
  cudaStream_t stream; /* non-blocking: never waits on the legacy stream */
  cublasHandle_t blas; /* bound to stream */
  int tf32;
  wf_cu_pool pool;
  void *blas_ws;        /* device [WF_CU_BLAS_WORKSPACE], from the pool */
  void *staging;        /* pinned host [staging_bytes], for host copies */
  size_t staging_bytes;
  double *partials;     /* device [WF_CU_SINK_SLOTS * WF_CU_MAX_PARTIALS] */
  unsigned int *ticket; /* device [1]: blocks done; 0 between kernels */
  wf_status err;        /* sticky: the first failure, WF_OK if none */
  char err_msg[WF_MSG_LEN];
  /* Recording a graph (graph.cu): between begin and end the stream is
   * captured, and nothing may allocate from the driver, copy to or from the
   * host or wait (each is a sticky WF_ERR_STATE then). A failure of CUDA to
   * record (an unsupported capture) is not sticky: it goes to graph_err /
   * graph_msg, end reports it, and the stream stays usable for eager ops. */
  int capturing;
  wf_status graph_err;  /* the last recording's failure, WF_OK if none */
  char graph_msg[WF_MSG_LEN];
};

/* ---- errors (ctx.cu) ----------------------------------------------------------
 * The first failure sticks (status and text) until the context is freed:
 * after a failed kernel nothing later can be trusted. */
#ifdef __cplusplus
extern "C" {
#endif
WF_CU_HIDDEN void wf_cu_fail(wf_ctx *ctx, wf_status st, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* 1 if e is cudaSuccess, else records it (what: the op) and returns 0 */
WF_CU_HIDDEN int wf_cu_cuda_ok(wf_ctx *ctx, cudaError_t e, const char *what);
WF_CU_HIDDEN int wf_cu_blas_ok(wf_ctx *ctx, cublasStatus_t s, const char *what);
/* A recording CUDA could not make (what: the call; text: CUDA's words):
 * kept in graph_err / graph_msg, not sticky; clears CUDA's last error. */
WF_CU_HIDDEN void wf_cu_graph_fail(wf_ctx *ctx, wf_status st, const char *what,
                                   const char *text);
/* 1 (and a sticky WF_ERR_STATE "<what> while recording a graph") if the
 * stream is being recorded, where a host copy, a wait or a cudaMalloc must
 * not run; else 0 */
WF_CU_HIDDEN int wf_cu_recording(wf_ctx *ctx, const char *what);
#ifdef __cplusplus
}
#endif

/* After a launch: a bad configuration shows at once, a fault in the kernel
 * only at a later synchronisation. cudaGetLastError does not wait. */
#define WF_CU_LAUNCHED(ctx, what) wf_cu_cuda_ok((ctx), cudaGetLastError(), (what))

/* ---- device helpers ------------------------------------------------------------ */
#ifdef __CUDACC__

/* idx = i * n + j for n > 0: 32-bit division when idx allows (the common
 * case), 64-bit otherwise */
static __device__ __forceinline__ void wf_cu_divmod(size_t idx, unsigned int n,
                                                    size_t *i, unsigned int *j) {
  if (idx <= 0xffffffffu) {
    unsigned int q = (unsigned int)idx / n;
    *i = q;
    *j = (unsigned int)idx - q * n;
  } else {
    size_t q = idx / n;
    *i = q;
    *j = (unsigned int)(idx - q * n);
  }
}

/* Sum over a warp, fixed order; lane 0 gets the total. */
static __device__ __forceinline__ double wf_cu_warp_sum(double v) {
  for (int off = 16; off > 0; off >>= 1)
    v += __shfl_down_sync(0xffffffffu, v, off);
  return v;
}

/* Sum over aligned groups of `width` lanes (a power of two <= 32), by
 * butterfly: every lane of a group ends with the same bits (each step adds
 * the same two numbers in either order). All 32 lanes must call it. */
static __device__ __forceinline__ double wf_cu_group_sum(double v, int width) {
  for (int off = width >> 1; off > 0; off >>= 1)
    v += __shfl_xor_sync(0xffffffffu, v, off, width);
  return v;
}

/* Sum of K values over a 1-D block (all threads call it); thread 0 gets the
 * totals in v. Fixed order. */
template <int K>
static __device__ __forceinline__ void wf_cu_block_sum(double (&v)[K]) {
  __shared__ double sh[K][32];
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
  const int nw = blockDim.x >> 5;
  for (int k = 0; k < K; k++) v[k] = wf_cu_warp_sum(v[k]);
  __syncthreads(); /* an earlier call's readers are done with sh */
  if (lane == 0)
    for (int k = 0; k < K; k++) sh[k][warp] = v[k];
  __syncthreads();
  if (warp == 0)
    for (int k = 0; k < K; k++) v[k] = wf_cu_warp_sum(lane < nw ? sh[k][lane] : 0.0);
}

/* Column totals in a 1-D block laid out as [row group][cb columns]
 * (thread t: column t % cb, row group t / cb; cb a power of two):
 * a fixed tree over the row groups. sh: [blockDim.x] shared. Every thread
 * gets its column's total. */
template <typename T>
static __device__ __forceinline__ T wf_cu_col_total(T v, T *sh, int cb) {
  __syncthreads(); /* an earlier call's readers are done with sh */
  sh[threadIdx.x] = v;
  __syncthreads();
  for (int s = blockDim.x >> 1; s >= cb; s >>= 1) {
    if ((int)threadIdx.x < s) sh[threadIdx.x] += sh[threadIdx.x + s];
    __syncthreads();
  }
  return sh[threadIdx.x & (cb - 1)];
}
#endif /* __CUDACC__ */

/* Where a reduction's totals go: slot[k] += mul[k] * total[k] / div[k]
 * (slot[k] NULL: dropped). Blocks leave partials in the context's workspace;
 * the last block to finish (an integer ticket, not a float atomic) sums them
 * in block order, so the result does not depend on scheduling. */
typedef struct {
  double *slot[WF_CU_SINK_SLOTS];
  double mul[WF_CU_SINK_SLOTS], div[WF_CU_SINK_SLOTS];
  double *partials;     /* ctx->partials */
  unsigned int *ticket; /* ctx->ticket */
} wf_cu_sink;

static inline wf_cu_sink wf_cu_sink_make(wf_ctx *ctx) {
  wf_cu_sink s;
  for (int k = 0; k < WF_CU_SINK_SLOTS; k++) {
    s.slot[k] = NULL;
    s.mul[k] = 1.0;
    s.div[k] = 1.0;
  }
  s.partials = ctx->partials;
  s.ticket = ctx->ticket;
  return s;
}

#ifdef __CUDACC__
/* Adds the block-wide sums of v (every thread's share) to the sink's slots.
 * The grid must be <= WF_CU_MAX_PARTIALS blocks of one dimension; all
 * threads of every block must call it. */
template <int K>
static __device__ void wf_cu_sink_add(double (&v)[K], const wf_cu_sink &s) {
  __shared__ int last;
  wf_cu_block_sum<K>(v);
  if (gridDim.x == 1) {
    if (threadIdx.x == 0)
      for (int k = 0; k < K; k++)
        if (s.slot[k] != NULL) *s.slot[k] += s.mul[k] * v[k] / s.div[k];
    return;
  }
  if (threadIdx.x == 0) {
    for (int k = 0; k < K; k++) s.partials[k * gridDim.x + blockIdx.x] = v[k];
    __threadfence(); /* partials visible before the ticket is taken */
    last = atomicAdd(s.ticket, 1u) == gridDim.x - 1;
  }
  __syncthreads();
  if (!last) return;
  __threadfence();
  for (int k = 0; k < K; k++) {
    double w = 0;
    for (unsigned int b = threadIdx.x; b < gridDim.x; b += blockDim.x)
      w += __ldcg(s.partials + k * gridDim.x + b); /* L2, never a stale L1 */
    v[k] = w;
  }
  wf_cu_block_sum<K>(v);
  if (threadIdx.x == 0) {
    for (int k = 0; k < K; k++)
      if (s.slot[k] != NULL) *s.slot[k] += s.mul[k] * v[k] / s.div[k];
    *s.ticket = 0; /* ready for the next reduction on this stream */
  }
}

/* ---- slots a kernel reads and advances ---------------------------------------
 * A stream's counter or an optimiser's step count lives in a device slot:
 * the kernel reads the old value at its start and leaves the new one, with
 * no extra launch and no host round trip, so a recorded graph advances it
 * on every replay. Every block reads (thread 0, wf_cu_slot_read); the new
 * value is written by the last block to finish reading, found with the
 * context's integer ticket (as wf_cu_sink_add): a block takes its ticket
 * only after its own read (the fence orders the two), so when the count
 * reaches gridDim.x every block has read the old value. The writer resets
 * the ticket for the next kernel on the stream. */

/* the slot's value in every thread of the block (all threads call it) */
static __device__ __forceinline__ double wf_cu_slot_read(const double *slot) {
  __shared__ double v;
  if (threadIdx.x == 0) v = *slot;
  __syncthreads();
  return v;
}

/* thread 0 of every block, after wf_cu_slot_read: *slot = value once every
 * block has read the old one */
static __device__ __forceinline__ void wf_cu_slot_store_last(double *slot, double value,
                                                             unsigned int *ticket) {
  if (gridDim.x == 1) {
    *slot = value;
    return;
  }
  __threadfence(); /* this block's read of the slot before its ticket */
  if (atomicAdd(ticket, 1u) == gridDim.x - 1) {
    __threadfence(); /* every block's ticket, so its read, before the write */
    *slot = value;
    *ticket = 0; /* ready for the next kernel on this stream */
  }
}
#endif /* __CUDACC__ */

#endif
