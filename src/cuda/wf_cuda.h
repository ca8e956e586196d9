/* wf_cuda.h — the C entry points of wgflow_cuda.so, the optional CUDA part.
 *
 * wgflow_cuda.so is a second shared object, separate from wgflow.so, so the
 * package loads where the CUDA libraries are missing. R never links it: the
 * ffi layer (src/ffi-device.c) dlopen()s it on demand and looks these
 * symbols up with dlsym(). Everything here is R-free, never prints, exits or
 * aborts, and reports failures through return values and message buffers.
 * Nothing in it depends on a symbol of wgflow.so.
 */
#ifndef WF_CUDA_H
#define WF_CUDA_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Is a usable GPU present? Returns 1 when cudaGetDeviceCount() succeeds with
 * at least one device and a cuBLAS handle can be created on the current
 * device, else 0. *n_devices gets the device count (0 on error; may be NULL).
 * msg[msg_len] gets a one-line description of device 0 (name, compute
 * capability, memory) or the reason there is no usable GPU. */
int wf_cuda_device_info(int *n_devices, char *msg, size_t msg_len);
typedef int (*wf_cuda_device_info_fn)(int *, char *, size_t);

/* How wgflow_cuda.so was built: CUDA version and GPU architectures.
 * A static string; never NULL. */
const char *wf_cuda_build_info(void);
typedef const char *(*wf_cuda_build_info_fn)(void);

/* The CUDA backend's table (src/core/backend.h, WF_BACKEND_API: check it with
 * wf_backend_check before use). float only. Always returns the table, even
 * without a GPU: its ctx_create is what fails then, with a message.
 * Declared with the struct tag so this header needs no core header. */
struct wf_backend;
const struct wf_backend *wf_cuda_backend(void);
typedef const struct wf_backend *(*wf_cuda_backend_fn)(void);

#ifdef __cplusplus
}
#endif

#endif /* WF_CUDA_H */
