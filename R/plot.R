# plot() method for fits (base graphics): samples in the style of Figure 1,
# or a metric against epochs and wall time.

# ---- plot (base graphics) --------------------------------------------------

#' Plot a fit with base graphics
#'
#' `what = "samples"` draws, in the style of Figure 1 of Malik & Huang, a
#' sample of the training data (green), a sample `z` of the latent normal
#' law (magenta, when the latent and the data have the same dimension),
#' the generated `G(z)` (black) and, for the first 100 of them, the
#' transport rays `z -> G(z)` (grey segments), with the legend above the
#' data. Data of more than two dimensions are drawn in their first two
#' coordinates (the plot says so), without latents or rays beyond ten
#' dimensions (there the first two coordinates of `z` and `G(z)` say
#' nothing about the map); one-dimensional data as densities; one-channel
#' images (e.g. from [wf_images()]) as a grid of data images beside one of
#' generated images (at most 36 of each).
#' `what = "images"` draws `n` generated samples (64 unless `n` is given) as
#' a grid of grey-scale images (see [wf_image_grid()]), for a generator of
#' images such as an [ots_fit()] on [wf_images()].
#' `what = "metrics"` draws a metric (by default the first exact distance the
#' fit's algorithm evaluates, W1 for W1-FE) against the epoch
#' and against the training wall time, side by side, with plus and minus one
#' standard error at each evaluation (grey) and the sampling floor (dotted:
#' what a model that draws exactly from the data's law would score).
#' `what = "map"` draws,
#' as the W2GAN paper's Figure 2, source points (magenta; held-out source
#' rows of a map fit, else latents), their images `G(x)` (red), grey arrows
#' between them and data points (green). `what = "potential"` (fits of
#' [w2gan()] and [w2fe()]) draws, as its Figure 3, the map `x - grad f(x)`
#' as arrows on a grid (shortened by a common factor, which the panel
#' states, where they would reach their neighbours) and the potentials `f`
#' and `g` as heat maps with colour keys, in one row, a 2 x 2 grid or one
#' column, whichever suits the device's shape (it takes the whole device).
#' No ggplot2 needed; see [autoplot.wf_fit()] for the ggplot2 version.
#'
#' @param x A fit from [w1fe()], [wgan()] or another wgflow trainer.
#' @param what "samples" (the default), "metrics", "map", "potential" or
#'   "images".
#' @param n Number of data points, latent points and generated points drawn.
#' @param metric For "metrics": the metric column to plot; `NULL` takes the
#'   first exact distance the fit's algorithm evaluates ("w1" for W1-FE).
#' @param seed `NULL` (R's random stream) or a whole number for the latent
#'   sample; a whole number leaves R's random stream as it was.
#' @param image_size For "images": the images' rows and columns (`NULL`:
#'   those of one-channel image data, e.g. from [wf_images()], else
#'   square, from the data's width).
#' @param ... Further graphical parameters for [plot()] (e.g. `main`).
#' @return `x`, invisibly.
#' @export
#' @examples
#' x <- wf_toy("8gaussians", n = 2000, seed = 1)
#' fit <- w1fe(x, epochs = 5, batch_size = 128, critic = wf_mlp(c(32, 32)),
#'             generator = wf_mlp(c(32, 32)), eval_n = 200, eval_every = 1,
#'             seed = 1, verbose = FALSE)
#' plot(fit)
#' plot(fit, "metrics")
plot.wf_fit <- function(x, what = c("samples", "metrics", "map", "potential", "images"),
                        n = 500L, metric = NULL, seed = 1L, image_size = NULL, ...) {
  check_fit(x, "x")
  whats <- c("samples", "metrics", "map", "potential", "images")
  if (identical(what, whats)) what <- "samples"
  check_choice(what, whats, "what")
  if (what == "images") {
    n <- if (missing(n)) 64L else check_count(n, "n", max = 1e4)
    plot_fit_images(x, n, check_seed(seed), image_size, ...)
    return(invisible(x))
  }
  if (what == "metrics") {
    plot_fit_metrics(x, metric %||% fit_eval_metrics(x)[1], ...)
    return(invisible(x))
  }
  n <- check_count(n, "n", max = 1e6)
  switch(what,
         samples = plot_fit_samples(x, n, check_seed(seed), ...),
         map = plot_fit_map(x, n, check_seed(seed), ...),
         potential = plot_fit_potential(x, ...))
  invisible(x)
}

# ---- internals: base graphics ----------------------------------------------

fig1_colours <- c(data = "#1a9641", latent = "#d01c8b", generated = "black",
                  ray = "#8c8c8c")

