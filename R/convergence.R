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
#' (Greenwood's variance on the log(-log) scale) and the median time.
#' `autoplot()` and `plot()` draw the step curves.
#'
#' @param conv A [wf_convergence()] result with a threshold.
#' @param time The time scale: one of the `times` of `conv` ("epoch",
#'   "seconds", ...).
#' @param by The settings whose combinations get a curve each; `NULL`: every
#'   setting but the seed that varies.
#' @param conf The confidence level.
#' @return A tibble of class `wf_survival`: the `by` columns, `time`,
#'   `n_risk`, `n_event`, `n_censor`, `surv`, `lower`, `upper`, one row per
#'   distinct time (and a first row at time 0 with `surv` 1). Attribute
#'   `medians`: one row per curve with `runs`, `events` and the median
#'   time with its confidence interval (`NA` where the curve does not fall
#'   to a half).
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
  curves <- lapply(groups, function(g) {
    k <- km_fit(g[[tcol]], g$reached, conf)
    key <- g[rep(1L, nrow(k)), by, drop = FALSE]
    rownames(key) <- NULL
    cbind(key, k)
  })
  out <- tibble::as_tibble(do.call(rbind, curves))
  medians <- do.call(rbind, lapply(groups, function(g) {
    k <- km_fit(g[[tcol]], g$reached, conf)
    med <- function(s) {
      i <- which(s <= 0.5 & k$time > 0)
      if (length(i)) k$time[i[1L]] else NA_real_
    }
    key <- g[1L, by, drop = FALSE]
    rownames(key) <- NULL
    cbind(key, data.frame(runs = nrow(g), events = sum(g$reached), median = med(k$surv),
                          median_lower = med(k$lower), median_upper = med(k$upper)))
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

# Kaplan-Meier estimate with Greenwood's variance and log(-log) intervals.
km_fit <- function(time, event, conf = 0.95) {
  ok <- !is.na(time)
  time <- time[ok]
  event <- as.logical(event[ok])
  ut <- sort(unique(time))
  n_risk <- vapply(ut, function(t) sum(time >= t), double(1))
  n_event <- vapply(ut, function(t) sum(time == t & event), double(1))
  n_censor <- vapply(ut, function(t) sum(time == t & !event), double(1))
  surv <- cumprod(1 - n_event / n_risk)
  gw <- cumsum(ifelse(n_risk > n_event, n_event / (n_risk * (n_risk - n_event)), Inf))
  z <- stats::qnorm(1 - (1 - conf) / 2)
  # log(-log S) +/- z * se, se from Greenwood; degenerate where S is 0 or 1
  se_ll <- sqrt(gw) / abs(log(surv))
  lower <- surv^exp(z * se_ll)
  upper <- surv^exp(-z * se_ll)
  lower[surv >= 1] <- 1
  upper[surv >= 1] <- 1
  lower[surv <= 0 | !is.finite(gw)] <- 0
  upper[surv <= 0] <- 0
  data.frame(time = c(0, ut), n_risk = c(length(time), n_risk), n_event = c(0, n_event),
             n_censor = c(0, n_censor), surv = c(1, surv), lower = c(1, lower),
             upper = c(1, upper))
}

# The area under a Kaplan-Meier curve from 0 to tau: the restricted mean
# time to the event (lean: the bootstrap calls it thousands of times).
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
    if (k$surv[nrow(k)] == 0) Inf else max(g[[tcol]])
  }, double(1))
  if (all(is.infinite(limits))) max(s[[tcol]]) else min(limits)
}

