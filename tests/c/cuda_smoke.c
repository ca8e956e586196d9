/* cuda_smoke.c — a host-only smoke test of the CUDA backend's table: links
 * the objects of src/cuda (nothing of wgflow.so but status.c, for
 * wf_backend_check), checks the table is complete and of the core's
 * version, and opens a context. Without a GPU the context must fail with a
 * message, not crash (exit 0). With one it runs a few ops and checks them,
 * records a draw into a graph and replays it (exit 1 on a mismatch).
 *
 *   nvcc -std=c++17 -O2 -Xcompiler -fPIC -arch=sm_90 -I src/core -I src/cuda \
 *        -c src/cuda/X.cu -o build/X.o            (each .cu, into build/)
 *   gcc -std=gnu11 -Wall -Wextra -I src/core -I src/cuda tests/c/cuda_smoke.c \
 *       src/core/status.c build/{each}.o -L$CUDA/lib64 -Wl,-rpath,$CUDA/lib64 \
 *       -lcublas -lcudart -lstdc++ -lm -o build/cuda_smoke
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "backend.h"
#include "philox.h"
#include "wf_cuda.h"

#define OPS(X)                                                                  \
  X(ctx_create) X(ctx_free) X(knob) X(synchronize) X(last_error) X(alloc)       \
  X(release) X(upload) X(download) X(upload_int) X(download_int) X(copy)        \
  X(fill) X(zero_scalars) X(write_scalars) X(read_scalars) X(gemm) X(add_bias) \
  X(col_sum)                                                                    \
  X(axpy) X(scal) X(act_forward) X(act_backward) X(act_second) X(ln_forward)    \
  X(ln_backward) X(ln_jvp) X(ln_double) X(bn_forward) X(bn_backward) X(adam)    \
  X(rmsprop) X(sgd) X(clamp) X(uniform) X(normal) X(random_index) X(loss)       \
  X(row_norm_loss) X(row_sq_norm) X(row_sq_dist) X(row_scale) X(row_lerp)       \
  X(gather_rows) X(row_argmin) X(softmax_xent) X(transpose_rows) X(im2col)      \
  X(col2im)                                                                     \
  X(graph.begin) X(graph.end) X(graph.launch) X(graph.free)

static int failures = 0;
#define CHECK(cond, ...)                                                        \
  do {                                                                          \
    if (!(cond)) {                                                              \
      failures++;                                                               \
      printf("FAIL %s:%d: ", __FILE__, __LINE__);                               \
      printf(__VA_ARGS__);                                                      \
      printf("\n");                                                             \
    }                                                                           \
  } while (0)

/* a few ops on a real GPU, against values computed here */
static void gpu_checks(const wf_backend *be, wf_ctx *ctx) {
  char msg[WF_MSG_LEN];
  /* C [2 x 2] = A [2 x 3] B [3 x 2], then bias + relu */
  double ha[6] = {1, 2, 3, 4, 5, 6}, hb[6] = {1, -1, 0, 2, -1, 0}, hbias[2] = {2.5, -4};
  wf_real *a = be->alloc(ctx, 6 * sizeof(wf_real));
  wf_real *b = be->alloc(ctx, 6 * sizeof(wf_real));
  wf_real *c = be->alloc(ctx, 4 * sizeof(wf_real));
  wf_real *bias = be->alloc(ctx, 2 * sizeof(wf_real));
  wf_real *u = be->alloc(ctx, 16 * sizeof(wf_real));
  double *slots = be->alloc(ctx, 2 * sizeof(double));
  CHECK(a && b && c && bias && u && slots, "alloc");
  if (!(a && b && c && bias && u && slots)) return;
  CHECK(be->upload(ctx, a, ha, 6) == WF_OK, "upload");
  CHECK(be->upload(ctx, b, hb, 6) == WF_OK, "upload");
  CHECK(be->upload(ctx, bias, hbias, 2) == WF_OK, "upload");
  wf_epilogue ep = {WF_EP_BIAS_ACT, WF_ACT_RELU, 0, bias, NULL};
  be->gemm(ctx, 0, 0, 2, 2, 3, 1, a, 3, b, 2, 0, c, 2, &ep);
  double hc[4];
  CHECK(be->download(ctx, hc, c, 4) == WF_OK, "download");
  /* A B = [[-2, 3], [-2, 6]]; + bias, relu: [[0.5, 0], [0.5, 2]] */
  CHECK(hc[0] == 0.5 && hc[1] == 0 && hc[2] == 0.5 && hc[3] == 2,
        "gemm+bias+relu: %g %g %g %g", hc[0], hc[1], hc[2], hc[3]);
  ep.bias = NULL;
  ep.kind = WF_EP_NONE;
  be->gemm(ctx, 0, 0, 2, 2, 3, 1, a, 3, b, 2, 0, c, 2, NULL);
  CHECK(be->download(ctx, hc, c, 4) == WF_OK, "download");
  CHECK(hc[0] == -2 && hc[1] == 3 && hc[2] == -2 && hc[3] == 6, "gemm: %g %g %g %g", hc[0],
        hc[1], hc[2], hc[3]);
  /* a transposed operand: A^T A [3 x 3] */
  be->gemm(ctx, 1, 0, 3, 3, 2, 1, a, 3, a, 3, 0, u, 3, NULL);
  double hu[9];
  CHECK(be->download(ctx, hu, u, 9) == WF_OK, "download");
  CHECK(hu[0] == 17 && hu[1] == 22 && hu[4] == 29 && hu[8] == 45, "A^T A: %g %g %g %g", hu[0],
        hu[1], hu[4], hu[8]);

  /* uniforms: bit-identical to the host's Philox, from the counter slot,
   * which the draw advances by ceil(16 / 4) */
  uint32_t key[2] = {12345u, 678u};
  double c7[2] = {7, 0}, hs[2];
  CHECK(be->write_scalars(ctx, slots, c7, 2) == WF_OK, "write_scalars");
  be->uniform(ctx, u, 16, key, slots);
  CHECK(be->download(ctx, hu, u, 9) == WF_OK, "download");
  for (int i = 0; i < 9; i++) {
    uint32_t r[4];
    wf_philox_block(key, 7 + (uint64_t)i / 4, r);
    wf_real w = (wf_real)wf_philox_unit(r[i % 4]);
    CHECK((wf_real)hu[i] == w, "uniform %d: %.9g vs %.9g", i, hu[i], (double)w);
  }
  CHECK(be->read_scalars(ctx, hs, slots, 2) == WF_OK && hs[0] == 11 && hs[1] == 0,
        "counter slot after a draw of 16 from 7: %g", hs[0]);

  /* a draw and an SGD step recorded once, then launched twice: each
   * launch draws the next 16 values and takes the next step */
  wf_graph *graph = NULL;
  wf_opt_spec sgd = {.kind = WF_OPT_SGD, .lr = 0.5};
  CHECK(be->graph.begin(ctx) == WF_OK, "graph begin");
  be->uniform(ctx, u, 16, key, slots);
  be->sgd(ctx, c, u, NULL, 4, &sgd, slots + 1); /* c -= 0.5 u[0 .. 3] */
  CHECK(be->graph.end(ctx, &graph) == WF_OK && graph != NULL, "graph end: %s",
        (be->last_error(ctx, msg), msg));
  CHECK(be->read_scalars(ctx, hs, slots, 2) == WF_OK && hs[0] == 11 && hs[1] == 0,
        "recording moved the slots: %g %g", hs[0], hs[1]);
  if (graph != NULL) {
    double zero[4] = {0, 0, 0, 0};
    CHECK(be->upload(ctx, c, zero, 4) == WF_OK, "upload");
    for (int k = 0; k < 2; k++)
      CHECK(be->graph.launch(ctx, graph) == WF_OK, "graph launch %d", k);
    CHECK(be->download(ctx, hu, u, 9) == WF_OK, "download");
    for (int i = 0; i < 9; i++) { /* the second launch: blocks 15 .. */
      uint32_t r[4];
      wf_philox_block(key, 15 + (uint64_t)i / 4, r);
      wf_real w = (wf_real)wf_philox_unit(r[i % 4]);
      CHECK((wf_real)hu[i] == w, "replayed uniform %d: %.9g vs %.9g", i, hu[i],
            (double)w);
    }
    double hc2[4];
    CHECK(be->download(ctx, hc2, c, 4) == WF_OK, "download");
    for (int i = 0; i < 4; i++) {
      uint32_t r1[4], r2[4];
      wf_philox_block(key, 11, r1);
      wf_philox_block(key, 15, r2);
      wf_real a = (wf_real)wf_philox_unit(r1[i]), b = (wf_real)wf_philox_unit(r2[i]);
      wf_real want = ((wf_real)0 - (wf_real)0.5 * a) - (wf_real)0.5 * b;
      CHECK(fabs(hc2[i] - want) <= 1e-6, "two replayed sgd steps %d: %.9g vs %.9g", i,
            hc2[i], (double)want);
    }
    CHECK(be->read_scalars(ctx, hs, slots, 2) == WF_OK && hs[0] == 19 && hs[1] == 2,
          "after two launches: counter %g (19), steps %g (2)", hs[0], hs[1]);
    be->graph.free(ctx, graph);
  }

  /* a reduction into a slot: MSE of y = (1, 2, 3, 4) against 0, scale 1/4 */
  double hy[4] = {1, 2, 3, 4};
  CHECK(be->upload(ctx, c, hy, 4) == WF_OK, "upload");
  be->zero_scalars(ctx, slots, 2);
  wf_loss_spec ls = {WF_LOSS_MSE, 0.25, 0.0, 0};
  be->loss(ctx, &ls, c, NULL, 4, u, slots);
  be->row_norm_loss(ctx, WF_ROWNORM_NORM, c, 2, 2, 1.0, NULL, NULL, slots + 1);
  CHECK(be->read_scalars(ctx, hs, slots, 2) == WF_OK, "read_scalars");
  CHECK(hs[0] == 7.5, "mse value %.17g", hs[0]);
  double n2 = (sqrt(5.0) + 5.0) / 2;
  CHECK(fabs(hs[1] - n2) < 1e-12, "mean row norm %.17g vs %.17g", hs[1], n2);

  int rc = be->synchronize(ctx, msg);
  CHECK(rc == WF_OK, "synchronize: %s", msg);
  be->release(ctx, a);
  be->release(ctx, b);
  be->release(ctx, c);
  be->release(ctx, bias);
  be->release(ctx, u);
  be->release(ctx, slots);
  /* a released block comes back from the cache (all six are in the
   * 256-byte class) */
  int mb = be->knob(ctx, "cache_mb", -1);
  void *again = be->alloc(ctx, 6 * sizeof(wf_real));
  CHECK(again == (void *)a || again == (void *)b || again == (void *)c ||
            again == (void *)bias || again == (void *)u || again == (void *)slots,
        "the cache did not reuse a block");
  CHECK(be->knob(ctx, "cache_mb", -1) == mb, "the cache grew");
  be->release(ctx, again);
  CHECK(be->last_error(ctx, msg) == WF_OK, "last_error: %s", msg);
}

