# Nets as stacks of layers: the constructors and their validation, the
# DCGAN nets (shapes and parameter counts against PyTorch's by formula),
# printing, building and running stack nets (passes against a naive R
# reference in PyTorch's layouts), image data, and every family training a
# DCGAN pair on Fashion-MNIST.

# ---- helpers -----------------------------------------------------------------

# Each value of `values` in place of argument `arg` of fn(args) is a classed
# error naming `arg`.
expect_all_refused <- function(fn, args, arg, values) {
  for (i in seq_along(values)) {
    a <- args
    a[arg] <- list(values[[i]])
    expect_arg_error(do.call(fn, a), arg,
                     info = sprintf("%s = <%s>", arg, names(values)[i] %||% i))
  }
}

`%||%` <- function(a, b) if (is.null(a)) b else a

describe_value <- function(x) paste(class(x), collapse = "/")

not_number <- list(character = "a", list = list(1), null = NULL, na = NA, inf = Inf,
                   vector = c(1, 2), empty = numeric(0))
not_count <- c(not_number, list(zero = 0, negative = -1, fraction = 2.5))
not_flag <- list(na = NA, number = 1, string = "TRUE", two = c(TRUE, FALSE), null = NULL)
not_shape <- list(character = "a", null = NULL, two = c(1, 28), four = c(1, 1, 28, 28),
                  zero = c(0, 28, 28), fraction = c(1, 2.5, 3), na = c(1, NA, 3))

# The PyTorch parameter count of the DCGAN nets of wf_dcgan_generator() and
# wf_dcgan_critic() for square images c(C, S, S), by hand: Linear
# (in * out + out), ConvTranspose2d / Conv2d (in * out * 4 * 4 + out),
# BatchNorm2d (2 per channel), LayerNorm (2 per value).
dcgan_steps <- function(side) {
  n <- 0
  while (side %% 2 == 0 && side > 7) {
    side <- side / 2
    n <- n + 1
  }
  c(n_up = n, base = side)
}

generator_params <- function(latent, channels, side, width) {
  g <- dcgan_steps(side)
  top <- width * 2^(g[["n_up"]] - 1)
  units <- top * g[["base"]]^2
  p <- latent * units + units + 2 * top
  ch <- top
  for (i in seq_len(g[["n_up"]] - 1)) {
    p <- p + ch * (ch / 2) * 16 + ch / 2 + 2 * (ch / 2)
    ch <- ch / 2
  }
  p + ch * channels * 16 + channels
}

critic_params <- function(channels, side, width, layer_norm = FALSE) {
  g <- dcgan_steps(side)
  p <- channels * width * 16 + width
  ch <- width
  s <- side / 2
  for (i in seq_len(g[["n_up"]] - 1)) {
    p <- p + ch * 2 * ch * 16 + 2 * ch
    ch <- 2 * ch
    s <- s / 2
    if (layer_norm) p <- p + 2 * ch * s^2
  }
  p + ch * s^2 + 1
}

# Naive references in PyTorch's layouts: a row holds c x h x w values
# (column fastest); weights [out][in][k][k] (conv2d), [in][out][k][k]
# (conv_transpose2d), flattened by rows.
ref_conv2d <- function(row, shape, weight, bias, out_c, k, stride, pad) {
  C <- shape[1]; H <- shape[2]; W <- shape[3]
  img <- array(row, c(W, H, C))
  Ho <- (H + 2 * pad - k) %/% stride + 1
  Wo <- (W + 2 * pad - k) %/% stride + 1
  out <- array(0, c(Wo, Ho, out_c))
  for (o in 0:(out_c - 1)) for (oh in 0:(Ho - 1)) for (ow in 0:(Wo - 1)) {
    s <- bias[o + 1]
    for (i in 0:(C - 1)) for (a in 0:(k - 1)) for (b in 0:(k - 1)) {
      ih <- oh * stride - pad + a
      iw <- ow * stride - pad + b
      if (ih >= 0 && ih < H && iw >= 0 && iw < W) {
        s <- s + weight[((o * C + i) * k + a) * k + b + 1] * img[iw + 1, ih + 1, i + 1]
      }
    }
    out[ow + 1, oh + 1, o + 1] <- s
  }
  as.vector(out)
}

