# Maps between two samples: the pair data of a fit (source beside data),
# the evaluation every map-learning fit shares (map error against the
# Discrete-OT map, its cosine, exact W2), the Discrete-OT map itself,
# transport maps from a fit, and 1-NN accuracy for domain adaptation.

# The identity-start generator of the W2GAN paper: G(z) = z + H(z), H's
# hidden layers Linear + BatchNorm + ReLU, Linear weights and BatchNorm
# gamma ~ N(0, 0.01), biases and beta 0.
identity_generator <- function(hidden = c(128, 128, 128)) {
  wf_mlp(hidden, norm = "batch", residual = TRUE, init = "normal", init_sd = 0.01,
         gamma_init = "normal")
}

# The data's training / held-out split and the source's beside it: as many
# held-out source rows as held-out data rows (never used for training), both
# drawn with the run's seed. Returns split_holdout()'s list with source and
# source_held added, and source_shape (the source's image shape, or NULL).
# With labels (mixture components) on a side, its held-out rows are
# balanced (split_balanced()) and the list has `labels` / `held_labels`
# (data) and `source_labels` / `source_held_labels`.
split_pair <- function(x, source, holdout, eval_n, seed = NULL, data_labels = NULL,
                       source_labels = NULL) {
  src <- check_data(source, "source", min_rows = 3L)
  if (ncol(src) != ncol(x)) {
    wf_abort(sprintf("`source` must have the %d columns of `data`, not %d.",
                     ncol(x), ncol(src)), class = "wgflow_error_arg", arg = "source")
  }
  split <- split_balanced(x, data_labels, holdout, eval_n, seed, "data_labels")
  n_held <- nrow(split$held)
  if (n_held > nrow(src) - 2L) {
    wf_abort(sprintf(paste0("`source` (%d rows) must have more rows than the %d ",
                            "held out for evaluation."), nrow(src), n_held),
             class = "wgflow_error_arg", arg = "source")
  }
  src_seed <- if (is.null(split$seed)) NULL else derived_seed(split$seed, 5L)
  src_split <- split_balanced(src, source_labels, n_held, eval_n, src_seed,
                              "source_labels")
  c(split, list(source = src_split$train, source_held = src_split$held,
                source_shape = src_split$image_shape, source_labels = src_split$labels,
                source_held_labels = src_split$held_labels))
}

# split_holdout(), with labels (NULL: exactly split_holdout()): the labels
# of the training rows (`labels`) and of the held-out rows (`held_labels`)
# are added, and held-out rows drawn from `x` are balanced: of n_held rows,
# n_held %/% k of each of the k labels (in label order: a factor's levels,
# else the sorted values) and one more of the first n_held %% k, drawn at
# random within each label with the run's seed and laid out round robin
# (held-out row i has label ((i - 1) %% k) + 1), so that the first eval_n
# of them are balanced too. This is the public W2GAN code's evaluation
# batch (round-robin components). An explicit `holdout` matrix is used as
# it is (all of `x` trains). `arg` names the labels in errors.
split_balanced <- function(x, labels, holdout, eval_n, seed, arg) {
  if (is.null(labels)) return(split_holdout(x, holdout, eval_n, seed))
  if (is.matrix(holdout) || is.data.frame(holdout) || is.array(holdout)) {
    split <- split_holdout(x, holdout, eval_n, seed)
    split$labels <- labels
    return(split)
  }
  frame <- attr(x, "wf_frame")
  shape <- image_shape(x)
  attr(x, "wf_frame") <- NULL
  attr(x, "image_shape") <- NULL
  n_held <- holdout_rows(holdout, nrow(x), eval_n)
  if (is.null(seed)) seed <- sample.int(.Machine$integer.max, 1L)
  code <- label_codes(labels)
  k <- max(code)
  per <- n_held %/% k + as.integer(seq_len(k) <= n_held %% k)
  avail <- tabulate(code, k)
  short <- which(avail - per < 1L)
  if (length(short)) {
    c1 <- short[1]
    wf_abort(sprintf(paste0("`%s`: component %s has %d rows, and %d of them would be ",
                            "held out for a balanced evaluation; every component needs ",
                            "a training row (fewer held-out rows: `holdout`, `eval_n`)."),
                     arg, label_levels(labels)[c1], avail[c1], per[c1]),
             class = "wgflow_error_arg", arg = arg)
  }
  picked <- with_rng_seed(derived_seed(seed, 1L), lapply(seq_len(k), function(c) {
    r <- which(code == c)
    r[sample.int(length(r), per[c])]
  }))
  pos <- unlist(lapply(per, seq_len))
  comp <- rep(seq_len(k), per)
  rows <- unlist(picked)[order(pos, comp)]
  list(train = x[-rows, , drop = FALSE], held = x[rows, , drop = FALSE], rows = rows,
       random = FALSE, explicit = FALSE, seed = seed, x = x, n_held = n_held,
       frame = frame, image_shape = shape, labels = labels[-rows],
       held_labels = labels[rows])
}

