# plot() of a fit (R/plot.R): for "samples" (and its image branch in
# R/image-plot.R) what each kind of data is drawn as, how many rays, and
# where the legend goes, read from the plan the drawing returns; the base
# graphics of samples and metrics, the random stream, bad arguments.

plot_samples <- wgflow:::plot_fit_samples

plot_fit <- function(x, ...) {
  w1fe(x, epochs = 1, batch_size = 64, critic_steps = 1, critic = wf_mlp(4),
       generator = wf_mlp(4), eval_n = 50, seed = 1, device = "cpu", verbose = FALSE, ...)
}

test_that("2-D samples: at most 100 rays, the legend above the data", {
  pdf(NULL, width = 7, height = 7)
  on.exit(dev.off())
  fit <- plot_fit(wf_toy("8gaussians", 600, seed = 1))
  drawn <- plot_samples(fit, 500L, 1L)
  expect_identical(drawn$kind, "points")
  expect_identical(drawn$rays, 100L)
  expect_identical(drawn$legend, c("data", "z ~ N(0, I)", "z -> G(z)", "G(z)"))
  # the legend's box starts above the plot region's top, in the margin
  expect_gt(drawn$frame$legend$top - drawn$frame$legend$h, drawn$frame$usr[4])
  expect_identical(drawn$frame$rows, 1L)
  # a few points: one ray each
  expect_identical(plot_samples(fit, 30L, 1L)$rays, 30L)
  # in a narrow panel the legend takes two rows, still above the data
  op <- par(mfrow = c(1, 3))
  narrow <- plot_samples(fit, 100L, 1L)
  par(op)
  expect_identical(narrow$frame$rows, 2L)
  expect_gt(narrow$frame$legend$top - narrow$frame$legend$h, narrow$frame$usr[4])
  # plot() itself still returns the fit
  expect_identical(plot(fit, "samples", n = 50, main = "title"), fit)
})

test_that("a map fit's samples are labelled as source points and images", {
  pdf(NULL)
  on.exit(dev.off())
  p <- wf_toy_pair("4gaussians", 600, seed = 1)
  fit <- w2gan(p$target, source = p$source, epochs = 1, critic = wf_mlp(c(8, 8)),
               batch_size = 64, critic_steps = 1, eval_n = 50, seed = 1, device = "cpu",
               verbose = FALSE)
  expect_identical(plot_samples(fit, 200L, 1L)$legend,
                   c("data", "source x", "x -> G(x)", "G(x)"))
})

test_that("beyond ten coordinates no rays, and the plot says so", {
  pdf(NULL)
  on.exit(dev.off())
  set.seed(2)
  x <- matrix(rnorm(400 * 12), 400, 12)
  drawn <- plot_samples(plot_fit(x), 200L, 1L)
  expect_identical(drawn$kind, "points")
  expect_identical(drawn$rays, 0L)
  expect_identical(drawn$legend, c("data", "G(z)"))
  expect_match(drawn$sub, "first two of 12 coordinates; no rays in 12 dimensions",
               fixed = TRUE)
  # a latent of another dimension: no rays either
  low <- plot_samples(plot_fit(x[, 1:3], latent_dim = 2), 200L, 1L)
  expect_identical(low$rays, 0L)
  expect_match(low$sub, "latent dimension 2: no rays", fixed = TRUE)
})

test_that("one-channel images are drawn as images, data beside samples", {
  pdf(NULL)
  on.exit(dev.off())
  set.seed(3)
  x <- matrix(runif(300 * 64, -1, 1), 300, 64)
  attr(x, "image_shape") <- c(1L, 8L, 8L)
  fit <- plot_fit(x)
  drawn <- plot_samples(fit, 500L, 1L)
  expect_identical(drawn$kind, "images")
  expect_identical(drawn$rays, 0L)
  expect_identical(drawn$images, 36L)
  expect_identical(drawn$legend, c("data", "G(z)"))
  expect_identical(plot_samples(fit, 10L, 1L)$images, 10L)
  expect_identical(plot(fit), fit)
})

test_that("one-dimensional data are drawn as densities with the legend above", {
  pdf(NULL)
  on.exit(dev.off())
  set.seed(4)
  drawn <- plot_samples(plot_fit(matrix(rnorm(400), ncol = 1)), 200L, 1L)
  expect_identical(drawn$kind, "densities")
  expect_identical(drawn$legend, c("data", "G(z)", "z ~ N(0, I)"))
  expect_gt(drawn$frame$legend$top - drawn$frame$legend$h, drawn$frame$usr[4])
})

test_that("image_canvas lays images out with a pixel between them", {
  x <- rbind(rep(-1, 4), rep(1, 4), rep(0, 4))
  canvas <- wgflow:::image_canvas(x, c(2L, 2L), 2L, c(-1, 1))
  # 2 rows and 2 columns of 2 x 2 images, a pixel around each
  expect_identical(dim(canvas), c(7L, 7L))
  expect_true(all(canvas[2:3, 2:3] == 0))   # black
  expect_true(all(canvas[2:3, 5:6] == 1))   # white
  expect_true(all(canvas[5:6, 2:3] == 0.5)) # grey
  expect_true(all(canvas[5:6, 5:6] == 1))   # no fourth image: background
})

test_that("plot draws samples and metrics with base graphics", {
  fit <- methods_fit()
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
  fit <- methods_fit()
  pdf(NULL)
  on.exit(dev.off(), add = TRUE)
  set.seed(3)
  a <- stats::runif(1)
  set.seed(3)
  plot(fit, n = 50)
  expect_identical(stats::runif(1), a)
})

test_that("bad plot arguments give classed errors naming them", {
  fit <- methods_fit()
  pdf(NULL)
  on.exit(dev.off(), add = TRUE)
  expect_arg_error(plot(fit, what = "pictures"), "what")
  expect_arg_error(plot(fit, what = c("metrics", "samples")), "what")
  expect_arg_error(plot(fit, n = 0), "n")
  expect_arg_error(plot(fit, "metrics", metric = "accuracy"), "metric")
  expect_arg_error(plot(fit, seed = "a"), "seed")
})
