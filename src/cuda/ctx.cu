/* ctx.cu — the CUDA context: stream, cuBLAS handle and workspace, caching
 * allocator, pinned staging buffer, reduction workspace and the sticky
 * error; the memory ops and knobs of the table.
 *
 * Only the host copies (upload, download, read_scalars, write_scalars) and
 * synchronize wait; everything else is queued on the context's stream.
 * While the stream is recorded into a graph (graph.cu) none of those may
 * run, nor a cudaMalloc: each fails with a sticky WF_ERR_STATE naming the
 * call, without touching the capture.
 */
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cuda_ops.h"

/* ---- errors ------------------------------------------------------------------ */

void wf_cu_fail(wf_ctx *ctx, wf_status st, const char *fmt, ...) {
  if (ctx->err != WF_OK) return; /* the first failure is the one to report */
  ctx->err = st;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(ctx->err_msg, WF_MSG_LEN, fmt, ap);
  va_end(ap);
}

/* Is e CUDA saying a capture cannot record what it was given (not that the
 * GPU or the call failed)? */
static int capture_error(cudaError_t e) {
  switch (e) {
  case cudaErrorStreamCaptureUnsupported:
  case cudaErrorStreamCaptureInvalidated:
  case cudaErrorStreamCaptureMerge:
  case cudaErrorStreamCaptureUnmatched:
  case cudaErrorStreamCaptureUnjoined:
  case cudaErrorStreamCaptureIsolation:
  case cudaErrorStreamCaptureImplicit:
  case cudaErrorCapturedEvent:
  case cudaErrorStreamCaptureWrongThread:
    return 1;
  default:
    return 0;
  }
}

void wf_cu_graph_fail(wf_ctx *ctx, wf_status st, const char *what, const char *text) {
  (void)cudaGetLastError(); /* not sticky: later launches must not see it */
  if (ctx->graph_err != WF_OK) return; /* the first failure is the cause */
  ctx->graph_err = st;
  snprintf(ctx->graph_msg, WF_MSG_LEN, "cannot record a CUDA graph (%s): %s", what, text);
}

int wf_cu_cuda_ok(wf_ctx *ctx, cudaError_t e, const char *what) {
  if (e == cudaSuccess) return 1;
  if (ctx->capturing && capture_error(e)) {
    /* the recording is lost, not the context: end reports it */
    wf_cu_graph_fail(ctx, WF_ERR_UNSUPPORTED, what, cudaGetErrorString(e));
    return 0;
  }
  wf_cu_fail(ctx, e == cudaErrorMemoryAllocation ? WF_ERR_NOMEM : WF_ERR_DEVICE,
             "CUDA error in %s: %s", what, cudaGetErrorString(e));
  return 0;
}

int wf_cu_blas_ok(wf_ctx *ctx, cublasStatus_t s, const char *what) {
  if (s == CUBLAS_STATUS_SUCCESS) return 1;
  if (ctx->capturing) {
    /* a kernel cuBLAS launched into a capture that CUDA gave up on */
    cudaStreamCaptureStatus cs = cudaStreamCaptureStatusNone;
    cudaError_t e = cudaStreamIsCapturing(ctx->stream, &cs);
    if (e == cudaSuccess && cs == cudaStreamCaptureStatusInvalidated) {
      wf_cu_graph_fail(ctx, WF_ERR_UNSUPPORTED, what, cublasGetStatusString(s));
      return 0;
    }
  }
  wf_cu_fail(ctx, s == CUBLAS_STATUS_ALLOC_FAILED ? WF_ERR_NOMEM : WF_ERR_DEVICE,
             "cuBLAS error in %s: %s", what, cublasGetStatusString(s));
  return 0;
}

static void put_msg(char *msg, const char *fmt, ...) {
  if (msg == NULL) return;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, WF_MSG_LEN, fmt, ap);
  va_end(ap);
}

/* The sticky error and its text. With none, msg gets the text of the last
 * failed recording (not sticky: the status is WF_OK), or "". */
wf_status wf_cu_last_error(wf_ctx *ctx, char *msg) {
  if (ctx->err != WF_OK) put_msg(msg, "%s", ctx->err_msg);
  else if (ctx->graph_err != WF_OK) put_msg(msg, "%s", ctx->graph_msg);
  else put_msg(msg, "%s", "");
  return ctx->err;
}

