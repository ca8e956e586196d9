# W1-FE (Malik & Huang, Algorithm 1) and the WGAN family as its K = 1 case:
# the user functions, their validation and the family's descriptor. The C
# side is src/core/algo_w1fe.c.

#' W1-FE: forward-Euler steps of the W1 gradient flow
#'
#' Trains a generator by Algorithm 1 of Malik & Huang: each epoch trains a
#' WGAN critic `phi` for `critic_steps` updates (the Kantorovich potential
#' from the generated law to the data), takes a forward-Euler step of the
#' W1 gradient flow on a fresh batch, `zeta = G(z) + step_size * grad phi(G(z))`
#' with the targets frozen, and then makes `persistency` (K) optimiser updates
#' of the generator on `mean |zeta - G(z)|^2` with the same `z`. With K = 1
#' this is WGAN (Proposition 4.1; see [wgan()]).
#'
#' Sign convention: the critic `phi` maximises `mean phi(x) - mean phi(G z)`,
#' so it is high on the data and samples move up its gradient. The paper
#' writes the step as `G(z) - eps grad psi` with `psi = -phi`, the
#' Kantorovich potential from the generated law to the data; this is the
#' direction in which Proposition 4.1 (K = 1 equals the WGAN generator
#' update) holds.
#'
#' The compiled core runs each of the three phases; R drives the epochs,
#' times them, and every `eval_every` epochs computes the exact W1 and W2
#' between `eval_n` generated samples and `eval_n` held-out data rows
#' ([wf_wasserstein()]), so convergence can be studied against epochs and
#' wall time. Data batches are drawn with replacement.
#'
#' @param data A numeric matrix or data frame (or tibble) of numeric
#'   columns, one sample per row. Samples ([wf_sample()]) come back in the
#'   same type, with the same column names. Images: a matrix of one image
#'   per row with the attribute `"image_shape"` `c(C, H, W)` (as
#'   [wf_images()] gives), or a 4-d array `[n, C, H, W]`; a [wf_layers()]
#'   critic without an input shape takes the images' shape.
#' @param persistency K, generator updates per Euler step (>= 1).
#' @param penalty The critic's Lipschitz constraint: "lp" (WGAN-LP), "gp"
#'   (WGAN-GP) or "clip" (weight clipping, the original WGAN).
#' @param epochs Number of epochs.
#' @param critic,generator [wf_mlp()] or [wf_layers()] specifications (the
#'   paper: three hidden layers of 128, ReLU; for images, e.g.
#'   [wf_dcgan_critic()] and [wf_dcgan_generator()]).
#' @param latent_dim Dimension of the generator's standard normal input
#'   (default: the data's, as in the paper's 2-D experiments, or the input
#'   size of a [wf_layers()] generator whose input shape is set).
#' @param batch_size Mini-batch size m. A size larger than the training
#'   rows (the default 512 on a small data set) is reduced to their number,
#'   with a message.
#' @param critic_steps Critic updates per epoch.
#' @param step_size The Euler time step epsilon.
#' @param lambda Penalty weight for "gp" and "lp".
#' @param clip Weight bound for "clip".
#' @param critic_optimizer,generator_optimizer [wf_adam()] and friends;
#'   `NULL` takes the paper's: Adam with learning rate 1e-4 (RMSprop 5e-5
#'   for "clip", as the original WGAN).
#' @param persistency_mode "euler" (the algorithm) or "naive": K updates of
#'   the generator on the WGAN loss `-mean phi(G(z))` with `phi` fixed, the
#'   baseline the paper shows to be worse. Offered only for comparison.
#' @param eval_every Evaluate exact distances every this many epochs (and at
#'   the last epoch).
#' @param eval_n Samples per evaluation (generated and held out).
#' @param holdout Held-out data for evaluation, never used for training:
#'   `NULL` holds out `eval_n` rows, but at most a fifth of `data`; a
#'   fraction in (0, 1) holds out that share of the rows, a whole number
#'   that many rows; the rows are drawn at random with the run's seed (so
#'   sorted data do not bias the evaluation; `$holdout_rows` says which).
#'   A matrix (or data frame) is further data, and all of `data` trains.
#' @param scale `FALSE` (the default: the networks' defaults suit data of
#'   unit scale, such as the toy data), or `TRUE`: centre and scale each
#'   column by the training rows' mean and standard deviation (stored in
#'   `$scaling`), train and evaluate on that scale, and return samples in
#'   the data's units. Use it for data in other units (e.g. `faithful`).
#' @param seed `NULL` (drawn from R's RNG, so `set.seed()` reproduces a run)
#'   or a whole number. A seed reproduces a run on one device.
#' @param device "auto", "cpu" or "cuda"; see [wf_device_info()].
#' @param verbose Show a progress bar with the latest W1.
#' @param callbacks A function, a callback object, or a list of them,
#'   called after each epoch: `function(row)` with that epoch's metrics (a
#'   one-row tibble), `function(row, fit)` also with a snapshot of the fit;
#'   one that returns `FALSE` stops training. See [wf_callbacks] for early
#'   stopping, checkpoints and learning-rate schedules.
#' @param source `NULL` (latents `z ~ N(0, I)`), or a source sample with the
#'   columns of `data`: the generator then learns a map from it, as in the
#'   W2GAN paper's WGAN-GP / WGAN-LP baselines, and is evaluated as a map
#'   ([w2gan()]'s `map_error`, `map_cosine`, `w2`). With a source, the
#'   default `generator` is [w2gan()]'s identity start. Not with
#'   `scale = TRUE`.
#' @return A fit of class `wf_w1fe` (and `wf_fit`): `$metrics` is a tibble
#'   with one row per epoch: `epoch`, `seconds` (cumulative training wall
#'   time, evaluation excluded), `critic_loss`, `w1_critic` (the critic's
#'   estimate `mean phi(x) - mean phi(G z)`), `penalty`, `grad_norm` (mean
#'   `|grad phi|` at the penalty's interpolates), `euler_grad_norm` (mean
#'   `|grad phi(G z)|` at the Euler step), `fit_mse_first` and
#'   `fit_mse_last` (the regression loss before the first and the last of
#'   the K updates; for "naive" persistency, `-mean phi(G z)` instead), and
#'   `w1`, `w2` (exact, NA between evaluations) and their standard errors
#'   `w1_se`, `w2_se` (see [wf_wasserstein()]); for 28 x 28 one-channel
#'   images also `fd_lenet`, `kd_lenet` and their `_se` (distances between
#'   the features of a Fashion-MNIST classifier: [wf_frechet()], [wf_kid()],
#'   [wf_features()]). Also `$floor` (the sampling floor of these distances
#'   at this evaluation size, see [wf_floor()], [wf_feature_floor()]),
#'   `$critic`, `$generator` ([wf_net()]s), `$settings`, `$status`
#'   ("completed", "interrupted", "diverged", "stopped" or "error").
#' @seealso [wgan()], [wf_continue()], [wf_sample()], [wf_sweep()].
#' @references Malik, Huang (2024). A differential equation approach for
#'   Wasserstein GANs and beyond. arXiv:2405.16351.
#'
#'   Arjovsky, Chintala, Bottou (2017). Wasserstein generative adversarial
#'   networks. ICML (the critic, weight clipping, RMSprop).
#'
#'   Gulrajani, Ahmed, Arjovsky, Dumoulin, Courville (2017). Improved
#'   training of Wasserstein GANs. NeurIPS (the gradient penalty, "gp", and
#'   the eight-Gaussian toy data).
#'
#'   Petzka, Fischer, Lukovnikov (2018). On the regularization of
#'   Wasserstein GANs. ICLR (the Lipschitz penalty, "lp").
#' @export
#' @examples
#' x <- wf_toy("8gaussians", n = 2000, seed = 1)
#' fit <- w1fe(x, persistency = 3, epochs = 5, batch_size = 128,
#'             critic = wf_mlp(c(32, 32)), generator = wf_mlp(c(32, 32)),
#'             eval_n = 200, seed = 1, verbose = FALSE)
#' fit$metrics
w1fe <- function(data, persistency = 3L, penalty = "lp", epochs = 800L,
                 critic = wf_mlp(c(128, 128, 128)),
                 generator = wf_mlp(c(128, 128, 128)), latent_dim = NULL,
                 batch_size = 512L, critic_steps = 10L, step_size = 1,
                 lambda = 10, clip = 0.01, critic_optimizer = NULL,
                 generator_optimizer = NULL, persistency_mode = "euler",
                 eval_every = 10L, eval_n = 1000L, holdout = NULL, seed = NULL,
                 device = "auto", verbose = interactive(), callbacks = list(),
                 scale = FALSE, source = NULL) {
  run <- training_args()
  if (!is.null(source) && missing(generator)) generator <- identity_generator()
  fit <- new_w1fe(run, "w1fe", persistency = persistency, penalty = penalty,
                  critic = critic, generator = generator, latent_dim = latent_dim,
                  critic_steps = critic_steps, step_size = step_size, lambda = lambda,
                  clip = clip, critic_optimizer = critic_optimizer,
                  generator_optimizer = generator_optimizer,
                  persistency_mode = persistency_mode)
  fit$call <- match.call()
  train_fit(fit, run$epochs, run$verbose, run$callbacks)
}

