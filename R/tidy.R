# tidy() and glance() methods (generics from the generics package) for
# fits, sweeps and lists of fits, and the wf_fits() list class.

# ---- tidy and glance of a fit ------------------------------------------------

#' Tidy a fit's metrics
#'
#' `tidy()` gives a fit's per-epoch metrics in long form, one row per epoch
#' and metric, without the missing values (the exact distances are recorded
#' only every `eval_every` epochs), with the standard error of each exact
#' distance. `glance()` gives one row per fit: its settings, training time,
#' final and lowest exact distances with their standard errors, their
#' sampling floors, and status.
#'
#' The lowest evaluation (`best_w1` for W1-FE) is the minimum over noisy
#' evaluations, so it is biased low: compare it with its standard error
#' (`best_w1_se`) and with the floor (`w1_floor`), and prefer the last
#' value (`w1`) or [wf_convergence()]'s `auc` to rank runs.
#'
#' @param x A fit from [w1fe()], [wgan()] or another wgflow trainer.
#' @param ... Unused.
#' @return `tidy()`: a tibble with columns `epoch`, `seconds` (cumulative
#'   training time), `metric`, `value` and `std.error` (for exact distances
#'   whose evaluation records one, e.g. `w1_se`; `NA` otherwise).
#'   `glance()`: a one-row tibble with `algorithm`, `label` (e.g. "W1-FE-LP
#'   (K = 3)"), the settings that tell runs of the algorithm apart (for
#'   W1-FE: `penalty`, `persistency`, `persistency_mode`, `step_size`,
#'   `batch_size`, `critic_steps`, `lambda`), `epochs` (done), `seconds`,
#'   then for each exact distance the algorithm evaluates (for W1-FE and
#'   WGAN: W1, then W2): its last value (`w1`), standard error (`w1_se`),
#'   for the first one the lowest value (`best_w1`), its epoch
#'   (`best_epoch`) and standard error (`best_w1_se`), and its sampling
#'   floor (`w1_floor`, `w1_floor_sd`; see [wf_floor()]); the standard
#'   error and floor columns appear when the fit has them. Then `status`,
#'   `device` and `seed`.
#' @seealso [autoplot.wf_fit()] to plot the metrics; [tidy.wf_sweep()] for
#'   sweeps and lists of fits.
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
  check_fit(x, "x")
  tidy_metrics(fit_metrics(x))
}

# Long form of a metrics table: epoch, seconds, metric, value, std.error.
tidy_metrics <- function(m) {
  cols <- metric_columns(m)
  n <- nrow(m)
  if (n == 0 || length(cols) == 0) {
    return(tibble::tibble(epoch = integer(), seconds = double(), metric = character(),
                          value = double(), std.error = double()))
  }
  vals <- as.matrix(as.data.frame(m)[cols])
  ses <- vapply(cols, function(col) {
    se <- m[[paste0(col, "_se")]]
    if (is.null(se)) rep(NA_real_, n) else as.double(se)
  }, double(n))
  ses <- matrix(ses, nrow = n)
  out <- tibble::tibble(
    epoch = rep(m$epoch, each = length(cols)),
    seconds = rep(as.double(m$seconds), each = length(cols)),
    metric = rep(cols, times = n),
    value = as.vector(t(vals)),
    std.error = as.vector(t(ses))
  )
  out[!is.na(out$value), , drop = FALSE]
}

#' @rdname tidy.wf_fit
#' @importFrom generics glance
#' @method glance wf_fit
#' @export
glance.wf_fit <- function(x, ...) {
  check_fit(x, "x")
  m <- fit_metrics(x)
  s <- x$settings
  evals <- fit_eval_metrics(x)
  distances <- list()
  for (k in seq_along(evals)) {
    e <- evals[k]
    v <- if (e %in% names(m)) m[[e]] else rep(NA_real_, nrow(m))
    se <- m[[paste0(e, "_se")]]
    distances[[e]] <- last_value(v)
    if (!is.null(se)) distances[[paste0(e, "_se")]] <- se_at(se, last_index(v))
    if (k == 1L) {
      best <- best_index(v)
      distances[[paste0("best_", e)]] <- if (is.na(best)) NA_real_ else as.double(v[best])
      distances$best_epoch <- if (is.na(best)) NA_integer_ else as.integer(m$epoch[best])
      if (!is.null(se)) distances[[paste0("best_", e, "_se")]] <- se_at(se, best)
    }
    fl <- fit_floor(x, e)
    if (!is.null(fl)) {
      distances[[paste0(e, "_floor")]] <- as.double(fl$floor)
      distances[[paste0(e, "_floor_sd")]] <- as.double(fl$floor_sd)
    }
  }
  keys <- fit_algorithm(x)$setting_keys
  settings <- lapply(stats::setNames(keys, keys), function(k) {
    v <- s[[k]]
    if (is.atomic(v) && length(v) == 1L) v else NA
  })
  tibble::as_tibble(c(
    list(algorithm = x$algorithm %||% NA_character_, label = fit_label(x)),
    settings,
    list(epochs = epochs_done(x), seconds = training_seconds(x)),
    distances,
    list(status = x$status %||% NA_character_, device = s$device %||% NA_character_,
         seed = as.double(s$seed %||% NA_real_))
  ))
}

