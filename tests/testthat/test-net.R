# Behaviour of nets: seeds, initialisation, serialisation, random streams,
# critic training, clipping, threads, penalties, gradients, printing.

# Gaussian clouds in 2-D: N(mean, I).
cloud <- function(n, mean = c(0, 0)) {
  x <- matrix(stats::rnorm(2 * n), n, 2)
  x + rep(mean, each = n)
}

# ---- seeds -----------------------------------------------------------------

test_that("the same seed gives the same net and the same random stream", {
  spec <- wf_mlp(c(16, 8), activation = "tanh")
  a <- wf_net(spec, 3, 2, seed = 42)
  b <- wf_net(spec, 3, 2, seed = 42)
  expect_identical(wf_params(a), wf_params(b))
  expect_identical(wf_rng_uniform(a, 50), wf_rng_uniform(b, 50))
  expect_identical(wf_rng_normal(a, 50), wf_rng_normal(b, 50))
  # the stream moves on
  expect_false(identical(wf_rng_uniform(a, 10), wf_rng_uniform(a, 10)))
})

test_that("different seeds give different nets and streams", {
  spec <- wf_mlp(c(16, 8))
  a <- wf_net(spec, 3, 1, seed = 1)
  b <- wf_net(spec, 3, 1, seed = 2)
  c0 <- wf_net(spec, 3, 1, seed = 0)
  expect_false(identical(wf_params(a), wf_params(b)))
  expect_false(identical(wf_params(a), wf_params(c0)))
  expect_false(identical(wf_rng_uniform(a, 20), wf_rng_uniform(b, 20)))
})

test_that("seed = NULL follows set.seed()", {
  spec <- wf_mlp(c(8, 8))
  set.seed(1)
  a <- wf_net(spec, 2, 1, seed = NULL)
  set.seed(1)
  b <- wf_net(spec, 2, 1, seed = NULL)
  set.seed(2)
  c0 <- wf_net(spec, 2, 1)
  expect_identical(wf_params(a), wf_params(b))
  expect_identical(wf_rng_normal(a, 20), wf_rng_normal(b, 20))
  expect_false(identical(wf_params(a), wf_params(c0)))
})

# ---- initialisation ----------------------------------------------------------

test_that("torch init keeps each layer within 1/sqrt(fan_in)", {
  net <- wf_net(wf_mlp(c(50, 20, 7)), 5, 3, seed = 3)
  p <- wf_params(net)
  lay <- wf_param_layout(net)
  for (i in seq_len(nrow(lay))) {
    v <- p[lay$offset[i] + seq_len(lay$length[i])]
    fan_in <- c(5, 50, 20, 7)[lay$layer[i]]
    bound <- 1 / sqrt(fan_in)
    expect_true(all(abs(v) <= bound), info = lay$name[i])
    # and actually spread over the interval, not squeezed into a corner
    if (length(v) >= 20) {
      expect_gt(max(v), 0.5 * bound)
      expect_lt(min(v), -0.5 * bound)
    }
  }
})

test_that("normal init has about the requested sd and zero biases", {
  net <- wf_net(wf_mlp(256, init = "normal", init_sd = 0.05), 256, 1, seed = 4)
  p <- wf_params(net)
  lay <- wf_param_layout(net)
  w1 <- p[lay$offset[1] + seq_len(lay$length[1])]
  expect_length(w1, 256 * 256)
  expect_equal(stats::sd(w1), 0.05, tolerance = 0.03)
  expect_lt(abs(mean(w1)), 0.002)
  for (i in which(lay$kind == "bias")) {
    expect_true(all(p[lay$offset[i] + seq_len(lay$length[i])] == 0), info = lay$name[i])
  }
})

test_that("a residual net starts near the identity map", {
  set.seed(10)
  net <- wf_net(wf_mlp(c(64, 64), residual = TRUE), 3, 3, seed = 5)
  expect_identical(net$spec$init, "normal")
  z <- matrix(stats::rnorm(300), 100, 3)
  g <- wf_forward(net, z)
  expect_lt(max(abs(g - z)), 1e-2)
  expect_gt(max(abs(g - z)), 0) # but it is not exactly the identity
})

