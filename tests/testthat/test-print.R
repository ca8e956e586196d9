# print() and summary() of a fit (R/print.R).

test_that("print shows the algorithm, nets, epochs, distances, time", {
  fit <- methods_fit()
  out <- capture.output(res <- print(fit))
  expect_identical(res, fit)
  txt <- paste(out, collapse = "\n")
  expect_match(txt, "W1-FE-LP (K = 3)", fixed = TRUE)
  expect_match(txt, "2 -> 32 -> 32 -> 1", fixed = TRUE)
  expect_match(txt, "2 -> 32 -> 32 -> 2", fixed = TRUE)
  expect_match(txt, "5 done, completed", fixed = TRUE)
  best <- which.min(fit$metrics$w1)
  expect_match(txt, sprintf("at epoch %d", fit$metrics$epoch[best]), fixed = TRUE)
  expect_match(txt, "W1:", fixed = TRUE)
  expect_match(txt, "W2:", fixed = TRUE)
  expect_match(txt, "cpu", fixed = TRUE)
  expect_lte(length(out), 24)
})

test_that("print labels WGAN fits and shows a status message", {
  g <- tiny_fit(fn = wgan, penalty = "gp", epochs = 2)
  expect_match(paste(capture.output(print(g)), collapse = "\n"), "WGAN-GP", fixed = TRUE)
  g$status <- "interrupted"
  g$message <- "interrupted by the user"
  expect_match(paste(capture.output(print(g)), collapse = "\n"),
               "interrupted by the user", fixed = TRUE)
})

test_that("summary collects settings, final and best metrics", {
  fit <- methods_fit()
  s <- summary(fit)
  expect_s3_class(s, "summary.wf_fit")
  expect_identical(s$epochs, 5L)
  expect_true(all(c("persistency", "penalty", "batch_size", "critic") %in% s$settings$setting))
  expect_identical(s$settings$value[s$settings$setting == "critic"], "32-32 relu")
  expect_equal(s$best$value[s$best$metric == "w1"], min(fit$metrics$w1, na.rm = TRUE))
  expect_equal(s$final$value[s$final$metric == "w1"], fit$metrics$w1[5])
  expect_equal(s$seconds_per_epoch, max(fit$metrics$seconds) / 5)
  out <- capture.output(print(s))
  expect_true(any(grepl("Settings", out)))
  expect_true(any(grepl("Lowest exact distances (minimum over noisy evaluations, biased low)",
                        out, fixed = TRUE)))
  expect_true(any(grepl("Sampling floor", out)))
  expect_true(any(grepl("per epoch", out)))
})
