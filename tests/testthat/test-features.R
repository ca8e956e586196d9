# The feature network (R/features.R): the shipped weights load without the
# data set, decode to the trained net's layout, give the recorded accuracy
# on test images when the data set is there; features are the penultimate
# activations; classed errors.

fashion_images <- Sys.getenv("WGFLOW_FASHION_MNIST", "/usr/share/datasets/fashion-mnist")
lenet_file <- system.file("extdata", "lenet-fashion.rds", package = "wgflow")

test_that("the shipped weights load without the data set", {
  expect_true(nzchar(lenet_file))
  expect_lt(file.size(lenet_file), 1024^2)
  # nothing is read from the data set's folder
  old <- Sys.getenv("WGFLOW_FASHION_MNIST", NA)
  Sys.setenv(WGFLOW_FASHION_MNIST = file.path(tempdir(), "no-such-folder"))
  on.exit(if (is.na(old)) Sys.unsetenv("WGFLOW_FASHION_MNIST") else
    Sys.setenv(WGFLOW_FASHION_MNIST = old))
  net <- wf_lenet()
  expect_s3_class(net, "wf_net")
  expect_identical(c(net$input_dim, net$output_dim), c(784L, 10L))
  expect_length(wf_params(net), 210890L)
  w <- readRDS(lenet_file)
  expect_identical(w$format, "wgflow-classifier-1")
  expect_length(w$classes, 10L)
  # the record of how it was made
  rec <- w$record
  expect_gte(rec$test_accuracy, 0.88)
  expect_identical(as.integer(rec$test_n), 10000L)
  expect_identical(as.integer(rec$train_n), 60000L)
  expect_true(is.character(rec$commit) && is.character(rec$command))
  expect_gt(rec$feature_scale, 0)
  # 16-bit integers times one scale per tensor, in wf_param_layout()'s order
  layout <- wf_param_layout(net)
  expect_identical(w$tensors$name, layout$name)
  q <- readBin(w$q, "integer", n = 210890L, size = 2L, signed = TRUE, endian = "little")
  # (held in float32 by the engine)
  expect_equal(wf_params(net), q * rep(w$tensors$scale, w$tensors$length), tolerance = 1e-6)
  expect_lte(max(abs(q)), 32767)
  # a new net each time: stepping one leaves the next and the features alone
  x <- matrix(runif(4 * 784, -1, 1), 4)
  f0 <- wf_features(x)
  wf_classifier_step(net, x, 1:4, wf_sgd(1))
  expect_identical(wf_params(wf_lenet()), wf_params(wf_lenet()))
  expect_false(identical(wf_params(net), wf_params(wf_lenet())))
  expect_identical(wf_features(x), f0)
})

test_that("features are the penultimate activations, in chunks or not", {
  set.seed(5)
  x <- matrix(runif(300 * 784, -1, 1), 300)
  f <- wf_features(x)
  expect_identical(dim(f), c(300L, 128L))
  expect_true(all(f >= 0)) # after a ReLU
  # by hand: the stack without its last layer, the leading parameters
  net <- wf_lenet()
  spec <- net$spec
  spec$layers <- spec$layers[-length(spec$layers)]
  head <- wf_net(spec, seed = 1)
  wf_params(head) <- wf_params(net)[seq_along(wf_params(head))]
  expect_equal(f, wf_forward(head, x), tolerance = 1e-6)
  # the last dense layer on the features gives the logits
  p <- wf_params(net)
  n <- length(p)
  w_last <- matrix(p[(n - 1289):(n - 10)], 10, 128, byrow = TRUE)
  logits <- f %*% t(w_last) + matrix(p[(n - 9):n], 300, 10, byrow = TRUE)
  expect_equal(logits, wf_forward(net, x), tolerance = 1e-5)
  # a 4-d array and an image_shape attribute are the same images
  arr <- array(0, c(3, 1, 28, 28))
  for (i in 1:3) arr[i, 1, , ] <- matrix(x[i, ], 28, 28, byrow = TRUE)
  # (float rounding of the engine's products depends on the batch size)
  expect_equal(wf_features(arr), f[1:3, ], tolerance = 1e-5)
  xs <- x[1:3, ]
  attr(xs, "image_shape") <- c(1L, 28L, 28L)
  expect_equal(wf_features(xs), f[1:3, ], tolerance = 1e-5)
  # another classifier's features
  small <- wf_net(wf_layers(wf_flatten(), wf_dense(5), wf_relu(), wf_dense(2),
                            input = c(1, 28, 28)), seed = 3)
  expect_identical(dim(wf_features(x[1:2, ], net = small)), c(2L, 5L))
})

test_that("the shipped classifier reaches its accuracy on test images", {
  skip_if_not(dir.exists(fashion_images), "no dataset-fashion-mnist")
  test <- wf_images("fashion-mnist", "test", n = 2000)
  pred <- max.col(wf_forward(wf_lenet(), test$x), ties.method = "first")
  expect_gte(mean(pred == as.integer(test$labels)), 0.87)
  # features at unit scale (mean square 1 over the training images)
  f <- wf_features(test$x)
  expect_gt(mean(f^2), 0.7)
  expect_lt(mean(f^2), 1.3)
  expect_identical(readRDS(lenet_file)$classes, levels(test$labels))
})

test_that("feature arguments are checked", {
  expect_arg_error(wf_features(matrix(0, 2, 100)), "x")
  x16 <- matrix(0, 2, 784)
  attr(x16, "image_shape") <- c(4L, 14L, 14L)
  expect_arg_error(wf_features(x16), "x")
  expect_arg_error(wf_features(matrix(NA_real_, 2, 784)), "x")
  x <- matrix(0, 2, 784)
  expect_arg_error(wf_features(x, net = wf_net(wf_mlp(4), 784, 3, seed = 1)), "net")
  expect_arg_error(wf_features(x, net = wf_net(wf_layers(wf_dense(3)), 784, seed = 1)), "net")
  expect_arg_error(wf_features(x, net = "lenet"), "net")
  expect_arg_error(wf_lenet(path = 3), "path")
  expect_arg_error(wf_lenet(path = file.path(tempdir(), "none.rds")), "path")
  junk <- tempfile(fileext = ".rds")
  saveRDS(list(format = "other"), junk)
  expect_arg_error(wf_lenet(path = junk), "path")
  w <- readRDS(lenet_file)
  w$q <- w$q[-1]
  saveRDS(w, junk)
  expect_arg_error(wf_lenet(path = junk), "path")
  writeLines("not an rds", junk)
  expect_arg_error(wf_lenet(path = junk), "path")
})