ref_conv_t2d <- function(row, shape, weight, bias, out_c, k, stride, pad, out_pad) {
  C <- shape[1]; H <- shape[2]; W <- shape[3]
  img <- array(row, c(W, H, C))
  Ho <- (H - 1) * stride - 2 * pad + k + out_pad
  Wo <- (W - 1) * stride - 2 * pad + k + out_pad
  out <- array(rep(bias, each = Wo * Ho), c(Wo, Ho, out_c))
  for (i in 0:(C - 1)) for (ih in 0:(H - 1)) for (iw in 0:(W - 1)) {
    for (o in 0:(out_c - 1)) for (a in 0:(k - 1)) for (b in 0:(k - 1)) {
      oh <- ih * stride - pad + a
      ow <- iw * stride - pad + b
      if (oh >= 0 && oh < Ho && ow >= 0 && ow < Wo) {
        out[ow + 1, oh + 1, o + 1] <- out[ow + 1, oh + 1, o + 1] +
          weight[((i * out_c + o) * k + a) * k + b + 1] * img[iw + 1, ih + 1, i + 1]
      }
    }
  }
  as.vector(out)
}

param_block <- function(net, name) {
  lay <- wf_param_layout(net)
  i <- match(name, lay$name)
  wf_params(net)[lay$offset[i] + seq_len(lay$length[i])]
}

fashion_dir <- "/usr/share/datasets/fashion-mnist"

# ---- constructors ------------------------------------------------------------

test_that("layer constructors keep their arguments, as whole numbers", {
  l <- wf_conv2d(64, 4, stride = 2, padding = 1)
  expect_s3_class(l, "wf_layer")
  expect_identical(l$kind, "conv2d")
  expect_identical(l[c("channels", "kernel", "stride", "padding")],
                   list(channels = 64L, kernel = 4L, stride = 2L, padding = 1L))
  expect_true(l$bias)
  t <- wf_conv_transpose2d(3, 3, stride = 2, output_padding = 1, bias = FALSE)
  expect_identical(t$output_padding, 1L)
  expect_false(t$bias)
  expect_identical(wf_dense(10)$units, 10L)
  expect_identical(wf_reshape(c(16, 7, 7))$shape, c(16L, 7L, 7L))
  expect_identical(wf_reshape(12)$shape, c(12L, 1L, 1L))
  expect_identical(wf_leaky_relu(0.1)$slope, 0.1)
  expect_identical(wf_relu(), wf_activation("relu"))
  expect_identical(wf_activation("relu", slope = 0.5), wf_relu()) # slope is leaky_relu's
  expect_identical(wf_tanh()$name, "tanh")
  expect_identical(wf_sigmoid()$name, "sigmoid")
  for (other in list(wf_batch_norm(), wf_layer_norm(), wf_flatten())) {
    expect_s3_class(other, "wf_layer")
  }
  expect_output(print(l), "<wf_layer> conv2d\\(64, kernel 4, stride 2, padding 1\\)")
  expect_output(print(wf_leaky_relu()), "leaky_relu\\(0.2\\)")
})

test_that("layer constructors refuse bad arguments, naming them", {
  expect_all_refused(wf_dense, list(units = 4), "units", c(not_count, list(huge = 2^21)))
  expect_all_refused(wf_dense, list(units = 4), "bias", not_flag)
  conv <- list(channels = 4, kernel = 3)
  for (fn in list(wf_conv2d, wf_conv_transpose2d)) {
    expect_all_refused(fn, conv, "channels", not_count)
    expect_all_refused(fn, conv, "kernel", not_count)
    expect_all_refused(fn, conv, "stride", not_count)
    expect_all_refused(fn, conv, "padding", c(not_number, list(negative = -1, fraction = 0.5)))
    expect_all_refused(fn, conv, "bias", not_flag)
  }
  expect_all_refused(wf_conv_transpose2d, c(conv, stride = 2), "output_padding",
                     c(not_number, list(negative = -1, as_large_as_stride = 2)))
  expect_all_refused(wf_activation, list(name = "relu"), "name",
                     list(unknown = "swish", null = NULL, number = 1, na = NA_character_,
                          two = c("relu", "tanh")))
  expect_all_refused(wf_activation, list(name = "leaky_relu"), "slope", not_number)
  expect_all_refused(wf_leaky_relu, list(), "slope", not_number)
  expect_all_refused(wf_reshape, list(shape = c(1, 2, 2)), "shape", not_shape)
})

