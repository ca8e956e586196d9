# The epoch loop every training algorithm shares: the trainer, timing,
# evaluation, progress, callbacks, Ctrl-C and divergence. An algorithm's
# descriptor (algorithm.R) supplies the epoch; the loop never loses an
# epoch that was done.

# Train `epochs` more epochs of a fit; returns the fit with them appended.
# Every family trains through here: the call is stored compactly, the
# sampling floor of the evaluation is measured once per fit, and callbacks
# (functions or wf_callback objects, see callbacks.R) see each epoch's
# metrics and, if they ask, a snapshot of the fit.
train_fit <- function(fit, epochs, verbose, callbacks) {
  algo <- fit_algorithm(fit)
  fit$call <- compact_call(fit$call, fit$algorithm)
  # Ctrl-C in the set-up (the sampling floor takes seconds on large
  # evaluations) returns the fit as it was, marked interrupted
  trainer <- NULL
  keeper <- NULL
  on.exit({
    sync_fit(fit, algo, trainer)
    if (!is.null(trainer)) free_trainer(trainer)
    if (!is.null(keeper)) keeper$drop()
  })
  setup <- tryCatch({
    if (is.null(fit$floor)) fit$floor <- measure_floor(algo, fit)
    trainer <- new_trainer(fit)
    NULL
  }, interrupt = function(e) "interrupted",
  wgflow_error_interrupt = function(e) "interrupted")
  if (!is.null(setup)) {
    return(finish_run(fit, list(metrics = fit_metrics(fit)[0L, ], status = "interrupted",
                                message = "interrupted by the user before the first epoch")))
  }
  s <- fit$settings
  eval_fn <- algo$evaluate(fit)
  old_metrics <- fit_metrics(fit)
  ctx <- train_context(fit, algo, trainer, old_metrics)
  keeper <- new_keeper(fit, algo$nets)
  epoch <- epochs_done(fit)
  keeper$save(epoch, check = FALSE)
  # around each epoch, the R copies of the nets are brought up to date
  # without copying their values (net_freeze(), net_sync()): they are read
  # only where R reads them (ctx$fit(), the end of the run)
  epoch_fn <- function() {
    freeze_nets(fit)
    out <- algo$epoch(fit, trainer)
    sync_nets(fit)
    epoch <<- epoch + 1L
    if (all(is.finite(out) | is.na(out))) keeper$save(epoch)
    out
  }
  run <- run_epochs(epochs, epoch_fn, eval_fn,
                    train_metrics(algo), fit_eval_metrics(fit), s$eval_every, verbose,
                    callbacks, start_epoch = epochs_done(fit),
                    start_seconds = training_seconds(fit), ctx = ctx,
                    progress_names = progress_metrics(algo))
  # a diverged run returns the nets of its last good epoch
  if (identical(run$status, "diverged") && keeper$restore()) {
    run$message <- sprintf("%s (the networks are those after epoch %d)", run$message,
                           keeper$epoch())
  }
  finish_run(fit, run)
}

# What callbacks can reach during a run: the eval metrics, a snapshot of the
# fit (metrics so far, networks as they are now, copied), and the
# optimisers' learning rates.
train_context <- function(fit, algo, trainer, old_metrics) {
  ctx <- new.env(parent = emptyenv())
  ctx$eval_names <- fit_eval_metrics(fit)
  ctx$nets <- algo$nets
  ctx$cols <- NULL # set by run_epochs()
  ctx$fit <- function() {
    sync_fit(fit, algo, trainer)
    snap <- copy_fit(fit)
    new <- if (is.null(ctx$cols)) NULL else columns_tibble(ctx$cols)
    snap$metrics <- if (nrow(old_metrics) == 0) new else
      if (is.null(new)) old_metrics else bind_metrics(old_metrics, new)
    snap$status <- "running"
    snap
  }
  ctx$base_lr <- function(role) fit$settings[[paste0(role, "_optimizer")]]$lr
  ctx$set_lr <- function(role, lr) {
    set_trainer_lr(trainer, match(role, algo$nets), lr)
  }
  ctx
}

# Bring a fit's R side up to its trainer's state: its nets and, through the
# descriptor's sync_state hook, the algorithm's own state (OTS's dual).
sync_fit <- function(fit, algo, trainer) {
  sync_nets(fit)
  if (!is.null(trainer) && is.function(algo$sync_state)) algo$sync_state(fit, trainer)
  invisible(fit)
}

