.onUnload <- function(libpath) {
  # Close the dlopen()ed CUDA backend before wgflow.so, which holds its handle.
  try(.Call(ffi_cuda_unload), silent = TRUE)
  library.dynam.unload("wgflow", libpath)
}
