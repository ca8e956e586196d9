# Argument validation: every exported function refuses bad input with a
# classed error ("wgflow_error_arg" + "wgflow_error") whose `arg` field names
# the offending argument, and no input, however malformed, crashes R.

# ---- helpers ---------------------------------------------------------------

# args with args[[name]] set to `value` (NULL included).
with_arg <- function(args, name, value) {
  args[name] <- list(value)
  args
}

# Calls fn with each bad value of `arg` (all other arguments from `args`).
expect_bad_values <- function(fn, args, arg, values, fn_name,
                              class = "wgflow_error_arg") {
  for (i in seq_along(values)) {
    label <- names(values)[i]
    if (is.null(label) || !nzchar(label)) label <- paste0("#", i)
    expect_arg_error(do.call(fn, with_arg(args, arg, values[i][[1]])), arg,
                     class = class, info = sprintf("%s(%s = <%s>)", fn_name, arg, label))
  }
}

# Wrong types, for any argument.
bad_types <- list(character = "a", list = list(1), fun = function() 1, null = NULL)
# Non-finite numbers, for any numeric argument.
bad_nonfinite <- list(na = NA, na_real = NA_real_, nan = NaN, inf = Inf, ninf = -Inf)
# Everything a scalar number must refuse, whatever its range.
bad_number <- c(bad_types, bad_nonfinite, list(vector = c(1, 2), empty = numeric(0)))
# ... and a count (whole number >= 1).
bad_count <- c(bad_number, list(zero = 0, negative = -1, fraction = 2.5))
# Everything a choice argument must refuse.
bad_choice <- c(bad_types, list(unknown = "bogus", na = NA_character_,
                                number = 1, two = c("relu", "tanh")))
# Everything a flag must refuse.
bad_flag <- c(bad_types, list(na = NA, number = 1, string = "TRUE",
                              two = c(TRUE, FALSE)))
# Everything a net argument must refuse.
bad_net <- c(bad_types, list(spec = wgflow::wf_mlp(4), optimizer = wgflow::wf_adam(),
                             env = new.env(), number = 1))

# Bad data matrices in place of an n x d numeric matrix.
bad_data <- function(n, d) {
  m <- matrix(0.5, n, d)
  list(
    character = "a", list = list(1), fun = function() 1, null = NULL,
    vector = rep(1, n * d),
    na = replace(m, 1, NA), nan = replace(m, 2, NaN),
    inf = replace(m, n * d, Inf), ninf = replace(m, 1, -Inf),
    df_character = data.frame(a = rep("x", n), matrix(0, n, d - 1),
                              stringsAsFactors = FALSE),
    df_na = as.data.frame(replace(m, 1, NA)),
    character_matrix = matrix("1", n, d),
    logical_matrix = matrix(TRUE, n, d),
    list_matrix = matrix(as.list(seq_len(n * d)), n, d),
    wrong_cols = matrix(0.5, n, d + 1),
    too_few_cols = matrix(0.5, n, d - 1),
    zero_rows = matrix(0, 0, d)
  )
}

# ---- fixtures --------------------------------------------------------------

n_rows <- 6
d_in <- 2
critic <- wf_net(wf_mlp(c(8, 8), activation = "tanh"), d_in, 1, seed = 1)
multi <- wf_net(wf_mlp(c(8, 8), activation = "tanh"), d_in, 3, seed = 2)
bn_net <- wf_net(wf_mlp(c(8, 8), norm = "batch"), d_in, 1, seed = 3)
x0 <- matrix(seq(-1, 1, length.out = n_rows * d_in), n_rows, d_in)
real0 <- x0
fake0 <- x0[rev(seq_len(n_rows)), ] + 0.5
dy0 <- matrix(1, n_rows, 1)
t0 <- seq(0.1, 0.9, length.out = n_rows)

# ---- specifications --------------------------------------------------------

test_that("wf_mlp() refuses bad arguments", {
  base <- list()
  expect_bad_values(wf_mlp, base, "hidden", c(
    bad_types[c("character", "list", "fun", "null")],
    list(na = NA, na_in = c(4, NA), nan = NaN, inf = Inf, ninf = -Inf,
         zero = 0, negative = c(4, -2), fraction = c(4, 2.5),
         too_many = rep(4, 31), logical = TRUE)
  ), "wf_mlp")
  expect_bad_values(wf_mlp, base, "activation", bad_choice, "wf_mlp")
  expect_bad_values(wf_mlp, base, "output_activation", bad_choice, "wf_mlp")
  expect_bad_values(wf_mlp, base, "norm", c(bad_choice, list(bn = "batchnorm")), "wf_mlp")
  expect_bad_values(wf_mlp, base, "residual", bad_flag, "wf_mlp")
  expect_bad_values(wf_mlp, base, "init", c(bad_choice, list(xavier = "xavier")), "wf_mlp")
  expect_bad_values(wf_mlp, base, "init_sd", c(bad_number, list(negative = -0.1)), "wf_mlp")
  expect_bad_values(wf_mlp, base, "leaky_slope", bad_number, "wf_mlp")
})

