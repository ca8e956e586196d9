# The fit constructor every algorithm shares: data and held-out split,
# seeds, device, networks; and the trainer a fit runs on.

# algo: the family's descriptor; algorithm: the fit's name ("w1fe",
# "wgan", ...); split: training and held-out rows from split_holdout();
# eval_n (validated), seed, device: the user's arguments; nets: a named list
# (by role) of list(spec, input_dim, output_dim); settings: the family's
# validated settings (optimisers as "<role>_optimizer"). Returns a fit of
# class c("wf_<family>", "wf_fit") with no epochs.
new_fit <- function(algo, algorithm, split, eval_n, seed, device, nets,
                    settings, colnames = NULL) {
  if (is.null(seed)) seed <- sample.int(.Machine$integer.max, 1L)
  seed <- check_count(seed, "seed", min = 0L)
  device <- resolve_device(device)
  fit <- list(family = algo$name, algorithm = algorithm, call = NULL,
              settings = c(settings, list(eval_n = min(eval_n, nrow(split$held)),
                                          seed = seed, device = device)),
              data = split$train, holdout = split$held, colnames = colnames,
              eval_key = stream_key(seed, 3L), metrics = NULL, status = "new",
              message = NULL)
  # stream 1, 2, ... of the seed, in role order (the critic's is 1)
  for (i in seq_along(nets)) {
    n <- nets[[i]]
    fit[[names(nets)[i]]] <- new_net(n$spec, n$input_dim, n$output_dim,
                                     stream_key(seed, i), device)
  }
  structure(fit, class = c(paste0("wf_", algo$name), "wf_fit"))
}

# Training rows and held-out rows: `holdout` is a number of rows taken from
# the end of `data`, a matrix of further data, or NULL (eval_n rows, at
# most a fifth of the data).
split_holdout <- function(x, holdout, eval_n) {
  if (is.matrix(holdout) || is.data.frame(holdout)) {
    held <- check_data(holdout, "holdout", cols = ncol(x), min_rows = 2L)
    return(list(train = x, held = held))
  }
  if (is.null(holdout)) holdout <- max(2L, min(eval_n, nrow(x) %/% 5L))
  n_held <- check_count(holdout, "holdout", min = 2L)
  if (n_held > nrow(x) - 1L) {
    wf_abort(sprintf("`holdout` (%d rows) must leave training rows in `data` (%d rows).",
                     n_held, nrow(x)), class = "wgflow_error_arg", arg = "holdout")
  }
  held_rows <- (nrow(x) - n_held + 1L):nrow(x)
  list(train = x[-held_rows, , drop = FALSE], held = x[held_rows, , drop = FALSE])
}

# The Philox key of stream `which` of a run seeded with `seed`.
stream_key <- function(seed, which) c(as.double(seed), 2654435769 + which)

# The C trainer of a fit: its nets, their optimisers and its data on the
# device. Freed by its finalizer, or explicitly with free_trainer().
new_trainer <- function(fit) {
  algo <- fit_algorithm(fit)
  roles <- algo$nets
  nets <- stats::setNames(lapply(roles, function(r) net_ptr(fit[[r]])), roles)
  opts <- stats::setNames(lapply(roles, function(r) {
    opt_for_c(fit$settings[[paste0(r, "_optimizer")]])
  }), roles)
  trainer <- .Call(ffi_trainer_create, algo$name, nets, opts, algo$data(fit))
  # on a GPU, repeated steps are recorded once and replayed (CUDA graphs);
  # options(wgflow.graphs = FALSE) runs every step eagerly
  if (!isTRUE(getOption("wgflow.graphs", TRUE))) {
    .Call(ffi_trainer_set_graphs, trainer, FALSE)
  }
  trainer
}

free_trainer <- function(trainer) .Call(ffi_trainer_free, trainer)

# One phase of a trainer: `args` a named list of numbers; returns the
# phase's named outputs.
run_phase <- function(trainer, phase, args) {
  .Call(ffi_trainer_run, trainer, phase, vapply(args, as.double, double(1)))
}

# Copy the C state of a fit's nets back into their R vectors.
sync_nets <- function(fit) {
  for (role in fit_algorithm(fit)$nets) {
    if (inherits(fit[[role]], "wf_net")) net_sync(fit[[role]])
  }
  invisible(fit)
}