test_that("wf_layers() builds a stack and refuses bad arguments", {
  s <- wf_layers(wf_dense(8), wf_relu(), list(wf_dense(4), NULL), wf_dense(1),
                 input = 3)
  expect_s3_class(s, "wf_layers_spec")
  expect_length(s$layers, 4)
  expect_identical(s$input, c(3L, 1L, 1L))
  expect_identical(s$init, "torch")
  expect_length(wf_layers(s, wf_tanh())$layers, 5) # a stack's layers are spliced
  expect_null(wf_layers(wf_dense(1))$input)
  for (bad in list(3, "relu", wf_mlp(4), function() 1, list(wf_relu(), 2))) {
    expect_arg_error(wf_layers(wf_dense(1), bad), "...", info = describe_value(bad))
  }
  expect_arg_error(wf_layers(), "...")
  expect_arg_error(wf_layers(NULL), "...")
  expect_arg_error(wf_layers(rep(list(wf_relu()), 33)), "...")
  forged <- wf_dense(4)
  forged$units <- -1
  expect_arg_error(wf_layers(forged), "...")
  expect_all_refused(wf_layers, list(wf_dense(1)), "input",
                     not_shape[names(not_shape) != "null"])
  expect_all_refused(wf_layers, list(wf_dense(1)), "init",
                     list(unknown = "xavier", null = NULL, number = 1))
  expect_all_refused(wf_layers, list(wf_dense(1)), "init_sd",
                     c(not_number, list(negative = -0.1)))
})

test_that("the DCGAN constructors refuse bad arguments, naming them", {
  expect_all_refused(wf_dcgan_generator, list(), "latent_dim", not_count)
  for (fn in list(wf_dcgan_generator, wf_dcgan_critic)) {
    expect_all_refused(fn, list(), "image",
                       c(not_shape, list(flat = 784, not_square = c(1, 28, 32),
                                         odd = c(1, 27, 27), small = c(1, 7, 7),
                                         six = c(3, 6, 6))))
    expect_all_refused(fn, list(), "width", c(not_count, list(too_wide = 2^15)))
  }
  expect_all_refused(wf_dcgan_generator, list(), "output",
                     list(relu = "relu", null = NULL, number = 1))
  expect_all_refused(wf_dcgan_critic, list(), "norm",
                     list(batch = "batch", null = NULL, number = 1))
})

# ---- printing and counts -------------------------------------------------------

test_that("the 28 x 28 DCGAN generator prints its shapes and PyTorch's counts", {
  g <- wf_dcgan_generator()
  expect_identical(g$input, c(100L, 1L, 1L))
  expect_identical(g$init, "normal")
  expect_identical(g$init_sd, 0.02)
  out <- utils::capture.output(print(g))
  expect_match(out[1], "9 layers, input 100, init normal \\(sd 0.02\\)")
  rows <- out[3:11]
  shapes <- c("6272", "128x7x7", "128x7x7", "128x7x7", "64x14x14", "64x14x14",
              "64x14x14", "1x28x28", "1x28x28")
  for (i in seq_along(shapes)) {
    expect_match(rows[i], paste0("\\s", shapes[i], "\\s"), info = rows[i])
  }
  expect_match(rows[1], "dense\\(6272\\).*633,472$")
  expect_match(rows[5], "conv_transpose2d\\(64, kernel 4, stride 2, padding 1\\).*131,136$")
  expect_match(rows[9], "tanh")
  total <- generator_params(100, 1, 28, 64)
  expect_identical(total, 766017)
  expect_match(out[12], sprintf("total: %s parameters \\(and 384 BatchNorm",
                                format(total, big.mark = ",")))
})

