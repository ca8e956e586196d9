# autoplot() methods (ggplot2, in Suggests) for fits and sweeps, and the
# helpers that turn fits and sweeps into runs, summarise their replicates
# and draw them.

# ---- autoplot (ggplot2) ----------------------------------------------------

#' Plot metrics against epochs and wall time with ggplot2
#'
#' `autoplot()` draws a metric (by default the first exact distance the
#' fit's algorithm evaluates: for W1-FE and WGAN, the exact W1 between
#' generated and held-out samples) against the training epoch and against the cumulative
#' training wall time, side by side, as in Figure 2 of Malik & Huang.
#'
#' For one fit this is its curve, with a band of plus and minus one
#' standard error where the evaluation records one (`w1_se`), and a dotted
#' line at the sampling floor (what a model drawing exactly from the data's
#' law would score at this evaluation size; see [wf_floor()]); a sweep or
#' several fits get the floor line too (the mean of their runs' floors).
#' Further fits in `...` (or lists of fits)
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
#' @param metric The metric column to plot: one of the fit's `$metrics`
#'   columns (for W1-FE: "w1", "w2", "w1_critic", "critic_loss",
#'   "fit_mse_last", ...). `NULL`, for a fit, takes the first exact distance
#'   its algorithm evaluates ("w1" for W1-FE); a sweep's default is "w1".
#' @param x The horizontal axes: "epoch", "seconds" (wall time) or both
#'   (the default, one panel each).
#' @param color The setting to colour curves by; `NULL` takes the first
#'   setting that varies (other than the seed).
#' @param facet Settings to draw in separate panels; `NULL` takes the
#'   settings that vary and are not determined by `color` (other than the
#'   seed), `character(0)` none.
#' @param ribbon The spread over replicates: "range" (minimum to maximum),
#'   "sd" (mean plus and minus one standard deviation) or "none". A curve
#'   without replicates gets plus and minus one standard error of its
#'   evaluations (unless "none").
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
autoplot.wf_fit <- function(object, ..., metric = NULL, x = c("epoch", "seconds"),
                            color = NULL, facet = NULL,
                            ribbon = c("range", "sd", "none")) {
  plot_fits(collect_fits(object, ...), metric, x, color, facet, ribbon)
}

plot_fits <- function(fits, metric, x, color, facet, ribbon) {
  need_ggplot2()
  for (i in seq_along(fits)) {
    arg <- if (i == 1L) "object" else "..."
    check_fit(fits[[i]], arg)
    if (nrow(fit_metrics(fits[[i]])) == 0L) {
      wf_abort(sprintf("`%s` has no recorded epochs to plot (its `metrics` are %s).", arg,
                       if (is.null(fits[[i]]$metrics)) "missing" else "empty"),
               class = "wgflow_error_arg", arg = arg)
    }
  }
  if (is.null(metric)) metric <- fit_eval_metrics(fits[[1]])[1]
  r <- as_runs(fits)
  d <- fits_as_runs(fits)
  plot_runs(d$data, d$settings, metric, x, color, facet, ribbon,
            title = if (length(fits) == 1L) fit_label(fits[[1]]) else NULL,
            floors = r$floors)
}

#' @rdname autoplot.wf_fit
#' @method autoplot wf_fits
#' @rawNamespace S3method(ggplot2::autoplot, wf_fits)
autoplot.wf_fits <- function(object, ..., metric = NULL, x = c("epoch", "seconds"),
                             color = NULL, facet = NULL,
                             ribbon = c("range", "sd", "none")) {
  plot_fits(collect_fits(object, ...), metric, x, color, facet, ribbon)
}

#' @rdname autoplot.wf_fit
#' @method autoplot wf_sweep
#' @rawNamespace S3method(ggplot2::autoplot, wf_sweep)
autoplot.wf_sweep <- function(object, ..., metric = NULL, x = c("epoch", "seconds"),
                              color = NULL, facet = NULL,
                              ribbon = c("range", "sd", "none")) {
  need_ggplot2()
  if (!is.data.frame(object) || !all(c("epoch", "seconds") %in% names(object))) {
    arg_error("object", "a wf_sweep tibble with columns `epoch` and `seconds`", object)
  }
  d <- as.data.frame(object)
  if (is.null(metric)) metric <- (attr(object, "eval_metrics") %||% "w1")[1]
  plot_runs(d, sweep_settings(object), metric, x, color, facet, ribbon,
            floors = attr(object, "floors"))
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
  keys <- unique(c(unlist(lapply(fits, function(f) fit_algorithm(f)$setting_keys)),
                   "seed"))
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
    list(metrics = m, settings = set, status = f$status %||% NA_character_)
  })
  cols <- unique(unlist(lapply(parts, function(p) names(p$metrics))))
  settings <- c(if (named) "fit", "label", "algorithm", keys)
  data <- do.call(rbind, lapply(parts, function(p) {
    m <- p$metrics
    for (col in setdiff(cols, names(m))) m[[col]] <- rep(NA_real_, nrow(m))
    m <- rename_clashes(m[cols], settings)
    for (k in settings) m[[k]] <- rep(p$settings[[k]], nrow(m))
    # each row carries its run's status, as a sweep's rows do
    m$status <- rep(p$status, nrow(m))
    m
  }))
  # one row of settings per fit (in the order of `fits`)
  keys <- do.call(rbind, lapply(parts, function(p) {
    as.data.frame(p$settings[settings], stringsAsFactors = FALSE)
  }))
  list(data = data, settings = settings, keys = keys)
}

