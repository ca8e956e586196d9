# Barycentric-OT (Seguy et al. 2018), the W2GAN paper's baseline for maps
# between two samples. The C side is src/core/algo_barycentric.c.

#' Barycentric-OT: a map from the regularised optimal plan
#'
#' The two-stage method of Seguy et al. ("Large-scale optimal transport and
#' mapping estimation"), a baseline of the W2GAN paper: first SGD on the
#' regularised dual of optimal transport between the source and the data,
#' two potentials `u` (source side) and `v` (data side) maximising
#' `mean u(a) + mean v(b) - mean pen(u(a) + v(b) - |a - b|^2 / 2)` with
#' `pen(r) = lambda max(0, r)^2` ("l2") or `lambda exp(r / lambda)`
#' ("entropic"); then a generator regressed onto the barycentric projection
#' of the regularised plan, minimising `mean h(a, b) |G(a) - b|^2 / 2` with
#' `h = pen'(r)`, the plan's density. One epoch is `steps_per_epoch`
#' updates; the first `dual_epochs` epochs are the dual stage.
#'
#' Defaults as the W2GAN public code for 2-D maps: batch 512, the L2
#' penalty with `lambda = 200` (Seguy's epsilon = 1 / (4 lambda)), Adam
#' with learning rate 0.005 (the paper's A.10), 20000 dual and 20000 map
#' updates. For "entropic", `lambda` is Seguy's epsilon: take it small
#' (e.g. 0.05). Evaluation as [w2gan()] with a source.
#'
#' **Time.** The defaults (40000 updates of batch 512) take about two
#' minutes on 1200 points in two dimensions on one core; fewer `epochs`
#' give a quick look.
#'
#' @inheritParams w2gan
#' @param source The source sample, a numeric matrix with the columns of
#'   `data`.
#' @param epochs Epochs in all (dual stage, then map stage).
#' @param dual_epochs Epochs of the dual stage.
#' @param steps_per_epoch Updates per epoch.
#' @param potential [wf_mlp()] or [wf_layers()] specification of `u` and
#'   `v`.
#' @param generator [wf_mlp()] or [wf_layers()] specification of the map
#'   (default: the identity start of [w2gan()]).
#' @param lambda The regulariser's weight (> 0).
#' @param dual_optimizer,map_optimizer [wf_adam()] and friends.
#' @return A fit of class `wf_barycentric` and `wf_fit`: `$metrics` has
#'   `ot_dual` (`mean u + mean v`, an estimate of `W2^2 / 2`) and
#'   `dual_penalty` in dual epochs, `map_loss` in map epochs, and the map
#'   evaluations. `$u`, `$v`, `$generator` are [wf_net()]s.
#' @seealso [w2gan()], [wf_discrete_map()].
#' @references Seguy, Damodaran, Flamary, Courty, Rolet, Blondel (2018).
#'   Large-scale optimal transport and mapping estimation. ICLR.
#' @export
#' @examples
#' p <- wf_toy_pair("4gaussians", n = 1200, seed = 1)
#' fit <- barycentric_ot(p$target, p$source, epochs = 20, dual_epochs = 10,
#'                       batch_size = 128, potential = wf_mlp(c(32, 32)),
#'                       generator = wf_mlp(c(32, 32), residual = TRUE),
#'                       eval_every = 10, eval_n = 200, seed = 1, verbose = FALSE)
#' fit$metrics[, c("epoch", "ot_dual", "map_loss", "map_error")]
barycentric_ot <- function(data, source, epochs = 4000L, dual_epochs = 2000L,
                           steps_per_epoch = 10L, potential = wf_mlp(c(128, 128, 128)),
                           generator = identity_generator(), batch_size = 512L,
                           lambda = if (identical(regularizer, "entropic")) 0.05 else 200,
                           regularizer = "l2",
                           dual_optimizer = wf_adam(0.005, 0.9, 0.999),
                           map_optimizer = wf_adam(0.005, 0.9, 0.999),
                           eval_every = 50L, eval_n = 512L, holdout = NULL, seed = NULL,
                           device = "auto", verbose = interactive(), callbacks = list()) {
  if (missing(source)) arg_error("source", "a numeric matrix", NULL)
  run <- training_args(min_rows = 3L)
  dual_epochs <- check_count(dual_epochs, "dual_epochs", min = 0L)
  steps_per_epoch <- check_count(steps_per_epoch, "steps_per_epoch")
  check_spec(potential, "potential")
  check_spec(generator, "generator")
  check_batch_norm_batch(generator, run$batch_size)
  check_choice(regularizer, wf_choices("regularizer"), "regularizer")
  lambda <- check_number(lambda, "lambda", min = 0, max = float_max, min_open = TRUE)
  check_optimizer(dual_optimizer, "dual_optimizer")
  check_optimizer(map_optimizer, "map_optimizer")
  split <- run_split(run)
  settings <- list(epochs = run$epochs, dual_epochs = dual_epochs,
                   steps_per_epoch = steps_per_epoch, batch_size = run$batch_size,
                   lambda = lambda, regularizer = regularizer, eval_every = run$eval_every,
                   potential = potential, generator = generator,
                   dual_optimizer = dual_optimizer, map_optimizer = map_optimizer,
                   u_optimizer = dual_optimizer, v_optimizer = dual_optimizer,
                   generator_optimizer = map_optimizer)
  d <- ncol(run$x)
  # u takes the source, v the data, the map the source: a stack without an
  # input shape takes their image shape
  nets <- list(u = list(spec = with_input_shape(potential, split$source_shape),
                        input_dim = d, output_dim = 1L, arg = "potential"),
               v = list(spec = with_input_shape(potential, image_shape(run$x)),
                        input_dim = d, output_dim = 1L, arg = "potential"),
               generator = list(spec = with_input_shape(generator, split$source_shape),
                                input_dim = d, output_dim = d))
  fit <- new_fit(barycentric_algorithm, "barycentric", run, split, nets, settings)
  fit <- add_source(fit, split)
  fit$call <- match.call()
  train_fit(fit, run$epochs, run$verbose, run$callbacks)
}

# One epoch: steps_per_epoch updates, split between the stages by u's steps.
barycentric_epoch <- function(fit, trainer) {
  s <- fit$settings
  run_phase(trainer, "steps", list(batch_size = s$batch_size, steps = s$steps_per_epoch,
                                   dual_steps = s$dual_epochs * s$steps_per_epoch,
                                   lambda = s$lambda, reg = s$regularizer))
}

barycentric_algorithm <- register_algorithm(new_algorithm(
  name = "barycentric",
  nets = c("u", "v", "generator"),
  data = function(fit) list(data = fit$data, source = fit$source),
  phases = "steps",
  eval_metrics = map_eval_metrics,
  evaluate = map_evaluation,
  metric_titles = c(ot_dual = "dual estimate of W2^2 / 2 (regularised)",
                    dual_penalty = "dual penalty", map_loss = "barycentric regression loss",
                    map_metric_titles),
  setting_keys = c("regularizer", "lambda", "batch_size", "dual_epochs"),
  label = function(fit) {
    sprintf("Barycentric-OT (%s)", if (identical(fit$settings$regularizer, "entropic"))
      "entropic" else "L2")
  },
  epoch = barycentric_epoch
))