int main(void) {
  const wf_backend *be = wf_cuda_backend();
  char msg[WF_MSG_LEN];
  CHECK(be != NULL, "no table");
  if (be == NULL) return 1;
  CHECK(wf_backend_check(be, msg) == WF_OK, "wf_backend_check: %s", msg);
  CHECK(strcmp(be->name, "cuda") == 0, "name '%s'", be->name);
  int missing = 0;
#define CHECK_OP(op)                                                            \
  if (be->op == NULL) {                                                         \
    missing++;                                                                  \
    printf("table entry %s is NULL\n", #op);                                    \
  }
  OPS(CHECK_OP)
  CHECK(missing == 0, "%d NULL entries", missing);
  printf("table: '%s', api %d, real size %zu, %s\n", be->name, be->api_version,
         be->real_size, missing == 0 ? "no NULL entries" : "INCOMPLETE");
  printf("build: %s\n", wf_cuda_build_info());
  int n_dev = -1;
  int usable = wf_cuda_device_info(&n_dev, msg, sizeof msg);
  printf("device info: usable %d, devices %d: %s\n", usable, n_dev, msg);

  wf_ctx *ctx = (wf_ctx *)&missing; /* must be set to NULL on failure */
  msg[0] = '\0';
  wf_status st = be->ctx_create(&ctx, msg);
  printf("ctx_create: status %d, message \"%s\"\n", (int)st, msg);
  if (st != WF_OK) {
    CHECK(ctx == NULL, "ctx not NULL after a failed ctx_create");
    CHECK(msg[0] != '\0', "no message from a failed ctx_create");
    CHECK(st == WF_ERR_DEVICE || st == WF_ERR_NOMEM, "status %d", (int)st);
  } else {
    CHECK(ctx != NULL, "ctx NULL after ctx_create succeeded");
    printf("knobs: device %d, tf32 %d, unknown %d\n", be->knob(ctx, "device", -1),
           be->knob(ctx, "tf32", -1), be->knob(ctx, "no such knob", 1));
    gpu_checks(be, ctx);
    be->ctx_free(ctx);
  }
  printf("%s (%d failures)\n", failures == 0 ? "OK" : "FAILED", failures);
  return failures == 0 ? 0 : 1;
}
