# Statistics of convergence: a sweep (or fits) as runs, and per-run
# summaries (final, best, area under the curve, the time to a threshold as
# a censored time-to-event). Their Kaplan-Meier curves are in survival.R,
# comparisons between settings in compare.R, the sampling floor in floor.R.

# ---- runs: a sweep, fits or a data frame as one long table -------------------

# x: a wf_sweep, a fit, a list of fits (or wf_fits), or a data frame of
# per-epoch rows (settings columns, a `seed` column if there are
# replicates, `epoch`, `seconds` and metric columns). Returns list(data,
# settings (the setting columns, seed last if present), eval (the exact
# metrics, main first), floors (a data frame of settings + metric, floor,
# floor_sd, n, or NULL)).
as_runs <- function(x, settings = NULL, arg = "x") {
  if (inherits(x, "wf_fit")) x <- list(x)
  if (is_fit_list(x)) {
    fits <- collect_fits(x)
    d <- fits_as_runs(fits)
    floors <- do.call(rbind, lapply(seq_along(fits), function(i) {
      fl <- fits[[i]]$floor
      if (!is.data.frame(fl) || nrow(fl) == 0L) return(NULL)
      key <- d$keys[i, , drop = FALSE]
      cbind(key[rep(1L, nrow(fl)), , drop = FALSE], as.data.frame(fl))
    }))
    data <- d$data
    # settings that do not vary (the algorithm, unused keys) are dropped
    keep <- d$settings[vapply(d$settings, function(s) {
      s == "seed" || length(unique(data[[s]])) > 1L
    }, logical(1))]
    if (length(setdiff(keep, "seed")) == 0L) keep <- c("label", keep)
    data <- data[setdiff(names(data), setdiff(d$settings, keep))]
    return(list(data = data, settings = unique(c(setdiff(keep, "seed"), "seed")),
                eval = fit_eval_metrics(fits[[1]]), floors = floors))
  }
  if (!is.data.frame(x)) {
    arg_error(arg, "a wf_sweep, a fit, a list of fits or a data frame of per-epoch metrics", x)
  }
  if (!all(c("epoch", "seconds") %in% names(x))) {
    arg_error(arg, "a data frame with columns `epoch` and `seconds`", x)
  }
  if (is.null(settings)) {
    settings <- sweep_settings(x)
  } else {
    check_columns(settings, names(x), "settings")
  }
  data <- as.data.frame(x)
  for (s in settings) {
    if (is.list(data[[s]])) data[[s]] <- vapply(data[[s]], format_setting, character(1))
  }
  eval <- attr(x, "eval_metrics") %||%
    intersect(c("w1", "w2"), names(x)) %||% character()
  if (length(eval) == 0L) eval <- metric_columns(data[setdiff(names(data), settings)])[1]
  settings <- c(setdiff(settings, "seed"), intersect("seed", settings))
  list(data = data, settings = settings, eval = eval, floors = attr(x, "floors"))
}

is_fit_list <- function(x) {
  is.list(x) && !is.data.frame(x) && !inherits(x, "wf_fit") && length(x) > 0L &&
    all(vapply(x, inherits, logical(1), "wf_fit"))
}

# One id per run: the combination of its settings (with the seed). A run
# restarting its epochs is another run too.
run_ids <- function(d, settings) {
  key <- if (length(settings)) do.call(paste, c(lapply(d[settings], as.character), sep = "\r"))
    else rep("", nrow(d))
  restart <- c(TRUE, key[-1L] != key[-length(key)] | diff(d$epoch) <= 0)
  cumsum(restart)
}

# ---- per-run summaries ---------------------------------------------------------

