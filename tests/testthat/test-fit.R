# The fit constructor every family shares (R/fit.R) and the defaults and
# data handling a first-time user meets there: random held-out rows, batch
# sizes that fit small data, scaling, and the data's type.

test_that("too few training or evaluation rows give a classed warning, enough give none", {
  x <- wf_toy("8gaussians", 40, seed = 1)
  small <- function(x, ...) {
    w1fe(x, epochs = 1, critic = wf_mlp(4), generator = wf_mlp(4), batch_size = 8,
         critic_steps = 1, seed = 1, device = "cpu", verbose = FALSE, ...)
  }
  expect_warning(small(x), "32 training rows and 8 evaluation rows",
                 class = "wgflow_warning_small_data")
  big <- wf_toy("8gaussians", 300, seed = 1)
  expect_warning(small(big, eval_n = 20), "^Only 20 evaluation rows",
                 class = "wgflow_warning_small_data")
  expect_no_warning(small(big, eval_n = 30))
  # every family constructs through new_fit()
  expect_warning(ots_fit(x, epochs = 1, generator = wf_mlp(4), latent_dim = 2, batch_size = 8,
                         ots_max_steps = 20, ots_check_every = 10, ots_window = 20,
                         ots_bins = 4, seed = 1, device = "cpu", verbose = FALSE),
                 class = "wgflow_warning_small_data")
})

test_that("print() notes a distance clearly below its sampling floor", {
  x <- wf_toy("8gaussians", 1000, seed = 1)
  fit <- w1fe(x, epochs = 1, critic = wf_mlp(4), generator = wf_mlp(4), batch_size = 64,
              critic_steps = 1, eval_n = 100, seed = 1, device = "cpu", verbose = FALSE)
  expect_false(any(grepl("below the sampling floor", capture.output(print(fit)))))
  low <- fit
  low$metrics$w1[nrow(low$metrics)] <- 1e-3
  expect_output(print(low), "below the sampling floor")
  expect_output(print(low), "W1:")
})

test_that("a fit with a broken net gives one sentence naming the net", {
  x <- wf_toy("8gaussians", 300, seed = 1)
  fit <- w1fe(x, epochs = 1, critic = wf_mlp(4), generator = wf_mlp(4), batch_size = 64,
              critic_steps = 1, eval_n = 50, seed = 1, device = "cpu", verbose = FALSE)
  fit$critic <- wgflow:::copy_net(fit$critic)
  fit$critic$params[1] <- NaN
  err <- expect_error(print(fit), class = "wgflow_error_arg")
  expect_match(conditionMessage(err), "its `critic` is not a valid wf_net")
  expect_no_match(conditionMessage(err), "[.][.]")
})

test_that("every family takes a batch larger than its training rows by one rule: reduced, with a message", {
  x <- wf_toy("8gaussians", 300, seed = 1)
  common <- list(epochs = 1, batch_size = 5000, eval_n = 50, seed = 1, device = "cpu",
                 verbose = FALSE)
  fits <- list(
    rwp = function() do.call(rwp, c(list(x, critic = wf_mlp(4), generator = wf_mlp(4),
                                         latent_dim = 2), common)),
    ots = function() do.call(ots_fit, c(list(x, generator = wf_mlp(4), latent_dim = 2,
                                             ots_max_steps = 10, ots_check_every = 10,
                                             ots_window = 10, ots_bins = 4), common)))
  for (nm in names(fits)) {
    expect_message(f <- fits[[nm]](), class = "wgflow_message_batch_size")
    expect_identical(f$settings$batch_size, nrow(f$data), info = nm)
  }
  # a map fit: the smaller of the data's and the source's training rows
  p <- wf_toy_pair("4gaussians", 300, seed = 1)
  expect_message(m <- do.call(w2gan, c(list(p$target, source = p$source[1:200, ],
                                            critic = wf_mlp(4)), common)),
                 class = "wgflow_message_batch_size")
  expect_identical(m$settings$batch_size, min(nrow(m$data), nrow(m$source)))
})

test_that("a BatchNorm net that needs a double backward is refused with one class", {
  x <- wf_toy("8gaussians", 300, seed = 1)
  bn <- wf_mlp(8, norm = "batch")
  expect_error(w1fe(x, critic = bn, verbose = FALSE), class = "wgflow_error_batch_norm")
  expect_error(rwp(x, critic = bn, verbose = FALSE), class = "wgflow_error_batch_norm")
  expect_error(sbe(x, potential = bn, verbose = FALSE), class = "wgflow_error_batch_norm")
  p <- wf_toy_pair("4gaussians", 300, seed = 1)
  expect_error(w2gan(p$target, source = p$source, critic = bn, verbose = FALSE),
               class = "wgflow_error_batch_norm")
})

