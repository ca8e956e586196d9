# The critic losses (WGAN, standard GAN, DRAGAN), penalties and optimiser
# steps on a net.

check_critic_args <- function(net, real, fake, t, loss = "wgan") {
  check_net(net)
  if (net$output_dim != 1L) {
    wf_abort(sprintf("A critic must have one output, not %d.", net$output_dim),
             class = "wgflow_error_arg", arg = "net")
  }
  if (uses_batch_norm(net$spec)) {
    wf_abort("A critic cannot use BatchNorm (its penalty needs a double backward).",
             class = "wgflow_error_unsupported", arg = "net")
  }
  real <- check_float_range(check_data(real, "real", cols = net$input_dim), "real")
  fake <- check_float_range(check_data(fake, "fake", cols = net$input_dim), "fake")
  if (nrow(fake) != nrow(real)) {
    arg_error("fake", sprintf("a matrix with %d rows (as `real`)", nrow(real)), fake)
  }
  if (!is.null(t)) {
    if (loss == "dragan") {
      # DRAGAN's noise u: one row per sample, row-major for the C side
      ok <- is.numeric(t) && is.matrix(t) && identical(dim(t), dim(real)) &&
        !anyNA(t) && all(t >= 0 & t <= 1)
      if (!ok) arg_error("t", sprintf("NULL or a %d x %d matrix of numbers in [0, 1]",
                                      nrow(real), ncol(real)), t)
      t <- as.double(base::t(t))
    } else {
      if (!is.numeric(t) || length(t) != nrow(real) || anyNA(t) || any(t < 0 | t > 1)) {
        arg_error("t", sprintf("NULL or %d numbers in [0, 1]", nrow(real)), t)
      }
      t <- as.double(t)
    }
  }
  list(real = real, fake = fake, t = t)
}

# The penalty of a critic loss as C takes it: WGAN's from `penalty` ("clip"
# is no penalty, a clamp); the GAN and DRAGAN losses take none of WGAN's
# (DRAGAN's is its own), so an explicit `penalty` other than "none" with
# them is an error.
critic_penalty <- function(loss, penalty, penalty_given) {
  if (loss == "wgan") return(if (penalty == "clip") "none" else penalty)
  if (penalty_given && penalty != "none") {
    wf_abort(sprintf("`penalty` must be \"none\" with `loss = \"%s\"`%s.", loss,
                     if (loss == "dragan") " (DRAGAN's penalty is part of its loss)" else ""),
             class = "wgflow_error_arg", arg = "penalty")
  }
  "none"
}

# DRAGAN's noise scale: half the standard deviation of the data batch over
# all its entries, as Kodali et al. perturb their data.
dragan_perturb <- function(real) {
  s <- if (length(real) > 1L) stats::sd(as.vector(real)) else 0
  0.5 * s
}