replicate_columns <- c("seed", "replicate", "rep", "run")

# Setting columns of a sweep tibble (see the autoplot documentation).
sweep_settings <- function(x) {
  attr_set <- attr(x, "settings")
  if (is.character(attr_set)) return(intersect(attr_set, names(x)))
  known <- c("epoch", "seconds", "status", "message", known_metrics())
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
    out$se <- if (length(y) == 1L) d$se[i] else NA_real_
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

# Aesthetics from column names, without tidy evaluation.
aes_cols <- function(...) {
  args <- lapply(list(...), as.name)
  do.call(ggplot2::aes, args)
}

plot_runs <- function(d, settings, metric, x, color, facet, ribbon, title = NULL,
                      floors = NULL) {
  choices <- metric_columns(d[setdiff(names(d), settings)])
  if (length(choices) == 0) choices <- "w1"
  check_choice(metric, choices, "metric")
  x <- check_axes(x)
  ribbon <- match_ribbon(ribbon)
  for (col in settings) {
    if (is.list(d[[col]])) d[[col]] <- vapply(d[[col]], format_setting, character(1))
  }
  d$y <- as.double(d[[metric]])
  se_col <- paste0(metric, "_se")
  d$se <- if (se_col %in% names(d)) as.double(d[[se_col]]) else NA_real_
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
  # a curve without replicates: plus and minus one standard error
  single <- ribbon != "none" & s$n == 1L & !is.na(s$se)
  if (any(single)) {
    s$lo[single] <- s$y[single] - s$se[single]
    s$hi[single] <- s$y[single] + s$se[single]
    s$n[single] <- 2L # drawn as a band
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
  floor_y <- mean_floor(floors, metric)
  if (!is.na(floor_y)) {
    p <- p + ggplot2::geom_hline(yintercept = floor_y, linetype = "dotted",
                                 colour = "grey30")
  }
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
                         caption = if (!is.na(floor_y)) sprintf(
                           "dotted: sampling floor %s (a perfect model's score)",
                           format(floor_y, digits = 3)) else NULL,
                         colour = color, fill = color)
  if (is.null(color)) {
    p <- p + ggplot2::scale_colour_manual(values = "black", guide = "none") +
      ggplot2::scale_fill_manual(values = "grey40", guide = "none")
  }
  p + ggplot2::theme_bw() +
    ggplot2::theme(strip.placement = "outside",
                   strip.background.x = if (by_axis) ggplot2::element_blank() else NULL)
}

# The mean of the runs' sampling floors of `metric` (NA if none).
mean_floor <- function(floors, metric) {
  if (!is.data.frame(floors) || !all(c("metric", "floor") %in% names(floors))) return(NA_real_)
  v <- floors$floor[floors$metric == metric]
  if (length(v) == 0L) NA_real_ else mean(v)
}

match_ribbon <- function(ribbon) {
  if (identical(ribbon, c("range", "sd", "none"))) ribbon <- "range"
  check_choice(ribbon, c("range", "sd", "none"), "ribbon")
}

sorted_factor <- function(v) {
  if (is.numeric(v)) factor(v, levels = sort(unique(v))) else factor(v)
}

#' @rdname wf_survival
#' @param object A `wf_survival` object.
#' @method autoplot wf_survival
#' @rawNamespace S3method(ggplot2::autoplot, wf_survival)
autoplot.wf_survival <- function(object, ...) {
  need_ggplot2()
  d <- as.data.frame(object)
  # one curve per setting, in the order of its values (1, 3, 10)
  d$curve <- km_curves(d, attr(object, "by"))
  # censored runs: a tick on the curve at their times, as survival's plot
  censored <- d[d$n.censor > 0, , drop = FALSE]
  # steps to the end of the longest curve
  ends <- do.call(rbind, lapply(split(d, d$curve), function(g) {
    last <- g[nrow(g), , drop = FALSE]
    last$time <- max(d$time)
    last
  }))
  d <- rbind(d, ends)
  p <- ggplot2::ggplot(d, aes_cols(x = "time", y = "estimate", colour = "curve", fill = "curve")) +
    ggplot2::geom_step(mapping = aes_cols(y = "conf.low"), linetype = "dotted") +
    ggplot2::geom_step(mapping = aes_cols(y = "conf.high"), linetype = "dotted") +
    ggplot2::geom_step(linewidth = 0.9)
  if (nrow(censored)) {
    p <- p + ggplot2::geom_point(data = censored, shape = 3, size = 2, show.legend = FALSE)
  }
  p + ggplot2::coord_cartesian(ylim = c(0, 1)) +
    ggplot2::labs(x = attr(object, "time"),
                  y = sprintf("P(%s not yet <= %s)", attr(object, "metric"),
                              format(attr(object, "threshold"))),
                  colour = NULL, fill = NULL,
                  title = "Time to threshold (Kaplan-Meier)",
                  caption = sprintf("dotted: %g%% pointwise intervals%s", 100 * attr(object, "conf"),
                                    if (nrow(censored)) "; +: censored runs" else "")) +
    ggplot2::theme_bw()
}
