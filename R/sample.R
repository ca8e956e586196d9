# Drawing from a trained generator, and the other things stats' generics
# ask of a fit: predict(), simulate(), coef(), nobs(), and the classed
# errors of fitted() and residuals().

#' Samples from a fitted generator
#'
#' `wf_sample()` draws `n` new samples `G(z)`, `z ~ N(0, I)`, with the
#' generator in evaluation mode. The latents come from their own stream
#' keyed by `seed`, so the same seed gives the same samples, also after
#' `saveRDS()`/`readRDS()`, and sampling never disturbs training. A map fit
#' (one given a `source`, e.g. of [w2gan()]) has no latent law: its model is
#' the generator's image of the source, so its samples are `G(x)` for `n`
#' training source rows `x` drawn with replacement (by `seed`); map other
#' source points with `predict(fit, newdata = x)`.
#'
#' Samples are in the data's units (a fit made with `scale = TRUE` trains
#' on centred and scaled columns; its samples are scaled back) and in the
#' data's type: a matrix for a matrix, a data frame (or tibble) with the
#' data's column names for a data frame (or tibble). Samples that are not
#' finite (a fit that diverged) come with a warning, never silently.
#'
#' `predict()` says what to compute with `type`:
#' * "samples": `n` new samples, as `wf_sample()` (`newdata` must be `NULL`);
#' * "generator": the generator's map `G(z)` of given latents `newdata`
#'   (`latent_dim` columns), in data units;
#' * the name of any other network of the fit, e.g. "critic": its values at
#'   the data points `newdata` (in data units; scaled as the training data
#'   were), one column per output named after the network ("critic"; or
#'   "critic1", "critic2", ... for several outputs), a data frame (or
#'   tibble) when the fit's data was one: for W1-FE the critic (Kantorovich
#'   potential) `phi(x)`.
#'
#' `simulate()` draws `nsim` samples of `n` rows (by default as many as the
#' training rows). It departs from [stats::simulate()]'s convention of one
#' data frame with a column per simulation, because each sample here has
#' several columns: it returns a list of `nsim` samples named `sim_1`,
#' `sim_2`, ..., each as `wf_sample()` gives it (a data frame for data-frame
#' data, else a matrix). Its attribute "seed" follows the convention: with
#' `seed = NULL`, the value of `.Random.seed` before the draws (assigning it
#' back to `.Random.seed` repeats them); with a seed, that seed with the
#' attribute "kind", `as.list(RNGkind())`. Simulation `i` is
#' `wf_sample(fit, n, seed = seed + i - 1)`.
#'
#' `coef()` gives the parameters of every network of the fit, by role.
#' `nobs()` is the number of training rows of the data (held-out rows, and
#' a map fit's source, not counted). `fitted()` and `residuals()` are
#' errors of class `wgflow_error_unsupported`: a generative model has no
#' fitted values or residuals for the rows of its data; draw samples with
#' `wf_sample()` and compare them with the data through the fit's metrics
#' (`tidy(fit)`) or [wf_wasserstein()].
#'
#' @param fit,object A fit with a generator, from [w1fe()], [wgan()] or
#'   another wgflow trainer.
#' @param n Number of samples.
#' @param seed `NULL` (from R's RNG) or a whole number.
#' @param newdata Latents (for "generator") or data points (for a critic or
#'   potential), a numeric matrix or data frame.
#' @param type "samples", "generator", or the name of another network of
#'   the fit (e.g. "critic"). For a map fit (one given a `source`, e.g. of
#'   [w2gan()]), `newdata` with the default type are source points, mapped
#'   by the generator.
#' @param nsim Number of samples to draw.
#' @param ... Unused.
#' @return `wf_sample()`, `predict()`: a matrix or data frame (the type of
#'   the fit's data), one row per sample or per row of `newdata` (samples of
#'   image data carry the data's `"image_shape"` attribute). `simulate()`: a
#'   list of `nsim` such samples, with the attribute "seed" (see Details).
#'   `coef()`: a named list of numeric vectors. `nobs()`: an integer.
#' @export
#' @examples
#' x <- wf_toy("8gaussians", n = 2000, seed = 1)
#' fit <- w1fe(x, epochs = 3, batch_size = 128, critic = wf_mlp(16),
#'             generator = wf_mlp(16), eval_n = 100, seed = 1, verbose = FALSE)
#' head(wf_sample(fit, 5, seed = 1))
#' predict(fit, newdata = matrix(0, 2, 2), type = "generator")
#' predict(fit, newdata = x[1:3, ], type = "critic")
#' lengths(coef(fit))
#' sims <- simulate(fit, nsim = 2, seed = 1, n = 10)
#' names(sims)
#' nobs(fit)
wf_sample <- function(fit, n = 1000L, seed = NULL) {
  check_fit(fit, need = "generator")
  check_fit_generator(fit)
  n <- check_count(n, "n", max = 2^28)
  if (!is.null(seed)) seed <- check_count(seed, "seed", min = 0L)
  out <- if (is.matrix(fit$source)) {
    # a map fit has no latent law: its model is the generator's image of the
    # source, so its samples map resampled source rows
    draw <- function() sample.int(nrow(fit$source), n, replace = TRUE)
    rows <- if (is.null(seed)) draw() else with_rng_seed(seed, draw())
    .Call(ffi_forward, net_ptr(fit$generator, "fit"), fit$source[rows, , drop = FALSE], FALSE)
  } else {
    key <- if (is.null(seed)) floor(stats::runif(2) * 4294967296) else stream_key(seed, 4L)
    .Call(ffi_generate, net_ptr(fit$generator, "fit"), n, key)
  }
  as_data_type(warn_nonfinite(undo_scaling(out, fit$scaling), fit), fit)
}

