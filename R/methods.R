# Methods for fits: print, summary, tidy/glance, autoplot (ggplot2, in
# Suggests) and plot (base graphics). They read a fit through a few helpers
# below so that fits of other algorithms (other nets, other settings, other
# metric columns) print and plot too.

# ---- print and summary -----------------------------------------------------

#' Print a fit
#'
#' A one-screen summary of a fit: the algorithm, the data, the networks, the
#' epochs done and how training ended, the last and the best exact W1 (and
#' the last W2) on the held-out data, the training time and the device.
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
  for (metric in intersect(c("w1", "w2"), names(m))) {
    cat(sprintf("  %-10s %s\n", paste0(toupper(metric), ":"),
                distance_line(m, metric, digits)))
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
#'   same for the smallest exact W1 and W2).
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
  dists <- intersect(c("w1", "w2"), cols)
  best <- lapply(dists, function(col) {
    i <- best_index(m[[col]])
    c(if (is.na(i)) NA_real_ else m$epoch[i], if (is.na(i)) NA_real_ else m[[col]][i])
  })
  best <- tibble::tibble(
    metric = dists,
    epoch = vapply(best, `[`, numeric(1), 1L),
    value = vapply(best, `[`, numeric(1), 2L)
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
    settings = settings, final = final, best = best
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
    cat("\nBest exact distances:\n")
    print_metric_table(x$best, digits)
  }
  cat(sprintf("\nTime: %s s of training, %s s per epoch, on %s\n",
              format(x$seconds, digits = 3), format(x$seconds_per_epoch, digits = 3),
              x$device))
  invisible(x)
}

# ---- tidy and glance -------------------------------------------------------

#' Tidy a fit's metrics
#'
#' `tidy()` gives a fit's per-epoch metrics in long form, one row per epoch
#' and metric, without the missing values (the exact distances are recorded
#' only every `eval_every` epochs). `glance()` gives one row per fit: its
#' settings, training time, final and best exact distances, and status.
#'
#' @param x A fit from [w1fe()], [wgan()] or another wgflow trainer.
#' @param ... Unused.
#' @return `tidy()`: a tibble with columns `epoch`, `seconds` (cumulative
#'   training time), `metric` and `value`. `glance()`: a one-row tibble with
#'   `algorithm`, `label` (e.g. "W1-FE-LP (K = 3)"), `penalty`,
#'   `persistency`, `epochs` (done), `seconds`, `w1` (the last exact W1),
#'   `best_w1`, `best_epoch` (the epoch of `best_w1`), `w2` (the last exact
#'   W2), `status`, `device` and `seed`; settings a fit lacks are `NA`.
#' @seealso [autoplot.wf_fit()] to plot the metrics.
#' @name tidy.wf_fit
#' @examples
#' x <- wf_toy("8gaussians", n = 2000, seed = 1)
#' fit <- w1fe(x, epochs = 5, batch_size = 128, critic = wf_mlp(c(32, 32)),
#'             generator = wf_mlp(c(32, 32)), eval_n = 200, eval_every = 1,
#'             seed = 1, verbose = FALSE)
#' tidy(fit)
#' glance(fit)
NULL

#' @rdname tidy.wf_fit
#' @importFrom generics tidy
#' @method tidy wf_fit
#' @export
tidy.wf_fit <- function(x, ...) {
  m <- fit_metrics(x)
  cols <- metric_columns(m)
  n <- nrow(m)
  if (n == 0 || length(cols) == 0) {
    return(tibble::tibble(epoch = integer(), seconds = double(),
                          metric = character(), value = double()))
  }
  vals <- as.matrix(as.data.frame(m)[cols])
  out <- tibble::tibble(
    epoch = rep(m$epoch, each = length(cols)),
    seconds = rep(as.double(m$seconds), each = length(cols)),
    metric = rep(cols, times = n),
    value = as.vector(t(vals))
  )
  out[!is.na(out$value), , drop = FALSE]
}

