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

#include <R.h>
#include <Rinternals.h>

#include "ffi-device.h"
#include "cuda/wf_cuda.h"

#define WF_DEVICE_MSG_LEN 512

static void *cuda_handle = NULL;

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
  if (was) {
    dlclose(cuda_handle);
    cuda_handle = NULL;
  }
  return Rf_ScalarLogical(was);
}
