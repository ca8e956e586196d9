# Grids of grey-scale images (base graphics): generated samples of an image
# generator, or any matrix of images one per row.

#' Draw images as a grid
#'
#' Draws the rows of `x` (one image per row, pixels in row-major order, as
#' [wf_images()] gives them) as grey-scale images in a grid, black for
#' `range[1]` and white for `range[2]`, with no axes.
#'
#' @param x A numeric matrix, one image per row.
#' @param size The images' rows and columns; `NULL`: square.
#' @param ncol Images per row of the grid (`NULL`: about square).
#' @param range The values drawn black and white (values outside are
#'   clamped).
#' @param main A title.
#' @param ... Further graphical parameters for [plot()].
#' @return `x`, invisibly.
#' @seealso [plot.wf_fit()] with `what = "images"`.
#' @export
#' @examples
#' if (dir.exists("/usr/share/datasets/fashion-mnist")) {
#'   img <- wf_images("fashion-mnist", "test", n = 32)
#'   wf_image_grid(img$x, ncol = 8)
#' }
#' wf_image_grid(matrix(runif(16 * 64, -1, 1), 16), size = c(8, 8))
wf_image_grid <- function(x, size = NULL, ncol = NULL, range = c(-1, 1), main = NULL,
                          ...) {
  x <- check_data(x, "x")
  size <- image_side(size, ncol(x), "size")
  if (!is.null(ncol)) ncol <- check_count(ncol, "ncol", max = 1e4)
  if (!is.numeric(range) || length(range) != 2L || anyNA(range) ||
      !all(is.finite(range)) || range[2] <= range[1]) {
    arg_error("range", "two finite numbers c(black, white) with black < white", range)
  }
  canvas <- image_canvas(x, size, ncol %||% ceiling(sqrt(nrow(x))), range)
  args <- modify_args(list(x = NA, type = "n", xlim = c(0, ncol(canvas)),
                            ylim = c(0, nrow(canvas)), asp = 1, axes = FALSE,
                            xlab = "", ylab = "", main = main), list(...))
  do.call(graphics::plot, args)
  graphics::rasterImage(grDevices::as.raster(canvas), 0, 0, ncol(canvas), nrow(canvas),
                        interpolate = FALSE)
  invisible(x)
}

# The images (rows of `x`, `size` = rows and columns) in a grid of `cols`
# columns on one canvas of grey levels in [0, 1] (`range` black to white),
# a pixel of background (white) between and around them:
# [rows * (h + 1) + 1 x cols * (w + 1) + 1].
image_canvas <- function(x, size, cols, range) {
  n <- nrow(x)
  rows <- ceiling(n / cols)
  h <- size[1]
  w <- size[2]
  canvas <- matrix(1, rows * (h + 1) + 1, cols * (w + 1) + 1)
  v <- pmin(pmax((x - range[1]) / (range[2] - range[1]), 0), 1)
  for (i in seq_len(n)) {
    r <- (i - 1L) %/% cols
    c <- (i - 1L) %% cols
    canvas[r * (h + 1) + 1 + seq_len(h), c * (w + 1) + 1 + seq_len(w)] <-
      matrix(v[i, ], h, w, byrow = TRUE)
  }
  canvas
}

# Validated image rows and columns for images of d pixels.
image_side <- function(size, d, arg) {
  if (is.null(size)) {
    side <- round(sqrt(d))
    if (side * side != d) {
      wf_abort(sprintf("Images of %d pixels are not square: give `%s`.", d, arg),
               class = "wgflow_error_arg", arg = arg)
    }
    return(c(side, side))
  }
  ok <- is.numeric(size) && length(size) == 2L && !anyNA(size) && all(size >= 1) &&
    all(size == round(size)) && prod(size) == d
  if (!ok) arg_error(arg, sprintf("two whole numbers whose product is %d", d), size)
  as.integer(size)
}

plot_fit_images <- function(fit, n, seed, image_size, ...) {
  if (is.null(fit$generator)) {
    wf_abort("This fit has no `generator` to draw images from.",
             class = "wgflow_error_unsupported", arg = "what")
  }
  size <- image_side(image_size %||% one_channel_size(fit), fit$generator$output_dim,
                     "image_size")
  samples <- wf_sample(fit, n, seed = seed)
  dots <- list(...)
  if (is.null(dots$main)) dots$main <- fit_label(fit)
  do.call(wf_image_grid, c(list(samples, size = size), dots))
  invisible()
}

# The rows and columns of a fit's one-channel image data (their
# "image_shape"), or NULL.
one_channel_size <- function(fit) {
  shape <- fit$image_shape
  if (length(shape) == 3L && shape[1] == 1L) shape[2:3] else NULL
}

# plot(fit, "samples") for images: data images beside as many generated
# ones (at most 36 of each; rays between latents and pixels would mean
# nothing), on one canvas so that the plot is one panel.
plot_fit_sample_images <- function(fit, n, seed, size, ...) {
  m <- min(n, 36L, nrow(fit$data))
  idx <- unique(round(seq(1, nrow(fit$data), length.out = m)))
  xd <- undo_scaling(fit$data[idx, , drop = FALSE], fit$scaling)
  gz <- wf_sample(fit, length(idx), seed = seed)
  attr(gz, "image_shape") <- NULL
  gz <- unname(as.matrix(gz))
  # wf_images()' range, or the data's own
  range <- if (all(xd >= -1 & xd <= 1)) c(-1, 1) else finite_range(xd)
  cols <- ceiling(sqrt(length(idx)))
  left <- image_canvas(xd, size, cols, range)
  right <- image_canvas(gz, size, cols, range)
  gap <- matrix(1, nrow(left), size[2])  # [rows x an image's width] of background
  canvas <- cbind(left, gap, right)
  args <- modify_args(list(x = NA, type = "n", xlim = c(0, ncol(canvas)),
                           ylim = c(0, nrow(canvas)), asp = 1, axes = FALSE, xlab = "",
                           ylab = "", main = fit_label(fit)), list(...))
  do.call(graphics::plot, args)
  graphics::rasterImage(grDevices::as.raster(canvas), 0, 0, ncol(canvas), nrow(canvas),
                        interpolate = FALSE)
  graphics::text(ncol(left) / 2 + c(0, ncol(left) + size[2]), nrow(canvas), pos = 3,
                 labels = c("data", "G(z)"), xpd = NA, cex = 0.9)
  invisible(list(kind = "images", rays = 0L, legend = c("data", "G(z)"),
                 images = length(idx)))
}