#' WGAN, WGAN-GP and WGAN-LP
#'
#' The Wasserstein GAN family is W1-FE with persistency K = 1: one generator
#' update per critic phase on the frozen Euler targets. By Proposition 4.1
#' of Malik & Huang, with plain SGD that update is exactly the WGAN generator
#' update with learning rate `2 * step_size * lr`; with Adam it is the WGAN
#' update up to Adam's `eps`. `wgan()` runs [w1fe()] with `persistency = 1`
#' through the same code.
#'
#' @inheritParams w1fe
#' @param ... Further arguments of [w1fe()].
#' @return A fit of class `wf_w1fe`, with `$algorithm` "wgan".
#' @references Arjovsky, Chintala, Bottou (2017). Wasserstein generative
#'   adversarial networks. ICML.
#'
#'   Gulrajani, Ahmed, Arjovsky, Dumoulin, Courville (2017). Improved
#'   training of Wasserstein GANs. NeurIPS.
#'
#'   Petzka, Fischer, Lukovnikov (2018). On the regularization of
#'   Wasserstein GANs. ICLR.
#'
#'   Malik, Huang (2024). A differential equation approach for Wasserstein
#'   GANs and beyond. arXiv:2405.16351 (Proposition 4.1).
#' @export
#' @examples
#' x <- wf_toy("8gaussians", n = 2000, seed = 1)
#' fit <- wgan(x, penalty = "gp", epochs = 5, batch_size = 128,
#'             critic = wf_mlp(c(32, 32)), generator = wf_mlp(c(32, 32)),
#'             eval_n = 200, seed = 1, verbose = FALSE)
wgan <- function(data, penalty = "lp", epochs = 800L, ...) {
  args <- list(...)
  if ("persistency" %in% names(args)) {
    wf_abort("`wgan()` is W1-FE with `persistency = 1`; use `w1fe()` for K > 1.",
             class = "wgflow_error_arg", arg = "persistency")
  }
  check_forwarded(args, setdiff(names(formals(w1fe)),
                                c("data", "persistency", "penalty", "epochs")),
                  "wgan", "w1fe")
  fit <- w1fe(data, persistency = 1L, penalty = penalty, epochs = epochs, ...)
  fit$algorithm <- "wgan"
  fit$call <- compact_call(match.call(), "wgan")
  fit
}

