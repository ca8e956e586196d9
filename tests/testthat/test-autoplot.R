# autoplot() of a fit, several fits and a sweep (R/autoplot.R).

test_that("autoplot returns a ggplot for a fit, several fits and a sweep", {
  fit <- methods_fit()
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
  expect_arg_error(ggplot2::autoplot(sw, color = "nope"), "color")
})

test_that("autoplot refuses a fit without recorded epochs, naming it", {
  fit <- methods_fit()
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
  fit <- methods_fit()
  skip_if_not_installed("ggplot2")
  expect_arg_error(ggplot2::autoplot(fit, metric = "nope"), "metric")
  expect_arg_error(ggplot2::autoplot(fit, x = "time"), "x")
  expect_arg_error(ggplot2::autoplot(fit, ribbon = "box"), "ribbon")
  expect_arg_error(ggplot2::autoplot(fit, 1), "...")
})