int wf_cu_recording(wf_ctx *ctx, const char *what) {
  if (!ctx->capturing) return 0;
  wf_cu_fail(ctx, WF_ERR_STATE, "%s while recording a graph", what);
  return 1;
}

wf_status wf_cu_synchronize(wf_ctx *ctx, char *msg) {
  if (!wf_cu_recording(ctx, "synchronize"))
    wf_cu_cuda_ok(ctx, cudaStreamSynchronize(ctx->stream), "queued GPU work");
  return wf_cu_last_error(ctx, msg);
}

/* ---- the caching allocator ----------------------------------------------------- */

/* Class of a request: sizes 256, 512, 768, 1024, then four per power of
 * two (2^p + q 2^(p-2), q = 1..4). -1 above 128 TiB. */
static int size_class(size_t bytes, size_t *size) {
  if (bytes > ((size_t)1 << 47)) return -1;
  size_t r = bytes == 0 ? 256 : (bytes + 255) & ~(size_t)255;
  if (r <= 1024) {
    *size = r;
    return (int)(r / 256) - 1;
  }
  int p = 10; /* 2^p < r <= 2^(p+1) */
  while (((size_t)1 << (p + 1)) < r) p++;
  size_t base = (size_t)1 << p, step = base >> 2;
  size_t q = (r - base + step - 1) / step;
  *size = base + q * step;
  return 4 + (p - 10) * 4 + (int)q - 1;
}

static size_t ptr_hash(const void *p, size_t cap) {
  uint64_t x = (uint64_t)(uintptr_t)p >> 8; /* blocks are 256-aligned */
  x *= 0x9E3779B97F4A7C15ull;
  return (size_t)(x >> 32) & (cap - 1);
}

static void table_insert(wf_cu_pool *pl, int i) {
  size_t h = ptr_hash(pl->blocks[i].ptr, pl->table_cap);
  while (pl->table[h] >= 0) h = (h + 1) & (pl->table_cap - 1);
  pl->table[h] = i;
}

static int table_find(const wf_cu_pool *pl, const void *p) {
  if (pl->table == NULL) return -1;
  size_t h = ptr_hash(p, pl->table_cap);
  for (;;) {
    int i = pl->table[h];
    if (i < 0) return -1;
    if (pl->blocks[i].ptr == (const char *)p) return i;
    h = (h + 1) & (pl->table_cap - 1);
  }
}

static void table_refill(wf_cu_pool *pl) {
  for (size_t h = 0; h < pl->table_cap; h++) pl->table[h] = -1;
  for (int i = 0; i < pl->n_blocks; i++) table_insert(pl, i);
}

/* room for one more block in the host arrays (0: out of host memory) */
static int pool_room(wf_cu_pool *pl) {
  if (pl->n_blocks == pl->cap_blocks) {
    int cap = pl->cap_blocks > 0 ? 2 * pl->cap_blocks : 64;
    wf_cu_block *b = (wf_cu_block *)realloc(pl->blocks, sizeof(wf_cu_block) * (size_t)cap);
    if (b == NULL) return 0;
    pl->blocks = b;
    pl->cap_blocks = cap;
  }
  if (2 * (size_t)(pl->n_blocks + 1) > pl->table_cap) {
    size_t cap = pl->table_cap > 0 ? 2 * pl->table_cap : 128;
    int *t = (int *)malloc(sizeof(int) * cap);
    if (t == NULL) return 0;
    free(pl->table);
    pl->table = t;
    pl->table_cap = cap;
    table_refill(pl);
  }
  return 1;
}

/* Give every cached (released) block back to the driver. Waits: a released
 * block may still be read by queued kernels. Never while recording. */
static void pool_trim(wf_ctx *ctx) {
  wf_cu_pool *pl = &ctx->pool;
  if (ctx->capturing) return;
  wf_cu_cuda_ok(ctx, cudaStreamSynchronize(ctx->stream), "queued GPU work");
  int k = 0;
  for (int i = 0; i < pl->n_blocks; i++) {
    wf_cu_block b = pl->blocks[i];
    if (b.in_use) {
      b.next_free = -1;
      pl->blocks[k++] = b;
    } else {
      cudaFree(b.ptr);
      pl->reserved -= b.bytes;
    }
  }
  pl->n_blocks = k;
  for (int c = 0; c < WF_CU_CLASSES; c++) pl->free_head[c] = -1;
  if (pl->table != NULL) table_refill(pl);
}

