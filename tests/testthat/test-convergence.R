# Per-run summaries of sweeps and fits, with censored times to a threshold
# (R/convergence.R).

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
