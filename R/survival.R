# Kaplan-Meier curves of the time to a threshold (wf_survival()), from the
# per-run summaries of convergence.R, by the survival package.

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
