# Living with a fit: callbacks that see the fit,
# early stopping, checkpoints, learning-rate schedules, predict types,
# simulate/coef/fitted, compact calls, continuing on a copy, and Ctrl-C in
# a sweep.

live_data <- wf_toy("8gaussians", n = 800, seed = 4)

live_fit <- function(..., epochs = 4L, seed = 1L) {
  w1fe(live_data, epochs = epochs, batch_size = 64, critic_steps = 2,
       critic = wf_mlp(16), generator = wf_mlp(16), eval_n = 100, eval_every = 1,
       seed = seed, device = "cpu", verbose = FALSE, ...)
}

# ---- callbacks ------------------------------------------------------------

test_that("a callback with two arguments gets a snapshot of the fit", {
  seen <- list()
  fit <- live_fit(callbacks = function(row, fit) {
    seen[[length(seen) + 1L]] <<- fit
    TRUE
  })
  expect_length(seen, 4L)
  snap <- seen[[2]]
  expect_s3_class(snap, "wf_fit")
  expect_identical(snap$status, "running")
  expect_identical(snap$metrics$epoch, 1:2)
  expect_equal(snap$metrics$w1, fit$metrics$w1[1:2])
  # the snapshot keeps the networks as they were after epoch 2
  two <- live_fit(epochs = 2)
  expect_identical(wf_params(snap$generator), wf_params(two$generator))
  expect_identical(wf_sample(snap, 10, seed = 1), wf_sample(two, 10, seed = 1))
  expect_false(identical(wf_params(snap$generator), wf_params(fit$generator)))
  # a custom metric from the fit
  custom <- numeric()
  live_fit(callbacks = function(row, fit) {
    custom <<- c(custom, mean(wf_sample(fit, 50, seed = 1)[, 1]))
  })
  expect_length(custom, 4L)
  # one-argument callbacks still see the row only
  rows <- list()
  live_fit(callbacks = function(row) rows[[length(rows) + 1L]] <<- row)
  expect_s3_class(rows[[1]], "tbl_df")
  expect_identical(nrow(rows[[1]]), 1L)
})

test_that("a callback that fails ends the run keeping the epochs done", {
  expect_warning(
    fit <- live_fit(epochs = 6, callbacks = function(row) if (row$epoch == 3) stop("boom") else TRUE),
    "callback 1 \\(function 1\\) failed after epoch 3: boom")
  expect_identical(fit$status, "error")
  expect_identical(fit$metrics$epoch, 1:3)
  expect_false(anyNA(fit$metrics$w1))
  expect_identical(fit$metrics$epoch, 1:3)
})

test_that("wf_early_stopping() stops after `patience` evaluations without improvement", {
  values <- c(1, 0.8, 0.79, 0.85, 0.81, 0.7, 0.9)
  ev <- local({
    i <- 0
    function() {
      i <<- i + 1
      list(values = list(w1 = values[i], w2 = 1), diverged = FALSE)
    }
  })
  cb <- wgflow:::check_callbacks(wf_early_stopping(patience = 2, min_delta = 0.02))
  run <- wgflow:::run_epochs(7L, function() c(loss = 1), ev, "loss", c("w1", "w2"),
                             eval_every = 1L, verbose = FALSE, callbacks = cb)
  # best 0.8 at epoch 2; 0.79 does not beat it by 0.02; 0.85 neither: stop at 4
  expect_identical(run$status, "stopped")
  expect_identical(run$metrics$epoch, 1:4)
  expect_match(run$message, "early stopping after epoch 4: w1 has not improved on 0.8 (epoch 2)",
               fixed = TRUE)
  # the same object starts afresh in another run
  es <- wf_early_stopping(patience = 1)
  a <- live_fit(epochs = 3, callbacks = es)
  b <- live_fit(epochs = 3, callbacks = es)
  expect_identical(a$metrics$epoch, b$metrics$epoch)
  expect_output(print(es), "early stopping")
  expect_arg_error(wf_early_stopping(patience = 0), "patience")
  expect_arg_error(wf_early_stopping(min_delta = -1), "min_delta")
  expect_arg_error(wf_early_stopping(metric = 1), "metric")
})