#' @rdname tidy.wf_fit
#' @importFrom generics glance
#' @method glance wf_fit
#' @export
glance.wf_fit <- function(x, ...) {
  m <- fit_metrics(x)
  s <- x$settings
  w1 <- if ("w1" %in% names(m)) m$w1 else rep(NA_real_, nrow(m))
  w2 <- if ("w2" %in% names(m)) m$w2 else rep(NA_real_, nrow(m))
  best <- best_index(w1)
  best_w1 <- if (is.na(best)) NA_real_ else as.double(w1[best])
  best_epoch <- if (is.na(best)) NA_integer_ else as.integer(m$epoch[best])
  tibble::tibble(
    algorithm = x$algorithm %||% NA_character_,
    label = fit_label(x),
    penalty = s$penalty %||% NA_character_,
    persistency = as.integer(s$persistency %||% NA_integer_),
    epochs = epochs_done(x),
    seconds = training_seconds(x),
    w1 = last_value(w1),
    best_w1 = best_w1,
    best_epoch = best_epoch,
    w2 = last_value(w2),
    status = x$status %||% NA_character_,
    device = s$device %||% NA_character_,
    seed = as.double(s$seed %||% NA_real_)
  )
}

# ---- autoplot (ggplot2) ----------------------------------------------------

#' Plot metrics against epochs and wall time with ggplot2
#'
#' `autoplot()` draws a metric (by default the exact W1 between generated and
#' held-out samples) against the training epoch and against the cumulative
#' training wall time, side by side, as in Figure 2 of Malik & Huang.
#'
#' For one fit this is its curve. Further fits in `...` (or lists of fits)
#' are drawn together, coloured by the first setting in which they differ
#' (or by their names, when they are named); fits that differ only in their
#' seed are replicates, drawn as their mean with a ribbon of their spread.
#' A sweep (a tibble of class `wf_sweep` from [wf_sweep()]) is drawn the same
#' way: one mean curve per value of `color`, over the seeds, with a ribbon,
#' and one panel per value of the other settings that vary and are not
#' determined by `color`. Along the wall-time axis each curve is drawn at
#' the mean wall time of its replicates at each epoch.
#'
#' The settings of a sweep are the columns named in its `"settings"`
#' attribute, if it has one, and otherwise its columns other than `epoch`,
#' `seconds`, `status`, `message` and the metrics: the known metric names
#' and any column that changes within a run (runs are told apart by `epoch`
#' starting again). Columns named `seed`, `replicate`, `rep` or `run` hold
#' replicates and are averaged over.
#'
#' ggplot2 (in Suggests) must be installed; the methods are registered for
#' `ggplot2::autoplot()` when ggplot2 is loaded.
#'
#' @param object A fit from [w1fe()], [wgan()] or another wgflow trainer, or
#'   a `wf_sweep` tibble.
#' @param ... For fits: further fits, or lists of fits, to compare (named
#'   arguments name the curves). For sweeps: unused.
#' @param metric The metric column to plot: "w1" (exact W1, the default),
#'   "w2", "w1_critic", "critic_loss", "fit_mse_last", ...
#' @param x The horizontal axes: "epoch", "seconds" (wall time) or both
#'   (the default, one panel each).
#' @param color The setting to colour curves by; `NULL` takes the first
#'   setting that varies (other than the seed).
#' @param facet Settings to draw in separate panels; `NULL` takes the
#'   settings that vary and are not determined by `color` (other than the
#'   seed), `character(0)` none.
#' @param ribbon The spread over replicates: "range" (minimum to maximum),
#'   "sd" (mean plus and minus one standard deviation) or "none".
#' @return A ggplot object.
#' @seealso [plot.wf_fit()] for base graphics, [tidy.wf_fit()].
#' @name autoplot.wf_fit
#' @examples
#' x <- wf_toy("8gaussians", n = 2000, seed = 1)
#' fit <- w1fe(x, epochs = 5, batch_size = 128, critic = wf_mlp(c(32, 32)),
#'             generator = wf_mlp(c(32, 32)), eval_n = 200, eval_every = 1,
#'             seed = 1, verbose = FALSE)
#' if (requireNamespace("ggplot2", quietly = TRUE)) {
#'   print(ggplot2::autoplot(fit))
#'   print(ggplot2::autoplot(fit, metric = "w1_critic", x = "epoch"))
#'   fit_k1 <- wgan(x, epochs = 5, batch_size = 128,
#'                  critic = wf_mlp(c(32, 32)), generator = wf_mlp(c(32, 32)),
#'                  eval_n = 200, eval_every = 1, seed = 1, verbose = FALSE)
#'   print(ggplot2::autoplot(fit, fit_k1))
#' }
NULL