void *wf_cu_alloc(wf_ctx *ctx, size_t bytes) {
  wf_cu_pool *pl = &ctx->pool;
  size_t size = 0;
  int cls = size_class(bytes, &size);
  if (cls < 0) return NULL;
  int i = pl->free_head[cls];
  if (i >= 0) { /* the fast path: a cached block of the class, no CUDA call */
    wf_cu_block *b = &pl->blocks[i];
    pl->free_head[cls] = b->next_free;
    b->next_free = -1;
    b->in_use = 1;
    pl->in_use += b->bytes;
    return b->ptr;
  }
  /* a cudaMalloc would invalidate the capture: refuse it (stickily: the
   * caller's step cannot go on without the memory), capture untouched */
  if (wf_cu_recording(ctx, "allocation")) return NULL;
  if (!pool_room(pl)) return NULL;
  void *p = NULL;
  cudaError_t e = cudaMalloc(&p, size);
  if (e == cudaErrorMemoryAllocation) {
    (void)cudaGetLastError(); /* not sticky: clear it */
    pool_trim(ctx);
    e = cudaMalloc(&p, size);
  }
  if (e != cudaSuccess) {
    (void)cudaGetLastError();
    /* out of memory is the caller's to report (NULL); anything else means
     * the context is broken, which later calls must know */
    if (e != cudaErrorMemoryAllocation) wf_cu_cuda_ok(ctx, e, "alloc");
    return NULL;
  }
  i = pl->n_blocks++;
  pl->blocks[i].ptr = (char *)p;
  pl->blocks[i].bytes = size;
  pl->blocks[i].cls = cls;
  pl->blocks[i].in_use = 1;
  pl->blocks[i].next_free = -1;
  table_insert(pl, i);
  pl->reserved += size;
  pl->in_use += size;
  return p;
}

void wf_cu_release(wf_ctx *ctx, void *p) {
  if (ctx == NULL || p == NULL) return;
  wf_cu_pool *pl = &ctx->pool;
  int i = table_find(pl, p);
  if (i < 0 || !pl->blocks[i].in_use) {
    wf_cu_fail(ctx, WF_ERR_ARG,
               "release of a pointer that is not a live allocation of this CUDA context");
    return;
  }
  wf_cu_block *b = &pl->blocks[i];
  b->in_use = 0;
  b->next_free = pl->free_head[b->cls];
  pl->free_head[b->cls] = i;
  pl->in_use -= b->bytes;
}

/* ---- context ------------------------------------------------------------------ */

/* the reduction workspace: partials, then the ticket */
#define WS_PARTIALS_BYTES (sizeof(double) * WF_CU_SINK_SLOTS * WF_CU_MAX_PARTIALS)
#define WS_BYTES (WS_PARTIALS_BYTES + 256)

void wf_cu_ctx_free(wf_ctx *ctx) {
  if (ctx == NULL) return;
  if (ctx->capturing) wf_cu_graph_abandon(ctx);
  if (ctx->stream != NULL) (void)cudaStreamSynchronize(ctx->stream);
  /* the handle first: its workspace is one of the pool's blocks */
  if (ctx->blas != NULL) cublasDestroy(ctx->blas);
  wf_cu_pool *pl = &ctx->pool;
  for (int i = 0; i < pl->n_blocks; i++) cudaFree(pl->blocks[i].ptr);
  free(pl->blocks);
  free(pl->table);
  if (ctx->partials != NULL) cudaFree(ctx->partials);
  if (ctx->staging != NULL) cudaFreeHost(ctx->staging);
  if (ctx->stream != NULL) cudaStreamDestroy(ctx->stream);
  (void)cudaGetLastError(); /* leave no error behind for the next context */
  free(ctx);
}

