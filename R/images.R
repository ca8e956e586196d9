# Image data: IDX files (the format of MNIST and Fashion-MNIST), Debian's
# Fashion-MNIST, and downscaling by area averaging.

#' Read an IDX file
#'
#' Reads a file in the IDX format in which MNIST and Fashion-MNIST ship,
#' plain or gzip-compressed: two zero bytes, a type code (unsigned or signed
#' byte, 16- or 32-bit integer, float or double), the number of dimensions,
#' each dimension as a 32-bit big-endian integer, then the values in
#' row-major order, big-endian.
#'
#' @param path Path of an IDX file, optionally gzip-compressed (`.gz`).
#' @return For one dimension, a vector; otherwise an array with the file's
#'   dimensions in the file's order (so an image file is `n x rows x cols`,
#'   `x[i, , ]` being image `i` as the file stores it). Integer types give
#'   integer values, float and double types doubles.
#' @seealso [wf_images()] for Fashion-MNIST ready to train on.
#' @export
#' @examples
#' f <- tempfile(fileext = ".idx")
#' con <- file(f, "wb")
#' writeBin(as.raw(c(0, 0, 8, 3, 0, 0, 0, 2, 0, 0, 0, 2, 0, 0, 0, 3)), con)
#' writeBin(as.raw(0:11), con)
#' close(con)
#' wf_read_idx(f)[2, , ]
wf_read_idx <- function(path) {
  if (!is.character(path) || length(path) != 1L || is.na(path)) {
    arg_error("path", "a single file path", path)
  }
  if (!file.exists(path)) {
    wf_abort(sprintf("`path` (%s) does not exist.", path), class = "wgflow_error_arg",
             arg = "path")
  }
  bad <- function(why) {
    wf_abort(sprintf("`path` (%s) is not a valid IDX file: %s.", path, why),
             class = c("wgflow_error_idx", "wgflow_error_arg"), arg = "path")
  }
  if (dir.exists(path)) bad("it is a directory")
  # a file that cannot be opened or read (a corrupt .gz, a special file):
  # the connection's warning (which says why) or error as a classed error,
  # raised once the connection call has returned (then `cleanup` of its
  # value) or failed
  io <- function(expr, cleanup = NULL) {
    why <- NULL
    out <- withCallingHandlers(
      tryCatch(expr, error = function(e) {
        bad(sprintf("it cannot be read (%s)", why %||% conditionMessage(e)))
      }),
      warning = function(w) {
        why <<- why %||% conditionMessage(w)
        invokeRestart("muffleWarning")
      })
    if (!is.null(why)) {
      if (!is.null(cleanup)) cleanup(out)
      bad(sprintf("it cannot be read (%s)", why))
    }
    out
  }
  con <- io(gzfile(path, "rb"), cleanup = close) # reads plain files as they are
  on.exit(close(con))
  head <- io(readBin(con, "raw", n = 4L))
  if (length(head) < 4L || head[1] != as.raw(0) || head[2] != as.raw(0)) {
    bad("it does not start with the IDX magic number")
  }
  types <- list(`8` = list("integer", 1L, FALSE), `9` = list("integer", 1L, TRUE),
                `11` = list("integer", 2L, TRUE), `12` = list("integer", 4L, TRUE),
                `13` = list("double", 4L, TRUE), `14` = list("double", 8L, TRUE))
  type <- types[[as.character(as.integer(head[3]))]]
  if (is.null(type)) bad(sprintf("unknown type code 0x%02x", as.integer(head[3])))
  n_dim <- as.integer(head[4])
  if (n_dim < 1L) bad("it has no dimensions")
  dims <- io(readBin(con, "integer", n = n_dim, size = 4L, endian = "big"))
  if (length(dims) < n_dim) bad("it is truncated in its header")
  if (any(dims < 0L)) bad("it has a negative dimension")
  total <- prod(as.double(dims))
  if (total > .Machine$integer.max) bad("it is too large to read into R")
  values <- io(readBin(con, type[[1]], n = total, size = type[[2]], signed = type[[3]],
                       endian = "big"))
  if (length(values) < total) {
    bad(sprintf("it is truncated: %.0f of %.0f values", length(values), total))
  }
  if (length(io(readBin(con, "raw", n = 1L))) > 0L) bad("it has bytes after its values")
  if (n_dim == 1L) return(values)
  # row-major values: the last index runs fastest, R's first
  aperm(array(values, dim = rev(dims)), n_dim:1)
}

