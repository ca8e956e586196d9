# The epoch loop every training algorithm shares: the trainer, timing,
# evaluation, progress, callbacks, Ctrl-C and divergence. An algorithm's
# descriptor (algorithm.R) supplies the epoch; the loop never loses an
# epoch that was done.

# Train `epochs` more epochs of a fit; returns the fit with them appended.
train_fit <- function(fit, epochs, verbose, callbacks) {
  algo <- fit_algorithm(fit)
  trainer <- new_trainer(fit)
  on.exit({
    free_trainer(trainer)
    sync_nets(fit)
  })
  s <- fit$settings
  eval_fn <- algo$evaluate(fit)
  run <- run_epochs(epochs, function() algo$epoch(fit, trainer), eval_fn,
                    algo$train_metrics, algo$eval_metrics, s$eval_every, verbose,
                    callbacks, start_epoch = epochs_done(fit),
                    start_seconds = training_seconds(fit))
  finish_run(fit, run)
}

#' Continue training a fit
#'
#' Runs more epochs of the same algorithm from where a fit stopped, with its
#' networks, optimiser states and random streams (also after `saveRDS()` and
#' `readRDS()`), appending to its metrics. It works for a fit of any wgflow
#' training algorithm: the fit's algorithm descriptor says how to run an
#' epoch. Settings are the fit's; epochs and seconds carry on from its last
#' row, and the last new epoch is evaluated as in the first run.
#'
#' @param fit A fit from [w1fe()], [wgan()] or another wgflow trainer.
#' @param epochs Further epochs.
#' @inheritParams w1fe
#' @return The fit, with more epochs.
#' @export
#' @examples
#' x <- wf_toy("8gaussians", n = 2000, seed = 1)
#' fit <- w1fe(x, epochs = 3, batch_size = 128, critic = wf_mlp(16),
#'             generator = wf_mlp(16), eval_n = 100, seed = 1, verbose = FALSE)
#' fit <- wf_continue(fit, epochs = 2)
#' nrow(fit$metrics)
wf_continue <- function(fit, epochs = 100L, verbose = interactive(), callbacks = list()) {
  if (!inherits(fit, "wf_fit") || is.null(fit_algorithm(fit))) {
    arg_error("fit", "a fit from a wgflow trainer such as w1fe() or wgan()", fit)
  }
  epochs <- check_count(epochs, "epochs")
  train_fit(fit, epochs, check_flag(verbose, "verbose"), check_callbacks(callbacks))
}

# The default evaluation of a descriptor: a function(fit) returning the
# evaluation closure, here the exact W1 and W2 of the fit's generator
# against its held-out rows (eval_n of each).
generator_evaluation <- function(fit) {
  s <- fit$settings
  held <- fit$holdout[seq_len(s$eval_n), , drop = FALSE]
  gen_ptr <- net_ptr(fit$generator)
  function() evaluate_generator(gen_ptr, s$eval_n, fit$eval_key, held)
}

# The exact W1 and W2 between n generated samples (latents from `key`) and
# the held-out rows; NA, and diverged = TRUE, when the generator's output is
# not finite (the OT solver refuses such points).
evaluate_generator <- function(gen_ptr, n, key, held) {
  y <- .Call(ffi_generate, gen_ptr, n, key)
  if (!all(is.finite(y))) return(list(values = list(w1 = NA_real_, w2 = NA_real_),
                                      diverged = TRUE))
  list(values = list(w1 = ot_distance(y, held, 1), w2 = ot_distance(y, held, 2)),
       diverged = FALSE)
}