test_that("wf_mlp() accepts its documented inputs", {
  expect_s3_class(wf_mlp(integer(0)), "wf_mlp_spec")
  expect_s3_class(wf_mlp(c(4L, 3L), activation = "leaky_relu", norm = "layer"),
                  "wf_mlp_spec")
  expect_s3_class(wf_mlp(4, init_sd = 0, init = "normal"), "wf_mlp_spec")
  expect_identical(wf_mlp(c(4, 5))$hidden, c(4L, 5L))
})

test_that("optimiser constructors refuse bad arguments", {
  bad_rate <- c(bad_number, list(negative = -1e-3))
  bad_beta <- c(bad_number, list(one = 1, above = 1.5, negative = -0.1))
  bad_eps <- c(bad_number, list(zero = 0, negative = -1e-8))
  bad_decay <- c(bad_number, list(negative = -0.1))

  expect_bad_values(wf_adam, list(), "lr", bad_rate, "wf_adam")
  expect_bad_values(wf_adam, list(), "beta1", bad_beta, "wf_adam")
  expect_bad_values(wf_adam, list(), "beta2", bad_beta, "wf_adam")
  expect_bad_values(wf_adam, list(), "eps", bad_eps, "wf_adam")
  expect_bad_values(wf_adam, list(), "weight_decay", bad_decay, "wf_adam")

  expect_bad_values(wf_rmsprop, list(), "lr", bad_rate, "wf_rmsprop")
  expect_bad_values(wf_rmsprop, list(), "alpha", bad_beta, "wf_rmsprop")
  expect_bad_values(wf_rmsprop, list(), "eps", bad_eps, "wf_rmsprop")
  expect_bad_values(wf_rmsprop, list(), "weight_decay", bad_decay, "wf_rmsprop")

  expect_bad_values(wf_sgd, list(), "lr", bad_rate, "wf_sgd")
  expect_bad_values(wf_sgd, list(), "momentum", c(bad_number, list(negative = -0.9)),
                    "wf_sgd")
  expect_bad_values(wf_sgd, list(), "weight_decay", bad_decay, "wf_sgd")

  # the boundaries that are allowed
  expect_s3_class(wf_adam(lr = 0, beta1 = 0, beta2 = 0, weight_decay = 0), "wf_optimizer")
  expect_s3_class(wf_rmsprop(alpha = 0), "wf_optimizer")
  expect_s3_class(wf_sgd(lr = 0, momentum = 0), "wf_optimizer")
})

# ---- nets ------------------------------------------------------------------

test_that("wf_net() refuses bad arguments", {
  base <- list(spec = wf_mlp(4), input_dim = 2, output_dim = 1, seed = 1)
  expect_bad_values(wf_net, base, "spec",
                    c(bad_types, list(plain_list = unclass(wf_mlp(4)),
                                      optimizer = wf_adam(), number = 4)), "wf_net")
  expect_bad_values(wf_net, base, "input_dim", bad_count, "wf_net")
  expect_bad_values(wf_net, base, "output_dim", bad_count, "wf_net")
  expect_bad_values(wf_net, base, "seed",
                    c(bad_types[c("character", "list", "fun")], bad_nonfinite,
                      list(negative = -1, fraction = 1.5, vector = c(1, 2),
                           too_big = 2^31)), "wf_net")
  expect_bad_values(wf_net, base, "device",
                    c(bad_types, list(unknown = "tpu", na = NA_character_, number = 1,
                                      two = c("cpu", "cpu"))), "wf_net")
})

test_that("a residual net needs input_dim == output_dim", {
  expect_arg_error(wf_net(wf_mlp(4, residual = TRUE), 2, 3, seed = 1), "output_dim")
  expect_arg_error(wf_net(wf_mlp(4, residual = TRUE), 3, 1, seed = 1), "output_dim")
  expect_s3_class(wf_net(wf_mlp(4, residual = TRUE), 3, 3, seed = 1), "wf_net")
})