# The arguments `args` (list(...)) of `fun`, which passes them on to `to`
# (whose arguments, as R matches them, exactly or by a unique prefix, are
# `allowed`): each must be named by one, or a classed error names it.
check_forwarded <- function(args, allowed, fun, to) {
  for (nm in names(args) %||% rep("", length(args))) {
    ok <- nzchar(nm) && (nm %in% allowed || sum(startsWith(allowed, nm)) == 1L)
    if (!ok) {
      what <- if (nzchar(nm)) sprintf("`%s` is not an argument of `%s()`", nm, to) else
        "an unnamed argument in `...` is not allowed: name it"
      wf_abort(sprintf("%s (`%s()` passes `...` on to it); its arguments are %s.", what,
                       fun, paste0("`", allowed, "`", collapse = ", ")),
               class = "wgflow_error_arg", arg = if (nzchar(nm)) nm else "...")
    }
  }
  invisible()
}

# Validate W1-FE's own arguments and build the fit (nets, data split,
# settings); run: the shared ones (training_args()).
new_w1fe <- function(run, algorithm, persistency, penalty, critic, generator, latent_dim,
                     critic_steps, step_size, lambda, clip, critic_optimizer,
                     generator_optimizer, persistency_mode) {
  x <- run$x
  persistency <- check_count(persistency, "persistency")
  check_choice(penalty, c("lp", "gp", "clip"), "penalty")
  check_spec(critic, "critic")
  check_spec(generator, "generator")
  refuse_batch_norm(critic, "critic")
  map <- !is.null(run$source)
  if (map && !is.null(latent_dim)) {
    wf_abort("`latent_dim` is the source's width when a `source` is given; leave it NULL.",
             class = "wgflow_error_arg", arg = "latent_dim")
  }
  latent_dim <- if (map) ncol(x) else resolve_latent_dim(generator, latent_dim, ncol(x))
  check_residual_latent(generator, latent_dim, ncol(x))
  critic_steps <- check_count(critic_steps, "critic_steps")
  step_size <- check_number(step_size, "step_size", min = 0)
  lambda <- check_number(lambda, "lambda", min = 0, max = float_max)
  clip <- check_number(clip, "clip", min = 0, min_open = TRUE)
  # the papers' optimisers: RMSprop with weight clipping, Adam otherwise
  default_opt <- if (penalty == "clip") wf_rmsprop(5e-5) else wf_adam(1e-4)
  critic_optimizer <- check_optimizer(critic_optimizer %||% default_opt, "critic_optimizer")
  generator_optimizer <- check_optimizer(generator_optimizer %||% default_opt,
                                         "generator_optimizer")
  check_choice(persistency_mode, wf_choices("persistency_mode"), "persistency_mode")
  split <- run_split(run)
  settings <- list(persistency = persistency, penalty = penalty, epochs = run$epochs,
                   latent_dim = latent_dim, batch_size = run$batch_size,
                   critic_steps = critic_steps, step_size = step_size,
                   lambda = lambda, clip = clip, persistency_mode = persistency_mode,
                   eval_every = run$eval_every, critic = critic, generator = generator,
                   critic_optimizer = critic_optimizer,
                   generator_optimizer = generator_optimizer)
  # a stack without an input shape takes the images' (the critic; a map's
  # generator, from the source's)
  nets <- list(critic = list(spec = with_input_shape(critic, image_shape(x)),
                             input_dim = ncol(x), output_dim = 1L),
               generator = list(spec = if (map) with_input_shape(generator, split$source_shape)
                                else generator,
                                input_dim = latent_dim, output_dim = ncol(x)))
  fit <- new_fit(w1fe_algorithm, algorithm, run, split, nets, settings)
  if (map) add_source(fit, split) else fit
}

