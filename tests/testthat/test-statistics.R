# Statistics of convergence an R user can trust:
# the sampling floor and standard errors of every evaluation, per-run
# summaries with censored times to a threshold, Kaplan-Meier curves,
# comparisons with bootstrap intervals and tests, and the broom/ggplot2
# verbs for sweeps and lists of fits.

stat_data <- wf_toy("8gaussians", n = 1500, seed = 2)

stat_fit <- function(seed = 1, persistency = 3L, epochs = 4L, ...) {
  w1fe(stat_data, persistency = persistency, epochs = epochs, batch_size = 64,
       critic_steps = 2, critic = wf_mlp(16), generator = wf_mlp(16), eval_n = 150,
       eval_every = 2, seed = seed, device = "cpu", verbose = FALSE, ...)
}

# ---- floor and standard errors ----------------------------------------

test_that("a fit measures the sampling floor of its evaluation", {
  fit <- stat_fit()
  fl <- fit$floor
  expect_s3_class(fl, "tbl_df")
  expect_identical(fl$metric, c("w1", "w2"))
  expect_identical(fl$n, c(150L, 150L))
  expect_identical(fl$reps, c(5L, 5L))
  expect_true(all(fl$floor > 0 & fl$floor_sd > 0))
  expect_true(fl$floor[2] > fl$floor[1]) # W2 >= W1 always
  # it is W between the evaluation's held-out rows and as many training rows
  held <- fit$holdout[1:150, ]
  direct <- vapply(1:20, function(i) {
    wf_wasserstein(held, fit$data[sample.int(nrow(fit$data), 150), ], p = 1)
  }, double(1))
  expect_lt(abs(fl$floor[1] - mean(direct)), 3 * sd(direct))
  # reproducible with the seed, and R's random stream is left alone
  set.seed(5)
  a <- runif(1)
  set.seed(5)
  again <- stat_fit()
  expect_identical(runif(1), a)
  expect_identical(again$floor, fl)
  # the training rows' floor is above 0 and well below an untrained generator
  expect_lt(fl$floor[1], fit$metrics$w1[4])
  # option: no floor
  old <- options(wgflow.floor_reps = 0)
  on.exit(options(old))
  expect_null(stat_fit(epochs = 1)$floor)
})

test_that("evaluations carry standard errors; the floor is shown by every method", {
  fit <- stat_fit()
  m <- fit$metrics
  expect_true(all(c("w1_se", "w2_se") %in% names(m)))
  expect_identical(is.na(m$w1_se), is.na(m$w1))
  expect_true(all(m$w1_se[!is.na(m$w1_se)] > 0))
  out <- paste(capture.output(print(fit)), collapse = "\n")
  expect_match(out, "W1:        [0-9.]+ \\+/- [0-9.]+ at epoch 4")
  expect_match(out, "sampling floor [0-9.]+ \\(sd [0-9.]+\\): a perfect model's score at n = 150")
  # the lowest value is labelled as the minimum of noisy evaluations
  expect_match(out, "lowest [0-9.]+ at epoch [24] \\(of 2 noisy evaluations\\)")
  gl <- glance(fit)
  expect_true(all(c("w1", "w1_se", "best_w1", "best_epoch", "best_w1_se", "w1_floor",
                    "w1_floor_sd", "w2", "w2_se", "w2_floor") %in% names(gl)))
  expect_equal(gl$w1_floor, fit$floor$floor[1])
  expect_equal(gl$w1_se, m$w1_se[4])
  expect_equal(gl$best_w1_se, m$w1_se[which.min(m$w1)])
  td <- tidy(fit)
  expect_equal(td$std.error[td$metric == "w1"], m$w1_se[!is.na(m$w1)])
  expect_true(all(is.na(td$std.error[td$metric == "critic_loss"])))
  s <- summary(fit)
  expect_identical(s$floor, fit$floor)
  expect_equal(s$best$se[s$best$metric == "w1"], gl$best_w1_se)
  pdf(NULL)
  on.exit(dev.off(), add = TRUE)
  expect_silent(plot(fit, "metrics"))
})

