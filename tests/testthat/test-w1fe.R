# W1-FE and WGAN end to end: small nets and few epochs, so the file runs fast.

small_fit <- function(..., epochs = 4, seed = 1) {
  x <- wf_toy("8gaussians", n = 1200, seed = 3)
  w1fe(x, epochs = epochs, batch_size = 64, critic_steps = 2,
       critic = wf_mlp(c(16, 16)), generator = wf_mlp(c(16, 16)),
       eval_n = 100, eval_every = 2, seed = seed, device = "cpu",
       verbose = FALSE, ...)
}

test_that("w1fe returns one metrics row per epoch with the documented columns", {
  fit <- small_fit(persistency = 3)
  expect_s3_class(fit, "wf_w1fe")
  expect_s3_class(fit$metrics, "tbl_df")
  expect_identical(fit$metrics$epoch, 1:4)
  expect_named(fit$metrics, c("epoch", "seconds", "critic_loss", "w1_critic",
                              "penalty", "grad_norm", "euler_grad_norm",
                              "fit_mse_first", "fit_mse_last", "w1", "w2",
                              "w1_se", "w2_se"))
  expect_identical(is.na(fit$metrics$w1_se), is.na(fit$metrics$w1))
  expect_true(all(diff(fit$metrics$seconds) >= 0))
  # exact distances on eval epochs (every 2nd and the last), NA elsewhere
  expect_identical(!is.na(fit$metrics$w1), c(FALSE, TRUE, FALSE, TRUE))
  expect_true(all(fit$metrics$w1 > 0, na.rm = TRUE))
  expect_true(all(fit$metrics$w2 >= fit$metrics$w1 - 1e-9, na.rm = TRUE))
  expect_identical(fit$status, "completed")
})

test_that("the persistent fit reduces its regression loss within an epoch", {
  fit <- small_fit(persistency = 5, generator_optimizer = wf_adam(1e-2))
  expect_true(all(fit$metrics$fit_mse_last < fit$metrics$fit_mse_first))
})

test_that("a seed reproduces a run; different seeds differ", {
  a <- small_fit(seed = 7)
  b <- small_fit(seed = 7)
  c <- small_fit(seed = 8)
  cols <- setdiff(names(a$metrics), "seconds")
  expect_identical(a$metrics[cols], b$metrics[cols])
  expect_identical(wf_params(a$generator), wf_params(b$generator))
  expect_false(identical(wf_params(a$generator), wf_params(c$generator)))
  set.seed(11); d <- small_fit(seed = NULL)
  set.seed(11); e <- small_fit(seed = NULL)
  expect_identical(wf_params(d$generator), wf_params(e$generator))
})

test_that("Proposition 4.1: with SGD and K = 1 the Euler update is WGAN's with lr 2 eps gamma", {
  x <- wf_toy("8gaussians", n = 1200, seed = 3)
  run <- function(mode, lr) {
    w1fe(x, persistency = 1, persistency_mode = mode, epochs = 1,
         batch_size = 64, critic_steps = 3, step_size = 0.3,
         critic = wf_mlp(c(16, 16), activation = "tanh"),
         generator = wf_mlp(c(16, 16)), generator_optimizer = wf_sgd(lr),
         eval_n = 50, seed = 5, device = "cpu", verbose = FALSE)
  }
  euler <- run("euler", 0.01)
  naive <- run("naive", 2 * 0.3 * 0.01) # the WGAN generator step
  expect_equal(wf_params(euler$generator), wf_params(naive$generator), tolerance = 1e-5)
  # and it is not a coincidence: another learning rate differs
  other <- run("naive", 0.01)
  expect_gt(max(abs(wf_params(other$generator) - wf_params(euler$generator))), 1e-4)
})

