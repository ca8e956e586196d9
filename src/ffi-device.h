/* ffi-device.h — the dlopen()ed CUDA part (wgflow_cuda.so), for ffi code.
 *
 * ffi_device_info() loads wgflow_cuda.so once and keeps the handle; the CUDA
 * backend reuses it through wf_cuda_handle() and dlsym(). R-free.
 */
#ifndef WF_FFI_DEVICE_H
#define WF_FFI_DEVICE_H

/* The handle of the loaded wgflow_cuda.so, or NULL when it is not loaded
 * (built without CUDA, not yet asked for, dlopen() failed, or unloaded). */
void *wf_cuda_handle(void);

/* Drop the session's references to the CPU and CUDA devices (unload). */
void wf_r_release_devices(void);

#endif /* WF_FFI_DEVICE_H */
