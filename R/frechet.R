# The Frechet distance between Gaussian fits of two samples, with a
# jackknife standard error; on raw columns or on the features of
# wf_features().

#' Frechet distance between Gaussian fits
#'
#' Fits a Gaussian (mean and covariance) to each sample and returns the
#' squared Frechet (W2) distance between the two fits,
#' \deqn{|\mu_x - \mu_y|^2 + \mathrm{tr}(\Sigma_x + \Sigma_y -
#' 2 (\Sigma_x^{1/2} \Sigma_y \Sigma_x^{1/2})^{1/2}).}
#' On Inception features this is the FID. wgflow has no Inception network:
#' with `features = "none"` it compares the raw columns (pixels of small
#' images), first and second moments only, a complement to the exact
#' [wf_wasserstein()] on a subsample; with `features = "lenet"` it compares
#' the features of a Fashion-MNIST classifier ([wf_features()]), what the
#' training functions report as `fd_lenet` for 28 x 28 images. Neither is
#' the FID.
#'
#' The standard error is the two-sample delete-a-group jackknife (Arvesen
#' 1969): each sample's rows, in their order, are cut into 10 groups of
#' nearly equal size (as many as rows when fewer); the distance is
#' recomputed without each group of `x` (all of `y` kept) and without each
#' group of `y`, and the variance is the sum over the two samples of
#' \eqn{(G - 1) / G \sum_g (d_{-g} - \bar d)^2}. It measures the spread of
#' the estimate, not its upward bias at a finite sample size (see
#' [wf_feature_floor()] for what two samples of one law score).
#'
#' @param x,y Numeric matrices with the same columns, one sample per row
#'   (at least two rows each, three with `se = TRUE`); with `features =
#'   "lenet"`, 28 x 28 images as [wf_features()] takes them.
#' @param features "none" (the columns as they are) or "lenet" (the 128
#'   features of [wf_features()]).
#' @param se `FALSE` for the distance alone, `TRUE` for it and its
#'   standard error.
#' @return A number >= 0 (the squared distance, like the FID), or with
#'   `se = TRUE` the named numbers `c(distance, se)`.
#' @references Dowson, D. C. and Landau, B. V. (1982). The Frechet distance
#'   between multivariate normal distributions. *Journal of Multivariate
#'   Analysis* 12, 450-455.
#'
#'   Heusel, M. et al. (2017). GANs trained by a two time-scale update rule
#'   converge to a local Nash equilibrium. NeurIPS (the FID).
#'
#'   Arvesen, J. N. (1969). Jackknifing U-statistics. *Annals of
#'   Mathematical Statistics* 40, 2076-2100.
#' @seealso [wf_kid()], [wf_features()], [wf_wasserstein()].
#' @export
#' @examples
#' x <- matrix(rnorm(2000), 1000, 2)
#' y <- matrix(rnorm(2000, mean = 1, sd = 2), 1000, 2)
#' wf_frechet(x, y) # about 2 * 1^2 + 2 * (2 - 1)^2 = 4
#' wf_frechet(x, y, se = TRUE)
wf_frechet <- function(x, y, features = "none", se = FALSE) {
  fx <- feature_sample(x, y, features, se)
  out <- frechet_estimate(fx$x, fx$y, se)
  if (se) out else out[["distance"]]
}

# Both samples validated (at least two rows, three for a standard error)
# and mapped to their features: list(x, y).
feature_sample <- function(x, y, features, se) {
  check_choice(features, c("none", "lenet"), "features")
  check_flag(se, "se")
  min_rows <- if (se) 3L else 2L
  x <- check_data(x, "x", min_rows = min_rows)
  y <- check_data(y, "y", cols = ncol(x), min_rows = min_rows)
  if (features == "lenet") {
    x <- wf_features(x)
    y <- wf_features(y)
  }
  attr(x, "image_shape") <- attr(y, "image_shape") <- NULL
  list(x = x, y = y)
}

