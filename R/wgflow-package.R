#' wgflow: generative modelling by Wasserstein gradient flows
#'
#' wgflow trains generative models by following Wasserstein gradient flows,
#' and measures their convergence with exact optimal transport.
#'
#' @section Training:
#' Four families of papers, each a user function returning a fit:
#' * **W1-FE** (Malik and Huang): [w1fe()] takes forward-Euler steps of the
#'   W1 gradient flow with persistent generator training; [wgan()] is its
#'   K = 1 case, the Wasserstein GAN with weight clipping (Arjovsky et al.),
#'   the gradient penalty (WGAN-GP, Gulrajani et al.) or the Lipschitz
#'   penalty (WGAN-LP, Petzka et al.).
#' * **W2GAN** (Leygonie et al.): [w2gan()] learns the Monge map between a
#'   source and a target sample with two potentials; [w2fe()] is its
#'   persistent version, [barycentric_ot()] the paper's baseline;
#'   [wf_transport_map()] and [wf_discrete_map()] give the maps.
#' * **OTS/FIT** (Chen et al.): [ots_fit()] alternates semi-discrete
#'   optimal transport on a dual vector with regression of the generator
#'   onto the transport map; [wf_semidiscrete()] is the solver alone.
#' * **RWP and SBE** (Lin et al.): [rwp()] and [sbe()] regularise the
#'   generator's updates with a Wasserstein-2 proximal term.
#'
#' Fits take a matrix or data frame (`scale = TRUE` for data in other
#' units) or images ([wf_images()]), hold out random rows for evaluation,
#' show a progress bar, keep every epoch done through Ctrl-C, divergence or
#' a callback stop ([wf_callbacks]: early stopping, checkpoints,
#' learning-rate schedules), and continue with [wf_continue()].
#'
#' @section Convergence statistics:
#' Every `eval_every` epochs a fit records the exact W1 and W2 between
#' generated and held-out samples ([wf_wasserstein()]) with a standard
#' error, and it measures once the sampling floor of that evaluation
#' ([wf_floor()]): what a model drawing exactly from the data's law would
#' score. Fits print, summarise, [tidy()][tidy.wf_fit],
#' [glance()][tidy.wf_fit] and plot ([autoplot()][autoplot.wf_fit],
#' [plot()][plot.wf_fit]) with them. Grids of settings and seeds run
#' through the `future` package ([wf_sweep()]); [wf_convergence()] turns
#' runs into per-run summaries (final W, area under the curve, time to a
#' threshold as a censored time-to-event), [wf_survival()] into
#' Kaplan-Meier curves, and [wf_compare()] compares settings with bootstrap
#' intervals over seeds and a test. Sweeps and lists of fits have the same
#' verbs ([tidy.wf_sweep()]).
#'
#' @section Models and the engine:
#' Samples come from [wf_sample()], `predict()` (samples, the generator's
#' map, critic values) and `simulate()`. The engine is usable from R:
#' networks (multilayer perceptrons, [wf_mlp()], or stacks of dense,
#' convolutional, normalisation and activation layers, [wf_layers()], with
#' the DCGAN nets of the image experiments, [wf_dcgan_generator()] and
#' [wf_dcgan_critic()]; built by [wf_net()]) with forward, backward,
#' input-gradient and double-backward passes, critic losses and gradient
#' penalties
#' ([wf_critic_loss()]), optimisers ([wf_adam()]), seeded random streams
#' and exact optimal transport. A C core computes every step on the CPU
#' ([wf_threads()]), or on a GPU with the optional CUDA backend
#' ([wf_device_info()]). Toy data: [wf_toy()], [wf_toy_pair()]; images:
#' [wf_images()].
#'
#' The vignettes: `vignette("w1fe", package = "wgflow")` (W1-FE and the
#' reproduction of the paper's Figure 2 with its statistics),
#' `vignette("w2gan")` (W2GAN, its baselines and Monge maps),
#' `vignette("ots")` (OTS/FIT), `vignette("rwp")` (RWP and SBE),
#' `vignette("images")` (OTS/FIT and RWP with DCGAN nets on Fashion-MNIST)
#' and `vignette("engine")` (the networks, passes and optimisers from R).
#'
#' @references Malik, Z. and Huang, Y.-J. (2024). A differential equation
#'   approach for Wasserstein GANs and beyond. arXiv:2405.16351.
#'
#'   Arjovsky, M., Chintala, S. and Bottou, L. (2017). Wasserstein
#'   generative adversarial networks. *Proceedings of the 34th
#'   International Conference on Machine Learning (ICML)*.
#'
#'   Gulrajani, I., Ahmed, F., Arjovsky, M., Dumoulin, V. and Courville, A.
#'   (2017). Improved training of Wasserstein GANs. *Advances in Neural
#'   Information Processing Systems 30*.
#'
#'   Petzka, H., Fischer, A. and Lukovnikov, D. (2018). On the
#'   regularization of Wasserstein GANs. *International Conference on
#'   Learning Representations (ICLR)*.
#'
#'   Leygonie, J., She, J., Almahairi, A., Rajeswar, S. and Courville, A.
#'   (2019). Adversarial computation of optimal transport maps.
#'   arXiv:1906.09691.
#'
#'   Chen, Y., Telgarsky, M., Zhang, C., Bailey, B., Hsu, D. and Peng, J.
#'   (2019). A gradual, semi-discrete approach to generative network
#'   training via explicit Wasserstein minimization. *ICML*.
#'
#'   Lin, A. T., Li, W., Osher, S. and Montufar, G. (2021). Wasserstein
#'   proximal of GANs. *Geometric Science of Information (GSI)*.
#'
#' Cite the package with `citation("wgflow")`.
#' @useDynLib wgflow, .registration = TRUE
"_PACKAGE"
