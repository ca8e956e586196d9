# The shapes of a fit's generator against the fit: what sampling needs
# beyond check_fit() (fit.R), which checks each net on its own. A generator
# swapped for a net of other widths would otherwise fail in base R (or
# return samples of the wrong width).

# The generator of `fit` (checked by check_fit() first) must take the fit's
# latent width (its source's columns for a map fit) and give its data's
# columns; a classed error naming `arg` otherwise.
check_fit_generator <- function(fit, arg = "fit") {
  gen <- fit$generator
  if (!inherits(gen, "wf_net")) return(invisible(fit))
  bad <- function(what) {
    wf_abort(sprintf("`%s` is not a valid wgflow fit: its `generator` %s.", arg, what),
             class = "wgflow_error_arg", arg = arg)
  }
  width <- fit_data_width(fit)
  if (!is.null(width) && gen$output_dim != width) {
    bad(sprintf("has %d outputs, but the fit's data have %d columns", gen$output_dim,
                width))
  }
  latent <- fit_latent_width(fit)
  if (!is.null(latent) && gen$input_dim != latent) {
    bad(sprintf("takes %d inputs, but the fit's %s %d", gen$input_dim,
                if (is.matrix(fit$source)) "source has" else "latent width is", latent))
  }
  invisible(fit)
}

# The columns of a fit's data (its training rows, else its held-out rows),
# or NULL when it keeps neither.
fit_data_width <- function(fit) {
  for (part in c("data", "holdout")) {
    if (is.matrix(fit[[part]])) return(ncol(fit[[part]]))
  }
  NULL
}

# What a fit's generator takes: the source's columns for a map fit, else
# the latent width in its settings; NULL when the fit says neither.
fit_latent_width <- function(fit) {
  if (is.matrix(fit$source)) return(ncol(fit$source))
  latent <- fit$settings$latent_dim
  if (is.numeric(latent) && length(latent) == 1L && !is.na(latent)) return(latent)
  NULL
}