# At most this many rays z -> G(z) are drawn (more hide the points), and
# only for data of at most ray_max_dim coordinates: in more, rays between
# the first two coordinates of z and of G(z) say nothing about the map.
ray_max_n <- 100L
ray_max_dim <- 10L

# What a generator's inputs are: latents, or a map fit's source rows.
latent_label <- function(mapped) if (mapped) "source x" else "z ~ N(0, I)"

# Figure 1 of Malik & Huang: data, latents, G(z) and rays between them, in
# the data's first two coordinates (one coordinate: densities; images of
# one channel: grids of data and generated images). Returns what it drew
# (a list: kind, the rays drawn, the legend's labels), invisibly.
plot_fit_samples <- function(fit, n, seed, ...) {
  if (is.null(fit$data) || is.null(fit$generator)) {
    wf_abort("This fit has no `data` or no `generator` to draw samples from.",
             class = "wgflow_error_unsupported", arg = "what")
  }
  size <- one_channel_size(fit)
  if (!is.null(size)) return(plot_fit_sample_images(fit, n, seed, size, ...))
  d <- ncol(fit$data)
  k <- fit$generator$input_dim
  idx <- unique(round(seq(1, nrow(fit$data), length.out = min(n, nrow(fit$data)))))
  # in the data's units: a fit trained on scaled data is drawn scaled back,
  # its latents too (the map is then z -> G(z) in those units)
  xd <- undo_scaling(fit$data[idx, , drop = FALSE], fit$scaling)
  # a map fit's inputs are source rows, not latents
  mapped <- is.matrix(fit$source)
  z <- if (mapped) {
    fit$source[with_rng_seed(seed, sample.int(nrow(fit$source), min(n, nrow(fit$source)))), ,
               drop = FALSE]
  } else {
    with_rng_seed(seed, matrix(stats::rnorm(n * k), n, k))
  }
  gz <- undo_scaling(wf_forward(fit$generator, z), fit$scaling)
  show_z <- k == d && d <= ray_max_dim
  if (show_z) z <- undo_scaling(z, fit$scaling)
  names_d <- fit$colnames %||% paste0("x", seq_len(d))
  labels <- c(data = "data", latent = latent_label(mapped),
              ray = if (mapped) "x -> G(x)" else "z -> G(z)",
              generated = if (mapped) "G(x)" else "G(z)")
  old <- graphics::par("mar")
  on.exit(graphics::par(mar = old))
  if (d == 1L) {
    dens <- list(data = stats::density(xd[, 1]), generated = stats::density(gz[, 1]))
    if (show_z) dens$latent <- stats::density(z[, 1])
    keys <- names(dens)
    frame <- frame_with_legend(
      list(x = NA, type = "n", xlim = range(unlist(lapply(dens, `[[`, "x"))),
           ylim = c(0, max(unlist(lapply(dens, `[[`, "y")))), xlab = names_d[1],
           ylab = "density", main = fit_label(fit)),
      list(...), list(legend = labels[keys], col = fig1_colours[keys], lwd = 2))
    for (nm in keys) graphics::lines(dens[[nm]], col = fig1_colours[[nm]], lwd = 2)
    return(invisible(list(kind = "densities", rays = 0L, legend = unname(labels[keys]),
                          frame = frame)))
  }
  pts <- rbind(xd[, 1:2], gz[, 1:2], if (show_z) z[, 1:2])
  sub <- character()
  if (d > 2L) sub <- c(sub, sprintf("first two of %d coordinates", d))
  if (k != d) sub <- c(sub, sprintf("latent dimension %d: no rays", k))
  else if (!show_z) sub <- c(sub, sprintf("no rays in %d dimensions", d))
  keys <- c("data", if (show_z) c("latent", "ray"), "generated")
  sub <- if (length(sub)) paste(sub, collapse = "; ") else NULL
  frame <- frame_with_legend(
    list(x = NA, type = "n", xlim = range(pts[, 1]), ylim = range(pts[, 2]), asp = 1,
         xlab = names_d[1], ylab = names_d[2], main = fit_label(fit), sub = sub),
    list(...), list(legend = labels[keys], col = fig1_colours[keys],
                    pch = ifelse(keys == "ray", NA, 16), lty = ifelse(keys == "ray", 1, 0)))
  rays <- if (show_z) seq_len(min(nrow(z), ray_max_n)) else integer()
  graphics::segments(z[rays, 1], z[rays, 2], gz[rays, 1], gz[rays, 2],
                     col = grDevices::adjustcolor(fig1_colours[["ray"]], 0.45), lwd = 0.7)
  # half transparent, so that where they overlap both show
  faint <- function(key) grDevices::adjustcolor(fig1_colours[[key]], 0.55)
  if (show_z) graphics::points(z[, 1], z[, 2], col = faint("latent"), pch = 16, cex = 0.55)
  graphics::points(xd[, 1], xd[, 2], col = faint("data"), pch = 16, cex = 0.6)
  graphics::points(gz[, 1], gz[, 2], col = faint("generated"), pch = 16, cex = 0.55)
  invisible(list(kind = "points", rays = length(rays), legend = unname(labels[keys]),
                 sub = sub, frame = frame))
}