test_that("autoplot draws the floor line and a standard-error band", {
  skip_if_not_installed("ggplot2")
  fit <- stat_fit()
  p <- ggplot2::autoplot(fit)
  geoms <- vapply(p$layers, function(l) class(l$geom)[1], character(1))
  expect_true("GeomHline" %in% geoms)
  expect_true("GeomRibbon" %in% geoms)
  hline <- p$layers[[which(geoms == "GeomHline")]]
  expect_equal(hline$data$yintercept, fit$floor$floor[1])
  expect_match(p$labels$caption, "sampling floor")
  expect_no_error(ggplot2::ggplot_build(p))
})

test_that("the standard error of an exact W is of the size of its spread", {
  # two different laws: the CLT for empirical transport costs applies
  set.seed(3)
  n <- 200
  draws <- replicate(30, {
    x <- matrix(rnorm(2 * n), n, 2)
    y <- cbind(rnorm(n, 1.5), rnorm(n, sd = 2))
    r <- wf_wasserstein(x, y, p = 1, plan = TRUE)
    r2 <- wf_wasserstein(x, y, p = 2, plan = TRUE)
    c(r$distance, r$se, r2$distance, r2$se)
  })
  ratio1 <- mean(draws[2, ]) / sd(draws[1, ])
  ratio2 <- mean(draws[4, ]) / sd(draws[3, ])
  expect_gt(ratio1, 0.6)
  expect_lt(ratio1, 2.5)
  expect_gt(ratio2, 0.6)
  expect_lt(ratio2, 2.5)
})

test_that("wf_floor() measures the floor of two samples of one law", {
  x <- wf_toy("8gaussians", n = 2000, seed = 1)
  a <- wf_floor(x, n = 200, p = c(1, 2), reps = 4, seed = 1)
  expect_named(a, c("p", "n", "floor", "floor_sd", "reps"))
  expect_identical(a$p, c(1, 2))
  expect_identical(wf_floor(x, n = 200, p = c(1, 2), reps = 4, seed = 1), a)
  b <- wf_floor(x, n = 800, p = 1, reps = 4, seed = 1)
  expect_lt(b$floor, a$floor[1]) # the floor falls with n
  held <- x[1:100, ]
  expect_identical(wf_floor(x[-(1:100), ], held, reps = 2, seed = 3)$n, 100L)
  expect_arg_error(wf_floor(x, n = 1500), "n")
  expect_arg_error(wf_floor(x, p = 0.5), "p")
  expect_arg_error(wf_floor(x, reps = 0), "reps")
  expect_arg_error(wf_floor(x, matrix(0, 5, 3)), "y")
  expect_arg_error(wf_floor("x"), "x")
})

# ---- comparing settings ------------------------------------------------

# Per-epoch rows of made-up runs: setting k, seed, the metric w1 falling to
# `end` (evaluated every other epoch), seconds = epoch * cost.
fake_sweep <- function(end = c(`1` = 0.5, `3` = 0.2), seeds = 1:5, epochs = 10,
                       cost = 1) {
  rows <- list()
  for (k in names(end)) for (s in seeds) {
    e <- seq_len(epochs)
    w <- 1 - (1 - end[[k]]) * e / epochs + 0.01 * s
    w[e %% 2 == 1] <- NA
    rows[[length(rows) + 1]] <- data.frame(k = as.numeric(k), seed = s, status = "completed",
                                           epoch = e, seconds = e * cost, w1 = w)
  }
  do.call(rbind, rows)
}

