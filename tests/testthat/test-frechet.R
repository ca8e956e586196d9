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

test_that("wf_frechet of huge values is exact where the distance is finite, a classed error where not", {
  set.seed(3)
  x <- matrix(rnorm(100), 50, 2)
  y <- matrix(rnorm(100, 1), 50, 2)
  d <- wf_frechet(x, y, se = TRUE)
  # a power of two scales the squared distance exactly by its square
  expect_identical(wf_frechet(x * 2^400, y * 2^400, se = TRUE), d * 2^800)
  expect_equal(wf_frechet(x * 1e150, y * 1e150) / 1e300, d[["distance"]], tolerance = 1e-12)
  err <- expect_error(wf_frechet(x * 1e300, y), "overflows",
                      class = "wgflow_error_numeric")
  expect_s3_class(err, "wgflow_error_arg")
  expect_identical(err$arg, "x")
  expect_identical(expect_error(wf_frechet(x, y * 1e300))$arg, "y")
})

test_that("wf_frechet's trace term is that of (Sx Sy)^1/2 however computed", {
  # the symmetric form sqrt(eig(Sx^1/2 Sy Sx^1/2)) against the eigenvalues
  # of the (non-symmetric) product Sx Sy, on small matrices
  set.seed(7)
  x <- matrix(rnorm(240), 60, 4) %*% matrix(rnorm(16), 4)
  y <- matrix(rnorm(200, 1), 50, 4) %*% matrix(rnorm(16), 4)
  sx <- cov(x)
  sy <- cov(y)
  ev <- Re(eigen(sx %*% sy, only.values = TRUE)$values)
  want <- sum((colMeans(x) - colMeans(y))^2) + sum(diag(sx)) + sum(diag(sy)) -
    2 * sum(sqrt(pmax(ev, 0)))
  expect_equal(wf_frechet(x, y), want, tolerance = 1e-8)
  expect_equal(wgflow:::frechet_estimate(x, y, se = FALSE)[["distance"]], want,
               tolerance = 1e-8)
})

test_that("wf_frechet estimates the distance between two Gaussians; its se is the jackknife's", {
  # closed form: N(m1, S1) and N(m2, S2) with S1 = diag(1, 4, 9) and
  # S2 = diag(4, 1, 1) commute: |m1 - m2|^2 + sum (sqrt(s1) - sqrt(s2))^2
  set.seed(11)
  n <- 20000
  m1 <- c(0, 1, -1)
  m2 <- c(0.5, 1, 0)
  x <- sweep(matrix(rnorm(3 * n), n) %*% diag(c(1, 2, 3)), 2, m1, "+")
  y <- sweep(matrix(rnorm(3 * n), n) %*% diag(c(2, 1, 1)), 2, m2, "+")
  truth <- sum((m1 - m2)^2) + sum((c(1, 2, 3) - c(2, 1, 1))^2)
  est <- wf_frechet(x, y, se = TRUE)
  expect_named(est, c("distance", "se"))
  expect_lt(abs(est[["distance"]] - truth), 4 * est[["se"]])
  expect_gt(est[["se"]], 0.01)
  expect_lt(est[["se"]], 0.2)
  expect_identical(wf_frechet(x, y), est[["distance"]])
  # the delete-a-group jackknife by brute force: 10 groups of rows in order
  xs <- x[1:53, ]
  ys <- y[1:47, ]
  gx <- wgflow:::jackknife_groups(53)
  expect_identical(gx, sort(gx)) # contiguous, in order
  expect_true(all(table(gx) %in% 5:6) && length(unique(gx)) == 10)
  jk <- function(t) (length(t) - 1) / length(t) * sum((t - mean(t))^2)
  dx <- vapply(1:10, function(g) wf_frechet(xs[gx != g, ], ys), 1)
  gy <- wgflow:::jackknife_groups(47)
  dy <- vapply(1:10, function(g) wf_frechet(xs, ys[gy != g, ]), 1)
  expect_equal(wf_frechet(xs, ys, se = TRUE)[["se"]], sqrt(jk(dx) + jk(dy)),
               tolerance = 1e-8)
  # fewer rows than groups: one group per row
  expect_equal(wf_frechet(xs[1:4, ], ys[1:5, ], se = TRUE)[["se"]],
               sqrt(jk(vapply(1:4, function(i) wf_frechet(xs[(1:4)[-i], ], ys[1:5, ]), 1)) +
                      jk(vapply(1:5, function(i) wf_frechet(xs[1:4, ], ys[(1:5)[-i], ]), 1))),
               tolerance = 1e-8)
})

test_that("wf_frechet on LeNet features is wf_frechet of wf_features()", {
  set.seed(2)
  x <- matrix(runif(40 * 784, -1, 1), 40)
  y <- matrix(runif(30 * 784, -1, 0.5), 30)
  expect_equal(wf_frechet(x, y, features = "lenet", se = TRUE),
               wf_frechet(wf_features(x), wf_features(y), se = TRUE))
  expect_arg_error(wf_frechet(x, y, features = "inception"), "features")
  expect_arg_error(wf_frechet(x[, 1:100], y[, 1:100], features = "lenet"), "x")
  expect_arg_error(wf_frechet(x, y, se = NA), "se")
  expect_arg_error(wf_frechet(x[1:2, ], y, se = TRUE), "x")
  expect_arg_error(wf_frechet(x, y[1:2, ], se = TRUE), "y")
})
