/* init.c — registration of the .Call entry points (and nothing else). */
#include <stdlib.h>
#ifdef _OPENMP
#include <omp.h>
#endif

#include "ffi-device.h"
#include "ffi-net.h"
#include "ffi-util.h"

#include <R_ext/Rdynload.h>

extern SEXP ffi_net_create(SEXP, SEXP, SEXP);
extern SEXP ffi_stack_shapes(SEXP);
extern SEXP ffi_net_alive(SEXP);
extern SEXP ffi_net_id(SEXP);
extern SEXP ffi_net_memory(void);
extern SEXP ffi_net_free(SEXP);
extern SEXP ffi_net_set(SEXP, SEXP, SEXP);
extern SEXP ffi_net_copy_params(SEXP, SEXP);
extern SEXP ffi_net_set_opt(SEXP, SEXP, SEXP, SEXP);
extern SEXP ffi_net_sync(SEXP, SEXP);
extern SEXP ffi_net_freeze(SEXP);
extern SEXP ffi_view_plain(SEXP);
extern SEXP ffi_view_unread(SEXP);
extern SEXP ffi_view_reads(void);
extern SEXP ffi_net_snapshot_save(SEXP);
extern SEXP ffi_net_snapshot_restore(SEXP);
extern SEXP ffi_net_snapshot_drop(SEXP);
extern SEXP ffi_net_nonfinite(SEXP);
extern SEXP ffi_net_set_rng(SEXP, SEXP);
extern SEXP ffi_forward(SEXP, SEXP, SEXP);
extern SEXP ffi_input_grad(SEXP, SEXP, SEXP);
extern SEXP ffi_backward(SEXP, SEXP, SEXP, SEXP);
extern SEXP ffi_double_backward(SEXP, SEXP, SEXP);
extern SEXP ffi_critic_loss(SEXP, SEXP, SEXP, SEXP, SEXP, SEXP, SEXP, SEXP);
extern SEXP ffi_critic_step(SEXP, SEXP, SEXP, SEXP, SEXP, SEXP, SEXP, SEXP, SEXP, SEXP);
extern SEXP ffi_penalty(SEXP, SEXP, SEXP, SEXP);
extern SEXP ffi_classify(SEXP, SEXP, SEXP, SEXP, SEXP);
extern SEXP ffi_opt_step(SEXP, SEXP, SEXP);
extern SEXP ffi_clip(SEXP, SEXP);
extern SEXP ffi_rng_draw(SEXP, SEXP, SEXP);
extern SEXP ffi_threads(SEXP);
extern SEXP ffi_all_finite(SEXP);
extern SEXP ffi_cpu_cores(void);
extern SEXP ffi_trainer_create(SEXP, SEXP, SEXP, SEXP);
extern SEXP ffi_trainer_run(SEXP, SEXP, SEXP);
extern SEXP ffi_algo_outputs(SEXP, SEXP);
extern SEXP ffi_choices(SEXP);
extern SEXP ffi_trainer_free(SEXP);
extern SEXP ffi_trainer_set_graphs(SEXP, SEXP);
extern SEXP ffi_trainer_set_lr(SEXP, SEXP, SEXP);
extern SEXP ffi_trainer_buffer_get(SEXP, SEXP, SEXP, SEXP);
extern SEXP ffi_trainer_buffer_set(SEXP, SEXP, SEXP);
extern SEXP ffi_generate(SEXP, SEXP, SEXP);
extern SEXP ffi_device_info(SEXP);
extern SEXP ffi_cuda_unload(void);
extern SEXP ffi_device_open(SEXP);
extern SEXP ffi_device_knob(SEXP, SEXP, SEXP);
extern SEXP ffi_ot_assign(SEXP, SEXP, SEXP);