#' Critic losses and their gradients
#'
#' The critic (discriminator) losses of the adversarial algorithms, on a
#' critic `phi` with one output:
#'
#' * `loss = "wgan"`: `-(mean phi(real) - mean phi(fake)) + P`, where the
#'   penalty `P` is `lambda * mean((|grad phi(xh)| - 1)^2)` ("gp") or
#'   `lambda * mean(max(0, |grad phi(xh)| - 1)^2)` ("lp") at the
#'   interpolates `xh = t * real + (1 - t) * fake`, or 0 ("none").
#' * `loss = "gan"`: the standard GAN with `D = sigmoid(phi)`:
#'   `-mean log D(real) - mean log(1 - D(fake))` (binary cross-entropy on
#'   the logits `phi`); its generator minimises `-mean log D(G z)` (the
#'   non-saturating loss).
#' * `loss = "dragan"`: the GAN loss plus
#'   `lambda * mean((|grad phi(xp)| - 1)^2)` at perturbed data points
#'   `xp = real + 0.5 sd(real) u`, `u ~ U(0, 1)` elementwise, `sd` over all
#'   entries of the batch (Kodali et al.'s DRAGAN).
#'
#' `wf_critic_step()` takes one optimiser step on the loss (for
#' `penalty = "clip"`: WGAN without penalty, then every parameter clamped to
#' `[-clip, clip]`, the original WGAN). `wf_penalty()` is the WGAN penalty
#' alone at given points.
#'
#' Nets are updated in place, as torch modules are: after
#' `wf_critic_step(critic, ...)` the object `critic` (and every other name
#' for it) holds the new parameters. Fits, in contrast, are values:
#' [wf_continue()] trains a copy.
#'
#' @param net A critic [wf_net()] with one output.
#' @param real,fake Numeric matrices of data and generated samples (same
#'   shape).
#' @param penalty For `loss = "wgan"`: "lp", "gp" or "none" (and "clip" for
#'   `wf_critic_step()`). The other losses take none (leave it unset).
#' @param lambda Penalty weight (>= 0), WGAN's or DRAGAN's.
#' @param t `NULL` (draw from the net's random stream) or the randomness of
#'   the penalty: for "wgan" the interpolation weights, one per row; for
#'   "dragan" the noise `u`, a matrix of the shape of `real`.
#' @param loss The critic loss: "wgan", "gan" or "dragan".
#' @return A list with `loss`, `w1` (the WGAN critic's W1 estimate
#'   `mean phi(real) - mean phi(fake)`, NA for the other losses),
#'   `penalty`, `grad_norm` (mean `|grad phi|` at the penalty's points, NA
#'   without penalty) and, for `wf_critic_loss()`, `param_grad`.
#' @references Goodfellow et al. (2014), Generative adversarial nets.
#'   Gulrajani et al. (2017), Improved training of Wasserstein GANs. Kodali
#'   et al. (2017), On convergence and stability of GANs (DRAGAN).
#' @export
#' @examples
#' critic <- wf_net(wf_mlp(c(16, 16)), 2, 1, seed = 1)
#' real <- matrix(rnorm(64), 32, 2)
#' fake <- matrix(rnorm(64, 1), 32, 2)
#' wf_critic_loss(critic, real, fake, penalty = "lp")$loss
#' wf_critic_loss(critic, real, fake, loss = "dragan")$loss
#' wf_critic_step(critic, real, fake, wf_adam(1e-3))
wf_critic_loss <- function(net, real, fake, penalty = "lp", lambda = 10, t = NULL,
                           loss = "wgan") {
  check_choice(loss, wf_choices("critic_loss"), "loss")
  a <- check_critic_args(net, real, fake, t, loss)
  check_choice(penalty, wf_choices("penalty"), "penalty")
  pen <- critic_penalty(loss, penalty, !missing(penalty))
  lambda <- check_number(lambda, "lambda", min = 0, max = float_max)
  perturb <- if (loss == "dragan") dragan_perturb(a$real) else 0
  out <- .Call(ffi_critic_loss, net_ptr(net), a$real, a$fake, a$t, pen, lambda, loss,
               perturb)
  net_sync(net) # the random stream moved if t was drawn
  out
}

#' @rdname wf_critic_loss
#' @param optimizer An optimiser from [wf_adam()], [wf_rmsprop()], [wf_sgd()].
#' @param clip The clipping value for `penalty = "clip"`.
#' @export
wf_critic_step <- function(net, real, fake, optimizer, penalty = "lp", lambda = 10,
                           t = NULL, clip = 0.01, loss = "wgan") {
  check_choice(loss, wf_choices("critic_loss"), "loss")
  a <- check_critic_args(net, real, fake, t, loss)
  check_optimizer(optimizer, "optimizer")
  check_choice(penalty, c(wf_choices("penalty"), "clip"), "penalty")
  pen <- critic_penalty(loss, penalty, !missing(penalty))
  lambda <- check_number(lambda, "lambda", min = 0, max = float_max)
  clip <- check_number(clip, "clip", min = 0, min_open = TRUE)
  perturb <- if (loss == "dragan") dragan_perturb(a$real) else 0
  out <- .Call(ffi_critic_step, net_ptr(net), a$real, a$fake, a$t, pen, lambda,
               opt_for_c(optimizer), if (loss == "wgan" && penalty == "clip") clip else 0,
               loss, perturb)
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
  if (uses_batch_norm(net$spec)) {
    wf_abort("A critic cannot use BatchNorm (its penalty needs a double backward).",
             class = "wgflow_error_unsupported", arg = "net")
  }
  x <- check_float_range(check_data(x, "x", cols = net$input_dim), "x")
  check_choice(penalty, c("gp", "lp"), "penalty")
  lambda <- check_number(lambda, "lambda", min = 0, max = float_max)
  .Call(ffi_penalty, net_ptr(net), x, penalty, lambda)
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
  if (!is.numeric(grad) || length(grad) != n || !all_finite(grad)) {
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