fashion_mnist_classes <- c("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                           "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot")

#' Image data sets for the image experiments
#'
#' Loads Fashion-MNIST (Xiao, Rasul and Vollgraf, 2017: 28 x 28 grey-scale
#' images of ten kinds of clothing, 60000 for training and 10000 for
#' testing) from the files of Debian's `dataset-fashion-mnist` package, one
#' image per row scaled to \[-1, 1\], optionally downscaled.
#'
#' @param name The data set: "fashion-mnist".
#' @param split "train" or "test".
#' @param size `NULL` (28 x 28) or the side of the downscaled images, e.g.
#'   16 (see [wf_downscale()]).
#' @param n `NULL` for every image, or the number of images to take (the
#'   first `n`; more than the split holds gives all of them, with a
#'   warning).
#' @param path The folder holding the IDX files; by default the environment
#'   variable `WGFLOW_FASHION_MNIST` or Debian's
#'   `/usr/share/datasets/fashion-mnist`.
#' @return A list: `x`, a numeric matrix with one image per row (pixels in
#'   row-major order, values in \[-1, 1\]) and the attribute
#'   `"image_shape"`, `c(1, rows, columns)` (one channel), from which
#'   convolutional nets ([wf_layers()], [wf_dcgan_critic()]) take their
#'   input shape; `labels`, a factor of the classes; `size`, the image's
#'   rows and columns.
#' @seealso [wf_read_idx()], [wf_downscale()].
#' @export
#' @examples
#' if (dir.exists("/usr/share/datasets/fashion-mnist")) {
#'   img <- wf_images("fashion-mnist", "test", size = 16, n = 100)
#'   dim(img$x)
#'   table(img$labels)
#' }
wf_images <- function(name = "fashion-mnist", split = c("train", "test"), size = NULL,
                      n = NULL, path = NULL) {
  check_choice(name, "fashion-mnist", "name")
  if (identical(split, c("train", "test"))) split <- "train"
  check_choice(split, c("train", "test"), "split")
  if (!is.null(size)) size <- check_count(size, "size", max = 28L)
  if (!is.null(n)) n <- check_count(n, "n")
  if (is.null(path)) {
    path <- Sys.getenv("WGFLOW_FASHION_MNIST", "/usr/share/datasets/fashion-mnist")
  }
  if (!is.character(path) || length(path) != 1L || is.na(path)) {
    arg_error("path", "a single folder path", path)
  }
  prefix <- if (split == "train") "train" else "t10k"
  files <- file.path(path, paste0(prefix, c("-images-idx3-ubyte", "-labels-idx1-ubyte")))
  files <- vapply(files, function(f) {
    if (file.exists(f)) f else paste0(f, ".gz")
  }, character(1), USE.NAMES = FALSE)
  if (!all(file.exists(files))) {
    wf_abort(sprintf(paste0("Fashion-MNIST was not found in %s; install Debian's ",
                            "`dataset-fashion-mnist` or set `path`."), path),
             class = c("wgflow_error_missing_data", "wgflow_error_arg"), arg = "path")
  }
  images <- wf_read_idx(files[1])
  labels <- wf_read_idx(files[2])
  dims <- dim(images)
  take <- if (is.null(n)) dims[1] else min(n, dims[1])
  if (!is.null(n) && n > dims[1]) {
    wf_warn(sprintf("`n` is %d, but the %s split of Fashion-MNIST has %d images; returning %d.",
                    n, split, dims[1], dims[1]),
            class = "wgflow_warning_short_data")
  }
  # [n x rows x cols] -> one image per row, pixels in row-major order
  x <- matrix(aperm(images[seq_len(take), , , drop = FALSE], c(1, 3, 2)), take,
              dims[2] * dims[3])
  x <- x / 127.5 - 1
  side <- dims[2:3]
  if (!is.null(size) && size != dims[2]) {
    x <- wf_downscale(x, from = side, to = c(size, size))
    side <- c(size, size)
  }
  # what a convolutional net reads: one grey channel of side[1] x side[2]
  attr(x, "image_shape") <- as.integer(c(1L, side))
  list(x = x, labels = factor(fashion_mnist_classes[labels[seq_len(take)] + 1L],
                              levels = fashion_mnist_classes),
       size = side)
}

#' Downscale images by area averaging
#'
#' Each output pixel is the mean of the input pixels under it, weighted by
#' how much of each it covers (a box filter), so the mean grey level is
#' kept and no aliasing is added.
#'
#' @param x A numeric matrix, one image per row, pixels in row-major order.
#' @param from The input images' rows and columns.
#' @param to The output images' rows and columns (each at most the input's).
#' @return A matrix with one downscaled image per row.
#' @export
#' @examples
#' x <- matrix(runif(2 * 28 * 28), 2)
#' dim(wf_downscale(x, c(28, 28), c(16, 16)))
wf_downscale <- function(x, from, to) {
  x <- check_data(x, "x")
  ok <- function(v) is.numeric(v) && length(v) == 2L && !anyNA(v) && all(v >= 1) &&
    all(v == round(v))
  if (!ok(from)) arg_error("from", "two whole numbers (rows, columns)", from)
  if (!ok(to) || any(to > from)) {
    arg_error("to", "two whole numbers no larger than `from`", to)
  }
  if (ncol(x) != prod(from)) {
    arg_error("x", sprintf("a matrix with %d columns (rows x columns of `from`)",
                           prod(from)), x)
  }
  # row-major images: vec(A I B^T) = (A %x% B) vec(I)
  w <- kronecker(area_weights(from[1], to[1]), area_weights(from[2], to[2]))
  x %*% t(w)
}

# [m x n] weights: output cell i averages input cells by their overlap with
# [i n / m, (i + 1) n / m).
area_weights <- function(n, m) {
  w <- matrix(0, m, n)
  for (i in seq_len(m)) {
    lo <- (i - 1) * n / m
    hi <- i * n / m
    for (j in seq_len(n)) {
      w[i, j] <- max(0, min(hi, j) - max(lo, j - 1))
    }
  }
  w / rowSums(w)
}
