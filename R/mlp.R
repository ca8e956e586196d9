# Network specifications.


#' A multilayer perceptron specification
#'
#' Describes a network without building it: hidden widths, activation,
#' normalisation and initialisation. Input and output widths are filled in
#' when a model is built for data ([wf_net()] takes them explicitly).
#' Hidden layers are Linear, then the norm (if any), then the activation; the
#' last layer is Linear then `output_activation`. With `residual = TRUE` the
#' network is `G(z) = z + H(z)` (input and output widths must agree).
#'
#' @param hidden Integer vector of hidden-layer widths (may be empty).
#' @param activation Hidden activation: one of "relu", "leaky_relu", "tanh",
#'   "softplus", "elu", "sigmoid", "identity".
#' @param output_activation Activation of the last layer: "identity" or any
#'   of the above (e.g. "tanh" for images in \[-1, 1\]).
#' @param norm "none", "batch" (BatchNorm, for generators) or "layer"
#'   (LayerNorm). Critics that need gradient penalties cannot use "batch".
#' @param residual Logical: `G(z) = z + H(z)`.
#' @param init "torch" (PyTorch's default: weights and biases uniform on
#'   `(-1/sqrt(fan_in), 1/sqrt(fan_in))`) or "normal" (weights
#'   `N(0, init_sd^2)`, biases 0). Defaults to "normal" with `init_sd = 0.01`
#'   for residual networks, so they start near the identity map.
#' @param init_sd Standard deviation for `init = "normal"`.
#' @param gamma_init The norm's initial scale `gamma`: "one" (PyTorch's
#'   default) or "normal" (`N(0, init_sd^2)`, needs `init = "normal"`). With
#'   a residual net, "normal" makes every layer of `H` start small, so
#'   `G(z) = z + H(z)` starts at the identity even through BatchNorm (the
#'   W2GAN generator's start; see [w2gan()]). The norm's `beta` starts at 0.
#' @param leaky_slope Negative slope of "leaky_relu".
#' @return An object of class `wf_mlp_spec`.
#' @export
#' @examples
#' wf_mlp(hidden = c(128, 128, 128))
#' wf_mlp(c(64, 64), activation = "tanh", norm = "layer")
wf_mlp <- function(hidden = c(128, 128, 128), activation = "relu",
                   output_activation = "identity", norm = "none",
                   residual = FALSE, init = if (residual) "normal" else "torch",
                   init_sd = if (residual) 0.01 else 0.02, gamma_init = "one",
                   leaky_slope = 0.2) {
  if (!is.numeric(hidden) || !all(is.finite(hidden)) || any(hidden != round(hidden)) ||
      any(hidden < 1) || any(hidden > 2^20) || length(hidden) > 30) {
    arg_error("hidden", "a vector of at most 30 whole numbers in [1, 2^20]", hidden)
  }
  check_choice(activation, wf_choices("activation"), "activation")
  check_choice(output_activation, wf_choices("activation"), "output_activation")
  check_choice(norm, wf_choices("norm"), "norm")
  check_flag(residual, "residual")
  check_choice(init, wf_choices("init"), "init")
  check_number(init_sd, "init_sd", min = 0)
  check_choice(gamma_init, c("one", "normal"), "gamma_init")
  if (gamma_init == "normal" && init != "normal") {
    wf_abort("`gamma_init = \"normal\"` needs `init = \"normal\"` (it uses `init_sd`).",
             class = "wgflow_error_arg", arg = "gamma_init")
  }
  check_number(leaky_slope, "leaky_slope")
  structure(
    list(hidden = as.integer(hidden), activation = activation,
         output_activation = output_activation, norm = norm,
         residual = residual, init = init, init_sd = as.double(init_sd),
         gamma_init = gamma_init,
         leaky_slope = as.double(leaky_slope)),
    class = "wf_mlp_spec"
  )
}

#' @export
print.wf_mlp_spec <- function(x, ...) {
  check_spec(x, "x")
  widths <- paste(c("in", x$hidden, "out"), collapse = " -> ")
  cat("<wf_mlp_spec> ", widths, "\n", sep = "")
  cat("  activation: ", x$activation, ", output: ", x$output_activation,
      ", norm: ", x$norm, if (x$residual) ", residual" else "", "\n", sep = "")
  cat("  init: ", x$init, if (x$init == "normal") paste0(" (sd ", x$init_sd, ")"),
      if (identical(x$gamma_init, "normal") && x$norm != "none") ", norm gamma normal",
      "\n", sep = "")
  invisible(x)
}

# The list the C side reads for an MLP (src/ffi-net.c: spec_from_list).
mlp_for_c <- function(spec, input_dim, output_dim) {
  list(widths = as.integer(c(input_dim, spec$hidden, output_dim)),
       activation = spec$activation, output_activation = spec$output_activation,
       leaky_slope = spec$leaky_slope, norm = spec$norm,
       residual = as.integer(spec$residual), init = spec$init,
       init_sd = spec$init_sd,
       gamma_normal = as.integer(identical(spec$gamma_init, "normal")))
}
