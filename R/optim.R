# Optimiser specifications, with torch.optim's arithmetic (weight decay is
# an L2 term added to the gradient).

new_optimizer <- function(kind, lr, beta1 = 0, beta2 = 0, eps = 1e-8,
                          momentum = 0, weight_decay = 0) {
  structure(list(kind = kind, lr = lr, beta1 = beta1, beta2 = beta2, eps = eps,
                 momentum = momentum, weight_decay = weight_decay),
            class = "wf_optimizer")
}

#' Optimiser specifications
#'
#' `wf_adam()`, `wf_rmsprop()` and `wf_sgd()` describe an optimiser; each
#' network of a model keeps its own optimiser state (moments, step count).
#' The updates follow `torch.optim` exactly (Adam with bias correction, L2
#' `weight_decay` added to the gradient; RMSprop without centring or
#' momentum; SGD with optional heavy-ball momentum).
#'
#' @param lr Learning rate (>= 0).
#' @param beta1,beta2 Adam's moment decay rates, in \[0, 1).
#' @param alpha RMSprop's decay of the squared-gradient average, in \[0, 1).
#' @param eps Added to the denominator (> 0).
#' @param momentum SGD momentum (>= 0).
#' @param weight_decay L2 penalty coefficient (>= 0).
#' @return An object of class `wf_optimizer`.
#' @export
#' @examples
#' wf_adam(lr = 1e-4)
#' wf_rmsprop(lr = 5e-5)
#' wf_sgd(lr = 0.01, momentum = 0.9)
wf_adam <- function(lr = 1e-4, beta1 = 0.9, beta2 = 0.999, eps = 1e-8,
                    weight_decay = 0) {
  new_optimizer("adam", check_number(lr, "lr", min = 0),
                beta1 = check_beta(beta1, "beta1"), beta2 = check_beta(beta2, "beta2"),
                eps = check_number(eps, "eps", min = 0, min_open = TRUE),
                weight_decay = check_number(weight_decay, "weight_decay", min = 0))
}

#' @rdname wf_adam
#' @export
wf_rmsprop <- function(lr = 5e-5, alpha = 0.99, eps = 1e-8, weight_decay = 0) {
  new_optimizer("rmsprop", check_number(lr, "lr", min = 0),
                beta2 = check_beta(alpha, "alpha"),
                eps = check_number(eps, "eps", min = 0, min_open = TRUE),
                weight_decay = check_number(weight_decay, "weight_decay", min = 0))
}

#' @rdname wf_adam
#' @export
wf_sgd <- function(lr = 1e-3, momentum = 0, weight_decay = 0) {
  new_optimizer("sgd", check_number(lr, "lr", min = 0),
                momentum = check_number(momentum, "momentum", min = 0),
                weight_decay = check_number(weight_decay, "weight_decay", min = 0))
}

check_beta <- function(x, arg) {
  check_number(x, arg, min = 0, max = 1)
  if (x >= 1) arg_error(arg, "a number in [0, 1)", x)
  as.double(x)
}

# An optimiser whose fields are what its constructor would have made
# (a forged or edited one is refused before it reaches C).
check_optimizer <- function(x, arg) {
  must <- "an optimiser from wf_adam(), wf_rmsprop() or wf_sgd()"
  if (!inherits(x, "wf_optimizer") || !is.list(x)) arg_error(arg, must, x)
  if (identical(x, validated$optimizer)) return(x) # the one last accepted
  fields <- c("kind", "lr", "beta1", "beta2", "eps", "momentum", "weight_decay")
  num <- function(v) is.numeric(v) && length(v) == 1L && !is.na(v) && is.finite(v)
  ok <- all(fields %in% names(x)) && is.character(x$kind) && length(x$kind) == 1L &&
    !is.na(x$kind) && x$kind %in% wf_choices("optimizer") &&
    all(vapply(x[fields[-1L]], num, logical(1))) && x$lr >= 0 &&
    x$beta1 >= 0 && x$beta1 < 1 && x$beta2 >= 0 && x$beta2 < 1 && x$eps > 0 &&
    x$momentum >= 0 && x$weight_decay >= 0
  if (!ok) {
    wf_abort(sprintf("`%s` is not a valid optimiser: make it with wf_adam(), wf_rmsprop() or wf_sgd().",
                     arg), class = "wgflow_error_arg", arg = arg)
  }
  validated$optimizer <- x
  x
}

#' @export
print.wf_optimizer <- function(x, ...) {
  check_optimizer(x, "x")
  extra <- switch(x$kind,
    adam = sprintf("betas (%g, %g)", x$beta1, x$beta2),
    rmsprop = sprintf("alpha %g", x$beta2),
    sgd = sprintf("momentum %g", x$momentum))
  cat(sprintf("<wf_optimizer> %s, lr %g, %s, weight decay %g\n", x$kind, x$lr,
              extra, x$weight_decay))
  invisible(x)
}

opt_for_c <- function(opt) {
  opt[c("kind", "lr", "beta1", "beta2", "eps", "momentum", "weight_decay")]
}