# One epoch: the three phases of src/core/algo_w1fe.c.
w1fe_epoch <- function(fit, trainer) {
  s <- fit$settings
  critic <- run_phase(trainer, "critic", list(
    batch_size = s$batch_size, steps = s$critic_steps,
    penalty = critic_penalty("wgan", s$penalty, FALSE),
    lambda = s$lambda, clip = if (s$penalty == "clip") s$clip else 0))
  euler <- run_phase(trainer, "euler", list(batch_size = s$batch_size,
                                            step_size = s$step_size))
  fit_k <- run_phase(trainer, "fit", list(persistency = s$persistency,
                                          mode = s$persistency_mode))
  c(critic, euler, fit_k)
}

# "W1-FE-LP (K = 3)", "WGAN-GP", ...
w1fe_label <- function(fit) {
  s <- fit$settings
  pen <- s$penalty %||% ""
  if (identical(fit$algorithm, "wgan")) {
    return(switch(pen, clip = "WGAN (weight clipping)", gp = "WGAN-GP",
                  lp = "WGAN-LP", "WGAN"))
  }
  base <- switch(pen, clip = "W1-FE (weight clipping", gp = "W1-FE-GP (",
                 lp = "W1-FE-LP (", "W1-FE (")
  sep <- if (pen == "clip") ", " else ""
  naive <- identical(s$persistency_mode, "naive")
  sprintf("%s%sK = %s%s)", base, sep, s$persistency %||% "?",
          if (naive) ", naive persistency" else "")
}

w1fe_algorithm <- register_algorithm(new_algorithm(
  # "w1fe_map": the family name of map fits saved before the source was an
  # optional data role
  name = "w1fe", aliases = c("wgan", "w1fe_map"),
  nets = c("critic", "generator"),
  data = function(fit) list(data = fit$data, source = fit$source),
  optional_source = TRUE,
  phases = c("critic", "euler", "fit"),
  metric_titles = c(w1_critic = "critic estimate of W1",
                    critic_loss = "critic loss",
                    penalty = "critic penalty",
                    grad_norm = "mean |grad phi| (penalty points)",
                    euler_grad_norm = "mean |grad phi(G(z))| (Euler step)",
                    fit_mse_first = "fit MSE (first persistent step)",
                    fit_mse_last = "fit MSE (last persistent step)"),
  setting_keys = c("penalty", "persistency", "persistency_mode", "step_size",
                   "batch_size", "critic_steps", "lambda"),
  label = w1fe_label,
  epoch = w1fe_epoch
))