# Labels as codes 1..k (a factor's levels or the sorted distinct values).
label_codes <- function(labels) as.integer(factor(labels))
label_levels <- function(labels) levels(factor(labels))

# Put the source's rows into a fit made by new_fit().
add_source <- function(fit, split) {
  fit$source <- split$source
  fit$source_holdout <- split$source_held
  fit
}

# The rows of data set `x` sorted by their labels (stable), with the sizes
# of the strata: what a trainer needs for balanced batches.
strata_of <- function(x, labels) {
  code <- label_codes(labels)
  list(x = x[order(code, method = "radix"), , drop = FALSE],
       sizes = tabulate(code, max(code)))
}

# The evaluation of a map-learning fit (a descriptor's `evaluate`): the
# generator on eval_n held-out source rows against the Discrete-OT map to as
# many held-out data rows (computed once, exactly), and the exact W2 of its
# images to those data rows. The first eval_n held-out rows: random rows,
# or balanced ones when the fit was given labels (split_balanced()).
map_evaluation <- function(fit) {
  n <- fit$settings$eval_n
  src <- fit$source_holdout[seq_len(n), , drop = FALSE]
  tgt <- fit$holdout[seq_len(n), , drop = FALSE]
  t_disc <- tgt[.Call(ffi_ot_assign, src, tgt, 2)$perm, , drop = FALSE]
  gen_ptr <- net_ptr(fit$generator)
  function() {
    y <- .Call(ffi_forward, gen_ptr, src, FALSE)
    if (!all_finite(y)) {
      return(list(values = list(map_error = NA_real_, map_cosine = NA_real_, w2 = NA_real_),
                  diverged = TRUE))
    }
    list(values = map_metrics(y, src, t_disc, tgt), diverged = FALSE)
  }
}

map_eval_metrics <- c("map_error", "map_cosine", "w2")
map_metric_titles <- c(map_error = "map error |G(x) - T_disc(x)|",
                       map_cosine = "cosine of G(x) - x and T_disc(x) - x")

# mean |y - t|, the mean cosine of y - x and t - x (rows where either is 0
# left out), and exact W2(y, target).
map_metrics <- function(y, x, t, target) {
  d1 <- y - x
  d2 <- t - x
  n1 <- sqrt(rowSums(d1^2))
  n2 <- sqrt(rowSums(d2^2))
  ok <- n1 > 0 & n2 > 0
  list(map_error = mean(sqrt(rowSums((y - t)^2))),
       map_cosine = if (any(ok)) mean(rowSums(d1 * d2)[ok] / (n1[ok] * n2[ok])) else NA_real_,
       w2 = ot_distance(y, target, 2))
}