# The sampling floor of a fit's evaluation (its descriptor's floor
# function); a failure there is a warning, never the end of training.
measure_floor <- function(algo, fit) {
  floor_fn <- algo$floor
  if (!is.function(floor_fn)) return(NULL)
  tryCatch(floor_fn(fit), error = function(e) {
    warning(sprintf("%s: the sampling floor could not be measured: %s",
                    fit$algorithm, conditionMessage(e)), call. = FALSE)
    NULL
  })
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
#' Training runs on a copy: `fit` itself, its networks and its metrics are
#' left as they were, so `fit` and the result can be compared or sampled
#' side by side. Continuing in steps gives the same networks and metrics
#' (but the timings) as one longer run with the same seed.
#'
#' @param fit A fit from [w1fe()], [wgan()] or another wgflow trainer.
#' @param epochs Further epochs.
#' @inheritParams w1fe
#' @return A new fit, with more epochs.
#' @export
#' @examples
#' x <- wf_toy("8gaussians", n = 2000, seed = 1)
#' fit <- w1fe(x, epochs = 3, batch_size = 128, critic = wf_mlp(16),
#'             generator = wf_mlp(16), eval_n = 100, seed = 1, verbose = FALSE)
#' fit5 <- wf_continue(fit, epochs = 2)
#' c(nrow(fit$metrics), nrow(fit5$metrics))
wf_continue <- function(fit, epochs = 100L, verbose = interactive(), callbacks = list()) {
  check_fit(fit)
  epochs <- check_count(epochs, "epochs")
  verbose <- check_flag(verbose, "verbose")
  callbacks <- check_callbacks(callbacks)
  train_fit(copy_fit(fit), epochs, verbose, callbacks)
}

# The default evaluation of a descriptor: a function(fit) returning the
# evaluation closure, here the exact W1 and W2 of the fit's generator
# against its held-out rows (eval_n of each), with standard errors, and for
# 28 x 28 one-channel images the feature distances fd_lenet and kd_lenet
# (feature-metrics.R).
generator_evaluation <- function(fit) {
  s <- fit$settings
  held <- fit$holdout[seq_len(s$eval_n), , drop = FALSE]
  gen_ptr <- net_ptr(fit$generator)
  feat <- feature_evaluator(fit, held)
  function() evaluate_generator(gen_ptr, s$eval_n, fit$eval_key, held, feat)
}

# The exact W1 and W2 between n generated samples (latents from `key`) and
# the held-out rows, each with its standard error (ot_estimate()), and the
# distances of `feat` (feature_evaluator(); NULL: none); NA, and diverged =
# TRUE, when the generator's output is not finite (the OT solver refuses
# such points).
evaluate_generator <- function(gen_ptr, n, key, held, feat = NULL) {
  y <- .Call(ffi_generate, gen_ptr, n, key)
  if (!all_finite(y)) {
    ev <- list(values = list(w1 = NA_real_, w2 = NA_real_),
               se = list(w1 = NA_real_, w2 = NA_real_), diverged = TRUE)
    return(with_feature_metrics(ev, if (!is.null(feat)) feature_na))
  }
  w1 <- ot_estimate(y, held, 1)
  w2 <- ot_estimate(y, held, 2)
  ev <- list(values = list(w1 = w1[["distance"]], w2 = w2[["distance"]]),
             se = list(w1 = w1[["se"]], w2 = w2[["se"]]), diverged = FALSE)
  with_feature_metrics(ev, if (!is.null(feat)) feat(y))
}

# The sampling floor of the default evaluation: for the eval metrics "w1"
# and "w2", the exact distance between the m = min(eval_n, training rows)
# held-out rows the evaluation uses and m training rows drawn at random
# (`reps` draws, seeded by the fit's seed): what a generator that draws
# exactly from the data's law would score, on average (`floor`) and its
# spread (`floor_sd`); for an image fit with fd_lenet and kd_lenet, theirs
# on the same draws (feature_floor()). NULL when the fit has no such
# metrics or data.
generator_floor <- function(fit) {
  p <- c(w1 = 1, w2 = 2)[intersect(fit_eval_metrics(fit), c("w1", "w2"))]
  reps <- floor_reps()
  if (length(p) == 0L || reps < 1L || !is.matrix(fit$data) || !is.matrix(fit$holdout) ||
      ncol(fit$data) != ncol(fit$holdout)) {
    return(NULL)
  }
  m <- min(fit$settings$eval_n %||% nrow(fit$holdout), nrow(fit$data), nrow(fit$holdout))
  if (m < 2L) return(NULL)
  held <- fit$holdout[seq_len(m), , drop = FALSE]
  seed <- derived_seed(fit$settings$seed %||% 1L, 2L)
  rbind(floor_table(held, fit$data, m, p, reps, seed),
        feature_floor(fit, held, fit$data, m, reps, seed))
}

# Sampling floors: W_p between `held` (m rows) and m rows of `pool` drawn
# without replacement, reps times, for each p; one row per p.
floor_table <- function(held, pool, m, p, reps, seed) {
  draws <- with_rng_seed(seed, lapply(seq_len(reps), function(r) sample.int(nrow(pool), m)))
  vals <- vapply(draws, function(rows) {
    y <- pool[rows, , drop = FALSE]
    vapply(p, function(pp) ot_distance(held, y, pp), double(1))
  }, double(length(p)))
  vals <- matrix(vals, nrow = length(p))
  tibble::tibble(metric = names(p), n = as.integer(m), floor = rowMeans(vals),
                 floor_sd = if (reps > 1L) apply(vals, 1L, stats::sd) else NA_real_,
                 reps = as.integer(reps))
}

floor_reps <- function() {
  r <- getOption("wgflow.floor_reps", 5L)
  if (!is.numeric(r) || length(r) != 1L || is.na(r) || r < 0) 5L else as.integer(r)
}

# The loop. epoch_fn(): a named numeric (that epoch's training metrics);
# eval_fn(): list(values, diverged, and optionally se), not timed.
# callbacks: from check_callbacks(); ctx: what they can reach (train_context(),
# or NULL). Returns list(metrics, status, message).
run_epochs <- function(epochs, epoch_fn, eval_fn, train_names, eval_names,
                       eval_every, verbose, callbacks, start_epoch = 0L,
                       start_seconds = 0, ctx = NULL, progress_names = NULL) {
  cols <- new_columns(c("epoch", "seconds", train_names, eval_names),
                      min(epochs, 1024L))
  if (is.null(ctx)) ctx <- new.env(parent = emptyenv())
  if (is.null(ctx$eval_names)) ctx$eval_names <- eval_names
  if (is.null(ctx$fit)) ctx$fit <- function() NULL
  ctx$cols <- cols
  status <- "completed"
  message <- NULL
  seconds <- start_seconds
  evaluated <- FALSE # whether the last recorded row was evaluated
  pb <- if (verbose) start_progress(epochs, eval_names[1], progress_names, environment())
    else NULL
  on.exit(close_progress(pb, cols, "failed")) # only if the loop exits by an error
  begin <- run_hooks(callbacks, "on_train_begin", list(ctx), 0L)
  if (!is.null(begin$stop)) {
    status <- begin$stop$status
    message <- begin$stop$message
    epochs <- 0L
  }
  for (i in seq_len(epochs)) {
    epoch <- start_epoch + i
    # one epoch: train, evaluate, record, callbacks; Ctrl-C anywhere in it,
    # or an interrupt seen by the C core, ends the run keeping what is done
    step <- tryCatch({
      before <- run_hooks(callbacks, "on_epoch_begin", list(epoch, ctx), epoch - 1L)
      if (!is.null(before$stop)) {
        before$stop
      } else {
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
                   as.list(before$values),
                   if (is.null(ev)) NULL else ev$values,
                   if (is.null(ev$se)) NULL else
                     stats::setNames(ev$se, paste0(names(ev$se), "_se")))
          add_row(cols, row)
          evaluated <- !is.null(ev)
          update_progress(pb, cols)
          if (isTRUE(ev$diverged)) {
            list(status = "diverged",
                 message = sprintf("the generator's output is not finite at epoch %d", epoch))
          } else {
            after <- run_hooks(callbacks, "on_epoch_end", list(last_row(cols), ctx), epoch)
            after$stop %||% list(status = "running")
          }
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

# Runs hook `hook` of every callback with `args`. Returns list(values =
# the named numbers the hooks returned (recorded with the epoch), stop =
# NULL or list(status, message)): a hook that returns FALSE stops the run
# ("stopped", with the reason in its attribute "message" if it has one),
# one that fails ends it ("error"), keeping the epochs done.
run_hooks <- function(callbacks, hook, args, epoch) {
  values <- numeric()
  for (i in seq_along(callbacks)) {
    f <- callbacks[[i]][[hook]]
    if (!is.function(f)) next
    res <- tryCatch(do.call(f, args), error = function(e) e)
    if (inherits(res, "error")) {
      return(list(values = values, stop = list(
        status = "error",
        message = sprintf("callback %d (%s) failed %s: %s", i, callbacks[[i]]$name,
                          if (epoch > 0L) sprintf("after epoch %d", epoch) else "before training",
                          conditionMessage(res)))))
    }
    if (identical(as.vector(res), FALSE)) {
      why <- attr(res, "message")
      return(list(values = values, stop = list(
        status = "stopped",
        message = if (is.character(why) && length(why) == 1L) why else
          sprintf("stopped by a callback after epoch %d", epoch))))
    }
    if (is.numeric(res) && !is.null(names(res))) values <- c(values, res)
  }
  list(values = values, stop = NULL)
}

evaluate_last <- function(cols, eval_fn, eval_names) {
  if (cols$n == 0L || !is.na(cols$data[[eval_names[1]]][cols$n])) return(invisible())
  ev <- tryCatch(eval_fn(), error = function(e) NULL, interrupt = function(e) NULL)
  if (!is.null(ev)) {
    vals <- c(ev$values, if (!is.null(ev$se)) stats::setNames(ev$se, paste0(names(ev$se), "_se")))
    add_columns(cols, names(vals))
    for (nm in names(vals)) cols$data[[nm]][cols$n] <- as.double(vals[[nm]])
  }
  invisible()
}

# Append new epochs' metrics to a fit's and raise the warning a stopped run
# deserves.
finish_run <- function(fit, run) {
  old <- fit_metrics(fit)
  new <- run$metrics
  fit$metrics <- if (nrow(old) == 0) new else if (nrow(new) == 0) old else bind_metrics(old, new)
  fit$status <- run$status
  fit$message <- run$message
  if (run$status %in% c("interrupted", "diverged", "error")) {
    warning(sprintf("%s: %s; returning the %d epochs done.", fit$algorithm,
                    run$message, nrow(fit$metrics)), call. = FALSE)
  }
  fit
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
  add_columns(cols, names(row))
  for (nm in names(row)) {
    cols$data[[nm]][n] <- as.double(row[[nm]])
  }
  cols$n <- n
  invisible(cols)
}

# Columns first seen in a later row (standard errors, learning rates) are
# added, NA before.
add_columns <- function(cols, names) {
  for (nm in setdiff(names, names(cols$data))) {
    cols$data[[nm]] <- rep(NA_real_, length(cols$data[[1]]))
  }
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

start_progress <- function(total, metric, others, frame) {
  pb <- new.env(parent = emptyenv())
  pb$metric <- metric
  pb$others <- others
  pb$frame <- frame
  pb$id <- tryCatch(cli::cli_progress_bar(
    total = total, clear = FALSE, .envir = frame, status = "",
    auto_terminate = FALSE, .auto_close = FALSE,
    # no 30-character bar: an 80-column console then shows the losses too
    format = paste("{cli::pb_current}/{cli::pb_total} {cli::pb_percent} | {cli::pb_elapsed}",
                   "| ETA {cli::pb_eta} | {cli::pb_status}"),
    format_failed = "{cli::pb_current}/{cli::pb_total} epochs, stopped | {cli::pb_elapsed} | {cli::pb_status}"
  ), error = function(e) NULL)
  pb
}

# "W1 0.312 | critic_loss -0.21 | w1_critic 0.3": the latest main eval
# metric and the latest training metrics the descriptor shows.
progress_status <- function(pb, cols) {
  latest <- function(nm) {
    v <- cols$data[[nm]]
    if (is.null(v) || cols$n == 0L) return(NA_real_)
    i <- last_index(v[seq_len(cols$n)])
    if (is.na(i)) NA_real_ else v[i]
  }
  parts <- sprintf("%s %s", toupper(pb$metric), format(latest(pb$metric), digits = 3))
  for (nm in intersect(pb$others, names(cols$data))) {
    parts <- c(parts, sprintf("%s %s", nm, format(latest(nm), digits = 2)))
  }
  paste(parts, collapse = " | ")
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
