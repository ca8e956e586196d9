test_that("wf_device_info() returns the documented list", {
  info <- wf_device_info()
  expect_type(info, "list")
  expect_named(info, c("compiled", "available", "devices", "message"))
  expect_type(info$compiled, "logical")
  expect_type(info$available, "logical")
  expect_type(info$devices, "integer")
  expect_type(info$message, "character")
  expect_length(info$compiled, 1)
  expect_length(info$available, 1)
  expect_length(info$devices, 1)
  expect_length(info$message, 1)
  expect_false(is.na(info$compiled))
  expect_false(is.na(info$available))
  expect_true(nzchar(info$message))
  if (!info$compiled) {
    expect_false(info$available)
    expect_identical(info$message, "built without CUDA")
  }
  if (info$available) {
    expect_true(info$compiled)
    expect_gt(info$devices, 0L)
  }
})

test_that("wf_device_info() can be called repeatedly", {
  a <- wf_device_info()
  b <- wf_device_info()
  expect_identical(a$compiled, b$compiled)
  expect_identical(a$available, b$available)
})

test_that("without a usable GPU backend, device = 'cuda' is a classed error", {
  skip_if(wf_device_info()$available && is.null(wgflow:::cuda_training_refusal()),
          "a GPU is available")
  expect_error(resolve_device("cuda"), class = "wgflow_error_device")
})

test_that("without a GPU, device = 'auto' falls back to the CPU, saying so once", {
  skip_if(wf_device_info()$available && is.null(wgflow:::cuda_training_refusal()),
          "a GPU is available")
  cache <- wgflow:::wf_device_cache
  cache$told <- FALSE
  if (isTRUE(wf_device_info()$compiled)) {
    # a CUDA build on a machine without a usable GPU says why, once
    expect_message(dev <- resolve_device("auto"), "CPU")
  } else {
    # a CPU-only build has nothing to explain: no message at all
    expect_silent(dev <- resolve_device("auto"))
  }
  expect_identical(dev, "cpu")
  expect_silent(resolve_device("auto"))
})

test_that("a CPU-only build never says 'no usable GPU'", {
  cache <- wgflow:::wf_device_cache
  old <- as.list(cache)
  on.exit({
    rm(list = ls(cache), envir = cache)
    for (nm in names(old)) assign(nm, old[[nm]], envir = cache)
  })
  cache$told <- FALSE
  cache$info <- structure(list(compiled = FALSE, available = FALSE, devices = 0L,
                               message = "built without CUDA"), class = "wf_device_info")
  expect_silent(expect_identical(resolve_device("auto"), "cpu"))
  cache$told <- FALSE
  cache$info <- structure(list(compiled = TRUE, available = FALSE, devices = 0L,
                               message = "no CUDA device found"), class = "wf_device_info")
  expect_message(resolve_device("auto"), "no usable GPU",
                 class = "wgflow_message_no_gpu")
  # once a session
  expect_silent(resolve_device("auto"))
  # and never with options(wgflow.gpu_message = FALSE)
  cache$told <- FALSE
  old_opt <- options(wgflow.gpu_message = FALSE)
  on.exit(options(old_opt), add = TRUE)
  expect_silent(expect_identical(resolve_device("auto"), "cpu"))
})

test_that("wf_device_info() prints one line", {
  info <- wf_device_info()
  expect_s3_class(info, "wf_device_info")
  out <- capture.output(print(info))
  expect_length(out, 1L)
  expect_match(out, "^<wf_device_info> ")
  expect_match(capture.output(print(structure(list(compiled = FALSE, available = FALSE,
    devices = 0L, message = "built without CUDA"), class = "wf_device_info"))),
    "built without CUDA: training runs on the CPU", fixed = TRUE)
  expect_match(capture.output(print(structure(list(compiled = TRUE, available = TRUE,
    devices = 1L, message = "NVIDIA H200"), class = "wf_device_info"))),
    "GPU available (1 device): NVIDIA H200", fixed = TRUE)
})

test_that("with a GPU, device = 'auto' and 'cuda' give 'cuda'", {
  skip_if_not(wf_device_info()$available && is.null(wgflow:::cuda_training_refusal()),
              "no GPU backend")
  expect_identical(resolve_device("auto"), "cuda")
  expect_identical(resolve_device("cuda"), "cuda")
})

test_that("device = 'cpu' always gives 'cpu', silently", {
  expect_silent(dev <- resolve_device("cpu"))
  expect_identical(dev, "cpu")
})

test_that("a bad device is an error naming the argument", {
  for (bad in list("gpu", "CPU", NA_character_, c("cpu", "cuda"), 1, NULL)) {
    err <- expect_error(resolve_device(bad), class = "wgflow_error_arg")
    expect_match(conditionMessage(err), "device", fixed = TRUE)
  }
})
