# Statistics of convergence: per-run summaries of a sweep (or of fits), the
# time to a threshold as a censored time-to-event (Kaplan-Meier curves),
# comparisons between settings with bootstrap intervals over seeds and a
# test, and the sampling floor of an exact distance.

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

# ---- Kaplan-Meier curves ---------------------------------------------------------

#' Kaplan-Meier curves of the time to a threshold
#'
#' For each setting, the Kaplan-Meier estimate of the probability that a
#' run has *not yet* reached the threshold of [wf_convergence()] by time
#' `t` (so it falls from 1 as runs reach it; runs that never reach it are
#' censored at their last evaluation), with pointwise confidence intervals
#' (Greenwood's variance on the log(-log) scale) and the median time,
#' computed by [survival::survfit()]. `autoplot()` and `plot()` draw the
#' step curves, with a tick at each censoring time, one curve per setting
#' (in numeric order for a numeric setting).
#'
#' @param conv A [wf_convergence()] result with a threshold.
#' @param time The time scale: one of the `times` of `conv` ("epoch",
#'   "seconds", ...).
#' @param by The settings whose combinations get a curve each; `NULL`: every
#'   setting but the seed that varies.
#' @param conf The confidence level.
#' @return A tibble of class `wf_survival` in broom's terms (as
#'   `broom::tidy()` of a `survfit`): the `by` columns, `time`, `n.risk`,
#'   `n.event`, `n.censor`, `estimate` (the probability of not having
#'   reached the threshold yet), `std.error` (Greenwood's standard error of
#'   `estimate`; `NA` where it has fallen to 0), `conf.low` and `conf.high`,
#'   one row per distinct time (and a first row at time 0 with `estimate`
#'   1). Attribute `medians`: one row per curve with the `by` columns,
#'   `runs`, `events` (runs that reached the threshold), `median` (the
#'   median time) and its confidence interval `conf.low`, `conf.high`
#'   (`NA` where the curve, or its bound, does not fall to a half).
#' @references Kaplan, E. L. and Meier, P. (1958). Nonparametric estimation
#'   from incomplete observations. *Journal of the American Statistical
#'   Association* 53, 457-481.
#'
#'   Therneau, T. M. and Grambsch, P. M. (2000). *Modeling Survival Data:
#'   Extending the Cox Model*. Springer.
#' @seealso [wf_compare()].
#' @export
#' @examples
#' x <- wf_toy("8gaussians", n = 1000, seed = 1)
#' sw <- wf_sweep(x, data.frame(persistency = c(1, 3)), seeds = 1:3, epochs = 4,
#'                batch_size = 64, critic = wf_mlp(16), generator = wf_mlp(16),
#'                eval_every = 1, eval_n = 100)
#' km <- wf_survival(wf_convergence(sw, threshold = 1.2))
#' km
#' attr(km, "medians")
#' plot(km)
wf_survival <- function(conv, time = "epoch", by = NULL, conf = 0.95) {
  check_conv(conv, need_threshold = TRUE)
  check_choice(time, attr(conv, "times"), "time")
  conf <- check_number(conf, "conf", min = 0, max = 1, min_open = TRUE)
  by <- check_by(conv, by, several = TRUE)
  tcol <- paste0(time, "_to_threshold")
  groups <- split_groups(conv, by)
  fits <- lapply(groups, function(g) km_fit(g[[tcol]], g$reached, conf))
  curves <- lapply(seq_along(groups), function(j) {
    k <- fits[[j]]
    key <- groups[[j]][rep(1L, nrow(k)), by, drop = FALSE]
    rownames(key) <- NULL
    cbind(key, k)
  })
  out <- tibble::as_tibble(do.call(rbind, curves))
  medians <- do.call(rbind, lapply(seq_along(groups), function(j) {
    g <- groups[[j]]
    k <- fits[[j]]
    # the first time the curve (or a bound) is at or below a half
    med <- function(s) {
      i <- which(s <= 0.5 & k$time > 0)
      if (length(i)) k$time[i[1L]] else NA_real_
    }
    key <- g[1L, by, drop = FALSE]
    rownames(key) <- NULL
    cbind(key, data.frame(runs = nrow(g), events = sum(g$reached), median = med(k$estimate),
                          conf.low = med(k$conf.low), conf.high = med(k$conf.high)))
  }))
  attr(out, "medians") <- tibble::as_tibble(medians)
  attr(out, "by") <- by
  attr(out, "time") <- time
  attr(out, "threshold") <- attr(conv, "threshold")
  attr(out, "metric") <- attr(conv, "metric")
  attr(out, "conf") <- conf
  class(out) <- c("wf_survival", class(out))
  out
}

