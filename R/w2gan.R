# W2GAN (Leygonie et al., "Adversarial computation of optimal transport
# maps") and W2-FE, its persistent form: the user functions, their
# validation and the family's descriptors. The C side is
# src/core/algo_w2.c.

#' W2GAN: adversarial optimal transport maps with the W2 dual
#'
#' Learns the Monge map of the quadratic cost from a source sample to the
#' data (`source =` a matrix), or a generator from `N(0, I)` latents, by the
#' algorithm of Leygonie et al.: a critic of two potentials, `f` on the
#' generated side and `g` on the data side, maximises
#' `mean f(G(z)) + mean g(x)` under the constraint
#' `f(a) + g(b) <= |a - b|^2 / 2`, and the generator descends `mean f(G(z))`,
#' moving its samples along `-grad f` towards `T(a) = a - grad f(a)`, the
#' Monge map from the generated law to the data. With the identity-start
#' generator `G(z) = z + H(z)` it follows the W2 geodesic from the source
#' to the data and ends at the Monge map (the paper's Propositions 1-3).
#'
#' The constraint is enforced by penalties (ALGORITHMS.md section 2):
#' \describe{
#'   \item{inequality}{`lambda_ineq * mean(max(0, f(a) + g(b) - |a - b|^2 / 2)^2)`
#'     on the batch's pairs, on interpolates `s a + (1 - s) b'` (the
#'     constraint on the convex hull of the supports, App. A.7), or both
#'     (`ineq`); `regularizer = "entropic"` replaces it by
#'     `lambda_ineq * mean(exp((f + g - c) / lambda_ineq))` (then
#'     `lambda_ineq` is the entropic epsilon and should be small).}
#'   \item{equality}{`lambda_eq * mean((f(a) + g(a - grad f(a)) - |grad f(a)|^2 / 2)^2)`
#'     and the same on the data side: complementary slackness at the map
#'     (App. A.7), its gradient flowing through `a - grad f(a)` by a double
#'     backward. `lambda_eq = 0` turns it off.}
#'   \item{epsilon reparameterisation}{`reparam = TRUE`: one potential is
#'     written through the other and a net `e`. `reparam_side = "data"`:
#'     `g = -f + e` (the paper's App. A.8 / eq. (26)), with
#'     `lambda_e * mean(max(0, e(x))^2)` on the data batch;
#'     `reparam_side = "generated"`: `f = -g + e` (the public code's
#'     arrangement: its free net is the data side's, and the generator
#'     descends `mean (e - g)(G(z))`), with the penalty on the generated
#'     batch. Either penalty holds `e <= 0`, since
#'     `f(x) + g(x) <= c(x, x) = 0`.}
#' }
#' The defaults are the public code's for 2-D maps: both inequality
#' penalties and the equality penalty at 200, the reparameterisation without
#' its penalty, 5 critic steps per generator step, batch 512, Adam with
#' learning rates 5e-4 (critic) and 1e-4 (generator), critic weights
#' `N(0, 0.1^2)`. One epoch is one generator update; the paper trains 5000.
#' The paper's algorithm boxes print the generator step with the other sign;
#' its equations (6)-(7) and its code descend `mean f(G(z))`, as here.
#' Two defaults are not the public code's, so that runs made before the
#' options existed stay the same: the reparameterised side (the data
#' side, as the paper's appendix writes it; the code reparameterises the
#' generated side) and the batches (i.i.d. rows; the code's 2-D batches
#' have equal counts of every mixture component). `reparam_side =
#' "generated"` and `batches = "balanced"` with the components' labels run
#' the public code's arrangement, which `vignette("w2gan")` compares over
#' 8 seeds on the checkerboard.
#'
#' **Batches.** `batches = "iid"` (the default) draws every batch's rows
#' uniformly with replacement from the training rows: it needs no labels,
#' is the plain stochastic gradient of the objective on the samples, and
#' is what every other family does. `batches = "balanced"` needs the
#' mixture component of every row (`data_labels`, and `source_labels` with
#' a source; [wf_toy_pair()] returns them): each batch of `batch_size`
#' rows then takes `batch_size %/% k` rows of each of the `k` components
#' (one more for the first `batch_size %% k`), uniformly with replacement
#' within a component, as the public code's round-robin batches do. The
#' rows of each side are arranged so that every source component meets
#' every data component in equally many pairs (the public code shuffles
#' each batch; in expectation the same).
#'
#' **Evaluation.** With a source, every `eval_every` epochs the generator
#' maps `eval_n` held-out source rows and is compared with the Discrete-OT
#' map ([wf_discrete_map()]) of those rows to as many held-out data rows:
#' `map_error` is the mean `|G(x) - T_disc(x)|` (the public code's logged
#' metric), `map_cosine` the mean cosine between `G(x) - x` and
#' `T_disc(x) - x`, `w2` the exact W2 between the images and the held-out
#' data. Which rows: without labels, rows held out at random (`holdout`,
#' drawn with the seed); with `data_labels` / `source_labels` (whatever
#' `batches`), that side's held-out rows are balanced: of the `n` held out
#' (`eval_n` unless `holdout` says otherwise), `n %/% k` of each component
#' and one more of the first `n %% k`, in round-robin order so that the
#' first `eval_n` are balanced too, as the public code's fixed evaluation
#' batch. Random rows have component counts that
#' differ between the two sides, and the Discrete-OT map between them must
#' then send some points to another component: the error of even the exact
#' continuous map is inflated (on 4gaussians about 0.07-0.09 against
#' 0.035 on balanced rows). An explicit `holdout` matrix is used as given.
#' Without a source: the exact W1 and W2 of `eval_n` samples against the
#' held-out data rows (balanced with `data_labels`).
#'
#' @param data The target sample: a numeric matrix or data frame.
#' @param source `NULL` (generate from `N(0, I)`), or the source sample, a
#'   numeric matrix with the columns of `data`: then the generator learns a
#'   map from it, and `predict(fit, newdata = x)` maps points.
#' @param epochs Generator updates (critic phases) to run.
#' @param critic [wf_mlp()] or [wf_layers()] specification of each
#'   potential (no BatchNorm).
#' @param generator [wf_mlp()] or [wf_layers()] specification of the
#'   generator; the default is the paper's identity start (residual,
#'   BatchNorm, Linear weights and BatchNorm gamma `N(0, 0.01^2)`).
#' @param latent_dim Without a source, the latent dimension (default: the
#'   data's, or the input size of a [wf_layers()] generator whose input
#'   shape is set).
#' @param batch_size Mini-batch size. A size larger than the training rows
#'   of the data or the source is reduced to the smaller, with a message.
#' @param batches "iid" (rows uniform with replacement; the default) or
#'   "balanced" (equal counts of every mixture component in every batch,
#'   as the public code; needs `data_labels`, and `source_labels` with a
#'   source, and `batch_size` at least the number of components).
#' @param data_labels,source_labels `NULL`, or the mixture component of
#'   every row of `data` / `source` (a vector without `NA`: factor,
#'   integer, character), e.g. from `wf_toy_pair(labels = TRUE)`. They
#'   balance the batches (`batches = "balanced"`) and the held-out
#'   evaluation rows (always, when given).
#' @param critic_steps Critic updates per generator update.
#' @param ineq Where the inequality penalty applies: "both", "pairs",
#'   "interpolates" or "none".
#' @param lambda_ineq,lambda_eq,lambda_e Penalty weights (>= 0).
#' @param reparam Reparameterise one potential through the other and a net
#'   `e` (`reparam_side`).
#' @param reparam_side Which potential: "data" (`g = -f + e`, the paper's
#'   appendix; the default) or "generated" (`f = -g + e`, the public
#'   code's).
#' @param regularizer "l2" or "entropic".
#' @param critic_optimizer,generator_optimizer [wf_adam()] and friends.
#' @inheritParams w1fe
#' @return A fit of class `wf_w2gan` (with a source, a map fit) and
#'   `wf_fit`: `$metrics` has one row per epoch with `critic_loss`,
#'   `w2_dual` (the critic's estimate of `W2^2 / 2`, `mean f + mean g`),
#'   `ineq_penalty`, `eq_penalty`, `e_penalty` (NA when off), `gen_loss`
#'   (`mean f(G(z))`), and the evaluations. `$f`, `$g`, `$generator` are
#'   [wf_net()]s (with `reparam`, the reparameterised side's net is `e`:
#'   `$g` on the data side, `$f` on the generated side;
#'   [wf_transport_map()] and `plot(fit, "potential")` combine them);
#'   `$source`, `$source_holdout` the source's training and held-out rows;
#'   `$labels` the labels of the training and held-out rows of each side,
#'   when given.
#' @seealso [w2fe()], [wf_transport_map()], [wf_discrete_map()],
#'   [barycentric_ot()], [wgan()] (with `source =`).
#' @references Leygonie, She, Almahairi, Rajeswar, Courville (2019).
#'   Adversarial computation of optimal transport maps. arXiv:1906.09691.
#' @export
#' @examples
#' p <- wf_toy_pair("4gaussians", n = 1200, seed = 1)
#' fit <- w2gan(p$target, source = p$source, epochs = 20, batch_size = 128,
#'              critic = wf_mlp(c(32, 32), init = "normal", init_sd = 0.1),
#'              generator = wf_mlp(c(32, 32), norm = "batch", residual = TRUE,
#'                                 init = "normal", gamma_init = "normal"),
#'              eval_every = 10, eval_n = 200, seed = 1, verbose = FALSE)
#' fit$metrics[, c("epoch", "map_error", "w2")]
#' head(predict(fit, newdata = p$source[1:3, ]))
#'
#' # the public code's arrangement: balanced batches and evaluation rows,
#' # the generated side reparameterised
#' q <- wf_toy_pair("checkerboard", n = 1200, seed = 1, labels = TRUE)
#' fit <- w2gan(q$target, source = q$source, epochs = 10, batch_size = 100,
#'              batches = "balanced", data_labels = q$target_labels,
#'              source_labels = q$source_labels, reparam_side = "generated",
#'              critic = wf_mlp(c(32, 32), init = "normal", init_sd = 0.1),
#'              generator = wf_mlp(c(32, 32), norm = "batch", residual = TRUE,
#'                                 init = "normal", gamma_init = "normal"),
#'              eval_every = 5, eval_n = 200, seed = 1, verbose = FALSE)
#' table(fit$labels$source_holdout[1:200])
w2gan <- function(data, source = NULL, epochs = 5000L,
                  critic = wf_mlp(c(128, 128, 128), init = "normal", init_sd = 0.1),
                  generator = identity_generator(), latent_dim = NULL,
                  batch_size = 512L, batches = "iid", data_labels = NULL,
                  source_labels = NULL, critic_steps = 5L, ineq = "both",
                  lambda_ineq = 200, lambda_eq = 200, reparam = TRUE,
                  reparam_side = "data", lambda_e = 0, regularizer = "l2",
                  critic_optimizer = wf_adam(5e-4, 0.9, 0.999),
                  generator_optimizer = wf_adam(1e-4, 0.9, 0.999),
                  eval_every = 50L, eval_n = 512L, holdout = NULL, seed = NULL,
                  device = "auto", verbose = interactive(), callbacks = list()) {
  run <- training_args(min_rows = 3L)
  fit <- do.call(new_w2, c(list(run), mget(w2_args)))
  fit$call <- match.call()
  train_fit(fit, run$epochs, run$verbose, run$callbacks)
}

