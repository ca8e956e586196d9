# A fit's generator checked against the fit (R/check-nets.R) before
# sampling: a net of other widths is a classed error, not a base-R one.

nets_data <- wf_toy("8gaussians", n = 300, seed = 1)
nets_fit <- w1fe(nets_data, epochs = 2, critic = wf_mlp(8), generator = wf_mlp(8),
                 batch_size = 32, eval_n = 50, seed = 1, device = "cpu", verbose = FALSE)

test_that("sampling refuses a fit whose generator gives the wrong width", {
  f <- nets_fit
  f$generator <- wf_net(wf_mlp(4), 2, 5, seed = 1)
  err <- expect_arg_error(wf_sample(f, 10), "fit")
  expect_match(conditionMessage(err), "5 outputs, but the fit's data have 2 columns")
  expect_arg_error(predict(f), "object")
  expect_arg_error(predict(f, matrix(0, 3, 2), type = "generator"), "object")
  expect_arg_error(simulate(f, n = 10), "object")
})

test_that("sampling refuses a fit whose generator takes the wrong latent width", {
  f <- nets_fit
  f$generator <- wf_net(wf_mlp(4), 3, 2, seed = 1)
  err <- expect_arg_error(wf_sample(f, 10), "fit")
  expect_match(conditionMessage(err), "takes 3 inputs, but the fit's latent width is 2")
  expect_arg_error(simulate(f, n = 10), "object")
})

test_that("a map fit's generator must take its source's columns", {
  p <- wf_toy_pair("4gaussians", 200, seed = 1)
  m <- w1fe(p$target, source = p$source, epochs = 1, critic = wf_mlp(8),
            batch_size = 32, eval_n = 50, seed = 1, device = "cpu", verbose = FALSE)
  expect_identical(dim(predict(m, p$source[1:3, ])), c(3L, 2L))
  m$generator <- wf_net(wf_mlp(4), 3, 2, seed = 1)
  err <- expect_arg_error(predict(m, p$source[1:3, ]), "object")
  expect_match(conditionMessage(err), "source has 2")
})

test_that("a well-formed fit samples as before", {
  expect_identical(dim(wf_sample(nets_fit, 7, seed = 1)), c(7L, 2L))
  expect_length(simulate(nets_fit, nsim = 2, n = 5, seed = 1), 2L)
})