test_that("the DCGAN critics print their shapes and PyTorch's counts", {
  out <- utils::capture.output(print(wf_dcgan_critic()))
  shapes <- c("64x14x14", "64x14x14", "128x7x7", "128x7x7", "6272", "1")
  for (i in seq_along(shapes)) {
    expect_match(out[2 + i], paste0("\\s", shapes[i], "\\s"), info = out[2 + i])
  }
  expect_match(out[length(out)], sprintf(
    "total: %s parameters$", format(critic_params(1, 28, 64), big.mark = ",")))
  ln <- utils::capture.output(print(wf_dcgan_critic(norm = "layer")))
  expect_match(ln[6], "layer_norm\\s+128x7x7\\s+12,544$")
  expect_match(ln[length(ln)], format(critic_params(1, 28, 64, TRUE), big.mark = ","))
})

test_that("DCGAN nets of other sizes have PyTorch's parameter counts and shapes", {
  cases <- list(list(c(1, 28, 28), 8), list(c(3, 32, 32), 16), list(c(3, 64, 64), 8),
                list(c(1, 16, 16), 4), list(c(2, 14, 14), 8))
  for (case in cases) {
    image <- case[[1]]
    width <- case[[2]]
    info <- paste(paste(image, collapse = "x"), "width", width)
    gen <- wf_net(wf_dcgan_generator(latent_dim = 20, image = image, width = width), seed = 1)
    expect_identical(gen$input_dim, 20L)
    expect_identical(gen$output_dim, as.integer(prod(image)), info = info)
    expect_length(wf_params(gen), generator_params(20, image[1], image[2], width))
    for (norm in c("none", "layer")) {
      crit <- wf_net(wf_dcgan_critic(image = image, width = width, norm = norm), seed = 1)
      expect_identical(crit$input_dim, as.integer(prod(image)), info = info)
      expect_identical(crit$output_dim, 1L)
      expect_length(wf_params(crit),
                    critic_params(image[1], image[2], width, norm == "layer"))
    }
  }
  # the generator's last shape is the image
  out <- utils::capture.output(print(wf_dcgan_generator(image = c(3, 64, 64), width = 8)))
  expect_match(out[length(out) - 1L], "3x64x64")
  expect_match(utils::capture.output(print(gen)), "20 -> .* -> 2x14x14, 6 layers")
})

test_that("a stack without an input shape prints its layers and a note", {
  out <- utils::capture.output(print(wf_layers(wf_dense(64), wf_relu(), wf_dense(1))))
  expect_match(out[1], "3 layers, input from the data, init torch")
  expect_match(out[2], "dense\\(64\\)")
  expect_match(out[length(out)], "appear once the input shape is known")
  utils::capture.output(vis <- withVisible(print(wf_dcgan_critic(width = 4))))
  expect_false(vis$visible)
})

test_that("a stack that does not fit its input is an error naming the layer", {
  bad <- wf_layers(wf_conv2d(8, 5), wf_relu(), input = c(1, 3, 3))
  expect_silent(cnd <- expect_arg_error(print(bad), "x"))
  expect_match(conditionMessage(cnd), "layer 1 \\(conv2d\\)")
  cnd <- expect_arg_error(wf_net(bad, seed = 1), "spec")
  expect_match(conditionMessage(cnd), "layer 1 \\(conv2d\\)")
  reshape <- wf_layers(wf_dense(10), wf_reshape(c(3, 2, 2)), input = 4)
  cnd <- expect_arg_error(wf_net(reshape, seed = 1), "spec")
  expect_match(conditionMessage(cnd), "layer 2 \\(reshape\\)")
  # sizes that differ from the net's
  cnd <- expect_arg_error(wf_net(wf_dcgan_critic(width = 4), 100, seed = 1), "spec")
  expect_match(conditionMessage(cnd), "784")
  expect_arg_error(wf_net(wf_dcgan_critic(width = 4), output_dim = 2, seed = 1), "spec")
  expect_arg_error(wf_net(wf_layers(wf_dense(3)), 2, 4, seed = 1), "spec")
  expect_arg_error(wf_net(wf_layers(wf_dense(3)), seed = 1), "input_dim")
})

