/* trainer.h — the generic trainer: one stateful object holding the nets,
 * data, named work buffers and scalar slots of a training run, and the
 * phases of one algorithm that run on them.
 *
 * An algorithm (algo_<family>.c) is a wf_algo: the roles of its nets and
 * data sets, an init that checks shapes and sets up its state, and a table
 * of phases. A phase runs a whole stretch of training on the device (e.g.
 * ten critic steps) and returns a few named doubles, read from the slots
 * once at its end. The ffi layer has one create and one run entry point for
 * every algorithm; algos.c lists the algorithms.
 */
#ifndef WF_TRAINER_H
#define WF_TRAINER_H

#include "compose.h"

#ifdef __cplusplus
extern "C" {
#endif

#define WF_TRAINER_MAX_NETS 8
#define WF_TRAINER_MAX_DATA 4
#define WF_TRAINER_MAX_BUFFERS 32
#define WF_TRAINER_SLOTS 64
#define WF_PHASE_MAX_OUTPUTS 16

/* Named arguments of a phase call (from R: a named list of numbers and
 * strings). strings[i], when strings is not NULL and strings[i] is not,
 * is argument i's string (a choice, see choices.h); values[i] is then
 * unused. C callers may give a choice as its enum value instead. */
typedef struct {
  const char *const *names;
  const double *values;
  int n;
  const char *const *strings; /* [n] or NULL */
} wf_args;

typedef struct {
  const char *name;
  /* out: one double per name in outputs */
  wf_status (*run)(wf_trainer *t, const wf_args *args, double *out);
  const char *outputs[WF_PHASE_MAX_OUTPUTS + 1]; /* NULL-terminated */
} wf_phase;

typedef struct wf_algo {
  const char *name;
  const char *nets[WF_TRAINER_MAX_NETS + 1]; /* roles, NULL-terminated */
  const char *data[WF_TRAINER_MAX_DATA + 1]; /* roles, NULL-terminated */
  int optional_data; /* how many of the last data roles a trainer may lack
                      * (a source sample: t->n_data says which it has) */
  size_t state_size;                         /* zeroed for init */
  wf_status (*init)(wf_trainer *t);          /* shapes, state; may be NULL */
  void (*free)(wf_trainer *t);               /* the state's own; may be NULL */
  const wf_phase *phases;                    /* ends with a NULL name */
} wf_algo;

/* A data set on the device. */
typedef struct {
  wf_real *x; /* [n x d] */
  int n, d;
} wf_data;

/* A named device buffer that grows on demand. */
typedef struct {
  char name[32];
  void *p;
  size_t bytes;
} wf_buffer;

/* A step a phase repeats (trainer.c: wf_trainer_repeat). On a device that
 * records graphs, the step is recorded once and then replayed, for as long
 * as its key (the step's arguments), the trainer's optimisers and the
 * device's allocations stay the same. Zeroed before first use; released
 * with the trainer (it is registered on first use). */
#define WF_REPLAY_KEY 16
typedef struct wf_replay {
  wf_graph *graph;          /* the record, or NULL */
  unsigned long generation; /* the device's allocation generation at record */
  double key[WF_REPLAY_KEY];
  int n_key;
  wf_opt_spec opts[WF_TRAINER_MAX_NETS];
  /* what one run of the step advances the host mirrors by, per trainer net:
   * its stream counter and its block's step count */
  uint64_t counter_delta[WF_TRAINER_MAX_NETS];
  double step_delta[WF_TRAINER_MAX_NETS];
  int off;                  /* recording failed: eager from then on */
  int registered;
} wf_replay;
#define WF_TRAINER_MAX_REPLAYS 8

struct wf_trainer {
  const wf_algo *algo;
  wf_device *dev;          /* one reference held */
  char msg[WF_MSG_LEN];
  wf_net *nets[WF_TRAINER_MAX_NETS];       /* borrowed, in role order */
  wf_opt_spec opts[WF_TRAINER_MAX_NETS];   /* each net's optimiser */
  int n_nets;
  wf_data data[WF_TRAINER_MAX_DATA];       /* owned, in role order */
  int n_data;
  wf_buffer buffers[WF_TRAINER_MAX_BUFFERS];
  int n_buffers;
  double *slots;           /* device [WF_TRAINER_SLOTS] */
  void *state;             /* the algorithm's, algo->state_size bytes */
  int graphs;              /* record and replay repeated steps (default 1) */
  wf_replay *replays[WF_TRAINER_MAX_REPLAYS]; /* to release with the trainer */
  int n_replays;
};

/* ---- the public side (ffi, tests) ---------------------------------------- */
/* The algorithm registered under name (algos.c), or NULL. */
const wf_algo *wf_algo_find(const char *name);
/* nets[n_nets] and opts[n_nets] in the order of algo->nets (all on one
 * device; the trainer borrows the nets: free it first); data[i] host
 * [rows[i] x cols[i]], row-major, in the order of algo->data (the first
 * n_data roles: the optional ones may be left out), copied to the
 * device. */
wf_status wf_trainer_create(const wf_algo *algo, wf_net *const *nets,
                            const wf_opt_spec *opts, int n_nets,
                            const double *const *data, const int *rows,
                            const int *cols, int n_data, wf_trainer **out,
                            char *msg);
void wf_trainer_free(wf_trainer *t);
const char *wf_trainer_message(const wf_trainer *t);
/* The phase called name, or NULL. */
const wf_phase *wf_trainer_phase(const wf_trainer *t, const char *name);
/* Run a phase; out gets its outputs (phase->outputs order). */
wf_status wf_trainer_run(wf_trainer *t, const wf_phase *phase,
                         const wf_args *args, double *out);

/* ---- for algorithms ------------------------------------------------------ */
/* Set the trainer's message and return status. */
wf_status wf_trainer_fail(wf_trainer *t, wf_status status, const char *fmt, ...);
/* A failed net call: its message into the trainer's, status returned. */
wf_status wf_trainer_net_fail(wf_trainer *t, const wf_net *net, wf_status rc);
#define WF_TRY_NET(t, net, expr)                                   \
  do {                                                             \
    wf_status rc_ = (expr);                                        \
    if (rc_ != WF_OK) return wf_trainer_net_fail((t), (net), rc_); \
  } while (0)
#define WF_TRY(expr)                \
  do {                              \
    wf_status rc_ = (expr);         \
    if (rc_ != WF_OK) return rc_;   \
  } while (0)

/* The named buffer of at least n values, grown as needed (its contents are
 * kept only while it does not grow). NULL, with a message, when out of
 * memory. */
wf_real *wf_trainer_buffer(wf_trainer *t, const char *name, size_t n);
int *wf_trainer_ints(wf_trainer *t, const char *name, size_t n);

/* The host's view of a named buffer (an algorithm's state: OTS's dual
 * vector, its assignment): copy its first n values to host (reals, or ints
 * when ints != 0, as doubles) or from host (reals); WF_ERR_ARG, with a
 * message, when no buffer has that name or it holds fewer than n values.
 * These wait for the device: call them between phases. */
wf_status wf_trainer_buffer_get(wf_trainer *t, const char *name, int ints,
                                double *host, size_t n);
wf_status wf_trainer_buffer_set(wf_trainer *t, const char *name,
                                const double *host, size_t n);

/* Argument name of a phase call: a whole number in [lo, hi], a finite
 * number in [lo, hi], or one of the names of a choice kind (choices.h; or
 * its enum value, from C). Every argument is required: the defaults live
 * with the caller (R's signatures). A missing or bad one fails with
 * WF_ERR_ARG naming it. */
wf_status wf_arg_int(wf_trainer *t, const wf_args *a, const char *name, int lo,
                     int hi, int *out);
wf_status wf_arg_num(wf_trainer *t, const wf_args *a, const char *name,
                     double lo, double hi, double *out);
wf_status wf_arg_choice(wf_trainer *t, const wf_args *a, const char *name,
                        const char *kind, int *out);

/* Run step(t, data) n times; the step must do the same work each time
 * (same buffers, same sizes), may draw only from the trainer's nets'
 * streams and step only their optimisers, and must not allocate, read
 * slots back or copy to the host once its first run has allocated what it
 * needs. On a device that records graphs the first run of a phase call is
 * eager, the second is recorded and every later one (also in later calls,
 * while key, the optimisers and the device's allocations are unchanged) is
 * a replay. The abort callback is checked between runs. */
typedef wf_status (*wf_step_fn)(wf_trainer *t, void *data);
wf_status wf_trainer_repeat(wf_trainer *t, wf_replay *r, int n, const double *key,
                            int n_key, wf_step_fn step, void *data);
/* The persistent regression every Euler-step family shares: K >= 1
 * generator updates, first(t, data) once with *slot at slot 0, then
 * later(t, data) K - 1 times through wf_trainer_repeat with *slot at
 * slot 1 (each later run must zero *slot first, so slot 1 ends with the
 * loss before the last update). out[0], out[1]: the losses before the
 * first and the last update (equal when K is 1); a loss that is not
 * finite fails with WF_ERR_NUMERIC. */
wf_status wf_trainer_persist(wf_trainer *t, wf_replay *r, int K, const double *key,
                             int n_key, wf_step_fn first, wf_step_fn later, void *data,
                             double **slot, double *out);
/* Record and replay steps (on by default), or always run them eagerly. */
void wf_trainer_set_graphs(wf_trainer *t, int on);

/* Zero the first n slots; read them back (waits for the phase's work). */
void wf_trainer_zero_slots(wf_trainer *t, int n);
wf_status wf_trainer_read_slots(wf_trainer *t, double *host, int n);
/* WF_ERR_INTERRUPT (with a message) when the abort callback fires. */
wf_status wf_trainer_check_abort(wf_trainer *t);

#ifdef __cplusplus
}
#endif

#endif
