# Helpers shared by the methods for fits (print.R, tidy.R, autoplot.R,
# plot.R). They read a fit through these so that fits of other algorithms
# (other nets, other settings, other metric columns) print and plot too.

# ---- internals: reading a fit ----------------------------------------------

`%||%` <- function(a, b) if (is.null(a)) b else a

fit_metrics <- function(fit) {
  m <- fit$metrics
  if (is.null(m)) {
    m <- tibble::tibble(epoch = integer(), seconds = double())
  }
  m
}

# Numeric metric columns (everything but epoch, seconds and the standard
# errors `<metric>_se` of other columns).
metric_columns <- function(m) {
  cols <- setdiff(names(m), c("epoch", "seconds"))
  cols <- setdiff(cols, paste0(cols, "_se"))
  cols[vapply(as.list(m)[cols], is.numeric, logical(1))]
}

# The sampling floor of a fit's metric: its row of fit$floor (floor,
# floor_sd, n, reps), or NULL.
fit_floor <- function(fit, metric) {
  fl <- fit$floor
  if (!is.data.frame(fl) || !"metric" %in% names(fl)) return(NULL)
  i <- match(metric, fl$metric)
  if (is.na(i)) NULL else as.list(fl[i, , drop = FALSE])
}

floor_caption <- function(fl) {
  sprintf("dotted: sampling floor %s (sd %s; %d vs %d rows of the data)",
          format(fl$floor, digits = 3), format(fl$floor_sd, digits = 2), fl$n, fl$n)
}

last_index <- function(v) {
  i <- which(!is.na(v))
  if (length(i) == 0) NA_integer_ else i[length(i)]
}

last_value <- function(v) {
  i <- last_index(v)
  if (is.na(i)) NA_real_ else as.double(v[i])
}

best_index <- function(v) {
  if (length(v) == 0 || all(is.na(v))) NA_integer_ else which.min(v)
}

nrow_or_na <- function(x) if (is.null(x)) NA_integer_ else nrow(x)

epochs_done <- function(fit) {
  m <- fit_metrics(fit)
  if (nrow(m) == 0) 0L else as.integer(max(m$epoch))
}

training_seconds <- function(fit) {
  m <- fit_metrics(fit)
  if (nrow(m) == 0) 0 else as.double(max(m$seconds))
}

# The exact distances a fit's algorithm evaluates on held-out data (its
# descriptor's eval_metrics), the first being the main one, and for an
# image fit of 28 x 28 one-channel images the feature distances fd_lenet
# and kd_lenet (feature-metrics.R); W1 and W2 for a fit of no registered
# algorithm.
fit_eval_metrics <- function(fit) {
  c(fit_algorithm(fit)$eval_metrics %||% c("w1", "w2"),
    if (fit_has_feature_metrics(fit)) feature_metric_names)
}

# The fit's one-line name from its algorithm ("W1-FE-LP (K = 3)", ...).
fit_label <- function(fit) {
  algo <- fit_algorithm(fit)
  if (is.null(algo)) return(toupper(fit$algorithm %||% "fit"))
  algo$label(fit)
}

optimizer_label <- function(opt) {
  kind <- switch(opt$kind, adam = "Adam", rmsprop = "RMSprop", sgd = "SGD", opt$kind)
  sprintf("%s lr %s", kind, format(opt$lr, digits = 3))
}

format_setting <- function(v) {
  if (is.null(v)) return("NULL")
  if (is_stack(v)) return(format_stack(v))
  if (inherits(v, "wf_mlp_spec")) {
    return(paste0(paste(v$hidden, collapse = "-"), " ", v$activation,
                  if (!identical(v$norm, "none")) paste0(", ", v$norm, " norm") else "",
                  if (isTRUE(v$residual)) ", residual" else ""))
  }
  if (inherits(v, "wf_optimizer")) return(optimizer_label(v))
  if (is.numeric(v) || is.character(v) || is.logical(v)) {
    return(paste(format(v, digits = 4), collapse = ", "))
  }
  describe(v)
}

# ---- internals: titles for plots -------------------------------------------

metric_title <- function(metric) {
  titles <- known_metric_titles()
  if (metric %in% names(titles)) titles[[metric]] else metric
}

axis_title <- function(axis) {
  if (axis == "epoch") "epoch" else "wall time (s)"
}