#' Convergence summaries of runs
#'
#' Turns a sweep ([wf_sweep()]), a list of fits or a data frame of per-epoch
#' metrics into one row per run: how far it got, where it ended, the area
#' under its curve and, given a `threshold`, when it first reached it. The
#' time to the threshold is a time-to-event: a run that never reaches it is
#' *censored* at its last evaluation (`reached = FALSE`), not dropped, so
#' [wf_survival()] (Kaplan-Meier curves) and [wf_compare()] (restricted
#' mean times, log-rank test) use it correctly.
#'
#' Runs are told apart by their settings (for a sweep, its grid's columns
#' and `seed`; for fits, the settings their algorithm names, their label and
#' seed; for a data frame, `settings` or the columns that are constant
#' within each run).
#'
#' @param x A `wf_sweep`, a fit, a list of fits, or a data frame with
#'   columns `epoch`, `seconds`, the metric and the settings.
#' @param threshold `NULL`, or the value of `metric` to reach (at or below).
#' @param metric The metric (smaller is better); `NULL` takes the main exact
#'   distance (`"w1"` for W1-FE).
#' @param settings For a data frame: the columns that identify a run's
#'   setting (with `seed` for replicates); `NULL` guesses them.
#' @param times The time scales of the time to threshold: columns of the
#'   per-epoch data that grow within a run (`"epoch"`, `"seconds"`, or a
#'   column you add, e.g. a load-free clock).
#' @return A tibble of class `wf_convergence`, one row per run: the
#'   settings, `status`, `evaluations` (how many evaluations), `epochs` and
#'   `seconds` (at the run's end), `final` (the last evaluation of
#'   `metric`), `final_se` (its standard error, when recorded), `best` (the
#'   lowest evaluation, biased low by noise) and `best_epoch`, `auc` (the
#'   area under the metric's curve against the epoch, from the first to the
#'   last evaluation, divided by that span: the curve's mean), and with a
#'   `threshold`: `reached` (whether the run reached it) and for each of
#'   `times` a column `<time>_to_threshold`: the time of the first
#'   evaluation at or below the threshold, or the time of the last
#'   evaluation where it was not reached (censored). Attributes: `settings`,
#'   `metric`, `threshold`, `times`, `floors`.
#' @seealso [wf_survival()], [wf_compare()], [wf_floor()].
#' @references Kaplan, E. L. and Meier, P. (1958). Nonparametric estimation
#'   from incomplete observations. *Journal of the American Statistical
#'   Association* 53, 457-481.
#' @export
#' @examples
#' x <- wf_toy("8gaussians", n = 1000, seed = 1)
#' sw <- wf_sweep(x, data.frame(persistency = c(1, 3)), seeds = 1:3, epochs = 4,
#'                batch_size = 64, critic = wf_mlp(16), generator = wf_mlp(16),
#'                eval_every = 1, eval_n = 100)
#' conv <- wf_convergence(sw, threshold = 1.2)
#' conv
wf_convergence <- function(x, threshold = NULL, metric = NULL, settings = NULL,
                           times = c("epoch", "seconds")) {
  r <- as_runs(x, settings)
  d <- r$data
  metric <- metric %||% r$eval[1]
  check_choice(metric, metric_columns(d[setdiff(names(d), r$settings)]), "metric")
  if (!is.null(threshold)) threshold <- check_number(threshold, "threshold")
  if (!is.character(times) || length(times) == 0L || anyNA(times) ||
      !all(times %in% names(d)) ||
      !all(vapply(d[times], is.numeric, logical(1)))) {
    arg_error("times", "names of numeric columns such as \"epoch\" and \"seconds\"", times)
  }
  times <- unique(times)
  d <- d[!is.na(d$epoch), , drop = FALSE]
  id <- run_ids(d, r$settings)
  se_col <- paste0(metric, "_se")
  rows <- lapply(split(seq_len(nrow(d)), id), function(i) {
    run <- d[i, , drop = FALSE]
    run <- run[order(run$epoch), , drop = FALSE]
    v <- run[[metric]]
    ev <- which(!is.na(v))
    out <- run[1L, r$settings, drop = FALSE]
    out$status <- if ("status" %in% names(run)) as.character(run$status[nrow(run)]) else NA_character_
    out$evaluations <- length(ev)
    out$epochs <- max(run$epoch)
    out$seconds <- max(run$seconds)
    last <- if (length(ev)) ev[length(ev)] else NA_integer_
    out$final <- if (length(ev)) v[last] else NA_real_
    if (se_col %in% names(run)) out$final_se <- if (length(ev)) run[[se_col]][last] else NA_real_
    b <- if (length(ev)) ev[which.min(v[ev])] else NA_integer_
    out$best <- if (length(ev)) v[b] else NA_real_
    out$best_epoch <- if (length(ev)) run$epoch[b] else NA_integer_
    out$auc <- curve_mean(run$epoch[ev], v[ev])
    if (!is.null(threshold)) {
      hit <- ev[v[ev] <= threshold]
      out$reached <- length(hit) > 0L
      at <- if (length(hit)) hit[1L] else last
      for (t in times) out[[paste0(t, "_to_threshold")]] <- if (is.na(at)) NA_real_ else
        as.double(run[[t]][at])
    }
    out
  })
  out <- tibble::as_tibble(do.call(rbind, rows))
  attr(out, "settings") <- r$settings
  attr(out, "metric") <- metric
  attr(out, "threshold") <- threshold
  attr(out, "times") <- if (is.null(threshold)) character() else times
  attr(out, "floors") <- r$floors
  class(out) <- c("wf_convergence", class(out))
  out
}

