#' wgflow: generative modelling by Wasserstein gradient flows
#'
#' Trains generative models by Wasserstein gradient flows: [w1fe()] (forward
#' Euler steps of the W1 flow with persistent generator training) and its
#' WGAN special cases, [wgan()]. Every algorithm runs on one generic trainer:
#' R builds the fit (data, held-out rows, seeds, device, networks) and drives
#' the epochs, keeping every epoch done through Ctrl-C, divergence or a
#' callback stop; a C core (CPU, with an optional CUDA backend) runs each
#' phase of an epoch. Fits print, summarise, [tidy()][tidy.wf_fit],
#' [glance()][tidy.wf_fit], plot ([autoplot()][autoplot.wf_fit],
#' [plot()][plot.wf_fit]), sample ([wf_sample()]), continue
#' ([wf_continue()]) and run in grids of settings and seeds ([wf_sweep()]).
#' The engine is usable from R too: networks ([wf_mlp()], [wf_net()]) with
#' forward, backward, input-gradient and double-backward passes, critic
#' losses and gradient penalties, optimisers, seeded random streams and
#' exact optimal transport ([wf_wasserstein()]).
#'
#' @keywords internal
#' @useDynLib wgflow, .registration = TRUE
"_PACKAGE"