test_that("norm layers start with gamma = 1, beta = 0 (and BatchNorm state 0/1)", {
  for (norm in c("layer", "batch")) {
    for (init in c("torch", "normal")) {
      net <- wf_net(wf_mlp(c(6, 5), norm = norm, init = init), 4, 2, seed = 6)
      p <- wf_params(net)
      lay <- wf_param_layout(net)
      expect_identical(sum(lay$kind == "gamma"), 2L)
      for (i in which(lay$kind == "gamma")) {
        expect_true(all(p[lay$offset[i] + seq_len(lay$length[i])] == 1), info = lay$name[i])
      }
      for (i in which(lay$kind == "beta")) {
        expect_true(all(p[lay$offset[i] + seq_len(lay$length[i])] == 0), info = lay$name[i])
      }
    }
  }
  bn <- wf_net(wf_mlp(c(6, 5), norm = "batch"), 4, 2, seed = 6)
  expect_identical(wf_state(bn), c(rep(0, 6), rep(1, 6), rep(0, 5), rep(1, 5)))
  expect_length(wf_state(wf_net(wf_mlp(c(6, 5)), 4, 2, seed = 6)), 0)
})

test_that("gamma_init = \"normal\": a BatchNorm residual net starts at the identity", {
  spec <- wf_mlp(c(64, 64, 64), norm = "batch", residual = TRUE, init = "normal",
                 init_sd = 0.01, gamma_init = "normal")
  net <- wf_net(spec, 2, 2, seed = 7)
  p <- wf_params(net)
  lay <- wf_param_layout(net)
  gam <- unlist(lapply(which(lay$kind == "gamma"),
                       function(i) p[lay$offset[i] + seq_len(lay$length[i])]))
  expect_length(gam, 3 * 64)
  expect_equal(stats::sd(gam), 0.01, tolerance = 0.2)
  expect_true(all(gam != 1))
  for (i in which(lay$kind %in% c("beta", "bias"))) {
    expect_true(all(p[lay$offset[i] + seq_len(lay$length[i])] == 0), info = lay$name[i])
  }
  # BatchNorm rescales its input to unit variance: with gamma = 1 the output
  # of H is not small, with a small gamma it is (in training mode too)
  z <- matrix(stats::rnorm(400, sd = 2), 200, 2)
  expect_lt(max(abs(wf_forward(net, z, train = TRUE) - z)), 1e-3)
  one <- wf_net(wf_mlp(c(64, 64, 64), norm = "batch", residual = TRUE), 2, 2, seed = 7)
  expect_gt(max(abs(wf_forward(one, z, train = TRUE) - z)), 10 * max(abs(wf_forward(net, z, train = TRUE) - z)))
  # the same seed gives the same weights as gamma_init = "one": only gamma differs
  w <- lay$kind == "weight"
  idx <- unlist(lapply(which(w), function(i) lay$offset[i] + seq_len(lay$length[i])))
  expect_identical(wf_params(one)[idx], p[idx])
  expect_output(print(spec), "gamma normal")
  expect_arg_error(wf_mlp(8, gamma_init = "normal"), "gamma_init")
  expect_arg_error(wf_mlp(8, gamma_init = "zero"), "gamma_init")
})

test_that("wf_param_layout() tiles wf_params()", {
  for (spec in list(wf_mlp(integer(0)), wf_mlp(c(7, 3)), wf_mlp(c(4, 4, 4), norm = "layer"),
                    wf_mlp(5, norm = "batch"), wf_mlp(c(8, 8), residual = TRUE))) {
    out_dim <- if (spec$residual) 3 else 2
    net <- wf_net(spec, 3, out_dim, seed = 1)
    lay <- wf_param_layout(net)
    expect_s3_class(lay, "data.frame")
    expect_equal(sum(lay$length), length(wf_params(net)))
    expect_equal(lay$offset, cumsum(c(0, utils::head(lay$length, -1))))
    expect_equal(lay$length, lay$rows * lay$cols)
    expect_false(anyDuplicated(lay$name) > 0)
  }
})

