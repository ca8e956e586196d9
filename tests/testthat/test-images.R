# IDX files, Fashion-MNIST and downscaling.

write_idx <- function(path, type, dims, values, gz = FALSE, size = 1L) {
  con <- if (gz) gzfile(path, "wb") else file(path, "wb")
  on.exit(close(con))
  writeBin(as.raw(c(0, 0, type, length(dims))), con)
  writeBin(as.integer(dims), con, size = 4L, endian = "big")
  if (type %in% c(8, 9)) {
    writeBin(as.integer(values), con, size = 1L)
  } else if (type %in% c(11, 12)) {
    writeBin(as.integer(values), con, size = size, endian = "big")
  } else {
    writeBin(as.double(values), con, size = size, endian = "big")
  }
}

test_that("wf_read_idx reads every type, plain and gzip'd, in row-major order", {
  for (gz in c(FALSE, TRUE)) {
    f <- tempfile(fileext = if (gz) ".idx.gz" else ".idx")
    # 2 images of 2 x 3: row-major values 0..11
    write_idx(f, 8, c(2, 2, 3), 0:11, gz = gz)
    a <- wf_read_idx(f)
    expect_identical(dim(a), c(2L, 2L, 3L))
    expect_identical(a[1, 1, ], 0:2)
    expect_identical(a[1, 2, ], 3:5)
    expect_identical(a[2, , ], matrix(6:11, 2, 3, byrow = TRUE))
  }
  f <- tempfile()
  write_idx(f, 9, 4, c(-1, 5, -128, 127))
  expect_identical(wf_read_idx(f), c(-1L, 5L, -128L, 127L))
  write_idx(f, 11, 3, c(-300, 0, 300), size = 2L)
  expect_identical(wf_read_idx(f), c(-300L, 0L, 300L))
  write_idx(f, 12, c(2, 2), c(1, -70000, 3, 4), size = 4L)
  expect_identical(wf_read_idx(f), matrix(c(1L, -70000L, 3L, 4L), 2, byrow = TRUE))
  write_idx(f, 13, 2, c(0.5, -2), size = 4L)
  expect_identical(wf_read_idx(f), c(0.5, -2))
  write_idx(f, 14, 2, c(pi, -1e300), size = 8L)
  expect_identical(wf_read_idx(f), c(pi, -1e300))
})

test_that("wf_read_idx refuses files that are not IDX, truncated or too long", {
  f <- tempfile()
  writeLines("hello, not an IDX file", f)
  expect_error(wf_read_idx(f), class = "wgflow_error_idx")
  write_idx(f, 8, c(2, 3), 1:5) # one value short
  err <- expect_error(wf_read_idx(f), class = "wgflow_error_idx")
  expect_match(conditionMessage(err), "truncated")
  expect_identical(err$arg, "path")
  write_idx(f, 8, c(2, 3), 1:7)
  expect_error(wf_read_idx(f), "after its values", class = "wgflow_error_idx")
  con <- file(f, "wb"); writeBin(as.raw(c(0, 0, 0x42, 1, 0, 0, 0, 1, 7)), con); close(con)
  expect_error(wf_read_idx(f), "type code", class = "wgflow_error_idx")
  con <- file(f, "wb"); writeBin(as.raw(c(0, 0, 8, 2, 0, 0)), con); close(con)
  expect_error(wf_read_idx(f), "header", class = "wgflow_error_idx")
  expect_error(wf_read_idx(tempfile()), class = "wgflow_error_arg")
  expect_error(wf_read_idx(1), class = "wgflow_error_arg")
})

test_that("wf_read_idx refuses a folder, a corrupt .gz and an unreadable file with a classed error", {
  d <- tempfile()
  dir.create(d)
  err <- expect_error(wf_read_idx(d), "directory", class = "wgflow_error_idx")
  expect_identical(err$arg, "path")
  g <- tempfile(fileext = ".gz")
  writeBin(as.raw(c(0x1f, 0x8b, 8, 0, 1, 2, 3)), g) # a gzip header, then garbage
  err <- expect_error(wf_read_idx(g), "cannot be read", class = "wgflow_error_idx")
  expect_identical(err$arg, "path")
  skip_if_not(file.exists("/proc/self/mem"), "no /proc/self/mem")
  expect_error(wf_read_idx("/proc/self/mem"), class = "wgflow_error_idx")
})

test_that("wf_images warns when asked for more images than the split holds", {
  d <- tempfile()
  dir.create(d)
  # a three-image "test split" of 2 x 2 images
  write_idx(file.path(d, "t10k-images-idx3-ubyte"), 8, c(3, 2, 2), 0:11 * 20)
  write_idx(file.path(d, "t10k-labels-idx1-ubyte"), 8, 3, c(9, 0, 1))
  w <- expect_warning(img <- wf_images(split = "test", n = 5, path = d),
                      class = "wgflow_warning_short_data")
  expect_match(conditionMessage(w), "has 3 images")
  expect_identical(dim(img$x), c(3L, 4L))
  expect_identical(as.character(img$labels), c("Ankle boot", "T-shirt/top", "Trouser"))
  expect_no_warning(img <- wf_images(split = "test", n = 3, path = d))
  expect_identical(nrow(img$x), 3L)
})

test_that("wf_downscale averages areas: constants stay, 2 x 2 blocks average", {
  x <- matrix(c(rep(0.3, 16), 1:16), 2, byrow = TRUE)
  s <- wf_downscale(x, c(4, 4), c(2, 2))
  expect_equal(s[1, ], rep(0.3, 4))
  img <- matrix(1:16, 4, 4, byrow = TRUE)
  want <- c(mean(img[1:2, 1:2]), mean(img[1:2, 3:4]), mean(img[3:4, 1:2]),
            mean(img[3:4, 3:4]))
  expect_equal(s[2, ], want)
  y <- matrix(runif(3 * 28 * 28), 3)
  z <- wf_downscale(y, c(28, 28), c(16, 16))
  expect_identical(dim(z), c(3L, 256L))
  expect_equal(rowMeans(z), rowMeans(y))
  expect_error(wf_downscale(y, c(28, 28), c(30, 30)), class = "wgflow_error_arg")
  expect_error(wf_downscale(y, c(27, 28), c(16, 16)), class = "wgflow_error_arg")
})

test_that("wf_images loads Fashion-MNIST scaled to [-1, 1] with labels", {
  skip_if_not(dir.exists("/usr/share/datasets/fashion-mnist"), "no dataset-fashion-mnist")
  img <- wf_images("fashion-mnist", "test", n = 50)
  expect_identical(dim(img$x), c(50L, 784L))
  expect_true(all(img$x >= -1 & img$x <= 1))
  expect_s3_class(img$labels, "factor")
  expect_identical(nlevels(img$labels), 10L)
  expect_identical(as.character(img$labels[1]), "Ankle boot") # the test set's first
  small <- wf_images("fashion-mnist", "test", size = 16, n = 5)
  expect_identical(dim(small$x), c(5L, 256L))
  expect_equal(small$x[1, ], as.vector(wf_downscale(img$x[1, , drop = FALSE],
                                                    c(28, 28), c(16, 16))))
  expect_error(wf_images("mnist"), class = "wgflow_error_arg")
  expect_error(wf_images(path = tempdir()), class = "wgflow_error_missing_data")
})
