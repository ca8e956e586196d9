# Wasserstein-proximal generator training (Lin, Li, Osher, Montufar,
# "Wasserstein Proximal of GANs"): RWP and SBE, their validation and the
# family's descriptors. The C side is src/core/algo_rwp.c over the critic
# losses of src/core/critic.c and the proximal terms of src/core/prox.c.

# The losses a user names, as the C side's critic kind and WGAN penalty.
prox_losses <- list(
  "wgan-gp" = list(kind = "wgan", penalty = "gp", label = "WGAN-GP"),
  "wgan-lp" = list(kind = "wgan", penalty = "lp", label = "WGAN-LP"),
  "gan" = list(kind = "gan", penalty = "none", label = "GAN"),
  "dragan" = list(kind = "dragan", penalty = "none", label = "DRAGAN")
)

# The paper's defaults by loss (its appendix C; critic steps for the WGAN
# losses as its SBE runs and WGAN-GP, one discriminator update for the
# standard GAN and DRAGAN as its appendix D). beta1 = 0.5 for the standard
# losses is the paper's CelebA value (0.1 on CIFAR-10).
rwp_defaults <- function(loss) {
  if (startsWith(loss, "wgan")) {
    list(h = 0.1, generator_steps = 10L, latent_dim = 128L, critic_steps = 5L,
         optimizer = wf_adam(1e-4, beta1 = 0.5, beta2 = 0.9))
  } else {
    list(h = 0.2, generator_steps = 5L, latent_dim = 100L, critic_steps = 1L,
         optimizer = wf_adam(2e-4, beta1 = 0.5, beta2 = 0.999))
  }
}