# ---- serialisation -----------------------------------------------------------

test_that("saveRDS()/readRDS() restores a net exactly, training state included", {
  set.seed(20)
  net <- wf_net(wf_mlp(c(16, 16), activation = "tanh"), 2, 1, seed = 8)
  opt <- wf_adam(1e-2, 0.5, 0.9)
  real <- cloud(64, c(1, 0))
  fake <- cloud(64)
  for (i in 1:5) wf_critic_step(net, real, fake, opt, penalty = "gp")
  x <- cloud(20)

  copy <- saved_and_read(net)
  expect_s3_class(copy, "wf_net")
  expect_identical(wf_params(copy), wf_params(net))
  expect_identical(wf_forward(copy, x), wf_forward(net, x))
  expect_identical(wf_input_grad(copy, x), wf_input_grad(net, x))

  # continuing training (t drawn from the net's stream) matches the original
  for (i in 1:3) {
    a <- wf_critic_step(net, real, fake, opt, penalty = "gp", t = NULL)
    b <- wf_critic_step(copy, real, fake, opt, penalty = "gp", t = NULL)
    expect_identical(b, a)
  }
  expect_identical(wf_params(copy), wf_params(net))
  expect_identical(wf_rng_uniform(copy, 5), wf_rng_uniform(net, 5))

  # the copy is independent of the original
  wf_critic_step(copy, real, fake, opt)
  expect_false(identical(wf_params(copy), wf_params(net)))
})

test_that("a BatchNorm net keeps its running statistics through readRDS()", {
  set.seed(21)
  net <- wf_net(wf_mlp(c(8, 8), norm = "batch"), 2, 2, seed = 9)
  x <- cloud(32, c(2, -1))
  wf_forward(net, x, train = TRUE)
  expect_false(identical(wf_state(net), c(rep(0, 8), rep(1, 8), rep(0, 8), rep(1, 8))))
  copy <- unserialize(serialize(net, NULL))
  expect_identical(wf_state(copy), wf_state(net))
  expect_identical(wf_forward(copy, x), wf_forward(net, x))
})

# ---- random streams ----------------------------------------------------------

test_that("wf_rng_uniform() is uniform on (0, 1) and wf_rng_normal() standard normal", {
  net <- wf_net(wf_mlp(4), 2, 1, seed = 12)
  u <- wf_rng_uniform(net, 1e5)
  expect_length(u, 1e5)
  expect_true(all(u > 0 & u < 1))
  expect_equal(mean(u), 0.5, tolerance = 0.01)
  expect_equal(stats::var(u), 1 / 12, tolerance = 0.03)
  z <- wf_rng_normal(net, 1e5)
  expect_length(z, 1e5)
  expect_true(all(is.finite(z)))
  expect_lt(abs(mean(z)), 0.02)
  expect_equal(stats::sd(z), 1, tolerance = 0.02)
  expect_equal(mean(abs(z) > 1.96), 0.05, tolerance = 0.1)
})

# ---- critic training ---------------------------------------------------------

test_that("wf_critic_step() learns W1 between two Gaussian clouds", {
  # N((3, 0), I) vs N(0, I): W1 = 3. With the LP penalty the optimal critic
  # has slope 1 + 3 / (2 lambda) along the shift, so its estimate is biased
  # up by that factor (15% at lambda = 10); lambda = 50 keeps it to 3%.
  old <- wf_threads(1)
  on.exit(wf_threads(old), add = TRUE)
  set.seed(30)
  critic <- wf_net(wf_mlp(c(64, 64)), 2, 1, seed = 13)
  opt <- wf_adam(1e-3, beta1 = 0.5, beta2 = 0.9)
  steps <- 300
  loss <- numeric(steps)
  for (i in seq_len(steps)) {
    out <- wf_critic_step(critic, cloud(256, c(3, 0)), cloud(256), opt,
                          penalty = "lp", lambda = 50)
    loss[i] <- out$loss
  }
  expect_true(all(is.finite(loss)))
  expect_lt(mean(utils::tail(loss, 20)), mean(loss[1:10]) - 1.5)
  # the estimate on fresh samples
  w1 <- mean(wf_forward(critic, cloud(10000, c(3, 0)))) -
    mean(wf_forward(critic, cloud(10000)))
  expect_equal(w1, 3, tolerance = 0.15)
  expect_equal(out$grad_norm, 1, tolerance = 0.1)
  expect_identical(critic$opt$step, steps)
})