#' @rdname autoplot.wf_fit
#' @method autoplot wf_fit
#' @rawNamespace S3method(ggplot2::autoplot, wf_fit)
autoplot.wf_fit <- function(object, ..., metric = "w1", x = c("epoch", "seconds"),
                            color = NULL, facet = NULL,
                            ribbon = c("range", "sd", "none")) {
  need_ggplot2()
  fits <- collect_fits(object, ...)
  d <- fits_as_runs(fits)
  plot_runs(d$data, d$settings, metric, x, color, facet, ribbon,
            title = if (length(fits) == 1L) fit_label(fits[[1]]) else NULL)
}

#' @rdname autoplot.wf_fit
#' @method autoplot wf_sweep
#' @rawNamespace S3method(ggplot2::autoplot, wf_sweep)
autoplot.wf_sweep <- function(object, ..., metric = "w1", x = c("epoch", "seconds"),
                              color = NULL, facet = NULL,
                              ribbon = c("range", "sd", "none")) {
  need_ggplot2()
  if (!is.data.frame(object) || !all(c("epoch", "seconds") %in% names(object))) {
    arg_error("object", "a wf_sweep tibble with columns `epoch` and `seconds`", object)
  }
  d <- as.data.frame(object)
  plot_runs(d, sweep_settings(object), metric, x, color, facet, ribbon)
}

# ---- plot (base graphics) --------------------------------------------------

#' Plot a fit with base graphics
#'
#' `what = "samples"` draws, in the style of Figure 1 of Malik & Huang, a
#' sample of the training data (green), a sample `z` of the latent normal
#' law (magenta, when the latent and the data have the same dimension),
#' the generated `G(z)` (black) and the transport rays `z -> G(z)` (grey
#' segments). Data of more than two dimensions are drawn in their first two
#' coordinates (the plot says so); one-dimensional data as densities.
#' `what = "metrics"` draws a metric (exact W1 by default) against the epoch
#' and against the training wall time, side by side. No ggplot2 needed; see
#' [autoplot.wf_fit()] for the ggplot2 version.
#'
#' @param x A fit from [w1fe()], [wgan()] or another wgflow trainer.
#' @param what "samples" (the default) or "metrics".
#' @param n Number of data points, latent points and generated points drawn.
#' @param metric For "metrics": the metric column to plot.
#' @param seed `NULL` (R's random stream) or a whole number for the latent
#'   sample; a whole number leaves R's random stream as it was.
#' @param ... Further graphical parameters for [plot()] (e.g. `main`).
#' @return `x`, invisibly.
#' @export
#' @examples
#' x <- wf_toy("8gaussians", n = 2000, seed = 1)
#' fit <- w1fe(x, epochs = 5, batch_size = 128, critic = wf_mlp(c(32, 32)),
#'             generator = wf_mlp(c(32, 32)), eval_n = 200, eval_every = 1,
#'             seed = 1, verbose = FALSE)
#' plot(fit)
#' plot(fit, "metrics")
plot.wf_fit <- function(x, what = c("samples", "metrics"), n = 500L, metric = "w1",
                        seed = 1L, ...) {
  if (identical(what, c("samples", "metrics"))) what <- "samples"
  check_choice(what, c("samples", "metrics"), "what")
  if (what == "samples") {
    n <- check_count(n, "n", max = 1e6)
    plot_fit_samples(x, n, check_seed(seed), ...)
  } else {
    plot_fit_metrics(x, metric, ...)
  }
  invisible(x)
}

# ---- internals: reading a fit ----------------------------------------------

`%||%` <- function(a, b) if (is.null(a)) b else a

fit_metrics <- function(fit) {
  m <- fit$metrics
  if (is.null(m)) {
    m <- tibble::tibble(epoch = integer(), seconds = double())
  }
  m
}

# Numeric metric columns (everything but epoch and seconds).
metric_columns <- function(m) {
  cols <- setdiff(names(m), c("epoch", "seconds"))
  cols[vapply(as.list(m)[cols], is.numeric, logical(1))]
}

