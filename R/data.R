# Two-dimensional toy data sets: the targets of the W1-FE / WGAN experiments
# (Malik & Huang; Gulrajani et al.'s toy set) and the source/target pairs of
# the W2GAN map experiments (Leygonie et al., ALGORITHMS.md section 2).

toy_names <- c("8gaussians", "25gaussians", "swissroll", "rings",
               "4gaussians", "checkerboard", "2spirals")
toy_pair_names <- c("4gaussians", "checkerboard", "2spirals")

#' Two-dimensional toy distributions
#'
#' Draws `n` samples from one of the standard 2-D benchmark distributions of
#' Wasserstein GANs and Wasserstein gradient flows. The mixtures of the W1-FE
#' experiments ("8gaussians", "25gaussians", "rings") pick each sample's
#' component independently and with equal probability; those of the W2GAN
#' experiments ("4gaussians", "checkerboard") assign the components
#' round-robin (equal counts, as the W2GAN public code does), in random order.
#'
#' \describe{
#'   \item{`"8gaussians"`}{The mixture of Metz et al. used by Malik & Huang
#'     and the WGAN-GP toy experiments: centres `2 * (cos(k pi/4), sin(k pi/4))`,
#'     `k = 0, ..., 7`, each point `(centre + 0.02 * N(0, I)) / 1.414`. So the
#'     centres lie on the circle of radius `2 / 1.414` (about 1.414) and the
#'     standard deviation is `0.02 / 1.414`.}
#'   \item{`"25gaussians"`}{The WGAN-GP grid: centres `2 * (i, j)` for
#'     integers `i, j` from -2 to 2, each point
#'     `(centre + 0.05 * N(0, I)) / 2.828`. So the 25 centres form a square
#'     grid of spacing `2 / 2.828` (about 0.707) spanning about `[-1.414, 1.414]`
#'     in each coordinate, and the standard deviation is `0.05 / 2.828`.}
#'   \item{`"swissroll"`}{The 2-D swiss roll of WGAN-GP (scikit-learn's
#'     `make_swiss_roll(noise = 0.25)`, coordinates x and z, divided by 7.5):
#'     `t = 1.5 pi (1 + 2 U)`, `U ~ U(0, 1)`, point
#'     `((t cos t, t sin t) + 0.25 * N(0, I)) / 7.5`.}
#'   \item{`"rings"`}{Four concentric circles of radii 0.5, 1, 1.5 and 2, each
#'     with probability 1/4: for radius `rho` and an angle `a` uniform on
#'     `[0, 2 pi)`, the point is `rho * (cos a, sin a) + 0.05 * N(0, I)`.}
#'   \item{`"4gaussians"`}{The W2GAN target: centres `(+-1, +-1) / sqrt(2)`
#'     (that is `(+-0.707, +-0.707)`), standard deviation 0.1, equal counts.}
#'   \item{`"checkerboard"`}{The W2GAN target: uniform distributions on the
#'     five squares of side 0.5 centred at `(+-c, +-c)` and `(0, 0)`,
#'     `c = 1.5 / sqrt(2)` (about 1.06), equal counts.}
#'   \item{`"2spirals"`}{The W2GAN target spiral (the public code's
#'     `swissroll` target): `theta = theta0 + sqrt(U) * 570 degrees` with
#'     `theta0 = 0.001` degrees, point
#'     `0.15 * (theta cos theta, -theta sin theta) + (V1, V2)`, `U, V1, V2`
#'     independent, `U ~ U(0, 1)`, `V ~ U(0, 0.1)` (the noise of the
#'     public W2GAN code: uniform and not centred). The source spiral of
#'     [wf_toy_pair()] is its curve rotated by 180 degrees.}
#' }
#'
#' @param name Name of the distribution: one of "8gaussians", "25gaussians",
#'   "swissroll", "rings", "4gaussians", "checkerboard", "2spirals".
#' @param n Number of samples, a whole number >= 1.
#' @param seed `NULL` to draw from R's random number generator (so
#'   [set.seed()] makes the draw reproducible), or a whole number: the draw
#'   then depends only on `seed` (and [RNGkind()]) and R's global random
#'   stream is left exactly as it was.
#' @return A numeric matrix with `n` rows and columns `x` and `y`.
#' @seealso [wf_toy_pair()] for the source/target pairs of the W2GAN map
#'   experiments.
#' @export
#' @examples
#' x <- wf_toy("8gaussians", n = 2000, seed = 1)
#' dim(x)
#' plot(x, pch = ".", asp = 1)
#' plot(wf_toy("2spirals", n = 2000, seed = 1), pch = ".", asp = 1)
wf_toy <- function(name, n = 10000, seed = NULL) {
  check_choice(name, toy_names, "name")
  n <- check_count(n, "n")
  seed <- check_seed(seed)
  x <- with_rng_seed(seed, toy_sample(name, n, "target"))
  attr(x, "component") <- NULL
  x
}