#' Relaxed Wasserstein Proximal (RWP) generator training
#'
#' Trains a GAN with the Relaxed Wasserstein Proximal regulariser of Lin,
#' Li, Osher and Montufar (Algorithm 1 and appendix D). Each outer
#' iteration (an epoch here) makes `critic_steps` critic updates, freezes a
#' snapshot `g_prev` of the generator, and then makes `generator_steps` (the
#' paper's `l`) generator updates, each on a fresh latent batch `z`, of
#' \deqn{F(g(z)) + \frac{1}{2h} \frac1m \sum_i |g(z_i) - g_{prev}(z_i)|^2,}
#' where `F` is the generator's adversarial loss for `loss`. The proximal
#' term keeps the `l` updates close, in sample space, to where the phase
#' started: a Wasserstein-2 proximal step of the generator's law (exact in
#' one dimension; Proposition 5). With `l = 1` its gradient is zero (the
#' snapshot is the generator), so RWP with `generator_steps = 1` is plain
#' GAN training.
#'
#' The paper's text has two slips that this implementation does not
#' follow: the box of Algorithm 1 writes the coefficient as `1/h` and
#' appendix D gives the proximal term a minus sign; equation (4) and the
#' derivation give `+ 1/(2h)`.
#'
#' Losses ([wf_critic_loss()]): "wgan-gp" and "wgan-lp" (WGAN critic with a
#' gradient penalty, generator `-mean phi(G z)`), "gan" (standard GAN,
#' non-saturating generator loss `-mean log D(G z)`) and "dragan" (the GAN
#' loss with DRAGAN's penalty at `x + 0.5 sd(x) u`; here `sd` is that of all
#' entries of the training data, computed once, rather than of each batch,
#' so that a step needs no host round trip).
#'
#' Defaults are the paper's (appendix C): for the WGAN losses Adam with
#' learning rate 1e-4 and betas (0.5, 0.9), `h = 0.1`, `l = 10`, latent
#' dimension 128 and 5 critic steps; for "gan" and "dragan" Adam 2e-4 with
#' betas (0.5, 0.999), `h = 0.2`, `l = 5`, latent dimension 100 and one
#' critic step; batch 64. The paper trains DCGANs on images; the default
#' networks here are three-layer MLPs.
#'
#' @param data A numeric matrix or data frame, one sample per row.
#' @param loss The adversarial loss: "wgan-gp", "wgan-lp", "gan" or
#'   "dragan".
#' @param epochs Outer iterations.
#' @param h The proximal step size (> 0); `Inf` drops the proximal term
#'   (`l` plain generator updates per outer iteration, the baseline of the
#'   paper's Figure 4). `NULL`: the paper's, by `loss`.
#' @param generator_steps `l`, generator updates per outer iteration
#'   (>= 1). `NULL`: the paper's, by `loss`.
#' @param critic,generator [wf_mlp()] or [wf_layers()] specifications (for
#'   images, e.g. [wf_dcgan_critic()] and [wf_dcgan_generator()], the
#'   paper's DCGAN nets).
#' @param latent_dim Dimension of the generator's standard normal input.
#'   `NULL`: the input size of a [wf_layers()] generator whose input shape
#'   is set, else the paper's, by `loss`.
#' @param batch_size Mini-batch size (data and latent batches). A size larger than the training
#'   rows is reduced to their number, with a message (as in every family).
#' @param critic_steps Critic updates per outer iteration. `NULL`: 5 for the
#'   WGAN losses, 1 for "gan" and "dragan".
#' @param lambda The penalty weight of "wgan-gp", "wgan-lp" and "dragan".
#' @param critic_optimizer,generator_optimizer [wf_adam()] and friends;
#'   `NULL` takes the paper's, by `loss`.
#' @inheritParams w1fe
#' @return A fit of class `wf_rwp` (and `wf_fit`): `$metrics` has one row
#'   per outer iteration with `epoch`, `seconds`, the critic's `critic_loss`,
#'   `w1_critic` (its W1 estimate, WGAN losses only), `penalty` and
#'   `grad_norm`; the generator's `gen_loss` (`F`, averaged over the `l`
#'   updates), `proximal` (the proximal term, averaged) and `displacement`
#'   (`mean |g(z) - g_prev(z)|^2` before each update, averaged; both NA
#'   with `h = Inf`); and the exact `w1`, `w2` to held-out data every
#'   `eval_every` epochs, with their standard errors `w1_se`, `w2_se` (see
#'   [wf_wasserstein()]); for 28 x 28 one-channel images also `fd_lenet`,
#'   `kd_lenet` and their `_se` ([wf_frechet()], [wf_kid()] on
#'   [wf_features()]). Also `$floor` (the sampling floor), `$critic`,
#'   `$generator`, `$settings`, `$status`.
#' @seealso [sbe()], [wf_critic_loss()], [wf_continue()], [wf_sweep()];
#'   `vignette("rwp", package = "wgflow")`.
#' @references Lin, Li, Osher, Montufar (2021). Wasserstein proximal of
#'   GANs. In Geometric Science of Information (GSI 2021); arXiv:2102.06862.
#' @export
#' @examples
#' x <- wf_toy("8gaussians", n = 2000, seed = 1)
#' fit <- rwp(x, epochs = 5, latent_dim = 2, critic = wf_mlp(c(32, 32)),
#'            generator = wf_mlp(c(32, 32)), eval_n = 200, seed = 1,
#'            verbose = FALSE)
#' fit$metrics[, c("epoch", "gen_loss", "proximal", "w1")]
rwp <- function(data, loss = "wgan-gp", epochs = 1000L, h = NULL,
                generator_steps = NULL, critic = wf_mlp(c(128, 128, 128)),
                generator = wf_mlp(c(128, 128, 128)), latent_dim = NULL,
                batch_size = 64L, critic_steps = NULL, lambda = 10,
                critic_optimizer = NULL, generator_optimizer = NULL,
                eval_every = 10L, eval_n = 1000L, holdout = NULL, seed = NULL,
                device = "auto", verbose = interactive(), callbacks = list()) {
  run <- training_args()
  check_choice(loss, names(prox_losses), "loss")
  d <- rwp_defaults(loss)
  h <- check_step_size(h %||% d$h, "h")
  generator_steps <- check_count(generator_steps %||% d$generator_steps, "generator_steps")
  fit <- new_prox_fit(
    run, rwp_algorithm, loss = loss, critic = critic, generator = generator,
    latent_dim = latent_dim, latent_default = d$latent_dim,
    critic_steps = critic_steps %||% d$critic_steps, lambda = lambda,
    optimizers = list(critic = critic_optimizer, generator = generator_optimizer),
    default_optimizer = d$optimizer,
    settings = list(h = h, generator_steps = generator_steps))
  fit$call <- match.call()
  train_fit(fit, run$epochs, run$verbose, run$callbacks)
}