last_index <- function(v) {
  i <- which(!is.na(v))
  if (length(i) == 0) NA_integer_ else i[length(i)]
}

last_value <- function(v) {
  i <- last_index(v)
  if (is.na(i)) NA_real_ else as.double(v[i])
}

best_index <- function(v) {
  if (length(v) == 0 || all(is.na(v))) NA_integer_ else which.min(v)
}

nrow_or_na <- function(x) if (is.null(x)) NA_integer_ else nrow(x)

epochs_done <- function(fit) {
  m <- fit_metrics(fit)
  if (nrow(m) == 0) 0L else as.integer(max(m$epoch))
}

training_seconds <- function(fit) {
  m <- fit_metrics(fit)
  if (nrow(m) == 0) 0 else as.double(max(m$seconds))
}

# "W1-FE-LP (K = 3)", "WGAN-GP", ...
fit_label <- function(fit) {
  s <- fit$settings
  alg <- fit$algorithm %||% "fit"
  pen <- s$penalty %||% ""
  if (alg == "wgan") {
    return(switch(pen, clip = "WGAN (weight clipping)", gp = "WGAN-GP",
                  lp = "WGAN-LP", "WGAN"))
  }
  if (alg == "w1fe") {
    base <- switch(pen, clip = "W1-FE (weight clipping", gp = "W1-FE-GP (",
                   lp = "W1-FE-LP (", "W1-FE (")
    sep <- if (pen == "clip") ", " else ""
    naive <- identical(s$persistency_mode, "naive")
    return(sprintf("%s%sK = %s%s)", base, sep, s$persistency %||% "?",
                   if (naive) ", naive persistency" else ""))
  }
  toupper(alg)
}

# The fit's networks, in the order they are stored.
fit_nets <- function(fit) {
  Filter(function(v) inherits(v, "wf_net"), unclass(fit))
}

net_label <- function(fit, name) {
  net <- fit[[name]]
  spec <- net$spec
  widths <- paste(c(net$input_dim, spec$hidden, net$output_dim), collapse = " -> ")
  extras <- c(spec$activation,
              if (!identical(spec$norm, "none")) paste(spec$norm, "norm"),
              if (isTRUE(spec$residual)) "residual")
  opt <- fit$settings[[paste0(name, "_optimizer")]]
  out <- paste0(widths, ", ", paste(extras, collapse = ", "))
  if (!is.null(opt)) out <- paste0(out, "; ", optimizer_label(opt))
  out
}

optimizer_label <- function(opt) {
  kind <- switch(opt$kind, adam = "Adam", rmsprop = "RMSprop", sgd = "SGD", opt$kind)
  sprintf("%s lr %s", kind, format(opt$lr, digits = 3))
}

data_line <- function(fit) {
  train <- nrow_or_na(fit$data)
  held <- nrow_or_na(fit$holdout)
  d <- if (is.null(fit$data)) NA_integer_ else ncol(fit$data)
  latent <- fit$settings$latent_dim
  sprintf("  %-10s %s x %s training, %s held out%s", "data:", train, d, held,
          if (is.null(latent)) "" else sprintf("; latent dimension %s", latent))
}

epochs_line <- function(fit) {
  status <- fit$status %||% "unknown"
  sprintf("%d done, %s", epochs_done(fit), status)
}

distance_line <- function(m, metric, digits) {
  v <- m[[metric]]
  i <- last_index(v)
  if (is.na(i)) return("not evaluated")
  out <- sprintf("%s at epoch %s (exact, held out)", format(v[i], digits = digits),
                 m$epoch[i])
  if (metric == "w1") {
    b <- best_index(v)
    out <- sprintf("%s; best %s at epoch %s", out, format(v[b], digits = digits),
                   m$epoch[b])
  }
  out
}

time_line <- function(fit) {
  done <- epochs_done(fit)
  secs <- training_seconds(fit)
  sprintf("%s s of training%s on %s", format(secs, digits = 3),
          if (done > 0) sprintf(" (%s s per epoch)", format(secs / done, digits = 3)) else "",
          fit$settings$device %||% "unknown device")
}