# Starts a plot with plot()'s arguments `defaults` (overridden by the
# user's `dots`), a legend of `legend_args` in one or two rows in the top
# margin (between the title and the data, so that it covers none of it),
# and the title above it. The caller restores par("mar") when done.
# Returns the legend's rows, its box (legend()'s `rect`) and par("usr").
frame_with_legend <- function(defaults, dots, legend_args, cex = 0.8) {
  args <- modify_args(defaults, dots)
  main <- args$main
  args$main <- NULL
  rows <- legend_rows(legend_args$legend, cex)
  # the legend (with its padding) and the title, in lines of text
  legend_lines <- (rows + 0.8) * cex + 0.3
  mar <- graphics::par("mar")
  mar[3] <- max(mar[3], legend_lines + if (is.null(main)) 0.3 else 1.6)
  graphics::par(mar = mar)
  do.call(graphics::plot, args)
  usr <- graphics::par("usr")
  # a twentieth of an inch above the plot region
  gap <- 0.05
  top <- graphics::grconvertY(graphics::grconvertY(usr[4], "user", "inches") + gap,
                              "inches", "user")
  n <- length(legend_args$legend)
  # columns as wide as the widest label and two characters more, so that a
  # key's symbol does not touch the label before it
  width <- max(graphics::strwidth(legend_args$legend, cex = cex)) +
    graphics::strwidth("mm", cex = cex)
  key <- do.call(graphics::legend,
                 c(list(x = mean(usr[1:2]), y = top, xjust = 0.5, yjust = 0,
                        ncol = ceiling(n / rows), xpd = NA, bty = "n", cex = cex,
                        text.width = width), legend_args))
  # the title just above the legend
  height <- graphics::grconvertY(key$rect$top, "user", "inches") -
    graphics::grconvertY(usr[4], "user", "inches")
  graphics::title(main = main, line = height / graphics::par("csi") + 0.2)
  invisible(list(rows = rows, legend = key$rect, usr = usr))
}

# 1 when the legend fits in one row of the plot region's width, else 2.
legend_rows <- function(labels, cex) {
  # a key's symbol and spaces: about four characters
  width <- sum(graphics::strwidth(labels, units = "inches", cex = cex)) +
    length(labels) * 4 * graphics::par("cin")[1] * cex
  avail <- graphics::par("fin")[1] - sum(graphics::par("mai")[c(2, 4)])
  if (width <= avail) 1L else 2L
}

plot_fit_metrics <- function(fit, metric, ...) {
  m <- fit_metrics(fit)
  cols <- metric_columns(m)
  check_choice(metric, if (length(cols)) cols else "w1", "metric")
  keep <- !is.na(m[[metric]])
  if (!any(keep)) {
    wf_abort(sprintf("Metric `%s` has no recorded values to plot.", metric),
             class = "wgflow_error_arg", arg = "metric")
  }
  y <- m[[metric]][keep]
  old <- graphics::par(mfrow = c(1, 2))
  on.exit(graphics::par(old))
  type <- if (sum(keep) <= 60) "b" else "l"
  dots <- list(...)
  fl <- fit_floor(fit, metric)
  se <- m[[paste0(metric, "_se")]]
  se <- if (is.null(se)) NULL else se[keep]
  ylim <- range(c(y, if (!is.null(se)) c(y - se, y + se), fl$floor), na.rm = TRUE)
  for (ax in c("epoch", "seconds")) {
    xv <- m[[ax]][keep]
    args <- modify_args(list(x = xv, y = y, type = type, pch = 16,
                              cex = 0.6, xlab = axis_title(ax),
                              ylab = metric_title(metric), ylim = ylim,
                              main = fit_label(fit),
                              sub = if (!is.null(fl)) floor_caption(fl) else NULL), dots)
    do.call(graphics::plot, args)
    if (!is.null(se) && any(!is.na(se))) {
      ok <- !is.na(se)
      graphics::segments(xv[ok], (y - se)[ok], xv[ok], (y + se)[ok], col = "grey50")
    }
    if (!is.null(fl)) graphics::abline(h = fl$floor, lty = 3)
  }
  invisible()
}

# `defaults` overridden by the user's graphical arguments.
modify_args <- function(defaults, dots) {
  for (nm in names(dots)) if (nzchar(nm)) defaults[nm] <- list(dots[[nm]])
  defaults
}
