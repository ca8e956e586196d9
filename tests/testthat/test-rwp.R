# RWP and SBE (Lin, Li, Osher, Montufar) end to end, and the GAN / DRAGAN
# critic losses at the R API: small nets and few epochs.

toy <- function() wf_toy("8gaussians", n = 1200, seed = 3)

small_rwp <- function(..., epochs = 4, seed = 1) {
  rwp(toy(), epochs = epochs, batch_size = 32, critic_steps = 2, latent_dim = 2,
      critic = wf_mlp(c(16, 16)), generator = wf_mlp(c(16, 16)),
      eval_n = 100, eval_every = 2, seed = seed, device = "cpu", verbose = FALSE, ...)
}

small_sbe <- function(..., epochs = 4, seed = 1) {
  sbe(toy(), epochs = epochs, batch_size = 32, critic_steps = 2, potential_steps = 2,
      latent_dim = 2, critic = wf_mlp(c(16, 16)), generator = wf_mlp(c(16, 16)),
      potential = wf_mlp(16, "tanh", norm = "layer"), eval_n = 100, eval_every = 2,
      seed = seed, device = "cpu", verbose = FALSE, ...)
}

test_that("rwp returns one metrics row per outer iteration with the documented columns", {
  fit <- small_rwp()
  expect_s3_class(fit, "wf_rwp")
  expect_named(fit$metrics, c("epoch", "seconds", "critic_loss", "w1_critic", "penalty",
                              "grad_norm", "gen_loss", "proximal", "displacement",
                              "w1", "w2", "w1_se", "w2_se"))
  expect_identical(fit$metrics$epoch, 1:4)
  expect_identical(!is.na(fit$metrics$w1), c(FALSE, TRUE, FALSE, TRUE))
  # the proximal term is 1/(2h) times the mean squared displacement
  expect_true(all(fit$metrics$displacement > 0))
  expect_equal(fit$metrics$proximal, fit$metrics$displacement / (2 * 0.1), tolerance = 1e-5)
  expect_identical(fit$status, "completed")
  expect_match(wgflow:::fit_label(fit), "RWP \\(WGAN-GP, l = 10, h = 0.1\\)")
  expect_output(print(fit), "RWP")
  # h = Inf: l plain generator updates, no proximal term
  plain <- small_rwp(h = Inf)
  expect_true(all(is.na(plain$metrics$proximal) & is.na(plain$metrics$displacement)))
  expect_match(wgflow:::fit_label(plain), "no proximal term")
})

test_that("RWP with l = 1 is WGAN training, parameter for parameter", {
  # W1-FE's naive K = 1 is the WGAN generator update; the critic phases
  # draw alike, so the two runs agree exactly
  args <- list(epochs = 5, batch_size = 32, critic_steps = 3, lambda = 10,
               critic = wf_mlp(c(16, 16)), generator = wf_mlp(c(16, 16)),
               critic_optimizer = wf_adam(1e-3, 0.5, 0.9),
               generator_optimizer = wf_adam(1e-3, 0.5, 0.9),
               eval_n = 50, eval_every = 5, seed = 9, device = "cpu", verbose = FALSE)
  r <- do.call(rwp, c(list(toy(), loss = "wgan-gp", generator_steps = 1, h = 0.1,
                           latent_dim = 2), args))
  w <- do.call(w1fe, c(list(toy(), penalty = "gp", persistency = 1,
                            persistency_mode = "naive"), args))
  expect_identical(wf_params(r$generator), wf_params(w$generator))
  expect_identical(wf_params(r$critic), wf_params(w$critic))
  expect_identical(r$metrics$w1, w$metrics$w1)
  expect_true(all(r$metrics$displacement == 0))
  # the standard GAN and DRAGAN losses: with or without the proximal term
  for (loss in c("gan", "dragan")) {
    a <- small_rwp(loss = loss, generator_steps = 1, h = 0.2)
    b <- small_rwp(loss = loss, generator_steps = 1, h = Inf)
    expect_identical(wf_params(a$generator), wf_params(b$generator), info = loss)
    expect_true(all(is.na(a$metrics$w1_critic)), info = loss)
  }
  # and l > 1 differs
  c10 <- small_rwp(loss = "gan", generator_steps = 3, h = 0.2)
  d10 <- small_rwp(loss = "gan", generator_steps = 3, h = Inf)
  expect_false(identical(wf_params(c10$generator), wf_params(d10$generator)))
})

test_that("a seed reproduces rwp and sbe; wf_continue and saveRDS resume exactly", {
  for (f in list(small_rwp, small_sbe)) {
    a <- f(epochs = 6, seed = 4)
    b <- f(epochs = 6, seed = 4)
    cols <- setdiff(names(a$metrics), "seconds")
    expect_identical(a$metrics[cols], b$metrics[cols])
    half <- f(epochs = 3, seed = 4)
    rest <- wf_continue(saved_and_read(half), epochs = 3, verbose = FALSE)
    expect_identical(wf_params(rest$generator), wf_params(a$generator))
    expect_identical(tail(rest$metrics$w1, 1), tail(a$metrics$w1, 1))
    if (inherits(a, "wf_sbe")) {
      # SBE's lag-one anchor is part of the fit
      expect_identical(wf_params(rest$anchor), wf_params(a$anchor))
      expect_identical(wf_params(rest$potential), wf_params(a$potential))
    }
  }
})