# ---- nets ----------------------------------------------------------------------

test_that("wf_net() builds a stack net; wf_param_layout() names and tiles it", {
  spec <- wf_layers(wf_conv2d(4, 3, stride = 2, padding = 1), wf_batch_norm(), wf_relu(),
                    wf_conv_transpose2d(2, 4, stride = 2, padding = 1, bias = FALSE),
                    wf_layer_norm(), wf_flatten(), wf_dense(3), input = c(2, 6, 6))
  net <- wf_net(spec, seed = 1)
  expect_identical(c(net$input_dim, net$output_dim), c(72L, 3L))
  lay <- wf_param_layout(net)
  expect_identical(lay$name, c("conv1.weight", "conv1.bias", "bn1.weight", "bn1.bias",
                               "convt1.weight", "ln1.weight", "ln1.bias",
                               "linear1.weight", "linear1.bias"))
  expect_identical(lay$shape, c("4 x 2 x 3 x 3", "4", "4", "4", "4 x 2 x 4 x 4",
                                "6 x 6 x 2", "6 x 6 x 2", "3 x 72", "3"))
  expect_identical(lay$layer, c(1L, 1L, 2L, 2L, 4L, 5L, 5L, 7L, 7L))
  expect_equal(sum(lay$length), length(wf_params(net)))
  expect_equal(lay$offset, cumsum(c(0, utils::head(lay$length, -1))))
  expect_equal(lay$length, lay$rows * lay$cols)
  expect_length(wf_state(net), 8) # BatchNorm's running mean and variance
  expect_equal(wf_state(net), c(rep(0, 4), rep(1, 4)))
  expect_output(print(net), "2x6x6 -> 4x3x3 -> 2x6x6 -> 72 -> 3, 7 layers")
  # the same seed, the same net; normal init: weights N(0, sd), biases 0
  expect_identical(wf_params(wf_net(spec, seed = 1)), wf_params(net))
  big <- wf_net(wf_layers(wf_conv2d(64, 4), input = c(32, 8, 8), init = "normal",
                          init_sd = 0.05), seed = 2)
  w <- param_block(big, "conv1.weight")
  expect_equal(stats::sd(w), 0.05, tolerance = 0.05)
  expect_true(all(param_block(big, "conv1.bias") == 0))
})

test_that("conv2d and conv_transpose2d match a naive reference in PyTorch's layout", {
  set.seed(1)
  spec <- wf_layers(wf_conv2d(3, 3, stride = 2, padding = 1), input = c(2, 5, 5))
  net <- wf_net(spec, seed = 3)
  x <- matrix(stats::rnorm(2 * 50), 2, 50)
  y <- wf_forward(net, x)
  expect_identical(dim(y), c(2L, 27L))
  w <- param_block(net, "conv1.weight")
  b <- param_block(net, "conv1.bias")
  for (r in 1:2) {
    expect_equal(y[r, ], ref_conv2d(x[r, ], c(2, 5, 5), w, b, 3, 3, 2, 1), tolerance = 1e-5)
  }
  spec <- wf_layers(wf_conv_transpose2d(2, 4, stride = 2, padding = 1, output_padding = 1),
                    input = c(3, 3, 3))
  net <- wf_net(spec, seed = 4)
  x <- matrix(stats::rnorm(2 * 27), 2, 27)
  y <- wf_forward(net, x)
  expect_identical(dim(y), c(2L, 2L * 7L * 7L))
  w <- param_block(net, "convt1.weight")
  b <- param_block(net, "convt1.bias")
  for (r in 1:2) {
    expect_equal(y[r, ], ref_conv_t2d(x[r, ], c(3, 3, 3), w, b, 2, 4, 2, 1, 1),
                 tolerance = 1e-5)
  }
})