# The mean of a curve: trapezoid area over its span (one point: its value).
curve_mean <- function(x, y) {
  if (length(x) == 0L) return(NA_real_)
  if (length(x) == 1L || x[length(x)] == x[1L]) return(mean(y))
  sum(diff(x) * (y[-1L] + y[-length(y)]) / 2) / (x[length(x)] - x[1L])
}

#' @export
print.wf_convergence <- function(x, ...) {
  th <- attr(x, "threshold")
  cat(sprintf("<wf_convergence> %d runs; metric %s%s\n", nrow(x), attr(x, "metric"),
              if (is.null(th)) "" else sprintf(", threshold %s (%d reached it)",
                                               format(th), sum(x$reached, na.rm = TRUE))))
  print(tibble::as_tibble(strip_class(x, "wf_convergence")), ...)
  invisible(x)
}

strip_class <- function(x, cls) {
  class(x) <- setdiff(class(x), cls)
  x
}

# ---- checks shared by the statistics of runs (survival.R, compare.R) ------------

check_conv <- function(conv, need_threshold = FALSE) {
  if (!inherits(conv, "wf_convergence")) {
    arg_error("conv", "a result of wf_convergence()", conv)
  }
  if (need_threshold && is.null(attr(conv, "threshold"))) {
    wf_abort("`conv` has no time to threshold: call wf_convergence() with a `threshold`.",
             class = "wgflow_error_arg", arg = "conv")
  }
  conv
}

# The settings (other than the seed) that vary, or the user's choice.
check_by <- function(conv, by, several) {
  settings <- setdiff(attr(conv, "settings"), "seed")
  if (is.null(by)) {
    varying <- settings[vapply(settings, function(s) length(unique(conv[[s]])) > 1L,
                               logical(1))]
    if (several) return(varying)
    if (length(varying) == 0L) {
      wf_abort("No setting varies between the runs: there is nothing to compare.",
               class = "wgflow_error_arg", arg = "by")
    }
    return(varying[1L])
  }
  check_columns(by, settings, "by", allow_empty = several)
  if (!several && length(by) != 1L) arg_error("by", "a single setting name", by)
  by
}

split_groups <- function(d, cols) {
  if (length(cols) == 0L) return(list(d))
  key <- do.call(paste, c(lapply(d[cols], as.character), sep = "\r"))
  groups <- split(seq_len(nrow(d)), factor(key, levels = unique(key)))
  lapply(groups, function(i) d[i, , drop = FALSE])
}