# Kaplan-Meier estimate by survival::survfit() (Greenwood's variance,
# log(-log) intervals), with a first row at time 0, in broom's columns.
# Where the estimate is 1 its interval is [1, 1]; where it is 0, [0, 0]
# (survfit leaves both NA).
km_fit <- function(time, event, conf = 0.95) {
  ok <- !is.na(time)
  time <- as.double(time[ok])
  event <- as.logical(event[ok])
  start <- data.frame(time = 0, n.risk = length(time), n.event = 0, n.censor = 0,
                      estimate = 1, std.error = 0, conf.low = 1, conf.high = 1)
  if (length(time) == 0L) return(start)
  sf <- survival::survfit(survival::Surv(time, event) ~ 1, conf.type = "log-log",
                          conf.int = conf)
  est <- sf$surv
  low <- sf$lower
  high <- sf$upper
  low[est >= 1] <- 1
  high[est >= 1] <- 1
  low[est <= 0] <- 0
  high[est <= 0] <- 0
  # survfit's std.err is that of log(S); Greenwood's of S is S times it
  se <- est * sf$std.err
  se[!is.finite(sf$std.err)] <- NA_real_
  rbind(start, data.frame(time = sf$time, n.risk = as.double(sf$n.risk),
                          n.event = as.double(sf$n.event), n.censor = as.double(sf$n.censor),
                          estimate = est, std.error = se, conf.low = low, conf.high = high))
}

# The area under a Kaplan-Meier curve from 0 to tau: the restricted mean
# time to the event. A lean hand computation (the bootstrap calls it
# thousands of times); the tests check it against survival's rmean.
km_rmst <- function(time, event, tau) {
  event <- as.logical(event)
  ut <- sort(unique(time[event & time < tau]))
  s <- 1
  area <- 0
  prev <- 0
  for (t in ut) {
    area <- area + s * (t - prev)
    s <- s * (1 - sum(time == t & event) / sum(time >= t))
    prev <- t
  }
  area + s * (tau - prev)
}

# The default restriction of mean times: as far as every level's curve is
# known. A level whose last run reached the threshold has a curve known for
# ever (it is 0 from then); one whose last run was censored, up to that
# time. If every curve reaches 0, the largest time (the restricted means are
# then the plain mean times).
default_tau <- function(s, tcol, by) {
  limits <- vapply(split(s, s[[by]]), function(g) {
    k <- km_fit(g[[tcol]], g$reached)
    if (k$estimate[nrow(k)] == 0) Inf else max(g[[tcol]])
  }, double(1))
  if (all(is.infinite(limits))) max(s[[tcol]]) else min(limits)
}

# Two-group log-rank test by survival::survdiff(): list(statistic
# (chi-square, 1 df), p.value); NA where it is undefined (no event, or no
# variance).
logrank_test <- function(time, event, group) {
  ok <- !is.na(time)
  time <- as.double(time[ok])
  event <- as.logical(event[ok])
  group <- as.character(group[ok])
  none <- list(statistic = NA_real_, p.value = NA_real_)
  if (!any(event) || length(unique(group)) < 2L) return(none)
  # survdiff() stops where the variance is 0 (e.g. every event at one
  # time that ends every run at risk): no test, as for no event
  sd <- tryCatch(survival::survdiff(survival::Surv(time, event) ~ group),
                 error = function(e) NULL)
  if (is.null(sd) || !is.finite(sd$chisq) || sd$var[1L, 1L] <= 0) return(none)
  list(statistic = sd$chisq,
       p.value = stats::pchisq(sd$chisq, length(sd$n) - 1L, lower.tail = FALSE))
}