test_that("functions of a net refuse a non-net", {
  one_arg <- list(wf_params = wf_params, wf_state = wf_state,
                  wf_param_layout = wf_param_layout)
  for (nm in names(one_arg)) {
    expect_bad_values(one_arg[[nm]], list(net = critic), "net", bad_net, nm)
  }
  expect_bad_values(`wf_params<-`, list(net = critic, value = wf_params(critic)),
                    "net", bad_net, "wf_params<-")
  expect_bad_values(wf_forward, list(net = critic, x = x0), "net", bad_net, "wf_forward")
  expect_bad_values(wf_input_grad, list(net = critic, x = x0), "net", bad_net,
                    "wf_input_grad")
  expect_bad_values(wf_backward, list(net = critic, x = x0, dy = dy0), "net", bad_net,
                    "wf_backward")
  expect_bad_values(wf_double_backward, list(net = critic, x = x0, u = x0), "net",
                    bad_net, "wf_double_backward")
  expect_bad_values(wf_critic_loss, list(net = critic, real = real0, fake = fake0),
                    "net", bad_net, "wf_critic_loss")
  expect_bad_values(wf_critic_step, list(net = critic, real = real0, fake = fake0,
                                         optimizer = wf_adam()),
                    "net", bad_net, "wf_critic_step")
  expect_bad_values(wf_penalty, list(net = critic, x = x0), "net", bad_net, "wf_penalty")
  expect_bad_values(wf_optim_step, list(net = critic, grad = wf_params(critic) * 0,
                                        optimizer = wf_sgd()),
                    "net", bad_net, "wf_optim_step")
  expect_bad_values(wf_clip, list(net = critic, value = 1), "net", bad_net, "wf_clip")
  expect_bad_values(wf_rng_uniform, list(net = critic, n = 2), "net", bad_net,
                    "wf_rng_uniform")
  expect_bad_values(wf_rng_normal, list(net = critic, n = 2), "net", bad_net,
                    "wf_rng_normal")
})

test_that("wf_params<- refuses bad values and leaves the net unchanged", {
  net <- wf_net(wf_mlp(4), 2, 1, seed = 5)
  p <- wf_params(net)
  expect_bad_values(`wf_params<-`, list(net = net, value = p), "value", c(
    bad_types,
    list(short = p[-1], long = c(p, 0), empty = numeric(0), scalar = 1,
         na = replace(p, 1, NA), nan = replace(p, 2, NaN), inf = replace(p, 3, Inf),
         ninf = replace(p, 4, -Inf), character_vector = as.character(p),
         logical = rep(TRUE, length(p)))
  ), "wf_params<-")
  expect_arg_error(wf_params(net) <- replace(p, 1, NA), "value")
  expect_arg_error(wf_params(net) <- p[1:3], "value")
  expect_identical(wf_params(net), p)
  # and a good value goes through (integers included)
  wf_params(net) <- rep(1L, length(p))
  expect_identical(wf_params(net), rep(1, length(p)))
})

# ---- passes ----------------------------------------------------------------

test_that("wf_forward() and wf_input_grad() refuse bad data and flags", {
  for (fn_name in c("wf_forward", "wf_input_grad")) {
    fn <- get(fn_name, envir = asNamespace("wgflow"))
    base <- list(net = critic, x = x0)
    expect_bad_values(fn, base, "x", bad_data(n_rows, d_in), fn_name)
    expect_bad_values(fn, base, "train", bad_flag, fn_name)
  }
})

test_that("the passes accept integer matrices and numeric data frames", {
  expect_equal(wf_forward(critic, as.data.frame(x0)), wf_forward(critic, x0))
  xi <- matrix(1:4, 2, 2)
  expect_equal(wf_forward(critic, xi), wf_forward(critic, xi + 0))
})

test_that("wf_backward() refuses bad data, mismatched rows and flags", {
  base <- list(net = multi, x = x0, dy = matrix(1, n_rows, 3))
  expect_bad_values(wf_backward, base, "x", bad_data(n_rows, d_in), "wf_backward")
  expect_bad_values(wf_backward, base, "dy", c(
    bad_data(n_rows, 3),
    list(more_rows = matrix(1, n_rows + 1, 3), fewer_rows = matrix(1, n_rows - 1, 3),
         one_col = matrix(1, n_rows, 1))
  ), "wf_backward")
  expect_bad_values(wf_backward, base, "train", bad_flag, "wf_backward")
})