test_that("LayerNorm's scale is stored channels-last (h, w, c)", {
  net <- wf_net(wf_layers(wf_layer_norm(), input = c(2, 2, 3)), seed = 1)
  gamma <- seq(0.5, 6, by = 0.5) # 12 values, in (h, w, c) order
  wf_params(net) <- c(gamma, numeric(12))
  x <- matrix(stats::rnorm(24), 2, 12)
  y <- wf_forward(net, x)
  # value (c, h, w) of a row sits at (c * 2 + h) * 3 + w; its gamma at (h * 3 + w) * 2 + c
  idx <- expand.grid(w = 0:2, h = 0:1, c = 0:1)
  g <- gamma[(idx$h * 3 + idx$w) * 2 + idx$c + 1]
  for (r in 1:2) {
    z <- (x[r, ] - mean(x[r, ])) / sqrt(mean((x[r, ] - mean(x[r, ]))^2) + 1e-5)
    expect_equal(y[r, ], g * z, tolerance = 1e-4)
  }
})

test_that("stack passes: shapes, image arrays, gradients by finite differences", {
  set.seed(2)
  spec <- wf_layers(wf_conv2d(3, 3, padding = 1), wf_tanh(), wf_conv2d(2, 2, stride = 2),
                    wf_leaky_relu(0.1), wf_flatten(), wf_dense(2), input = c(1, 4, 4))
  net <- wf_net(spec, seed = 5)
  x <- matrix(stats::rnorm(3 * 16), 3, 16)
  y <- wf_forward(net, x)
  expect_identical(dim(y), c(3L, 2L))
  # a 4-d array [n, C, H, W] is the same images
  arr <- array(0, c(3, 1, 4, 4))
  for (i in 1:3) arr[i, 1, , ] <- matrix(x[i, ], 4, 4, byrow = TRUE)
  expect_identical(wf_forward(net, arr), y)
  dy <- matrix(stats::rnorm(6), 3, 2)
  g <- wf_backward(net, x, dy)
  expect_length(g$param_grad, length(wf_params(net)))
  expect_identical(dim(g$input_grad), dim(x))
  p <- wf_params(net)
  objective <- function(q) {
    wf_params(net) <- q
    sum(dy * wf_forward(net, x))
  }
  h <- 1e-2
  for (i in unique(c(1, length(p), which.max(abs(g$param_grad))))) {
    e <- replace(numeric(length(p)), i, h)
    fd <- (objective(p + e) - objective(p - e)) / (2 * h)
    expect_lt(abs(fd - g$param_grad[i]), 2e-3 * max(1, abs(g$param_grad[i])))
  }
  wf_params(net) <- p
  # the critic's input gradient and double backward run on a stack
  critic <- wf_net(wf_dcgan_critic(image = c(1, 16, 16), width = 4, norm = "layer"), seed = 6)
  xs <- matrix(stats::runif(2 * 256, -1, 1), 2, 256)
  ig <- wf_input_grad(critic, xs)
  expect_identical(dim(ig), dim(xs))
  xe <- xs
  xe[1, 37] <- xe[1, 37] + h
  xm <- xs
  xm[1, 37] <- xm[1, 37] - h
  fd <- (sum(wf_forward(critic, xe)) - sum(wf_forward(critic, xm))) / (2 * h)
  expect_lt(abs(fd - ig[1, 37]), 1e-3 * max(1, abs(ig[1, 37])))
  db <- wf_double_backward(critic, xs, matrix(1, 2, 256))
  expect_true(is.finite(db$value))
  # a BatchNorm stack has no double backward, so no penalty
  bn <- wf_net(wf_layers(wf_dense(4), wf_batch_norm(), wf_dense(1)), 3, seed = 1)
  expect_error(wf_double_backward(bn, matrix(0, 2, 3), matrix(1, 2, 3)),
               class = "wgflow_error_unsupported")
  expect_error(wf_critic_loss(bn, matrix(0, 2, 3), matrix(1, 2, 3)),
               class = "wgflow_error_unsupported")
})

