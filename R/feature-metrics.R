# Distances between features of a Fashion-MNIST classifier (wf_features())
# in the evaluation of image fits: fd_lenet (Frechet distance) and
# kd_lenet (the KID estimator), each with its standard error, next to the
# exact W1 / W2 on the same samples, and their sampling floors; and the
# user-facing floor of both, wf_feature_floor().

# The eval metrics an image fit adds, in this order.
feature_metric_names <- c("fd_lenet", "kd_lenet")

feature_metric_titles <- c(
  fd_lenet = "Frechet distance of LeNet features (generated vs held out)",
  kd_lenet = "kernel distance (KID estimator) of LeNet features (generated vs held out)"
)

#' Sampling floor of the feature distances
#'
#' Two samples of `n` images from the *same* law are at a positive
#' Frechet distance (the estimate is biased upward, by about the trace of
#' the covariances' sampling error) and at a kernel distance of about 0
#' (the KID estimator is unbiased) give or take its sampling spread. A
#' model cannot be seen to do better at the same sample size.
#' `wf_feature_floor()` measures both on features ([wf_features()]): the
#' distances between two disjoint random subsets of `n` rows of `x` (or
#' between `n` rows of `y` and `n` rows of `x`), over `reps` random draws.
#' The training functions measure the same for the `fd_lenet` and
#' `kd_lenet` of their evaluation (held-out rows against as many training
#' rows) and report it in `$floor`.
#'
#' @param x Images as [wf_features()] takes them (or any numeric matrix
#'   with `features = "none"`).
#' @param y `NULL`, or a second sample (the held-out rows, say) compared
#'   with subsets of `x`.
#' @param n Rows per sample (at least 3); `NULL`: half the rows of `x`
#'   (without `y`), or the rows of `y` (at most those of `x`).
#' @param reps Random draws.
#' @param features "lenet" or "none", as in [wf_frechet()].
#' @param seed `NULL` (R's random stream) or a whole number (the stream is
#'   left as it was).
#' @return A tibble with one row per distance: `metric` ("fd_lenet" and
#'   "kd_lenet", or "fd" and "kd" with `features = "none"`), `n`, `floor`
#'   (the mean over the draws), `floor_sd` (their standard deviation) and
#'   `reps`.
#' @seealso [wf_frechet()], [wf_kid()], [wf_floor()] for the exact
#'   Wasserstein distances.
#' @export
#' @examples
#' x <- matrix(rnorm(4000), 1000, 4)
#' wf_feature_floor(x, n = 200, reps = 3, features = "none", seed = 1)
wf_feature_floor <- function(x, y = NULL, n = NULL, reps = 10L, features = "lenet",
                             seed = NULL) {
  check_choice(features, c("none", "lenet"), "features")
  x <- check_data(x, "x", min_rows = 2L)
  if (!is.null(y)) y <- check_data(y, "y", cols = ncol(x))
  max_n <- if (is.null(y)) nrow(x) %/% 2L else min(nrow(x), nrow(y))
  n <- if (is.null(n)) max_n else check_count(n, "n", min = 3L)
  if (n > max_n || n < 3L) {
    wf_abort(sprintf("`n` (%d) must be in [3, %d]: %s.", n, max_n,
                     if (is.null(y)) "two disjoint subsets of `x`" else "the rows of `x` and `y`"),
             class = "wgflow_error_arg", arg = "n")
  }
  reps <- check_count(reps, "reps", max = 1e5)
  if (!is.null(seed)) seed <- check_count(seed, "seed", min = 0L)
  feat <- function(v) {
    if (features == "lenet") return(wf_features(v))
    attr(v, "image_shape") <- attr(v, "wf_frame") <- NULL
    v
  }
  fx <- feat(x)
  fy <- if (!is.null(y)) feat(y)
  draw <- function() {
    lapply(seq_len(reps), function(r) {
      if (is.null(fy)) {
        rows <- sample.int(nrow(fx), 2L * n)
        list(a = rows[seq_len(n)], b = rows[n + seq_len(n)])
      } else {
        list(a = sample.int(nrow(fy), n), b = sample.int(nrow(fx), n))
      }
    })
  }
  draws <- if (is.null(seed)) draw() else with_rng_seed(seed, draw())
  vals <- vapply(draws, function(d) {
    a <- (if (is.null(fy)) fx else fy)[d$a, , drop = FALSE]
    feature_distances(a, fx[d$b, , drop = FALSE])
  }, double(2))
  names <- if (features == "lenet") feature_metric_names else c("fd", "kd")
  floor_rows(names, n, vals, reps)
}

