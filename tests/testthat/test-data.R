# Toy data: wf_toy() and wf_toy_pair().

all_toys <- c("8gaussians", "25gaussians", "swissroll", "rings",
              "4gaussians", "checkerboard", "2spirals")
pair_toys <- c("4gaussians", "checkerboard", "2spirals")

# Distance from each row of x to the nearest row of `centres`.
nearest_dist <- function(x, centres) {
  d <- vapply(seq_len(nrow(centres)), function(k) {
    sqrt((x[, 1] - centres[k, 1])^2 + (x[, 2] - centres[k, 2])^2)
  }, numeric(nrow(x)))
  apply(d, 1, min)
}
nearest_index <- function(x, centres) {
  d <- vapply(seq_len(nrow(centres)), function(k) {
    (x[, 1] - centres[k, 1])^2 + (x[, 2] - centres[k, 2])^2
  }, numeric(nrow(x)))
  max.col(-d, ties.method = "first")
}

# Every point in one of the squares of side `side` centred at `centres`.
in_squares <- function(x, centres, side) {
  inside <- vapply(seq_len(nrow(centres)), function(k) {
    abs(x[, 1] - centres[k, 1]) <= side / 2 & abs(x[, 2] - centres[k, 2]) <= side / 2
  }, logical(nrow(x)))
  rowSums(inside) == 1
}

toy_arg_error <- function(expr) {
  tryCatch({
    force(expr)
    NULL
  }, error = identity)
}

expect_toy_arg_error <- function(expr, arg) {
  cnd <- toy_arg_error(expr)
  expect_false(is.null(cnd))
  expect_s3_class(cnd, "wgflow_error_arg")
  expect_s3_class(cnd, "wgflow_error")
  expect_identical(cnd$arg, arg)
  invisible(cnd)
}

cc <- 1.5 / sqrt(2)

test_that("wf_toy returns an n x 2 double matrix with columns x, y", {
  for (nm in all_toys) {
    x <- wf_toy(nm, n = 257, seed = 1)
    expect_true(is.matrix(x), info = nm)
    expect_type(x, "double")
    expect_identical(dim(x), c(257L, 2L), info = nm)
    expect_identical(colnames(x), c("x", "y"), info = nm)
    expect_null(rownames(x))
    expect_true(all(is.finite(x)), info = nm)
  }
  expect_identical(dim(wf_toy("rings", n = 1, seed = 1)), c(1L, 2L))
  expect_identical(dim(wf_toy("8gaussians", n = 5.0, seed = 1)), c(5L, 2L))
  expect_identical(nrow(wf_toy("8gaussians", seed = 1)), 10000L)
})

test_that("wf_toy_pair returns independent source and target matrices", {
  for (nm in pair_toys) {
    p <- wf_toy_pair(nm, n = 300, seed = 2)
    expect_named(p, c("source", "target"))
    for (s in p) {
      expect_true(is.matrix(s))
      expect_type(s, "double")
      expect_identical(dim(s), c(300L, 2L))
      expect_identical(colnames(s), c("x", "y"))
    }
  }
  expect_identical(nrow(wf_toy_pair("2spirals", seed = 1)$source), 10000L)
})

test_that("a seed makes the draw reproducible", {
  for (nm in all_toys) {
    expect_identical(wf_toy(nm, 100, seed = 42), wf_toy(nm, 100, seed = 42),
                     info = nm)
    expect_false(identical(wf_toy(nm, 100, seed = 42), wf_toy(nm, 100, seed = 43)),
                 info = nm)
  }
  for (nm in pair_toys) {
    expect_identical(wf_toy_pair(nm, 100, seed = 7), wf_toy_pair(nm, 100, seed = 7))
  }
  expect_identical(wf_toy("rings", 50, seed = -3), wf_toy("rings", 50, seed = -3))
  # the seed, not the global state, decides
  set.seed(1)
  a <- wf_toy("swissroll", 50, seed = 9)
  set.seed(2)
  b <- wf_toy("swissroll", 50, seed = 9)
  expect_identical(a, b)
})