test_that("wf_convergence() summarises each run, censoring runs that miss the threshold", {
  d <- fake_sweep()
  conv <- wf_convergence(d, threshold = 0.45, settings = c("k", "seed"))
  expect_s3_class(conv, "wf_convergence")
  expect_identical(nrow(conv), 10L)
  expect_true(all(c("k", "seed", "status", "evaluations", "epochs", "seconds", "final",
                    "best", "best_epoch", "auc", "reached", "epoch_to_threshold",
                    "seconds_to_threshold") %in% names(conv)))
  r <- conv[conv$k == 3 & conv$seed == 2, ]
  run <- d[d$k == 3 & d$seed == 2 & !is.na(d$w1), ]
  expect_equal(r$final, run$w1[nrow(run)])
  expect_equal(r$best, min(run$w1))
  expect_equal(r$auc, sum(diff(run$epoch) * (head(run$w1, -1) + tail(run$w1, -1)) / 2) /
                 (max(run$epoch) - min(run$epoch)))
  expect_true(r$reached)
  expect_identical(r$epoch_to_threshold, as.double(run$epoch[which(run$w1 <= 0.45)[1]]))
  # K = 1 ends at 0.5 + 0.01 s > 0.45: censored at its last evaluation
  miss <- conv[conv$k == 1, ]
  expect_false(any(miss$reached))
  expect_true(all(miss$epoch_to_threshold == 10))
  expect_identical(attr(conv, "settings"), c("k", "seed"))
  expect_identical(attr(conv, "threshold"), 0.45)
  out <- capture.output(print(conv))
  expect_match(out[1], "10 runs; metric w1, threshold 0.45 (5 reached it)", fixed = TRUE)
  # without a threshold: no time columns
  expect_false("reached" %in% names(wf_convergence(d, settings = c("k", "seed"))))
  expect_arg_error(wf_convergence(d, threshold = "a", settings = c("k", "seed")), "threshold")
  expect_arg_error(wf_convergence(d, metric = "w9", settings = c("k", "seed")), "metric")
  expect_arg_error(wf_convergence(d, times = "clock", settings = c("k", "seed")), "times")
  expect_arg_error(wf_convergence(list(1)), "x")
})

test_that("Kaplan-Meier estimates and the log-rank test match hand computations", {
  # times 2, 3, 3, 5 (censored), 6: S = 4/5, 4/5 * 2/4, then 2/5 * 1/1 at 6
  k <- wgflow:::km_fit(c(2, 3, 3, 5, 6), c(TRUE, TRUE, TRUE, FALSE, TRUE))
  expect_equal(k$time, c(0, 2, 3, 5, 6))
  expect_equal(k$estimate, c(1, 0.8, 0.4, 0.4, 0))
  expect_equal(k$n.risk, c(5, 5, 4, 2, 1))
  expect_equal(k$n.event, c(0, 1, 2, 0, 1))
  expect_equal(k$n.censor, c(0, 0, 0, 1, 0))
  # Greenwood: var(S(2)) = 0.8^2 * 1 / (5 * 4)
  ll_se <- sqrt(1 / 20) / abs(log(0.8))
  expect_equal(k$conf.low[2], 0.8^exp(qnorm(0.975) * ll_se))
  expect_equal(k$conf.high[2], 0.8^exp(-qnorm(0.975) * ll_se))
  expect_equal(k$std.error[2], 0.8 * sqrt(1 / 20))
  # at 1 the interval is [1, 1], at 0 it is [0, 0]
  expect_equal(c(k$conf.low[1], k$conf.high[1]), c(1, 1))
  expect_equal(c(k$conf.low[5], k$conf.high[5]), c(0, 0))
  # restricted mean: 2 * 1 + 1 * 0.8 + 2 * 0.4 + 1 * 0.4 up to 6
  expect_equal(wgflow:::km_rmst(c(2, 3, 3, 5, 6), c(TRUE, TRUE, TRUE, FALSE, TRUE), 6),
               2 + 0.8 + 0.8 + 0.4)
  # log-rank: O = 3, E = 1.15, V = 0.6775 (times 1, 2, 3 against 4, 5, 6)
  lr <- wgflow:::logrank_test(c(1, 2, 3, 4, 5, 6), rep(TRUE, 6), rep(c("a", "b"), each = 3))
  expect_equal(lr$statistic, 1.85^2 / 0.6775)
  expect_equal(lr$p.value, pchisq(1.85^2 / 0.6775, 1, lower.tail = FALSE))
  # no event: no test
  expect_identical(wgflow:::logrank_test(1:4, rep(FALSE, 4), c(1, 1, 2, 2))$p.value,
                   NA_real_)
})

