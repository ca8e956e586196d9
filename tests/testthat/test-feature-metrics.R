# The feature distances of fits and their floors (R/feature-metrics.R):
# wf_feature_floor(); fits of 28 x 28 one-channel images report fd_lenet and
# kd_lenet (with standard errors and floors) at each evaluation, the same
# numbers as wf_frechet() / wf_kid() on the evaluation's samples; other
# fits keep exactly their columns.

# n synthetic 28 x 28 images in [-1, 1]: a bright disc of random centre and
# radius on a dark ground (no data set needed)
disc_images <- function(n, seed) {
  set.seed(seed)
  grid <- expand.grid(col = 1:28, row = 1:28) # row-major pixels
  x <- t(vapply(seq_len(n), function(i) {
    c0 <- runif(2, 8, 20)
    r <- runif(1, 3, 7)
    inside <- (grid$row - c0[1])^2 + (grid$col - c0[2])^2 < r^2
    ifelse(inside, 0.8, -0.9) + rnorm(784, 0, 0.05)
  }, double(784)))
  x <- pmin(pmax(x, -1), 1)
  attr(x, "image_shape") <- c(1L, 28L, 28L)
  x
}

test_that("wf_feature_floor: two samples of one law, on features or columns", {
  set.seed(1)
  x <- matrix(rnorm(3000), 1000, 3)
  fl <- wf_feature_floor(x, n = 300, reps = 4, features = "none", seed = 2)
  expect_identical(names(fl), c("metric", "n", "floor", "floor_sd", "reps"))
  expect_identical(fl$metric, c("fd", "kd"))
  expect_identical(fl$n, c(300L, 300L))
  expect_gt(fl$floor[1], 0)                        # Frechet: biased up
  expect_lt(abs(fl$floor[2]), 3 * fl$floor_sd[2])  # the KID estimator: unbiased
  # seeded draws leave R's stream alone and repeat
  set.seed(9)
  before <- runif(1)
  set.seed(9)
  again <- wf_feature_floor(x, n = 300, reps = 4, features = "none", seed = 2)
  expect_identical(runif(1), before)
  expect_identical(again, fl)
  # against a second sample, by hand
  y <- matrix(rnorm(600), 200, 3)
  fy <- wf_feature_floor(x, y, reps = 1, features = "none", seed = 3)
  rows <- wgflow:::with_rng_seed(3, list(a = sample.int(200, 200), b = sample.int(1000, 200)))
  expect_equal(fy$floor, c(wf_frechet(y[rows$a, ], x[rows$b, ]),
                           wf_kid(y[rows$a, ], x[rows$b, ])))
  expect_true(all(is.na(fy$floor_sd)))
  # images: the LeNet features
  img <- disc_images(40, 4)
  fi <- wf_feature_floor(img, n = 20, reps = 2, seed = 1)
  expect_identical(fi$metric, c("fd_lenet", "kd_lenet"))
  expect_true(all(is.finite(fi$floor)))
  # arguments
  expect_arg_error(wf_feature_floor(x, n = 600, features = "none"), "n")
  expect_arg_error(wf_feature_floor(x, n = 2, features = "none"), "n")
  expect_arg_error(wf_feature_floor(x, y[, 1:2], features = "none"), "y")
  expect_arg_error(wf_feature_floor(x, features = "pixels"), "features")
  expect_arg_error(wf_feature_floor(x), "x") # not 28 x 28 images
  expect_arg_error(wf_feature_floor(x, reps = 0, features = "none"), "reps")
  expect_arg_error(wf_feature_floor(x, seed = -1, features = "none"), "seed")
})