#' Source and target samples for 2-D transport-map experiments
#'
#' Draws independent samples from the source and target distributions of the
#' three 2-D experiments of the W2GAN paper (Leygonie et al., section 6.1),
#' in which a map from the source `P_z` to the target `P_x` is learned, in
#' the directions of the public W2GAN code. Each target is the distribution
#' [wf_toy()] draws under the same name. Mixture components are assigned
#' round-robin (equal counts: every component has `n / k` rows, the first
#' `n %% k` one more), in random order; `labels = TRUE` returns each row's
#' component, which [w2gan()] and [w2fe()] take (`data_labels`,
#' `source_labels`) to draw balanced batches and a balanced evaluation
#' sample, as the public code does.
#'
#' \describe{
#'   \item{`"4gaussians"`}{Four Gaussians with standard deviation 0.1 and
#'     equal weights, centred at `(+-1, +-1) / sqrt(2) * s`: `s = 2` for the
#'     source, `s = 1` for the target ("the mixture centres of `P_x` are
#'     closer to each other than those of `P_z`"). The identity map is then
#'     about 1.0 away from the Monge map.}
#'   \item{`"checkerboard"`}{Uniform distributions on squares of side 0.5 with
#'     equal weights. Source: four squares centred at `(0, +-c)` and
#'     `(+-c, 0)`; target: five squares centred at `(+-c, +-c)` and `(0, 0)`,
#'     `c = 1.5 / sqrt(2)` (about 1.06) ("of size 4 and 5 respectively").
#'     Together they form a checkerboard.}
#'   \item{`"2spirals"`}{`theta = theta0 + sqrt(U) * 570 degrees`,
#'     `theta0 = 0.001` degrees. Target `0.15 * (theta cos theta,
#'     -theta sin theta) + V`; source `0.15 * (-theta cos theta,
#'     theta sin theta) + V` (the target curve rotated by 180 degrees), with
#'     noise `V` uniform on `[0, 0.1]^2` in both: the public code's
#'     `swissroll` pair (its target the non-alternate spiral). One component
#'     (every label 1).}
#' }
#'
#' @inheritParams wf_toy
#' @param name One of "4gaussians", "checkerboard", "2spirals".
#' @param n Number of samples in each of source and target, a whole
#'   number >= 1.
#' @param labels `TRUE` to return the mixture component of every row as
#'   well (`source_labels`, `target_labels`). The draws are the same either
#'   way.
#' @return A list with `source` and `target`, each a numeric matrix with `n`
#'   rows and columns `x` and `y`, and with `labels = TRUE` `source_labels`
#'   and `target_labels`, integer vectors of the rows' components, numbered
#'   in the public code's order of the centres: 4gaussians `(1, 1)`,
#'   `(1, -1)`, `(-1, 1)`, `(-1, -1)` (times `s / sqrt(2)`); checkerboard
#'   source `(0, c)`, `(0, -c)`, `(c, 0)`, `(-c, 0)`, target `(c, c)`,
#'   `(-c, -c)`, `(c, -c)`, `(-c, c)`, `(0, 0)`; 2spirals 1 throughout.
#'   Row `i` of `source` and row `i` of `target` are independent of each
#'   other.
#' @seealso [wf_toy()], [w2gan()] (its `batches`, `data_labels` and
#'   `source_labels`).
#' @export
#' @examples
#' p <- wf_toy_pair("checkerboard", n = 1000, seed = 1)
#' plot(p$source, pch = ".", col = "magenta", asp = 1,
#'      xlim = c(-1.5, 1.5), ylim = c(-1.5, 1.5))
#' points(p$target, pch = ".", col = "darkgreen")
#' q <- wf_toy_pair("checkerboard", n = 1000, seed = 1, labels = TRUE)
#' table(q$source_labels)
#' table(q$target_labels)
wf_toy_pair <- function(name, n = 10000, seed = NULL, labels = FALSE) {
  check_choice(name, toy_pair_names, "name")
  n <- check_count(n, "n")
  seed <- check_seed(seed)
  labels <- check_flag(labels, "labels")
  out <- with_rng_seed(seed, list(source = toy_sample(name, n, "source"),
                                  target = toy_sample(name, n, "target")))
  if (labels) {
    out$source_labels <- attr(out$source, "component")
    out$target_labels <- attr(out$target, "component")
  }
  attr(out$source, "component") <- NULL
  attr(out$target, "component") <- NULL
  out
}