format_setting <- function(v) {
  if (is.null(v)) return("NULL")
  if (inherits(v, "wf_mlp_spec")) {
    return(paste0(paste(v$hidden, collapse = "-"), " ", v$activation,
                  if (!identical(v$norm, "none")) paste0(", ", v$norm, " norm") else "",
                  if (isTRUE(v$residual)) ", residual" else ""))
  }
  if (inherits(v, "wf_optimizer")) return(optimizer_label(v))
  if (is.numeric(v) || is.character(v) || is.logical(v)) {
    return(paste(format(v, digits = 4), collapse = ", "))
  }
  describe(v)
}

print_metric_table <- function(tab, digits) {
  metric <- format(c("metric", tab$metric))
  epoch <- format(c("epoch", ifelse(is.na(tab$epoch), "-", tab$epoch)), justify = "right")
  value <- format(c("value", format(tab$value, digits = digits)), justify = "right")
  cat(sprintf("  %s  %s  %s\n", metric, epoch, value), sep = "")
}

# ---- internals: runs for autoplot ------------------------------------------

need_ggplot2 <- function() {
  if (!requireNamespace("ggplot2", quietly = TRUE)) {
    wf_abort("Plotting with `autoplot()` needs the ggplot2 package; install it with `install.packages(\"ggplot2\")`, or use `plot()`.",
             class = "wgflow_error_missing_package")
  }
}

# The fits in `object` and `...`, flattening lists; names from named arguments.
collect_fits <- function(object, ...) {
  items <- c(list(object), list(...))
  nms <- names(items) %||% rep("", length(items))
  fits <- list()
  labels <- character()
  for (i in seq_along(items)) {
    it <- items[[i]]
    if (inherits(it, "wf_fit")) {
      fits <- c(fits, list(it))
      labels <- c(labels, nms[i])
    } else if (is.list(it) && length(it) > 0 &&
               all(vapply(it, inherits, logical(1), "wf_fit"))) {
      inner <- names(it) %||% rep("", length(it))
      fits <- c(fits, it)
      labels <- c(labels, ifelse(nzchar(inner), inner, nms[i]))
    } else {
      arg_error("...", "fits or lists of fits", it)
    }
  }
  names(fits) <- labels
  fits
}

# Bind fits' metrics into one data frame with setting columns.
fits_as_runs <- function(fits) {
  keys <- c("persistency", "penalty", "persistency_mode", "step_size",
            "batch_size", "critic_steps", "lambda", "seed")
  named <- any(nzchar(names(fits)))
  parts <- lapply(seq_along(fits), function(i) {
    f <- fits[[i]]
    m <- as.data.frame(fit_metrics(f))
    set <- list(fit = if (nzchar(names(fits)[i])) names(fits)[i] else sprintf("fit %d", i),
                label = fit_label(f), algorithm = f$algorithm %||% NA_character_)
    for (k in keys) {
      v <- f$settings[[k]]
      set[[k]] <- if (is.null(v) || length(v) != 1L) NA else v
    }
    list(metrics = m, settings = set)
  })
  cols <- unique(unlist(lapply(parts, function(p) names(p$metrics))))
  settings <- c(if (named) "fit", "label", "algorithm", keys)
  data <- do.call(rbind, lapply(parts, function(p) {
    m <- p$metrics
    for (col in setdiff(cols, names(m))) m[[col]] <- rep(NA_real_, nrow(m))
    m <- m[cols]
    for (k in settings) m[[k]] <- rep(p$settings[[k]], nrow(m))
    m
  }))
  list(data = data, settings = settings)
}

replicate_columns <- c("seed", "replicate", "rep", "run")

# Setting columns of a sweep tibble (see the autoplot documentation).
sweep_settings <- function(x) {
  attr_set <- attr(x, "settings")
  if (is.character(attr_set)) return(intersect(attr_set, names(x)))
  known <- c("epoch", "seconds", "status", "message", w1fe_train_metrics,
             w1fe_eval_metrics)
  cand <- setdiff(names(x), known)
  cand <- cand[vapply(as.list(x)[cand], is.atomic, logical(1))]
  if (length(cand) == 0 || nrow(x) == 0) return(cand)
  run <- cumsum(c(TRUE, diff(x$epoch) <= 0))
  # Trust the runs only if each has distinct epochs.
  if (anyDuplicated(paste(run, x$epoch)) > 0) return(cand)
  constant <- vapply(cand, function(col) {
    v <- x[[col]]
    all(tapply(seq_along(v), run, function(i) length(unique(v[i])) == 1L))
  }, logical(1))
  cand[constant]
}

