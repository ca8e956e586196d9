# Callbacks (R/callbacks.R): the metric that early stopping and checkpoints
# watch.

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
