# The WGAN critic loss, penalties and optimiser steps on a net.

penalty_codes <- c(none = 0L, gp = 1L, lp = 2L)

check_critic_args <- function(net, real, fake, t) {
  check_net(net)
  if (net$output_dim != 1L) {
    wf_abort(sprintf("A critic must have one output, not %d.", net$output_dim),
             class = "wgflow_error_arg", arg = "net")
  }
  if (net$spec$norm == "batch") {
    wf_abort("A critic cannot use BatchNorm (its penalty needs a double backward).",
             class = "wgflow_error_unsupported", arg = "net")
  }
  real <- check_data(real, "real", cols = net$input_dim)
  fake <- check_data(fake, "fake", cols = net$input_dim)
  if (nrow(fake) != nrow(real)) {
    arg_error("fake", sprintf("a matrix with %d rows (as `real`)", nrow(real)), fake)
  }
  if (!is.null(t)) {
    if (!is.numeric(t) || length(t) != nrow(real) || anyNA(t) || any(t < 0 | t > 1)) {
      arg_error("t", sprintf("NULL or %d numbers in [0, 1]", nrow(real)), t)
    }
    t <- as.double(t)
  }
  list(real = real, fake = fake, t = t)
}

#' The WGAN critic loss and its gradient
#'
#' `loss = -(mean phi(real) - mean phi(fake)) + P`, where the penalty `P` is
#' `lambda * mean((|grad phi(xh)| - 1)^2)` ("gp") or
#' `lambda * mean(max(0, |grad phi(xh)| - 1)^2)` ("lp") at the interpolates
#' `xh = t * real + (1 - t) * fake`, or 0 ("none"). `wf_critic_step()` takes
#' one optimiser step on it (for `penalty = "clip"`: no penalty, then every
#' parameter clamped to `[-clip, clip]`, the original WGAN).
#' `wf_penalty()` is the penalty alone at given points.
#'
#' @param net A critic [wf_net()] with one output.
#' @param real,fake Numeric matrices of data and generated samples (same
#'   shape).
#' @param penalty "lp", "gp" or "none" (and "clip" for `wf_critic_step()`).
#' @param lambda Penalty weight (>= 0).
#' @param t `NULL` (draw from the net's random stream) or the interpolation
#'   weights, one per row.
#' @return A list with `loss`, `w1` (the critic's W1 estimate
#'   `mean phi(real) - mean phi(fake)`), `penalty`, `grad_norm` (mean
#'   `|grad phi(xh)|`, NA without penalty) and, for `wf_critic_loss()`,
#'   `param_grad`.
#' @export
#' @examples
#' critic <- wf_net(wf_mlp(c(16, 16)), 2, 1, seed = 1)
#' real <- matrix(rnorm(64), 32, 2)
#' fake <- matrix(rnorm(64, 1), 32, 2)
#' wf_critic_loss(critic, real, fake, penalty = "lp")$loss
#' wf_critic_step(critic, real, fake, wf_adam(1e-3))
wf_critic_loss <- function(net, real, fake, penalty = "lp", lambda = 10, t = NULL) {
  a <- check_critic_args(net, real, fake, t)
  check_choice(penalty, names(penalty_codes), "penalty")
  lambda <- check_number(lambda, "lambda", min = 0)
  out <- .Call(ffi_critic_loss, net_ptr(net), a$real, a$fake, a$t,
               penalty_codes[[penalty]], lambda)
  net_sync(net) # the random stream moved if t was drawn
  out
}

#' @rdname wf_critic_loss
#' @param optimizer An optimiser from [wf_adam()], [wf_rmsprop()], [wf_sgd()].
#' @param clip The clipping value for `penalty = "clip"`.
#' @export
wf_critic_step <- function(net, real, fake, optimizer, penalty = "lp", lambda = 10,
                           t = NULL, clip = 0.01) {
  a <- check_critic_args(net, real, fake, t)
  check_optimizer(optimizer, "optimizer")
  check_choice(penalty, c(names(penalty_codes), "clip"), "penalty")
  lambda <- check_number(lambda, "lambda", min = 0)
  clip <- check_number(clip, "clip", min = 0, min_open = TRUE)
  code <- if (penalty == "clip") 0L else penalty_codes[[penalty]]
  out <- .Call(ffi_critic_step, net_ptr(net), a$real, a$fake, a$t, code, lambda,
               opt_for_c(optimizer), if (penalty == "clip") clip else 0)
  net_sync(net)
  out
}

