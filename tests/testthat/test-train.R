# The generic epoch loop (R/train.R): a run keeps every epoch done whatever
# ends it (Ctrl-C, divergence, a callback, a progress-bar failure), gives the
# last epoch done its exact distances, allocates with the epochs done, not
# with those asked for, and never shows N/N on a bar it did not finish.

train_data <- wf_toy("8gaussians", n = 600, seed = 1)

quick_fit <- function(..., epochs = 5, eval_every = 100, verbose = FALSE) {
  w1fe(train_data, epochs = epochs, batch_size = 64, critic_steps = 1,
       critic = wf_mlp(16), generator = wf_mlp(16), eval_n = 100,
       eval_every = eval_every, seed = 1, device = "cpu", verbose = verbose, ...)
}

# What Ctrl-C signals: caught by tryCatch(interrupt = ), like the real one.
signal_interrupt <- function() {
  signalCondition(structure(class = c("interrupt", "condition"),
                            list(message = "", call = NULL)))
}

# A callback that interrupts after epoch `at`.
interrupt_after <- function(at) {
  function(row) {
    if (row$epoch == at) signal_interrupt()
    TRUE
  }
}

# Evaluates `expr` with cli's progress bar shown in a non-interactive session
# and drawn at every update (cli's own test helper stops the clock that
# otherwise throttles redraws); returns list(value, output = the bar's
# lines, warnings).
with_shown_progress <- function(expr) {
  skip_if_not(exists("cli_with_ticks", envir = asNamespace("cli")),
              "this cli has no cli_with_ticks()")
  old <- options(cli.progress_show_after = 0, cli.dynamic = FALSE,
                 cli.progress_handlers_only = "cli")
  on.exit(options(old))
  with_ticks <- get("cli_with_ticks", envir = asNamespace("cli"))
  warnings <- character()
  value <- NULL
  output <- utils::capture.output(
    value <- with_ticks(withCallingHandlers(expr, warning = function(w) {
      warnings <<- c(warnings, conditionMessage(w))
      invokeRestart("muffleWarning")
    })),
    type = "message")
  list(value = value, output = output[nzchar(trimws(output))], warnings = warnings)
}

# Makes every call of cli function `fun` call `action()` first, until the
# returned function (safe to call twice) is called.
inject_into_cli <- function(fun, action) {
  suppressMessages(trace(fun, tracer = bquote(.(action)()), where = asNamespace("cli"),
                         print = FALSE))
  traced <- TRUE
  function() {
    if (traced) suppressMessages(untrace(fun, where = asNamespace("cli")))
    traced <<- FALSE
  }
}

# The loop on its own: one training metric (`loss`, 1 unless `epoch_fn`
# says otherwise) and constant exact distances. (A NaN from the C core
# arrives as NA, "not recorded"; divergence there is an error or an Inf.)
fake_run <- function(epochs, epoch_fn = function() c(loss = 1), eval_every = 100L,
                     eval_fn = function() list(values = list(w1 = 0.5, w2 = 0.7),
                                               diverged = FALSE),
                     callbacks = list(), verbose = FALSE) {
  wgflow:::run_epochs(epochs, epoch_fn, eval_fn, train_names = "loss",
                      eval_names = c("w1", "w2"), eval_every = eval_every,
                      verbose = verbose,
                      callbacks = wgflow:::check_callbacks(callbacks))
}

# ---- the progress bar can fail without losing the fit -------------------------

test_that("updating or closing a bar with a bogus id does not error", {
  cols <- wgflow:::new_columns(c("epoch", "seconds", "w1"), 4L)
  wgflow:::add_row(cols, list(epoch = 1, seconds = 0.1, w1 = 0.5))
  pb <- new.env(parent = emptyenv())
  pb$metric <- "w1"
  pb$frame <- environment()
  pb$id <- "no-such-progress-bar"
  expect_no_error(wgflow:::update_progress(pb, cols))
  expect_no_error(wgflow:::close_progress(pb, cols, "completed"))
  expect_no_error(wgflow:::close_progress(pb, cols, "interrupted"))
  # a bar that never started is a no-op
  pb$id <- NULL
  expect_no_error(wgflow:::update_progress(pb, cols))
  expect_no_error(wgflow:::close_progress(pb, cols, "completed"))
  expect_no_error(wgflow:::update_progress(NULL, cols))
  expect_no_error(wgflow:::close_progress(NULL, cols, "completed"))
})