# ---- internals -------------------------------------------------------------

check_seed <- function(seed) {
  if (is.null(seed)) return(NULL)
  ok <- is.numeric(seed) && length(seed) == 1L && !is.na(seed) &&
    is.finite(seed) && seed == round(seed) && abs(seed) <= .Machine$integer.max
  if (!ok) arg_error("seed", "NULL or a whole number", seed)
  as.integer(seed)
}

toy_matrix <- function(x, y) {
  out <- cbind(as.double(x), as.double(y))
  colnames(out) <- c("x", "y")
  out
}

# Equal-weight mixture: n points, each centre[k, ] + the k-th row of noise.
# Components drawn independently, or round-robin (equal counts, the W2GAN
# code's way) in random order. The components are attribute "component".
mixture <- function(centres, n, noise, round_robin = FALSE) {
  k <- if (round_robin) {
    sample(rep_len(seq_len(nrow(centres)), n))
  } else {
    sample.int(nrow(centres), n, replace = TRUE)
  }
  out <- noise(n) + centres[k, , drop = FALSE]
  attr(out, "component") <- k
  out
}

gauss_noise <- function(sd) {
  function(n) matrix(stats::rnorm(2 * n, sd = sd), n, 2)
}

square_noise <- function(side) {
  function(n) matrix((stats::runif(2 * n) - 0.5) * side, n, 2)
}

checker_c <- 1.5 / sqrt(2)

toy_sample <- function(name, n, side) {
  xy <- switch(
    name,
    "8gaussians" = {
      a <- (0:7) * pi / 4
      mixture(2 * cbind(cos(a), sin(a)), n, gauss_noise(0.02)) / 1.414
    },
    "25gaussians" = {
      g <- as.matrix(expand.grid(-2:2, -2:2))
      mixture(2 * g, n, gauss_noise(0.05)) / 2.828
    },
    "swissroll" = {
      t <- 1.5 * pi * (1 + 2 * stats::runif(n))
      (cbind(t * cos(t), t * sin(t)) + gauss_noise(0.25)(n)) / 7.5
    },
    "rings" = {
      r <- c(0.5, 1, 1.5, 2)[sample.int(4L, n, replace = TRUE)]
      a <- stats::runif(n, 0, 2 * pi)
      cbind(r * cos(a), r * sin(a)) + gauss_noise(0.05)(n)
    },
    "4gaussians" = {
      s <- if (side == "source") 2 else 1
      centres <- s / sqrt(2) * cbind(c(1, 1, -1, -1), c(1, -1, 1, -1))
      mixture(centres, n, gauss_noise(0.1), round_robin = TRUE)
    },
    "checkerboard" = {
      cc <- checker_c
      centres <- if (side == "source") {
        cbind(c(0, 0, cc, -cc), c(cc, -cc, 0, 0))
      } else {
        cbind(c(cc, -cc, cc, -cc, 0), c(cc, -cc, -cc, cc, 0))
      }
      mixture(centres, n, square_noise(0.5), round_robin = TRUE)
    },
    "2spirals" = {
      # the public code's swissroll pair: the target is the spiral
      # 0.15 (theta cos theta, -theta sin theta), the source its rotation
      # by 180 degrees, each plus noise uniform on [0, 0.1)^2
      deg <- pi / 180
      theta <- 0.001 * deg + sqrt(stats::runif(n)) * 570 * deg
      sgn <- if (side == "source") -1 else 1
      curve <- 0.15 * sgn * cbind(theta * cos(theta), -theta * sin(theta))
      out <- curve + matrix(stats::runif(2 * n, 0, 0.1), n, 2)
      attr(out, "component") <- rep(1L, n)
      out
    }
  )
  out <- toy_matrix(xy[, 1], xy[, 2])
  attr(out, "component") <- attr(xy, "component")
  out
}