test_that("wf_double_backward() refuses bad data and mismatched rows", {
  base <- list(net = critic, x = x0, u = x0)
  expect_bad_values(wf_double_backward, base, "x", bad_data(n_rows, d_in),
                    "wf_double_backward")
  expect_bad_values(wf_double_backward, base, "u", c(
    bad_data(n_rows, d_in),
    list(more_rows = matrix(1, n_rows + 1, d_in), fewer_rows = matrix(1, 1, d_in))
  ), "wf_double_backward")
})

test_that("wf_double_backward() refuses a BatchNorm net as unsupported", {
  cnd <- expect_error(wf_double_backward(bn_net, x0, x0),
                      class = "wgflow_error_unsupported")
  expect_s3_class(cnd, "wgflow_error")
})

# ---- critic ----------------------------------------------------------------

test_that("wf_critic_loss() refuses bad arguments", {
  base <- list(net = critic, real = real0, fake = fake0, penalty = "lp",
               lambda = 10, t = t0)
  expect_bad_values(wf_critic_loss, base, "real", bad_data(n_rows, d_in),
                    "wf_critic_loss")
  expect_bad_values(wf_critic_loss, base, "fake", c(
    bad_data(n_rows, d_in),
    list(more_rows = matrix(0, n_rows + 1, d_in), fewer_rows = matrix(0, 2, d_in))
  ), "wf_critic_loss")
  expect_bad_values(wf_critic_loss, base, "penalty",
                    c(bad_choice, list(clip = "clip", upper = "GP")), "wf_critic_loss")
  expect_bad_values(wf_critic_loss, base, "lambda",
                    c(bad_number, list(negative = -1)), "wf_critic_loss")
  expect_bad_values(wf_critic_loss, base, "t", c(
    bad_types[c("character", "list", "fun")],
    list(short = t0[-1], long = c(t0, 0.5), scalar = 0.5,
         above = replace(t0, 1, 1.5), below = replace(t0, 2, -0.1),
         na = replace(t0, 1, NA), nan = replace(t0, 1, NaN),
         inf = replace(t0, 1, Inf), ninf = replace(t0, 1, -Inf),
         logical = rep(TRUE, n_rows))
  ), "wf_critic_loss")
})

test_that("wf_critic_loss() refuses a multi-output net and a BatchNorm critic", {
  expect_arg_error(wf_critic_loss(multi, real0, fake0), "net")
  expect_arg_error(wf_critic_step(multi, real0, fake0, wf_adam()), "net")
  expect_arg_error(wf_penalty(multi, x0), "net")
  expect_arg_error(wf_critic_loss(bn_net, real0, fake0), "net",
                   class = "wgflow_error_unsupported")
  expect_arg_error(wf_critic_step(bn_net, real0, fake0, wf_adam()), "net",
                   class = "wgflow_error_unsupported")
  expect_error(wf_penalty(bn_net, x0), class = "wgflow_error_unsupported")
})

test_that("wf_critic_step() refuses bad arguments", {
  base <- list(net = critic, real = real0, fake = fake0, optimizer = wf_adam(0),
               penalty = "lp", lambda = 10, t = t0, clip = 0.01)
  p <- wf_params(critic)
  expect_bad_values(wf_critic_step, base, "real", bad_data(n_rows, d_in),
                    "wf_critic_step")
  expect_bad_values(wf_critic_step, base, "fake", c(
    bad_data(n_rows, d_in), list(more_rows = matrix(0, n_rows + 1, d_in))
  ), "wf_critic_step")
  expect_bad_values(wf_critic_step, base, "optimizer", c(
    bad_types, list(plain_list = unclass(wf_adam()), spec = wf_mlp(4), name = "adam")
  ), "wf_critic_step")
  expect_bad_values(wf_critic_step, base, "penalty",
                    c(bad_choice, list(upper = "LP")), "wf_critic_step")
  expect_bad_values(wf_critic_step, base, "lambda", c(bad_number, list(negative = -0.5)),
                    "wf_critic_step")
  expect_bad_values(wf_critic_step, base, "t", list(
    short = t0[-1], above = replace(t0, 1, 2), below = replace(t0, 1, -1),
    na = replace(t0, 1, NA), character = as.character(t0), fun = function() 1
  ), "wf_critic_step")
  expect_bad_values(wf_critic_step, base, "clip",
                    c(bad_number, list(zero = 0, negative = -0.01)), "wf_critic_step")
  # a refused step changes nothing
  expect_identical(wf_params(critic), p)
})