#' The Discrete-OT map between two samples
#'
#' The optimal transport map between the empirical measures of two samples
#' of the same size for the quadratic cost: the exact assignment
#' \eqn{\sigma} minimising \eqn{\sum_i |x_i - y_{\sigma(i)}|^2}
#' ([wf_wasserstein()]'s solver, certified by its dual), as a map
#' \eqn{T(x_i) = y_{\sigma(i)}}. This is the W2GAN paper's "Discrete-OT"
#' reference (its Figure 1b) against which learned maps are measured.
#'
#' @param x,y Numeric matrices with the same number of rows and columns.
#' @return A matrix like `x`: row `i` is `T(x_i)`, a row of `y`. The
#'   assignment is attribute `"assignment"`.
#' @seealso [w2gan()], [wf_transport_map()].
#' @export
#' @examples
#' p <- wf_toy_pair("4gaussians", n = 200, seed = 1)
#' tx <- wf_discrete_map(p$source, p$target)
#' mean(sqrt(rowSums((tx - p$source)^2)))   # about 1: the identity's error
wf_discrete_map <- function(x, y) {
  x <- check_data(x, "x")
  y <- check_data(y, "y", cols = ncol(x))
  if (nrow(y) != nrow(x)) {
    wf_abort(sprintf("`y` must have as many rows as `x` (%d), not %d.", nrow(x), nrow(y)),
             class = "wgflow_error_arg", arg = "y")
  }
  perm <- .Call(ffi_ot_assign, x, y, 2)$perm
  out <- y[perm, , drop = FALSE]
  attr(out, "assignment") <- perm
  out
}

#' Transport maps of a fit
#'
#' Maps points with a fitted generator (`via = "generator"`: `G(x)`, the
#' same as `predict(fit, newdata = x)`) or with the generated side's
#' potential of a W2 fit (`via = "potential"`: `x - grad f(x)`, the Monge
#' map its critic implies from the current generated law to the data, the
#' direction the generator receives; the W2GAN paper's Figure 3a). With the
#' generated side reparameterised (`reparam_side = "generated"`), `f` is
#' `e - g`, through both of the fit's potential nets.
#'
#' @param fit A fit with a generator; for `via = "potential"`, one from
#'   [w2gan()] or [w2fe()].
#' @param x A numeric matrix of points (the generator's input width, or
#'   the data's for "potential").
#' @param via "generator" or "potential".
#' @return The images, one row per row of `x`, in the type of the fit's
#'   data whichever `via`: a data frame (or tibble) with the data's column
#'   names when the fit was given one, else a matrix.
#' @seealso [wf_discrete_map()], [plot.wf_fit()].
#' @export
#' @examples
#' p <- wf_toy_pair("4gaussians", n = 1200, seed = 1)
#' fit <- w2gan(p$target, source = p$source, epochs = 3, batch_size = 128,
#'              critic = wf_mlp(c(16, 16), init = "normal", init_sd = 0.1),
#'              generator = wf_mlp(c(16, 16), norm = "batch", residual = TRUE,
#'                                 init = "normal", gamma_init = "normal"),
#'              eval_n = 100, seed = 1, verbose = FALSE)
#' head(wf_transport_map(fit, p$source[1:5, ]))
#' head(wf_transport_map(fit, p$source[1:5, ], via = "potential"))
wf_transport_map <- function(fit, x, via = "generator") {
  check_fit(fit)
  check_choice(via, c("generator", "potential"), "via")
  if (via == "generator") return(stats::predict(fit, newdata = x))
  if (!inherits(fit$f, "wf_net")) {
    wf_abort("`via = \"potential\"` needs a fit of w2gan() or w2fe() (a potential `f`).",
             class = "wgflow_error_unsupported", arg = "via")
  }
  x <- check_data(x, "x", cols = fit$f$input_dim)
  attr(x, "wf_frame") <- NULL
  # in the data's type, as the generator's map
  as_data_type(x - w2_potential_grad(fit, x), fit)
}

# Which potential of a W2 fit is reparameterised: "none", "data" (g = -f +
# e, net `g` holds e) or "generated" (f = -g + e, net `f` holds e). Fits
# made before `reparam_side` existed reparameterised the data side.
w2_reparam <- function(fit) {
  s <- fit$settings
  if (!isTRUE(s$reparam)) return("none")
  s$reparam_side %||% "data"
}

# grad f(x), f the generated side's potential of a W2 fit.
w2_potential_grad <- function(fit, x) {
  gf <- .Call(ffi_input_grad, net_ptr(fit$f), x, FALSE)
  if (w2_reparam(fit) == "generated") gf <- gf - .Call(ffi_input_grad, net_ptr(fit$g), x, FALSE)
  gf
}

