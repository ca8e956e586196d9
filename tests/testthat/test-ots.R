# OTS/FIT and the semi-discrete solver (Chen et al. 2019): the paper's
# claims at the scale of a test, on a 2-D ring.

ring <- function(n, seed) {
  with_rng_seed(seed, {
    a <- stats::runif(n, 0, 2 * pi)
    cbind(cos(a), sin(a)) + 0.05 * matrix(stats::rnorm(2 * n), n)
  })
}

# An OTS/FIT run on the ring small enough for a test.
ring_fit <- function(x, alternate = TRUE, cost = "l2", fit_passes = 1L, epochs = 15L) {
  ots_fit(x, cost = cost, epochs = epochs, generator = wf_mlp(c(32, 32)), latent_dim = 2,
          generator_optimizer = wf_adam(1e-3), ots_check_every = 250, ots_window = 1000,
          ots_bins = 50, alternate = alternate, fit_passes = fit_passes, holdout = 400,
          eval_n = 400, eval_every = epochs, seed = 3, verbose = FALSE, device = "cpu")
}

# Exact W1 of the fit's untrained generator against its held-out rows (the
# generator new_fit() builds: stream 1 of the seed).
initial_w1 <- function(fit) {
  g0 <- new_net(fit$settings$generator, fit$generator$input_dim, fit$generator$output_dim,
                stream_key(fit$settings$seed, 1L), "cpu")
  y0 <- .Call(ffi_generate, net_ptr(g0), fit$settings$eval_n, fit$eval_key)
  wf_wasserstein(y0, fit$holdout[seq_len(fit$settings$eval_n), ], p = 1)
}

test_that("the dual's first gradient step is 1/N - count/B", {
  y <- ring(50, 1)
  # every source draw is the same point: all B hits go to its nearest row
  p <- c(0.3, 0.1)
  x <- matrix(p, 10, 2, byrow = TRUE)
  near <- which.min(rowSums(sweep(y, 2, p)^2))
  sd <- wf_semidiscrete(x, y, cost = "l2", batch_size = 16, optimizer = wf_sgd(1),
                        max_steps = 1, check_every = 1, seed = 1)
  expect_equal(sd$psi, ifelse(seq_len(50) == near, 1 / 50 - 1, 1 / 50), tolerance = 1e-6)
  expect_identical(sd$steps, 1L)
  expect_false(sd$converged)
  # at psi = 0 the dual of the ascent's batch is the nearest cost
  expect_equal(sd$ots_dual, min(rowSums(sweep(y, 2, p)^2)) / 2, tolerance = 1e-6)
})

test_that("on a ring the rule fires and the dual is within 5% of the primal and the exact cost", {
  y <- ring(1000, 1)
  x <- matrix(stats::rnorm(4000, sd = 0.3), 2000, 2)
  # the exact cost from the sample to the ring, each target point twice
  exact <- wf_wasserstein(x, y[rep(1:1000, 2), ], p = 2)^2 / 2
  # a dual learning rate small against the cost scale (about 0.2): the dual
  # is then a tight certificate (at 0.1 it is far below)
  sd <- wf_semidiscrete(x, y, cost = "l2", optimizer = wf_adam(0.003), seed = 1)
  expect_true(sd$converged)
  expect_lt(sd$steps, 20000)
  expect_gte(sd$hist_min, 0.78)
  expect_lte(sd$hist_max, 1.25)
  expect_lt(abs(sd$dual - exact) / exact, 0.05)
  expect_lt(abs(sd$dual - sd$primal) / sd$primal, 0.05)
  expect_lte(sd$dual, exact * (1 + 1e-6)) # a lower bound for any psi
  expect_length(sd$assignment, 2000)
  expect_true(all(sd$assignment >= 1 & sd$assignment <= 1000))
  # the assignment's cost is the primal
  expect_equal(mean(rowSums((x - y[sd$assignment, ])^2)) / 2, sd$primal, tolerance = 1e-5)
})

