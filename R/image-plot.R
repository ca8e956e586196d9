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
  n <- nrow(x)
  cols <- ncol %||% ceiling(sqrt(n))
  rows <- ceiling(n / cols)
  h <- size[1]
  w <- size[2]
  # one canvas, a pixel of background between images
  canvas <- matrix(1, rows * (h + 1) + 1, cols * (w + 1) + 1)
  v <- pmin(pmax((x - range[1]) / (range[2] - range[1]), 0), 1)
  for (i in seq_len(n)) {
    r <- (i - 1L) %/% cols
    c <- (i - 1L) %% cols
    canvas[r * (h + 1) + 1 + seq_len(h), c * (w + 1) + 1 + seq_len(w)] <-
      matrix(v[i, ], h, w, byrow = TRUE)
  }
  args <- modify_args(list(x = NA, type = "n", xlim = c(0, ncol(canvas)),
                            ylim = c(0, nrow(canvas)), asp = 1, axes = FALSE,
                            xlab = "", ylab = "", main = main), list(...))
  do.call(graphics::plot, args)
  graphics::rasterImage(grDevices::as.raster(canvas), 0, 0, ncol(canvas), nrow(canvas),
                        interpolate = FALSE)
  invisible(x)
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
  # one-channel image data know their rows and columns
  shape <- fit$image_shape
  if (is.null(image_size) && length(shape) == 3L && shape[1] == 1L) image_size <- shape[2:3]
  size <- image_side(image_size, fit$generator$output_dim, "image_size")
  samples <- wf_sample(fit, n, seed = seed)
  dots <- list(...)
  if (is.null(dots$main)) dots$main <- fit_label(fit)
  do.call(wf_image_grid, c(list(samples, size = size), dots))
  invisible()
}
