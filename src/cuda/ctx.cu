/* ctx.cu — the CUDA context: stream, cuBLAS handle and workspace,
 * reduction workspace and the sticky error, and the knobs of the table.
 * Its memory (the caching allocator, the host copies through the pinned
 * staging buffer, device fills) is in memory.cu.
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
    if (value == 0) wf_cu_pool_trim(ctx);
    return mb > (size_t)INT_MAX ? INT_MAX : (int)mb;
  }
  return -1;
}
