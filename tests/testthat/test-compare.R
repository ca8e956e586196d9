# Comparisons between settings over seeds: bootstrap intervals and tests
# (R/compare.R).

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