test_that("a seed leaves the global random stream untouched", {
  set.seed(123)
  u1 <- runif(5)
  x <- wf_toy("8gaussians", 100, seed = 1)
  p <- wf_toy_pair("checkerboard", 100, seed = 1)
  u2 <- runif(5)
  set.seed(123)
  expect_identical(c(u1, u2), runif(10))
  # also when there is no .Random.seed yet: none is created
  env <- globalenv()
  had <- exists(".Random.seed", envir = env, inherits = FALSE)
  if (had) saved <- get(".Random.seed", envir = env)
  rm(".Random.seed", envir = env)
  on.exit(if (had) assign(".Random.seed", saved, envir = env), add = TRUE)
  wf_toy("rings", 10, seed = 5)
  expect_false(exists(".Random.seed", envir = env, inherits = FALSE))
  # and a refused call leaves it alone
  set.seed(99)
  before <- get(".Random.seed", envir = env)
  expect_error(wf_toy("rings", 0, seed = 5))
  expect_identical(get(".Random.seed", envir = env), before)
})

test_that("seed = NULL uses the global stream (set.seed reproducibility)", {
  for (nm in all_toys) {
    set.seed(11)
    a <- wf_toy(nm, 100)
    set.seed(11)
    b <- wf_toy(nm, 100)
    expect_identical(a, b, info = nm)
    c <- wf_toy(nm, 100)
    expect_false(identical(b, c), info = nm)
  }
  set.seed(5)
  a <- wf_toy_pair("4gaussians", 100)
  set.seed(5)
  expect_identical(a, wf_toy_pair("4gaussians", 100))
  # seed = NULL advances the global stream
  set.seed(3)
  u <- runif(1)
  set.seed(3)
  wf_toy("8gaussians", 10)
  expect_false(identical(u, runif(1)))
})

test_that("8gaussians: points near 8 centres on radius 2 / 1.414", {
  x <- wf_toy("8gaussians", 8000, seed = 1)
  a <- (0:7) * pi / 4
  centres <- 2 * cbind(cos(a), sin(a)) / 1.414
  expect_true(all(nearest_dist(x, centres) < 0.15))
  k <- nearest_index(x, centres)
  expect_true(all(abs(table(factor(k, 1:8)) / 8000 - 1 / 8) < 0.02))
  resid <- x - centres[k, ]
  expect_equal(sd(as.vector(resid)), 0.02 / 1.414, tolerance = 0.05)
  expect_equal(unname(colMeans(x)), c(0, 0), tolerance = 0.05)
})

test_that("25gaussians: points near the scaled 5 x 5 grid", {
  x <- wf_toy("25gaussians", 10000, seed = 1)
  centres <- 2 * as.matrix(expand.grid(-2:2, -2:2)) / 2.828
  expect_true(all(nearest_dist(x, centres) < 0.15))
  k <- nearest_index(x, centres)
  expect_true(all(abs(table(factor(k, 1:25)) / 10000 - 1 / 25) < 0.015))
  resid <- x - centres[k, ]
  expect_equal(sd(as.vector(resid)), 0.05 / 2.828, tolerance = 0.05)
})

test_that("swissroll: radius and spread as the scaled sklearn roll", {
  x <- wf_toy("swissroll", 10000, seed = 1)
  r <- sqrt(rowSums(x^2))
  # t in [1.5 pi, 4.5 pi], so |(t cos t, t sin t)| / 7.5 in [0.63, 1.88]
  # (plus noise 0.25 / 7.5 per coordinate)
  expect_true(all(r > 1.5 * pi / 7.5 - 0.25) && all(r < 4.5 * pi / 7.5 + 0.25))
  expect_equal(mean(r), 3 * pi / 7.5, tolerance = 0.03)
})