test_that("alternating OTS/FIT lowers the exact W1 many-fold; test W1 stays near train W1", {
  x <- ring(1400, 2)
  fit <- ring_fit(x)
  m <- fit$metrics
  expect_identical(nrow(m), 15L)
  expect_true(all(m$ots_converged == 1))
  w0 <- initial_w1(fit)
  expect_gt(w0 / m$w1[15], 4) # Theorem 3.1: W decreases across outer iterations
  expect_lt(m$w1[15] / m$w1_train[15], 2)
  expect_lt(m$w1_train[15] / m$w1[15], 2)
  expect_true(all(m$primal[-1] < m$primal[1]))
  expect_true(all(m$fit_steps == m$ots_steps)) # one pass over the pairs
  expect_identical(fit$algorithm, "ots")
  expect_length(fit$dual$psi, 1000L)
})

test_that("L1 works; alternating beats one OTS followed by as many FIT steps (Figure 4)", {
  x <- ring(1400, 2)
  alt <- ring_fit(x, cost = "l1")
  expect_gt(initial_w1(alt) / alt$metrics$w1[15], 4)
  expect_true(all(is.finite(alt$metrics$primal)))
  # the baseline: the first OTS's pairs, FIT passes over them every outer
  # iteration, at least as many FIT steps in all
  s1 <- alt$metrics$ots_steps[1]
  passes <- ceiling(sum(alt$metrics$fit_steps) / (15 * s1))
  base <- ring_fit(x, cost = "l1", alternate = FALSE, fit_passes = passes)
  expect_gte(sum(base$metrics$fit_steps), sum(alt$metrics$fit_steps))
  expect_true(all(is.na(base$metrics$dual[-1])))
  expect_false(base$settings$alternate)
  expect_lt(alt$metrics$w1[15] * 2, base$metrics$w1[15])
  expect_match(capture.output(print(base))[1], "non-alternating")
  # the L1 semi-discrete solver from the generator to the data
  sd <- wf_semidiscrete(alt, x[1:1000, ], cost = "l1", n = 500, check_every = 250,
                        bins = 50, seed = 1)
  expect_identical(dim(sd$x), c(500L, 2L))
  expect_length(sd$assignment, 500L)
  expect_equal(mean(rowSums(abs(sd$x - x[sd$assignment, ]))), sd$primal, tolerance = 1e-5)
  expect_lt(sd$dual, 1.1 * sd$primal)
})

test_that("a dual that blows up ends the run 'diverged' and keeps the last good dual", {
  x <- ring(600, 4)
  fit <- ots_fit(x, cost = "l2", epochs = 2, generator = wf_mlp(16), latent_dim = 2,
                 ots_check_every = 100, ots_window = 200, ots_bins = 20, eval_n = 100,
                 seed = 5, verbose = FALSE, device = "cpu")
  psi <- fit$dual$psi
  step <- fit$dual$step
  expect_true(all(is.finite(psi)) && step > 0)
  # a learning rate past float32's range: psi is not finite after the
  # first check of the next outer iteration
  fit$settings$dual_optimizer <- wf_sgd(1e300)
  bad <- suppressWarnings(wf_continue(fit, epochs = 2, verbose = FALSE))
  expect_identical(bad$status, "diverged")
  expect_identical(bad$dual$psi, psi)
  expect_identical(bad$dual$step, step)
  # the kept dual continues with a sane optimiser
  bad$settings$dual_optimizer <- wf_adam(0.1)
  more <- wf_continue(bad, epochs = 1, verbose = FALSE)
  expect_identical(more$status, "completed")
  expect_true(all(is.finite(more$dual$psi)) && more$dual$step > step)
})

test_that("a fit saves, restores its dual and continues", {
  x <- ring(600, 4)
  fit <- ots_fit(x, cost = "l2", epochs = 2, generator = wf_mlp(16), latent_dim = 2,
                 ots_check_every = 100, ots_window = 200, ots_bins = 20, eval_n = 100,
                 seed = 5, verbose = FALSE, device = "cpu")
  psi <- fit$dual$psi
  back <- saved_and_read(fit)
  expect_identical(back$dual$psi, psi)
  more <- wf_continue(back, epochs = 1)
  expect_identical(nrow(more$metrics), 3L)
  expect_identical(more$metrics$epoch, 1:3)
  # warm start: the dual's optimiser carried on from its saved step
  expect_gt(more$dual$step, fit$dual$step)
  expect_false(identical(more$dual$psi, psi))
  expect_s3_class(tidy(more), "tbl_df")
  expect_identical(nrow(glance(more)), 1L)
  expect_silent(print_quietly <- capture.output(print(more)))
  expect_match(paste(print_quietly, collapse = "\n"), "training rows")
})

