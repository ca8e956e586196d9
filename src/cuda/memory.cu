/* memory.cu — the CUDA context's memory: the caching allocator (blocks
 * by size class, a hash table of live pointers), the host <-> device
 * copies through the pinned staging buffer, and device-side fills and
 * copies. Only the host copies wait; while the stream is recorded into a
 * graph none of them may run, nor a cudaMalloc (see ctx.cu). */
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cuda_ops.h"

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
void wf_cu_pool_trim(wf_ctx *ctx) {
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
    wf_cu_pool_trim(ctx);
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
