# OTS/FIT (Chen, Telgarsky, Zhang, Bailey, Hsu, Peng 2019): semi-discrete
# optimal transport by stochastic ascent on a dual vector, and a generator
# regressed onto the transport map, alternated. The user function, its
# validation and the family's descriptor; the C side is
# src/core/algo_ots.c, the hot loop the backend op ot_assign.

#' OTS/FIT: generative training by explicit semi-discrete transport
#'
#' Trains a generator `G` by Algorithm 3 of Chen et al. (2019), alternating
#' two steps each outer iteration (an "epoch"):
#'
#' * **OTS** (Algorithm 1): a dual vector `psi` over the `N` training rows
#'   `y_i` is ascended by Adam on the semi-discrete dual
#'   `D(psi) = E_z min_i [c(G(z), y_i) - psi_i] + mean(psi)`, whose gradient
#'   on a batch of `B` points is `1/N - count_i / B` (`count_i`: the points
#'   whose argmin is `i`). `psi` starts at 0 and is warm-started, with its
#'   Adam state, across outer iterations. OTS stops when the assignments are
#'   near uniform: every `ots_check_every` steps, the hits of the last
#'   `ots_window` steps in `min(ots_bins, N)` bins of consecutive rows must
#'   all lie within `ots_bounds` times their expected count (the public
#'   code's rule, 200 to 320 hits around 256, rescaled), or at
#'   `ots_max_steps`.
#' * **FIT** (Algorithm 2): one pass (`fit_passes`) over the `(z, T(G(z)))`
#'   pairs recorded during OTS, `T(a) = y_argmin_i c(a, y_i) - psi_i`, with
#'   one optimiser step of `G` per batch on the mean cost `c(G(z), T)`.
#'
#' `cost = "l1"` is `c(a, b) = sum_k |a_k - b_k|` (the paper's choice: crisper
#' images; no uniqueness guarantee for the map), `"l2"` is `|a - b|^2 / 2`.
#' The assignment `argmin_i c(a, y_i) - psi_i` over all `N` rows is the hot
#' loop, a fused backend op (a matrix product with a running argmin for
#' `"l2"`, a tiled SIMD kernel for `"l1"`).
#'
#' The defaults are the paper's for images (MNIST): latent 100, batch 64,
#' generator 100-512-512-512-d with ReLU and a tanh output, weights
#' N(0, 0.02), Adam 1e-4, 100 outer iterations; `psi` by Adam 0.1. For 2-D
#' data use a smaller generator with an identity output (see the vignette).
#'
#' The dual value is reported with the paper's sign: a lower bound of the
#' transport cost (for an exact `psi`), averaged over the last
#' `ots_check_every` steps; the primal `mean c(a, T(a))` is the cost of the
#' map found. With a learning rate of `psi` large against the cost scale
#' the dual stays low (lr 0.1 suits MNIST-L1 costs of about 100): follow the
#' primal and the exact distances then.
#'
#' **Time.** An OTS step costs `B x N x d` cost terms (`N` training rows of
#' `d` columns) and a FIT step one generator update, so the defaults are
#' slow on data of any size: on one core of a 2-core Zen 4 machine, 3000
#' images of 16 x 16 take about 90 s per outer iteration (the default 100
#' iterations: about 2.5 hours), and 4000 images of 28 x 28 with a width-32
#' DCGAN generator and `ots_max_steps = 2000` about 100 s
#' (`vignette("images")`). Start with a few `epochs` and a smaller
#' `ots_max_steps`, and see `wf_threads()`.
#'
#' @param data A numeric matrix or data frame, one sample per row (images:
#'   one image per row, e.g. from [wf_images()]).
#' @param cost "l1" or "l2" (squared Euclidean, halved).
#' @param epochs Outer iterations (OTS then FIT).
#' @param generator A [wf_mlp()] or [wf_layers()] specification (e.g.
#'   [wf_dcgan_generator()] for images).
#' @param latent_dim Dimension of the generator's standard normal input
#'   (left out: 100, or the input size of a [wf_layers()] generator whose
#'   input shape is set).
#' @param batch_size B, points per OTS and FIT step. A size larger than the training
#'   rows is reduced to their number, with a message (as in every family).
#' @param generator_optimizer The generator's optimiser (FIT).
#' @param dual_optimizer The dual vector's optimiser (OTS): [wf_adam()],
#'   [wf_sgd()] or [wf_rmsprop()].
#' @param ots_max_steps The step cap of one OTS.
#' @param ots_check_every Steps between checks of the stopping rule.
#' @param ots_window Steps whose assignments the rule counts (a multiple of
#'   `ots_check_every`).
#' @param ots_bins Bins of the rule's histogram (at most `N` are used).
#' @param ots_bounds The rule's bounds on each bin's count relative to its
#'   expected count, `c(low, high)`.
#' @param fit_passes Passes of FIT over the pairs recorded by OTS.
#' @param alternate `TRUE` (the algorithm) or `FALSE`: the paper's
#'   non-alternating ablation (its Figure 4), one OTS at the first outer
#'   iteration and FIT passes over its pairs in every outer iteration. The
#'   pairs live in the run's trainer: [wf_continue()] of such a fit solves
#'   OTS again at its first iteration, so run the ablation in one call.
#' @param eval_every Evaluate exact distances every this many outer
#'   iterations (and at the last).
#' @param eval_n Generated samples per evaluation, against as many held-out
#'   rows and as many training rows.
#' @inheritParams w1fe
#' @return A fit of class `wf_ots` (and `wf_fit`). `$metrics` has one row
#'   per outer iteration: `epoch`, `seconds`, `dual` (the OTS dual value),
#'   `primal` (mean transport cost of the map), `hist_min`, `hist_max` (the
#'   smallest and largest bin count over its expected count in the rule's
#'   last window), `ots_steps`, `ots_converged` (1 if the rule fired),
#'   `fit_loss_first`, `fit_loss_last` (mean FIT loss over the first and
#'   the last tenth of its steps), `fit_steps`, and, at evaluations, `w1`,
#'   `w2` (exact Euclidean W1 and W2 between `eval_n` generated samples and
#'   as many held-out rows) and `w1_train`, `w2_train` (against as many
#'   training rows); for 28 x 28 one-channel images also `fd_lenet`,
#'   `kd_lenet` and their `_se` against the held-out rows ([wf_frechet()],
#'   [wf_kid()] on [wf_features()]). `$dual` holds the dual vector (`$dual$psi`, one value
#'   per training row, with its optimiser state). Also `$generator`,
#'   `$settings`, `$status`.
#' @seealso [wf_semidiscrete()] (the solver alone, also as an evaluation
#'   metric), [wf_images()], [plot.wf_fit()] with `"images"`.
#' @references Chen, Telgarsky, Zhang, Bailey, Hsu, Peng (2019). A gradual,
#'   semi-discrete approach to generative network training via explicit
#'   Wasserstein minimization. ICML.
#' @export
#' @examples
#' x <- wf_toy("8gaussians", n = 600, seed = 1)
#' fit <- ots_fit(x, cost = "l2", epochs = 3, generator = wf_mlp(c(32, 32)),
#'                latent_dim = 2, ots_check_every = 200, ots_window = 400,
#'                ots_bins = 50, eval_n = 100, seed = 1, verbose = FALSE)
#' fit$metrics[, c("epoch", "dual", "primal", "ots_steps", "w1")]
ots_fit <- function(data, cost = "l1", epochs = 100L,
                    generator = wf_mlp(c(512, 512, 512), output_activation = "tanh",
                                       init = "normal", init_sd = 0.02),
                    latent_dim = 100L, batch_size = 64L,
                    generator_optimizer = wf_adam(1e-4), dual_optimizer = wf_adam(0.1),
                    ots_max_steps = 20000L, ots_check_every = 1000L, ots_window = 4000L,
                    ots_bins = 1000L, ots_bounds = c(0.78, 1.25), fit_passes = 1L,
                    alternate = TRUE, eval_every = 1L, eval_n = 1000L, holdout = NULL,
                    seed = NULL, device = "auto", verbose = interactive(),
                    callbacks = list()) {
  run <- training_args()
  check_choice(cost, wf_choices("cost"), "cost")
  check_spec(generator, "generator")
  # a generator stack with a fixed input sets the latent dimension unless
  # one is given
  given <- if (!missing(latent_dim)) check_count(latent_dim, "latent_dim", max = 2^20)
  latent_dim <- resolve_latent_dim(generator, given, 100L)
  check_residual_latent(generator, latent_dim, ncol(run$x))
  check_optimizer(generator_optimizer, "generator_optimizer")
  check_optimizer(dual_optimizer, "dual_optimizer")
  rule <- check_ots_rule(ots_max_steps, ots_check_every, ots_window, ots_bins, ots_bounds)
  fit_passes <- check_count(fit_passes, "fit_passes", max = 2^20)
  alternate <- check_flag(alternate, "alternate")
  split <- run_split(run)
  settings <- c(list(cost = cost, epochs = run$epochs, latent_dim = latent_dim,
                     batch_size = run$batch_size, fit_passes = fit_passes,
                     alternate = alternate, eval_every = run$eval_every,
                     generator = generator, generator_optimizer = generator_optimizer,
                     dual_optimizer = dual_optimizer), rule)
  nets <- list(generator = list(spec = generator, input_dim = latent_dim,
                                output_dim = ncol(run$x)))
  fit <- new_fit(ots_algorithm, "ots", run, split, nets, settings)
  fit$dual <- new_dual(nrow(split$train))
  fit$call <- match.call()
  train_fit(fit, run$epochs, run$verbose, run$callbacks)
}

