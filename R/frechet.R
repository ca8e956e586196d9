# The Frechet distance between Gaussian fits of two samples.

#' Frechet distance between Gaussian fits
#'
#' Fits a Gaussian (mean and covariance) to each sample and returns the
#' squared Frechet (W2) distance between the two fits,
#' \deqn{|\mu_x - \mu_y|^2 + \mathrm{tr}(\Sigma_x + \Sigma_y -
#' 2 (\Sigma_x^{1/2} \Sigma_y \Sigma_x^{1/2})^{1/2}).}
#' On Inception features this is the FID; wgflow has no Inception network,
#' so it is meant for raw coordinates (pixels of small images), where it
#' compares first and second moments only: a complement to the exact
#' [wf_wasserstein()] on a subsample, not a substitute for the FID.
#'
#' @param x,y Numeric matrices with the same columns, one sample per row
#'   (at least two rows each).
#' @return A number >= 0 (the squared distance, like the FID).
#' @seealso [wf_wasserstein()].
#' @export
#' @examples
#' x <- matrix(rnorm(2000), 1000, 2)
#' y <- matrix(rnorm(2000, mean = 1, sd = 2), 1000, 2)
#' wf_frechet(x, y) # about 2 * 1^2 + 2 * (2 - 1)^2 = 4
wf_frechet <- function(x, y) {
  x <- check_data(x, "x", min_rows = 2L)
  y <- check_data(y, "y", cols = ncol(x), min_rows = 2L)
  mx <- colMeans(x)
  my <- colMeans(y)
  sx <- stats::cov(x)
  sy <- stats::cov(y)
  # tr((Sx^1/2 Sy Sx^1/2)^1/2) = sum of the square roots of the eigenvalues
  # of Sx^1/2 Sy Sx^1/2 (symmetric, positive semi-definite)
  root_x <- sym_sqrt(sx)
  ev <- eigen(root_x %*% sy %*% root_x, symmetric = TRUE, only.values = TRUE)$values
  cross <- sum(sqrt(pmax(ev, 0)))
  max(0, sum((mx - my)^2) + sum(diag(sx)) + sum(diag(sy)) - 2 * cross)
}

# The symmetric square root of a covariance matrix (negative eigenvalues
# from rounding are taken as zero).
sym_sqrt <- function(s) {
  e <- eigen(s, symmetric = TRUE)
  e$vectors %*% (sqrt(pmax(e$values, 0)) * t(e$vectors))
}