#' @rdname wf_sample
#' @export
predict.wf_fit <- function(object, newdata = NULL, type = "samples", n = 1000L,
                           seed = NULL, ...) {
  check_fit(object, "object")
  check_fit_generator(object, "object")
  algo <- fit_algorithm(object)
  spaces <- algo$net_spaces
  roles <- intersect(names(spaces), names(fit_nets(object)))
  check_choice(type, c("samples", roles), "type")
  # a map fit's generator takes source points: mapping them is its prediction
  if (type == "samples" && !is.null(newdata) && !is.null(object$source)) type <- "generator"
  if (type == "samples") {
    if (!is.null(newdata)) {
      wf_abort(paste0("`newdata` is not used by `type = \"samples\"`: for n new samples ",
                      "use `predict(fit, n = ", if (is.numeric(newdata) &&
                        length(newdata) == 1L) newdata else 5, ")`; use ",
                      "`type = \"generator\"` to map latents, or a network's name ",
                      "(e.g. \"critic\") for its values at data points."),
               class = "wgflow_error_arg", arg = "newdata")
    }
    return(wf_sample(object, n, seed))
  }
  if (is.null(newdata)) {
    wf_abort(sprintf("`type = \"%s\"` needs `newdata`.", type),
             class = "wgflow_error_arg", arg = "newdata")
  }
  net <- object[[type]]
  io <- spaces[[type]]
  x <- check_data(newdata, "newdata", cols = net$input_dim)
  attr(x, "wf_frame") <- NULL
  if (io[1] == "data") x <- apply_scaling(x, object$scaling)
  out <- wf_forward(net, x)
  if (io[2] == "data") {
    return(as_data_type(warn_nonfinite(undo_scaling(out, object$scaling), object), object))
  }
  # values: a column named after the network (critic1, critic2, ... for
  # several outputs), in the data's type like every other prediction
  colnames(out) <- if (ncol(out) == 1L) type else paste0(type, seq_len(ncol(out)))
  as_frame_type(warn_nonfinite(out, object), object)
}