# Is setting `b` determined by setting `a` (one b value per a value)?
nested_in <- function(d, b, a) {
  if (is.null(a)) return(FALSE)
  all(tapply(seq_len(nrow(d)), as.character(d[[a]]),
             function(i) length(unique(d[[b]][i])) == 1L))
}

check_axes <- function(x) {
  ok <- is.character(x) && length(x) >= 1L && !anyNA(x) &&
    all(x %in% c("epoch", "seconds")) && !anyDuplicated(x)
  if (!ok) arg_error("x", "\"epoch\", \"seconds\" or both", x)
  x
}

check_columns <- function(x, choices, arg, allow_empty = TRUE) {
  ok <- is.character(x) && !anyNA(x) && all(x %in% choices) &&
    (allow_empty || length(x) > 0)
  if (!ok) {
    arg_error(arg, if (length(choices)) paste0("among ", paste0("\"", choices, "\"", collapse = ", "))
              else "NULL (there are no settings)", x)
  }
  x
}

# Mean (and spread) of `y` over the replicates of each group at each epoch.
summarise_groups <- function(d, group_cols) {
  gid <- if (length(group_cols)) {
    interaction(lapply(d[group_cols], as.character), drop = TRUE, lex.order = TRUE)
  } else {
    factor(rep("all", nrow(d)))
  }
  idx <- split(seq_len(nrow(d)), list(gid, d$epoch), drop = TRUE)
  rows <- lapply(idx, function(i) {
    y <- d$y[i]
    s <- if (length(y) > 1) stats::sd(y) else NA_real_
    out <- d[i[1], group_cols, drop = FALSE]
    out$epoch <- d$epoch[i[1]]
    out$seconds <- mean(d$seconds[i])
    out$y <- mean(y)
    out$min <- min(y)
    out$max <- max(y)
    out$sd <- s
    out$n <- length(y)
    out
  })
  out <- do.call(rbind, rows)
  out$group <- if (length(group_cols)) {
    interaction(lapply(out[group_cols], as.character), drop = TRUE, lex.order = TRUE)
  } else {
    factor(rep("all", nrow(out)))
  }
  rownames(out) <- NULL
  out[order(out$group, out$epoch), , drop = FALSE]
}

metric_title <- function(metric) {
  switch(metric,
         w1 = "exact W1 (generated vs held out)",
         w2 = "exact W2 (generated vs held out)",
         w1_critic = "critic estimate of W1",
         critic_loss = "critic loss",
         penalty = "critic penalty",
         grad_norm = "mean |grad phi| (penalty points)",
         euler_grad_norm = "mean |grad phi(G(z))| (Euler step)",
         fit_mse_first = "fit MSE (first persistent step)",
         fit_mse_last = "fit MSE (last persistent step)",
         metric)
}

axis_title <- function(axis) {
  if (axis == "epoch") "epoch" else "wall time (s)"
}

# Aesthetics from column names, without tidy evaluation.
aes_cols <- function(...) {
  args <- lapply(list(...), as.name)
  do.call(ggplot2::aes, args)
}

