# The sampling floor of an exact-distance evaluation (wf_floor()).

# ---- the sampling floor ------------------------------------------------------------

#' The sampling floor of an exact Wasserstein distance
#'
#' Two samples of `n` points from the *same* law are at a positive exact
#' distance: the empirical distance is biased upward, and the bias shrinks
#' slowly with `n` (like `n^(-1/d)` in `d >= 3` dimensions). A model cannot
#' be seen to do better than this floor at the same evaluation size.
#' `wf_floor()` measures it: the exact \eqn{W_p} between two disjoint random
#' subsets of `n` rows of `x` (or between `n` rows of `y` and `n` rows of
#' `x`), over `reps` random draws. The training functions measure the same
#' for their evaluation (held-out rows against as many training rows) and
#' report it as `$floor`.
#'
#' @param x A numeric matrix or data frame, one sample per row.
#' @param y `NULL`, or a second sample (the held-out rows, say) compared
#'   with subsets of `x`.
#' @param n Rows per sample; `NULL`: half the rows of `x` (without `y`), or
#'   the rows of `y` (at most those of `x`).
#' @param p Orders of the distance (e.g. `c(1, 2)`).
#' @param reps Random draws.
#' @param seed `NULL` (R's random stream) or a whole number (the stream is
#'   left as it was).
#' @return A tibble with one row per `p`: `p`, `n`, `floor` (the mean
#'   distance over the draws), `floor_sd` (their standard deviation: the
#'   spread of one evaluation at the floor) and `reps`.
#' @seealso [wf_wasserstein()].
#' @export
#' @examples
#' x <- wf_toy("8gaussians", n = 2000, seed = 1)
#' wf_floor(x, n = 500, p = c(1, 2), reps = 3, seed = 1)
wf_floor <- function(x, y = NULL, n = NULL, p = 1, reps = 10L, seed = NULL) {
  x <- check_data(x, "x", min_rows = 2L)
  attr(x, "wf_frame") <- NULL
  if (!is.null(y)) {
    y <- check_data(y, "y", cols = ncol(x))
    attr(y, "wf_frame") <- NULL
  }
  max_n <- if (is.null(y)) nrow(x) %/% 2L else min(nrow(x), nrow(y))
  n <- if (is.null(n)) max_n else check_count(n, "n", min = 2L)
  if (n > max_n) {
    wf_abort(sprintf("`n` (%d) must be at most %d: %s.", n, max_n,
                     if (is.null(y)) "two disjoint subsets of `x`" else "the rows of `x` and `y`"),
             class = "wgflow_error_arg", arg = "n")
  }
  if (!is.numeric(p) || length(p) == 0L || anyNA(p) || any(!is.finite(p)) || any(p < 1)) {
    arg_error("p", "orders >= 1", p)
  }
  reps <- check_count(reps, "reps", max = 1e5)
  if (!is.null(seed)) seed <- check_count(seed, "seed", min = 0L)
  ps <- stats::setNames(as.double(p), paste0("w", p))
  draw <- function() {
    lapply(seq_len(reps), function(r) {
      if (is.null(y)) {
        rows <- sample.int(nrow(x), 2L * n)
        list(a = x[rows[seq_len(n)], , drop = FALSE], b = x[rows[n + seq_len(n)], , drop = FALSE])
      } else {
        list(a = y[sample.int(nrow(y), n), , drop = FALSE],
             b = x[sample.int(nrow(x), n), , drop = FALSE])
      }
    })
  }
  samples <- if (is.null(seed)) draw() else with_rng_seed(seed, draw())
  vals <- matrix(vapply(samples, function(s) {
    vapply(ps, function(pp) ot_distance(s$a, s$b, pp), double(1))
  }, double(length(ps))), nrow = length(ps))
  tibble::tibble(p = as.double(p), n = as.integer(n), floor = rowMeans(vals),
                 floor_sd = if (reps > 1L) apply(vals, 1L, stats::sd) else NA_real_,
                 reps = as.integer(reps))
}