static const R_CallMethodDef call_entries[] = {
    {"ffi_net_create", (DL_FUNC)&ffi_net_create, 3},
    {"ffi_stack_shapes", (DL_FUNC)&ffi_stack_shapes, 1},
    {"ffi_net_alive", (DL_FUNC)&ffi_net_alive, 1},
    {"ffi_net_id", (DL_FUNC)&ffi_net_id, 1},
    {"ffi_net_memory", (DL_FUNC)&ffi_net_memory, 0},
    {"ffi_net_free", (DL_FUNC)&ffi_net_free, 1},
    {"ffi_net_set", (DL_FUNC)&ffi_net_set, 3},
    {"ffi_net_copy_params", (DL_FUNC)&ffi_net_copy_params, 2},
    {"ffi_net_set_opt", (DL_FUNC)&ffi_net_set_opt, 4},
    {"ffi_net_sync", (DL_FUNC)&ffi_net_sync, 2},
    {"ffi_net_freeze", (DL_FUNC)&ffi_net_freeze, 1},
    {"ffi_view_plain", (DL_FUNC)&ffi_view_plain, 1},
    {"ffi_view_unread", (DL_FUNC)&ffi_view_unread, 1},
    {"ffi_view_reads", (DL_FUNC)&ffi_view_reads, 0},
    {"ffi_net_snapshot_save", (DL_FUNC)&ffi_net_snapshot_save, 1},
    {"ffi_net_snapshot_restore", (DL_FUNC)&ffi_net_snapshot_restore, 1},
    {"ffi_net_snapshot_drop", (DL_FUNC)&ffi_net_snapshot_drop, 1},
    {"ffi_net_nonfinite", (DL_FUNC)&ffi_net_nonfinite, 1},
    {"ffi_net_set_rng", (DL_FUNC)&ffi_net_set_rng, 2},
    {"ffi_forward", (DL_FUNC)&ffi_forward, 3},
    {"ffi_input_grad", (DL_FUNC)&ffi_input_grad, 3},
    {"ffi_backward", (DL_FUNC)&ffi_backward, 4},
    {"ffi_double_backward", (DL_FUNC)&ffi_double_backward, 3},
    {"ffi_critic_loss", (DL_FUNC)&ffi_critic_loss, 8},
    {"ffi_critic_step", (DL_FUNC)&ffi_critic_step, 10},
    {"ffi_penalty", (DL_FUNC)&ffi_penalty, 4},
    {"ffi_classify", (DL_FUNC)&ffi_classify, 5},
    {"ffi_opt_step", (DL_FUNC)&ffi_opt_step, 3},
    {"ffi_clip", (DL_FUNC)&ffi_clip, 2},
    {"ffi_rng_draw", (DL_FUNC)&ffi_rng_draw, 3},
    {"ffi_threads", (DL_FUNC)&ffi_threads, 1},
    {"ffi_all_finite", (DL_FUNC)&ffi_all_finite, 1},
    {"ffi_cpu_cores", (DL_FUNC)&ffi_cpu_cores, 0},
    {"ffi_trainer_create", (DL_FUNC)&ffi_trainer_create, 4},
    {"ffi_trainer_run", (DL_FUNC)&ffi_trainer_run, 3},
    {"ffi_algo_outputs", (DL_FUNC)&ffi_algo_outputs, 2},
    {"ffi_choices", (DL_FUNC)&ffi_choices, 1},
    {"ffi_trainer_free", (DL_FUNC)&ffi_trainer_free, 1},
    {"ffi_trainer_set_graphs", (DL_FUNC)&ffi_trainer_set_graphs, 2},
    {"ffi_trainer_set_lr", (DL_FUNC)&ffi_trainer_set_lr, 3},
    {"ffi_trainer_buffer_get", (DL_FUNC)&ffi_trainer_buffer_get, 4},
    {"ffi_trainer_buffer_set", (DL_FUNC)&ffi_trainer_buffer_set, 3},
    {"ffi_generate", (DL_FUNC)&ffi_generate, 3},
    {"ffi_device_info", (DL_FUNC)&ffi_device_info, 1},
    {"ffi_cuda_unload", (DL_FUNC)&ffi_cuda_unload, 0},
    {"ffi_device_open", (DL_FUNC)&ffi_device_open, 1},
    {"ffi_device_knob", (DL_FUNC)&ffi_device_knob, 3},
    {"ffi_ot_assign", (DL_FUNC)&ffi_ot_assign, 3},
    {NULL, NULL, 0}};

/* The core's abort callback: is a user interrupt pending? R_ToplevelExec
 * catches the interrupt's longjmp, so the core can free and return. */
static void check_interrupt(void *data) {
  (void)data;
  R_CheckUserInterrupt();
}
static int interrupt_pending(void *data) {
  (void)data;
  return R_ToplevelExec(check_interrupt, NULL) == FALSE;
}

void R_init_wgflow(DllInfo *dll) {
  R_registerRoutines(dll, NULL, call_entries, NULL, NULL);
  R_useDynamicSymbols(dll, FALSE);
  R_forceSymbols(dll, TRUE);
  wf_set_abort_callback(interrupt_pending, NULL);
  wf_r_views_init(dll);
  /* Two threads where there are cores to spare. On two cores or fewer a
   * second thread stalls every fork-join whenever anything else runs (ten
   * to ninety times slower, seen here), so the default is one there;
   * wf_threads() changes it. */
#ifdef _OPENMP
  int threads = omp_get_num_procs() >= 4 ? 2 : 1;
#else
  int threads = 1;
#endif
  wf_device_knob(wf_r_device("cpu"), "threads", threads);
}

void R_unload_wgflow(DllInfo *dll) {
  (void)dll;
  wf_set_abort_callback(NULL, NULL);
  wf_r_release_devices();
}
