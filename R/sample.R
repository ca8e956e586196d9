# Drawing from a trained generator.

#' Samples from a fitted generator
#'
#' `wf_sample()` draws `n` new samples `G(z)`, `z ~ N(0, I)`, with the
#' generator in evaluation mode. The latents come from their own stream
#' keyed by `seed`, so the same seed gives the same samples, also after
#' `saveRDS()`/`readRDS()`, and sampling never disturbs training.
#' `predict()` does the same, or maps given latents `newdata`.
#'
#' @param fit,object A fit with a generator, from [w1fe()], [wgan()] or
#'   another wgflow trainer.
#' @param n Number of samples.
#' @param seed `NULL` (from R's RNG) or a whole number.
#' @param newdata Optional matrix of latent vectors (`latent_dim` columns).
#' @param ... Unused.
#' @return A numeric matrix, one sample per row, with the data's column
#'   names.
#' @export
#' @examples
#' x <- wf_toy("8gaussians", n = 2000, seed = 1)
#' fit <- w1fe(x, epochs = 3, batch_size = 128, critic = wf_mlp(16),
#'             generator = wf_mlp(16), eval_n = 100, seed = 1, verbose = FALSE)
#' head(wf_sample(fit, 5, seed = 1))
#' predict(fit, newdata = matrix(0, 2, 2))
wf_sample <- function(fit, n = 1000L, seed = NULL) {
  check_fit(fit)
  n <- check_count(n, "n", max = 2^28)
  key <- if (is.null(seed)) floor(stats::runif(2) * 4294967296) else
    stream_key(check_count(seed, "seed", min = 0L), 4L)
  out <- .Call(ffi_generate, net_ptr(fit$generator), n, key)
  colnames(out) <- fit$colnames
  out
}

#' @rdname wf_sample
#' @export
predict.wf_fit <- function(object, newdata = NULL, n = 1000L, seed = NULL, ...) {
  if (is.null(newdata)) return(wf_sample(object, n, seed))
  out <- wf_forward(object$generator, check_data(newdata, "newdata",
                                                 cols = object$generator$input_dim))
  colnames(out) <- object$colnames
  out
}

check_fit <- function(fit, arg = "fit") {
  if (!inherits(fit, "wf_fit")) arg_error(arg, "a wgflow fit", fit)
  fit
}
