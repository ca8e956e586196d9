test_that("wf_frechet is the Frechet distance between Gaussian fits", {
  set.seed(2)
  x <- matrix(rnorm(600), 200, 3) %*% matrix(c(1, 0.3, 0, 0, 1, 0.5, 0.2, 0, 1), 3)
  expect_equal(wf_frechet(x, x), 0, tolerance = 1e-8)
  # y = a x + b: Sy = a^2 Sx commutes with Sx, so the distance is
  # |b + (a - 1) mean(x)|^2 + (1 - |a|)^2 tr(Sx)
  a <- -1.7
  b <- c(0.5, -2, 1)
  y <- a * x + matrix(b, nrow(x), 3, byrow = TRUE)
  want <- sum((b + (a - 1) * colMeans(x))^2) + (1 - abs(a))^2 * sum(diag(cov(x)))
  expect_equal(wf_frechet(x, y), want, tolerance = 1e-8)
  expect_equal(wf_frechet(y, x), want, tolerance = 1e-8)
  # one dimension: (m1 - m2)^2 + (s1 - s2)^2
  u <- rnorm(50)
  v <- rnorm(70, 1, 3)
  expect_equal(wf_frechet(matrix(u), matrix(v)), (mean(u) - mean(v))^2 + (sd(u) - sd(v))^2,
               tolerance = 1e-8)
  expect_arg_error(wf_frechet(x, y[, 1:2]), "y")
  expect_arg_error(wf_frechet(x[1, , drop = FALSE], y), "x")
  expect_arg_error(wf_frechet("a", y), "x")
})
