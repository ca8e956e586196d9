# Algorithm descriptors: what the generic fit layer (fit.R), the epoch loop
# (train.R) and every method (print, summary, tidy, glance, autoplot, plot,
# wf_continue, wf_sweep) need to know about a training algorithm. A family
# registers one descriptor in its own R file (w1fe.R, ...); nothing else in
# the package names its metrics or settings.

# The registry, filled by each family's file at build time.
wf_algorithms <- new.env(parent = emptyenv())

# name: the C trainer's algorithm (src/core/algos.c) and the registry key.
# sync_state: function(fit, trainer) copying the algorithm's own state
#   beyond its nets (OTS's dual vector) from the trainer into the fit; run
#   at the end of a run and for callbacks' snapshots, never per epoch.
#   Default NULL: none.
# optional_source: whether the family may learn a map from a source sample
#   (the C algorithm's optional data role "source"; data() then returns
#   it). A fit given one is evaluated as a map: fit_algorithm() returns
#   map_descriptor() of the descriptor for it.
# nets: the fit's networks, by role, in the trainer's order; each role also
#   names the fit element holding the wf_net and, with "_optimizer", the
#   setting holding its optimiser.
# data: the trainer's data sets by role, and a function(fit) returning them
#   as a named list of matrices.
# phases: the C phases an epoch runs, in order (src/core/algo_<family>.c);
#   their output names, read from C's phase tables, are the training
#   metrics (train_metrics(), what epoch() returns), less state_outputs
#   (outputs that are state, not metrics). A new metric is one edit: the
#   phase's output list in C (and, if wanted, its title here).
# train_metrics: only for an algorithm with no C phases (phases = NULL,
#   epochs run in R, e.g. a test's toy): its training metrics by name.
# eval_metrics: what evaluate() measures (the first is the progress metric).
# evaluate: function(fit) -> a closure returning list(values = named list
#   of eval_metrics, diverged = TRUE/FALSE, and optionally se = named list
#   of their standard errors, recorded as `<metric>_se` columns); by default
#   the exact W1 and W2 of the generator against the held-out rows, with
#   standard errors (train.R).
# floor: function(fit) -> the sampling floor of the eval metrics, a tibble
#   with columns metric, n, floor, floor_sd, reps (what a perfect model would
#   score at this evaluation size), or NULL where none is known. Default
#   (added with the statistics of convergence; descriptors written before
#   get it): generator_floor(), the exact W1/W2 between the held-out rows
#   and as many training rows, for eval metrics named "w1"/"w2".
# net_spaces: for predict(type = <role>): a named list, by net role, of
#   c(input, output) among "latent", "data" (scaled like the data when the
#   fit has `scale = TRUE`) and "value". Default: the role "generator" maps
#   "latent" to "data", every other role "data" to "value" (a critic or a
#   potential).
# progress_metrics: the training metrics the progress bar shows after the
#   first eval metric. Default: the first two training metrics.
# feature_metrics: whether the evaluation compares generated samples with
#   held-out rows, so that a fit of 28 x 28 one-channel images also
#   reports fd_lenet and kd_lenet (its evaluate closure adds them with
#   feature_evaluator(), feature-metrics.R). Default: when eval_metrics
#   include "w1" (generator_evaluation() and OTS's evaluation do; the map
#   evaluations do not).
# metric_titles: axis titles of the metrics (others use their name).
# setting_keys: the settings that tell runs of this family apart (glance,
#   plots of several fits).
# label: function(fit) -> a one-line name ("W1-FE-LP (K = 3)").
# epoch: function(fit, trainer) -> named numeric, one training epoch,
#   running the trainer's phases.
# aliases: further names of fits trained by it (e.g. "wgan").
# (The defaults are wrappers: a family's file may register itself before
# train.R is collated.)
new_algorithm <- function(name, nets, data, phases = NULL, epoch, label,
                          eval_metrics = c("w1", "w2"),
                          evaluate = function(...) generator_evaluation(...),
                          metric_titles = character(), setting_keys = character(),
                          aliases = character(),
                          floor = function(fit) generator_floor(fit),
                          net_spaces = NULL, progress_metrics = NULL,
                          feature_metrics = NULL, state_outputs = character(),
                          train_metrics = NULL, optional_source = FALSE,
                          sync_state = NULL) {
  spaces <- stats::setNames(lapply(nets, function(role) {
    if (role == "generator") c("latent", "data") else c("data", "value")
  }), nets)
  spaces[names(net_spaces)] <- net_spaces
  structure(list(name = name, nets = nets, data = data, phases = phases,
                 state_outputs = state_outputs, train_metrics = train_metrics,
                 optional_source = optional_source, sync_state = sync_state,
                 eval_metrics = eval_metrics, evaluate = evaluate,
                 metric_titles = metric_titles,
                 setting_keys = setting_keys, label = label, epoch = epoch,
                 aliases = aliases, floor = floor, net_spaces = spaces,
                 progress_metrics = progress_metrics,
                 feature_metrics = feature_metrics %||% ("w1" %in% eval_metrics)),
            class = "wf_algorithm")
}