test_that("plot(fit, 'images') draws a grid of generated images", {
  set.seed(1)
  x <- matrix(stats::runif(300 * 16, -1, 1), 300, 16) # 4 x 4 "images"
  fit <- ots_fit(x, epochs = 1, generator = wf_mlp(8, output_activation = "tanh"),
                 latent_dim = 3, ots_max_steps = 20, ots_check_every = 10, ots_window = 20,
                 eval_n = 50, seed = 1, verbose = FALSE, device = "cpu")
  grDevices::pdf(NULL)
  on.exit(grDevices::dev.off())
  expect_identical(plot(fit, "images", n = 10), fit)
  expect_identical(plot(fit, "images", image_size = c(2, 8)), fit)
  expect_arg_error(plot(fit, "images", image_size = c(3, 3)), "image_size")
  expect_arg_error(wf_image_grid(matrix(0, 2, 5)), "size")
  expect_arg_error(wf_image_grid(x[1:4, ], range = c(1, 0)), "range")
  expect_identical(wf_image_grid(x[1:5, ], ncol = 2), x[1:5, ])
})

test_that("Fashion-MNIST: a short OTS/FIT on downscaled images", {
  skip_if_not(dir.exists("/usr/share/datasets/fashion-mnist"), "no Fashion-MNIST")
  img <- wf_images("fashion-mnist", "train", size = 8, n = 600)
  fit <- ots_fit(img$x, epochs = 2, generator = wf_mlp(c(64, 64), output_activation = "tanh",
                                                        init = "normal", init_sd = 0.02),
                 latent_dim = 10, ots_check_every = 100, ots_window = 200, ots_bins = 50,
                 eval_n = 100, seed = 1, verbose = FALSE, device = "cpu")
  expect_identical(nrow(fit$metrics), 2L)
  expect_lt(fit$metrics$primal[2], fit$metrics$primal[1])
  grDevices::pdf(NULL)
  on.exit(grDevices::dev.off())
  expect_identical(plot(fit, "images"), fit)
})

test_that("bad arguments are classed errors naming the argument", {
  x <- ring(200, 1)
  small <- function(...) {
    ots_fit(x, epochs = 1, generator = wf_mlp(4), latent_dim = 2, eval_n = 20,
            verbose = FALSE, device = "cpu", ...)
  }
  expect_arg_error(ots_fit(letters), "data")
  expect_arg_error(ots_fit(data.frame(a = letters)), "data")
  expect_arg_error(small(cost = "l3"), "cost")
  expect_arg_error(small(batch_size = 2^25), "batch_size")
  expect_arg_error(small(generator_optimizer = wf_adam(-1)), "lr")
  expect_arg_error(small(dual_optimizer = "adam"), "dual_optimizer")
  expect_arg_error(ots_fit(x, generator = "mlp"), "generator")
  expect_arg_error(small(ots_window = 1500), "ots_window")
  expect_arg_error(small(ots_bounds = c(1.2, 2)), "ots_bounds")
  expect_arg_error(small(ots_bins = 0), "ots_bins")
  expect_arg_error(small(fit_passes = 0), "fit_passes")
  expect_arg_error(small(alternate = NA), "alternate")
  expect_arg_error(ots_fit(x, epochs = -1), "epochs")
  y <- ring(100, 2)
  expect_arg_error(wf_semidiscrete(x, y, cost = "l1", batch_size = 101), "batch_size")
  expect_arg_error(wf_semidiscrete(x, y, cost = "abs"), "cost")
  expect_arg_error(wf_semidiscrete(x[, 1, drop = FALSE], y), "x")
  expect_arg_error(wf_semidiscrete(list(1), y), "x")
  expect_arg_error(wf_semidiscrete(x, "y"), "y")
  expect_arg_error(wf_semidiscrete(x, y, optimizer = wf_sgd), "optimizer")
  expect_arg_error(wf_semidiscrete(x, y, window = 10, check_every = 3), "window")
  expect_arg_error(wf_semidiscrete(x, y, n = 0), "n")
  net <- wf_net(wf_mlp(4), 2, 3, seed = 1)
  expect_arg_error(wf_semidiscrete(net, y), "x")
})
