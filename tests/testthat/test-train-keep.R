# The keeper of a run's last good epoch (R/train-keep.R): the nets' state
# kept on their device, the finite check that names the part that went
# wrong, and the state put back after a divergence.

keeper_net <- function() wf_net(wf_mlp(8, norm = "batch"), 2, 3, seed = 1)

# one training step that moves every part: parameters, BatchNorm
# statistics, both moments, the step count and the random stream
train_step <- function(net, x) {
  invisible(wf_classifier_step(net, x, rep(1:3, length.out = nrow(x)), wf_adam(1e-2)))
  invisible(wf_rng_normal(net, 3))
}

net_now <- function(net) {
  list(params = wf_params(net), state = wf_state(net),
       opt = wgflow:::plain_values(net$opt), rng = net$rng)
}

test_that("the keeper puts back every part of the state it saved", {
  net <- keeper_net()
  x <- matrix(rnorm(40), 20, 2)
  for (i in 1:3) train_step(net, x)
  keeper <- wgflow:::new_keeper(list(critic = net), "critic")
  expect_false(keeper$restore()) # nothing saved yet
  keeper$save(3)
  expect_identical(keeper$epoch(), 3L)
  saved <- net_now(net)
  train_step(net, x)
  now <- net_now(net)
  for (part in c("params", "state", "rng")) expect_false(identical(now[[part]], saved[[part]]))
  for (part in c("step", "m1", "m2")) expect_false(identical(now$opt[[part]], saved$opt[[part]]))
  expect_true(keeper$restore())
  expect_identical(net_now(net), saved)
  # the same step from the restored state gives the same net as from a copy
  copy <- wgflow:::copy_net(net)
  train_step(net, x)
  train_step(copy, x)
  expect_identical(net_now(net), net_now(copy))
  keeper$drop()
})

test_that("the keeper's check names the net and the part that is not finite", {
  net <- keeper_net()
  keeper <- wgflow:::new_keeper(list(critic = net), "critic")
  keeper$save(0, check = FALSE)
  n <- length(wf_params(net))
  expect_null(wgflow:::non_finite_part(net))
  # a gradient of 1e30 overflows Adam's second moment in float32 only
  wf_optim_step(net, rep(1e30, n), wf_adam(1e-3))
  err <- expect_error(keeper$save(1), class = "wgflow_error_numeric")
  expect_identical(conditionMessage(err),
                   "the critic's optimiser second moment is not finite after epoch 1")
  # a refused save keeps the last good state
  expect_identical(keeper$epoch(), 0L)
  expect_true(keeper$restore())
  expect_null(wgflow:::non_finite_part(net))
  expect_identical(net$opt$step, 0)
  wf_optim_step(net, rep(1e30, n), wf_sgd(1e30))
  expect_identical(wgflow:::non_finite_part(net), "parameters")
  keeper$restore()
  invisible(wf_forward(net, rbind(c(1e30, -1e30), c(-1e30, 1e30)), train = TRUE))
  expect_identical(wgflow:::non_finite_part(net), "BatchNorm statistics")
  keeper$restore()
  expect_true(all(is.finite(wf_state(net))))
})

test_that("the finite check and the keeper copy nothing up to R", {
  reads <- function() .Call(wgflow:::ffi_view_reads)
  net <- keeper_net()
  x <- matrix(rnorm(40), 20, 2)
  keeper <- wgflow:::new_keeper(list(critic = net), "critic")
  before <- reads()
  for (epoch in 1:5) {
    train_step(net, x)
    keeper$save(epoch)
  }
  keeper$restore()
  expect_identical(reads(), before)
})

test_that("a fit that diverges returns the nets of its last good epoch from the device", {
  x <- wf_toy("8gaussians", 1000, seed = 1)
  run <- function(epochs) {
    w1fe(x, epochs = epochs, critic = wf_mlp(16), generator = wf_mlp(16), batch_size = 64,
         critic_steps = 2, eval_every = 2, eval_n = 100, seed = 1, device = "cpu",
         verbose = FALSE,
         callbacks = list(wf_lr_schedule(function(e) if (e >= 4) 1e12 else 1)))
  }
  expect_warning(f <- run(8), "not finite")
  expect_identical(f$status, "diverged")
  last <- max(f$metrics$epoch)
  expect_match(f$message, sprintf("the networks are those after epoch %d", last))
  good <- run(last)
  for (role in c("critic", "generator")) {
    expect_identical(wf_params(f[[role]]), wf_params(good[[role]]), info = role)
    expect_identical(f[[role]]$opt, good[[role]]$opt, info = role)
    expect_identical(f[[role]]$rng, good[[role]]$rng, info = role)
  }
})