test_that("a stack net survives saveRDS() and a BatchNorm step moves its state", {
  net <- wf_net(wf_dcgan_generator(latent_dim = 8, image = c(1, 16, 16), width = 4), seed = 7)
  # per BatchNorm layer: running means, then running variances
  start <- c(rep(0, 8), rep(1, 8), rep(0, 4), rep(1, 4))
  expect_identical(wf_state(net), start)
  z <- matrix(stats::rnorm(5 * 8), 5, 8)
  wf_forward(net, z, train = TRUE)
  expect_false(identical(wf_state(net), start))
  back <- saved_and_read(net)
  expect_identical(wf_params(back), wf_params(net))
  expect_identical(wf_state(back), wf_state(net))
  expect_identical(wf_forward(back, z), wf_forward(net, z))
})

# ---- image data and fits ---------------------------------------------------------

test_that("image data: 4-d arrays become rows in PyTorch order, shapes are checked", {
  arr <- array(seq_len(2 * 2 * 2 * 3), c(2, 2, 2, 3)) # [n, C, H, W]
  m <- wgflow:::check_data(arr, "data")
  expect_identical(dim(m), c(2L, 12L))
  expect_identical(attr(m, "image_shape"), c(2L, 2L, 3L))
  # row 1: channel 1 row 1 (3 columns), channel 1 row 2, channel 2 ...
  expect_identical(m[1, ], as.double(c(arr[1, 1, 1, ], arr[1, 1, 2, ], arr[1, 2, 1, ],
                                       arr[1, 2, 2, ])))
  bad <- matrix(0, 3, 10)
  attr(bad, "image_shape") <- c(1, 3, 3)
  expect_arg_error(wgflow:::check_data(bad, "data"), "data")
  skip_if_not(dir.exists(fashion_dir), "no dataset-fashion-mnist")
  img <- wf_images("fashion-mnist", "test", n = 4)
  expect_identical(attr(img$x, "image_shape"), c(1L, 28L, 28L))
  small <- wf_images("fashion-mnist", "test", size = 14, n = 2)
  expect_identical(attr(small$x, "image_shape"), c(1L, 14L, 14L))
})

test_that("fits take stacks: input from the data, latent_dim from the generator", {
  quiet_small({
    skip_if_not(dir.exists(fashion_dir), "no dataset-fashion-mnist")
    x <- wf_images("fashion-mnist", "train", size = 14, n = 64)$x
    critic <- wf_layers(wf_conv2d(4, 4, stride = 2, padding = 1), wf_leaky_relu(),
                        wf_flatten(), wf_dense(1)) # no input: the images'
    gen <- wf_dcgan_generator(latent_dim = 12, image = c(1, 14, 14), width = 4)
    fit <- w1fe(x, epochs = 1, critic = critic, generator = gen, batch_size = 8,
                critic_steps = 1, eval_n = 10, seed = 1, device = "cpu", verbose = FALSE)
    expect_identical(fit$settings$latent_dim, 12L)
    expect_identical(fit$critic$spec$input, c(1L, 14L, 14L))
    expect_identical(fit$image_shape, c(1L, 14L, 14L))
    out <- paste(utils::capture.output(print(fit)), collapse = "\n")
    expect_match(out, "critic: +1x14x14 -> 4x7x7 -> 196 -> 1, 4 layers")
    expect_match(out, "generator: +12 -> .*1x14x14")
    s <- summary(fit)$settings
    expect_match(s$value[s$setting == "generator"], "conv_transpose2d 1 k4 s2 p1 > tanh")
    samples <- wf_sample(fit, 3, seed = 1)
    expect_identical(attr(samples, "image_shape"), c(1L, 14L, 14L))
    # a conflicting latent_dim, a batch-norm critic, a critic that does not fit
    expect_arg_error(w1fe(x, epochs = 1, critic = critic, generator = gen, latent_dim = 5,
                          batch_size = 8, verbose = FALSE), "latent_dim")
    expect_arg_error(w1fe(x, epochs = 1, critic = wf_layers(critic, wf_batch_norm()),
                          generator = gen, verbose = FALSE), "critic")
    cnd <- expect_arg_error(w1fe(wf_toy("8gaussians", n = 100, seed = 1), epochs = 1,
                                 critic = critic, batch_size = 8, verbose = FALSE), "critic")
    expect_match(conditionMessage(cnd), "layer 1 \\(conv2d\\)")
    expect_arg_error(w1fe(x, epochs = 1, critic = wf_mlp(8),
                          generator = wf_dcgan_generator(image = c(1, 28, 28), width = 4),
                          batch_size = 8, verbose = FALSE), "generator")
    expect_arg_error(rwp(x, epochs = 1, generator = gen, latent_dim = 13, verbose = FALSE),
                     "latent_dim")
    expect_arg_error(ots_fit(x, epochs = 1, generator = gen, latent_dim = 13, verbose = FALSE),
                     "latent_dim")
    expect_arg_error(sbe(x, epochs = 1, generator = gen, latent_dim = 13, verbose = FALSE),
                     "latent_dim")
    expect_arg_error(w2gan(x, epochs = 1, critic = wf_layers(critic, wf_batch_norm()),
                           generator = gen, verbose = FALSE), "critic")
    expect_arg_error(sbe(x, epochs = 1, critic = critic, generator = gen,
                         potential = wf_layers(wf_dense(4), wf_batch_norm(), wf_dense(1)),
                         verbose = FALSE), "potential")
  })
})

