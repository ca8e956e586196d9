# The kernel distance (R/kid.R): the unbiased MMD^2 with the cubic
# polynomial kernel against a direct double loop, its jackknife standard
# error against brute-force deletions, and the estimate against the
# closed form of the MMD^2 between two Gaussians.

# the estimator pair by pair: k(a, b) = (a . b / d + 1)^3
kid_direct <- function(x, y) {
  d <- ncol(x)
  k <- function(a, b) (sum(a * b) / d + 1)^3
  m <- nrow(x)
  n <- nrow(y)
  sxx <- syy <- sxy <- 0
  for (i in seq_len(m)) for (j in seq_len(m)) if (i != j) sxx <- sxx + k(x[i, ], x[j, ])
  for (i in seq_len(n)) for (j in seq_len(n)) if (i != j) syy <- syy + k(y[i, ], y[j, ])
  for (i in seq_len(m)) for (j in seq_len(n)) sxy <- sxy + k(x[i, ], y[j, ])
  sxx / (m * (m - 1)) + syy / (n * (n - 1)) - 2 * sxy / (m * n)
}

# E (a . b / d + 1)^3 for independent a ~ N(ma, sa), b ~ N(mb, sb): the
# expansion 1 + 3 E[a.b] / d + 3 E[(a.b)^2] / d^2 + E[(a.b)^3] / d^3 with
# the Gaussians' second and third raw moments
poly3_mean <- function(ma, sa, mb, sb) {
  d <- length(ma)
  third <- function(m, s) {
    t <- array(0, c(d, d, d))
    for (i in 1:d) for (j in 1:d) for (l in 1:d) {
      t[i, j, l] <- m[i] * m[j] * m[l] + m[i] * s[j, l] + m[j] * s[i, l] + m[l] * s[i, j]
    }
    t
  }
  e1 <- sum(ma * mb)
  e2 <- sum((sa + tcrossprod(ma)) * (sb + tcrossprod(mb)))
  e3 <- sum(third(ma, sa) * third(mb, sb))
  1 + 3 * e1 / d + 3 * e2 / d^2 + e3 / d^3
}

mmd2_gauss <- function(m1, s1, m2, s2) {
  poly3_mean(m1, s1, m1, s1) + poly3_mean(m2, s2, m2, s2) - 2 * poly3_mean(m1, s1, m2, s2)
}

test_that("wf_kid is the unbiased MMD^2 with the cubic kernel, pair by pair", {
  set.seed(1)
  x <- matrix(rnorm(27 * 3), 27)
  y <- matrix(rnorm(22 * 3, 0.4), 22)
  expect_equal(wf_kid(x, y), kid_direct(x, y), tolerance = 1e-10)
  expect_equal(wf_kid(y, x), kid_direct(x, y), tolerance = 1e-10)
  expect_equal(wgflow:::kid_estimate(x, y, se = FALSE)[["distance"]], kid_direct(x, y),
               tolerance = 1e-10)
  # one column, unequal sizes
  expect_equal(wf_kid(x[, 1, drop = FALSE], y[1:5, 1, drop = FALSE]),
               kid_direct(x[, 1, drop = FALSE], y[1:5, 1, drop = FALSE]), tolerance = 1e-10)
})

test_that("wf_kid's standard error is the two-sample delete-a-group jackknife", {
  set.seed(2)
  x <- matrix(rnorm(34 * 2), 34)
  y <- matrix(rnorm(25 * 2, 0.3), 25)
  jk <- function(t) (length(t) - 1) / length(t) * sum((t - mean(t))^2)
  gx <- wgflow:::jackknife_groups(34)
  gy <- wgflow:::jackknife_groups(25)
  dx <- vapply(1:10, function(g) kid_direct(x[gx != g, ], y), 1)
  dy <- vapply(1:10, function(g) kid_direct(x, y[gy != g, ]), 1)
  est <- wf_kid(x, y, se = TRUE)
  expect_named(est, c("distance", "se"))
  expect_equal(est[["distance"]], kid_direct(x, y), tolerance = 1e-10)
  expect_equal(est[["se"]], sqrt(jk(dx) + jk(dy)), tolerance = 1e-8)
})

test_that("wf_kid estimates the MMD^2 between two Gaussians (closed form)", {
  set.seed(3)
  n <- 3000
  m1 <- c(0, 0)
  s1 <- diag(2)
  m2 <- c(0.3, -0.2)
  s2 <- matrix(c(1.5, 0.3, 0.3, 0.8), 2)
  x <- matrix(rnorm(2 * n), n) %*% chol(s1) + matrix(m1, n, 2, byrow = TRUE)
  y <- matrix(rnorm(2 * n), n) %*% chol(s2) + matrix(m2, n, 2, byrow = TRUE)
  truth <- mmd2_gauss(m1, s1, m2, s2)
  expect_gt(truth, 0.1)
  est <- wf_kid(x, y, se = TRUE)
  expect_lt(abs(est[["distance"]] - truth), 4 * est[["se"]])
  expect_lt(est[["se"]], 0.2 * truth)
  # one law: 0 within its error (the estimator is unbiased)
  z <- matrix(rnorm(2 * n), n)
  same <- wf_kid(x, z, se = TRUE)
  expect_lt(abs(same[["distance"]]), 4 * same[["se"]])
})

test_that("wf_kid on LeNet features is wf_kid of wf_features(); arguments are checked", {
  set.seed(4)
  x <- matrix(runif(30 * 784, -1, 1), 30)
  y <- matrix(runif(35 * 784, -1, 0.5), 35)
  expect_equal(wf_kid(x, y, features = "lenet", se = TRUE),
               wf_kid(wf_features(x), wf_features(y), se = TRUE))
  expect_arg_error(wf_kid(x, y, features = "inception"), "features")
  expect_arg_error(wf_kid(x, y[, 1:10]), "y")
  expect_arg_error(wf_kid(x[1, , drop = FALSE], y), "x")
  expect_arg_error(wf_kid(x, y, se = "yes"), "se")
  expect_arg_error(wf_kid(x[1:2, ], y, se = TRUE), "x")
})