#' W2-FE: forward-Euler steps of the W2 gradient flow with persistent training
#'
#' The W1-FE loop of Malik & Huang ([w1fe()]) with the W2 critic of
#' [w2gan()] (their companion paper, arXiv:2406.13619): each epoch trains
#' the two potentials for `critic_steps` updates, takes a forward-Euler step
#' `zeta = G(z) - step_size * grad f(G(z))` on a fresh batch (with
#' `step_size = 1`, `zeta = T(G(z))`, the Monge map's image) with the
#' targets frozen, and makes `persistency` (K) generator updates on
#' `mean |zeta - G(z)|^2` with the same `z`. With K = 1 and plain SGD the
#' update is exactly the W2GAN generator update with learning rate
#' `2 * step_size * lr` (the argument of their Proposition 4.1; a test).
#' Batches, labels, the reparameterised side and the evaluation are
#' [w2gan()]'s; with `reparam_side = "generated"` the Euler step follows
#' `-grad f = grad g - grad e`.
#'
#' @inheritParams w2gan
#' @param persistency K, generator updates per Euler step (>= 1).
#' @param step_size The Euler time step epsilon (> 0).
#' @return A fit of class `wf_w2fe` and `wf_fit`, as
#'   [w2gan()]'s with `euler_grad_norm` (mean `|grad f(G(z))|`),
#'   `fit_mse_first` and `fit_mse_last` in place of `gen_loss`.
#' @seealso [w2gan()], [w1fe()].
#' @export
#' @examples
#' p <- wf_toy_pair("4gaussians", n = 1200, seed = 1)
#' fit <- w2fe(p$target, source = p$source, persistency = 3, epochs = 10,
#'             batch_size = 128,
#'             critic = wf_mlp(c(32, 32), init = "normal", init_sd = 0.1),
#'             generator = wf_mlp(c(32, 32), norm = "batch", residual = TRUE,
#'                                init = "normal", gamma_init = "normal"),
#'             eval_every = 5, eval_n = 200, seed = 1, verbose = FALSE)
#' fit
w2fe <- function(data, source = NULL, persistency = 3L, step_size = 1, epochs = 5000L,
                 critic = wf_mlp(c(128, 128, 128), init = "normal", init_sd = 0.1),
                 generator = identity_generator(), latent_dim = NULL,
                 batch_size = 512L, batches = "iid", data_labels = NULL,
                 source_labels = NULL, critic_steps = 5L, ineq = "both",
                 lambda_ineq = 200, lambda_eq = 200, reparam = TRUE,
                 reparam_side = "data", lambda_e = 0, regularizer = "l2",
                 critic_optimizer = wf_adam(5e-4, 0.9, 0.999),
                 generator_optimizer = wf_adam(1e-4, 0.9, 0.999),
                 eval_every = 50L, eval_n = 512L, holdout = NULL, seed = NULL,
                 device = "auto", verbose = interactive(), callbacks = list()) {
  run <- training_args(min_rows = 3L)
  persistency <- check_count(persistency, "persistency")
  step_size <- check_number(step_size, "step_size", min = 0, min_open = TRUE)
  fit <- do.call(new_w2, c(list(run), mget(w2_args),
                           list(persistency = persistency, step_size = step_size)))
  fit$call <- match.call()
  train_fit(fit, run$epochs, run$verbose, run$callbacks)
}