# The potentials f (generated side) and g (data side) of a W2 fit at x.
w2_potential_values <- function(fit, x) {
  f <- wf_forward(fit$f, x)[, 1]
  g <- wf_forward(fit$g, x)[, 1]
  switch(w2_reparam(fit), data = list(f = f, g = g - f),
         generated = list(f = f - g, g = g), list(f = f, g = g))
}

#' 1-nearest-neighbour accuracy across domains
#'
#' The metric of domain adaptation by transport maps (the W2GAN paper's
#' Table 1, Malik & Huang's Figure 3): a 1-NN classifier fitted on the
#' (mapped) source points with the source labels, scored on the target
#' points against their labels. With the unmapped source this is the
#' "source only" baseline.
#'
#' @param mapped_source A numeric matrix, one (mapped) source point per row.
#' @param source_labels Their labels (a vector: factor, character or
#'   numeric), one per row.
#' @param target A numeric matrix with the same columns.
#' @param target_labels The target points' labels.
#' @return The fraction of target points whose nearest (Euclidean) mapped
#'   source point carries their label (ties to the first).
#' @export
#' @examples
#' set.seed(1)
#' x <- rbind(matrix(rnorm(100), 50), matrix(rnorm(100, 3), 50))
#' lab <- rep(1:2, each = 50)
#' wf_knn_accuracy(x, lab, x + 0.1, lab)
wf_knn_accuracy <- function(mapped_source, source_labels, target, target_labels) {
  xs <- check_data(mapped_source, "mapped_source")
  xt <- check_data(target, "target", cols = ncol(xs))
  check_labels(source_labels, nrow(xs), "source_labels")
  check_labels(target_labels, nrow(xt), "target_labels")
  src_lab <- as.character(source_labels)
  if (!any(unique(as.character(target_labels)) %in% src_lab)) {
    wf_warn(paste0("`source_labels` and `target_labels` have no label in common, so the ",
                   "accuracy is 0; are they coded alike (e.g. both class names)?"),
            class = "wgflow_warning_labels")
  }
  sq_s <- rowSums(xs^2)
  nearest <- integer(nrow(xt))
  block <- max(1L, floor(2e7 / max(1, nrow(xs)))) # about 160 MB of distances
  for (start in seq(1L, nrow(xt), by = block)) {
    rows <- start:min(nrow(xt), start + block - 1L)
    # |t - s|^2 up to |t|^2, which does not change the nearest s
    d <- -2 * tcrossprod(xt[rows, , drop = FALSE], xs) + rep(sq_s, each = length(rows))
    nearest[rows] <- max.col(-d, ties.method = "first")
  }
  mean(src_lab[nearest] == as.character(target_labels))
}

check_labels <- function(x, n, arg) {
  if (!(is.atomic(x) || is.factor(x)) || is.null(x) || length(x) != n || anyNA(x)) {
    arg_error(arg, sprintf("a vector of %d labels without NA", n), x)
  }
  invisible(x)
}

# ---- plots of maps and potentials (plot.wf_fit) ------------------------------

map_colours <- c(source = "#d01c8b", image = "#e41a1c", data = "#1a9641",
                 arrow = "#8c8c8c")

