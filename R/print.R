# Printing fits: print(), summary() and the summary's print method, with
# the one-line descriptions of a fit's data, networks, epochs, distances
# and time that they show. They read a fit through the helpers in
# fit-utils.R so that fits of other algorithms print too.

# ---- print and summary -----------------------------------------------------

#' Print a fit
#'
#' A one-screen summary of a fit: the algorithm, the data, the networks, the
#' epochs done and how training ended, the last values of the exact
#' distances its algorithm evaluates on the held-out data (W1 and W2 for
#' the generators of [w1fe()] and [wgan()]) with their standard errors, the
#' sampling floor of each (what a model drawing exactly from the data's law
#' would score at this evaluation size), the lowest value of the first (the
#' minimum over noisy evaluations, so biased low), the training time and
#' the device.
#'
#' @param x A fit from [w1fe()], [wgan()] or another wgflow trainer.
#' @param digits Significant digits for the distances.
#' @param ... Unused.
#' @return `x`, invisibly.
#' @seealso [summary.wf_fit()], [glance.wf_fit()].
#' @export
#' @examples
#' x <- wf_toy("8gaussians", n = 2000, seed = 1)
#' fit <- w1fe(x, epochs = 5, batch_size = 128, critic = wf_mlp(c(32, 32)),
#'             generator = wf_mlp(c(32, 32)), eval_n = 200, eval_every = 1,
#'             seed = 1, verbose = FALSE)
#' fit
print.wf_fit <- function(x, digits = 3, ...) {
  check_fit(x, "x")
  m <- fit_metrics(x)
  cat("<wgflow fit> ", fit_label(x), "\n", sep = "")
  cat(data_line(x), "\n", sep = "")
  for (nm in names(fit_nets(x))) {
    cat(sprintf("  %-10s %s\n", paste0(nm, ":"), net_label(x, nm)))
  }
  cat(sprintf("  %-10s %s\n", "epochs:", epochs_line(x)))
  if (!is.null(x$message) && !identical(x$status, "completed")) {
    cat(sprintf("  %-10s %s\n", "", x$message))
  }
  evals <- fit_eval_metrics(x)
  for (metric in intersect(evals, names(m))) {
    cat(sprintf("  %-10s %s\n", paste0(metric_label(metric), ":"),
                distance_line(m, metric, digits, best = metric == evals[1])))
    fl <- fit_floor(x, metric)
    if (!is.null(fl)) {
      cat(sprintf("  %-10s %s\n", "", floor_line(fl, digits)))
      if (below_floor(m, metric, fl)) {
        cat(sprintf("  %-10s %s\n", "", paste("below the sampling floor: the samples are",
                                               "likely less diverse than the data",
                                               "(e.g. blurred towards the mean)")))
      }
    }
  }
  cat(sprintf("  %-10s %s\n", "time:", time_line(x)))
  invisible(x)
}