plot_runs <- function(d, settings, metric, x, color, facet, ribbon, title = NULL) {
  choices <- metric_columns(d[setdiff(names(d), settings)])
  if (length(choices) == 0) choices <- "w1"
  check_choice(metric, choices, "metric")
  x <- check_axes(x)
  ribbon <- match_ribbon(ribbon)
  for (col in settings) {
    if (is.list(d[[col]])) d[[col]] <- vapply(d[[col]], format_setting, character(1))
  }
  d$y <- as.double(d[[metric]])
  d <- d[!is.na(d$y), , drop = FALSE]
  if (nrow(d) == 0) {
    wf_abort(sprintf("Metric `%s` has no recorded values to plot.", metric),
             class = "wgflow_error_arg", arg = "metric")
  }
  varying <- settings[vapply(settings, function(s) {
    length(unique(d[[s]])) > 1L
  }, logical(1))]
  main <- setdiff(varying, replicate_columns)
  if (is.null(color)) {
    color <- if (length(main)) main[1] else NULL
  } else {
    color <- check_columns(color, settings, "color", allow_empty = FALSE)
    if (length(color) != 1L) arg_error("color", "a single setting name", color)
  }
  if (is.null(facet)) {
    facet <- main[!main %in% color & !vapply(main, nested_in, logical(1), d = d, a = color)]
  } else {
    facet <- check_columns(facet, settings, "facet")
  }
  group_cols <- unique(c(color, facet))
  s <- summarise_groups(d, group_cols)
  s$colour <- if (is.null(color)) factor("all") else sorted_factor(s[[color]])
  s$panel <- if (length(facet)) {
    lab <- do.call(paste, c(lapply(facet, function(f) paste(f, "=", s[[f]])), sep = ", "))
    ord <- do.call(order, unname(lapply(facet, function(f) s[[f]])))
    factor(lab, levels = unique(lab[ord]))
  } else {
    factor("all")
  }
  if (ribbon == "range") {
    s$lo <- s$min
    s$hi <- s$max
  } else if (ribbon == "sd") {
    s$lo <- s$y - s$sd
    s$hi <- s$y + s$sd
  }
  long <- do.call(rbind, lapply(x, function(ax) {
    out <- s
    out$xval <- as.double(s[[ax]])
    out$axis <- axis_title(ax)
    out
  }))
  long$axis <- factor(long$axis, levels = vapply(x, axis_title, character(1)))
  p <- ggplot2::ggplot(long, aes_cols(x = "xval", y = "y", colour = "colour",
                                      fill = "colour", group = "group"))
  has_spread <- ribbon != "none" && any(long$n > 1)
  if (has_spread) {
    rib <- long[long$n > 1 & !is.na(long$lo), , drop = FALSE]
    p <- p + ggplot2::geom_ribbon(data = rib, mapping = aes_cols(ymin = "lo", ymax = "hi"),
                                  alpha = 0.2, colour = NA)
  }
  p <- p + ggplot2::geom_line()
  per_group <- max(table(s$group))
  if (per_group <= 60) p <- p + ggplot2::geom_point(size = 1)
  by_axis <- length(x) > 1L
  if (by_axis && length(facet)) {
    p <- p + ggplot2::facet_grid(panel ~ axis, scales = "free_x", switch = "x")
  } else if (by_axis) {
    p <- p + ggplot2::facet_wrap(~axis, scales = "free_x", strip.position = "bottom")
  } else if (length(facet)) {
    p <- p + ggplot2::facet_wrap(~panel)
  }
  p <- p + ggplot2::labs(x = if (by_axis) NULL else axis_title(x), y = metric_title(metric),
                         title = title,
                         colour = color, fill = color)
  if (is.null(color)) {
    p <- p + ggplot2::scale_colour_manual(values = "black", guide = "none") +
      ggplot2::scale_fill_manual(values = "grey40", guide = "none")
  }
  p + ggplot2::theme_bw() +
    ggplot2::theme(strip.placement = "outside",
                   strip.background.x = if (by_axis) ggplot2::element_blank() else NULL)
}

match_ribbon <- function(ribbon) {
  if (identical(ribbon, c("range", "sd", "none"))) ribbon <- "range"
  check_choice(ribbon, c("range", "sd", "none"), "ribbon")
}

sorted_factor <- function(v) {
  if (is.numeric(v)) factor(v, levels = sort(unique(v))) else factor(v)
}

# ---- internals: base graphics ----------------------------------------------

fig1_colours <- c(data = "#1a9641", latent = "#d01c8b", generated = "black",
                  ray = "#8c8c8c80")