test_that("wf_checkpoint() saves the best fit, which restores and continues", {
  dir <- tempfile()
  dir.create(dir)
  on.exit(unlink(dir, recursive = TRUE))
  path <- file.path(dir, "best.rds")
  fit <- live_fit(epochs = 5, callbacks = wf_checkpoint(path))
  best <- readRDS(path)
  expect_identical(best$status, "checkpoint")
  b <- which.min(fit$metrics$w1)
  expect_identical(nrow(best$metrics), b)
  expect_match(best$message, sprintf("checkpoint after epoch %d", b))
  expect_identical(dim(as.matrix(wf_sample(best, 5, seed = 1))), c(5L, 2L))
  more <- wf_continue(best, epochs = 1)
  expect_identical(more$metrics$epoch, seq_len(b + 1L))
  # every evaluation, with the epoch in the name
  live_fit(epochs = 3, callbacks = wf_checkpoint(file.path(dir, "e{epoch}.rds"),
                                                 best_only = FALSE))
  expect_true(all(file.exists(file.path(dir, sprintf("e%d.rds", 1:3)))))
  expect_arg_error(wf_checkpoint(file.path(dir, "no", "such", "x.rds")), "path")
  expect_arg_error(wf_checkpoint(NA_character_), "path")
})

test_that("wf_lr_schedule() sets and records the learning rates", {
  fit <- live_fit(epochs = 4, callbacks = wf_lr_schedule("step", every = 2, gamma = 0.5))
  expect_equal(fit$metrics$lr_generator, 1e-4 * c(1, 1, 0.5, 0.5))
  expect_equal(fit$metrics$lr_critic, 1e-4 * c(1, 1, 0.5, 0.5))
  # a factor of 1 changes nothing; a rate of 0 freezes the generator
  plain <- live_fit(epochs = 3)
  same <- live_fit(epochs = 3, callbacks = wf_lr_schedule(function(epoch) 1))
  expect_identical(wf_params(same$generator), wf_params(plain$generator))
  first <- live_fit(epochs = 1)
  frozen <- live_fit(epochs = 3, callbacks = wf_lr_schedule(function(epoch) if (epoch > 1) 0 else 1,
                                                            nets = "generator"))
  expect_identical(wf_params(frozen$generator), wf_params(first$generator))
  expect_false("lr_critic" %in% names(frozen$metrics))
  expect_equal(live_fit(epochs = 3, callbacks = wf_lr_schedule("exponential", gamma = 0.1))$metrics$lr_critic,
               1e-4 * 0.1^(0:2))
  cos <- live_fit(epochs = 3, callbacks = wf_lr_schedule("cosine", epochs = 3))$metrics$lr_critic
  expect_equal(cos, 1e-4 * c(1, 0.5, 0))
  expect_warning(bad <- live_fit(callbacks = wf_lr_schedule(function(epoch) -1)), "schedule gave")
  expect_identical(bad$status, "error")
  expect_warning(live_fit(callbacks = wf_lr_schedule("step", nets = "critik")), "no network")
  expect_arg_error(wf_lr_schedule("linear"), "schedule")
  expect_arg_error(wf_lr_schedule("step", every = 0), "every")
  expect_arg_error(wf_lr_schedule(function(e) 1, nets = 1), "nets")
})

# ---- predict, simulate, coef, fitted ----------------------------------

test_that("predict() has real types and refuses unknown ones", {
  fit <- live_fit(epochs = 2)
  expect_identical(predict(fit, n = 7, seed = 2), wf_sample(fit, 7, seed = 2))
  z <- matrix(rnorm(6), 3, 2)
  expect_equal(predict(fit, z, type = "generator"), wf_forward(fit$generator, z),
               ignore_attr = TRUE)
  expect_equal(unname(predict(fit, live_data[1:4, ], type = "critic")),
               wf_forward(fit$critic, unname(live_data[1:4, ])))
  expect_arg_error(predict(fit, type = "potential"), "type")
  expect_arg_error(predict(fit, z), "newdata") # data rows are not latents
  expect_arg_error(predict(fit, type = "critic"), "newdata")
  expect_arg_error(predict(fit, matrix(0, 2, 3), type = "critic"), "newdata")
})

test_that("simulate(), coef() and fitted() do what a user expects", {
  fit <- live_fit(epochs = 2)
  sims <- simulate(fit, nsim = 3, seed = 1, n = 5)
  expect_length(sims, 3L)
  expect_identical(sims[[1]], wf_sample(fit, 5, seed = 1))
  expect_false(identical(sims[[1]], sims[[2]]))
  expect_identical(as.vector(attr(sims, "seed")), 1L)
  expect_identical(nrow(simulate(fit)[[1]]), nrow(fit$data))
  cf <- coef(fit)
  expect_named(cf, c("critic", "generator"))
  expect_identical(cf$generator, wf_params(fit$generator))
  expect_error(fitted(fit), class = "wgflow_error_unsupported")
  expect_arg_error(simulate(fit, nsim = 0), "nsim")
})

# ---- compact calls ----------------------------------------------------

