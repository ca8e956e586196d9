# Nets as classifiers: the softmax cross-entropy of their logits and an
# optimiser step on it (the engine's softmax_xent op, src/core/compose.c's
# wf_classify_step). What trains the feature network of features.R.

#' Classifier loss and training step
#'
#' A net with `k` outputs read as the logits of `k` classes is a
#' classifier. `wf_classifier_loss()` gives its softmax cross-entropy on a
#' batch,
#' \deqn{L = \frac1m \sum_i \left(\log \sum_j e^{f_j(x_i)} - f_{c_i}(x_i)\right),}
#' `c_i` the class of row `i`, and the gradient of `L` with respect to the
#' parameters; `wf_classifier_step()` takes one optimiser step on it.
#' Both run in the engine (on the net's device): the loss and its gradient
#' `(softmax(f(x_i)) - onehot(c_i)) / m` are one backend operation, taken
#' in double precision row by row, and the step is the same optimiser
#' update the training functions use.
#'
#' @param net A [wf_net()] with one output per class (at least one).
#' @param x A numeric matrix with the net's `input_dim` columns (or a 4-d
#'   array of images `[n, C, H, W]`).
#' @param labels The classes of the rows of `x`: a factor with at most
#'   `output_dim` levels (its level `j` is output `j`), or whole numbers in
#'   `1, ..., output_dim`; one per row, no `NA`.
#' @param train Use BatchNorm batch statistics (and update the running
#'   ones).
#' @param optimizer An optimiser from [wf_adam()], [wf_rmsprop()], [wf_sgd()].
#' @return `wf_classifier_loss()`: a list with `loss` and `param_grad` (in
#'   the layout of [wf_params()]). `wf_classifier_step()`: a list with
#'   `loss`, the loss before the step.
#' @seealso [wf_features()], whose network was trained this way
#'   (`inst/scripts/lenet-fashion.R`).
#' @export
#' @examples
#' net <- wf_net(wf_mlp(16), input_dim = 2, output_dim = 3, seed = 1)
#' x <- matrix(rnorm(60), 30, 2)
#' labels <- 1 + (x[, 1] > 0) + (x[, 2] > 0)
#' wf_classifier_loss(net, x, labels)$loss # about log(3) at the start
#' for (i in 1:200) wf_classifier_step(net, x, labels, wf_adam(0.01))
#' wf_classifier_loss(net, x, labels)$loss
wf_classifier_loss <- function(net, x, labels, train = FALSE) {
  a <- check_classifier_args(net, x, labels, train)
  out <- .Call(ffi_classify, net_ptr(net), a$x, a$labels, NULL, train)
  if (train) net_sync(net)
  out
}

#' @rdname wf_classifier_loss
#' @export
wf_classifier_step <- function(net, x, labels, optimizer, train = TRUE) {
  a <- check_classifier_args(net, x, labels, train)
  check_optimizer(optimizer, "optimizer")
  out <- .Call(ffi_classify, net_ptr(net), a$x, a$labels, opt_for_c(optimizer), train)
  net_sync(net)
  out
}

# The validated batch: x as a double matrix, labels as 0-based integers
# (what the engine reads).
check_classifier_args <- function(net, x, labels, train) {
  check_net(net)
  x <- check_data(x, "x", cols = net$input_dim)
  check_flag(train, "train")
  list(x = x, labels = class_codes(labels, nrow(x), net$output_dim, "labels"))
}

# Classes as 0-based integer codes: from a factor (level j is class j) or
# whole numbers 1 .. k, n of them.
class_codes <- function(labels, n, k, arg) {
  if (is.factor(labels)) {
    if (nlevels(labels) > k) {
      wf_abort(sprintf("`%s` has %d levels, more than the net's %d outputs.", arg,
                       nlevels(labels), k), class = "wgflow_error_arg", arg = arg)
    }
    codes <- as.integer(labels)
  } else {
    ok <- is.numeric(labels) && !anyNA(labels) && all(labels == round(labels)) &&
      all(labels >= 1 & labels <= k)
    if (!ok) arg_error(arg, sprintf("a factor or whole numbers in 1..%d", k), labels)
    codes <- as.integer(labels)
  }
  if (length(codes) != n || anyNA(codes)) {
    arg_error(arg, sprintf("%d classes without NA, one per row of `x`", n), labels)
  }
  codes - 1L
}