#' Summarise a fit
#'
#' Collects a fit's settings, its final metrics, its best exact distances and
#' its training time.
#'
#' @param object A fit from [w1fe()], [wgan()] or another wgflow trainer.
#' @param ... Unused.
#' @return An object of class `summary.wf_fit`: a list with `label`,
#'   `algorithm`, `call`, `status`, `message`, `epochs` (epochs done),
#'   `seconds` (training wall time), `seconds_per_epoch`, `device`, `data`
#'   (training rows, held-out rows, columns), `settings` (a tibble of
#'   `setting` and `value`, as text), `final` (a tibble of `metric`, `epoch`
#'   and `value`: the last recorded value of each metric) and `best` (the
#'   same for the smallest value of each exact distance the algorithm
#'   evaluates, e.g. W1 and W2: the minimum over noisy evaluations, so
#'   biased low) with its standard error `se`, and `floor` (the sampling
#'   floor of each exact distance: `metric`, `n`, `floor`, `floor_sd`,
#'   `reps`; `NULL` if unknown).
#' @seealso [print.wf_fit()], [glance.wf_fit()], [tidy.wf_fit()].
#' @export
#' @examples
#' x <- wf_toy("8gaussians", n = 2000, seed = 1)
#' fit <- w1fe(x, epochs = 5, batch_size = 128, critic = wf_mlp(c(32, 32)),
#'             generator = wf_mlp(c(32, 32)), eval_n = 200, eval_every = 1,
#'             seed = 1, verbose = FALSE)
#' s <- summary(fit)
#' s
#' s$best
summary.wf_fit <- function(object, ...) {
  check_fit(object, "object")
  m <- fit_metrics(object)
  cols <- metric_columns(m)
  final <- lapply(cols, function(col) {
    i <- last_index(m[[col]])
    c(if (is.na(i)) NA_real_ else m$epoch[i], if (is.na(i)) NA_real_ else m[[col]][i])
  })
  final <- tibble::tibble(
    metric = cols,
    epoch = vapply(final, `[`, numeric(1), 1L),
    value = vapply(final, `[`, numeric(1), 2L)
  )
  dists <- intersect(fit_eval_metrics(object), cols)
  best <- lapply(dists, function(col) {
    i <- best_index(m[[col]])
    c(if (is.na(i)) NA_real_ else m$epoch[i], if (is.na(i)) NA_real_ else m[[col]][i])
  })
  best <- tibble::tibble(
    metric = dists,
    epoch = vapply(best, `[`, numeric(1), 1L),
    value = vapply(best, `[`, numeric(1), 2L),
    se = vapply(dists, function(col) {
      se <- m[[paste0(col, "_se")]]
      i <- best_index(m[[col]])
      if (is.null(se) || is.na(i)) NA_real_ else as.double(se[i])
    }, numeric(1), USE.NAMES = FALSE)
  )
  s <- object$settings
  settings <- tibble::tibble(
    setting = names(s),
    value = vapply(s, format_setting, character(1), USE.NAMES = FALSE)
  )
  done <- epochs_done(object)
  seconds <- training_seconds(object)
  structure(list(
    label = fit_label(object), algorithm = object$algorithm %||% NA_character_,
    call = object$call, status = object$status %||% NA_character_,
    message = object$message, epochs = done, seconds = seconds,
    seconds_per_epoch = if (done > 0) seconds / done else NA_real_,
    device = s$device %||% NA_character_,
    data = c(train = nrow_or_na(object$data), holdout = nrow_or_na(object$holdout),
             cols = if (is.null(object$data)) NA_integer_ else ncol(object$data)),
    settings = settings, final = final, best = best, floor = object$floor
  ), class = "summary.wf_fit")
}

#' @rdname summary.wf_fit
#' @param x A `summary.wf_fit` object.
#' @param digits Significant digits for the metrics.
#' @export
print.summary.wf_fit <- function(x, digits = 4, ...) {
  cat(x$label, ": ", x$status, " after ", x$epochs, " epoch",
      if (x$epochs == 1) "" else "s", "\n", sep = "")
  if (!is.null(x$message) && !identical(x$status, "completed")) {
    cat("  ", x$message, "\n", sep = "")
  }
  if (!is.null(x$call)) {
    cat("Call: ", paste(deparse(x$call, width.cutoff = 70L), collapse = "\n  "),
        "\n", sep = "")
  }
  cat(sprintf("Data: %s training rows, %s held out, %s columns\n",
              x$data[["train"]], x$data[["holdout"]], x$data[["cols"]]))
  cat("\nSettings:\n")
  w <- max(nchar(x$settings$setting), 1L)
  cat(sprintf("  %-*s  %s\n", w, x$settings$setting, x$settings$value), sep = "")
  if (nrow(x$final) > 0) {
    cat("\nFinal metrics (last recorded value):\n")
    print_metric_table(x$final, digits)
  }
  if (nrow(x$best) > 0) {
    cat("\nLowest exact distances (minimum over noisy evaluations, biased low):\n")
    print_metric_table(x$best, digits)
  }
  if (is.data.frame(x$floor) && nrow(x$floor) > 0) {
    cat("\nSampling floor (held-out rows vs as many training rows):\n")
    fl <- x$floor
    cat(sprintf("  %s  %s (sd %s) at n = %d, %d draws\n", format(fl$metric),
                format(fl$floor, digits = digits), format(fl$floor_sd, digits = 2),
                fl$n, fl$reps), sep = "")
  }
  cat(sprintf("\nTime: %s s of training, %s s per epoch, on %s\n",
              format(x$seconds, digits = 3), format(x$seconds_per_epoch, digits = 3),
              x$device))
  invisible(x)
}

