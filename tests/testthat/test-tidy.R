# broom and ggplot2 verbs for sweeps and lists of fits (R/tidy.R).

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
