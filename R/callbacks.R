# Callbacks of the epoch loop (train.R): plain functions, and objects with
# hooks for early stopping, checkpoints and learning-rate schedules. Every
# training function takes them through `callbacks`, so every family gets
# them.
#
# A callback object is a list of class "wf_callback" with a `name` and any
# of these hooks (all optional), each given the run's context `ctx`
# (train.R: train_context(); ctx$fit() is a snapshot of the fit,
# ctx$eval_names its exact metrics, ctx$base_lr(role) / ctx$set_lr(role, lr)
# its optimisers):
#   on_train_begin(ctx)           before the first new epoch;
#   on_epoch_begin(epoch, ctx)    before each epoch; may return named numbers,
#                                 recorded in that epoch's row;
#   on_epoch_end(row, ctx)        after each epoch's row is recorded.
# A hook that returns FALSE stops the run (its attribute "message", if any,
# says why); one that fails ends it with status "error". Either way the
# epochs done are kept.

new_callback <- function(name, on_epoch_end = NULL, on_epoch_begin = NULL,
                         on_train_begin = NULL) {
  structure(list(name = name, on_epoch_end = on_epoch_end,
                 on_epoch_begin = on_epoch_begin, on_train_begin = on_train_begin),
            class = "wf_callback")
}

# A user's function as a callback: function(row) sees the epoch's metrics
# (a one-row tibble); function(row, fit) (or one with `...`) also a
# snapshot of the fit.
as_callback <- function(f, i) {
  formal <- names(formals(args(f)))
  wants_fit <- "..." %in% formal || length(formal) >= 2L
  new_callback(
    name = sprintf("function %d", i),
    on_epoch_end = if (wants_fit) function(row, ctx) f(row, ctx$fit()) else
      function(row, ctx) f(row)
  )
}

check_callbacks <- function(callbacks) {
  if (is.function(callbacks) || inherits(callbacks, "wf_callback")) callbacks <- list(callbacks)
  ok <- is.list(callbacks) && !inherits(callbacks, "wf_callback") &&
    all(vapply(callbacks, function(cb) is.function(cb) || inherits(cb, "wf_callback"),
               logical(1)))
  if (!ok) {
    arg_error("callbacks", paste("a function, a callback (wf_early_stopping(), ...)",
                                 "or a list of them"), callbacks)
  }
  lapply(seq_along(callbacks), function(i) {
    cb <- callbacks[[i]]
    if (is.function(cb)) as_callback(cb, i) else cb
  })
}

#' @export
print.wf_callback <- function(x, ...) {
  cat("<wf_callback> ", x$name, "\n", sep = "")
  invisible(x)
}