#' @export
print.wf_survival <- function(x, ...) {
  cat(sprintf("<wf_survival> Kaplan-Meier: P(%s not yet <= %s) against %s\n",
              attr(x, "metric"), format(attr(x, "threshold")), attr(x, "time")))
  print(tibble::as_tibble(strip_class(x, "wf_survival")), ...)
  cat("Medians:\n")
  print(attr(x, "medians"), ...)
  invisible(x)
}

#' @rdname wf_survival
#' @param x A `wf_survival` object.
#' @param ... Further graphical parameters for [plot()].
#' @export
plot.wf_survival <- function(x, ...) {
  d <- as.data.frame(x)
  curve <- km_curves(d, attr(x, "by"))
  groups <- levels(curve)
  cols <- grDevices::hcl.colors(max(2L, length(groups)), "Dark 3")[seq_along(groups)]
  args <- modify_args(list(x = NA, xlim = range(d$time), ylim = c(0, 1), type = "n",
                           xlab = attr(x, "time"),
                           ylab = sprintf("P(%s not yet <= %s)", attr(x, "metric"),
                                          format(attr(x, "threshold"))),
                           main = "Time to threshold (Kaplan-Meier)"), list(...))
  do.call(graphics::plot, args)
  for (j in seq_along(groups)) {
    g <- d[curve == groups[j], , drop = FALSE]
    xs <- c(g$time, max(d$time))
    graphics::lines(xs, c(g$conf.low, g$conf.low[nrow(g)]), type = "s", lty = 3, col = cols[j])
    graphics::lines(xs, c(g$conf.high, g$conf.high[nrow(g)]), type = "s", lty = 3, col = cols[j])
    graphics::lines(xs, c(g$estimate, g$estimate[nrow(g)]), type = "s", lwd = 2, col = cols[j])
    # censored runs: a tick on the curve at their times, as survival's plot
    cens <- g$n.censor > 0
    if (any(cens)) graphics::points(g$time[cens], g$estimate[cens], pch = 3, col = cols[j])
  }
  censored <- any(d$n.censor > 0)
  graphics::legend("topright", legend = c(groups, if (censored) "censored"),
                   col = c(cols, if (censored) "grey40"),
                   lwd = c(rep(2, length(groups)), if (censored) NA),
                   pch = c(rep(NA, length(groups)), if (censored) 3),
                   bty = "n", cex = 0.8)
  invisible(x)
}

# The curves of a wf_survival's rows: a factor labelled "by = value, ...",
# its levels in the order of the settings' values: numbers numerically
# (1, 3, 10), factors by their levels, text as first met (the grid's order).
km_curves <- function(d, by) {
  if (length(by) == 0L) return(factor(rep("all", nrow(d))))
  key <- do.call(paste, c(lapply(by, function(b) paste(b, "=", d[[b]])), sep = ", "))
  first <- !duplicated(key)
  o <- do.call(order, unname(lapply(by, function(b) {
    v <- d[[b]][first]
    if (is.numeric(v)) v else if (is.factor(v)) as.integer(v) else match(v, unique(v))
  })))
  factor(key, levels = key[first][o])
}

# ---- comparisons between settings ------------------------------------------------

