# The semi-discrete solver of OTS/FIT on its own (algo_ots.c, "semidiscrete"
# and "ots" trainers): a fixed sample or a generator against a point cloud.

#' Semi-discrete optimal transport to a point cloud
#'
#' Solves the semi-discrete transport problem from a source law to the
#' uniform measure on the rows `y_1..y_N` of `y` by the OTS solver of Chen
#' et al. (2019, Algorithm 1): Adam ascent of the dual
#' `D(psi) = E_a min_i [c(a, y_i) - psi_i] + mean(psi)` on batches `a` of the
#' source, stopped when the assignments `argmin_i c(a, y_i) - psi_i` fill
#' `min(bins, N)` bins of consecutive rows evenly (each within `bounds`
#' times its expected count over the last `window` steps) or at `max_steps`.
#' The source is a fixed sample (the rows of a matrix `x`, drawn with
#' replacement) or a generator (a fit from [ots_fit()], [w1fe()], ... or a
#' [wf_net()]), so the solver is also an evaluation metric: the transport
#' cost from a generator to a whole data set, which Chen et al. report as
#' "WD" with the L1 cost.
#'
#' After the ascent the whole source is assigned once more under the final
#' `psi`: every row of `x`, or `n` fresh generated points. `dual` is the dual
#' value over it, a lower bound of the transport cost when `psi` is near
#' optimal (for a fixed sample, exactly `D(psi)` of the sample, which bounds
#' its exact transport cost from below for any `psi`); `primal` is the mean
#' cost of the assignment, an upper-bound-like estimate (exact transport when
#' the assignment is balanced).
#'
#' @param x The source: a numeric matrix (as many columns as `y`), a fit with
#'   a generator, or a [wf_net()] generator.
#' @param y The target point cloud, a numeric matrix.
#' @param cost "l1" (`sum |a - b|`) or "l2" (`|a - b|^2 / 2`).
#' @param n For a generator: the points of the final assignment.
#' @param batch_size Points per ascent step (at most `nrow(y)`).
#' @param optimizer The dual vector's optimiser (Adam 0.1: the paper's).
#' @param max_steps,check_every,window,bins,bounds The stopping rule (see
#'   [ots_fit()]: `ots_max_steps` and the others).
#' @param seed `NULL` (from R's RNG) or a whole number.
#' @param device "auto", "cpu" or "cuda".
#' @return An object of class `wf_semidiscrete`, a list: `psi` (one value per
#'   row of `y`), `dual`, `primal`, `assignment` (for each source point, the
#'   row of `y` it is sent to), `x` (the generated points, for a generator),
#'   `steps`, `converged` (whether the rule fired), `hist_min`, `hist_max`
#'   (the rule's last ratios), `ots_dual`, `ots_primal` (the ascent's last
#'   averages), `cost`.
#' @seealso [ots_fit()], [wf_wasserstein()] (exact, equal sizes).
#' @export
#' @examples
#' set.seed(1)
#' y <- matrix(rnorm(200), 100, 2)
#' x <- matrix(rnorm(800, mean = 1), 400, 2)
#' sd <- wf_semidiscrete(x, y, cost = "l2", check_every = 200, bins = 20,
#'                       seed = 1)
#' sd
#' # the exact cost between the sample and y repeated four times
#' wf_wasserstein(x, y[rep(1:100, 4), ], p = 2)^2 / 2
wf_semidiscrete <- function(x, y, cost = "l1", n = 10000L, batch_size = 64L,
                            optimizer = wf_adam(0.1), max_steps = 20000L,
                            check_every = 1000L, window = 4L * check_every, bins = 1000L,
                            bounds = c(0.78, 1.25), seed = NULL, device = "auto") {
  y <- check_data(y, "y")
  check_choice(cost, wf_choices("cost"), "cost")
  n <- check_count(n, "n", max = 2^28)
  batch_size <- check_count(batch_size, "batch_size", max = 2^24)
  if (batch_size > nrow(y)) {
    wf_abort(sprintf("`batch_size` (%d) exceeds the %d rows of `y`.", batch_size, nrow(y)),
             class = "wgflow_error_arg", arg = "batch_size")
  }
  check_optimizer(optimizer, "optimizer")
  rule <- check_ots_rule(max_steps, check_every, window, bins, bounds, prefix = "")
  if (is.null(seed)) seed <- sample.int(.Machine$integer.max, 1L)
  seed <- check_count(seed, "seed", min = 0L)
  source <- semidiscrete_source(x, y, device, seed)
  trainer <- .Call(ffi_trainer_create, source$algo, list(generator = net_ptr(source$net)),
                   list(generator = opt_for_c(wf_sgd(0))), source$data)
  on.exit(free_trainer(trainer))
  sample <- is.null(source$fit_net)
  ots <- run_phase(trainer, "ots", ots_phase_args(rule, cost, batch_size, optimizer,
                                                  FALSE, sample, prefix = ""))
  key <- stream_key(seed, 5L)
  # 1024 rows per assignment call bounds its memory, not its result
  asg <- run_phase(trainer, "assign", c(list(cost = cost, batch_size = 1024L,
                                             source = as.integer(sample)),
                                        if (!sample) list(n = n, key0 = key[1],
                                                          key1 = key[2])))
  n_src <- as.integer(asg[["n"]])
  out <- list(psi = .Call(ffi_trainer_buffer_get, trainer, "psi", nrow(y), FALSE),
              dual = asg[["dual"]], primal = asg[["primal"]],
              assignment = .Call(ffi_trainer_buffer_get, trainer, "assignment", n_src,
                                 TRUE) + 1L,
              x = if (!sample) {
                matrix(.Call(ffi_trainer_buffer_get, trainer, "assign_x", n_src * ncol(y),
                             FALSE), n_src, ncol(y), byrow = TRUE)
              },
              steps = as.integer(ots[["ots_steps"]]),
              converged = ots[["ots_converged"]] == 1, hist_min = ots[["hist_min"]],
              hist_max = ots[["hist_max"]], ots_dual = ots[["dual"]],
              ots_primal = ots[["primal"]], cost = cost)
  structure(out, class = "wf_semidiscrete")
}