wf_status wf_cu_ctx_create(wf_ctx **out, char *msg) {
  *out = NULL;
  int n = 0;
  cudaError_t e = cudaGetDeviceCount(&n);
  if (e != cudaSuccess) {
    (void)cudaGetLastError();
    put_msg(msg, "CUDA is not usable here: %s", cudaGetErrorString(e));
    return WF_ERR_DEVICE;
  }
  if (n <= 0) {
    put_msg(msg, "no CUDA-capable device found");
    return WF_ERR_DEVICE;
  }
  wf_ctx *ctx = (wf_ctx *)calloc(1, sizeof(wf_ctx));
  if (ctx == NULL) {
    put_msg(msg, "out of host memory creating a CUDA context");
    return WF_ERR_NOMEM;
  }
  for (int c = 0; c < WF_CU_CLASSES; c++) ctx->pool.free_head[c] = -1;
  ctx->device = 0;
  ctx->err = WF_OK;
  ctx->graph_err = WF_OK;

  wf_status rc = WF_ERR_DEVICE;
  const char *step = "";
  cublasStatus_t bs;
  if ((e = cudaSetDevice(ctx->device)) != cudaSuccess) {
    step = "selecting device 0";
    goto cuda_fail;
  }
  if ((e = cudaStreamCreateWithFlags(&ctx->stream, cudaStreamNonBlocking)) != cudaSuccess) {
    ctx->stream = NULL;
    step = "creating a stream";
    goto cuda_fail;
  }
  if ((bs = cublasCreate(&ctx->blas)) != CUBLAS_STATUS_SUCCESS) {
    ctx->blas = NULL;
    put_msg(msg, "CUDA device 0: cannot create a cuBLAS handle: %s",
            cublasGetStatusString(bs));
    goto fail;
  }
  if ((bs = cublasSetStream(ctx->blas, ctx->stream)) != CUBLAS_STATUS_SUCCESS ||
      (bs = cublasSetMathMode(ctx->blas, CUBLAS_DEFAULT_MATH)) != CUBLAS_STATUS_SUCCESS) {
    put_msg(msg, "CUDA device 0: cannot set up cuBLAS: %s", cublasGetStatusString(bs));
    goto fail;
  }
  /* cuBLAS's workspace, held for the context's life, so a product never
   * allocates (a graph being recorded cannot take that). Set after
   * cublasSetStream, which puts back cuBLAS's own. */
  ctx->blas_ws = wf_cu_alloc(ctx, WF_CU_BLAS_WORKSPACE);
  if (ctx->blas_ws == NULL) {
    rc = WF_ERR_NOMEM;
    put_msg(msg, "CUDA device 0: cannot allocate cuBLAS's workspace (%zu MiB)%s%s",
            WF_CU_BLAS_WORKSPACE >> 20, ctx->err != WF_OK ? ": " : "",
            ctx->err != WF_OK ? ctx->err_msg : "");
    goto fail;
  }
  if ((bs = cublasSetWorkspace(ctx->blas, ctx->blas_ws, WF_CU_BLAS_WORKSPACE)) !=
      CUBLAS_STATUS_SUCCESS) {
    put_msg(msg, "CUDA device 0: cannot set cuBLAS's workspace: %s",
            cublasGetStatusString(bs));
    goto fail;
  }
  {
    void *ws = NULL;
    if ((e = cudaMalloc(&ws, WS_BYTES)) != cudaSuccess) {
      step = "allocating the reduction workspace";
      goto cuda_fail;
    }
    ctx->partials = (double *)ws;
    ctx->ticket = (unsigned int *)((char *)ws + WS_PARTIALS_BYTES);
  }
  if ((e = cudaMemsetAsync(ctx->ticket, 0, sizeof(unsigned int), ctx->stream)) != cudaSuccess ||
      (e = cudaStreamSynchronize(ctx->stream)) != cudaSuccess) {
    step = "initialising the reduction workspace";
    goto cuda_fail;
  }
  *out = ctx;
  put_msg(msg, "%s", "");
  return WF_OK;

cuda_fail:
  rc = e == cudaErrorMemoryAllocation ? WF_ERR_NOMEM : WF_ERR_DEVICE;
  put_msg(msg, "CUDA device 0: error %s: %s", step, cudaGetErrorString(e));
fail:
  (void)cudaGetLastError();
  wf_cu_ctx_free(ctx);
  return rc;
}