# The stopping rule's settings, validated.
check_ots_rule <- function(max_steps, check_every, window, bins, bounds,
                           prefix = "ots_") {
  arg <- function(nm) paste0(prefix, nm)
  max_steps <- check_count(max_steps, arg("max_steps"), max = 2^24)
  check_every <- check_count(check_every, arg("check_every"), max = 2^24)
  window <- check_count(window, arg("window"), max = 2^26)
  if (window %% check_every != 0L) {
    wf_abort(sprintf("`%s` (%d) must be a multiple of `%s` (%d).", arg("window"), window,
                     arg("check_every"), check_every),
             class = "wgflow_error_arg", arg = arg("window"))
  }
  bins <- check_count(bins, arg("bins"), max = 2^24)
  if (!is.numeric(bounds) || length(bounds) != 2L || anyNA(bounds) ||
      !all(is.finite(bounds)) || bounds[1] < 0 || bounds[1] > 1 || bounds[2] < 1) {
    arg_error(arg("bounds"), "two finite numbers c(low, high) with 0 <= low <= 1 <= high",
              bounds)
  }
  stats::setNames(list(max_steps, check_every, window, bins, as.double(bounds)),
                  arg(c("max_steps", "check_every", "window", "bins", "bounds")))
}

# The dual vector and its optimiser state: an environment, so the epochs
# of a run update it in place (like a wf_net); saved with the fit.
new_dual <- function(n) {
  dual <- new.env(parent = emptyenv())
  dual$n <- as.integer(n)
  dual$psi <- NULL # NULL: zero, and a fresh optimiser state
  dual$trainer <- NULL # the trainer it was last given to
  dual$pairs <- FALSE # whether that trainer holds OTS pairs for FIT
  dual$trainer_step <- NULL # the optimiser steps of that trainer's dual
  dual
}

