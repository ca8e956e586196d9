#' Is a GPU available to wgflow?
#'
#' Reports whether the package was built with its CUDA backend and whether a
#' usable GPU is present now. The CUDA backend is a separate shared object
#' (`wgflow_cuda.so`) that is loaded only when first needed, so wgflow loads
#' and runs on the CPU on machines without a GPU, a driver or the CUDA
#' libraries.
#'
#' A GPU is usable when the CUDA runtime finds at least one device and a
#' cuBLAS handle can be created on it. Models use the first device.
#'
#' When a build with CUDA finds no usable GPU, the first fit with
#' `device = "auto"` in a session says so once, in a message of class
#' `wgflow_message_no_gpu`; `options(wgflow.gpu_message = FALSE)` silences
#' it (the vignettes do, so their output reads the same on every build).
#'
#' @return A list of class `wf_device_info` (printed as one line) with
#'   elements
#'   \describe{
#'     \item{`compiled`}{`TRUE` if the package was built with CUDA.}
#'     \item{`available`}{`TRUE` if a usable GPU is present.}
#'     \item{`devices`}{The number of CUDA devices found (an integer).}
#'     \item{`message`}{A one-line description of device 0 (name, compute
#'       capability, memory) when `available`, otherwise the reason there is
#'       no usable GPU.}
#'   }
#' @seealso The `device` argument of the training functions: `"auto"` uses
#'   the GPU when this reports one available and the CPU otherwise.
#' @export
#' @examples
#' info <- wf_device_info()
#' info$available
#' info$message
wf_device_info <- function() {
  info <- .Call(ffi_device_info, cuda_library_path())
  class(info) <- "wf_device_info"
  wf_device_cache$info <- info
  info
}

#' @export
print.wf_device_info <- function(x, ...) {
  cat("<wf_device_info> ",
      if (isTRUE(x$available)) sprintf("GPU available (%d device%s): %s", x$devices,
                                      if (identical(x$devices, 1L)) "" else "s", x$message)
      else if (isTRUE(x$compiled)) sprintf("built with CUDA; no usable GPU: %s", x$message)
      else "built without CUDA: training runs on the CPU",
      "\n", sep = "")
  invisible(x)
}

# The full path of the installed wgflow_cuda.so, or "" when it was not built.
cuda_library_path <- function() {
  file <- paste0("wgflow_cuda", .Platform$dynlib.ext)
  arch <- .Platform$r_arch
  path <- if (nzchar(arch)) {
    system.file("libs", arch, file, package = "wgflow")
  } else {
    system.file("libs", file, package = "wgflow")
  }
  if (!nzchar(path)) {
    # source installs with a sub-architecture that is not in libs/
    path <- system.file("libs", file, package = "wgflow")
  }
  path
}

# The result of the last device query, so that every fit with
# device = "auto" does not create a cuBLAS handle again.
wf_device_cache <- new.env(parent = emptyenv())

device_info_cached <- function() {
  if (is.null(wf_device_cache$info)) wf_device_info() else wf_device_cache$info
}

# Resolves a user's `device` argument to "cpu" or "cuda".
resolve_device <- function(device = "auto") {
  choices <- c("auto", "cpu", "cuda")
  if (!is.character(device) || length(device) != 1L || is.na(device) ||
      !device %in% choices) {
    wf_abort(
      paste0(
        "`device` must be one of \"auto\", \"cpu\" or \"cuda\", not ",
        describe_device_arg(device), "."
      ),
      class = "wgflow_error_arg",
      arg = "device"
    )
  }
  if (device == "cpu") {
    return("cpu")
  }
  info <- device_info_cached()
  reason <- info$message
  if (isTRUE(info$available)) {
    reason <- cuda_training_refusal()
    if (is.null(reason)) return("cuda")
  }
  if (device == "cuda") {
    wf_abort(
      paste0("`device = \"cuda\"` but no usable GPU: ", reason, "."),
      class = "wgflow_error_device",
      arg = "device"
    )
  }
  # say it once a session, and only where a GPU could have been used: a
  # CPU-only build has nothing to explain
  if (isTRUE(info$compiled) && !isTRUE(wf_device_cache$told) &&
      !isFALSE(getOption("wgflow.gpu_message"))) {
    wf_inform(paste0("wgflow: no usable GPU (", reason, "); using the CPU."),
              class = "wgflow_message_no_gpu")
    wf_device_cache$told <- TRUE
  }
  "cpu"
}

# NULL when nets can train on the GPU, else why not. The first call opens
# the CUDA device, which runs a training step on the GPU and on the CPU and
# refuses the GPU if they disagree (src/core/selfcheck.c); the answer is
# kept for the session.
cuda_training_refusal <- function() {
  info <- device_info_cached()
  if (!isTRUE(info$available)) return(info$message)
  if (is.null(wf_device_cache$cuda_refusal)) {
    wf_device_cache$cuda_refusal <- tryCatch({
      .Call(ffi_device_open, "cuda")
      ""
    }, wgflow_error = function(e) conditionMessage(e))
  }
  if (nzchar(wf_device_cache$cuda_refusal)) wf_device_cache$cuda_refusal else NULL
}

describe_device_arg <- function(x) {
  if (is.null(x)) {
    return("NULL")
  }
  if (is.character(x) && length(x) == 1L && !is.na(x)) {
    return(paste0("\"", x, "\""))
  }
  if (length(x) != 1L) {
    return(paste0("a ", class(x)[1L], " vector of length ", length(x)))
  }
  paste0("`", format(x), "`")
}
