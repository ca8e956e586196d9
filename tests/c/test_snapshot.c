/* test_snapshot.c — a net's kept state (snapshot.c) and the count of
 * non-finite values it is checked with (the backend op count_nonfinite).
 *
 *   - count_nonfinite against an exact count on the host, NaN, +Inf and
 *     -Inf at random places among finite values as large as wf_real holds,
 *     added to what the slot held;
 *   - a snapshot put back after more training gives every part back
 *     exactly (parameters, BatchNorm statistics, both moments, the step
 *     count, the random stream), and training on from it repeats the same
 *     steps to the bit;
 *   - the finite check names the part that holds a non-finite value;
 *   - restoring without a snapshot is refused, drop forgets it.
 * Built in double and float (tests/c/Makefile). */
#include <float.h>
#include <string.h>

#include "device.h"
#include "net_util.h"

#ifdef WF_DOUBLE
#define BIG DBL_MAX
#else
#define BIG FLT_MAX
#endif

/* ---- the backend op ------------------------------------------------------- */
static void test_count_op(void) {
  const wf_backend *be = wf_device_backend(dev);
  static const size_t sizes[] = {0, 1, 7, 1000, 100003};
  double *slot = wf_device_alloc_scalars(dev, 1);
  for (size_t c = 0; c < sizeof(sizes) / sizeof(sizes[0]); c++) {
    size_t n = sizes[c];
    double *h = hvec(n);
    double bad = 0;
    for (size_t i = 0; i < n; i++) {
      double u = runif();
      /* finite values up to the largest wf_real, then the three kinds of
       * non-finite value */
      h[i] = u < 0.7 ? rnorm() : u < 0.8 ? (runif() < 0.5 ? BIG : -BIG)
           : u < 0.87 ? NAN : u < 0.94 ? INFINITY : -INFINITY;
      bad += !isfinite(h[i]);
    }
    wf_real *x = dalloc(n);
    wf_device_upload(dev, x, h, n);
    double start = 5, got = -1;
    wf_device_write_scalars(dev, slot, &start, 1);
    be->count_nonfinite(WF_CTX(dev), x, n, slot);
    wf_device_read_scalars(dev, &got, slot, 1);
    CHECK(got == start + bad, "count_nonfinite over %zu values: %g, not %g", n, got,
          start + bad);
    wf_device_free(dev, x);
    free(h);
  }
  wf_device_free(dev, slot);
}

/* ---- snapshots ------------------------------------------------------------ */
/* Everything a snapshot keeps, read back to the host. */
typedef struct {
  double *params, *state, *m1, *m2; /* [n_params], [n_state], [n_params] x 2 */
  double step;
  uint64_t key, counter;
} kept;

static kept read_kept(wf_net *net) {
  const wf_layout *lay = wf_net_layout(net);
  kept k = {hvec(lay->n_params), hvec(lay->n_state), hvec(lay->n_params),
            hvec(lay->n_params), 0, 0, 0};
  wf_net_get_params(net, k.params);
  wf_net_get_state(net, k.state);
  wf_net_get_opt_state(net, &k.step, k.m1, k.m2);
  wf_net_get_rng(net, &k.key, &k.counter);
  return k;
}

static void free_kept(kept *k) {
  free(k->params);
  free(k->state);
  free(k->m1);
  free(k->m2);
}

static int same(const double *a, const double *b, size_t n) {
  return n == 0 || memcmp(a, b, n * sizeof(double)) == 0;
}

/* 1 when every part of a and b is identical */
static int same_kept(const kept *a, const kept *b, const wf_layout *lay) {
  return same(a->params, b->params, lay->n_params) &&
         same(a->state, b->state, lay->n_state) && same(a->m1, b->m1, lay->n_params) &&
         same(a->m2, b->m2, lay->n_params) && a->step == b->step && a->key == b->key &&
         a->counter == b->counter;
}

/* One training step that touches every part: inputs and output weights
 * drawn from the net's stream, a forward in training mode (BatchNorm's
 * running statistics), the backward and an Adam step (moments, count). */
enum { ROWS = 16 };
static void train_step(wf_net *net, wf_real *x, wf_real *dy) {
  static const wf_opt_spec adam = {.kind = WF_OPT_ADAM, .lr = 0.01, .beta1 = 0.5,
                                   .beta2 = 0.9, .eps = 1e-8};
  int ok = wf_net_normal(net, x, (size_t)ROWS * wf_net_in(net)) == WF_OK &&
           wf_net_normal(net, dy, (size_t)ROWS * wf_net_out(net)) == WF_OK &&
           wf_net_zero_grad(net) == WF_OK &&
           wf_mlp_forward(net, x, ROWS, 1, NULL) == WF_OK &&
           wf_mlp_backward(net, dy, NULL) == WF_OK && wf_net_opt_step(net, &adam) == WF_OK;
  CHECK(ok, "a training step: %s", wf_net_message(net));
}