test_that("Ctrl-C with the bar shown keeps the epochs done and does not claim N/N", {
  res <- with_shown_progress(quick_fit(epochs = 10, verbose = TRUE,
                                       callbacks = interrupt_after(3)))
  fit <- res$value
  expect_s3_class(fit, "wf_w1fe")
  expect_identical(fit$status, "interrupted")
  expect_identical(fit$metrics$epoch, 1:3)
  expect_length(res$warnings, 1L)
  expect_match(res$warnings, "interrupted")
  expect_gt(length(res$output), 0L)
  last <- res$output[length(res$output)]
  expect_no_match(last, "10/10", fixed = TRUE)
  expect_match(last, "3/10", fixed = TRUE)
})

test_that("a callback stop with the bar shown does not claim N/N", {
  res <- with_shown_progress(quick_fit(epochs = 10, verbose = TRUE,
                                       callbacks = function(row) row$epoch < 4))
  expect_identical(res$value$status, "stopped")
  expect_identical(nrow(res$value$metrics), 4L)
  expect_length(res$warnings, 0L)
  last <- res$output[length(res$output)]
  expect_no_match(last, "10/10", fixed = TRUE)
  expect_match(last, "4/10", fixed = TRUE)
})

test_that("a completed run's bar does show N/N", {
  res <- with_shown_progress(quick_fit(epochs = 3, verbose = TRUE))
  expect_identical(res$value$status, "completed")
  expect_match(res$output[length(res$output)], "3/3", fixed = TRUE)
})

test_that("a Ctrl-C that lands in the bar's update keeps the epochs done", {
  calls <- 0L
  restore <- inject_into_cli("cli_progress_update", function() {
    calls <<- calls + 1L
    if (calls == 3L) signal_interrupt()
  })
  on.exit(restore())
  res <- with_shown_progress(quick_fit(epochs = 6, verbose = TRUE))
  restore()
  expect_gt(calls, 3L) # the injection ran; the close updates once more
  fit <- res$value
  # the third update is the third epoch's, after its row was recorded
  expect_identical(fit$status, "interrupted")
  expect_identical(fit$metrics$epoch, 1:3)
  expect_false(is.na(fit$metrics$w1[3]))
  expect_match(res$warnings, "interrupted")
})

test_that("a Ctrl-C or an error in the bar's close keeps the whole fit", {
  # the error is the one cli raised when a Ctrl-C had cut a close short
  actions <- list(signal_interrupt, function() stop("del_from:length(...) NA/NaN"))
  for (action in actions) {
    calls <- 0L
    restore <- inject_into_cli("cli_progress_done", function() {
      calls <<- calls + 1L
      action()
    })
    res <- tryCatch(with_shown_progress(quick_fit(epochs = 3, verbose = TRUE)),
                    finally = restore())
    expect_identical(calls, 1L) # closed once, by the loop
    expect_identical(res$value$status, "completed")
    expect_identical(res$value$metrics$epoch, 1:3)
    expect_length(res$warnings, 0L)
  }
})

# ---- divergence ------------------------------------------------------------

test_that("evaluate_generator gives NA and diverged = TRUE for a non-finite generator", {
  fit <- quick_fit(epochs = 1)
  held <- fit$holdout[1:50, , drop = FALSE]
  ok <- wgflow:::evaluate_generator(wgflow:::net_ptr(fit$generator), 50L,
                                    fit$eval_key, held)
  expect_false(ok$diverged)
  expect_true(is.finite(ok$values$w1) && ok$values$w1 > 0)
  expect_gte(ok$values$w2, ok$values$w1 - 1e-9)
  wf_params(fit$generator) <- 1e30 * wf_params(fit$generator)
  expect_warning(s <- wf_sample(fit, 20, seed = 1), class = "wgflow_warning_nonfinite")
  expect_false(all(is.finite(s)))
  bad <- expect_no_error(wgflow:::evaluate_generator(
    wgflow:::net_ptr(fit$generator), 50L, fit$eval_key, held))
  expect_true(bad$diverged)
  expect_identical(bad$values, list(w1 = NA_real_, w2 = NA_real_))
})

test_that("continuing a fit whose generator blew up ends 'diverged', keeping the metrics", {
  fit <- quick_fit(epochs = 2)
  before <- fit$metrics
  wf_params(fit$generator) <- 1e30 * wf_params(fit$generator)
  expect_warning(fit2 <- wf_continue(fit, epochs = 3, verbose = FALSE),
                 "not finite")
  expect_identical(fit2$status, "diverged")
  expect_gte(nrow(fit2$metrics), 2L)
  expect_equal(fit2$metrics[1:2, ], before)
})