test_that("wgan() is W1-FE with K = 1 through the same code", {
  x <- wf_toy("8gaussians", n = 1200, seed = 3)
  args <- list(x, epochs = 2, batch_size = 64, critic_steps = 2,
               critic = wf_mlp(16), generator = wf_mlp(16), eval_n = 50,
               seed = 2, device = "cpu", verbose = FALSE)
  g <- do.call(wgan, c(args, penalty = "gp"))
  w <- do.call(w1fe, c(args, penalty = "gp", persistency = 1))
  expect_identical(g$algorithm, "wgan")
  expect_identical(wf_params(g$generator), wf_params(w$generator))
  expect_error(do.call(wgan, c(args, persistency = 3)), class = "wgflow_error_arg")
})

test_that("wgan() refuses an argument that w1fe() does not take, naming it", {
  x <- wf_toy("8gaussians", n = 100, seed = 1)
  err <- expect_arg_error(wgan(x, epochs = 2, bogus_arg = 1), "bogus_arg")
  expect_match(conditionMessage(err), "not an argument of `w1fe()`", fixed = TRUE)
  expect_match(conditionMessage(err), "`batch_size`", fixed = TRUE)
  expect_arg_error(wgan(x, "lp", 2, 10, wf_mlp(4)), "...")
  # R's own matching by a unique prefix still reaches w1fe()
  expect_arg_error(wgan(x, epochs = 2, batch = 0), "batch_size")
})

test_that("penalty weights beyond single precision are refused", {
  x <- wf_toy("8gaussians", n = 100, seed = 1)
  expect_arg_error(w1fe(x, epochs = 1, lambda = 1e300), "lambda")
})

test_that("penalty = 'clip' keeps the critic's weights clipped and uses RMSprop", {
  fit <- small_fit(penalty = "clip", clip = 0.05)
  expect_lte(max(abs(wf_params(fit$critic))), 0.05 + 1e-7)
  expect_identical(fit$settings$critic_optimizer$kind, "rmsprop")
  expect_true(all(is.na(fit$metrics$grad_norm)))
})

test_that("naive persistency runs and reports -mean phi(G z)", {
  fit <- small_fit(persistency = 3, persistency_mode = "naive")
  expect_true(all(is.finite(fit$metrics$fit_mse_first)))
  expect_identical(fit$settings$persistency_mode, "naive")
})

test_that("saveRDS/readRDS round-trips: identical samples, identical continuation", {
  fit <- small_fit()
  back <- saved_and_read(fit)
  expect_identical(wf_sample(back, 50, seed = 3), wf_sample(fit, 50, seed = 3))
  expect_identical(predict(back, n = 20, seed = 4), wf_sample(fit, 20, seed = 4))
  more_a <- wf_continue(fit, epochs = 2, verbose = FALSE)
  more_b <- wf_continue(back, epochs = 2, verbose = FALSE)
  expect_identical(wf_params(more_a$generator), wf_params(more_b$generator))
  expect_identical(more_a$metrics$epoch, 1:6)
  expect_true(all(diff(more_a$metrics$seconds) >= 0))
})

test_that("samples have the data's shape and column names; seeds matter", {
  fit <- small_fit()
  s <- wf_sample(fit, 30, seed = 1)
  expect_identical(dim(s), c(30L, 2L))
  expect_identical(colnames(s), c("x", "y"))
  expect_false(identical(s, wf_sample(fit, 30, seed = 2)))
  z <- matrix(rnorm(10), 5, 2)
  expect_equal(unname(predict(fit, newdata = z, type = "generator")),
               wf_forward(fit$generator, z))
})

test_that("a callback returning FALSE stops training, keeping the epochs done", {
  fit <- small_fit(epochs = 10, callbacks = function(row) row$epoch < 3)
  expect_identical(nrow(fit$metrics), 3L)
  expect_identical(fit$status, "stopped")
})

test_that("divergence stops with a warning and keeps the metrics so far", {
  expect_warning(
    fit <- small_fit(epochs = 30, generator_optimizer = wf_sgd(1e12),
                     critic_optimizer = wf_sgd(1e12), penalty = "gp"),
    "diverged|not finite")
  expect_identical(fit$status, "diverged")
  expect_lt(nrow(fit$metrics), 30L)
})