#' @rdname wf_sample
#' @importFrom stats simulate
#' @export
simulate.wf_fit <- function(object, nsim = 1, seed = NULL, n = NULL, ...) {
  check_fit(object, "object", need = "generator")
  check_fit_generator(object, "object")
  nsim <- check_count(nsim, "nsim", max = 1e6)
  n <- if (is.null(n)) nrow(object$data) %||% 1000L else check_count(n, "n", max = 2^28)
  if (!is.null(seed)) seed <- check_count(seed, "seed", min = 0L)
  # stats::simulate()'s attribute "seed": the seed with the RNG kind, or
  # the RNG state the draws start from (restoring it repeats them)
  state <- if (is.null(seed)) {
    if (!exists(".Random.seed", envir = globalenv(), inherits = FALSE)) stats::runif(1)
    get(".Random.seed", envir = globalenv(), inherits = FALSE)
  } else {
    structure(seed, kind = as.list(RNGkind()))
  }
  out <- lapply(seq_len(nsim), function(i) {
    wf_sample(object, n, seed = if (is.null(seed)) NULL else
      (seed + i - 1) %% .Machine$integer.max)
  })
  names(out) <- paste0("sim_", seq_len(nsim))
  attr(out, "seed") <- state
  out
}

#' @rdname wf_sample
#' @importFrom stats coef
#' @export
coef.wf_fit <- function(object, ...) {
  check_fit(object, "object")
  lapply(fit_nets(object), function(net) plain_values(net$params))
}

#' @rdname wf_sample
#' @importFrom stats fitted
#' @export
fitted.wf_fit <- function(object, ...) {
  wf_abort(paste0("A generative model has no fitted values for its data: draw samples ",
                  "with wf_sample() or simulate(), or map latents with ",
                  "predict(type = \"generator\")."),
           class = "wgflow_error_unsupported", arg = "object")
}

#' @rdname wf_sample
#' @importFrom stats residuals
#' @export
residuals.wf_fit <- function(object, ...) {
  wf_abort(paste0("A generative model has no residuals: it models the data's law, not ",
                  "each row. Compare its samples with the data instead: the fit's ",
                  "metrics (tidy(fit), fit$metrics) or wf_wasserstein(wf_sample(fit, n), ",
                  "data)."),
           class = "wgflow_error_unsupported", arg = "object")
}

#' @rdname wf_sample
#' @importFrom stats nobs
#' @export
nobs.wf_fit <- function(object, ...) {
  check_fit(object, "object")
  if (is.null(object$data)) NA_integer_ else nrow(object$data)
}

# Non-finite output of a fit's network is returned with a warning.
warn_nonfinite <- function(out, fit) {
  bad <- sum(!is.finite(out))
  if (bad > 0L) {
    diverged <- identical(fit$status, "diverged")
    wf_warn(sprintf("%d of %d values are not finite%s.", bad, length(out),
                    if (diverged) sprintf(" (the fit diverged: %s)", fit$message %||% "")
                    else ""), class = "wgflow_warning_nonfinite")
  }
  out
}

# A matrix of samples in the type of the fit's data: its column names, its
# image shape, and a data frame or tibble when the data was one.
as_data_type <- function(x, fit) {
  colnames(x) <- fit$colnames
  if (!is.null(fit$image_shape)) attr(x, "image_shape") <- fit$image_shape
  as_frame_type(x, fit)
}

# A matrix as a data frame or tibble when the fit's data was one (columns
# V1, V2, ... where it has no names), else as it is.
as_frame_type <- function(x, fit) {
  frame <- fit$input_class
  if (is.null(frame)) return(x)
  if (is.null(colnames(x))) colnames(x) <- paste0("V", seq_len(ncol(x)))
  df <- as.data.frame(x)
  if ("tbl_df" %in% frame) tibble::as_tibble(df) else df
}
