# tidy() and glance() methods for fits (generics from the generics package).

# ---- tidy and glance -------------------------------------------------------

#' Tidy a fit's metrics
#'
#' `tidy()` gives a fit's per-epoch metrics in long form, one row per epoch
#' and metric, without the missing values (the exact distances are recorded
#' only every `eval_every` epochs). `glance()` gives one row per fit: its
#' settings, training time, final and best exact distances, and status.
#'
#' @param x A fit from [w1fe()], [wgan()] or another wgflow trainer.
#' @param ... Unused.
#' @return `tidy()`: a tibble with columns `epoch`, `seconds` (cumulative
#'   training time), `metric` and `value`. `glance()`: a one-row tibble with
#'   `algorithm`, `label` (e.g. "W1-FE-LP (K = 3)"), the settings that tell
#'   runs of the algorithm apart (for W1-FE: `penalty`, `persistency`,
#'   `persistency_mode`, `step_size`, `batch_size`, `critic_steps`,
#'   `lambda`), `epochs` (done), `seconds`, the exact distances the
#'   algorithm evaluates (for W1-FE and WGAN: `w1`, the last exact W1,
#'   `best_w1`, `best_epoch`, the epoch of `best_w1`, and `w2`, the last
#'   exact W2), `status`, `device` and `seed`.
#' @seealso [autoplot.wf_fit()] to plot the metrics.
#' @name tidy.wf_fit
#' @examples
#' x <- wf_toy("8gaussians", n = 2000, seed = 1)
#' fit <- w1fe(x, epochs = 5, batch_size = 128, critic = wf_mlp(c(32, 32)),
#'             generator = wf_mlp(c(32, 32)), eval_n = 200, eval_every = 1,
#'             seed = 1, verbose = FALSE)
#' tidy(fit)
#' glance(fit)
NULL

#' @rdname tidy.wf_fit
#' @importFrom generics tidy
#' @method tidy wf_fit
#' @export
tidy.wf_fit <- function(x, ...) {
  m <- fit_metrics(x)
  cols <- metric_columns(m)
  n <- nrow(m)
  if (n == 0 || length(cols) == 0) {
    return(tibble::tibble(epoch = integer(), seconds = double(),
                          metric = character(), value = double()))
  }
  vals <- as.matrix(as.data.frame(m)[cols])
  out <- tibble::tibble(
    epoch = rep(m$epoch, each = length(cols)),
    seconds = rep(as.double(m$seconds), each = length(cols)),
    metric = rep(cols, times = n),
    value = as.vector(t(vals))
  )
  out[!is.na(out$value), , drop = FALSE]
}

#' @rdname tidy.wf_fit
#' @importFrom generics glance
#' @method glance wf_fit
#' @export
glance.wf_fit <- function(x, ...) {
  m <- fit_metrics(x)
  s <- x$settings
  # the algorithm's exact distances: the last of each, and the best of the
  # first with its epoch (for W1-FE: w1, best_w1, best_epoch, w2)
  evals <- fit_eval_metrics(x)
  values <- lapply(stats::setNames(evals, evals), function(e) {
    if (e %in% names(m)) m[[e]] else rep(NA_real_, nrow(m))
  })
  best <- best_index(values[[1]])
  distances <- c(
    stats::setNames(list(last_value(values[[1]]),
                         if (is.na(best)) NA_real_ else as.double(values[[1]][best]),
                         if (is.na(best)) NA_integer_ else as.integer(m$epoch[best])),
                    c(evals[1], paste0("best_", evals[1]), "best_epoch")),
    lapply(values[-1], last_value))
  keys <- fit_algorithm(x)$setting_keys
  settings <- lapply(stats::setNames(keys, keys), function(k) {
    v <- s[[k]]
    if (is.atomic(v) && length(v) == 1L) v else NA
  })
  tibble::as_tibble(c(
    list(algorithm = x$algorithm %||% NA_character_, label = fit_label(x)),
    settings,
    list(epochs = epochs_done(x), seconds = training_seconds(x)),
    distances,
    list(status = x$status %||% NA_character_, device = s$device %||% NA_character_,
         seed = as.double(s$seed %||% NA_real_))
  ))
}
