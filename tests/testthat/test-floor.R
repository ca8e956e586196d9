# The sampling floor of an evaluation and the standard errors of its
# exact distances (R/floor.R, and every fit's evaluation).

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
