# The fit constructor every family shares (R/fit.R).

test_that("too few training or evaluation rows give a classed warning, enough give none", {
  x <- wf_toy("8gaussians", 40, seed = 1)
  small <- function(x, ...) {
    w1fe(x, epochs = 1, critic = wf_mlp(4), generator = wf_mlp(4), batch_size = 8,
         critic_steps = 1, seed = 1, device = "cpu", verbose = FALSE, ...)
  }
  expect_warning(small(x), "32 training rows and 8 evaluation rows",
                 class = "wgflow_warning_small_data")
  big <- wf_toy("8gaussians", 300, seed = 1)
  expect_warning(small(big, eval_n = 20), "^Only 20 evaluation rows",
                 class = "wgflow_warning_small_data")
  expect_no_warning(small(big, eval_n = 30))
  # every family constructs through new_fit()
  expect_warning(ots_fit(x, epochs = 1, generator = wf_mlp(4), latent_dim = 2, batch_size = 8,
                         ots_max_steps = 20, ots_check_every = 10, ots_window = 20,
                         ots_bins = 4, seed = 1, device = "cpu", verbose = FALSE),
                 class = "wgflow_warning_small_data")
})

test_that("print() notes a distance clearly below its sampling floor", {
  x <- wf_toy("8gaussians", 1000, seed = 1)
  fit <- w1fe(x, epochs = 1, critic = wf_mlp(4), generator = wf_mlp(4), batch_size = 64,
              critic_steps = 1, eval_n = 100, seed = 1, device = "cpu", verbose = FALSE)
  expect_false(any(grepl("below the sampling floor", capture.output(print(fit)))))
  low <- fit
  low$metrics$w1[nrow(low$metrics)] <- 1e-3
  expect_output(print(low), "below the sampling floor")
  expect_output(print(low), "W1:")
})

test_that("a fit with a broken net gives one sentence naming the net", {
  x <- wf_toy("8gaussians", 300, seed = 1)
  fit <- w1fe(x, epochs = 1, critic = wf_mlp(4), generator = wf_mlp(4), batch_size = 64,
              critic_steps = 1, eval_n = 50, seed = 1, device = "cpu", verbose = FALSE)
  fit$critic <- wgflow:::copy_net(fit$critic)
  fit$critic$params[1] <- NaN
  err <- expect_error(print(fit), class = "wgflow_error_arg")
  expect_match(conditionMessage(err), "its `critic` is not a valid wf_net")
  expect_no_match(conditionMessage(err), "[.][.]")
})

test_that("every family takes a batch larger than its training rows by one rule: reduced, with a message", {
  x <- wf_toy("8gaussians", 300, seed = 1)
  common <- list(epochs = 1, batch_size = 5000, eval_n = 50, seed = 1, device = "cpu",
                 verbose = FALSE)
  fits <- list(
    rwp = function() do.call(rwp, c(list(x, critic = wf_mlp(4), generator = wf_mlp(4),
                                         latent_dim = 2), common)),
    ots = function() do.call(ots_fit, c(list(x, generator = wf_mlp(4), latent_dim = 2,
                                             ots_max_steps = 10, ots_check_every = 10,
                                             ots_window = 10, ots_bins = 4), common)))
  for (nm in names(fits)) {
    expect_message(f <- fits[[nm]](), class = "wgflow_message_batch_size")
    expect_identical(f$settings$batch_size, nrow(f$data), info = nm)
  }
  # a map fit: the smaller of the data's and the source's training rows
  p <- wf_toy_pair("4gaussians", 300, seed = 1)
  expect_message(m <- do.call(w2gan, c(list(p$target, source = p$source[1:200, ],
                                            critic = wf_mlp(4)), common)),
                 class = "wgflow_message_batch_size")
  expect_identical(m$settings$batch_size, min(nrow(m$data), nrow(m$source)))
})

test_that("a BatchNorm net that needs a double backward is refused with one class", {
  x <- wf_toy("8gaussians", 300, seed = 1)
  bn <- wf_mlp(8, norm = "batch")
  expect_error(w1fe(x, critic = bn, verbose = FALSE), class = "wgflow_error_batch_norm")
  expect_error(rwp(x, critic = bn, verbose = FALSE), class = "wgflow_error_batch_norm")
  expect_error(sbe(x, potential = bn, verbose = FALSE), class = "wgflow_error_batch_norm")
  p <- wf_toy_pair("4gaussians", 300, seed = 1)
  expect_error(w2gan(p$target, source = p$source, critic = bn, verbose = FALSE),
               class = "wgflow_error_batch_norm")
})
