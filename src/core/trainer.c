/* trainer.c — the generic trainer: creation (nets, optimisers, data on the
 * device), named buffers, phase arguments, scalar slots, running a phase. */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "choices.h"
#include "net.h"
#include "trainer.h"

const char *wf_trainer_message(const wf_trainer *t) { return t->msg; }

wf_status wf_trainer_fail(wf_trainer *t, wf_status status, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(t->msg, WF_MSG_LEN, fmt, ap);
  va_end(ap);
  return status;
}

wf_status wf_trainer_net_fail(wf_trainer *t, const wf_net *net, wf_status rc) {
  snprintf(t->msg, WF_MSG_LEN, "%s", wf_net_message(net));
  return rc;
}

static int count(const char *const *names, int max) {
  int n = 0;
  while (n < max && names[n] != NULL) n++;
  return n;
}

wf_status wf_trainer_create(const wf_algo *algo, wf_net *const *nets,
                            const wf_opt_spec *opts, int n_nets,
                            const double *const *data, const int *rows,
                            const int *cols, int n_data, wf_trainer **out,
                            char *msg) {
  *out = NULL;
  int want_nets = count(algo->nets, WF_TRAINER_MAX_NETS);
  int want_data = count(algo->data, WF_TRAINER_MAX_DATA);
  int least_data = want_data - algo->optional_data;
  if (n_nets != want_nets || n_data > want_data || n_data < least_data)
    return wf_fail_msg(msg, WF_ERR_ARG, "%s needs %d nets and %d%s data sets, not %d and %d",
                       algo->name, want_nets, least_data,
                       least_data < want_data ? " or more" : "", n_nets, n_data);
  for (int i = 0; i < n_nets; i++) {
    if (wf_net_device(nets[i]) != wf_net_device(nets[0]))
      return wf_fail_msg(msg, WF_ERR_ARG, "the %s and the %s are on different devices",
                         algo->nets[0], algo->nets[i]);
    wf_status rc = wf_opt_check(&opts[i], msg);
    if (rc != WF_OK) return rc;
  }
  for (int i = 0; i < n_data; i++)
    if (rows[i] < 1 || cols[i] < 1)
      return wf_fail_msg(msg, WF_ERR_ARG, "the %s set is empty", algo->data[i]);
  wf_trainer *t = calloc(1, sizeof(wf_trainer));
  if (t == NULL) return wf_fail_msg(msg, WF_ERR_NOMEM, "out of memory");
  t->algo = algo;
  t->dev = wf_net_device(nets[0]);
  t->graphs = t->dev->graphs;
  wf_device_retain(t->dev);
  t->n_nets = n_nets;
  for (int i = 0; i < n_nets; i++) {
    t->nets[i] = nets[i];
    t->opts[i] = opts[i];
  }
  wf_status rc = WF_OK;
  t->slots = wf_device_alloc_scalars(t->dev, WF_TRAINER_SLOTS);
  if (t->slots == NULL) rc = wf_fail_msg(msg, WF_ERR_NOMEM, "out of device memory");
  for (int i = 0; i < n_data && rc == WF_OK; i++) {
    size_t n = (size_t)rows[i] * cols[i];
    t->data[i].x = wf_device_alloc(t->dev, n);
    t->data[i].n = rows[i];
    t->data[i].d = cols[i];
    t->n_data = i + 1;
    rc = t->data[i].x == NULL ? WF_ERR_NOMEM
                              : wf_device_upload(t->dev, t->data[i].x, data[i], n);
    if (rc != WF_OK)
      wf_fail_msg(msg, rc, "could not place the %d x %d %s set on the device",
                  rows[i], cols[i], algo->data[i]);
  }
  if (rc == WF_OK && algo->state_size > 0) {
    t->state = calloc(1, algo->state_size);
    if (t->state == NULL) rc = wf_fail_msg(msg, WF_ERR_NOMEM, "out of memory");
  }
  if (rc == WF_OK && algo->init != NULL) {
    rc = algo->init(t);
    if (rc != WF_OK) snprintf(msg, WF_MSG_LEN, "%s", t->msg);
  }
  if (rc != WF_OK) {
    wf_trainer_free(t);
    return rc;
  }
  *out = t;
  return WF_OK;
}

static void replay_drop(wf_trainer *t, wf_replay *r) {
  if (r->graph != NULL) WF_BE(t->dev)->graph.free(WF_CTX(t->dev), r->graph);
  r->graph = NULL;
}