test_that("a fit made through do.call() stores a compact call", {
  big <- wf_toy("8gaussians", n = 20000, seed = 1)
  fun <- function(data, ...) w1fe(data, ...)
  fit <- do.call(w1fe, list(big, epochs = 1, batch_size = 64, critic = wf_mlp(8),
                            generator = wf_mlp(8), eval_n = 50, seed = 1, verbose = FALSE))
  expect_lt(length(serialize(fit$call, NULL)), 2000)
  txt <- paste(deparse(fit$call), collapse = " ")
  expect_match(txt, "^w1fe\\(")
  expect_match(txt, "<matrix 20000 x 2>", fixed = TRUE)
  expect_match(txt, "<wf_mlp 8 relu>", fixed = TRUE)
  expect_lt(length(capture.output(summary(fit))), 50)
  g <- do.call(wgan, list(big[1:500, ], epochs = 1, batch_size = 64, critic = wf_mlp(8),
                          generator = wf_mlp(8), eval_n = 50, seed = 1, verbose = FALSE))
  expect_lt(length(serialize(g$call, NULL)), 2000)
  expect_match(paste(deparse(g$call), collapse = " "), "^wgan\\(")
  # a sweep's fits
  old <- future::plan(future::sequential)
  on.exit(future::plan(old), add = TRUE)
  sw <- wf_sweep(big[1:400, ], data.frame(persistency = c(1, 3)), seeds = 1, epochs = 1,
                 batch_size = 32, critic = wf_mlp(8), generator = wf_mlp(8), eval_n = 50,
                 keep_fits = TRUE)
  fits <- attr(sw, "fits")
  expect_lt(length(serialize(fits[[1]]$call, NULL)), 2000)
  # the fits hold their data once, not also in the call
  expect_lt(length(serialize(fits, NULL)), 2 * length(serialize(lapply(fits, function(f) {
    f$call <- NULL
    f
  }), NULL)))
})

# ---- wf_continue() on a copy ---------------------------------------------

test_that("wf_continue() trains a copy and leaves the fit as it was", {
  fit <- live_fit(epochs = 3)
  params <- wf_params(fit$generator)
  samples <- wf_sample(fit, 20, seed = 1)
  metrics <- fit$metrics
  more <- wf_continue(fit, epochs = 2)
  expect_identical(wf_params(fit$generator), params)
  expect_identical(wf_sample(fit, 20, seed = 1), samples)
  expect_identical(fit$metrics, metrics)
  expect_identical(more$metrics$epoch, 1:5)
  # the continuation is the straight run
  straight <- live_fit(epochs = 5)
  expect_identical(wf_params(more$generator), wf_params(straight$generator))
  cols <- setdiff(names(straight$metrics), "seconds")
  expect_equal(more$metrics[cols], straight$metrics[cols])
  # and continuing the original again gives the same again
  again <- wf_continue(fit, epochs = 2)
  expect_identical(wf_params(again$generator), wf_params(more$generator))
})

# ---- Ctrl-C in a sweep ---------------------------------------------------

test_that("Ctrl-C in wf_sweep() stops the sweep and returns the runs done", {
  old <- future::plan(future::sequential)
  on.exit(future::plan(old), add = TRUE)
  # the second run's fit is interrupted after its epoch 2
  fun <- function(data, seed, ...) {
    interrupt <- function(row) {
      if (seed == 2 && row$epoch == 2) {
        signalCondition(structure(class = c("interrupt", "condition"),
                                  list(message = "", call = NULL)))
      }
      TRUE
    }
    suppressWarnings(w1fe(data, seed = seed, callbacks = interrupt, ...))
  }
  expect_warning(
    sw <- wf_sweep(live_data, NULL, seeds = 1:4, fun = fun, epochs = 3, batch_size = 32,
                   critic = wf_mlp(8), generator = wf_mlp(8), eval_n = 50),
    class = "wgflow_warning_interrupted")
  expect_true(attr(sw, "interrupted"))
  expect_identical(unique(sw$seed), 1:2)
  expect_identical(sw$status, c(rep("completed", 3), rep("interrupted", 2)))
  # an interrupt outside a fit is caught by the sweep itself
  fun2 <- function(data, seed, ...) {
    if (seed == 3) {
      signalCondition(structure(class = c("interrupt", "condition"),
                                list(message = "", call = NULL)))
    }
    list(metrics = data.frame(epoch = 1, seconds = 0, w1 = seed), status = "completed")
  }
  expect_warning(sw2 <- wf_sweep(live_data, NULL, seeds = 1:4, fun = fun2),
                 "interrupted; returning the 2 of 4 runs done")
  expect_identical(sw2$seed, 1:2)
})