#' Compare settings with bootstrap intervals over seeds and a test
#'
#' For each level of the setting `by`, an estimate of the `outcome` with a
#' confidence interval from a bootstrap over its runs (seeds), and against
#' the `reference` level: the difference and the ratio with bootstrap
#' intervals (the runs of both levels resampled independently) and a
#' test's p-value. Other settings that vary (e.g. the penalty) are strata:
#' levels are compared within each.
#'
#' * For the per-run numbers of [wf_convergence()] (`"final"`, `"auc"`,
#'   `"best"`, ...), the estimate is the mean over runs and the test is
#'   Welch's two-sample t-test.
#' * For a time to threshold (`outcome` one of the `times`, e.g. `"epoch"`
#'   or `"seconds"`), the estimate is the restricted mean time to the
#'   threshold (the area under the Kaplan-Meier curve up to `tau`), which
#'   counts censored runs correctly, and the test is the log-rank test
#'   ([survival::survdiff()]).
#'   `tau` defaults to the largest time up to which every level's curve is
#'   known (a level whose runs all reached the threshold is known
#'   throughout; otherwise up to its last censored time), so no curve is
#'   extrapolated; where every run reached the threshold, the restricted
#'   means are the plain mean times to it. A
#'   ratio below 1 means the level reaches the threshold sooner than the
#'   reference; the speed-up is its inverse.
#'
#' Seeds are the unit of replication: with few seeds the percentile
#' intervals are too narrow (with 3 seeds a bootstrap sees at most 10
#' distinct resamples) and the tests have little power; use at least 5
#' seeds per setting for intervals worth quoting.
#'
#' @param conv A [wf_convergence()] result.
#' @param by The setting to compare (a column of `conv`); `NULL` takes the
#'   first setting, other than the seed, that varies.
#' @param outcome A per-run column of `conv` (e.g. "final", "auc") or one
#'   of its `times` (e.g. "epoch", "seconds").
#' @param reference The level of `by` the others are compared with; `NULL`
#'   takes the first (the smallest, for numbers).
#' @param conf The confidence level of the intervals.
#' @param R Bootstrap resamples.
#' @param seed The seed of the bootstrap (R's random stream is left as it
#'   was); `NULL` uses the session's stream.
#' @param tau For time outcomes: the time up to which mean times are
#'   restricted; `NULL` for the default above.
#' @return A tibble of class `wf_comparison` in broom's terms, one row per
#'   level (and stratum): the strata, `by`, `estimate` (the mean, or the
#'   restricted mean time), its bootstrap interval `conf.low`, `conf.high`,
#'   `p.value` (the test against the reference), `runs`, `events` (time
#'   outcomes: runs that reached the threshold), `difference`,
#'   `difference.low`, `difference.high`, `ratio`, `ratio.low`,
#'   `ratio.high` (against the reference: NA for the reference itself, and
#'   with a warning where the reference's estimate is 0), `statistic` (the
#'   test's t or chi-square statistic), `method` (the test's name:
#'   `"Welch t"` or `"log-rank"`) and, for time outcomes, `tau`.
#'
#'   For a time outcome, a level none of whose runs reached the threshold
#'   has a flat Kaplan-Meier curve and no restricted mean worth the name:
#'   its `estimate` and interval, and the differences and ratios with it,
#'   are `NA`, with a warning of class `wgflow_warning_no_events` (the
#'   log-rank test is kept where the other level has events).
#' @references Efron, B. and Tibshirani, R. J. (1993). *An Introduction to
#'   the Bootstrap*. Chapman & Hall.
#'
#'   Mantel, N. (1966). Evaluation of survival data and two new rank order
#'   statistics arising in its consideration. *Cancer Chemotherapy Reports*
#'   50, 163-170.
#'
#'   Royston, P. and Parmar, M. K. B. (2013). Restricted mean survival
#'   time: an alternative to the hazard ratio for the design and analysis
#'   of randomized trials with a time-to-event outcome. *BMC Medical
#'   Research Methodology* 13, 152.
#' @seealso [wf_convergence()], [wf_survival()].
#' @export
#' @examples
#' x <- wf_toy("8gaussians", n = 1000, seed = 1)
#' sw <- wf_sweep(x, data.frame(persistency = c(1, 3)), seeds = 1:3, epochs = 4,
#'                batch_size = 64, critic = wf_mlp(16), generator = wf_mlp(16),
#'                eval_every = 1, eval_n = 100)
#' conv <- wf_convergence(sw, threshold = 1.2)
#' wf_compare(conv, outcome = "final", R = 200)
#' wf_compare(conv, outcome = "epoch", R = 200)
wf_compare <- function(conv, by = NULL, outcome = "final", reference = NULL,
                       conf = 0.95, R = 2000L, seed = 1L, tau = NULL) {
  check_conv(conv)
  by <- check_by(conv, by, several = FALSE)
  numeric_cols <- setdiff(names(conv)[vapply(conv, is.numeric, logical(1))],
                          c(attr(conv, "settings"), paste0(attr(conv, "times"), "_to_threshold")))
  check_choice(outcome, c(numeric_cols, attr(conv, "times")), "outcome")
  is_time <- outcome %in% attr(conv, "times")
  conf <- check_number(conf, "conf", min = 0, max = 1, min_open = TRUE)
  R <- check_count(R, "R", min = 10L, max = 1e6)
  if (!is.null(seed)) seed <- check_count(seed, "seed", min = 0L)
  if (!is.null(tau)) tau <- check_number(tau, "tau", min = 0, min_open = TRUE)
  levels <- sort(unique(conv[[by]]))
  if (length(levels) < 2L) {
    wf_abort(sprintf("`by` (%s) has one level; there is nothing to compare.", by),
             class = "wgflow_error_arg", arg = "by")
  }
  if (is.null(reference)) reference <- levels[1L]
  if (length(reference) != 1L || !reference %in% levels) {
    arg_error("reference", sprintf("one of the levels of `%s` (%s)", by,
                                   paste(format(levels), collapse = ", ")), reference)
  }
  strata <- setdiff(check_by(conv, NULL, several = TRUE), by)
  probs <- c((1 - conf) / 2, 1 - (1 - conf) / 2)
  tcol <- paste0(outcome, "_to_threshold")
  zero_reference <- FALSE
  no_events <- character()
  run <- function() {
    rows <- lapply(split_groups(conv, strata), function(s) {
      ref <- s[s[[by]] == reference, , drop = FALSE]
      tau_s <- if (is_time) tau %||% default_tau(s, tcol, by) else NA_real_
      # the statistic of rows i of a level's runs (vectors, not data
      # frames: the bootstrap takes it R times)
      stat_of <- function(g) {
        if (is_time) {
          time <- g[[tcol]]
          event <- g$reached
          function(i = seq_along(time)) km_rmst(time[i], event[i], tau_s)
        } else {
          v <- g[[outcome]]
          function(i = seq_along(v)) mean(v[i], na.rm = TRUE)
        }
      }
      stat <- function(g) stat_of(g)()
      boot <- function(g) {
        f <- stat_of(g)
        n <- nrow(g)
        vapply(seq_len(R), function(b) f(sample.int(n, n, replace = TRUE)), double(1))
      }
      ref_boot <- boot(ref)
      ref_est <- stat(ref)
      lv <- sort(unique(s[[by]]))
      do.call(rbind, lapply(lv, function(l) {
        g <- s[s[[by]] == l, , drop = FALSE]
        est <- stat(g)
        gb <- if (l == reference) ref_boot else boot(g)
        out <- g[1L, c(strata, by), drop = FALSE]
        rownames(out) <- NULL
        out$runs <- nrow(g)
        out$events <- if (is_time) sum(g$reached) else NA_integer_
        out$estimate <- est
        ci <- stats::quantile(gb, probs, na.rm = TRUE, names = FALSE)
        out$conf.low <- ci[1L]
        out$conf.high <- ci[2L]
        if (l == reference) {
          out[c("difference", "difference.low", "difference.high", "ratio",
                "ratio.low", "ratio.high", "p.value", "statistic")] <- NA_real_
          out$method <- NA_character_
        } else {
          out$difference <- est - ref_est
          dci <- stats::quantile(gb - ref_boot, probs, na.rm = TRUE, names = FALSE)
          out$difference.low <- dci[1L]
          out$difference.high <- dci[2L]
          # a reference estimate of 0 (runs timed at 0 s, below the
          # timer's resolution) has no ratio: NA, with a warning
          if (isTRUE(ref_est == 0)) zero_reference <<- TRUE
          out$ratio <- if (isTRUE(ref_est == 0)) NA_real_ else est / ref_est
          ratios <- ifelse(ref_boot == 0, NA_real_, gb / ref_boot)
          rci <- if (isTRUE(ref_est == 0) || all(is.na(ratios))) c(NA_real_, NA_real_) else
            stats::quantile(ratios, probs, na.rm = TRUE, names = FALSE)
          out$ratio.low <- rci[1L]
          out$ratio.high <- rci[2L]
          if (is_time) {
            both <- rbind(ref, g)
            lr <- logrank_test(both[[tcol]], both$reached,
                               rep(c("ref", "level"), c(nrow(ref), nrow(g))))
            out$p.value <- lr$p.value
            out$statistic <- lr$statistic
            out$method <- "log-rank"
          } else {
            a <- g[[outcome]][!is.na(g[[outcome]])]
            b <- ref[[outcome]][!is.na(ref[[outcome]])]
            tt <- if (length(a) >= 2L && length(b) >= 2L &&
                      stats::sd(c(a - mean(a), b - mean(b))) > 0) stats::t.test(a, b)
            out$p.value <- if (is.null(tt)) NA_real_ else tt$p.value
            out$statistic <- if (is.null(tt)) NA_real_ else unname(tt$statistic)
            out$method <- "Welch t"
          }
        }
        # a level none of whose runs reached the threshold has a flat curve:
        # its restricted mean (tau) says nothing; NA, with a warning
        if (is_time && (out$events == 0L || sum(ref$reached) == 0L)) {
          out[c("difference", "difference.low", "difference.high", "ratio",
                "ratio.low", "ratio.high")] <- NA_real_
          if (out$events == 0L) {
            out[c("estimate", "conf.low", "conf.high")] <- NA_real_
            no_events <<- c(no_events, paste0(paste(by, "=", format(l)),
              if (length(strata)) sprintf(" (%s)", paste(strata, "=", vapply(
                strata, function(v) format(g[[v]][1L]), character(1)), collapse = ", "))))
          }
        }
        if (is_time) out$tau <- tau_s
        out[c(strata, by, "estimate", "conf.low", "conf.high", "p.value", "runs", "events",
              "difference", "difference.low", "difference.high", "ratio", "ratio.low",
              "ratio.high", "statistic", "method", if (is_time) "tau")]
      }))
    })
    do.call(rbind, rows)
  }
  out <- tibble::as_tibble(if (is.null(seed)) run() else with_rng_seed(seed, run()))
  if (zero_reference) {
    wf_warn(sprintf(paste0("The reference level's estimate of `%s` is 0 (runs that took ",
                           "0 s, below the timer's resolution?), so the ratios to it are ",
                           "NA."), outcome),
            class = "wgflow_warning_zero_reference")
  }
  if (length(no_events)) {
    what <- sprintf("%s <= %s", attr(conv, "metric"), format(attr(conv, "threshold")))
    wf_warn(if (!any(conv$reached)) {
      sprintf(paste0("No run reached %s: every restricted mean %s to it, and every ",
                     "difference and ratio, is NA."), what, outcome)
    } else {
      sprintf(paste0("No run of %s reached %s: %s restricted mean %s to it, and the ",
                     "differences and ratios with %s, are NA."), paste(no_events, collapse = "; "),
              what, if (length(no_events) > 1L) "their" else "its", outcome,
              if (length(no_events) > 1L) "them" else "it")
    }, class = "wgflow_warning_no_events")
  }
  attr(out, "by") <- by
  attr(out, "strata") <- strata
  attr(out, "outcome") <- outcome
  attr(out, "reference") <- reference
  attr(out, "conf") <- conf
  attr(out, "R") <- R
  attr(out, "metric") <- attr(conv, "metric")
  attr(out, "threshold") <- attr(conv, "threshold")
  class(out) <- c("wf_comparison", class(out))
  out
}

