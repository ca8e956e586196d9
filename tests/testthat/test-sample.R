# The generics of R/sample.R as a user of stats meets them: predict()'s
# value types, simulate()'s "seed" attribute and its list of samples,
# nobs(), and residuals() as a classed error.

sample_data <- wf_toy("8gaussians", n = 600, seed = 3)

sample_fit <- function(data = sample_data, ...) {
  w1fe(data, epochs = 1, batch_size = 64, critic_steps = 1, critic = wf_mlp(8),
       generator = wf_mlp(8), eval_n = 60, seed = 1, device = "cpu", verbose = FALSE, ...)
}

test_that("predict() names a network's values and keeps the data's type", {
  fit <- sample_fit()
  v <- predict(fit, newdata = sample_data[1:4, ], type = "critic")
  expect_true(is.matrix(v))
  expect_identical(colnames(v), "critic")
  expect_equal(unname(v), wf_forward(fit$critic, unname(sample_data[1:4, ])))
  # a data frame's fit: a data frame with a `critic` column, as its samples
  df <- as.data.frame(sample_data)
  fd <- sample_fit(df)
  vd <- predict(fd, newdata = df[1:4, ], type = "critic")
  expect_s3_class(vd, "data.frame")
  expect_named(vd, "critic")
  expect_equal(vd$critic, v[, "critic"])
  expect_s3_class(predict(fd, n = 3, seed = 1), "data.frame")
  # and a tibble's fit a tibble
  ft <- sample_fit(tibble::as_tibble(df))
  expect_s3_class(predict(ft, newdata = df[1:2, ], type = "critic"), "tbl_df")
})

test_that("residuals() is a classed error that says what to use instead", {
  fit <- sample_fit()
  err <- expect_error(residuals(fit), class = "wgflow_error_unsupported")
  expect_match(conditionMessage(err), "no residuals")
  expect_match(conditionMessage(err), "wf_sample", fixed = TRUE)
  expect_error(resid(fit), class = "wgflow_error_unsupported")
  expect_error(fitted(fit), class = "wgflow_error_unsupported")
})

test_that("nobs() counts the training rows, not the held-out ones", {
  fit <- sample_fit()
  expect_identical(nobs(fit), nrow(fit$data))
  expect_identical(nobs(fit), nrow(sample_data) - nrow(fit$holdout))
  broken <- fit
  broken$data <- NULL
  expect_identical(nobs(broken), NA_integer_)
})

test_that("simulate() follows stats::simulate()'s seed attribute", {
  fit <- sample_fit()
  # a seed: the seed, with the RNG kind
  sims <- simulate(fit, nsim = 2, seed = 5, n = 4)
  expect_named(sims, c("sim_1", "sim_2"))
  expect_identical(as.vector(attr(sims, "seed")), 5L)
  expect_identical(attr(attr(sims, "seed"), "kind"), as.list(RNGkind()))
  expect_identical(sims$sim_2, wf_sample(fit, 4, seed = 6))
  # no seed: the RNG state before the draws, from which they repeat
  set.seed(11)
  a <- simulate(fit, nsim = 2, n = 4)
  state <- attr(a, "seed")
  expect_type(state, "integer")
  assign(".Random.seed", state, envir = globalenv())
  b <- simulate(fit, nsim = 2, n = 4)
  expect_identical(unclass(b), unclass(a))
  # without a .Random.seed yet, one is made first
  old <- get(".Random.seed", envir = globalenv())
  rm(".Random.seed", envir = globalenv())
  on.exit(assign(".Random.seed", old, envir = globalenv()))
  expect_type(attr(simulate(fit, n = 2), "seed"), "integer")
})

test_that("simulate() of a data frame's fit is a list of data frames", {
  fd <- sample_fit(as.data.frame(sample_data))
  sims <- simulate(fd, nsim = 3, seed = 1, n = 5)
  expect_type(sims, "list")
  expect_length(sims, 3L)
  for (s in sims) {
    expect_s3_class(s, "data.frame")
    expect_identical(dim(s), c(5L, 2L))
  }
})

test_that("predict(fit, 5) points at n =", {
  x <- wf_toy("8gaussians", 400, seed = 1)
  fit <- w1fe(x, epochs = 1, critic = wf_mlp(4), generator = wf_mlp(4), batch_size = 64,
              critic_steps = 1, eval_n = 50, seed = 1, device = "cpu", verbose = FALSE)
  expect_error(predict(fit, 5), "predict\\(fit, n = 5\\)", class = "wgflow_error_arg")
  expect_identical(nrow(predict(fit, n = 5)), 5L)
})

test_that("predict() has real types and refuses unknown ones", {
  fit <- live_fit(epochs = 2)
  expect_identical(predict(fit, n = 7, seed = 2), wf_sample(fit, 7, seed = 2))
  z <- matrix(rnorm(6), 3, 2)
  expect_equal(predict(fit, z, type = "generator"), wf_forward(fit$generator, z),
               ignore_attr = TRUE)
  expect_equal(unname(predict(fit, live_data[1:4, ], type = "critic")),
               wf_forward(fit$critic, unname(live_data[1:4, ])))
  expect_arg_error(predict(fit, type = "potential"), "type")
  expect_arg_error(predict(fit, z), "newdata") # data rows are not latents
  expect_arg_error(predict(fit, type = "critic"), "newdata")
  expect_arg_error(predict(fit, matrix(0, 2, 3), type = "critic"), "newdata")
})

test_that("simulate(), coef() and fitted() do what a user expects", {
  fit <- live_fit(epochs = 2)
  sims <- simulate(fit, nsim = 3, seed = 1, n = 5)
  expect_length(sims, 3L)
  expect_identical(sims[[1]], wf_sample(fit, 5, seed = 1))
  expect_false(identical(sims[[1]], sims[[2]]))
  expect_identical(as.vector(attr(sims, "seed")), 1L)
  expect_identical(nrow(simulate(fit)[[1]]), nrow(fit$data))
  cf <- coef(fit)
  expect_named(cf, c("critic", "generator"))
  expect_identical(cf$generator, wf_params(fit$generator))
  expect_error(fitted(fit), class = "wgflow_error_unsupported")
  expect_arg_error(simulate(fit, nsim = 0), "nsim")
})