void wf_trainer_free(wf_trainer *t) {
  if (t == NULL) return;
  for (int i = 0; i < t->n_replays; i++) replay_drop(t, t->replays[i]);
  if (t->algo->free != NULL && t->state != NULL) t->algo->free(t);
  free(t->state);
  for (int i = 0; i < t->n_buffers; i++) wf_device_free(t->dev, t->buffers[i].p);
  for (int i = 0; i < t->n_data; i++) wf_device_free(t->dev, t->data[i].x);
  wf_device_free(t->dev, t->slots);
  wf_device_release(t->dev);
  free(t);
}

const wf_phase *wf_trainer_phase(const wf_trainer *t, const char *name) {
  for (const wf_phase *p = t->algo->phases; p->name != NULL; p++)
    if (strcmp(p->name, name) == 0) return p;
  return NULL;
}

wf_status wf_trainer_run(wf_trainer *t, const wf_phase *phase,
                         const wf_args *args, double *out) {
  t->msg[0] = '\0';
  wf_status rc = phase->run(t, args, out);
  if (rc == WF_OK) { /* an asynchronous failure the phase did not see */
    rc = wf_device_check(t->dev);
    if (rc != WF_OK) snprintf(t->msg, WF_MSG_LEN, "%s", wf_device_message(t->dev));
  }
  return rc;
}

/* ---- named buffers -------------------------------------------------------- */
static void *buffer(wf_trainer *t, const char *name, size_t bytes) {
  wf_buffer *b = NULL;
  for (int i = 0; i < t->n_buffers; i++)
    if (strcmp(t->buffers[i].name, name) == 0) b = &t->buffers[i];
  if (b == NULL) {
    if (t->n_buffers == WF_TRAINER_MAX_BUFFERS) {
      wf_trainer_fail(t, WF_ERR_NOMEM, "too many work buffers (%s)", name);
      return NULL;
    }
    b = &t->buffers[t->n_buffers++];
    snprintf(b->name, sizeof(b->name), "%s", name);
  }
  if (bytes <= b->bytes) return b->p;
  wf_device_free(t->dev, b->p);
  b->p = wf_device_alloc_bytes(t->dev, bytes);
  b->bytes = b->p != NULL ? bytes : 0;
  if (b->p == NULL)
    wf_trainer_fail(t, WF_ERR_NOMEM, "out of device memory for %zu bytes (%s)",
                    bytes, name);
  return b->p;
}

wf_real *wf_trainer_buffer(wf_trainer *t, const char *name, size_t n) {
  return buffer(t, name, n * sizeof(wf_real));
}

int *wf_trainer_ints(wf_trainer *t, const char *name, size_t n) {
  return buffer(t, name, n * sizeof(int));
}

static wf_buffer *find_buffer(wf_trainer *t, const char *name, size_t bytes) {
  for (int i = 0; i < t->n_buffers; i++)
    if (strcmp(t->buffers[i].name, name) == 0) {
      if (t->buffers[i].bytes < bytes) break;
      return &t->buffers[i];
    }
  wf_trainer_fail(t, WF_ERR_ARG, "the %s trainer has no buffer `%s` of %zu bytes",
                  t->algo->name, name, bytes);
  return NULL;
}

wf_status wf_trainer_buffer_get(wf_trainer *t, const char *name, int ints,
                                double *host, size_t n) {
  wf_buffer *b = find_buffer(t, name, n * (ints ? sizeof(int) : sizeof(wf_real)));
  if (b == NULL) return WF_ERR_ARG;
  wf_status rc;
  if (!ints) {
    rc = wf_device_download(t->dev, host, b->p, n);
  } else {
    int *tmp = malloc(sizeof(int) * (n > 0 ? n : 1));
    if (tmp == NULL) return wf_trainer_fail(t, WF_ERR_NOMEM, "out of memory");
    rc = wf_device_download_int(t->dev, tmp, b->p, n);
    for (size_t i = 0; i < n && rc == WF_OK; i++) host[i] = tmp[i];
    free(tmp);
  }
  if (rc != WF_OK) snprintf(t->msg, WF_MSG_LEN, "%s", wf_device_message(t->dev));
  return rc;
}

wf_status wf_trainer_buffer_set(wf_trainer *t, const char *name,
                                const double *host, size_t n) {
  wf_buffer *b = find_buffer(t, name, n * sizeof(wf_real));
  if (b == NULL) return WF_ERR_ARG;
  wf_status rc = wf_device_upload(t->dev, b->p, host, n);
  if (rc != WF_OK) snprintf(t->msg, WF_MSG_LEN, "%s", wf_device_message(t->dev));
  return rc;
}