# Figure 2 of the W2GAN paper: source points, their images and arrows.
plot_fit_map <- function(fit, n, seed, ...) {
  if (is.null(fit$generator) || is.null(fit$data)) {
    wf_abort("This fit has no generator to draw a map of.",
             class = "wgflow_error_unsupported", arg = "what")
  }
  d <- ncol(fit$data)
  if (!is.null(fit$source_holdout)) {
    src <- rbind(fit$source_holdout, fit$source)
    z <- src[seq_len(min(n, nrow(src))), , drop = FALSE]
  } else {
    k <- fit$generator$input_dim
    if (k != d) {
      wf_abort(sprintf("A map needs latents of the data's dimension (%d), not %d.", d, k),
               class = "wgflow_error_unsupported", arg = "what")
    }
    z <- with_rng_seed(seed, matrix(stats::rnorm(n * k), n, k))
  }
  # as a matrix whatever the data's type (a data frame's rows would not bind
  # to the matrices below)
  gz <- unname(as.matrix(stats::predict(fit, newdata = z, type = "generator")))
  xd <- fit$data[seq_len(min(n, nrow(fit$data))), , drop = FALSE]
  names_d <- fit$colnames %||% paste0("x", seq_len(d))
  pts <- rbind(z[, 1:2], gz[, 1:2], xd[, 1:2])
  keys <- c("source", "image", "data")
  old <- graphics::par("mar")
  on.exit(graphics::par(mar = old))
  frame_with_legend(
    list(x = NA, type = "n", xlim = range(pts[, 1]), ylim = range(pts[, 2]), asp = 1,
         xlab = names_d[1], ylab = names_d[2], main = fit_label(fit),
         sub = if (d > 2) sprintf("first two of %d coordinates", d)),
    list(...),
    list(legend = c("source x", "G(x)", "data"), col = map_colours[keys], pch = 16))
  graphics::points(xd[, 1], xd[, 2], col = map_colours[["data"]], pch = 16, cex = 0.45)
  graphics::points(z[, 1], z[, 2], col = map_colours[["source"]], pch = 16, cex = 0.45)
  # a point that did not move has no arrow (and no warning about it)
  suppressWarnings(graphics::arrows(z[, 1], z[, 2], gz[, 1], gz[, 2], length = 0.04,
                                    col = map_colours[["arrow"]], lwd = 0.6))
  graphics::points(gz[, 1], gz[, 2], col = map_colours[["image"]], pch = 16, cex = 0.45)
  invisible()
}

# Figure 3 of the W2GAN paper: the map x - grad f(x) as arrows, and heat
# maps of f and g (through e where one is reparameterised), each with a
# colour key, in the layout that suits the device's shape. Returns the plan
# it drew (potential_plan() with the layout and the keys' ranges),
# invisibly.
plot_fit_potential <- function(fit, grid = 40L, arrows = NULL, ...) {
  if (!inherits(fit$f, "wf_net") || ncol(fit$data) != 2L) {
    wf_abort("`what = \"potential\"` needs a 2-D fit of w2gan() or w2fe().",
             class = "wgflow_error_unsupported", arg = "what")
  }
  lim <- potential_limits(fit)
  line <- graphics::par("cin")[2] # a line of text at cex = 1, in inches
  lay <- potential_layout(grDevices::dev.size("in"), (lim[2, 2] - lim[1, 2]) /
                            (lim[2, 1] - lim[1, 1]), line)
  # about one arrow per 0.2 inch of panel
  if (is.null(arrows)) {
    arrows <- as.integer(min(20, max(8, round(lay$side[[lay$kind]] / 0.2))))
  }
  plan <- potential_plan(fit, lim, grid, arrows)
  plan$layout <- lay
  old <- graphics::par(c("mgp", "tcl", "las", "cex.axis", "cex.main", "plt"))
  graphics::layout(lay$matrix, widths = lay$widths, heights = lay$heights)
  on.exit({
    graphics::layout(1)
    graphics::par(old)
  })
  # layout() shrinks text for three panels; each panel here is as large as
  # a single plot's, so its text stays at full size
  graphics::par(cex = 1, mgp = c(1.9, 0.6, 0), tcl = -0.3, las = 1, cex.axis = 0.85,
                cex.main = 1)
  pin <- lay$side[[lay$kind]] * c(1, lay$aspect) # every panel's size, inches
  xlim <- range(plan$gx)
  ylim <- range(plan$gy)
  potential_panel(pin, line, xlim, ylim, "x - grad f(x)")
  graphics::points(plan$data, pch = 16, cex = 0.45,
                   col = grDevices::adjustcolor(map_colours[["data"]], 0.6))
  a <- plan$arrows
  # an arrow too short to see has no head (and no warning about it)
  suppressWarnings(graphics::arrows(a[, "x0"], a[, "y0"], a[, "x1"], a[, "y1"],
                                    length = 0.05, col = "grey25", lwd = 0.9))
  graphics::mtext(arrow_caption(plan$scale), side = 3, line = 0.15, cex = 0.75)
  titles <- c(f = "f (generated side)", g = "g (data side)")
  plan$keys <- list()
  for (nm in names(titles)) {
    v <- plan[[nm]]
    zlim <- finite_range(v)
    potential_panel(pin, line, xlim, ylim, titles[[nm]])
    graphics::image(plan$gx, plan$gy, v, col = potential_colours, zlim = zlim, add = TRUE)
    graphics::contour(plan$gx, plan$gy, v, add = TRUE, drawlabels = FALSE, col = "grey35",
                      lwd = 0.5)
    graphics::box()
    colour_key(zlim, potential_colours, pin[2], line)
    plan$keys[[nm]] <- zlim
  }
  if (lay$kind == "grid") {
    # the fourth cell of a 2 x 2 layout: what the panels show
    graphics::par(mar = c(0, 0, 0, 0))
    graphics::plot.new()
    graphics::text(0.5, 0.62, fit_label(fit), font = 2)
    graphics::legend("center", inset = c(0, 0.1), bty = "n", cex = 0.85,
                     legend = c("data", "x -> x - grad f(x)"), pch = c(16, NA),
                     lty = c(0, 1), col = c(map_colours[["data"]], "grey25"))
  }
  invisible(plan)
}