test_that("Kaplan-Meier and log-rank agree with the survival package", {
  set.seed(4)
  time <- round(rexp(30, 0.1), 1)
  event <- runif(30) < 0.7
  group <- rep(c("a", "b"), 15)
  mine <- wgflow:::km_fit(time[group == "a"], event[group == "a"])
  sf <- survival::survfit(survival::Surv(time, event) ~ 1, subset = group == "a",
                          conf.type = "log-log")
  expect_equal(mine$estimate[-1], sf$surv)
  expect_equal(mine$conf.low[-1][is.finite(sf$lower)], sf$lower[is.finite(sf$lower)],
               tolerance = 1e-6)
  sd <- survival::survdiff(survival::Surv(time, event) ~ group)
  expect_equal(wgflow:::logrank_test(time, event, group)$statistic, sd$chisq,
               tolerance = 1e-8)
})

test_that("the lean restricted mean time agrees with survival's rmean, with censoring", {
  rmean <- function(time, event, tau) {
    sf <- survival::survfit(survival::Surv(time, event) ~ 1)
    summary(sf, rmean = tau)$table[["rmean"]]
  }
  # censored before, at and after events, ties of events and censorings,
  # tau between, at and beyond the times, a curve that falls to 0
  cases <- list(
    list(c(2, 3, 3, 5, 6), c(TRUE, TRUE, TRUE, FALSE, TRUE), c(2.5, 5, 6, 8)),
    list(c(1, 2, 2, 4, 4, 7, 9), c(FALSE, TRUE, FALSE, TRUE, FALSE, TRUE, FALSE), c(3, 7, 9, 12)),
    list(c(4, 4, 6, 10), c(FALSE, FALSE, FALSE, FALSE), c(5, 10)),
    list(c(3, 5, 8), c(TRUE, TRUE, TRUE), c(4, 5, 8, 10))
  )
  set.seed(11)
  time <- round(rexp(40, 0.1), 1)
  event <- runif(40) < 0.6
  cases[[5]] <- list(time, event, c(stats::median(time), max(time[event]), max(time)))
  for (cs in cases) for (tau in cs[[3]]) {
    expect_equal(wgflow:::km_rmst(cs[[1]], cs[[2]], tau), rmean(cs[[1]], cs[[2]], tau),
                 tolerance = 1e-10)
  }
})

test_that("wf_survival() gives Kaplan-Meier curves and medians per setting", {
  d <- fake_sweep(end = c(`1` = 0.4, `3` = 0.2))
  conv <- wf_convergence(d, threshold = 0.45, settings = c("k", "seed"))
  km <- wf_survival(conv, time = "epoch")
  expect_s3_class(km, "wf_survival")
  expect_named(km, c("k", "time", "n.risk", "n.event", "n.censor", "estimate", "std.error",
                     "conf.low", "conf.high"))
  expect_equal(km$estimate[km$k == 3 & km$time == 0], 1)
  expect_true(all(diff(km$estimate[km$k == 3]) <= 0))
  med <- attr(km, "medians")
  expect_named(med, c("k", "runs", "events", "median", "conf.low", "conf.high"))
  expect_identical(med$runs, c(5L, 5L))
  expect_true(med$median[med$k == 3] < med$median[med$k == 1])
  expect_output(print(km), "Kaplan-Meier")
  pdf(NULL)
  on.exit(dev.off(), add = TRUE)
  expect_identical(plot(km), km)
  if (requireNamespace("ggplot2", quietly = TRUE)) {
    p <- ggplot2::autoplot(km)
    expect_s3_class(p, "ggplot")
    expect_no_error(ggplot2::ggplot_build(p))
  }
  expect_arg_error(wf_survival(wf_convergence(d, settings = c("k", "seed"))), "conv")
  expect_arg_error(wf_survival(conv, time = "clock"), "time")
  expect_arg_error(wf_survival(conv, conf = 2), "conf")
})

