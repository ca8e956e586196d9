# A kernel distance between two samples: the unbiased estimate of the
# squared MMD with the cubic polynomial kernel (the KID estimator), with a
# jackknife standard error; on raw columns or on wf_features().

#' Kernel distance between two samples (the KID estimator)
#'
#' The unbiased estimate of the squared maximum mean discrepancy between
#' the laws of two samples, with the cubic polynomial kernel
#' \eqn{k(a, b) = (a \cdot b / d + 1)^3} of the Kernel Inception Distance
#' (Binkowski et al. 2018), `d` the number of columns:
#' \deqn{\frac{1}{m(m-1)} \sum_{i \ne j} k(x_i, x_j) +
#' \frac{1}{n(n-1)} \sum_{i \ne j} k(y_i, y_j) -
#' \frac{2}{mn} \sum_{i, j} k(x_i, y_j).}
#' Unlike the Frechet distance it is unbiased: two samples of one law score
#' 0 on average (single estimates can be negative). On Inception features
#' it is the KID; here it is taken on the raw columns (`features =
#' "none"`) or on the features of a Fashion-MNIST classifier (`features =
#' "lenet"`, [wf_features()]): what the training functions report as
#' `kd_lenet` for 28 x 28 images. It is computed on all rows at once, not
#' averaged over random subsets of 1000 as the KID's reference code does
#' (the same quantity, estimated with less variance); the kernel matrices
#' are formed a group of rows at a time.
#'
#' The standard error is the two-sample delete-a-group jackknife of
#' [wf_frechet()] (10 groups of rows per sample, in order), computed
#' exactly from the kernel sums of the groups.
#'
#' @inheritParams wf_frechet
#' @return A number (the estimate of the squared MMD), or with `se = TRUE`
#'   the named numbers `c(distance, se)`.
#' @references Binkowski, M., Sutherland, D. J., Arbel, M. and Gretton, A.
#'   (2018). Demystifying MMD GANs. ICLR.
#'
#'   Gretton, A. et al. (2012). A kernel two-sample test. *Journal of
#'   Machine Learning Research* 13, 723-773.
#' @seealso [wf_frechet()], [wf_features()], [wf_feature_floor()].
#' @export
#' @examples
#' x <- matrix(rnorm(1000), 500, 2)
#' wf_kid(x[1:250, ], x[251:500, ], se = TRUE)   # about 0
#' wf_kid(x, x + 1, se = TRUE)
wf_kid <- function(x, y, features = "none", se = FALSE) {
  fx <- feature_sample(x, y, features, se)
  out <- kid_estimate(fx$x, fx$y, se)
  if (se) out else out[["distance"]]
}

# The estimate on feature matrices fx [m x d] and fy [n x d] (validated),
# and its jackknife standard error when se is TRUE (else NA):
# c(distance, se).
kid_estimate <- function(fx, fy, se = TRUE) {
  d <- ncol(fx)
  gx <- jackknife_groups(nrow(fx))
  gy <- jackknife_groups(nrow(fy))
  # kernel sums between groups: sxx [Gx x Gx] and syy without the
  # diagonal k(x_i, x_i), sxy [Gx x Gy]
  sxx <- kernel_group_sums(fx, fx, gx, gx, d, self = TRUE)
  syy <- kernel_group_sums(fy, fy, gy, gy, d, self = TRUE)
  sxy <- kernel_group_sums(fx, fy, gx, gy, d, self = FALSE)
  m <- nrow(fx)
  n <- nrow(fy)
  mmd <- function(txx, tyy, txy, m, n) {
    txx / (m * (m - 1)) + tyy / (n * (n - 1)) - 2 * txy / (m * n)
  }
  txx <- sum(sxx)
  tyy <- sum(syy)
  txy <- sum(sxy)
  est <- mmd(txx, tyy, txy, m, n)
  if (!se || min(m, n) < 3L) return(c(distance = est, se = NA_real_))
  nx <- tabulate(gx)
  ny <- tabulate(gy)
  # without group g of x: its rows and columns of sxx go, its rows of sxy
  dx <- vapply(seq_along(nx), function(g) {
    mmd(txx - 2 * sum(sxx[g, ]) + sxx[g, g], tyy, txy - sum(sxy[g, ]), m - nx[g], n)
  }, double(1))
  dy <- vapply(seq_along(ny), function(g) {
    mmd(txx, tyy - 2 * sum(syy[g, ]) + syy[g, g], txy - sum(sxy[, g]), m, n - ny[g])
  }, double(1))
  c(distance = est, se = sqrt(jackknife_var(dx) + jackknife_var(dy)))
}

# Sums of k(a_i, b_j) = (a_i . b_j / d + 1)^3 over the rows of a in group
# g (ga) and of b in group h (gb): a [ga groups x gb groups] matrix; with
# self = TRUE (b is a) the terms i == j are left out. The kernel is formed
# one group of a's rows at a time.
kernel_group_sums <- function(a, b, ga, gb, d, self) {
  out <- matrix(0, max(ga), max(gb))
  for (g in seq_len(max(ga))) {
    rows <- which(ga == g)
    k <- (tcrossprod(a[rows, , drop = FALSE], b) / d + 1)^3 # [rows x nrow(b)]
    if (self) k[cbind(seq_along(rows), rows)] <- 0
    out[g, ] <- rowsum(colSums(k), gb, reorder = TRUE)[, 1]
  }
  out
}
