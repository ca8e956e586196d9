/* test_ops_memory.c — the CPU table itself and its memory (cpu/backend.c,
 * cpu/memory.c): every slot filled, the knobs, the code path within the
 * build's cap, and uploads, downloads, copies, fills and scalar slots that
 * round trip every value. Built in double and float (and with the AVX-512
 * paths left out: avx2_*); ends with "ops memory <precision>: N passed, N
 * failed". */
#include "ops_test_util.h"
#include "simd.h"

/* ---- the table, the context, memory ------------------------------------- */
static void cpu_table_is_complete_and_answers_its_knobs(void) {
  const wf_backend *be = D.be;
  char msg[WF_MSG_LEN];
  CHECK(wf_backend_check(be, msg) == WF_OK, "backend check: %s", msg);
  CHECK(be->api_version == WF_BACKEND_API && be->real_size == sizeof(wf_real),
        "api version and real size");
  CHECK(strcmp(be->name, "cpu") == 0, "name '%s'", be->name);
#define SLOT(f) CHECK(be->f != NULL, "table slot " #f " is empty")
  SLOT(ctx_create); SLOT(ctx_free); SLOT(knob); SLOT(synchronize);
  SLOT(last_error); SLOT(alloc); SLOT(release); SLOT(upload); SLOT(download);
  SLOT(upload_int); SLOT(download_int); SLOT(copy); SLOT(fill);
  SLOT(zero_scalars); SLOT(write_scalars); SLOT(read_scalars); SLOT(gemm);
  SLOT(add_bias);
  SLOT(col_sum); SLOT(axpy); SLOT(scal); SLOT(act_forward); SLOT(act_backward);
  SLOT(act_second); SLOT(ln_forward); SLOT(ln_backward); SLOT(ln_jvp);
  SLOT(ln_double); SLOT(bn_forward); SLOT(bn_backward); SLOT(adam);
  SLOT(rmsprop); SLOT(sgd); SLOT(clamp); SLOT(uniform); SLOT(normal);
  SLOT(random_index); SLOT(loss); SLOT(row_norm_loss); SLOT(row_sq_norm);
  SLOT(row_sq_dist); SLOT(row_scale); SLOT(row_lerp); SLOT(gather_rows);
  SLOT(row_argmin); SLOT(softmax_xent); SLOT(ot_assign); SLOT(index_count);
  SLOT(copy_ints_at);
  SLOT(transpose_rows); SLOT(im2col); SLOT(col2im);
#undef SLOT
  /* the CPU runs every op as it is called: no graphs */
  CHECK(be->graph.begin == NULL && be->graph.end == NULL &&
            be->graph.launch == NULL && be->graph.free == NULL,
        "the CPU table has no graph ops");

  /* knobs: "threads" >= 1 sets, < 0 queries, 0 sets 1; others unknown */
  wf_ctx *c = NULL;
  CHECK(be->ctx_create(&c, msg) == WF_OK && c != NULL, "ctx_create: %s", msg);
  CHECK(be->knob(c, "threads", -1) == 1, "one thread by default");
  CHECK(be->knob(c, "threads", 3) == 1, "set returns the previous count");
  CHECK(be->knob(c, "threads", -1) == 3, "the count was set");
  CHECK(be->knob(c, "threads", 0) == 3 && be->knob(c, "threads", -1) == 1,
        "0 threads means 1");
  CHECK(be->knob(c, "tf32", 1) == -1 && be->knob(c, "no such", -1) == -1,
        "unknown knobs answer -1");
  /* "simd_bytes": the width ot_assign uses, capped by the knob */
  int widest = be->knob(c, "simd_bytes", -1);
  CHECK(widest == 16 || widest == 32 || widest == 64, "simd_bytes %d", widest);
  CHECK(be->knob(c, "simd_bytes", 16) == widest && be->knob(c, "simd_bytes", 0) == 16 &&
            be->knob(c, "simd_bytes", -1) == widest,
        "simd_bytes caps and uncaps the width");
  /* "isa": the code path taken, within the build's cap (simd.h), and the
   * same width ot_assign takes */
  int isa = be->knob(c, "isa", -1);
  CHECK(isa >= 0 && isa <= WF_ISA_MAX, "isa %d, cap %d", isa, WF_ISA_MAX);
#if defined(__x86_64__) && defined(__GNUC__) && !defined(WF_NO_CLONES)
  CHECK(widest <= 16 << isa, "isa %d but ot_assign takes %d bytes", isa, widest);
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))
    CHECK(isa >= (WF_ISA_MAX < 1 ? WF_ISA_MAX : 1), "an AVX2 machine reports isa %d", isa);
