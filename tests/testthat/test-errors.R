# Errors and numerics (R/errors.R and the checks it serves): values beyond float32,
# samples of a diverged fit, objects of the right class with the wrong
# contents, out-of-memory and zero-column messages, exact OT at extreme
# scales, and the C memory of nets seen by R's collector.

num_net <- function() wf_net(wf_mlp(c(8, 8)), 2, 1, seed = 1)

num_fit <- function(...) {
  w1fe(wf_toy("8gaussians", n = 400, seed = 1), epochs = 2, batch_size = 32,
       critic_steps = 1, critic = wf_mlp(8), generator = wf_mlp(8), eval_n = 50,
       seed = 1, device = "cpu", verbose = FALSE, ...)
}

# ---- float32 range ------------------------------------------------------

test_that("finite doubles beyond float32 are refused, naming the argument", {
  net <- num_net()
  n <- length(wf_params(net))
  cnd <- expect_arg_error(wf_params(net) <- rep(1e39, n), "value")
  expect_match(conditionMessage(cnd), "single-precision")
  expect_true(all(is.finite(wf_params(net))))
  expect_arg_error(wf_forward(net, matrix(1e39, 1, 2)), "x")
  expect_arg_error(wf_input_grad(net, matrix(-1e39, 1, 2)), "x")
  expect_arg_error(wf_backward(net, matrix(1, 1, 2), matrix(1e39, 1, 1)), "dy")
  expect_arg_error(wf_double_backward(net, matrix(1, 1, 2), matrix(1e39, 1, 2)), "u")
  real <- matrix(1, 4, 2)
  expect_arg_error(wf_critic_loss(net, real * 1e39, real), "real")
  expect_arg_error(wf_critic_step(net, real, real * 1e39, wf_adam()), "fake")
  expect_arg_error(wf_optim_step(net, rep(1e39, n), wf_sgd()), "grad")
  x <- wf_toy("8gaussians", n = 400, seed = 1)
  expect_arg_error(w1fe(x * 1e39, epochs = 1, batch_size = 32, verbose = FALSE), "data")
  expect_arg_error(w1fe(x, holdout = x[1:10, ] * 1e39, epochs = 1, batch_size = 32,
                        verbose = FALSE), "holdout")
  # values at the edge of the range are fine, and scale = TRUE takes any finite data
  expect_true(all(is.finite(wf_forward(net, matrix(3e38, 1, 2)) * 0 + 1)))
  fit <- w1fe(x * 1e39, epochs = 2, batch_size = 32, critic = wf_mlp(8),
              generator = wf_mlp(8), eval_n = 50, seed = 1, verbose = FALSE, scale = TRUE)
  expect_identical(fit$status, "completed")
  expect_true(all(is.finite(as.matrix(wf_sample(fit, 5, seed = 1)))))
})

# ---- samples of a diverged fit -----------------------------------------------

test_that("samples that are not finite come with a warning", {
  fit <- num_fit()
  wf_params(fit$generator) <- 1e30 * wf_params(fit$generator)
  fit$status <- "diverged"
  fit$message <- "training diverged at epoch 2"
  w <- expect_warning(s <- wf_sample(fit, 100, seed = 1), class = "wgflow_warning_nonfinite")
  expect_match(conditionMessage(w), "of 200 values are not finite \\(the fit diverged")
  expect_false(all(is.finite(s)))
  expect_warning(predict(fit, matrix(1, 2, 2), type = "generator"),
                 class = "wgflow_warning_nonfinite")
  expect_warning(simulate(fit, n = 10), class = "wgflow_warning_nonfinite")
  expect_silent(wf_sample(num_fit(), 10, seed = 1))
})

# ---- the right class with the wrong contents ----------------------------------