test_that("held-out rows are a random subset, seeded", {
  # sorted data: the last fifth of iris is all virginica
  x <- as.matrix(iris[, 1:4])
  fit <- suppressMessages(default_fit(x, seed = 1, batch_size = 32))
  rows <- fit$holdout_rows
  expect_length(rows, 30L)
  expect_gte(length(unique(iris$Species[rows])), 3L)
  expect_equal(fit$holdout, unname(x[rows, ]))
  expect_equal(fit$data, unname(x[-rows, ])) # training rows keep their order
  expect_identical(suppressMessages(default_fit(x, seed = 1, batch_size = 32))$holdout_rows, rows)
  expect_false(identical(suppressMessages(default_fit(x, seed = 2, batch_size = 32))$holdout_rows,
                         rows))
  # a two-component mixture built by concatenation: both components held out
  set.seed(1)
  mix <- matrix(c(rnorm(500, -3), rnorm(500, 3)), ncol = 1)
  held <- default_fit(mix, seed = 3, batch_size = 64, eval_n = 200)$holdout
  expect_true(any(held < 0) && any(held > 0))
  # `set.seed()` alone reproduces a run with seed = NULL, split included
  set.seed(8)
  a <- suppressMessages(default_fit(x, batch_size = 32))
  set.seed(8)
  b <- suppressMessages(default_fit(x, batch_size = 32))
  expect_identical(a$holdout_rows, b$holdout_rows)
  expect_identical(a$settings$seed, b$settings$seed)
})

test_that("holdout takes a fraction, a count or a matrix", {
  x <- wf_toy("8gaussians", n = 500, seed = 1)
  expect_identical(nrow(default_fit(x, holdout = 0.2, batch_size = 64, seed = 1)$holdout), 100L)
  expect_identical(nrow(default_fit(x, holdout = 0.5, batch_size = 64, seed = 1)$data), 250L)
  expect_identical(nrow(default_fit(x, holdout = 40, batch_size = 64, seed = 1)$holdout), 40L)
  extra <- wf_toy("8gaussians", n = 120, seed = 2)
  f <- default_fit(x, holdout = extra, batch_size = 64, seed = 1)
  expect_equal(f$holdout, unname(extra))
  expect_equal(f$data, unname(x))
  expect_null(f$holdout_rows)
  for (bad in list(1, 1.5, -0.2, 0, 500, NA, "a", c(0.1, 0.2))) {
    expect_arg_error(default_fit(x, holdout = bad, batch_size = 64), "holdout",
                     info = paste(format(bad), collapse = " "))
  }
  out <- paste(capture.output(print(default_fit(x, holdout = 0.2, batch_size = 64, seed = 1))),
               collapse = "\n")
  expect_match(out, "400 x 2 training, 100 held out (random rows)", fixed = TRUE)
})

test_that("a batch larger than the training rows is reduced to them, with a message", {
  for (data in list(faithful, as.matrix(iris[, 1:4]), as.matrix(mtcars))) {
    n_train <- nrow(data) - max(2L, min(1000L, nrow(data) %/% 5L))
    # (mtcars is also too small to mean much: a warning says so)
    expect_message(fit <- quiet_small(default_fit(data, seed = 1, scale = TRUE)),
                   class = "wgflow_message_batch_size")
    expect_identical(fit$settings$batch_size, as.integer(n_train))
    expect_identical(fit$status, "completed")
  }
  x <- wf_toy("8gaussians", n = 500, seed = 1)
  expect_message(fit <- default_fit(x, batch_size = 1000, seed = 1), "using batch_size = 400")
  expect_identical(fit$settings$batch_size, 400L)
  expect_silent(default_fit(x, batch_size = 400, seed = 1))
})

test_that("scale = TRUE trains on scaled columns and samples in data units", {
  expect_message(raw <- default_fit(faithful, seed = 1, batch_size = 64),
                 class = "wgflow_message_scale")
  expect_null(raw$scaling)
  fit <- default_fit(faithful, seed = 1, batch_size = 64, scale = TRUE)
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
  m <- wf_sample(default_fit(x, batch_size = 32, seed = 1), 4, seed = 1)
  expect_true(is.matrix(m))
  expect_identical(colnames(m), c("x", "y"))
  df <- as.data.frame(x)
  s <- wf_sample(default_fit(df, batch_size = 32, seed = 1), 4, seed = 1)
  expect_s3_class(s, "data.frame")
  expect_false(inherits(s, "tbl_df"))
  expect_equal(as.matrix(s), m, ignore_attr = TRUE)
  tb <- tibble::as_tibble(df)
  s <- wf_sample(default_fit(tb, batch_size = 32, seed = 1), 4, seed = 1)
  expect_s3_class(s, "tbl_df")
  expect_named(s, c("x", "y"))
})

test_that("a data frame's non-numeric column is named in the error", {
  cnd <- expect_arg_error(default_fit(iris, batch_size = 16), "data")
  expect_match(conditionMessage(cnd), "column `Species` is a factor", fixed = TRUE)
  d <- data.frame(a = 1:5, b = letters[1:5])
  expect_match(conditionMessage(expect_arg_error(wf_wasserstein(d, d), "x")),
               "column `b` is of type character", fixed = TRUE)
})