test_that("wf_compare() gives bootstrap intervals over seeds and a test", {
  d <- fake_sweep(end = c(`1` = 0.5, `3` = 0.2), seeds = 1:6)
  conv <- wf_convergence(d, threshold = 0.6, settings = c("k", "seed"))
  set.seed(9)
  a <- runif(1)
  set.seed(9)
  cmp <- wf_compare(conv, outcome = "final", R = 500)
  expect_identical(runif(1), a) # R's stream untouched with a seed
  expect_s3_class(cmp, "wf_comparison")
  expect_identical(cmp$k, c(1, 3))
  expect_identical(attr(cmp, "reference"), 1)
  ref <- conv$final[conv$k == 1]
  k3 <- conv$final[conv$k == 3]
  expect_equal(cmp$estimate, c(mean(ref), mean(k3)))
  expect_equal(cmp$difference[2], mean(k3) - mean(ref))
  expect_equal(cmp$ratio[2], mean(k3) / mean(ref))
  expect_true(cmp$conf.low[2] <= cmp$estimate[2] && cmp$estimate[2] <= cmp$conf.high[2])
  expect_true(cmp$difference.high[2] < 0)
  expect_equal(cmp$p.value[2], t.test(k3, ref)$p.value)
  expect_equal(cmp$statistic[2], unname(t.test(k3, ref)$statistic))
  expect_identical(cmp$method[2], "Welch t")
  # broom's columns, the estimate, its interval and the p-value first
  expect_named(cmp, c("k", "estimate", "conf.low", "conf.high", "p.value", "runs", "events",
                      "difference", "difference.low", "difference.high", "ratio",
                      "ratio.low", "ratio.high", "statistic", "method"))
  expect_match(capture.output(print(cmp, width = Inf))[4],
               "k +estimate +conf.low +conf.high +p.value +runs")
  expect_true(is.na(cmp$difference[1]))
  expect_identical(wf_compare(conv, outcome = "final", R = 500), cmp) # seeded
  # time to threshold: restricted mean over the shortest follow-up, log-rank
  ct <- wf_compare(conv, outcome = "epoch", R = 500)
  expect_equal(ct$estimate, c(
    wgflow:::km_rmst(conv$epoch_to_threshold[conv$k == 1], conv$reached[conv$k == 1], 10),
    wgflow:::km_rmst(conv$epoch_to_threshold[conv$k == 3], conv$reached[conv$k == 3], 10)))
  expect_true(ct$ratio[2] < 1) # K = 3 reaches it sooner
  expect_identical(ct$method[2], "log-rank")
  lr <- survival::survdiff(survival::Surv(epoch_to_threshold, reached) ~ k, data = conv)
  expect_equal(ct$statistic[2], lr$chisq)
  expect_equal(ct$p.value[2], pchisq(lr$chisq, 1, lower.tail = FALSE))
  expect_identical(names(ct)[16], "tau")
  expect_true(all(ct$tau == 10))
  expect_identical(ct$events, c(6L, 6L))
  expect_output(print(ct), "restricted mean epoch")
  # another reference, and strata
  expect_identical(wf_compare(conv, outcome = "final", reference = 3, R = 100)$ratio[1],
                   mean(ref) / mean(k3))
  d2 <- rbind(cbind(d, pen = "lp"), cbind(d, pen = "gp"))
  conv2 <- wf_convergence(d2, threshold = 0.6, settings = c("pen", "k", "seed"))
  c2 <- wf_compare(conv2, by = "k", R = 100)
  expect_identical(nrow(c2), 4L)
  expect_identical(attr(c2, "strata"), "pen")
  expect_arg_error(wf_compare(conv, by = "seed"), "by")
  expect_arg_error(wf_compare(conv, outcome = "nope"), "outcome")
  expect_arg_error(wf_compare(conv, reference = 2), "reference")
  expect_arg_error(wf_compare(conv, R = 1), "R")
  expect_arg_error(wf_compare(d), "conv")
})

test_that("wf_compare() gives NA ratios, with a warning, against a reference estimate of 0", {
  # runs timed at 0 s (below the timer's resolution)
  d <- fake_sweep(end = c(`1` = 0.5, `3` = 0.2), seeds = 1:6, cost = 0)
  conv <- wf_convergence(d, threshold = 0.6, settings = c("k", "seed"))
  w <- expect_warning(cmp <- wf_compare(conv, outcome = "seconds", R = 50),
                      class = "wgflow_warning_zero_reference")
  expect_match(conditionMessage(w), "`seconds`", fixed = TRUE)
  expect_identical(cmp$estimate, c(0, 0))
  expect_identical(cmp$ratio, c(NA_real_, NA_real_))
  expect_false(any(is.nan(c(cmp$ratio, cmp$ratio.low, cmp$ratio.high))))
  expect_identical(cmp$difference[2], 0)
  # only the reference at 0 s: the other level's ratio is NA too, not Inf
  d$seconds[d$k == 3] <- d$epoch[d$k == 3]
  conv <- wf_convergence(d, threshold = 0.6, settings = c("k", "seed"))
  expect_warning(cmp <- wf_compare(conv, outcome = "seconds", R = 50),
                 class = "wgflow_warning_zero_reference")
  expect_true(is.na(cmp$ratio[2]) && is.na(cmp$ratio.high[2]))
  expect_gt(cmp$estimate[2], 0)
  # a reference above 0 takes no warning
  expect_no_warning(wf_compare(conv, outcome = "seconds", reference = 3, R = 50))
})