# The arguments of w2gan() and w2fe() that are the W2 families' own (not
# training_args()'s), passed by name to new_w2().
w2_args <- c("critic", "generator", "latent_dim", "critic_steps", "ineq", "lambda_ineq",
             "lambda_eq", "reparam", "reparam_side", "lambda_e", "regularizer",
             "critic_optimizer", "generator_optimizer", "batches", "data_labels",
             "source_labels")

# Validate the W2 families' own arguments and build the fit; run: the
# shared ones (training_args()). persistency NULL: W2GAN.
new_w2 <- function(run, critic, generator, latent_dim, critic_steps, ineq, lambda_ineq,
                   lambda_eq, reparam, reparam_side, lambda_e, regularizer,
                   critic_optimizer, generator_optimizer, batches, data_labels,
                   source_labels, persistency = NULL, step_size = NULL) {
  x <- run$x
  source <- run$source
  batch_size <- run$batch_size
  check_spec(critic, "critic")
  check_spec(generator, "generator")
  refuse_batch_norm(critic, "critic", "the potentials' penalties need a double backward")
  check_batch_norm_batch(generator, batch_size)
  critic_steps <- check_count(critic_steps, "critic_steps")
  check_choice(ineq, wf_choices("ineq"), "ineq")
  lambda_ineq <- check_number(lambda_ineq, "lambda_ineq", min = 0, max = float_max)
  lambda_eq <- check_number(lambda_eq, "lambda_eq", min = 0, max = float_max)
  check_flag(reparam, "reparam")
  check_choice(reparam_side, c("data", "generated"), "reparam_side")
  lambda_e <- check_number(lambda_e, "lambda_e", min = 0, max = float_max)
  check_choice(batches, c("iid", "balanced"), "batches")
  if (!is.null(data_labels)) check_labels(data_labels, nrow(x), "data_labels")
  if (!is.null(source_labels) && is.null(source)) {
    wf_abort("`source_labels` label the rows of a `source`; none is given.",
             class = "wgflow_error_arg", arg = "source_labels")
  }
  if (batches == "balanced") {
    if (is.null(data_labels)) {
      wf_abort("`batches = \"balanced\"` needs `data_labels`: the component of every data row.",
               class = "wgflow_error_arg", arg = "data_labels")
    }
    if (!is.null(source) && is.null(source_labels)) {
      wf_abort(paste0("`batches = \"balanced\"` with a `source` needs `source_labels`: ",
                      "the component of every source row."),
               class = "wgflow_error_arg", arg = "source_labels")
    }
  }
  check_choice(regularizer, wf_choices("regularizer"), "regularizer")
  if (regularizer == "entropic" && ineq != "none" && lambda_ineq == 0) {
    wf_abort("The entropic regulariser needs `lambda_ineq` > 0 (its epsilon).",
             class = "wgflow_error_arg", arg = "lambda_ineq")
  }
  check_optimizer(critic_optimizer, "critic_optimizer")
  check_optimizer(generator_optimizer, "generator_optimizer")
  map <- !is.null(source)
  if (map) {
    split <- run_split(run, data_labels, source_labels)
    if (!is.null(latent_dim)) {
      wf_abort("`latent_dim` is the source's width when a `source` is given; leave it NULL.",
               class = "wgflow_error_arg", arg = "latent_dim")
    }
    latent_dim <- ncol(x)
  } else {
    split <- split_balanced(x, data_labels, run$holdout, run$eval_n, run$seed, "data_labels")
    latent_dim <- resolve_latent_dim(generator, latent_dim, ncol(x))
  }
  strata <- NULL
  if (batches == "balanced") {
    strata <- list(data = strata_of(split$train, split$labels)$sizes,
                   source = if (map) strata_of(split$source, split$source_labels)$sizes)
    k <- max(lengths(strata))
    if (batch_size < k) {
      wf_abort(sprintf(paste0("Balanced batches need `batch_size` >= the number of ",
                              "components (%d), not %d."), k, batch_size),
               class = "wgflow_error_arg", arg = "batch_size")
    }
  }
  check_residual_latent(generator, latent_dim, ncol(x))
  settings <- list(persistency = persistency, step_size = step_size, epochs = run$epochs,
                   latent_dim = latent_dim, batch_size = batch_size,
                   batches = batches, critic_steps = critic_steps, ineq = ineq,
                   lambda_ineq = lambda_ineq, lambda_eq = lambda_eq, reparam = reparam,
                   reparam_side = reparam_side, lambda_e = lambda_e,
                   regularizer = regularizer, eval_every = run$eval_every,
                   critic = critic, generator = generator,
                   critic_optimizer = critic_optimizer,
                   f_optimizer = critic_optimizer, g_optimizer = critic_optimizer,
                   generator_optimizer = generator_optimizer)
  settings <- settings[!vapply(settings, is.null, logical(1))]
  d <- ncol(x)
  # the potentials take the data (a stack without an input shape takes the
  # images'); a map's generator takes the source
  potential <- with_input_shape(critic, image_shape(x))
  if (map) generator <- with_input_shape(generator, split$source_shape)
  nets <- list(f = list(spec = potential, input_dim = d, output_dim = 1L, arg = "critic"),
               g = list(spec = potential, input_dim = d, output_dim = 1L, arg = "critic"),
               generator = list(spec = generator, input_dim = latent_dim, output_dim = d))
  family <- if (is.null(persistency)) "w2gan" else "w2fe"
  fit <- new_fit(get(family, envir = wf_algorithms), family, run, split, nets, settings)
  if (map) fit <- add_source(fit, split)
  if (!is.null(data_labels) || !is.null(source_labels)) {
    fit$labels <- list(data = split$labels, holdout = split$held_labels,
                       source = split$source_labels,
                       source_holdout = split$source_held_labels)
  }
  fit$strata <- strata
  fit
}