test_that("penalty = \"clip\" keeps every parameter in [-clip, clip]", {
  set.seed(31)
  critic <- wf_net(wf_mlp(c(16, 16)), 2, 1, seed = 14)
  expect_gt(max(abs(wf_params(critic))), 0.05)
  for (i in 1:5) {
    wf_critic_step(critic, cloud(64, c(2, 0)), cloud(64), wf_rmsprop(0.05),
                   penalty = "clip", clip = 0.03)
    p <- wf_params(critic)
    expect_true(all(abs(p) <= 0.03 + 1e-7))
  }
  expect_equal(max(abs(p)), 0.03, tolerance = 1e-6) # the bound is reached
  wf_clip(critic, 0.01)
  expect_true(all(abs(wf_params(critic)) <= 0.01 + 1e-7))
})

# ---- threads -----------------------------------------------------------------

test_that("the number of threads does not change the results", {
  old <- wf_threads()
  on.exit(wf_threads(old), add = TRUE)
  set.seed(40)
  net <- wf_net(wf_mlp(c(128, 96), activation = "tanh"), 16, 4, seed = 15)
  x <- matrix(stats::rnorm(300 * 16), 300, 16)
  dy <- matrix(stats::rnorm(300 * 4), 300, 4)
  expect_identical(wf_threads(1), old)
  expect_identical(wf_threads(), 1L)
  f1 <- wf_forward(net, x)
  b1 <- wf_backward(net, x, dy)
  wf_threads(2)
  expect_identical(wf_threads(), 2L)
  f2 <- wf_forward(net, x)
  b2 <- wf_backward(net, x, dy)
  expect_equal(f2, f1, tolerance = 1e-6)
  expect_equal(b2, b1, tolerance = 1e-5)
})

# ---- penalties and gradients -------------------------------------------------

test_that("wf_penalty() agrees with the penalty of wf_critic_loss()", {
  set.seed(50)
  critic <- wf_net(wf_mlp(c(32, 32), activation = "softplus"), 3, 1, seed = 16)
  real <- matrix(stats::rnorm(3 * 40, 1), 40, 3)
  fake <- matrix(stats::rnorm(3 * 40), 40, 3)
  t <- stats::runif(40)
  xh <- t * real + (1 - t) * fake
  for (penalty in c("gp", "lp")) {
    for (lambda in c(10, 2.5)) {
      full <- wf_critic_loss(critic, real, fake, penalty = penalty, lambda = lambda, t = t)
      alone <- wf_penalty(critic, xh, penalty = penalty, lambda = lambda)
      expect_equal(alone$value, full$penalty, tolerance = 1e-5)
      expect_equal(alone$grad_norm, full$grad_norm, tolerance = 1e-5)
      w1 <- mean(wf_forward(critic, real)) - mean(wf_forward(critic, fake))
      expect_equal(full$w1, w1, tolerance = 1e-5)
      expect_equal(full$loss, -w1 + full$penalty, tolerance = 1e-5)
    }
  }
  # the gp penalty by hand, from the input gradients
  g <- wf_input_grad(critic, xh)
  by_hand <- 10 * mean((sqrt(rowSums(g^2)) - 1)^2)
  expect_equal(wf_penalty(critic, xh, "gp", 10)$value, by_hand, tolerance = 1e-4)
  none <- wf_critic_loss(critic, real, fake, penalty = "none", t = t)
  expect_identical(none$penalty, 0)
})