test_that("wf_compare() gives NA, with a warning, for a level none of whose runs reached the threshold", {
  # K = 1 ends at 0.5 + 0.01 s > 0.45: no run of it reaches the threshold
  d <- fake_sweep(end = c(`1` = 0.5, `3` = 0.2))
  conv <- wf_convergence(d, threshold = 0.45, settings = c("k", "seed"))
  w <- expect_warning(ct <- wf_compare(conv, outcome = "epoch", R = 100),
                      class = "wgflow_warning_no_events")
  expect_s3_class(w, "wgflow_warning")
  expect_match(conditionMessage(w), "No run of k = 1 reached w1 <= 0.45", fixed = TRUE)
  expect_identical(ct$events, c(0L, 5L))
  expect_identical(c(ct$estimate[1], ct$conf.low[1], ct$conf.high[1]), rep(NA_real_, 3))
  expect_true(all(is.finite(c(ct$estimate[2], ct$conf.low[2], ct$conf.high[2]))))
  # against a reference without events: no difference, no ratio; the
  # log-rank test still compares the curves
  expect_true(all(is.na(unlist(ct[2, c("difference", "difference.low", "difference.high",
                                       "ratio", "ratio.low", "ratio.high")]))))
  lr <- survival::survdiff(survival::Surv(epoch_to_threshold, reached) ~ k, data = conv)
  expect_equal(ct$p.value[2], pchisq(lr$chisq, 1, lower.tail = FALSE))
  num <- vapply(ct, is.numeric, logical(1))
  expect_false(any(is.nan(unlist(ct[num]))))
  # the same as a level against a reference with events
  expect_warning(c3 <- wf_compare(conv, outcome = "epoch", reference = 3, R = 100),
                 class = "wgflow_warning_no_events")
  expect_true(is.na(c3$estimate[1]) && is.na(c3$ratio[1]) && is.na(c3$difference.high[1]))
  expect_equal(c3$estimate[2], ct$estimate[2])
  # within strata: only the level of the stratum without events
  d2 <- rbind(cbind(d, pen = "gp"), cbind(fake_sweep(end = c(`1` = 0.3, `3` = 0.2)), pen = "lp"))
  conv2 <- wf_convergence(d2, threshold = 0.45, settings = c("pen", "k", "seed"))
  w <- expect_warning(c2 <- wf_compare(conv2, by = "k", outcome = "epoch", R = 100),
                      class = "wgflow_warning_no_events")
  expect_match(conditionMessage(w), "k = 1 (pen = gp)", fixed = TRUE)
  expect_identical(is.na(c2$estimate), c(TRUE, FALSE, FALSE, FALSE))
  expect_true(is.finite(c2$ratio[c2$pen == "lp" & c2$k == 3]))
  # no run at all: every estimate NA, no test, never an error or NaN
  conv0 <- wf_convergence(d, threshold = 0.1, settings = c("k", "seed"))
  w <- expect_warning(c0 <- wf_compare(conv0, outcome = "seconds", R = 100),
                      class = "wgflow_warning_no_events")
  expect_match(conditionMessage(w), "No run reached w1 <= 0.1", fixed = TRUE)
  expect_true(all(is.na(unlist(c0[c("estimate", "conf.low", "conf.high", "p.value",
                                    "statistic", "difference", "ratio")]))))
  expect_false(any(is.nan(unlist(c0[vapply(c0, is.numeric, logical(1))]))))
  # a per-run outcome takes no such warning
  expect_no_warning(wf_compare(conv0, outcome = "final", R = 100))
})