test_that("rings: four circles of radii 0.5, 1, 1.5, 2 with equal weights", {
  x <- wf_toy("rings", 10000, seed = 1)
  r <- sqrt(rowSums(x^2))
  radii <- c(0.5, 1, 1.5, 2)
  k <- vapply(r, function(ri) which.min(abs(ri - radii)), integer(1))
  expect_true(all(abs(r - radii[k]) < 0.25))
  expect_true(all(abs(table(factor(k, 1:4)) / 10000 - 1 / 4) < 0.02))
  expect_equal(sd(r - radii[k]), 0.05, tolerance = 0.1)
  expect_equal(unname(colMeans(x)), c(0, 0), tolerance = 0.05)
})

test_that("4gaussians: source at scale 2, target at scale 1, sd 0.1, equal counts", {
  p <- wf_toy_pair("4gaussians", 8000, seed = 1)
  base <- cbind(c(1, 1, -1, -1), c(1, -1, 1, -1)) / sqrt(2)
  for (s in c(1, 2)) {
    x <- if (s == 2) p$source else p$target
    centres <- s * base
    k <- nearest_index(x, centres)
    expect_true(all(nearest_dist(x, centres) < 0.6))
    # round-robin components: exactly equal counts
    expect_identical(as.vector(table(factor(k, 1:4))), rep(2000L, 4))
    resid <- x - centres[k, ]
    expect_equal(sd(as.vector(resid)), 0.1, tolerance = 0.05)
    expect_equal(unname(colMeans(resid)), c(0, 0), tolerance = 0.01)
  }
  # the paper: the target's centres are closer to each other than the source's
  expect_lt(mean(abs(p$target)), mean(abs(p$source)))
  # the identity is about 1.0 from the Monge map (centre to centre)
  expect_equal(sqrt(sum((2 * base[1, ] - base[1, ])^2)), 1, tolerance = 1e-12)
  # wf_toy gives the target; components in random order
  x <- wf_toy("4gaussians", 8000, seed = 3)
  expect_true(all(nearest_dist(x, base) < 0.6))
  expect_equal(mean(abs(x)), 1 / sqrt(2), tolerance = 0.03)
  k <- nearest_index(x[1:40, ], base)
  expect_false(identical(k, rep_len(1:4, 40)))
  # counts stay equal when n is not a multiple of 4 (differ by at most one)
  k <- nearest_index(wf_toy("4gaussians", 10, seed = 1), base)
  expect_lte(diff(range(table(factor(k, 1:4)))), 1)
})

test_that("checkerboard: 4 source squares, 5 target squares of side 0.5", {
  src_c <- cbind(c(0, 0, cc, -cc), c(cc, -cc, 0, 0))
  tgt_c <- cbind(c(cc, -cc, cc, -cc, 0), c(cc, -cc, -cc, cc, 0))
  p <- wf_toy_pair("checkerboard", 10000, seed = 1)
  expect_true(all(in_squares(p$source, src_c, 0.5)))
  expect_true(all(in_squares(p$target, tgt_c, 0.5)))
  expect_false(any(in_squares(p$target, src_c, 0.5)))
  expect_false(any(in_squares(p$source, tgt_c, 0.5)))
  expect_identical(as.vector(table(factor(nearest_index(p$source, src_c), 1:4))),
                   rep(2500L, 4))
  k <- nearest_index(p$target, tgt_c)
  expect_identical(as.vector(table(factor(k, 1:5))), rep(2000L, 5))
  # uniform within the square: variance side^2 / 12 per coordinate
  resid <- p$target - tgt_c[k, ]
  expect_equal(unname(apply(resid, 2, var)), rep(0.25 / 12, 2), tolerance = 0.05)
  x <- wf_toy("checkerboard", 5000, seed = 2)
  expect_true(all(in_squares(x, tgt_c, 0.5)))
  expect_identical(as.vector(table(factor(nearest_index(x, tgt_c), 1:5))),
                   rep(1000L, 5))
})