test_that("wf_penalty() refuses bad arguments", {
  base <- list(net = critic, x = x0, penalty = "gp", lambda = 10)
  expect_bad_values(wf_penalty, base, "x", bad_data(n_rows, d_in), "wf_penalty")
  expect_bad_values(wf_penalty, base, "penalty",
                    c(bad_choice, list(none = "none", clip = "clip")), "wf_penalty")
  expect_bad_values(wf_penalty, base, "lambda", c(bad_number, list(negative = -1)),
                    "wf_penalty")
})

test_that("penalty weights and points beyond single precision are refused", {
  # the engine computes in float32: 1e300 would become Inf (NaN gradients)
  expect_arg_error(wf_penalty(critic, x0, lambda = 1e300), "lambda")
  expect_arg_error(wf_penalty(critic, x0 * 1e300), "x")
  expect_arg_error(wf_critic_loss(critic, real0, fake0, lambda = 1e300), "lambda")
  expect_arg_error(wf_critic_loss(critic, real0 * 1e300, fake0), "real")
  expect_arg_error(wf_critic_step(critic, real0, fake0 * 1e300, wf_adam(0)), "fake")
  expect_arg_error(wf_critic_step(critic, real0, fake0, wf_adam(0), lambda = 1e39), "lambda")
  # the largest float32 is still a weight
  expect_true(is.finite(wf_penalty(critic, x0, lambda = 3e38)$value))
})

test_that("wf_optim_step() and wf_clip() refuse bad arguments", {
  g <- wf_params(critic) * 0
  base <- list(net = critic, grad = g, optimizer = wf_sgd(0))
  expect_bad_values(wf_optim_step, base, "grad", c(
    bad_types,
    list(short = g[-1], long = c(g, 0), na = replace(g, 1, NA), nan = replace(g, 1, NaN),
         inf = replace(g, 1, Inf), ninf = replace(g, 1, -Inf),
         character_vector = as.character(g))
  ), "wf_optim_step")
  expect_bad_values(wf_optim_step, base, "optimizer", c(
    bad_types, list(plain_list = unclass(wf_sgd()), name = "sgd")
  ), "wf_optim_step")
  expect_bad_values(wf_clip, list(net = critic, value = 1), "value",
                    c(bad_number, list(zero = 0, negative = -1)), "wf_clip")
})

# ---- random streams and threads --------------------------------------------

test_that("wf_rng_uniform() and wf_rng_normal() refuse a bad n", {
  bad_n <- c(bad_number, list(negative = -1, fraction = 2.5, too_big = 2^31))
  expect_bad_values(wf_rng_uniform, list(net = critic, n = 1), "n", bad_n,
                    "wf_rng_uniform")
  expect_bad_values(wf_rng_normal, list(net = critic, n = 1), "n", bad_n,
                    "wf_rng_normal")
  expect_identical(wf_rng_uniform(critic, 0), numeric(0))
})

test_that("wf_threads() refuses a bad n", {
  old <- wf_threads()
  on.exit(wf_threads(old), add = TRUE)
  expect_bad_values(wf_threads, list(), "n", c(
    bad_types[c("character", "list", "fun")], bad_nonfinite,
    list(zero = 0, negative = -2, fraction = 1.5, vector = c(1, 2), too_many = 1e6)
  ), "wf_threads")
  expect_arg_error(wf_threads(0), "n")
  expect_identical(wf_threads(), old)
})

# ---- no input crashes R ----------------------------------------------------