#' Semi-Backward Euler (SBE) generator training
#'
#' Trains a GAN by the Semi-Backward Euler method of Lin, Li, Osher and
#' Montufar (Proposition 3, appendix G): the Wasserstein-2 proximal term of
#' the generator is approximated by a potential network `Phi` (one hidden
#' layer with layer normalisation),
#' \deqn{\frac12 d_W(\theta, \theta_k)^2 \approx \sup_\Phi E[\Phi(g_\theta(z)) -
#' \Phi(g_{\theta_k}(z)) - |\nabla\Phi(g_{\theta_k}(z))|^2 / 2].}
#' Each outer iteration makes `critic_steps` critic updates,
#' `potential_steps` updates of `Phi` ascending the objective above (fresh
#' `z` each), and `generator_steps` updates of
#' `F(g(z)) + (1/h) mean Phi(g(z))` (the other terms do not depend on the
#' generator).
#'
#' **The anchor `g_{theta_k}`.** Read literally, the paper's anchor is the
#' generator at the start of the outer iteration; with one generator update
#' per iteration it is then the generator that the potential sees, the
#' objective becomes `-mean |grad Phi|^2 / 2`, its maximiser is
#' `grad Phi = 0`, and SBE reduces to plain GAN training (`anchor =
#' "literal"` runs this). By default (`anchor = "lag"`) the anchor is the
#' generator one outer iteration ago, so the potential learns the
#' displacement field of the last update and the generator's step is
#' damped along it, the proximal reading that keeps the method meaningful.
#' The anchor is kept in the fit (`$anchor`, a frozen copy of the
#' generator, never trained), so [wf_continue()] resumes exactly.
#'
#' Defaults are the paper's (appendix G): Adam with learning rate 2e-4 and
#' betas (0.1, 0.999) for all three networks, `h = 0.2`, latent dimension
#' 100, 5 critic, 5 potential and 1 generator update per outer iteration,
#' batch 64, the WGAN-GP loss. The paper gives neither the potential's
#' width nor its activation: 128 tanh units here.
#'
#' @inheritParams rwp
#' @param latent_dim Dimension of the generator's standard normal input
#'   (left out: 100, the paper's, or the input size of a [wf_layers()]
#'   generator whose input shape is set).
#' @param h The step size (> 0).
#' @param anchor "lag" (the generator one outer iteration ago) or "literal"
#'   (the generator now; see above).
#' @param potential A [wf_mlp()] or [wf_layers()] specification of `Phi`
#'   (no BatchNorm: its objective needs a double backward).
#' @param potential_steps,generator_steps Updates of `Phi` and of the
#'   generator per outer iteration.
#' @param potential_optimizer An optimiser for `Phi`; `NULL`: the paper's.
#' @param critic_steps Critic updates per outer iteration (>= 1).
#' @return A fit of class `wf_sbe` (and `wf_fit`), with `$metrics` as for
#'   [rwp()] but, in place of `proximal` and `displacement`,
#'   `potential_objective` (the potential's objective, averaged over its
#'   updates), `potential_grad_norm` (mean `|grad Phi|` at the anchor's
#'   samples) and `potential_term` (`(1/h) mean Phi(g(z))` in the
#'   generator's loss). Also `$potential` and `$anchor`.
#' @seealso [rwp()].
#' @references Lin, Li, Osher, Montufar (2021). Wasserstein proximal of
#'   GANs. arXiv:2102.06862.
#' @export
#' @examples
#' x <- wf_toy("8gaussians", n = 2000, seed = 1)
#' fit <- sbe(x, epochs = 5, latent_dim = 2, critic = wf_mlp(c(32, 32)),
#'            generator = wf_mlp(c(32, 32)), potential = wf_mlp(16, "tanh",
#'            norm = "layer"), eval_n = 200, seed = 1, verbose = FALSE)
#' fit$metrics[, c("epoch", "potential_objective", "w1")]
sbe <- function(data, loss = "wgan-gp", epochs = 1000L, h = 0.2, anchor = "lag",
                potential = wf_mlp(128, activation = "tanh", norm = "layer"),
                critic = wf_mlp(c(128, 128, 128)),
                generator = wf_mlp(c(128, 128, 128)), latent_dim = 100L,
                batch_size = 64L, critic_steps = 5L, potential_steps = 5L,
                generator_steps = 1L, lambda = 10, critic_optimizer = NULL,
                generator_optimizer = NULL, potential_optimizer = NULL,
                eval_every = 10L, eval_n = 1000L, holdout = NULL, seed = NULL,
                device = "auto", verbose = interactive(), callbacks = list()) {
  run <- training_args()
  check_choice(loss, names(prox_losses), "loss")
  h <- check_number(h, "h", min = 0, min_open = TRUE)
  check_choice(anchor, c("lag", "literal"), "anchor")
  check_spec(potential, "potential")
  refuse_batch_norm(potential, "potential", "its objective needs a double backward")
  potential_steps <- check_count(potential_steps, "potential_steps")
  generator_steps <- check_count(generator_steps, "generator_steps")
  # left out, the latent dimension is 100 or a generator stack's input size
  given <- if (!missing(latent_dim)) check_count(latent_dim, "latent_dim", max = 2^20)
  fit <- new_prox_fit(
    run, sbe_algorithm, loss = loss, critic = critic, generator = generator,
    latent_dim = given, latent_default = 100L, critic_steps = critic_steps,
    lambda = lambda,
    optimizers = list(critic = critic_optimizer, generator = generator_optimizer,
                      potential = potential_optimizer),
    default_optimizer = wf_adam(2e-4, beta1 = 0.1, beta2 = 0.999),
    settings = list(h = h, anchor = anchor, potential_steps = potential_steps,
                    generator_steps = generator_steps, potential = potential,
                    anchor_optimizer = wf_sgd(0)),
    extra_nets = list(potential = potential))
  # the anchor starts as a copy of the generator (the lag of the first
  # outer iteration is zero)
  copy_net_params(fit$anchor, fit$generator)
  fit$call <- match.call()
  train_fit(fit, run$epochs, run$verbose, run$callbacks)
}

