# The GPU from R: these tests run where a usable GPU is and skip elsewhere
# (the CPU-only CI skips them; tools/gpu-check tests the CUDA backend in C).

skip_without_gpu <- function() {
  skip_on_cran()
  info <- wf_device_info()
  skip_if_not(isTRUE(info$available), "no usable GPU")
  skip_if_not(is.null(wgflow:::cuda_training_refusal()), "the GPU was refused")
}

gpu_fit <- function(device, ...) {
  x <- wf_toy("8gaussians", n = 2000, seed = 4)
  w1fe(x, epochs = 4, batch_size = 128, critic_steps = 3,
       critic = wf_mlp(c(32, 32)), generator = wf_mlp(c(32, 32)), eval_n = 200,
       eval_every = 2, seed = 3, device = device, verbose = FALSE, ...)
}

test_that("a fit on the GPU follows the same fit on the CPU to float tolerance", {
  skip_without_gpu()
  g <- gpu_fit("cuda")
  c <- gpu_fit("cpu")
  expect_identical(g$settings$device, "cuda")
  expect_identical(g$generator$device, "cuda")
  cols <- c("critic_loss", "w1_critic", "penalty", "euler_grad_norm", "fit_mse_last")
  for (col in cols) expect_equal(g$metrics[[col]], c$metrics[[col]], tolerance = 1e-3)
  expect_equal(wf_params(g$generator), wf_params(c$generator), tolerance = 1e-3)
  # the same random streams: identical uniforms on both devices
  a <- wf_net(wf_mlp(4), 2, 1, seed = 1, device = "cuda")
  b <- wf_net(wf_mlp(4), 2, 1, seed = 1, device = "cpu")
  expect_identical(wf_rng_uniform(a, 1000), wf_rng_uniform(b, 1000))
})

test_that("recorded steps (graphs) and eager steps give the same GPU fit", {
  skip_without_gpu()
  a <- gpu_fit("cuda")
  old <- options(wgflow.graphs = FALSE)
  on.exit(options(old))
  b <- gpu_fit("cuda")
  expect_identical(a$metrics[setdiff(names(a$metrics), "seconds")],
                   b$metrics[setdiff(names(b$metrics), "seconds")])
  expect_identical(wf_params(a$generator), wf_params(b$generator))
})

test_that("a GPU fit round-trips through saveRDS and continues identically", {
  skip_without_gpu()
  fit <- gpu_fit("cuda")
  back <- saved_and_read(fit)
  expect_identical(wf_sample(back, 100, seed = 2), wf_sample(fit, 100, seed = 2))
  a <- wf_continue(fit, epochs = 2, verbose = FALSE)
  b <- wf_continue(back, epochs = 2, verbose = FALSE)
  expect_identical(wf_params(a$generator), wf_params(b$generator))
})

test_that("100 small GPU fits leave the device allocator where it started", {
  skip_without_gpu()
  gc()
  live0 <- .Call(wgflow:::ffi_device_knob, "cuda", "live_kib", -1L)
  for (i in 1:100) {
    fit <- gpu_fit("cuda", epochs = 1)
    rm(fit)
  }
  gc()
  expect_identical(.Call(wgflow:::ffi_device_knob, "cuda", "live_kib", -1L), live0)
})

test_that("CUDA failures are classed R errors, never crashes", {
  skip_without_gpu()
  # about 4 TB of parameters: the device refuses the allocation
  expect_error(wf_net(wf_mlp(2^20), input_dim = 2^20, output_dim = 2^20,
                      device = "cuda"), class = "wgflow_error")
  net <- wf_net(wf_mlp(8), 2, 1, seed = 1, device = "cuda")
  expect_error(wf_forward(net, matrix(1, 3, 5)), class = "wgflow_error_arg")
  expect_equal(dim(wf_forward(net, matrix(1, 3, 2))), c(3L, 1L))
})