#' Callbacks: early stopping, checkpoints, learning-rate schedules
#'
#' Every training function ([w1fe()], [wgan()], [wf_continue()], ...) takes
#' `callbacks`: plain functions or the objects made here, in a list.
#'
#' * A function `function(row)` is called after every epoch with that
#'   epoch's metrics (a one-row tibble); `function(row, fit)` also gets a
#'   snapshot of the fit: its metrics so far and a copy of its networks as
#'   they are after that epoch (so `wf_sample(fit)`, `saveRDS(fit)` or
#'   keeping `fit` all work). A callback that returns `FALSE` stops
#'   training (status "stopped"); one that fails with an error ends it with
#'   status "error" and a warning. Either way the epochs done are kept.
#' * `wf_early_stopping()` stops when the metric (by default the fit's main
#'   exact distance, e.g. W1) has not improved on its best by more than
#'   `min_delta` for `patience` evaluations in a row. Mind the noise:
#'   evaluations of a converged model scatter by about their standard error
#'   (`w1_se`), so a `min_delta` of that size avoids chasing noise.
#' * `wf_checkpoint()` saves the fit with [saveRDS()] after every evaluation
#'   that improves the metric (or after every evaluation with
#'   `best_only = FALSE`); `readRDS()` gives a fit to sample from or to
#'   continue with [wf_continue()]. Its status is "checkpoint".
#' * `wf_lr_schedule()` sets the learning rates before every epoch to the
#'   optimisers' rates times `schedule(epoch)`, and records them in the
#'   metrics (columns `lr_<net>`). `schedule` is a function of the epoch
#'   (counted over the whole fit, so continuing a fit continues the
#'   schedule) or one of "step" (`gamma^floor((epoch - 1) / every)`),
#'   "exponential" (`gamma^(epoch - 1)`) and "cosine" (from 1 at epoch 1 to
#'   `min_factor` at epoch `epochs`, then `min_factor`).
#'
#' The same callback object can be given to several fits (for example
#' through [wf_sweep()]): its state starts afresh with every run.
#'
#' @param metric The metric to watch (a column of `$metrics`, smaller is
#'   better); `NULL` takes the first exact distance of the fit's algorithm.
#'   A name that no wgflow fit records is an error; one that the fit
#'   trained does not record ends its run before the first epoch (status
#'   "error", with a warning naming the fit's metrics).
#' @param patience Evaluations without improvement before stopping.
#' @param min_delta The improvement (>= 0) that counts.
#' @param path The file to write (`.rds`); `"{epoch}"` in it is replaced by
#'   the epoch, to keep every checkpoint.
#' @param best_only Save only evaluations that improve on the best so far.
#' @param schedule A function of the epoch returning a factor >= 0, or
#'   "step", "exponential" or "cosine".
#' @param nets The networks whose optimisers follow the schedule, by role
#'   (e.g. "generator"); `NULL` for all.
#' @param every,gamma For "step": the factor is multiplied by `gamma` every
#'   `every` epochs; for "exponential": by `gamma` every epoch.
#' @param epochs,min_factor For "cosine": the epoch at which the factor
#'   reaches `min_factor`.
#' @return An object of class `wf_callback`.
#' @seealso [w1fe()] (argument `callbacks`).
#' @name wf_callbacks
#' @examples
#' x <- wf_toy("8gaussians", n = 2000, seed = 1)
#' path <- tempfile(fileext = ".rds")
#' fit <- w1fe(x, epochs = 6, batch_size = 128, critic = wf_mlp(16),
#'             generator = wf_mlp(16), eval_every = 2, eval_n = 200,
#'             seed = 1, verbose = FALSE,
#'             callbacks = list(wf_early_stopping(patience = 2),
#'                              wf_checkpoint(path),
#'                              wf_lr_schedule("step", every = 3, gamma = 0.5),
#'                              function(row, fit) TRUE))
#' fit$metrics[, c("epoch", "w1", "lr_generator")]
#' best <- readRDS(path)
#' best$message
NULL

#' @rdname wf_callbacks
#' @export
wf_early_stopping <- function(patience = 5L, min_delta = 0, metric = NULL) {
  patience <- check_count(patience, "patience")
  min_delta <- check_number(min_delta, "min_delta", min = 0)
  if (!is.null(metric)) check_metric_name(metric)
  state <- new.env(parent = emptyenv())
  new_callback(
    name = sprintf("early stopping (patience %d, min_delta %s)", patience, format(min_delta)),
    on_train_begin = function(ctx) {
      state$metric <- metric %||% ctx$eval_names[1]
      check_fit_metric(metric, ctx)
      state$best <- Inf
      state$best_epoch <- NA_integer_
      state$wait <- 0L
      TRUE
    },
    on_epoch_end = function(row, ctx) {
      v <- row[[state$metric]]
      if (is.null(v) || is.na(v)) return(TRUE)
      if (v < state$best - min_delta) {
        state$best <- v
        state$best_epoch <- row$epoch
        state$wait <- 0L
        return(TRUE)
      }
      state$wait <- state$wait + 1L
      if (state$wait < patience) return(TRUE)
      structure(FALSE, message = sprintf(paste0(
        "early stopping after epoch %d: %s has not improved on %s (epoch %d) by more ",
        "than %s for %d evaluations"), row$epoch, state$metric,
        format(state$best, digits = 4), state$best_epoch, format(min_delta), patience))
    }
  )
}

#' @rdname wf_callbacks
#' @export
wf_checkpoint <- function(path, metric = NULL, best_only = TRUE) {
  check_string(path, "path")
  if (!dir.exists(dirname(path))) {
    wf_abort(sprintf("`path`: the folder %s does not exist.", dirname(path)),
             class = "wgflow_error_arg", arg = "path")
  }
  if (!is.null(metric)) check_metric_name(metric)
  best_only <- check_flag(best_only, "best_only")
  state <- new.env(parent = emptyenv())
  new_callback(
    name = sprintf("checkpoint to %s", path),
    on_train_begin = function(ctx) {
      state$metric <- metric %||% ctx$eval_names[1]
      check_fit_metric(metric, ctx)
      state$best <- Inf
      TRUE
    },
    on_epoch_end = function(row, ctx) {
      v <- row[[state$metric]]
      if (is.null(v) || is.na(v)) return(TRUE)
      if (best_only && !(v < state$best)) return(TRUE)
      state$best <- min(state$best, v)
      fit <- ctx$fit()
      if (is.null(fit)) return(TRUE)
      fit$status <- "checkpoint"
      fit$message <- sprintf("checkpoint after epoch %d (%s %s)", row$epoch,
                             state$metric, format(v, digits = 4))
      saveRDS(fit, gsub("{epoch}", row$epoch, path, fixed = TRUE))
      TRUE
    }
  )
}