#' @export
print.wf_comparison <- function(x, ...) {
  outcome <- attr(x, "outcome")
  what <- if ("tau" %in% names(x)) {
    sprintf("restricted mean %s to %s <= %s (log-rank test)", outcome, attr(x, "metric"),
            format(attr(x, "threshold")))
  } else {
    sprintf("mean %s of %s (Welch t-test)", outcome, attr(x, "metric"))
  }
  cat(sprintf("<wf_comparison> %s by %s, against %s = %s;\n  %g%% bootstrap intervals over runs (R = %d)\n",
              what, attr(x, "by"), attr(x, "by"), format(attr(x, "reference")),
              100 * attr(x, "conf"), attr(x, "R")))
  print(tibble::as_tibble(strip_class(x, "wf_comparison")), ...)
  invisible(x)
}

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

# ---- the sampling floor ------------------------------------------------------------

#' The sampling floor of an exact Wasserstein distance
#'
#' Two samples of `n` points from the *same* law are at a positive exact
#' distance: the empirical distance is biased upward, and the bias shrinks
#' slowly with `n` (like `n^(-1/d)` in `d >= 3` dimensions). A model cannot
#' be seen to do better than this floor at the same evaluation size.
#' `wf_floor()` measures it: the exact \eqn{W_p} between two disjoint random
#' subsets of `n` rows of `x` (or between `n` rows of `y` and `n` rows of
#' `x`), over `reps` random draws. The training functions measure the same
#' for their evaluation (held-out rows against as many training rows) and
#' report it as `$floor`.
#'
#' @param x A numeric matrix or data frame, one sample per row.
#' @param y `NULL`, or a second sample (the held-out rows, say) compared
#'   with subsets of `x`.
#' @param n Rows per sample; `NULL`: half the rows of `x` (without `y`), or
#'   the rows of `y` (at most those of `x`).
#' @param p Orders of the distance (e.g. `c(1, 2)`).
#' @param reps Random draws.
#' @param seed `NULL` (R's random stream) or a whole number (the stream is
#'   left as it was).
#' @return A tibble with one row per `p`: `p`, `n`, `floor` (the mean
#'   distance over the draws), `floor_sd` (their standard deviation: the
#'   spread of one evaluation at the floor) and `reps`.
#' @seealso [wf_wasserstein()].
#' @export
#' @examples
#' x <- wf_toy("8gaussians", n = 2000, seed = 1)
#' wf_floor(x, n = 500, p = c(1, 2), reps = 3, seed = 1)
wf_floor <- function(x, y = NULL, n = NULL, p = 1, reps = 10L, seed = NULL) {
  x <- check_data(x, "x", min_rows = 2L)
  attr(x, "wf_frame") <- NULL
  if (!is.null(y)) {
    y <- check_data(y, "y", cols = ncol(x))
    attr(y, "wf_frame") <- NULL
  }
  max_n <- if (is.null(y)) nrow(x) %/% 2L else min(nrow(x), nrow(y))
  n <- if (is.null(n)) max_n else check_count(n, "n", min = 2L)
  if (n > max_n) {
    wf_abort(sprintf("`n` (%d) must be at most %d: %s.", n, max_n,
                     if (is.null(y)) "two disjoint subsets of `x`" else "the rows of `x` and `y`"),
             class = "wgflow_error_arg", arg = "n")
  }
  if (!is.numeric(p) || length(p) == 0L || anyNA(p) || any(!is.finite(p)) || any(p < 1)) {
    arg_error("p", "orders >= 1", p)
  }
  reps <- check_count(reps, "reps", max = 1e5)
  if (!is.null(seed)) seed <- check_count(seed, "seed", min = 0L)
  ps <- stats::setNames(as.double(p), paste0("w", p))
  draw <- function() {
    lapply(seq_len(reps), function(r) {
      if (is.null(y)) {
        rows <- sample.int(nrow(x), 2L * n)
        list(a = x[rows[seq_len(n)], , drop = FALSE], b = x[rows[n + seq_len(n)], , drop = FALSE])
      } else {
        list(a = y[sample.int(nrow(y), n), , drop = FALSE],
             b = x[sample.int(nrow(x), n), , drop = FALSE])
      }
    })
  }
  samples <- if (is.null(seed)) draw() else with_rng_seed(seed, draw())
  vals <- matrix(vapply(samples, function(s) {
    vapply(ps, function(pp) ot_distance(s$a, s$b, pp), double(1))
  }, double(length(ps))), nrow = length(ps))
  tibble::tibble(p = as.double(p), n = as.integer(n), floor = rowMeans(vals),
                 floor_sd = if (reps > 1L) apply(vals, 1L, stats::sd) else NA_real_,
                 reps = as.integer(reps))
}