# The data sets of a W2 fit's trainer: the training rows, sorted by
# component for balanced batches.
w2_data <- function(fit) {
  bal <- !is.null(fit$strata)
  out <- list(data = if (bal) strata_of(fit$data, fit$labels$data)$x else fit$data)
  if (!is.null(fit$source)) {
    out$source <- if (bal) strata_of(fit$source, fit$labels$source)$x else fit$source
  }
  out
}

# The phase arguments of balanced batches: "<role>_strata" (the number of
# components) and "<role>_stratum_<c>" (their training rows), for the
# data and the source; 0 strata for i.i.d. batches.
w2_strata_args <- function(fit, roles = c("data", "source")) {
  out <- list()
  for (role in roles) {
    sizes <- fit$strata[[role]]
    out[[paste0(role, "_strata")]] <- length(sizes) # 0: i.i.d. rows
    if (length(sizes)) out[paste0(role, "_stratum_", seq_along(sizes))] <- as.list(sizes)
  }
  out
}

# One epoch: the critic phase, then the W2GAN generator update or W2-FE's
# Euler step and K regression updates.
w2_epoch <- function(fit, trainer) {
  s <- fit$settings
  rp <- w2_reparam(fit) # the reparameterised side, as C names it
  critic <- run_phase(trainer, "critic", c(list(
    batch_size = s$batch_size, steps = s$critic_steps, ineq = s$ineq,
    lambda_ineq = s$lambda_ineq, lambda_eq = s$lambda_eq,
    reparam = rp, lambda_e = s$lambda_e,
    reg = s$regularizer), w2_strata_args(fit)))
  src <- w2_strata_args(fit, "source")
  if (is.null(s$persistency)) {
    return(c(critic, run_phase(trainer, "generator",
                               c(list(batch_size = s$batch_size, steps = 1L, reparam = rp),
                                 src))))
  }
  euler <- run_phase(trainer, "euler", c(list(batch_size = s$batch_size,
                                              step_size = s$step_size, reparam = rp), src))
  c(critic, euler, run_phase(trainer, "fit", list(persistency = s$persistency)))
}