test_that("2spirals: the public code's direction, source = target rotated 180 degrees", {
  p <- wf_toy_pair("2spirals", 5000, seed = 1)
  theta_max <- 570 * pi / 180
  # a dense copy of each noise-free curve: the public code's target (its
  # swissroll r_loader) is 0.15 (theta cos theta, -theta sin theta), its
  # source the same curve rotated by 180 degrees
  th <- seq(0, theta_max, length.out = 20000)
  tgt_curve <- 0.15 * cbind(th * cos(th), -th * sin(th))
  src_curve <- -tgt_curve
  # noise is U(0, 0.1) per coordinate, so the offset is at most 0.1 * sqrt(2)
  near <- function(x, curve) {
    vapply(seq_len(nrow(x)), function(i) {
      min((curve[, 1] - x[i, 1])^2 + (curve[, 2] - x[i, 2])^2)
    }, numeric(1))
  }
  idx <- 1:500
  expect_true(all(sqrt(near(p$source[idx, ], src_curve)) <= 0.1 * sqrt(2) + 1e-3))
  expect_true(all(sqrt(near(p$target[idx, ], tgt_curve)) <= 0.1 * sqrt(2) + 1e-3))
  r_max <- 0.15 * theta_max + 0.1 * sqrt(2)
  expect_true(all(sqrt(rowSums(p$source^2)) <= r_max))
  expect_true(all(sqrt(rowSums(p$target^2)) <= r_max))
  # theta = sqrt(U) * theta_max, so theta^2 is uniform: mean radius
  # 0.15 * E[theta] = 0.15 * 2/3 * theta_max (noise shifts it little)
  r_src <- sqrt(rowSums((p$source - 0.05)^2))
  expect_equal(mean(r_src), 0.15 * 2 / 3 * theta_max, tolerance = 0.03)
  # the outer end of the target (theta = 570 degrees: cos and sin < 0) lies
  # left and above, at 0.15 * 9.95 * (-0.87, 0.5); the source's right and
  # below
  far <- function(x) x[which.max(rowSums((x - 0.05)^2)), ]
  expect_true(far(p$target)[1] < -1 && far(p$target)[2] > 0.5)
  expect_true(far(p$source)[1] > 1 && far(p$source)[2] < -0.4)
  # the target is the source distribution rotated by 180 degrees (noise aside)
  expect_equal(unname(colMeans(p$target - 0.05)), -unname(colMeans(p$source - 0.05)),
               tolerance = 0.1)
  x <- wf_toy("2spirals", 500, seed = 2)
  expect_true(all(sqrt(near(x, tgt_curve)) <= 0.1 * sqrt(2) + 1e-3))
})

test_that("wf_toy_pair(labels = TRUE) returns the rows' components, the same draws", {
  centres <- list(
    "4gaussians" = list(source = 2 * cbind(c(1, 1, -1, -1), c(1, -1, 1, -1)) / sqrt(2),
                        target = cbind(c(1, 1, -1, -1), c(1, -1, 1, -1)) / sqrt(2)),
    checkerboard = list(source = cbind(c(0, 0, cc, -cc), c(cc, -cc, 0, 0)),
                        target = cbind(c(cc, -cc, cc, -cc, 0), c(cc, -cc, -cc, cc, 0))))
  for (pair in pair_toys) {
    p <- wf_toy_pair(pair, n = 1003, seed = 5)
    q <- wf_toy_pair(pair, n = 1003, seed = 5, labels = TRUE)
    expect_identical(q$source, p$source)
    expect_identical(q$target, p$target)
    expect_identical(names(q), c("source", "target", "source_labels", "target_labels"))
    expect_null(attributes(p$source)$component)
    for (side in c("source", "target")) {
      lab <- q[[paste0(side, "_labels")]]
      expect_type(lab, "integer")
      expect_length(lab, 1003L)
      if (pair == "2spirals") {
        expect_true(all(lab == 1L))
        next
      }
      # the label is the component: the nearest centre, in the listed order
      ctr <- centres[[pair]][[side]]
      expect_identical(lab, nearest_index(q[[side]], ctr))
      # equal counts: 1003 %/% k, one more for the first 1003 %% k
      k <- nrow(ctr)
      want <- 1003L %/% k + as.integer(seq_len(k) <= 1003L %% k)
      expect_identical(as.vector(table(factor(lab, seq_len(k)))), want)
    }
  }
  expect_null(attributes(wf_toy("checkerboard", 10, seed = 1))$component)
  expect_null(attributes(wf_toy("8gaussians", 10, seed = 1))$component)
  for (bad in list(NA, "yes", 1, c(TRUE, FALSE), NULL)) {
    expect_toy_arg_error(wf_toy_pair("4gaussians", n = 10, labels = bad), "labels")
  }
})

