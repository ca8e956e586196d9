/* ffi-device.c — R entry points for GPU discovery.
 *
 * wgflow_cuda.so (src/cuda) is never linked into wgflow.so: it is loaded
 * here with dlopen() the first time it is asked for, so the package loads
 * and runs on the CPU where the CUDA libraries or the driver are missing.
 * Every failure becomes an explanation in the returned list, never a crash.
 */
#include <dlfcn.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "ffi-util.h"
#include "ffi-device.h"
#include "cuda/wf_cuda.h"

#define WF_DEVICE_MSG_LEN 512

static void *cuda_handle = NULL;
/* the session's devices, opened on first use (wf_r_device) */
static wf_device *cpu_device = NULL, *cuda_device = NULL;
/* why the GPU was refused this session (its self-check failed), or "" */
static char cuda_refusal[WF_MSG_LEN + 32] = "";
typedef const wf_backend *(*backend_getter)(void);

void *wf_cuda_handle(void) { return cuda_handle; }

static SEXP device_list(int compiled, int available, int devices,
                        const char *message) {
  const char *names[] = {"compiled", "available", "devices", "message", ""};
  SEXP out = PROTECT(Rf_mkNamed(VECSXP, names));
  SET_VECTOR_ELT(out, 0, Rf_ScalarLogical(compiled));
  SET_VECTOR_ELT(out, 1, Rf_ScalarLogical(available));
  SET_VECTOR_ELT(out, 2, Rf_ScalarInteger(devices));
  SET_VECTOR_ELT(out, 3, Rf_mkString(message));
  UNPROTECT(1);
  return out;
}

/* path: the full path of wgflow_cuda.so, or "" when it was not built.
 * Returns list(compiled, available, devices, message). */
SEXP ffi_device_info(SEXP path) {
  if (TYPEOF(path) != STRSXP || XLENGTH(path) != 1 ||
      STRING_ELT(path, 0) == NA_STRING)
    Rf_error("`path` must be a single string");
  const char *file = Rf_translateChar(STRING_ELT(path, 0));

  if (cuda_handle == NULL) {
    struct stat st;
    if (file[0] == '\0' || stat(file, &st) != 0)
      return device_list(0, 0, 0, "built without CUDA");
    dlerror(); /* clear any earlier error */
    void *h = dlopen(file, RTLD_NOW | RTLD_LOCAL);
    if (h == NULL) {
      const char *e = dlerror();
      char buf[WF_DEVICE_MSG_LEN];
      snprintf(buf, sizeof buf, "cannot load the CUDA backend: %s",
               e ? e : "dlopen failed");
      return device_list(1, 0, 0, buf);
    }
    cuda_handle = h;
  }

  dlerror();
  wf_cuda_device_info_fn info =
      (wf_cuda_device_info_fn) dlsym(cuda_handle, "wf_cuda_device_info");
  if (info == NULL) {
    const char *e = dlerror();
    char buf[WF_DEVICE_MSG_LEN];
    snprintf(buf, sizeof buf, "broken CUDA backend: %s",
             e ? e : "wf_cuda_device_info not found");
    return device_list(1, 0, 0, buf);
  }

  int n = 0;
  char msg[WF_DEVICE_MSG_LEN];
  msg[0] = '\0';
  int ok = info(&n, msg, sizeof msg);
  msg[sizeof msg - 1] = '\0';
  if (msg[0] == '\0') strcpy(msg, ok ? "CUDA device available" : "no usable CUDA device");
  return device_list(1, ok != 0, n, msg);
}

/* Unloads wgflow_cuda.so (from .onUnload). Returns TRUE if it was loaded. */
SEXP ffi_cuda_unload(void) {
  int was = cuda_handle != NULL;
  /* never under a live CUDA device: its nets' finalizers still call in */
  if (was && cuda_device == NULL) {
    dlclose(cuda_handle);
    cuda_handle = NULL;
  }
  return Rf_ScalarLogical(was);
}

/* ---- devices for nets and trainers ---------------------------------------- */


wf_device *wf_r_device(const char *name) {
  char msg[WF_MSG_LEN];
  if (strcmp(name, "cpu") == 0) {
    if (cpu_device == NULL) {
      wf_status rc = wf_device_open(wf_cpu_backend(), &cpu_device, msg);
      if (rc != WF_OK) wf_r_abort_status(rc, msg);
    }
    return cpu_device;
  }
  if (strcmp(name, "cuda") != 0)
    wf_r_abort("wgflow_error_arg", "unknown device \"%s\"", name);
  if (cuda_device != NULL) return cuda_device;
  if (cuda_handle == NULL)
    wf_r_abort("wgflow_error_device",
               "the CUDA backend is not loaded (built without CUDA, or "
               "wf_device_info() found no usable GPU)");
  dlerror();
  backend_getter get = (backend_getter)dlsym(cuda_handle, "wf_cuda_backend");
  if (get == NULL)
    wf_r_abort("wgflow_error_device", "broken CUDA backend: no wf_cuda_backend");
  if (cuda_refusal[0] != '\0') wf_r_abort("wgflow_error_device", "%s", cuda_refusal);
  wf_device *dev = NULL;
  wf_status rc = wf_device_open(get(), &dev, msg);
  /* first use in the session: a training step on both backends must agree */
  if (rc == WF_OK) rc = wf_device_selfcheck(dev, wf_r_device("cpu"), msg);
  if (rc == WF_OK && msg[0] != '\0') Rf_warning("wgflow: %s", msg);
  if (rc != WF_OK) {
    wf_device_release(dev);
    snprintf(cuda_refusal, sizeof(cuda_refusal), "the GPU is not used: %s", msg);
    wf_r_abort_status(rc == WF_ERR_NOMEM ? rc : WF_ERR_DEVICE, cuda_refusal);
  }
  cuda_device = dev;
  return cuda_device;
}

/* At unload: the session's references to the devices (nets still alive
 * keep theirs). */
void wf_r_release_devices(void) {
  wf_device_release(cpu_device);
  wf_device_release(cuda_device);
  cpu_device = cuda_device = NULL;
}

/* Opens the device called name for this session (for "cuda": loads the
 * backend table and runs the self-check); TRUE, or a classed R error that
 * says why not. */
SEXP ffi_device_open(SEXP name) {
  if (!Rf_isString(name) || Rf_length(name) != 1)
    wf_r_abort("wgflow_error_arg", "`device` must be a single string");
  wf_r_device(CHAR(STRING_ELT(name, 0)));
  return Rf_ScalarLogical(TRUE);
}

/* A backend knob of the session's device called name (internal: the GPU
 * tests read the CUDA allocator's live memory with it). value < 0 reads. */
SEXP ffi_device_knob(SEXP device, SEXP knob, SEXP value) {
  if (!Rf_isString(device) || Rf_length(device) != 1 || !Rf_isString(knob) ||
      Rf_length(knob) != 1)
    wf_r_abort("wgflow_error_arg", "`device` and `knob` must be single strings");
  wf_device *dev = wf_r_device(CHAR(STRING_ELT(device, 0)));
  return Rf_ScalarInteger(wf_device_knob(dev, CHAR(STRING_ELT(knob, 0)),
                                         wf_r_int(value, "value", -1, 1 << 30)));
}