se_at <- function(se, i) if (is.na(i)) NA_real_ else as.double(se[i])

# ---- sweeps and lists of fits --------------------------------------------------

#' Tidy, glance at, summarise and plot sweeps and lists of fits
#'
#' The broom and ggplot2 verbs for many runs: a sweep from [wf_sweep()], or
#' several fits gathered by `wf_fits(f1, f2)`.
#'
#' * `tidy()`: every run's metrics in long form, one row per run, epoch and
#'   metric (with `std.error` for exact distances), led by the run's
#'   settings.
#' * `glance()`: one row per run, as [glance.wf_fit()] for fits; for a
#'   sweep, the run's settings, `status`, `epochs`, `seconds` and the
#'   summaries of [wf_convergence()] for its main exact distance (`final`,
#'   `final_se`, `best`, `best_epoch`, `auc`) with its sampling floor.
#' * `summary()`: one row per setting (over its seeds): runs, how they
#'   ended, and the mean and standard deviation over runs of the final
#'   and lowest values and of the area under the curve, with the floor;
#'   its print method says how to compare settings ([wf_compare()]).
#' * `autoplot()` ([autoplot.wf_fit()]) draws the curves, a mean and band
#'   per setting.
#'
#' `wf_fits()` makes a list of fits of class `wf_fits`, for which these
#' methods are found (`tidy(wf_fits(f1, f2))`). wgflow registers no methods
#' for plain lists: they would change `summary()` and broom's `tidy()` of
#' every list in the session.
#'
#' @param x,object A `wf_sweep` or a `wf_fits`.
#' @param ... Fits, or lists of fits (`wf_fits()`); unused by the methods.
#' @return Tibbles; `summary()` one of class `summary.wf_runs`.
#' @seealso [wf_convergence()], [wf_compare()].
#' @name tidy.wf_sweep
#' @examples
#' x <- wf_toy("8gaussians", n = 1000, seed = 1)
#' sw <- wf_sweep(x, data.frame(persistency = c(1, 3)), seeds = 1:2, epochs = 3,
#'                batch_size = 64, critic = wf_mlp(16), generator = wf_mlp(16),
#'                eval_every = 1, eval_n = 100, keep_fits = TRUE)
#' tidy(sw)
#' glance(sw)
#' summary(sw)
#' fits <- attr(sw, "fits")
#' glance(fits)
#' summary(wf_fits(fits[[1]], fits[[3]]))
NULL

#' @rdname tidy.wf_sweep
#' @export
wf_fits <- function(...) {
  fits <- collect_fits(list(...))
  structure(fits, class = c("wf_fits", "list"))
}

#' @export
print.wf_fits <- function(x, ...) {
  cat(sprintf("<wf_fits> %d fits\n", length(x)))
  labels <- vapply(x, fit_label, character(1))
  nm <- names(x)
  if (is.null(nm)) nm <- rep("", length(x))
  for (i in seq_along(x)) {
    cat(sprintf("  %s%s: %s, %d epochs, %s\n", if (nzchar(nm[i])) paste0(nm[i], " ") else "",
                labels[i], x[[i]]$status %||% "?", epochs_done(x[[i]]),
                format_main(x[[i]])))
  }
  invisible(x)
}

format_main <- function(fit) {
  e <- fit_eval_metrics(fit)[1]
  v <- last_value(fit_metrics(fit)[[e]] %||% NA_real_)
  sprintf("%s %s", toupper(e), format(v, digits = 3))
}

#' @rdname tidy.wf_sweep
#' @method tidy wf_sweep
#' @export
tidy.wf_sweep <- function(x, ...) tidy_runs(as_runs(x))

#' @rdname tidy.wf_sweep
#' @method glance wf_sweep
#' @export
glance.wf_sweep <- function(x, ...) {
  r <- as_runs(x)
  conv <- wf_convergence(x)
  out <- strip_class(conv, "wf_convergence")
  fl <- r$floors
  metric <- attr(conv, "metric")
  if (is.data.frame(fl) && nrow(fl) > 0L) {
    fl <- fl[fl$metric == metric, , drop = FALSE]
    key <- function(d) do.call(paste, c(lapply(d[r$settings], as.character), sep = "\r"))
    i <- match(key(out), key(fl))
    out$floor <- fl$floor[i]
    out$floor_sd <- fl$floor_sd[i]
  }
  attributes(out)[c("settings", "metric", "threshold", "times", "floors")] <- NULL
  out$metric <- metric
  tibble::as_tibble(out)
}