test_that("image fits report fd_lenet and kd_lenet next to W1 and W2", {
  quiet_small({
    x <- disc_images(96, 1)
    gen <- wf_dcgan_generator(latent_dim = 8, image = c(1, 28, 28), width = 4)
    fit <- wgan(x, epochs = 2, critic = wf_dcgan_critic(width = 4, norm = "layer"),
                generator = gen, critic_steps = 1, batch_size = 16, eval_n = 24,
                eval_every = 1, seed = 1, device = "cpu", verbose = FALSE)
    m <- fit$metrics
    for (col in c("w1", "w2", "fd_lenet", "kd_lenet", "fd_lenet_se", "kd_lenet_se")) {
      expect_true(col %in% names(m), info = col)
      expect_true(all(is.finite(m[[col]])), info = col)
    }
    expect_true(all(m$fd_lenet >= 0 & m$fd_lenet_se > 0 & m$kd_lenet_se > 0))
    # the evaluation's numbers: its eval_n samples against eval_n held-out rows
    n <- fit$settings$eval_n # 19: a fifth of the images are held out
    y <- .Call(wgflow:::ffi_generate, wgflow:::net_ptr(fit$generator), n, fit$eval_key)
    held <- fit$holdout[seq_len(n), ]
    expect_equal(m$fd_lenet[2], wf_frechet(y, held, features = "lenet"), tolerance = 1e-6)
    expect_equal(m$kd_lenet_se[2], wf_kid(y, held, features = "lenet", se = TRUE)[["se"]],
                 tolerance = 1e-6)
    expect_identical(wgflow:::fit_eval_metrics(fit), c("w1", "w2", "fd_lenet", "kd_lenet"))
    # their floors, on the draws of W1's
    expect_identical(fit$floor$metric, c("w1", "w2", "fd_lenet", "kd_lenet"))
    expect_true(all(is.finite(fit$floor$floor)))
    out <- paste(utils::capture.output(print(fit)), collapse = "\n")
    expect_match(out, "fd_lenet:")
    expect_match(out, "kd_lenet:")
    g <- glance(fit)
    expect_true(all(c("fd_lenet", "fd_lenet_se", "kd_lenet_floor") %in% names(g)))
    expect_identical(summary(fit)$best$metric, c("w1", "w2", "fd_lenet", "kd_lenet"))
    # continued, the same columns
    more <- wf_continue(fit, epochs = 1)
    expect_identical(names(more$metrics), names(m))
  
    # OTS/FIT evaluates generated images too
    ots <- ots_fit(x, epochs = 1, generator = gen, ots_max_steps = 20, ots_check_every = 10,
                   ots_window = 20, ots_bins = 8, batch_size = 16, eval_n = 24, seed = 1,
                   device = "cpu", verbose = FALSE)
    expect_true(all(c("fd_lenet", "kd_lenet", "fd_lenet_se", "kd_lenet_se") %in%
                      names(ots$metrics)))
    expect_true(is.finite(ots$metrics$kd_lenet))
  })
})

test_that("other fits keep exactly their metrics", {
  quiet_small({
    toy <- wf_toy("8gaussians", n = 400, seed = 1)
    fit <- w1fe(toy, epochs = 2, critic = wf_mlp(8), generator = wf_mlp(8), batch_size = 32,
                eval_n = 40, eval_every = 1, seed = 1, verbose = FALSE)
    algo <- wgflow:::fit_algorithm(fit)
    expect_identical(names(fit$metrics), c("epoch", "seconds", wgflow:::train_metrics(algo),
                                           algo$eval_metrics, "w1_se", "w2_se"))
    expect_identical(fit$floor$metric, c("w1", "w2"))
    # images of another size: no LeNet features
    small <- disc_images(64, 2)[, 1:196]
    attr(small, "image_shape") <- c(1L, 14L, 14L)
    f14 <- w1fe(small, epochs = 1, critic = wf_layers(wf_flatten(), wf_dense(1)),
                generator = wf_mlp(8, output_activation = "tanh"), latent_dim = 4,
                batch_size = 16, eval_n = 16, seed = 1, verbose = FALSE)
    expect_false(any(grepl("lenet", names(f14$metrics))))
    expect_identical(wgflow:::fit_eval_metrics(f14), c("w1", "w2"))
  })
})
