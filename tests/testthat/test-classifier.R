# The classifier loss and step (R/classifier.R): the softmax cross-entropy
# against its formula on wf_forward()'s logits, its gradient against
# wf_backward() along (softmax - onehot) / m, the step against SGD's
# update, labels as factors or class numbers, classed errors. (The op's
# finite-difference and exact tests are in tests/c: test_ops_loss.c,
# test_compose.c.)

xent_reference <- function(logits, cls) {
  mx <- apply(logits, 1L, max)
  lse <- mx + log(rowSums(exp(logits - mx)))
  p <- exp(logits - lse)
  onehot <- matrix(0, nrow(logits), ncol(logits))
  onehot[cbind(seq_along(cls), cls)] <- 1
  list(loss = mean(lse - logits[cbind(seq_along(cls), cls)]),
       dy = (p - onehot) / nrow(logits))
}

test_that("the classifier loss is the softmax cross-entropy, its gradient the backward's", {
  set.seed(3)
  net <- wf_net(wf_mlp(c(8, 8), activation = "tanh"), 3, 4, seed = 2)
  x <- matrix(rnorm(36), 12, 3)
  cls <- c(1, 4, 2, 2, 3, 4, 1, 1, 3, 2, 4, 4)
  ref <- xent_reference(wf_forward(net, x), cls)
  out <- wf_classifier_loss(net, x, cls)
  expect_named(out, c("loss", "param_grad"))
  expect_equal(out$loss, ref$loss, tolerance = 1e-6)
  back <- wf_backward(net, x, ref$dy)$param_grad
  expect_equal(out$param_grad, back, tolerance = 1e-5)
  # the same as a factor (level j is output j)
  f <- factor(c("a", "d", "b", "b", "c", "d", "a", "a", "c", "b", "d", "d"),
              levels = c("a", "b", "c", "d"))
  expect_equal(wf_classifier_loss(net, x, f)$loss, out$loss)
  # a stack net: a convolution over 1 x 4 x 4 images, three classes
  conv <- wf_net(wf_layers(wf_conv2d(3, 3, padding = 1), wf_relu(), wf_flatten(),
                           wf_dense(3), input = c(1, 4, 4)), seed = 1)
  xi <- matrix(runif(5 * 16, -1, 1), 5)
  ci <- c(3, 1, 2, 3, 3)
  ri <- xent_reference(wf_forward(conv, xi), ci)
  oi <- wf_classifier_loss(conv, xi, ci)
  expect_equal(oi$loss, ri$loss, tolerance = 1e-6)
  expect_equal(oi$param_grad, wf_backward(conv, xi, ri$dy)$param_grad, tolerance = 1e-5)
})

test_that("a classifier step is one optimiser step on the loss, and training lowers it", {
  set.seed(4)
  net <- wf_net(wf_mlp(6), 2, 3, seed = 5)
  x <- matrix(rnorm(40), 20, 2)
  cls <- 1 + (x[, 1] > 0) + (x[, 2] > 0)
  p0 <- wf_params(net)
  g <- wf_classifier_loss(net, x, cls)
  step <- wf_classifier_step(net, x, cls, wf_sgd(0.1))
  expect_named(step, "loss")
  expect_equal(step$loss, g$loss, tolerance = 1e-7)
  expect_equal(wf_params(net), p0 - 0.1 * g$param_grad, tolerance = 1e-6)
  for (i in 1:100) wf_classifier_step(net, x, cls, wf_adam(0.02))
  expect_lt(wf_classifier_loss(net, x, cls)$loss, 0.5 * g$loss)
  # the optimiser state is the net's (saved, restored)
  expect_gt(net$opt$step, 100)
})

test_that("classifier arguments are checked", {
  net <- wf_net(wf_mlp(4), 2, 3, seed = 1)
  x <- matrix(rnorm(8), 4, 2)
  expect_arg_error(wf_classifier_loss(net, x, c(1, 2, 3)), "labels")
  expect_arg_error(wf_classifier_loss(net, x, c(1, 2, 3, 4)), "labels")
  expect_arg_error(wf_classifier_loss(net, x, c(0, 1, 2, 3)), "labels")
  expect_arg_error(wf_classifier_loss(net, x, c(1, 2, NA, 3)), "labels")
  expect_arg_error(wf_classifier_loss(net, x, c(1, 1.5, 2, 3)), "labels")
  expect_arg_error(wf_classifier_loss(net, x, "a"), "labels")
  expect_arg_error(wf_classifier_loss(net, x, factor(letters[1:4])), "labels")
  expect_arg_error(wf_classifier_loss(net, x, factor(c("a", NA, "b", "a"))), "labels")
  expect_arg_error(wf_classifier_loss(net, x[, 1, drop = FALSE], 1:4 %% 3 + 1), "x")
  expect_arg_error(wf_classifier_loss(net, x, 1:4 %% 3 + 1, train = NA), "train")
  expect_arg_error(wf_classifier_step(net, x, 1:4 %% 3 + 1, list()), "optimizer")
  expect_arg_error(wf_classifier_loss("net", x, 1:4), "net")
})
