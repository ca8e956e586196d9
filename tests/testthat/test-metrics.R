# Exact W_p (wf_wasserstein, R/metrics.R): brute force on tiny clouds, the LP
# certificate, closed forms, symmetry, validation.

# all permutations of 1..n (n <= 7)
perms <- function(n) {
  if (n == 1) return(matrix(1L, 1, 1))
  p <- perms(n - 1)
  do.call(rbind, lapply(seq_len(n), function(k) {
    cbind(k, matrix(setdiff(seq_len(n), k)[p], nrow(p)))
  }))
}

cost_matrix <- function(x, y, p) {
  sq <- matrix(0, nrow(x), nrow(y))
  for (k in seq_len(ncol(x))) sq <- sq + outer(x[, k], y[, k], "-")^2
  sqrt(sq)^p
}

brute_wp <- function(x, y, p) {
  c <- cost_matrix(x, y, p)
  ps <- perms(nrow(x))
  best <- min(apply(ps, 1, function(s) mean(c[cbind(seq_len(nrow(x)), s)])))
  best^(1 / p)
}

test_that("wf_wasserstein matches brute force on tiny clouds", {
  set.seed(42)
  for (n in 1:6) {
    for (d in c(1, 2, 5)) {
      for (p in c(1, 2, 1.5)) {
        x <- matrix(rnorm(n * d), n, d)
        y <- matrix(rnorm(n * d, 0.5), n, d)
        if (n > 2) y[2, ] <- y[1, ] # a duplicated point
        expect_equal(wf_wasserstein(x, y, p), brute_wp(x, y, p), tolerance = 1e-12,
                     info = sprintf("n=%d d=%d p=%g", n, d, p))
      }
    }
  }
})

test_that("the plan carries an LP certificate (n = 200)", {
  set.seed(7)
  n <- 200
  x <- matrix(rnorm(2 * n), n, 2)
  y <- cbind(rnorm(n, 2, 0.5), rnorm(n, -1, 0.5))
  for (p in c(1, 2)) {
    res <- wf_wasserstein(x, y, p, plan = TRUE)
    expect_named(res, c("distance", "assignment", "u", "v", "se"))
    expect_true(is.finite(res$se) && res$se > 0)
    expect_type(res$assignment, "integer")
    expect_setequal(res$assignment, seq_len(n))
    c <- cost_matrix(x, y, p)
    scale <- max(c)
    slack <- c - outer(res$u, res$v, "+")
    expect_gte(min(slack), -1e-9 * scale)                      # dual feasible
    matched <- c[cbind(seq_len(n), res$assignment)]
    expect_lte(max(abs(slack[cbind(seq_len(n), res$assignment)])), 1e-9 * scale)
    expect_equal(mean(matched), res$distance^p, tolerance = 1e-12)
    expect_equal(mean(res$u) + mean(res$v), res$distance^p, tolerance = 1e-9)
    expect_equal(mean(res$v), 0, tolerance = 1e-12)
  }
})

test_that("closed forms: translates, 1-D sorted matching, self distance", {
  set.seed(3)
  n <- 300
  x <- matrix(rnorm(2 * n), n, 2)
  shift <- c(0.3, -0.4)
  y <- sweep(x, 2, shift, "+")
  # cyclical monotonicity: the identity is optimal, every pair moves by |t|
  for (p in c(1, 2, 3)) expect_equal(wf_wasserstein(x, y, p), 0.5, tolerance = 1e-12)
  expect_identical(wf_wasserstein(x, y, 2, plan = TRUE)$assignment, seq_len(n))
  expect_identical(wf_wasserstein(x, x), 0)
  # 1-D: the sorted matching is optimal for every p >= 1
  a <- matrix(rexp(500), ncol = 1)
  b <- matrix(rnorm(500, 1, 2), ncol = 1)
  for (p in c(1, 2)) {
    want <- mean(abs(sort(a) - sort(b))^p)^(1 / p)
    expect_equal(wf_wasserstein(a, b, p), want, tolerance = 1e-12)
  }
})

test_that("symmetry, data frames, integer input, ties", {
  set.seed(11)
  x <- matrix(rnorm(400), 200, 2)
  y <- matrix(runif(400), 200, 2)
  expect_equal(wf_wasserstein(x, y, 2), wf_wasserstein(y, x, 2), tolerance = 1e-12)
  expect_equal(wf_wasserstein(as.data.frame(x), y), wf_wasserstein(x, y))
  xi <- matrix(sample(0:3, 400, TRUE), 200, 2)
  yi <- matrix(sample(0:3, 400, TRUE), 200, 2)
  expect_equal(wf_wasserstein(xi, yi, 2), wf_wasserstein(xi + 0, yi + 0, 2))
  # all points equal on each side: every assignment is optimal
  expect_equal(wf_wasserstein(matrix(1, 150, 3), matrix(2, 150, 3), 1), sqrt(3))
  expect_equal(wf_wasserstein(matrix(5, 1, 2), matrix(c(2, 1), 1, 2)), 5)
})

test_that("the internal fast path agrees with wf_wasserstein", {
  set.seed(5)
  x <- matrix(rnorm(600), 300, 2)
  y <- matrix(rnorm(600, 1), 300, 2)
  expect_identical(wgflow:::ot_distance(x, y, 1), wf_wasserstein(x, y, 1))
  expect_identical(wgflow:::ot_distance(x, y, 2), wf_wasserstein(x, y, 2))
})

test_that("bad input is a classed error naming the argument", {
  x <- matrix(rnorm(20), 10, 2)
  expect_arg_error(wf_wasserstein("a", x), "x")
  expect_arg_error(wf_wasserstein(1:10, x), "x")
  expect_arg_error(wf_wasserstein(x, NULL), "y")
  expect_arg_error(wf_wasserstein(x, matrix(0, 10, 3)), "y")
  expect_arg_error(wf_wasserstein(x, x[1:9, ]), "y")
  expect_arg_error(wf_wasserstein(x, matrix(0, 0, 2)), "y")
  bad <- x
  bad[3, 1] <- NA
  expect_arg_error(wf_wasserstein(bad, x), "x")
  bad[3, 1] <- Inf
  expect_arg_error(wf_wasserstein(x, bad), "y")
  expect_arg_error(wf_wasserstein(x, data.frame(a = letters[1:10], b = 1:10)), "y")
  expect_arg_error(wf_wasserstein(x, x, p = 0.5), "p")
  expect_arg_error(wf_wasserstein(x, x, p = NA), "p")
  expect_arg_error(wf_wasserstein(x, x, p = c(1, 2)), "p")
  expect_arg_error(wf_wasserstein(x, x, p = Inf), "p")
  expect_arg_error(wf_wasserstein(x, x, plan = NA), "plan")
  expect_arg_error(wf_wasserstein(x, x, plan = "yes"), "plan")
  # coordinates whose costs would leave the double range are rescaled (W_p
  # is homogeneous); the dual potentials cannot be, and are an error
  expect_equal(wf_wasserstein(x * 1e200, x, p = 2),
               1e200 * wf_wasserstein(x, x * 1e-200, p = 2), tolerance = 1e-12)
  expect_error(wf_wasserstein(x * 1e200, x, p = 2, plan = TRUE),
               class = "wgflow_error_numeric")
})