plot_fit_samples <- function(fit, n, seed, ...) {
  if (is.null(fit$data) || is.null(fit$generator)) {
    wf_abort("This fit has no `data` or no `generator` to draw samples from.",
             class = "wgflow_error_unsupported", arg = "what")
  }
  d <- ncol(fit$data)
  k <- fit$generator$input_dim
  idx <- unique(round(seq(1, nrow(fit$data), length.out = min(n, nrow(fit$data)))))
  xd <- fit$data[idx, , drop = FALSE]
  z <- with_seed(seed, matrix(stats::rnorm(n * k), n, k))
  gz <- stats::predict(fit, newdata = z)
  show_z <- k == d
  names_d <- fit$colnames %||% paste0("x", seq_len(d))
  dots <- list(...)
  if (d == 1L) {
    dens <- list(data = stats::density(xd[, 1]), generated = stats::density(gz[, 1]))
    if (show_z) dens$latent <- stats::density(z[, 1])
    args <- modify_args(list(x = NA, type = "n",
                              xlim = range(unlist(lapply(dens, `[[`, "x"))),
                              ylim = c(0, max(unlist(lapply(dens, `[[`, "y")))),
                              xlab = names_d[1], ylab = "density",
                              main = fit_label(fit)), dots)
    do.call(graphics::plot, args)
    for (nm in names(dens)) graphics::lines(dens[[nm]], col = fig1_colours[[nm]], lwd = 2)
    legend_names <- c(data = "data", latent = "z ~ N(0, I)", generated = "G(z)")
    graphics::legend("topright", legend = legend_names[names(dens)],
                     col = fig1_colours[names(dens)], lwd = 2, bty = "n", cex = 0.8)
    return(invisible())
  }
  pts <- rbind(xd[, 1:2], gz[, 1:2], if (show_z) z[, 1:2])
  sub <- character()
  if (d > 2L) sub <- c(sub, sprintf("first two of %d coordinates", d))
  if (!show_z) sub <- c(sub, sprintf("latent dimension %d: no rays", k))
  args <- modify_args(list(x = NA, type = "n", xlim = range(pts[, 1]),
                            ylim = range(pts[, 2]), asp = 1,
                            xlab = names_d[1], ylab = names_d[2],
                            main = fit_label(fit),
                            sub = if (length(sub)) paste(sub, collapse = "; ") else NULL),
                       dots)
  do.call(graphics::plot, args)
  if (show_z) {
    graphics::segments(z[, 1], z[, 2], gz[, 1], gz[, 2], col = fig1_colours[["ray"]],
                       lwd = 0.7)
  }
  if (show_z) {
    graphics::points(z[, 1], z[, 2], col = fig1_colours[["latent"]], pch = 16, cex = 0.45)
  }
  graphics::points(xd[, 1], xd[, 2], col = fig1_colours[["data"]], pch = 16, cex = 0.6)
  graphics::points(gz[, 1], gz[, 2], col = fig1_colours[["generated"]], pch = 16, cex = 0.35)
  keys <- c("data", if (show_z) c("latent", "ray"), "generated")
  labels <- c(data = "data", latent = "z ~ N(0, I)", ray = "z -> G(z)",
              generated = "G(z)")
  legend_args <- list("topright", legend = labels[keys], col = fig1_colours[keys],
                      pch = ifelse(keys == "ray", NA, 16), cex = 0.8, bg = "white",
                      box.col = "grey80")
  if (show_z) legend_args$lty <- ifelse(keys == "ray", 1, 0)
  do.call(graphics::legend, legend_args)
  invisible()
}

plot_fit_metrics <- function(fit, metric, ...) {
  m <- fit_metrics(fit)
  cols <- metric_columns(m)
  check_choice(metric, if (length(cols)) cols else "w1", "metric")
  keep <- !is.na(m[[metric]])
  if (!any(keep)) {
    wf_abort(sprintf("Metric `%s` has no recorded values to plot.", metric),
             class = "wgflow_error_arg", arg = "metric")
  }
  y <- m[[metric]][keep]
  old <- graphics::par(mfrow = c(1, 2))
  on.exit(graphics::par(old))
  type <- if (sum(keep) <= 60) "b" else "l"
  dots <- list(...)
  for (ax in c("epoch", "seconds")) {
    args <- modify_args(list(x = m[[ax]][keep], y = y, type = type, pch = 16,
                              cex = 0.6, xlab = axis_title(ax),
                              ylab = metric_title(metric),
                              main = fit_label(fit)), dots)
    do.call(graphics::plot, args)
  }
  invisible()
}

# `defaults` overridden by the user's graphical arguments.
modify_args <- function(defaults, dots) {
  for (nm in names(dots)) if (nzchar(nm)) defaults[nm] <- list(dots[[nm]])
  defaults
}