test_that("malformed fits are classed errors naming the argument", {
  good <- num_fit()
  empty <- structure(list(), class = "wf_fit")
  unknown <- good
  unknown$family <- "nope"
  unknown$algorithm <- "nope"
  no_gen <- good
  no_gen$generator <- NULL
  bad_gen <- good
  bad_gen$generator <- structure(list(), class = "wf_net")
  bad_params <- good
  bad_params$generator <- wgflow:::copy_net(good$generator)
  bad_params$generator$params <- "garbage"
  bad_metrics <- good
  bad_metrics$metrics <- 1:3
  bad_settings <- good
  bad_settings$settings <- NULL
  bad_data <- good
  bad_data$data <- "x"
  fits <- list(empty = empty, unknown = unknown, no_gen = no_gen, bad_gen = bad_gen,
               bad_params = bad_params, bad_metrics = bad_metrics,
               bad_settings = bad_settings, bad_data = bad_data)
  calls <- list(
    wf_sample = function(f) wf_sample(f, 5),
    predict = function(f) predict(f, n = 5),
    simulate = function(f) simulate(f, n = 5),
    coef = function(f) coef(f),
    print = function(f) print(f),
    summary = function(f) summary(f),
    tidy = function(f) tidy(f),
    glance = function(f) glance(f),
    plot = function(f) plot(f, "metrics"),
    continue = function(f) wf_continue(f, 1, verbose = FALSE)
  )
  args <- c(wf_sample = "fit", predict = "object", simulate = "object", coef = "object",
            print = "x", summary = "object", tidy = "x", glance = "x", plot = "x",
            continue = "fit")
  pdf(NULL)
  on.exit(dev.off(), add = TRUE)
  for (fn in names(calls)) for (nm in names(fits)) {
    expect_arg_error(calls[[fn]](fits[[nm]]), args[[fn]], info = paste(fn, nm))
  }
  if (requireNamespace("ggplot2", quietly = TRUE)) {
    expect_arg_error(ggplot2::autoplot(empty), "object")
  }
  expect_match(conditionMessage(tryCatch(wf_sample(empty, 5), error = identity)),
               "not a valid wgflow fit")
})

test_that("malformed nets, specs and optimisers are classed errors", {
  net <- num_net()
  x <- matrix(0.5, 3, 2)
  broken <- list(
    list = structure(list(), class = "wf_net"),
    empty_env = structure(new.env(), class = "wf_net"),
    spec = local({
      n <- wgflow:::copy_net(net)
      n$spec <- structure(list(), class = "wf_mlp_spec")
      n
    }),
    dims = local({
      n <- wgflow:::copy_net(net)
      n$input_dim <- -1
      n
    }),
    params = local({
      n <- wgflow:::copy_net(net)
      n$params <- n$params[-1]
      n
    }),
    rng = local({
      n <- wgflow:::copy_net(net)
      n$rng <- c(1, 2)
      n
    })
  )
  for (nm in names(broken)) {
    expect_arg_error(wf_forward(broken[[nm]], x), "net", info = nm)
    expect_arg_error(wf_params(broken[[nm]]) <- 1, "net", info = nm)
    expect_arg_error(wf_rng_uniform(broken[[nm]], 2), "net", info = nm)
  }
  expect_arg_error(print(broken$list), "x")
  # a net whose handle was swapped for another net's is refused
  other <- wf_net(wf_mlp(c(8, 8)), 2, 1, seed = 2)
  swapped <- num_net()
  y <- wf_forward(swapped, x)
  swapped$ptr <- other$ptr
  cnd <- expect_arg_error(wf_forward(swapped, x), "net")
  expect_match(conditionMessage(cnd), "belongs to another net")
  expect_identical(wf_forward(other, x), wf_forward(other, x)) # the other is untouched
  # a spec or an optimiser with wrong contents
  bad_spec <- structure(list(hidden = "a"), class = "wf_mlp_spec")
  expect_arg_error(wf_net(bad_spec, 2, 1), "spec")
  expect_arg_error(w1fe(wf_toy("8gaussians", n = 100, seed = 1), critic = bad_spec,
                        verbose = FALSE), "critic")
  expect_arg_error(print(bad_spec), "x")
  bad_opt <- structure(list(), class = "wf_optimizer")
  edited <- wf_adam()
  edited$lr <- "fast"
  for (opt in list(bad_opt, edited)) {
    expect_arg_error(wf_critic_step(net, x, x, opt), "optimizer")
    expect_arg_error(wf_optim_step(net, wf_params(net) * 0, opt), "optimizer")
    expect_arg_error(num_fit(generator_optimizer = opt), "generator_optimizer")
  }
  expect_arg_error(print(bad_opt), "x")
})

# ---- messages and extreme scales ----------------------------------------------

