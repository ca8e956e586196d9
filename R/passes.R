# The engine's passes on R matrices.

#' Forward, backward and double backward passes of a net
#'
#' * `wf_forward()`: the outputs `f(x)`, one row per row of `x`.
#' * `wf_input_grad()`: `d/dx sum(f(x))`, the gradient a critic's Euler step
#'   and gradient penalties use.
#' * `wf_backward()`: the parameter and input gradients of `sum(dy * f(x))`.
#' * `wf_double_backward()`: with `g = wf_input_grad(net, x)` and
#'   `S = sum(u * g)`, the value `S` and its gradients with respect to the
#'   parameters (`param_grad`), `x` (`input_grad`) and `u` (`dir_grad`).
#'   Gradient penalties (GP, LP, DRAGAN), the W2 equality penalty and SBE
#'   all reduce to this call. Not available for BatchNorm nets.
#'
#' @param net A [wf_net()].
#' @param x A numeric matrix with `input_dim` columns (or a 4-d array of
#'   images `[n, C, H, W]`, one image per row once flattened).
#' @param dy A numeric matrix of output weights (`nrow(x)` x `output_dim`).
#' @param u A numeric matrix of directions, the shape of `x`.
#' @param train Use BatchNorm batch statistics (and update the running ones).
#' @return A matrix, or a list as described above.
#' @export
#' @examples
#' net <- wf_net(wf_mlp(c(8, 8), activation = "tanh"), 2, 1, seed = 1)
#' x <- matrix(rnorm(10), 5, 2)
#' wf_forward(net, x)
#' wf_input_grad(net, x)
#' wf_double_backward(net, x, u = matrix(1, 5, 2))$value
wf_forward <- function(net, x, train = FALSE) {
  run_pass(net, x, train, "forward")
}

# One pass ("forward" or "input_grad") on validated input; training mode
# moves BatchNorm's running statistics, so the R copy is synced. (Each
# .Call names its routine, so R CMD check can verify the registration.)
run_pass <- function(net, x, train, pass) {
  check_net(net)
  x <- check_data(x, "x", cols = net$input_dim)
  check_flag(train, "train")
  out <- if (pass == "forward") .Call(ffi_forward, net_ptr(net), x, train) else
    .Call(ffi_input_grad, net_ptr(net), x, train)
  if (train) net_sync(net)
  out
}

#' @rdname wf_forward
#' @export
wf_input_grad <- function(net, x, train = FALSE) {
  run_pass(net, x, train, "input_grad")
}

#' @rdname wf_forward
#' @export
wf_backward <- function(net, x, dy, train = FALSE) {
  check_net(net)
  x <- check_data(x, "x", cols = net$input_dim)
  dy <- check_data(dy, "dy", cols = net$output_dim)
  if (nrow(dy) != nrow(x)) arg_error("dy", sprintf("a matrix with %d rows", nrow(x)), dy)
  check_flag(train, "train")
  out <- .Call(ffi_backward, net_ptr(net), x, dy, train)
  if (train) net_sync(net)
  out
}

#' @rdname wf_forward
#' @export
wf_double_backward <- function(net, x, u) {
  check_net(net)
  x <- check_data(x, "x", cols = net$input_dim)
  u <- check_data(u, "u", cols = net$input_dim)
  if (nrow(u) != nrow(x)) arg_error("u", sprintf("a matrix with %d rows", nrow(x)), u)
  if (uses_batch_norm(net$spec)) {
    wf_abort("Double backward through BatchNorm is not supported; use norm = \"none\" or \"layer\" for critics.",
             class = c("wgflow_error_unsupported"), arg = "net")
  }
  .Call(ffi_double_backward, net_ptr(net), x, u)
}
