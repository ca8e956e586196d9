# The epoch loop every training algorithm shares: timing, evaluation,
# progress, callbacks, Ctrl-C and divergence. An algorithm supplies one
# function that runs an epoch of training and one that evaluates.

# epoch_fn(epoch): a named list of numbers (that epoch's training metrics).
# eval_fn(): a named list of numbers (e.g. exact w1, w2), not timed.
# Returns list(metrics = tibble, status, message).
run_epochs <- function(epochs, epoch_fn, eval_fn, eval_names, eval_every,
                       verbose, callbacks, start_epoch = 0L, start_seconds = 0) {
  rows <- vector("list", epochs)
  status <- "completed"
  message <- NULL
  seconds <- start_seconds
  last_eval <- NA_real_
  if (verbose) {
    pb <- cli::cli_progress_bar(
      total = epochs, clear = FALSE,
      format = "{cli::pb_bar} {cli::pb_current}/{cli::pb_total} | ETA {cli::pb_eta} | W1 {format(last_eval, digits = 3)}"
    )
  }
  done <- 0L
  for (i in seq_len(epochs)) {
    epoch <- start_epoch + i
    # one epoch: train, evaluate, record, callbacks; Ctrl-C anywhere in it,
    # or an interrupt seen by the C core, ends the run keeping what is done
    step <- tryCatch({
      t0 <- proc.time()[["elapsed"]]
      train <- epoch_fn(epoch)
      seconds <- seconds + (proc.time()[["elapsed"]] - t0)
      bad <- names(train)[!vapply(train, function(v) is.na(v) || is.finite(v), logical(1))]
      if (length(bad) > 0) {
        list(status = "diverged",
             message = sprintf("training diverged at epoch %d: %s not finite",
                               epoch, paste(bad, collapse = ", ")))
      } else {
        evaluate <- epoch %% eval_every == 0L || i == epochs
        ev <- if (evaluate) eval_fn() else
          stats::setNames(as.list(rep(NA_real_, length(eval_names))), eval_names)
        row <- c(list(epoch = epoch, seconds = seconds), train, ev)
        rows[[i]] <- row
        done <- i
        if (!is.na(row[[eval_names[1]]])) last_eval <- row[[eval_names[1]]]
        if (verbose) cli::cli_progress_update(id = pb)
        keep_going <- vapply(callbacks, function(cb) !identical(cb(tibble::as_tibble(row)), FALSE),
                             logical(1))
        if (all(keep_going)) list(status = "running") else
          list(status = "stopped", message = sprintf("stopped by a callback after epoch %d", epoch))
      }
    },
    interrupt = function(e) list(status = "interrupted", message = "interrupted by the user"),
    wgflow_error_interrupt = function(e) list(status = "interrupted", message = "interrupted by the user"),
    wgflow_error_numeric = function(e) list(status = "diverged", message = conditionMessage(e)))
    if (step$status != "running") {
      status <- step$status
      message <- step$message
      break
    }
  }
  if (verbose) cli::cli_progress_done(id = pb)
  metrics <- if (done > 0) {
    tibble::as_tibble(do.call(rbind.data.frame, rows[seq_len(done)]))
  } else {
    NULL
  }
  list(metrics = metrics, status = status, message = message)
}

# Append new epochs' metrics to a fit's and raise the warning a stopped run
# deserves.
finish_run <- function(fit, run) {
  fit$metrics <- if (is.null(fit$metrics)) run$metrics else
    tibble::as_tibble(rbind(fit$metrics, run$metrics))
  if (is.null(fit$metrics)) fit$metrics <- empty_metrics(fit)
  fit$status <- run$status
  fit$message <- run$message
  if (run$status %in% c("interrupted", "diverged")) {
    warning(sprintf("%s: %s; returning the %d epochs done.", fit$algorithm,
                    run$message, nrow(fit$metrics)), call. = FALSE)
  }
  fit
}

check_callbacks <- function(callbacks) {
  if (is.function(callbacks)) callbacks <- list(callbacks)
  if (!is.list(callbacks) || !all(vapply(callbacks, is.function, logical(1)))) {
    arg_error("callbacks", "a function or a list of functions", callbacks)
  }
  callbacks
}
