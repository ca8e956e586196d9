/* graph.cu — recording ops into a CUDA graph and replaying it (backend.h:
 * wf_graph_ops).
 *
 * begin puts the context's stream into capture (thread-local mode: only
 * this thread's calls are checked, nothing else in the process is
 * disturbed); the ops then record instead of run. end stops the capture and
 * instantiates the record; launch runs it on the stream, where it reads the
 * device slots (stream counters, step counts) as they are then and
 * advances them, so every replay is a new step.
 *
 * While recording, nothing in the backend calls cudaMalloc, cudaFree or a
 * host wait: the allocator serves only cached blocks (a miss is a sticky
 * WF_ERR_STATE, "allocation while recording a graph"), the reduction
 * workspace and ticket and cuBLAS's workspace were allocated at ctx_create,
 * and host copies and synchronize refuse to run (sticky, ctx.cu). Errors of
 * CUDA's own, that it cannot record what it was given (an unsupported
 * capture), are not sticky: they are kept in graph_err, end returns them
 * (WF_ERR_UNSUPPORTED, CUDA's text in last_error's message while no sticky
 * error is set) after ending the capture, and the stream runs eager ops as
 * before. */
#include <stdlib.h>

#include "cuda_ops.h"

struct wf_graph {
  cudaGraph_t graph;    /* the record */
  cudaGraphExec_t exec; /* its instance, launched on the context's stream */
};

wf_status wf_cu_graph_begin(wf_ctx *ctx) {
  if (ctx->err != WF_OK) return ctx->err;
  if (wf_cu_recording(ctx, "graph begin")) return ctx->err;
  ctx->graph_err = WF_OK;
  ctx->graph_msg[0] = '\0';
  cudaError_t e = cudaStreamBeginCapture(ctx->stream, cudaStreamCaptureModeThreadLocal);
  if (e != cudaSuccess) {
    wf_cu_graph_fail(ctx, WF_ERR_UNSUPPORTED, "begin", cudaGetErrorString(e));
    return ctx->graph_err;
  }
  ctx->capturing = 1;
  return WF_OK;
}

/* Stop recording. *out: the record, or NULL with the status of the first
 * failure: a sticky error set while recording, else CUDA's failure to
 * record (not sticky). The capture is ended either way. */
wf_status wf_cu_graph_end(wf_ctx *ctx, wf_graph **out) {
  *out = NULL;
  if (!ctx->capturing) {
    wf_cu_fail(ctx, WF_ERR_STATE, "graph end without a recording");
    return ctx->err;
  }
  cudaGraph_t graph = NULL;
  cudaError_t e = cudaStreamEndCapture(ctx->stream, &graph);
  ctx->capturing = 0;
  if (e != cudaSuccess) wf_cu_graph_fail(ctx, WF_ERR_UNSUPPORTED, "end", cudaGetErrorString(e));
  wf_status rc = ctx->err != WF_OK ? ctx->err : ctx->graph_err;
  if (rc == WF_OK && graph == NULL) {
    wf_cu_graph_fail(ctx, WF_ERR_UNSUPPORTED, "end", "no graph was recorded");
    rc = ctx->graph_err;
  }
  if (rc == WF_OK) {
    cudaGraphExec_t exec = NULL;
    e = cudaGraphInstantiate(&exec, graph, 0);
    wf_graph *g = e == cudaSuccess ? (wf_graph *)malloc(sizeof(wf_graph)) : NULL;
    if (g != NULL) {
      g->graph = graph;
      g->exec = exec;
      *out = g;
      return WF_OK;
    }
    if (e == cudaSuccess) {
      cudaGraphExecDestroy(exec);
      wf_cu_graph_fail(ctx, WF_ERR_NOMEM, "end", "out of host memory");
    } else {
      wf_cu_graph_fail(ctx, WF_ERR_UNSUPPORTED, "instantiate", cudaGetErrorString(e));
    }
    rc = ctx->graph_err;
  }
  if (graph != NULL) cudaGraphDestroy(graph);
  (void)cudaGetLastError(); /* nothing of the failed recording stays behind */
  return rc;
}

/* Queue one run of the record on the stream (asynchronous, as an op). */
wf_status wf_cu_graph_launch(wf_ctx *ctx, wf_graph *g) {
  if (ctx->err != WF_OK) return ctx->err;
  if (g == NULL) {
    wf_cu_fail(ctx, WF_ERR_ARG, "graph launch of no graph");
    return ctx->err;
  }
  if (wf_cu_recording(ctx, "graph launch")) return ctx->err;
  if (!wf_cu_cuda_ok(ctx, cudaGraphLaunch(g->exec, ctx->stream), "graph launch"))
    return ctx->err != WF_OK ? ctx->err : ctx->graph_err;
  return WF_OK;
}

/* No wait: an instance still running is freed by CUDA when it completes. */
void wf_cu_graph_free(wf_ctx *ctx, wf_graph *g) {
  (void)ctx;
  if (g == NULL) return;
  cudaGraphExecDestroy(g->exec);
  cudaGraphDestroy(g->graph);
  free(g);
}

void wf_cu_graph_abandon(wf_ctx *ctx) {
  cudaGraph_t graph = NULL;
  (void)cudaStreamEndCapture(ctx->stream, &graph);
  ctx->capturing = 0;
  if (graph != NULL) cudaGraphDestroy(graph);
  (void)cudaGetLastError();
}