test_that("wf_backward()'s param_grad matches finite differences", {
  set.seed(60)
  net <- wf_net(wf_mlp(c(8, 8), activation = "tanh"), 2, 2, seed = 17)
  x <- matrix(stats::rnorm(10), 5, 2)
  dy <- matrix(stats::rnorm(10), 5, 2)
  p <- wf_params(net)
  grad <- wf_backward(net, x, dy)$param_grad
  expect_length(grad, length(p))
  objective <- function(q) {
    wf_params(net) <- q
    sum(dy * wf_forward(net, x))
  }
  h <- 1e-2
  # a first-layer weight, a last-layer bias and the largest gradient
  lay <- wf_param_layout(net)
  idx <- unique(c(lay$offset[1] + 1, lay$offset[nrow(lay)] + 1, which.max(abs(grad))))
  for (i in idx) {
    e <- replace(numeric(length(p)), i, h)
    fd <- (objective(p + e) - objective(p - e)) / (2 * h)
    expect_lt(abs(fd - grad[i]), 1e-3 * max(1, abs(grad[i])),
              label = sprintf("finite-difference error for parameter %d", i))
  }
  wf_params(net) <- p
  # the input gradient too
  ig <- wf_backward(net, x, dy)$input_grad
  xe <- x
  xe[2, 1] <- x[2, 1] + h
  xm <- x
  xm[2, 1] <- x[2, 1] - h
  fd <- (sum(dy * wf_forward(net, xe)) - sum(dy * wf_forward(net, xm))) / (2 * h)
  expect_lt(abs(fd - ig[2, 1]), 1e-3 * max(1, abs(ig[2, 1])))
})

# ---- printing ----------------------------------------------------------------

test_that("print methods describe specs, nets and optimisers", {
  spec <- wf_mlp(c(32, 16), activation = "tanh", norm = "layer")
  expect_output(print(spec), "wf_mlp_spec")
  expect_output(print(spec), "32 -> 16")
  expect_output(print(wf_mlp(4, residual = TRUE)), "residual")
  net <- wf_net(spec, 3, 1, seed = 1)
  expect_output(print(net), "wf_net")
  expect_output(print(net), as.character(length(wf_params(net))))
  expect_output(print(wf_adam()), "adam")
  expect_output(print(wf_rmsprop()), "rmsprop")
  expect_output(print(wf_sgd(0.1, momentum = 0.9)), "momentum 0.9")
  utils::capture.output(vis <- withVisible(print(net)))
  expect_false(vis$visible)
  out <- utils::capture.output(res <- print(spec))
  expect_gt(length(out), 0)
  expect_identical(res, spec)
})

test_that("a step updates the net's R copy but never a copy the user holds", {
  net <- wf_net(wf_mlp(8), 2, 1, seed = 3)
  held <- wf_params(net)
  held_m1 <- net$opt$m1
  before <- held + 0
  real <- matrix(rnorm(20), 10, 2)
  wf_critic_step(net, real, real + 1, wf_adam(1e-2))
  expect_identical(held, before)
  expect_true(all(held_m1 == 0))
  expect_false(identical(wf_params(net), before))
  expect_identical(net$opt$step, 1)
  wf_critic_step(net, real, real + 1, wf_adam(1e-2))
  expect_identical(net$opt$step, 2)
  expect_identical(held, before)
})

test_that("a refused net's message ends with one full stop", {
  net <- wf_net(wf_dcgan_critic(image = c(1, 16, 16), width = 4), seed = 1)
  net$input_dim <- 100L # its spec's own sentence is quoted in the message
  err <- expect_error(wf_forward(net, matrix(0, 2, 100)), class = "wgflow_error_arg")
  expect_match(conditionMessage(err), "has 100[.]$")
  net <- wf_net(wf_mlp(4), 2, 1, seed = 1)
  net$params[1] <- NaN
  err <- expect_error(wf_forward(net, matrix(0, 2, 2)), class = "wgflow_error_arg")
  expect_match(conditionMessage(err), "finite numbers[.]$")
})