#' @rdname wf_callbacks
#' @export
wf_lr_schedule <- function(schedule, nets = NULL, every = 100L, gamma = 0.5,
                           epochs = 800L, min_factor = 0) {
  if (is.character(schedule)) {
    check_choice(schedule, c("step", "exponential", "cosine"), "schedule")
    kind <- schedule
    if (kind == "step") every <- check_count(every, "every")
    if (kind %in% c("step", "exponential")) gamma <- check_number(gamma, "gamma", min = 0)
    if (kind == "cosine") {
      epochs <- check_count(epochs, "epochs")
      min_factor <- check_number(min_factor, "min_factor", min = 0, max = 1)
    }
    schedule <- switch(kind,
      step = function(epoch) gamma^((epoch - 1) %/% every),
      exponential = function(epoch) gamma^(epoch - 1),
      cosine = function(epoch) {
        t <- min(epoch - 1, epochs - 1) / max(1, epochs - 1)
        min_factor + (1 - min_factor) * (1 + cos(pi * t)) / 2
      })
    name <- sprintf("learning-rate schedule (%s)", kind)
  } else if (is.function(schedule)) {
    name <- "learning-rate schedule (function)"
  } else {
    arg_error("schedule", "a function of the epoch or \"step\", \"exponential\", \"cosine\"",
              schedule)
  }
  if (!is.null(nets) && (!is.character(nets) || anyNA(nets) || length(nets) == 0L)) {
    arg_error("nets", "NULL or network roles such as \"generator\"", nets)
  }
  new_callback(
    name = name,
    on_train_begin = function(ctx) {
      unknown <- setdiff(nets, ctx$nets)
      if (length(unknown)) {
        stop(sprintf("the fit has no network %s (it has %s)",
                     paste0("\"", unknown, "\"", collapse = ", "),
                     paste0("\"", ctx$nets, "\"", collapse = ", ")), call. = FALSE)
      }
      TRUE
    },
    on_epoch_begin = function(epoch, ctx) {
      factor <- schedule(epoch)
      if (!is.numeric(factor) || length(factor) != 1L || !is.finite(factor) || factor < 0) {
        stop(sprintf("the schedule gave %s at epoch %d, not a finite number >= 0",
                     describe(factor), epoch), call. = FALSE)
      }
      roles <- nets %||% ctx$nets
      lr <- vapply(roles, function(r) {
        v <- ctx$base_lr(r) * factor
        ctx$set_lr(r, v)
        v
      }, double(1))
      stats::setNames(lr, paste0("lr_", roles))
    }
  )
}

# A metric to watch: a single string naming a metric that some fit of
# wgflow records (or its standard error, `<metric>_se`), so that a typo is
# an error when the callback is made, not a callback that never fires.
check_metric_name <- function(metric) {
  check_string(metric, "metric")
  known <- known_metrics()
  if (!metric %in% c(known, paste0(known, "_se"))) {
    wf_abort(sprintf("`metric` (\"%s\") is not a metric of wgflow's fits; they are %s.",
                     metric, paste0("\"", known, "\"", collapse = ", ")),
             class = "wgflow_error_arg", arg = "metric")
  }
  metric
}

# At the start of a run: a metric given by name must be one that this fit
# records (its training and exact metrics and their standard errors), else
# the run ends before its first epoch with the error, naming the fit's
# metrics.
check_fit_metric <- function(metric, ctx) {
  if (is.null(metric)) return(invisible())
  fit <- if (is.function(ctx$fit)) ctx$fit() else NULL
  algo <- if (is.null(fit)) NULL else fit_algorithm(fit)
  if (is.null(algo)) return(invisible()) # a bare loop (no fit) records anything
  have <- unique(c(ctx$eval_names, train_metrics(algo)))
  if (!metric %in% c(have, paste0(have, "_se"))) {
    # no full stop: the run's warning goes on after the message
    wf_abort(sprintf("`metric` (\"%s\") is not recorded by this %s fit; its metrics are %s",
                     metric, fit$algorithm, paste0("\"", have, "\"", collapse = ", ")),
             class = "wgflow_error_arg", arg = "metric")
  }
  invisible()
}

check_string <- function(x, arg) {
  if (!is.character(x) || length(x) != 1L || is.na(x) || !nzchar(x)) {
    arg_error(arg, "a single non-empty string", x)
  }
  x
}