# The internal entry points, called directly with garbage, must raise an R
# error (of any class) and never crash the session.
test_that("the .Call entry points survive garbage", {
  ns <- asNamespace("wgflow")
  cl <- function(name, ...) .Call(get(name, envir = ns), ...)
  net <- wf_net(wf_mlp(c(4, 4), activation = "tanh"), 2, 1, seed = 11)
  ptr <- wgflow:::net_ptr(net)
  good_spec <- wgflow:::spec_for_c(wf_mlp(4), 2L, 1L)
  good_opt <- wgflow:::opt_for_c(wf_sgd(0.1))
  m <- matrix(0.5, 3, 2)

  # handles: NULL, numbers, a foreign external pointer, a dead one
  null_ptr <- new("externalptr")
  dead_ptr <- unserialize(serialize(ptr, NULL))
  for (h in list(NULL, 1, "net", list(), null_ptr, dead_ptr, net)) {
    expect_error(cl("ffi_forward", h, m, TRUE))
    expect_error(cl("ffi_input_grad", h, m, FALSE))
    expect_error(cl("ffi_backward", h, m, matrix(1, 3, 1), FALSE))
    expect_error(cl("ffi_double_backward", h, m, m))
    expect_error(cl("ffi_critic_loss", h, m, m, NULL, "gp", 1, "wgan", 0))
    expect_error(cl("ffi_critic_step", h, m, m, NULL, "gp", 1, good_opt, 0, "wgan", 0))
    expect_error(cl("ffi_penalty", h, m, 1L, 1))
    expect_error(cl("ffi_opt_step", h, wf_params(net), good_opt))
    expect_error(cl("ffi_clip", h, 0.1))
    expect_error(cl("ffi_rng_draw", h, 3L, 0L))
    expect_error(cl("ffi_net_set", h, 0L, wf_params(net)))
    expect_error(cl("ffi_net_set_opt", h, 0, net$opt$m1, net$opt$m2))
    expect_error(cl("ffi_net_set_rng", h, net$rng))
    expect_error(cl("ffi_net_copy_params", h, ptr))
    expect_error(cl("ffi_net_copy_params", ptr, h))
  }
  other <- wf_net(wf_mlp(3), 2, 1, seed = 1)
  expect_error(cl("ffi_net_copy_params", ptr, wgflow:::net_ptr(other)),
               class = "wgflow_error")
  expect_error(cl("ffi_forward", dead_ptr, m, TRUE), class = "wgflow_error_state")
  expect_error(cl("ffi_forward", null_ptr, m, TRUE), class = "wgflow_error_arg")
  expect_false(cl("ffi_net_alive", dead_ptr))
  expect_false(cl("ffi_net_alive", NULL))
  expect_null(cl("ffi_net_free", NULL))
  expect_null(cl("ffi_net_free", dead_ptr))

  # specs
  spec_with <- function(...) modifyList(good_spec, list(...))
  expect_error(cl("ffi_net_create", NULL, c(1, 2), "cpu"))
  expect_error(cl("ffi_net_create", list(1, 2), c(1, 2), "cpu"))
  expect_error(cl("ffi_net_create", list(widths = 2L), c(1, 2), "cpu"))
  expect_error(cl("ffi_net_create", spec_with(widths = c(2, 4, 1)), c(1, 2), "cpu"))
  expect_error(cl("ffi_net_create", spec_with(widths = c(2L, -1L, 1L)), c(1, 2), "cpu"))
  expect_error(cl("ffi_net_create", spec_with(widths = c(2L, 0L, 1L)), c(1, 2), "cpu"))
  expect_error(cl("ffi_net_create", spec_with(widths = c(2L, NA, 1L)), c(1, 2), "cpu"))
  expect_error(cl("ffi_net_create", spec_with(widths = 2L), c(1, 2), "cpu"))
  expect_error(cl("ffi_net_create", spec_with(widths = rep(2L, 200)), c(1, 2), "cpu"))
  expect_error(cl("ffi_net_create", spec_with(activation = "swish"), c(1, 2), "cpu"))
  expect_error(cl("ffi_net_create", spec_with(activation = NA_character_), c(1, 2), "cpu"))
  expect_error(cl("ffi_net_create", spec_with(norm = 1L), c(1, 2), "cpu"))
  expect_error(cl("ffi_net_create", spec_with(init = 0L), c(1, 2), "cpu"))
  expect_error(cl("ffi_net_create", spec_with(init_sd = -1), c(1, 2), "cpu"))
  expect_error(cl("ffi_net_create", spec_with(leaky_slope = NaN), c(1, 2), "cpu"))
  expect_error(cl("ffi_net_create", spec_with(residual = 1L), c(1, 2), "cpu"))
  expect_error(cl("ffi_net_create", good_spec, NULL, "cpu"))
  expect_error(cl("ffi_net_create", good_spec, c(-1, 2), "cpu"))
  expect_error(cl("ffi_net_create", good_spec, c(1.5, 2), "cpu"))
  expect_error(cl("ffi_net_create", good_spec, c(NA, 2), "cpu"))
  expect_error(cl("ffi_net_create", good_spec, 1, "cpu"))
  expect_error(cl("ffi_net_create", good_spec, c(1, 2), NULL))
  expect_error(cl("ffi_net_create", good_spec, c(1, 2), NA_character_))

  # data of the wrong shape or type, on a live handle
  for (x in list(NULL, 1, "a", matrix("a", 3, 2), matrix(1L, 3, 2), matrix(TRUE, 3, 2),
                 matrix(0, 3, 3), matrix(0, 0, 2), array(0, c(3, 2, 1)), list(m))) {
    expect_error(cl("ffi_forward", ptr, x, TRUE))
    expect_error(cl("ffi_input_grad", ptr, x, TRUE))
    expect_error(cl("ffi_backward", ptr, x, matrix(1, 3, 1), TRUE))
    expect_error(cl("ffi_backward", ptr, m, x, TRUE))
    expect_error(cl("ffi_double_backward", ptr, x, m))
    expect_error(cl("ffi_double_backward", ptr, m, x))
    expect_error(cl("ffi_critic_loss", ptr, x, m, NULL, "gp", 1, "wgan", 0))
    expect_error(cl("ffi_critic_loss", ptr, m, x, NULL, "gp", 1, "wgan", 0))
    expect_error(cl("ffi_penalty", ptr, x, "gp", 1))
  }
  expect_error(cl("ffi_backward", ptr, m, matrix(1, 4, 1), TRUE))
  expect_error(cl("ffi_double_backward", ptr, m, matrix(1, 2, 2)))
  expect_error(cl("ffi_critic_loss", ptr, m, matrix(1, 4, 2), NULL, "gp", 1, "wgan", 0))
  expect_error(cl("ffi_critic_loss", ptr, m, m, c(0.5, 0.5), "gp", 1, "wgan", 0))
  expect_error(cl("ffi_critic_loss", ptr, m, m, 1:3, "gp", 1, "wgan", 0))
  expect_error(cl("ffi_critic_loss", ptr, m, m, "a", "gp", 1, "wgan", 0))
  expect_error(cl("ffi_critic_loss", ptr, m, m, NULL, "l7", 1, "wgan", 0))
  expect_error(cl("ffi_critic_loss", ptr, m, m, NULL, "gp", NA_real_, "wgan", 0))
  # a choice given as a code, not a name
  expect_error(cl("ffi_critic_loss", ptr, m, m, NULL, 1L, 1, "wgan", 0))
  expect_error(cl("ffi_critic_step", ptr, m, m, NULL, "gp", 1, NULL, 0, "wgan", 0))
  expect_error(cl("ffi_critic_step", ptr, m, m, NULL, "gp", 1, list(1), 0, "wgan", 0))
  expect_error(cl("ffi_critic_step", ptr, m, m, NULL, "gp", 1, list(kind = "sgd"), 0, "wgan",
                  0))
  expect_error(cl("ffi_critic_step", ptr, m, m, NULL, "gp", 1,
                  modifyList(good_opt, list(kind = "lion")), 0, "wgan", 0))
  expect_error(cl("ffi_critic_step", ptr, m, m, NULL, "gp", 1,
                  modifyList(good_opt, list(lr = Inf)), 0, "wgan", 0))
  expect_error(cl("ffi_critic_step", ptr, m, m, NULL, "gp", 1, good_opt, "a", "wgan", 0))
  # critic-loss kinds: unknown, a GAN with a penalty, bad noise, bad perturbation
  expect_error(cl("ffi_critic_loss", ptr, m, m, NULL, "none", 1, "nosuch", 0), class = "wgflow_error_arg")
  expect_error(cl("ffi_critic_loss", ptr, m, m, NULL, "gp", 1, "gan", 0), class = "wgflow_error_arg")
  expect_error(cl("ffi_critic_loss", ptr, m, m, NULL, "none", 1, "dragan", NaN), class = "wgflow_error_arg")
  expect_error(cl("ffi_critic_loss", ptr, m, m, NULL, "none", 1, "dragan", -1), class = "wgflow_error_arg")
  expect_error(cl("ffi_critic_loss", ptr, m, m, c(0.1, 0.2, 0.3), "none", 1, "dragan", 0.5),
               class = "wgflow_error_arg")
  expect_error(cl("ffi_critic_step", ptr, m, m, NULL, "none", 1, good_opt, 0, 1L, 0))
  expect_true(is.list(cl("ffi_critic_loss", ptr, m, m, rep(0.5, 6), "none", 1, "dragan", 0.5)))
  expect_error(cl("ffi_penalty", ptr, m, "none", 1))
  expect_error(cl("ffi_penalty", ptr, m, "gp", Inf))

  # parameter blocks, optimiser state, random streams, threads
  p <- wf_params(net)
  expect_error(cl("ffi_net_set", ptr, 0L, p[-1]))
  expect_error(cl("ffi_net_set", ptr, 0L, as.integer(p)))
  expect_error(cl("ffi_net_set", ptr, 0L, replace(p, 1, NaN)))
  expect_error(cl("ffi_net_set", ptr, 0L, NULL))
  expect_error(cl("ffi_net_set", ptr, 1L, 1))
  expect_error(cl("ffi_net_set_opt", ptr, 0, 1, 1))
  expect_error(cl("ffi_net_set_opt", ptr, NA_real_, net$opt$m1, net$opt$m2))
  expect_error(cl("ffi_net_set_opt", ptr, 0, NULL, net$opt$m2))
  expect_error(cl("ffi_net_set_rng", ptr, c(1, 2)))
  expect_error(cl("ffi_net_set_rng", ptr, c(-1, 0, 0, 0)))
  expect_error(cl("ffi_net_set_rng", ptr, c(1, 2, 2^32, 0)))
  expect_error(cl("ffi_net_set_rng", ptr, 1:4))
  expect_error(cl("ffi_opt_step", ptr, p[-1], good_opt))
  expect_error(cl("ffi_opt_step", ptr, p, NULL))
  expect_error(cl("ffi_opt_step", ptr, p, list(1)))
  expect_error(cl("ffi_clip", ptr, "a"))
  expect_error(cl("ffi_clip", ptr, NULL))
  expect_error(cl("ffi_rng_draw", ptr, -1, 0L))
  expect_error(cl("ffi_rng_draw", ptr, 2^40, 0L))
  expect_error(cl("ffi_rng_draw", ptr, 3, 2L))
  expect_error(cl("ffi_rng_draw", ptr, NULL, 0L))
  expect_error(cl("ffi_threads", 0))
  expect_error(cl("ffi_threads", "a"))
  expect_error(cl("ffi_threads", NA_real_))
  expect_error(cl("ffi_device_info", NULL))
  expect_error(cl("ffi_device_info", 1))
  expect_error(cl("ffi_device_info", NA_character_))
  expect_error(cl("ffi_device_info", c("a", "b")))

  # calls the C layer accepts without checking must at least not crash
  res <- tryCatch(cl("ffi_critic_loss", ptr, m, m, c(NaN, Inf, -1), "gp", 1, "wgan", 0),
                  error = function(e) e)
  expect_true(is.list(res))
  res <- tryCatch(cl("ffi_forward", ptr, matrix(NaN, 3, 2), list()),
                  error = function(e) e)
  expect_true(is.list(res) || is.matrix(res))

  # after all that, the net still works and the R API still validates
  out <- wf_forward(net, m)
  expect_true(all(is.finite(out)))
  expect_arg_error(wf_forward(net, matrix(0, 3, 3)), "x")
})