#' @rdname tidy.wf_sweep
#' @method tidy wf_fits
#' @export
tidy.wf_fits <- function(x, ...) {
  fits <- collect_fits(x)
  r <- as_runs(fits)
  keys <- fits_as_runs(fits)$keys[setdiff(r$settings, character())]
  parts <- lapply(seq_along(fits), function(i) {
    long <- tidy.wf_fit(fits[[i]])
    key <- keys[rep(i, nrow(long)), , drop = FALSE]
    rownames(key) <- NULL
    cbind(key, status = rep(fits[[i]]$status %||% NA_character_, nrow(long)),
          as.data.frame(long), stringsAsFactors = FALSE)
  })
  tibble::as_tibble(do.call(rbind, parts))
}

#' @rdname tidy.wf_sweep
#' @method glance wf_fits
#' @export
glance.wf_fits <- function(x, ...) {
  fits <- collect_fits(x)
  rows <- lapply(fits, glance.wf_fit)
  nm <- names(fits)
  out <- bind_fill(lapply(rows, as.data.frame))
  if (any(nzchar(nm))) out <- cbind(fit = nm, out, stringsAsFactors = FALSE)
  tibble::as_tibble(out)
}

tidy_runs <- function(r) {
  d <- r$data
  d <- d[!is.na(d$epoch), , drop = FALSE]
  id <- run_ids(d, r$settings)
  parts <- lapply(split(seq_len(nrow(d)), id), function(i) {
    run <- d[i, , drop = FALSE]
    m <- run[setdiff(names(run), c(r$settings, "status", "message"))]
    long <- tidy_metrics(m)
    key <- run[rep(1L, nrow(long)), intersect(c(r$settings, "status"), names(run)),
               drop = FALSE]
    rownames(key) <- NULL
    cbind(key, as.data.frame(long))
  })
  tibble::as_tibble(do.call(rbind, parts))
}

# ---- summaries of many runs ------------------------------------------------------

#' @rdname tidy.wf_sweep
#' @export
summary.wf_sweep <- function(object, ...) summarise_runs(object)

#' @rdname tidy.wf_sweep
#' @export
summary.wf_fits <- function(object, ...) summarise_runs(object)

summarise_runs <- function(x) {
  conv <- wf_convergence(x)
  settings <- setdiff(attr(conv, "settings"), "seed")
  groups <- split_groups(conv, settings)
  fl <- attr(conv, "floors")
  metric <- attr(conv, "metric")
  msd <- function(v) c(mean(v, na.rm = TRUE), if (sum(!is.na(v)) > 1) stats::sd(v, na.rm = TRUE) else NA)
  rows <- lapply(groups, function(g) {
    out <- g[1L, settings, drop = FALSE]
    rownames(out) <- NULL
    out$runs <- nrow(g)
    out$completed <- sum(g$status %in% "completed")
    out$diverged <- sum(g$status %in% "diverged")
    f <- msd(g$final)
    out$final_mean <- f[1]
    out$final_sd <- f[2]
    b <- msd(g$best)
    out$best_mean <- b[1]
    out$best_sd <- b[2]
    a <- msd(g$auc)
    out$auc_mean <- a[1]
    out$auc_sd <- a[2]
    if (is.data.frame(fl) && nrow(fl) > 0L) {
      sub <- fl[fl$metric == metric, , drop = FALSE]
      if (length(settings)) {
        k <- do.call(paste, c(lapply(sub[settings], as.character), sep = "\r"))
        sub <- sub[k == do.call(paste, c(lapply(out[settings], as.character), sep = "\r")), ,
                   drop = FALSE]
      }
      out$floor <- if (nrow(sub)) mean(sub$floor) else NA_real_
    }
    out
  })
  tab <- tibble::as_tibble(bind_fill(rows))
  structure(list(table = tab, metric = metric, settings = settings, runs = nrow(conv)),
            class = "summary.wf_runs")
}

#' @export
print.summary.wf_runs <- function(x, ...) {
  cat(sprintf("%d runs; %s by setting (mean and sd over seeds):\n", x$runs, x$metric))
  print(x$table, ...)
  cat(sprintf(paste0("final: the last %s; best: the lowest (biased low); auc: the curve's mean; ",
                     "floor: what a perfect model scores.\nCompare settings with ",
                     "wf_compare(wf_convergence(x, threshold = ...)).\n"), x$metric))
  invisible(x)
}
