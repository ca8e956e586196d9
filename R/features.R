# The feature network of the image metrics (fd_lenet, kd_lenet): a small
# convolutional classifier of Fashion-MNIST whose penultimate activations
# are the features. Its weights ship in inst/extdata/lenet-fashion.rds,
# made by inst/scripts/lenet-fashion.R; reading them needs no data set.
#
# The file is a list: `format` ("wgflow-classifier-1"), `spec` (the
# wf_layers() stack), `tensors` (a data frame of name, offset, length and
# scale: each parameter tensor of wf_param_layout() stored as 16-bit
# integers q with value q * scale, scale = max |w| / 32767), `q` (those
# integers, little-endian, as raw bytes), `state` (BatchNorm running
# statistics, none here), `classes` and `record` (how it was trained: test
# accuracy, epochs, seconds, commit, command, ...).

lenet_format <- "wgflow-classifier-1"

# The shipped classifier's parameters and spec, read once per session.
lenet_cache <- new.env(parent = emptyenv())

#' The Fashion-MNIST feature network
#'
#' `wf_lenet()` is a small convolutional classifier of Fashion-MNIST's ten
#' classes (LeNet-like: four convolutions with ReLU, 16, 32, 64 and 64
#' channels, the last three of stride 2, then dense layers of 128 and 10
#' units), trained with wgflow's own engine ([wf_classifier_step()], Adam)
#' on the 60000 training images by `inst/scripts/lenet-fashion.R`, which
#' made the shipped weights and records how (`system.file("extdata",
#' "lenet-fashion.rds", package = "wgflow")`, element `record`: test
#' accuracy on the 10000 test images, epochs, time, commit). Its weights
#' are stored as 16-bit integers with one scale per tensor; the accuracy
#' recorded is that of the stored weights. Reading them needs no data set.
#'
#' `wf_features()` maps images to the classifier's penultimate activations:
#' the output of every layer but the last (for the shipped net, the 128
#' values after the ReLU of its first dense layer, brought to unit scale:
#' their mean square over the training images is 1, so that the KID's
#' kernel \eqn{(a \cdot b / d + 1)^3} sees \eqn{a \cdot b / d} of order
#' 1, as on Inception features; the logits are unchanged by that
#' rescaling, see the script). Distances between such
#' features ([wf_frechet()], [wf_kid()] with `features = "lenet"`) compare
#' generated and real images through what a classifier of the same data
#' sees, as the FID and KID do through an Inception network trained on
#' ImageNet; they are not the FID or the KID, whose numbers they do not
#' reproduce, and the training functions report them as `fd_lenet` and
#' `kd_lenet`.
#'
#' @param path `NULL` (the shipped weights) or the path of a file written
#'   as `inst/scripts/lenet-fashion.R` writes it.
#' @param x Images of 28 x 28 pixels, one channel, values in \[-1, 1\] as
#'   [wf_images()] gives them: a numeric matrix of 784 columns, one image
#'   per row (pixels in row-major order; an `"image_shape"` attribute, if
#'   any, must be `c(1, 28, 28)`), or a 4-d array `[n, 1, 28, 28]`.
#' @param net `NULL` (the shipped network) or a classifier [wf_net()] whose
#'   last layer is [wf_dense()] (a [wf_layers()] stack).
#' @return `wf_lenet()`: a [wf_net()] with 784 inputs and 10 outputs (the
#'   logits of [wf_images()]' classes, in the order of its `labels`' levels),
#'   a new one at each call. `wf_features()`: a matrix with one row per
#'   image and one column per feature (128 for the shipped net).
#' @seealso [wf_frechet()], [wf_kid()], [wf_feature_floor()].
#' @export
#' @examples
#' net <- wf_lenet()
#' net
#' x <- matrix(runif(3 * 784, -1, 1), 3)
#' dim(wf_features(x))
#' if (dir.exists("/usr/share/datasets/fashion-mnist")) {
#'   test <- wf_images("fashion-mnist", "test", n = 500)
#'   mean(max.col(wf_forward(net, test$x)) == as.integer(test$labels))
#' }
wf_lenet <- function(path = NULL) {
  w <- lenet_weights(path)
  net <- new_net(w$spec, 784L, w$n_out, c(0, 0), "cpu")
  wf_params(net) <- w$params
  if (length(w$state) > 0L) .Call(ffi_net_set, net_ptr(net), 1L, w$state)
  net_sync(net)
  net
}

#' @rdname wf_lenet
#' @export
wf_features <- function(x, net = NULL) {
  x <- check_fashion_images(x, "x")
  feat <- if (is.null(net)) lenet_feature_net() else feature_net(net, "net")
  # chunks bound the engine's work space (a few hundred KB a row)
  n <- nrow(x)
  if (n <= feature_chunk) return(wf_forward(feat, x))
  out <- matrix(0, n, feat$output_dim)
  for (lo in seq(1L, n, by = feature_chunk)) {
    rows <- lo:min(n, lo + feature_chunk - 1L)
    out[rows, ] <- wf_forward(feat, x[rows, , drop = FALSE])
  }
  out
}