# Two-group log-rank test: list(statistic (chi-square, 1 df), p_value).
logrank_test <- function(time, event, group) {
  event <- as.logical(event)
  g1 <- group == unique(group)[1L]
  ut <- sort(unique(time[event]))
  o <- e <- v <- 0
  for (t in ut) {
    at_risk <- time >= t
    n <- sum(at_risk)
    n1 <- sum(at_risk & g1)
    d <- sum(time == t & event)
    d1 <- sum(time == t & event & g1)
    o <- o + d1
    e <- e + d * n1 / n
    if (n > 1) v <- v + d * (n1 / n) * (1 - n1 / n) * (n - d) / (n - 1)
  }
  if (v <= 0) return(list(statistic = NA_real_, p_value = NA_real_))
  chi <- (o - e)^2 / v
  list(statistic = chi, p_value = stats::pchisq(chi, 1, lower.tail = FALSE))
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
  by <- attr(x, "by")
  d <- as.data.frame(x)
  key <- if (length(by)) do.call(paste, c(lapply(by, function(b) paste(b, "=", d[[b]])),
                                          sep = ", ")) else rep("all", nrow(d))
  groups <- unique(key)
  cols <- grDevices::hcl.colors(max(2L, length(groups)), "Dark 3")[seq_along(groups)]
  args <- modify_args(list(x = NA, xlim = range(d$time), ylim = c(0, 1), type = "n",
                           xlab = attr(x, "time"),
                           ylab = sprintf("P(%s not yet <= %s)", attr(x, "metric"),
                                          format(attr(x, "threshold"))),
                           main = "Time to threshold (Kaplan-Meier)"), list(...))
  do.call(graphics::plot, args)
  for (j in seq_along(groups)) {
    g <- d[key == groups[j], , drop = FALSE]
    xs <- c(g$time, max(d$time))
    graphics::lines(xs, c(g$lower, g$lower[nrow(g)]), type = "s", lty = 3, col = cols[j])
    graphics::lines(xs, c(g$upper, g$upper[nrow(g)]), type = "s", lty = 3, col = cols[j])
    graphics::lines(xs, c(g$surv, g$surv[nrow(g)]), type = "s", lwd = 2, col = cols[j])
  }
  graphics::legend("topright", legend = groups, col = cols, lwd = 2, bty = "n", cex = 0.8)
  invisible(x)
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
#'   counts censored runs correctly, and the test is the log-rank test.
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
#' @return A tibble of class `wf_comparison`, one row per level (and
#'   stratum): the strata, `by`, `runs`, `events` (time outcomes: runs that
#'   reached the threshold), `estimate`, `lower`, `upper`, `difference`,
#'   `difference_lower`, `difference_upper`, `ratio`, `ratio_lower`,
#'   `ratio_upper` (NA for the reference), `p_value` and `test`.
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
        out$lower <- ci[1L]
        out$upper <- ci[2L]
        if (l == reference) {
          out[c("difference", "difference_lower", "difference_upper", "ratio",
                "ratio_lower", "ratio_upper", "p_value")] <- NA_real_
          out$test <- NA_character_
        } else {
          out$difference <- est - ref_est
          dci <- stats::quantile(gb - ref_boot, probs, na.rm = TRUE, names = FALSE)
          out$difference_lower <- dci[1L]
          out$difference_upper <- dci[2L]
          out$ratio <- est / ref_est
          rci <- stats::quantile(gb / ref_boot, probs, na.rm = TRUE, names = FALSE)
          out$ratio_lower <- rci[1L]
          out$ratio_upper <- rci[2L]
          if (is_time) {
            both <- rbind(ref, g)
            out$p_value <- logrank_test(both[[tcol]], both$reached,
                                        rep(c("ref", "level"), c(nrow(ref), nrow(g))))$p_value
            out$test <- "log-rank"
          } else {
            a <- g[[outcome]][!is.na(g[[outcome]])]
            b <- ref[[outcome]][!is.na(ref[[outcome]])]
            out$p_value <- if (length(a) >= 2L && length(b) >= 2L &&
                               stats::sd(c(a - mean(a), b - mean(b))) > 0) {
              stats::t.test(a, b)$p.value
            } else {
              NA_real_
            }
            out$test <- "Welch t"
          }
        }
        if (is_time) out$tau <- tau_s
        out
      }))
    })
    do.call(rbind, rows)
  }
  out <- tibble::as_tibble(if (is.null(seed)) run() else with_rng_seed(seed, run()))
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