test_that("divergence found at an evaluated epoch ends 'diverged' with the metrics kept", {
  evals <- 0L
  eval_fn <- function() {
    evals <<- evals + 1L
    if (evals == 2L) list(values = list(w1 = NA_real_, w2 = NA_real_), diverged = TRUE)
    else list(values = list(w1 = 0.5, w2 = 0.7), diverged = FALSE)
  }
  run <- fake_run(10L, eval_every = 2L, eval_fn = eval_fn)
  expect_identical(run$status, "diverged")
  expect_match(run$message, "not finite at epoch 4")
  expect_identical(run$metrics$epoch, 1:4)
  expect_equal(run$metrics$w1, c(NA, 0.5, NA, NA))
  expect_equal(run$metrics$loss, rep(1, 4))
  # no second evaluation of the diverged generator
  expect_identical(evals, 2L)
})

test_that("divergence in training keeps the epochs before it", {
  n <- 0L
  epoch_fn <- function() {
    n <<- n + 1L
    c(loss = if (n == 3L) Inf else n)
  }
  run <- fake_run(10L, epoch_fn = epoch_fn)
  expect_identical(run$status, "diverged")
  expect_match(run$message, "epoch 3: loss not finite")
  expect_identical(run$metrics$epoch, 1:2)
  expect_equal(run$metrics$loss, c(1, 2))
})

test_that("a diverged fit keeps the networks of its last good epoch, and every method works", {
  x <- wf_toy("8gaussians", 2000, seed = 1)
  run <- function(epochs) {
    w1fe(x, epochs = epochs, critic = wf_mlp(c(16, 16)), generator = wf_mlp(c(16, 16)),
         batch_size = 64, critic_steps = 3, eval_every = 2, eval_n = 200, seed = 1,
         device = "cpu", verbose = FALSE,
         callbacks = list(wf_lr_schedule(function(e) if (e >= 5) 1e12 else 1)))
  }
  expect_warning(f <- run(10), "after epoch 4")
  expect_identical(f$status, "diverged")
  expect_identical(nrow(f$metrics), 4L)
  # the nets are exactly those of a run that stopped after epoch 4
  f4 <- run(4)
  expect_identical(wf_params(f$critic), wf_params(f4$critic))
  expect_identical(wf_params(f$generator), wf_params(f4$generator))
  expect_identical(f$generator$opt, f4$generator$opt)
  expect_output(print(f), "diverged")
  expect_s3_class(tidy(f), "tbl_df")
  expect_s3_class(ggplot2::autoplot(f), "ggplot")
  expect_true(all(is.finite(wf_sample(f, 3, seed = 1))))
  # continuing (without the schedule's rate) trains on from there
  f2 <- wf_continue(f, 2, verbose = FALSE)
  expect_identical(f2$status, "completed")
  expect_identical(f2$metrics$epoch, 1:6)
})

test_that("an optimiser moment that overflows float32 ends the run 'diverged' and the fit continues", {
  p <- wf_toy_pair("4gaussians", 2000, seed = 1)
  expect_warning(g <- w2gan(p$target, source = p$source, epochs = 30,
                            critic = wf_mlp(c(32, 32)), batch_size = 64, critic_steps = 3,
                            eval_every = 5, eval_n = 300, critic_optimizer = wf_adam(10),
                            generator_optimizer = wf_adam(10), seed = 1, device = "cpu",
                            verbose = FALSE), "not finite")
  expect_identical(g$status, "diverged")
  expect_match(g$message, "optimiser|parameters|not finite")
  for (role in c("critic", "generator")) {
    expect_true(all(is.finite(g[[role]]$params)))
    expect_true(all(is.finite(g[[role]]$opt$m2)))
  }
  g2 <- suppressWarnings(wf_continue(g, 2, verbose = FALSE))
  expect_true(g2$status %in% c("completed", "diverged"))
  expect_true(all(is.finite(wf_sample(g2, 5, seed = 1))))
})

test_that("barycentric_ot ends 'diverged' when its dual blows up, keeping a usable fit", {
  p <- wf_toy_pair("4gaussians", 300, seed = 1)
  for (opt in list(wf_adam(1e10), wf_sgd(1e10))) {
    expect_warning(f <- barycentric_ot(p$target, p$source, epochs = 2, dual_epochs = 1,
                                       steps_per_epoch = 2, potential = wf_mlp(8),
                                       batch_size = 32, eval_n = 50, eval_every = 1, seed = 1,
                                       device = "cpu", verbose = FALSE, dual_optimizer = opt),
                   "not finite")
    expect_identical(f$status, "diverged")
    expect_true(all(is.finite(f$u$params)))
    expect_true(all(is.finite(wf_sample(f, 3, seed = 1))))
  }
})