/* ---- arguments -------------------------------------------------------------- */
static int find_arg(const wf_args *a, const char *name) {
  for (int i = 0; i < a->n; i++)
    if (a->names[i] != NULL && strcmp(a->names[i], name) == 0) return i;
  return -1;
}

static const char *arg_string(const wf_args *a, int i) {
  return a->strings != NULL ? a->strings[i] : NULL;
}

static wf_status missing(wf_trainer *t, const char *name) {
  return wf_trainer_fail(t, WF_ERR_ARG, "%s phase: argument `%s` is missing",
                         t->algo->name, name);
}

static wf_status arg(wf_trainer *t, const wf_args *a, const char *name,
                     double lo, double hi, int whole, double *out) {
  int i = find_arg(a, name);
  if (i < 0) return missing(t, name);
  if (arg_string(a, i) != NULL)
    return wf_trainer_fail(t, WF_ERR_ARG, "`%s` must be a number, not \"%s\"", name,
                           arg_string(a, i));
  double v = a->values[i];
  if (!isfinite(v) || v < lo || v > hi || (whole && v != floor(v)))
    return wf_trainer_fail(t, WF_ERR_ARG, "`%s` must be a %s in [%g, %g], not %g",
                           name, whole ? "whole number" : "number", lo, hi, v);
  *out = v;
  return WF_OK;
}

wf_status wf_arg_num(wf_trainer *t, const wf_args *a, const char *name,
                     double lo, double hi, double *out) {
  return arg(t, a, name, lo, hi, 0, out);
}

wf_status wf_arg_int(wf_trainer *t, const wf_args *a, const char *name, int lo,
                     int hi, int *out) {
  double v;
  wf_status rc = arg(t, a, name, lo, hi, 1, &v);
  if (rc == WF_OK) *out = (int)v;
  return rc;
}

wf_status wf_arg_choice(wf_trainer *t, const wf_args *a, const char *name,
                        const char *kind, int *out) {
  const wf_choice_table *table = wf_choice_find(kind);
  if (table == NULL)
    return wf_trainer_fail(t, WF_ERR_ARG, "no choice kind \"%s\"", kind);
  int i = find_arg(a, name);
  if (i < 0) return missing(t, name);
  const char *s = arg_string(a, i);
  if (s == NULL) { /* an enum value, from C */
    double v;
    WF_TRY(arg(t, a, name, 0, table->n - 1, 1, &v));
    *out = (int)v;
    return WF_OK;
  }
  int k = wf_choice_index(kind, s);
  if (k < 0)
    return wf_trainer_fail(t, WF_ERR_ARG, "`%s` must be one of the %s names, not \"%s\"",
                           name, kind, s);
  *out = k;
  return WF_OK;
}

/* ---- slots ------------------------------------------------------------------ */
void wf_trainer_zero_slots(wf_trainer *t, int n) {
  WF_BE(t->dev)->zero_scalars(WF_CTX(t->dev), t->slots, n);
}

wf_status wf_trainer_read_slots(wf_trainer *t, double *host, int n) {
  wf_status rc = wf_device_read_scalars(t->dev, host, t->slots, n);
  if (rc != WF_OK) snprintf(t->msg, WF_MSG_LEN, "%s", wf_device_message(t->dev));
  return rc;
}

wf_status wf_trainer_check_abort(wf_trainer *t) {
  if (wf_should_abort()) return wf_trainer_fail(t, WF_ERR_INTERRUPT, "interrupted");
  return WF_OK;
}

/* ---- repeated steps, recorded and replayed --------------------------------- */
void wf_trainer_set_graphs(wf_trainer *t, int on) {
  t->graphs = on != 0;
  if (!t->graphs)
    for (int i = 0; i < t->n_replays; i++) replay_drop(t, t->replays[i]);
}

/* the host mirrors a step advances: each net's stream counter and its
 * block's step count */
static void mirrors(const wf_trainer *t, uint64_t *counter, double *step) {
  for (int i = 0; i < t->n_nets; i++) {
    uint64_t key;
    wf_net_get_rng(t->nets[i], &key, &counter[i]);
    step[i] = t->nets[i]->p->block.step;
  }
}

/* set the mirrors back (nothing ran on the device) or forward by a delta;
 * a block shared by two nets (an alias) is moved once */
static void move_mirrors(wf_trainer *t, const uint64_t *counter, const double *step,
                         int add) {
  for (int i = 0; i < t->n_nets; i++) {
    wf_net *net = t->nets[i];
    net->counter = add ? net->counter + counter[i] : counter[i];
    int first = 1;
    for (int j = 0; j < i; j++) first &= t->nets[j]->p != net->p;
    if (first) net->p->block.step = add ? net->p->block.step + step[i] : step[i];
  }
}

