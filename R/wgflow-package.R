#' wgflow: generative modelling by Wasserstein gradient flows
#'
#' A C engine (with an optional CUDA backend) for the networks of
#' Wasserstein-gradient-flow generative models: MLPs with forward, backward,
#' input-gradient and double-backward passes, gradient penalties, optimisers
#' and seeded random streams. Start with [wf_mlp()] and [wf_net()].
#'
#' @keywords internal
#' @useDynLib wgflow, .registration = TRUE
"_PACKAGE"
