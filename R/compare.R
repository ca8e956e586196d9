# Comparisons between settings over seeds (wf_compare()): bootstrap
# intervals and tests on the per-run summaries of convergence.R.

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