test_that("every family trains a DCGAN pair on Fashion-MNIST", {
  quiet_small({
    skip_if_not(dir.exists(fashion_dir), "no dataset-fashion-mnist")
    x <- wf_images("fashion-mnist", "train", n = 256)$x
    gen <- wf_dcgan_generator(image = c(1, 28, 28), width = 8)
    critic <- wf_dcgan_critic(image = c(1, 28, 28), width = 8)
    critic_ln <- wf_dcgan_critic(image = c(1, 28, 28), width = 8, norm = "layer")
    common <- list(x, epochs = 2, batch_size = 8, eval_n = 16, seed = 1, device = "cpu",
                   verbose = FALSE)
    fits <- list(
      w1fe = do.call(w1fe, c(common, list(critic = critic, generator = gen, persistency = 2,
                                          critic_steps = 2, eval_every = 1))),
      wgan = do.call(wgan, c(common, list(critic = critic_ln, generator = gen,
                                          critic_steps = 2, eval_every = 1))),
      w2gan = do.call(w2gan, c(common, list(critic = critic_ln, generator = gen,
                                            critic_steps = 1, eval_every = 1))),
      ots = do.call(ots_fit, c(common, list(generator = gen, ots_max_steps = 20,
                                            ots_check_every = 10, ots_window = 20,
                                            ots_bins = 16))),
      rwp = do.call(rwp, c(common, list(critic = critic, generator = gen, critic_steps = 1,
                                        generator_steps = 2, eval_every = 1))),
      sbe = do.call(sbe, c(common, list(critic = critic, generator = gen,
                                        potential = wf_layers(wf_conv2d(4, 4, 2, 1), wf_tanh(),
                                                              wf_flatten(), wf_dense(1)),
                                        critic_steps = 1, potential_steps = 1,
                                        eval_every = 1)))
    )
    for (nm in names(fits)) {
      fit <- fits[[nm]]
      m <- fit$metrics
      expect_identical(fit$status, "completed", info = nm)
      expect_identical(nrow(m), 2L, info = nm)
      expect_identical(fit$settings$latent_dim, 100L, info = nm)
      for (col in setdiff(names(m), c("epoch", "seconds"))) {
        v <- m[[col]]
        expect_true(all(is.finite(v[!is.na(v)])), info = paste(nm, col))
      }
      expect_true(is.finite(utils::tail(m$w1, 1)), info = nm)
      expect_identical(dim(wf_sample(fit, 4, seed = 1)), c(4L, 784L), info = nm)
    }
  })
})