static int replay_valid(const wf_trainer *t, const wf_replay *r, const double *key,
                        int n_key) {
  return r->graph != NULL && r->generation == t->dev->generation &&
         r->n_key == n_key && memcmp(r->key, key, sizeof(double) * n_key) == 0 &&
         memcmp(r->opts, t->opts, sizeof(r->opts)) == 0;
}

/* Record one run of the step and launch it: the host code runs (advancing
 * the mirrors) while the device only records, then the record runs once.
 * On a failure to record, the mirrors go back and the run is eager. */
static wf_status record(wf_trainer *t, wf_replay *r, const double *key, int n_key,
                        wf_step_fn step, void *data) {
  const wf_graph_ops *g = &WF_BE(t->dev)->graph;
  wf_ctx *ctx = WF_CTX(t->dev);
  uint64_t c0[WF_TRAINER_MAX_NETS], c1[WF_TRAINER_MAX_NETS];
  double s0[WF_TRAINER_MAX_NETS], s1[WF_TRAINER_MAX_NETS];
  mirrors(t, c0, s0);
  unsigned long gen = t->dev->generation;
  if (g->begin(ctx) != WF_OK) {
    r->off = 1; /* this device cannot record: eager from now on */
    wf_device_check(t->dev);
    return step(t, data);
  }
  wf_status rc = step(t, data);
  wf_graph *graph = NULL;
  wf_status ended = g->end(ctx, &graph);
  if (rc != WF_OK || ended != WF_OK || graph == NULL || gen != t->dev->generation) {
    if (graph != NULL) g->free(ctx, graph);
    move_mirrors(t, c0, s0, 0);
    if (rc != WF_OK) return rc;  /* the step's own error */
    if (ended != WF_OK) r->off = 1;
    return step(t, data);        /* eager instead */
  }
  mirrors(t, c1, s1);
  for (int i = 0; i < t->n_nets; i++) {
    r->counter_delta[i] = c1[i] - c0[i];
    r->step_delta[i] = s1[i] - s0[i];
  }
  r->graph = graph;
  r->generation = gen;
  r->n_key = n_key;
  memcpy(r->key, key, sizeof(double) * n_key);
  memcpy(r->opts, t->opts, sizeof(r->opts));
  rc = g->launch(ctx, graph);
  if (rc != WF_OK) wf_device_check(t->dev);
  return rc;
}

wf_status wf_trainer_repeat(wf_trainer *t, wf_replay *r, int n, const double *key,
                            int n_key, wf_step_fn step, void *data) {
  const wf_graph_ops *g = &WF_BE(t->dev)->graph;
  int can = t->graphs && !r->off && g->begin != NULL && n_key <= WF_REPLAY_KEY;
  if (can && !r->registered) {
    if (t->n_replays == WF_TRAINER_MAX_REPLAYS) {
      can = 0;
    } else {
      t->replays[t->n_replays++] = r;
      r->registered = 1;
    }
  }
  for (int i = 0; i < n; i++) {
    WF_TRY(wf_trainer_check_abort(t));
    if (r->graph != NULL && !(can && replay_valid(t, r, key, n_key))) replay_drop(t, r);
    wf_status rc;
    if (can && r->graph != NULL) {
      rc = g->launch(WF_CTX(t->dev), r->graph);
      move_mirrors(t, r->counter_delta, r->step_delta, 1);
    } else if (can && i > 0) { /* the eager run before allocated its buffers */
      rc = record(t, r, key, n_key, step, data);
    } else {
      rc = step(t, data);
    }
    if (rc != WF_OK) {
      if (t->msg[0] == '\0') snprintf(t->msg, WF_MSG_LEN, "%s", wf_device_message(t->dev));
      return rc;
    }
  }
  return WF_OK;
}

wf_status wf_trainer_persist(wf_trainer *t, wf_replay *r, int K, const double *key,
                             int n_key, wf_step_fn first, wf_step_fn later, void *data,
                             double **slot, double *out) {
  wf_trainer_zero_slots(t, 2);
  WF_TRY(wf_trainer_check_abort(t));
  *slot = t->slots;
  WF_TRY(first(t, data));
  *slot = t->slots + 1;
  WF_TRY(wf_trainer_repeat(t, r, K - 1, key, n_key, later, data));
  WF_TRY(wf_trainer_read_slots(t, out, 2));
  if (K == 1) out[1] = out[0];
  if (!isfinite(out[0]) || !isfinite(out[1]))
    return wf_trainer_fail(t, WF_ERR_NUMERIC, "the generator's loss is not finite");
  return WF_OK;
}