test_that("zero-column data and factors give clear messages", {
  expect_match(conditionMessage(expect_arg_error(
    w1fe(matrix(0, 10, 0), verbose = FALSE), "data")), "at least one column")
  expect_arg_error(w1fe(data.frame(row.names = 1:10), verbose = FALSE), "data")
  expect_arg_error(wf_forward(num_net(), matrix(0, 2, 0)), "x")
  expect_arg_error(wf_wasserstein(matrix(0, 3, 0), matrix(0, 3, 0)), "x")
  msg <- conditionMessage(expect_arg_error(wf_mlp(activation = factor("relu")), "activation"))
  expect_no_match(msg, "not a\\.$")
  expect_match(msg, "not a factor (\"relu\").", fixed = TRUE)
  expect_match(conditionMessage(tryCatch(wf_mlp(4, norm = as.Date("2020-01-01")),
                                         error = identity)), "not a Date (2020-01-01)",
               fixed = TRUE)
})

test_that("exact OT rescales coordinates instead of underflowing or overflowing", {
  set.seed(2)
  a <- matrix(rnorm(60), 30, 2)
  b <- matrix(rnorm(60, 1), 30, 2)
  for (p in c(1, 2, 3)) {
    w <- wf_wasserstein(a, b, p = p)
    expect_equal(wf_wasserstein(a * 1e-200, b * 1e-200, p = p), w * 1e-200, tolerance = 1e-10)
    expect_equal(wf_wasserstein(a * 1e160, b * 1e160, p = p), w * 1e160, tolerance = 1e-10)
  }
  r <- wf_wasserstein(a * 1e-100, b * 1e-100, p = 2, plan = TRUE)
  expect_equal(r$distance^2, mean(r$u) + mean(r$v), tolerance = 1e-8)
  expect_equal(r$se, wf_wasserstein(a, b, p = 2, plan = TRUE)$se * 1e-100, tolerance = 1e-8)
})

test_that("an out-of-memory error says what it could not allocate", {
  skip_on_cran()
  skip_if_not(.Platform$OS.type == "unix" && nzchar(Sys.which("bash")))
  lib <- dirname(find.package("wgflow"))
  script <- tempfile(fileext = ".R")
  on.exit(unlink(script))
  writeLines(c(
    sprintf(".libPaths(c(%s, .libPaths()))", deparse(lib)),
    "library(wgflow)",
    "net <- wf_net(wf_mlp(4), 2, 1, seed = 1)",
    "e <- tryCatch(wf_rng_uniform(net, 2^30), error = identity)",
    "cat(class(e)[1], '|', conditionMessage(e), '\\n')"), script)
  rscript <- file.path(R.home("bin"), "Rscript")
  out <- system2("bash", c("-c", shQuote(sprintf("ulimit -v 3000000; %s %s 2>&1",
                                                 shQuote(rscript), shQuote(script)))),
                 stdout = TRUE)
  out <- paste(out, collapse = "\n")
  skip_if(grepl("cannot allocate|Cannot allocate", out) && !grepl("\\|", out),
          "R itself could not start under the memory cap")
  expect_match(out, "wgflow_error_memory | out of memory: cannot allocate 1073741824 values",
               fixed = TRUE)
})

# ---- memory behind nets ----------------------------------------------------------

test_that("nets' C memory is collected while a loop makes many of them", {
  x <- matrix(rnorm(1024), 512, 2)
  gc()
  m0 <- wgflow:::net_memory()[1]
  one <- wf_net(wf_mlp(c(64, 64)), 2, 1, seed = 1)
  invisible(wf_forward(one, x))
  per_net <- wgflow:::net_memory()[1] - m0
  # parameters, moments and the workspace of a 512-row pass are counted
  expect_gt(per_net, 4417 * 4 * 4 + 512 * 64 * 6 * 4)
  rm(one)
  gc()
  before <- wgflow:::net_memory()[1]
  for (i in 1:2000) {
    net <- wf_net(wf_mlp(c(64, 64)), 2, 1, seed = i)
    invisible(wf_forward(net, x))
  }
  after <- wgflow:::net_memory()
  # without collections 2000 nets would hold 2000 * per_net (over 2 GB)
  expect_lt(after[1] - before, 200 * per_net)
  expect_lte(after[1], after[2] + per_net) # the trigger, plus the net being made
  rm(net)
  gc()
  expect_lt(wgflow:::net_memory()[1], before + per_net)
})