int wf_cu_knob(wf_ctx *ctx, const char *name, int value) {
  if (ctx == NULL || name == NULL) return -1;
  if (strcmp(name, "tf32") == 0) {
    int old = ctx->tf32;
    if (value >= 0) {
      ctx->tf32 = value != 0;
      wf_cu_blas_ok(ctx,
                    cublasSetMathMode(ctx->blas, ctx->tf32 ? CUBLAS_TF32_TENSOR_OP_MATH
                                                           : CUBLAS_DEFAULT_MATH),
                    "knob tf32");
    }
    return old;
  }
  if (strcmp(name, "device") == 0) return ctx->device; /* read-only */
  if (strcmp(name, "live_kib") == 0) { /* read-only: KiB handed out, not released */
    size_t kib = (ctx->pool.in_use + 1023) >> 10;
    return kib > (size_t)INT_MAX ? INT_MAX : (int)kib;
  }
  if (strcmp(name, "cache_mb") == 0) {
    /* MiB held from the driver (in use + cached); setting 0 gives the
     * cached part back (waits for queued work) */
    size_t mb = (ctx->pool.reserved + ((size_t)1 << 20) - 1) >> 20;
    if (value == 0) pool_trim(ctx);
    return mb > (size_t)INT_MAX ? INT_MAX : (int)mb;
  }
  return -1;
}

/* ---- host <-> device copies ------------------------------------------------------ */

/* the staging buffer's largest size: longer copies go in chunks */
#define STAGING_MAX ((size_t)8 << 20)

static int staging_ensure(wf_ctx *ctx, size_t bytes) {
  if (ctx->staging_bytes >= bytes) return 1;
  size_t want = bytes < 65536 ? 65536 : bytes;
  if (ctx->staging != NULL) cudaFreeHost(ctx->staging); /* idle: copies wait */
  ctx->staging = NULL;
  ctx->staging_bytes = 0;
  void *p = NULL;
  if (!wf_cu_cuda_ok(ctx, cudaMallocHost(&p, want), "allocating pinned staging memory"))
    return 0;
  ctx->staging = p;
  ctx->staging_bytes = want;
  return 1;
}

static wf_status copy_failed(wf_ctx *ctx) {
  return ctx->err != WF_OK ? ctx->err : WF_ERR_DEVICE;
}

/* one chunk through the stream, waiting for it (and all queued before it) */
static int copy_wait(wf_ctx *ctx, void *dst, const void *src, size_t bytes,
                     cudaMemcpyKind kind, const char *what) {
  return wf_cu_cuda_ok(ctx, cudaMemcpyAsync(dst, src, bytes, kind, ctx->stream), what) &&
         wf_cu_cuda_ok(ctx, cudaStreamSynchronize(ctx->stream), what);
}

wf_status wf_cu_upload(wf_ctx *ctx, wf_real *dst, const double *src, size_t n) {
  const size_t chunk = STAGING_MAX / sizeof(wf_real);
  if (wf_cu_recording(ctx, "upload")) return ctx->err;
  if (n == 0) return WF_OK;
  if (!staging_ensure(ctx, (n < chunk ? n : chunk) * sizeof(wf_real))) return copy_failed(ctx);
  wf_real *st = (wf_real *)ctx->staging;
  for (size_t off = 0; off < n; off += chunk) {
    size_t len = n - off < chunk ? n - off : chunk;
    for (size_t i = 0; i < len; i++) st[i] = (wf_real)src[off + i];
    if (!copy_wait(ctx, dst + off, st, len * sizeof(wf_real), cudaMemcpyHostToDevice, "upload"))
      return copy_failed(ctx);
  }
  return WF_OK;
}

wf_status wf_cu_download(wf_ctx *ctx, double *dst, const wf_real *src, size_t n) {
  const size_t chunk = STAGING_MAX / sizeof(wf_real);
  if (wf_cu_recording(ctx, "download")) return ctx->err;
  if (n == 0) return WF_OK;
  if (!staging_ensure(ctx, (n < chunk ? n : chunk) * sizeof(wf_real))) return copy_failed(ctx);
  const wf_real *st = (const wf_real *)ctx->staging;
  for (size_t off = 0; off < n; off += chunk) {
    size_t len = n - off < chunk ? n - off : chunk;
    if (!copy_wait(ctx, ctx->staging, src + off, len * sizeof(wf_real), cudaMemcpyDeviceToHost,
                   "download"))
      return copy_failed(ctx);
    for (size_t i = 0; i < len; i++) dst[off + i] = (double)st[i];
  }
  return WF_OK;
}

