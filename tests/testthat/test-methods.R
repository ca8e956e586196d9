# print, summary, tidy/glance, autoplot and plot of fits.

tiny_fit <- function(seed = 1, persistency = 3L, epochs = 5L, fn = w1fe, ...) {
  x <- wf_toy("8gaussians", n = 2000, seed = 1)
  args <- modifyList(
    list(x, epochs = epochs, batch_size = 128, critic = wf_mlp(c(32, 32)),
         generator = wf_mlp(c(32, 32)), eval_n = 200, eval_every = 1,
         seed = seed, verbose = FALSE),
    list(...))
  if (!identical(fn, wgan)) args$persistency <- persistency
  do.call(fn, args)
}

fit <- tiny_fit()

expect_classed_arg_error <- function(expr, arg) {
  cnd <- tryCatch({
    force(expr)
    NULL
  }, error = identity)
  expect_false(is.null(cnd))
  expect_s3_class(cnd, "wgflow_error_arg")
  expect_s3_class(cnd, "wgflow_error")
  expect_identical(cnd$arg, arg)
  expect_match(conditionMessage(cnd), paste0("`", arg, "`"), fixed = TRUE)
}

test_that("print shows the algorithm, nets, epochs, distances, time", {
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

test_that("autoplot returns a ggplot for a fit, several fits and a sweep", {
  skip_if_not_installed("ggplot2")
  p <- ggplot2::autoplot(fit)
  expect_s3_class(p, "ggplot")
  expect_s3_class(ggplot2::ggplot_build(p), "ggplot_built")
  expect_setequal(levels(p$data$axis), c("epoch", "wall time (s)"))
  p1 <- ggplot2::autoplot(fit, metric = "w1_critic", x = "epoch")
  expect_s3_class(p1, "ggplot")
  expect_identical(unique(as.character(p1$data$axis)), "epoch")

  f2 <- tiny_fit(seed = 2)
  k1 <- tiny_fit(fn = wgan)
  p2 <- ggplot2::autoplot(fit, f2, k1)
  expect_s3_class(p2, "ggplot")
  expect_identical(p2$labels$colour, "label")
  expect_s3_class(ggplot2::ggplot_build(p2), "ggplot_built")
  p3 <- ggplot2::autoplot(fit, list(a = f2, b = k1))
  expect_s3_class(p3, "ggplot")

  runs <- lapply(list(fit, f2, k1, tiny_fit(fn = wgan, seed = 2)), function(f) {
    m <- f$metrics
    m$persistency <- f$settings$persistency
    m$penalty <- f$settings$penalty
    m$seed <- f$settings$seed
    m
  })
  sw <- do.call(rbind, runs)
  class(sw) <- c("wf_sweep", class(sw))
  ps <- ggplot2::autoplot(sw)
  expect_s3_class(ps, "ggplot")
  expect_identical(ps$labels$colour, "persistency")
  built <- ggplot2::ggplot_build(ps)
  # Two colours (K = 1, K = 3), mean of two seeds each, with a ribbon.
  expect_identical(length(unique(ps$data$colour)), 2L)
  expect_true(all(ps$data$n == 2L))
  expect_true(any(vapply(ps$layers, function(l) inherits(l$geom, "GeomRibbon"), logical(1))))
  ps2 <- ggplot2::autoplot(sw, metric = "w2", x = "seconds", ribbon = "sd", color = "seed")
  expect_s3_class(ps2, "ggplot")
  expect_classed_arg_error(ggplot2::autoplot(sw, color = "nope"), "color")
})

test_that("autoplot refuses a fit without recorded epochs, naming it", {
  skip_if_not_installed("ggplot2")
  f <- fit
  f$metrics <- NULL
  err <- expect_arg_error(ggplot2::autoplot(f), "object")
  expect_match(conditionMessage(err), "no recorded epochs")
  f$metrics <- fit$metrics[0, ]
  expect_arg_error(ggplot2::autoplot(f), "object")
  expect_arg_error(ggplot2::autoplot(fit, f), "...")
})

test_that("autoplot draws a wf_sweep() result", {
  skip_if_not_installed("ggplot2")
  x <- wf_toy("8gaussians", n = 1000, seed = 1)
  grid <- data.frame(persistency = c(1, 3))
  grid$generator <- list(wf_mlp(8), wf_mlp(16))
  sw <- wf_sweep(x, grid, seeds = 1:2, epochs = 3, batch_size = 64,
                 critic = wf_mlp(8), eval_n = 50, eval_every = 1)
  p <- ggplot2::autoplot(sw)
  expect_s3_class(p, "ggplot")
  expect_identical(p$labels$colour, "persistency")
  expect_true(all(p$data$n == 2L))
  expect_s3_class(ggplot2::ggplot_build(p), "ggplot_built")
  pg <- ggplot2::autoplot(sw, color = "generator", x = "epoch")
  expect_setequal(levels(pg$data$colour), c("8 relu", "16 relu"))
})

test_that("autoplot validates its arguments", {
  skip_if_not_installed("ggplot2")
  expect_classed_arg_error(ggplot2::autoplot(fit, metric = "nope"), "metric")
  expect_classed_arg_error(ggplot2::autoplot(fit, x = "time"), "x")
  expect_classed_arg_error(ggplot2::autoplot(fit, ribbon = "box"), "ribbon")
  expect_classed_arg_error(ggplot2::autoplot(fit, 1), "...")
})

test_that("plot draws samples and metrics with base graphics", {
  pdf(NULL)
  on.exit(dev.off(), add = TRUE)
  expect_identical(plot(fit), fit)
  expect_silent(plot(fit, "samples", n = 100, main = "title"))
  expect_silent(plot(fit, "metrics"))
  expect_silent(plot(fit, "metrics", metric = "critic_loss"))
  # Latent dimension other than the data's: no rays; 3-D data: two coordinates.
  x3 <- cbind(wf_toy("8gaussians", n = 600, seed = 1), 0)
  f3 <- w1fe(x3, epochs = 1, batch_size = 64, critic = wf_mlp(8), generator = wf_mlp(8),
             latent_dim = 2, eval_n = 50, seed = 1, verbose = FALSE)
  expect_silent(plot(f3, n = 50))
})

test_that("plot does not disturb the random stream with a seed", {
  pdf(NULL)
  on.exit(dev.off(), add = TRUE)
  set.seed(3)
  a <- stats::runif(1)
  set.seed(3)
  plot(fit, n = 50)
  expect_identical(stats::runif(1), a)
})

test_that("bad plot arguments give classed errors naming them", {
  pdf(NULL)
  on.exit(dev.off(), add = TRUE)
  expect_classed_arg_error(plot(fit, what = "pictures"), "what")
  expect_classed_arg_error(plot(fit, what = c("metrics", "samples")), "what")
  expect_classed_arg_error(plot(fit, n = 0), "n")
  expect_classed_arg_error(plot(fit, "metrics", metric = "accuracy"), "metric")
  expect_classed_arg_error(plot(fit, seed = "a"), "seed")
})

test_that("predict(fit, 5) points at n =", {
  x <- wf_toy("8gaussians", 400, seed = 1)
  fit <- w1fe(x, epochs = 1, critic = wf_mlp(4), generator = wf_mlp(4), batch_size = 64,
              critic_steps = 1, eval_n = 50, seed = 1, device = "cpu", verbose = FALSE)
  expect_error(predict(fit, 5), "predict\\(fit, n = 5\\)", class = "wgflow_error_arg")
  expect_identical(nrow(predict(fit, n = 5)), 5L)
})