#' @rdname wf_critic_loss
#' @param x Points at which to evaluate the penalty.
#' @export
wf_penalty <- function(net, x, penalty = "gp", lambda = 10) {
  check_net(net)
  if (net$output_dim != 1L) {
    wf_abort("A critic must have one output.", class = "wgflow_error_arg", arg = "net")
  }
  if (net$spec$norm == "batch") {
    wf_abort("A critic cannot use BatchNorm (its penalty needs a double backward).",
             class = "wgflow_error_unsupported", arg = "net")
  }
  x <- check_data(x, "x", cols = net$input_dim)
  check_choice(penalty, c("gp", "lp"), "penalty")
  lambda <- check_number(lambda, "lambda", min = 0)
  .Call(ffi_penalty, net_ptr(net), x, penalty_codes[[penalty]], lambda)
}

#' One optimiser step with a given gradient
#'
#' Applies `optimizer` to the net's parameters with gradient `grad` (for
#' example a `param_grad` from [wf_backward()] or [wf_critic_loss()]),
#' updating the net's optimiser state. `wf_clip()` clamps every parameter to
#' `[-value, value]`.
#'
#' @param net A [wf_net()].
#' @param grad A finite numeric vector, the length of `wf_params(net)`.
#' @param optimizer An optimiser from [wf_adam()], [wf_rmsprop()], [wf_sgd()].
#' @param value The clipping bound (> 0).
#' @return The net, invisibly.
#' @export
#' @examples
#' net <- wf_net(wf_mlp(4), 2, 1, seed = 1)
#' g <- wf_backward(net, matrix(1, 3, 2), matrix(1, 3, 1))$param_grad
#' wf_optim_step(net, g, wf_sgd(0.1))
#' wf_clip(net, 0.01)
wf_optim_step <- function(net, grad, optimizer) {
  check_net(net)
  n <- length(net$params)
  if (!is.numeric(grad) || length(grad) != n || anyNA(grad) || any(!is.finite(grad))) {
    arg_error("grad", sprintf("a finite numeric vector of length %d", n), grad)
  }
  check_optimizer(optimizer, "optimizer")
  .Call(ffi_opt_step, net_ptr(net), as.double(grad), opt_for_c(optimizer))
  net_sync(net)
  invisible(net)
}

#' @rdname wf_optim_step
#' @export
wf_clip <- function(net, value) {
  check_net(net)
  value <- check_number(value, "value", min = 0, min_open = TRUE)
  .Call(ffi_clip, net_ptr(net), value)
  net_sync(net)
  invisible(net)
}

#' Draws from a net's random stream
#'
#' Every net owns a Philox4x32-10 stream (keyed by its seed), used for its
#' initial weights and for the randomness of training. The same seed gives
#' the same stream on every device.
#'
#' @param net A [wf_net()].
#' @param n How many numbers.
#' @return A numeric vector: uniform on (0, 1) or standard normal.
#' @export
#' @examples
#' net <- wf_net(wf_mlp(4), 2, 1, seed = 1)
#' wf_rng_uniform(net, 3)
#' wf_rng_normal(net, 3)
wf_rng_uniform <- function(net, n) {
  check_net(net)
  out <- .Call(ffi_rng_draw, net_ptr(net), check_count(n, "n", min = 0L), 0L)
  net_sync(net)
  out
}

#' @rdname wf_rng_uniform
#' @export
wf_rng_normal <- function(net, n) {
  check_net(net)
  out <- .Call(ffi_rng_draw, net_ptr(net), check_count(n, "n", min = 0L), 1L)
  net_sync(net)
  out
}