# Give a trainer the dual state (when the fit already has one).
restore_dual <- function(dual, trainer) {
  if (!is.null(dual$psi)) {
    for (nm in c("psi", "m1", "m2")) {
      buf <- if (nm == "psi") "psi" else paste0("psi_", nm)
      .Call(ffi_trainer_buffer_set, trainer, buf, as.double(dual[[nm]]))
    }
    run_phase(trainer, "restore", list(psi_step = dual$step))
  }
  dual$trainer <- trainer
  dual$pairs <- FALSE
  dual$trainer_step <- NULL
  invisible(dual)
}

# Copy the trainer's dual state up into the fit: once per run (at its end,
# and for a callback's snapshot), not per outer iteration. The trainer's
# dual is always finite: an OTS phase that blows it up fails and puts back
# the state it started from (src/core/algo_ots.c), and the run ends as
# "diverged".
sync_dual <- function(fit, trainer) {
  dual <- fit$dual
  if (!identical(dual$trainer, trainer) || is.null(dual$trainer_step)) return(invisible())
  n <- dual$n
  got <- lapply(c(psi = "psi", m1 = "psi_m1", m2 = "psi_m2"), function(buf) {
    .Call(ffi_trainer_buffer_get, trainer, buf, n, FALSE)
  })
  dual$psi <- got$psi
  dual$m1 <- got$m1
  dual$m2 <- got$m2
  dual$step <- dual$trainer_step
  invisible(dual)
}

# The OTS phase's arguments from validated settings (prefix "ots_" for a
# fit, "" for wf_semidiscrete).
ots_phase_args <- function(s, cost, batch_size, opt, record, source, prefix = "ots_") {
  g <- function(nm) s[[paste0(prefix, nm)]]
  list(batch_size = batch_size, cost = cost, max_steps = g("max_steps"),
       check_every = g("check_every"), window = g("window"), bins = g("bins"),
       low = g("bounds")[1], high = g("bounds")[2], record = as.integer(record),
       source = as.integer(source), psi_opt = opt$kind, psi_lr = opt$lr,
       psi_beta1 = opt$beta1, psi_beta2 = opt$beta2, psi_eps = opt$eps,
       psi_momentum = opt$momentum, psi_weight_decay = opt$weight_decay)
}