test_that("Ctrl-C in the set-up before the first epoch returns the fit, interrupted", {
  # the floor, the slow part of the set-up, meets a Ctrl-C
  ns <- asNamespace("wgflow")
  suppressMessages(trace("measure_floor", quote(signalCondition(structure(
    class = c("interrupt", "condition"), list(message = "", call = NULL)))),
    where = ns, print = FALSE))
  on.exit(try(suppressMessages(untrace("measure_floor", where = ns)), silent = TRUE))
  expect_warning(f <- quick_fit(epochs = 3), "before the first epoch")
  expect_s3_class(f, "wf_fit")
  expect_identical(f$status, "interrupted")
  expect_identical(nrow(f$metrics), 0L)
  suppressMessages(untrace("measure_floor", where = ns))
  f2 <- wf_continue(f, 2, verbose = FALSE)
  expect_identical(f2$status, "completed")
  expect_identical(f2$metrics$epoch, 1:2)
})

# ---- the last epoch done is evaluated ---------------------------------------

test_that("after a stop the last epoch done gets its exact W1", {
  # a callback stop: the row is recorded, then evaluated
  run <- fake_run(10L, callbacks = function(row) row$epoch < 3)
  expect_identical(run$status, "stopped")
  expect_equal(run$metrics$w1, c(NA, NA, 0.5))
  # an interrupt in a callback
  run <- fake_run(10L, callbacks = interrupt_after(2))
  expect_identical(run$status, "interrupted")
  expect_equal(run$metrics$w1, c(NA, 0.5))
  expect_equal(run$metrics$w2, c(NA, 0.7))
  # an interrupt inside an epoch: the epochs before it
  n <- 0L
  run <- fake_run(10L, epoch_fn = function() {
    n <<- n + 1L
    if (n == 4L) signal_interrupt()
    c(loss = n)
  })
  expect_identical(run$status, "interrupted")
  expect_equal(run$metrics$w1, c(NA, NA, 0.5))
  # a divergence in training
  n <- 0L
  run <- fake_run(10L, epoch_fn = function() {
    n <<- n + 1L
    c(loss = if (n == 3L) Inf else n)
  })
  expect_identical(run$status, "diverged")
  expect_equal(run$metrics$w1, c(NA, 0.5))
})

test_that("real fits stopped before an evaluation epoch get the last epoch's W1", {
  fit <- quick_fit(epochs = 10, callbacks = function(row) row$epoch < 3)
  expect_identical(fit$status, "stopped")
  expect_identical(is.na(fit$metrics$w1), c(TRUE, TRUE, FALSE))
  expect_false(is.na(fit$metrics$w2[3]))
  expect_warning(fit <- quick_fit(epochs = 10, callbacks = interrupt_after(2)),
                 "interrupted")
  expect_identical(fit$status, "interrupted")
  expect_identical(is.na(fit$metrics$w1), c(TRUE, FALSE))
  expect_gt(fit$metrics$w1[2], 0)
})

# ---- memory grows with the epochs done ----------------------------------------

test_that("a huge `epochs` stopped after one epoch allocates nothing for the rest", {
  fit <- quick_fit(epochs = 2e8, callbacks = function(row) FALSE)
  expect_identical(fit$status, "stopped")
  expect_identical(nrow(fit$metrics), 1L)
  expect_false(is.na(fit$metrics$w1))
  # rows for .Machine$integer.max epochs would need 16 GB
  run <- fake_run(.Machine$integer.max, callbacks = function(row) row$epoch < 2)
  expect_identical(run$status, "stopped")
  expect_identical(run$metrics$epoch, 1:2)
})

test_that("the metric columns grow past their first capacity", {
  run <- fake_run(2500L, epoch_fn = local({
    n <- 0
    function() {
      n <<- n + 1
      c(loss = n)
    }
  }), eval_every = 1000L)
  expect_identical(run$status, "completed")
  expect_identical(run$metrics$epoch, 1:2500)
  expect_equal(run$metrics$loss, as.double(1:2500))
  expect_identical(which(!is.na(run$metrics$w1)), c(1000L, 2000L, 2500L))
  expect_named(run$metrics, c("epoch", "seconds", "loss", "w1", "w2"))
})

# ---- what the bar shows -------------------------------------

test_that("the bar shows the elapsed time and the latest losses", {
  res <- with_shown_progress(quick_fit(epochs = 3, eval_every = 1, verbose = TRUE))
  last <- res$output[length(res$output)]
  expect_match(last, "3/3", fixed = TRUE)
  expect_match(last, "W1 [0-9.]+", perl = TRUE)
  expect_match(last, "critic_loss -?[0-9.e-]+")
  expect_match(last, "w1_critic -?[0-9.e-]+")
  expect_match(last, "\\| [0-9.]+m?s \\|") # elapsed, e.g. "| 0s |" or "| 1.2s |"
})

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