test_that("a forged spec or net gives an R error, not a crash", {
  expect_error(wf_net(structure(list(), class = "wf_mlp_spec"), 2, 1, seed = 1))
  bad_spec <- wf_mlp(4)
  bad_spec$hidden <- -3L
  expect_error(wf_net(bad_spec, 2, 1, seed = 1), class = "wgflow_error")
  # a net whose handle was replaced is rebuilt from its R copy
  net <- wf_net(wf_mlp(4), 2, 1, seed = 1)
  y <- wf_forward(net, x0)
  net$ptr <- "garbage"
  expect_identical(wf_forward(net, x0), y)
  # a net whose R copy is corrupt is refused when the handle must be rebuilt
  net$ptr <- NULL
  net$params <- "garbage"
  expect_error(wf_forward(net, x0))
})

test_that("every family refuses a malformed spec of wgflow's class, naming the argument", {
  s <- structure(list(), class = "wf_mlp_spec")
  p <- wf_toy_pair("4gaussians", 60, seed = 1)
  x <- wf_toy("8gaussians", 60, seed = 1)
  expect_arg_error(w1fe(x, epochs = 1, critic = s), "critic")
  expect_arg_error(w2gan(p$target, source = p$source, epochs = 1, critic = s), "critic")
  expect_arg_error(barycentric_ot(p$target, p$source, epochs = 1, potential = s,
                                  batch_size = 8), "potential")
  expect_arg_error(rwp(x, epochs = 1, critic = s), "critic")
  expect_arg_error(rwp(x, epochs = 1, generator = s), "generator")
  expect_arg_error(sbe(x, epochs = 1, potential = s), "potential")
  expect_arg_error(ots_fit(x, epochs = 1, generator = s), "generator")
})

test_that("wf_semidiscrete() refuses a malformed net as its source, naming `x`", {
  y <- wf_toy("8gaussians", 100, seed = 1)
  expect_arg_error(wf_semidiscrete(structure(new.env(), class = "wf_net"), y), "x")
  expect_arg_error(wf_semidiscrete(structure(list(), class = "wf_net"), y), "x")
  # a generator of the wrong width
  expect_arg_error(wf_semidiscrete(wf_net(wf_mlp(4), 2, 3, seed = 1), y), "x")
})
