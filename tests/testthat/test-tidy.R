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

test_that("tidy gives the long form without NAs", {
  sparse <- tiny_fit(epochs = 4, eval_every = 3)
  td <- tidy(sparse)
  expect_s3_class(td, "tbl_df")
  expect_identical(names(td), c("epoch", "seconds", "metric", "value", "std.error"))
  expect_false(anyNA(td$value))
  # 7 training metrics every epoch, w1 and w2 at epochs 3 and 4 only.
  expect_identical(nrow(td), 4L * 7L + 2L * 2L)
  expect_setequal(td$epoch[td$metric == "w1"], c(3, 4))
  expect_equal(td$value[td$metric == "critic_loss"], sparse$metrics$critic_loss)
  expect_equal(td$seconds[td$metric == "w1"], sparse$metrics$seconds[3:4])
})

test_that("glance gives one row with final and best values", {
  fit <- methods_fit()
  gl <- glance(fit)
  expect_s3_class(gl, "tbl_df")
  expect_identical(nrow(gl), 1L)
  expect_true(all(c("algorithm", "penalty", "persistency", "epochs", "seconds",
                    "w1", "best_w1", "best_epoch", "w2", "status") %in% names(gl)))
  expect_identical(gl$algorithm, "w1fe")
  expect_identical(gl$penalty, "lp")
  expect_identical(gl$persistency, 3L)
  expect_identical(gl$epochs, 5L)
  expect_equal(gl$best_w1, min(fit$metrics$w1, na.rm = TRUE))
  expect_equal(gl$best_epoch, fit$metrics$epoch[which.min(fit$metrics$w1)])
  expect_equal(gl$w1, fit$metrics$w1[5])
  expect_equal(gl$w2, fit$metrics$w2[5])
  expect_equal(gl$seconds, max(fit$metrics$seconds))
  expect_identical(gl$status, "completed")
})
