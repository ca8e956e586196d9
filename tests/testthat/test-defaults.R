# Defaults and data handling a first-time user meets:
# random held-out rows, batch sizes that fit small data, a sweep that
# leaves R's random number generator alone, scaling, and the data's type.

tiny <- function(data, ..., epochs = 1L) {
  w1fe(data, epochs = epochs, critic_steps = 1, critic = wf_mlp(8), generator = wf_mlp(8),
       device = "cpu", verbose = FALSE, ...)
}

test_that("held-out rows are a random subset, seeded", {
  # sorted data: the last fifth of iris is all virginica
  x <- as.matrix(iris[, 1:4])
  fit <- suppressMessages(tiny(x, seed = 1, batch_size = 32))
  rows <- fit$holdout_rows
  expect_length(rows, 30L)
  expect_gte(length(unique(iris$Species[rows])), 3L)
  expect_equal(fit$holdout, unname(x[rows, ]))
  expect_equal(fit$data, unname(x[-rows, ])) # training rows keep their order
  expect_identical(suppressMessages(tiny(x, seed = 1, batch_size = 32))$holdout_rows, rows)
  expect_false(identical(suppressMessages(tiny(x, seed = 2, batch_size = 32))$holdout_rows,
                         rows))
  # a two-component mixture built by concatenation: both components held out
  set.seed(1)
  mix <- matrix(c(rnorm(500, -3), rnorm(500, 3)), ncol = 1)
  held <- tiny(mix, seed = 3, batch_size = 64, eval_n = 200)$holdout
  expect_true(any(held < 0) && any(held > 0))
  # `set.seed()` alone reproduces a run with seed = NULL, split included
  set.seed(8)
  a <- suppressMessages(tiny(x, batch_size = 32))
  set.seed(8)
  b <- suppressMessages(tiny(x, batch_size = 32))
  expect_identical(a$holdout_rows, b$holdout_rows)
  expect_identical(a$settings$seed, b$settings$seed)
})

test_that("holdout takes a fraction, a count or a matrix", {
  x <- wf_toy("8gaussians", n = 500, seed = 1)
  expect_identical(nrow(tiny(x, holdout = 0.2, batch_size = 64, seed = 1)$holdout), 100L)
  expect_identical(nrow(tiny(x, holdout = 0.5, batch_size = 64, seed = 1)$data), 250L)
  expect_identical(nrow(tiny(x, holdout = 40, batch_size = 64, seed = 1)$holdout), 40L)
  extra <- wf_toy("8gaussians", n = 120, seed = 2)
  f <- tiny(x, holdout = extra, batch_size = 64, seed = 1)
  expect_equal(f$holdout, unname(extra))
  expect_equal(f$data, unname(x))
  expect_null(f$holdout_rows)
  for (bad in list(1, 1.5, -0.2, 0, 500, NA, "a", c(0.1, 0.2))) {
    expect_arg_error(tiny(x, holdout = bad, batch_size = 64), "holdout",
                     info = paste(format(bad), collapse = " "))
  }
  out <- paste(capture.output(print(tiny(x, holdout = 0.2, batch_size = 64, seed = 1))),
               collapse = "\n")
  expect_match(out, "400 x 2 training, 100 held out (random rows)", fixed = TRUE)
})

test_that("a batch larger than the training rows is reduced to them, with a message", {
  for (data in list(faithful, as.matrix(iris[, 1:4]), as.matrix(mtcars))) {
    n_train <- nrow(data) - max(2L, min(1000L, nrow(data) %/% 5L))
    # (mtcars is also too small to mean much: a warning says so)
    expect_message(fit <- quiet_small(tiny(data, seed = 1, scale = TRUE)),
                   class = "wgflow_message_batch_size")
    expect_identical(fit$settings$batch_size, as.integer(n_train))
    expect_identical(fit$status, "completed")
  }
  x <- wf_toy("8gaussians", n = 500, seed = 1)
  expect_message(fit <- tiny(x, batch_size = 1000, seed = 1), "using batch_size = 400")
  expect_identical(fit$settings$batch_size, 400L)
  expect_silent(tiny(x, batch_size = 400, seed = 1))
})