# The trainer's algorithm, generator net and data sets for a source: a fixed
# sample ("semidiscrete": a one-weight net only lends its random stream) or
# a copy of a generator ("ots"; a copy, so the fit's stream is untouched).
semidiscrete_source <- function(x, y, device, seed) {
  gen <- if (inherits(x, "wf_net")) x else if (is.list(x)) x$generator else NULL
  if (inherits(gen, "wf_net")) {
    if (inherits(x, "wf_fit")) {
      check_fit(x, "x", need = "generator")
      check_fit_generator(x, "x")
    } else {
      check_net(gen, "x")
    }
    if (gen$output_dim != ncol(y)) {
      arg_error("x", sprintf("a generator with %d outputs (the columns of `y`)", ncol(y)),
                x)
    }
    net <- new_net(gen$spec, gen$input_dim, gen$output_dim, stream_key(seed, 6L),
                   gen$device)
    .Call(ffi_net_set, net_ptr(net), 0L, as.double(gen$params))
    .Call(ffi_net_set, net_ptr(net), 1L, as.double(gen$state))
    return(list(algo = "ots", net = net, fit_net = gen, data = list(data = y)))
  }
  if (is.list(x) && !is.data.frame(x)) {
    arg_error("x", "a numeric matrix, a fit with a generator or a wf_net", x)
  }
  xs <- check_data(x, "x", cols = ncol(y))
  net <- new_net(wf_mlp(integer()), 1L, 1L, stream_key(seed, 6L), resolve_device(device))
  list(algo = "semidiscrete", net = net, fit_net = NULL, data = list(data = y, source = xs))
}

#' @export
print.wf_semidiscrete <- function(x, ...) {
  cost <- if (x$cost == "l1") "L1" else "squared L2 / 2"
  cat(sprintf("<wf_semidiscrete> %d source points -> %d target points, cost %s\n",
              length(x$assignment), length(x$psi), cost))
  cat(sprintf("  dual %s, primal %s\n", format(x$dual, digits = 5),
              format(x$primal, digits = 5)))
  cat(sprintf("  %d ascent steps, %s (bins %s .. %s of expected)\n", x$steps,
              if (x$converged) "stopping rule fired" else "step cap reached",
              format(x$hist_min, digits = 3), format(x$hist_max, digits = 3)))
  invisible(x)
}