# The loop. epoch_fn(): a named numeric (that epoch's training metrics);
# eval_fn(): list(values, diverged), not timed. Returns list(metrics,
# status, message).
run_epochs <- function(epochs, epoch_fn, eval_fn, train_names, eval_names,
                       eval_every, verbose, callbacks, start_epoch = 0L,
                       start_seconds = 0) {
  cols <- new_columns(c("epoch", "seconds", train_names, eval_names),
                      min(epochs, 1024L))
  status <- "completed"
  message <- NULL
  seconds <- start_seconds
  evaluated <- FALSE # whether the last recorded row was evaluated
  pb <- if (verbose) start_progress(epochs, eval_names[1], environment()) else NULL
  on.exit(close_progress(pb, cols, "failed")) # only if the loop exits by an error
  for (i in seq_len(epochs)) {
    epoch <- start_epoch + i
    # one epoch: train, evaluate, record, callbacks; Ctrl-C anywhere in it,
    # or an interrupt seen by the C core, ends the run keeping what is done
    step <- tryCatch({
      t0 <- proc.time()[["elapsed"]]
      train <- epoch_fn()
      seconds <- seconds + (proc.time()[["elapsed"]] - t0)
      bad <- names(train)[!is.na(train) & !is.finite(train)]
      if (length(bad) > 0) {
        list(status = "diverged",
             message = sprintf("training diverged at epoch %d: %s not finite",
                               epoch, paste(bad, collapse = ", ")))
      } else {
        ev <- if (epoch %% eval_every == 0L || i == epochs) eval_fn() else NULL
        row <- c(list(epoch = epoch, seconds = seconds), as.list(train),
                 if (is.null(ev)) NULL else ev$values)
        add_row(cols, row)
        evaluated <- !is.null(ev)
        update_progress(pb, cols)
        if (isTRUE(ev$diverged)) {
          list(status = "diverged",
               message = sprintf("the generator's output is not finite at epoch %d", epoch))
        } else if (!all(vapply(callbacks, function(cb) !identical(cb(last_row(cols)), FALSE),
                               logical(1)))) {
          list(status = "stopped", message = sprintf("stopped by a callback after epoch %d", epoch))
        } else {
          list(status = "running")
        }
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
  # the last epoch done gets its exact distances if the stop skipped them
  # (not again after an evaluation that found the generator diverged). They
  # are those of the networks as the stop left them: a stop inside an
  # epoch's generator updates leaves the generator partly updated.
  if (status != "completed" && !evaluated) evaluate_last(cols, eval_fn, eval_names)
  close_progress(pb, cols, status)
  list(metrics = columns_tibble(cols), status = status, message = message)
}

evaluate_last <- function(cols, eval_fn, eval_names) {
  if (cols$n == 0L || !is.na(cols$data[[eval_names[1]]][cols$n])) return(invisible())
  ev <- tryCatch(eval_fn(), error = function(e) NULL, interrupt = function(e) NULL)
  if (!is.null(ev)) {
    for (nm in eval_names) cols$data[[nm]][cols$n] <- ev$values[[nm]]
  }
  invisible()
}

# Append new epochs' metrics to a fit's and raise the warning a stopped run
# deserves.
finish_run <- function(fit, run) {
  old <- fit_metrics(fit)
  fit$metrics <- if (nrow(old) == 0) run$metrics else bind_metrics(old, run$metrics)
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

# ---- metrics in preallocated columns ----------------------------------------
# An environment of columns written in place: recording an epoch writes one
# value per column, and the columns double when full, so memory grows with
# the epochs done, not with those asked for, and no step binds rows. The
# row count moves last, so a Ctrl-C between two writes leaves the recorded
# rows whole.

new_columns <- function(names, capacity) {
  cols <- new.env(parent = emptyenv())
  capacity <- max(1L, as.integer(capacity))
  cols$data <- stats::setNames(lapply(names, function(nm) rep(NA_real_, capacity)), names)
  cols$n <- 0L
  cols
}

add_row <- function(cols, row) {
  n <- cols$n + 1L
  if (n > length(cols$data[[1]])) {
    cols$data <- lapply(cols$data, function(v) c(v, rep(NA_real_, length(v))))
  }
  for (nm in intersect(names(row), names(cols$data))) {
    cols$data[[nm]][n] <- as.double(row[[nm]])
  }
  cols$n <- n
  invisible(cols)
}

columns_tibble <- function(cols) {
  out <- lapply(cols$data, function(v) v[seq_len(cols$n)])
  out$epoch <- as.integer(out$epoch)
  tibble::as_tibble(out)
}

last_row <- function(cols) {
  tibble::as_tibble(lapply(cols$data, function(v) v[cols$n]))
}

bind_metrics <- function(a, b) {
  cols <- union(names(a), names(b))
  fill <- function(d) {
    for (nm in setdiff(cols, names(d))) d[[nm]] <- rep(NA_real_, nrow(d))
    d[cols]
  }
  tibble::as_tibble(rbind(as.data.frame(fill(a)), as.data.frame(fill(b))))
}

# ---- the progress bar --------------------------------------------------------
# Updates and the close can meet a Ctrl-C or a cli error; neither may cost
# the run its result, so both are guarded. The bar's templates are evaluated
# in the loop's frame (`frame`), but cli neither closes it on that frame's
# exit (a deferred close runs outside every handler: a Ctrl-C that left it
# half done made it error there and lost the fit) nor when it reaches its
# total: only close_progress() closes it, once.

start_progress <- function(total, metric, frame) {
  pb <- new.env(parent = emptyenv())
  pb$metric <- metric
  pb$frame <- frame
  pb$id <- tryCatch(cli::cli_progress_bar(
    total = total, clear = FALSE, .envir = frame, status = "",
    auto_terminate = FALSE, .auto_close = FALSE,
    format = "{cli::pb_bar} {cli::pb_current}/{cli::pb_total} | ETA {cli::pb_eta} | {cli::pb_status}",
    format_failed = "{cli::pb_current}/{cli::pb_total} epochs, stopped | {cli::pb_status}"
  ), error = function(e) NULL)
  pb
}

progress_status <- function(pb, cols) {
  v <- cols$data[[pb$metric]]
  last <- if (is.null(v)) NA_real_ else v[last_index(v[seq_len(cols$n)])]
  sprintf("%s %s", toupper(pb$metric), format(last, digits = 3))
}

update_progress <- function(pb, cols) {
  if (is.null(pb) || is.null(pb$id)) return(invisible())
  tryCatch(cli::cli_progress_update(id = pb$id, set = cols$n, .envir = pb$frame,
                                    status = progress_status(pb, cols)),
           error = function(e) NULL)
  invisible()
}

close_progress <- function(pb, cols, status) {
  if (is.null(pb) || is.null(pb$id)) return(invisible())
  id <- pb$id
  pb$id <- NULL # closed at most once
  tryCatch({
    cli::cli_progress_update(id = id, set = cols$n, .envir = pb$frame,
                             status = progress_status(pb, cols))
    cli::cli_progress_done(id = id, .envir = pb$frame,
                           result = if (status == "completed") "done" else "failed")
  }, error = function(e) NULL, interrupt = function(e) NULL)
  invisible()
}