test_that("wf_sweep() leaves R's random number generator as it found it", {
  old <- future::plan(future::sequential)
  on.exit(future::plan(old), add = TRUE)
  x <- wf_toy("8gaussians", n = 300, seed = 1)
  kind <- RNGkind()
  set.seed(42)
  a <- runif(3)
  set.seed(42)
  sw <- wf_sweep(x, NULL, seeds = 1:2, epochs = 1, batch_size = 32, critic = wf_mlp(8),
                 generator = wf_mlp(8), eval_n = 50)
  expect_identical(RNGkind(), kind)
  expect_identical(runif(3), a)
  set.seed(1)
  expect_identical(runif(1), {
    RNGkind("Mersenne-Twister", "Inversion", "Rejection")
    set.seed(1)
    runif(1)
  })
  # a fit's split does not depend on the session's RNG kind either
  RNGkind("L'Ecuyer-CMRG")
  on.exit(RNGkind(kind[1], kind[2], kind[3]), add = TRUE)
  f_lec <- tiny(x, batch_size = 32, seed = 4)
  RNGkind(kind[1], kind[2], kind[3])
  expect_identical(tiny(x, batch_size = 32, seed = 4)$holdout_rows, f_lec$holdout_rows)
})

test_that("scale = TRUE trains on scaled columns and samples in data units", {
  expect_message(raw <- tiny(faithful, seed = 1, batch_size = 64),
                 class = "wgflow_message_scale")
  expect_null(raw$scaling)
  fit <- tiny(faithful, seed = 1, batch_size = 64, scale = TRUE)
  train <- as.matrix(faithful)[-fit$holdout_rows, ]
  expect_equal(unname(fit$scaling$center), unname(colMeans(train)))
  expect_equal(unname(fit$scaling$scale), unname(apply(train, 2, sd)))
  expect_equal(colMeans(fit$data), c(0, 0), tolerance = 1e-12)
  expect_true(fit$settings$scale)
  # samples are the generator's output scaled back
  s <- wf_sample(fit, 50, seed = 3)
  expect_s3_class(s, "data.frame")
  expect_named(s, c("eruptions", "waiting"))
  z <- matrix(rnorm(20), 10, 2)
  g <- predict(fit, newdata = z, type = "generator")
  manual <- sweep(sweep(wf_forward(fit$generator, z), 2, fit$scaling$scale, "*"), 2,
                  fit$scaling$center, "+")
  expect_equal(as.matrix(g), manual, ignore_attr = TRUE)
  # the critic reads data in data units
  crit <- predict(fit, newdata = faithful[1:5, ], type = "critic")
  scaled <- sweep(sweep(as.matrix(faithful[1:5, ]), 2, fit$scaling$center), 2,
                  fit$scaling$scale, "/")
  expect_equal(crit$critic, wf_forward(fit$critic, scaled)[, 1])
  expect_match(paste(capture.output(print(fit)), collapse = "\n"), "scaled", fixed = TRUE)
  pdf(NULL)
  on.exit(dev.off(), add = TRUE)
  expect_silent(plot(fit, n = 50))
})

test_that("samples come back in the data's type", {
  x <- wf_toy("8gaussians", n = 300, seed = 1)
  m <- wf_sample(tiny(x, batch_size = 32, seed = 1), 4, seed = 1)
  expect_true(is.matrix(m))
  expect_identical(colnames(m), c("x", "y"))
  df <- as.data.frame(x)
  s <- wf_sample(tiny(df, batch_size = 32, seed = 1), 4, seed = 1)
  expect_s3_class(s, "data.frame")
  expect_false(inherits(s, "tbl_df"))
  expect_equal(as.matrix(s), m, ignore_attr = TRUE)
  tb <- tibble::as_tibble(df)
  s <- wf_sample(tiny(tb, batch_size = 32, seed = 1), 4, seed = 1)
  expect_s3_class(s, "tbl_df")
  expect_named(s, c("x", "y"))
})

test_that("a data frame's non-numeric column is named in the error", {
  cnd <- expect_arg_error(tiny(iris, batch_size = 16), "data")
  expect_match(conditionMessage(cnd), "column `Species` is a factor", fixed = TRUE)
  d <- data.frame(a = 1:5, b = letters[1:5])
  expect_match(conditionMessage(expect_arg_error(wf_wasserstein(d, d), "x")),
               "column `b` is of type character", fixed = TRUE)
})