# One outer iteration: OTS (recording pairs), then FIT over them. Without
# alternation OTS runs once per trainer (the first outer iteration of a run,
# or of a continued run, whose trainer has no pairs yet); the OTS metrics
# of an outer iteration without it are NA.
ots_epoch <- function(fit, trainer) {
  s <- fit$settings
  dual <- fit$dual
  if (!identical(dual$trainer, trainer)) restore_dual(dual, trainer)
  ots <- NULL
  if (s$alternate || !dual$pairs) {
    ots <- run_phase(trainer, "ots", ots_phase_args(s, s$cost, s$batch_size,
                                                    s$dual_optimizer, TRUE, FALSE))
    dual$pairs <- TRUE
    dual$trainer_step <- ots[["psi_step"]]
  }
  # FIT reports the mean loss of its first and last tenth of steps
  fit_out <- run_phase(trainer, "fit", list(cost = s$cost, passes = s$fit_passes,
                                            share = 0.1))
  metrics <- train_metrics(fit_algorithm(fit))
  stats::setNames(c(ots, fit_out)[metrics], metrics)
}

# Exact W1 and W2 of eval_n generated samples against as many held-out rows
# and as many training rows (evenly spaced, fixed); for 28 x 28 one-channel
# images also fd_lenet and kd_lenet against the held-out rows.
ots_evaluation <- function(fit) {
  s <- fit$settings
  n <- s$eval_n
  held <- fit$holdout[seq_len(n), , drop = FALSE]
  rows <- unique(round(seq(1, nrow(fit$data), length.out = min(n, nrow(fit$data)))))
  train <- fit$data[rows, , drop = FALSE]
  gen_ptr <- net_ptr(fit$generator)
  na <- list(w1 = NA_real_, w2 = NA_real_, w1_train = NA_real_, w2_train = NA_real_)
  feat <- feature_evaluator(fit, held)
  function() {
    y <- .Call(ffi_generate, gen_ptr, n, fit$eval_key)
    if (!all_finite(y)) {
      return(with_feature_metrics(list(values = na, diverged = TRUE),
                                  if (!is.null(feat)) feature_na))
    }
    yt <- y[seq_len(nrow(train)), , drop = FALSE]
    ev <- list(values = list(w1 = ot_distance(y, held, 1), w2 = ot_distance(y, held, 2),
                             w1_train = ot_distance(yt, train, 1),
                             w2_train = ot_distance(yt, train, 2)),
               diverged = FALSE)
    with_feature_metrics(ev, if (!is.null(feat)) feat(y))
  }
}

ots_label <- function(fit) {
  s <- fit$settings
  cost <- switch(s$cost %||% "", l1 = "L1", l2 = "squared L2", "?")
  if (isFALSE(s$alternate)) {
    return(sprintf("OTS then FIT (non-alternating, %s)", cost))
  }
  sprintf("OTS/FIT (%s)", cost)
}

ots_algorithm <- register_algorithm(new_algorithm(
  name = "ots",
  nets = "generator",
  data = function(fit) list(data = fit$data),
  phases = c("ots", "fit"),
  state_outputs = "psi_step", # the dual's optimiser step, kept in the fit
  sync_state = sync_dual,
  eval_metrics = c("w1", "w2", "w1_train", "w2_train"),
  evaluate = ots_evaluation,
  metric_titles = c(dual = "OTS dual value (lower bound of the transport cost)",
                    primal = "OTS primal: mean cost of the map",
                    hist_min = "smallest bin / expected (assignments)",
                    hist_max = "largest bin / expected (assignments)",
                    ots_steps = "OTS steps", ots_converged = "OTS stopping rule fired",
                    fit_loss_first = "FIT loss (first tenth of its steps)",
                    fit_loss_last = "FIT loss (last tenth of its steps)",
                    fit_steps = "FIT steps",
                    w1_train = "exact W1 (generated vs training rows)",
                    w2_train = "exact W2 (generated vs training rows)"),
  setting_keys = c("cost", "alternate", "batch_size", "fit_passes"),
  label = ots_label,
  epoch = ots_epoch
))
