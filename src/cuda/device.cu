/* device.cu — GPU discovery for wgflow_cuda.so (R-free; see wf_cuda.h).
 *
 * Nothing here prints, exits or aborts: results go to the caller through
 * return values and a message buffer, so a machine without a GPU or driver
 * only ever produces an explanation.
 */
#include <stdio.h>
#include <string.h>

#include <cuda_runtime.h>
#include <cublas_v2.h>

#include "wf_cuda.h"

#define WF_STR_(...) #__VA_ARGS__
#define WF_STR(...) WF_STR_(__VA_ARGS__)

static void set_msg(char *msg, size_t msg_len, const char *text) {
  if (msg == NULL || msg_len == 0) return;
  snprintf(msg, msg_len, "%s", text);
}

static const char *cublas_status_text(cublasStatus_t s) {
  switch (s) {
  case CUBLAS_STATUS_SUCCESS: return "success";
  case CUBLAS_STATUS_NOT_INITIALIZED: return "CUDA runtime not initialised";
  case CUBLAS_STATUS_ALLOC_FAILED: return "allocation failed";
  case CUBLAS_STATUS_INVALID_VALUE: return "invalid value";
  case CUBLAS_STATUS_ARCH_MISMATCH: return "architecture mismatch";
  case CUBLAS_STATUS_EXECUTION_FAILED: return "execution failed";
  case CUBLAS_STATUS_INTERNAL_ERROR: return "internal error";
  case CUBLAS_STATUS_NOT_SUPPORTED: return "not supported";
  default: return "unknown cuBLAS error";
  }
}

extern "C" int wf_cuda_device_info(int *n_devices, char *msg, size_t msg_len) {
  int n = 0;
  if (n_devices) *n_devices = 0;

  cudaError_t err = cudaGetDeviceCount(&n);
  if (err != cudaSuccess) {
    char buf[256];
    snprintf(buf, sizeof buf, "CUDA error: %s", cudaGetErrorString(err));
    (void) cudaGetLastError(); /* reset the last-error slot */
    set_msg(msg, msg_len, buf);
    return 0;
  }
  if (n_devices) *n_devices = n;
  if (n <= 0) {
    set_msg(msg, msg_len, "no CUDA device found");
    return 0;
  }

  cudaDeviceProp prop;
  err = cudaGetDeviceProperties(&prop, 0);
  if (err != cudaSuccess) {
    char buf[256];
    snprintf(buf, sizeof buf, "CUDA error on device 0: %s",
             cudaGetErrorString(err));
    (void) cudaGetLastError();
    set_msg(msg, msg_len, buf);
    return 0;
  }

  cublasHandle_t handle = NULL;
  cublasStatus_t st = cublasCreate(&handle);
  if (st != CUBLAS_STATUS_SUCCESS) {
    char buf[512];
    snprintf(buf, sizeof buf, "%s: cannot create a cuBLAS handle (%s)",
             prop.name, cublas_status_text(st));
    (void) cudaGetLastError();
    set_msg(msg, msg_len, buf);
    return 0;
  }
  cublasDestroy(handle);

  char buf[512];
  snprintf(buf, sizeof buf,
           "%s, compute capability %d.%d, %.1f GiB%s", prop.name,
           prop.major, prop.minor,
           (double) prop.totalGlobalMem / (1024.0 * 1024.0 * 1024.0),
           n > 1 ? " (device 0)" : "");
  set_msg(msg, msg_len, buf);
  return 1;
}

extern "C" const char *wf_cuda_build_info(void) {
  static char info[256];
  if (info[0] == '\0') {
    int rt = 0;
    if (cudaRuntimeGetVersion(&rt) != cudaSuccess) rt = 0;
#ifdef __CUDA_ARCH_LIST__
    const char *archs = WF_STR(__CUDA_ARCH_LIST__);
#else
    const char *archs = "unknown";
#endif
    snprintf(info, sizeof info,
             "CUDA %d.%d (runtime %d.%d), archs %s", CUDART_VERSION / 1000,
             (CUDART_VERSION % 1000) / 10, rt / 1000, (rt % 1000) / 10, archs);
  }
  return info;
}