w2_label <- function(fit) {
  s <- fit$settings
  if (is.null(s$persistency)) "W2GAN" else sprintf("W2-FE (K = %s)", s$persistency)
}

w2_metric_titles <- c(w2_dual = "critic estimate of W2^2 / 2",
                      ineq_penalty = "inequality penalty", eq_penalty = "equality penalty",
                      e_penalty = "epsilon penalty", gen_loss = "mean f(G(z))",
                      euler_grad_norm = "mean |grad f(G(z))| (Euler step)")
w2_keys <- c("ineq", "lambda_ineq", "lambda_eq", "reparam", "reparam_side", "regularizer",
             "batch_size", "batches", "critic_steps")

# "w2gan_map", "w2fe_map": the family names of map fits saved before the
# source was an optional data role
register_algorithm(new_algorithm(
  name = "w2gan", aliases = "w2gan_map",
  nets = c("f", "g", "generator"),
  data = w2_data,
  optional_source = TRUE,
  phases = c("critic", "generator"),
  metric_titles = w2_metric_titles,
  setting_keys = w2_keys,
  label = w2_label,
  epoch = w2_epoch
))

register_algorithm(new_algorithm(
  name = "w2fe", aliases = "w2fe_map",
  nets = c("f", "g", "generator"),
  data = w2_data,
  optional_source = TRUE,
  phases = c("critic", "euler", "fit"),
  metric_titles = w2_metric_titles,
  setting_keys = c(w2_keys, "persistency", "step_size"),
  label = w2_label,
  epoch = w2_epoch
))