test_that("Kaplan-Meier plots tick censored runs and order numeric settings numerically", {
  # settings met in the order 1, 10, 3
  d <- fake_sweep(end = c(`1` = 0.5, `10` = 0.2, `3` = 0.3))
  conv <- wf_convergence(d, threshold = 0.45, settings = c("k", "seed"))
  conv$reached[conv$k == 3 & conv$seed == 5] <- FALSE # censored among events
  km <- wf_survival(conv)
  cens <- km[km$n.censor > 0, ]
  expect_identical(cens$k, c(1, 3))
  curves <- c("k = 1", "k = 3", "k = 10")
  # base graphics: "+" on the curves at the censoring times, legend in order
  pdf(NULL)
  on.exit(dev.off(), add = TRUE)
  dev.control("enable")
  plot(km)
  calls <- lapply(recordPlot()[[1]], function(e) {
    a <- as.list(e[[2]])
    list(name = if (is.list(a[[1]])) a[[1]]$name else "", args = a[-1])
  })
  ticks <- Filter(function(cl) cl$name == "C_plotXY" && identical(cl$args[[2]], "p") &&
                    identical(cl$args[[3]], 3), calls)
  expect_equal(unlist(lapply(ticks, function(cl) cl$args[[1]]$x)), cens$time)
  expect_equal(unlist(lapply(ticks, function(cl) cl$args[[1]]$y)), cens$estimate)
  texts <- Filter(function(cl) cl$name == "C_text", calls)
  expect_identical(texts[[length(texts)]]$args[[2]], c(curves, "censored"))
  skip_if_not_installed("ggplot2")
  p <- ggplot2::autoplot(km)
  expect_identical(levels(p$data$curve), curves)
  geoms <- vapply(p$layers, function(l) class(l$geom)[1], character(1))
  pts <- p$layers[[which(geoms == "GeomPoint")]]
  expect_identical(pts$aes_params$shape, 3)
  expect_equal(pts$data$time, cens$time)
  expect_equal(pts$data$estimate, cens$estimate)
  expect_identical(as.character(pts$data$curve), c("k = 1", "k = 3"))
  expect_no_error(ggplot2::ggplot_build(p))
  # a text setting keeps the order it was met in
  d2 <- rbind(cbind(d, pen = "lp"), cbind(d, pen = "gp"))
  conv2 <- wf_convergence(d2, threshold = 0.45, settings = c("pen", "k", "seed"))
  p2 <- ggplot2::autoplot(wf_survival(conv2))
  expect_identical(levels(p2$data$curve),
                   paste0("pen = ", rep(c("lp", "gp"), each = 3), ", ", curves))
})

test_that("the statistics run on a real sweep and on lists of fits", {
  old <- future::plan(future::sequential)
  on.exit(future::plan(old), add = TRUE)
  sw <- wf_sweep(stat_data, data.frame(persistency = c(1, 3)), seeds = 1:3, epochs = 4,
                 batch_size = 64, critic_steps = 2, critic = wf_mlp(16),
                 generator = wf_mlp(16), eval_n = 150, eval_every = 2, keep_fits = TRUE)
  expect_identical(attr(sw, "eval_metrics"), c("w1", "w2"))
  fl <- attr(sw, "floors")
  expect_identical(nrow(fl), 12L) # 6 runs x (w1, w2)
  expect_true(all(c("persistency", "seed", "metric", "floor", "floor_sd") %in% names(fl)))
  th <- stats::median(sw$w1, na.rm = TRUE)
  conv <- wf_convergence(sw, threshold = th)
  expect_identical(attr(conv, "settings"), c("persistency", "seed"))
  expect_identical(nrow(conv), 6L)
  expect_true("final_se" %in% names(conv))
  cmp <- wf_compare(conv, outcome = "seconds", R = 100)
  expect_identical(cmp$persistency, c(1, 3))
  # the same statistics from the fits
  conv_fits <- wf_convergence(attr(sw, "fits"), threshold = th)
  expect_equal(conv_fits$final, conv$final)
  expect_equal(conv_fits$reached, conv$reached)
})

# ---- broom and ggplot2 verbs for many fits -------------------------------