feature_chunk <- 256L

# 28 x 28 one-channel images as a plain double matrix of 784 columns.
check_fashion_images <- function(x, arg) {
  x <- check_data(x, arg)
  shape <- image_shape(x)
  if (ncol(x) != 784L || (!is.null(shape) && !identical(shape, c(1L, 28L, 28L)))) {
    wf_abort(sprintf(paste0("`%s` must hold 28 x 28 one-channel images (784 columns, ",
                            "image shape c(1, 28, 28)), not %s."), arg,
                     if (is.null(shape)) sprintf("%d columns", ncol(x)) else
                       sprintf("images of shape %s", format_shape(shape))),
             class = "wgflow_error_arg", arg = arg)
  }
  attr(x, "image_shape") <- NULL
  attr(x, "wf_frame") <- NULL
  x
}

# The shipped classifier cut before its last layer, built once per session
# (never handed out: a caller cannot step it).
lenet_feature_net <- function() {
  if (is.null(lenet_cache$features)) lenet_cache$features <- feature_net(wf_lenet(), "net")
  lenet_cache$features
}

# A net computing a classifier's penultimate activations: its stack
# without the last (dense) layer, sharing the leading parameters (a dense
# layer's weight and bias come last in the layout).
feature_net <- function(net, arg) {
  check_net(net, arg)
  layers <- if (is_stack(net$spec)) net$spec$layers
  n <- length(layers)
  if (n < 2L || layers[[n]]$kind != "dense") {
    wf_abort(sprintf(paste0("`%s` must be a wf_layers() net whose last layer is ",
                            "wf_dense(), with layers before it."), arg),
             class = "wgflow_error_arg", arg = arg)
  }
  spec <- net$spec
  spec$layers <- layers[-n]
  info <- stack_info(spec, net$input_dim, NULL, arg)
  feat <- new_net(spec, net$input_dim, info$output_dim, c(0, 0), "cpu", arg = arg)
  wf_params(feat) <- net$params[seq_len(sum(info$params))]
  if (sum(info$state) > 0L) .Call(ffi_net_set, net_ptr(feat), 1L, net$state[seq_len(sum(info$state))])
  net_sync(feat)
  feat
}

# The classifier's spec, parameters, state and output count from a file
# (the shipped one is read once).
lenet_weights <- function(path) {
  if (is.null(path)) {
    if (!is.null(lenet_cache$weights)) return(lenet_cache$weights)
    file <- system.file("extdata", "lenet-fashion.rds", package = "wgflow")
    if (!nzchar(file)) {
      wf_abort("The shipped feature network (extdata/lenet-fashion.rds) is missing.",
               class = "wgflow_error_missing_data")
    }
    lenet_cache$weights <- read_classifier(file, "path")
    return(lenet_cache$weights)
  }
  if (!is.character(path) || length(path) != 1L || is.na(path) || !file.exists(path)) {
    arg_error("path", "NULL or the path of an existing file", path)
  }
  read_classifier(path, "path")
}

read_classifier <- function(file, arg) {
  bad <- function(why) {
    wf_abort(sprintf("`%s` (%s) is not a wgflow classifier file: %s.", arg, file, why),
             class = "wgflow_error_arg", arg = arg)
  }
  w <- tryCatch(readRDS(file), error = function(e) bad("it cannot be read by readRDS()"))
  if (!is.list(w) || !identical(w$format, lenet_format)) bad("its `format` is not known")
  if (!valid_spec(w$spec) || !is_stack(w$spec)) bad("its `spec` is not a wf_layers() stack")
  info <- tryCatch(stack_info(w$spec, 784L, NULL, "spec"), error = function(e) NULL)
  if (is.null(info)) bad("its `spec` does not take 28 x 28 images")
  n_params <- sum(info$params)
  tens <- w$tensors
  ok <- is.data.frame(tens) && all(c("offset", "length", "scale") %in% names(tens)) &&
    is.raw(w$q) && length(w$q) == 2 * n_params && sum(tens$length) == n_params &&
    all(is.finite(tens$scale)) && identical(cumsum(c(0, utils::head(tens$length, -1))),
                                            as.double(tens$offset))
  if (!ok) bad("its tensors do not match its spec")
  q <- readBin(w$q, "integer", n = n_params, size = 2L, signed = TRUE, endian = "little")
  params <- q * rep(tens$scale, tens$length)
  state <- as.double(w$state %||% numeric())
  if (length(state) != sum(info$state)) bad("its BatchNorm state does not match its spec")
  list(spec = w$spec, params = params, state = state, n_out = info$output_dim,
       record = w$record)
}