test_that("Ctrl-C stops cleanly and returns the fit with the epochs done", {
  skip_on_os("windows")
  interrupt_at_2 <- function(row) {
    if (row$epoch == 2) tools::pskill(Sys.getpid(), tools::SIGINT)
    Sys.sleep(0.2) # let the signal arrive
    TRUE
  }
  expect_warning(fit <- small_fit(epochs = 10, callbacks = interrupt_at_2), "interrupted")
  expect_identical(fit$status, "interrupted")
  expect_gte(nrow(fit$metrics), 2L)
  expect_lt(nrow(fit$metrics), 10L)
})

test_that("bad arguments are classed errors naming the argument", {
  x <- wf_toy("8gaussians", n = 500, seed = 1)
  arg_of <- function(expr) {
    cnd <- tryCatch(expr, wgflow_error = identity)
    expect_s3_class(cnd, "wgflow_error_arg")
    cnd$arg
  }
  expect_identical(arg_of(w1fe(letters)), "data")
  expect_identical(arg_of(w1fe(data.frame(a = 1:3, b = letters[1:3]))), "data")
  expect_identical(arg_of(w1fe(matrix(c(1, NA, 3, 4), 2))), "data")
  expect_identical(arg_of(w1fe(x, persistency = 0)), "persistency")
  expect_identical(arg_of(w1fe(x, penalty = "ridge")), "penalty")
  expect_identical(arg_of(w1fe(x, step_size = -1)), "step_size")
  expect_identical(arg_of(w1fe(x, epochs = 0)), "epochs")
  expect_identical(arg_of(w1fe(x, batch_size = 0)), "batch_size")
  expect_identical(arg_of(w1fe(x, critic_steps = 1.5)), "critic_steps")
  expect_identical(arg_of(w1fe(x, lambda = -1)), "lambda")
  expect_identical(arg_of(w1fe(x, clip = 0)), "clip")
  expect_identical(arg_of(w1fe(x, critic = "mlp")), "critic")
  expect_identical(arg_of(w1fe(x, generator = list())), "generator")
  expect_identical(arg_of(w1fe(x, critic = wf_mlp(8, norm = "batch"))), "critic")
  expect_identical(arg_of(w1fe(x, latent_dim = 0)), "latent_dim")
  expect_identical(arg_of(w1fe(x, critic_optimizer = "adam")), "critic_optimizer")
  expect_identical(arg_of(w1fe(x, generator_optimizer = 1)), "generator_optimizer")
  expect_identical(arg_of(w1fe(x, persistency_mode = "lazy")), "persistency_mode")
  expect_identical(arg_of(w1fe(x, eval_every = 0)), "eval_every")
  expect_identical(arg_of(w1fe(x, eval_n = 1)), "eval_n")
  expect_identical(arg_of(w1fe(x, holdout = 500)), "holdout")
  expect_identical(arg_of(w1fe(x, holdout = matrix(1, 5, 3))), "holdout")
  expect_identical(arg_of(w1fe(x, batch_size = 64, seed = -1)), "seed")
  expect_identical(arg_of(w1fe(x, batch_size = 64, device = "tpu")), "device")
  expect_identical(arg_of(w1fe(x, batch_size = 64, verbose = NA)), "verbose")
  expect_identical(arg_of(w1fe(x, batch_size = 64, callbacks = 1)), "callbacks")
  expect_identical(arg_of(wf_continue(list())), "fit")
  expect_identical(arg_of(wf_sample(list(), 5)), "fit")
  fit <- small_fit(epochs = 1)
  expect_identical(arg_of(wf_sample(fit, 0)), "n")
  expect_identical(arg_of(wf_continue(fit, epochs = -1)), "epochs")
  expect_identical(arg_of(predict(fit, newdata = matrix(1, 2, 5), type = "generator")),
                   "newdata")
})