# h: a number > 0, or Inf (no proximal term).
check_step_size <- function(h, arg) {
  if (!is.numeric(h) || length(h) != 1L || is.na(h) || h <= 0) {
    arg_error(arg, "a number > 0 (or Inf)", h)
  }
  as.double(h)
}

# dst's parameters and BatchNorm state := src's (same spec and widths),
# copied from net to net in C (on a GPU, device to device).
copy_net_params <- function(dst, src) {
  .Call(ffi_net_copy_params, net_ptr(dst), net_ptr(src))
  net_sync(dst)
  invisible(dst)
}

# Validate the arguments both families share and build the fit: nets (the
# critic, the generator and the family's extra nets; SBE's anchor), the
# data split, settings. run: training_args(); optimizers: the user's (NULL
# entries take `default_optimizer`); latent_dim: the user's, or NULL for a
# generator stack's input size or else latent_default.
new_prox_fit <- function(run, algo, loss, critic, generator, latent_dim, latent_default,
                         critic_steps, lambda, optimizers, default_optimizer, settings,
                         extra_nets = list()) {
  x <- run$x
  check_spec(critic, "critic")
  check_spec(generator, "generator")
  if (loss != "gan") refuse_batch_norm(critic, "critic")
  latent_dim <- resolve_latent_dim(generator, latent_dim, latent_default)
  check_residual_latent(generator, latent_dim, ncol(x))
  critic_steps <- check_count(critic_steps, "critic_steps")
  lambda <- check_number(lambda, "lambda", min = 0, max = float_max)
  for (role in names(optimizers)) {
    arg <- paste0(role, "_optimizer")
    settings[[arg]] <- check_optimizer(optimizers[[role]] %||% default_optimizer, arg)
  }
  split <- run_split(run)
  # DRAGAN's noise scale, from the training rows once (see rwp())
  perturb <- if (loss == "dragan") dragan_perturb(split$train) else 0
  settings <- c(list(loss = loss, epochs = run$epochs, latent_dim = latent_dim,
                     batch_size = run$batch_size, critic_steps = critic_steps,
                     lambda = lambda, perturb = perturb, eval_every = run$eval_every,
                     critic = critic, generator = generator),
                settings)
  # the nets that take the data: a stack without an input shape takes the
  # images'
  shape <- image_shape(x)
  nets <- list(critic = list(spec = with_input_shape(critic, shape), input_dim = ncol(x),
                             output_dim = 1L),
               generator = list(spec = generator, input_dim = latent_dim,
                                output_dim = ncol(x)))
  for (role in names(extra_nets)) {
    nets[[role]] <- list(spec = with_input_shape(extra_nets[[role]], shape),
                         input_dim = ncol(x), output_dim = 1L)
  }
  if (algo$name == "sbe") nets$anchor <- nets$generator
  new_fit(algo, algo$name, run, split, nets, settings)
}