# Starts the next panel with a plot region of `pin` inches (x and y on the
# same scale: no blank band, unlike asp = 1), centred in the space its
# margins leave, with axes and titles.
potential_panel <- function(pin, line, xlim, ylim, main) {
  graphics::plot.new()
  mar <- potential_mar$panel * line
  graphics::par(plt = centred_plt(pin, mar))
  graphics::plot.window(xlim, ylim, xaxs = "i", yaxs = "i")
  graphics::axis(1)
  graphics::axis(2)
  graphics::box()
  graphics::title(main = main, line = 1.1)
  graphics::title(xlab = "x", ylab = "y")
}

# par("plt") for a plot region of `pin` inches in the current figure,
# centred in what the margins `mar` (inches: bottom, left, top, right) leave.
centred_plt <- function(pin, mar) {
  fin <- graphics::par("fin")
  free <- pmax(0, fin - pin - c(mar[2] + mar[4], mar[1] + mar[3]))
  left <- mar[2] + free[1] / 2
  bottom <- mar[1] + free[2] / 2
  pmin(1, pmax(0, c(left / fin[1], (left + pin[1]) / fin[1], bottom / fin[2],
                    (bottom + pin[2]) / fin[2])))
}

# A vertical colour key for values in `zlim` in the next panel, as tall as
# the panel beside it (`height` inches).
colour_key <- function(zlim, colours, height, line) {
  graphics::plot.new()
  mar <- potential_mar$key * line
  fin <- graphics::par("fin")
  bottom <- mar[1] + max(0, fin[2] - height - mar[1] - mar[3]) / 2
  graphics::par(plt = pmin(1, c(mar[2] / fin[1], (mar[2] + 0.2) / fin[1], bottom / fin[2],
                                (bottom + height) / fin[2])))
  graphics::plot.window(c(0, 1), zlim, xaxs = "i", yaxs = "i")
  breaks <- seq(zlim[1], zlim[2], length.out = length(colours) + 1L)
  graphics::rect(0, utils::head(breaks, -1), 1, breaks[-1], col = colours, border = NA)
  graphics::axis(4)
  graphics::box()
}

potential_colours <- grDevices::hcl.colors(40, "YlOrRd", rev = TRUE)

# Margins (lines) of a panel and of a colour key beside it.
potential_mar <- list(panel = c(3, 3.2, 2.2, 0.6), key = c(3, 0.3, 2.2, 2.6))

# The square the potentials are drawn on: the data's and the source's
# range, 10 % wider on each side; [2 x 2], a column per coordinate.
potential_limits <- function(fit) {
  lim <- apply(rbind(fit$data, fit$source), 2, range)
  lim + c(-0.1, 0.1) %o% (lim[2, ] - lim[1, ])
}