test_that("source and target are drawn independently", {
  p <- wf_toy_pair("4gaussians", 5000, seed = 1)
  # quadrant labels of row i of source and target are independent
  qs <- (p$source[, 1] > 0) * 2 + (p$source[, 2] > 0)
  qt <- (p$target[, 1] > 0) * 2 + (p$target[, 2] > 0)
  expect_gt(suppressWarnings(chisq.test(table(qs, qt)))$p.value, 1e-4)
  expect_false(isTRUE(all.equal(p$source * 2, p$target)))
})

test_that("invalid arguments raise classed errors naming the argument", {
  for (bad in list("bogus", NA_character_, 1, c("rings", "8gaussians"), NULL,
                   "8Gaussians", character(0))) {
    expect_toy_arg_error(wf_toy(bad), "name")
  }
  cnd <- toy_arg_error(wf_toy("bogus"))
  for (nm in all_toys) expect_match(conditionMessage(cnd), nm, fixed = TRUE)
  for (bad in list("swissroll", "rings", "8gaussians", "bogus", NA)) {
    expect_toy_arg_error(wf_toy_pair(bad), "name")
  }
  cnd <- toy_arg_error(wf_toy_pair("rings"))
  for (nm in pair_toys) expect_match(conditionMessage(cnd), nm, fixed = TRUE)
  for (bad in list(0, -1, 2.5, NA, NA_real_, Inf, NaN, "10", c(1, 2),
                   numeric(0), NULL, list(10), TRUE)) {
    expect_toy_arg_error(wf_toy("rings", n = bad), "n")
    expect_toy_arg_error(wf_toy_pair("2spirals", n = bad), "n")
  }
  for (bad in list(1.5, NA, NA_real_, Inf, -Inf, NaN, "1", c(1, 2),
                   numeric(0), list(1), 2^40, TRUE)) {
    expect_toy_arg_error(wf_toy("rings", n = 10, seed = bad), "seed")
    expect_toy_arg_error(wf_toy_pair("2spirals", n = 10, seed = bad), "seed")
  }
  expect_error(wf_toy("bogus"), class = "wgflow_error")
})

test_that("a seeded toy sample does not depend on the session's RNG kind", {
  a <- wf_toy("8gaussians", n = 50, seed = 3)
  old <- RNGkind()
  on.exit(RNGkind(old[1], old[2], old[3]), add = TRUE)
  RNGkind("L'Ecuyer-CMRG")
  b <- wf_toy("8gaussians", n = 50, seed = 3)
  expect_identical(a, b)
  expect_identical(RNGkind()[1], "L'Ecuyer-CMRG") # the session's kind is kept
  p1 <- wf_toy_pair("4gaussians", n = 40, seed = 2)
  RNGkind("Mersenne-Twister")
  expect_identical(wf_toy_pair("4gaussians", n = 40, seed = 2), p1)
})