static void test_save_restore(void) {
  wf_mlp_spec s = {.n_layers = 3, .widths = {3, 8, 8, 2}, .activation = WF_ACT_TANH,
                   .norm = WF_NORM_BATCH};
  wf_net *net = make_net(&s, 11);
  const wf_layout *lay = wf_net_layout(net);
  CHECK(lay->n_state > 0, "the net has BatchNorm statistics");
  wf_real *x = dalloc((size_t)ROWS * 3), *dy = dalloc((size_t)ROWS * 2);

  CHECK(!wf_net_snapshot_saved(net), "no snapshot before the first save");
  CHECK(wf_net_snapshot_restore(net) == WF_ERR_STATE, "restore without a snapshot");

  for (int i = 0; i < 3; i++) train_step(net, x, dy);
  CHECK(wf_net_snapshot_save(net) == WF_OK, "save: %s", wf_net_message(net));
  CHECK(wf_net_snapshot_saved(net), "saved");
  kept at_save = read_kept(net);

  /* training on changes every part */
  train_step(net, x, dy);
  kept one_more = read_kept(net);
  CHECK(!same(one_more.params, at_save.params, lay->n_params), "params moved");
  CHECK(!same(one_more.state, at_save.state, lay->n_state), "BatchNorm statistics moved");
  CHECK(!same(one_more.m1, at_save.m1, lay->n_params), "first moment moved");
  CHECK(!same(one_more.m2, at_save.m2, lay->n_params), "second moment moved");
  CHECK(one_more.step == at_save.step + 1, "step count moved");
  CHECK(one_more.counter > at_save.counter, "stream moved");
  for (int i = 0; i < 2; i++) train_step(net, x, dy);

  /* restore: every part as saved, and the same step again gives the same
   * net to the bit (the stream and step count came back too) */
  CHECK(wf_net_snapshot_restore(net) == WF_OK, "restore: %s", wf_net_message(net));
  kept restored = read_kept(net);
  CHECK(same_kept(&restored, &at_save, lay), "the restored state is the saved one");
  train_step(net, x, dy);
  kept again = read_kept(net);
  CHECK(same_kept(&again, &one_more, lay), "training on from the snapshot repeats the step");
  /* the snapshot stays until the next save or drop: restore twice */
  CHECK(wf_net_snapshot_restore(net) == WF_OK, "second restore");
  kept twice = read_kept(net);
  CHECK(same_kept(&twice, &at_save, lay), "a second restore gives the saved state again");

  wf_net_snapshot_drop(net);
  CHECK(!wf_net_snapshot_saved(net), "drop forgets the snapshot");
  CHECK(wf_net_snapshot_restore(net) == WF_ERR_STATE, "restore after drop");
  free_kept(&at_save);
  free_kept(&one_more);
  free_kept(&restored);
  free_kept(&again);
  free_kept(&twice);
  wf_device_free(dev, x);
  wf_device_free(dev, dy);
  wf_net_free(net); /* a net freed with its snapshot buffers (ASan: no leak) */
}

/* The finite check: one non-finite value in one part at a time. */
static void test_count_parts(void) {
  wf_mlp_spec s = {.n_layers = 2, .widths = {2, 6, 1}, .activation = WF_ACT_RELU,
                   .norm = WF_NORM_BATCH};
  wf_net *net = make_net(&s, 5);
  const wf_layout *lay = wf_net_layout(net);
  double counts[WF_NET_PARTS];
  CHECK(wf_net_count_nonfinite(net, counts) == WF_OK, "count");
  for (int p = 0; p < WF_NET_PARTS; p++) CHECK(counts[p] == 0, "a fresh net: part %d", p);
  kept k = read_kept(net);
  static const double bad[] = {NAN, INFINITY, -INFINITY};
  for (int p = 0; p < WF_NET_PARTS; p++) {
    size_t n = p == WF_PART_STATE ? lay->n_state : lay->n_params;
    for (int b = 0; b < 3; b++) {
      double *v = hvec(n);
      memcpy(v, p == WF_PART_PARAMS ? k.params : p == WF_PART_STATE ? k.state
                : p == WF_PART_M1 ? k.m1 : k.m2, n * sizeof(double));
      v[n / 2] = bad[b];
      v[n - 1] = bad[b];
      if (p == WF_PART_PARAMS) wf_net_set_params(net, v);
      if (p == WF_PART_STATE) wf_net_set_state(net, v);
      if (p == WF_PART_M1) wf_net_set_opt_state(net, k.step, v, k.m2);
      if (p == WF_PART_M2) wf_net_set_opt_state(net, k.step, k.m1, v);
      CHECK(wf_net_count_nonfinite(net, counts) == WF_OK, "count");
      for (int q = 0; q < WF_NET_PARTS; q++)
        CHECK(counts[q] == (q == p ? 2 : 0), "part %d holding %g: count of part %d is %g",
              p, bad[b], q, counts[q]);
      /* back to finite */
      wf_net_set_params(net, k.params);
      wf_net_set_state(net, k.state);
      wf_net_set_opt_state(net, k.step, k.m1, k.m2);
      free(v);
    }
  }
  free_kept(&k);
  wf_net_free(net);
}

int main(void) {
  open_cpu_device();
  seed_test_stream(20240611);
  test_count_op();
  test_save_restore();
  test_count_parts();
  return finish("snapshot");
}