# The Frechet distance between the Gaussian fits of two feature matrices
# fx [m x d] and fy [n x d] (validated), and its jackknife standard error
# when se is TRUE (else NA): c(distance, se).
frechet_estimate <- function(fx, fy, se = TRUE) {
  # values beyond 2^64 (whose squares and fourth powers, in the covariances
  # and their product, would overflow) are scaled by a power of two, which
  # is exact, and the distance scaled back; one that overflows is an error
  big <- max(abs(fx), abs(fy))
  if (big > 2^64) {
    k <- floor(log2(big))
    out <- frechet_estimate(fx * 2^-k, fy * 2^-k, se) * 4^k
    if (!all(is.finite(out) | is.na(out))) {
      arg <- if (max(abs(fx)) >= max(abs(fy))) "x" else "y"
      wf_abort(sprintf(paste0("The Frechet distance overflows double precision (`%s` has ",
                              "values up to %.3g); rescale `x` and `y`."), arg, big),
               class = c("wgflow_error_numeric", "wgflow_error_arg"), arg = arg)
    }
    return(out)
  }
  mx <- colMeans(fx)
  my <- colMeans(fy)
  sx <- stats::cov(fx)
  sy <- stats::cov(fy)
  root_x <- sym_sqrt(sx)
  d <- frechet_gauss(mx, sx, my, sy, root_x)
  if (!se || min(nrow(fx), nrow(fy)) < 3L) return(c(distance = d, se = NA_real_))
  # deleting a group: the mean and covariance of the rest from the groups'
  # sums and cross-products (of the sample centred on its mean)
  px <- group_moments(fx)
  py <- group_moments(fy)
  dx <- vapply(seq_along(px$n), function(g) {
    rest <- moments_without(px, g)
    frechet_gauss(mx + rest$mean, rest$cov, my, sy)
  }, double(1))
  dy <- vapply(seq_along(py$n), function(g) {
    rest <- moments_without(py, g)
    frechet_gauss(mx, sx, my + rest$mean, rest$cov, root_x)
  }, double(1))
  c(distance = d, se = sqrt(jackknife_var(dx) + jackknife_var(dy)))
}

# |m1 - m2|^2 + tr(s1 + s2 - 2 (s1^1/2 s2 s1^1/2)^1/2), the trace of the
# root as the sum of the square roots of the eigenvalues of the symmetric
# s1^1/2 s2 s1^1/2 (positive semi-definite; rounding below 0 taken as 0).
frechet_gauss <- function(m1, s1, m2, s2, root1 = sym_sqrt(s1)) {
  ev <- eigen(root1 %*% s2 %*% root1, symmetric = TRUE, only.values = TRUE)$values
  cross <- sum(sqrt(pmax(ev, 0)))
  max(0, sum((m1 - m2)^2) + sum(diag(s1)) + sum(diag(s2)) - 2 * cross)
}

# The symmetric square root of a covariance matrix (negative eigenvalues
# from rounding are taken as zero).
sym_sqrt <- function(s) {
  e <- eigen(s, symmetric = TRUE)
  e$vectors %*% (sqrt(pmax(e$values, 0)) * t(e$vectors))
}

# The groups of the jackknife: rows 1..n in order, cut into min(10, n)
# groups of nearly equal size; a group index per row.
jackknife_groups <- function(n, groups = 10L) {
  g <- min(as.integer(groups), n)
  as.integer(((seq_len(n) - 1L) * g) %/% n) + 1L
}

# (G - 1) / G sum_g (t_g - mean t)^2: the delete-a-group jackknife variance.
jackknife_var <- function(t) {
  g <- length(t)
  (g - 1) / g * sum((t - mean(t))^2)
}

# A sample x [n x d] centred on its mean, summed by jackknife group:
# row counts n [G], sums s [G x d], cross-products cp (a list of G d x d).
group_moments <- function(x) {
  xc <- sweep(x, 2L, colMeans(x))
  grp <- jackknife_groups(nrow(x))
  idx <- split(seq_len(nrow(x)), grp)
  list(n = lengths(idx, use.names = FALSE),
       s = matrix(vapply(idx, function(i) colSums(xc[i, , drop = FALSE]), double(ncol(x))),
                  ncol = ncol(x), byrow = TRUE),
       cp = lapply(idx, function(i) crossprod(xc[i, , drop = FALSE])),
       cp_all = crossprod(xc), n_all = nrow(x))
}

# The sample without group g: its mean (relative to the full sample's) and
# covariance (divisor n - 1).
moments_without <- function(p, g) {
  n <- p$n_all - p$n[g]
  s <- -p$s[g, ] # the full centred sum is 0
  mean <- s / n
  cp <- p$cp_all - p$cp[[g]]
  list(mean = mean, cov = (cp - n * tcrossprod(mean)) / (n - 1))
}
