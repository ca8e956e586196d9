# Kaplan-Meier curves of the time to a threshold and the log-rank test
# (R/survival.R), against hand computations and the survival package.

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