/* ints need no conversion: straight from / to the caller's memory */
wf_status wf_cu_upload_int(wf_ctx *ctx, int *dst, const int *src, size_t n) {
  if (wf_cu_recording(ctx, "upload_int")) return ctx->err;
  if (n == 0) return WF_OK;
  return copy_wait(ctx, dst, src, n * sizeof(int), cudaMemcpyHostToDevice, "upload_int")
             ? WF_OK
             : copy_failed(ctx);
}

wf_status wf_cu_download_int(wf_ctx *ctx, int *dst, const int *src, size_t n) {
  if (wf_cu_recording(ctx, "download_int")) return ctx->err;
  if (n == 0) return WF_OK;
  return copy_wait(ctx, dst, src, n * sizeof(int), cudaMemcpyDeviceToHost, "download_int")
             ? WF_OK
             : copy_failed(ctx);
}

wf_status wf_cu_read_scalars(wf_ctx *ctx, double *host, const double *slots, int n) {
  if (wf_cu_recording(ctx, "read_scalars")) return ctx->err;
  if (n <= 0) return WF_OK;
  size_t bytes = sizeof(double) * (size_t)n;
  if (bytes > STAGING_MAX) /* never in practice: a phase has a few slots */
    return copy_wait(ctx, host, slots, bytes, cudaMemcpyDeviceToHost, "read_scalars")
               ? WF_OK
               : copy_failed(ctx);
  if (!staging_ensure(ctx, bytes)) return copy_failed(ctx);
  if (!copy_wait(ctx, ctx->staging, slots, bytes, cudaMemcpyDeviceToHost, "read_scalars"))
    return copy_failed(ctx);
  memcpy(host, ctx->staging, bytes);
  return WF_OK;
}

/* slots [n] = host [n] through the staging buffer; waits (the staging
 * buffer is reused by the next copy) */
wf_status wf_cu_write_scalars(wf_ctx *ctx, double *slots, const double *host, int n) {
  if (wf_cu_recording(ctx, "write_scalars")) return ctx->err;
  if (n <= 0) return WF_OK;
  size_t bytes = sizeof(double) * (size_t)n;
  if (bytes > STAGING_MAX) /* never in practice: a phase has a few slots */
    return copy_wait(ctx, slots, host, bytes, cudaMemcpyHostToDevice, "write_scalars")
               ? WF_OK
               : copy_failed(ctx);
  if (!staging_ensure(ctx, bytes)) return copy_failed(ctx);
  memcpy(ctx->staging, host, bytes);
  if (!copy_wait(ctx, slots, ctx->staging, bytes, cudaMemcpyHostToDevice, "write_scalars"))
    return copy_failed(ctx);
  return WF_OK;
}

/* ---- device-side fills and copies ------------------------------------------------- */

static __global__ void fill_kernel(wf_real *x /* [n] */, size_t n, wf_real value) {
  WF_CU_FOR(i, n) x[i] = value;
}

void wf_cu_copy(wf_ctx *ctx, wf_real *dst, const wf_real *src, size_t n) {
  if (n == 0 || dst == src) return;
  wf_cu_cuda_ok(ctx,
                cudaMemcpyAsync(dst, src, n * sizeof(wf_real), cudaMemcpyDeviceToDevice,
                                ctx->stream),
                "copy");
}

void wf_cu_fill(wf_ctx *ctx, wf_real *x, size_t n, wf_real value) {
  if (n == 0) return;
  fill_kernel<<<wf_cu_grid(n), WF_CU_THREADS, 0, ctx->stream>>>(x, n, value);
  WF_CU_LAUNCHED(ctx, "fill");
}

void wf_cu_zero_scalars(wf_ctx *ctx, double *slots, int n) {
  if (n <= 0) return;
  /* 0.0 is all zero bits */
  wf_cu_cuda_ok(ctx, cudaMemsetAsync(slots, 0, sizeof(double) * (size_t)n, ctx->stream),
                "zero_scalars");
}
