# Readers for the PyTorch reference fixtures in tests/testthat/fixtures/torch
# (written by inst/fixtures/make_fixtures.py; format in the README there).

fixture_dir <- function() {
  # with the tests, not installed: they would weigh a megabyte in every
  # installation
  test_path("fixtures", "torch")
}

# Case names: the sub-folders that hold a spec.dcf.
fixture_cases <- function() {
  root <- fixture_dir()
  if (!dir.exists(root)) return(character(0))
  dirs <- list.dirs(root, full.names = FALSE, recursive = FALSE)
  sort(dirs[file.exists(file.path(root, dirs, "spec.dcf"))])
}

fixture_path <- function(case, name) {
  file.path(fixture_dir(), case, paste0(name, ".txt"))
}

has_fixture <- function(case, name) file.exists(fixture_path(case, name))

# A tensor: first line its dims, then the values row-major, one per line.
# Returns a vector (one dim) or a matrix (two dims, filled by row).
read_fixture <- function(case, name) {
  path <- fixture_path(case, name)
  if (!file.exists(path)) stop("no fixture ", case, "/", name, call. = FALSE)
  dims <- scan(path, what = integer(), nlines = 1L, quiet = TRUE)
  vals <- scan(path, what = double(), skip = 1L, quiet = TRUE)
  if (length(vals) != prod(dims)) {
    stop(sprintf("fixture %s/%s: %d values for dims %s", case, name,
                 length(vals), paste(dims, collapse = " x ")), call. = FALSE)
  }
  if (length(dims) == 1L) return(vals)
  if (length(dims) == 2L) {
    return(matrix(vals, nrow = dims[1], ncol = dims[2], byrow = TRUE))
  }
  stop("fixture ", case, "/", name, ": more than 2 dims", call. = FALSE)
}

# The spec.dcf fields as an R list (typed).
fixture_info <- function(case) {
  d <- read.dcf(file.path(fixture_dir(), case, "spec.dcf"))[1, ]
  hidden <- trimws(d[["hidden"]])
  list(
    hidden = if (nzchar(hidden)) as.integer(strsplit(hidden, "[[:space:]]+")[[1]])
             else integer(0),
    input_dim = as.integer(d[["input_dim"]]),
    output_dim = as.integer(d[["output_dim"]]),
    activation = d[["activation"]],
    output_activation = d[["output_activation"]],
    norm = d[["norm"]],
    residual = as.logical(d[["residual"]]),
    leaky_slope = as.numeric(d[["leaky_slope"]])
  )
}

fixture_spec <- function(case) {
  s <- fixture_info(case)
  wf_mlp(hidden = s$hidden, activation = s$activation,
         output_activation = s$output_activation, norm = s$norm,
         residual = s$residual, leaky_slope = s$leaky_slope)
}

# A fresh net of the case's architecture carrying the fixture parameters
# (and, for BatchNorm, the initial running statistics).
fixture_net <- function(case) {
  s <- fixture_info(case)
  net <- wf_net(fixture_spec(case), input_dim = s$input_dim,
                output_dim = s$output_dim, seed = 1)
  wf_params(net) <- read_fixture(case, "params")
  net
}

# max|a - b| / max(1, max|b|): float32-level agreement is ~1e-7 .. 1e-5.
rel_err <- function(actual, expected) {
  actual <- as.numeric(actual)
  expected <- as.numeric(expected)
  if (length(actual) != length(expected)) return(Inf)
  if (any(!is.finite(actual))) return(Inf)
  max(abs(actual - expected)) / max(1, max(abs(expected)))
}

# expect_lt on the error, labelled so that a failure prints the number.
expect_close <- function(actual, expected, tol, what) {
  if (is.matrix(expected)) {
    expect_equal(dim(as.matrix(actual)), dim(expected),
                 label = paste("dim of", what))
  } else {
    expect_equal(length(actual), length(expected),
                 label = paste("length of", what))
  }
  err <- rel_err(actual, expected)
  expect_lt(err, tol, label = sprintf("%s: relative error %.3g", what, err),
            expected.label = format(tol))
  invisible(err)
}