test_that("sbe: the lag-one anchor trails the generator; the literal one degenerates", {
  fit <- small_sbe()
  expect_s3_class(fit, "wf_sbe")
  expect_named(fit$metrics, c("epoch", "seconds", "critic_loss", "w1_critic", "penalty",
                              "grad_norm", "potential_objective", "potential_grad_norm",
                              "gen_loss", "potential_term", "w1", "w2", "w1_se", "w2_se"))
  expect_false(identical(wf_params(fit$anchor), wf_params(fit$generator)))
  expect_match(wgflow:::fit_label(fit), "lag-one anchor")
  # read literally, J = -mean |grad Phi|^2 / 2 <= 0 at every phase
  lit <- small_sbe(anchor = "literal", epochs = 6)
  expect_true(all(lit$metrics$potential_objective <= 0))
  expect_match(wgflow:::fit_label(lit), "literal anchor")
  expect_output(print(lit), "anchor:")
})

test_that("bad arguments of rwp and sbe are classed errors naming them", {
  x <- toy()
  expect_arg_error(rwp(x, h = 0), "h")
  expect_arg_error(rwp(x, h = -1), "h")
  expect_arg_error(rwp(x, h = NA), "h")
  expect_arg_error(rwp(x, h = "a"), "h")
  expect_arg_error(rwp(x, h = c(1, 2)), "h")
  expect_arg_error(rwp(x, generator_steps = 0), "generator_steps")
  expect_arg_error(rwp(x, generator_steps = 1.5), "generator_steps")
  expect_arg_error(rwp(x, loss = "wgan"), "loss")
  expect_arg_error(rwp(x, loss = NA), "loss")
  expect_arg_error(rwp(x, critic_steps = 0), "critic_steps")
  expect_arg_error(rwp(x, lambda = -1), "lambda")
  expect_arg_error(rwp(x, latent_dim = 0), "latent_dim")
  expect_arg_error(rwp(x, batch_size = 2^25), "batch_size")
  expect_arg_error(rwp(x, epochs = 0), "epochs")
  expect_arg_error(rwp(x, critic = "big"), "critic")
  expect_arg_error(rwp(x, critic = wf_mlp(8, norm = "batch")), "critic")
  expect_arg_error(rwp(x, generator_optimizer = list()), "generator_optimizer")
  expect_arg_error(rwp(x, critic_optimizer = "adam"), "critic_optimizer")
  expect_arg_error(rwp(matrix(c(1, NA), 1)), "data")
  expect_arg_error(rwp(x, verbose = NA), "verbose")
  expect_arg_error(rwp(x, device = "tpu"), "device")
  expect_arg_error(sbe(x, h = 0), "h")
  expect_arg_error(sbe(x, h = Inf), "h")
  expect_arg_error(sbe(x, anchor = "previous"), "anchor")
  expect_arg_error(sbe(x, potential = wf_mlp(8, norm = "batch")), "potential")
  expect_arg_error(sbe(x, potential = 3), "potential")
  expect_arg_error(sbe(x, potential_steps = 0), "potential_steps")
  expect_arg_error(sbe(x, generator_steps = -1), "generator_steps")
  expect_arg_error(sbe(x, potential_optimizer = 1), "potential_optimizer")
  expect_arg_error(sbe(x, loss = "hinge"), "loss")
})

test_that("the GAN and DRAGAN critic losses at the R API", {
  net <- wf_net(wf_mlp(c(8, 8), activation = "tanh"), 2, 1, seed = 2)
  set.seed(1)
  real <- matrix(rnorm(20), 10, 2)
  fake <- matrix(rnorm(20, 1), 10, 2)
  softplus <- function(v) log1p(exp(-abs(v))) + pmax(v, 0)
  gan <- wf_critic_loss(net, real, fake, loss = "gan")
  want <- mean(softplus(-wf_forward(net, real))) + mean(softplus(wf_forward(net, fake)))
  expect_equal(gan$loss, want, tolerance = 1e-5)
  expect_true(is.na(gan$w1) && is.na(gan$grad_norm))
  expect_identical(gan$penalty, 0)
  # DRAGAN: the GAN loss + lambda mean (|grad phi(xp)| - 1)^2, xp = x + 0.5 sd(x) u
  u <- matrix(runif(20), 10, 2)
  dr <- wf_critic_loss(net, real, fake, loss = "dragan", lambda = 3, t = u)
  xp <- real + 0.5 * sd(as.vector(real)) * u
  g <- wf_input_grad(net, xp)
  pen <- 3 * mean((sqrt(rowSums(g^2)) - 1)^2)
  expect_equal(dr$penalty, pen, tolerance = 1e-5)
  expect_equal(dr$loss, want + pen, tolerance = 1e-5)
  expect_equal(dr$grad_norm, mean(sqrt(rowSums(g^2))), tolerance = 1e-5)
  # a step moves the critic; bad uses are named
  p0 <- wf_params(net)
  wf_critic_step(net, real, fake, wf_adam(1e-2), loss = "dragan")
  expect_false(identical(p0, wf_params(net)))
  expect_arg_error(wf_critic_loss(net, real, fake, loss = "hinge"), "loss")
  expect_arg_error(wf_critic_loss(net, real, fake, loss = "gan", penalty = "gp"), "penalty")
  expect_arg_error(wf_critic_step(net, real, fake, wf_adam(), loss = "dragan",
                                  penalty = "clip"), "penalty")
  expect_arg_error(wf_critic_loss(net, real, fake, loss = "dragan", t = runif(10)), "t")
  expect_arg_error(wf_critic_loss(net, real, fake, loss = "dragan", t = u + 1), "t")
  expect_arg_error(wf_critic_loss(net, real, fake, t = u), "t")
})