# ---- internals: lines of the printout --------------------------------------

# The fit's networks, in the order they are stored.
fit_nets <- function(fit) {
  Filter(function(v) inherits(v, "wf_net"), unclass(fit))
}

net_label <- function(fit, name) {
  opt <- fit$settings[[paste0(name, "_optimizer")]]
  out <- net_description(fit[[name]])
  if (!is.null(opt)) out <- paste0(out, "; ", optimizer_label(opt))
  out
}

data_line <- function(fit) {
  train <- nrow_or_na(fit$data)
  held <- nrow_or_na(fit$holdout)
  d <- if (is.null(fit$data)) NA_integer_ else ncol(fit$data)
  # a map fit's generator takes source points, not latents
  latent <- if (is.matrix(fit$source)) NULL else fit$settings$latent_dim
  sprintf("  %-10s %s x %s training, %s held out%s%s%s", "data:", train, d, held,
          if (!is.null(fit$labels$holdout)) " (balanced across components)"
          else if (!is.null(fit$holdout_rows)) " (random rows)" else "",
          if (!is.null(fit$scaling)) ", scaled" else "",
          if (is.null(latent)) "" else sprintf("; latent dimension %s", latent))
}

epochs_line <- function(fit) {
  status <- fit$status %||% "unknown"
  sprintf("%d done, %s", epochs_done(fit), status)
}

# best: also show the smallest value (for the main evaluation metric),
# saying that it is the minimum of noisy values
distance_line <- function(m, metric, digits, best = FALSE) {
  v <- m[[metric]]
  se <- m[[paste0(metric, "_se")]]
  i <- last_index(v)
  if (is.na(i)) return("not evaluated")
  pm <- function(j) {
    if (is.null(se) || is.na(se[j])) "" else sprintf(" +/- %s", format(se[j], digits = 2))
  }
  where <- if (grepl("_train$", metric)) "training rows" else "held out"
  out <- sprintf("%s%s at epoch %s (exact, %s)", format(v[i], digits = digits),
                 pm(i), m$epoch[i], where)
  if (best) {
    b <- best_index(v)
    n_eval <- sum(!is.na(v))
    out <- sprintf("%s; lowest %s at epoch %s%s", out, format(v[b], digits = digits),
                   m$epoch[b],
                   if (n_eval > 1L) sprintf(" (of %d noisy evaluations)", n_eval) else "")
  }
  out
}

# W1 and W2 in capitals, other metrics (w1_train, map_error) as named
metric_label <- function(metric) if (metric %in% c("w1", "w2")) toupper(metric) else metric

# Whether a metric's last value lies clearly (two floor sds) below its
# sampling floor: no model drawing from the data's law scores that.
below_floor <- function(m, metric, fl) {
  v <- m[[metric]]
  v <- v[!is.na(v)]
  if (length(v) == 0L || !is.finite(fl$floor)) return(FALSE)
  sd <- if (is.finite(fl$floor_sd)) fl$floor_sd else 0
  v[length(v)] < fl$floor - 2 * sd
}

floor_line <- function(fl, digits) {
  sprintf("sampling floor %s (sd %s): a perfect model's score at n = %d",
          format(fl$floor, digits = digits), format(fl$floor_sd, digits = 2), fl$n)
}

time_line <- function(fit) {
  done <- epochs_done(fit)
  secs <- training_seconds(fit)
  sprintf("%s s of training%s on %s", format(secs, digits = 3),
          if (done > 0) sprintf(" (%s s per epoch)", format(secs / done, digits = 3)) else "",
          fit$settings$device %||% "unknown device")
}

print_metric_table <- function(tab, digits) {
  metric <- format(c("metric", tab$metric))
  epoch <- format(c("epoch", ifelse(is.na(tab$epoch), "-", tab$epoch)), justify = "right")
  value <- format(c("value", format(tab$value, digits = digits)), justify = "right")
  cat(sprintf("  %s  %s  %s\n", metric, epoch, value), sep = "")
}