# c(Frechet, kernel) distances of two feature matrices, no standard errors.
feature_distances <- function(fa, fb) {
  c(frechet_estimate(fa, fb, se = FALSE)[["distance"]],
    kid_estimate(fa, fb, se = FALSE)[["distance"]])
}

# The floor tibble of metrics `names` from vals [metric x draw].
floor_rows <- function(names, n, vals, reps) {
  vals <- matrix(vals, nrow = length(names))
  tibble::tibble(metric = names, n = as.integer(n), floor = rowMeans(vals),
                 floor_sd = if (reps > 1L) apply(vals, 1L, stats::sd) else NA_real_,
                 reps = as.integer(reps))
}

# ---- in the evaluation of fits -------------------------------------------------

# Whether a fit reports fd_lenet and kd_lenet: its algorithm evaluates
# generated samples against held-out rows (descriptor field
# feature_metrics) and its data are 28 x 28 one-channel images.
fit_has_feature_metrics <- function(fit) {
  algo <- fit_algorithm(fit)
  !is.null(algo) && isTRUE(algo$feature_metrics) &&
    identical(as.integer(fit$image_shape), c(1L, 28L, 28L))
}

# The image fit's feature distances of generated rows against `held` (the
# rows its evaluation compares with, on the fit's scale): NULL for other
# fits, else a function(y) giving list(values, se) of fd_lenet and
# kd_lenet, y on the fit's scale (the features are taken on the data's).
feature_evaluator <- function(fit, held) {
  if (!fit_has_feature_metrics(fit)) return(NULL)
  f_held <- wf_features(undo_scaling(held, fit$scaling))
  function(y) {
    fy <- wf_features(undo_scaling(y, fit$scaling))
    fd <- frechet_estimate(fy, f_held)
    kd <- kid_estimate(fy, f_held)
    list(values = list(fd_lenet = fd[["distance"]], kd_lenet = kd[["distance"]]),
         se = list(fd_lenet = fd[["se"]], kd_lenet = kd[["se"]]))
  }
}

# What an evaluation records for the feature distances of a generator
# whose output is not finite.
feature_na <- list(values = list(fd_lenet = NA_real_, kd_lenet = NA_real_),
                   se = list(fd_lenet = NA_real_, kd_lenet = NA_real_))

# An evaluation's result with the feature distances added (feat NULL: as
# it was).
with_feature_metrics <- function(ev, feat) {
  if (is.null(feat)) return(ev)
  ev$values <- c(ev$values, feat$values)
  ev$se <- c(ev$se, feat$se)
  ev
}

# The sampling floor of fd_lenet and kd_lenet: the distances between the
# features of the m held-out rows and of m training rows drawn at random
# (the draws of the W1/W2 floor: the same seed), reps times. NULL for a fit
# without them.
feature_floor <- function(fit, held, pool, m, reps, seed) {
  if (!fit_has_feature_metrics(fit) || m < 3L) return(NULL)
  draws <- with_rng_seed(seed, lapply(seq_len(reps), function(r) sample.int(nrow(pool), m)))
  f_held <- wf_features(undo_scaling(held, fit$scaling))
  vals <- vapply(draws, function(rows) {
    feature_distances(f_held, wf_features(undo_scaling(pool[rows, , drop = FALSE],
                                                       fit$scaling)))
  }, double(2))
  floor_rows(feature_metric_names, m, vals, reps)
}
