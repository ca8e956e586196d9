# A net's R copy as views of its C state (src/ffi-view.c): engine calls copy
# nothing up to R, every read of the copy (saveRDS() included) sees the
# values the net holds, and a vector someone kept keeps its values.

reads <- function() .Call(wgflow:::ffi_view_reads)

views_net <- function(norm = "none") wf_net(wf_mlp(c(16, 16), norm = norm), 2, 1, seed = 1)

step_data <- function() {
  set.seed(3)
  real <- matrix(rnorm(64), 32, 2)
  list(real = real, fake = real + 1)
}

# everything a net's R copy holds, as plain values
r_copy <- function(net) {
  list(params = wf_params(net), state = wf_state(net),
       opt = wgflow:::plain_values(net$opt), rng = net$rng)
}

test_that("engine calls copy nothing up to R; a read gives the stepped values", {
  d <- step_data()
  net <- views_net()
  eager <- views_net()
  before <- reads()
  for (i in 1:10) wf_critic_step(net, d$real, d$fake, wf_adam(1e-2))
  invisible(wf_rng_uniform(net, 3))
  expect_identical(reads(), before)
  # the same steps, reading the whole R copy after each one
  for (i in 1:10) {
    wf_critic_step(eager, d$real, d$fake, wf_adam(1e-2))
    r_copy(eager)
  }
  invisible(wf_rng_uniform(eager, 3))
  expect_gt(reads(), before)
  expect_identical(r_copy(net), r_copy(eager))
  expect_identical(net$opt$step, 10)
  expect_identical(length(net$params), length(wf_params(net)))
  expect_output(print(net), "<wf_net>")
})

test_that("a fit's training copies nothing up to R until its nets are read", {
  x <- wf_toy("8gaussians", 600, seed = 1)
  before <- reads()
  fit <- w1fe(x, epochs = 6, critic = wf_mlp(8), generator = wf_mlp(8), batch_size = 64,
              critic_steps = 2, eval_every = 3, eval_n = 100, seed = 1, device = "cpu",
              verbose = FALSE)
  expect_identical(reads(), before)
  p <- coef(fit)
  expect_gt(reads(), before)
  expect_true(all(is.finite(unlist(p))))
})

test_that("a vector read from a net keeps its values when the net changes", {
  d <- step_data()
  net <- views_net(norm = "batch")
  ref <- views_net(norm = "batch") # the same net, never stepped
  # the R copy itself, not read yet: read before the net changes
  held <- net$params
  held_state <- net$state
  held_opt <- net$opt
  held_m2 <- net$opt$m2
  expect_true(wgflow:::view_unread(held))
  g <- wf_backward(net, d$real, matrix(1, nrow(d$real), 1), train = TRUE)$param_grad
  wf_optim_step(net, g, wf_adam(1e-2))
  expect_identical(held, wf_params(ref))
  expect_identical(held_state, wf_state(ref))
  expect_identical(held_m2, ref$opt$m2)
  expect_identical(held_opt, wgflow:::plain_values(ref$opt))
  expect_false(identical(wf_params(net), wf_params(ref)))
  expect_false(identical(wf_state(net), wf_state(ref)))
  expect_false(identical(net$opt$m2, ref$opt$m2))
  # what wf_params() and wf_state() return keeps its values too
  p <- wf_params(net)
  s <- wf_state(net)
  before <- list(p + 0, s + 0)
  invisible(wf_forward(net, d$real, train = TRUE))
  wf_optim_step(net, g, wf_adam(1e-2))
  expect_identical(list(p, s), before)
  # a copy of a net does not follow the original
  copy <- wgflow:::copy_net(net)
  kept <- r_copy(copy)
  wf_optim_step(net, g, wf_adam(1e-2))
  expect_identical(r_copy(copy), kept)
  # writing into a read vector reaches neither the net nor an earlier read
  q <- wf_params(net)
  q2 <- wf_params(net)
  q[1] <- 1e3
  expect_false(identical(q, q2))
  expect_identical(wf_params(net), q2)
})

test_that("saveRDS() after engine steps saves the stepped net", {
  d <- step_data()
  net <- views_net()
  for (i in 1:5) wf_critic_step(net, d$real, d$fake, wf_adam(1e-2))
  back <- saved_and_read(net)
  expect_identical(wf_params(back), wf_params(net))
  expect_identical(r_copy(back), r_copy(net))
  # the saved copy holds plain vectors, and trains on as the live net does
  expect_false(wgflow:::view_unread(get("params", envir = back)))
  wf_critic_step(net, d$real, d$fake, wf_adam(1e-2))
  wf_critic_step(back, d$real, d$fake, wf_adam(1e-2))
  expect_identical(r_copy(back), r_copy(net))
  # a net inside a list, and serialize() as well
  twice <- unserialize(serialize(list(a = net), NULL))$a
  expect_identical(wf_params(twice), wf_params(net))
})

test_that("a BatchNorm net saved after training-mode passes keeps its statistics", {
  d <- step_data()
  net <- views_net(norm = "batch")
  start <- wf_state(net)
  invisible(wf_forward(net, d$real, train = TRUE))
  back <- saved_and_read(net)
  expect_false(identical(wf_state(back), start))
  expect_identical(wf_state(back), wf_state(net))
  expect_identical(wf_forward(back, d$real), wf_forward(net, d$real))
})

test_that("a view whose net was freed says so instead of crashing", {
  net <- views_net()
  held <- net$params
  .Call(wgflow:::ffi_net_free, net$ptr)
  expect_error(held[1], class = "wgflow_error_state")
})