# What plot(fit, "potential") draws within limits `lim`: f and g on a
# `grid` x `grid` grid, and the map x - grad f(x) as arrows from the
# centres of an `arrows` x `arrows` grid of cells, shortened by a common
# `scale` (at most 1) so that none is longer than 0.8 of the arrows'
# spacing and neighbours do not cross.
potential_plan <- function(fit, lim, grid, arrows) {
  gx <- seq(lim[1, 1], lim[2, 1], length.out = grid)
  gy <- seq(lim[1, 2], lim[2, 2], length.out = grid)
  pot <- w2_potential_values(fit, as.matrix(expand.grid(gx, gy)))
  centres <- function(l) {
    step <- (l[2] - l[1]) / arrows
    l[1] + step * (seq_len(arrows) - 0.5)
  }
  ax <- centres(lim[, 1])
  ay <- centres(lim[, 2])
  start <- as.matrix(expand.grid(ax, ay))          # [arrows^2 x 2]
  move <- -w2_potential_grad(fit, start)           # x - grad f(x) - x
  len <- sqrt(rowSums(move^2))
  spacing <- min(ax[2] - ax[1], ay[2] - ay[1])
  longest <- max(c(0, len[is.finite(len)]))
  scale <- if (longest > 0.8 * spacing) 0.8 * spacing / longest else 1
  a <- cbind(x0 = start[, 1], y0 = start[, 2], x1 = start[, 1] + scale * move[, 1],
             y1 = start[, 2] + scale * move[, 2])
  list(gx = gx, gy = gy, f = matrix(pot$f, grid, grid), g = matrix(pot$g, grid, grid),
       arrows = a, scale = scale, spacing = spacing,
       data = fit$data[seq_len(min(500, nrow(fit$data))), , drop = FALSE])
}

# The layout of the three panels (map, f, g; f and g each with a colour key)
# on a device of `din` inches (width, height) for panels of height/width
# `aspect`, `line` inches a line of margin: one row, a 2 x 2 grid (the
# fourth cell says what is drawn) or one column, whichever gives the largest
# panels. `side`: the panels' width in inches for each arrangement.
potential_layout <- function(din, aspect, line) {
  m <- potential_mar
  pw <- sum(m$panel[c(2, 4)]) * line   # a panel's horizontal margins
  ph <- sum(m$panel[c(1, 3)]) * line   # its vertical margins
  kw <- sum(m$key[c(2, 4)]) * line + 0.2 # a key: margins and a 0.2 in bar
  w <- din[1]
  h <- din[2]
  side <- c(row = min((w - 3 * pw - 2 * kw) / 3, (h - ph) / aspect),
            grid = min((w - 2 * pw - kw) / 2, (h / 2 - ph) / aspect),
            column = min(w - pw - kw, (h / 3 - ph) / aspect))
  kind <- names(side)[which.max(side)]
  side <- pmax(side, 0.2) # a tiny device: small panels rather than none
  key <- graphics::lcm(2.54 * kw)
  # panels: 1 map, 2 f, 3 f's key, 4 g, 5 g's key, 6 the legend
  c(list(kind = kind, side = side, aspect = aspect),
    switch(kind,
           row = list(matrix = matrix(1:5, 1), widths = c(1, 1, key, 1, key), heights = 1),
           grid = list(matrix = rbind(c(1, 2, 3), c(6, 4, 5)), widths = c(1, 1, key),
                       heights = c(1, 1)),
           column = list(matrix = rbind(c(1, 1), c(2, 3), c(4, 5)), widths = c(1, key),
                         heights = c(1, 1, 1))))
}

# The range of the finite values of `v` (c(0, 1) where none is, and widened
# where they are all equal, which image() cannot colour).
finite_range <- function(v) {
  v <- v[is.finite(v)]
  if (!length(v)) return(c(0, 1))
  r <- range(v)
  if (r[1] == r[2]) r + c(-0.5, 0.5) else r
}

arrow_caption <- function(scale) {
  if (scale < 1) sprintf("arrows at %.2g of their length", scale) else "arrows to scale"
}