register_algorithm <- function(algo) {
  for (nm in c(algo$name, algo$aliases)) assign(nm, algo, envir = wf_algorithms)
  invisible(algo)
}

# The training metrics of an algorithm: the outputs of its epoch's phases
# as its C phase tables name them (asked once per session).
train_metrics <- function(algo) {
  if (is.null(algo$phases)) return(algo$train_metrics)
  got <- phase_outputs[[algo$name]]
  if (is.null(got)) {
    got <- setdiff(.Call(ffi_algo_outputs, algo$name, algo$phases), algo$state_outputs)
    assign(algo$name, got, envir = phase_outputs)
  }
  got
}
phase_outputs <- new.env(parent = emptyenv())

# The training metrics the progress bar shows after the first eval metric.
progress_metrics <- function(algo) {
  algo$progress_metrics %||% utils::head(train_metrics(algo), 2L)
}

# The descriptor of a fit (by its family, or its algorithm name), or NULL
# for a list that only looks like a fit; for a fit of a family with an
# optional source that has one, its map descriptor.
fit_algorithm <- function(fit) {
  for (nm in c(fit$family, fit$algorithm)) {
    if (is.character(nm) && length(nm) == 1L && exists(nm, envir = wf_algorithms,
                                                        inherits = FALSE)) {
      algo <- get(nm, envir = wf_algorithms)
      if (isTRUE(algo$optional_source) && !is.null(fit$source)) algo <- map_descriptor(algo)
      return(algo)
    }
  }
  NULL
}

# A family's descriptor for its fits from a source sample: evaluated as a
# map against the discrete OT map of held-out pairs (maps.R), "map" after
# its label, no image features.
map_descriptor <- function(algo) {
  label <- algo$label
  algo$eval_metrics <- map_eval_metrics
  algo$evaluate <- map_evaluation
  algo$metric_titles <- c(algo$metric_titles, map_metric_titles)
  algo$label <- function(fit) paste(label(fit), "map")
  algo$feature_metrics <- FALSE
  algo
}

# Every registered metric name (for telling metric columns from settings).
known_metrics <- function() {
  algos <- mget(ls(wf_algorithms), envir = wf_algorithms)
  unique(c(unlist(lapply(algos, function(a) c(train_metrics(a), a$eval_metrics))),
           feature_metric_names))
}

# Every registered metric title, for plots of any fit.
known_metric_titles <- function() {
  algos <- mget(ls(wf_algorithms), envir = wf_algorithms)
  titles <- unlist(lapply(unname(algos), function(a) a$metric_titles))
  c(titles[!duplicated(names(titles))],
    w1 = "exact W1 (generated vs held out)", w2 = "exact W2 (generated vs held out)",
    feature_metric_titles)
}