#endif
  strcpy(msg, "junk");
  CHECK(be->synchronize(c, msg) == WF_OK && msg[0] == '\0', "synchronize");
  strcpy(msg, "junk");
  CHECK(be->last_error(c, msg) == WF_OK && msg[0] == '\0', "last_error");
  be->ctx_free(c);
  be->ctx_free(NULL);
}

static void memory_and_slots_round_trip_every_value(void) {
  const wf_backend *be = D.be;
  /* small, and large enough to be split among threads */
  size_t sizes[2] = {1001, 100003};
  double *h = NULL;
  for (int th = 1; th <= 2; th++) {
    threads(th);
    for (int s = 0; s < 2; s++) {
      size_t n = sizes[s];
      h = ou_rnorm(&D, n, 3);
      wf_real *x = ou_up(&D, h, n);
      double *back = ou_down(&D, x, n);
      int ok = 1;
      for (size_t i = 0; i < n; i++) ok &= back[i] == (double)(wf_real)h[i];
      CHECK(ok, "upload / download round to wf_real (n %zu, %d threads)", n, th);
    }
  }
  threads(1);
  size_t n = 1001;
  h = ou_rnorm(&D, n, 3);
  wf_real *x = ou_up(&D, h, n);
  double *back = ou_down(&D, x, n);

  void *empty = be->alloc(D.ctx, 0);
  CHECK(empty != NULL, "alloc(0) is not NULL");
  CHECK(be->upload(D.ctx, empty, h, 0) == WF_OK, "upload of nothing");
  be->release(D.ctx, empty);
  be->release(D.ctx, NULL);

  int hi[7] = {0, -1, 5, INT_MAX, INT_MIN, 42, 7};
  int *di = ou_up_int(&D, hi, 7);
  CHECK(same_int(ou_down_int(&D, di, 7), hi, 7), "int round trip");

  wf_real *y = ou_up(&D, NULL, n);
  be->copy(D.ctx, y, x, n);
  CHECK(same(ou_down(&D, y, n), back, n), "copy");
  be->copy(D.ctx, y, y, n);
  CHECK(same(ou_down(&D, y, n), back, n), "copy onto itself");
  be->fill(D.ctx, y, n, (wf_real)-2.5);
  double *f = ou_down(&D, y, n);
  int ok = 1;
  for (size_t i = 0; i < n; i++) ok &= f[i] == -2.5;
  CHECK(ok, "fill");

  /* slots: zeroed, then five distinct values read back in one call */
  double *slots = ou_alloc(&D, 5 * sizeof(double));
  be->zero_scalars(D.ctx, slots, 5);
  double got[5];
  CHECK(be->read_scalars(D.ctx, got, slots, 5) == WF_OK, "read_scalars");
  CHECK(got[0] == 0 && got[4] == 0, "zero_scalars");
  wf_real *one = ou_up(&D, (double[]){1.0}, 1);
  for (int s = 0; s < 5; s++) {
    wf_loss_spec ls = {.kind = WF_LOSS_LINEAR, .scale = s + 0.5, .target = 1};
    be->loss(D.ctx, &ls, one, NULL, 1, NULL, slots + s);
  }
  be->read_scalars(D.ctx, got, slots, 5);
  CHECK(got[0] == 0.5 && got[2] == 2.5 && got[4] == 4.5, "five slots read");

  /* write_scalars: a round trip of every bit (counters up to 2^53, -0,
   * infinities, NaN), in part of the slots only */
  double w[5] = {9007199254740991.0, -0.0, INFINITY, NAN, 1.0 / 3};
  CHECK(be->write_scalars(D.ctx, slots, w, 5) == WF_OK, "write_scalars");
  double back5[5];
  be->read_scalars(D.ctx, back5, slots, 5);
  CHECK(memcmp(back5, w, sizeof(w)) == 0, "write_scalars / read_scalars round trip");
  CHECK(be->write_scalars(D.ctx, slots + 1, (double[]){42}, 1) == WF_OK &&
            be->write_scalars(D.ctx, slots, w, 0) == WF_OK,
        "write_scalars of one and of none");
  be->read_scalars(D.ctx, back5, slots, 5);
  CHECK(back5[0] == w[0] && back5[1] == 42 && back5[2] == INFINITY,
        "write_scalars writes only its slots");
  ou_reset(&D);
}

int main(void) {
  ops_open();
  cpu_table_is_complete_and_answers_its_knobs();
  memory_and_slots_round_trip_every_value();
  return ops_finish("memory");
}