test_that("tidy, glance, summary and autoplot work for a sweep", {
  old <- future::plan(future::sequential)
  on.exit(future::plan(old), add = TRUE)
  sw <- wf_sweep(stat_data, data.frame(persistency = c(1, 3)), seeds = 1:2, epochs = 3,
                 batch_size = 64, critic_steps = 2, critic = wf_mlp(16),
                 generator = wf_mlp(16), eval_n = 100, eval_every = 1)
  td <- tidy(sw)
  expect_s3_class(td, "tbl_df")
  expect_identical(names(td)[1:3], c("persistency", "seed", "status"))
  expect_true(all(c("epoch", "seconds", "metric", "value", "std.error") %in% names(td)))
  expect_identical(nrow(td[td$metric == "w1", ]), 12L)
  expect_equal(td$std.error[td$metric == "w1"], sw$w1_se)
  gl <- glance(sw)
  expect_identical(nrow(gl), 4L)
  expect_true(all(c("persistency", "seed", "status", "final", "final_se", "best", "auc",
                    "floor", "floor_sd", "metric") %in% names(gl)))
  expect_equal(gl$final, sw$w1[sw$epoch == 3])
  s <- summary(sw)
  expect_s3_class(s, "summary.wf_runs")
  expect_identical(s$table$runs, c(2L, 2L))
  expect_equal(s$table$final_mean[1], mean(sw$w1[sw$epoch == 3 & sw$persistency == 1]))
  expect_true("floor" %in% names(s$table))
  expect_output(print(s), "wf_compare")
  skip_if_not_installed("ggplot2")
  p <- ggplot2::autoplot(sw)
  expect_s3_class(p, "ggplot")
  expect_true("GeomHline" %in% vapply(p$layers, function(l) class(l$geom)[1], character(1)))
})

test_that("tidy, glance, summary and autoplot work for wf_fits(), and plain lists keep base R's methods", {
  f1 <- stat_fit(seed = 1)
  f2 <- stat_fit(seed = 2, persistency = 1L)
  gl <- glance(wf_fits(f1, f2))
  expect_identical(nrow(gl), 2L)
  expect_identical(gl$persistency, c(3L, 1L))
  expect_identical(glance(wf_fits(a = f1, b = f2))$fit, c("a", "b"))
  td <- tidy(wf_fits(f1, f2))
  expect_true(all(c("label", "seed", "metric", "value", "std.error") %in% names(td)))
  expect_identical(nrow(td), nrow(tidy(f1)) + nrow(tidy(f2)))
  s <- summary(wf_fits(f1, f2))
  expect_s3_class(s, "summary.wf_runs")
  expect_identical(nrow(s$table), 2L)
  expect_output(print(wf_fits(f1, f2)), "<wf_fits> 2 fits")
  # wgflow registers nothing for plain lists
  expect_identical(summary(list(1, "a")), summary.default(list(1, "a")))
  expect_null(getS3method("summary", "list", optional = TRUE))
  expect_null(getS3method("tidy", "list", optional = TRUE,
                          envir = asNamespace("wgflow")))
  skip_if_not_installed("ggplot2")
  p <- ggplot2::autoplot(wf_fits(f1, f2))
  expect_s3_class(p, "ggplot")
  expect_no_error(ggplot2::ggplot_build(p))
  expect_s3_class(ggplot2::autoplot(wf_fits(f1, f2), x = "epoch"), "ggplot")
})

test_that("summary() of a list of fits counts the completed runs", {
  x <- wf_toy("8gaussians", 600, seed = 1)
  sm <- wf_mlp(c(8, 8))
  a <- w1fe(x, epochs = 2, critic = sm, generator = sm, batch_size = 64, eval_n = 50,
            seed = 1, device = "cpu", verbose = FALSE)
  b <- wgan(x, epochs = 2, critic = sm, generator = sm, batch_size = 64, eval_n = 50,
            seed = 1, device = "cpu", verbose = FALSE)
  s <- summary(wf_fits(a, b))
  expect_identical(as.integer(s$table$completed), c(1L, 1L))
  expect_identical(wf_convergence(wf_fits(a, b))$status, c("completed", "completed"))
})