# The critic phase's arguments (src/core/algo_rwp.c).
prox_critic_args <- function(s) {
  l <- prox_losses[[s$loss]]
  list(batch_size = s$batch_size, steps = s$critic_steps, loss = l$kind,
       penalty = l$penalty, lambda = s$lambda, perturb = s$perturb, clip = 0)
}

# One RWP outer iteration: the critic, then l generator updates.
rwp_epoch <- function(fit, trainer) {
  s <- fit$settings
  critic <- run_phase(trainer, "critic", prox_critic_args(s))
  gen <- run_phase(trainer, "generator", list(
    batch_size = s$batch_size, steps = s$generator_steps,
    loss = prox_losses[[s$loss]]$kind, h = if (is.finite(s$h)) s$h else 1,
    proximal = as.integer(is.finite(s$h))))
  c(critic, gen)
}

# One SBE outer iteration: the critic, the potential, the generator.
sbe_epoch <- function(fit, trainer) {
  s <- fit$settings
  lag <- as.integer(s$anchor == "lag")
  critic <- run_phase(trainer, "critic", prox_critic_args(s))
  pot <- run_phase(trainer, "potential", list(batch_size = s$batch_size,
                                              steps = s$potential_steps, lag = lag))
  gen <- run_phase(trainer, "generator", list(
    batch_size = s$batch_size, steps = s$generator_steps,
    loss = prox_losses[[s$loss]]$kind, h = s$h, lag = lag))
  c(critic, pot, gen)
}

# "RWP (WGAN-GP, l = 10, h = 0.1)", "WGAN-GP (l = 10, no proximal term)"
rwp_label <- function(fit) {
  s <- fit$settings
  loss <- prox_losses[[s$loss %||% "wgan-gp"]]$label %||% "?"
  if (is.finite(s$h %||% 1)) {
    sprintf("RWP (%s, l = %s, h = %s)", loss, s$generator_steps %||% "?",
            format(s$h %||% NA))
  } else {
    sprintf("%s (l = %s, no proximal term)", loss, s$generator_steps %||% "?")
  }
}

sbe_label <- function(fit) {
  s <- fit$settings
  loss <- prox_losses[[s$loss %||% "wgan-gp"]]$label %||% "?"
  sprintf("SBE (%s, h = %s, %s anchor)", loss, format(s$h %||% NA),
          if (identical(s$anchor, "literal")) "literal" else "lag-one")
}

prox_critic_titles <- c(critic_loss = "critic loss",
                        w1_critic = "critic estimate of W1",
                        penalty = "critic penalty",
                        grad_norm = "mean |grad phi| (penalty points)",
                        gen_loss = "generator loss F(g(z))")

# The default evaluation (exact W1, W2 of the generator on held-out rows),
# looked up when called: R collates this file before train.R.
prox_evaluation <- function(fit) generator_evaluation(fit)

rwp_algorithm <- register_algorithm(new_algorithm(
  name = "rwp",
  nets = c("critic", "generator"),
  data = function(fit) list(data = fit$data),
  phases = c("critic", "generator"),
  metric_titles = c(prox_critic_titles,
                    proximal = "proximal term (1/(2h)) mean |g - g_prev|^2",
                    displacement = "mean |g(z) - g_prev(z)|^2"),
  setting_keys = c("loss", "h", "generator_steps", "critic_steps", "batch_size",
                   "lambda"),
  label = rwp_label,
  epoch = rwp_epoch,
  evaluate = prox_evaluation
))

sbe_algorithm <- register_algorithm(new_algorithm(
  name = "sbe",
  nets = c("critic", "generator", "potential", "anchor"),
  data = function(fit) list(data = fit$data),
  phases = c("critic", "potential", "generator"),
  metric_titles = c(prox_critic_titles,
                    potential_objective = "potential objective J",
                    potential_grad_norm = "mean |grad Phi| (anchor samples)",
                    potential_term = "(1/h) mean Phi(g(z))"),
  setting_keys = c("loss", "h", "anchor", "potential_steps", "generator_steps",
                   "critic_steps", "batch_size"),
  label = sbe_label,
  epoch = sbe_epoch,
  evaluate = prox_evaluation
))
