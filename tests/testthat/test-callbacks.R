# Callbacks (R/callbacks.R): callbacks that see the fit, early stopping,
# checkpoints, learning-rate schedules, and the metric they watch.

cb_data <- wf_toy("8gaussians", n = 300, seed = 4)

cb_fit <- function(..., epochs = 2L) {
  w1fe(cb_data, epochs = epochs, batch_size = 32, critic_steps = 1,
       critic = wf_mlp(8), generator = wf_mlp(8), eval_n = 50, eval_every = 1,
       seed = 1, device = "cpu", verbose = FALSE, ...)
}

test_that("a metric that no fit records is refused when the callback is made", {
  err <- expect_arg_error(wf_early_stopping(1, metric = "bogus"), "metric")
  expect_match(conditionMessage(err), "\"bogus\"", fixed = TRUE)
  expect_match(conditionMessage(err), "\"w1\"", fixed = TRUE) # the available ones
  expect_arg_error(wf_checkpoint(tempfile(fileext = ".rds"), metric = "bogus"), "metric")
  # so a fit given one never starts
  expect_arg_error(cb_fit(callbacks = list(wf_early_stopping(1, metric = "bogus"))),
                   "metric")
})

test_that("a metric this fit does not record ends the run before its first epoch", {
  # "ot_dual" is barycentric_ot()'s, not W1-FE's
  expect_warning(
    fit <- cb_fit(callbacks = wf_early_stopping(1, metric = "ot_dual")),
    "failed before training: `metric` (\"ot_dual\") is not recorded by this w1fe fit; its metrics are \"w1\"",
    fixed = TRUE)
  expect_identical(fit$status, "error")
  expect_identical(nrow(fit$metrics), 0L)
  expect_warning(fit <- cb_fit(callbacks = wf_checkpoint(tempfile(fileext = ".rds"),
                                                         metric = "ot_dual")),
                 "not recorded by this w1fe fit")
  expect_identical(fit$status, "error")
})

test_that("the fit's exact, training and standard-error metrics can be watched", {
  path <- tempfile(fileext = ".rds")
  fit <- cb_fit(epochs = 3, callbacks = list(wf_early_stopping(5, metric = "w2"),
                                            wf_early_stopping(5, metric = "w1_se"),
                                            wf_checkpoint(path, metric = "critic_loss")))
  expect_identical(fit$status, "completed")
  expect_identical(fit$metrics$epoch, 1:3)
  expect_true(file.exists(path))
})

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
